"""What the commands share: exit codes, the parser's manner, one-line errors, and the
checks of the output options made before anything is opened (`parsed`, `check_paths`)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        # The one line that says what is wrong, and where to look; not the
        # whole usage block above it.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\ntry '{self.prog} --help'\n")

    def _print_message(self, message: str, file: Any = None) -> None:
        # Its errors quote the arguments given (a file's name, a value):
        # controls in them reach no terminal.
        from ..core.escapes import sanitized

        super()._print_message(sanitized(message), file)


def command_parser(
    prog: str, description: str, epilog: str, *, config: bool = True
) -> argparse.ArgumentParser:
    """A parser for `prog` whose help keeps its texts' lines, and whose errors exit 2;
    with `config`, its command reads the config file (`--no-config` not)."""
    parser = _Parser(
        prog=prog,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if config:
        parser.add_argument(
            "--no-config",
            action="store_true",
            help="ignore the config file (OUTSTREAM_<OPTION> variables still count; "
            "'outstream config --help')",
        )
    return parser


def configured(
    parser: argparse.ArgumentParser, argv: Sequence[str], *, required: bool = True
) -> argparse.Namespace:
    """`argv` parsed, what it leaves unset taken from the environment, the config file
    and the defaults, in that order (see `_config`); a bad file or variable is one line
    on stderr and exit 2, as a bad flag is."""
    from ._config import ConfigError
    from ._config import configured as filled

    try:
        return filled(parser, argv, required=required)
    except ConfigError as exc:
        _fail(str(exc))
        raise SystemExit(EXIT_USAGE) from None


def _fail(message: str) -> None:
    """One line on stderr: what went wrong (outside text in it made safe, see terminal_line)."""
    from ..core.escapes import terminal_line

    try:
        sys.stderr.write(f"outstream: {terminal_line(message)}\n")
        sys.stderr.flush()
    except Exception:
        pass


# Options whose value is optional, and what they mean without one.
_OPTIONAL_VALUES = {"--smooth": "--smooth=0.5", "--wrap": "--wrap=auto"}


def _optional_values(argv: Sequence[str]) -> list[str]:
    """``--smooth TEXT`` means smooth pacing of TEXT, not a LAG of TEXT (and so for --wrap).

    argparse would take any word after an option with an optional value as
    that value; a word that is not a number is the text to stream.
    """
    args = list(argv)
    for i, arg in enumerate(args[:-1]):
        if arg == "--":
            break
        if arg in _OPTIONAL_VALUES:
            try:
                float(args[i + 1])
            except ValueError:
                if not args[i + 1].startswith("-") or args[i + 1] == "-":
                    args[i] = _OPTIONAL_VALUES[arg]
    return args


def parsed(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """`argv` parsed, and the output options checked before anything is opened or created:
    a bad value is a usage error (exit 2) that names its option."""
    args = configured(parser, _optional_values(argv))
    if not [target for target in args.to or () if target not in ("stdout", "-", "stderr")]:
        given = [
            option
            for option, value in (
                ("--encoding", args.encoding is not None),
                ("--append", args.append),
                ("--fsync", args.fsync),
            )
            if value
        ]
        if given:
            parser.error(
                f"{' and '.join(given)}: {'applies' if len(given) == 1 else 'apply'} to "
                "files written with --to FILE, and none is given"
            )
    if args.encoding is not None:
        import codecs

        try:
            text_encoding = getattr(codecs.lookup(args.encoding), "_is_text_encoding", True)
        except LookupError:
            text_encoding = False
        if not text_encoding:
            parser.error(
                f"--encoding: {args.encoding!r} is not a text encoding Python knows "
                "(utf-8, latin-1, cp1252...)"
            )
        from ..sinks.stream import ascii_compatible

        terminals = [t for t in args.to or () if _is_terminal_path(t)]
        if terminals and not ascii_compatible(args.encoding):
            parser.error(
                f"--encoding {args.encoding}: not ASCII-compatible, and --to {terminals[0]} is "
                "a terminal, which would read its bytes as other characters and controls"
            )
    return args


def _is_terminal_path(target: str) -> bool:
    """Whether a --to target names a terminal device (``/dev/tty``, ``/dev/pts/3``)."""
    if target in ("stdout", "-", "stderr"):
        return False  # their encoding is their own (--encoding is for files)
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)


def check_paths(
    parser: argparse.ArgumentParser, args: argparse.Namespace, reads: Sequence[tuple[str, str]]
) -> None:
    """No file is both read and written, or written twice: ``-f n.md --to n.md`` emptied
    n.md, ``--save-deltas a --record a`` mixed two formats in one file. A usage error
    (exit 2) before anything is opened. Devices and FIFOs (``/dev/null``) may repeat."""
    writes = [("--to", t) for t in args.to or () if t not in ("stdout", "-", "stderr")]
    if args.save_deltas:
        writes.append(("--save-deltas", args.save_deltas))
    if args.record:
        writes.append(("--record", args.record))
    reasoning = getattr(args, "reasoning", None)
    if reasoning not in (None, "hide", "show", "stderr"):
        writes.append(("--reasoning", reasoning))
    seen: dict[str, tuple[str, bool]] = {}  # a file's real path -> who names it, read or not
    for read, (option, path) in [*((True, r) for r in reads), *((False, w) for w in writes)]:
        try:
            if os.path.exists(path) and not os.path.isfile(path):
                continue  # a device, a FIFO: not a file to lose
        except (OSError, ValueError):
            continue
        key = os.path.realpath(path)
        if key in seen:
            first, first_read = seen[key]
            why = "it would be emptied before it is read" if first_read else "each needs its own"
            parser.error(f"{option} {path} is the file of {first}: {why}")
        seen[key] = (f"{option} {path}", read)
