"""The stream log: what a backend keeps of a stream, and the in-memory backend.

A stream is a log of entries in the ``--save-deltas`` vocabulary (one JSON
object each: ``{"t": 0.52, "text": "Hello"}``, ``{"t": 2.3, "end": true}``),
each with an id the backend gives, in order. Beside the entries a backend
keeps, per stream:

- *the text so far* (all ``text`` entries joined), which answers a reader
  whose place was trimmed away (a ``resync``);
- *a lease*: an owner token with a short life, renewed while the producer
  produces, checked by every append — so a reader tells "still producing"
  from "producer gone", and a stale producer cannot write into a stream
  that is no longer its own;
- *a cancel flag*, which any process may set and the producer sees at its
  next append or renewal;
- *the stream's description* (when it started, its source and model).

Every entry carries its number ``n`` (1, 2, …): a reader that sees a number
skipped knows entries were trimmed under it, and resyncs. Appends carry the
producer's sequence number, so an append retried after a dropped
connection is not written twice.

`StreamLog` is the interface; `MemoryLog` keeps streams in this process
(one process: the library's default and the tests), `redis.RedisLog` in
Redis Streams (readers anywhere).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..clock import Clock, Signal
from ..errors import RelayError, StreamExists, StreamNotFound

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_MAXLEN",
    "DEFAULT_TTL",
    "FIRST_PATIENCE",
    "KINDS",
    "PATIENCE",
    "Entry",
    "LeaseLost",
    "MemoryLog",
    "Snapshot",
    "StreamLog",
    "Unreachable",
    "new_id",
    "valid_id",
]

# A producer's lease lives this long without renewal: a reader knows within
# it that the producer is gone.
DEFAULT_LEASE = 5.0
# A stream's keys expire this long after its last append.
DEFAULT_TTL = 24 * 3600.0
# About this many entries are kept per stream (Redis trims ``MAXLEN ~``):
# at 60 appends a second, a quarter of an hour.
DEFAULT_MAXLEN = 50_000

# How long a publisher or a follower keeps trying to reach the log's server
# (or a follower over HTTP, `outstream serve`) before it gives up with
# `Unreachable` (a Redis restart takes a second or two).
PATIENCE = 30.0
# How long the first contact is retried: a connection dropped under a pool
# comes back at once; a wrong URL or a server that is down is said soon.
FIRST_PATIENCE = 1.0

# The kinds of entry, as in a deltas file; `resync` only from a reader.
Kind = Literal["text", "reasoning", "usage", "other", "finish", "error", "end", "resync"]
KINDS: tuple[Kind, ...] = (
    "text",
    "reasoning",
    "usage",
    "other",
    "finish",
    "error",
    "end",
    "resync",
)


def new_id() -> str:
    """A new stream id: 128 random bits, as 32 hex digits."""
    return secrets.token_hex(16)


def valid_id(id: str) -> bool:
    """Whether `id` can name a stream: 1 to 128 letters, digits, ``-``, ``_`` or ``.``."""
    return 0 < len(id) <= 128 and all(c.isascii() and (c.isalnum() or c in "-_.") for c in id)


class Unreachable(RelayError):
    """The log's server cannot be reached (for now: followers and publishers retry)."""


