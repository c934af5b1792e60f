"""The pty kit: `run_in_pty` (the e2e tests use it throughout)."""

from __future__ import annotations

import signal
import sys

import pytest

from outstream.testing import run_in_pty

pytestmark = pytest.mark.pty

WORD_IN_PIECES = (
    "import sys\n"
    "sys.stdout.write('wor\\x1b[0m\\x1b[Kd042')\n"  # as a live region writes a line on
    "sys.stdout.flush()\n"
    "sys.stdin.read()\n"  # until interrupted
)


def test_interrupt_after_finds_a_word_written_in_pieces_with_sequences_between() -> None:
    result = run_in_pty([sys.executable, "-c", WORD_IN_PIECES], interrupt_after=b"word042")
    assert result.returncode == -signal.SIGINT
    assert b"word042" not in result.output
