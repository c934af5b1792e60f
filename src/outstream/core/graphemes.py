"""Cutting text into units that are never split: graphemes, words, lines, chunks.

Theory of operation: a chunk boundary may fall inside a grapheme cluster
(``e`` then U+0301 in the next chunk, half a ZWJ family, one regional
indicator of a flag). By UAX #29 appending text can only extend the *last*
cluster of a string, never re-split an earlier one, so every cluster but the
last is final.

The last one is held back only where its growing would change what a
terminal shows (`HOLD_RULES`): a lone regional indicator (the next one may
make it a flag), an emoji (a skin tone, VS15/VS16 or ZWJ may still change
its glyph and width), a conjoining Hangul jamo, a virama before a possible
consonant. It is held until the next chunk shows how it goes on, the stream
ends, or `hold` seconds pass with nothing new. Anything else is released at
once: a combining mark that arrives later is drawn by the terminal on the
cell before it (and takes no cell of its own), so ``e`` then U+0301 shows
the same as ``é`` sent whole, and a chunk's text is never late for the sake
of an accent that almost never comes.

Units are built from released text. A word is a run of non-space followed
by its whitespace; it is complete once that whitespace is followed by
something, so the trailing word is held (a newline completes it). A line is
complete at its ``\\n``. A chunk is whatever became final in one feed.
Grapheme units are the clusters of the whole text, segmented on from the
last released cluster; the one difference a chunking can make is that a
cluster whose start was released before the rest came is two units (``e``,
then U+0301).

Counting clusters (and words) is `counts.TextCounter`'s, imported only when asked.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from typing import Literal, NamedTuple, overload

from ._lazy_regex import pattern
from .clusters import LAST_CERTAIN_BOUNDARY, MAX_HELD_CHARS, clusters, last_cluster_start

__all__ = ["HOLD_RULES", "UNITS", "HoldRule", "Segmenter", "UnitName", "count_graphemes"]

UnitName = Literal["grapheme", "word", "line", "chunk"]
UNITS: tuple[UnitName, ...] = ("grapheme", "word", "line", "chunk")


# --- what a trailing cluster may still become ---


class HoldRule(NamedTuple):
    """A kind of trailing grapheme cluster that text still to come may change on screen.

    ``tail`` is a `regex` pattern for the end of such a cluster, ``last``
    the classes (inside a `regex` ``[...]``) its last character is in;
    ``rules`` are the UAX #29 rules by which what follows joins it;
    ``shows`` says what a terminal would draw if the cluster were written
    before its continuation.
    """

    name: str
    rules: str
    tail: str
    last: str
    shows: str


HOLD_RULES: tuple[HoldRule, ...] = (
    HoldRule(
        name="regional indicator",
        rules="GB12, GB13",
        # A lone one: the cluster was segmented from a certain boundary, so
        # an odd run of them ends in a cluster of one.
        tail=r"(?<!\p{GCB=RI})\p{GCB=RI}",
        last=r"\p{GCB=RI}",
        shows="a letter in a box, where the pair would be one flag (🇯 then 🇵 for 🇯🇵)",
    ),
    HoldRule(
        name="emoji",
        rules="GB9, GB11",
        tail=r"\p{Extended_Pictographic}\p{GCB=Extend}*\u200d?",
        last=r"\p{Extended_Pictographic}\p{GCB=Extend}\u200d",
        shows="the bare pictograph, where a skin tone (U+1F3FB-U+1F3FF), VS16 or VS15 "
        "(U+FE0F, U+FE0E: emoji or text presentation, two cells or one) would change "
        "it, or ZWJ join it with the next pictograph into one glyph (👩, then ZWJ 💻: 👩\u200d💻)",
    ),
    HoldRule(
        name="Hangul jamo",
        rules="GB6, GB7, GB8",
        # Only conjoining jamo: in NFC text (the norm) a precomposed syllable
        # is never followed by a jamo that joins it, since NFC would have
        # composed the two; holding syllables would hold half of all Korean.
        tail=r"[\p{GCB=L}\p{GCB=V}\p{GCB=T}]",
        last=r"\p{GCB=L}\p{GCB=V}\p{GCB=T}",
        shows="loose jamo, where the syllable they compose takes one wide cell",
    ),
    HoldRule(
        name="Indic conjunct",
        rules="GB9c",
        tail=r"\p{InCB=Linker}[\p{InCB=Extend}\p{InCB=Linker}]*",
        last=r"\p{InCB=Linker}\p{InCB=Extend}",
        shows="a consonant with a visible virama, where the next consonant would make a conjunct",
    ),
)
# Left out on purpose: a combining mark (GB9, GB9a: the terminal draws it on
# the previous cell), CR before LF (GB3: the same cursor movement either
# way), a Prepend character (GB9b: a cell of its own either way), and the
# keycap bases 0-9, # and * (VS16 and U+20E3 may follow them, but holding
# every digit for that would hold most numbers).

_MAY_GROW = "(?:" + "|".join(f"(?:{rule.tail})" for rule in HOLD_RULES) + r")\Z"
_MAY_END = "[" + "".join(rule.last for rule in HOLD_RULES) + "]"

# Blocks where no character can end a cluster that may grow (none is in
# _MAY_END; a test checks each against `regex`): the last character of most
# chunks is answered for without importing `regex` (25 ms, at the first
# chunk that ends beyond ASCII). Latin and its extensions (but © and ®,
# which are pictographs), Greek, Cyrillic, Armenian, typographic punctuation,
# CJK punctuation, kana, ideographs, Hangul syllables, full-width forms.
_NEVER_END = (
    (0x0000, 0x00A8),
    (0x00AA, 0x00AD),
    (0x00AF, 0x02FF),
    (0x0370, 0x0482),
    (0x048A, 0x058F),
    (0x1E00, 0x1FFF),
    (0x2010, 0x2027),
    (0x2030, 0x203B),
    (0x3000, 0x3029),
    (0x3041, 0x3096),
    (0x309B, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3),
    (0xFF01, 0xFF9D),
)
_NEVER_END_STARTS = tuple(lo for lo, _ in _NEVER_END)


def _never_ends(char: str) -> bool:
    """`char` is in a block of _NEVER_END."""
    cp = ord(char)
    i = bisect_right(_NEVER_END_STARTS, cp) - 1
    return i >= 0 and cp <= _NEVER_END[i][1]


def _hold_from(before: str, text: str) -> int:
    """Where in `text` the trailing cluster to hold back starts (``len(text)``: none).

    `before` is the end of the text released already, so that a cluster that
    began there is judged whole (a flag whose first half the timer let go).
    """
    n = len(text)
    last = text[-1]
    if _never_ends(last) or pattern(_MAY_END).match(last) is None:
        return n  # the common case: one look at the last character
    joined = _last_cluster(before) + text if n <= MAX_HELD_CHARS else text
    start = last_cluster_start(joined)
    # The cluster alone: the look-behind for a lone regional indicator must
    # not see the pair before it.
    if start is None or pattern(_MAY_GROW).search(joined[start:]) is None:
        return n
    return max(start - (len(joined) - n), 0)


def _last_cluster(tail: str) -> str:
    """The last cluster of a text that ends with `tail` (its last cluster, if it is short)."""
    if not tail:
        return ""
    start = last_cluster_start(tail)
    return tail[start:] if start is not None else ""


class Clusters(Sequence[str]):
    """Final text as grapheme clusters, without cutting it into a string a cluster.

    A pacer counts units and takes some of them at each frame; it need not
    see each one. `len` is the number of clusters; `cut` finds where the
    n-th one after a given place ends. Only the characters that can join a
    neighbour (UAX #29: Extend, ZWJ, SpacingMark, Prepend, regional
    indicators, Hangul jamo, CR) are looked for, with one scan, and only the
    regions around them are segmented with ``\\X``: the rest of the text is
    a cluster a character. So pacing a 5 MB dump costs a scan, not five
    million strings.

    Args:
        text: final text (no cluster of it goes on after it).
        context: the end of the text released before it: a first character
            that continues a cluster there still starts a unit here (that
            cluster's start is already shown).
    """

    __slots__ = ("_joins", "_n", "text")

    def __init__(self, text: str, context: str = "") -> None:
        self.text = text
        self._joins = _join_positions(text, context)  # where a character continues a cluster
        self._n = len(text) - len(self._joins)

    def __len__(self) -> int:
        return self._n

    def cut(self, start: int, n: int) -> int:
        """The index in `text` after `n` clusters from index `start` (a cluster's start)."""
        joins = self._joins
        if not joins:
            return min(start + n, len(self.text))
        first = bisect_left(joins, start)
        end = start + n
        while True:  # each join before the end moves it one character further
            moved = start + n + bisect_left(joins, end) - first
            if moved == end:
                break
            end = moved
        i = bisect_left(joins, end)
        while i < len(joins) and joins[i] == end:  # the end falls inside a cluster: past it
            end += 1
            i += 1
        return min(end, len(self.text))

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        clusters = list(self)
        return clusters[index]

    def __iter__(self) -> Iterator[str]:
        text, start = self.text, 0
        for _ in range(self._n):
            end = self.cut(start, 1)
            yield text[start:end]
            start = end

    def __repr__(self) -> str:
        return f"Clusters({self.text!r})"


def _join_positions(text: str, context: str) -> list[int]:
    """The indices of `text` whose character continues the cluster before it (never 0)."""
    if text.isascii():
        if "\r\n" not in text:
            return []
        return [m.start() + 1 for m in re.finditer("\r\n", text)]
    from .counts import _astral_runs, _the_tables

    tables = _the_tables()
    runs = [m.span() for m in tables.runs.finditer(text)]
    if any(c >= "\U00010000" for c in tables.astral) and not text.isascii():
        utf8 = text.encode("utf-8", "surrogatepass")
        if b"\xf0" in utf8 or any(lead in utf8 for lead in (b"\xf1", b"\xf2", b"\xf3", b"\xf4")):
            runs = sorted(runs + _astral_runs(text, utf8, tables.astral))
    if not runs and not context:
        return []
    # Each run of joiners is segmented with a character on either side: a
    # character outside the set joins nothing but a joiner beside it.
    regions: list[tuple[int, int]] = []
    for a, b in runs:
        lo, hi = max(a - 1, 0), min(b + 1, len(text))
        if regions and lo <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(hi, regions[-1][1]))
        else:
            regions.append((lo, hi))
    if context and (not regions or regions[0][0] > 0):
        regions.insert(0, (0, min(1, len(text))))
    joins: list[int] = []
    for a, b in regions:
        before = context if a == 0 else ""
        pos = a - len(before)
        for cluster in clusters(before + text[a:b]):
            end = pos + len(cluster)
            joins.extend(range(max(pos + 1, 1), end))
            pos = end
    return joins


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
        self._arrived: float | None = None
        self._deadline: float | None = None
        # The end of the text released so far, when it is not ASCII: a
        # cluster there may go on in what comes next (e.g. a consonant, then
        # a virama and a consonant, GB9c), so what comes next is segmented
        # and judged in its context.
        self._before = ""

    @property
    def held(self) -> str:
        """Text received but not yet released."""
        return self._held

    @property
    def arrived(self) -> float | None:
        """When the held text arrived (its last part); None if nothing is held.

        Units the hold releases are pushed on with this time, not the
        release's: they were there to be shown since then.
        """
        return self._arrived

    def feed(self, text: str, now: float) -> Sequence[str]:
        """Take arriving text; return the units it completed."""
        if not text:
            return []
        text = self._held + text
        # A newline ends every cluster (UAX #29 GB4) and every unit.
        cut = len(text) if text[-1] == "\n" else _hold_from(self._before, text)
        units, rest = self._split(text[:cut])
        self._released(text, cut - len(rest))
        self._held = rest + text[cut:]
        if self._held:
            self._arrived, self._deadline = now, now + self.hold
        else:
            self._arrived = self._deadline = None
        return units

    def poll(self, now: float) -> Sequence[str]:
        """Release what is held if its hold has passed."""
        if self._deadline is not None and now >= self._deadline:
            return self.flush()
        return []

    def flush(self) -> Sequence[str]:
        """End of stream (or hold passed): everything held is final."""
        held, self._held = self._held, ""
        self._arrived = self._deadline = None
        if not held:
            return []
        units, rest = self._split(held)
        self._released(held, len(held))
        return [*units, rest] if rest else units

    def next_deadline(self) -> float | None:
        return self._deadline

    # --- splitting final text into units ---

    def _released(self, text: str, end: int) -> None:
        """``text[:end]`` went out: keep its end, if a cluster there may go on."""
        if end <= 0:
            return
        keep = MAX_HELD_CHARS + 1
        if text[end - 1].isascii():
            # After ASCII, what follows segments the same with or without it.
            self._before = ""
        elif end < keep:
            self._before = (self._before + text[:end])[-keep:]
        else:
            self._before = text[end - keep : end]

    def _split(self, final: str) -> tuple[Sequence[str], str]:
        """Split final text into complete units and an unfinished remainder."""
        if not final:
            return [], ""
        unit = self.unit
        rest = ""
        units: Sequence[str]
        if unit == "chunk":
            units = [final]
        elif unit == "grapheme":
            units = self._graphemes(final)
        elif unit == "line":
            end = final.rfind("\n") + 1
            units = [line + "\n" for line in final[: end - 1].split("\n")] if end else []
            rest = final[end:]
        else:
            words: list[str] = pattern(r"\S*\s+|\S+").findall(final)
            if final[-1] != "\n":
                # The last word may go on, and so may the whitespace after
                # it: it is complete once something follows (a newline
                # completes it at once).
                rest = words.pop()
            units = words
        return units, rest

    def _graphemes(self, final: str) -> Sequence[str]:
        # The final text's clusters, taken apart only as they are shown.
        return Clusters(final, _last_cluster(self._before))


def warm_up(*, paced: bool) -> None:
    """Do now what the first non-ASCII text would wait for: `regex` and its patterns, and for
    paced grapheme units the joiner tables (tens of milliseconds in all)."""
    for source in (r"\X", LAST_CERTAIN_BOUNDARY, _MAY_END, _MAY_GROW):
        pattern(source)
    if paced:
        from .counts import _the_tables

        _the_tables()


def count_graphemes(text: str) -> int:
    """How many extended grapheme clusters `text` holds (UAX #29)."""
    from .counts import count_graphemes as count

    return count(text)
