"""What was shown, recorded as asciicast v2 (``--record FILE.cast``) as it is shown, and read back.

asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/) is JSON
Lines: a header object (``version``, ``width``, ``height``, ``timestamp``,
``env``, ``title``), then events ``[t, "o", data]`` for output and
``[t, "r", "COLSxROWS"]`` for a resize, ``t`` in seconds from the start.
The data is what a terminal receives: a newline goes out as CR LF, as a
pty's line discipline (ONLCR) turns it. Each event is flushed as it is
written; `close` syncs the file to the disk.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping

from ..errors import SourceError
from ._jsonl import JsonLines, records, seconds

__all__ = ["CastRecorder", "read_cast"]

_BARE_LF = re.compile(r"(?<!\r)\n")


class CastRecorder:
    """Writes an asciicast v2 file of a terminal session, event by event.

    Args:
        path: the file to write (replaced if it exists).
        width, height: the terminal's size at the start.
        t0: the start on the driver's clock; event times count from it.
        title: the recording's title.
        env: ``SHELL`` and ``TERM`` are kept from it, as asciinema keeps them.

    A failure to write stops the recording, not the stream: `error` says
    what happened.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        width: int,
        height: int,
        t0: float,
        title: str,
        env: Mapping[str, str],
    ) -> None:
        self._out = JsonLines(path)
        self._t0 = t0
        self._last_t = 0.0
        self._size = (width, height)  # the size the player shows now
        header = {
            "version": 2,
            "width": width,
            "height": height,
            "timestamp": int(time.time()),
            "env": {k: env[k] for k in ("SHELL", "TERM") if k in env},
            "title": title,
        }
        self._out.write([header])

    def output(self, now: float, text: str) -> None:
        """`text` was written to the terminal at `now`."""
        if text:
            self._out.write([[self._t(now), "o", _BARE_LF.sub("\r\n", text)]])

    def resize(self, now: float, width: int, height: int) -> None:
        """The terminal became `width`×`height` at `now` (the size it was: nothing to say).

        A series of resizes that ended where it began (a window's edge
        dragged out and back) is drawn again, but the player's screen is the
        size it was: an ``r`` event would only make it reflow for nothing.
        """
        if (width, height) == self._size:
            return
        self._size = (width, height)
        self._out.write([[self._t(now), "r", f"{width}x{height}"]])

    def batch(self, batch: object) -> None:
        """The source's deltas are not recorded here (see `DeltaRecorder`)."""

    def _t(self, now: float) -> float:
        self._last_t = max(self._last_t, round(now - self._t0, 6))
        return self._last_t

    @property
    def error(self) -> str | None:
        """Why the recording stopped early, if it did."""
        return self._out.error

    def close(self) -> None:
        """Sync the file to the disk and close it."""
        self._out.close()


def read_cast(path: str | os.PathLike[str]) -> tuple[list[tuple[float, object]], float]:
    """An asciicast v2 file's output events as ``(t, text)`` pairs, and its last event's time."""
    script: list[tuple[float, object]] = []
    last_t = 0.0
    for number, record in records(path):
        if number == 1:
            continue
        where = f"{os.fspath(path)}: line {number}"
        if not (isinstance(record, list) and len(record) == 3):
            raise SourceError(f"{where}: an asciicast event is [time, code, data]")
        t, code, data = record
        if not isinstance(code, str) or not isinstance(data, str):
            raise SourceError(f"{where}: an asciicast event is [time, code, data]")
        last_t = seconds(t, last_t, where, "an event's time")
        if code == "o":
            script.append((last_t, data))
    return script, last_t
