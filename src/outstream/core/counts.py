"""Counting the grapheme clusters and words of a text given in pieces, exactly.

Theory of operation: only a few kinds of character can join a neighbour in
one cluster (UAX #29: CR, Extend, ZWJ, SpacingMark, Prepend, regional
indicators, Hangul jamo), so a text has ``len(text)`` clusters less one for
each join, and joins happen only in and around runs of such characters.

Most text has none of them, and its UTF-8 shows it: the one translation of
the bytes that marks whitespace for the word count also marks the leading
bytes of the blocks joiners live in, and a few searches with a literal first
byte look at the rest (ZWJ, VS16, skin tones, flags...). Where the bytes may
hold one, a scan of the text finds the runs: a run of Extend and SpacingMark
only is one join a character (GB9, GB9a); any other is segmented with
``\\X`` with one character on either side, all such regions of a piece in
one pass. The last cluster of a piece is carried over to the next, so a
cluster cut between two pieces counts once, and so is whether the last piece
ended inside a word.

The tables come from the `regex` module (the one that segments), built on
first use, so that ``outstream --help`` and uncounted streams never pay for
them.

Where the package was built with a C compiler, `CompiledTextCounter` counts
the same in C instead (_speedups.c: the rules of UAX #29 as a state machine
over each character once, its properties one byte a code point read from
`regex` here), five to twenty times as fast; `text_counter` gives the
counter to use.
"""

from __future__ import annotations

import enum
import re
from array import array
from collections.abc import Iterator
from typing import Any

from ._lazy_regex import pattern
from .clusters import CERTAIN_PAIR, clusters, last_cluster_start

__all__ = ["UNICODE_SPACES", "TextCounter", "count_graphemes", "text_counter"]

# Characters that can join a neighbour in one cluster: the UAX #29 values CR,
# Extend, ZWJ, SpacingMark, Prepend, Regional_Indicator, L, V and T (GB9c's
# linkers and extenders are Extend or ZWJ). A precomposed Hangul syllable (LV,
# LVT) joins only a jamo, which is in the set. Between two characters outside
# it there is always a boundary (they are of neither JOINS_NEXT nor
# JOINS_PREVIOUS), so a text has ``len(text)`` clusters less one for each
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

# The planes where properties live, read whole: the BMP (surrogates
# included), the SMP and plane 14 (tags, variation selectors). Planes 2 and 3
# hold ideographs, 4 to 13 nothing, 15 and 16 private use.
_PLANES = ((0x0, 0x20000), (0xE0000, 0xE1000))


def _code_points(lo: int, hi: int) -> str:
    """The code points from `lo` to `hi` in one str, surrogates included."""
    return array("I", range(lo, hi)).tobytes().decode("utf-32-le", "surrogatepass")


def _plane_chars() -> list[tuple[int, str]]:
    """Each plane's first code point, and all its characters in one str."""
    return [(lo, _code_points(lo, hi)) for lo, hi in _PLANES]


_CARRY = 64  # the longest cluster carried over whole from one piece to the next
# Runs and regions up to this long are remembered, this many of each.
_CACHED_REGION = 32
_CACHE_SIZE = 8192


class _Run(enum.Enum):
    SIMPLE = enum.auto()  # simple joiners only
    SPACES = enum.auto()  # Unicode spaces only
    SPACED = enum.auto()  # Unicode spaces, and joiners to segment
    OTHER = enum.auto()  # joiners to segment


class _Tables:
    __slots__ = ("astral", "controls", "kinds", "region_joins", "runs", "simple")

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
        self.region_joins: dict[str, int] = {}  # the joins in each short region met so far

    def joins(self, regions: list[str]) -> int:
        """The joins inside `regions`: known ones from the cache, the rest by one \\X pass.

        Regions repeat in real text (a conjunct, a ZWJ sequence, a word of
        Hindi): segmenting each only once keeps ``\\X`` (some 300 ns a
        character) out of the way.
        """
        known = self.region_joins
        joins = 0
        new: list[str] = []
        for region in regions:
            n = known.get(region)
            if n is None:
                new.append(region)
            else:
                joins += n
        if not new:
            return joins
        if any("\x00" in region for region in new):
            counts = [len(clusters(region)) for region in new]
        else:
            # All in one pass, kept apart by a control: GB4 and GB5 put a
            # boundary on both sides of it.
            counts = [0]
            for cluster in clusters("\x00".join(new)):
                if cluster == "\x00":
                    counts.append(0)
                else:
                    counts[-1] += 1
        for region, n_clusters in zip(new, counts, strict=True):
            n = len(region) - n_clusters
            joins += n
            if len(region) <= _CACHED_REGION and len(known) < _CACHE_SIZE:
                known[region] = n
        return joins

    def kind(self, run: str) -> _Run:
        spaces = _UNICODE_SPACE.search(run) is not None
        if spaces:
            kind = _Run.SPACES if _UNICODE_SPACE.fullmatch(run) else _Run.SPACED
        else:
            kind = _Run.SIMPLE if all(c in self.simple for c in run) else _Run.OTHER
        if len(run) <= _CACHED_REGION and len(self.kinds) < _CACHE_SIZE:
            self.kinds[run] = kind
        return kind


