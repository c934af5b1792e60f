"""An open Markdown paragraph drawn from its cut: the lines above it are final, only those after it are drawn.

Theory of operation: rich renders a paragraph as one `Text`, built from the
paragraph's inline tokens (rich/markdown.py, ``Markdown.__rich_console__``:
text, emphasis and code as styled spans, a soft break as a space, a link as
its text and URL) and wrapped greedily at the width (``rich._wrap.
divide_line``: a line ends where the next word does not fit). Two things
follow. A line is final once the word after it is complete, and the text
before it is final. And the text after a line break, wrapped on its own,
gives the same lines as the whole text gives there. So an open paragraph
keeps a *cut*: a line start before which the inline parse is settled
(`mdparse.parse_inline`: no emphasis, code span or link is open there) and
the line breaks are decided; the rows before it are kept, the text after it
is parsed and drawn each frame, and the cut moves on to the last row whose
first word is complete and settled.

The drawing is rich's, without its Markdown walk: the `Text` is built here
token by token as rich builds it, wrapped and rendered by rich
(`Console.render_lines`), and put inside its containers as rich's
``ListItem`` and ``BlockQuote`` do (a bullet, number or padding before each
line, the container's style over it all, padded to its width). The tests
compare every row with rich rendering the text so far at once.

An opener that stays unresolved for long (a ``*`` with no closer, a lone
backtick) would keep every row after it live; past `SPECULATE_ROWS` rows the
rows above it are kept anyway, and marked *speculative*: a block is
committed from exact rows only (`ParagraphView.lines` with ``exact``), so
what goes into the scrollback is rich's rendering, while the live rows
above such an opener may miss a style that a closer far below it brings.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .mdparse import closed_inline, parse_inline

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    from rich.console import Console
    from rich.segment import Segment
    from rich.style import Style
    from rich.text import Text

__all__ = ["SPECULATE_ROWS", "Container", "ParagraphView", "ansi", "draw", "inline_text", "wrap"]

SPECULATE_ROWS = 12  # live rows past an unresolved opener before the rows above it are kept

_STYLED = frozenset({"em", "strong", "code", "s"})  # rich.markdown.Markdown.inlines


@dataclass(frozen=True, slots=True)
class Container:
    """A list item or block quote around a paragraph, as rich draws it.

    Attributes:
        kind: ``"quote"``, ``"bullet"`` (an item of a bullet list) or
            ``"number"`` (an item of an ordered list).
        number: the item's number.
        number_width: the cells rich gives numbers: the last number's
            digits and two (``ListItem.render_number``).
        continued: the paragraph does not start the item: its first line
            gets padding, not the bullet or number.
    """

    kind: Literal["quote", "bullet", "number"]
    number: int = 0
    number_width: int = 0
    continued: bool = False


# --- rich's paragraph, drawn directly ---


def inline_text(
    console: Console,
    children: Sequence[Token],
    style: Style,
    *,
    justify: Any = "left",
    hyperlinks: bool,
) -> tuple[Text, list[tuple[int, Token]]] | None:
    """The `Text` rich builds from these inline tokens, and the token of each piece of it.

    rich/markdown.py (``Markdown.__rich_console__``, ``MarkdownContext``):
    text in the style of the elements around it (`style`: a paragraph's,
    over its containers'; none for a table cell), emphasis, code and
    ``<kbd>`` as styles over it, a soft break as a space, a link as its
    text and URL, or as an OSC 8 hyperlink. None for a token this does not
    draw as rich does (an image: rich draws it apart).
    """
    from rich.style import Style
    from rich.text import Text

    get_style = console.get_style
    stack = [style]
    text = Text("", justify=justify)
    marks: list[tuple[int, Token]] = []
    link: tuple[Text, str] | None = None  # a link's text collected (without hyperlinks)

    def put(piece: str, token: Token) -> None:
        if link is not None:
            link[0].append(piece, stack[-1])
        else:
            marks.append((len(text), token))
            text.append(piece, stack[-1])

    for token in children:
        kind = token.type
        if token.children or kind == "image":
            return None
        if kind == "text":
            put(token.content, token)
        elif kind == "softbreak":
            put(" ", token)
        elif kind == "hardbreak":
            put("\n", token)
        elif kind == "link_open":
            marks.append((len(text), token))  # where the link's text will start
            href = str(token.attrs.get("href", ""))
            if hyperlinks:
                stack.append(
                    stack[-1] + get_style("markdown.link_url", default="none") + Style(link=href)
                )
            else:
                link = (Text(""), str(token.attrs.get("href", "#")))
        elif kind == "link_close":
            if hyperlinks:
                stack.pop()
            elif link is not None:
                link_text, url = link
                link = None
                stack.append(stack[-1] + get_style("markdown.link", default="none"))
                put(link_text.plain, token)
                stack.pop()
                put(" (", token)
                stack.append(stack[-1] + get_style("markdown.link_url", default="none"))
                put(url, token)
                stack.pop()
                put(")", token)
        elif kind == "html_inline":
            if token.content == "<kbd>":
                stack.append(stack[-1] + get_style("markdown.kbd", default="bold"))
            elif token.content == "</kbd>":
                if len(stack) == 1:
                    return None  # rich would pop a style this does not hold
                stack.pop()
        elif token.tag in _STYLED:
            if token.nesting == 1:
                marks.append((len(text), token))  # where its text will start
                stack.append(stack[-1] + get_style(f"markdown.{token.tag}", default="none"))
            elif token.nesting == -1:
                stack.pop()
            else:
                stack.append(stack[-1] + get_style(f"markdown.{token.tag}", default="none"))
                if token.content:
                    put(token.content, token)
                stack.pop()
        else:
            return None
    return text, marks


def wrap(
    console: Console, text: Text, width: int, *, fold: bool = True
) -> tuple[list[list[Segment]], list[int]] | None:
    """`text`'s rows at `width` as rich renders them, and where each row starts in it.

    ``Text.__rich_console__`` with ``Text.wrap`` (rich/text.py) for a
    left-justified paragraph (or table cell: ``fold`` false, as for rich's
    "ellipsis" overflow): each line cut where ``divide_line`` says,
    whitespace beyond the width cut off (``rstrip_end``, which counts
    characters), padded with blanks to the width (``Lines.justify``, or
    ``render_lines`` padding, both unstyled here). The styles are those of
    the whole text's segments, cut at the rows' ends. The row starts say
    where the rows' words are (see `_next_cut`). None for text with a tab
    (rich expands it first) or a row rich would crop.
    """
    from rich._wrap import divide_line
    from rich.cells import cell_len
    from rich.segment import Segment

    plain = text.plain
    if "\t" in plain:
        return None
    starts: list[int] = []
    bounds: list[tuple[int, int, int]] = []  # each row's start, end and padding
    offset = 0
    for line in plain.split("\n"):
        row_starts = [offset, *(offset + b for b in divide_line(line, width, fold=fold))]
        line_end = offset + len(line)
        for i, start in enumerate(row_starts):
            end = row_starts[i + 1] if i + 1 < len(row_starts) else line_end
            if end - start > width:  # rstrip_end: whitespace beyond the width, in characters
                blanks = end - start - len(plain[start:end].rstrip())
                end -= min(blanks, end - start - width)
            cells = cell_len(plain[start:end])
            if cells > width:
                return None  # rich crops it (``truncate``)
            bounds.append((start, end, width - cells))
        starts.extend(row_starts)
        offset = line_end + 1
    segments = list(text.render(console))
    rows: list[list[Segment]] = []
    k = seg_start = 0
    n = len(segments)
    for start, end, pad in bounds:
        while k < n and seg_start + len(segments[k].text) <= start:
            seg_start += len(segments[k].text)
            k += 1
        row: list[Segment] = []
        j, j_start = k, seg_start
        while j < n and j_start < end:
            piece, style, control = segments[j]
            a, b = max(start - j_start, 0), min(end - j_start, len(piece))
            if b > a:
                row.append(
                    Segment(piece[a:b], style, control) if b - a != len(piece) else segments[j]
                )
            j_start += len(piece)
            j += 1
        if pad:
            row.append(Segment(" " * pad))
        rows.append(row)
    return rows, starts


def _draw(
    console: Console,
    text: Text,
    containers: Sequence[Container],
    styles: list[Style],
    color_system: Any,
) -> tuple[list[str], list[int] | None]:
    """The lines of a paragraph's `text` inside its containers, as ANSI text; where its rows start.

    rich renders a container's children at its width less its prefix, with
    its style applied to them and padding to that width
    (``Console.render_lines``), then puts its prefix before each line; the
    container around it does the same with those lines.
    """
    from rich.segment import Segment

    get_style = console.get_style
    widths = [console.width]
    for container in containers:
        width = widths[-1]
        if container.kind == "quote":
            widths.append(width - 4)
        elif container.kind == "bullet":
            widths.append(width - 3)
        else:
            widths.append(width - container.number_width)
    wrapped = wrap(console, text, widths[-1]) if widths[-1] >= 1 else None
    starts = None
    rows: list[list[Segment]]
    if wrapped is None:
        options = console.options.update(width=widths[-1], height=None)
        segments = list(console.render(text, options))
        if styles[-1]:
            segments = list(Segment.apply_style(segments, styles[-1]))
        rows = list(
            Segment.split_and_crop_lines(
                segments,
                widths[-1],
                style=styles[-1],
                pad=bool(containers),
                include_new_lines=False,
            )
        )
    else:
        rows, starts = wrapped
        if containers and styles[-1]:
            rows = [list(Segment.apply_style(row, styles[-1])) for row in rows]
    if not containers:
        return [ansi(row, color_system) for row in rows], starts
    for depth in range(len(containers) - 1, -1, -1):
        container = containers[depth]
        style = styles[depth + 1]  # rich's combined style of that container
        if container.kind == "quote":
            first = rest = Segment("▌ ", style)
        elif container.kind == "bullet":
            bullet = get_style("markdown.item.bullet", default="none")
            first, rest = Segment(" • ", bullet), Segment("   ", bullet)
        else:
            number = get_style("markdown.item.number", default="none")
            width = container.number_width
            rest = Segment(" " * width, number)
            first = Segment(f"{container.number}".rjust(width - 1) + " ", number)
        if container.continued:
            first = rest
        rows = [[first if i == 0 else rest, *row] for i, row in enumerate(rows)]
        if depth:
            outer = styles[depth]
            rows = [
                Segment.adjust_line_length(
                    list(Segment.apply_style(row, outer)), widths[depth], style=outer
                )
                for row in rows
            ]
        else:
            rows = [Segment.adjust_line_length(row, widths[0], pad=False) for row in rows]
    return [ansi(row, color_system) for row in rows], starts


def ansi(segments: list[Segment], color_system: Any) -> str:
    """Segments as the Console writes them (``Console._render_buffer``), OSC 8 ids left out."""
    line = "".join(
        style.render(text, color_system=color_system) if style else text
        for text, style, _ in segments
    )
    if "\x1b]8;id=" in line:
        from ._lazy_regex import pattern

        line = pattern(r"\x1b\]8;id=[^;\x07\x1b]*;").sub("\x1b]8;;", line)
    return line


def draw(
    console: Console,
    children: Sequence[Token],
    containers: Sequence[Container],
    color_system: Any,
    *,
    hyperlinks: bool,
) -> list[str] | None:
    """The lines of a finished paragraph of these inline tokens, in `containers`.

    None for a paragraph rich draws otherwise (an image in it).
    """
    styles = _styles(console, containers)
    built = inline_text(
        console,
        children,
        styles[-1] + console.get_style("markdown.paragraph", default="none"),
        hyperlinks=hyperlinks,
    )
    if built is None:
        return None
    return _draw(console, built[0], containers, styles, color_system)[0]


def _styles(console: Console, containers: Sequence[Container]) -> list[Style]:
    """rich's style stack inside each container: the base, then each container's own over it."""
    from rich.style import Style

    styles = [Style.null()]  # Markdown(style="none")
    for container in containers:
        name = "markdown.block_quote" if container.kind == "quote" else "markdown.item"
        styles.append(styles[-1] + console.get_style(name, default="none"))
    return styles


# --- the cut ---


def _source_offset(marks: list[tuple[int, Token]], mark_offsets: list[int], p: int) -> int | None:
    """Where in the source the text drawn at `p` comes from, when a top-level token tells.

    At the start of a top-level token (text, a code span, emphasis, a link),
    or inside a top-level text whose characters are the source's own
    (`parse_inline` put their offset in its meta).
    """
    i = bisect_left(mark_offsets, p)
    if i < len(marks) and mark_offsets[i] == p:
        token = marks[i][1]  # the first piece that starts there: the outermost
        if token.level == 0 and "at" in token.meta:
            return int(token.meta["at"])
        return None
    if i == 0:
        return None
    at_mark, token = marks[i - 1]
    within = p - at_mark
    if (
        token.type in ("text", "softbreak")
        and token.level == 0
        and "at" in token.meta
        and within < len(token.content or " ")
    ):
        return int(token.meta["at"]) + within
    return None


def _next_cut(
    text: Text,
    marks: list[tuple[int, Token]],
    starts: list[int],
    settled: int,
    n_rows: int,
    max_row: int,
) -> tuple[int, int] | None:
    """The latest row of a paragraph before which everything is final.

    A row's start is final when the text before it and its first word are
    (the word decided the break before it by not fitting: rich's
    ``divide_line``): the parse must be settled up to the space after that
    word, and nothing may be open where the row starts (a top-level token
    starts there, or a top-level text goes on).

    Args:
        text: the paragraph's text as drawn, `marks` the token of each piece.
        starts: where in its text each row starts (see `wrap`).
        settled: how far the source's parse is final (`InlineParse.settled`).
        n_rows: the rows drawn.
        max_row: the latest row a cut may be at (the last row is never final).

    Returns:
        (rows before the cut, the cut's offset in the source), or None.
    """
    plain = text.plain
    if len(starts) != n_rows:
        return None
    mark_offsets = [m[0] for m in marks]
    for row in range(min(max_row, n_rows - 1), 0, -1):
        p = starts[row]
        if p >= len(plain) or plain[p].isspace() or not plain[p - 1].isspace():
            # Not at the start of a word: inside a word folded across rows,
            # or at the blank a folded word left on a row of its own. Wrapped
            # on its own from there, the text would not fold the same way.
            continue
        at = _source_offset(marks, mark_offsets, p)
        if at is None:
            continue
        end = p
        while end < len(plain) and not plain[end].isspace():
            end += 1
        if end >= len(plain):
            continue  # the row's first word may still grow
        end_at = _source_offset(marks, mark_offsets, end)
        if end_at is not None and end_at <= settled:
            return row, at
    return None


@dataclass(slots=True)
class _State:
    """An open paragraph's rows before its cut, and the source they came from."""

    source: str = ""  # the paragraph's inline text up to the cut
    rows: list[str] = field(default_factory=list)
    # The last cut that is not speculative: how much of the source, how many rows.
    n_exact_chars: int = 0
    n_exact_rows: int = 0


class ParagraphView:
    """Open paragraphs, each drawn from its cut.

    Args:
        md: the parser (see `mdparse.new_parser`).
        console: the Console to draw with (its width and theme).
        color_system: rich's `ColorSystem`, or None for no escape sequences.
        hyperlinks: links as OSC 8 hyperlinks.
    """

    def __init__(self, md: MarkdownIt, *, hyperlinks: bool) -> None:
        self.md = md
        self.hyperlinks = hyperlinks
        self._states: dict[Any, _State] = {}
        self.n_chars_parsed = 0  # for tests
        self.n_chars_drawn = 0  # for tests

    def forget(self) -> None:
        """The paragraphs drawn so far are committed."""
        self._states.clear()

    def lines(
        self,
        source: str,
        env: MutableMapping[str, Any],
        console: Console,
        color_system: Any,
        containers: Sequence[Container],
        *,
        key: Any,
        separate: bool = False,
        exact: bool = False,
        closing: bool = True,
    ) -> list[str] | None:
        """The lines of a paragraph whose inline text is `source`, in `containers`.

        Args:
            key: where the paragraph is (its state is kept for that place).
            separate: a blank line before it (a top-level paragraph after
                a block whose element asks for one).
            exact: the paragraph is being committed: no speculative rows.
            closing: while it is open, draw what it leaves open as if closed
                (`mdparse.closed_inline`), unless an opener has stayed open
                for more than `SPECULATE_ROWS` rows: then the rows above
                are kept as they are, with the opener as text.

        Returns:
            The lines, or None for a paragraph rich draws otherwise (an image in it).
        """
        if "![" in source:
            return None  # rich draws an image apart from its paragraph's text
        state = self._states.get(key)
        if state is None or not source.startswith(state.source) or "\t" in source:
            # rich expands a tab to the next stop of its whole line, which
            # text before the cut decides: such a paragraph is drawn whole.
            state = _State()
        elif exact and state.n_exact_chars != len(state.source):
            state = _State(
                source[: state.n_exact_chars],
                state.rows[: state.n_exact_rows],
                state.n_exact_chars,
                state.n_exact_rows,
            )
        cut = len(state.source)
        piece = source[cut:]
        n_own = settled = len(piece)  # how far the text is its own; how far it is final
        closed = closed_inline(piece) if closing and not exact else None
        if closed is not None and len(piece) - closed[2] > (SPECULATE_ROWS - 2) * console.width:
            closed = None  # open for more rows than are drawn again (see below)
        if closed is not None:  # drawn as if what it opened were closed
            piece, _, settled = closed
            n_own = settled  # the rows after the first opener are drawn as closed
        parsed = parse_inline(self.md, piece, env)
        settled = min(parsed.settled, settled)
        self.n_chars_parsed += len(piece)
        self.n_chars_drawn += len(piece)
        if cut:
            containers = [
                Container(c.kind, c.number, c.number_width, continued=True) for c in containers
            ]
        styles = _styles(console, containers)
        built = inline_text(
            console,
            parsed.children,
            styles[-1] + console.get_style("markdown.paragraph", default="none"),
            hyperlinks=self.hyperlinks,
        )
        if built is None:
            return None
        text, marks = built
        rows, starts = _draw(console, text, containers, styles, color_system)
        lead = [""] if separate and not cut else []  # rich's blank line before it
        shown = [*state.rows, *lead, *rows]
        self._states[key] = state
        if starts is None:
            return shown  # no cut where rich expands tabs first
        n_rows = len(rows)
        speculative = state.n_exact_chars != cut
        found = _next_cut(text, marks, starts, settled, n_rows, n_rows - 1)
        if found is None and n_rows > SPECULATE_ROWS and not exact:
            # An opener unresolved for long: keep the rows well above the
            # last anyway, and remember that they are a guess.
            found = _next_cut(text, marks, starts, n_own, n_rows, n_rows - SPECULATE_ROWS)
            speculative = True
            if found is None and closed is not None:
                # Kept rows cannot be found in the closed text's drawing (a
                # row inside the emphasis has no place in the source): drawn
                # as it is, if that keeps rows; else as closed, whole.
                as_text = self.lines(
                    source, env, console, color_system, containers,
                    key=key, separate=separate, closing=False,
                )  # fmt: skip
                if self._states[key] is not state:
                    return as_text
        if found is not None:
            row, offset = found
            new = _State(source[: cut + offset], shown[: len(state.rows) + len(lead) + row])
            if speculative:
                new.n_exact_chars, new.n_exact_rows = state.n_exact_chars, state.n_exact_rows
            else:
                new.n_exact_chars, new.n_exact_rows = len(new.source), len(new.rows)
            self._states[key] = new
        return shown
