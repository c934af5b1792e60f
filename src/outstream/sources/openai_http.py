"""An OpenAI-compatible Chat Completions stream over HTTP (httpx), for `outstream ask`.

Works with OpenAI, Ollama, vLLM, llama.cpp's server, LM Studio and any server
that speaks ``POST {base_url}/chat/completions`` with ``stream: true``. The
stream yields the decoded chunk dicts (which `sources.llm` reads like the
SDK's objects) and a `Finish` at ``[DONE]``. Every failure is an `AskError`
whose message says what to do; none of them carries the API key.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.escapes import terminal_line
from ..errors import SourceError
from ..events import Finish
from .sse import MAX_EVENT, SSEError, SSEParser

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_DECODED",
    "AskError",
    "ChatRequest",
    "Upstream",
    "achat_stream",
    "base_url_problem",
    "chat_stream",
    "safe_url",
    "settings_from",
]

DEFAULT_BASE_URL = "http://localhost:11434/v1"  # a local Ollama
# The most bytes a compressed response may expand to: a real answer's events
# are far less, and a "gzip bomb" (a gibibyte from a megabyte) stops here.
MAX_DECODED = 64 * 1024 * 1024
_SERVER_TEXT = 300  # characters of a server's error text shown


class AskError(SourceError):
    """The endpoint could not be asked, or its answer could not be read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatRequest:
    """What to ask, and where."""

    base_url: str
    model: str
    messages: Sequence[Mapping[str, str]]
    api_key: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_time: float | None = None  # seconds for the whole answer
    max_event: int = MAX_EVENT  # characters of an event stream's line or event
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # never show the key
        return f"ChatRequest(base_url={self.base_url!r}, model={self.model!r})"

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    @property
    def where(self) -> str:
        """The endpoint as messages name it: without credentials or query (`safe_url`)."""
        return safe_url(self.base_url)

    def server_text(self, text: str) -> str:
        """Text a server sent, as a message may quote it: one safe line, short, no API key."""
        if self.api_key and len(self.api_key) >= 4:
            text = text.replace(self.api_key, "[the API key]")
        return terminal_line(text, _SERVER_TEXT)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": list(self.messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        body.update(self.extra)
        return body


@dataclass(frozen=True, slots=True, kw_only=True)
class Upstream:
    """The model a server asks for each prompt (`outstream.web.app`, ``outstream serve``),
    configured as ``outstream ask`` is: `request` makes a prompt a `ChatRequest`.

    Raises:
        ValueError: no model, or a base URL that is no http(s) URL (`base_url_problem`).
    """

    base_url: str
    model: str
    api_key: str | None = None
    system: str | None = None  # the system prompt, unless a request gives its own
    temperature: float | None = None
    max_tokens: int | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_time: float | None = None
    max_event: int = MAX_EVENT

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("an upstream needs a model")
        if problem := base_url_problem(self.base_url):
            raise ValueError(f"base_url: {problem}")

    def __repr__(self) -> str:  # never show the key
        return f"Upstream(base_url={self.where!r}, model={self.model!r})"

    @property
    def where(self) -> str:
        return safe_url(self.base_url)

    def request(self, prompt: str, *, system: str | None = None) -> ChatRequest:
        """What to send for `prompt`: with `system` as the system prompt ("" for none),
        or this upstream's own."""
        system = self.system if system is None else system
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": prompt})
        return ChatRequest(
            base_url=self.base_url,
            model=self.model,
            messages=messages,
            api_key=self.api_key,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_time=self.max_time,
            max_event=self.max_event,
        )


def base_url_problem(url: str) -> str | None:
    """What is wrong with `url` as a base URL (None: nothing), in words that show no password."""
    import re
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        web = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is no number, or out of range
        web = False
    if not web:
        shown = terminal_line(repr(re.sub(r"//[^/@]*@", "//", url)), 200)  # no password
        return f"must be an http:// or https:// URL such as {DEFAULT_BASE_URL}, not {shown}"
    if parts.query or parts.fragment:
        return (
            "a query or fragment (?…, #…) would end up before the endpoint's path; "
            f"give the base URL alone, such as {safe_url(url)}"
        )
    return None


def settings_from(
    env: Mapping[str, str], *, base_url: str | None, model: str | None, api_key: str | None
) -> tuple[str, str | None, str | None, str | None]:
    """(base_url, model, api_key, a note) from the flags, then the environment.

    The note says where the base URL came from when nothing was set (a local
    Ollama is tried).
    """
    note = None
    url = base_url or env.get("OUTSTREAM_BASE_URL") or env.get("OPENAI_BASE_URL")
    if not url:
        url = DEFAULT_BASE_URL
        note = (
            f"no --base-url, OUTSTREAM_BASE_URL or OPENAI_BASE_URL: trying a local Ollama at {url}"
        )
    return url, model or env.get("OUTSTREAM_MODEL"), api_key or env.get("OPENAI_API_KEY"), note


