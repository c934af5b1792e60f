"""core/ is pure: it takes `now` and returns values; it never touches the world."""

from __future__ import annotations

import ast
import pathlib

import pytest

import outstream.core

FORBIDDEN = {"os", "sys", "time", "threading", "asyncio", "io", "select", "socket", "subprocess"}
CORE = pathlib.Path(outstream.core.__file__).parent


@pytest.mark.parametrize("path", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_core_module_imports_nothing_that_does_io_or_reads_time(path: pathlib.Path) -> None:
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN
