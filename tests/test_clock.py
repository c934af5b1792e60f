"""The clocks: the system clock's waits, and the virtual clock scheduling real threads and tasks.

The virtual clock is what lets a test drive the production inbox (reader
thread or task, channel, driver loop) with exact times: these tests check
that it moves time only when every worker is blocked, in order of their
deadlines, and never backwards.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

import outstream
from outstream.clock import SystemClock
from outstream.drive import Channel
from outstream.testing import MemorySink, VirtualClock


def test_a_system_signal_wakes_a_waiting_thread_and_a_waiting_task() -> None:
    clock = SystemClock()
    signal = clock.signal()
    assert signal.wait_until(clock.now()) is False  # a deadline already passed: no wait
    setter = threading.Thread(target=signal.set)
    setter.start()
    assert signal.wait_until(None) is True
    setter.join()

    async def main() -> bool:
        signal.clear()
        loop = asyncio.get_running_loop()
        loop.call_soon(threading.Thread(target=signal.set).start)
        return await signal.await_until(None)

    assert asyncio.run(main()) is True


def test_a_system_signal_times_out_for_a_task_at_its_deadline() -> None:
    clock = SystemClock()
    signal = clock.signal()

    async def main() -> bool:
        return await signal.await_until(clock.now())

    assert asyncio.run(main()) is False


def test_time_moves_to_each_workers_deadline_in_turn_and_only_when_all_are_blocked() -> None:
    clock = VirtualClock()
    signal = clock.signal()
    seen: list[tuple[str, float]] = []

    def worker(name: str, times: list[float]) -> None:
        for t in times:
            clock.sleep_until(t)
            seen.append((name, clock.now()))
            signal.set()

    clock.start_thread(lambda: worker("a", [0.5, 2.0]), name="a")
    clock.start_thread(lambda: worker("b", [1.0, 1.5]), name="b")
    woken: list[float] = []
    while len(woken) < 4:
        signal.clear()
        if signal.wait_until(10.0):
            woken.append(clock.now())
    assert sorted(seen, key=lambda s: s[1]) == [("a", 0.5), ("b", 1.0), ("b", 1.5), ("a", 2.0)]
    assert woken == [0.5, 1.0, 1.5, 2.0]
    signal.clear()
    assert signal.wait_until(10.0) is False and clock.now() == 10.0  # nobody left: straight on


def test_time_never_goes_backwards() -> None:
    clock = VirtualClock(start=5.0)
    clock.sleep_until(1.0)
    assert clock.now() == 5.0
    with pytest.raises(ValueError, match="backwards"):
        clock.set(4.0)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1.0)


def test_a_generator_that_pauses_on_the_clock_is_streamed_with_exact_times() -> None:
    # Not a ScriptedSource: any source pausing on the clock runs through the
    # reader thread and channel a user's generator runs through.
    clock = VirtualClock()

    def chunks():  # type: ignore[no-untyped-def]
        yield "ab"
        clock.sleep_until(1.0)
        yield "cd"
        clock.sleep_until(3.0)
        yield "e"

    sink = MemorySink(clock)
    result = outstream.stream(chunks(), sink, pace=outstream.Typewriter(cps=4), clock=clock)
    assert sink.writes == [(0.0, "a"), (0.25, "b"), (1.0, "c"), (1.25, "d"), (3.0, "e")]
    assert result.stats.gap_max == 2.0
    assert result.stats.total_time == 3.0


def test_an_async_generator_that_pauses_on_the_clock_is_streamed_with_exact_times() -> None:
    clock = VirtualClock()

    async def chunks():  # type: ignore[no-untyped-def]
        yield "ab"
        await clock.asleep_until(1.0)
        yield "cd"

    sink = MemorySink(clock)
    asyncio.run(outstream.astream(chunks(), sink, pace=outstream.Typewriter(cps=4), clock=clock))
    assert sink.writes == [(0.0, "a"), (0.25, "b"), (1.0, "c"), (1.25, "d")]


def test_a_blocking_generator_under_astream_is_read_by_a_thread_on_the_clock() -> None:
    clock = VirtualClock()

    def chunks():  # type: ignore[no-untyped-def]
        yield "ab"
        clock.sleep_until(1.0)
        yield "cd"

    sink = MemorySink(clock)
    asyncio.run(outstream.astream(chunks(), sink, pace=outstream.Typewriter(cps=4), clock=clock))
    assert sink.writes == [(0.0, "a"), (0.25, "b"), (1.0, "c"), (1.25, "d")]


def test_a_busy_driver_finds_everything_that_came_meanwhile() -> None:
    # The driver spends 0.35 s on one write (a slow terminal); the reader
    # goes on reading, stamping each chunk at its own time, and the next
    # batch holds all of them.
    clock = VirtualClock()

    def chunks():  # type: ignore[no-untyped-def]
        for i in range(5):
            clock.sleep_until(i * 0.1)
            yield f"{i}"

    class SlowSink(MemorySink):
        def write(self, text: str) -> int:
            n = super().write(text)
            if len(self.writes) == 1:
                clock.advance(0.35)
            return n

    sink = SlowSink(clock)
    result = outstream.stream(
        chunks(), sink, pace=outstream.Instant(), clock=clock, flush="chunk", hold=0.0
    )
    assert sink.writes == [(0.0, "0"), (0.35, "123"), (0.4, "4")]
    assert result.stats.gap_max == pytest.approx(0.1)


def test_the_async_channel_is_bounded_like_the_sync_one() -> None:
    produced = 0

    async def flood():  # type: ignore[no-untyped-def]
        nonlocal produced
        for _ in range(100):
            produced += 1
            yield "x" * 65536

    async def main() -> None:
        clock = VirtualClock()
        channel = Channel(clock)
        clock.start_task(channel.aput_all(flood()))
        await clock.asleep_until(1.0)  # the reader runs until it must wait for room
        bound = Channel.max_queued // (65536 + 16) + 1  # a chunk costs 16 beyond its size
        assert produced == bound
        batch = await channel.aget(None)
        assert len(batch.chunks) == bound
        await clock.asleep_until(2.0)
        assert produced == 2 * bound

    asyncio.run(main())
