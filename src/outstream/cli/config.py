"""``outstream config``: the settings a command runs with, and where each came from."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from ._config import COMMANDS, Setting, config_path, configurable, env_names, settings
from ._shared import EXIT_OK, _fail, command_parser, configured
from .commands import all_parsers, parser_builders

__all__ = ["config"]

_DESCRIPTION = """\
Print the settings a command would run with, and where each came from: a
flag, a variable (OUTSTREAM_<OPTION>), the config file (its path and line),
or the default. Give a COMMAND (and its options) to see that command's.
"""

_EPILOG = """\
precedence:
  flags > environment > config file > defaults. Of options that exclude each
  other (--cps, --delay, --smooth, --instant), the strongest place that sets
  any decides: 'cps = 40' in the file and --instant on the command line is
  --instant, no conflict.

the config file (TOML):
  $OUTSTREAM_CONFIG, else $XDG_CONFIG_HOME/outstream/config.toml
  (~/.config/outstream/config.toml). --no-config (any command) ignores it;
  so does OUTSTREAM_CONFIG=/dev/null. A key is an option's long name,
  without its dashes; top-level keys are for every command that has the
  option, a table ([ask], [replay], [demo], [publish], [follow], [cancel],
  [serve]) for that command alone, and wins over the top level:

    smooth = 0.3              # --smooth 0.3
    markdown = true           # -m;  false: off (also for 'ask')
    wrap = 80                 # --wrap 80;  true: the terminal's width;  false: --no-wrap
    escapes = "escape"

    [ask]
    model = "llama3.2"
    base-url = "http://localhost:11434/v1"

    [serve]
    port = 8080

  Values are checked as their flags are: a bad key or value anywhere in the
  file is one line naming the file, its line and the key, and exit 2, for
  every command. A key (api-key, token) may be kept there: make the file
  yours alone (chmod 600); 'outstream config' never shows it.

