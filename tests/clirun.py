"""Running the command line in-process, as click's CliRunner does."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from outstream.cli import main


@dataclass(frozen=True)
class Ran:
    code: int | str | None
    out: str
    err: str


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    """Run ``outstream ARGV`` in-process; argparse's SystemExit becomes the exit code."""
    try:
        code: int | str | None = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return Ran(code=code, out=captured.out, err=captured.err)


def child_env() -> dict[str, str]:
    """The environment for a child outstream: as users have it, without PYTHONUNBUFFERED."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


API_KEY = "sk-test-0123456789-secret"  # what the tests' model settings hold: never to be shown
