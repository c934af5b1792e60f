"""A loopback LLM server for tests: a scripted answer in the providers' own wire formats.

`LLMServer` plays a `Script` over HTTP on 127.0.0.1 as OpenAI (Chat
Completions, Responses), Anthropic (Messages) and Ollama answer, and records
each request (`RecordedRequest`) and how its response ended (`Ending`).
"""

from __future__ import annotations

from .server import DEFAULT_MODEL, Ending, Failure, LLMServer, RecordedRequest, Script, Stop

__all__ = ["DEFAULT_MODEL", "Ending", "Failure", "LLMServer", "RecordedRequest", "Script", "Stop"]
