"""Smooth pacing of bursty sources where users see it: the CLI and the library on a real pty.

What it measures
    Each source is played three ways, with the defaults a user gets on a
    terminal (smooth pacing, lag 0.5 s, 60 frames/s, soft wrap):
      cli      `outstream` on a 120x40 pty, its stdin a pipe that this
               script writes on the real clock (what `llm ... | outstream`
               does)
      library  a child Python process on a 120x40 pty running
               `outstream.stream(gen())`, where `gen` sleeps on the real
               clock and yields each chunk (what an app with an SDK does)
      virtual  in-process, `outstream.stream(...)` of a generator pausing on
               `outstream.testing.VirtualClock` into a terminal-like
               `MemorySink`: the same inbox, thread and loop, in no real time
    The peer, simulated exactly on the same timelines: the JS AI SDK's
    `smoothStream({delayInMs: 10, chunking: "word"})` (a word, then a 10 ms
    await, one chunk at a time; timers taken as exact, which favours it).

Sources (tokens are five characters, a word and its space)
      A  50 tokens every 500 ms        B  150 tokens every 500 ms
      C  one token every 20 ms         D  300 tokens a second, steady
    each sent as one chunk per burst ("burst": a proxy, stdin) and as one
    chunk per token ("token": an SDK). For C and D a "burst" is a 500 ms
    slice of arrivals.

Figures (the same code for every path)
    lag   per visible character: when it reached the screen (the pty read,
          or the sink write) minus when the source gave it; p99, and the p99
          of the first three bursts against the last three
    CV    evenness: the coefficient of variation of the characters shown in
          each 100 ms window, from 0.5 s after the first to 0.5 s before the
          last
    end   the source's last chunk -> its last character on screen
    burst% the most characters any 100 ms window showed, as a share of a
          burst (a whole burst in one frame is 100%)

Goals (issue 10), for every path of ours
    CV <= 0.25 on A and B; lag p99 <= lag + one frame (517 ms); last-3 p99
    <= first-3 p99 + one frame; end <= lag (500 ms).

Run: python bench/smooth.py     (about a minute; the real runs are real time)
"""

from __future__ import annotations

import bisect
import json
import math
import os
import re
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from _common import child_env, compile_package, fmt_table, outstream_exe, report, verdict

import outstream
from outstream.testing import MemorySink, VirtualClock

