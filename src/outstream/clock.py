"""The clock, injected once into the drivers; nothing in core/ reads time.

A clock does more than tell the time: every wait on the production path goes
through it. A driver waits for the source *or* a deadline on a `Signal` the
clock made; a source pauses with `sleep_until`; the reader that keeps the
source from stalling is started by the clock (`start_thread`, `start_task`).
`SystemClock` does each with the obvious primitive. The testing kit's
`VirtualClock` schedules them instead, so that a test drives the very
threads, tasks and channel a user runs, in no real time, with exact times.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import asyncio

__all__ = ["Clock", "Signal", "SystemClock", "Timing", "timing"]


class Signal(Protocol):
    """A flag set by a producer (a thread or a task) and waited on by a driver, with a deadline.

    The two waits are twins: `wait_until` blocks the calling thread,
    `await_until` suspends the calling task. Either returns True once the
    flag is set, False once the clock reaches `until` (None: no deadline).
    """

    def set(self) -> None: ...

    def clear(self) -> None: ...

    def is_set(self) -> bool: ...

    def wait_until(self, until: float | None) -> bool: ...

    async def await_until(self, until: float | None) -> bool: ...


class Clock(Protocol):
    """Where time comes from, and every wait on it."""

    def now(self) -> float: ...

    def sleep_until(self, t: float) -> None: ...

    async def asleep_until(self, t: float) -> None: ...

    def signal(self) -> Signal:
        """A new flag, cleared, whose waits run on this clock."""
        ...

    def start_thread(self, target: Callable[[], object], *, name: str) -> threading.Thread:
        """Run `target` in a new daemon thread that takes part in this clock's time."""
        ...

    def start_task(self, coro: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
        """Run `coro` as a task of the running loop that takes part in this clock's time."""
        ...


class SystemClock:
    """`time.monotonic`, shifted by a random offset.

    The offset (trio's trick) makes code that mixes `now()` with
    `time.monotonic()` fail loudly instead of working by accident.
    """

    def __init__(self, offset: float | None = None) -> None:
        self.monotonic_offset = random.uniform(10_000.0, 100_000.0) if offset is None else offset

    def now(self) -> float:
        return time.monotonic() + self.monotonic_offset

    def sleep_until(self, t: float) -> None:
        delay = t - self.now()
        if delay > 0:
            time.sleep(delay)

    async def asleep_until(self, t: float) -> None:
        delay = t - self.now()
        if delay > 0:
            import asyncio  # lazy: asyncio costs start-up time the sync path never needs

            await asyncio.sleep(delay)

    def signal(self) -> SystemSignal:
        return SystemSignal(self)

    def start_thread(self, target: Callable[[], object], *, name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread

    def start_task(self, coro: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
        import asyncio

        return asyncio.get_running_loop().create_task(coro)


class SystemSignal:
    """A `threading.Event` that a task can await too, set from any thread."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._event = threading.Event()
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None

    def set(self) -> None:
        self._event.set()
        waiter = self._waiter
        if waiter is not None:
            loop, future = waiter
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait_until(self, until: float | None) -> bool:
        if until is None:
            return self._event.wait()
        return self._event.wait(max(until - self._clock.now(), 0.0))

    async def await_until(self, until: float | None) -> bool:
        import asyncio

        if self._event.is_set():
            return True
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._waiter = (loop, future)
        timer = None
        try:
            if self._event.is_set():  # set between the check and the waiter's registration
                return True
            if until is not None:
                timer = loop.call_later(max(until - self._clock.now(), 0.0), _resolve, future)
            await future
            return self._event.is_set()
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Timing:
    """When a request began: given to `stream` (``started=``), the stream's numbers
    (time to first text, total time) count from it, not from the call.

    Made by `timing`: it takes the time when made and again when its ``with``
    block is entered.

    Args:
        clock: the clock to read; None: the system's (it suits any
            `SystemClock`: their random offsets are taken into account). A
            stream on another clock (a `outstream.testing.VirtualClock`)
            needs a `Timing` of that very clock.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock
        self.t = self._now()

    def _now(self) -> float:
        return time.monotonic() if self.clock is None else self.clock.now()

    def __enter__(self) -> Timing:
        self.t = self._now()
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def __repr__(self) -> str:
        return f"<outstream.Timing t={self.t!r}>"

    def on(self, clock: Clock) -> float:
        """The start as a time on `clock`.

        Raises:
            UsageError: this timing was taken on another clock.
        """
        if self.clock is clock:
            return self.t
        offset: float | None = getattr(clock, "monotonic_offset", None)
        if self.clock is None and offset is not None:
            return self.t + offset  # time.monotonic(), on this SystemClock
        mine: float | None = getattr(self.clock, "monotonic_offset", None)
        if mine is not None and offset is not None:
            return self.t - mine + offset
        from .errors import UsageError

        raise UsageError(
            "started= was timed on another clock than the stream's: "
            "give outstream.timing(clock=...) the stream's clock"
        )


def timing(*, clock: Clock | None = None) -> Timing:
    """The start of a request, for `stream`'s ``started=``: the time to first text then
    counts the wait for the response too.

    Example::

        with outstream.timing() as started:
            chunks = client.chat.completions.create(..., stream=True)
        outstream.stream(chunks, started=started)

    (Or give `stream` a function to call: ``outstream.stream(lambda:
    client.chat.completions.create(..., stream=True))`` calls it once the
    stream began.)

    Args:
        clock: as `Timing` takes it.
    """
    return Timing(clock)
