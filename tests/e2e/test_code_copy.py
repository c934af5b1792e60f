"""Code that survives copy and paste (issue 16), end to end: what a user selects on the
screen of a real pty (played on pyte) or reads from a pipe is the code, line for line,
and ``--copy-code`` puts the last block on the clipboard with OSC 52, written by
outstream and never by the model."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys

import pyte
import pytest

from outstream.core.codeview import CROP_MARK
from outstream.core.wrap import width_cells
from outstream.testing import run_in_pty
from tests.conftest import outstream

pytestmark = pytest.mark.pty

ROWS, COLS = 24, 60
SGR = re.compile(r"\x1b\[[0-9;]*m")
OSC52 = re.compile(rb"\x1b\]52;c;([A-Za-z0-9+/=]*)\x07")

# A short block, then one taller than the screen (its top rows are committed while it
# is still open), with lines wider than the screen, wide characters and indentation.
FIRST = ["x = 1", "print(x)"]
SECOND = [
    "def main(argv: list[str]) -> int:",
    '    """Parse the arguments and run."""',
    *(f"    step_{i} = compute({i}, argv)  # step {i}" for i in range(30)),
    "    message = 'a line far wider than the sixty columns of this screen, on purpose'",
    "    wide = '中文字符也不会被折断，这一行比屏幕更宽更宽更宽更宽更宽'",
    "        return 0",
]
ANSWER = (
    "Two blocks:\n\n```python\n" + "\n".join(FIRST) + "\n```\n\nAnd the long one:\n\n"
    "```python\n" + "\n".join(SECOND) + "\n```\n\nThat is all.\n"
)


def child_env(**more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "COLORFGBG")}
    return {**env, **more}


def screen_lines(output: bytes) -> list[str]:
    """Scrollback and screen, as a user selects them (pyte keeps no trailing blanks)."""
    screen = pyte.HistoryScreen(COLS, ROWS, history=10_000)
    pyte.ByteStream(screen).feed(output)
    history = ["".join(c.data for c in line.values()).rstrip() for line in screen.history.top]
    lines = history + [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def cropped(line: str, width: int) -> str:
    """`line` as a terminal of `width` columns shows it: whole, or cut with the mark."""
    if width_cells(line) <= width:
        return line
    out = ""
    for char in line:
        if width_cells(out + char) > width - 1:
            break
        out += char
    return out + " " * (width - 1 - width_cells(out)) + CROP_MARK


def test_code_selected_on_the_screen_is_the_code_line_for_line(tmp_path):
    path = tmp_path / "answer.md"
    path.write_text(ANSWER, encoding="utf-8")
    result = run_in_pty(
        [sys.executable, "-m", "outstream", "-m", "--cps", "3000", "-f", str(path)],
        rows=ROWS,
        cols=COLS,
        env=child_env(),
    )
    assert result.returncode == 0, result.output
    lines = screen_lines(result.output)
    start = lines.index(FIRST[0])
    assert lines[start : start + 2] == FIRST  # no padding before a line, no blank row in it
    assert lines[start - 1] == "" and lines[start + 2] == ""  # the blank line between blocks
    start = lines.index(SECOND[0])
    shown = lines[start : start + len(SECOND)]
    assert shown == [cropped(line, COLS) for line in SECOND]
    # Only the lines wider than the screen are cropped, each at its last column.
    assert [line.endswith(CROP_MARK) for line in shown] == [
        width_cells(line) > COLS for line in SECOND
    ]
    assert sum(line.endswith(CROP_MARK) for line in shown) == 2
    assert lines[start + len(SECOND) :] == ["", "That is all."]
    assert b"\x1b]52" not in result.output  # nothing copied unless asked


def test_code_in_a_pipe_is_written_whole_one_line_each():
    process = outstream(
        "-m", "--color", "always", "--wrap", str(COLS), env=child_env(), stdin=subprocess.PIPE
    )
    out, err = process.communicate(ANSWER)
    assert process.returncode == 0 and err == ""
    lines = SGR.sub("", out).split("\n")
    start = lines.index(SECOND[0])
    # Wider lines too: the pager or the terminal wraps them, and a copy joins them again.
    assert lines[start : start + len(SECOND)] == SECOND
    assert lines[lines.index(FIRST[0]) :][:2] == FIRST
    assert "\x1b]52" not in out


MODEL_OSC52 = "\x1b]52;c;cHduZWQ=\x07"  # "pwned", from the model


@pytest.mark.parametrize("copy", [False, True], ids=["plain", "copy-code"])
def test_only_copy_code_writes_osc52_and_never_the_model_s_own(copy, tmp_path):
    path = tmp_path / "answer.md"
    hostile = (
        ANSWER.replace("That is all.", f"That {MODEL_OSC52}is all.").replace(
            "x = 1", f"x = 1{MODEL_OSC52}"
        )
        + f"\n```\nlast {MODEL_OSC52}block\n```\n"
    )
    path.write_text(hostile, encoding="utf-8")
    argv = [sys.executable, "-m", "outstream", "-m", "--instant", "-f", str(path)]
    result = run_in_pty(argv + ["--copy-code"] * copy, rows=ROWS, cols=COLS, env=child_env())
    assert result.returncode == 0, result.output
    payloads = OSC52.findall(result.output)
    if not copy:
        assert b"\x1b]52" not in result.output
        return
    # One sequence, after the answer: the last block, without the model's sequence.
    assert [base64.b64decode(p) for p in payloads] == [b"last block\n"]
    assert result.output.index(b"\x1b]52") > result.output.index(b"last block")
    assert b"cHduZWQ=" not in result.output
    lines = screen_lines(result.output)
    assert lines[-1] == "last block" and "outstream:" not in "".join(lines)


def test_copy_code_copies_the_whole_last_block_even_where_the_screen_crops_it(tmp_path):
    path = tmp_path / "answer.md"
    path.write_text(ANSWER, encoding="utf-8")
    result = run_in_pty(
        [sys.executable, "-m", "outstream", "-m", "--instant", "--copy-code", "-f", str(path)],
        rows=ROWS,
        cols=COLS,
        env=child_env(),
    )
    assert result.returncode == 0, result.output
    (payload,) = OSC52.findall(result.output)
    assert base64.b64decode(payload).decode() == "\n".join(SECOND) + "\n"
    # The screen is as without --copy-code: the sequence shows nothing, moves no cursor.
    lines = screen_lines(result.output)
    assert lines[-2:] == ["", "That is all."]


def test_copy_code_says_why_nothing_was_copied(tmp_path):
    # On a terminal, an answer without a fenced code block:
    result = run_in_pty(
        [sys.executable, "-m", "outstream", "-m", "--copy-code", "--instant", "no code here"],
        rows=ROWS,
        cols=100,
        env=child_env(),
    )
    assert result.returncode == 0, result.output
    assert b"\x1b]52" not in result.output
    screen = pyte.Screen(100, ROWS)
    pyte.ByteStream(screen).feed(result.output)
    lines = [line.rstrip() for line in screen.display if line.strip()]
    assert lines == [
        "no code here",
        "outstream: --copy-code: nothing copied: the answer has no fenced code block",
    ]
    # Into a pipe: the text as ever, and a line on stderr.
    process = outstream("-m", "--copy-code", env=child_env(), stdin=subprocess.PIPE)
    out, err = process.communicate(ANSWER)
    assert process.returncode == 0 and out == ANSWER and "\x1b]52" not in out
    assert err == (
        "outstream: --copy-code: nothing copied: the output is not a terminal "
        "(OSC 52 goes to one)\n"
    )


def test_copy_code_without_markdown_copies_nothing_and_says_so():
    result = run_in_pty(
        [sys.executable, "-m", "outstream", "--copy-code", "--instant", "x"], rows=ROWS,
        cols=100, env=child_env(),
    )  # fmt: skip
    assert result.returncode == 0
    assert result.output == (
        b"outstream: --copy-code: nothing copied: the text is not rendered as Markdown "
        b"(give -m)\r\nx\r\n"
    )
