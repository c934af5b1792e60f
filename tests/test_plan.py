"""plan(): every per-output decision, from what the output is and the options, in one pure call."""

from __future__ import annotations

import pytest

from outstream.core.pace import Instant, Smooth, Typewriter
from outstream.options import Options
from outstream.plan import plan
from outstream.sinks.detect import SinkKind, TerminalInfo


def info(kind: SinkKind, *, terminal: bool, width: int = 100, height: int = 30) -> TerminalInfo:
    return TerminalInfo(
        kind=kind, is_terminal=terminal, width=width, height=height,
        color_system="256" if terminal else "none", term="xterm-256color", dumb=False,
    )  # fmt: skip


TTY = info(SinkKind.TTY, terminal=True)
PIPE = info(SinkKind.PIPE, terminal=False)
FILE = info(SinkKind.FILE, terminal=False)
ENV = {"TERM": "xterm-256color"}


def test_a_terminal_is_paced_per_frame_wrapped_at_its_width_and_followed_on_resize() -> None:
    p = plan(TTY, Options(), ENV)
    assert (p.kind, p.flush, p.escapes, p.frame_interval) == (
        SinkKind.TTY,
        "frame",
        "strip",
        1 / 60,
    )
    assert isinstance(p.pacer, Smooth) and p.wrap_width == 100 and p.follows_size
    assert p.markdown is None and not p.notebook


def test_a_pipe_gets_each_chunk_at_once_and_a_file_the_text_as_it_came() -> None:
    pipe, file = plan(PIPE, Options(), ENV), plan(FILE, Options(), ENV)
    assert isinstance(pipe.pacer, Instant) and pipe.frame_interval == 0.0
    assert (pipe.flush, pipe.escapes, pipe.wrap_width, pipe.follows_size) == (
        "chunk", "strip", None, False,
    )  # fmt: skip
    assert (file.flush, file.escapes) == ("end", "raw")


def test_a_pipe_forced_to_be_a_terminal_is_handled_as_one() -> None:
    p = plan(info(SinkKind.PIPE, terminal=True), Options(), ENV)
    assert (p.kind, p.flush, p.escapes) == (SinkKind.TTY, "frame", "strip")


def test_markdown_has_a_live_region_on_a_terminal_and_passes_through_a_pipe() -> None:
    on_tty = plan(TTY, Options(render="markdown"), ENV)
    assert on_tty.markdown is not None and on_tty.wrap_width is None
    assert (on_tty.markdown.width, on_tty.markdown.height) == (100, 30)
    assert on_tty.markdown.color_system == "256" and on_tty.follows_size
    assert plan(PIPE, Options(render="markdown"), ENV).markdown is None
    always = plan(PIPE, Options(render="markdown", color="always", wrap=72), ENV).markdown
    assert always is not None and (always.width, always.height) == (72, None)


@pytest.mark.parametrize(
    ("options", "env"),
    [
        (Options(render="markdown", color="never"), ENV),
        (Options(render="markdown"), {**ENV, "NO_COLOR": "1"}),
    ],
)
def test_no_colour_asked_renders_markdown_without_colour(
    options: Options, env: dict[str, str]
) -> None:
    markdown = plan(TTY, options, env).markdown
    assert markdown is not None and markdown.color_system is None


def test_a_width_given_stays_and_columns_fixes_the_terminals() -> None:
    given = plan(TTY, Options(wrap=60), ENV)
    assert given.wrap_width == 60 and not given.follows_size
    markdown = plan(TTY, Options(render="markdown", wrap=60), ENV).markdown
    assert markdown is not None and (markdown.width, markdown.screen_width) == (60, 100)
    assert not plan(TTY, Options(), {**ENV, "COLUMNS": "100"}).follows_size


def test_each_output_gets_a_pacer_of_its_own() -> None:
    options = Options(pace=Typewriter(cps=40))
    first, second = plan(TTY, options, ENV).pacer, plan(PIPE, options, ENV).pacer
    assert first is not second and first is not options.pace
    assert repr(first) == repr(second) == "Typewriter(cps=40)"


def test_the_flush_asked_for_wins_and_auto_is_the_default() -> None:
    assert plan(PIPE, Options(flush="line"), ENV).flush == "line"
    assert plan(PIPE, Options(flush="auto"), ENV).flush == "chunk"


def test_an_app_is_a_display_paced_in_frames_that_renders_its_own_markdown() -> None:
    from outstream.sinks.queue import APP_INFO

    p = plan(APP_INFO, Options(), ENV)
    assert (p.kind, p.terminal, p.escapes, p.frame_interval) == (
        SinkKind.APP,
        False,
        "strip",
        1 / 60,
    )
    assert isinstance(p.pacer, Smooth) and p.wrap_width is None and not p.follows_size
    assert isinstance(plan(APP_INFO, Options(pace="instant"), ENV).pacer, Instant)
    assert plan(APP_INFO, Options(pace="instant"), ENV).frame_interval == 1 / 60  # still frames
    md = plan(APP_INFO, Options(render="markdown"), ENV)
    assert md.markdown is None and not md.notebook  # the source, for the app to render
    assert plan(APP_INFO, Options(wrap=72), ENV).wrap_width == 72


@pytest.mark.parametrize(
    ("theme", "colorfgbg", "expected"),
    [
        ("auto", None, "dark"),  # nothing says: dark, as most terminals are
        ("auto", "15;0", "dark"),
        ("auto", "0;15", "light"),
        ("auto", "0;default;15", "light"),  # rxvt's form
        ("auto", "default;default", "dark"),
        ("dark", "0;15", "dark"),  # asked for: whatever COLORFGBG says
        ("light", "15;0", "light"),
    ],
)
def test_the_theme_is_the_one_asked_for_or_the_background_colorfgbg_says(
    theme, colorfgbg, expected
) -> None:
    env = {**ENV, "COLORFGBG": colorfgbg} if colorfgbg is not None else ENV
    for output in (TTY, PIPE):
        markdown = plan(output, Options(render="markdown", color="always", theme=theme), env)
        assert markdown.markdown is not None and markdown.markdown.theme == expected


def test_the_clipboard_is_written_to_a_terminal_only() -> None:
    options = Options(render="markdown", color="always", copy_code=True, code_theme="friendly")
    on_tty, in_pipe = plan(TTY, options, ENV).markdown, plan(PIPE, options, ENV).markdown
    assert on_tty is not None and on_tty.copy_code and on_tty.code_theme == "friendly"
    assert in_pipe is not None and not in_pipe.copy_code and in_pipe.code_theme == "friendly"
