from __future__ import annotations

import pathlib
import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from outstream.core.mdparse import (
    BlockParser,
    _parse_inline,
    _table_rows,
    inline_children,
    new_parser,
    parse_inline,
)

ANSWERS = pathlib.Path(__file__).parents[1] / "data" / "answers"
MD = new_parser()


def tokens_of(tokens):
    return [(t.type, t.content, t.map, t.level, t.attrs, t.markup, t.info) for t in tokens]


@pytest.mark.parametrize(
    ("name", "block"),
    [("25_long_list.md", "\n- "), ("25_long_list.md", "\n1. "), ("26_long_table.md", "\n| ")],
)
def test_resuming_a_long_table_or_list_gives_the_tokens_of_a_whole_parse(
    name: str, block: str
) -> None:
    """Parsed from its last row or item on, a long block has the tokens parsing all of it gives."""
    text = (ANSWERS / name).read_text(encoding="utf-8")
    # The open region starts at the long block, as after the blocks before it are committed.
    source = text[text.index(block) + 1 :]
    parser = BlockParser(new_parser())
    whole = 0
    for end in range(13, len(source) + 13, 13):
        prefix = source[:end]
        tokens = parser.parse(prefix, {})
        expected: list = []
        MD.block.parse(prefix, MD, {}, expected)
        assert tokens_of(tokens) == tokens_of(expected), end
        whole += len(prefix)
    assert parser.n_chars_parsed < whole / 4  # it did resume


def test_a_resume_line_that_stops_being_an_item_is_parsed_again_whole() -> None:
    parser = BlockParser(new_parser())
    source = "- one\n- two\n-"
    parser.parse(source, {})
    source += "--\n"  # the last "item" is a thematic break
    expected: list = []
    MD.block.parse(source, MD, {}, expected)
    assert tokens_of(parser.parse(source, {})) == tokens_of(expected)


SETTLED_CASES = [
    # (text, how far its parse is final): never into the last word, which
    # may still grow ("_a_" then "b" is no emphasis: CommonMark 6.2)
    ("plain words only", 12),
    ("a *b* c", 6),
    ("a *b c", 2),  # an opener with no closer yet
    ("a _b_", 2),  # closed in the last word: a letter after it would undo that
    ("a `x` b", 6),
    ("a `x`", 2),  # a backtick after it would make it no code span
    ("a `x b", 2),  # a backtick string with no closer yet
    ("see [1] and more", 12),  # a label followed by neither ( nor [: text for good
    ("see [1", 4),
    ("see [docs](http", 4),  # a link being written
    ("a < b x", 6),
    ("a<b and c", 1),  # may be an HTML tag yet
    ("x <= y and z", 11),  # no tag starts "<=", and no autolink holds a space
    ("x <=y", 2),
    ("2 * 3 = 6", 8),  # a * with spaces around opens nothing
    ("snake_case_name here", 16),
]


@pytest.mark.parametrize(("text", "settled"), SETTLED_CASES)
def test_how_far_an_inline_parse_is_final(text: str, settled: int) -> None:
    assert parse_inline(MD, text, {}).settled == settled


INLINE = st.lists(
    st.sampled_from(
        [
            "word",
            " ",
            "*",
            "**",
            "_",
            "`",
            "``",
            "[",
            "]",
            "(",
            ")",
            "<",
            ">",
            "~~",
            "\\",
            "&amp;",
            "é",
            "x",
            "\n",
            "!",
            "http://e.com",
            ":",
        ]
    ),
    max_size=30,
).map("".join)


