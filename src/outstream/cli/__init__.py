"""The command line: ``outstream`` and its commands (`stream`, `ask`, `replay`, ``demo``,
`inspect`, `publish`, `follow`, `cancel`, `serve`, `config`, `completion`); exit codes.

Exit codes: 0 done (also when the reader went away, as with ``| head``);
1 the source or an output failed (a one-line message on stderr, after
everything received before the failure was shown); 2 a usage error;
130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import _config, commands
from ._shared import EXIT_INTERRUPTED

__all__ = ["main"]

_config.all_parsers = commands.all_parsers  # (the file is checked against every command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    command = args[0] if args else None
    if command == "inspect":
        from .inspect import main as inspect

        return inspect(args[1:])
    if command == "config":
        from .config import config

        return config(args[1:])
    if command == "completion":
        from .completion import completion

        return completion(args[1:])
    try:
        if command == "ask":
            from .ask import ask

            return ask(args[1:])
        if command == "replay":
            from .replay import replay

            return replay(args[1:])
        if command == "serve":
            from .serve import serve

            return serve(args[1:])
        if command in ("publish", "follow", "cancel"):
            from . import relay

            return int(getattr(relay, command)(args[1:]))
        if command == "demo":
            from .replay import demo

            return demo(args[1:])
        from .stream import stream

        return stream(argv)
    except KeyboardInterrupt:  # before streaming started, or after it ended
        return EXIT_INTERRUPTED
