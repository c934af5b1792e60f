from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outstream.core.utf8 import Utf8Decoder
from outstream.errors import DecodeError


def decode_chunks(chunks: list[bytes], errors: str = "replace") -> str:
    decoder = Utf8Decoder(errors)  # type: ignore[arg-type]
    return "".join(decoder.feed(c) for c in chunks) + decoder.flush()


def splits(data: bytes) -> list[list[bytes]]:
    return [[data[:i], data[i:]] for i in range(len(data) + 1)]


@pytest.mark.parametrize("text", ["é", "日本", "👩‍👩‍👧", "a\u0301b"])
def test_a_character_split_anywhere_comes_out_whole(text: str) -> None:
    data = text.encode()
    for chunks in splits(data):
        assert decode_chunks(chunks) == text
    assert decode_chunks([bytes([b]) for b in data]) == text


def test_invalid_bytes_become_replacement_characters() -> None:
    assert decode_chunks([b"a\xffb"]) == "a\ufffdb"
    assert decode_chunks([b"a\xc3"]) == "a\ufffd"  # truncated at the end of the stream


def test_strict_names_the_offset_in_the_whole_stream_and_keeps_the_text_before() -> None:
    decoder = Utf8Decoder("strict")
    assert decoder.feed(b"hello ") == "hello "
    with pytest.raises(DecodeError) as info:
        decoder.feed(b"w\xc3\xa9rld \xff!")
    assert info.value.offset == 6 + 7
    assert info.value.text_before == "wérld "
    assert "byte offset 13" in str(info.value)


def test_strict_offset_of_a_character_split_before_the_bad_byte() -> None:
    decoder = Utf8Decoder("strict")
    assert decoder.feed(b"ab\xe6") == "ab"
    with pytest.raises(DecodeError) as info:
        decoder.feed(b"\x97x")  # \xe6\x97 then 'x' is not a continuation byte
    assert info.value.offset == 2


def test_strict_truncated_character_at_the_end() -> None:
    decoder = Utf8Decoder("strict")
    decoder.feed(b"ok\xe6\x97")
    with pytest.raises(DecodeError) as info:
        decoder.flush()
    assert info.value.offset == 2


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.lists(st.integers(0, 40), max_size=6))
def test_output_does_not_depend_on_chunking(data: bytes, cuts: list[int]) -> None:
    points = sorted({min(c, len(data)) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert decode_chunks(chunks) == data.decode("utf-8", "replace")


def test_pending_holds_the_bytes_of_a_character_cut_by_the_chunk() -> None:
    decoder = Utf8Decoder()
    assert decoder.feed("a👩".encode()[:3]) == "a"
    assert decoder.pending == "👩".encode()[:2]
    assert not decoder.idle
    assert decoder.feed("👩".encode()[2:]) == "👩"
    assert decoder.pending == b""
    assert decoder.idle
