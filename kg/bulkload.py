"""Streaming documents into pyoxigraph's bulk loader (the non-transactional path of
`Store.replace_documents(bulk=True)`).

One loader call for the whole stream, not one per batch: the loader sorts ~1M quads at a time
and builds their table files in its own threads while this thread (or the workers feeding it)
computes the next documents, and its compressed files are kept as they are. At 10,000
documents, against calls of 100k quads: 70 s instead of 80, a store of 9–10× the input instead
of 15–16×, for ~1.3 GB resident instead of ~0.3 (the loader's batches; they do not grow with
the corpus).

The loader can only add: a document whose graph exists already (the same content rewritten) or
comes twice is set aside (`BulkPlan.later`) for the store to write atomically after the load.

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
"""
from __future__ import annotations

import io
import itertools
from typing import Iterable, Iterator

import pyoxigraph as ox

from kg.catalog import (BULK_LOADING, CATALOG, DocumentGraph, as_document, named, now_literal,
                        nquads, record_text, replaced_sources_ops, spo, triple_list)


class BulkPlan:
    """Which documents of a stream the loader takes, and which wait for the atomic path."""

    def __init__(self, present: set[str]):
        self.present = present               # graph IRIs in the store or loaded already
        self.loaded: list[DocumentGraph] = []   # triples dropped: only the catalog is needed
        self.later: list[DocumentGraph] = []

    def wanted(self, stream: Iterable[DocumentGraph | tuple]) -> Iterator[DocumentGraph]:
        for doc in stream:
            doc = as_document(doc)
            if doc.graph_iri in self.present:
                self.later.append(doc)
                continue
            self.present.add(doc.graph_iri)
            self.loaded.append(doc._replace(triples=()))
            yield doc


def bulk_load(oxstore: ox.Store, docs: Iterator[DocumentGraph]) -> int:
    """Load every document of `docs` into its graph in one loader call; the triples loaded."""
    first = next(docs, None)
    if first is None:
        return 0
    stream = itertools.chain([first], docs)
    if isinstance(first.triples, (bytes, bytearray)):
        # N-Quads from worker processes, parsed in Rust by the loader itself; written by
        # pyoxigraph's serializer, so not validated again (lenient: 115 → 106 s of CPU
        # for a 10,000-document build with 2 workers)
        counter = _NQuadsChunks(stream)
        reader = io.BufferedReader(_ChunkReader(iter(counter)), buffer_size=1 << 20)
        oxstore.bulk_load(reader, format=ox.RdfFormat.N_QUADS, lenient=True)
        return counter.count
    counted = _Quads(stream)
    oxstore.bulk_extend(iter(counted))
    return counted.count


def catalog_ops(loaded: list[DocumentGraph], final: dict[str, DocumentGraph],
                previous: dict[str, list[str]]) -> list[str]:
    """After a bulk load: drop the graphs the loaded documents replace, write their catalog
    records (a document is only "there" once its triples all are) and remove the load's mark.
    `final`: source file → its document (given twice, the later wins, as in the atomic path);
    `previous`: source file → the graphs the store held it in."""
    kept = {d.graph_iri for d in final.values()}
    ops: list[str] = [f"DROP SILENT GRAPH {named(d.graph_iri)}" for d in loaded
                      if d.graph_iri not in kept]
    now = now_literal()
    records: list[str] = []
    for doc in final.values():
        ops += replaced_sources_ops(doc, previous)
        records.append(record_text(doc, now) + " .")
    ops.append(f"DELETE WHERE {{ GRAPH {CATALOG} {{ {CATALOG} {BULK_LOADING} ?t }} }}")
    if records:
        ops.append("INSERT DATA { GRAPH " + str(CATALOG) + " {\n" + "\n".join(records) + "\n} }")
    return ops


class _NQuadsChunks:
    """The documents as N-Quads bytes, counting their lines."""

    def __init__(self, docs: Iterable[DocumentGraph]):
        self.docs = docs
        self.count = 0

    def __iter__(self) -> Iterator[bytes]:
        for doc in self.docs:
            data = doc.triples if isinstance(doc.triples, (bytes, bytearray)) \
                else nquads(doc.triples, named(doc.graph_iri))
            self.count += data.count(b"\n")
            yield data


class _Quads:
    """The documents as pyoxigraph quads in their graphs, counting them."""

    def __init__(self, docs: Iterable[DocumentGraph]):
        self.docs = docs
        self.count = 0

    def __iter__(self) -> Iterator[ox.Quad]:
        for doc in self.docs:
            g = named(doc.graph_iri)
            triples = triple_list(doc.triples) if isinstance(doc.triples, (bytes, bytearray)) \
                else doc.triples
            for t in triples:
                self.count += 1
                # kg.rdf's quads are already in their graph: passed on as they are
                if type(t) is ox.Quad and t.graph_name == g:
                    yield t
                else:
                    s, p, o = spo(t, g)
                    yield ox.Quad(s, p, o, g)


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
