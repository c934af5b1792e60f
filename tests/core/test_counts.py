"""Tests for outstream.core.counts: counts equal to regex's \\X and str.split(), however cut."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outstream.core.counts import TextCounter, count_graphemes
from outstream.core.graphemes import count_graphemes as count_graphemes_lazily

from .test_graphemes import CLUSTERS, PIECES, cut, reference, text_strategy


@pytest.mark.parametrize("text", [*CLUSTERS, "".join(CLUSTERS), "".join(PIECES), "a\r\nb", ""])
def test_count_graphemes_is_regexs_count(text: str) -> None:
    assert count_graphemes(text) == len(reference(text))


@settings(max_examples=500, deadline=None)
@given(text_strategy, st.lists(st.integers(0, 60), max_size=8))
def test_counting_in_pieces_is_exact_however_the_text_is_cut(text: str, cuts: list[int]) -> None:
    counter = TextCounter()
    for piece in cut(text, cuts):
        counter.count(piece)
    assert counter.n_graphemes == len(reference(text))
    assert counter.n_words == len(text.split())


def test_counting_one_character_at_a_time_is_exact() -> None:
    text = "".join(PIECES) * 3
    counter = TextCounter()
    for char in text:
        counter.count(char)
    assert counter.n_graphemes == len(reference(text))
    assert counter.n_words == len(text.split())


def test_a_long_run_of_accents_is_counted_exactly_in_pieces() -> None:
    text = ("e" + "\u0301" * 200 + "x ") * 5
    counter = TextCounter()
    for i in range(0, len(text), 7):
        counter.count(text[i : i + 7])
    assert counter.n_graphemes == len(reference(text)) == 15


def test_graphemes_count_graphemes_is_the_same_function_imported_late() -> None:
    text = "".join(PIECES)
    assert count_graphemes_lazily(text) == count_graphemes(text) == len(reference(text))


def test_the_unicode_spaces_are_str_splits_whitespace_beyond_ascii() -> None:
    import re

    from outstream.core.counts import UNICODE_SPACES

    spaces = [chr(cp) for cp in range(0x80, 0x110000) if chr(cp).isspace()]
    assert spaces == [
        c for c in map(chr, range(0x80, 0x110000)) if re.fullmatch(f"[{UNICODE_SPACES}]", c)
    ]


def test_the_bytes_never_hide_a_joiner_or_a_unicode_space() -> None:
    """_may_join says False only of text that has neither: each one, tried alone in text."""
    from outstream.core.counts import _JOINERS, _MARKS, _chars, _may_join

    chars = [chr(cp) for lo, hi in _chars(_JOINERS) for cp in range(lo, hi + 1)]
    chars += [chr(cp) for cp in range(0x80, 0x10000) if chr(cp).isspace()]
    missed = []
    for char in chars:
        data = f"a{char}b".encode("utf-8", "surrogatepass")
        if not _may_join(data, data.translate(_MARKS)):
            missed.append(f"U+{ord(char):04X}")
    assert missed == []


def test_text_without_joiners_is_proved_so_by_its_bytes() -> None:
    from outstream.core.counts import _MARKS, _may_join

    text = "Life is an unending stream of extenuating circumstances. ñ 中 🙂 “quotes” — …\n"
    data = text.encode()
    assert not _may_join(data, data.translate(_MARKS))
