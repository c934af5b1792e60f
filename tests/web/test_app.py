"""`outstream.web.app` over real HTTP (uvicorn, httpx) on a real Redis: Server-Sent Events
with resume, status, text, cancel."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx

from outstream.relay import RedisLog, new_id, publish
from outstream.sources.sse import SSEEvent, SSEParser
from outstream.testing import RedisServer
from outstream.web import app

from ..conftest import Producer, needs_redis

pytestmark = needs_redis

WORDS = [f"wörd{i} " for i in range(200)]


def paced(words: list[str]) -> Iterator[str]:
    pace = threading.Event()  # nobody sets it: a timed wait, a producer's pace
    for word in words:
        pace.wait(0.003)
        yield word


def read_events(
    url: str, *, headers: dict[str, str] | None = None, stop_after: int | None = None
) -> tuple[httpx.Headers, list[SSEEvent], str]:
    """The events of an event stream (until it ends, or `stop_after` entries), its
    headers, and its raw text."""
    parser = SSEParser()
    events: list[SSEEvent] = []
    raw: list[str] = []
    with httpx.stream("GET", url, headers=headers, timeout=30) as response:
        assert response.status_code == 200
        for chunk in response.iter_bytes():
            raw.append(chunk.decode())
            events += parser.feed(chunk)
            if stop_after is not None and len(events) >= stop_after:
                break
        return response.headers, events, "".join(raw)


def text_of(events: list[SSEEvent]) -> str:
    return "".join(json.loads(e.data).get("text", "") for e in events if e.event == "text")


def test_several_readers_of_two_servers_get_the_same_events_and_text_as_published(serve, redis_log):
    # Two servers on one Redis: either serves any stream.
    bases = [serve(app(redis_log)), serve(app(RedisLog(redis_log.url)))]
    id = new_id()
    producer = Producer(paced(WORDS), RedisLog(redis_log.url), id)
    results: list[tuple[httpx.Headers, list[SSEEvent], str]] = []
    readers = [
        threading.Thread(
            target=lambda base=base: results.append(read_events(f"{base}/v1/streams/{id}/events"))
        )
        for base in bases * 3
    ]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    producer.join()
    assert producer.errors == []
    headers, events, raw = results[0]
    assert raw.startswith("retry: 3000\n\n")
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    assert headers["cache-control"] == "no-store" and headers["x-accel-buffering"] == "no"
    assert text_of(events) == "".join(WORDS)
    assert events[-1].event == "end" and json.loads(events[-1].data)["end"] is True
    assert all(e.id for e in events)
    for _, others, _ in results[1:]:
        assert [(e.id, e.event, e.data) for e in others] == [
            (e.id, e.event, e.data) for e in events
        ]


def test_a_reader_that_reconnects_with_last_event_id_misses_nothing_and_gets_nothing_twice(
    serve, redis_log
):
    base = serve(app(redis_log))
    id = new_id()
    producer = Producer(paced(WORDS), RedisLog(redis_log.url), id)
    url = f"{base}/v1/streams/{id}/events"
    got: list[SSEEvent] = []
    for _ in range(6):  # five drops at the readers' whim, then to the end
        last = got[-1].id if got else None
        headers = {"Last-Event-ID": last} if last else None
        _, events, _ = read_events(url, headers=headers, stop_after=None if len(got) > 20 else 4)
        got += events
        if got and got[-1].event == "end":
            break
    if got[-1].event != "end":
        _, events, _ = read_events(url, headers={"Last-Event-ID": got[-1].id})
        got += events
    producer.join()
    assert text_of(got) == "".join(WORDS)
    ids = [e.id for e in got]
    assert len(ids) == len(set(ids))  # nothing twice
    # ?after= does what Last-Event-ID does
    _, after, _ = read_events(f"{url}?after={got[2].id}")
    assert [e.id for e in after] == ids[3:]


def test_status_text_and_cancel_and_an_unknown_stream(serve, redis_log):
    base = serve(app(redis_log))
    id = new_id()
    producer = Producer(paced(WORDS * 20), RedisLog(redis_log.url), id)
    status = httpx.get(f"{base}/v1/streams/{id}").json()
    assert status["status"] == "producing" and status["id"] == id
    assert httpx.get(f"{base}/v1/streams/{id}/text").headers["cache-control"] == "no-store"
    answer = httpx.post(f"{base}/v1/streams/{id}/cancel").json()
    assert answer == {"id": id, "cancelled": True, "was_producing": True}
    producer.join()
    _, events, _ = read_events(f"{base}/v1/streams/{id}/events")
    assert events[-1].event == "error" and json.loads(events[-1].data)["type"] == "Cancelled"
    assert httpx.get(f"{base}/v1/streams/{id}").json()["status"] == "cancelled"
    shown = httpx.get(f"{base}/v1/streams/{id}/text").text
    assert shown == text_of(events) and shown
    # After its last entry: 204, which stops a browser's EventSource from asking again.
    after_end = httpx.get(
        f"{base}/v1/streams/{id}/events", headers={"Last-Event-ID": events[-1].id}
    )
    assert (after_end.status_code, after_end.content) == (204, b"")
    for method, path in [("GET", ""), ("GET", "/text"), ("GET", "/events"), ("POST", "/cancel")]:
        missing = httpx.request(method, f"{base}/v1/streams/nobody{path}")
        assert missing.status_code == 404
        assert missing.json()["message"] == "no stream nobody: never published, or expired"


def test_a_gzip_middleware_in_front_compresses_nothing_and_holds_nothing_back(serve, redis_log):
    from starlette.middleware.gzip import GZipMiddleware

    base = serve(GZipMiddleware(app(redis_log), minimum_size=10))
    id = new_id()
    producer = Producer(paced(WORDS), RedisLog(redis_log.url), id)
    with httpx.stream(
        "GET", f"{base}/v1/streams/{id}/events", headers={"Accept-Encoding": "gzip"}, timeout=30
    ) as response:
        assert "gzip" not in response.headers.get("content-encoding", "")
        first = next(response.iter_bytes())  # the first bytes come before the end
        assert first.startswith(b"retry: ")
        producer_done_before = not producer.is_alive()
    producer.join()
    assert not producer_done_before
    _, events, _ = read_events(
        f"{base}/v1/streams/{id}/events", headers={"Accept-Encoding": "gzip"}
    )
    assert text_of(events) == "".join(WORDS)


def test_a_quiet_stream_gets_a_comment_now_and_then(serve, redis_log):
    base = serve(app(redis_log, heartbeat=0.05))
    id = new_id()
    quiet = threading.Event()

    def source() -> Iterator[str]:
        yield "a"
        quiet.wait(10)  # until the test has seen comments
        yield "b"

    done = threading.Thread(target=publish, args=(source(), RedisLog(redis_log.url), id))
    done.start()
    raw = ""
    with httpx.stream("GET", f"{base}/v1/streams/{id}/events", timeout=30) as response:
        for chunk in response.iter_text():
            raw += chunk
            if raw.count(": still here") >= 2:
                break
    quiet.set()
    done.join()
    assert raw.count(": still here\n\n") >= 2


def test_a_bad_entry_id_is_a_400_and_an_unreachable_log_a_503_never_a_traceback(
    serve, redis_log, tmp_path, caplog
):
    base = serve(app(redis_log))
    id = new_id()
    publish("done", RedisLog(redis_log.url), id)
    for headers in ({"Last-Event-ID": "garbage"}, {"Last-Event-ID": "1-0-0"}):
        refused = httpx.get(f"{base}/v1/streams/{id}/events", headers=headers)
        assert refused.status_code == 400 and refused.json()["error"] == "bad entry id"
    assert httpx.get(f"{base}/v1/streams/{id}/events?after=x").status_code == 400
    # Its own Redis, stopped: the stream routes answer 503, saying to try again.
    with RedisServer(tmp_path) as gone:
        down = serve(app(RedisLog(gone.url)))
    with caplog.at_level("WARNING", logger="outstream.web"):
        for path in ("", "/text", "/events"):
            answer = httpx.get(f"{down}/v1/streams/{id}{path}")
            assert answer.status_code == 503, path
            assert answer.json()["error"] == "log unavailable"
            assert answer.headers["retry-after"] == "3"
            assert gone.url not in answer.text  # (its address is the server's business)
    assert [
        r.getMessage().startswith(f"outstream: reading stream {id} failed:") for r in caplog.records
    ] == [True] * 3


def test_a_resync_is_not_kept_for_other_readers():
    """(Each is the whole text so far, made for one reader: a thousand of them, kept,
    held a server's memory at a gigabyte.)"""
    from outstream.relay import Entry
    from outstream.web import _cached_event, _shared_event

    before = _cached_event.cache_info().currsize
    for n in range(50):
        _shared_event(Entry(f"{n}-0", n, {"t": 0, "resync": "x" * 1000 + str(n)}))
    assert _cached_event.cache_info().currsize == before
    _shared_event(Entry("1-0", 1, {"t": 0, "text": "a"}))
    assert _cached_event.cache_info().currsize == before + 1