# Every printable ASCII character, a few beyond, and runs of spaces: text
# without any character an inline rule starts at, and text with one.
ANY_TEXT = st.lists(
    st.sampled_from(
        [*map(chr, range(32, 127)), "é", "中", "🙂", "\u00a0", "  ", "word", "&amp;", "&#65;", "\n"]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(text=ANY_TEXT)
def test_text_that_no_inline_rule_can_match_in_is_parsed_as_markdown_it_parses_it(
    text: str,
) -> None:
    """Plain text skips markdown-it's inline parse: the tokens, offsets and settled point agree."""

    def shape(tokens: list) -> list:
        return [(t.type, t.content, t.level, t.markup, t.meta) for t in tokens]

    expected = MD.parseInline(text)[0].children or []
    assert [(t.type, t.content, t.level, t.markup) for t in inline_children(MD, text, {})] == [
        (t.type, t.content, t.level, t.markup) for t in expected
    ]
    fast, slow = parse_inline(MD, text, {}), _parse_inline(MD, text, {})
    assert (shape(fast.children), fast.settled) == (shape(slow.children), slow.settled)


@settings(max_examples=300, deadline=None)
@given(text=INLINE)
def test_inline_tokens_are_markdown_its(text: str) -> None:
    parsed = parse_inline(MD, text, {}).children
    expected = inline_children(MD, text, {})
    assert [(t.type, t.content, t.level, t.markup) for t in parsed] == [
        (t.type, t.content, t.level, t.markup) for t in expected
    ]


@settings(max_examples=300, deadline=None)
@given(text=INLINE, more=INLINE)
@example(text="*`* word", more="`")  # a code span closed later takes the emphasis's closer
@example(text="*[a* b", more="](u)")
@example(text="[a`b](u) c", more="`")  # and a link's
def test_text_after_the_settled_point_cannot_change_what_is_before_it(text: str, more: str) -> None:
    """Whatever follows, the tokens of the text before the settled point stay the same."""
    settled = parse_inline(MD, text, {}).settled
    head = [
        t
        for t in parse_inline(MD, text, {}).children
        if t.level == 0 and "at" in t.meta and t.meta["at"] < settled
    ]
    after = {
        t.meta["at"]: (t.type, t.markup)
        for t in parse_inline(MD, text + more, {}).children
        if t.level == 0 and "at" in t.meta
    }
    for token in head:
        # a top-level token that starts before the settled point starts a
        # top-level token of the same kind in the longer text too
        if token.type != "text":
            assert after.get(token.meta["at"]) == (token.type, token.markup), (text, more)


CELLS = ["a", "b c", "`x|y`", "\\|", "中", "", " ", "**b**", "x\\", "<b>"]


@pytest.mark.parametrize("seed", range(40))
def test_a_tables_rows_after_its_head_are_markdown_its(seed: int) -> None:
    """Rows that start with a pipe are cut as markdown-it's table rule cuts them: escaped
    pipes, missing and extra cells, alignments, a last line without its newline."""
    rng = random.Random(seed)
    n_columns = rng.randint(1, 4)
    delimiters = "|".join(rng.choice(["---", ":--", "--:", ":-:"]) for _ in range(n_columns))
    head = (
        "| "
        + " | ".join(rng.choice(["a", "b c", "中", "**b**"]) for _ in range(n_columns))
        + " |\n"
    )
    rows = "".join(
        "|"
        + "|".join(rng.choice(CELLS) for _ in range(rng.randint(0, n_columns + 2)))
        + rng.choice(["|", "", "|  "])
        + "\n"
        for _ in range(rng.randint(1, 5))
    )
    source = f"{head}|{delimiters}|\n{rows}"[: None if rng.random() < 0.5 else -1]
    tokens: list = []
    MD.block.parse(source, MD, {}, tokens)
    body = next(i for i, t in enumerate(tokens) if t.type == "tbody_open")
    expected = [tokens[0], *tokens[body:]]
    rows_parsed = _table_rows(tokens, source)
    assert rows_parsed is not None
    assert [t.as_dict() for t in rows_parsed] == [t.as_dict() for t in expected]


def test_a_line_that_is_not_plainly_a_row_is_left_to_markdown_it() -> None:
    head = "| a | b |\n|---|---|\n"
    table: list = []
    MD.block.parse(f"{head}| x | y |\n", MD, {}, table)
    for rest in ("| x | y |\nx | y\n", "| x |\n\n", "| x |\n  | y |\n", "| x |\n> quote\n"):
        assert _table_rows(table, head + rest) is None, rest


CLOSED_INLINE_CASES = [
    # (source, what is drawn, or None: nothing left open)
    ("sends **fifty at onc", "sends **fifty at onc**"),
    ("a `code sp", "a `code sp`"),
    ("``a ` b", "``a ` b``"),  # a code span closes only with a run as long
    ("a `x **y", "a `x **y`"),  # nothing counts inside a code span
    ("snake_case and _emph", "snake_case and _emph_"),  # _ inside a word: neither
    ("**a *b", "**a *b***"),  # innermost first
    ("***bo", "***bo***"),
    ("~~str", "~~str~~"),
    ("x **", "x"),  # an opener with nothing after it yet is left out
    ("a **b** c *", "a **b** c"),
    ("**", ""),
    ("a * b", None),  # followed by a space: it opens nothing
    ("done **x** and", None),
    ("***both***, x", None),
    ("a ~~x~~ y", None),
    ("\\*not", None),  # escaped
    ("see [the docs](https://ex", "see [the docs](https://ex)"),  # a link to what came
    ("**see [docs](http://x_y", "**see [docs](http://x_y)**"),
    ("x `[a](b", "x `[a](b`"),  # in a code span: no link
    ("a [b] c", None),
    ("file*.txt globs, and sn", None),  # after a letter, before punctuation: opens nothing
    ("(*note", "(*note*"),  # after punctuation it does
]


@pytest.mark.parametrize(("source", "drawn"), CLOSED_INLINE_CASES)
def test_closed_inline(source: str, drawn: str | None) -> None:
    from outstream.core.mdparse import closed_inline

    closed = closed_inline(source)
    assert (closed and closed[0]) == drawn if drawn is not None else closed is None
    if closed is not None:
        text, n_own, first_open = closed
        assert source.startswith(text[:n_own]) and first_open <= n_own
