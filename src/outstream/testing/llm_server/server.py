"""A loopback LLM server for tests: a scripted answer in the providers' own wire formats.

Theory of operation
-------------------

`LLMServer` is an HTTP/1.1 server on 127.0.0.1 that plays a `Script`: the
chunks of an answer (and of its reasoning), when each goes out, the usage it
reports and how it fails. It speaks four dialects, chosen by the path
(`_ROUTES`), and answers errors in the same provider's shape:

- ``POST /v1/chat/completions``: OpenAI Chat Completions, SSE ``data:`` lines;
- ``POST /v1/responses``: OpenAI Responses, SSE ``event:`` and ``data:``;
- ``POST /v1/messages``: Anthropic Messages, SSE named events;
- ``POST /api/chat``, ``/api/generate``: Ollama, one JSON object a line;
- ``GET /v1/models`` (Anthropic's shape when the request has an
  ``anthropic-version`` header), ``/v1/models/{id}``, ``/api/tags``,
  ``/api/version``: so that clients that probe find the scripted models.

Each dialect is a small "wire" object that turns the script's steps into
bytes (``opening``, ``piece``, ``closing``, ``error_event``, ``garbage``,
``whole``) and does no I/O; the request handler owns the socket and the
timing. A streamed body is sent with ``Transfer-Encoding: chunked``, one HTTP
chunk per write, so a scripted disconnect (the socket closed before the
terminating chunk) is an error for every HTTP client, as it is with the real
services. Times are absolute: piece *k* goes out at ``t0 + schedule()[k]``,
``t0`` being the request's arrival, so the scripted timing does not drift.
Each request records when each piece went out (`RecordedRequest.piece_times`).

While it waits between pieces the handler watches the connection, so it
knows when the client closed it before the response ended
(`Ending.CLIENT_CLOSED`): what a test of Ctrl-C needs to see.

The server's time is real by default. Given a clock (a
`outstream.testing.VirtualClock`), it waits on that clock instead, so the
pacing code runs as it does on real time while a test asserts exact times;
the connection is then looked at before and after each wait.
"""

from __future__ import annotations

import enum
import http.server
import json
import secrets
import selectors
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, get_args
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from ...clock import Clock

__all__ = ["DEFAULT_MODEL", "Ending", "Failure", "LLMServer", "RecordedRequest", "Script", "Stop"]

Failure = Literal[
    "disconnect",
    "http_401",
    "http_403",
    "http_404_model",
    "http_429",
    "http_500",
    "malformed",
    "error_event",
    "http_502_text",
    "html",
    "redirect",
    "keepalive",
    "long_line",
    "gzip_bomb",
]
"""How a script fails.

- ``"disconnect"``: the socket is closed after `Script.fail_after` pieces, with
  no end marker and no terminating HTTP chunk.
- ``"http_401"`` ... ``"http_500"``: the request is refused at once with the
  provider's own error body (``http_404_model`` names the requested model,
  ``http_401`` the API key).
- ``"malformed"``: after `Script.fail_after` pieces, an event whose JSON is cut
  short; the stream then goes on as scripted.
- ``"error_event"``: after `Script.fail_after` pieces, the provider's in-stream
  error (an ``error`` event, an ``{"error": ...}`` object), and the body ends.

What a hostile or misconfigured server does instead of answering:

- ``"http_502_text"``: HTTP 502 with a plain-text body (`Script.error_message`,
  or a proxy's "Bad Gateway" page);
- ``"html"``: HTTP 200 with a web page (a login page where the API was meant);
- ``"redirect"``: HTTP 302 to a URL with a user, a password and a token;
- ``"keepalive"``: an event stream of keep-alive comments only, then its end;
- ``"long_line"``: an event stream whose first line is 17 MiB long and never ends;
- ``"gzip_bomb"``: a gzip-encoded event stream of 300 MiB of blank lines
  (300 KiB on the wire).

`Script.error_message`, when set, is the text of every error the server
sends (HTTP error bodies, in-stream errors): a hostile server's payload.
"""

Stop = Literal["end", "length"]
"""Why the answer ended: ``"end"`` (a natural stop) or ``"length"`` (the token limit)."""

Kind = Literal["reasoning", "text"]

DEFAULT_MODEL = "outstream-test"

_HTTP_FAILURES = frozenset({"http_401", "http_403", "http_404_model", "http_429", "http_500"})
_STREAM_FAILURES = frozenset({"disconnect", "malformed", "error_event"})
_HOSTILE_FAILURES = frozenset(
    {"http_502_text", "html", "redirect", "keepalive", "long_line", "gzip_bomb"}
)
_FAILURES = frozenset(get_args(Failure))


# --- the script ---


