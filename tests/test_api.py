"""The library API end to end, on a virtual clock: exact times, no sleeping."""

from __future__ import annotations

import asyncio
import io
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import outstream
from outstream.testing import MemorySink, ScriptedSource, VirtualClock


def scripted(script, *, pace=None, terminal=False, **options):  # type: ignore[no-untyped-def]
    clock = VirtualClock()
    sink = MemorySink(clock, terminal=terminal)
    result = outstream.stream(
        ScriptedSource(script, clock=clock), sink, pace=pace, clock=clock, **options
    )
    return result, sink


def test_typewriter_writes_each_unit_at_its_exact_time() -> None:
    result, sink = scripted([(0.0, "Hello, "), (0.5, "world")], pace=outstream.Typewriter(cps=10))
    assert result.text == "Hello, world"
    assert sink.writes[:7] == [
        (0.0, "H"),
        (0.1, "e"),
        (0.2, "l"),
        (0.3, "l"),
        (0.4, "o"),
        (0.5, ","),
        (0.6, " "),
    ]
    assert [t for t, _ in sink.writes[7:]] == [0.7, 0.8, 0.9, 1.0, 1.1]


def test_a_high_rate_typewriter_writes_once_per_frame() -> None:
    text = "x" * 20_000
    result, sink = scripted([(0.0, text)], pace=outstream.Typewriter(cps=20_000), fps=60)
    assert result.text == text
    assert len(sink.writes) <= 61
    assert sink.writes[-1][0] <= 1.0 + 1 / 60
    gaps = [b[0] - a[0] for a, b in zip(sink.writes, sink.writes[1:], strict=False)]
    assert min(gaps) >= 1 / 60 - 1e-12


def test_instant_into_a_pipe_like_sink_writes_every_chunk_when_it_arrives() -> None:
    _, sink = scripted([(0.0, "a\n"), (0.001, "b\n"), (0.002, "c\n")])
    assert sink.writes == [(0.0, "a\n"), (0.001, "b\n"), (0.002, "c\n")]


def test_instant_on_a_terminal_coalesces_per_frame() -> None:
    script = [(i * 0.001, f"{i}\n") for i in range(40)]
    result, sink = scripted(script, pace=outstream.Instant(), terminal=True, fps=60)
    assert result.text == "".join(c for _, c in script)
    assert [t for t, _ in sink.writes] == [0.0, 1 / 60, 2 / 60, 3 / 60]


def test_default_pace_is_smooth_on_a_terminal_and_instant_elsewhere() -> None:
    script = [(0.0, "x" * 100)]
    _, pipe = scripted(script)
    assert pipe.writes == [(0.0, "x" * 100)]
    _, tty = scripted(script, terminal=True)
    assert len(tty.writes) > 10  # paced over frames
    assert tty.writes[-1][0] <= 0.5 + 1 / 60  # within the default lag


def test_a_pace_named_or_given_as_its_class_is_that_pacer_with_its_defaults() -> None:
    script = [(0.0, "x" * 100)]
    by_instance = scripted(script, pace=outstream.Smooth(), terminal=True)[1].writes
    assert scripted(script, pace="smooth", terminal=True)[1].writes == by_instance
    assert scripted(script, pace=outstream.Smooth, terminal=True)[1].writes == by_instance
    assert scripted(script, pace="instant", terminal=True, wrap=False)[1].writes == [
        (0.0, "x" * 100)
    ]


