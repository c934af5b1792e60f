"""`LLMServer`: the loopback LLM server's life, its scripts and what it saw.

It serves 127.0.0.1 on a free port in a background thread from construction
until `close()`; requests are answered by the handler (`handler`), each on a
thread of its own, with the script set for the requested model.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .handler import LoopbackHTTPServer
from .recorded import RecordedRequest
from .script import Script

if TYPE_CHECKING:
    from ...clock import Clock

__all__ = ["DEFAULT_MODEL", "LLMServer"]

DEFAULT_MODEL = "outstream-test"
"""The model a server lists when one script plays for every model."""


class LLMServer:
    """An HTTP server on 127.0.0.1 that answers as OpenAI, Anthropic and Ollama do, from a script.

    Args:
        script: one `Script` for every model, or a mapping from model name to
            script (then any other model gets the provider's "model not
            found" error); by default `Script()`.
        clock: the time the scripts are played on; None: real time. On a
            `outstream.testing.VirtualClock`, piece *k* goes out at exactly
            ``t + schedule()[k]`` (`RecordedRequest.t`, `Script.schedule`)
            when one response goes on at a time; two that overlap share the
            clock, and a piece may then go out after its time, never before.

    The server runs in a background thread from construction until `close()`
    (or the end of a ``with`` block). It binds 127.0.0.1 only, on a free port.

    Example::

        with LLMServer(Script(["Hel", "lo"], ttft=0.1)) as server:
            client = openai.OpenAI(base_url=server.openai_base_url, api_key="k")
            ...
            assert server.requests[0].headers["authorization"] == "Bearer k"
    """

    def __init__(
        self, script: Script | Mapping[str, Script] | None = None, *, clock: Clock | None = None
    ) -> None:
        self._clock = clock
        self._lock = threading.Condition()
        self._requests: list[RecordedRequest] = []
        self._default: Script | None = None
        self._by_model: dict[str, Script] = {}
        self.set_script(Script() if script is None else script)
        self._handlers: dict[socket.socket, threading.Thread] = {}
        self._closed = False
        self._wake, self._wake_sender = socket.socketpair()
        try:
            self._httpd = LoopbackHTTPServer(self)
        except BaseException:
            self._wake.close()
            self._wake_sender.close()
            raise
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"LLMServer:{self.port}",
            daemon=True,
        )
        self._thread.start()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "serving"
        return f"<LLMServer {self.base_url} {state}>"

    # --- where ---

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: for Anthropic's and Ollama's clients."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: for OpenAI's client and OpenAI-compatible ones."""
        return self.base_url + "/v1"

    # --- what it plays ---

    def set_script(
        self, script: Script | Mapping[str, Script], *, model: str | None = None
    ) -> None:
        """Replace what the server plays, for requests that arrive from now on.

        Args:
            script: as for the constructor; with `model`, a `Script`.
            model: set the script of this model only, keeping the others.
        """
        with self._lock:
            if model is not None:
                if not isinstance(script, Script):
                    raise TypeError("with model=, script must be a Script")
                self._by_model[model] = script
            elif isinstance(script, Script):
                self._default, self._by_model = script, {}
            else:
                if not all(isinstance(s, Script) for s in script.values()):
                    raise TypeError("a mapping must map model names to Script")
                self._default, self._by_model = None, dict(script)

    def model_names(self) -> list[str]:
        """The models the server lists: the scripted ones, or `DEFAULT_MODEL`."""
        with self._lock:
            names = sorted(self._by_model)
            if self._default is not None and not names:
                names = [DEFAULT_MODEL]
            return names

    def _now(self) -> float:
        return time.monotonic() if self._clock is None else self._clock.now()

    def _script_for(self, model: str) -> Script | None:
        with self._lock:
            return self._by_model.get(model, self._default)

    # --- what it saw ---

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def wait_for_requests(self, n: int = 1, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait until at least `n` requests have arrived, and return them all.

        Raises:
            TimeoutError: fewer than `n` arrived within `timeout` seconds.
        """
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= n, timeout):
                raise TimeoutError(f"{len(self._requests)} of {n} requests arrived")
            return list(self._requests)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)
            self._lock.notify_all()

    def _attach(self, connection: socket.socket) -> None:
        with self._lock:
            self._handlers[connection] = threading.current_thread()

    def _detach(self, connection: socket.socket) -> None:
        with self._lock:
            self._handlers.pop(connection, None)

    # --- close ---

    def close(self) -> None:
        """Stop serving, cut open responses short and release the port. Can be called twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._httpd.shutdown()
        finally:
            try:
                self._wake_sender.send(b"x")
                with self._lock:
                    handlers = list(self._handlers.items())
                for connection, _ in handlers:
                    try:
                        connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                self._httpd.server_close()
                self._thread.join()
                deadline = time.monotonic() + 5.0
                for _, thread in handlers:
                    thread.join(max(deadline - time.monotonic(), 0.0))
            finally:
                self._wake.close()
                self._wake_sender.close()

    def __enter__(self) -> LLMServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
