"""External stores: the graph on any SPARQL 1.1 server instead of the embedded Oxigraph store.

For corpora that outgrow one machine. `build_remote(endpoint, paths)` writes what `kg.build.build`
writes into the embedded store, with the same layout, through standard protocols only:

- each document's named graph (and the ontology, places and audit graphs) with the SPARQL 1.1
  Graph Store HTTP Protocol: `PUT <store URL>?graph=<iri>` of the graph as N-Triples (PUT
  replaces the graph);
- the catalog graph <https://w3id.org/fazhi-kg/catalog> (the same `cat:sourceFile`,
  `cat:contentHash`, `cat:modified` records as kg.store) is read with a SELECT and written with
  SPARQL UPDATE, after the document's PUT: a document is only in the catalog once its triples are
  all on the server, so a build interrupted between the two rewrites that document next time;
- when a file changed, its old graph (a different IRI: graph IRIs come from the content) is
  dropped in the same UPDATE request as the catalog change, unless another file still uses it.

Unlike the embedded store, a replacement is two requests (PUT, then UPDATE), not one
transaction: a reader may briefly see the new graph next to the old one.

Reading (kg query / kg audit --endpoint) goes through kg.query.Endpoint; parameters are bound
with VALUES blocks (kg.query.bind_values), never pasted. Queries ask for the union of the named
graphs as default graph with Oxigraph's `union-default-graph` option; other servers need it
configured (README, "External stores").
"""
from __future__ import annotations

import time
from typing import Any, Iterable, Optional

import pyoxigraph as ox

from . import build as _build
from . import rdf, read
from .namespaces import CATALOG_GRAPH
from .query import Endpoint, EndpointError, run_query
from .store import (_CATALOG, _CONTENT_HASH, _MODIFIED, _SOURCE_FILE, _drop_source_ops,
                    _named, _now, _triples_text)


def endpoint(url: str, update_url: Optional[str] = None,
             store_url: Optional[str] = None) -> Endpoint:
    """An Endpoint for `url`: an Oxigraph server's base URL (or its /query), or any SPARQL
    query URL with the update and Graph Store URLs given explicitly."""
    return Endpoint(url, update_url, store_url)


# ---------------------------------------------------------------------- reading

def catalog(ep: Endpoint) -> dict[str, dict[str, Any]]:
    """The catalog records, as kg.store.Store.catalog():
    graph IRI → {"source_files": [...], "content_hash", "modified"}."""
    res = run_query(ep, f"SELECT ?g ?p ?o WHERE {{ GRAPH {_CATALOG} {{ ?g ?p ?o }} }}")
    out: dict[str, dict[str, Any]] = {}
    for g, p, o in res.terms:
        if not isinstance(g, ox.NamedNode):
            continue
        rec = out.setdefault(g.value, {"source_files": [], "content_hash": None,
                                       "modified": None})
        if p == _SOURCE_FILE:
            rec["source_files"].append(o.value)
        elif p == _CONTENT_HASH:
            rec["content_hash"] = o.value
        elif p == _MODIFIED:
            rec["modified"] = o.value
    return out


def document_hashes(ep: Endpoint, records: Optional[dict] = None) -> dict[str, tuple[str, str]]:
    """source file → (graph IRI, content hash), as Store.document_hashes()."""
    out: dict[str, tuple[str, str]] = {}
    for graph, rec in (records if records is not None else catalog(ep)).items():
        for source in rec["source_files"]:
            out[source] = (graph, rec["content_hash"])
    return out


def graph_triples(ep: Endpoint, graph_iri: str) -> list[ox.Triple]:
    """The triples of one named graph (empty if there is none)."""
    res = run_query(ep, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {_named(graph_iri)} "
                        f"{{ ?s ?p ?o }} }}")
    return list(res.triples)


