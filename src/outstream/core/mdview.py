"""The open Markdown block drawn piece by piece: what cannot change any more is rendered once.

Theory of operation: rich's `Markdown` renders a list item by item, a block
quote and a list item child block by child block, a table row by row at
column widths set by the widest cells, and a paragraph as one `Text`
wrapped greedily at the width. So the lines of an open block are the lines
of its pieces one after the other, and a piece's lines depend only on its
own tokens and on where it sits: the containers around it, the item's number
and the list's last number (which set the numbers' width), whether it
starts its item (the bullet) or continues it (the padding), a row's column
widths. `BlockView` renders each piece through rich inside copies of its
containers' tokens (so rich draws the bullets, padding and quote bars),
keeps the lines of every piece that is finished (a list item followed by
another, a paragraph followed by another block, a table row followed by
another) keyed by its tokens and its place, and renders again only the
piece still growing, down to its last paragraph, which `paragraph.
ParagraphView` draws from its cut. A block being committed is drawn from
the same pieces, so committing it costs little more than its last frame.

Every row is rich's: the tests compare each frame with rich rendering the
text so far at once.

Long (some 650 lines) for a reason: one view per kind of piece of an open
block (paragraph, list item, quote, table row, code) and the copies of
their containers they render in; each is short, and they share those copies.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from .mdparse import BlockParser, closed_inline
from .paragraph import Container, ParagraphView, draw
from .table import TableView
from .theme import DARK_STYLES, LIGHT_STYLES, Theme

if TYPE_CHECKING:
    from markdown_it.token import Token
    from rich.console import Console
    from rich.markdown import Markdown

__all__ = ["BlockView", "Palette", "Sink", "console", "lines_of", "separator"]

# The colours a rendering uses (None: none); `sinks.detect.ColorSystem` is what a
# terminal shows, "none" included.
Palette = Literal["standard", "256", "truecolor"]

_MAX_UNITS = 2048  # rendered pieces kept


class Sink:
    """Where the rich Console writes: a list, not a file."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def console(width: int, color_system: Palette | None, sink: Sink, theme: Theme = "dark") -> Console:
    """A rich Console that writes to `sink`, with every setting given, none read from the world.

    `theme`: the terminal's background, which sets rich's Markdown styles (`core.theme`).
    """
    from rich.console import Console

    return Console(
        theme=_rich_theme(theme),
        file=sink,  # type: ignore[arg-type]  # a write/flush object is all rich uses
        width=width,
        height=25,  # given, so that rich never asks the terminal (Markdown ignores it)
        color_system=color_system,
        force_terminal=True,
        force_jupyter=False,
        force_interactive=False,
        legacy_windows=False,
        _environ={},
    )


_RICH_THEMES: dict[Theme, Any] = {}


def _rich_theme(theme: Theme) -> Any:
    """rich's `Theme` with the styles of `theme` (`core.theme`), made once."""
    made = _RICH_THEMES.get(theme)
    if made is None:
        from rich.theme import Theme as RichTheme

        made = _RICH_THEMES[theme] = RichTheme(
            dict(LIGHT_STYLES if theme == "light" else DARK_STYLES)
        )
    return made


def _color_system(name: Palette | None) -> Any:
    """rich's `ColorSystem` for its name (what `Console` keeps as ``_color_system``)."""
    if name is None:
        return None
    from rich.color import ColorSystem as RichColorSystem

    return {
        "standard": RichColorSystem.STANDARD,
        "256": RichColorSystem.EIGHT_BIT,
        "truecolor": RichColorSystem.TRUECOLOR,
    }[name]


def separator() -> Token:
    """An empty HTML block: rich renders nothing for it but sets its ``new_line``.

    Rendering blocks on their own, rich starts as if nothing came before;
    this token makes it start as it would after a block whose element says
    to leave a blank line, which is where rich puts that line (a list gets
    its blank line from its own items, a paragraph from the block before).
    """
    from markdown_it.token import Token

    return Token("html_block", "", 0)


