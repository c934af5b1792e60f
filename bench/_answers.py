"""Realistic model answers and their recordings, made deterministically (not a benchmark).

`answer(n_chars)` is Markdown of the shapes models produce: headings,
paragraphs with inline code, emphasis and links, nested lists, tables of
many rows, fenced Python and JSON, block quotes, a few non-ASCII words.
`recording(text, seconds)` is a ``--save-deltas`` recording of it streamed
token by token, as from an OpenAI-compatible endpoint: tokens of one to
five characters, evenly over `seconds` with a little jitter.
"""

from __future__ import annotations

import json
import random
import re

__all__ = ["answer", "recording", "write_recording"]

_WORDS = [
    "the",
    "stream",
    "of",
    "tokens",
    "arrives",
    "in",
    "bursts",
    "because",
    "a",
    "proxy",
    "batches",
    "network",
    "reads",
    "and",
    "the",
    "terminal",
    "shows",
    "each",
    "chunk",
    "as",
    "it",
    "comes",
    "so",
    "a",
    "reader",
    "sees",
    "text",
    "jump",
    "forward",
    "then",
    "stall",
    "while",
    "the",
    "model",
    "keeps",
    "generating",
    "at",
    "a",
    "steady",
    "rate",
    "behind",
    "the",
    "scenes",
    "which",
    "is",
    "why",
    "pacing",
    "on",
    "an",
    "absolute",
    "schedule",
    "matters",
    "for",
    "comfortable",
    "reading",
    "of",
    "long",
    "answers",
]
_CODE = ["stream()", "Smooth(lag=0.5)", "sys.stdout", "--save-deltas", "flush=True", "read1"]
_NAMES = ["pipeline", "sanitizer", "decoder", "pacer", "renderer", "sink", "channel"]


def _plain(rng: random.Random, n: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(n)]
    return " ".join([words[0].capitalize(), *words[1:]])


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 22))]
    words[0] = words[0].capitalize()
    for i in rng.sample(range(1, len(words)), rng.randint(0, 2)):
        style = rng.choice(["code", "bold", "em", "link"])
        if style == "code":
            words[i] = f"`{rng.choice(_CODE)}`"
        elif style == "bold":
            words[i] = f"**{words[i]}**"
        elif style == "em":
            words[i] = f"*{words[i]}*"
        else:
            words[i] = f"[{words[i]}](https://example.com/{words[i]})"
    if rng.random() < 0.1:
        words.append(rng.choice(["(日本語)", "— café", "naïve", "✓", "🙂"]))
    return " ".join(words) + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 6)))


def _table(rng: random.Random) -> str:
    rows = ["| component | role | cost per frame | notes |", "|---|---|---:|---|"]
    for _ in range(rng.randint(6, 16)):
        name = rng.choice(_NAMES)
        rows.append(
            f"| `{name}` | {' '.join(rng.choice(_WORDS) for _ in range(3))} "
            f"| {rng.uniform(0.01, 2):.2f} ms | {' '.join(rng.choice(_WORDS) for _ in range(5))} |"
        )
    return "\n".join(rows)


def _python(rng: random.Random) -> str:
    name = rng.choice(_NAMES)
    body = [
        "```python",
        f"def run_{name}(chunks, *, lag: float = 0.5) -> int:",
        f'    """Feed each chunk to the {name} and count what comes out."""',
        "    n = 0",
        "    for chunk in chunks:",
        f"        out = {name}.feed(chunk)  # {rng.choice(_WORDS)} {rng.choice(_WORDS)}",
        "        if out:",
        "            n += len(out)",
    ]
    for k in range(rng.randint(2, 8)):
        body.append(f"    n += {k} * len({rng.choice(_NAMES)}.flush())")
    body += ["    return n", "```"]
    return "\n".join(body)


def _json(rng: random.Random) -> str:
    obj = {
        "model": "gpt-4o-mini",
        "stream": True,
        "messages": [{"role": "user", "content": _sentence(rng)}],
        "options": {name: rng.randint(0, 100) for name in rng.sample(_NAMES, 4)},
    }
    return "```json\n" + json.dumps(obj, indent=2, ensure_ascii=False) + "\n```"


def _list(rng: random.Random) -> str:
    lines = []
    for i in range(rng.randint(3, 7)):
        lines.append(f"{i + 1}. {_sentence(rng)}")
        for _ in range(rng.randint(0, 2)):
            lines.append(f"   - {_sentence(rng)}")
    return "\n".join(lines)


def _quote(rng: random.Random) -> str:
    return "> " + _sentence(rng) + "\n> " + _sentence(rng)


def answer(n_chars: int, seed: int = 1) -> str:
    """About `n_chars` of realistic Markdown (whole blocks), the same for the same arguments."""
    rng = random.Random(seed)
    blocks = [f"# {_plain(rng, 6)}", _paragraph(rng)]
    makers = [_paragraph, _paragraph, _paragraph, _list, _table, _python, _json, _quote]
    size = sum(map(len, blocks))
    while size < n_chars:
        if rng.random() < 0.12:
            block = f"## {_plain(rng, rng.randint(3, 8))}"
        else:
            block = rng.choice(makers)(rng)
        blocks.append(block)
        size += len(block) + 2
    return "\n\n".join(blocks) + "\n"


def tokens(text: str) -> list[str]:
    """The text cut as a model's tokenizer roughly would: one to five characters."""
    return re.findall(r"\s*\S{1,4}|\s+", text)


def recording(text: str, seconds: float, seed: int = 1) -> list[dict[str, object]]:
    """The lines of a ``--save-deltas`` file: `text` token by token over `seconds`."""
    rng = random.Random(seed)
    pieces = tokens(text)
    lines: list[dict[str, object]] = [
        {
            "format": "outstream-deltas",
            "version": 1,
            "started": "2026-12-02T00:00:00.000+00:00",
            "source": "bench/_answers.py: a modelled answer",
            "model": None,
        }
    ]
    t = 0.0
    for i, piece in enumerate(pieces):
        t = max(t, 0.3 + seconds * i / len(pieces) + rng.uniform(0, 0.002))
        lines.append({"t": round(t, 4), "text": piece})
    lines.append({"t": round(t, 4), "end": True})
    return lines


def write_recording(path: str, text: str, seconds: float) -> float:
    """Write `recording(text, seconds)` to `path`; return its length in seconds."""
    lines = recording(text, seconds)
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    return float(lines[-1]["t"])  # type: ignore[arg-type]
