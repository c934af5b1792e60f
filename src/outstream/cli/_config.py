"""Settings from the environment and the config file, for any command's parser.

Theory of operation: a command's argv is parsed first, into a namespace whose
every destination holds `_UNSET`; what the command line leaves unset still holds
it. Each of those is then filled from, first found: ``OUTSTREAM_<OPTION>`` (and
the older names in `ENV_NAMES`), the command's table in the config file, the
file's top level, the parser's default. A value from the environment or the file
goes through the option's own ``type=`` and ``choices``, as a flag's does, so an
option added to a parser gets its key and its variable with no code here. Of a
mutually exclusive group (``--cps | --instant``), the values come from the
strongest layer that gives any: ``--instant`` on the command line outweighs
``cps = 40`` in the file, and is no conflict.

The file is TOML: ``$OUTSTREAM_CONFIG``, else ``$XDG_CONFIG_HOME/outstream/config.toml``
(``~/.config/outstream/config.toml``). Top-level keys are for every command that
has the option; a table (``[ask]``, ``[follow]``...) for that command alone, and
it wins over the top level. Each command checks the whole file: a bad key or value
anywhere is one line naming the file, its line and the key (exit 2). A missing
file costs one ``stat``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

__all__ = [
    "COMMANDS",
    "ENV_NAMES",
    "SECRETS",
    "ConfigError",
    "Setting",
    "config_path",
    "configurable",
    "configured",
    "env_names",
    "from_command_line",
    "named",
    "settings",
]

# The commands that read the file, by table name ("" is `outstream [TEXT]`, whose
# keys are the top level's).
COMMANDS = ("", "ask", "replay", "demo", "publish", "follow", "cancel", "serve")

# What names one run's inputs and outputs (or needs them), not a preference: no key,
# no variable.
_PER_RUN = frozenset(
    {
        "help",
        "version",
        "no_config",
        "file",
        "to",
        "append",
        "fsync",
        "encoding",
        "record",
        "save_deltas",
        "id",
        "publish",
        "after",
        "from_now",
        "compare",
    }
)
# ... and for one command: the model that wrote what `publish` publishes.
_PER_RUN_OF = {"publish": frozenset({"model"})}

# Variables read before there was a config file keep their names, in this order.
ENV_NAMES: Mapping[str, tuple[str, ...]] = {
    "redis": ("OUTSTREAM_REDIS_URL",),
    "api_key": ("OUTSTREAM_API_KEY", "OPENAI_API_KEY"),
    "base_url": ("OUTSTREAM_BASE_URL", "OPENAI_BASE_URL"),
}

# Shown masked by `outstream config`.
SECRETS = frozenset({"api_key", "token"})

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class ConfigError(Exception):
    """A bad file or variable: the one line that says where and what."""


class Setting(NamedTuple):
    """One option's value for a command, and where it came from."""

    key: str  # as in the file: the long option without its dashes
    dest: str
    value: Any
    origin: str  # "flag", "env NAME", "file PATH:LINE", "default"
    secret: bool = False


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


# --- the parse ---


def configured(
    parser: argparse.ArgumentParser,
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    required: bool = True,
) -> argparse.Namespace:
    """`argv` parsed by `parser`, what it leaves unset filled from the environment, the
    config file and the defaults; ``args._origins`` says where each value came from.

    `required` False lets positional arguments be missing (`outstream config`).

    Raises:
        ConfigError: a bad file or variable (`_shared.configured` says it, and exits 2).
    """
    env = os.environ if env is None else env
    if not required:
        for action in parser._actions:
            if not action.option_strings:
                action.required = False
    # (what accumulates, --to or -v, needs its default to add to: given, it is another object)
    before = {
        dest: actions[0].default if isinstance(actions[0], _ACCUMULATING) else _UNSET
        for dest, actions in _dests(parser._actions, configurable_only=False).items()
    }
    args = parser.parse_args(argv, argparse.Namespace(**before))
    _fill(parser, args, env, before)
    return args


def from_command_line(args: argparse.Namespace, dest: str) -> bool:
    """Whether the command line gave `dest` (without `configured`: whether it is set)."""
    origins = getattr(args, "_origins", None)
    if origins is None:
        return getattr(args, dest, None) is not None
    return bool(origins.get(dest) == "flag")


def named(args: argparse.Namespace, dest: str, flag: str) -> str:
    """`dest`'s value named for a message: its `flag`, its variable, or its file and key."""
    origin = getattr(args, "_origins", {}).get(dest, "flag")
    return flag if origin == "flag" else _where(origin, dest)


