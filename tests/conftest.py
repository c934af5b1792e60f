from __future__ import annotations

from collections.abc import Iterator

import pytest

from outstream.testing import RedisServer
from outstream.testing.redis_server import redis_server_path

# The stream log's tests run against a real redis-server (.ci/run installs it when missing).
needs_redis = pytest.mark.skipif(
    redis_server_path() is None, reason="redis-server is not installed"
)


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
    """Tests see neither the developer's terminal settings nor PYTHONUNBUFFERED."""
    for name in (
        "FORCE_COLOR",
        "NO_COLOR",
        "TERM",
        "COLUMNS",
        "LINES",
        "TTY_COMPATIBLE",
        "PYTHONUNBUFFERED",
    ):
        monkeypatch.delenv(name, raising=False)
