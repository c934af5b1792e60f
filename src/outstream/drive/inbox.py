"""Inboxes: where a driver takes what the source produced, in batches, on its clock.

A `Channel` is filled by a thread (`ThreadInbox`) or a task (`TaskInbox`)
reading the source; `FdInbox` waits on a file descriptor in ``select``;
`StaticInbox` hands over text that is all there; `CalledInbox` awaits or
calls a source that is made once the run began (`called`). `open_inbox`
and `open_async_inbox` choose.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import select
import sys
import threading
import time
from array import array
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from itertools import repeat, starmap
from typing import Any, Protocol

from .._pipes import PIPE_SIZE, grow_pipe
from ..clock import Clock
from ..events import Batch, End, Failed
from ..sources.llm import MODEL_STREAM
from .called import async_to_sync, called, to_await

__all__ = [
    "AsyncInbox",
    "CalledInbox",
    "Channel",
    "FdInbox",
    "Inbox",
    "StaticInbox",
    "TaskInbox",
    "ThreadInbox",
    "open_async_inbox",
    "open_inbox",
]


class Inbox(Protocol):
    """Where a driver takes the source's output from."""

    def get(self, until: float | None) -> Batch:
        """What arrived, waiting at most until `until` (None: until something comes)."""
        ...

    def close(self) -> None:
        """No more is wanted: stop reading and close the source."""
        ...


class AsyncInbox(Protocol):
    async def aget(self, until: float | None) -> Batch: ...

    async def aclose(self) -> None: ...


def _len(chunk: object) -> int:
    try:
        return len(chunk)  # type: ignore[arg-type]
    except TypeError:
        return 0


# What a queued chunk costs beyond its characters (its arrival time, the
# queue's slots), so that a flood of tiny chunks is bounded too.
_ITEM_COST = 16


def _total_cost(chunks: Sequence[object]) -> int:
    try:
        n = sum(map(len, chunks))  # type: ignore[arg-type]
    except TypeError:
        n = sum(map(_len, chunks))
    return n + _ITEM_COST * len(chunks)


