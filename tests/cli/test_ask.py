"""`outstream ask` end to end, against the loopback LLM server over real HTTP."""

from __future__ import annotations

import io
import socket

import pytest

from outstream.cli import main
from outstream.testing.llm_server import LLMServer, Script

from ..clirun import API_KEY

KEY = API_KEY


def ask(capsys, server, *argv):
    try:
        code = main(
            ["ask", "--base-url", server.openai_base_url, "--model", "m", "--instant", *argv]
        )
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert KEY not in out and KEY not in err  # never, in any case
    return code, out, err


def test_ask_streams_the_answer_and_sends_a_proper_request(capsys, env):
    with LLMServer(Script(["The sky ", "is blue ", "because…"], usage=(9, 3))) as server:
        code, out, err = ask(capsys, server, "--stats", "why", "blue?")
        request = server.requests[0]
    assert (code, out) == (0, "The sky is blue because…")
    assert request.body["messages"] == [{"role": "user", "content": "why blue?"}]
    assert request.body["stream"] is True
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert "tokens  prompt 9  completion 3" in err


def test_stdin_joins_the_prompt(capsys, env):
    env.setattr("sys.stdin", io.StringIO("diff --git a b\n"))
    with LLMServer(Script(["ok"])) as server:
        code, out, _ = ask(capsys, server, "--system", "be brief", "review this")
        messages = server.requests[0].body["messages"]
    assert (code, out) == (0, "ok")
    assert messages == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "review this\n\ndiff --git a b\n"},
    ]


def test_reasoning_is_hidden_off_a_terminal_and_shown_when_asked(capsys, env):
    script = Script(["42"], reasoning=["Let me ", "think. "])
    with LLMServer(script) as server:
        assert ask(capsys, server, "q")[:2] == (0, "42")
        assert ask(capsys, server, "--reasoning", "show", "q")[:2] == (0, "Let me think. \n\n42")
        code, out, err = ask(capsys, server, "--reasoning", "stderr", "q")
    assert (code, out, err) == (0, "42", "Let me think. \n")  # its line ends as the answer begins


