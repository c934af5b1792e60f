"""A file of JSON lines written as things happen: the recordings' common ground."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from typing import TextIO

__all__ = ["JsonLines"]


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
        """Write each value as one line of JSON, then flush."""
        import json

        if self._file is None or not values:
            return
        try:
            self._file.write(
                "".join(
                    json.dumps(value, ensure_ascii=False, separators=(", ", ": ")) + "\n"
                    for value in values
                )
            )
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
