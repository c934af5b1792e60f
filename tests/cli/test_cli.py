"""Tests for outstream.cli: parsing, exit codes and what reaches stdout and stderr.

Most tests run `main` in-process, CliRunner-style, with stdin and stdout
replaced by real pipes and files where their kind matters. Subprocesses are
used only where a real process matters: a reader that goes away before the
interpreter exits, and stdout on a device that fails.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
from collections.abc import Iterator

import pytest

import outstream
from outstream.cli import main
from tests.clirun import Ran, invoke

from ..clirun import child_env

# --- helpers ---


def assert_usage_error(ran: Ran, *words: str, prog: str = "outstream") -> None:
    """Exit 2, one "outstream: error: ..." line naming `words`, and where to look: no usage block."""
    assert ran.code == 2, ran
    assert ran.out == ""
    lines = ran.err.splitlines()
    assert len(lines) == 2 and ran.err.endswith("\n"), ran.err
    assert lines[0].startswith(f"{prog}: error: ")
    assert lines[1] == f"try '{prog} --help'"
    for word in words:
        assert word in lines[0]


def outstream_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "outstream", *args]


@contextlib.contextmanager
def stdin_pipe(monkeypatch: pytest.MonkeyPatch, data: bytes) -> Iterator[None]:
    """sys.stdin is the read end of a real pipe holding `data`, then EOF."""
    r, w = os.pipe()
    os.write(w, data)
    os.close(w)
    with open(r, encoding="utf-8") as stdin, monkeypatch.context() as patch:
        patch.setattr(sys, "stdin", stdin)
        yield


def read_exactly(fd: int, n: int, timeout: float = 10.0) -> bytes:
    data = b""
    while len(data) < n:
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, f"nothing to read within {timeout} s; got {data!r} so far"
        chunk = os.read(fd, n - len(data))
        assert chunk, f"EOF after {data!r}"
        data += chunk
    return data


# --- input ---


def test_text_arguments_are_joined_by_spaces_and_end_with_a_newline(capsys):
    ran = invoke(capsys, "hello", "big", "wörld ✓")
    assert ran == Ran(code=0, out="hello big wörld ✓\n", err="")


def test_file_option_streams_the_file_as_is(capsys, tmp_path):
    path = tmp_path / "answer.md"
    content = "# Title\n\nSome *text* — with ünïcode, 日本語 and 👍🏽.\nNo newline at the end"
    path.write_bytes(content.encode())
    ran = invoke(capsys, "-f", str(path))
    assert ran == Ran(code=0, out=content, err="")


@pytest.mark.parametrize("argv", [[], ["-"], ["-f", "-"]], ids=["no-text", "dash", "f-dash"])
def test_stdin_as_a_pipe_is_read(capsys, monkeypatch, argv):
    data = "from a pipe: ünïcode ✓\nsecond line\n"
    with stdin_pipe(monkeypatch, data.encode()):
        ran = invoke(capsys, *argv)
    assert ran == Ran(code=0, out=data, err="")


def test_text_and_file_together_is_a_usage_error(capsys, tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("file\n")
    assert_usage_error(invoke(capsys, "text", "-f", str(path)), "not both")


@pytest.mark.pty
def test_no_text_with_stdin_a_terminal_is_a_usage_error(capsys, monkeypatch):
    import pty

    master, slave = pty.openpty()
    try:
        with open(slave, encoding="utf-8") as stdin, monkeypatch.context() as patch:
            patch.setattr(sys, "stdin", stdin)
            ran = invoke(capsys)
    finally:
        os.close(master)
    assert_usage_error(ran, "nothing to stream")


# --- option errors ---


@pytest.mark.parametrize(
    "flags",
    [
        ["--cps", "10", "--instant"],
        ["--cps", "10", "--delay", "0.1"],
        ["--delay", "0.1", "--smooth"],
        ["--smooth", "0.5", "--instant"],
    ],
    ids=lambda flags: " ".join(flags),
)
def test_pacing_flags_exclude_each_other(capsys, flags):
    assert_usage_error(invoke(capsys, "text", *flags), "not allowed with")


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--cps", "0"], ["--cps", "'0'"]),
        (["--cps", "abc"], ["--cps", "'abc'"]),
        (["--cps", "inf"], ["--cps", "'inf'"]),
        (["--delay", "-0.5"], ["--delay", "'-0.5'"]),
        (["--smooth", "nan"], ["--smooth", "'nan'"]),
        (["--fps", "-1"], ["--fps", "'-1'"]),
        (["--unit", "bogus"], ["--unit", "'bogus'", "grapheme"]),
        (["--escapes", "bogus"], ["--escapes", "'bogus'", "strip"]),
    ],
    ids=lambda value: " ".join(value) if value and value[0].startswith("--") else "",
)
def test_bad_option_values_are_usage_errors(capsys, flags, words):
    assert_usage_error(invoke(capsys, *flags, "text"), *words)


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--encoding", "nope"], ["--encoding", "'nope'", "utf-8"]),
        (["--encoding", "rot13"], ["--encoding", "'rot13'"]),  # a codec, but not of text
    ],
)
def test_a_bad_encoding_is_a_usage_error_before_any_file_is_created(capsys, tmp_path, flags, words):
    target = tmp_path / "x.txt"
    assert_usage_error(invoke(capsys, *flags, "--to", str(target), "hi"), *words)
    assert not target.exists()


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--encoding", "latin-1"], ["--encoding", "--to FILE"]),
        (["--append"], ["--append", "--to FILE"]),
        (["--append", "--fsync", "--to", "stdout"], ["--append and --fsync", "--to FILE"]),
    ],
)
def test_file_options_without_a_file_are_usage_errors(capsys, flags, words):
    assert_usage_error(invoke(capsys, *flags, "hi"), *words)


def test_two_files_are_a_usage_error_not_the_last_one(capsys, tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("one\n")
    second.write_text("two\n")
    assert_usage_error(invoke(capsys, "-f", str(first), "-f", str(second)), "-f", "cat")


def test_a_lone_text_naming_a_file_streams_the_file_and_after_dashes_the_text(capsys, tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Notes\n")
    assert invoke(capsys, str(path)) == Ran(code=0, out="# Notes\n", err="")
    assert invoke(capsys, "--", str(path)) == Ran(code=0, out=f"{path}\n", err="")
    assert invoke(capsys, str(path), "too") == Ran(code=0, out=f"{path} too\n", err="")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["-f", "{n}", "--to", "{n}"], ["--to", "-f", "emptied before it is read"]),
        (["{n}", "--to", "{dir}/./n.md"], ["--to", "emptied"]),
        (
            ["hi", "--save-deltas", "{dir}/a.x", "--record", "{dir}/a.x"],
            ["--record", "--save-deltas"],
        ),
        (["hi", "--to", "{dir}/a.x", "--record", "{dir}/a.x"], ["--record", "--to"]),
    ],
)
def test_a_file_read_and_written_or_written_twice_is_a_usage_error(capsys, tmp_path, argv, words):
    notes = tmp_path / "n.md"
    notes.write_text("precious\n")
    argv = [a.format(n=notes, dir=tmp_path) for a in argv]
    assert_usage_error(invoke(capsys, *argv), *words)
    assert notes.read_text() == "precious\n" and not (tmp_path / "a.x").exists()


def test_devices_may_be_named_twice(capsys):
    ran = invoke(capsys, "hi", "--save-deltas", "/dev/null", "--record", "/dev/null")
    assert ran == Ran(code=0, out="hi\n", err="")


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--cps", "1e20"], ["--cps", "at most", "--instant"]),
        (["--delay", "1e-20"], ["--delay", "at least"]),
        (["--smooth", "1e12"], ["--smooth", "at most 3600"]),
    ],
)
def test_pacing_beyond_what_a_clock_can_tell_apart_is_a_usage_error(capsys, flags, words):
    # --cps 1e20 spun at 100% CPU forever: units due 1e-20 s apart are due at one time.
    assert_usage_error(invoke(capsys, *flags, "hi"), *words)


# --- source and output failures ---


def test_missing_file_is_one_line_naming_it_and_exit_1(capsys, tmp_path):
    path = tmp_path / "no such file.txt"
    ran = invoke(capsys, "-f", str(path))
    assert ran.code == 1
    assert ran.out == ""
    assert ran.err == f"outstream: cannot read {path}: No such file or directory\n"


def test_directory_as_file_is_one_line_and_exit_1(capsys, tmp_path):
    ran = invoke(capsys, "-f", str(tmp_path))
    assert ran.code == 1
    assert ran.out == ""
    assert ran.err.count("\n") == 1
    assert ran.err.startswith(f"outstream: cannot read {tmp_path}: ")
    assert "Traceback" not in ran.err


def test_strict_shows_the_text_before_bad_utf8_then_names_the_offset(capsys, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes("café ok ".encode() + b"\xff" + b" never shown\n")
    ran = invoke(capsys, "--strict", "-f", str(path))
    assert ran.code == 1
    assert ran.out == "café ok "
    assert ran.err == "outstream: invalid UTF-8 at byte offset 9: b'\\xff'\n"


def test_strict_offset_counts_every_byte_read_before(capsys, tmp_path):
    # Larger than one read, so the bad byte is in a later chunk than the first.
    path = tmp_path / "bad.txt"
    path.write_bytes(b"a" * 100_000 + b"\xc3\x28 tail")
    ran = invoke(capsys, "--strict", "-f", str(path))
    assert ran.code == 1
    assert ran.out == "a" * 100_000
    assert ran.err.count("\n") == 1
    assert "byte offset 100000" in ran.err


def test_without_strict_bad_utf8_shows_as_replacement_character(capsys, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok \xff ok\n")
    assert invoke(capsys, "-f", str(path)) == Ran(code=0, out="ok \ufffd ok\n", err="")


def test_stdout_on_a_full_device_is_one_line_and_exit_1(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            outstream_argv("hello"),
            stdout=full,
            stderr=subprocess.PIPE,
            env=child_env(),
            timeout=20,
        )
    err = proc.stderr.decode()
    assert err == "outstream: cannot write to stdout: No space left on device\n"
    assert proc.returncode == 1


# --- escapes ---

HOSTILE = "a\x1b]0;pwned\x07b \x1b[31mred\x1b[0m \u202eevil\n"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("strip", "ab red evil\n"),
        ("escape", "a␛]0;pwned␇b ␛[31mred␛[0m <U+202E>evil\n"),
        ("sgr", "ab \x1b[31mred\x1b[0m evil\n"),
        ("raw", HOSTILE),
    ],
)
def test_escape_policies(capsys, tmp_path, policy, expected):
    path = tmp_path / "hostile.txt"
    path.write_bytes(HOSTILE.encode())
    assert invoke(capsys, "--escapes", policy, "-f", str(path)) == Ran(code=0, out=expected, err="")


def test_escapes_are_stripped_by_default(capsys, tmp_path):
    path = tmp_path / "hostile.txt"
    path.write_bytes(HOSTILE.encode())
    assert invoke(capsys, "-f", str(path)) == Ran(code=0, out="ab red evil\n", err="")


# --- pacing and units ---


@pytest.mark.parametrize("unit", ["grapheme", "word", "line", "chunk"])
def test_paced_output_is_the_input(capsys, unit):
    ran = invoke(capsys, "--unit", unit, "--cps", "1000", "one wörd at a", "time 👍🏽")
    assert ran == Ran(code=0, out="one wörd at a time 👍🏽\n", err="")


@pytest.mark.parametrize("flags", [["--delay", "0.001"], ["--smooth", "0.05"], ["--smooth"]])
def test_other_pacings_show_the_whole_text(capsys, flags):
    # TEXT first: "--smooth all" would take "all" as the LAG.
    assert invoke(capsys, "all", "of", "it", *flags) == Ran(code=0, out="all of it\n", err="")


# --- stats, version, help ---


def test_stats_go_to_stderr_with_the_counts(capsys):
    ran = invoke(capsys, "--stats", "--instant", "hello", "wörld")
    assert ran.code == 0
    assert ran.out == "hello wörld\n"
    lines = ran.err.splitlines()
    assert lines[0] == "outstream: 12 chars, 12 graphemes, 2 words in 1 chunk"
    for label in ("first text", "total", "chars/s", "gaps", "p50", "p95", "lag", "p99"):
        assert label in ran.err, label
    assert lines[-1].split()[0::2] == ["writes", "flushes"]


def test_stats_of_a_file_copy_count_one_flush(capsys, monkeypatch, tmp_path):
    # outstream --instant --stats < big.log > copy.log
    big = tmp_path / "big.log"
    content = "".join(f"line {i}: ünïcode ✓\n" for i in range(20_000))
    big.write_text(content, encoding="utf-8")
    copy = tmp_path / "copy.log"
    with (
        open(big, encoding="utf-8") as stdin,
        open(copy, "w", encoding="utf-8") as stdout,
        monkeypatch.context() as patch,
    ):
        patch.setattr(sys, "stdin", stdin)
        patch.setattr(sys, "stdout", stdout)
        code = main(["--instant", "--stats"])
    assert code == 0
    assert copy.read_text(encoding="utf-8") == content
    err = capsys.readouterr().err
    assert err.startswith(f"outstream: {len(content):,} chars, ")
    assert err.splitlines()[-1].endswith("flushes 1")


def test_version(capsys):
    assert invoke(capsys, "--version") == Ran(
        code=0, out=f"outstream {outstream.__version__}\n", err=""
    )


def test_help_shows_examples_and_exit_codes(capsys):
    ran = invoke(capsys, "--help")
    assert ran.code == 0
    assert ran.err == ""
    assert ran.out.startswith("usage: outstream")
    assert "examples:" in ran.out
    assert "outstream --cps 80 -f examples/answer.md" in ran.out
    assert "exit status:" in ran.out
    for code in ("0 done", "1 the source", "2 usage error", "130 interrupted"):
        assert code in ran.out, code


# --- a reader that goes away ---


def _reader_leaves(proc: subprocess.Popen[bytes]) -> bytes:
    """Read 10 bytes of the child's stdout, then close it, as `head -c 10` does."""
    assert proc.stdout is not None
    head = read_exactly(proc.stdout.fileno(), 10)
    proc.stdout.close()
    return head


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_reader_gone_reading_a_big_input_exits_0_quietly(tmp_path, how):
    big = tmp_path / "big.txt"
    big.write_text("".join(f"line {i} of a big file\n" for i in range(200_000)))
    argv = (
        outstream_argv("--instant", "-f", str(big))
        if how == "file"
        else outstream_argv("--instant")
    )
    err = tmp_path / "stderr"
    with (
        open(big, "rb") as stdin,
        open(err, "wb") as err_file,
        subprocess.Popen(
            argv,
            stdin=stdin if how == "stdin" else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err_file,
            env=child_env(),
        ) as proc,
    ):
        try:
            assert _reader_leaves(proc) == b"line 0 of "
            returncode = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert err.read_bytes() == b""
    assert returncode == 0


