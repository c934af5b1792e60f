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
  sustained rate, estimated from whole bursts (so it does not depend on
  how a burst was chunked), and the smallest rate that shows every waiting
  unit within `lag` of its arrival. A unit that has waited `lag` is due
  regardless. The display thus flows at the source's pace, never trails it
  by more than `lag`, drains the tail within `lag` of the end, and shows a
  stall as a pause once the backlog is shown.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Protocol

from ..errors import UsageError
from .graphemes import Clusters
from .limits import MAX_CPS, MAX_LAG

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
    """Units that arrived together, and how many of them were already taken.

    The units are a list of strings, or a `Clusters` (grapheme clusters of
    one text, counted but not cut apart): from those, `take` cuts the text
    it shows, and `pos` is where the untaken part begins.
    """

    __slots__ = ("pos", "start", "t", "units")

    def __init__(self, units: Sequence[str], t: float) -> None:
        self.units = units
        self.start = 0
        self.pos = 0
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
        lazy = isinstance(units, Clusters)
        if not lazy:
            units = list(units)
        if (
            groups
            and t - groups[-1].t <= merge_within
            and not lazy
            and isinstance(groups[-1].units, list)
        ):
            last = groups[-1]
            last.units = [*last.units[last.start :], *units]
            last.start = 0
        else:
            groups.append(_Group(units, t))
        self.n_units += len(units)

    def take(self, n: int) -> list[str]:
        """The next `n` units, as strings to join (one may hold several units)."""
        out: list[str] = []
        groups = self._groups
        self.n_units -= n
        while n > 0:
            group = groups[0]
            units, start = group.units, group.start
            end = start + n
            if isinstance(units, Clusters):
                cut = units.text if end >= len(units) else units.text[: units.cut(group.pos, n)]
                out.append(cut[group.pos :])
                group.pos = len(cut)
            elif end >= len(units):
                out += units[start:] if start else units
            else:
                out += units[start:end]
            if end >= len(units):
                n -= len(units) - start
                groups.popleft()
            else:
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
            if isinstance(units, Clusters):
                text = units.text[group.pos : group.pos + limit - n]
                space = _FIRST_SPACE.search(text)
                if space is not None:
                    out.append(text[: space.end()])
                    return "".join(out)
                out.append(text)
                n += len(text)
                if n >= limit:
                    return "".join(out)
                continue
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


