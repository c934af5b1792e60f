"""The library's entry points, `stream`, `astream` and `Writer`, and `Run`: the path
they and the command line share (prepare, drive, result).

Long (some 640 lines) for a reason: half of it is the reference of the
public entry points, in their docstrings.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .clock import Clock, SystemClock, Timing
from .core.pipeline import Pipeline
from .core.stats import Stats
from .drive import AsyncInbox, Channel, Inbox, Lane, Recorder, open_async_inbox, open_inbox, run
from .drive import arun as _arun
from .errors import OutstreamError, SinkError, UsageError
from .events import Aside, Other, Usage
from .options import Options, StreamOptions, options_of
from .plan import DEFAULT_ESCAPES, Plan, default_escapes, default_pace, plan
from .sinks.detect import terminal_info
from .sinks.queue import APP_INFO, QueueSink
from .sinks.stream import StreamSink
from .sinks.tee import BackgroundSink

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from 3.11

__all__ = [
    "DEFAULT_ESCAPES",
    "Options",
    "Result",
    "Writer",
    "astream",
    "default_escapes",
    "default_pace",
    "stream",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """What a stream did.

    Attributes:
        text: everything written to the first output, as text (empty with
            ``keep_text=False``).
        stats: the numbers for the first output: time to first text, rates,
            gaps, lag, writes.
        reader_gone: the first output's reader went away before the end
            (``| head``); the rest was not shown there. Not an error.
        sink_errors: outputs of a tee that failed and were dropped while the
            others went on (a failure of every output raises instead).
        reasoning: a model's reasoning ("thinking") text, kept apart from
            the answer's (with ``reasoning="show"`` it was shown too).
        events: what else a model's stream sent, in order: tool calls and
            other non-text events, never shown as text.
        usage: token counts, when the provider reported them: its reports
            merged as it means them (`Usage.merged`), the total computed
            where it gives none (`Usage.with_total`).
        complete: for a model's stream, whether its protocol's end marker
            came (``[DONE]`` or a finish reason, ``response.completed``,
            ``message_stop``, ``done: true``); False means the stream
            stopped short, as a dropped connection does; so does an OpenAI,
            Anthropic or Ollama stream object that yielded nothing at all.
            None for plain text, which has no end marker. A stream that
            stopped short is not an exception: check this flag.
        code_blocks: the content of each fenced code block of the answer, in
            order, as received, when the first output rendered it as Markdown
            (``render="markdown"`` on a terminal, or with ``color="always"``);
            empty otherwise.
        code_copied: with ``copy_code=True``, the last of them was put on the
            terminal's clipboard (OSC 52). Not when no output is a terminal,
            the answer has no code block, or it stopped short, nor when the
            block is over `outstream.core.clipboard.MAX_OSC52_BYTES` of base64
            (about 75 KB), more than terminals take.
    """

    text: str
    stats: Stats
    reader_gone: bool = False
    sink_errors: tuple[SinkError, ...] = field(default=())
    reasoning: str = ""
    events: tuple[Other, ...] = ()
    usage: Usage | None = None
    complete: bool | None = None
    recording_errors: tuple[str, ...] = ()
    code_blocks: tuple[str, ...] = ()
    code_copied: bool = False


def _outputs(file: Any) -> list[Any]:
    files = list(file) if isinstance(file, list | tuple) else [file]
    if not files:
        raise UsageError("file is an empty list: give at least one output")
    outputs = []
    for f in files:
        if f is None:
            f = sys.stdout
            if f is None:  # pythonw, or stdout closed by the embedding program
                raise SinkError("cannot write to stdout: there is none")
        outputs.append(f)
    return outputs


def _size_reader(sink: StreamSink, the_plan: Plan) -> Callable[[], tuple[int, int]] | None:
    """Where to read the terminal's size again after a resize (None: it is fixed)."""
    if not the_plan.follows_size:
        return None
    columns, lines = the_plan.width, the_plan.height
    try:
        fd = sink.file.fileno()
    except Exception:
        return None

    def size() -> tuple[int, int]:
        # Asked once per step: one ioctl, no environment lookups.
        try:
            now = os.get_terminal_size(fd)
        except OSError:
            return columns, lines
        return now.columns or columns, now.lines or lines

    return size


