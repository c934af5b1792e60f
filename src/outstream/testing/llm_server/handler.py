"""One request to the loopback LLM server, answered on its socket.

The routes say which path speaks which dialect (`_ROUTES`). The handler
reads a request, records it, and plays the script: the pieces at their
times with ``Transfer-Encoding: chunked`` (a scripted disconnect leaves the
body without its terminating chunk), or the whole answer at once, or the
script's failure. While it waits between pieces it watches the connection
and the server's wake-up socket, so it knows when the client went away or
the server is closing.
"""

from __future__ import annotations

import http.server
import json
import selectors
import socket
import socketserver
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from .errors import Api, error_response
from .recorded import Ending, RecordedRequest
from .script import HOSTILE_FAILURES, HTTP_FAILURES, STREAM_FAILURES, Script
from .wire import (
    ChatWire,
    Context,
    MessagesWire,
    OllamaChatWire,
    OllamaGenerateWire,
    OllamaWire,
    ResponsesWire,
    Wire,
    compact_json,
    hex_token,
)

if TYPE_CHECKING:
    from ...clock import Clock

__all__ = ["LoopbackHTTPServer"]

_WireFactory = type[ChatWire] | type[ResponsesWire] | type[MessagesWire] | type[OllamaWire]

# (method, path) -> (api, wire, streams when "stream" is absent)
_ROUTES: Mapping[tuple[str, str], tuple[Api, _WireFactory, bool]] = {
    ("POST", "/v1/chat/completions"): ("openai", ChatWire, False),
    ("POST", "/v1/responses"): ("openai", ResponsesWire, False),
    ("POST", "/v1/messages"): ("anthropic", MessagesWire, False),
    ("POST", "/api/chat"): ("ollama", OllamaChatWire, True),
    ("POST", "/api/generate"): ("ollama", OllamaGenerateWire, True),
}

_PROMPT_KEYS = ("messages", "input", "prompt", "system", "instructions")
_NOT_PROMPT_KEYS = frozenset({"role", "type", "id", "name", "cache_control"})


def _count_words(value: object) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, dict):
        return sum(_count_words(v) for k, v in value.items() if k not in _NOT_PROMPT_KEYS)
    if isinstance(value, list):
        return sum(_count_words(v) for v in value)
    return 0


def _api_of(path: str, headers: Mapping[str, str]) -> Api:
    if path.startswith("/api/"):
        return "ollama"
    if path.startswith("/v1/messages") or "anthropic-version" in headers:
        return "anthropic"
    return "openai"


class _Owner(Protocol):
    """What a handler asks of the `LLMServer` it answers for.

    A protocol, so that this module need not import the server's, which
    imports it.
    """

    _clock: Clock | None
    _wake: socket.socket

    def model_names(self) -> list[str]: ...
    def _now(self) -> float: ...
    def _script_for(self, model: str) -> Script | None: ...
    def _record(self, request: RecordedRequest) -> None: ...
    def _attach(self, connection: socket.socket) -> None: ...
    def _detach(self, connection: socket.socket) -> None: ...


class _ClientClosed(Exception):
    pass


class _ServerClosing(Exception):
    pass


class LoopbackHTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, owner: _Owner) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks socket.getfqdn(), a reverse DNS lookup that can take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away: part of the job, not a fault
        super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "outstream-llm-server"
    sys_version = ""
    disable_nagle_algorithm = True  # each event leaves at once, as it is written
    server: LoopbackHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # A selector, not select.select(), which fails on descriptors above FD_SETSIZE.
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.connection, selectors.EVENT_READ)
        self._selector.register(self.server.owner._wake, selectors.EVENT_READ)
        self.server.owner._attach(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._detach(self.connection)
            self._selector.close()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    # --- one request ---

    def _serve(self) -> None:
        owner = self.server.owner
        n_bytes = int(self.headers.get("content-length") or 0)
        raw_body = self.rfile.read(n_bytes) if n_bytes else b""
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = RecordedRequest(
            method=self.command,
            path=urlsplit(self.path).path,
            headers=headers,
            body=body,
            raw_body=raw_body,
            t=owner._now(),
        )
        owner._record(request)
        progress = request._progress
        try:
            progress.end(self._respond(request))
        except _ClientClosed:
            self.close_connection = True
            progress.end(Ending.CLIENT_CLOSED)
        except (_ServerClosing, OSError):
            self.close_connection = True
            progress.end(Ending.SERVER_CLOSED)
        finally:
            # Any other exception is a fault of this server's (handle_error prints it).
            progress.end(Ending.SERVER_CLOSED)

    def _respond(self, request: RecordedRequest) -> Ending:
        owner = self.server.owner
        path, headers, body = request.path, request.headers, request.body
        if request.method == "GET":
            return self._list_models(request)
        route = _ROUTES.get((request.method, path))
        if route is None:
            api = _api_of(path, headers)
            if api == "ollama":
                self._send_bytes(request, 404, "text/plain; charset=utf-8", b"404 page not found")
                return Ending.COMPLETE
            status, error = error_response(
                api, "bad_url", model="", headers=headers, path=path, method=request.method
            )
            self._send_json(request, status, error, api)
            return Ending.COMPLETE
        api, wire_class, streams_by_default = route
        if not isinstance(body, dict):
            status, error = error_response(api, "bad_json", model="", headers=headers)
            self._send_json(request, status, error, api)
            return Ending.COMPLETE
        model = body.get("model")
        if not isinstance(model, str):
            model = ""
        script = owner._script_for(model)
        if script is None or script.fail == "http_404_model":
            message = script.error_message if script is not None else None
            status, error = error_response(
                api, "http_404_model", model=model, headers=headers, message=message
            )
            self._send_json(request, status, error, api)
            return Ending.COMPLETE if script is None else Ending.FAILED
        if script.fail is not None and script.fail in HTTP_FAILURES:
            status, error = error_response(
                api, script.fail, model=model, headers=headers, message=script.error_message
            )
            self._send_json(request, status, error, api)
            return Ending.FAILED
        if script.fail is not None and script.fail in HOSTILE_FAILURES:
            self._misbehave(request, script)
            return Ending.FAILED
        n_prompt, n_completion = script.usage or (
            _count_words([body.get(k) for k in _PROMPT_KEYS]),
            script.n_pieces,
        )
        ctx = Context(
            model=model,
            script=script,
            body=body,
            n_prompt_tokens=n_prompt,
            n_completion_tokens=n_completion,
            n_reasoning_tokens=min(len(script.reasoning), n_completion),
            t0=request.t,
            wall0=time.time(),
        )
        wire: Wire = wire_class(ctx)
        stream = body.get("stream", streams_by_default) is True
        if stream:
            return self._stream(request, wire, script, api)
        return self._answer_whole(request, wire, script, api)

    def _stream(self, request: RecordedRequest, wire: Wire, script: Script, api: Api) -> Ending:
        progress = request._progress
        t0 = request.t
        if script.headers_after:
            self._wait_until(t0 + script.headers_after)
        self._send_head(request, 200, wire.content_type, api, chunked=True)
        self._send_chunk(wire.opening())
        pieces = script.pieces()
        times = script.schedule()
        for i in range(len(pieces) + 1):
            if script.fail in STREAM_FAILURES and i == script.fail_after:
                self._wait_until(t0 + script.fail_time())
                if script.fail == "disconnect":
                    self._hang_up()
                    return Ending.FAILED
                if script.fail == "cut_short":
                    self._end_body(b"")
                    return Ending.FAILED
                if script.fail == "error_event":
                    self._end_body(wire.error_event())
                    return Ending.FAILED
                self._send_chunk(wire.garbage())
            if i == len(pieces):
                break
            self._wait_until(t0 + times[i])
            kind, text = pieces[i]
            now = self._now()
            self._send_chunk(wire.piece(kind, text, now))
            progress.piece_times.append(now)
        self._end_body(wire.closing(self._now()))
        return Ending.FAILED if script.fail is not None else Ending.COMPLETE

    def _misbehave(self, request: RecordedRequest, script: Script) -> None:
        """A hostile or misconfigured server's answer (see `Failure`)."""
        fail = script.fail
        if fail == "http_502_text":
            text = script.error_message or "<html><body><h1>502 Bad Gateway</h1></body></html>"
            self._send_bytes(request, 502, "text/plain; charset=utf-8", text.encode())
        elif fail == "html":
            page = b"<!doctype html><html><head><title>Sign in</title></head><body></body></html>"
            self._send_bytes(request, 200, "text/html; charset=utf-8", page)
        elif fail == "redirect":
            self.send_response(302)
            self.send_header("Location", "https://user:hunter2@login.invalid/sso?token=s3cr3t")
            self.send_header("Content-Length", "0")
            self._write(b"", headers=True)
        elif fail == "gzip_bomb":
            import zlib

            packer = zlib.compressobj(9, zlib.DEFLATED, 31)
            block = b"\n" * (1 << 20)
            body = b"".join(packer.compress(block) for _ in range(300)) + packer.flush()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self._write(body, headers=True)
        else:
            self._send_head(request, 200, "text/event-stream", "openai", chunked=True)
            if fail == "keepalive":
                for _ in range(3):
                    self._send_chunk(b": keep-alive\n\n")
            else:  # long_line
                piece = b"x" * (1 << 20)
                self._send_chunk(b"data: ")
                for _ in range(17):
                    self._send_chunk(piece)
            self._end_body(b"")

    def _answer_whole(
        self, request: RecordedRequest, wire: Wire, script: Script, api: Api
    ) -> Ending:
        t0 = request.t
        if script.fail in STREAM_FAILURES:
            self._wait_until(t0 + script.fail_time())
            if script.fail == "disconnect":
                self._hang_up()
            elif script.fail in ("malformed", "cut_short"):
                body = compact_json(wire.whole(self._now())).encode()
                self._send_bytes(request, 200, "application/json", body[: len(body) // 2], api)
            else:
                status, error = error_response(api, "http_500", model="", headers=request.headers)
                self._send_json(request, status, error, api)
            return Ending.FAILED
        times = script.schedule()
        self._wait_until(t0 + (times[-1] if times else script.ttft))
        now = self._now()
        request._progress.piece_times[:] = [now] * script.n_pieces
        self._send_json(request, 200, wire.whole(now), api)
        return Ending.COMPLETE

    def _list_models(self, request: RecordedRequest) -> Ending:
        path, headers = request.path, request.headers
        names = self.server.owner.model_names()
        created = "2025-01-01T00:00:00Z"
        if path == "/api/version":
            self._send_json(request, 200, {"version": "0.12.0"}, "ollama")
        elif path == "/api/tags":
            models = [
                {
                    "name": name,
                    "model": name,
                    "modified_at": created,
                    "size": 0,
                    "digest": "0" * 64,
                    "details": {"format": "gguf", "family": "outstream", "parameter_size": "0B"},
                }
                for name in names
            ]
            self._send_json(request, 200, {"models": models}, "ollama")
        elif path == "/v1/models" and "anthropic-version" in headers:
            data: list[dict[str, object]] = [
                {"type": "model", "id": name, "display_name": name, "created_at": created}
                for name in names
            ]
            page = {
                "data": data,
                "has_more": False,
                "first_id": names[0] if names else None,
                "last_id": names[-1] if names else None,
            }
            self._send_json(request, 200, page, "anthropic")
        elif path == "/v1/models":
            data = [
                {"id": name, "object": "model", "created": 1735689600, "owned_by": "outstream"}
                for name in names
            ]
            self._send_json(request, 200, {"object": "list", "data": data}, "openai")
        elif path.startswith("/v1/models/") and path.removeprefix("/v1/models/") in names:
            name = path.removeprefix("/v1/models/")
            entry = {"id": name, "object": "model", "created": 1735689600, "owned_by": "outstream"}
            self._send_json(request, 200, entry, "openai")
        else:
            api = _api_of(path, headers)
            if api == "ollama":
                self._send_bytes(request, 404, "text/plain; charset=utf-8", b"404 page not found")
                return Ending.COMPLETE
            kind = "http_404_model" if path.startswith("/v1/models/") else "bad_url"
            model = path.removeprefix("/v1/models/")
            status, error = error_response(
                api, kind, model=model, headers=headers, path=path, method="GET"
            )
            self._send_json(request, status, error, api)
        return Ending.COMPLETE

    # --- I/O ---

    def _send_head(
        self,
        request: RecordedRequest,
        status: int,
        content_type: str,
        api: Api | None,
        *,
        chunked: bool = False,
        n_bytes: int = 0,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache")
        else:
            self.send_header("Content-Length", str(n_bytes))
        if api == "openai":
            self.send_header("x-request-id", "req_" + hex_token(16))
        elif api == "anthropic":
            self.send_header("request-id", "req_011" + hex_token(10))
        self._write(b"", headers=True)
        request._progress.status = status

    def _send_bytes(
        self,
        request: RecordedRequest,
        status: int,
        content_type: str,
        body: bytes,
        api: Api | None = None,
    ) -> None:
        self._send_head(request, status, content_type, api, n_bytes=len(body))
        self._write(body)

    def _send_json(self, request: RecordedRequest, status: int, obj: object, api: Api) -> None:
        content_type = "application/json; charset=utf-8" if api == "ollama" else "application/json"
        self._send_bytes(request, status, content_type, compact_json(obj).encode(), api)

    def _send_chunk(self, data: bytes) -> None:
        """Send `data` as one HTTP chunk (nothing, if it is empty)."""
        if data:
            self._write(b"%x\r\n%s\r\n" % (len(data), data))

    def _end_body(self, data: bytes) -> None:
        """Send `data` and the terminating chunk in one write.

        The client may close the connection as soon as it has read the end
        marker in `data`; the terminating chunk must not be left for later.
        """
        chunk = b"%x\r\n%s\r\n" % (len(data), data) if data else b""
        self._write(chunk + b"0\r\n\r\n")

    def _write(self, data: bytes, *, headers: bool = False) -> None:
        self._check()
        try:
            if headers:
                self.end_headers()
            if data:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError) as error:
            raise _ClientClosed from error

    def _hang_up(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _check(self) -> None:
        """Raise if the server is closing or the client has closed the connection."""
        self._wait(0.0)

    def _now(self) -> float:
        return self.server.owner._now()

    def _wait_until(self, deadline: float) -> None:
        clock = self.server.owner._clock
        if clock is not None:
            # The time passes on the clock alone, which a socket cannot wait on.
            self._check()
            clock.sleep_until(deadline)
            self._check()
            return
        while True:
            remaining = deadline - time.monotonic()
            self._wait(max(remaining, 0.0))
            if remaining <= 0:
                return

    def _wait(self, seconds: float) -> None:
        ready = {key.fileobj for key, _ in self._selector.select(seconds)}
        if self.server.owner._wake in ready:
            raise _ServerClosing
        if self.connection in ready:
            try:
                data = self.connection.recv(1, socket.MSG_PEEK)
            except OSError:
                data = b""
            if not data:
                raise _ClientClosed
            # A pipelined request is waiting: the connection can no longer be watched.
            self._selector.unregister(self.connection)
            self._selector.select(seconds)
            self._selector.register(self.connection, selectors.EVENT_READ)
