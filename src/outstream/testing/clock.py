"""Virtual time for tests: a clock that jumps to the next deadline once everything waits.

`VirtualClock` is trio's ``MockClock`` with ``autojump_threshold=0``, for
threads and tasks: it schedules the production drivers, reader threads and
tasks, so a test covers minutes of streaming in no real time and asserts
exact times with ``==``. `VirtualSignal` is its `Signal`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["VirtualClock", "VirtualSignal"]


class VirtualClock:
    """A clock whose time moves only when everything that runs on it is waiting.

    trio's ``MockClock`` with ``autojump_threshold=0``, for threads and tasks:
    the drivers, the reader threads and tasks (`start_thread`,
    `start_task`) and the sources that pause on the clock (`sleep_until`,
    `ScriptedSource`) all wait through it, and it jumps straight to the
    earliest time any of them waits for once none of them can go on. So a
    test runs the production inbox, threads and loops in no real time and
    asserts exact times with ``==``.

    A thread or task started through the clock is a *worker*: its waits are
    passive (it sleeps until the time comes or its signal is set). Workers
    run one at a time, as trio's tasks do: once every worker waits, the
    first one started whose time has come or whose signal is set runs, and
    the next when it waits again; so a driver that is a worker itself (the
    thread of `outstream.iter_text`) takes what a reader put at an instant
    all at once, in every run of a test. Any other caller (a driver, a
    test) waits actively: when every worker is blocked, it moves the time to
    the next deadline, its own or a worker's. Threads the clock did not
    start may still write to a `Writer` or a channel; their arrivals are
    stamped with the time at that moment.

    Every `sleep_until` and `asleep_until` is recorded in `sleeps`. Time
    never goes backwards.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self.sleeps: list[float] = []
        self._cond = threading.Condition()
        self._workers: dict[object, _Worker] = {}  # a thread or task -> what it waits for
        self._watchers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the time on by `seconds`, as a busy caller would see it pass.

        The workers run meanwhile: the time stops at each of their deadlines
        on the way, until they are blocked again.
        """
        if seconds < 0:
            raise ValueError("time can't go backwards")
        self.set(self._now + seconds)

    def set(self, t: float) -> None:
        """Move the time on to `t` (see `advance`)."""
        if t < self._now:
            raise ValueError("time can't go backwards")
        with self._cond:
            if self._me() is None:
                self._wait_active(None, t)
            else:
                self._advance(t)

    # --- workers ---

    def start_thread(self, target: Callable[[], object], *, name: str) -> threading.Thread:
        def body() -> None:
            try:
                target()
            finally:
                with self._cond:
                    del self._workers[thread]
                    self._changed()

        thread = threading.Thread(target=body, name=name, daemon=True)
        with self._cond:
            self._workers[thread] = _Worker()  # before it runs: no instant without it
        thread.start()
        return thread

    def start_task(self, coro: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
        task = asyncio.get_running_loop().create_task(coro)
        with self._cond:
            self._workers[task] = _Worker()
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[object]) -> None:
        with self._cond:
            self._workers.pop(task, None)
            self._changed()

    def _me(self) -> object | None:
        """The calling worker (a thread or task the clock started), or None."""
        thread = threading.current_thread()
        if thread in self._workers:
            return thread
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no loop runs in this thread
            return None
        return task if task in self._workers else None

    # --- waiting ---

    def sleep_until(self, t: float) -> None:
        with self._cond:
            self.sleeps.append(t)
            if self._me() is None:
                self._wait_active(None, t)
            else:
                self._wait_passive(None, t)

    async def asleep_until(self, t: float) -> None:
        with self._cond:
            self.sleeps.append(t)
            passive = self._me() is not None
            future = self._block(None, t) if passive else None
        if not passive:
            await self._await_active(None, t)
        elif isinstance(future, asyncio.Future):
            await self._await_blocked(future)

    def signal(self) -> VirtualSignal:
        return VirtualSignal(self)

    async def _await_blocked(self, future: asyncio.Future[None]) -> None:
        """A worker task's wait; cancelled, the task runs on (its cleanup, at this instant)."""
        try:
            await future
        except asyncio.CancelledError:
            with self._cond:
                worker = self._workers.get(asyncio.current_task())
                if worker is not None and worker.blocked:
                    worker.wake()
                    self._changed()
            raise

    def _wait_passive(self, signal: VirtualSignal | None, until: float | None) -> None:
        worker = self._workers[self._me()]
        if self._block(signal, until) is None:
            return
        while worker.blocked:
            self._cond.wait()

    def _block(
        self, signal: VirtualSignal | None, until: float | None
    ) -> asyncio.Future[None] | bool | None:
        """Mark the calling worker blocked until `until` or `signal`; None if it need not wait.

        Returns a future to await for a task, True for a thread. A signal
        already set wakes the worker once the instant is settled, as one set
        later does (`_changed`), not at once: which of two workers runs first
        is then never up to the threads.
        """
        if until is not None and until <= self._now:
            return None
        me = self._me()
        worker = self._workers[me]
        worker.blocked = True
        worker.deadline = until
        worker.signal = signal
        result: asyncio.Future[None] | bool = True
        if not isinstance(me, threading.Thread):  # a task: it awaits a future
            loop = asyncio.get_running_loop()
            worker.future = result = loop.create_future()
            worker.loop = loop
        self._changed()
        return result

    def _wait_active(self, signal: VirtualSignal | None, until: float | None) -> bool:
        while True:
            decision = self._decide(signal, until)
            if decision is not None:
                return decision
            self._cond.wait()

    async def _await_active(self, signal: VirtualSignal | None, until: float | None) -> bool:
        watcher = (asyncio.get_running_loop(), asyncio.Event())
        with self._cond:
            self._watchers.add(watcher)
        try:
            while True:
                with self._cond:
                    watcher[1].clear()
                    decision = self._decide(signal, until)
                if decision is not None:
                    return decision
                await watcher[1].wait()
        finally:
            with self._cond:
                self._watchers.discard(watcher)

    def _decide(self, signal: VirtualSignal | None, until: float | None) -> bool | None:
        """For an active waiter: True (signalled), False (`until` reached) or None (wait on).

        Nothing is decided before the instant is settled (every worker
        blocked): a driver woken by the first of fifty chunks put at one
        instant takes all fifty, as it does whenever the threads happen to
        run in that order, so every run of a test is the same run.
        """
        if not all(worker.blocked for worker in self._workers.values()):
            return None
        if signal is not None and signal.flag:
            return True
        if until is not None and until <= self._now:
            return False
        deadlines = [w.deadline for w in self._workers.values() if w.deadline is not None]
        soonest = min(deadlines) if deadlines else None
        if soonest is not None and (until is None or soonest <= until):
            self._advance(soonest)  # a worker runs now: wait until it is blocked again
            return None
        if until is None:
            return None  # only a producer outside the clock can help
        self._advance(until)
        return False

    def _advance(self, t: float) -> None:
        self._now = max(self._now, t)
        self._changed()  # the workers whose deadline has come run, one after another

    def _changed(self) -> None:
        workers = self._workers.values()
        if all(worker.blocked for worker in workers):
            # Every worker waits: the first (in the order they were started)
            # whose deadline has come or whose signal is set runs now, alone,
            # and the next when it waits again. Woken together, two workers
            # would race: a driver thread would take a chunk a reader put,
            # and the end the reader put next a step later, or with it, as
            # the threads happened to run.
            for worker in workers:
                if worker.ready(self._now):
                    worker.wake()
                    break
        self._cond.notify_all()
        for loop, event in self._watchers:
            with contextlib.suppress(RuntimeError):  # a closed loop waits for nothing
                loop.call_soon_threadsafe(event.set)


