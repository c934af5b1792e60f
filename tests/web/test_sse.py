"""The event stream's bound on a reader that stops reading, over real HTTP (uvicorn), a
real socket that never reads, and a real Redis."""

from __future__ import annotations

import logging
import socket
import threading

from outstream.relay import RedisLog, new_id
from outstream.web import app

from ..conftest import Producer, needs_redis
from .test_app import paced, read_events, text_of

pytestmark = needs_redis

# Far more than the socket's buffers, the server's (uvicorn: 64 KiB) and the
# response's (64 KiB) hold: a reader that takes nothing cannot have it all.
LONG = [f"{i:05d} " + "x" * 4000 + "\n" for i in range(400)]


class Said(logging.Handler):
    """Sets `event` when the app says it let a reader go."""

    def __init__(self) -> None:
        super().__init__()
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "took nothing" in record.getMessage():
            self.event.set()


def test_a_reader_that_stops_reading_is_let_go_while_another_gets_everything(serve, redis_log):
    said = Said()
    logger = logging.getLogger("outstream.web")
    logger.addHandler(said)
    try:
        base = serve(app(redis_log, stall_timeout=0.2))
        id = new_id()
        producer = Producer(paced(LONG), RedisLog(redis_log.url), id)
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        stalled.sendall(f"GET /v1/streams/{id}/events HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        _, events, _ = read_events(f"{base}/v1/streams/{id}/events")
        producer.join()
        assert producer.errors == []
        assert text_of(events) == "".join(LONG)
        assert events[-1].event == "end"
        # The stalled reader is let go: once it reads, it gets what the server had
        # sent it, then the end of the connection, and never the answer's end.
        assert said.event.wait(30)
        stalled.settimeout(30)
        got = bytearray()
        while chunk := stalled.recv(1 << 16):
            got += chunk
        stalled.close()
        assert got.startswith(b"HTTP/1.1 200 ")
        assert b"retry: 3000\n\n" in got
        assert b"event: end" not in got and not got.endswith(b"0\r\n\r\n")
        assert len(got) < len("".join(LONG)) / 2
    finally:
        logger.removeHandler(said)
