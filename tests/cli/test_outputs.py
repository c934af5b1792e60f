"""--to, --append, --flush, --fsync, --encoding: where the command line writes, and how."""

from __future__ import annotations

import os
import select
import subprocess
import sys

import pyte
import pytest

from outstream.cli import main

from ..clirun import child_env


def test_to_stdout_and_a_file_writes_both(capsys, tmp_path):
    path = tmp_path / "answer.txt"
    assert main(["--to", "stdout", "--to", str(path), "hello", "tee"]) == 0
    assert capsys.readouterr().out == "hello tee\n"
    assert path.read_text() == "hello tee\n"


def test_a_file_target_is_truncated_and_append_appends(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text("old content\n")
    assert main(["--to", str(path), "first"]) == 0
    assert path.read_text() == "first\n"
    assert main(["--to", str(path), "--append", "second"]) == 0
    assert path.read_text() == "first\nsecond\n"


def test_to_stderr(capsys):
    assert main(["--to", "stderr", "to the error stream"]) == 0
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "to the error stream\n")


def test_a_file_target_gets_the_text_as_received(capsys, tmp_path, monkeypatch):
    path = tmp_path / "record.txt"
    assert main(["--to", "stdout", "--to", str(path), "\x1b[1mbold\x1b[0m"]) == 0
    assert capsys.readouterr().out == "bold\n"
    assert path.read_bytes() == b"\x1b[1mbold\x1b[0m\n"


def test_a_target_that_cannot_be_opened_is_reported_and_the_others_go_on(capsys, tmp_path):
    good = tmp_path / "good.txt"
    code = main(["--to", str(tmp_path), "--to", str(good), "still written"])
    captured = capsys.readouterr()
    assert code == 1
    assert good.read_text() == "still written\n"
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"outstream: cannot write to {tmp_path}: ")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_target_is_reported_once_and_the_others_go_on(capsys, tmp_path):
    good = tmp_path / "good.txt"
    code = main(["--to", "/dev/full", "--to", str(good), "--to", "stdout", "kept"])
    captured = capsys.readouterr()
    assert code == 1
    assert good.read_text() == "kept\n"
    assert captured.out == "kept\n"
    assert captured.err == "outstream: cannot write to /dev/full: No space left on device\n"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("replace", b"caf\xe9 ? ok\n"),
        ("namereplace", b"caf\xe9 \\N{EURO SIGN} ok\n"),
        ("backslashreplace", b"caf\xe9 \\u20ac ok\n"),
    ],
)
def test_characters_the_encoding_cannot_hold_never_crash(tmp_path, policy, expected):
    path = tmp_path / "latin1.txt"
    assert (
        main(["--to", str(path), "--encoding", "latin-1", "--encoding-errors", policy, "café € ok"])
        == 0
    )
    assert path.read_bytes() == expected


def test_stdout_in_an_encoding_that_cannot_hold_the_text(tmp_path):
    env = {**child_env(), "PYTHONIOENCODING": "ascii"}
    out = subprocess.run(
        [sys.executable, "-m", "outstream", "naïve ☃"], capture_output=True, env=env, timeout=20
    )
    assert (out.returncode, out.stdout, out.stderr) == (0, b"na?ve ?\n", b"")


def test_fsync_on_a_file_and_on_a_pipe(tmp_path):
    path = tmp_path / "durable.txt"
    out = subprocess.run(
        [sys.executable, "-m", "outstream", "--fsync", "--to", str(path), "--to", "stdout", "kept"],
        capture_output=True,
        env=child_env(),
        timeout=20,
    )
    assert (out.returncode, out.stdout, out.stderr) == (0, b"kept\n", b"")
    assert path.read_text() == "kept\n"


