"""Tests for outstream.sinks: writing to real streams, flushing, failures, detection.

Real components throughout: os.pipe pipes, tmp_path files, /dev/null and
/dev/full, a pty slave, and a child process whose stdin and stdout are pipes.
"""

from __future__ import annotations

import contextlib
import io
import os
import select
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

import outstream
from outstream.sinks.detect import SinkKind, is_terminal, sink_kind

TEXT = "héllo wörld ✓ 日本語 👍🏽\nsecond line\n"


# --- helpers ---


def child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def read_until(fd: int, expected: bytes, timeout: float = 10.0) -> bytes:
    """Read `fd` until exactly `expected` has come; fail if it does not come in time."""
    data = b""
    while len(data) < len(expected):
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, f"waited {timeout} s for {expected!r}; got only {data!r}: buffered?"
        chunk = os.read(fd, len(expected) - len(data))
        assert chunk, f"EOF after {data!r}"
        data += chunk
    return data


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        with contextlib.suppress(OSError):
            os.close(fd)


# --- text and binary streams ---


def test_text_stream(tmp_path):
    out = io.StringIO()
    result = outstream.stream(TEXT, file=out, env={})
    assert out.getvalue() == TEXT
    assert result.text == TEXT
    assert result.reader_gone is False


def test_text_file_in_another_encoding(tmp_path):
    path = tmp_path / "out.txt"
    with open(path, "w", encoding="latin-1") as f:
        outstream.stream("café crème\n", file=f, env={})
    assert path.read_bytes() == "café crème\n".encode("latin-1")


def test_binary_stream_gets_utf8():
    out = io.BytesIO()
    outstream.stream(TEXT, file=out, env={})
    assert out.getvalue() == TEXT.encode()


def test_binary_stream_gets_whole_characters_from_split_bytes():
    out = io.BytesIO()
    data = TEXT.encode()
    outstream.stream([data[i : i + 1] for i in range(len(data))], file=out, env={})
    assert out.getvalue() == data


def test_raw_file_io(tmp_path):
    path = tmp_path / "out.bin"
    big = TEXT * 5_000
    with open(path, "wb", buffering=0) as raw:
        outstream.stream(big, file=raw, env={})
    assert path.read_bytes() == big.encode()


def test_closed_file_is_a_sink_error_saying_so(tmp_path):
    path = tmp_path / "out.txt"
    f = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed on purpose
    f.close()
    with pytest.raises(outstream.SinkError) as caught:
        outstream.stream("text", file=f, env={})
    message = str(caught.value)
    assert str(path) in message
    assert "closed" in message


def test_closed_memory_stream_is_a_sink_error():
    out = io.StringIO()
    out.close()
    with pytest.raises(outstream.SinkError, match="closed"):
        outstream.stream("text", file=out, env={})


