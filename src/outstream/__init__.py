"""outstream: stream text, above all a language model's streamed answer, the right way.

import outstream
result = outstream.stream(llm_text_chunks)          # stdout, defaults by sink
print(result.stats.format())
"""

from ._version import __version__
from .api import Result, Writer, astream, stream
from .clock import Clock, SystemClock
from .core.pace import Instant, Pacer, Smooth, Typewriter
from .core.stats import Stats
from .errors import DecodeError, OutstreamError, SinkError, SourceError, UsageError
from .events import Other, Usage
from .sinks.inspect import Inspection, Layer, inspect
from .sources.replay import replay

__all__ = [
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
    "Typewriter",
    "Usage",
    "UsageError",
    "Writer",
    "__version__",
    "astream",
    "inspect",
    "replay",
    "stream",
]

# Reprs and docs show the public path (httpx does the same).
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        _obj.__module__ = "outstream"
del _name, _obj
