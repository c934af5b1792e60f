"""Cutting streamed Markdown where an app that renders it shows no raw marker: `MarkdownCutter`.

Theory of operation: an app (Streamlit's ``st.write_stream``, a Gradio
chat) renders the whole text so far as Markdown after every delta. Cut
anywhere, ``sends **fifty at onc`` shows its ``**`` until the closer comes,
then the line jumps. The cutter hands text on up to the first inline
opener left open in the open paragraph (``**``, ``*``, ``_``, ``~~``, a
backtick string, a link or image whose text or destination is still coming)
and holds the rest until the opener closes, the paragraph ends (a blank
line, a code fence) or the stream ends: a marker never closed is shown as
the final render shows it, raw (or when it has held `MAX_HELD_CHARS`: a
``*args`` in prose is text). Which openers are left open is
`mdparse.closed_inline`'s answer (CommonMark 6.1–6.3, simplified), the one
the terminal's live region draws by. A delimiter run or a backslash that
ends the text is undecided too: what follows it says whether it opens,
closes or escapes.

Inside a fenced code block (CommonMark 4.5: a line of three or more
backticks or tildes, indented up to three spaces) everything is code, shown
as it is: nothing is held, and lines are only looked at for the closing fence.

Each step rescans the open paragraph only, from the last point before which
nothing is open and that follows a space (`_base`): a run's flanking looks
one character back, and a space there reads as the start of the text. So
the work per step is the text since that point, not the whole answer.

The concatenation of what `feed` and `flush` return is the text fed, exactly.
"""

from __future__ import annotations

import re

from .mdparse import closed_inline

__all__ = ["MAX_HELD_CHARS", "MarkdownCutter"]

# An opening code fence (CommonMark 4.5); a backtick fence's info string has no backtick.
_OPENING_FENCE = re.compile(r" {0,3}(?:(`{3,})[^`]*|(~{3,}).*)\n")
_DELIMITERS = "*_~`"

# An opener left open longer than this is taken as text: what follows it is
# shown, as the final render shows an opener never closed.
MAX_HELD_CHARS = 2000


class MarkdownCutter:
    """Cuts a Markdown text, fed piece by piece, where what came so far renders without
    a raw marker that the final render will not show.

    Example::

        cutter = MarkdownCutter()
        cutter.feed("It sends **fifty at onc")  # -> "It sends "
        cutter.feed("e** and stops.")           # -> "**fifty at once** and stops."
        cutter.flush()                          # -> "" (nothing is held)
    """

    def __init__(self) -> None:
        self._para = ""  # the open paragraph (in a fence: the line so far)
        self._sent = 0  # how much of it was handed on
        self._line_start = 0  # where its last line starts
        self._base = 0  # where rescanning starts (see the module's docstring)
        self._fence: tuple[str, int] | None = None  # an open fence's character and length

    def feed(self, text: str) -> str:
        """Take `text`; return what can be shown now (maybe nothing)."""
        out: list[str] = []
        pos = 0
        while pos < len(text):
            newline = text.find("\n", pos)
            end = len(text) if newline < 0 else newline + 1
            self._para += text[pos:end]
            pos = end
            if self._fence is not None:
                out.append(self._para[self._sent :])
                self._sent = len(self._para)
                if newline >= 0:
                    if _closes(self._para, *self._fence):
                        self._fence = None
                    self._reset()
                continue
            if newline < 0:
                break
            line = self._para[self._line_start :]
            fence = _OPENING_FENCE.fullmatch(line)
            if fence is not None or not line.strip():
                # A blank line ends the paragraph; a fence ends it and opens code.
                out.append(self._para[self._sent :])
                self._reset()
                if fence is not None:
                    run = fence.group(1) or fence.group(2)
                    self._fence = (run[0], len(run))
            else:
                self._line_start = len(self._para)
        if self._fence is None and self._sent < len(self._para):
            out.append(self._settle())
        return "".join(out)

    def flush(self) -> str:
        """The end of the text: return all that is held."""
        rest = self._para[self._sent :]
        self._fence = None
        self._reset()
        return rest

    def _reset(self) -> None:
        self._para = ""
        self._sent = self._line_start = self._base = 0

    def _settle(self) -> str:
        """Hand on the open paragraph up to where it is settled."""
        para = self._para
        # A run that ends the text is left out: the next character says what it is,
        # and an opener it may close stays open until then.
        end = _undecided_end(para, self._base)
        at = _settled(para, self._base, end)
        if end - at > MAX_HELD_CHARS:
            # Taken as text from here on (`*args` in prose): rescanning from the
            # opener on every step would cost the paragraph's length each time.
            space = max(para.rfind(" ", at + 1, end), para.rfind("\n", at + 1, end))
            self._base = space + 1 if space >= 0 else end
            at = _settled(para, self._base, end)
        if at <= self._sent:
            return ""
        # Nothing before `at` is open: the next scan may start after its last space.
        space = max(para.rfind(" ", self._base, at), para.rfind("\n", self._base, at))
        if space >= 0:
            self._base = space + 1
        out = para[self._sent : at]
        self._sent = at
        return out


def _settled(para: str, base: int, end: int) -> int:
    """Where the first thing left open in ``para[base:end]`` starts (else `end`)."""
    closed = closed_inline(para[base:end])
    at = end if closed is None else base + closed[2]
    return min(at, _open_link(para, base))


def _closes(line: str, char: str, length: int) -> bool:
    """Whether `line` closes a fence of `length` `char` characters (CommonMark 4.5)."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3:
        return False
    run = len(stripped) - len(stripped.lstrip(char))
    return run >= length and not stripped[run:].strip()


def _undecided_end(para: str, base: int) -> int:
    """Where a delimiter run or a backslash that ends `para` starts (else its end): the
    next character says whether it opens, closes or escapes."""
    end = k = len(para)
    while k > base and para[k - 1] in _DELIMITERS:
        k -= 1
    if k == end and k > base and para[k - 1] == "\\":
        k -= 1
    return k


def _open_link(para: str, base: int) -> int:
    """Where a link or image that is still open starts (else the end of `para`): a ``[``
    with no ``]`` after it; a ``[…]`` that ends `para` (a destination may follow); a
    ``[…](`` whose ``)`` has not come (`closed_inline` knows only a destination
    without spaces, not one with a title)."""
    end = len(para)
    close = para.rfind("]", base)
    if close >= 0 and (
        close == end - 1 or (para.startswith("(", close + 1) and ")" not in para[close + 2 :])
    ):
        start = para.rfind("[", base, close)
    else:
        start = para.find("[", max(close + 1, base))
    if start < 0:
        return end
    return start - 1 if start > base and para[start - 1] == "!" else start
