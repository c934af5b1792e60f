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

Counting clusters (`GraphemeCounter`) never segments all of the text: only
a few kinds of character can join a cluster with a neighbour (UAX #29: CR,
Extend, ZWJ, SpacingMark, Prepend, regional indicators, Hangul jamo and
syllables), so a text has ``len(text)`` clusters less one for each join,
and joins happen only in the short runs around such characters. One scan
finds them; ``\\X`` segments just those runs.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from ._lazy_regex import pattern

__all__ = [
    "HOLD_RULES",
    "UNITS",
    "GraphemeCounter",
    "HoldRule",
    "Segmenter",
    "UnitName",
    "count_graphemes",
]

UnitName = Literal["grapheme", "word", "line", "chunk"]
UNITS: tuple[UnitName, ...] = ("grapheme", "word", "line", "chunk")


def _clusters(text: str) -> list[str]:
    result: list[str] = pattern(r"\X").findall(text)
    return result


# --- what a trailing cluster may still become ---


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldRule:
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
        "it, or ZWJ join it with the next pictograph into one glyph (👩 then ‍💻 for 👩‍💻)",
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

# A cluster longer than this is not held: no emoji, flag, jamo or conjunct
# sequence is, and a run of a hundred combining marks must not be copied on
# every feed.
_MAX_HELD_CHARS = 32

# Characters that may join the character after them in one cluster (UAX #29
# GB3, GB6-GB8, GB9b, GB9c, GB11-GB13), and those that may join the one
# before (GB6-GB9a, GB12-GB13). Between a character of neither the first nor
# ... the second kind there is a boundary whatever came before: every other
# rule needs one of them on its side, and the context that GB9c, GB11 and
# GB12/13 look back on is made of them too.
_JOINS_NEXT = (
    r"\p{GCB=CR}\p{GCB=Prepend}\p{GCB=L}\p{GCB=V}\p{GCB=T}\p{GCB=LV}\p{GCB=LVT}"
    r"\p{GCB=RI}\p{GCB=ZWJ}\p{InCB=Linker}\p{InCB=Extend}"
)
_JOINS_PREVIOUS = (
    r"\p{GCB=LF}\p{GCB=Extend}\p{GCB=ZWJ}\p{GCB=SpacingMark}"
    r"\p{GCB=L}\p{GCB=V}\p{GCB=T}\p{GCB=LV}\p{GCB=LVT}\p{GCB=RI}"
)
_CERTAIN_PAIR = rf"[^{_JOINS_NEXT}][^{_JOINS_PREVIOUS}]"
_LAST_CERTAIN_BOUNDARY = rf"(?r)[^{_JOINS_NEXT}](?=[^{_JOINS_PREVIOUS}])"


def _last_cluster_start(
    text: str, end: int | None = None, limit: int = _MAX_HELD_CHARS
) -> int | None:
    """Where the last cluster of ``text[:end]`` (not empty) starts, if within `limit` characters.

    `text` must start at a cluster boundary. Only what follows the last
    certain boundary is segmented, so the work does not grow with `text`.
    """
    n = len(text) if end is None else end
    window = max(n - limit - 1, 0)
    found = pattern(_LAST_CERTAIN_BOUNDARY).search(text, window, n)
    if found is None and window > 0:
        return None
    start = found.end() if found is not None else 0
    cut = n - len(_clusters(text[start:n])[-1])
    return cut if n - cut <= limit else None


def _hold_from(before: str, text: str) -> int:
    """Where in `text` the trailing cluster to hold back starts (``len(text)``: none).

    `before` is the end of the text released already, so that a cluster that
    began there is judged whole (a flag whose first half the timer let go).
    """
    n = len(text)
    if text[-1].isascii() or pattern(_MAY_END).match(text, n - 1) is None:
        return n  # the common case: one look at the last character
    joined = _last_cluster(before) + text if n <= _MAX_HELD_CHARS else text
    start = _last_cluster_start(joined)
    # The cluster alone: the look-behind for a lone regional indicator must
    # not see the pair before it.
    if start is None or pattern(_MAY_GROW).search(joined[start:]) is None:
        return n
    return max(start - (len(joined) - n), 0)


