"""Light and dark terminals: which theme, which Pygments style, which rich styles.

Theory of operation: a terminal's background is either dark or light, and
outstream draws no background of its own (code blocks show text colours
only), so the colours it uses must read on the terminal's. ``auto`` takes
the answer from ``COLORFGBG`` (set by rxvt, konsole, iTerm2 and others:
``fg;bg`` or ``fg;default;bg``, ANSI colour numbers), read by vim's rule
(term.c, ``term_bg_default``: backgrounds 0-6 and 8 are dark, the others
light), and falls back to dark. The terminal is asked (OSC 11) only with
``--theme query``: a query reads its answer from the terminal's input,
where it races with what the user types (`sinks.background` asks).

The rest is data: the Pygments style each theme uses for code by default,
and the rich styles the light theme changes (rich's defaults are made for
a dark background: cyan on black for inline code, bright yellow for a key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

__all__ = [
    "BACKGROUND_QUERY",
    "DEFAULT_CODE_THEMES",
    "LIGHT_STYLES",
    "THEMES",
    "Theme",
    "ThemeMode",
    "background_of",
    "background_of_reply",
]

Theme = Literal["dark", "light"]
ThemeMode = Literal["auto", "dark", "light"]
THEMES: tuple[ThemeMode, ...] = ("auto", "dark", "light")

# The Pygments style for code when none is given. Drawn without its
# background: monokai's colours read well on a dark terminal, Pygments'
# default style's on a light one (its plain names have no colour of their
# own, so they take the terminal's).
DEFAULT_CODE_THEMES: Mapping[Theme, str] = {"dark": "monokai", "light": "default"}

# rich's Markdown styles (rich/default_styles.py) that do not read on a light
# background, and what the light theme uses instead: standard colours, which
# every terminal's palette keeps readable on its own background, and no
# forced background.
LIGHT_STYLES: Mapping[str, str] = {
    "markdown.code": "bold red",  # rich: bold cyan on black
    "markdown.code_block": "none",  # rich: cyan on black (code is drawn by codeview)
    "markdown.list": "blue",  # rich: cyan
    "markdown.item.number": "blue",  # rich: cyan
    "markdown.link": "blue",  # rich: bright_blue
    "markdown.table.border": "blue",  # rich: cyan
    "markdown.table.header": "not bold blue",  # rich: not bold cyan
    "markdown.kbd": "bold magenta",  # rich: bold bright_yellow
}

# The dark theme is rich's own, but for code blocks' style (unused: code is
# drawn by codeview, without a background).
DARK_STYLES: Mapping[str, str] = {"markdown.code_block": "none"}


def background_of(colorfgbg: str | None) -> Theme | None:
    """The background ``COLORFGBG`` describes: "dark", "light", or None when it does not say.

    Its last field is the background: an ANSI colour number (0-6 and 8
    dark, 7 and 9-15 light, as vim reads it; 16-255 by the xterm palette's
    lightness) or "default", which says nothing.
    """
    if not colorfgbg:
        return None
    field = colorfgbg.rsplit(";", 1)[-1].strip()
    if not field.isdigit() or len(field) > 3:
        return None
    n = int(field)
    if n < 16:
        return "dark" if n <= 6 or n == 8 else "light"
    if n < 232:  # the 6x6x6 cube: levels 0, 95, 135, 175, 215, 255
        levels = [
            0 if c == 0 else 55 + 40 * c for c in ((n - 16) // 36, (n - 16) // 6 % 6, (n - 16) % 6)
        ]
        red, green, blue = levels
        return "light" if 0.299 * red + 0.587 * green + 0.114 * blue >= 128 else "dark"
    if n < 256:  # the grey ramp, 8 to 238
        return "light" if 8 + 10 * (n - 232) >= 128 else "dark"
    return None


# --- asking the terminal (OSC 11), for `--theme query` ---

# What to write: ask for the background colour (xterm's OSC 11 with "?"),
# then for the primary device attributes (DA1), which every terminal
# answers: its answer says that nothing more is coming, at once, from a
# terminal that ignores OSC 11.
BACKGROUND_QUERY = b"\x1b]11;?\x07\x1b[c"
_DA1_REPLY = re.compile(rb"\x1b\[\?[0-9;]*c")
_OSC11_REPLY = re.compile(
    rb"\x1b\]11;rgba?:([0-9a-fA-F]{1,4})/([0-9a-fA-F]{1,4})/([0-9a-fA-F]{1,4})"
)


def background_of_reply(data: bytes) -> tuple[Theme | None, bool]:
    """What a terminal's reply to `BACKGROUND_QUERY` says: the background, and whether it
    is complete (the DA1 answer came).

    The colour is ``rgb:RRRR/GGGG/BBBB`` (1 to 4 hex digits a channel, as
    XParseColor reads it); light when its lightness (ITU-R BT.601 weights)
    is at least half.
    """
    done = _DA1_REPLY.search(data) is not None
    found = _OSC11_REPLY.search(data)
    if found is None:
        return None, done
    red, green, blue = (int(h, 16) / (16 ** len(h) - 1) for h in found.groups())
    lightness = 0.299 * red + 0.587 * green + 0.114 * blue
    return ("light" if lightness >= 0.5 else "dark"), done
