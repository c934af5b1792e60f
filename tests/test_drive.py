"""The drivers on the virtual clock: the production inbox, threads, tasks and loops, in exact time.

These tests run the path a user runs (a generator read by the reader thread
or task into the channel, the driver loop, the pipeline, a terminal-like
sink), with `VirtualClock` scheduling every wait. The source pauses on the
clock, as a real one pauses on the network.
"""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import json
import math
import os
import pathlib
import statistics
import struct
import termios

import pytest

import outstream
from outstream.drive import Lane
from outstream.testing import MemorySink, VirtualClock

from .core.test_live import everything, play

LAG, FRAME = 0.5, 1 / 60


def burst_script(*, n_bursts: int, per_burst: int, one_chunk: bool) -> list[tuple[float, str]]:
    script = []
    for b in range(n_bursts):
        words = [f"w{b:02d}{k:02d} "[-5:] for k in range(per_burst)]
        script += [(b * 0.5, "".join(words))] if one_chunk else [(b * 0.5, w) for w in words]
    return script


def windows(writes: list[tuple[float, str]], width: float = 0.1) -> list[int]:
    counts = [0] * (math.floor(writes[-1][0] / width) + 1)
    for t, text in writes:
        counts[math.floor(t / width + 1e-9)] += len(text)
    return counts


def stream_on_the_virtual_clock(script, *, asynchronous: bool):  # type: ignore[no-untyped-def]
    clock = VirtualClock()
    sink = MemorySink(clock, terminal=True)
    options = {"clock": clock, "wrap": False}

    if asynchronous:

        async def agen():  # type: ignore[no-untyped-def]
            for t, chunk in script:
                await clock.asleep_until(t)
                yield chunk

        result = asyncio.run(outstream.astream(agen(), sink, **options))
    else:

        def gen():  # type: ignore[no-untyped-def]
            for t, chunk in script:
                clock.sleep_until(t)
                yield chunk

        result = outstream.stream(gen(), sink, **options)
    return result, sink.writes


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_smooth_flows_evenly_whatever_the_chunking_sync_or_async(asynchronous: bool) -> None:
    # Smooth is the default on a terminal. A burst of 50 five-character words
    # every 500 ms, sent as one chunk (a proxy) or as 50 (an SDK).
    per_burst = 50 * 5
    runs = {}
    for one_chunk in (True, False):
        script = burst_script(n_bursts=8, per_burst=50, one_chunk=one_chunk)
        result, writes = stream_on_the_virtual_clock(script, asynchronous=asynchronous)
        assert result.text == "".join(chunk for _, chunk in script)
        counts = windows(writes)
        assert max(counts) <= 0.3 * per_burst  # never most of a burst at once
        middle = counts[5:-5]
        assert statistics.pstdev(middle) / statistics.fmean(middle) <= 0.25
        assert result.stats.lag_max is not None and result.stats.lag_max <= LAG + FRAME
        runs[one_chunk] = writes
    assert runs[True] == runs[False]  # the same frames, the same text, at the same times


def test_the_virtual_run_is_the_same_run_every_time() -> None:
    script = burst_script(n_bursts=3, per_burst=50, one_chunk=False)
    first = stream_on_the_virtual_clock(script, asynchronous=False)[1]
    for _ in range(5):
        assert stream_on_the_virtual_clock(script, asynchronous=False)[1] == first


class SlowTerminal(MemorySink):
    """A terminal that takes time to read what is written: `rate` characters a second."""

    def __init__(self, clock: VirtualClock, rate: float) -> None:
        super().__init__(clock, terminal=True)
        self._virtual = clock
        self.rate = rate

    def write(self, text: str) -> int:
        n = super().write(text)
        self._virtual.advance(len(text) / self.rate)
        return n


