"""Recordings: a source's deltas (`deltas`, ``--save-deltas``) and what was shown
(`asciicast`, ``--record``), each written as it happens and read back.
"""

from __future__ import annotations

import os
from typing import Literal

from ..errors import SourceError
from ._jsonl import read_header
from .asciicast import CastRecorder, read_cast
from .deltas import FORMAT, DeltaRecorder, read_deltas

__all__ = [
    "CastRecorder",
    "DeltaRecorder",
    "read_cast",
    "read_deltas",
    "read_header",
    "read_recording",
    "recording_kind",
]


def recording_kind(path: str | os.PathLike[str]) -> Literal["deltas", "cast"]:
    """Whether `path` holds deltas (``--save-deltas``) or asciicast v2 (``--record``), by its first line.

    Raises:
        SourceError: it is neither.
        OSError: it cannot be read.
    """
    header = read_header(path)
    if header.get("format") == FORMAT:
        return "deltas"
    if header.get("version") == 2 and "width" in header:
        return "cast"
    raise SourceError(
        f"{os.fspath(path)}: not a recording: its first line is neither an outstream "
        "deltas header nor an asciicast v2 header"
    )


def read_recording(path: str | os.PathLike[str]) -> tuple[list[tuple[float, object]], float]:
    """The script and end time of a recording of either kind."""
    return read_deltas(path) if recording_kind(path) == "deltas" else read_cast(path)