class Channel:
    """A one-way handover of chunks from the source's reader to the driver.

    The reader is a thread (`put`, `put_all`) or a task (`aput_all`); the
    driver takes what came with `get` or `aget`, waiting for the source or
    the pipeline's next deadline on a `Signal` of the clock, so a virtual
    clock schedules this very code. Putting is cheap (two deque appends: the
    arrival time on the clock, then the chunk) and wakes the driver only
    when it waits. What is queued is counted on each side by one party only,
    so the count needs no lock; past `max_queued` (characters or bytes, plus
    a few per chunk) the reader waits for the driver to take some: the
    output is slower than the source, and memory stays bounded. The
    pipeline copies a batch a few times on its way out, so this bound, not
    the size of the source, sets the peak memory of a large copy.
    """

    max_queued = 1024 * 1024  # characters or bytes (as the source gives them), and chunks

    def __init__(self, clock: Clock) -> None:
        # A clock that can say how it relates to time.monotonic lets the hot
        # path stamp arrivals with the C function and shift them in bulk.
        offset = getattr(clock, "monotonic_offset", None)
        self._stamp: Any = time.monotonic if offset is not None else clock.now
        self._offset: float = offset or 0.0
        # Arrival times as C doubles: no float object kept per chunk, and a
        # batch's times are cut off with one slice.
        self._times: array[float] = array("d")
        self._chunks: deque[object] = deque()
        self._end: End | Failed | None = None
        self._wakeup = clock.signal()
        self._room = clock.signal()
        self._room.set()
        self._attention = False  # the driver waits for a wakeup, or closed the channel
        self._producer_waiting = False
        self._queued_in = 0  # written by the reader only
        self._queued_out = 0  # written by the driver only; -inf once closed
        self.closed = False  # the driver wants no more

    # --- the reader's side ---

    def put(self, chunk: object) -> bool:
        """Hand over one chunk; False once the driver wants no more."""
        if self.closed:
            return False
        self._times.append(self._stamp())
        self._chunks.append(chunk)
        self._queued_in += _len(chunk) + _ITEM_COST
        if self._attention:
            self._attention = False
            self._wakeup.set()
        if self._queued_in - self._queued_out > self.max_queued:
            self._wait_for_room()
        return not self.closed

    def put_all(self, iterator: Iterator[object]) -> None:
        """`put` every chunk of `iterator` until it ends or the driver closes the channel.

        The same as calling `put` in a loop, with the loop's lookups hoisted:
        this is the reader thread's hot path. Per chunk it reads one flag
        (`_attention`: the driver waits, or closed the channel) and compares
        with a local limit, refreshed from the driver's count only when it is
        passed.
        """
        stamp = self._stamp
        append_time = self._times.append
        append_chunk = self._chunks.append
        wakeup = self._wakeup
        max_queued = self.max_queued
        queued_in = self._queued_in
        limit = self._queued_out + max_queued
        for chunk in iterator:
            append_time(stamp())
            append_chunk(chunk)
            try:
                queued_in += len(chunk) + _ITEM_COST  # type: ignore[arg-type]
            except TypeError:
                pass  # not text: the pipeline reports it
            if self._attention:
                # Clear the flag here: the driver may take milliseconds to
                # get the GIL back, and one wakeup is enough.
                self._attention = False
                if self.closed:
                    break
                wakeup.set()
            if queued_in > limit:
                self._queued_in = queued_in
                limit = self._queued_out + max_queued
                if queued_in > limit:
                    if self.closed:
                        break
                    self._wait_for_room()
                    limit = self._queued_out + max_queued
        self._queued_in = queued_in

    async def aput_all(self, aiterator: AsyncIterator[object]) -> None:
        """`put_all` for a task reading an async iterator."""
        stamp = self._stamp
        append_time = self._times.append
        append_chunk = self._chunks.append
        wakeup = self._wakeup
        max_queued = self.max_queued
        queued_in = self._queued_in
        limit = self._queued_out + max_queued
        async for chunk in aiterator:
            append_time(stamp())
            append_chunk(chunk)
            try:
                queued_in += len(chunk) + _ITEM_COST  # type: ignore[arg-type]
            except TypeError:
                pass
            if self._attention:
                self._attention = False
                if self.closed:
                    break
                wakeup.set()
            if queued_in > limit:
                self._queued_in = queued_in
                limit = self._queued_out + max_queued
                if queued_in > limit:
                    if self.closed:
                        break
                    await self._await_room()
                    limit = self._queued_out + max_queued
        self._queued_in = queued_in

    def _wait_for_room(self) -> None:
        self._room.clear()
        self._producer_waiting = True
        if self._queued_in - self._queued_out > self.max_queued and not self.closed:
            self._room.wait_until(None)
        self._producer_waiting = False

    async def _await_room(self) -> None:
        self._room.clear()
        self._producer_waiting = True
        if self._queued_in - self._queued_out > self.max_queued and not self.closed:
            await self._room.await_until(None)
        self._producer_waiting = False

    def end(self, error: BaseException | None = None) -> None:
        t = self._stamp() + self._offset
        self._end = End(t=t) if error is None else Failed(t=t, error=error)
        self._wakeup.set()

    # --- the driver's side ---

    def get(self, until: float | None) -> Batch:
        if not self._chunks and self._end is None:
            self._wakeup.clear()
            self._attention = True
            if not self._chunks and self._end is None:
                self._wakeup.wait_until(until)
        return self._take()

    async def aget(self, until: float | None) -> Batch:
        if not self._chunks and self._end is None:
            self._wakeup.clear()
            self._attention = True
            if not self._chunks and self._end is None:
                await self._wakeup.await_until(until)
        return self._take()

    def _take(self) -> Batch:
        # Read the end marker before draining: an item put before it cannot be missed.
        end = self._end
        batch = Batch(end=end)
        n = len(self._chunks)  # the reader appends the time first: there are >= n times
        if n:
            # starmap(popleft, repeat(())) pops n items in C, not in a Python loop.
            batch.chunks = list(starmap(self._chunks.popleft, repeat((), n)))
            times = self._times
            batch.times = times[:n]  # the reader appends at the end only: these are the first n
            del times[:n]
            batch.offset = self._offset
            self._queued_out += _total_cost(batch.chunks)
        if self._producer_waiting:
            self._room.set()
        if end is not None:
            self._end = None
            self.close()
        return batch

    def close(self) -> None:
        self.closed = True
        self._attention = True
        self._queued_out = -math.inf  # type: ignore[assignment]
        self._room.set()