@pytest.mark.parametrize("pace", ["instant", "smooth"])
def test_a_fast_source_into_a_slow_terminal_keeps_the_screen_moving(pace: str) -> None:
    # 1 MB as fast as it comes, into a terminal that reads 1 MB a second:
    # no write may hold the screen still for long, and nothing is lost.
    clock = VirtualClock()
    line = "Life is an unending stream of extenuating circumstances. ñ 中 🙂\n"
    text = line * (1_000_000 // len(line))
    sink = SlowTerminal(clock, rate=1_000_000)
    chunks = (text[i : i + 65536] for i in range(0, len(text), 65536))
    result = outstream.stream(
        chunks,
        sink,
        clock=clock,
        pace=outstream.Instant() if pace == "instant" else outstream.Smooth(),
        env={"COLUMNS": "120", "LINES": "40"},
    )
    assert sink.getvalue() == text
    assert result.stats.n_chars == len(text)
    sizes = [len(w) for _, w in sink.writes]
    assert max(sizes) <= 256 * 1024  # the first budget, before the terminal was measured
    later = sizes[3:]
    assert max(later) <= 2 * 1_000_000 / 60  # then about a frame's worth of what it reads
    starts = [t for t, _ in sink.writes][3:]
    assert max(b - a for a, b in itertools.pairwise(starts)) <= 3 / 60
    assert clock.now() <= len(text) / 1_000_000 * 1.5  # and no slower than the terminal


def test_a_dump_into_a_slow_terminal_takes_the_terminals_time_and_no_more() -> None:
    # 5 MB in 64 KB chunks into a terminal that reads 12 MB a second (a
    # frame's budget is about 200 KB): the channel hands over a megabyte at
    # a time, whose last piece is less than a budget. Written alone, that
    # scrap made its frame short and the next one wait for the frame timer
    # (8.6 ms idle, twice); it goes out with what is ready behind it instead.
    clock = VirtualClock()
    rate = 12e6
    line = "Life is an unending stream of extenuating circumstances.\n"
    text = line * (5_000_000 // len(line))
    sink = SlowTerminal(clock, rate=rate)
    chunks = (text[i : i + 65536] for i in range(0, len(text), 65536))
    env = {"COLUMNS": "120", "LINES": "40"}
    outstream.stream(chunks, sink, clock=clock, pace=outstream.Instant(), env=env)
    assert sink.getvalue() == text
    writes = sink.writes
    for (t, piece), (t_next, _) in itertools.pairwise(writes):
        assert t_next == pytest.approx(t + len(piece) / rate)  # the terminal never waits on us
    assert clock.now() == pytest.approx(len(text) / rate)


class PtyTerminal(MemorySink):
    """A terminal whose size is a real pty's (what a lane reads after a resize)."""

    def __init__(self, clock: VirtualClock, cols: int, rows: int) -> None:
        super().__init__(clock, terminal=True)
        self._master, self._slave = os.openpty()
        self.resize(cols, rows)

    def fileno(self) -> int:
        return self._slave

    def resize(self, cols: int, rows: int) -> None:
        fcntl.ioctl(self._slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def close(self) -> None:
        os.close(self._master)
        os.close(self._slave)


def resized_while_streaming(
    sizes: list[tuple[float, int]], *, markdown: bool, record: pathlib.Path | None = None
) -> tuple[list[tuple[float, str]], PtyTerminal]:
    """A paragraph of 120 words, one every 50 ms, on an 80-column terminal resized at
    the given times to the given widths: the writes, and the terminal (`record`: the
    ``--record`` file to write)."""
    clock = VirtualClock()
    sink = PtyTerminal(clock, 80, 24)
    words = [f"word{i:03d} " for i in range(120)]
    resizes = dict(sizes)

    def gen():  # type: ignore[no-untyped-def]
        for i, word in enumerate(words):
            t = round(i * 0.05, 2)
            clock.sleep_until(t)
            if t in resizes:
                sink.resize(resizes[t], 24)
            yield word

    try:
        outstream.stream(
            gen(),
            sink,
            clock=clock,
            render="markdown" if markdown else "plain",
            env={},
            record=record,
        )
    finally:
        sink.close()
    return sink.writes, sink


def test_a_live_region_draws_again_once_the_size_has_settled() -> None:
    # tmux reflows its screen at once and tells the program later: a window
    # dragged to 50 columns and back reads 50 for 250 ms while the screen is
    # 80 again. A frame drawn for 50 then goes up the wrong number of rows.
    writes, _ = resized_while_streaming([(1.0, 50), (1.1, 80)], markdown=True)
    # Nothing is drawn until the size has not changed for a while.
    assert min(t for t, _ in writes if t >= 1.0) == pytest.approx(1.1 + Lane.SETTLE)
    unchanged, _ = resized_while_streaming([], markdown=True)
    assert screen(writes) == screen(unchanged)  # back where it was: nothing else changed


def test_a_live_region_draws_for_the_size_it_settled_on_from_the_size_it_drew_for(
    tmp_path: pathlib.Path,
) -> None:
    cast = tmp_path / "shown.cast"
    sizes = [(1.0, 60), (1.2, 40), (1.3, 50)]
    writes, _ = resized_while_streaming(sizes, markdown=True, record=cast)
    assert min(t for t, _ in writes if t >= 1.0) == pytest.approx(1.3 + Lane.SETTLE)
    # The sizes read in between change nothing; it drew for the one it settled on.
    other, _ = resized_while_streaming([(1.0, 100), (1.2, 30), (1.3, 50)], markdown=True)
    assert writes == other
    events = [json.loads(line) for line in cast.read_text().splitlines()[1:]]
    assert [event[2] for event in events if event[1] == "r"] == ["50x24"]
    # The paragraph only grew: it goes on where its last line ends, at any width.
    back, _ = resized_while_streaming([(1.0, 60), (1.2, 40), (1.3, 80)], markdown=True)
    assert writes == back


def test_wrapping_follows_a_resize_at_once() -> None:
    writes, _ = resized_while_streaming([(1.0, 30)], markdown=False)
    assert min(t for t, _ in writes if t >= 1.0) < 1.0 + FRAME  # the next frame
    later = "".join(text for t, text in writes if t >= 1.0)
    assert max(len(line) for line in later.split("\n")[1:]) <= 30


def screen(writes: list[tuple[float, str]]) -> list[str]:
    return everything(play([text for _, text in writes], 80, 24))