def _warm_up(name: str, work: Callable[[], object]) -> None:
    """Do `work` in the background, once per process, while the source starts.

    Imports and first uses (rich, markdown-it and Pygments for Markdown;
    `regex`, `wcwidth` and the joiner tables for text beyond ASCII on a
    terminal) would otherwise hold up the first text by 50 to 200 ms; done
    now, they overlap the source's own start (a model's time to first
    token). Text that comes sooner waits on the same imports, no longer.
    """
    with _warming_up:
        if name in _warmed_up:
            return
        _warmed_up.add(name)

    def run() -> None:
        with contextlib.suppress(Exception):  # only time is at stake: the real use retries
            work()

    threading.Thread(target=run, name=f"outstream-warm-up-{name}", daemon=True).start()


def _warm_up_markdown() -> None:
    from .core.markdown import warm_up

    _warm_up("markdown", warm_up)


def _warm_up_text(*, paced: bool) -> None:
    def work() -> None:
        from .core import graphemes, wrap

        graphemes.warm_up(paced=paced)
        wrap.warm_up()

    _warm_up("text, paced" if paced else "text", work)


_warming_up = threading.Lock()
_warmed_up: set[str] = set()


def _pipeline(the_plan: Plan, options: Options, t_start: float) -> Pipeline:
    if the_plan.terminal:
        _warm_up_text(paced=the_plan.pacer.counts_units and options.unit == "grapheme")
    if the_plan.markdown is not None:
        _warm_up_markdown()
    return Pipeline(
        pacer=the_plan.pacer,
        unit=options.unit,
        escapes=the_plan.escapes,
        errors=options.errors,
        hold=options.hold,
        frame_interval=the_plan.frame_interval,
        t_start=t_start,
        count_text=options.count_text,
        wrap_width=the_plan.wrap_width,
        wrap_eager=the_plan.terminal,
        reasoning="show" if options.reasoning == "show" else "hide",
        on_reasoning=_reasoning_to(options),
        markdown=the_plan.markdown,
    )


def _reasoning_to(options: Options) -> Callable[[str], None] | None:
    """Where reasoning kept apart goes as it arrives: the caller's callback, or a file."""
    if options.reasoning in ("hide", "show"):
        return options.on_reasoning
    file: Any = sys.stderr if options.reasoning == "stderr" else options.reasoning
    if file is None:
        return options.on_reasoning

    def write(text: str) -> None:
        file.write(text)
        flush = getattr(file, "flush", None)
        if flush is not None:
            flush()

    return write


def lanes_for(file: Any, options: Options, t_start: float) -> tuple[list[Lane], list[Plan]]:
    """One lane per output, and its plan; with several outputs, each lane writes from a
    thread of its own (a tee)."""
    env = os.environ if options.env is None else options.env
    lanes: list[Lane] = []
    plans: list[Plan] = []
    outputs = _outputs(file)
    for i, output in enumerate(outputs):
        if isinstance(output, QueueSink):  # `iter_text`'s: an app pulls the text
            the_plan = plan(APP_INFO, options, env)
            lanes.append(
                Lane(_pipeline(the_plan, options, t_start), output, keep_text=options.keep_text)
            )
            plans.append(the_plan)
            continue
        info = terminal_info(output, env, terminal=options.terminal)
        the_plan = plan(info, options, env)
        sink = StreamSink(
            output,
            info=info,
            flush=the_plan.flush,
            encoding=options.encoding,
            encoding_errors=options.encoding_errors,
            fsync=options.fsync,
        )
        display = None
        if the_plan.notebook:
            from .sinks.jupyter import LiveDisplay

            display = LiveDisplay("markdown")
        lanes.append(
            Lane(
                _pipeline(the_plan, options, t_start),
                BackgroundSink(sink) if len(outputs) > 1 else sink,
                keep_text=options.keep_text and i == 0,
                size=_size_reader(sink, the_plan),
                display=display,
            )
        )
        plans.append(the_plan)
    return lanes, plans