def test_nothing_listening_names_the_url_and_the_setting(capsys, env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    code = main(["ask", "--base-url", f"http://127.0.0.1:{port}/v1", "--model", "m", "hi"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        f"outstream: nothing is listening at http://127.0.0.1:{port}/v1: start the server, "
        "or point --base-url (or OUTSTREAM_BASE_URL) at one\n"
    )


@pytest.mark.parametrize(
    ("fail", "words"),
    [
        ("http_401", ["refused the API key", "HTTP 401", "OPENAI_API_KEY"]),
        ("http_403", ["refused the API key", "HTTP 403"]),
        ("http_404_model", ["has no model 'm'", "HTTP 404", "--model"]),
        ("http_429", ["HTTP 429"]),
        ("http_500", ["HTTP 500"]),
    ],
)
def test_http_errors_are_one_line_that_says_what_to_do(capsys, env, fail, words):
    with LLMServer(Script(fail=fail)) as server:
        code, out, err = ask(capsys, server, "hi")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and err.startswith("outstream: ")
    for word in words:
        assert word in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("fail", "words"),
    [
        ("disconnect", ["dropped"]),
        ("malformed", ["malformed event stream"]),
        ("error_event", ["sent an error"]),
    ],
)
def test_a_stream_failing_midway_keeps_what_arrived(capsys, env, fail, words):
    script = Script(["first ", "second ", "third"], fail=fail, fail_after=2)
    with LLMServer(script) as server:
        code, out, err = ask(capsys, server, "hi")
    assert code == 1
    assert out.startswith("first second ")
    assert err.count("\n") == 1
    for word in words:
        assert word in err


def test_no_model_is_a_usage_error(capsys, env):
    with pytest.raises(SystemExit) as info:
        main(["ask", "--base-url", "http://127.0.0.1:9/v1", "hi"])
    assert info.value.code == 2
    assert "--model" in capsys.readouterr().err


def test_with_nothing_set_a_local_ollama_is_tried_and_said_so(capsys, env):
    env.delenv("OPENAI_API_KEY")
    env.setenv("OUTSTREAM_MODEL", "llama3.2")
    code = main(["ask", "--connect-timeout", "2", "hi"])
    err = capsys.readouterr().err
    assert code == 1
    assert "trying a local Ollama at http://localhost:11434/v1" in err


def test_a_server_that_goes_quiet_times_out_with_what_arrived_shown(capsys, env):
    script = Script(["before ", "the stall"]).stalled(after=1, seconds=30)
    with LLMServer(script) as server:
        code, out, err = ask(capsys, server, "--timeout", "0.3", "hi")
    assert (code, out) == (1, "before ")
    assert "sent nothing for 0.3 s (raise --timeout)" in err


@pytest.mark.pty
def test_ctrl_c_closes_the_connection_exits_130_and_keeps_the_recording(env, tmp_path):
    import sys

    from outstream.recordings import read_deltas
    from outstream.testing import Ending, run_in_pty

    from ..clirun import child_env

    deltas = tmp_path / "a.jsonl"
    script = Script.steady([f"word{i} " for i in range(200)], rate=20)
    with LLMServer(script) as server:
        result = run_in_pty(
            [sys.executable, "-m", "outstream", "ask", "--base-url", server.openai_base_url,
             "--model", "m", "hi", "--save-deltas", str(deltas)],
            env=child_env(),
            interrupt_after=b"word3",
        )  # fmt: skip
        assert result.returncode == 130, result.output
        assert server.requests[0].wait(timeout=10) is Ending.CLIENT_CLOSED  # the server saw it go
    assert b"Traceback" not in result.output
    assert KEY.encode() not in result.output
    # What arrived before Ctrl-C was saved, and plays back: the words in order, no end line.
    script_, _ = read_deltas(deltas)
    text = "".join(item for _, item in script_ if isinstance(item, str))
    assert text.startswith("word0 word1 word2 word3") and "word199" not in text
    assert '"end": true' not in deltas.read_text()


def test_a_reader_that_has_enough_is_not_a_dropped_connection(env):
    """`outstream ask ... | head -1`: the reader goes away, outstream stops reading and
    closes the connection, exit 0 and nothing on stderr (it said the connection dropped)."""
    import subprocess
    import sys

    from outstream.testing import Ending

    from ..clirun import child_env

    script = Script.steady([f"line {i}\n" for i in range(400)], rate=50)  # 8 s of answer
    with (
        LLMServer(script) as server,
        subprocess.Popen(
            [sys.executable, "-m", "outstream", "ask", "--base-url", server.openai_base_url,
             "--model", "m", "hi"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(),
        ) as child,
    ):  # fmt: skip
        assert child.stdout is not None and child.stderr is not None
        assert child.stdout.readline() == b"line 0\n"
        child.stdout.close()  # what `head -1` does once it has its line
        err = child.stderr.read()
        assert child.wait(timeout=30) == 0, err
        assert server.requests[0].wait(timeout=10) is Ending.CLIENT_CLOSED
    assert err == b""


@pytest.mark.parametrize("path", ["", "/", "/v1/chat"])
def test_a_base_url_off_the_v1_path_says_which_url_to_try(capsys, env, path):
    with LLMServer(Script(["hi"])) as server:
        code = main(["ask", "--base-url", server.base_url + path, "--model", "m", "hi"])
        err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "has no model" not in err  # the model was never the problem
    assert f"no chat endpoint at {path.rstrip('/')}/chat/completions" in err
    assert err.endswith(f"try --base-url {server.base_url}/v1\n")


@pytest.mark.parametrize("url", ["notaurl", "ftp://example.com/v1", "http://"])
def test_a_base_url_that_is_no_web_address_is_a_usage_error(capsys, env, url):
    from ..clirun import invoke
    from .test_cli import assert_usage_error

    ran = invoke(capsys, "ask", "--base-url", url, "--model", "m", "hi")
    assert_usage_error(ran, "--base-url", "http://", prog="outstream ask")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (
            "http://127.0.0.1:8080/v1?api-version=2024-02-01",
            ["query or fragment", "http://127.0.0.1:8080/v1"],
        ),
        ("http://127.0.0.1:8080/v1#x", ["query or fragment"]),
        ("http://127.0.0.1:abc/v1", ["'http://127.0.0.1:abc/v1'"]),
        ("http://127.0.0.1:99999/v1", ["99999"]),
        ("http://user:sekrit@127.0.0.1:abc/v1", ["'http://127.0.0.1:abc/v1'"]),
    ],
)
def test_a_base_url_that_would_go_elsewhere_is_a_usage_error(capsys, env, url, words):
    from ..clirun import invoke
    from .test_cli import assert_usage_error

    ran = invoke(capsys, "ask", "--base-url", url, "--model", "m", "hi")
    assert_usage_error(ran, "--base-url", *words, prog="outstream ask")
    assert "sekrit" not in ran.err


def test_an_empty_reasoning_file_is_a_usage_error(capsys, env):
    from ..clirun import invoke
    from .test_cli import assert_usage_error

    ran = invoke(capsys, "ask", "--model", "m", "--reasoning", "", "hi")
    assert_usage_error(ran, "--reasoning", "FILE", prog="outstream ask")
