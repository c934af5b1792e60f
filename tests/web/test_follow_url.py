"""Following a stream by its URL (`outstream.relay.http`, ``outstream follow URL``): the
events of `outstream.web.app`, on real uvicorn and a real Redis, read back as the log's
entries; connections cut, servers that fail, stop and come back, tokens, and the command
line across processes."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import threading
from collections.abc import Callable
from typing import Any

import pytest

from outstream.errors import RelayError, SourceError, StreamNotFound, UsageError
from outstream.relay import MemoryLog, RedisLog, Unreachable, follow, new_id, publish, text_of
from outstream.relay.http import afollow_url, cancel_url, follow_url, stream_url
from outstream.web import app

from ..conftest import Producer, free_port, needs_redis
from ..conftest import outstream as run_cli
from .test_app import WORDS, paced

pytestmark = needs_redis

Asgi = Callable[..., Any]


def published(log_url: str, text: list[str], id: str | None = None) -> str:
    id = id or new_id()
    publish(iter(text), RedisLog(log_url), id)
    return id


# --- the URL ---


@pytest.mark.parametrize(
    ("url", "root", "id", "token"),
    [
        ("http://h:8787/v1/streams/abc", "http://h:8787", "abc", None),
        ("https://h/v1/streams/abc/events", "https://h", "abc", None),
        ("http://h/s/abc", "http://h", "abc", None),
        ("http://h/s/abc#token=t0k", "http://h", "abc", "t0k"),
        ("http://h/v1/streams/abc/?token=t0k", "http://h", "abc", "t0k"),
        ("http://u:pw@h/answers/v1/streams/a.b-c_d", "http://u:pw@h/answers", "a.b-c_d", None),
        ("HTTP://h/s/abc/", "http://h", "abc", None),
    ],
)
def test_a_stream_url_names_the_server_and_the_stream(url, root, id, token):
    named = stream_url(url)
    assert (named.root, named.id, named.token) == (root, id, token)
    assert named.events == f"{root}/v1/streams/{id}/events"
    assert "pw" not in named.shown and "t0k" not in named.shown + repr(named)


@pytest.mark.parametrize(
    "url",
    [
        "http://h/v1/streams/",
        "http://h/v1/streams/a/text",
        "http://h/v1/streams/a b",
        "http://h/x/abc",
        "ftp://h/v1/streams/abc",
        "http:///v1/streams/abc",
        "http://h:port/v1/streams/abc",
    ],
)
def test_a_url_that_names_no_stream_is_a_usage_error(url):
    with pytest.raises(UsageError):
        stream_url(url)


# --- following a URL ---


def test_a_url_gives_the_entries_that_following_the_log_gives(serve, redis_log, redis_url):
    id = published(redis_url, ["Hello, ", "wörld"])
    base = serve(app(redis_log))
    expected = list(follow(RedisLog(redis_url), id))
    assert [e.record for e in expected][-1] == {"t": expected[-1].record["t"], "end": True}
    for url in [f"{base}/v1/streams/{id}", f"{base}/v1/streams/{id}/events", f"{base}/s/{id}"]:
        assert list(follow_url(url)) == expected

    async def read() -> list[Any]:
        return [entry async for entry in afollow_url(f"{base}/s/{id}")]

    assert asyncio.run(read()) == expected
    assert list(text_of(follow_url(f"{base}/s/{id}"))) == ["Hello, wörld"]
    after = list(follow_url(f"{base}/v1/streams/{id}", after=expected[0].id))
    assert [e.record for e in after] == [e.record for e in expected[1:]]


class Cutting:
    """Cuts each event stream once `every` events were sent, as a proxy or a lost network
    does (the app is told its client went away); notes the Last-Event-ID of each request,
    and the last id each cut stream sent."""

    def __init__(self, asgi: Asgi, every: int) -> None:
        self.asgi, self.every = asgi, every
        self.resumed_from: list[str | None] = []
        self.cut_after: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/events"):
            return await self.asgi(scope, receive, send)
        last = dict(scope["headers"]).get(b"last-event-id")
        self.resumed_from.append(last.decode() if last else None)
        n_events = 0
        cut = False

        async def sending(message: Any) -> None:
            nonlocal n_events, cut
            if cut:
                raise OSError("cut")  # (what uvicorn raises for a client that went away)
            body = message.get("body", b"")
            n_events += body.count(b"event: ")  # (a write may carry several)
            await send(message)
            if n_events >= self.every and message.get("more_body") and b"event: end" not in body:
                cut = True
                self.cut_after.append(re.findall(rb"^id: (.*)$", body, re.M)[-1].decode())
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        try:
            await self.asgi(scope, receive, sending)
        except Exception:
            if not cut:
                raise


@pytest.mark.parametrize("loop", ["sync", "async"])
def test_a_connection_cut_again_and_again_goes_on_after_the_last_entry(serve, redis_log, loop):
    cutting = Cutting(app(redis_log, retry=0.01, heartbeat=0.2), every=3)
    base = serve(cutting)
    id = new_id()
    producer = Producer(paced(WORDS), RedisLog(redis_log.url), id)
    url = f"{base}/v1/streams/{id}"
    if loop == "sync":
        entries = list(follow_url(url))
    else:

        async def read() -> list[Any]:
            return [entry async for entry in afollow_url(url)]

        entries = asyncio.run(read())
    producer.join()
    assert "".join(e.record.get("text", "") for e in entries) == "".join(WORDS)
    assert entries[-1].kind == "end"
    ids = [e.id for e in entries]
    assert len(ids) == len(set(ids)) == len(entries) > 6
    # each new connection asked for what came after the last entry received
    assert len(cutting.resumed_from) > 2
    assert cutting.resumed_from == [None, *cutting.cut_after]


def failing(asgi: Asgi, statuses: list[int]) -> Asgi:
    """Answers the first event streams asked for with these statuses (a proxy whose
    backend is down), then lets the app answer."""

    async def route(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/events") and statuses:
            status = statuses.pop(0)
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b"<h1>bad gateway</h1>"})
            return
        await asgi(scope, receive, send)

    return route


def test_a_server_that_answers_5xx_for_a_while_is_tried_again(serve, redis_log, redis_url):
    id = published(redis_url, ["after ", "a while"])
    statuses = [502, 503, 500]
    base = serve(failing(app(redis_log), statuses))
    assert "".join(text_of(follow_url(f"{base}/v1/streams/{id}"))) == "after a while"
    assert statuses == []


def test_an_unknown_stream_is_stream_not_found_and_names_the_url_without_secrets(serve, redis_log):
    base = serve(app(redis_log))
    port = base.rsplit(":", 1)[1]
    with pytest.raises(StreamNotFound) as caught:
        list(follow_url(f"http://me:pa55word@127.0.0.1:{port}/v1/streams/nobody?token=t0ken"))
    assert str(caught.value) == (
        f"no stream at http://127.0.0.1:{port}/v1/streams/nobody: never published, or expired"
    )
    with pytest.raises(StreamNotFound, match=r"no stream at .*/v1/streams/nobody: never"):
        cancel_url(f"{base}/v1/streams/nobody")
    # a 404 that is not the app's: the URL is wrong, not the id
    with pytest.raises(StreamNotFound) as caught:
        list(follow_url(f"{base}/mounted/elsewhere/v1/streams/nobody"))
    assert str(caught.value) == (
        f"{base}/mounted/elsewhere/v1/streams/nobody: HTTP 404, and not an answer of "
        "'outstream serve' (Not Found): is the URL right?"
    )


def test_a_server_that_cannot_be_reached_is_said_soon_in_one_line():
    port = free_port()
    with pytest.raises(Unreachable) as caught:
        list(follow_url(f"http://127.0.0.1:{port}/v1/streams/x"))
    assert str(caught.value) == (
        f"cannot reach http://127.0.0.1:{port}/v1/streams/x: connection refused"
    )
    with pytest.raises(Unreachable, match="connection refused"):
        cancel_url(f"http://127.0.0.1:{port}/s/x")


def test_a_trimmed_place_resyncs_with_the_text_so_far(serve):
    log = MemoryLog(maxlen=3)
    id = "trimmed"

    async def produce() -> None:
        await log.create(id, "me", {})
        for i in range(10):
            await log.append(id, "me", i + 1, [{"t": i, "text": f"{i} "}], final=False)
        await log.append(id, "me", 11, [{"t": 10, "end": True}], final=True)

    asyncio.run(produce())
    base = serve(app(log))
    entries = list(follow_url(f"{base}/v1/streams/{id}", after="2-0"))
    assert entries[0].kind == "resync"
    assert "".join(text_of(follow_url(f"{base}/v1/streams/{id}", after="2-0"))) == (
        "0 1 2 3 4 5 6 7 8 9 "
    )


def test_from_now_gives_only_what_is_still_to_come(serve):
    log = MemoryLog()
    id = "now"
    asked = threading.Event()

    async def noting(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/events"):
            asked.set()
        await served(scope, receive, send)

    served = app(log, heartbeat=0.2)
    base = serve(noting)
    asyncio.run(log.create(id, "me", {}))
    asyncio.run(log.append(id, "me", 1, [{"t": 0, "text": "before "}]))
    got: list[str] = []
    reader = threading.Thread(
        target=lambda: got.extend(text_of(follow_url(f"{base}/s/{id}", from_now=True)))
    )
    reader.start()
    assert asked.wait(10)  # it read where "now" is, and asks for what comes after
    asyncio.run(log.append(id, "me", 2, [{"t": 1, "text": "after"}, {"t": 2, "end": True}]))
    reader.join(10)
    assert got == ["after"]
    assert list(follow_url(f"{base}/s/{id}", from_now=True)) == []  # it has ended


# --- a token ---

TOKEN = "s3cret-t0ken"


def guarded(asgi: Asgi) -> Asgi:
    """Only with ``Authorization: Bearer TOKEN`` (or ``?token=``), as ``serve --token T
    --token-for-reading`` will; a refusal that quotes what it was given."""
    from starlette.responses import JSONResponse

    async def route(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"").decode()
            query = scope.get("query_string", b"").decode()
            if given != f"Bearer {TOKEN}" and f"token={TOKEN}" not in query:
                body = {"error": "unauthorized", "message": f"not a token: {given!r}"}
                return await JSONResponse(body, status_code=401)(scope, receive, send)
        await asgi(scope, receive, send)

    return route


def test_a_token_is_sent_as_a_bearer_and_a_missing_or_wrong_one_is_said(serve, redis_log):
    id = published(redis_log.url, ["for your eyes only"])
    base = serve(guarded(app(redis_log)))
    url = f"{base}/v1/streams/{id}"
    assert "".join(text_of(follow_url(url, token=TOKEN))) == "for your eyes only"
    assert "".join(text_of(follow_url(f"{base}/s/{id}#token={TOKEN}"))) == "for your eyes only"
    with pytest.raises(RelayError) as caught:
        list(follow_url(url))
    assert str(caught.value) == (
        f"{url} needs a token (HTTP 401): give the server's token with --token T or OUTSTREAM_TOKEN"
    )
    with pytest.raises(RelayError, match=r"refused the token \(HTTP 401\)"):
        list(follow_url(url, token="wrong"))
    with pytest.raises(RelayError, match="needs a token"):
        cancel_url(url)
    assert cancel_url(url, token=TOKEN) is False  # (it has ended: nobody to stop)


# --- the command line, across processes ---


_started: list[subprocess.Popen[str]] = []


def outstream(*argv: str, **kw: Any) -> subprocess.Popen[str]:
    process = run_cli(*argv, **kw)
    _started.append(process)
    return process


@pytest.fixture(autouse=True)
def _reaped():
    """Every process a test started ends with it, and its pipes are closed."""
    yield
    while _started:
        process = _started.pop()
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


class Output(threading.Thread):
    """What a process writes to a pipe, gathered as it comes; a test waits for some of it."""

    def __init__(self, pipe: Any) -> None:
        super().__init__(daemon=True)
        self.pipe, self.text = pipe, ""
        self.changed = threading.Condition()
        self.start()

    def run(self) -> None:
        while chunk := self.pipe.read(1):
            with self.changed:
                self.text += chunk
                self.changed.notify_all()

    def wait_for(self, text: str, timeout: float = 30) -> str:
        with self.changed:
            assert self.changed.wait_for(lambda: text in self.text, timeout), self.text
        return self.text


class Server:
    """``outstream serve`` as a process of its own, on a port of the test's choosing."""

    def __init__(self, redis_url: str, port: int) -> None:
        self.redis_url, self.port = redis_url, port
        self.base = f"http://127.0.0.1:{port}"
        self.start()

    def start(self) -> None:
        self.process = outstream("serve", "--redis", self.redis_url, "--port", str(self.port))
        said = self.process.stderr.readline()  # (once it listens)
        assert f"{self.base}/v1/streams/ID/events" in said, said + self.process.stderr.read()

    def kill(self) -> None:
        self.process.kill()
        self.process.communicate(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.communicate(timeout=30)


@pytest.fixture
def server(redis_url: str):
    running = Server(redis_url, free_port())
    yield running
    running.stop()


def producer(redis_url: str, id: str) -> subprocess.Popen[str]:
    process = outstream("publish", "--id", id, stdin=subprocess.PIPE, env=_log(redis_url))
    assert process.stdout.readline() == f"{id}\n"  # the stream is in the log
    return process


def _log(redis_url: str) -> dict[str, str]:
    return {"OUTSTREAM_REDIS_URL": redis_url}


def say(process: subprocess.Popen[str], text: str) -> None:
    process.stdin.write(text)
    process.stdin.flush()


def test_follow_a_url_of_a_stream_published_by_another_process(server, redis_url):
    publishing = producer(redis_url, "across")
    # (no Redis for the follower: the server has the log)
    following = outstream("follow", f"{server.base}/v1/streams/across", "--instant", env=_log(""))
    shown = Output(following.stdout)
    say(publishing, "Hello from ")
    shown.wait_for("Hello from ")
    say(publishing, "another process, «live».\n")
    publishing.stdin.close()
    assert publishing.wait(timeout=30) == 0
    assert following.wait(timeout=30) == 0
    shown.join(10)
    assert shown.text == "Hello from another process, «live».\n"
    assert following.stderr.read() == ""


def test_a_server_killed_and_started_again_mid_stream_loses_nothing_and_repeats_nothing(
    server, redis_url
):
    publishing = producer(redis_url, "restarted")
    following = outstream("follow", f"{server.base}/s/restarted", "--instant")
    shown = Output(following.stdout)
    say(publishing, "one, ")
    shown.wait_for("one, ")
    server.kill()
    say(publishing, "two (while the server was down), ")  # in the log, not yet served
    server.start()
    say(publishing, "three.")
    publishing.stdin.close()
    assert publishing.wait(timeout=30) == 0
    assert following.wait(timeout=60) == 0, following.stderr.read()
    shown.join(10)
    assert shown.text == "one, two (while the server was down), three."
    assert following.stderr.read() == ""


def test_a_server_gone_for_good_is_one_line_after_the_text_so_far(server, redis_url):
    id = new_id()
    publishing = producer(redis_url, id)
    say(publishing, "the text so far")
    entries = follow_url(f"{server.base}/v1/streams/{id}", patience=1.0)
    first = next(entries)
    assert first.record["text"] == "the text so far"
    server.kill()
    with pytest.raises(Unreachable) as caught:
        list(entries)
    assert re.fullmatch(
        rf"cannot reach {server.base}/v1/streams/{id}: (connection refused|the connection "
        r"dropped) \(tried for 1 s\)",
        str(caught.value),
    )
    publishing.kill()
    publishing.communicate(timeout=30)


def test_an_unknown_stream_or_no_server_is_one_line_and_exit_1(server):
    for secret in ("u:pa55@", ""):  # (neither a password nor a token is ever shown)
        query = "" if secret else "?token=t0k"
        unknown = outstream("follow", f"http://{secret}127.0.0.1:{server.port}/s/nobody{query}")
        assert unknown.communicate(timeout=30) == (
            "",
            f"outstream: no stream at {server.base}/s/nobody: never published, or expired\n",
        )
        assert unknown.returncode == 1
    port = free_port()
    nobody = outstream("follow", f"http://127.0.0.1:{port}/v1/streams/x")
    assert nobody.communicate(timeout=30) == (
        "",
        f"outstream: cannot reach http://127.0.0.1:{port}/v1/streams/x: connection refused\n",
    )
    assert nobody.returncode == 1


def test_the_producer_gone_ends_a_url_follower_as_it_ends_an_id_follower(server, redis_url):
    publishing = producer(redis_url, "gone")
    say(publishing, "half an answer")
    by_url = outstream("follow", f"{server.base}/v1/streams/gone", "--instant")
    Output(by_url.stdout).wait_for("half an answer")
    publishing.kill()
    publishing.communicate(timeout=30)
    by_id = outstream("follow", "gone", "--instant", env=_log(redis_url))
    gone = "outstream: the producer is gone (its lease ran out): the stream has no end\n"
    assert by_url.wait(timeout=30) == by_id.wait(timeout=30) == 1
    assert by_url.stderr.read() == by_id.stderr.read() == gone


def test_cancel_by_url_stops_a_producer_in_another_process(server, redis_url):
    publishing = producer(redis_url, "stop-me")
    say(publishing, "some text ")
    following = outstream("follow", f"{server.base}/v1/streams/stop-me", "--instant")
    Output(following.stdout).wait_for("some text ")
    cancelling = outstream("cancel", f"{server.base}/s/stop-me")
    assert cancelling.communicate(timeout=30) == ("", "")
    assert cancelling.returncode == 0
    assert publishing.wait(timeout=30) == 1  # its input is still open: the cancel stopped it
    assert "stream stop-me was cancelled by a reader" in publishing.communicate(timeout=30)[1]
    assert following.wait(timeout=30) == 1
    assert following.stderr.read() == "outstream: the stream was cancelled\n"
    again = outstream("cancel", f"{server.base}/v1/streams/stop-me")
    assert again.communicate(timeout=30) == (
        "",
        "outstream: stream stop-me has no producer at work (it ended, or its producer is gone)\n",
    )


def test_after_and_from_now_with_a_url(server, redis_url):
    id = published(redis_url, ["all of it"])
    [first, last] = list(follow(RedisLog(redis_url), id))
    url = f"{server.base}/v1/streams/{id}"
    for entry in (first, last):  # (after the last one: the server's 204)
        after = outstream("follow", url, "--after", entry.id, "--instant")
        assert after.communicate(timeout=30) == ("", "")
        assert after.returncode == 0
    whole = outstream("follow", url, "--instant", "--stats")
    out, err = whole.communicate(timeout=30)
    assert (whole.returncode, out) == (0, "all of it") and "9 chars" in err.replace(",", "")
    ended = outstream("follow", url, "--from-now")
    assert ended.communicate(timeout=30) == ("", "")
    assert ended.returncode == 0


def test_a_url_with_the_options_it_cannot_take_is_a_usage_error_that_says_why():
    cases = [
        (["follow", "http://h/v1/streams/x", "--redis", "redis://h"], "--redis: a URL is read"),
        (["cancel", "http://h/s/x", "--redis", "redis://h"], "--redis: a URL is read"),
        (["follow", "x", "--token", "t"], "--token: is for a stream given by its URL"),
        (["follow", "http://h/v1/x"], "not the URL of a stream: http://h/v1/x"),
        (["cancel", "https://h:99999/s/x"], "not an http(s) URL"),
        (["follow", "http://h/s/x", "--token", "tökén"], "the token must be printable ASCII"),
        (["follow", "http://h/s/x#token=%E2%82%AC"], "the token must be printable ASCII"),
        (["follow", "http://h/s/x", "--after", "é"], "--after: not an entry id"),
        (["follow", "http://u:pw@h/s/x", "--token", "t"], "a URL with a user and password"),
    ]
    for argv, said in cases:
        run = outstream(*argv)
        out, err = run.communicate(timeout=30)
        assert (run.returncode, out) == (2, ""), err
        assert said in err and err.count("\n") == 2, err


def test_the_token_goes_as_a_header_from_the_option_or_the_environment(serve, redis_log):
    """(``serve --token --token-for-reading`` is another branch's: a small guard in front
    of the app checks the header here.)"""
    id = published(redis_log.url, ["guarded"])
    base = serve(guarded(app(redis_log)))
    url = f"{base}/v1/streams/{id}"
    given = outstream("follow", url, "--token", TOKEN)
    assert given.communicate(timeout=30) == ("guarded", "")
    from_env = outstream("follow", url, env={"OUTSTREAM_TOKEN": TOKEN})
    assert from_env.communicate(timeout=30) == ("guarded", "")
    missing = outstream("follow", url, env={"OUTSTREAM_TOKEN": ""})
    assert missing.communicate(timeout=30) == (
        "",
        f"outstream: {url} needs a token (HTTP 401): give the server's token with --token T "
        "or OUTSTREAM_TOKEN\n",
    )
    assert missing.returncode == 1
    wrong = outstream("cancel", f"{url}?token=wr0ng")
    out, err = wrong.communicate(timeout=30)
    assert wrong.returncode == 1 and "wr0ng" not in out + err and "refused the token" in err
    cancelled = outstream("cancel", url, "--token", TOKEN)
    assert cancelled.communicate(timeout=30)[1].startswith("outstream: stream ")
    assert cancelled.returncode == 0


def test_an_error_entry_over_http_is_a_source_error_as_over_redis(serve, redis_log):
    def failing_source():
        yield "partly "
        raise ValueError("the model fell over")

    id = new_id()
    with pytest.raises(ValueError):
        publish(failing_source(), RedisLog(redis_log.url), id)
    base = serve(app(redis_log))
    with pytest.raises(SourceError) as over_http:
        list(text_of(follow_url(f"{base}/v1/streams/{id}")))
    from outstream.relay import follow_text

    with pytest.raises(SourceError) as over_redis:
        list(follow_text(RedisLog(redis_log.url), id))
    assert str(over_http.value) == str(over_redis.value)
    assert "the model fell over" in str(over_http.value)
