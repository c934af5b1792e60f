from __future__ import annotations

import pyte
import pytest

from outstream.core.live import SHOW_CURSOR, LiveRegion


def play(outputs: list[str], cols: int = 30, rows: int = 6) -> pyte.HistoryScreen:
    screen = pyte.HistoryScreen(cols, rows, history=1000)
    stream = pyte.Stream(screen)
    for out in outputs:
        stream.feed(out.replace("\n", "\r\n"))  # as a terminal's ONLCR does
    return screen


def everything(screen: pyte.HistoryScreen) -> list[str]:
    history = ["".join(c.data for c in line.values()).rstrip() for line in screen.history.top]
    shown = [line.rstrip() for line in screen.display]
    lines = history + shown
    while lines and not lines[-1]:
        lines.pop()
    return lines


def test_the_live_region_is_redrawn_in_place_and_committed_lines_stay():
    region = LiveRegion(30, 6)
    outputs = [
        region.update([], ["typing a para"]),
        region.update([], ["typing a paragraph that", "wraps"]),
        region.update(["typing a paragraph that", "wraps here."], ["- a list"]),
        region.update([], ["- a list", "- grows"]),
        region.update(["- a list", "- grows"], []),
        region.close(),
    ]
    assert everything(play(outputs)) == [
        "typing a paragraph that",
        "wraps here.",
        "- a list",
        "- grows",
    ]
    assert outputs[-1].endswith(SHOW_CURSOR)


def test_a_live_region_taller_than_the_screen_commits_its_top():
    region = LiveRegion(20, 5)
    lines = [f"code line {i}" for i in range(12)]
    outputs = [region.update([], lines[:n]) for n in range(1, 13)]
    outputs.append(region.update(lines, []))
    outputs.append(region.close())
    assert everything(play(outputs, cols=20, rows=5)) == lines
    assert region.n_committed == 12


def test_wide_characters_and_long_lines_count_the_rows_they_take():
    region = LiveRegion(10, 8)
    outputs = [
        region.update([], ["日本語のテキストです"]),  # 20 cells: two rows
        region.update([], ["日本語のテキストです", "next"]),
        region.update(["日本語のテキストです", "next"], []),
        region.close(),
    ]
    assert everything(play(outputs, cols=10, rows=8)) == ["日本語のテ", "キストです", "next"]


def test_bad_sizes():
    with pytest.raises(ValueError):
        LiveRegion(0, 10)


def shrink(screen: pyte.HistoryScreen, rows: int) -> None:
    """The screen gets `rows` tall, as xterm does it: lines above the cursor go to the scrollback."""
    while screen.cursor.y >= rows:
        y, x = screen.cursor.y, screen.cursor.x
        screen.cursor_position(screen.lines, 1)
        screen.index()  # the top line into the history
        screen.cursor_position(y, x + 1)  # one line up (1-based)
    screen.lines = rows
    screen.set_margins()


def test_a_screen_made_shorter_mid_block_loses_and_repeats_no_line():
    from outstream.core.markdown import MarkdownRenderer, render_markdown

    source = "Intro.\n\n```\n" + "".join(f"x_{i} = {i}\n" for i in range(40)) + "```\n\n- a\n- b\n"
    renderer = MarkdownRenderer(30, color_system=None, live_lines=11)
    region = LiveRegion(30, 12)
    screen = pyte.HistoryScreen(30, 12, history=1000)
    stream = pyte.Stream(screen)
    for k in range(0, len(source), 16):
        if k <= source.index("x_15 =") < k + 16:
            shrink(screen, 6)
            renderer.live_lines = 5  # what Pipeline.resize does
            region.resize(30, 6)
        frame = renderer.feed(source[k : k + 16])
        stream.feed(region.update(frame.committed, frame.live).replace("\n", "\r\n"))
        assert screen.cursor.y < screen.lines
    frame = renderer.flush()
    stream.feed((region.update(frame.committed, frame.live) + region.close()).replace("\n", "\r\n"))
    expected = [line.rstrip() for line in render_markdown(source, 30, color_system=None)]
    assert everything(screen) == expected


def test_a_frame_rewrites_only_the_lines_that_changed():
    """An open block grows at its end: the lines above stay on the screen as they are."""
    region = LiveRegion(30, 10)
    top = ["a paragraph that wraps", "onto a second line"]
    outputs = [region.update([], [*top, "and a thi"])]
    grown = region.update([], [*top, "and a third line", "and a fou"])
    outputs.append(grown)
    assert "a paragraph" not in grown and "second" not in grown and "\x1b[J" not in grown
    # The last line only grew: what it gains is written where it ends.
    assert grown == "rd line\nand a fou\x1b[0m"
    shrunk = region.update([], [*top, "and a third line", "and a"])
    outputs.append(shrunk)
    assert shrunk == "\rand a\x1b[0m\x1b[K"  # otherwise from its start
    outputs.append(region.update([], [*top, "and a third line", "and a fou"]))
    # Committed as it was drawn: nothing is written again, the cursor moves below it.
    done = region.update([*top, "and a third line", "and a fourth."], ["- next"])
    outputs.append(done)
    assert done == "rth.\n- next\x1b[0m"
    outputs.append(region.close())
    assert everything(play(outputs, rows=10)) == [
        *top,
        "and a third line",
        "and a fourth.",
        "- next",
    ]


