"""The layout every store shares, embedded or remote: the catalog graph and what is written to it.

Every document lives in its own named graph, whose IRI derives from the content; the catalog graph
<https://w3id.org/fazhi-kg/catalog> says, for each document graph, which source file it came from,
that file's content hash, and when it was written:

    GRAPH <catalog> { <graph> cat:sourceFile "a/b.html" ; cat:contentHash "…" ;
                              cat:modified "2026-…"^^xsd:dateTime . }

Other graphs the project writes (ontology, places, audit records) get only `cat:modified`. A file
is named in the catalog by `source_key` and recognised by `file_hash`. Statements are written as
SPARQL text built from pyoxigraph terms (`triples_text`), whose `str()` is escaped N-Triples, so
no value can break out of the request it is sent in.
"""
from __future__ import annotations

import datetime as _dt
import errno
import functools
import hashlib
import io
import os
import stat
from pathlib import Path
from typing import Any, Iterable, NamedTuple, Union

import pyoxigraph as ox

from kg.namespaces import CATALOG_GRAPH, PREFIXES, XSD

# The catalog has its own predicates: with kg:sourceFile it would repeat the documents' own
# triples, and a query over the union of all graphs would see every document twice.
CATALOG_NS = PREFIXES["cat"]
SOURCE_FILE = ox.NamedNode(CATALOG_NS + "sourceFile")
CONTENT_HASH = ox.NamedNode(CATALOG_NS + "contentHash")
MODIFIED = ox.NamedNode(CATALOG_NS + "modified")
# Set (in the catalog graph, on the catalog) while a bulk load runs; found at open, it means the
# load was interrupted and left graphs the catalog does not know.
BULK_LOADING = ox.NamedNode(CATALOG_NS + "bulkLoading")
CATALOG = ox.NamedNode(CATALOG_GRAPH)
XSD_DATETIME = ox.NamedNode(XSD + "dateTime")

Term = Union[ox.NamedNode, ox.BlankNode, ox.Literal, ox.Triple]


class DocumentGraph(NamedTuple):
    """One document for a store's `replace_documents`.

    `triples`: pyoxigraph quads/triples, rdflib or term tuples — or the N-Quads bytes of this
    graph alone, as kg.build's worker processes send them (bulk-loaded without ever becoming
    Python objects; the graph names in them are trusted)."""
    graph_iri: str
    triples: Iterable[Any] | bytes
    source_file: str
    content_hash: str


def as_document(doc: DocumentGraph | tuple) -> DocumentGraph:
    return doc if isinstance(doc, DocumentGraph) else DocumentGraph(*doc)


def triple_list(triples: Iterable[Any] | bytes) -> list:
    """The triples as a list; N-Quads bytes parsed."""
    if isinstance(triples, (bytes, bytearray)):
        return list(ox.parse(bytes(triples), format=ox.RdfFormat.N_QUADS))
    return list(triples)


def update_batches(docs: Iterable[DocumentGraph], max_triples: int) -> Iterable[list[DocumentGraph]]:
    """The documents (triples made lists) grouped for update requests of about `max_triples`.

    A request reads the catalog once, so one source file must not appear twice in it; nor may a
    graph IRI (two files with the same content)."""
    pending: list[DocumentGraph] = []
    size = 0
    for doc in docs:
        doc = doc._replace(triples=triple_list(doc.triples))
        if any(p.source_file == doc.source_file or p.graph_iri == doc.graph_iri for p in pending):
            yield pending
            pending, size = [], 0
        pending.append(doc)
        size += len(doc.triples)
        if size >= max_triples:
            yield pending
            pending, size = [], 0
    if pending:
        yield pending


# ---------------------------------------------------------------------- naming files

def source_key(path) -> str:
    """How the catalog names a file: its path relative to the current directory when it lies
    under it (so a store built in a checkout reads the same on every machine), else absolute.
    Symbolic links in the directories are resolved; the file name is kept as given."""
    directory, name = os.path.split(os.path.abspath(path))
    resolved = os.path.join(_real_directory(directory), name)
    cwd = _real_directory(os.getcwd())
    key = os.path.relpath(resolved, cwd) if resolved.startswith(cwd.rstrip(os.sep) + os.sep) else resolved
    key = Path(key).as_posix()
    # a file name that is not UTF-8 (old GBK archives) still needs a printable, stable key
    return os.fsencode(key).decode("utf-8", "backslashreplace")


@functools.lru_cache(maxsize=4096)
def _real_directory(directory: str) -> str:
    # resolving every component of every file's path was half of a no-change rebuild
    return os.path.realpath(directory)