def test_reader_gone_while_the_writer_upstream_still_streams(tmp_path):
    # some-llm-cli | outstream | head -c 10: the producer is still mid-stream
    # (its pipe open, nothing more written yet) when outstream learns that its
    # reader has gone.
    err = tmp_path / "stderr"
    with (
        open(err, "wb") as err_file,
        subprocess.Popen(
            outstream_argv(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err_file,
            env=child_env(),
        ) as proc,
    ):
        assert proc.stdin is not None
        try:
            os.write(proc.stdin.fileno(), b"first chunk, long enough to be cut\n")
            assert _reader_leaves(proc) == b"first chun"
            # The next write outstream makes finds no reader; stdin stays open.
            with contextlib.suppress(BrokenPipeError):
                os.write(proc.stdin.fileno(), b"second chunk\n")
            returncode = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert err.read_bytes() == b""
    assert returncode == 0


def test_in_process_output_into_a_pipe_without_reader_is_exit_0(capsys, monkeypatch):
    r, w = os.pipe()
    os.close(r)
    stdout = open(w, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        with monkeypatch.context() as patch:
            patch.setattr(sys, "stdout", stdout)
            code = main(["--instant", "some text"])
    finally:
        with contextlib.suppress(BrokenPipeError):
            stdout.close()
    assert code == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--smooth", "some text"], "some text\n"),
        (["--smooth", "0.2", "some text"], "some text\n"),
        (["--smooth=0.2", "two", "words"], "two words\n"),
    ],
)
def test_smooth_takes_a_lag_only_when_one_is_given(capsys, argv, expected):
    ran = invoke(capsys, *argv)
    assert (ran.code, ran.out, ran.err) == (0, expected, "")
