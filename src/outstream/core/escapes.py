"""Make a model's untrusted text safe to show on a terminal.

`EscapeSanitizer` removes (or shows visibly) the control characters and escape
sequences that would let a model's output move the cursor, rewrite earlier
lines, set the window title, write the clipboard, or reorder text with bidi
overrides. It is incremental: text goes in chunk by chunk, and what is safe to
show comes out.

Long (some 630 lines) for a reason: one state machine over every kind of
sequence ECMA-48 defines, its policies in one table; split, a sequence's
states would live in two places.
"""

# Theory of operation
# -------------------
#
# A terminal gives meaning to four kinds of code in its input; everything else
# is text. ECMA-48 (5th ed., 1991) defines them:
#
# * C0 controls, U+0000-U+001F (5.2), and DEL, U+007F. LF and HT are layout
#   and stay. CR is turned into LF: a bare CR returns to the start of the line,
#   so that what follows overwrites what a reader already saw.
# * C1 controls, U+0080-U+009F (5.3). Each one also has a 7-bit spelling,
#   ESC Fe with Fe in 0x40-0x5F: ESC [ is CSI (0x9B), ESC ] is OSC (0x9D),
#   ESC P is DCS (0x90), ESC X is SOS (0x98), ESC ^ is PM (0x9E), ESC _ is APC
#   (0x9F) and ESC \ is ST (0x9C).
# * Control sequences (5.4): CSI, then parameter bytes 0x30-0x3F, then
#   intermediate bytes 0x20-0x2F, then one final byte 0x40-0x7E. Cursor
#   movement, erasing and SGR colours (8.3.117) are all control sequences.
# * Control strings (5.6): OSC, DCS, SOS, PM or APC, a body, then ST (8.3.143).
#   xterm also ends an OSC at BEL, and so does everyone who copied it, so BEL
#   ends every string here. OSC (8.3.89) is where the dangerous payloads live:
#   OSC 0/2 set the title, OSC 52 writes the clipboard, OSC 8 makes links.
#
# Independent control functions ESC Fs (5.5, Fs in 0x60-0x7E), private ESC Fp
# (0x30-0x3F) and ECMA-35's nF escapes (ESC, intermediates 0x20-0x2F, a final
# 0x30-0x7E, e.g. ESC ( B) are all "ESC, intermediates, one final", and are
# removed whole.
#
# The parser is the usual state machine (the shape of DEC's, as drawn on
# vt100.net), cut down to what a sanitizer needs:
#
#     GROUND --ESC--> ESCAPE --[-----------> CSI_PARAM --0x20-0x2F--> CSI_INTER
#        |               |----] P X ^ _----> STRING
#        |               '----0x20-0x2F----> NF
#        |--0x9B-------------------------->  CSI_PARAM
#        '--0x90 0x98 0x9D 0x9E 0x9F------>  STRING
#
# A sequence ends in one of three ways. It completes (its final byte, or for a
# string BEL or ST): it is removed, or kept if the policy keeps it. It breaks,
# when a character outside its grammar arrives: what was parsed is removed and
# the character is processed again from GROUND. A real terminal would execute
# a C0 control met inside a CSI and carry on, but we remove that control
# anyway, and breaking off is the simpler rule to check. Or it grows past
# `max_held_chars`: it is dropped and the parser returns to GROUND, so the rest
# of an unterminated payload shows as text. That is safe: the rest goes through
# GROUND like any text, where every control in it is still removed, and the
# terminal never saw the introducer. An ESC inside a string ends the string
# and starts a new sequence; when it is followed by `\` that sequence is the
# two-character ST, removed like any other.
#
# Chunking: every decision depends only on the characters of the stream and
# on how many characters the sequence in progress has, never on where a chunk
# ends, so output does not depend on how the stream was cut. Only two things
# are carried across chunk boundaries: the parser state with the length of the
# sequence in progress, and a flag saying "a CR was just turned into LF, so
# swallow a directly following LF". A trailing CR is not held back, so a line
# ending shows as soon as it arrives. Under the "sgr" policy the text of a
# CSI is held while it can still turn out to be SGR (at most
# `max_held_chars`); the body of a string is never held, only counted, so a
# long OSC split over many chunks costs linear time.
#
# Under "escape" nothing is parsed: each control is replaced by a visible
# symbol, and only a CR at the end of a chunk is held, until the next chunk
# says whether an LF follows it. "raw" passes everything through.
#
# Speed: in GROUND one precompiled character-class search finds the next
# special character, and a chunk with none is returned as the same object.
# A sequence that lies whole inside the chunk is taken by one anchored regex
# match; only one cut by a chunk boundary (or malformed, or too long) walks the
# state machine, whose states consume runs with anchored `match` calls rather
# than one character at a time.

