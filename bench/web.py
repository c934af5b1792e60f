"""The web: one answer to many browsers through `outstream serve`, against Vercel's resumable-stream.

What it measures
Everything goes through ONE real `python -m outstream serve --redis URL --port 0`
process (the CLI, a fresh one per run, its own process, a loopback port it
picks), a redis-server of this script's own (outstream.testing.RedisServer),
and a producer that is the real CLI too: `python -m outstream publish --redis
URL --id ID`, its stdin a pipe fed by another process at RATE tokens/s. Each
token is "<seq:wall-time>" (the feeder's time.time() just before it writes
it). The readers are raw sockets (asyncio Protocols: a GET, then each
data_received stamped with time.time() and kept; parsed only once the run is
over) in one readers' process: the cheapest client Python has, so that on 2
cores the client is not what is measured (its CPU is printed).
(1) Fan-out: READERS_STEPS concurrent SSE readers of one stream, RATE tokens/s
    for SECONDS s. append -> receipt: the reader's time when the bytes that
    complete an event arrived minus the event's id, which is Redis's clock
    in ms at its XADD (up to 1 ms high); events not received by the cutoff
    (the producer's end + GRACE) count as later than everything. Server CPU:
    utime + stime from /proc/PID/stat over the run; memory: the peak VmRSS
    during the run minus the RSS before the readers came.
    token -> receipt (what a user sees: one frame of coalescing, <= 16.7 ms,
    included) is the column to set beside the peer's.
(2) Readers that stop reading: STALLED raw sockets (4 KiB receive buffer)
    that send the GET and never read, and NORMAL readers, over a long
    answer fed fast (LONG_RATE tokens/s of PAD bytes: the sockets' buffers
    fill in a second or two); ours also without the stalled sockets, as
    the baseline of its memory. The server's peak RSS; whether the
    stalled sockets were closed (each is read to its end afterwards: a
    stream cut before its `end` event, then EOF); the normal readers' text
    and latency.
(3) Backlog: a reader joins a stream whose log already holds BACKLOG bytes of
    text (fed fast) while it is still produced at RATE: time to the first
    byte of the body, and to the last byte of the backlog; JOINS joins.
(4) Faults: (a) resume after a reload: a reader leaves at a random moment,
    RELOADS times, and comes back with Last-Event-ID (ours) or
    ?skip=characters it has (the peer's resumeAt): its text must be what was
    fed, no gap, no repeat. (b) The producer killed with SIGKILL mid-answer:
    what CRASH_READERS readers already there get, and what a reader that
    (re)loads the page after the crash gets.
  Peer: Vercel's resumable-stream (npm, 2.2.13; with node-redis 4), installed
    at bench time in ~/.cache/outstream-bench (never in the repo), run with
    node by bench/_resumable_stream.mjs, on the same Redis: its producer is a
    node process (the first request's handler, which the library keeps
    going: createNewResumableStream), fed by the same feeder; its readers go
    to a second node process, an http server whose handler is
    resumeExistingStream(id, skip) piped to the response with back-pressure.

Goals (issue 15)
    (1) append -> receipt p99 <= 100 ms at 1000 readers, every reader gets every
        event; cost linear in readers with a small constant: per reader per
        second at 1000 readers within 1.5x of at 100, at most 1 ms CPU (1000
        readers on one core) and 64 KiB (one transport buffer).
    (2) the server's memory for a reader that stops reading is bounded: the
        stalled sockets are disconnected (let go after 10 s of taking
        nothing), RSS at most 160 KiB per stalled reader over the same run
        without them (a reader's own ~35 KiB, 16 KiB read for it, and the
        server's transport buffer: uvicorn's 64 KiB and the one write beyond
        it), whatever the answer's length; the normal readers get every byte.
    (3) no goal: figures, ours beside the peer's.
    (4) (a) no gap, no repeat, text byte-identical; (b) every reader has the
        text so far and learns that the producer is gone.

(OUTSTREAM_BENCH_PARTS=2,4 runs those parts alone; OUTSTREAM_BENCH_NO_PEER=1 runs ours alone.)

Run: python bench/web.py     (about 115 s; needs redis-server, uvicorn, starlette, redis-py,
                              and node + npm for the peer)
"""

from __future__ import annotations

import array
import asyncio
import bisect
import contextlib
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import _relaying
from _common import child_env, fmt_table, report
from _relaying import env, judge, log_key, ms, pct, raise_fd_limit, shown, until

HERE = os.path.dirname(os.path.abspath(__file__))

RATE = 300.0  # tokens/s
SECONDS = 5.0  # (bench/relay.py: 10 s; 5 s keeps five runs in the budget)
READERS_STEPS = tuple(
    int(n) for n in os.environ.get("OUTSTREAM_BENCH_READERS", "10,100,1000").split(",")
)
PEER_STEPS = (10, 100)
GRACE = 5.0
STALLED = 50
NORMAL = 10
LONG_RATE = 3000.0  # tokens/s of PAD bytes for the long answer in (2)
LONG_SECONDS = 14.0
PAD = 100  # bytes per token in (2) and (3)
BACKLOG = 100_000  # bytes of text before the reader joins in (3)
JOINS = 5
RELOADS = 20
CRASH_READERS = 10
GOAL_P99 = 0.100
GOAL_CPU = 1e-3  # s per reader per s
GOAL_RSS = 64 * 1024  # bytes per reader
# A stalled reader: a reader's own state (about 35 KiB: see (1)), what the response read
# for it (16 KiB), and the server's transport buffer (uvicorn waits beyond 64 KiB) with
# the one write it took beyond that (16 KiB); with some room.
GOAL_STALLED = 160 * 1024
GOAL_LINEAR = 1.5
PEER_VERSION = "2.2.13"
PEER_CACHE = os.path.expanduser("~/.cache/outstream-bench")
TOKEN = re.compile(rb"<(\d+):([0-9.]+)")
EVENT_ID = re.compile(rb"(?m)^id: (\d+)-(\d+)$")
CLK_TCK = os.sysconf("SC_CLK_TCK")

