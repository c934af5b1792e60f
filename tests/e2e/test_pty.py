"""End to end on a real pseudo-terminal: what the screen shows, and Ctrl-C.

`outstream.testing.run_in_pty` runs ``python -m outstream`` with stdout and
stderr on a new 80x24 pty; `pyte` plays the bytes it wrote on an emulated
screen. Few tests, only for what needs a terminal.
"""

from __future__ import annotations

import os
import re
import sys

import pyte
import pytest

from outstream.testing import run_in_pty

pytestmark = pytest.mark.pty

ROWS, COLS = 24, 80


def child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def outstream_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "outstream", *args]


def screen_of(output: bytes) -> pyte.Screen:
    screen = pyte.Screen(COLS, ROWS)
    pyte.ByteStream(screen).feed(output)
    return screen


def shown_lines(screen: pyte.Screen) -> list[str]:
    lines = [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def test_file_typed_out_shows_on_the_screen(tmp_path):
    lines = [
        "# A streamed answer",
        "",
        "Pacing on an absolute schedule — no drift.",
        "Ünïcode, wide 日本語 and emoji 👍 stay whole.",
        "Last line.",
    ]
    path = tmp_path / "answer.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_in_pty(
        outstream_argv("--cps", "2000", "-f", str(path)), rows=ROWS, cols=COLS, env=child_env()
    )
    assert result.returncode == 0, result.output
    screen = screen_of(result.output)
    assert shown_lines(screen) == lines
    assert (screen.cursor.y, screen.cursor.x) == (len(lines), 0)


def test_escape_sequences_from_the_text_do_not_reach_the_terminal(tmp_path):
    path = tmp_path / "hostile.txt"
    path.write_bytes(
        b"line one\n"
        b"line two\n"
        b"\x1b]0;pwned\x07\x1b[2J\x1b[H"  # set the title, clear the screen, go home
        b"\x1b]52;c;cHduZWQ=\x07"  # write the clipboard
        b"line three\rover\n"
    )
    result = run_in_pty(
        outstream_argv("--instant", "-f", str(path)), rows=ROWS, cols=COLS, env=child_env()
    )
    assert result.returncode == 0, result.output
    assert b"\x1b]" not in result.output
    assert b"\x1b[2J" not in result.output
    screen = screen_of(result.output)
    assert screen.title == ""
    assert shown_lines(screen) == ["line one", "line two", "line three", "over"]


def test_ctrl_c_exits_130_and_ends_the_line(tmp_path):
    text = "This sentence types out slowly, so Ctrl-C comes while it is being shown."
    result = run_in_pty(
        outstream_argv("--cps", "20", text),
        rows=ROWS,
        cols=COLS,
        env=child_env(),
        interrupt_after=b"This",
    )
    assert result.returncode == 130, result.output
    assert b"Traceback" not in result.output
    assert b"KeyboardInterrupt" not in result.output
    assert result.output.endswith(b"\n")
    shown = shown_lines(screen_of(result.output))
    assert len(shown) == 1
    assert text.startswith(shown[0])
    assert len(shown[0]) < len(text)


def test_sigterm_exits_143_ends_the_line_and_still_prints_stats(tmp_path):
    import signal

    text = "This sentence types out slowly, so SIGTERM comes while it is being shown."
    result = run_in_pty(
        outstream_argv("--cps", "20", "--stats", text),
        rows=ROWS,
        cols=COLS,
        env=child_env(),
        interrupt_after=b"This",
        interrupt_signal=signal.SIGTERM,
    )
    assert result.returncode == 143, result.output
    assert b"Traceback" not in result.output
    shown = shown_lines(screen_of(result.output))
    assert text.startswith(shown[0]) and len(shown[0]) < len(text)
    assert shown[1].startswith("outstream: ")  # the stats block, on a line of its own


def test_ctrl_c_mid_colour_leaves_the_terminal_attributes_reset(tmp_path):
    source = tmp_path / "colour.txt"
    source.write_bytes(b"\x1b[31mred text that goes on and on, slowly enough to be interrupted")
    result = run_in_pty(
        outstream_argv("--cps", "20", "--escapes", "sgr", "-f", str(source)),
        rows=ROWS,
        cols=COLS,
        env=child_env(),
        interrupt_after=b"red",
    )
    assert result.returncode == 130, result.output
    screen = screen_of(result.output)
    assert screen.buffer[0][0].fg == "red"  # the colour went through...
    assert screen.cursor.attrs.fg == "default"  # ...and was reset when it stopped
    assert screen.cursor.x == 0  # on a fresh line


