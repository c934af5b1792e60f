"""Plain sources: str, bytes, (async) iterables of them, file objects, stdin.

A file or pipe is read as data arrives: ``read1`` (one raw read, whatever it
returns) or ``read`` on a raw stream, never a read that waits for a full
buffer or for EOF, so a chunk a producer writes is shown at once.
"""

from __future__ import annotations

import codecs
import contextlib
import io
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Any

__all__ = [
    "ACCEPTED",
    "READ_SIZE",
    "async_iterator",
    "describe",
    "is_file",
    "iter_file",
    "static_chunks",
    "sync_iterator",
    "to_call",
    "unknown_source",
]

READ_SIZE = 64 * 1024

ACCEPTED = (
    "str, bytes, an iterable or async iterable of str or bytes, "
    "a file object opened for reading (text or binary), "
    "or a function (or awaitable) that gives one of these"
)


def static_chunks(source: object) -> list[str | bytes] | None:
    """The source's whole content if it is a plain string or bytes, else None."""
    if isinstance(source, str | bytes):
        return [source]
    if isinstance(source, bytearray | memoryview):
        return [bytes(source)]
    return None


def _reader(file: Any) -> tuple[Callable[[int], Any], Any]:
    """A function reading what is available (at most n) and a decoder or None."""
    buffer = getattr(file, "buffer", None)
    encoding = getattr(file, "encoding", None)
    if isinstance(file, io.TextIOBase) and buffer is not None and encoding:
        # A text stream over a buffer: TextIOWrapper.read(n) waits for n
        # characters, so read the buffer underneath and decode ourselves.
        # What the wrapper already read ahead (after a readline(), say) would
        # be skipped; on a seekable file, seeking to tell() drops that
        # read-ahead and puts the buffer at the next unread byte.
        try:
            if file.seekable():
                file.seek(file.tell())
        except (OSError, ValueError):
            pass
        name = codecs.lookup(encoding).name
        decoder = None if name == "utf-8" else codecs.getincrementaldecoder(name)("replace")
        return _read_available(buffer), decoder
    return _read_available(file), None


def _read_available(file: Any) -> Callable[[int], Any]:
    read1 = getattr(file, "read1", None)
    if callable(read1):
        return read1  # type: ignore[no-any-return]
    return file.read  # type: ignore[no-any-return]


def iter_file(file: Any, size: int = READ_SIZE) -> Iterator[str | bytes]:
    """Chunks of `file` as they become available, until EOF."""
    read, decoder = _reader(file)
    while True:
        chunk = read(size)
        if chunk is None:  # non-blocking raw stream with nothing yet
            continue
        if not chunk:
            break
        yield decoder.decode(chunk) if decoder is not None else chunk
    if decoder is not None:
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail


def is_file(source: object) -> bool:
    return callable(getattr(source, "read", None)) and not isinstance(source, str | bytes)


def _entered(manager: Any) -> Iterator[Any]:
    # A stream that must be entered first (Anthropic's messages.stream()):
    # enter it, read it, and leave it when done or closed early.
    with manager as stream:
        yield from stream


async def _aentered(manager: Any) -> AsyncIterator[Any]:
    async with manager as stream:
        async for item in stream:
            yield item


# An SDK's stream (OpenAI's, Anthropic's `Stream`) iterates through generators
# of its own that closing our iterator does not reach: the HTTP response stays
# open and the model goes on generating for nobody. The stream's own `close()`
# hangs up, so it is called when the reading stops before the end (an app that
# closed its iterator, a reader gone, an error); at the end the SDK closes it.
def _closing(source: Any, iterator: Iterator[Any]) -> Iterator[Any]:
    ended = False
    try:
        yield from iterator
        ended = True
    finally:
        if not ended:
            with contextlib.suppress(Exception):
                source.close()


async def _aclosing(source: Any, aiterator: AsyncIterator[Any]) -> AsyncIterator[Any]:
    ended = False
    try:
        async for item in aiterator:
            yield item
        ended = True
    finally:
        if not ended:
            with contextlib.suppress(Exception):
                close = getattr(source, "aclose", None) or source.close
                closing = close()
                if hasattr(closing, "__await__"):  # OpenAI's AsyncStream.close
                    await closing


def sync_iterator(source: object) -> Iterator[Any] | None:
    if is_file(source):
        return iter_file(source)
    from .llm import llm_events

    events = llm_events(source)  # simonw's llm: a Response, read for its events
    if events is not None:
        return events
    if isinstance(source, Iterable):
        iterator = iter(source)
        if iterator is not source and callable(getattr(source, "close", None)):
            return _closing(source, iterator)
        return iterator
    if callable(getattr(source, "__enter__", None)) and callable(getattr(source, "__exit__", None)):
        return _entered(source)
    return None


def async_iterator(source: object) -> AsyncIterator[Any] | None:
    from .llm import allm_events

    events = allm_events(source)  # simonw's llm: an AsyncResponse, read for its events
    if events is not None:
        return events
    if isinstance(source, AsyncIterable):
        aiterator = aiter(source)
        if aiterator is not source and (
            callable(getattr(source, "aclose", None)) or callable(getattr(source, "close", None))
        ):
            return _aclosing(source, aiterator)
        return aiterator
    if callable(getattr(source, "__aenter__", None)) and callable(
        getattr(source, "__aexit__", None)
    ):
        return _aentered(source)
    return None


def to_call(source: object) -> bool:
    """Whether `source` is a function to call (or an awaitable to await) for the stream,
    not a stream itself: then its call, a request, is made once the run began."""
    from collections.abc import AsyncIterable, Awaitable

    if static_chunks(source) is not None or is_file(source):
        return False
    if isinstance(source, Iterable | AsyncIterable):
        return False
    if hasattr(source, "__enter__") or hasattr(source, "__aenter__"):
        return False
    return isinstance(source, Awaitable) or callable(source)


def describe(source: object) -> str:
    """A short description of a source, for messages and recordings."""
    name = getattr(source, "name", None)
    if isinstance(name, str):
        return name
    return type(source).__name__


def unknown_source(source: object, *, called: bool = False) -> TypeError:
    """The error for a source of no kind outstream reads; `called`: `source` is what a
    source to call or await gave."""
    what = f"a {type(source).__name__}"
    if called:
        what = f"the {type(source).__name__} the source gave when called"
    return TypeError(f"cannot stream {what}: expected {ACCEPTED}")
