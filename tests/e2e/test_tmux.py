"""The live region in a real terminal: tmux, on a private server of its own.

pyte keeps no scrollback the way tmux does: tmux pushes what an erase from
the screen's top-left corner clears into its history (``scroll-on-clear``,
on by default), so a live region that starts on the top row and erased
below itself every frame left a copy of each frame there.
"""

from __future__ import annotations

import os
import pathlib
import random
import shutil
import subprocess
import sys
import uuid

import pytest

from outstream.core.markdown import render_markdown

from ..clirun import child_env

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

ANSWER = pathlib.Path(__file__).parents[2] / "examples" / "answer.md"


class Tmux:
    """A tmux server on a socket of its own, one window of `cols`×`rows`, running a shell."""

    def __init__(self, cols: int, rows: int) -> None:
        self.socket = f"outstream-test-{uuid.uuid4().hex[:8]}"
        env = {**child_env(), "PS1": "$ ", "TERM": "xterm-256color"}
        self._tmux(
            "-f", "/dev/null", "new-session", "-d", "-x", str(cols), "-y", str(rows), "-s", "t",
            "bash --norc --noprofile", env=env,
        )  # fmt: skip

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        ran = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, env=env, timeout=10
        )
        return ran.stdout

    def run(self, command: str, timeout: float = 60) -> None:
        """Type `command` and Enter, and wait until it has ended."""
        self.start(command)
        self.wait(timeout)

    def start(self, command: str) -> None:
        """Type `command` and Enter; `wait` waits for its end (tmux's wait-for channel)."""
        self._channel = f"done-{uuid.uuid4().hex[:6]}"
        self._tmux(
            "send-keys", "-t", "t", f"{command}; tmux -L {self.socket} wait-for -S {self._channel}",
            "Enter",
        )  # fmt: skip

    def wait(self, timeout: float = 60) -> None:
        self.wait_for(self._channel, timeout)

    def when_shown(self, text: str) -> str:
        """A channel signalled once the pane's output holds `text` (`wait_for` waits on it).

        The pane's output is read as it comes, not line by line: the live
        region's last line has no newline after it until more text comes.
        """
        channel = f"shown-{uuid.uuid4().hex[:6]}"
        wait = f"import os\nb=b''\nwhile {text.encode()!r} not in b:\n b=b[-64:]+os.read(0,65536)"
        self._tmux(
            "pipe-pane", "-t", "t",  # (the pipe of an earlier call closed first)
            f'{sys.executable} -c "{wait}" && tmux -L {self.socket} wait-for -S {channel}',
        )  # fmt: skip
        return channel

    def wait_for(self, channel: str, timeout: float = 60) -> None:
        subprocess.run(["tmux", "-L", self.socket, "wait-for", channel], timeout=timeout)

    def resize(self, cols: int, rows: int | None = None) -> None:
        size = ["-x", str(cols)] + ([] if rows is None else ["-y", str(rows)])
        self._tmux("resize-window", "-t", "t", *size)

    def everything(self) -> list[str]:
        """The history and the screen, line by line (rows a line wrapped onto joined)."""
        return self._tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "t").splitlines()

    def history_size(self) -> int:
        return int(self._tmux("display", "-p", "-t", "t", "#{history_size}").strip())

    def close(self) -> None:
        self._tmux("kill-server")


@pytest.fixture
def tmux():
    terminal = Tmux(100, 12)
    yield terminal
    terminal.close()


def outstream_command(*args: str) -> str:
    return " ".join([sys.executable, "-m", "outstream", *args])


def test_markdown_started_on_the_top_row_leaves_no_frame_in_the_scrollback(tmux, tmp_path):
    answer = tmp_path / "answer.md"
    answer.write_text("".join(ANSWER.read_text(encoding="utf-8").splitlines(True)[:6]))
    first = answer.read_text().splitlines()[0].removeprefix("# ")
    tmux.run(f"clear; {outstream_command('-m', '--cps', '200', '-f', os.fspath(answer))}")
    lines = tmux.everything()
    assert sum(first in line for line in lines) == 1, "\n".join(lines)
    assert tmux.history_size() == 0  # six lines of answer on a 12-row screen


