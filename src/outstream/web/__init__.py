"""The stream log on the web: Server-Sent Events with resume, a stream's status, its text,
and cancel; and, with a token, answers started over HTTP — an ASGI app (Starlette) any
number of servers can run on one Redis.

    app = outstream.web.app(outstream.relay.RedisLog("redis://localhost:6379"))
    # uvicorn module:app

Routes:

- ``POST /v1/streams`` (on only with a `token`; ``Authorization: Bearer
  TOKEN``): ask the `upstream` model ``{"prompt": "...", "system": "..."}``
  (``system`` and ``id`` optional) and publish its answer, in this server's
  process, whoever reads it. The answer is ``201`` with the stream's
  ``id`` and ``urls`` (events, page, status, text, cancel), once the
  stream is in the log.

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
- ``GET /s/{id}``: a page that shows the stream as the terminal does (paced,
  Markdown rendered safely, resumed after a reload, a Stop button), with the
  files it needs under ``/static/`` (see `outstream.web.page`).

An unknown id is a 404 with a JSON body, as is every error (400 for a body
or an entry id that is wrong, saying what is; 401 with ``WWW-Authenticate:
Bearer`` for a missing or wrong token; 403 when answers are off; 503 with
``Retry-After`` when the log cannot be read). With
`token_for_reading`, the stream routes need the token too, in the header or
as ``?token=`` (a browser's ``EventSource`` cannot send headers). What the
app serves is the log's record, as received: the page that shows it
sanitizes, as `stream` does on a terminal; a model's failure is an
``error`` entry in the words the model's server used.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import RelayError, StreamExists, StreamNotFound, UsageError
from ..recordings._jsonl import json_line
from ..relay import Entry, StreamLog, acancel, afollow_batches
from ..relay.log import new_id, valid_id
from ..sources.openai_http import Upstream

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

__all__ = ["Upstream", "app", "sse_event", "status_of"]

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
    token: str | None = None,
    token_for_reading: bool = False,
    upstream: Upstream | None = None,
    heartbeat: float = HEARTBEAT,
    retry: float = RETRY,
    stall_timeout: float = STALL_TIMEOUT,
) -> Any:
    """The ASGI app serving `log` (see the module's description).

    Args:
        log: the stream log (a `RedisLog` for servers in several processes).
        token: turns ``POST /v1/streams`` on, for requests that send it
            (``Authorization: Bearer TOKEN``): starting an answer spends the
            operator's credits. Without it, that route answers 403.
        token_for_reading: the stream routes (events, status, text, cancel)
            need the token too, as the header or ``?token=TOKEN``.
        upstream: the model ``POST /v1/streams`` asks; without it, that route
            answers 503 (a server whose token guards reading only).
        heartbeat: seconds between comments on a quiet event stream.
        retry: the reconnection delay browsers are told (``retry:``).
        stall_timeout: seconds an event stream waits for a reader that takes nothing
            before it lets it go (the connection is closed; it resumes when it is back).

    Raises:
        UsageError: Starlette is not installed (``pip install "outstream[web]"``);
            a token that is empty or not printable ASCII; `token_for_reading`
            without a token.
    """
    if token is not None and (problem := token_problem(token)):
        raise UsageError(f"the token {problem}")
    if token_for_reading and token is None:
        raise UsageError("token_for_reading needs a token to ask for")
    try:
        from starlette.applications import Starlette
        from starlette.responses import (
            JSONResponse,
            PlainTextResponse,
            Response,
        )
        from starlette.routing import Route

        from ._sse import EventStreamResponse
    except ImportError:
        raise UsageError('the web app needs Starlette: pip install "outstream[web]"') from None

    from ._sse import Closing
    from .answers import Answers
    from .page import page_routes

    answers = None if token is None or upstream is None else Answers(log, upstream)
    closing = Closing()  # set as the server stops: every event stream ends
    secret = None if token is None else token.encode()

    def allowed(given: str | None) -> bool:
        # compare_digest takes as long whichever byte differs: the time an answer
        # takes tells nothing of how much of a guess was right.
        return (
            secret is not None
            and given is not None
            and hmac.compare_digest(given.encode("utf-8", "replace"), secret)
        )

    def guarded(route: Callable[[Request], Awaitable[Response]]) -> Any:
        """A stream route that needs the token when `token_for_reading` (header or ?token=)."""
        if not token_for_reading:
            return route

        async def checked(request: Request) -> Response:
            given = _bearer(request) or request.query_params.get("token")
            if not allowed(given):
                return _unauthorized(
                    "reading streams on this server needs its token: send "
                    "Authorization: Bearer TOKEN, or add ?token=TOKEN to the URL",
                    wrong=given is not None,
                )
            return await route(request)

        return checked

    def per_stream(handler: Callable[[str, Request], Awaitable[Response]]) -> Any:
        """A route of one stream: its id checked, and an unknown one a 404 with a JSON body."""

        async def route(request: Request) -> Response:
            id = request.path_params["id"]
            try:
                if valid_id(id):
                    return await handler(id, request)
            except StreamNotFound:
                pass
            except RelayError as exc:  # the log is unreachable, or failed: try again later
                _failed(id, exc)
                return _error(
                    503,
                    "log unavailable",
                    "the stream log cannot be read now: try again in a moment",
                    {"Retry-After": str(max(1, round(retry)))},
                )
            return JSONResponse(
                {"error": "not found", "message": f"no stream {id}: never published, or expired"},
                status_code=404,
            )

        return route

    async def start(request: Request) -> Response:
        if token is None:
            return _error(
                403,
                "forbidden",
                "starting answers is off on this server: it is on with a token "
                "(outstream serve --token TOKEN, or OUTSTREAM_TOKEN), which each "
                "request then sends as Authorization: Bearer TOKEN",
            )
        given = _bearer(request)
        if not allowed(given):
            return _unauthorized(
                "starting an answer needs this server's token: send Authorization: Bearer TOKEN",
                wrong=given is not None,
            )
        if answers is None:
            return _error(
                503,
                "no model",
                "this server has no model to ask: start outstream serve with --model M "
                "(and --base-url URL)",
            )
        body = await _body(request, MAX_BODY)
        if body is None:
            return _error(413, "too large", f"the body is over {MAX_BODY // 1024} KiB")
        try:
            asked = _asked_for(body)
        except ValueError as exc:
            return _error(400, "bad request", str(exc))
        try:
            id = await answers.start(asked.prompt, id=asked.id or new_id(), system=asked.system)
        except StreamExists:
            return _error(409, "conflict", f"stream {asked.id} exists already")
        except RelayError as exc:
            return _error(503, "log unreachable", str(exc))
        base = str(request.base_url).rstrip("/")
        stream = f"{base}/v1/streams/{id}"
        urls = {
            "events": f"{stream}/events",
            "page": f"{base}/s/{id}",
            "status": stream,
            "text": f"{stream}/text",
            "cancel": f"{stream}/cancel",
        }
        return JSONResponse(
            {"id": id, "urls": urls}, status_code=201, headers={**_NO_STORE, "Location": stream}
        )

    @guarded
    @per_stream
    async def events(id: str, request: Request) -> Response:
        after = request.headers.get("last-event-id") or request.query_params.get("after") or None
        if after is not None and not _ENTRY_ID.fullmatch(after):
            return _error(
                400,
                "bad entry id",
                "Last-Event-ID or ?after= must be an entry id of this stream (such as "
                "1733220000000-0), as its events give them",
            )
        snap = await log.snapshot(id, text=False)  # (it exists: else a 404, not an empty stream)
        if snap.final and after is not None and after == snap.last_id:
            # Asked for what comes after its end: nothing, ever. 204 tells an EventSource
            # to stop reconnecting (an empty event stream would have it ask again forever).
            return Response(status_code=204, headers=_NO_STORE)
        body = _event_stream(log, id, after, retry=retry)
        return EventStreamResponse(
            body,
            headers=_SSE_HEADERS,
            heartbeat=heartbeat,
            stall_timeout=stall_timeout,
            closing=closing,
        )

    @guarded
    @per_stream
    async def status(id: str, request: Request) -> Response:
        return JSONResponse(await status_of(log, id), headers=_NO_STORE)

    @guarded
    @per_stream
    async def text(id: str, request: Request) -> Response:
        return PlainTextResponse((await log.snapshot(id)).text, headers=_NO_STORE)

    @guarded
    @per_stream
    async def cancel(id: str, request: Request) -> Response:
        producing = await acancel(log, id)
        return JSONResponse({"id": id, "cancelled": True, "was_producing": producing})

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:  # the server stops: its answers are interrupted, its log closed
            try:
                if answers is not None:
                    await answers.aclose()
            finally:
                await log.aclose()

    asgi = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/v1/streams", start, methods=["POST"]),
            Route("/v1/streams/{id}/events", events, methods=["GET"]),
            Route("/v1/streams/{id}/text", text, methods=["GET"]),
            Route("/v1/streams/{id}/cancel", cancel, methods=["POST"]),
            Route("/v1/streams/{id}", status, methods=["GET"]),
            *page_routes(),
        ],
    )

    async def stop_streams() -> None:
        """The server stops: the answers it produces are interrupted (an entry for their
        readers), then every event stream ends at once, cleanly: its reader resumes where
        it was, from another server or this one back, instead of being cut when the
        server's graceful timeout runs out. (`outstream serve` calls it as it begins to
        stop, before it waits for the open responses.)"""
        if answers is not None:
            await answers.aclose()
        closing.set()

    asgi.state.stop_streams = stop_streams
    return asgi


_NO_STORE = {"Cache-Control": "no-store"}
MAX_BODY = 1024 * 1024  # bytes of a POST's body
_FIELDS = {"prompt": "the text to ask", "system": "a system prompt", "id": "the stream's id"}


def token_problem(token: str) -> str | None:
    """What is wrong with `token` as a bearer token (None: nothing)."""
    if not token:
        return "is empty"
    if not all("!" <= c <= "~" for c in token):
        return (
            "must be printable ASCII without spaces; make one with "
            "python3 -c 'import secrets; print(secrets.token_urlsafe())'"
        )
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Asked:
    """What ``POST /v1/streams`` asks (`_asked_for` checked it)."""

    prompt: str
    system: str | None
    id: str | None


def _asked_for(body: bytes) -> _Asked:
    """The body of ``POST /v1/streams``, checked.

    Raises:
        ValueError: what is wrong with it, in words for the client.
    """
    example = '{"prompt": "why is the sky blue?"}'
    try:
        data = json.loads(body)
    except RecursionError:
        raise ValueError(f"the body is nested too deep: send an object such as {example}") from None
    except ValueError as exc:  # (UnicodeDecodeError too)
        raise ValueError(f"the body is no JSON ({exc}): send an object such as {example}") from None
    if not isinstance(data, dict):
        raise ValueError(f"the body is {_json_kind(data)}: send an object such as {example}")
    for name in data:
        if name not in _FIELDS:
            known = ", ".join(f"{k} ({v})" for k, v in _FIELDS.items())
            raise ValueError(f"unknown field {json.dumps(name)}: the fields are {known}")
    for name, value in data.items():
        if not isinstance(value, str) and not (name != "prompt" and value is None):
            raise ValueError(f"{name!r} must be a string, not {_json_kind(value)}")
        if isinstance(value, str) and _SURROGATE.search(value):
            raise ValueError(f"{name!r} holds a lone surrogate (\\ud800-\\udfff): not text")
    prompt = data.get("prompt")
    if prompt is None:
        raise ValueError(f"'prompt' is missing: send an object such as {example}")
    if not prompt.strip():
        raise ValueError("'prompt' is blank: nothing to ask")
    id = data.get("id")
    if id is not None and not valid_id(id):
        raise ValueError("'id' is no stream id: 1 to 128 letters, digits, '-', '_' or '.'")
    return _Asked(prompt=prompt, system=data.get("system"), id=id)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a string"


def _bearer(request: Request) -> str | None:
    """The token in the request's ``Authorization: Bearer`` header, if any."""
    scheme, _, credentials = request.headers.get("authorization", "").strip().partition(" ")
    credentials = credentials.strip()
    return credentials if scheme.lower() == "bearer" and credentials else None


