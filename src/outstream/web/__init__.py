"""The stream log on the web: Server-Sent Events with resume, a stream's status, its text,
and cancel — an ASGI app (Starlette) any number of servers can run on one Redis.

    app = outstream.web.app(outstream.relay.RedisLog("redis://localhost:6379"))
    # uvicorn module:app

Routes:

- ``GET /v1/streams/{id}/events``: the stream as Server-Sent Events. ``id:``
  is the log's entry id, ``event:`` the entry's kind, ``data:`` the entry
  as one JSON object, as a line of a ``--save-deltas`` file
  (``{"t": 0.52, "text": "Hello"}``). ``retry:`` comes first; a comment
  every `heartbeat` seconds keeps proxies from closing a quiet stream; it
  ends with the ``end`` (or ``error``) event. ``Last-Event-ID`` (which the
  browser's ``EventSource`` sends when it reconnects) or ``?after=`` resumes
  after that entry: nothing missed, nothing twice. A place trimmed away is
  a ``resync`` event with the text so far. Never compressed, never cached,
  never buffered by nginx (``X-Accel-Buffering: no``).
- ``GET /v1/streams/{id}``: its status (``producing``, ``done``,
  ``failed``, ``cancelled``, ``producer gone``), entries, model, start.
- ``GET /v1/streams/{id}/text``: the text so far, as ``text/plain``.
- ``POST /v1/streams/{id}/cancel``: stop its producer (closing a reader
  never does).

An unknown id is a 404 with a JSON body. What the app serves is the log's
record, as received: the page that shows it sanitizes, as `stream` does on
a terminal.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from ..errors import RelayError, StreamNotFound
from ..recordings._jsonl import json_line
from ..relay import Entry, StreamLog, acancel, afollow
from ..relay.log import valid_id

__all__ = ["app", "sse_event", "status_of"]

HEARTBEAT = 15.0
RETRY = 3.0
# An event stream lets a reader go once it has taken nothing for this long (seconds)
# while events wait for it.
STALL_TIMEOUT = 10.0
_SSE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",  # nginx: pass each event on as it comes
    "Content-Encoding": "identity",  # (a GZip middleware in front leaves it alone)
}


def app(
    log: StreamLog,
    *,
    heartbeat: float = HEARTBEAT,
    retry: float = RETRY,
    stall_timeout: float = STALL_TIMEOUT,
) -> Any:
    """The ASGI app serving `log` (see the module's description).

    Args:
        log: the stream log (a `RedisLog` for servers in several processes).
        heartbeat: seconds between comments on a quiet event stream.
        retry: the reconnection delay browsers are told (``retry:``).
        stall_timeout: seconds an event stream waits for a reader that takes nothing
            before it lets it go (the connection is closed; it resumes when it is back).

    Raises:
        UsageError: Starlette is not installed (``pip install "outstream[web]"``).
    """
    from ..errors import UsageError

    try:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse, PlainTextResponse, Response
        from starlette.routing import Route

        from ._sse import EventStreamResponse
    except ImportError:
        raise UsageError('the web app needs Starlette: pip install "outstream[web]"') from None

    def per_stream(handler: Callable[[str, Request], Awaitable[Response]]) -> Any:
        """A route of one stream: its id checked, and an unknown one a 404 with a JSON body."""

        async def route(request: Request) -> Response:
            id = request.path_params["id"]
            try:
                if valid_id(id):
                    return await handler(id, request)
            except StreamNotFound:
                pass
            return JSONResponse(
                {"error": "not found", "message": f"no stream {id}: never published, or expired"},
                status_code=404,
            )

        return route

    @per_stream
    async def events(id: str, request: Request) -> Response:
        after = request.headers.get("last-event-id") or request.query_params.get("after") or None
        await log.snapshot(id, text=False)  # (it exists: else a 404, not an empty stream)
        body = _event_stream(log, id, after, retry=retry)
        return EventStreamResponse(
            body, headers=_SSE_HEADERS, heartbeat=heartbeat, stall_timeout=stall_timeout
        )

    @per_stream
    async def status(id: str, request: Request) -> Response:
        return JSONResponse(await status_of(log, id), headers=_NO_STORE)

    @per_stream
    async def text(id: str, request: Request) -> Response:
        return PlainTextResponse((await log.snapshot(id)).text, headers=_NO_STORE)

    @per_stream
    async def cancel(id: str, request: Request) -> Response:
        producing = await acancel(log, id)
        return JSONResponse({"id": id, "cancelled": True, "was_producing": producing})

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:  # the server stops: its connections to the log close with it
            await log.aclose()

    return Starlette(
        lifespan=lifespan,
        routes=[
            Route("/v1/streams/{id}/events", events, methods=["GET"]),
            Route("/v1/streams/{id}/text", text, methods=["GET"]),
            Route("/v1/streams/{id}/cancel", cancel, methods=["POST"]),
            Route("/v1/streams/{id}", status, methods=["GET"]),
        ],
    )


_NO_STORE = {"Cache-Control": "no-store"}


def sse_event(entry: Entry) -> str:
    """An entry as one Server-Sent Event: its id, its kind, its record as JSON."""
    return (
        f"id: {entry.id}\nevent: {entry.kind or 'other'}\ndata: {json_line(dict(entry.record))}\n\n"
    )


async def _event_stream(
    log: StreamLog, id: str, after: str | None, *, retry: float
) -> AsyncIterator[str]:
    """The event stream's text: ``retry:``, then each entry; it ends after the last entry
    (or a failure, said as an ``error`` event). (Heartbeats are the response's.)"""
    yield f"retry: {round(retry * 1000)}\n\n"
    entries = afollow(log, id, after=after)
    try:
        async for entry in entries:
            yield _shared_event(entry)
    except RelayError as exc:  # the log failed: the reader is told, as an event
        record = {"error": str(exc), "type": type(exc).__name__}
        yield f"event: error\ndata: {json_line(record)}\n\n"
    finally:
        await entries.aclose()  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=1024)
def _shared_event(entry: Entry) -> str:
    """`sse_event`, once per entry for all the readers of a stream in this process (they
    get the same `Entry` objects from the log's tail)."""
    return sse_event(entry)


async def status_of(log: StreamLog, id: str) -> dict[str, Any]:
    """What ``GET /v1/streams/{id}`` answers: the stream's status and description.

    Raises:
        StreamNotFound: no stream has this id.
    """
    snap = await log.snapshot(id, text=False)
    last: Mapping[str, Any] = snap.last_record or {}
    if "end" in last:
        state = "done"
    elif "error" in last:
        state = "cancelled" if last.get("type") == "Cancelled" else "failed"
    elif snap.producing:
        state = "producing"
    else:
        state = "producer gone"
    meta = dict(snap.meta)
    return {
        "id": id,
        "status": state,
        "entries": snap.last_n,
        "last_id": snap.last_id,
        "error": last.get("error") if "error" in last else None,
        "started": meta.get("started"),
        "model": meta.get("model"),
        "source": meta.get("source"),
    }
