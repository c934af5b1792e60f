"""Realistic model answers in Markdown, generated deterministically (not a benchmark itself).

The shapes a chat model gives a technical question: an opening paragraph,
then numbered sections, each with long paragraphs (inline code, bold,
italics, now and then a link), bullet lists with nested items, numbered
lists with a bold lead and sub-bullets, tables of 6-40 rows, fenced JSON
and Python, block quotes ("> **Note:** ..."), subheadings. The words are
drawn from a fixed vocabulary with a seeded `random.Random`, so the same
size and seed give the same text on every machine and Python version
(``Random.choice`` and ``randint`` are stable for an int seed).

`recording(text, seconds)` is a ``--save-deltas`` recording of such an
answer streamed token by token, as from an OpenAI-compatible endpoint:
tokens of one to five characters, evenly over `seconds` with a little
jitter.

    python bench/_realistic.py 50000 > answer.md     # about 50 KB, seed 10
"""

from __future__ import annotations

import json
import random
import re
import sys

__all__ = ["realistic_answer", "recording", "tiny_answer", "write_recording"]

_VOCABULARY = (
    "the a an of to in for on with by from as at is are be can will should may "
    "request response buffer stream token client server cache index query value "
    "function method class module package thread process queue worker timeout retry "
    "error handler config setting option default field record table column row key "
    "latency throughput memory disk network schema migration model layer batch "
    "parse render encode decode validate serialize flush write read open close "
    "fast slow safe simple large small first last each every other same new old "
    "because when while if then so but and or not only also still just even"
)
_WORDS = _VOCABULARY.split()
_CODE = (
    "asyncio.gather",
    "max_retries",
    "timeout=30",
    "__init__",
    "dict.get",
    "json.loads",
    "Session.commit()",
    "os.environ",
    "pytest -q",
    "pip install -e .",
    "None",
    "True",
    "self._cache",
    "await client.send()",
    "SELECT *",
    "user_id",
    "Content-Type",
    "npm run build",
    "git rebase -i",
    "ValueError",
    "list[str]",
    "@dataclass",
    "yield from",
)
_TOPICS = (
    "Connection pooling",
    "Back-pressure",
    "Retries",
    "Caching",
    "Batching",
    "Idempotency",
    "Observability",
    "Schema evolution",
    "Rate limiting",
    "Timeouts",
)


