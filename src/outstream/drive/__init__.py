"""The drivers: the two loops around `Pipeline` (`loops`), and the inboxes they read (`inbox`).

Theory of operation: every decision is in `Pipeline`. `run` and `arun` take
what the source has produced (an *inbox* hands over everything that came,
in one batch, or nothing once the pipeline's next deadline has passed), feed
it, poll, write. The source is read beside the loop, by a thread (`run`) or
a task (`arun`), into a `Channel`, so pacing never stalls it: a slow
typewriter only grows the pacer's queue. The one thing that does slow the
reader is the output itself: when the sink blocks and more than
`Channel.max_queued` wait in the channel, the reader waits too, which keeps
memory bounded when piping a gigabyte into a slow reader. A raw file or pipe
needs no thread: `FdInbox` waits in ``select`` for its data or the next
deadline, whichever comes first.
"""

from .inbox import (
    AsyncInbox,
    Channel,
    FdInbox,
    Inbox,
    StaticInbox,
    TaskInbox,
    ThreadInbox,
    open_async_inbox,
    open_inbox,
)
from .loops import Display, Lane, Outcome, Recorder, Sink, arun, run

__all__ = [
    "AsyncInbox",
    "Channel",
    "Display",
    "FdInbox",
    "Inbox",
    "Lane",
    "Outcome",
    "Recorder",
    "Sink",
    "StaticInbox",
    "TaskInbox",
    "ThreadInbox",
    "arun",
    "open_async_inbox",
    "open_inbox",
    "run",
]
