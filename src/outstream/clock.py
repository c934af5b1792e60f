"""The clock, injected once into the drivers; nothing in core/ reads time."""

from __future__ import annotations

import random
import time
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    """Where time comes from: a monotonic `now()` and ways to wait for a time."""

    def now(self) -> float: ...

    def sleep_until(self, t: float) -> None: ...

    async def asleep_until(self, t: float) -> None: ...


class SystemClock:
    """`time.monotonic`, shifted by a random offset.

    The offset (trio's trick) makes code that mixes `now()` with
    `time.monotonic()` fail loudly instead of working by accident.
    """

    def __init__(self, offset: float | None = None) -> None:
        self.monotonic_offset = random.uniform(10_000.0, 100_000.0) if offset is None else offset

    def now(self) -> float:
        return time.monotonic() + self.monotonic_offset

    def sleep_until(self, t: float) -> None:
        delay = t - self.now()
        if delay > 0:
            time.sleep(delay)

    async def asleep_until(self, t: float) -> None:
        delay = t - self.now()
        if delay > 0:
            import asyncio  # lazy: asyncio costs start-up time the sync path never needs

            await asyncio.sleep(delay)
