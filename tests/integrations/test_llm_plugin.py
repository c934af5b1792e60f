"""``llm md``: the plugin, run as users run it — `llm` itself, in a process of its own,
finding the plugin through its entry point — with llm's offline `llm-echo` model, and
llm's database in a directory of the test's own (``LLM_USER_PATH``)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib

import llm
import pyte
import pytest

from outstream.testing import run_in_pty

pytestmark = pytest.mark.timeout(180)  # each `llm` start imports it, and openai: 1 to 3 s

LLM = [sys.executable, "-m", "llm"]

# llm-echo's canned reasoning (`-o thinking 1`) came in 0.5, which needs Python 3.11.
needs_echo_thinking = pytest.mark.skipif(
    "thinking" not in llm.get_model("echo").Options.model_fields,
    reason="llm-echo < 0.5 (as on Python 3.10) has no thinking option",
)

HOSTILE = "Hi\x1b]0;PWNED\x07 there\x1b[2J\x1b]52;c;aGk=\x07\x9b31m!"


def raw(text: str) -> str:
    """A prompt to which llm-echo answers `text`, as it is."""
    return json.dumps({"raw": text})


@pytest.fixture
def home(tmp_path):
    """llm's user directory (keys, logs.db, templates) for one test."""
    return tmp_path


def env_of(home) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "LLM_MODEL")}
    env.pop("LLM_LOAD_PLUGINS", None)  # llm loads every installed plugin, as for users
    return {**env, "LLM_USER_PATH": str(home)}


def run_llm(home, *argv: str) -> subprocess.CompletedProcess[str]:
    """`llm ARGV` with stdout and stderr on pipes."""
    [ran] = run_side_by_side(home, argv)
    return ran


def run_side_by_side(home, *argvs: tuple[str, ...]) -> list[subprocess.CompletedProcess[str]]:
    """`llm` run with each of `argvs` at once (each start imports llm, a second or two);
    each but the first in a user directory of its own under `home` (llm's first run
    creates its database: two at once in one directory clash)."""
    homes = [home, *(home / f"beside-{i}" for i in range(1, len(argvs)))]
    children = [
        subprocess.Popen(
            [*LLM, *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env_of(where),
        )
        for argv, where in zip(argvs, homes, strict=True)
    ]
    done = []
    for argv, child in zip(argvs, children, strict=True):
        out, err = child.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(argv, child.returncode, out, err))
    return done


def logged(home) -> list[dict[str, object]]:
    """The responses in llm's logs.db, oldest first, as `llm logs --json` reads them."""
    ran = run_llm(home, "logs", "list", "-n", "0", "--json")
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


@pytest.fixture(scope="module", autouse=True)
def _the_plugin_is_registered(tmp_path_factory):
    ran = run_llm(tmp_path_factory.mktemp("llm"), "plugins")
    plugins = {p["name"]: p["hooks"] for p in json.loads(ran.stdout or "[]")}
    if "register_commands" not in plugins.get("outstream", []):
        pytest.fail(
            "llm does not load outstream's plugin: its entry point ([project.entry-points.llm] "
            "in pyproject.toml) is installed with the package: pip install -e '.[test]'. "
            f"llm plugins said: {ran.stdout or ran.stderr}",
            pytrace=False,
        )


def test_into_a_pipe_the_answer_is_llm_prompts_less_the_escapes(home):
    answer = "# Title\n\nSome **bold** text."
    md, prompt, hostile = run_side_by_side(
        home,
        ("md", "-m", "echo", raw(answer)),
        ("prompt", "-m", "echo", raw(answer)),
        ("md", "-m", "echo", raw(HOSTILE)),
    )
    assert (md.returncode, md.stderr) == (0, "")
    assert md.stdout == prompt.stdout == answer + "\n"  # Markdown is rendered on terminals only
    assert hostile.stdout == "Hi there!\n"


