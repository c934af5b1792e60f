"""``outstream replay FILE`` and ``outstream demo``: a recording played in its time."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._shared import EXIT_FAILED, EXIT_OK, _fail, check_paths, command_parser, configured, parsed
from .stream import _add_stream_options, _positive, _stream

_REPLAY_DESCRIPTION = """\
Play a recording back, with its timing.

A .jsonl file of deltas (from --save-deltas) is fed back through any pacing,
rendering and output options, as if its source were streaming again. A
.cast file (from --record, or asciinema) is shown as it was recorded.
"""

_REPLAY_EPILOG = """\
examples:
  outstream ask "..." --save-deltas answer.jsonl      record an answer
  outstream replay answer.jsonl                     as it arrived (smoothed)
  outstream replay answer.jsonl -m --speed 2        Markdown, twice as fast
  outstream replay answer.jsonl --cps 40 --stats    a typewriter, and the numbers
  outstream replay answer.jsonl --instant --to answer.md   the text, at once
  outstream replay session.cast --max-idle 1        what was shown, long pauses cut

A recording cut short (a crash, Ctrl-C) plays up to its last complete line;
a malformed one is refused with the number of its bad line (exit 1).
"""


def build_replay_parser() -> argparse.ArgumentParser:
    parser = command_parser("outstream replay", _REPLAY_DESCRIPTION, _REPLAY_EPILOG)
    parser.add_argument("recording", metavar="FILE", help="a .jsonl of deltas or a .cast")
    timing = parser.add_argument_group("timing")
    timing.add_argument(
        "--speed", type=_positive("--speed"), default=1.0, metavar="X", help="play X times faster"
    )
    timing.add_argument(
        "--max-idle",
        type=_positive("--max-idle"),
        metavar="S",
        help="shorten every pause longer than S seconds to S",
    )
    _add_stream_options(parser)
    return parser


def replay(argv: Sequence[str]) -> int:
    parser = build_replay_parser()
    args = parsed(parser, argv)
    check_paths(parser, args, [("FILE", args.recording)])
    return _play_recording(args, parser)


def _play_recording(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    *,
    keep_timing: bool = False,
    stats_note: str = "",
) -> int:
    """Play ``args.recording``; `keep_timing` keeps its times even with --instant (demo --compare)."""
    from ..errors import SourceError
    from ..recordings import recording_kind
    from ..sources.replay import replay as played

    instant = args.instant and not keep_timing
    try:
        kind = recording_kind(args.recording)
        source = played(args.recording, speed=args.speed, max_idle=args.max_idle, instant=instant)
    except OSError as exc:
        _fail(f"cannot read {args.recording}: {exc.strerror}")
        return EXIT_FAILED
    except SourceError as exc:
        _fail(str(exc))
        return EXIT_FAILED
    if kind == "cast":
        from ._config import from_command_line

        # (what the config file or the environment says is for deltas: not an error here)
        given = [
            name
            for name, value in (
                ("--cps", args.cps),
                ("--delay", args.delay),
                ("--smooth", args.smooth),
                ("--markdown", args.markdown),
                ("--wrap", args.wrap),
                ("--unit", args.unit != "grapheme"),
                ("--save-deltas", args.save_deltas),
            )
            if value and from_command_line(args, name[2:].replace("-", "_"))
        ]
        if given:
            parser.error(
                f"{', '.join(given)}: a .cast plays what was shown, as it was shown; "
                "these apply to a .jsonl of deltas"
            )
        # What was shown, as it was drawn: cursor movement and erasing stay,
        # and nothing that talks to the terminal or the host, unless asked.
        if not from_command_line(args, "escapes"):  # (a config's escapes are for text)
            args.escapes = "display"
        args.instant, args.wrap, args.markdown = True, False, False
        args.copy_code = False  # (a .cast's code blocks were drawn by its recorder: not known)
    return _stream(args, source, describe=f"replay of {args.recording}", stats_note=stats_note)


_DEMO_DESCRIPTION = """\
Replay an answer bundled with outstream (offline, about 9 seconds): Markdown
with a heading, lists, a table, code, Japanese text and emoji, arriving as a
hosted model's answer does behind a proxy — first token after 0.9 s, then
bursts, and one stall. The timing is modelled (see the file's header).
"""

_DEMO_EPILOG = """\
examples:
  outstream demo                  smooth pacing and Markdown, then the numbers
  outstream demo --compare        first as a naive print loop shows it, then outstream
  outstream demo --speed 3        three times faster

The answer is outstream/data/demo.jsonl in the installed package, a
--save-deltas file: 'outstream replay' plays it with any other options.
"""


def build_demo_parser() -> argparse.ArgumentParser:
    parser = command_parser("outstream demo", _DEMO_DESCRIPTION, _DEMO_EPILOG)
    parser.add_argument(
        "--compare",
        action="store_true",
        help="play it twice: as 'print(chunk, end=\"\", flush=True)' shows it, then outstream",
    )
    parser.add_argument(
        "--speed", type=_positive("--speed"), default=1.0, metavar="X", help="play X times faster"
    )
    parser.add_argument("--no-stats", action="store_true", help="leave out the numbers")
    return parser


def demo_recording() -> str:
    """The path of the bundled demo answer (a deltas file)."""
    import os

    return os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "demo.jsonl")


def demo(argv: Sequence[str]) -> int:
    parser = build_demo_parser()
    demo = configured(parser, argv)
    tty = sys.stdout is not None and sys.stdout.isatty()
    play = build_replay_parser()
    common = [demo_recording(), "--speed", str(demo.speed)]
    if demo.compare:
        _announce("1/2  the naive loop: for chunk in stream: print(chunk, end='', flush=True)", tty)
        args = play.parse_args([*common, "--instant", "--no-wrap"])
        code = _play_recording(args, play, keep_timing=True)
        if code != EXIT_OK:
            return code
        _announce("2/2  outstream: smooth pacing" + (", Markdown" if tty else ""), tty)
    args = play.parse_args(
        [*common, "--smooth", *(["-m"] if tty else []), *([] if demo.no_stats else ["--stats"])]
    )
    return _play_recording(args, play, stats_note="\n" if tty else "")


def _announce(text: str, tty: bool) -> None:
    line = f"\x1b[7m {text} \x1b[0m" if tty else f"== {text} =="
    try:
        sys.stdout.write(f"\n{line}\n\n")
        sys.stdout.flush()
    except Exception:
        pass
