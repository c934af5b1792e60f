"""Outputs for tests: a sink that remembers its writes, and a conformance suite for real ones.

`MemorySink` is a text stream that records each write with its time on a
clock. `check_sink` checks that outstream writes to an output (a pipe, a
file, a pty, a socket...) as it should, in the manner of trio's
``check_one_way_stream``; `Output` is what it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..clock import Clock

__all__ = ["SAMPLE", "MemorySink", "Output", "check_sink"]


class MemorySink:
    """A text stream that remembers each write with its time on `clock`.

    Args:
        clock: stamps the writes; without one they are stamped 0.0.
        terminal: what `isatty()` answers.
    """

    def __init__(self, clock: Clock | None = None, *, terminal: bool = False) -> None:
        self._clock = clock
        self._terminal = terminal
        self.writes: list[tuple[float, str]] = []
        self.n_flushes = 0
        self.closed = False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        t = self._clock.now() if self._clock is not None else 0.0
        self.writes.append((t, text))
        return len(text)

    def flush(self) -> None:
        self.n_flushes += 1

    def isatty(self) -> bool:
        return self._terminal

    def getvalue(self) -> str:
        return "".join(text for _, text in self.writes)


# --- a conformance suite for outputs ---


@dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    """An output for `check_sink`: the file object to write to, and its reading end.

    Attributes:
        file: what outstream writes to (text or binary).
        read: returns the bytes that reached the reader so far, without
            waiting; None where nothing can be read back (``/dev/null``).
        close: releases everything (the file, the reading end).
    """

    file: object
    read: Callable[[], bytes] | None
    close: Callable[[], None]


SAMPLE = "plain, é, 日本, 👩\u200d👩\u200d👧, flag 🇯🇵\nsecond line\n"


def check_sink(open_output: Callable[[], Output], *, encoding: str = "utf-8") -> None:
    """Check that outstream writes to an output as it should; raise AssertionError if not.

    In the manner of trio's ``check_one_way_stream``: `open_output` makes a
    fresh output each time (a pipe, a file, a pty, a socket...), and every
    check runs on a new one. It checks that the text arrives whole and
    exactly; that an output flushed per frame, chunk or line shows each
    write to its reader at once, and one flushed at the end shows it all
    once the stream ends; that closing twice is harmless; that a write after
    the end is a `SinkError`; and that writes and flushes are counted.
    `Output.read` must return every byte that reached the reader since the
    output was opened.
    """
    from ..errors import SinkError
    from ..sinks.stream import StreamSink

    def check(pieces: Sequence[str]) -> None:
        output = open_output()
        try:
            sink = StreamSink(output.file, env={})
            what = f"{sink.kind.value} ({type(output.file).__name__})"
            expected = b""
            for piece in pieces:
                sink.write(piece)
                expected += piece.encode(encoding)
                if output.read is not None and sink.flush_policy in ("frame", "chunk"):
                    seen = output.read()
                    assert seen == expected, f"{what}: after a write its reader saw {seen!r}"
            sink.close()
            sink.close()
            if output.read is not None:
                seen = output.read()
                assert seen == expected, f"{what}: at the end its reader saw {seen!r}"
            assert sink.n_writes == len(pieces), f"{what}: {sink.n_writes} writes counted"
            assert sink.n_flushes >= 1, f"{what}: never flushed"
            try:
                sink.write("after the end")
            except SinkError:
                pass
            else:
                raise AssertionError(f"{what}: a write after the end did not fail")
        finally:
            output.close()

    check([SAMPLE])
    check(["one ", "two\n", "three ", "日本"])