# --- processes: what /proc says ---


def proc_cpu(pid: int) -> float:
    """user + system CPU seconds of process `pid`."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_waited(pid: int) -> float:
    """Seconds process `pid` has spent runnable but waiting for a CPU (schedstat)."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


def proc_rss(pid: int) -> int:
    """Resident memory of process `pid`, bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Sampler:
    """The RSS of a process every 50 ms, from a thread, until `stop()`: (times, bytes)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            with contextlib.suppress(OSError):
                self.samples.append((time.time(), proc_rss(self.pid)))

    def stop(self) -> int:
        """The peak RSS seen."""
        self._stop.set()
        self._thread.join()
        return max((rss for _, rss in self.samples), default=proc_rss(self.pid))


# --- the server: `outstream serve`, and the peer's ---


class Server:
    """A server process that says its port; its CPU and RSS from /proc."""

    name = ""

    def __init__(self, argv: list[str], port_pattern: bytes, tmp: str, **kwargs: Any) -> None:
        self.err = tempfile.TemporaryFile(dir=tmp)  # noqa: SIM115
        self.proc = subprocess.Popen(
            argv, stdout=self.err, stderr=self.err, stdin=subprocess.DEVNULL, **kwargs
        )
        found: list[int] = []

        def port() -> bool:
            self.err.seek(0)
            match = re.search(port_pattern, self.err.read())
            if match:
                found.append(int(match.group(1)))
            return bool(found) or self.proc.poll() is not None

        until(port, 30.0)
        if not found:
            said = self.output()
            self.stop()
            raise SystemExit(f"bench: {argv[:4]} did not start: {said}")
        self.port = found[0]
        self.pid = self.proc.pid

    def output(self) -> str:
        self.err.seek(0)
        return self.err.read().decode(errors="replace").strip()

    def cpu(self) -> float:
        return proc_cpu(self.pid)

    def rss(self) -> int:
        return proc_rss(self.pid)

    def path(self, id: str, after: str | None = None) -> str:
        raise NotImplementedError

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(8)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


class Serve(Server):
    name = "ours"

    def __init__(self, url: str, tmp: str) -> None:
        argv = [sys.executable, "-m", "outstream", "serve", "--redis", url, "--port", "0"]
        super().__init__(argv, rb"http://127\.0\.0\.1:(\d+)/", tmp, env=env())

    def path(self, id: str, after: str | None = None) -> str:
        return f"/v1/streams/{id}/events" + (f"?after={after}" if after else "")


def node_env(url: str) -> dict[str, str]:
    return child_env(REDIS_URL=url, OUTSTREAM_BENCH_MODULES=PEER_CACHE)


class PeerServer(Server):
    name = "peer"

    def __init__(self, url: str, tmp: str) -> None:
        argv = ["node", os.path.join(HERE, "_resumable_stream.mjs"), "serve"]
        super().__init__(argv, rb"listening (\d+)", tmp, env=node_env(url))

    def path(self, id: str, after: str | None = None) -> str:
        return f"/resume/{id}?skip={after or 0}"


# --- producers: the CLI (ours), a node process (the peer), both fed by _relaying.FEEDER ---


class Producer(_relaying.Producer):
    """A producer fed `count` tokens by a feeder process once `go()`: the first `burst`
    at once, then `rate` a second. `outstream publish` (ours) or the peer's node producer."""

    def __init__(
        self,
        design: str,
        url: str,
        id: str,
        tmp: str,
        *,
        count: int,
        rate: float = RATE,
        pad: int = 0,
        burst: int = 0,
    ) -> None:
        if design == "ours":
            super().__init__(url, id, tmp, count=count, rate=rate, pad=pad, burst=burst)
        else:
            argv = ["node", os.path.join(HERE, "_resumable_stream.mjs"), "produce", id]
            super().__init__(
                url,
                id,
                tmp,
                count=count,
                rate=rate,
                pad=pad,
                burst=burst,
                publisher=(argv, node_env(url)),
                ready="ready",
                what="the peer's producer",
            )


# --- the readers' process ---
#
# N raw sockets in one process, each an asyncio Protocol that stamps and keeps
# what it receives; nothing is parsed until the run is over. A thread there
# takes "stop" (the end of stdin) and stops the event loop (which, overloaded,
# may take a while to notice: what came meanwhile is stamped when it came).


@dataclass
class Got:
    """What one reader received, parsed."""

    events: list[tuple[int, int, float]] = field(default_factory=list)  # (ms, seq, t) ours
    tokens: list[tuple[int, float, float]] = field(default_factory=list)  # (seq, stamp, t)
    first: float = float("nan")  # first byte after the request
    nbytes: int = 0
    ended: bool = False  # it got the stream's end (ours: event: end; peer: EOF after a 200)
    eof: bool = False
    gone: bool = False  # it was told that the producer is gone (ours: ProducerGone)
    text: str = ""  # the answer's text in it (the "text" of each data: line)


