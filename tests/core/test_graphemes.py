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
        units += seg.feed(chunk, float(i))
    return units + seg.flush()


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
    assert seg.feed(first, 0.0) == [first]
    assert seg.held == ""
    assert seg.next_deadline() is None
    assert seg.feed(then, 1.0) == [then]


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
    released = seg.feed(first, 0.0)
    tail = reference(first)[-1]
    assert seg.held == tail
    assert "".join(released) == first[: -len(tail)]
    units = seg.feed(then, 0.01)
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
    assert seg.feed("at " + FLAG_JP, 0.0) == ["at " + FLAG_JP]
    assert seg.held == ""
    assert seg.feed(FLAG_FR + "🇯", 1.0) == [FLAG_FR]
    assert seg.held == "🇯"


def test_the_trailing_emoji_is_held_until_the_next_chunk_proves_it_complete() -> None:
    seg = Segmenter()
    assert seg.feed("hi👩", 0.0) == ["h", "i"]
    assert seg.held == "👩"
    assert seg.feed("\u200d💻!", 0.01) == ["👩\u200d💻", "!"]
    assert seg.held == ""


def test_a_held_cluster_is_released_when_its_hold_passes_with_its_arrival_time() -> None:
    seg = Segmenter(hold=0.05)
    seg.feed("a🇯", 1.0)
    assert seg.next_deadline() == 1.05
    assert seg.arrived == 1.0
    assert seg.poll(1.04) == []
    assert seg.poll(1.05) == ["🇯"]
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
    assert seg.feed("🇯", 0.0) == []
    assert seg.poll(0.05) == ["🇯"]
    # 🇵 completes the flag the terminal already began: it is shown, not held,
    # and the 🇫 after it starts a flag of its own.
    assert seg.feed("🇵🇫", 1.0) == ["🇵"]
    assert seg.held == "🇫"


def test_a_newline_is_never_held() -> None:
    seg = Segmenter()
    assert seg.feed("ab👩\n", 0.0) == ["a", "b", "👩", "\n"]
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
    assert seg.feed("one two ", 0.0) == ["one "]
    assert seg.held == "two "
    assert seg.feed(" three", 0.1) == ["two  "]


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
