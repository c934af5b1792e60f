from __future__ import annotations

import itertools

import pytest
import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st

from outstream.core.wrap import SoftWrap, width_cells


def wrap(chunks: list[str], width: int) -> str:
    w = SoftWrap(width)
    return "".join(w.feed(c) for c in chunks) + w.flush()


CASES = [
    # (text, width, expected)
    ("the quick brown fox jumps", 10, "the quick\nbrown fox\njumps"),
    ("a b c", 80, "a b c"),
    ("exactly10!", 10, "exactly10!"),
    ("exactly10! next", 10, "exactly10!\nnext"),
    ("supercalifragilistic", 8, "supercal\nifragili\nstic"),
    ("go supercalifragilistic", 8, "go\nsupercal\nifragili\nstic"),
    ("keep\n\nnewlines\n", 20, "keep\n\nnewlines\n"),
    ("    indented text here", 14, "    indented\ntext here"),
    ("日本語 日本語", 8, "日本語\n日本語"),  # six cells each: wide characters count two
    (
        "👩\u200d👩\u200d👧 family 👩\u200d👩\u200d👧",
        10,
        "👩\u200d👩\u200d👧 family\n👩\u200d👩\u200d👧",
    ),
    ("\x1b[31mred\x1b[0m words here", 9, "\x1b[31mred\x1b[0m words\nhere"),  # colours take no cells
    ("tab\there", 20, "tab\there"),
]


@pytest.mark.parametrize(("text", "width", "expected"), CASES)
def test_wrap_cases_whole_and_split_at_every_point(text: str, width: int, expected: str) -> None:
    assert wrap([text], width) == expected
    import regex

    for m in regex.finditer(r"\X", text):
        i = m.end()
        assert wrap([text[:i], text[i:]], width) == expected
    assert wrap(regex.findall(r"\X", text), width) == expected


def test_a_word_is_held_until_it_is_known_to_fit() -> None:
    w = SoftWrap(10)
    assert w.feed("hello wor") == "hello"
    assert w.held == " wor"
    assert w.feed("ld") == "\n"  # "world" would overflow: it moves down before it is drawn
    assert w.held == "world"
    assert w.feed(" ok") == "world"


def test_a_new_width_applies_from_the_next_line() -> None:
    w = SoftWrap(20)
    first = w.feed("one two three four five six ")
    w.set_width(10)
    rest = w.feed("seven eight nine ten eleven") + w.flush()
    lines = (first + rest).split("\n")
    assert lines[:2] == ["one two three four", "five six seven eight"]  # the line in progress
    assert all(width_cells(line) <= 10 for line in lines[2:])


def test_bad_widths() -> None:
    with pytest.raises(ValueError):
        SoftWrap(0)
    with pytest.raises(ValueError):
        SoftWrap(5).set_width(0)


def line_cells(line: str) -> int:
    """Cells a line takes on a terminal: tabs go to the next multiple of 8."""
    col = 0
    for piece in line.split("\t")[:-1]:
        col += width_cells(piece)
        col += 8 - col % 8
    return col + width_cells(line.split("\t")[-1])


words = st.lists(
    st.one_of(
        st.text(alphabet="abcdefghij", min_size=1, max_size=14),
        st.sampled_from(["日本", "👩\u200d👧", "e\u0301", " ", "  ", "\n", "\t"]),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(words.map("".join), st.integers(4, 30), st.lists(st.integers(0, 200), max_size=6))
def test_properties(text: str, width: int, cuts: list[int]) -> None:
    # The pipeline feeds whole grapheme clusters (the segmenter holds a split one).
    import regex

    bounds = [0, *(m.end() for m in regex.finditer(r"\X", text))]
    points = sorted({bounds[c % len(bounds)] for c in cuts})
    chunks = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    out = wrap(chunks, width)
    assert out == wrap([text], width)  # chunking does not matter
    assert all(line_cells(line) <= width for line in out.split("\n"))
    if all(width_cells(word) <= width for word in text.split()):
        assert out.split() == text.split()  # no word broken, none lost
    assert "".join(out.split()) == "".join(text.split())  # nothing but whitespace changes


@settings(max_examples=300, deadline=None)
@given(words.map("".join), st.integers(4, 30), st.integers(1, 5))
def test_drawing_a_few_clusters_at_a_time_with_the_rest_ahead(
    text: str, width: int, step: int
) -> None:
    """How the pipeline drives it: due clusters, with what is queued behind them as `ahead`."""
    import regex

    clusters = regex.findall(r"\X", text)
    w = SoftWrap(width)
    out = []
    for i in range(0, len(clusters), step):
        due = "".join(clusters[i : i + step])
        ahead = "".join(clusters[i + step :])
        out.append(w.feed(due, ahead=ahead, final=True))
    out.append(w.flush())
    assert "".join(out) == wrap([text], width)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "bb", "ccc", "dddddddddddd", " ", "  ", "\n"]), max_size=40).map(
        "".join
    ),
    st.integers(1, 16),
    st.integers(1, 7),
)
def test_the_ascii_path_places_exactly_as_the_word_by_word_one(
    text: str, width: int, step: int
) -> None:
    def run(fast: bool) -> str:
        w = SoftWrap(width)
        w.fast_ascii = fast
        out = [
            w.feed(text[i : i + step], ahead=text[i + step :], final=True)
            for i in range(0, len(text), step)
        ]
        return "".join(out) + w.flush()

    assert run(True) == run(False)


