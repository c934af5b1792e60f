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


def reference(stream: bytes) -> list[SSEEvent]:
    """The standard's line-by-line reading, written plainly (9.2.6), for the whole stream."""
    text = stream.decode("utf-8", "replace").removeprefix("\ufeff")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[:-1]
    events, data, name, last_id = [], [], "", None
    for line in lines:
        if not line:
            if data:
                events.append(SSEEvent(event=name or "message", data="\n".join(data), id=last_id))
            data, name = [], ""
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                data.append(value)
            elif field == "event":
                name = value
            elif field == "id" and "\0" not in value:
                last_id = value
    return events


LINE_PARTS = [b"data: x", b"data: yz", b"event: e", b": ka", b"id: 1", b"", b"data"]
ENDS = [b"\n", b"\r", b"\r\n", b"\n\n", b"\r\r", b"\r\n\r\n", b"\n\n\n\n"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(LINE_PARTS), st.sampled_from(ENDS)), max_size=12),
    st.lists(st.integers(0, 200), max_size=6),
)
def test_runs_of_line_ends_and_blank_lines_read_as_the_standard_says(lines, cuts):
    stream = b"".join(a + b for a, b in lines)
    points = sorted({c for c in cuts if c <= len(stream)})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert parse(chunks) == reference(stream)


def test_a_line_or_an_event_past_the_bound_is_an_error_not_memory_without_end():
    from outstream.sources.sse import MAX_EVENT, SSEError

    assert MAX_EVENT == 16 * 1024 * 1024
    parser = SSEParser(max_event=16)
    assert parser.feed(b"data: 0123456789\n\n") == [SSEEvent(event="message", data="0123456789")]
    with pytest.raises(SSEError, match="line of the event stream went on past 16 characters"):
        for _ in range(20):
            parser.feed(b"xx")  # one line that never ends
    parser = SSEParser(max_event=16)
    with pytest.raises(SSEError, match="is over 16 characters"):
        parser.feed(b"data: 0123456789AB\n")
    parser = SSEParser(max_event=16)
    with pytest.raises(SSEError, match="event's data is over 16 characters"):
        parser.feed(b"data: 01234567\ndata: 89abcdef\n")
    with pytest.raises(ValueError):
        SSEParser(max_event=0)


def test_a_long_line_is_kept_in_pieces_not_joined_again_at_each_chunk():
    """16 MiB without a line end, in 64 KiB chunks: the pieces are only joined when it ends."""
    parser = SSEParser()
    piece = b"x" * 65536
    assert parser.feed(b"data: ") == []
    for _ in range(255):
        assert parser.feed(piece) == []
    assert len(parser._open) == 256  # one piece a chunk: no copy of what came before
    [event] = parser.feed(b"\n\n")
    assert len(event.data) == 255 * 65536


# --- retry: the reconnection time (WHATWG HTML 9.2.6, "If the field name is retry") ---

RETRY_CASES = [
    (b"retry: 3000\n", 3.0),
    (b"retry:250\n", 0.25),
    (b"retry: 0\n", 0.0),
    (b"retry: 0042\n\n", 0.042),
    (b"retry: 1.5\n", None),  # only ASCII digits, or the field is ignored
    (b"retry: -1\n", None),
    (b"retry: 1e3\n", None),
    (b"retry:\n", None),  # no digits at all
    (b"retry\n", None),
    (b"retry: 100 \n", None),  # a trailing space is not a digit
    (b"retry:  100\n", None),  # one leading space is dropped, not two
    ("retry: \u0663\u0660\n".encode(), None),  # Arabic-Indic digits are digits, not ASCII ones
    ("retry: \u00b2\n".encode(), None),  # str.isdigit() says yes to a superscript two
    (b"Retry: 100\n", None),  # field names are case-sensitive
    (b"retry: 100\nretry: 200\n", 0.2),  # the last one counts
    (b"retry: 100\nretry: x\n", 0.1),  # an ignored one leaves it as it was
]


@pytest.mark.parametrize(("stream", "retry"), RETRY_CASES)
def test_retry_sets_the_reconnection_time_only_when_it_is_ascii_digits(stream, retry):
    parser = SSEParser()
    assert parser.retry is None
    assert parser.feed(stream) == []  # a retry field dispatches nothing
    assert parser.retry == retry


def test_retry_is_read_at_its_line_whatever_the_chunking_and_beside_an_event():
    stream = b"retry: 1500\r\nid: 4\r\ndata: x\r\n\r\n"
    for size in (1, 2, 5):
        parser = SSEParser()
        events = [e for i in range(0, len(stream), size) for e in parser.feed(stream[i : i + size])]
        assert events == [SSEEvent(event="message", data="x", id="4")]
        assert parser.retry == 1.5
    parser = SSEParser()
    assert parser.feed(b"retry: 1500\r") == []  # its line has ended: it counts already
    assert parser.retry == 1.5
    parser = SSEParser()
    assert parser.feed(STREAM) == EXPECTED  # (its "retry: 100" dispatches nothing)
    assert parser.retry == 0.1