WORDS = [f"word{i:03d}" for i in range(240)]
RESIZES = [(46, 70, None), (90, 70, None), (150, 40, None), (90, 130, None), (120, 60, 7)]
_seeded = random.Random(12)
RESIZES += [(_seeded.randrange(2, 230), _seeded.randrange(30, 140), None) for _ in range(3)]


@pytest.mark.parametrize(("n_words", "cols", "rows"), RESIZES)
def test_a_resize_at_any_point_of_an_open_block_shows_each_line_once(
    tmux, tmp_path, n_words, cols, rows
):
    """tmux reflows what it shows when it gets narrower, and pushes the top of the
    screen into its history though there is room below: the open block's lines
    above the last are left as they are, and it goes on at its width."""
    source = "# A heading\n\n" + " ".join(WORDS) + "\n\nThe end.\n"
    lines = resized_at(tmux, tmp_path, source, WORDS[n_words], [(cols, rows)])
    assert_shown_once(lines, source)


@pytest.mark.parametrize("widths", [[50, 100], [40, 90], [90, 80, 70, 80, 90, 100], [30, 60, 45]])
def test_a_window_dragged_in_several_resizes_shows_each_line_once(tmux, tmp_path, widths):
    """tmux reflows its screen at each size but tells the program of the first and,
    250 ms later, the last: a frame drawn for the first size when the screen is at
    another went up the wrong number of rows (a line lost, or one twice)."""
    source = "# A heading\n\n" + " ".join(WORDS) + "\n\nThe end.\n"
    lines = resized_at(tmux, tmp_path, source, WORDS[200], [(cols, None) for cols in widths])
    assert_shown_once(lines, source)


def assert_shown_once(lines: list[str], source: str) -> None:
    """That tmux's `lines` show `source` rendered, each line once (at the width the
    block was begun at; the next block follows the new width)."""
    first = next(i for i, line in enumerate(lines) if line.strip() == "A heading")
    shown = [line.rstrip() for line in lines[first:]]
    while shown and not shown[-1].startswith("The end."):
        shown.pop()  # the prompt and the empty rows below
    # Rows a line wrapped onto are joined: what the lines say, at the width
    # the block was begun at; the next block follows the new width.
    expected = [line.rstrip() for line in render_markdown(source, 100, color_system=None)]
    expected[0] = expected[0].strip()
    shown[0] = shown[0].strip()
    assert shown == expected, "\n".join(shown)


def resized_at(
    tmux, tmp_path, source: str, at: str, sizes: list[tuple[int, int | None]]
) -> list[str]:
    """`-m` fed `source` up to `at`, the window resized to each of `sizes` once that is
    drawn, then the rest: what tmux holds at the end (history and screen, wrapped rows
    joined)."""
    cut = source.index(at)
    # The block is open: its lines are in the live region.
    return shown_in_steps(tmux, tmp_path, [source[:cut], *sizes, source[cut:]])


TELL = object()  # a step of `shown_in_steps`: the program learns the window's size now


def shown_in_steps(
    tmux, tmp_path, steps: list[str | tuple[int, int | None] | object], *, late: bool = False
) -> list[str]:
    """`-m` fed text from a FIFO in steps: a string is fed, then waited for until its last
    word is drawn; `(cols, rows)` resizes the window (done in tmux's screen when it
    returns). With `late`, the program learns the window's size only at a `TELL` step
    (late_size.py), and draws for the size it had until then. What tmux holds at the
    end (history and screen, wrapped rows joined)."""
    fifo = tmp_path / "answer.md"
    os.mkfifo(fifo)
    command = outstream_command("-m", "--instant", "-f", os.fspath(fifo))
    control = tmp_path / "size"
    if late:
        os.mkfifo(control)
        command = f"{sys.executable} {LATE_SIZE} {control} {command}"
    tmux.start(command)
    with open(fifo, "w", encoding="utf-8") as answer:
        for step in steps:
            if step is TELL:
                control.write_text("\n")
            elif isinstance(step, str):
                drawn = tmux.when_shown(step.split()[-1])  # (a typed word: not in the command)
                answer.write(step)
                answer.flush()
                tmux.wait_for(drawn)
            else:
                tmux.resize(*step)
    tmux.wait()
    return tmux.everything()


