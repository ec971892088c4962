"""The RDF store: Oxigraph (pyoxigraph) on disk or in memory.

Layout of the data (kg.catalog): every document lives in its own named graph, whose IRI the
caller derives from the content; the catalog graph says, for each document graph, which source
file it came from, that file's content hash, and when it was written. Other graphs written
through `replace_graph` (ontology, audit records) get only `cat:modified`, so that every graph
the project wrote is in the catalog and a graph that is not (`orphan_graphs`) is the leftover of
an interrupted bulk load (dropped at the next read-write open, which finds the load's
`cat:bulkLoading` mark).

Atomicity. Replacing a document must remove its old graph (found through the catalog; its IRI
differs when the content changed), insert the new one and update the catalog, all or nothing.
pyoxigraph 0.5 has no transaction object in Python, but every `Store.update()` call — one SPARQL
UPDATE request, however many operations it has — is a single RocksDB transaction. So a
replacement is one request: `DROP SILENT GRAPH <old> ; DELETE … catalog ; INSERT DATA { GRAPH
<new> {…} GRAPH <catalog> {…} }`, built completely in memory before it is sent (an input
iterator that fails midway therefore writes nothing). `Store.extend()`/`load()` are
transactional too but can only add; `bulk_extend()`/`bulk_load()` are not transactional.

The atomic path is the default of `replace_documents`; `bulk=True` is for filling a store that
holds nothing yet to lose (kg.build chooses it for a store without documents), where the loader's
~4× matters (measurements in kg.bulkload): an interrupted load is dropped at the next read-write
open and simply run again.

Blank nodes: one written through SPARQL `INSERT DATA` gets a fresh identity on every write, so
a document with blank nodes is only isomorphic after a rewrite (kg.rdf names everything by IRI).

Concurrency: one read-write opener per store directory (RocksDB's LOCK file); a second one gets
`StoreLocked`. A read-only opener sees a static snapshot, retried when a writer moves its files
(kg.storefiles); `reopen()` takes a newer one.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence, TypeVar

import pyoxigraph as ox

from kg import collector
from kg.binding import run_bound, sort_terms, split_order_by, unshift_positions
from kg.bulkload import BulkPlan, bulk_load, catalog_ops
from kg.catalog import (BULK_LOADING, CATALOG, CATALOG_NS, CONTENT_HASH, MODIFIED, SOURCE_FILE,
                        DocumentGraph, as_document, catalog_records, drop_graph_ops,
                        drop_source_ops, named, now_literal, record_text, replaced_sources_ops,
                        spo, stale_record_ops, update_batches, to_oxigraph, triple_list,
                        triples_text)
from kg.graphstore import GraphStore, StoreError, StoreLocked
from kg.namespaces import CATALOG_GRAPH, PREFIXES, with_prolog
from kg.results import QueryError, Result
from kg.storefiles import (EXPORT_FORMATS, compact_if_room, export, map_open_error, open_read_only,
                          vanished_file, writing)

# Importable from here as before the store layer was split: CATALOG_NS, DocumentGraph,
# EXPORT_FORMATS, StoreLocked, to_oxigraph.

DEFAULT_STORE = ".kg/store"
STORE_ENV = "KG_STORE"

# What a reference graph (ontology, places) states about itself, so a build can tell it changed.
HAS_CONTENT_HASH = ox.NamedNode(PREFIXES["kg"] + "contentHash")

_READ_ATTEMPTS = 5
T = TypeVar("T")

# Aim for this many triples per UPDATE request in replace_documents: big enough to amortize the
# per-request cost, small enough that the request text (~100 bytes a triple) stays modest.
BATCH_TRIPLES = 20_000
# replace_documents flushes the write buffers after writing at least this many triples
FLUSH_TRIPLES = 50_000


def default_store_path() -> Path:
    """`$KG_STORE`, else `.kg/store` under the current directory."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


_DEFAULT = object()   # sentinel: "use default_store_path()", as opposed to None = in memory


