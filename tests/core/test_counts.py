"""Tests for outstream.core.counts: counts equal to regex's \\X and str.split(), however cut."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outstream.core.counts import _TABLE_BLOCK as BLOCK
from outstream.core.counts import CompiledTextCounter, TextCounter, compiled, count_graphemes
from outstream.core.graphemes import count_graphemes as count_graphemes_lazily

from .test_graphemes import CLUSTERS, PIECES, cut, reference, text_strategy

needs_compiled = pytest.mark.skipif(not compiled(), reason="the compiled counter was not built")
# Both counters: the one in Python, and the compiled one where it was built.
COUNTERS = [TextCounter, pytest.param(CompiledTextCounter, marks=needs_compiled)]


@pytest.mark.parametrize("text", [*CLUSTERS, "".join(CLUSTERS), "".join(PIECES), "a\r\nb", ""])
def test_count_graphemes_is_regexs_count(text: str) -> None:
    assert count_graphemes(text) == len(reference(text))


@pytest.mark.parametrize("counter_type", COUNTERS)
@settings(max_examples=500, deadline=None)
@given(text_strategy, st.lists(st.integers(0, 60), max_size=8), st.booleans())
def test_counting_in_pieces_is_exact_however_the_text_is_cut(
    counter_type: type[TextCounter], text: str, cuts: list[int], with_utf8: bool
) -> None:
    counter = counter_type()
    for piece in cut(text, cuts):
        counter.count(piece, piece.encode("utf-8", "surrogatepass") if with_utf8 else None)
    assert counter.n_graphemes == len(reference(text))
    assert counter.n_words == len(text.split())


@pytest.mark.parametrize("counter_type", COUNTERS)
def test_counting_one_character_at_a_time_is_exact(counter_type: type[TextCounter]) -> None:
    text = "".join(PIECES) * 3
    counter = counter_type()
    for char in text:
        counter.count(char)
    assert counter.n_graphemes == len(reference(text))
    assert counter.n_words == len(text.split())


@pytest.mark.parametrize("counter_type", COUNTERS)
def test_a_long_run_of_accents_is_counted_exactly_in_pieces(
    counter_type: type[TextCounter],
) -> None:
    text = ("e" + "\u0301" * 200 + "x ") * 5
    counter = counter_type()
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


# --- the compiled counter ---


def test_the_compiled_counter_is_built_where_a_c_compiler_is() -> None:
    """`pip install -e .` builds it (setup.py); without it --stats is several times slower."""
    import shutil
    import sysconfig

    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler ({cc}) here")
    assert compiled(), "pip install -e . should have built outstream/core/_speedups.c"


def one_of_each_property() -> list[str]:
    """A character for each property byte the compiled counter reads (some twenty)."""
    from outstream.core.counts import property_table

    table = property_table().whole()
    found: dict[int, str] = {}
    for cp in range(0x110000):
        found.setdefault(table[cp], chr(cp))
    return list(found.values())


@needs_compiled
def test_every_sequence_of_three_properties_is_counted_as_regex_segments_it() -> None:
    """The state machine against \\X on every string of up to three property kinds
    (a run to five kinds, 3.2 million strings, agreed too when it was written)."""
    import itertools

    from outstream.core._speedups import START_STATE, count
    from outstream.core.counts import property_table

    table = property_table().whole()
    chars = one_of_each_property()
    assert len(chars) >= 15
    wrong = []
    for n in (1, 2, 3):
        for combo in itertools.product(chars, repeat=n):
            text = "".join(combo)
            want = (len(reference(text)), len(text.split()))
            clusters, words, _state, _stop = count(text, table, START_STATE, 0)
            if (clusters, words) != want:
                wrong.append([f"U+{ord(c):04X}" for c in text])
    assert wrong == []


@needs_compiled
def test_ascii_is_as_the_block_reading_takes_it() -> None:
    """_speedups.c reads ASCII a block at a time without the table: every character
    but CR plain (GCB Other, LF or Control, nothing else), whitespace as str.isspace()."""
    from outstream.core._speedups import GCB_VALUES
    from outstream.core.counts import _SPACE_BIT, property_table

    table = property_table().whole()
    plain = {GCB_VALUES.index(name) for name in ("Other", "LF", "Control")}
    assert [chr(c) for c in range(0x80) if table[c] & 0x7F not in plain] == ["\r"]
    assert [chr(c) for c in range(0x80) if table[c] & _SPACE_BIT] == [
        chr(c) for c in range(0x80) if chr(c).isspace()
    ]
    # PLAIN(p) is p & 0x7C == 0: the plain values are 0 to 2, and 3 is in no table.
    assert plain == {0, 1, 2} and GCB_VALUES[3] == "" and 3 not in set(table)


@needs_compiled
@pytest.mark.parametrize(
    "text",
    [
        "word " * 40,
        "  a  b   cc    ddd        " * 9,
        "x" * 100,
        " " * 100,
        "Life is an unending stream of extenuating circumstances. ñ 中 🙂\n" * 5,
        "tab\tand\nlines\r\nand\x7fdel and\x00nul " * 7,
        "\x1c\x1d \x1e\x1f\x0b\x0c word" * 20,
        ("a" * 63 + "é " + "b c" * 30) * 2,
    ],
)
def test_the_block_reading_is_exact_in_every_cut_and_every_kind_of_str(text: str) -> None:
    """ASCII runs are read 64 characters at a time, the rest four at a time, the joiners
    one by one: wherever a piece ends, in a str of one, two or four bytes a character."""
    from outstream.core._speedups import START_STATE, count
    from outstream.core.counts import property_table

    table = property_table().whole()
    for whole in (text, text + "\u0100", text + "中", text + "🙂"):
        want = (len(reference(whole)), len(whole.split()))
        for at in range(len(whole) + 1):
            got = [0, 0]
            state = START_STATE
            for piece in (whole[:at], whole[at:]):
                clusters, words, state, _stop = count(piece, table, state, 0)
                got = [got[0] + clusters, got[1] + words]
            assert tuple(got) == want, (whole[-1], at)


@needs_compiled
def test_count_refuses_what_it_was_not_made_for() -> None:
    from outstream.core._speedups import START_STATE, count
    from outstream.core.counts import property_table

    table = property_table().whole()
    assert count("", table, START_STATE, 0) == (0, 0, START_STATE, 0)
    with pytest.raises(ValueError):
        count("a", table, -1, 0)  # not a state count() returned
    with pytest.raises(ValueError):
        count("a", table[:-1], START_STATE, 0)
    with pytest.raises(ValueError):
        count("a", table, START_STATE, 2)  # past the end
    with pytest.raises(TypeError):
        count(b"a", table, START_STATE, 0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        count("a", bytes(table), START_STATE, 0)  # the table is read in place
    with pytest.raises(TypeError):
        count("a", table, START_STATE)  # type: ignore[call-arg]


@needs_compiled
def test_count_stops_before_a_character_whose_block_is_not_read_and_goes_on_from_there() -> None:
    """For each block the text holds left unread, the count stops at its first
    character, and the two calls' counts add up to the whole's."""
    from outstream.core._speedups import GCB_VALUES, START_STATE, UNKNOWN, count
    from outstream.core.counts import PropertyTable

    text = "Life is an unending stream. ñ 中 🙂 e\u0301 👍🏽 🇯🇵 क्ष\r\n" * 3
    want = (len(reference(text)), len(text.split()))
    blocks = {ord(c) // BLOCK for c in text} - {0}  # the first is read from the start
    assert len(blocks) == 4
    for unread in blocks:
        table = PropertyTable(GCB_VALUES, UNKNOWN)
        for char in text:
            if ord(char) // BLOCK != unread:
                table.read_block_of(char)
        clusters, words, state, stop = count(text, table.bytes, START_STATE, 0)
        assert stop == min(i for i, c in enumerate(text) if ord(c) // BLOCK == unread)
        table.read_block_of(text[stop])
        more, more_words, _, end = count(text, table.bytes, state, stop)
        assert end == len(text)
        assert (clusters + more, words + more_words) == want


@needs_compiled
def test_a_counter_reads_only_the_blocks_its_text_holds() -> None:
    """The table is read a block at a time, as the text meets them, to the same counts."""
    from outstream.core import counts
    from outstream.core._speedups import GCB_VALUES, UNKNOWN

    fresh = counts.PropertyTable(GCB_VALUES, UNKNOWN)
    old, counts._property_table = counts._property_table, fresh
    try:
        counter = counts.CompiledTextCounter()
        text = "Plain ASCII, then ñ 中 🙂 and 👍🏽, then 🇯🇵 क्ष. " * 10
        for i in range(0, len(text), 13):
            counter.count(text[i : i + 13])
    finally:
        counts._property_table = old
    assert (counter.n_graphemes, counter.n_words) == (len(reference(text)), len(text.split()))
    blocks = {ord(c) // BLOCK for c in text} | {0}
    read = {b for b in range(0x110000 // BLOCK) if fresh.bytes[b * BLOCK] != UNKNOWN}
    assert read == blocks
    whole = counts.property_table().whole()
    for b in blocks:
        assert fresh.bytes[b * BLOCK : (b + 1) * BLOCK] == whole[b * BLOCK : (b + 1) * BLOCK]


@needs_compiled
def test_the_property_table_is_regexs_reading_of_each_code_point() -> None:
    """Checked one class at a time on a sample: every astral plane, surrogates, the ends."""
    import random

    import regex

    from outstream.core._speedups import GCB_VALUES
    from outstream.core.counts import _PROPERTY_BITS, _SPACE_BIT, property_table

    table = property_table().whole()
    rng = random.Random(10)
    sample = [rng.randrange(0x110000) for _ in range(3000)] + [
        rng.randrange(0x3000) for _ in range(3000)
    ]
    sample += [0, 0xD800, 0xDFFF, 0xFFFF, 0x1F3FB, 0x1F1E6, 0xE0020, 0xE01EF, 0x10FFFF]
    for cp in sample:
        char = chr(cp)
        [gcb] = [
            i
            for i, name in enumerate(GCB_VALUES)
            if name and regex.fullmatch(rf"\p{{GCB={name}}}", char)
        ]
        want = gcb
        for bits, source in _PROPERTY_BITS:
            if regex.fullmatch(source, char):
                want |= bits
        want |= _SPACE_BIT if char.isspace() else 0
        assert table[cp] == want, f"U+{cp:04X}"


@needs_compiled
@pytest.mark.skipif(sys.version_info >= (3, 12), reason="every str is ready from 3.12")
def test_a_str_made_by_the_old_wchar_api_is_counted_as_any_other() -> None:
    """(Before 3.12 a C extension's PyUnicode_FromUnicode(NULL, n) makes a str whose
    kind, data and length are filled in only when asked: count() asks.)"""
    import ctypes
    import warnings

    from outstream.core._speedups import START_STATE, count
    from outstream.core.counts import property_table

    api = ctypes.pythonapi
    api.PyUnicode_FromUnicode.argtypes = [ctypes.c_void_p, ctypes.c_ssize_t]
    api.PyUnicode_FromUnicode.restype = ctypes.py_object
    api.PyUnicode_AsUnicode.argtypes = [ctypes.py_object]
    api.PyUnicode_AsUnicode.restype = ctypes.c_void_p
    text = "naïve café 中文 🙂 e\u0301"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # (what the test is about)
        legacy = api.PyUnicode_FromUnicode(None, len(text))
    wide = ctypes.create_unicode_buffer(text)
    ctypes.memmove(api.PyUnicode_AsUnicode(legacy), wide, len(text) * ctypes.sizeof(ctypes.c_wchar))
    table = property_table().whole()
    assert count(legacy, table, START_STATE, 0) == count(text, table, START_STATE, 0)
    assert legacy == text
