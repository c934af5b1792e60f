"""A testing kit for code that streams: virtual time, scripted sources, a recording sink.

With these, a test covers minutes of streaming in milliseconds and asserts
exact times::

    clock = VirtualClock()
    sink = MemorySink(clock)
    source = ScriptedSource([(0.0, "Hello, "), (0.5, "world")], clock=clock)
    outstream.stream(source, sink, pace=outstream.Typewriter(cps=10), clock=clock)
    assert sink.writes[0] == (0.0, "H")
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._llm_server import Ending, LLMServer, RecordedRequest
from .._llm_server import Script as LLMScript
from ..clock import Clock
from ..sources.replay import ScriptedSource

__all__ = [
    "Ending",
    "LLMScript",
    "LLMServer",
    "MemorySink",
    "Output",
    "PtyResult",
    "RecordedRequest",
    "ScriptedSource",
    "VirtualClock",
    "check_sink",
    "run_in_pty",
]


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
    passive (it sleeps until the time comes). Any other caller (a driver, a
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
            await future

    def signal(self) -> VirtualSignal:
        return VirtualSignal(self)

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

        Returns a future to await for a task, True for a thread.
        """
        if (signal is not None and signal.flag) or (until is not None and until <= self._now):
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
        for worker in self._workers.values():
            if worker.blocked and worker.deadline is not None and worker.deadline <= self._now:
                worker.wake()
        self._changed()

    def _changed(self) -> None:
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
            for worker in clock._workers.values():
                if worker.blocked and worker.signal is self:
                    worker.wake()
            clock._changed()

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
            await future
        return self.flag


class MemorySink:
    """A text stream that remembers each write with its time on `clock`.

    Args:
        clock: stamps the writes; without one they are stamped 0.0.
        terminal: what `isatty()` answers.
    """

    def __init__(self, clock: Clock | None = None, *, terminal: bool = False) -> None:
        self._clock = clock
        self._terminal = terminal
        self.writes: list[tuple[float, str]] = []
        self.n_flushes = 0
        self.closed = False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        t = self._clock.now() if self._clock is not None else 0.0
        self.writes.append((t, text))
        return len(text)

    def flush(self) -> None:
        self.n_flushes += 1

    def isatty(self) -> bool:
        return self._terminal

    def getvalue(self) -> str:
        return "".join(text for _, text in self.writes)


# --- a conformance suite for outputs ---


@dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    """An output for `check_sink`: the file object to write to, and its reading end.

    Attributes:
        file: what outstream writes to (text or binary).
        read: returns the bytes that reached the reader so far, without
            waiting; None where nothing can be read back (``/dev/null``).
        close: releases everything (the file, the reading end).
    """

    file: object
    read: Callable[[], bytes] | None
    close: Callable[[], None]


SAMPLE = "plain, é, 日本, 👩\u200d👩\u200d👧, flag 🇯🇵\nsecond line\n"


def check_sink(open_output: Callable[[], Output], *, encoding: str = "utf-8") -> None:
    """Check that outstream writes to an output as it should; raise AssertionError if not.

    In the manner of trio's ``check_one_way_stream``: `open_output` makes a
    fresh output each time (a pipe, a file, a pty, a socket...), and every
    check runs on a new one. It checks that the text arrives whole and
    exactly; that an output flushed per frame, chunk or line shows each
    write to its reader at once, and one flushed at the end shows it all
    once the stream ends; that closing twice is harmless; that a write after
    the end is a `SinkError`; and that writes and flushes are counted.
    `Output.read` must return every byte that reached the reader since the
    output was opened.
    """
    from ..errors import SinkError
    from ..sinks.stream import StreamSink

    def check(pieces: Sequence[str]) -> None:
        output = open_output()
        try:
            sink = StreamSink(output.file, env={})
            what = f"{sink.kind.value} ({type(output.file).__name__})"
            expected = b""
            for piece in pieces:
                sink.write(piece)
                expected += piece.encode(encoding)
                if output.read is not None and sink.flush_policy in ("frame", "chunk"):
                    seen = output.read()
                    assert seen == expected, f"{what}: after a write its reader saw {seen!r}"
            sink.close()
            sink.close()
            if output.read is not None:
                seen = output.read()
                assert seen == expected, f"{what}: at the end its reader saw {seen!r}"
            assert sink.n_writes == len(pieces), f"{what}: {sink.n_writes} writes counted"
            assert sink.n_flushes >= 1, f"{what}: never flushed"
            try:
                sink.write("after the end")
            except SinkError:
                pass
            else:
                raise AssertionError(f"{what}: a write after the end did not fail")
        finally:
            output.close()

    check([SAMPLE])
    check(["one ", "two\n", "three ", "日本"])