class Store(GraphStore):
    """A pyoxigraph store plus the document catalog. Use `Store.open()`; a context manager."""

    def __init__(self, oxstore: ox.Store, path: Path | None, read_only: bool):
        self.ox = oxstore              # the raw pyoxigraph store, for queries (kg.query)
        self.path = path
        self.read_only = read_only
        # One writer per process is guaranteed by RocksDB's lock; this lock keeps threads of the
        # writing process from interleaving the catalog look-up and the update that relies on it.
        self._lock = threading.RLock()
        self._snapshot_cache: dict[str, Any] = {}
        self._bulk_loaded = False       # a bulk load wrote through this handle, not yet compacted

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
                oxstore = open_read_only(path)
            else:
                # pyoxigraph creates the directory but not its parents (.kg/ for .kg/store).
                path.parent.mkdir(parents=True, exist_ok=True)
                oxstore = ox.Store(str(path))
        except OSError as e:
            raise map_open_error(e, path) from e
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
        # not flushed: what was written is in the write-ahead log, which the next opening
        # (read-only too) reads; a flush here cost ~2 s of adding one document to 10,000
        self.ox = None  # type: ignore[assignment]
        # The RocksDB handle (and LOCK) goes away when the last reference does; CPython frees it
        # right here unless the caller kept query iterators alive.

    def __repr__(self) -> str:
        where = str(self.path) if self.path else "memory"
        return f"<kg.Store {where}{' read-only' if self.read_only else ''}>"

    # ------------------------------------------------------------------ catalog

    def catalog(self) -> dict[str, dict[str, Any]]:
        """All catalog records: graph IRI → {"source_files": [...], "content_hash", "modified"}."""
        quads = self.read(lambda o: list(o.quads_for_pattern(None, None, None, CATALOG)))
        return catalog_records((q.subject, q.predicate, q.object) for q in quads)

    def document_hashes(self) -> dict[str, tuple[str, str]]:
        """source file → (graph IRI, content hash), for every document in the catalog.

        Reads only those two properties' quads (what every build starts with; at 10,000
        documents the catalog's third, the dates, costs as much again)."""
        def read(o: ox.Store):
            hashes = {q.subject.value: q.object.value
                      for q in o.quads_for_pattern(None, CONTENT_HASH, None, CATALOG)}
            return {q.object.value: (q.subject.value, hashes.get(q.subject.value))
                    for q in o.quads_for_pattern(None, SOURCE_FILE, None, CATALOG)}
        return self.read(read)

    def _graphs_of(self, source_files: Iterable[str]) -> dict[str, list[str]]:
        """graph IRI → all its source files, for the graphs holding any of `source_files`:
        index look-ups, so a batch costs the same in a store of ten or ten thousand documents."""
        out: dict[str, list[str]] = {}
        o = self._ox
        for f in source_files:
            for q in o.quads_for_pattern(None, SOURCE_FILE, ox.Literal(f), CATALOG):
                g = q.subject
                if isinstance(g, ox.NamedNode) and g.value not in out:
                    out[g.value] = [r.object.value for r in
                                    o.quads_for_pattern(g, SOURCE_FILE, None, CATALOG)]
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
        docs = (as_document(d) for d in batch)
        if bulk:
            return self._bulk_replace(docs)
        total = sum(self._replace_many(request) for request in update_batches(docs, BATCH_TRIPLES))
        # RocksDB keeps what transactions wrote in memory (a write buffer per index) until
        # its buffers fill: ~0.5 MB of resident memory per document, 2.3 GB at 10,000
        # documents written this way. Flushed to disk after a call that wrote many, it stays
        # under 400 MB for about the same time. A few documents are left in the buffers (and
        # the write-ahead log): a flush writes a file per index, ~2 s on a slow disk, most of
        # adding one document to a store of 10,000.
        if total >= FLUSH_TRIPLES:
            with self._lock, writing(self.path):
                self._ox.flush()
        return total

    def replace_graph(self, graph_iri: str, triples: Iterable[Any]) -> int:
        """Atomically replace a non-document graph (ontology, audit records) with `triples`."""
        graph = named(graph_iri)
        return self._rewrite(graph, [f"DROP SILENT GRAPH {graph}"], triples)

    def replace_subjects(self, graph_iri: str, key: str | None, values: Iterable[Any],
                         triples: Iterable[Any]) -> int:
        """Atomically, in one graph: remove every subject that has `key` (a property IRI) with
        one of `values` (`key=None`: the subjects `values`), with all its triples, and add
        `triples`. The rest of the graph stays. For records keyed by what they describe (the
        audit records of some regions, the matrix cells of some localities): the cost follows
        the records replaced, not the size of the graph."""
        graph = named(graph_iri)
        keys = " ".join(str(to_oxigraph(v)) for v in values)
        subjects = (f"VALUES ?s {{ {keys} }}" if key is None
                    else f"VALUES ?k {{ {keys} }} ?s {named(key)} ?k .")
        deletes = [f"DELETE {{ GRAPH {graph} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {graph} {{ "
                   f"{subjects} ?s ?p ?o }} }}"] if keys else []
        return self._rewrite(graph, deletes, triples)

    def add_triples(self, graph_iri: str, triples: Iterable[Any]) -> int:
        """Through pyoxigraph's bulk loader, not atomic: at 10,000 documents the 100,755 matrix
        cells take ~0.6 s instead of ~5 s in one UPDATE (the parse and the transaction). A
        write that stops half-way leaves part of `triples`; the caller's own mark must say so."""
        if self.read_only:
            raise StoreError("the store is open read-only")
        graph = named(graph_iri)
        quads = [ox.Quad(*spo(t, graph), graph) for t in triples]
        with self._lock, writing(self.path, loading=True):
            self._ox.bulk_extend(quads)
        return len(quads)

    def _rewrite(self, graph: ox.NamedNode, deletes: list[str], triples: Iterable[Any]) -> int:
        """One UPDATE: `deletes`, then `triples` added to `graph`, its modified stamp renewed."""
        body = triples_text(triples, graph)   # built before anything is written
        ops = deletes + [
            f"DELETE WHERE {{ GRAPH {CATALOG} {{ {graph} {MODIFIED} ?m }} }}",
            f"INSERT DATA {{ GRAPH {graph} {{\n{body}}}\n"
            f"GRAPH {CATALOG} {{ {graph} {MODIFIED} {now_literal()} }} }}"]
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
                    ops += drop_source_ops(g, key, catalog[g]["source_files"])
            elif key in catalog or self._has_graph(key):
                ops += drop_graph_ops(key)
            if not ops:
                return False
            self._update(" ;\n".join(ops))
            return True

    def remove_orphans(self) -> list[str]:
        """Drop the graphs that `orphan_graphs` reports; returns their IRIs."""
        with self._lock:
            orphans = self.orphan_graphs()
            ops = [f"DROP SILENT GRAPH {named(g)}" for g in orphans]
            ops.append(f"DELETE WHERE {{ GRAPH {CATALOG} {{ {CATALOG} {BULK_LOADING} ?t }} }}")
            self._update(" ;\n".join(ops))
            return orphans

    def _bulk_load_interrupted(self) -> bool:
        return any(True for _ in self._ox.quads_for_pattern(CATALOG, BULK_LOADING, None, CATALOG))

    def clear(self) -> None:
        """Remove everything, catalog included."""
        with self._lock:
            self._update("DROP ALL")

    # ------------------------------------------------------------------ reading

    def query(self, sparql: str, bindings: Optional[Mapping[str, Any]] = None, *,
              union_default_graph: bool = False) -> Result:
        """Run `sparql` with `bindings` substituted by pyoxigraph (see kg.binding), in one
        (retried) read; materialized before it returns."""
        bindings = dict(bindings or {})
        # Oxigraph sorts by looking up the text of every compared term in the store, per
        # comparison (seconds for some ten thousand rows); rows ordered by plain variables are
        # sorted here instead, by the same SPARQL order, from the query without its ORDER BY.
        split = split_order_by(sparql)

        def run(oxstore: ox.Store) -> Result:
            if split is not None:
                unordered, keys = split
                result = run_bound(oxstore, unordered, bindings, union_default_graph)
                if result.kind == "select" and sort_terms(result.terms, result.vars, keys):
                    return result
            return run_bound(oxstore, sparql, bindings, union_default_graph)

        try:
            with collector.paused():    # the rows and their sort keys hold no cycles
                return self.read(run)
        except SyntaxError as e:
            message = unshift_positions(str(e), with_prolog(sparql), sparql)
            raise QueryError(f"SPARQL syntax error: {message}") from e

    def graph_hash(self, graph_iri: str) -> str | None:
        g = named(graph_iri)
        for q in self.read(lambda o: list(o.quads_for_pattern(g, HAS_CONTENT_HASH, None, g))):
            return q.object.value
        return None

    def subject_values(self, graph_of: Mapping[str, str], predicate: str, sparql: str = "",
                       names: Sequence[str] = ()) -> list[tuple]:
        """By index look-ups (~40% faster than the same through SPARQL); `sparql` is not needed."""
        p = ox.NamedNode(predicate)

        def read(o: ox.Store) -> list:
            return [(s, q.object.value) for s, g in graph_of.items()
                    for q in o.quads_for_pattern(ox.NamedNode(s), p, None, ox.NamedNode(g))]
        return self.read(read)

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
        g = named(graph)
        return self.read(lambda o: sum(1 for _ in o.quads_for_pattern(None, None, None, g)))

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """An iterator over the quads of one graph or the whole store (lazy: no retry)."""
        g = None if graph is None else named(graph)
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
                if not (self.read_only and self.path is not None and vanished_file(e)):
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
        self.ox = open_read_only(self.path)

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

    def compact_after_load(self) -> bool:
        """Compact the store if a bulk load wrote through this handle, where the file system
        has room (kg.storefiles.compact_if_room says why); True if it did."""
        loaded, self._bulk_loaded = self._bulk_loaded, False
        return bool(loaded and self.path is not None and compact_if_room(self._ox, self.path))

    def backup(self, target_directory: str | os.PathLike[str]) -> None:
        """A consistent copy of an on-disk store (hard links where possible)."""
        self._ox.backup(str(target_directory))

    def export(self, out: str | os.PathLike[str] | IO[bytes], format: str = "trig",
               graph: str | None = None) -> None:
        """Write the store, or one graph, to a path or binary stream (kg.storefiles.export)."""
        export(self._ox, out, format, graph)

    # ------------------------------------------------------------------ internals

    @property
    def _ox(self) -> ox.Store:
        if self.ox is None:
            raise StoreError("the store is closed")
        return self.ox

    def _has_graph(self, iri: str) -> bool:
        try:
            return self._ox.contains_named_graph(named(iri))
        except ValueError:
            return False

    def _update(self, sparql: str) -> None:
        if self.read_only:
            raise StoreError("the store is open read-only")
        with writing(self.path):
            self._ox.update(sparql)

    def _replace_many(self, docs: list[DocumentGraph]) -> int:
        """One UPDATE request (= one transaction) replacing all `docs`."""
        if not docs:
            return 0
        # Serialize everything first: nothing is written if an input iterator raises.
        bodies = [triples_text(d.triples, named(d.graph_iri)) for d in docs]
        now = now_literal()
        with self._lock:
            previous = self._graphs_of(d.source_file for d in docs)
            ops: list[str] = []
            inserts: list[str] = []
            for doc, body in zip(docs, bodies):
                g = named(doc.graph_iri)
                ops += replaced_sources_ops(doc, previous)
                # The new graph may exist already (same content rewritten, or another file with
                # the same content): rewrite it whole, keep the other files' records.
                ops.append(f"DROP SILENT GRAPH {g}")
                ops += stale_record_ops(g)
                inserts.append(f"GRAPH {g} {{\n{body}}}")
                inserts.append(f"GRAPH {CATALOG} {{ {record_text(doc, now)} }}")
            ops.append("INSERT DATA {\n" + "\n".join(inserts) + "\n}")
            self._update(" ;\n".join(ops))
        return sum(b.count("\n") for b in bodies)

    def _bulk_replace(self, docs: Iterable[DocumentGraph]) -> int:
        """Stream `docs` through ONE call of pyoxigraph's bulk loader (kg.bulkload), then write
        their catalog.

        A document whose graph exists already (the same content rewritten) or comes twice is
        not bulk-loaded, since the loader can only add: it is written atomically after the load.
        The graphs these documents replace are dropped after the load, with the catalog write:
        an interrupted load leaves the store as it was, plus graphs the catalog does not know.
        """
        if self.read_only:
            raise StoreError("the store is open read-only")
        with self._lock, writing(self.path, loading=True):
            present = {g.value for g in self._ox.named_graphs() if isinstance(g, ox.NamedNode)}
            self._update(f"INSERT DATA {{ GRAPH {CATALOG} {{ {CATALOG} {BULK_LOADING} {now_literal()} }} }}")
            plan = BulkPlan(present)
            count = bulk_load(self._ox, plan.wanted(docs))
            self._bulk_loaded = True
            final = {d.source_file: d for d in plan.loaded}
            self._update(" ;\n".join(catalog_ops(plan.loaded, final, self._graphs_of(final))))
        for doc in plan.later:
            count += self._replace_many([doc._replace(triples=triple_list(doc.triples))])
        return count