_ACCUMULATING = (argparse._AppendAction, argparse._AppendConstAction, argparse._CountAction)


def _fill(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    env: Mapping[str, str],
    before: Mapping[str, Any],
) -> None:
    command = command_of(parser)
    by_dest = _dests(parser._actions, command=command)
    given = {dest for dest in by_dest if getattr(args, dest) is not before[dest]}
    layers: list[dict[str, tuple[Any, str]]] = [_from_env(by_dest, env)]
    if getattr(args, "no_config", False) is not True:
        table, top = _from_file(command, env)
        layers += [table, top]
    chosen: dict[str, tuple[int, Any, str]] = {}
    for dest in by_dest:
        if dest in given:
            continue
        for rank, layer in enumerate(layers):
            if dest in layer:
                chosen[dest] = (rank, *layer[dest])
                break
    _settle_groups(parser, by_dest, given, chosen)
    origins: dict[str, str] = {}
    for dest in _dests(parser._actions, configurable_only=False):
        actions = by_dest.get(dest)
        if dest in given or (actions is None and getattr(args, dest) is not before[dest]):
            origins[dest] = "flag"
        elif dest in chosen:
            _, raw, origin = chosen[dest]
            assert actions is not None
            textual = origin.startswith("env ")
            setattr(args, dest, _value(parser, actions, raw, origin, textual=textual))
            origins[dest] = origin
        else:
            setattr(args, dest, _default(parser, dest))
            origins[dest] = "default"
    args._origins = origins


def _settle_groups(
    parser: argparse.ArgumentParser,
    by_dest: Mapping[str, list[argparse.Action]],
    given: set[str],
    chosen: dict[str, tuple[int, Any, str]],
) -> None:
    """Of each mutually exclusive group, keep the values of the strongest layer."""
    for group in parser._mutually_exclusive_groups:
        members = list(dict.fromkeys(a.dest for a in group._group_actions if a.dest in by_dest))
        if len(members) < 2:
            continue  # (--wrap N | --no-wrap: one key, wrap)
        if any(dest in given for dest in members):
            strongest = -1  # the command line's
        else:
            claims = [chosen[d][0] for d in members if d in chosen and _claims(chosen[d][1])]
            if not claims:
                continue
            strongest = min(claims)
            at_strongest = [d for d in members if d in chosen and chosen[d][0] == strongest]
            if len([d for d in at_strongest if _claims(chosen[d][1])]) > 1:
                first, second = (chosen[d][2] for d in at_strongest[:2])
                raise ConfigError(
                    f"{_where(first, at_strongest[0])} and {_where(second, at_strongest[1])}: "
                    "cannot go together (as their flags cannot); keep one"
                )
        for dest in members:
            if dest in chosen and chosen[dest][0] != strongest:
                del chosen[dest]


def _claims(raw: Any) -> bool:
    """Whether a value sets its option (``instant = false`` leaves the pacing to others)."""
    if isinstance(raw, bool):
        return raw
    return not (isinstance(raw, str) and raw.strip().lower() in _FALSE)


# --- what a parser has ---


def command_of(parser: argparse.ArgumentParser) -> str:
    """The command's table name: "" for ``outstream``, "ask" for ``outstream ask``."""
    return parser.prog.partition(" ")[2]


def _dests(
    actions: Sequence[argparse.Action], *, command: str = "", configurable_only: bool = True
) -> dict[str, list[argparse.Action]]:
    """The destinations of `actions`, in order, each with the actions that set it."""
    out: dict[str, list[argparse.Action]] = {}
    for action in actions:
        if action.dest is argparse.SUPPRESS or action.default is argparse.SUPPRESS:
            continue
        if configurable_only and (
            not action.option_strings
            or action.dest in _PER_RUN
            or action.dest in _PER_RUN_OF.get(command, ())
        ):
            continue
        out.setdefault(action.dest, []).append(action)
    return out


def _key(dest: str) -> str:
    return dest.replace("_", "-")


def env_names(dest: str) -> tuple[str, ...]:
    """The variables that set `dest`, strongest first."""
    return ENV_NAMES.get(dest, (f"OUTSTREAM_{dest.upper()}",))


def _default(parser: argparse.ArgumentParser, dest: str) -> Any:
    # As argparse does: the first action's default, a string one through its type.
    for action in parser._actions:
        if action.dest == dest:
            default = action.default
            if isinstance(default, str) and action.nargs != 0:
                return parser._get_value(action, default)
            return default
    return None


