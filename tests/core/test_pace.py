from __future__ import annotations

import itertools

import pytest

from outstream.core.pace import Instant, Smooth, Typewriter


def run_pacer(
    pacer, arrivals: list[tuple[float, list[str]]], *, frame: float = 0.0, until: float = 60.0
):  # type: ignore[no-untyped-def]
    """Drive a pacer like the pipeline does: (time, unit) for every unit shown."""
    shown: list[tuple[float, str]] = []
    arrivals = sorted(arrivals, key=lambda a: a[0])
    i = 0
    now = 0.0
    last_release = -1e9
    for _ in range(1_000_000):  # a hang guard: every pass moves time or shows a unit
        if now > until:
            break
        while i < len(arrivals) and arrivals[i][0] <= now:
            pacer.push(arrivals[i][1], arrivals[i][0])
            i += 1
        if now >= last_release + frame:
            units = pacer.due(now)
            if units:
                last_release = now
                shown += [(now, u) for u in units]
        candidates = [arrivals[i][0]] if i < len(arrivals) else []
        deadline = pacer.next_deadline()
        if deadline is not None:
            candidates.append(max(deadline, last_release + frame))
        if not candidates:
            break
        now = max(min(candidates), now)
    return shown


def test_instant_shows_everything_when_it_arrives() -> None:
    pacer = Instant()
    pacer.push(["a", "b"], 1.0)
    assert pacer.next_deadline() == 1.0
    assert pacer.due(1.0) == ["a", "b"]
    assert pacer.next_deadline() is None


def test_typewriter_unit_k_is_due_at_t0_plus_k_over_cps() -> None:
    pacer = Typewriter(cps=4)
    pacer.push(list("abcdef"), 10.0)
    assert pacer.due(10.0) == ["a"]
    assert pacer.next_deadline() == 10.25
    assert pacer.due(10.24) == []
    assert pacer.due(10.25) == ["b"]
    assert pacer.due(10.75) == ["c", "d"]  # a late poll gets every unit due, no more
    assert pacer.next_deadline() == 11.0
    assert pacer.due(100.0) == ["e", "f"]


def test_typewriter_schedule_is_absolute_so_error_does_not_accumulate() -> None:
    pacer = Typewriter(cps=3)
    pacer.push(["x"] * 3001, 0.0)
    times = []
    now = 0.0
    while pacer.n_waiting:
        for _ in pacer.due(now):
            times.append(now)
        deadline = pacer.next_deadline()
        if deadline is None:
            break
        now = deadline
    assert len(times) == 3001
    assert times[3000] == 1000.0
    assert times[1] == 1 / 3


def test_typewriter_from_a_delay() -> None:
    pacer = Typewriter(delay=0.1)
    assert pacer.cps == pytest.approx(10)
    pacer.push(list("abc"), 0.0)
    pacer.due(0.0)
    assert pacer.next_deadline() == 0.1
    assert repr(pacer) == "Typewriter(delay=0.1)"


def test_typewriter_keeps_its_schedule_when_text_comes_before_the_next_slot() -> None:
    pacer = Typewriter(cps=10)
    pacer.push(["a"], 0.0)
    assert pacer.due(0.0) == ["a"]
    pacer.push(["b"], 0.05)  # the next slot (0.1) is still ahead
    assert pacer.next_deadline() == 0.1


def test_typewriter_re_anchors_after_the_source_ran_dry_no_catch_up_burst() -> None:
    pacer = Typewriter(cps=10)
    pacer.push(list("ab"), 0.0)
    assert pacer.due(0.0) == ["a"]
    assert pacer.due(0.1) == ["b"]
    pacer.push(list("cde"), 5.0)  # five seconds late: no burst of 48 slots
    assert pacer.due(5.0) == ["c"]
    assert pacer.next_deadline() == 5.1


