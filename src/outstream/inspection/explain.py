"""From facts to situations and their explanations, and what outstream would do
(`plan.plan` with default options, in words)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..core.pace import Instant, Pacer, Smooth, Typewriter
from ..options import DEFAULT_FPS, Options
from ..plan import plan
from ..sinks.detect import (
    SinkKind,
    TerminalInfo,
)
from .values import _TEXT_CHUNK_SIZE, FLUSH_WORDS, WHY, Layer, PlanSummary, Situation

# --- from facts to situations ---


@dataclass(frozen=True, slots=True)
class _Buffering:
    """How a chain of layers holds output back, read from its `Layer` details."""

    text: bool
    buffered: bool
    raw: bool
    memory: bool
    line_buffering: bool
    write_through: bool
    chunk_bytes: int  # how much the text layer collects before passing it down
    held_bytes: int | None  # how much collects before it reaches the descriptor

    @classmethod
    def of(cls, layers: Sequence[Layer]) -> _Buffering:
        text = next((la for la in layers if la.get("line_buffering") is not None), None)
        sizes = [
            la.get("buffer_size") for la in layers if any(k == "buffer_size" for k, _ in la.details)
        ]
        buffer_size = next((s for s in sizes if isinstance(s, int)), None)
        write_through = text is not None and text.get("write_through") is True
        chunk = _TEXT_CHUNK_SIZE if text is None else text.get("chunk_size", _TEXT_CHUNK_SIZE)
        chunk_bytes = chunk if isinstance(chunk, int) else _TEXT_CHUNK_SIZE
        held = [buffer_size] if isinstance(buffer_size, int) else []
        if text is not None and not write_through:
            held.append(chunk_bytes)
        return cls(
            text=text is not None,
            buffered=bool(sizes),
            raw=any(la.get("closefd") is not None for la in layers),
            memory=bool(layers) and layers[-1].name in ("StringIO", "BytesIO"),
            line_buffering=text is not None and text.get("line_buffering") is True,
            write_through=write_through,
            chunk_bytes=chunk_bytes,
            held_bytes=max(held) if held else None,
        )


_BLOCK_BUFFERED: Mapping[SinkKind, Situation] = {
    SinkKind.PIPE: Situation.PIPE,
    SinkKind.FILE: Situation.FILE,
    SinkKind.CHARDEV: Situation.CHARDEV,
    SinkKind.SOCKET: Situation.SOCKET,
}


def _situations(
    kind: SinkKind,
    terminal: TerminalInfo,
    buffering: _Buffering,
    env: Mapping[str, str],
    *,
    has_fd: bool,
) -> list[Situation]:
    """The situations that hold for a stream that can be written to."""
    found: list[Situation] = []
    if kind is SinkKind.JUPYTER:
        found.append(Situation.JUPYTER)
    elif kind is SinkKind.MEMORY or (not has_fd and buffering.memory):
        found.append(Situation.MEMORY)
    elif not has_fd and not buffering.raw:
        found.append(Situation.UNKNOWN)
    elif buffering.raw and not buffering.buffered:
        found.append(Situation.UNBUFFERED)
    elif kind is SinkKind.TTY:
        if buffering.line_buffering or not buffering.text:
            found.append(Situation.TTY)
        elif buffering.write_through:
            found.append(Situation.WRITE_THROUGH)
        else:
            found.append(Situation.TTY_NOT_LINE_BUFFERED)
    elif buffering.line_buffering:
        found.append(Situation.LINE_BUFFERED)
    elif kind in _BLOCK_BUFFERED:
        found.append(_BLOCK_BUFFERED[kind])
        if buffering.write_through:
            found.append(Situation.WRITE_THROUGH)
    else:
        found.append(Situation.UNKNOWN)
    if terminal.is_terminal and kind not in (SinkKind.TTY, SinkKind.JUPYTER):
        found.append(Situation.FORCED_TERMINAL)
    if kind is SinkKind.TTY and not terminal.is_terminal:
        found.append(Situation.NOT_TERMINAL)
    if terminal.is_terminal and kind is not SinkKind.JUPYTER:
        if env.get("NO_COLOR"):
            found.append(Situation.NO_COLOR)
        if terminal.dumb:
            found.append(Situation.DUMB)
    return found


def _size_words(n_bytes: int | None) -> str:
    if n_bytes is None:
        return "a buffer's worth"
    if n_bytes % 1024 == 0:
        return f"{n_bytes // 1024} KiB"
    return f"{n_bytes:,} bytes"


def _explain(
    situations: Sequence[Situation], buffering: _Buffering | None, **facts: str
) -> tuple[str, ...]:
    if buffering is not None:
        facts["held"] = _size_words(buffering.held_bytes)
        facts["chunk"] = _size_words(buffering.chunk_bytes)
    return tuple(WHY[s].format(**facts) for s in situations)


# --- what outstream would do ---


def _pace_words(pacer: Pacer) -> str:
    if isinstance(pacer, Smooth):
        return f"smooth({pacer.lag:g} s)"
    if isinstance(pacer, Typewriter):
        if pacer.delay is not None:
            return f"typewriter({pacer.delay:g} s a unit)"
        return f"typewriter({pacer.cps:g} cps)"
    if isinstance(pacer, Instant):
        return "instant"
    return repr(pacer)


def _would(info: TerminalInfo, env: Mapping[str, str]) -> PlanSummary:
    """What outstream would do with default options: its `plan.plan`, in words."""
    the_plan = plan(info, Options(), env)
    return PlanSummary(
        kind=the_plan.kind,
        pace=_pace_words(the_plan.pacer),
        flush=the_plan.flush,
        flush_text=FLUSH_WORDS[the_plan.flush].format(fps=DEFAULT_FPS),
        escapes=the_plan.escapes,
        color_system=the_plan.color_system,
        width_cells=the_plan.width,
    )


def _forcing_variable(env: Mapping[str, str]) -> str:
    # The order is is_terminal's: TTY_COMPATIBLE decides before FORCE_COLOR.
    return "TTY_COMPATIBLE=1" if env.get("TTY_COMPATIBLE") == "1" else "FORCE_COLOR"