LAG = 0.5
FRAME = 1 / 60
GOAL_P99 = LAG + FRAME
GOAL_CV = 0.25
WINDOW = 0.1
TRIM = 0.5
PEER_DELAY = 0.010
ROWS, COLS = 40, 120
LEAD_IN = 0.4  # real runs: the child starts before the first chunk comes
WORD = re.compile(r"\S+\s+")
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def token(i: int) -> str:
    # Four letters and a space, varied so that the text is not one repeated word.
    return "".join(LETTERS[(i // 26**k + i * 7) % 26] for k in range(4)) + " "


@dataclass
class Source:
    name: str
    script: list[tuple[float, str]]  # (t, chunk), t from the first chunk
    burst_of: list[int]  # burst index of each chunk
    evenness_goal: bool
    per_burst: int  # tokens in a burst (for burst%)


def bursty(name: str, per_burst: int, n_bursts: int, one_chunk: bool) -> Source:
    script: list[tuple[float, str]] = []
    burst_of: list[int] = []
    i = 0
    for b in range(n_bursts):
        words = [token(i + k) for k in range(per_burst)]
        i += per_burst
        chunks = ["".join(words)] if one_chunk else words
        script += [(b * 0.5, chunk) for chunk in chunks]
        burst_of += [b] * len(chunks)
    return Source(name, script, burst_of, True, per_burst)


def steady(name: str, interval: float, seconds: float, one_chunk: bool) -> Source:
    n = round(seconds / interval)
    script = [(i * interval, token(i)) for i in range(n)]
    if one_chunk:
        # "One chunk per burst" for a steady source: what arrived in each
        # 100 ms, as a proxy that batches would hand it on.
        merged: dict[int, str] = {}
        for t, chunk in script:
            merged[int(t / 0.1 + 1e-9)] = merged.get(int(t / 0.1 + 1e-9), "") + chunk
        script = [(k * 0.1, chunk) for k, chunk in sorted(merged.items())]
    return Source(
        name,
        script,
        [int(t / 0.5 + 1e-9) for t, _ in script],
        False,
        round(0.5 / interval),
    )


def sources() -> list[Source]:
    out = []
    for one_chunk in (True, False):
        how = "burst" if one_chunk else "token"
        out += [
            bursty(f"A {how}", 50, 10, one_chunk),
            bursty(f"B {how}", 150, 10, one_chunk),
            steady(f"C {how}", 0.020, 4.0, one_chunk),
            steady(f"D {how}", 1 / 300, 4.0, one_chunk),
        ]
    return out


# --- what was shown, and when: [(t, n visible characters)], t from the first chunk ---

Shown = list[tuple[float, int]]
_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\s")


def visible(text: str) -> int:
    return len(_ESCAPE.sub("", text))


def run_virtual(source: Source) -> Shown:
    clock = VirtualClock()

    def gen():  # type: ignore[no-untyped-def]
        t0 = clock.now()
        for t, chunk in source.script:
            clock.sleep_until(t0 + t)
            yield chunk

    sink = MemorySink(clock, terminal=True)
    outstream.stream(gen(), sink, clock=clock, env={"COLUMNS": str(COLS), "LINES": str(ROWS)})
    return [(t, visible(text)) for t, text in sink.writes]


def _pty_run(argv: list[str], feed: Callable[[int, float], None] | None) -> tuple[float, Shown]:
    """Run `argv` on a ROWS x COLS pty; `feed(stdin_fd, t0)` writes its stdin on schedule.

    Returns the monotonic time of the first chunk and what appeared when.
    """
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if feed is not None else subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=child_env(TERM="xterm-256color"),
    )
    os.close(slave)
    t0 = time.monotonic() + LEAD_IN
    feeder = None
    if feed is not None:
        assert proc.stdin is not None
        fd = proc.stdin.fileno()
        feeder = threading.Thread(target=feed, args=(fd, t0))
        feeder.start()
    reads: list[tuple[float, bytes]] = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the pty
                break
            if not data:
                break
            reads.append((time.monotonic(), data))
        elif proc.poll() is not None:
            break
    proc.wait()
    os.close(master)
    if feeder is not None:
        feeder.join()
    decoder = __import__("codecs").getincrementaldecoder("utf-8")("replace")
    return t0, [(t, visible(decoder.decode(data))) for t, data in reads]


def run_cli(source: Source) -> Shown:
    def feed(fd: int, t0: float) -> None:
        for t, chunk in source.script:
            delay = t0 + t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            os.write(fd, chunk.encode())
        os.close(fd)

    t0, shown = _pty_run([outstream_exe()], feed)
    return [(t - t0, n) for t, n in shown if n]


_LIBRARY_CHILD = r"""
import json, sys, time
import outstream
script = json.load(open(sys.argv[1]))
t0 = float(sys.argv[2])
def gen():
    for t, chunk in script:
        delay = t0 + t - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield chunk
outstream.stream(gen())
"""


def run_library(source: Source) -> Shown:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(source.script, f)
    try:
        # The child schedules its chunks from a monotonic time given here
        # (CLOCK_MONOTONIC is the machine's, shared by both processes).
        t0_box: list[float] = []

        def argv_with_t0() -> list[str]:
            t0_box.append(time.monotonic() + LEAD_IN)
            return [sys.executable, "-c", _LIBRARY_CHILD, f.name, repr(t0_box[0])]

        _, shown = _pty_run(argv_with_t0(), None)
    finally:
        os.unlink(f.name)
    return [(t - t0_box[0], n) for t, n in shown if n]


def run_peer(source: Source) -> Shown:
    """smoothStream({delayInMs: 10, chunking: "word"}), event by event."""
    writes: Shown = []
    buffer = ""
    busy_until = 0.0  # when the transform of the previous chunk returns
    for t, chunk in source.script:
        now = max(t, busy_until)
        buffer += chunk
        while (m := WORD.search(buffer)) is not None:
            writes.append((now, visible(buffer[: m.end()])))
            buffer = buffer[m.end() :]
            now += PEER_DELAY  # await delay(delayInMs)
        busy_until = now
    if buffer:
        writes.append((max(source.script[-1][0], busy_until), visible(buffer)))
    return writes


# --- figures ---


def nearest_rank(sorted_values: list[float], q: float) -> float:
    return sorted_values[max(math.ceil(q * len(sorted_values)) - 1, 0)]


@dataclass
class Figures:
    p99: float
    p99_first3: float
    p99_last3: float
    cv: float
    end: float
    burst_share: float
    complete: bool


def measure(source: Source, shown: Shown) -> Figures:
    arrival: list[float] = []  # visible character index -> arrival time
    burst: list[int] = []
    for (t, chunk), b in zip(source.script, source.burst_of, strict=True):
        n = visible(chunk)
        arrival += [t] * n
        burst += [b] * n
    ends: list[int] = []  # cumulative visible characters after each write
    n = 0
    for _, k in shown:
        n += k
        ends.append(n)
    total = min(n, len(arrival))
    by_burst: dict[int, list[float]] = {}
    lags: list[float] = []
    for i in range(total):
        lag = shown[bisect.bisect_right(ends, i)][0] - arrival[i]
        lags.append(lag)
        by_burst.setdefault(burst[i], []).append(lag)
    bursts = sorted(by_burst)
    first3 = sorted(x for b in bursts[:3] for x in by_burst[b])
    last3 = sorted(x for b in bursts[-3:] for x in by_burst[b])
    t_lo, t_hi = shown[0][0] + TRIM, shown[-1][0] - TRIM
    n_windows = max(int((t_hi - t_lo) / WINDOW + 1e-9), 0)
    counts = [0] * n_windows
    all_counts: dict[int, int] = {}
    for t, k in shown:
        w = math.floor((t - t_lo) / WINDOW + 1e-9)
        if 0 <= w < n_windows:
            counts[w] += k
        all_counts[math.floor(t / WINDOW)] = all_counts.get(math.floor(t / WINDOW), 0) + k
    mean = statistics.fmean(counts) if counts else 0.0
    return Figures(
        p99=nearest_rank(sorted(lags), 0.99),
        p99_first3=nearest_rank(first3, 0.99),
        p99_last3=nearest_rank(last3, 0.99),
        cv=statistics.pstdev(counts) / mean if mean > 0 else float("nan"),
        end=shown[-1][0] - source.script[-1][0],
        burst_share=max(all_counts.values()) / (source.per_burst * 4),
        complete=n == len(arrival),
    )


def ms(x: float) -> str:
    return f"{x * 1000:.0f}"


def main() -> int:
    print(__doc__.split("\n\n")[0])
    print(
        f"lag {LAG} s, frame 1/60 s; goals for ours: CV <= {GOAL_CV} (A, B), lag p99 <= "
        f"{GOAL_P99 * 1000:.0f} ms, last-3 <= first-3 + 17 ms, end <= {LAG * 1000:.0f} ms. "
        "Times in ms.\n"
    )
    compile_package()
    t_real = time.perf_counter()
    all_sources = sources()
    # Two real runs at a time: the machine has two cores, and each run is
    # mostly waiting for its source.
    with ThreadPoolExecutor(max_workers=2) as pool:
        cli_runs = [pool.submit(run_cli, s) for s in all_sources]
        library_runs = [pool.submit(run_library, s) for s in all_sources]
        real = [(c.result(), lib.result()) for c, lib in zip(cli_runs, library_runs, strict=True)]
    rows: list[list[object]] = []
    failures: list[str] = []
    for source, (cli, library) in zip(all_sources, real, strict=True):
        paths = [
            ("cli", cli),
            ("library", library),
            ("virtual", run_virtual(source)),
            ("smoothStream", run_peer(source)),
        ]
        for who, shown in paths:
            f = measure(source, shown)
            ours = who != "smoothStream"
            checks: list[tuple[bool, str]] = []
            if ours:
                checks = [
                    (f.complete, "did not show every character"),
                    (f.p99 <= GOAL_P99 + 1e-9, f"lag p99 {ms(f.p99)} ms > {ms(GOAL_P99)} ms"),
                    (
                        f.p99_last3 <= f.p99_first3 + FRAME + 1e-9,
                        f"lag grew from {ms(f.p99_first3)} to {ms(f.p99_last3)} ms",
                    ),
                    (f.end <= LAG + 1e-9, f"end {ms(f.end)} ms > {ms(LAG)} ms"),
                ]
                if source.evenness_goal:
                    checks.append((f.cv <= GOAL_CV, f"CV {f.cv:.2f} > {GOAL_CV}"))
            failures += [f"{source.name} {who}: {why}" for ok, why in checks if not ok]
            rows.append(
                [
                    source.name if who == "cli" else "",
                    who,
                    f"{f.cv:.2f}",
                    f"{f.burst_share * 100:.0f}%",
                    ms(f.p99),
                    f"{ms(f.p99_first3)} -> {ms(f.p99_last3)}",
                    ms(f.end),
                    verdict(all(ok for ok, _ in checks)) if ours else "",
                ]
            )
    print(
        fmt_table(
            ["source", "who", "CV", "burst%", "lag p99", "p99 first3 -> last3", "end", "result"],
            rows,
        )
    )
    print(f"\n(ran in {time.perf_counter() - t_real:.0f} s)")
    return report(failures)


if __name__ == "__main__":
    sys.exit(main())