def parse(chunks: list[bytes], times: list[float], t_sent: float, tokens: bool, eof: bool) -> Got:
    data = b"".join(chunks)
    ends = list(array.array("q", _accumulate(len(c) for c in chunks)))

    def at(pos: int) -> float:
        return times[bisect.bisect_left(ends, pos)]

    got = Got(first=times[0] - t_sent if times else float("nan"), nbytes=len(data), eof=eof)
    head, _, body = data.partition(b"\r\n\r\n")
    base = len(head) + 4
    body = _unchunk(body) if b"chunked" in head.lower() else [(0, body)]
    # (offsets in `body` pieces are mapped back to the raw bytes for the receipt time)
    for offset, piece in body:
        for match in EVENT_ID.finditer(piece):
            end = piece.find(b"\n\n", match.end())
            if end >= 0:
                t = at(base + offset + end + 2)
                got.events.append((int(match.group(1)), int(match.group(2)), t))
        if tokens:
            for match in TOKEN.finditer(piece):
                t = at(base + offset + match.end())
                got.tokens.append((int(match.group(1)), float(match.group(2)), t))
    text = b"".join(piece for _, piece in body)
    got.ended = b"event: end\n" in text or (eof and b" 200 " in head[:16] and b"0\r\n\r\n" in data)
    got.gone = b"ProducerGone" in text
    got.text = answer_text(text)
    return got


def answer_text(body: bytes) -> str:
    """The answer's text in an event stream: the "text" of each complete data: line."""
    out = []
    for line in body.split(b"\n"):
        if line.startswith(b"data: {"):
            with contextlib.suppress(ValueError):
                out.append(json.loads(line[6:]).get("text", ""))
    return "".join(out)


def _accumulate(sizes: Any) -> Any:
    total = 0
    for size in sizes:
        total += size
        yield total


def _unchunk(body: bytes) -> list[tuple[int, bytes]]:
    """The pieces of a chunked body, each with its offset in `body` (the last one as far
    as it came)."""
    pieces = []
    pos = 0
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            break
        try:
            size = int(body[pos:eol], 16)
        except ValueError:
            break
        if size == 0:
            break
        pieces.append((eol + 2, body[eol + 2 : eol + 2 + size]))
        pos = eol + 2 + size + 2
    return pieces


def readers_process(port: int, path: str, n: int, out: str, every: int, texts: bool) -> None:
    """N readers of `path`: 'ready' on stdout once each has its first bytes; they stop at
    the end of their streams, or at the end of stdin; their figures pickled to `out`."""
    import pickle

    raise_fd_limit(n + 1000)
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
        "Connection: close\r\n\r\n"
    ).encode()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        stop = loop.create_future()

        class Reader(asyncio.Protocol):
            def __init__(self) -> None:
                self.chunks: list[bytes] = []
                self.times: list[float] = []
                self.t_sent = 0.0
                self.closed = loop.create_future()

            def connection_made(self, transport: Any) -> None:
                self.t_sent = time.time()
                transport.write(request)

            def data_received(self, data: bytes) -> None:
                self.times.append(time.time())
                self.chunks.append(data)

            def connection_lost(self, exc: Exception | None) -> None:
                if not self.closed.done():
                    self.closed.set_result(None)

        readers: list[Reader] = []
        for start in range(0, n, 100):  # (a listen backlog is 128 by default)
            batch = [Reader() for _ in range(min(100, n - start))]
            await asyncio.gather(
                *(loop.create_connection(lambda r=r: r, "127.0.0.1", port) for r in batch)
            )
            readers += batch
            deadline = loop.time() + 30
            while not all(r.chunks or r.closed.done() for r in batch):
                if loop.time() > deadline:
                    raise SystemExit("readers: no answer in 30 s")
                await asyncio.sleep(0.01)
        print("ready", flush=True)
        cpu0, t0 = time.process_time(), time.time()

        def control() -> None:
            sys.stdin.read()
            loop.call_soon_threadsafe(lambda: stop.done() or stop.set_result(None))

        threading.Thread(target=control, daemon=True).start()
        everyone = asyncio.gather(*(r.closed for r in readers))
        await asyncio.wait([everyone, stop], return_when=asyncio.FIRST_COMPLETED)
        share = (time.process_time() - cpu0) / (time.time() - t0)
        figures = [
            parse(r.chunks, r.times, r.t_sent, i % every == 0, r.closed.done())
            for i, r in enumerate(readers)
        ]
        if not texts:
            for figure in figures:
                figure.text = ""  # (not sent back: the parent compares counts)
        with open(out, "wb") as f:
            pickle.dump({"readers": figures, "cpu": share}, f)

    asyncio.run(run())
    sys.stdout.flush()
    os._exit(0)


class ReadersProcess(_relaying.ReadersProcess):
    """This script again, as the readers' process (see readers_process)."""

    def __init__(
        self, port: int, path: str, n: int, tmp: str, every: int = 1, texts: bool = False
    ) -> None:
        out = os.path.join(tmp, f"readers-{port}-{n}-{time.time()}.pickle")
        args = [str(port), path, str(n), out, str(every), "texts" if texts else "-"]
        super().__init__(__file__, args, out)

    def finish(self, deadline: float) -> tuple[list[Got], float]:
        """Their figures, once every stream ended or at `deadline` (time.time()); and the
        readers' CPU share (of one core) meanwhile."""
        figures = self.figures(deadline, 120)
        return figures["readers"], figures["cpu"]


# --- what the log holds ---


def appended(r: Any, id: str) -> dict[tuple[int, int], float]:
    """Entry id (ms, seq) -> Redis's time of its XADD, for every entry of the stream."""
    out = {}
    for entry_id, _ in r.xrange(log_key(id)):
        ms_, seq = entry_id.split("-")
        out[(int(ms_), int(seq))] = int(ms_) / 1000
    return out


# --- (1) fan-out ---


@dataclass
class FanOut(_relaying.FanOutLatency):
    ended: int = 0
    cpu: float = 0.0  # server CPU seconds per second
    waited: float = float("nan")  # seconds per second the server waited for a CPU
    rss_before: int = 0
    rss_peak: int = 0
    readers_cpu: float = 0.0

    @property
    def cpu_per_reader(self) -> float:
        return self.cpu / self.readers

    @property
    def rss_per_reader(self) -> float:
        return (self.rss_peak - self.rss_before) / self.readers


