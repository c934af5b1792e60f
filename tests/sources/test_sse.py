from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outstream.sources.sse import SSEEvent, SSEParser


def parse(chunks: list[bytes]) -> list[SSEEvent]:
    parser = SSEParser()
    events = []
    for chunk in chunks:
        events += parser.feed(chunk)
    return events + parser.flush()


STREAM = (
    b"\xef\xbb\xbf: a comment\r\n"
    b'data: {"a": 1}\r\n\r\n'
    b"event: error\ndata: line one\ndata:line two\nid: 7\n\n"
    b"data\n\n"
    b"retry: 100\nunknown: x\n\n"
    b"data: [DONE]\r\r"
    b"data: never dispatched"
)
EXPECTED = [
    SSEEvent(event="message", data='{"a": 1}'),
    SSEEvent(event="error", data="line one\nline two", id="7"),
    SSEEvent(event="message", data="", id="7"),
    SSEEvent(event="message", data="[DONE]", id="7"),
]


def test_the_rules_of_the_standard():
    assert parse([STREAM]) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_any_chunking_gives_the_same_events(size):
    assert parse([STREAM[i : i + size] for i in range(0, len(STREAM), size)]) == EXPECTED


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, len(STREAM)), max_size=8))
def test_random_chunkings(cuts):
    points = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    assert parse(chunks) == EXPECTED
