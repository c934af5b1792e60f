"""A testing kit for code that streams: virtual time, scripted sources, a recording sink.

With these, a test covers minutes of streaming in milliseconds and asserts
exact times::

    clock = VirtualClock()
    sink = MemorySink(clock)
    source = ScriptedSource([(0.0, "Hello, "), (0.5, "world")], clock=clock)
    outstream.stream(source, sink, pace=outstream.Typewriter(cps=10), clock=clock)
    assert sink.writes[0] == (0.0, "H")

The kit, one concept a module: `clock` (`VirtualClock`), `sinks`
(`MemorySink`, the `check_sink` conformance suite), `pty` (`run_in_pty`);
`ScriptedSource` is the replay's (`outstream.sources.replay`). The loopback
LLM server is the package `llm_server`; its names here (`LLMServer`,
`LLMScript`, `Ending`, `RecordedRequest`) are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..sources.replay import ScriptedSource
from .clock import VirtualClock
from .sinks import MemorySink, Output, check_sink
from .terminal import PtyResult, run_in_pty

if TYPE_CHECKING:
    from .llm_server import Ending, LLMServer, RecordedRequest
    from .llm_server import Script as LLMScript

__all__ = [
    "Ending",
    "LLMScript",
    "LLMServer",
    "MemorySink",
    "Output",
    "PtyResult",
    "RecordedRequest",
    "ScriptedSource",
    "VirtualClock",
    "check_sink",
    "run_in_pty",
]

for _obj in (MemorySink, Output, PtyResult, VirtualClock, check_sink, run_in_pty):
    _obj.__module__ = __name__  # reprs show the public path, as the package's own names do
del _obj

# The loopback LLM server's names, by their names there. They are imported on
# first use (PEP 562): a test that needs a clock or a sink does not import an
# HTTP server and four wire formats.
_LLM_SERVER_NAMES = {
    "Ending": "Ending",
    "LLMScript": "Script",
    "LLMServer": "LLMServer",
    "RecordedRequest": "RecordedRequest",
}


def __getattr__(name: str) -> Any:
    home_name = _LLM_SERVER_NAMES.get(name)
    if home_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    obj = getattr(importlib.import_module(".llm_server", __name__), home_name)
    globals()[name] = obj
    return obj


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
