"""``outstream [TEXT]``: stream text, a file or stdin to the terminal or to files (argv →
`api.Options` → `api.Run`); what `ask` and `replay` share with it."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, Literal

from .._version import __version__
from ..core.limits import MAX_CPS, MAX_LAG
from ._shared import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    _fail,
    check_paths,
    command_parser,
    parsed,
)

_DESCRIPTION = """\
Stream text to the terminal (or anywhere) the way it should be done: smooth,
drift-free pacing, no split characters, no escape sequences from the source
reaching your terminal, and the right flushing for a terminal, a pipe or a file.
"""

_EPILOG = """\
input:
  TEXT arguments are joined by spaces and end with a newline. Without TEXT,
  with '-', or with -f -, standard input is read as it arrives.

pacing (default: --smooth on a terminal, --instant anywhere else):
  --cps N         a typewriter at N units a second, on an absolute schedule
  --delay S       the same, given as S seconds per unit
  --smooth [LAG]  even flow from a bursty source, never more than LAG
                  seconds (default 0.5) behind it
  --instant       everything as it arrives (once per frame on a terminal)

examples:
  outstream --cps 80 -f examples/answer.md     type a file out at 80 chars/s
  llm "tell me a story" | outstream            smooth a bursty stream
  outstream --unit word --cps 8 "one word at a time"
  curl -sN URL | outstream --escapes escape    show control codes, not run them
  outstream --instant --stats < big.log > copy.log
  llm "..." | outstream --to stdout --to answer.txt   show it and keep it

commands:
  outstream demo [--compare]
                  replay a bundled answer: smooth pacing and Markdown (offline)
  outstream ask [PROMPT ...] [--model M] [--base-url URL] ...
                  ask a model (any OpenAI-compatible endpoint) and stream the
                  answer; 'outstream ask --help' for more.
  outstream replay FILE [--speed X] [--max-idle S] [options]
                  play a --save-deltas .jsonl (through any options) or a
                  --record .cast back, with its timing.
  outstream inspect [stdout|stderr|PATH] [--json]
                  the layers of a stream (TextIOWrapper, BufferedWriter,
                  FileIO, the fd) and what outstream does with it, and why.
                  ('outstream -- inspect' streams the word itself.)
  outstream publish [TEXT | -f FILE | -] [--id ID] [--redis URL]
  outstream follow ID|URL [--from-now] [--redis URL | --token T] [options]
  outstream cancel ID|URL [--redis URL | --token T]
                  one answer, many readers: publish a stream to a log in
                  Redis, show it live anywhere (any number of readers,
                  resuming after a dropped connection), stop its producer;
                  by its ID through Redis, or by its URL through 'serve'.
                  'outstream ask ... --publish' shows an answer and publishes it.
  outstream serve [--redis URL] [--host H] [--port P]
                  the stream log over HTTP: Server-Sent Events that resume,
                  status, text and cancel, for browsers and any client.

exit status:
  0 done (also when the reader went away, e.g. '| head'), 1 the source or
  an output failed (the other outputs went on), 2 usage error,
  130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""


def _positive(kind: str, least: float = 0.0, most: float = float("inf")) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
        if not (value > 0 and value != float("inf")):
            raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
        if not least <= value <= most:
            span = f"at most {most:g}" if value > most else f"at least {least:g}"
            raise argparse.ArgumentTypeError(f"must be {span}, not {text!r} (--instant: no pacing)")
        return value

    parse.__name__ = kind
    return parse


