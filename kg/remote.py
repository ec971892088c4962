"""External stores: the graph on any SPARQL 1.1 server instead of the embedded Oxigraph store.

For corpora that outgrow one machine. `RemoteStore` is a `GraphStore` (kg.graphstore): kg.build
writes into it what it writes into the embedded store, with the same layout (kg.catalog), through
standard protocols only:

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
transaction: a reader may briefly see the new graph next to the old one. There is no bulk load:
documents are written one at a time whatever `bulk` says.

Queries get their parameters as VALUES blocks (kg.binding.bind_values), never pasted, since
there is no substitution on the wire. They ask for the union of the named graphs as default
graph with Oxigraph's `union-default-graph` option; other servers need it configured (README,
"External stores"). An unreachable or failing server raises EndpointError, a StoreError: a build
stops there, as every later document would fail the same way.
"""
from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterable, Mapping, Optional, Union

import pyoxigraph as ox

from .binding import bind_values, unshift_positions
from .catalog import (CATALOG, MODIFIED, DocumentGraph, as_document, catalog_records,
                      drop_graph_ops, drop_source_ops, hashes_of, named, now_literal, record_text,
                      stale_record_ops, to_oxigraph, triple_list, triples_text)
from .graphstore import GraphStore, StoreError
from .namespaces import CATALOG_GRAPH, PREFIXES, with_prolog
from .results import QueryError, Result

HAS_CONTENT_HASH = ox.NamedNode(PREFIXES["kg"] + "contentHash")


class EndpointError(QueryError, StoreError):
    """The remote endpoint failed or could not be reached."""


