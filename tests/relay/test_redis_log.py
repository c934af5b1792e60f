"""The stream log on a real redis-server: many followers, dropped connections, a restart,
trimming, keys and their lives; and the command line across processes."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
from collections.abc import Iterator

import pytest

from outstream.relay import RedisLog, afollow, follow_text, new_id, publish
from outstream.relay.log import Unreachable
from outstream.testing import RedisServer
from outstream.testing.llm_server import LLMServer, Script

from ..conftest import Producer, needs_redis, outstream

pytestmark = needs_redis

# Multi-byte characters split across chunks, controls, and many small pieces.
PIECES = [f"wörd{i} ☃ " if i % 7 else f"\x1b[31mred{i}\x1b[0m\n" for i in range(300)]
TEXT = "".join(PIECES)


def slow_source(pieces: list[str], every: threading.Event | None = None) -> Iterator[bytes]:
    """The pieces as bytes, a character split between two chunks, at a real pace."""
    data = "".join(pieces).encode()
    step = max(1, len(data) // 150)
    for i in range(0, len(data), step):
        if every is not None:
            every.wait(0.005)  # a producer's pace (an event nobody sets: a timed wait)
        yield data[i : i + step]


async def follow_all(log: RedisLog, id: str, n: int) -> list[str]:
    async def one() -> str:
        return "".join([e.text async for e in afollow(log, id)])

    try:
        return list(await asyncio.gather(*(one() for _ in range(n))))
    finally:
        await log.aclose()


def test_fifty_followers_get_the_same_text_as_it_is_published(redis_url):
    log, id = RedisLog(redis_url), new_id()
    producer = Producer(slow_source(PIECES, threading.Event()), log, id)
    texts = asyncio.run(follow_all(RedisLog(redis_url), id, 50))
    producer.join()
    assert producer.errors == []
    assert texts == [TEXT] * 50  # the log is a record: the text as received, controls too


def test_every_key_carries_the_streams_hash_tag_and_a_time_to_live(redis_url):
    import redis

    log, id = RedisLog(redis_url), new_id()
    publish("hello", log, id)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    keys = sorted(client.scan_iter(f"outstream:{{{id}}}:*"))
    assert keys == [f"outstream:{{{id}}}:{name}" for name in ("log", "meta", "text")]
    assert all(0 < client.ttl(key) <= 24 * 3600 for key in keys)
    assert client.get(f"outstream:{{{id}}}:text") == "hello"  # (the lease is given back)


def test_a_follower_whose_connection_drops_goes_on_without_a_gap_or_a_duplicate(redis_url):
    import redis

    log, id = RedisLog(redis_url), new_id()
    gate = threading.Event()
    producer = Producer(slow_source(PIECES, gate), log, id)
    admin = redis.Redis.from_url(redis_url)

    async def follower() -> str:
        reader = RedisLog(redis_url)
        got: list[str] = []
        try:
            async for entry in afollow(reader, id):
                got.append(entry.text)
                if len(got) in (3, 10, 30):
                    admin.client_kill_filter(_type="normal", skipme=True)
        finally:
            await reader.aclose()
        return "".join(got)

    text = asyncio.run(follower())
    producer.join()
    assert text == TEXT


def test_after_a_restart_of_redis_producer_and_follower_go_on_and_nothing_is_lost(tmp_path):
    with RedisServer(tmp_path, appendonly=True) as server:
        log, id = RedisLog(server.url), new_id()
        producer = Producer(slow_source(PIECES, threading.Event()), log, id)
        restarted = threading.Event()

        async def follower() -> str:
            reader = RedisLog(server.url)
            got: list[str] = []
            try:
                async for entry in afollow(reader, id):
                    got.append(entry.text)
                    if len(got) == 5 and not restarted.is_set():
                        server.restart()
                        restarted.set()
            finally:
                await reader.aclose()
            return "".join(got)

        text = asyncio.run(follower())
        producer.join()
    assert restarted.is_set()
    assert producer.errors == []
    assert text == TEXT


def test_a_place_trimmed_away_resyncs_with_the_whole_text(redis_url):
    log, id = RedisLog(redis_url, maxlen=10), new_id()

    async def produce() -> None:
        try:
            await log.create(id, "me", {})
            for i in range(1, 501):
                await log.append(id, "me", i, [{"t": i, "text": f"{i} "}])
            await log.append(id, "me", 501, [{"t": 501, "end": True}], final=True)
        finally:
            await log.aclose()

    asyncio.run(produce())
    assert "".join(map(str, follow_text(RedisLog(redis_url), id))) == "".join(
        f"{i} " for i in range(1, 501)
    )


def test_a_reader_ended_by_the_producers_error_lets_go_of_redis_at_once(redis_url):
    # (Its connection stayed open until the garbage collector came, the error's
    # traceback kept by the caller; collected while another event loop ran in the
    # thread, it could not close at all.)
    import redis

    from outstream.errors import SourceError
    from outstream.relay import follow

    admin, id = redis.Redis.from_url(redis_url), new_id()

    def failing() -> Iterator[str]:
        yield "so far"
        raise OSError("boom")

    with pytest.raises(OSError):
        publish(failing(), RedisLog(redis_url), id)
    clients = len(admin.client_list())
    with pytest.raises(SourceError, match="OSError: boom") as caught:
        list(follow_text(RedisLog(redis_url), id))
    assert len(admin.client_list()) == clients
    assert caught.traceback  # (kept, as a caller may keep it)

    entries = follow(RedisLog(redis_url), id)  # dropped unfinished inside an event loop
    next(entries)
    assert len(admin.client_list()) == clients + 1

    async def drop() -> None:
        entries.close()

    asyncio.run(drop())
    assert len(admin.client_list()) == clients
    admin.close()


def test_an_unreachable_redis_is_one_clear_error_that_never_shows_the_password():
    log = RedisLog("redis://:s3cret@127.0.0.1:1")
    with pytest.raises(Unreachable) as caught:
        list(follow_text(log, "x"))
    assert "s3cret" not in str(caught.value) and "s3cret" not in repr(log)
    assert "cannot reach Redis at redis://127.0.0.1:1" in str(caught.value)


# --- the command line, across processes ---


def test_ask_publish_in_one_terminal_and_follow_in_another(redis_url):
    answer = ["# Title\n\n", "The sky ", "is **blue**", " because…\n"]
    with LLMServer(Script(answer)) as server:
        env = {"OUTSTREAM_REDIS_URL": redis_url, "OPENAI_API_KEY": "sk-test"}
        argv = ["ask", "--base-url", server.openai_base_url, "--model", "m", "--instant"]
        asking = outstream(*argv, "--publish", "two-terminals", "why?", env=env)
        out, err = asking.communicate(timeout=60)
    assert asking.returncode == 0, err
    assert out == "".join(answer)
    assert "publishing as stream two-terminals" in err
    following = outstream("follow", "two-terminals", "--instant", env=env)
    shown, err = following.communicate(timeout=60)
    assert (following.returncode, shown, err) == (0, "".join(answer), "")


def test_a_producer_killed_mid_answer_leaves_readers_the_text_and_a_clear_end(redis_url):
    env = {"OUTSTREAM_REDIS_URL": redis_url}
    producer = outstream("publish", "--id", "killed", stdin=subprocess.PIPE, env=env)
    assert producer.stdout.readline() == "killed\n"  # the id, once the stream is in the log
    producer.stdin.write("the first half of an answer")
    producer.stdin.flush()
    follower = outstream("follow", "killed", "--instant", env=env)
    wait_text(redis_url, "killed", "the first half of an answer")
    producer.send_signal(signal.SIGKILL)
    producer.communicate(timeout=30)
    out, err = follower.communicate(timeout=30)
    assert follower.returncode == 1
    assert out == "the first half of an answer"
    assert err == "outstream: the producer is gone (its lease ran out): the stream has no end\n"


def test_cancel_from_another_process_stops_the_producer_and_ends_the_stream(redis_url):
    env = {"OUTSTREAM_REDIS_URL": redis_url}
    producer = outstream("publish", "--id", "stopme", stdin=subprocess.PIPE, env=env)
    assert producer.stdout.readline() == "stopme\n"
    producer.stdin.write("some text ")
    producer.stdin.flush()
    wait_text(redis_url, "stopme", "some text ")
    canceller = outstream("cancel", "stopme", env=env)
    assert canceller.communicate(timeout=30) == ("", "")
    assert producer.wait(timeout=30) == 1  # its input is still open: the cancel stopped it
    _, err = producer.communicate(timeout=30)
    assert "stream stopme was cancelled by a reader" in err
    follower = outstream("follow", "stopme", "--instant", env=env)
    out, err = follower.communicate(timeout=30)
    assert (follower.returncode, out, err) == (
        1,
        "some text ",
        "outstream: the stream was cancelled\n",
    )


def test_the_command_line_says_what_to_do_without_redis_or_with_an_unknown_id(redis_url):
    no_redis = outstream("follow", "x", env={"OUTSTREAM_REDIS_URL": ""})
    _, err = no_redis.communicate(timeout=30)
    assert no_redis.returncode == 2
    assert "needs Redis: give --redis URL or set OUTSTREAM_REDIS_URL" in err
    unknown = outstream("follow", "nobody", "--redis", redis_url)
    assert unknown.communicate(timeout=30) == (
        "",
        "outstream: no stream nobody: never published, or expired\n",
    )
    assert unknown.returncode == 1
    secret = outstream("publish", "--redis", "redis://:s3cret@127.0.0.1:1", "hi")
    out, err = secret.communicate(timeout=30)
    assert secret.returncode == 1 and "s3cret" not in out + err
    assert err.startswith("outstream: cannot reach Redis at redis://127.0.0.1:1")
    assert err.count("\n") == 1 and err.endswith("\n")


def wait_text(redis_url: str, id: str, text: str) -> None:
    """Until stream `id`'s text so far is `text` (the log says so, not a sleep)."""
    log = RedisLog(redis_url)

    async def until() -> None:
        try:
            after = None
            while (await log.snapshot(id)).text != text:
                entries = await log.read(id, after, block=1.0)
                after = entries[-1].id if entries else after
        finally:
            await log.aclose()

    asyncio.run(asyncio.wait_for(until(), 20))