@dataclass(frozen=True, slots=True)
class Script:
    """What the server answers, when, and how it fails.

    The answer is a sequence of *pieces*: the reasoning chunks first, then the
    text chunks. Piece *k* goes out `schedule()[k]` seconds after the request
    arrived: ``ttft`` for the first, then every ``interval`` seconds, ``burst``
    pieces at a time, and `stall` seconds later from piece `stall_after` on.

    Args:
        chunks: the answer's text, as the chunks the client receives.
        reasoning: reasoning ("thinking") text, sent before the answer.
        ttft: seconds from the request to the first piece. The response's
            headers, and the events a provider sends before any token
            (Anthropic's ``message_start``, Responses' ``response.created``),
            go out at once.
        interval: seconds between one burst of pieces and the next.
        burst: pieces that go out together.
        stall_after: the index of the piece a stall delays (with all after it).
        stall: seconds of that stall.
        usage: ``(prompt_tokens, completion_tokens)`` to report; by default the
            words of the request's messages and the number of pieces.
        stop: why the answer ended.
        fail: how the response fails, if it does.
        fail_after: pieces sent before a ``disconnect``, ``malformed`` or
            ``error_event`` failure, which happens when the next piece was due.
        error_message: the text of every error the server sends, instead of
            the provider's own.

    Raises:
        ValueError: a field is out of range.
    """

    chunks: Sequence[str] = ("Hello", ", ", "world", "!")
    _: KW_ONLY
    reasoning: Sequence[str] = ()
    ttft: float = 0.0
    interval: float = 0.0
    burst: int = 1
    stall_after: int | None = None
    stall: float = 0.0
    usage: tuple[int, int] | None = None
    stop: Stop = "end"
    fail: Failure | None = None
    fail_after: int = 0
    error_message: str | None = None

    def __post_init__(self) -> None:
        for name in ("chunks", "reasoning"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(c, str) for c in value):
                raise ValueError(f"{name} must be a sequence of str")
            object.__setattr__(self, name, tuple(value))
        if min(self.ttft, self.interval, self.stall) < 0:
            raise ValueError("ttft, interval and stall must not be negative")
        if self.burst < 1:
            raise ValueError("burst must be at least 1")
        n_pieces = self.n_pieces
        if self.stall_after is not None and not 0 <= self.stall_after < n_pieces:
            raise ValueError(f"stall_after must be a piece's index, 0 to {n_pieces - 1}")
        if self.usage is not None and min(self.usage) < 0:
            raise ValueError("usage must not be negative")
        if self.fail is not None and self.fail not in _FAILURES:
            raise ValueError(f"unknown failure {self.fail!r}")
        if not 0 <= self.fail_after <= n_pieces:
            raise ValueError(f"fail_after must be 0 to {n_pieces}, the number of pieces")
        if self.fail_after and self.fail not in _STREAM_FAILURES:
            raise ValueError("fail_after is for 'disconnect', 'malformed' and 'error_event'")

    # --- timing patterns ---

    @classmethod
    def steady(
        cls, chunks: Sequence[str], *, rate: float, ttft: float = 0.0, **fields: Any
    ) -> Script:
        """A script whose pieces come at `rate` pieces a second after `ttft`."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        return cls(chunks, ttft=ttft, interval=1.0 / rate, **fields)

    @classmethod
    def bursts(
        cls, chunks: Sequence[str], *, size: int, every: float, ttft: float = 0.0, **fields: Any
    ) -> Script:
        """A script whose pieces come `size` at a time, a burst every `every` seconds."""
        return cls(chunks, ttft=ttft, interval=every, burst=size, **fields)

    def stalled(self, *, after: int, seconds: float) -> Script:
        """This script with a pause of `seconds` before piece `after`."""
        return replace(self, stall_after=after, stall=seconds)

    # --- what it plays ---

    @property
    def n_pieces(self) -> int:
        return len(self.reasoning) + len(self.chunks)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def reasoning_text(self) -> str:
        return "".join(self.reasoning)

    def pieces(self) -> tuple[tuple[Kind, str], ...]:
        """The pieces in the order they are sent: ``(kind, text)``."""
        reasoning: list[tuple[Kind, str]] = [("reasoning", c) for c in self.reasoning]
        text: list[tuple[Kind, str]] = [("text", c) for c in self.chunks]
        return (*reasoning, *text)

    def schedule(self) -> tuple[float, ...]:
        """When each piece is due, in seconds after the request arrived."""
        times = []
        for k in range(self.n_pieces):
            t = self.ttft + (k // self.burst) * self.interval
            if self.stall_after is not None and k >= self.stall_after:
                t += self.stall
            times.append(t)
        return tuple(times)

    def fail_time(self) -> float:
        """When a mid-stream failure happens: when piece `fail_after` was due, or at once."""
        times = self.schedule()
        if self.fail_after < len(times):
            return times[self.fail_after]
        return times[-1] if times else self.ttft


# --- what the server saw ---


class Ending(enum.Enum):
    """How the server's response to a request ended."""

    COMPLETE = "complete"
    """Everything meant to be sent was sent (also an error for an unscripted model)."""
    FAILED = "failed"
    """The script's failure was carried out."""
    CLIENT_CLOSED = "client_closed"
    """The client closed the connection before the response ended."""
    SERVER_CLOSED = "server_closed"
    """`LLMServer.close()` cut the response short."""


class _Progress:
    def __init__(self) -> None:
        self.piece_times: list[float] = []
        self.status: int | None = None
        self.ending: Ending | None = None
        self.done = threading.Event()

    def end(self, ending: Ending) -> None:
        if self.ending is None:
            self.ending = ending
            self.done.set()


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedRequest:
    """A request the server received, and how far its response got.

    Attributes:
        method: ``"GET"``, ``"POST"``...
        path: the path, without the query.
        headers: the request's headers, names in lower case.
        body: the parsed JSON body; None when there is none or it is not JSON.
        raw_body: the body as received.
        t: when the request had been read, on the server's clock
            (`time.monotonic()` by default).
    """

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    raw_body: bytes = field(repr=False)
    t: float
    _progress: _Progress = field(default_factory=_Progress, repr=False, compare=False)

    @property
    def model(self) -> str | None:
        model = self.body.get("model") if isinstance(self.body, dict) else None
        return model if isinstance(model, str) else None

    @property
    def status(self) -> int | None:
        """The HTTP status sent; None before the headers (or if none were)."""
        return self._progress.status

    @property
    def n_pieces_sent(self) -> int:
        """The scripted pieces sent so far."""
        return len(self._progress.piece_times)

    @property
    def piece_times(self) -> tuple[float, ...]:
        """When each piece sent so far went out, on the server's clock.

        A whole (not streamed) answer goes out at once: its pieces share one time.
        """
        return tuple(self._progress.piece_times)

    @property
    def ending(self) -> Ending | None:
        """How the response ended; None while it goes on."""
        return self._progress.ending

    def wait(self, timeout: float = 5.0) -> Ending:
        """Wait until the response has ended, and say how.

        Raises:
            TimeoutError: it has not ended within `timeout` seconds.
        """
        if not self._progress.done.wait(timeout):
            raise TimeoutError(f"the response to {self.method} {self.path} is still going on")
        assert self._progress.ending is not None
        return self._progress.ending


# --- wire formats: pure, bytes out ---


@dataclass(frozen=True, slots=True, kw_only=True)
class _Context:
    model: str
    script: Script
    body: Mapping[str, Any]
    n_prompt_tokens: int
    n_completion_tokens: int
    n_reasoning_tokens: int
    t0: float
    wall0: float


class _Wire(Protocol):
    content_type: str

    def opening(self) -> bytes: ...
    def piece(self, kind: Kind, text: str, now: float) -> bytes: ...
    def closing(self, now: float) -> bytes: ...
    def error_event(self) -> bytes: ...
    def garbage(self) -> bytes: ...
    def whole(self, now: float) -> object: ...


