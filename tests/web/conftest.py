"""A real uvicorn on a loopback port serving `outstream.web.app` (the redis-server is
the tests' own, from tests/conftest.py)."""

from __future__ import annotations

import os
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


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# The page's tests run in Debian's Chromium (.ci/run installs it when missing); nothing
# downloads a browser.
needs_chromium = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
    reason="chromium and chromium-driver are not installed",
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium, driven by Selenium through Debian's chromedriver; its
    performance log holds every request the pages made."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # (root in CI)
        "--disable-gpu",
        "--disable-dev-shm-usage",
        # Chromium's own traffic (updates, sync, safe browsing): none, on a closed network.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1000,800",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
