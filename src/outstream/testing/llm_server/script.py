"""What the loopback LLM server plays: a `Script`, and how it fails (`Failure`).

A script is the pieces of an answer (its reasoning, then its text), when
each goes out (`Script.schedule`), the usage it reports, why it stops
(`Stop`) and how it fails. It is a frozen value, checked once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, replace
from typing import Any, Literal, get_args

__all__ = [
    "HOSTILE_FAILURES",
    "HTTP_FAILURES",
    "STREAM_FAILURES",
    "Failure",
    "Kind",
    "Script",
    "Stop",
]

Failure = Literal[
    "disconnect",
    "cut_short",
    "http_401",
    "http_403",
    "http_404_model",
    "http_429",
    "http_500",
    "malformed",
    "error_event",
    "http_502_text",
    "html",
    "redirect",
    "keepalive",
    "long_line",
    "gzip_bomb",
]
"""How a script fails.

- ``"disconnect"``: the socket is closed after `Script.fail_after` pieces, with
  no end marker and no terminating HTTP chunk.
- ``"cut_short"``: the body ends cleanly after `Script.fail_after` pieces,
  without the provider's end events (no ``[DONE]``, no ``message_stop``):
  a proxy that closed the stream in good order before the answer's end.
  Nothing fails in the client; only the missing end marker tells.
- ``"http_401"`` ... ``"http_500"``: the request is refused at once with the
  provider's own error body (``http_404_model`` names the requested model,
  ``http_401`` the API key).
- ``"malformed"``: after `Script.fail_after` pieces, an event whose JSON is cut
  short; the stream then goes on as scripted.
- ``"error_event"``: after `Script.fail_after` pieces, the provider's in-stream
  error (an ``error`` event, an ``{"error": ...}`` object), and the body ends.

What a hostile or misconfigured server does instead of answering:

- ``"http_502_text"``: HTTP 502 with a plain-text body (`Script.error_message`,
  or a proxy's "Bad Gateway" page);
- ``"html"``: HTTP 200 with a web page (a login page where the API was meant);
- ``"redirect"``: HTTP 302 to a URL with a user, a password and a token;
- ``"keepalive"``: an event stream of keep-alive comments only, then its end;
- ``"long_line"``: an event stream whose first line is 17 MiB long and never ends;
- ``"gzip_bomb"``: a gzip-encoded event stream of 300 MiB of blank lines
  (300 KiB on the wire).

`Script.error_message`, when set, is the text of every error the server
sends (HTTP error bodies, in-stream errors): a hostile server's payload.
"""

Stop = Literal["end", "length"]
"""Why the answer ended: ``"end"`` (a natural stop) or ``"length"`` (the token limit)."""

Kind = Literal["reasoning", "text"]

HTTP_FAILURES = frozenset({"http_401", "http_403", "http_404_model", "http_429", "http_500"})
STREAM_FAILURES = frozenset({"disconnect", "cut_short", "malformed", "error_event"})
HOSTILE_FAILURES = frozenset(
    {"http_502_text", "html", "redirect", "keepalive", "long_line", "gzip_bomb"}
)
_FAILURES = frozenset(get_args(Failure))


@dataclass(frozen=True, slots=True)
class Script:
    """What the server answers, when, and how it fails.

    The answer is a sequence of *pieces*: the reasoning chunks first, then the
    text chunks. Piece *k* goes out `schedule()[k]` seconds after the request
    arrived: ``ttft`` for the first, then every ``interval`` seconds, ``burst``
    pieces at a time, and `stall` seconds later from piece `stall_after` on.

    Args:
        chunks: the answer's text, as the chunks the client receives.
        reasoning: reasoning ("thinking") text, sent before the answer.
        ttft: seconds from the request to the first piece. The response's
            headers, and the events a provider sends before any token
            (Anthropic's ``message_start``, Responses' ``response.created``),
            go out at once, unless `headers_after` says otherwise.
        headers_after: seconds from the request to the response's headers
            (and the events before any token), as a server that holds them
            until the model's first token sends them: an SDK's call that
            makes the request returns only then. Pieces due before it go
            out right after them.
        interval: seconds between one burst of pieces and the next.
        burst: pieces that go out together.
        stall_after: the index of the piece a stall delays (with all after it).
        stall: seconds of that stall.
        usage: ``(prompt_tokens, completion_tokens)`` to report; by default the
            words of the request's messages and the number of pieces.
        usage_at_end: the counts come only at the end: Anthropic's
            ``message_start`` says 0 input tokens, as it does through some
            proxies, and ``message_delta`` the counts (as it always does).
        stop: why the answer ended.
        fail: how the response fails, if it does.
        fail_after: pieces sent before a ``disconnect``, ``cut_short``, ``malformed`` or
            ``error_event`` failure, which happens when the next piece was due.
        error_message: the text of every error the server sends, instead of
            the provider's own.

    Raises:
        ValueError: a field is out of range.
    """

    chunks: Sequence[str] = ("Hello", ", ", "world", "!")
    _: KW_ONLY
    reasoning: Sequence[str] = ()
    ttft: float = 0.0
    headers_after: float = 0.0
    interval: float = 0.0
    burst: int = 1
    stall_after: int | None = None
    stall: float = 0.0
    usage: tuple[int, int] | None = None
    usage_at_end: bool = False
    stop: Stop = "end"
    fail: Failure | None = None
    fail_after: int = 0
    error_message: str | None = None

    def __post_init__(self) -> None:
        for name in ("chunks", "reasoning"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(c, str) for c in value):
                raise ValueError(f"{name} must be a sequence of str")
            object.__setattr__(self, name, tuple(value))
        if min(self.ttft, self.headers_after, self.interval, self.stall) < 0:
            raise ValueError("ttft, headers_after, interval and stall must not be negative")
        if self.burst < 1:
            raise ValueError("burst must be at least 1")
        n_pieces = self.n_pieces
        if self.stall_after is not None and not 0 <= self.stall_after < n_pieces:
            raise ValueError(f"stall_after must be a piece's index, 0 to {n_pieces - 1}")
        if self.usage is not None and min(self.usage) < 0:
            raise ValueError("usage must not be negative")
        if self.fail is not None and self.fail not in _FAILURES:
            raise ValueError(f"unknown failure {self.fail!r}")
        if not 0 <= self.fail_after <= n_pieces:
            raise ValueError(f"fail_after must be 0 to {n_pieces}, the number of pieces")
        if self.fail_after and self.fail not in STREAM_FAILURES:
            raise ValueError(
                "fail_after is for 'disconnect', 'cut_short', 'malformed' and 'error_event'"
            )

    # --- timing patterns ---

    @classmethod
    def steady(
        cls, chunks: Sequence[str], *, rate: float, ttft: float = 0.0, **fields: Any
    ) -> Script:
        """A script whose pieces come at `rate` pieces a second after `ttft`."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        return cls(chunks, ttft=ttft, interval=1.0 / rate, **fields)

    @classmethod
    def bursts(
        cls, chunks: Sequence[str], *, size: int, every: float, ttft: float = 0.0, **fields: Any
    ) -> Script:
        """A script whose pieces come `size` at a time, a burst every `every` seconds."""
        return cls(chunks, ttft=ttft, interval=every, burst=size, **fields)

    def stalled(self, *, after: int, seconds: float) -> Script:
        """This script with a pause of `seconds` before piece `after`."""
        return replace(self, stall_after=after, stall=seconds)

    # --- what it plays ---

    @property
    def n_pieces(self) -> int:
        return len(self.reasoning) + len(self.chunks)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def reasoning_text(self) -> str:
        return "".join(self.reasoning)

    def pieces(self) -> tuple[tuple[Kind, str], ...]:
        """The pieces in the order they are sent: ``(kind, text)``."""
        reasoning: list[tuple[Kind, str]] = [("reasoning", c) for c in self.reasoning]
        text: list[tuple[Kind, str]] = [("text", c) for c in self.chunks]
        return (*reasoning, *text)

    def schedule(self) -> tuple[float, ...]:
        """When each piece is due, in seconds after the request arrived."""
        times = []
        for k in range(self.n_pieces):
            t = self.ttft + (k // self.burst) * self.interval
            if self.stall_after is not None and k >= self.stall_after:
                t += self.stall
            times.append(t)
        return tuple(times)

    def fail_time(self) -> float:
        """When a mid-stream failure happens: when piece `fail_after` was due, or at once."""
        times = self.schedule()
        if self.fail_after < len(times):
            return times[self.fail_after]
        return times[-1] if times else self.ttft
