"""Time to first text from the request's start: a source to call or await, and
``started=`` (`outstream.timing`), through the real drivers on a virtual clock."""

from __future__ import annotations

import asyncio

import pytest

import outstream
from outstream.testing import MemorySink, ScriptedSource, VirtualClock

# The request: the SDK's call returns after 3 s (the response's headers), and
# the answer's chunks come 0.5 s and 1 s after that.
HEADERS = 3.0
ANSWER = [(0.5, "Hel"), (1.0, "lo")]


def request(clock):
    clock.sleep_until(clock.now() + HEADERS)
    return ScriptedSource(ANSWER, clock=clock)


async def arequest(clock):
    await clock.asleep_until(clock.now() + HEADERS)
    return ScriptedSource(ANSWER, clock=clock)


def test_a_stream_object_made_before_the_call_counts_from_the_call():
    clock = VirtualClock()
    made = request(clock)
    result = outstream.stream(made, MemorySink(clock), pace="instant", clock=clock)
    assert (result.stats.time_to_first_text, result.stats.total_time) == (0.5, 1.0)
    assert not result.stats.from_request
    assert "first text 0.500 s   total" in result.stats.format()


def test_a_function_is_called_once_the_stream_began_and_its_wait_counts():
    clock = VirtualClock()
    sink = MemorySink(clock)
    result = outstream.stream(lambda: request(clock), sink, pace="instant", clock=clock)
    assert sink.writes == [(3.5, "Hel"), (4.0, "lo")]
    assert (result.stats.time_to_first_text, result.stats.total_time) == (3.5, 4.0)
    assert result.stats.from_request
    assert "first text 3.500 s from the request   total 4.000 s" in result.stats.format()


def test_started_counts_from_the_timing_taken_before_the_call():
    clock = VirtualClock()
    with outstream.timing(clock=clock) as started:
        made = request(clock)
    assert (started.t, clock.now()) == (0.0, HEADERS)
    result = outstream.stream(made, MemorySink(clock), pace="instant", clock=clock, started=started)
    assert (result.stats.time_to_first_text, result.stats.total_time) == (3.5, 4.0)
    assert result.stats.from_request


def test_astream_awaits_an_awaitable_and_calls_a_function_inside_the_stream():
    clock = VirtualClock()

    async def main():
        results = []
        for source in (arequest(clock), lambda: arequest(clock), lambda: request(clock)):
            t0 = clock.now()
            result = await outstream.astream(source, MemorySink(clock), pace="instant", clock=clock)
            results.append((result.stats.time_to_first_text, result.text, clock.now() - t0))
        return results

    assert asyncio.run(main()) == [(3.5, "Hello", 4.0)] * 3


def test_iter_text_and_aiter_text_call_the_function_at_the_first_next():
    clock = VirtualClock()
    text = outstream.iter_text(lambda: request(clock), pace="instant", clock=clock)
    clock.sleep_until(10.0)  # made long before it is read: the clock starts at the first next
    assert "".join(text) == "Hello"
    assert text.result.stats.time_to_first_text == 3.5

    async def main():
        atext = outstream.aiter_text(arequest(clock), pace="instant", clock=clock)
        pieces = [piece async for piece in atext]
        return "".join(pieces), atext.result.stats.time_to_first_text

    assert asyncio.run(main()) == ("Hello", 3.5)


def test_what_a_function_gives_may_be_text_a_file_or_an_async_iterable():
    async def agen():
        yield "as"
        yield "ync"

    async def coroutine():
        return agen()

    for source, expected in [
        (lambda: "text", "text"),
        (lambda: agen(), "async"),
        (coroutine, "async"),
        (coroutine(), "async"),  # awaited on a loop of the reader's own
    ]:
        assert outstream.stream(source, MemorySink()).text == expected


class Boom(Exception):
    pass


@pytest.mark.parametrize("asynchronous", [False, True], ids=["stream", "astream"])
def test_a_call_that_fails_raises_its_error_from_the_stream(asynchronous):
    def fail():
        raise Boom("no route to the model")

    with pytest.raises(Boom, match="no route"):
        if asynchronous:
            asyncio.run(outstream.astream(fail, MemorySink()))
        else:
            outstream.stream(fail, MemorySink())


@pytest.mark.parametrize("asynchronous", [False, True], ids=["stream", "astream"])
def test_a_call_that_gives_no_source_is_a_type_error_saying_so(asynchronous):
    with pytest.raises(TypeError, match="cannot stream the int the source gave when called"):
        if asynchronous:
            asyncio.run(outstream.astream(lambda: 42, MemorySink()))
        else:
            outstream.stream(lambda: 42, MemorySink())


# --- a timing, on which clock ---


def test_a_timing_of_the_system_clock_suits_any_system_clock():
    timing = outstream.timing()
    assert timing.on(outstream.SystemClock(offset=1000.0)) == timing.t + 1000.0
    mine = outstream.timing(clock=outstream.SystemClock(offset=5.0))
    assert mine.on(outstream.SystemClock(offset=7.0)) == pytest.approx(mine.t + 2.0)


@pytest.mark.parametrize(
    ("started", "message"),
    [
        (outstream.timing(), "timed on another clock"),
        (outstream.timing(clock=VirtualClock()), "timed on another clock"),
        (12.5, "started= takes what outstream.timing\\(\\) gives, not a float"),
    ],
    ids=["system on virtual", "another virtual", "a float"],
)
def test_a_timing_of_another_clock_or_no_timing_is_a_usage_error(started, message):
    with pytest.raises(outstream.UsageError, match=message):
        outstream.stream("x", MemorySink(), clock=VirtualClock(), started=started)
    with pytest.raises(outstream.UsageError, match=message):
        outstream.iter_text("x", clock=VirtualClock(), started=started)


def test_a_coroutine_closed_before_it_was_awaited_is_closed_without_a_warning():
    # (pytest turns a "coroutine ... was never awaited" RuntimeWarning into an error)
    clock = VirtualClock()

    async def main():
        unread = outstream.aiter_text(arequest(clock), clock=clock)
        await unread.aclose()
        first = outstream.aiter_text(arequest(clock), pace="instant", clock=clock)
        async with first:
            await first.__anext__()  # "Hel", then the stream is left
        return first.result.reader_gone

    assert asyncio.run(main()) is True
    with outstream.iter_text(arequest(clock), clock=clock):
        pass
