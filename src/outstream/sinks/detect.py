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
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "COLOR_SYSTEMS",
    "DEFAULT_FLUSH",
    "FLUSH_POLICIES",
    "ColorSystem",
    "FlushPolicy",
    "SinkKind",
    "TerminalInfo",
    "color_system",
    "colors_of",
    "handled_kind",
    "is_terminal",
    "sink_kind",
    "terminal_info",
    "terminal_size",
]


class SinkKind(enum.Enum):
    TTY = "tty"
    PIPE = "pipe"
    FILE = "file"
    SOCKET = "socket"
    CHARDEV = "chardev"
    JUPYTER = "jupyter"
    MEMORY = "memory"
    UNKNOWN = "unknown"
    APP = "app"  # text pulled by an app through an iterator (`iter_text`): never detected


FlushPolicy = Literal["frame", "chunk", "line", "end"]
FLUSH_POLICIES: tuple[FlushPolicy, ...] = ("frame", "chunk", "line", "end")

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
    SinkKind.APP: "frame",  # each write is handed over at once
}


def _is_jupyter(stream: Any) -> bool:
    # click's check: ipykernel's OutStream, without importing ipykernel.
    return type(stream).__module__.startswith("ipykernel.")


def is_terminal(
    stream: Any, env: Mapping[str, str] | None = None, *, force: bool | None = None
) -> bool:
    """Whether `stream` shows on a terminal (so animating it makes sense).

    In order: `force` → a Jupyter stream (yes) → ``TTY_COMPATIBLE=1`` or
    ``0`` → ``FORCE_COLOR`` set and not empty (yes, as rich does) →
    ``isatty()``, an error meaning no. ``TERM=dumb`` still counts as a
    terminal here; it only limits what is drawn. ``NO_COLOR`` changes the
    colours (`color_system`), not this answer.
    """
    if force is not None:
        return force
    if _is_jupyter(stream):
        return True
    env = os.environ if env is None else env
    compatible = env.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    if env.get("FORCE_COLOR"):
        return True
    try:
        return bool(stream.isatty())
    except Exception:
        return False


def _env_int(env: Mapping[str, str], name: str) -> int | None:
    try:
        value = int(env.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None


_JUPYTER_SIZE = (115, 100)


def terminal_size(
    stream: Any, env: Mapping[str, str] | None = None, *, fallback: tuple[int, int] = (80, 24)
) -> tuple[int, int]:
    """(columns, lines) of the terminal `stream` shows on.

    ``COLUMNS`` and ``LINES`` win when they hold positive numbers (as in
    `shutil.get_terminal_size`); then the terminal's own size (in a notebook,
    ``JUPYTER_COLUMNS``/``JUPYTER_LINES`` or 115×100, as rich does); then
    `fallback`.
    Asked again, it answers anew: after a resize (SIGWINCH) the new size.
    """
    env = os.environ if env is None else env
    columns, lines = _env_int(env, "COLUMNS"), _env_int(env, "LINES")
    if _is_jupyter(stream):
        # A kernel's fileno() is the terminal Jupyter was started from, not the
        # notebook; rich's JUPYTER_COLUMNS/LINES and their defaults stand in.
        columns = columns or _env_int(env, "JUPYTER_COLUMNS") or _JUPYTER_SIZE[0]
        lines = lines or _env_int(env, "JUPYTER_LINES") or _JUPYTER_SIZE[1]
    if columns is None or lines is None:
        try:
            size = os.get_terminal_size(stream.fileno())
            columns = columns or size.columns or None
            lines = lines or size.lines or None
        except Exception:
            pass
    return columns or fallback[0], lines or fallback[1]


ColorSystem = Literal["none", "standard", "256", "truecolor"]
COLOR_SYSTEMS: tuple[ColorSystem, ...] = ("none", "standard", "256", "truecolor")


def color_system(
    stream: Any, env: Mapping[str, str] | None = None, *, terminal: bool | None = None
) -> ColorSystem:
    """How many colours `stream` can show (see `colors_of`)."""
    env = os.environ if env is None else env
    return colors_of(
        env, terminal=is_terminal(stream, env, force=terminal), jupyter=_is_jupyter(stream)
    )


def colors_of(env: Mapping[str, str], *, terminal: bool, jupyter: bool = False) -> ColorSystem:
    """How many colours an output shows, from what it is and the environment.

    ``NO_COLOR`` set and not empty means none (no-color.org), whatever else
    says; off a terminal, none unless ``FORCE_COLOR`` is set; a notebook
    shows true colour; then ``COLORTERM=truecolor``/``24bit``, a ``TERM``
    naming ``256color``, ``TERM=dumb`` (none, unless forced), and 16
    standard colours for any other terminal.
    """
    if env.get("NO_COLOR"):
        return "none"
    forced = bool(env.get("FORCE_COLOR"))
    if not terminal and not forced:
        return "none"
    if jupyter:
        return "truecolor"
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return "truecolor"
    term = env.get("TERM", "").lower()
    if term in ("dumb", "unknown") and not forced:
        return "none"
    if "256color" in term:
        return "256"
    return "standard"


@dataclass(frozen=True, slots=True, kw_only=True)
class TerminalInfo:
    """What a stream is, as far as showing text on it goes."""

    kind: SinkKind
    is_terminal: bool
    width: int
    height: int
    color_system: ColorSystem
    term: str | None
    dumb: bool  # TERM=dumb: no cursor movement

    @property
    def handled_kind(self) -> SinkKind:
        """The kind outstream handles the stream as (see `handled_kind`)."""
        return handled_kind(self.kind, self.is_terminal)


def handled_kind(kind: SinkKind, terminal: bool) -> SinkKind:
    """The kind outstream handles a stream of `kind` as: one forced to be a terminal
    (``terminal=True``, ``FORCE_COLOR``, ``TTY_COMPATIBLE=1``) is a tty."""
    if terminal and kind not in (SinkKind.TTY, SinkKind.JUPYTER):
        return SinkKind.TTY
    return kind


def terminal_info(
    stream: Any, env: Mapping[str, str] | None = None, *, terminal: bool | None = None
) -> TerminalInfo:
    """Every answer about `stream` at once."""
    env = os.environ if env is None else env
    tty = is_terminal(stream, env, force=terminal)
    width, height = terminal_size(stream, env)
    term = None if _is_jupyter(stream) else env.get("TERM")
    return TerminalInfo(
        kind=sink_kind(stream),
        is_terminal=tty,
        width=width,
        height=height,
        color_system=color_system(stream, env, terminal=terminal),
        term=term,
        dumb=(term or "").lower() == "dumb",
    )


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
