"""Frozen values that flow from the source into the pipeline, and the batches that carry them."""

from __future__ import annotations

from collections.abc import MutableSequence
from dataclasses import dataclass, field, replace

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

    ``prompt_tokens`` counts the whole prompt, read from a cache or not
    (OpenAI's ``prompt_tokens``; Anthropic's ``input_tokens`` plus its
    ``cache_creation_input_tokens`` and ``cache_read_input_tokens``).
    ``total_tokens`` is the provider's own total; a stream's `Result` gives
    ``prompt_tokens + completion_tokens`` where the provider gives none
    (Anthropic, Ollama). ``generation_seconds`` is the provider's own
    measure of generation time when it gives one (Ollama's ``eval_duration``).

    A stream may report usage several times; ``adds`` says how a report
    combines with those before it (`merged`): False (most providers), it
    brings the counts so far, which replace the earlier ones; True
    (LangChain's ``usage_metadata``, each chunk's own), its counts add to
    the earlier ones.
    """

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    generation_seconds: float | None = None
    adds: bool = False

    def merged(self, other: Usage) -> Usage:
        """These counts, updated with what a later report, `other`, says.

        With ``other.adds`` its counts are added (LangChain's ``add_usage``);
        otherwise each count it gives replaces this one, except that a zero
        does not replace a count: a provider that says 0 before it knows
        (Anthropic's ``message_start`` through some proxies) and the count
        later is right the second time, and a count that has been reported
        does not go back to zero.
        """
        values: dict[str, float | int | None] = {}
        for name in _COUNTS:
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs is None:
                values[name] = mine
            elif mine is None:
                values[name] = theirs
            elif other.adds:
                values[name] = mine + theirs
            else:
                values[name] = mine if theirs == 0 else theirs
        return Usage(**values)  # type: ignore[arg-type]

    def with_total(self) -> Usage:
        """These counts, with ``total_tokens`` the sum of the prompt's and the completion's
        when the provider gave no total and both are known."""
        if self.total_tokens is not None:
            return self
        if self.prompt_tokens is None or self.completion_tokens is None:
            return self
        return replace(self, total_tokens=self.prompt_tokens + self.completion_tokens)


_COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens", "generation_seconds")


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
