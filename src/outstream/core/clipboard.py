"""The terminal's clipboard: the OSC 52 sequence that `--copy-code` writes.

OSC 52 (xterm's "Manipulate Selection Data": ``ESC ] 52 ; c ; <base64> BEL``)
sets the clipboard from the text a program writes, also over ssh. It is what
the sanitizer strips from a model's text: only outstream's own renderer
writes one, after the answer, with the last fenced code block, and only
when asked. Terminals cap what they take (xterm, tmux, hterm and others at
about 100 KB of base64, some less, some not at all, and most drop a longer
one whole), so a block whose sequence would be longer is not sent.
"""

from __future__ import annotations

import base64

__all__ = ["MAX_OSC52_BYTES", "osc52"]

MAX_OSC52_BYTES = 100_000  # of base64: 75,000 bytes of UTF-8 text


def osc52(text: str) -> str | None:
    """The OSC 52 sequence that puts `text` on the clipboard; None if it is too long."""
    payload = base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")
    if len(payload) > MAX_OSC52_BYTES:
        return None
    return f"\x1b]52;c;{payload}\x07"