from __future__ import annotations

import enum
import re
from typing import Final, Literal

__all__ = [
    "ESCAPE_POLICIES",
    "EscapePolicy",
    "EscapeSanitizer",
    "neutralized",
    "sanitized",
    "terminal_line",
]

EscapePolicy = Literal["strip", "escape", "sgr", "display", "raw"]
"""What `EscapeSanitizer` does with controls.

* ``"strip"``: remove controls and whole escape sequences; CR becomes LF.
* ``"escape"``: remove nothing; show each control as a visible symbol.
* ``"sgr"``: like ``"strip"``, but keep colours and styles: the SGR
  sequences whose parameters are colours (16, 256 or RGB, foreground,
  background, underline), bold, dim, italic, underline, reverse, strike and
  their resets, at most 64 characters of them; not conceal or blink.
* ``"display"``: what a recorded screen needs to be drawn again (replaying
  a .cast): those SGR sequences, the cursor moved and the screen erased
  (CSI A-H, J, K, X, d, f; not CSI 3 J, which erases the scrollback), the
  cursor hidden and shown (CSI ?25 l/h), CR and BS; nothing that talks to
  the terminal or the host (OSC titles and clipboard, DCS, APC, PM, SOS,
  queries, modes).
* ``"raw"``: pass the text through unchanged.
"""

ESCAPE_POLICIES: tuple[EscapePolicy, ...] = ("strip", "escape", "sgr", "display", "raw")

_ESC: Final = "\x1b"

# Everything a terminal might act on: C0 except HT and LF (CR included), DEL,
# C1, and the bidi embeddings/overrides (U+202A-U+202E) and isolates
# (U+2066-U+2069) of UAX #9 that "Trojan Source" (CVE-2021-42574) abuses.
_SPECIAL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# The same set in UTF-8: the bytes of the C0 controls but HT and LF, and of
# DEL; C1 (C2 80-9F); the bidi controls (E2 80 AA-AE, E2 81 A6-A9). A
# character has one UTF-8 spelling, and a decoder makes no other character
# from it (bad bytes become U+FFFD), so text decoded from bytes that hold
# none of these holds none of the special characters.
_ASCII_SPECIAL_BYTES: Final = bytes([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F])
# One byte each: in ASCII text thirty `bytes.__contains__` (memchr) scans
# cost about what the translation does, and stop at the first control.
_ASCII_SPECIAL: Final = tuple(bytes([c]) for c in _ASCII_SPECIAL_BYTES)
_C1_UTF8: Final = re.compile(rb"\xc2[\x80-\x9f]")
_BIDI_UTF8: Final = re.compile(rb"\xe2(?:\x80[\xaa-\xae]|\x81[\xa6-\xa9])")
# One `bytes.translate` that deletes the bytes spelling none of them, and
# keeps the ASCII specials, the lead bytes C2 and E2 and every continuation
# byte, leaves a residue a fifth of mixed text's size (none of ASCII's) in
# which each C2 and E2 is still followed by its own continuation bytes: C1
# and the bidi controls are found in the residue exactly as in the text, in
# a fraction of the time (a regex search stops at every E2 of the curly
# quotes and dashes, and scans every byte between them).
_KEEP: Final = bytes([*_ASCII_SPECIAL_BYTES, 0xC2, 0xE2, *range(0x80, 0xC0)])
_NOT_SPECIAL: Final = bytes(c for c in range(256) if c not in _KEEP)
_NOT_ASCII: Final = bytes(range(0x80, 0x100))


def _clean_utf8_in_python(data: bytes | bytearray) -> bool:
    """No special character is spelled in `data` (UTF-8)."""
    residue = data.translate(None, _NOT_SPECIAL)
    if residue.translate(None, _NOT_ASCII):
        return False  # a C0 control or DEL
    if b"\xc2" in residue and _C1_UTF8.search(residue) is not None:
        return False
    return b"\xe2" not in residue or _BIDI_UTF8.search(residue) is None


