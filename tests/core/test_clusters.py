"""Tests for outstream.core.clusters: grapheme counts equal to regex's \\X, however cut."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outstream.core.clusters import GraphemeCounter, count_graphemes
from outstream.core.graphemes import count_graphemes as count_graphemes_lazily

from .test_graphemes import CLUSTERS, PIECES, cut, reference, text_strategy


@pytest.mark.parametrize("text", [*CLUSTERS, "".join(CLUSTERS), "".join(PIECES), "a\r\nb", ""])
def test_count_graphemes_is_regexs_count(text: str) -> None:
    assert count_graphemes(text) == len(reference(text))


@settings(max_examples=500, deadline=None)
@given(text_strategy, st.lists(st.integers(0, 60), max_size=8))
def test_counting_in_pieces_is_exact_however_the_text_is_cut(text: str, cuts: list[int]) -> None:
    counter = GraphemeCounter()
    for piece in cut(text, cuts):
        counter.count(piece)
    assert counter.n_graphemes == len(reference(text))


def test_counting_one_character_at_a_time_is_exact() -> None:
    text = "".join(PIECES) * 3
    counter = GraphemeCounter()
    for char in text:
        counter.count(char)
    assert counter.n_graphemes == len(reference(text))


def test_a_long_run_of_accents_is_counted_exactly_in_pieces() -> None:
    text = ("e" + "\u0301" * 200 + "x ") * 5
    counter = GraphemeCounter()
    for i in range(0, len(text), 7):
        counter.count(text[i : i + 7])
    assert counter.n_graphemes == len(reference(text)) == 15


def test_graphemes_count_graphemes_is_the_same_function_imported_late() -> None:
    text = "".join(PIECES)
    assert count_graphemes_lazily(text) == count_graphemes(text) == len(reference(text))


def test_the_scan_notes_unicode_spaces_for_the_word_count() -> None:
    counter = GraphemeCounter()
    counter.count("é a\u3000b")
    assert counter.unicode_space
    counter.count("é a b")
    assert not counter.unicode_space
