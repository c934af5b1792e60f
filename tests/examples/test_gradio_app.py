"""examples/gradio_app.py, run as its user runs it (`python gradio_app.py`, a process of
its own), and driven over HTTP by Gradio's own client (`gradio_client`), which takes
each message so far as the page does.

Real time here, so these tests assert what the chat shows and what the model saw, not when.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator

import pytest
from gradio_client import Client

from outstream.testing import Ending, LLMScript, LLMServer

from ..conftest import free_port
from .conftest import CLEAR, EXAMPLES, QUESTION, SCRIPT, SHOWN, TITLE, app_env, never_torn

# Gradio takes seconds to import: one app serves this module's tests, each test a
# visitor of its own (a client of its own: a conversation of its own).
pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def model() -> Iterator[LLMServer]:
    """The loopback model playing ANSWER (the app is told where by its environment)."""
    with LLMServer(SCRIPT) as server:
        yield server


@pytest.fixture(scope="module")
def app(model: LLMServer) -> Iterator[str]:
    """`python gradio_app.py` on a loopback port; its URL once it listens."""
    port = free_port()
    env = app_env(
        OPENAI_BASE_URL=model.openai_base_url,
        OPENAI_API_KEY="sk-test",
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",  # no telemetry, no version check
    )
    with subprocess.Popen(
        [sys.executable, "gradio_app.py"],
        cwd=EXAMPLES,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        try:
            for line in process.stdout:  # Gradio prints its URL once it listens
                if "Running on local URL" in line:
                    break
            else:
                pytest.fail(f"the app ended before it listened: {process.wait()}")
            yield f"http://127.0.0.1:{port}/"
        finally:
            process.kill()


@pytest.fixture
def chat(app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """Gradio's client, on a conversation of its own."""
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")  # the client's telemetry too
    client = Client(app, verbose=False)
    yield client
    client.close()


def test_the_chat_shows_the_answer_growing_without_escapes(chat: Client) -> None:
    job = chat.submit(QUESTION, api_name="/respond")
    answer = job.result(timeout=20)
    shown = job.outputs()  # every message so far that the page was sent
    assert answer == shown[-1] == SHOWN
    assert len(shown) > 2
    assert all(a != b and b.startswith(a) for a, b in itertools.pairwise(shown))  # it grows
    assert not any(TITLE in s or CLEAR in s or "pwned" in s for s in shown)
    assert all(never_torn(s) for s in shown)  # never half a character on screen


def test_the_next_question_is_asked_with_the_conversation_so_far(
    chat: Client, model: LLMServer
) -> None:
    chat.submit(QUESTION, api_name="/respond").result(timeout=20)
    assert chat.submit("And at night?", api_name="/respond").result(timeout=20) == SHOWN
    assert model.requests[-1].body["messages"] == [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": SHOWN},  # as shown: without the escapes
        {"role": "user", "content": "And at night?"},
    ]


def test_stop_hangs_up_on_the_model(chat: Client, model: LLMServer) -> None:
    model.set_script(LLMScript.steady(["word "] * 1000, rate=50))  # 20 s of answer
    try:
        n_asked = len(model.requests)
        job = chat.submit("Tell me a long story", api_name="/respond")
        request = model.wait_for_requests(n_asked + 1)[-1]
        assert set(next(iter(job))) <= set("word ")  # the story has begun on the page
        job.cancel()  # the chat's Stop button
        assert request.wait(10) is Ending.CLIENT_CLOSED
        assert request.n_pieces_sent < 500
    finally:
        model.set_script(SCRIPT)
