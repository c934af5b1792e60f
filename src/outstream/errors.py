"""The exceptions outstream raises on purpose.

Every error a user can cause or meet derives from `OutstreamError` and says
where it happened. Any other exception escaping outstream is a bug.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DecodeError",
    "OutstreamError",
    "RelayError",
    "SinkError",
    "SourceError",
    "StreamExists",
    "StreamNotFound",
    "UsageError",
]


class OutstreamError(Exception):
    """Base of every error outstream raises on purpose.

    Attributes:
        result: raised by `stream` or `astream`, what was shown before the
            failure (an `outstream.Result`: its text, stats, usage); None
            otherwise.
    """

    result: Any = None


class SourceError(OutstreamError):
    """The source failed: it raised, or gave something that cannot be read."""


class DecodeError(SourceError):
    """Invalid UTF-8 with ``errors="strict"``; `offset` is the bad byte's offset."""

    def __init__(self, offset: int, data: bytes) -> None:
        self.offset = offset
        self.data = data
        self.text_before = ""
        super().__init__(f"invalid UTF-8 at byte offset {offset}: {data!r}")


class SinkError(OutstreamError):
    """Writing to the output failed (other than the reader going away)."""


class UsageError(OutstreamError, ValueError):
    """A bad option or combination of options (a `ValueError` too, as Python's own are)."""


class RelayError(OutstreamError):
    """The stream log failed: its server cannot be reached, or a stream is not as asked."""


class StreamNotFound(RelayError):
    """No stream has this id in the log: never published, or expired."""


class StreamExists(RelayError):
    """A stream with this id is in the log already (publish under a new id)."""
