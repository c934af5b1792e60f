"""Tests for recordings/asciicast.py: ``--record`` writes what a terminal was shown, as asciicast v2.

The recorder alone first (its header, its ``o`` and ``r`` events, a failing
disk), then through `outstream.stream` on the virtual clock, with a resize
and with Ctrl-C. Each file is read back with the project's own cast reader
(`read_cast`, which `outstream replay` uses), which refuses what asciinema
would not play.
"""

from __future__ import annotations

import _thread
import json
import os
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

import outstream
from outstream.recordings.asciicast import CastRecorder, read_cast
from outstream.testing import MemorySink, VirtualClock

from ..test_drive import PtyTerminal


def lines_of(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def recorder(path: Path, **fields: Any) -> CastRecorder:
    options: dict[str, Any] = {"width": 80, "height": 24, "t0": 100.0, "title": "t", "env": {}}
    return CastRecorder(path, **{**options, **fields})


# --- the recorder ---


def test_the_header_keeps_the_size_the_start_and_only_the_shell_and_terminal_of_the_env(
    tmp_path: Path,
) -> None:
    env = {"SHELL": "/bin/zsh", "TERM": "xterm-256color", "HOME": "/home/me", "API_KEY": "sk-1"}
    before = int(time.time())
    recorder(tmp_path / "a.cast", width=120, height=40, title="outstream: text", env=env).close()
    after = int(time.time())
    (header,) = lines_of(tmp_path / "a.cast")
    assert header == {
        "version": 2,
        "width": 120,
        "height": 40,
        "timestamp": header["timestamp"],
        "env": {"SHELL": "/bin/zsh", "TERM": "xterm-256color"},  # no secret of the user's
        "title": "outstream: text",
    }
    assert before <= header["timestamp"] <= after  # the Unix time of the start


def test_output_events_count_from_the_start_and_end_lines_as_a_terminal_receives_them(
    tmp_path: Path,
) -> None:
    with closing(recorder(tmp_path / "a.cast", t0=100.0)) as cast:
        cast.output(100.0, "one\n")
        cast.output(100.25, "two\r\nthree\n\n")  # a CR LF stays one
        cast.output(100.5, "")  # nothing shown: no event
        cast.output(101.0000004, "x")  # to the microsecond
    assert lines_of(tmp_path / "a.cast")[1:] == [
        [0.0, "o", "one\r\n"],
        [0.25, "o", "two\r\nthree\r\n\r\n"],
        [1.0, "o", "x"],
    ]


def test_a_resize_is_an_r_event_of_columns_by_rows(tmp_path: Path) -> None:
    with closing(recorder(tmp_path / "a.cast", t0=100.0)) as cast:
        cast.output(100.0, "wide")
        cast.resize(100.5, 30, 12)
    assert lines_of(tmp_path / "a.cast")[1:] == [[0.0, "o", "wide"], [0.5, "r", "30x12"]]


def test_a_resize_to_the_size_it_was_is_no_event(tmp_path: Path) -> None:
    with closing(recorder(tmp_path / "a.cast", t0=100.0, width=80, height=24)) as cast:
        cast.resize(100.5, 80, 24)  # a drag that ended where it began
        cast.resize(101.0, 30, 12)
        cast.resize(101.5, 30, 12)
    assert lines_of(tmp_path / "a.cast")[1:] == [[1.0, "r", "30x12"]]


def test_event_times_never_go_backwards(tmp_path: Path) -> None:
    # A reader (asciinema, `outstream replay`) refuses a file whose time goes back.
    with closing(recorder(tmp_path / "a.cast", t0=100.0)) as cast:
        cast.output(101.0, "a")
        cast.output(100.5, "b")
    assert read_cast(tmp_path / "a.cast") == ([(1.0, "a"), (1.0, "b")], 1.0)


def test_each_event_is_in_the_file_as_soon_as_it_is_recorded(tmp_path: Path) -> None:
    # So a crash loses at most the line being written.
    with closing(recorder(tmp_path / "a.cast", t0=0.0)) as cast:
        cast.output(0.5, "shown\n")
        assert read_cast(tmp_path / "a.cast") == ([(0.5, "shown\r\n")], 0.5)
    cast.close()  # closing twice does nothing


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_disk_that_fails_stops_the_recording_and_says_why() -> None:
    with closing(recorder(Path("/dev/full"))) as cast:
        assert cast.error == "the recording /dev/full stopped: No space left on device"
        cast.output(100.5, "more")  # nothing raised: the stream goes on without the recording
        cast.resize(100.5, 30, 12)
    assert cast.error == "the recording /dev/full stopped: No space left on device"


# --- through outstream.stream, on the virtual clock ---


def test_a_stream_records_each_write_and_resize_at_its_time(tmp_path: Path) -> None:
    clock = VirtualClock()
    terminal = PtyTerminal(clock, 80, 24)
    path = tmp_path / "a.cast"

    def gen():  # type: ignore[no-untyped-def]
        for i in range(6):
            clock.sleep_until(i * 0.25)
            if i == 2:
                terminal.resize(30, 12)
            yield f"word{i} " * 3

    try:
        outstream.stream(
            gen(), terminal, clock=clock, pace=outstream.Instant(), record=path, env={}
        )
    finally:
        terminal.close()
    header, *events = lines_of(path)
    assert (header["width"], header["height"]) == (80, 24)
    assert [e for e in events if e[1] == "r"] == [[0.5, "r", "30x12"]]
    assert [(t, data) for t, code, data in events if code == "o"] == [
        (t, text.replace("\n", "\r\n")) for t, text in terminal.writes
    ]
    assert "word5 word5 word5 " in events[-1][2]


def test_after_ctrl_c_the_cast_ends_with_what_was_shown_and_the_lines_end(tmp_path: Path) -> None:
    clock = VirtualClock()
    terminal = MemorySink(clock, terminal=True)
    path = tmp_path / "a.cast"

    def gen():  # type: ignore[no-untyped-def]
        yield "Hello\ntyped out"
        clock.sleep_until(0.85)
        _thread.interrupt_main()  # as Ctrl-C does: KeyboardInterrupt in the main thread

    with pytest.raises(KeyboardInterrupt):
        outstream.stream(
            gen(),
            terminal,
            clock=clock,
            pace=outstream.Typewriter(cps=10),
            record=path,
            env={"COLUMNS": "40", "LINES": "10"},
        )
    # Up to "typ" (its "p" was due at 0.8, the "e" at 0.9), then the line ended
    # at Ctrl-C, as on the screen.
    assert "".join(text for _, text in terminal.writes) == "Hello\ntyp\n"
    assert terminal.writes[-1] == (0.85, "\n")
    script, end = read_cast(path)
    assert script == [(t, text.replace("\n", "\r\n")) for t, text in terminal.writes]
    assert end == 0.85