@pytest.mark.parametrize(
    ("pace", "words"),
    [
        ("fast", ["'instant', 'smooth'", "'fast'"]),
        (3, ["Typewriter(cps=N)", "not 3"]),
        (outstream.Typewriter, ["pace=Typewriter", "Typewriter(...)", "cps"]),
    ],
)
def test_a_pace_that_is_no_pacer_says_what_pace_takes(pace: object, words: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        outstream.stream(["hi"], io.StringIO(), pace=pace)  # type: ignore[arg-type]
    for word in words:
        assert word in str(info.value)


def test_the_command_lines_values_are_the_librarys_too(capsys: pytest.CaptureFixture[str]) -> None:
    # --flush auto and --reasoning stderr: the library takes what the CLI does.
    out = io.StringIO()
    assert outstream.stream(["a", "b"], out, flush="auto").text == "ab"
    thinking = [outstream.events.Reasoning(text="hmm "), "42"]
    result = outstream.stream(thinking, out, reasoning="stderr")
    assert (result.text, result.reasoning) == ("42", "hmm ")
    assert capsys.readouterr().err == "hmm \n"  # its line ended as the answer began


def test_a_trailing_regional_indicator_is_held_until_its_hold_passes() -> None:
    _, sink = scripted([(0.0, "Japan 🇯"), (3.0, "🇵!")], hold=0.05)
    assert sink.writes == [(0.0, "Japan "), (0.05, "🇯"), (3.0, "🇵!")]


def test_a_split_flag_is_never_shown_apart() -> None:
    _, sink = scripted([(0.0, "go 🇫"), (0.01, "🇷")], hold=0.05)
    assert [text for _, text in sink.writes] == ["go ", "🇫🇷"]


def test_a_trailing_letter_is_shown_at_once_and_a_late_accent_after_it() -> None:
    # The terminal draws U+0301 on the e's cell: holding the e would only delay it.
    _, sink = scripted([(0.0, "cafe"), (3.0, "\u0301!")], hold=0.05)
    assert sink.writes == [(0.0, "cafe"), (3.0, "\u0301!")]


def test_bytes_split_inside_a_character_come_out_whole() -> None:
    data = "naïve 日本 👩‍👩‍👧".encode()
    script = [(i * 0.001, data[i : i + 1]) for i in range(len(data))]
    result, sink = scripted(script)
    assert result.text == data.decode()
    assert all("\ufffd" not in text for _, text in sink.writes)


def test_escapes_are_stripped_by_default_even_split_across_chunks() -> None:
    result, _ = scripted([(0.0, "safe\x1b]0;pw"), (0.1, "ned\x07 text\x1b["), (0.2, "2J!")])
    assert result.text == "safe text!"


def test_escapes_policy_escape_shows_them() -> None:
    result, _ = scripted([(0.0, "\x1b[31mred")], escapes="escape")
    assert result.text == "␛[31mred"


def test_strict_decoding_shows_everything_before_then_raises_with_the_offset() -> None:
    clock = VirtualClock()
    sink = MemorySink(clock)
    with pytest.raises(outstream.DecodeError) as info:
        outstream.stream(
            ScriptedSource([(0.0, b"good "), (1.0, b"bad\xff")], clock=clock),
            sink,
            clock=clock,
            errors="strict",
        )
    assert info.value.offset == 8
    assert sink.getvalue() == "good bad"


def test_a_failing_source_shows_what_came_before_at_once_then_its_error_is_re_raised() -> None:
    clock = VirtualClock()
    sink = MemorySink(clock)
    boom = ConnectionError("dropped")
    source = ScriptedSource([(0.0, "partial "), (0.1, "answer"), (0.2, boom)], clock=clock)
    with pytest.raises(ConnectionError) as info:
        outstream.stream(source, sink, pace=outstream.Typewriter(cps=1), clock=clock)
    assert info.value is boom
    assert sink.getvalue() == "partial answer"
    assert sink.writes[-1][0] == 0.2  # drained at once when the error came, not paced


def test_stats_on_the_virtual_clock_are_exact() -> None:
    result, _ = scripted([(0.25, "one "), (0.5, "two "), (1.5, "three\n")])
    stats = result.stats
    assert stats.time_to_first_text == 0.25
    assert stats.total_time == 1.5
    assert (stats.n_chunks, stats.n_chars, stats.n_graphemes, stats.n_words) == (3, 14, 14, 3)
    assert (stats.gap_p50, stats.gap_max) == (0.25, 1.0)
    assert stats.lag_max == 0.0  # nothing was held: no text in it may change on screen
    assert stats.n_writes == 3
    assert "14 chars" in stats.format()


def test_word_counts_join_words_split_across_writes() -> None:
    result, _ = scripted([(0.0, "hel"), (0.01, "lo wor"), (0.02, "ld")])
    assert result.stats.n_words == 2


def test_the_source_is_not_stalled_by_pacing() -> None:
    """A slow typewriter must not slow the reading: the whole source is read before the 3rd unit shows."""
    state = {"finished": False}

    def chunks():  # type: ignore[no-untyped-def]
        try:
            for _ in range(1000):
                yield "abc"
        finally:
            state["finished"] = True

    class Watcher(io.StringIO):
        def write(self, s: str) -> int:
            if len(self.getvalue()) >= 2:
                # The 3rd unit is due 2/cps s after the 1st; by then the reader had all of it.
                assert state["finished"]
                raise BrokenPipeError
            return super().write(s)

    result = outstream.stream(chunks(), Watcher(), pace=outstream.Typewriter(cps=20))
    assert result.reader_gone
    assert state["finished"]


def test_a_reader_going_away_closes_the_source() -> None:
    state = {"closed": False}

    def chunks():  # type: ignore[no-untyped-def]
        try:
            while True:
                yield "data\n"
        finally:
            state["closed"] = True

    class Gone(io.StringIO):
        def write(self, s: str) -> int:
            raise BrokenPipeError

    result = outstream.stream(chunks(), Gone())
    assert result.reader_gone
    assert result.text == ""
    assert state["closed"]  # by the reader thread, before stream() returned


def test_writer_returns_at_once_and_shows_everything_on_close() -> None:
    sink = io.StringIO()
    with outstream.Writer(sink, pace=outstream.Typewriter(cps=1_000_000)) as w:
        for word in ["streamed ", "with ", "a ", "writer"]:
            w.write(word)
    assert sink.getvalue() == "streamed with a writer"
    assert w.result.text == "streamed with a writer"
    assert w.result.stats.n_chunks == 4


def test_writer_print_shows_a_line_of_its_own_between_the_text() -> None:
    """A bare print() inside a Writer lands in the paced text; Writer.print goes in order."""
    sink = io.StringIO()
    with outstream.Writer(sink, pace=outstream.Typewriter(cps=1_000_000)) as w:
        w.print("before", "anything", sep="-")  # at a line's start: no break first
        w.write("The quick brown fox jumps over the lazy")
        w.print("PRINTED INSIDE")
        w.write(" dog.\n")
        w.print("after a line's end\x1b]0;title\x07", end="!\n")  # sanitized as the text is
    assert sink.getvalue() == (
        "before-anything\n"
        "The quick brown fox jumps over the lazy\nPRINTED INSIDE\n dog.\n"
        "after a line's end!\n"
    )
    assert w.result.text == "The quick brown fox jumps over the lazy dog.\n"


def test_a_print_shows_the_text_before_it_at_once_then_pacing_goes_on() -> None:
    """On the virtual clock: the text written before the aside is drained when it comes,
    the aside follows in the same write, and the text after it is paced from there
    (not from the schedule the drained text had: no pause after the aside)."""
    from outstream.events import Aside

    result, sink = scripted(
        [(0.0, "abcd"), (0.25, Aside(text="note\n")), (0.25, "ef")],
        pace=outstream.Typewriter(cps=4),
    )
    assert sink.writes == [
        (0.0, "a"),
        (0.25, "bcd\nnote\n"),
        (0.25 + 1 / 60, "e"),  # anchored anew when "ef" came, at the next frame
        (0.5, "f"),
    ]
    assert result.text == "abcdef"


def test_writer_result_before_close_is_an_error() -> None:
    w = outstream.Writer(io.StringIO())
    with pytest.raises(RuntimeError, match="still open"):
        w.result  # noqa: B018
    w.close()


def test_writing_to_a_closed_writer_is_an_error_not_lost_text() -> None:
    sink = io.StringIO()
    with outstream.Writer(sink, pace="instant") as w:
        w.write("inside")
    with pytest.raises(ValueError, match=r"closed outstream\.Writer.*would be lost"):
        w.write(" after")
    with pytest.raises(ValueError, match="print"):
        w.print("after")
    assert w.close() is w.result  # closing again: the same result
    assert sink.getvalue() == "inside"


def test_after_an_error_in_its_block_a_writer_has_the_result_of_what_was_shown() -> None:
    sink = io.StringIO()
    with pytest.raises(ZeroDivisionError), outstream.Writer(sink, pace="instant") as w:
        w.write("half ")
        1 / 0  # noqa: B018
    assert sink.getvalue() == "half "
    assert w.result.text == "half "  # not "still open"


def test_writer_rejects_unknown_options_and_bad_chunks() -> None:
    with pytest.raises(TypeError, match="colour"):
        outstream.Writer(io.StringIO(), colour=True)
    w = outstream.Writer(io.StringIO())
    with pytest.raises(TypeError, match="int"):
        w.write(42)  # type: ignore[arg-type]
    w.close()


def test_astream_on_the_virtual_clock() -> None:
    clock = VirtualClock()
    sink = MemorySink(clock)
    source = ScriptedSource([(0.0, "ab"), (1.0, "c")], clock=clock)
    result = asyncio.run(
        outstream.astream(source, sink, pace=outstream.Typewriter(cps=2), clock=clock)
    )
    assert result.text == "abc"
    assert sink.writes == [(0.0, "a"), (0.5, "b"), (1.0, "c")]


def test_astream_of_an_async_generator() -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for word in ["async ", "stream"]:
            await asyncio.sleep(0)
            yield word

    sink = io.StringIO()
    result = asyncio.run(outstream.astream(chunks(), sink))
    assert sink.getvalue() == result.text == "async stream"


def test_astream_of_a_sync_iterable_and_stream_of_an_async_one() -> None:
    async def achunks():  # type: ignore[no-untyped-def]
        yield "from "
        yield "async"

    assert outstream.stream(achunks(), io.StringIO()).text == "from async"
    assert asyncio.run(outstream.astream(["from ", "sync"], io.StringIO())).text == "from sync"


def test_bad_options_are_value_errors() -> None:
    with pytest.raises(ValueError, match="unit"):
        outstream.stream("x", io.StringIO(), unit="sentence")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="escapes"):
        outstream.stream("x", io.StringIO(), escapes="none")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fps"):
        outstream.stream("x", io.StringIO(), fps=0)


