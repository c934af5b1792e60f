"""Detection: one function per question, every answer overridable, never a crash."""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import struct
import sys
import termios

import pytest

import outstream
from outstream.sinks.detect import SinkKind, color_system, is_terminal, terminal_info, terminal_size


@pytest.fixture
def tty():
    import pty

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    with open(slave, "w", encoding="utf-8") as f:
        yield f
    os.close(master)


def test_terminal_size_from_the_terminal_then_env_overrides(tty):
    assert terminal_size(tty, env={}) == (100, 30)
    assert terminal_size(tty, env={"COLUMNS": "120"}) == (120, 30)
    assert terminal_size(tty, env={"COLUMNS": "120", "LINES": "40"}) == (120, 40)
    assert terminal_size(tty, env={"COLUMNS": "zero"}) == (100, 30)


def test_terminal_size_follows_a_resize(tty):
    fcntl.ioctl(tty.fileno(), termios.TIOCSWINSZ, struct.pack("HHHH", 50, 132, 0, 0))
    assert terminal_size(tty, env={}) == (132, 50)


def test_terminal_size_of_something_that_is_no_terminal_falls_back():
    assert terminal_size(io.StringIO(), env={}) == (80, 24)
    assert terminal_size(io.StringIO(), env={}, fallback=(100, 10)) == (100, 10)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "standard"),
        ({"TERM": "xterm-256color"}, "256"),
        ({"TERM": "xterm-256color", "COLORTERM": "truecolor"}, "truecolor"),
        ({"TERM": "dumb"}, "none"),
        ({"TERM": "xterm-256color", "NO_COLOR": "1"}, "none"),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, "standard"),
        ({"NO_COLOR": ""}, "standard"),  # no-color.org: only a non-empty value counts
    ],
)
def test_colour_system_on_a_terminal(tty, env, expected):
    assert color_system(tty, env) == expected


def test_colour_off_a_terminal_only_when_forced():
    assert color_system(io.StringIO(), {}) == "none"
    assert color_system(io.StringIO(), {"FORCE_COLOR": "1"}) == "standard"
    assert is_terminal(io.StringIO(), {"FORCE_COLOR": "1"})
    assert not is_terminal(io.StringIO(), {"NO_COLOR": "1"})


def test_terminal_info_gathers_every_answer(tty):
    info = terminal_info(tty, {"TERM": "xterm-256color"})
    assert (info.kind, info.is_terminal, info.width, info.height) == (SinkKind.TTY, True, 100, 30)
    assert (info.color_system, info.term, info.dumb) == ("256", "xterm-256color", False)
    assert terminal_info(tty, {"TERM": "dumb"}).dumb


def test_stream_into_a_redirected_stdout():
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        outstream.stream(["redirected ", "output"])
    assert buffer.getvalue() == "redirected output"


def test_stream_into_a_closed_or_missing_stdout_is_a_sink_error(monkeypatch):
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stdout", closed)
    with pytest.raises(outstream.SinkError, match="closed"):
        outstream.stream("text")
    monkeypatch.setattr(sys, "stdout", None)
    with pytest.raises(outstream.SinkError, match="there is none"):
        outstream.stream("text")


def test_a_notebook_stream_has_the_notebook_size_not_the_servers_terminal(tty):
    class OutStream:  # what ipykernel's stream looks like to detection
        def fileno(self) -> int:
            return tty.fileno()  # a kernel's fileno() is the server's terminal

    OutStream.__module__ = "ipykernel.iostream"
    assert terminal_size(OutStream(), env={}) == (115, 100)
    assert terminal_size(OutStream(), env={"JUPYTER_COLUMNS": "90"}) == (90, 100)
    assert terminal_info(OutStream(), env={"TERM": "xterm"}).term is None