_tables: _Tables | None = None


def _chars(source: str) -> list[tuple[int, int]]:
    """The code points of the `regex` class `source`, as ranges, read from `regex`'s own tables.

    Reading them from `regex` (not `unicodedata`) keeps counting on the
    Unicode version of the ``\\X`` that segments.
    """

    found = pattern(source + "+")
    ranges: list[tuple[int, int]] = []
    for lo, chars in _plane_chars():
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


# --- what the UTF-8 shows ---

# One translation of the UTF-8 marks str.split()'s ASCII whitespace b" ",
# the leading bytes of blocks where joiners (or Unicode spaces) may be b"J",
# and every other byte b"x" (the bytes of a character beyond ASCII are all
# 0x80 or above, none of them whitespace). Leading bytes J: 2-byte CC CD
# (U+0300-U+037F), D2 (U+0483-U+0489), D6-D9 and DB-DF (Hebrew, Arabic,
# Syriac, Thaana, NKo marks); 3-byte E0 (U+0800-U+0FFF, the Indic scripts,
# Thai...), E1 (Myanmar, Hangul jamo, Khmer, Mongolian... and U+1680), EA and
# ED (jamo and marks of U+A000-U+AFFF, U+D7B0-U+D7FF); 4-byte F1-F4 (planes
# 4-16). The common leading bytes C2, E2, E3, EF and F0 are looked at by
# _MAY_JOIN below, with the byte or two after them.
_J_LEADS = bytes([0xCC, 0xCD, 0xD2, *range(0xD6, 0xDA), *range(0xDB, 0xE2)])
_J_LEADS += bytes([0xEA, 0xED, 0xF1, 0xF2, 0xF3, 0xF4])
_SPACE_BYTES = b" \t\n\v\f\r\x1c\x1d\x1e\x1f"
_MARKS = bytes(0x20 if c in _SPACE_BYTES else 0x4A if c in _J_LEADS else 0x78 for c in range(256))
# The rest of the joiners and Unicode spaces under common leading bytes:
# NEL, NBSP (C2 85, C2 A0); ZWNJ, ZWJ (E2 80 8C, 8D), the spaces U+2000-200A,
# U+2028, 2029, 202F (E2 80 ...), 205F (E2 81 9F), the marks U+20D0-20FF,
# U+2CEF-2CF1, U+2D7F, U+2DE0-2DFF (E2 83, B3, B5, B7); U+3000 (E3 80 80),
# U+302A-302F (E3 80 AA-AF), U+3099, 309A (E3 82 99, 9A); U+FB1E (EF AC 9E),
# U+FE00-FE0F and FE20-FE2F (EF B8), U+FF9E, FF9F (EF BE 9E, 9F); the astral
# joiners of _ASTRAL_CANDIDATE. Each pattern starts with one literal byte,
# which `re` skips to with a plain loop.
_MAY_JOIN = (
    (b"\xc2", re.compile(rb"\xc2[\x85\xa0]")),
    (
        b"\xe2",
        re.compile(rb"\xe2(?:\x80[\x80-\x8a\x8c\x8d\xa8\xa9\xaf]|\x81\x9f|[\x83\xb3\xb5\xb7])"),
    ),
    (b"\xe3", re.compile(rb"\xe3(?:\x80[\x80\xaa-\xaf]|\x82[\x99\x9a])")),
    (b"\xef", re.compile(rb"\xef(?:\xac\x9e|\xb8|\xbe[\x9e\x9f])")),
)


def _may_join(utf8: bytes, marks: bytes) -> bool:
    """Whether the text whose UTF-8 is `utf8` may hold a joiner or a Unicode space.

    False is a proof; True may be wrong (the scan of the text will tell).
    """
    if b"J" in marks or b"\r" in utf8:
        return True
    if b"\xf0" in utf8 and _ASTRAL_CANDIDATE.search(utf8) is not None:
        return True
    return any(lead in utf8 and found.search(utf8) is not None for lead, found in _MAY_JOIN)


