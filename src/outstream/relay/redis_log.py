"""The stream log in Redis Streams (or Valkey): readers in any process, on any machine.

Theory of operation. A stream ``ID`` has five keys, all with the hash tag
``{ID}`` so that Redis Cluster keeps them on one node (the scripts below
touch several at once):

- ``outstream:{ID}:log`` — a Redis stream, one entry per event, fields
  ``n`` (its number, from 1) and ``e`` (the event as one JSON object, the
  ``--save-deltas`` vocabulary), trimmed with ``MAXLEN ~``;
- ``outstream:{ID}:text`` — the text so far (``APPEND``), for a reader
  whose place was trimmed away;
- ``outstream:{ID}:meta`` — a hash: the stream's description, the
  producer's last append (``seq``) and the entries' count (``n``); it marks
  that the stream exists;
- ``outstream:{ID}:lease`` — the producer's owner token, with a short TTL
  (``PX``) renewed by every append and between appends;
- ``outstream:{ID}:cancel`` — set by `cancel`, seen by the producer.

Each append is one Lua script (one round trip, atomic): check the lease's
token and the cancel flag, skip an append already written (a retry after a
dropped connection), ``XADD`` the entries, ``APPEND`` their text, renew
the lease and every key's TTL. Readers read the log with ``XREAD BLOCK``
from the last id they have: one log, so nothing falls between replay and
live. The readers of a stream in one process (one event loop) share one
such read, its `_Tail`, which keeps the last entries in memory: a thousand
followers in a web server cost Redis one blocked client and parse each
entry once. A reader behind what the tail keeps reads with ``XRANGE``.

redis-py's asyncio client is made per event loop (its connections belong
to the loop that opened them), so one `RedisLog` serves the sync wrappers
and any loop. Connection failures become `Unreachable`, which publishers
and followers retry.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import sys
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

from ..errors import RelayError, StreamExists, StreamNotFound
from .log import (
    DEFAULT_LEASE,
    DEFAULT_MAXLEN,
    DEFAULT_TTL,
    Entry,
    LeaseLost,
    Snapshot,
    Unreachable,
)

__all__ = ["RedisLog", "shown_url"]


_CREATE = """
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[5])
redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[2])
redis.call('HSET', KEYS[3], 'meta', ARGV[4], 'seq', 0, 'n', 0)
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1
"""

# KEYS: log, text, meta, lease, cancel
# ARGV: owner, seq, final, lease ms, ttl s, maxlen, then (event JSON, its text) pairs
# Returns {lost, cancelled}.
_APPEND = """
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return {1, 0} end
local cancelled = redis.call('EXISTS', KEYS[5])
if tonumber(ARGV[2]) <= tonumber(redis.call('HGET', KEYS[3], 'seq') or '0') then
  return {0, cancelled}
end
if cancelled == 1 and ARGV[3] ~= '1' then return {0, 1} end
local n = tonumber(redis.call('HGET', KEYS[3], 'n') or '0')
for i = 7, #ARGV, 2 do
  n = n + 1
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[6], '*', 'n', n, 'e', ARGV[i])
  if ARGV[i + 1] ~= '' then redis.call('APPEND', KEYS[2], ARGV[i + 1]) end
end
redis.call('HSET', KEYS[3], 'seq', ARGV[2], 'n', n)
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('EXPIRE', KEYS[3], ARGV[5])
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[4])
else
  redis.call('PEXPIRE', KEYS[4], ARGV[4])
end
return {0, cancelled}
"""

# KEYS: lease, cancel; ARGV: owner, lease ms. Returns -1 (lost) or whether cancelled.
_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('EXISTS', KEYS[2])
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""

# KEYS: log, text, meta, lease. Returns false (no stream) or {text, last entry, meta, producing}.
_SNAPSHOT = """
if redis.call('EXISTS', KEYS[3]) == 0 then return false end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
return {redis.call('GET', KEYS[2]) or '', last, redis.call('HGET', KEYS[3], 'meta') or '{}',
        redis.call('EXISTS', KEYS[4])}
