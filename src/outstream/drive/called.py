"""Sources read once made: a function to call, an awaitable to await, for the thread
(or task) that reads the source, so that the time the call waits for (a model's
request) is counted from the stream's start; and an async iterator read from a
thread (`async_to_sync`).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeGuard

from ..sources.llm import MODEL_STREAM

__all__ = ["async_to_sync", "called", "to_await"]


def to_await(made: object) -> TypeGuard[Awaitable[object]]:
    """Whether a call's result is to be awaited for the source: not when it can be read as
    one already (llm's AsyncResponse is both, and awaiting it waits for the whole answer)."""
    return isinstance(made, Awaitable) and not isinstance(made, AsyncIterable)


def async_to_sync(source: AsyncIterator[object] | Awaitable[object]) -> Iterator[object]:
    """Iterate an async iterator from a thread, on an event loop of its own; or first await
    an awaitable (an async function's call), then read what it gives as a source."""
    import asyncio

    loop = asyncio.new_event_loop()
    aiterator: AsyncIterator[object] | None = None
    try:
        if isinstance(source, Awaitable):
            made = loop.run_until_complete(_awaited(source))
            aiterator = _async_source(made)
            if aiterator is None:  # a sync source, or text
                yield from _sync_source(made)
                return
        else:
            aiterator = source
        while True:
            try:
                yield loop.run_until_complete(anext(aiterator))
            except StopAsyncIteration:
                break
    finally:
        aclose = getattr(aiterator, "aclose", None)
        if aclose is not None:
            loop.run_until_complete(aclose())
        loop.close()


async def _awaited(awaitable: Awaitable[object]) -> object:
    return await awaitable


def called(source: Callable[[], object]) -> Iterator[object]:
    """What `source()` gives, read as a source: the call is made here, in the reader, after
    the run began, so that the time the call waits (a request) is counted."""
    made = source()
    if to_await(made):
        yield from async_to_sync(made)
        return
    yield from _sync_source(made)


def _sync_source(made: object) -> Iterator[object]:
    """A callable's or an awaitable's result, read as `open_inbox` reads a source."""
    from ..sources.llm import from_model_sdk
    from ..sources.plain import async_iterator, static_chunks, sync_iterator, unknown_source

    chunks = static_chunks(made)
    if chunks is not None:
        yield from chunks
        return
    if from_model_sdk(made):
        yield MODEL_STREAM
    iterator = sync_iterator(made)
    if iterator is None:
        aiterator = async_iterator(made)
        if aiterator is None:
            raise unknown_source(made, called=True)
        iterator = async_to_sync(aiterator)
    yield from iterator


def _async_source(made: object) -> AsyncIterator[object] | None:
    """A result's async iterator (with the `MODEL_STREAM` mark first for a model SDK's),
    or None for a sync source."""
    from ..sources.llm import from_model_sdk
    from ..sources.plain import async_iterator

    aiterator = async_iterator(made)
    if aiterator is None or not from_model_sdk(made):
        return aiterator
    return _marked(aiterator)


async def _marked(aiterator: AsyncIterator[object]) -> AsyncIterator[object]:
    yield MODEL_STREAM
    try:
        async for item in aiterator:
            yield item
    finally:
        aclose = getattr(aiterator, "aclose", None)
        if aclose is not None:
            await aclose()
