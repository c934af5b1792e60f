"""The reference the Markdown tests compare with: rich rendering a whole answer at once.

rich's own `Markdown` (rich's create_capture_console settings), but for code
blocks, which outstream draws to be copied (issue 16): rich's own `Syntax`
highlights the code, as it always did, and each of its lines is one row,
as it is, with no padding and no background, cropped at the width with a
dim "…" where the output is a terminal (and inside a list or a quote,
whose lines rich crops, and where a blank row above and below sets the
block apart), written whole where it is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from rich.console import Console
from rich.markdown import CodeBlock, Markdown
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax, SyntaxTheme

from outstream.core.codeview import code_styles
from outstream.core.theme import DEFAULT_CODE_THEMES, LIGHT_STYLES


class _TextColours(SyntaxTheme):
    """A Pygments style as outstream uses it (`CodeStyles`), for rich's `Syntax`."""

    def __init__(self, name: str, color_system: str | None) -> None:
        self.styles = code_styles(name, color_system)

    def get_style_for_token(self, token_type: Any) -> Style:
        return self.styles.style_for(token_type)

    def get_background_style(self) -> Style:
        return Style()


def _reference_markdown(crop: bool) -> type[Markdown]:
    class Code(CodeBlock):
        def __rich_console__(self, console: Console, options: Any) -> Iterator[Segment]:
            code = str(self.text).rstrip()
            syntax = Syntax(
                code,
                self.lexer_name,
                theme=_TextColours(self.theme, console.color_system),
                tab_size=4,
            )
            width = options.max_width
            nested = width < console.width  # set apart by a blank row above and below
            if nested:
                yield Segment.line()
            for line in syntax.highlight(code.expandtabs(4) + "\n").split("\n"):
                if (crop or nested) and line.cell_len > width:
                    line.truncate(width - 1)
                    line.append("\u2026", Style(dim=True))
                line.end = ""
                yield from line.render(console)
                yield Segment.line()
            if nested:
                yield Segment.line()

    class Reference(Markdown):
        elements: ClassVar[dict[str, Any]] = {
            **Markdown.elements,
            "fence": Code,
            "code_block": Code,
        }

    return Reference


class _Sink:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def rich_whole(
    source: str, width: int, *, crop: bool = True, theme: str = "dark", hyperlinks: bool = False
) -> list[str]:
    """The reference: rich renders the whole answer once (see the module's docstring)."""
    from rich.theme import Theme

    out = _Sink()
    console = Console(
        file=out,  # type: ignore[arg-type]
        width=width,
        height=25,
        color_system="standard",
        force_terminal=True,
        legacy_windows=False,
        _environ={},
        theme=Theme(dict(LIGHT_STYLES)) if theme == "light" else None,
    )
    markdown = _reference_markdown(crop)(
        source,
        hyperlinks=hyperlinks,
        code_theme=DEFAULT_CODE_THEMES[theme],  # type: ignore[index]
    )
    console.print(markdown, soft_wrap=False, crop=False)
    text = "".join(out.parts)
    return text.removesuffix("\n").split("\n") if text else []
