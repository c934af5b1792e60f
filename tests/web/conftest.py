"""A real uvicorn on a loopback port serving `outstream.web.app` (the redis-server is
the tests' own, from tests/conftest.py)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from outstream.cli.serve import listen
from outstream.relay import RedisLog
from outstream.testing import RedisServer


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    """Serve an ASGI app with uvicorn on 127.0.0.1; returns its base URL."""
    import uvicorn

    started: list[tuple[Any, threading.Thread, socket.socket]] = []

    def start(asgi: Any) -> str:
        # Listening before the server starts: a request made meanwhile waits in the backlog.
        listener = listen("127.0.0.1", 0)  # (as `outstream serve` listens)
        config = uvicorn.Config(asgi, log_level="warning", ws="none", lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
        thread.start()
        started.append((server, thread, listener))
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for server, thread, listener in started:
        server.should_exit = True
        thread.join()
        listener.close()


@pytest.fixture
def redis_log(redis_server: RedisServer) -> RedisLog:
    return RedisLog(redis_server.url)