class RemoteStore(GraphStore):
    """A SPARQL 1.1 endpoint over HTTP (standard library only).

    `query_url` is the query service; `update_url` and `store_url` (Graph Store Protocol) are
    derived for an Oxigraph server (`http://host:port/query`, `/update`, `/store`) when the
    query URL ends in /query or has no path; give them explicitly for other servers.
    """

    def __init__(self, query_url: str, update_url: Optional[str] = None,
                 store_url: Optional[str] = None, *, timeout: float = 120):
        parts = urllib.parse.urlsplit(query_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise EndpointError(f"not an http(s) URL: {query_url}")
        base = None
        if parts.path in ("", "/"):
            base = f"{parts.scheme}://{parts.netloc}"
            query_url = base + "/query"
        elif parts.path.endswith("/query"):
            base = f"{parts.scheme}://{parts.netloc}{parts.path[:-len('/query')]}"
        self.query_url = query_url
        self.update_url = update_url or (base + "/update" if base is not None else None)
        self.store_url = store_url or (base + "/store" if base is not None else None)
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"RemoteStore({self.query_url!r})"

    # ------------------------------------------------------------------ reading

    def query(self, sparql: str, bindings: Optional[Mapping[str, Any]] = None, *,
              union_default_graph: bool = False) -> Result:
        bound = bind_values(sparql, bindings or {})
        prepared = with_prolog(bound)
        try:
            return self.send_query(prepared, union_default_graph=union_default_graph)
        except EndpointError as e:
            raise EndpointError(unshift_positions(str(e), prepared, bound)) from None

    def send_query(self, sparql: str, *, union_default_graph: bool = False) -> Result:
        """Send a complete query (prefixes and parameters already in the text)."""
        url = self.query_url
        if union_default_graph:
            url += ("&" if "?" in url else "?") + "union-default-graph"
        ctype, body = self._request(
            "POST", url, sparql.encode("utf-8"),
            {"Content-Type": "application/sparql-query; charset=utf-8",
             "Accept": "application/sparql-results+json, application/n-triples;q=0.9, "
                       "text/turtle;q=0.8"})
        mt = ctype.split(";")[0].strip().lower()
        results_format = ox.QueryResultsFormat.from_media_type(mt) if mt else None
        try:
            if results_format is not None:
                res = ox.parse_query_results(body, results_format)
                raw = body if results_format == ox.QueryResultsFormat.JSON else None
                return Result.from_oxigraph(res, sparql_json=raw) if raw else \
                    Result.from_oxigraph(res)
            rdf_format = ox.RdfFormat.from_media_type(mt) if mt else None
            if rdf_format is None:
                raise EndpointError(f"{self.query_url}: unexpected content type {ctype!r}")
            return Result.from_oxigraph(ox.parse(body, rdf_format))
        except SyntaxError as e:
            raise EndpointError(f"{self.query_url}: unreadable response ({e})") from e

    def catalog(self) -> dict[str, dict[str, Any]]:
        res = self.query(f"SELECT ?g ?p ?o WHERE {{ GRAPH {CATALOG} {{ ?g ?p ?o }} }}")
        return catalog_records(res.terms)

    def graphs(self, include_catalog: bool = False) -> list[str]:
        res = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        names = [g.value for (g,) in res.terms if isinstance(g, ox.NamedNode)]
        return sorted(g for g in names if include_catalog or g != CATALOG_GRAPH)

    def triple_count(self, graph: str | None = None) -> int:
        """Triples in one graph, or in all named graphs (catalog included; we write nothing to
        the default graph)."""
        where = "GRAPH ?g { ?s ?p ?o }" if graph is None else f"GRAPH {named(graph)} {{ ?s ?p ?o }}"
        res = self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")
        return int(res.rows[0][0]) if res.rows else 0

    def graph_hash(self, graph_iri: str) -> str | None:
        g = named(graph_iri)
        res = self.query(f"SELECT ?h WHERE {{ GRAPH {g} {{ {g} {HAS_CONTENT_HASH} ?h }} }}")
        return str(res.rows[0][0]) if res.rows else None

    def graph_triples(self, graph_iri: str) -> list[ox.Triple]:
        """The triples of one named graph (empty if there is none)."""
        res = self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {named(graph_iri)} "
                         f"{{ ?s ?p ?o }} }}")
        return list(res.triples)

    # ------------------------------------------------------------------ writing

    def replace_documents(self, batch: Iterable[DocumentGraph | tuple], *,
                          bulk: bool = False) -> int:
        """Each document in turn: PUT its graph, then in one UPDATE drop the graph its source
        file had before (if its IRI differs and no other file uses it) and write the catalog
        record. The catalog is read once per call."""
        records = self.catalog()
        return sum(self._replace_one(as_document(doc), records) for doc in batch)

    def _replace_one(self, doc: DocumentGraph, records: dict) -> int:
        """Replace one document; `records` (the catalog) is updated in place."""
        g = named(doc.graph_iri)
        body = triples_text(triple_list(doc.triples), g)     # serialized before anything is sent
        self.put_graph(g.value, body)
        ops: list[str] = []
        for old, rec in list(records.items()):
            if old != g.value and doc.source_file in rec["source_files"]:
                ops += drop_source_ops(named(old), doc.source_file, rec["source_files"])
                rec["source_files"].remove(doc.source_file)
                if not rec["source_files"]:
                    del records[old]
        ops += stale_record_ops(g)
        ops.append(f"INSERT DATA {{ GRAPH {CATALOG} {{ {record_text(doc, now_literal())} }} }}")
        self.update(" ;\n".join(ops))
        rec = records.setdefault(g.value, {"source_files": [], "content_hash": None,
                                           "modified": None})
        if doc.source_file not in rec["source_files"]:
            rec["source_files"].append(doc.source_file)
        rec["content_hash"] = doc.content_hash
        return body.count("\n")

    def replace_graph(self, graph_iri: str, triples: Iterable[Any]) -> int:
        """PUT the graph whole, then renew its `cat:modified`."""
        g = named(graph_iri)
        body = triples_text(triples, g)
        self.put_graph(g.value, body)
        self.update(f"DELETE WHERE {{ GRAPH {CATALOG} {{ {g} {MODIFIED} ?m }} }} ;\n"
                    f"INSERT DATA {{ GRAPH {CATALOG} {{ {g} {MODIFIED} {now_literal()} }} }}")
        return body.count("\n")

    def replace_subjects(self, graph_iri: str, key: str | None, values: Iterable[Any],
                         triples: Iterable[Any]) -> int:
        """The graph is read with a CONSTRUCT and written back whole (`replace_graph`)."""
        keys = {to_oxigraph(v) for v in values}
        old = self.graph_triples(graph_iri)
        if key is None:
            drop = keys
        else:
            predicate = named(key)
            drop = {t.subject for t in old if t.predicate == predicate and t.object in keys}
        kept = [(t.subject, t.predicate, t.object) for t in old if t.subject not in drop]
        return self.replace_graph(graph_iri, kept + list(triples))

    def remove_document(self, source_file_or_graph_iri: str) -> bool:
        key = source_file_or_graph_iri
        records = self.catalog()
        ops: list[str] = []
        for g, rec in records.items():
            if key in rec["source_files"]:
                ops += drop_source_ops(g, key, rec["source_files"])
        if not ops and (key in records or key in self.graphs()):
            ops = drop_graph_ops(key)
        if not ops:
            return False
        self.update(" ;\n".join(ops))
        return True

    def unwritable_reason(self) -> str | None:
        if self.store_url and self.update_url:
            return None
        return "the endpoint has no update and Graph Store URL"

    # ------------------------------------------------------------------ HTTP

    def update(self, sparql: str) -> None:
        if not self.update_url:
            raise EndpointError("no update URL configured for this endpoint")
        self._request("POST", self.update_url, sparql.encode("utf-8"),
                      {"Content-Type": "application/sparql-update; charset=utf-8"})

    def put_graph(self, graph_iri: str, ntriples: Union[bytes, str]) -> None:
        """Replace a graph's content (Graph Store Protocol PUT) with N-Triples data."""
        data = ntriples.encode("utf-8") if isinstance(ntriples, str) else ntriples
        self._request("PUT", self._graph_url(graph_iri), data,
                      {"Content-Type": "application/n-triples"})

    def delete_graph(self, graph_iri: str) -> bool:
        """Delete a graph (Graph Store Protocol DELETE); False if it did not exist."""
        try:
            self._request("DELETE", self._graph_url(graph_iri), None, {})
        except EndpointError as e:
            if getattr(e, "status", None) == 404:
                return False
            raise
        return True

    def _graph_url(self, graph_iri: str) -> str:
        if not self.store_url:
            raise EndpointError("no graph store URL configured for this endpoint")
        ox.NamedNode(graph_iri)   # validate
        sep = "&" if "?" in self.store_url else "?"
        return f"{self.store_url}{sep}graph={urllib.parse.quote(graph_iri, safe='')}"

    def _request(self, method: str, url: str, data: Optional[bytes],
                 headers: dict[str, str]) -> tuple[str, bytes]:
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"User-Agent": "kg (fazhi-kg)", **headers})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.headers.get("Content-Type", ""), resp.read()
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace").strip()[:500]
            err = EndpointError(f"{method} {url}: HTTP {e.code} {e.reason}"
                                + (f": {detail}" if detail else ""))
            err.status = e.code   # type: ignore[attr-defined]
            raise err from None
        except urllib.error.URLError as e:
            raise EndpointError(f"cannot reach {url}: {e.reason}") from None


