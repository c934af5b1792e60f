"""What the stream-log benchmarks (relay.py, web.py) share (not a benchmark itself).

Importing it puts this checkout's ``src`` first on ``sys.path``: the package
measured is this checkout's, in this process and, through `env()`, in its
children (the producer, the readers' process).

Both run a redis-server of their own, a producer that is the real CLI
(`outstream publish`, its stdin a pipe fed by a feeder process at a steady
rate, each token "<seq:wall-time>"), and a readers' process that is the bench
script again (``--readers``), stopped at a cutoff; both judge their goals in
the same table.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from _common import child_env, compile_package, fmt_table, verdict

# This checkout's package, in this process and in its children.
SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
sys.path.insert(0, SRC)

__all__ = [
    "LATENCY_COLUMNS",
    "SRC",
    "FanOutLatency",
    "Producer",
    "ReadersProcess",
    "env",
    "judge",
    "latency_cells",
    "log_key",
    "ms",
    "pct",
    "prepare",
    "raise_fd_limit",
    "redis_server",
    "shown",
    "until",
]


def env() -> dict[str, str]:
    """A child's environment: a user's (see _common.child_env), with this checkout's package."""
    return child_env(PYTHONPATH=SRC)


def ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{seconds * 1000:.1f}"


def pct(samples: list[float] | array.array[float], q: float, missing: int = 0) -> float:
    """The q-quantile of `samples` plus `missing` values later than anything (inf)."""
    total = len(samples) + missing
    if total == 0:
        return float("nan")
    k = min(total - 1, int(q * total))
    if k >= len(samples):
        return float("inf")
    return sorted(samples)[k]


def shown(value: float, cutoff: float | None = None) -> str:
    """A latency in ms; one later than anything (inf) as later than the cutoff, or never."""
    if value == float("inf"):
        return f"> {cutoff:.0f} s" if cutoff else "never"
    return ms(value)


@dataclass
class FanOutLatency:
    """What readers of one answer saw, in a fan-out run: append -> receipt and token ->
    receipt (s; inf: not received by the cutoff), and the share delivered."""

    design: str
    readers: int
    append_p50: float = float("nan")
    append_p99: float = float("nan")
    token_p50: float = float("nan")
    token_p99: float = float("nan")
    delivered: float = float("nan")  # share of (reader, item) pairs received by the cutoff
    complete: bool = True  # every token was written (relay.py, ours: to the log, in order)
    cutoff: float = 5.0  # s from the producer's start: what came later counts as later


# The columns a fan-out's latency table begins with; under the last five, `latency_cells`.
LATENCY_COLUMNS = [
    "design",
    "readers",
    "append->recv p50",
    "p99",
    "token->recv p50",
    "p99",
    "delivered",
]


def latency_cells(run: FanOutLatency, *, append: bool = True) -> list[str]:
    """A fan-out run's append -> receipt and token -> receipt (p50, p99; ms, or later than
    its cutoff) and the share delivered; without `append`, dashes for the first two."""
    return [
        shown(run.append_p50, run.cutoff) if append else "-",
        shown(run.append_p99, run.cutoff) if append else "-",
        shown(run.token_p50, run.cutoff),
        shown(run.token_p99, run.cutoff),
        f"{run.delivered * 100:.1f}%",
    ]


def log_key(id: str) -> str:
    """The Redis key of stream `id`'s log."""
    return f"outstream:{{{id}}}:log"


