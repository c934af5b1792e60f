"""Recordings: a source's deltas with their times, written as they arrive and played back.

The format (``--save-deltas FILE.jsonl``) is JSON Lines. The first line is
a header::

    {"format": "outstream-deltas", "version": 1, "started": "2026-11-24T20:18:27.123+00:00",
     "source": "ask gpt-4o-mini at http://localhost:8000/v1", "model": "gpt-4o-mini"}

then one line per event, ``t`` in seconds since the start on the monotonic
clock, and one of::

    {"t": 0.412, "text": "Hel"}                  the answer's text
    {"t": 0.398, "reasoning": "Let me"}          the model's reasoning
    {"t": 2.301, "usage": {"prompt_tokens": 12, "completion_tokens": 80, "total_tokens": 92}}
    {"t": 1.100, "other": "tool_call"}           something else the source said
    {"t": 2.300, "finish": "stop"}               the protocol's end marker
    {"t": 1.800, "error": "the connection dropped", "type": "SourceError"}
    {"t": 2.302, "end": true}                    the source ended

Each line is written and flushed as its delta arrives, so a crash loses at
most the line being written; a file cut short that way plays up to its last
complete line. `ScriptedSource` plays a script of ``(t, item)`` pairs on
the driver's clock, so a recording is a test fixture for the virtual clock
(`outstream.testing.VirtualClock`) as much as a replay on the real one.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Literal

from .._jsonl import JsonLines
from ..errors import SourceError, UsageError
from ..events import Failed, Finish, Other, Reasoning, Usage

if TYPE_CHECKING:
    from ..clock import Clock
    from ..drive import Batch

__all__ = [
    "DeltaRecorder",
    "ScriptedSource",
    "read_cast",
    "read_deltas",
    "read_header",
    "read_recording",
    "recording_kind",
    "replay",
    "retimed",
]

FORMAT = "outstream-deltas"
VERSION = 1


class ScriptedSource:
    """A source that gives each item at its scripted time, pausing on a clock.

    Args:
        script: ``(t, item)`` pairs, ``t`` in seconds from the moment the
            source is first read, and non-decreasing. An item is text (str or
            bytes), a side event (`Reasoning`, `Usage`, `Other`, `Finish`),
            or an exception, which makes the source fail at that time.
        end: when the source ends; by default, with its last item.
        clock: what it pauses on (`Clock.sleep_until`): the system clock by
            default, a `outstream.testing.VirtualClock` in a test — the same
            one given to `stream`.

    It is an iterable and an async iterable like any other source: the
    drivers read it through the same reader thread or task, channel and
    loop as a model's stream. With a virtual clock a test runs in no real
    time and every arrival is exact; with the system clock it plays in real
    time (`replay`), and a driver that falls behind finds everything that
    came meanwhile waiting for it.
    """

    def __init__(
        self,
        script: Iterable[tuple[float, object]],
        *,
        end: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.script = list(script)
        times = [t for t, _ in self.script]
        if any(b < a for a, b in itertools.pairwise(times)):
            raise ValueError("script times must not decrease")
        self.end = end if end is not None else (times[-1] if times else 0.0)
        if times and self.end < times[-1]:
            raise ValueError("the end comes before the last chunk")
        if clock is None:
            from ..clock import SystemClock

            clock = SystemClock()
        self.clock = clock

    def __iter__(self) -> Iterator[object]:
        clock = self.clock
        t0 = clock.now()
        for t, item in self.script:
            clock.sleep_until(t0 + t)
            if isinstance(item, BaseException):
                raise item
            yield item
        clock.sleep_until(t0 + self.end)

    async def __aiter__(self) -> AsyncIterator[object]:
        clock = self.clock
        t0 = clock.now()
        for t, item in self.script:
            await clock.asleep_until(t0 + t)
            if isinstance(item, BaseException):
                raise item
            yield item
        await clock.asleep_until(t0 + self.end)


# --- reading ---


def replay(
    path: str | os.PathLike[str],
    *,
    speed: float = 1.0,
    max_idle: float | None = None,
    instant: bool = False,
    clock: Clock | None = None,
) -> ScriptedSource:
    """A recording as a source: its deltas (a ``.jsonl``) or its output (a ``.cast``), in time.

    Args:
        path: a file written by ``--save-deltas`` (or ``save_deltas=``), or
            an asciicast v2 file (``--record``): its output events, to be
            shown with ``escapes="raw"``.
        speed: play this many times faster (2: in half the time).
        max_idle: shorten every pause longer than this many seconds to it.
        instant: ignore the timing: everything at once.
        clock: what the playback pauses on: the system clock by default;
            a `outstream.testing.VirtualClock` (the one given to `stream`)
            in a test.

    Raises:
        SourceError: the file is not a recording, or a line of it is
            malformed (the message names the line).
        OSError: the file cannot be read.
    """
    if not speed > 0:
        raise UsageError(f"speed must be positive, not {speed!r}")
    if max_idle is not None and not max_idle > 0:
        raise UsageError(f"max_idle must be positive, not {max_idle!r}")
    script, end = read_recording(path)
    script, end = retimed(script, end, speed=speed, max_idle=max_idle, instant=instant)
    return ScriptedSource(script, end=end, clock=clock)


def recording_kind(path: str | os.PathLike[str]) -> Literal["deltas", "cast"]:
    """Whether `path` holds deltas (``--save-deltas``) or asciicast v2 (``--record``), by its first line.

    Raises:
        SourceError: it is neither.
        OSError: it cannot be read.
    """
    header = read_header(path)
    if header.get("format") == FORMAT:
        return "deltas"
    if header.get("version") == 2 and "width" in header:
        return "cast"
    raise SourceError(
        f"{os.fspath(path)}: not a recording: its first line is neither an outstream "
        "deltas header nor an asciicast v2 header"
    )


def read_recording(path: str | os.PathLike[str]) -> tuple[list[tuple[float, object]], float]:
    """The script and end time of a recording of either kind."""
    return read_deltas(path) if recording_kind(path) == "deltas" else read_cast(path)


def read_deltas(path: str | os.PathLike[str]) -> tuple[list[tuple[float, object]], float]:
    """A deltas file as ``(t, item)`` pairs and the time it ends (its last line's, if cut short)."""
    script: list[tuple[float, object]] = []
    end: float | None = None
    last_t = 0.0
    for number, record in _records(path):
        if not isinstance(record, dict):
            raise SourceError(f"{os.fspath(path)}: line {number}: not a JSON object")
        if number == 1:
            if record.get("format") != FORMAT:
                raise SourceError(f"{os.fspath(path)}: line 1: not an outstream deltas header")
            if record.get("version") != VERSION:
                raise SourceError(
                    f"{os.fspath(path)}: line 1: format version {record.get('version')!r} "
                    f"is not one this outstream reads ({VERSION})"
                )
            continue
        where = f"{os.fspath(path)}: line {number}"
        last_t = _seconds(record.get("t"), last_t, where, '"t"')
        if "end" in record:
            end = last_t
            break
        script.append((last_t, _item(record, where)))
        if isinstance(script[-1][1], BaseException):
            end = last_t
            break
    return script, (end if end is not None else last_t)


# The latest time a recording may hold: some four months (later is no recording).
MAX_SECONDS = 1e7


def _seconds(t: object, last_t: float, where: str, name: str) -> float:
    """An event's time: a finite number of seconds, from `last_t` to `MAX_SECONDS`."""
    if isinstance(t, int | float) and not isinstance(t, bool):
        try:
            seconds = float(t)
        except OverflowError:
            seconds = math.inf
        if last_t <= seconds <= MAX_SECONDS:  # (false for NaN)
            return seconds
    raise SourceError(
        f"{where}: {name} must be a number of seconds from the last event's time "
        f"to {MAX_SECONDS:.0e}, not {_shown(t)}"
    )


def _shown(value: object) -> str:
    """A value of the file's, as an error message may quote it (short, one line)."""
    from ..core.escapes import terminal_line

    return terminal_line(repr(value), 40)


def _count(value: object, where: str, name: str) -> int | None:
    """A count of tokens: a whole number, or none."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise SourceError(
        f"{where}: usage's {name} must be a whole number of tokens, not {_shown(value)}"
    )


def _item(record: dict[str, Any], where: str) -> object:
    if isinstance(text := record.get("text"), str):
        return text
    if isinstance(text := record.get("reasoning"), str):
        return Reasoning(text=text)
    if isinstance(usage := record.get("usage"), dict):
        fields: dict[str, Any] = {
            k: _count(usage.get(k), where, k)
            for k in ("prompt_tokens", "completion_tokens", "total_tokens")
        }
        if usage.get("generation_seconds") is not None:
            fields["generation_seconds"] = _seconds(
                usage["generation_seconds"], 0.0, where, "usage's generation_seconds"
            )
        return Usage(**fields)
    if isinstance(kind := record.get("other"), str):
        return Other(kind=kind, value=record.get("value"))
    if "finish" in record:
        reason = record["finish"]
        return Finish(reason=reason if isinstance(reason, str) else None)
    if isinstance(message := record.get("error"), str):
        return SourceError(f"the recorded source failed: {message}")
    raise SourceError(
        f"{where}: an event needs one of text, reasoning, usage, other, finish, error, end"
    )


def read_cast(path: str | os.PathLike[str]) -> tuple[list[tuple[float, object]], float]:
    """An asciicast v2 file's output events as ``(t, text)`` pairs, and its last event's time."""
    script: list[tuple[float, object]] = []
    last_t = 0.0
    for number, record in _records(path):
        if number == 1:
            continue
        where = f"{os.fspath(path)}: line {number}"
        if not (isinstance(record, list) and len(record) == 3):
            raise SourceError(f"{where}: an asciicast event is [time, code, data]")
        t, code, data = record
        if not isinstance(code, str) or not isinstance(data, str):
            raise SourceError(f"{where}: an asciicast event is [time, code, data]")
        last_t = _seconds(t, last_t, where, "an event's time")
        if code == "o":
            script.append((last_t, data))
    return script, last_t


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A recording's first line, as a JSON object."""
    import json

    with open(path, encoding="utf-8", errors="replace") as file:
        line = file.readline()
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict):
        raise SourceError(
            f"{os.fspath(path)}: not a recording: line 1 is not a JSON object "
            "(expected a --save-deltas .jsonl or a --record .cast file)"
        )
    return header


