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


# Decoded text comes in large strings: a 256 KiB read of text with an emoji
# in it is a str of up to 1 MiB (four bytes a character), and a few copies of
# it live at once (the chunk, the text released, what is written). glibc gives blocks
# over its mmap threshold (128 KiB at first) back to the system when they are
# freed and trims the top of its heap past 128 KiB free, so each such string
# would be faulted in page by page, then given back: in a pipe-to-pipe copy
# of mixed text that was a third of the run, all system time. Freeing one
# larger block raises both thresholds for the process (mallopt(3),
# M_MMAP_THRESHOLD: "dynamic adjustment" to the size of a freed block, and
# M_TRIM_THRESHOLD to twice that), so later strings reuse the same memory.
# bytes(n) is calloc'd: the block costs no resident memory; the heap may keep
# up to twice its size free. 8 MiB clears the largest such string with room
# (a 1 MiB block left the 1 MiB strings of 256 KiB reads mapped one by one:
# a pipe copy of mixed text 10% slower than with 64 KiB reads, 15% faster with
# this block). Elsewhere than glibc this is one short-lived allocation.
_LARGE_BLOCK = 8 << 20
_allocator_ready = False


def _keep_large_blocks() -> None:
    global _allocator_ready
    if not _allocator_ready:
        _allocator_ready = True
        block = bytes(_LARGE_BLOCK)
        del block


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
        _keep_large_blocks()

    @property
    def idle(self) -> bool:
        """No bytes of an unfinished character are held."""
        return not self._decoder.getstate()[0]

    @property
    def pending(self) -> bytes:
        """The bytes of an unfinished character, held for the next chunk."""
        pending: bytes = self._decoder.getstate()[0]
        return pending

    def feed_valid(self, data: bytes) -> tuple[str, bytes] | None:
        """`feed(data)` when what is held and `data` are valid UTF-8, with the bytes decoded.

        Returns the text and the very bytes it was decoded from (what is
        held, then `data` but for an unfinished character at its end, which
        is held in turn), or None, with nothing taken, when some byte is
        invalid: `feed` then replaces it or raises, as it always does. So a
        writer of UTF-8 can write those bytes instead of encoding the text
        again; invalid input never reaches it unreplaced.
        """
        held = self._decoder.getstate()[0]
        whole = held + data if held else data
        try:
            # final=False: a valid but unfinished character at the end is
            # left out of `n`, as the incremental decoder would hold it.
            text, n = codecs.utf_8_decode(whole, "strict", False)
        except UnicodeDecodeError:
            return None
        self._decoder.setstate((whole[n:], 0))
        self.n_bytes += len(data)
        return text, whole if n == len(whole) else whole[:n]

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
