"""The drivers: the two loops around `Pipeline`, and the only threads and tasks.

Theory of operation: every decision is in `Pipeline`. `run` and `arun` take
what the source has produced (an *inbox* hands over everything that came,
in one batch, or nothing once the pipeline's next deadline has passed), feed
it, poll, write. The source is read beside the loop, by a thread (`run`) or
a task (`arun`), into a `Channel`, so pacing never stalls it: a slow
typewriter only grows the pacer's queue. The one thing that does slow the
reader is the output itself: when the sink blocks and more than
`Channel.max_bytes` wait in the channel, the reader waits too, which keeps
memory bounded when piping a gigabyte into a slow reader. A raw file or pipe
needs no thread: `FdInbox` waits in ``select`` for its data or the next
deadline, whichever comes first.
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
from collections.abc import AsyncIterator, Callable, Iterator, MutableSequence, Sequence
from dataclasses import dataclass, field
from itertools import repeat, starmap
from typing import TYPE_CHECKING, Any, Protocol

from ._pipes import PIPE_SIZE, grow_pipe
from .clock import Clock
from .core.pipeline import Pipeline
from .core.stats import Stats
from .errors import SinkError
from .events import End, Failed
from .sinks.stream import ReaderGone, StreamSink

if TYPE_CHECKING:
    from .sinks.asciicast import CastRecorder

__all__ = [
    "AsyncInbox",
    "BackgroundSink",
    "Batch",
    "Channel",
    "Display",
    "Inbox",
    "Lane",
    "Outcome",
    "Sink",
    "arun",
    "run",
]


@dataclass(slots=True)
class Batch:
    """What the source produced since the last look: chunks, their arrivals, maybe its end."""

    chunks: list[object] = field(default_factory=list)
    times: MutableSequence[float] = field(default_factory=list)
    end: End | Failed | None = None
    offset: float = 0.0  # times + offset are times on the driver's clock
    structured: bool = False  # it came from a model's stream objects, not plain text


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
    so the count needs no lock; past `max_bytes` (characters or bytes, plus
    a few per chunk) the reader waits for the driver to take some: the
    output is slower than the source, and memory stays bounded. The
    pipeline copies a batch a few times on its way out, so this bound, not
    the size of the source, sets the peak memory of a large copy.
    """

    max_bytes = 1024 * 1024

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
        self._bytes_in = 0  # written by the reader only
        self._bytes_out = 0  # written by the driver only; -inf once closed
        self.closed = False  # the driver wants no more

    # --- the reader's side ---

    def put(self, chunk: object) -> bool:
        """Hand over one chunk; False once the driver wants no more."""
        if self.closed:
            return False
        self._times.append(self._stamp())
        self._chunks.append(chunk)
        self._bytes_in += _len(chunk) + _ITEM_COST
        if self._attention:
            self._attention = False
            self._wakeup.set()
        if self._bytes_in - self._bytes_out > self.max_bytes:
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
        max_bytes = self.max_bytes
        bytes_in = self._bytes_in
        limit = self._bytes_out + max_bytes
        for chunk in iterator:
            append_time(stamp())
            append_chunk(chunk)
            try:
                bytes_in += len(chunk) + _ITEM_COST  # type: ignore[arg-type]
            except TypeError:
                pass  # not text: the pipeline reports it
            if self._attention:
                # Clear the flag here: the driver may take milliseconds to
                # get the GIL back, and one wakeup is enough.
                self._attention = False
                if self.closed:
                    break
                wakeup.set()
            if bytes_in > limit:
                self._bytes_in = bytes_in
                limit = self._bytes_out + max_bytes
                if bytes_in > limit:
                    if self.closed:
                        break
                    self._wait_for_room()
                    limit = self._bytes_out + max_bytes
        self._bytes_in = bytes_in

    async def aput_all(self, aiterator: AsyncIterator[object]) -> None:
        """`put_all` for a task reading an async iterator."""
        stamp = self._stamp
        append_time = self._times.append
        append_chunk = self._chunks.append
        wakeup = self._wakeup
        max_bytes = self.max_bytes
        bytes_in = self._bytes_in
        limit = self._bytes_out + max_bytes
        async for chunk in aiterator:
            append_time(stamp())
            append_chunk(chunk)
            try:
                bytes_in += len(chunk) + _ITEM_COST  # type: ignore[arg-type]
            except TypeError:
                pass
            if self._attention:
                self._attention = False
                if self.closed:
                    break
                wakeup.set()
            if bytes_in > limit:
                self._bytes_in = bytes_in
                limit = self._bytes_out + max_bytes
                if bytes_in > limit:
                    if self.closed:
                        break
                    await self._await_room()
                    limit = self._bytes_out + max_bytes
        self._bytes_in = bytes_in

    def _wait_for_room(self) -> None:
        self._room.clear()
        self._producer_waiting = True
        if self._bytes_in - self._bytes_out > self.max_bytes and not self.closed:
            self._room.wait_until(None)
        self._producer_waiting = False

    async def _await_room(self) -> None:
        self._room.clear()
        self._producer_waiting = True
        if self._bytes_in - self._bytes_out > self.max_bytes and not self.closed:
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
            self._bytes_out += _total_cost(batch.chunks)
        if self._producer_waiting:
            self._room.set()
        if end is not None:
            self._end = None
            self.close()
        return batch

    def close(self) -> None:
        self.closed = True
        self._attention = True
        self._bytes_out = -math.inf  # type: ignore[assignment]
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

    def __init__(self, iterator: Iterator[object], clock: Clock) -> None:
        self.channel = Channel(clock)
        self._iterator = iterator
        self._thread = clock.start_thread(self._read, name="outstream-reader")

    def _read(self) -> None:
        iterator, channel = self._iterator, self.channel
        try:
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

    def __init__(self, aiterator: AsyncIterator[object], clock: Clock) -> None:
        self.channel = Channel(clock)
        self._aiterator = aiterator
        self._task = clock.start_task(self._read())

    async def _read(self) -> None:
        import asyncio

        channel = self.channel
        try:
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