class TextCounter:
    """Counts the grapheme clusters (UAX #29) and words of a text given in pieces, exactly.

    After any pieces, ``n_graphemes`` is ``len(regex.findall(r"\\X", whole))``
    and ``n_words`` is ``len(whole.split())``, however the text was cut, also
    inside a character's cluster or a word. Linear in the text; no list of
    words or clusters is built.
    """

    def __init__(self) -> None:
        self.n_graphemes = 0
        self.n_words = 0
        self._carry = ""  # the last cluster so far
        self._in_word = False  # the text so far ends inside a word

    def count(self, text: str, utf8: bytes | None = None) -> None:
        """Add the next piece; `utf8`, if given, is its UTF-8."""
        if not text:
            return
        carry = self._carry
        if text.isascii():
            marks = (text.encode("ascii") if utf8 is None else utf8).translate(_MARKS)
            self._words(marks, text)
            if carry.isascii():
                # In ASCII only CR LF is a cluster of more than one character.
                joins = text.count("\r\n") if "\r" in text else 0
                if carry == "\r" and text[0] == "\n":
                    joins += 1
                self._carry = "\r\n" if text.endswith("\r\n") else text[-1]
                self.n_graphemes += len(text) - joins
                return
            joins = self._scan(carry, text, None)[1]
        else:
            if utf8 is None:
                utf8 = text.encode("utf-8", "surrogatepass")
            marks = utf8.translate(_MARKS)
            if _may_join(utf8, marks):
                spaced, joins = self._scan(carry, text, utf8)
            else:
                spaced, joins = False, self._head_joins(carry, text, 1)[0]
            self._words(marks, text, spaced)
        self.n_graphemes += len(text) - joins
        # The last cluster may have begun in the carry. One longer than
        # _CARRY (a letter under seventy accents) is kept by its end: enough
        # for every rule but GB9c, GB11 and GB12/13 looking back further.
        tail = carry + text if len(text) < _CARRY else text
        start = last_cluster_start(tail, limit=_CARRY)
        self._carry = tail[start:] if start is not None else tail[-_CARRY:]

    def _words(self, marks: bytes, text: str, spaced: bool = False) -> None:
        """Count the words that start in `text`, whose bytes are marked `marks`."""
        if spaced:
            # Spaces beyond ASCII (U+00A0, U+3000...) are not marked:
            # str.split() counts with them.
            n = len(text.split())
            if n and self._in_word and not text[0].isspace():
                n -= 1
            self._in_word = not text[-1].isspace()
        else:
            # A word starts at each space followed by something else.
            n = marks.count(b" x")
            if b"J" in marks:
                n += marks.count(b" J")
            if marks[0] != 0x20 and not self._in_word:
                n += 1
            self._in_word = marks[-1] != 0x20
        self.n_words += n

    def _head_joins(self, carry: str, text: str, head: int) -> tuple[int, bool]:
        """Joins between the carried cluster and ``text[:head]``, and whether that holds a space.

        (Up to `head`, `text` is what the carry may reach into.)
        """
        if not carry or pattern(CERTAIN_PAIR).fullmatch(carry[-1] + text[0]) is not None:
            return 0, False
        joins = head + 1 - len(clusters(carry + text[:head]))  # the carry was one cluster
        return joins, _UNICODE_SPACE.search(text, 0, head) is not None

    def _scan(self, carry: str, text: str, utf8: bytes | None) -> tuple[bool, int]:
        """Whether `text` holds a Unicode space, and how many of its characters join the one
        before them (the carry's last, for the first)."""
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
        spaced = False
        if carry and pattern(CERTAIN_PAIR).fullmatch(carry[-1] + text[0]) is None:
            # The carried cluster may go on into `text`: segment the two
            # together, up to the end of the run that `text` starts with.
            head = 1
            while runs and runs[0][0] <= head:
                head = max(head, min(runs.pop(0)[1] + 1, n))
            joins, spaced = self._head_joins(carry, text, head)
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
                spaced = True
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
            joins += tables.joins(regions)
        return spaced, joins


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


# --- the compiled counter ---

# The UAX #29 properties the compiled counter reads, one byte a code point
# (see _speedups.c): the GCB value in the low four bits, numbered as
# _speedups.GCB_VALUES has them, then these.
_PROPERTY_BITS = (
    (0x10, r"\p{ExtPict}"),
    (0x20, r"\p{InCB=Consonant}"),
    (0x40, r"\p{InCB=Linker}"),
    (0x60, r"\p{InCB=Extend}"),
)
_SPACE_BIT = 0x80
_TABLE_BLOCK = 0x400  # code points whose properties are read at a time


