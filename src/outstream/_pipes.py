"""Pipe buffers: the one tuning both ends of ``producer | outstream | consumer`` share."""

from __future__ import annotations

import os
import stat
import sys

__all__ = ["PIPE_SIZE", "grow_pipe"]

# A pipe holds 64 KiB by default (Linux), so a writer that fills it waits
# while its reader works on the last read, and the two take turns instead of
# running side by side. 1 MiB is what /proc/sys/fs/pipe-max-size allows an
# unprivileged process by default.
PIPE_SIZE = 1024 * 1024


def grow_pipe(fd: int, size: int = PIPE_SIZE) -> None:
    """Ask for a buffer of `size` bytes if `fd` is a pipe (Linux's F_SETPIPE_SZ); never fails.

    Latency does not change: a pipe's reader still gets each write at once.
    Only how far a writer may run ahead of a busy reader does.
    """
    if sys.platform != "linux":
        return
    import fcntl

    set_size = getattr(fcntl, "F_SETPIPE_SZ", 1031)
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, set_size, size)
    except OSError:
        pass  # over the system's limit, or not allowed: the default will do
