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
                                                 a report of token counts, as the provider
                                                 made it (``"adds": true``: counts to add to
                                                 those before, as LangChain's chunks give)
    {"t": 1.100, "other": "tool_call"}           something else the source said
    {"t": 2.300, "finish": "stop"}               the protocol's end marker
    {"t": 1.800, "error": "the connection dropped", "type": "SourceError"}
    {"t": 2.302, "end": true}                    the source ended

Each line is written and flushed as its delta arrives, so a crash loses at
most the line being written; a file cut short that way plays up to its last
complete line. `outstream.replay` plays one back (`sources.replay`).
"""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from ..errors import SourceError
from ..events import Batch, Failed, Finish, Other, Reasoning, Usage
from ._jsonl import JsonLines, records, seconds, shown

if TYPE_CHECKING:
    from ..core.utf8 import Utf8Decoder

__all__ = ["FORMAT", "VERSION", "DeltaRecorder", "item_of", "read_deltas", "record_of"]

FORMAT = "outstream-deltas"
VERSION = 1


def read_deltas(path: str | os.PathLike[str]) -> tuple[list[tuple[float, object]], float]:
    """A deltas file as ``(t, item)`` pairs and the time it ends (its last line's, if cut short)."""
    script: list[tuple[float, object]] = []
    end: float | None = None
    last_t = 0.0
    for number, record in records(path):
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
        last_t = seconds(record.get("t"), last_t, where, '"t"')
        if "end" in record:
            end = last_t
            break
        script.append((last_t, item_of(record, where)))
        if isinstance(script[-1][1], BaseException):
            end = last_t
            break
    return script, (end if end is not None else last_t)


def _count(value: object, where: str, name: str) -> int | None:
    """A count of tokens: a whole number, or none."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise SourceError(
        f"{where}: usage's {name} must be a whole number of tokens, not {shown(value)}"
    )


def item_of(record: dict[str, Any], where: str) -> object:
    """What a line (or a stream log's entry) stands for: text, a side event, or the
    `SourceError` an ``error`` line reports.

    Raises:
        SourceError: the record is none of the kinds (`where` says where it was).
    """
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
            fields["generation_seconds"] = seconds(
                usage["generation_seconds"], 0.0, where, "usage's generation_seconds"
            )
        if usage.get("adds") is True:  # a LangChain chunk's own counts, added to those before
            fields["adds"] = True
        return Usage(**fields)
    if isinstance(kind := record.get("other"), str):
        return Other(kind=kind, value=record.get("value"))
    if "finish" in record:
        reason = record["finish"]
        return Finish(reason=reason if isinstance(reason, str) else None)
    if isinstance(message := record.get("error"), str):
        return SourceError(f"the recorded source failed: {message}")
    for kind, wanted in (("text", "a string"), ("reasoning", "a string"), ("usage", "an object"),
                         ("other", "a string"), ("error", "a string")):  # fmt: skip
        if kind in record:
            raise SourceError(f"{where}: {kind!r} must be {wanted}, not {shown(record[kind])}")
    raise SourceError(
        f"{where}: an event needs one of text, reasoning, usage, other, finish, error, end"
    )


def record_of(chunk: object, decoder: Utf8Decoder) -> dict[str, Any] | None:
    """A delta as a line's record, without its time (None: nothing to record).

    Bytes are decoded by `decoder` (which holds a character split between
    chunks); a provider's object in `Other` keeps its kind only.
    """
    import json

    if isinstance(chunk, bytes | bytearray):
        chunk = decoder.feed(bytes(chunk))
    if isinstance(chunk, str):
        return {"text": chunk} if chunk else None
    if isinstance(chunk, Reasoning):
        return {"reasoning": chunk.text}
    if isinstance(chunk, Usage):
        return {
            "usage": {k: v for k, v in asdict(chunk).items() if v is not None and v is not False}
        }
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
        return record_of(chunk, self._decoder)

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