_FIRST_SPACE = re.compile(r"[ \t\n]")


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
            raise UsageError("give exactly one of cps and delay")
        if cps is not None and not (0 < cps <= MAX_CPS):
            raise UsageError(
                f"cps must be a positive number up to {MAX_CPS:g} (faster: Instant()), not {cps!r}"
            )
        if delay is not None and not (delay >= 1 / MAX_CPS and math.isfinite(delay)):
            raise UsageError(
                f"delay must be a number of seconds from {1 / MAX_CPS:g} (shorter: Instant()), "
                f"not {delay!r}"
            )
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
        # Shown ahead of the schedule: the next run is anchored when it comes.
        self._anchor, self._k = -math.inf, 0
        return self._backlog.take(len(self._backlog))

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

    Theory of operation. The rate at which the backlog is shown is the
    largest of:

    - the source's *sustained* rate, times `margin`, plus a pull on the
      standing queue. Arrivals are grouped into bursts (arrivals less than
      `_QUIET` apart: a proxy's batch, an SDK's tokens from one read), and
      each burst's units are spread over its period, from its start to the
      next burst's. The estimate is an exponential average of those
      per-period rates, weighted by each period's length (time constant
      `memory`): for bursts that come regularly it is exactly their rate,
      whatever the chunking and whenever it is read, so the display runs
      just faster than the source and finishes each burst just before the
      next. The *standing queue* is the least backlog seen over the last
      period: what never drains (a start-up backlog, a source that sped
      up). It is shown over `_PULL` seconds more, so the lag of a steady
      source falls to a frame or two instead of staying high.
    - the smallest rate that shows every waiting unit within its deadline
      (arrival + `lag`, planned a frame early so that jitter rarely forces
      anything), with at least `_MIN_ROOM` seconds for a unit close to its
      deadline: catching up, never dumping.

    A rate applies from the moment it was chosen: credit earned before a
    push is counted at the rate of that time. A unit that has waited `lag`
    is due regardless. So the display flows at the source's pace, never
    trails it by more than `lag`, drains the tail within `lag` of the end,
    and shows a stall as a pause once the backlog is shown.
    """

    counts_units = True

    # Arrivals closer than this are one burst.
    _QUIET = 0.005
    # A run of arrivals longer than this (a steady source) is measured in
    # pieces of about this length.
    _MAX_SPAN = 0.1
    # A period longer than this is a stall, counted as this long, so that a
    # stall does not drag the estimate down for the text that follows it.
    _MAX_GAP = 1.0
    # Until this much time has been measured, the estimate is the plain
    # average of what was measured (the exponential average starts from it).
    _MIN_SEEN = 0.1
    # The standing queue is shown over this many seconds more.
    _PULL = 0.5
    # Deadlines are planned this much early (a frame at 60 fps), so that the
    # jitter of real frames and arrivals seldom makes the lag bound force
    # units out.
    _PLAN_AHEAD = 1 / 60
    # The least time allowed for showing the units up to one near its
    # deadline: the catch-up rate stays finite.
    _MIN_ROOM = 1 / 30

    def __init__(self, lag: float = 0.5, *, margin: float = 1.05, memory: float = 2.0) -> None:
        if not (0 < lag <= MAX_LAG):
            raise UsageError(
                f"lag must be a positive number of seconds up to {MAX_LAG:g}, not {lag!r}"
            )
        if not margin >= 1:
            raise UsageError(f"margin must be >= 1, not {margin!r}")
        self.lag = lag
        self.margin = margin
        self.memory = memory
        self._backlog = _Backlog()
        self.rate = 0.0  # units per second at which the backlog is being shown
        self._credit = 0.0  # units earned but not yet shown
        self._last = 0.0  # when the credit was last counted
        self._burst_start: float | None = None  # the burst being gathered
        self._burst_last = 0.0
        self._burst_units = 0
        self._burst_period: float | None = None  # the period before it
        self._sum_units = 0  # until _MIN_SEEN: what was measured, for the plain average
        self._sum_time = 0.0
        self._estimate: float | None = None
        self._least_waiting = 0  # the smallest backlog since the burst began
        self._standing = 0  # the smallest backlog over the last period

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
        if self._backlog:
            self._accrue(now)
        else:
            # Text after a pause: its first unit is due at once, the rest
            # follow at the rate.
            self._last, self._credit = now, 1.0
        # Merging arrivals a millisecond apart keeps the groups few, whatever
        # the chunk size, and moves no deadline later.
        self._backlog.append(units, now, merge_within=0.001)
        self.rate = self._target_rate(now)

    def due(self, now: float) -> list[str]:
        backlog = self._backlog
        if not backlog:
            self._last = now
            return []
        self._accrue(now)
        n = int(self._credit + 1e-9)
        n = min(max(n, backlog.count_arrived_by(now - self.lag)), len(backlog))
        self._credit = max(self._credit - n, 0.0)
        out = backlog.take(n)
        self._least_waiting = min(self._least_waiting, len(backlog))
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

    def _accrue(self, now: float) -> None:
        if now > self._last:
            self._credit += self.rate * (now - self._last)
            self._last = now

    # --- rate ---

    def _observe(self, n_units: int, now: float) -> None:
        start = self._burst_start
        if (
            start is not None
            and now - self._burst_last < self._QUIET
            and now - start < self._MAX_SPAN
        ):
            self._burst_units += n_units
            self._burst_last = now
            return
        # A new burst: the one before it is complete.
        period = self._burst_period
        if period is not None:
            self._measured(self._burst_units, period)
        self._standing = self._least_waiting
        self._least_waiting = len(self._backlog)
        self._burst_period = None if start is None else min(now - start, self._MAX_GAP)
        self._burst_start = self._burst_last = now
        self._burst_units = n_units

    def _measured(self, n_units: int, period: float) -> None:
        if self._sum_time < self._MIN_SEEN:
            self._sum_units += n_units
            self._sum_time += period
            self._estimate = self._sum_units / self._sum_time
        else:
            assert self._estimate is not None
            rate = n_units / period
            self._estimate += (rate - self._estimate) * -math.expm1(-period / self.memory)

    def _rate_now(self) -> float | None:
        """The estimate, or while there is none, the burst being gathered over its period."""
        period = self._burst_period
        if self._estimate is None and period is not None:
            return self._burst_units / period
        return self._estimate

    def _target_rate(self, now: float) -> float:
        needed = 0.0
        n_before = 0
        plan = self.lag - min(self._PLAN_AHEAD, self.lag / 2)
        for t, n_group in self._backlog.groups():
            n_before += n_group
            needed = max(needed, n_before / max(t + plan - now, self._MIN_ROOM))
        estimate = self._rate_now()
        if estimate is None:
            return needed
        pull = min(self._standing, len(self._backlog)) / self._PULL
        return max(needed, estimate * self.margin + pull)
