"""outstream: stream text, above all a language model's streamed answer, the right way.

import outstream
result = outstream.stream(llm_text_chunks)          # stdout, defaults by sink
print(result.stats.format())
"""

import importlib as _importlib
import typing as _typing

from ._version import __version__

if _typing.TYPE_CHECKING:
    from .api import Result, Writer, astream, stream
    from .clock import Clock, SystemClock, Timing, timing
    from .core.pace import Instant, Pacer, Smooth, Typewriter
    from .core.stats import Stats
    from .errors import DecodeError, OutstreamError, SinkError, SourceError, UsageError
    from .events import Other, Usage
    from .inspection import Inspection, Layer, inspect
    from .iterate import AsyncTextIterator, TextIterator, aiter_text, iter_text
    from .sources.replay import replay

__all__ = [
    "AsyncTextIterator",
    "Clock",
    "DecodeError",
    "Inspection",
    "Instant",
    "Layer",
    "Other",
    "OutstreamError",
    "Pacer",
    "Result",
    "SinkError",
    "Smooth",
    "SourceError",
    "Stats",
    "SystemClock",
    "TextIterator",
    "Timing",
    "Typewriter",
    "Usage",
    "UsageError",
    "Writer",
    "__version__",
    "aiter_text",
    "astream",
    "inspect",
    "iter_text",
    "replay",
    "stream",
    "timing",
]

# Where each public name lives. They are imported on first use (PEP 562), so
# that `outstream --version` and `--help`, which need none of them, start
# without importing the pipeline.
_HOMES = {
    "AsyncTextIterator": ".iterate",
    "Clock": ".clock",
    "DecodeError": ".errors",
    "Inspection": ".inspection",
    "Instant": ".core.pace",
    "Layer": ".inspection",
    "Other": ".events",
    "OutstreamError": ".errors",
    "Pacer": ".core.pace",
    "Result": ".api",
    "SinkError": ".errors",
    "Smooth": ".core.pace",
    "SourceError": ".errors",
    "Stats": ".core.stats",
    "SystemClock": ".clock",
    "TextIterator": ".iterate",
    "Timing": ".clock",
    "Typewriter": ".core.pace",
    "Usage": ".events",
    "UsageError": ".errors",
    "Writer": ".api",
    "aiter_text": ".iterate",
    "astream": ".api",
    "inspect": ".inspection",
    "iter_text": ".iterate",
    "replay": ".sources.replay",
    "stream": ".api",
    "timing": ".clock",
}


def __getattr__(name: str) -> _typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'outstream' has no attribute {name!r}")
    obj = getattr(_importlib.import_module(home, __name__), name)
    if isinstance(obj, type) or callable(obj):
        obj.__module__ = "outstream"  # reprs and docs show the public path, as httpx's do
    globals()[name] = obj
    return obj


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