def test_a_shared_pacer_instance_does_not_carry_state_between_streams() -> None:
    pace = outstream.Typewriter(cps=10)
    scripted([(0.0, "ab")], pace=pace)
    _, sink = scripted([(0.0, "cd")], pace=pace)
    assert sink.writes == [(0.0, "c"), (0.1, "d")]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "a",
                "é",
                "\u0301",
                "日",
                "👩\u200d👧",
                "\x1b[31m",
                "\x1b]0;t\x07",
                "\r\n",
                "\r",
                " ",
                "\n",
                "\x07",
            ]
        ),
        max_size=25,
    ).map("".join),
    st.lists(st.integers(0, 200), max_size=8),
    st.sampled_from(["strip", "escape", "sgr", "raw"]),
)
def test_what_is_shown_does_not_depend_on_chunking(
    text: str, cuts: list[int], escapes: str
) -> None:
    data = text.encode()
    points = sorted({min(c, len(data)) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    script = [(i * 0.01, c) for i, c in enumerate(chunks)]
    whole, _ = scripted([(0.0, data)], escapes=escapes)
    split, _ = scripted(script, escapes=escapes)
    assert split.text == whole.text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=" \t\n\x0b\x0c\x1cab.é日", max_size=30), max_size=6))
def test_word_and_grapheme_counts_match_counting_the_whole_text(pieces: list[str]) -> None:
    from outstream.core.graphemes import count_graphemes
    from outstream.core.stats import StatsRecorder

    recorder = StatsRecorder(0.0)
    for piece in pieces:
        recorder.shown(piece, 0.0)
    stats = recorder.snapshot(1.0)
    text = "".join(pieces)
    assert stats.n_words == len(text.split())
    assert stats.n_graphemes == count_graphemes(text)


