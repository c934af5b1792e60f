"""Ask a terminal what its background is (OSC 11): for ``--theme query``, and only then.

A query's answer comes on the terminal's input: it is read from the terminal
the output goes to (opened by its name, for reading), with echo and line
editing off, and both put back as they were, whatever happens. The query
ends with a request every terminal answers (DA1), so a terminal that ignores
OSC 11 costs a round trip, not the timeout; a terminal that answers nothing
in time (a slow ssh link) costs the timeout, and its late answer may show
as text at the shell's prompt. Keys typed in those milliseconds are lost.
"""

from __future__ import annotations

import os
import select
import time
from typing import Any

from ..core.theme import BACKGROUND_QUERY, Theme, background_of_reply

__all__ = ["QUERY_TIMEOUT", "query_background"]

QUERY_TIMEOUT = 0.2  # seconds: a local terminal answers in well under a millisecond


def query_background(file: Any, timeout: float = QUERY_TIMEOUT) -> Theme | None:
    """The background of the terminal `file` writes to, as it answers OSC 11; None when
    `file` is not a terminal or it does not say in `timeout` seconds."""
    import termios

    try:
        fd = os.open(os.ttyname(file.fileno()), os.O_RDWR | os.O_NOCTTY)
    except (OSError, AttributeError, ValueError):
        return None
    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        os.close(fd)
        return None
    try:
        quiet = termios.tcgetattr(fd)
        quiet[3] &= ~(termios.ICANON | termios.ECHO)  # lflag: no line editing, no echo
        quiet[6][termios.VMIN], quiet[6][termios.VTIME] = 0, 0
        termios.tcsetattr(fd, termios.TCSANOW, quiet)
        os.write(fd, BACKGROUND_QUERY)
        reply = b""
        deadline = time.monotonic() + timeout
        while True:
            theme, done = background_of_reply(reply)
            remaining = deadline - time.monotonic()
            if done or remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return theme
            data = os.read(fd, 1024)
            if not data:
                return theme
            reply += data
    except OSError:
        return None
    finally:
        try:
            termios.tcsetattr(fd, termios.TCSANOW, saved)
        finally:
            os.close(fd)
