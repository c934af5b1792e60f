"""A sink written by a thread of its own, so that one slow output of a tee holds up no other."""

from __future__ import annotations

import threading
from collections import deque

from .stream import StreamSink

__all__ = ["BackgroundSink"]


class BackgroundSink:
    """A `StreamSink` written by a thread of its own, for a tee.

    `write` queues and returns, so one slow output (a pipe nobody reads
    fast, a file on a slow disk) does not hold up the others, up to
    `max_chars` queued; past that, `write` waits (memory stays bounded). An
    error met by the thread is raised by the next `write` or by `close`.
    """

    max_chars = 16 * 1024 * 1024

    def __init__(self, sink: StreamSink) -> None:
        self.inner = sink
        self.is_terminal = sink.is_terminal
        self.is_stdout = sink.is_stdout
        self.ends_with_newline = True
        self._queue: deque[str | None] = deque()  # None: close
        self._n_queued = 0
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="outstream-sink", daemon=True)
        self._thread.start()

    @property
    def n_writes(self) -> int:
        return self.inner.n_writes

    @property
    def n_flushes(self) -> int:
        return self.inner.n_flushes

    def write(self, text: str) -> None:
        with self._cond:
            self._raise_error()
            while self._n_queued > self.max_chars and self._error is None:
                self._cond.wait()
            self._raise_error()
            self._queue.append(text)
            self._n_queued += len(text)
            self._cond.notify_all()
        self.ends_with_newline = text.endswith("\n")

    def close(self) -> None:
        """Queue the close and return; `wait` sees it done."""
        with self._cond:
            self._raise_error()
            self._queue.append(None)
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> None:
        """Wait until everything queued is written and closed; raise what went wrong."""
        self._thread.join(timeout)
        with self._cond:
            self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _drain(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                item = self._queue.popleft()
            try:
                if item is None:
                    self.inner.close()
                    return
                self.inner.write(item)
            except BaseException as exc:
                with self._cond:
                    self._error = exc
                    self._queue.clear()
                    self._cond.notify_all()
                return
            finally:
                if item is not None:
                    with self._cond:
                        self._n_queued -= len(item)
                        self._cond.notify_all()
