"""The RDF store: Oxigraph (pyoxigraph) on disk or in memory.

Layout of the data:

- every document lives in its own named graph, whose IRI the caller derives from the content;
- the catalog graph <https://w3id.org/fazhi-kg/catalog> says, for each document graph, which
  source file it came from and that file's content hash, and when it was written:

      GRAPH <catalog> { <graph> cat:sourceFile "a/b.html" ; cat:contentHash "…" ;
                                dcterms:modified "2026-…"^^xsd:dateTime . }

  Other graphs written through `replace_graph` (ontology, audit records) get only
  `dcterms:modified`, so that every graph the project wrote is in the catalog and a graph that
  is not (`orphan_graphs`) is the leftover of an interrupted bulk load (dropped at the next
  read-write open, which finds the load's `cat:bulkLoading` mark).

Atomicity. Replacing a document must remove its old graph (found through the catalog; its IRI
differs when the content changed), insert the new one and update the catalog, all or nothing.
pyoxigraph 0.5 has no transaction object in Python, but every `Store.update()` call — one SPARQL
UPDATE request, however many operations it has — is a single RocksDB transaction. So a
replacement is one request: `DROP SILENT GRAPH <old> ; DELETE … catalog ; INSERT DATA { GRAPH
<new> {…} GRAPH <catalog> {…} }`, built completely in memory before it is sent (an input
iterator that fails midway therefore writes nothing). `Store.extend()`/`load()` are
transactional too but can only add; `bulk_extend()`/`bulk_load()` are not transactional.

Measured on the 2-core dev machine (pyoxigraph 0.5.13, documents of 1,000 triples, store on disk):
  atomic insert through update(): ~53k triples/s (extend(): ~54–62k/s, the same order);
  atomic replace of a document (drop old 1,000 + insert new 1,000): ~20k triples/s;
  batching 10 documents per request: no gain on disk (~54k/s insert, ~16–20k/s replace);
  bulk_extend() of one big iterator: ~200k triples/s (but bulk_extend() per 1,000-triple
  document: ~52k/s, since each call writes new files). The size on disk depends on it too:
  4.5M quads take ~930 MB loaded in one call, ~1.3–1.7 GB in calls of 1M–100k (probably as the
  loader's files are LZ4-compressed while Oxigraph's RocksDB options leave levels 0 and 1,
  where overlapping loads are compacted, uncompressed; `optimize()` does not shrink them);
  in memory, update(): ~240k triples/s.
So the atomic path is the default of `replace_documents`; `bulk=True` is for filling a store
that holds nothing yet to lose (kg.build chooses it for a store without documents), where the ~4×
matters: an interrupted load is dropped at the next read-write open and simply run again.

Blank nodes: a blank node written through SPARQL `INSERT DATA` gets a fresh identity on every
write, so a document with blank nodes is only isomorphic, not identical, after a rewrite.
Prefer IRIs (the project's `rdf` module derives them from content).

Concurrency: one read-write opener per store directory (RocksDB's LOCK file); a second one gets
`StoreLocked`. `Store.open(path, read_only=True)` (pyoxigraph `Store.read_only`) opens a static
snapshot as of the moment of opening; `reopen()` takes a newer one. pyoxigraph calls reading
while another process writes "undefined behaviour", and indeed the writer's compactions can
delete table files under the reader: in a stress test (writer adding, dropping, compacting)
~10% of opens and a few % of reads failed with "No such file or directory". Both are retried
with a fresh snapshot (`_open_read_only`, `Store.read`), after which the stress test ran with no
errors; and since every write is one transaction, a snapshot never shows half a document.
"""
from __future__ import annotations

import datetime as _dt
import io
import itertools
import os
import threading
import time
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, NamedTuple, TypeVar, Union

import pyoxigraph as ox

from kg.namespaces import CATALOG_GRAPH, PREFIXES, XSD

DEFAULT_STORE = ".kg/store"
STORE_ENV = "KG_STORE"

