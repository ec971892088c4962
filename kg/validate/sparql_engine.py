"""SHACL validation inside the store: the shapes compiled into SPARQL (kg.validate.shacl), run
by Oxigraph over the union of the store's graphs, each violation told with the graph its focus
node is a target in.

pySHACL reads every triple into Python objects (~35-50 ms a document graph: 463 s for 10,000
documents); these queries scan each constrained predicate's triples in the store, 68 checks
(92 constraints) for the project's shapes: 25 s and 0.5 GB for 10,000 documents
(bench/validate.py), most of it Oxigraph's per-row cost on the largest predicates (kg:evidence,
kg:inDocument, kg:text). From a few graphs' focus nodes (a changed document) it costs well under
a second a graph.

Oxigraph lets go of the GIL while it evaluates a query: `workers` threads run the checks over
the one handle on the store (10,000 documents: 38 s and 475 MB in one thread, 23 s and 700 MB in
two, on one hour; two forked processes, each with its own handle, took 24-34 s and 1.06 GB).
"""
from __future__ import annotations

import ctypes
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import rdflib

from kg import ontology
from kg.namespaces import CATALOG_GRAPH
from kg.validate import shacl

SHAPES_FILE = "shapes.ttl"
RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
VIOLATION = str(shacl.SH.Violation)
# Checking from the focus nodes of some graphs costs some 20 times a graph's share of a pass
# over the whole store (10,000 documents: 100 graphs 4.7 s of CPU, all 25 s): past one graph in
# FOCUSED_SHARE, the whole store is checked and the results of the others are set aside.
FOCUSED_SHARE = 20
# graphs, and focus nodes, in one query's VALUES
BATCH_GRAPHS = 100
BATCH_NODES = 2000


@dataclass(frozen=True)
class Violation:
    """One validation result (SHACL §3.6): where it was found and what it breaks."""
    graph: str          # the named graph in which the focus node is a target
    focus: object       # pyoxigraph term
    value: object       # pyoxigraph term, or None (count and hasValue constraints)
    constraint: shacl.Constraint

    @property
    def conforming(self) -> bool:
        """Warnings and infos do not make a graph fail (pySHACL's allow_warnings)."""
        return self.constraint.severity != VIOLATION


def shapes_path() -> Path:
    return ontology.ontology_dir() / SHAPES_FILE


