"""What the commands share: exit codes, the parser's manner, one-line errors."""

from __future__ import annotations

import argparse
import sys
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


def command_parser(prog: str, description: str, epilog: str) -> argparse.ArgumentParser:
    """A parser for `prog` whose help keeps its texts' lines, and whose errors exit 2."""
    return _Parser(
        prog=prog,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _fail(message: str) -> None:
    """One line on stderr: what went wrong (outside text in it made safe, see terminal_line)."""
    from ..core.escapes import terminal_line

    try:
        sys.stderr.write(f"outstream: {terminal_line(message)}\n")
        sys.stderr.flush()
    except Exception:
        pass