@pytest.mark.pty
def test_on_a_terminal_the_markdown_is_rendered_and_nothing_escapes(home):
    answer = (
        "# Pelicans\n\nA **pelican**\x1b]0;PWNED\x07 is a bird.\x1b[2J\n\n"
        "- wide wings\n- a pouch\n\n```python\nprint('fish')\n```\n\nDone."
    )
    argv = [*LLM, "md", "-m", "echo", raw(answer)]
    result = run_in_pty(argv, rows=30, cols=60, env=env_of(home), timeout=60)
    assert result.returncode == 0
    screen = pyte.Screen(60, 30)
    pyte.ByteStream(screen).feed(result.output)
    lines = [line.rstrip() for line in screen.display]
    shown = "\n".join(lines)
    assert lines[0].strip() == "Pelicans"  # a heading, not "# Pelicans"
    assert "A pelican is a bird." in lines  # bold rendered: no asterisks
    assert " • wide wings" in lines and " • a pouch" in lines
    assert "print('fish')" in shown and "```" not in shown
    assert lines[lines.index("Done.") + 1 :] == [""] * (len(lines) - lines.index("Done.") - 1)
    assert screen.title == "" and b"\x1b]" not in result.output and b"\x1b[2J" not in result.output
    assert logged(home)[-1]["response"] == answer  # llm logs what the model said


def test_an_answer_that_was_not_streamed_is_shown_through_outstream_too(home):
    """A model that cannot stream (llm-echo, made so here), and --no-stream: llm prints
    the whole answer."""
    assert run_llm(home, "md", "-m", "echo", "--no-stream", raw(HOSTILE)).stdout == "Hi there!\n"
    script = (
        "import sys, llm_echo; llm_echo.Echo.can_stream = False; "
        "from llm.cli import cli; sys.argv[0] = 'llm'; cli()"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script, "md", "-m", "echo", raw(HOSTILE)],
        capture_output=True,
        text=True,
        env=env_of(home),
        timeout=60,
    )
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "Hi there!\n", "")


@pytest.mark.pty
def test_md_chat_renders_each_answer_and_logs_it(home):
    answers = ["# Hi\n\nA **bold**\x1b]0;PWNED\x07 move.", "Then `code`\x1b[2J."]
    typed = "".join(raw(a) + "\n" for a in answers) + "quit\n"
    argv = [*LLM, "md-chat", "-m", "echo"]
    result = run_in_pty(argv, rows=30, cols=60, stdin=typed.encode(), env=env_of(home), timeout=60)
    assert result.returncode == 0
    screen = pyte.Screen(60, 30)
    pyte.ByteStream(screen).feed(result.output)
    lines = [line.rstrip() for line in screen.display]
    assert lines[0] == "Chatting with echo"
    start = next(i for i, line in enumerate(lines) if line.endswith("Hi"))
    assert lines[start].strip() in ("Hi", "> Hi")
    assert "A bold move." in lines[start:] and "> Then code." in lines[start:]
    assert screen.title == "" and b"\x1b[2J" not in result.output
    assert [row["response"] for row in logged(home)] == answers


