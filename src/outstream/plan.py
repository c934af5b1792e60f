"""What outstream does on one output, decided once: `plan(info, options, env)`.

Pure: from what the output is (`sinks.detect.TerminalInfo`, asked once per
output) and the options, every decision that differs from one output to
another — the kind it is handled as, pacing, flushing, escapes, wrapping,
Markdown and its colours, whether the terminal's size is read again after a
resize. `api` builds an output's lane from the plan; `inspection` explains
it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

from .core.escapes import EscapePolicy
from .core.pace import Instant, Pacer, Smooth
from .core.pipeline import MarkdownOutput
from .core.theme import Theme, ThemeMode, background_of
from .options import Options
from .sinks.detect import (
    DEFAULT_FLUSH,
    ColorSystem,
    FlushPolicy,
    SinkKind,
    TerminalInfo,
    colors_of,
)

__all__ = ["DEFAULT_ESCAPES", "Plan", "default_escapes", "default_pace", "plan", "theme_of"]

# The escape policy an output gets when none is asked for: a file keeps the
# text as received (it is a record, not a screen); anything that may end on
# a screen is stripped.
DEFAULT_ESCAPES: Mapping[SinkKind, EscapePolicy] = {SinkKind.FILE: "raw"}
_FALLBACK_ESCAPES: EscapePolicy = "strip"


def default_escapes(kind: SinkKind) -> EscapePolicy:
    """The escape policy an output of `kind` gets when none is asked for."""
    return DEFAULT_ESCAPES.get(kind, _FALLBACK_ESCAPES)


def default_pace(terminal: bool) -> Pacer:
    """The pacing used when none is given: `Smooth()` on a terminal (or in an app, which
    is a display too), `Instant()` elsewhere."""
    return Smooth() if terminal else Instant()


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What outstream does on one output.

    Attributes:
        kind: what the output is handled as (`TerminalInfo.handled_kind`).
        terminal: whether it shows on a terminal (pacing and frames make sense).
        pacer: this output's own pacer (a copy of one given: it holds state).
        flush: when its writes are flushed.
        escapes: what becomes of escape sequences in the text.
        frame_interval: seconds between frames; 0 writes as text comes.
        wrap_width: the width plain text is wrapped at; None, not wrapped.
        markdown: how Markdown is shown; None passes the source through.
        notebook: Markdown shown in a notebook's display, updated in place.
        follows_size: the terminal's size is read again after a resize
            (wrapping at its width, or a live region).
        color_system: the colours the output shows.
        width, height: the terminal's size, or what stands in for it.
    """

    kind: SinkKind
    terminal: bool
    pacer: Pacer
    flush: FlushPolicy
    escapes: EscapePolicy
    frame_interval: float
    wrap_width: int | None
    markdown: MarkdownOutput | None
    notebook: bool
    follows_size: bool
    color_system: ColorSystem
    width: int
    height: int


def plan(info: TerminalInfo, options: Options, env: Mapping[str, str]) -> Plan:
    """The plan for an output that `info` describes, with `options`, in `env`."""
    kind = info.handled_kind
    terminal = info.is_terminal
    # An app is a display, not a terminal: paced and shown in frames like one.
    display = terminal or kind is SinkKind.APP
    pace = options.pace
    assert pace is None or not isinstance(pace, str | type)  # (Options made it a pacer)
    pacer = default_pace(display) if pace is None else copy.deepcopy(pace)
    animated = display or not isinstance(pacer, Instant)
    markdown = _markdown(info, kind, options, env) if options.render == "markdown" else None
    # Markdown is wrapped by its renderer, or passes through unchanged.
    wrap_width = None if options.render == "markdown" else _wrap_width(info, kind, options)
    follows = wrap_width is not None and options.wrap in (None, True)
    return Plan(
        kind=kind,
        terminal=terminal,
        pacer=pacer,
        flush=DEFAULT_FLUSH[kind]
        if options.flush is None or options.flush == "auto"
        else options.flush,
        escapes=options.escapes or default_escapes(kind),
        frame_interval=1.0 / options.fps if animated else 0.0,
        wrap_width=wrap_width,
        markdown=markdown,
        notebook=options.render == "markdown" and kind is SinkKind.JUPYTER,
        follows_size=(
            kind is SinkKind.TTY
            and (follows or options.render == "markdown")
            # COLUMNS says how wide: it stays so.
            and not env.get("COLUMNS", "").strip().isdigit()
        ),
        color_system=info.color_system,
        width=info.width,
        height=info.height,
    )


def _wrap_width(info: TerminalInfo, kind: SinkKind, options: Options) -> int | None:
    """The width to wrap at (None: no wrapping).

    By default words are wrapped on a real terminal only (not in a notebook,
    which wraps by itself, nor into a pipe or file); ``wrap=N`` wraps at N
    anywhere, ``wrap=False`` never.
    """
    wrap = options.wrap
    if wrap is False:
        return None
    if wrap is not None and wrap is not True:
        return int(wrap)
    if kind is not SinkKind.TTY and wrap is None:
        return None
    return info.width


def _markdown(
    info: TerminalInfo, kind: SinkKind, options: Options, env: Mapping[str, str]
) -> MarkdownOutput | None:
    """How an output shows Markdown, or None to pass the Markdown source through.

    On a terminal: rendered, with a live region as tall as the screen. Off a
    terminal (a pipe wants the source), passed through unchanged unless
    ``color="always"``; then rendered with finished blocks only.
    ``NO_COLOR`` and ``color="never"`` render without colour. An app renders
    the Markdown itself: it gets the source (cut where it is safe, by
    `iter_text`).
    """
    if kind is SinkKind.APP:
        return None
    given = options.wrap if type(options.wrap) is int else None  # wrap=N: render at N
    colors = colors_of(env, terminal=True, jupyter=info.kind is SinkKind.JUPYTER)
    no_color = options.color == "never" or bool(env.get("NO_COLOR"))  # (whatever "always" says)
    palette = None if colors == "none" or no_color else colors
    theme = theme_of(options.theme, env)
    if kind is SinkKind.TTY:
        return MarkdownOutput(
            width=given or info.width,
            height=info.height,
            color_system=palette,
            hyperlinks=options.hyperlinks,
            screen_width=info.width if given else None,
            theme=theme,
            code_theme=options.code_theme,
            copy_code=options.copy_code,
        )
    if options.color == "always":
        return MarkdownOutput(
            width=given or info.width,
            height=None,
            color_system=None if no_color else palette or "standard",
            hyperlinks=options.hyperlinks,
            theme=theme,
            code_theme=options.code_theme,
        )
    return None


def theme_of(mode: ThemeMode, env: Mapping[str, str]) -> Theme:
    """The theme for `mode`: "auto" is the background ``COLORFGBG`` says, else dark."""
    if mode != "auto":
        return mode
    return background_of(env.get("COLORFGBG")) or "dark"
