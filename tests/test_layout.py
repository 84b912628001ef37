"""The package's layout holds: no import cycles, the pure code (ingest, llm, warehouse, pipeline, synth, the
catalogue and the settings) imports nothing from the Dagster layer or the CLI, and no module is too long."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "observatory_etl"
PURE = ("ingest", "llm", "warehouse", "pipeline", "synth", "lake", "tables", "config")
DAGSTER_LAYER = ("observatory_etl.defs", "observatory_etl.definitions", "observatory_etl.cli")
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
# Extension modules built from C sources (setup.py): imported like modules, but not Python to walk.
COMPILED = {module_name(path) for path in PACKAGE.rglob("*.c")}


def imports(name: str) -> set[str]:
    """The project modules ``name`` imports (anywhere in the file, lazily imported ones included)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from package import module` imports the module; `from module import name` the module itself
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES.keys() | COMPILED else base
                       for alias in node.names]
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != name)
    return found


GRAPH = {name: imports(name) for name in MODULES}


def test_the_walk_sees_the_package():
    assert {"observatory_etl.tables", "observatory_etl.ingest.decode", "observatory_etl.defs.assets"} <= set(MODULES)
    assert "observatory_etl.ingest.otlp_json._records" in COMPILED
    assert "observatory_etl.tables" in GRAPH["observatory_etl.ingest.frames"]
    assert "observatory_etl.pipeline.hour" in GRAPH["observatory_etl.defs.assets"]


def test_no_import_cycles():
    # Tarjan's strongly connected components: any component of more than one module is a cycle.
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in sorted(GRAPH):
        if name not in index:
            visit(name)
    assert cycles == []


def test_pure_code_does_not_import_the_dagster_layer_or_the_cli():
    pure = [name for name in MODULES if name.split(".")[1:2] and name.split(".")[1] in PURE]
    assert len(pure) > 20
    offending = {
        name: sorted(t for t in GRAPH[name] if t.startswith(DAGSTER_LAYER)) for name in pure
    }
    assert {name: found for name, found in offending.items() if found} == {}


def test_modules_are_short():
    lengths = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}