def safe_url(url: str) -> str:
    """A URL without what may hold a secret: user and password, query, fragment."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        return terminal_line(urlunsplit((parts.scheme, host, parts.path, "", "")), 200)
    except ValueError:
        return "the endpoint"


def _server_message(request: ChatRequest, body: bytes) -> str:
    """The error a server's body says, as one safe line (see `ChatRequest.server_text`)."""
    try:
        data = json.loads(body)
    except ValueError:
        return request.server_text(body[:4096].decode("utf-8", "replace"))
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        text = str(error.get("message") or error)
    elif error:
        text = str(error)
    else:
        text = str(data)
    return request.server_text(text)


def _http_error(request: ChatRequest, status: int, body: bytes) -> AskError:
    message = _server_message(request, body)
    where = request.where
    if status in (401, 403):
        return AskError(
            f"{where} refused the API key (HTTP {status}: {message}); "
            "set --api-key or OPENAI_API_KEY"
        )
    if status == 404:
        from urllib.parse import urlsplit

        path = urlsplit(request.base_url).path.rstrip("/")
        if path.endswith("/v1") or "model" in message.lower():
            return AskError(
                f"{where} has no model {request.model!r} (HTTP 404: {message}); "
                "choose another with --model or OUTSTREAM_MODEL"
            )
        # Not found at all: the path is the likelier cause (a base URL without /v1).
        root = safe_url(request.base_url).rstrip("/")
        better = root[: root.index("/v1") + 3] if "/v1" in path else f"{root}/v1"
        return AskError(
            f"{where} has no chat endpoint at {path or ''}/chat/completions "
            f"(HTTP 404: {message}); OpenAI-compatible servers answer under /v1: "
            f"try --base-url {better}"
        )
    return AskError(f"{where} answered HTTP {status}: {message}")


def _client(request: ChatRequest) -> tuple[dict[str, str], Any]:
    """The request's headers and timeouts (httpx's)."""
    import httpx

    headers = {"Accept": "text/event-stream"}
    if request.api_key:
        headers["Authorization"] = f"Bearer {request.api_key}"
    timeout = httpx.Timeout(
        connect=request.connect_timeout, read=request.read_timeout, write=30.0, pool=30.0
    )
    return headers, timeout


def _not_a_stream(request: ChatRequest, response: Any) -> AskError | None:
    """What is wrong with a response that is no error yet no event stream (None: nothing)."""
    where = request.where
    if response.is_redirect:
        target = safe_url(response.headers.get("location", "")) or "nowhere"
        return AskError(
            f"{where} answered HTTP {response.status_code}, a redirect to {target}: "
            "point --base-url at the API itself"
        )
    kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml"):
        return AskError(
            f"{where} answered with a web page ({kind}), not an event stream: "
            "is --base-url the API's address (often ending in /v1)?"
        )
    return None


def _transport_error(request: ChatRequest, exc: Exception) -> AskError | None:
    """An httpx failure in words (None: one that is not said here)."""
    import httpx

    where = request.where
    if isinstance(exc, httpx.ConnectError):
        return AskError(
            f"nothing is listening at {where}: start the server, "
            "or point --base-url (or OUTSTREAM_BASE_URL) at one"
        )
    if isinstance(exc, httpx.ReadTimeout):
        return AskError(f"{where} sent nothing for {request.read_timeout:g} s (raise --timeout)")
    if isinstance(exc, httpx.ConnectTimeout):
        return AskError(
            f"{where} did not accept the connection within {request.connect_timeout:g} s"
        )
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return AskError(f"the connection to {where} dropped mid-answer")
    if isinstance(exc, httpx.DecodingError):
        return AskError(f"{where} sent a body that does not decompress")
    return None


# The two loops below are the same text, one with ``await``: everything else is shared.


def chat_stream(request: ChatRequest) -> Iterator[object]:
    """The chunks of a streamed chat completion, as they arrive.

    Raises:
        AskError: nothing listening, an HTTP error or a redirect, a body
            that is no event stream (a web page), a malformed stream or one
            past its bounds, an error event, no event at all, a timeout (the
            idle `read_timeout`, the whole `max_time`), a connection dropped
            mid-answer.
    """
    import httpx

    headers, timeout = _client(request)
    try:
        with (
            httpx.Client(timeout=timeout) as client,
            client.stream("POST", request.url, json=request.body(), headers=headers) as response,
        ):
            if response.status_code >= 400:
                raise _http_error(request, response.status_code, response.read())
            if error := _not_a_stream(request, response):
                raise error
            decoder = _ChunkDecoder(request, response)
            for data in _body(response, decoder.inflater):
                yield from decoder.feed(data)
                if decoder.done:
                    return
            decoder.close()
    except httpx.HTTPError as exc:
        if (said := _transport_error(request, exc)) is None:
            raise
        raise said from None