class ThreadInbox:
    """Reads a (sync) iterator in a thread of the clock's into a `Channel`.

    The driver may be `run` (`get`) or `arun` (`aget`): a blocking source
    under asyncio is read by this thread too, and awaited without an
    executor.
    """

    # How long `close` waits for the reader to close the source: long enough
    # for a reader between chunks, short enough not to hang on one blocked
    # inside the source (a socket that says nothing).
    close_timeout = 0.25

    def __init__(self, iterator: Iterator[object], clock: Clock, *, model: bool = False) -> None:
        self.channel = Channel(clock)
        self._iterator = iterator
        self._model = model  # a model SDK's stream: say so first (`sources.llm.MODEL_STREAM`)
        self._thread = clock.start_thread(self._read, name="outstream-reader")

    def _read(self) -> None:
        iterator, channel = self._iterator, self.channel
        try:
            if self._model:
                channel.put(MODEL_STREAM)
            channel.put_all(iterator)
        except BaseException as exc:
            channel.end(exc)
        else:
            channel.end()
        finally:
            close = getattr(iterator, "close", None)
            if callable(close):
                with contextlib.suppress(Exception):
                    close()

    def get(self, until: float | None) -> Batch:
        return self.channel.get(until)

    async def aget(self, until: float | None) -> Batch:
        return await self.channel.aget(until)

    def close(self) -> None:
        self.channel.close()
        if self._thread is not threading.current_thread():
            self._thread.join(self.close_timeout)

    async def aclose(self) -> None:
        # The thread stops at its next chunk and closes the source itself;
        # the loop is not held up waiting for it.
        self.channel.close()


