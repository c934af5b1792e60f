"""examples/fastapi_app.py, served by uvicorn as its user runs it (a process of its own),
and read over real HTTP by httpx.

Real time here (the model, the server and the client each run their own way), so
these tests assert what the body holds and what the model saw, not when.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from outstream.testing import Ending, LLMScript, LLMServer

from ..conftest import free_port
from .conftest import CLEAR, EXAMPLES, QUESTION, SHOWN, TITLE, app_env, never_torn


@pytest.fixture
def serve(model: LLMServer) -> Iterator[str]:
    """`uvicorn fastapi_app:app` in examples/, and its URL once it listens."""
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "fastapi_app:app", "--port", str(port)],
        cwd=EXAMPLES,
        env=app_env(),
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        assert server.stderr is not None
        try:
            for line in server.stderr:  # uvicorn logs its startup on stderr
                if "Uvicorn running on" in line:
                    break
            else:
                pytest.fail(f"uvicorn ended before it listened: {server.wait()}")
            yield f"http://127.0.0.1:{port}"
            server.send_signal(signal.SIGINT)  # Ctrl-C: it stops cleanly
            rest = server.stderr.read()
            assert server.wait(10) == 0
            assert "Traceback" not in rest
        finally:
            server.kill()


def test_the_answer_comes_over_http_in_pieces_without_escapes(serve: str) -> None:
    with httpx.stream("GET", f"{serve}/answer", params={"q": QUESTION}, timeout=20) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        pieces = list(response.iter_text())
    assert "".join(pieces) == SHOWN
    assert TITLE not in SHOWN and CLEAR not in SHOWN
    assert len(pieces) > 1  # paced as it came, not buffered whole
    assert all(never_torn(piece) for piece in pieces)  # no piece ends inside a character


def test_a_client_that_hangs_up_stops_the_model(model: LLMServer, serve: str) -> None:
    model.set_script(LLMScript.steady(["word "] * 1000, rate=50))  # 20 s of answer
    with httpx.stream("GET", f"{serve}/answer", params={"q": QUESTION}, timeout=20) as response:
        first = next(response.iter_text())
    assert first and set(first) <= set("word ")
    # The server noticed, cancelled the stream and closed the model's: the model saw
    # its client (the example's OpenAI client) hang up long before its answer's end.
    (request,) = model.wait_for_requests(1)
    assert request.wait(10) is Ending.CLIENT_CLOSED
    assert request.n_pieces_sent < 500
