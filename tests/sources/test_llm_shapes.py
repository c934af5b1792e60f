"""Every provider's stream objects, of the SDKs' own types, through `outstream.stream`."""

from __future__ import annotations

import asyncio
import io

import langchain_core.messages as messages
import ollama
import openai.types.chat as openai_types
import pytest

import outstream
from outstream.events import Other


def chat_chunk(
    content=None, *, finish=None, usage=None, reasoning=None, tool_calls=None, choices=True
):
    delta = {"role": "assistant"}
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning  # as DeepSeek, vLLM and others send it
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    return openai_types.ChatCompletionChunk.model_validate(
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else [],
            "usage": usage,
        }
    )


def run(chunks, **options):
    out = io.StringIO()
    result = outstream.stream(chunks, out, **options)
    return out.getvalue(), result


def test_openai_chat_completion_chunks():
    chunks = [
        chat_chunk(""),
        chat_chunk("thinking", reasoning="Let me see. "),
        chat_chunk("Hello"),
        chat_chunk(", world"),
        chat_chunk(None, finish="stop"),
        chat_chunk(
            choices=False, usage={"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
        ),
    ]
    chunks[1] = chat_chunk(None, reasoning="Let me see. ")
    shown, result = run(chunks)
    assert shown == result.text == "Hello, world"
    assert result.reasoning == "Let me see. "
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (12, 3)
    assert result.complete is True
    assert result.stats.completion_tokens == 3
    assert "tokens  prompt 12  completion 3" in result.stats.format()


def test_a_model_stream_without_its_end_marker_is_not_complete():
    shown, result = run([chat_chunk("Cut "), chat_chunk("short")])
    assert shown == "Cut short"
    assert result.complete is False
    assert "tokens: not reported by the source" in result.stats.format()


def test_plain_text_has_no_end_marker_to_miss():
    _, result = run(["plain ", "text"])
    assert result.complete is None
    assert "tokens" not in result.stats.format()


def test_reasoning_can_be_shown_with_the_answer():
    shown, result = run([chat_chunk(None, reasoning="hmm, "), chat_chunk("yes")], reasoning="show")
    assert shown == "hmm, \n\nyes"  # the answer: a paragraph of its own
    assert result.reasoning == "hmm, "


HOSTILE_REASONING = [
    "Let me\x1b]0;PWN",
    "ED\x07 think.\x1b]52;c;aGk=\x07\x1b[2J\u202e",
    " done\x1b]0;",
]


def test_reasoning_kept_apart_is_sanitized_even_when_a_sequence_spans_its_chunks():
    thoughts = io.StringIO()
    chunks = [chat_chunk(None, reasoning=r) for r in HOSTILE_REASONING] + [chat_chunk("42")]
    shown, result = run(chunks, reasoning=thoughts)
    assert (shown, thoughts.getvalue(), result.reasoning) == (
        "42",
        "Let me think. done\n",
        "Let me think. done",
    )
    # Under "escape" the controls are shown, not acted on.
    shown, result = run(chunks, escapes="escape")
    assert "\x1b" not in result.reasoning and "\u241b]0;PWNED" in result.reasoning


def test_reasoning_shown_with_the_answer_is_a_channel_of_its_own():
    """A sequence the reasoning leaves open does not swallow the answer."""
    chunks = [chat_chunk(None, reasoning=r) for r in HOSTILE_REASONING] + [chat_chunk("42")]
    shown, _ = run(chunks, reasoning="show")
    assert shown == "Let me think. done\n\n42"


def test_tool_calls_are_kept_not_printed():
    call = [
        {"index": 0, "id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ]
    shown, result = run(
        [
            chat_chunk("Calling"),
            chat_chunk(None, tool_calls=call),
            chat_chunk(None, finish="tool_calls"),
        ]
    )
    assert shown == "Calling"
    assert len(result.events) == 1 and isinstance(result.events[0], Other)
    assert result.events[0].kind == "tool_call"


def test_openai_responses_events():
    from openai.types.responses import ResponseCompletedEvent, ResponseTextDeltaEvent

    def delta(text, n):
        return ResponseTextDeltaEvent(
            type="response.output_text.delta", delta=text, item_id="i", output_index=0,
            content_index=0, sequence_number=n, logprobs=[],
        )  # fmt: skip

    completed = ResponseCompletedEvent.model_validate(
        {
            "type": "response.completed",
            "sequence_number": 3,
            "response": {
                "id": "r", "object": "response", "created_at": 0, "model": "m", "output": [],
                "parallel_tool_calls": False, "tool_choice": "auto", "tools": [],
                "usage": {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7,
                          "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                          "output_tokens_details": {"reasoning_tokens": 0}},
            },
        }
    )  # fmt: skip
    shown, result = run([delta("Resp", 1), delta("onses", 2), completed])
    assert shown == "Responses"
    assert result.complete is True
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (5, 2)


def test_anthropic_raw_events_and_the_helpers_derived_events_give_the_text_once():
    from anthropic.lib.streaming import TextEvent
    from anthropic.types import (
        RawContentBlockDeltaEvent,
        RawContentBlockStartEvent,
        RawMessageDeltaEvent,
        RawMessageStopEvent,
        TextBlock,
        TextDelta,
        ThinkingDelta,
    )

    def text(t, snapshot):
        raw = RawContentBlockDeltaEvent(
            type="content_block_delta", index=1, delta=TextDelta(type="text_delta", text=t)
        )
        return [
            raw,
            TextEvent(type="text", text=t, snapshot=snapshot),
        ]  # as messages.stream() yields

    events = [
        RawContentBlockDeltaEvent(type="content_block_delta", index=0, delta=ThinkingDelta(type="thinking_delta", thinking="pondering")),
        RawContentBlockStartEvent(type="content_block_start", index=1, content_block=TextBlock(type="text", text="")),
        *text("Bonjour", "Bonjour"),
        *text(" !", "Bonjour !"),
        RawMessageDeltaEvent.model_validate({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}}),
        RawMessageStopEvent(type="message_stop"),
    ]  # fmt: skip
    shown, result = run(events)
    assert shown == "Bonjour !"
    assert result.reasoning == "pondering"
    assert result.usage.completion_tokens == 4
    assert result.complete is True


def test_langchain_message_chunks():
    chunks = [
        messages.AIMessageChunk(content="Lang"),
        messages.AIMessageChunk(content=[{"type": "reasoning", "reasoning": "why "}, {"type": "text", "text": "Chain"}]),
        messages.AIMessageChunk(
            content="",
            usage_metadata={"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
            response_metadata={"finish_reason": "stop"},
        ),
    ]  # fmt: skip
    shown, result = run(chunks)
    assert shown == "LangChain"
    assert result.reasoning == "why "
    assert result.usage.total_tokens == 5


def test_ollama_chat_responses_and_generate_dicts():
    chat = [
        ollama.ChatResponse(model="m", message=ollama.Message(role="assistant", content="Ol", thinking="t"), done=False),
        ollama.ChatResponse(model="m", message=ollama.Message(role="assistant", content="lama"), done=False),
        ollama.ChatResponse(
            model="m", message=ollama.Message(role="assistant", content=""), done=True,
            done_reason="stop", eval_count=20, eval_duration=2_000_000_000, prompt_eval_count=7,
        ),
    ]  # fmt: skip
    shown, result = run(chat)
    assert shown == "Ollama"
    assert result.reasoning == "t"
    assert result.stats.tokens_per_s == 10.0  # Ollama's own generation time: 20 tokens in 2 s
    generate = [
        {"model": "m", "response": "from ", "done": False},
        {"model": "m", "response": "dicts", "done": True},
    ]
    shown, result = run(generate)
    assert (shown, result.complete) == ("from dicts", True)


def test_an_object_of_an_unknown_shape_is_a_type_error_after_the_text_before_it():
    class Mystery:
        pass

    out = io.StringIO()
    with pytest.raises(TypeError, match="cannot stream a Mystery chunk: expected OpenAI chat"):
        outstream.stream([chat_chunk("shown "), Mystery()], out)
    assert out.getvalue() == "shown "


def test_an_async_sdk_stream():
    async def chunks():
        for piece in ("async ", "chunks"):
            yield chat_chunk(piece)
        yield chat_chunk(None, finish="stop")

    out = io.StringIO()
    result = asyncio.run(outstream.astream(chunks(), out))
    assert (out.getvalue(), result.complete) == ("async chunks", True)


def test_a_stream_that_must_be_entered_first_is_entered_and_left():
    """As Anthropic's `client.messages.stream(...)` must be: `with ... as stream`."""
    state = []

    class Manager:
        def __enter__(self):
            state.append("entered")
            return iter(
                [chat_chunk("entered "), chat_chunk("and left"), chat_chunk(None, finish="stop")]
            )

        def __exit__(self, *exc):
            state.append("left")

    shown, result = run(Manager())
    assert (shown, result.complete, state) == ("entered and left", True, ["entered", "left"])


def test_a_hugging_face_text_iterator_streamer():
    """transformers' own TextIteratorStreamer, fed token ids as model.generate() feeds it."""
    import threading

    import numpy as np
    import transformers  # imported here: it takes seconds

    class CharTokenizer:  # one token per character: enough for the streamer's decoding
        def decode(self, ids, **kwargs):
            return chr(ids) if isinstance(ids, int) else "".join(map(chr, ids))

    streamer = transformers.TextIteratorStreamer(CharTokenizer(), timeout=10)
    text = "Hugging Face streams, word by word.\n"

    def generate():
        for c in text:
            streamer.put(np.array([[ord(c)]]))
        streamer.end()

    thread = threading.Thread(target=generate)
    thread.start()
    shown, result = run(streamer)
    thread.join()
    assert shown == text
    assert result.complete is None  # plain text: no protocol to end


def test_reasoning_can_go_to_a_file_as_it_comes():
    thoughts = io.StringIO()
    shown, result = run(
        [chat_chunk(None, reasoning="step one. "), chat_chunk("Answer")], reasoning=thoughts
    )
    # A newline ends the reasoning's line when the answer begins.
    assert (shown, thoughts.getvalue(), result.reasoning) == (
        "Answer",
        "step one. \n",
        "step one. ",
    )
    with pytest.raises(ValueError, match="reasoning must be"):
        run(["x"], reasoning="loud")


def test_a_tool_call_ends_the_run_of_text_before_it():
    from outstream.testing import MemorySink, ScriptedSource, VirtualClock

    call = [
        {"index": 0, "id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ]
    clock = VirtualClock()
    sink = MemorySink(clock)
    script = [
        (0.0, chat_chunk("Let me look")),
        (0.5, chat_chunk(None, tool_calls=call)),
        (0.5, chat_chunk(None, finish="tool_calls")),
    ]
    result = outstream.stream(
        ScriptedSource(script, clock=clock), sink, pace=outstream.Typewriter(cps=2), clock=clock
    )
    assert sink.getvalue() == "Let me look"
    assert sink.writes[-1][0] == 0.5  # at the tool call, the rest of the text at once: not at 5.0
    assert [e.kind for e in result.events] == ["tool_call"]


def test_plain_dicts_decoded_from_each_wire_format():
    import json

    wire = {
        "openai chat": [
            '{"choices":[{"index":0,"delta":{"content":"from "},"finish_reason":null}]}',
            '{"choices":[{"index":0,"delta":{"content":"json"},"finish_reason":"stop"}]}',
        ],
        "openai responses": [
            '{"type":"response.output_text.delta","delta":"from "}',
            '{"type":"response.output_text.delta","delta":"json"}',
            '{"type":"response.completed","response":{"usage":{"input_tokens":1,"output_tokens":2}}}',
        ],
        "anthropic": [
            '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"from "}}',
            '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"json"}}',
            '{"type":"message_stop"}',
        ],
        "ollama chat": [
            '{"model":"m","message":{"role":"assistant","content":"from "},"done":false}',
            '{"model":"m","message":{"role":"assistant","content":"json"},"done":true,"eval_count":2}',
        ],
    }
    for name, lines in wire.items():
        shown, result = run([json.loads(line) for line in lines])
        assert (shown, result.complete) == ("from json", True), name
