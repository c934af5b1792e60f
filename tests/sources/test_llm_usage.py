"""Usage as each provider defines it: where its counts are, and how several reports in
one stream combine (`Usage.merged`, `sources.llm.USAGE_FIELDS`)."""

from __future__ import annotations

import functools
import io
import operator

import anthropic.types as anthropic_types
import langchain_core.messages as messages
import ollama
import openai.types.chat as openai_types
import pytest

import outstream
from outstream.events import Usage
from outstream.sources.llm import USAGE_FIELDS, items_of


def usage_of(chunks):
    result = outstream.stream(chunks, io.StringIO())
    return result.usage


# --- the merge rule, as a table: reports in order -> what the stream's Result says ---

MERGES = [
    # one report: the provider's total is kept, a missing one computed
    ([Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7)], (3, 4, 7)),
    ([Usage(prompt_tokens=3, completion_tokens=4)], (3, 4, 7)),
    ([Usage(prompt_tokens=3)], (3, None, None)),
    # counts so far replace the earlier ones; a zero does not replace a count
    ([Usage(prompt_tokens=0), Usage(prompt_tokens=8, completion_tokens=5)], (8, 5, 13)),
    ([Usage(prompt_tokens=8, completion_tokens=1), Usage(prompt_tokens=0, completion_tokens=5)], (8, 5, 13)),
    ([Usage(prompt_tokens=8), Usage(completion_tokens=5)], (8, 5, 13)),
    ([Usage(completion_tokens=1), Usage(completion_tokens=5)], (None, 5, None)),
    # each chunk's own counts, added (LangChain)
    ([Usage(prompt_tokens=8, completion_tokens=0, total_tokens=8, adds=True),
      Usage(prompt_tokens=0, completion_tokens=5, total_tokens=5, adds=True)], (8, 5, 13)),
    ([Usage(completion_tokens=2, adds=True)] * 3, (None, 6, None)),
]  # fmt: skip


@pytest.mark.parametrize(("reports", "expected"), MERGES)
def test_reports_merge_into_the_counts_a_provider_means(reports, expected):
    usage = usage_of(reports)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == expected
    assert usage.adds is False


def test_every_provider_has_its_rule_as_data():
    assert set(USAGE_FIELDS) == {"openai_chat", "openai_responses", "anthropic", "langchain", "ollama", "llm"}  # fmt: skip
    # LangChain's chunks, and the rounds of an llm tool chain, each count their own.
    assert [name for name, fields in USAGE_FIELDS.items() if fields.adds] == ["langchain", "llm"]
    assert [name for name, fields in USAGE_FIELDS.items() if fields.total is None] == [
        "anthropic",
        "ollama",
        "llm",
    ]


# --- each provider, its SDK's own objects ---


def test_anthropic_counts_in_message_delta_override_a_zero_in_message_start():
    events = [
        anthropic_types.RawMessageStartEvent.model_validate({"type": "message_start", "message": {
            "id": "m", "type": "message", "role": "assistant", "model": "m", "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0}}}),
        anthropic_types.RawMessageDeltaEvent.model_validate({"type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"input_tokens": 8, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0, "output_tokens": 5}}),
        anthropic_types.RawMessageStopEvent(type="message_stop"),
    ]  # fmt: skip
    usage = usage_of(events)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (8, 5, 13)


def test_anthropic_the_prompt_counts_its_cached_tokens_as_the_older_api_reports_them():
    events = [
        anthropic_types.RawMessageStartEvent.model_validate({"type": "message_start", "message": {
            "id": "m", "type": "message", "role": "assistant", "model": "m", "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 10, "cache_creation_input_tokens": 100,
                      "cache_read_input_tokens": 1000, "output_tokens": 1}}}),
        # the older API: message_delta has the answer's count only
        anthropic_types.RawMessageDeltaEvent.model_validate({"type": "message_delta",
            "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 5}}),
    ]  # fmt: skip
    usage = usage_of(events)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1110, 5, 1115)


def test_openai_chat_usage_comes_in_the_last_chunk():
    chunk = openai_types.ChatCompletionChunk.model_validate(
        {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": [],
         "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15,
                   "prompt_tokens_details": {"cached_tokens": 10}}}
    )  # fmt: skip
    assert items_of(chunk) == [Usage(prompt_tokens=12, completion_tokens=3, total_tokens=15)]


# (OpenAI Responses: over real HTTP in test_numbers.py, the SDK's own parsing.)


def test_langchain_chunks_add_up_as_langchain_adds_them():
    chunks = [
        messages.AIMessageChunk(content="Hel", usage_metadata={"input_tokens": 8, "output_tokens": 0, "total_tokens": 8}),
        messages.AIMessageChunk(content="lo", usage_metadata={"input_tokens": 0, "output_tokens": 3, "total_tokens": 3}),
        messages.AIMessageChunk(content="", usage_metadata={"input_tokens": 0, "output_tokens": 2, "total_tokens": 2},
                                response_metadata={"finish_reason": "stop"}),
    ]  # fmt: skip
    theirs = functools.reduce(operator.add, chunks).usage_metadata  # AIMessageChunk.__add__
    usage = usage_of(chunks)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (
        theirs["input_tokens"],
        theirs["output_tokens"],
        theirs["total_tokens"],
    )
    assert usage.total_tokens == 13


def test_ollama_counts_come_in_the_last_object_and_the_total_is_computed():
    chunks = [
        ollama.ChatResponse(model="m", message=ollama.Message(role="assistant", content="Hi"), done=False),
        ollama.ChatResponse(model="m", message=ollama.Message(role="assistant", content=""), done=True,
                            done_reason="stop", prompt_eval_count=7, eval_count=20, eval_duration=2_000_000_000),
    ]  # fmt: skip
    usage = usage_of(chunks)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (7, 20, 27)
    assert usage.generation_seconds == 2.0


def test_a_recording_keeps_the_reports_and_plays_back_the_same_counts(tmp_path):
    chunks = [
        messages.AIMessageChunk(content="a", usage_metadata={"input_tokens": 8, "output_tokens": 1, "total_tokens": 9}),
        messages.AIMessageChunk(content="b", usage_metadata={"input_tokens": 0, "output_tokens": 1, "total_tokens": 1}),
    ]  # fmt: skip
    path = tmp_path / "deltas.jsonl"
    first = outstream.stream(chunks, io.StringIO(), save_deltas=path).usage
    assert '"adds": true' in path.read_text()
    again = outstream.stream(outstream.replay(path, instant=True), io.StringIO()).usage
    assert first == again == Usage(prompt_tokens=8, completion_tokens=2, total_tokens=10)