def fan_out(design: str, url: str, r: Any, tmp: str, n: int) -> FanOut:
    id = f"fan-{design}-{n}"
    every = 1 if n <= 100 else 10
    server: Server = Serve(url, tmp) if design == "ours" else PeerServer(url, tmp)
    result = FanOut(design, n)
    producer: Producer | None = None
    readers: ReadersProcess | None = None
    try:
        result.rss_before = server.rss()
        producer = Producer(design, url, id, tmp, count=round(RATE * SECONDS))
        readers = ReadersProcess(server.port, server.path(id), n, tmp, every)
        sampler = Sampler(server.pid)
        cpu0, waited0, t0 = server.cpu(), proc_waited(server.pid), time.time()
        producer.go()
        code = producer.wait(SECONDS + 30.0)
        t_end = time.time()
        if code != 0:
            raise SystemExit(f"bench: the {design} producer exited {code}: {producer.stderr()}")
        got, result.readers_cpu = readers.finish(t_end + GRACE)
        result.cpu = (server.cpu() - cpu0) / (time.time() - t0)
        result.waited = (proc_waited(server.pid) - waited0) / (time.time() - t0)
        result.rss_peak = sampler.stop()
        sent = producer.sent()
        result.cutoff = t_end - producer.t_go + GRACE
    finally:
        if readers is not None:
            readers.close()
        if producer is not None:
            producer.close()
        server.stop()
    n_tokens = len(TOKEN.findall(sent.encode()))
    result.complete = n_tokens == round(RATE * SECONDS)
    result.ended = sum(g.ended for g in got)
    by_token: list[float] = []
    missing_tokens = 0
    for i, g in enumerate(got):
        if i % every == 0:
            seen = {seq: t - stamp for seq, stamp, t in g.tokens}
            by_token += seen.values()
            missing_tokens += n_tokens - len(seen)
    result.token_p50 = pct(by_token, 0.5, missing_tokens)
    result.token_p99 = pct(by_token, 0.99, missing_tokens)
    if design == "ours":
        at = appended(r, id)
        by_append = array.array("d")
        missing = 0
        for g in got:
            seen = {(m, s): t for m, s, t in g.events}
            by_append.extend(t - at[k] for k, t in seen.items() if k in at)
            missing += len(at) - len(seen.keys() & at.keys())
        result.append_p50 = pct(by_append, 0.5, missing)
        result.append_p99 = pct(by_append, 0.99, missing)
        result.delivered = len(by_append) / max(1, len(by_append) + missing)
    else:
        result.delivered = len(by_token) / max(1, len(by_token) + missing_tokens)
    return result


def part_fan_out(url: str, r: Any, tmp: str, failures: list[str], peer: bool) -> list[FanOut]:
    print(
        f"(1) fan-out: {RATE:.0f} tokens/s for {SECONDS:.0f} s (scaled down from bench/relay.py's "
        "10 s to keep the whole bench under 2 minutes), the producer in a process of its own, "
        "N raw-socket readers in another, a fresh server per run"
    )
    runs = [fan_out("ours", url, r, tmp, n) for n in READERS_STEPS]
    if peer:
        runs += [fan_out("peer", url, r, tmp, n) for n in PEER_STEPS]
    rows = []
    for run in runs:
        rows.append(
            [
                "ours: outstream serve" if run.design == "ours" else "peer: resumable-stream",
                run.readers,
                *_relaying.latency_cells(run, append=run.design == "ours"),
                f"{run.ended}/{run.readers}",
                f"{run.cpu * 100:.0f}",
                f"{run.waited * 100:.0f}",
                f"{run.cpu_per_reader * 1e6:.0f}",
                f"{run.rss_before / 2**20:.0f}",
                f"{run.rss_peak / 2**20:.0f}",
                f"{run.rss_per_reader / 1024:.1f}",
                f"{run.readers_cpu * 100:.0f}",
            ]
        )
    print()
    print(
        fmt_table(
            [
                *_relaying.LATENCY_COLUMNS,
                "ended",
                "server CPU %",
                "waited %",
                "us/reader/s",
                "RSS MiB before",
                "peak",
                "KiB/reader",
                "readers CPU %",
            ],
            rows,
        )
    )
    print(
        "latency in ms; items not received by the cutoff (the producer's end + 5 s) count as "
        "later. append = the entry's XADD (its Redis id); token = the feeder's stamp. "
        "CPU: the server process's user + system time over the run (from the producer's start to "
        "the last reader's end), per second; waited: the time it was ready to run but had no "
        "CPU (/proc/PID/schedstat: this machine is shared), per second; per reader per second = "
        "CPU / readers. "
        "KiB/reader = (peak RSS during the run - RSS before the readers came) / readers. "
        "The readers' process's CPU is shown so that a client at its limit can be seen"
    )
    if peer:
        print(
            f"the peer is not run with {READERS_STEPS[-1]} readers: its producer PUBLISHes each "
            "chunk once per reader, to the reader's own channel, and waits for them all before "
            "it reads the next (resumable-stream dist/runtime.js 139-143): at 300 chunks/s, "
            "300 000 PUBLISH/s from one node process, and one subscriber connection per server "
            "to receive them"
        )
    ours = {run.readers: run for run in runs if run.design == "ours"}
    big, mid = ours[READERS_STEPS[-1]], ours[READERS_STEPS[-2]]
    cpu_ratio = big.cpu_per_reader / mid.cpu_per_reader
    rss_ratio = big.rss_per_reader / max(1.0, mid.rss_per_reader)
    goals = [
        (
            f"append->recv p99 at {big.readers} readers <= {GOAL_P99 * 1000:.0f} ms",
            big.append_p99 <= GOAL_P99,
            shown(big.append_p99, big.cutoff) + " ms",
        ),
        (
            "every reader gets every event and the end",
            big.delivered == 1.0 and big.ended == big.readers and big.complete,
            f"{big.delivered * 100:.1f}%, {big.ended}/{big.readers} ended",
        ),
        (
            f"CPU per reader per s at {big.readers} <= {GOAL_LINEAR}x at {mid.readers} (linear)",
            cpu_ratio <= GOAL_LINEAR,
            f"{cpu_ratio:.2f}x",
        ),
        (
            f"CPU per reader per s <= {GOAL_CPU * 1e6:.0f} us",
            big.cpu_per_reader <= GOAL_CPU,
            f"{big.cpu_per_reader * 1e6:.0f} us",
        ),
        (
            f"memory per reader at {big.readers} <= {GOAL_LINEAR}x at {mid.readers} (linear)",
            rss_ratio <= GOAL_LINEAR,
            f"{rss_ratio:.2f}x",
        ),
        (
            f"memory per reader <= {GOAL_RSS // 1024} KiB",
            big.rss_per_reader <= GOAL_RSS,
            f"{big.rss_per_reader / 1024:.1f} KiB",
        ),
    ]
    judge("(1)", goals, failures)
    return runs


