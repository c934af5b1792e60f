"""The command line: argv → options → `api.stream`; exit codes.

Exit codes: 0 done (also when the reader went away, as with ``| head``);
1 the source or the output failed (a one-line message on stderr, after
everything received before the failure was shown); 2 a usage error;
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from ._version import __version__

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

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

exit status:
  0 done (also when the reader went away, e.g. '| head'), 1 the source or
  the output failed, 2 usage error, 130 interrupted (Ctrl-C).
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own format, our exit code
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _positive(kind: str) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{kind} must be a number, not {text!r}") from None
        if not (value > 0 and value != float("inf")):
            raise argparse.ArgumentTypeError(f"{kind} must be a positive number, not {text!r}")
        return value

    parse.__name__ = kind
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="outstream",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("text", nargs="*", metavar="TEXT", help="text to stream; '-' reads stdin")
    parser.add_argument(
        "-f", "--file", metavar="FILE", help="stream the contents of FILE ('-' for stdin)"
    )
    pacing = parser.add_argument_group("pacing").add_mutually_exclusive_group()
    pacing.add_argument("--cps", type=_positive("--cps"), metavar="N", help="units per second")
    pacing.add_argument(
        "--delay", type=_positive("--delay"), metavar="SECONDS", help="seconds per unit"
    )
    pacing.add_argument(
        "--smooth",
        type=_positive("--smooth"),
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
        choices=("strip", "escape", "sgr", "raw"),
        default="strip",
        help="control characters and escape sequences from the source: strip them "
        "(default), escape them visibly, keep only colours (sgr), or pass them raw",
    )
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
        "--stats", action="store_true", help="print time to first text, rates, lag… to stderr"
    )
    parser.add_argument("--version", action="version", version=f"outstream {__version__}")
    return parser


def _fail(message: str) -> None:
    try:
        sys.stderr.write(f"outstream: {message}\n")
        sys.stderr.flush()
    except Exception:
        pass


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
    from .core.pace import Instant, Smooth, Typewriter

    if args.cps is not None:
        return Typewriter(cps=args.cps)
    if args.delay is not None:
        return Typewriter(delay=args.delay)
    if args.smooth is not None:
        return Smooth(lag=args.smooth)
    if args.instant:
        return Instant()
    return None


def _quiet_stdout() -> None:
    """After the reader went away, make the interpreter's final flush of stdout harmless."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except Exception:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # before streaming started, or after it ended
        return EXIT_INTERRUPTED


def _optional_lag(argv: Sequence[str]) -> list[str]:
    """``--smooth TEXT`` means smooth pacing of TEXT, not a LAG of TEXT.

    argparse would take any word after an option with an optional value as
    that value; a word that is not a number is the text to stream.
    """
    args = list(argv)
    for i, arg in enumerate(args[:-1]):
        if arg == "--":
            break
        if arg == "--smooth":
            try:
                float(args[i + 1])
            except ValueError:
                if not args[i + 1].startswith("-") or args[i + 1] == "-":
                    args[i] = "--smooth=0.5"
    return args


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(_optional_lag(sys.argv[1:] if argv is None else argv))
    try:
        source = _source(args, parser)
    except _SourceUnavailable as exc:
        _fail(str(exc))
        return EXIT_FAILED

    from . import api, drive
    from .clock import SystemClock
    from .errors import OutstreamError, SinkError

    clock = SystemClock()
    code = EXIT_OK
    pipeline = sink = None
    gone = False
    try:
        sink = api._sink(None, None, None, None)
        pipeline = api._pipeline(
            sink,
            _pacer(args),
            args.unit,
            args.escapes,
            "strict" if args.strict else "replace",
            args.fps,
            0.05,
            clock.now(),
            count_text=args.stats,
        )
        outcome = drive.run(pipeline, drive.open_inbox(source, clock), sink, clock, keep_text=False)
        gone = outcome.reader_gone
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except OutstreamError as exc:
        if isinstance(exc, SinkError):
            gone = True  # what stdout's buffer still holds cannot be written either
        else:
            _end_line(sink)
        _fail(str(exc))
        code = EXIT_FAILED
    except Exception as exc:  # the source raised: say what, in one line
        _end_line(sink)
        _fail(f"the source failed: {type(exc).__name__}: {exc}")
        code = EXIT_FAILED
    finally:
        close = getattr(source, "close", None)
        if callable(close) and not _is_stdin(source):
            close()
    if gone:
        _quiet_stdout()
    if args.stats and pipeline is not None and sink is not None:
        stats = pipeline.stats.snapshot(
            clock.now(), n_writes=sink.n_writes, n_flushes=sink.n_flushes
        )
        _fail_free_write(stats.format())
    return code


def _is_stdin(source: Any) -> bool:
    buffer = getattr(sys.stdin, "buffer", None)
    return source is not None and source in (buffer, getattr(buffer, "raw", None))


def _end_line(sink: Any) -> None:
    """Before a message on a terminal, end the line the stream left open."""
    if sink is not None and sink.is_terminal and not sink.ends_with_newline and not sink.closed:
        try:
            sink.write("\n")
        except Exception:
            pass


def _fail_free_write(text: str) -> None:
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except Exception:
        pass