# The HTTP client's name before it became a GraphStore.
Endpoint = RemoteStore


def endpoint(url: str, update_url: Optional[str] = None,
             store_url: Optional[str] = None) -> RemoteStore:
    """A RemoteStore for `url`: an Oxigraph server's base URL (or its /query), or any SPARQL
    query URL with the update and Graph Store URLs given explicitly."""
    return RemoteStore(url, update_url, store_url)


# The functions callers used before RemoteStore had these methods.

def catalog(ep: RemoteStore) -> dict[str, dict[str, Any]]:
    return ep.catalog()


def document_hashes(ep: RemoteStore, records: Optional[dict] = None) -> dict[str, tuple[str, str]]:
    return hashes_of(records if records is not None else ep.catalog())


def graph_triples(ep: RemoteStore, graph_iri: str) -> list[ox.Triple]:
    return ep.graph_triples(graph_iri)


def triple_count(ep: RemoteStore) -> int:
    return ep.triple_count()


def replace_graph(ep: RemoteStore, graph_iri: str, triples: Iterable[Any]) -> int:
    return ep.replace_graph(graph_iri, triples)


__all__ = ["CATALOG_GRAPH", "Endpoint", "EndpointError", "RemoteStore", "catalog",
           "document_hashes", "endpoint", "graph_triples", "replace_graph", "triple_count"]