class PropertyTable:
    """The compiled counter's property bytes (see _speedups.c), read from `regex`
    a block of code points at a time, the first time a text holds one of them.

    A block takes 0.1-1 ms; text in a few scripts needs a few dozen blocks,
    where reading all of them took 30-40 ms of every counted stream. A byte
    not read yet is `_speedups.UNKNOWN`: `_speedups.count` stops before its
    character and `CompiledTextCounter` reads its block. The first block
    (ASCII, which the C loop reads without the table) is read at once.
    A block is written in place, whole, in one slice assignment; reading it
    twice (two threads at once) writes the same bytes, and a count running
    meanwhile in another thread reads each byte as UNKNOWN or as its value.
    """

    def __init__(self, gcb_values: tuple[str, ...], unknown: int) -> None:
        self.bytes = bytearray([unknown]) * 0x110000
        self._unknown = unknown
        # (Other is 0; a value without a name is in no table.)
        classes = [(v, rf"\p{{GCB={name}}}") for v, name in enumerate(gcb_values) if v and name]
        self._classes = [
            (pattern(f"[{source}]+"), bytes(b | bits for b in range(256)))
            for bits, source in [*classes, *_PROPERTY_BITS]
        ]
        self.read(0, _TABLE_BLOCK)

    def read_block_of(self, char: str) -> None:
        """Read the properties of the block that holds `char`."""
        lo = ord(char) - ord(char) % _TABLE_BLOCK
        self.read(lo, lo + _TABLE_BLOCK)

    def read(self, lo: int, hi: int) -> None:
        """Read the properties of the code points from `lo` to `hi` (whole blocks).

        The range is scanned once for any character with a property; the
        classes, one by one, are then looked for among those characters only.
        """
        # Every GCB value but Other, pictographs, every InCB value but None.
        any_class = pattern(r"[\P{GCB=Other}\p{ExtPict}\P{InCB=None}]+")
        if all(self.bytes[b] != self._unknown for b in range(lo, hi, _TABLE_BLOCK)):
            return
        chars = _code_points(lo, hi)
        runs = [m.span() for m in any_class.finditer(chars)]
        found = "".join(chars[a:b] for a, b in runs)
        props = bytearray(len(found))
        for class_pattern, with_bits in self._classes:
            for m in class_pattern.finditer(found):
                a, b = m.span()
                props[a:b] = props[a:b].translate(with_bits)
        block = bytearray(hi - lo)
        at = 0
        for a, b in runs:
            block[a:b] = props[at : at + b - a]
            at += b - a
        for m in _ALL_SPACES.finditer(chars):
            block[m.start()] |= _SPACE_BIT
        self.bytes[lo:hi] = block

    def whole(self) -> bytearray:
        """Every block read (for tests)."""
        for lo in range(0, 0x110000, 0x10000):
            self.read(lo, lo + 0x10000)
        return self.bytes


# What str.isspace() holds of.
_ALL_SPACES = re.compile(f"[{re.escape(_SPACE_BYTES.decode())}{UNICODE_SPACES}]")
_property_table: PropertyTable | None = None


def property_table() -> PropertyTable:
    """The one table of the process, made on first use."""
    global _property_table
    if _property_table is None:
        from . import _speedups

        _property_table = PropertyTable(_speedups.GCB_VALUES, _speedups.UNKNOWN)
    return _property_table


class CompiledTextCounter(TextCounter):
    """TextCounter's counts, counted in C (_speedups.c): the state machine of UAX #29
    over each character once, with the GIL released."""

    def __init__(self) -> None:
        super().__init__()
        from . import _speedups

        self._count = _speedups.count
        self._table = property_table()
        self._state: int = _speedups.START_STATE

    def count(self, text: str, utf8: bytes | None = None) -> None:
        # (The str is read, not its UTF-8: its ASCII runs are read as fast,
        # and the rest needs no decoding.)
        table, end, start = self._table, len(text), 0
        while True:
            clusters, words, self._state, start = self._count(text, table.bytes, self._state, start)
            self.n_graphemes += clusters
            self.n_words += words
            if start == end:
                return
            table.read_block_of(text[start])


def compiled() -> bool:
    """Whether the compiled counter was built (setup.py builds it where a C compiler is)."""
    try:
        from . import _speedups  # noqa: F401
    except ImportError:
        return False
    return True


def text_counter() -> TextCounter:
    """A counter: the compiled one where it was built, else the one in Python."""
    return CompiledTextCounter() if compiled() else TextCounter()


def count_graphemes(text: str) -> int:
    """How many extended grapheme clusters `text` holds (UAX #29)."""
    counter = text_counter()
    counter.count(text)
    return counter.n_graphemes
