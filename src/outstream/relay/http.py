"""Following a stream over HTTP: the Server-Sent Events of `outstream serve`, read back as
the log's entries.

    for entry in follow_url("http://127.0.0.1:8787/v1/streams/ID"):   # Entry(id, n, record)
        ...
    outstream.stream(relay.text_of(follow_url(url)))                  # shown, paced

A reader over HTTP gets what `follow` gets from the log itself: the same
entries (``resync`` and ``ProducerGone`` included, as the server found
them), ending with the stream's ``end`` or ``error`` entry, so one
`relay.text_of` turns either into a source for `outstream.stream`.

Theory of operation. `_Reader` holds every decision and no I/O, as h11's
Connection does: the request to make next (the events, or first the status
for `from_now`), the entries in the bytes that came (`SSEParser`), what a
refusal means, and when to try again. `follow_url` and `afollow_url` are
the two loops that do the I/O, the same text with ``await`` in it.

A connection that drops, a 5xx, or a server that cannot be reached is
tried again with ``Last-Event-ID`` set to the last entry received: first
after the server's ``retry``, then backing off (doubling, with jitter, up
to `MAX_WAIT`), for `PATIENCE` seconds without hearing from the server
(`FIRST_PATIENCE` before it was ever heard: a wrong URL is said soon). A
stream that ended is never asked for again.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..clock import Clock
from ..errors import RelayError, StreamNotFound, UsageError
from .log import FIRST_PATIENCE, PATIENCE, Entry, Unreachable, valid_id

__all__ = [
    "MAX_WAIT",
    "READ_TIMEOUT",
    "StreamURL",
    "acancel_url",
    "afollow_url",
    "cancel_url",
    "follow_url",
    "is_url",
    "stream_url",
]

# The longest wait between two tries (unless the server's `retry` is longer).
MAX_WAIT = 5.0
# Seconds without a byte before a connection counts as dropped: three of the
# server's heartbeats (15 s) missed.
READ_TIMEOUT = 45.0
_CONNECT_TIMEOUT = 10.0
_FIRST_WAIT = 0.1  # before the server said its `retry`
_BODY = 64 * 1024  # bytes of a refusal's body read, at most
_SERVER_TEXT = 300  # characters of a server's text quoted in a message
_FINISHED = ("done", "failed", "cancelled")  # statuses with nothing still to come

_Asking = Literal["events", "now", "check"]

# /v1/streams/ID, its /events, or the page /s/ID; anything before it is where the app is mounted.
_PATH = re.compile(r"(?P<root>.*?)/(?:v1/streams/(?P<id>[^/]+)(?:/events)?|s/(?P<page>[^/]+))/?")


def is_url(text: str) -> bool:
    """Whether `text` is given as a URL (``http://``, ``https://``), not a stream's id."""
    return text[:8].lower().startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True)
class StreamURL:
    """A stream served by `outstream serve`.

    Attributes:
        root: the server's address, as given, and where the app is mounted
            (``http://127.0.0.1:8787``); user and password kept, for httpx.
        id: the stream's id.
        token: a token given in the URL (``?token=T`` or the page's
            ``#token=T``), or None.
        shown: the URL as messages name it: no user, password, query or
            fragment, and safe on a terminal.
    """

    root: str
    id: str
    token: str | None
    shown: str

    @property
    def events(self) -> str:
        return f"{self.root}/v1/streams/{self.id}/events"

    @property
    def status(self) -> str:
        return f"{self.root}/v1/streams/{self.id}"

    @property
    def cancel(self) -> str:
        return f"{self.root}/v1/streams/{self.id}/cancel"

    def __repr__(self) -> str:  # never the token or a password
        return f"StreamURL({self.shown!r})"


