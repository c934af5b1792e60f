"""Throughput without pacing: the library on a generator, and the CLI pipe to pipe.

What it measures
(a) 1 000 000 four-character chunks from a generator, written into a pipe
    that this script drains, by three child processes:
      ours   outstream.stream(gen, file=sys.stdout, pace=outstream.Instant())
      naive  for c in gen: print(c, end="", flush=True)
      frame  the bare frame loop: append each chunk to a list, check
             time.monotonic() per chunk, and write + flush the joined list
             once per 16 ms frame (and at the end).
    Each is run ROUNDS times, interleaved; the median is reported.
    wall = spawn -> exit (interpreter start-up and imports included);
    loop = the child's own perf_counter around the loop, printed on stderr
    (start-up and imports excluded). Goals are judged on wall time.

(b) `outstream --instant` copying 100 MB of printable ASCII (base64 lines
    with newlines) from a pipe to a pipe, against a child running
    shutil.copyfileobj(sys.stdin.buffer, sys.stdout.buffer). This script
    feeds stdin from a prepared 1 MiB buffer in a thread and drains stdout,
    checking the byte count and CRC-32 of what comes out. Throughput =
    bytes / wall (spawn -> exit); RSS = the child's ru_maxrss (os.wait4),
    taken by a small launcher process (see _common.spawn_measured: Linux
    carries a parent's peak RSS into ru_maxrss of the child it forks, so a
    child of this script would report this script's RSS).
    Then the same with 1 GB (once each), by default when the 100 MB run
    says it fits in the time budget, or always with --big (never with
    --no-big).

Goals (from the issue)
    (a) ours >= 3x faster than naive, and >= 0.5x the speed of the bare
        frame loop.
    (b) ours >= 0.5x the throughput of copyfileobj, child peak RSS <= 64 MiB;
        at 1 GB, RSS <= 64 MiB.

Run: python bench/throughput.py [--big | --no-big]
"""

from __future__ import annotations

import base64
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import zlib
from typing import Any

from _common import (
    child_env,
    compile_package,
    fmt_table,
    outstream_exe,
    report,
    spawn_measured,
    verdict,
)

N_CHUNKS = 1_000_000
ROUNDS = 3
MB = 1_000_000
MIB = 1024 * 1024
SMALL = 100 * MB
BIG = 1000 * MB
RSS_GOAL_MIB = 64
BUDGET_BIG = 60.0  # seconds the 1 GB runs may take, estimated from the 100 MB ones

GEN = r"""
import sys, time
TOKENS = ["The ", "cat ", "sat ", "on t", "he m", "at, ", "and ", "then", " it\n"]
def chunks(n=1_000_000):
    k = len(TOKENS)
    for i in range(n):
        yield TOKENS[i % k]
"""

CHILDREN = {
    "ours": GEN
    + r"""
import outstream
t0 = time.perf_counter()
outstream.stream(chunks(), file=sys.stdout, pace=outstream.Instant())
sys.stdout.flush()
print(time.perf_counter() - t0, file=sys.stderr)
""",
    "naive": GEN
    + r"""
t0 = time.perf_counter()
for c in chunks():
    print(c, end="", flush=True)
print(time.perf_counter() - t0, file=sys.stderr)
""",
    "frame": GEN
    + r"""
t0 = time.perf_counter()
out, mono, frame = sys.stdout, time.monotonic, 1 / 60
buf = []
next_t = mono() + frame
for c in chunks():
    buf.append(c)
    now = mono()
    if now >= next_t:
        out.write("".join(buf))
        out.flush()
        buf.clear()
        next_t = now + frame
out.write("".join(buf))
out.flush()
print(time.perf_counter() - t0, file=sys.stderr)
""",
}

COPY = "import shutil, sys; shutil.copyfileobj(sys.stdin.buffer, sys.stdout.buffer)"


