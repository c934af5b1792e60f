from __future__ import annotations

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from outstream.core._lazy_regex import pattern
from outstream.core.graphemes import (
    _MAY_END,
    _MAY_GROW,
    _NEVER_END,
    HOLD_RULES,
    HoldRule,
    Segmenter,
)

FAMILY = "👩\u200d👩\u200d👧\u200d👦"
FLAG_JP = "🇯🇵"
FLAG_FR = "🇫🇷"
THUMBS_MEDIUM = "👍🏽"  # emoji modifier (skin tone)
HEART_EMOJI = "❤\ufe0f"  # text-default pictograph + VS16: emoji presentation, two cells
E_ACUTE = "e\u0301"
HANGUL = "\u1100\u1161\u11a8"  # jamo L V T: one syllable
KSSA = "\u0915\u094d\u0937"  # क्ष: consonant, virama, consonant (GB9c)

CLUSTERS = [E_ACUTE, FAMILY, FLAG_JP, FLAG_FR, HANGUL, KSSA, THUMBS_MEDIUM, "\r\n", "a", " ", "日"]


def segment_all(chunks: list[str], unit: str = "grapheme") -> list[str]:
    seg = Segmenter(unit)  # type: ignore[arg-type]
    units: list[str] = []
    for i, chunk in enumerate(chunks):
        units += list(seg.feed(chunk, float(i)))
    return units + list(seg.flush())


def reference(text: str) -> list[str]:
    result: list[str] = regex.findall(r"\X", text)
    return result


# --- what is held: only what may still change on screen ---


@pytest.mark.parametrize(
    "cluster", [FAMILY, FLAG_JP, HANGUL, THUMBS_MEDIUM, HEART_EMOJI, "👩\u200d💻"]
)
def test_a_cluster_that_would_show_differently_split_comes_out_as_one_unit(cluster: str) -> None:
    text = "x" + cluster + "y"
    for i in range(1, len(text)):
        assert segment_all([text[:i], text[i:]]) == ["x", cluster, "y"]
    assert segment_all(list(text)) == ["x", cluster, "y"]


def test_a_conjunct_is_held_at_its_virama_not_at_its_first_consonant() -> None:
    # क alone may take a vowel sign or a virama, which the terminal draws on
    # its cell; after the virama the next consonant would make a conjunct.
    assert segment_all(["x\u0915", "\u094d\u0937y"]) == ["x", "\u0915", "\u094d\u0937", "y"]
    assert segment_all(["x\u0915\u094d", "\u0937y"]) == ["x", KSSA, "y"]


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("cafe", "\u0301!"),  # the terminal draws the accent on the e's cell anyway
        ("a\r", "\nb"),  # CR then LF moves the cursor as CR LF does
        ("\u0600", "1 "),  # Prepend: a cell of its own either way
    ],
)
def test_a_cluster_whose_rest_would_not_change_the_screen_is_not_held(
    first: str, then: str
) -> None:
    seg = Segmenter("chunk")
    assert list(seg.feed(first, 0.0)) == [first]
    assert seg.held == ""
    assert seg.next_deadline() is None
    assert list(seg.feed(then, 1.0)) == [then]


@pytest.mark.parametrize("rule", HOLD_RULES, ids=lambda r: r.name)
def test_every_hold_rule_holds_a_tail_it_names_and_lets_it_grow(rule: HoldRule) -> None:
    examples = {
        "regional indicator": ("Japan 🇯", "🇵!"),
        "emoji": ("ok 👍", "🏽!"),
        "Hangul jamo": ("\u1100", "\u1161\u11a8 "),
        "Indic conjunct": ("\u0915\u094d", "\u0937 "),
    }
    first, then = examples[rule.name]
    seg = Segmenter("grapheme")
    released = list(seg.feed(first, 0.0))
    tail = reference(first)[-1]
    assert seg.held == tail
    assert "".join(released) == first[: -len(tail)]
    units = list(seg.feed(then, 0.01))
    assert units[0] == reference(first + then)[len(reference(first)) - 1]


