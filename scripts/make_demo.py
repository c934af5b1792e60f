"""Writes src/outstream/data/demo.jsonl: the answer `outstream demo` replays.

The answer is real Markdown; its timing is modelled, not recorded, so that
the file is the same on every machine and says how it was made. The model
is of a hosted model behind a proxy, as LLM apps see it:

- time to first token TTFT seconds;
- the model generates RATE tokens a second (a token: a word piece of 1–5
  characters, with its leading space);
- a proxy in between passes them on in bursts, every 80–350 ms, seeded;
- once, at STALL_AT of the answer, nothing comes for STALL seconds.

Run: python scripts/make_demo.py [PATH]   (deterministic: the same file every time;
PATH defaults to src/outstream/data/demo.jsonl)
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

from outstream.recordings._jsonl import JsonLines
from outstream.recordings.deltas import FORMAT, VERSION

TTFT = 0.9
RATE = 75.0
BURSTS = (0.08, 0.35)
STALL_AT = 0.55
STALL = 1.6
SEED = 7

ANSWER = """\
# Streaming an answer, done right

Printing each chunk as it arrives looks broken: the text **stalls**, then
**jumps** a line at a time, because a proxy hands tokens over in bursts.
outstream paces them instead:

1. It measures how fast text *arrives* and shows it at that rate.
2. It never falls more than half a second behind the source.
3. It renders Markdown as it streams: finished blocks once, the open one live.

| what you see        | naive `print` loop   | outstream            |
|---------------------|----------------------|----------------------|
| bursts and stalls   | jumps, then nothing  | an even flow         |
| split characters    | `�` can show         | never                |
| escape sequences    | reach the terminal   | stripped             |

```python
import outstream

result = outstream.stream(client.chat.completions.create(
    model="gpt-4o-mini", messages=messages, stream=True))
print(result.stats.format())  # time to first token, rate, lag
```

It handles every script the same way: 日本語の文章も、途中で文字が切れることはありません。
Emoji too — 👋 🌍 👩‍💻 — and the numbers at the end are honest.

## What the numbers say

When the stream ends, `--stats` prints what happened, measured on the way:

- **time to first token**: how long the model took to start answering;
- **rate**: characters and tokens a second, as they arrived and as shown;
- **lag**: how far the screen was behind the source, at the median and at
  worst, so that you can see that smoothing costs at most half a second;
- **gaps**: the pauses between chunks, which is where a stall shows up.

A typewriter at a fixed speed would fall behind a fast model, or sit idle
waiting for a slow one. Smooth pacing follows the source instead: when a
burst arrives it speeds up, and when the source pauses it slows down, so
that the text keeps moving without ever getting far behind.

> Tip: `outstream ask "…" --save-deltas answer.jsonl` records an answer,
> and `outstream replay answer.jsonl` plays it back: a recording is also
> a test fixture for your own streaming UI.
"""


def tokens(text: str) -> list[str]:
    return re.findall(r"\s*\S{1,5}|\s+", text)


def main(argv: list[str]) -> None:
    rng = random.Random(SEED)
    pieces = tokens(ANSWER)
    assert "".join(pieces) == ANSWER
    generated = [TTFT + i / RATE for i in range(len(pieces))]
    stall_from = int(len(pieces) * STALL_AT)
    generated = [t + (STALL if i >= stall_from else 0.0) for i, t in enumerate(generated)]
    events = []
    release = TTFT
    i = 0
    while i < len(pieces):
        burst = []
        while i < len(pieces) and generated[i] <= release:
            burst.append(pieces[i])
            i += 1
        if burst:
            events.append({"t": round(release, 3), "text": "".join(burst)})
        release += rng.uniform(*BURSTS)
    end = events[-1]["t"]
    n_words = len(ANSWER.split())
    header = {
        "format": FORMAT,
        "version": VERSION,
        "started": "2026-11-24T00:00:00.000+00:00",
        "source": "outstream demo: a modelled answer (scripts/make_demo.py)",
        "model": None,
        "modelled": {
            "ttft_s": TTFT,
            "tokens_per_s": RATE,
            "proxy_bursts_s": list(BURSTS),
            "stall": {"at": STALL_AT, "seconds": STALL},
            "seed": SEED,
        },
        "note": "The text is real; its timing is modelled, not recorded: a hosted model behind "
        "a proxy that passes tokens on in bursts, with one stall.",
    }
    usage = {"completion_tokens": len(pieces), "prompt_tokens": 42}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    lines = [header, *events]
    lines.append({"t": end, "usage": usage})
    lines.append({"t": end, "finish": "stop"})
    lines.append({"t": end, "end": True})
    default = Path(__file__).resolve().parent.parent / "src" / "outstream" / "data" / "demo.jsonl"
    path = Path(argv[0]) if argv else default
    out = JsonLines(path)
    out.write(lines)
    out.close()
    print(
        f"{path}: {len(ANSWER)} characters, {len(pieces)} tokens, {len(events)} bursts, "
        f"{end:.1f} s ({n_words} words)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
