"""Light and dark terminals (issue 16): which theme, and colours that read on it."""

from __future__ import annotations

import pathlib
import re

import pytest
from pygments.styles import get_all_styles
from rich.default_styles import DEFAULT_STYLES

from outstream.core.codeview import CodeView, check_code_theme, code_styles
from outstream.core.markdown import MarkdownRenderer, render_markdown
from outstream.core.mdview import Sink, console
from outstream.core.theme import (
    DEFAULT_CODE_THEMES,
    LIGHT_STYLES,
    background_of,
    background_of_reply,
)
from tests.core.richref import rich_whole

ANSWERS = sorted((pathlib.Path(__file__).parents[1] / "data" / "answers").glob("*.md"))
SGR = re.compile(r"\x1b\[([0-9;]*)m")

COLORFGBG = [
    # (value, background): "fg;bg" (xterm, konsole, iTerm2) or "fg;default;bg" (rxvt)
    ("15;0", "dark"),
    ("0;15", "light"),
    ("7;0", "dark"),
    ("0;7", "light"),
    ("12;8", "dark"),
    ("0;default;15", "light"),
    ("15;default;0", "dark"),
    ("default;default", None),
    ("0;231", "light"),  # the cube's white
    ("15;16", "dark"),  # the cube's black
    ("0;255", "light"),  # the grey ramp's lightest
    ("15;232", "dark"),
    ("", None),
    (None, None),
    ("junk", None),
    ("15;-1", None),
    ("15;99999", None),
]


@pytest.mark.parametrize(("value", "background"), COLORFGBG)
def test_the_background_is_read_from_colorfgbg(value, background):
    assert background_of(value) == background


def sgr_codes(lines) -> list[list[str]]:
    """Each SGR sequence's parameters, as lists ("1;36;40" -> ["1", "36", "40"])."""
    return [m.group(1).split(";") for line in lines for m in SGR.finditer(line)]


def colours(params: list[str]) -> tuple[list[str], list[str]]:
    """The foreground and background colours an SGR sequence sets, as written."""
    fg, bg, i = [], [], 0
    while i < len(params):
        p = params[i]
        if p in ("38", "48"):
            n = 3 if params[i + 1] == "5" else 5
            (fg if p == "38" else bg).append(";".join(params[i : i + n]))
            i += n
            continue
        if p.isdigit() and (30 <= int(p) <= 37 or 90 <= int(p) <= 97):
            fg.append(p)
        elif p.isdigit() and (40 <= int(p) <= 47 or 100 <= int(p) <= 107):
            bg.append(p)
        i += 1
    return fg, bg