def _async_to_sync(aiterator: AsyncIterator[object]) -> Iterator[object]:
    """Iterate an async iterator from a thread, on an event loop of its own."""
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                yield loop.run_until_complete(anext(aiterator))
            except StopAsyncIteration:
                break
    finally:
        aclose = getattr(aiterator, "aclose", None)
        if aclose is not None:
            loop.run_until_complete(aclose())
        loop.close()


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


# --- the two loops ---


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """How one output ended: what was shown, the stats, what became of its reader."""

    text: str
    stats: Stats
    reader_gone: bool = False
    error: SinkError | None = None


class Lane:
    """One output: a pipeline and the sink it writes to. A tee has several lanes.

    Each lane has its own pacing, escapes and flushing; they all take the
    same batches from the source. A lane whose reader went away or whose
    sink failed is finished, and the others go on.

    Two things keep a terminal's screen moving, whatever comes in:

    - *A budget.* A frame writes at most `budget` characters (cut after a
      newline); the rest waits for the next frame. The budget is a frame's
      worth of what this lane managed per second, its own work (decoding,
      wrapping, rendering) and the terminal's reading together, so a
      terminal that reads slowly shows progress every frame or two and a
      fast one is not held back. The driver feeds no more than the least
      budget of its lanes per step, and reads no more of the source while a
      lane was fed a budget since it last wrote, or holds a budget's worth
      unwritten (`saturated`): a fast source waits, as it would for ``cat``.
    - *A frame rate that follows the render cost.* When rendering a frame
      costs more than half a frame (a long Markdown table), frames come
      less often rather than queue up, as aider's Markdown stream does.

    Both are measured on the driver's clock: on a virtual clock, where
    nothing costs time, they never bind unless a test's sink makes time pass.
    """

    # Write budgets for a terminal, in characters: the first, the least and
    # the most. The first is a frame of a fast terminal; 4 MiB is more than
    # any terminal takes in a frame.
    _FIRST_BUDGET = 256 * 1024
    _MIN_BUDGET = 16 * 1024
    _MAX_BUDGET = 4 * 1024 * 1024
    # A write this long says how fast the terminal reads; a shorter one is noise.
    _MEASURED_WRITE = 4096
    # Frames come at most this often relative to what rendering one costs.
    _RENDER_SHARE = 0.5
    # A live region draws again this long after the terminal's size last
    # changed. A terminal reflows its screen at once but may tell the
    # program later: tmux passes one size of several at once and the last
    # 250 ms after, so a window dragged narrower and back reads narrower
    # for a quarter of a second while the screen is as it was.
    SETTLE = 0.5

    def __init__(
        self,
        pipeline: Pipeline,
        sink: Sink,
        *,
        keep_text: bool = False,
        size: Callable[[], tuple[int, int]] | None = None,
        display: Display | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.sink = sink
        # A notebook's Markdown: one display updated in place with all the
        # text so far (once per frame), instead of writes to the stream.
        self.display = display
        self._display_text: list[str] = []
        self.cast: CastRecorder | None = None  # what this lane shows, recorded (``--record``)
        self._size = size  # reads the terminal's size again, for wrapping and Markdown
        self._last_size = size() if size is not None else None  # the size drawn for
        self._seen_size = self._last_size  # the size read last
        self._settles_at: float | None = None  # frames wait until then: the size is changing
        self.finished = False
        self.gone = False
        self.structured = False  # the source sent a model's stream objects
        self.error: SinkError | None = None
        self._shown: list[str] | None = [] if keep_text else None
        self.budget: int | None = (
            self._FIRST_BUDGET if sink.is_terminal and display is None else None
        )
        self._unwritten = ""  # rendered, beyond the last frame's budget
        self._fed = 0  # characters (or bytes) fed since the last write
        self._next_write = -math.inf  # when what is unwritten is to be written
        self._frame_interval = pipeline.frame_interval  # as asked; the pipeline's may grow
        self._render_cost = 0.0  # seconds, a running average over frames with text

    def step(self, batch: Batch, now: float, clock: Clock) -> None:
        """Feed the batch, then write what is due (within the budget)."""
        if self.finished:
            return
        t_step = clock.now()
        pipeline = self.pipeline
        if batch.structured:
            self.structured = pipeline.stats.from_model = True
        if batch.chunks:
            pipeline.feed_chunks(batch.chunks, batch.times, offset=batch.offset)
            if self.budget is not None:
                self._fed += _total_cost(batch.chunks)
        if batch.end is not None:
            pipeline.feed(batch.end, now)
        t_poll = clock.now()
        resizing = self._size is not None and self._resizing(now)
        text = "" if resizing else pipeline.poll(now)
        if text and self._frame_interval > 0:
            self._rendered(clock.now() - t_poll)
        try:
            if self.display is not None:
                if text:
                    self._display_text.append(text)
                    self.display.update("".join(self._display_text))
            elif self._unwritten or text:
                utf8 = None if self._unwritten else pipeline.utf8
                self._write(self._unwritten + text, now, clock, t_step, utf8)
            if text and self._shown is not None:
                self._shown.append(pipeline.shown_answer)
            if pipeline.done and not self._unwritten:
                self.finished = True
                if self.display is not None:
                    self.display.close()
                self.sink.close()
        except ReaderGone:
            self.finished = self.gone = True
        except SinkError as exc:
            self.finished = True
            self.error = exc

    def _resizing(self, now: float) -> bool:
        """Read the terminal's size; whether frames wait for it to settle.

        Wrapping follows a new size at once. A live region waits until the
        size has not changed for `SETTLE` seconds, then draws for it, from
        the size it last drew for: a drag's sizes in between, which the
        terminal may not have told us in time (see `SETTLE`), are skipped.
        """
        assert self._size is not None
        size = self._size()  # one ioctl: cheaper than a SIGWINCH handler, and no signals
        if size != self._seen_size:
            self._seen_size = size
            if not self.pipeline.redraws:
                self._resized(now, size)
                return False
            self._settles_at = now + self.SETTLE
        if self._settles_at is None:
            return False
        if now < self._settles_at:
            return True
        self._settles_at = None
        if size != self._last_size:
            self._resized(now, size)
        return False

    def _resized(self, now: float, size: tuple[int, int]) -> None:
        self._last_size = size
        self.pipeline.resize(*size)
        if self.cast is not None:
            self.cast.resize(now, *size)

    def _write(
        self, text: str, now: float, clock: Clock, t_step: float, utf8: bytes | None = None
    ) -> None:
        """Write `text` (within the budget); `utf8`, if known, is its UTF-8, written as it is."""
        budget = self.budget
        if budget is None or len(text) <= budget:
            cut = len(text)
        else:
            # After a newline: no escape sequence or grapheme cluster spans one.
            cut = text.rfind("\n", 0, budget) + 1 or text.find("\n", budget) + 1 or len(text)
        piece, self._unwritten = text[:cut], text[cut:]
        self._fed = 0
        write_utf8 = getattr(self.sink, "write_utf8", None)
        if (
            utf8 is not None
            and write_utf8 is not None
            and self.cast is None
            and not self._unwritten
        ):
            write_utf8(piece, utf8)
        elif self.cast is None:
            self.sink.write(piece)
        else:
            # What was shown and what is recorded must not differ by the
            # frame Ctrl-C fell between: the pair is written as one.
            with _interrupt_deferred():
                self.sink.write(piece)
                self.cast.output(now, piece)
        if budget is not None:
            # What a frame can take: this step's work (feeding, rendering)
            # and the write, which lasts as long as the terminal takes to read.
            seconds = clock.now() - t_step
            interval = self._frame_interval or 1 / 60
            if cut >= self._MEASURED_WRITE and seconds > 0:
                wanted = int(cut / seconds * interval)
                self.budget = min(max(wanted, self._MIN_BUDGET), self._MAX_BUDGET)
            elif seconds == 0 and self._unwritten:  # no time passed: it can take more
                self.budget = min(budget * 2, self._MAX_BUDGET)
            # The rest goes at the next step: a frame's worth takes the
            # terminal about a frame to read, so writing on at once keeps
            # the screen moving every frame without slowing a dump.
            self._next_write = now

    def _rendered(self, seconds: float) -> None:
        """A frame took `seconds` to render: frames come no more often than twice that."""
        self._render_cost += (seconds - self._render_cost) * 0.3
        self.pipeline.frame_interval = max(
            self._frame_interval, self._render_cost / self._RENDER_SHARE
        )

    def saturated(self) -> bool:
        """Read no more of the source for now: this lane was fed a frame's budget since it
        last wrote, or holds that much rendered and unwritten. (What a pacer holds back on
        purpose does not count: `Smooth` must see a dump as the dump it is.)"""
        budget = self.budget
        if budget is None or self.finished:
            return False
        return self._fed >= budget or len(self._unwritten) >= budget

    def next_deadline(self) -> float | None:
        if self.finished:
            return None
        # While the size settles, nothing is drawn before it has.
        if self._settles_at is not None:
            deadline: float | None = self._settles_at
        else:
            deadline = self.pipeline.next_deadline()
        if self._unwritten:
            return self._next_write if deadline is None else min(deadline, self._next_write)
        return deadline

    def settle(self) -> None:
        """After the run: wait for a sink that writes in the background."""
        if self.gone or self.error is not None:
            return
        try:
            self.sink.wait()
        except ReaderGone:
            self.gone = True
        except SinkError as exc:
            self.error = exc

    def interrupt(self, now: float) -> None:
        """Ctrl-C: write what is due, end a terminal's line, restore it, flush."""
        if self.finished:
            return
        self.finished = True
        sink = self.sink
        try:
            text = self._unwritten + self.pipeline.abort(now)
            self._unwritten = ""
            if text:
                sink.write(text)
            if sink.is_terminal and not sink.ends_with_newline:
                sink.write("\n")
                text += "\n"
            if self.cast is not None:
                self.cast.output(now, text)
            sink.close()
            # What was received is kept: a file behind a background writer
            # gets its queue, unless that takes long.
            sink.wait(timeout=1.0)
        except Exception:
            pass

    def outcome(self, now: float) -> Outcome:
        sink = self.sink
        stats = self.pipeline.stats.snapshot(now, n_writes=sink.n_writes, n_flushes=sink.n_flushes)
        text = "".join(self._shown) if self._shown is not None else ""
        return Outcome(text=text, stats=stats, reader_gone=self.gone, error=self.error)


@contextlib.contextmanager
def _interrupt_deferred() -> Iterator[None]:
    """Ctrl-C inside the block is raised as `KeyboardInterrupt` at its end, not within it.

    Only where Python's own handler is in place, in the main thread (the
    only one that may change it); elsewhere the block runs as it is.
    """
    import signal

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt


_TEXT = (str, bytes, bytearray)


def _normalized(batch: Batch) -> Batch:
    """A batch of an LLM SDK's stream objects, as text and events (`sources.llm.items_of`).

    A batch of plain text (the first and last chunks tell: a source does not
    mix the two) passes as it is, at no cost. An object of an unknown shape
    ends the stream with its TypeError, after what came before it.
    """
    chunks = batch.chunks
    if not chunks or (isinstance(chunks[0], _TEXT) and isinstance(chunks[-1], _TEXT)):
        return batch
    from .sources.llm import items_of

    out = Batch(end=batch.end, offset=batch.offset, structured=True)
    from .core.pipeline import SIDE_EVENTS

    for chunk, t in zip(chunks, batch.times, strict=True):
        if isinstance(chunk, (*_TEXT, *SIDE_EVENTS)):
            items: list[object] = [chunk]
        else:
            try:
                items = list(items_of(chunk))
            except TypeError as exc:
                out.end = Failed(t=t + batch.offset, error=exc)
                break
        out.chunks += items
        out.times += [t] * len(items)
    return out


def _budget(lanes: Sequence[Lane]) -> int | None:
    budgets = [lane.budget for lane in lanes if lane.budget is not None and not lane.finished]
    return min(budgets) if budgets else None


def _split(batch: Batch, limit: int | None) -> tuple[Batch, Batch | None]:
    """The first `limit` characters (or bytes) of `batch`, and the rest (None if none).

    A chunk may be cut anywhere: decoding, sanitizing and segmenting do not
    depend on where chunks end. The rest keeps its arrival times and the end.
    """
    if limit is None or len(batch.chunks) == 0:
        return batch, None
    n = 0
    for i, chunk in enumerate(batch.chunks):
        size = _len(chunk)
        if n + size <= limit:
            n += size
            continue
        if not isinstance(chunk, _TEXT) or (i == 0 and n + size <= 2 * limit):
            return batch, None  # not worth a second step
        cut = limit - n
        head, rest = [*batch.chunks[:i], chunk[:cut]], [chunk[cut:], *batch.chunks[i + 1 :]]
        times = batch.times
        first = Batch(
            chunks=head, times=times[: i + 1], offset=batch.offset, structured=batch.structured
        )
        second = Batch(
            chunks=rest, times=times[i:], end=batch.end, offset=batch.offset,
            structured=batch.structured,
        )  # fmt: skip
        return first, second
    return batch, None


def _taken(batch: Batch, recorders: Sequence[Recorder]) -> Batch:
    """A batch from the inbox, normalized and seen by the recorders."""
    batch = _normalized(batch)
    for recorder in recorders:
        recorder.batch(batch)
    return batch


def _scrap(carry: Batch, budget: int | None) -> bool:
    """Whether the rest of a dump is less than a frame's budget, and the source goes on.

    Fed alone, it would make a frame of a scrap and the next frame wait its
    turn: what else is ready goes with it (`_joined`), so that a fast source
    into a slow terminal writes a budget every frame.
    """
    return budget is not None and carry.end is None and _total_cost(carry.chunks) < budget


def _joined(first: Batch, second: Batch) -> Batch:
    """`first` then `second`, as one batch."""
    if not second.chunks:
        first.end = second.end
        return first
    times = second.times
    if second.offset != first.offset:
        shift = second.offset - first.offset
        times = [t + shift for t in times]
    same_kind = type(times) is type(first.times)  # two arrays, or two lists
    times = first.times + times if same_kind else [*first.times, *times]  # type: ignore[operator]
    return Batch(
        chunks=first.chunks + second.chunks,
        times=times,
        end=second.end,
        offset=first.offset,
        structured=first.structured or second.structured,
    )


def _next_deadline(lanes: Sequence[Lane]) -> float | None:
    deadlines = [d for lane in lanes if (d := lane.next_deadline()) is not None]
    return min(deadlines) if deadlines else None


def _raise_failure(lanes: Sequence[Lane]) -> None:
    """After the run: the source's error if some lane saw it through; a sink's if all failed."""
    shown = [lane for lane in lanes if not lane.gone and lane.error is None]
    error = lanes[0].pipeline.error
    if error is not None and shown:
        raise error
    if not shown and lanes[0].error is not None and all(lane.error for lane in lanes):
        raise lanes[0].error


class Recorder(Protocol):
    """Keeps a record of a run: the source's deltas, or what a lane showed."""

    def batch(self, batch: Batch) -> None:
        """What the source gave (before the lanes take it)."""
        ...

    def close(self) -> None:
        """The run is over, however it ended: flush, sync, close."""
        ...


def run(
    lanes: Sequence[Lane], inbox: Inbox, clock: Clock, recorders: Sequence[Recorder] = ()
) -> None:
    """Drive every lane from `inbox` until the source ends and all is shown (or no lane is left).

    Outcomes are read from the lanes afterwards (`Lane.outcome`). The
    `recorders` see every batch, and are closed at the end, also on Ctrl-C.

    Raises:
        The source's own exception, or `DecodeError`, after everything that
        came before it was written; `SinkError` when every output failed;
        `KeyboardInterrupt` after writing what was due.
    """
    try:
        carry: Batch | None = None  # what came, beyond what the lanes could take in one step
        while not all(lane.finished for lane in lanes):
            deadline = _next_deadline(lanes)
            if any(lane.saturated() for lane in lanes):
                if deadline is not None:
                    clock.sleep_until(deadline)
                batch = Batch()
            elif carry is not None:
                budget = _budget(lanes)
                if _scrap(carry, budget):  # with what is ready behind it, no waiting
                    carry = _joined(carry, _taken(inbox.get(clock.now()), recorders))
                batch, carry = _split(carry, budget)
            else:
                batch, carry = _split(_taken(inbox.get(deadline), recorders), _budget(lanes))
            now = clock.now()
            for lane in lanes:
                lane.step(batch, now, clock)
    except KeyboardInterrupt:
        now = clock.now()
        for lane in lanes:
            lane.interrupt(now)
        raise
    finally:
        inbox.close()
        for recorder in recorders:
            recorder.close()
    for lane in lanes:
        lane.settle()
    _raise_failure(lanes)


async def arun(
    lanes: Sequence[Lane], inbox: AsyncInbox, clock: Clock, recorders: Sequence[Recorder] = ()
) -> None:
    """`run`, awaiting the source instead of blocking on it."""
    import asyncio

    try:
        carry: Batch | None = None
        while not all(lane.finished for lane in lanes):
            deadline = _next_deadline(lanes)
            if any(lane.saturated() for lane in lanes):
                if deadline is not None:
                    await clock.asleep_until(deadline)
                batch = Batch()
            elif carry is not None:
                budget = _budget(lanes)
                if _scrap(carry, budget):
                    carry = _joined(carry, _taken(await inbox.aget(clock.now()), recorders))
                batch, carry = _split(carry, budget)
            else:
                batch = _taken(await inbox.aget(deadline), recorders)
                batch, carry = _split(batch, _budget(lanes))
            now = clock.now()
            for lane in lanes:
                lane.step(batch, now, clock)
    except (KeyboardInterrupt, asyncio.CancelledError):
        now = clock.now()
        for lane in lanes:
            lane.interrupt(now)
        raise
    finally:
        await inbox.aclose()
        for recorder in recorders:
            recorder.close()
    for lane in lanes:
        lane.settle()
    _raise_failure(lanes)


# --- a sink that cannot hold the others up ---


class Display(Protocol):
    """A region redrawn in place (`outstream.sinks.jupyter.LiveDisplay`)."""

    def update(self, text: str) -> None: ...

    def close(self, text: str | None = None) -> None: ...


class Sink(Protocol):
    """What a lane writes to: `StreamSink`, or a `BackgroundSink` around one."""

    @property
    def is_terminal(self) -> bool: ...

    @property
    def is_stdout(self) -> bool: ...

    @property
    def ends_with_newline(self) -> bool: ...

    @property
    def n_writes(self) -> int: ...

    @property
    def n_flushes(self) -> int: ...

    def write(self, text: str) -> None: ...

    def close(self) -> None: ...

    def wait(self, timeout: float | None = None) -> None: ...


class BackgroundSink:
    """A `StreamSink` written by a thread of its own, for a tee.

    `write` queues and returns, so one slow output (a pipe nobody reads
    fast, a file on a slow disk) does not hold up the others, up to
    `max_chars` queued; past that, `write` waits (memory stays bounded). An
    error met by the thread is raised by the next `write` or by `close`.
    """

    max_chars = 16 * 1024 * 1024

    def __init__(self, sink: StreamSink) -> None:
        self.inner = sink
        self.is_terminal = sink.is_terminal
        self.is_stdout = sink.is_stdout
        self.ends_with_newline = True
        self._queue: deque[str | None] = deque()  # None: close
        self._n_queued = 0
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="outstream-sink", daemon=True)
        self._thread.start()

    @property
    def n_writes(self) -> int:
        return self.inner.n_writes

    @property
    def n_flushes(self) -> int:
        return self.inner.n_flushes

    def write(self, text: str) -> None:
        with self._cond:
            self._raise_error()
            while self._n_queued > self.max_chars and self._error is None:
                self._cond.wait()
            self._raise_error()
            self._queue.append(text)
            self._n_queued += len(text)
            self._cond.notify_all()
        self.ends_with_newline = text.endswith("\n")

    def close(self) -> None:
        """Queue the close and return; `wait` sees it done."""
        with self._cond:
            self._raise_error()
            self._queue.append(None)
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> None:
        """Wait until everything queued is written and closed; raise what went wrong."""
        self._thread.join(timeout)
        with self._cond:
            self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _drain(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                item = self._queue.popleft()
            try:
                if item is None:
                    self.inner.close()
                    return
                self.inner.write(item)
            except BaseException as exc:
                with self._cond:
                    self._error = exc
                    self._queue.clear()
                    self._cond.notify_all()
                return
            finally:
                if item is not None:
                    with self._cond:
                        self._n_queued -= len(item)
                        self._cond.notify_all()


def open_inbox(source: Any, clock: Clock) -> Inbox:
    """The inbox that reads `source` for `run`."""
    from .sources.plain import async_iterator, static_chunks, sync_iterator, unknown_source

    chunks = static_chunks(source)
    if chunks is not None:
        return StaticInbox(chunks, clock)
    if isinstance(source, io.FileIO) and sys.platform != "win32" and _real_time(clock):
        return FdInbox(source, clock)
    iterator = sync_iterator(source)
    if iterator is None:
        aiterator = async_iterator(source)
        if aiterator is None:
            raise unknown_source(source)
        iterator = _async_to_sync(aiterator)
    return ThreadInbox(iterator, clock)


def open_async_inbox(source: Any, clock: Clock) -> AsyncInbox:
    """The inbox that reads `source` for `arun`."""
    from .sources.plain import async_iterator, static_chunks, sync_iterator, unknown_source

    chunks = static_chunks(source)
    if chunks is not None:
        return StaticInbox(chunks, clock)
    aiterator = async_iterator(source)
    if aiterator is not None:
        return TaskInbox(aiterator, clock)
    iterator = sync_iterator(source)
    if iterator is None:
        raise unknown_source(source)
    return ThreadInbox(iterator, clock)


def _real_time(clock: Clock) -> bool:
    """Whether `clock` runs on time.monotonic (select's timeouts are real seconds)."""
    return getattr(clock, "monotonic_offset", None) is not None