class PipeRun:
    """A child with stdin fed from `feed` (n_bytes of `block` repeated) and stdout drained."""

    def __init__(self, argv: list[str], block: bytes | None = None, n_bytes: int = 0) -> None:
        with tempfile.TemporaryFile() as err:
            spawned = spawn_measured(
                argv,
                stdin=subprocess.PIPE if block is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                env=child_env(),
                close_fds=True,
            )
            proc = spawned.proc
            feeder = None
            if block is not None:
                assert proc.stdin is not None
                feeder = threading.Thread(
                    target=self._feed, args=(proc.stdin, block, n_bytes), daemon=True
                )
                feeder.start()
            assert proc.stdout is not None
            fd = proc.stdout.fileno()
            n_out = 0
            crc = 0
            while True:
                data = os.read(fd, MIB)
                if not data:
                    break
                n_out += len(data)
                crc = zlib.crc32(data, crc)
            if feeder is not None:
                feeder.join()
            measured = spawned.wait()
            proc.stdout.close()
            err.seek(0)
            self.stderr = err.read().decode(errors="replace")
        self.wall = measured.wall
        self.returncode = measured.returncode
        self.n_out = n_out
        self.crc = crc
        self.rss_mib = measured.rss_mib
        self.cpu = measured.cpu

    @staticmethod
    def _feed(stdin: Any, block: bytes, n_bytes: int) -> None:
        fd = stdin.fileno()
        view = memoryview(block)
        left = n_bytes
        try:
            while left > 0:
                chunk = view[: min(left, len(view))]
                while chunk:
                    n = os.write(fd, chunk)
                    chunk = chunk[n:]
                left -= min(left, len(view))
        except BrokenPipeError:
            pass
        finally:
            stdin.close()

    def loop_seconds(self) -> float | None:
        try:
            return float(self.stderr.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return None


def printable_block() -> bytes:
    """1 MiB of base64 lines (76 characters and a newline): printable ASCII."""
    rng = random.Random(1)
    raw = rng.randbytes(MIB)
    return base64.encodebytes(raw)[:MIB]


def expected_crc(block: bytes, n_bytes: int) -> int:
    crc = 0
    left = n_bytes
    while left > 0:
        piece = block[: min(left, len(block))]
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    return crc


def part_a(failures: list[str]) -> None:
    print(
        f"(a) {N_CHUNKS:,} four-character chunks from a generator into a pipe, "
        f"median of {ROUNDS} interleaved rounds"
    )
    runs: dict[str, list[PipeRun]] = {name: [] for name in CHILDREN}
    for _ in range(ROUNDS):
        for name, code in CHILDREN.items():
            run = PipeRun([sys.executable, "-c", code])
            if run.returncode != 0 or run.n_out != 4 * N_CHUNKS:
                failures.append(
                    f"(a) {name}: exit {run.returncode}, {run.n_out:,} bytes out "
                    f"(want {4 * N_CHUNKS:,}): {run.stderr.strip()[-300:]}"
                )
            runs[name].append(run)
    wall = {n: statistics.median(r.wall for r in rs) for n, rs in runs.items()}
    loop = {
        n: statistics.median(r.loop_seconds() or float("nan") for r in rs) for n, rs in runs.items()
    }
    rss = {n: max(r.rss_mib for r in rs) for n, rs in runs.items()}
    ok_naive = wall["naive"] / wall["ours"] >= 3
    ok_frame = wall["frame"] / wall["ours"] >= 0.5
    rows = [
        [
            "ours",
            f"{wall['ours']:.3f}",
            f"{loop['ours']:.3f}",
            "1.00x",
            "",
            "",
            f"{rss['ours']:.1f}",
            "",
        ],
        [
            "naive print(flush=True)",
            f"{wall['naive']:.3f}",
            f"{loop['naive']:.3f}",
            f"{wall['naive'] / wall['ours']:.2f}x",
            f"{loop['naive'] / loop['ours']:.2f}x",
            ">= 3x",
            f"{rss['naive']:.1f}",
            verdict(ok_naive),
        ],
        [
            "bare frame loop",
            f"{wall['frame']:.3f}",
            f"{loop['frame']:.3f}",
            f"{wall['frame'] / wall['ours']:.2f}x",
            f"{loop['frame'] / loop['ours']:.2f}x",
            ">= 0.5x",
            f"{rss['frame']:.1f}",
            verdict(ok_frame),
        ],
    ]
    print(
        fmt_table(
            [
                "who",
                "wall s",
                "loop s",
                "ours speed (wall)",
                "ours speed (loop)",
                "goal",
                "RSS MiB",
                "result",
            ],
            rows,
        )
    )
    print("ours speed = peer's time / our time (higher is better for us); goal judged on wall.\n")
    if not ok_naive:
        failures.append(
            f"(a) ours is {wall['naive'] / wall['ours']:.2f}x faster than naive (goal >= 3x)"
        )
    if not ok_frame:
        failures.append(
            f"(a) ours runs at {wall['frame'] / wall['ours']:.2f}x the bare frame loop's speed "
            "(goal >= 0.5x)"
        )


def pipe_rows(
    label: str, n_bytes: int, block: bytes, rounds: int, failures: list[str], rss_only: bool
) -> tuple[list[list[object]], float]:
    exe = outstream_exe()
    want_crc = expected_crc(block, n_bytes)
    ours_runs: list[PipeRun] = []
    copy_runs: list[PipeRun] = []
    for _ in range(rounds):
        ours_runs.append(PipeRun([exe, "--instant"], block, n_bytes))
        copy_runs.append(PipeRun([sys.executable, "-c", COPY], block, n_bytes))
    for name, rs in (("ours", ours_runs), ("copyfileobj", copy_runs)):
        for r in rs:
            if r.returncode != 0 or r.n_out != n_bytes or r.crc != want_crc:
                failures.append(
                    f"(b) {label} {name}: exit {r.returncode}, {r.n_out:,} of {n_bytes:,} bytes, "
                    f"crc {'ok' if r.crc == want_crc else 'WRONG'}: {r.stderr.strip()[-300:]}"
                )
    ours_wall = statistics.median(r.wall for r in ours_runs)
    copy_wall = statistics.median(r.wall for r in copy_runs)
    ours_rss = max(r.rss_mib for r in ours_runs)
    copy_rss = max(r.rss_mib for r in copy_runs)
    ratio = copy_wall / ours_wall
    ok_speed = None if rss_only else ratio >= 0.5
    ok_rss = ours_rss <= RSS_GOAL_MIB
    if ok_speed is False:
        failures.append(
            f"(b) {label}: ours at {n_bytes / ours_wall / MB:.0f} MB/s is {ratio:.2f}x "
            f"copyfileobj's {n_bytes / copy_wall / MB:.0f} MB/s (goal >= 0.5x)"
        )
    if not ok_rss:
        failures.append(
            f"(b) {label}: ours peak RSS {ours_rss:.1f} MiB (goal <= {RSS_GOAL_MIB} MiB)"
        )
    rows: list[list[object]] = [
        [
            label,
            "ours --instant",
            f"{ours_wall:.3f}",
            f"{n_bytes / ours_wall / MB:.0f}",
            f"{ratio:.2f}x",
            "(info)" if rss_only else ">= 0.5x",
            f"{ours_rss:.1f}",
            f"<= {RSS_GOAL_MIB}",
            f"{statistics.median(r.cpu for r in ours_runs):.2f}",
            verdict(ok_rss if ok_speed is None else (ok_speed and ok_rss)),
        ],
        [
            "",
            "copyfileobj",
            f"{copy_wall:.3f}",
            f"{n_bytes / copy_wall / MB:.0f}",
            "",
            "",
            f"{copy_rss:.1f}",
            "",
            f"{statistics.median(r.cpu for r in copy_runs):.2f}",
            "",
        ],
    ]
    return rows, ours_wall + copy_wall


def part_b(failures: list[str], big: bool | None) -> None:
    print(
        "(b) pipe -> child -> pipe, printable ASCII with newlines; "
        "throughput = bytes / wall (spawn -> exit)"
    )
    block = printable_block()
    rows, seconds = pipe_rows("100 MB", SMALL, block, ROUNDS, failures, rss_only=False)
    per_round = seconds  # ours + copy, one round of 100 MB (medians)
    estimate = per_round * BIG / SMALL
    note = ""
    if big is None:
        big = estimate <= BUDGET_BIG
        if not big:
            note = (
                f"1 GB skipped: estimated {estimate:.0f} s from the 100 MB runs, over the "
                f"{BUDGET_BIG:.0f} s budget; run with --big to include it."
            )
    if big:
        more, _ = pipe_rows("1 GB", BIG, block, 1, failures, rss_only=True)
        rows += more
    print(
        fmt_table(
            [
                "size",
                "who",
                "wall s",
                "MB/s",
                "ours/copy",
                "goal",
                "RSS MiB",
                "goal",
                "CPU s",
                "result",
            ],
            rows,
        )
    )
    if note:
        print(note)
    print(
        f"100 MB: median of {ROUNDS} interleaved rounds; 1 GB: one run each "
        "(speed shown for information; only RSS is a goal there).\n"
    )


def main() -> int:
    compile_package()
    big: bool | None = None
    if "--big" in sys.argv[1:]:
        big = True
    if "--no-big" in sys.argv[1:]:
        big = False
    print(__doc__.split("\n\n")[0])
    print(f"outstream: {outstream_exe()}   python: {sys.executable}\n")
    failures: list[str] = []
    part_a(failures)
    part_b(failures, big)
    return report(failures)


if __name__ == "__main__":
    sys.exit(main())
