"""A real uvicorn on a loopback port serving `outstream.web.app`, on a real redis-server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from outstream.relay import RedisLog
from outstream.testing import RedisServer
from outstream.testing.redis_server import redis_server_path

needs_redis = pytest.mark.skipif(
    redis_server_path() is None, reason="redis-server is not installed"
)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    """Serve an ASGI app with uvicorn on 127.0.0.1; returns its base URL."""
    import uvicorn

    started: list[tuple[Any, threading.Thread, socket.socket]] = []

    def start(asgi: Any) -> str:
        # Listening before the server starts: a request made meanwhile waits in the backlog.
        listener = socket.create_server(("127.0.0.1", 0))
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