def _cells(text: str) -> int | bool:
    if text == "auto":
        return True
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--wrap takes a width in cells, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--wrap takes a width of at least 1, not {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser("outstream", _DESCRIPTION, _EPILOG)
    parser.add_argument("text", nargs="*", metavar="TEXT", help="text to stream; '-' reads stdin")
    parser.add_argument(
        "-f",
        "--file",
        action="append",
        metavar="FILE",
        help="stream the contents of FILE ('-' for stdin); a lone TEXT that names a file "
        "streams that file too ('outstream notes.md'), unless after '--'",
    )
    _add_stream_options(parser)
    parser.add_argument("--version", action="version", version=f"outstream {__version__}")
    return parser


def _add_stream_options(parser: argparse.ArgumentParser) -> None:
    """Pacing, text and output options: the same for streaming text and for `ask`."""
    pacing = parser.add_argument_group("pacing").add_mutually_exclusive_group()
    pacing.add_argument(
        "--cps", type=_positive("--cps", most=MAX_CPS), metavar="N", help="units per second"
    )
    pacing.add_argument(
        "--delay",
        type=_positive("--delay", least=1 / MAX_CPS),
        metavar="SECONDS",
        help="seconds per unit",
    )
    pacing.add_argument(
        "--smooth",
        type=_positive("--smooth", most=MAX_LAG),
        nargs="?",
        const=0.5,
        metavar="LAG",
        help="smooth pacing, at most LAG seconds behind the source (default 0.5)",
    )
    pacing.add_argument("--instant", action="store_true", help="no pacing")
    text = parser.add_argument_group("text")
    text.add_argument(
        "--unit",
        choices=("grapheme", "word", "line", "chunk"),
        default="grapheme",
        help="what pacing counts (default: grapheme, a character as you see it)",
    )
    text.add_argument(
        "--escapes",
        choices=("strip", "escape", "sgr", "display", "raw"),
        default=None,
        help="control characters and escape sequences from the source: strip them "
        "(default; files given to --to get the text as received), escape them "
        "visibly, keep only colours and styles (sgr), keep what redraws a screen but "
        "nothing that talks to the terminal (display: the default for a .cast), or "
        "pass them raw (trust the source)",
    )
    render = text.add_mutually_exclusive_group()
    render.add_argument(
        "-m",
        "--markdown",
        action="store_true",
        default=None,
        help="render Markdown on a terminal: finished blocks for good, the open one redrawn "
        "below (off a terminal the source passes through, unless --color always)",
    )
    render.add_argument(
        "--plain",
        "--no-markdown",
        dest="markdown",
        action="store_false",
        default=None,
        help="no Markdown rendering: the text as it comes, still sanitized, paced and "
        "wrapped ('ask' renders Markdown on a terminal unless given this)",
    )
    text.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour and Markdown rendering: auto (on a terminal), always (also into a pipe "
        "or file), never; NO_COLOR means never",
    )
    text.add_argument(
        "--hyperlinks",
        action="store_true",
        help="with -m, make links clickable terminal hyperlinks (OSC 8) instead of showing "
        "their URL after the text",
    )
    wrap = text.add_mutually_exclusive_group()
    wrap.add_argument(
        "--wrap",
        type=_cells,
        nargs="?",
        const=True,
        default=None,
        metavar="N",
        help="soft-wrap words at N cells, or at the terminal's width without N "
        "(default: on a terminal, at its width, following resizes); with -m, render "
        "Markdown at N columns",
    )
    wrap.add_argument("--no-wrap", dest="wrap", action="store_false", help="never wrap")
    text.add_argument(
        "--strict",
        action="store_true",
        help="stop with an error at invalid UTF-8 (default: show it as U+FFFD)",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--fps",
        type=_positive("--fps"),
        default=60.0,
        metavar="N",
        help="at most N writes a second on a terminal or when paced (default 60)",
    )
    out.add_argument(
        "--to",
        action="append",
        metavar="TARGET",
        help="write to TARGET: stdout, stderr or a file path (created or truncated); "
        "repeat to write to several at once, each paced and flushed for what it is "
        "(default: stdout)",
    )
    out.add_argument(
        "--append", action="store_true", help="append to --to files instead of replacing them"
    )
    out.add_argument(
        "--flush",
        choices=("auto", "frame", "chunk", "line", "end"),
        default="auto",
        help="when to flush: auto (default: per frame on a terminal, per chunk into a "
        "pipe, at the end into a file), or force one for every output",
    )
    out.add_argument(
        "--fsync", action="store_true", help="make --to files durable (fsync) when the stream ends"
    )
    out.add_argument(
        "--encoding",
        metavar="ENC",
        help="encoding of the bytes written to --to files (default utf-8)",
    )
    out.add_argument(
        "--encoding-errors",
        choices=("replace", "namereplace", "backslashreplace"),
        default="replace",
        help="what a character the output's encoding cannot hold becomes: "
        "? (replace, default), \\N{NAME} (namereplace) or \\xNN (backslashreplace)",
    )
    out.add_argument(
        "--stats", action="store_true", help="print time to first text, rates, lag… to stderr"
    )
    record = parser.add_argument_group("recording")
    record.add_argument(
        "--save-deltas",
        metavar="FILE.jsonl",
        help="save the source's deltas with their arrival times, a JSON line each, as they "
        "arrive ('outstream replay FILE.jsonl' plays them back)",
    )
    record.add_argument(
        "--record",
        metavar="FILE.cast",
        help="record what is shown, with its timing, as asciicast v2 ('asciinema play' "
        "or 'outstream replay FILE.cast' plays it)",
    )


def _source(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Any:
    if args.file is not None and args.text:
        parser.error("give TEXT or -f FILE, not both")
    if args.file is not None and args.file != "-":
        try:
            return open(args.file, "rb")
        except OSError as exc:
            raise _SourceUnavailable(f"cannot read {args.file}: {exc.strerror}") from None
    if args.file == "-" or args.text == ["-"]:
        return _stdin(parser)
    if args.text:
        return " ".join(args.text) + "\n"
    if sys.stdin is None or sys.stdin.isatty():
        parser.error("nothing to stream: give TEXT, -f FILE, or pipe text in")
    return _stdin(parser)


def _stdin(parser: argparse.ArgumentParser) -> Any:
    if sys.stdin is None:
        parser.error("there is no standard input to read")
    # The raw file, not the BufferedReader: a reader thread blocked in the
    # buffered layer holds its lock, and the interpreter's shutdown would
    # then abort ("could not acquire lock ... at interpreter shutdown").
    # Nothing has been read from stdin yet, so the buffer holds nothing.
    return getattr(sys.stdin.buffer, "raw", sys.stdin.buffer)


class _SourceUnavailable(Exception):
    pass


def _pacer(args: argparse.Namespace) -> Any:
    from ..core.pace import Instant, Smooth, Typewriter

    if args.cps is not None:
        return Typewriter(cps=args.cps)
    if args.delay is not None:
        return Typewriter(delay=args.delay)
    if args.smooth is not None:
        return Smooth(lag=args.smooth)
    if args.instant:
        return Instant()
    return None


def _reasoning_writer(mode: str | None) -> tuple[Literal["hide", "show"], Any, Any]:
    """The pipeline's reasoning mode, what shows reasoning kept apart (on stderr, or in
    a file), and the file to close at the end (None).

    Raises:
        OSError: the file cannot be written.
    """
    if mode == "show":
        return "show", None, None
    if mode not in (None, "hide", "stderr"):
        file = open(mode, "w", encoding="utf-8")  # noqa: SIM115

        def write_file(text: str) -> None:
            try:
                file.write(text)
                file.flush()
            except (OSError, ValueError):
                pass

        return "hide", write_file, file
    stderr = sys.stderr
    tty = stderr is not None and stderr.isatty()
    if mode == "hide" or (mode is None and not tty) or stderr is None:
        return "hide", None, None
    dim, reset = ("\x1b[2m", "\x1b[0m") if tty else ("", "")

    def write(text: str) -> None:
        try:
            stderr.write(f"{dim}{text}{reset}")
            stderr.flush()
        except Exception:
            pass

    return "hide", write, None


def stream(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parsed(parser, argv)
    if args.file is not None and len(args.file) > 1:
        parser.error("-f: give one FILE (several: cat FILE1 FILE2 | outstream)")
    args.file = args.file[0] if args.file else None
    if (
        args.file is None
        and len(args.text) == 1
        and args.text != ["-"]
        and "--" not in argv
        and os.path.isfile(args.text[0])
    ):
        args.file, args.text = args.text[0], []  # `outstream notes.md`: the file, not its name
    check_paths(parser, args, [("-f", args.file)] if args.file not in (None, "-") else [])
    try:
        source = _source(args, parser)
    except _SourceUnavailable as exc:
        _fail(str(exc))
        return EXIT_FAILED
    try:
        return _stream(args, source)
    finally:
        close = getattr(source, "close", None)
        if callable(close) and not _is_stdin(source):
            close()


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is (what was due is written, the terminal restored)."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def _open_targets(args: argparse.Namespace) -> tuple[list[Any], list[str]]:
    """The outputs named by --to (stdout without any), and a message for each that failed."""
    outputs: list[Any] = []
    failures: list[str] = []
    for target in args.to or ["stdout"]:
        if target in ("stdout", "-"):
            if sys.stdout is None:
                failures.append("cannot write to stdout: there is none (is it closed?)")
            else:
                outputs.append(sys.stdout)
        elif target == "stderr":
            if sys.stderr is not None:
                outputs.append(sys.stderr)
        else:
            try:
                outputs.append(open(target, "ab" if args.append else "wb"))  # noqa: SIM115
            except OSError as exc:
                failures.append(f"cannot write to {target}: {exc.strerror}")
    return outputs, failures


def _stream(
    args: argparse.Namespace,
    source: Any,
    *,
    describe: str = "",
    model: str | None = None,
    stats_note: str = "",
    from_request: bool = False,
) -> int:
    import signal

    from .. import api
    from ..clock import SystemClock
    from ..errors import OutstreamError, SinkError, UsageError
    from ..sinks.stream import quiet_stdout

    try:
        reasoning, on_reasoning, reasoning_file = _reasoning_writer(
            getattr(args, "reasoning", "hide")
        )
    except OSError as exc:
        _fail(f"cannot write the reasoning to {args.reasoning}: {exc.strerror}")
        return EXIT_FAILED
    outputs, failures = _open_targets(args)
    for message in failures:
        _fail(message)
    if not outputs:
        if reasoning_file is not None:
            reasoning_file.close()
        return EXIT_FAILED
    code = EXIT_FAILED if failures else EXIT_OK
    run: api.Run | None = None
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        options = api.Options(
            pace=_pacer(args),
            unit=args.unit,
            escapes=args.escapes,
            errors="strict" if args.strict else "replace",
            fps=args.fps,
            flush=args.flush,
            encoding=args.encoding or "utf-8",
            encoding_errors=args.encoding_errors,
            fsync=args.fsync,
            keep_text=False,
            count_text=args.stats,
            wrap=args.wrap,
            reasoning=reasoning,
            on_reasoning=on_reasoning,
            render="markdown" if args.markdown else "plain",
            color=args.color,
            hyperlinks=args.hyperlinks,
            save_deltas=args.save_deltas,
            record=args.record,
        )
        try:
            run = api.Run(
                outputs,
                options,
                SystemClock(),
                source=describe or _describe(args),
                model=model,
                from_request=from_request,  # the source makes its request once read
            )
        except OSError as exc:
            _fail(f"cannot write to {exc.filename or 'a recording'}: {exc.strerror or exc}")
            return EXIT_FAILED
        except UsageError as exc:  # options that cannot go together on these outputs
            _fail(str(exc))
            return EXIT_USAGE
        run.drive(source)
    except _Terminated:
        code = EXIT_TERMINATED
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except OutstreamError as exc:
        if not isinstance(exc, SinkError):
            if run is not None:
                run.end_lines()
            _fail(str(exc))
        code = EXIT_FAILED
    except Exception as exc:  # the source raised: say what, in one line
        if run is not None:
            run.end_lines()
        _fail(f"the source failed: {type(exc).__name__}: {exc}")
        code = EXIT_FAILED
    finally:
        signal.signal(signal.SIGTERM, previous)
        if reasoning_file is not None:
            reasoning_file.close()
        for output in outputs:
            if output not in (sys.stdout, sys.stderr):
                try:
                    output.close()
                except OSError:
                    pass  # its failure was met, and is reported, below
    if run is None:
        return code
    result = run.result()
    for message in result.recording_errors:
        _fail(message)
        code = EXIT_FAILED
    for error in result.sink_errors:
        _fail(str(error))
        code = EXIT_FAILED
    if run.stdout_lost:
        # What stdout's buffer still holds cannot be written either: let the
        # interpreter's last flush go nowhere instead of failing.
        quiet_stdout()
    if code == EXIT_OK:
        run.end_lines()
    # (A reader that went away, as with `| head`, stopped the reading: no end marker is due.)
    if code == EXIT_OK and result.complete is False and run.read_to_the_end:
        _fail(
            "the answer stopped before its end marker ([DONE] or a finish reason): "
            "the connection may have dropped; what arrived is shown"
        )
        code = EXIT_FAILED
    if args.stats:
        _fail_free_write(stats_note + result.stats.format())
    return code


def _describe(args: argparse.Namespace) -> str:
    """The source in a few words, for a recording's header."""
    import os

    if getattr(args, "file", None) not in (None, "-"):
        return f"file {os.path.basename(args.file)}"
    if getattr(args, "text", None) and args.text != ["-"]:
        return "text from the command line"
    return "standard input"


def _is_stdin(source: Any) -> bool:
    buffer = getattr(sys.stdin, "buffer", None)
    return source is not None and source in (buffer, getattr(buffer, "raw", None))


def _fail_free_write(text: str) -> None:
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except Exception:
        pass
