"""The live region in a real terminal: tmux, on a private server of its own.

pyte keeps no scrollback the way tmux does: tmux pushes what an erase from
the screen's top-left corner clears into its history (``scroll-on-clear``,
on by default), so a live region that starts on the top row and erased
below itself every frame left a copy of each frame there.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import uuid

import pytest

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
        """A channel signalled once the pane's output holds `text` (`wait_for` waits on it)."""
        channel = f"shown-{uuid.uuid4().hex[:6]}"
        self._tmux(
            "pipe-pane", "-o", "-t", "t",
            f"grep -q -a -F {text} && tmux -L {self.socket} wait-for -S {channel}",
        )  # fmt: skip
        return channel

    def wait_for(self, channel: str, timeout: float = 60) -> None:
        subprocess.run(["tmux", "-L", self.socket, "wait-for", channel], timeout=timeout)

    def resize(self, cols: int) -> None:
        self._tmux("resize-window", "-t", "t", "-x", str(cols))

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


def test_a_resize_in_the_middle_of_a_block_leaves_no_line_twice(tmux, tmp_path):
    """tmux reflows what it shows when it gets narrower: the live region counts its
    rows at the new width, and moves up over all of them, not the old count."""
    words = [f"word{i:03d}" for i in range(240)]
    answer = tmp_path / "answer.md"
    answer.write_text("# A heading\n\n" + " ".join(words) + "\n\nThe end.\n")
    # Three lines into the paragraph, still open. (Later, once the paragraph's
    # rows at the new width outgrow this 12-row screen — word045 on — a stale
    # row is still left: issue 12 (1) is not done there.)
    drawn = tmux.when_shown("word030")
    tmux.start(f"{outstream_command('-m', '--cps', '400', '-f', os.fspath(answer))}")
    tmux.wait_for(drawn)
    tmux.resize(70)
    tmux.wait()
    lines = [line for line in tmux.everything() if line.strip()]
    shown = " ".join(lines).split()
    assert [w for w in shown if w.startswith("word")] == words  # each once, in order
    assert sum(line.startswith("The end.") for line in lines) == 1
