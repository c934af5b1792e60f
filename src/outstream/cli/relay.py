"""``outstream publish``, ``outstream follow ID|URL`` and ``outstream cancel ID|URL``: one
answer, many readers, through a stream log in Redis or the HTTP server in front of it
(``outstream serve``); and what ``ask --publish`` adds to ``ask``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ._shared import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    _fail,
    check_paths,
    command_parser,
    configured,
    parsed,
)
from .stream import _add_stream_options, _source, _SourceUnavailable, _stream

_WHERE = """\
the log:
  --redis URL, then OUTSTREAM_REDIS_URL: redis://[:PASSWORD@]HOST:PORT/DB
  (rediss:// for TLS; Valkey works the same). The password is never printed.
  Publishing and following across processes need it: without it there is no
  log another process can read.
"""

_PUBLISH_DESCRIPTION = """\
Publish text to the stream log, for any number of readers anywhere
('outstream follow ID'). Prints the stream's id first, then reads TEXT,
-f FILE or standard input to its end, appending as it comes (at most 60
appends a second). The stream ends with an end entry, or an error entry if
the input failed: a reader never waits for a lost message.
"""

_PUBLISH_EPILOG = f"""\
{_WHERE}
examples:
  export OUTSTREAM_REDIS_URL=redis://localhost:6379
  llm "explain DNS" | outstream publish                 prints an id, then publishes
  outstream publish --id demo -f answer.md               under an id of your choosing
  outstream follow demo -m                               in another terminal

exit status:
  0 published to its end, 1 the log could not be reached, the input failed or
  a reader cancelled the stream (one line on stderr), 2 usage error,
  130 interrupted (the stream ends with an error entry).
"""

_FOLLOW_DESCRIPTION = """\
Show a stream published anywhere ('outstream publish', 'outstream ask
--publish'), with the usual pacing, Markdown and stats: what it has so far,
then live until its end. A finished stream can be followed again until it
expires. Give its ID to read it from Redis, or its URL to read it through
'outstream serve' (no Redis needed here). A dropped connection (to Redis,
or to the server: a restart, a deploy) is retried for 30 s, and the stream
goes on from the last entry shown: no gap, no duplicate.
"""

_OVER_HTTP = """\
a URL:
  http(s)://HOST/v1/streams/ID (or .../events), or the page http(s)://HOST/s/ID,
  as 'outstream serve' serves it. A server that wants a token gets --token T,
  then a token=T in the URL, then OUTSTREAM_TOKEN, as 'Authorization: Bearer T'.
  A URL is never printed with its password or token.
"""

_FOLLOW_EPILOG = f"""\
{_WHERE}
{_OVER_HTTP}
examples:
  outstream follow 3f9c…e1 -m                 Markdown, from the start
  outstream follow 3f9c…e1 --from-now         only what is still to come
  outstream follow 3f9c…e1 --instant --to answer.md
  outstream follow https://answers.example.com/v1/streams/3f9c…e1 -m --token T

exit status:
  0 the stream ended, 1 it failed, was cancelled, its producer is gone, it was
  not found, a token was needed or refused, or Redis (the server) could not be
  reached (one line on stderr; what arrived stays shown), 2 usage error,
  130 interrupted.
"""

_CANCEL_DESCRIPTION = """\
Ask the producer of a stream to stop. It stops between two entries (within
a few seconds if it is waiting on its model), and the stream ends with an
error entry saying it was cancelled. Closing a reader never cancels. Give
the stream's ID (through Redis) or its URL (through 'outstream serve').
"""

_CANCEL_EPILOG = f"""\
{_WHERE}
{_OVER_HTTP}
examples:
  outstream cancel 3f9c…e1                    through Redis ($OUTSTREAM_REDIS_URL)
  outstream cancel http://127.0.0.1:8787/v1/streams/3f9c…e1 --token T

exit status:
  0 asked (the producer stops), 1 no such stream, a token was needed or
  refused, or Redis (the server) could not be reached, 2 usage error.
"""


def _add_log_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redis",
        metavar="URL",
        default=None,
        help="the stream log in Redis (default: $OUTSTREAM_REDIS_URL)",
    )


def _stream_id(text: str) -> str:
    from ..relay.log import valid_id

    if not valid_id(text):
        raise argparse.ArgumentTypeError(
            f"not a stream id: {text!r} (1 to 128 letters, digits, '-', '_' or '.')"
        )
    return text


def _stream_or_url(text: str) -> str:
    from ..errors import UsageError
    from ..relay.http import is_url, stream_url

    if not is_url(text):
        return _stream_id(text)
    try:
        stream_url(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _add_token_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--token",
        metavar="T",
        default=None,
        help="for a URL: the server's token, sent as 'Authorization: Bearer T' "
        "(default: token=T in the URL, then $OUTSTREAM_TOKEN)",
    )


def _over_http(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Any:
    """The stream's URL and token when the command names it by URL; None for an id (and a
    usage error for the options that do not go with what it names)."""
    from ..relay.http import is_url, stream_url
    from ._config import from_command_line

    if not is_url(args.id):
        if args.token and from_command_line(args, "token"):
            parser.error(
                "--token: is for a stream given by its URL ('outstream serve'); "
                "an ID is read from Redis, whose password goes in --redis URL"
            )
        return None
    if args.redis and from_command_line(args, "redis"):  # (OUTSTREAM_REDIS_URL is no matter)
        parser.error(
            "--redis: a URL is read through its server ('outstream serve'), which has the "
            "log: give the URL alone, or the stream's ID with --redis"
        )
    url = stream_url(args.id)
    # --token, then the URL's, then OUTSTREAM_TOKEN (or the config file's)
    flag = args.token if from_command_line(args, "token") else None
    token = flag or url.token or args.token or os.environ.get("OUTSTREAM_TOKEN") or None
    # (HTTP headers are ASCII: a token or an entry id that is not would fail at the first
    # request, as a traceback of the encoder)
    if token is not None and not _printable_ascii(token):
        parser.error("the token must be printable ASCII, as 'outstream serve' takes tokens")
    if getattr(args, "after", None) and not _printable_ascii(args.after):
        parser.error(f"--after: not an entry id: {args.after!r} (they look like 1733220000000-0)")
    if token is not None and "@" in urlsplit(url.root).netloc:
        parser.error(
            "a URL with a user and password and a token: both would be the one "
            "Authorization header; give the token alone (or put the proxy's password elsewhere)"
        )
    return url, token


def _printable_ascii(text: str) -> bool:
    return text.isascii() and text.isprintable()


def open_redis_log(parser: argparse.ArgumentParser, url: str | None, what: str) -> Any:
    """The Redis log the options name; a usage error (exit 2) without one."""
    from ..errors import UsageError

    url = url or os.environ.get("OUTSTREAM_REDIS_URL") or None
    if url is None:
        parser.error(
            f"{what} across processes needs Redis: give --redis URL or set "
            "OUTSTREAM_REDIS_URL (e.g. redis://localhost:6379)"
        )
    from ..relay.redis_log import RedisLog

    try:
        return RedisLog(url)
    except UsageError as exc:
        parser.error(f"--redis: {exc}")


# --- publish ---


def build_publish_parser() -> argparse.ArgumentParser:
    parser = command_parser("outstream publish", _PUBLISH_DESCRIPTION, _PUBLISH_EPILOG)
    parser.add_argument("text", nargs="*", metavar="TEXT", help="text to publish ('-': stdin)")
    parser.add_argument("-f", "--file", metavar="FILE", help="publish FILE ('-': stdin)")
    parser.add_argument("--id", type=_stream_id, help="the stream's id (default: a random one)")
    parser.add_argument("--model", metavar="M", help="the model, kept in the stream's description")
    _add_log_option(parser)
    return parser


def publish(argv: Sequence[str]) -> int:
    from ..errors import RelayError
    from ..relay import StreamCancelled, new_id
    from ..relay import publish as publish_to

    parser = build_publish_parser()
    args = configured(parser, argv)
    log = open_redis_log(parser, args.redis, "publishing")
    try:
        source = _source(args, parser)
    except _SourceUnavailable as exc:
        _fail(str(exc))
        return EXIT_FAILED
    id = args.id or new_id()
    describe = "standard input" if args.file in (None, "-") and not args.text else "text"
    try:
        publish_to(source, log, id, model=args.model, describe=describe, on_created=_say)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except StreamCancelled:
        _fail(f"stream {id} was cancelled by a reader: publishing stopped")
        return EXIT_FAILED
    except RelayError as exc:
        _fail(str(exc))
        return EXIT_FAILED
    except Exception as exc:  # the input failed: the stream says so, and so do we
        _fail(f"the input failed: {type(exc).__name__}: {exc}")
        return EXIT_FAILED
    return EXIT_OK


def _say(line: str) -> None:
    """A line on stdout at once (the id, which a script reads before the end)."""
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except (OSError, ValueError, AttributeError):
        pass


# --- follow ---


def build_follow_parser() -> argparse.ArgumentParser:
    parser = command_parser("outstream follow", _FOLLOW_DESCRIPTION, _FOLLOW_EPILOG)
    parser.add_argument(
        "id", type=_stream_or_url, metavar="ID|URL", help="the stream to show: its id, or its URL"
    )
    where = parser.add_argument_group("where to start")
    start = where.add_mutually_exclusive_group()
    start.add_argument("--from-now", action="store_true", help="only the entries still to come")
    start.add_argument("--after", metavar="ENTRY", help="the entries after entry id ENTRY")
    _add_log_option(parser)
    _add_token_option(parser)
    _add_stream_options(parser)
    return parser


def follow(argv: Sequence[str]) -> int:
    from ..relay import follow_text, text_of

    parser = build_follow_parser()
    args = parsed(parser, argv)
    check_paths(parser, args, [])
    http = _over_http(parser, args)
    if args.markdown is None:
        args.markdown = False
    if http is not None:
        from ..relay.http import follow_url

        url, token = http
        entries = follow_url(url, token=token, after=args.after, from_now=args.from_now)
        return _stream(args, text_of(entries, f"stream {url.id}"), describe=f"stream {url.shown}")
    from ..relay.redis_log import shown_url

    log = open_redis_log(parser, args.redis, "following")
    source = follow_text(log, args.id, after=args.after, from_now=args.from_now)
    return _stream(args, source, describe=f"stream {args.id} at {shown_url(log.url)}")


# --- cancel ---


def build_cancel_parser() -> argparse.ArgumentParser:
    parser = command_parser("outstream cancel", _CANCEL_DESCRIPTION, _CANCEL_EPILOG)
    parser.add_argument(
        "id", type=_stream_or_url, metavar="ID|URL", help="the stream to stop: its id, or its URL"
    )
    _add_log_option(parser)
    _add_token_option(parser)
    return parser


def cancel(argv: Sequence[str]) -> int:
    from ..errors import RelayError
    from ..relay import cancel as cancel_stream

    parser = build_cancel_parser()
    args = configured(parser, argv)
    http = _over_http(parser, args)
    try:
        if http is not None:
            from ..relay.http import cancel_url

            url, token = http
            id = url.id
            producing = cancel_url(url, token=token)
        else:
            id = args.id
            producing = cancel_stream(open_redis_log(parser, args.redis, "cancelling"), id)
    except RelayError as exc:
        _fail(str(exc))
        return EXIT_FAILED
    if not producing:
        _fail(f"stream {id} has no producer at work (it ended, or its producer is gone)")
    return EXIT_OK


# --- ask --publish ---


def published(
    args: argparse.Namespace, parser: argparse.ArgumentParser, source: Any, **kw: Any
) -> Any:
    """The source `ask --publish` shows, tapped to the log."""
    from ..relay import new_id
    from ..relay.tap import Tap

    log = open_redis_log(parser, args.redis, "--publish")
    id = args.publish or new_id()
    return Tap(source, log, id, **kw)


def exit_published(tap: Any, code: int) -> int:
    """After `ask --publish` showed the answer: wait for the log, say how it went."""
    from ..errors import RelayError

    tap.wait(timeout=30.0)
    error = tap.error
    # The source's own failure was said already, by the display.
    if error is not None and isinstance(error, RelayError):
        _fail(f"publishing stream {tap.id} failed: {error}")
        return EXIT_FAILED if code == EXIT_OK else code
    return code
