"""Honest numbers about a stream, gathered as it runs; pure, times passed in."""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from .graphemes import count_graphemes

__all__ = ["Stats", "StatsRecorder"]


def _quantile(values: array[float], q: float) -> float | None:
    """Nearest-rank quantile (the smallest value with at least q of them at or below)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Stats:
    """What happened in one stream. Times in seconds; None where undefined.

    ``time_to_first_text`` runs from the start to the arrival of the first
    text; ``gap_*`` are the times between consecutive chunks' arrivals;
    ``lag_*`` run from a chunk's arrival until its last character was
    written; ``n_writes`` and ``n_flushes`` count the calls made on the sink.
    """

    time_to_first_text: float | None
    total_time: float
    n_chunks: int
    n_chars: int
    n_graphemes: int
    n_words: int
    chars_per_s: float | None
    gap_p50: float | None
    gap_p95: float | None
    gap_max: float | None
    lag_p50: float | None
    lag_p99: float | None
    lag_max: float | None
    n_writes: int
    n_flushes: int

    def format(self) -> str:
        """The compact block that ``--stats`` prints."""

        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value * 1000:.0f} ms"

        def s(value: float | None) -> str:
            return "-" if value is None else f"{value:.3f} s"

        rate = "-" if self.chars_per_s is None else f"{self.chars_per_s:,.0f} chars/s"
        return "\n".join(
            [
                f"outstream: {self.n_chars:,} chars, {self.n_graphemes:,} graphemes, "
                f"{self.n_words:,} words in {self.n_chunks:,} chunks",
                f"  first text {s(self.time_to_first_text)}   total {s(self.total_time)}   {rate}",
                f"  gaps  p50 {ms(self.gap_p50)}  p95 {ms(self.gap_p95)}  max {ms(self.gap_max)}",
                f"  lag   p50 {ms(self.lag_p50)}  p99 {ms(self.lag_p99)}  max {ms(self.lag_max)}",
                f"  writes {self.n_writes:,}   flushes {self.n_flushes:,}",
            ]
        )


class StatsRecorder:
    """Collects arrivals and emissions; `snapshot(now, ...)` makes a `Stats`.

    Lag is measured per batch of chunks taken together from the source, from
    the batch's first arrival: when chunks come faster than they are taken,
    the figure errs on the high side, never the low one.
    """

    def __init__(self, t_start: float) -> None:
        self.t_start = t_start
        self.t_first_text: float | None = None
        self._times: array[float] = array("d")  # every chunk's arrival
        self._n_chars_in = 0
        # (index one past a chunk's last char, its arrival time), oldest first
        self._pending: deque[tuple[int, float]] = deque()
        self._lags: array[float] = array("d")
        self.n_chars = 0
        self.n_graphemes = 0
        self.n_words = 0
        self._in_word = False

    def arrived(self, t: float, n_chars: int, times: Sequence[float] = ()) -> None:
        """At `t`, `n_chars` of text became showable; `times` are the chunks' arrivals."""
        if times:
            self._times.extend(times)
        if n_chars:
            if self.t_first_text is None:
                self.t_first_text = t
            self._n_chars_in += n_chars
            self._pending.append((self._n_chars_in, t))

    def shown(self, text: str, now: float) -> None:
        """`text` was written at `now`."""
        if not text:
            return
        self.n_chars += len(text)
        self.n_graphemes += count_graphemes(text)
        n_words = len(text.split())
        if n_words and self._in_word and not text[0].isspace():
            n_words -= 1
        self.n_words += n_words
        self._in_word = not text[-1].isspace()
        pending = self._pending
        while pending and pending[0][0] <= self.n_chars:
            self._lags.append(now - pending.popleft()[1])

    def snapshot(self, now: float, *, n_writes: int = 0, n_flushes: int = 0) -> Stats:
        total = now - self.t_start
        first = None if self.t_first_text is None else self.t_first_text - self.t_start
        lags = self._lags
        times = self._times
        gaps = array("d", map(float.__sub__, times[1:], times[:-1]))
        return Stats(
            time_to_first_text=first,
            total_time=total,
            n_chunks=len(times),
            n_chars=self.n_chars,
            n_graphemes=self.n_graphemes,
            n_words=self.n_words,
            chars_per_s=self.n_chars / total if total > 0 else None,
            gap_p50=_quantile(gaps, 0.50),
            gap_p95=_quantile(gaps, 0.95),
            gap_max=max(gaps) if gaps else None,
            lag_p50=_quantile(lags, 0.50),
            lag_p99=_quantile(lags, 0.99),
            lag_max=max(lags) if lags else None,
            n_writes=n_writes,
            n_flushes=n_flushes,
        )