def test_no_character_of_the_blocks_answered_without_regex_can_end_a_growing_cluster() -> None:
    may_end = pattern(_MAY_END)
    wrong = [
        f"U+{cp:04X}"
        for lo, hi in _NEVER_END
        for cp in range(lo, hi + 1)
        if not 0xD800 <= cp < 0xE000 and may_end.match(chr(cp))
    ]
    assert wrong == []


def test_a_complete_flag_is_not_held_but_a_third_indicator_is() -> None:
    seg = Segmenter("chunk")
    assert list(seg.feed("at " + FLAG_JP, 0.0)) == ["at " + FLAG_JP]
    assert seg.held == ""
    assert list(seg.feed(FLAG_FR + "🇯", 1.0)) == [FLAG_FR]
    assert seg.held == "🇯"


def test_the_trailing_emoji_is_held_until_the_next_chunk_proves_it_complete() -> None:
    seg = Segmenter()
    assert list(seg.feed("hi👩", 0.0)) == ["h", "i"]
    assert seg.held == "👩"
    assert list(seg.feed("\u200d💻!", 0.01)) == ["👩\u200d💻", "!"]
    assert seg.held == ""


def test_a_held_cluster_is_released_when_its_hold_passes_with_its_arrival_time() -> None:
    seg = Segmenter(hold=0.05)
    seg.feed("a🇯", 1.0)
    assert seg.next_deadline() == 1.05
    assert seg.arrived == 1.0
    assert list(seg.poll(1.04)) == []
    assert list(seg.poll(1.05)) == ["🇯"]
    assert seg.next_deadline() is None
    assert seg.arrived is None


def test_the_hold_restarts_with_each_feed() -> None:
    seg = Segmenter(hold=0.05)
    seg.feed("🇯", 1.0)
    seg.feed("\u200b", 1.03)  # a zero-width space after it: no indicator can pair with it now
    assert seg.held == ""
    seg.feed("ok 👍", 1.04)
    seg.feed("🏽", 1.07)
    assert seg.held == THUMBS_MEDIUM
    assert seg.arrived == 1.07
    assert seg.next_deadline() == pytest.approx(1.12)


def test_after_the_hold_released_half_a_flag_the_other_half_still_pairs_with_it() -> None:
    seg = Segmenter(hold=0.05)
    assert list(seg.feed("🇯", 0.0)) == []
    assert list(seg.poll(0.05)) == ["🇯"]
    # 🇵 completes the flag the terminal already began: it is shown, not held,
    # and the 🇫 after it starts a flag of its own.
    assert list(seg.feed("🇵🇫", 1.0)) == ["🇵"]
    assert seg.held == "🇫"


def test_a_newline_is_never_held() -> None:
    seg = Segmenter()
    assert list(seg.feed("ab👩\n", 0.0)) == ["a", "b", "👩", "\n"]
    assert seg.held == ""
    assert seg.next_deadline() is None


def test_word_units_carry_their_trailing_space() -> None:
    assert segment_all(["hello wor", "ld and", " more\n"], "word") == [
        "hello ",
        "world ",
        "and ",
        "more\n",
    ]


def test_a_word_waits_for_what_follows_its_whitespace() -> None:
    seg = Segmenter("word")
    assert list(seg.feed("one two ", 0.0)) == ["one "]
    assert seg.held == "two "
    assert list(seg.feed(" three", 0.1)) == ["two  "]


def test_line_units() -> None:
    assert segment_all(["one\ntw", "o\nthree"], "line") == ["one\n", "two\n", "three"]


def test_chunk_units_are_what_became_final_in_one_feed() -> None:
    assert segment_all(["abc", "def"], "chunk") == ["abc", "def"]
    assert segment_all(["ab👩", "\u200d💻c"], "chunk") == ["ab", "👩\u200d💻c"]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unit must be one of"):
        Segmenter("sentence")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hold"):
        Segmenter(hold=-1)


# --- whatever the chunking ---