def _json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _sse(data: object, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event is not None else ""
    return f"{head}data: {_json(data)}\n\n".encode()


def _token(n_bytes: int = 12) -> str:
    return secrets.token_hex(n_bytes)


_SSE = "text/event-stream; charset=utf-8"
_OPENAI_FINGERPRINT = "fp_outstream0"
_OPENAI_SERVER_ERROR = "The server had an error while processing your request. Sorry about that!"


class _ChatWire:
    """OpenAI Chat Completions: ``data: {chat.completion.chunk}`` events, then ``data: [DONE]``."""

    content_type = _SSE

    def __init__(self, ctx: _Context) -> None:
        self._ctx = ctx
        self._id = "chatcmpl-" + _token()
        options = ctx.body.get("stream_options")
        self._include_usage = isinstance(options, dict) and options.get("include_usage") is True
        self._started = False

    def _chunk(self, choices: list[object], **extra: object) -> bytes:
        obj: dict[str, object] = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": int(self._ctx.wall0),
            "model": self._ctx.model,
            "service_tier": "default",
            "system_fingerprint": _OPENAI_FINGERPRINT,
            "choices": choices,
        }
        if self._include_usage:
            obj["usage"] = None
        obj.update(extra)
        return _sse(obj)

    def _delta(self, delta: dict[str, object], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self._chunk([choice])

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        return self._delta({"role": "assistant", "content": "", "refusal": None})

    def opening(self) -> bytes:
        return b""

    def piece(self, kind: Kind, text: str, now: float) -> bytes:
        key = "reasoning_content" if kind == "reasoning" else "content"
        return self._start() + self._delta({key: text})

    def closing(self, now: float) -> bytes:
        finish_reason = "stop" if self._ctx.script.stop == "end" else "length"
        out = self._start() + self._delta({}, finish_reason)
        if self._include_usage:
            out += self._chunk([], usage=_openai_chat_usage(self._ctx))
        return out + b"data: [DONE]\n\n"

    def error_event(self) -> bytes:
        message = self._ctx.script.error_message or _OPENAI_SERVER_ERROR
        error = {"message": message, "type": "server_error", "param": None}
        return _sse({"error": {**error, "code": None}})

    def garbage(self) -> bytes:
        return f'data: {{"id":"{self._id}","object":"chat.completion.chunk","choices":[{{"index":0,"delta":{{"content":\n\n'.encode()

    def whole(self, now: float) -> object:
        script = self._ctx.script
        message: dict[str, object] = {
            "role": "assistant",
            "content": script.text,
            "refusal": None,
            "annotations": [],
        }
        if script.reasoning:
            message["reasoning_content"] = script.reasoning_text
        return {
            "id": self._id,
            "object": "chat.completion",
            "created": int(self._ctx.wall0),
            "model": self._ctx.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "stop" if script.stop == "end" else "length",
                }
            ],
            "usage": _openai_chat_usage(self._ctx),
            "service_tier": "default",
            "system_fingerprint": _OPENAI_FINGERPRINT,
        }