# --- a pseudo-terminal, for what needs a real terminal ---


@dataclass(frozen=True, slots=True, kw_only=True)
class PtyResult:
    """What a program run on a pty did: its exit code and every byte it wrote.

    Attributes:
        reads: the output as it was read from the pty, ``(t, bytes)`` with
            ``t`` in seconds since the program started (the times a
            scripted stdin counts from).
        started: when the program started, on ``time.monotonic()`` (the
            machine's clock, shared with the program: to compare with
            times it reports).
    """

    returncode: int
    output: bytes
    reads: tuple[tuple[float, bytes], ...] = ()
    started: float = 0.0


def run_in_pty(
    argv: Sequence[str],
    *,
    rows: int = 24,
    cols: int = 80,
    stdin: bytes | Sequence[tuple[float, bytes]] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 20.0,
    interrupt_after: bytes | None = None,
    interrupt_signal: int = signal.SIGINT,
    resize_after: bytes | None = None,
    resize_to: tuple[int, int] | None = None,
) -> PtyResult:
    """Run `argv` with stdout and stderr on a new pty of `rows`×`cols`.

    Args:
        argv: the program and its arguments, e.g. ``[sys.executable, "-m", "outstream", ...]``.
        stdin: bytes fed through a pipe (None: the pty is stdin too); or
            ``(t, bytes)`` pairs, each written to the pipe `t` seconds after
            the program started (a producer on the real clock; the first
            should come late enough for the program to be reading).
        env: the child's environment (``os.environ`` by default).
        timeout: the child is killed past this many seconds.
        interrupt_after: send `interrupt_signal` (SIGINT, as Ctrl-C does) once
            the output contains these bytes.
        interrupt_signal: the signal `interrupt_after` sends.
        resize_after: resize the terminal to `resize_to` (rows, cols) once the
            output contains these bytes, as a user dragging the window does.

    Reading the pty's master end gives ``EIO`` once the child has closed the
    slave: that is EOF, not an error.
    """
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("TERM", "xterm-256color")
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if stdin is not None else slave,
        stdout=slave,
        stderr=slave,
        env=child_env,
        start_new_session=True,
        close_fds=True,
    )
    os.close(slave)
    t_start = time.monotonic()
    feeder: threading.Thread | None = None
    if isinstance(stdin, bytes | bytearray) and proc.stdin is not None:
        proc.stdin.write(stdin)
        proc.stdin.close()
    elif stdin is not None and proc.stdin is not None:
        feeder = threading.Thread(target=_feed, args=(proc.stdin, list(stdin), t_start))
        feeder.start()
    output = bytearray()
    reads: list[tuple[float, bytes]] = []
    deadline = time.monotonic() + timeout
    interrupted = False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                proc.kill()
                raise TimeoutError(f"{argv[0]} did not finish within {timeout} s")
            ready, _, _ = select.select([master], [], [], min(remaining, 0.1))
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the slave side is closed
                    break
                if not data:
                    break
                output += data
                reads.append((time.monotonic() - t_start, data))
                if resize_after is not None and resize_to is not None and resize_after in output:
                    rows_now, cols_now = resize_to
                    fcntl.ioctl(
                        master, termios.TIOCSWINSZ, struct.pack("HHHH", rows_now, cols_now, 0, 0)
                    )
                    resize_after = None
                if interrupt_after is not None and not interrupted and interrupt_after in output:
                    os.kill(proc.pid, interrupt_signal)
                    interrupted = True
            elif proc.poll() is not None:
                # The child is gone; take what is still buffered, then stop.
                while select.select([master], [], [], 0)[0]:
                    try:
                        data = os.read(master, 65536)
                    except OSError:
                        data = b""
                    if not data:
                        break
                    output += data
                    reads.append((time.monotonic() - t_start, data))
                break
        returncode = proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if feeder is not None:
            feeder.join()
    return PtyResult(
        returncode=returncode, output=bytes(output), reads=tuple(reads), started=t_start
    )


def _feed(pipe: Any, script: list[tuple[float, bytes]], t_start: float) -> None:
    """Write each piece of `script` to `pipe` at its time, on an absolute schedule."""
    try:
        for t, data in script:
            delay = t_start + t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pipe.write(data)
            pipe.flush()
        pipe.close()
    except OSError:  # the program stopped reading
        pass