class Run:
    """One stream from its start to its `Result`: what `stream`, `astream`, `Writer` and
    the command line share.

    Made, it has opened what the options ask for (the outputs' lanes, the
    recordings), from one start time (now, or `started`: when the request
    began, which `from_request` says it is); `drive` (or `adrive`) streams a source
    through it; `result` is what happened so far — after the end, or after a
    failure, when what was shown before it still counts.

    Raises:
        OSError: a recording cannot be opened (nothing has been written yet).
        UsageError: the options cannot go together on these outputs.
    """

    def __init__(
        self,
        file: Any,
        options: Options,
        clock: Clock,
        *,
        source: str,
        model: str | None = None,
        started: float | None = None,
        from_request: bool = False,
    ) -> None:
        self.clock = clock
        t_start = clock.now() if started is None else started
        self.lanes, plans = lanes_for(file, options, t_start)
        for lane in self.lanes:
            lane.pipeline.stats.from_request = from_request
        size = (plans[0].width, plans[0].height)
        self.recorders = recorders_for(
            options, self.lanes, t_start, source=source, model=model, size=size
        )

    def drive(self, source: Any) -> None:
        """Stream `source` to the outputs until it ends and all is shown (see `drive.run`)."""
        self.drive_inbox(open_inbox(source, self.clock))

    def drive_inbox(self, inbox: Inbox) -> None:
        """`drive`, taking the source's output from `inbox` (a `Writer`'s channel)."""
        try:
            run(self.lanes, inbox, self.clock, self.recorders)
        except OutstreamError as exc:
            exc.result = self.result()  # what was shown before it
            raise

    async def adrive(self, source: Any) -> None:
        """`drive`, awaiting the source instead of blocking on it."""
        await self.adrive_inbox(open_async_inbox(source, self.clock))

    async def adrive_inbox(self, inbox: AsyncInbox) -> None:
        """`adrive`, taking the source's output from `inbox`."""
        try:
            await _arun(self.lanes, inbox, self.clock, self.recorders)
        except OutstreamError as exc:
            exc.result = self.result()
            raise

    def result(self) -> Result:
        """What happened so far: the first output's text and stats, every output's failure."""
        return result_of(self.lanes, self.clock.now(), self.recorders)

    @property
    def read_to_the_end(self) -> bool:
        """Whether the source was read until it ended: not when every output's reader
        went away (``| head``), which stops the reading."""
        return not all(lane.reader_gone for lane in self.lanes)

    @property
    def stdout_lost(self) -> bool:
        """Whether stdout was an output whose reader went away or which failed: what its
        buffer still holds cannot be written either."""
        return any(
            (lane.reader_gone or lane.error is not None) and lane.sink.is_stdout
            for lane in self.lanes
        )

    def end_lines(self) -> None:
        """On a terminal, end the line the stream left open: a prompt or a message comes
        next. Only terminals: into a pipe or a file the text stays as it came."""
        for lane in self.lanes:
            lane.end_line()


def recorders_for(
    options: Options,
    lanes: Sequence[Lane],
    t_start: float,
    *,
    source: str,
    model: str | None = None,
    size: tuple[int, int] = (80, 24),
) -> list[Recorder]:
    """The recordings `options` ask for, opened now (an `OSError` if one cannot be).

    ``save_deltas`` records the source; ``record``, what the first lane shows.
    `source` and `model` describe the source in the deltas file's header:
    never put a key or a header there.
    """
    import datetime

    recorders: list[Recorder] = []
    try:
        if options.save_deltas is not None:
            from .recordings.deltas import DeltaRecorder

            started = (
                datetime.datetime.now(datetime.timezone.utc)
                .astimezone()
                .isoformat(timespec="milliseconds")
            )
            recorders.append(
                DeltaRecorder(
                    options.save_deltas, t0=t_start, started=started, source=source, model=model
                )
            )
        if options.record is not None:
            from .recordings.asciicast import CastRecorder

            lane = lanes[0]
            width, height = size  # the first output's
            env = os.environ if options.env is None else options.env
            title = f"outstream: {source}" + (f" ({model})" if model else "")
            lane.cast = CastRecorder(
                options.record, width=width, height=height, t0=t_start, title=title, env=env
            )
            recorders.append(lane.cast)
    except BaseException:
        for recorder in recorders:
            recorder.close()
        raise
    return recorders


def describe_source(source: Any) -> str:
    """A few words on what a source is, for a recording's header."""
    if isinstance(source, str):
        return "text"
    from .sources.plain import to_call

    if to_call(source):  # a function, or a coroutine: both have a name
        name = getattr(source, "__qualname__", type(source).__qualname__)
        module = getattr(source, "__module__", None)
        return f"a call to {module}.{name}" if module else f"a call to {name}"
    kind = type(source)
    name = getattr(source, "name", None)
    if isinstance(name, str) and kind.__module__ in ("_io", "io"):
        return f"file {name}"
    return f"{kind.__module__}.{kind.__qualname__}"


