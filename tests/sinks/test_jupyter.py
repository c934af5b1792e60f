"""Tests for Jupyter: outstream in a real IPython kernel, as a notebook sees it.

One kernel for the module (`_kernel.Kernel`), driven through jupyter_client.
Each test runs a cell and asserts the IOPub messages the kernel sent for it,
in order: what a notebook appends to the cell's output (``stream``), shows
(``display_data``) and redraws in place (``update_display_data``). The
sources pause on a `VirtualClock` that the stream runs on, so that a stream
in the kernel goes through the threads and frames a notebook user runs, in
no real time, and gives the same messages on every run (the Writer's test,
whose driver thread the clock does not schedule, waits for each flush
instead). Progress shows as one message per frame that had text, sent
before the source ended (the source says when it ends on stderr, a separate
stream whose message falls in the same order).

The kernel's own flush timer is switched off (``flush_interval``), so that
every ``stream`` message comes from a flush by outstream. Left on, it sends
what is buffered some 0.2 s after a write, and more often as cells go by:
an explicit flush (ipykernel makes one after each cell) leaves its timer
scheduled, and each stale timer starts a chain of its own (ipykernel 7.4,
``OutStream._schedule_flush``); the same ``flush="end"`` cell gave 7, 14,
then 21 messages in one kernel. A test counting messages would pass without
outstream flushing at all.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import ipykernel  # noqa: F401 - what the kernel runs: without it, these tests are an error
import jupyter_client  # noqa: F401
import pytest

from outstream.errors import SinkError
from outstream.sinks.jupyter import LIVE_KINDS, LiveDisplay, in_notebook

from ._kernel import Cell, Kernel, KernelStartError

# In the kernel: a source that yields 10 chunks over a second on `clock`,
# then says on stderr that it has ended.
SETUP = """
import sys, threading
import outstream
from outstream.sinks.jupyter import LiveDisplay
from outstream.testing import VirtualClock

sys.stdout.flush_interval = 3600.0

def gen(clock):
    for i in range(10):
        yield f"chunk {i}. "
        clock.sleep_until((i + 1) / 10)
    sys.stderr.write("source ended")
    sys.stderr.flush()
