"""MarkdownCutter: streamed Markdown cut where an app rendering the text so far shows no
raw marker that the final render will not show."""

from __future__ import annotations

import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outstream.core.mdsafe import MAX_HELD_CHARS, MarkdownCutter

ANSWERS = sorted((pathlib.Path(__file__).parents[1] / "data" / "answers").glob("*.md"))

# (pieces fed, what each feed gives): the last item is what `flush` gives.
CASES = [
    # An opener left open holds the text from it; its closer lets it all go.
    (
        ["It sends **fifty at onc", "e** and stops."],
        ["It sends ", "**fifty at once** and stops.", ""],
    ),
    (["a *b", "* c"], ["a ", "*b* c", ""]),
    (["an _em", "_ and"], ["an ", "_em_ and", ""]),
    (["x ~~gone", "~~ y"], ["x ", "~~gone~~ y", ""]),
    (["run `ls", " -l` now"], ["run ", "`ls -l` now", ""]),
    # A delimiter run that ends the text waits for the next character.
    (["a **", "b**"], ["a ", "", "**b**"]),
    (["done**", " yes"], ["done", "** yes", ""]),
    (["**x**", "."], ["", "**x**.", ""]),
    (["a \\", "*not*"], ["a ", "\\*not", "*"]),
    # A link or an image whose text or destination is coming.
    (["see [the docs", "](http://x.y) now"], ["see ", "[the docs](http://x.y) now", ""]),
    (["see [docs](http://x", ".y) now"], ["see ", "[docs](http://x.y) now", ""]),
    (['a [t](http://x "Ti', 'tle") b'], ["a ", '[t](http://x "Title") b', ""]),
    (["![alt", "](i.png) x"], ["", "![alt](i.png) x", ""]),
    (["a [1] b"], ["a [1] b", ""]),
    # Never closed: shown when the paragraph ends, or the stream.
    (["*args are\n", "\nnext"], ["", "*args are\n\nnext", ""]),
    (["a **never"], ["a ", "**never"]),
    # In a fenced code block nothing is held, not even a fence's own markers.
    (["```py\nx = **kw", "\n```\n"], ["```py\nx = **kw", "\n```\n", ""]),
    (["~~~\n*a\n~~~\nb *c"], ["~~~\n*a\n~~~\nb ", "*c"]),
    (["text\n```\n`x", "\n```\nafter `y"], ["text\n```\n`x", "\n```\nafter ", "`y"]),
    # An indented fence of more than three spaces is no fence: held as text.
    (["    ```\n*a"], ["    ", "```\n*a"]),
    # Emphasis does not reach past a blank line.
    (["**a\n\nb**"], ["**a\n\nb", "**"]),
]


@pytest.mark.parametrize(("pieces", "given_back"), CASES)
def test_each_feed_gives_back_what_is_settled(pieces: list[str], given_back: list[str]) -> None:
    cutter = MarkdownCutter()
    out = [cutter.feed(piece) for piece in pieces]
    out.append(cutter.flush())
    assert out == given_back
    assert "".join(out) == "".join(pieces)


def test_an_opener_open_too_long_is_taken_as_text() -> None:
    cutter = MarkdownCutter()
    words = "word " * (MAX_HELD_CHARS // 5 + 10)
    out = cutter.feed("use *args " + words)
    assert out.startswith("use *args word") and len(out) >= MAX_HELD_CHARS
    assert out + cutter.feed("x") + cutter.flush() == "use *args " + words + "x"


# --- what an app shows, at every cut ---


def _raw_markers(markdown: str) -> dict[str, int]:
    """How often each marker shows as text when `markdown` is rendered (outside code)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt().enable("strikethrough").enable("table")  # CommonMark and GFM's two
    counts = dict.fromkeys(_MARKERS, 0)
    for token in md.parse(markdown):
        if token.type == "inline":
            text = "".join(c.content for c in token.children or () if c.type == "text")
            for marker in _MARKERS:
                counts[marker] += text.count(marker)
    return counts


# A raw "[" is left out: a reference link's definition comes after it.
_MARKERS = ("**", "*", "_", "`", "~~", "](")


@pytest.mark.parametrize("path", ANSWERS, ids=lambda p: p.name)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_no_cut_shows_a_marker_the_final_render_does_not(
    path: pathlib.Path, data: st.DataObject
) -> None:
    source = path.read_text(encoding="utf-8")
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(source) - 1), max_size=60))))
    final = _raw_markers(source)
    cutter = MarkdownCutter()
    shown = ""
    for start, end in zip([0, *cuts], [*cuts, len(source)], strict=True):
        shown += cutter.feed(source[start:end])
        seen = _raw_markers(shown)
        for marker in _MARKERS:
            # The final render's own raw markers may show early; no others.
            assert seen[marker] <= final[marker], (marker, shown[-80:])
    assert shown + cutter.flush() == source


@pytest.mark.parametrize("path", ANSWERS, ids=lambda p: p.name)
def test_fed_a_character_at_a_time_it_gives_back_the_text_unchanged(path: pathlib.Path) -> None:
    source = path.read_text(encoding="utf-8")
    cutter = MarkdownCutter()
    out = "".join(cutter.feed(char) for char in source) + cutter.flush()
    assert out == source
