"""The providers' wire formats for the loopback LLM server: pure, bytes out.

One small object per dialect turns a script's steps into bytes and does no
I/O (`Wire`): ``opening`` (what goes out before any piece), ``piece``,
``closing``, ``error_event`` (the provider's in-stream error), ``garbage``
(an event cut short) and ``whole`` (the answer, not streamed, as a JSON
value).

- `ChatWire`: OpenAI Chat Completions, SSE ``data:`` lines, then ``[DONE]``;
- `ResponsesWire`: OpenAI Responses, SSE ``event:`` and ``data:``;
- `MessagesWire`: Anthropic Messages, named SSE events;
- `OllamaChatWire`, `OllamaGenerateWire`: Ollama, one JSON object a line.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ClassVar, Protocol

from .script import Kind, Script

__all__ = [
    "OPENAI_SERVER_ERROR",
    "ChatWire",
    "Context",
    "MessagesWire",
    "OllamaChatWire",
    "OllamaGenerateWire",
    "OllamaWire",
    "ResponsesWire",
    "Wire",
    "compact_json",
    "hex_token",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What a wire knows of the request it answers.

    ``t0`` is when the request arrived, on the server's clock; ``wall0``
    the wall-clock time (``time.time()``) when its answer began, for the
    timestamps in the events.
    """

    model: str
    script: Script
    body: Mapping[str, Any]
    n_prompt_tokens: int
    n_completion_tokens: int
    n_reasoning_tokens: int
    t0: float
    wall0: float


class Wire(Protocol):
    """A dialect: the bytes for each step of a script, with no I/O."""

    content_type: str

    def opening(self) -> bytes: ...
    def piece(self, kind: Kind, text: str, now: float) -> bytes: ...
    def closing(self, now: float) -> bytes: ...
    def error_event(self) -> bytes: ...
    def garbage(self) -> bytes: ...
    def whole(self, now: float) -> object: ...


def compact_json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _sse(data: object, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event is not None else ""
    return f"{head}data: {compact_json(data)}\n\n".encode()


def hex_token(n_bytes: int = 12) -> str:
    return secrets.token_hex(n_bytes)


_SSE = "text/event-stream; charset=utf-8"
_OPENAI_FINGERPRINT = "fp_outstream0"
OPENAI_SERVER_ERROR = "The server had an error while processing your request. Sorry about that!"


class ChatWire:
    """OpenAI Chat Completions: ``data: {chat.completion.chunk}`` events, then ``data: [DONE]``."""

    content_type = _SSE

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._id = "chatcmpl-" + hex_token()
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
        message = self._ctx.script.error_message or OPENAI_SERVER_ERROR
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


def _openai_chat_usage(ctx: Context) -> dict[str, object]:
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


class ResponsesWire:
    """OpenAI Responses: ``event: <type>`` SSE, each event with its ``sequence_number``."""

    content_type = _SSE

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._id = "resp_" + hex_token(24)
        self._reasoning_id = "rs_" + hex_token(24)
        self._message_id = "msg_" + hex_token(24)
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
        message = self._ctx.script.error_message or OPENAI_SERVER_ERROR
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


class MessagesWire:
    """Anthropic Messages: named SSE events, a thinking block then a text block."""

    content_type = _SSE

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._id = "msg_01" + hex_token(11)
        self._signature = "Eq" + secrets.token_urlsafe(48)
        self._open: Kind | None = None
        self._index = -1

    def _event(self, type_: str, **fields: object) -> bytes:
        return _sse({"type": type_, **fields}, event=type_)

    def _message(
        self,
        content: list[object],
        stop_reason: str | None,
        n_output_tokens: int,
        n_input_tokens: int | None = None,
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
                "input_tokens": (
                    self._ctx.n_prompt_tokens if n_input_tokens is None else n_input_tokens
                ),
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
        if self._ctx.script.usage_at_end:
            message = self._message([], None, 0, n_input_tokens=0)
        else:
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


class OllamaWire:
    """Ollama: one JSON object a line; the last has ``done: true`` and the counts."""

    content_type = "application/x-ndjson"
    _key: ClassVar[str]

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._t_first: float | None = None

    def _created_at(self, now: float) -> str:
        t = datetime.fromtimestamp(self._ctx.wall0 + (now - self._ctx.t0), timezone.utc)
        return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _content(self, text: str, thinking: str | None) -> dict[str, object]:
        raise NotImplementedError

    def _line(self, obj: object) -> bytes:
        return (compact_json(obj) + "\n").encode()

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
        return f'{{"model":"{self._ctx.model}","created_at":"{self._created_at(self._ctx.t0)}",{compact_json(self._key)}:\n'.encode()

    def whole(self, now: float) -> object:
        script = self._ctx.script
        thinking = script.reasoning_text if script.reasoning else None
        return self._final(now, self._content(script.text, thinking))


class OllamaChatWire(OllamaWire):
    _key = "message"

    def _content(self, text: str, thinking: str | None) -> dict[str, object]:
        message: dict[str, object] = {"role": "assistant", "content": text}
        if thinking is not None:
            message["thinking"] = thinking
        return {"message": message}


class OllamaGenerateWire(OllamaWire):
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