class _Worker:
    """What a worker waits for: a deadline, a signal, or nothing (it runs)."""

    __slots__ = ("blocked", "deadline", "future", "loop", "signal")

    def __init__(self) -> None:
        self.blocked = False
        self.deadline: float | None = None
        self.signal: VirtualSignal | None = None
        self.future: asyncio.Future[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def ready(self, now: float) -> bool:
        """Whether it waits for what has come: its deadline, or its signal."""
        return self.blocked and (
            (self.deadline is not None and self.deadline <= now)
            or (self.signal is not None and self.signal.flag)
        )

    def wake(self) -> None:
        self.blocked = False
        self.deadline = None
        self.signal = None
        future, self.future = self.future, None
        if future is not None and self.loop is not None:
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class VirtualSignal:
    """`VirtualClock`'s `Signal`: its waits are scheduled by the clock."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self.flag = False

    def set(self) -> None:
        clock = self._clock
        with clock._cond:
            self.flag = True
            clock._changed()  # wakes the workers waiting for it, once the instant is settled

    def clear(self) -> None:
        with self._clock._cond:
            self.flag = False

    def is_set(self) -> bool:
        return self.flag

    def wait_until(self, until: float | None) -> bool:
        clock = self._clock
        with clock._cond:
            if clock._me() is None:
                return clock._wait_active(self, until)
            clock._wait_passive(self, until)
            return self.flag

    async def await_until(self, until: float | None) -> bool:
        clock = self._clock
        with clock._cond:
            passive = clock._me() is not None
            future = clock._block(self, until) if passive else None
        if not passive:
            return await clock._await_active(self, until)
        if isinstance(future, asyncio.Future):
            await clock._await_blocked(future)
        return self.flag
