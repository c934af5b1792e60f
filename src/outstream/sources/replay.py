"""Recordings played back: a source that gives each item of a script at its time.

`replay` reads a recording (`outstream.recordings`) and plays it;
`ScriptedSource` plays a script of ``(t, item)`` pairs on the driver's
clock, so a recording is a test fixture for the virtual clock
(`outstream.testing.VirtualClock`) as much as a replay on the real one.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..recordings import read_recording

if TYPE_CHECKING:
    from ..clock import Clock

__all__ = ["ScriptedSource", "replay", "retimed"]


class ScriptedSource:
    """A source that gives each item at its scripted time, pausing on a clock.

    Args:
        script: ``(t, item)`` pairs, ``t`` in seconds from the moment the
            source is first read, and non-decreasing. An item is text (str or
            bytes), a side event (`Reasoning`, `Usage`, `Other`, `Finish`),
            or an exception, which makes the source fail at that time.
        end: when the source ends; by default, with its last item.
        clock: what it pauses on (`Clock.sleep_until`): the system clock by
            default, a `outstream.testing.VirtualClock` in a test — the same
            one given to `stream`.

    It is an iterable and an async iterable like any other source: the
    drivers read it through the same reader thread or task, channel and
    loop as a model's stream. With a virtual clock a test runs in no real
    time and every arrival is exact; with the system clock it plays in real
    time (`replay`), and a driver that falls behind finds everything that
    came meanwhile waiting for it.
    """

    def __init__(
        self,
        script: Iterable[tuple[float, object]],
        *,
        end: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.script = list(script)
        times = [t for t, _ in self.script]
        if any(b < a for a, b in itertools.pairwise(times)):
            raise ValueError("script times must not decrease")
        self.end = end if end is not None else (times[-1] if times else 0.0)
        if times and self.end < times[-1]:
            raise ValueError("the end comes before the last chunk")
        if clock is None:
            from ..clock import SystemClock

            clock = SystemClock()
        self.clock = clock

    def __iter__(self) -> Iterator[object]:
        clock = self.clock
        t0 = clock.now()
        for t, item in self.script:
            clock.sleep_until(t0 + t)
            if isinstance(item, BaseException):
                raise item
            yield item
        clock.sleep_until(t0 + self.end)

    async def __aiter__(self) -> AsyncIterator[object]:
        clock = self.clock
        t0 = clock.now()
        for t, item in self.script:
            await clock.asleep_until(t0 + t)
            if isinstance(item, BaseException):
                raise item
            yield item
        await clock.asleep_until(t0 + self.end)


def replay(
    path: str | os.PathLike[str],
    *,
    speed: float = 1.0,
    max_idle: float | None = None,
    instant: bool = False,
    clock: Clock | None = None,
) -> ScriptedSource:
    """A recording as a source: its deltas (a ``.jsonl``) or its output (a ``.cast``), in time.

    Args:
        path: a file written by ``--save-deltas`` (or ``save_deltas=``), or
            an asciicast v2 file (``--record``): its output events, to be
            shown with ``escapes="raw"``.
        speed: play this many times faster (2: in half the time).
        max_idle: shorten every pause longer than this many seconds to it.
        instant: ignore the timing: everything at once.
        clock: what the playback pauses on: the system clock by default;
            a `outstream.testing.VirtualClock` (the one given to `stream`)
            in a test.

    Raises:
        SourceError: the file is not a recording, or a line of it is
            malformed (the message names the line).
        OSError: the file cannot be read.
    """
    if not speed > 0:
        raise UsageError(f"speed must be positive, not {speed!r}")
    if max_idle is not None and not max_idle > 0:
        raise UsageError(f"max_idle must be positive, not {max_idle!r}")
    script, end = read_recording(path)
    script, end = retimed(script, end, speed=speed, max_idle=max_idle, instant=instant)
    return ScriptedSource(script, end=end, clock=clock)


def retimed(
    script: list[tuple[float, object]],
    end: float,
    *,
    speed: float,
    max_idle: float | None,
    instant: bool,
) -> tuple[list[tuple[float, object]], float]:
    """The script played `speed` times faster, pauses capped at `max_idle` (or all at once)."""
    if instant:
        return [(0.0, item) for _, item in script], 0.0
    out: list[tuple[float, object]] = []
    previous = now = 0.0
    for t, item in [*script, (end, None)]:
        gap = t - previous
        if max_idle is not None:
            gap = min(gap, max_idle)
        previous = t
        now += gap / speed
        out.append((now, item))
    new_end = out.pop()[0]
    return out, new_end
