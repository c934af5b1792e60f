"""Reading a stream's layers without touching it: the chain from the outermost
(``.buffer``, then ``.raw``), each layer's details, buffer sizes, the descriptor's target."""

from __future__ import annotations

import io
import os
import sys
from typing import Any

from .values import _MAX_LAYERS, _jsonable

# --- reading a stream without touching it ---


def _attr(obj: Any, name: str) -> Any:
    """``getattr(obj, name, None)``, also when the attribute raises something else."""
    try:
        return getattr(obj, name, None)
    except Exception:  # a detached TextIOWrapper raises ValueError, a proxy anything
        return None


def _is_jupyter(obj: Any) -> bool:
    # click's check, as detect makes it: ipykernel's OutStream, without importing ipykernel.
    return type(obj).__module__.startswith("ipykernel.")


def _type_name(obj: Any) -> str:
    cls = type(obj)
    if cls.__module__ in ("_io", "io", "_pyio", "builtins"):
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


def _fileno(stream: Any) -> int | None:
    try:
        fd = stream.fileno()
    except Exception:  # closed, in memory, pytest's capture: no descriptor
        return None
    return fd if isinstance(fd, int) and fd >= 0 else None


def _target(fd: int) -> str | None:
    """What `fd` points to: a tty's device name, or the /proc/self/fd link."""
    try:
        if os.isatty(fd):
            return os.ttyname(fd)
    except OSError:
        pass
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # no /proc (macOS), or the descriptor went away
        return None


def _buffer_size(obj: Any) -> int | None:
    """The size of a buffered writer's buffer, in bytes; None when it cannot be known.

    `_pyio.BufferedWriter` has a public ``buffer_size``; the C one does not,
    but its ``__sizeof__`` is the object's basic size plus ``buffer_size``
    while the buffer is allocated (``_io__Buffered___sizeof___impl`` in
    Modules/_io/bufferedio.c; ``buffered_sizeof`` before 3.12), so the
    difference is the real size rather than a guess. After close() the
    buffer is freed and the difference is 0: unknown.
    """
    size = _attr(obj, "buffer_size")
    if isinstance(size, int) and not isinstance(size, bool) and size > 0:
        return size
    if isinstance(obj, io.BufferedWriter | io.BufferedRandom):
        try:
            size = obj.__sizeof__() - type(obj).__basicsize__
        except Exception:  # an implementation without __basicsize__ (PyPy)
            return None
        if 0 < size < 1 << 31:
            return size
    return None


def _open_buffer_size(blksize: int) -> int:
    """The buffer size ``open(path, "w")`` chooses for a file whose ``st_blksize`` is `blksize`.

    As CPython's ``io.open`` does (Lib/_pyio.py ``open()``, mirrored by
    Modules/_io/_iomodule.c): up to 3.13 the raw file's ``_blksize``, which
    is ``st_blksize`` when that is above 1 and ``io.DEFAULT_BUFFER_SIZE``
    (8 KiB) otherwise; from 3.14 (gh-117151) ``max(min(blksize, 8 MiB),
    DEFAULT_BUFFER_SIZE)``, with DEFAULT_BUFFER_SIZE raised to 128 KiB.
    """
    raw_blksize = blksize if blksize > 1 else io.DEFAULT_BUFFER_SIZE
    if sys.version_info >= (3, 14):
        return max(min(raw_blksize, 8192 * 1024), io.DEFAULT_BUFFER_SIZE)
    return raw_blksize


def _details(obj: Any) -> tuple[tuple[str, object], ...]:
    details: list[tuple[str, object]] = []
    if _is_jupyter(obj):
        interval = _attr(obj, "flush_interval")
        if isinstance(interval, int | float) and not isinstance(interval, bool):
            details.append(("flush_interval", float(interval)))
    elif isinstance(obj, io.TextIOBase) and not isinstance(obj, io.StringIO):
        for key in ("encoding", "errors", "line_buffering", "write_through"):
            value = _attr(obj, key)
            if value is not None:
                details.append((key, value))
        chunk = _attr(obj, "_CHUNK_SIZE")
        if isinstance(chunk, int) and not isinstance(chunk, bool):
            details.append(("chunk_size", chunk))
    elif isinstance(obj, io.BufferedIOBase) and not isinstance(obj, io.BytesIO):
        details.append(("buffer_size", _buffer_size(obj)))
    elif isinstance(obj, io.FileIO):
        details.append(("fd", _fileno(obj)))
        details.append(("mode", _attr(obj, "mode")))
        details.append(("closefd", _attr(obj, "closefd")))
    if _attr(obj, "closed") is True:
        details.append(("closed", True))
    return tuple((k, _jsonable(v)) for k, v in details)


def _below(obj: Any) -> Any:
    """The next layer down: ``.buffer`` of a text stream, ``.raw`` of a buffered one."""
    for name in ("buffer", "raw"):
        below = _attr(obj, name)
        if below is not None and callable(_attr(below, "write")):
            return below
    return None


def _chain(stream: Any) -> list[Any]:
    chain: list[Any] = []
    seen: set[int] = set()
    obj = stream
    while obj is not None and id(obj) not in seen and len(chain) < _MAX_LAYERS:
        seen.add(id(obj))
        chain.append(obj)
        obj = _below(obj)
    return chain
