"""iter_text and aiter_text: the pipeline's text as an app pulls it, on a virtual clock.

Each delta's arrival is stamped with the clock's time when the app gets it:
on a virtual clock the app's wait is what moves the time, so the stamps are
exact.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc

import pytest
import regex

import outstream
from outstream.testing import MemorySink, ScriptedSource, VirtualClock

# A model behind a proxy: a burst, then nothing for half a second, then a burst.
BURSTS = [
    (0.0, "The answer comes in bursts: "),
    (0.5, "fifty tokens at once, "),
    (1.0, "then nothing for half a second, "),
    (1.5, "then fifty more."),
]
TEXT = "".join(chunk for _, chunk in BURSTS)


def pulled(script, **options):  # type: ignore[no-untyped-def]
    """What an app gets from `iter_text`: (arrival time, delta) pairs, and the iterator."""
    clock = VirtualClock()
    text = outstream.iter_text(ScriptedSource(script, clock=clock), clock=clock, **options)
    return [(clock.now(), delta) for delta in text], text


def on_a_terminal(script, **options):  # type: ignore[no-untyped-def]
    """What `stream` shows on a terminal for the same script: (write time, text) pairs."""
    clock = VirtualClock()
    sink = MemorySink(clock, terminal=True)
    result = outstream.stream(
        ScriptedSource(script, clock=clock), sink, clock=clock, wrap=False, **options
    )
    return sink.writes, result


def test_a_bursty_source_comes_smoothly_one_delta_a_frame_as_on_a_terminal() -> None:
    got, _ = pulled(BURSTS)
    assert "".join(delta for _, delta in got) == TEXT
    # The frames a terminal shows, at the same times: Smooth by default.
    writes, _ = on_a_terminal(BURSTS)
    assert got == writes
    assert got[0] == (0.0, "T")
    # Paced, not in bursts: many small deltas; done within the lag of the source's end.
    assert len(got) > 60 and max(len(delta) for _, delta in got) <= 4
    assert 1.5 < got[-1][0] <= 1.5 + 0.5


def test_a_script_is_the_same_run_every_time() -> None:
    # The driver is a thread of the clock's, as the reader is: they take turns
    # (VirtualClock), so the end that comes with the last chunk is never
    # taken a step later, whatever the threads do.
    script = [(0.0, "Hello " * 10), (0.5, "world " * 5), (1.0, "end.")]
    first = pulled(script)[0]
    for _ in range(10):
        assert pulled(script)[0] == first


def test_instant_pacing_hands_over_once_a_frame_what_came() -> None:
    script = [(i * 0.001, f"{i} ") for i in range(40)]
    got, _ = pulled(script, pace="instant")
    assert [t for t, _ in got] == [0.0, 1 / 60, 2 / 60, 3 / 60]
    assert "".join(delta for _, delta in got) == "".join(chunk for _, chunk in script)


def test_an_escape_sequence_in_the_source_never_reaches_the_app() -> None:
    script = [
        (0.0, "red \x1b[31mtext\x1b[0m, a title\x1b]0;pwned\x07 and "),
        (0.1, "a clipboard write \x1b]52;c;ZXZpbA==\x1b\\ split \x1b["),
        (0.2, "2J across chunks.\r\n"),
    ]
    got, text = pulled(script)
    shown = "".join(delta for _, delta in got)
    assert shown == "red text, a title and a clipboard write  split  across chunks.\n"
    assert not any("\x1b" in delta or "\x07" in delta for _, delta in got)
    assert text.result.text == shown


def test_split_utf8_bytes_never_yield_a_broken_character() -> None:
    words = "café 🇫🇷 naïve — 中文 👩‍👩‍👧 done"
    data = words.encode()
    script = [(i * 0.004, data[i : i + 1]) for i in range(len(data))]  # a byte at a time
    got, _ = pulled(script, hold=0.05)
    assert "".join(delta for _, delta in got) == words
    # Every delta ends between two graphemes: none is shown in halves.
    boundaries = {m.end() for m in regex.finditer(r"\X", words)}
    ends = [len("".join(delta for _, delta in got[: i + 1])) for i in range(len(got))]
    assert set(ends) <= boundaries and len(got) > 10


def test_the_result_after_the_end_is_what_stream_returns() -> None:
    got, text = pulled(BURSTS)
    _, on_tty = on_a_terminal(BURSTS)
    result = text.result
    assert result.text == TEXT and not result.reader_gone
    # The same numbers, but for flushing: a terminal is flushed once more at its end.
    assert dataclasses.replace(result.stats, n_flushes=0) == dataclasses.replace(
        on_tty.stats, n_flushes=0
    )
    assert result.stats.n_writes == len(got) and result.stats.n_chunks == len(BURSTS)
    assert result.stats.time_to_first_text == 0.0 and result.stats.total_time == got[-1][0]


def test_the_result_before_the_end_says_it_is_not_there_yet() -> None:
    clock = VirtualClock()
    text = outstream.iter_text(ScriptedSource(BURSTS, clock=clock), clock=clock)
    with pytest.raises(RuntimeError, match="not ended yet"):
        text.result  # noqa: B018
    next(text)
    with pytest.raises(RuntimeError, match="not ended yet"):
        text.result  # noqa: B018
    text.close()
    assert text.result.reader_gone


def test_a_source_error_is_raised_after_the_text_before_it() -> None:
    clock = VirtualClock()
    script = [(0.0, "a partial "), (0.2, "answer"), (0.3, ConnectionError("dropped"))]
    text = outstream.iter_text(ScriptedSource(script, clock=clock), clock=clock)
    got = []
    with pytest.raises(ConnectionError, match="dropped"):
        for delta in text:
            got.append(delta)
    assert "".join(got) == "a partial answer"
    assert text.result.text == "a partial answer"
    assert list(text) == []  # ended


def test_invalid_utf8_under_strict_errors_is_raised_after_the_text_before_it() -> None:
    text = outstream.iter_text([b"ok ", b"then \xff bad"], errors="strict", pace="instant")
    got = []
    with pytest.raises(outstream.DecodeError) as info:
        for delta in text:
            got.append(delta)
    assert "".join(got) == "ok then "
    assert "byte 8" in str(info.value) or "offset 8" in str(info.value)
    assert info.value.result is not None and info.value.result.text == "ok then "


def slow_words(clock: VirtualClock, state: dict[str, object]):  # type: ignore[no-untyped-def]
    """A source that never ends: a word every 0.1 s, counted; `closed` once it is closed."""
    state["read"] = 0
    state["closed"] = False
    try:
        while True:
            clock.sleep_until(clock.now() + 0.1)
            state["read"] += 1  # type: ignore[operator]
            yield f"word{state['read']} "
    finally:
        state["closed"] = True


def test_closing_mid_stream_stops_reading_the_source() -> None:
    clock = VirtualClock()
    state: dict[str, object] = {}
    text = outstream.iter_text(slow_words(clock, state), clock=clock)
    first = [next(text) for _ in range(3)]
    text.close()
    read = state["read"]
    assert text.result.reader_gone and text.result.text == "".join(first)
    clock.advance(10.0)  # the reader finds the stream closed at its next word
    assert state["closed"] and state["read"] <= read + 1  # type: ignore[operator]
    assert list(text) == []


def test_an_abandoned_iterator_is_closed_when_collected() -> None:
    clock = VirtualClock()
    state: dict[str, object] = {}
    for delta in outstream.iter_text(slow_words(clock, state), clock=clock):
        assert delta == "w"
        break
    gc.collect()
    read = state["read"]
    clock.advance(10.0)
    assert state["closed"] and state["read"] <= read + 1  # type: ignore[operator]


def test_leaving_a_with_block_closes_it() -> None:
    clock = VirtualClock()
    state: dict[str, object] = {}
    with outstream.iter_text(slow_words(clock, state), clock=clock) as text:
        assert next(text) == "w"
    assert text.result.reader_gone
    clock.advance(10.0)
    assert state["closed"]


def test_closed_before_it_started_nothing_streamed() -> None:
    text = outstream.iter_text(["never read"])
    text.close()
    with pytest.raises(RuntimeError, match="before it started"):
        text.result  # noqa: B018
    assert list(text) == []


def test_the_source_is_read_beside_the_app_not_at_its_pace() -> None:
    clock = VirtualClock()
    state = {"done": False}

    def chunks():  # type: ignore[no-untyped-def]
        for t, chunk in [(0.0, "abc"), (0.05, "def"), (0.1, "ghi")]:
            clock.sleep_until(t)
            yield chunk
        state["done"] = True

    text = outstream.iter_text(chunks(), clock=clock, pace=outstream.Typewriter(cps=5))
    assert [next(text) for _ in range(2)] == ["a", "b"]
    assert clock.now() == 0.2 and state["done"]  # all read while the app had two letters


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"flush": "line"}, ["iter_text()", "not to a file", "flush="]),
        ({"terminal": True}, ["terminal="]),
        ({"fsync": True}, ["fsync="]),
        ({"encoding": "latin-1"}, ["encoding="]),
        ({"color": "always"}, ["the app renders", "color="]),
        ({"hyperlinks": True}, ["hyperlinks="]),
        ({"theme": "light"}, ["the app renders", "theme="]),
        ({"code_theme": "friendly"}, ["code_theme="]),
        ({"wrap": True}, ["no width", "number of cells"]),
        ({"pace": "fast"}, ["'instant', 'smooth'"]),
    ],
)
def test_an_option_that_does_not_apply_raises_at_the_call(options, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError) as info:
        outstream.iter_text(["hi"], **options)
    for word in words:
        assert word in str(info.value)


def test_a_keyword_it_does_not_take_names_it() -> None:
    with pytest.raises(TypeError, match=r"iter_text\(\).*'pace'"):
        outstream.iter_text(["hi"], pase="smooth")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"aiter_text\(\)"):
        outstream.aiter_text(["hi"], zzz=1)  # type: ignore[call-arg]


def test_recordings_are_made_of_what_the_app_was_given(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from outstream.recordings import read_recording

    got, _ = pulled(BURSTS, record=tmp_path / "a.cast", save_deltas=tmp_path / "a.jsonl")
    script, _ = read_recording(tmp_path / "a.jsonl")
    assert [item for _, item in script] == [chunk for _, chunk in BURSTS]
    shown, _ = read_recording(tmp_path / "a.cast")
    assert "".join(item for _, item in shown) == TEXT  # type: ignore[misc]
    assert len(shown) == len(got)


# --- Markdown ---


def test_markdown_is_held_from_an_open_marker_until_it_closes() -> None:
    script = [(0.0, "It sends **fifty at onc"), (1.0, "e** and stops.")]
    got, text = pulled(script, render="markdown", pace="instant")
    assert got == [(0.0, "It sends "), (1.0, "**fifty at once** and stops.")]
    assert text.result.text == "It sends **fifty at once** and stops."  # the source, unchanged


def test_markdown_never_closed_is_shown_at_the_end() -> None:
    got, _ = pulled([(0.0, "use *args "), (0.5, "freely")], render="markdown", pace="instant")
    assert got == [(0.0, "use "), (0.5, "*args freely")]


# --- async ---


def apulled(script, **options):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        clock = VirtualClock()
        text = outstream.aiter_text(ScriptedSource(script, clock=clock), clock=clock, **options)
        return [(clock.now(), delta) async for delta in text], text

    return asyncio.run(main())


def test_aiter_text_comes_in_the_same_frames_at_the_same_times() -> None:
    got, text = apulled(BURSTS)
    assert got == pulled(BURSTS)[0]
    assert text.result.text == TEXT and text.result.stats.n_writes == len(got)


def test_aiter_text_raises_a_source_error_after_the_text_before_it() -> None:
    script = [(0.0, "a partial "), (0.2, "answer"), (0.3, ConnectionError("dropped"))]
    got: list[str] = []

    async def main() -> None:
        clock = VirtualClock()
        async for delta in outstream.aiter_text(ScriptedSource(script, clock=clock), clock=clock):
            got.append(delta)

    with pytest.raises(ConnectionError, match="dropped"):
        asyncio.run(main())
    assert "".join(got) == "a partial answer"


async def aslow_words(clock: VirtualClock, state: dict[str, object]):  # type: ignore[no-untyped-def]
    state["read"] = 0
    state["closed"] = asyncio.Event()
    try:
        while True:
            await clock.asleep_until(clock.now() + 0.1)
            state["read"] += 1  # type: ignore[operator]
            yield f"word{state['read']} "
    finally:
        state["closed"].set()  # type: ignore[attr-defined]


def test_aclose_mid_stream_stops_reading_the_source() -> None:
    async def main() -> None:
        clock = VirtualClock()
        state: dict[str, object] = {}
        text = outstream.aiter_text(aslow_words(clock, state), clock=clock)
        first = [await anext(text) for _ in range(3)]
        await text.aclose()
        assert text.result.reader_gone and text.result.text == "".join(first)
        assert state["closed"].is_set()  # type: ignore[attr-defined]
        read = state["read"]
        await clock.asleep_until(10.0)
        assert state["read"] == read
        assert [delta async for delta in text] == []

    asyncio.run(main())


def test_cancelling_the_app_s_task_cancels_the_stream() -> None:
    async def main() -> None:
        clock = VirtualClock()
        state: dict[str, object] = {}
        started = asyncio.Event()

        text = outstream.aiter_text(aslow_words(clock, state), clock=clock)

        async def app() -> None:
            async for _ in text:
                started.set()

        task = asyncio.create_task(app())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await state["closed"].wait()  # type: ignore[attr-defined]  # the source is closed
        assert text.result.reader_gone

    asyncio.run(main())
