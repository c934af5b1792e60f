"""The bytes path of a pipe's copy: what is written as the bytes read is what encoding the text gives.

A pipeline off a terminal with instant pacing tells, after each poll, the
UTF-8 of the text it returned when that is the bytes it read (`utf8`), and
a sink writes those instead of encoding the text. These tests hold it to the
text path on adversarial input: invalid UTF-8 of every kind, controls and
escapes cut anywhere, every cut of a small mixed text.
"""

from __future__ import annotations

import io
import itertools
import re
import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outstream.core.escapes import _SPECIAL, EscapeSanitizer, _clean_utf8_in_python
from outstream.core.mirror import Utf8Mirror
from outstream.core.pipeline import Pipeline
from outstream.core.utf8 import Utf8Decoder
from outstream.events import Delta, End
from outstream.sinks.stream import StreamSink

from ..clirun import child_env

# Pieces of input: valid characters of every length, joiners, controls,
# escapes, C1 and bidi controls, and UTF-8 that is not: overlongs, surrogates,
# beyond U+10FFFF, lone continuations, truncated sequences, bytes never used.
PIECES = [
    b"a", b" ", b"\n", b"\t", b"\r", b"\r\n", "é".encode(), "中".encode(), "🙂".encode(),
    "👩\u200d💻".encode(), "🇫🇷".encode(), "e\u0301".encode(), "क्ष".encode(), "한".encode(),
    "“”—…".encode(), "\u00a0\u3000".encode(), b"\x1b", b"\x1b[31m", b"\x1b]0;title\x07",
    b"\x00", b"\x7f", b"\x08", "\x85\x9b".encode(), "\u202e\u2066".encode(), "\ufffd".encode(),
    b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xe0\x9f\xbf", b"\xed\xa0\x80", b"\xed\xbf\xbf",
    b"\xf0\x80\x80\x80", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xff", b"\xfe",
    b"\x80", b"\xbf", b"\xc3", b"\xe2\x80", b"\xf0\x9f", b"\xf0\x9f\x99",
]  # fmt: skip

streams = st.lists(st.sampled_from(PIECES), max_size=30).map(b"".join)


