"""Compiled `regex` patterns, imported and compiled on first use.

`regex` (for ``\\X``, UAX #29 grapheme clusters) costs start-up time that
``outstream --help`` and plain ASCII text should not pay.
"""

from __future__ import annotations

from typing import Any

__all__ = ["pattern"]

_compiled: dict[str, Any] = {}


def pattern(source: str) -> Any:
    """The compiled `regex` pattern for `source`."""
    compiled = _compiled.get(source)
    if compiled is None:
        import regex

        compiled = _compiled[source] = regex.compile(source)
    return compiled
