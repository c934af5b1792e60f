"""Text out of any LLM SDK's stream objects, recognised by shape; no SDK is imported.

Theory of operation: `items_of(chunk)` turns one object from a provider's
stream into what outstream needs — text, and the values of `events`
(`Reasoning`, `Usage`, `Other`, `Finish`) — by looking at its attributes or
keys, never its class, so the SDKs stay optional and a plain dict decoded
from the same wire format works too. The shapes, and where their text is:

========================  ==================================================
OpenAI Chat Completions   ``choices[0].delta.content`` (``refusal`` too);
                          ``reasoning_content``/``reasoning``; ``usage``;
                          ``finish_reason`` ends it
OpenAI Responses          ``type == "response.output_text.delta"`` →
                          ``delta``; reasoning summary/text deltas;
                          ``response.completed`` ends it, with usage
Anthropic raw events      ``content_block_delta``: ``text_delta.text``,
                          ``thinking_delta.thinking``; ``message_start`` and
                          ``message_delta`` usage; ``message_stop`` ends it.
                          The ``messages.stream()`` helper also yields
                          ``text``/``thinking`` events derived from the raw
                          ones: they are skipped, so text comes out once
LangChain                 ``AIMessageChunk.content``, a str or a list of
                          blocks (``text``, ``reasoning``/``thinking``);
                          ``usage_metadata``; tool call chunks
Ollama                    ``message.content``/``message.thinking`` (chat),
                          ``response``/``thinking`` (generate); ``done``
                          ends it, with ``eval_count``/``eval_duration``
Hugging Face              ``TextIteratorStreamer`` yields ``str``
simonw's llm              ``StreamEvent``: ``type`` and ``chunk`` (``text``,
                          ``reasoning``, ``tool_call_name``/``_args``,
                          ``tool_result``). A ``Response`` (and its
                          ``stream_events()`` generator) is read through
                          `llm_events`, which adds its usage and its end
========================  ==================================================
"""

from __future__ import annotations

import enum
import types
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from ..events import Batch, Failed, Finish, Other, Reasoning, SideEvent, Usage

__all__ = [
    "MODEL_STREAM",
    "SHAPES",
    "USAGE_FIELDS",
    "Item",
    "UsageFields",
    "allm_events",
    "from_model_sdk",
    "items_of",
    "llm_events",
    "normalized",
]

Item = str | SideEvent

SHAPES = (
    "OpenAI chat completion chunks, OpenAI Responses stream events, Anthropic message "
    "stream events, LangChain message chunks, Ollama chat/generate responses, llm "
    "StreamEvents (objects or dicts of any of these), or str/bytes"
)

# Anthropic's messages.stream() helper derives these from the raw events it
# also yields: taking both would show the text twice.
_DERIVED_ANTHROPIC = frozenset({"text", "thinking", "input_json", "citation", "signature"})
# Events that say where a Responses stream is, not what it says.
_RESPONSES_LIFECYCLE = frozenset(
    {
        "response.created",
        "response.in_progress",
        "response.queued",
        "response.output_item.added",
        "response.output_item.done",
        "response.content_part.added",
        "response.content_part.done",
        "response.output_text.done",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_part.done",
        "response.reasoning_summary_text.done",
        "response.reasoning_text.done",
    }
)


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class UsageFields:
    """Where a provider's usage report keeps its counts, and how its reports combine.

    Args:
        prompt: the fields that together count the prompt (summed: cached or
            not, every token of it).
        completion: the field counting the answer's tokens.
        total: the provider's total, if it gives one (else the `Result`
            computes it: `Usage.with_total`).
        adds: each report counts only its own chunk, and they add up
            (`Usage.adds`); otherwise a report gives the counts so far.
    """

    prompt: tuple[str, ...]
    completion: str
    total: str | None = None
    adds: bool = False


