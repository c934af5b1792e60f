"""The README's app examples for iter_text, run as written: Streamlit under its own
`AppTest` harness, FastAPI over real HTTP, each against the loopback LLM server.

Real time here (the server, the app and the client each run their own way),
so these tests assert what the page and the body hold, not when.
"""

from __future__ import annotations

import contextlib
import pathlib
import re
import socket
import threading
from collections.abc import AsyncIterator

import pytest

from outstream.testing import LLMScript, LLMServer

README = pathlib.Path(__file__).parents[1] / "README.md"

# A model's answer in Markdown, with an escape sequence (a terminal title) in it.
ANSWER = [
    "The sky is **blue** because",
    " air scatters *short* waves\x1b]0;pwned\x07",
    " more:\n\n- the `λ⁻⁴` law\n",
    "- and sunsets are red\n",
]
SHOWN = "".join(ANSWER).replace("\x1b]0;pwned\x07", "")


def readme_example(needle: str) -> str:
    """The README's example in its "In an app" section that holds `needle`."""
    section = README.read_text(encoding="utf-8").split("## In an app: `iter_text`", 1)[1]
    section = section.split("\n## ", 1)[0]
    return next(b for b in re.findall(r"```python\n(.*?)```", section, re.S) if needle in b)


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A loopback server playing ANSWER, where OpenAI's clients look for one."""
    with LLMServer(LLMScript(ANSWER, interval=0.02)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        yield server


def test_the_streamlit_example_shows_the_whole_answer_as_markdown(model: LLMServer) -> None:
    from streamlit.testing.v1 import AppTest  # (the test extra has it: none of these skip)

    app = AppTest.from_string(readme_example("st.write_stream"), default_timeout=20)
    app.run()
    assert not app.exception
    assert [markdown.value for markdown in app.markdown] == [SHOWN.rstrip("\n")]
    assert app.caption[0].value.startswith(f"outstream: {len(SHOWN)} chars")


def test_the_fastapi_example_streams_the_answer_over_http_in_pieces(model: LLMServer) -> None:
    import httpx
    import uvicorn

    namespace: dict[str, object] = {}
    exec(compile(readme_example("StreamingResponse"), "README.md", "exec"), namespace)
    # Listening before the server starts: a request made meanwhile waits in the backlog.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    app, client = namespace["app"], namespace["client"]

    @contextlib.asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[None]:
        yield
        # The example's client keeps a connection to the model for the next request: it
        # is closed with the server's loop (uvloop will not close a loop that has one).
        await client.close()  # type: ignore[attr-defined]

    app.router.lifespan_context = lifespan  # type: ignore[attr-defined]
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{port}/answer"
        with httpx.stream("GET", url, params={"q": "Why is the sky blue?"}, timeout=20) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/plain; charset=utf-8"
            pieces = list(response.iter_text())
    finally:
        server.should_exit = True
        thread.join()
        listener.close()
    assert "".join(pieces) == SHOWN
    assert len(pieces) > 1  # paced as it came, not buffered whole
