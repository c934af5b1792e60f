"""``POST /v1/streams`` and the token, over real HTTP (uvicorn, httpx) on a real Redis, the
upstream being the package's loopback LLM server."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from outstream.relay import new_id, publish
from outstream.sources.openai_http import Upstream
from outstream.testing.llm_server import Ending, LLMServer, Script
from outstream.web import app

from ..conftest import needs_redis
from .test_app import read_events, text_of

pytestmark = needs_redis

TOKEN = "t0ken-for-tests_0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KEY = "sk-provider-key-0123"


@pytest.fixture
def llm():
    with LLMServer(Script(["The sky ", "is blue ", "because of Rayleigh."])) as server:
        yield server


def upstream_of(server: LLMServer, **fields) -> Upstream:
    return Upstream(base_url=server.openai_base_url, model="m", api_key=KEY, **fields)


def post(base: str, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{base}/v1/streams", json=body, headers=headers, timeout=30)


def test_a_post_starts_the_answer_and_its_events_give_the_scripted_text(serve, redis_log, llm):
    base = serve(app(redis_log, token=TOKEN, upstream=upstream_of(llm, system="be kind")))
    started = post(base, {"prompt": "why is the sky blue?"}, AUTH)
    assert started.status_code == 201, started.text
    body = started.json()
    id = body["id"]
    assert body["urls"] == {
        "events": f"{base}/v1/streams/{id}/events",
        "page": f"{base}/s/{id}",
        "status": f"{base}/v1/streams/{id}",
        "text": f"{base}/v1/streams/{id}/text",
        "cancel": f"{base}/v1/streams/{id}/cancel",
    }
    assert started.headers["location"] == body["urls"]["status"]
    # At once: the stream exists when the answer says so.
    _, events, _ = read_events(body["urls"]["events"])
    assert text_of(events) == "The sky is blue because of Rayleigh."
    assert events[-1].event == "end"
    status = httpx.get(body["urls"]["status"]).json()
    assert (status["status"], status["model"]) == ("done", "m")
    assert httpx.get(body["urls"]["text"]).text == "The sky is blue because of Rayleigh."
    (asked,) = llm.requests
    assert asked.body["messages"] == [
        {"role": "system", "content": "be kind"},
        {"role": "user", "content": "why is the sky blue?"},
    ]
    assert asked.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in json.dumps(status)


def test_a_post_may_give_its_own_system_prompt_and_id(serve, redis_log, llm):
    base = serve(app(redis_log, token=TOKEN, upstream=upstream_of(llm, system="default")))
    id = new_id()
    started = post(base, {"prompt": "hi", "system": "talk like a pirate", "id": id}, AUTH)
    assert started.status_code == 201 and started.json()["id"] == id
    _, events, _ = read_events(started.json()["urls"]["events"])
    assert events[-1].event == "end"
    assert llm.requests[0].body["messages"][0] == {
        "role": "system",
        "content": "talk like a pirate",
    }
    again = post(base, {"prompt": "hi", "id": id}, AUTH)
    assert again.status_code == 409 and id in again.json()["message"]
    assert len(llm.requests) == 1  # nothing asked twice


def test_without_a_token_starting_answers_is_off_and_says_how_to_turn_it_on(serve, redis_log, llm):
    base = serve(app(redis_log, upstream=upstream_of(llm)))
    for headers in (None, AUTH):
        refused = post(base, {"prompt": "hi"}, headers)
        assert refused.status_code == 403
        message = refused.json()["message"]
        assert "--token" in message and "OUTSTREAM_TOKEN" in message
    assert llm.requests == []


@pytest.mark.parametrize(
    ("headers", "wrong"),
    [
        (None, False),
        ({"Authorization": "Bearer not-the-token"}, True),
        ({"Authorization": f"Bearer {TOKEN}x"}, True),
        ({"Authorization": f"Basic {TOKEN}"}, False),
        ({"Authorization": "Bearer"}, False),
        ({"Authorization": "Bearer ünïcode".encode()}, True),  # raw UTF-8 bytes
    ],
)
def test_a_missing_or_wrong_token_is_a_401_that_asks_for_a_bearer_token(
    serve, redis_log, llm, headers, wrong
):
    base = serve(app(redis_log, token=TOKEN, upstream=upstream_of(llm)))
    refused = post(base, {"prompt": "hi"}, headers)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert ('error="invalid_token"' in refused.headers["www-authenticate"]) is wrong
    assert "Authorization: Bearer" in refused.json()["message"]
    # A token in the URL is for reading only: it would end up in logs.
    assert httpx.post(f"{base}/v1/streams?token={TOKEN}", json={"prompt": "hi"}).status_code == 401
    assert llm.requests == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"not json", "no JSON"),
        (b'["why?"]', "the body is an array"),
        (b'{"prompt": "hi", "model": "gpt-5"}', 'unknown field "model"'),
        (b'{"prompt": 42}', "'prompt' must be a string, not a number"),
        (b'{"prompt": "hi", "system": ["a"]}', "'system' must be a string, not an array"),
        (b'{"system": "s"}', "'prompt' is missing"),
        (b'{"prompt": "  "}', "'prompt' is blank"),
        (b'{"prompt": "hi", "id": "../x"}', "'id' is no stream id"),
        (b'{"prompt": null}', "'prompt' must be a string, not null"),
        (b"[" * 100_000, "nested too deep"),
        (b'{"prompt": "\\ud800"}', "'prompt' holds a lone surrogate"),
    ],
)
def test_a_wrong_body_is_a_400_that_says_what_is_wrong(serve, redis_log, llm, body, words):
    base = serve(app(redis_log, token=TOKEN, upstream=upstream_of(llm)))
    refused = httpx.post(f"{base}/v1/streams", content=body, headers=AUTH)
    assert refused.status_code == 400
    assert refused.json()["error"] == "bad request"
    assert words in refused.json()["message"]
    assert llm.requests == []


def test_a_body_too_large_is_a_413(serve, redis_log, llm):
    base = serve(app(redis_log, token=TOKEN, upstream=upstream_of(llm)))
    refused = post(base, {"prompt": "x" * (2 * 1024 * 1024)}, AUTH)
    assert refused.status_code == 413 and llm.requests == []


def test_a_token_without_an_upstream_guards_reading_and_starts_nothing(serve, redis_log):
    base = serve(app(redis_log, token=TOKEN, token_for_reading=True))
    refused = post(base, {"prompt": "hi"}, AUTH)
    assert refused.status_code == 503 and "--model" in refused.json()["message"]


def test_with_token_for_reading_the_stream_routes_need_the_token(serve, redis_log):
    id = new_id()
    publish("secret answer", redis_log.__class__(redis_log.url), id)
    base = serve(app(redis_log, token=TOKEN, token_for_reading=True))
    routes = {
        "events": ("GET", f"{base}/v1/streams/{id}/events"),
        "status": ("GET", f"{base}/v1/streams/{id}"),
        "text": ("GET", f"{base}/v1/streams/{id}/text"),
        "cancel": ("POST", f"{base}/v1/streams/{id}/cancel"),
    }
    for name, (method, url) in routes.items():
        for headers, query in [
            (None, ""),
            ({"Authorization": "Bearer wrong"}, ""),
            (None, "?token=wrong"),
        ]:
            refused = httpx.request(method, url + query, headers=headers)
            assert refused.status_code == 401, (name, headers, query)
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert "?token=" in refused.json()["message"] and "secret" not in refused.text
        for headers, query in [(AUTH, ""), (None, f"?token={TOKEN}")]:
            allowed = httpx.request(method, url + query, headers=headers)
            assert allowed.status_code == 200, (name, headers, query)
            if name == "text":
                assert allowed.text == "secret answer"
    # An unknown id is no 404 for whoever has no token: it says nothing of what exists.
    assert httpx.get(f"{base}/v1/streams/{new_id()}").status_code == 401
    assert httpx.get(f"{base}/v1/streams/{new_id()}", headers=AUTH).status_code == 404


def test_without_token_for_reading_reading_needs_no_token(serve, redis_log):
    id = new_id()
    publish("open answer", redis_log.__class__(redis_log.url), id)
    base = serve(app(redis_log, token=TOKEN))
    assert httpx.get(f"{base}/v1/streams/{id}/text").text == "open answer"


def test_a_readers_cancel_stops_the_answer_and_closes_the_connection_upstream(
    serve, redis_log, llm
):
    script = Script.steady([f"word{i} " for i in range(2000)], rate=50)
    llm.set_script(script)
    base = serve(app(redis_log, token=TOKEN, upstream=upstream_of(llm)))
    urls = post(base, {"prompt": "go on"}, AUTH).json()["urls"]
    _, first, _ = read_events(urls["events"], stop_after=3)
    assert any(e.event == "text" for e in first)
    cancelled = httpx.post(urls["cancel"])
    assert cancelled.status_code == 200 and cancelled.json()["was_producing"] is True
    _, events, _ = read_events(urls["events"])
    assert events[-1].event == "error"
    assert json.loads(events[-1].data)["type"] == "Cancelled"
    (asked,) = llm.requests
    assert asked.wait(timeout=10) is Ending.CLIENT_CLOSED
    assert asked.n_pieces_sent < len(script.chunks)
    assert httpx.get(urls["status"]).json()["status"] == "cancelled"


@pytest.mark.parametrize("fail", ["http_401", "http_500", "error_event"])
def test_the_upstream_failing_ends_the_stream_with_an_error_in_its_words(
    serve, redis_log, llm, fail
):
    words = "\x1b[31mquota exceeded\x1b[0m for this key"
    llm.set_script(Script(["a", "b"], fail=fail, error_message=words))
    base = serve(app(redis_log, token=TOKEN, upstream=upstream_of(llm)))
    started = post(base, {"prompt": "hi"}, AUTH)
    assert started.status_code == 201  # the stream exists; how it went is in the stream
    _, events, _ = read_events(started.json()["urls"]["events"])
    assert events[-1].event == "error"
    error = json.loads(events[-1].data)
    assert error["type"] == "AskError" and "quota exceeded" in error["error"]
    assert KEY not in events[-1].data
    assert httpx.get(started.json()["urls"]["status"]).json()["status"] == "failed"


def test_an_upstream_nobody_listens_at_ends_the_stream_with_an_error(serve, redis_log):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    upstream = Upstream(base_url=f"http://127.0.0.1:{port}/v1", model="m")
    base = serve(app(redis_log, token=TOKEN, upstream=upstream))
    started = post(base, {"prompt": "hi"}, AUTH)
    _, events, _ = read_events(started.json()["urls"]["events"])
    assert events[-1].event == "error"
    assert "nothing is listening" in json.loads(events[-1].data)["error"]


def test_the_app_refuses_a_token_it_could_not_check():
    from outstream.errors import UsageError
    from outstream.relay import MemoryLog

    for token in ("", "two words", "tökén"):
        with pytest.raises(UsageError, match="token"):
            app(MemoryLog(), token=token)
    with pytest.raises(UsageError, match="token_for_reading"):
        app(MemoryLog(), token_for_reading=True)
