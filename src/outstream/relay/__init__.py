"""One answer, many readers: publish a stream to a log, follow it from anywhere.

    log = outstream.relay.RedisLog("redis://localhost:6379")   # or MemoryLog()
    id = outstream.relay.publish(llm.stream(prompt), log)      # in the worker
    for entry in outstream.relay.follow(log, id):              # anywhere else
        ...
    outstream.stream(outstream.relay.follow_text(log, id))     # shown, paced
    outstream.stream(outstream.relay.text_of(outstream.relay.follow_url(
        "http://127.0.0.1:8787/v1/streams/" + id)))            # through `outstream serve`

`publish` consumes any source `stream` takes and appends its events to the
log, at most one append per frame (60 a second), always ending with an
``end`` or ``error`` entry: completion lives in the log, not in a message
that can be lost. `follow` yields a stream's entries from its start (or
after an entry's id), then live ones as they come, until its last; a
finished stream can be followed again until it expires. `cancel` asks the
producer to stop, from any process. Each has an ``a…`` coroutine twin.
`follow_url` and `cancel_url` (module `http`) do the same through the
HTTP server of `outstream.web` (`outstream serve`), for readers that
cannot reach the log.

What a reader gets is a record, as a file gets the text: sanitizing is the
reader's (`stream` does it on the way to a terminal).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from functools import partial
from typing import Any

from ..clock import Clock
from ..errors import RelayError, SourceError, StreamExists, StreamNotFound, UsageError
from .log import (
    DEFAULT_LEASE,
    DEFAULT_MAXLEN,
    DEFAULT_TTL,
    FIRST_PATIENCE,
    PATIENCE,
    Entry,
    LeaseLost,
    MemoryLog,
    Snapshot,
    StreamLog,
    Unreachable,
    new_id,
    valid_id,
)

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_MAXLEN",
    "DEFAULT_TTL",
    "Entry",
    "LeaseLost",
    "MemoryLog",
    "RedisLog",
    "RelayError",
    "Snapshot",
    "StreamCancelled",
    "StreamExists",
    "StreamLog",
    "StreamNotFound",
    "Unreachable",
    "acancel",
    "acancel_url",
    "afollow",
    "afollow_batches",
    "afollow_url",
    "apublish",
    "cancel",
    "cancel_url",
    "follow",
    "follow_text",
    "follow_url",
    "new_id",
    "open_log",
    "publish",
    "text_of",
]

_FPS = 60.0


class StreamCancelled(RelayError):
    """The stream was cancelled (`cancel`) while it was being published."""


_OVER_HTTP = ("acancel_url", "afollow_url", "cancel_url", "follow_url")


def __getattr__(name: str) -> Any:
    if name == "RedisLog":  # imports nothing of redis-py until asked for
        from .redis_log import RedisLog

        return RedisLog
    if name in _OVER_HTTP:
        from . import http

        return getattr(http, name)
    raise AttributeError(f"module 'outstream.relay' has no attribute {name!r}")


def open_log(url: str | None, **options: Any) -> StreamLog:
    """The log at `url` (``redis://…``), or a `MemoryLog` for None."""
    if url is None:
        return MemoryLog(**options)
    from .redis_log import RedisLog

    return RedisLog(url, **options)


# --- publishing ---


async def apublish(
    source: Any,
    log: StreamLog,
    id: str | None = None,
    *,
    model: str | None = None,
    describe: str | None = None,
    clock: Clock | None = None,
    fps: float = _FPS,
    patience: float = PATIENCE,
    on_created: Callable[[str], object] | None = None,
) -> str:
    """Publish `source` to `log` as stream `id` (a new random one by default); return the id
    when the source has ended and its last entry is in the log.

    The source is read as fast as it produces; its events are appended at
    most `fps` times a second (text that came within a frame is one
    entry). The lease is renewed meanwhile, so readers know a producer is
    at work through a long pause. A connection to the log that drops is
    retried for `patience` seconds, nothing lost (an append retried is not
    written twice).

    Args:
        source: anything `outstream.stream` takes: text, chunks, a model's
            stream, a file.
        log: where to publish (`MemoryLog`, `RedisLog`).
        id: the stream's id (1 to 128 letters, digits, ``-``, ``_``, ``.``);
            pass `new_id()` to know it before publishing starts.
        model, describe: the stream's description, kept beside it.
        on_created: called with the id once the stream is in the log
            (readers can follow it from then on).

    Raises:
        StreamExists: a stream has this id already.
        StreamCancelled: a reader cancelled the stream; the source was
            closed and the stream ends with an ``error`` entry of type
            ``Cancelled``.
        Unreachable: the log could not be reached for `patience` seconds (at the
            first contact, for `FIRST_PATIENCE`: a wrong URL is said soon).
        LeaseLost: another producer took the id over.
        Whatever the source raised, after it was appended as an ``error`` entry.
    """
    import datetime

    from ..core.utf8 import Utf8Decoder
    from ..drive.inbox import open_async_inbox
    from ..recordings.deltas import record_of
    from ..sources.llm import normalized

    if clock is None:
        from ..clock import SystemClock

        clock = SystemClock()
    id = new_id() if id is None else id
    if not valid_id(id):
        raise UsageError(f"not a stream id: {id!r} (1 to 128 letters, digits, '-', '_', '.')")
    started = (
        datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(timespec="milliseconds")
    )
    meta = {"started": started, "source": describe or _describe(source), "model": model}
    owner = new_id()
    await _retrying(lambda: log.create(id, owner, meta), clock, FIRST_PATIENCE)
    if on_created is not None:
        on_created(id)
    t0 = clock.now()
    decoder = Utf8Decoder(errors="replace")
    pending: list[dict[str, Any]] = []
    seq = 0
    interval = 1.0 / fps
    renew_every = log.lease / 3
    last_append = last_renew = -math.inf
    last_t = 0.0

    async def put(
        records: list[dict[str, Any]], *, final: bool = False, patience: float = patience
    ) -> bool:
        nonlocal seq
        seq += 1
        batch, number = _coalesced(records), seq
        written = _retrying(
            lambda: log.append(id, owner, number, batch, final=final), clock, patience
        )
        return bool(await written)

    # An inbox given whole (a `tap.Tap`'s channel: a source shown and published) is
    # read as it is; any other source is opened as `stream` opens it.
    inbox = source if hasattr(source, "aget") else open_async_inbox(source, clock)
    ended = False
    try:
        while True:
            wake = (last_renew if last_renew > -math.inf else t0) + renew_every
            if pending:
                wake = min(wake, last_append + interval)
            batch = normalized(await inbox.aget(wake))
            for chunk, t in zip(batch.chunks, batch.times, strict=True):
                record = record_of(chunk, decoder)
                if record is not None:
                    last_t = max(last_t, round(t + batch.offset - t0, 6))
                    pending.append({"t": last_t, **record})
            if batch.end is not None:
                ended = True
                if tail := decoder.flush():
                    pending.append({"t": last_t, "text": tail})
                last_t = max(last_t, round(batch.end.t - t0, 6))
                error = getattr(batch.end, "error", None)
                if error is None:
                    pending.append({"t": last_t, "end": True})
                else:
                    pending.append({"t": last_t, **_error_record(error)})
                await put(pending, final=True)
                if error is not None:
                    raise error
                return id
            now = clock.now()
            going = True
            if pending and now >= last_append + interval:
                going = await put(pending)
                pending, last_append, last_renew = [], now, now
            elif now >= (last_renew if last_renew > -math.inf else t0) + renew_every:
                going = await _retrying(lambda: log.renew(id, owner), clock, patience)
                last_renew = now
            if not going:
                ended = True
                await _aclose(inbox)
                cancelled = {"t": last_t, "error": "the stream was cancelled", "type": "Cancelled"}
                await put([cancelled], final=True)
                raise StreamCancelled(f"stream {id} was cancelled")
    finally:
        if not ended:  # interrupted (Ctrl-C, the task cancelled), or the log failed
            await _aclose(inbox)
            interrupted = {"t": last_t, **_error_record(KeyboardInterrupt())}
            try:  # readers learn at once that the stream stopped, not a lease later
                await put([*pending, interrupted], final=True, patience=1.0)
            except RelayError:
                with contextlib.suppress(RelayError):
                    await log.release(id, owner)


def _error_record(error: BaseException) -> dict[str, str]:
    """A failure as an ``error`` entry's fields (an interruption in plain words)."""
    if isinstance(error, KeyboardInterrupt | asyncio.CancelledError):
        return {"error": "the producer was interrupted", "type": "Interrupted"}
    return {"error": str(error), "type": type(error).__name__}


def publish(source: Any, log: StreamLog, id: str | None = None, **options: Any) -> str:
    """`apublish`, for code without an event loop: blocks until the source has ended."""

    async def run() -> str:
        try:
            return await apublish(source, log, id, **options)
        finally:
            await log.aclose()

    return asyncio.run(run())


def _coalesced(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Text (and reasoning) that came within one frame as one entry, at its first time."""
    out: list[dict[str, Any]] = []
    for record in records:
        last = out[-1] if out else None
        for kind in ("text", "reasoning"):
            if last is not None and kind in record and kind in last and len(last) == 2:
                out[-1] = {"t": last["t"], kind: last[kind] + record[kind]}
                break
        else:
            out.append(record)
    return out


async def _aclose(inbox: Any) -> None:
    close = getattr(inbox, "aclose", None)
    if close is not None:
        await close()
    else:
        inbox.close()


async def _retrying(call: Any, clock: Clock, patience: float) -> Any:
    """Await `call()`, again while the log is unreachable, for up to `patience` seconds."""
    give_up = clock.now() + patience
    wait = 0.05
    while True:
        try:
            return await call()
        except Unreachable:
            if clock.now() + wait > give_up:
                raise
        await clock.asleep_until(clock.now() + wait)
        wait = min(wait * 2, 1.0)


def _describe(source: Any) -> str:
    from ..api import describe_source

    return describe_source(source)


# --- following ---


async def afollow(
    log: StreamLog,
    id: str,
    *,
    after: str | None = None,
    from_now: bool = False,
    clock: Clock | None = None,
    patience: float = PATIENCE,
) -> AsyncIterator[Entry]:
    """The entries of stream `id`: from its start, after entry `after`, or (`from_now`)
    those still to come; then live ones, until its ``end`` or ``error`` entry.

    The backlog and the live entries come from one log, read from the last
    id seen, so nothing falls between them, and a reader that reconnects
    after a dropped connection goes on where it was (for `patience`
    seconds of trying). Two entries stand in for what cannot be read:

    - ``resync`` (``{"resync": TEXT}``): entries were trimmed from under
      the reader (``after`` too old, or a reader that fell far behind);
      TEXT is the whole text so far, and the entries go on from there (on a
      stream that has ended, with its final entry, which shares its id).
    - an ``error`` entry of type ``ProducerGone``: nobody produces any more
      (the producer died: its lease ran out) and the stream has no end;
      it is the last.

    Raises:
        StreamNotFound: no stream has this id (never published, or expired).
        Unreachable: the log could not be reached for `patience` seconds (at the
            first contact, for `FIRST_PATIENCE`: a wrong URL is said soon).
    """
    batches = afollow_batches(
        log, id, after=after, from_now=from_now, clock=clock, patience=patience
    )
    try:
        async for batch in batches:
            for entry in batch:
                yield entry
    finally:
        await batches.aclose()  # type: ignore[attr-defined]


async def afollow_batches(
    log: StreamLog,
    id: str,
    *,
    after: str | None = None,
    from_now: bool = False,
    clock: Clock | None = None,
    patience: float = PATIENCE,
) -> AsyncIterator[list[Entry]]:
    """`afollow`'s entries in the lists the log gave them in: a reader that forwards them
    (the web app's event streams) makes one write of each list, not one of each entry."""
    if clock is None:
        from ..clock import SystemClock

        clock = SystemClock()
    block = min(1.0, log.lease / 2)
    cursor = after
    last_n: int | None = 0
    last: Entry | None = None  # the last entry given
    if from_now:
        snap = await _retrying(lambda: log.snapshot(id), clock, FIRST_PATIENCE)
        if snap.final:
            return
        cursor, last_n = snap.last_id, snap.last_n
    elif after is not None:
        last_n = await _retrying(lambda: log.number(id, after), clock, FIRST_PATIENCE)
    first = True  # unreachable from the start: say so soon
    while True:
        if last_n is None:  # the place asked for is gone: start again from the text so far
            snap = await _retrying(lambda: log.snapshot(id), clock, patience)
            yield [Entry(snap.last_id or "", snap.last_n, {"t": _t(last), "resync": snap.text})]
            cursor, last_n = snap.last_id, snap.last_n
            if snap.final:  # how it ended, after the text: the reader is told too
                if snap.last_record is not None:
                    yield [Entry(snap.last_id or "", snap.last_n, snap.last_record)]
                return
        try:  # (the way every entry goes: no more than a call)
            entries = await log.read(id, cursor, block=block)
        except Unreachable:
            again = partial(log.read, id, cursor, block=block)
            entries = await _retrying(again, clock, FIRST_PATIENCE if first else patience)
        first = False
        if not entries:
            snap = await _retrying(lambda: log.snapshot(id, text=False), clock, patience)
            if snap.final and snap.last_n == last_n:  # (followed after its last entry)
                return
            if not snap.producing and not snap.final and snap.last_n == last_n:
                gone = "the producer is gone (its lease ran out): the stream has no end"
                yield [
                    Entry(
                        cursor or "", last_n, {"t": _t(last), "error": gone, "type": "ProducerGone"}
                    )
                ]
                return
            continue
        batch = []
        for entry in entries:
            if entry.n != last_n + 1:
                last_n = None  # entries were trimmed from under us
                break
            batch.append(entry)
            cursor, last_n, last = entry.id, entry.n, entry
            if entry.final:
                yield batch
                return
        if batch:
            yield batch


def _t(entry: Entry | None) -> float:
    """The time of `entry` (0 for none): of an entry that stands for what came after it."""
    t = None if entry is None else entry.record.get("t")
    return float(t) if isinstance(t, int | float) else 0.0


def follow(log: StreamLog, id: str, **options: Any) -> Iterator[Entry]:
    """`afollow`, for code without an event loop (it runs one of its own)."""
    loop = asyncio.new_event_loop()
    entries = afollow(log, id, **options).__aiter__()
    try:
        while True:
            try:
                entry = loop.run_until_complete(entries.__anext__())
            except StopAsyncIteration:
                return
            yield entry
    finally:

        def close() -> None:
            try:
                loop.run_until_complete(entries.aclose())  # type: ignore[attr-defined]
                loop.run_until_complete(log.aclose())
            finally:
                loop.close()

        if _loop_running():  # (dropped unfinished, and collected where a loop runs)
            closing = threading.Thread(target=close, name="outstream-follow-close")
            closing.start()
            closing.join()
        else:
            close()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def follow_text(log: StreamLog, id: str, **options: Any) -> Iterator[object]:
    """A stream followed (`follow`), as a source for `outstream.stream`: its text and events
    (see `text_of`)."""
    return text_of(follow(log, id, **options), f"stream {id}")


def text_of(entries: Iterable[Entry], where: str = "the stream") -> Iterator[object]:
    """A stream's entries as a source for `outstream.stream`: its text and events, whoever
    read them (`follow`, or `http.follow_url` from `outstream serve`).

    A ``resync`` gives the text the reader had not had; an ``error`` entry
    becomes a `SourceError` (what came before it is shown); the ``end``
    entry ends it. `where` names the stream in an error about an entry.
    """
    from ..recordings.deltas import item_of

    seen = 0  # characters of text given
    entries = iter(entries)
    try:
        for entry in entries:
            kind = entry.kind
            if kind == "resync":
                text = entry.text[seen:]
                seen += len(text)
                if text:
                    yield text
            elif kind == "end":
                return
            elif kind == "error":
                raise SourceError(_error_message(entry.record))
            elif kind is not None:
                item = item_of(dict(entry.record), f"{where}, entry {entry.id}")
                if isinstance(item, str):
                    seen += len(item)
                yield item
    finally:
        # The reader ends here, not when the garbage collector finds it (`follow`
        # closes its connections and its event loop; a traceback kept by the
        # caller would keep it open, and the collector could come while some
        # other loop runs in this thread).
        close = getattr(entries, "close", None)
        if close is not None:
            close()


def _error_message(record: Mapping[str, Any]) -> str:
    message = str(record.get("error", ""))
    kind = record.get("type")
    if kind in ("Cancelled", "Interrupted", "ProducerGone"):
        return message
    return f"the producer's source failed: {kind}: {message}" if kind else message


# --- cancelling ---


async def acancel(log: StreamLog, id: str) -> bool:
    """Ask the producer of stream `id` to stop; whether one was producing.

    The producer stops at its next append or lease renewal (within a third
    of the lease), and the stream ends with an ``error`` entry of type
    ``Cancelled``. A reader that goes away never cancels: only this does.

    Raises:
        StreamNotFound: no stream has this id.
    """
    return await log.cancel(id)


def cancel(log: StreamLog, id: str) -> bool:
    """`acancel`, for code without an event loop."""

    async def run() -> bool:
        try:
            return await acancel(log, id)
        finally:
            await log.aclose()

    return asyncio.run(run())
