"""Soft word wrap, as text streams in: never a word broken that fits on a line.

Theory of operation: the stage takes clean text and returns it with soft
line breaks (``\\n``) put where a word would not fit, counting terminal cells
(wide CJK and emoji take two, `wcwidth`; colour sequences take none). A word
is only known to fit once it is complete, so the word at the end of a feed
is held until a space or newline follows it, the stream ends, or it grows
past the room left on the line: then it moves to the next line *before* any
of it is drawn, so nothing jumps after the fact. A word longer than a whole
line is broken between grapheme clusters, as it must be. Spaces are held
too: at a soft break they are dropped, elsewhere they come out with the
next word. Newlines and a line's leading indentation are kept. A new width
(the terminal was resized) applies from the next line on.
"""

from __future__ import annotations

__all__ = ["SoftWrap", "width_cells"]

_patterns: dict[str, object] = {}


def _regex(name: str, pattern: str):  # type: ignore[no-untyped-def]
    compiled = _patterns.get(name)
    if compiled is None:
        import regex

        compiled = _patterns[name] = regex.compile(pattern)
    return compiled


def width_cells(text: str) -> int:
    """How many terminal cells `text` takes: wide characters two, SGR sequences none."""
    if "\x1b" in text:
        text = _regex("sgr", r"\x1b\[[0-9;:]*m").sub("", text)
    if text.isascii():
        return len(text)
    from wcwidth import wcswidth

    n = wcswidth(text)
    if n >= 0:
        return int(n)
    return sum(max(int(wcswidth(c)), 0) for c in text)


def _tab_cells(col: int) -> int:
    return 8 - col % 8


class SoftWrap:
    """Inserts soft line breaks into streaming text for a `width`-cell line.

    Args:
        width: the line's width in cells (at least 1).
    """

    def __init__(self, width: int) -> None:
        if width < 1:
            raise ValueError(f"width must be at least 1, not {width!r}")
        self.width = width
        self._next_width = width
        self.col = 0  # cells already on the current line
        self._spaces = ""  # whitespace waiting for the next word
        self._word = ""  # the start of a word whose end is not known yet
        self._placed = False  # inside a word whose place is decided: go on drawing it

    @property
    def held(self) -> str:
        """Text taken but not yet given back (whitespace and an unfinished word)."""
        return self._spaces + self._word

    def set_width(self, width: int) -> None:
        """Use `width` from the next line on."""
        if width < 1:
            raise ValueError(f"width must be at least 1, not {width!r}")
        self._next_width = width

    def feed(self, text: str, *, ahead: str = "", final: bool = False) -> str:
        """Take text to show; return it with soft breaks, up to what is known to fit.

        Args:
            text: the text to show now.
            ahead: text known to follow it (what is queued behind it), so
                that a word whose end is already there need not wait.
            final: nothing follows `text` and `ahead`: the stream ends.
        """
        out: list[str] = []
        tokens: list[str] = _regex("tokens", r"\n|[ \t]+|[^ \t\n]+").findall(self._word + text)
        self._word = ""
        last = len(tokens) - 1
        for i, token in enumerate(tokens):
            if token == "\n":
                self._placed = False
                self._end_line(out)
            elif token[0] in " \t":
                self._placed = False
                self._spaces += token
            elif self._placed:
                self._draw(token, out)
            elif i < last:
                self._place(token, width_cells(token), out)
            else:
                self._place_last(token, ahead, final, out)
        if final and not ahead:  # the end: nothing is held back any more
            if self._word:
                word, self._word = self._word, ""
                self._place(word, width_cells(word), out)
            if self._spaces:
                self._emit_spaces(out)
        return "".join(out)

    def flush(self) -> str:
        """The stream ended: place what is held."""
        return self.feed("", final=True)

    # --- placing ---

    def _new_line(self, out: list[str]) -> None:
        out.append("\n")
        self.col = 0
        self.width = self._next_width

    def _end_line(self, out: list[str]) -> None:
        if self._spaces:
            self._emit_spaces(out)
        self._new_line(out)

    def _spaces_cells(self) -> int:
        col = self.col
        for c in self._spaces:
            col += _tab_cells(col) if c == "\t" else 1
        return col - self.col

    def _emit_spaces(self, out: list[str]) -> None:
        """Whitespace that fits on the line is shown; what would overflow it is dropped."""
        cells = self._spaces_cells()
        if self.col + cells <= self.width:
            out.append(self._spaces)
            self.col += cells
        self._spaces = ""

    def _place(self, token: str, word_cells: int, out: list[str]) -> None:
        """Start a word of `word_cells` (of which `token` is the start, or all) and draw `token`."""
        if word_cells <= self.width - self.col - self._spaces_cells():
            self._emit_spaces(out)
        else:
            self._make_room(out)
        self._placed = True
        self._draw(token, out)

    def _make_room(self, out: list[str]) -> None:
        """The word does not fit after the spaces: a soft break (or, at a line's start, no indent)."""
        self._spaces = ""
        if self.col > 0:
            self._new_line(out)

    def _place_last(self, token: str, ahead: str, final: bool, out: list[str]) -> None:
        """The last word of the text: place it if its end is known, else hold it."""
        rest = _regex("lead", r"[^ \t\n]*").match(ahead).group()
        if len(rest) < len(ahead) or (final and rest == ahead):
            self._place(token, width_cells(token + rest), out)
            return
        cells = width_cells(token)
        if cells > self.width - self.col - self._spaces_cells():
            self._make_room(out)  # it cannot fit here, however it ends
        if cells > self.width:  # longer than a line, however it ends: break it now
            self._placed = True
            self._draw(token, out)
        else:
            self._word = token

    def _draw(self, token: str, out: list[str]) -> None:
        """Draw a placed word's characters, breaking it only where a line is full."""
        cells = width_cells(token)
        if self.col + cells <= self.width:
            out.append(token)
            self.col += cells
            return
        clusters: list[str] = _regex("X", r"\X").findall(token)
        piece: list[str] = []
        for cluster in clusters:
            n = width_cells(cluster)
            if self.col + n > self.width and self.col > 0:
                out.append("".join(piece))
                piece = []
                self._new_line(out)
            piece.append(cluster)
            self.col += n
        out.append("".join(piece))