the environment:
  OUTSTREAM_<OPTION>, the option's long name in capitals with '_' for '-':
  OUTSTREAM_SMOOTH=0.3, OUTSTREAM_MARKDOWN=1 (1/0, true/false, yes/no, on/off),
  OUTSTREAM_WRAP=80, OUTSTREAM_ESCAPES=escape. An empty one counts as unset.
  Kept from before: OUTSTREAM_REDIS_URL (--redis), OPENAI_API_KEY after
  OUTSTREAM_API_KEY, OPENAI_BASE_URL after OUTSTREAM_BASE_URL. NO_COLOR still
  turns colours off whatever the settings say.
  Not settable (they name one run's files and ids): -f, --to, --append,
  --fsync, --encoding, --record, --save-deltas, --id, --publish, --after,
  --from-now, --compare, and publish's --model.

examples:
  outstream config                       the settings of 'outstream [TEXT]'
  outstream config ask                   of 'outstream ask'
  outstream config ask --model m --cps 9 with these flags too
  outstream config --json serve          as JSON
  outstream config --path                the file's path (whether or not it exists)

exit status:
  0 shown, 2 a bad config file or variable, or a usage error.
"""

_OWN = ("--json", "--path", "-h", "--help")


def build_config_parser() -> argparse.ArgumentParser:
    parser = command_parser("outstream config", _DESCRIPTION, _EPILOG, config=False)
    parser.add_argument("--json", action="store_true", help="the settings as JSON")
    parser.add_argument(
        "--path", action="store_true", help="print the config file's path, and nothing else"
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=[c for c in COMMANDS if c],
        metavar="COMMAND",
        help="the command whose settings to show (default: 'outstream [TEXT]' itself): "
        + ", ".join(c for c in COMMANDS if c),
    )
    parser.add_argument(
        "options",
        nargs="*",
        metavar="OPTIONS",
        help="that command's options, as you would type them (--json and --path go before "
        "COMMAND; for 'outstream [TEXT]' itself: outstream config -- --cps 40)",
    )
    return parser


def config(argv: Sequence[str]) -> int:
    parser = build_config_parser()
    argv = list(argv)
    own = 0
    while own < len(argv) and argv[own] in _OWN:
        own += 1
    ours = parser.parse_args(argv[:own])
    if ours.path:
        if argv[own:]:
            parser.error("--path takes nothing else")
        _print(config_path())
        return EXIT_OK
    rest = argv[own:]
    if rest and not rest[0].startswith("-") and rest[0] not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(rest[0], COMMANDS[1:], n=1)
        mean = f" (did you mean {close[0]}?)" if close else ""
        parser.error(f"no command {rest[0]!r} reads the config file{mean}")
    command = rest[0] if rest and rest[0] in COMMANDS[1:] else ""
    if command:
        rest = rest[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    target = parser_builders()[command]()
    args = configured(target, rest, required=False)
    shown = settings(args, target)
    path = config_path()
    found = os.path.isfile(path) and not args.no_config
    notes = _notes(shown, path)
    if ours.json:
        _print(
            json.dumps(
                {
                    "command": target.prog,
                    "file": {"path": path, "read": found},
                    "settings": [
                        {"key": s.key, "value": _masked(s), "from": s.origin} for s in shown
                    ],
                    "notes": notes,
                },
                indent=2,
            )
        )
        return EXIT_OK
    if args.no_config:
        where = "ignored (--no-config)"
    elif path == os.devnull:
        where = "none: OUTSTREAM_CONFIG is /dev/null"
    else:
        where = "read" if found else "not found"
    lines = [
        f"# {target.prog}: flags > environment > config file > defaults",
        f"# config file: {path} ({where})",
    ]
    width = max((len(_assignment(s)) for s in shown), default=0)
    for setting in shown:
        lines.append(f"{_assignment(setting):<{width}}  # {_origin(setting)}")
    lines += [f"# {note}" for note in notes]
    _print("\n".join(lines))
    return EXIT_OK


def _assignment(setting: Setting) -> str:
    if setting.value is None:
        return f"# {setting.key}"
    return f"{setting.key} = {_toml(_masked(setting))}"


def _origin(setting: Setting) -> str:
    if setting.value is None:
        return f"{setting.origin}: not set"
    return setting.origin


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))  # (a TOML basic string: the same escapes)


def _masked(setting: Setting) -> Any:
    """The value to show: a secret never, a URL without its password."""
    value = setting.value
    if value is None:
        return None
    if setting.secret:
        return "********"
    if isinstance(value, str) and "://" in value and "@" in value:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(value)
            if parts.password:
                netloc = parts.netloc.replace(f":{parts.password}@", ":****@", 1)
                return parts._replace(netloc=netloc).geturl()
        except ValueError:
            return "(a URL that is not one)"
    return value


def _notes(shown: Sequence[Setting], path: str, env: Mapping[str, str] | None = None) -> list[str]:
    """What may be a mistake: a variable no option reads, a secret in a file others read."""
    env = os.environ if env is None else env
    notes = []
    known = {"OUTSTREAM_CONFIG", "OUTSTREAM_TOKEN"}
    for parser in all_parsers().values():
        for dest in configurable(parser):
            known.update(env_names(dest))
    for name in sorted(n for n in env if n.startswith("OUTSTREAM_") and n not in known):
        import difflib

        close = difflib.get_close_matches(name, sorted(known), n=1)
        mean = f" (did you mean {close[0]}?)" if close else ""
        notes.append(f"{name} is set, and no option reads it{mean}")
    secrets = [s.key for s in shown if s.secret and s.origin.startswith("file ")]
    if secrets:
        try:
            others = os.stat(path).st_mode & 0o077
        except OSError:
            others = 0
        if others:
            notes.append(
                f"{path} holds {' and '.join(secrets)} and others may read it: chmod 600 {path}"
            )
    return notes


def _print(text: str) -> None:
    from ..core.escapes import sanitized

    # (values, paths and names from the environment and the file: nothing that is a control)
    lines = [" ".join(sanitized(line).splitlines()) for line in text.split("\n")]
    try:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    except OSError as exc:
        _fail(f"cannot write to stdout: {exc.strerror}")