# --- one reader on a blocking socket (parts 2 to 4) ---


@dataclass
class Visit:
    """What one request got: its status, its body (unchunked, a cut chunk as far as it
    came), when the first byte, the first token and `mark` came (s after the request)."""

    status: int = 0
    body: bytes = b""
    first_byte: float = float("inf")
    first_token: float = float("inf")
    at_mark: float = float("inf")
    eof: bool = False

    @property
    def complete_events(self) -> list[bytes]:
        return self.body.split(b"\n\n")[:-1]


def visit(port: int, path: str, *, limit: float, mark: bytes | None = None) -> Visit:
    """GET `path` and read for `limit` s, until the end of the body, or until `mark` and
    the end of the event that holds it came."""
    got = Visit()
    raw = bytearray()
    with socket.create_connection(("127.0.0.1", port)) as s:
        t0 = time.time()
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        deadline = t0 + limit
        while (left := deadline - time.time()) > 0:
            s.settimeout(left)
            try:
                data = s.recv(1 << 16)
            except TimeoutError:
                break
            now = time.time() - t0
            if not data:
                got.eof = True
                break
            got.first_byte = min(got.first_byte, now)
            raw += data
            if got.first_token == float("inf") and TOKEN.search(raw):
                got.first_token = now
            if mark is not None and (at := raw.find(mark)) >= 0 and raw.find(b"\n\n", at) >= 0:
                got.at_mark = now
                break
    head, _, body = bytes(raw).partition(b"\r\n\r\n")
    with contextlib.suppress(IndexError, ValueError):
        got.status = int(head.split(b" ", 2)[1])
    if b"chunked" in head.lower():
        got.body = b"".join(piece for _, piece in _unchunk(body))  # (a cut one as far as it came)
    else:
        got.body = body
    return got


def tcp_send_queues(port: int, remotes: set[int]) -> int:
    """Bytes in the kernel's send queues of the server's connections on `port` to the
    client ports `remotes` (/proc/net/tcp: tx_queue)."""
    total = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) in remotes:
                total += int(fields[4].split(":")[0], 16)
    return total


def make_server(design: str, url: str, tmp: str) -> Server:
    return Serve(url, tmp) if design == "ours" else PeerServer(url, tmp)


# --- (2) readers that stop reading ---


@dataclass
class Stall:
    design: str
    rss_before: int = 0
    rss_peak: int = 0
    rss_end: int = 0
    kernel_peak: int = 0
    kernel_end: int = 0
    cut: int = 0  # stalled sockets the server closed before the answer's end
    let_go: int = 0  # readers the server said it let go
    delivered: float = float("nan")  # normal readers
    ended: int = 0
    token_p99: float = float("nan")
    identical: bool = False
    answer_bytes: int = 0
    first_let_go: float = float("nan")
    pubsub_cut: int = 0  # Redis: subscribers disconnected for their output buffer


def stalled(design: str, url: str, tmp: str, n_stalled: int = STALLED) -> Stall:
    id = f"stalled-{design}-{n_stalled}"
    result = Stall(design)
    count = round(LONG_RATE * LONG_SECONDS)
    server = make_server(design, url, tmp)
    producer: Producer | None = None
    normal: ReadersProcess | None = None
    socks: list[socket.socket] = []
    try:
        producer = Producer(design, url, id, tmp, count=count, rate=LONG_RATE, pad=PAD)
        result.rss_before = server.rss()
        request = f"GET {server.path(id)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        for _ in range(n_stalled):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", server.port))
            s.sendall(request)
            socks.append(s)
        ports = {s.getsockname()[1] for s in socks}
        normal = ReadersProcess(server.port, server.path(id), NORMAL, tmp, 1, texts=True)
        sampler = Sampler(server.pid)
        producer.go()
        said = 0
        while producer.publisher.poll() is None and time.time() < producer.t_go + 60:
            result.kernel_peak = max(result.kernel_peak, tcp_send_queues(server.port, ports))
            now_said = server.output().count("took nothing")
            if now_said and not said:
                result.first_let_go = time.time() - producer.t_go
            said = now_said
            time.sleep(0.25)
        t_end = time.time()
        got, _ = normal.finish(t_end + GRACE)
        if design == "ours":  # (each is let go once it has taken nothing for 10 s)
            until(lambda: server.output().count("took nothing") >= n_stalled, 5.0, 0.1)
        result.let_go = server.output().count("took nothing")
        result.rss_peak = sampler.stop()
        result.rss_end = server.rss()
        result.kernel_end = tcp_send_queues(server.port, ports)
        sent = producer.sent()
        # Each stalled socket read now: a stream cut before its end, then EOF?
        deadline = time.time() + 10.0
        for s in socks:
            s.settimeout(max(0.01, deadline - time.time()))
            data = bytearray()
            with contextlib.suppress(OSError):
                while chunk := s.recv(1 << 16):
                    data += chunk
                else:
                    result.cut += b"event: end" not in data and not data.endswith(b"0\r\n\r\n")
    finally:
        for s in socks:
            s.close()
        if normal is not None:
            normal.close()
        if producer is not None:
            producer.close()
        server.stop()
    result.answer_bytes = len(sent)
    n_tokens = len(TOKEN.findall(sent.encode()))
    by_token: list[float] = []
    missing = 0
    import redis

    stats = redis.Redis.from_url(url).info("stats")
    result.pubsub_cut = int(stats.get("client_output_buffer_limit_disconnections", 0))
    for g in got:
        seen = {seq: t - stamp for seq, stamp, t in g.tokens}
        by_token += seen.values()
        missing += n_tokens - len(seen)
    result.delivered = len(by_token) / max(1, len(by_token) + missing)
    result.token_p99 = pct(by_token, 0.99, missing)
    result.ended = sum(g.ended for g in got)
    result.identical = all(g.text == sent for g in got) and n_tokens == count
    return result