def test_a_reader_going_away_ends_it_quietly(home):
    """`llm md ... | head -1`: exit 0, no error, the stats still said; and, as with `llm
    prompt`, nothing logged (logging a response left unread would run the prompt again)."""
    answer = "\n".join(f"line {i}" for i in range(30_000))  # more than a pipe holds
    child = subprocess.Popen(
        [*LLM, "md", "-m", "echo", "--stats"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_of(home),
    )
    child.stdin.write(raw(answer))
    child.stdin.close()
    assert child.stdout.readline() == "line 0\n"
    child.stdout.close()
    assert child.wait(timeout=60) == 0
    with child.stderr:
        assert child.stderr.read().startswith("outstream: ")
    assert logged(home) == []


def test_the_response_is_logged_as_llm_prompt_logs_it(home):
    ran = run_llm(home, "md", "-m", "echo", "-s", "be brief", "-o", "example_bool", "1", "hello")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["options"] == {"example_bool": True}
    [row] = logged(home)
    assert (row["model"], row["prompt"], row["system"]) == ("echo", "hello", "be brief")
    assert row["response"] == ran.stdout.removesuffix("\n")
    assert row["options_json"] == {"example_bool": True}
    # llm-echo counts words (the system prompt's too, from 0.5 on).
    assert row["input_tokens"] in (1, 3) and row["output_tokens"] == len(ran.stdout.split())
    assert run_llm(home, "logs", "off").returncode == 0
    assert run_llm(home, "md", "-m", "echo", "off the record").returncode == 0
    assert len(logged(home)) == 1


def test_a_conversation_goes_on_with_c_and_cid(home):
    run_llm(home, "md", "-m", "echo", "first")
    second = run_llm(home, "md", "-c", "second")  # the model comes from the conversation
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["prompt"] == "second"
    first_id = logged(home)[0]["conversation_id"]
    run_llm(home, "md", "-m", "echo", "elsewhere")
    third = run_llm(home, "md", "--cid", first_id, "third")
    assert third.returncode == 0, third.stderr
    rows = logged(home)
    assert [r["prompt"] for r in rows if r["conversation_id"] == first_id] == [
        "first",
        "second",
        "third",
    ]


def test_a_template_and_an_attachment(home):
    (home / "templates").mkdir()
    (home / "templates" / "terse.yaml").write_text("model: echo\nsystem: Be terse.\n")
    image = home / "dot.png"
    image.write_bytes(_png())
    ran = run_llm(home, "md", "-t", "terse", "-a", str(image), "describe")
    assert ran.returncode == 0, ran.stderr
    echoed = json.loads(ran.stdout)
    assert (echoed["prompt"], echoed["system"]) == ("describe", "Be terse.")
    assert [(a["type"], a["path"]) for a in echoed["attachments"]] == [("image/png", str(image))]


def test_stats_recordings_and_the_async_path(home):
    cast, deltas = home / "answer.cast", home / "answer.jsonl"
    argv = ["--stats", "--async", "--record", str(cast), "--save-deltas", str(deltas)]
    ran = run_llm(home, "md", "-m", "echo", raw("one two\x1b[2J three"), *argv)
    assert ran.stdout == "one two three\n"
    assert ran.stderr.startswith("outstream: 13 chars")
    [row] = logged(home)
    tokens = f"tokens  prompt {row['input_tokens']}  completion {row['output_tokens']}"
    assert tokens in ran.stderr and row["output_tokens"] == 3
    # The deltas as the model sent them (a record: escapes and all), its usage, its end.
    lines = [json.loads(line) for line in deltas.read_text().splitlines()]
    said = [{k: v for k, v in line.items() if k != "t"} for line in lines[1:]]
    assert said == [
        {"text": "one two\x1b[2J three"},
        # each Response's own counts (a tool chain's rounds add up)
        {"usage": {"prompt_tokens": row["input_tokens"], "completion_tokens": 3, "adds": True}},
        {"finish": "end"},
        {"end": True},
    ]
    # What was shown: the text, made safe.
    [_, *events] = cast.read_text().splitlines()
    assert "".join(json.loads(e)[2] for e in events) == "one two three"


@needs_echo_thinking
def test_reasoning_goes_to_stderr_unless_hidden(home):
    shown, hidden = run_side_by_side(
        home,
        ("md", "-m", "echo", "-o", "thinking", "1", raw("42")),
        ("md", "-m", "echo", "-o", "thinking", "1", "-R", raw("42")),
    )
    assert (shown.stdout, shown.stderr) == (
        "42\n",
        "First I consider the prompt, then I decide what to say.\n",
    )
    assert (hidden.stdout, hidden.stderr) == ("42\n", "")
    assert logged(home)[0]["reasoning"].startswith("First I consider")


def test_bad_input_is_one_line_and_its_exit_code(home):
    *usage, ran = run_side_by_side(
        home,
        ("md", "-m", "echo", "--cps", "0", "hi"),
        ("md", "-m", "echo", "--cps", "10", "--instant", "hi"),
        ("md", "-m", "echo", "--json", "hi"),
        # An error quoting outside text (here the model's name) reaches the terminal safe.
        ("md", "-m", "gpt\x1b]0;PWNED\x07-9", "hi"),
    )
    for bad in usage:
        assert bad.returncode == 2 and bad.stdout == "", bad.args
        assert bad.stderr.splitlines()[-1].startswith("Error:"), bad.stderr
    assert ran.returncode == 1 and "\x1b" not in ran.stderr and "\x07" not in ran.stderr
    assert ran.stderr.count("\n") == 1 and "Unknown model" in ran.stderr


def _png() -> bytes:
    """A one-pixel PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )
