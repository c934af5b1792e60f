"""Honest numbers about a stream, gathered as it runs; pure, times passed in."""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..events import Usage

if TYPE_CHECKING:
    from .counts import TextCounter

__all__ = ["Stats", "StatsRecorder"]

# Quantiles are taken over at most this many values, sampled evenly (every
# k-th); the maxima are exact. Sorting a million gaps would cost more than
# streaming them.
_QUANTILE_SAMPLE = 100_000


def _quantile(ordered: Sequence[float], q: float) -> float | None:
    """Nearest-rank quantile of sorted values (the smallest with at least q of them at or below)."""
    if not ordered:
        return None
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


def _sample_sorted(values: Sequence[float], limit: int = _QUANTILE_SAMPLE) -> list[float]:
    """`values` sorted; beyond `limit` of them, an even sample of them, sorted."""
    if len(values) <= limit:
        return sorted(values)
    return sorted(values[:: math.ceil(len(values) / limit)])


def _longest_gap(times: Sequence[float], longest: float) -> float:
    """The longest gap between consecutive `times` (non-decreasing), if longer than `longest`.

    A stretch of times that spans no more than the longest gap so far holds
    no longer one, so halves are looked into only while they span more: a
    fast source's arrivals cost a few comparisons a batch, not one a chunk.
    """
    stretches = [(0, len(times) - 1)]
    while stretches:
        lo, hi = stretches.pop()
        if hi <= lo or times[hi] - times[lo] <= longest:
            continue
        if hi - lo <= 32:
            longest = max(longest, max(map(float.__sub__, times[lo + 1 : hi + 1], times[lo:hi])))
            continue
        mid = (lo + hi) // 2
        stretches += ((lo, mid), (mid, hi))
    return longest


@dataclass(frozen=True, slots=True, kw_only=True)
class Stats:
    """What happened in one stream. Times in seconds; None where undefined.

    Quantiles of more than 100,000 values are taken over an even sample of
    them (every k-th); maxima are always exact.

    ``time_to_first_text`` runs from the start to the arrival of the first
    text; the start is the request's (``from_request``) when the stream was
    given a function to call, an awaitable or ``started=``, or is
    ``outstream ask``'s; else it is the call to `stream`, which an SDK's
    stream object reaches only after its request was answered; ``gap_*`` are the times between consecutive chunks' arrivals;
    ``lag_*`` run from a chunk's arrival until its last character was
    written; ``n_graphemes`` and ``n_words`` are None when counting was
    turned off; ``n_writes`` and ``n_flushes`` count the calls made on the sink.
    """

    time_to_first_text: float | None
    total_time: float
    n_chunks: int
    n_chars: int
    n_graphemes: int | None
    n_words: int | None
    chars_per_s: float | None
    gap_p50: float | None
    gap_p95: float | None
    gap_max: float | None
    lag_p50: float | None
    lag_p99: float | None
    lag_max: float | None
    n_writes: int
    n_flushes: int
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    tokens_per_s: float | None = None
    from_model: bool = False
    from_request: bool = False

    def format(self) -> str:
        """The compact block that ``--stats`` prints."""

        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value * 1000:.0f} ms"

        def count(value: int | None, noun: str) -> str:
            if value is None:
                return f"- {noun}s"
            return f"{value:,} {noun}{'' if value == 1 else 's'}"

        def s(value: float | None) -> str:
            return "-" if value is None else f"{value:.3f} s"

        rate = "-" if self.chars_per_s is None else f"{self.chars_per_s:,.0f} chars/s"
        since = " from the request" if self.from_request else ""
        return "\n".join(
            [
                f"outstream: {count(self.n_chars, 'char')}, {count(self.n_graphemes, 'grapheme')}, "
                f"{count(self.n_words, 'word')} in {count(self.n_chunks, 'chunk')}",
                f"  first text {s(self.time_to_first_text)}{since}   "
                f"total {s(self.total_time)}   {rate}",
                f"  gaps  p50 {ms(self.gap_p50)}  p95 {ms(self.gap_p95)}  max {ms(self.gap_max)}",
                f"  lag   p50 {ms(self.lag_p50)}  p99 {ms(self.lag_p99)}  max {ms(self.lag_max)}",
                f"  writes {self.n_writes:,}   flushes {self.n_flushes:,}",
                *([self._format_tokens()] if self.from_model else []),
            ]
        )

    def _format_tokens(self) -> str:
        if self.prompt_tokens is None and self.completion_tokens is None:
            return "  tokens: not reported by the source"
        rate = "" if self.tokens_per_s is None else f"   {self.tokens_per_s:,.1f} tokens/s"
        prompt = "-" if self.prompt_tokens is None else f"{self.prompt_tokens:,}"
        completion = "-" if self.completion_tokens is None else f"{self.completion_tokens:,}"
        total = "" if self.total_tokens is None else f"  total {self.total_tokens:,}"
        return f"  tokens  prompt {prompt}  completion {completion}{total}{rate}"


class StatsRecorder:
    """Collects arrivals and emissions; `snapshot(now, ...)` makes a `Stats`.

    Lag is measured per batch of chunks taken together from the source, from
    the batch's first arrival: when chunks come faster than they are taken,
    the figure errs on the high side, never the low one.
    """

    def __init__(self, t_start: float, *, count_text: bool = True) -> None:
        self.t_start = t_start
        self.count_text = count_text
        self.t_first_text: float | None = None
        self._times: array[float] = array("d")  # every chunk's arrival, 8 bytes each
        self._gap_max = -math.inf  # the longest gap between two arrivals so far
        self._n_chars_in = 0
        # (index one past a chunk's last char, its arrival time), oldest first
        self._pending: deque[tuple[int, float]] = deque()
        self._lags: array[float] = array("d")
        self.n_chars = 0
        # Graphemes and words, exactly and in linear time (core/counts.py,
        # imported only to count: its tables cost start-up time).
        self._counter: TextCounter | None = None
        if count_text:
            from .counts import text_counter

            self._counter = text_counter()
        self.usage: Usage | None = None  # what the provider reported, if it did
        self.from_model = False  # the source is a model's stream (so tokens may be reported)
        self.from_request = False  # t_start is when its request began
        self._t_last_text: float | None = None

    def arrived(self, t: float, n_chars: int, times: Sequence[float] = ()) -> None:
        """At `t`, `n_chars` of text became showable; `times` are the chunks' arrivals.

        Only the differences of `times` are used, so they may be on a shifted timeline.
        """
        if times:
            known = self._times
            if known:
                self._gap_max = max(self._gap_max, times[0] - known[-1])
            self._gap_max = _longest_gap(times, self._gap_max)
            known.extend(times)
        if n_chars:
            self._t_last_text = t
            if self.t_first_text is None:
                self.t_first_text = t
            self._n_chars_in += n_chars
            self._pending.append((self._n_chars_in, t))

    @property
    def n_chars_waiting(self) -> int:
        """Characters that arrived and are not shown yet (paced, held, or being rendered)."""
        return max(self._n_chars_in - self.n_chars, 0)

    def shown(self, text: str, now: float, utf8: bytes | None = None) -> None:
        """`text` was written at `now`; `utf8` is its UTF-8, if known (it saves encoding it)."""
        if not text:
            return
        self.n_chars += len(text)
        if self._counter is not None:
            self._counter.count(text, utf8)
        pending = self._pending
        while pending and pending[0][0] <= self.n_chars:
            self._lags.append(now - pending.popleft()[1])

    @property
    def n_graphemes(self) -> int:
        return 0 if self._counter is None else self._counter.n_graphemes

    @property
    def n_words(self) -> int:
        return 0 if self._counter is None else self._counter.n_words

    def snapshot(self, now: float, *, n_writes: int = 0, n_flushes: int = 0) -> Stats:
        total = now - self.t_start
        first = None if self.t_first_text is None else self.t_first_text - self.t_start
        lags = self._lags
        times = self._times
        gap_max = self._gap_max if len(times) > 1 else None
        step = math.ceil((len(times) - 1) / _QUANTILE_SAMPLE) if len(times) > 1 else 1
        gaps = sorted([times[i + 1] - times[i] for i in range(0, len(times) - 1, step)])
        lag_max = max(lags) if lags else None
        lags_sorted = _sample_sorted(lags)
        return Stats(
            time_to_first_text=first,
            total_time=total,
            n_chunks=len(times),
            n_chars=self.n_chars,
            n_graphemes=self.n_graphemes if self.count_text else None,
            n_words=self.n_words if self.count_text else None,
            chars_per_s=self.n_chars / total if total > 0 else None,
            gap_p50=_quantile(gaps, 0.50),
            gap_p95=_quantile(gaps, 0.95),
            gap_max=gap_max,
            lag_p50=_quantile(lags_sorted, 0.50),
            lag_p99=_quantile(lags_sorted, 0.99),
            lag_max=lag_max,
            n_writes=n_writes,
            n_flushes=n_flushes,
            prompt_tokens=self.usage.prompt_tokens if self.usage else None,
            completion_tokens=self.usage.completion_tokens if self.usage else None,
            total_tokens=self.usage.total_tokens if self.usage else None,
            tokens_per_s=self._tokens_per_s(),
            from_model=self.from_model,
            from_request=self.from_request,
        )

    def _tokens_per_s(self) -> float | None:
        """Completion tokens per second of generation: the provider's own time if it gave one,
        else from the first text to the last."""
        usage = self.usage
        if usage is None or not usage.completion_tokens:
            return None
        seconds = usage.generation_seconds
        if seconds is None and self.t_first_text is not None and self._t_last_text is not None:
            seconds = self._t_last_text - self.t_first_text
        return usage.completion_tokens / seconds if seconds else None
