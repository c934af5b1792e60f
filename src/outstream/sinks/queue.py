"""Handing text over to an app that pulls it: `QueueSink`, the sink of `iter_text`.

The driver writes frames into a queue and sets a `Signal` of its clock; the
app's iterator takes all that is queued at once, or waits on the signal
(clear, check, wait: a frame written in between is not missed). Once the
app has left (`leave`), a write raises `ReaderGone`, as a pipe whose reader
went away does, and the driver stops quietly.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from .detect import SinkKind, TerminalInfo
from .stream import ReaderGone

if TYPE_CHECKING:
    from ..clock import Clock, Signal

__all__ = ["APP_INFO", "QueueSink"]

# What an app's iterator is, as far as showing text goes: a display that is
# not a terminal. It has no size of its own (the app lays the text out); the
# terminal's fallback size stands in where one is needed (a recording's).
APP_INFO = TerminalInfo(
    kind=SinkKind.APP,
    is_terminal=False,
    width=80,
    height=24,
    color_system="none",
    term=None,
    dumb=False,
)


class QueueSink:
    """A lane's output that an app's iterator takes its text from.

    Every write is handed over at once: it counts as a flush too.
    """

    is_terminal = False
    is_stdout = False

    def __init__(self, clock: Clock) -> None:
        self.ready: Signal = clock.signal()  # set by each write, by `close` and by `end`
        self._texts: deque[str] = deque()
        self.n_writes = 0
        self.ends_with_newline = True
        self.closed = False  # the driver wrote its last text
        self.gone = False  # the app wants no more
        self.ended = False  # the driver has finished, its result ready

    # --- the driver's side ---

    @property
    def n_flushes(self) -> int:
        return self.n_writes

    def write(self, text: str) -> None:
        if self.gone:
            raise ReaderGone
        if not text:
            return
        self._texts.append(text)
        self.n_writes += 1
        self.ends_with_newline = text.endswith("\n")
        self.ready.set()

    def close(self) -> None:
        """The last text is written. After the app left, that is a `ReaderGone`: it did
        not read to the end."""
        self.closed = True
        self.ready.set()
        if self.gone:
            raise ReaderGone

    def wait(self, timeout: float | None = None) -> None:
        """Nothing to wait for: a write is handed over when it returns."""

    def end(self) -> None:
        """The driver has finished (whatever the way): the app's iterator ends too."""
        self.ended = True
        self.ready.set()

    # --- the app's side ---

    def take(self) -> str:
        """All the text written and not taken yet, as one piece ("" if none)."""
        texts = self._texts
        n = len(texts)  # the driver appends only: the first n are there to take
        if n == 1:
            return texts.popleft()
        return "".join([texts.popleft() for _ in range(n)])

    def leave(self) -> None:
        """The app wants no more: the driver's next write (or close) raises `ReaderGone`."""
        self.gone = True