"""

# KEYS: meta, lease, cancel; ARGV: ttl s. Returns -1 (no stream) or whether it was producing.
_CANCEL = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('SET', KEYS[3], '1', 'EX', ARGV[1])
return redis.call('EXISTS', KEYS[2])
"""


_MAX_CONNECTIONS = 2**31  # as good as none (redis-py's default before its cap of 100)


def shown_url(url: str) -> str:
    """`url` without its user, password, query and fragment, to be shown."""
    from ..sources.openai_http import safe_url

    return safe_url(url)


class RedisLog:
    """Streams kept in Redis Streams: any process that reaches the server follows them.

    Args:
        url: ``redis://[:password@]host:port/db``, ``rediss://`` for TLS,
            ``unix:///path.sock``. Never shown with its password.
        prefix: the keys' first part (``outstream:{ID}:log``).
        lease, ttl, maxlen: see `log.DEFAULT_LEASE`, `log.DEFAULT_TTL`,
            `log.DEFAULT_MAXLEN`.

    Raises:
        UsageError: redis-py is not installed (``pip install "outstream[redis]"``),
            or `url` is not a Redis URL.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "outstream",
        lease: float = DEFAULT_LEASE,
        ttl: float = DEFAULT_TTL,
        maxlen: int = DEFAULT_MAXLEN,
    ) -> None:
        from ..errors import UsageError

        try:
            import redis.asyncio  # noqa: F401
        except ImportError:
            raise UsageError(
                'the Redis log needs redis-py: pip install "outstream[redis]"'
            ) from None
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise UsageError(
                f"not a Redis URL: {shown_url(url)!r} (redis://HOST:PORT, rediss://…, unix://PATH)"
            )
        self.url = url
        self.prefix = prefix
        self.lease = lease
        self.ttl = ttl
        self.maxlen = maxlen
        self._clients: dict[asyncio.AbstractEventLoop, Any] = {}
        # The live end of each stream followed in a loop: one XREAD BLOCK for all.
        self._tails: dict[tuple[asyncio.AbstractEventLoop, str], _Tail] = {}

    def __repr__(self) -> str:
        return f"RedisLog({shown_url(self.url)!r})"

    # --- connections ---

    def _client(self) -> Any:
        import redis.asyncio

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            for old in [old for old in self._clients if old.is_closed()]:
                del self._clients[old]
            # Every follower waiting in XREAD BLOCK holds a connection of its own;
            # redis-py (8.1) caps a pool at 100 by default and refuses the next
            # with MaxConnectionsError, a ConnectionError, which would read as
            # Unreachable. The URL's ?max_connections= still sets a cap.
            client = redis.asyncio.Redis.from_url(
                self.url, decode_responses=True, max_connections=_MAX_CONNECTIONS
            )
            self._clients[loop] = client
        return client

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        import redis.exceptions

        task = asyncio.current_task()
        cancels = _cancel_requests(task)
        try:
            answer = await _cancellable(getattr(self._client(), method)(*args, **kwargs))
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            _honour_cancel(task, cancels)
            raise Unreachable(f"cannot reach Redis at {shown_url(self.url)}: {_why(exc)}") from None
        except redis.exceptions.ResponseError as exc:
            raise RelayError(f"Redis at {shown_url(self.url)} refused: {exc}") from None
        _honour_cancel(task, cancels)
        return answer

    async def _script(self, script: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        return await self._call("eval", script, len(keys), *keys, *args)

    def _keys(self, id: str, *names: str) -> list[str]:
        return [f"{self.prefix}:{{{id}}}:{name}" for name in names]

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        for key in [key for key in self._tails if key[0] is loop]:
            await self._tails.pop(key).stop()
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.aclose()

    async def ping(self) -> None:
        """Check that the server answers.

        Raises:
            Unreachable: it does not.
        """
        await self._call("ping")

    # --- the producer ---

    async def create(self, id: str, owner: str, meta: Mapping[str, Any]) -> None:
        keys = self._keys(id, "log", "text", "meta", "lease", "cancel")
        made = await self._script(
            _CREATE, keys, [owner, _ms(self.lease), _s(self.ttl), json.dumps(dict(meta))]
        )
        if not made:
            raise StreamExists(f"a stream {id} exists already: publish under another id")

    async def append(
        self, id: str, owner: str, seq: int, records: Sequence[Mapping[str, Any]], *,
        final: bool = False,
    ) -> bool:  # fmt: skip
        from ..recordings._jsonl import json_line

        args: list[Any] = [
            owner, seq, 1 if final else 0, _ms(self.lease), _s(self.ttl), self.maxlen,
        ]  # fmt: skip
        for record in records:
            text = record.get("text")
            args += [json_line(record), text if isinstance(text, str) else ""]
        lost, cancelled = await self._script(
            _APPEND, self._keys(id, "log", "text", "meta", "lease", "cancel"), args
        )
        if lost:
            raise LeaseLost(f"the producer's lease on stream {id} is lost")
        return not cancelled

    async def renew(self, id: str, owner: str) -> bool:
        answer = await self._script(
            _RENEW, self._keys(id, "lease", "cancel"), [owner, _ms(self.lease)]
        )
        if answer == -1:
            raise LeaseLost(f"the producer's lease on stream {id} is lost")
        return not answer

    async def release(self, id: str, owner: str) -> None:
        await self._script(_RELEASE, self._keys(id, "lease"), [owner])

    # --- readers ---

    async def number(self, id: str, entry_id: str) -> int | None:
        key = self._keys(id, "log")[0]
        raw = await self._call("xrange", key, entry_id, entry_id, 1)
        return _entry(*raw[0]).n if raw else None

    async def read(
        self, id: str, after: str | None, *, count: int = 1000, block: float | None = None
    ) -> list[Entry]:
        """(See `StreamLog.read`.) A reader that waits (`block`) reads the stream's
        `_Tail` in this event loop, with every other reader there: a thousand
        followers in one process cost Redis one ``XREAD BLOCK``, not a thousand."""
        loop = asyncio.get_running_loop()
        if block:
            tail = self._tails.get((loop, id))
            if tail is None:
                tail = self._tails[loop, id] = _Tail(
                    self, id, *self._keys(id, "log", "meta", "lease")
                )
            entries = await tail.read(after, count, block)
            if entries is not None:
                return entries
        key = self._keys(id, "log")[0]
        raw = await self._call("xrange", key, "-" if after is None else f"({after}", "+", count)
        if not raw and not await self._call("exists", self._keys(id, "meta")[0]):
            raise StreamNotFound(f"no stream {id}: never published, or expired")
        return [_entry(entry_id, fields) for entry_id, fields in raw]

    def _tail_ended(self, tail: _Tail) -> None:
        for key, value in list(self._tails.items()):
            if value is tail:
                del self._tails[key]

    async def snapshot(self, id: str, *, text: bool = True) -> Snapshot:
        tail = self._tails.get((asyncio.get_running_loop(), id))
        if not text and tail is not None and not tail.done:
            return tail.status()  # (what a thousand followers ask each second: from memory)
        answer = await self._script(_SNAPSHOT, self._keys(id, "log", "text", "meta", "lease"), [])
        if not answer:
            raise StreamNotFound(f"no stream {id}: never published, or expired")
        so_far, last, meta, producing = answer
        # (A script's answer is not parsed as XRANGE's is: the fields come as a flat list.)
        entry = (
            _entry(last[0][0], dict(zip(*[iter(last[0][1])] * 2, strict=True))) if last else None
        )
        return Snapshot(
            text=so_far if text else "",
            last_id=None if entry is None else entry.id,
            last_n=0 if entry is None else entry.n,
            producing=bool(producing),
            final=entry is not None and entry.final,
            meta=json.loads(meta),
            last_record=None if entry is None else entry.record,
        )

    async def cancel(self, id: str) -> bool:
        answer = await self._script(
            _CANCEL, self._keys(id, "meta", "lease", "cancel"), [_s(self.ttl)]
        )
        if answer == -1:
            raise StreamNotFound(f"no stream {id}: never published, or expired")
        return bool(answer)


# redis-py (8.1) can swallow a cancellation that comes while it (re)connects:
# the command goes on and returns (XREAD: ``[]``), and a cancelled follower
# would go on following until its stream ends. From 3.11 a task counts the
# cancel requests it was sent (Task.cancelling), and `_honour_cancel` looks at
# the count after the call; 3.10's tasks keep no count, so there the call runs
# in a task of its own that the caller awaits through a shield: a cancel then
# reaches the caller whatever the call does with it. (redis-py on 3.10 takes
# its timeouts from async_timeout, not asyncio's, and was not seen to swallow
# one, but nothing promises it.)
if sys.version_info >= (3, 11):

    def _cancel_requests(task: asyncio.Task[Any] | None) -> int:
        return 0 if task is None else task.cancelling()

    def _honour_cancel(task: asyncio.Task[Any] | None, cancels: int) -> None:
        """Raise CancelledError if `task` was cancelled since it had `cancels` requests."""
        if task is not None and task.cancelling() > cancels:
            raise asyncio.CancelledError

    def _cancellable(call: Awaitable[Any]) -> Awaitable[Any]:
        return call

else:

    def _cancel_requests(task: asyncio.Task[Any] | None) -> int:
        return 0

    def _honour_cancel(task: asyncio.Task[Any] | None, cancels: int) -> None:
        pass

    async def _cancellable(call: Awaitable[Any]) -> Any:
        inner = asyncio.ensure_future(call)
        try:
            return await asyncio.shield(inner)
        except asyncio.CancelledError:
            inner.cancel()
            await asyncio.wait([inner])
            if not inner.cancelled():
                inner.exception()  # retrieved: the caller is cancelled, the outcome is moot
            raise


class _Tail:
    """A stream as read once by a process (per event loop), for all its followers there.

    One task reads the stream from its start with ``XREAD BLOCK`` (a
    thousand entries at a time, then each new one as it comes), keeps the
    last `KEEP` entries, and wakes the readers waiting for them, who take
    them from memory: with a thousand followers of a stream in a process,
    Redis serves one reader, each entry is parsed once, and a follower
    costs a list slice per entry. It stops reading after the stream's last
    entry, and goes away once no reader has asked it anything for `IDLE`
    seconds, or when Redis fails (its readers then get the `Unreachable`
    and retry, and a new tail serves them).
    """

    KEEP = 10_000
    IDLE = 5.0

    def __init__(self, log: RedisLog, id: str, key: str, meta: str, lease: str) -> None:
        loop = asyncio.get_running_loop()
        self._log = log
        self._id = id
        self._key = key
        self._meta = meta
        self._lease = lease
        self.producing = True  # the lease is held (asked again each second without entries)
        self._base = (0, 0)  # it holds every entry after this id, in order
        self.last = "0-0"  # the id of the last entry read
        self.entries: list[Entry] = []
        self._keys: list[tuple[int, int]] = []  # the entries' ids, as numbers
        self._waiting: list[asyncio.Future[None]] = []  # readers waiting for an entry
        self._error: BaseException | None = None
        self.final = False  # it has read the stream's last entry
        self.done = False  # it is gone: ask Redis (or a new tail)
        self.meta: dict[str, Any] = {}
        self._used = loop.time()
        self._task = loop.create_task(self._run(), name=f"outstream-tail-{id}")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            meta = await self._log._call("hget", self._meta, "meta")
            if meta is None:
                raise StreamNotFound(f"no stream {self._id}: never published, or expired")
            self.meta = json.loads(meta)  # (what `status` says of the stream, as Redis would)
            while not self.final and loop.time() - self._used < self.IDLE:
                answer = await self._log._call(
                    "xread", {self._key: self.last}, count=1000, block=1000
                )
                raw = answer[0][1] if answer else []
                if raw:
                    entries = [_entry(entry_id, fields) for entry_id, fields in raw]
                    self.entries += entries
                    self._keys += [_id_key(entry.id) for entry in entries]
                    self.last = entries[-1].id
                    self.final = entries[-1].final
                    if len(self.entries) > self.KEEP:
                        cut = len(self.entries) - self.KEEP
                        self._base = self._keys[cut - 1]
                        del self.entries[:cut], self._keys[:cut]
                else:
                    self.producing = bool(await self._log._call("exists", self._lease))
                self._wake()  # (every second at least: a waiting reader looks at its clock)
            while loop.time() - self._used < self.IDLE:  # finished: it serves late readers
                await asyncio.sleep(self.IDLE)
        except BaseException as exc:
            self._error = exc
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self.done = True
            self._log._tail_ended(self)
            self._wake()

    def _wake(self) -> None:
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            if not waiter.done():  # (a reader cancelled meanwhile)
                waiter.set_result(None)

    async def read(self, after: str | None, count: int, block: float) -> list[Entry] | None:
        """The entries after `after`, waiting up to about `block` seconds for one (the
        tail wakes its readers every second); None when `after` is older than what
        it holds, or it is gone: then Redis answers."""
        loop = asyncio.get_running_loop()
        self._used = now = loop.time()
        deadline = now + block
        while True:
            if self._error is not None and not isinstance(self._error, asyncio.CancelledError):
                raise self._error
            if self.done:
                return None
            if after != self.last:  # (a reader that is up to date just waits: most of them)
                start = self._start_after(after)
                if start is None:
                    return None  # (it holds every entry after its base, and no other)
                if start < len(self.entries):
                    return self.entries[start : start + count]
            if self.final or now >= deadline:
                return []
            waiter = loop.create_future()  # one each: a cancelled reader cancels its own only
            self._waiting.append(waiter)
            await waiter
            self._used = now = loop.time()

    def _start_after(self, after: str | None) -> int | None:
        """Where the entries after `after` begin in `entries`; None if it holds not all."""
        entries = self.entries
        if len(entries) > 1 and after == entries[-2].id:  # one entry behind: the usual case
            return len(entries) - 1
        at = _id_key(after or "0-0")
        if at < self._base:
            return None
        return bisect.bisect_right(self._keys, at)

    def status(self) -> Snapshot:
        """Where the stream ends and whether it is produced, as this tail last read it."""
        last = self.entries[-1] if self.entries else None
        return Snapshot(
            text="",
            last_id=None if last is None else last.id,
            last_n=0 if last is None else last.n,
            producing=self.producing,
            final=self.final,
            meta=self.meta,
            last_record=None if last is None else last.record,
        )

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def _id_key(entry_id: str) -> tuple[int, int]:
    """A stream entry's id (``1733220000000-5``) as numbers, to compare."""
    ms, _, seq = entry_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        raise RelayError(f"not an entry id of this log: {entry_id!r}") from None


def _entry(entry_id: str, fields: Mapping[str, str]) -> Entry:
    try:
        record = json.loads(fields["e"])
        n = int(fields["n"])
    except (KeyError, ValueError):
        raise RelayError(f"entry {entry_id} is not one outstream wrote") from None
    if not isinstance(record, dict):
        raise RelayError(f"entry {entry_id} is not one outstream wrote")
    return Entry(entry_id, n, record)


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _s(seconds: float) -> int:
    return max(1, round(seconds))


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.rstrip(".")
