"""The answers a server starts (``POST /v1/streams``): each an asyncio task that asks the
upstream model and publishes its answer to the log, for readers anywhere.

A task lives in the server's process, not in the request that started it:
the request returns as soon as the stream is in the log, and the answer
goes on whether anyone reads it. It ends as any published stream does, with
an ``end`` or ``error`` entry: the model's failure (unreachable, a refused
key, an error mid-answer) is that entry, with the provider's words as it
sent them (readers sanitize), never a traceback in the server's log; a
reader's cancel (`outstream.relay.acancel`, from any process) stops it at
its next append or lease renewal, closing the connection to the model; the
server stopping (`aclose`) interrupts it.
"""

from __future__ import annotations

import asyncio

from ..relay import StreamCancelled, StreamLog, apublish
from ..sources.openai_http import Upstream, achat_stream

__all__ = ["Answers"]


class Answers:
    """The answers a server is producing, started by `start`, interrupted by `aclose`."""

    # Seconds `aclose` gives the interrupted answers to append their last entry
    # (publishing tries for a second; the rest is slack for a busy loop).
    close_timeout = 3.0

    def __init__(self, log: StreamLog, upstream: Upstream) -> None:
        self._log = log
        self.upstream = upstream
        self._tasks: set[asyncio.Task[BaseException | None]] = set()

    def __len__(self) -> int:
        """How many answers are being produced."""
        return len(self._tasks)

    async def start(self, prompt: str, *, id: str, system: str | None = None) -> str:
        """Ask the upstream `prompt` and publish its answer as stream `id`; return the id once
        the stream is in the log (so that a reader can follow it at once).

        Raises:
            StreamExists: a stream has this id already.
            RelayError: the log could not be reached (nothing was asked).
        """
        loop = asyncio.get_running_loop()
        created: asyncio.Future[None] = loop.create_future()

        def on_created(_: str) -> None:
            if not created.done():
                created.set_result(None)

        request = self.upstream.request(prompt, system=system)
        answer = apublish(
            achat_stream(request),
            self._log,
            id,
            model=self.upstream.model,
            describe=f"outstream serve, {self.upstream.where}",
            on_created=on_created,
        )
        task = loop.create_task(_produced(answer), name=f"outstream answer {id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await asyncio.wait((created, task), return_when=asyncio.FIRST_COMPLETED)
        if not created.done():  # it ended before the stream existed: the log said no
            created.cancel()
            error = task.result()
            assert error is not None
            raise error
        return id

    async def aclose(self) -> None:
        """Interrupt the answers being produced: each stream ends with an ``error`` entry
        of type ``Interrupted``, its connection to the model closed."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=self.close_timeout)


async def _produced(answer: object) -> BaseException | None:
    """Await `answer` (an `apublish`); what stopped it before its stream existed, if anything.

    Whatever stops it later is in the log already, as the stream's last entry.
    """
    try:
        await answer  # type: ignore[misc]
    except StreamCancelled:
        pass
    except Exception as exc:  # (the model's failure, the log's: the log has it, or the caller)
        return exc
    return None
