"""Tests for outstream.core.escapes: what each policy shows, whatever the chunking."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outstream.core.escapes import ESCAPE_POLICIES, EscapePolicy, EscapeSanitizer

# --- helpers ---


def run(policy: EscapePolicy, chunks: list[str], *, max_held_chars: int = 4096) -> tuple[str, int]:
    """Feed `chunks` to a fresh sanitizer; return its whole output and n_removed."""
    sanitizer = EscapeSanitizer(policy, max_held_chars=max_held_chars)
    out = "".join(sanitizer.feed(chunk) for chunk in chunks) + sanitizer.flush()
    return out, sanitizer.n_removed


def cut(text: str, points: tuple[int, ...]) -> list[str]:
    bounds = (0, *points, len(text))
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def splits_2_and_3(text: str) -> Iterator[list[str]]:
    """Every way of cutting `text` into 2 and into 3 chunks (empty chunks included)."""
    positions = range(len(text) + 1)
    for a in positions:
        yield cut(text, (a,))
    for a, b in itertools.combinations_with_replacement(positions, 2):
        yield cut(text, (a, b))


# What a policy may leave in its output. SGR is allowed only under "sgr".
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SGR = re.compile("\x1b\\[[0-9;:]*m")

# --- table of cases ---


class Case(NamedTuple):
    name: str
    text: str
    strip: str
    escape: str
    sgr: str | None = None  # None: same as strip
    max_held_chars: int = 4096
    display: str | None = None  # None: same as sgr

    def expected(self, policy: EscapePolicy) -> str:
        if policy == "raw":
            return self.text
        if policy == "escape":
            return self.escape
        if policy == "display" and self.display is not None:
            return self.display
        if policy in ("sgr", "display") and self.sgr is not None:
            return self.sgr
        return self.strip


A30 = "A" * 30

SIMPLE_CASES = [
    Case("plain", "hello wörld 🙂\tok\n", "hello wörld 🙂\tok\n", "hello wörld 🙂\tok\n"),
    Case("empty", "", "", ""),
    # OSC (ECMA-48 8.3.89): title, clipboard, hyperlinks.
    Case("osc_title_bel", "\x1b]0;pwned\x07after", "after", "␛]0;pwned␇after"),
    Case(
        "osc52_clipboard_st",
        "copy\x1b]52;c;cm0gLXJmIH4=\x1b\\done",
        "copydone",
        "copy␛]52;c;cm0gLXJmIH4=␛\\done",
    ),
    Case(
        "osc8_hyperlink",
        "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
        "click",
        "␛]8;;https://evil.example/␛\\click␛]8;;␛\\",
    ),
    Case("osc_8bit_st", "\x9d2;t\x9cx", "x", "<U+009D>2;t<U+009C>x"),
    Case("osc_broken_by_csi", "\x1b]0;t\x1b[31mred", "red", "␛]0;t␛[31mred", sgr="\x1b[31mred"),
    # The other control strings (ECMA-48 5.6).
    Case("dcs", "\x1bP1$r0m\x1b\\ok", "ok", "␛P1$r0m␛\\ok"),
    Case("dcs_8bit", "\x90q#0;2\x9cok", "ok", "<U+0090>q#0;2<U+009C>ok"),
    Case("apc", "\x1b_Gf=100;QUFB\x1b\\ok", "ok", "␛_Gf=100;QUFB␛\\ok"),
    Case("pm", "\x1b^secret\x1b\\ok", "ok", "␛^secret␛\\ok"),
    Case("sos", "\x1bXany [thing]\x07ok", "ok", "␛Xany [thing]␇ok"),
    # Control sequences (ECMA-48 5.4).
    Case("csi_8bit_sgr", "\x9b31mred", "red", "<U+009B>31mred"),
    Case(
        "cursor_and_erase", "\x1b[2J\x1b[Hhome", "home", "␛[2J␛[Hhome", display="\x1b[2J\x1b[Hhome"
    ),
    Case(
        "sgr_colours",
        "\x1b[31mred\x1b[0m",
        "red",
        "␛[31mred␛[0m",
        sgr="\x1b[31mred\x1b[0m",
    ),
    Case(
        "sgr_truecolour_colons",
        "\x1b[38:2::255:0:0mX\x1b[m",
        "X",
        "␛[38:2::255:0:0mX␛[m",
        sgr="\x1b[38:2::255:0:0mX\x1b[m",
    ),
    Case("csi_private_m_not_sgr", "\x1b[>4;2mx\x1b[?1mz", "xz", "␛[>4;2mx␛[?1mz"),
    Case("csi_intermediate_not_sgr", "\x1b[1 mx\x1b[2 qz", "xz", "␛[1 mx␛[2 qz"),
    # ESC Fp / Fe / Fs (ECMA-48 5.3, 5.5) and nF escapes (ECMA-35).
    Case("charset_nf", "\x1b(Bx", "x", "␛(Bx"),
    Case("nf_two_intermediates", "\x1b$)Ax\x1b#8", "x", "␛$)Ax␛#8"),
    Case("save_restore_fp", "\x1b7saved\x1b8", "saved", "␛7saved␛8"),
    Case("reset_fs", "a\x1bcb", "ab", "a␛cb"),
    Case("lone_st", "\x1b\\x", "x", "␛\\x"),
    Case("esc_esc", "\x1b\x1b[2Jx", "x", "␛␛[2Jx", display="\x1b[2Jx"),
    # Line endings: no text may overwrite text.
    # ("display" replays a recorded screen: its CRs are its own.)
    Case("crlf", "a\r\nb", "a\nb", "a\nb", display="a\r\nb"),
    Case("lone_cr", "a\rb", "a\nb", "a␍b", display="a\rb"),
    Case("cr_cr_lf", "a\r\r\nb", "a\n\nb", "a␍\nb", display="a\r\r\nb"),
    Case("cr_then_lf_lf", "a\r\n\nb", "a\n\nb", "a\n\nb", display="a\r\n\nb"),
    Case("trailing_cr", "a\r", "a\n", "a␍", display="a\r"),
    # Single controls.
    Case("del", "a\x7fb", "ab", "a␡b"),
    Case(
        "c0",
        "a\x07b\x08c\x00d\x0be\x0cf\tg\nh",
        "abcdef\tg\nh",
        "a␇b␈c␀d␋e␌f\tg\nh",
        display="ab\x08cdef\tg\nh",
    ),
    Case("c1", "a\x85b\x8dc\x9cd", "abcd", "a<U+0085>b<U+008D>c<U+009C>d"),
    Case(
        "bidi",
        "\u202eevil\u202c \u2066x\u2069\u202a",
        "evil x",
        "<U+202E>evil<U+202C> <U+2066>x<U+2069><U+202A>",
    ),
    # Malformed sequences: remove what was parsed, then go on from GROUND.
    Case("csi_broken_by_c0", "\x1b[31\x01m", "m", "␛[31␁m"),
    Case("csi_broken_by_cr", "\x1b[3\rX", "\nX", "␛[3␍X", display="\rX"),
    Case("csi_param_after_intermediate", "\x1b[1$2m", "2m", "␛[1$2m"),
    Case(
        "csi_broken_by_csi",
        "\x1b[31\x1b[0mok",
        "ok",
        "␛[31␛[0mok",
        sgr="\x1b[0mok",
    ),
    Case("esc_then_non_ascii", "\x1bé", "é", "␛é"),
    Case("nf_broken", "\x1b(\x01x", "x", "␛(␁x"),
    # Incomplete at end of stream: dropped by strip/sgr, shown by escape.
    Case("lone_esc_at_end", "text\x1b", "text", "text␛"),
    Case("csi_at_end", "text\x1b[31", "text", "text␛[31"),
    Case("osc_at_end", "text\x1b]0;ti", "text", "text␛]0;ti"),
    # The bound: a sequence may stay incomplete up to max_held_chars.
    Case(
        "unterminated_osc_over_bound",
        "\x1b]0;" + A30 + "\x07tail",
        "A" * 17 + "tail",  # ESC ] 0 ; + 12 A are held; the 13th A goes with them
        "␛]0;" + A30 + "␇tail",
        max_held_chars=16,
    ),
    Case("osc_exactly_at_bound", "\x1b]0;abcd\x07z", "z", "␛]0;abcd␇z", max_held_chars=8),
    Case("osc_one_over_bound", "\x1b]0;abcdef\x07z", "fz", "␛]0;abcdef␇z", max_held_chars=8),
    Case("sgr_over_bound", "\x1b[1;2;3mx", ";3mx", "␛[1;2;3mx", max_held_chars=4),
    Case("sgr_at_bound", "\x1b[1;2mx", "x", "␛[1;2mx", sgr="\x1b[1;2mx", max_held_chars=5),
]

CASE_PARAMS = [
    pytest.param(case, policy, id=f"{case.name}-{policy}")
    for case in SIMPLE_CASES
    for policy in ESCAPE_POLICIES
]


@pytest.mark.parametrize(("case", "policy"), CASE_PARAMS)
def test_simple_case_whole(case: Case, policy: EscapePolicy) -> None:
    out, _ = run(policy, [case.text], max_held_chars=case.max_held_chars)
    assert out == case.expected(policy)


@pytest.mark.parametrize(("case", "policy"), CASE_PARAMS)
def test_simple_case_every_split(case: Case, policy: EscapePolicy) -> None:
    expected, n_removed = run(policy, [case.text], max_held_chars=case.max_held_chars)
    for chunks in itertools.chain(splits_2_and_3(case.text), [list(case.text)]):
        got = run(policy, chunks, max_held_chars=case.max_held_chars)
        assert got == (expected, n_removed), chunks


# --- details of the API ---


@pytest.mark.parametrize("policy", ESCAPE_POLICIES)
def test_clean_chunk_is_returned_as_is(policy: EscapePolicy) -> None:
    sanitizer = EscapeSanitizer(policy)
    text = "".join(["plain text, ünïcode 🙂\n", "\t"])
    assert sanitizer.feed(text) is text
    assert sanitizer.flush() == ""
    assert sanitizer.n_removed == 0


def test_cr_at_end_of_chunk_is_not_held() -> None:
    sanitizer = EscapeSanitizer("strip")
    assert sanitizer.feed("a\r") == "a\n"
    assert sanitizer.feed("\nb") == "b"
    assert sanitizer.feed("\n") == "\n"  # only the LF right after the CR is swallowed
    assert sanitizer.flush() == ""
    assert sanitizer.n_removed == 1


def test_cr_swallow_survives_empty_chunk() -> None:
    sanitizer = EscapeSanitizer("sgr")
    assert sanitizer.feed("a\r") == "a\n"
    assert sanitizer.feed("") == ""
    assert sanitizer.feed("\n") == ""


def test_escape_policy_holds_a_trailing_cr() -> None:
    sanitizer = EscapeSanitizer("escape")
    assert sanitizer.feed("a\r") == "a"
    assert sanitizer.feed("\nb\r") == "\nb"
    assert sanitizer.flush() == "␍"


def test_incomplete_sequence_is_held_then_completed() -> None:
    sanitizer = EscapeSanitizer("sgr")
    assert sanitizer.feed("red: \x1b[3") == "red: "
    assert sanitizer.feed("1mR") == "\x1b[31mR"
    assert sanitizer.feed("\x1b]0;ti") == ""
    assert sanitizer.feed("tle\x07!") == "!"
    assert sanitizer.flush() == ""


def test_lone_esc_then_flush() -> None:
    shown_at_end: list[tuple[EscapePolicy, str]] = [
        ("strip", ""),
        ("sgr", ""),
        ("escape", "␛"),
        ("raw", "\x1b"),
    ]
    for policy, shown in shown_at_end:
        sanitizer = EscapeSanitizer(policy)
        out = sanitizer.feed("x\x1b")
        assert out + sanitizer.flush() == "x" + shown, policy


def test_flush_resets() -> None:
    sanitizer = EscapeSanitizer("strip")
    assert sanitizer.feed("\x1b]0;never ended") == ""
    assert sanitizer.flush() == ""
    assert sanitizer.feed("[2Jfresh") == "[2Jfresh"


def test_n_removed_counts_code_points() -> None:
    assert run("strip", ["a\x1b[31mb\r\nc\rd\x07"]) == ("ab\nc\nd", 5 + 1 + 1 + 1)
    assert run("sgr", ["\x1b[31mb\x1b[?1m"]) == ("\x1b[31mb", 5)
    assert run("escape", ["\x1b[31m\r\n\r\u202e"]) == ("␛[31m\n␍<U+202E>", 4)
    assert run("raw", ["\x1b[31m\r"]) == ("\x1b[31m\r", 0)
    assert run("strip", ["x\x1b]0;t"]) == ("x", 5)  # dropped at flush


def test_default_bound_on_unterminated_osc() -> None:
    text = "\x1b]" + "x" * 5000
    for size in (1, 7, 1000, 4096, len(text)):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        assert run("strip", chunks) == ("x" * (5000 - 4095), 4097), size


def test_long_sequences_in_tiny_chunks() -> None:
    # A payload just under the bound, one character per chunk: the body of a
    # string is only counted, and an SGR candidate is held as a list of pieces.
    osc = "\x1b]52;c;" + "Q" * 4000 + "\x07"
    assert run("strip", list(osc)) == ("", len(osc))
    sgr = "\x1b[" + "1;" * 31 + "m"
    assert run("sgr", list(sgr)) == (sgr, 0)
    long = "\x1b[" + "1;" * 2000 + "m"  # past the 64 characters of parameters kept
    assert run("sgr", list(long)) == ("", len(long))


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="unknown escape policy"):
        EscapeSanitizer("bold")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_held_chars"):
        EscapeSanitizer(max_held_chars=0)


def test_policy_attribute() -> None:
    assert EscapeSanitizer().policy == "strip"
    assert EscapeSanitizer("sgr").policy == "sgr"


# --- properties ---

INTERESTING = [
    "\x1b", "[", "]", "\\", "0", "1", "3", "8", ";", ":", "m", "\x07", "\x9b", "\x9c",
    "\x9d", "\x90", "\x98", "\x9e", "\x9f", "\x85", "\r", "\n", "\t", "\x00", "\x01",
    "\x18", "\x7f", "\u202e", "\u2066", "\u2069", "P", "X", "^", "_", "(", "B", " ", "$",
    "?", ">", "a", "é", "🙂",
]  # fmt: skip

texts = st.lists(st.one_of(st.sampled_from(INTERESTING), st.characters()), max_size=80).map("".join)
bounds = st.sampled_from([1, 2, 3, 5, 8, 4096])


@st.composite
def chunkings(draw: st.DrawFn) -> tuple[str, list[str]]:
    text = draw(texts)
    points = draw(st.lists(st.integers(0, len(text)), max_size=8))
    return text, cut(text, tuple(sorted(points)))


@pytest.mark.parametrize("policy", ESCAPE_POLICIES)
@settings(max_examples=150, deadline=None)
@given(case=chunkings(), max_held_chars=bounds)
def test_chunking_does_not_change_output(
    policy: EscapePolicy, case: tuple[str, list[str]], max_held_chars: int
) -> None:
    text, chunks = case
    whole = run(policy, [text], max_held_chars=max_held_chars)
    assert run(policy, chunks, max_held_chars=max_held_chars) == whole
    assert run(policy, list(text), max_held_chars=max_held_chars) == whole


@pytest.mark.parametrize("policy", ["strip", "sgr"])
@settings(max_examples=100, deadline=None)
@given(case=chunkings(), max_held_chars=bounds)
def test_output_is_safe(
    policy: EscapePolicy, case: tuple[str, list[str]], max_held_chars: int
) -> None:
    _, chunks = case
    sanitizer = EscapeSanitizer(policy, max_held_chars=max_held_chars)
    pieces = [sanitizer.feed(chunk) for chunk in chunks] + [sanitizer.flush()]
    for piece in pieces:  # each piece is safe on its own, not only the whole
        if policy == "sgr":
            piece = SGR.sub("", piece)
        assert UNSAFE.search(piece) is None, ascii(piece)


@settings(max_examples=100, deadline=None)
@given(text=texts)
def test_escape_shows_every_control(text: str) -> None:
    out, n_removed = run("escape", [text])
    assert UNSAFE.search(out) is None
    assert n_removed == len(UNSAFE.findall(text))  # CR LF counts once, as the CR


@settings(max_examples=50, deadline=None)
@given(text=texts)
def test_raw_is_identity(text: str) -> None:
    sanitizer = EscapeSanitizer("raw")
    assert sanitizer.feed(text) is text
    assert sanitizer.flush() == ""


# --- a slow reference model, one character at a time, for strip and sgr ---


def _parse_sequence(text: str, i: int, max_held_chars: int) -> tuple[int, bool]:
    """Walk the sequence starting at text[i]; return where it ends and if it completed."""
    c = text[i]
    state = "esc" if c == "\x1b" else "csi" if c == "\x9b" else "string"
    k = i + 1
    while True:
        if k - i > max_held_chars:
            return k, False
        if k == len(text):
            return k, False
        c = text[k]
        if state == "esc":
            if c == "[":
                state = "csi"
            elif c in "]PX^_":
                state = "string"
            elif " " <= c <= "/":
                state = "nf"
            elif "0" <= c <= "~":
                return k + 1, True
            else:
                return k, False
        elif state == "nf":
            if "0" <= c <= "~":
                return k + 1, True
            if not " " <= c <= "/":
                return k, False
        elif state in ("csi", "csi_inter"):
            if "@" <= c <= "~":
                return k + 1, True
            if " " <= c <= "/":
                state = "csi_inter"
            elif not ("0" <= c <= "?" and state == "csi"):
                return k, False
        else:
            if c in "\x07\x9c":
                return k + 1, True
            if c == "\x1b":
                return k, False
        k += 1


def reference(policy: EscapePolicy, text: str, max_held_chars: int) -> tuple[str, int]:
    out: list[str] = []
    n_removed = 0
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\r":
            out.append("\n")
            n_removed += 1
            i += 2 if text[i + 1 : i + 2] == "\n" else 1
        elif c in "\x1b\x9b\x90\x98\x9d\x9e\x9f":
            end, complete = _parse_sequence(text, i, max_held_chars)
            if policy == "sgr" and complete and SGR.fullmatch(text, i, end):
                out.append(text[i:end])
            else:
                n_removed += end - i
            i = end
        elif UNSAFE.match(c):
            n_removed += 1
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out), n_removed


@pytest.mark.parametrize("policy", ["strip", "sgr"])
@settings(max_examples=150, deadline=None)
@given(text=texts, max_held_chars=bounds)
def test_matches_reference_model(policy: EscapePolicy, text: str, max_held_chars: int) -> None:
    assert run(policy, [text], max_held_chars=max_held_chars) == reference(
        policy, text, max_held_chars
    )


@pytest.mark.parametrize("case", SIMPLE_CASES, ids=lambda case: case.name)
def test_simple_cases_match_reference_model(case: Case) -> None:
    for policy in ("strip", "sgr"):
        expected = reference(policy, case.text, case.max_held_chars)
        assert run(policy, [case.text], max_held_chars=case.max_held_chars) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet="ab \n\r\t\x1b[31m]0;\x07\\", max_size=12), max_size=8),
    st.sampled_from(ESCAPE_POLICIES),
)
def test_the_ascii_fast_path_gives_what_feed_gives(chunks: list[str], policy: EscapePolicy) -> None:
    """feed_ascii(bytes) is feed(text) whenever it answers, whatever came before."""
    fast, slow = EscapeSanitizer(policy), EscapeSanitizer(policy)
    out_fast, out_slow = [], []
    for chunk in chunks:
        text = fast.feed_ascii(chunk.encode("ascii"))
        out_fast.append(fast.feed(chunk) if text is None else text)
        out_slow.append(slow.feed(chunk))
    assert "".join(out_fast) + fast.flush() == "".join(out_slow) + slow.flush()
    assert fast.n_removed == slow.n_removed


def test_the_ascii_fast_path_answers_for_clean_text_only() -> None:
    sanitizer = EscapeSanitizer("strip")
    assert sanitizer.feed_ascii(b"plain text\n") == "plain text\n"
    assert sanitizer.feed_ascii(b"a\x1b[2Jb") is None
    assert sanitizer.feed("x\r") == "x\n"
    assert sanitizer.feed_ascii(b"\nnext") == "next"  # the LF of the CR LF, already shown
    assert EscapeSanitizer("escape").feed_ascii(b"text") is None


# --- the UTF-8 fast path ---

SPECIAL_CHARS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F)] + [
    chr(c) for c in (*range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
]


@pytest.mark.parametrize("char", SPECIAL_CHARS, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("policy", ["strip", "sgr", "escape"])
def test_the_utf8_path_finds_every_special_character_in_the_bytes(
    char: str, policy: EscapePolicy
) -> None:
    text = f"日本 {char} 👩‍💻…"
    assert EscapeSanitizer(policy).feed_utf8(text, text.encode()) == run(policy, [text])[0]


def test_the_utf8_path_returns_clean_text_as_it_is() -> None:
    text = "“Smart quotes” — café, 日本語… 👍🏽\n"
    assert EscapeSanitizer("strip").feed_utf8(text, text.encode()) is text


def feed_bytes_like_the_pipeline(policy: EscapePolicy, chunks: list[bytes]) -> str:
    """Decode each chunk and sanitize it by its bytes, as Pipeline._feed_data does."""
    from outstream.core.utf8 import Utf8Decoder

    decoder, sanitizer = Utf8Decoder(), EscapeSanitizer(policy)
    out = []
    for chunk in chunks:
        pending = decoder.pending
        text = decoder.feed(chunk)
        seams = (pending + chunk[:3],) if pending else ()
        out.append(sanitizer.feed_utf8(text, chunk, *seams))
    tail = decoder.flush()
    return "".join(out) + sanitizer.feed(tail) + sanitizer.flush()


utf8_text = st.text(
    alphabet=st.sampled_from(
        [
            *("a", " ", "\n", "\r", "\x1b", "[", "2", "J", "]", "\x07", "é", "日", "👩", "\u200d"),
            *("\x85", "\x9b", "\u202e", "\u2066", "\u2069", "…", "“", "\u20ac"),
        ]
    ),
    max_size=30,
)


@settings(max_examples=400, deadline=None)
@given(utf8_text, st.lists(st.integers(0, 120), max_size=8), st.sampled_from(ESCAPE_POLICIES))
def test_the_utf8_path_gives_what_feed_gives_however_the_bytes_are_cut(
    text: str, cuts: list[int], policy: EscapePolicy
) -> None:
    data = text.encode()
    points = sorted({min(c, len(data)) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert feed_bytes_like_the_pipeline(policy, chunks) == run(policy, [text])[0]


# --- what "sgr" keeps, and what "display" keeps (issue 11) ---

KEPT_SGR = [
    "\x1b[m",
    "\x1b[0m",
    "\x1b[1;31m",
    "\x1b[2;3;4;7;9m",
    "\x1b[22;23;24;27;29m",
    "\x1b[39;49m",
    "\x1b[38;5;208m",
    "\x1b[48;2;10;20;30m",
    "\x1b[38:2::10:20:30m",
    "\x1b[4:3m",
    "\x1b[58;5;1m",
    "\x1b[90;107m",
    "\x1b[38;5;8m",  # 8 here is a colour, not conceal
]
REMOVED_SGR = [
    "\x1b[8m",
    "\x1b[1;8m",
    "\x1b[5m",
    "\x1b[6m",
    "\x1b[31;5m",  # conceal, blink
    "\x1b[" + ";".join(["1"] * 40) + "m",  # past 64 characters
    "\x1b[1:2:3:4:5:6:7:8m",
    "\x1b[31:1m",
    "\x1b[38;5m",
    "\x1b[38;9;1m",
    "\x1b[38;2;1;2m",
    "\x1b[?1m",
    "\x1b[<1m",
    "\x1b[1$m",
    "\x1b[12m",  # a font, a private or odd form
]


@pytest.mark.parametrize("policy", ["sgr", "display"])
def test_only_colours_and_styles_are_kept_as_sgr(policy: EscapePolicy) -> None:
    for seq in KEPT_SGR:
        for chunks in ([f"a{seq}b"], [f"a{seq[:3]}", f"{seq[3:]}b"]):
            assert run(policy, chunks)[0] == f"a{seq}b", (seq, chunks)
    for seq in REMOVED_SGR:
        for chunks in ([f"a{seq}b"], [f"a{seq[:3]}", f"{seq[3:]}b"]):
            assert run(policy, chunks)[0] == "ab", (seq, chunks)


DISPLAY_KEPT = [
    "\x1b[2J",
    "\x1b[K",
    "\x1b[3A",
    "\x1b[12;40H",
    "\x1b[f",
    "\x1b[5X",
    "\x1b[?25l",
    "\x1b[?25h",
]
DISPLAY_REMOVED = [
    "\x1b]0;title\x07",
    "\x1b]52;c;aGk=\x07",
    "\x1b]8;;http://x\x1b\\",
    "\x1bP1$r0m\x1b\\",
    "\x1b_Gf=1\x1b\\",
    "\x1b^pm\x1b\\",
    "\x1bXsos\x07",
    "\x1b[6n",
    "\x1b[c",
    "\x1b[>c",
    "\x1b[3J",
    "\x1b[?1049h",
    "\x1b[?2004h",
    "\x1b[?1000h",
    "\x1b[4h",
    "\x1b[1;24r",
    "\x1b[2S",
    "\x1b[3L",
    "\x1bc",
    "\x1b7",
    "\x1b(0",
    "\x9b2J",
    "\x1b[2 q",
    "\x1b[" + "1;" * 20 + "H",
    "\x07",
    "\x00",
]


def test_display_keeps_what_draws_a_recorded_screen_and_nothing_that_talks_to_the_host() -> None:
    for seq in DISPLAY_KEPT:
        assert run("display", [f"a{seq}b"])[0] == f"a{seq}b", seq
        assert run("sgr", [f"a{seq}b"])[0] == "ab", seq  # "sgr" keeps colours only
    for seq in DISPLAY_REMOVED:
        for at in range(len(seq) + 1):
            chunks = [f"a{seq[:at]}", f"{seq[at:]}b"]
            assert run("display", chunks)[0] == "ab", (seq, at)
    assert run("display", ["\r\x1b[2K\x1b[1Aab\x08c\r\n"])[0] == "\r\x1b[2K\x1b[1Aab\x08c\r\n"