def result_of(lanes: Sequence[Lane], now: float, recorders: Sequence[Recorder] = ()) -> Result:
    """The `Result` of a run: the first output's text and stats, every output's failure."""
    lane = lanes[0]
    first = lane.outcome(now)
    pipeline = lane.pipeline
    return Result(
        text=first.text,
        stats=first.stats,
        reader_gone=first.reader_gone,
        sink_errors=tuple(lane.error for lane in lanes if lane.error is not None),
        reasoning="".join(pipeline.reasoning_text),
        events=tuple(pipeline.events),
        usage=pipeline.usage,
        complete=(pipeline.finish_reason is not None) if lane.structured else None,
        recording_errors=tuple(e for r in recorders if (e := getattr(r, "error", None))),
        code_blocks=tuple(pipeline.code_blocks),
        code_copied=any(lane.copied for lane in lanes),
    )


def _start(source: Any, started: Timing | None, clock: Clock) -> dict[str, Any]:
    """`Run`'s start: when the numbers count from (None: now), and whether it is the
    request's (a source to call or await, or ``started=``).

    Raises:
        UsageError: `started` is not a `Timing`, or one of another clock.
    """
    from .sources.plain import to_call

    if started is None:
        return {"started": None, "from_request": to_call(source)}
    if not isinstance(started, Timing):
        raise UsageError(
            f"started= takes what outstream.timing() gives, not a {type(started).__name__}"
        )
    return {"started": started.on(clock), "from_request": True}


def stream(
    source: Any,
    file: Any = None,
    *,
    clock: Clock | None = None,
    started: Timing | None = None,
    **options: Unpack[StreamOptions],
) -> Result:
    """Stream `source` to `file`, paced, sanitized and flushed right; return what happened.

    Args:
        source: a str or bytes; an iterable or async iterable of str/bytes
            chunks (an LLM SDK's text stream, a generator); a file object
            opened for reading, text or binary, such as ``sys.stdin``. It is
            read as fast as it produces, whatever the pacing. Or a function
            that gives one of these (``lambda:
            client.chat.completions.create(..., stream=True)``), called once
            the stream began, in the thread that reads the source: the
            time to first text then counts the request's wait, which an
            SDK's stream object has already spent when it is made.
        file: where to write: a text or binary file object, or a list of them
            (a tee: each gets its own pacing, escapes and flushing by its
            kind, and a failing one is dropped while the others go on);
            stdout by default.
        pace: `Instant()`, `Typewriter(cps=...)` or `Smooth(lag=...)`;
            ``"instant"`` and ``"smooth"`` (or the class, `Smooth`) for
            their defaults. None picks `Smooth()` on a terminal and
            `Instant()` anywhere else.
        unit: what the pacer counts: ``"grapheme"``, ``"word"``, ``"line"``
            or ``"chunk"``.
        escapes: ``"strip"`` removes control characters and escape
            sequences; ``"escape"`` shows them visibly; ``"sgr"`` keeps only
            colours and styles; ``"raw"`` trusts the source. None: ``"raw"``
            into a regular file (a record of what was received), ``"strip"``
            anywhere else.
        errors: invalid UTF-8 in bytes becomes U+FFFD (``"replace"``) or
            stops the stream with `DecodeError` naming the byte offset
            (``"strict"``).
        fps: on a terminal, or when animating, at most this many writes a second.
        hold: seconds an unfinished trailing grapheme or unit waits for more.
        terminal: force the answer to "is `file` a terminal?".
        flush: force the flush policy (``"frame"``, ``"chunk"``, ``"line"``,
            ``"end"``); by default (None or ``"auto"``) chosen by what
            `file` is.
        encoding: for binary outputs.
        encoding_errors: what a character an output's encoding cannot hold
            becomes: ``"replace"`` (``?``), ``"namereplace"`` or
            ``"backslashreplace"``.
        fsync: make a regular file durable (``os.fsync``) at the end.
        wrap: soft word wrap: None wraps on a terminal at its width (read
            again after a resize, used from the next line on); an int wraps
            at that many cells anywhere; True at the terminal's width
            anywhere; False never.
        reasoning: a model's reasoning ("thinking") text: kept apart in
            `Result.reasoning` (``"hide"``), shown before the answer's text
            as it comes, the answer starting a paragraph of its own
            (``"show"``), or written to a file object (or
            ``"stderr"``) as it comes, its last line ended when the answer
            begins (and kept in `Result.reasoning` too).
        render: ``"markdown"`` renders the text as Markdown on a terminal:
            finished blocks written for good, the open one redrawn in a live
            region at the bottom. Off a terminal the Markdown source passes
            through unchanged, unless ``color="always"``.
        color: ``"auto"``, ``"always"`` (render Markdown even off a
            terminal) or ``"never"`` (no colour); ``NO_COLOR`` means never.
        hyperlinks: with ``render="markdown"``, links become terminal
            hyperlinks (OSC 8: the text is clickable, the URL not shown);
            by default a link shows as its text and its URL in brackets.
        theme: the terminal's background, for the colours of Markdown and
            code: ``"dark"``, ``"light"``, or ``"auto"`` (from
            ``COLORFGBG``, dark when it does not say). Code blocks have no
            background of their own.
        code_theme: the Pygments style of fenced code (any installed one);
            None: ``"monokai"`` on a dark theme, ``"default"`` on a light one.
        copy_code: with ``render="markdown"``, at the end of an answer that
            ended whole, put its last fenced code block on the clipboard of
            a terminal output (OSC 52, never written from the model's text;
            see `Result.code_copied`).
        save_deltas: a path: the source's deltas (text, reasoning, usage,
            an error, the end) with their arrival times, one JSON line each,
            written as they arrive. `outstream.replay` plays it back.
        record: a path: what the (first) output showed, with its timing, as
            an asciicast v2 file (``asciinema play`` plays it).
        keep_text: keep the shown text for `Result.text`.
        clock: the time source; `SystemClock()` by default, a
            `outstream.testing.VirtualClock` in tests.
        started: when the request began (`outstream.timing`): the stats
            count from it, not from this call.
        env: the environment used for detection; `os.environ` by default.

    Returns:
        A `Result` with the text shown and the stats.

    Raises:
        Whatever the source raised, re-raised after everything it produced
        before was written and flushed. `DecodeError` likewise, with
        ``errors="strict"``; an `OutstreamError` carries the `Result` of
        what was shown before it (``exc.result``). `SinkError` when the output fails (with a tee:
        when every output failed; see `Result.sink_errors`). A reader going
        away is not a failure: see `Result.reader_gone`.
        `KeyboardInterrupt` after writing what was due.
    """
    clock = SystemClock() if clock is None else clock
    one = Run(
        file, options_of(options, caller="stream"), clock,
        source=describe_source(source), **_start(source, started, clock),
    )  # fmt: skip
    one.drive(source)
    return one.result()