# Characters whose width depends on their neighbours (wcwidth 0.7 measures by
# grapheme): ZWJ, VS16 after a digit (a keycap), skin tones, flags, Indic
# conjuncts and spacing marks, Hangul jamo, combining marks, wide CJK.
TRICKY = [
    *"ab1# ",
    *["\u200d", "\ufe0f", "\u20e3", "\u0301", "\u094d", "\u093e", "\u0915", "\u0937"],
    *["\U0001f469", "\U0001f4bb", "\U0001f3fd", "\U0001f44d", "\U0001f1ef", "\U0001f1f5"],
    *["中", "ñ", "\u1100", "\u1161", "\u11a8", "\u2764", "é", "\U0001f642"],
]


@settings(max_examples=400)
@given(st.lists(st.sampled_from(TRICKY), max_size=24).map("".join))
# From wcwidth 0.9 a virama and the character after it, ASCII too, are one
# conjunct two cells wide, also past a variation selector or a skin tone.
@example("\u094da")
@example("\u0915\u094d\ufe0fa")
@example("\U0001f44d\u094d\U0001f3fd#")
def test_width_is_what_wcswidth_says_for_the_whole_text(text: str) -> None:
    from wcwidth import wcswidth

    assert width_cells(text) == wcswidth(text)


def screen_text(output: str, width: int) -> list[str]:
    """What a terminal `width` cells wide shows after `output` (pyte; LF as a tty's CR LF)."""
    import pyte

    screen = pyte.Screen(width, 60)
    pyte.Stream(screen).feed(output.replace("\n", "\r\n"))
    return [line.rstrip() for line in screen.display]


def test_on_a_terminal_an_unfinished_word_with_room_to_grow_is_drawn_at_once() -> None:
    w = SoftWrap(40, eager=True)
    assert w.feed("Sure") == "Sure"  # a model's first token: not held for its end
    assert w.feed(", here") == ", here"
    patient = SoftWrap(40)
    assert patient.feed("Sure") == ""


def test_a_word_drawn_early_that_outgrows_the_line_moves_to_the_next_one() -> None:
    w = SoftWrap(32, eager=True)
    out = w.feed("one two three ") + w.feed("super")  # room after the space: 18 >= 5 + GROWTH
    assert out == "one two three super"
    out += w.feed("califragilistic ")  # 20 cells: past the line's end
    assert out.endswith("\x1b[6D\x1b[K\nsupercalifragilistic")  # erased with its space, drawn below
    assert screen_text(out, 32)[:2] == ["one two three", "supercalifragilistic"]


def test_a_word_held_at_the_lines_end_is_drawn_when_released() -> None:
    w = SoftWrap(20, eager=True)
    assert w.feed("the quick brown ") + w.feed("fox") == "the quick brown"
    assert w.held_word == "fox"  # 3 + GROWTH cells do not fit in the 4 left
    assert w.release() == " fox"
    assert w.feed("es jump") == "\x1b[4D\x1b[K\nfoxes"  # "jump": too near the end to show yet


@settings(max_examples=300)
@given(
    # pyte mishandles ZWJ sequences, and a combining mark at a line's last cell
    words.map("".join).filter(lambda t: "\u200d" not in t and "\u0301" not in t),
    st.integers(8, 30),
    st.lists(st.integers(0, 200), max_size=8),
)
def test_an_eager_wrap_ends_on_the_screen_a_patient_one_draws(
    text: str, width: int, cuts: list[int]
) -> None:
    # Whatever the chunking (between grapheme clusters, as the segmenter
    # hands text on), and whenever held words are released, the terminal
    # ends up showing what waiting for every word's end shows.
    starts = [m.start() for m in regex.finditer(r"\X", text)] + [len(text)]
    bounds = sorted({0, len(text), *(starts[c % len(starts)] for c in cuts)})
    eager = SoftWrap(width, eager=True)
    out = []
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        out.append(eager.feed(text[a:b]))
        if i % 2:
            out.append(eager.release())
    out.append(eager.flush())
    assert screen_text("".join(out), width) == screen_text(wrap([text], width), width)
