"""The README's app examples are the files in examples/ that the other tests here run:
each Python block of its "In an app" section is a run of lines of the example it names."""

from __future__ import annotations

import pathlib
import re
import textwrap

from .conftest import EXAMPLES

README = pathlib.Path(__file__).parents[2] / "README.md"


def app_section() -> str:
    section = README.read_text(encoding="utf-8").split("## In an app: `iter_text`", 1)[1]
    return section.split("\n## ", 1)[0]


def test_each_python_block_is_a_piece_of_the_example_it_names() -> None:
    blocks = re.findall(r"`(examples/\w+\.py)`[^`]*?:\n\n```python\n(.*?)```", app_section(), re.S)
    assert {name for name, _ in blocks} == {
        f"examples/{path.name}" for path in EXAMPLES.glob("*_app.py")
    }
    for name, block in blocks:
        code = (EXAMPLES.parent / name).read_text(encoding="utf-8")
        assert any(textwrap.indent(block, " " * n) in code for n in (0, 4, 8)), name


def test_the_commands_name_every_example() -> None:
    commands = re.search(r"```sh\n(.*?)```", app_section(), re.S)
    assert commands is not None
    for path in EXAMPLES.glob("*_app.py"):
        assert path.stem in commands[1]
