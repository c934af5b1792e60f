"""``llm md``: simonw's `llm`, its answer shown through outstream.

Installed with ``pip install "outstream[llm]"`` (or ``llm install`` of outstream,
into llm's own environment), this plugin adds two commands to `llm`. ``llm md PROMPT`` runs a prompt exactly
as ``llm prompt`` does — the same options, resolved by llm's own code (model,
system, templates, attachments, fragments, options, tools, conversations),
and the response logged to llm's database as ``llm prompt`` logs it, unless
``llm logs off`` — and shows the answer through outstream: Markdown rendered
as it streams on a terminal, smooth pacing, the model's escape sequences and
control characters removed, ``--stats`` on request. ``llm md-chat`` is
``llm chat`` shown so, answer after answer.

Why ``md``: it is what you get (Markdown, rendered), it is as short to type as
``llm`` itself, and it swaps for ``prompt`` one for one: ``llm md -m gpt-4o
-s ... 'question'``.

Theory of operation: llm has no hook for how an answer is displayed (its
issues #934 and #1112 ask for one). Its ``prompt`` and ``chat`` commands
write an answer at three points: ``display_stream_events`` (and an async
twin) for a streamed answer, then a bare ``print()`` ending its line;
``print(text)`` for an answer that was not streamed. For the length of one
``llm md`` these three names in ``llm.cli`` are pointed at a `_Display` that
streams through outstream, and then put back; everything else is llm's
``prompt`` (or ``chat``) command, invoked with the options given. This module
is imported by every ``llm`` start (llm loads its plugins then): it imports
nothing of outstream until the command runs.
"""

from __future__ import annotations

import builtins
import contextlib
import re
import sys
from collections.abc import AsyncIterable, Iterable, Iterator
from typing import Any

import click
import llm

__all__ = ["register_commands"]

# llm prompt's options whose output is not the answer to render: -x/--xl (a
# code block's raw text: Markdown would take its `#` comments for headings),
# --json (a log row, written around the display).
_NOT_OFFERED = frozenset({"extract", "extract_last", "json_output"})

_HELP = """\
Run a prompt, as 'llm prompt' does, and show the answer through outstream:
Markdown rendered as it streams (on a terminal), smooth pacing, and the
model's escape sequences and control characters removed. The response is
logged to llm's database as 'llm prompt' logs it.

Takes the options of 'llm prompt' (-m model, -s system, -t template,
-a attachment, -o option, -c/--cid conversation, -f fragment, -T tool...),
but -x, --xl and --json, whose output is not the answer. With --no-stream
(or a model that cannot stream) the answer is shown whole when it comes.
Into a pipe or a file the Markdown is not rendered: the answer is written as
it comes, so 'llm md ... > answer.md' keeps its source.

\b
Examples:
    llm md 'Explain Python decorators, with an example'
    llm md -m gpt-4o-mini -s 'Answer in a table' 'Compare TCP and UDP'
    git diff | llm md 'Review this change' --stats
    llm md -c 'And in Rust?'

\b
Without this plugin, any llm command can be piped to outstream:
    llm 'Explain Python decorators' | outstream -m
"""

# What a terminal's output may end with after its last line: style resets,
# the cursor shown again (outstream's own, after Markdown's live region).
_TRAILING_CONTROLS = re.compile(r"(?:\x1b\[[0-9;?]*[A-Za-z])+\Z")


@llm.hookimpl
def register_commands(cli: click.Group) -> None:
    """Add ``llm md`` and ``llm md-chat``, built from this `llm`'s ``prompt`` and ``chat``."""
    prompt = cli.commands.get("prompt")
    if prompt is not None:
        params = [p for p in prompt.params if p.name not in _NOT_OFFERED]
        cli.add_command(
            _rendering(prompt, [*params, *_RECORDING], name="md", help=_HELP, short_help=_SHORT),
            name="md",
        )
    chat = cli.commands.get("chat")
    if chat is not None:
        cli.add_command(
            _rendering(chat, chat.params, name="md-chat", help=_CHAT_HELP, short_help=_CHAT_SHORT),
            name="md-chat",
        )


_SHORT = "Run a prompt; show the answer as rendered Markdown (outstream)"
_CHAT_SHORT = "Chat with a model; show its answers as rendered Markdown (outstream)"
_CHAT_HELP = """Hold an ongoing chat with a model, as 'llm chat' does, and show each answer
through outstream: Markdown rendered as it streams (on a terminal), smooth
pacing, and the model's escape sequences and control characters removed.
Takes the options of 'llm chat'; each response is logged as 'llm chat' logs it.

\b
Examples:
    llm md-chat -m gpt-4o-mini
    llm md-chat -c --stats
"""

# How an answer is shown: the options `md` and `md-chat` add to llm's own.
_SHOWING = [
    click.Option(
        ["--plain"],
        is_flag=True,
        help="Show the answer as text, without rendering its Markdown",
    ),
    click.Option(
        ["--cps"],
        type=click.FloatRange(min=0, min_open=True),
        metavar="N",
        help="Typewriter pacing: N characters a second (default on a terminal: "
        "smooth, following the model's pace)",
    ),
    click.Option(["--instant"], is_flag=True, help="No pacing: show text as it arrives"),
    click.Option(
        ["--stats"],
        is_flag=True,
        help="Print time to first text, rates, lag and tokens to stderr after each answer",
    ),
]
# One answer's recordings (`md` only: a chat's answers would overwrite each other).
_RECORDING = [
    click.Option(
        ["--record"],
        type=click.Path(dir_okay=False),
        metavar="FILE.cast",
        help="Record what was shown, with its timing, as an asciicast (asciinema play)",
    ),
    click.Option(
        ["--save-deltas"],
        type=click.Path(dir_okay=False),
        metavar="FILE.jsonl",
        help="Save the model's deltas with their arrival times (outstream replay)",
    ),
]


