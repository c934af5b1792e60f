"""What a stream is, layer by layer, and what outstream would do writing to it.

``print`` → `TextIOWrapper` → `BufferedWriter` → `FileIO` → a file
descriptor → a tty, a pipe, a file. Each layer decides when bytes move on,
and people trip over the result: output into a pipe that appears in 8 KiB
lumps, ``-u`` removing a layer, a notebook that flushes on its own timer,
a ``sys.stdout`` that pytest replaced. `inspect(stream)` reports all of it
as a value; ``outstream inspect`` prints it (`cli.inspect`).

The modules: `values` (the report and its explanations), `layers` (reading
a stream without touching it), `explain` (from facts to situations, and the
plan in words), `probe` (`inspect` and `inspect_path`).

Theory of operation: facts come first (the descriptor and what it points
to, the layers from the outermost down to the raw file, the terminal
answers from `sinks.detect`), then the situations that hold are picked from
those facts, and each situation's explanation is one entry of the `WHY`
table, so that docs and tests can read it. Nothing here writes to, flushes
or reconfigures the stream it looks at, and a path is only stat'ed, never
opened for writing.
"""

from .probe import inspect, inspect_path
from .values import (
    FLUSH_WORDS,
    REPORT_WIDTH,
    WHY,
    Inspection,
    Layer,
    PlanSummary,
    Situation,
)

__all__ = [
    "FLUSH_WORDS",
    "REPORT_WIDTH",
    "WHY",
    "Inspection",
    "Layer",
    "PlanSummary",
    "Situation",
    "inspect",
    "inspect_path",
]
