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
LLM server is the package `llm_server`.
"""

from __future__ import annotations

from ..sources.replay import ScriptedSource
from .clock import VirtualClock
from .llm_server import Ending, LLMServer, RecordedRequest
from .llm_server import Script as LLMScript
from .pty import PtyResult, run_in_pty
from .sinks import MemorySink, Output, check_sink

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
