"""Recordings in the library: deltas written as they arrive, played back on the virtual clock."""

from __future__ import annotations

import io
import json
import re

import pytest

import outstream
from outstream.errors import SourceError
from outstream.events import Finish, Other, Reasoning, Usage
from outstream.recordings import read_deltas
from outstream.sources.replay import retimed
from outstream.testing import MemorySink, ScriptedSource, VirtualClock

SCRIPT = [
    (0.25, Reasoning(text="Thinking")),
    (0.5, "Hello"),
    (0.75, ", wor"),
    (1.5, "ld — 日本語 👋\n"),
    (1.5, Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7)),
    (1.5, Other(kind="tool_call", value={"name": "f", "arguments": "{}"})),
    (1.5, Finish(reason="stop")),
]


HEADER = '{"format": "outstream-deltas", "version": 1}'
CAST = '{"version": 2, "width": 80, "height": 24}'


def record(tmp_path, script, *, end=None, name="a.jsonl", **options):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    clock = VirtualClock(start=100.0)
    sink = MemorySink(clock)
    result = outstream.stream(
        ScriptedSource(script, end=end, clock=clock),
        sink,
        pace=outstream.Instant(),
        clock=clock,
        save_deltas=path,
        **options,
    )
    return path, result, sink


def test_the_deltas_file_holds_a_header_and_every_event_at_its_time(tmp_path) -> None:
    path, result, _ = record(tmp_path, SCRIPT, end=2.0)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    header = lines[0]
    assert header["format"] == "outstream-deltas" and header["version"] == 1
    assert header["source"] == "outstream.sources.replay.ScriptedSource"
    assert header["started"][:4].isdigit() and "T" in header["started"]  # ISO 8601, wall clock
    assert lines[1:] == [
        {"t": 0.25, "reasoning": "Thinking"},
        {"t": 0.5, "text": "Hello"},
        {"t": 0.75, "text": ", wor"},
        {"t": 1.5, "text": "ld — 日本語 👋\n"},
        {"t": 1.5, "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}},
        {"t": 1.5, "other": "tool_call", "value": {"name": "f", "arguments": "{}"}},
        {"t": 1.5, "finish": "stop"},
        {"t": 2.0, "end": True},
    ]
    assert result.text == "Hello, world — 日本語 👋\n"


def test_a_replay_feeds_the_same_events_at_the_same_times(tmp_path) -> None:
    path, first, first_sink = record(tmp_path, SCRIPT, end=2.0)
    script, end = read_deltas(path)
    assert (script, end) == (SCRIPT, 2.0)
    again, second, second_sink = record(tmp_path, script, end=end, name="b.jsonl")
    assert again.read_text().splitlines()[1:] == path.read_text().splitlines()[1:]
    assert second.text == first.text and second_sink.writes == first_sink.writes
    assert second.usage == first.usage and second.reasoning == "Thinking"
    # outstream.replay() is a source like any other
    clock = VirtualClock(start=100.0)
    sink = MemorySink(clock)
    result = outstream.stream(
        outstream.replay(path, clock=clock), sink, pace=outstream.Instant(), clock=clock
    )
    assert result.text == first.text
    assert [t for t, _ in sink.writes] == [t for t, _ in first_sink.writes]


def test_bytes_are_recorded_as_text_even_split_inside_a_character(tmp_path) -> None:
    data = "日本".encode()
    path, _, _ = record(tmp_path, [(0.0, data[:2]), (0.1, data[2:4]), (0.2, data[4:])])
    texts = [json.loads(line).get("text") for line in path.read_text().splitlines()[1:]]
    assert "".join(t for t in texts if t) == "日本"


def test_a_failing_source_is_recorded_with_its_error(tmp_path) -> None:
    with pytest.raises(ValueError):
        record(tmp_path, [(0.1, "part"), (0.4, ValueError("the model went away"))])
    path = tmp_path / "a.jsonl"
    last = json.loads(path.read_text().splitlines()[-1])
    assert last == {"t": 0.4, "error": "the model went away", "type": "ValueError"}
    script, end = read_deltas(path)
    assert script[0] == (0.1, "part") and end == 0.4
    assert isinstance(script[1][1], SourceError) and "the model went away" in str(script[1][1])


def test_a_file_cut_short_plays_up_to_its_last_complete_line(tmp_path) -> None:
    path, _, _ = record(tmp_path, SCRIPT, end=2.0)
    text = path.read_text(encoding="utf-8")
    cut = text.index('"ld —') + 3  # inside the fourth event's line, as a crash leaves it
    path.write_text(text[:cut], encoding="utf-8")
    script, end = read_deltas(path)
    assert script == SCRIPT[:3] and end == 0.75
    clock = VirtualClock()
    result = outstream.stream(
        outstream.replay(path, clock=clock),
        MemorySink(clock),
        pace=outstream.Instant(),
        clock=clock,
    )
    assert result.text == "Hello, wor"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"format": "outstream-deltas", "version": 1}', "{not json", '{"t": 1, "end": true}'], "line 2: not JSON"),
        (['{"format": "outstream-deltas", "version": 1}', '{"t": 1, "text": "a"}', '{"t": 0.5, "text": "b"}'], "line 3"),
        (['{"format": "outstream-deltas", "version": 1}', '{"t": 1, "colour": "red"}'], "line 2: an event needs one of"),
        ([HEADER, '{"t": 1, "text": 5}'], "line 2: 'text' must be a string, not 5"),
        ([HEADER, '{"t": 1, "usage": 3}'], "line 2: 'usage' must be an object, not 3"),
        (['{"format": "outstream-deltas", "version": 9}'], "line 1: format version 9"),
        (["just some text"], "not a recording"),
        ([HEADER, '{"t": NaN, "text": "a"}'], 'line 2: "t" must be a number of seconds'),
        ([HEADER, '{"t": Infinity, "text": "a"}'], "not inf"),
        ([HEADER, '{"t": 1e308, "text": "a"}'], "to 1e[+]07, not 1e[+]308"),
        ([HEADER, '{"t": 1' + "0" * 400 + ', "text": "a"}'], "not 1000"),
        ([HEADER, '{"t": -1, "text": "a"}'], "not -1"),
        ([HEADER, '{"t": true, "text": "a"}'], "not True"),
        ([HEADER, '{"t": 1, "usage": {"prompt_tokens": "12"}}'], "usage's prompt_tokens must be a whole number of tokens, not '12'"),
        ([HEADER, '{"t": 1, "usage": {"completion_tokens": -3}}'], "usage's completion_tokens"),
        ([HEADER, '{"t": 1, "usage": {"generation_seconds": NaN}}'], "generation_seconds"),
        ([CAST, "[NaN, \"o\", \"a\"]"], "line 2: an event's time must be a number of seconds"),
        ([CAST, "[Infinity, \"o\", \"a\"]"], "not inf"),
        ([CAST, "[1e308, \"o\", \"a\"]"], "not 1e[+]308"),
        ([CAST, "[1, 2, \"a\"]"], "an asciicast event is"),
    ],
)  # fmt: skip
def test_a_malformed_recording_is_refused_naming_the_line(tmp_path, lines, message) -> None:
    path = tmp_path / ("bad.cast" if lines[0] == CAST else "bad.jsonl")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError, match=message):
        outstream.replay(path)


