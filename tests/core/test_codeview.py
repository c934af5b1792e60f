from __future__ import annotations

import re

import pytest

from outstream.core.codeview import _MAX_HELD, CodeView
from outstream.core.mdview import Sink, console
from tests.core.richref import rich_whole

SGR = re.compile(r"\x1b\[[0-9;]*m")

# (language, code, exact): exact when every colour matches rich's too.
SAMPLES = {
    "python": (
        "python",
        'def f(x):\n    """A docstring\n    over three lines."""\n'
        "\treturn {'a': x,\t'b': [1, 2]}  # 中文 and 😀 " + "long " * 30 + "\n\n\n"
        "s = '''\nnot code: def class\n'''\nprint(f(s))\n",
        True,
    ),
    "bash": ("bash", 'for f in *.md; do\n  echo "$f: $(wc -l < "$f")"\ndone\n', True),
    "javascript": (
        "javascript",
        "const s = `a template\nover ${two} lines`;\n/* a comment\n   too */\nlet x = 1;\n",
        True,
    ),
    "rust": ("rust", 'fn main() {\n    let s = "multi\nline";\n    println!("{}", s);\n}\n', True),
    # A rule matching several lines at once (a here-document) colours a
    # line by the lines after it: the view has drawn it already.
    "bash-heredoc": ("bash", "cat <<EOF\nhere $HOME\nEOF\necho done\n", False),
    # Lexers that are not a plain RegexLexer are run a stretch at a time.
    "c": ("c", "/* a comment\n   over lines */\nint main(void) {\n  return 0;\n}\n", False),
    "json": ("json", '{\n  "a": [1, 2,\n        3],\n  "b": "text"\n}\n', False),
    "unknown": ("nosuchlanguage", "just some text\n  indented\n", True),
}


def cells(rows: list[str]) -> list[list[tuple[str, str]]]:
    """What a terminal shows of rows: each character with the SGR parameters in force.

    rich writes each segment as ``CSI params m`` text ``CSI 0 m``; where a
    token ends (``\"\"\"`` then ``A docstring``, or one string token) does
    not show.
    """
    shown = []
    for row in rows:
        line: list[tuple[str, str]] = []
        params = ""
        for escape, text in re.findall(r"(\x1b\[[0-9;]*m)|([^\x1b]+)", row):
            if escape:
                params = escape[2:-1].removeprefix("0")
            else:
                line.extend((char, params) for char in text)
        shown.append(line)
    return shown


def whole(lexer: str, content: str, width: int) -> list[str]:
    """The open block rendered at once by rich's Syntax (see richref): one row a line."""
    return rich_whole(f"```{lexer}\n{content}", width)


def view(lexer: str, width: int) -> CodeView:
    return CodeView(console(width, "standard", Sink()), lexer, "monokai", "standard")


@pytest.mark.parametrize("width", [20, 50, 120])
@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_rows_match_rich_after_every_piece(sample: str, width: int) -> None:
    lexer, code, exact = SAMPLES[sample]
    code_view = view(lexer, width)
    for end in range(5, len(code) + 5, 5):
        content = code[:end]
        if not content.strip():
            continue
        rows = code_view.rows(content)
        expected = whole(lexer, content, width)
        if exact:
            assert cells(rows) == cells(expected), (end, content[-20:])
        else:  # the text is the same, a colour may differ
            assert [SGR.sub("", row) for row in rows] == [SGR.sub("", row) for row in expected]


def counted_renders(code_view):  # type: ignore[no-untyped-def]
    """The number of rows of each render `code_view` makes from now on."""
    rendered: list[int] = []
    original = code_view._render

    def counting(lines):  # type: ignore[no-untyped-def]
        rows = original(lines)
        rendered.append(len(rows))
        return rows

    code_view._render = counting
    return rendered


def test_finished_lines_are_rendered_once() -> None:
    code_view = view("python", 40)
    code = "".join(f"x_{i} = {i}\n" for i in range(50))
    rendered = counted_renders(code_view)
    for end in range(1, len(code) + 1):
        code_view.rows(code[:end])
    # one render of each finished line, plus one of the last line per change
    assert sum(rendered) <= 50 + len(code)
    assert code_view.n_final_rows == 49  # the last line may still change
    assert code_view.rows(code + "y = 1") == whole("python", code + "y = 1", 40)
    assert code_view.n_final_rows == 50


def test_trailing_white_space_is_not_drawn_as_rich_strips_it() -> None:
    code_view = view("python", 30)
    for content in ("x = 1   ", "x = 1   \n", "x = 1   \n   \n\n", "x = 1   \n   \n\ny"):
        assert code_view.rows(content) == whole("python", content, 30), repr(content)


def test_lines_the_lexer_cannot_make_sense_of_yet_are_held_back() -> None:
    code_view = view("javascript", 40)
    comment = "/* a comment\n" + "".join(f"   line {i}\n" for i in range(10))
    rows = code_view.rows("let x = 1;\n" + comment)
    assert code_view.n_final_rows == 1  # "/*" lexes as errors until "*/" arrives
    assert [SGR.sub("", row).strip() for row in rows][:2] == ["let x = 1;", "/* a comment"]
    content = "let x = 1;\n" + comment + "*/\nlet y = 2;"
    assert cells(code_view.rows(content)) == cells(whole("javascript", content, 40))
    assert code_view.n_final_rows == 13


def test_only_so_many_lines_are_held_back() -> None:
    code_view = view("javascript", 40)
    content = "/* never closed\n" + "".join(f"   line {i}\n" for i in range(_MAX_HELD)) + "x"
    code_view.rows(content)
    assert code_view.n_final_rows == _MAX_HELD + 1


@pytest.mark.parametrize("width", [20, 120])
@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_a_finished_block_is_kept_as_drawn_only_when_that_is_how_rich_draws_it(
    sample: str, width: int
) -> None:
    """The rows drawn a line at a time are kept for the scrollback only if they are exact."""
    lexer, code, _ = SAMPLES[sample]
    code_view = view(lexer, width)
    for end in range(7, len(code), 7):
        code_view.rows(code[:end])
    rows = code_view.whole_rows(code)
    if rows is not None:
        assert rows == whole(lexer, code, width)


@pytest.mark.parametrize(
    ("lexer", "code"),
    [
        # a RegexLexer, which resumes from the state the line before left
        (
            "python",
            "".join(f'def f_{i}(x):\n    """One line."""\n    return x * {i}\n' for i in range(20)),
        ),
        # a lexer that does not (JSON's), run a stretch at a time
        (
            "json",
            "{\n"
            + "".join(f'  "key_{i}": [{i}, "text {i}", true, null],\n' for i in range(30))
            + '  "end": 0\n}\n',
        ),
    ],
    ids=["python", "json"],
)
def test_a_finished_block_whose_lines_lex_alike_whole_is_not_rendered_again(
    lexer: str, code: str
) -> None:
    code_view = view(lexer, 60)
    for end in range(1, len(code), 11):
        code_view.rows(code[:end])
    rendered = counted_renders(code_view)
    rows = code_view.whole_rows(code)
    assert rows == whole(lexer, code, 60)
    assert sum(rendered) <= 2  # the lines not drawn yet, not the block again


def test_a_comment_held_too_long_is_drawn_again_whole() -> None:
    code_view = view("javascript", 40)
    content = "/* closed late\n" + "".join(f"   line {i}\n" for i in range(_MAX_HELD + 5))
    code_view.rows(content + "x")  # lines held past the limit are drawn as errors
    content += "*/\nlet y = 2;\n"
    assert code_view.whole_rows(content) is None  # lexed whole, they are a comment