# The catalog has its own predicates: with kg:sourceFile it would repeat the documents' own
# triples, and a query over the union of all graphs would see every document twice.
CATALOG_NS = "https://w3id.org/fazhi-kg/catalog#"
_SOURCE_FILE = ox.NamedNode(CATALOG_NS + "sourceFile")
_CONTENT_HASH = ox.NamedNode(CATALOG_NS + "contentHash")
_MODIFIED = ox.NamedNode(CATALOG_NS + "modified")
# Set (in the catalog graph, on the catalog) while a bulk load runs; found at open, it means the
# load was interrupted and left graphs the catalog does not know.
_BULK_LOADING = ox.NamedNode(CATALOG_NS + "bulkLoading")
_CATALOG = ox.NamedNode(CATALOG_GRAPH)
_XSD_DATETIME = ox.NamedNode(XSD + "dateTime")

EXPORT_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,   # pyoxigraph ≥ 0.5 writes JSON-LD itself, named graphs too
}
_DATASET_FORMATS = {"trig", "nquads", "jsonld"}

_READ_ATTEMPTS = 5
T = TypeVar("T")

# Aim for this many triples per UPDATE request in replace_documents: big enough to amortize the
# per-request cost, small enough that the request text (~100 bytes a triple) stays modest.
BATCH_TRIPLES = 20_000


class StoreError(Exception):
    """A store could not be opened or used; the message is meant for the user."""


class StoreLocked(StoreError):
    """Another process (or another Store object in this one) holds the store open read-write."""


Term = Union[ox.NamedNode, ox.BlankNode, ox.Literal, ox.Triple]


class DocumentGraph(NamedTuple):
    """One document for `Store.replace_documents`.

    `triples`: pyoxigraph quads/triples, rdflib or term tuples — or the N-Quads bytes of this
    graph alone, as kg.build's worker processes send them (bulk-loaded without ever becoming
    Python objects; the graph names in them are trusted)."""
    graph_iri: str
    triples: Iterable[Any] | bytes
    source_file: str
    content_hash: str


def _triple_list(triples: Iterable[Any] | bytes) -> list:
    if isinstance(triples, (bytes, bytearray)):
        return list(ox.parse(bytes(triples), format=ox.RdfFormat.N_QUADS))
    return list(triples)


