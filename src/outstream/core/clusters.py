"""Counting grapheme clusters exactly, in pieces, without segmenting all of the text.

Theory of operation: only a few kinds of character can join a neighbour in
one cluster (UAX #29: CR, Extend, ZWJ, SpacingMark, Prepend, regional
indicators, Hangul jamo), so a text has ``len(text)`` clusters less one for
each join, and joins happen only in and around runs of such characters. One
scan of the text finds the runs. A run of Extend and SpacingMark only is one
join a character (GB9, GB9a); any other is segmented with ``\\X``, with one
character on either side, all such regions of a piece in one pass. The last
cluster of a piece is carried over to the next, so a cluster cut between two
pieces counts once. Words are counted in `stats`; the scan here notes the
Unicode spaces they need to know of.

The tables come from the `regex` module (the one that segments), built on
first use, so that ``outstream --help`` and uncounted streams never pay for
them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from typing import Any

from ._lazy_regex import pattern
from .graphemes import _CERTAIN_PAIR, _clusters, _last_cluster_start

__all__ = ["UNICODE_SPACES", "GraphemeCounter", "count_graphemes"]

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


class _Tables:
    __slots__ = ("astral", "controls", "kinds", "runs", "simple")

    def __init__(
        self, runs: Any, simple: frozenset[str], astral: frozenset[str], controls: frozenset[str]
    ) -> None:
        self.runs = runs  # stdlib re: a run of BMP joiners or Unicode spaces
        self.simple = simple  # the simple joiners
        self.astral = astral  # the joiners beyond the BMP
        self.controls = controls  # GB4's controls, CR and LF
        # The kind of each short run met so far: the same few runs (a
        # virama, a ZWJ, VS16 and ZWJ, an accent) come again and again.
        self.kinds: dict[str, _Run] = {}

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