def part_stalled(url: str, tmp: str, failures: list[str], peer: bool) -> None:
    print(
        f"\n(2) readers that stop reading: {STALLED} sockets (4 KiB receive buffer) that send "
        f"the GET and never read, and {NORMAL} readers, over a {LONG_SECONDS:.0f} s answer of "
        f"{LONG_RATE:.0f} tokens/s of {PAD} bytes"
    )
    alone = stalled("ours", url, tmp, 0)
    runs = [stalled("ours", url, tmp)] + ([stalled("peer", url, tmp)] if peer else [])
    rows = []
    for run in [alone, *runs]:
        n = STALLED if run is not alone else 0
        rows.append(
            [
                "ours: outstream serve" if run.design == "ours" else "peer: resumable-stream",
                n,
                f"{run.answer_bytes / 2**20:.1f}",
                f"{run.rss_before / 2**20:.0f}",
                f"{run.rss_peak / 2**20:.0f}",
                f"{(run.rss_peak - alone.rss_peak) / n / 1024:.0f}"
                if n and run.design == "ours"
                else f"{(run.rss_peak - run.rss_before) / n / 1024:.0f}"
                if n
                else "-",
                f"{run.kernel_peak / n / 1024:.0f}" if n else "-",
                f"{run.kernel_end / n / 1024:.0f}" if n else "-",
                f"{run.cut}/{n}" if n else "-",
                f"{run.first_let_go:.1f}" if run.first_let_go == run.first_let_go else "-",
                f"{run.delivered * 100:.1f}%",
                f"{run.ended}/{NORMAL}",
                shown(run.token_p99),
                "yes" if run.identical else "NO",
            ]
        )
    print()
    print(
        fmt_table(
            [
                "design",
                "stalled",
                "answer MiB",
                "RSS MiB before",
                "peak",
                "KiB/stalled",
                "kernel KiB/stalled peak",
                "end",
                "cut off",
                "first let go s",
                "normal: delivered",
                "ended",
                "token->recv p99",
                "text identical",
            ],
            rows,
        )
    )
    print(
        "KiB/stalled: ours = (peak RSS with the stalled readers - peak RSS of the same run "
        "without them) / stalled readers; the peer = (peak RSS - RSS before) / stalled readers "
        "(its normal readers' share included). kernel = the server's send queues to the "
        "stalled sockets (/proc/net/tcp), at their peak and at the end; 'cut off': the server "
        "closed it before the answer's end (read once the run is over: what was sent, then EOF)"
    )
    if peer and runs[1].pubsub_cut:
        print(
            f"Redis disconnected {runs[1].pubsub_cut} pub/sub client(s) whose output buffer "
            "passed its limit (client-output-buffer-limit pubsub): the peer's readers' server "
            "subscribes on one connection for all its readers"
        )
    ours = runs[0]
    bound = GOAL_STALLED
    judge(
        "(2)",
        [
            (
                "every stalled reader let go (cut off) within the run",
                ours.cut == STALLED,
                f"{ours.cut}/{STALLED} (the server said {ours.let_go})",
            ),
            (
                f"RSS per stalled reader <= {bound // 1024} KiB (the same run without them)",
                ours.rss_peak - alone.rss_peak <= bound * STALLED,
                f"{(ours.rss_peak - alone.rss_peak) / STALLED / 1024:.0f} KiB",
            ),
            (
                "the normal readers get every byte, to the end",
                ours.identical and ours.ended == NORMAL,
                f"{ours.delivered * 100:.1f}%, {ours.ended}/{NORMAL} ended",
            ),
        ],
        failures,
    )


# --- (3) backlog ---


def backlog(design: str, url: str, tmp: str) -> list[Visit]:
    id = f"backlog-{design}"
    burst = BACKLOG // PAD
    server = make_server(design, url, tmp)
    producer: Producer | None = None
    visits = []
    try:
        producer = Producer(
            design, url, id, tmp, count=burst + round(RATE * 6), pad=PAD, burst=burst
        )
        producer.go()
        time.sleep(1.0)  # (the backlog is in: the pipe takes it in milliseconds)
        mark = b"<%d:" % (burst - 1)
        for _ in range(JOINS):
            visits.append(visit(server.port, server.path(id), limit=10.0, mark=mark))
    finally:
        if producer is not None:
            producer.close()
        server.stop()
    return visits


