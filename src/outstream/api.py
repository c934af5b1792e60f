"""The library's entry points: `stream`, `astream` and `Writer`."""

from __future__ import annotations

import copy
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .clock import Clock, SystemClock
from .core.escapes import ESCAPE_POLICIES, EscapePolicy
from .core.graphemes import UNITS, UnitName
from .core.pace import Instant, Pacer, Smooth
from .core.pipeline import Pipeline
from .core.stats import Stats
from .core.utf8 import DecodeErrors
from .drive import Channel, Outcome, open_async_inbox, open_inbox, run
from .drive import arun as _arun
from .errors import SinkError
from .sinks.detect import FlushPolicy
from .sinks.stream import StreamSink

__all__ = ["Result", "Writer", "astream", "stream"]

DEFAULT_FPS = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """What a stream did.

    Attributes:
        text: everything written, as text (empty with ``keep_text=False``).
        stats: the numbers: time to first text, rates, gaps, lag, writes.
        reader_gone: the output's reader went away before the end (``| head``);
            the source was closed and the rest not shown. Not an error.
    """

    text: str
    stats: Stats
    reader_gone: bool = False


def _sink(file: Any, terminal: bool | None, flush: FlushPolicy | None, env: Any) -> StreamSink:
    if file is None:
        file = sys.stdout
        if file is None:  # pythonw, or stdout closed by the embedding program
            raise SinkError("cannot write to stdout: there is none")
    return StreamSink(file, terminal=terminal, flush=flush, env=env)


def default_pace(terminal: bool) -> Pacer:
    """The pacing used when none is given: `Smooth()` on a terminal, `Instant()` elsewhere."""
    return Smooth() if terminal else Instant()


def _pipeline(
    sink: StreamSink,
    pace: Pacer | None,
    unit: UnitName,
    escapes: EscapePolicy,
    errors: DecodeErrors,
    fps: float,
    hold: float,
    t_start: float,
    count_text: bool = True,
) -> Pipeline:
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    if escapes not in ESCAPE_POLICIES:
        raise ValueError(f"escapes must be one of {', '.join(ESCAPE_POLICIES)}, not {escapes!r}")
    if not fps > 0:
        raise ValueError(f"fps must be positive, not {fps!r}")
    # A pacer holds one stream's state: a shared instance must not carry it over.
    pacer = default_pace(sink.is_terminal) if pace is None else copy.deepcopy(pace)
    animated = sink.is_terminal or not isinstance(pacer, Instant)
    return Pipeline(
        pacer=pacer,
        unit=unit,
        escapes=escapes,
        errors=errors,
        hold=hold,
        frame_interval=1.0 / fps if animated else 0.0,
        t_start=t_start,
        count_text=count_text,
    )


def stream(
    source: Any,
    file: Any = None,
    *,
    pace: Pacer | None = None,
    unit: UnitName = "grapheme",
    escapes: EscapePolicy = "strip",
    errors: DecodeErrors = "replace",
    fps: float = DEFAULT_FPS,
    hold: float = 0.05,
    terminal: bool | None = None,
    flush: FlushPolicy | None = None,
    keep_text: bool = True,
    clock: Clock | None = None,
    env: Mapping[str, str] | None = None,
) -> Result:
    """Stream `source` to `file`, paced, sanitized and flushed right; return what happened.

    Args:
        source: a str or bytes; an iterable or async iterable of str/bytes
            chunks (an LLM SDK's text stream, a generator); a file object
            opened for reading, text or binary, such as ``sys.stdin``. It is
            read as fast as it produces, in a thread, whatever the pacing.
        file: where to write: a text or binary file object; stdout by default.
        pace: `Instant()`, `Typewriter(cps=...)` or `Smooth(lag=...)`. None
            picks `Smooth()` on a terminal and `Instant()` anywhere else.
        unit: what the pacer counts: ``"grapheme"``, ``"word"``, ``"line"``
            or ``"chunk"``.
        escapes: ``"strip"`` (default) removes control characters and escape
            sequences; ``"escape"`` shows them visibly; ``"sgr"`` keeps only
            colours and styles; ``"raw"`` trusts the source.
        errors: invalid UTF-8 in bytes becomes U+FFFD (``"replace"``) or
            stops the stream with `DecodeError` naming the byte offset
            (``"strict"``).
        fps: on a terminal, or when animating, at most this many writes a second.
        hold: seconds an unfinished trailing grapheme or unit waits for more.
        terminal: force the answer to "is `file` a terminal?".
        flush: force the flush policy (``"frame"``, ``"chunk"``, ``"line"``,
            ``"end"``); by default chosen by what `file` is.
        keep_text: keep the shown text for `Result.text`.
        clock: the time source; `SystemClock()` by default, a
            `outstream.testing.VirtualClock` in tests.
        env: the environment used for detection; `os.environ` by default.

    Returns:
        A `Result` with the text shown and the stats.

    Raises:
        Whatever the source raised, re-raised after everything it produced
        before was written and flushed. `DecodeError` likewise, with
        ``errors="strict"``. `SinkError` when the output fails (a reader
        going away is not a failure: see `Result.reader_gone`).
        `KeyboardInterrupt` after writing what was due.
    """
    clock = SystemClock() if clock is None else clock
    sink = _sink(file, terminal, flush, env)
    pipeline = _pipeline(sink, pace, unit, escapes, errors, fps, hold, clock.now())
    outcome = run(pipeline, open_inbox(source, clock), sink, clock, keep_text=keep_text)
    return _result(outcome)


