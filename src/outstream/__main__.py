"""``python -m outstream`` runs the command-line tool."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