def test_wrapping_typed_text_never_breaks_a_word_that_fits() -> None:
    result, sink = scripted(
        [(0.0, "the quick brown fox jumps")], pace=outstream.Typewriter(cps=100), wrap=10
    )
    assert result.text == "the quick\nbrown fox\njumps"
    # The soft break is decided before "brown" is drawn: no write ends inside a word then jumps.
    assert all(not w.startswith("b") or w == "b" for _, w in sink.writes)


def test_a_word_whose_end_has_not_arrived_waits_for_it() -> None:
    _, sink = scripted([(0.0, "one two thr"), (2.0, "ee four")], pace=outstream.Instant(), wrap=9)
    assert sink.writes == [(0.0, "one two\n"), (2.0, "three\nfour")]


def test_wrap_is_on_by_default_only_on_a_real_terminal() -> None:
    text = "word " * 30
    result, _ = scripted([(0.0, text)], terminal=False)
    assert "\n" not in result.text
    result, _ = scripted([(0.0, text)], terminal=False, wrap=20)
    assert max(len(line) for line in result.text.split("\n")) <= 20


def test_text_the_hold_releases_is_paced_from_its_arrival_not_its_release() -> None:
    """Smooth shows every unit within `lag` of its arrival (to the frame): the flag
    the hold kept back 0.05 s too, though it joins the backlog at its release."""
    clock = VirtualClock()
    sink = MemorySink(clock)
    source = ScriptedSource([(0.0, "word " * 30 + "🇯")], end=5.0, clock=clock)
    outstream.stream(source, sink, pace=outstream.Smooth(lag=0.5), clock=clock, hold=0.05)
    assert "".join(text for _, text in sink.writes) == "word " * 30 + "🇯"
    # Stamped with its release (0.05), it would be due by 0.55 and shown later.
    assert sink.writes[-1][0] <= 0.5 + 1 / 60 + 1e-9


