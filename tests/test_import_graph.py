"""The package's layers hold: ``scripts/import_graph.py`` finds no import up and no circle."""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).parents[1] / "scripts" / "import_graph.py"


def load():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_module_imports_a_higher_layer_or_itself_again() -> None:
    ran = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.splitlines()[-1].endswith("the layers hold")


def test_lazy_imports_count_and_every_module_is_in_a_layer() -> None:
    graph = load().graph()
    # A lazy import is a dependency: the CLI imports the api inside a function.
    assert "outstream.api" in graph["outstream.cli.stream"]
    assert "outstream.core.counts" in graph["outstream.core.graphemes"]
    for name in graph:
        load().layer(name)  # raises SystemExit for a module in no layer


def test_an_import_up_and_a_circle_are_reported() -> None:
    script = load()
    edges = {
        "outstream.core.wrap": {"outstream.api"},  # core reaching up to the api
        "outstream.api": {"outstream.drive.loops"},
        "outstream.drive.loops": {"outstream.drive.inbox"},
        "outstream.drive.inbox": {"outstream.drive.loops"},  # a circle in one layer
        "outstream.cli.stream": {"outstream.drive"},  # past the api
    }
    assert script.problems(edges) == [
        "up: outstream.core.wrap (core: pure stages) imports outstream.api "
        "(api: stream, astream, Writer, iter_text)",
        "apart: outstream.cli.stream imports outstream.drive: "
        "the command line runs streams through the api (api.Run)",
        "circle: outstream.drive.inbox <-> outstream.drive.loops",
    ]


def test_a_long_module_says_why_at_its_top() -> None:
    script = load()
    assert script.too_long() == []
    # What it looks for: a reason in the module's docstring.
    assert "for a reason" in (script.ast.get_docstring(script.ast.parse(
        (script.SRC / "outstream" / "api.py").read_text()
    )) or "")  # fmt: skip
