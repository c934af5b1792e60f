"""``outstream serve``: the stream log over HTTP (`outstream.web.app`, run by uvicorn)."""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Sequence
from typing import Any

from ._model import MODEL_CONFIGURATION, add_model_options, upstream_of
from ._shared import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, _fail, command_parser, configured
from .relay import _WHERE, open_redis_log

_SERVE_DESCRIPTION = """\
Serve the stream log over HTTP, for browsers and any HTTP client: each
stream as a page that shows it as the terminal does (open
http://127.0.0.1:8787/s/ID), as Server-Sent Events that resume where they
left off (Last-Event-ID), its status, its text, and cancel. Any number of
'serve' processes can serve one Redis; a stream published anywhere ('outstream
publish', 'outstream ask --publish') is served by all of them.

With a token (--token, or OUTSTREAM_TOKEN), it also starts answers: POST
/v1/streams asks the model given here (--model, --base-url, the key from
the environment, as 'outstream ask' does) and publishes its answer, for
requests that send the token. It spends your credits: keep the token secret.
"""

_SERVE_EPILOG = f"""\
{_WHERE}
endpoints:
  GET  /s/ID                   the page: the answer paced, Markdown rendered, a Stop
                               button; a reload resumes (with --token-for-reading,
                               open /s/ID#token=T: the fragment is never sent)
  GET  /v1/streams/ID/events   Server-Sent Events: id = the entry's id, event = its
                               kind, data = the entry as JSON; Last-Event-ID or
                               ?after=ENTRY resumes; it ends with 'end' or 'error'
  GET  /v1/streams/ID          status: producing, done, failed, cancelled, producer gone
  GET  /v1/streams/ID/text     the text so far
  POST /v1/streams/ID/cancel   stop the producer (closing a reader never does)
  POST /v1/streams             with the token: ask the model {{"prompt": "...",
                               "system": (optional: not --system), "id": (optional)}};
                               201 {{"id": ..., "urls": {{"events": ..., "page": ...,
                               "status": ..., "text": ..., "cancel": ...}}}}

the token:
  --token T (or OUTSTREAM_TOKEN=T, which keeps it out of 'ps' and your shell's
  history) turns POST /v1/streams on, for requests with 'Authorization: Bearer
  T'; without a token it answers 403. It needs a model (--model, or
  OUTSTREAM_MODEL), unless --token-for-reading is all it is for.
  --token-for-reading: reading and cancelling need the token too, sent as the
  header or as ?token=T (a browser's EventSource cannot send headers).
  A wrong or missing token is a 401. Make one with:
    python3 -c 'import secrets; print(secrets.token_urlsafe())'

{MODEL_CONFIGURATION}
examples:
  outstream serve --redis redis://localhost:6379
  curl -N http://127.0.0.1:8787/v1/streams/ID/events   (or open /s/ID in a browser)

  export OUTSTREAM_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe())')
  outstream serve --redis redis://localhost:6379 --model llama3.2
  curl -H "Authorization: Bearer $OUTSTREAM_TOKEN" -H 'Content-Type: application/json' \\
       -d '{{"prompt": "why is the sky blue?"}}' http://127.0.0.1:8787/v1/streams
  curl -N http://127.0.0.1:8787/v1/streams/ID/events      (ID: the "id" it answered)

It listens on 127.0.0.1 by default: put it behind your proxy, or give
--host 0.0.0.0 knowing that anyone who can reach it can read and cancel the
streams whose ids they know (ids are 128 random bits), unless
--token-for-reading.

exit status:
  130 stopped by Ctrl-C, 143 by SIGTERM (answers being produced are interrupted,
  the streams being read end at once: their readers resume where they were;
  other requests get 5 s), 1 it could not listen or reach Redis, 2 usage error
  (a token without a model, a bad base URL...).
"""


def build_serve_parser() -> argparse.ArgumentParser:
    parser = command_parser("outstream serve", _SERVE_DESCRIPTION, _SERVE_EPILOG)
    parser.add_argument(
        "--redis", metavar="URL", help="the stream log (default: $OUTSTREAM_REDIS_URL)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=8787,
        help="the port to listen on (default 8787; 0: any free one)",
    )
    tokens = parser.add_argument_group("tokens")
    tokens.add_argument(
        "--token",
        metavar="T",
        help="turn POST /v1/streams on, for requests with 'Authorization: Bearer T' "
        "(default: $OUTSTREAM_TOKEN, which keeps it out of 'ps')",
    )
    tokens.add_argument(
        "--token-for-reading",
        action="store_true",
        help="the stream routes (events, status, text, cancel) need the token too",
    )
    add_model_options(parser, "the model POST /v1/streams asks (with a token)")
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a port is a number from 0 to 65535, not {text!r}"
        ) from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, not {text!r}")
    return port


