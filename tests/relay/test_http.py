"""The decisions of a follower over HTTP, without I/O (`relay.http._Reader`): the entries in
the bytes, the requests, and when to try again, on a virtual clock. (Over real uvicorn,
Redis and processes: tests/web/test_follow_url.py.)"""

from __future__ import annotations

import pytest

from outstream.errors import RelayError, StreamNotFound
from outstream.relay import Entry, Unreachable
from outstream.relay.http import MAX_WAIT, _Reader
from outstream.testing import VirtualClock

URL = "http://user:pw@127.0.0.1:8787/v1/streams/s1?token=t0ken"
SHOWN = "http://127.0.0.1:8787/v1/streams/s1"


def reader(**options) -> tuple[_Reader, VirtualClock]:
    clock = VirtualClock()
    kw = {"token": None, "after": None, "from_now": False, "patience": 30.0, **options}
    return _Reader(URL, clock=clock, **kw), clock


def test_the_entries_in_the_events_whatever_the_chunking_and_the_heartbeats():
    body = (
        b"retry: 3000\n\n"
        b'id: 1-0\nevent: text\ndata: {"t": 0.5, "text": "Hello"}\n\n'
        b": still here\n\n"
        b'id: 2-0\nevent: text\ndata: {"t": 0.9, "text": " world"}\n\n'
        b'id: 3-0\nevent: end\ndata: {"t": 1.0, "end": true}\n\n'
        b'id: 4-0\nevent: text\ndata: {"t": 2, "text": "never"}\n\n'
    )
    expected = [
        Entry("1-0", 1, {"t": 0.5, "text": "Hello"}),
        Entry("2-0", 2, {"t": 0.9, "text": " world"}),
        Entry("3-0", 3, {"t": 1.0, "end": True}),
    ]
    for size in (1, 7, len(body)):
        follower, _ = reader()
        follower.request()
        got = []
        for i in range(0, len(body), size):
            if not follower.done:
                got += follower.feed(body[i : i + size])
        assert got == expected and follower.done
        assert follower.retry == 3.0 and follower.last_id == "3-0"
    assert [e.record for e in got] == [e.record for e in expected]


def test_each_request_resumes_after_the_last_entry_and_carries_the_token():
    follower, _ = reader(after="7-0")
    url, headers = follower.request()
    assert url == "http://user:pw@127.0.0.1:8787/v1/streams/s1/events"
    assert headers["Last-Event-ID"] == "7-0"
    assert headers["Authorization"] == "Bearer t0ken"  # (from the URL: no --token given)
    assert headers["Accept"] == "text/event-stream"
    follower.feed(b'id: 8-0\ndata: {"t": 1, "text": "x"}\n\n')
    follower.failed("the connection dropped")
    _, headers = follower.request()
    assert headers["Last-Event-ID"] == "8-0"
    follower, _ = reader(token="given")
    assert follower.request()[1]["Authorization"] == "Bearer given"


def test_the_first_wait_is_the_servers_retry_then_doubling_with_jitter_up_to_a_cap():
    follower, clock = reader()
    follower.request()
    follower.feed(b"retry: 2000\n\n")  # heard: the patience is 30 s from the first failure
    follower.failed("the connection dropped")
    waits = []
    with pytest.raises(Unreachable) as caught:
        while True:
            t = follower.next_try()
            waits.append(t - clock.now())
            clock.sleep_until(t)
            follower.failed("connection refused")
    assert waits[0] == 2.0  # the server's word first
    for n, wait in enumerate(waits[1:], start=2):
        step = min(MAX_WAIT, 2.0 * 2 ** (n - 1))
        assert step / 2 <= wait <= step
    assert sum(waits) <= 30.0 < sum(waits) + MAX_WAIT
    assert str(caught.value) == f"cannot reach {SHOWN}: connection refused (tried for 30 s)"


def test_before_the_server_was_ever_heard_it_gives_up_within_a_second():
    follower, clock = reader()
    follower.request()
    follower.failed("connection refused")
    with pytest.raises(Unreachable) as caught:
        while True:
            clock.sleep_until(follower.next_try())
            follower.failed("connection refused")
    assert clock.now() <= 1.0
    assert str(caught.value) == f"cannot reach {SHOWN}: connection refused"


