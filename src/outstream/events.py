"""Frozen values that flow from the source into the pipeline, and the batches that carry them."""

from __future__ import annotations

from collections.abc import MutableSequence
from dataclasses import dataclass, field, fields

__all__ = [
    "Aside",
    "Batch",
    "Delta",
    "End",
    "Event",
    "Failed",
    "Finish",
    "Other",
    "Reasoning",
    "SideEvent",
    "Usage",
]


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Reasoning:
    """Reasoning ("thinking") text from the model: a channel of its own, not the answer."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """Token counts the provider reported; None where it did not say.

    ``generation_seconds`` is the provider's own measure of generation time
    when it gives one (Ollama's ``eval_duration``).
    """

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    generation_seconds: float | None = None

    def merged(self, other: Usage) -> Usage:
        """These counts, updated with what `other` says."""
        values = {}
        for f in fields(self):
            value = getattr(other, f.name)
            values[f.name] = getattr(self, f.name) if value is None else value
        return Usage(**values)


@dataclass(frozen=True, slots=True, kw_only=True)
class Other:
    """Something the source sent that is not text (a tool call's delta, say): kept, never shown.

    ``kind`` names it (``"tool_call"``, the provider's event type...);
    ``value`` is the provider's own object.
    """

    kind: str
    value: object


@dataclass(frozen=True, slots=True, kw_only=True)
class Finish:
    """The source's protocol said the answer is complete (``[DONE]``, a finish reason...)."""

    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Aside:
    """The program's own text, between the answer's (`Writer.print`): the answer before it
    is shown at once, then this on lines of its own, then the answer goes on."""

    text: str


SideEvent = Reasoning | Usage | Other | Finish | Aside
Event = Delta | End | Failed


@dataclass(slots=True)
class Batch:
    """What the source produced since the last look: chunks, their arrivals, maybe its end."""

    chunks: list[object] = field(default_factory=list)
    times: MutableSequence[float] = field(default_factory=list)
    end: End | Failed | None = None
    offset: float = 0.0  # times + offset are times on the driver's clock
    structured: bool = False  # it came from a model's stream objects, not plain text
