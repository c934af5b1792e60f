from __future__ import annotations

import asyncio
import inspect
import io
import subprocess
import sys

import pytest

import outstream
import outstream.testing


def test_all_is_sorted_and_complete() -> None:
    assert outstream.__all__ == sorted(outstream.__all__)
    public = {name for name in dir(outstream) if not name.startswith("_")}
    submodules = {
        "api",
        "cli",
        "clock",
        "core",
        "drive",
        "errors",
        "events",
        "inspection",
        "integrations",  # imported by llm, whose plugin it holds (any test importing llm)
        "iterate",
        "options",
        "plan",
        "recordings",
        "relay",
        "sinks",
        "sources",
        "testing",
        "web",
    }
    assert public - submodules == set(outstream.__all__) - {"__version__"}


def test_public_names_show_the_public_module() -> None:
    assert repr(outstream.Typewriter(cps=40)) == "Typewriter(cps=40)"
    assert outstream.Typewriter.__module__ == "outstream"
    assert outstream.stream.__module__ == "outstream"


def test_testing_kit_all_is_sorted() -> None:
    assert outstream.testing.__all__ == sorted(outstream.testing.__all__)
    for name in outstream.testing.__all__:
        assert hasattr(outstream.testing, name)


def test_importing_the_cli_does_not_import_heavy_modules() -> None:
    # `outstream --version` and `--help` start light: the package's names are
    # imported on first use, and the pipeline only when something streams.
    heavy = ("asyncio", "regex", "outstream.api", "outstream.core.pipeline", "outstream.drive")
    code = f"import sys, outstream.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_importing_the_testing_kit_does_not_import_the_llm_server() -> None:
    # A test that needs a clock or a sink does not start an HTTP server's
    # imports: the loopback LLM server's names are imported on first use.
    heavy = ("http.server", "socketserver", "outstream.testing.llm_server")
    code = (
        "import sys, outstream.testing as kit\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
        "from outstream.testing import LLMScript, LLMServer\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
        "from outstream.testing import llm_server\n"
        "print(LLMServer is llm_server.LLMServer, LLMScript is llm_server.Script)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[]", str(sorted(heavy)), "True True"]


def test_every_public_name_is_found_where_the_package_says() -> None:
    code = "import outstream; print(sorted(n for n in outstream.__all__ if getattr(outstream, n) is None))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert outstream.stream is outstream.api.stream


def test_the_entry_points_take_the_options_declared_once() -> None:
    from outstream.options import StreamOptions, option_names

    # One list of keywords for stream, astream and Writer, and it is Options'.
    assert set(StreamOptions.__annotations__) == option_names()
    # (3.13 takes a docstring's indentation away when it compiles it; cleandoc, as help() does.)
    documented = inspect.cleandoc(outstream.stream.__doc__ or "")
    for name in option_names() - {"count_text", "on_reasoning"}:  # (the CLI's and Writer's)
        assert f"\n    {name}: " in documented, name


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: outstream.stream("hi", io.StringIO(), pase="smooth"), ["stream()", "'pace'"]),
        (lambda: outstream.Writer(io.StringIO(), cps=40), ["Writer()", "'cps'"]),
        (lambda: asyncio.run(outstream.astream("hi", io.StringIO(), zzz=1)), ["astream()"]),
    ],
)
def test_a_keyword_no_entry_point_takes_names_the_entry_point(call, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError) as info:
        call()
    for word in words:
        assert word in str(info.value)
