"""JSON Lines, the recordings' common ground: a file written as things happen, read back.

`JsonLines` writes one value per line, flushed as it comes; `records`
reads the lines back, numbered, leaving out a last line cut short (the
one being written when the recording stopped); `read_header` reads the
first; `seconds` checks an event's time.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from ..errors import SourceError

__all__ = ["MAX_SECONDS", "JsonLines", "json_line", "read_header", "records", "seconds", "shown"]

# Characters json.dumps leaves as they are (it escapes only C0) that a
# terminal acts on when the file is shown (`cat`): DEL, C1, the bidi controls;
# and the line separators, which some readers take for line ends.
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_line(value: object) -> str:
    """`value` as one line of JSON that holds no control a terminal acts on (they are escaped)."""
    import json

    line = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if _UNSAFE.search(line) is not None:
        # Only a string can hold them, where \uXXXX spells the same character.
        line = _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)
    return line


class JsonLines:
    """Writes JSON values a line each, flushed at once, synced to the disk at `close`.

    A failure to write (a full disk) stops the file, not the caller: `error`
    says what happened, and later writes do nothing.

    Raises:
        OSError: from the constructor, when the file cannot be created.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._file: TextIO | None = open(path, "w", encoding="utf-8")  # noqa: SIM115
        self.error: str | None = None

    @property
    def closed(self) -> bool:
        return self._file is None

    def write(self, values: Sequence[object]) -> None:
        """Write each value as one line of JSON (`json_line`), then flush."""
        if self._file is None or not values:
            return
        try:
            self._file.write("".join(json_line(value) + "\n" for value in values))
            self._file.flush()
        except OSError as exc:
            self._stopped(exc)

    def close(self) -> None:
        """Flush, sync to the disk (a regular file: not a pipe or /dev/null) and close."""
        if self._file is None:
            return
        try:
            self._file.flush()
            fd = self._file.fileno()
            if stat.S_ISREG(os.fstat(fd).st_mode):
                os.fsync(fd)
        except OSError as exc:
            self._stopped(exc)
        self._close_quietly()

    def _stopped(self, exc: OSError) -> None:
        self.error = self.error or f"the recording {self.path} stopped: {exc.strerror or exc}"
        self._close_quietly()

    def _close_quietly(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except OSError:
                pass


# --- reading ---


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A recording's first line, as a JSON object."""
    import json

    with open(path, encoding="utf-8", errors="replace") as file:
        line = file.readline()
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not line:
        raise SourceError(
            f"{os.fspath(path)}: the file is empty, not a recording "
            "(expected a --save-deltas .jsonl or a --record .cast file)"
        )
    if not isinstance(header, dict):
        raise SourceError(
            f"{os.fspath(path)}: not a recording: line 1 is not a JSON object "
            "(expected a --save-deltas .jsonl or a --record .cast file)"
        )
    return header


def records(path: str | os.PathLike[str]) -> Iterator[tuple[int, Any]]:
    """The file's JSON lines, numbered from 1; a last line cut short (no newline) is left out."""
    import json

    with open(path, encoding="utf-8", errors="replace") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                if not line.endswith("\n"):
                    return  # the line being written when the recording stopped
                raise SourceError(
                    f"{os.fspath(path)}: line {number}: not JSON ({exc.msg})"
                ) from None
            yield number, record


# The latest time a recording may hold: some four months (later is no recording).
MAX_SECONDS = 1e7


def seconds(t: object, last_t: float, where: str, name: str) -> float:
    """An event's time: a finite number of seconds, from `last_t` to `MAX_SECONDS`."""
    if isinstance(t, int | float) and not isinstance(t, bool):
        try:
            seconds = float(t)
        except OverflowError:
            seconds = math.inf
        if last_t <= seconds <= MAX_SECONDS:  # (false for NaN)
            return seconds
    raise SourceError(
        f"{where}: {name} must be a number of seconds from the last event's time "
        f"to {MAX_SECONDS:.0e}, not {shown(t)}"
    )


def shown(value: object) -> str:
    """A value of the file's, as an error message may quote it (short, one line)."""
    from ..core.escapes import terminal_line

    return terminal_line(repr(value), 40)