# The providers' usage reports, as data. Where each comes in the stream:
# OpenAI Chat Completions, in a last chunk with no choices (when asked for
# with stream_options={"include_usage": True}; some servers send the counts
# so far in every chunk); Responses, in response.completed; Anthropic, in
# message_start (the prompt; 0 through some proxies) and in message_delta
# (the answer, and since 2025 the prompt again: counts so far, which
# override, as the SDK's own accumulation does); LangChain, in any
# AIMessageChunk, each counting its own part (AIMessageChunk.__add__ sums
# them: langchain_core.messages.ai.add_usage); Ollama, in the last object;
# simonw's llm, on the Response once it ended, one per round of a tool chain.
USAGE_FIELDS: dict[str, UsageFields] = {
    "openai_chat": UsageFields(("prompt_tokens",), "completion_tokens", "total_tokens"),
    "openai_responses": UsageFields(("input_tokens",), "output_tokens", "total_tokens"),
    "anthropic": UsageFields(
        ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"),
        "output_tokens",
    ),
    "langchain": UsageFields(("input_tokens",), "output_tokens", "total_tokens", adds=True),
    "ollama": UsageFields(("prompt_eval_count",), "eval_count"),
    "llm": UsageFields(("input_tokens",), "output_tokens", adds=True),
}


def _usage(usage: Any, provider: str, **more: Any) -> Usage:
    """A provider's usage object or dict (`USAGE_FIELDS` says where its counts are)."""
    fields = USAGE_FIELDS[provider]
    parts = [n for name in fields.prompt if (n := _int(_get(usage, name))) is not None]
    return Usage(
        prompt_tokens=sum(parts) if parts else None,
        completion_tokens=_int(_get(usage, fields.completion)),
        total_tokens=None if fields.total is None else _int(_get(usage, fields.total)),
        adds=fields.adds,
        **more,
    )


def items_of(chunk: Any) -> list[Item]:
    """What one object from an LLM stream says, in order.

    Raises:
        TypeError: `chunk` has none of the known shapes (see `SHAPES`).
    """
    kind = _get(chunk, "type")
    if _get(chunk, "choices") is not None:
        return _openai_chat(chunk)
    if _is_llm_event(chunk):
        return _llm(chunk, kind)
    if isinstance(kind, str):
        if kind.startswith("response.") or kind == "error":
            return _openai_responses(chunk, kind)
        if kind in _ANTHROPIC or kind in _DERIVED_ANTHROPIC:
            return _anthropic(chunk, kind)
        if kind in ("AIMessageChunk", "ai", "AIMessage") or kind.endswith("MessageChunk"):
            return _langchain(chunk)
    has_text = _get(chunk, "message") is not None or _get(chunk, "response") is not None
    if has_text and (_get(chunk, "done") is not None or _get(chunk, "model") is not None):
        return _ollama(chunk)
    if _get(chunk, "content") is not None and _get(chunk, "usage_metadata") is not None:
        return _langchain(chunk)
    if hasattr(chunk, "content") and type(chunk).__name__.endswith("MessageChunk"):
        return _langchain(chunk)
    raise TypeError(f"cannot stream a {type(chunk).__name__} chunk: expected {SHAPES}")


# --- OpenAI ---


def _openai_chat(chunk: Any) -> list[Item]:
    items: list[Item] = []
    for choice in _get(chunk, "choices") or ():
        if (_get(choice, "index") or 0) != 0:
            continue  # n > 1: the first choice is the one shown
        delta = _get(choice, "delta") or {}
        for name in ("reasoning_content", "reasoning"):
            reasoning = _get(delta, name)
            if isinstance(reasoning, str) and reasoning:
                items.append(Reasoning(text=reasoning))
        for name in ("content", "refusal"):
            text = _get(delta, name)
            if isinstance(text, str) and text:
                items.append(text)
        tool_calls = _get(delta, "tool_calls")
        if tool_calls:
            items.append(Other(kind="tool_call", value=tool_calls))
        reason = _get(choice, "finish_reason")
        if reason:
            items.append(Finish(reason=str(reason)))
    usage = _get(chunk, "usage")
    if usage is not None:
        items.append(_usage(usage, "openai_chat"))
    return items


def _openai_responses(event: Any, kind: str) -> list[Item]:
    if kind == "response.output_text.delta":
        delta = _get(event, "delta")
        return [delta] if isinstance(delta, str) and delta else []
    if kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
        delta = _get(event, "delta")
        return [Reasoning(text=delta)] if isinstance(delta, str) and delta else []
    if kind in ("response.completed", "response.incomplete"):
        items: list[Item] = []
        usage = _get(_get(event, "response"), "usage")
        if usage is not None:
            items.append(_usage(usage, "openai_responses"))
        if kind == "response.completed":
            items.append(Finish(reason="completed"))
        return items
    if kind in _RESPONSES_LIFECYCLE:
        return []
    return [Other(kind=kind, value=event)]


# --- Anthropic ---

_ANTHROPIC = frozenset(
    {
        "message_start",
        "message_delta",
        "message_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "ping",
    }
)