# --- the layers ---


def _from_env(
    by_dest: Mapping[str, list[argparse.Action]], env: Mapping[str, str]
) -> dict[str, tuple[Any, str]]:
    found: dict[str, tuple[Any, str]] = {}
    for dest in by_dest:
        for name in env_names(dest):
            value = env.get(name)
            if value:  # (empty: unset, as for OUTSTREAM_TOKEN= before)
                found[dest] = (value, f"env {name}")
                break
    return found


def config_path(env: Mapping[str, str] | None = None) -> str:
    """The config file's path: $OUTSTREAM_CONFIG, else under $XDG_CONFIG_HOME (or ~/.config)."""
    env = os.environ if env is None else env
    if env.get("OUTSTREAM_CONFIG"):
        return env["OUTSTREAM_CONFIG"]
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "outstream", "config.toml")


def _from_file(
    command: str, env: Mapping[str, str]
) -> tuple[dict[str, tuple[Any, str]], dict[str, tuple[Any, str]]]:
    """The file's values for `command`: its table's, and the top level's."""
    loaded = _load(config_path(env), env)
    if loaded is None:
        return {}, {}
    path, tables = loaded

    def layer(values: Mapping[str, tuple[Any, int]]) -> dict[str, tuple[Any, str]]:
        return {
            key.replace("-", "_"): (raw, f"file {path}:{line}" if line else f"file {path}")
            for key, (raw, line) in values.items()
        }

    return layer(tables.get(command, {}) if command else {}), layer(tables.get("", {}))


