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