def _last_cluster(tail: str) -> str:
    """The last cluster of a text that ends with `tail` (its last cluster, if it is short)."""
    if not tail:
        return ""
    start = _last_cluster_start(tail)
    return tail[start:] if start is not None else ""


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

    def feed(self, text: str, now: float) -> list[str]:
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

    def poll(self, now: float) -> list[str]:
        """Release what is held if its hold has passed."""
        if self._deadline is not None and now >= self._deadline:
            return self.flush()
        return []

    def flush(self) -> list[str]:
        """End of stream (or hold passed): everything held is final."""
        held, self._held = self._held, ""
        self._arrived = self._deadline = None
        if not held:
            return []
        units, rest = self._split(held)
        if rest:
            units.append(rest)
        self._released(held, len(held))
        return units

    def next_deadline(self) -> float | None:
        return self._deadline

    # --- splitting final text into units ---

    def _released(self, text: str, end: int) -> None:
        """``text[:end]`` went out: keep its end, if a cluster there may go on."""
        if end <= 0:
            return
        keep = _MAX_HELD_CHARS + 1
        if text[end - 1].isascii():
            # After ASCII, what follows segments the same with or without it.
            self._before = ""
        elif end < keep:
            self._before = (self._before + text[:end])[-keep:]
        else:
            self._before = text[end - keep : end]

    def _split(self, final: str) -> tuple[list[str], str]:
        """Split final text into complete units and an unfinished remainder."""
        if not final:
            return [], ""
        unit = self.unit
        rest = ""
        if unit == "chunk":
            units = [final]
        elif unit == "grapheme":
            units = self._graphemes(final)
        elif unit == "line":
            end = final.rfind("\n") + 1
            units = [line + "\n" for line in final[: end - 1].split("\n")] if end else []
            rest = final[end:]
        else:
            units = pattern(r"\S*\s+|\S+").findall(final)
            if final[-1] != "\n":
                # The last word may go on, and so may the whitespace after
                # it: it is complete once something follows (a newline
                # completes it at once).
                rest = units.pop()
        return units, rest

    def _graphemes(self, final: str) -> list[str]:
        if final.isascii():
            # Every ASCII character is a cluster, but CR LF (UAX #29 GB3),
            # and none joins a cluster before it in a way that moves a
            # boundary of its own.
            return list(final) if "\r\n" not in final else _clusters(final)
        context = _last_cluster(self._before)
        if not context:
            return _clusters(final)
        clusters = _clusters(context + final)
        first = clusters[0][len(context) :]
        return [first, *clusters[1:]] if first else clusters[1:]


# --- counting ---

# Characters that can join a neighbour in one cluster: the UAX #29 values CR,
# Extend, ZWJ, SpacingMark, Prepend, Regional_Indicator, L, V and T (GB9c's
# linkers and extenders are Extend or ZWJ). A precomposed Hangul syllable (LV,
# LVT) joins only a jamo, which is in the set. Between two characters outside
# it there is always a boundary (they are of neither _JOINS_NEXT nor
# _JOINS_PREVIOUS), so a text has ``len(text)`` clusters less one for each
# join, and joins happen only in and around runs of these characters.
_JOINERS = (
    r"[\p{GCB=CR}\p{GCB=Extend}\p{GCB=ZWJ}\p{GCB=SpacingMark}\p{GCB=Prepend}"
    r"\p{GCB=RI}\p{GCB=L}\p{GCB=V}\p{GCB=T}]"
)
# Joiners that only ever join the character before them (GB9, GB9a): each
# one is a join, unless it follows a control (GB4) or starts the text. The
# rest (ZWJ, GB9c linkers, Prepend, CR, regional indicators, jamo) take
# their context into account, and the run is segmented.
_SIMPLE_JOINERS = r"(?V1)[[\p{GCB=Extend}\p{GCB=SpacingMark}]--\p{InCB=Linker}]"
_CONTROLS = r"[\p{GCB=Control}\p{GCB=CR}\p{GCB=LF}]"
# Whitespace beyond ASCII (str.split()'s), found by the same scan, for
# counting words.
UNICODE_SPACES = "\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_UNICODE_SPACE = re.compile(f"[{UNICODE_SPACES}]+")

# Planes read for joiners: the BMP, the SMP and plane 14 (tags, variation
# selectors). Planes 2 and 3 hold ideographs, 4 to 13 nothing, 15 and 16
# private use.
_PLANES = ((0x0, 0xD800), (0xE000, 0x20000), (0xE0000, 0xE1000))
_CARRY = 64  # the longest cluster carried over whole from one piece to the next