def test_hearing_the_server_again_gives_it_its_patience_again():
    follower, clock = reader(patience=10.0)
    follower.request()
    follower.feed(b"retry: 1000\n\n")
    for _ in range(3):  # down for a while, back, down again...
        follower.failed("connection refused")
        clock.sleep_until(follower.next_try())
        follower.failed("connection refused")
        clock.sleep_until(follower.next_try())
        follower.request()
        follower.feed(b": still here\n\n")  # (a heartbeat is hearing it, and nothing more)
    assert clock.now() > 3.0 and follower.tries == 0 and follower.give_up is None


def test_a_closed_connection_asks_the_status_whether_the_stream_is_over():
    follower, _ = reader()
    follower.request()
    [resync] = follower.feed(b'id: 9-0\nevent: resync\ndata: {"t": 0, "resync": "all"}\n\n')
    assert resync.kind == "resync" and not resync.final
    follower.ended()  # a resync that stands for the end: no end entry comes
    url, headers = follower.request()
    assert url == "http://user:pw@127.0.0.1:8787/v1/streams/s1"
    assert headers["Accept"] == "application/json"
    follower.feed(b'{"id": "s1", "status": "done", "last_id": "9-0"}')
    follower.ended()
    assert follower.done  # nothing to ask again
    # producing still: the events again, after the server's retry
    follower, clock = reader()
    follower.request()
    follower.feed(b'retry: 500\nid: 1-0\ndata: {"t": 0, "text": "a"}\n\n')
    follower.ended()
    assert follower.next_try() == clock.now() == 0.0  # the status, at once
    follower.request()
    follower.feed(b'{"status": "producing", "last_id": "2-0"}')
    follower.ended()
    assert not follower.done and follower.next_try() == 0.5
    assert follower.request()[0].endswith("/events")


def test_from_now_starts_after_the_last_entry_the_status_gives():
    follower, _ = reader(from_now=True)
    assert follower.request()[0] == "http://user:pw@127.0.0.1:8787/v1/streams/s1"
    follower.feed(b'{"status": "producing", "last_id": "41-0"}')
    follower.ended()
    assert follower.request()[1]["Last-Event-ID"] == "41-0"
    ended, _ = reader(from_now=True)
    ended.request()
    ended.feed(b'{"status": "cancelled", "last_id": "41-0"}')
    ended.ended()
    assert ended.done


def test_refusals_say_what_to_do_and_never_the_token():
    follower, _ = reader()
    with pytest.raises(StreamNotFound, match=f"^no stream at {SHOWN}: never published"):
        follower.refused(404, {}, b'{"error": "not found", "message": "no stream s1"}')
    with pytest.raises(StreamNotFound, match=r"not an answer of 'outstream serve' \(Nope\)"):
        follower.refused(404, {}, b"Nope")
    with pytest.raises(RelayError) as caught:
        follower.refused(403, {}, b"bad token t0ken")
    assert str(caught.value) == (
        f"{SHOWN} refused the token (HTTP 403): give the server's token with --token T "
        "or OUTSTREAM_TOKEN"
    )
    with pytest.raises(RelayError) as caught:
        follower.refused(400, {}, b'{"error": "bad", "message": "t0ken \\u001b[31mred"}')
    assert str(caught.value) == f"{SHOWN} answered HTTP 400: [the token] red"
    with pytest.raises(RelayError, match="a redirect to https://h/v1/streams/s1: give that URL"):
        follower.refused(301, {"location": "https://u:p@h/v1/streams/s1?token=x"}, b"")
    follower.refused(503, {}, b"<h1>down</h1>")  # tried again
    assert follower.tries == 1 and follower.why == "HTTP 503: <h1>down</h1>"


def test_the_servers_own_failure_is_not_the_streams_end():
    follower, _ = reader()
    follower.request()
    with pytest.raises(RelayError) as caught:
        follower.feed(
            b'event: error\ndata: {"error": "cannot reach Redis", "type": "Unreachable"}\n\n'
        )
    assert str(caught.value) == f"the server of {SHOWN} failed: cannot reach Redis"
    follower, _ = reader()
    follower.request()
    [gone] = follower.feed(
        b'id: 5-0\nevent: error\ndata: {"t": 3, "error": "the producer is gone", '
        b'"type": "ProducerGone"}\n\n'
    )
    assert gone.final and follower.done
    follower, _ = reader()
    follower.request()
    with pytest.raises(RelayError, match="sent an event that is no entry: '\\[DONE\\]'"):
        follower.feed(b"data: [DONE]\n\n")
