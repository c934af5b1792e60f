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
`LLMScript`, `Ending`, `RecordedRequest`) are imported on first use, as is
`RedisServer` (`redis_server`: a real ``redis-server`` for the stream log).
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
    from .redis_server import RedisServer

__all__ = [
    "Ending",
    "LLMScript",
    "LLMServer",
    "MemorySink",
    "Output",
    "PtyResult",
    "RecordedRequest",
    "RedisServer",
    "ScriptedSource",
    "VirtualClock",
    "check_sink",
    "run_in_pty",
]

for _obj in (MemorySink, Output, PtyResult, VirtualClock, check_sink, run_in_pty):
    _obj.__module__ = __name__  # reprs show the public path, as the package's own names do
del _obj

# The servers' names: where each lives, and its name there. They are imported
# on first use (PEP 562): a test that needs a clock or a sink does not import
# an HTTP server and four wire formats.
_SERVER_NAMES = {
    "Ending": (".llm_server", "Ending"),
    "LLMScript": (".llm_server", "Script"),
    "LLMServer": (".llm_server", "LLMServer"),
    "RecordedRequest": (".llm_server", "RecordedRequest"),
    "RedisServer": (".redis_server", "RedisServer"),
}


def __getattr__(name: str) -> Any:
    home = _SERVER_NAMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    obj = getattr(importlib.import_module(home[0], __name__), home[1])
    globals()[name] = obj
    return obj


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
