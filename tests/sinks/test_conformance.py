"""`outstream.testing.check_sink` against every kind of output, on real pipes, files, ptys, sockets."""

from __future__ import annotations

import io
import os
import select
import socket
from collections.abc import Callable

import pytest

from outstream.testing import MemorySink, Output, check_sink


def _drain(fd: int, seen: bytearray) -> Callable[[], bytes]:
    def read() -> bytes:
        while select.select([fd], [], [], 0)[0]:
            try:
                data = os.read(fd, 65536)
            except OSError:  # a pty's master once the slave is closed
                break
            if not data:
                break
            seen.extend(data)
        return bytes(seen)

    return read


def pipe(mode: str) -> Output:
    r, w = os.pipe()
    file = open(w, mode, **({} if "b" in mode else {"encoding": "utf-8"}))  # noqa: SIM115
    seen = bytearray()
    read = _drain(r, seen)

    def close() -> None:
        file.close()
        os.close(r)

    return Output(file=file, read=read, close=close)


def regular_file(tmp_path, mode: str) -> Output:
    path = tmp_path / f"out-{len(list(tmp_path.iterdir()))}.txt"
    file = open(path, mode, **({} if "b" in mode else {"encoding": "utf-8"}))  # noqa: SIM115
    return Output(file=file, read=path.read_bytes, close=file.close)


def raw_file(tmp_path) -> Output:
    path = tmp_path / f"raw-{len(list(tmp_path.iterdir()))}.txt"
    file = open(path, "wb", buffering=0)  # noqa: SIM115
    return Output(file=file, read=path.read_bytes, close=file.close)


def pty_output() -> Output:
    import pty
    import termios
    import tty

    master, slave = pty.openpty()
    tty.setraw(slave)  # no \n -> \r\n translation: bytes read equal bytes written
    attrs = termios.tcgetattr(slave)
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    file = open(slave, "w", encoding="utf-8")  # noqa: SIM115
    seen = bytearray()

    def close() -> None:
        file.close()
        os.close(master)

    return Output(file=file, read=_drain(master, seen), close=close)


def socket_output() -> Output:
    a, b = socket.socketpair()
    file = a.makefile("wb")
    seen = bytearray()

    def close() -> None:
        file.close()
        a.close()
        b.close()

    return Output(file=file, read=_drain(b.fileno(), seen), close=close)


def devnull() -> Output:
    file = open(os.devnull, "w")  # noqa: SIM115
    return Output(file=file, read=None, close=file.close)


def string_io() -> Output:
    file = io.StringIO()
    return Output(file=file, read=lambda: file.getvalue().encode(), close=lambda: None)


def bytes_io() -> Output:
    file = io.BytesIO()
    return Output(file=file, read=file.getvalue, close=lambda: None)


def memory_sink() -> Output:
    file = MemorySink()
    return Output(file=file, read=lambda: file.getvalue().encode(), close=lambda: None)


OUTPUTS = {
    "pipe, text": lambda tmp_path: pipe("w"),
    "pipe, binary": lambda tmp_path: pipe("wb"),
    "file, text": lambda tmp_path: regular_file(tmp_path, "w"),
    "file, binary": lambda tmp_path: regular_file(tmp_path, "wb"),
    "file, raw FileIO": raw_file,
    "pty": lambda tmp_path: pty_output(),
    "socket": lambda tmp_path: socket_output(),
    "/dev/null": lambda tmp_path: devnull(),
    "StringIO": lambda tmp_path: string_io(),
    "BytesIO": lambda tmp_path: bytes_io(),
    "MemorySink": lambda tmp_path: memory_sink(),
}


@pytest.mark.parametrize("kind", OUTPUTS)
def test_every_kind_of_output_conforms(kind, tmp_path):
    check_sink(lambda: OUTPUTS[kind](tmp_path))


def test_the_suite_catches_an_output_that_loses_text(tmp_path):
    class Lossy(io.StringIO):
        def write(self, s: str) -> int:
            return super().write(s[:-1])

    def lossy() -> Output:
        file = Lossy()
        return Output(file=file, read=lambda: file.getvalue().encode(), close=lambda: None)

    with pytest.raises(AssertionError, match="reader saw"):
        check_sink(lossy)
