"""Tests for core/pipeline.py: the pure pipeline, driven with explicit `now` values.

What the drivers do around it (threads, the clock, the sinks) is tested in
test_api.py and test_drive.py on the virtual clock; here each verb is called
as a driver calls it, at times chosen to fall between frames, late, or at
Ctrl-C, and the text each poll returns is asserted exactly.
"""

from __future__ import annotations

import pytest

from outstream.core.pace import Typewriter
from outstream.core.pipeline import Pipeline
from outstream.errors import SourceError
from outstream.events import Aside, Delta, End, Failed, Finish, Other, Reasoning, Usage

FRAME = 0.25  # a frame interval whose multiples are exact in binary


def fed(pipeline: Pipeline, text: str, t: float) -> Pipeline:
    pipeline.feed(Delta(data=text, t=t), t)
    return pipeline


# --- frames ---


def test_text_that_comes_between_frames_waits_for_the_next_frame() -> None:
    pipeline = fed(Pipeline(frame_interval=FRAME), "a", 0.0)
    assert pipeline.poll(0.0) == "a"
    fed(pipeline, "b", 0.125)
    assert pipeline.poll(0.125) == ""
    assert pipeline.next_deadline() == 0.25
    assert pipeline.poll(0.25) == "b"


def test_a_late_frame_keeps_the_frames_on_their_grid() -> None:
    pipeline = fed(Pipeline(frame_interval=FRAME), "a", 0.0)
    assert pipeline.poll(0.0) == "a"
    fed(pipeline, "b", 0.125)
    assert pipeline.poll(0.3125) == "b"  # the driver woke 1/16 s after the frame was due
    fed(pipeline, "c", 0.375)
    assert pipeline.poll(0.375) == ""
    assert pipeline.next_deadline() == 0.5  # not 0.5625: the lateness is not carried on
    assert pipeline.poll(0.5) == "c"


def test_after_a_pause_longer_than_a_frame_the_grid_starts_again() -> None:
    pipeline = fed(Pipeline(frame_interval=FRAME), "a", 0.0)
    assert pipeline.poll(0.0) == "a"
    fed(pipeline, "b", 0.125)
    assert pipeline.poll(1.0) == "b"  # three frames late: no catching up afterwards
    fed(pipeline, "c", 1.125)
    assert pipeline.poll(1.125) == ""
    assert pipeline.next_deadline() == 1.25


def test_without_frames_every_poll_releases_what_came() -> None:
    pipeline = Pipeline()
    for t, text in [(0.0, "a"), (0.001, "b"), (0.002, "c")]:
        fed(pipeline, text, t)
        assert pipeline.poll(t) == text
    assert pipeline.next_deadline() is None  # waiting for the source


def test_a_negative_frame_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="frame_interval"):
        Pipeline(frame_interval=-0.1)


# --- the end, failures, Ctrl-C ---


def test_after_the_end_the_text_is_paced_out_and_later_feeds_are_ignored() -> None:
    pipeline = fed(Pipeline(pacer=Typewriter(cps=1)), "abc", 0.0)
    assert pipeline.poll(0.0) == "a"
    pipeline.feed(End(t=0.5), 0.5)
    fed(pipeline, "more", 0.75)
    assert not pipeline.done
    assert pipeline.next_deadline() == 1.0  # the typewriter goes on to the end
    assert [pipeline.poll(t) for t in (1.0, 2.0)] == ["b", "c"]
    assert pipeline.done and pipeline.next_deadline() is None
    assert pipeline.poll(3.0) == ""


def test_a_failure_releases_what_came_at_once_and_keeps_the_error() -> None:
    pipeline = fed(Pipeline(pacer=Typewriter(cps=1)), "partial", 0.0)
    assert pipeline.poll(0.0) == "p"
    error = ConnectionError("the connection dropped")
    pipeline.feed(Failed(t=0.5, error=error), 0.5)
    assert pipeline.next_deadline() == 0.0  # passed already: poll at once
    assert pipeline.poll(0.5) == "artial"  # not paced out over six more seconds
    assert pipeline.done and pipeline.error is error


def test_a_chunk_that_is_not_text_fails_the_stream_after_the_text_before_it() -> None:
    pipeline = Pipeline()
    pipeline.feed_chunks(["ok ", 42, "never shown"], [0.0, 0.1, 0.2])
    assert isinstance(pipeline.error, SourceError)
    assert str(pipeline.error) == "the source gave a int; expected str or bytes"
    assert pipeline.poll(0.2) == "ok "
    assert pipeline.done


