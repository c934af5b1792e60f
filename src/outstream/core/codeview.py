"""Fenced code, drawn to be copied: whole lines, no padding, no background; an open
block drawn line by line, each finished line highlighted and rendered once.

Theory of operation: a code block's rows are its lines, one row each, as
they are in the source: no padding around the block or before a line, no
background filling it (text colours only, `CodeStyles`, so it reads on a
light terminal as on a dark one), and never a line broken in two. A line
wider than the screen is cropped, its last cell a dim mark (``…``), when
the output is a terminal with a live region, which must know how many rows
it draws over; elsewhere (a pipe, a file) it is written whole, for the
pager or the terminal to wrap softly, which a copy joins again. Selecting
a block on the screen copies the code (`--copy-code` copies it whole).

`code_lines` draws a finished block at once (`mdview`'s element for rich's
Markdown uses it); `CodeView` draws an open one: it keeps the rows of the
lines that can no longer change and renders only the last line on each
frame, so a frame's cost does not grow with the block. Both draw a line
with `draw_line`, so their rows are the same.

A line can no longer change once text other than white space follows it
(the code's trailing white space is stripped, as rich's ``CodeBlock``
strips it, so the last line that holds any text is the one still moving).
Highlighting depends on what came before (a line inside a multi-line
string), so lines are lexed in order, from where the last lexing stopped,
with the lexer's state carried over: for Pygments' `RegexLexer` (Python,
JavaScript, Bash, Rust, Go, SQL...) the state is its stack of states, and
lexing resumes from it exactly. Lexers that work otherwise are run on each
new stretch of lines alone; the block is drawn again whole, exactly, when
it is finished, so what may differ is a colour in the live region, or in
rows committed early because the block outgrew the screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pygments.lexer import Lexer
    from rich.console import Console
    from rich.segment import Segment
    from rich.style import Style
    from rich.text import Text

__all__ = [
    "CROP_MARK",
    "CodeStyles",
    "CodeView",
    "builtin_language",
    "check_code_theme",
    "code_lines",
    "code_styles",
    "draw_line",
    "lexer_for",
]

_TAB_SIZE = 4  # rich's Syntax default, which rich.markdown's CodeBlock keeps
_MAX_HELD = 20  # lines held back while the lexer finds errors in them (see CodeView._finish)
CROP_MARK = "\u2026"  # the last cell of a line cropped at the screen's edge: "…", dim


# --- a Pygments style as text colours ---


class CodeStyles:
    """A Pygments style's token styles as text colours only, for any background.

    No background: neither the style's own nor a token's. A token whose
    colour is the style's plain-text colour (monokai's near-white names) or
    none (rich would make it black) takes the terminal's own text colour,
    which reads on its background whatever it is; so does white space
    (Pygments' default style greys it). Bold, italic and underline are kept.

    Colours are given in `color_system` already (a truecolour one in 256
    colours, say): rich keeps the escape sequence of a `Style` from its
    first rendering, whatever colour system a later one is for, and finds
    equal styles in its caches, so a style of one palette must never meet
    a rendering in another.

    Args:
        name: an installed Pygments style (`check_code_theme` says which).
        color_system: rich's name of the colour system the styles are for.

    Raises:
        pygments.util.ClassNotFound: for a name Pygments does not know.
    """

    def __init__(self, name: str, color_system: str | None = "truecolor") -> None:
        from pygments.styles import get_style_by_name
        from pygments.token import Text, Token
        from rich.color import ColorSystem

        self.name = name
        self._system = {
            "standard": ColorSystem.STANDARD,
            "256": ColorSystem.EIGHT_BIT,
            "windows": ColorSystem.WINDOWS,
        }.get(color_system or "", ColorSystem.TRUECOLOR)
        self._style = get_style_by_name(name)
        # Its plain text's colour: the root token's, or that of Text (dracula sets only that).
        self._plain = {self._style.style_for_token(t)["color"] for t in (Token, Text)} - {""}
        self._cache: dict[Any, Style] = {}

    def style_for(self, token_type: Any) -> Style:
        """The rich `Style` of a Pygments token type."""
        style = self._cache.get(token_type)
        if style is None:
            from pygments.token import Whitespace
            from rich.style import Style

            try:
                found = (
                    None if token_type in Whitespace else self._style.style_for_token(token_type)
                )
            except KeyError:
                found = None
            if found is None:  # white space: nothing to see, and nothing to write for it
                style = Style.null()
            else:
                from rich.color import Color

                color = found["color"]
                style = Style(
                    color=None
                    if not color or color in self._plain
                    else Color.parse(_rich_color(color)).downgrade(self._system),
                    bold=True if found["bold"] else None,
                    italic=True if found["italic"] else None,
                    underline=True if found["underline"] else None,
                )
            self._cache[token_type] = style
        return style


def _rich_color(color: str) -> str:
    """A Pygments colour ("f92672", "ansibrightred") as rich names it."""
    if color.startswith("ansi"):
        name = color[4:]
        if name == "gray":
            return "white"  # ANSI 7
        if name == "white":
            return "bright_white"
        return "bright_" + name[6:] if name.startswith("bright") else name
    return "#" + color


_STYLES: dict[tuple[str, str | None], CodeStyles] = {}


def code_styles(name: str, color_system: str | None) -> CodeStyles:
    """The `CodeStyles` of a Pygments style for a colour system, made once for each."""
    styles = _STYLES.get((name, color_system))
    if styles is None:
        styles = _STYLES[(name, color_system)] = CodeStyles(name, color_system)
    return styles


def check_code_theme(name: str) -> None:
    """Raise ValueError, naming some that are, if `name` is not an installed Pygments style."""
    from pygments.styles import get_all_styles, get_style_by_name
    from pygments.util import ClassNotFound

    try:
        get_style_by_name(name)
    except ClassNotFound:
        names = sorted(get_all_styles())
        liked = [n for n in ("monokai", "github-dark", "one-dark", "default", "friendly",
                             "solarized-light") if n in names]  # fmt: skip
        raise ValueError(
            f"no Pygments style {name!r}: try {', '.join(liked)} "
            f"({len(names)} installed: python -m pygments -L styles)"
        ) from None


# --- lines ---

_LEXERS: dict[str, Lexer] = {}


def lexer_for(name: str) -> Lexer:
    """The Pygments lexer rich's ``Syntax`` uses for a fence's language (plain text if unknown)."""
    lexer = _LEXERS.get(name)
    if lexer is None:
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound

        try:
            lexer = get_lexer_by_name(name, stripnl=False, ensurenl=True, tabsize=_TAB_SIZE)
        except ClassNotFound:
            lexer = get_lexer_by_name("text", stripnl=False, ensurenl=True, tabsize=_TAB_SIZE)
        _LEXERS[name] = lexer
    return lexer


def draw_line(parts: list[tuple[str, Style]], width: int | None) -> Text:
    """One line of code as rich `Text`: its pieces in their styles, nothing added.

    Args:
        parts: the line's pieces of text (no newline, tabs expanded) and styles.
        width: the cells it may take: a longer line is cropped, its last
            cell `CROP_MARK`, dim. None: never cropped.
    """
    from rich.style import Style
    from rich.text import Text

    text = Text(no_wrap=True, overflow="ignore", end="", tab_size=_TAB_SIZE)
    text.append_tokens(parts)
    if width is not None and text.cell_len > width:
        text.truncate(max(0, width - 1), overflow="crop")
        text.append(CROP_MARK, Style(dim=True))
    return text


def code_lines(
    code: str, lexer_name: str, theme: str, console: Console, width: int | None
) -> list[list[Segment]]:
    """A finished code block's lines, as segments: what rich's ``Syntax`` lexes, drawn by `draw_line`.

    Args:
        code: the block's content; its trailing white space is dropped.
        lexer_name: the fence's language.
        theme: the Pygments style.
        console: lays out the text (its colour system is not used here).
        width: crop lines at this many cells; None: never.
    """
    text = (code.rstrip() + "\n").expandtabs(_TAB_SIZE)
    style_of = code_styles(theme, console.color_system).style_for
    return [
        list(draw_line([(part, style_of(kind)) for kind, part in line], width).render(console))
        for line in _by_line(list(lexer_for(lexer_name).get_tokens(text)))
    ]


class CodeView:
    """The rows of one open code block, its finished lines rendered once.

    Args:
        console: the rich Console the block is rendered with (its width
            and colour system); it is used only to lay out text.
        lexer_name: the fence's language, as rich's ``CodeBlock`` takes it.
        theme: the Pygments style.
        color_system: rich's name of the colour system, or None.
    """

    def __init__(
        self, console: Console, lexer_name: str, theme: str, color_system: str | None
    ) -> None:
        from rich.color import ColorSystem

        self._lexer: Lexer = lexer_for(lexer_name)
        self._resumable = _is_stock_regex_lexer(self._lexer)
        self._style_of = code_styles(theme, color_system).style_for
        self._console = console
        self.width = console.width
        self._color_system = (
            None
            if color_system is None
            else {
                "standard": ColorSystem.STANDARD,
                "256": ColorSystem.EIGHT_BIT,
                "truecolor": ColorSystem.TRUECOLOR,
            }[color_system]
        )
        self._rows: list[str] = []  # rows of the lines that can no longer change
        self._n_done = 0  # characters of the content those lines take
        self._stack: tuple[str, ...] = ("root",)  # the lexer's state after them
        self._tail: tuple[str, list[str]] | None = None  # the last line and its rows
        # What each line was drawn from (its pieces of text and their token
        # types), to tell whether the block drawn whole would be the same.
        self._lines: list[list[tuple[Any, str]]] = []
        self._tail_lines: list[list[tuple[Any, str]]] = []

    def rows(self, content: str) -> list[str]:
        """The rows of the code so far (no padding rows above or below it).

        Args:
            content: the block's code so far; each call's content starts
                with the last one's (the block only grows).
        """
        lines = content[self._n_done :].split("\n")
        last = len(lines) - 1
        while last > 0 and not lines[last].strip():
            last -= 1
        if last > 0:  # lines before the last that holds text may be final
            n_final = self._finish(lines[:last])
            del lines[:n_final]
            last -= n_final
        tail = "\n".join(lines[: last + 1]).rstrip()
        if self._tail is None or tail != self._tail[0]:
            if not tail and self._rows:
                # Every line with text is finished (the block closed right
                # after one): rich strips the blank lines after it.
                self._tail_lines, self._tail = [], (tail, [])
            else:
                tokens, _ = self._lex(tail + "\n")
                self._tail_lines = _by_line(tokens)
                self._tail = (tail, self._render(self._tail_lines))
        return self._rows + self._tail[1]

    def whole_rows(self, content: str) -> list[str] | None:
        """The rows of the finished block's `content`, if they are those of the block drawn whole.

        They are when lexing the whole code at once gives every line the
        same pieces in the same styles as it got a stretch at a time (a rule
        that matches across lines, as a ``/* ... */`` comment's or a
        docstring's may, can make them differ; a lexer that does not resume,
        as JSON's, lexed each stretch from its start): then the rows already
        drawn are kept, and only a lexer's pass over the code is spent. None
        when not: the block is to be rendered whole.
        """
        rows = self.rows(content)
        tail = self._tail[0] if self._tail else ""
        text = content[: self._n_done] + (tail + "\n" if tail or not self._n_done else "")
        text = text.expandtabs(_TAB_SIZE)
        if text.startswith("\ufeff"):
            text = text[1:]  # Pygments drops a byte order mark at the start
        tokens: list[tuple[Any, str]] = []
        if self._resumable:
            _lex_regex(self._lexer, text, ("root",), tokens)
        else:
            tokens = list(self._lexer.get_tokens(text))  # as rich's Syntax lexes it
        # Rows are drawn from each line's pieces and their styles: two token
        # types of one style (a docstring and a string) draw alike.
        style_of = self._style_of
        drawn = self._lines + self._tail_lines
        whole = _by_line(tokens)
        if len(whole) != len(drawn):
            return None
        for line_whole, line_drawn in zip(whole, drawn, strict=True):
            if line_whole != line_drawn and [
                (style_of(kind), text) for kind, text in line_whole
            ] != [(style_of(kind), text) for kind, text in line_drawn]:
                return None
        return rows

    @property
    def n_final_rows(self) -> int:
        """How many rows, from the top, will not change any more."""
        return len(self._rows)

    def _finish(self, lines: list[str]) -> int:
        """Render `lines` for good, up to any that the lexer could not make sense of yet.

        A lexer's rule may match several lines at once (a ``/* ... */``
        comment): until the closing line arrives, its first line lexes as
        errors. Such a line and those after it are held back (up to
        `_MAX_HELD` lines) and drawn again on each frame with the last line.
        Returns how many lines were rendered for good.
        """
        from pygments.token import Error

        text = "".join(line + "\n" for line in lines)
        tokens, stack = self._lex(text)
        n_final = len(lines)
        if len(lines) < _MAX_HELD:
            line_of_token = 0
            for token_type, value in tokens:
                if token_type in Error:
                    n_final = line_of_token
                    break
                line_of_token += value.count("\n")
            if n_final < len(lines):
                text = text[: sum(len(line) + 1 for line in lines[:n_final])]
                tokens, stack = self._lex(text) if n_final else ([], stack)
        if n_final:
            lines_drawn = _by_line(tokens)
            self._lines += lines_drawn
            self._rows += self._render(lines_drawn)
            self._stack = stack
            self._n_done += len(text)
        return n_final

    # --- lexing ---

    def _lex(self, text: str) -> tuple[list[tuple[Any, str]], tuple[str, ...]]:
        """Tokens of `text` (whole lines) lexed from the state the lines before left, and the state after."""
        text = text.expandtabs(_TAB_SIZE)
        if not self._n_done and text.startswith("\ufeff"):
            text = text[1:]  # Pygments drops a byte order mark at the start
        if not self._resumable:
            return list(self._lexer.get_tokens(text)), self._stack
        tokens: list[tuple[Any, str]] = []
        stack = _lex_regex(self._lexer, text, self._stack, tokens)
        return tokens, stack

    # --- rendering ---

    def _render(self, lines: list[list[tuple[Any, str]]]) -> list[str]:
        """The rows of these lines (each its token types and pieces of text, see `_by_line`):
        one each, cropped at the width."""
        style_of = self._style_of
        console, width = self._console, self.width
        return [
            self._ansi(
                draw_line([(part, style_of(kind)) for kind, part in parts], width).render(console)
            )
            for parts in lines
        ]

    def _ansi(self, segments: Any) -> str:
        color_system = self._color_system
        return "".join(
            style.render(text, color_system=color_system) if style else text
            for text, style, _ in segments
        )


_BUILTIN_ALIASES: frozenset[str] | None = None


def builtin_language(name: str) -> bool:
    """Whether `name` is a language Pygments knows without its plugins.

    Pygments looks a name it does not know up in every installed plugin,
    importing each (IPython's, say, and all it imports: a second, and code
    of whatever package registered one). A fence's language comes from the
    model: one Pygments does not know is drawn as plain text instead.
    """
    global _BUILTIN_ALIASES
    if _BUILTIN_ALIASES is None:
        from pygments.lexers._mapping import LEXERS

        _BUILTIN_ALIASES = frozenset(alias for entry in LEXERS.values() for alias in entry[2])
    return name.lower() in _BUILTIN_ALIASES


def _by_line(tokens: list[tuple[Any, str]]) -> list[list[tuple[Any, str]]]:
    """Tokens as lines: each line's (token type, piece of text) pairs, empty pieces left out."""
    lines: list[list[tuple[Any, str]]] = [[]]
    for token_type, value in tokens:
        parts = value.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append([])
            if part:
                lines[-1].append((token_type, part))
    if not lines[-1]:
        lines.pop()  # after the last newline
    return lines


def _is_stock_regex_lexer(lexer: Lexer) -> bool:
    from pygments.lexer import RegexLexer

    return (
        isinstance(lexer, RegexLexer)
        and type(lexer).get_tokens_unprocessed is RegexLexer.get_tokens_unprocessed
        and not lexer.filters
    )


def _lex_regex(
    lexer: Any, text: str, stack: tuple[str, ...], out: list[tuple[Any, str]]
) -> tuple[str, ...]:
    """`RegexLexer.get_tokens_unprocessed`, started from `stack`, returning the stack at the end.

    The loop is Pygments' own (pygments/lexer.py, BSD-2-Clause, © the
    Pygments team); the only change is that it hands back its state.
    """
    from pygments.token import Error, Whitespace, _TokenType

    pos = 0
    tokendefs = lexer._tokens
    statestack = list(stack)
    statetokens = tokendefs[statestack[-1]]
    append = out.append
    while True:
        for rexmatch, action, new_state in statetokens:
            m = rexmatch(text, pos)
            if m:
                if action is not None:
                    if type(action) is _TokenType:
                        append((action, m.group()))
                    else:
                        out.extend((token, value) for _, token, value in action(lexer, m))
                pos = m.end()
                if new_state is not None:
                    if isinstance(new_state, tuple):
                        for state in new_state:
                            if state == "#pop":
                                if len(statestack) > 1:
                                    statestack.pop()
                            elif state == "#push":
                                statestack.append(statestack[-1])
                            else:
                                statestack.append(state)
                    elif isinstance(new_state, int):
                        if abs(new_state) >= len(statestack):
                            del statestack[1:]
                        else:
                            del statestack[new_state:]
                    elif new_state == "#push":
                        statestack.append(statestack[-1])
                    else:
                        raise AssertionError(f"wrong state def: {new_state!r}")
                    statetokens = tokendefs[statestack[-1]]
                break
        else:
            if pos >= len(text):
                break
            if text[pos] == "\n":
                statestack = ["root"]  # at the end of a line, back to "root"
                statetokens = tokendefs["root"]
                append((Whitespace, "\n"))
            else:
                append((Error, text[pos]))
            pos += 1
    return tuple(statestack)
