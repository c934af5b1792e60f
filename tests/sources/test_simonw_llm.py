"""simonw's `llm`: its Response objects and StreamEvents, from the real package and its
offline `llm-echo` model, through `stream`, `astream` and `iter_text`."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json

import llm
import pytest
from llm.parts import StreamEvent

import outstream

# llm-echo's canned reasoning (its `thinking` option) came in 0.5, which needs
# Python 3.11: on 3.10 pip installs 0.4. Reasoning in bare StreamEvents is
# tested on every version below.
needs_echo_thinking = pytest.mark.skipif(
    "thinking" not in llm.get_model("echo").Options.model_fields,
    reason="llm-echo < 0.5 (as on Python 3.10) has no thinking option",
)


def run(source, **options):
    out = io.StringIO()
    result = outstream.stream(source, out, **options)
    return out.getvalue(), result


def echoed(prompt: str) -> str:
    """What llm-echo answers to `prompt`: the request, as indented JSON."""
    return json.dumps(
        {"prompt": prompt, "system": "", "attachments": [], "stream": True, "previous": []},
        indent=2,
    )


def raw(text: str) -> str:
    """A prompt to which llm-echo answers `text`, as it is."""
    return json.dumps({"raw": text})


# --- the two bugs of issue 16, as they were reported ---


def test_a_text_stream_event_is_the_answers_text_not_an_anthropic_event():
    """It was taken for Anthropic's derived "text" event: nothing shown, complete False."""
    shown, result = run(
        [StreamEvent(type="text", chunk="Hello, "), StreamEvent(type="text", chunk="world")]
    )
    assert shown == result.text == "Hello, world"
    # Bare events carry no end marker (only their Response knows its end):
    # there is none to miss, as with plain text.
    assert result.complete is None


def test_a_reasoning_stream_event_is_reasoning_not_a_type_error():
    events = [
        StreamEvent(type="reasoning", chunk="First I think, "),
        StreamEvent(type="reasoning", chunk="", redacted=True),  # withheld by the provider
        StreamEvent(type="reasoning", chunk="then I answer."),
        StreamEvent(type="text", chunk="42"),
    ]
    shown, result = run(events)
    assert (shown, result.reasoning) == ("42", "First I think, then I answer.")
    shown, _ = run(events, reasoning="show")
    assert shown == "First I think, then I answer.\n\n42"


# --- a Response: text, reasoning, usage and its end ---


def test_a_response_streams_its_text_and_usage_and_is_complete():
    response = llm.get_model("echo").prompt("hi there")
    shown, result = run(response)
    assert shown == result.text == echoed("hi there") == response.text()
    assert result.complete is True
    # llm-echo counts words: what the Response says it used reaches the stats.
    assert (
        (result.usage.prompt_tokens, result.usage.completion_tokens)
        == (
            response.input_tokens,
            response.output_tokens,
        )
        == (2, 13)
    )
    assert result.stats.completion_tokens == 13
    assert "tokens  prompt 2  completion 13" in result.stats.format()


@needs_echo_thinking
def test_a_responses_reasoning_is_kept_apart_or_shown():
    response = llm.get_model("echo").prompt("hi there", thinking=True)
    shown, result = run(response)
    assert shown == echoed("hi there")
    assert result.reasoning == "First I consider the prompt, then I decide what to say."
    shown, result = run(llm.get_model("echo").prompt("hm", thinking=True), reasoning="show")
    assert shown == f"{result.reasoning}\n\n{echoed('hm')}"
    model = llm.get_async_model("echo")
    out = io.StringIO()
    result = asyncio.run(outstream.astream(model.prompt("one", thinking=True), out))
    assert result.reasoning.startswith("First I consider") and out.getvalue() == echoed("one")


def test_the_generator_of_stream_events_gives_the_usage_and_the_end_too():
    response = llm.get_model("echo").prompt("hi")
    shown, result = run(response.stream_events())
    assert shown == echoed("hi")
    assert result.complete is True
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (1, 12)


def test_a_response_already_read_is_replayed():
    response = llm.get_model("echo").prompt("again")
    text = response.text()
    shown, result = run(response)
    assert shown == text and result.complete is True and result.usage.prompt_tokens == 1