def file_hash(path) -> str:
    """SHA-256 of the file's bytes; only regular files (a FIFO would block the build for ever)."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(errno.EINVAL, "not a regular file")
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------- reading the catalog

def catalog_records(statements: Iterable[tuple[Any, Any, Any]]) -> dict[str, dict[str, Any]]:
    """graph IRI → {"source_files": [...], "content_hash", "modified"} from the catalog graph's
    (subject, predicate, object) terms."""
    out: dict[str, dict[str, Any]] = {}
    for s, p, o in statements:
        if not isinstance(s, ox.NamedNode) or s == CATALOG:
            continue
        rec = out.setdefault(s.value, {"source_files": [], "content_hash": None, "modified": None})
        if p == SOURCE_FILE:
            rec["source_files"].append(o.value)
        elif p == CONTENT_HASH:
            rec["content_hash"] = o.value
        elif p == MODIFIED:
            rec["modified"] = o.value
    return out


def hashes_of(records: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """source file → (graph IRI, content hash) of catalog records."""
    out: dict[str, tuple[str, str]] = {}
    for graph, rec in records.items():
        for source in rec["source_files"]:
            out[source] = (graph, rec["content_hash"])
    return out


# ---------------------------------------------------------------------- writing the catalog

def now_term() -> ox.Literal:
    """This moment (UTC, to the second) as an xsd:dateTime literal."""
    stamp = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    return ox.Literal(stamp, datatype=XSD_DATETIME)


def now_literal() -> str:
    """This moment as an xsd:dateTime literal in SPARQL syntax."""
    return str(now_term())


def named(iri: str | ox.NamedNode) -> ox.NamedNode:
    """A NamedNode; pyoxigraph validates the IRI (ValueError if it is not one)."""
    return iri if isinstance(iri, ox.NamedNode) else ox.NamedNode(iri)


def drop_source_ops(graph: ox.NamedNode | str, source_file: str,
                    sources_of_graph: list[str]) -> list[str]:
    """Operations that detach `source_file` from `graph`; drop the graph if nobody else uses it."""
    g = named(graph)
    if any(s != source_file for s in sources_of_graph):
        return [f"DELETE DATA {{ GRAPH {CATALOG} {{ {g} {SOURCE_FILE} "
                f"{ox.Literal(source_file)} }} }}"]
    return drop_graph_ops(g)


def drop_graph_ops(graph: ox.NamedNode | str) -> list[str]:
    """Operations that drop a graph and its whole catalog record."""
    g = named(graph)
    return [f"DROP SILENT GRAPH {g}", f"DELETE WHERE {{ GRAPH {CATALOG} {{ {g} ?p ?o }} }}"]


def replaced_sources_ops(doc: DocumentGraph, previous: dict[str, list[str]]) -> list[str]:
    """Operations detaching `doc`'s source file from the graphs it had before (`previous`: graph
    IRI → its source files), when they are not the graph it gets now."""
    ops: list[str] = []
    for old, files in previous.items():
        if old != doc.graph_iri and doc.source_file in files:
            ops += drop_source_ops(named(old), doc.source_file, files)
    return ops


def record_text(doc: DocumentGraph, now: str) -> str:
    """The catalog record of a document, as the statements of a SPARQL data block."""
    return (f"{named(doc.graph_iri)} {SOURCE_FILE} {ox.Literal(doc.source_file)} ; "
            f"{CONTENT_HASH} {ox.Literal(doc.content_hash)} ; {MODIFIED} {now}")


def stale_record_ops(graph: ox.NamedNode) -> list[str]:
    """Operations removing a graph's hash and date from the catalog (its source files stay)."""
    return [f"DELETE WHERE {{ GRAPH {CATALOG} {{ {graph} {CONTENT_HASH} ?h }} }}",
            f"DELETE WHERE {{ GRAPH {CATALOG} {{ {graph} {MODIFIED} ?m }} }}"]


# ---------------------------------------------------------------------- statements as text

def triples_text(triples: Iterable[Any], graph: ox.NamedNode) -> str:
    """The triples as SPARQL/N-Triples statements, one per line.

    `str()` of a pyoxigraph term is its N-Triples form with correct escaping, which is also
    valid SPARQL; so no value can break out of the INSERT DATA block.
    """
    buf = io.StringIO()
    for t in triples:
        s, p, o = spo(t, graph)
        buf.write(f"{s} {p} {o} .\n")
    return buf.getvalue()


def nquads(triples: Iterable[Any], graph: ox.NamedNode) -> bytes:
    """The triples as N-Quads in `graph`."""
    return ox.serialize((ox.Quad(*spo(t, graph), graph) for t in triples),
                        format=ox.RdfFormat.N_QUADS)


def spo(t: Any, graph: ox.NamedNode) -> tuple[Term, ox.NamedNode, Term]:
    """Subject, predicate, object of a pyoxigraph Triple/Quad or a 3-/4-tuple of pyoxigraph or
    rdflib terms. A quad must be in the default graph or in `graph`."""
    if isinstance(t, ox.Quad):
        if not isinstance(t.graph_name, ox.DefaultGraph) and t.graph_name != graph:
            raise ValueError(f"quad in graph {t.graph_name} given for graph {graph}")
        return t.subject, t.predicate, t.object
    if isinstance(t, ox.Triple):
        return t.subject, t.predicate, t.object
    if len(t) == 4:
        if t[3] is not None and str(t[3]) not in (graph.value, str(graph)):
            raise ValueError(f"quad in graph {t[3]} given for graph {graph}")
        t = t[:3]
    s, p, o = t
    return to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)


def to_oxigraph(term: Any) -> Term:
    """A pyoxigraph term from a pyoxigraph or rdflib term (duck-typed, rdflib is not imported)."""
    if isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal, ox.Triple)):
        return term
    kind = type(term).__name__
    if kind == "URIRef":
        return ox.NamedNode(str(term))
    if kind == "BNode":
        return ox.BlankNode(str(term))
    if kind == "Literal":
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def graph_of_document(store, document: str) -> str:
    """The graph IRI of a document of `store` named by graph IRI, path or file name;
    LookupError when none or several match."""
    catalog = store.document_hashes()
    if document in {g for g, _ in catalog.values()}:
        return document
    for key in (document, source_key(document)):
        if key in catalog:
            return catalog[key][0]
    matches = [g for src, (g, _) in catalog.items() if src.rsplit("/", 1)[-1] == document]
    if len(matches) == 1:
        return matches[0]
    raise LookupError(f"no document {document!r} in the store" if not matches
                      else f"{document!r} names {len(matches)} documents; give its path")
