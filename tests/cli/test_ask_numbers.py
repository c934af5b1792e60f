"""`outstream ask`: the time to first text from the request's start, and ``--plain``."""

from __future__ import annotations

import re
import sys

import pytest

from outstream.testing.llm_server import LLMServer, Script

from ..clirun import API_KEY, child_env, invoke

WAIT = 0.4  # the server holds its headers this long, as one before a model that thinks
ANSWER = ["# Title\n\n", "Some **bold** ", "text.\n"]


def ask(capsys, server, *argv):
    return invoke(
        capsys, "ask", "--base-url", server.openai_base_url, "--model", "m", "--instant", *argv
    )


def test_stats_count_the_first_text_from_the_request(capsys, env):
    with LLMServer(Script(["Hel", "lo"], headers_after=WAIT, ttft=WAIT)) as server:
        ran = ask(capsys, server, "--stats", "hi")
    assert (ran.code, ran.out) == (0, "Hello")
    first = re.search(r"first text (\S+) s from the request", ran.err)
    assert first is not None, ran.err
    assert float(first.group(1)) >= WAIT


def test_plain_and_markdown_go_not_together(capsys, env):
    with LLMServer(Script(["x"])) as server:
        ran = ask(capsys, server, "-m", "--plain", "hi")
    assert ran.code == 2
    assert "argument --plain/--no-markdown: not allowed with argument -m/--markdown" in ran.err
    assert "Traceback" not in ran.err


@pytest.mark.parametrize("flag", ["--plain", "--no-markdown"])
def test_plain_off_a_terminal_is_the_text_as_it_came(capsys, env, flag):
    with LLMServer(Script(ANSWER)) as server:
        ran = ask(capsys, server, flag, "hi")
    assert (ran.code, ran.out) == (0, "".join(ANSWER))
    ran = invoke(capsys, flag, "**as it is**")  # the other commands take it too
    assert (ran.code, ran.out) == (0, "**as it is**\n")


@pytest.mark.pty
def test_on_a_terminal_ask_renders_markdown_unless_plain(env):
    from outstream.testing import run_in_pty

    with LLMServer(Script(ANSWER)) as server:
        argv = [sys.executable, "-m", "outstream", "ask", "--base-url", server.openai_base_url,
                "--model", "m", "--instant", "hi"]  # fmt: skip
        rendered = run_in_pty(argv, env=child_env())
        plain = run_in_pty([*argv, "--plain"], env=child_env())
    for result in (rendered, plain):
        assert result.returncode == 0, result.output
        assert API_KEY.encode() not in result.output
    assert b"**bold**" not in rendered.output and b"bold" in rendered.output
    assert b"# Title" not in rendered.output
    # The text as it came: no Markdown drawn, no colour (a pty turns \n into \r\n).
    assert plain.output.replace(b"\r\n", b"\n") == "".join(ANSWER).encode()
