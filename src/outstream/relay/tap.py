"""A source shown and published at once: what ``outstream ask --publish`` streams."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from ..clock import SystemClock
from ..drive.inbox import Channel
from ..errors import SourceError
from ..sources.plain import sync_iterator

__all__ = ["Tap"]


class Tap:
    """A source that is shown and published: what `ask --publish` streams.

    Each item the source gives is handed to a publisher thread as well
    (through a `Channel`: the display is not held up by the log unless
    the log falls a mebibyte behind); its end or
    failure ends the published stream too. A reader's cancel stops the
    source between two items.
    """

    def __init__(self, source: Any, log: Any, id: str, *, model: str | None, describe: str):
        self._source = source
        self.id = id
        self._channel = Channel(SystemClock())
        self.error: BaseException | None = None
        self.cancelled = False
        self._thread = threading.Thread(
            target=self._publish, args=(log, model, describe), name="outstream-publish"
        )
        self._thread.start()

    def _publish(self, log: Any, model: str | None, describe: str) -> None:
        from . import StreamCancelled, publish

        try:
            publish(_Inbox(self._channel), log, self.id, model=model, describe=describe)
        except StreamCancelled:
            self.cancelled = True
        except BaseException as exc:
            self.error = exc
        finally:
            self._channel.close()

    def __iter__(self) -> Iterator[object]:
        iterator = sync_iterator(self._source)
        assert iterator is not None
        try:
            for item in iterator:
                if self.cancelled:
                    raise SourceError(f"stream {self.id} was cancelled by a reader")
                self._channel.put(item)
                yield item
        except BaseException as exc:
            self._channel.end(exc)
            raise
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
        self._channel.end()

    def wait(self, timeout: float) -> None:
        """Until the last entry is appended (at most `timeout` seconds)."""
        self._thread.join(timeout)


class _Inbox:
    """A `Channel` as the async inbox `publish` reads."""

    def __init__(self, channel: Any) -> None:
        self._channel = channel

    async def aget(self, until: float | None) -> Any:
        return await self._channel.aget(until)

    async def aclose(self) -> None:
        self._channel.close()