def _load(
    path: str, env: Mapping[str, str]
) -> tuple[str, dict[str, dict[str, tuple[Any, int]]]] | None:
    """The file's tables (key -> (value, line)), checked against every command; None when
    there is no file. Raises ConfigError."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        if path == env.get("OUTSTREAM_CONFIG"):
            raise ConfigError(f"{path}: no such file (named by OUTSTREAM_CONFIG)") from None
        return None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    tables = _parse(path, data)
    _check(path, tables)
    return path, tables


def _parse(path: str, data: bytes) -> dict[str, dict[str, tuple[Any, int]]]:
    import importlib
    import re

    # (the standard library's since 3.11; tomli, its source, before)
    tomllib: Any = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = re.search(r" \(at line (\d+), column (\d+)\)", message)
        if at:
            message = message[: at.start()] + message[at.end() :]
            path = f"{path}:{at.group(1)}:{at.group(2)}"
        message = message.replace(" (at end of document)", " at the end of the file")
        raise ConfigError(f"{path}: {message[:1].lower()}{message[1:]}") from None
    lines = _Lines(text)
    tables: dict[str, dict[str, tuple[Any, int]]] = {"": {}}
    for key, value in document.items():
        if isinstance(value, dict):
            if key not in COMMANDS[1:]:
                raise ConfigError(
                    f"{path}:{lines.table(key)}: [{key}]: no such command{_mean(key, COMMANDS[1:])}"
                    " (tables: " + ", ".join(f"[{c}]" for c in COMMANDS[1:]) + ")"
                )
            tables[key] = {}
            for inner, item in value.items():
                tables[key][inner] = (item, lines.key(key, inner))
        else:
            tables[""][key] = (value, lines.key("", key))
    return tables


class _Lines:
    """Where a key is in the file (tomllib says where only for syntax errors)."""

    def __init__(self, text: str) -> None:
        import re

        self._header = re.compile(r"\s*\[\s*([^\]]+?)\s*\]")
        self._entry = re.compile(r"\s*(?:\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_.-]+))\s*[=.]")
        self._lines = text.splitlines()

    def _scan(self) -> Iterator[tuple[int, str, str | None]]:
        table = ""
        for number, line in enumerate(self._lines, 1):
            header = self._header.match(line)
            if header:
                table = header.group(1).strip("\"'")
                yield number, table, None
                continue
            entry = self._entry.match(line)
            if entry:
                name = next(g for g in entry.groups() if g is not None)
                yield number, table, name.split(".")[0]

    def table(self, name: str) -> int:
        for number, table, key in self._scan():
            if (key is None and table == name) or (table == "" and key == name):
                return number
        return 0

    def key(self, table: str, name: str) -> int:
        for number, in_table, key in self._scan():
            if in_table == table and key == name:
                return number
        return self.table(table) if table else 0


def _check(path: str, tables: Mapping[str, Mapping[str, tuple[Any, int]]]) -> None:
    """Every key names an option, and every value is one that option takes, for each
    command that would use it."""
    if not any(tables.values()):
        return  # (an empty file, /dev/null: nothing to check)
    assert all_parsers is not None, "outstream.cli gives the commands' parsers"
    parsers = all_parsers()
    for table, values in tables.items():
        commands = [table] if table else list(COMMANDS)
        known = {c: _dests(parsers[c]._actions, command=c) for c in commands}
        for key, (raw, line) in values.items():
            dest = key.replace("-", "_")
            where = f"{path}:{line}" if line else path
            having = [c for c in commands if dest in known[c]]
            if not having:
                choices = sorted({_key(d) for c in commands for d in known[c]})
                scope = f"[{table}]" if table else "any command"
                raise ConfigError(f"{where}: {key}: not an option of {scope}{_mean(key, choices)}")
            if key != _key(dest) and _key(dest) in values:
                raise ConfigError(f"{where}: {key}: given twice (also as {_key(dest)})")
            for command in having:
                _value(parsers[command], known[command][dest], raw, f"file {where}", textual=False)


def _mean(word: str, choices: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


# Every command's parser that reads the file, by table name: a file is checked against
# them all. Given by `outstream.cli` (`commands.all_parsers`), since the commands import
# this module, and it none of them.
all_parsers: Callable[[], Mapping[str, argparse.ArgumentParser]] | None = None


# --- values ---


def _value(
    parser: argparse.ArgumentParser,
    actions: Sequence[argparse.Action],
    raw: Any,
    origin: str,
    *,
    textual: bool,
) -> Any:
    """`raw` (a TOML value, or a variable's text) as the option's value, checked as a
    flag's would be. Raises ConfigError naming `origin`."""
    where = _where(origin, actions[0].dest)
    switches = [a for a in actions if a.nargs == 0]  # --markdown, --no-wrap
    takers = [a for a in actions if a.nargs != 0]  # --cps N, --smooth [LAG]
    optional = next((a for a in takers if a.nargs == "?"), None)
    if isinstance(raw, str) and (textual or not takers):
        word = raw.strip().lower()
        if word in _TRUE | _FALSE and (switches or (optional and word not in ("0", "1"))):
            raw = word in _TRUE
    if isinstance(raw, bool):
        if raw:
            for action in switches:
                if action.const:
                    return action.const
            if optional is not None:
                return optional.const
        else:
            for action in switches:
                if not action.const and action.const is not None:
                    return action.const  # --no-wrap
            if switches:
                return False  # --markdown off, also where its default is "not said"
            if optional is not None:
                return _default(parser, actions[0].dest)
        what = "a value" if takers else "true or false"
        raise ConfigError(f"{where}: takes {what}, not {str(raw).lower()}")
    if not takers:
        raise ConfigError(f"{where}: takes true or false, not {_shown(raw)}")
    action = takers[0]
    many = isinstance(action, argparse._AppendAction) or action.nargs in ("*", "+")
    items = raw if isinstance(raw, list) and many else [raw]
    values = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ConfigError(f"{where}: takes a value, not {_shown(item)}")
        try:
            value = parser._get_value(action, str(item))
            parser._check_value(action, value)
        except argparse.ArgumentError as exc:
            raise ConfigError(f"{where}: {exc.message}") from None
        values.append(value)
    return values if many else values[0]


def _where(origin: str, dest: str) -> str:
    if origin.startswith("env "):
        return origin[4:]
    if origin.startswith("file "):
        return f"{origin[5:]}: {_key(dest)}"
    return origin


def _shown(raw: Any) -> str:
    return repr(raw) if not isinstance(raw, list | dict) else type(raw).__name__


# --- what `outstream config` shows ---


def configurable(parser: argparse.ArgumentParser) -> list[str]:
    """The destinations of `parser`'s options that have a key and a variable."""
    return list(_dests(parser._actions, command=command_of(parser)))


def settings(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[Setting]:
    """The configurable options of `parser`'s command, as `configured` filled `args`."""
    command = command_of(parser)
    origins = getattr(args, "_origins", {})
    return [
        Setting(
            key=_key(dest),
            dest=dest,
            value=getattr(args, dest),
            origin=origins.get(dest, "default"),
            secret=dest in SECRETS,
        )
        for dest in _dests(parser._actions, command=command)
    ]
