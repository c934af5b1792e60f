"""Server-sent events, parsed incrementally as the WHATWG HTML standard says (9.2.6).

Pure: bytes in, events out. Lines end at CRLF, LF or CR; a line starting
with ``:`` is a comment; ``field: value`` drops one leading space of the
value; ``data`` lines join with ``\\n``; an empty line dispatches the event
(none if no data came); ``event`` names it (``message`` by default); ``id``
is remembered (not if it holds NUL); ``retry`` sets the reconnection time
(`SSEParser.retry`) when its value is only ASCII digits, and is ignored
otherwise; unknown fields are ignored. A UTF-8 BOM at the very start is
skipped.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["MAX_EVENT", "SSEError", "SSEEvent", "SSEParser"]

MAX_EVENT = 16 * 1024 * 1024  # characters of a line, or of an event's data, by default

# Line ends, a run at a time: the lines between them are empty, and a run of
# empty lines does what one does (the second and later find no data to
# dispatch), so a stream of blank lines costs a search, not a step a line.
# (A class, not an alternation: the regex engine keeps no state per repeat.)
_LINE_ENDS = re.compile(r"[\r\n]+")


class SSEError(ValueError):
    """The stream broke a bound: a line or an event's data longer than allowed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SSEEvent:
    event: str
    data: str
    id: str | None = None


class SSEParser:
    """Bytes of an event stream in, `SSEEvent`s out, whatever the chunking.

    Linear in its input: a chunk's lines are found in it alone, and a line
    still open is kept in pieces. Bounded: a line, or the data of one event,
    longer than `max_event` characters raises `SSEError` (a server that
    never ends a line would otherwise grow memory without end).

    Attributes:
        retry: the reconnection time the stream asked for, in seconds (its
            last ``retry`` field, given in milliseconds); None until one comes.
    """

    def __init__(self, *, max_event: int = MAX_EVENT) -> None:
        if max_event < 1:
            raise ValueError(f"max_event must be at least 1, not {max_event!r}")
        self.max_event = max_event
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._open: list[str] = []  # the pieces of the line not ended yet
        self._n_open = 0
        self._started = False
        self._after_cr = False
        self._event = ""
        self._data: list[str] = []
        self._n_data = 0
        self._last_id: str | None = None
        self.retry: float | None = None

    def feed(self, data: bytes) -> list[SSEEvent]:
        text = self._decoder.decode(data)
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._after_cr and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF split across chunks
        if not text:
            return []
        self._after_cr = text.endswith("\r")
        if "\n" not in text and "\r" not in text:  # more of a line (a search in C)
            self._open.append(text)
            self._n_open += len(text)
            if self._n_open > self.max_event:
                raise SSEError(
                    f"a line of the event stream went on past {self.max_event:,} characters"
                )
            return []
        events: list[SSEEvent] = []
        start = 0
        for ends in _LINE_ENDS.finditer(text):
            line = text[start : ends.start()]
            if self._open:
                line = "".join(self._open) + line
                self._open, self._n_open = [], 0
            if len(line) > self.max_event:
                raise SSEError(f"a line of the event stream is over {self.max_event:,} characters")
            event = self._line(line)
            if event is not None:
                events.append(event)
            run = ends.group()
            if len(run) - run.count("\r\n") > 1:  # and empty lines after it
                event = self._line("")
                if event is not None:
                    events.append(event)
            start = ends.end()
        if start < len(text):
            self._open.append(text[start:])
            self._n_open += len(text) - start
            if self._n_open > self.max_event:
                raise SSEError(
                    f"a line of the event stream went on past {self.max_event:,} characters"
                )
        return events

    def flush(self) -> list[SSEEvent]:
        """The stream ended: an event without its blank line is discarded (as the standard says)."""
        self._open, self._n_open = [], 0
        self._data, self._n_data = [], 0
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
            self._event, self._data, self._n_data = "", [], 0
            return event
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            self._n_data += len(value) + 1
            if self._n_data > self.max_event:
                raise SSEError(f"an event's data is over {self.max_event:,} characters")
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id" and "\0" not in value:
            self._last_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            # (isdigit alone takes "²" and "٣"; the standard wants ASCII digits only.)
            self.retry = int(value) / 1000
        return None
