"""A file of JSON lines written as things happen: the recordings' common ground."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from typing import TextIO

__all__ = ["JsonLines", "json_line"]

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