@pytest.mark.parametrize(
    ("script", "wrap"),
    [
        ([(0.0, "caf"), (0.2, "é"), (0.5, " au lait")], False),
        ([(0.0, "naïve 日本"), (0.3, "語 e"), (0.31, "\u0301 ok"), (0.4, "!")], False),
        ([(0.0, "Hello"), (0.1, " world 👋🏽 and"), (0.15, " more\n")], False),
        # Wrapped, a word is shown once its end is known (core/wrap.py): the
        # chunks here end with one, as a model's tokens (" word") end the last.
        ([(i * 0.02, w + " ") for i, w in enumerate(["tokens", "of", "any", "日本", "é👍"])], None),
    ],
)
def test_instant_on_a_terminal_shows_each_chunk_within_one_frame_of_its_arrival(
    script: list[tuple[float, str]], wrap: bool | None
) -> None:
    _, sink = scripted(script, pace=outstream.Instant(), terminal=True, fps=60, wrap=wrap)

    def visible(text: str) -> int:  # whitespace at a line's end shows nothing
        return len("".join(text.split()))

    shown = 0
    for t_arrival, chunk in script:
        shown += visible(chunk)
        # the first write that has this chunk's text complete
        written = 0
        for t_write, text in sink.writes:
            written += visible(text)
            if written >= shown:
                assert t_write - t_arrival <= 1 / 60 + 1e-9, (chunk, t_write)
                break
        else:
            pytest.fail(f"{chunk!r} never shown")


WRITER_LEFT_OPEN = """
import sys, outstream
w = outstream.Writer(sys.stdout, pace=outstream.Typewriter(cps=2000))
w.write("hello, ")
w.write("world\\n")
"""
WRITER_OUTPUT_CLOSED = """
import sys, outstream
f = open(sys.argv[1], "w")
w = outstream.Writer(f, pace=outstream.Typewriter(cps=100))
w.write("never shown\\n")
f.close()
"""


def python_child(*args: str):  # type: ignore[no-untyped-def]
    """`python ARGS` run to its end, as users run it: its exit code, stdout and stderr."""
    import subprocess

    from .clirun import child_env

    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=child_env())


def test_a_writer_left_open_is_drained_at_exit_and_says_so_under_dev_mode(tmp_path):
    plain = python_child("-c", WRITER_LEFT_OPEN)
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, "hello, world\n", "")
    dev = python_child("-X", "dev", "-c", WRITER_LEFT_OPEN)
    assert (dev.returncode, dev.stdout) == (0, "hello, world\n")
    assert "ResourceWarning: an outstream.Writer was never closed" in dev.stderr
    lost = python_child("-c", WRITER_OUTPUT_CLOSED, str(tmp_path / "out.txt"))
    assert lost.returncode == 0
    assert (
        "RuntimeWarning: an outstream.Writer was never closed, and at exit what it was given"
        in lost.stderr
    )
    assert "is closed" in lost.stderr


