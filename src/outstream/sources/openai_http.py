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
from collections.abc import Iterator, Mapping, Sequence
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

    headers = {"Accept": "text/event-stream"}
    if request.api_key:
        headers["Authorization"] = f"Bearer {request.api_key}"
    timeout = httpx.Timeout(
        connect=request.connect_timeout, read=request.read_timeout, write=30.0, pool=30.0
    )
    where = request.where
    try:
        with (
            httpx.Client(timeout=timeout) as client,
            client.stream("POST", request.url, json=request.body(), headers=headers) as response,
        ):
            if response.status_code >= 400:
                raise _http_error(request, response.status_code, response.read())
            if response.is_redirect:
                target = safe_url(response.headers.get("location", "")) or "nowhere"
                raise AskError(
                    f"{where} answered HTTP {response.status_code}, a redirect to {target}: "
                    "point --base-url at the API itself"
                )
            kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
            if kind in ("text/html", "application/xhtml+xml"):
                raise AskError(
                    f"{where} answered with a web page ({kind}), not an event stream: "
                    "is --base-url the API's address (often ending in /v1)?"
                )
            yield from _events(response, request)
    except httpx.ConnectError:
        raise AskError(
            f"nothing is listening at {where}: start the server, "
            "or point --base-url (or OUTSTREAM_BASE_URL) at one"
        ) from None
    except httpx.ReadTimeout:
        raise AskError(
            f"{where} sent nothing for {request.read_timeout:g} s (raise --timeout)"
        ) from None
    except httpx.ConnectTimeout:
        raise AskError(
            f"{where} did not accept the connection within {request.connect_timeout:g} s"
        ) from None
    except (httpx.RemoteProtocolError, httpx.ReadError):
        raise AskError(f"the connection to {where} dropped mid-answer") from None
    except httpx.DecodingError:
        raise AskError(f"{where} sent a body that does not decompress") from None


_INFLATE_STEP = 1 << 20  # bytes a compressed body is inflated by at a time


def _body(response: Any) -> Iterator[bytes]:
    """The response's body, decompressed a mebibyte at a time where it is gzip.

    httpx inflates each piece it reads whole, so a "gzip bomb" takes its
    size in memory at once, before any cap can look; here it never takes
    more than a step. Other encodings are left to httpx.
    """
    import zlib

    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("gzip", "x-gzip"):
        yield from response.iter_bytes()
        return
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for raw in response.iter_raw():
            data = inflater.decompress(raw, _INFLATE_STEP)
            yield data
            while inflater.unconsumed_tail:
                yield inflater.decompress(inflater.unconsumed_tail, _INFLATE_STEP)
        yield inflater.flush()
    except zlib.error:
        raise AskError(
            f"{safe_url(str(response.url))} sent a body that does not decompress"
        ) from None


def _events(response: Any, request: ChatRequest) -> Iterator[object]:
    parser = SSEParser(max_event=request.max_event)
    where = request.where
    deadline = None if request.max_time is None else time.monotonic() + request.max_time
    encoded = bool(response.headers.get("content-encoding"))
    n_decoded = 0
    n_events = 0
    for data in _body(response):
        n_decoded += len(data)
        if encoded and n_decoded > MAX_DECODED:
            raise AskError(
                f"{where} sent a compressed body that grows past {MAX_DECODED // 2**20} MiB: "
                "not an answer"
            )
        if deadline is not None and time.monotonic() > deadline:
            raise AskError(
                f"{where} was still answering after {request.max_time:g} s (raise --max-time)"
            )
        try:
            events = parser.feed(data)
        except SSEError as exc:
            raise AskError(
                f"{where} sent a malformed event stream: {exc} (see --max-event)"
            ) from None
        for event in events:
            n_events += 1
            if event.event == "error":
                raise AskError(
                    f"{where} sent an error: {_server_message(request, event.data.encode())}"
                )
            if event.data.strip() == "[DONE]":
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
    if n_events == 0:
        raise AskError(
            f"{where} ended its answer without sending any event "
            "(nothing, or only keep-alive comments): is it an OpenAI-compatible endpoint?"
        )