def triple_count(ep: Endpoint) -> int:
    """Triples in all named graphs (catalog included; we write nothing to the default graph)."""
    res = run_query(ep, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    return int(res.rows[0][0]) if res.rows else 0


def _stored_hash(ep: Endpoint, iri: str) -> Optional[str]:
    g = _named(iri)
    res = run_query(ep, f"SELECT ?h WHERE {{ GRAPH {g} {{ {g} {rdf.kg('contentHash')} ?h }} }}")
    return str(res.rows[0][0]) if res.rows else None


# ---------------------------------------------------------------------- writing

def replace_graph(ep: Endpoint, graph_iri: str, triples: Iterable[Any]) -> int:
    """Replace a non-document graph (ontology, places, audit records) and note it in the
    catalog with `cat:modified`, as Store.replace_graph does. Returns the triples written."""
    g = _named(graph_iri)
    body = _triples_text(triples, g)
    ep.put_graph(g.value, body)
    ep.update(f"DELETE WHERE {{ GRAPH {_CATALOG} {{ {g} {_MODIFIED} ?m }} }} ;\n"
              f"INSERT DATA {{ GRAPH {_CATALOG} {{ {g} {_MODIFIED} {_now()} }} }}")
    return body.count("\n")


def replace_document(ep: Endpoint, graph_iri: str, triples: Iterable[Any], *, source_file: str,
                     content_hash: str, records: Optional[dict] = None) -> int:
    """PUT a document's graph, then in one UPDATE: drop the graph this source file had before
    (if its IRI differs and no other file uses it) and write the catalog record.

    `records` is the catalog as read by `catalog()`; it is updated in place (pass it along when
    replacing many documents, to read the catalog once). Returns the triples written.
    """
    if records is None:
        records = catalog(ep)
    g = _named(graph_iri)
    body = _triples_text(triples, g)          # serialized before anything is sent
    ep.put_graph(g.value, body)
    ops: list[str] = []
    for old, rec in list(records.items()):
        if old != g.value and source_file in rec["source_files"]:
            ops += _drop_source_ops(_named(old), source_file, rec["source_files"])
            rec["source_files"].remove(source_file)
            if not rec["source_files"]:
                del records[old]
    ops.append(f"DELETE WHERE {{ GRAPH {_CATALOG} {{ {g} {_CONTENT_HASH} ?h }} }}")
    ops.append(f"DELETE WHERE {{ GRAPH {_CATALOG} {{ {g} {_MODIFIED} ?m }} }}")
    now = _now()
    ops.append(f"INSERT DATA {{ GRAPH {_CATALOG} {{ {g} {_SOURCE_FILE} "
               f"{ox.Literal(source_file)} ; {_CONTENT_HASH} {ox.Literal(content_hash)} ; "
               f"{_MODIFIED} {now} }} }}")
    ep.update(" ;\n".join(ops))
    rec = records.setdefault(g.value, {"source_files": [], "content_hash": None, "modified": None})
    if source_file not in rec["source_files"]:
        rec["source_files"].append(source_file)
    rec["content_hash"] = content_hash
    return body.count("\n")


def ensure_reference_graphs(ep: Endpoint) -> None:
    """The ontology files and the division table, each in its own graph, when changed — the
    same graphs and content as kg.build.ensure_reference_graphs writes into the embedded store."""
    for iri, digest, triples in _build.reference_graphs():
        if _stored_hash(ep, iri) != digest:
            replace_graph(ep, iri, triples())


def build_remote(ep: Endpoint, paths, *, progress=None) -> "_build.BuildReport":
    """Build every file under `paths` into the server behind `ep` (see the module doc).

    The same rules as kg.build.build: unchanged files (same bytes as in the catalog) are
    skipped, a file that fails is reported and the others are built, a second file with the
    same content as one already seen is skipped as a duplicate. An unreachable or failing
    server stops the build (EndpointError): every later document would fail the same way.
    """
    started = time.perf_counter()
    report = _build.BuildReport()
    ensure_reference_graphs(ep)
    records = catalog(ep)
    known = document_hashes(ep, records)
    files = list(read.iter_files(paths))
    seen_hashes: dict[str, str] = {}
    for n, path in enumerate(files, 1):
        key = _build.source_key(path)
        try:
            digest = _build.file_hash(path)
        except OSError as e:
            report.failed.append((str(path), e.strerror or str(e)))
            continue
        finally:
            if progress:
                progress(n, len(files), path)
        if digest in seen_hashes:
            report.duplicates.append((str(path), seen_hashes[digest]))
            continue
        seen_hashes[digest] = str(path)
        if key in known and known[key][1] == digest:
            report.unchanged.append(key)
            continue
        try:
            iri, quads = _build.document_graph(path, digest)
            report.triples_written += replace_document(ep, iri, quads, source_file=key,
                                                       content_hash=digest, records=records)
            report.built.append(key)
        except EndpointError:
            raise
        except read.ReadError as e:
            report.failed.append((str(path), e.reason))
        except Exception as e:  # one bad document must not cost the others
            report.failed.append((str(path), f"internal error: {type(e).__name__}: {e}"))
    report.documents_total = len(document_hashes(ep))
    report.triples_total = triple_count(ep)
    report.seconds = time.perf_counter() - started
    return report


__all__ = ["CATALOG_GRAPH", "Endpoint", "EndpointError", "build_remote", "catalog",
           "document_hashes", "endpoint", "ensure_reference_graphs", "graph_triples",
           "replace_document", "replace_graph", "triple_count"]