PIECES = [
    *CLUSTERS,
    "\u0301",
    "\u200d",
    "\ufe0f",
    "🏽",
    "🇯",
    "👩",
    "\u094d",
    "\u0915",
    "\u1161",
    "\u0600",
    "\n",
    "  ",
    "\xa0",
    "\u3000",
    "\x00",
    "가",
    "\U00011038",  # a Brahmi virama: an astral joiner
    "\U000e0067",  # a tag character, as in 🏴 subdivision flags
]

text_strategy = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(max_size=3)),
    max_size=14,
).map("".join)


def cut(text: str, points: list[int]) -> list[str]:
    bounds = sorted({min(p, len(text)) for p in points})
    return [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]


@settings(max_examples=300, deadline=None)
@given(
    text_strategy,
    st.lists(st.integers(0, 60), max_size=6),
    st.sampled_from(["grapheme", "word", "line", "chunk"]),
)
def test_text_does_not_depend_on_chunking(text: str, cuts: list[int], unit: str) -> None:
    units = segment_all(cut(text, cuts), unit)
    assert "".join(units) == text
    assert all(units)


@settings(max_examples=400, deadline=None)
@given(text_strategy, st.lists(st.integers(0, 60), max_size=6))
def test_grapheme_units_are_the_clusters_but_where_a_split_shows_the_same(
    text: str, cuts: list[int]
) -> None:
    """Every boundary of the whole text's clusters is a unit boundary; a unit boundary
    inside a cluster only follows what no hold rule says may still change."""
    units = segment_all(cut(text, cuts))
    ends = {sum(map(len, units[: i + 1])) for i in range(len(units))}
    start = 0
    for cluster in reference(text):
        end = start + len(cluster)
        assert end in ends
        for inner in range(start + 1, end):
            if inner in ends:
                assert pattern(_MAY_GROW).search(text[start:inner]) is None
        start = end


def test_grapheme_units_in_one_piece_are_the_clusters() -> None:
    text = "".join(PIECES)
    assert segment_all([text]) == reference(text)


JOINING = [
    *"ab \r\n",
    *["\u0301", "\u200d", "\ufe0f", "\u094d", "\u0915", "\u0937", "\u093e", "\u0600"],
    *["\U0001f469", "\U0001f3fd", "\U0001f1ef", "\U0001f1f5", "\u1100", "\u1161", "\u11a8"],
    *["\uac00", "中", "🙂", "\U000e0067", "\u0e33"],
]


@settings(max_examples=500)
@given(st.lists(st.sampled_from(JOINING), max_size=30).map("".join), st.integers(1, 7))
def test_clusters_counts_and_cuts_as_regex_segments(text: str, step: int) -> None:
    # The lazy units a pacer takes: what `cut` gives, step by step, is
    # what \X gives, without a string a cluster.
    from outstream.core.graphemes import Clusters

    expected = regex.findall(r"\X", text)
    clusters = Clusters(text)
    assert len(clusters) == len(expected)
    assert list(clusters) == expected
    pos, k = 0, 0
    while k < len(expected):
        end = clusters.cut(pos, step)
        assert text[pos:end] == "".join(expected[k : k + step])
        pos, k = end, k + step


@settings(max_examples=300)
@given(
    st.lists(st.sampled_from(JOINING), min_size=1, max_size=8).map("".join),
    st.lists(st.sampled_from(JOINING), min_size=1, max_size=12).map("".join),
)
def test_clusters_after_released_text_start_a_unit_where_the_text_does(
    before: str, text: str
) -> None:
    from outstream.core.graphemes import Clusters

    whole = regex.findall(r"\X", before + text)
    # The clusters of `text` in the context of `before`: the first one is
    # cut where `text` begins (its start was already shown).
    pos, expected = 0, []
    for cluster in whole:
        end = pos + len(cluster)
        if end > len(before):
            expected.append((before + text)[max(pos, len(before)) : end])
        pos = end
    assert list(Clusters(text, before)) == expected
