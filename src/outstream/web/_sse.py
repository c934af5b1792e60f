"""The event-stream response: what comes is sent at once, a comment when nothing does,
and a reader that stops reading is let go.

Theory of operation. Two tasks per response, as in `_pyio` a raw layer under a
buffered one: the *pump* reads the body (the events, from the log) into a
buffer of at most `max_pending` bytes, and then waits for room; the *sender*
sends everything the buffer holds in one write, or a heartbeat comment when
it has held nothing for `heartbeat` seconds. When the buffer is empty and no
send is under way (a reader that keeps up), the pump sends what it read
itself: one task's step per reader and entry, not two. A reader that keeps up gets each
event as it comes; a server with more readers than time sends each of them
what came meanwhile at once (one write instead of one per event), so its
cost per reader grows with the writes it can do, not with the events.

A reader that stops reading (a laptop closed, a stuck proxy, a client that
never reads) fills the socket's buffers, then the server's (uvicorn's send
waits while its transport holds more than 64 KiB): the sender waits, the
pump stops at `max_pending`, and nothing more is read from the log for that
reader. Once a send has waited `stall_timeout` seconds the response gives
up: it stops reading the log and returns, and the server closes the
connection. Nothing is lost: a reader that comes back resumes after the last
event it got (``Last-Event-ID``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, Mapping
from typing import Any

from starlette.responses import Response

__all__ = ["MAX_PENDING", "Closing", "EventStreamResponse"]

# Bytes of events read for a reader and not yet sent: the pump waits beyond.
MAX_PENDING = 16 * 1024
_HEARTBEAT = b": still here\n\n"

_log = logging.getLogger("outstream.web")


class Closing:
    """Set once, when the server stops: every event stream waiting on it ends. (Not an
    `asyncio.Event`: the app may be made outside the loop that serves it.)"""

    def __init__(self) -> None:
        self.is_set = False
        self._waiters: set[asyncio.Future[None]] = set()

    def set(self) -> None:
        self.is_set = True
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self) -> None:
        if self.is_set:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await waiter
        finally:
            self._waiters.discard(waiter)


class EventStreamResponse(Response):
    """A ``text/event-stream`` response of `body`'s chunks (see the module's description).

    Args:
        body: the event stream's text, in chunks (``str`` or ``bytes``).
        headers: more headers.
        heartbeat: seconds of quiet before a comment is sent.
        stall_timeout: seconds a send may wait (the reader takes nothing) before the
            response gives up and the connection is closed.
        max_pending: bytes read from `body` and not yet sent beyond which it is not read.
        closing: set when the server stops: the response ends then, cleanly when it can
            (its reader resumes where it was, from another server or this one back).
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        body: AsyncIterable[str | bytes],
        *,
        headers: Mapping[str, str] | None = None,
        heartbeat: float,
        stall_timeout: float,
        max_pending: int = MAX_PENDING,
        closing: Closing | None = None,
    ) -> None:
        self.body_iterator = body
        self.status_code = 200
        self.background = None
        self.heartbeat = heartbeat
        self.stall_timeout = stall_timeout
        self.max_pending = max_pending
        self.closing = closing
        self.init_headers(headers)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        loop = asyncio.get_running_loop()
        pending: list[bytes] = []
        n_bytes = 0
        ended = failed = stalled = False
        ready = asyncio.Event()  # something to send, or the body ended
        room = asyncio.Event()  # the pump may read on
        room.set()
        sending = asyncio.Lock()
        started = False  # the response's start was sent
        complete = False  # and its end
        sending_since: float | None = None  # (loop.time()) a send under way since then
        last_sent = loop.time()

        async def put(data: bytes) -> None:
            nonlocal sending_since, last_sent
            async with sending:  # (one send at a time, in order)
                sending_since = loop.time()
                await send({"type": "http.response.body", "body": data, "more_body": True})
                sending_since = None
                last_sent = loop.time()

        async def pump() -> None:
            nonlocal n_bytes, ended, failed
            try:
                async for chunk in self.body_iterator:
                    data = chunk.encode() if isinstance(chunk, str) else chunk
                    if started and not pending and not sending.locked():
                        # Nothing waits, nobody sends: sent from here, a task's step saved
                        # for each reader of each entry.
                        await put(data)
                        continue
                    pending.append(data)
                    n_bytes += len(data)
                    ready.set()
                    if n_bytes >= self.max_pending:
                        room.clear()
                        await room.wait()
            except Exception:
                failed = True  # (not an end: the response is left incomplete)
                raise
            finally:
                ended = True
                ready.set()
                aclose = getattr(self.body_iterator, "aclose", None)
                if aclose is not None:  # (stopped while it waited for room)
                    await aclose()

        async def sender() -> None:
            nonlocal n_bytes, started, complete
            async with sending:
                await send(
                    {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
                )
            started = True
            while True:
                if not pending and not ended:
                    ready.clear()
                    await ready.wait()
                if failed:
                    return
                if not pending:  # the body ended
                    async with sending:
                        await send({"type": "http.response.body", "body": b"", "more_body": False})
                    complete = True
                    return
                data = b"".join(pending)
                pending.clear()
                n_bytes = 0
                room.set()
                await put(data)

        # One timer per response, not one per send: it looks every quarter of the
        # shorter delay (so a heartbeat comes after 1 to 1.25 heartbeats of quiet).
        period = min(self.heartbeat, self.stall_timeout) / 4
        timer: asyncio.TimerHandle | None = None

        def watch() -> None:
            nonlocal stalled, timer
            now = loop.time()
            if sending_since is not None:
                if now - sending_since >= self.stall_timeout:
                    stalled = True
                    tasks[0].cancel()
                    return
            elif not pending and now - last_sent >= self.heartbeat:
                pending.append(_HEARTBEAT)
                ready.set()
            timer = loop.call_later(period, watch)

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        async def stopping() -> None:
            if self.closing is not None:
                await self.closing.wait()
            else:
                await loop.create_future()  # (never)

        tasks = [asyncio.ensure_future(job()) for job in (sender, disconnected, stopping, pump)]
        timer = loop.call_later(period, watch)
        try:
            # The sender ends the response; the client leaving ends it too, and so does
            # the server stopping; the pump ending does not (what it read is still to be
            # sent).
            await asyncio.wait(tasks[:3], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stuck = sending_since is not None  # (a send waits: no more can go)
            if timer is not None:
                timer.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.closing is not None and self.closing.is_set and started and not (complete or stuck):
            # The server stops: the response ends as a response does (the reader, told
            # nothing of an end, resumes after the last event it got).
            with contextlib.suppress(OSError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        if stalled:
            client = scope.get("client")
            _log.warning(
                "outstream: a reader%s took nothing for %g s: let go (it resumes where it "
                "was when it comes back)",
                f" at {client[0]}:{client[1]}" if client else "",
                self.stall_timeout,
            )
            return  # (the server closes the connection: the response is not complete)
        for task in tasks:  # a failure (the body's, the server's) is the server's to report
            if not task.cancelled() and (exc := task.exception()) is not None:
                raise exc