def test_an_empty_file_is_refused_as_empty(tmp_path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    with pytest.raises(SourceError, match=r"empty\.jsonl: the file is empty, not a recording"):
        outstream.replay(path)


def test_speed_and_max_idle_rescale_the_timeline_exactly() -> None:
    script = [(1.0, "a"), (1.5, "b"), (11.5, "c")]
    assert retimed(script, 12.0, speed=2.0, max_idle=None, instant=False) == (
        [(0.5, "a"), (0.75, "b"), (5.75, "c")],
        6.0,
    )
    assert retimed(script, 12.0, speed=1.0, max_idle=2.0, instant=False) == (
        [(1.0, "a"), (1.5, "b"), (3.5, "c")],
        4.0,
    )
    assert retimed(script, 12.0, speed=1.0, max_idle=None, instant=True) == (
        [(0.0, "a"), (0.0, "b"), (0.0, "c")],
        0.0,
    )


def test_an_async_stream_records_and_a_replay_does_not_block_the_loop(tmp_path) -> None:
    import asyncio

    path, first, _ = record(tmp_path, SCRIPT, end=2.0)

    async def main() -> str:
        clock = VirtualClock()
        result = await outstream.astream(
            outstream.replay(path, speed=4, clock=clock),
            MemorySink(clock),
            pace=outstream.Instant(),
            clock=clock,
            save_deltas=tmp_path / "c.jsonl",
        )
        assert clock.now() == 0.5  # 2 s at 4x
        return result.text

    assert asyncio.run(main()) == first.text
    script, end = read_deltas(tmp_path / "c.jsonl")
    assert [t for t, _ in script] == [t / 4 for t, _ in SCRIPT] and end == 0.5


def test_the_shown_output_is_recorded_as_asciicast(tmp_path) -> None:
    clock = VirtualClock()
    cast = tmp_path / "a.cast"
    outstream.stream(
        ScriptedSource([(0.0, "one\n"), (0.5, "two\n")], clock=clock),
        MemorySink(clock),
        pace=outstream.Instant(),
        clock=clock,
        record=cast,
        env={"COLUMNS": "70", "LINES": "20", "TERM": "xterm-256color", "SHELL": "/bin/sh"},
    )
    header, *events = [json.loads(line) for line in cast.read_text().splitlines()]
    assert header["version"] == 2 and (header["width"], header["height"]) == (70, 20)
    assert header["env"] == {"TERM": "xterm-256color", "SHELL": "/bin/sh"}
    assert isinstance(header["timestamp"], int) and header["title"].startswith("outstream")
    assert events == [[0.0, "o", "one\r\n"], [0.5, "o", "two\r\n"]]


def test_a_recording_that_cannot_be_opened_fails_before_the_stream(tmp_path) -> None:
    with pytest.raises(OSError):
        outstream.stream("text", MemorySink(VirtualClock()), save_deltas=tmp_path / "no" / "x")


def test_a_writer_records_what_it_was_given(tmp_path) -> None:
    path = tmp_path / "w.jsonl"
    with outstream.Writer(io.StringIO(), pace=outstream.Instant(), save_deltas=path) as writer:
        writer.write("one ")
        writer.write("two")
    header, *events = [json.loads(line) for line in path.read_text().splitlines()]
    assert header["source"] == "Writer"
    assert "".join(e.get("text", "") for e in events) == "one two" and events[-1]["end"] is True


def test_the_deltas_file_shows_no_control_when_it_is_printed(tmp_path) -> None:
    """JSON escapes C0 itself; DEL, C1, the bidi controls and the line separators are
    escaped too, so that `cat` of a recording moves no cursor and reorders no text."""
    text = "a\x7f b\x9b31m c\u202eevil\u202c d\u2066 e\u2028 f\x1b]0;x\x07"
    path, _, _ = record(
        tmp_path, [(0.1, Reasoning(text=text)), (0.2, Other(kind=text, value=None))], end=1
    )
    raw = path.read_bytes().decode("utf-8")
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", raw)
    script, _ = read_deltas(path)
    assert script[0][1] == Reasoning(text=text) and script[1][1].kind == text