def test_typewriter_many_units_per_frame_at_high_rates() -> None:
    shown = run_pacer(Typewriter(cps=20_000), [(0.0, ["x"] * 20_000)], frame=1 / 60)
    frames = sorted({t for t, _ in shown})
    assert len(shown) == 20_000
    assert len(frames) <= 61  # one second of text in at most 60 frames (and the first)
    assert shown[-1][0] <= 1.0 + 1 / 60


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan")])
def test_typewriter_rejects_a_bad_rate(bad: float) -> None:
    with pytest.raises(ValueError):
        Typewriter(cps=bad)
    with pytest.raises(ValueError):
        Typewriter(delay=bad)


def test_typewriter_needs_exactly_one_of_cps_and_delay() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Typewriter()
    with pytest.raises(ValueError, match="exactly one"):
        Typewriter(cps=1, delay=1)


# --- Smooth ---


def bursts(
    n_bursts: int, per_burst: int, every: float, *, spread: float = 0.0001, token: str = "abcd "
) -> list[tuple[float, list[str]]]:
    return [
        (b * every + i * spread, list(token)) for b in range(n_bursts) for i in range(per_burst)
    ]


def lags(shown: list[tuple[float, str]], arrivals: list[tuple[float, list[str]]]) -> list[float]:
    times = [t for t, units in sorted(arrivals, key=lambda a: a[0]) for _ in units]
    assert len(times) == len(shown)
    return [s - a for (s, _), a in zip(shown, times, strict=True)]


def test_smooth_never_shows_a_unit_later_than_lag_after_it_arrived() -> None:
    for arrivals in (bursts(20, 50, 0.5), bursts(20, 150, 0.5), bursts(10, 50, 2.0)):
        shown = run_pacer(Smooth(lag=0.5), arrivals, frame=1 / 60)
        assert max(lags(shown, arrivals)) <= 0.5 + 1 / 60 + 1e-9


def test_smooth_flows_evenly_through_bursts() -> None:
    arrivals = bursts(20, 50, 0.5)  # 250 chars every 0.5 s
    shown = run_pacer(Smooth(lag=0.5), arrivals, frame=1 / 60)
    windows = [0] * 100
    for t, _ in shown:
        windows[int(t / 0.1)] += 1
    middle = windows[5:95]
    mean = sum(middle) / len(middle)
    sd = (sum((w - mean) ** 2 for w in middle) / len(middle)) ** 0.5
    assert mean == pytest.approx(50, rel=0.05)
    assert sd / mean <= 0.25


def test_smooth_does_not_fall_behind_a_fast_steady_source() -> None:
    arrivals = [(i / 300, list("token")) for i in range(300 * 20)]  # 300 tokens/s for 20 s
    shown = run_pacer(Smooth(lag=0.5), arrivals, frame=1 / 60)
    lag = lags(shown, arrivals)
    assert max(lag[-1500:]) <= 0.5 + 1 / 60 + 1e-9
    assert max(lag[-1500:]) <= max(lag[:1500]) + 1 / 60


def test_smooth_drains_the_tail_within_lag_of_the_end() -> None:
    arrivals = [(0.0, ["x"] * 1000)]
    shown = run_pacer(Smooth(lag=0.5), arrivals, frame=1 / 60)
    assert shown[-1][0] <= 0.5 + 1 / 60


def test_smooth_shows_a_stall_as_a_pause_not_a_crawl() -> None:
    arrivals = [*bursts(4, 50, 0.5), (10.0, list("after the stall "))]
    shown = run_pacer(Smooth(lag=0.5), arrivals, frame=1 / 60)
    before = [t for t, _ in shown if t < 10.0]
    assert before[-1] <= 1.5 + 0.5 + 1 / 60  # the last burst is out within lag
    assert [t for t, _ in shown if t >= 10.0][-1] <= 10.5 + 1 / 60