GROWN_CASES = [
    # (the last line drawn, the same line grown, what the frame writes)
    ("and a thi", "and a third", "rd"),
    ("", "x", "x"),
    # The line's colours are sent again first: the reset after it cleared them.
    ("a \x1b[1mbol\x1b[0m", "a \x1b[1mbold\x1b[0m text", "\x1b[1md\x1b[0m text\x1b[0m"),
    ("\x1b[1ma\x1b[0m b", "\x1b[1ma\x1b[0m bc", "\x1b[1m\x1b[0mc\x1b[0m"),
    # A mark that joins the last cluster, or a line that changed: from the line's start.
    ("cafe", "cafe\u0301s", "\rcafe\u0301s\x1b[0m\x1b[K"),
    ("cafe", "cafés", "\rcafés\x1b[0m\x1b[K"),
    ("and a thi", "and a", "\rand a\x1b[0m\x1b[K"),
]


@pytest.mark.parametrize(("old", "new", "written"), GROWN_CASES)
def test_a_last_line_that_only_grew_is_written_on_where_it_ends(old, new, written):
    """At the cursor, where the line ends at any width: right even on a screen a
    terminal reflowed for a size it has not told yet (tests/e2e/test_tmux.py)."""
    region = LiveRegion(30, 10)
    outputs = [region.update([], ["above", old]), region.update([], ["above", new])]
    assert outputs[-1] == written
    outputs += [region.update(["above", new], []), region.close()]
    assert everything(play(outputs, rows=10)) == ["above", _plain(new)]


def _plain(line: str) -> str:
    import re

    return re.sub("\x1b\\[[0-9;]*m", "", line).replace("e\u0301", "é")


def test_a_line_is_written_from_its_start_when_the_cursor_is_not_where_it_ends():
    """Rows taken away below it: the cursor went down and back up, to the row's start."""
    region = LiveRegion(30, 10)
    outputs = [region.update([], ["a b", "c"]), region.update([], ["a b"])]
    outputs.append(region.update([], ["a b c"]))
    assert outputs[-1] == "\ra b c\x1b[0m\x1b[K"
    outputs += [region.update(["a b c"], []), region.close()]
    assert everything(play(outputs, rows=10)) == ["a b c"]


def test_a_row_the_terminal_wrapped_that_now_ends_a_line_has_the_row_below_erased_whole():
    """tmux marks a row whose line the terminal wrapped onto the next, and keeps the
    mark until the row below is erased whole: without that, a line that ends there
    now would be joined to the next one at tmux's next reflow."""
    region = LiveRegion(10, 10)
    outputs = [region.update([], ["abcdefgh ijklmn"])]  # two rows
    outputs.append(region.update([], ["abcdefgh", "ijklmnop"]))
    assert outputs[-1] == "\r\x1b[1Aabcdefgh\x1b[0m\x1b[K\n\x1b[2Kijklmnop\x1b[0m\x1b[K"
    outputs += [region.update(["abcdefgh", "ijklmnop"], []), region.close()]
    assert everything(play(outputs, cols=10, rows=10)) == ["abcdefgh", "ijklmnop"]


def test_lines_added_below_an_unchanged_region_are_appended():
    region = LiveRegion(30, 10)
    outputs = [region.update([], ["one"]), region.update([], ["one", "two"])]
    assert outputs[-1] == "\n" + "two\x1b[0m"
    outputs.append(region.update(["one", "two"], []))
    assert outputs[-1] == "\n"  # both committed as drawn: the cursor goes below them
    outputs.append(region.update([], ["three"]))
    outputs.append(region.close())
    assert everything(play(outputs, rows=10)) == ["one", "two", "three"]


def test_the_padding_spaces_at_the_end_of_a_line_are_not_sent():
    """rich pads each line to the width: the cleared screen shows the same without them."""
    region = LiveRegion(30, 10)
    padded = "some text" + " " * 21
    styled = "\x1b[44m code  \x1b[0m" + " " * 3  # spaces with a background are kept
    outputs = [
        region.update([], [padded, styled]),
        region.update([padded, styled], []),
        region.close(),
    ]
    assert padded not in outputs[0] and "some text\x1b[0m" in outputs[0]
    assert "\x1b[44m code  \x1b[0m\x1b[0m" in outputs[0]
    assert everything(play(outputs, rows=10)) == ["some text", " code"]


