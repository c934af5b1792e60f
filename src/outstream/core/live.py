"""A live region at the bottom of a terminal: lines written for good above, lines redrawn below.

Theory of operation: `update(committed, live)` returns the text that turns
the screen from its last state into the new one. The screen holds the live
lines drawn last; the new state is the newly committed lines (they scroll
into the scrollback and are never touched again) followed by the new live
lines. Lines at the top that are already on the screen as they should be —
most of them, as an open block grows at its end, and all of a block that is
committed as it was last drawn — are left alone: the cursor goes back up
only to the first line that differs (``CSI n A`` after a carriage return,
ECMA-48 8.3.22) and the rest is written over the old rows, each line's last
row erased after its text (``CSI K``, 8.3.41); rows of the old drawing below
the new one are erased one by one (``CSI B`` down, ``CSI 2 K``, and back up).
So a frame writes what changed, not the whole region. When all that changed
is that the last line grew (text typed at its end: most frames), only what
it gained is written, at the cursor, after the line's colour and link
sequences: that is where the line ends whatever width the terminal wraps
it at, even a width it reflowed to and has not told the program yet
(tmux under load). A row of the old drawing that the terminal wrapped
onto the next one and that now ends a line has the row below it erased
whole (``CSI 2 K``) before that is written: tmux keeps a row's mark that
its line goes on below until then (``grid_clear_lines`` in its grid.c) and
would join the two lines at its next reflow. The screen is never
erased below (``CSI J``): from the top-left corner, tmux (``scroll-on-clear``)
and other terminals take that for a clear and push the screen into the
scrollback, and a region that starts on the top row did that every frame.
A line that fills its last row exactly gets no ``CSI K``: the cursor waits
on the last column there, and xterm would erase that column.

How far up to go is computed from what was drawn — every line's width in
cells, wrapped at the terminal's width — not from what was meant, so
nothing is duplicated or left behind. A terminal made narrower reflows the
lines and may push the region's top into its scrollback, out of reach: the
lines above those at its end that can still be reached are then committed
as they are (see `resize`). The live region never exceeds the screen: lines
beyond ``height - 1`` at its top are committed.
The cursor is hidden while a region is live (``CSI ? 25 l``) and shown
again by `close` (``CSI ? 25 h``), which the caller also sends on Ctrl-C or
an error.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ._lazy_regex import pattern
from .wrap import width_cells

__all__ = ["HIDE_CURSOR", "SHOW_CURSOR", "LiveRegion", "live_rows"]

HIDE_CURSOR = "\x1b[?25l"
SHOW_CURSOR = "\x1b[?25h"
_RESET = "\x1b[0m"
_ZERO_WIDTH = (
    r"\x1b\[[0-9;:]*m|\x1b\]8;[^\x07\x1b]*(?:\x07|\x1b\\)"  # SGR, OSC 8 (wrap.width_cells)
)


def _written(line: str) -> str:
    """What is written of a line: without the plain spaces at its end.

    rich pads a line to the width with spaces: they would be bytes to send,
    lines copied from the scrollback would carry them, and a line whose
    width a terminal counts wider than we do (an emoji sequence) would wrap
    onto a row of its own. What is left of an old row is erased (``CSI K``).
    Spaces with a style (a code block's background) end in an escape
    sequence and are kept.
    """
    return line.rstrip(" ")


def _shown(line: str) -> str:
    """A line without its zero-width sequences (SGR, OSC 8): what takes cells."""
    return pattern(_ZERO_WIDTH).sub("", line) if "\x1b" in line else line


_TRAILING_ZERO_WIDTH = f"(?:{_ZERO_WIDTH})+$"


def _continued(old: str, new: str) -> str | None:
    """What to write at the end of `old` to make it `new` (both as written), or None if
    `new` is not `old` with more at its end.

    Written at the cursor, where `old` ends, this goes on whatever width the
    terminal wraps `old` at: no carriage return to a row that a reflow may
    have made another, no rows counted. It begins with the colour and link
    sequences of `old`, whose state the reset after it cleared. A line cut
    into rows that fit (`_rows_certain`) or holding clusters of uncertain
    width is drawn again whole.
    """
    if "\n" in new or (not new.isascii() and pattern(_UNCERTAIN).search(new)):
        return None
    styled = "\x1b" in old
    stem = pattern(_TRAILING_ZERO_WIDTH).sub("", old) if styled else old
    if not new.startswith(stem):
        return None
    rest = new[len(stem) :]
    if stem and not _shown(rest)[:1].isascii() and not _cluster_ends(stem, rest):
        return None  # a mark that joins the last cluster drawn: drawn again whole
    return "".join(pattern(_ZERO_WIDTH).findall(stem)) + rest if styled else rest


def _cluster_ends(before: str, after: str) -> bool:
    """Whether a grapheme cluster ends between `before` and `after` (UAX #29)."""
    tail = _shown(before)[-8:]
    if not tail:
        return True
    joined = tail + _shown(after)[:8]
    n_chars = 0
    for cluster in pattern(r"\X").findall(joined):
        n_chars += len(cluster)
        if n_chars >= len(tail):
            return n_chars == len(tail)
    return True


# Code points that make a grapheme cluster's width a matter of opinion: ZWJ,
# VS16, the keycap mark, regional indicators (flags), skin-tone modifiers and
# tag characters. We count a cluster as one wide character (wcwidth's
# grapheme-aware `wcswidth`); terminals that count each code point (pyte,
# tmux, older VTE and xterm) see 👍🏽 and 🇯🇵 as four cells, 👨‍👩‍👧 as six.
_UNCERTAIN = "[\u200d\ufe0f\u20e3\U0001f1e6-\U0001f1ff\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]"
_ZERO_WIDTH_OR_CLUSTER = r"\x1b\[[0-9;:]*m|\x1b\]8;[^\x07\x1b]*(?:\x07|\x1b\\)|\X"


def _widest_cells(cluster: str) -> int:
    """The most cells a terminal may give `cluster`: ours, or each code point's own
    (`wcwidth`; a regional indicator two, as some terminals count it)."""
    from wcwidth import wcwidth

    per_code_point = sum(
        2 if "\U0001f1e6" <= char <= "\U0001f1ff" else max(wcwidth(char), 0) for char in cluster
    )
    return max(width_cells(cluster), per_code_point)


def _rows_certain(line: str, width: int) -> list[str] | None:
    """`line` cut into rows no terminal can wrap, or None if it holds no cluster of
    uncertain width that could reach the last column.

    A line whose width terminals disagree on would wrap in some and not in
    others, and the live region would not know how far up to go: such a
    line is written as rows that fit in ``width - 1`` cells however its
    clusters are counted, cut at the last space where there is one, each
    row beginning with the colour and link sequences in force.
    """
    if not pattern(_UNCERTAIN).search(line):
        return None
    tokens: list[str] = pattern(_ZERO_WIDTH_OR_CLUSTER).findall(line)
    widths = [0 if token.startswith("\x1b") else _widest_cells(token) for token in tokens]
    if sum(widths) < width:
        return None
    rows: list[str] = []
    styles: list[str] = []  # sequences of the rows written, replayed on the next
    row: list[tuple[str, int]] = []  # tokens and their widest cells
    space = -1  # where the last space in `row` is
    for token, n in zip(tokens, widths, strict=True):
        if sum(cells for _, cells in row) + n > width - 1 and row:
            if token == " ":  # the row ends here, without it
                space, n = len(row), 0
                row.append((token, 0))
            cut = space if space > 0 else len(row)
            rows.append("".join(styles) + "".join(t for t, _ in row[:cut]))
            styles += [t for t, _ in row[:cut] if t.startswith("\x1b")]
            row = row[cut + 1 :] if space > 0 else []
            space = -1
            if not n:
                continue
        if token == " ":
            space = len(row)
        row.append((token, n))
    rows.append("".join(styles) + "".join(t for t, _ in row))
    return rows


def live_rows(height: int) -> int:
    """The most rows a live region may take on a `height`-row screen: the cursor's row stays below."""
    return max(height - 1, 1)


class LiveRegion:
    """Draws committed lines and a redrawn live region for a `width`×`height` terminal."""

    def __init__(self, width: int, height: int) -> None:
        if width < 1 or height < 2:
            raise ValueError(
                f"a live region needs a terminal of at least 1×2, not {width}×{height}"
            )
        self.width = width
        self.height = height
        self._cursor_hidden = False
        self.n_committed = 0
        # Lines at the top of the caller's live region already written for
        # good because the region outgrew the screen: skipped from then on.
        self._forced = 0
        self._drawn: list[str] = []  # the live lines on the screen now
        self._drawn_rows: list[int] = []  # the rows each of them takes
        self._at_end = False  # the cursor is where the last of them ends

    @property
    def _rows(self) -> int:
        """Terminal rows the live region takes now."""
        return sum(self._drawn_rows)

    def resize(self, width: int, height: int, *, several: bool = False) -> None:
        """The terminal changed size; the next update draws for the new one.

        `several`: it went through other sizes first (a window's edge
        dragged), which the terminal reflowed in turn: then only the last
        line, the cursor's own, is certainly where it was drawn, and the
        lines above it are written for good as they are, even if the size
        is back where it was.

        A terminal made narrower reflows what it shows (tmux, kitty, WezTerm,
        VTE, iTerm2, Windows Terminal, Alacritty): each line takes the rows
        its width gives at the new width, and where the rows above the
        cursor go is the terminal's choice — tmux keeps the empty rows below
        the cursor and pushes the top of the screen into the scrollback, even
        with room below. What can be found again is the lines at the end
        that take no more rows now than the whole region took before (it was
        all on the screen, above the cursor): the lines above them are
        written for good as they were drawn, and skipped from then on (the
        caller keeps the open block's width until it is committed, so its
        lines stay the same).

        A terminal made shorter than the live region keeps the cursor's row
        and pushes the rows above the new top into the scrollback (xterm,
        VTE, tmux): the live lines that went there are written for good now,
        and skipped from then on like lines the region outgrew.
        """
        width, height = max(width, 1), max(height, 2)
        if several and self._drawn:
            self.width = width
            self._drawn_rows = [self._layout(line)[1] for line in self._drawn]
            n_kept = len(self._drawn) - 1
            del self._drawn[:n_kept], self._drawn_rows[:n_kept]
            self._forced += n_kept
        elif width != self.width:
            n_old_rows = self._rows  # all on the screen, above the cursor or on its row
            self.width = width
            self._drawn_rows = [self._layout(line)[1] for line in self._drawn]
            # The lines at the end that take no more rows now than the whole
            # region took before can be reached (a table's row being typed
            # sits above its bottom border, a code line above the padding).
            n_live, n_rows = 1, self._drawn_rows[-1] if self._drawn else 0
            while (
                n_live < len(self._drawn) and n_rows + self._drawn_rows[-n_live - 1] <= n_old_rows
            ):
                n_live += 1
                n_rows += self._drawn_rows[-n_live]
            n_kept = max(len(self._drawn) - n_live, 0)
            del self._drawn[:n_kept], self._drawn_rows[:n_kept]
            self._forced += n_kept
        lost = self._rows - height
        while lost > 0 and self._drawn:
            rows = self._drawn_rows[0]
            if rows > lost:
                break
            del self._drawn[0], self._drawn_rows[0]
            self._forced += 1
            lost -= rows
        self.height = height

    def _layout(self, line: str) -> tuple[str, int]:
        """What is written of `line` and the terminal rows it takes (see `_written`)."""
        written = _written(line)
        if written.isascii():
            return written, self._rows_of(written)
        rows = _rows_certain(written, self.width)
        if rows is None:
            return written, self._rows_of(written)
        return (_RESET + "\x1b[K\n").join(rows), len(rows)

    def _rows_of(self, line: str) -> int:
        """Terminal rows `line` takes once written (see `_written`)."""
        text = _shown(line)
        n_chars = len(text)
        # A character takes two cells at most: a line that fits even so
        # takes one row, and needs no look at each character's width.
        if n_chars * 2 - len(text.encode("ascii", "ignore")) <= self.width:
            return 1
        return max(1, -(-width_cells(text) // self.width))

    @staticmethod
    def _cells(line: str) -> int:
        """Cells `line` takes once written."""
        text = _shown(line)
        return len(text) if text.isascii() else width_cells(text)

    def update(self, committed: Sequence[str], live: Sequence[str]) -> str:
        """The text that writes `committed` for good and shows `live` below it.

        `live` is the whole open block each time; `committed`, the lines that
        became final since the last update (a finished block, all of it).
        """
        live = list(live)
        committed = list(committed)
        if self._forced:
            # The caller's lines begin with those forced out: they are
            # committed now (skip them there, once) or still live (skip them).
            n_skip = min(self._forced, len(committed))
            del committed[:n_skip]
            self._forced -= n_skip
            del live[: self._forced]
        drawn, drawn_rows = self._drawn, self._drawn_rows
        lines = committed + live
        # Lines already on the screen as they should be stay; rows are
        # counted once per line drawn.
        same = 0
        for old, new in zip(drawn, lines, strict=False):
            if old != new:
                break
            same += 1
        laid_out = [self._layout(line) for line in lines[same:]]
        written = [text for text, _ in laid_out]
        rows = drawn_rows[:same] + [n_rows for _, n_rows in laid_out]
        n_committed = len(committed)
        room = live_rows(self.height)
        n_live_rows = sum(rows[n_committed:])
        while n_committed < len(lines) and n_live_rows > room:  # never taller than the screen
            n_live_rows -= rows[n_committed]
            n_committed += 1
            self._forced += 1
        out: list[str] = []
        if live and not self._cursor_hidden:
            out.append(HIDE_CURSOR)
            self._cursor_hidden = True
        n_old_rows = 0  # rows of the old drawing from the first line that changed
        continued = None  # what the last line drawn gains, if that is all that changed
        if drawn:
            if same < len(drawn):
                n_old_rows = sum(drawn_rows[same:])
                if same == len(drawn) - 1 and same < len(lines) and self._at_end:
                    continued = _continued(_written(drawn[same]), written[0])
                if continued is None:
                    # Up to the first row of the first line that changed (the
                    # cursor is on the last row of the last line).
                    out.append("\r")
                    if n_old_rows > 1:
                        out.append(f"\x1b[{n_old_rows - 1}A")
            elif same < len(lines) or same <= n_committed:
                out.append("\n")  # after the last line drawn: on to the next
        # The rows of the old drawing that ended a line; the terminal wrapped
        # the others onto the row below (see the module's docstring).
        old_ends = set(itertools.accumulate(drawn_rows[same:]))
        width = self.width
        n_rows = 0  # rows written so far
        for i in range(same, len(lines)):
            line = written[i - same]
            n_rows += rows[i]
            if i == same and continued is not None:
                # Where the line ends: its row is blank after it. Plain text
                # leaves the colours as the reset after the line left them.
                out.append(continued + _RESET if "\x1b" in continued else continued)
            else:
                out.append(line + _RESET)
                if n_rows <= n_old_rows and (not line or "\n" in line or self._cells(line) % width):
                    out.append("\x1b[K")  # what is left of an old, longer row
            if i < n_committed or i < len(lines) - 1:
                out.append("\n")
                if n_rows < n_old_rows and n_rows not in old_ends:
                    out.append("\x1b[2K")  # the row above no longer goes on here
        below = n_old_rows - sum(rows[same:])
        if below > 0 and same == len(lines):
            # Only lines to take away: the cursor is on the first of their
            # rows. Erase them, and go back to the end of the last line left
            # (or stay on that first row, if what is left is committed).
            out.append("\x1b[2K" + "\x1b[B\x1b[2K" * (below - 1))
            up = below - 1 + (same > 0 and n_committed < len(lines))
            if up:
                out.append(f"\x1b[{up}A")
        elif below > 0:
            # The old drawing went further down: erase its rows there, and
            # come back to the end of the last line.
            out.append("\x1b[B\x1b[2K" * below + f"\x1b[{below}A")
        self.n_committed += n_committed
        self._drawn = lines[n_committed:]
        self._drawn_rows = rows[n_committed:]
        if same < len(lines) or same < len(drawn):
            # The cursor is where the last line ends if that is what was
            # written last (a move down and back up forgets a wrap pending
            # at the last column).
            self._at_end = bool(self._drawn) and same < len(lines) and below <= 0
        return "".join(out)

    def close(self) -> str:
        """End: the live region stays as drawn, the cursor goes below it and is shown again."""
        out = "\n" if self._drawn else ""
        self._drawn, self._drawn_rows = [], []
        self._at_end = False
        if self._cursor_hidden:
            out += SHOW_CURSOR
            self._cursor_hidden = False
        return out
