"""Where grapheme clusters (UAX #29) begin and end, found with `regex`: the classes of
characters that may join a neighbour, and the last certain boundary of a text.

Shared by the segmenter (`graphemes`) and the counter (`counts`).
"""

from __future__ import annotations

from ._lazy_regex import pattern

__all__ = [
    "CERTAIN_PAIR",
    "JOINS_NEXT",
    "JOINS_PREVIOUS",
    "LAST_CERTAIN_BOUNDARY",
    "MAX_HELD_CHARS",
    "clusters",
    "last_cluster_start",
]


def clusters(text: str) -> list[str]:
    """The extended grapheme clusters of `text` (`regex`'s ``\\X``)."""
    result: list[str] = pattern(r"\X").findall(text)
    return result


# A cluster longer than this is not held: no emoji, flag, jamo or conjunct
# sequence is, and a run of a hundred combining marks must not be copied on
# every feed.
MAX_HELD_CHARS = 32

# Characters that may join the character after them in one cluster (UAX #29
# GB3, GB6-GB8, GB9b, GB9c, GB11-GB13), and those that may join the one
# before (GB6-GB9a, GB12-GB13). After a character not of the first kind and
# before one not of the second there is a boundary, whatever came before:
# every joining rule needs one of them on its side, and the context that
# GB9c, GB11 and GB12/13 look back on is made of them too.
JOINS_NEXT = (
    r"\p{GCB=CR}\p{GCB=Prepend}\p{GCB=L}\p{GCB=V}\p{GCB=T}\p{GCB=LV}\p{GCB=LVT}"
    r"\p{GCB=RI}\p{GCB=ZWJ}\p{InCB=Linker}\p{InCB=Extend}"
)
JOINS_PREVIOUS = (
    r"\p{GCB=LF}\p{GCB=Extend}\p{GCB=ZWJ}\p{GCB=SpacingMark}"
    r"\p{GCB=L}\p{GCB=V}\p{GCB=T}\p{GCB=LV}\p{GCB=LVT}\p{GCB=RI}"
)
CERTAIN_PAIR = rf"[^{JOINS_NEXT}][^{JOINS_PREVIOUS}]"
LAST_CERTAIN_BOUNDARY = rf"(?r)[^{JOINS_NEXT}](?=[^{JOINS_PREVIOUS}])"


def last_cluster_start(
    text: str, end: int | None = None, limit: int = MAX_HELD_CHARS
) -> int | None:
    """Where the last cluster of ``text[:end]`` (not empty) starts, if within `limit` characters.

    `text` must start at a cluster boundary. Only what follows the last
    certain boundary is segmented, so the work does not grow with `text`.
    """
    n = len(text) if end is None else end
    window = max(n - limit - 1, 0)
    found = pattern(LAST_CERTAIN_BOUNDARY).search(text, window, n)
    if found is None and window > 0:
        return None
    start = found.end() if found is not None else 0
    cut = n - len(clusters(text[start:n])[-1])
    return cut if n - cut <= limit else None
