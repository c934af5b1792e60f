"""A loopback LLM server for tests: a scripted answer in the providers' own wire formats.

Theory of operation
-------------------

`LLMServer` is an HTTP/1.1 server on 127.0.0.1 that plays a `Script`: the
chunks of an answer (and of its reasoning), when each goes out, the usage it
reports and how it fails. It speaks four dialects, chosen by the path
(`handler._ROUTES`), and answers errors in the same provider's shape
(`errors`):

- ``POST /v1/chat/completions``: OpenAI Chat Completions, SSE ``data:`` lines;
- ``POST /v1/responses``: OpenAI Responses, SSE ``event:`` and ``data:``;
- ``POST /v1/messages``: Anthropic Messages, SSE named events;
- ``POST /api/chat``, ``/api/generate``: Ollama, one JSON object a line;
- ``GET /v1/models`` (Anthropic's shape when the request has an
  ``anthropic-version`` header), ``/v1/models/{id}``, ``/api/tags``,
  ``/api/version``: so that clients that probe find the scripted models.

Each dialect is a small "wire" object (`wire`) that turns the script's
steps into bytes (``opening``, ``piece``, ``closing``, ``error_event``,
``garbage``, ``whole``) and does no I/O; the request handler (`handler`)
owns the socket and the timing. A streamed body is sent with
``Transfer-Encoding: chunked``, one HTTP chunk per write, so a scripted
disconnect (the socket closed before the terminating chunk) is an error for
every HTTP client, as it is with the real services. Times are absolute: piece *k* goes out at ``t0 + schedule()[k]``,
``t0`` being the request's arrival, so the scripted timing does not drift.
Each request records when each piece went out (`RecordedRequest.piece_times`).

While it waits between pieces the handler watches the connection, so it
knows when the client closed it before the response ended
(`Ending.CLIENT_CLOSED`): what a test of Ctrl-C needs to see.

The server's time is real by default. Given a clock (a
`outstream.testing.VirtualClock`), it waits on that clock instead, so the
pacing code runs as it does on real time while a test asserts exact times;
the connection is then looked at before and after each wait.

The modules, one concept each, from the ground up: `script` (what the server
plays: `Script`, `Failure`, `Stop`), `wire` (the dialects: pure, bytes out),
`errors` (error bodies in each provider's shape), `recorded` (what the
server saw: `RecordedRequest`, `Ending`), `handler` (the routes, and one
request answered on its socket), `server` (`LLMServer`: its thread, its
scripts, the requests it saw, `close`).
"""

from __future__ import annotations

from .recorded import Ending, RecordedRequest
from .script import Failure, Script, Stop
from .server import DEFAULT_MODEL, LLMServer

__all__ = ["DEFAULT_MODEL", "Ending", "Failure", "LLMServer", "RecordedRequest", "Script", "Stop"]
