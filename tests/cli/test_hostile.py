"""`outstream ask` against a hostile or misconfigured server: nothing it sends reaches
the terminal raw, no secret is printed, and every way of not answering is a clear exit 1."""

from __future__ import annotations

import json
import socket

import pytest

from outstream.cli import main
from outstream.testing.llm_server import Ending, LLMServer, Script

from ..clirun import API_KEY

PAYLOAD = "\x1b]0;PWNED\x07\x1b]52;c;aGk=\x07\x1b[2J\x9b31m\u202eevil\u202c\r\n\nsecond line"
CONTROLS = set("\x1b\x07\x9b\x9c\x9d\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\r")


def ask(capsys, url, *argv):
    try:
        code = main(["ask", "--base-url", url, "--model", "m", "--instant", *argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert API_KEY not in out and API_KEY not in err
    return code, out, err


def safe(text: str) -> bool:
    return not CONTROLS & set(text)


def test_reasoning_on_stderr_carries_no_control(capsys, env):
    script = Script(["42"], reasoning=["Let me", PAYLOAD[:9], PAYLOAD[9:], " think."])
    with LLMServer(script) as server:
        code, out, err = ask(capsys, server.openai_base_url, "--reasoning", "stderr", "q")
    assert (code, out) == (0, "42")
    assert safe(err) and err.startswith("Let me") and err.endswith(" think.\n")


@pytest.mark.parametrize(
    "fail", ["http_401", "http_404_model", "http_429", "http_500", "http_502_text", "error_event"]
)
def test_a_servers_error_text_is_one_safe_line_without_the_key(capsys, env, fail):
    message = f"{PAYLOAD} you sent {API_KEY}!\n\n" + "more " * 400
    with LLMServer(Script(["a"], fail=fail, error_message=message)) as server:
        code, _, err = ask(capsys, server.openai_base_url, "hi")
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("outstream: ")
    assert safe(err)
    assert "evil" in err and "[the API key]" in err  # shown, made safe
    assert len(err) < 600  # a server's text is cut short


def test_credentials_and_queries_in_the_url_are_never_printed(capsys, env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens there (exit 1); with a query, the URL is refused first (exit 2).
    for url, expected in (
        (f"http://alice:hunter2@127.0.0.1:{port}/v1", 1),
        (f"http://alice:hunter2@127.0.0.1:{port}/v1?key=s3cr3t#frag", 2),
    ):
        code, _, err = ask(capsys, url, "hi")
        assert code == expected, err
        assert f"http://127.0.0.1:{port}/v1" in err
        assert "hunter2" not in err and "s3cr3t" not in err and "alice" not in err


@pytest.mark.parametrize(
    ("fail", "words"),
    [
        ("html", ["a web page (text/html)", "--base-url"]),
        ("redirect", ["HTTP 302", "redirect to https://login.invalid/sso"]),
        ("keepalive", ["without sending any event", "keep-alive"]),
    ],
)
def test_no_answer_at_all_is_exit_1_saying_what_came_back(capsys, env, fail, words):
    with LLMServer(Script(["a"], fail=fail)) as server:
        code, out, err = ask(capsys, server.openai_base_url, "hi")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    for word in words:
        assert word in err
    assert "hunter2" not in err and "s3cr3t" not in err


def test_a_line_that_never_ends_stops_at_the_bound(capsys, env):
    with LLMServer(Script(["a"], fail="long_line")) as server:
        code, out, err = ask(capsys, server.openai_base_url, "hi")
        assert (code, out) == (1, "")
        assert "malformed event stream" in err and "16,777,216" in err
        code, out, err = ask(capsys, server.openai_base_url, "--max-event", "1", "hi")
    assert code == 1 and "1,048,576" in err and "--max-event" in err


def test_a_compressed_body_that_grows_without_end_is_refused(capsys, env):
    with LLMServer(Script(["a"], fail="gzip_bomb")) as server:
        code, out, err = ask(capsys, server.openai_base_url, "hi")
    assert (code, out) == (1, "")
    assert "compressed body that grows past 64 MiB" in err


def test_max_time_ends_an_answer_that_drips(capsys, env):
    script = Script.steady(["word "] * 100, rate=20)  # 5 s of answer
    with LLMServer(script) as server:
        code, out, err = ask(capsys, server.openai_base_url, "--max-time", "0.5", "hi")
        request = server.requests[0]
        request.wait()  # the server saw the client go: the answer was cut, not waited out
    assert code == 1
    assert "still answering after 0.5 s" in err and "--max-time" in err
    assert out.startswith("word ") and out.count("word") < 100  # what came is shown
    assert request.ending is Ending.CLIENT_CLOSED


def test_reasoning_written_to_a_file_goes_through_the_policy(capsys, env, tmp_path):
    thoughts = tmp_path / "thoughts.txt"
    script = Script(["42"], reasoning=["Let me", PAYLOAD[:9], PAYLOAD[9:], " think."])
    with LLMServer(script) as server:
        code, out, err = ask(capsys, server.openai_base_url, "--reasoning", str(thoughts), "q")
        assert (code, out, err) == (0, "42", "")
        text = thoughts.read_text(encoding="utf-8")
        assert safe(text.replace("\n", "")) and text.startswith("Let me") and "think." in text
        code, _, err = ask(capsys, server.openai_base_url, "--reasoning", str(tmp_path), "q")
    assert code == 1 and "cannot write the reasoning to" in err


def test_a_recorded_error_is_one_safe_line_when_replayed(capsys, env, tmp_path):
    deltas = tmp_path / "a.jsonl"
    deltas.write_text(
        '{"format": "outstream-deltas", "version": 1}\n'
        + json.dumps({"t": 0.1, "text": "kept "})
        + "\n"
        + json.dumps({"t": 0.2, "error": PAYLOAD, "type": "SourceError"})
        + "\n",
        encoding="utf-8",
    )
    try:
        code = main(["replay", str(deltas), "--instant"])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert (code, out) == (1, "kept ")
    assert err.count("\n") == 1 and safe(err) and "evil" in err