# The same in one pass in C (_speedups.c, 64 bytes at a time), where it was built.
try:
    from ._speedups import clean_utf8 as _clean_utf8
except ImportError:
    _clean_utf8 = _clean_utf8_in_python


# Runs inside a sequence, matched at the current position (ECMA-48 5.4, 5.6).
_PARAM_RUN: Final = re.compile(r"[\x30-\x3f]*")
_INTER_RUN: Final = re.compile(r"[\x20-\x2f]*")
_STRING_BODY_RUN: Final = re.compile(r"[^\x07\x1b\x9c]*")
# SGR parameters kept: colours, and styles a reader is not fooled by (no
# conceal 8, no blink 5 and 6), with their resets (ECMA-48 8.3.117).
_SGR_KEPT: Final = frozenset(
    {0, 1, 2, 3, 4, 7, 9, 21, 22, 23, 24, 27, 28, 29, 39, 49, 53, 55, 59}
    | set(range(30, 38))
    | set(range(40, 48))
    | set(range(90, 98))
    | set(range(100, 108))
)
_SGR_COLOURS: Final = frozenset({38, 48, 58})  # foreground, background, underline colour
_MAX_SGR: Final = 64  # characters of parameters
# The control sequences "display" keeps besides SGR: cursor movement and
# erasing (ECMA-48 8.3: CUU CUD CUF CUB CNL CPL CHA CUP ED EL ECH VPA HVP).
_DISPLAY_FINALS: Final = frozenset("ABCDEFGHJKXdf")
_NUMBERS: Final = re.compile("[0-9;]{0,16}")


def _sgr_kept(params: str) -> bool:
    """Whether an SGR sequence with these parameters only sets colours and styles."""
    if len(params) > _MAX_SGR:
        return False
    fields = params.split(";")
    i = 0
    while i < len(fields):
        parts = fields[i].split(":")
        if not all(part.isdigit() or not part for part in parts):
            return False
        code = int(parts[0] or 0)
        if len(parts) > 1:  # T.416 sub-parameters: 4:n underline style, 38:2::r:g:b...
            if (code != 4 and code not in _SGR_COLOURS) or len(parts) > 6:
                return False
        elif code in _SGR_COLOURS:  # then 5;n or 2;r;g;b: numbers of its own
            n = {"5": 1, "2": 3}.get(fields[i + 1] if i + 1 < len(fields) else "")
            values = fields[i + 2 : i + 2 + n] if n else []
            if not n or len(values) != n or not all(v.isdigit() for v in values):
                return False
            i += 2 + n
            continue
        elif code not in _SGR_KEPT:
            return False
        i += 1
    return True


def _csi_kept(params: str, final: str, display: bool) -> bool:
    """Whether a CSI sequence (no intermediates) is kept under "sgr" or "display"."""
    if final == "m":
        return _sgr_kept(params)
    if not display:
        return False
    if final in "hl":
        return params == "?25"
    if final == "J":
        return params in ("", "0", "1", "2")  # not 3: xterm's erase of the scrollback
    return final in _DISPLAY_FINALS and _NUMBERS.fullmatch(params) is not None


# The second character of a 7-bit string introducer, and the 8-bit ones.
_STRING_FE: Final = frozenset("]PX^_")  # OSC, DCS, SOS, PM, APC
_STRING_C1: Final = frozenset("\x9d\x90\x98\x9e\x9f")  # OSC, DCS, SOS, PM, APC
_CSI_C1: Final = "\x9b"
_STRING_END: Final = frozenset("\x07\x9c")  # BEL, ST; ESC is handled apart
_INTRODUCERS: Final = frozenset({_ESC, _CSI_C1, *_STRING_C1})

# A whole sequence in one piece, for the common case where it lies inside one
# chunk. Matching it gives the same result as walking the state machine, as
# long as the match is no longer than the bound (the caller's `endpos`). The
# two-character ESC Fp/Fe/Fs leaves out the Fe that open a CSI or a string;
# a string ended by ESC \ is the string and then the ST, both removed. Each
# run of a class is followed by a character outside it, so a greedy run
# matches what a possessive one would (``*+``, which `re` has only from 3.11),
# and a miss costs time linear in the bounded text, as before.
_WHOLE_SEQUENCE: Final = re.compile(
    r"\x1b\[(?P<params>[\x30-\x3f]*)(?P<inter>[\x20-\x2f]*)(?P<final>[\x40-\x7e])"
    r"|\x9b[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:[\x07\x9c]|\x1b\\)"
    r"|\x1b(?:[\x20-\x2f]+[\x30-\x7e]|[\x30-\x4f\x51-\x57\x59\x5a\x5c\x60-\x7e])"
)


