"""The real SDKs, over real HTTP from the loopback server, streamed by outstream."""

from __future__ import annotations

import asyncio
import io

import anthropic
import ollama
import openai
import pytest

import outstream
from outstream.testing import Ending, LLMScript, LLMServer

SCRIPT = LLMScript(["Stream", "ed by ", "outstream."], reasoning=["Think", "ing. "], usage=(7, 5))
MESSAGES = [{"role": "user", "content": "hi"}]


def shown(source, **options):
    out = io.StringIO()
    result = outstream.stream(source, out, **options)
    return out.getvalue(), result


def test_openai_chat_completions_sync_and_async():
    with (
        LLMServer(SCRIPT) as server,
        openai.OpenAI(base_url=server.openai_base_url, api_key="k") as client,
    ):
        stream = client.chat.completions.create(
            model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        text, result = shown(stream)
        assert (text, result.reasoning, result.complete) == (
            "Streamed by outstream.",
            "Thinking. ",
            True,
        )
        assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (7, 5)

        async def main():
            async with openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="k") as client:
                stream = await client.chat.completions.create(
                    model="m", messages=MESSAGES, stream=True
                )
                out = io.StringIO()
                result = await outstream.astream(stream, out)
            return out.getvalue(), result.complete

        assert asyncio.run(main()) == ("Streamed by outstream.", True)


def test_openai_responses():
    with (
        LLMServer(SCRIPT) as server,
        openai.OpenAI(base_url=server.openai_base_url, api_key="k") as client,
    ):
        text, result = shown(client.responses.create(model="m", input="hi", stream=True))
    assert (text, result.reasoning, result.complete) == (
        "Streamed by outstream.",
        "Thinking. ",
        True,
    )
    assert result.usage.completion_tokens == 5


def test_anthropic_raw_events_and_the_stream_helper():
    with (
        LLMServer(SCRIPT) as server,
        anthropic.Anthropic(base_url=server.base_url, api_key="k") as client,
    ):
        raw = client.messages.create(model="m", max_tokens=100, messages=MESSAGES, stream=True)
        text, result = shown(raw)
        assert (text, result.reasoning, result.complete) == (
            "Streamed by outstream.",
            "Thinking. ",
            True,
        )
        helper = client.messages.stream(model="m", max_tokens=100, messages=MESSAGES)
        text, result = shown(helper)  # entered for you; its derived events do not double the text
        assert (text, result.complete) == ("Streamed by outstream.", True)


LONG = LLMScript.steady(["word "] * 1000, rate=50)  # 20 s of answer


def test_an_app_that_stops_reading_hangs_up_on_the_model():
    # The SDK's stream reads through generators of its own, which closing ours does
    # not reach: unless its close() is called, the model answers on for nobody.
    with (
        LLMServer(LONG) as server,
        openai.OpenAI(base_url=server.openai_base_url, api_key="k") as client,
        anthropic.Anthropic(base_url=server.base_url, api_key="k") as claude,
    ):
        with outstream.iter_text(
            client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        ) as text:
            assert next(text)
        raw = claude.messages.create(model="m", max_tokens=100, messages=MESSAGES, stream=True)
        for _ in outstream.iter_text(raw):
            break  # the iterator dropped: closed when collected
        first, second = server.wait_for_requests(2)
        assert first.wait(10) is second.wait(10) is Ending.CLIENT_CLOSED
        assert first.n_pieces_sent < 500 and second.n_pieces_sent < 500


def test_an_async_app_that_stops_reading_hangs_up_on_the_model():
    async def read_a_little(server):
        async with openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="k") as client:
            chunks = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            async with outstream.aiter_text(chunks) as text:
                assert await anext(text)
            (request,) = server.requests
            # (while the client is open: closing it would close its connections)
            assert await asyncio.to_thread(request.wait, 10) is Ending.CLIENT_CLOSED
            assert request.n_pieces_sent < 500

    with LLMServer(LONG) as server:
        asyncio.run(read_a_little(server))


def test_ollama_chat():
    with LLMServer(SCRIPT) as server:
        client = ollama.Client(host=server.base_url)
        try:
            text, result = shown(client.chat(model="m", messages=MESSAGES, stream=True))
        finally:
            client._client.close()  # ollama's Client has no close() of its own
    assert (text, result.reasoning, result.complete) == (
        "Streamed by outstream.",
        "Thinking. ",
        True,
    )
    assert result.stats.tokens_per_s is not None


def test_a_dropped_connection_raises_the_sdks_error_after_what_arrived():
    script = LLMScript(["kept ", "and ", "lost"], fail="disconnect", fail_after=2)
    with (
        LLMServer(script) as server,
        openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0) as client,
    ):
        out = io.StringIO()
        with pytest.raises(openai.APIError):
            outstream.stream(
                client.chat.completions.create(model="m", messages=MESSAGES, stream=True), out
            )
    assert out.getvalue() == "kept and "


# Hostile text in every wire format the SDKs read: the answer and the reasoning
# of each, through the library, sanitized whatever the format.
HOSTILE = [
    "plain ", "\x1b]0;PW", "NED\x07", "\x1b]52;c;aGk=\x07", "\x9b2J", "\u202eevil\u202c ", "\x1b[",
    "31mred\x1b[0m", " end",
]  # fmt: skip
HOSTILE_SCRIPT = LLMScript(HOSTILE, reasoning=HOSTILE)
UNSAFE = set("\x1b\x07\x9b\x9c\x9d\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def hostile_streams(server):
    with openai.OpenAI(base_url=server.openai_base_url, api_key="k") as client:
        yield "chat", client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        yield "responses", client.responses.create(model="m", input="hi", stream=True)
    with anthropic.Anthropic(base_url=server.base_url, api_key="k") as client:
        yield (
            "messages",
            client.messages.create(model="m", max_tokens=100, messages=MESSAGES, stream=True),
        )
    client = ollama.Client(host=server.base_url)
    try:
        yield "ollama", client.chat(model="m", messages=MESSAGES, stream=True)
    finally:
        client._client.close()


@pytest.mark.parametrize("reasoning", ["hide", "show"])
def test_every_wire_format_is_sanitized_in_the_answer_and_the_reasoning(reasoning):
    with LLMServer(HOSTILE_SCRIPT) as server:
        for name, stream in hostile_streams(server):
            text, result = shown(stream, reasoning=reasoning)
            assert not UNSAFE & set(text + result.reasoning), name
            expected = "plain evil red end"
            if reasoning == "show":
                assert text == f"{expected}\n\n{expected}", name
                assert result.reasoning == expected, name
            else:
                assert (text, result.reasoning) == (expected, expected), name