def lines_of(text: str) -> list[str]:
    """Rendered text as lines, OSC 8 hyperlinks without rich's random ids."""
    if "\x1b]8;id=" in text:  # ECMA-48 OSC; the id is optional
        from ._lazy_regex import pattern

        text = pattern(r"\x1b\]8;id=[^;\x07\x1b]*;").sub("\x1b]8;;", text)
    if not text:
        return []
    return text.removesuffix("\n").split("\n")


# --- rich, taught to draw a piece of a list ---


def _markdown_class() -> type[Markdown]:
    """rich's `Markdown`, with three of its elements extended (rich/markdown.py, MIT).

    A list whose open token carries ``meta["last_number"]`` numbers its
    items for a list that long (one item of a long list); a list item whose
    open token carries ``meta["continued"]`` starts with padding, not its
    bullet (a later piece of the item); a code block is drawn by
    `codeview.code_lines`: its lines whole, without padding or background,
    cropped with a mark at the width if the Markdown's ``crop_code`` says
    so (and always inside a list or quote, whose lines rich crops anyway,
    where a blank row above and below sets it apart).
    """
    from rich.markdown import CodeBlock, ListElement, ListItem, Markdown, MarkdownElement
    from rich.segment import Segment

    from .codeview import code_lines

    class _Code(CodeBlock):
        crop = True

        @classmethod
        def create(cls, markdown: Markdown, token: Token) -> CodeBlock:
            element = super().create(markdown, token)
            assert isinstance(element, _Code)
            element.crop = getattr(markdown, "crop_code", True)
            return element

        def __rich_console__(self, console: Console, options: Any) -> Iterator[Any]:
            width = options.max_width
            nested = width < console.width  # in a list item or a quote
            new_line = Segment.line()
            # rich sets a top-level block apart with a blank line, but not an
            # item's blocks: there a blank row above and below does, as rich's
            # padding did.
            if nested:
                yield new_line
            for line in code_lines(str(self.text), self.lexer_name, self.theme, console,
                                   width if self.crop or nested else None):  # fmt: skip
                yield from line
                yield new_line
            if nested:
                yield new_line

    class _List(ListElement):
        last_number: int | None = None

        @classmethod
        def create(cls, markdown: Markdown, token: Token) -> ListElement:
            element = super().create(markdown, token)
            assert isinstance(element, _List)
            element.last_number = token.meta.get("last_number") if token.meta else None
            return element

        def __rich_console__(self, console: Console, options: Any) -> Iterator[Any]:
            if self.last_number is None or self.list_type != "ordered_list_open":
                yield from super().__rich_console__(console, options)
                return
            number = 1 if self.list_start is None else self.list_start
            for index, item in enumerate(self.items):
                yield from item.render_number(console, options, number + index, self.last_number)

    class _Item(ListItem):
        continued = False

        @classmethod
        def create(cls, markdown: Markdown, token: Token) -> ListItem:
            item = cls()
            item.continued = bool(token.meta.get("continued")) if token.meta else False
            return item

        def _padded(self, segments: Iterator[Any]) -> Iterator[Any]:
            # The first segment is the bullet or number: the same cells, blank.
            first = next(segments, None)
            if first is not None:
                yield Segment(" " * len(first.text), first.style) if self.continued else first
            yield from segments

        def render_bullet(self, console: Console, options: Any) -> Iterator[Any]:
            yield from self._padded(iter(super().render_bullet(console, options)))

        def render_number(
            self, console: Console, options: Any, number: int, last_number: int
        ) -> Iterator[Any]:
            yield from self._padded(
                iter(super().render_number(console, options, number, last_number))
            )

    class _Markdown(Markdown):
        elements: ClassVar[dict[str, type[MarkdownElement]]] = {
            **Markdown.elements,
            "bullet_list_open": _List,
            "ordered_list_open": _List,
            "list_item_open": _Item,
            "fence": _Code,
            "code_block": _Code,
        }
        crop_code = True

    return _Markdown


_MARKDOWN: type[Markdown] | None = None


# --- pieces and where they sit ---


