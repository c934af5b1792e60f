"""The stream log's protocol on the in-memory backend, in virtual time: publish, follow,
cancel, the lease and trimming, through the production publisher and follower."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from outstream.errors import SourceError, StreamExists, StreamNotFound, UsageError
from outstream.events import Finish, Usage
from outstream.relay import (
    Entry,
    LeaseLost,
    MemoryLog,
    StreamCancelled,
    acancel,
    afollow,
    apublish,
    follow_text,
    new_id,
)
from outstream.testing import ScriptedSource, VirtualClock

FRAME = 1 / 60


def run(test: Callable[[VirtualClock, MemoryLog], Awaitable[Any]], **log_options: Any) -> Any:
    clock = VirtualClock()
    log = MemoryLog(clock=clock, **log_options)
    return asyncio.run(test(clock, log))


async def published(
    clock: VirtualClock, log: MemoryLog, source: Any, id: str = "s1", **options: Any
) -> asyncio.Task[object]:
    """The publisher, started on the clock; returns once the stream is in the log."""
    created = asyncio.Event()
    task = clock.start_task(
        apublish(source, log, id, clock=clock, on_created=lambda _: created.set(), **options)
    )
    await created.wait()
    return task


async def received(
    clock: VirtualClock, log: MemoryLog, id: str = "s1", **options: Any
) -> list[tuple[float, Entry]]:
    return [(clock.now(), entry) async for entry in afollow(log, id, clock=clock, **options)]


async def finished(clock: VirtualClock, task: asyncio.Task[object]) -> object:
    """The task's result, time moving on meanwhile (awaiting a worker alone would not)."""
    signal = clock.signal()
    task.add_done_callback(lambda _: signal.set())
    await signal.await_until(None)
    return task.result()


def text_of(entries: list[tuple[float, Entry]]) -> str:
    return "".join(entry.text for _, entry in entries)


def test_a_follower_gets_every_token_within_a_frame_in_at_most_60_appends_a_second():
    tokens = [f"t{i} " for i in range(600)]  # 300 tokens a second for 2 s

    async def test(clock, log):
        source = ScriptedSource([(i / 300, token) for i, token in enumerate(tokens)], clock=clock)
        publisher = await published(clock, log, source)
        got = await received(clock, log)
        assert await finished(clock, publisher) == "s1"
        return got

    got = run(test)
    assert text_of(got) == "".join(tokens)
    assert got[-1][1].record == {"t": round(599 / 300, 6), "end": True}  # (µs in the log)
    appends = sorted({t for t, _ in got})[:-1]  # (the end is appended as soon as it comes)
    assert len(appends) <= 2 * 60 + 1
    assert all(b - a >= FRAME - 1e-9 for a, b in itertools.pairwise(appends))
    # Each token reaches the follower within a frame of reaching the producer.
    assert all(t - entry.record["t"] <= FRAME + 1e-6 for t, entry in got)  # (µs in the log)
    assert [entry.n for _, entry in got] == list(range(1, len(got) + 1))


def test_a_finished_stream_is_followed_again_from_its_start_or_after_an_entry():
    async def test(clock, log):
        source = ScriptedSource([(0.0, "one "), (0.5, "two "), (1.0, "three")], clock=clock)
        await apublish(source, log, "s1", clock=clock)
        first = await received(clock, log)
        again = await received(clock, log)
        after = await received(clock, log, after=first[0][1].id)
        return first, again, after

    first, again, after = run(test)
    assert [e for _, e in first] == [e for _, e in again]
    assert text_of(first) == "one two three"
    assert text_of(after) == "two three"
    assert [e.kind for _, e in first] == ["text", "text", "text", "end"]