class TaskInbox:
    """Reads an async iterator in a task of the clock's into a `Channel`."""

    def __init__(
        self, aiterator: AsyncIterator[object], clock: Clock, *, model: bool = False
    ) -> None:
        self.channel = Channel(clock)
        self._aiterator = aiterator
        self._model = model
        self._task = clock.start_task(self._read())

    async def _read(self) -> None:
        import asyncio

        channel = self.channel
        try:
            if self._model:
                channel.put(MODEL_STREAM)
            await channel.aput_all(self._aiterator)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            channel.end(exc)
        else:
            channel.end()

    async def aget(self, until: float | None) -> Batch:
        return await self.channel.aget(until)

    async def aclose(self) -> None:
        import asyncio

        self.channel.close()
        if not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        aclose = getattr(self._aiterator, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


class FdInbox:
    """Reads a raw file (`io.FileIO`: a pipe, stdin, a file) in the driver's own thread.

    No thread is needed where the operating system can say whether data is
    there: ``select`` waits for data *or* the pipeline's next deadline,
    whichever comes first, and ``os.read`` takes what is there without
    waiting for more. The source is thus read as soon as it writes, pacing or
    not, and a fast copy pays no thread handoffs. A real file descriptor runs
    on real time: with any other clock, the file is read by a `ThreadInbox`.
    """

    # What a read takes at most (it never waits for more than is there). Each
    # read costs a step of Python around a few passes at C speed over the
    # bytes, so a pipe copy is faster with larger reads: 256 KiB reads copy
    # 100 MB 15% faster than 64 KiB ones, once the strings they make are kept
    # off malloc's mmap path (core/utf8.py, _keep_large_blocks).
    read_size = 256 * 1024
    pipe_size = PIPE_SIZE  # so that the producer can run ahead while we work

    def __init__(self, file: Any, clock: Clock) -> None:
        self._file = file
        self._clock = clock
        self._fd: int = file.fileno()
        self._done = False
        grow_pipe(self._fd, self.pipe_size)

    def get(self, until: float | None) -> Batch:
        clock = self._clock
        if self._done:
            if until is not None:
                clock.sleep_until(until)
            return Batch()
        timeout = None if until is None else max(until - clock.now(), 0.0)
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return Batch()
        try:
            data = os.read(self._fd, self.read_size)
        except OSError as exc:
            self._done = True
            return Batch(end=Failed(t=clock.now(), error=exc))
        t = clock.now()
        if not data:
            self._done = True
            return Batch(end=End(t=t))
        return Batch(chunks=[data], times=[t])

    def close(self) -> None:
        self._done = True


class CalledInbox:
    """For `arun`: a source to await (an async client's call, not awaited) or to call
    (a function giving any source), awaited or called once the run began, then read as
    any source.

    A function is called in a thread of the clock's, so that one that blocks
    (a sync client's request) does not block the loop; what it gives, if
    awaitable (an async client's coroutine, which its making did not
    start), is awaited on the loop.
    """

    def __init__(self, source: Any, clock: Clock) -> None:
        self._source = source
        self._clock = clock
        self._opened = clock.signal()
        self._inbox: AsyncInbox | None = None
        self._error: BaseException | None = None
        self._task = clock.start_task(self._open())

    async def _open(self) -> None:
        import asyncio

        try:
            made = self._source
            if not isinstance(made, Awaitable):
                made = await self._called(made)
            if to_await(made):
                made = await made
            self._inbox = open_async_inbox(made, self._clock, called=True)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._error = exc
        finally:
            self._opened.set()

    async def _called(self, function: Callable[[], object]) -> object:
        done = self._clock.signal()
        outcome: list[object] = []
        failure: list[BaseException] = []

        def call() -> None:
            try:
                outcome.append(function())
            except BaseException as exc:
                failure.append(exc)
            finally:
                done.set()

        self._clock.start_thread(call, name="outstream-call")
        await done.await_until(None)
        if failure:
            raise failure[0]
        return outcome[0]

    async def aget(self, until: float | None) -> Batch:
        if self._inbox is not None:
            return await self._inbox.aget(until)
        if not self._opened.is_set() and not await self._opened.await_until(until):
            return Batch()
        if self._error is not None:
            error, self._error = self._error, None
            return Batch(end=Failed(t=self._clock.now(), error=error))
        if self._inbox is None:  # its failure was told
            if until is not None:
                await self._clock.asleep_until(until)
            return Batch()
        return await self._inbox.aget(until)

    async def aclose(self) -> None:
        import asyncio

        if not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if hasattr(self._source, "cr_frame"):  # a coroutine: closed, if never awaited
            self._source.close()
        if self._inbox is not None:
            await self._inbox.aclose()


class StaticInbox:
    """A source that is all there from the start: a str or bytes."""

    def __init__(self, chunks: Sequence[object], clock: Clock) -> None:
        self._clock = clock
        t = clock.now()
        self._batch: Batch | None = Batch(
            chunks=list(chunks), times=[t] * len(chunks), end=End(t=t)
        )

    def get(self, until: float | None) -> Batch:
        batch, self._batch = self._batch, None
        if batch is None:
            if until is not None:
                self._clock.sleep_until(until)
            return Batch()
        return batch

    async def aget(self, until: float | None) -> Batch:
        batch, self._batch = self._batch, None
        if batch is None:
            if until is not None:
                await self._clock.asleep_until(until)
            return Batch()
        return batch

    def close(self) -> None:
        self._batch = None

    async def aclose(self) -> None:
        self._batch = None


def open_inbox(source: Any, clock: Clock) -> Inbox:
    """The inbox that reads `source` for `run`."""
    from ..sources.llm import from_model_sdk
    from ..sources.plain import async_iterator, static_chunks, sync_iterator, unknown_source

    chunks = static_chunks(source)
    if chunks is not None:
        return StaticInbox(chunks, clock)
    if isinstance(source, io.FileIO) and sys.platform != "win32" and _real_time(clock):
        return FdInbox(source, clock)
    iterator = sync_iterator(source)
    if iterator is None:
        aiterator = async_iterator(source)
        if aiterator is not None:
            iterator = async_to_sync(aiterator)
        elif isinstance(source, Awaitable):
            iterator = async_to_sync(source)
        elif callable(source):
            iterator = called(source)
        else:
            raise unknown_source(source)
    return ThreadInbox(iterator, clock, model=from_model_sdk(source))


def open_async_inbox(source: Any, clock: Clock, *, called: bool = False) -> AsyncInbox:
    """The inbox that reads `source` for `arun`; `called`: `source` is what a source to call
    or await gave (it is not called or awaited again)."""
    from ..sources.llm import from_model_sdk
    from ..sources.plain import async_iterator, static_chunks, sync_iterator, unknown_source

    chunks = static_chunks(source)
    if chunks is not None:
        return StaticInbox(chunks, clock)
    model = from_model_sdk(source)
    aiterator = async_iterator(source)
    if aiterator is not None:
        return TaskInbox(aiterator, clock, model=model)
    iterator = sync_iterator(source)
    if iterator is None:
        if not called and (isinstance(source, Awaitable) or callable(source)):
            return CalledInbox(source, clock)
        raise unknown_source(source, called=called)
    return ThreadInbox(iterator, clock, model=model)


def _real_time(clock: Clock) -> bool:
    """Whether `clock` runs on time.monotonic (select's timeouts are real seconds)."""
    return getattr(clock, "monotonic_offset", None) is not None
