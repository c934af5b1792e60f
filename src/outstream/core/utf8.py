"""Incremental UTF-8 decoding: a character split across chunks comes out whole.

Theory of operation: CPython's incremental UTF-8 decoder already keeps the
bytes of an unfinished character between calls, and with ``errors="replace"``
it replaces each maximal invalid subpart with U+FFFD exactly as a one-shot
decode would (Unicode 15, section 3.9, "U+FFFD Substitution of Maximal
Subparts"), so output does not depend on chunking. What it lacks is *where*:
with ``errors="strict"`` we count the bytes fed so far and report the
offending byte's offset in the whole stream, and we hand back the text that
decoded cleanly before it, so that it can still be shown.
"""

from __future__ import annotations

import codecs
from typing import Literal

from ..errors import DecodeError

__all__ = ["DecodeErrors", "Utf8Decoder"]

DecodeErrors = Literal["replace", "strict"]


class Utf8Decoder:
    """Bytes in, text out; holds at most three bytes of an unfinished character.

    Args:
        errors: ``"replace"`` turns invalid bytes into U+FFFD; ``"strict"``
            raises `DecodeError` naming the byte offset. The error's
            ``text_before`` holds the text decoded before the bad byte in
            the chunk that failed.
    """

    def __init__(self, errors: DecodeErrors = "replace") -> None:
        if errors not in ("replace", "strict"):
            raise ValueError(f"errors must be 'replace' or 'strict', not {errors!r}")
        self.errors = errors
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors)
        self.n_bytes = 0

    @property
    def idle(self) -> bool:
        """No bytes of an unfinished character are held."""
        return not self._decoder.getstate()[0]

    def feed(self, data: bytes | bytearray) -> str:
        held = self._decoder.getstate()[0]
        try:
            text = self._decoder.decode(data)
        except UnicodeDecodeError as exc:
            raise self._error(exc, held) from None
        self.n_bytes += len(data)
        return text

    def flush(self) -> str:
        """End of stream: an unfinished character is an error or U+FFFD."""
        held = self._decoder.getstate()[0]
        try:
            return self._decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise self._error(exc, held) from None

    def _error(self, exc: UnicodeDecodeError, held: bytes) -> DecodeError:
        # exc.object is the held bytes followed by this chunk.
        offset = self.n_bytes - len(held) + exc.start
        error = DecodeError(offset, bytes(exc.object[exc.start : exc.end]))
        error.text_before = bytes(exc.object[: exc.start]).decode("utf-8")
        self._decoder.reset()
        return error