def test_side_events_and_split_characters_keep_their_order_and_their_meaning():
    snow = "☃".encode()

    async def test(clock, log):
        script = [(0.0, b"a" + snow[:1]), (0.2, snow[1:] + b"b"), (0.4, Usage(total_tokens=3))]
        source = ScriptedSource([*script, (0.4, Finish(reason="stop"))], clock=clock)
        await apublish(source, log, "s1", clock=clock)
        return await received(clock, log)

    got = run(test)
    assert [dict(e.record) for _, e in got] == [
        {"t": 0.0, "text": "a"},
        {"t": 0.2, "text": "☃b"},
        {"t": 0.4, "usage": {"total_tokens": 3}},
        {"t": 0.4, "finish": "stop"},
        {"t": 0.4, "end": True},
    ]


def test_a_failing_source_ends_the_stream_with_its_error_after_its_text():
    async def test(clock, log):
        source = ScriptedSource(
            [(0.0, "partial "), (0.3, OSError("connection reset"))], clock=clock
        )
        publisher = await published(clock, log, source)
        got = await received(clock, log)
        with pytest.raises(OSError, match="connection reset"):
            await finished(clock, publisher)
        return got

    got = run(test)
    assert text_of(got) == "partial "
    assert dict(got[-1][1].record) == {"t": 0.3, "error": "connection reset", "type": "OSError"}


def test_follow_text_shows_the_text_then_fails_with_the_producers_error():
    log = MemoryLog()

    async def produce():
        await log.create("s", "me", {})
        await log.append("s", "me", 1, [{"t": 0, "text": "so far"}])
        await log.append("s", "me", 2, [{"t": 1, "error": "boom", "type": "OSError"}], final=True)

    asyncio.run(produce())
    got: list[object] = []
    with pytest.raises(SourceError, match="the producer's source failed: OSError: boom"):
        got.extend(follow_text(log, "s"))
    assert got == ["so far"]


def test_a_dead_producer_is_known_when_its_lease_runs_out():
    async def test(clock, log):
        await log.create("s1", "owner", {})
        await log.append("s1", "owner", 1, [{"t": 0.0, "text": "half an ans"}])
        return await received(clock, log)  # nobody renews the lease

    got = run(test)
    assert text_of(got) == "half an ans"
    t, gone = got[-1]
    assert (t, gone.record["type"]) == (5.0, "ProducerGone")  # the lease: 5 s


def test_a_producer_renews_its_lease_through_a_long_pause():
    async def test(clock, log):
        source = ScriptedSource([(0.0, "thinking… "), (20.0, "done")], clock=clock)
        publisher = await published(clock, log, source)
        got = await received(clock, log)
        await finished(clock, publisher)
        return got

    got = run(test)
    assert text_of(got) == "thinking… done"
    assert got[-1][1].kind == "end"


def test_cancel_stops_the_producer_between_two_entries_and_ends_the_stream():
    pulled: list[float] = []

    async def test(clock, log):
        async def source() -> AsyncIterator[str]:
            for i in range(20):
                await clock.asleep_until(i * 0.5)
                pulled.append(clock.now())
                yield f"w{i} "

        publisher = await published(clock, log, source())
        follower = clock.start_task(received(clock, log))
        await clock.asleep_until(2.2)
        assert await acancel(log, "s1") is True
        with pytest.raises(StreamCancelled):
            await finished(clock, publisher)
        return await finished(clock, follower)

    got = run(test)
    assert text_of(got) == "w0 w1 w2 w3 w4 "  # w5 came at 2.5, after the cancel
    t, last = got[-1]
    assert (t, last.record["type"]) == (2.5, "Cancelled")
    assert pulled[-1] == 2.5  # the source was not read on


def test_cancel_reaches_a_producer_waiting_on_a_silent_source_within_a_third_of_the_lease():
    async def test(clock, log):
        source = ScriptedSource([(0.0, "a"), (60.0, "b")], clock=clock)
        publisher = await published(clock, log, source)
        await clock.asleep_until(1.0)
        await acancel(log, "s1")
        with pytest.raises(StreamCancelled):
            await finished(clock, publisher)
        return clock.now(), await received(clock, log)

    stopped, got = run(test)
    assert stopped == 5 / 3  # the next renewal
    assert got[-1][1].record["type"] == "Cancelled"


