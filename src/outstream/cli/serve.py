"""``outstream serve``: the stream log over HTTP (`outstream.web.app`, run by uvicorn)."""

from __future__ import annotations

import argparse
import socket
from collections.abc import Sequence

from ._shared import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, _fail, command_parser
from .relay import _WHERE, open_redis_log

_SERVE_DESCRIPTION = """\
Serve the stream log over HTTP, for browsers and any HTTP client: each
stream as Server-Sent Events that resume where they left off
(Last-Event-ID), its status, its text, and cancel. Any number of 'serve'
processes can serve one Redis; a stream published anywhere ('outstream
publish', 'outstream ask --publish') is served by all of them.
"""

_SERVE_EPILOG = f"""\
{_WHERE}
endpoints:
  GET  /v1/streams/ID/events   Server-Sent Events: id = the entry's id, event = its
                               kind, data = the entry as JSON; Last-Event-ID or
                               ?after=ENTRY resumes; it ends with 'end' or 'error'
  GET  /v1/streams/ID          status: producing, done, failed, cancelled, producer gone
  GET  /v1/streams/ID/text     the text so far
  POST /v1/streams/ID/cancel   stop the producer (closing a reader never does)

examples:
  outstream serve --redis redis://localhost:6379
  curl -N http://127.0.0.1:8787/v1/streams/ID/events

It listens on 127.0.0.1 by default: put it behind your proxy, or give
--host 0.0.0.0 knowing that anyone who can reach it can read and cancel the
streams whose ids they know (ids are 128 random bits).

exit status:
  130 stopped by Ctrl-C, 143 by SIGTERM (each after the streams being read were
  given 5 s to end), 1 it could not listen or reach Redis, 2 usage error.
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
    args = parser.parse_args(argv)
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
        asgi = app(log)
    except UsageError as exc:
        _fail(str(exc))
        return EXIT_FAILED
    _fail(f"serving the stream log at http://{host}:{port}/v1/streams/ID/events (Ctrl-C stops)")
    # An event stream lasts as long as its answer: stopping waits for them 5 s at most.
    config = uvicorn.Config(
        asgi, log_level="warning", ws="none", lifespan="on", timeout_graceful_shutdown=5
    )
    try:
        uvicorn.Server(config).run(sockets=[listener])
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        listener.close()
    return EXIT_OK


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
