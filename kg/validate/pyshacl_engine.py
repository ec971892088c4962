"""The reference engine: pySHACL on one unit (a graph, or the ontology files) at a time, with the
ontology (loaded once; sh:class checks look up rdf:type and rdfs:subClassOf in the data graph)
and what the other graphs state about the IRIs it refers to, followed on (a document's locality
and its parents in the places graph; the sentences an audit record cites).

pySHACL's cost follows the triples it is given (~0.07 ms a triple, ~35-50 ms a document), in
`workers` processes. A node described in two graphs is checked in each with what that one says
(a maxCount over both together would not be seen); the project's graphs describe each node in one.
"""
from __future__ import annotations

import hashlib

import pyoxigraph as ox

from kg import ontology
from kg.namespaces import CATALOG_GRAPH
from kg.rdf import ONTOLOGY_GRAPH

SHAPES_FILE = "shapes.ttl"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
# the key of the unit that is the ontology files (as kg.validate names it)
ONTOLOGY_UNIT = "ontology"
# IRIs looked up in one query
LOOKUP_BATCH = 500


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



# Set in worker processes (forked with it, or made by `_start_worker`).
_WORKER_SCHEMA: Schema | None = None


def checked(store, units: list, schema: Schema, workers: int):
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


def _job(store, unit, schema: Schema) -> tuple[str, str, bytes, bytes]:
    """(key, fingerprint, the unit's triples, what other graphs say of what it refers to), as
    N-Triples: read from the store by this process, parsed in Rust by the one validating."""
    if unit.key == ONTOLOGY_UNIT:
        from rdflib import URIRef
        own: list = []
        subjects = {ox.NamedNode(x) for x in schema.ontology.subjects() if isinstance(x, URIRef)}
        objects = {ox.NamedNode(x) for x in schema.ontology.objects() if isinstance(x, URIRef)}
    else:
        own = [ox.Triple(q.subject, q.predicate, q.object) for q in graph_triples(store, unit.key)]
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


def graph_triples(store, graph: str) -> list:
    """pyoxigraph triples (or quads) of one graph, from an embedded or a remote store."""
    if hasattr(store, "quads"):
        return store.read(lambda o: list(o.quads_for_pattern(None, None, None, ox.NamedNode(graph))))
    return store.graph_triples(graph)


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
