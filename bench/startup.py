"""Start-up time: `outstream --version` / `--help` / `python -m outstream --version` vs `python -c pass`.

What it measures
    Wall time from spawn to exit (os.posix_spawn + os.wait4, stdout and
    stderr to /dev/null) of:
      python -c pass                    the floor: the interpreter alone
      outstream --version               the console script of this interpreter
      outstream --help
      python -m outstream --version
      python -c "import outstream"      the library import (for information)
    and, when the first `outstream` on PATH is another file (a version
    manager's shim), that one too, for information.
    ROUNDS rounds after one warm-up round; in each round every command runs
    once, in order, so that noise on this shared machine hits all of them
    alike. Children run without PYTHONUNBUFFERED.

How
    For each command: best and median wall time, the child's CPU time
    (user + sys from os.wait4, less sensitive to other load), and the
    difference from `python -c pass`: the median of the per-round
    differences (paired within a round), and best minus best.

Goal (from the issue)
    each outstream command <= 60 ms over `python -c pass`, judged on the
    median paired difference.

Run: python bench/startup.py     (about 10 s)
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time

from _common import child_env, compile_package, fmt_table, outstream_exe, report, verdict

ROUNDS = 20
GOAL_MS = 60.0


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit code) of one run."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    _, status, rusage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    return wall, rusage.ru_utime + rusage.ru_stime, os.waitstatus_to_exitcode(status)


def main() -> int:
    compile_package()
    exe = outstream_exe()
    py = sys.executable
    commands: list[tuple[str, list[str], bool]] = [
        ("python -c pass", [py, "-c", "pass"], False),
        ("outstream --version", [exe, "--version"], True),
        ("outstream --help", [exe, "--help"], True),
        ("python -m outstream --version", [py, "-m", "outstream", "--version"], True),
        ('python -c "import outstream"', [py, "-c", "import outstream"], False),
    ]
    on_path = shutil.which("outstream")
    if on_path and os.path.realpath(on_path) != os.path.realpath(exe):
        commands.append((f"{on_path} --version (PATH)", [on_path, "--version"], False))
    env = child_env()
    print(__doc__.split("\n\n")[0])
    print(f"outstream: {exe}   python: {py}   {ROUNDS} rounds, interleaved\n")

    walls: dict[str, list[float]] = {name: [] for name, _, _ in commands}
    cpus: dict[str, list[float]] = {name: [] for name, _, _ in commands}
    failures: list[str] = []
    for round_no in range(ROUNDS + 1):
        for name, argv, _ in commands:
            wall, cpu, code = run_once(argv, env)
            if code != 0:
                failures.append(f"{name}: exit {code}")
            if round_no > 0:  # round 0 warms the page cache
                walls[name].append(wall)
                cpus[name].append(cpu)

    base = "python -c pass"
    rows: list[list[object]] = []
    for name, _, judged in commands:
        w = walls[name]
        diffs = [a - b for a, b in zip(w, walls[base], strict=True)]
        med_diff = statistics.median(diffs) * 1000
        best_diff = (min(w) - min(walls[base])) * 1000
        cpu_diff = (statistics.median(cpus[name]) - statistics.median(cpus[base])) * 1000
        ok = med_diff <= GOAL_MS if judged else None
        if ok is False:
            failures.append(
                f"{name}: {med_diff:.1f} ms over python -c pass (goal <= {GOAL_MS:.0f} ms)"
            )
        rows.append(
            [
                name,
                f"{min(w) * 1000:.1f}",
                f"{statistics.median(w) * 1000:.1f}",
                f"{statistics.median(cpus[name]) * 1000:.1f}",
                "" if name == base else f"{med_diff:+.1f}",
                "" if name == base else f"{best_diff:+.1f}",
                "" if name == base else f"{cpu_diff:+.1f}",
                f"<= {GOAL_MS:.0f}" if judged else "",
                verdict(ok) if judged else "",
            ]
        )
    print(
        fmt_table(
            [
                "command",
                "best ms",
                "median ms",
                "CPU ms",
                "+median ms",
                "+best ms",
                "+CPU ms",
                "goal",
                "result",
            ],
            rows,
        )
    )
    print(
        "\n+median: median over rounds of (command - python -c pass) in the same round; "
        "+best: best - best; +CPU: median CPU - median CPU."
    )
    return report(failures)


if __name__ == "__main__":
    sys.exit(main())
