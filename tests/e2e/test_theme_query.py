"""``--theme query`` on a real pty: outstream asks the terminal its background (OSC 11)
and reads the answer from it; this test plays the terminal, answering as xterm does, as
a terminal that ignores OSC 11 does (DA1 only), or not at all."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

pytestmark = pytest.mark.pty

ANSWER = "Some `code`:\n\n```python\ndef f():\n    return 1\n```\n"
LIGHT_INLINE_CODE, DARK_INLINE_CODE = b"\x1b[1;31mcode", b"\x1b[1;36;40mcode"


def run_answering(
    reply: bytes | None, *, env: dict[str, str] | None = None
) -> tuple[int, bytes, list[int]]:
    """``outstream -m --theme query`` on a new pty whose other end writes `reply` once the
    query comes: its exit status, its output, and the pty's settings at its end."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
    child_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "COLORFGBG")}
    child_env.update(TERM="xterm-256color", **(env or {}))
    process = subprocess.Popen(
        [sys.executable, "-m", "outstream", "-m", "--instant", "--theme", "query", ANSWER],
        stdin=slave, stdout=slave, stderr=slave, env=child_env, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    output, asked = bytearray(), False
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed its side
                    break
                if not data:
                    break
                output += data
                if not asked and b"\x1b]11;?" in output:
                    asked = True
                    if reply is not None:
                        os.write(master, reply)
            elif process.poll() is not None:
                break
        code = process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        settings = termios.tcgetattr(master)[3]
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert asked
    return code, bytes(output), settings


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b"\x1b]11;rgb:ffff/ffff/ffff\x07\x1b[?62;22c", LIGHT_INLINE_CODE),  # xterm, white
        (b"\x1b]11;rgb:fdfd/f6f6/e3e3\x1b\\\x1b[?64;1c", LIGHT_INLINE_CODE),  # solarized light, ST
        (b"\x1b]11;rgb:0000/0000/0000\x07\x1b[?62;22c", DARK_INLINE_CODE),
        (b"\x1b]11;rgb:2828/2c2c/3434\x07\x1b[?1;2c", DARK_INLINE_CODE),
    ],
)
def test_the_answer_sets_the_theme_and_the_terminal_is_left_as_it_was(reply, expected):
    code, output, settings = run_answering(reply)
    assert code == 0, output
    assert expected in output
    assert b"rgb:" not in output  # the answer is not echoed onto the screen
    assert settings & termios.ECHO and settings & termios.ICANON  # put back


@pytest.mark.parametrize("reply", [b"\x1b[?62;22c", None], ids=["da1-only", "silent"])
def test_a_terminal_that_does_not_say_falls_back_to_auto(reply):
    code, output, settings = run_answering(reply, env={"COLORFGBG": "0;15"})
    assert code == 0 and LIGHT_INLINE_CODE in output  # COLORFGBG's light
    code, output, settings = run_answering(reply)
    assert code == 0 and DARK_INLINE_CODE in output  # nothing says: dark
    assert settings & termios.ECHO and settings & termios.ICANON