def part_backlog(url: str, tmp: str, peer: bool) -> None:
    print(
        f"\n(3) backlog: a reader joins a stream whose log holds {BACKLOG // 1000} KB of text "
        f"(fed at once) while it goes on at {RATE:.0f} tokens/s; {JOINS} joins one after another"
    )
    rows = []
    for design in ["ours"] + (["peer"] if peer else []):
        visits = backlog(design, url, tmp)
        rows.append(
            [
                "ours: outstream serve" if design == "ours" else "peer: resumable-stream",
                ms(pct([v.first_byte for v in visits], 0.5)),
                ms(pct([v.first_token for v in visits], 0.5)),
                ms(pct([v.at_mark for v in visits], 0.5)),
                ms(max(v.at_mark for v in visits)),
            ]
        )
    print()
    print(
        fmt_table(
            ["design", "first byte ms (median)", "first text", "whole backlog", "worst"], rows
        )
    )
    print(
        "first byte: of the response (ours: headers and retry: at once; the peer answers once "
        "its producer has published the backlog to it); whole backlog: the event holding its "
        "last token"
    )


# --- (4) faults ---


@dataclass
class Reloads:
    visits: int = 0
    gaps: int = 0
    repeats: int = 0
    identical: bool = False
    refused: int = 0  # visits not answered 200


def reload_reader(design: str, server: Server, id: str, producer: Producer) -> Reloads:
    """A reader that leaves at a random moment RELOADS times and comes back where it was."""
    rng = random.Random(15)
    result = Reloads()
    text: list[str] = []
    body = b""  # (the peer: what came of the body, cut or not; its length is resumeAt)
    last: str | None = None
    last_key = (0, 0)
    for cycle in range(RELOADS + 50):
        limit = rng.uniform(0.05, 0.4) if cycle < RELOADS else 30.0
        after = last if design == "ours" else str(len(body))
        got = visit(server.port, server.path(id, after), limit=limit)
        result.visits += 1
        if got.status != 200:
            result.refused += 1
            if design == "peer" and got.status == 422:  # done: the rest cannot be had
                break
            continue
        if design == "ours":
            ended = False
            for event in got.complete_events:
                match = EVENT_ID.search(event)
                if match is None:
                    continue
                key = (int(match.group(1)), int(match.group(2)))
                if key <= last_key:
                    result.repeats += 1
                    continue
                last_key, last = key, match.group(0)[4:].decode()
                text.append(answer_text(event + b"\n"))
                ended = ended or b"event: end" in event
            if ended:
                break
        else:
            body += got.body
            if got.eof and cycle >= RELOADS:
                break
    producer.wait(30)
    sent = producer.sent()
    got_text = "".join(text) if design == "ours" else answer_text(body)
    result.identical = got_text == sent
    if not result.identical:
        seqs = [int(m.group(1)) for m in TOKEN.finditer(got_text.encode())]
        result.gaps = sum(b > a + 1 for a, b in itertools.pairwise(seqs))
        result.repeats += sum(b <= a for a, b in itertools.pairwise(seqs))
    return result


@dataclass
class Crash:
    readers_gone: int = 0  # readers told the producer is gone
    readers_ended: int = 0
    readers_same: bool = False  # every reader has the same text, a prefix of what was fed
    readers_tokens: int = 0
    late_status: int = 0
    late_tokens: int = 0
    late_gone: bool = False
    late_took: float = float("nan")
    gone_after: float = float("nan")


def crash(design: str, server: Server, url: str, tmp: str) -> Crash:
    id = f"crash-{design}"
    result = Crash()
    producer = Producer(design, url, id, tmp, count=round(RATE * 30))
    readers: ReadersProcess | None = None
    try:
        readers = ReadersProcess(server.port, server.path(id), CRASH_READERS, tmp, 1, texts=True)
        producer.go()
        time.sleep(2.0)
        producer.publisher.send_signal(signal.SIGKILL)
        t_kill = time.time()
        time.sleep(1.0)
        late = visit(server.port, server.path(id), limit=8.0)
        result.late_took = time.time() - t_kill - 1.0
        got, _ = readers.finish(t_kill + 8.0)
    finally:
        if readers is not None:
            readers.close()
        producer.close()
    sent = producer.sent()
    texts = {g.text for g in got}
    result.readers_same = len(texts) == 1 and sent.startswith(texts.pop())
    result.readers_tokens = len(TOKEN.findall(got[0].text.encode())) if got else 0
    result.readers_gone = sum(g.gone for g in got)
    result.readers_ended = sum(g.ended for g in got)
    result.late_status = late.status
    late_text = answer_text(late.body)
    result.late_tokens = len(TOKEN.findall(late_text.encode()))
    result.late_gone = b"ProducerGone" in late.body
    if got and got[0].text and late_text != got[0].text:
        result.late_tokens = -result.late_tokens  # (not the readers' text: shown as such)
    return result


def faults(design: str, url: str, tmp: str) -> tuple[Reloads, Crash]:
    server = make_server(design, url, tmp)
    try:
        id = f"reload-{design}"
        producer = Producer(design, url, id, tmp, count=round(RATE * 8))
        try:
            producer.go()
            box: list[Reloads] = []
            thread = threading.Thread(
                target=lambda: box.append(reload_reader(design, server, id, producer)),
                daemon=True,
            )
            thread.start()
            crashed = crash(design, server, url, tmp)
            thread.join(60)
        finally:
            producer.close()
    finally:
        server.stop()
    return box[0], crashed


