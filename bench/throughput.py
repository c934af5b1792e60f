"""Throughput without pacing: the library on a generator, and the CLI pipe to pipe.

What it measures
(a) 1 000 000 four-character chunks from a generator, written into a pipe
    that this script drains, by three child processes:
      ours   outstream.stream(gen, file=sys.stdout, pace=outstream.Instant())
      naive  for c in gen: print(c, end="", flush=True)
      frame  the bare frame loop: append each chunk to a list, check
             time.monotonic() per chunk, and write + flush the joined list
             once per 16 ms frame (and at the end).
    Each is run ROUNDS times, interleaved; the median is reported.
    wall = spawn -> exit (interpreter start-up and imports included);
    loop = the child's own perf_counter around the loop, printed on stderr
    (start-up and imports excluded). Goals are judged on wall time.

(b) `outstream --instant` copying 100 MB of printable ASCII (base64 lines
    with newlines) from a pipe to a pipe, against a child running
    shutil.copyfileobj(sys.stdin.buffer, sys.stdout.buffer). This script
    feeds stdin from a prepared 1 MiB buffer in a thread and drains stdout,
    checking the byte count and CRC-32 of what comes out. Throughput =
    bytes / wall (spawn -> exit); RSS = the child's ru_maxrss (os.wait4),
    taken by a small launcher process (see _common.spawn_measured: Linux
    carries a parent's peak RSS into ru_maxrss of the child it forks, so a
    child of this script would report this script's RSS).
    Then the same with 1 GB (once each), by default when the 100 MB run
    says it fits in the time budget, or always with --big (never with
    --no-big).

(c) The same pipe to pipe with 100 MB of text beyond ASCII (issue 10), each
    a 1 MB block repeated: "mixed", a deterministic block of paragraphs
    (English with curly quotes and emoji, accented Latin, some of it
    decomposed with combining marks, Chinese, Japanese, Korean, Hindi,
    Russian, Greek, Arabic, lines of emoji with ZWJ sequences, flags, skin
    tones and VS16, code), and "issue line", the line the issue measured.
    Against copyfileobj; then `outstream --instant --stats` on the same
    input against `outstream --instant`, checking the grapheme and word
    counts it prints against regex's \\X and str.split() over the block.

Goals (from the issue)
    (a) ours >= 3x faster than naive, and >= 0.5x the speed of the bare
        frame loop.
    (b) ours >= 0.5x the throughput of copyfileobj, child peak RSS <= 64 MiB;
        at 1 GB, RSS <= 64 MiB.
    (c) ours >= 0.5x the throughput of copyfileobj, RSS <= 64 MiB; with
        --stats <= 1.5x the time without, and counts equal to the reference.

Run: python bench/throughput.py [--big | --no-big]
"""

from __future__ import annotations

import base64
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import zlib
from typing import Any

from _common import (
    child_env,
    compile_package,
    fmt_table,
    outstream_exe,
    report,
    spawn_measured,
    verdict,
)

N_CHUNKS = 1_000_000
ROUNDS = 3
MB = 1_000_000
MIB = 1024 * 1024
SMALL = 100 * MB
BIG = 1000 * MB
RSS_GOAL_MIB = 64
BUDGET_BIG = 60.0  # seconds the 1 GB runs may take, estimated from the 100 MB ones

GEN = r"""
import sys, time
TOKENS = ["The ", "cat ", "sat ", "on t", "he m", "at, ", "and ", "then", " it\n"]
def chunks(n=1_000_000):
    k = len(TOKENS)
    for i in range(n):
        yield TOKENS[i % k]
"""

CHILDREN = {
    "ours": GEN
    + r"""
import outstream
t0 = time.perf_counter()
outstream.stream(chunks(), file=sys.stdout, pace=outstream.Instant())
sys.stdout.flush()
print(time.perf_counter() - t0, file=sys.stderr)
""",
    "naive": GEN
    + r"""
t0 = time.perf_counter()
for c in chunks():
    print(c, end="", flush=True)
print(time.perf_counter() - t0, file=sys.stderr)
""",
    "frame": GEN
    + r"""
t0 = time.perf_counter()
out, mono, frame = sys.stdout, time.monotonic, 1 / 60
buf = []
next_t = mono() + frame
for c in chunks():
    buf.append(c)
    now = mono()
    if now >= next_t:
        out.write("".join(buf))
        out.flush()
        buf.clear()
        next_t = now + frame
out.write("".join(buf))
out.flush()
print(time.perf_counter() - t0, file=sys.stderr)
""",
}

