"""A real redis-server for the stream log's tests (``.ci/run`` installs it when missing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url
