"""A pseudo-terminal, for what needs a real terminal: `run_in_pty` and its `PtyResult`.

It runs a program (``python -m outstream`` above all) with stdout and stderr
on a new pty of a given size, can feed its stdin on a schedule, interrupt or
resize it when some output appears, and returns every byte it wrote with the
time it was read.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["PtyResult", "run_in_pty"]


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
            the output contains these bytes, as written or with its escape
            sequences taken out (a live region writes a line on where it
            ended: a word may come in pieces with sequences between them).
        interrupt_signal: the signal `interrupt_after` sends.
        resize_after: resize the terminal to `resize_to` (rows, cols) once the
            output contains these bytes (as `interrupt_after`), as a user
            dragging the window does.

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
                if (
                    resize_after is not None
                    and resize_to is not None
                    and _contains(output, len(data), resize_after)
                ):
                    rows_now, cols_now = resize_to
                    fcntl.ioctl(
                        master, termios.TIOCSWINSZ, struct.pack("HHHH", rows_now, cols_now, 0, 0)
                    )
                    resize_after = None
                if (
                    interrupt_after is not None
                    and not interrupted
                    and _contains(output, len(data), interrupt_after)
                ):
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


_ESCAPE = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")  # CSI, OSC


def _contains(output: bytearray, n_new: int, needle: bytes) -> bool:
    """Whether `output`, whose last `n_new` bytes just came, holds `needle` as written
    or without the CSI and OSC sequences between its bytes.

    Only the end is looked at without them: the needle was not there before.
    """
    if needle in output:
        return True
    tail = bytes(output[-(n_new + len(needle) + 4096) :])
    return needle in _ESCAPE.sub(b"", tail)


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
