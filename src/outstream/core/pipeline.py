"""The pure pipeline: decode, sanitize, segment, pace; text out, no I/O.

Theory of operation: `Pipeline` composes the core stages and has three verbs,
like h11's Connection. `feed(event, now)` takes what the source gave (a
`Delta`, `End` or `Failed`); `poll(now)` returns the text to write now (often
""); `next_deadline()` says when polling next is worth it (None: wait for the
source). The drivers (``drive.loops``) are a few lines around these verbs.

Frames: with a `frame_interval`, text is released at most once per interval,
so a typewriter at 20,000 units/s costs 60 writes a second, not 20,000. With
an interval of 0 (instant pacing into a pipe) every poll that has text
releases it, so a downstream reader sees each chunk at once.

A source failure or a strict decoding error stops the stream: whatever was
received before it is released at once, then `error` is set; the driver
re-raises it after writing. `abort(now)` (Ctrl-C) releases only what is due.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..errors import DecodeError, SourceError
from ..events import (
    Aside,
    Delta,
    End,
    Event,
    Failed,
    Finish,
    Other,
    Reasoning,
    SideEvent,
    Usage,
)
from .escapes import EscapePolicy, EscapeSanitizer, sanitized
from .graphemes import Segmenter, UnitName
from .mirror import Utf8Mirror
from .pace import Instant, Pacer
from .stats import StatsRecorder
from .utf8 import DecodeErrors, Utf8Decoder
from .wrap import SoftWrap

if TYPE_CHECKING:  # Markdown is imported when an output renders it: plain text never pays
    from .live import LiveRegion
    from .markdown import Frame, MarkdownRenderer, Palette

__all__ = ["SIDE_EVENTS", "MarkdownOutput", "Pipeline", "ReasoningMode"]

ReasoningMode = Literal["hide", "show"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkdownOutput:
    """How to show Markdown: at `width` cells, in `color_system` (None: no colour), with a
    live region of `height` rows (None: off a terminal, finished blocks only), links as
    OSC 8 `hyperlinks` or as text and URL. `screen_width`: the terminal's own width when
    the rendering's was given (``--wrap N``): a resize then changes the live region's
    count of rows, not the rendering; None, the rendering follows the terminal."""

    width: int
    height: int | None = None
    color_system: Palette | None = "standard"
    hyperlinks: bool = False
    screen_width: int | None = None

    def renderer(self, escapes: EscapePolicy = "strip") -> MarkdownRenderer:
        """The renderer for this output: on a terminal, a live region one row shorter than
        the screen (the cursor's row stays below it); `escapes`: the text's policy."""
        from .live import live_rows
        from .markdown import MarkdownRenderer

        return MarkdownRenderer(
            self.width,
            color_system=self.color_system,
            hyperlinks=self.hyperlinks,
            render_live=self.height is not None,
            live_lines=None if self.height is None else live_rows(self.height),
            escapes=escapes,
        )


SIDE_EVENTS = (Reasoning, Usage, Other, Finish, Aside)


class Pipeline:
    """Source events in, text to write out, at the times the pacer says.

    Args:
        pacer: the pacing policy (`Instant`, `Typewriter`, `Smooth`, or any
            object with the `Pacer` methods).
        unit: what the pacer counts: ``"grapheme"``, ``"word"``, ``"line"``
            or ``"chunk"``.
        escapes: what to do with control characters and escape sequences.
        errors: ``"replace"`` or ``"strict"`` for invalid UTF-8.
        hold: seconds an unfinished trailing unit waits for more text.
        frame_interval: least time between two releases of text, seconds.
        t_start: when the stream started, for the stats.
        count_text: count graphemes and words for the stats (it costs a
            pass over the text).
        wrap_width: soft-wrap words at this many cells (None: no wrapping).
        wrap_eager: the output is a terminal: a word is drawn before its end
            is known when it has room to grow, and a word held at a line's
            end is drawn once no text came for `hold` (it may still move to
            the next line; see `SoftWrap`).
        reasoning: a model's reasoning text is kept apart (``"hide"``; it
            is in `reasoning_text`) or shown with the answer, which begins a
            paragraph of its own (``"show"``; in `reasoning_text` too).
            Either way it is a channel of its own through the `escapes`
            policy, with its own sanitizer state (a sequence split across
            reasoning chunks is one sequence, and cannot run on into the
            answer).
        on_reasoning: called with each piece of reasoning kept apart, as it
            arrives, sanitized (the CLI shows it on stderr).
        markdown: render the text as Markdown (instead of wrapping it): on a
            terminal with a live region of `MarkdownOutput.height` rows, or,
            with no height, finished blocks only, with no cursor movement.
    """

    def __init__(
        self,
        *,
        pacer: Pacer | None = None,
        unit: UnitName = "grapheme",
        escapes: EscapePolicy = "strip",
        errors: DecodeErrors = "replace",
        hold: float = 0.05,
        frame_interval: float = 0.0,
        t_start: float = 0.0,
        count_text: bool = True,
        wrap_width: int | None = None,
        wrap_eager: bool = False,
        reasoning: ReasoningMode = "hide",
        on_reasoning: Callable[[str], None] | None = None,
        markdown: MarkdownOutput | None = None,
    ) -> None:
        if frame_interval < 0:
            raise ValueError(f"frame_interval must be >= 0, not {frame_interval!r}")
        self.pacer: Pacer = Instant() if pacer is None else pacer
        self._utf8 = Utf8Decoder(errors)
        self._escapes: EscapePolicy = escapes
        self._sanitizer = EscapeSanitizer(escapes)
        self._reasoning_sanitizer = EscapeSanitizer(escapes)
        # Writer.print's lines, each with the answer's text that came before it.
        self._asides: list[tuple[str, str]] = []
        self._at_line_start = True  # what was written last ended a line
        self.shown_answer = ""  # of what the last poll gave, the answer's (not Writer.print's)
        # Units matter only to a pacer that counts them; for the others one
        # unit per feed is the same text with far less work.
        self._segmenter = Segmenter(unit if self.pacer.counts_units else "chunk", hold=hold)
        self.stats = StatsRecorder(t_start, count_text=count_text)
        self._markdown: MarkdownRenderer | None = None
        self._live: LiveRegion | None = None
        if markdown is not None:
            wrap_width = None  # the Markdown renderer wraps
            self._markdown = markdown.renderer(escapes)
            if markdown.height is not None:
                from .live import LiveRegion

                self._live = LiveRegion(markdown.screen_width or markdown.width, markdown.height)
        self._markdown_follows = markdown is not None and markdown.screen_width is None
        self._wrap = SoftWrap(wrap_width, eager=wrap_eager) if wrap_width is not None else None
        # Text written as it was read (a pipe's instant copy) can be written as the bytes read.
        transparent = isinstance(self.pacer, Instant) and frame_interval == 0
        self._mirror = Utf8Mirror() if transparent and self._wrap is None and not markdown else None
        self.utf8: bytes | None = None  # the UTF-8 of the text the last poll returned, if known
        self._hold = hold
        self._wrapped_at = -math.inf  # when text last went through the wrap
        self.reasoning = reasoning
        self.on_reasoning = on_reasoning
        self._reasoning_open = False  # reasoning shown apart ended mid-line
        self._reasoning_shown: str | None = None  # the end of reasoning shown before the answer
        self.reasoning_text: list[
            str
        ] = []  # what a model said while reasoning, kept apart, sanitized
        self.events: list[Other] = []  # what else it sent: tool calls and the like
        self.usage: Usage | None = None  # token counts, when the provider reports them
        self._reported: Usage | None = None  # the reports merged (see Usage.merged)
        self.finish_reason: str | None = None  # set when the protocol said the answer ended
        self.frame_interval = frame_interval
        self.error: BaseException | None = None
        self.ended = False  # the source has ended (or failed); no more feeds
        self.done = False  # ended, and everything has been released
        self._now = t_start
        self._last_release = -math.inf
        self._release_all = False
        self._drain_once = False  # show everything waiting at the next poll (a run of text ended)

    # --- input ---

    def feed(self, event: Event, now: float) -> None:
        """Take one event from the source, which arrived at `event.t`."""
        if self.ended:
            return
        t = max(event.t, self._now)
        if isinstance(event, Delta):
            self._feed_data(event.data, t, (t,))
        elif isinstance(event, End):
            self._end(t)
        elif isinstance(event, Failed):
            self._fail(event.error, t)
        else:
            raise TypeError(f"not a source event: {event!r}")

    def feed_chunks(
        self, chunks: Sequence[object], times: Sequence[float], *, offset: float = 0.0
    ) -> None:
        """Several chunks that arrived at ``times + offset``, taken in one go (the drivers' fast path).

        The offset is separate so that a million arrival times need not be
        shifted one by one: the stats need only their differences.
        """
        if self.ended or not chunks:
            return
        t = max(times[0] + offset, self._now)
        data: str | bytes
        try:
            data = "".join(chunks)  # type: ignore[arg-type]
        except TypeError:
            try:
                data = b"".join(chunks)  # type: ignore[arg-type]
            except TypeError:
                data = ""
        if data:
            self._feed_data(data, t, times)
            return
        for chunk, t_chunk in zip(chunks, times, strict=True):  # mixed, or not text
            at = max(t_chunk + offset, t)
            if isinstance(chunk, SIDE_EVENTS):
                self._side(chunk, at)
                continue
            if not isinstance(chunk, str | bytes | bytearray):
                error = SourceError(
                    f"the source gave a {type(chunk).__name__}; expected str or bytes"
                )
                self._fail(error, at)
                return
            self._feed_data(chunk, at, (t_chunk,))
            if self.ended:
                return

    def _side(self, event: SideEvent, t: float) -> None:
        """What a model's stream says besides the answer's text."""
        if isinstance(event, Reasoning):
            self._reason(self._reasoning_sanitizer.feed(event.text), t)
        elif isinstance(event, Usage):
            self._reported = (self._reported or Usage()).merged(event)
            self.usage = self.stats.usage = self._reported.with_total()
        elif isinstance(event, Aside):
            # The program's own line: the answer before it is shown at once
            # (as before a tool call), then the line, on a line of its own.
            self.pacer.push(self._segmenter.flush(), t)
            before = "".join(self.pacer.drain())
            self._asides.append((before, sanitized(event.text, self._escapes)))
            self._mirror = None  # what is written is no longer the bytes read
        elif isinstance(event, Other):
            # Something else comes (a tool call): the text before it is a
            # finished run: nothing of it stays held back, and the pacer
            # shows it all at the next poll, before anything that follows.
            self.pacer.push(self._segmenter.flush(), t)
            self._drain_once = True
            self.events.append(event)
        else:
            self.finish_reason = event.reason or ""

    def _reason(self, text: str, t: float) -> None:
        """Reasoning, sanitized: shown with the answer, or kept apart and handed on."""
        if not text:
            return
        self.reasoning_text.append(text)
        if self.reasoning == "show":
            self._push(text, t, sanitized=True, reasoning=True)
            self._reasoning_shown = ((self._reasoning_shown or "") + text)[-2:]
            return
        if self.on_reasoning is not None:
            self.on_reasoning(text)
            self._reasoning_open = not text.endswith("\n")

    def _feed_data(self, data: str | bytes | bytearray, t: float, times: Sequence[float]) -> None:
        if isinstance(data, str):
            self._push(data, t, times)
            return
        pending = self._utf8.pending
        if data.isascii() and not pending:
            # Most bytes are plain ASCII text: no decoding state to carry and,
            # when the sanitizer agrees, nothing to change or scan twice.
            clean = self._sanitizer.feed_ascii(data)
            if clean is not None:
                self._utf8.n_bytes += len(data)
                utf8 = bytes(data[len(data) - len(clean) :])  # less an LF of a CR LF
                self._push(clean, t, times, sanitized=True, utf8=utf8)
                return
        decoded = self._utf8.feed_valid(data) if isinstance(data, bytes) else None
        if decoded is not None:
            # Valid UTF-8 (the usual case): the sanitizer looks for controls
            # in the bytes, which span every character of the text.
            text, utf8 = decoded
            clean = self._sanitizer.feed_utf8(text, utf8)
            known: bytes | None = utf8
            if clean is not text:  # changed; or less the LF of a CR LF, whose byte is the first
                known = utf8[1:] if text[:1] == "\n" and clean == text[1:] else None
            self._push(clean, t, times, sanitized=True, utf8=known)
            return
        try:
            text = self._utf8.feed(data)
        except DecodeError as exc:
            self._push(exc.text_before, t, times)
            self._fail(exc, t)
            return
        # The sanitizer looks for controls in the bytes, not in the decoded
        # text; a character begun in the last chunk lies in `pending` and
        # this chunk's first bytes.
        seams = (pending + data[:3],) if pending else ()
        self._push(self._sanitizer.feed_utf8(text, data, *seams), t, times, sanitized=True)

    def _push(
        self,
        text: str,
        t: float,
        times: Sequence[float] = (),
        *,
        sanitized: bool = False,
        utf8: bytes | None = None,
        reasoning: bool = False,
    ) -> None:
        """Push text on (sanitized unless said); `utf8`: its UTF-8 if it is the bytes read."""
        if self._reasoning_shown is not None and text and not reasoning:
            # The answer begins after the reasoning shown before it: a paragraph of its own.
            tail, self._reasoning_shown = self._reasoning_shown, None
            self._push("\n" * (2 - len(tail) + len(tail.rstrip("\n"))), t, sanitized=True)
        if self._reasoning_open and text and self.on_reasoning is not None:
            # The answer begins: the reasoning shown apart ends its line first,
            # so that the two do not share one on a terminal.
            self._reasoning_open = False
            self.on_reasoning("\n")
        clean = text if sanitized or not text else self._sanitizer.feed(text)
        if times or clean:
            self.stats.arrived(t, len(clean), times)
        if clean:
            if self._mirror is not None:
                self._mirror.push(utf8 if clean is text else None)
            self.pacer.push(self._segmenter.feed(clean, t), t)

    def _end(self, t: float) -> None:
        try:
            tail = self._utf8.flush()
        except DecodeError as exc:
            self._push(exc.text_before, t)
            self._fail(exc, t)
            return
        self._reason(self._reasoning_sanitizer.flush(), t)
        self._push(tail + self._sanitizer.flush(), t)
        self.pacer.push(self._segmenter.flush(), t)
        self.ended = True

    def _fail(self, error: BaseException, t: float) -> None:
        self._reason(self._reasoning_sanitizer.flush(), t)
        self._push(self._sanitizer.flush(), t)
        self.pacer.push(self._segmenter.flush(), t)
        self.error = error
        self.ended = True
        self._release_all = True

    @property
    def redraws(self) -> bool:
        """Whether this output redraws what it wrote (a Markdown live region on a terminal)."""
        return self._live is not None

    def resize(self, width: int, height: int, *, several: bool = False) -> None:
        """The terminal is now `width`×`height` cells: wrapping follows from the next line,
        Markdown from the next block, the live region from the next frame (`several`:
        after other sizes in between, see `LiveRegion.resize`)."""
        if self._wrap is not None:
            self._wrap.set_width(width)
        if self._markdown is not None:
            if self._markdown_follows:
                self._markdown.set_width(width)
            if self._live is not None:
                self._live.resize(width, height, several=several)
                from .live import live_rows

                self._markdown.live_lines = live_rows(height)

    # --- output ---

    def poll(self, now: float) -> str:
        """The text to write at `now`; "" when nothing is due."""
        self.utf8 = None
        if self.done:
            return ""
        self._now = max(now, self._now)
        arrived = self._segmenter.arrived
        released = self._segmenter.poll(now)
        if released and arrived is not None:
            self.pacer.push(released, arrived)  # due as of its arrival, not of its release
        out, answer = self._render_asides(now) if self._asides else ([], [])
        gated = (
            not (self._release_all or self._drain_once)
            and now < self._last_release + self.frame_interval
        )
        if self._release_all or self._drain_once:
            self._drain_once = False
            units = self.pacer.drain()
        elif gated:
            units = []
        else:
            units = self.pacer.due(now)
        text = self._shown("".join(units), now, gated=gated)
        finished = (
            self.ended
            and not self.pacer.n_waiting
            and not self._segmenter.held
            and not self._held()
        )
        if self._markdown is not None and (text or finished):
            text = self._render_markdown(text, final=finished)
        self.shown_answer = text
        if out:
            self.shown_answer = "".join(answer) + text
            out.append(text)
            text = "".join(out)
        if text:
            self._at_line_start = text.endswith("\n")
        if finished:
            self.done = True
        return text

    def _shown(self, text: str, now: float, *, gated: bool = False) -> str:
        """Due `text`, wrapped if it is, and counted as shown at `now`."""
        if self._wrap is not None and not gated and (text or self._wrap.held):
            if text:
                self._wrapped_at = now
            text = self._render_wrapped(text)
            if self._wrap_release_due(now):
                text += self._wrap.release()
        if text:
            # Frames keep to a grid while they follow one another, as the
            # typewriter's schedule does: a release that comes late by the
            # driver's wake-up does not push every later frame back.
            grid = self._last_release + self.frame_interval
            self._last_release = grid if grid <= now < grid + self.frame_interval else now
            if self._mirror is not None:
                whole = not self.pacer.n_waiting
                self.utf8 = self._mirror.release(self._segmenter.held, whole=whole)
            self.stats.shown(text, now, self.utf8)
        return text

    def _render_asides(self, now: float) -> tuple[list[str], list[str]]:
        """`Writer.print`'s lines waiting, each after the text that came before it: what
        to write, and of it what is the answer's."""
        out: list[str] = []
        answer: list[str] = []
        pending, self._asides = self._asides, []
        for before, aside in pending:
            shown = self._shown(before, now)
            answer.append(self._render_markdown(shown, final=False) if self._markdown else shown)
            out.append(answer[-1])
            done, lines = self._render_aside(aside, after="".join(out))
            if done and self._markdown is None:
                self.stats.shown(done, now)  # a word the wrap held
            answer.append(done)
            out += [done, lines]
        return out, answer

    def _render_aside(self, lines: str, *, after: str) -> tuple[str, str]:
        """`Writer.print`'s lines below the answer so far: a line break first if it ended
        mid-line; in Markdown, the open block committed above them (as whole lines).

        Returns what ends the answer's text so far, and the lines.
        """
        done = ""
        if self._wrap is not None:
            done = self._wrap.flush()
            if self._wrap.col:
                done += self._wrap.feed("\n")
        if self._markdown is not None:
            from .markdown import Frame

            fence = self._markdown.open_fence()  # a code block goes on below the lines
            done = self._frame_text(self._markdown.flush())
            lines = self._frame_text(Frame(committed=tuple(lines.removesuffix("\n").split("\n"))))
            if fence is not None:
                lines += self._frame_text(self._markdown.feed(fence + "\n"))
            return done, lines
        written = after + done
        if not written.endswith("\n") if written else not self._at_line_start:
            lines = "\n" + lines
        return done, lines

    def _render_markdown(self, text: str, *, final: bool) -> str:
        """The Markdown of `text` (and all before it), as what to write to move the screen there."""
        assert self._markdown is not None
        frames = [self._markdown.feed(text)] if text else []
        if final:
            frames.append(self._markdown.flush())
        out = [self._frame_text(frame) for frame in frames]
        if final and self._live is not None:
            out.append(self._live.close())
        return "".join(out)

    def _frame_text(self, frame: Frame) -> str:
        """What to write for a Markdown frame: through the live region, or its finished lines."""
        if self._live is not None:
            return self._live.update(frame.committed, frame.live)
        # Without rich's padding to the width, as the live region writes them
        # (`live._written`): trailing spaces would be junk in a file or a pager.
        return "".join(line.rstrip(" ") + "\n" for line in frame.committed)

    def _render_wrapped(self, text: str) -> str:
        """Wrap the due text, looking at what is queued behind it to see where a word ends."""
        assert self._wrap is not None
        ahead = self.pacer.peek(4 * self._wrap.width)
        if not self.pacer.n_waiting or not ahead or ahead[-1] not in " \t\n":
            ahead += self._segmenter.held
        # `final`: nothing comes after `ahead` (which reaches the end of what
        # waits whenever its last word's end matters: see SoftWrap.feed).
        return self._wrap.feed(text, ahead=ahead, final=self.ended)

    def _held(self) -> str:
        return self._wrap.held if self._wrap is not None else ""

    def _wrap_release_at(self) -> float | None:
        """When a word held at a line's end is to be drawn anyway (an eager wrap); None: never."""
        wrap = self._wrap
        if wrap is None or not wrap.eager or not wrap.held_word:
            return None
        if self.pacer.n_waiting or self._segmenter.held:
            return None  # what comes next settles it
        return self._wrapped_at + self._hold

    def _wrap_release_due(self, now: float) -> bool:
        at = self._wrap_release_at()
        return at is not None and now >= at

    def next_deadline(self) -> float | None:
        """When to poll next; None means nothing will be due until the source speaks."""
        if self.done:
            return None
        if self._drain_once or self._asides:
            return self._now
        if self._release_all or (self.ended and not self.pacer.n_waiting):
            if self._held():  # the last held word, at the next frame
                return max(self._now, self._last_release + self.frame_interval)
            return self._now
        deadline = self.pacer.next_deadline()
        if deadline is not None:
            deadline = max(deadline, self._last_release + self.frame_interval)
        for hold in (self._segmenter.next_deadline(), self._wrap_release_at()):
            if hold is not None and (deadline is None or hold < deadline):
                deadline = max(hold, self._last_release + self.frame_interval)
        return deadline

    def abort(self, now: float) -> str:
        """Stop (Ctrl-C): return what is due at `now` and nothing after it."""
        shown = "" if self.done else "".join(self._render_asides(now)[0])
        return shown + self._abort(now)

    def _abort(self, now: float) -> str:
        text = "" if self.done else "".join(self.pacer.due(max(now, self._now)))
        if self._wrap is not None:
            text = self._wrap.feed(text) + self._wrap.flush()
        if self._markdown is not None and not self.done:
            if text:
                self.stats.shown(text, now)
            text = self._render_markdown(text, final=True)
            self.ended = self.done = True
            return text
        if text:
            self.stats.shown(text, now)
        self.ended = self.done = True
        return text
