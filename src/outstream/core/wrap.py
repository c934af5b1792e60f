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

On a terminal (``eager``), waiting for a word's end would keep a model's
first token ("Sure") off the screen until the next one comes. There an
unfinished word is drawn at once when the line has room for it to grow by
`SoftWrap.GROWTH` cells; a word held at a line's end is drawn when
`release` is called (the pipeline does so once no text came for its hold
time). In the rare case that such a word then outgrows the line, it is
erased (CSI D, CSI K: ECMA-48 8.3.18, 8.3.41) and drawn again on the next
line: it moves once, and is still never broken unless it is longer than a
line.
"""

from __future__ import annotations

import functools
import re

from ._lazy_regex import pattern

__all__ = ["SoftWrap", "width_cells"]


def width_cells(text: str) -> int:
    """How many terminal cells `text` takes: wide characters two, SGR and OSC 8 sequences none.

    Measured as `wcwidth.wcswidth` measures it (grapheme-aware: ZWJ
    sequences, VS16, flags, skin tones, conjuncts), but only where it can
    differ from one cell a character: around each run of non-ASCII
    characters. A run is measured with the printable ASCII character before
    it (VS16 widens a keycap's digit, a spacing mark adds to its base) and,
    after a ZWJ or a virama, the character it joins (from wcwidth 0.9 a
    virama and the next character, whatever it is, make a conjunct two cells
    wide); wcswidth carries no other state across an ASCII character, so the
    sum is the same. Runs repeat in
    real text, and their widths are cached: wcswidth is a Python loop over
    each character, and measuring every word with it was most of what
    wrapping non-ASCII text cost.
    """
    if "\x1b" in text:
        text = pattern(r"\x1b\[[0-9;:]*m|\x1b\]8;[^\x07\x1b]*(?:\x07|\x1b\\)").sub("", text)
    if text.isascii():
        return len(text)
    n = len(text)
    for run in _RUN.findall(text):
        n += _run_cells(run) - len(run)
    return n


# A run of non-ASCII characters, with the printable ASCII character before it
# and, while it ends in a ZWJ (U+200D), a virama, a variation selector or a
# skin tone (a virama's state outlives these two), the character after it. (The standard `re`:
# it needs no Unicode properties, and it is several times faster here.) The
# viramas are wcwidth's: Unicode's Indic_Syllabic_Category Virama and
# Invisible_Stacker.
_JOINERS = (
    "\ufe0e\ufe0f\U0001f3fb-\U0001f3ff"
    "\u200d\u094d\u09cd\u0a4d\u0acd\u0b4d\u0bcd\u0c4d\u0ccd\u0d4d\u0dca\u1039\u17d2"
    "\u1a60\u1b44\u1bab\ua806\ua8c4\ua9c0\uaaf6\U00010a3f\U00011046\U000110b9"
    "\U00011133\U000111c0\U00011235\U0001134d\U000113d0\U00011442\U000114c2"
    "\U000115bf\U0001163f\U000116b6\U00011839\U0001193e\U000119e0\U00011a47"
    "\U00011a99\U00011c3f\U00011d45\U00011d97\U00011f42"
)
_RUN = re.compile(rf"[ -~]?[^\x00-\x7f]+(?:(?<=[{_JOINERS}])[ -~][^\x00-\x7f]*)*")


@functools.lru_cache(maxsize=4096)
def _run_cells(run: str) -> int:
    from wcwidth import wcswidth, wcwidth

    n = wcswidth(run)
    if n >= 0:
        return int(n)
    return sum(max(int(wcwidth(c)), 0) for c in run)  # a C1 control in it: as before


def warm_up() -> None:
    """Do now what measuring the first non-ASCII word would wait for (importing `wcwidth`)."""
    _run_cells.__wrapped__(" \u00e9")


def _lead_run(text: str) -> str:
    """The run of `text` before its first space, tab or newline (all of it if none)."""
    ends = [i for i in (text.find(" "), text.find("\n"), text.find("\t")) if i >= 0]
    return text[: min(ends)] if ends else text


def _tab_cells(col: int) -> int:
    return 8 - col % 8


class SoftWrap:
    """Inserts soft line breaks into streaming text for a `width`-cell line.

    Args:
        width: the line's width in cells (at least 1).
    """

    # On a terminal, an unfinished word is drawn at once if the line has room
    # for it to grow this much: most words end within it.
    GROWTH = 12

    def __init__(self, width: int, *, eager: bool = False) -> None:
        if width < 1:
            raise ValueError(f"width must be at least 1, not {width!r}")
        self.eager = eager
        self.width = width
        self._next_width = width
        self.col = 0  # cells already on the current line
        self._spaces = ""  # whitespace waiting for the next word
        self._word = ""  # the start of a word whose end is not known yet
        self._placed = False  # inside a word whose place is decided: go on drawing it
        # A word drawn before its end was known (eager): the column where the
        # spaces before it began, and what of it is drawn, so that it can
        # still move.
        self._open: tuple[int, str] | None = None
        self.fast_ascii = True  # tests turn it off to check both paths agree

    @property
    def held(self) -> str:
        """Text taken but not yet given back (whitespace and an unfinished word)."""
        return self._spaces + self._word

    @property
    def held_word(self) -> str:
        """The start of a word held back, its end not known yet."""
        return self._word

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
        fast = self._fits_whole(text, ahead, final)
        if fast is not None:
            return fast
        out: list[str] = []
        s = self._word + text
        self._word = ""
        first, last = s.find("\n"), s.rfind("\n")
        if self.fast_ascii and first != last:
            # Whole lines between the first newline and the last start at a
            # line's start: one that fits is given back as it is, which is
            # what placing it word by word would give.
            self._feed_part(s[: first + 1], "", False, out)
            middle = s[first + 1 : last]
            if "\t" not in middle and self._next_width >= max(
                map(len, middle.encode("utf-8", "surrogatepass").split(b"\n"))
            ):  # every one of them fits (see _fits_line): no loop over lines
                out.append(middle)
                out.append("\n")
                self.width = self._next_width
            else:
                for line in middle.split("\n"):
                    if self._fits_line(line):
                        out.append(line)
                        out.append("\n")
                        self.width = self._next_width
                    else:
                        self._feed_part(line + "\n", "", False, out)
            s = s[last + 1 :]
        self._feed_part(s, ahead, final, out)
        if final and not ahead:  # the end: nothing is held back any more
            if self._word:
                word, self._word = self._word, ""
                self._place(word, width_cells(word), out)
            if self._spaces:
                self._emit_spaces(out)
        return "".join(out)

    def _feed_part(self, s: str, ahead: str, final: bool, out: list[str]) -> None:
        if self.fast_ascii and s.isascii() and "\t" not in s and "\x1b" not in s:
            self._feed_ascii(s, ahead, final, out)
        else:
            self._feed_tokens(s, ahead, final, out)

    def _fits_line(self, line: str) -> bool:
        """Whether a whole line fits, at a line's start (tabs and ZWJs go the long way)."""
        width = self._next_width
        if "\t" in line:
            return False
        if len(line) <= width and line.isascii():
            return True
        # A character never takes more cells than its UTF-8 bytes (ASCII one
        # and one; any other two bytes or more, two cells at most), so a line
        # that short fits without being measured, word by word or whole.
        if len(line.encode("utf-8", "surrogatepass")) <= width:
            return True
        return "\u200d" not in line and width_cells(line) <= width

    def _feed_tokens(self, s: str, ahead: str, final: bool, out: list[str]) -> None:
        """The general case: word by word, measuring each in cells."""
        tokens: list[str] = pattern(r"\n|[ \t]+|[^ \t\n]+").findall(s)
        last = len(tokens) - 1
        for i, token in enumerate(tokens):
            if token == "\n":
                self._placed = False
                self._open = None
                self._end_line(out)
            elif token[0] in " \t":
                self._placed = False
                self._open = None
                self._spaces += token
            elif self._placed:
                self._draw(token, out)
            elif i < last:
                self._place(token, width_cells(token), out)
            else:
                self._place_last(token, ahead, final, out)

    def _feed_ascii(self, s: str, ahead: str, final: bool, out: list[str]) -> None:
        """ASCII without tabs or escapes (a character is a cell): a line at a time, not a word.

        The same placing as `_feed_tokens`, found with ``rfind`` instead of a
        loop over words: at 10,000 characters a second, the difference is
        most of what wrapping costs.
        """
        lines = s.split("\n")
        for k, line in enumerate(lines):
            if k:
                self._placed = False
                self._open = None
                self._end_line(out)
            if k < len(lines) - 1 or not line or line[-1] == " ":
                self._fill_ascii(line, out)
                continue
            start = line.rfind(" ") + 1  # the last word may go on: placed by the lookahead rules
            self._fill_ascii(line[:start], out)
            word = line[start:]
            if self._placed:
                self._draw(word, out)
            else:
                self._place_last(word, ahead, final, out)

    def _fill_ascii(self, line: str, out: list[str]) -> None:
        """Place the complete words of `line` (and keep its trailing spaces for later)."""
        if self._placed and line and line[0] != " ":
            end = line.find(" ")
            end = len(line) if end < 0 else end
            self._draw(line[:end], out)  # the rest of a word already placed
            line = line[end:]
        while line:
            words = line.lstrip(" ")
            if len(words) < len(line):
                self._placed = False
                self._open = None
                self._spaces += line[: len(line) - len(words)]
                line = words
                if not line:
                    return
            room = self.width - self.col - self._spaces_cells()
            if len(line.rstrip(" ")) <= room:
                fit = line.rstrip(" ")
            else:
                cut = (
                    line.rfind(" ", 0, room + 1) if room >= 0 else -1
                )  # (a negative end counts from the end)
                fit = line[:cut].rstrip(" ") if cut > 0 else ""
            if fit:
                self._emit_spaces(out)
                out.append(fit)
                self.col += len(fit)
                line = line[len(fit) :]
                if line.strip(" "):  # a word follows that did not fit
                    self._spaces = ""
                    self._new_line(out)
                    line = line.lstrip(" ")
                continue
            end = line.find(" ")
            word = line if end < 0 else line[:end]
            self._make_room(out)  # now at a line's start: draw it there, broken if it must be
            self._draw(word, out)
            line = line[len(word) :]

    def flush(self) -> str:
        """The stream ended: place what is held."""
        return self.feed("", final=True)

    def _fits_whole(self, text: str, ahead: str, final: bool) -> str | None:
        """The common case, without a token loop: ASCII that fits on the line as it is.

        Applies when the text (with what is held, and the rest of its last
        word from `ahead`) holds no newline or tab and ends within the line,
        and its last word's end is known. ASCII characters take one cell
        each at most (an escape sequence takes none), so counting
        characters can only overestimate.
        """
        s = self._word + text
        if not s or not s.isascii() or "\n" in s or "\t" in s or (final and not ahead):
            return None
        if s[-1] == " ":
            rest = ""
        else:
            rest = _lead_run(ahead)
            if len(rest) == len(ahead):
                return None  # the last word's end is not known yet
        spaces = self._spaces_cells()
        if self.col + spaces + len(s) + width_cells(rest) > self.width:
            return None
        body = s.rstrip(" ")
        self._word = ""
        if not body:
            self._spaces += s
            self._placed = False
            self._open = None
            return ""
        out = self._spaces + body
        self.col += spaces + width_cells(body)
        self._spaces = s[len(body) :]
        self._placed = not self._spaces  # inside a word that goes on (its end is in `ahead`)
        self._open = None
        return out

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
        self._open = None
        self._draw(token, out)

    def _place_open(self, token: str, out: list[str]) -> None:
        """Draw the start of a word whose end is not known, where it may still move from."""
        line, col = self.width, self.col
        cells = width_cells(token)
        self._place(token, cells, out)
        start = self.col - cells
        # On the same line as its spaces, and not at a line's start with
        # nothing before it (where it would go if it moved).
        if start >= col and self.width == line and start > 0:
            self._open = (col, token)

    def release(self) -> str:
        """Draw the word held at a line's end now, before its end is known (``eager``)."""
        if not self._word:
            return ""
        out: list[str] = []
        word, self._word = self._word, ""
        self._place_open(word, out)
        return "".join(out)

    def _make_room(self, out: list[str]) -> None:
        """The word does not fit after the spaces: a soft break (or, at a line's start, no indent)."""
        self._spaces = ""
        if self.col > 0:
            self._new_line(out)

    def _place_last(self, token: str, ahead: str, final: bool, out: list[str]) -> None:
        """The last word of the text: place it if its end is known, else hold it."""
        rest = _lead_run(ahead)
        if len(rest) < len(ahead) or (final and rest == ahead):
            self._place(token, width_cells(token + rest), out)
            return
        cells = width_cells(token)
        if self.eager and cells + self.GROWTH <= self.width - self.col - self._spaces_cells():
            self._place_open(token, out)  # room to grow: show it now
            return
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
            if self._open is not None:
                self._open = (self._open[0], self._open[1] + token)
            return
        if self._open is not None:
            start, drawn = self._open
            self._open = None
            # Drawn before its end was known, and it outgrew the line: erase
            # it and the spaces before it, and do what placing it whole would
            # have done (`_make_room`): a soft break, or at a line's start, no
            # indent.
            # A full line leaves the cursor on its last cell (the deferred
            # wrap of DECAWM), not past it; and CSI 0 D would move one cell.
            back = min(self.col, self.width - 1) - start
            out.append(f"\x1b[{back}D\x1b[K" if back > 0 else "\x1b[K")
            self.col = start
            if start > 0:
                self._new_line(out)
            self._draw(drawn + token, out)
            return
        clusters: list[str] = pattern(r"\X").findall(token)
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
