"""`chat_stream` and its asyncio twin `achat_stream` against the loopback LLM server: the
same chunks and the same failures, in the same words; closing the async one closes the
connection at once."""

from __future__ import annotations

import asyncio
import re
import socket

import pytest

from outstream.errors import SourceError
from outstream.sources.openai_http import Upstream, achat_stream, chat_stream
from outstream.testing.llm_server import Ending, LLMServer, Script

KEY = "sk-test-0123456789"


def both(request):
    """What each loop gave: (chunks, the error's message or None), without what differs
    from one response to the next (the completion's id and time)."""
    got = []
    for loop in (_sync, _async):
        chunks: list[object] = []
        try:
            loop(request, chunks)
        except SourceError as exc:
            error: str | None = re.sub(r"chatcmpl-[0-9a-f]+", "ID", str(exc))
        else:
            error = None
        unique = ("id", "created")
        same = [
            {k: v for k, v in c.items() if k not in unique} if isinstance(c, dict) else c
            for c in chunks
        ]
        got.append((same, error))
    return got


def _sync(request, chunks):
    chunks.extend(chat_stream(request))


def _async(request, chunks):
    async def read():
        async for chunk in achat_stream(request):
            chunks.append(chunk)

    asyncio.run(read())


def upstream(url: str, **fields) -> Upstream:
    return Upstream(base_url=url, model="m", api_key=KEY, **fields)


def test_both_loops_give_the_same_chunks_and_the_request_asked_for():
    script = Script(["Hel", "lo", " wörld"], reasoning=["hmm"])
    with LLMServer(script) as server:
        request = upstream(server.openai_base_url, system="be brief").request("hi")
        (sync, error), (async_, async_error) = both(request)
        sent = server.wait_for_requests(2)
    assert error is async_error is None
    assert sync == async_ and len(sync) > 4
    assert [r.body["messages"] for r in sent] == [
        [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    ] * 2
    assert {r.headers["authorization"] for r in sent} == {f"Bearer {KEY}"}


@pytest.mark.parametrize(
    ("fail", "fields"),
    [
        ("http_401", {}),
        ("http_404_model", {}),
        ("http_500", {}),
        ("http_502_text", {}),
        ("html", {}),
        ("redirect", {}),
        ("keepalive", {}),
        ("error_event", {"fail_after": 1}),
        ("disconnect", {"fail_after": 1}),
        ("malformed", {"fail_after": 1}),
        ("gzip_bomb", {}),
    ],
)
def test_both_loops_fail_alike_in_the_same_words(fail, fields):
    with LLMServer(Script(["a", "b"], fail=fail, **fields)) as server:
        (sync, error), (async_, async_error) = both(upstream(server.openai_base_url).request("q"))
    assert error is not None and error == async_error
    assert sync == async_
    assert KEY not in error


def test_nothing_listening_is_said_alike():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (_, error), (_, async_error) = both(upstream(f"http://127.0.0.1:{port}/v1").request("q"))
    assert error == async_error and error is not None and "nothing is listening" in error


def test_closing_the_async_stream_closes_the_connection_at_once():
    script = Script.steady([f"w{i} " for i in range(1000)], rate=20)
    with LLMServer(script) as server:

        async def read_one() -> object:
            stream = achat_stream(upstream(server.openai_base_url).request("q"))
            first = await anext(stream)
            await stream.aclose()
            return first

        assert asyncio.run(read_one())
        (sent,) = server.requests
        assert sent.wait(timeout=5) is Ending.CLIENT_CLOSED
        assert sent.n_pieces_sent < 100


def test_an_upstream_checks_its_model_and_url_and_shows_no_key():
    with pytest.raises(ValueError, match="model"):
        Upstream(base_url="http://127.0.0.1:1/v1", model="")
    with pytest.raises(ValueError, match="http:// or https://"):
        Upstream(base_url="ftp://x/v1", model="m")
    with pytest.raises(ValueError, match="query or fragment"):
        Upstream(base_url="http://127.0.0.1:1/v1?k=1", model="m")
    shown = repr(Upstream(base_url="http://u:pw@127.0.0.1:1/v1", model="m", api_key=KEY))
    assert KEY not in shown and ":pw@" not in shown
    request = Upstream(base_url="http://127.0.0.1:1/v1", model="m", system="s").request(
        "p", system=""
    )
    assert request.messages == [{"role": "user", "content": "p"}]  # "" replaces the default