def stream_url(url: str) -> StreamURL:
    """The stream `url` names: ``http(s)://HOST/v1/streams/ID``, its ``/events``, or the
    page ``http(s)://HOST/s/ID`` (each under any path where the app is mounted).

    Raises:
        UsageError: `url` names no stream.
    """
    from urllib.parse import parse_qs, urlsplit, urlunsplit

    from ..sources.openai_http import safe_url

    shown = safe_url(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a port that is no number raises here)
    except ValueError:
        parts = None
    match = None if parts is None else _PATH.fullmatch(parts.path)
    id = None if match is None else match.group("id") or match.group("page")
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an http(s) URL: {shown}")
    if match is None or id is None or not valid_id(id):
        raise UsageError(
            f"not the URL of a stream: {shown} (expected http(s)://HOST/v1/streams/ID, "
            "its /events, or the page http(s)://HOST/s/ID)"
        )
    root = urlunsplit((parts.scheme, parts.netloc, match.group("root"), "", ""))
    given = parse_qs(parts.query).get("token") or parse_qs(parts.fragment).get("token")
    return StreamURL(root, id, given[-1] if given else None, shown)


# --- what the loops share ---


class _Reader:
    """A stream read over HTTP, without I/O: what to ask, what came, when to ask again."""

    def __init__(
        self,
        url: str | StreamURL,
        *,
        token: str | None,
        after: str | None,
        from_now: bool,
        patience: float,
        clock: Clock | None,
    ) -> None:
        if clock is None:
            from ..clock import SystemClock

            clock = SystemClock()
        self.url = url if isinstance(url, StreamURL) else stream_url(url)
        self.token = token or self.url.token
        self.clock = clock
        self.patience = patience
        self.last_id = after  # the last entry's id: where a new connection goes on
        self.n = 0  # entries received
        self.done = False  # the stream's last entry came (or nothing is still to come)
        # What the next request asks for: the events, or first the status (for where
        # "now" is; or, after a connection the server closed, whether the stream is over).
        self.asking: _Asking = "now" if from_now else "events"
        self.retry: float | None = None  # the server's reconnection time, in seconds
        self.heard = False  # whether the server was ever heard
        self.give_up: float | None = None  # when tries stop (None: while connected)
        self.tries = 0  # failed tries since the server was last heard
        self.why = ""  # what the last try met
        self.parser: Any = None
        self.body = bytearray()  # the status's JSON, as it comes
        self.random = random.Random()

    # --- requests and responses ---

    def request(self) -> tuple[str, dict[str, str]]:
        """The URL to get next, and its headers."""
        from ..sources.sse import SSEParser

        headers = {"Accept-Encoding": "identity"}  # (the server never compresses events)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.asking != "events":
            self.body = bytearray()
            return self.url.status, {**headers, "Accept": "application/json"}
        headers["Accept"] = "text/event-stream"
        headers["Cache-Control"] = "no-store"
        if self.last_id:
            headers["Last-Event-ID"] = self.last_id
        self.parser = SSEParser()
        return self.url.events, headers

    def timeout(self) -> Any:
        """httpx's timeouts for the next request: a connection is given no more time than
        the patience has left."""
        import httpx

        connect = _CONNECT_TIMEOUT
        if self.give_up is not None:
            connect = max(0.5, min(connect, self.give_up - self.clock.now()))
        return httpx.Timeout(connect=connect, read=READ_TIMEOUT, write=30.0, pool=30.0)

    def answered(self, status: int, headers: Mapping[str, str]) -> bool:
        """Whether the response's body is to be read (`feed`); else `refused` is called with
        its head."""
        if status != 200:
            return False
        kind = headers.get("content-type", "").partition(";")[0].strip().lower()
        wanted = "text/event-stream" if self.asking == "events" else "application/json"
        if kind != wanted:
            raise RelayError(
                f"{self.url.shown} answered with {_terminal(kind or 'no content type', 60)}, "
                f"not {wanted}: is it a stream of 'outstream serve'?"
            )
        return True

    def refused(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        """A response other than 200: an error raised, (5xx) a try that failed, or (204)
        nothing more to come."""
        shown = self.url.shown
        if status == 204 and self.asking == "events":  # (asked for what follows the end)
            self.done = True
            return
        message = self.server_text(body)
        if status >= 500:
            self.failed(f"HTTP {status}" + (f": {message}" if message else ""))
            return
        if status == 404:
            if _json(body).get("error") == "not found":  # (the app's own 404: the id is unknown)
                raise StreamNotFound(f"no stream at {shown}: never published, or expired")
            raise StreamNotFound(
                f"{shown}: HTTP 404, and not an answer of 'outstream serve' "
                f"({message or 'no text'}): is the URL right?"
            )
        if status in (401, 403):
            refused = "refused the token" if self.token else "needs a token"
            raise RelayError(
                f"{shown} {refused} (HTTP {status}): give the server's token with --token T "
                "or OUTSTREAM_TOKEN"
            )
        if 300 <= status < 400:
            from ..sources.openai_http import safe_url

            target = safe_url(headers.get("location", "")) or "nowhere"
            raise RelayError(
                f"{shown} answered HTTP {status}, a redirect to {target}: give that URL"
            )
        raise RelayError(f"{shown} answered HTTP {status}" + (f": {message}" if message else ""))

    def server_text(self, body: bytes) -> str:
        """What a server's body says, as one safe line of a message, without the token."""
        data = _json(body)
        text = str(data.get("message") or data.get("error") or "") if data else ""
        text = text or body[:4096].decode("utf-8", "replace")
        if self.token and len(self.token) >= 4:
            text = text.replace(self.token, "[the token]")
        return _terminal(text, _SERVER_TEXT)

    def feed(self, data: bytes) -> list[Entry]:
        """The entries in the body's next bytes."""
        self.heard, self.give_up, self.tries = True, None, 0
        if self.asking != "events":
            self.body += data
            if len(self.body) > _BODY:
                raise RelayError(f"{self.url.shown} sent a status of more than {_BODY:,} bytes")
            return []
        from ..sources.sse import SSEError

        try:
            events = self.parser.feed(data)
        except SSEError as exc:
            raise RelayError(f"{self.url.shown} sent a malformed event stream: {exc}") from None
        if self.parser.retry is not None:
            self.retry = self.parser.retry
        entries = []
        for event in events:
            entry = self.entry(event)
            entries.append(entry)
            if _header_safe(entry.id):  # (an id no header can carry is not resumed from)
                self.last_id = entry.id
            if entry.final:
                self.done = True
                break  # (nothing after the last entry is the stream's)
        return entries

    def entry(self, event: Any) -> Entry:
        try:
            record = json.loads(event.data)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise RelayError(
                f"{self.url.shown} sent an event that is no entry: {_terminal(event.data, 80)!r}"
            )
        if "error" in record and "t" not in record:
            # An entry of the log has its time; an error without one is the server's
            # own (its log failed under it), said as an event: not the stream's end.
            message = _terminal(str(record["error"]), _SERVER_TEXT)
            if record.get("type") == "StreamNotFound":
                raise StreamNotFound(f"{self.url.shown}: {message}")
            raise RelayError(f"the server of {self.url.shown} failed: {message}")
        self.n += 1
        return Entry(event.id or "", self.n, record)

    def ended(self) -> None:
        """The body ended, the stream's last entry not in it (or it was the status)."""
        if self.asking == "events":
            # The server closed it: a restart, a proxy's timeout; or the stream is over
            # with no last entry to say so (a ``resync`` that stands for the end, or the
            # reader was after the end already). The status tells.
            self.asking, self.tries = "check", 0  # (asked at once)
            return
        status = _json(bytes(self.body))
        if not isinstance(status.get("status"), str):
            raise RelayError(f"{self.url.shown} sent a status that is no stream's")
        finished, last_id = status["status"] in _FINISHED, status.get("last_id") or None
        if not isinstance(last_id, str) or not _header_safe(last_id):
            last_id = None
        if self.asking == "now":
            self.done, self.last_id, self.tries = finished, last_id, 0  # (the events at once)
        else:
            self.done = finished and last_id == self.last_id  # (it has had the last entry)
            if not self.done:
                self.failed("the server closed the stream before its end")
        self.asking = "events"

    def failed(self, why: str) -> None:
        """A try failed: a connection not made or dropped, a 5xx."""
        if self.give_up is None:
            patience = self.patience if self.heard else FIRST_PATIENCE
            self.give_up = self.clock.now() + patience
        self.tries += 1
        self.why = why

    def dropped(self, error: BaseException) -> None:
        """A try ended by httpx's `TransportError`."""
        self.failed(_why(error))

    # --- when to try again ---

    def next_try(self) -> float:
        """When to try again (a time on the clock).

        Raises:
            Unreachable: the server was not heard for the patience.
        """
        now = self.clock.now()
        if self.tries == 0:  # (the status was read: the events next, at once)
            return now
        base = self.retry if self.retry is not None else _FIRST_WAIT
        if self.tries == 1:
            wait = max(base, 0.05)  # the server's word first
        else:  # then doubling, with equal jitter (half fixed, half random)
            cap = max(MAX_WAIT, base)
            step = min(cap, max(base, 0.05) * 2 ** min(self.tries - 1, 16))
            wait = step / 2 + self.random.uniform(0, step / 2)
        assert self.give_up is not None
        if now + wait > self.give_up:
            tried = f" (tried for {self.patience:g} s)" if self.heard else ""
            raise Unreachable(f"cannot reach {self.url.shown}: {self.why}{tried}")
        return now + wait


def _header_safe(text: str | None) -> bool:
    return bool(text) and text.isascii() and text.isprintable()  # type: ignore[union-attr]


def _terminal(text: str, limit: int) -> str:
    from ..core.escapes import terminal_line

    return terminal_line(text, limit)


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _why(error: BaseException) -> str:
    """A transport error in a few words."""
    import httpx

    if isinstance(error, httpx.ConnectTimeout):
        return "the connection was not accepted in time"
    if isinstance(error, httpx.ReadTimeout):
        return f"it sent nothing for {READ_TIMEOUT:g} s"
    if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError):
        return "the connection dropped"
    text = re.sub(r"^\[Errno -?\d+\] ", "", str(error)) or type(error).__name__
    return _terminal(text[:1].lower() + text[1:], 200)


