"""The options of a stream, declared once: `Options`, what `stream`, `astream`, `Writer`
and the command line take besides the source and the outputs, checked when made.

`StreamOptions` names the same keywords for type checkers (``**options:
Unpack[StreamOptions]``), so the three entry points share one list.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, TypedDict

from .core.escapes import ESCAPE_POLICIES, EscapePolicy
from .core.graphemes import UNITS, UnitName
from .core.pace import Instant, Pacer, Smooth
from .core.pipeline import ReasoningMode
from .core.theme import THEMES, ThemeMode
from .core.utf8 import DecodeErrors
from .errors import UsageError
from .sinks.detect import FLUSH_POLICIES, FlushPolicy
from .sinks.stream import EncodingErrors

__all__ = [
    "DEFAULT_FPS",
    "ColorMode",
    "Options",
    "PaceName",
    "RenderMode",
    "StreamOptions",
    "option_names",
    "options_of",
]

DEFAULT_FPS = 60.0

RenderMode = Literal["plain", "markdown"]
PaceName = Literal["instant", "smooth"]
ColorMode = Literal["auto", "always", "never"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """Everything `stream`, `astream` and `Writer` take besides the source and the outputs."""

    pace: Pacer | PaceName | type | None = None
    unit: UnitName = "grapheme"
    escapes: EscapePolicy | None = None
    errors: DecodeErrors = "replace"
    fps: float = DEFAULT_FPS
    hold: float = 0.05
    terminal: bool | None = None
    flush: FlushPolicy | Literal["auto"] | None = None
    encoding: str = "utf-8"
    encoding_errors: EncodingErrors = "replace"
    fsync: bool = False
    keep_text: bool = True
    count_text: bool = True
    wrap: bool | int | None = None
    reasoning: ReasoningMode | Any = "hide"
    render: RenderMode = "plain"
    color: ColorMode = "auto"
    hyperlinks: bool = False
    theme: ThemeMode = "auto"
    code_theme: str | None = None
    copy_code: bool = False
    save_deltas: str | os.PathLike[str] | None = None
    record: str | os.PathLike[str] | None = None
    on_reasoning: Callable[[str], None] | None = None
    env: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "pace", _pacer(self.pace))
        if self.flush == "auto":
            object.__setattr__(self, "flush", None)
        if self.unit not in UNITS:
            raise UsageError(f"unit must be one of {', '.join(UNITS)}, not {self.unit!r}")
        if self.escapes is not None and self.escapes not in ESCAPE_POLICIES:
            raise UsageError(
                f"escapes must be one of {', '.join(ESCAPE_POLICIES)}, not {self.escapes!r}"
            )
        if self.flush is not None and self.flush not in FLUSH_POLICIES:
            raise UsageError(
                f"flush must be one of {', '.join(FLUSH_POLICIES)}, not {self.flush!r}"
            )
        if not self.fps > 0:
            raise UsageError(f"fps must be positive, not {self.fps!r}")
        if self.reasoning not in ("hide", "show", "stderr") and not callable(
            getattr(self.reasoning, "write", None)
        ):
            raise UsageError(
                "reasoning must be 'hide', 'show', 'stderr' or a file to write it to, "
                f"not {self.reasoning!r}"
            )
        if self.render not in ("plain", "markdown"):
            raise UsageError(f"render must be 'plain' or 'markdown', not {self.render!r}")
        if self.color not in ("auto", "always", "never"):
            raise UsageError(f"color must be 'auto', 'always' or 'never', not {self.color!r}")
        if self.theme not in THEMES:
            raise UsageError(f"theme must be 'auto', 'dark' or 'light', not {self.theme!r}")
        if self.code_theme is not None:
            from .core.codeview import check_code_theme

            try:
                check_code_theme(self.code_theme)
            except ValueError as exc:
                raise UsageError(f"code_theme: {exc}") from None
        if self.copy_code and self.render != "markdown":
            raise UsageError(
                "copy_code copies the last fenced code block of rendered Markdown: "
                "give render='markdown' too"
            )
        if not isinstance(self.wrap, bool) and self.wrap is not None and self.wrap < 1:
            raise UsageError(f"wrap must be a width of at least 1 cell, not {self.wrap!r}")


_PACES: dict[str, Callable[[], Pacer]] = {"instant": Instant, "smooth": Smooth}


def _pacer(pace: object) -> Pacer | None:
    """`pace` as a pacer: one given, one named (``"smooth"``), or a class's default one."""
    if isinstance(pace, str):
        if pace not in _PACES:
            raise UsageError(
                f"pace must be 'instant', 'smooth' or a pacer (Instant(), Typewriter(cps=N), "
                f"Smooth(lag=S)), not {pace!r}"
            )
        return _PACES[pace]()
    if isinstance(pace, type):
        try:
            return _pacer(pace())  # Smooth: Smooth()
        except (TypeError, ValueError) as exc:
            raise UsageError(
                f"pace={pace.__name__}: give one, e.g. {pace.__name__}(...) ({exc})"
            ) from None
    if pace is not None and not callable(getattr(pace, "due", None)):
        raise UsageError(
            "pace must be 'instant', 'smooth' or a pacer (Instant(), Typewriter(cps=N), "
            f"Smooth(lag=S)), not {pace!r}"
        )
    return pace  # type: ignore[return-value]


class StreamOptions(TypedDict, total=False):
    """The keywords of `stream`, `astream` and `Writer`: `Options`' fields (see `stream`
    for what each means; `Options` holds their defaults)."""

    pace: Pacer | PaceName | type | None
    unit: UnitName
    escapes: EscapePolicy | None
    errors: DecodeErrors
    fps: float
    hold: float
    terminal: bool | None
    flush: FlushPolicy | Literal["auto"] | None
    encoding: str
    encoding_errors: EncodingErrors
    fsync: bool
    wrap: bool | int | None
    reasoning: ReasoningMode | Literal["stderr"] | Any
    render: RenderMode
    color: ColorMode
    hyperlinks: bool
    theme: ThemeMode
    code_theme: str | None
    copy_code: bool
    save_deltas: str | os.PathLike[str] | None
    record: str | os.PathLike[str] | None
    keep_text: bool
    count_text: bool
    on_reasoning: Callable[[str], None] | None
    env: Mapping[str, str] | None


def option_names() -> frozenset[str]:
    """The names `Options` takes (what `StreamOptions` must name too)."""
    return frozenset(f.name for f in fields(Options))


def options_of(given: Mapping[str, Any], *, caller: str) -> Options:
    """`Options` from an entry point's keywords; a name it does not take is a TypeError
    that says which it meant, in the caller's name."""
    unknown = sorted(set(given) - option_names())
    if unknown:
        import difflib

        name = unknown[0]
        close = difflib.get_close_matches(name, sorted(option_names()), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TypeError(f"{caller}() got an unexpected keyword argument {name!r}{hint}")
    return Options(**given)