def test_many_followers_wait_at_once_in_one_process(redis_url):
    """Each follower waiting in XREAD BLOCK holds a connection of its own; redis-py
    caps a pool at 100 by default, and the 101st wait failed as "Unreachable"."""

    async def main() -> list[list[object]]:
        log = RedisLog(redis_url)
        try:
            await log.create("many", "owner", {})
            return await asyncio.gather(*(log.read("many", None, block=0.3) for _ in range(150)))
        finally:
            await log.aclose()

    assert asyncio.run(main()) == [[]] * 150


def test_ctrl_c_on_the_producer_ends_the_stream_at_once_for_its_readers(redis_url):
    env = {"OUTSTREAM_REDIS_URL": redis_url}
    producer = outstream("publish", "--id", "ctrl-c", stdin=subprocess.PIPE, env=env)
    assert producer.stdout.readline() == "ctrl-c\n"
    producer.stdin.write("before the interrupt")
    producer.stdin.flush()
    wait_text(redis_url, "ctrl-c", "before the interrupt")
    producer.send_signal(signal.SIGINT)
    assert producer.wait(timeout=30) == 130
    producer.communicate(timeout=30)
    follower = outstream("follow", "ctrl-c", "--instant", env=env)
    assert follower.communicate(timeout=30) == (
        "before the interrupt",
        "outstream: the producer was interrupted\n",
    )