class LeaseLost(RelayError):
    """The producer's lease is gone (it expired, or another producer holds the id)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a stream's log.

    Attributes:
        id: the backend's id of the entry (Redis: ``1733220000000-0``);
            follow from it with ``after=id``.
        n: its number in the stream, from 1.
        record: the entry, as a line of a deltas file
            (``{"t": 0.52, "text": "Hello"}``).
    """

    id: str
    n: int
    record: Mapping[str, Any] = field(hash=False)

    @property
    def kind(self) -> Kind | None:
        """``text``, ``reasoning``, ``usage``, ``other``, ``finish``, ``error``, ``end`` or
        ``resync``; None for a kind this version does not know."""
        return next((k for k in KINDS if k in self.record), None)

    @property
    def final(self) -> bool:
        """Whether the stream ends with this entry (``end`` or ``error``)."""
        return "end" in self.record or "error" in self.record

    @property
    def text(self) -> str:
        """The entry's text (a ``text`` or ``resync`` entry's), or ``""``."""
        value = self.record.get("text", self.record.get("resync", ""))
        return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A stream as it stands: the text so far and the last entry it includes."""

    text: str
    last_id: str | None
    last_n: int
    producing: bool  # a producer holds the lease
    final: bool  # the last entry ends the stream
    meta: Mapping[str, Any]
    last_record: Mapping[str, Any] | None = None  # the last entry's (its kind: how it ended)


class StreamLog(Protocol):
    """Where streams are kept: a backend (`MemoryLog`, `redis.RedisLog`).

    Every method is a coroutine. Ids of entries are opaque strings that
    only the backend compares.
    """

    lease: float  # seconds a producer's lease lives without renewal

    async def create(self, id: str, owner: str, meta: Mapping[str, Any]) -> None:
        """Start stream `id`, its lease held by `owner`.

        Raises:
            StreamExists: the id is taken.
        """
        ...

    async def append(
        self, id: str, owner: str, seq: int, records: Sequence[Mapping[str, Any]], *,
        final: bool = False,
    ) -> bool:  # fmt: skip
        """Append `records` as the producer's `seq`-th append, and renew the lease.

        An append whose `seq` was written already (retried after a dropped
        connection) writes nothing again. Returns False when the stream was
        cancelled: then nothing was written, unless `final` (the producer's
        last append, which ends the stream either way).

        Raises:
            LeaseLost: `owner` does not hold the lease.
        """
        ...

    async def renew(self, id: str, owner: str) -> bool:
        """Renew the lease; False when the stream was cancelled.

        Raises:
            LeaseLost: `owner` does not hold the lease.
        """
        ...

    async def release(self, id: str, owner: str) -> None:
        """Give up the lease (the producer is done)."""
        ...

    async def read(
        self, id: str, after: str | None, *, count: int = 1000, block: float | None = None
    ) -> list[Entry]:
        """Entries after `after` (None: from the first), at most `count`; when there are
        none, wait up to `block` seconds for one (None: do not wait).

        Raises:
            StreamNotFound: no stream has this id.
        """
        ...

    async def number(self, id: str, entry_id: str) -> int | None:
        """The number of entry `entry_id` of stream `id`; None if it is not (or no
        longer) in the log."""
        ...

    async def snapshot(self, id: str, *, text: bool = True) -> Snapshot:
        """The text so far and where it ends, read at once (``text=False``: where it
        ends and whether it is produced, its text left out: ``""``).

        Raises:
            StreamNotFound: no stream has this id.
        """
        ...

    async def cancel(self, id: str) -> bool:
        """Ask the producer to stop; whether one was producing.

        Raises:
            StreamNotFound: no stream has this id.
        """
        ...

    async def aclose(self) -> None:
        """Let go of connections."""
        ...


class _Stream:
    """One stream in a `MemoryLog`."""

    def __init__(self, meta: Mapping[str, Any]) -> None:
        self.entries: list[Entry] = []
        self.text: list[str] = []
        self.meta = dict(meta)
        self.owner: str | None = None
        self.lease_until = 0.0
        self.cancelled = False
        self.seq = 0
        self.first_kept = 0  # entries before it were trimmed
        self.expires = 0.0
        self.waiting: set[Signal] = set()


class MemoryLog:
    """Streams kept in this process's memory: the default log, for one process.

    Readers in other threads or tasks of the process follow as they would
    over Redis: the same entries, ids, lease, cancel, cap and expiry.

    Args:
        clock: the time of leases and expiry, and what readers wait on.
        lease, ttl, maxlen: see `DEFAULT_LEASE`, `DEFAULT_TTL`, `DEFAULT_MAXLEN`.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        lease: float = DEFAULT_LEASE,
        ttl: float = DEFAULT_TTL,
        maxlen: int = DEFAULT_MAXLEN,
    ) -> None:
        if clock is None:
            from ..clock import SystemClock

            clock = SystemClock()
        self.clock = clock
        self.lease = lease
        self.ttl = ttl
        self.maxlen = maxlen
        self._streams: dict[str, _Stream] = {}
        self._lock = threading.Lock()

    def _get(self, id: str) -> _Stream:
        stream = self._streams.get(id)
        if stream is None or stream.expires <= self.clock.now():
            self._streams.pop(id, None)
            raise StreamNotFound(f"no stream {id}: never published, or expired")
        return stream

    def _owned(self, id: str, owner: str) -> _Stream:
        stream = self._streams.get(id)
        if stream is None or stream.owner != owner or stream.lease_until <= self.clock.now():
            raise LeaseLost(f"the producer's lease on stream {id} is lost")
        return stream

    async def create(self, id: str, owner: str, meta: Mapping[str, Any]) -> None:
        with self._lock:
            now = self.clock.now()
            old = self._streams.get(id)
            if old is not None and old.expires > now:
                raise StreamExists(f"a stream {id} exists already: publish under another id")
            stream = _Stream(meta)
            stream.owner = owner
            stream.lease_until = now + self.lease
            stream.expires = now + self.ttl
            self._streams[id] = stream

    async def append(
        self, id: str, owner: str, seq: int, records: Sequence[Mapping[str, Any]], *,
        final: bool = False,
    ) -> bool:  # fmt: skip
        with self._lock:
            stream = self._owned(id, owner)
            if seq <= stream.seq:
                return not stream.cancelled
            if stream.cancelled and not final:
                return False
            now = self.clock.now()
            stream.seq = seq
            for record in records:
                n = len(stream.entries) + 1
                stream.entries.append(Entry(f"{n}-0", n, json.loads(json.dumps(record))))
                if isinstance(text := record.get("text"), str):
                    stream.text.append(text)
            if len(stream.entries) - stream.first_kept > self.maxlen:
                stream.first_kept = len(stream.entries) - self.maxlen
            stream.lease_until = now + self.lease
            stream.expires = now + self.ttl
            waiting, stream.waiting = stream.waiting, set()
        for signal in waiting:
            signal.set()
        return not stream.cancelled

    async def renew(self, id: str, owner: str) -> bool:
        with self._lock:
            stream = self._owned(id, owner)
            stream.lease_until = self.clock.now() + self.lease
            return not stream.cancelled

    async def release(self, id: str, owner: str) -> None:
        with self._lock:
            stream = self._streams.get(id)
            if stream is not None and stream.owner == owner:
                stream.owner = None
                stream.lease_until = 0.0

    async def read(
        self, id: str, after: str | None, *, count: int = 1000, block: float | None = None
    ) -> list[Entry]:
        start = 0 if after is None else _number(after)
        with self._lock:
            stream = self._get(id)
            entries = self._after(stream, start, count)
            if entries or not block:
                return entries
            signal = self.clock.signal()
            stream.waiting.add(signal)
        try:
            await signal.await_until(self.clock.now() + block)
        finally:
            with self._lock:
                stream.waiting.discard(signal)
        with self._lock:
            return self._after(self._get(id), start, count)

    async def number(self, id: str, entry_id: str) -> int | None:
        n = _number(entry_id)
        with self._lock:
            stream = self._get(id)
            return n if stream.first_kept < n <= len(stream.entries) else None

    @staticmethod
    def _after(stream: _Stream, start: int, count: int) -> list[Entry]:
        return stream.entries[max(start, stream.first_kept) :][:count]

    async def snapshot(self, id: str, *, text: bool = True) -> Snapshot:
        with self._lock:
            stream = self._get(id)
            last = stream.entries[-1] if stream.entries else None
            return Snapshot(
                text="".join(stream.text) if text else "",
                last_id=None if last is None else last.id,
                last_n=0 if last is None else last.n,
                producing=stream.owner is not None and stream.lease_until > self.clock.now(),
                final=last is not None and last.final,
                meta=dict(stream.meta),
                last_record=None if last is None else last.record,
            )

    async def cancel(self, id: str) -> bool:
        with self._lock:
            stream = self._get(id)
            stream.cancelled = True
            return stream.owner is not None and stream.lease_until > self.clock.now()

    async def aclose(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"MemoryLog({len(self._streams)} streams)"


def _number(entry_id: str) -> int:
    try:
        return int(entry_id.split("-", 1)[0])
    except ValueError:
        raise RelayError(f"not an entry id of this log: {entry_id!r}") from None