def test_flush_line_into_a_pipe_holds_a_partial_line_until_its_newline():
    with subprocess.Popen(
        [sys.executable, "-m", "outstream", "--flush", "line"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=child_env(),
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        _talk(proc)


def _talk(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    try:
        os.write(proc.stdin.fileno(), b"a whole line\npart")
        assert os.read(proc.stdout.fileno(), 100) == b"a whole line\n"
        # "part" is written to the pipe's buffer but not flushed: nothing to read yet.
        # Ending the input ends the stream, and the end flushes.
        proc.stdin.close()
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        assert ready
        assert proc.stdout.read() == b"part"
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_flush_option_values_are_checked(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--flush", "sometimes", "x"])
    assert info.value.code == 2
    assert "--flush" in capsys.readouterr().err


def test_stdout_closed_before_the_start_is_one_line_and_exit_1():
    out = subprocess.run(
        ["sh", "-c", f'exec "{sys.executable}" -m outstream "some text" 1>&-'],
        capture_output=True,
        env=child_env(),
        timeout=20,
    )
    assert out.returncode == 1
    assert out.stderr == b"outstream: cannot write to stdout: there is none (is it closed?)\n"


def test_markdown_into_a_pipe_passes_the_source_through(capsys, tmp_path):
    source = "# Title\n\nSome *emphasis* and a list:\n\n- one\n- two\n"
    path = tmp_path / "answer.md"
    path.write_text(source)
    assert main(["-m", "-f", str(path)]) == 0
    assert capsys.readouterr().out == source
    # Unchanged with --wrap too: wrapped source would break its tables and lists.
    assert main(["-m", "--wrap", "10", "-f", str(path)]) == 0
    assert capsys.readouterr().out == source


def test_hyperlinks_make_links_clickable_instead_of_showing_the_url(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    path = tmp_path / "answer.md"
    path.write_text("Read [the guide](https://example.com/guide) first.\n")
    assert main(["-m", "--color", "always", "-f", str(path)]) == 0
    assert "https://example.com/guide\x1b[0m) first." in capsys.readouterr().out
    assert main(["-m", "--color", "always", "--hyperlinks", "-f", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b]8;;https://example.com/guide\x1b\\" in out
    assert "(https://example.com/guide)" not in out


def test_markdown_color_always_renders_even_into_a_pipe(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    path = tmp_path / "answer.md"
    path.write_text("# Title\n\nSome *emphasis*.\n")
    assert main(["-m", "--color", "always", "-f", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b[" in out and "# Title" not in out and "Title" in out
    assert "\x1b[?25l" not in out  # no live region, no cursor movement off a terminal
    assert " \n" not in out  # lines not padded to the width with spaces
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["-m", "--color", "always", "-f", str(path)]) == 0
    plain = capsys.readouterr().out
    assert "Title" in plain and "emphasis" in plain
    import re

    params = [int(p) for sgr in re.findall(r"\x1b\[([0-9;]*)m", plain) for p in sgr.split(";") if p]
    assert not [p for p in params if 30 <= p <= 49 or 90 <= p <= 107]  # styles, but no colour


WRAPPED = (
    "# Title\n\nThis is a paragraph that is long enough to wrap at forty columns for sure, "
    "and then some more words.\n\n- a list item that also goes on for quite a while past "
    "forty columns\n"
)


def test_markdown_renders_at_the_width_wrap_gives(capsys, tmp_path, monkeypatch):
    """-m --wrap N renders at N columns, into a pipe (--color always) and on a terminal."""
    import re

    from outstream.core.wrap import width_cells
    from outstream.testing import run_in_pty

    path = tmp_path / "answer.md"
    path.write_text(WRAPPED)
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["-m", "--color", "always", "--wrap", "30", "-f", str(path)]) == 0
    lines = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out).splitlines()
    assert 25 <= max(width_cells(line) for line in lines) <= 30  # wrapped at it (not padded)
    assert main(["-m", "--color", "always", "-f", str(path)]) == 0  # no --wrap, no COLUMNS: 80
    lines = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out).splitlines()
    assert 70 <= max(width_cells(line) for line in lines) <= 80
    argv = [sys.executable, "-m", "outstream", "-m", "--instant", "--wrap", "40", "-f", str(path)]
    out = run_in_pty(argv, cols=100, env=child_env()).output.decode()
    screen = pyte.Screen(100, 24)
    pyte.Stream(screen).feed(out)
    shown = [row.rstrip() for row in screen.display if row.strip()]
    assert shown[1] == "This is a paragraph that is long enough"
    assert max(len(row) for row in shown) <= 40


def test_theme_and_code_theme_colour_code_for_the_background(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    path = tmp_path / "answer.md"
    path.write_text("Some `code`:\n\n```python\ndef f():\n    return 1\n```\n")
    args = ["-m", "--color", "always", "-f", str(path)]
    assert main(args) == 0
    dark = capsys.readouterr().out
    assert "\x1b[1;36;40mcode" in dark  # rich's inline code on a dark screen
    monkeypatch.setenv("COLORFGBG", "0;15")  # black on white
    assert main(args) == 0
    light = capsys.readouterr().out
    assert main([*args, "--theme", "light"]) == 0
    assert capsys.readouterr().out == light != dark
    assert "\x1b[1;31mcode" in light and ";40m" not in light  # no black box on white
    assert main([*args, "--theme", "dark"]) == 0
    assert capsys.readouterr().out == dark
    assert main([*args, "--code-theme", "solarized-light"]) == 0
    assert capsys.readouterr().out not in (light, dark)


def test_an_unknown_code_theme_is_a_usage_error_naming_some_that_exist(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["-m", "--code-theme", "monokia", "x"])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert "argument --code-theme: no Pygments style 'monokia': try monokai," in err
    assert "Traceback" not in err


def test_theme_query_asks_only_a_terminal(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLORFGBG", "0;15")
    path = tmp_path / "answer.md"
    path.write_text("Some `code`.\n")
    assert main(["-m", "--color", "always", "--theme", "query", "-f", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b]11" not in out and "\x1b[1;31mcode" in out  # not asked: auto, COLORFGBG