def test_a_cancelled_read_is_cancelled(redis_url) -> None:
    # redis-py 8.1 can swallow a cancellation that comes while it (re)connects (a
    # cancel disconnects, so the next command connects): XREAD then returned [] as if
    # nothing happened, and a cancelled follower went on following.
    async def main(url: str) -> int:
        log = RedisLog(url)
        await log.create("s", "owner", {})
        swallowed = 0
        try:
            for i in range(200):
                task = asyncio.create_task(log.read("s", None, block=2.0))
                await asyncio.sleep(0.001 * (i % 8))
                task.cancel()
                await asyncio.wait([task])
                swallowed += not task.cancelled()
        finally:
            await log.aclose()
        return swallowed

    assert asyncio.run(main(redis_url)) == 0


def test_followers_in_one_process_cost_redis_one_blocking_read_between_them(redis_url):
    import redis

    admin = redis.Redis.from_url(redis_url)
    log, id = RedisLog(redis_url), new_id()

    async def run() -> list[str]:
        await log.create(id, "me", {})

        async def one() -> str:
            return "".join([e.text async for e in afollow(log, id)])

        followers = [asyncio.create_task(one()) for _ in range(30)]
        admin.config_resetstat()
        for i in range(1, 41):
            await log.append(id, "me", i, [{"t": i, "text": f"{i} "}])
            await asyncio.sleep(0.01)  # (a producer's pace, as a model's tokens come)
        await log.append(id, "me", 41, [{"t": 41, "end": True}], final=True)
        try:
            return list(await asyncio.gather(*followers))
        finally:
            await log.aclose()

    texts = asyncio.run(run())
    assert texts == ["".join(f"{i} " for i in range(1, 41))] * 30
    stats = admin.info("commandstats")
    # One XREAD an entry or so (or a second of silence), not thirty; no XRANGE at all.
    assert stats["cmdstat_xread"]["calls"] <= 41 + 5
    assert "cmdstat_xrange" not in stats


def test_a_follower_behind_what_the_process_keeps_in_memory_reads_from_redis(
    redis_url, monkeypatch
):
    from outstream.relay.redis_log import _Tail

    monkeypatch.setattr(_Tail, "KEEP", 5)
    log, id = RedisLog(redis_url), new_id()
    whole = "".join(f"{i} " for i in range(1, 51))

    async def run() -> tuple[str, str]:
        await log.create(id, "me", {})
        for i in range(1, 51):
            await log.append(id, "me", i, [{"t": i, "text": f"{i} "}])
        await log.append(id, "me", 51, [{"t": 51, "end": True}], final=True)
        try:
            first = "".join([e.text async for e in afollow(log, id)])  # the tail keeps 5
            again = "".join([e.text async for e in afollow(log, id)])  # from the start
            return first, again
        finally:
            await log.aclose()

    assert asyncio.run(run()) == (whole, whole)
