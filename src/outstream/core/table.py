"""A Markdown table drawn row by row: a row's lines once for each set of column widths.

Theory of operation: rich draws a Markdown table (rich/markdown.py,
``TableElement``) as a `rich.table.Table` with the SIMPLE box, no padding at
its edges and collapsed padding between columns. Its column widths come
from each column's widest cell and longest word, header included
(``Table._measure_column``: the largest minimum and maximum over the
column's cells), and every body row is drawn alike at those widths: each
cell wrapped at its column's width, padded to the row's height, between
blank edges and dividers in the border style (``Table._render``). So
`TableView` keeps each cell's `Text` and measurements (built once per cell
text), works the widths out from the largest measurements with rich's own
``Table._calculate_column_widths`` (its measuring of every cell replaced by
those largest measurements: `_column_measure`), renders each cell once per
column width (a left-aligned cell that fits, once: a wider column only
pads it; one line of it is its segments, without rich's wrapping; one that
wraps is cut into rows by the paragraph's `paragraph.wrap`), and puts each
row's lines together from its cells' lines. The rows of an open table
whose widths did not change are not drawn again; when a row widens a
column, only that column's cells that wrap are. The header is drawn the
same way, its cells in the header style and at the bottom of their row,
between the SIMPLE box's top edge and the rule below it, once per widths.

The tests compare every frame with rich rendering the text so far at once.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .paragraph import ansi, inline_text, wrap

if TYPE_CHECKING:
    from markdown_it.token import Token
    from rich.console import Console
    from rich.style import Style
    from rich.text import Text

    from .mdparse import BlockParser

__all__ = ["TableView"]

_MAX_CELLS = 8192  # cells and cell renders kept


class _Row:
    """A table row: its cells (None if one cannot be drawn here), their widths' maxima, its lines."""

    __slots__ = ("cells", "drawn", "least", "most", "n_cells", "refs", "token")

    def __init__(self, token: Token, refs: Any, n_cells: int, cells: list[_Cell] | None) -> None:
        self.token = token  # its tr_open, kept alive so that its id stays its own
        self.refs = refs
        self.n_cells = n_cells
        self.cells = cells
        self.most = tuple(cell.most for cell in cells) if cells else ()
        self.least = tuple(cell.least for cell in cells) if cells else ()
        self.drawn: dict[tuple[int, ...], list[str]] = {}  # its lines at each set of widths


@dataclass(frozen=True, slots=True)
class _Cell:
    """A cell's text as rich builds it, and its least and most width (``Text.__rich_measure__``)."""

    key: tuple[Any, ...]  # what it was built from
    text: Text
    least: int
    most: int


def _justify(token: Token) -> str:
    """A cell's justification, from its alignment (``TableDataElement.create``)."""
    style = str(token.attrs.get("style", ""))
    for align in ("right", "center", "left"):
        if f"text-align:{align}" in style:
            return align
    return "default"


