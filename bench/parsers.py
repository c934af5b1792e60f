"""Parsers of outside input under attack: time linear in the input, memory bounded.

What it measures
(1) The event-stream parser (`outstream.sources.sse.SSEParser`) fed one line
    that never ends, in 64 KiB chunks, of 1, 4 and 16 MB (the bound is 16 MiB:
    at 16 MB it is still taking it), against the parser as it was before issue
    11 (kept here as `QuadraticParser`: the whole buffer split again at every
    chunk), which is run at 1 and 4 MB only (16 MB took 4.7 s when the issue
    was filed). CPU of the feeds, in this process; ours the median of 7.
(2) The real command against the loopback server (`outstream ask`, a child
    process): a server that sends a 17 MiB line without an end, and one whose
    gzip-encoded body grows from 80 KiB to 80 MiB of blank lines. Wall time to
    exit, exit status, peak RSS of the child.

Goals (from the issue)
    (1) linear: ours at 16 MB / ours at 4 MB <= 5 (4 is linear; the old one
        grows as the square).
    (2) each refused with exit 1, peak RSS <= 128 MiB.

Run: python bench/parsers.py     (about 15 s)
"""

from __future__ import annotations

import codecs
import statistics
import subprocess
import sys
import time

from _common import (
    child_env,
    compile_package,
    fmt_table,
    outstream_exe,
    report,
    spawn_measured,
    verdict,
)

from outstream.sources.sse import SSEError, SSEParser

CHUNK = 65536
SIZES_MB = [1, 4, 16]
OLD_SIZES_MB = [1, 4]
GOAL_LINEAR = 5.0
GOAL_RSS_MIB = 128
REPS = 7  # runs of ours, the median taken (a few milliseconds each)


class QuadraticParser:
    """The event-stream parser before issue 11, as far as a line goes: the whole buffer
    joined and split again at every chunk."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._buffer = ""

    def feed(self, data: bytes) -> list[str]:
        self._buffer += self._decoder.decode(data)
        lines = self._buffer.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._buffer = lines.pop()
        return lines


def feed_line(parser: object, n_bytes: int) -> float:
    piece = b"x" * CHUNK
    feed = parser.feed  # type: ignore[attr-defined]
    t0 = time.process_time()
    feed(b"data: ")
    try:
        for _ in range(n_bytes // CHUNK):
            feed(piece)
    except SSEError:
        pass
    return time.process_time() - t0


def part1(failures: list[str]) -> None:
    print(
        f"(1) one line that never ends, fed in {CHUNK // 1024} KiB chunks: CPU of the feeds "
        f"(ours: median of {REPS})"
    )
    ours = {
        mb: statistics.median(feed_line(SSEParser(), mb * 1_000_000) for _ in range(REPS))
        for mb in SIZES_MB
    }
    old = {mb: feed_line(QuadraticParser(), mb * 1_000_000) for mb in OLD_SIZES_MB}
    rows = []
    for mb in SIZES_MB:
        rows.append(
            [
                f"{mb} MB",
                f"{ours[mb] * 1000:.1f}",
                f"{ours[mb] * 1000 / mb:.1f}",
                f"{old[mb] * 1000:.1f}" if mb in old else "(not run)",
                f"{old[mb] / ours[mb]:.0f}x" if mb in old else "",
            ]
        )
    print(fmt_table(["line", "ours ms", "ours ms/MB", "before ms", "before/ours"], rows))
    growth = ours[16] / ours[4]
    ok = growth <= GOAL_LINEAR
    print(
        f"ours at 16 MB / at 4 MB: {growth:.2f} (goal <= {GOAL_LINEAR}; 4 is linear): {verdict(ok)}\n"
    )
    if not ok:
        failures.append(f"(1) the parser is not linear: 16 MB / 4 MB = {growth:.2f}")


def part2(failures: list[str]) -> None:
    from outstream.testing.llm_server import LLMServer, Script

    print(
        "(2) `outstream ask` against a hostile loopback server: wall, exit, peak RSS of the child"
    )
    rows = []
    for fail, what in (
        ("long_line", "a 17 MiB line, never ended"),
        ("gzip_bomb", "80 KiB of gzip -> 80 MiB"),
    ):
        with LLMServer(Script(["a"], fail=fail)) as server:
            argv = [
                outstream_exe(),
                "ask",
                "--base-url",
                server.openai_base_url,
                "--model",
                "m",
                "q",
            ]
            child = spawn_measured(
                argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env()
            )
            err = child.proc.stderr.read().decode() if child.proc.stderr else ""
            measured = child.wait()
        ok = measured.returncode == 1 and measured.rss_mib <= GOAL_RSS_MIB
        rows.append(
            [
                what,
                f"{measured.wall:.2f}",
                measured.returncode,
                f"{measured.rss_mib:.0f}",
                f"exit 1, <= {GOAL_RSS_MIB} MiB",
                verdict(ok),
                err.strip()[:90],
            ]
        )
        if not ok:
            failures.append(f"(2) {what}: exit {measured.returncode}, {measured.rss_mib:.0f} MiB")
    print(fmt_table(["server sends", "wall s", "exit", "RSS MiB", "goal", "result", "said"], rows))
    print()


def main() -> int:
    compile_package()
    print(__doc__.split("\n\n")[0] + "\n")
    failures: list[str] = []
    part1(failures)
    part2(failures)
    return report(failures)


if __name__ == "__main__":
    sys.exit(main())