async def achat_stream(request: ChatRequest) -> AsyncIterator[object]:
    """`chat_stream` on asyncio: closing it (or cancelling its reader) closes the connection."""
    import httpx

    headers, timeout = _client(request)
    try:
        async with (
            httpx.AsyncClient(timeout=timeout) as client,
            client.stream("POST", request.url, json=request.body(), headers=headers) as response,
        ):
            if response.status_code >= 400:
                raise _http_error(request, response.status_code, await response.aread())
            if error := _not_a_stream(request, response):
                raise error
            decoder = _ChunkDecoder(request, response)
            async for data in _abody(response, decoder.inflater):
                for chunk in decoder.feed(data):
                    yield chunk
                if decoder.done:
                    return
            decoder.close()
    except httpx.HTTPError as exc:
        if (said := _transport_error(request, exc)) is None:
            raise
        raise said from None


def _body(response: Any, inflater: _Inflater | None) -> Iterator[bytes]:
    """The response's body (gzip inflated by `inflater`, a mebibyte at a time)."""
    if inflater is None:
        yield from response.iter_bytes()
        return
    for raw in response.iter_raw():
        yield from inflater.feed(raw)
    yield inflater.flush()


async def _abody(response: Any, inflater: _Inflater | None) -> AsyncIterator[bytes]:
    if inflater is None:
        async for data in response.aiter_bytes():
            yield data
        return
    async for raw in response.aiter_raw():
        for data in inflater.feed(raw):
            yield data
    yield inflater.flush()


_INFLATE_STEP = 1 << 20  # bytes a compressed body is inflated by at a time


class _Inflater:
    """A gzip body, decompressed a mebibyte at a time.

    httpx inflates each piece it reads whole, so a "gzip bomb" takes its
    size in memory at once, before any cap can look; here it never takes
    more than a step. Other encodings are left to httpx.
    """

    def __init__(self, where: str) -> None:
        import zlib

        self._where = where
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, raw: bytes) -> Iterator[bytes]:
        import zlib

        try:
            yield self._inflater.decompress(raw, _INFLATE_STEP)
            while self._inflater.unconsumed_tail:
                yield self._inflater.decompress(self._inflater.unconsumed_tail, _INFLATE_STEP)
        except zlib.error:
            raise self._error() from None

    def flush(self) -> bytes:
        import zlib

        try:
            return self._inflater.flush()
        except zlib.error:
            raise self._error() from None

    def _error(self) -> AskError:
        return AskError(f"{self._where} sent a body that does not decompress")


class _ChunkDecoder:
    """The body's bytes in, the answer's chunks out (and a `Finish` at ``[DONE]``), checked
    against the request's bounds; `done` once ``[DONE]`` came."""

    def __init__(self, request: ChatRequest, response: Any) -> None:
        self._request = request
        self._parser = SSEParser(max_event=request.max_event)
        self._where = request.where
        self._deadline = None if request.max_time is None else time.monotonic() + request.max_time
        self._encoded = bool(response.headers.get("content-encoding"))
        encoding = response.headers.get("content-encoding", "").strip().lower()
        self.inflater = (
            _Inflater(safe_url(str(response.url))) if encoding in ("gzip", "x-gzip") else None
        )
        self._n_decoded = 0
        self._n_events = 0
        self.done = False

    def feed(self, data: bytes) -> Iterator[object]:
        request, where = self._request, self._where
        self._n_decoded += len(data)
        if self._encoded and self._n_decoded > MAX_DECODED:
            raise AskError(
                f"{where} sent a compressed body that grows past {MAX_DECODED // 2**20} MiB: "
                "not an answer"
            )
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise AskError(
                f"{where} was still answering after {request.max_time:g} s (raise --max-time)"
            )
        try:
            events = self._parser.feed(data)
        except SSEError as exc:
            raise AskError(
                f"{where} sent a malformed event stream: {exc} (see --max-event)"
            ) from None
        for event in events:
            self._n_events += 1
            if event.event == "error":
                raise AskError(
                    f"{where} sent an error: {_server_message(request, event.data.encode())}"
                )
            if event.data.strip() == "[DONE]":
                self.done = True
                yield Finish(reason="[DONE]")
                return
            try:
                chunk = json.loads(event.data)
            except ValueError:
                raise AskError(
                    f"{where} sent a malformed event stream: {request.server_text(event.data[:80])!r}"
                ) from None
            if isinstance(chunk, dict) and "error" in chunk and "choices" not in chunk:
                raise AskError(
                    f"{where} sent an error: {_server_message(request, event.data.encode())}"
                )
            yield chunk

    def close(self) -> None:
        """The body ended without ``[DONE]``: an error if there was no event at all."""
        if self._n_events == 0:
            raise AskError(
                f"{self._where} ended its answer without sending any event "
                "(nothing, or only keep-alive comments): is it an OpenAI-compatible endpoint?"
            )