def default_store_path() -> Path:
    """`$KG_STORE`, else `.kg/store` under the current directory."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


_DEFAULT = object()   # sentinel: "use default_store_path()", as opposed to None = in memory


class Store:
    """A pyoxigraph store plus the document catalog. Use `Store.open()`; a context manager."""

    def __init__(self, oxstore: ox.Store, path: Path | None, read_only: bool):
        self.ox = oxstore              # the raw pyoxigraph store, for queries (kg.query)
        self.path = path
        self.read_only = read_only
        # One writer per process is guaranteed by RocksDB's lock; this lock keeps threads of the
        # writing process from interleaving the catalog look-up and the update that relies on it.
        self._lock = threading.RLock()
        self._snapshot_cache: dict[str, Any] = {}

    # ------------------------------------------------------------------ opening and closing

    @classmethod
    def open(cls, path: Any = _DEFAULT, read_only: bool = False) -> "Store":
        """Open the store in directory `path` (created if missing; default `default_store_path()`),
        or an in-memory store when `path` is None.

        `read_only=True` opens a static snapshot of an existing store, possible while another
        process holds it read-write. Raises `StoreLocked` when another opener holds the
        directory read-write, `StoreError` for other failures.
        """
        if path is _DEFAULT:
            path = default_store_path()
        if path is None:
            if read_only:
                raise StoreError("an in-memory store cannot be opened read-only")
            return cls(ox.Store(), None, False)
        path = Path(path)
        try:
            if read_only:
                if not (path / "CURRENT").exists():
                    raise StoreError(f"no store at {path} (build one first)")
                oxstore = _open_read_only(path)
            else:
                # pyoxigraph creates the directory but not its parents (.kg/ for .kg/store).
                path.parent.mkdir(parents=True, exist_ok=True)
                oxstore = ox.Store(str(path))
        except OSError as e:
            raise _map_open_error(e, path) from e
        store = cls(oxstore, path, read_only)
        if not read_only and store._bulk_load_interrupted():
            # Holding the write lock, nobody is loading: graphs outside the catalog are the
            # leftovers of the interrupted load, and go before anyone queries them.
            store.remove_orphans()
        return store

    @classmethod
    def memory(cls) -> "Store":
        return cls.open(None)

    def close(self) -> None:
        """Release the store (and its lock). pyoxigraph closes when the object is dropped."""
        if self.ox is None:
            return
        if not self.read_only and self.path is not None:
            try:
                self.ox.flush()
            except OSError:
                pass
        self.ox = None  # type: ignore[assignment]
        # The RocksDB handle (and LOCK) goes away when the last reference does; CPython frees it
        # right here unless the caller kept query iterators alive.

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        where = str(self.path) if self.path else "memory"
        return f"<kg.Store {where}{' read-only' if self.read_only else ''}>"

    # ------------------------------------------------------------------ catalog

    def catalog(self) -> dict[str, dict[str, Any]]:
        """All catalog records: graph IRI → {"source_files": [...], "content_hash", "modified"}."""
        out: dict[str, dict[str, Any]] = {}
        quads = self.read(lambda o: list(o.quads_for_pattern(None, None, None, _CATALOG)))
        for q in quads:
            if not isinstance(q.subject, ox.NamedNode) or q.subject == _CATALOG:
                continue
            rec = out.setdefault(q.subject.value, {"source_files": [], "content_hash": None,
                                                   "modified": None})
            if q.predicate == _SOURCE_FILE:
                rec["source_files"].append(q.object.value)
            elif q.predicate == _CONTENT_HASH:
                rec["content_hash"] = q.object.value
            elif q.predicate == _MODIFIED:
                rec["modified"] = q.object.value
        return out

    def document_hashes(self) -> dict[str, tuple[str, str]]:
        """source file → (graph IRI, content hash), for every document in the catalog.

        Reads only those two properties' quads (what every build starts with; at 10,000
        documents the catalog's third, the dates, costs as much again)."""
        def read(o: ox.Store):
            hashes = {q.subject.value: q.object.value
                      for q in o.quads_for_pattern(None, _CONTENT_HASH, None, _CATALOG)}
            return {q.object.value: (q.subject.value, hashes.get(q.subject.value))
                    for q in o.quads_for_pattern(None, _SOURCE_FILE, None, _CATALOG)}
        return self.read(read)

    def _graphs_of(self, source_files: Iterable[str]) -> dict[str, list[str]]:
        """graph IRI → all its source files, for the graphs holding any of `source_files`:
        index look-ups, so a batch costs the same in a store of ten or ten thousand documents."""
        out: dict[str, list[str]] = {}
        o = self._ox
        for f in source_files:
            for q in o.quads_for_pattern(None, _SOURCE_FILE, ox.Literal(f), _CATALOG):
                g = q.subject
                if isinstance(g, ox.NamedNode) and g.value not in out:
                    out[g.value] = [r.object.value for r in
                                    o.quads_for_pattern(g, _SOURCE_FILE, None, _CATALOG)]
        return out

    def orphan_graphs(self) -> list[str]:
        """Named graphs the catalog does not know: leftovers of an interrupted bulk build."""
        known = set(self.catalog()) | {CATALOG_GRAPH}
        return [g for g in self.graphs(include_catalog=False) if g not in known]

    # ------------------------------------------------------------------ writing

    def replace_document(self, graph_iri: str, triples: Iterable[Any], *, source_file: str,
                         content_hash: str) -> int:
        """Atomically make `graph_iri` hold exactly `triples` as the document of `source_file`.

        In the same transaction: the graph that held this source file before (if its IRI
        differs) is dropped, unless another source file still refers to it; the catalog is
        updated. Quads may name `graph_iri` or the default graph; they all go to `graph_iri`.
        Returns the number of triples written.
        """
        return self._replace_many([DocumentGraph(graph_iri, triples, source_file, content_hash)])

    def replace_documents(self, batch: Iterable[DocumentGraph | tuple], *,
                          bulk: bool = False) -> int:
        """`replace_document` for many documents: (graph_iri, triples, source_file, content_hash).

        Documents are grouped into UPDATE requests of about BATCH_TRIPLES triples; each request
        is all-or-nothing (so each document is too). Returns the number of triples written.

        `bulk=True` uses pyoxigraph's non-transactional bulk loader (~4× faster, see the module
        doc), in one streaming call: `batch` may be a generator, consumed as the loader goes. A
        mark is set in the catalog, the triples are loaded, then in one request the graphs the
        documents replace are dropped, the catalog records written and the mark removed. If
        that is interrupted, the documents loaded so far are not in the catalog (the next build
        writes them again) and the next read-write `open` finds the mark and drops their graphs.
        """
        docs = (d if isinstance(d, DocumentGraph) else DocumentGraph(*d) for d in batch)
        if bulk:
            return self._bulk_replace(docs)
        total = 0
        pending: list[DocumentGraph] = []
        pending_size = 0
        sources: set[str] = set()
        for doc in docs:
            doc = doc._replace(triples=_triple_list(doc.triples))
            # The catalog is read once per request, so one source file must not appear twice in
            # a request; nor may a graph IRI (two files with the same content).
            if doc.source_file in sources or any(p.graph_iri == doc.graph_iri for p in pending):
                total += self._replace_many(pending)
                pending, pending_size, sources = [], 0, set()
            pending.append(doc)
            sources.add(doc.source_file)
            pending_size += len(doc.triples)
            if pending_size >= BATCH_TRIPLES:
                total += self._replace_many(pending)
                pending, pending_size, sources = [], 0, set()
        if pending:
            total += self._replace_many(pending)
        # RocksDB keeps what transactions wrote in memory (a write buffer per index) until
        # its buffers fill: ~0.5 MB of resident memory per document, 2.3 GB at 10,000
        # documents written this way. Flushed to disk once per call, it stays under 400 MB
        # for about the same time.
        with self._lock:
            self._ox.flush()
        return total

    def replace_graph(self, graph_iri: str, triples: Iterable[Any]) -> int:
        """Atomically replace a non-document graph (ontology, audit records) with `triples`."""
        graph = _named(graph_iri)
        return self._rewrite(graph, [f"DROP SILENT GRAPH {graph}"], triples)

    def replace_subjects(self, graph_iri: str, key: str, values: Iterable[Any],
                         triples: Iterable[Any]) -> int:
        """Atomically, in one graph: remove every subject that has `key` (a property IRI) with
        one of `values`, with all its triples, and add `triples`. The rest of the graph stays.

        For graphs of records keyed by what they describe (the audit records of some regions):
        the cost follows the records replaced, not the size of the graph."""
        graph = _named(graph_iri)
        keys = " ".join(str(to_oxigraph(v)) for v in values)
        deletes = [f"DELETE {{ GRAPH {graph} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {graph} {{ "
                   f"VALUES ?k {{ {keys} }} ?s {_named(key)} ?k ; ?p ?o }} }}"] if keys else []
        return self._rewrite(graph, deletes, triples)

    def _rewrite(self, graph: ox.NamedNode, deletes: list[str], triples: Iterable[Any]) -> int:
        """One UPDATE: `deletes`, then `triples` added to `graph`, its modified stamp renewed."""
        body = _triples_text(triples, graph)   # built before anything is written
        ops = deletes + [
            f"DELETE WHERE {{ GRAPH {_CATALOG} {{ {graph} {_MODIFIED} ?m }} }}",
            f"INSERT DATA {{ GRAPH {graph} {{\n{body}}}\n"
            f"GRAPH {_CATALOG} {{ {graph} {_MODIFIED} {_now()} }} }}"]
        with self._lock:
            self._update(" ;\n".join(ops))
        return body.count("\n")

    def remove_document(self, source_file_or_graph_iri: str) -> bool:
        """Remove a document (by its source file, or by its graph IRI) and its catalog record.

        By source file: the graph is dropped unless another source file still refers to it (two
        files with identical content share one graph), in which case only this file's record
        goes. By graph IRI: the graph and its whole record go. Returns whether anything was
        removed.
        """
        key = source_file_or_graph_iri
        with self._lock:
            catalog = self.catalog()
            ops: list[str] = []
            by_source = [g for g, rec in catalog.items() if key in rec["source_files"]]
            if by_source:
                for g in by_source:
                    ops += _drop_source_ops(g, key, catalog[g]["source_files"])
            elif key in catalog or self._has_graph(key):
                g = _named(key)
                ops += [f"DROP SILENT GRAPH {g}",
                        f"DELETE WHERE {{ GRAPH {_CATALOG} {{ {g} ?p ?o }} }}"]
            if not ops:
                return False
            self._update(" ;\n".join(ops))
            return True

    def remove_orphans(self) -> list[str]:
        """Drop the graphs that `orphan_graphs` reports; returns their IRIs."""
        with self._lock:
            orphans = self.orphan_graphs()
            ops = [f"DROP SILENT GRAPH {_named(g)}" for g in orphans]
            ops.append(f"DELETE WHERE {{ GRAPH {_CATALOG} {{ {_CATALOG} {_BULK_LOADING} ?t }} }}")
            self._update(" ;\n".join(ops))
            return orphans

    def _bulk_load_interrupted(self) -> bool:
        return any(True for _ in self._ox.quads_for_pattern(_CATALOG, _BULK_LOADING, None, _CATALOG))

    def clear(self) -> None:
        """Remove everything, catalog included."""
        with self._lock:
            self._update("DROP ALL")

    # ------------------------------------------------------------------ reading

    def graphs(self, include_catalog: bool = False) -> list[str]:
        """IRIs of the named graphs, sorted (the catalog graph only if asked for)."""
        names = [g.value for g in self.read(lambda o: list(o.named_graphs()))
                 if isinstance(g, ox.NamedNode)]
        if not include_catalog:
            names = [g for g in names if g != CATALOG_GRAPH]
        return sorted(names)

    def triple_count(self, graph: str | None = None) -> int:
        """Triples in one named graph, or quads in the whole store (all graphs, catalog too)."""
        if graph is None:
            return self.read(len)
        g = _named(graph)
        return self.read(lambda o: sum(1 for _ in o.quads_for_pattern(None, None, None, g)))

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """An iterator over the quads of one graph or the whole store (lazy: no retry)."""
        g = None if graph is None else _named(graph)
        return self._ox.quads_for_pattern(None, None, None, g)

    def read(self, fn: Callable[[ox.Store], T]) -> T:
        """`fn(pyoxigraph store)`, for reads that must materialize their result inside `fn`.

        On a read-only store opened while another process writes, the writer's compactions can
        delete table files the snapshot has not opened yet; the read then fails with "No such
        file or directory" (a few percent of reads under heavy churn in our stress test). Reads
        are side-effect free, so we reopen a fresh snapshot and run `fn` again. (So two reads
        of a read-only store may see different snapshots while a writer is active; what must be
        consistent has to be read in one `fn`.)
        """
        for attempt in range(_READ_ATTEMPTS):
            try:
                return fn(self._ox)
            except (OSError, RuntimeError) as e:
                if not (self.read_only and self.path is not None and _vanished_file(e)):
                    raise
                if attempt == _READ_ATTEMPTS - 1:
                    raise StoreError(f"store {self.path} kept changing under a writing process "
                                     f"while reading; try again when it is done") from e
                self.reopen()
        raise AssertionError("unreachable")

    def reopen(self) -> None:
        """A read-only store: take a fresh snapshot (to see what a writer added since)."""
        if not self.read_only or self.path is None:
            return
        self.ox = None  # type: ignore[assignment]   # drop the old handle first
        self._snapshot_cache.clear()
        self.ox = _open_read_only(self.path)

    def per_snapshot(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()`, kept while this read-only store shows the same snapshot (until
        `reopen`): for what a server or notebook derives from the whole store again and again,
        such as the audit's requirement sets. A writable store can change under the caller, so
        there it is computed every time. Callers must not mutate what it returns."""
        if not self.read_only or self.path is None:
            return compute()
        if key not in self._snapshot_cache:
            self._snapshot_cache[key] = compute()
        return self._snapshot_cache[key]

    def flush(self) -> None:
        """Make sure all writes are on disk (pyoxigraph flushes in the background anyway)."""
        if not self.read_only:
            self._ox.flush()

    def optimize(self) -> None:
        """Compact the database; worth it after a big build."""
        if not self.read_only:
            self._ox.optimize()

    def backup(self, target_directory: str | os.PathLike[str]) -> None:
        """A consistent copy of an on-disk store (hard links where possible)."""
        self._ox.backup(str(target_directory))

    def export(self, out: str | os.PathLike[str] | IO[bytes], format: str = "trig",
               graph: str | None = None) -> None:
        """Write the store, or one graph, to a path or binary stream.

        format: turtle | trig | nquads | ntriples | jsonld.
        - trig, nquads, jsonld keep graph names; without `graph` they write the whole dataset
          (catalog included, so a dump can be loaded back as it was).
        - turtle, ntriples have no graphs: with `graph` they write that graph's triples; without
          it they write the UNION of all graphs' triples (default graph and catalog included,
          each distinct triple once): which document said what is lost.
        """
        if format not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {format!r}; "
                             f"one of {', '.join(EXPORT_FORMATS)}")
        fmt = EXPORT_FORMATS[format]
        target = os.fspath(out) if isinstance(out, (str, os.PathLike)) else out
        prefixes = PREFIXES if format in ("turtle", "trig") else None
        if graph is not None:
            g = _named(graph)
            if format in _DATASET_FORMATS:
                ox.serialize(self._ox.quads_for_pattern(None, None, None, g), target, fmt,
                             prefixes=prefixes)
            else:
                self._ox.dump(target, fmt, from_graph=g, prefixes=prefixes)
        elif format in _DATASET_FORMATS:
            self._ox.dump(target, fmt, prefixes=prefixes)
        else:
            union = self._ox.query(
                "CONSTRUCT { ?s ?p ?o } WHERE { SELECT DISTINCT ?s ?p ?o WHERE "
                "{ { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } } }")
            ox.serialize(union, target, fmt, prefixes=prefixes)

    # ------------------------------------------------------------------ internals

    @property
    def _ox(self) -> ox.Store:
        if self.ox is None:
            raise StoreError("the store is closed")
        return self.ox

    def _has_graph(self, iri: str) -> bool:
        try:
            return self._ox.contains_named_graph(_named(iri))
        except ValueError:
            return False

    def _update(self, sparql: str) -> None:
        if self.read_only:
            raise StoreError("the store is open read-only")
        self._ox.update(sparql)

    def _replace_many(self, docs: list[DocumentGraph]) -> int:
        """One UPDATE request (= one transaction) replacing all `docs`."""
        if not docs:
            return 0
        # Serialize everything first: nothing is written if an input iterator raises.
        bodies = [_triples_text(d.triples, _named(d.graph_iri)) for d in docs]
        now = _now()
        with self._lock:
            previous = self._graphs_of(d.source_file for d in docs)
            ops: list[str] = []
            inserts: list[str] = []
            for doc, body in zip(docs, bodies):
                g = _named(doc.graph_iri)
                for old, files in previous.items():
                    if old != doc.graph_iri and doc.source_file in files:
                        ops += _drop_source_ops(_named(old), doc.source_file, files)
                # The new graph may exist already (same content rewritten, or another file with
                # the same content): rewrite it whole, keep the other files' records.
                ops.append(f"DROP SILENT GRAPH {g}")
                ops.append(f"DELETE WHERE {{ GRAPH {_CATALOG} {{ {g} {_CONTENT_HASH} ?h }} }}")
                ops.append(f"DELETE WHERE {{ GRAPH {_CATALOG} {{ {g} {_MODIFIED} ?m }} }}")
                inserts.append(f"GRAPH {g} {{\n{body}}}")
                inserts.append(
                    f"GRAPH {_CATALOG} {{ {g} {_SOURCE_FILE} {ox.Literal(doc.source_file)} ; "
                    f"{_CONTENT_HASH} {ox.Literal(doc.content_hash)} ; {_MODIFIED} {now} }}")
            ops.append("INSERT DATA {\n" + "\n".join(inserts) + "\n}")
            self._update(" ;\n".join(ops))
        return sum(b.count("\n") for b in bodies)

    def _bulk_replace(self, docs: Iterable[DocumentGraph]) -> int:
        """Stream `docs` through ONE call of pyoxigraph's bulk loader, then write their catalog.

        One call for the whole stream, not one per batch: the loader sorts ~1M quads at a time
        and builds their table files in its own threads while this thread (or the workers
        feeding it) computes the next documents, and its compressed files are kept as they
        are. At 10,000 documents, against calls of 100k quads: 70 s instead of 80, a store of
        9–10× the input instead of 15–16×, for ~1.3 GB resident instead of ~0.3 (the loader's
        batches; they do not grow with the corpus).

        A document whose graph exists already (the same content rewritten) or comes twice is
        not bulk-loaded, since the loader can only add: it is written atomically after the load.
        The graphs these documents replace are dropped after the load, with the catalog write:
        an interrupted load leaves the store as it was, plus graphs the catalog does not know.
        """
        if self.read_only:
            raise StoreError("the store is open read-only")
        with self._lock:
            present = {g.value for g in self._ox.named_graphs() if isinstance(g, ox.NamedNode)}
            self._update(f"INSERT DATA {{ GRAPH {_CATALOG} {{ {_CATALOG} {_BULK_LOADING} {_now()} }} }}")
            loaded: list[DocumentGraph] = []    # triples dropped: only the catalog is needed
            later: list[DocumentGraph] = []
            count = 0

            def wanted(stream: Iterator[DocumentGraph]) -> Iterator[DocumentGraph]:
                for doc in stream:
                    doc = doc if isinstance(doc, DocumentGraph) else DocumentGraph(*doc)
                    if doc.graph_iri in present:
                        later.append(doc)
                        continue
                    present.add(doc.graph_iri)
                    loaded.append(doc._replace(triples=()))
                    yield doc

            stream = wanted(iter(docs))
            first = next(stream, None)
            if first is not None and isinstance(first.triples, (bytes, bytearray)):
                # N-Quads from worker processes, parsed in Rust by the loader itself; written by
                # pyoxigraph's serializer, so not validated again (lenient: 115 → 106 s of CPU
                # for a 10,000-document build with 2 workers)
                def chunks() -> Iterator[bytes]:
                    nonlocal count
                    for doc in itertools.chain([first], stream):
                        data = doc.triples if isinstance(doc.triples, (bytes, bytearray)) \
                            else _nquads(doc.triples, _named(doc.graph_iri))
                        count += data.count(b"\n")
                        yield data
                reader = io.BufferedReader(_ChunkReader(chunks()), buffer_size=1 << 20)
                self._ox.bulk_load(reader, format=ox.RdfFormat.N_QUADS, lenient=True)
            elif first is not None:
                def quads() -> Iterator[ox.Quad]:
                    nonlocal count
                    for doc in itertools.chain([first], stream):
                        g = _named(doc.graph_iri)
                        for t in _triple_list(doc.triples) if isinstance(
                                doc.triples, (bytes, bytearray)) else doc.triples:
                            count += 1
                            # kg.rdf's quads are already in their graph: passed on as they are
                            if type(t) is ox.Quad and t.graph_name == g:
                                yield t
                            else:
                                s, p, o = _spo(t, g)
                                yield ox.Quad(s, p, o, g)
                self._ox.bulk_extend(quads())

            # The catalog last: a document is only "there" once its triples all are. A source
            # file given twice: the later document wins, as in the atomic path.
            final = {d.source_file: d for d in loaded}
            kept = {d.graph_iri for d in final.values()}
            ops: list[str] = [f"DROP SILENT GRAPH {_named(d.graph_iri)}" for d in loaded
                              if d.graph_iri not in kept]
            previous = self._graphs_of(final)
            now = _now()
            records: list[str] = []
            for doc in final.values():
                g = _named(doc.graph_iri)
                for old, files in previous.items():
                    if old != doc.graph_iri and doc.source_file in files:
                        ops += _drop_source_ops(_named(old), doc.source_file, files)
                records.append(f"{g} {_SOURCE_FILE} {ox.Literal(doc.source_file)} ; "
                               f"{_CONTENT_HASH} {ox.Literal(doc.content_hash)} ; {_MODIFIED} {now} .")
            ops.append(f"DELETE WHERE {{ GRAPH {_CATALOG} {{ {_CATALOG} {_BULK_LOADING} ?t }} }}")
            if records:
                ops.append("INSERT DATA { GRAPH " + str(_CATALOG) + " {\n"
                           + "\n".join(records) + "\n} }")
            self._update(" ;\n".join(ops))
        for doc in later:
            count += self._replace_many([doc._replace(triples=_triple_list(doc.triples))])
        return count


class _ChunkReader(io.RawIOBase):
    """A binary stream reading the concatenation of an iterator of bytes, as it is produced."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


# ---------------------------------------------------------------------- helpers

def _open_read_only(path: Path, attempts: int = 20) -> ox.Store:
    """`pyoxigraph.Store.read_only`, retried while a concurrent writer moves files.

    Opening reads RocksDB's MANIFEST and then the table files it lists; a writer's background
    flush or compaction can delete one of them in between, and the open fails with "Corruption:
    … No such file or directory" (seen in tests, a few percent of opens right after a write).
    The manifest has moved on by then, so opening again succeeds. Once open, the snapshot keeps
    its files open and later deletions do not affect it.
    """
    for attempt in range(attempts):
        try:
            return ox.Store.read_only(str(path))
        except (OSError, RuntimeError) as e:
            if not _vanished_file(e) or attempt == attempts - 1:
                if isinstance(e, OSError):
                    raise
                raise StoreError(f"cannot open store {path} read-only: {e}") from e
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


def _vanished_file(e: BaseException) -> bool:
    """A RocksDB error meaning a table file went away under a read-only opener."""
    return "No such file" in str(e)


def _map_open_error(e: OSError, path: Path) -> StoreError:
    msg = str(e)
    # RocksDB: "IO error: While lock file: <dir>/LOCK: Resource temporarily unavailable" when
    # another process holds it, "lock hold by current process" for a second opener in this one.
    if "LOCK" in msg or "lock hold" in msg:
        return StoreLocked(f"store {path} is in use by another process (open read-only, or wait "
                           f"for the other process to finish)")
    return StoreError(f"cannot open store {path}: {msg}")


def _now() -> str:
    stamp = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    return str(ox.Literal(stamp, datatype=_XSD_DATETIME))


def _named(iri: str | ox.NamedNode) -> ox.NamedNode:
    """A NamedNode; pyoxigraph validates the IRI (ValueError if it is not one)."""
    return iri if isinstance(iri, ox.NamedNode) else ox.NamedNode(iri)


def _drop_source_ops(graph: ox.NamedNode | str, source_file: str,
                     sources_of_graph: list[str]) -> list[str]:
    """Operations that detach `source_file` from `graph`; drop the graph if nobody else uses it."""
    g = _named(graph)
    if any(s != source_file for s in sources_of_graph):
        return [f"DELETE DATA {{ GRAPH {_CATALOG} {{ {g} {_SOURCE_FILE} "
                f"{ox.Literal(source_file)} }} }}"]
    return [f"DROP SILENT GRAPH {g}",
            f"DELETE WHERE {{ GRAPH {_CATALOG} {{ {g} ?p ?o }} }}"]


def _triples_text(triples: Iterable[Any], graph: ox.NamedNode) -> str:
    """The triples as SPARQL/N-Triples statements, one per line.

    `str()` of a pyoxigraph term is its N-Triples form with correct escaping, which is also
    valid SPARQL; so no value can break out of the INSERT DATA block.
    """
    buf = io.StringIO()
    for t in triples:
        s, p, o = _spo(t, graph)
        buf.write(f"{s} {p} {o} .\n")
    return buf.getvalue()


def _nquads(triples: Iterable[Any], graph: ox.NamedNode) -> bytes:
    """The triples as N-Quads in `graph`."""
    return ox.serialize((ox.Quad(*_spo(t, graph), graph) for t in triples),
                        format=ox.RdfFormat.N_QUADS)


def _spo(t: Any, graph: ox.NamedNode) -> tuple[Term, ox.NamedNode, Term]:
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