class _Run(enum.Enum):
    SIMPLE = enum.auto()  # simple joiners only
    SPACES = enum.auto()  # Unicode spaces only
    SPACED = enum.auto()  # Unicode spaces, and joiners to segment
    OTHER = enum.auto()  # joiners to segment


@dataclass(frozen=True, slots=True)
class _Tables:
    runs: Any  # stdlib re: a run of BMP joiners or Unicode spaces
    simple: frozenset[str]  # the simple joiners
    astral: frozenset[str]  # the joiners beyond the BMP
    controls: frozenset[str]  # GB4's controls, CR and LF
    # The kind of each short run met so far: the same few runs (a virama, a
    # ZWJ, VS16 and ZWJ, an accent) come again and again.
    kinds: dict[str, _Run] = field(default_factory=dict)

    def kind(self, run: str) -> _Run:
        spaces = _UNICODE_SPACE.search(run) is not None
        if spaces:
            kind = _Run.SPACES if _UNICODE_SPACE.fullmatch(run) else _Run.SPACED
        else:
            kind = _Run.SIMPLE if all(c in self.simple for c in run) else _Run.OTHER
        if len(run) <= 8 and len(self.kinds) < 4096:
            self.kinds[run] = kind
        return kind


_tables: _Tables | None = None


def _chars(source: str) -> list[tuple[int, int]]:
    """The code points of the `regex` class `source`, as ranges, read from `regex`'s own tables.

    Reading them from `regex` (not `unicodedata`) keeps counting on the
    Unicode version of the ``\\X`` that segments.
    """
    from array import array

    found = pattern(source + "+")
    ranges: list[tuple[int, int]] = []
    for lo, hi in _PLANES:
        chars = array("I", range(lo, hi)).tobytes().decode("utf-32-le")
        ranges += [(lo + m.start(), lo + m.end() - 1) for m in found.finditer(chars)]
    return ranges


def _the_tables() -> _Tables:
    """Built on first use (tens of milliseconds).

    The standard library's `re` tests a class of BMP characters in constant
    time (one bitmap lookup); astral ranges it would test one after another,
    so astral joiners are found apart (_astral_runs).
    """
    global _tables
    if _tables is None:

        def bmp(ranges: list[tuple[int, int]]) -> str:
            return "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges if hi < 0x10000)

        def chars(ranges: list[tuple[int, int]]) -> frozenset[str]:
            return frozenset(chr(c) for lo, hi in ranges for c in range(lo, hi + 1))

        joiners = _chars(_JOINERS)
        one = f"[{bmp(joiners)}{UNICODE_SPACES}]"
        _tables = _Tables(
            # A class first, so that `re` skips to it with a bitmap test per
            # character; with a repeat first it would try every position.
            runs=re.compile(one + one + "*"),
            simple=chars(_chars(_SIMPLE_JOINERS)),
            astral=frozenset(c for c in chars(joiners) if c >= "\U00010000"),
            controls=chars(_chars(_CONTROLS)),
        )
    return _tables


# The UTF-8 of the astral joiners: regional indicators (F0 9F 87 A6-BF),
# skin tones (F0 9F 8F BB-BF), marks of historic scripts (F0 90-9E), tags
# and variation selectors (F3 A0), and the planes beyond (F1-F4). Everyday
# emoji (F0 9F 8C-AB) are not among them, so a text full of emoji is not
# searched character by character. One literal first byte lets `re` skip
# to each F0 with a plain loop.
_ASTRAL_CANDIDATE = re.compile(rb"\xf0(?:[\x90-\x9e]|\x9f(?:\x87[\xa6-\xbf]|\x8f[\xbb-\xbf]))")
_ASTRAL_BEYOND = re.compile(rb"[\xf1-\xf4]")


def _astral_runs(text: str, utf8: bytes, joiners: frozenset[str]) -> list[tuple[int, int]]:
    """(i, i + 1) for each astral joiner in `text`, whose UTF-8 is `utf8`."""
    found = list(_ASTRAL_CANDIDATE.finditer(utf8))
    if any(lead in utf8 for lead in (b"\xf1", b"\xf2", b"\xf3", b"\xf4")):
        found = sorted(found + list(_ASTRAL_BEYOND.finditer(utf8)), key=lambda m: m.start())
    runs = []
    i = 0
    for m in found:
        char = utf8[m.start() : m.start() + 4].decode("utf-8", "surrogatepass")
        if char in joiners:
            # The candidates come in the order of the text, each one a
            # character of it: its next occurrence from here is this one.
            i = text.index(char, i)
            runs.append((i, i + 1))
            i += 1
    return runs


