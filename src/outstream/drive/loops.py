"""The two loops (`run`, `arun`) and the lanes they drive: one per output.

Each step takes a batch from the inbox, feeds every lane, and lets each
write what is due (see `Lane`).
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..clock import Clock
from ..core.pipeline import Pipeline
from ..core.stats import Stats
from ..errors import SinkError
from ..events import Batch
from ..sinks.stream import ReaderGone
from ..sources.llm import normalized
from .inbox import AsyncInbox, Inbox, _len, _total_cost

if TYPE_CHECKING:
    from ..recordings.asciicast import CastRecorder

__all__ = ["Display", "Lane", "Outcome", "Recorder", "Sink", "arun", "run"]


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
        self._several = False  # more than one size came while it was changing
        self.finished = False
        self.reader_gone = False
        self.structured = False  # the source sent a model's stream objects
        self.copied = False  # the last code block was put on the clipboard (copy_code)
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
                if pipeline.clipboard is not None:
                    self._copy(pipeline.clipboard)
                if self.display is not None:
                    self.display.close()
                self.sink.close()
        except ReaderGone:
            self.finished = self.reader_gone = True
        except SinkError as exc:
            self.finished = True
            self.error = exc

    def _copy(self, sequence: str) -> None:
        """Write the clipboard's OSC 52 after the answer: to the terminal only, not to a
        recording (a replay must not set anyone's clipboard), nor to the shown text."""
        sink = self.sink
        if not sink.is_terminal:
            return
        at_line_start = sink.ends_with_newline
        sink.write(sequence)
        sink.ends_with_newline = at_line_start  # it moves no cursor
        self.copied = True

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
            # A second size before the first settled: the terminal reflowed
            # the region more than once, and maybe back (see LiveRegion.resize).
            self._several = self._settles_at is not None
            self._settles_at = now + self.SETTLE
        if self._settles_at is None:
            return False
        if now < self._settles_at:
            return True
        self._settles_at = None
        if size != self._last_size or self._several:
            self._resized(now, size, several=self._several)
        self._several = False
        return False

    def _resized(self, now: float, size: tuple[int, int], *, several: bool = False) -> None:
        self._last_size = size
        self.pipeline.resize(*size, several=several)
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
        if self.reader_gone or self.error is not None:
            return
        try:
            self.sink.wait()
        except ReaderGone:
            self.reader_gone = True
        except SinkError as exc:
            self.error = exc

    def end_line(self) -> None:
        """On a terminal, end the line the text left open (a prompt or a message comes
        next), unless its reader went away or it failed; into a pipe or a file the text
        stays as it came."""
        sink = self.sink
        if (
            not sink.is_terminal
            or sink.ends_with_newline
            or self.reader_gone
            or self.error is not None
        ):
            return
        inner: Any = getattr(sink, "inner", sink)  # past a tee's BackgroundSink
        file = inner.file  # past the sink: it may be closed already
        try:
            file.write("\n")
            file.flush()
        except Exception:
            pass

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
        return Outcome(text=text, stats=stats, reader_gone=self.reader_gone, error=self.error)


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
        if not isinstance(chunk, (str, bytes, bytearray)) or (i == 0 and n + size <= 2 * limit):
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
    batch = normalized(batch)
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
    shown = [lane for lane in lanes if not lane.reader_gone and lane.error is None]
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

    ends_with_newline: bool

    @property
    def n_writes(self) -> int: ...

    @property
    def n_flushes(self) -> int: ...

    def write(self, text: str) -> None: ...

    def close(self) -> None: ...

    def wait(self, timeout: float | None = None) -> None: ...