def raise_fd_limit(n: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n if hard == resource.RLIM_INFINITY else min(n, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def until(check: Any, timeout: float, step: float = 0.02) -> bool:
    """Wait (blocking) until `check()` is true, `timeout` s at most; whether it is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return bool(check())


def judge(part: str, goals: list[tuple[str, bool, str]], failures: list[str]) -> None:
    """Print the goals of `part` (goal, met, what was measured) as a table; the ones not met
    go to `failures`."""
    rows: list[list[object]] = [[goal, value, verdict(ok)] for goal, ok, value in goals]
    print()
    print(fmt_table(["goal", "measured", "result"], rows))
    failures += [f"{part} {goal}: {value}" for goal, ok, value in goals if not ok]


def prepare(doc: str, fds: int) -> Any:
    """A bench's start: what it measures (the first paragraph of `doc`); redis-py and
    redis-server checked for (the bench exits saying what to install); the package
    byte-compiled; room for `fds` files. The redis module."""
    print(doc.split("\n\n")[0] + "\n")
    try:
        import redis
    except ImportError:
        sys.exit("bench: needs redis-py (pip install redis)")
    from outstream.testing.redis_server import redis_server_path

    if redis_server_path() is None:
        sys.exit("bench: needs redis-server (apt-get install redis-server)")
    compile_package()
    raise_fd_limit(fds)
    return redis


@contextlib.contextmanager
def redis_server() -> Iterator[tuple[str, Any]]:
    """A temporary folder, and a redis-server of the bench's own (outstream.testing.RedisServer:
    loopback, no persistence) in it: (folder, server); both gone at the end."""
    from outstream.testing.redis_server import RedisServer

    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(tmp)
        try:
            yield tmp, server
        finally:
            server.stop()


# --- the producer: the CLI (or a peer's) fed through a pipe ---

FEEDER = r"""
import os, signal, sys, time
rate, count, pad, burst, path = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
stop = []
signal.signal(signal.SIGUSR1, lambda *_: stop.append(1))
sys.stdin.readline()
fd = sys.stdout.fileno()
sent = []
t0 = time.monotonic()
try:
    for i in range(count):
        if stop:
            break
        if i >= burst:  # the first `burst` tokens as fast as the pipe takes them
            delay = t0 + (i - burst) / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        elif i == burst - 1:
            t0 = time.monotonic()
        token = f"<{i}:{time.time():.6f}>"
        token += "." * (pad - len(token) - 1) + " " if pad > len(token) else ""
        os.write(fd, token.encode())
        sent.append(token)
except BrokenPipeError:
    pass
with open(path, "w") as f:
    f.write("".join(sent))
"""


class Producer:
    """A producer fed `count` tokens by a feeder process once `go()`: the first `burst` at
    once, then `rate` a second, each padded to `pad` bytes (with dots and a space) if it is
    shorter; what was fed is `sent()`, once the feeder is done.

    The producer is `python -m outstream publish --redis URL --id ID`, or `publisher`:
    (argv, environment) of another that reads its stdin; it says `ready` (ours: the id) on
    stdout once the stream exists. `what` names it when it does not start.
    """

    def __init__(
        self,
        url: str,
        id: str,
        tmp: str,
        *,
        count: int,
        rate: float,
        pad: int = 0,
        burst: int = 0,
        publisher: tuple[list[str], dict[str, str]] | None = None,
        ready: str | None = None,
        what: str = "outstream publish",
    ) -> None:
        self.id = id
        self.path = os.path.join(tmp, f"{id}.sent")
        self.err = open(os.path.join(tmp, f"{id}.err"), "w+b")  # noqa: SIM115
        feeder_argv = [sys.executable, "-c", FEEDER, str(rate), str(count), str(pad), str(burst)]
        self.feeder = subprocess.Popen(
            [*feeder_argv, self.path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env()
        )
        if publisher is None:
            publisher = (
                [sys.executable, "-m", "outstream", "publish", "--redis", url, "--id", id],
                env(),
            )
        argv, penv = publisher
        self.publisher = subprocess.Popen(
            argv, stdin=self.feeder.stdout, stdout=subprocess.PIPE, stderr=self.err, env=penv
        )
        assert self.feeder.stdout is not None and self.publisher.stdout is not None
        self.feeder.stdout.close()
        try:
            line = self.publisher.stdout.readline().decode().strip()  # the stream exists
        except BaseException:
            self.close()
            raise
        if line != (id if ready is None else ready):
            said = self.stderr()
            self.close()
            raise SystemExit(f"bench: {what} did not start: {said}")
        self.t_go = 0.0

    def go(self) -> None:
        assert self.feeder.stdin is not None
        self.t_go = time.time()
        self.feeder.stdin.write(b"go\n")
        self.feeder.stdin.close()

    def wait(self, timeout: float) -> int | None:
        """The producer's exit code, or None if it is still running after `timeout` s."""
        try:
            return self.publisher.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    async def wait_async(self, timeout: float) -> int | None:
        """`wait`, leaving the event loop free meanwhile."""
        deadline = time.monotonic() + timeout
        while self.publisher.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.publisher.poll()

    def stop_feeding(self) -> None:
        """The source ends now (the feeder stops; the publisher sees the end of its input)."""
        self.feeder.send_signal(signal.SIGUSR1)

    def sent(self) -> str:
        self.feeder.wait(timeout=30)
        with open(self.path, encoding="utf-8") as f:
            return f.read()

    def stderr(self) -> str:
        self.err.seek(0)
        return self.err.read().decode(errors="replace").strip()

    def close(self) -> None:
        for proc in (self.publisher, self.feeder):
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for pipe in (self.publisher.stdout, self.feeder.stdin):
            if pipe is not None:
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()
        self.err.close()


# --- the readers' process: the bench script again ---


class ReadersProcess:
    """`python SCRIPT --readers ARGS...` (ARGS: `args`): it says "ready" on stdout once its
    readers are; "go" lines on its stdin; at the end of its stdin it stops and pickles its
    figures (a dict) to `out`. `what` names it when it does not start."""

    def __init__(self, script: str, args: list[str], out: str, what: str = "the readers") -> None:
        self.out = out
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(script), "--readers", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env(),
        )
        assert self.proc.stdout is not None
        try:
            ready = self.proc.stdout.readline().strip() == b"ready"
        except BaseException:
            self.close()
            raise
        if not ready:
            self.close()
            raise SystemExit(f"bench: {what} did not start")

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def figures(self, deadline: float, exit_timeout: float) -> dict[str, Any]:
        """Their figures, once they are all done or at `deadline` (time.time()), when they are
        told to stop; the process has `exit_timeout` s to write them and exit."""
        import pickle

        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(max(0.0, deadline - time.time()))
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.close()  # stop
        self.proc.wait(exit_timeout)
        with open(self.out, "rb") as f:
            figures: dict[str, Any] = pickle.load(f)
        return figures

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()
