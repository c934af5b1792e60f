from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from outstream.testing import RedisServer
from outstream.testing.redis_server import redis_server_path

# The stream log's tests run against a real redis-server (.ci/run installs it when missing).
needs_redis = pytest.mark.skipif(
    redis_server_path() is None, reason="redis-server is not installed"
)


def outstream(*argv: str, **kw: Any) -> subprocess.Popen[str]:
    """The CLI in a process of its own, text pipes on stdout and stderr (`env`: more
    variables; unbuffered, so that a test reads each line as it is written)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **kw.pop("env", {})}
    return subprocess.Popen(
        [sys.executable, "-m", "outstream", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kw,
    )


def free_port() -> int:
    """A loopback port nobody listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Producer(threading.Thread):
    """`outstream.relay.publish` in a thread of its own, started at once; `created` is set
    (and the constructor returns) once the stream is in the log; `errors` holds what
    `publish` raised."""

    def __init__(self, source: Iterable[Any], log: Any, id: str) -> None:
        super().__init__(daemon=True)
        self.created = threading.Event()
        self.errors: list[BaseException] = []
        self._args = (source, log, id)
        self.start()
        assert self.created.wait(10)

    def run(self) -> None:
        from outstream.relay import publish

        try:
            publish(*self._args, on_created=lambda _: self.created.set())
        except BaseException as exc:  # the test asserts on it
            self.errors.append(exc)
            self.created.set()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of the module's own, on a loopback port."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see neither the developer's terminal settings nor PYTHONUNBUFFERED, nor their
    outstream settings (OUTSTREAM_<OPTION>, ~/.config/outstream/config.toml)."""
    for name in (
        "FORCE_COLOR",
        "NO_COLOR",
        "TERM",
        "COLUMNS",
        "LINES",
        "TTY_COMPATIBLE",
        "PYTHONUNBUFFERED",
        *(n for n in os.environ if n.startswith("OUTSTREAM_") and n != "OUTSTREAM_SCREENSHOTS"),
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OUTSTREAM_CONFIG", os.devnull)
