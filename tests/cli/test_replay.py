"""Recording and replay through the command line: ask → record → replay, asciinema, the demo."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

import outstream
from outstream.cli.replay import demo_recording
from outstream.recordings import read_deltas
from outstream.testing import LLMScript, LLMServer, MemorySink, VirtualClock

from ..clirun import API_KEY, child_env, invoke

KEY = API_KEY


def run(capsys, *argv: str) -> tuple[int | str | None, str, str]:
    ran = invoke(capsys, *argv)
    return ran.code, ran.out, ran.err


def test_an_answer_recorded_from_a_server_replays_the_same(capsys, env, tmp_path):
    deltas, cast = tmp_path / "answer.jsonl", tmp_path / "answer.cast"
    script = LLMScript(["The sky ", "is blue ", "because…"], ttft=0.05, interval=0.02, usage=(9, 3))
    with LLMServer(script) as server:
        base = server.openai_base_url.replace("http://", f"http://user:{KEY}@")
        code, out, _ = run(
            capsys, "ask", "--base-url", base, "--model", "m1", "--instant", "why?",
            "--save-deltas", str(deltas), "--record", str(cast),
        )  # fmt: skip
    assert (code, out) == (0, "The sky is blue because…")
    text = deltas.read_text(encoding="utf-8")
    assert KEY not in text and "authorization" not in text.lower()
    assert KEY not in cast.read_text(encoding="utf-8")
    header = json.loads(text.splitlines()[0])
    assert header["model"] == "m1" and header["source"].startswith(
        "outstream ask, http://127.0.0.1"
    )
    script_, end = read_deltas(deltas)
    texts = [item for _, item in script_ if isinstance(item, str)]
    assert texts == ["The sky ", "is blue ", "because…"]  # each delta as the server sent it
    # Times taken on the real clock: their order only (the exact times of a
    # recording are asserted on the virtual clock, in tests/sources/test_replay.py).
    times = [t for t, _ in script_]
    assert times == sorted(times) and end >= times[-1]
    # on the virtual clock, a replay gives the same events at the same times
    again = tmp_path / "again.jsonl"
    clock = VirtualClock()
    outstream.stream(
        outstream.replay(deltas, clock=clock), MemorySink(clock), clock=clock, save_deltas=again
    )
    assert again.read_text().splitlines()[1:] == text.splitlines()[1:]
    # and back, through other options
    assert run(capsys, "replay", str(deltas), "--instant")[:2] == (0, "The sky is blue because…")
    code, out, err = run(capsys, "replay", str(deltas), "--speed", "50", "--cps", "2000", "--stats")
    assert (code, out) == (0, "The sky is blue because…")
    assert "tokens  prompt 9  completion 3" in err


def test_asciinema_cat_of_our_cast_reproduces_the_output(capsys, env, tmp_path):
    cast = tmp_path / "a.cast"
    source = tmp_path / "a.md"
    source.write_text("# Title\n\nSome *text* and 日本語 👋.\n\n- one\n- two\n")
    code, out, _ = run(capsys, "-m", "--color", "always", "-f", str(source), "--record", str(cast))
    assert code == 0
    played = subprocess.run(  # asciinema is in the test extra: run from this interpreter
        [sys.executable, "-m", "asciinema", "cat", str(cast)], capture_output=True, timeout=30
    )
    assert played.returncode == 0, played.stderr
    assert played.stdout.decode() == out.replace("\n", "\r\n")
    # and outstream plays it too, as it was shown
    assert run(capsys, "replay", str(cast), "--instant")[:2] == (0, out.replace("\n", "\r\n"))


def test_a_cast_refuses_the_options_that_apply_to_deltas(capsys, env, tmp_path):
    cast = tmp_path / "a.cast"
    run(capsys, "some text", "--record", str(cast))
    code, _, err = run(capsys, "replay", str(cast), "-m", "--cps", "9")
    assert code == 2
    assert "--cps, --markdown: a .cast plays what was shown" in err


def test_a_malformed_recording_is_one_line_naming_the_line(capsys, env, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "outstream-deltas", "version": 1}\n{"t": 0, "text": "a"}\n{oops\n')
    code, out, err = run(capsys, "replay", str(bad))
    assert (code, out) == (1, "")
    assert (
        err
        == f"outstream: {bad}: line 3: not JSON (Expecting property name enclosed in double quotes)\n"
    )
    assert run(capsys, "replay", str(tmp_path / "missing.jsonl"))[2].endswith(
        "missing.jsonl: No such file or directory\n"
    )


def test_a_recording_that_cannot_be_written_is_one_line_and_exit_1(capsys, env, tmp_path):
    code, out, err = run(capsys, "text", "--save-deltas", str(tmp_path / "no" / "x.jsonl"))
    assert (code, out) == (1, "")
    assert (
        err
        == f"outstream: cannot write to {tmp_path / 'no' / 'x.jsonl'}: No such file or directory\n"
    )


def test_a_recorded_failure_replays_as_the_same_failure(capsys, env, tmp_path):
    deltas = tmp_path / "failed.jsonl"
    with LLMServer(
        LLMScript(["first ", "second ", "third"], fail="disconnect", fail_after=2)
    ) as server:
        code, out, _ = run(
            capsys, "ask", "--base-url", server.openai_base_url, "--model", "m", "--instant", "hi",
            "--save-deltas", str(deltas),
        )  # fmt: skip
    assert (code, out) == (1, "first second ")
    code, out, err = run(capsys, "replay", str(deltas), "--instant")
    assert (code, out) == (1, "first second ")
    assert err.startswith("outstream: the recorded source failed: ") and err.count("\n") == 1


def test_the_demo_plays_offline_in_a_pipe_and_ends_with_the_numbers():
    answer = "".join(item for _, item in read_deltas(demo_recording())[0] if isinstance(item, str))
    out = subprocess.run(
        [sys.executable, "-m", "outstream", "demo", "--speed", "40"],
        capture_output=True,
        env=child_env(),
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode() == answer  # off a terminal: the Markdown source
    assert "first text" in out.stderr.decode() and "tokens  prompt 42" in out.stderr.decode()
    compare = subprocess.run(
        [sys.executable, "-m", "outstream", "demo", "--speed", "40", "--compare", "--no-stats"],
        capture_output=True,
        env=child_env(),
        timeout=60,
    )
    assert compare.returncode == 0 and compare.stderr == b""
    shown = compare.stdout.decode()
    assert shown.count(answer) == 2 and shown.index("naive loop") < shown.index("outstream: smooth")


def test_the_demo_answer_has_what_it_promises_and_its_documented_length():
    import pathlib

    header = json.loads(pathlib.Path(demo_recording()).read_text().splitlines()[0])
    assert "modelled" in header and "timing is modelled" in header["note"]
    script, end = read_deltas(demo_recording())
    answer = "".join(item for _, item in script if isinstance(item, str))
    for construct in ("\n# ", "\n1. ", "\n- ", "|---", "```python", "日本語", "👋"):
        assert construct in "\n" + answer, construct
    assert 1500 < len(answer.encode()) < 8000
    assert script[0][0] == pytest.approx(0.9)  # the modelled time to first token
    assert 8.0 <= end <= 9.5  # "about 9 seconds" (README, --help)
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(script)]
    assert max(gaps) > 1.5  # the stall


def test_a_recording_into_a_pipe_or_dev_null_is_not_an_error(capsys, env, tmp_path):
    assert run(capsys, "hi", "--save-deltas", "/dev/null", "--record", "/dev/null") == (
        0,
        "hi\n",
        "",
    )


HOSTILE_CAST = [
    {"version": 2, "width": 80, "height": 24},
    [0.1, "o", "hi\x1b]0;PWNED\x07\x1b]52;c;aGk=\x07\x1b[31mred\x1b[0m\r\n"],
    [
        0.2,
        "o",
        "\x1b[2K\x1b[1Aup\x1b[6n\x1b[?1049h\x1bP1$r0m\x1b\\\u202eevil\x1b[8mhidden\x1b[?25l",
    ],
    [0.3, "o", "\x1b]8;;http://x/\x07link\x1b]8;;\x07 \x1b[?25h"],
]


def test_a_crafted_cast_replays_what_draws_a_screen_and_nothing_that_talks_to_it(
    capsys, env, tmp_path
):
    cast = tmp_path / "evil.cast"
    cast.write_text("".join(json.dumps(line) + "\n" for line in HOSTILE_CAST), encoding="utf-8")
    code, out, err = run(capsys, "replay", str(cast), "--instant")
    assert (code, err) == (0, "")
    assert out == ("hi\x1b[31mred\x1b[0m\r\n\x1b[2K\x1b[1Aupevilhidden\x1b[?25llink \x1b[?25h")
    assert run(capsys, "replay", str(cast), "--instant", "--escapes", "strip")[1] == (
        "hired\nupevilhiddenlink "
    )
    raw = run(capsys, "replay", str(cast), "--instant", "--escapes", "raw")[1]
    assert "\x1b]0;PWNED\x07" in raw  # raw trusts the file


def test_the_bundled_demo_is_what_its_script_makes_and_its_tip_names_real_commands(tmp_path):
    import pathlib

    made = tmp_path / "demo.jsonl"
    script = pathlib.Path(__file__).parents[2] / "scripts" / "make_demo.py"
    subprocess.run([sys.executable, script, made], check=True, capture_output=True)
    assert made.read_bytes() == pathlib.Path(demo_recording()).read_bytes()
    answer = "".join(item for _, item in read_deltas(demo_recording())[0] if isinstance(item, str))
    tip = answer[answer.index("> Tip:") :]
    # The file the tip replays is one the tip says how to make.
    assert "--save-deltas answer.jsonl" in tip and "outstream replay answer.jsonl" in tip
    assert tip.index("--save-deltas answer.jsonl") < tip.index("replay answer.jsonl")
