"""SHACL validation of a store (ontology/shapes.ttl), only what changed since the last one.

Two engines give the same results (tests/test_validate_parity.py):

  - "sparql" (the default, kg.validate.sparql_engine): the shapes compiled into SPARQL queries
    (kg.validate.shacl) that Oxigraph runs over the union of the store's graphs, each scanning a
    constrained predicate's triples once: a whole 10,000-document store in seconds, not minutes;
  - "pyshacl" (the reference, kg.validate.pyshacl_engine): pySHACL on one graph at a time with
    the ontology and what other graphs say of the IRIs it refers to (~35-50 ms a document).

What is validated is told in units, each with a fingerprint:

  - each document graph, known by its content hash in the catalog;
  - the places graph, the ontology, and every other graph (audit records), known by a digest
    of what they hold — but the matrix summary (kg.summary), derived from the documents.

A violation belongs to the unit of the graph its focus node is a target in (its rdf:type
triple). The result of each unit is remembered with its fingerprint in a side file in the
store's directory (`RESULTS_FILE`), with a fingerprint of the shapes, the ontology and the
engine: the next validation checks again only the units whose fingerprint changed
(`revalidate=True`: all). The SPARQL engine checks a few changed graphs from their focus nodes,
many (or all) with its queries over the whole store. A change in one graph that breaks a node
of another (a locality removed from the places graph that documents name) is seen by `--all`.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from kg.catalog import graph_of_document
from kg.namespaces import CATALOG_GRAPH
from kg.rdf import ONTOLOGY_GRAPH, PLACES_GRAPH
from kg.summary import SUMMARY_GRAPH
from kg.validate.pyshacl_engine import ONTOLOGY_UNIT, graph_triples

RESULTS_FILE = "kg-validation.json"
ENGINES = ("sparql", "pyshacl")


@dataclass
class Validation:
    """What `validate` found. Unpacks as (conforms, report text), as `kg.api.validate` returned."""
    conforms: bool = True
    text: str = ""
    checked: int = 0            # units validated this time
    reused: int = 0             # units whose remembered result still held
    failed: list = field(default_factory=list)   # names of the units that do not conform

    def __iter__(self):
        return iter((self.conforms, self.text))


@dataclass(frozen=True)
class Unit:
    key: str            # graph IRI, or ONTOLOGY_UNIT
    name: str           # what the report calls it: source file(s), or the graph
    fingerprint: str


def validate(store, document: str | None = None, *, revalidate: bool = False,
             workers: int = 1, engine: str = "sparql") -> Validation:
    """Validate the store's graphs (or one document's) that changed since the last validation
    (every one with `revalidate`), reusing the remembered results of the others. `workers`:
    threads running the queries (sparql) or processes running pySHACL."""
    if engine not in ENGINES:
        raise ValueError(f"unknown validation engine {engine!r}: one of {', '.join(ENGINES)}")
    if engine == "sparql":
        from kg.validate import sparql_engine
        fingerprint = sparql_engine.fingerprint()
    else:
        from kg.validate import pyshacl_engine
        schema = pyshacl_engine.Schema()
        fingerprint = schema.fingerprint
    units = _document_units(store, document) if document else _units(store, fingerprint)
    results_path = _results_path(store)
    remembered = _read_results(results_path, fingerprint)
    todo = [u for u in units if revalidate or remembered.get(u.key, {}).get("fingerprint")
            != u.fingerprint]
    if not todo:
        fresh = {}
    elif engine == "sparql":
        fresh = _sparql_results(sparql_engine.Validator(store), todo, workers)
    else:
        fresh = dict(pyshacl_engine.checked(store, todo, schema, workers))
    out = Validation(checked=len(todo), reused=len(units) - len(todo))
    results = dict(remembered) if document else {}
    for unit in units:
        result = results[unit.key] = fresh.get(unit.key) or remembered[unit.key]
        if not result["conforms"]:
            out.conforms = False
            out.failed.append(unit.name)
            out.text += f"── {unit.name}\n{result['text'].rstrip()}\n"
    if todo or len(results) != len(remembered):
        _write_results(results_path, fingerprint, results)
    return out


def _sparql_results(validator, units: list[Unit], workers: int) -> dict[str, dict]:
    """The result of each unit, from the violations the SPARQL engine finds in their graphs."""
    store = validator.store
    ontology_graphs = [g for g in store.graphs() if g.startswith(ONTOLOGY_GRAPH)]
    unit_of = {g: u for u in units
               for g in (ontology_graphs if u.key == ONTOLOGY_UNIT else [u.key])}
    found: dict[str, list] = {u.key: [] for u in units}
    for v in validator.violations(sorted(unit_of), workers=workers):
        found[unit_of[v.graph].key].append(v)
    return {u.key: {"fingerprint": u.fingerprint,
                    "conforms": all(v.conforming for v in found[u.key]),
                    "text": validator.report(found[u.key]) if found[u.key] else ""}
            for u in units}


# ---------------------------------------------------------------------- the units

def _document_units(store, document: str) -> list[Unit]:
    graph = graph_of_document(store, document)
    mine = {s: h for s, (g, h) in store.document_hashes().items() if g == graph}
    digest = next(iter(mine.values()), None)
    return [Unit(graph, ", ".join(sorted(mine)) or graph, digest or _digest(store, graph))]


def _units(store, fingerprint: str) -> list[Unit]:
    """The ontology, every document graph and every other graph but the catalog."""
    by_graph: dict[str, list[str]] = {}
    hashes: dict[str, str] = {}
    for source, (graph, digest) in store.document_hashes().items():
        by_graph.setdefault(graph, []).append(source)
        hashes[graph] = digest
    units = [Unit(ONTOLOGY_UNIT, "the ontology files", fingerprint)]
    units += [Unit(g, ", ".join(sorted(s)), hashes[g] or _digest(store, g))
              for g, s in sorted(by_graph.items())]
    for g in store.graphs():
        if g in by_graph or g == CATALOG_GRAPH or g.startswith(ONTOLOGY_GRAPH):
            continue    # the ontology graphs are copies of the files: one unit
        if g == SUMMARY_GRAPH:
            # derived from the documents (kg.summary), typing no node of its own, so no
            # violation can belong to it; digesting its cells cost 0.6 s a validation at
            # 10,000 documents
            continue
        own = store.graph_hash(g) if g == PLACES_GRAPH else None
        units.append(Unit(g, g, own or _digest(store, g)))
    return units


def _digest(store, graph: str) -> str:
    """A fingerprint of what a graph holds (sorted, so independent of the order read)."""
    lines = sorted(str(t) for t in graph_triples(store, graph))
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------- remembered results

def _results_path(store) -> Path | None:
    """The side file in an on-disk embedded store's directory (None: nowhere to keep it)."""
    path = getattr(store, "path", None)
    return Path(path) / RESULTS_FILE if path is not None else None


def _read_results(path: Path | None, schema_fingerprint: str) -> dict[str, dict]:
    """The remembered results, if made with the same shapes, ontology and engine."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("schema") != schema_fingerprint:
        return {}
    units = data.get("units")
    return units if isinstance(units, dict) else {}


def _write_results(path: Path | None, schema_fingerprint: str, results: dict) -> None:
    """Replace the side file whole (a reader sees the old one or the new one); a store on a
    read-only medium just keeps none."""
    if path is None:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"schema": schema_fingerprint, "units": results},
                                  ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
