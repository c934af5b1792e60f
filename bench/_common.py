"""Helpers shared by the benchmarks in this folder (not a benchmark itself).

Every benchmark runs our code and the peer it must beat side by side, in the
same run, on the same (shared, noisy) machine, and prints ratios. Children run
with ``PYTHONUNBUFFERED`` removed from their environment: a developer's shell
may export it, a user's does not, and it changes how Python buffers stdout.
``PYTHONDONTWRITEBYTECODE`` goes too, and the package is byte-compiled once
before anything is timed: a user's installed package has its ``.pyc`` files,
and without them every start-up would compile the sources again.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Measured",
    "child_env",
    "compile_package",
    "drain_pty",
    "fmt_table",
    "outstream_exe",
    "report",
    "sized_pty",
    "spawn_measured",
    "verdict",
]


def sized_pty(rows: int, cols: int) -> tuple[int, int]:
    """A new pty (master, slave) whose terminal is `cols` x `rows`."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return master, slave


def drain_pty(master: int, *, until_eof: bool = True, limit: float = 120.0) -> int:
    """Read what a pty's master holds, and with `until_eof` until the child closed it (EIO);
    the bytes read. The master stays open."""
    n = 0
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not select.select([master], [], [], 0.2 if until_eof else 0)[0]:
            if until_eof:
                continue
            break
        try:
            data = os.read(master, 1 << 16)
        except OSError:  # EIO: the child closed the pty
            break
        if not data:
            break
        n += len(data)
    return n


_NUMERIC = re.compile(r"^[-+<>≤~]?[0-9.]")


_NOT_A_USERS = ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child: ours, without what users do not set, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_A_USERS}
    env.update(extra)
    return env


def compile_package() -> None:
    """Byte-compile the outstream package, as an installed package is."""
    import compileall

    import outstream

    compileall.compile_dir(os.path.dirname(outstream.__file__), quiet=1)


def outstream_exe() -> str:
    """The `outstream` console script that belongs to this interpreter.

    ``shutil.which`` is asked first in the interpreter's own bin directory: a
    version manager's shim found earlier on PATH (pyenv's is a bash script
    that runs ``pyenv exec``) would add its own start-up time to every run.
    """
    here = os.path.dirname(sys.executable)
    exe = shutil.which("outstream", path=here) or shutil.which("outstream")
    if exe is None:
        sys.exit("bench: the outstream console script is not installed (pip install -e .)")
    return exe


def report(failures: list[str]) -> int:
    """Print the closing verdict; the exit code: 1 if any goal failed."""
    if failures:
        print("\nFAIL:")
        for failure in failures:
            print("  " + failure)
        return 1
    print("\nPASS: every goal met")
    return 0


def verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "FAIL")


def fmt_table(headers: list[str], rows: list[list[object]]) -> str:
    """A plain fixed-width table; numbers right-aligned, text left-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str], header: bool) -> str:
        out = []
        for i, cell in enumerate(row):
            numeric = not header and _NUMERIC.match(cell) is not None
            out.append(cell.rjust(widths[i]) if numeric else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()

    text = [line(cells[0], True), "  ".join("-" * w for w in widths)]
    text += [line(row, False) for row in cells[1:]]
    return "\n".join(text)


# --- children whose peak RSS is their own ---
#
# Linux keeps a process's peak RSS (ru_maxrss) across exec, and a child
# created by fork or vfork starts from its parent's: a child of this script
# would report at least this script's RSS. So children are started by a
# small launcher (python -I -S, a few MiB), which forks the real child, waits
# for it with os.wait4 and reports its wall time (fork -> exit), peak RSS and
# CPU on a pipe. The launcher's own start-up is not in the wall time.

_LAUNCHER = r"""
import os, sys, time
fd = int(sys.argv[1])
argv = sys.argv[2:]
os.set_inheritable(fd, False)
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
code = os.waitstatus_to_exitcode(status)
os.write(fd, f"{wall!r} {ru.ru_maxrss} {ru.ru_utime!r} {ru.ru_stime!r} {code}".encode())
"""


@dataclass(frozen=True, slots=True)
class Measured:
    """What the launcher saw of its child."""

    wall: float  # seconds, fork -> exit
    rss_mib: float  # peak RSS of the child alone
    cpu: float  # user + system seconds
    returncode: int


class spawn_measured:
    """`subprocess.Popen(argv, **kwargs)` through the launcher; `.wait()` gives a `Measured`."""

    def __init__(self, argv: list[str], **kwargs: Any) -> None:
        self._r, w = os.pipe()
        launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(w), *argv]
        self.proc = subprocess.Popen(launcher, pass_fds=(w,), **kwargs)
        os.close(w)

    def wait(self) -> Measured:
        self.proc.wait()
        with os.fdopen(self._r, "rb") as f:
            report = f.read().decode()
        if not report:
            raise RuntimeError(f"the launcher failed (exit {self.proc.returncode})")
        wall, rss_kib, utime, stime, code = report.split()
        return Measured(
            wall=float(wall),
            rss_mib=int(rss_kib) / 1024,
            cpu=float(utime) + float(stime),
            returncode=int(code),
        )
