"""Tests for outstream.core.stats: counts that are exact however the text was cut."""

from __future__ import annotations

import itertools

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from outstream.core.pipeline import Pipeline
from outstream.core.stats import StatsRecorder
from outstream.events import Delta, End

PIECES = [
    "a",
    " ",
    "\n",
    "\t",
    "\x0b",
    "\x1c",
    "word",
    "é",
    "e\u0301",
    "日本",
    "👩\u200d👩\u200d👧",
    "🇯🇵",
    "🇫",
    "👍🏽",
    "\u0915\u094d\u0937",
    "\u1100\u1161",
    "\xa0",  # no-break space: whitespace to str.split()
    "\u3000",  # ideographic space
    "\u2028",
    "\r\n",
]

texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=2)), max_size=16).map("".join)


def cut(text: str, points: list[int]) -> list[str]:
    bounds = sorted({min(p, len(text)) for p in points})
    return [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]


@settings(max_examples=400, deadline=None)
@given(texts, st.lists(st.integers(0, 40), max_size=8))
def test_counts_of_what_was_shown_in_pieces_are_those_of_the_whole(
    text: str, points: list[int]
) -> None:
    recorder = StatsRecorder(0.0)
    for piece in cut(text, points):
        recorder.shown(piece, 0.0)
    stats = recorder.snapshot(1.0)
    assert stats.n_chars == len(text)
    assert stats.n_graphemes == len(regex.findall(r"\X", text))
    assert stats.n_words == len(text.split())


@settings(max_examples=200, deadline=None)
@given(texts, st.lists(st.integers(0, 120), max_size=8))
def test_a_stream_of_bytes_cut_anywhere_counts_what_one_chunk_would(
    text: str, points: list[int]
) -> None:
    """Through the whole pipeline, bytes cut inside characters and clusters."""
    data = text.encode()
    bounds = sorted({min(p, len(data)) for p in points})
    chunks = [data[a:b] for a, b in zip([0, *bounds], [*bounds, len(data)], strict=True)]

    def stats(chunks: list[bytes]) -> tuple[str, int | None, int | None]:
        pipeline = Pipeline(escapes="raw")
        shown = []
        for i, chunk in enumerate(chunks):
            pipeline.feed(Delta(t=float(i), data=chunk), float(i))
            shown.append(pipeline.poll(float(i)))
        pipeline.feed(End(t=len(chunks)), float(len(chunks)))
        shown.append(pipeline.poll(float(len(chunks))))
        result = pipeline.stats.snapshot(float(len(chunks)))
        return "".join(shown), result.n_graphemes, result.n_words

    assert (
        stats(chunks)
        == stats([data])
        == (
            text,
            len(regex.findall(r"\X", text)),
            len(text.split()),
        )
    )


def test_a_large_piece_of_mixed_text_is_counted_exactly() -> None:
    text = "".join(PIECES) * 2000
    recorder = StatsRecorder(0.0)
    for i in range(0, len(text), 65536):
        recorder.shown(text[i : i + 65536], 0.0)
    stats = recorder.snapshot(1.0)
    assert (stats.n_graphemes, stats.n_words) == (
        len(regex.findall(r"\X", text)),
        len(text.split()),
    )


def test_counting_can_be_turned_off() -> None:
    recorder = StatsRecorder(0.0, count_text=False)
    recorder.shown("two words", 0.0)
    stats = recorder.snapshot(1.0)
    assert (stats.n_chars, stats.n_graphemes, stats.n_words) == (9, None, None)


@settings(max_examples=300)
@given(
    st.lists(st.floats(0, 1e-2, allow_nan=False), min_size=2, max_size=400),
    st.lists(st.integers(1, 80), max_size=10),
)
def test_the_longest_gap_is_exact_however_the_arrivals_are_batched(
    steps: list[float], cuts: list[int]
) -> None:
    # The largest gap is kept as batches come, looking only into stretches
    # that span more than it: the same figure as comparing every pair.
    times = list(itertools.accumulate(steps))
    recorder = StatsRecorder(0.0)
    i = 0
    for n in [*cuts, len(times)]:
        batch = times[i : i + n]
        if batch:
            recorder.arrived(batch[0], 1, batch)
        i += n
    stats = recorder.snapshot(times[-1])
    assert stats.gap_max == max(b - a for a, b in itertools.pairwise(times))