class TableView:
    """Tables of the open region, each row drawn once for each set of column widths.

    Args:
        parser: parses the cells' inline content (and caches it).
        hyperlinks: links as OSC 8 hyperlinks.
    """

    def __init__(self, parser: BlockParser, *, hyperlinks: bool) -> None:
        self.parser = parser
        self.hyperlinks = hyperlinks
        self._cells: dict[tuple[Any, ...], _Cell | None] = {}
        self._drawn: dict[tuple[Any, ...], list[str]] = {}
        self._widths: dict[tuple[Any, ...], list[int]] = {}
        self._rows: dict[int, _Row] = {}
        self.n_renders = 0  # tables rich rendered (for tests)
        self.n_cells_drawn = 0  # cells rendered (for tests)

    def forget(self) -> None:
        """The tables drawn so far are committed."""
        self._cells.clear()
        self._drawn.clear()
        self._widths.clear()
        self._rows.clear()

    def lines(
        self,
        tokens: list[Token],
        env: MutableMapping[str, Any],
        refs: Any,
        console: Console,
        color_system: Any,
    ) -> list[str] | None:
        """The lines of a top-level table, without the blank line rich puts before it.

        None for a table this does not draw (one without a header, a cell
        rich would draw otherwise).
        """
        header, rows = self._parts(tokens, env, refs, console)
        if header is None or header.cells is None or any(row.cells is None for row in rows):
            return None
        widths = self._column_widths(header, rows, console)
        top = self._header(header, widths, console, color_system)
        lines = top[:-1]
        for row in rows:
            drawn = row.drawn.get(widths)
            if drawn is None:
                drawn = row.drawn[widths] = self._row(row, widths, console, color_system)
            lines += drawn
        lines.append(top[-1])
        return lines

    # --- tokens to cells ---

    def _parts(
        self, tokens: list[Token], env: MutableMapping[str, Any], refs: Any, console: Console
    ) -> tuple[_Row | None, list[_Row]]:
        """The header row and the body rows."""
        header: _Row | None = None
        rows: list[_Row] = []
        in_head = False
        i, n = 0, len(tokens)
        while i < n:
            token = tokens[i]
            if token.type != "tr_open":
                if token.type == "thead_open":
                    in_head = True
                elif token.type == "thead_close":
                    in_head = False
                i += 1
                continue
            # A row's tokens are kept from frame to frame once it is final
            # (mdparse's checkpoints): it is looked up by its token.
            seen = self._rows.get(id(token))
            if seen is not None and seen.token is token and seen.refs == refs:
                row = seen
                i += 2 + 3 * row.n_cells
            else:
                cells: list[tuple[Token, Token]] = []
                i += 1
                while tokens[i].type != "tr_close":
                    if tokens[i].nesting == 1 and tokens[i + 1].type == "inline":
                        cells.append((tokens[i], tokens[i + 1]))
                    i += 1
                i += 1
                built = [
                    self._cell(td, inline, env, refs, console, header=in_head)
                    for td, inline in cells
                ]
                row = _Row(token, refs, len(cells), None if None in built else built)  # type: ignore[arg-type]
                if len(self._rows) >= _MAX_CELLS:
                    self._rows.clear()
                self._rows[id(token)] = row
            if in_head:
                header = row
            else:
                rows.append(row)
        return header, rows

    def _cell(
        self,
        td: Token,
        inline: Token,
        env: MutableMapping[str, Any],
        refs: Any,
        console: Console,
        *,
        header: bool = False,
    ) -> _Cell | None:
        justify = _justify(td)
        key = (inline.content, justify, header, refs)
        if key in self._cells:
            return self._cells[key]
        children = self.parser.children(inline, env, refs)
        from rich.style import Style

        built = inline_text(
            console, children, Style.null(), justify=justify, hyperlinks=self.hyperlinks
        )
        cell = None
        if built is not None:
            text = built[0]
            if header:  # TableElement: column.content.copy(), stylized
                text = text.copy()
                text.stylize("markdown.table.header")
            measure = text.__rich_measure__(console, console.options)
            cell = _Cell(key, text, min(measure.minimum, measure.maximum), measure.maximum)
        if len(self._cells) >= _MAX_CELLS:
            self._cells.clear()
        self._cells[key] = cell
        return cell

    # --- widths ---

    def _column_widths(self, head: _Row, body: list[_Row], console: Console) -> tuple[int, ...]:
        """rich's column widths for this table: those of the header and the rows with the maxima."""
        most = list(head.most)
        least = list(head.least)
        n_columns = len(most)
        for row in body:
            row_most, row_least = row.most, row.least
            for c in range(min(n_columns, len(row_most))):
                if row_most[c] > most[c]:
                    most[c] = row_most[c]
                if row_least[c] > least[c]:
                    least[c] = row_least[c]
        key = (tuple(most), tuple(least), console.width)
        widths = self._widths.get(key)
        if widths is None:
            assert head.cells is not None
            table = _table(head.cells)
            # rich measures every cell of a column (``Table._measure_column``)
            # and takes the largest least and most widths; those are known.
            table._measure_column = _column_measure(table, least, most)
            options = console.options
            widths = table._calculate_column_widths(
                console, options.update_width(options.max_width - table._extra_width)
            )
            self._widths[key] = widths
        return tuple(widths)

    # --- drawing ---

    def _header(
        self, head: _Row, widths: tuple[int, ...], console: Console, color_system: Any
    ) -> list[str]:
        """The top edge, the header, the rule under it and the bottom edge (``Table._render``).

        The edges and the rule are the SIMPLE box's lines in the border
        style; the header cells are rendered as body cells are, in the
        table's header style, and aligned to the bottom of their row.
        """
        lines = head.drawn.get(widths)
        if lines is not None:
            return lines
        from rich import box
        from rich.segment import Segment

        assert head.cells is not None
        frame = box.SIMPLE.substitute(console.options, safe=console.safe_box)
        border = console.get_style("markdown.table.border", default="none")
        style = console.get_style("table.header")  # Table's header_style
        last = len(widths) - 1
        cells = []
        for c, width in enumerate(widths):
            cell = head.cells[c] if c < len(head.cells) else None
            right = 0 if c == last else 1
            cells.append(self._drawn_cell(cell, width, right, console, color_system, style))
        height = max(len(drawn) for drawn in cells)
        left_edge, right_edge, divider = (
            ansi([Segment(text, border)], color_system)
            for text in (frame.head_left, frame.head_right, frame.head_vertical)
        )
        rows = []
        for line in range(height):
            parts = [left_edge]
            for c, drawn in enumerate(cells):
                if c:
                    parts.append(divider)
                above = height - len(drawn)  # a header cell sits at the bottom of its row
                parts.append(
                    drawn[line - above]
                    if line >= above
                    else ansi([Segment(" " * widths[c], style)], color_system)
                )
            parts.append(right_edge)
            rows.append("".join(parts))
        self.n_renders += 1
        lines = [
            ansi([Segment(frame.get_top(list(widths)), border)], color_system),
            *rows,
            ansi([Segment(frame.get_row(list(widths), "head", edge=True), border)], color_system),
            ansi([Segment(frame.get_bottom(list(widths)), border)], color_system),
        ]
        head.drawn[widths] = lines
        return lines

    def _row(
        self, row: _Row, widths: tuple[int, ...], console: Console, color_system: Any
    ) -> list[str]:
        """A body row's lines: its cells side by side between blank edges (``Table._render``)."""
        from rich.segment import Segment

        last = len(widths) - 1
        border = console.get_style("markdown.table.border", default="none")
        edge = ansi([Segment(" ", border)], color_system)  # SIMPLE: blank edges and dividers
        cells: list[list[str]] = []
        assert row.cells is not None
        for c, width in enumerate(widths):
            cell = row.cells[c] if c < len(row.cells) else None
            right = 0 if c == last else 1  # _get_cells: collapsed padding, none at the edges
            # A left-aligned cell that fits is drawn alike at any width it
            # fits in, padded with blanks: drawn once, at the least of them.
            drawn_width = width
            if cell is not None and cell.key[1] in ("default", "left"):
                drawn_width = min(max(cell.most, 1) + right, width)
            drawn = self._drawn_cell(cell, drawn_width, right, console, color_system)
            if drawn_width < width:
                blank = " " * (width - drawn_width)
                drawn = [line + blank for line in drawn]
            cells.append(drawn)
        height = max(len(drawn) for drawn in cells)
        lines = []
        for line in range(height):
            parts = [edge]
            for c, drawn in enumerate(cells):
                parts.append(drawn[line] if line < len(drawn) else " " * widths[c])
                parts.append(edge)
            lines.append("".join(parts))
        return lines

    def _drawn_cell(
        self,
        cell: _Cell | None,
        width: int,
        right: int,
        console: Console,
        color_system: Any,
        style: Style | None = None,
    ) -> list[str]:
        """`_cell_lines`, drawn once for each cell, width and style (a header's or none)."""
        key = (cell.key if cell else None, width, right, style, console.width)
        drawn = self._drawn.get(key)
        if drawn is None:
            drawn = self._cell_lines(cell, width, right, console, color_system, style)
            self.n_cells_drawn += 1
            if len(self._drawn) >= _MAX_CELLS:
                self._drawn.clear()
            self._drawn[key] = drawn
        return drawn

    @staticmethod
    def _cell_lines(
        cell: _Cell | None,
        width: int,
        right: int,
        console: Console,
        color_system: Any,
        style: Style | None = None,
    ) -> list[str]:
        """A cell's lines at `width`, `right` blanks of padding included, in `style` (a row's)."""
        plain = cell.text.plain if cell is not None else ""
        if style is None and cell is not None and plain:
            if cell.most and cell.most + right == width and "\n" not in plain and "\t" not in plain:
                # What rich's wrap and padding come to for a cell that fits:
                # its one line as it is, then the padding.
                return [ansi(list(cell.text.render(console)), color_system) + " " * right]
            if cell.key[1] in ("default", "left") and width > right:
                # Wrapped as a paragraph is (without folding a long word: a
                # Column's overflow is "ellipsis"), then Padding's blanks.
                wrapped = wrap(console, cell.text, width - right, fold=False)
                if wrapped is not None:
                    return [ansi(row, color_system) + " " * right for row in wrapped[0]]
        from rich.padding import Padding

        renderable = Padding(cell.text if cell else "", (0, right, 0, 0))
        options = console.options.update(  # a Column's defaults
            width=width,
            justify="left",
            no_wrap=False,
            overflow="ellipsis",
            height=None,
            highlight=False,
        )
        return [
            ansi(line, color_system)
            for line in console.render_lines(renderable, options, style=style)
        ]


