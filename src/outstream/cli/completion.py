"""``outstream completion bash|zsh|fish``: a static completion script for the shell.

The scripts are made from the commands' own parsers, gathered here into one tree
(``outstream`` with a subcommand each): shtab writes bash's and zsh's, and
`fish_script` fish's (shtab has none). Nothing of outstream runs at a TAB.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from ._shared import EXIT_FAILED, EXIT_OK, _fail, command_parser

__all__ = ["completion", "completion_tree", "fish_script"]

SHELLS = ("bash", "zsh", "fish")

_DESCRIPTION = """\
Print the shell's completion script for outstream: its commands, their
options, the values an option takes, and file names where a file goes.
"""

_EPILOG = """\
install (then open a new shell):
  bash  outstream completion bash > ~/.local/share/bash-completion/completions/outstream
        (needs the bash-completion package; or: source <(outstream completion bash)
        in ~/.bashrc)
  zsh   mkdir -p ~/.zfunc && outstream completion zsh > ~/.zfunc/_outstream
        and in ~/.zshrc, before compinit:  fpath=(~/.zfunc $fpath)
        (then autoload -Uz compinit && compinit)
  fish  outstream completion fish > ~/.config/fish/completions/outstream.fish

The script is static: made again after upgrading outstream, it knows the
new options.

exit status:
  0 printed, 2 usage error.
"""

# The options and arguments that name files, by destination.
_FILES = frozenset({"file", "to", "record", "save_deltas", "recording", "reasoning", "target"})


# What a TAB shows beside a command's name.
_SUMMARIES = {
    "ask": "ask a model, stream its answer",
    "replay": "play a recording back, with its timing",
    "demo": "replay a bundled answer (offline)",
    "inspect": "a stream's layers, and what outstream does there",
    "publish": "publish text to the stream log",
    "follow": "show a published stream, live",
    "cancel": "ask a stream's producer to stop",
    "serve": "the stream log over HTTP",
    "config": "the settings a command runs with, and where from",
    "completion": "the shell's completion script",
}


def build_completion_parser() -> argparse.ArgumentParser:
    parser = command_parser("outstream completion", _DESCRIPTION, _EPILOG, config=False)
    parser.add_argument("shell", choices=SHELLS, help="the shell: bash, zsh or fish")
    return parser


def completion(argv: Sequence[str]) -> int:
    parser = build_completion_parser()
    args = parser.parse_args(argv)
    if args.shell == "fish":
        script = fish_script(completion_tree())
    else:
        try:
            import shtab
        except ImportError:
            _fail("completion for bash and zsh needs shtab: pip install shtab")
            return EXIT_FAILED
        script = shtab.complete(completion_tree(), shell=args.shell)
    import sys

    try:
        sys.stdout.write(script if script.endswith("\n") else script + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    return EXIT_OK


def _builders() -> dict[str, Callable[[], argparse.ArgumentParser]]:
    from .commands import parser_builders
    from .config import build_config_parser
    from .inspect import _build_parser as build_inspect_parser

    builders = parser_builders()
    builders["inspect"] = build_inspect_parser
    builders["config"] = build_config_parser
    builders["completion"] = build_completion_parser
    return builders


def completion_tree() -> argparse.ArgumentParser:
    """One parser for ``outstream`` with each command as a subcommand (for completion
    only: the commands parse their own arguments)."""
    builders = _builders()
    top = builders.pop("")()
    _mark_files(top)
    root = argparse.ArgumentParser(prog="outstream", add_help=False, parents=[top])
    # (TEXT is anything: left out, the commands are what a TAB offers first)
    for action in [a for a in root._actions if not a.option_strings]:
        _drop(root, action)
    commands = root.add_subparsers(dest="command", metavar="COMMAND")
    order = ["ask", "replay", "demo", "inspect", "publish", "follow", "cancel", "serve"]
    for name in [*order, *(n for n in builders if n not in order)]:
        parser = builders[name]()
        _mark_files(parser)
        for action in parser._actions:
            if not action.option_strings and not action.choices and action.dest not in _FILES:
                # Free text (a prompt, an id): nothing to offer, and no name shown for it
                # (zsh would list an option instead of completing it)
                action.complete = {"bash": "", "zsh": "_nothing"}  # type: ignore[attr-defined]
        summary = _SUMMARIES.get(name) or " ".join((parser.description or "").split())
        summary = summary.split(". ")[0]
        commands.add_parser(
            name, parents=[parser], add_help=False, help=summary, description=summary
        )
    return root


def _drop(parser: argparse.ArgumentParser, action: argparse.Action) -> None:
    parser._remove_action(action)
    for group in parser._action_groups:
        if action in group._group_actions:
            group._group_actions.remove(action)


def _mark_files(parser: argparse.ArgumentParser) -> None:
    """Mark what names a file, and keep of each help its first clause (a TAB's line)."""
    for action in parser._actions:
        if action.help and action.help != argparse.SUPPRESS:
            action.help = _first_sentence(action.help)
        if action.dest in _FILES and action.nargs != 0:
            action.complete = {"bash": "_shtab_compgen_files", "zsh": "_files"}  # type: ignore[attr-defined]


# --- fish ---


def fish_script(root: argparse.ArgumentParser) -> str:
    """fish's completions for `root` and its subcommands (``complete -c outstream ...``)."""
    subparsers = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    names = " ".join(subparsers.choices)
    lines = [
        "# fish completion for outstream (outstream completion fish)",
        "complete -c outstream -e",
    ]
    top = f"not __fish_seen_subcommand_from {names}"
    lines += _fish_options(root, top)
    helps = {a.dest: a.help for a in subparsers._choices_actions}
    for name, parser in subparsers.choices.items():
        lines.append(
            f"complete -c outstream -f -n __fish_use_subcommand -a {name} "
            f"-d {_quoted(helps.get(name) or name)}"
        )
        lines += _fish_options(parser, f"__fish_seen_subcommand_from {name}")
        for action in parser._actions:
            if action.option_strings or action.help == argparse.SUPPRESS:
                continue
            if action.choices:
                values = " ".join(str(c) for c in action.choices)
                lines.append(
                    f"complete -c outstream -f -n '__fish_seen_subcommand_from {name}' "
                    f"-a {_quoted(values)}"
                )
    return "\n".join(lines) + "\n"


def _fish_options(parser: argparse.ArgumentParser, condition: str) -> list[str]:
    lines = []
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        parts = ["complete -c outstream", f"-n {_quoted(condition)}"]
        for option in action.option_strings:
            if option.startswith("--"):
                parts.append(f"-l {option[2:]}")
            else:
                parts.append(f"-s {option[1:]}")
        if action.nargs != 0:
            if action.choices:
                parts.append("-x -a " + _quoted(" ".join(str(c) for c in action.choices)))
            elif action.dest in _FILES:
                parts.append("-r -F")
            else:
                parts.append("-x")
        if action.help:
            parts.append("-d " + _quoted(action.help))
        lines.append(" ".join(parts))
    return lines


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    for stop in ("; ", ": ", ". ", " ("):
        text = text.split(stop)[0]
    return text


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