LATE_SIZE = pathlib.Path(__file__).with_name("late_size.py")


def test_a_frame_drawn_for_a_size_the_terminal_has_not_told_yet_repeats_nothing(tmux, tmp_path):
    """tmux reflowed the last line (55 cells) onto two rows at 30 columns, and the
    program, not told yet, drew it grown as for 100: from the start of the cursor's row
    (a carriage return), the line's second row now, so its first 30 cells showed twice.
    What it gained is written where it ends instead: at the cursor, at any width."""
    source = "# A heading\n\n" + " ".join(WORDS) + "\n\nThe end.\n"
    cut, grown = source.index(WORDS[31]), source.index(WORDS[33])
    steps = [source[:cut], (30, None), source[cut:grown], TELL, source[grown:]]
    lines = shown_in_steps(tmux, tmp_path, steps, late=True)
    assert_shown_once(lines, source)


def test_a_line_no_longer_wrapped_is_not_joined_to_the_next_when_tmux_reflows(tmux, tmp_path):
    """At 40 columns a line of the open block (begun at 100) took three rows while a long
    word was typed at its end, then two once the word went on to the next line. tmux
    keeps a row's mark that its line goes on below until the row below is erased whole:
    the second row kept it, and widening to 100 joined the two lines in one."""
    long_word = "abcdefghijklmnopqrstuvwxyz0123"
    head = "# A heading\n\n" + " ".join(WORDS[:9]) + " "  # a line of 71 cells
    source = head + long_word + " and more\n\nThe end.\n"
    rest = source[len(head + long_word) :]
    steps = [head, (40, None), long_word[:10], long_word[10:], (100, None), rest]
    lines = shown_in_steps(tmux, tmp_path, steps)
    assert_shown_once(lines, source)


TABLE = (
    "Results.\n\n| name | value | note |\n|------|-------|------|\n| alpha | 1 | first row |\n"
    "| gamma | 333 | xyzzy plugh |\n| delta | 4444 | fourth row |\n\nAfter the table.\n"
)
CODE = "Code.\n\n```python\nfor i in range(3):\n    print(i, xyzzy.plugh)\n```\n\nAfter the code.\n"


@pytest.mark.parametrize(("source", "at"), [(TABLE, " plugh"), (CODE, ".plugh)")])
def test_a_narrower_resize_while_a_table_row_or_code_line_is_typed_loses_nothing(
    tmux, tmp_path, source, at
):
    """The row being typed, a table's (its border comes after it) or a code line (the
    live region's last row, a code block having no padding): it stays live, and ends
    complete."""
    lines = resized_at(tmux, tmp_path, source, at, [(70, None)])
    shown = "\n".join(lines)
    expected = [line.strip() for line in render_markdown(source, 100, color_system=None)]
    for line in expected:
        assert sum(line in row for row in lines) >= 1, (line, shown)
    assert sum("plugh" in row for row in lines) == 1


EMOJI = [
    "👍🏽",
    "🇯🇵",
    "👨\u200d👩\u200d👧",
    "☺\ufe0f",
    "1\ufe0f\u20e3",
    "🏳\ufe0f\u200d🌈",
    "👩🏿\u200d💻",
]


def test_graphemes_whose_width_tmux_counts_otherwise_leave_no_stale_row(tmp_path):
    """tmux counts 👍🏽 as four cells and 👨‍👩‍👧 as six where we count two: a line that
    may reach the last column is written as rows that fit either way."""
    words = [f"w{i:02d}{EMOJI[i % len(EMOJI)]}" for i in range(80)]
    answer = tmp_path / "answer.md"
    answer.write_text("# Emoji\n\n" + " ".join(words) + "\n\nThe end.\n", encoding="utf-8")
    terminal = Tmux(40, 12)
    try:
        terminal.run(outstream_command("-m", "--cps", "300", "-f", os.fspath(answer)))
        lines = terminal.everything()
    finally:
        terminal.close()
    shown = " ".join(lines).split()
    assert [w[:3] for w in shown if w.startswith("w") and w[1:3].isdigit()] == [
        w[:3] for w in words
    ]
    assert sum(line.startswith("The end.") for line in lines) == 1
