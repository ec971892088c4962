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


def validate(store, document: str | None = None, *, revalidate: bool = False,
             workers: int = 1) -> Validation:
    """Validate the store's graphs (or one document's) that changed since the last validation
    (every one with `revalidate`), reusing the remembered results of the others. `workers`:
    processes running pySHACL (this one reads the store and hands them the graphs)."""
    schema = Schema()
    units = _document_units(store, document) if document else _units(store, schema)
    results_path = _results_path(store)
    remembered = _read_results(results_path, schema.fingerprint)
    todo = [u for u in units if revalidate or remembered.get(u.key, {}).get("fingerprint")
            != u.fingerprint]
    fresh = dict(_checked(store, todo, schema, workers))
    out = Validation(checked=len(todo), reused=len(units) - len(todo))
    results = dict(remembered) if document else {}
    for unit in units:
        result = results[unit.key] = fresh.get(unit.key) or remembered[unit.key]
        if not result["conforms"]:
            out.conforms = False
            out.failed.append(unit.name)
            out.text += f"── {unit.name}\n{result['text'].rstrip()}\n"
    if todo or len(results) != len(remembered):
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


# ---------------------------------------------------------------------- validating the units

# Set in worker processes (forked with it, or made by `_start_worker`).
_WORKER_SCHEMA: Schema | None = None


def _checked(store, units: list[Unit], schema: Schema, workers: int):
    """(unit key, result) of each unit, validated here or by `workers` processes."""
    jobs = (_job(store, unit, schema) for unit in units)
    if workers <= 1 or len(units) <= 1:
        for job in jobs:
            yield _check(job, schema)
        return
    import multiprocessing as mp
    global _WORKER_SCHEMA
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    _WORKER_SCHEMA = schema if method == "fork" else None
    with mp.get_context(method).Pool(min(workers, len(units)), initializer=_start_worker) as pool:
        yield from pool.imap(_check, jobs, chunksize=4)


def _start_worker() -> None:
    global _WORKER_SCHEMA
    if _WORKER_SCHEMA is None:
        _WORKER_SCHEMA = Schema()


def _job(store, unit: Unit, schema: Schema) -> tuple[str, str, bytes, bytes]:
    """(key, fingerprint, the unit's triples, what other graphs say of what it refers to), as
    N-Triples: read from the store by this process, parsed in Rust by the one validating."""
    if unit.key == ONTOLOGY_UNIT:
        from rdflib import URIRef
        own: list = []
        subjects = {ox.NamedNode(x) for x in schema.ontology.subjects() if isinstance(x, URIRef)}
        objects = {ox.NamedNode(x) for x in schema.ontology.objects() if isinstance(x, URIRef)}
    else:
        own = [ox.Triple(q.subject, q.predicate, q.object) for q in _graph_triples(store, unit.key)]
        subjects = {t.subject for t in own}
        objects = {t.object for t in own if isinstance(t.object, ox.NamedNode)}
    context = _described_elsewhere(store, subjects, objects)
    return (unit.key, unit.fingerprint, ox.serialize(own, format=ox.RdfFormat.N_TRIPLES),
            ox.serialize(context, format=ox.RdfFormat.N_TRIPLES))


def _check(job, schema: Schema | None = None) -> tuple[str, dict]:
    """pySHACL on one unit, with the ontology and its context."""
    import rdflib
    from pyshacl import validate as shacl
    schema = schema or _WORKER_SCHEMA
    key, fingerprint, own_nt, context_nt = job
    graphs = [rdflib.Graph(), schema.ontology, rdflib.Graph()]
    for graph, data in ((graphs[0], own_nt), (graphs[2], context_nt)):
        for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES):
            graph.add((_rdflib(t.subject), _rdflib(t.predicate), _rdflib(t.object)))
    conforms, _, text = shacl(rdflib.graph.ReadOnlyGraphAggregate(graphs),
                              shacl_graph=schema.shapes, inference="none", allow_warnings=True)
    return key, {"fingerprint": fingerprint, "conforms": bool(conforms), "text": str(text)}


def _described_elsewhere(store, subjects: set, objects: set) -> list:
    """What the store's other graphs (the ontology's copies and the catalog aside) state about
    the IRIs `objects` that are not among `subjects`, and so on from those: a document's
    locality and its parents, which sh:class kg:Locality needs to know; the evidence sentences
    and documents an audit record cites. As pyoxigraph triples."""
    described = set(subjects)
    todo = {o for o in objects if o not in described}
    out: list = []
    while todo:
        described |= todo
        found: list = []
        todo_list = sorted(todo, key=str)
        for i in range(0, len(todo_list), LOOKUP_BATCH):
            values = " ".join(str(iri) for iri in todo_list[i:i + LOOKUP_BATCH])
            found += [ox.Triple(*row) for row in store.query(
                f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} "
                f"FILTER(?g != <{CATALOG_GRAPH}> && !STRSTARTS(STR(?g), \"{ONTOLOGY_GRAPH}\")) }}"
            ).terms]
        out += found
        todo = {t.object for t in found if isinstance(t.object, ox.NamedNode)
                and t.object not in described}
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