def test_full_device_is_a_sink_error_naming_it():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    f = open("/dev/full", "w", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        with pytest.raises(outstream.SinkError) as caught:
            outstream.stream("some text\n", file=f, env={})
    finally:
        with contextlib.suppress(OSError):  # its buffer still holds what could not be written
            f.close()
    assert str(caught.value) == "cannot write to /dev/full: No space left on device"


# --- a regular file: complete at the end, flushed once ---


def test_regular_file_is_complete_and_flushed_once(tmp_path):
    path = tmp_path / "copy.log"
    chunks = [f"line {i}: ünïcode ✓\n" for i in range(5_000)]
    with open(path, "w", encoding="utf-8") as f:
        result = outstream.stream(iter(chunks), file=f, env={})
        # Complete when stream() returns, before the file is closed.
        assert path.read_text(encoding="utf-8") == "".join(chunks)
    assert result.stats.n_flushes == 1
    assert result.stats.n_chars == sum(map(len, chunks))


def test_binary_regular_file_is_flushed_once(tmp_path):
    path = tmp_path / "copy.bin"
    with open(path, "wb") as f:
        result = outstream.stream(iter([TEXT] * 1_000), file=f, env={})
        assert path.read_bytes() == TEXT.encode() * 1_000
    assert result.stats.n_flushes == 1


# --- a pipe: each chunk reaches the reader at once ---


def test_child_pipe_passes_each_chunk_on_at_once():
    # Both directions: outstream must read its stdin as data arrives and flush
    # its stdout per chunk. Python's own buffering is in play (no
    # PYTHONUNBUFFERED), so a missing flush or a read that waits for EOF
    # would leave the reader waiting here.
    with subprocess.Popen(
        [sys.executable, "-m", "outstream"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            for i in range(3):
                chunk = f"chunk {i}: ünïcode ✓\n".encode()
                os.write(proc.stdin.fileno(), chunk)
                assert read_until(proc.stdout.fileno(), chunk) == chunk
            os.write(proc.stdin.fileno(), b"no newline")
            assert read_until(proc.stdout.fileno(), b"no newline") == b"no newline"
            rest, err = proc.communicate(timeout=20)  # closes stdin: EOF
        finally:
            if proc.poll() is None:
                proc.kill()
    assert rest == b""
    assert err == b""
    assert proc.returncode == 0


def test_library_writer_into_a_pipe_flushes_each_chunk(pipe):
    r, w = pipe
    with open(w, "w", encoding="utf-8", closefd=False) as f, outstream.Writer(f, env={}) as writer:
        for i in range(3):
            chunk = f"chunk {i} ✓\n"
            writer.write(chunk)
            assert read_until(r, chunk.encode()) == chunk.encode()
    assert writer.result.text == "".join(f"chunk {i} ✓\n" for i in range(3))


# --- a reader that goes away ---


@pytest.mark.parametrize("mode", ["text", "binary"])
def test_reader_gone_closes_the_generator(pipe, mode):
    r, w = pipe
    os.close(r)
    closed = threading.Event()
    produced = 0

    def chunks() -> Iterator[str]:
        nonlocal produced
        try:
            for i in range(1_000_000):
                produced += 1
                yield f"line {i}\n"
        finally:
            closed.set()

    f = open(w, "w" if mode == "text" else "wb", closefd=False)  # noqa: SIM115
    try:
        result = outstream.stream(chunks(), file=f, env={})
        # "The source is closed": its cleanup has run when stream() returns.
        assert closed.is_set()
    finally:
        with contextlib.suppress(BrokenPipeError):
            f.close()
    assert result.reader_gone is True
    assert produced < 1_000_000


def test_reader_gone_closes_the_async_generator(pipe):
    import asyncio

    r, w = pipe
    os.close(r)
    closed = False

    async def chunks():
        nonlocal closed
        try:
            for i in range(1_000_000):
                yield f"line {i}\n"
                await asyncio.sleep(0)
        finally:
            closed = True

    f = open(w, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    try:
        result = asyncio.run(outstream.astream(chunks(), file=f, env={}))
    finally:
        with contextlib.suppress(BrokenPipeError):
            f.close()
    assert result.reader_gone is True
    assert closed is True


# --- detection ---


def test_sink_kind_of_a_pipe(pipe):
    _r, w = pipe
    with open(w, "wb", closefd=False) as f:
        assert sink_kind(f) is SinkKind.PIPE


def test_sink_kind_of_a_regular_file(tmp_path):
    with open(tmp_path / "f.txt", "w", encoding="utf-8") as f:
        assert sink_kind(f) is SinkKind.FILE


def test_sink_kind_of_dev_null():
    with open(os.devnull, "w", encoding="utf-8") as f:
        assert sink_kind(f) is SinkKind.CHARDEV
        assert is_terminal(f, env={}) is False


def test_sink_kind_of_memory_streams():
    assert sink_kind(io.StringIO()) is SinkKind.MEMORY
    assert sink_kind(io.BytesIO()) is SinkKind.MEMORY


@pytest.mark.pty
def test_pty_slave_is_a_terminal():
    import pty

    master, slave = pty.openpty()
    try:
        with open(slave, "w", encoding="utf-8") as f:
            assert sink_kind(f) is SinkKind.TTY
            assert is_terminal(f, env={}) is True
            assert is_terminal(f, env={"TTY_COMPATIBLE": "0"}) is False
            assert is_terminal(f, env={"TTY_COMPATIBLE": "0"}, force=True) is True
    finally:
        os.close(master)


def test_tty_compatible_overrides_detection(pipe):
    _r, w = pipe
    with open(w, "w", encoding="utf-8", closefd=False) as f:
        assert is_terminal(f, env={}) is False
        assert is_terminal(f, env={"TTY_COMPATIBLE": "1"}) is True
        assert is_terminal(f, env={"TTY_COMPATIBLE": "1"}, force=False) is False
    assert is_terminal(io.StringIO(), env={"TTY_COMPATIBLE": "1"}) is True
    assert is_terminal(io.StringIO(), env={"TTY_COMPATIBLE": "yes"}) is False


def test_stream_closed_for_detection_is_not_a_terminal(tmp_path):
    f = open(tmp_path / "f.txt", "w", encoding="utf-8")  # noqa: SIM115 - closed on purpose
    f.close()
    assert is_terminal(f, env={}) is False
    assert sink_kind(f) is SinkKind.UNKNOWN


def test_a_terminal_gets_an_ascii_compatible_encoding_or_a_usage_error(tmp_path):
    """UTF-16 or EBCDIC bytes on a terminal are other characters, controls among them,
    made after the sanitizer ran: refused for a terminal, fine for a file or a pipe."""
    import pty

    from outstream.errors import UsageError
    from outstream.sinks.stream import StreamSink, ascii_compatible

    assert [ascii_compatible(e) for e in ("utf-8", "latin-1", "cp1252", "gbk", "shift_jis")] == [
        True
    ] * 5
    assert [ascii_compatible(e) for e in ("utf-16", "utf-16-le", "utf-32", "cp037", "nope")] == [
        False
    ] * 5
    master, slave = pty.openpty()
    try:
        with open(slave, "wb", closefd=False) as tty:
            with pytest.raises(UsageError, match="utf-16 is not ASCII-compatible"):
                StreamSink(tty, encoding="utf-16")
            StreamSink(tty, encoding="latin-1").close()
        with open(tmp_path / "f", "wb") as file:
            StreamSink(file, encoding="utf-16").close()
        from outstream.cli import main

        name = os.ttyname(slave)
        # A usage error before anything is opened: the file named first is not created.
        with pytest.raises(SystemExit) as info:
            main(["--encoding", "cp500", "--to", str(tmp_path / "g"), "--to", name, "hi"])
        assert info.value.code == 2 and not (tmp_path / "g").exists()
        assert main(["--encoding", "latin-1", "--instant", "--to", name, "hi"]) == 0
    finally:
        os.close(master)
        os.close(slave)