def part_faults(url: str, tmp: str, failures: list[str], peer: bool) -> None:
    from outstream.relay import DEFAULT_LEASE

    print(
        f"\n(4) faults, at once on one server: (a) a reader that reloads {RELOADS} times at "
        f"random moments (0.05-0.4 s) of a {8:.0f} s answer and comes back where it was "
        f"(ours: ?after= its last event's id, as Last-Event-ID; the peer: ?skip= the characters "
        f"it has, resumeAt); (b) the producer killed with SIGKILL 2 s into an answer, "
        f"{CRASH_READERS} readers there, and one more that (re)loads the page 1 s after the kill"
    )
    rows_a = []
    rows_b = []
    results = {}
    for design in ["ours"] + (["peer"] if peer else []):
        reloads, crashed = faults(design, url, tmp)
        results[design] = (reloads, crashed)
        name = "ours: outstream serve" if design == "ours" else "peer: resumable-stream"
        rows_a.append(
            [
                name,
                reloads.visits,
                reloads.refused,
                reloads.gaps,
                reloads.repeats,
                "yes" if reloads.identical else "NO",
            ]
        )
        late = (
            (f"HTTP {crashed.late_status}" if crashed.late_status else "no answer")
            + f", {abs(crashed.late_tokens)} tokens"
            + (" (not the readers')" if crashed.late_tokens < 0 else "")
            + (", told: producer gone" if crashed.late_gone else "")
        )
        rows_b.append(
            [
                name,
                f"{crashed.readers_tokens}",
                "yes" if crashed.readers_same else "NO",
                f"{crashed.readers_gone}/{CRASH_READERS}",
                f"{crashed.readers_ended}/{CRASH_READERS}",
                late,
            ]
        )
    print()
    print(fmt_table(["design", "visits", "refused", "gaps", "repeats", "text identical"], rows_a))
    print()
    print(
        fmt_table(
            [
                "design",
                "readers' tokens",
                "same text, a prefix",
                "told: producer gone",
                "stream ended",
                "a reader after the crash (8 s)",
            ],
            rows_b,
        )
    )
    print(
        f"(ours: ProducerGone comes once the lease ({DEFAULT_LEASE:.0f} s) has run out; the "
        "peer keeps the answer in its producer's memory: when that process dies, a new reader "
        "waits 1 s for an answer that never comes, then fails ('Timeout waiting for ack', "
        "runtime.js 253-263; when the timer fires at exactly 1000 ms, 'Date.now() - start > "
        "1000' is false and it waits for ever: 'no answer'), and the readers there never end: the watchdog closes them only once the "
        "sentinel says DONE or expires (runtime.js 226-239; the sentinel lives 24 h, line 97))"
    )
    reloads, crashed = results["ours"]
    judge(
        "(4)",
        [
            (
                "(a) reloads: no gap, no repeat, text byte-identical",
                reloads.identical and reloads.gaps == reloads.repeats == 0,
                f"{reloads.gaps} gaps, {reloads.repeats} repeats, "
                + ("identical" if reloads.identical else "DIFFERS"),
            ),
            (
                "(b) readers there: the text so far, told the producer is gone",
                crashed.readers_same and crashed.readers_gone == CRASH_READERS,
                f"{crashed.readers_gone}/{CRASH_READERS}",
            ),
            (
                "(b) a reader after the crash: the text so far, told the producer is gone",
                crashed.late_status == 200 and crashed.late_gone and crashed.late_tokens > 0,
                f"HTTP {crashed.late_status}, {crashed.late_tokens} tokens",
            ),
        ],
        failures,
    )


def install_peer() -> bool:
    """resumable-stream (and node-redis, which it requires) in PEER_CACHE, installed by npm
    once; False, said why, if it cannot be run here."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("peer: not run: node and npm are not installed (apt-get install nodejs npm)\n")
        return False
    installed = os.path.join(PEER_CACHE, "node_modules", "resumable-stream", "package.json")
    try:
        with open(installed) as f:
            ok = json.load(f)["version"] == PEER_VERSION
    except (OSError, ValueError, KeyError):
        ok = False
    if not ok:
        os.makedirs(PEER_CACHE, exist_ok=True)
        print(f"peer: npm install resumable-stream@{PEER_VERSION} redis@4 in {PEER_CACHE}")
        done = subprocess.run(
            [
                *("npm", "install", "--prefix", PEER_CACHE, "--no-audit", "--no-fund"),
                *("--silent", f"resumable-stream@{PEER_VERSION}", "redis@4"),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(f"peer: not run: npm install failed: {done.stderr.strip()[-300:]}\n")
            return False
    version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    print(f"peer: resumable-stream {PEER_VERSION} (node-redis 4) on node {version.strip()}")
    return True


def main() -> int:
    if sys.argv[1:2] == ["--readers"]:
        port, path, n, out, every, texts = sys.argv[2:8]
        readers_process(int(port), path, int(n), out, int(every), texts == "texts")
        return 0
    redis = _relaying.prepare(__doc__, 4 * max(READERS_STEPS) + 1000)
    failures: list[str] = []
    t0 = time.perf_counter()
    peer = os.environ.get("OUTSTREAM_BENCH_NO_PEER") is None and install_peer()
    with _relaying.redis_server() as (tmp, server):
        r = redis.Redis.from_url(server.url, decode_responses=True)
        print(
            f"redis-server {r.info()['redis_version']}, {os.cpu_count()} CPUs, "
            f"Python {sys.version.split()[0]}\n"
        )
        parts = os.environ.get("OUTSTREAM_BENCH_PARTS", "1,2,3,4").split(",")
        if "1" in parts:
            part_fan_out(server.url, r, tmp, failures, peer)
        if "2" in parts:
            part_stalled(server.url, tmp, failures, peer)
        if "3" in parts:
            part_backlog(server.url, tmp, peer)
        if "4" in parts:
            part_faults(server.url, tmp, failures, peer)
        r.close()
    print(f"\n(bench took {time.perf_counter() - t0:.0f} s)")
    return report(failures)


if __name__ == "__main__":
    sys.exit(main())