def _result(outcome: Outcome) -> Result:
    return Result(text=outcome.text, stats=outcome.stats, reader_gone=outcome.reader_gone)


async def astream(
    source: Any,
    file: Any = None,
    *,
    pace: Pacer | None = None,
    unit: UnitName = "grapheme",
    escapes: EscapePolicy = "strip",
    errors: DecodeErrors = "replace",
    fps: float = DEFAULT_FPS,
    hold: float = 0.05,
    terminal: bool | None = None,
    flush: FlushPolicy | None = None,
    keep_text: bool = True,
    clock: Clock | None = None,
    env: Mapping[str, str] | None = None,
) -> Result:
    """`stream` for async code: awaits the source and the pacing, never blocks the loop.

    Takes the same arguments as `stream`. An async iterable is read by a
    task; a sync one by a thread. Writes to `file` are made from the event
    loop (they are short: one per frame).
    """
    clock = SystemClock() if clock is None else clock
    sink = _sink(file, terminal, flush, env)
    pipeline = _pipeline(sink, pace, unit, escapes, errors, fps, hold, clock.now())
    inbox = open_async_inbox(source, clock)
    outcome = await _arun(pipeline, inbox, sink, clock, keep_text=keep_text)
    return _result(outcome)


class Writer:
    """Write chunks as you get them; pacing and output happen beside you.

    ``write`` returns at once; a driver thread paces and writes. Leaving the
    ``with`` block (or `close`) waits until everything is shown and makes
    `result` available.

    Example::

        with outstream.Writer(sys.stdout, pace=outstream.Typewriter(cps=40)) as w:
            for chunk in chunks:
                w.write(chunk)
        print(w.result.stats.format())

    Takes the same keyword arguments as `stream`.
    """

    def __init__(self, file: Any = None, **options: Any) -> None:
        clock = options.pop("clock", None)
        self._clock: Clock = SystemClock() if clock is None else clock
        keep_text = options.pop("keep_text", True)
        sink_options = {k: options.pop(k, None) for k in ("terminal", "flush", "env")}
        defaults: dict[str, Any] = {
            "pace": None,
            "unit": "grapheme",
            "escapes": "strip",
            "errors": "replace",
            "fps": DEFAULT_FPS,
            "hold": 0.05,
        }
        unknown = set(options) - set(defaults)
        if unknown:
            raise TypeError(
                f"Writer() got unexpected keyword arguments: {', '.join(sorted(unknown))}"
            )
        defaults.update(options)
        self._sink = _sink(
            file, sink_options["terminal"], sink_options["flush"], sink_options["env"]
        )
        self._pipeline = _pipeline(self._sink, t_start=self._clock.now(), **defaults)
        self._channel = Channel(self._clock)
        self._keep_text = keep_text
        self._result: Result | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Writer:
        self._start()
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self.close()
        else:
            self._channel.end(exc if not isinstance(exc, KeyboardInterrupt) else None)
            self._join()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._drive, name="outstream-writer", daemon=True
            )
            self._thread.start()

    def _drive(self) -> None:
        try:
            outcome = run(
                self._pipeline, self._channel, self._sink, self._clock, keep_text=self._keep_text
            )
        except BaseException as exc:
            self._error = exc
        else:
            self._result = _result(outcome)

    def write(self, chunk: str | bytes) -> None:
        """Hand over a chunk; returns at once. After the reader went away, does nothing."""
        self._start()
        if not isinstance(chunk, str | bytes | bytearray):
            raise TypeError(f"Writer.write() takes str or bytes, not {type(chunk).__name__}")
        if self._error is not None:
            raise self._error
        self._channel.put(chunk)

    def close(self) -> Result:
        """End the stream, wait until everything is shown, and return the result."""
        if self._result is None:
            self._start()
            self._channel.end()
            self._join()
            if self._error is not None:
                raise self._error
        assert self._result is not None
        return self._result

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    @property
    def result(self) -> Result:
        """The `Result`, once the writer is closed."""
        if self._result is None:
            raise RuntimeError("the Writer is still open: its result comes when it is closed")
        return self._result
