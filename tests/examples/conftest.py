"""What the examples' tests share: the model they talk to, and what it answers.

Each example is a real app of its framework talking to OpenAI's client; here the
client's OPENAI_BASE_URL points at `outstream.testing.LLMServer` on loopback, which
streams ANSWER as OpenAI does (Server-Sent Events), two pieces at a time.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator

import pytest

from outstream.testing import LLMScript, LLMServer

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"

TITLE = "\x1b]0;pwned\x07"  # sets the terminal's title, or a page's garbage
CLEAR = "\x1b[2J"  # clears a terminal's screen
FAMILY = "👩\u200d👩\u200d👧\u200d👦"  # one character on screen, seven code points
FLAG = "🇯🇵"  # one character on screen, two code points

# A model's answer: Markdown, two escape sequences, and two characters of several
# code points each cut in two between pieces. The pieces go out in pairs (0 and 1
# together, then 2 and 3...), and each cut is inside a pair: the second half comes
# at once, as from a proxy that forwards a burst.
ANSWER = [
    "The sky is **blue** because air",
    f" scatters *short* waves{TITLE} more",
    " (the `λ⁻⁴` law).\n\n- sunsets are red\n",
    f"{CLEAR}- a family watches: ",
    FAMILY[:3],
    f"{FAMILY[3:]} from",
    f" {FLAG[0]}",
    f"{FLAG[1]}, too\n",
]
SHOWN = "".join(ANSWER).replace(TITLE, "").replace(CLEAR, "")
# Four bursts over 0.6 s: an answer on its way long enough to see it grow, even when
# an app takes its time over the first piece.
SCRIPT = LLMScript.bursts(ANSWER, size=2, every=0.2)
QUESTION = "Why is the sky blue?"


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> Iterator[LLMServer]:
    """The loopback model playing ANSWER, where OpenAI's clients look for one."""
    with LLMServer(SCRIPT) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        yield server


def app_env(**more: str) -> dict[str, str]:
    """The environment of an example run as a process of its own (OPENAI_* as set by
    `model`); unbuffered, so that the test reads the line a server prints once ready."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", **more}


def never_torn(text: str) -> bool:
    """Whether `text` shows the family and the flag whole, or not at all."""
    return all(char[0] not in text or char in text for char in (FAMILY, FLAG))
