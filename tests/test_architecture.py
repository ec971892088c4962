"""The package's layout, held to its own rules (read with `ast`, nothing imported):

- imports run down the layers only, and no two modules import each other in a circle;
- no module uses another's private names (`_name`);
- no function is over 60 lines, no module over 500.

A layer may import any layer below it and, without a cycle, its own. The top layer is the CLI and
the server, which only wire the API; under them, the presentations (audit, viz, named queries)
and the build; then the stores; then the mapping to RDF; then the extraction steps; at the
bottom, reading files and the vocabulary everything shares.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kg"

LAYERS = [
    # 0: shared vocabulary and helpers that import nothing of the project's
    ("kg", "kg.errors", "kg.namespaces", "kg.offsets", "kg.sparqltext", "kg.resources", "kg.collector",
     "kg.machine"),
    # 1: files → text, and the ontology as data (statuses' words, marks and colours too)
    ("kg.read", "kg.document", "kg.ontology", "kg.statuses"),
    # 2: extraction steps
    ("kg.normalize", "kg.places", "kg.lexicon", "kg.structure", "kg.extract", "kg.pipeline"),
    # 3: facts → RDF
    ("kg.rdf",),
    # 4: stores and the catalog of built documents: the interface, its two implementations, what
    # they share (catalog layout, parameter binding, the result type), the embedded one's files
    # and bulk loader
    ("kg.store", "kg.remote", "kg.catalog", "kg.graphstore", "kg.binding", "kg.results",
     "kg.storefiles", "kg.bulkload"),
    # 5: what reads and writes the store: named queries, audit, graph view, build, the matrix
    # summary and the graph view's groups kept at build time, output formats, SHACL validation
    ("kg.query", "kg.audit", "kg.viz", "kg.build", "kg.formats", "kg.validate", "kg.summary",
     "kg.viewgroups"),
    # 6: the Python API
    ("kg.api",),
    # 7: the shells
    ("kg.cli", "kg.server", "kg.__main__"),
]
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(name: str) -> int:
    best, level = "", None
    for i, members in enumerate(LAYERS):
        for m in members:
            if (name == m or name.startswith(m + ".")) and len(m) > len(best):
                best, level = m, i
    if level is None:
        raise AssertionError(f"{name} is in no layer of tests/test_architecture.py: put it in one")
    return level


def imports(name: str) -> set[str]:
    """The project modules `name` imports (at the top or inside functions)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            elif node.module and (node.module == "kg" or node.module.startswith("kg.")):
                module = node.module
            else:
                continue
            targets = [module] + [f"{module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        out |= {t for t in targets if t in MODULES and t != name}
    return out


GRAPH = {name: imports(name) for name in MODULES}


def test_every_module_has_a_layer():
    for name in MODULES:
        layer_of(name)


def test_imports_run_down_the_layers():
    upward = [f"{a} (layer {layer_of(a)}) imports {b} (layer {layer_of(b)})"
              for a, targets in GRAPH.items() for b in targets
              if layer_of(b) > layer_of(a) and not b.startswith(a + ".") and a != "kg"]
    assert not upward, "\n".join(sorted(upward))


def test_no_import_cycles():
    # a package's __init__ re-exporting its submodules is not a cycle of the layout
    graph = {a: {b for b in bs if not (a.startswith(b + ".") or b.startswith(a + "."))}
             for a, bs in GRAPH.items()}
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(" → ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"
    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)


def private_uses(name: str) -> list[str]:
    """`from kg.x import _y` and `x._y` where x is a project module imported by name."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    aliases, out = {}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module
            for a in node.names:
                full = f"{module}.{a.name}"
                if full in MODULES:
                    aliases[a.asname or a.name] = full
                elif module in MODULES and a.name.startswith("_") and not a.name.startswith("__"):
                    out.append(f"{name} imports {module}.{a.name}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name in MODULES and a.asname:
                    aliases[a.asname] = a.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr.startswith("_") and not node.attr.startswith("__")
                and aliases[node.value.id] != name):
            out.append(f"{name} uses {aliases[node.value.id]}.{node.attr}")
    return out


def test_no_private_name_is_used_outside_its_module():
    found = [u for name in MODULES for u in private_uses(name)]
    assert not found, "\n".join(sorted(set(found)))


def long_functions(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            if n > MAX_FUNCTION_LINES:
                out.append(f"{module_name(path)}.{node.name}: {n} lines")
    return out


def test_no_function_over_60_lines():
    found = [f for p in MODULES.values() for f in long_functions(p)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_500_lines(name):
    n = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert n <= MAX_MODULE_LINES, f"{name}: {n} lines"
