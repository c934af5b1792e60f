"""How rendered Markdown looks on this terminal, and what is copied from it: the options
--theme, --code-theme and --copy-code, shared by every command that shows an answer."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._shared import _fail

__all__ = ["add_look_options", "copy_code_of", "not_copied", "theme_of"]

_NOT_A_TERMINAL = "--copy-code: nothing copied: the output is not a terminal (OSC 52 goes to one)"


def add_look_options(group: Any) -> None:
    """Add --theme, --code-theme and --copy-code to an argument group."""
    group.add_argument(
        "--theme",
        choices=("auto", "dark", "light", "query"),
        default="auto",
        help="with -m, colours for a dark or a light terminal background (default: auto, "
        "from $COLORFGBG, else dark; query: ask the terminal (OSC 11), else auto); code "
        "blocks never paint a background of their own",
    )
    group.add_argument(
        "--code-theme",
        type=_code_theme,
        default=None,
        metavar="NAME",
        help="with -m, the Pygments style of code blocks (default: monokai on a dark theme, "
        "default on a light one; 'python -m pygments -L styles' lists them)",
    )
    group.add_argument(
        "--copy-code",
        action="store_true",
        help="with -m, at the end put the last code block on the terminal's clipboard (OSC 52; "
        "in tmux: set -g set-clipboard on); nothing is copied into a pipe or a file",
    )


def _code_theme(name: str) -> str:
    """--code-theme: an installed Pygments style (Pygments is imported only when it is given)."""
    from ..core.codeview import check_code_theme

    try:
        check_code_theme(name)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return name


def theme_of(args: argparse.Namespace) -> Any:
    """--theme, with "query" asked of the terminal (when Markdown is rendered on one)."""
    if args.theme != "query":
        return args.theme
    if not args.markdown or not _is_terminal(sys.stdout):
        return "auto"
    from ..sinks.background import query_background

    return query_background(sys.stdout) or "auto"


def copy_code_of(args: argparse.Namespace) -> bool:
    """--copy-code, if it can copy anything: without -m it cannot, which is said (on
    stderr), not refused: the option may come from the configuration, for every command."""
    if not getattr(args, "copy_code", False):
        return False
    if args.markdown:
        return True
    _fail(
        _NOT_A_TERMINAL
        if not _is_terminal(sys.stdout)  # (as `ask` off a terminal, which renders no Markdown)
        else "--copy-code: nothing copied: the text is not rendered as Markdown (give -m)"
    )
    return False


def not_copied(run: Any, result: Any) -> str:
    """Why --copy-code copied nothing, in a line."""
    from ..core.clipboard import MAX_OSC52_BYTES

    if not any(lane.sink.is_terminal for lane in run.lanes):
        return _NOT_A_TERMINAL
    if not result.code_blocks:
        return "--copy-code: nothing copied: the answer has no fenced code block"
    n_bytes = len(result.code_blocks[-1].encode("utf-8", "surrogatepass"))
    return (
        f"--copy-code: nothing copied: the last code block is {n_bytes:,} bytes, more than "
        f"terminals take through OSC 52 ({MAX_OSC52_BYTES * 3 // 4:,})"
    )


def _is_terminal(file: Any) -> bool:
    try:
        return file is not None and bool(file.isatty())
    except Exception:
        return False