def _anthropic(event: Any, kind: str) -> list[Item]:
    if kind in _DERIVED_ANTHROPIC or kind in ("ping", "content_block_stop"):
        return []
    if kind == "content_block_delta":
        delta = _get(event, "delta")
        delta_type = _get(delta, "type")
        if delta_type == "text_delta":
            text = _get(delta, "text")
            return [text] if isinstance(text, str) and text else []
        if delta_type == "thinking_delta":
            thinking = _get(delta, "thinking")
            return [Reasoning(text=thinking)] if isinstance(thinking, str) and thinking else []
        if delta_type == "signature_delta":
            return []
        return [Other(kind=str(delta_type), value=delta)]
    if kind == "content_block_start":
        block = _get(event, "content_block")
        if _get(block, "type") in ("text", "thinking", "redacted_thinking"):
            return []
        return [Other(kind=str(_get(block, "type")), value=block)]
    if kind == "message_start":
        usage = _get(_get(event, "message"), "usage")
        if usage is None:
            return []
        return [_usage(usage, "anthropic")]
    if kind == "message_delta":
        usage = _get(event, "usage")
        items: list[Item] = []
        if usage is not None:
            items.append(_usage(usage, "anthropic"))
        return items
    return [Finish(reason=str(_get(_get(event, "message"), "stop_reason") or "message_stop"))]


# --- LangChain ---