def test_abort_releases_what_is_due_and_nothing_after() -> None:
    pipeline = fed(Pipeline(pacer=Typewriter(cps=10)), "abcdef", 0.0)
    assert pipeline.poll(0.0) == "a"
    assert pipeline.abort(0.25) == "bc"  # due at 0.1 and 0.2; "d" was due at 0.3
    assert pipeline.done and pipeline.next_deadline() is None
    assert pipeline.poll(1.0) == ""


def test_abort_shows_a_printed_line_that_was_waiting() -> None:
    pipeline = Pipeline(pacer=Typewriter(cps=10))
    pipeline.feed_chunks(["abcd"], [0.0])
    assert pipeline.poll(0.0) == "a"
    pipeline.feed_chunks([Aside(text="note\n")], [0.1])
    # The text before Writer.print's line is shown with it, on a line of its own.
    assert pipeline.abort(0.1) == "bcd\nnote\n"


# --- what comes besides the answer ---


def test_a_tool_call_shows_the_text_before_it_at_the_next_poll() -> None:
    pipeline = Pipeline(pacer=Typewriter(cps=1))
    pipeline.feed_chunks(["abc"], [0.0])
    assert pipeline.poll(0.0) == "a"
    call = Other(kind="tool_call", value={"name": "f", "arguments": "{}"})
    pipeline.feed_chunks([call], [0.5])
    assert pipeline.next_deadline() == 0.0  # passed already: poll at once
    assert pipeline.poll(0.5) == "bc"
    assert pipeline.events == [call]
    pipeline.feed_chunks(["de"], [0.5])
    assert pipeline.poll(0.5) == "d"  # the text after it is paced anew from its arrival
    assert pipeline.next_deadline() == 1.5


def test_reasoning_kept_apart_is_handed_on_clean_and_ends_its_line_before_the_answer() -> None:
    handed: list[str] = []
    pipeline = Pipeline(on_reasoning=handed.append)
    pipeline.feed_chunks([Reasoning(text="Let me\x1b]0;title\x07 think")], [0.0])
    assert handed == ["Let me think"]
    assert pipeline.poll(0.0) == ""
    pipeline.feed_chunks(["42"], [0.1])
    assert handed == ["Let me think", "\n"]
    assert pipeline.poll(0.1) == "42"
    assert pipeline.reasoning_text == ["Let me think"]


def test_reasoning_shown_comes_with_the_answer() -> None:
    pipeline = Pipeline(reasoning="show")
    pipeline.feed_chunks([Reasoning(text="hmm\x07 "), "42"], [0.0, 0.1])
    assert pipeline.poll(0.1) == "hmm \n\n42"  # the answer begins a paragraph of its own
    assert pipeline.reasoning_text == ["hmm "]  # (and Result.reasoning has it too)


def test_reasoning_shown_that_ends_its_lines_gets_only_the_break_it_lacks() -> None:
    for reasoning, shown in [("a\n", "a\n\n42"), ("a\n\n", "a\n\n42"), ("a", "a\n\n42")]:
        pipeline = Pipeline(reasoning="show")
        pipeline.feed_chunks([Reasoning(text=reasoning), "42"], [0.0, 0.1])
        assert pipeline.poll(0.1) == shown


def test_usage_reports_are_merged_and_the_finish_reason_kept() -> None:
    pipeline = Pipeline()
    pipeline.feed_chunks(
        [Usage(prompt_tokens=3), Usage(completion_tokens=4), Finish(reason="stop")], [0.0] * 3
    )
    # (the total, which the provider did not give, is the sum: see Usage.with_total)
    assert pipeline.usage == Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7)
    assert pipeline.finish_reason == "stop"
    assert pipeline.poll(0.0) == ""


# --- resize ---


def test_a_resize_wraps_from_the_next_line_the_one_being_written_keeps_its_width() -> None:
    pipeline = fed(Pipeline(wrap_width=20), "alpha beta gamma delta epsilon ", 0.0)
    assert pipeline.poll(0.0) == "alpha beta gamma\ndelta epsilon"
    pipeline.resize(10, 24)
    fed(pipeline, "zeta eta theta iota kappa lambda.", 1.0)
    pipeline.feed(End(t=1.0), 1.0)
    shown = pipeline.poll(1.0)
    assert shown == " zeta\neta theta\niota kappa\nlambda."