def _rendering(
    command: click.Command, params: list[click.Parameter], **settings: Any
) -> click.Command:
    """A command that runs llm's `command` with `params`, its answers shown by outstream."""

    def run(
        plain: bool,
        cps: float | None,
        instant: bool,
        stats: bool,
        record: str | None = None,
        save_deltas: str | None = None,
        **given: Any,
    ) -> None:
        if cps is not None and instant:
            raise click.UsageError("--cps and --instant: choose one")
        display = _Display(
            stats=stats,
            render="plain" if plain else "markdown",
            pace="instant" if instant else _typewriter(cps),
            record=record,
            save_deltas=save_deltas,
        )
        ctx = click.get_current_context()
        try:
            with _shown_by(display):
                ctx.invoke(command, **given)
        except _ReaderGone:
            pass  # quietly, as outstream ends when its reader goes (`| head`), exit 0
        except click.ClickException as exc:
            # Its message may quote a provider's error or a file's content (and
            # llm sometimes gives the exception itself as the message).
            from ..core.escapes import terminal_line

            exc.message = terminal_line(str(exc.message))  # type: ignore[misc]  # (Final in click)
            raise
        finally:
            display.close()

    return click.Command(
        callback=run,
        params=[*params, *_SHOWING],
        context_settings={"help_option_names": ["-h", "--help"]},
        **settings,
    )


def _typewriter(cps: float | None) -> Any:
    if cps is None:
        return None
    from ..core.pace import Typewriter

    return Typewriter(cps=cps)


@contextlib.contextmanager
def _shown_by(display: _Display) -> Iterator[None]:
    """llm's ``prompt`` shows its answers through `display` meanwhile."""
    import llm.cli as llm_cli

    names = ("display_stream_events", "display_async_stream_events")
    if not all(callable(getattr(llm_cli, name, None)) for name in names):
        raise click.ClickException(
            "this llm has no display_stream_events: 'llm md' needs llm 0.32 or later "
            "(llm install -U llm)"
        )
    saved = {name: getattr(llm_cli, name) for name in names}
    llm_cli.display_stream_events = display.show
    llm_cli.display_async_stream_events = display.ashow
    llm_cli.print = display.print  # type: ignore[attr-defined]  # shadows the builtin there
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(llm_cli, name, function)
        del llm_cli.print  # type: ignore[attr-defined]


class _ReaderGone(BaseException):
    """Stdout's reader went away: the command stops there.

    A `BaseException`, so that llm's ``except Exception`` lets it through: llm
    would go on to log the response, and logging a response whose stream was
    left unread runs its prompt again (``Response.duration_ms`` forces it).
    `llm prompt` logs nothing either when its reader goes away.
    """


class _Display:
    """Shows llm's answers through outstream, on stdout; keeps each one's `Result`."""

    def __init__(self, *, stats: bool, **options: Any) -> None:
        self._options = {**options, "count_text": stats}
        self._stats = stats
        self.results: list[Any] = []
        self._unsaid: list[str] = []  # stats not written yet: the answer's line is open
        self._line_open = False  # the last answer did not end its line
        self._reader_gone = False

    def _stream_options(self, show_reasoning: bool) -> dict[str, Any]:
        # On stderr unless -R, as llm shows it; dimmed there on a terminal.
        from ..cli.stream import _reasoning_writer

        reasoning, on_reasoning, _ = _reasoning_writer("stderr" if show_reasoning else "hide")
        return {**self._options, "reasoning": reasoning, "on_reasoning": on_reasoning}

    def show(self, events: Iterable[Any], *, show_reasoning: bool = True) -> None:
        """Stream llm's events (`llm.cli.display_stream_events`)."""
        from ..api import stream

        self._shown(stream(events, sys.stdout, **self._stream_options(show_reasoning)))

    async def ashow(self, events: AsyncIterable[Any], *, show_reasoning: bool = True) -> None:
        """Stream llm's events, awaiting them (`llm.cli.display_async_stream_events`)."""
        from ..api import astream

        self._shown(await astream(events, sys.stdout, **self._stream_options(show_reasoning)))

    def print(self, *values: Any, sep: str = " ", end: str = "\n", **kwargs: Any) -> None:
        """`print` for llm.cli: an answer that was not streamed is shown as one chunk;
        the bare ``print()`` after a streamed answer ends its line if still open."""
        if kwargs.get("file") not in (None, sys.stdout):
            builtins.print(*values, sep=sep, end=end, **kwargs)
            return
        if values:
            self.show([sep.join(map(str, values)) + end], show_reasoning=False)
        elif self._line_open:
            self._line_open = False
            try:
                sys.stdout.write(end)
                sys.stdout.flush()
            except BrokenPipeError:  # the reader went away after the answer (`| head`)
                self._reader_gone = True
                raise _ReaderGone from None
        self._say_stats()

    def _shown(self, result: Any) -> None:
        self.results.append(result)
        if self._stats:
            self._unsaid.append(result.stats.format())
        if result.reader_gone:
            self._reader_gone = True
            raise _ReaderGone
        text = _TRAILING_CONTROLS.sub("", result.text)
        self._line_open = bool(text) and not text.endswith("\n")
        if not self._line_open:
            self._say_stats()

    def _say_stats(self) -> None:
        if self._unsaid:
            sys.stderr.write("".join(f"{stats}\n" for stats in self._unsaid))
            sys.stderr.flush()
            self._unsaid.clear()

    def close(self) -> None:
        """The stats not said yet; stdout quieted if its reader went away."""
        self._say_stats()
        if self._reader_gone:
            from ..sinks.stream import quiet_stdout

            quiet_stdout()
