"""Inspecting a stream (`inspect`) or a path (`inspect_path`): the facts gathered,
then explained."""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..errors import SinkError
from ..sinks.detect import (
    SinkKind,
    TerminalInfo,
    terminal_info,
)
from .explain import _Buffering, _explain, _forcing_variable, _situations, _would
from .layers import _attr, _chain, _details, _fileno, _open_buffer_size, _target, _type_name
from .values import _TEXT_CHUNK_SIZE, Inspection, Layer, Situation

# --- inspecting a stream ---


def inspect(
    stream: Any = None, *, env: Mapping[str, str] | None = None, name: str | None = None
) -> Inspection:
    """Describe `stream` as this process sees it, and what outstream would do writing to it.

    It only looks: nothing is written, flushed or changed. A weird stream (closed,
    None, detached, an object with only ``write``) is reported as far as it can be.

    Args:
        stream: a file object; None means ``sys.stdout`` (which may itself be None).
        env: the environment to detect with; `os.environ` by default.
        name: what to call it; by default ``"stdout"``/``"stderr"`` for those,
            else its ``name`` attribute, else its type's name.

    Returns:
        An `Inspection`; ``.format()`` is the text ``outstream inspect`` prints.
    """
    if stream is None:
        return _inspect(sys.stdout, "stdout", env, name)
    std = next((s for s in ("stdout", "stderr") if stream is _attr(sys, s)), None)
    if std is None:
        std = next((s for s in ("stdout", "stderr") if stream is _attr(sys, f"__{s}__")), None)
    return _inspect(stream, std, env, name)


def _inspect(
    stream: Any, std: str | None, env: Mapping[str, str] | None, name: str | None
) -> Inspection:
    env = os.environ if env is None else env
    label = name or std or _stream_name(stream)
    terminal = terminal_info(stream, env)
    if stream is None:
        return Inspection(
            name=label,
            fd=None,
            target=None,
            kind=terminal.kind,
            terminal=terminal,
            layers=(),
            would=None,
            problem=f"cannot write to {label}: there is none",
            situations=(Situation.MISSING,),
            why=_explain([Situation.MISSING], None, name=label),
        )
    redirected = (
        std is not None and stream is _attr(sys, std) and stream is not _attr(sys, f"__{std}__")
    )
    fd = _fileno(stream)
    layers = tuple(Layer(name=_type_name(o), details=_details(o)) for o in _chain(stream))
    situations: list[Situation] = [Situation.REDIRECTED] if redirected else []
    problem = None
    if not callable(_attr(stream, "write")):
        situations.append(Situation.NO_WRITE)
        problem = f"cannot write to {label}: it has no write() method"
    elif _attr(stream, "closed") is True:
        situations.append(Situation.CLOSED)
        problem = f"cannot write to {label}: it is closed"
    buffering = _Buffering.of(layers)
    if problem is None:
        situations += _situations(terminal.kind, terminal, buffering, env, has_fd=fd is not None)
    interval = layers[0].get("flush_interval") if layers else None
    return Inspection(
        name=label,
        fd=fd,
        target=None if fd is None else _target(fd),
        kind=terminal.kind,
        terminal=terminal,
        layers=layers,
        would=None if problem is not None else _would(terminal, env),
        problem=problem,
        redirected=redirected,
        situations=tuple(situations),
        why=_explain(
            situations,
            buffering,
            name=label if std is None else std,
            interval=(
                f"{interval:g} s (its flush_interval)"
                if isinstance(interval, float)
                else "flush_interval seconds (0.2 s by default)"
            ),
            original=_describe_original(std),
            variable=_forcing_variable(env),
        ),
    )


def _stream_name(stream: Any) -> str:
    name = _attr(stream, "name")
    if isinstance(name, int) and not isinstance(name, bool):
        return {1: "stdout", 2: "stderr"}.get(name, f"fd {name}")
    if isinstance(name, str) and name:
        return {"<stdout>": "stdout", "<stderr>": "stderr"}.get(name, name)
    return type(stream).__name__


def _describe_original(std: str | None) -> str:
    if std is None:
        return ""
    original = _attr(sys, f"__{std}__")
    if original is None:
        return "None"
    fd = _fileno(original)
    if fd is None:
        return f"a {type(original).__name__}"
    target = _target(fd)
    return f"a {type(original).__name__} on fd {fd}" + (f" → {target}" if target else "")


# --- inspecting a path ---


class _PathProbe:
    """Stands in for a stream on a path, for the terminal questions of `terminal_info`."""

    def __init__(self, fd: int | None, tty: bool) -> None:
        self._fd = fd
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty

    def fileno(self) -> int:
        if self._fd is None:
            raise io.UnsupportedOperation("not opened")
        return self._fd


