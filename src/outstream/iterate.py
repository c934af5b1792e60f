"""The pipeline with an iterator for its output: `iter_text` and `aiter_text`, for apps
that pull text (Streamlit, Gradio, FastAPI, Textual).

Theory of operation: the first ``next`` starts a `Run` whose one output is a
`QueueSink`, driven by a thread (``aiter_text``: a task) of the clock's,
while the source is read beside it as in `stream`. Each frame the driver
writes is queued; ``next`` takes all that is queued as one piece (one item
per frame while the app keeps up), or waits on the sink's signal. With
``render="markdown"`` the pieces go through a `MarkdownCutter`, so that the
app, rendering the text so far as Markdown, never shows a marker it will
not show in the end. At the end the driver's `Result` is the iterator's,
and its exception (the source's, a `DecodeError`) is raised after the text
before it.

The driver holds no reference to the iterator (only to the `_Shared` state
between them), so an iterator the app abandons (a ``break`` out of its
``for``) is collected, and closed then: the app is gone as a pipe's reader
is, and the driver stops reading the source.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .api import Result, Run, _start, describe_source
from .clock import Clock, SystemClock, Timing
from .core.mdsafe import MarkdownCutter
from .drive import AsyncInbox, Channel, Inbox, open_async_inbox, open_inbox
from .errors import UsageError
from .options import Options, StreamOptions, options_of
from .sinks.queue import QueueSink

if TYPE_CHECKING:
    import asyncio
    import threading

    from typing_extensions import Unpack  # typing.Unpack from 3.11

__all__ = ["AsyncTextIterator", "TextIterator", "aiter_text", "iter_text"]

# Options about a file, which an app's iterator has none of.
_FILE_OPTIONS = ("terminal", "flush", "encoding", "encoding_errors", "fsync")
# Options about rendering Markdown, which the app does itself.
_RENDER_OPTIONS = ("color", "hyperlinks", "theme", "code_theme", "copy_code")


def iter_text(
    source: Any,
    *,
    clock: Clock | None = None,
    started: Timing | None = None,
    **options: Unpack[StreamOptions],
) -> TextIterator:
    """Stream `source` to an app: an iterator of text deltas, paced and sanitized.

    What `stream` would show on a terminal, as text for an app that pulls it:
    ``st.write_stream(outstream.iter_text(chunks))`` in Streamlit, a
    generator in Gradio, a response body in FastAPI. The source is read as
    fast as it produces, beside the app, from the first ``next`` on. Each
    item is the text of one frame (or of several, joined, when the app takes
    longer than a frame), never empty, never a broken character.

    Example::

        chunks = client.chat.completions.create(..., stream=True)
        text = outstream.iter_text(chunks, render="markdown")
        for delta in text:
            show(delta)
        print(text.result.stats.format())

    Args:
        source: what `stream` takes: a str or bytes; an iterable or async
            iterable of chunks (an LLM SDK's stream, a generator); a file
            object opened for reading; a function giving one of these,
            called once the stream began (the first ``next``), so that the
            time to first text counts the request's wait.
        pace: as for `stream`, but `Smooth()` by default: an app is a display.
            Frames come at most `fps` a second, whatever the pacing.
        render: ``"markdown"`` cuts the Markdown source only where the text so
            far, rendered by the app, shows no raw marker that the final
            render will not (``**`` of bold still open, a code span's
            backtick, a link whose destination is coming): such text is held
            until it closes, its paragraph ends or the stream ends. The
            items are still the source's text, unchanged.
        wrap: an int wraps lines at that many cells; by default the app wraps.
        unit, escapes, errors, fps, hold, reasoning, save_deltas, record,
            keep_text, env: as for `stream` (escapes are stripped by default:
            an app shows them as garbage, or worse).
        clock: the time source; a `outstream.testing.VirtualClock` in tests.
        started: when the request began (`outstream.timing`), as for `stream`.

    Returns:
        A `TextIterator`: an iterator and a context manager; its `result` is
        the `Result`, as `stream` returns it, once the iterator is exhausted
        or closed.

    Raises:
        ValueError: an option about a file (``terminal``, ``flush``,
            ``encoding``, ``encoding_errors``, ``fsync``), about rendering
            Markdown in colour (``color``, ``hyperlinks``, ``theme``,
            ``code_theme``, ``copy_code``: the app renders it) or ``wrap=True`` (an app has no width to wrap at).
        TypeError: a keyword `stream` does not take.

    While iterating, it raises what `stream` raises: the source's own
    exception, or `DecodeError`, after all the text before it was yielded.
    """
    return TextIterator(_shared(source, options, clock, started, caller="iter_text"))


def aiter_text(
    source: Any,
    *,
    clock: Clock | None = None,
    started: Timing | None = None,
    **options: Unpack[StreamOptions],
) -> AsyncTextIterator:
    """`iter_text` for async code: an async iterator of text deltas.

    Takes the same arguments as `iter_text`. The stream runs in a task of
    the running event loop from the first ``anext``, and never blocks the
    loop: an async iterable is read by a task, a sync one by a thread. An
    awaitable (an async client's call, not awaited) or a function giving
    one is awaited then, as `astream` does.
    Cancelling the task that iterates (a client that disconnects from a
    ``StreamingResponse``) cancels the stream and closes the source.

    Example::

        @app.get("/answer")
        async def answer() -> StreamingResponse:
            return StreamingResponse(outstream.aiter_text(chunks), media_type="text/plain")

    Returns:
        An `AsyncTextIterator`: an async iterator and an async context
        manager, whose `result` is the `Result` once it is exhausted or closed.
    """
    return AsyncTextIterator(_shared(source, options, clock, started, caller="aiter_text"))


def _shared(
    source: Any,
    given: Mapping[str, Any],
    clock: Clock | None,
    started: Timing | None,
    *,
    caller: str,
) -> _Shared:
    options = options_of(given, caller=caller)
    defaults = Options()
    for name in _FILE_OPTIONS:
        if getattr(options, name) != getattr(defaults, name):
            raise UsageError(
                f"{caller}() gives its text to an app, not to a file: {name}= does not apply"
            )
    for name in _RENDER_OPTIONS:
        if getattr(options, name) != getattr(defaults, name):
            raise UsageError(
                f"{caller}() gives an app the Markdown source, which the app renders: "
                f"{name}= does not apply"
            )
    if options.wrap is True:
        raise UsageError(
            f"{caller}() gives its text to an app, which has no width: "
            "give wrap a number of cells, or leave it out"
        )
    clock = SystemClock() if clock is None else clock
    return _Shared(source, options, clock, _start(source, started, clock))


def _unread(source: Any) -> None:
    """A source closed before it was read: a coroutine given to be awaited is closed (it
    would warn that it was never awaited)."""
    if hasattr(source, "cr_frame"):
        source.close()


class _Shared:
    """What an iterator and its driver share; the driver's side (`drive`, `adrive`)."""

    def __init__(
        self, source: Any, options: Options, clock: Clock, start: Mapping[str, Any]
    ) -> None:
        self.source = source
        self.options = options
        self.clock = clock
        self.start = start  # when the numbers count from (`api._start`)
        self.sink = QueueSink(clock)
        self.cutter = MarkdownCutter() if options.render == "markdown" else None
        self.inbox: Inbox | AsyncInbox | None = None
        self.result: Result | None = None
        self.error: BaseException | None = None

    def open(self, open_inbox: Callable[[Any, Clock], Any]) -> tuple[Run, Any]:
        """The run, started now (its recordings opened), and the inbox reading the source."""
        run = Run(
            self.sink, self.options, self.clock, source=describe_source(self.source),
            **self.start,
        )  # fmt: skip
        try:
            self.inbox = inbox = open_inbox(self.source, self.clock)
        except BaseException:
            for recorder in run.recorders:
                recorder.close()
            raise
        return run, inbox

    def drive(self, run: Run, inbox: Inbox) -> None:
        """The driver thread: the whole stream, then the end for the iterator."""
        try:
            run.drive_inbox(inbox)
        except BaseException as exc:  # the iterator raises it, after the text before it
            self.error = exc
        finally:
            self._ended(run)

    async def adrive(self, run: Run, inbox: AsyncInbox) -> None:
        """`drive` as a task."""
        import asyncio

        try:
            await run.adrive_inbox(inbox)
        except asyncio.CancelledError as exc:
            self.error = exc
            raise
        except BaseException as exc:
            self.error = exc
        finally:
            self._ended(run)

    def _ended(self, run: Run) -> None:
        try:
            self.result = run.result()
        finally:
            self.sink.end()

    def poll(self) -> str | None:
        """For the iterator: the text to yield now; "" to wait for more; None at the end."""
        sink = self.sink
        sink.ready.clear()  # before looking: a write after the look sets it again
        ended = sink.ended  # before taking: what was written before the end is taken
        text = sink.take()
        if self.cutter is not None:
            text = self.cutter.feed(text) if text else ""
            if ended:
                text += self.cutter.flush()
        if text:
            return text
        return None if ended else ""

    def leave(self) -> None:
        """The app wants no more: the driver stops at its next write, and is woken now
        if it waits for the source."""
        self.sink.leave()
        channel = getattr(self.inbox, "channel", None)
        if isinstance(channel, Channel):
            # The source's stream is ended here: the driver, waiting for the
            # source, wakes, writes what it holds (which the sink refuses:
            # the reader is gone) and stops reading.
            channel.end()

    def final_result(self, *, left: bool) -> Result:
        """The driver's result; `left`: the app closed the iterator before its end."""
        result = self.result
        assert result is not None
        if left and not result.reader_gone:
            # Everything was queued, but the app did not take it all.
            result = dataclasses.replace(result, reader_gone=True)
        return result


class _Results:
    """The `result` of an iterator, once it has ended."""

    _shared: _Shared
    _result: Result | None
    _closed_unstarted: bool
    _left: bool  # the app left before the end (closed, cancelled)

    @property
    def result(self) -> Result:
        """The `Result`, as `stream` returns it, once the iterator is exhausted or closed.

        Closed before its end, the result says ``reader_gone``: what the app
        did not take is in `Result.text` but was not shown.

        Raises:
            RuntimeError: the iterator has not ended yet, or was closed
                before it started.
        """
        if self._result is None and self._left and self._shared.sink.ended:
            self._result = self._shared.final_result(left=True)  # (after a cancellation)
        if self._result is None:
            if self._closed_unstarted:
                raise RuntimeError("the iterator was closed before it started: nothing streamed")
            raise RuntimeError(
                "the iterator has not ended yet: its result comes when it is exhausted or closed"
            )
        return self._result


class TextIterator(_Results):
    """The text deltas of a stream, for an app: what `iter_text` returns.

    An iterator (each item a frame's text) and a context manager: leaving
    the ``with`` block, or `close`, ends the stream early. An iterator
    abandoned unfinished (a ``break`` out of a ``for``) is closed when it is
    collected.
    """

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self._thread: threading.Thread | None = None
        self._result = None
        self._closed_unstarted = self._left = False
        self._done = False

    def __iter__(self) -> TextIterator:
        return self

    def __next__(self) -> str:
        if self._done:
            raise StopIteration
        shared = self._shared
        if self._thread is None:
            self._start()
        while (text := shared.poll()) == "":
            shared.sink.ready.wait_until(None)
        if text is not None:
            return text
        self._end(left=False)
        if shared.error is not None:
            raise shared.error
        raise StopIteration

    def _start(self) -> None:
        shared = self._shared
        try:
            run, inbox = shared.open(open_inbox)
        except BaseException:
            self._done = True
            raise
        self._thread = shared.clock.start_thread(
            functools.partial(shared.drive, run, inbox), name="outstream-iter-text"
        )

    def _end(self, *, left: bool) -> None:
        """Wait until the driver has finished; the result is then there."""
        self._done = True
        shared = self._shared
        sink = shared.sink
        while not sink.ended:
            sink.ready.clear()
            if not sink.ended:
                sink.ready.wait_until(None)  # on the clock: a virtual one moves meanwhile
        assert self._thread is not None
        self._thread.join()
        self._result = shared.final_result(left=left)

    def close(self) -> None:
        """End the stream now, unless it has ended: the source is read no more; the
        `result` says ``reader_gone``."""
        if self._done:
            return
        if self._thread is None:
            self._done = self._closed_unstarted = True
            _unread(self._shared.source)
            return
        self._left = True
        self._shared.leave()
        self._end(left=True)

    def __enter__(self) -> TextIterator:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Collected unfinished: the app left. Not waiting for the driver here
        # (this may run anywhere); it stops on its own.
        if not getattr(self, "_done", True) and self._thread is not None:
            self._shared.leave()


class AsyncTextIterator(_Results):
    """The text deltas of a stream, for async code: what `aiter_text` returns.

    An async iterator and an async context manager; see `TextIterator`.
    """

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self._task: asyncio.Task[object] | None = None
        self._result = None
        self._closed_unstarted = self._left = False
        self._done = False

    def __aiter__(self) -> AsyncTextIterator:
        return self

    async def __anext__(self) -> str:
        if self._done:
            raise StopAsyncIteration
        shared = self._shared
        if self._task is None:
            self._start()
        try:
            while (text := shared.poll()) == "":
                await shared.sink.ready.await_until(None)
        except BaseException:  # cancelled: the task iterating goes away, the stream with it
            await self._cancel()
            raise
        if text is not None:
            return text
        await self._aend(left=False)
        if shared.error is not None:
            raise shared.error
        raise StopAsyncIteration

    def _start(self) -> None:
        shared = self._shared
        try:
            run, inbox = shared.open(open_async_inbox)
        except BaseException:
            self._done = True
            raise
        self._task = shared.clock.start_task(shared.adrive(run, inbox))

    async def _aend(self, *, left: bool) -> None:
        self._done = True
        shared = self._shared
        sink = shared.sink
        while not sink.ended:
            sink.ready.clear()
            if not sink.ended:
                await sink.ready.await_until(None)
        assert self._task is not None
        if self._task.done() and not self._task.cancelled():
            self._task.exception()  # kept in `shared.error` already: retrieved, not logged
        self._result = shared.final_result(left=left)

    async def _cancel(self) -> None:
        """Cancel the stream, and wait until it has stopped (the source closed)."""
        import asyncio

        self._done = self._left = True
        self._shared.sink.leave()
        task = self._task
        if task is not None:
            task.cancel()
            try:
                await asyncio.wait([task])
            except BaseException:  # cancelled again: what is being raised goes on
                pass

    async def aclose(self) -> None:
        """End the stream now, unless it has ended: the source is read no more; the
        `result` says ``reader_gone``."""
        if self._done:
            return
        if self._task is None:
            self._done = self._closed_unstarted = True
            _unread(self._shared.source)
            return
        self._left = True
        self._shared.leave()
        await self._aend(left=True)

    async def __aenter__(self) -> AsyncTextIterator:
        return self

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        if not getattr(self, "_done", True) and self._task is not None:
            self._shared.leave()
