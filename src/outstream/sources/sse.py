"""Server-sent events, parsed incrementally as the WHATWG HTML standard says (9.2.6).

Pure: bytes in, events out. Lines end at CRLF, LF or CR; a line starting
with ``:`` is a comment; ``field: value`` drops one leading space of the
value; ``data`` lines join with ``\\n``; an empty line dispatches the event
(none if no data came); ``event`` names it (``message`` by default); ``id``
is remembered (not if it holds NUL); ``retry`` and unknown fields are
ignored. A UTF-8 BOM at the very start is skipped.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

__all__ = ["SSEEvent", "SSEParser"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SSEEvent:
    event: str
    data: str
    id: str | None = None


class SSEParser:
    """Bytes of an event stream in, `SSEEvent`s out, whatever the chunking."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._buffer = ""
        self._started = False
        self._after_cr = False
        self._event = ""
        self._data: list[str] = []
        self._last_id: str | None = None

    def feed(self, data: bytes) -> list[SSEEvent]:
        text = self._decoder.decode(data)
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._after_cr and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF split across chunks
        self._after_cr = False
        self._buffer += text
        events: list[SSEEvent] = []
        lines = self._buffer.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._buffer = lines.pop()
        if self._buffer == "" and text.endswith("\r"):
            self._after_cr = True
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[SSEEvent]:
        """The stream ended: an event without its blank line is discarded (as the standard says)."""
        self._buffer = ""
        self._data = []
        self._event = ""
        return []

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            if not self._data:
                self._event = ""
                return None
            event = SSEEvent(
                event=self._event or "message", data="\n".join(self._data), id=self._last_id
            )
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id" and "\0" not in value:
            self._last_id = value
        return None