class GraphemeCounter:
    """Counts the grapheme clusters of a text given in pieces, exactly (UAX #29).

    The sum over the pieces is ``len(regex.findall(r"\\X", whole))`` however
    the text is cut, also inside a cluster: the last cluster of each piece
    is carried over, to segment the start of the next one in context.
    """

    def __init__(self) -> None:
        self.n_graphemes = 0
        # The text counted last held whitespace beyond ASCII (a by-product of
        # the scan, for counting words).
        self.unicode_space = False
        self._carry = ""  # the last cluster so far

    def count(self, text: str, utf8: bytes | None = None) -> int:
        """Add `text` (`utf8`: its UTF-8, if at hand); return how many clusters it adds."""
        self.unicode_space = False
        if not text:
            return 0
        carry = self._carry
        if text.isascii() and carry.isascii():
            # In ASCII only CR LF is a cluster of more than one character.
            joins = text.count("\r\n") if "\r" in text else 0
            if carry == "\r" and text[0] == "\n":
                joins += 1
            self._carry = "\r\n" if text.endswith("\r\n") else text[-1]
            n = len(text) - joins
        else:
            n = len(text) - self._joins(carry, text, utf8)
            # The last cluster may have begun in the carry. One longer than
            # _CARRY (a letter under seventy accents) is kept by its end:
            # enough for every rule but GB9c, GB11 and GB12/13 looking
            # further back than that.
            tail = carry + text if len(text) < _CARRY else text
            start = _last_cluster_start(tail, limit=_CARRY)
            self._carry = tail[start:] if start is not None else tail[-_CARRY:]
        self.n_graphemes += n
        return n

    def _joins(self, carry: str, text: str, utf8: bytes | None) -> int:
        """How many characters of `text` join the one before them (the carry's last, for the first)."""
        tables = _the_tables()
        n = len(text)
        if text.isascii():
            runs = [(m.start(), m.end()) for m in re.finditer("\r+", text)]
        else:
            runs = [m.span() for m in tables.runs.finditer(text)]
            astral = _astral_runs(text, text.encode() if utf8 is None else utf8, tables.astral)
            if astral:
                runs = list(_merged(sorted(runs + astral)))
        joins = 0
        head = 0
        if carry and pattern(_CERTAIN_PAIR).fullmatch(carry[-1] + text[0]) is None:
            # The carried cluster may go on into `text`: segment the two
            # together, up to the end of the run that `text` starts with.
            head = 1
            while runs and runs[0][0] <= head:
                head = max(head, min(runs.pop(0)[1] + 1, n))
            joins += head + 1 - len(_clusters(carry + text[:head]))  # the carry was one cluster
            if _UNICODE_SPACE.search(text, 0, head) is not None:
                self.unicode_space = True
        # Each run is simple (GB9, GB9a: one join per character), Unicode
        # spaces (no join), or a region to segment, with one character on
        # either side.
        regions: list[str] = []
        kinds, controls = tables.kinds, tables.controls
        region_start = region_end = -1
        for lo, hi in runs:
            run = text[lo:hi]
            kind = kinds.get(run)
            if kind is None:
                kind = tables.kind(run)
            if kind is _Run.SIMPLE:
                joins += hi - lo - (lo == 0 or text[lo - 1] in controls)
                continue
            if kind is not _Run.OTHER:
                self.unicode_space = True
                if kind is _Run.SPACES:
                    continue
            lo, hi = max(lo - 1, head), min(hi + 1, n)
            if lo <= region_end:
                region_end = hi
                continue
            if region_end >= 0:
                regions.append(text[region_start:region_end])
            region_start, region_end = lo, hi
        if region_end >= 0:
            regions.append(text[region_start:region_end])
        if regions:
            # One \X pass over all regions, kept apart by a control (GB4,
            # GB5: a boundary on both sides of it).
            n_chars = sum(map(len, regions))
            joins += n_chars - (len(_clusters("\x00".join(regions))) - (len(regions) - 1))
        return joins


def _merged(runs: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """`runs` (in order), with those that touch joined."""
    start = end = -1
    for lo, hi in runs:
        if lo == end:
            end = hi
            continue
        if end >= 0:
            yield start, end
        start, end = lo, hi
    if end >= 0:
        yield start, end


def count_graphemes(text: str) -> int:
    """How many extended grapheme clusters `text` holds (UAX #29)."""
    return GraphemeCounter().count(text)
