"""Several outputs at once: each paced, sanitized and flushed for what it is; failures isolated."""

from __future__ import annotations

import io
import os
import threading

import pytest

import outstream
from outstream.testing import MemorySink, ScriptedSource, VirtualClock


def test_each_output_gets_its_own_pacing_and_escapes() -> None:
    clock = VirtualClock()
    screen = MemorySink(clock, terminal=True)
    record = MemorySink(clock)
    source = ScriptedSource([(0.0, "\x1b]0;title\x07one "), (1.0, "two")], clock=clock)
    result = outstream.stream(source, [screen, record], clock=clock, escapes=None)
    assert screen.getvalue() == "one two"  # a terminal: stripped, paced over frames
    assert len(screen.writes) > 2
    assert record.getvalue() == "one two"  # not a regular file: stripped too
    assert result.text == "one two"


def test_a_regular_file_keeps_the_text_as_received(tmp_path) -> None:
    path = tmp_path / "answer.txt"
    with open(path, "w", encoding="utf-8") as f:
        outstream.stream(["\x1b[31mred\x1b[0m ", "text"], [io.StringIO(), f])
    assert path.read_text(encoding="utf-8") == "\x1b[31mred\x1b[0m text"


def test_escapes_given_apply_to_every_output(tmp_path) -> None:
    path = tmp_path / "answer.txt"
    with open(path, "w", encoding="utf-8") as f:
        outstream.stream("\x1b[31mred", [io.StringIO(), f], escapes="strip")
    assert path.read_text(encoding="utf-8") == "red"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_failing_output_is_dropped_and_reported_while_the_others_go_on() -> None:
    good = io.StringIO()
    with open("/dev/full", "w") as full:
        result = outstream.stream((f"line {i}\n" for i in range(1000)), [full, good])
    assert good.getvalue() == "".join(f"line {i}\n" for i in range(1000))
    assert len(result.sink_errors) == 1
    assert "/dev/full" in str(result.sink_errors[0])
    assert "No space left on device" in str(result.sink_errors[0])


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_when_every_output_fails_the_error_is_raised() -> None:
    with (
        open("/dev/full", "w") as full,
        open("/dev/full", "w") as also_full,
        pytest.raises(outstream.SinkError, match="/dev/full"),
    ):
        outstream.stream("x" * 100_000, [full, also_full])


def test_a_slow_output_does_not_hold_up_the_others() -> None:
    """A pipe nobody reads yet: the other output still gets everything, and the pipe later."""
    text = "".join(f"line {i} of a long answer\n" for i in range(200_000))  # > any pipe buffer
    done = threading.Event()

    class Record(io.StringIO):
        def flush(self) -> None:
            if self.getvalue() == text:
                done.set()

    record = Record()
    r, w = os.pipe()
    with open(w, "w", encoding="utf-8") as slow, open(r, encoding="utf-8") as reader:
        worker = threading.Thread(target=outstream.stream, args=(text, [slow, record]), daemon=True)
        worker.start()
        assert done.wait(timeout=20)  # complete while the pipe's reader has read nothing
        received = reader.read(len(text))
        worker.join(timeout=20)
    assert received == text


def test_a_reader_going_away_on_one_output_does_not_stop_the_others(tmp_path) -> None:
    r, w = os.pipe()
    os.close(r)
    good = io.StringIO()
    with open(w, "w", encoding="utf-8") as gone:
        result = outstream.stream((f"{i}\n" for i in range(10_000)), [gone, good])
    assert result.reader_gone
    assert good.getvalue() == "".join(f"{i}\n" for i in range(10_000))
    assert result.sink_errors == ()


def test_an_empty_list_of_outputs_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one output"):
        outstream.stream("x", [])