# --- following ---


def follow_url(
    url: str | StreamURL,
    *,
    token: str | None = None,
    after: str | None = None,
    from_now: bool = False,
    patience: float = PATIENCE,
    clock: Clock | None = None,
) -> Iterator[Entry]:
    """The entries of the stream at `url`, served by `outstream serve`: from its start,
    after entry `after`, or (`from_now`) those still to come; then live ones, until its
    ``end`` or ``error`` entry.

    A connection that drops, or a server that stops (a restart, a deploy),
    is tried again from the last entry received: nothing missed, nothing
    twice. An entry's `n` is its place among those this reader received
    (the events do not carry the log's numbers).

    Args:
        url: ``http(s)://HOST/v1/streams/ID``, its ``/events``, or the page
            ``http(s)://HOST/s/ID``.
        token: sent as ``Authorization: Bearer TOKEN`` (default: a
            ``token`` given in the URL).

    Raises:
        UsageError: `url` names no stream.
        StreamNotFound: the server has no such stream (HTTP 404).
        Unreachable: the server was not reached for `patience` seconds (at
            the first contact, for `FIRST_PATIENCE`: a wrong URL is said soon).
        RelayError: the server refused (a token needed or refused, another
            4xx), or sent what is not a stream's events.
    """
    import httpx

    reader = _Reader(
        url, token=token, after=after, from_now=from_now, patience=patience, clock=clock
    )
    with httpx.Client(follow_redirects=False) as client:
        while not reader.done:
            target, headers = reader.request()
            try:
                with client.stream("GET", target, headers=headers, timeout=reader.timeout()) as r:
                    if reader.answered(r.status_code, r.headers):
                        for data in r.iter_bytes():
                            yield from reader.feed(data)
                            if reader.done:
                                return
                        reader.ended()
                    else:
                        body = bytearray()
                        for data in r.iter_bytes():
                            body += data
                            if len(body) >= _BODY:
                                break
                        reader.refused(r.status_code, r.headers, bytes(body))
            except httpx.TransportError as exc:
                reader.dropped(exc)
            if not reader.done:
                reader.clock.sleep_until(reader.next_try())


