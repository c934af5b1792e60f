"""What a stream is, layer by layer, and what outstream would do writing to it.

``print`` → `TextIOWrapper` → `BufferedWriter` → `FileIO` → a file
descriptor → a tty, a pipe, a file. Each layer decides when bytes move on,
and people trip over the result: output into a pipe that appears in 8 KiB
lumps, ``-u`` removing a layer, a notebook that flushes on its own timer,
a ``sys.stdout`` that pytest replaced. `inspect(stream)` reports all of it
as a value; ``outstream inspect`` prints it (`cli.inspect`).

Theory of operation: facts come first (the descriptor and what it points
to, the layers from the outermost down to the raw file, the terminal
answers from `sinks.detect`), then the situations that hold are picked from
those facts, and each situation's explanation is one entry of the `WHY`
table, so that docs and tests can read it. Nothing here writes to, flushes
or reconfigures the stream it looks at, and a path is only stat'ed, never
opened for writing.
"""

from __future__ import annotations

import enum
import io
import os
import stat
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .core.escapes import EscapePolicy
from .core.pace import Instant, Pacer, Smooth, Typewriter
from .errors import SinkError
from .options import DEFAULT_FPS, Options
from .plan import plan
from .sinks.detect import (
    ColorSystem,
    FlushPolicy,
    SinkKind,
    TerminalInfo,
    terminal_info,
)

__all__ = [
    "FLUSH_WORDS",
    "REPORT_WIDTH",
    "WHY",
    "Inspection",
    "Layer",
    "PlanSummary",
    "Situation",
    "inspect",
    "inspect_path",
]

# How many bytes a TextIOWrapper collects before it hands them to the layer
# below (unless line_buffering sees a newline, or write_through is set): the
# C implementation's ``self->chunk_size = 8192`` (Modules/_io/textio.c), also
# readable per instance as ``_CHUNK_SIZE``. This, not the BufferedWriter's
# size, is why print() into a pipe arrives in 8 KiB lumps.
_TEXT_CHUNK_SIZE = 8192

# A chain longer than this is a loop or something exotic; stop walking.
_MAX_LAYERS = 8

# The report's lines fit in this many columns, or in a narrower terminal.
REPORT_WIDTH = 100


# --- values ---


class Situation(enum.Enum):
    """A case `inspect` explains; `WHY` holds the explanation of each."""

    MISSING = "missing"
    REDIRECTED = "redirected"
    NO_WRITE = "no-write"
    CLOSED = "closed"
    TTY = "tty"
    TTY_NOT_LINE_BUFFERED = "tty-not-line-buffered"
    PIPE = "pipe"
    FIFO = "fifo"
    FILE = "file"
    NEW_FILE = "new-file"
    CHARDEV = "chardev"
    SOCKET = "socket"
    UNBUFFERED = "unbuffered"
    LINE_BUFFERED = "line-buffered"
    WRITE_THROUGH = "write-through"
    JUPYTER = "jupyter"
    MEMORY = "memory"
    UNKNOWN = "unknown"
    FORCED_TERMINAL = "forced-terminal"
    NOT_TERMINAL = "not-terminal"
    NO_COLOR = "no-color"
    DUMB = "dumb"


