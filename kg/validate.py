"""SHACL validation of a store (ontology/shapes.ttl), one graph at a time and only what changed.

Validating the whole store in one pySHACL call read every quad into one rdflib graph: 193 s and
1.9 GB at 1,000 documents, all of it again after any change. Here each unit is validated on its
own, with the ontology (loaded once; sh:class checks look up rdf:type and rdfs:subClassOf in the
data graph) and what the other graphs state about the IRIs it refers to, followed on (a
document's locality and its parents in the places graph; the sentences an audit record cites):

  - each document graph, known by its content hash in the catalog;
  - the places graph, the ontology files, and every other graph (audit records), known by a
    digest of what they hold.

The result of each unit is remembered with that fingerprint in a side file in the store's
directory (`RESULTS_FILE`), with a fingerprint of the shapes, ontology and pySHACL version: the
next validation checks again only the units whose fingerprint changed (`revalidate=True`: all).
pySHACL's cost follows the triples it is given (~0.07 ms a triple, ~35-50 ms a document), so a
full validation still costs that per document (bench/validate.py); an unchanged store costs the
reading of the catalog. A node described in two graphs is checked in each with what that one
says (a maxCount over both together would not be seen); the project's graphs describe each node
in one.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg import ontology
from kg.catalog import graph_of_document
from kg.namespaces import CATALOG_GRAPH
from kg.rdf import ONTOLOGY_GRAPH, PLACES_GRAPH

RESULTS_FILE = "kg-validation.json"
SHAPES_FILE = "shapes.ttl"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
ONTOLOGY_UNIT = "ontology"
# IRIs looked up in one query
LOOKUP_BATCH = 500


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


class Schema:
    """The shapes and the ontology as rdflib graphs, read once per validation."""

    def __init__(self):
        import rdflib
        import pyshacl
        self.ontology = rdflib.Graph()
        digest = hashlib.sha256(pyshacl.__version__.encode())
        for name in ontology.ONTOLOGY_FILES + (SHAPES_FILE,):
            path = ontology.ontology_dir() / name
            if path.exists():
                data = path.read_bytes()
                digest.update(name.encode() + b"\0" + data)
                if name != SHAPES_FILE:
                    self.ontology.parse(data=data, format="turtle")
        self.shapes = rdflib.Graph().parse(ontology.ontology_dir() / SHAPES_FILE, format="turtle")
        self.fingerprint = digest.hexdigest()


def validate(store, document: str | None = None, *, revalidate: bool = False) -> Validation:
    """Validate the store's graphs (or one document's) that changed since the last validation
    (every one with `revalidate`), reusing the remembered results of the others."""
    schema = Schema()
    units = _document_units(store, document) if document else _units(store, schema)
    results_path = _results_path(store)
    remembered = _read_results(results_path, schema.fingerprint)
    out = Validation()
    results = dict(remembered) if document else {}
    for unit in units:
        known = remembered.get(unit.key)
        if not revalidate and known and known.get("fingerprint") == unit.fingerprint:
            out.reused += 1
            result = known
        else:
            out.checked += 1
            conforms, text = _validate_unit(store, unit, schema)
            result = {"fingerprint": unit.fingerprint, "conforms": conforms, "text": text}
        results[unit.key] = result
        if not result["conforms"]:
            out.conforms = False
            out.failed.append(unit.name)
            out.text += f"── {unit.name}\n{result['text'].rstrip()}\n"
    if out.checked or len(results) != len(remembered):
        _write_results(results_path, schema.fingerprint, results)
    return out


# ---------------------------------------------------------------------- the units

def _document_units(store, document: str) -> list[Unit]:
    graph = graph_of_document(store, document)
    mine = {s: h for s, (g, h) in store.document_hashes().items() if g == graph}
    digest = next(iter(mine.values()), None)
    return [Unit(graph, ", ".join(sorted(mine)) or graph, digest or _digest(store, graph))]


def _units(store, schema: Schema) -> list[Unit]:
    """The ontology, every document graph and every other graph but the catalog."""
    by_graph: dict[str, list[str]] = {}
    hashes: dict[str, str] = {}
    for source, (graph, digest) in store.document_hashes().items():
        by_graph.setdefault(graph, []).append(source)
        hashes[graph] = digest
    units = [Unit(ONTOLOGY_UNIT, "the ontology files", schema.fingerprint)]
    units += [Unit(g, ", ".join(sorted(s)), hashes[g] or _digest(store, g))
              for g, s in sorted(by_graph.items())]
    for g in store.graphs():
        if g in by_graph or g == CATALOG_GRAPH or g.startswith(ONTOLOGY_GRAPH):
            continue    # the ontology graphs are copies of the files, validated as such
        own = store.graph_hash(g) if g == PLACES_GRAPH else None
        units.append(Unit(g, g, own or _digest(store, g)))
    return units


def _digest(store, graph: str) -> str:
    """A fingerprint of what a graph holds (sorted, so independent of the order read)."""
    lines = sorted(str(t) for t in _graph_triples(store, graph))
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _graph_triples(store, graph: str) -> list:
    """pyoxigraph triples (or quads) of one graph, from an embedded or a remote store."""
    if hasattr(store, "quads"):
        return store.read(lambda o: list(o.quads_for_pattern(None, None, None, ox.NamedNode(graph))))
    return store.graph_triples(graph)


# ---------------------------------------------------------------------- validating one unit

def _validate_unit(store, unit: Unit, schema: Schema) -> tuple[bool, str]:
    import rdflib
    from pyshacl import validate as shacl
    own = rdflib.Graph()
    if unit.key != ONTOLOGY_UNIT:
        for t in _graph_triples(store, unit.key):
            own.add((_rdflib(t.subject), _rdflib(t.predicate), _rdflib(t.object)))
    context = rdflib.Graph()
    for t in _described_elsewhere(store, own if unit.key != ONTOLOGY_UNIT else schema.ontology):
        context.add(t)
    data = rdflib.graph.ReadOnlyGraphAggregate([own, schema.ontology, context])
    conforms, _, text = shacl(data, shacl_graph=schema.shapes, inference="none",
                              allow_warnings=True)
    return bool(conforms), str(text)


def _described_elsewhere(store, graph) -> list[tuple]:
    """What the store's other graphs (the ontology's copies and the catalog aside) state about
    the IRIs `graph` refers to but does not describe, and so on from those: a document's
    locality and its parents, which sh:class kg:Locality needs to know; the evidence sentences
    and documents an audit record cites. As rdflib triples."""
    import rdflib
    described = set(graph.subjects())
    todo = {o for o in graph.objects() if isinstance(o, rdflib.URIRef) and o not in described}
    out: list[tuple] = []
    while todo:
        described |= todo
        found: list[tuple] = []
        todo_list = sorted(todo)
        for i in range(0, len(todo_list), LOOKUP_BATCH):
            values = " ".join(str(ox.NamedNode(str(iri))) for iri in todo_list[i:i + LOOKUP_BATCH])
            found += [(_rdflib(s), _rdflib(p), _rdflib(o)) for s, p, o in store.query(
                f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} "
                f"FILTER(?g != <{CATALOG_GRAPH}> && !STRSTARTS(STR(?g), \"{ONTOLOGY_GRAPH}\")) }}"
            ).terms]
        out += found
        todo = {o for _, _, o in found if isinstance(o, rdflib.URIRef) and o not in described}
    return out


def _rdflib(term):
    """The rdflib term of a pyoxigraph term (a plain or xsd:string literal stays plain, as
    N-Triples parsing gave it)."""
    import rdflib
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == XSD_STRING:
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


# ---------------------------------------------------------------------- remembered results

def _results_path(store) -> Path | None:
    """The side file in an on-disk embedded store's directory (None: nowhere to keep it)."""
    path = getattr(store, "path", None)
    return Path(path) / RESULTS_FILE if path is not None else None


def _read_results(path: Path | None, schema_fingerprint: str) -> dict[str, dict]:
    """The remembered results, if made with the same shapes, ontology and pySHACL."""
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
