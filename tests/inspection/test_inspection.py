"""Tests for outstream.inspect (outstream.inspection): a stream's layers, what outstream would do, and why.

Real components throughout: os.pipe pipes, a pty slave with a size set by
TIOCSWINSZ, tmp_path files, a FIFO, /dev/null, and child processes whose
stdout is a pipe, with and without PYTHONUNBUFFERED.
"""

from __future__ import annotations

import _pyio  # type: ignore[import-not-found]  # the pure-Python io: an oracle for buffer sizes
import contextlib
import io
import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from outstream.cli.inspect import main
from outstream.inspection import WHY, Inspection, Situation, inspect, inspect_path
from outstream.sinks.detect import SinkKind
from tests.clirun import Ran
from tests.clirun import invoke as run_cli

# --- helpers ---


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    """Run ``outstream inspect ARGV`` in-process, through the command line's dispatch."""
    return run_cli(capsys, "inspect", *argv)


def assert_one_line_error(ran: Ran, *words: str) -> None:
    assert ran.code == 1, ran
    assert ran.out == ""
    assert ran.err.count("\n") == 1 and ran.err.endswith("\n"), ran.err
    assert ran.err.startswith("outstream inspect: ")
    for word in words:
        assert word in ran.err


def names(result: Inspection) -> list[str]:
    return [layer.name for layer in result.layers]


def why(result: Inspection) -> str:
    return "\n".join(result.why)


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(extra)
    return env


