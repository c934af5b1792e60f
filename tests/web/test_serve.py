"""`outstream serve` as a user runs it: a process of its own, on a real Redis."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import httpx

from outstream.relay import RedisLog, new_id, publish

from ..conftest import needs_redis

pytestmark = needs_redis


def outstream(*argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "outstream", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )


def test_serve_serves_a_stream_published_by_another_process_and_stops_on_sigterm(redis_server):
    id = new_id()
    publish("published elsewhere", RedisLog(redis_server.url), id)
    server = outstream("serve", "--redis", redis_server.url, "--port", "0")
    try:
        said = server.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", said)
        assert match, said
        base = f"http://127.0.0.1:{match.group(1)}"
        status = httpx.get(f"{base}/v1/streams/{id}").json()
        assert status["status"] == "done"
        body = httpx.get(f"{base}/v1/streams/{id}/events").text
        datas = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
        assert "".join(d.get("text", "") for d in datas) == "published elsewhere"
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    # uvicorn stops gracefully, then lets the signal end it, as supervisors expect: 143.
    assert server.returncode == -signal.SIGTERM, err
    assert err == ""


def test_serve_without_redis_or_with_one_it_cannot_reach_says_what_to_do():
    bare = outstream("serve", env={"OUTSTREAM_REDIS_URL": ""})
    _, err = bare.communicate(timeout=30)
    assert bare.returncode == 2 and "needs Redis: give --redis URL" in err
    far = outstream("serve", "--redis", "redis://:s3cret@127.0.0.1:1")
    out, err = far.communicate(timeout=30)
    assert far.returncode == 1 and "s3cret" not in out + err
    assert (
        err.startswith("outstream: cannot reach Redis at redis://127.0.0.1:1")
        and err.count("\n") == 1
    )
    bad = outstream("serve", "--redis", "redis://127.0.0.1:1", "--port", "99999")
    _, err = bad.communicate(timeout=30)
    assert bad.returncode == 2 and "a port is a number from 0 to 65535" in err