def test_words_wrap_at_the_terminal_width_and_a_resize_applies_from_the_next_line(tmp_path):
    words = " ".join(f"word{i:02d}" for i in range(60))  # 6 cells a word, 419 in all
    source = tmp_path / "words.txt"
    source.write_text(words)
    result = run_in_pty(
        outstream_argv("--cps", "400", "-f", str(source)),
        rows=ROWS,
        cols=40,
        env=child_env(),
        resize_after=b"word05",
        resize_to=(ROWS, 20),
    )
    assert result.returncode == 0, result.output
    lines = result.output.decode().split("\r\n")
    assert " ".join(" ".join(lines).split()) == words  # every word, none broken
    assert len(lines[0]) > 20 and all(len(line) <= 40 for line in lines)
    assert all(len(line) <= 20 for line in lines[2:])  # the line in progress kept its width
    assert max(len(line) for line in lines[2:]) > 13  # and the new one is used


def _plain_lines(output: bytes, cols: int, rows: int) -> list[str]:
    screen = pyte.HistoryScreen(cols, rows, history=10_000)
    pyte.ByteStream(screen).feed(output)
    history = ["".join(c.data for c in line.values()).rstrip() for line in screen.history.top]
    lines = history + [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return lines


CORPUS = sorted(
    p.name
    for p in (__import__("pathlib").Path(__file__).parent.parent / "data" / "answers").glob("*.md")
)


@pytest.mark.parametrize("name", CORPUS)
def test_markdown_on_a_terminal_ends_as_one_render_of_the_whole_answer(name):
    """Scrollback plus screen, as a terminal emulator shows them, equal a one-shot render."""
    import pathlib
    import re

    from outstream.core.markdown import render_markdown

    path = pathlib.Path(__file__).parent.parent / "data" / "answers" / name
    cols, rows = 80, 24
    result = run_in_pty(
        outstream_argv("-m", "--cps", "5000", "-f", str(path)),
        rows=rows,
        cols=cols,
        env=child_env(),
    )
    assert result.returncode == 0, result.output
    expected = [
        re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip()
        for line in render_markdown(path.read_text(), cols)
    ]
    while expected and not expected[-1]:
        expected.pop()
    if "\u200d" in path.read_text():
        # pyte drops what follows a ZWJ sequence on a line (👩‍💻 ...): check the
        # bytes themselves, every rendered line in order, instead of the screen.
        raw = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.output.decode()).replace("\r", "")
        position = 0
        for line in filter(None, (line.strip() for line in expected)):
            position = raw.index(line, position) + len(line)
    else:
        assert _plain_lines(result.output, cols, rows) == expected
    # The cursor, hidden while the live region was drawn, is shown again at the end.
    assert result.output.rindex(b"\x1b[?25h") > result.output.rindex(b"\x1b[?25l")


def test_record_and_save_deltas_on_a_terminal_with_a_resize_and_ctrl_c(tmp_path):
    """What was shown and what arrived are both kept, up to Ctrl-C, and both play back."""
    import json

    from outstream.recordings import read_deltas

    deltas, cast = tmp_path / "a.jsonl", tmp_path / "a.cast"
    words = " ".join(f"word{i:03d}" for i in range(400))
    result = run_in_pty(
        outstream_argv("--cps", "300", "--save-deltas", str(deltas), "--record", str(cast)),
        rows=ROWS,
        cols=40,
        stdin=words.encode(),
        env=child_env(),
        resize_after=b"word010",
        resize_to=(ROWS, 30),
        interrupt_after=b"word030",
    )
    assert result.returncode == 130
    header, *events = [json.loads(line) for line in cast.read_text().splitlines()]
    assert (header["width"], header["height"]) == (40, ROWS)
    assert [e[2] for e in events if e[1] == "r"] == ["30x24"]
    shown = "".join(e[2] for e in events if e[1] == "o")
    assert "word030" in shown and "word399" not in shown
    assert shown.replace("\r\n", " ").split() == result.output.decode().replace("\r\n", " ").split()
    script, _ = read_deltas(deltas)  # the source came in whole from the pipe: all of it
    assert "".join(item for _, item in script if isinstance(item, str)) == words


