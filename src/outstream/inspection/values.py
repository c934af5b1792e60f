"""The report's values: `Inspection`, its `Layer`s and `PlanSummary`, the `Situation`s
that can hold and `WHY` each matters, and how the report is printed."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from ..core.escapes import EscapePolicy
from ..sinks.detect import (
    ColorSystem,
    FlushPolicy,
    SinkKind,
    TerminalInfo,
)

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
                width=max(width or REPORT_WIDTH, 20),
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
    SinkKind.APP: "an app's iterator",
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