# One line of explanation per situation, filled in from the facts with
# str.format: {name}, {held} (how much output waits before reaching the
# descriptor), {chunk} (how much a TextIOWrapper collects), {interval} (a
# notebook's flush interval), {original} (what sys.__stdout__ is), {variable}
# (the setting that forces a terminal).
WHY: Mapping[Situation, str] = {
    Situation.MISSING: (
        "there is no {name} (None: pythonw, or removed by the embedding program): "
        "print() drops its text silently; outstream stops with an error"
    ),
    Situation.REDIRECTED: (
        "sys.{name} is not sys.__{name}__: it was replaced (pytest's capture, "
        "contextlib.redirect_{name}, a notebook); this is the replacement, the original "
        "is {original}"
    ),
    Situation.NO_WRITE: "it has no write() method: nothing can write to it",
    Situation.CLOSED: "it is closed: any write raises ValueError; outstream stops with an error",
    Situation.TTY: (
        "a tty is line-buffered by Python: each line shows as it ends; a pipe or file is "
        "block-buffered ({chunk}) unless -u / PYTHONUNBUFFERED"
    ),
    Situation.TTY_NOT_LINE_BUFFERED: (
        "a tty, but this text layer is not line-buffered: text waits until {held} collect or "
        "flush() is called (open() turns line buffering on for a tty; this stream was built "
        "otherwise)"
    ),
    Situation.PIPE: (
        "a pipe is block-buffered by Python: print() output waits until {held} collect, "
        "flush() or exit (-u / PYTHONUNBUFFERED turn this off); outstream flushes after "
        "each write, so the reader sees each chunk at once"
    ),
    Situation.FIFO: "a FIFO: opening it for writing waits until a reader opens it",
    Situation.FILE: (
        "a regular file is block-buffered by Python ({held}); outstream flushes it once, at the end"
    ),
    Situation.NEW_FILE: "it does not exist yet: open(PATH, 'w') creates it as a regular file",
    Situation.CHARDEV: (
        "a character device that is not a tty (such as /dev/null): block-buffered by "
        "Python ({held}); outstream flushes after each write"
    ),
    Situation.SOCKET: (
        "a socket is block-buffered by Python ({held}), as a pipe is; outstream flushes "
        "after each write"
    ),
    Situation.UNBUFFERED: (
        "no BufferedWriter: each write goes straight to the descriptor, one system call "
        "per write; -u / PYTHONUNBUFFERED=1 build stdout and stderr so (a TextIOWrapper "
        "with write_through=True over FileIO)"
    ),
    Situation.LINE_BUFFERED: (
        "line_buffering=True although it is not a tty: a write holding a newline is "
        "flushed at once (Python makes stderr so since 3.9; sys.stdout.reconfigure"
        "(line_buffering=True) does it for stdout)"
    ),
    Situation.WRITE_THROUGH: (
        "write_through=True: text passes the TextIOWrapper at once, but the BufferedWriter "
        "below still holds it until {held} collect or flush()"
    ),
    Situation.JUPYTER: (
        "a notebook's OutStream buffers and sends what it holds on its own, every "
        "{interval}; outstream flushes per frame, so text shows at once"
    ),
    Situation.MEMORY: (
        "in memory: nothing reaches a file descriptor; whoever made it reads it "
        "(pytest's capsys, redirect_stdout to a StringIO)"
    ),
    Situation.UNKNOWN: (
        "not an output outstream knows: it calls write(), then flush() if there is one, "
        "after each write"
    ),
    Situation.FORCED_TERMINAL: (
        "{variable} makes outstream treat it as a terminal: paced, flushed per frame"
    ),
    Situation.NOT_TERMINAL: (
        "TTY_COMPATIBLE=0 makes outstream treat this tty as not a terminal: no pacing"
    ),
    Situation.NO_COLOR: "NO_COLOR is set: no colours",
    Situation.DUMB: "TERM=dumb: no cursor movement and no colours",
}

