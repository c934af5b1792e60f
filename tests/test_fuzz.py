"""The parsers of outside input, fuzzed: any input gives events or one clean error.

Random bytes and random JSON for the event-stream parser and both recording
readers; random Markdown, references and controls included, for the
Markdown path. No other exception, no hang, and nothing unsafe drawn.
"""

from __future__ import annotations

import json
import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outstream.core.escapes import EscapeSanitizer
from outstream.core.markdown import MarkdownRenderer
from outstream.errors import SourceError
from outstream.recordings import read_cast, read_deltas
from outstream.sources.sse import SSEError, SSEParser

SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

SSE_PIECES = st.sampled_from(
    [b"data: ", b"event: ", b"id: ", b": ", b"\n", b"\r", b"\r\n", b"\n\n", b"x", b"{}", b"\xff",
     b"\xef\xbb\xbf", b"\x00", b"[DONE]", b"retry: 1", b"\xe6\x97", b"\xa5"]
)  # fmt: skip


@SETTINGS
@given(st.lists(st.one_of(SSE_PIECES, st.binary(max_size=8)), max_size=40), st.integers(1, 9))
def test_the_event_stream_parser_takes_any_bytes(pieces, size):
    data = b"".join(pieces)
    parser = SSEParser(max_event=64)
    try:
        for i in range(0, len(data), size):
            for event in parser.feed(data[i : i + size]):
                assert len(event.data) <= 64
        parser.flush()
    except SSEError as exc:
        assert "characters" in str(exc)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=8,
)
DELTA_KEYS = ["t", "text", "reasoning", "usage", "other", "value", "finish", "error", "end"]
DELTA = st.dictionaries(
    st.sampled_from(DELTA_KEYS),
    JSON | st.fixed_dictionaries({"prompt_tokens": JSON, "generation_seconds": JSON}),
    max_size=3,
)
LINE = st.one_of(
    DELTA.map(json.dumps),
    st.tuples(JSON, JSON, JSON).map(lambda v: json.dumps(list(v))),
    st.sampled_from(
        ['{"t": NaN, "text": "a"}', '[Infinity, "o", "x"]', '[1e999, "o", "x"]', "{", ""]
    ),
    st.text(max_size=10),
)


@SETTINGS
@given(st.lists(LINE, max_size=8), st.booleans())
def test_the_recording_readers_take_any_lines(tmp_path_factory, lines, newline_at_end):
    path = tmp_path_factory.mktemp("rec")
    header = {"deltas": '{"format": "outstream-deltas", "version": 1}', "cast": '{"version": 2}'}
    for kind, read in (("deltas", read_deltas), ("cast", read_cast)):
        file = path / f"r.{kind}"
        text = "\n".join([header[kind], *lines]) + ("\n" if newline_at_end else "")
        file.write_text(text, encoding="utf-8")
        try:
            script, end = read(file)
        except SourceError as exc:
            assert "\n" not in str(exc)
            continue
        times = [t for t, _ in script]
        assert times == sorted(times) and all(0 <= t <= end <= 1e7 for t in times)


MARKDOWN = st.sampled_from(
    ["# ", "- ", "1. ", "> ", "| a | b |\n|---|---|\n", "```py\n", "```\n", "`", "*", "**", "_",
     "[x](http://e/ \"t\")", "[r]", "[r]: /u\n", "&#x202E;", "&#13;", "&#x1b;", "&amp;", "&#0;",
     "\x1b]0;t\x07", "\x9b2J", "\u202e", "\r\n", "\n\n", "text ", "中文 ", "👍🏽", "<kbd>", "</kbd>",
     "![i](x)", "\t", "    ", "---\n", "~~s~~"]
)  # fmt: skip
UNSAFE = re.compile("[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@SETTINGS
@given(st.lists(MARKDOWN, max_size=30), st.integers(1, 40))
def test_the_markdown_path_takes_any_text_and_draws_no_control(pieces, size):
    source = "".join(pieces)
    sanitizer = EscapeSanitizer("strip")
    clean = sanitizer.feed(source) + sanitizer.flush()  # as the pipeline gives it
    renderer = MarkdownRenderer(40, color_system=None, live_lines=10)
    drawn = []
    for i in range(0, len(clean), size):
        frame = renderer.feed(clean[i : i + size])
        drawn += [*frame.committed, *frame.live]
    drawn += renderer.flush().committed
    assert not any(UNSAFE.search(line) or "\x1b" in line for line in drawn)
