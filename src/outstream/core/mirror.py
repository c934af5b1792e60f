"""The UTF-8 a pipeline read, kept beside the text it writes, so that a writer need not encode.

Theory of operation: off a terminal, with instant pacing and nothing that
rewrites the text (no wrap, no Markdown), a pipeline writes what it read,
in order, less the trailing cluster the segmenter holds for the next read.
When that text was decoded from valid UTF-8 and the sanitizer changed
nothing in it, its UTF-8 is the bytes read: the bytes of each piece pushed
are kept, and a release is the bytes kept, with the held text's (a few
characters, encoded) moved from its end to the start of the next release.
A piece pushed with no bytes known (replaced bytes, a sanitized control, a
str source) breaks the mirror until the held text is all that is left.
"""

from __future__ import annotations

__all__ = ["Utf8Mirror"]


class Utf8Mirror:
    """The bytes of the text pushed, released as the text is."""

    def __init__(self) -> None:
        self._pushed: list[bytes] | None = []  # None: some text pushed has no bytes known
        self._held = b""  # the UTF-8 of the text the segmenter holds

    def push(self, utf8: bytes | None) -> None:
        """Text went in whose UTF-8 is `utf8` (None: unknown)."""
        if self._pushed is not None:
            if utf8 is None:
                self._pushed = None
            else:
                self._pushed.append(utf8)

    def release(self, held: str, *, whole: bool) -> bytes | None:
        """The UTF-8 of the text released now (None: not known), `held` staying behind.

        `whole`: everything pushed so far but `held` is being released.
        """
        pushed, before = self._pushed, self._held
        self._pushed, self._held = None, b""
        if not whole:  # some text stays behind whose bytes are not told apart
            return None
        try:
            held_utf8 = held.encode("utf-8") if held else b""
        except UnicodeEncodeError:  # a lone surrogate from a str source
            return None
        self._pushed, self._held = [], held_utf8
        if pushed is None:
            return None
        released = b"".join([before, *pushed]) if before or len(pushed) != 1 else pushed[0]
        if not held_utf8:
            return released
        if not released.endswith(held_utf8):  # not what the mirror assumes: say nothing
            return None
        return released[: len(released) - len(held_utf8)]
