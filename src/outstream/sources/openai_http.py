"""An OpenAI-compatible Chat Completions stream over HTTP (httpx), for `outstream ask`.

Works with OpenAI, Ollama, vLLM, llama.cpp's server, LM Studio and any server
that speaks ``POST {base_url}/chat/completions`` with ``stream: true``. The
stream yields the decoded chunk dicts (which `sources.llm` reads like the
SDK's objects) and a `Finish` at ``[DONE]``. Every failure is an `AskError`
whose message says what to do; none of them carries the API key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import SourceError
from ..events import Finish
from .sse import SSEParser

__all__ = ["DEFAULT_BASE_URL", "AskError", "ChatRequest", "chat_stream", "settings_from"]

DEFAULT_BASE_URL = "http://localhost:11434/v1"  # a local Ollama


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
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # never show the key
        return f"ChatRequest(base_url={self.base_url!r}, model={self.model!r})"

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

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


def _server_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:300]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error)
    if error:
        return str(error)
    return str(data)[:300]


def _http_error(request: ChatRequest, status: int, body: bytes) -> AskError:
    message = _server_message(body)
    where = request.base_url
    if status in (401, 403):
        return AskError(
            f"{where} refused the API key (HTTP {status}: {message}); "
            "set --api-key or OPENAI_API_KEY"
        )
    if status == 404:
        return AskError(
            f"{where} has no model {request.model!r} (HTTP 404: {message}); "
            "choose another with --model or OUTSTREAM_MODEL"
        )
    return AskError(f"{where} answered HTTP {status}: {message}")


def chat_stream(request: ChatRequest) -> Iterator[object]:
    """The chunks of a streamed chat completion, as they arrive.

    Raises:
        AskError: nothing listening, an HTTP error, a malformed stream, an
            error event, a timeout, a connection dropped mid-answer.
    """
    import httpx

    headers = {"Accept": "text/event-stream"}
    if request.api_key:
        headers["Authorization"] = f"Bearer {request.api_key}"
    timeout = httpx.Timeout(
        connect=request.connect_timeout, read=request.read_timeout, write=30.0, pool=30.0
    )
    try:
        with (
            httpx.Client(timeout=timeout) as client,
            client.stream("POST", request.url, json=request.body(), headers=headers) as response,
        ):
            if response.status_code >= 400:
                raise _http_error(request, response.status_code, response.read())
            yield from _events(response, request)
    except httpx.ConnectError:
        raise AskError(
            f"nothing is listening at {request.base_url}: start the server, "
            "or point --base-url (or OUTSTREAM_BASE_URL) at one"
        ) from None
    except httpx.ReadTimeout:
        raise AskError(
            f"{request.base_url} sent nothing for {request.read_timeout:g} s (raise --timeout)"
        ) from None
    except httpx.ConnectTimeout:
        raise AskError(
            f"{request.base_url} did not accept the connection within {request.connect_timeout:g} s"
        ) from None
    except (httpx.RemoteProtocolError, httpx.ReadError):
        raise AskError(f"the connection to {request.base_url} dropped mid-answer") from None


def _events(response: Any, request: ChatRequest) -> Iterator[object]:
    parser = SSEParser()
    for data in response.iter_bytes():
        for event in parser.feed(data):
            if event.event == "error":
                raise AskError(
                    f"{request.base_url} sent an error: {_server_message(event.data.encode())}"
                )
            if event.data.strip() == "[DONE]":
                yield Finish(reason="[DONE]")
                return
            try:
                chunk = json.loads(event.data)
            except ValueError:
                raise AskError(
                    f"{request.base_url} sent a malformed event stream: {event.data[:80]!r}"
                ) from None
            if isinstance(chunk, dict) and "error" in chunk and "choices" not in chunk:
                raise AskError(
                    f"{request.base_url} sent an error: {_server_message(event.data.encode())}"
                )
            yield chunk