def _error(
    status: int, error: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    from starlette.responses import JSONResponse

    return JSONResponse(
        {"error": error, "message": message},
        status_code=status,
        headers={**_NO_STORE, **(headers or {})},
    )


def _unauthorized(message: str, *, wrong: bool) -> JSONResponse:
    # RFC 6750, 3: the scheme to use, and whether the token given was wrong.
    challenge = 'Bearer realm="outstream"' + (', error="invalid_token"' if wrong else "")
    return _error(401, "unauthorized", message, {"WWW-Authenticate": challenge})


async def _body(request: Request, limit: int) -> bytes | None:
    """The request's body; None past `limit` bytes (read no further)."""
    parts: list[bytes] = []
    n_bytes = 0
    async for part in request.stream():
        n_bytes += len(part)
        if n_bytes > limit:
            return None
        parts.append(part)
    return b"".join(parts)


def sse_event(entry: Entry) -> str:
    """An entry as one Server-Sent Event: its id, its kind, its record as JSON."""
    return (
        f"id: {entry.id}\nevent: {entry.kind or 'other'}\ndata: {json_line(dict(entry.record))}\n\n"
    )


async def _event_stream(
    log: StreamLog, id: str, after: str | None, *, retry: float
) -> AsyncIterator[str]:
    """The event stream's text: ``retry:``, then the entries, a chunk of them for each
    read of the log (one write each); it ends after the last entry (or a failure, said
    as an ``error`` event). (Heartbeats are the response's.)"""
    yield f"retry: {round(retry * 1000)}\n\n"
    batches = afollow_batches(log, id, after=after)
    try:
        async for batch in batches:
            yield "".join([_shared_event(entry) for entry in batch])
    except RelayError as exc:  # the log failed: the reader is told, as an event
        # (without the log's words, which name its address; and without a time: it is
        # not an entry of the stream, which goes on)
        _failed(id, exc)
        record = {"error": "the stream log failed: try again in a moment", "type": "RelayError"}
        yield f"event: error\ndata: {json_line(record)}\n\n"
    finally:
        await batches.aclose()  # type: ignore[attr-defined]


def _shared_event(entry: Entry) -> str:
    """`sse_event`, once per entry for all the readers of a stream in this process (they
    get the same `Entry` objects from the log's tail). A ``resync`` (the whole text so
    far, made for one reader) is not kept."""
    return sse_event(entry) if entry.kind == "resync" else _cached_event(entry)


@functools.lru_cache(maxsize=1024)
def _cached_event(entry: Entry) -> str:
    return sse_event(entry)


# An entry id of the log (Redis's and the memory log's): milliseconds, a sequence number.
_ENTRY_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_log = logging.getLogger("outstream.web")


def _failed(id: str, exc: BaseException) -> None:
    """Say on the server's log that reading stream `id` failed, in one safe line."""
    from ..core.escapes import terminal_line

    _log.warning("outstream: reading stream %s failed: %s", id, terminal_line(str(exc), 300))


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