def _langchain(chunk: Any) -> list[Item]:
    items: list[Item] = []
    content = _get(chunk, "content")
    if isinstance(content, str):
        if content:
            items.append(content)
    elif isinstance(content, list):
        for block in content:
            if isinstance(block, str):
                if block:
                    items.append(block)
                continue
            block_type = _get(block, "type")
            if block_type == "text":
                text = _get(block, "text")
                if isinstance(text, str) and text:
                    items.append(text)
            elif block_type in ("reasoning", "thinking"):
                text = _get(block, block_type) or _get(block, "text")
                if isinstance(text, str) and text:
                    items.append(Reasoning(text=text))
    additional = _get(chunk, "additional_kwargs") or {}
    reasoning = _get(additional, "reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        items.insert(0, Reasoning(text=reasoning))
    tool_calls = _get(chunk, "tool_call_chunks")
    if tool_calls:
        items.append(Other(kind="tool_call", value=tool_calls))
    usage = _get(chunk, "usage_metadata")
    if usage:
        items.append(_usage(usage, "langchain"))
    reason = _get(_get(chunk, "response_metadata") or {}, "finish_reason")
    if reason:
        items.append(Finish(reason=str(reason)))
    return items


# --- Ollama ---


def _ollama(chunk: Any) -> list[Item]:
    items: list[Item] = []
    message = _get(chunk, "message")
    if message is not None:
        thinking, text = _get(message, "thinking"), _get(message, "content")
        tool_calls = _get(message, "tool_calls")
    else:
        thinking, text, tool_calls = _get(chunk, "thinking"), _get(chunk, "response"), None
    if isinstance(thinking, str) and thinking:
        items.append(Reasoning(text=thinking))
    if isinstance(text, str) and text:
        items.append(text)
    if tool_calls:
        items.append(Other(kind="tool_call", value=tool_calls))
    if _get(chunk, "done"):
        duration = _int(_get(chunk, "eval_duration"))
        seconds = duration / 1e9 if duration else None
        items.append(_usage(chunk, "ollama", generation_seconds=seconds))
        items.append(Finish(reason=str(_get(chunk, "done_reason") or "done")))
    return items


# --- simonw's llm ---

# A tool call arrives as its name, then its arguments in pieces: both are a
# tool call's deltas, as the other SDKs' are (kind "tool_call").
_LLM_KINDS = {"tool_call_name": "tool_call", "tool_call_args": "tool_call"}


def _is_llm_event(chunk: Any) -> bool:
    return isinstance(_get(chunk, "type"), str) and isinstance(_get(chunk, "chunk"), str)


def _llm(event: Any, kind: str) -> list[Item]:
    chunk: str = _get(event, "chunk")
    if kind == "text":
        return [chunk] if chunk else []
    if kind == "reasoning":
        # Empty: reasoning the provider withheld (``redacted``) or only its
        # opaque signature; nothing to show or keep as text.
        return [Reasoning(text=chunk)] if chunk else []
    return [Other(kind=_LLM_KINDS.get(kind, kind), value=event)]


def _llm_response(source: object, method: str) -> tuple[Any, Any] | None:
    """`source`'s llm Response and its events (`method` is ``stream_events`` or
    ``astream_events``), when it is a Response or the generator that method made."""
    if callable(getattr(source, method, None)):
        return source, getattr(source, method)()
    if isinstance(source, types.GeneratorType | types.AsyncGeneratorType) and (
        source.__qualname__.endswith(f"Response.{method}")
    ):
        # Its frame holds the Response (`self`) while it runs: the usage is
        # read from there at the end.
        frame = getattr(source, "gi_frame", None) or getattr(source, "ag_frame", None)
        return (frame.f_locals.get("self") if frame is not None else None), source
    return None


def _llm_usage(response: Any) -> list[Item]:
    """What an llm Response says it used: one report per round of a tool chain (its
    ``_responses``), each its own, adding up."""
    rounds = getattr(response, "_responses", None)
    reports = [_usage(one, "llm") for one in (rounds if isinstance(rounds, list) else [response])]
    return [r for r in reports if r.prompt_tokens is not None or r.completion_tokens is not None]


def llm_events(source: object) -> Iterator[Any] | None:
    """The events of an llm ``Response`` (or ``ChainResponse``, or the generator its
    ``stream_events()`` made), then its usage and its end; None for any other source.

    llm's stream has no end marker: the iterator's end is the answer's end (a
    plugin whose connection drops raises), so it is told with a `Finish`.
    """
    found = _llm_response(source, "stream_events")
    if found is None:
        return None
    response, events = found

    def read() -> Iterator[Any]:
        yield from events
        yield from _llm_usage(response)
        yield Finish(reason="end")

    return read()


def allm_events(source: object) -> AsyncIterator[Any] | None:
    """`llm_events` for an ``AsyncResponse`` (or the generator its ``astream_events()``
    made)."""
    found = _llm_response(source, "astream_events")
    if found is None:
        return None
    response, events = found

    async def read() -> AsyncIterator[Any]:
        async for event in events:
            yield event
        for item in _llm_usage(response):
            yield item
        yield Finish(reason="end")

    return read()


class _Marker(enum.Enum):
    MODEL_STREAM = "a model's stream"


MODEL_STREAM = _Marker.MODEL_STREAM
"""Put first by the reader of an SDK's stream object (`from_model_sdk`): the stream is a
model's, and its `Result.complete` is False, not None, if no end marker comes, also
when it yields nothing at all."""

# SDKs whose stream objects always end with an end marker that `items_of`
# knows; their stream objects (and generators) are told by their module.
_MODEL_SDKS = frozenset({"openai", "anthropic", "ollama"})


def from_model_sdk(source: object) -> bool:
    """Whether `source` is a stream object (or generator) of an SDK in `_MODEL_SDKS`."""
    frame = getattr(source, "gi_frame", None) or getattr(source, "ag_frame", None)
    module = frame.f_globals.get("__name__") if frame is not None else type(source).__module__
    return isinstance(module, str) and module.partition(".")[0] in _MODEL_SDKS


_TEXT = (str, bytes, bytearray)


def normalized(batch: Batch) -> Batch:
    """A batch of an LLM SDK's stream objects, as text and events (`sources.llm.items_of`).

    A batch of plain text (the first and last chunks tell: a source does not
    mix the two) passes as it is, at no cost. An object of an unknown shape
    ends the stream with its TypeError, after what came before it.
    """
    chunks = batch.chunks
    if not chunks or (isinstance(chunks[0], _TEXT) and isinstance(chunks[-1], _TEXT)):
        return batch
    out = Batch(end=batch.end, offset=batch.offset)
    from ..core.pipeline import SIDE_EVENTS

    for chunk, t in zip(chunks, batch.times, strict=True):
        if chunk is MODEL_STREAM:
            out.structured = True
            continue
        if isinstance(chunk, (*_TEXT, *SIDE_EVENTS)):
            items: list[object] = [chunk]
            out.structured = out.structured or not isinstance(chunk, _TEXT)
        else:
            # llm's bare StreamEvents have no end marker to miss (only the
            # Response knows its end, `llm_events`): like plain text, they
            # leave `Result.complete` None.
            out.structured = out.structured or not _is_llm_event(chunk)
            try:
                items = list(items_of(chunk))
            except TypeError as exc:
                out.end = Failed(t=t + batch.offset, error=exc)
                break
        out.chunks += items
        out.times += [t] * len(items)
    return out
