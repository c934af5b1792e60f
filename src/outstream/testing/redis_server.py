"""A real ``redis-server`` of a test's own: a loopback port, a directory, stopped at the end.

    with RedisServer(tmp_path) as redis:
        log = outstream.relay.RedisLog(redis.url)

`restart` stops it and starts it again on the same port and directory;
with ``appendonly=True`` what was written survives, as on a server that
persists (``appendfsync always``). `kill` is a crash (SIGKILL).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from typing import IO, Any

__all__ = ["RedisServer", "redis_server_path"]


def redis_server_path() -> str | None:
    """Where ``redis-server`` is, or None (Debian: ``apt-get install redis-server``)."""
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """``redis-server`` on 127.0.0.1, its files in `directory`.

    Args:
        directory: where its files go (a test's ``tmp_path``).
        appendonly: persist every write (``appendonly yes``,
            ``appendfsync always``), so that a restart keeps the data.
        port: a port of its choosing by default.
    """

    def __init__(
        self, directory: str | os.PathLike[str], *, appendonly: bool = False, port: int = 0
    ) -> None:
        path = redis_server_path()
        if path is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self._path = path
        self.directory = os.fspath(directory)
        self.appendonly = appendonly
        self.port = port or _free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> None:
        """Start it, and return when it accepts connections (it says so on stdout)."""
        argv = [
            self._path, "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", self.directory, "--save", "", "--daemonize", "no",
            "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "always",
            "--loglevel", "notice", "--maxclients", "4000",
        ]  # fmt: skip
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._process = process
        assert process.stdout is not None
        said = _wait_for_ready(process.stdout)
        if said is not None:
            self.stop()
            raise RuntimeError(f"redis-server did not start: {said}")

    def stop(self) -> None:
        """Stop it (SIGTERM: it writes what it persists), and wait."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def kill(self) -> None:
        """SIGKILL: a crash."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self.stop()

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _wait_for_ready(stdout: IO[bytes]) -> str | None:
    """Read the server's log until it is ready (None), or it ended (its last lines)."""
    lines: list[str] = []
    for raw in iter(stdout.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip()
        if "Ready to accept connections" in line:
            # Nothing more is read from the pipe: a few more lines fit its buffer,
            # and the server logs little (notice level) while a test runs.
            return None
        lines.append(line)
    return " / ".join(lines[-3:]) or "it exited"
