"""True numbers from the real SDKs over real HTTP: time to first text from the request's
start, usage as each provider counts it, and a stream that stops short."""

from __future__ import annotations

import asyncio
import io

import anthropic
import openai
import pytest

import outstream
from outstream.testing import LLMScript, LLMServer

MESSAGES = [{"role": "user", "content": "hi"}]
# The server holds the response's headers this long, as one in front of a
# model that thinks first does: the SDK's call returns only then.
WAIT = 0.4
SLOW = LLMScript(["Hel", "lo"], headers_after=WAIT, ttft=WAIT)


def shown(source, **options):
    out = io.StringIO()
    result = outstream.stream(source, out, **options)
    return out.getvalue(), result


# --- time to first text, from the request's start ---


def test_openai_a_stream_made_before_the_call_hides_the_wait_a_function_counts_it():
    with (
        LLMServer(SLOW) as server,
        openai.OpenAI(base_url=server.openai_base_url, api_key="k") as client,
    ):

        def request():
            return client.chat.completions.create(model="m", messages=MESSAGES, stream=True)

        made = request()  # returns once the headers came: the wait is over
        _, late = shown(made)
        text, timed = shown(request)
    assert text == "Hello"
    assert not late.stats.from_request  # counted from stream(): "first text 0.007 s"
    assert timed.stats.time_to_first_text >= WAIT
    assert timed.stats.from_request
    assert "from the request" in timed.stats.format()
    assert timed.complete is True


def test_openai_timing_around_the_call_and_started():
    with (
        LLMServer(SLOW) as server,
        openai.OpenAI(base_url=server.openai_base_url, api_key="k") as client,
    ):
        with outstream.timing() as started:
            made = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        text, result = shown(made, started=started)
    assert text == "Hello"
    assert result.stats.time_to_first_text >= WAIT
    assert result.stats.total_time >= result.stats.time_to_first_text


def test_openai_async_the_coroutine_not_awaited_is_awaited_inside_the_stream():
    async def main(base_url):
        async with openai.AsyncOpenAI(base_url=base_url, api_key="k") as client:
            out = io.StringIO()
            result = await outstream.astream(
                client.chat.completions.create(model="m", messages=MESSAGES, stream=True), out
            )
            texts = [
                delta
                async for delta in outstream.aiter_text(
                    lambda: client.chat.completions.create(
                        model="m", messages=MESSAGES, stream=True
                    )
                )
            ]
        return out.getvalue(), result, "".join(texts)

    with LLMServer(SLOW) as server:
        text, result, iterated = asyncio.run(main(server.openai_base_url))
    assert (text, iterated, result.complete) == ("Hello", "Hello", True)
    assert result.stats.time_to_first_text >= WAIT
    assert result.stats.from_request


def test_openai_iter_text_calls_the_function_at_the_first_next():
    with (
        LLMServer(SLOW) as server,
        openai.OpenAI(base_url=server.openai_base_url, api_key="k") as client,
    ):
        text = outstream.iter_text(
            lambda: client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        )
        assert "".join(text) == "Hello"
    assert text.result.stats.time_to_first_text >= WAIT


def test_anthropic_the_stream_helper_as_a_function():
    with (
        LLMServer(SLOW) as server,
        anthropic.Anthropic(base_url=server.base_url, api_key="k") as client,
    ):
        text, result = shown(
            lambda: client.messages.stream(model="m", max_tokens=100, messages=MESSAGES)
        )
    assert (text, result.complete) == ("Hello", True)
    assert result.stats.time_to_first_text >= WAIT


def test_a_failing_call_raises_the_sdks_own_error_from_stream():
    with (
        LLMServer(LLMScript(fail="http_401")) as server,
        openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0) as client,
        pytest.raises(openai.AuthenticationError),
    ):
        shown(lambda: client.chat.completions.create(model="m", messages=MESSAGES, stream=True))


# --- usage, as each provider counts it ---


def test_anthropic_usage_zero_at_message_start_is_the_sdks_final_count():
    script = LLMScript(["Stream", "ed."], usage=(8, 3), usage_at_end=True)
    with (
        LLMServer(script) as server,
        anthropic.Anthropic(base_url=server.base_url, api_key="k") as client,
    ):
        with client.messages.stream(model="m", max_tokens=100, messages=MESSAGES) as helper:
            for _ in helper:
                pass
            final = helper.get_final_message().usage
        raw = client.messages.create(model="m", max_tokens=100, messages=MESSAGES, stream=True)
        text, result = shown(raw)
    assert (final.input_tokens, final.output_tokens) == (8, 3)
    assert text == "Streamed."
    usage = result.usage
    prompt = (
        final.input_tokens
        + (final.cache_creation_input_tokens or 0)
        + (final.cache_read_input_tokens or 0)
    )
    assert (usage.prompt_tokens, usage.completion_tokens) == (prompt, final.output_tokens)
    assert usage.total_tokens == 11  # Anthropic gives none: prompt + completion
    assert "prompt 8  completion 3" in result.stats.format()


def test_openai_usage_in_the_last_chunk_and_responses_completed():
    script = LLMScript(["a", "b"], usage=(7, 2))
    with (
        LLMServer(script) as server,
        openai.OpenAI(base_url=server.openai_base_url, api_key="k") as client,
    ):
        chat = client.chat.completions.create(
            model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        _, chat_result = shown(chat)
        _, responses_result = shown(client.responses.create(model="m", input="hi", stream=True))
    for result in (chat_result, responses_result):
        usage = result.usage
        assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (7, 2, 9)


# --- a stream that stops short ---


@pytest.mark.parametrize("fail_after", [0, 1], ids=["nothing but the opening", "cut after a piece"])
def test_anthropic_a_stream_that_ends_without_message_stop_is_not_complete(fail_after):
    script = LLMScript(["Hel", "lo"], fail="cut_short", fail_after=fail_after)
    with (
        LLMServer(script) as server,
        anthropic.Anthropic(base_url=server.base_url, api_key="k") as client,
    ):
        raw = client.messages.create(model="m", max_tokens=100, messages=MESSAGES, stream=True)
        text, result = shown(raw)
    assert text == "Hello"[: 3 * fail_after]
    assert result.complete is False


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_a_model_stream_that_yields_nothing_is_not_complete(api):
    # An event stream of keep-alive comments only: the SDK's stream yields nothing.
    with LLMServer(LLMScript(fail="keepalive")) as server:
        if api == "anthropic":
            with anthropic.Anthropic(base_url=server.base_url, api_key="k") as client:
                source = client.messages.create(
                    model="m", max_tokens=100, messages=MESSAGES, stream=True
                )
                assert list(source) == []
                source = client.messages.create(
                    model="m", max_tokens=100, messages=MESSAGES, stream=True
                )
                text, result = shown(source)
        else:
            with openai.OpenAI(base_url=server.openai_base_url, api_key="k") as client:
                text, result = shown(
                    lambda: client.chat.completions.create(
                        model="m", messages=MESSAGES, stream=True
                    )
                )
    assert (text, result.complete) == ("", False)
    assert "tokens: not reported" in result.stats.format()


def test_plain_text_has_no_end_marker_to_miss():
    assert shown(iter(["a", "b"]))[1].complete is None
    assert shown(lambda: iter(["a", "b"]))[1].complete is None
