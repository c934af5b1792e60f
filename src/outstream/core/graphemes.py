"""Cutting text into units that are never split: graphemes, words, lines, chunks.

Theory of operation: a chunk boundary may fall inside a grapheme cluster
(``e`` then U+0301 in the next chunk, half a ZWJ family, one regional
indicator of a flag). By UAX #29 appending text can only extend the *last*
cluster of a string, never re-split an earlier one, so every cluster but the
last is final. The last is held until the next chunk shows whether it goes
on, the stream ends, or `hold` seconds pass with nothing new (so a stalled
source still shows its last character). A cluster ending in LF is final at
once (GB4: always break after a control).

Units are built from final text only. A word is a run of non-space followed
by its whitespace; it is complete once that whitespace is followed by
something, so the trailing word is held with the trailing cluster. A line is
complete at its ``\\n``. A chunk is whatever became final in one feed.

Finding cluster boundaries costs a regex pass (the ``regex`` module's
``\\X``) only for non-ASCII text: in ASCII every character is a cluster but
``\\r\\n``.
"""

from __future__ import annotations

from typing import Literal

from ._lazy_regex import pattern

__all__ = ["UNITS", "Segmenter", "UnitName", "count_graphemes"]

UnitName = Literal["grapheme", "word", "line", "chunk"]
UNITS: tuple[UnitName, ...] = ("grapheme", "word", "line", "chunk")


def _clusters(text: str, pos: int = 0) -> list[str]:
    result: list[str] = pattern(r"\X").findall(text, pos)
    return result


def count_graphemes(text: str) -> int:
    """How many extended grapheme clusters `text` holds (UAX #29)."""
    if text.isascii():
        return len(text) - text.count("\r\n") if "\r" in text else len(text)
    return len(_clusters(text))


def _last_cluster_start(text: str) -> int:
    """Index where the last grapheme cluster of non-empty `text` starts."""
    if text.isascii():
        return len(text) - 2 if text.endswith("\r\n") else len(text) - 1
    # A cluster never spans an LF (GB4/GB5), so segmenting can start after
    # the last one: work stays linear in the chunk, not in the stream.
    start = text.rfind("\n", 0, len(text) - 1) + 1
    return len(text) - len(_clusters(text, start)[-1])


class Segmenter:
    """Final text out of arriving text, cut into units.

    Args:
        unit: what one unit is: ``"grapheme"``, ``"word"``, ``"line"`` or
            ``"chunk"``.
        hold: seconds an unfinished trailing unit is held, after the last
            feed, before it is released anyway.
    """

    def __init__(self, unit: UnitName = "grapheme", *, hold: float = 0.05) -> None:
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
        if hold < 0:
            raise ValueError(f"hold must be >= 0, not {hold!r}")
        self.unit = unit
        self.hold = hold
        self._held = ""
        self._deadline: float | None = None

    @property
    def held(self) -> str:
        """Text received but not yet released."""
        return self._held

    def feed(self, text: str, now: float) -> list[str]:
        """Take arriving text; return the units it completed."""
        if not text:
            return []
        text = self._held + text
        cut = len(text) if text[-1] == "\n" else _last_cluster_start(text)
        final = text[:cut]
        units, rest = self._split(final)
        self._held = rest + text[cut:]
        self._deadline = now + self.hold if self._held else None
        return units

    def poll(self, now: float) -> list[str]:
        """Release what is held if its hold has passed."""
        if self._deadline is not None and now >= self._deadline:
            return self.flush()
        return []

    def flush(self) -> list[str]:
        """End of stream (or hold passed): everything held is final."""
        held, self._held, self._deadline = self._held, "", None
        if not held:
            return []
        units, rest = self._split(held)
        return [*units, rest] if rest else units

    def next_deadline(self) -> float | None:
        return self._deadline

    # --- splitting final text into units ---

    def _split(self, final: str) -> tuple[list[str], str]:
        """Split final text into complete units and an unfinished remainder."""
        if not final:
            return [], ""
        unit = self.unit
        if unit == "chunk":
            return [final], ""
        if unit == "grapheme":
            if final.isascii() and "\r\n" not in final:
                return list(final), ""
            return _clusters(final), ""
        if unit == "line":
            end = final.rfind("\n") + 1
            lines = [line + "\n" for line in final[: end - 1].split("\n")] if end else []
            return lines, final[end:]
        words: list[str] = pattern(r"\S*\s+|\S+").findall(final)
        if not final[-1].isspace():
            return words[:-1], words[-1]
        return words, ""
