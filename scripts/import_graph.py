"""The package's import graph, checked against its layers: no import up, no circle,
nothing kept apart (`APART`); and no module over `MAX_LINES` lines that does not
say why at its top.

Every ``import`` of an ``outstream`` module counts, at the top of a module
or inside a function (a lazy import is still a dependency). A module may
import from its own layer or the layers below it; within a layer, and
across layers, no module may reach itself again.

    python scripts/import_graph.py          the layers and what breaks them
    python scripts/import_graph.py --dot    the graph, for Graphviz

Exit status: 0 the graph keeps the layers, 1 it does not (each import that
goes up and each circle on a line of its own).
"""

from __future__ import annotations

import ast
import pathlib
import sys
from collections.abc import Iterator

SRC = pathlib.Path(__file__).resolve().parents[1] / "src"

# From the ground up. A module is in the first layer one of whose prefixes
# it starts with (a prefix ending in "." is a package's modules).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("ground", ("outstream._version", "outstream.errors", "outstream.events", "outstream.clock",
                "outstream._pipes")),
    ("core: pure stages", ("outstream.core",)),
    ("edges: sources, sinks, recordings", ("outstream.sources", "outstream.sinks",
                                           "outstream.recordings")),
    ("drive: the loops", ("outstream.drive",)),
    ("options and plans", ("outstream.options", "outstream.plan")),
    ("api: stream, astream, Writer, iter_text", ("outstream.api", "outstream.iterate")),
    ("relay: publish, follow", ("outstream.relay",)),
    ("web: the stream log over HTTP", ("outstream.web",)),
    ("inspection", ("outstream.inspection",)),
    ("cli", ("outstream.cli", "outstream.__main__")),
    ("integrations: plugins other tools load", ("outstream.integrations",)),
    ("the package and its testing kit", ("outstream", "outstream.testing")),
]  # fmt: skip


def modules() -> dict[str, pathlib.Path]:
    """Every module of the package, by dotted name."""
    found = {}
    for path in sorted((SRC / "outstream").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: pathlib.Path, known: dict[str, pathlib.Path]) -> Iterator[str]:
    """The package's modules that module `name` imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import mod` imports the module pkg.mod.
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]  # `import outstream.core.x.y` → the module
            if target.startswith("outstream") and target != name:
                yield target


def layer(name: str) -> int:
    best = -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if name == prefix or name.startswith(prefix + "."):
                best = i if best < 0 else best
    if best < 0:
        raise SystemExit(f"import_graph: {name} is in no layer: add it to LAYERS")
    return best


# Imports that the layers allow but the design does not: (from, to, why).
APART: list[tuple[str, str, str]] = [
    ("outstream.cli", "outstream.drive", "the command line runs streams through the api (api.Run)"),
]


def apart(name: str, target: str) -> str | None:
    """Why `name` may not import `target`, if it may not."""
    for prefix, other, why in APART:
        inside = name == prefix or name.startswith(prefix + ".")
        if inside and (target == other or target.startswith(other + ".")):
            return why
    return None


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imports(name, path, known)) for name, path in known.items()}


# A module longer than this says at its top why it is ("for a reason").
MAX_LINES = 600


def too_long() -> list[str]:
    """The modules over `MAX_LINES` lines whose docstring gives no reason."""
    found = []
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        n_lines = text.count("\n")
        if n_lines > MAX_LINES and "for a reason" not in (ast.get_docstring(ast.parse(text)) or ""):
            found.append(f"long: {name} has {n_lines} lines and says at its top no reason why")
    return found


def problems(edges: dict[str, set[str]]) -> list[str]:
    """What breaks the layers: each import that goes up, each circle."""
    found = [
        f"up: {name} ({LAYERS[layer(name)][0]}) imports {target} ({LAYERS[layer(target)][0]})"
        for name in sorted(edges)
        for target in sorted(edges[name])
        if layer(target) > layer(name)
    ]
    found += [
        f"apart: {name} imports {target}: {why}"
        for name in sorted(edges)
        for target in sorted(edges[name])
        if (why := apart(name, target)) is not None
    ]
    found += [f"circle: {' <-> '.join(component)}" for component in circles(edges)]
    return found


def main(argv: list[str]) -> int:
    edges = graph()
    if argv == ["--dot"]:
        print("digraph outstream {")
        for name in sorted(edges):
            for target in sorted(edges[name]):
                print(f'  "{name}" -> "{target}";')
        print("}")
        return 0
    for i, (title, _) in enumerate(LAYERS):
        members = sorted(name for name in edges if layer(name) == i)
        print(f"{i} {title}: {', '.join(m.removeprefix('outstream.') for m in members)}")
    found = problems(edges) + too_long()
    for line in found:
        print(line)
    print(f"{sum(map(len, edges.values()))} imports among {len(edges)} modules: "
          + ("the layers hold" if not found else f"{len(found)} problems"))  # fmt: skip
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