def _column_measure(table: Any, least: list[int], most: list[int]) -> Any:
    """``Table._measure_column`` for columns whose cells' largest measurements are known.

    rich measures each cell wrapped in its padding (``Padding.__rich_measure__``
    around ``Text.__rich_measure__``, through ``Measurement.get``) and takes the
    largest minimum and maximum: for a cell of widths (l, m) at most `W` wide
    with `e` cells of padding, ``min(min(l, W) + e, W)`` and the same of m,
    which grow with l and m, so the largest are those of the largest l and m.
    """
    from rich.measure import Measurement

    def measure(console: Any, options: Any, column: Any) -> Measurement:
        max_width = options.max_width
        if max_width < 1:
            return Measurement(0, 0)
        extra = table._get_padding_width(column._index)
        if max_width - extra < 1:
            return Measurement(max_width, max_width)
        i = column._index
        return Measurement(
            min(min(least[i], max_width) + extra, max_width),
            min(min(most[i], max_width) + extra, max_width),
        )

    return measure


def _table(head: list[_Cell]) -> Any:
    """The `Table` rich's ``TableElement`` builds, with its header only (for the column widths)."""
    from rich import box
    from rich.table import Table

    table = Table(
        box=box.SIMPLE,
        pad_edge=False,
        style="markdown.table.border",
        show_edge=True,
        collapse_padding=True,
    )
    for cell in head:
        table.add_column(cell.text)
    return table