def fingerprint() -> str:
    """What the remembered results depend on besides the data: the shapes, the ontology files
    and this engine's code."""
    digest = hashlib.sha256(b"sparql")
    for path in [ontology.ontology_dir() / n for n in ontology.ONTOLOGY_FILES + (SHAPES_FILE,)]:
        if path.exists():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for module in (shacl.__file__, __file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()


class Validator:
    """The compiled shapes for one store (subclass closures are read from its data)."""

    def __init__(self, store):
        self.store = store
        self.shapes = rdflib.Graph().parse(shapes_path(), format="turtle")
        self._subclasses: dict[str, list[str]] = {}
        self._foci: dict[tuple, list[tuple]] = {}
        try:
            self.checks = shacl.compile_shapes(self.shapes, self.subclasses)
        except shacl.UnsupportedShape as e:
            raise shacl.UnsupportedShape(f"{shapes_path().name}: {e}") from None
        self._refuse_catalog_overlap()

    def subclasses(self, cls: str) -> list[str]:
        """`cls` and every class under it by rdfs:subClassOf* in the data graph."""
        if cls not in self._subclasses:
            rows = self.store.query(f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS_SUBCLASS}>* <{cls}> }}",
                                    union_default_graph=True).rows
            self._subclasses[cls] = sorted({cls} | {r[0] for r in rows})
        return self._subclasses[cls]

    def _refuse_catalog_overlap(self) -> None:
        """The queries read the union default graph, which holds the catalog too: make sure no
        constrained predicate occurs there (the catalog's are its own), so it changes nothing."""
        rows = self.store.query(f"SELECT DISTINCT ?p WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?s ?p ?o }} }}")
        used = "".join(c.whole for c in self.checks)
        shared = sorted(p for (p,) in rows.rows if f"<{p}>" in used or p.endswith("#type"))
        if shared:
            raise shacl.UnsupportedShape(f"the shapes constrain {shared[0]}, which the store's "
                                         f"catalog graph uses: validate with --engine pyshacl")

    def violations(self, graphs: list[str] | None = None, workers: int = 1) -> list[Violation]:
        """Every violation in the store, or those of focus nodes targeted in `graphs`, in the
        order of the checks; the checks run by `workers` threads at a time."""
        if graphs is not None and len(graphs) * FOCUSED_SHARE > len(self.store.graphs()):
            wanted = set(graphs)
            return [v for v in self.violations(None, workers) if v.graph in wanted]
        if workers <= 1:
            return [v for check in self.checks for v in self.run_released(check, graphs)]
        with ThreadPoolExecutor(workers) as pool:
            found = pool.map(lambda check: self.run_released(check, graphs), self.checks)
            return [v for violations in found for v in violations]

    def run(self, check: shacl.Check, graphs: list[str] | None = None) -> list[Violation]:
        """The violations one check finds (in `graphs`, or in the whole store)."""
        if graphs is not None:
            return self.at(check, self.focus_nodes(check, graphs))
        if check.prefilter is None:
            return _rows(check, self.query(check.sparql()))
        found = self.query(check.first()).terms
        if not found:
            return []
        if check.prefilter_nodes:
            return self.at(check, [(str(g), str(f)) for g, f in found])
        return _rows(check, self.query(check.sparql([str(row[0]) for row in found])))

    def run_released(self, check: shacl.Check, graphs: list[str] | None = None) -> list[Violation]:
        """`run`, then the memory its query freed handed back to the system."""
        try:
            return self.run(check, graphs)
        finally:
            _return_freed_memory()

    def focus_nodes(self, check: shacl.Check, graphs: list[str]) -> list[tuple]:
        """The focus nodes of `check` in `graphs`, as (graph, node) in SPARQL syntax (asked
        once for the checks that share a focus pattern)."""
        key = (check.focus, tuple(graphs))
        found = self._foci.get(key)
        if found is None:
            found = [(str(g), str(f)) for some in _batches(graphs, BATCH_GRAPHS)
                     for g, f in self.query(check.focus_nodes(some)).terms]
            self._foci = {key: found}       # one kept, replaced whole: threads share it
        return found

    def at(self, check: shacl.Check, nodes: list[tuple]) -> list[Violation]:
        """The violations `check` finds from the focus nodes `nodes`."""
        return [v for some in _batches(nodes, BATCH_NODES)
                for v in _rows(check, self.query(check.at(some)))]

    def query(self, sparql: str):
        return self.store.query(sparql, union_default_graph=True)

    def report(self, violations: list[Violation]) -> str:
        """pySHACL's report layout, sorted, for the violations of one unit."""
        lines = ["Validation Report", f"Conforms: {all(v.conforming for v in violations)}",
                 f"Results ({len(violations)}):"]
        for v in sorted(violations, key=_order):
            c = v.constraint
            lines.append(f"Constraint Violation in {c.component} "
                         f"(http://www.w3.org/ns/shacl#{c.component}):")
            lines.append(f"\tSeverity: {self._short(c.severity)}")
            lines.append(f"\tSource Shape: {self._shape_name(c.shape)}")
            lines.append(f"\tFocus Node: {self._short(v.focus)}")
            if v.value is not None:
                lines.append(f"\tValue Node: {self._short(v.value)}")
            if c.path is not None:
                lines.append(f"\tResult Path: {self._short_path(c.path)}")
            if c.message:
                lines.append(f"\tMessage: {c.message}")
        return "\n".join(lines) + "\n"

    def _short(self, term) -> str:
        text = term if isinstance(term, str) else str(term)
        if text.startswith("<") and text.endswith(">"):
            text = text[1:-1]
        elif not isinstance(term, str) and not hasattr(term, "language"):
            return text
        if hasattr(term, "language"):
            return text
        try:
            return self.shapes.namespace_manager.normalizeUri(rdflib.URIRef(text))
        except ValueError:
            return f"<{text}>"

    def _short_path(self, path: str) -> str:
        import re
        return re.sub(r"<([^>]*)>", lambda m: self._short(m.group(1)), path)

    def _shape_name(self, shape) -> str:
        if isinstance(shape, rdflib.BNode):
            path = self.shapes.value(shape, shacl.SH.path)
            return f"[ sh:path {self._short_path(shacl.sparql_path(self.shapes, shape))} ]" \
                if path is not None else "[ ]"
        return self._short(str(shape))


def _return_freed_memory() -> None:
    """glibc keeps the heap a query freed (its hash tables of some 10^5 terms) for reuse; after
    the largest checks a process held ~470 MB at 10,000 documents, ~310 MB with it handed back.
    Elsewhere (no malloc_trim) nothing is done."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return
    trim(0)


def _batches(items: list, size: int):
    """`items`, `size` at a time (what one query's VALUES holds)."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _rows(check: shacl.Check, result) -> list[Violation]:
    out = []
    for row in result.terms:
        graph, focus = row[0].value, row[1]
        value = row[2] if check.has_value else None
        if check.flags:
            first = 3 if check.has_value else 2
            out += [Violation(graph, focus, value, c) for i, c in enumerate(check.constraints)
                    if _true(row[first + i])]
        else:
            out.append(Violation(graph, focus, value, check.constraints[0]))
    return out


def _true(term) -> bool:
    return term is not None and term.value == "true"


def _order(v: Violation):
    return (str(v.focus), v.constraint.component, v.constraint.path or "", str(v.value))
