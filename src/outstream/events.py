"""Frozen values that flow from the source into the pipeline."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Delta", "End", "Event", "Failed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Delta:
    """A piece of the source's output, as it arrived: text or raw bytes.

    Args:
        data: the piece; bytes are decoded as UTF-8 by the pipeline.
        t: arrival time on the driver's clock, in seconds.
    """

    data: str | bytes
    t: float

    def __post_init__(self) -> None:
        if not isinstance(self.data, str | bytes | bytearray):
            raise TypeError(f"Delta.data must be str or bytes, not {type(self.data).__name__}")


@dataclass(frozen=True, slots=True, kw_only=True)
class End:
    """The source finished normally."""

    t: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed:
    """The source raised `error`; what came before it is still shown."""

    t: float
    error: BaseException


Event = Delta | End | Failed
