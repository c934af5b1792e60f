"""A testing kit for code that streams: virtual time, scripted sources, a recording sink.

With these, a test covers minutes of streaming in milliseconds and asserts
exact times::

    clock = VirtualClock()
    sink = MemorySink(clock)
    source = ScriptedSource([(0.0, "Hello, "), (0.5, "world")])
    outstream.stream(source, sink, pace=outstream.Typewriter(cps=10), clock=clock)
    assert sink.writes[0] == (0.0, "H")
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ._llm_server import Ending, LLMServer, RecordedRequest
from ._llm_server import Script as LLMScript
from .clock import Clock
from .sources.replay import ScriptedSource

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
    """A clock that jumps: `sleep_until(t)` sets the time to `t` at once.

    Every sleep is recorded in `sleeps`. Time never goes backwards.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self._now

    def sleep_until(self, t: float) -> None:
        self.sleeps.append(t)
        if t > self._now:
            self._now = t

    async def asleep_until(self, t: float) -> None:
        self.sleep_until(t)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time can't go backwards")
        self._now += seconds

    def set(self, t: float) -> None:
        if t < self._now:
            raise ValueError("time can't go backwards")
        self._now = t


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
    from .errors import SinkError
    from .sinks.stream import StreamSink

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
    """What a program run on a pty did: its exit code and every byte it wrote."""

    returncode: int
    output: bytes


def run_in_pty(
    argv: Sequence[str],
    *,
    rows: int = 24,
    cols: int = 80,
    stdin: bytes | None = None,
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
        stdin: bytes fed through a pipe (None: the pty is stdin too).
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
    if stdin is not None and proc.stdin is not None:
        proc.stdin.write(stdin)
        proc.stdin.close()
    output = bytearray()
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
                break
        returncode = proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return PtyResult(returncode=returncode, output=bytes(output))