def test_the_demo_on_a_terminal_renders_markdown_and_ends_with_the_numbers():
    result = run_in_pty(outstream_argv("demo", "--speed", "20"), rows=40, cols=100, env=child_env())
    assert result.returncode == 0, result.output
    text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", result.output).decode()
    assert "Streaming an answer, done right" in text and "# Streaming" not in text  # rendered
    assert "first text" in text and "tokens  prompt 42" in text


def test_smooth_on_a_real_terminal_flows_as_on_the_virtual_clock():
    # The guard against the real path and the simulation drifting apart: the
    # default pacing of `outstream`, stdin a pipe that a producer writes in
    # bursts on the real clock (each burst as 40 writes, one per word, as an
    # SDK gives them), stdout a pty. Shape, not durations: no 100 ms window
    # shows much more than a steady flow would, and the windows follow the
    # virtual clock's run of the same script.
    import codecs
    import math

    import outstream
    from outstream.testing import MemorySink, VirtualClock

    lag, period, n_bursts, per_burst = 0.2, 0.2, 6, 40
    words = [f"w{i:03d} " for i in range(n_bursts * per_burst)]
    script = [
        (b * period, word) for b in range(n_bursts) for word in words[b * per_burst :][:per_burst]
    ]
    lead_in = 0.3  # the child starts and waits for its stdin
    result = run_in_pty(
        outstream_argv("--smooth", str(lag)),
        rows=ROWS,
        cols=COLS,
        stdin=[(lead_in + t, word.encode()) for t, word in script],
        env=child_env(),
    )
    assert result.returncode == 0
    decoder = codecs.getincrementaldecoder("utf-8")()
    strip = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\s")
    real = [(t, len(strip.sub("", decoder.decode(data)))) for t, data in result.reads]
    real = [(t, n) for t, n in real if n]

    clock = VirtualClock()

    def gen():  # type: ignore[no-untyped-def]
        for t, word in script:
            clock.sleep_until(t)
            yield word

    sink = MemorySink(clock, terminal=True)
    outstream.stream(gen(), sink, clock=clock, pace=outstream.Smooth(lag=lag), wrap=False)
    virtual = [(t, len(text.replace(" ", ""))) for t, text in sink.writes]

    def windows(shown: list[tuple[float, int]]) -> list[int]:
        t0 = shown[0][0]
        counts = [0] * (math.floor((shown[-1][0] - t0) / 0.1) + 1)
        for t, n in shown:
            counts[math.floor((t - t0) / 0.1)] += n
        return counts

    burst_chars = per_burst * 4
    steady = burst_chars * 0.1 / period  # what a 100 ms window shows at the source's rate
    real_counts, virtual_counts = windows(real), windows(virtual)
    assert sum(real_counts) == sum(virtual_counts) == n_bursts * burst_chars
    assert max(virtual_counts) <= 1.3 * steady
    assert max(real_counts) <= 1.5 * steady, real_counts  # a lump was a whole burst: 2 x steady
    for k in range(1, min(len(real_counts), len(virtual_counts)) - 1):
        assert abs(real_counts[k] - virtual_counts[k]) <= 0.5 * steady, (
            real_counts,
            virtual_counts,
        )


@pytest.mark.parametrize("pacing", [[], ["--instant"]], ids=["default", "instant"])
def test_a_first_token_shows_before_the_next_one_comes(pacing):
    # A model's first token is a word with no end yet ("Sure"). Soft wrap
    # used to hold it until the next token: with a model that pauses, the
    # screen stayed empty. (Ordering, not a duration: the next token is sent
    # seconds later.)
    next_at = 2.5
    result = run_in_pty(
        outstream_argv(*pacing),
        rows=ROWS,
        cols=COLS,
        stdin=[(0.3, b"Sure"), (next_at, b", here it is.\n")],
        env=child_env(),
    )
    assert result.returncode == 0
    seen = b""
    for t, data in result.reads:
        seen += data
        if b"Sure" in seen:
            assert t < next_at
            break
    else:
        pytest.fail(f"never shown: {seen!r}")
    assert shown_lines(screen_of(result.output))[0] == "Sure, here it is."