def serve(argv: Sequence[str]) -> int:
    import asyncio

    from ..errors import RelayError, UsageError

    parser = build_serve_parser()
    args = configured(parser, argv)
    token, upstream, note = _answers_of(parser, args)
    log = open_redis_log(parser, args.redis, "serving streams")
    try:
        import uvicorn

        from ..web import app
    except ImportError:
        _fail('serving needs uvicorn and Starlette: pip install "outstream[web]"')
        return EXIT_FAILED
    try:
        asyncio.run(_reachable(log))
    except RelayError as exc:
        _fail(str(exc))
        return EXIT_FAILED
    try:
        listener = listen(args.host, args.port)
    except OSError as exc:
        _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return EXIT_FAILED
    host, port = listener.getsockname()[:2]
    try:
        asgi = app(log, token=token, token_for_reading=args.token_for_reading, upstream=upstream)
    except UsageError as exc:
        _fail(str(exc))
        return EXIT_FAILED
    _fail(
        f"serving the stream log at http://{host}:{port}/v1/streams/ID/events, "
        f"its pages at http://{host}:{port}/s/ID (Ctrl-C stops)"
    )
    if note and upstream is not None:
        _fail(note)
    _fail(_what_is_on(token, upstream, reading=args.token_for_reading))
    # Event streams end as the server begins to stop (_server); other requests get 5 s.
    config = uvicorn.Config(
        asgi, log_level="warning", ws="none", lifespan="on", timeout_graceful_shutdown=5
    )
    try:
        _collect_less()
        _quiet_about_readers_let_go()
        _server(uvicorn.Server, config, asgi.state.stop_streams).run(sockets=[listener])
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        listener.close()
    return EXIT_OK


def _quiet_about_readers_let_go() -> None:
    """uvicorn calls a response that ends without its last chunk an error; an event stream
    ends so only when it lets go a reader that took nothing (outstream.web says that, as
    a warning, with the reader's address): one line for it, not two."""
    import logging

    class LetGo(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return record.getMessage() != "ASGI callable returned without completing response."

    logging.getLogger("uvicorn.error").addFilter(LetGo())


def _collect_less() -> None:
    """Fewer, shorter pauses of Python's cyclic garbage collector: what is loaded at start
    is never scanned again (`gc.freeze`), and the collections come after 50 000
    allocations instead of 700. With a thousand readers, each holding tasks and
    buffers, a full collection paused every stream for tens of milliseconds (bench/web.py:
    the delivery p99 at 1000 readers was about 140 ms with the defaults, 80 ms so).
    Only this process's: the app run by a server of yours leaves its collector alone."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _answers_of(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[str | None, Any, str | None]:
    """The token, the model to ask (None: answers are off) and a note; a usage error
    (exit 2) for options that cannot go together."""
    from ..web import token_problem
    from ._config import from_command_line, named

    token = args.token if args.token is not None else os.environ.get("OUTSTREAM_TOKEN") or None
    if token is not None and (problem := token_problem(token)):
        where = named(args, "token", "--token") if args.token is not None else "OUTSTREAM_TOKEN"
        parser.error(f"{where}: the token {problem}")
    if token is None:
        if args.token_for_reading:
            where = named(args, "token_for_reading", "--token-for-reading")
            parser.error(f"{where} needs a token: give --token T or set OUTSTREAM_TOKEN")
        # (a model in the environment or the config file is for 'ask')
        given = [f"--{n.replace('_', '-')}" for n in _MODEL_FLAGS if from_command_line(args, n)]
        if given:
            parser.error(
                f"{given[0]} is for answers started by POST /v1/streams, which are on only "
                "with a token: give --token T or set OUTSTREAM_TOKEN"
            )
        return None, None, None  # (what the environment says of a model is for 'ask')
    upstream, note = upstream_of(parser, args)
    if upstream is None and not args.token_for_reading:
        parser.error(
            "--token turns POST /v1/streams on, which asks a model: give --model M (or set "
            "OUTSTREAM_MODEL); or add --token-for-reading to use the token for reading only"
        )
    return token, upstream, note


_MODEL_FLAGS = ("model", "base_url", "api_key", "system", "temperature", "max_tokens")


def _what_is_on(token: str | None, upstream: Any, *, reading: bool) -> str:
    if token is None:
        answers = "off (no --token)"
    elif upstream is None:
        answers = "off (no --model)"
    else:
        answers = f"on, for requests with the token (model {upstream.model} at {upstream.where})"
    return f"starting answers: {answers}; reading: {'with the token' if reading else 'open'}"


def _server(base: Any, config: Any, stop_streams: Any) -> Any:
    """A uvicorn server that, as it begins to stop, interrupts the answers it produces and
    ends its event streams (their readers resume elsewhere at once) before it waits for
    the open responses."""

    class Server(base):  # type: ignore[misc]
        async def shutdown(self, sockets: Any = None) -> None:
            await stop_streams()
            await super().shutdown(sockets)

    return Server(config)


# Bytes not yet sent that the kernel keeps for a connection. Left to itself, Linux
# lets a reader that stops reading hold up to net.ipv4.tcp_wmem's maximum (4 MiB;
# on loopback it gets there); with this, a stalled reader holds no more than
# this in the kernel, and the event stream sees at once that it takes nothing.
NOTSENT_BYTES = 64 * 1024


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on `host`:`port` for the web app (uvicorn's backlog: a
    thousand readers may reconnect at once)."""
    listener = socket.create_server((host, port), backlog=2048)
    if hasattr(socket, "TCP_NOTSENT_LOWAT"):  # (Linux, macOS)
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT, NOTSENT_BYTES)
    return listener


async def _reachable(log: object) -> None:
    ping = getattr(log, "ping", None)
    if ping is None:
        return
    try:
        await ping()
    finally:
        await log.aclose()  # type: ignore[attr-defined]