def test_smooth_rate_tracks_the_source_and_changes_gradually() -> None:
    pacer = Smooth(lag=0.5)
    arrivals = bursts(20, 50, 0.5)  # 250 chars every 0.5 s: 500 chars/s
    i = 0
    rates = []
    for frame in range(600):  # ten seconds of frames
        now = frame / 60
        while i < len(arrivals) and arrivals[i][0] <= now:
            pacer.push(arrivals[i][1], arrivals[i][0])
            i += 1
        pacer.due(now)
        if pacer.n_waiting:
            rates.append(pacer.rate)
    assert pacer.source_rate == pytest.approx(500, rel=0.02)
    later = rates[len(rates) // 4 :]
    assert min(later) >= 500 * 0.95 and max(later) <= 500 * 1.1
    steps = [abs(b - a) / a for a, b in itertools.pairwise(later)]
    assert max(steps) < 0.1


def windows_of(shown: list[tuple[float, str]], width: float = 0.1) -> list[int]:
    counts = [0] * (int(shown[-1][0] / width) + 1)
    for t, _ in shown:
        counts[int(t / width)] += 1
    return counts


def cv(counts: list[int]) -> float:
    mean = sum(counts) / len(counts)
    return (sum((c - mean) ** 2 for c in counts) / len(counts)) ** 0.5 / mean


def run_jittered(pacer, arrivals, *, frame: float = 1 / 60, late: float = 0.0007):  # type: ignore[no-untyped-def]
    """Like `run_pacer`, but every poll comes `late` after its deadline, as a real driver's does."""
    shown: list[tuple[float, str]] = []
    arrivals = sorted(arrivals, key=lambda a: a[0])
    i, now, last_release = 0, 0.0, -1e9
    while True:
        while i < len(arrivals) and arrivals[i][0] <= now:
            pacer.push(arrivals[i][1], arrivals[i][0])
            i += 1
        if now >= last_release + frame - 1e-12:
            units = pacer.due(now)
            if units:
                last_release = now
                shown += [(now, u) for u in units]
        candidates = [arrivals[i][0]] if i < len(arrivals) else []
        deadline = pacer.next_deadline()
        if deadline is not None:
            candidates.append(max(deadline, last_release + frame) + late)
        if not candidates:
            return shown
        now = max(min(candidates), now)


def test_smooth_is_as_even_when_bursts_come_in_pieces_with_late_frames() -> None:
    # What a real pipe or SDK gives: a burst's first token, the rest read a
    # few milliseconds later, and a straggler 50 ms after; polls come late.
    # The estimate must not depend on how a burst was cut.
    whole = bursts(10, 50, 0.5, spread=0.0)
    pieces: list[tuple[float, list[str]]] = []
    for b in range(10):
        t = b * 0.5
        pieces += [(t, list("abcd ")), (t + 0.003, list("abcd " * 48)), (t + 0.05, list("abcd "))]
    for arrivals in (whole, pieces):
        shown = run_jittered(Smooth(lag=0.5), arrivals)
        counts = windows_of(shown)[5:-5]
        assert cv(counts) <= 0.25
        assert max(windows_of(shown)) <= 0.3 * 250  # never most of a burst in 100 ms
        assert max(lags(shown, arrivals)) <= 0.5 + 1 / 60 + 0.001


def test_a_new_burst_as_the_last_one_reaches_its_deadline_is_not_dumped() -> None:
    # The rate that meets every deadline is n / room: as the oldest group's
    # room goes to zero it must not become a rate that shows the new burst
    # in one frame (it did, applied to all the time since the last frame).
    pacer = Smooth(lag=0.5)
    pacer.push(list("x" * 250), 0.0)
    now = 0.0
    while now < 0.49:
        now += 1 / 60
        pacer.due(now)
    assert 0 < pacer.n_waiting < 20  # the tail of the first burst, close to its deadline
    pacer.push(list("y" * 250), 0.5 - 0.0001)
    taken = [len(pacer.due(0.5 + k / 60)) for k in range(30)]
    assert max(taken) <= 30
    assert sum(taken) > 0


def test_the_lag_of_a_steady_source_falls_to_a_few_frames() -> None:
    # A big first chunk, then a token every 20 ms: the backlog the first
    # chunk left is shown off, and the lag then stays small.
    arrivals = [(0.0, list("w" * 120)), *[(0.02 * k, list("tok ")) for k in range(1, 400)]]
    shown = run_jittered(Smooth(lag=0.5), arrivals)
    lag = lags(shown, arrivals)
    assert max(lag[-400:]) <= 3 / 60


def test_smooth_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="lag"):
        Smooth(lag=0)
    with pytest.raises(ValueError, match="margin"):
        Smooth(margin=0.5)
