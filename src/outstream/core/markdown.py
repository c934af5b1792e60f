"""Incremental Markdown: finished blocks rendered once; a frame costs about a row, not a block.

Theory of operation: the text received so far is split in two. Everything
before the *open region* has been rendered and given back as committed lines,
for good. The open region starts at the first top-level block that may still
change. Each `feed` appends to it, parses its block structure with
markdown-it configured as rich's `Markdown` configures it (`mdparse.
BlockParser`: a long table or list from its last row or item on), and groups
the tokens into top-level blocks by their nesting level. A block is finished
when the start of a later block lies on a complete line: CommonMark parses
block structure forwards, line by line, so a later line can change a
paragraph into a setext heading or a table only while that paragraph is the
last block; a paragraph, heading, quote or table is finished too once a
blank line follows it. Finished blocks are committed and cut off the open
region; the blocks left are drawn as the live region.

Neither costs as much as the block: `mdview.BlockView` draws a block piece
by piece (list items, a quote's or an item's blocks, table rows), each
finished piece rendered once; the piece still growing is drawn down to its
last paragraph, of which only the rows after its *cut* are parsed and drawn
(`paragraph.ParagraphView`); an open code fence draws its last line only
(`codeview.CodeView`). A block is committed from the same pieces. So a
frame's cost is about a row and the frame's text, whatever the answer's
length or the open block's. Most frames cost less still: text with no line
break, added to a line of text that an open paragraph ends on, cannot change
any block (`_TEXT_LINE` says which lines), so such a frame neither parses
the open region nor walks its blocks: it draws that paragraph again, from
its cut, below the lines it kept (`MarkdownRenderer._lengthen_paragraph`).
The same text added to a table's body row on the last line cuts that row
again alone and draws the table with the rows above it kept (`_lengthen_row`).

Rendering whole and rendering block by block agree because rich's `Markdown`
renders each top-level element on its own and puts a blank line before an
element when the element that closed last says so (a horizontal rule's says
not): the separator is added here by the same rule. Link reference
definitions are global: those in committed text are kept in the parser's
`env` for every later parse. A definition that comes *after* a committed
block using it cannot change that block any more (see the tests).

The stage is pure: rich renders into a `Console` that writes to a list,
with its width, height, colours and environment all given explicitly.

Long (some 740 lines) for a reason: the renderer's loop — the open region,
what is committed, the live lines, code fences — is one piece of state, read
best whole; the views of a block are `mdview`'s, the parsing `mdparse`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .codeview import builtin_language
from .mdparse import BlockParser, new_parser, table_aligns, table_row
from .mdview import BlockView, OpenParagraph, Palette, Sink, console, lines_of
from .theme import DEFAULT_CODE_THEMES, Theme

if TYPE_CHECKING:
    from markdown_it.token import Token

    from .codeview import CodeView
    from .escapes import EscapePolicy

__all__ = ["Frame", "MarkdownRenderer", "Palette", "render_markdown", "warm_up"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """What a feed changed: lines to write for good, and the live region now.

    Attributes:
        committed: new lines that will not change (ANSI text, no newline).
        live: the whole live region as it is now: it replaces the last one.
    """

    committed: tuple[str, ...] = ()
    live: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if any("\n" in line for line in self.committed + self.live):
            raise ValueError("a Frame's lines hold no newline")


@dataclass(slots=True)
class _Block:
    """One top-level block of the open region: its first line, the line after it, its tokens."""

    line: int
    end: int = 0
    tokens: list[Token] = field(default_factory=list)


def _may_use_a_definition(text: str) -> bool:
    """Whether `text` may use a link reference definition: a ``]`` that no ``(`` follows.

    One in a plain code span (```list[str]```) does not count.
    """
    if "`" in text:
        from ._lazy_regex import pattern

        text = pattern(r"`[^`\n]*`").sub("", text)
    i = text.find("]")
    while i >= 0:
        if text[i + 1 : i + 2] != "(":
            return True
        i = text.find("]", i + 1)
    return False


_BLANK_LINES = re.compile(r"(?:[ \t]*\n)*")  # matches at any start, maybe empty
_ENDED_BY_A_BLANK_LINE = frozenset(
    {"paragraph_open", "heading_open", "blockquote_open", "table_open"}
)


# A line of text: after any block quote and list markers, it holds a letter,
# and does not start with "<" or "[". Nothing appended to it can make it
# start a block or end one: a setext underline, a table's delimiter row and a
# thematic break are made of marks only; a heading, a fence, a list item
# start as they start (and hold no letter before they have); an HTML block
# ("<dl" + ">") and a link reference definition ("[a" + "]: /u") could
# still begin.
_TEXT_LINE = re.compile(
    r"(?:[ \t]*(?:>|[-+*](?=[ \t])|[0-9]{1,9}[.)](?=[ \t])))*[ \t]*[^\s<\[][^\n]*?[^\W\d_]"
)


@dataclass(slots=True)
class _ParagraphLane:
    """The open region ends in an open paragraph on a line of text: text with no line
    break only lengthens it (see `MarkdownRenderer._paragraph_lane`)."""

    paragraph: OpenParagraph
    above: list[str]  # the live lines before the paragraph's
    raw: str  # its inline text, untrimmed
    trim: str  # what markdown-it trims off it (MD_TRIM_CHARS, kept: a frame imports nothing)


@dataclass(slots=True)
class _RowLane:
    """The open region ends in a table's body row: text with no line break only
    lengthens that row (see `MarkdownRenderer._row_lane`)."""

    head: list[Token]  # the table's tokens before that row (its own list)
    tail: list[Token]  # and after it (the body's and the table's close)
    aligns: list[str]  # its columns'
    number: int  # the row's line, as the tokens count
    line: str  # the row's text so far
    above: list[str]  # the live lines before the table's
    separate: bool  # the table's place in the open region, as it was drawn
    index: int


# Text a lane can take: no CR (a line break to normalize) and no NUL (which
# markdown-it turns into U+FFFD).
_LANE_TEXT = re.compile(r"[^\r\0]+")

# A table small enough that markdown-it's limit on the cells it adds to short
# rows (MAX_AUTOCOMPLETED_CELLS, 65536) cannot be reached in it: three tokens a cell.
_MAX_ROW_LANE_TOKENS = 0xF000


def _normalize_newlines(text: str) -> str:
    # markdown-it turns \r\n and a lone \r into \n before parsing
    # (markdown_it.rules_core.normalize); line numbers must count the same.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def render_markdown(
    source: str,
    width: int,
    *,
    color_system: Palette | None = "standard",
    code_theme: str | None = None,
    hyperlinks: bool = False,
    theme: Theme = "dark",
    crop_code: bool = True,
) -> tuple[str, ...]:
    """Render a whole Markdown text at once, as rich does: the lines `MarkdownRenderer` matches.

    rich's `Markdown`, but for code blocks, drawn by `codeview` (whole lines,
    no padding, no background) and for its styles on a light `theme`.

    Args:
        source: the Markdown text.
        width: the line's width in cells.
        color_system: rich's colour system, or None for no escape sequences.
        code_theme: the Pygments style for fenced code (None: the theme's).
        hyperlinks: links as OSC 8 hyperlinks (without rich's random ids).
        theme: the terminal's background, "dark" or "light".
        crop_code: crop code lines wider than `width` with a mark (as on a
            terminal); False, write them whole (as into a pipe).

    Returns:
        The lines, as ANSI text without their newlines.
    """
    from .mdview import _markdown_class

    markdown = _markdown_class()(
        source, code_theme=code_theme or DEFAULT_CODE_THEMES[theme], hyperlinks=hyperlinks
    )
    markdown.crop_code = crop_code  # type: ignore[attr-defined]
    sink = Sink()
    console(width, color_system, sink, theme).print(markdown, soft_wrap=False, crop=False)
    return tuple(lines_of(sink.take()))


def warm_up() -> None:
    """Import and set up what rendering Markdown needs, by rendering a short answer once.

    The first text of a Markdown stream would otherwise wait for rich,
    markdown-it and Pygments to import (rich's `Markdown` brings in its
    `Syntax`) and for their first use: a tenth of a second or more. Run
    it while waiting for the source (a model's time to first token) and
    that wait is gone. Pure: it returns nothing and touches no stream.
    """
    renderer = MarkdownRenderer(80, live_lines=24)
    renderer.feed("# Ready\n\nA *short* `answer`, with a [link](https://example.com).\n\n- one\n")
    renderer.flush()


class MarkdownRenderer:
    """Renders a streamed Markdown answer: finished blocks once, the open one live.

    Args:
        width: the line's width in cells (at least 1).
        color_system: rich's colour system, or None for no escape sequences.
        hyperlinks: links as OSC 8 terminal hyperlinks (the text clickable,
            the URL not shown) instead of their text and URL. rich gives
            each a random ``id``; it is left out, so output is reproducible.
        code_theme: the Pygments style for fenced code (None: the theme's,
            `theme.DEFAULT_CODE_THEMES`).
        theme: the terminal's background, "dark" or "light": the colours
            are chosen to read on it.
        render_live: False when there is no live region to draw (off a tty,
            finished blocks are printed as they complete): the open block is
            then never rendered before it is finished, and `Frame.live` is
            always empty. Code lines wider than the width are then written
            whole; with a live region they are cropped, with a mark.
        live_lines: the most rows the live region may take (a terminal's
            height less one): an open code block taller than that has its
            top rows, which no longer change, committed early. None: no limit.
        escapes: the policy the text went through: what the parser decodes
            (character references) goes through it too.

    Raises:
        ValueError: for a width under 1.
    """

    def __init__(
        self,
        width: int,
        *,
        color_system: Palette | None = "standard",
        hyperlinks: bool = False,
        code_theme: str | None = None,
        theme: Theme = "dark",
        render_live: bool = True,
        live_lines: int | None = None,
        escapes: EscapePolicy = "strip",
    ) -> None:
        if width < 1:
            raise ValueError(f"width must be at least 1, not {width!r}")
        self.width = width
        self.color_system: Palette | None = color_system
        self.code_theme = code_theme or DEFAULT_CODE_THEMES[theme]
        self.theme: Theme = theme
        self.hyperlinks = hyperlinks
        self.render_live = render_live
        # The content of each fenced code block committed so far, in order.
        self.code_blocks: list[str] = []
        # The most rows the live region can show: the top rows of an open
        # code block taller than that are committed early (None: no limit).
        self.live_lines = live_lines
        self._open = ""  # the source from the first block not yet committed
        self._cr = False  # the last feed ended in \r: a \n may follow
        self._env: dict[str, Any] = {}  # link reference definitions of committed text
        self._separate = False  # the last committed block wants a blank line after it
        self._n_lines_skipped = 0  # lines of the open region committed early
        self._next_width: int | None = None  # set_width waiting for a block to be committed
        # The open region when it is one code fence still open (see _watch_open_fence):
        self._code: CodeView | None = None
        self._code_head: list[str] = []  # its rows above the code: a blank line, or none
        self._code_start = 0  # where its code starts in the open region
        self._code_seen = 0  # how much of the open region is known not to close it
        self._fence_char = "`"
        self._code_frames: dict[tuple[int, str, bool], list[str]] = {}
        self._live: tuple[str, ...] = ()
        self._parser = BlockParser(new_parser(escapes))
        self._view = BlockView(
            self._parser,
            color_system=color_system,
            code_theme=self.code_theme,
            hyperlinks=hyperlinks,
            theme=theme,
            crop_code=render_live,
        )
        self._parse_env: dict[str, Any] = {}  # the last parse's: with the open region's definitions
        self._refs: Any = None  # the definitions in force, as a key for what is cached
        self._fast: _ParagraphLane | _RowLane | None = None
        self._last_block_at: tuple[int, bool, int] | None = None  # see _render

    @property
    def n_renders(self) -> int:
        """How many times rich rendered something (for tests)."""
        return self._view.n_renders

    @property
    def n_chars_rendered(self) -> int:
        """Inline characters rendered, summed over renders (for tests)."""
        return self._view.n_chars_rendered

    @property
    def n_chars_parsed(self) -> int:
        """Source characters parsed, summed over parses (for tests)."""
        return self._parser.n_chars_parsed

    @property
    def live(self) -> tuple[str, ...]:
        """The live region as the last frame left it."""
        return self._live

    def open_fence(self) -> str | None:
        """The opening line of the code fence the open region is, while it is open (None: not one).

        A line of the program's own put between the answer's text (`Writer.print`)
        finishes the open block; a code block goes on after it from this line.
        """
        if self._code is None:
            return None
        blank = _BLANK_LINES.match(self._open)
        return self._open[blank.end() if blank is not None else 0 :].partition("\n")[0]

    def set_width(self, width: int) -> None:
        """Render at `width` from the next block on.

        The open block keeps its width until it is committed: the lines of
        it already shown stay as they are (a terminal made narrower reflows
        them, and the live region commits all but the last, see
        `LiveRegion.resize`), so it goes on below them with the same lines.
        """
        if width < 1:
            raise ValueError(f"width must be at least 1, not {width!r}")
        if self._n_lines_skipped or self._live:
            self._next_width = width
        else:
            self.width, self._next_width = width, None
        self._fast = None

    # --- feeding ---

    def feed(self, text: str) -> Frame:
        """Take more of the answer; return the lines finished by it and the live region.

        Args:
            text: the next piece of the Markdown source, cut anywhere.
        """
        fast = self._fast
        if fast is not None and not self._cr and text and _LANE_TEXT.fullmatch(text):
            if isinstance(fast, _ParagraphLane):
                frame = self._lengthen_paragraph(fast, text)
            else:
                frame = self._lengthen_row(fast, text)
            if frame is not None:
                return frame
        if self._cr:
            text = "\r" + text
        self._cr = text.endswith("\r")
        if self._cr:
            text = text[:-1]
        self._open += _normalize_newlines(text)
        return self._update(final=False)

    def _lengthen_paragraph(self, fast: _ParagraphLane, text: str) -> Frame | None:
        """The frame of `text` added to the open paragraph's last line (None: not that case).

        Text without a line break, appended to a line of text, changes no
        block: the parse of the open region would give the same tokens but
        the paragraph's inline text, which ends the open region. So only the
        paragraph is drawn again (from its cut, as always), and the lines
        above it stay.
        """
        if "\n" in text:
            return None
        raw = fast.raw + text
        lines = self._view.paragraph(fast.paragraph, raw.strip(fast.trim))
        if lines is None:
            self._fast = None
            return None
        fast.raw = raw
        self._open += text
        self._live = (*fast.above, *lines)
        return Frame(live=self._live)

    def _lengthen_row(self, lane: _RowLane, text: str) -> Frame | None:
        """The frame of `text` added to the open table's last row, which ends the open region
        (None: not that case).

        A line that starts with a pipe, after a table's rows, is a row of it
        whatever follows on it. So text that adds to the last row, and then
        only lines that start with a pipe, only finishes that row and adds
        rows: those are cut (as markdown-it's table rule cuts them) and the
        table drawn again with the rows above them kept, and the lines above
        the table.
        """
        rows = (lane.line + text).split("\n")
        if any(not line.startswith("|") for line in rows[1:]):
            return None  # a line that may end the table, or nothing yet
        if len(lane.head) + (3 * len(lane.aligns) + 2) * len(rows) > _MAX_ROW_LANE_TOKENS:
            return None
        for line in rows[:-1]:  # the rows finished now
            lane.head += table_row(line, lane.number, lane.aligns)[0]
            lane.number += 1
        lane.line = rows[-1]
        row, _ = table_row(lane.line, lane.number, lane.aligns)
        lines = self._view.lines(
            [*lane.head, *row, *lane.tail],
            separate=lane.separate,
            env=self._parse_env,
            refs=self._refs,
            index=lane.index,
        )
        self._open += text
        self._live = (*lane.above, *lines)
        return Frame(live=self._live)

    def _row_lane(
        self, blocks: list[_Block], live: list[str], n_full_lines: int
    ) -> _RowLane | None:
        """How the next text can be drawn, if the open region ends in a table's body row."""
        line_start = self._open.rfind("\n") + 1
        if not blocks or not self._open.startswith("|", line_start) or self._last_block_at is None:
            return None
        tokens = blocks[-1].tokens
        start, separate, index = self._last_block_at
        if tokens[0].type != "table_open" or len(tokens) > _MAX_ROW_LANE_TOKENS:
            return None
        row = max(i for i, t in enumerate(tokens) if t.type == "tr_open")
        row_map = tokens[row].map
        if row_map is None or row_map[0] != n_full_lines:
            # Not a row on the last line (the header never is: the
            # delimiter row comes after it).
            return None
        # A body row on the last line is the table's last: its close and the
        # body's and the table's follow it.
        return _RowLane(
            tokens[:row],
            tokens[-2:],
            table_aligns(tokens),
            row_map[0],
            self._open[line_start:],
            live[:start],
            separate,
            index,
        )

    def _paragraph_lane(self, live: list[str], n_full_lines: int) -> _ParagraphLane | None:
        """How the next text can be drawn, if the open region ends in an open paragraph
        that takes up its last line, a line of text (whose block nothing can change)."""
        from markdown_it.common.utils import MD_TRIM_CHARS

        paragraph = self._view.last_paragraph
        if paragraph is None or not paragraph.lines or paragraph.exact:
            return None
        source, lines = paragraph.inline.content, paragraph.lines
        text = self._open.rstrip(MD_TRIM_CHARS)  # the paragraph's text ends where this does
        if (
            not source
            or paragraph.inline.map is None
            or paragraph.inline.map[1] != n_full_lines + 1  # it reaches the last line
            or "\n" in self._open[len(text) :]
            or not text.endswith(source)
            # A link reference definition: its label may go on to this line
            # ("[a" + "]: /u"), its title too (a line after "[a]: /u").
            or source.startswith("[")
            or "]:" in self._open
            or _TEXT_LINE.match(self._open, self._open.rfind("\n") + 1) is None
            or len(lines) > len(live)
            or live[len(live) - len(lines) :] != lines  # its lines end the live region
        ):
            return None
        raw = source + self._open[len(text) :]
        return _ParagraphLane(paragraph, live[: len(live) - len(lines)], raw, MD_TRIM_CHARS)

    def flush(self) -> Frame:
        """The answer ended: commit everything; the live region is empty."""
        if self._cr:
            self._cr = False
            self._open += "\n"
        return self._update(final=True)

    # --- blocks ---

    def _update(self, *, final: bool) -> Frame:
        committed: list[str] = []
        live: list[str] = []
        self._fast = None
        self._view.last_paragraph = None
        self._last_block_at = None
        blocks: list[_Block] = []
        n_full_lines = 0
        if not final and self._fence_still_open():
            live = self._code_rows()
        else:
            blocks = self._parse(self._open) if self._open else []
            n_full_lines = self._open.count("\n")  # of the source the blocks' lines count in
            n_done = len(blocks) if final else self._n_finished(blocks)
            if n_done:
                done, blocks = blocks[:n_done], blocks[n_done:]
                cut = (
                    len(self._open)
                    if final
                    else self._line_offset(blocks[0].line if blocks else done[-1].end)
                )
                committed = self._fence_drawn(done) or self._render(done, exact=True)
                self.code_blocks += [
                    token.content
                    for block in done
                    for token in block.tokens
                    if token.type == "fence"
                ]
                self._separate = self._separates(done[-1])
                self._remember_references(self._open[:cut])
                self._open = self._open[cut:]
                self._code = None
                self._view.forget()
                self._parser.forget()
                if self._next_width is not None:
                    # The blocks after it begin at the width set meanwhile, from
                    # this frame on: a block that changed width once shown would
                    # draw its lines again at another width, over rows a terminal
                    # had wrapped (tmux joins them again at its next reflow).
                    self.width, self._next_width = self._next_width, None
            if blocks and self.render_live:
                self._hold_partial_languages(blocks, n_full_lines)
                live = self._code_rows() if self._watch_open_fence(blocks) else self._render(blocks)
        # Lines of the open region committed early are not written again:
        # neither when its block is committed nor while it is live.
        n_skip = min(self._n_lines_skipped, len(committed))
        del committed[:n_skip]
        self._n_lines_skipped -= n_skip
        if committed or final:
            self._n_lines_skipped = 0
            if self._next_width is not None:
                self.width, self._next_width = self._next_width, None
        del live[: self._n_lines_skipped]
        if self._code is not None and self.live_lines is not None:
            # An open code block taller than the screen: its top rows,
            # which no longer change, go to the scrollback now.
            n_final = len(self._code_head) + self._code.n_final_rows - self._n_lines_skipped
            n_early = min(len(live) - self.live_lines, n_final)
            if n_early > 0:
                committed += live[:n_early]
                del live[:n_early]
                self._n_lines_skipped += n_early
        if not final and self._code is None and not self._n_lines_skipped:
            self._fast = self._paragraph_lane(live, n_full_lines) or self._row_lane(
                blocks, live, n_full_lines
            )
        self._live = tuple(live)
        return Frame(committed=tuple(committed), live=self._live)

    @staticmethod
    def _hold_partial_languages(blocks: list[_Block], n_full_lines: int) -> None:
        """A fence whose opening line is still arriving (```py...) is drawn without a language.

        Its name may be cut short ("p" of "python"), and Pygments looks an
        unknown name up in every installed plugin, which can take a quarter
        of a second the first time.
        """
        # Only the last block can hold a fence that starts on the last line.
        for block in blocks[-1:]:
            if block.end <= n_full_lines:
                continue
            for i, token in enumerate(block.tokens):
                if (
                    token.type == "fence"
                    and token.info
                    and token.map
                    and token.map[0] >= n_full_lines
                ):
                    block.tokens[i] = token.copy(info="")

    # --- an open code block ---

    def _watch_open_fence(self, blocks: list[_Block]) -> bool:
        """Whether the open region is one code fence still open, now drawn by a `CodeView`.

        Such a block only grows until a line closes it, so until text with
        its fence character arrives it need not be parsed again, and its
        lines are rendered one by one as they are finished.
        """
        from .codeview import CodeView

        token = blocks[0].tokens[0]
        if len(blocks) != 1 or token.type != "fence":
            self._code = None
            return False
        # Blank lines before the fence (the one after a block committed as
        # it ended) belong to no block: the fence starts at its own line.
        blank = _BLANK_LINES.match(self._open)
        start = blank.end() if blank is not None else 0
        first_line, _, content = self._open[start:].partition("\n")
        if not (
            first_line.startswith(token.markup)  # not indented: content is the source
            and token.content == content  # no closing line yet
            and content.strip()
        ):
            self._code = None
            return False
        if self._code is None or (self._code.width != self.width and not self._n_lines_skipped):
            lexer_name = token.info.partition(" ")[0] or "text"  # as rich's CodeBlock
            self._view.width = self.width
            self._code = CodeView(
                self._view.console(), lexer_name, self.code_theme, self.color_system
            )
            # The row above the code (a blank line, or none) depends on the
            # block before: rendered once for each.
            key = (self.width, self.code_theme, self._separate)
            if key not in self._code_frames:
                sample = self._view.render([token.copy(content="x\n")], separate=self._separate)
                self._code_frames[key] = sample[:-1]
            self._code_head = self._code_frames[key]
            self._fence_char = token.markup[0]
        self._code_start = start + len(first_line) + 1
        self._code_seen = len(self._open)
        return True

    def _fence_drawn(self, done: list[_Block]) -> list[str] | None:
        """A code fence that just closed, as its view drew it: if that is how it is drawn whole."""
        if self._code is None or len(done) != 1 or not self.render_live:
            return None
        token = done[0].tokens[0]
        if token.type != "fence":
            return None
        rows = self._code.whole_rows(token.content)
        if rows is None:
            return None
        return [*self._code_head, *rows]

    def _fence_still_open(self) -> bool:
        if self._code is None or not self.render_live:
            return False
        if self._fence_char in self._open[self._code_seen :]:
            return False  # it may close: parse again
        self._code_seen = len(self._open)
        return True

    def _code_rows(self) -> list[str]:
        assert self._code is not None
        code = self._open[self._code_start :]
        start = code.rfind("\n") + 1
        last_line = code[start:].strip(" ")
        if last_line and not last_line.lstrip(self._fence_char):
            code = code[:start]  # the closing fence, coming: not code to show
        rows = self._code.rows(code)
        return [*self._code_head, *rows]

    def _n_finished(self, blocks: list[_Block]) -> int:
        """How many blocks are finished: those before the last block that starts on a full line.

        A code fence whose closing line is complete is finished too: no
        later line can change it (it is not a paragraph). So is a paragraph,
        heading, block quote or table followed by a complete blank line:
        CommonMark ends these at a blank line (4.8, 4.2, 5.1; GFM 4.10), and
        nothing after it can reach back into them (unlike a list, whose item
        may go on after one) — but a link reference definition (4.7), so a
        block that may use one (a ``]`` not followed by ``(``) waits for the
        next block, as any other, in case its definitions come right after it.
        """
        n_full_lines = self._open.count("\n")
        for i in range(len(blocks) - 1, -1, -1):
            block = blocks[i]
            token = block.tokens[0]
            if (
                token.type == "fence"
                and block.end <= n_full_lines
                and block.end - block.line == token.content.count("\n") + 2
            ):
                return i + 1  # its closing line is complete
            if (
                token.type in _ENDED_BY_A_BLANK_LINE
                and block.end < n_full_lines
                and self._is_blank(block.end)
                and not _may_use_a_definition(
                    self._open[self._line_offset(block.line) : self._line_offset(block.end)]
                )
            ):
                return i + 1
            if i and block.line < n_full_lines:
                return i
        return 0

    def _is_blank(self, line: int) -> bool:
        start = self._line_offset(line)
        return not self._open[start : self._open.index("\n", start)].strip()

    def _parse(self, source: str) -> list[_Block]:
        """The open region's top-level blocks (inline content is parsed when rendered)."""
        env = dict(self._env)
        if "references" in env:
            env["references"] = dict(env["references"])  # the open region's own are not kept
        blocks: list[_Block] = []
        for token in self._parser.parse(source, env):
            if token.level == 0 and token.nesting >= 0:
                assert token.map is not None, token
                blocks.append(_Block(token.map[0], token.map[1]))
            if (
                token.type == "fence"
                and token.info
                # the name rich's CodeBlock gives Pygments (and `_watch_open_fence`)
                and not builtin_language(token.info.partition(" ")[0])
            ):
                token = token.copy(info="")  # see builtin_language
            blocks[-1].tokens.append(token)
        self._parse_env = env
        references = env.get("references")
        self._refs = repr(sorted(references.items())) if references else None
        return blocks

    def _remember_references(self, committed_source: str) -> None:
        """Keep the link reference definitions of text now committed, for later blocks."""
        if "]:" not in committed_source:  # a definition is "[label]:" (CommonMark 4.7)
            return
        self._parser.parse(committed_source, self._env)

    def _line_offset(self, line: int) -> int:
        offset = 0
        for _ in range(line):
            offset = self._open.index("\n", offset) + 1
        return offset

    @staticmethod
    def _separates(block: _Block) -> bool:
        """Whether rich puts a blank line after this block, before the next one."""
        from rich.markdown import Markdown, UnknownElement

        element = Markdown.elements.get(block.tokens[0].type, UnknownElement)
        return element.new_line

    # --- rendering ---

    def _render(self, blocks: list[_Block], *, exact: bool = False) -> list[str]:
        """Consecutive blocks (with the blank line due before the first).

        On a terminal, block by block through the view, which keeps what it
        rendered of them while they were live; off one, each finished block
        rendered once, whole.

        Args:
            exact: the blocks are being committed: no speculative rows.
        """
        view = self._view
        view.width = self.width
        if not self.render_live:
            tokens = [token for block in blocks for token in block.tokens]
            self._parser.fill(tokens, self._parse_env, self._refs)
            return view.render(tokens, separate=self._separate)
        lines: list[str] = []
        separate = self._separate
        for index, block in enumerate(blocks):
            self._last_block_at = (len(lines), separate, index)  # for _row_lane
            lines += view.lines(
                block.tokens,
                separate=separate,
                env=self._parse_env,
                refs=self._refs,
                index=index,
                exact=exact,
            )
            separate = self._separates(block)
        return lines
