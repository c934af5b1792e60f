"""``outstream inspect``: what a stream is, layer by layer, and what outstream would do."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import OutstreamError
from ..inspection import REPORT_WIDTH, inspect_path
from ..inspection.layers import _attr
from ..inspection.probe import _inspect
from ..sinks.stream import quiet_stdout
from ._shared import EXIT_FAILED, EXIT_OK

_DESCRIPTION = """\
Show a stream as this process sees it: where its file descriptor points
(a tty and its size, a pipe, a file), the chain of layers Python built on it
(TextIOWrapper -> BufferedWriter -> FileIO) with their buffering, what
outstream would do writing there (pacing, flushing, escapes, colours,
width), and why output does or does not appear when you expect it.
"""

_EPILOG = """\
what it explains:
  a tty is line-buffered; a pipe or a file is block-buffered (print() output
  arrives in 8 KiB lumps) unless python -u or PYTHONUNBUFFERED=1, which remove
  the BufferedWriter; write_through; a notebook's OutStream, which flushes on
  its own timer; a sys.stdout replaced by pytest or redirect_stdout; a closed
  or missing stdout.

examples:
  outstream inspect                           stdout, here a terminal
  outstream inspect | cat                     stdout into a pipe
  PYTHONUNBUFFERED=1 outstream inspect | cat  the same, unbuffered
  outstream inspect stderr                    stderr
  outstream inspect out.txt                   what writing to out.txt would meet
  outstream inspect --json | jq .why          the same as JSON

A PATH is only looked at: it is not created, opened for writing or changed.
Write ./stdout for a file named stdout.

exit status:
  0 done, 1 the PATH cannot be written (one line on stderr), 2 usage error.
"""


def _build_parser() -> argparse.ArgumentParser:
    # Imported here: `import outstream` loads this module, and only the
    # command line needs argparse.
    from ._shared import command_parser

    parser = command_parser("outstream inspect", _DESCRIPTION, _EPILOG, config=False)
    parser.add_argument(
        "target",
        nargs="?",
        default="stdout",
        metavar="stdout|stderr|PATH",
        help="the stream to inspect (default: stdout)",
    )
    parser.add_argument("--json", action="store_true", help="print the same as one JSON object")
    return parser


def _width() -> int | None:
    """The report's width on a terminal: its own, at most `REPORT_WIDTH` (the terminal
    would cut longer lines in the middle of words); None elsewhere (a line per layer)."""
    import os

    try:
        if sys.stdout is not None and sys.stdout.isatty():
            return min(os.get_terminal_size(sys.stdout.fileno()).columns, REPORT_WIDTH)
    except (OSError, ValueError):
        pass
    return None


def main(argv: Sequence[str]) -> int:
    """Run ``outstream inspect``; returns the exit code.

    Args:
        argv: the arguments after ``inspect``.

    Returns:
        0 done, 1 the path cannot be written or the report cannot be
        printed, 2 a usage error (raised as `SystemExit` by argparse, as
        ``--help`` raises `SystemExit` 0).
    """
    args = _build_parser().parse_args(list(argv))
    try:
        if args.target in ("stdout", "stderr"):
            # Looked at before anything is printed to it.
            result = _inspect(getattr(sys, args.target), args.target, None, None)
        else:
            result = inspect_path(args.target)
    except OutstreamError as exc:
        _fail(str(exc))
        return EXIT_FAILED
    if args.json:
        import json

        text = json.dumps(result.to_dict(), indent=2)
    else:
        text = result.format(_width())
    return _print(text + "\n")


_ASCII = str.maketrans({"→": "->", "×": "x", "└": "`-"})


def _print(text: str) -> int:
    out = sys.stdout
    if out is None:
        _fail("cannot print the report: there is no stdout")
        return EXIT_FAILED
    try:
        encoding = _attr(out, "encoding")
        if isinstance(encoding, str):
            try:
                text.encode(encoding)
            except UnicodeEncodeError:
                text = text.translate(_ASCII).encode(encoding, "replace").decode(encoding)
            except LookupError:
                pass
        out.write(text)
        out.flush()
    except BrokenPipeError:  # `outstream inspect | head -1`: the reader has enough
        quiet_stdout()
        return EXIT_OK
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        _fail(f"cannot print the report to stdout: {reason}")
        return EXIT_FAILED
    return EXIT_OK


def _fail(message: str) -> None:
    try:
        sys.stderr.write(f"outstream inspect: {message}\n")
        sys.stderr.flush()
    except Exception:
        pass
