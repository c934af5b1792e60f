"""``outstream ask PROMPT``: a model's answer, streamed from an OpenAI-compatible server."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ._shared import _fail, check_paths, command_parser, parsed
from .stream import _add_stream_options, _positive, _stream

_ASK_DESCRIPTION = """\
Ask a model through any OpenAI-compatible Chat Completions endpoint (OpenAI,
Ollama, vLLM, llama.cpp's server, LM Studio...) and stream its answer, paced,
sanitized and flushed as outstream does. Text piped in is added to the prompt.
"""

_ASK_EPILOG = """\
configuration (flags win):
  --base-url   then OUTSTREAM_BASE_URL, OPENAI_BASE_URL; with none, a local
               Ollama at http://localhost:11434/v1 is tried
  --model      then OUTSTREAM_MODEL
  --api-key    then OPENAI_API_KEY (never printed, logged or recorded)

examples:
  outstream ask --model llama3.2 "why is the sky blue?"
  git diff | outstream ask --model gpt-4o-mini --base-url https://api.openai.com/v1 "review this"
  outstream ask --model qwen3 --reasoning show "think it through: 17 * 23"

exit status:
  0 done, 1 the model could not be asked or its answer stopped short (one line
  on stderr saying what to do; what arrived stays shown), 2 usage error,
  130 interrupted (Ctrl-C closes the connection), 143 terminated.
"""


def build_ask_parser() -> argparse.ArgumentParser:
    parser = command_parser("outstream ask", _ASK_DESCRIPTION, _ASK_EPILOG)
    parser.add_argument("prompt", nargs="*", metavar="PROMPT", help="what to ask")
    model = parser.add_argument_group("model")
    model.add_argument("--model", metavar="M", help="the model to ask")
    model.add_argument(
        "--base-url", metavar="URL", help="the endpoint, e.g. http://localhost:8000/v1"
    )
    model.add_argument("--api-key", metavar="KEY", help="the API key (default: $OPENAI_API_KEY)")
    model.add_argument("--system", metavar="TEXT", help="a system prompt")
    model.add_argument("--temperature", type=float, metavar="T", help="sampling temperature")
    model.add_argument(
        "--max-tokens", type=_count("--max-tokens"), metavar="N", help="at most N tokens"
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
        type=_count("--max-event"),
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
    model.add_argument(
        "--reasoning",
        default=None,
        metavar="hide|show|stderr|FILE",
        help="the model's reasoning: hidden, shown before the answer, dimmed on stderr, or "
        "written to FILE as it comes (default: stderr on a terminal, hidden otherwise); "
        "it goes through --escapes as the answer does",
    )
    publishing = parser.add_argument_group("publishing (one answer, many readers)")
    publishing.add_argument(
        "--publish",
        nargs="?",
        const="",
        default=None,
        type=_stream_id,
        metavar="ID",
        help="show the answer and publish it to the stream log in Redis, as stream ID (default: "
        "a random id, said on stderr); 'outstream follow ID' shows it anywhere",
    )
    publishing.add_argument(
        "--redis", metavar="URL", help="the stream log (default: $OUTSTREAM_REDIS_URL)"
    )
    _add_stream_options(parser)
    return parser


def _stream_id(text: str) -> str:
    from .relay import _stream_id as checked

    return checked(text) if text else text


def _count(kind: str) -> Any:
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


def ask(argv: Sequence[str]) -> int:
    import os
    import re

    from ..core.escapes import terminal_line
    from ..sources.openai_http import ChatRequest, chat_stream, safe_url, settings_from

    parser = build_ask_parser()
    args = parsed(parser, argv)
    if args.reasoning is not None and not args.reasoning.strip():
        parser.error("--reasoning: give hide, show, stderr or a FILE to write it to")
    check_paths(parser, args, [])
    base_url, model, api_key, note = settings_from(
        os.environ, base_url=args.base_url, model=args.model, api_key=args.api_key
    )
    if not model:
        parser.error("which model? give --model M or set OUTSTREAM_MODEL")
    from urllib.parse import urlsplit

    try:
        url = urlsplit(base_url)
        web = url.scheme in ("http", "https") and bool(url.hostname) and url.port != 0
    except ValueError:  # a port that is no number, or out of range
        web = False
    if web and (url.query or url.fragment):
        parser.error(
            "--base-url: a query or fragment (?…, #…) would end up before the endpoint's "
            f"path; give the base URL alone, such as {safe_url(base_url)}"
        )
    if not web:
        where = "--base-url" if args.base_url else "the base URL from the environment"
        parser.error(
            f"{where} must be an http:// or https:// URL such as http://localhost:11434/v1, "
            f"not {terminal_line(repr(re.sub(r'//[^/@]*@', '//', base_url)), 200)}"  # no password
        )
    prompt = " ".join(args.prompt)
    if sys.stdin is not None and not sys.stdin.isatty():
        piped = sys.stdin.read()
        if piped.strip():
            prompt = f"{prompt}\n\n{piped}" if prompt else piped
    if not prompt.strip():
        parser.error("nothing to ask: give a PROMPT, or pipe text in")
    if note:
        _fail(note)
    messages = [{"role": "system", "content": args.system}] if args.system else []
    messages.append({"role": "user", "content": prompt})
    request = ChatRequest(
        base_url=base_url,
        model=model,
        messages=messages,
        api_key=api_key,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        connect_timeout=args.connect_timeout,
        read_timeout=args.timeout,
        max_time=args.max_time,
        max_event=args.max_event * 1024 * 1024,
    )
    if args.markdown is None:  # an answer is Markdown: render it on a terminal
        args.markdown = sys.stdout is not None and sys.stdout.isatty()
    describe = f"outstream ask, {safe_url(base_url)}"
    source: Any = chat_stream(request)
    tap = None
    if args.publish is not None:
        from .relay import exit_published, published

        tap = published(args, parser, source, model=model, describe=describe)
        _fail(f"publishing as stream {tap.id}: outstream follow {tap.id}")
        source = tap
    code = _stream(args, source, describe=describe, model=model)
    return code if tap is None else exit_published(tap, code)