@dataclass(frozen=True, slots=True)
class _Wrap:
    """A container around a piece: its open and close tokens, and what sets its look.

    The piece is rendered inside a copy of the open token with `attrs` and
    `meta` (see `_markdown_class`).
    """

    open: Token
    close: Token
    key: tuple[Any, ...]
    item: bool = False  # a list item: its first line has the bullet unless continued
    attrs: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None


def _continued(context: tuple[_Wrap, ...]) -> tuple[_Wrap, ...]:
    """The same containers for a piece that does not start them: list items show padding."""
    if not any(wrap.item and not wrap.key[1] for wrap in context):
        return context
    return tuple(
        _Wrap(wrap.open, wrap.close, ("item", True), True, meta={"continued": True})
        if wrap.item
        else wrap
        for wrap in context
    )


def _containers(context: tuple[_Wrap, ...]) -> list[Container]:
    """The list items and block quotes around a paragraph, as `paragraph` draws them."""
    containers: list[Container] = []
    numbering: tuple[Any, ...] = ()
    for wrap in context:
        if wrap.key[0] in ("ul", "ol"):
            numbering = wrap.key
        elif wrap.item:
            if numbering[0] == "ul":
                containers.append(Container("bullet", continued=wrap.key[1]))
            else:
                _, number, digits = numbering
                containers.append(Container("number", number, digits + 2, wrap.key[1]))
        else:
            containers.append(Container("quote"))
    return containers


_CONTAINERS = frozenset({"bullet_list_open", "ordered_list_open", "blockquote_open"})


def _new_line_inside(tokens: list[Token]) -> bool:
    """Whether rich leaves a blank line before this container: its last child's element says."""
    from rich.markdown import Markdown, UnknownElement

    last = tokens[-2]
    kind = last.type.removesuffix("_close") + "_open" if last.nesting == -1 else last.type
    return (Markdown.elements.get(kind) or UnknownElement).new_line


def _closed_last_inline(tokens: list[Token]) -> list[Token]:
    """`tokens` with their last inline text drawn as if what it opened were closed
    (`mdparse.closed_inline`)."""
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i].type == "inline" and tokens[i].content:  # not a row's empty cells
            closed = closed_inline(tokens[i].content)
            if closed is None:
                return tokens
            tokens = [
                *tokens[:i],
                tokens[i].copy(content=closed[0], children=None),
                *tokens[i + 1 :],
            ]
            # A table row is drawn once per `tr_open` token (`TableView`): this
            # row, as it is drawn now, is another.
            row = next((j for j in range(i, -1, -1) if tokens[j].type == "tr_open"), None)
            if row is not None:
                tokens[row] = tokens[row].copy()
            return tokens
    return tokens


def _children(tokens: list[Token]) -> list[tuple[int, int]]:
    """The ranges of a container's direct children (tokens[0] opens it, tokens[-1] closes it)."""
    ranges: list[tuple[int, int]] = []
    i, end = 1, len(tokens) - 1
    while i < end:
        token = tokens[i]
        j = i + 1
        if token.nesting == 1:
            while not (tokens[j].nesting == -1 and tokens[j].level == token.level):
                j += 1
            j += 1
        ranges.append((i, j))
        i = j
    return ranges


def _signature(tokens: list[Token]) -> tuple[Any, ...]:
    """What rich's rendering of these tokens depends on."""
    return tuple(
        (t.type, t.tag, t.content, t.info, tuple(t.attrs.items()) if t.attrs else ())
        for t in tokens
    )


@dataclass(slots=True)
class OpenParagraph:
    """An open paragraph as `BlockView` last drew it: what drawing it again takes.

    Attributes:
        inline: its inline token (its ``map`` says which lines it spans).
        env: the parse's environment (link reference definitions).
        containers: the list items and block quotes around it.
        key: where it is, for what `ParagraphView` keeps of it.
        separate: it is drawn after a blank line.
        exact: it is being committed (no speculative rows).
        lines: its lines as drawn, the blank line before it included.
    """

    inline: Token
    env: MutableMapping[str, Any]
    containers: list[Container]
    key: tuple[Any, ...]
    separate: bool
    exact: bool
    lines: list[str] | None = None


