from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outstream.core.graphemes import Segmenter, count_graphemes

FAMILY = "👩\u200d👩\u200d👧\u200d👦"
FLAG_JP = "🇯🇵"
FLAG_FR = "🇫🇷"
E_ACUTE = "e\u0301"
HANGUL = "\u1100\u1161\u11a8"  # jamo L V T: one syllable

CLUSTERS = [E_ACUTE, FAMILY, FLAG_JP, FLAG_FR, HANGUL, "\r\n", "a", " ", "日"]


def segment_all(chunks: list[str], unit: str = "grapheme") -> list[str]:
    seg = Segmenter(unit)  # type: ignore[arg-type]
    units: list[str] = []
    for i, chunk in enumerate(chunks):
        units += seg.feed(chunk, float(i))
    return units + seg.flush()


@pytest.mark.parametrize("cluster", [E_ACUTE, FAMILY, FLAG_JP, HANGUL, "\r\n"])
def test_a_cluster_split_at_every_point_comes_out_as_one_unit(cluster: str) -> None:
    text = "x" + cluster + "y"
    for i in range(1, len(text)):
        assert segment_all([text[:i], text[i:]]) == ["x", cluster, "y"]
    assert segment_all(list(text)) == ["x", cluster, "y"]


def test_two_flags_in_a_row_pair_their_regional_indicators() -> None:
    text = FLAG_JP + FLAG_FR
    for i in range(len(text) + 1):
        assert segment_all([text[:i], text[i:]]) == [FLAG_JP, FLAG_FR]


def test_the_trailing_cluster_is_held_until_the_next_chunk_proves_it_complete() -> None:
    seg = Segmenter()
    assert seg.feed("cafe", 0.0) == ["c", "a", "f"]
    assert seg.held == "e"
    assert seg.feed("\u0301!", 0.01) == [E_ACUTE]
    assert seg.held == "!"


def test_a_held_cluster_is_released_when_its_hold_passes() -> None:
    seg = Segmenter(hold=0.05)
    seg.feed("ab", 1.0)
    assert seg.next_deadline() == 1.05
    assert seg.poll(1.04) == []
    assert seg.poll(1.05) == ["b"]
    assert seg.next_deadline() is None


def test_the_hold_restarts_with_each_feed() -> None:
    seg = Segmenter(hold=0.05)
    seg.feed("a", 1.0)
    seg.feed("b", 1.03)
    assert seg.next_deadline() == pytest.approx(1.08)


def test_a_newline_is_never_held() -> None:
    seg = Segmenter()
    assert seg.feed("ab\n", 0.0) == ["a", "b", "\n"]
    assert seg.held == ""
    assert seg.next_deadline() is None


def test_word_units_carry_their_trailing_space() -> None:
    assert segment_all(["hello wor", "ld and", " more\n"], "word") == [
        "hello ",
        "world ",
        "and ",
        "more\n",
    ]


def test_line_units() -> None:
    assert segment_all(["one\ntw", "o\nthree"], "line") == ["one\n", "two\n", "three"]


def test_chunk_units_are_what_became_final_in_one_feed() -> None:
    assert segment_all(["abc", "def"], "chunk") == ["ab", "cde", "f"]


def test_count_graphemes() -> None:
    assert count_graphemes("abc") == 3
    assert count_graphemes("a\r\nb") == 3
    assert count_graphemes(E_ACUTE + FAMILY + FLAG_JP + HANGUL) == 4


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unit must be one of"):
        Segmenter("sentence")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hold"):
        Segmenter(hold=-1)


text_strategy = st.lists(
    st.one_of(
        st.sampled_from(CLUSTERS),
        st.sampled_from(["\u0301", "\u200d", "\n", "  "]),
        st.text(max_size=3),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    text_strategy,
    st.lists(st.integers(0, 60), max_size=6),
    st.sampled_from(["grapheme", "word", "line", "chunk"]),
)
def test_text_does_not_depend_on_chunking(text: str, cuts: list[int], unit: str) -> None:
    points = sorted({min(c, len(text)) for c in cuts})
    chunks = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    units = segment_all(chunks, unit)
    assert "".join(units) == text
    assert all(units)


@settings(max_examples=300, deadline=None)
@given(text_strategy, st.lists(st.integers(0, 60), max_size=6))
def test_grapheme_units_do_not_depend_on_chunking(text: str, cuts: list[int]) -> None:
    points = sorted({min(c, len(text)) for c in cuts})
    chunks = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    assert segment_all(chunks) == segment_all([text])