def cut(data: bytes, points: list[int]) -> list[bytes]:
    bounds = [0, *sorted(p % (len(data) + 1) for p in points), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def reference(data: bytes) -> str:
    """The text path, in one piece: decode (bad bytes replaced), then sanitize."""
    decoder, sanitizer = Utf8Decoder(), EscapeSanitizer("strip")
    text = decoder.feed(data) + decoder.flush()
    return sanitizer.feed(text) + sanitizer.flush()


def copy(chunks: list[bytes]) -> tuple[str, bytes, int]:
    """A pipe's copy of `chunks`: the text, the bytes a UTF-8 sink writes, the polls with bytes."""
    pipeline = Pipeline(count_text=False)
    texts: list[str] = []
    written: list[bytes] = []
    n_known = 0
    for i, chunk in enumerate([*chunks, None]):
        event = End(t=float(i)) if chunk is None else Delta(t=float(i), data=chunk)
        pipeline.feed(event, float(i))
        while not pipeline.done:
            text = pipeline.poll(float(i))
            if not text:
                break
            texts.append(text)
            if pipeline.utf8 is None:
                written.append(text.encode("utf-8", "replace"))
            else:
                assert pipeline.utf8 == text.encode("utf-8"), (text, pipeline.utf8)
                written.append(pipeline.utf8)
                n_known += 1
    return "".join(texts), b"".join(written), n_known


@given(streams, st.lists(st.integers(min_value=0), max_size=6))
@settings(max_examples=400, deadline=None)
def test_the_bytes_written_are_the_text_encoded_however_the_input_is_cut(
    data: bytes, points: list[int]
) -> None:
    text, written, _ = copy(cut(data, points))
    assert text == reference(data)
    assert written == text.encode("utf-8", "replace")


def test_valid_text_goes_out_as_the_bytes_read_at_every_cut() -> None:
    data = "Ça va — “中文” 🙂 👩\u200d💻 🇫🇷 e\u0301 क्ष\nnext line\n".encode()
    for i, j in itertools.combinations(range(len(data) + 1), 2):
        chunks = [data[:i], data[i:j], data[j:]]
        text, written, n_known = copy(chunks)
        assert text == data.decode()
        assert written == data
        assert n_known >= 1


def test_bytes_are_not_claimed_for_changed_text() -> None:
    for data in [b"a\x1b[2Jb\n", b"a\xffb\n", b"a\rb\n", "a\u202eb\n".encode(), b"a\xc2\x9bb\n"]:
        pipeline = Pipeline(count_text=False)
        pipeline.feed(Delta(t=0.0, data=data), 0.0)
        assert pipeline.poll(0.0) == reference(data)
        assert pipeline.utf8 is None


def test_a_cr_lf_cut_after_the_cr_loses_its_lf_in_the_bytes_too() -> None:
    _, written, _ = copy([b"one\r", b"\ntwo\n"])
    assert written == b"one\ntwo\n"


@pytest.mark.parametrize("kind", ["wrap", "markdown", "typewriter"])
def test_no_bytes_where_the_text_is_rewritten_or_paced(kind: str) -> None:
    from outstream.core.pace import Typewriter
    from outstream.core.pipeline import MarkdownOutput

    options: dict[str, object] = {
        "wrap": {"wrap_width": 20},
        "markdown": {"markdown": MarkdownOutput(width=40)},
        "typewriter": {"pacer": Typewriter(cps=1000.0)},
    }[kind]
    pipeline = Pipeline(count_text=False, **options)  # type: ignore[arg-type]
    pipeline.feed(Delta(t=0.0, data="# café\n\n".encode()), 0.0)
    pipeline.poll(10.0)
    assert pipeline.utf8 is None


# --- the pieces ---


@given(streams, st.lists(st.integers(min_value=0), max_size=4))
@settings(max_examples=300, deadline=None)
def test_feed_valid_is_feed_or_declines_with_nothing_taken(data: bytes, points: list[int]) -> None:
    fast, slow = Utf8Decoder(), Utf8Decoder()
    out = []
    for chunk in cut(data, points):
        decoded = fast.feed_valid(chunk)
        want = slow.feed(chunk)
        if decoded is None:
            assert fast.feed(chunk) == want
        else:
            text, utf8 = decoded
            assert text == want
            assert utf8 == text.encode()
        assert fast.pending == slow.pending
        out.append(want)
    assert fast.flush() == slow.flush()


try:
    from outstream.core._speedups import clean_utf8 as compiled_clean_utf8
except ImportError:
    compiled_clean_utf8 = None
# The scan in Python, and the compiled one (_speedups.c) where it was built.
CLEAN_UTF8 = [
    pytest.param(_clean_utf8_in_python, id="python"),
    pytest.param(
        compiled_clean_utf8,
        id="compiled",
        marks=pytest.mark.skipif(compiled_clean_utf8 is None, reason="not built"),
    ),
]


SCAN_ALPHABET = [*"aé中🙂\n\t\r\x1b\x00\x7f\x85\x9b\u202a\u202e\u2066\u2069\u2028“…\u200d\xa0\xc2"]


@pytest.mark.parametrize("clean_utf8", CLEAN_UTF8)
@given(st.text(alphabet=st.sampled_from(SCAN_ALPHABET)), st.integers(0, 150))
def test_clean_utf8_says_exactly_whether_the_text_holds_a_special_character(
    clean_utf8: Callable[[bytes], bool], text: str, pad: int
) -> None:
    assert clean_utf8(text.encode()) == (_SPECIAL.search(text) is None)
    # Also deep in long text, where the compiled scan reads 64 bytes at a time.
    for padded in ("x" * pad + text, "中" * pad + text + "“" * pad):
        assert clean_utf8(padded.encode()) == (_SPECIAL.search(padded) is None)


@pytest.mark.parametrize("clean_utf8", CLEAN_UTF8)
def test_every_special_character_is_found_beside_bytes_like_its_own(
    clean_utf8: Callable[[bytes], bool],
) -> None:
    # The residue keeps every continuation byte: E2 80 followed by a
    # continuation of another character is not taken for a bidi control.
    specials = [
        chr(c)
        for c in (
            *range(0x09),
            *range(0x0B, 0x20),
            *range(0x7F, 0xA0),
            *range(0x202A, 0x202F),
            *range(0x2066, 0x206A),
        )
    ]
    neighbours = ["—", "“", "…", "\u200d", "ª", "中", "€", "\u2029", "\u2065", "\u206a", "\n"]
    for special, left, right in itertools.product(specials, neighbours, neighbours):
        assert not clean_utf8(f"{left}{special}{right}".encode())
    for left, right in itertools.product(neighbours, neighbours):
        assert clean_utf8(f"{left}{right}".encode())
    # At every place of a long text, each end of a 64-byte block included.
    for at in range(150):
        for special in ("\x00", "\x1f", "\x7f", "\x85", "\u202e", "\u2069"):
            text = "a" * at + special + "\t" * (150 - at)
            assert not clean_utf8(text.encode()), (at, special)
        assert clean_utf8(("a" * at + "\u2029\n" + "“" * (150 - at)).encode())


def test_the_mirror_moves_the_held_text_to_the_next_release() -> None:
    mirror = Utf8Mirror()
    mirror.push("abc🙂".encode())
    assert mirror.release("🙂", whole=True) == b"abc"
    mirror.push(b"de")
    assert mirror.release("", whole=True) == "🙂de".encode()
    mirror.push(None)
    assert mirror.release("", whole=True) is None
    mirror.push(b"x")
    assert mirror.release("", whole=True) == b"x"


# --- the sink ---


def test_a_binary_utf8_sink_writes_the_bytes_given() -> None:
    out = io.BytesIO()
    sink = StreamSink(out, flush="chunk")
    sink.write_utf8("é", b"\xc3\xa9")
    sink.write("!")
    assert out.getvalue() == "é!".encode()
    assert sink.n_writes == 2


def test_a_sink_in_another_encoding_writes_the_text() -> None:
    out = io.BytesIO()
    sink = StreamSink(out, flush="chunk", encoding="latin-1")
    sink.write_utf8("é", b"\xc3\xa9")
    assert out.getvalue() == b"\xe9"
    text = io.StringIO()
    StreamSink(text, flush="chunk").write_utf8("é", b"\xc3\xa9")
    assert text.getvalue() == "é"


# --- the command line ---


def test_the_cli_copies_a_pipe_byte_for_byte_as_the_text_path_does() -> None:
    pieces = [p * 3 for p in PIECES] + ["Ça va — “中文” 🙂\n".encode() * 5000]
    data = b"".join(pieces) * 3
    ran = subprocess.run(
        [sys.executable, "-m", "outstream", "--instant", "--stats"],
        input=data,
        capture_output=True,
        env=child_env(),
        timeout=60,
        check=True,
    )
    want = reference(data)
    assert ran.stdout == want.encode("utf-8", "replace")
    found = re.search(rb"([\d,]+) chars, ([\d,]+) graphemes, ([\d,]+) words", ran.stderr)
    assert found is not None
    import regex

    counts = [int(g.replace(b",", b"")) for g in found.groups()]
    assert counts == [len(want), len(regex.findall(r"\X", want)), len(want.split())]