def test_an_async_response_through_astream_and_through_stream():
    model = llm.get_async_model("echo")

    async def main():
        out = io.StringIO()
        result = await outstream.astream(model.prompt("one"), out)
        assert out.getvalue() == echoed("one")
        assert result.complete is True and result.usage.completion_tokens == 12
        out = io.StringIO()
        result = await outstream.astream(model.prompt("two").astream_events(), out)
        assert out.getvalue() == echoed("two") and result.usage.prompt_tokens == 1

    asyncio.run(main())
    shown, result = run(model.prompt("three"))  # sync stream() of an AsyncResponse
    assert shown == echoed("three") and result.complete is True


def test_a_sync_response_through_astream():
    async def main():
        out = io.StringIO()
        result = await outstream.astream(llm.get_model("echo").prompt("sync"), out)
        return out.getvalue(), result

    shown, result = asyncio.run(main())
    assert shown == echoed("sync") and result.usage.prompt_tokens == 1


def test_iter_text_of_a_response():
    response = llm.get_model("echo").prompt("pulled")
    assert "".join(outstream.iter_text(response)) == echoed("pulled")


def test_a_chain_of_tool_rounds_streams_every_round_and_adds_their_usage():
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    model = llm.get_model("echo")
    prompt = json.dumps(
        {"prompt": "sum?", "tool_calls": [{"name": "add", "arguments": {"a": 2, "b": 3}}]}
    )
    chain = model.chain(prompt, tools=[add])
    shown, result = run(chain)
    rounds = chain._responses
    assert len(rounds) == 2
    assert shown == echoed("sum?") + " " + rounds[1].text()  # llm's own separator
    assert '"output": "5"' in shown
    assert result.usage.prompt_tokens == sum(r.input_tokens for r in rounds)
    assert result.usage.completion_tokens == sum(r.output_tokens for r in rounds)
    assert result.complete is True


# --- tool calls, and what a model sends is made safe ---


def test_tool_call_events_are_kept_not_shown():
    events = [
        StreamEvent(type="text", chunk="Let me add. "),
        StreamEvent(type="tool_call_name", chunk="add", tool_call_id="t1"),
        StreamEvent(type="tool_call_args", chunk='{"a": 2', tool_call_id="t1"),
        StreamEvent(type="tool_call_args", chunk=', "b": 3}', tool_call_id="t1"),
        StreamEvent(type="tool_result", chunk="5", tool_call_id="t1", tool_name="add"),
        StreamEvent(type="text", chunk="It is 5."),
    ]
    shown, result = run(events)
    assert shown == "Let me add. It is 5."
    assert [e.kind for e in result.events] == ["tool_call"] * 3 + ["tool_result"]
    assert [e.value for e in result.events] == events[1:5]


def test_stream_events_as_dicts():
    events = [StreamEvent(type="reasoning", chunk="hm"), StreamEvent(type="text", chunk="ok")]
    shown, result = run([dataclasses.asdict(e) for e in events])
    assert (shown, result.reasoning) == ("ok", "hm")


def test_escapes_from_the_model_are_stripped_on_a_terminal():
    response = llm.get_model("echo").prompt(
        raw("Hi\x1b]0;PWNED\x07 there\x1b[2J!\x1b]52;c;aGk=\x07")
    )
    shown, result = run(response, terminal=True)
    assert shown == result.text == "Hi there!"
    thinking = [
        StreamEvent(type="reasoning", chunk="a\x1b]0;T\x07b"),
        StreamEvent(type="text", chunk="c"),
    ]
    shown, result = run(thinking, terminal=True, reasoning="show")
    assert "\x1b" not in shown and result.reasoning == "ab"


def test_a_function_giving_a_response_is_called_once_the_stream_began():
    """llm's AsyncResponse is awaitable too, but awaiting it waits for the whole answer:
    a call that gives one is read as a stream."""
    shown, result = run(lambda: llm.get_model("echo").prompt("called"))
    assert shown == echoed("called") and result.stats.from_request
    assert result.complete is True and result.usage.prompt_tokens == 1
    model = llm.get_async_model("echo")
    shown, result = run(lambda: model.prompt("awaited"))
    assert shown == echoed("awaited") and result.usage.prompt_tokens == 1

    async def main():
        out = io.StringIO()
        result = await outstream.astream(lambda: model.prompt("in a task"), out)
        return out.getvalue(), result

    shown, result = asyncio.run(main())
    assert shown == echoed("in a task") and result.complete is True