def _visible(cp: int) -> str:
    if cp < 0x20:
        # Unicode's Control Pictures block is laid out in C0 order.
        return chr(0x2400 + cp)
    if cp == 0x7F:
        return "\u2421"
    return f"<U+{cp:04X}>"


# What "escape" shows in place of each special character, as a str.translate
# table.
_VISIBLE: Final[dict[int, str]] = {
    cp: _visible(cp)
    for cp in (*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
    if cp not in (0x09, 0x0A)
}


class _State(enum.Enum):
    GROUND = enum.auto()
    ESCAPE = enum.auto()  # after ESC
    NF = enum.auto()  # ESC, intermediates
    CSI_PARAM = enum.auto()  # CSI, parameter bytes
    CSI_INTER = enum.auto()  # CSI, parameters, intermediate bytes
    STRING = enum.auto()  # OSC/DCS/SOS/PM/APC body


class EscapeSanitizer:
    """Remove or reveal terminal controls in text that arrives in chunks.

    ``"".join(s.feed(c) for c in chunks) + s.flush()`` is the same for every
    way of cutting a text into chunks.

    Args:
        policy: one of `ESCAPE_POLICIES`; see `EscapePolicy`.
        max_held_chars: the longest escape sequence, in code points, that
            may stay incomplete. A longer one is dropped and what follows it
            is treated as text, so a stray OSC cannot hide the rest of the
            stream.

    Raises:
        ValueError: `policy` is not a known policy, or `max_held_chars` is
            less than 1.
    """

    def __init__(self, policy: EscapePolicy = "strip", *, max_held_chars: int = 4096) -> None:
        if policy not in ESCAPE_POLICIES:
            raise ValueError(f"unknown escape policy {policy!r}; expected one of {ESCAPE_POLICIES}")
        if max_held_chars < 1:
            raise ValueError(f"max_held_chars must be at least 1, not {max_held_chars}")
        self._policy: EscapePolicy = policy
        self._keep_csi = policy in ("sgr", "display")  # some CSI sequences are kept
        self._display = policy == "display"
        self._max_held_chars = max_held_chars
        self._n_removed = 0
        self._state = _State.GROUND
        # Code points of the sequence in progress, held or not.
        self._n_seq_chars = 0
        # Under "sgr" and "display", the text of a CSI that may still turn out
        # to be kept; empty otherwise.
        self._held: list[str] = []
        self._csi_candidate = False
        # "strip"/"sgr": the last character was a CR, already shown as LF
        # ("display" keeps a CR as it is).
        self._swallow_lf = False
        # "escape": a CR at the end of the last chunk, shown once we know
        # whether LF follows it.
        self._held_cr = False

    @property
    def policy(self) -> EscapePolicy:
        """The policy given to the constructor."""
        return self._policy

    @property
    def n_removed(self) -> int:
        """Code points removed or replaced so far.

        A CR LF pair counts once; characters of a sequence still held count
        when it is resolved.
        """
        return self._n_removed

    def feed(self, text: str) -> str:
        """Take the next chunk and return what is safe to show now.

        Args:
            text: the next piece of the stream.

        Returns:
            The sanitized text. It may be shorter than what was fed, because
            an incomplete escape sequence at the end is held back; `text`
            itself is returned when nothing in it needs changing.
        """
        if self._policy == "raw":
            return text
        if self._policy == "escape":
            return self._feed_escape(text)
        if not text:
            return text
        start = 0
        if self._swallow_lf:
            self._swallow_lf = False
            if text[0] == "\n":
                start = 1
        if self._state is _State.GROUND:
            if text.isascii():
                data = text.encode("ascii")
                if not any(c in data for c in _ASCII_SPECIAL):
                    return text[start:] if start else text
            match = _SPECIAL.search(text, start)
            if match is None:
                return text[start:] if start else text
            first = match.start()
            out = [text[start:first]]
            self._sanitize(text, first, out)
        else:
            out = []
            self._sanitize(text, start, out)
        return "".join(out)

    def feed_ascii(self, data: bytes | bytearray) -> str | None:
        """The fast path for bytes: `feed` of ``data.decode("ascii")``, or None.

        For ASCII bytes with no control character in them, arriving while no
        sequence is in progress, sanitizing changes nothing (but a LF that
        completes a CR shown already), so the text is returned without
        decoding it first and scanning it again. None means "take the
        general path": decode and `feed`. The caller checks `data.isascii()`.
        """
        if self._policy == "raw":
            return data.decode("ascii")
        if self._policy == "escape" or self._state is not _State.GROUND:
            return None
        if any(c in data for c in _ASCII_SPECIAL):
            return None
        if self._swallow_lf and data:
            self._swallow_lf = False
            if data[0] == 0x0A:  # the CR before it was counted already
                data = data[1:]
        return data.decode("ascii")

    def feed_utf8(self, text: str, *encoded: bytes | bytearray) -> str:
        """`feed(text)`, for `text` decoded from UTF-8: the search runs over the bytes.

        Each character of `text` must have been decoded from bytes that lie
        whole inside one of `encoded` (a chunk, and the few bytes around its
        start that a character cut by the previous chunk spans). Looking for
        special characters in the bytes costs a few ``memchr`` calls, where
        a search of a str of wide characters (any emoji makes every
        character four bytes wide) costs a regex step per character. When
        the bytes may hold one, the text goes through `feed`.
        """
        policy = self._policy
        if policy == "raw" or not text:
            return text
        if policy == "escape":
            if self._held_cr or not all(map(_clean_utf8, encoded)):
                return self._feed_escape(text)
            return text
        if self._state is not _State.GROUND or not all(map(_clean_utf8, encoded)):
            return self.feed(text)
        if self._swallow_lf:
            self._swallow_lf = False
            if text[0] == "\n":  # the CR before it was counted already
                return text[1:]
        return text

    def flush(self) -> str:
        """End the stream: resolve whatever is held, and reset.

        An incomplete escape sequence is dropped under "strip" and "sgr"
        (there is nothing held under "escape" and "raw", whose sequences are
        never parsed); a CR held by "escape" is shown as ␍.

        Returns:
            The last of the output, often "".
        """
        out = ""
        if self._held_cr:
            out = _VISIBLE[0x0D]
            self._held_cr = False
            self._n_removed += 1
        if self._state is not _State.GROUND:
            self._n_removed += self._n_seq_chars
            self._reset_sequence()
        self._swallow_lf = False
        return out

    # --- "escape" ---

    def _feed_escape(self, text: str) -> str:
        if self._held_cr:
            text = "\r" + text
            self._held_cr = False
        if text.endswith("\r"):
            # Whether it is shown as LF or as ␍ depends on the next chunk.
            self._held_cr = True
            text = text[:-1]
        if _SPECIAL.search(text) is None:
            return text
        n_crlf = text.count("\r\n")
        if n_crlf:
            text = text.replace("\r\n", "\n")
        self._n_removed += n_crlf + len(_SPECIAL.findall(text))
        return text.translate(_VISIBLE)

    # --- "strip" and "sgr" ---

    def _reset_sequence(self) -> None:
        self._state = _State.GROUND
        self._n_seq_chars = 0
        self._csi_candidate = False
        self._held.clear()

    def _remove_sequence(self, n_more: int = 0) -> None:
        self._n_removed += self._n_seq_chars + n_more
        self._reset_sequence()

    def _sanitize(self, text: str, i: int, out: list[str]) -> None:
        """Process text[i:], appending what is shown to `out`."""
        n = len(text)
        max_held = self._max_held_chars
        while i < n:
            state = self._state
            if state is _State.GROUND:
                match = _SPECIAL.search(text, i)
                if match is None:
                    out.append(text[i:])
                    return
                j = match.start()
                if j > i:
                    out.append(text[i:j])
                c = text[j]
                if c in _INTRODUCERS:
                    whole = _WHOLE_SEQUENCE.match(text, j, j + max_held)
                    if whole is not None:
                        i = whole.end()
                        if (
                            self._keep_csi
                            and (final := whole.group("final")) is not None
                            and not whole.group("inter")
                            and _csi_kept(whole.group("params"), final, self._display)
                        ):
                            out.append(whole.group())
                        else:
                            self._n_removed += i - j
                        continue
                i = j + 1
                if c == _ESC:
                    self._state = _State.ESCAPE
                    self._n_seq_chars = 1
                elif self._display and c in "\r\b":
                    out.append(c)  # a recorded screen's own line starts and steps back
                elif c == "\r":
                    out.append("\n")
                    self._n_removed += 1
                    if i == n:
                        self._swallow_lf = True
                    elif text[i] == "\n":
                        i += 1
                elif c == _CSI_C1:
                    # Only the 7-bit spelling is ever kept as SGR: terminals
                    # disagree on whether U+009B is a CSI at all.
                    self._state = _State.CSI_PARAM
                    self._n_seq_chars = 1
                elif c in _STRING_C1:
                    self._state = _State.STRING
                    self._n_seq_chars = 1
                else:
                    self._n_removed += 1
                continue

            if state is _State.ESCAPE:
                c = text[i]
                if c == "[":
                    i += 1
                    self._state = _State.CSI_PARAM
                    self._n_seq_chars += 1
                    if self._keep_csi:
                        self._csi_candidate = True
                        self._held.append("\x1b[")
                elif c in _STRING_FE:
                    i += 1
                    self._state = _State.STRING
                    self._n_seq_chars += 1
                elif "\x20" <= c <= "\x2f":
                    self._state = _State.NF
                    continue
                elif "\x30" <= c <= "\x7e":
                    # ESC Fp, Fe or Fs: complete at two characters.
                    i += 1
                    self._remove_sequence(1)
                    continue
                else:
                    self._remove_sequence()
                    continue
                if self._n_seq_chars > max_held:
                    self._remove_sequence()
                continue

            # The states that consume a run of characters: take as much of
            # the run as the bound allows.
            if state is _State.STRING:
                run = _STRING_BODY_RUN.match(text, i)
            elif state is _State.CSI_PARAM:
                run = _PARAM_RUN.match(text, i)
            else:
                run = _INTER_RUN.match(text, i)
            assert run is not None  # a `*` pattern always matches
            j = run.end()
            budget = max_held - self._n_seq_chars
            if j - i > budget:
                # The character that takes the sequence past the bound is
                # dropped with it; the next one is text.
                i += budget + 1
                self._remove_sequence(budget + 1)
                continue
            if self._csi_candidate and j > i:
                self._held.append(text[i:j])
            self._n_seq_chars += j - i
            i = j
            if i == n:
                return

            c = text[i]
            if state is _State.STRING:
                if c in _STRING_END:
                    i += 1
                    self._remove_sequence(1)
                else:
                    # ESC ends the string and starts a sequence of its own.
                    self._remove_sequence()
            elif state is _State.NF:
                if "\x30" <= c <= "\x7e":
                    i += 1
                    self._remove_sequence(1)
                else:
                    self._remove_sequence()
            elif state is _State.CSI_PARAM and "\x20" <= c <= "\x2f":
                # Intermediates rule out SGR, whose CSI has none.
                self._state = _State.CSI_INTER
                self._csi_candidate = False
                self._held.clear()
            elif "\x40" <= c <= "\x7e":
                i += 1
                if self._csi_candidate and _csi_kept("".join(self._held[1:]), c, self._display):
                    out.extend(self._held)
                    out.append(c)
                    self._reset_sequence()
                else:
                    self._remove_sequence(1)
            else:
                self._remove_sequence()


def sanitized(text: str, policy: EscapePolicy = "strip") -> str:
    """A whole text through a sanitizer of its own (what a stream would show of it)."""
    sanitizer = EscapeSanitizer(policy)
    return sanitizer.feed(text) + sanitizer.flush()


def terminal_line(text: str, limit: int = 1000) -> str:
    """`text` as one line that is safe on a terminal: for messages that carry outside text.

    Controls and escape sequences are removed as the ``"strip"`` policy
    removes them, line breaks and runs of blanks become one space, and a
    text longer than `limit` characters is cut, ending in "…".
    """
    line = " ".join(sanitized(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def neutralized(text: str, policy: EscapePolicy) -> str:
    """Text decoded after the sanitizer ran (Markdown's character references), under `policy`.

    Decoding can make the characters the sanitizer removes (``&#x202E;``
    is a bidi override): they are removed (``"strip"``, ``"sgr"``) or
    shown (``"escape"``) here too; ``"raw"`` keeps them.
    """
    if policy == "raw" or _SPECIAL.search(text) is None:
        return text
    if policy == "escape":
        return _SPECIAL.sub(lambda m: _visible(ord(m.group())), text)
    return _SPECIAL.sub("", text)