async def afollow_url(
    url: str | StreamURL,
    *,
    token: str | None = None,
    after: str | None = None,
    from_now: bool = False,
    patience: float = PATIENCE,
    clock: Clock | None = None,
) -> AsyncIterator[Entry]:
    """`follow_url`, for asyncio: the same entries, the same tries again, the same errors."""
    import httpx

    reader = _Reader(
        url, token=token, after=after, from_now=from_now, patience=patience, clock=clock
    )
    async with httpx.AsyncClient(follow_redirects=False) as client:
        while not reader.done:
            target, headers = reader.request()
            try:
                async with client.stream(
                    "GET", target, headers=headers, timeout=reader.timeout()
                ) as r:
                    if reader.answered(r.status_code, r.headers):
                        async for data in r.aiter_bytes():
                            for entry in reader.feed(data):
                                yield entry
                            if reader.done:
                                return
                        reader.ended()
                    else:
                        body = bytearray()
                        async for data in r.aiter_bytes():
                            body += data
                            if len(body) >= _BODY:
                                break
                        reader.refused(r.status_code, r.headers, bytes(body))
            except httpx.TransportError as exc:
                reader.dropped(exc)
            if not reader.done:
                await reader.clock.asleep_until(reader.next_try())


# --- cancelling ---


def _cancelled(reader: _Reader, status: int, headers: Mapping[str, str], body: bytes) -> bool:
    if status != 200:
        reader.refused(status, headers, body)
        raise Unreachable(f"cannot reach {reader.url.shown}: {reader.why}")
    return bool(_json(body).get("was_producing"))


