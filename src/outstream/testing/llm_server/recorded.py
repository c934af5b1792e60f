"""What the loopback LLM server saw: each `RecordedRequest`, and how its response ended.

The handler fills in a request's progress as its response goes out (the
status, when each piece went out, how it ended); a test reads it, or waits
for the end (`RecordedRequest.wait`).
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Ending", "RecordedRequest"]


class Ending(enum.Enum):
    """How the server's response to a request ended."""

    COMPLETE = "complete"
    """Everything meant to be sent was sent (also an error for an unscripted model)."""
    FAILED = "failed"
    """The script's failure was carried out."""
    CLIENT_CLOSED = "client_closed"
    """The client closed the connection before the response ended."""
    SERVER_CLOSED = "server_closed"
    """`LLMServer.close()` cut the response short."""


class _Progress:
    def __init__(self) -> None:
        self.piece_times: list[float] = []
        self.status: int | None = None
        self.ending: Ending | None = None
        self.done = threading.Event()

    def end(self, ending: Ending) -> None:
        if self.ending is None:
            self.ending = ending
            self.done.set()


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedRequest:
    """A request the server received, and how far its response got.

    Attributes:
        method: ``"GET"``, ``"POST"``...
        path: the path, without the query.
        headers: the request's headers, names in lower case.
        body: the parsed JSON body; None when there is none or it is not JSON.
        raw_body: the body as received.
        t: when the request had been read, on the server's clock
            (`time.monotonic()` by default).
    """

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    raw_body: bytes = field(repr=False)
    t: float
    _progress: _Progress = field(default_factory=_Progress, repr=False, compare=False)

    @property
    def model(self) -> str | None:
        model = self.body.get("model") if isinstance(self.body, dict) else None
        return model if isinstance(model, str) else None

    @property
    def status(self) -> int | None:
        """The HTTP status sent; None before the headers (or if none were)."""
        return self._progress.status

    @property
    def n_pieces_sent(self) -> int:
        """The scripted pieces sent so far."""
        return len(self._progress.piece_times)

    @property
    def piece_times(self) -> tuple[float, ...]:
        """When each piece sent so far went out, on the server's clock.

        A whole (not streamed) answer goes out at once: its pieces share one time.
        """
        return tuple(self._progress.piece_times)

    @property
    def ending(self) -> Ending | None:
        """How the response ended; None while it goes on."""
        return self._progress.ending

    def wait(self, timeout: float = 5.0) -> Ending:
        """Wait until the response has ended, and say how.

        Raises:
            TimeoutError: it has not ended within `timeout` seconds.
        """
        if not self._progress.done.wait(timeout):
            raise TimeoutError(f"the response to {self.method} {self.path} is still going on")
        assert self._progress.ending is not None
        return self._progress.ending