def _openai_chat_usage(ctx: _Context) -> dict[str, object]:
    return {
        "prompt_tokens": ctx.n_prompt_tokens,
        "completion_tokens": ctx.n_completion_tokens,
        "total_tokens": ctx.n_prompt_tokens + ctx.n_completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": ctx.n_reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


class _ResponsesWire:
    """OpenAI Responses: ``event: <type>`` SSE, each event with its ``sequence_number``."""

    content_type = _SSE

    def __init__(self, ctx: _Context) -> None:
        self._ctx = ctx
        self._id = "resp_" + _token(24)
        self._reasoning_id = "rs_" + _token(24)
        self._message_id = "msg_" + _token(24)
        self._sequence_number = 0
        self._open: Kind | None = None
        self._reasoning: list[str] = []
        self._text: list[str] = []
        self._output: list[dict[str, object]] = []

    def _event(self, type_: str, **fields: object) -> bytes:
        obj = {"type": type_, "sequence_number": self._sequence_number, **fields}
        self._sequence_number += 1
        return _sse(obj, event=type_)

    def _response(self, status: str, *, now: float | None = None) -> dict[str, object]:
        ctx = self._ctx
        done = status != "in_progress"
        return {
            "id": self._id,
            "object": "response",
            "created_at": int(ctx.wall0),
            "status": status,
            "background": False,
            "completed_at": int(ctx.wall0 + (now - ctx.t0)) if now is not None else None,
            "error": None,
            "incomplete_details": {"reason": "max_output_tokens"}
            if status == "incomplete"
            else None,
            "instructions": ctx.body.get("instructions"),
            "max_output_tokens": ctx.body.get("max_output_tokens"),
            "max_tool_calls": None,
            "model": ctx.model,
            "output": list(self._output) if done else [],
            "parallel_tool_calls": True,
            "previous_response_id": None,
            "prompt_cache_key": None,
            "reasoning": {"effort": None, "summary": None},
            "safety_identifier": None,
            "service_tier": "default",
            "store": True,
            "temperature": 1.0,
            "text": {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": "auto",
            "tools": [],
            "top_logprobs": 0,
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": self._usage() if done else None,
            "user": None,
            "metadata": {},
        }

    def _usage(self) -> dict[str, object]:
        ctx = self._ctx
        return {
            "input_tokens": ctx.n_prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": ctx.n_completion_tokens,
            "output_tokens_details": {"reasoning_tokens": ctx.n_reasoning_tokens},
            "total_tokens": ctx.n_prompt_tokens + ctx.n_completion_tokens,
        }

    def _text_part(self, text: str) -> dict[str, object]:
        return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}

    def _message(self, status: str, content: list[object]) -> dict[str, object]:
        return {
            "id": self._message_id,
            "type": "message",
            "status": status,
            "content": content,
            "role": "assistant",
        }

    def _switch(self, kind: Kind | None) -> bytes:
        """Close the open output item and open one of `kind`."""
        out = b""
        if self._open == kind:
            return out
        output_index = len(self._output)
        part: dict[str, object]
        item: dict[str, object]
        if self._open == "reasoning":
            text = "".join(self._reasoning)
            part = {"type": "summary_text", "text": text}
            ids: dict[str, object] = {
                "item_id": self._reasoning_id,
                "output_index": output_index,
                "summary_index": 0,
            }
            item = {"id": self._reasoning_id, "type": "reasoning", "summary": [part]}
            out += self._event("response.reasoning_summary_text.done", **ids, text=text)
            out += self._event("response.reasoning_summary_part.done", **ids, part=part)
            out += self._event("response.output_item.done", output_index=output_index, item=item)
            self._output.append(item)
            output_index += 1
        elif self._open == "text":
            text = "".join(self._text)
            status = "completed" if self._ctx.script.stop == "end" else "incomplete"
            ids = {
                "item_id": self._message_id,
                "output_index": output_index,
                "content_index": 0,
            }
            part = self._text_part(text)
            item = self._message(status, [part])
            out += self._event("response.output_text.done", **ids, text=text, logprobs=[])
            out += self._event("response.content_part.done", **ids, part=part)
            out += self._event("response.output_item.done", output_index=output_index, item=item)
            self._output.append(item)
            output_index += 1
        self._open = kind
        if kind == "reasoning":
            item = {"id": self._reasoning_id, "type": "reasoning", "summary": []}
            out += self._event("response.output_item.added", output_index=output_index, item=item)
            out += self._event(
                "response.reasoning_summary_part.added",
                item_id=self._reasoning_id,
                output_index=output_index,
                summary_index=0,
                part={"type": "summary_text", "text": ""},
            )
        elif kind == "text":
            item = self._message("in_progress", [])
            out += self._event("response.output_item.added", output_index=output_index, item=item)
            out += self._event(
                "response.content_part.added",
                item_id=self._message_id,
                output_index=output_index,
                content_index=0,
                part=self._text_part(""),
            )
        return out

    def opening(self) -> bytes:
        out = self._event("response.created", response=self._response("in_progress"))
        return out + self._event("response.in_progress", response=self._response("in_progress"))

    def piece(self, kind: Kind, text: str, now: float) -> bytes:
        out = self._switch(kind)
        output_index = len(self._output)
        if kind == "reasoning":
            self._reasoning.append(text)
            return out + self._event(
                "response.reasoning_summary_text.delta",
                item_id=self._reasoning_id,
                output_index=output_index,
                summary_index=0,
                delta=text,
            )
        self._text.append(text)
        return out + self._event(
            "response.output_text.delta",
            item_id=self._message_id,
            output_index=output_index,
            content_index=0,
            delta=text,
            logprobs=[],
        )

    def closing(self, now: float) -> bytes:
        out = self._switch("text") + self._switch(None)
        if self._ctx.script.stop == "end":
            return out + self._event(
                "response.completed", response=self._response("completed", now=now)
            )
        return out + self._event(
            "response.incomplete", response=self._response("incomplete", now=now)
        )

    def error_event(self) -> bytes:
        message = self._ctx.script.error_message or _OPENAI_SERVER_ERROR
        return self._event("error", code="server_error", message=message, param=None)

    def garbage(self) -> bytes:
        return f'event: response.output_text.delta\ndata: {{"type":"response.output_text.delta","item_id":"{self._message_id}","delta":\n\n'.encode()

    def whole(self, now: float) -> object:
        script = self._ctx.script
        if script.reasoning:
            summary = [{"type": "summary_text", "text": script.reasoning_text}]
            self._output.append({"id": self._reasoning_id, "type": "reasoning", "summary": summary})
        status = "completed" if script.stop == "end" else "incomplete"
        self._output.append(self._message(status, [self._text_part(script.text)]))
        return self._response(status, now=now)


class _MessagesWire:
    """Anthropic Messages: named SSE events, a thinking block then a text block."""

    content_type = _SSE

    def __init__(self, ctx: _Context) -> None:
        self._ctx = ctx
        self._id = "msg_01" + _token(11)
        self._signature = "Eq" + secrets.token_urlsafe(48)
        self._open: Kind | None = None
        self._index = -1

    def _event(self, type_: str, **fields: object) -> bytes:
        return _sse({"type": type_, **fields}, event=type_)

    def _message(
        self, content: list[object], stop_reason: str | None, n_output_tokens: int
    ) -> dict[str, object]:
        return {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._ctx.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": self._ctx.n_prompt_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": n_output_tokens,
                "service_tier": "standard",
            },
        }

    def _stop_reason(self) -> str:
        return "end_turn" if self._ctx.script.stop == "end" else "max_tokens"

    def _switch(self, kind: Kind | None) -> bytes:
        """Stop the open content block and start one of `kind`."""
        out = b""
        if self._open == kind:
            return out
        if self._open == "reasoning":
            delta = {"type": "signature_delta", "signature": self._signature}
            out += self._event("content_block_delta", index=self._index, delta=delta)
        if self._open is not None:
            out += self._event("content_block_stop", index=self._index)
        self._open = kind
        if kind is not None:
            self._index += 1
            block = (
                {"type": "thinking", "thinking": "", "signature": ""}
                if kind == "reasoning"
                else {"type": "text", "text": ""}
            )
            out += self._event("content_block_start", index=self._index, content_block=block)
        return out

    def opening(self) -> bytes:
        message = self._message([], None, 1)
        return self._event("message_start", message=message) + self._event("ping")

    def piece(self, kind: Kind, text: str, now: float) -> bytes:
        delta = (
            {"type": "thinking_delta", "thinking": text}
            if kind == "reasoning"
            else {"type": "text_delta", "text": text}
        )
        return self._switch(kind) + self._event(
            "content_block_delta", index=self._index, delta=delta
        )

    def closing(self, now: float) -> bytes:
        out = self._switch("text") + self._switch(None)
        usage = {
            "input_tokens": self._ctx.n_prompt_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": self._ctx.n_completion_tokens,
        }
        delta = {"stop_reason": self._stop_reason(), "stop_sequence": None}
        out += self._event("message_delta", delta=delta, usage=usage)
        return out + self._event("message_stop")

    def error_event(self) -> bytes:
        message = self._ctx.script.error_message or "Overloaded"
        return self._event("error", error={"type": "overloaded_error", "message": message})

    def garbage(self) -> bytes:
        return f'event: content_block_delta\ndata: {{"type":"content_block_delta","index":{max(self._index, 0)},"delta":{{"type":"text_delta","text":\n\n'.encode()

    def whole(self, now: float) -> object:
        script = self._ctx.script
        content: list[object] = []
        if script.reasoning:
            thinking = script.reasoning_text
            content.append({"type": "thinking", "thinking": thinking, "signature": self._signature})
        content.append({"type": "text", "text": script.text})
        return self._message(content, self._stop_reason(), self._ctx.n_completion_tokens)


