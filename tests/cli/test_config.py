"""The config file and OUTSTREAM_<OPTION>: flags > environment > file > defaults, for every
command, checked as flags are; and `outstream config`, which shows where each came from."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from outstream.cli._config import ConfigError, configured
from outstream.cli._shared import command_parser

from ..clirun import invoke
from ..conftest import outstream


@pytest.fixture
def config(tmp_path, monkeypatch):
    """Write ~/.config/outstream/config.toml (under XDG_CONFIG_HOME); returns its path."""
    monkeypatch.delenv("OUTSTREAM_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    path = tmp_path / "outstream" / "config.toml"
    path.parent.mkdir()

    def write(text: str) -> str:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(path)

    return write


def shown(capsys, *argv: str) -> dict[str, tuple[str, str]]:
    """`outstream config ARGV` as {key: (value, from)} (a key not set: value "")."""
    ran = invoke(capsys, "config", *argv)
    assert ran.code == 0, ran.err
    settings = {}
    for line in ran.out.splitlines():
        if match := re.fullmatch(r"(\S+) = (.*?)\s+# (.*)", line):
            settings[match[1]] = (match[2], match[3])
        elif match := re.fullmatch(r"# (\S+)\s+# (.*): not set", line):
            settings[match[1]] = ("", match[2])
    return settings


# --- precedence ---


def test_flags_beat_the_environment_which_beats_the_file_which_beats_the_defaults(
    config, monkeypatch, capsys
):
    path = config(
        """\
        # mine
        escapes = "escape"
        unit = "word"
        fps = 30
        """
    )
    monkeypatch.setenv("OUTSTREAM_UNIT", "line")
    monkeypatch.setenv("OUTSTREAM_FPS", "20")
    got = shown(capsys, "--", "--fps", "10")
    assert got["fps"] == ("10.0", "flag")
    assert got["unit"] == ('"line"', "env OUTSTREAM_UNIT")
    assert got["escapes"] == ('"escape"', f"file {path}:2")
    assert got["flush"] == ('"auto"', "default")
    assert got["cps"] == ("", "default")


def test_what_the_file_and_the_environment_say_is_what_a_run_does(config, monkeypatch, capsys):
    config('escapes = "escape"\nwrap = 12\n')
    ran = invoke(capsys, "a\x1b[31mred and some more words")
    assert ran.code == 0 and ran.out == "a␛[31mred\nand some\nmore words\n"
    monkeypatch.setenv("OUTSTREAM_ESCAPES", "strip")
    monkeypatch.setenv("OUTSTREAM_WRAP", "0")  # --no-wrap
    assert invoke(capsys, "a\x1b[31mred and some more words").out == "ared and some more words\n"
    ran = invoke(capsys, "--escapes", "escape", "a\x1b[31mred")
    assert ran.out == "a␛[31mred\n"


def test_a_command_s_table_beats_the_top_level_for_that_command_alone(config, capsys):
    path = config(
        """\
        unit = "word"
        markdown = false

        [follow]
        unit = "line"
        markdown = true
        """
    )
    follow = shown(capsys, "follow")
    assert follow["unit"] == ('"line"', f"file {path}:5")
    assert follow["markdown"] == ("true", f"file {path}:6")
    top = shown(capsys)
    assert top["unit"] == ('"word"', f"file {path}:1")
    assert top["markdown"] == ("false", f"file {path}:2")


def test_an_option_of_a_group_on_the_command_line_outweighs_its_rivals_in_the_file(
    config, monkeypatch, capsys
):
    path = config("cps = 40\n")
    got = shown(capsys, "--", "--instant")
    assert got["instant"] == ("true", "flag") and got["cps"] == ("", "default")
    assert invoke(capsys, "--instant", "hello").code == 0  # no "not allowed with" error
    # the environment outweighs the file the same way
    monkeypatch.setenv("OUTSTREAM_SMOOTH", "0.3")
    got = shown(capsys)
    assert got["smooth"] == ("0.3", "env OUTSTREAM_SMOOTH") and got["cps"] == ("", "default")
    # instant = false sets nothing: the file's cps stays
    monkeypatch.delenv("OUTSTREAM_SMOOTH")
    monkeypatch.setenv("OUTSTREAM_INSTANT", "0")
    assert shown(capsys)["cps"] == ("40.0", f"file {path}:1")


def test_two_rivals_in_one_place_are_refused_as_their_flags_are(config, capsys):
    path = config("cps = 40\ninstant = true\n")
    ran = invoke(capsys, "hello")
    assert ran.code == 2 and ran.out == ""
    assert ran.err == (
        f"outstream: {path}:1: cps and {path}:2: instant: cannot go together "
        "(as their flags cannot); keep one\n"
    )


def test_values_are_the_flags_values(config, monkeypatch, capsys):
    """true/false for switches, a number for --wrap N, true for --smooth without LAG..."""
    config("smooth = true\nwrap = true\nmarkdown = true\nhyperlinks = false\n")
    got = shown(capsys)
    assert got["smooth"][0] == "0.5"  # --smooth alone
    assert got["wrap"][0] == "true"  # --wrap alone: the terminal's width
    assert got["markdown"][0] == "true" and got["hyperlinks"][0] == "false"
    config("wrap = false\n")
    assert shown(capsys)["wrap"][0] == "false"  # --no-wrap
    for text, value in [("on", "true"), ("1", "true"), ("no", "false"), ("FALSE", "false")]:
        monkeypatch.setenv("OUTSTREAM_MARKDOWN", text)
        assert shown(capsys)["markdown"][0] == value
    monkeypatch.setenv("OUTSTREAM_WRAP", "72")
    assert shown(capsys)["wrap"][0] == "72"


def test_an_option_added_to_a_parser_gets_a_key_and_a_variable_with_no_more_code(tmp_path, capsys):
    def parser():
        made = command_parser("outstream ask", "", "")
        made.add_argument("--code-theme", metavar="NAME")
        made.add_argument("--theme", choices=("auto", "dark", "light"), default="auto")
        made.add_argument("--copy-code", action="store_true")
        return made

    env = {"OUTSTREAM_THEME": "light", "OUTSTREAM_CODE_THEME": "github-dark"}
    args = configured(parser(), [], env={**env, "OUTSTREAM_CONFIG": os.devnull})
    assert (args.theme, args.code_theme, args.copy_code) == ("light", "github-dark", False)
    assert args._origins["theme"] == "env OUTSTREAM_THEME"
    with pytest.raises(ConfigError) as refused:
        configured(parser(), [], env={"OUTSTREAM_THEME": "pink", "OUTSTREAM_CONFIG": os.devnull})
    assert str(refused.value) == (
        "OUTSTREAM_THEME: invalid choice: 'pink' (choose from 'auto', 'dark', 'light')"
    )


# --- what is refused ---


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("cps = 40\nmarkdwon = true\n", 2, "markdwon: not an option of any command (did you mean markdown?)"),
        ("[ask]\nmodl = 'x'\n", 2, "modl: not an option of [ask] (did you mean model?)"),
        ("[aks]\nmodel = 'x'\n", 1, "[aks]: no such command (did you mean ask?)"),
        ("\n\ncps = 0\n", 3, "cps: must be a positive number, not '0'"),
        ("escapes = 'nope'\n", 1, "escapes: invalid choice: 'nope'"),
        ("markdown = 3\n", 1, "markdown: takes true or false, not 3"),
        ("[serve]\nport = 99999\n", 2, "port: a port is a number from 0 to 65535, not '99999'"),
        ("[follow]\n  to = 'x.txt'\n", 2, "to: not an option of [follow]"),
        ("unit = [1, 2]\n", 1, "unit: takes a value, not list"),
    ],
)  # fmt: skip
def test_a_bad_key_or_value_is_one_line_naming_the_file_its_line_and_the_key(
    config, capsys, text, line, words
):
    path = config(text)
    ran = invoke(capsys, "hello")
    assert ran.code == 2 and ran.out == ""
    assert ran.err.startswith(f"outstream: {path}:{line}: {words}") and ran.err.count("\n") == 1


def test_a_toml_syntax_error_names_the_line_and_column(config, capsys):
    path = config('cps = 40\nunit = "word\n')
    ran = invoke(capsys, "hello")
    assert ran.code == 2
    assert re.fullmatch(rf"outstream: {re.escape(path)}:2:\d+: .*\n", ran.err), ran.err


def test_every_command_refuses_a_bad_file_even_where_the_bad_key_is_another_s(config, tmp_path):
    path = config("[serve]\nport = 'eighty'\n")
    deltas = tmp_path / "a.jsonl"
    deltas.write_text("")
    for argv in [
        ["hello"],
        ["ask", "hi"],
        ["replay", str(deltas)],
        ["demo"],
        ["publish", "x"],
        ["follow", "x"],
        ["cancel", "x"],
        ["serve"],
        ["config"],
    ]:
        ran = outstream(*argv, stdin=subprocess.DEVNULL)
        out, err = ran.communicate(timeout=30)
        assert ran.returncode == 2, (argv, err)
        assert out == ""
        assert err == (
            f"outstream: {path}:2: port: a port is a number from 0 to 65535, not 'eighty'\n"
        ), argv
    # --help needs no file, and so works with a bad one
    helped = outstream("ask", "--help")
    out, _ = helped.communicate(timeout=30)
    assert helped.returncode == 0 and "--no-config" in out


def test_a_bad_variable_is_one_line_naming_it(monkeypatch, capsys):
    monkeypatch.setenv("OUTSTREAM_CPS", "fast")
    ran = invoke(capsys, "hello")
    assert ran.code == 2 and ran.out == ""
    assert ran.err == "outstream: OUTSTREAM_CPS: must be a number, not 'fast'\n"
    # a variable for an option this command does not have is not its business
    monkeypatch.delenv("OUTSTREAM_CPS")
    monkeypatch.setenv("OUTSTREAM_PORT", "eighty")
    assert invoke(capsys, "hello").code == 0


def test_what_is_refused_reaches_the_terminal_without_its_controls(config, capsys):
    config('"mark\\u001b]0;pwned\\u0007down" = true\n')
    ran = invoke(capsys, "hello")
    assert ran.code == 2 and "\x1b" not in ran.err and "\x07" not in ran.err
    assert "not an option of any command" in ran.err


# --- which file ---


def test_no_config_and_a_config_of_dev_null_ignore_the_file(config, monkeypatch, capsys):
    config("cps = 40\n")
    assert shown(capsys)["cps"][0] == "40.0"
    assert shown(capsys, "--no-config")["cps"] == ("", "default")
    assert "(ignored (--no-config))" in invoke(capsys, "config", "--no-config").out
    monkeypatch.setenv("OUTSTREAM_CONFIG", os.devnull)
    assert shown(capsys)["cps"] == ("", "default")
    # Said as chosen, not as a file that went missing.
    assert "(none: OUTSTREAM_CONFIG is /dev/null)" in invoke(capsys, "config").out


def test_outstream_config_names_another_file_which_must_exist(
    config, tmp_path, monkeypatch, capsys
):
    other = tmp_path / "other.toml"
    other.write_text("[ask]\nmodel = 'qwen3'\n")
    monkeypatch.setenv("OUTSTREAM_CONFIG", str(other))
    assert shown(capsys, "ask")["model"] == ('"qwen3"', f"file {other}:2")
    assert invoke(capsys, "config", "--path").out == f"{other}\n"
    monkeypatch.setenv("OUTSTREAM_CONFIG", str(tmp_path / "missing.toml"))
    ran = invoke(capsys, "hello")
    assert ran.code == 2
    assert (
        ran.err == f"outstream: {tmp_path}/missing.toml: no such file (named by OUTSTREAM_CONFIG)\n"
    )


def test_the_path_is_under_xdg_config_home_or_the_home_directory(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("OUTSTREAM_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert invoke(capsys, "config", "--path").out == f"{tmp_path}/outstream/config.toml\n"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert invoke(capsys, "config", "--path").out == f"{tmp_path}/.config/outstream/config.toml\n"
    assert "(not found)" in invoke(capsys, "config").out


# --- outstream config ---


def test_secrets_are_never_shown(config, monkeypatch, capsys):
    path = config(
        """\
        [ask]
        api-key = "sk-from-the-file-0123456789"
        redis = "redis://:hunter2@localhost:6379/0"
        """
    )
    os.chmod(path, 0o644)
    monkeypatch.setenv("OUTSTREAM_TOKEN", "token-from-the-env-0123456789")
    text = invoke(capsys, "config", "ask").out
    data = invoke(capsys, "config", "--json", "ask").out
    for out in (text, data):
        assert "sk-from-the-file" not in out and "hunter2" not in out
    settings = {s["key"]: s for s in json.loads(data)["settings"]}
    assert settings["api-key"] == {"key": "api-key", "value": "********", "from": f"file {path}:2"}
    assert settings["redis"]["value"] == "redis://:****@localhost:6379/0"
    assert f"holds api-key and others may read it: chmod 600 {path}" in text
    os.chmod(path, 0o600)
    assert "chmod" not in invoke(capsys, "config", "ask").out


def test_the_old_variables_keep_their_meaning_and_show_where_they_came_from(monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-old")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://old:1/v1")
    monkeypatch.setenv("OUTSTREAM_BASE_URL", "http://new:1/v1")
    monkeypatch.setenv("OUTSTREAM_REDIS_URL", "redis://localhost:6379")
    monkeypatch.setenv("OUTSTREAM_MODEL", "llama3.2")
    got = shown(capsys, "ask")
    assert got["api-key"] == ('"********"', "env OPENAI_API_KEY")
    assert got["base-url"] == ('"http://new:1/v1"', "env OUTSTREAM_BASE_URL")
    assert got["redis"] == ('"redis://localhost:6379"', "env OUTSTREAM_REDIS_URL")
    assert got["model"] == ('"llama3.2"', "env OUTSTREAM_MODEL")


def test_config_shows_a_command_s_flags_too_and_json(capsys):
    got = shown(capsys, "follow", "--cps", "9")
    assert got["cps"] == ("9.0", "flag")
    data = json.loads(invoke(capsys, "config", "--json", "serve", "--port", "0").out)
    assert data["command"] == "outstream serve"
    assert {"key": "port", "value": 0, "from": "flag"} in data["settings"]
    assert {"key": "host", "value": "127.0.0.1", "from": "default"} in data["settings"]


def test_config_says_when_a_variable_is_no_option_s(monkeypatch, capsys):
    monkeypatch.setenv("OUTSTREAM_MARKDWON", "1")
    out = invoke(capsys, "config").out
    assert (
        "# OUTSTREAM_MARKDWON is set, and no option reads it (did you mean OUTSTREAM_MARKDOWN?)"
        in out
    )


def test_config_output_is_a_config_file(config, capsys, tmp_path, monkeypatch):
    """What `outstream config` prints can be saved as the file, and means the same."""
    config("unit = 'word'\nwrap = 80\nsmooth = 0.25\n")
    first = invoke(capsys, "config").out
    saved = tmp_path / "saved.toml"
    saved.write_text(first)
    monkeypatch.setenv("OUTSTREAM_CONFIG", str(saved))
    again = shown(capsys)
    assert again["unit"][0] == '"word"' and again["wrap"][0] == "80"
    assert again["smooth"][0] == "0.25"


# --- what the other commands make of it ---


def test_no_color_still_wins_over_the_file(config, tmp_path):
    config('color = "always"\nmarkdown = true\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path), "OUTSTREAM_CONFIG": ""}
    coloured = outstream("**bold**", env=env)
    out, err = coloured.communicate(timeout=30)
    assert coloured.returncode == 0 and "\x1b[1m" in out, err
    plain = outstream("**bold**", env={**env, "NO_COLOR": "1"})
    out, err = plain.communicate(timeout=30)
    assert plain.returncode == 0 and out == "bold\n", err


def test_serve_leaves_a_model_in_the_file_to_ask_without_a_token(config, tmp_path):
    config("[serve]\nmodel = 'llama3.2'\n")
    served = outstream(
        "serve",
        env={"XDG_CONFIG_HOME": str(tmp_path), "OUTSTREAM_CONFIG": "", "OUTSTREAM_REDIS_URL": ""},
    )
    _, err = served.communicate(timeout=30)
    # (the complaint is the missing Redis, not --model without a token)
    assert served.returncode == 2 and "needs Redis: give --redis URL" in err, err


def test_a_start_with_no_file_reads_nothing_but_the_variables(tmp_path):
    """No file: nothing is parsed (the TOML parser is not even imported)."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "OUTSTREAM_CONFIG": ""}
    code = (
        "import sys; from outstream.cli import main; main(['--instant', 'x']);"
        "sys.stderr.write(str(sorted(m for m in sys.modules if 'toml' in m)))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    assert ran.stdout == "x\n" and ran.stderr == "[]"


def test_a_cast_plays_as_recorded_whatever_the_file_says_for_text(config, tmp_path, capsys):
    cast = tmp_path / "shown.cast"
    assert invoke(capsys, "--instant", "--record", str(cast), "hello \x1b[1mbold").code == 0
    as_recorded = invoke(capsys, "replay", str(cast), "--max-idle", "0.01", "--no-config").out
    assert as_recorded == "hello bold\r\n"  # (a terminal's line ends, as recorded)
    config('markdown = true\nsmooth = 0.3\nescapes = "escape"\nwrap = 5\nunit = "word"\n')
    ran = invoke(capsys, "replay", str(cast), "--max-idle", "0.01")
    assert ran.code == 0 and ran.out == as_recorded, ran.err
    # given on the command line, they are refused, as before
    ran = invoke(capsys, "replay", str(cast), "-m")
    assert ran.code == 2 and "--markdown: a .cast plays what was shown" in ran.err


def test_redis_in_the_environment_is_no_conflict_for_a_stream_given_by_url(monkeypatch):
    from ..conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/v1/streams/x"
    following = outstream("follow", url, env={"OUTSTREAM_REDIS_URL": "redis://localhost:1"})
    _, err = following.communicate(timeout=30)
    assert following.returncode == 1 and err.startswith(f"outstream: cannot reach {url}"), err
    flagged = outstream("follow", url, "--redis", "redis://localhost:1")
    _, err = flagged.communicate(timeout=30)
    assert flagged.returncode == 2 and "--redis: a URL is read through its server" in err


def test_config_of_a_command_that_is_none_is_a_usage_error(capsys):
    ran = invoke(capsys, "config", "aks")
    assert ran.code == 2 and ran.out == ""
    assert ran.err.startswith(
        "outstream config: error: no command 'aks' reads the config file (did you mean ask?)\n"
    )