def test_entries_trimmed_from_under_a_reader_become_one_resync_with_the_text_so_far_then_the_end():
    async def test(clock, log):
        await log.create("s1", "me", {})
        for i in range(1, 21):
            await log.append("s1", "me", i, [{"t": i, "text": f"{i} "}])
        await log.append("s1", "me", 21, [{"t": 21, "end": True}], final=True)
        from_start = await received(clock, log)
        after_trimmed = await received(clock, log, after="3-0")
        after_kept = await received(clock, log, after="19-0")
        return from_start, after_trimmed, after_kept

    from_start, after_trimmed, after_kept = run(test, maxlen=5)
    whole = "".join(f"{i} " for i in range(1, 21))
    for got in (from_start, after_trimmed):
        # How the stream ended comes after its text (the end shares the resync's id).
        assert [e.kind for _, e in got] == ["resync", "end"]
        assert got[0][1].text == whole
        assert got[0][1].id == got[1][1].id == "21-0"
    assert [e.text for _, e in after_kept] == ["20 ", ""]


def test_following_after_the_last_entry_ends_at_once_with_nothing():
    """(It waited for an entry that never comes: a reader resuming after the end, as a
    browser's EventSource does when the server closes, held a server's connection.)"""

    async def test(clock, log):
        await log.create("s1", "me", {})
        await log.append("s1", "me", 1, [{"t": 0, "text": "a"}, {"t": 1, "end": True}], final=True)
        return await received(clock, log, after="2-0")

    assert run(test) == []


def test_follow_text_gives_after_a_resync_only_what_the_reader_had_not_had():
    log = MemoryLog(maxlen=3)

    async def produce():
        await log.create("s", "me", {})
        for i in range(1, 11):
            await log.append("s", "me", i, [{"t": i, "text": f"{i} "}])
        await log.append("s", "me", 11, [{"t": 11, "end": True}], final=True)

    asyncio.run(produce())
    assert "".join(map(str, follow_text(log, "s"))) == "".join(f"{i} " for i in range(1, 11))


def test_ids_are_random_unique_and_checked():
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 32 for i in ids)  # 128 bits

    async def test(clock, log):
        await apublish("x", log, "taken", clock=clock)
        with pytest.raises(StreamExists):
            await apublish("y", log, "taken", clock=clock)
        with pytest.raises(UsageError, match="not a stream id"):
            await apublish("y", log, "bad id{}", clock=clock)
        with pytest.raises(StreamNotFound):
            await received(clock, log, id="never")

    run(test)


def test_a_producer_whose_lease_ran_out_cannot_write_and_a_retried_append_is_written_once():
    async def test(clock, log):
        await log.create("s1", "old", {})
        await log.append("s1", "old", 1, [{"t": 0, "text": "a"}])
        await log.append("s1", "old", 1, [{"t": 0, "text": "a"}])  # retried after a drop
        await clock.asleep_until(6.0)
        with pytest.raises(LeaseLost):
            await log.append("s1", "old", 2, [{"t": 6, "text": "late"}])
        return (await log.snapshot("s1")).text

    assert run(test) == "a"


def test_a_producer_interrupted_ends_its_stream_at_once_not_a_lease_later():
    async def test(clock, log):
        source = ScriptedSource([(0.0, "so far "), (10.0, "never")], clock=clock)
        publisher = await published(clock, log, source)
        follower = clock.start_task(received(clock, log))
        await clock.asleep_until(1.0)
        publisher.cancel()  # what Ctrl-C does to asyncio.run's task
        await asyncio.sleep(0)  # (a turn of the loop delivers it: no time passes)
        with pytest.raises(asyncio.CancelledError):
            await finished(clock, publisher)
        return await finished(clock, follower)

    got = run(test)
    assert text_of(got) == "so far "
    t, last = got[-1]
    assert (t, dict(last.record)) == (
        1.0,
        {"t": 0.0, "error": "the producer was interrupted", "type": "Interrupted"},
    )