def run_child(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`main(argv)` in a child whose stdout and stderr are pipes."""
    code = (
        "import sys; from outstream.cli.inspect import main; raise SystemExit(main(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=20,
    )


def json_roundtrip(result: Inspection) -> dict[str, object]:
    data: dict[str, object] = json.loads(json.dumps(result.to_dict()))
    assert data["kind"] == result.kind.value
    return data


@pytest.fixture
def pipe_file() -> Iterator[io.TextIOWrapper]:
    """A text stream on the write end of a real pipe, as ``open(w, "w")`` builds it."""
    r, w = os.pipe()
    try:
        with open(w, "w", encoding="utf-8") as f:
            yield f
    finally:
        os.close(r)


@pytest.fixture
def pty_slave() -> Iterator[tuple[int, int]]:
    """(master, slave) of a new pty whose size is 100 columns × 30 lines."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    try:
        yield master, slave
    finally:
        for fd in (master, slave):
            with contextlib.suppress(OSError):
                os.close(fd)


# --- the table ---


def test_every_situation_has_an_explanation() -> None:
    assert set(WHY) == set(Situation)


# --- streams ---


def test_pipe(pipe_file: io.TextIOWrapper) -> None:
    result = inspect(pipe_file, env={})
    assert result.kind is SinkKind.PIPE
    assert result.fd == pipe_file.fileno()
    assert result.name == f"fd {result.fd}"
    assert names(result) == ["TextIOWrapper", "BufferedWriter", "FileIO"]
    text, buffered, raw = result.layers
    assert text.get("encoding") == "utf-8"
    assert text.get("line_buffering") is False
    assert text.get("write_through") is False
    # open() sizes the buffer from st_blksize; _pyio's BufferedWriter says so publicly.
    with _pyio.open(os.dup(result.fd), "w", encoding="utf-8") as oracle:
        assert buffered.get("buffer_size") == oracle.buffer.buffer_size
    assert raw.get("fd") == result.fd
    assert raw.get("mode") == "wb"
    assert raw.get("closefd") is True
    assert result.would is not None
    assert result.would.pace == "instant"
    assert result.would.flush == "chunk"
    assert result.would.flush_text == "after each write"
    assert result.would.color_system == "none"
    assert result.situations == (Situation.PIPE,)
    assert "block-buffered" in why(result)
    assert "8 KiB" in why(result)
    if sys.platform == "linux":
        assert result.target is not None and result.target.startswith("pipe:[")
    lines = result.format().splitlines()
    assert lines[0].endswith(" (pipe)")
    assert lines[1].startswith("  TextIOWrapper  encoding=utf-8 errors=strict ")
    assert lines[2].startswith("  └ BufferedWriter  buffer_size=")
    assert lines[3] == f"    └ FileIO  fd={result.fd} mode='wb' closefd=True"
    assert lines[4] == (
        "outstream: pace=instant  flush=after each write  escapes=strip  colour=none  width=80"
    )
    assert lines[5].startswith("why: a pipe is block-buffered")
    json_roundtrip(result)


def test_looking_flushes_nothing() -> None:
    r, w = os.pipe()
    try:
        with open(w, "w", encoding="utf-8") as f:
            f.write("held")
            inspect(f, env={})
            assert select.select([r], [], [], 0)[0] == []  # still held by the text layer
            f.flush()
            assert os.read(r, 100) == b"held"
    finally:
        os.close(r)


@pytest.mark.pty
def test_pty_slave_as_text_stream(pty_slave: tuple[int, int]) -> None:
    _, slave = pty_slave
    with open(os.dup(slave), "w", encoding="utf-8") as f:
        result = inspect(f, env={"TERM": "xterm-256color"})
        assert result.kind is SinkKind.TTY
        assert result.target == os.ttyname(slave)
        assert result.terminal.is_terminal is True
        assert (result.terminal.width, result.terminal.height) == (100, 30)
        assert result.layers[0].get("line_buffering") is True  # open() saw a tty
        assert result.would is not None
        assert result.would.pace == "smooth(0.5 s)"
        assert result.would.flush == "frame"
        assert result.would.flush_text == "per frame (60/s)"
        assert result.would.color_system == "256"
        assert result.would.width_cells == 100
        assert result.situations == (Situation.TTY,)
        assert "line-buffered" in why(result)
        lines = result.format().splitlines()
        assert lines[0] == (
            f"fd {f.fileno()} → {os.ttyname(slave)} (tty 100×30, TERM=xterm-256color)"
        )
        assert lines[4] == (
            "outstream: pace=smooth(0.5 s)  flush=per frame (60/s)  escapes=strip  "
            "colour=256  width=100"
        )
        assert lines[5].startswith("why: a tty is line-buffered by Python")


@pytest.mark.pty
def test_pty_with_env_overrides(pty_slave: tuple[int, int]) -> None:
    _, slave = pty_slave
    with open(os.dup(slave), "w", encoding="utf-8") as f:
        result = inspect(f, env={"COLUMNS": "77", "NO_COLOR": "1", "TERM": "xterm-256color"})
        assert result.terminal.width == 77
        assert result.would is not None
        assert result.would.width_cells == 77
        assert result.would.color_system == "none"
        assert Situation.NO_COLOR in result.situations
        assert "NO_COLOR" in why(result)

        dumb = inspect(f, env={"TERM": "dumb"})
        assert dumb.would is not None and dumb.would.color_system == "none"
        assert Situation.DUMB in dumb.situations
        assert "TERM=unset" in inspect(f, env={}).format().splitlines()[0]

        off = inspect(f, env={"TTY_COMPATIBLE": "0"})
        assert off.kind is SinkKind.TTY
        assert off.would is not None
        assert off.would.pace == "instant"
        assert off.would.flush == "frame"
        assert Situation.NOT_TERMINAL in off.situations


@pytest.mark.pty
def test_tty_text_stream_without_line_buffering(pty_slave: tuple[int, int]) -> None:
    _, slave = pty_slave
    raw = io.FileIO(slave, "w", closefd=False)
    with io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8") as f:
        result = inspect(f, env={})
        assert result.situations == (Situation.TTY_NOT_LINE_BUFFERED,)
        assert "8 KiB" in why(result)


def test_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    with open(path, "w", encoding="utf-8") as f:
        result = inspect(f, env={})
        assert result.kind is SinkKind.FILE
        assert result.name == str(path)
        assert result.target == os.path.realpath(path)
        assert names(result) == ["TextIOWrapper", "BufferedWriter", "FileIO"]
        with _pyio.open(path, "a", encoding="utf-8") as oracle:
            assert result.layers[1].get("buffer_size") == oracle.buffer.buffer_size
        assert result.would is not None
        assert result.would.flush == "end"
        assert result.would.flush_text == "at the end"
        assert result.would.escapes == "raw"  # a file gets the text as received
        assert result.situations == (Situation.FILE,)
        assert result.format().splitlines()[0] == (
            f"{path} → fd {f.fileno()} → {os.path.realpath(path)} (regular file)"
        )
        json_roundtrip(result)


def test_dev_null() -> None:
    with open(os.devnull, "w", encoding="utf-8") as f:
        result = inspect(f, env={})
        assert result.kind is SinkKind.CHARDEV
        assert result.target == os.devnull
        assert result.would is not None and result.would.flush == "chunk"
        assert result.situations == (Situation.CHARDEV,)


def test_string_io() -> None:
    result = inspect(io.StringIO(), env={})
    assert result.kind is SinkKind.MEMORY
    assert (result.fd, result.target) == (None, None)
    assert names(result) == ["StringIO"]
    assert result.situations == (Situation.MEMORY,)
    assert result.name == "StringIO"
    assert result.format().splitlines()[0] == "StringIO (in memory)"
    json_roundtrip(result)


def test_text_wrapper_over_bytes_io_is_in_memory() -> None:
    # pytest's capsys builds sys.stdout this way.
    with io.TextIOWrapper(io.BytesIO(), encoding="utf-8") as f:
        result = inspect(f, env={})
        assert names(result) == ["TextIOWrapper", "BytesIO"]
        assert result.situations == (Situation.MEMORY,)


def test_object_with_only_write() -> None:
    class OnlyWrite:
        def write(self, text: str) -> int:
            return len(text)

    result = inspect(OnlyWrite(), env={})
    assert result.kind is SinkKind.UNKNOWN
    assert len(result.layers) == 1
    assert result.layers[0].name.endswith("OnlyWrite")
    assert result.fd is None
    assert result.would is not None and result.would.flush == "chunk"
    assert result.situations == (Situation.UNKNOWN,)
    assert result.format()
    json_roundtrip(result)


def test_object_without_write() -> None:
    result = inspect(42, env={})
    assert result.would is None
    assert result.problem == "cannot write to int: it has no write() method"
    assert Situation.NO_WRITE in result.situations


def test_hostile_object_whose_attributes_raise() -> None:
    class Hostile:
        def __getattr__(self, name: str) -> object:
            raise RuntimeError(f"no {name}")

    result = inspect(Hostile(), env={})
    assert result.problem is not None
    assert result.format()
    json_roundtrip(result)


def test_closed_file(tmp_path: Path) -> None:
    with open(tmp_path / "x.txt", "w", encoding="utf-8") as f:
        pass
    result = inspect(f, env={})
    assert result.fd is None
    assert result.would is None
    assert result.problem == f"cannot write to {tmp_path / 'x.txt'}: it is closed"
    assert result.situations == (Situation.CLOSED,)
    assert names(result) == ["TextIOWrapper", "BufferedWriter", "FileIO"]
    assert result.layers[1].get("buffer_size") is None  # freed by close(): unknown
    assert ("closed", True) in result.layers[0].details
    text = result.format()
    assert "(closed)" in text.splitlines()[0]
    assert "outstream: cannot write to" in text
    json_roundtrip(result)


def test_closed_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open(tmp_path / "out.txt", "w", encoding="utf-8") as f:
        pass
    monkeypatch.setattr(sys, "stdout", f)
    result = inspect(env={})
    assert result.name == "stdout"
    assert result.redirected is True
    assert result.problem == "cannot write to stdout: it is closed"
    assert result.situations == (Situation.REDIRECTED, Situation.CLOSED)
    assert main([]) == 1  # nowhere to print the report


def test_detached_text_stream() -> None:
    f = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    f.detach()
    result = inspect(f, env={})
    assert result.format()
    json_roundtrip(result)


def test_none_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    result = inspect(env={})
    assert result.name == "stdout"
    assert result.layers == ()
    assert result.would is None
    assert result.problem == "cannot write to stdout: there is none"
    assert result.situations == (Situation.MISSING,)
    assert result.format().splitlines()[0] == "stdout (None: no stream)"
    json_roundtrip(result)


def test_none_stdout_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    try:
        code = main([])
    finally:
        monkeypatch.undo()
    assert code == 1
    assert (
        capsys.readouterr().err
        == "outstream inspect: cannot print the report: there is no stdout\n"
    )


def test_unbuffered_text_stream_as_python_u_builds_it(pipe_file: io.TextIOWrapper) -> None:
    raw = io.FileIO(pipe_file.fileno(), "w", closefd=False)
    with io.TextIOWrapper(raw, encoding="utf-8", write_through=True) as f:
        result = inspect(f, env={})
        assert names(result) == ["TextIOWrapper", "FileIO"]
        assert result.layers[0].get("write_through") is True
        assert result.layers[1].get("closefd") is False
        assert result.situations == (Situation.UNBUFFERED,)
        assert "PYTHONUNBUFFERED" in why(result)
        assert "-u" in why(result)


def test_write_through_over_a_buffer(pipe_file: io.TextIOWrapper) -> None:
    pipe_file.reconfigure(write_through=True)
    result = inspect(pipe_file, env={})
    assert result.situations == (Situation.PIPE, Situation.WRITE_THROUGH)


def test_line_buffered_pipe(pipe_file: io.TextIOWrapper) -> None:
    pipe_file.reconfigure(line_buffering=True)
    result = inspect(pipe_file, env={})
    assert result.situations == (Situation.LINE_BUFFERED,)


def test_binary_buffered_stream(pipe_file: io.TextIOWrapper) -> None:
    result = inspect(pipe_file.buffer, env={})
    assert names(result) == ["BufferedWriter", "FileIO"]
    assert result.situations == (Situation.PIPE,)


class OutStream:
    """Shaped like ipykernel.iostream.OutStream, as far as inspect looks."""

    flush_interval = 0.2
    name = "stdout"

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


OutStream.__module__ = "ipykernel.iostream"


def test_jupyter_out_stream() -> None:
    result = inspect(OutStream(), env={})
    assert result.kind is SinkKind.JUPYTER
    assert names(result) == ["ipykernel.iostream.OutStream"]
    assert result.layers[0].get("flush_interval") == 0.2
    assert result.would is not None
    assert result.would.pace == "smooth(0.5 s)"
    assert result.would.flush == "frame"
    assert result.would.color_system == "truecolor"
    assert result.situations == (Situation.JUPYTER,)
    assert "every 0.2 s" in why(result)
    assert "(Jupyter OutStream)" in result.format().splitlines()[0]


def test_forced_terminal_on_a_pipe(pipe_file: io.TextIOWrapper) -> None:
    result = inspect(pipe_file, env={"FORCE_COLOR": "1"})
    assert result.kind is SinkKind.PIPE
    assert result.would is not None
    assert result.would.kind is SinkKind.TTY
    assert result.would.pace == "smooth(0.5 s)"
    assert result.would.flush == "frame"
    assert Situation.FORCED_TERMINAL in result.situations
    assert "FORCE_COLOR makes outstream treat it as a terminal" in why(result)
    forced = inspect(pipe_file, env={"TTY_COMPATIBLE": "1"})
    assert "TTY_COMPATIBLE=1 makes" in why(forced)


def test_redirected_stdout() -> None:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        result = inspect(env={})
        named = inspect(out, env={})
    for r in (result, named):
        assert r.name == "stdout"
        assert r.redirected is True
        assert r.kind is SinkKind.MEMORY
        assert r.situations == (Situation.REDIRECTED, Situation.MEMORY)
        assert "sys.stdout is not sys.__stdout__" in why(r)


def test_the_original_stdout_is_not_redirected() -> None:
    if sys.__stdout__ is None:
        pytest.skip("no original stdout")
    result = inspect(sys.__stdout__, env={})
    assert result.name == "stdout"
    assert result.redirected is False


def test_explicit_name() -> None:
    assert inspect(io.StringIO(), env={}, name="log").name == "log"


def test_default_env_is_os_environ(
    monkeypatch: pytest.MonkeyPatch, pipe_file: io.TextIOWrapper
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert inspect(pipe_file).terminal.is_terminal is True


# --- a real stdout, in a child process ---


def test_child_stdout_pipe_is_block_buffered() -> None:
    done = run_child(env=child_env())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("stdout → fd 1 → ")
    assert lines[0].endswith(" (pipe)")
    if sys.platform == "linux":
        assert "pipe:[" in lines[0]
    assert lines[1].startswith("  TextIOWrapper  ")
    assert "line_buffering=False write_through=False" in lines[1]
    assert lines[2].startswith("  └ BufferedWriter  buffer_size=")
    assert lines[3] == "    └ FileIO  fd=1 mode='wb' closefd=False"
    assert "block-buffered" in done.stdout
    assert done.stderr == ""


def test_child_stdout_pipe_under_pythonunbuffered() -> None:
    done = run_child(env=child_env(PYTHONUNBUFFERED="1"))
    assert done.returncode == 0, done.stderr
    assert "BufferedWriter" not in done.stdout.split("why:")[0]
    assert "write_through=True" in done.stdout
    assert "  └ FileIO  fd=1 mode='wb' closefd=False" in done.stdout.splitlines()
    assert "PYTHONUNBUFFERED" in done.stdout


def test_child_stderr_is_line_buffered_into_a_pipe() -> None:
    done = run_child("stderr", env=child_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stderr → fd 2 → ")
    assert "line_buffering=True" in done.stdout
    assert "although it is not a tty" in done.stdout


def test_child_json() -> None:
    done = run_child("--json", env=child_env())
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["kind"] == "pipe"
    assert data["fd"] == 1
    assert [layer["name"] for layer in data["layers"]] == [
        "TextIOWrapper",
        "BufferedWriter",
        "FileIO",
    ]
    assert data["would"]["flush"] == "chunk"
    assert data["situations"] == ["pipe"]


# --- the command line, in-process ---


def test_cli_json_into_a_real_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    r, w = os.pipe()
    with open(w, "w", encoding="utf-8") as out, monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", out)
        assert main(["--json"]) == 0
    with open(r, encoding="utf-8") as reader:
        data = json.loads(reader.read())
    assert data["kind"] == "pipe"
    assert data["name"] == "stdout"
    assert data["redirected"] is True  # sys.stdout is not sys.__stdout__ here


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    ran = invoke(capsys, "--help")
    assert ran.code == 0
    assert ran.out.startswith("usage: outstream inspect ")
    for example in (
        "outstream inspect | cat",
        "outstream inspect stderr",
        "outstream inspect out.txt",
        "PYTHONUNBUFFERED=1 outstream inspect | cat",
    ):
        assert example in ran.out


def test_cli_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    ran = invoke(capsys, "a", "b")
    assert ran.code == 2
    assert ran.out == ""
    assert ran.err == (
        "outstream inspect: error: unrecognized arguments: b\ntry 'outstream inspect --help'\n"
    )


def test_cli_broken_pipe_is_quiet(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

        def fileno(self) -> int:
            raise io.UnsupportedOperation

    monkeypatch.setattr(sys, "stdout", Gone())
    assert main([]) == 0
    monkeypatch.undo()
    assert capsys.readouterr().err == ""


def test_cli_ascii_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["stdout"]) == 0
    out.flush()
    monkeypatch.undo()
    text = raw.getvalue().decode("ascii")
    assert text.startswith("stdout (in memory)\n  TextIOWrapper  encoding=ascii ")
    assert "\n  `- BytesIO\n" in text


# --- paths ---


def test_path_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "out.txt"
    path.write_text("keep me\n")
    before = os.stat(path)
    ran = invoke(capsys, str(path))
    assert ran.code == 0, ran
    lines = ran.out.splitlines()
    assert lines[0] == f"{path} → {os.path.realpath(path)} (regular file)"
    assert lines[1].startswith("  TextIOWrapper  encoding=")
    assert "errors=strict line_buffering=False write_through=False" in lines[1]
    with _pyio.open(path, "a", encoding="utf-8") as oracle:
        assert lines[2] == f"  └ BufferedWriter  buffer_size={oracle.buffer.buffer_size}"
    assert lines[3] == f"    └ FileIO  name={path} mode='wb' closefd=True"
    assert "flush=at the end  escapes=raw" in lines[4]
    after = os.stat(path)
    assert path.read_text() == "keep me\n"
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_path_fifo(tmp_path: Path) -> None:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    result = inspect_path(path, env={})  # returns at once: the FIFO is never opened
    assert result.kind is SinkKind.PIPE
    assert result.situations == (Situation.FIFO, Situation.PIPE)
    assert "waits until a reader opens it" in why(result)
    assert result.would is not None and result.would.flush == "chunk"
    assert result.format().splitlines()[0].endswith(" (FIFO)")


def test_path_missing_file_in_existing_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "new.txt"
    ran = invoke(capsys, str(path))
    assert ran.code == 0, ran
    assert "(regular file, not there yet)" in ran.out.splitlines()[0]
    assert "creates it" in ran.out
    assert not path.exists()
    result = inspect_path(path, env={})
    assert result.situations == (Situation.NEW_FILE, Situation.FILE)
    assert result.would is not None and result.would.flush == "end"


def test_path_missing_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nope" / "new.txt"
    ran = invoke(capsys, str(path))
    assert_one_line_error(ran, str(path), "no such directory")
    assert not path.parent.exists()


def test_path_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line_error(invoke(capsys, str(tmp_path)), "is a directory")


def test_path_dev_null(capsys: pytest.CaptureFixture[str]) -> None:
    ran = invoke(capsys, os.devnull)
    assert ran.code == 0
    assert ran.out.splitlines()[0] == f"{os.devnull} → /dev/null (character device, not a tty)"


@pytest.mark.pty
def test_path_tty(pty_slave: tuple[int, int]) -> None:
    _, slave = pty_slave
    result = inspect_path(os.ttyname(slave), env={"TERM": "xterm"})
    assert result.kind is SinkKind.TTY
    assert (result.terminal.width, result.terminal.height) == (100, 30)
    assert result.layers[0].get("line_buffering") is True
    assert result.would is not None and result.would.pace == "smooth(0.5 s)"
    assert result.format().splitlines()[0].endswith("(tty 100×30, TERM=xterm)")


def test_path_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ran = invoke(capsys, str(tmp_path / "new.txt"), "--json")
    assert ran.code == 0
    data = json.loads(ran.out)
    assert data["kind"] == "file"
    assert data["fd"] is None
    assert data["situations"] == ["new-file", "file"]


@pytest.mark.parametrize("cols", [44, 60, 80])
def test_on_a_narrow_terminal_the_report_fits_and_no_word_is_cut(cols: int) -> None:
    from outstream.testing import run_in_pty

    from ..clirun import child_env

    result = run_in_pty([sys.executable, "-m", "outstream", "inspect"], cols=cols, env=child_env())
    assert result.returncode == 0
    lines = result.output.decode().replace("\r\n", "\n").splitlines()
    assert lines and all(len(line) <= cols for line in lines), lines
    words = " ".join(lines).split()
    for word in ("line_buffering=True", "TextIOWrapper", "BufferedWriter", "FileIO", "why:"):
        assert word in words  # whole: a line ends between words