async def astream(
    source: Any,
    file: Any = None,
    *,
    clock: Clock | None = None,
    started: Timing | None = None,
    **options: Unpack[StreamOptions],
) -> Result:
    """`stream` for async code: awaits the source and the pacing, never blocks the loop.

    Takes the same arguments as `stream`. An async iterable is read by a
    task; a sync one by a thread. Writes to `file` are made from the event
    loop (they are short: one per frame).

    `source` may also be an awaitable, such as an async client's call not
    yet awaited (``outstream.astream(client.chat.completions.create(...,
    stream=True))``), or a function giving one or any source: it is awaited
    or called once the stream began, so that the time to first text counts
    the request's wait. A function is called in a thread of its own (a sync
    client's call blocks nothing); an awaitable it gives is awaited on the
    loop.
    """
    clock = SystemClock() if clock is None else clock
    one = Run(
        file, options_of(options, caller="astream"), clock,
        source=describe_source(source), **_start(source, started, clock),
    )  # fmt: skip
    await one.adrive(source)
    return one.result()


class Writer:
    """Write chunks as you get them; pacing and output happen beside you.

    ``write`` returns at once; a driver thread paces and writes. Leaving the
    ``with`` block (or `close`) waits until everything is shown and makes
    `result` available.

    A Writer never loses its text: one still open when the interpreter exits
    is closed then, and what it was given is shown first (with a
    ``ResourceWarning``, which ``python -X dev`` shows, saying it was never
    closed); if it cannot be shown (its output failed or was closed), a
    ``RuntimeWarning`` says so.

    Example::

        with outstream.Writer(sys.stdout, pace=outstream.Typewriter(cps=40)) as w:
            for chunk in chunks:
                w.write(chunk)
        print(w.result.stats.format())

    Takes the same keyword arguments as `stream`.
    """

    def __init__(
        self, file: Any = None, *, clock: Clock | None = None, **options: Unpack[StreamOptions]
    ) -> None:
        self._clock: Clock = SystemClock() if clock is None else clock
        self._run = Run(file, options_of(options, caller="Writer"), self._clock, source="Writer")
        self._channel = Channel(self._clock)
        self._result: Result | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._closed = False  # ended: what is written after would be lost

    def __enter__(self) -> Writer:
        self._start()
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self.close()
        else:
            self._closed = True
            self._channel.end(exc if not isinstance(exc, KeyboardInterrupt) else None)
            self._join()
            _unclosed.discard(self)  # ended with the block: nothing to close at exit

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._drive, name="outstream-writer", daemon=True
            )
            self._thread.start()
            _unclosed_at_exit(self)

    def _drive(self) -> None:
        try:
            self._run.drive_inbox(self._channel)
        except BaseException as exc:
            self._error = exc
        self._result = self._run.result()  # after a failure too: what was shown before it

    def write(self, chunk: str | bytes) -> None:
        """Hand over a chunk; returns at once. After the reader went away, does nothing.

        Raises:
            ValueError: the Writer is closed (the text would be lost).
            TypeError: `chunk` is not text.
        """
        self._check_open("write")
        self._start()
        if not isinstance(chunk, str | bytes | bytearray):
            raise TypeError(f"Writer.write() takes str or bytes, not {type(chunk).__name__}")
        if self._error is not None:
            raise self._error
        self._channel.put(chunk)

    def _check_open(self, method: str) -> None:
        if self._closed:
            raise ValueError(
                f"{method}() on a closed outstream.Writer: its stream has ended, and this "
                f"text would be lost ({method} inside the with block, or before close())"
            )

    def print(self, *values: object, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
        """Show a line of your own below the text written so far, never inside it.

        A plain ``print()`` inside a Writer writes at once, while the text
        handed to `write` is still being paced out: on a terminal it lands
        in the middle of a line (``the lazyPRINTED`` then `` dog.``). This
        one goes in order: the text written before it is shown at once, then
        `values` (sanitized like the text) on lines of their own, starting
        on a new line; in Markdown the open block is finished above them.
        Then the text goes on. Returns at once, as `write` does. It is shown
        on every output of the Writer, and is not part of `Result.text` nor
        of a ``save_deltas`` recording.

        Args:
            values, sep, end: as the built-in `print` takes them.
            flush: taken for the built-in's sake: the line is always shown in order.
        """
        self._check_open("print")
        self._start()
        if self._error is not None:
            raise self._error
        self._channel.put(Aside(text=sep.join(map(str, values)) + end))

    def close(self) -> Result:
        """End the stream, wait until everything is shown, and return the result.

        Closing again returns the same result (or raises the same error).
        """
        if not self._closed:
            self._closed = True
            self._start()
            self._channel.end()
            self._join()
            _unclosed.discard(self)
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def _close_at_exit(self) -> None:
        import warnings

        try:
            self.close()  # first: the warning is not to land inside the paced text
        except BaseException as exc:  # at exit: say it, do not raise
            warnings.warn(
                f"an outstream.Writer was never closed, and at exit what it was given "
                f"could not all be shown: {type(exc).__name__}: {exc}",
                RuntimeWarning,
                stacklevel=1,
            )
        else:
            warnings.warn(
                "an outstream.Writer was never closed: it was closed at exit, what it was "
                "given shown (close it, or use it in a with block)",
                ResourceWarning,
                stacklevel=1,
            )

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    @property
    def result(self) -> Result:
        """The `Result`, once the writer is closed."""
        if self._result is None:
            raise RuntimeError("the Writer is still open: its result comes when it is closed")
        return self._result


# Writers started and not closed: closed when the interpreter exits, so that
# their text is shown (their driver threads are daemons: they would be cut off).
_unclosed: set[Writer] = set()
_unclosed_lock = threading.Lock()
_exit_hook = False


def _unclosed_at_exit(writer: Writer) -> None:
    global _exit_hook
    with _unclosed_lock:
        _unclosed.add(writer)
        if not _exit_hook:
            import atexit

            atexit.register(_close_unclosed)
            _exit_hook = True


def _close_unclosed() -> None:
    while _unclosed:
        _unclosed.pop()._close_at_exit()