"""
CHUNKS = [f"chunk {i}. " for i in range(10)]
EXPECTED = "".join(CHUNKS)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    try:
        kernel = Kernel.start(tmp_path_factory.mktemp("kernel"))
    except KernelStartError as exc:
        pytest.skip(f"an IPython kernel (ipykernel) could not start: {exc}")
    try:
        kernel.run(SETUP)
        yield kernel
    finally:
        kernel.shutdown()


def sent_before_end(cell: Cell) -> int:
    """How many stdout messages the kernel sent before the source said it ended."""
    n = 0
    for output in cell.outputs:
        if output.msg_type == "stream" and output.content["name"] == "stderr":
            assert output.text == "source ended"
            return n
        if output.msg_type == "stream":
            n += 1
    raise AssertionError("the source never said it ended")


def assert_streams_only(cell: Cell) -> None:
    """Only stream output: no error, no display, nothing written to stderr but the marker.

    A flush from the driver thread that timed out would show here: ipykernel
    reports it on stderr.
    """
    assert {o.msg_type for o in cell.outputs} <= {"stream"}, cell.outputs
    assert cell.streams("stderr") in ([], ["source ended"])


# --- plain text streams progressively ---


def test_stream_is_progressive(kernel):
    # As a notebook user calls it: smooth pacing (the kernel's stream counts as a terminal).
    cell = kernel.run("clock = VirtualClock()\nresult = outstream.stream(gen(clock), clock=clock)")
    assert_streams_only(cell)
    texts = cell.streams()
    assert "".join(texts) == EXPECTED
    assert sent_before_end(cell) >= len(CHUNKS), texts


def test_instant_stream_sends_each_chunk_when_it_comes(kernel):
    cell = kernel.run(
        "clock = VirtualClock()\n"
        "result = outstream.stream(gen(clock), clock=clock, pace=outstream.Instant())"
    )
    assert_streams_only(cell)
    assert cell.streams() == CHUNKS
    assert sent_before_end(cell) == len(CHUNKS)


def test_writer_is_progressive(kernel):
    # Here the writes and flushes come from the Writer's driver thread, and
    # ipykernel hands each flush to its IOPub thread. That thread is not one
    # a VirtualClock schedules: the cell waits for each chunk's flush instead
    # (the timeout only guards against a hang).
    cell = kernel.run(
        "flushed = threading.Event()\n"
        "def flush(flush=sys.stdout.flush):\n"
        "    flush()\n"
        "    flushed.set()\n"
        "sys.stdout.flush = flush\n"
        "try:\n"
        "    with outstream.Writer(pace=outstream.Instant()) as w:\n"
        "        for i in range(10):\n"
        "            flushed.clear()\n"
        "            w.write(f'chunk {i}. ')\n"
        "            assert flushed.wait(10), f'chunk {i} was not flushed'\n"
        "        sys.stderr.write('source ended')\n"
        "        sys.stderr.flush()\n"
        "finally:\n"
        "    del sys.stdout.flush"
    )
    assert_streams_only(cell)
    assert cell.streams() == CHUNKS
    assert sent_before_end(cell) == len(CHUNKS)


def test_without_flushing_it_comes_at_the_end(kernel):
    # The control: the same cell, flushed only at the end, is one lump after
    # the source ended; so the messages above are outstream's flushes.
    cell = kernel.run(
        "clock = VirtualClock()\n"
        "result = outstream.stream(gen(clock), clock=clock, pace=outstream.Instant(), flush='end')"
    )
    assert_streams_only(cell)
    assert cell.streams() == [EXPECTED]
    assert sent_before_end(cell) == 0


def test_typewriter_splits_a_string_into_frames(kernel):
    cell = kernel.run(
        "clock = VirtualClock()\n"
        'r = outstream.stream("x" * 20, pace=outstream.Typewriter(cps=200), clock=clock)'
    )
    assert_streams_only(cell)
    # a unit every 5 ms, a frame every 1/60 s: the units due at each frame
    assert cell.streams() == ["x", "xxx", "xxx", "xxxx", "xxx", "xxx", "xxx"]


def test_result_matches_what_was_sent(kernel):
    cell = kernel.run('r = outstream.stream(["a", "b", "c"], pace=outstream.Instant())\nr.text')
    streamed = "".join(cell.streams())
    [result] = [o for o in cell.outputs if o.msg_type == "execute_result"]
    assert streamed == "abc"
    assert result.data["text/plain"] == repr(streamed)


def test_escape_sequences_do_not_reach_the_cell(kernel):
    cell = kernel.run('r = outstream.stream("\\x1b]0;t\\x07ok")')
    assert_streams_only(cell)
    assert "".join(cell.streams()) == "ok"


def test_kernel_stream_is_detected(kernel):
    cell = kernel.run(
        "from outstream.sinks.stream import StreamSink\n"
        "from outstream.sinks.jupyter import in_notebook\n"
        "s = StreamSink(sys.stdout)\n"
        "print(s.kind, s.flush_policy, s.is_terminal, in_notebook(), in_notebook(sys.stderr))"
    )
    assert "".join(cell.streams()) == "SinkKind.JUPYTER frame True True True\n"


# --- LiveDisplay in the kernel ---


def test_live_display_updates_in_place(kernel):
    cell = kernel.run(
        "live = LiveDisplay()\n"
        "for text in ('one', 'two', 'three'):\n"
        "    live.update(text)\n"
        "live.close()\n"
        "print(live.n_updates, live.text, live.closed)"
    )
    displays = cell.displays()
    assert [o.msg_type for o in displays] == [
        "display_data",
        "update_display_data",
        "update_display_data",
    ]
    assert [o.data for o in displays] == [
        {"text/plain": "one"},
        {"text/plain": "two"},
        {"text/plain": "three"},
    ]
    display_id = displays[0].display_id
    assert display_id
    assert all(o.display_id == display_id for o in displays)
    assert cell.streams() == ["3 three True\n"]


def test_live_display_markdown(kernel):
    cell = kernel.run(
        "with LiveDisplay('markdown') as live:\n"
        "    live.update('# Title')\n"
        "    live.update('# Title\\n\\nSome *text*')"
    )
    first, last = cell.displays()
    assert (first.msg_type, last.msg_type) == ("display_data", "update_display_data")
    assert first.data == {"text/markdown": "# Title", "text/plain": "# Title"}
    assert last.data["text/markdown"] == "# Title\n\nSome *text*"
    assert first.display_id == last.display_id


def test_live_display_close_and_repeats(kernel):
    # The same text again sends nothing; close(text) is a last update; the
    # text printed before the display comes before it in the output.
    cell = kernel.run(
        "print('before')\n"
        "live = LiveDisplay()\n"
        "live.update('a')\n"
        "live.update('a')\n"
        "live.close('final')\n"
        "live.close('ignored')"
    )
    assert [(o.msg_type, o.content.get("text") or o.data) for o in cell.outputs] == [
        ("stream", "before\n"),
        ("display_data", {"text/plain": "a"}),
        ("update_display_data", {"text/plain": "final"}),
    ]


def test_live_display_from_a_thread(kernel):
    # As a renderer driven by outstream.Writer's thread would update it.
    cell = kernel.run(
        "live = LiveDisplay()\n"
        "def drive():\n"
        "    for i in range(3):\n"
        "        live.update(f'frame {i}')\n"
        "    live.close()\n"
        "t = threading.Thread(target=drive)\n"
        "t.start()\n"
        "t.join()"
    )
    displays = cell.displays()
    assert [o.msg_type for o in displays] == ["display_data"] + ["update_display_data"] * 2
    assert displays[-1].data == {"text/plain": "frame 2"}
    assert len({o.display_id for o in displays}) == 1
    assert cell.streams("stderr") == []


def test_live_display_twice_in_a_cell_are_two_regions(kernel):
    cell = kernel.run(
        "a, b = LiveDisplay(), LiveDisplay()\na.update('1')\nb.update('2')\na.update('3')"
    )
    first, second, update = cell.displays()
    assert [o.msg_type for o in (first, second, update)] == [
        "display_data",
        "display_data",
        "update_display_data",
    ]
    assert first.display_id != second.display_id
    assert update.display_id == first.display_id


# --- outside a kernel (this test process) ---


def test_not_in_notebook_here():
    assert not in_notebook(io.StringIO())
    assert not in_notebook()  # pytest's captured stdout


def test_live_display_outside_ipython():
    live = LiveDisplay("markdown")
    with pytest.raises(SinkError, match="does not run in IPython"):
        live.update("text")
    assert live.display_id is None
    live.close()
    live.close()
    with pytest.raises(ValueError, match="closed"):
        live.update("text")


def test_live_display_kinds():
    assert LIVE_KINDS == ("text", "markdown")
    with pytest.raises(ValueError, match="kind must be one of text, markdown"):
        LiveDisplay("html")  # type: ignore[arg-type]


def test_stream_renders_markdown_in_one_display_updated_in_place(kernel):
    cell = kernel.run(
        'md = ["# Title\\n", "\\n", "Some ", "**bold** ", "text.\\n"]\n'
        "clock = VirtualClock()\n"
        "def slow_md():\n"
        "    for i, piece in enumerate(md):\n"
        "        clock.sleep_until(0.05 * (i + 1))\n"
        "        yield piece\n"
        "r = outstream.stream(slow_md(), render='markdown', clock=clock, pace=outstream.Instant())"
    )
    displays = cell.displays()
    assert displays[0].msg_type == "display_data"
    assert [o.data["text/markdown"] for o in displays] == [  # updated as each piece came
        "# Title\n",
        "# Title\n\n",
        "# Title\n\nSome ",
        "# Title\n\nSome **bold** ",
        "# Title\n\nSome **bold** text.\n",
    ]
    assert {o.display_id for o in displays} == {displays[0].display_id}
    assert displays[-1].data["text/markdown"] == "# Title\n\nSome **bold** text.\n"
    assert cell.streams() == []  # nothing written to the stream itself