class _OllamaWire:
    """Ollama: one JSON object a line; the last has ``done: true`` and the counts."""

    content_type = "application/x-ndjson"
    _key: ClassVar[str]

    def __init__(self, ctx: _Context) -> None:
        self._ctx = ctx
        self._t_first: float | None = None

    def _created_at(self, now: float) -> str:
        t = datetime.fromtimestamp(self._ctx.wall0 + (now - self._ctx.t0), UTC)
        return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _content(self, text: str, thinking: str | None) -> dict[str, object]:
        raise NotImplementedError

    def _line(self, obj: object) -> bytes:
        return (_json(obj) + "\n").encode()

    def _final(self, now: float, content: dict[str, object]) -> dict[str, object]:
        ctx = self._ctx
        t_first = self._t_first if self._t_first is not None else now
        return {
            "model": ctx.model,
            "created_at": self._created_at(now),
            **content,
            "done": True,
            "done_reason": "stop" if ctx.script.stop == "end" else "length",
            "total_duration": round((now - ctx.t0) * 1e9),
            "load_duration": 0,
            "prompt_eval_count": ctx.n_prompt_tokens,
            "prompt_eval_duration": round((t_first - ctx.t0) * 1e9),
            "eval_count": ctx.n_completion_tokens,
            "eval_duration": round((now - t_first) * 1e9),
        }

    def opening(self) -> bytes:
        return b""

    def piece(self, kind: Kind, text: str, now: float) -> bytes:
        if self._t_first is None:
            self._t_first = now
        content = self._content("", text) if kind == "reasoning" else self._content(text, None)
        obj = {
            "model": self._ctx.model,
            "created_at": self._created_at(now),
            **content,
            "done": False,
        }
        return self._line(obj)

    def closing(self, now: float) -> bytes:
        return self._line(self._final(now, self._content("", None)))

    def error_event(self) -> bytes:
        message = self._ctx.script.error_message
        return self._line(
            {"error": message or "an error was encountered while running the model: unexpected EOF"}
        )

    def garbage(self) -> bytes:
        return f'{{"model":"{self._ctx.model}","created_at":"{self._created_at(self._ctx.t0)}",{_json(self._key)}:\n'.encode()

    def whole(self, now: float) -> object:
        script = self._ctx.script
        thinking = script.reasoning_text if script.reasoning else None
        return self._final(now, self._content(script.text, thinking))


class _OllamaChatWire(_OllamaWire):
    _key = "message"

    def _content(self, text: str, thinking: str | None) -> dict[str, object]:
        message: dict[str, object] = {"role": "assistant", "content": text}
        if thinking is not None:
            message["thinking"] = thinking
        return {"message": message}


class _OllamaGenerateWire(_OllamaWire):
    _key = "response"

    def _content(self, text: str, thinking: str | None) -> dict[str, object]:
        content: dict[str, object] = {"response": text}
        if thinking is not None:
            content["thinking"] = thinking
        return content

    def _final(self, now: float, content: dict[str, object]) -> dict[str, object]:
        final = super()._final(now, content)
        final["context"] = list(
            range(1, self._ctx.n_prompt_tokens + self._ctx.n_completion_tokens + 1)
        )
        return final


# --- errors, in each provider's own shape ---

Api = Literal["openai", "anthropic", "ollama"]