def _canceller(url: str | StreamURL, token: str | None) -> tuple[_Reader, dict[str, str]]:
    reader = _Reader(url, token=token, after=None, from_now=False, patience=0.0, clock=None)
    headers = {"Accept": "application/json"}
    if reader.token:
        headers["Authorization"] = f"Bearer {reader.token}"
    return reader, headers


def cancel_url(url: str | StreamURL, *, token: str | None = None) -> bool:
    """Ask the producer of the stream at `url` to stop (``POST …/cancel``); whether one
    was producing.

    Raises:
        UsageError, StreamNotFound, Unreachable, RelayError: as `follow_url`
            (the server is asked once).
    """
    import httpx

    reader, headers = _canceller(url, token)
    try:
        r = httpx.post(reader.url.cancel, headers=headers, timeout=reader.timeout())
    except httpx.TransportError as exc:
        raise Unreachable(f"cannot reach {reader.url.shown}: {_why(exc)}") from None
    return _cancelled(reader, r.status_code, r.headers, r.content[:_BODY])


async def acancel_url(url: str | StreamURL, *, token: str | None = None) -> bool:
    """`cancel_url`, for asyncio."""
    import httpx

    reader, headers = _canceller(url, token)
    try:
        async with httpx.AsyncClient() as client:
            r = await client.post(reader.url.cancel, headers=headers, timeout=reader.timeout())
    except httpx.TransportError as exc:
        raise Unreachable(f"cannot reach {reader.url.shown}: {_why(exc)}") from None
    return _cancelled(reader, r.status_code, r.headers, r.content[:_BODY])