def _is_tty_device(rdev: int) -> bool:
    """Whether a character device is a terminal, without opening it.

    Opening a device can act (a watchdog starts, a tape rewinds), so this reads
    Linux's table of tty drivers, /proc/tty/drivers (major, minor range); elsewhere
    it compares with the standard streams' terminals.
    """
    major, minor = os.major(rdev), os.minor(rdev)
    try:
        with open("/proc/tty/drivers", encoding="ascii", errors="replace") as drivers:
            table = drivers.read()
    except OSError:
        for fd in (0, 1, 2):
            try:
                if os.isatty(fd) and os.fstat(fd).st_rdev == rdev:
                    return True
            except OSError:
                pass
        return False
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 4 or not fields[2].isdigit() or int(fields[2]) != major:
            continue
        low, _, high = fields[3].partition("-")
        if low.isdigit() and int(low) <= minor <= int(high or low):
            return True
    return False


def inspect_path(
    path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None
) -> Inspection:
    """Describe what writing to `path` would meet, without opening it for writing.

    The layers are those ``open(path, "w")`` would build; nothing is created or
    changed. A terminal device is opened read-only, only to ask its size.

    Args:
        path: an existing file, FIFO or device, or a new file in an existing directory.
        env: the environment to detect with; `os.environ` by default.

    Returns:
        An `Inspection` with no descriptor.

    Raises:
        SinkError: `path` is a directory or a socket, its directory does not
            exist, or it cannot be written.
    """
    env = os.environ if env is None else env
    text = os.fspath(path)
    if not text:
        raise SinkError("cannot write to '': the path is empty")
    new = False
    try:
        st = os.stat(text)
    except FileNotFoundError:
        if text.endswith(("/", os.sep)):
            raise SinkError(f"cannot write to {text}: no such directory") from None
        parent = os.path.dirname(os.path.abspath(text))
        if not os.path.isdir(parent):
            raise SinkError(f"cannot write to {text}: no such directory: {parent}") from None
        # A new file's st_blksize is its file system's block size, as its
        # directory's is (Linux's generic_fillattr: 1 << i_blkbits).
        st, new = os.stat(parent), True
        writable = os.access(parent, os.W_OK)
    except OSError as exc:
        raise SinkError(f"cannot write to {text}: {exc.strerror or exc}") from None
    else:
        writable = os.access(text, os.W_OK)
    mode = st.st_mode
    if not new and stat.S_ISDIR(mode):
        raise SinkError(f"cannot write to {text}: it is a directory")
    if stat.S_ISSOCK(mode):
        raise SinkError(f"cannot write to {text}: it is a socket, which open() cannot write to")
    if not writable:
        raise SinkError(f"cannot write to {text}: permission denied")
    tty = False
    if new or stat.S_ISREG(mode):
        kind = SinkKind.FILE
    elif stat.S_ISFIFO(mode):
        kind = SinkKind.PIPE
    elif stat.S_ISCHR(mode):
        tty = _is_tty_device(st.st_rdev)
        kind = SinkKind.TTY if tty else SinkKind.CHARDEV
    else:
        kind = SinkKind.UNKNOWN
    terminal = _path_terminal(text, tty, env)
    terminal = replace(terminal, kind=kind)
    layers = _open_layers(text, tty, st.st_blksize)
    situations = [Situation.NEW_FILE] if new else []
    if kind is SinkKind.PIPE:
        situations.append(Situation.FIFO)
    buffering = _Buffering.of(layers)
    # open() would give it a descriptor, unlike a stream in memory.
    situations += _situations(kind, terminal, buffering, env, has_fd=True)
    return Inspection(
        name=text,
        fd=None,
        target=os.path.realpath(text),
        kind=kind,
        terminal=terminal,
        layers=layers,
        would=_would(replace(terminal, kind=kind), env),
        situations=tuple(situations),
        why=_explain(
            situations,
            buffering,
            name=text,
            interval="",
            original="",
            variable=_forcing_variable(env),
        ),
    )


def _path_terminal(path: str, tty: bool, env: Mapping[str, str]) -> TerminalInfo:
    fd = None
    if tty:  # read-only and without becoming our controlling terminal: only to ask its size
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            fd = None
    try:
        return terminal_info(_PathProbe(fd, tty), env)
    finally:
        if fd is not None:
            os.close(fd)


def _open_layers(path: str, tty: bool, blksize: int) -> tuple[Layer, ...]:
    """The layers ``open(path, "w")`` builds (Lib/_pyio.py ``open()``), described, not built."""
    import locale

    # open()'s encoding=None: the locale's, or UTF-8 in UTF-8 mode (PEP 540, PEP 597).
    encoding = locale.getpreferredencoding(False)
    return (
        Layer(
            name="TextIOWrapper",
            details=(
                ("encoding", encoding),
                ("errors", "strict"),
                ("line_buffering", tty),  # open() sets it when raw.isatty()
                ("write_through", False),
                ("chunk_size", _TEXT_CHUNK_SIZE),
            ),
        ),
        Layer(name="BufferedWriter", details=(("buffer_size", _open_buffer_size(blksize)),)),
        Layer(name="FileIO", details=(("name", path), ("mode", "wb"), ("closefd", True))),
    )