def _records(path: str | os.PathLike[str]) -> Iterator[tuple[int, Any]]:
    """The file's JSON lines, numbered from 1; a last line cut short (no newline) is left out."""
    import json

    with open(path, encoding="utf-8", errors="replace") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                if not line.endswith("\n"):
                    return  # the line being written when the recording stopped
                raise SourceError(
                    f"{os.fspath(path)}: line {number}: not JSON ({exc.msg})"
                ) from None
            yield number, record


def retimed(
    script: list[tuple[float, object]],
    end: float,
    *,
    speed: float,
    max_idle: float | None,
    instant: bool,
) -> tuple[list[tuple[float, object]], float]:
    """The script played `speed` times faster, pauses capped at `max_idle` (or all at once)."""
    if instant:
        return [(0.0, item) for _, item in script], 0.0
    out: list[tuple[float, object]] = []
    previous = now = 0.0
    for t, item in [*script, (end, None)]:
        gap = t - previous
        if max_idle is not None:
            gap = min(gap, max_idle)
        previous = t
        now += gap / speed
        out.append((now, item))
    new_end = out.pop()[0]
    return out, new_end


# --- writing ---


class DeltaRecorder:
    """Writes what a source gives, with its arrival times, to a deltas file as it comes.

    Args:
        path: the file to write (replaced if it exists).
        t0: the stream's start on the driver's clock; ``t`` counts from it.
        started: the start as wall-clock ISO 8601 text.
        source: what the source is, in words (never a key or a header).
        model: the model, when known.

    A failure to write (a full disk) stops the recording, not the stream:
    `error` says what happened.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        t0: float,
        started: str,
        source: str,
        model: str | None = None,
    ) -> None:
        from ..core.utf8 import Utf8Decoder

        self._out = JsonLines(path)
        self._t0 = t0
        self._decoder = Utf8Decoder(errors="replace")
        self._last_t = 0.0
        header = {
            "format": FORMAT,
            "version": VERSION,
            "started": started,
            "source": source,
            "model": model,
        }
        self._out.write([header])

    def batch(self, batch: Batch) -> None:
        """Record what arrived; the lines are flushed before this returns."""
        if self._out.closed:
            return
        records: list[dict[str, Any]] = []
        offset = batch.offset
        for chunk, t in zip(batch.chunks, batch.times, strict=True):
            record = self._record(chunk)
            if record is not None:
                records.append({"t": self._t(t + offset), **record})
        if batch.end is not None:
            t = self._t(batch.end.t)
            if isinstance(batch.end, Failed):
                error = batch.end.error
                records.append({"t": t, "error": str(error), "type": type(error).__name__})
            else:
                records.append({"t": t, "end": True})
        self._out.write(records)

    def _record(self, chunk: object) -> dict[str, Any] | None:
        import json

        if isinstance(chunk, bytes | bytearray):
            chunk = self._decoder.feed(bytes(chunk))
        if isinstance(chunk, str):
            return {"text": chunk} if chunk else None
        if isinstance(chunk, Reasoning):
            return {"reasoning": chunk.text}
        if isinstance(chunk, Usage):
            return {"usage": {k: v for k, v in asdict(chunk).items() if v is not None}}
        if isinstance(chunk, Finish):
            return {"finish": chunk.reason}
        if isinstance(chunk, Other):
            record: dict[str, Any] = {"other": chunk.kind}
            try:
                json.dumps(chunk.value)
            except (TypeError, ValueError):
                return record  # a provider's object: its kind is kept
            record["value"] = chunk.value
            return record
        return None

    def _t(self, t: float) -> float:
        # Arrival times never go backwards in the file, whatever the sources' clocks did.
        self._last_t = max(self._last_t, round(t - self._t0, 6))
        return self._last_t

    @property
    def error(self) -> str | None:
        """Why the recording stopped early, if it did."""
        return self._out.error

    def close(self) -> None:
        """Write what a decoder still holds, sync the file to the disk and close it."""
        if not self._out.closed and (tail := self._decoder.flush()):
            self._out.write([{"t": self._last_t, "text": tail}])
        self._out.close()