def test_a_narrower_terminal_keeps_the_lines_above_the_last_as_drawn():
    """After a reflow the top of the region may be in the scrollback (tmux puts it
    there even with room below): only the last line, which the cursor ends, is
    found again; the caller's lines above it are skipped from then on."""
    region = LiveRegion(20, 10)
    top = ["one two three four", "five six seven eight"]
    region.update([], [*top, "nine ten"])
    region.resize(12, 10)
    out = region.update([], [*top, "nine ten eleven twelve", "thirteen"])
    # Where the last line ends ("nine ten", which grew), over nothing above.
    assert out == " eleven twelve\nthirteen\x1b[0m"
    assert region.update([*top, "nine ten eleven twelve", "thirteen"], []) == "\n"
    region.update([], ["a b c"])
    region.resize(3, 10)
    # From the last line's first row ("a b c": two rows at 3).
    assert region.update([], ["a B c"]) == "\r\x1b[1Aa B c\x1b[0m\x1b[K"


def test_after_several_sizes_only_the_cursors_line_is_drawn_again_even_at_the_same_width():
    """A window dragged narrower and back: the terminal reflowed the region at each
    size, and may not have put its rows back as they were (tmux, with the region
    taller than the screen at the narrow size): the lines above the last are left
    as they are, although the width is the one they were drawn at."""
    region = LiveRegion(20, 10)
    top = ["one two three four", "five six seven eight"]
    region.update([], [*top, "nine ten"])
    region.resize(20, 10, several=True)
    # Even a line above that changed is not gone back to: it stays as drawn.
    out = region.update([], ["one two three FOUR", top[1], "nine TEN", "twelve"])
    assert out == "\rnine TEN\x1b[0m\x1b[K\ntwelve\x1b[0m"  # not up over `top`


# Skin tones and flags: pyte stops drawing a run at a ZWJ or VS16 (its
# `Screen.draw` breaks on a zero-width character that does not combine), so
# ZWJ sequences are tried in tmux (tests/e2e/test_tmux.py).
EMOJI = ["👍🏽", "🇯🇵", "🧑🏿", "🇫🇷", "✋🏻"]


@pytest.mark.parametrize("seed", range(5))
def test_graphemes_whose_width_terminals_disagree_on_leave_no_stale_row(seed):
    """pyte counts each code point (👍🏽 and 🇯🇵 four cells), as tmux does; we count
    a cluster as one wide character. A line that may reach the last column is
    written as rows that fit either way, so the region knows how far up to go."""
    import random

    from outstream.core.markdown import MarkdownRenderer

    words = [f"w{i:02d}{EMOJI[i % len(EMOJI)]}" for i in range(80)]
    source = "# Emoji\n\n" + " ".join(words) + "\n\nThe end.\n"
    renderer = MarkdownRenderer(40, color_system=None, live_lines=7)
    region = LiveRegion(40, 8)
    cuts = sorted(random.Random(seed).sample(range(1, len(source)), 60))
    outputs = []
    for start, end in zip([0, *cuts], [*cuts, len(source)], strict=True):
        frame = renderer.feed(source[start:end])
        outputs.append(region.update(frame.committed, frame.live))
    frame = renderer.flush()
    outputs += [region.update(frame.committed, frame.live), region.close()]
    lines = everything(play(outputs, cols=40, rows=8))
    shown = " ".join(lines).split()
    assert [w[:3] for w in shown if w.startswith("w")] == [w[:3] for w in words]
    assert lines.count("The end.") == 1 and [line.strip() for line in lines].count("Emoji") == 1
    assert not any(
        line.startswith(" w") for line in lines
    )  # rows are cut at a space, not before it


def test_a_line_taken_away_with_nothing_after_it_is_erased_where_it_is():
    """`1` (a paragraph) then `1.` (nothing yet: an ordered list's marker) then the list:
    the row of `1` is erased, not the row below it (it stayed on the screen)."""
    region = LiveRegion(30, 10)
    outputs = [
        region.update(["Three things go wrong:"], ["", "1"]),
        region.update([], [""]),
        region.update([], ["", " 1 E"]),
        region.update([], ["", " 1 Every token."]),
        region.update(["", " 1 Every token."], []),
        region.close(),
    ]
    assert outputs[1] == "\r\x1b[2K\x1b[1A"
    assert everything(play(outputs, rows=10)) == ["Three things go wrong:", "", " 1 Every token."]
    # All of it taken away: the cursor stays where the region began.
    region = LiveRegion(30, 10)
    outputs = [region.update([], ["a", "b"]), region.update([], []), region.update([], ["c"])]
    assert everything(play(outputs, rows=10)) == ["c"]
