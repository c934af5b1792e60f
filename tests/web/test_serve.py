"""`outstream serve` as a user runs it: a process of its own, on a real Redis."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import httpx

from outstream.relay import RedisLog, new_id, publish

from ..conftest import needs_redis

pytestmark = needs_redis


# Nothing of the model's or the token's from the environment of whoever runs the tests.
_CLEAN = {
    name: ""
    for name in (
        "OUTSTREAM_TOKEN",
        "OUTSTREAM_MODEL",
        "OUTSTREAM_BASE_URL",
        "OPENAI_BASE_URL",
        "OPENAI_API_KEY",
    )
}


def outstream(*argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "outstream", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **_CLEAN, **(env or {})},
    )


def started(server: subprocess.Popen[str]) -> tuple[str, str]:
    """The base URL a `serve` process listens at, and its line saying what is on."""
    said = server.stderr.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", said)
    assert match, said + server.stderr.read()
    return f"http://127.0.0.1:{match.group(1)}", server.stderr.readline()


def test_serve_serves_a_stream_published_by_another_process_and_stops_on_sigterm(redis_server):
    id = new_id()
    publish("published elsewhere", RedisLog(redis_server.url), id)
    # (a model for 'ask' in the environment is not serve's business without a token)
    ask_env = {"OUTSTREAM_MODEL": "m", "OPENAI_BASE_URL": "not a url"}
    server = outstream("serve", "--redis", redis_server.url, "--port", "0", env=ask_env)
    try:
        base, on = started(server)
        assert on == "outstream: starting answers: off (no --token); reading: open\n"
        status = httpx.get(f"{base}/v1/streams/{id}").json()
        assert status["status"] == "done"
        body = httpx.get(f"{base}/v1/streams/{id}/events").text
        datas = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
        assert "".join(d.get("text", "") for d in datas) == "published elsewhere"
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    # uvicorn stops gracefully, then lets the signal end it, as supervisors expect: 143.
    assert server.returncode == -signal.SIGTERM, err
    assert err == ""


def test_serve_without_redis_or_with_one_it_cannot_reach_says_what_to_do():
    bare = outstream("serve", env={"OUTSTREAM_REDIS_URL": ""})
    _, err = bare.communicate(timeout=30)
    assert bare.returncode == 2 and "needs Redis: give --redis URL" in err
    far = outstream("serve", "--redis", "redis://:s3cret@127.0.0.1:1")
    out, err = far.communicate(timeout=30)
    assert far.returncode == 1 and "s3cret" not in out + err
    assert (
        err.startswith("outstream: cannot reach Redis at redis://127.0.0.1:1")
        and err.count("\n") == 1
    )
    bad = outstream("serve", "--redis", "redis://127.0.0.1:1", "--port", "99999")
    _, err = bad.communicate(timeout=30)
    assert bad.returncode == 2 and "a port is a number from 0 to 65535" in err


TOKEN = "serve-t0ken_0123456789"
KEY = "sk-provider-0123456789"


def test_serve_with_a_token_and_a_model_starts_answers_and_interrupts_them_when_it_stops(
    redis_server,
):
    from outstream.relay import follow
    from outstream.testing.llm_server import Ending, LLMServer, Script

    from .test_app import read_events, text_of

    with LLMServer(Script(["Blue, ", "because ", "of Rayleigh."])) as llm:
        server = outstream(
            "serve",
            "--redis",
            redis_server.url,
            "--port",
            "0",
            "--base-url",
            llm.openai_base_url,
            "--model",
            "m",
            env={"OUTSTREAM_TOKEN": TOKEN, "OPENAI_API_KEY": KEY},
        )
        try:
            base, on = started(server)
            assert on == (
                "outstream: starting answers: on, for requests with the token "
                f"(model m at {llm.openai_base_url}); reading: open\n"
            )
            # As curl would: the header, a JSON body.
            auth = {"Authorization": f"Bearer {TOKEN}"}
            answer = httpx.post(
                f"{base}/v1/streams",
                content=b'{"prompt": "why is the sky blue?"}',
                headers={**auth, "Content-Type": "application/json"},
            )
            assert answer.status_code == 201, answer.text
            _, events, _ = read_events(answer.json()["urls"]["events"])
            assert text_of(events) == "Blue, because of Rayleigh."
            assert llm.requests[0].headers["authorization"] == f"Bearer {KEY}"
            # The model failing: the stream says so, the server's log says nothing.
            llm.set_script(Script(["a"], fail="http_401", error_message="key revoked"))
            failed = httpx.post(f"{base}/v1/streams", json={"prompt": "hi"}, headers=auth)
            _, events, _ = read_events(failed.json()["urls"]["events"])
            assert events[-1].event == "error" and "key revoked" in events[-1].data
            # A long answer, read by someone who goes away, and by someone who stays.
            llm.set_script(Script.steady([f"w{i} " for i in range(5000)], rate=50))
            long = httpx.post(f"{base}/v1/streams", json={"prompt": "go on"}, headers=auth).json()
            read_events(long["urls"]["events"], stop_after=3)
            with httpx.stream("GET", long["urls"]["events"], timeout=30) as staying:
                lines = staying.iter_lines()
                assert any(line.startswith("event: text") for line in lines)
                server.send_signal(signal.SIGTERM)
                rest = "\n".join(lines)  # it ends, with the stream's last entry
            assert "event: error" in rest and '"type":"Interrupted"' in rest.replace(" ", "")
        finally:
            server.send_signal(signal.SIGTERM)
            _, err = server.communicate(timeout=30)
        assert server.returncode == -signal.SIGTERM, err
        assert err == ""  # no traceback, no warning: the lines said at the start only
        asked = llm.requests[-1]
        assert asked.wait(timeout=10) is Ending.CLIENT_CLOSED
    last = list(follow(RedisLog(redis_server.url), long["id"]))[-1]
    assert last.record["type"] == "Interrupted"


def test_serve_with_a_token_for_reading_only_guards_reading_and_starts_nothing(redis_server):
    id = new_id()
    publish("guarded", RedisLog(redis_server.url), id)
    server = outstream(
        "serve", "--redis", redis_server.url, "--port", "0", "--token", TOKEN, "--token-for-reading"
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        base, on = started(server)
        assert on == "outstream: starting answers: off (no --model); reading: with the token\n"
        assert httpx.get(f"{base}/v1/streams/{id}/text").status_code == 401
        assert httpx.get(f"{base}/v1/streams/{id}/text", headers=auth).text == "guarded"
        assert httpx.get(f"{base}/v1/streams/{id}/text?token={TOKEN}").text == "guarded"
        refused = httpx.post(f"{base}/v1/streams", json={"prompt": "hi"}, headers=auth)
        assert refused.status_code == 503 and "--model" in refused.json()["message"]
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    assert err == ""


def test_serve_refuses_tokens_and_models_that_cannot_go_together(redis_server):
    redis = ("--redis", redis_server.url, "--port", "0")
    cases = [
        (["--token", TOKEN], {}, "--token turns POST /v1/streams on, which asks a model"),
        ([], {"OUTSTREAM_TOKEN": TOKEN}, "give --model M (or set OUTSTREAM_MODEL)"),
        (["--token-for-reading"], {}, "--token-for-reading needs a token"),
        (["--model", "m"], {}, "--model is for answers started by POST /v1/streams"),
        (["--temperature", "0"], {}, "--temperature is for answers started by POST"),
        (["--token", "two words", "--model", "m"], {}, "--token: the token must be printable"),
        (["--token", TOKEN, "--model", "m", "--base-url", "ftp://x"], {}, "--base-url: must be"),
    ]
    for argv, env, words in cases:
        refused = outstream("serve", *redis, *argv, env=env)
        out, err = refused.communicate(timeout=30)
        assert out == ""
        assert refused.returncode == 2, (argv, err)
        assert words in err and err.count("\n") == 2, err  # the error, and where to look
        assert TOKEN not in err


def test_ctrl_c_ends_the_event_streams_being_read_at_once_and_cleanly(redis_server):
    """A reader of a stream still produced, when serve stops: its response ends as a
    response does (it resumes where it was, elsewhere), and serve says nothing more."""
    from ..conftest import Producer
    from .test_app import paced

    id = new_id()
    producer = Producer(paced(["word "] * 5000), RedisLog(redis_server.url), id)
    server = outstream("serve", "--redis", redis_server.url, "--port", "0")
    stopped = False
    try:
        base, _ = started(server)
        with httpx.stream("GET", f"{base}/v1/streams/{id}/events", timeout=60) as response:
            chunks = response.iter_bytes()
            assert b"event: text" in next(chunks) + next(chunks)  # (retry:, then entries)
            server.send_signal(signal.SIGINT)
            stopped = True
            rest = b"".join(chunks)  # to the response's end: no error, no cut
        assert b"event: end" not in rest
    finally:
        if not stopped:  # (once: a second Ctrl-C forces the exit)
            server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=30)
        from outstream.relay import cancel

        cancel(RedisLog(redis_server.url), id)
        producer.join()
    assert server.returncode == 130
    assert err == ""