WRITER_LEFT_BY_AN_EXCEPTION = """
import sys, outstream
try:
    with outstream.Writer(sys.stdout) as w:
        w.write("partial")
        w.print("a note", flush=True)
        raise ValueError("handled")
except ValueError:
    pass
"""


def test_a_writer_ended_by_an_exception_it_let_through_gives_no_warning_at_exit():
    ran = python_child("-X", "dev", "-c", WRITER_LEFT_BY_AN_EXCEPTION)
    assert (ran.returncode, ran.stderr) == (0, "")
    assert ran.stdout == "partial\na note\n"


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_failure_carries_what_was_shown_before_it(asynchronous: bool) -> None:
    chunks = [b"shown ", b"too ", b"\xff never"]
    out = io.StringIO()
    with pytest.raises(outstream.DecodeError) as info:
        if asynchronous:
            asyncio.run(outstream.astream(chunks, out, errors="strict"))
        else:
            outstream.stream(chunks, out, errors="strict")
    result = info.value.result
    assert isinstance(result, outstream.Result)
    assert result.text == out.getvalue() == "shown too "
    assert result.stats.n_chars == len("shown too ")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: outstream.Typewriter(cps=1e20), ["cps", "Instant()"]),
        (lambda: outstream.Typewriter(delay=1e-20), ["delay", "Instant()"]),
        (lambda: outstream.Smooth(lag=1e12), ["lag", "3600"]),
    ],
)
def test_a_pacer_beyond_what_a_clock_can_tell_apart_says_so(make, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError) as info:
        make()
    for word in words:
        assert word in str(info.value)


COPY_ANSWER = (
    "Run this:\n\n```bash\nmake all\n```\n\nThen this:\n\n"
    "```python\nprint('\x1b]52;c;cHduZWQ=\x07done')\n```\n\nBye.\n"
)


def test_copy_code_puts_the_last_code_block_on_a_terminal_s_clipboard_after_the_answer(
    tmp_path,
) -> None:
    import base64

    sink = io.StringIO()
    cast = tmp_path / "answer.cast"
    result = outstream.stream(
        COPY_ANSWER, sink, terminal=True, render="markdown", copy_code=True, pace="instant",
        record=cast,
    )  # fmt: skip
    out = sink.getvalue()
    # The model's own OSC 52 is stripped (by default, escapes="strip") and never copied.
    assert result.code_blocks == ("make all\n", "print('done')\n")
    assert result.code_copied
    payload = base64.b64encode(b"print('done')\n").decode()
    assert out.count("\x1b]52;") == 1 and f"\x1b]52;c;{payload}\x07" in out
    assert out.index("\x1b]52;") > out.index("Bye.")
    assert "\x1b]52" not in result.text and "\x1b]52" not in cast.read_text()  # nor replayed


@pytest.mark.parametrize(
    ("source", "options"),
    [
        (COPY_ANSWER, {"terminal": False, "color": "always"}),  # not a terminal
        ("No code.\n", {"terminal": True}),
        ("```\n" + "x" * 80_000 + "\n```\n", {"terminal": True}),  # past what terminals take
    ],
    ids=["pipe", "no-code", "too-long"],
)
def test_copy_code_copies_nothing_where_it_cannot(source, options) -> None:
    sink = io.StringIO()
    result = outstream.stream(
        source, sink, render="markdown", copy_code=True, pace="instant", **options
    )
    assert not result.code_copied and "\x1b]52" not in sink.getvalue()


def test_copy_code_is_for_rendered_markdown_and_code_theme_a_pygments_style() -> None:
    with pytest.raises(outstream.UsageError, match="render='markdown'"):
        outstream.stream("x", io.StringIO(), copy_code=True)
    with pytest.raises(outstream.UsageError, match="no Pygments style 'nope': try monokai"):
        outstream.stream("x", io.StringIO(), render="markdown", code_theme="nope")
    with pytest.raises(outstream.UsageError, match="theme must be 'auto', 'dark' or 'light'"):
        outstream.stream("x", io.StringIO(), theme="solarized")  # type: ignore[arg-type]
