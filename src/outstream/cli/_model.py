"""The model a command asks: the options ``outstream ask`` and ``outstream serve`` share,
and the `Upstream` they make (flags first, then the environment)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .stream import _positive

if TYPE_CHECKING:
    from ..sources.openai_http import Upstream

MODEL_CONFIGURATION = """\
configuration (flags win):
  --base-url   then OUTSTREAM_BASE_URL, OPENAI_BASE_URL; with none, a local
               Ollama at http://localhost:11434/v1 is tried
  --model      then OUTSTREAM_MODEL
  --api-key    then OPENAI_API_KEY (never printed, logged or recorded)
"""


def add_model_options(parser: argparse.ArgumentParser, title: str = "model") -> Any:
    """The options that say which model to ask and how; returns their group."""
    model = parser.add_argument_group(title)
    model.add_argument("--model", metavar="M", help="the model to ask")
    model.add_argument(
        "--base-url", metavar="URL", help="the endpoint, e.g. http://localhost:8000/v1"
    )
    model.add_argument("--api-key", metavar="KEY", help="the API key (default: $OPENAI_API_KEY)")
    model.add_argument("--system", metavar="TEXT", help="a system prompt")
    model.add_argument("--temperature", type=float, metavar="T", help="sampling temperature")
    model.add_argument(
        "--max-tokens", type=count("--max-tokens"), metavar="N", help="at most N tokens"
    )
    model.add_argument(
        "--timeout",
        type=_positive("--timeout"),
        default=60.0,
        metavar="S",
        help="give up when the server sends nothing for S seconds (default 60)",
    )
    model.add_argument(
        "--max-time",
        type=_positive("--max-time"),
        default=None,
        metavar="S",
        help="give up when the whole answer takes over S seconds (default: no limit; "
        "--timeout alone lets a server that sends a little at a time go on for ever)",
    )
    model.add_argument(
        "--max-event",
        type=count("--max-event"),
        default=16,
        metavar="MIB",
        help="the longest line or event of the answer's event stream, in MiB: past it the "
        "stream is malformed (default 16)",
    )
    model.add_argument(
        "--connect-timeout",
        type=_positive("--connect-timeout"),
        default=10.0,
        metavar="S",
        help="give up when the server does not accept the connection in S seconds (default 10)",
    )
    return model


def count(kind: str) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{kind} must be a whole number, not {text!r}"
            ) from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{kind} must be at least 1, not {text!r}")
        return value

    return parse


def upstream_of(
    parser: argparse.ArgumentParser, args: argparse.Namespace, env: Mapping[str, str] | None = None
) -> tuple[Upstream | None, str | None]:
    """The model the options name (None: no model given anywhere), and a note when the
    base URL is the default one. A base URL that is no web address is a usage error."""
    from ..sources.openai_http import Upstream, base_url_problem, settings_from

    base_url, model, api_key, note = settings_from(
        os.environ if env is None else env,
        base_url=args.base_url,
        model=args.model,
        api_key=args.api_key,
    )
    if not model:
        return None, note
    if problem := base_url_problem(base_url):
        from ._config import named

        where = (
            named(args, "base_url", "--base-url")
            if args.base_url
            else "the base URL from the environment"
        )
        parser.error(f"{where}: {problem}")
    upstream = Upstream(
        base_url=base_url,
        model=model,
        api_key=api_key,
        system=args.system,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        connect_timeout=args.connect_timeout,
        read_timeout=args.timeout,
        max_time=args.max_time,
        max_event=args.max_event * 1024 * 1024,
    )
    return upstream, note