class BlockView:
    """Renders top-level blocks of the open region, each finished piece once.

    Args:
        parser: parses the blocks' inline content (and caches it).
        color_system: rich's colour system, or None.
        code_theme: the Pygments style for fenced code.
        hyperlinks: links as OSC 8 hyperlinks.
        theme: the terminal's background (rich's Markdown styles for it).
        crop_code: code lines wider than the width are cropped with a mark
            (False: written whole, but inside a list or quote).
    """

    def __init__(
        self,
        parser: BlockParser,
        *,
        color_system: Palette | None,
        code_theme: str,
        hyperlinks: bool,
        theme: Theme = "dark",
        crop_code: bool = True,
    ) -> None:
        self.parser = parser
        self.color_system: Palette | None = color_system
        self.code_theme = code_theme
        self.hyperlinks = hyperlinks
        self.theme: Theme = theme
        self.crop_code = crop_code
        self.width = 80
        self._sink = Sink()
        self._console: Console | None = None
        self._console_width = 0
        self._markdown: Any = None
        self._units: dict[tuple[Any, ...], list[str]] = {}
        self._signatures: dict[int, tuple[Token, int, tuple[Any, ...]]] = {}
        self._items: dict[int, tuple[Token, tuple[Any, ...], list[str]]] = {}
        self._paragraphs = ParagraphView(parser.md, hyperlinks=hyperlinks)
        self._color_system = _color_system(color_system)
        self._tables = TableView(parser, hyperlinks=hyperlinks)
        self._env: MutableMapping[str, Any] = {}
        self._refs: Any = None
        self._index = 0
        self._exact = True  # render nothing speculative (a block being committed)
        self._n_renders = 0
        self._n_chars_rendered = 0
        # The open paragraph drawn last (the last one drawn in a frame is the
        # deepest last child of the last block, when that is a paragraph).
        self.last_paragraph: OpenParagraph | None = None

    @property
    def n_renders(self) -> int:
        """How many times rich rendered something (for tests)."""
        return self._n_renders + self._tables.n_renders

    @property
    def n_chars_rendered(self) -> int:
        """Inline characters rendered, summed over renders (for tests)."""
        return self._n_chars_rendered + self._paragraphs.n_chars_drawn

    # --- the rich primitive ---

    def console(self) -> Console:
        """The Console at the current width."""
        if self._console is None or self._console_width != self.width:
            self._console = console(self.width, self.color_system, self._sink, self.theme)
            self._console_width = self.width
        return self._console

    def _md(self) -> Any:
        global _MARKDOWN
        if _MARKDOWN is None:
            _MARKDOWN = _markdown_class()
        markdown = self._markdown
        if markdown is None or (markdown.code_theme, markdown.hyperlinks) != (
            self.code_theme,
            self.hyperlinks,
        ):
            markdown = self._markdown = _MARKDOWN(
                "", code_theme=self.code_theme, hyperlinks=self.hyperlinks
            )
            markdown.crop_code = self.crop_code  # type: ignore[attr-defined]
        return markdown

    def render(self, tokens: list[Token], *, separate: bool = False) -> list[str]:
        """Render tokens with rich, at once (after a blank line if `separate`)."""
        markdown = self._md()
        markdown.parsed = [separator(), *tokens] if separate else tokens
        self._n_renders += 1
        self._n_chars_rendered += sum(len(t.content) for t in tokens if t.type == "inline")
        # Not cropped by rich: a code line may be wider (see `crop_code`).
        self.console().print(markdown, soft_wrap=False, crop=False)
        return lines_of(self._sink.take())

    # --- blocks ---

    def lines(
        self,
        tokens: list[Token],
        *,
        separate: bool,
        env: MutableMapping[str, Any],
        refs: Any,
        index: int = 0,
        exact: bool = False,
    ) -> list[str]:
        """The lines of one top-level block (after a blank line if `separate`).

        Args:
            env: the parse's environment (link reference definitions).
            refs: the definitions in force, as a key for what is kept.
            index: the block's place in the open region (what is kept of
                an open paragraph is kept for its place).
            exact: the block is being committed: no speculative rows.
        """
        self._env, self._refs, self._index, self._exact = env, refs, index, exact
        kind = tokens[0].type
        if kind not in _CONTAINERS or len(tokens) < 3:
            return self._block(tokens, (), separate)
        # rich puts a blank line before a top-level element when the last
        # element that closed before it says so (rich.markdown.Markdown.
        # __rich_console__, new_line): for a container, that is its own last
        # child, so each piece would bring one; they are dropped and the
        # container's own is put back.
        lines = self._block(tokens, (), False)
        return ["", *lines] if _new_line_inside(tokens) else lines

    def forget(self) -> None:
        """The blocks rendered so far are committed: nothing kept for them is of use."""
        self._units.clear()
        self._signatures.clear()
        self._items.clear()
        self._paragraphs.forget()
        self._tables.forget()

    def _block(self, tokens: list[Token], context: tuple[_Wrap, ...], separate: bool) -> list[str]:
        kind = tokens[0].type
        if kind == "paragraph_open" and len(tokens) == 3:
            return self._paragraph(tokens, context, separate)  # closes its own (ParagraphView)
        if not self._exact and kind in ("heading_open", "table_open"):
            # Open, a heading (one line) or a table's last row is where the
            # text is being typed: drawn as if what it opened were closed.
            tokens = _closed_last_inline(tokens)
        if kind in ("bullet_list_open", "ordered_list_open"):
            return self._list(tokens, context, separate)
        if kind == "blockquote_open":
            return self._container(tokens, context, separate)
        if kind == "table_open" and not context:
            return self._table(tokens)
        return self._unit(tokens, context, separate)

    def _unit(self, tokens: list[Token], context: tuple[_Wrap, ...], separate: bool) -> list[str]:
        """A finished piece inside its containers, drawn once for each form it takes.

        A paragraph in a container is drawn from its tokens (as the open one
        is: `paragraph.draw`), a list piece by piece, anything else rendered
        by rich inside copies of its containers' tokens.
        """
        kind = tokens[0].type
        if context and kind in ("bullet_list_open", "ordered_list_open"):
            return self._list(tokens, context, separate, finished=True)
        key = (
            tuple(wrap.key for wrap in context),
            self._signature(tokens),
            separate,
            self.width,
            self._refs,
        )
        lines = self._units.get(key)
        if lines is None:
            lines = None
            if context and kind == "paragraph_open" and len(tokens) == 3:
                children = self.parser.children(tokens[1], self._env, self._refs)
                lines = draw(
                    self.console(),
                    children,
                    _containers(context),
                    self._color_system,
                    hyperlinks=self.hyperlinks,
                )
            if lines is None:
                lines = self._render_in(tokens, context, separate)
            if len(self._units) >= _MAX_UNITS:
                self._units.clear()
            self._units[key] = lines
        return lines

    def _signature(self, tokens: list[Token]) -> tuple[Any, ...]:
        """`_signature`, kept for a piece whose tokens the parser keeps from frame to frame."""
        first = tokens[0]
        seen = self._signatures.get(id(first))
        if seen is not None and seen[0] is first and seen[1] == len(tokens):
            return seen[2]
        signature = _signature(tokens)
        if len(self._signatures) >= _MAX_UNITS:
            self._signatures.clear()
        self._signatures[id(first)] = (first, len(tokens), signature)
        return signature

    def _render_in(
        self, tokens: list[Token], context: tuple[_Wrap, ...], separate: bool
    ) -> list[str]:
        self.parser.fill(tokens, self._env, self._refs)
        if not context:
            return self.render(tokens, separate=separate)
        opens = [
            wrap.open.copy(attrs=wrap.attrs or wrap.open.attrs, meta=wrap.meta)
            if wrap.meta
            else wrap.open
            for wrap in context
        ]
        closes = [wrap.close for wrap in reversed(context)]
        lines = self.render([*opens, *tokens, *closes])
        if lines and not lines[0]:  # the blank line a piece brings (see `lines`)
            del lines[0]
        return lines

    def _list(
        self,
        tokens: list[Token],
        context: tuple[_Wrap, ...],
        separate: bool,
        *,
        finished: bool = False,
    ) -> list[str]:
        """A list item by item: each finished item once, the last one open unless `finished`."""
        open_, close = tokens[0], tokens[-1]
        items = _children(tokens)
        ordered = open_.type == "ordered_list_open"
        start = int(open_.attrs.get("start", 1)) if ordered else 1
        last_number = start + len(items)  # as rich's ListElement counts
        lines: list[str] = []
        for k, (a, b) in enumerate(items):
            if ordered:
                # rich uses the last number for its width only (ListItem.render_number)
                wrap = _Wrap(
                    open_,
                    close,
                    ("ol", start + k, len(str(last_number))),
                    attrs={"start": start + k},
                    meta={"last_number": last_number},
                )
            else:
                wrap = _Wrap(open_, close, ("ul", k))
            inner = (*(context if k == 0 else _continued(context)), wrap)
            done = finished or k < len(items) - 1
            if not done:
                lines += self._container(tokens[a:b], inner, separate and k == 0)
                continue
            # A finished item whose tokens the parser kept from the last
            # frame (mdparse's checkpoints) is drawn as it was, in one look-up.
            first = tokens[a]
            key = (b - a, tuple(w.key for w in inner), separate and k == 0, self.width, self._refs)
            seen = self._items.get(id(first))
            if seen is not None and seen[0] is first and seen[1] == key:
                lines += seen[2]
                continue
            drawn = self._container(tokens[a:b], inner, separate and k == 0, finished=True)
            if len(self._items) >= _MAX_UNITS:
                self._items.clear()
            self._items[id(first)] = (first, key, drawn)
            lines += drawn
        return lines

    def _container(
        self,
        tokens: list[Token],
        context: tuple[_Wrap, ...],
        separate: bool,
        *,
        finished: bool = False,
    ) -> list[str]:
        """A list item or block quote, child by child: each rendered once, the last one open
        unless the container is `finished`."""
        children = _children(tokens)
        if not children:
            return self._unit(tokens, context, separate)
        lines: list[str] = []
        open_, close = tokens[0], tokens[-1]
        item = open_.type == "list_item_open"
        for j, (a, b) in enumerate(children):
            if item:
                wrap = _Wrap(open_, close, ("item", j > 0), item=True, meta={"continued": j > 0})
            else:
                wrap = _Wrap(open_, close, ("quote",))
            inner = (*(context if j == 0 else _continued(context)), wrap)
            child = tokens[a:b]
            if finished or j < len(children) - 1:
                lines += self._unit(child, inner, separate and j == 0)
            else:
                lines += self._block(child, inner, separate and j == 0)
        return lines

    # --- tables ---

    def _table(self, tokens: list[Token]) -> list[str]:
        lines = self._tables.lines(
            tokens, self._env, self._refs, self.console(), self._color_system
        )
        if lines is None:
            return self._unit(tokens, (), False)
        return ["", *lines] if _new_line_inside(tokens) else lines

    # --- the open paragraph ---

    def _paragraph(
        self, tokens: list[Token], context: tuple[_Wrap, ...], separate: bool
    ) -> list[str]:
        drawn = OpenParagraph(
            tokens[1],
            self._env,
            _containers(context),
            (tuple(wrap.key for wrap in context), self.width, self._refs, self._index),
            separate,
            self._exact,
        )
        lines = self.paragraph(drawn, tokens[1].content)
        if lines is None:
            return self._unit(tokens, context, separate)
        self.last_paragraph = drawn
        return lines

    def paragraph(self, drawn: OpenParagraph, source: str) -> list[str] | None:
        """The open paragraph `drawn` was, its inline text now `source` (None: not drawn here)."""
        lines = self._paragraphs.lines(
            source,
            drawn.env,
            self.console(),
            self._color_system,
            drawn.containers,
            key=drawn.key,
            separate=drawn.separate,
            exact=drawn.exact,
        )
        drawn.lines = lines
        return lines
