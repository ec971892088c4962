"""One interface to the project's graphs, whatever holds them.

`GraphStore` lists what the build, the named queries, the audit and the graph view ask of a
store. Two classes implement it, with the same layout of graphs and catalog (kg.catalog): the
embedded Oxigraph store (kg.store.Store) and a SPARQL 1.1 server over HTTP
(kg.remote.RemoteStore) — as rdflib's `SPARQLStore` implements its abstract `Store`. Callers
ask the store, never which kind it is; where the two differ in how they answer (an index
look-up or a query, a snapshot to keep or none), the method says so.
"""
from __future__ import annotations

import abc
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, TypeVar

import pyoxigraph as ox

from kg.binding import bind_table
from kg.catalog import DocumentGraph, hashes_of
from kg.errors import KgError
from kg.results import Result

T = TypeVar("T")

# Subjects per request when a store without an index to look in is asked `subject_values`
# (a VALUES table of this many rows).
LOOKUP_BATCH = 2_000


class StoreError(KgError):
    """A store could not be opened or used; the message is meant for the user."""


class StoreLocked(StoreError):
    """Another process (or another Store object in this one) holds the store open read-write."""


class GraphStore(abc.ABC):
    """A store of document graphs and their catalog; a context manager."""

    # ------------------------------------------------------------------ reading

    @abc.abstractmethod
    def query(self, sparql: str, bindings: Optional[Mapping[str, Any]] = None, *,
              union_default_graph: bool = False) -> Result:
        """Run `sparql` (the project's prefixes predeclared) with `bindings` (variable name →
        pyoxigraph term). `union_default_graph=True` makes the default graph the union of all
        graphs (documents live in named graphs). Raises QueryError (kg.results), whose
        positions refer to `sparql` as given."""

    @abc.abstractmethod
    def catalog(self) -> dict[str, dict[str, Any]]:
        """All catalog records: graph IRI → {"source_files": [...], "content_hash", "modified"}."""

    def document_hashes(self) -> dict[str, tuple[str, str]]:
        """source file → (graph IRI, content hash), for every document in the catalog."""
        return hashes_of(self.catalog())

    @abc.abstractmethod
    def graphs(self, include_catalog: bool = False) -> list[str]:
        """IRIs of the named graphs, sorted (the catalog graph only if asked for)."""

    @abc.abstractmethod
    def triple_count(self, graph: str | None = None) -> int:
        """Triples in one named graph, or in all graphs (catalog included)."""

    @abc.abstractmethod
    def graph_hash(self, graph_iri: str) -> str | None:
        """The kg:contentHash a graph states about itself (the ontology and places graphs do,
        so a build rewrites them only when they changed), or None."""

    def subject_values(self, graph_of: Mapping[str, str], predicate: str, sparql: str,
                       names: Sequence[str]) -> list[tuple]:
        """(subject, value) for each subject IRI in `graph_of` and each value it has of
        `predicate` in its graph `graph_of[subject]`.

        `sparql` asks the same: a named query of the variables `names` (graph, subject) whose
        rows are (subject, value). A store with an index to look in may answer without it; this
        one binds it to VALUES tables of LOOKUP_BATCH subjects."""
        return self.query_table(sparql, names, [(ox.NamedNode(graph_of[s]), ox.NamedNode(s))
                                                for s in sorted(graph_of)])

    def query_table(self, sparql: str, names: Sequence[str], table: Sequence[Sequence[Any]], *,
                    union_default_graph: bool = False) -> list[tuple]:
        """The rows of `sparql` asked of each row of `table` (pyoxigraph terms of the variables
        `names`), LOOKUP_BATCH rows to a request's VALUES table."""
        out: list[tuple] = []
        for i in range(0, len(table), LOOKUP_BATCH):
            out += self.query(bind_table(sparql, names, table[i:i + LOOKUP_BATCH]),
                              union_default_graph=union_default_graph).rows
        return out

    def compact_after_load(self) -> bool:
        """Reorganize what the store's bulk path wrote, where that makes reading faster; True if
        it did. A store that keeps itself in order does nothing."""
        return False

    def per_snapshot(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()`, kept while the store shows the same snapshot, where it has snapshots
        (a read-only embedded store); computed every time by a store that can change under the
        caller. Callers must not mutate what it returns."""
        return compute()

    # ------------------------------------------------------------------ writing

    @abc.abstractmethod
    def replace_documents(self, batch: Iterable[DocumentGraph | tuple], *,
                          bulk: bool = False) -> int:
        """Make each document's graph hold exactly its triples, drop the graphs the documents'
        source files had before, and write their catalog records. `bulk=True`: the caller has
        nothing in the store to lose (see each store for what it changes). Returns the number
        of triples written."""

    def replace_document(self, graph_iri: str, triples: Iterable[Any], *, source_file: str,
                         content_hash: str) -> int:
        """`replace_documents` of one document."""
        return self.replace_documents([DocumentGraph(graph_iri, triples, source_file, content_hash)])

    @abc.abstractmethod
    def replace_graph(self, graph_iri: str, triples: Iterable[Any]) -> int:
        """Replace a non-document graph (ontology, places, audit records) with `triples` and note
        it in the catalog with `cat:modified`. Returns the triples written."""

    @abc.abstractmethod
    def replace_subjects(self, graph_iri: str, key: str | None, values: Iterable[Any],
                         triples: Iterable[Any]) -> int:
        """In one graph: remove every subject that has `key` (a property IRI) with one of
        `values` (`key=None`: the subjects `values`), with all its triples, and add `triples`.
        The rest of the graph stays."""

    def add_triples(self, graph_iri: str, triples: Iterable[Any]) -> int:
        """Add `triples` to a graph (nothing removed, no catalog stamp): atomically here; the
        embedded store may take a faster path that is not atomic, so callers must be able to tell
        an interrupted write (kg.summary: its pending mark). Returns the triples written."""
        return self.replace_subjects(graph_iri, None, (), triples)

    @abc.abstractmethod
    def remove_document(self, source_file_or_graph_iri: str) -> bool:
        """Remove a document (by its source file, or by its graph IRI) and its catalog record;
        a graph another source file still uses stays. Returns whether anything was removed."""

    def remove_orphans(self) -> list[str]:
        """Drop graphs the catalog does not know, left by an interrupted bulk load; their IRIs."""
        return []

    def unwritable_reason(self) -> str | None:
        """Why this store takes no writes at all (a query-only service), or None."""
        return None

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Release what the store holds (a lock, a connection)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
