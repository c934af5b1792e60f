"""What is this stream? One function per question; every answer can be forced.

Detection is per stream, never global (rich's lesson): stdout may be a pipe
while stderr is the terminal. Errors mean "no": a stream whose `isatty` or
`fileno` raises (closed, replaced by pytest's capture, `None` under pythonw)
is treated as an unknown, non-terminal stream.
"""

from __future__ import annotations

import enum
import os
import stat
from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["DEFAULT_FLUSH", "FlushPolicy", "SinkKind", "is_terminal", "sink_kind"]


class SinkKind(enum.Enum):
    TTY = "tty"
    PIPE = "pipe"
    FILE = "file"
    SOCKET = "socket"
    CHARDEV = "chardev"
    JUPYTER = "jupyter"
    MEMORY = "memory"
    UNKNOWN = "unknown"


FlushPolicy = Literal["frame", "chunk", "line", "end"]

# When each kind of sink is flushed: "frame" and "chunk" after every write
# (on a terminal writes happen once per frame), "line" after a write holding
# a newline, "end" only when the stream ends.
DEFAULT_FLUSH: Mapping[SinkKind, FlushPolicy] = {
    SinkKind.TTY: "frame",
    SinkKind.PIPE: "chunk",
    SinkKind.SOCKET: "chunk",
    SinkKind.FILE: "end",
    SinkKind.CHARDEV: "chunk",
    SinkKind.JUPYTER: "frame",
    SinkKind.MEMORY: "chunk",
    SinkKind.UNKNOWN: "chunk",
}


def _is_jupyter(stream: Any) -> bool:
    # click's check: ipykernel's OutStream, without importing ipykernel.
    return type(stream).__module__.startswith("ipykernel.")


def is_terminal(
    stream: Any, env: Mapping[str, str] | None = None, *, force: bool | None = None
) -> bool:
    """Whether `stream` shows on a terminal (so animating it makes sense).

    In order: `force` → a Jupyter stream (yes) → ``TTY_COMPATIBLE=1`` or
    ``0`` → ``isatty()``, an error meaning no. ``TERM=dumb`` still counts
    as a terminal here; it only limits what is drawn.
    """
    if force is not None:
        return force
    if _is_jupyter(stream):
        return True
    env = os.environ if env is None else env
    compatible = env.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    try:
        return bool(stream.isatty())
    except Exception:
        return False


def sink_kind(stream: Any) -> SinkKind:
    """What `stream` writes into, from ``os.fstat`` of its descriptor."""
    if _is_jupyter(stream):
        return SinkKind.JUPYTER
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except Exception:
        import io

        if isinstance(stream, io.StringIO | io.BytesIO):
            return SinkKind.MEMORY
        return SinkKind.UNKNOWN
    if stat.S_ISFIFO(mode):
        return SinkKind.PIPE
    if stat.S_ISREG(mode):
        return SinkKind.FILE
    if stat.S_ISSOCK(mode):
        return SinkKind.SOCKET
    if stat.S_ISCHR(mode):
        try:
            return SinkKind.TTY if os.isatty(fd) else SinkKind.CHARDEV
        except OSError:
            return SinkKind.CHARDEV
    return SinkKind.UNKNOWN
