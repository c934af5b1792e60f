"""``outstream ask PROMPT``: a model's answer, streamed from an OpenAI-compatible server."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ._model import MODEL_CONFIGURATION, add_model_options, upstream_of
from ._shared import _fail, check_paths, command_parser, parsed
from .stream import _add_stream_options, _stream

_ASK_DESCRIPTION = """\
Ask a model through any OpenAI-compatible Chat Completions endpoint (OpenAI,
Ollama, vLLM, llama.cpp's server, LM Studio...) and stream its answer, paced,
sanitized and flushed as outstream does. Text piped in is added to the prompt.
"""

_ASK_EPILOG = f"""\
{MODEL_CONFIGURATION}
examples:
  outstream ask --model llama3.2 "why is the sky blue?"
  git diff | outstream ask --model gpt-4o-mini --base-url https://api.openai.com/v1 "review this"
  outstream ask --model qwen3 --reasoning show "think it through: 17 * 23"
  outstream ask --plain --stats "a haiku"        text as it comes, then the numbers

On a terminal the answer is rendered as Markdown (--plain: not); --stats
counts the time to first text from the request's start.

exit status:
  0 done, 1 the model could not be asked or its answer stopped short (one line
  on stderr saying what to do; what arrived stays shown), 2 usage error,
  130 interrupted (Ctrl-C closes the connection), 143 terminated.
"""


def build_ask_parser() -> argparse.ArgumentParser:
    parser = command_parser("outstream ask", _ASK_DESCRIPTION, _ASK_EPILOG)
    parser.add_argument("prompt", nargs="*", metavar="PROMPT", help="what to ask")
    model = add_model_options(parser)
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


def ask(argv: Sequence[str]) -> int:
    from ..sources.openai_http import chat_stream

    parser = build_ask_parser()
    args = parsed(parser, argv)
    if args.reasoning is not None and not args.reasoning.strip():
        parser.error("--reasoning: give hide, show, stderr or a FILE to write it to")
    check_paths(parser, args, [])
    upstream, note = upstream_of(parser, args)
    if upstream is None:
        parser.error("which model? give --model M or set OUTSTREAM_MODEL")
    prompt = " ".join(args.prompt)
    if sys.stdin is not None and not sys.stdin.isatty():
        piped = sys.stdin.read()
        if piped.strip():
            prompt = f"{prompt}\n\n{piped}" if prompt else piped
    if not prompt.strip():
        parser.error("nothing to ask: give a PROMPT, or pipe text in")
    if note:
        _fail(note)
    request = upstream.request(prompt)
    if args.markdown is None:  # an answer is Markdown: render it on a terminal
        args.markdown = sys.stdout is not None and sys.stdout.isatty()
    model = upstream.model
    describe = f"outstream ask, {upstream.where}"
    source: Any = chat_stream(request)
    tap = None
    if args.publish is not None:
        from .relay import exit_published, published

        tap = published(args, parser, source, model=model, describe=describe)
        _fail(f"publishing as stream {tap.id}: outstream follow {tap.id}")
        source = tap
    # chat_stream makes its request when first read, after the run began: the
    # time to first text counts the wait for the model, as the user waited.
    code = _stream(args, source, describe=describe, model=model, from_request=True)
    return code if tap is None else exit_published(tap, code)
