"""Pacing: which units are due at a given time.

Theory of operation: a pacer is a queue with a schedule. `push(units, now)`
adds units that arrived at `now`; `due(now)` pops every unit whose time has
come; `next_deadline()` says when the next one will be due (``None`` when
nothing waits). A pacer never reads a clock and never sleeps, so the same
object runs under the real clock, under a virtual one in tests, and in the
sync and async drivers alike. Frames (at most one write per 1/fps s) are the
pipeline's business: a pacer only says what is due, and at a frame every due
unit goes out in one write.

- `Instant`: everything is due as soon as it arrives.
- `Typewriter`: unit *k* of a run is due at ``anchor + k / cps``. The schedule
  is absolute, so error never accumulates, and when the queue has run dry and
  the next unit would already be late, the run re-anchors at its arrival: a
  pause in the source is a pause on screen, never a catch-up burst.
- `Smooth`: for bursty sources. Its rate is the larger of two: the source's
  sustained rate, estimated from arrivals (a ratio of exponentially decayed
  sums of units and of gaps, so it moves gradually), and the smallest rate
  that shows every waiting unit within `lag` of its arrival. A unit that has
  waited `lag` is due regardless. The display thus flows at the source's
  pace, never trails it by more than `lag`, drains the tail within `lag` of
  the end, and shows a stall as a pause once the backlog is shown.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Protocol

__all__ = ["Instant", "Pacer", "Smooth", "Typewriter"]


class Pacer(Protocol):
    """What the pipeline needs of a pacing policy.

    ``counts_units`` is False for a pacer that only passes text through
    (`Instant`): the pipeline then skips cutting text into units.
    """

    counts_units: bool

    def push(self, units: Sequence[str], now: float) -> None: ...

    def due(self, now: float) -> list[str]: ...

    def drain(self) -> list[str]: ...

    def next_deadline(self) -> float | None: ...

    def peek(self, limit: int) -> str:
        """What waits at the front, up to its first whitespace or `limit` characters."""
        ...

    @property
    def n_waiting(self) -> int: ...


class _Group:
    """Units that arrived together, and how many of them were already taken."""

    __slots__ = ("start", "t", "units")

    def __init__(self, units: list[str], t: float) -> None:
        self.units = units
        self.start = 0
        self.t = t


class _Backlog:
    """Units waiting to be shown, in groups that share an arrival time."""

    def __init__(self) -> None:
        self._groups: deque[_Group] = deque()
        self.n_units = 0

    def __len__(self) -> int:
        return self.n_units

    def append(self, units: Sequence[str], t: float, merge_within: float = -1.0) -> None:
        if not units:
            return
        groups = self._groups
        if groups and t - groups[-1].t <= merge_within:
            last = groups[-1]
            last.units = [*last.units[last.start :], *units]
            last.start = 0
        else:
            groups.append(_Group(list(units), t))
        self.n_units += len(units)

    def take(self, n: int) -> list[str]:
        out: list[str] = []
        groups = self._groups
        self.n_units -= n
        while n > 0:
            group = groups[0]
            units, start = group.units, group.start
            end = start + n
            if end >= len(units):
                out += units[start:] if start else units
                n -= len(units) - start
                groups.popleft()
            else:
                out += units[start:end]
                group.start = end
                n = 0
        return out

    def oldest(self) -> float | None:
        return self._groups[0].t if self._groups else None

    def groups(self) -> Iterator[tuple[float, int]]:
        """(arrival time, units still waiting) for each group, oldest first."""
        for group in self._groups:
            yield group.t, len(group.units) - group.start

    def peek(self, limit: int) -> str:
        """The waiting text from the front, up to its first whitespace or `limit` characters."""
        out: list[str] = []
        n = 0
        for group in self._groups:
            units = group.units
            for i in range(group.start, len(units)):
                unit = units[i]
                out.append(unit)
                n += len(unit)
                if n >= limit or " " in unit or "\n" in unit or "\t" in unit:
                    return "".join(out)
        return "".join(out)

    def count_arrived_by(self, t_cut: float) -> int:
        n = 0
        for t, n_group in self.groups():
            if t > t_cut:
                break
            n += n_group
        return n


class Instant:
    """Every unit is due as soon as it arrives."""

    counts_units = False

    def __init__(self) -> None:
        self._backlog = _Backlog()

    def __repr__(self) -> str:
        return "Instant()"

    @property
    def n_waiting(self) -> int:
        return len(self._backlog)

    def push(self, units: Sequence[str], now: float) -> None:
        self._backlog.append(units, now, merge_within=math.inf)

    def due(self, now: float) -> list[str]:
        return self.drain()

    def drain(self) -> list[str]:
        return self._backlog.take(len(self._backlog))

    def peek(self, limit: int) -> str:
        return self._backlog.peek(limit)

    def next_deadline(self) -> float | None:
        return self._backlog.oldest()


class Typewriter:
    """A fixed rate: unit *k* of a run is due at ``anchor + k / cps``.

    Args:
        cps: units per second (characters per second with the default unit).
        delay: seconds per unit instead of `cps`; give one or the other.
    """

    counts_units = True

    def __init__(self, cps: float | None = None, *, delay: float | None = None) -> None:
        if (cps is None) == (delay is None):
            raise ValueError("give exactly one of cps and delay")
        if cps is not None and not (cps > 0 and math.isfinite(cps)):
            raise ValueError(f"cps must be a positive number, not {cps!r}")
        if delay is not None and not (delay > 0 and math.isfinite(delay)):
            raise ValueError(f"delay must be a positive number of seconds, not {delay!r}")
        self.cps: float = cps if cps is not None else 1 / delay  # type: ignore[operator]
        self.delay = delay
        self._backlog = _Backlog()
        self._anchor = -math.inf
        self._k = 0  # index, in the current run, of the next unit to show

    def __repr__(self) -> str:
        if self.delay is not None:
            return f"Typewriter(delay={self.delay!r})"
        return f"Typewriter(cps={self.cps!r})"

    @property
    def n_waiting(self) -> int:
        return len(self._backlog)

    def due_at(self, k: int) -> float:
        """When unit `k` of the current run is due."""
        if self.delay is not None:
            return self._anchor + k * self.delay
        return self._anchor + k / self.cps

    def push(self, units: Sequence[str], now: float) -> None:
        if not units:
            return
        if not self._backlog and self.due_at(self._k) < now:
            self._anchor, self._k = now, 0
        self._backlog.append(units, now)

    def due(self, now: float) -> list[str]:
        if not self._backlog or self.due_at(self._k) > now:
            return []
        # The last index due by `now`, estimated, then made exact against
        # due_at() itself so that a clock standing on a deadline sees it due.
        last = max(self._k, math.floor((now - self._anchor) * self.cps))
        while self.due_at(last + 1) <= now:
            last += 1
        while self.due_at(last) > now:
            last -= 1
        n = min(last - self._k + 1, len(self._backlog))
        self._k += n
        return self._backlog.take(n)

    def drain(self) -> list[str]:
        n = len(self._backlog)
        self._k += n
        return self._backlog.take(n)

    def peek(self, limit: int) -> str:
        return self._backlog.peek(limit)

    def next_deadline(self) -> float | None:
        return self.due_at(self._k) if self._backlog else None


class Smooth:
    """Even flow from a bursty source, never more than `lag` behind it.

    Args:
        lag: the most a unit may wait between arriving and being due, in
            seconds.
        margin: the display runs this much faster than the estimated source
            rate, so that it catches up instead of trailing by `lag`.
        memory: time constant, in seconds, of the source-rate estimate.
    """

    counts_units = True

    # Arrivals this close to the stream's first one are its first burst: they
    # carry no information about the rate (there is no gap to divide by).
    _FIRST_BURST = 0.02
    # A gap longer than this is a stall, counted as this long, so that a
    # stall does not drag the estimate down for the text that follows it.
    _MAX_GAP = 1.0
    # The estimate is used once this much time has been seen.
    _MIN_SEEN = 0.05
    # Time constant of the low-pass on the estimate.
    _SETTLE = 0.5

    def __init__(self, lag: float = 0.5, *, margin: float = 1.05, memory: float = 2.0) -> None:
        if not (lag > 0 and math.isfinite(lag)):
            raise ValueError(f"lag must be a positive number of seconds, not {lag!r}")
        if not margin >= 1:
            raise ValueError(f"margin must be >= 1, not {margin!r}")
        self.lag = lag
        self.margin = margin
        self.memory = memory
        self._backlog = _Backlog()
        self.rate = 0.0  # units per second at which the backlog is being shown
        self._credit = 0.0  # units earned but not yet shown
        self._last = 0.0  # time of the last push into an empty backlog or due()
        self._t_first: float | None = None
        self._t_prev = 0.0
        self._sum_units = 0.0
        self._sum_time = 0.0
        self._raw: float | None = None  # the ratio of the decayed sums
        self._estimate: float | None = None  # the same, low-passed

    def __repr__(self) -> str:
        return f"Smooth(lag={self.lag!r})"

    @property
    def n_waiting(self) -> int:
        return len(self._backlog)

    @property
    def source_rate(self) -> float | None:
        """The estimated sustained rate of the source, units per second."""
        return self._estimate

    def push(self, units: Sequence[str], now: float) -> None:
        if not units:
            return
        self._observe(len(units), now)
        if not self._backlog:
            self._last, self._credit = now, 0.0
        # Merging arrivals a millisecond apart keeps the groups few, whatever
        # the chunk size, and moves no deadline later.
        self._backlog.append(units, now, merge_within=0.001)
        self.rate = self._target_rate(now)

    def due(self, now: float) -> list[str]:
        backlog = self._backlog
        if not backlog:
            self._last = now
            return []
        self._credit += self.rate * (now - self._last)
        self._last = now
        n = int(self._credit + 1e-9)
        n = min(max(n, backlog.count_arrived_by(now - self.lag)), len(backlog))
        self._credit = max(self._credit - n, 0.0)
        out = backlog.take(n)
        if backlog:
            self.rate = self._target_rate(now)
        else:
            self._credit = 0.0
        return out

    def drain(self) -> list[str]:
        self._credit = 0.0
        return self._backlog.take(len(self._backlog))

    def peek(self, limit: int) -> str:
        return self._backlog.peek(limit)

    def next_deadline(self) -> float | None:
        oldest = self._backlog.oldest()
        if oldest is None:
            return None
        forced = oldest + self.lag
        if self.rate <= 0:
            return forced
        return min(self._last + max(1.0 - self._credit, 0.0) / self.rate, forced)

    # --- rate ---

    def _observe(self, n_units: int, now: float) -> None:
        if self._t_first is None:
            self._t_first = self._t_prev = now
            return
        gap = min(now - self._t_prev, self._MAX_GAP)
        self._t_prev = now
        if self._sum_time == 0.0 and now - self._t_first <= self._FIRST_BURST:
            return
        decay = math.exp(-gap / self.memory)
        self._sum_units = self._sum_units * decay + n_units
        self._sum_time = self._sum_time * decay + gap
        # The ratio dips when a burst's first chunk brings the whole gap and
        # few units, and recovers as the rest of the burst lands; a low-pass
        # (time constant _SETTLE) keeps that sawtooth off the display.
        if self._raw is not None and self._estimate is not None:
            self._estimate += (self._raw - self._estimate) * (1 - math.exp(-gap / self._SETTLE))
        if self._sum_time >= self._MIN_SEEN:
            self._raw = self._sum_units / self._sum_time
            if self._estimate is None:
                self._estimate = self._raw

    def _target_rate(self, now: float) -> float:
        needed = 0.0
        n_before = 0
        for t, n_group in self._backlog.groups():
            n_before += n_group
            room = t + self.lag - now
            if room > 0:
                needed = max(needed, n_before / room)
        estimate = self.source_rate
        if estimate is None:
            return needed
        return max(needed, estimate * self.margin)