COPY = "import shutil, sys; shutil.copyfileobj(sys.stdin.buffer, sys.stdout.buffer)"


class PipeRun:
    """A child with stdin fed from `feed` (n_bytes of `block` repeated) and stdout drained."""

    def __init__(self, argv: list[str], block: bytes | None = None, n_bytes: int = 0) -> None:
        with tempfile.TemporaryFile() as err:
            spawned = spawn_measured(
                argv,
                stdin=subprocess.PIPE if block is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                env=child_env(),
                close_fds=True,
            )
            proc = spawned.proc
            feeder = None
            if block is not None:
                assert proc.stdin is not None
                feeder = threading.Thread(
                    target=self._feed, args=(proc.stdin, block, n_bytes), daemon=True
                )
                feeder.start()
            assert proc.stdout is not None
            fd = proc.stdout.fileno()
            n_out = 0
            crc = 0
            while True:
                data = os.read(fd, MIB)
                if not data:
                    break
                n_out += len(data)
                crc = zlib.crc32(data, crc)
            if feeder is not None:
                feeder.join()
            measured = spawned.wait()
            proc.stdout.close()
            err.seek(0)
            self.stderr = err.read().decode(errors="replace")
        self.wall = measured.wall
        self.returncode = measured.returncode
        self.n_out = n_out
        self.crc = crc
        self.rss_mib = measured.rss_mib
        self.cpu = measured.cpu

    @staticmethod
    def _feed(stdin: Any, block: bytes, n_bytes: int) -> None:
        fd = stdin.fileno()
        view = memoryview(block)
        left = n_bytes
        try:
            while left > 0:
                chunk = view[: min(left, len(view))]
                while chunk:
                    n = os.write(fd, chunk)
                    chunk = chunk[n:]
                left -= min(left, len(view))
        except BrokenPipeError:
            pass
        finally:
            stdin.close()

    def loop_seconds(self) -> float | None:
        try:
            return float(self.stderr.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return None


# --- (c) mixed-script text ---

MIXED_ROUNDS = 3
STATS_GOAL = 1.5
MIXED_SCRIPTS = (
    "English with emoji, accented and decomposed Latin, CJK, Korean, Hindi, Cyrillic, "
    "Greek, Arabic, ZWJ/flag/skin-tone emoji, code"
)

_ENGLISH = (
    "The model streams its answer token by token, and the terminal shows it as it comes",
    "A chunk boundary can fall anywhere, even inside a character or a cluster",
    "Nobody wants to wait for a whole paragraph before the first word appears",
    "Life is an unending stream of extenuating circumstances",
    "We measured it twice, on a quiet machine and on a busy one",
    "The pipe holds 64 KiB, so the writer runs ahead while the reader works",
)
# ZWJ sequences, flags (regional indicator pairs), skin tones, VS16, a keycap.
_EMOJI = (
    "🙂", "🎉", "🚀", "✅", "❤\ufe0f", "👍🏽", "👩\u200d💻", "🇫🇷", "🇯🇵", "🔥", "😂", "🤔", "✨",
    "🏳\ufe0f\u200d🌈",
)  # fmt: skip
_EMOJI_LINE = (
    *_EMOJI,
    "👨\u200d👩\u200d👧\u200d👦", "🇺🇦🇧🇷🇮🇳", "👋🏿", "🧑🏽\u200d🚀", "1\ufe0f\u20e3", "☀\ufe0f",
)  # fmt: skip
_OTHER = (
    # accented Latin, precomposed (NFC) as most text is
    "Ça va très bien, merci — et vous ? Naïve café, crème brûlée, façade, déjà vu.",
    "El niño comió piña en la montaña; mañana irá a España con su señora.",
    "Größere Äpfel über Öl: Fußgänger müssen schön grüßen, sagt der Bäcker.",
    "Wer zuletzt lacht, lacht am besten – außer er lacht über sich selbst.",
    # decomposed (NFD): combining marks after their base letters
    "Cafe\u0301 au lait, re\u0301sume\u0301, nai\u0308ve, Noe\u0308l, pin\u0303a colada.",
    "Tie\u0302\u0301ng Vie\u0323\u0302t co\u0301 nhie\u0302\u0300u da\u0302\u0301u thanh.",
    # Chinese, Japanese (kana and kanji), Korean (precomposed syllables)
    "流式输出让用户在模型生成答案的同时看到文字，而不必等待整段内容。这是一个测试句子。",
    "ストリーミング出力では、モデルが答えを生成しながら文字が表示されます。「ありがとう」と言った。",
    "스트리밍 출력은 모델이 답을 만드는 동안 글자를 보여 줍니다. 감사합니다, 안녕하세요.",
    # Hindi (viramas, conjuncts), Russian, Greek, Arabic
    "हिन्दी में क्षमा, विद्या, श्रद्धा और स्वतन्त्रता जैसे संयुक्ताक्षर बहुत आम हैं।",
    "Потоковый вывод показывает ответ модели по мере его появления, слово за словом.",
    "Η ροή εξόδου δείχνει την απάντηση του μοντέλου καθώς αυτή γράφεται, λέξη προς λέξη.",
    "يعرض الإخراج المتدفق إجابة النموذج أثناء كتابتها، كلمة بكلمة.",
)
_CODE = (
    "    for chunk in llm.stream(prompt):",
    '        print(chunk, end="", flush=True)',
    "    result = outstream.stream(chunks, pace=outstream.Smooth(lag=0.5))",
    "    assert result.stats.n_graphemes == len(regex.findall(r'\\X', text))",
)


def mixed_block(size: int = MB) -> bytes:
    """About `size` bytes of paragraphs in many scripts, the same every run (seeded).

    Ends with a newline, so that the block repeated is the text repeated.
    """
    rng = random.Random(10)
    out: list[str] = []
    n = 0
    while n < size:
        kind = rng.random()
        if kind < 0.5:  # English, with typographic quotes, dashes and emoji
            words = []
            for _ in range(rng.randint(2, 5)):
                sentence = rng.choice(_ENGLISH)
                if rng.random() < 0.3:
                    sentence = f"“{sentence}” — she said"
                words.append(sentence + rng.choice((".", "…", "!", "?")))
                if rng.random() < 0.35:
                    words.append(rng.choice(_EMOJI))
            line = " ".join(words)
        elif kind < 0.85:
            line = " ".join(rng.choice(_OTHER) for _ in range(rng.randint(1, 3)))
        elif kind < 0.92:  # a line of emoji: ZWJ families, flags, skin tones, VS16
            line = " ".join(rng.choice(_EMOJI_LINE) for _ in range(rng.randint(3, 12)))
        else:
            line = "\n".join(rng.choice(_CODE) for _ in range(rng.randint(2, 6)))
        paragraph = line + ("\n\n" if rng.random() < 0.5 else "\n")
        out.append(paragraph)
        n += len(paragraph.encode())
    return "".join(out).encode()


def printable_block() -> bytes:
    """1 MiB of base64 lines (76 characters and a newline): printable ASCII."""
    rng = random.Random(1)
    raw = rng.randbytes(MIB)
    return base64.encodebytes(raw)[:MIB]


def expected_crc(block: bytes, n_bytes: int) -> int:
    crc = 0
    left = n_bytes
    while left > 0:
        piece = block[: min(left, len(block))]
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    return crc


def part_a(failures: list[str]) -> None:
    print(
        f"(a) {N_CHUNKS:,} four-character chunks from a generator into a pipe, "
        f"median of {ROUNDS} interleaved rounds"
    )
    runs: dict[str, list[PipeRun]] = {name: [] for name in CHILDREN}
    for _ in range(ROUNDS):
        for name, code in CHILDREN.items():
            run = PipeRun([sys.executable, "-c", code])
            if run.returncode != 0 or run.n_out != 4 * N_CHUNKS:
                failures.append(
                    f"(a) {name}: exit {run.returncode}, {run.n_out:,} bytes out "
                    f"(want {4 * N_CHUNKS:,}): {run.stderr.strip()[-300:]}"
                )
            runs[name].append(run)
    wall = {n: statistics.median(r.wall for r in rs) for n, rs in runs.items()}
    loop = {
        n: statistics.median(r.loop_seconds() or float("nan") for r in rs) for n, rs in runs.items()
    }
    rss = {n: max(r.rss_mib for r in rs) for n, rs in runs.items()}
    ok_naive = wall["naive"] / wall["ours"] >= 3
    ok_frame = wall["frame"] / wall["ours"] >= 0.5
    rows = [
        [
            "ours",
            f"{wall['ours']:.3f}",
            f"{loop['ours']:.3f}",
            "1.00x",
            "",
            "",
            f"{rss['ours']:.1f}",
            "",
        ],
        [
            "naive print(flush=True)",
            f"{wall['naive']:.3f}",
            f"{loop['naive']:.3f}",
            f"{wall['naive'] / wall['ours']:.2f}x",
            f"{loop['naive'] / loop['ours']:.2f}x",
            ">= 3x",
            f"{rss['naive']:.1f}",
            verdict(ok_naive),
        ],
        [
            "bare frame loop",
            f"{wall['frame']:.3f}",
            f"{loop['frame']:.3f}",
            f"{wall['frame'] / wall['ours']:.2f}x",
            f"{loop['frame'] / loop['ours']:.2f}x",
            ">= 0.5x",
            f"{rss['frame']:.1f}",
            verdict(ok_frame),
        ],
    ]
    print(
        fmt_table(
            [
                "who",
                "wall s",
                "loop s",
                "ours speed (wall)",
                "ours speed (loop)",
                "goal",
                "RSS MiB",
                "result",
            ],
            rows,
        )
    )
    print("ours speed = peer's time / our time (higher is better for us); goal judged on wall.\n")
    if not ok_naive:
        failures.append(
            f"(a) ours is {wall['naive'] / wall['ours']:.2f}x faster than naive (goal >= 3x)"
        )
    if not ok_frame:
        failures.append(
            f"(a) ours runs at {wall['frame'] / wall['ours']:.2f}x the bare frame loop's speed "
            "(goal >= 0.5x)"
        )


def pipe_rows(
    label: str, n_bytes: int, block: bytes, rounds: int, failures: list[str], rss_only: bool
) -> tuple[list[list[object]], float]:
    exe = outstream_exe()
    want_crc = expected_crc(block, n_bytes)
    ours_runs: list[PipeRun] = []
    copy_runs: list[PipeRun] = []
    for _ in range(rounds):
        ours_runs.append(PipeRun([exe, "--instant"], block, n_bytes))
        copy_runs.append(PipeRun([sys.executable, "-c", COPY], block, n_bytes))
    for name, rs in (("ours", ours_runs), ("copyfileobj", copy_runs)):
        for r in rs:
            if r.returncode != 0 or r.n_out != n_bytes or r.crc != want_crc:
                failures.append(
                    f"(b) {label} {name}: exit {r.returncode}, {r.n_out:,} of {n_bytes:,} bytes, "
                    f"crc {'ok' if r.crc == want_crc else 'WRONG'}: {r.stderr.strip()[-300:]}"
                )
    ours_wall = statistics.median(r.wall for r in ours_runs)
    copy_wall = statistics.median(r.wall for r in copy_runs)
    ours_rss = max(r.rss_mib for r in ours_runs)
    copy_rss = max(r.rss_mib for r in copy_runs)
    ratio = copy_wall / ours_wall
    ok_speed = None if rss_only else ratio >= 0.5
    ok_rss = ours_rss <= RSS_GOAL_MIB
    if ok_speed is False:
        failures.append(
            f"(b) {label}: ours at {n_bytes / ours_wall / MB:.0f} MB/s is {ratio:.2f}x "
            f"copyfileobj's {n_bytes / copy_wall / MB:.0f} MB/s (goal >= 0.5x)"
        )
    if not ok_rss:
        failures.append(
            f"(b) {label}: ours peak RSS {ours_rss:.1f} MiB (goal <= {RSS_GOAL_MIB} MiB)"
        )
    rows: list[list[object]] = [
        [
            label,
            "ours --instant",
            f"{ours_wall:.3f}",
            f"{n_bytes / ours_wall / MB:.0f}",
            f"{ratio:.2f}x",
            "(info)" if rss_only else ">= 0.5x",
            f"{ours_rss:.1f}",
            f"<= {RSS_GOAL_MIB}",
            f"{statistics.median(r.cpu for r in ours_runs):.2f}",
            verdict(ok_rss if ok_speed is None else (ok_speed and ok_rss)),
        ],
        [
            "",
            "copyfileobj",
            f"{copy_wall:.3f}",
            f"{n_bytes / copy_wall / MB:.0f}",
            "",
            "",
            f"{copy_rss:.1f}",
            "",
            f"{statistics.median(r.cpu for r in copy_runs):.2f}",
            "",
        ],
    ]
    return rows, ours_wall + copy_wall


def part_b(failures: list[str], big: bool | None) -> None:
    print(
        "(b) pipe -> child -> pipe, printable ASCII with newlines; "
        "throughput = bytes / wall (spawn -> exit)"
    )
    block = printable_block()
    rows, seconds = pipe_rows("100 MB", SMALL, block, ROUNDS, failures, rss_only=False)
    per_round = seconds  # ours + copy, one round of 100 MB (medians)
    estimate = per_round * BIG / SMALL
    note = ""
    if big is None:
        big = estimate <= BUDGET_BIG
        if not big:
            note = (
                f"1 GB skipped: estimated {estimate:.0f} s from the 100 MB runs, over the "
                f"{BUDGET_BIG:.0f} s budget; run with --big to include it."
            )
    if big:
        more, _ = pipe_rows("1 GB", BIG, block, 1, failures, rss_only=True)
        rows += more
    print(
        fmt_table(
            [
                "size",
                "who",
                "wall s",
                "MB/s",
                "ours/copy",
                "goal",
                "RSS MiB",
                "goal",
                "CPU s",
                "result",
            ],
            rows,
        )
    )
    if note:
        print(note)
    print(
        f"100 MB: median of {ROUNDS} interleaved rounds; 1 GB: one run each "
        "(speed shown for information; only RSS is a goal there).\n"
    )


class MixedReference:
    """What `outstream --stats` must count in `repeats` copies of `block` (exact, by regex's \\X)."""

    def __init__(self, block: bytes, repeats: int) -> None:
        import regex

        text = block.decode()
        # The block starts and ends at a cluster and a word boundary (it ends
        # with a newline), so its copies count the same, one after another.
        self.n_chars = repeats * len(text)
        self.n_graphemes = repeats * len(regex.findall(r"\X", text))
        self.n_words = repeats * len(text.split())

    def check(self, stderr: str) -> str | None:
        """None if the stats printed match; else what differs."""
        found = re.search(r"outstream: ([\d,]+) chars, ([\d,]+) graphemes, ([\d,]+) words", stderr)
        if found is None:
            return f"no stats in: {stderr.strip()[-200:]!r}"
        got = tuple(int(g.replace(",", "")) for g in found.groups())
        want = (self.n_chars, self.n_graphemes, self.n_words)
        return None if got == want else f"counted {got}, want {want} (chars, graphemes, words)"


ISSUE_LINE = "Life is an unending stream of extenuating circumstances. ñ 中 🙂\n"


def part_c(failures: list[str]) -> None:
    print(
        "(c) pipe -> child -> pipe, 100 MB of text beyond ASCII; "
        f"median of {MIXED_ROUNDS} interleaved rounds"
    )
    inputs = {
        # (label, 1 MB block): the block repeated is the input
        "mixed": mixed_block(),
        "issue line": ISSUE_LINE.encode() * (MB // len(ISSUE_LINE.encode())),
    }
    rows: list[list[object]] = []
    notes = []
    for label, block in inputs.items():
        more, note = mixed_rows(label, block, failures)
        rows += more
        notes.append(note)
    print(
        fmt_table(
            ["input", "who", "wall s", "MB/s", "ratio", "goal", "RSS MiB", "CPU s", "result"], rows
        )
    )
    print(f"mixed: a 1 MB block of {MIXED_SCRIPTS}; issue line: {ISSUE_LINE.strip()!r} repeated.")
    print("\n".join(notes))
    print("ratio: copyfileobj's time / ours, and --stats's time / without.\n")


def mixed_rows(label: str, block: bytes, failures: list[str]) -> tuple[list[list[object]], str]:
    """Ours, ours with --stats, and copyfileobj on `block` repeated to 100 MB."""
    repeats = SMALL // len(block)
    n_bytes = repeats * len(block)
    exe = outstream_exe()
    want_crc = expected_crc(block, n_bytes)
    reference = MixedReference(block, repeats)
    argvs = {
        "ours --instant": [exe, "--instant"],
        "ours --instant --stats": [exe, "--instant", "--stats"],
        "copyfileobj": [sys.executable, "-c", COPY],
    }
    runs: dict[str, list[PipeRun]] = {name: [] for name in argvs}
    for _ in range(MIXED_ROUNDS):
        for name, argv in argvs.items():
            run = PipeRun(argv, block, n_bytes)
            runs[name].append(run)
            if run.returncode != 0 or run.n_out != n_bytes or run.crc != want_crc:
                failures.append(
                    f"(c) {label}, {name}: exit {run.returncode}, {run.n_out:,} of "
                    f"{n_bytes:,} bytes, crc {'ok' if run.crc == want_crc else 'WRONG'}: "
                    f"{run.stderr.strip()[-300:]}"
                )
            if name.endswith("--stats") and (wrong := reference.check(run.stderr)):
                failures.append(f"(c) {label}, {name}: {wrong}")
    wall = {n: statistics.median(r.wall for r in rs) for n, rs in runs.items()}
    rss = {n: max(r.rss_mib for r in rs) for n, rs in runs.items()}
    cpu = {n: statistics.median(r.cpu for r in rs) for n, rs in runs.items()}
    speed = wall["copyfileobj"] / wall["ours --instant"]
    slowdown = wall["ours --instant --stats"] / wall["ours --instant"]
    rows: list[list[object]] = []
    for name in argvs:
        ratio, goal, ok = "", "", None
        if name == "ours --instant":
            ratio, goal, ok = f"{speed:.2f}x", ">= 0.5x", speed >= 0.5
        elif name.endswith("--stats"):
            ratio, goal, ok = f"{slowdown:.2f}x", f"<= {STATS_GOAL}x", slowdown <= STATS_GOAL
        if name.startswith("ours"):
            ok = ok and rss[name] <= RSS_GOAL_MIB
            if rss[name] > RSS_GOAL_MIB:
                failures.append(
                    f"(c) {label}, {name}: peak RSS {rss[name]:.1f} MiB (goal <= {RSS_GOAL_MIB})"
                )
        rows.append(
            [
                label if name == "ours --instant" else "",
                name,
                f"{wall[name]:.3f}",
                f"{n_bytes / wall[name] / MB:.0f}",
                ratio,
                goal,
                f"{rss[name]:.1f}",
                f"{cpu[name]:.2f}",
                verdict(ok),
            ]
        )
    if speed < 0.5:
        failures.append(
            f"(c) {label}: ours at {n_bytes / wall['ours --instant'] / MB:.0f} MB/s is "
            f"{speed:.2f}x copyfileobj's {n_bytes / wall['copyfileobj'] / MB:.0f} MB/s "
            "(goal >= 0.5x)"
        )
    if slowdown > STATS_GOAL:
        failures.append(
            f"(c) {label}: --stats takes {slowdown:.2f}x the time without (goal <= {STATS_GOAL}x)"
        )
    non_ascii = sum(b >= 0x80 for b in block) / len(block)
    note = (
        f"{label}: {n_bytes:,} bytes ({non_ascii:.0%} of them beyond ASCII), "
        f"{reference.n_chars:,} chars, {reference.n_graphemes:,} graphemes, "
        f"{reference.n_words:,} words: what --stats printed, checked."
    )
    return rows, note


def main() -> int:
    compile_package()
    big: bool | None = None
    if "--big" in sys.argv[1:]:
        big = True
    if "--no-big" in sys.argv[1:]:
        big = False
    print(__doc__.split("\n\n")[0])
    print(f"outstream: {outstream_exe()}   python: {sys.executable}\n")
    failures: list[str] = []
    part_a(failures)
    part_b(failures, big)
    part_c(failures)
    return report(failures)


if __name__ == "__main__":
    sys.exit(main())
