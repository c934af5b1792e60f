"""Tests for outstream.sources.plain: every kind of source, through `stream` and `astream`.

Each source goes through the public entry points into a real sink (a
StringIO), so a test checks what a user would see: the whole text, in
order, with no character split and nothing lost.
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

import outstream

TEXT = "héllo wörld ✓ 日本語 👍🏽\nsecond line\n"


def run_sync(source: object) -> tuple[str, outstream.Result]:
    out = io.StringIO()
    result = outstream.stream(source, file=out, env={})
    return out.getvalue(), result


def run_async(source: object) -> tuple[str, outstream.Result]:
    out = io.StringIO()
    result = asyncio.run(outstream.astream(source, file=out, env={}))
    return out.getvalue(), result


RUNNERS = [pytest.param(run_sync, id="stream"), pytest.param(run_async, id="astream")]


def split_bytes(text: str) -> list[bytes]:
    """`text` as UTF-8 cut inside every multi-byte character."""
    data = text.encode()
    return [data[i : i + 1] for i in range(len(data))]


# --- values and iterables ---


@pytest.mark.parametrize("run", RUNNERS)
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: TEXT, id="str"),
        pytest.param(lambda: TEXT.encode(), id="bytes"),
        pytest.param(lambda: bytearray(TEXT.encode()), id="bytearray"),
        pytest.param(
            lambda: ["héllo ", "wörld ✓ ", "日本語 👍🏽\n", "second line\n"], id="list-of-str"
        ),
        pytest.param(lambda: list(TEXT), id="list-of-chars"),
        pytest.param(lambda: split_bytes(TEXT), id="list-of-bytes-split"),
        pytest.param(lambda: [TEXT.encode()[:2], TEXT.encode()[2:]], id="char-split-in-two"),
        pytest.param(lambda: (c for c in TEXT), id="generator"),
        pytest.param(lambda: iter(split_bytes(TEXT)), id="iterator-of-bytes"),
    ],
)
def test_source_shows_the_whole_text(run, make):
    out, result = run(make())
    assert out == TEXT
    assert result.text == TEXT


def test_list_of_bytes_with_a_character_split_across_chunks():
    # "é" is c3 a9; "👍" is f0 9f 91 8d: both cut between chunks.
    out, _ = run_sync([b"caf\xc3", b"\xa9 ", b"\xf0\x9f", b"\x91", b"\x8d!"])
    assert out == "café 👍!"
    assert "\ufffd" not in out


@pytest.mark.parametrize("run", RUNNERS)
def test_async_generator(run):
    async def chunks() -> AsyncIterator[str | bytes]:
        for piece in ["Hello, ", b"w\xc3", b"\xb6rld", "!\n"]:
            await asyncio.sleep(0)
            yield piece

    out, result = run(chunks())
    assert out == "Hello, wörld!\n"
    assert result.stats.n_chunks == 4


@pytest.mark.parametrize("run", RUNNERS)
def test_generator_closed_after_the_end(run):
    closed = threading.Event()

    def chunks() -> Iterator[str]:
        try:
            yield from ["a", "b", "c"]
        finally:
            closed.set()

    out, _ = run(chunks())
    assert out == "abc"
    assert closed.is_set()


# --- files ---


@pytest.mark.parametrize("run", RUNNERS)
def test_binary_file(run, tmp_path):
    path = tmp_path / "in.bin"
    path.write_bytes(TEXT.encode() * 3)
    with open(path, "rb") as f:
        out, _ = run(f)
    assert out == TEXT * 3


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "utf-16", "utf-8-sig"])
@pytest.mark.parametrize("run", RUNNERS)
def test_text_file_in_its_encoding(run, tmp_path, encoding):
    text = "café crème, naïve façade\nzweite Zeile: Grüße\n"
    path = tmp_path / "in.txt"
    path.write_text(text, encoding=encoding)
    with open(path, encoding=encoding) as f:
        out, _ = run(f)
    assert out == text


def test_utf8_text_file_with_a_character_across_the_read_size(tmp_path):
    # Longer than one read: "é" falls across the boundary of the first read.
    text = "a" * (64 * 1024 - 1) + "é" + "b" * 1000 + "\n"
    path = tmp_path / "in.txt"
    path.write_text(text, encoding="utf-8")
    with open(path, encoding="utf-8") as f:
        out, _ = run_sync(f)
    assert out == text


def test_text_file_partly_read_streams_the_rest(tmp_path):
    # A program reads a header line itself, then streams the rest of the file.
    path = tmp_path / "in.txt"
    path.write_text("header\nline 2\nline 3\n", encoding="utf-8")
    with open(path, encoding="utf-8") as f:
        assert f.readline() == "header\n"
        out, _ = run_sync(f)
    assert out == "line 2\nline 3\n"


def test_binary_file_partly_read_streams_the_rest(tmp_path):
    path = tmp_path / "in.bin"
    path.write_bytes(b"header\nline 2\nline 3\n")
    with open(path, "rb") as f:
        assert f.readline() == b"header\n"
        out, _ = run_sync(f)
    assert out == "line 2\nline 3\n"


@pytest.mark.parametrize("run", RUNNERS)
def test_string_io(run):
    out, _ = run(io.StringIO(TEXT * 2))
    assert out == TEXT * 2


@pytest.mark.parametrize("run", RUNNERS)
def test_bytes_io(run):
    out, _ = run(io.BytesIO(TEXT.encode() * 2))
    assert out == TEXT * 2


# --- a pipe: read as data arrives, not at EOF ---


def _feed_pipe_in_steps(w: int, chunks: list[bytes], shown: list[threading.Event]) -> list[str]:
    """Write each chunk once the previous one has been shown; report what went wrong."""
    problems: list[str] = []
    try:
        for i, chunk in enumerate(chunks):
            os.write(w, chunk)
            if not shown[i].wait(timeout=10):
                problems.append(f"chunk {i} was not shown before more data came")
                break
    finally:
        os.close(w)
    return problems


class _Watcher(io.StringIO):
    """A StringIO that sets an event when each expected piece of text has arrived."""

    def __init__(self, expected: list[str], shown: list[threading.Event]) -> None:
        super().__init__()
        self._expected = expected
        self._shown = shown

    def write(self, text: str) -> int:
        n = super().write(text)
        value = self.getvalue()
        for i in range(len(self._expected)):
            if value.startswith("".join(self._expected[: i + 1])):
                self._shown[i].set()
        return n


@pytest.mark.parametrize("mode", ["raw", "buffered", "text"])
def test_pipe_is_read_as_data_arrives(mode):
    r, w = os.pipe()
    texts = ["first ✓\n", "second ✓\n", "third ✓\n"]
    shown = [threading.Event() for _ in texts]
    problems: list[str] = []
    writer = threading.Thread(
        target=lambda: problems.extend(_feed_pipe_in_steps(w, [t.encode() for t in texts], shown)),
        daemon=True,
    )
    if mode == "raw":
        source = open(r, "rb", buffering=0)  # noqa: SIM115 - closed below
    elif mode == "buffered":
        source = open(r, "rb")  # noqa: SIM115
    else:
        source = open(r, encoding="utf-8")  # noqa: SIM115
    out = _Watcher(texts, shown)
    try:
        writer.start()
        outstream.stream(source, file=out, env={})
        writer.join(timeout=20)
    finally:
        source.close()
    assert problems == []
    assert out.getvalue() == "".join(texts)


# --- what is not a source, and sources that fail ---


class Weird:
    pass


@pytest.mark.parametrize("run", RUNNERS)
@pytest.mark.parametrize("source", [Weird(), 42, None], ids=["Weird", "int", "NoneType"])
def test_unknown_type_is_a_type_error_naming_it(run, source):
    with pytest.raises(TypeError, match=f"cannot stream a {type(source).__name__}\\b"):
        run(source)


class Boom(Exception):
    pass


@pytest.mark.parametrize("run", RUNNERS)
def test_generator_raising_midway_shows_the_text_before_then_reraises(run):
    error = Boom("the model hung up")

    def chunks() -> Iterator[str]:
        yield "Hello, "
        yield "wörld.\n"
        raise error

    assert shown_before_reraising(run, chunks(), error) == "Hello, wörld.\n"


def shown_before_reraising(run, source, error) -> str:
    """Stream `source`, which raises `error`: the same error comes out; what was shown before it."""
    out = io.StringIO()
    with pytest.raises(Boom) as caught:
        if run is run_sync:
            outstream.stream(source, file=out, env={})
        else:
            asyncio.run(outstream.astream(source, file=out, env={}))
    assert caught.value is error
    return out.getvalue()


@pytest.mark.parametrize("run", RUNNERS)
def test_async_generator_raising_midway_shows_the_text_before_then_reraises(run):
    error = Boom("connection reset")

    async def chunks() -> AsyncIterator[str]:
        yield "partial "
        await asyncio.sleep(0)
        yield "answer"
        raise error

    assert shown_before_reraising(run, chunks(), error) == "partial answer"


@pytest.mark.parametrize("run", RUNNERS)
@pytest.mark.parametrize("bad", [7, None, 1.5, {"text": "x"}], ids=["int", "None", "float", "dict"])
def test_chunk_of_another_type_is_a_source_error_naming_it(run, bad):
    def chunks() -> Iterator[object]:
        yield "shown "
        yield b"too "
        yield bad
        yield "never shown"

    out = io.StringIO()
    with pytest.raises(outstream.SourceError, match=type(bad).__name__):
        if run is run_sync:
            outstream.stream(chunks(), file=out, env={})
        else:
            asyncio.run(outstream.astream(chunks(), file=out, env={}))
    assert out.getvalue() == "shown too "


def test_strict_decoding_names_the_offset_after_showing_the_text_before():
    out = io.StringIO()
    with pytest.raises(outstream.DecodeError) as caught:
        outstream.stream([b"ok \xc3", b"\xa9 ", b"\xff more"], file=out, errors="strict", env={})
    assert caught.value.offset == 6
    assert out.getvalue() == "ok é "
