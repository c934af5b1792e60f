"""The loopback server's knobs for true numbers: headers held back (`headers_after`),
Anthropic's usage only at the end (`usage_at_end`), a body cut short in good order."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from outstream.testing import VirtualClock
from outstream.testing.llm_server import Ending, LLMServer, Script

MESSAGES = [{"role": "user", "content": "one two three"}]
HEADERS = {"authorization": "Bearer k", "anthropic-version": "2023-06-01"}


def events(body: str) -> list[dict]:
    return [
        json.loads(line[len("data: ") :])
        for line in body.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


def test_headers_after_holds_the_response_and_the_pieces_due_before_follow_it():
    clock = VirtualClock()
    script = Script(["a", "b", "c"], ttft=0.5, interval=0.5, headers_after=1.25)
    with (
        LLMServer(script, clock=clock) as server,
        openai.OpenAI(base_url=server.openai_base_url, api_key="k") as client,
    ):
        stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        texts = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]  # fmt: skip
        request = server.requests[0]
    assert texts == ["a", "b", "c"]
    assert request.piece_times == (1.25, 1.25, 1.5)  # "a" and "b" were due at 0.5 and 1.0


def test_headers_after_on_the_real_clock_the_sdks_call_returns_only_then():
    # The one real-clock check of this knob: that a real socket holds the headers
    # back, which the virtual clock above cannot show. An order on the server's own
    # clock (time.monotonic), not a duration: the SDK's call returns no sooner than
    # the request's arrival plus headers_after, however slow the machine is.
    with (
        LLMServer(Script(["a"], headers_after=0.3)) as server,
        openai.OpenAI(base_url=server.openai_base_url, api_key="k") as client,
    ):
        stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        returned = time.monotonic()
        list(stream)
        arrived = server.requests[0].t
    assert returned >= arrived + 0.3


@pytest.mark.parametrize("at_end", [False, True])
def test_usage_at_end_makes_message_start_say_zero_input_tokens(at_end):
    with LLMServer(Script(["a", "b"], usage=(8, 2), usage_at_end=at_end)) as server:
        body = httpx.post(
            server.base_url + "/v1/messages",
            json={"model": "m", "max_tokens": 9, "messages": MESSAGES, "stream": True},
            headers=HEADERS,
            timeout=10,
        ).text
    by_type = {e["type"]: e for e in events(body)}
    start = by_type["message_start"]["message"]["usage"]
    assert start["input_tokens"] == (0 if at_end else 8)
    assert by_type["message_delta"]["usage"]["input_tokens"] == 8
    assert by_type["message_delta"]["usage"]["output_tokens"] == 2


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_cut_short_ends_the_body_in_good_order_without_the_end_events(path):
    with LLMServer(Script(["a", "b", "c"], fail="cut_short", fail_after=2)) as server:
        response = httpx.post(
            server.base_url + path,
            json={"model": "m", "max_tokens": 9, "messages": MESSAGES, "stream": True},
            headers=HEADERS,
            timeout=10,
        )  # read whole: no transport error
        ending = server.requests[0].wait(timeout=10)
    assert response.status_code == 200
    assert "[DONE]" not in response.text and "message_stop" not in response.text
    assert '"a"' in response.text and '"b"' in response.text and '"c"' not in response.text
    assert ending is Ending.FAILED


def test_headers_after_must_not_be_negative():
    with pytest.raises(ValueError, match="headers_after"):
        Script(["a"], headers_after=-1.0)
