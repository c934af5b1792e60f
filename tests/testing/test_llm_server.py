"""Tests for outstream.testing.llm_server: the real SDKs, pointed at the loopback server, parse what it sends.

Each provider's own client (``openai``, ``anthropic``, ``ollama``) reads the
scripted answer, its usage and its failures, so a wire format that drifts
from what the SDKs expect fails here. The raw events are also validated
against the SDKs' pydantic types, because openai and anthropic build their
models without validation and would let a missing field through.

Timing is asserted on a `VirtualClock` that the server waits on: piece *k*
goes out at exactly ``schedule()[k]`` after the request arrived, as the
server recorded it, and the SDK reads the pieces in order over real HTTP.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

import anthropic
import httpx
import ollama
import openai
import pydantic
import pytest

from outstream.testing import VirtualClock
from outstream.testing.llm_server import (
    DEFAULT_MODEL,
    Ending,
    LLMServer,
    RecordedRequest,
    Script,
)

KEY = "test-key"
MESSAGES = [{"role": "user", "content": "Say hello to the world"}]
CHUNKS = ("Hé", "llo, ", "wörld ", "👋🏽", "!")
TEXT = "".join(CHUNKS)


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer(Script(CHUNKS)) as server:
        yield server


def openai_client(server: LLMServer) -> Any:
    return openai.OpenAI(base_url=server.openai_base_url, api_key=KEY, max_retries=0)


def anthropic_client(server: LLMServer) -> Any:
    return anthropic.Anthropic(base_url=server.base_url, api_key=KEY, max_retries=0)


def ollama_client(server: LLMServer) -> Any:
    return ollama.Client(host=server.base_url)


# --- one reader per wire format: the SDK's stream, reduced to its text deltas ---


class ErrorEvent(Exception):
    """The Responses stream carried an ``error`` event (the SDK yields it; it does not raise)."""


def read_chat(server: LLMServer, model: str = "gpt-test") -> Generator[str, None, None]:
    with openai_client(server) as client:
        stream = client.chat.completions.create(
            model=model,
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        with stream:
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content


def read_responses(server: LLMServer, model: str = "gpt-test") -> Generator[str, None, None]:
    with (
        openai_client(server) as client,
        client.responses.create(model=model, input="Say hello", stream=True) as stream,
    ):
        for event in stream:
            if event.type == "error":
                raise ErrorEvent(event.message)
            if event.type == "response.output_text.delta":
                yield event.delta


def read_messages(server: LLMServer, model: str = "claude-test") -> Generator[str, None, None]:
    with anthropic_client(server) as client:
        stream = client.messages.create(model=model, max_tokens=100, messages=MESSAGES, stream=True)
        with stream:
            for event in stream:
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    yield event.delta.text


def read_ollama(server: LLMServer, model: str = "llama-test") -> Generator[str, None, None]:
    with ollama_client(server) as client:
        for part in client.chat(model=model, messages=MESSAGES, stream=True):
            if part.message.content:
                yield part.message.content


READERS = [
    pytest.param(read_chat, id="chat"),
    pytest.param(read_responses, id="responses"),
    pytest.param(read_messages, id="messages"),
    pytest.param(read_ollama, id="ollama"),
]


def transport_errors() -> tuple[type[BaseException], ...]:
    """What a client library raises when the body is cut short, for httpx and httpx2."""
    errors: list[type[BaseException]] = [httpx.TransportError]
    try:
        import httpx2  # the transport of recent openai and anthropic releases
    except ImportError:
        pass
    else:
        errors.append(httpx2.TransportError)
    return tuple(errors)


def status_error(reader: Callable[..., Generator[str, None, None]], status: int) -> Any:
    if reader is read_ollama:
        return ollama.ResponseError
    sdk = anthropic if reader is read_messages else openai
    return {
        401: sdk.AuthenticationError,
        403: sdk.PermissionDeniedError,
        404: sdk.NotFoundError,
        429: sdk.RateLimitError,
        500: sdk.InternalServerError,
    }[status]


def only_request(server: LLMServer) -> RecordedRequest:
    (request,) = [r for r in server.requests if r.method == "POST"]
    return request


# --- every wire format, through its SDK ---


@pytest.mark.parametrize("read", READERS)
def test_sdk_reads_the_scripted_chunks(
    server: LLMServer, read: Callable[..., Generator[str, None, None]]
) -> None:
    assert list(read(server)) == list(CHUNKS)
    request = only_request(server)
    assert request.wait() is Ending.COMPLETE
    assert request.status == 200
    assert request.n_pieces_sent == len(CHUNKS)


@pytest.mark.parametrize("read", READERS)
def test_each_chunk_goes_out_at_its_scripted_time(
    read: Callable[..., Generator[str, None, None]],
) -> None:
    clock = VirtualClock(start=10.0)
    script = Script(["a", "b", "c", "d"], reasoning=["r"], ttft=0.25, interval=0.5)
    with LLMServer(script, clock=clock) as server:
        assert list(read(server)) == ["a", "b", "c", "d"]
    request = only_request(server)
    assert request.wait() is Ending.COMPLETE
    assert request.t == 10.0
    assert request.piece_times == (10.25, 10.75, 11.25, 11.75, 12.25)


@pytest.mark.parametrize("read", READERS)
def test_bursts_go_out_together_and_a_stall_delays_what_follows(
    read: Callable[..., Generator[str, None, None]],
) -> None:
    clock = VirtualClock()
    script = Script.bursts(["a", "b", "c", "d", "e"], size=2, every=0.5, ttft=0.25)
    with LLMServer(script.stalled(after=3, seconds=2.0), clock=clock) as server:
        assert list(read(server)) == ["a", "b", "c", "d", "e"]
    assert only_request(server).piece_times == (0.25, 0.25, 0.75, 2.75, 3.25)


@pytest.mark.parametrize("read", READERS)
def test_disconnect_mid_stream_raises_in_the_sdk(
    read: Callable[..., Generator[str, None, None]],
) -> None:
    with LLMServer(Script(CHUNKS, fail="disconnect", fail_after=2)) as server:
        received: list[str] = []
        with pytest.raises((openai.APIConnectionError, *transport_errors())):
            received.extend(read(server))
        assert received == list(CHUNKS[:2])
        assert only_request(server).wait() is Ending.FAILED


@pytest.mark.parametrize("read", READERS)
def test_disconnect_before_the_end_marker_raises(
    read: Callable[..., Generator[str, None, None]],
) -> None:
    with LLMServer(Script(CHUNKS, fail="disconnect", fail_after=len(CHUNKS))) as server:
        received: list[str] = []
        with pytest.raises((openai.APIConnectionError, *transport_errors())):
            received.extend(read(server))
        assert received == list(CHUNKS)


ERROR_EVENT_RAISES = {
    read_chat: openai.APIError,
    read_responses: ErrorEvent,
    read_messages: anthropic.APIStatusError,
    read_ollama: ollama.ResponseError,
}


@pytest.mark.parametrize("read", READERS)
def test_an_error_event_mid_stream_raises(read: Callable[..., Generator[str, None, None]]) -> None:
    with LLMServer(Script(CHUNKS, fail="error_event", fail_after=3)) as server:
        received: list[str] = []
        with pytest.raises(ERROR_EVENT_RAISES[read]):
            received.extend(read(server))
        assert received == list(CHUNKS[:3])


@pytest.mark.parametrize("read", READERS)
def test_a_malformed_event_raises_a_decode_error(
    read: Callable[..., Generator[str, None, None]],
) -> None:
    with LLMServer(Script(CHUNKS, fail="malformed", fail_after=1)) as server:
        received: list[str] = []
        with pytest.raises(ValueError):
            received.extend(read(server))
        assert received == list(CHUNKS[:1])


@pytest.mark.parametrize("read", READERS)
@pytest.mark.parametrize(
    ("fail", "status"),
    [
        ("http_401", 401),
        ("http_403", 403),
        ("http_404_model", 404),
        ("http_429", 429),
        ("http_500", 500),
    ],
)
def test_http_errors_raise_each_sdks_own_exception(
    read: Callable[..., Generator[str, None, None]], fail: Any, status: int
) -> None:
    with LLMServer(Script(CHUNKS, fail=fail)) as server:
        with pytest.raises(status_error(read, status)) as info:
            list(read(server, model="some-model-7b"))
        assert info.value.status_code == status
        request = only_request(server)
        assert request.wait() is Ending.FAILED
        assert request.status == status
    if status == 401:
        assert re.search(r"api[ -]key", str(info.value), re.IGNORECASE)
    if status == 404:
        assert "some-model-7b" in str(info.value)


@pytest.mark.parametrize("read", READERS)
def test_a_model_without_a_script_is_not_found(
    read: Callable[..., Generator[str, None, None]],
) -> None:
    with LLMServer({"known": Script(["yes"])}) as server:
        assert list(read(server, model="known")) == ["yes"]
        with pytest.raises(status_error(read, 404)) as info:
            list(read(server, model="unknown-model"))
    assert "unknown-model" in str(info.value)


@pytest.mark.parametrize("read", READERS)
def test_the_server_sees_the_client_close_the_stream(
    read: Callable[..., Generator[str, None, None]],
) -> None:
    with LLMServer(Script.steady([f"{i} " for i in range(40)], rate=20)) as server:
        stream = read(server)
        assert next(stream) == "0 "
        stream.close()  # closes the SDK's stream, and with it the connection
        request = only_request(server)
        assert request.wait() is Ending.CLIENT_CLOSED
        assert request.n_pieces_sent < 40


# --- OpenAI Chat Completions ---


def test_chat_chunks_role_finish_reason_and_usage(server: LLMServer) -> None:
    with openai_client(server) as client:
        stream = client.chat.completions.create(
            model="gpt-test",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (5, 5)
    assert chunks[-1].usage.total_tokens == 10
    assert {c.id for c in chunks} == {chunks[0].id}
    assert all(c.model == "gpt-test" for c in chunks)


def test_chat_sends_no_usage_unless_asked(server: LLMServer) -> None:
    with openai_client(server) as client:
        chunks = list(client.chat.completions.create(model="m", messages=MESSAGES, stream=True))
    assert all(c.usage is None and c.choices for c in chunks)


def test_chat_with_async_openai() -> None:
    script = Script(CHUNKS, usage=(11, 22))

    async def main(server: LLMServer) -> tuple[str, Any]:
        async with openai.AsyncOpenAI(
            base_url=server.openai_base_url, api_key=KEY, max_retries=0
        ) as client:
            stream = await client.chat.completions.create(
                model="gpt-test",
                messages=MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            )
            text, usage = "", None
            async for chunk in stream:
                if chunk.choices:
                    text += chunk.choices[0].delta.content or ""
                usage = chunk.usage or usage
            return text, usage

    with LLMServer(script) as server:
        text, usage = asyncio.run(main(server))
    assert text == TEXT
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (11, 22, 33)


def test_chat_reasoning_content_comes_first() -> None:
    with (
        LLMServer(Script(["Yes."], reasoning=["Let me ", "think."])) as server,
        openai_client(server) as client,
    ):
        deltas = [
            c.choices[0].delta
            for c in client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        ]
    reasoning = [d.reasoning_content for d in deltas if getattr(d, "reasoning_content", None)]
    content = [d.content for d in deltas if d.content]
    assert reasoning == ["Let me ", "think."]
    assert content == ["Yes."]


def test_chat_without_stream_is_one_completion_sent_when_its_last_piece_is_due() -> None:
    clock = VirtualClock()
    script = Script(CHUNKS, reasoning=["hmm"], ttft=0.25, interval=0.5)
    with LLMServer(script, clock=clock) as server, openai_client(server) as client:
        completion = client.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == TEXT
    assert completion.choices[0].message.reasoning_content == "hmm"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens == 6
    assert only_request(server).piece_times == (2.75,) * 6  # 0.25 + 5 x 0.5


def test_chat_without_stream_disconnect_raises() -> None:
    with (
        LLMServer(Script(CHUNKS, fail="disconnect")) as server,
        openai_client(server) as client,
        pytest.raises(openai.APIConnectionError),
    ):
        client.chat.completions.create(model="m", messages=MESSAGES)


def test_a_length_stop_reads_as_each_providers_own() -> None:
    with LLMServer(Script(["cut"], stop="length")) as server:
        with openai_client(server) as client:
            chunks = list(client.chat.completions.create(model="m", messages=MESSAGES, stream=True))
            events = list(client.responses.create(model="m", input="x", stream=True))
        with anthropic_client(server) as aclient:
            message = aclient.messages.create(model="c", max_tokens=1, messages=MESSAGES)
        with ollama_client(server) as oclient:
            *_, last = oclient.chat(model="l", messages=MESSAGES, stream=True)
    assert chunks[-1].choices[0].finish_reason == "length"
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"
    assert message.stop_reason == "max_tokens"
    assert last.done_reason == "length"


# --- OpenAI Responses ---


def test_responses_events_in_order_with_usage() -> None:
    script = Script(CHUNKS, reasoning=["Think", "ing."], usage=(7, 9))
    with LLMServer(script) as server, openai_client(server) as client:
        events = list(client.responses.create(model="gpt-test", input="Hi", stream=True))
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    summary = [e.delta for e in events if e.type == "response.reasoning_summary_text.delta"]
    assert deltas == list(CHUNKS)
    assert summary == ["Think", "ing."]
    assert types.index("response.reasoning_summary_text.delta") < types.index(
        "response.output_text.delta"
    )
    (done,) = [e for e in events if e.type == "response.output_text.done"]
    assert done.text == TEXT
    completed = events[-1].response
    assert completed.status == "completed"
    assert completed.output_text == TEXT
    usage = completed.usage
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (7, 9, 16)


def test_responses_stream_helper_accumulates_the_answer() -> None:
    with LLMServer(Script(CHUNKS, reasoning=["Hm."])) as server, openai_client(server) as client:
        with client.responses.stream(model="gpt-test", input="Hi") as stream:
            deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
            final = stream.get_final_response()
        whole = client.responses.create(model="gpt-test", input="Hi")
    assert deltas == list(CHUNKS)
    assert final.output_text == TEXT
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert whole.output_text == TEXT
    assert whole.status == "completed"


# --- Anthropic Messages ---


def test_messages_raw_events_with_thinking_and_usage() -> None:
    script = Script(CHUNKS, reasoning=["Let me think."], usage=(12, 34))
    with LLMServer(script) as server, anthropic_client(server) as client:
        events = list(
            client.messages.create(
                model="claude-test", max_tokens=100, messages=MESSAGES, stream=True
            )
        )
    types = [e.type for e in events]
    assert types[0] == "message_start"
    assert types[-2:] == ["message_delta", "message_stop"]
    assert events[0].message.usage.input_tokens == 12
    assert events[0].message.model == "claude-test"
    blocks = [e.content_block.type for e in events if e.type == "content_block_start"]
    assert blocks == ["thinking", "text"]
    deltas = [e.delta for e in events if e.type == "content_block_delta"]
    assert [d.type for d in deltas] == ["thinking_delta", "signature_delta"] + ["text_delta"] * 5
    assert "".join(d.text for d in deltas if d.type == "text_delta") == TEXT
    assert [e.index for e in events if e.type == "content_block_stop"] == [0, 1]
    assert events[-2].delta.stop_reason == "end_turn"
    assert events[-2].usage.output_tokens == 34


def test_messages_stream_helper_text_stream() -> None:
    with LLMServer(Script(CHUNKS, reasoning=["Hm."])) as server, anthropic_client(server) as client:
        with client.messages.stream(
            model="claude-test", max_tokens=100, messages=MESSAGES
        ) as stream:
            texts = list(stream.text_stream)
            final = stream.get_final_message()
        whole = client.messages.create(model="claude-test", max_tokens=100, messages=MESSAGES)
    assert texts == list(CHUNKS)
    assert [block.type for block in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "Hm."
    assert final.content[0].signature
    assert final.content[1].text == TEXT
    assert final.usage.output_tokens == 6
    assert whole.content[1].text == TEXT


# --- Ollama ---


def test_ollama_chat_parts_and_final_counts_and_durations() -> None:
    clock = VirtualClock()
    script = Script(CHUNKS, reasoning=["Hm", "m."], usage=(3, 8), ttft=0.25, interval=0.5)
    with LLMServer(script, clock=clock) as server, ollama_client(server) as client:
        parts = list(client.chat(model="llama-test", messages=MESSAGES, stream=True))
    assert all(isinstance(p, ollama.ChatResponse) for p in parts)
    assert [p.message.thinking for p in parts if p.message.thinking] == ["Hm", "m."]
    assert "".join(p.message.content or "" for p in parts) == TEXT
    assert [p.done for p in parts] == [False] * 7 + [True]
    final = parts[-1]
    assert (final.done_reason, final.prompt_eval_count, final.eval_count) == ("stop", 3, 8)
    # in nanoseconds: the first piece at 0.25 s, the last (the 7th) and the end at 3.25 s
    assert (final.total_duration, final.prompt_eval_duration, final.eval_duration) == (
        3_250_000_000,
        250_000_000,
        3_000_000_000,
    )
    assert final.model == "llama-test"


def test_ollama_generate_and_non_stream() -> None:
    with LLMServer(Script(CHUNKS)) as server, ollama_client(server) as client:
        parts = list(client.generate(model="llama-test", prompt="Say hello", stream=True))
        whole = client.chat(model="llama-test", messages=MESSAGES)
        generated = client.generate(model="llama-test", prompt="Say hello")
    assert all(isinstance(p, ollama.GenerateResponse) for p in parts)
    assert [p.response for p in parts if not p.done] == list(CHUNKS)
    assert parts[-1].done and parts[-1].eval_count == 5
    assert whole.message.content == TEXT and whole.done
    assert generated.response == TEXT


# --- the wire itself, against the SDKs' types ---


def sse_events(body: str) -> list[tuple[str | None, str]]:
    events = []
    for block in body.split("\n\n"):
        if not block:
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((fields.get("event"), fields["data"]))
    return events


def post(server: LLMServer, path: str, body: dict[str, Any]) -> Any:
    headers = {"authorization": f"Bearer {KEY}", "anthropic-version": "2023-06-01"}
    return httpx.post(server.base_url + path, json=body, headers=headers, timeout=10)


WHOLE_SCRIPT = Script(CHUNKS, reasoning=["Hm", "m."])


def test_chat_wire_validates_against_openai_types() -> None:
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    body = {"model": "m", "messages": MESSAGES, "stream": True}
    with LLMServer(WHOLE_SCRIPT) as server:
        response = post(
            server, "/v1/chat/completions", {**body, "stream_options": {"include_usage": True}}
        )
        whole = post(server, "/v1/chat/completions", {**body, "stream": False})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["transfer-encoding"] == "chunked"
    events = sse_events(response.text)
    assert events[-1] == (None, "[DONE]")
    for event, data in events[:-1]:
        assert event is None
        ChatCompletionChunk.model_validate_json(data)
    ChatCompletion.model_validate_json(whole.text)


def test_responses_wire_validates_against_openai_types() -> None:
    from openai.types.responses import Response, ResponseStreamEvent

    adapter = pydantic.TypeAdapter(ResponseStreamEvent)
    with LLMServer(WHOLE_SCRIPT) as server:
        response = post(server, "/v1/responses", {"model": "m", "input": "x", "stream": True})
        whole = post(server, "/v1/responses", {"model": "m", "input": "x"})
    for event, data in sse_events(response.text):
        parsed = adapter.validate_json(data)
        assert parsed.type == event
    Response.model_validate_json(whole.text)


def test_messages_wire_validates_against_anthropic_types() -> None:
    from anthropic.types import Message, RawMessageStreamEvent

    adapter = pydantic.TypeAdapter(RawMessageStreamEvent)
    body = {"model": "c", "max_tokens": 10, "messages": MESSAGES}
    with LLMServer(WHOLE_SCRIPT) as server:
        response = post(server, "/v1/messages", {**body, "stream": True})
        whole = post(server, "/v1/messages", body)
    events = sse_events(response.text)
    assert ("ping", '{"type":"ping"}') in events
    for event, data in events:
        if event != "ping":
            assert adapter.validate_json(data).type == event
    Message.model_validate_json(whole.text)


def test_ollama_wire_validates_against_ollama_types() -> None:
    with LLMServer(WHOLE_SCRIPT) as server:
        chat = post(server, "/api/chat", {"model": "l", "messages": MESSAGES})
        generate = post(server, "/api/generate", {"model": "l", "prompt": "x"})
    assert chat.headers["content-type"] == "application/x-ndjson"
    for line in chat.text.splitlines():
        ollama.ChatResponse.model_validate_json(line)
    for line in generate.text.splitlines():
        ollama.GenerateResponse.model_validate_json(line)


def test_error_bodies_are_each_providers_own() -> None:
    with LLMServer(Script(fail="http_404_model")) as server:
        openai_error = post(server, "/v1/chat/completions", {"model": "gpt-x", "messages": []})
        anthropic_error = post(server, "/v1/messages", {"model": "claude-x", "messages": []})
        ollama_error = post(server, "/api/chat", {"model": "llama-x", "messages": []})
    assert openai_error.json() == {
        "error": {
            "message": "The model `gpt-x` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
    }
    body = anthropic_error.json()
    assert body["type"] == "error"
    assert body["error"] == {"type": "not_found_error", "message": "model: claude-x"}
    assert ollama_error.json() == {"error": 'model "llama-x" not found, try pulling it first'}


def test_unknown_paths_and_bad_json() -> None:
    with LLMServer() as server:
        unknown = httpx.post(server.openai_base_url + "/nothing", json={})
        ollama_unknown = post(server, "/api/nothing", {})
        bad = httpx.post(server.openai_base_url + "/chat/completions", content=b"{nope")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "Invalid URL (POST /v1/nothing)"
    assert (ollama_unknown.status_code, ollama_unknown.text) == (404, "404 page not found")
    assert bad.status_code == 400
    assert bad.json()["error"]["type"] == "invalid_request_error"


# --- models ---


def test_model_lists_for_each_client() -> None:
    with LLMServer({"b-model": Script(), "a-model": Script()}) as server:
        with openai_client(server) as client:
            openai_ids = [m.id for m in client.models.list()]
            retrieved = client.models.retrieve("a-model")
        with anthropic_client(server) as aclient:
            anthropic_ids = [m.id for m in aclient.models.list()]
        with ollama_client(server) as oclient:
            ollama_names = [m.model for m in oclient.list().models]
    assert openai_ids == anthropic_ids == ollama_names == ["a-model", "b-model"]
    assert retrieved.id == "a-model"


def test_a_default_script_serves_any_model_and_lists_one(server: LLMServer) -> None:
    assert server.model_names() == [DEFAULT_MODEL]
    assert list(read_chat(server, model="whatever")) == list(CHUNKS)


def test_set_script_per_model_and_default(server: LLMServer) -> None:
    server.set_script(Script(["special"]), model="special-model")
    assert list(read_chat(server, model="special-model")) == ["special"]
    assert list(read_chat(server, model="other")) == list(CHUNKS)
    server.set_script(Script(["new"]))
    assert list(read_chat(server, model="special-model")) == ["new"]
    server.set_script({"only": Script(["only"])})
    with pytest.raises(openai.NotFoundError):
        list(read_chat(server, model="other"))


# --- what the server records ---


def test_requests_are_recorded_with_headers_and_body(server: LLMServer) -> None:
    list(read_chat(server))
    list(read_messages(server))
    list(read_ollama(server))
    chat, messages, chat_ollama = server.requests
    assert (chat.method, chat.path) == ("POST", "/v1/chat/completions")
    assert chat.headers["authorization"] == f"Bearer {KEY}"
    assert chat.body["messages"] == MESSAGES
    assert chat.body["stream"] is True
    assert chat.model == "gpt-test"
    assert messages.path == "/v1/messages"
    # anthropic 2.x sends the key as a bearer token; earlier releases as x-api-key
    assert KEY in (messages.headers.get("x-api-key"), messages.headers.get("authorization", "")[7:])
    assert "anthropic-version" in messages.headers
    assert chat_ollama.path == "/api/chat"
    assert chat_ollama.model == "llama-test"
    assert json.loads(chat_ollama.raw_body) == chat_ollama.body


def test_close_cuts_a_stalled_stream_short() -> None:
    # The stall outlasts the test's timeout: the test ends only if close() cuts it short.
    server = LLMServer(Script(["a", "b"]).stalled(after=1, seconds=600))
    received: list[str] = []
    failure: list[BaseException] = []
    first = threading.Event()

    def consume() -> None:
        try:
            for text in read_chat(server):
                received.append(text)
                first.set()
        except Exception as error:
            failure.append(error)
        finally:
            first.set()

    thread = threading.Thread(target=consume)
    thread.start()
    try:
        first.wait()
    finally:
        server.close()
        server.close()
        thread.join()
    assert received == ["a"]
    assert isinstance(failure[0], openai.APIConnectionError)
    assert server.requests[0].wait() is Ending.SERVER_CLOSED


def test_wait_for_requests() -> None:
    with LLMServer(Script(["a"], ttft=0.1)) as server:
        with pytest.raises(TimeoutError):
            server.wait_for_requests(1, timeout=0.0)
        thread = threading.Thread(target=lambda: list(read_ollama(server)))
        thread.start()
        (request,) = server.wait_for_requests(1)
        assert request.path == "/api/chat"
        assert request.wait() is Ending.COMPLETE
        thread.join()


# --- the script ---


def test_schedule_steady_bursts_and_stall() -> None:
    assert Script(["a"] * 3, ttft=0.25, interval=0.5).schedule() == (0.25, 0.75, 1.25)
    assert Script.steady(["a"] * 3, rate=4).schedule() == (0.0, 0.25, 0.5)
    bursts = Script.bursts(["a"] * 5, size=2, every=0.5, ttft=0.25)
    assert bursts.schedule() == (0.25, 0.25, 0.75, 0.75, 1.25)
    assert bursts.stalled(after=3, seconds=2.0).schedule() == (0.25, 0.25, 0.75, 2.75, 3.25)
    reasoning_first = Script(["t"], reasoning=["r"], interval=0.5)
    assert reasoning_first.pieces() == (("reasoning", "r"), ("text", "t"))
    assert reasoning_first.schedule() == (0.0, 0.5)


def test_fail_time_is_when_the_next_piece_was_due() -> None:
    script = Script(["a", "b", "c"], ttft=0.25, interval=0.5, fail="disconnect", fail_after=1)
    assert script.fail_time() == 0.75
    assert Script(["a"], ttft=0.25, fail="disconnect", fail_after=1).fail_time() == 0.25


@pytest.mark.parametrize(
    "fields",
    [
        {"chunks": "not a list"},
        {"chunks": ["a", 1]},
        {"ttft": -1.0},
        {"interval": -0.1},
        {"burst": 0},
        {"stall_after": 4},
        {"usage": (-1, 2)},
        {"fail": "explode"},
        {"fail": "disconnect", "fail_after": 5},
        {"fail": "http_500", "fail_after": 1},
        {"fail_after": 1},
    ],
)
def test_script_rejects_what_it_cannot_play(fields: dict[str, Any]) -> None:
    fields = {"chunks": ["a", "b", "c", "d"], **fields}
    with pytest.raises(ValueError):
        Script(**fields)