def contrast(rgb: tuple[int, int, int], background: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio of two colours."""

    def luminance(c: tuple[int, int, int]) -> float:
        def channel(v: int) -> float:
            s = v / 255
            return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(v) for v in c)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(rgb), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


CORPUS = "\n".join(path.read_text(encoding="utf-8") for path in ANSWERS)
# Illegible on a light background in any palette: white, bright white, bright yellow.
UNREADABLE_ON_LIGHT = {"37", "97", "93"}


@pytest.mark.parametrize("color_system", ["standard", "truecolor"])
def test_on_a_light_theme_every_colour_reads_on_white_and_nothing_paints_a_background(
    color_system,
):
    lines = render_markdown(CORPUS, 80, color_system=color_system, theme="light")
    assert any("\x1b[" in line for line in lines)
    for params in sgr_codes(lines):
        fg, bg = colours(params)
        assert bg == [], params  # no forced background: not rich's "cyan on black" either
        assert not set(fg) & UNREADABLE_ON_LIGHT, params
        for colour in fg:
            if colour.startswith("38;2;"):
                rgb = tuple(int(v) for v in colour.split(";")[2:])
                assert contrast(rgb, (255, 255, 255)) >= 3, colour  # WCAG's large-text floor


def test_on_a_dark_theme_code_reads_on_black_and_code_blocks_paint_no_background():
    lines = render_markdown(CORPUS, 80, color_system="truecolor", theme="dark")
    code = "".join(lines)
    assert "\x1b[38;2;" in code  # monokai's colours
    for params in sgr_codes(lines):
        fg, bg = colours(params)
        assert bg in ([], ["40"]), params  # only rich's inline code, black on a dark screen
        for colour in fg:
            if colour.startswith("38;2;"):
                rgb = tuple(int(v) for v in colour.split(";")[2:])
                assert contrast(rgb, (0, 0, 0)) >= 3, colour


def test_the_light_theme_changes_only_styles_rich_has():
    assert set(LIGHT_STYLES) <= set(DEFAULT_STYLES)


@pytest.mark.parametrize("name", sorted(get_all_styles()))
def test_any_pygments_style_draws_text_colours_only(name):
    from pygments.token import STANDARD_TYPES, Text

    styles = code_styles(name, "truecolor")

    for token_type in STANDARD_TYPES:
        style = styles.style_for(token_type)
        assert style.bgcolor is None, (name, token_type)
    # The style's own plain-text colour (drawn on its own background) is the terminal's.
    from pygments.token import Token

    assert styles.style_for(Token).color is None and styles.style_for(Text).color is None


def test_monokai_s_near_white_names_take_the_terminal_s_colour():
    from pygments.token import Keyword, Name, Punctuation

    styles = code_styles("monokai", "256")
    assert styles.style_for(Name).color is None and styles.style_for(Punctuation).color is None
    assert styles.style_for(Keyword).color is not None


def test_a_theme_s_code_renders_the_same_whole_and_line_by_line():
    source = '```python\ndef f(x):\n    return {"a": x}  # a comment\n```\n'
    assert list(render_markdown(source, 40, theme="light")) == rich_whole(source, 40, theme="light")
    view = CodeView(console(40, "standard", Sink(), "light"), "python", "default", "standard")
    assert view.rows(source.split("\n", 1)[1].removesuffix("```\n")) == rich_whole(
        source, 40, theme="light"
    )
    renderer = MarkdownRenderer(40, theme="light")
    committed = [line for ch in source for line in renderer.feed(ch).committed]
    assert committed + list(renderer.flush().committed) == rich_whole(source, 40, theme="light")
    assert renderer.code_theme == DEFAULT_CODE_THEMES["light"]


def test_an_unknown_code_theme_is_refused_with_some_that_exist():
    check_code_theme("monokai")
    with pytest.raises(ValueError, match=r"no Pygments style 'nope': try monokai, .*default"):
        check_code_theme("nope")


def test_one_style_in_two_colour_systems_renders_each_its_own():
    """rich keeps a Style's escape sequence from its first rendering: styles are made
    for one colour system each, so a tee of a 256-colour terminal and a pipe in
    standard colours draws each in its own."""
    source = "```python\ndef f(): pass\n```\n"
    truecolor = render_markdown(source, 40, color_system="truecolor")
    standard = render_markdown(source, 40, color_system="standard")
    assert "\x1b[38;2;" in truecolor[0] and "\x1b[38;" not in standard[0]
    assert render_markdown(source, 40, color_system="truecolor") == truecolor
    assert render_markdown(source, 40, color_system="256") != truecolor


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b"\x1b]11;rgb:ffff/ffff/ffff\x07\x1b[?62;22c", ("light", True)),
        (b"\x1b]11;rgb:ff/ff/ff\x1b\\", ("light", False)),  # two digits a channel; no DA1 yet
        (b"\x1b]11;rgb:0/0/0\x07", ("dark", False)),
        (b"\x1b]11;rgba:1e1e/1e1e/2e2e/ffff\x07\x1b[?1;2c", ("dark", True)),  # with alpha
        (b"\x1b[?62;22c", (None, True)),  # OSC 11 ignored: DA1 only
        (b"", (None, False)),
        (b"\x1b]11;rgb:ffff/ff", (None, False)),  # still arriving
    ],
)
def test_a_terminal_s_answer_to_the_background_query(reply, expected):
    assert background_of_reply(reply) == expected