# The flush policies of `DEFAULT_FLUSH`, in words; {fps} is the frame rate.
FLUSH_WORDS: Mapping[FlushPolicy, str] = {
    "frame": "per frame ({fps:g}/s)",
    "chunk": "after each write",
    "line": "after each line",
    "end": "at the end",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Layer:
    """One object in a stream's chain, such as a `BufferedWriter`, and what it holds.

    Attributes:
        name: the type's name (with its module when it is not from `io`).
        details: (key, value) pairs: ``("encoding", "utf-8")``,
            ``("buffer_size", 8192)``; values are str, int, float, bool or None.
    """

    name: str
    details: tuple[tuple[str, object], ...] = ()

    def get(self, key: str, default: object = None) -> object:
        """The value of detail `key`, or `default` when the layer has none."""
        for k, value in self.details:
            if k == key:
                return value
        return default

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form."""
        return {"name": self.name, "details": {k: _jsonable(v) for k, v in self.details}}


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanSummary:
    """What outstream would do writing to a stream, with default options.

    Attributes:
        kind: the kind of sink outstream treats it as (a forced terminal is a tty).
        pace: the default pacing, e.g. ``"smooth(0.5 s)"`` or ``"instant"``.
        flush: the flush policy, from `DEFAULT_FLUSH`.
        flush_text: the same in words, e.g. ``"per frame (60/s)"``.
        escapes: the escape policy (`plan.default_escapes`: a file gets the text as received).
        color_system: how many colours it would use.
        width_cells: the width it would assume, in terminal columns.
    """

    kind: SinkKind
    pace: str
    flush: FlushPolicy
    flush_text: str
    escapes: EscapePolicy
    color_system: ColorSystem
    width_cells: int

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form."""
        return {
            "kind": self.kind.value,
            "pace": self.pace,
            "flush": self.flush,
            "flush_text": self.flush_text,
            "escapes": self.escapes,
            "color_system": self.color_system,
            "width_cells": self.width_cells,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Inspection:
    """A stream as this process sees it, and what outstream would do with it.

    Attributes:
        name: ``"stdout"``, ``"stderr"``, a path, ``"fd N"`` or the type's name.
        fd: its file descriptor, or None (in memory, closed, a notebook).
        target: what the descriptor points to: a tty's device, a path,
            ``pipe:[…]``; None when unknown.
        kind: what it is, from `sinks.detect.sink_kind` (or from ``stat`` for a path).
        terminal: the terminal answers, from `sinks.detect.terminal_info`.
        layers: the chain, outermost first (``.buffer``, then ``.raw``).
        would: what outstream would do; None when it could not write there.
        problem: why outstream could not write there, or None.
        redirected: it is ``sys.stdout`` (or stderr), replaced: not ``sys.__stdout__``.
        situations: the cases that hold, in the order `why` explains them.
        why: one line of explanation per situation, from `WHY`.
    """

    name: str
    fd: int | None
    target: str | None
    kind: SinkKind
    terminal: TerminalInfo
    layers: tuple[Layer, ...]
    would: PlanSummary | None
    problem: str | None = None
    redirected: bool = False
    situations: tuple[Situation, ...] = ()
    why: tuple[str, ...] = ()

    def format(self, width: int | None = None) -> str:
        """The report ``outstream inspect`` prints: header, layers, plan, explanations.

        Args:
            width: the columns every line fits in (a terminal's), cut between
                words, never in one. Without it, a line per layer, however
                long, and the explanations at `REPORT_WIDTH`.

        Returns:
            Several lines, without a final newline.
        """
        import textwrap

        def wrapped(text: str, first: str, then: str, *, always: bool = False) -> list[str]:
            if width is None and not always:
                return [first + text]
            return textwrap.wrap(
                text,
                width=max(width or REPORT_WIDTH, 40),
                initial_indent=first,
                subsequent_indent=then,
                break_long_words=False,
                break_on_hyphens=False,
            )

        lines = wrapped(self._header(), "", "  ")
        for depth, layer in enumerate(self.layers):
            lead = "  " + ("  " * (depth - 1) + "└ " if depth else "")
            details = " ".join(f"{k}={_show(k, v)}" for k, v in layer.details)
            text = f"{layer.name}  {details}".rstrip()
            lines += wrapped(text, lead, " " * (len(lead) + len(layer.name) + 2))
        if self.would is None:
            lines += wrapped(f"outstream: {self.problem}", "", "  ")
        else:
            w = self.would
            plan = (
                f"pace={w.pace}  flush={w.flush_text}  escapes={w.escapes}  "
                f"colour={w.color_system}  width={w.width_cells}"
            )
            lines += wrapped(plan, "outstream: ", " " * len("outstream: "))
        for i, text in enumerate(self.why):
            lines += wrapped(text, "why: " if i == 0 else "     ", "       ", always=True)
        return "\n".join(lines)

    def _header(self) -> str:
        parts = [self.name]
        if self.fd is not None and self.name != f"fd {self.fd}":
            parts.append(f"fd {self.fd}")
        if self.target is not None:
            parts.append(self.target)
        return " → ".join(parts) + f" ({self._description()})"

    def _description(self) -> str:
        situations = self.situations
        if Situation.MISSING in situations:
            return "None: no stream"
        if Situation.CLOSED in situations:
            return "closed"
        if Situation.MEMORY in situations:
            return _KIND_WORDS[SinkKind.MEMORY]
        kind = self.kind
        if kind is SinkKind.TTY:
            t = self.terminal
            return f"tty {t.width}×{t.height}, TERM={t.term if t.term is not None else 'unset'}"
        if kind is SinkKind.FILE and Situation.NEW_FILE in situations:
            return "regular file, not there yet"
        if kind is SinkKind.PIPE and Situation.FIFO in situations:
            return "FIFO"
        return _KIND_WORDS[kind]

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form, as ``outstream inspect --json`` prints it."""
        t = self.terminal
        return {
            "name": self.name,
            "fd": self.fd,
            "target": self.target,
            "kind": self.kind.value,
            "terminal": {
                "kind": t.kind.value,
                "is_terminal": t.is_terminal,
                "width": t.width,
                "height": t.height,
                "color_system": t.color_system,
                "term": t.term,
                "dumb": t.dumb,
            },
            "layers": [layer.to_dict() for layer in self.layers],
            "would": None if self.would is None else self.would.to_dict(),
            "problem": self.problem,
            "redirected": self.redirected,
            "situations": [s.value for s in self.situations],
            "why": list(self.why),
        }


_KIND_WORDS: Mapping[SinkKind, str] = {
    SinkKind.TTY: "tty",
    SinkKind.PIPE: "pipe",
    SinkKind.FILE: "regular file",
    SinkKind.SOCKET: "socket",
    SinkKind.CHARDEV: "character device, not a tty",
    SinkKind.JUPYTER: "Jupyter OutStream",
    SinkKind.MEMORY: "in memory",
    SinkKind.UNKNOWN: "unknown",
}


def _show(key: str, value: object) -> str:
    if value is None:
        return "?"
    if key == "mode" or (isinstance(value, str) and (not value or " " in value)):
        return repr(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


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


# --- from facts to situations ---


@dataclass(frozen=True, slots=True)
class _Buffering:
    """How a chain of layers holds output back, read from its `Layer` details."""

    text: bool
    buffered: bool
    raw: bool
    memory: bool
    line_buffering: bool
    write_through: bool
    chunk_bytes: int  # how much the text layer collects before passing it down
    held_bytes: int | None  # how much collects before it reaches the descriptor

    @classmethod
    def of(cls, layers: Sequence[Layer]) -> _Buffering:
        text = next((la for la in layers if la.get("line_buffering") is not None), None)
        sizes = [
            la.get("buffer_size") for la in layers if any(k == "buffer_size" for k, _ in la.details)
        ]
        buffer_size = next((s for s in sizes if isinstance(s, int)), None)
        write_through = text is not None and text.get("write_through") is True
        chunk = _TEXT_CHUNK_SIZE if text is None else text.get("chunk_size", _TEXT_CHUNK_SIZE)
        chunk_bytes = chunk if isinstance(chunk, int) else _TEXT_CHUNK_SIZE
        held = [buffer_size] if isinstance(buffer_size, int) else []
        if text is not None and not write_through:
            held.append(chunk_bytes)
        return cls(
            text=text is not None,
            buffered=bool(sizes),
            raw=any(la.get("closefd") is not None for la in layers),
            memory=bool(layers) and layers[-1].name in ("StringIO", "BytesIO"),
            line_buffering=text is not None and text.get("line_buffering") is True,
            write_through=write_through,
            chunk_bytes=chunk_bytes,
            held_bytes=max(held) if held else None,
        )


_BLOCK_BUFFERED: Mapping[SinkKind, Situation] = {
    SinkKind.PIPE: Situation.PIPE,
    SinkKind.FILE: Situation.FILE,
    SinkKind.CHARDEV: Situation.CHARDEV,
    SinkKind.SOCKET: Situation.SOCKET,
}


def _situations(
    kind: SinkKind,
    terminal: TerminalInfo,
    buffering: _Buffering,
    env: Mapping[str, str],
    *,
    has_fd: bool,
) -> list[Situation]:
    """The situations that hold for a stream that can be written to."""
    found: list[Situation] = []
    if kind is SinkKind.JUPYTER:
        found.append(Situation.JUPYTER)
    elif kind is SinkKind.MEMORY or (not has_fd and buffering.memory):
        found.append(Situation.MEMORY)
    elif not has_fd and not buffering.raw:
        found.append(Situation.UNKNOWN)
    elif buffering.raw and not buffering.buffered:
        found.append(Situation.UNBUFFERED)
    elif kind is SinkKind.TTY:
        if buffering.line_buffering or not buffering.text:
            found.append(Situation.TTY)
        elif buffering.write_through:
            found.append(Situation.WRITE_THROUGH)
        else:
            found.append(Situation.TTY_NOT_LINE_BUFFERED)
    elif buffering.line_buffering:
        found.append(Situation.LINE_BUFFERED)
    elif kind in _BLOCK_BUFFERED:
        found.append(_BLOCK_BUFFERED[kind])
        if buffering.write_through:
            found.append(Situation.WRITE_THROUGH)
    else:
        found.append(Situation.UNKNOWN)
    if terminal.is_terminal and kind not in (SinkKind.TTY, SinkKind.JUPYTER):
        found.append(Situation.FORCED_TERMINAL)
    if kind is SinkKind.TTY and not terminal.is_terminal:
        found.append(Situation.NOT_TERMINAL)
    if terminal.is_terminal and kind is not SinkKind.JUPYTER:
        if env.get("NO_COLOR"):
            found.append(Situation.NO_COLOR)
        if terminal.dumb:
            found.append(Situation.DUMB)
    return found


def _size_words(n_bytes: int | None) -> str:
    if n_bytes is None:
        return "a buffer's worth"
    if n_bytes % 1024 == 0:
        return f"{n_bytes // 1024} KiB"
    return f"{n_bytes:,} bytes"


def _explain(
    situations: Sequence[Situation], buffering: _Buffering | None, **facts: str
) -> tuple[str, ...]:
    if buffering is not None:
        facts["held"] = _size_words(buffering.held_bytes)
        facts["chunk"] = _size_words(buffering.chunk_bytes)
    return tuple(WHY[s].format(**facts) for s in situations)


# --- what outstream would do ---


def _pace_words(pacer: Pacer) -> str:
    if isinstance(pacer, Smooth):
        return f"smooth({pacer.lag:g} s)"
    if isinstance(pacer, Typewriter):
        if pacer.delay is not None:
            return f"typewriter({pacer.delay:g} s a unit)"
        return f"typewriter({pacer.cps:g} cps)"
    if isinstance(pacer, Instant):
        return "instant"
    return repr(pacer)


def _would(info: TerminalInfo, env: Mapping[str, str]) -> PlanSummary:
    """What outstream would do with default options: its `plan.plan`, in words."""
    the_plan = plan(info, Options(), env)
    return PlanSummary(
        kind=the_plan.kind,
        pace=_pace_words(the_plan.pacer),
        flush=the_plan.flush,
        flush_text=FLUSH_WORDS[the_plan.flush].format(fps=DEFAULT_FPS),
        escapes=the_plan.escapes,
        color_system=the_plan.color_system,
        width_cells=the_plan.width,
    )


def _forcing_variable(env: Mapping[str, str]) -> str:
    # The order is is_terminal's: TTY_COMPATIBLE decides before FORCE_COLOR.
    return "TTY_COMPATIBLE=1" if env.get("TTY_COMPATIBLE") == "1" else "FORCE_COLOR"


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