# failure -> (status, type, code, message); {model} and {key} are filled in.
_OPENAI_ERRORS: Mapping[str, tuple[int, str, str | None, str]] = {
    "http_401": (
        401,
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys.",
    ),
    "http_401_missing": (
        401,
        "invalid_request_error",
        None,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
    ),
    "http_403": (
        403,
        "invalid_request_error",
        "model_not_found",
        "Project `proj_outstream` does not have access to model `{model}`",
    ),
    "http_404_model": (
        404,
        "invalid_request_error",
        "model_not_found",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
    "http_429": (
        429,
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for {model} in organization org-outstream on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.",
    ),
    "http_500": (500, "server_error", None, _OPENAI_SERVER_ERROR),
    "bad_json": (
        400,
        "invalid_request_error",
        None,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    ),
    "bad_url": (404, "invalid_request_error", None, "Invalid URL ({method} {path})"),
}

# failure -> (status, error.type, message)
_ANTHROPIC_ERRORS: Mapping[str, tuple[int, str, str]] = {
    "http_401": (401, "authentication_error", "invalid x-api-key"),
    "http_401_missing": (401, "authentication_error", "x-api-key header is required"),
    "http_403": (
        403,
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    "http_404_model": (404, "not_found_error", "model: {model}"),
    "http_429": (
        429,
        "rate_limit_error",
        "This request would exceed the rate limit for your organization (org-outstream) of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.",
    ),
    "http_500": (500, "api_error", "Internal server error"),
    "bad_json": (
        400,
        "invalid_request_error",
        "There was an issue with the formatting or content of your request.",
    ),
    "bad_url": (404, "not_found_error", "Not Found"),
}

# failure -> (status, error)
_OLLAMA_ERRORS: Mapping[str, tuple[int, str]] = {
    "http_401": (401, "unauthorized: invalid API key"),
    "http_401_missing": (401, "unauthorized: missing API key"),
    "http_403": (403, 'forbidden: access to model "{model}" is denied'),
    "http_404_model": (404, 'model "{model}" not found, try pulling it first'),
    "http_429": (429, "too many requests: rate limit exceeded, please try again later"),
    "http_500": (500, "llama runner process has terminated: exit status 2"),
    "bad_json": (400, "invalid character 'o' looking for beginning of value"),
}


def _masked_key(headers: Mapping[str, str], api: Api) -> str | None:
    if api == "anthropic" and "x-api-key" in headers:
        key = headers["x-api-key"]
    else:
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            return None
        key = auth[7:].strip()
    if not key:
        return None
    # The API shows a long key with its middle hidden, a short one as it is.
    return key[:3] + "*" * (len(key) - 7) + key[-4:] if len(key) > 12 else key


def _error_response(
    api: Api,
    kind: str,
    *,
    model: str,
    headers: Mapping[str, str],
    path: str = "",
    method: str = "",
    message: str | None = None,
) -> tuple[int, dict[str, object]]:
    """The provider's error body for `kind`; `message` instead of its text, if given."""
    status, body = _provider_error(
        api, kind, model=model, headers=headers, path=path, method=method
    )
    if message is not None:
        error = body["error"]
        if isinstance(error, dict):
            error["message"] = message
        else:
            body["error"] = message
    return status, body


def _provider_error(
    api: Api, kind: str, *, model: str, headers: Mapping[str, str], path: str, method: str
) -> tuple[int, dict[str, object]]:
    key = _masked_key(headers, api)
    if kind == "http_401" and key is None:
        kind = "http_401_missing"
    if api == "ollama" and kind == "bad_url":
        raise AssertionError("Ollama's unknown paths are plain text")
    values = {"model": model, "key": key or "", "path": path, "method": method}
    if api == "openai":
        status, type_, code, message = _OPENAI_ERRORS[kind]
        error = {"message": message.format(**values), "type": type_, "param": None, "code": code}
        return status, {"error": error}
    if api == "anthropic":
        status, type_, message = _ANTHROPIC_ERRORS[kind]
        return status, {
            "type": "error",
            "error": {"type": type_, "message": message.format(**values)},
            "request_id": "req_011" + _token(10),
        }
    status, message = _OLLAMA_ERRORS[kind]
    return status, {"error": message.format(**values)}


# --- routes ---

_WireFactory = type[_ChatWire] | type[_ResponsesWire] | type[_MessagesWire] | type[_OllamaWire]

# (method, path) -> (api, wire, streams when "stream" is absent)
_ROUTES: Mapping[tuple[str, str], tuple[Api, _WireFactory, bool]] = {
    ("POST", "/v1/chat/completions"): ("openai", _ChatWire, False),
    ("POST", "/v1/responses"): ("openai", _ResponsesWire, False),
    ("POST", "/v1/messages"): ("anthropic", _MessagesWire, False),
    ("POST", "/api/chat"): ("ollama", _OllamaChatWire, True),
    ("POST", "/api/generate"): ("ollama", _OllamaGenerateWire, True),
}

_PROMPT_KEYS = ("messages", "input", "prompt", "system", "instructions")
_NOT_PROMPT_KEYS = frozenset({"role", "type", "id", "name", "cache_control"})


def _count_words(value: object) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, dict):
        return sum(_count_words(v) for k, v in value.items() if k not in _NOT_PROMPT_KEYS)
    if isinstance(value, list):
        return sum(_count_words(v) for v in value)
    return 0


def _api_of(path: str, headers: Mapping[str, str]) -> Api:
    if path.startswith("/api/"):
        return "ollama"
    if path.startswith("/v1/messages") or "anthropic-version" in headers:
        return "anthropic"
    return "openai"


# --- the server ---


class _ClientClosed(Exception):
    pass


class _ServerClosing(Exception):
    pass


class _HTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, owner: LLMServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks socket.getfqdn(), a reverse DNS lookup that can take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away: part of the job, not a fault
        super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "outstream-llm-server"
    sys_version = ""
    disable_nagle_algorithm = True  # each event leaves at once, as it is written
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # A selector, not select.select(), which fails on descriptors above FD_SETSIZE.
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.connection, selectors.EVENT_READ)
        self._selector.register(self.server.owner._wake, selectors.EVENT_READ)
        self.server.owner._attach(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._detach(self.connection)
            self._selector.close()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    # --- one request ---

    def _serve(self) -> None:
        owner = self.server.owner
        n_bytes = int(self.headers.get("content-length") or 0)
        raw_body = self.rfile.read(n_bytes) if n_bytes else b""
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = RecordedRequest(
            method=self.command,
            path=urlsplit(self.path).path,
            headers=headers,
            body=body,
            raw_body=raw_body,
            t=owner._now(),
        )
        owner._record(request)
        progress = request._progress
        try:
            progress.end(self._respond(request))
        except _ClientClosed:
            self.close_connection = True
            progress.end(Ending.CLIENT_CLOSED)
        except (_ServerClosing, OSError):
            self.close_connection = True
            progress.end(Ending.SERVER_CLOSED)
        finally:
            # Any other exception is a fault of this server's (handle_error prints it).
            progress.end(Ending.SERVER_CLOSED)

    def _respond(self, request: RecordedRequest) -> Ending:
        owner = self.server.owner
        path, headers, body = request.path, request.headers, request.body
        if request.method == "GET":
            return self._list_models(request)
        route = _ROUTES.get((request.method, path))
        if route is None:
            api = _api_of(path, headers)
            if api == "ollama":
                self._send_bytes(request, 404, "text/plain; charset=utf-8", b"404 page not found")
                return Ending.COMPLETE
            status, error = _error_response(
                api, "bad_url", model="", headers=headers, path=path, method=request.method
            )
            self._send_json(request, status, error, api)
            return Ending.COMPLETE
        api, wire_class, streams_by_default = route
        if not isinstance(body, dict):
            status, error = _error_response(api, "bad_json", model="", headers=headers)
            self._send_json(request, status, error, api)
            return Ending.COMPLETE
        model = body.get("model")
        if not isinstance(model, str):
            model = ""
        script = owner._script_for(model)
        if script is None or script.fail == "http_404_model":
            message = script.error_message if script is not None else None
            status, error = _error_response(
                api, "http_404_model", model=model, headers=headers, message=message
            )
            self._send_json(request, status, error, api)
            return Ending.COMPLETE if script is None else Ending.FAILED
        if script.fail is not None and script.fail in _HTTP_FAILURES:
            status, error = _error_response(
                api, script.fail, model=model, headers=headers, message=script.error_message
            )
            self._send_json(request, status, error, api)
            return Ending.FAILED
        if script.fail is not None and script.fail in _HOSTILE_FAILURES:
            self._misbehave(request, script)
            return Ending.FAILED
        n_prompt, n_completion = script.usage or (
            _count_words([body.get(k) for k in _PROMPT_KEYS]),
            script.n_pieces,
        )
        ctx = _Context(
            model=model,
            script=script,
            body=body,
            n_prompt_tokens=n_prompt,
            n_completion_tokens=n_completion,
            n_reasoning_tokens=min(len(script.reasoning), n_completion),
            t0=request.t,
            wall0=time.time(),
        )
        wire: _Wire = wire_class(ctx)
        stream = body.get("stream", streams_by_default) is True
        if stream:
            return self._stream(request, wire, script, api)
        return self._answer_whole(request, wire, script, api)

    def _stream(self, request: RecordedRequest, wire: _Wire, script: Script, api: Api) -> Ending:
        progress = request._progress
        t0 = request.t
        self._send_head(request, 200, wire.content_type, api, chunked=True)
        self._send_chunk(wire.opening())
        pieces = script.pieces()
        times = script.schedule()
        for i in range(len(pieces) + 1):
            if script.fail in _STREAM_FAILURES and i == script.fail_after:
                self._wait_until(t0 + script.fail_time())
                if script.fail == "disconnect":
                    self._hang_up()
                    return Ending.FAILED
                if script.fail == "error_event":
                    self._end_body(wire.error_event())
                    return Ending.FAILED
                self._send_chunk(wire.garbage())
            if i == len(pieces):
                break
            self._wait_until(t0 + times[i])
            kind, text = pieces[i]
            now = self._now()
            self._send_chunk(wire.piece(kind, text, now))
            progress.piece_times.append(now)
        self._end_body(wire.closing(self._now()))
        return Ending.FAILED if script.fail is not None else Ending.COMPLETE

    def _misbehave(self, request: RecordedRequest, script: Script) -> None:
        """A hostile or misconfigured server's answer (see `Failure`)."""
        fail = script.fail
        if fail == "http_502_text":
            text = script.error_message or "<html><body><h1>502 Bad Gateway</h1></body></html>"
            self._send_bytes(request, 502, "text/plain; charset=utf-8", text.encode())
        elif fail == "html":
            page = b"<!doctype html><html><head><title>Sign in</title></head><body></body></html>"
            self._send_bytes(request, 200, "text/html; charset=utf-8", page)
        elif fail == "redirect":
            self.send_response(302)
            self.send_header("Location", "https://user:hunter2@login.invalid/sso?token=s3cr3t")
            self.send_header("Content-Length", "0")
            self._write(b"", headers=True)
        elif fail == "gzip_bomb":
            import zlib

            packer = zlib.compressobj(9, zlib.DEFLATED, 31)
            block = b"\n" * (1 << 20)
            body = b"".join(packer.compress(block) for _ in range(300)) + packer.flush()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self._write(body, headers=True)
        else:
            self._send_head(request, 200, "text/event-stream", "openai", chunked=True)
            if fail == "keepalive":
                for _ in range(3):
                    self._send_chunk(b": keep-alive\n\n")
            else:  # long_line
                piece = b"x" * (1 << 20)
                self._send_chunk(b"data: ")
                for _ in range(17):
                    self._send_chunk(piece)
            self._end_body(b"")

    def _answer_whole(
        self, request: RecordedRequest, wire: _Wire, script: Script, api: Api
    ) -> Ending:
        t0 = request.t
        if script.fail in _STREAM_FAILURES:
            self._wait_until(t0 + script.fail_time())
            if script.fail == "disconnect":
                self._hang_up()
            elif script.fail == "malformed":
                body = _json(wire.whole(self._now())).encode()
                self._send_bytes(request, 200, "application/json", body[: len(body) // 2], api)
            else:
                status, error = _error_response(api, "http_500", model="", headers=request.headers)
                self._send_json(request, status, error, api)
            return Ending.FAILED
        times = script.schedule()
        self._wait_until(t0 + (times[-1] if times else script.ttft))
        now = self._now()
        request._progress.piece_times[:] = [now] * script.n_pieces
        self._send_json(request, 200, wire.whole(now), api)
        return Ending.COMPLETE

    def _list_models(self, request: RecordedRequest) -> Ending:
        path, headers = request.path, request.headers
        names = self.server.owner.model_names()
        created = "2025-01-01T00:00:00Z"
        if path == "/api/version":
            self._send_json(request, 200, {"version": "0.12.0"}, "ollama")
        elif path == "/api/tags":
            models = [
                {
                    "name": name,
                    "model": name,
                    "modified_at": created,
                    "size": 0,
                    "digest": "0" * 64,
                    "details": {"format": "gguf", "family": "outstream", "parameter_size": "0B"},
                }
                for name in names
            ]
            self._send_json(request, 200, {"models": models}, "ollama")
        elif path == "/v1/models" and "anthropic-version" in headers:
            data: list[dict[str, object]] = [
                {"type": "model", "id": name, "display_name": name, "created_at": created}
                for name in names
            ]
            page = {
                "data": data,
                "has_more": False,
                "first_id": names[0] if names else None,
                "last_id": names[-1] if names else None,
            }
            self._send_json(request, 200, page, "anthropic")
        elif path == "/v1/models":
            data = [
                {"id": name, "object": "model", "created": 1735689600, "owned_by": "outstream"}
                for name in names
            ]
            self._send_json(request, 200, {"object": "list", "data": data}, "openai")
        elif path.startswith("/v1/models/") and path.removeprefix("/v1/models/") in names:
            name = path.removeprefix("/v1/models/")
            entry = {"id": name, "object": "model", "created": 1735689600, "owned_by": "outstream"}
            self._send_json(request, 200, entry, "openai")
        else:
            api = _api_of(path, headers)
            if api == "ollama":
                self._send_bytes(request, 404, "text/plain; charset=utf-8", b"404 page not found")
                return Ending.COMPLETE
            kind = "http_404_model" if path.startswith("/v1/models/") else "bad_url"
            model = path.removeprefix("/v1/models/")
            status, error = _error_response(
                api, kind, model=model, headers=headers, path=path, method="GET"
            )
            self._send_json(request, status, error, api)
        return Ending.COMPLETE

    # --- I/O ---

    def _send_head(
        self,
        request: RecordedRequest,
        status: int,
        content_type: str,
        api: Api | None,
        *,
        chunked: bool = False,
        n_bytes: int = 0,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache")
        else:
            self.send_header("Content-Length", str(n_bytes))
        if api == "openai":
            self.send_header("x-request-id", "req_" + _token(16))
        elif api == "anthropic":
            self.send_header("request-id", "req_011" + _token(10))
        self._write(b"", headers=True)
        request._progress.status = status

    def _send_bytes(
        self,
        request: RecordedRequest,
        status: int,
        content_type: str,
        body: bytes,
        api: Api | None = None,
    ) -> None:
        self._send_head(request, status, content_type, api, n_bytes=len(body))
        self._write(body)

    def _send_json(self, request: RecordedRequest, status: int, obj: object, api: Api) -> None:
        content_type = "application/json; charset=utf-8" if api == "ollama" else "application/json"
        self._send_bytes(request, status, content_type, _json(obj).encode(), api)

    def _send_chunk(self, data: bytes) -> None:
        """Send `data` as one HTTP chunk (nothing, if it is empty)."""
        if data:
            self._write(b"%x\r\n%s\r\n" % (len(data), data))

    def _end_body(self, data: bytes) -> None:
        """Send `data` and the terminating chunk in one write.

        The client may close the connection as soon as it has read the end
        marker in `data`; the terminating chunk must not be left for later.
        """
        chunk = b"%x\r\n%s\r\n" % (len(data), data) if data else b""
        self._write(chunk + b"0\r\n\r\n")

    def _write(self, data: bytes, *, headers: bool = False) -> None:
        self._check()
        try:
            if headers:
                self.end_headers()
            if data:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError) as error:
            raise _ClientClosed from error

    def _hang_up(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _check(self) -> None:
        """Raise if the server is closing or the client has closed the connection."""
        self._wait(0.0)

    def _now(self) -> float:
        return self.server.owner._now()

    def _wait_until(self, deadline: float) -> None:
        clock = self.server.owner._clock
        if clock is not None:
            # The time passes on the clock alone, which a socket cannot wait on.
            self._check()
            clock.sleep_until(deadline)
            self._check()
            return
        while True:
            remaining = deadline - time.monotonic()
            self._wait(max(remaining, 0.0))
            if remaining <= 0:
                return

    def _wait(self, seconds: float) -> None:
        ready = {key.fileobj for key, _ in self._selector.select(seconds)}
        if self.server.owner._wake in ready:
            raise _ServerClosing
        if self.connection in ready:
            try:
                data = self.connection.recv(1, socket.MSG_PEEK)
            except OSError:
                data = b""
            if not data:
                raise _ClientClosed
            # A pipelined request is waiting: the connection can no longer be watched.
            self._selector.unregister(self.connection)
            self._selector.select(seconds)
            self._selector.register(self.connection, selectors.EVENT_READ)


class LLMServer:
    """An HTTP server on 127.0.0.1 that answers as OpenAI, Anthropic and Ollama do, from a script.

    Args:
        script: one `Script` for every model, or a mapping from model name to
            script (then any other model gets the provider's "model not
            found" error); by default `Script()`.
        clock: the time the scripts are played on; None: real time. On a
            `outstream.testing.VirtualClock`, piece *k* goes out at exactly
            ``t + schedule()[k]`` (`RecordedRequest.t`, `Script.schedule`)
            when one response goes on at a time; two that overlap share the
            clock, and a piece may then go out after its time, never before.

    The server runs in a background thread from construction until `close()`
    (or the end of a ``with`` block). It binds 127.0.0.1 only, on a free port.

    Example::

        with LLMServer(Script(["Hel", "lo"], ttft=0.1)) as server:
            client = openai.OpenAI(base_url=server.openai_base_url, api_key="k")
            ...
            assert server.requests[0].headers["authorization"] == "Bearer k"
    """

    def __init__(
        self, script: Script | Mapping[str, Script] | None = None, *, clock: Clock | None = None
    ) -> None:
        self._clock = clock
        self._lock = threading.Condition()
        self._requests: list[RecordedRequest] = []
        self._default: Script | None = None
        self._by_model: dict[str, Script] = {}
        self.set_script(Script() if script is None else script)
        self._handlers: dict[socket.socket, threading.Thread] = {}
        self._closed = False
        self._wake, self._wake_sender = socket.socketpair()
        try:
            self._httpd = _HTTPServer(self)
        except BaseException:
            self._wake.close()
            self._wake_sender.close()
            raise
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"LLMServer:{self.port}",
            daemon=True,
        )
        self._thread.start()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "serving"
        return f"<LLMServer {self.base_url} {state}>"

    # --- where ---

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: for Anthropic's and Ollama's clients."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: for OpenAI's client and OpenAI-compatible ones."""
        return self.base_url + "/v1"

    # --- what it plays ---

    def set_script(
        self, script: Script | Mapping[str, Script], *, model: str | None = None
    ) -> None:
        """Replace what the server plays, for requests that arrive from now on.

        Args:
            script: as for the constructor; with `model`, a `Script`.
            model: set the script of this model only, keeping the others.
        """
        with self._lock:
            if model is not None:
                if not isinstance(script, Script):
                    raise TypeError("with model=, script must be a Script")
                self._by_model[model] = script
            elif isinstance(script, Script):
                self._default, self._by_model = script, {}
            else:
                if not all(isinstance(s, Script) for s in script.values()):
                    raise TypeError("a mapping must map model names to Script")
                self._default, self._by_model = None, dict(script)

    def model_names(self) -> list[str]:
        """The models the server lists: the scripted ones, or `DEFAULT_MODEL`."""
        with self._lock:
            names = sorted(self._by_model)
            if self._default is not None and not names:
                names = [DEFAULT_MODEL]
            return names

    def _now(self) -> float:
        return time.monotonic() if self._clock is None else self._clock.now()

    def _script_for(self, model: str) -> Script | None:
        with self._lock:
            return self._by_model.get(model, self._default)

    # --- what it saw ---

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def wait_for_requests(self, n: int = 1, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait until at least `n` requests have arrived, and return them all.

        Raises:
            TimeoutError: fewer than `n` arrived within `timeout` seconds.
        """
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= n, timeout):
                raise TimeoutError(f"{len(self._requests)} of {n} requests arrived")
            return list(self._requests)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)
            self._lock.notify_all()

    def _attach(self, connection: socket.socket) -> None:
        with self._lock:
            self._handlers[connection] = threading.current_thread()

    def _detach(self, connection: socket.socket) -> None:
        with self._lock:
            self._handlers.pop(connection, None)

    # --- close ---

    def close(self) -> None:
        """Stop serving, cut open responses short and release the port. Can be called twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._httpd.shutdown()
        finally:
            try:
                self._wake_sender.send(b"x")
                with self._lock:
                    handlers = list(self._handlers.items())
                for connection, _ in handlers:
                    try:
                        connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                self._httpd.server_close()
                self._thread.join()
                deadline = time.monotonic() + 5.0
                for _, thread in handlers:
                    thread.join(max(deadline - time.monotonic(), 0.0))
            finally:
                self._wake.close()
                self._wake_sender.close()

    def __enter__(self) -> LLMServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