@pytest.mark.parametrize("seed", range(20))
def test_after_ctrl_c_the_cast_shows_what_the_screen_shows(seed, tmp_path):
    """Ctrl-C at a point that moves with the seed, in plain wrapped text and in Markdown:
    the recording, played into a terminal emulator, shows what the terminal showed."""
    import json
    import random

    rng = random.Random(seed)
    cast = tmp_path / "a.cast"
    words = " ".join(f"word{i:03d}" + ("\n\n" if i % 17 == 16 else "") for i in range(300))
    markdown = ("-m",) if seed % 2 else ()
    at = rng.randrange(5, 120)
    result = run_in_pty(
        outstream_argv(*markdown, "--cps", "600", "--record", str(cast)),
        rows=ROWS,
        cols=COLS,
        stdin=words.encode(),
        env=child_env(),
        interrupt_after=f"word{at:03d}".encode(),
    )
    assert result.returncode == 130
    _, *events = [json.loads(line) for line in cast.read_text().splitlines()]
    played = "".join(e[2] for e in events if e[1] == "o").encode()
    assert _plain_lines(played, COLS, ROWS) == _plain_lines(result.output, COLS, ROWS)


WRITER_WITH_PRINTS = """
import sys, outstream
with outstream.Writer(sys.stdout, pace=outstream.Typewriter(cps=400), **{options}) as w:
    w.write("The quick brown fox jumps over the lazy")
    w.print("PRINTED INSIDE")
    w.write(" dog. And **more** text follows.\\n\\n- a list\\n- of items")
    w.print("SECOND", "print", sep="-")
    w.write("\\n\\nThe end.\\n")
"""


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            "{}",
            [
                "The quick brown fox jumps over the lazy",
                "PRINTED INSIDE",
                " dog. And **more** text follows.",
                "",
                "- a list",
                "- of items",
                "SECOND-print",
                "",
                "",
                "The end.",
            ],
        ),
        (
            "dict(render='markdown')",
            [
                "The quick brown fox jumps over the lazy",
                "PRINTED INSIDE",
                "",  # the blank line rich puts between blocks
                "dog. And more text follows.",
                "",
                " • a list",
                " • of items",
                "SECOND-print",
                "",
                "The end.",
            ],
        ),
    ],
)
def test_writer_print_shows_its_line_between_the_paced_text_on_a_terminal(options, expected):
    """A bare print() would land inside the paced line (`…the lazyPRINTED INSIDE`);
    Writer.print shows the text before it, then its line, then the text goes on."""
    script = WRITER_WITH_PRINTS.format(options=options)
    result = run_in_pty([sys.executable, "-c", script], rows=ROWS, cols=COLS, env=child_env())
    assert result.returncode == 0, result.output
    assert shown_lines(screen_of(result.output)) == expected


WRITER_PRINT_IN_A_CODE_BLOCK = """
import sys, outstream
with outstream.Writer(sys.stdout, pace=outstream.Typewriter(cps=2000), render="markdown") as w:
    w.write("Code:\\n\\n```python\\nx = 1\\n")
    w.print("NOTE")
    w.write("y = 2\\n```\\n\\n| a | b |\\n|---|---|\\n| 1 | 2 |\\n")
"""


def test_writer_print_inside_a_code_block_lets_the_block_go_on_after_it():
    """The open code block is finished above the line, and goes on below it: its closing
    fence is not taken for an opening one (which made the rest of the answer code)."""
    result = run_in_pty(
        [sys.executable, "-c", WRITER_PRINT_IN_A_CODE_BLOCK], rows=ROWS, cols=COLS, env=child_env()
    )
    assert result.returncode == 0, result.output
    lines = [line.strip() for line in shown_lines(screen_of(result.output)) if line.strip()]
    assert lines == ["Code:", "x = 1", "NOTE", "y = 2", "a  b", "────", "1  2"]


def test_the_warning_for_a_writer_left_open_comes_after_its_text_on_a_terminal():
    """stderr is the same terminal: the ResourceWarning is given once the text is shown."""
    script = (
        "import sys, outstream\n"
        "w = outstream.Writer(sys.stdout, pace=outstream.Typewriter(cps=400))\n"
        "w.write('hello, world\\n')\n"
    )
    result = run_in_pty(
        [sys.executable, "-X", "dev", "-c", script], rows=ROWS, cols=COLS, env=child_env()
    )
    assert result.returncode == 0, result.output
    lines = shown_lines(screen_of(result.output))
    assert lines[0] == "hello, world"
    assert any("ResourceWarning" in line for line in lines[1:])