class _Writer:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def word(self) -> str:
        r = self.r
        x = r.random()
        if x < 0.05:
            return f"`{r.choice(_CODE)}`"
        if x < 0.075:
            return f"**{r.choice(_WORDS)} {r.choice(_WORDS)}**"
        if x < 0.095:
            return f"*{r.choice(_WORDS)}*"
        if x < 0.1:
            return f"[{r.choice(_WORDS)}](https://example.com/{r.choice(_WORDS)})"
        return r.choice(_WORDS)

    def sentence(self) -> str:
        words = [self.word() for _ in range(self.r.randint(8, 24))]
        words[0] = words[0][:1].upper() + words[0][1:]
        return " ".join(words) + self.r.choice("....?")

    def paragraph(self, least: int = 3, most: int = 9) -> str:
        return " ".join(self.sentence() for _ in range(self.r.randint(least, most)))

    def bullets(self) -> str:
        r = self.r
        out = []
        for _ in range(r.randint(3, 9)):
            lead = f"**{r.choice(_TOPICS)}**: " if r.random() < 0.5 else ""
            out.append(f"- {lead}{self.paragraph(1, 2)}")
            if r.random() < 0.35:
                for _ in range(r.randint(1, 4)):
                    out.append(f"  - {self.sentence()}")
                    if r.random() < 0.2:
                        out.append(f"    - {self.sentence()}")
        return "\n".join(out)

    def numbered(self) -> str:
        r = self.r
        out = []
        for i in range(1, r.randint(3, 12) + 1):
            out.append(f"{i}. **{r.choice(_TOPICS)}.** {self.paragraph(1, 3)}")
            if r.random() < 0.3:
                for _ in range(r.randint(1, 3)):
                    out.append(f"   - {self.sentence()}")
        return "\n".join(out)

    def table(self) -> str:
        r = self.r
        head = ["Option", "Default", "Effect", "Notes", "Since"][: r.randint(3, 5)]
        out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        for _ in range(r.randint(6, 40)):
            cells = [f"`{r.choice(_CODE)}`", str(r.randint(0, 1000))]
            cells += [" ".join(self.word() for _ in range(r.randint(2, 8))) for _ in head[2:]]
            out.append("| " + " | ".join(cells) + " |")
        return "\n".join(out)

    def json_block(self) -> str:
        r = self.r
        lines = ["```json", "{"]
        n = r.randint(4, 14)
        for i in range(n):
            key = r.choice(_WORDS) + "_" + r.choice(_WORDS)
            comma = "," if i < n - 1 else ""
            kind = r.random()
            if kind < 0.3:
                lines.append(f'  "{key}": {{')
                m = r.randint(2, 5)
                for j in range(m):
                    lines.append(
                        f'    "{r.choice(_WORDS)}": {r.randint(0, 9999)}{"," if j < m - 1 else ""}'
                    )
                lines.append(f"  }}{comma}")
            elif kind < 0.5:
                items = ", ".join(f'"{r.choice(_WORDS)}"' for _ in range(r.randint(1, 5)))
                lines.append(f'  "{key}": [{items}]{comma}')
            elif kind < 0.7:
                lines.append(f'  "{key}": {r.choice(["true", "false", "null"])}{comma}')
            else:
                lines.append(f'  "{key}": "{r.choice(_WORDS)} {r.choice(_WORDS)}"{comma}')
        lines += ["}", "```"]
        return "\n".join(lines)

    def python_block(self) -> str:
        r = self.r
        name = r.choice(_WORDS) + "_" + r.choice(_WORDS)
        lines = ["```python", "import asyncio", "from dataclasses import dataclass", ""]
        for _ in range(r.randint(1, 3)):
            function = r.choice(["fetch", "parse", "load", "retry", "flush"]) + "_"
            function += r.choice(_WORDS)
            lines.append(
                f"async def {function}(client, {name}: str, timeout: float = 30.0) -> dict:"
            )
            lines.append(f'    """{self.sentence()}"""')
            for _ in range(r.randint(3, 12)):
                v = r.choice(_WORDS) + "_" + str(r.randint(0, 99))
                lines.append(
                    r.choice(
                        [
                            f'    {v} = await client.get(f"/items/{{{name}}}", timeout=timeout)',
                            f'    if {v} is None:\n        raise ValueError("missing {v}")',
                            f"    # {self.sentence()}",
                            f'    for item in {v}.items():\n        print(item, sep=", ")',
                            f"    {v} = {{'count': {r.randint(0, 99)}, 'ok': True}}",
                        ]
                    )
                )
            lines.append(f'    return {{"{name}": {name}}}')
            lines.append("")
        lines[-1:] = ["```"]
        return "\n".join(lines)

    def quote(self) -> str:
        r = self.r
        text = f"> **{r.choice(['Note', 'Tip', 'Warning'])}:** {self.paragraph(1, 3)}"
        if r.random() < 0.4:
            text += f"\n>\n> {self.paragraph(1, 2)}"
        return text

    def section(self, number: int) -> str:
        r = self.r
        blocks = [f"## {number}. {r.choice(_TOPICS)} and {r.choice(_WORDS)} {r.choice(_WORDS)}"]
        blocks.append(self.paragraph())
        makers = {
            "paragraph": self.paragraph,
            "bullets": self.bullets,
            "numbered": self.numbered,
            "table": self.table,
            "json": self.json_block,
            "python": self.python_block,
            "quote": self.quote,
            "subheading": lambda: f"### {r.choice(_TOPICS)}",
        }
        weights = [30, 14, 10, 10, 7, 9, 6, 6]
        for _ in range(r.randint(2, 6)):
            blocks.append(makers[r.choices(list(makers), weights)[0]]())
        return "\n\n".join(blocks)


def realistic_answer(n_chars: int, seed: int = 10) -> str:
    """An answer of sections until it is at least `n_chars` long; a longer one starts alike."""
    writer = _Writer(seed)
    parts = [writer.paragraph(2, 4)]
    n = len(parts[0])
    number = 1
    while n < n_chars:
        part = writer.section(number)
        parts.append(part)
        n += len(part) + 2
        number += 1
    return "\n\n".join(parts) + "\n"


def tiny_answer() -> str:
    """One block of each kind the realistic answers hold, small: what a renderer loads for them."""
    return (
        "## Start\n\nA `short` paragraph with **bold** and *italics*.\n\n"
        "- one\n  - nested\n\n1. **First.** item\n\n> **Note:** quoted.\n\n"
        "| A | B |\n|---|---|\n| `x` | 1 |\n\n"
        '```json\n{"a": 1}\n```\n\n```python\nx = {"a": 1}\n```\n'
    )


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
            "source": "bench/_realistic.py: a modelled answer",
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


if __name__ == "__main__":
    sys.stdout.write(realistic_answer(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000))
