"""Files → the store: one atomic named graph per document, plus the ontology and places graphs.

A document is skipped when its file's bytes hash as in the catalog, so a rebuild of an
unchanged corpus reads each file once and writes nothing. A file that fails is reported
with its reason and the build goes on; a document's graph is written in one transaction,
so a build that dies midway leaves every document either as it was or as it is now. A full
disk stops the build at once (every later write would fail too), and its report counts the
documents the catalog then holds: those were committed, and the next build finds them unchanged.
"""
from __future__ import annotations

import collections
import functools
import hashlib
import itertools
import os
import time
from dataclasses import dataclass, field

import pyoxigraph as ox
from pyoxigraph import Literal, NamedNode

from . import ontology, pipeline, places, rdf, read, summary
from .catalog import DocumentGraph, file_hash, source_key
from .errors import one_line
from .graphstore import GraphStore, StoreError
from .storefiles import NoSpace

# source_key and file_hash are the catalog's (kg.catalog), importable from here as before.
__all__ = ["BuildReport", "build", "document_graph", "ensure_reference_graphs", "file_hash",
           "reference_graphs", "source_key"]

# A build's report counts the store's triples only up to this many documents in it (~0.2 s)
COUNT_TRIPLES_UP_TO = 1_000


@dataclass
class BuildReport:
    built: list = field(default_factory=list)        # source files written
    unchanged: list = field(default_factory=list)    # source files skipped (same bytes)
    failed: list = field(default_factory=list)       # (source file, reason)
    duplicates: list = field(default_factory=list)   # (source file, the file with the same content)
    triples_written: int = 0
    triples_total: int | None = 0    # None: not counted (nothing written, or a large store)
    documents_total: int = 0
    seconds: float = 0.0
    notes: list = field(default_factory=list)        # what the build did differently, and why
    stopped: str | None = None       # why the build stopped before writing every document

    @property
    def ok(self) -> bool:
        return not self.failed and not self.stopped

    def summary(self) -> str:
        triples = "" if self.triples_total is None else f" and {self.triples_total} triples"
        lines = [f"{len(self.built)} document(s) built, {len(self.unchanged)} unchanged, "
                 f"{len(self.failed)} failed; {self.documents_total} documents{triples} "
                 f"in the store; {self.seconds:.1f} s"]
        lines += [f"  note: {n}" for n in self.notes]
        for path, reason in self.failed:
            lines.append("  skipped " + one_line(f"{path}: {reason}"))
        for path, other in self.duplicates:
            lines.append("  skipped " + one_line(f"{path}: same content as {other}"))
        if self.stopped:
            lines.append("error: " + one_line(self.stopped))
        return "\n".join(lines)


def document_graph(path, content_hash: str):
    """(graph IRI, quads) of one file — a pure function of the file, fit for worker processes."""
    doc = pipeline.process_file(path)
    quads = rdf.document_quads(doc, content_hash, source_key(path))
    return rdf.document_iri(content_hash).value, quads


def _hash_literal(text: str) -> Literal:
    return Literal(hashlib.sha256(text.encode("utf-8")).hexdigest())


def reference_graphs():
    """(graph IRI, content hash, function giving its triples) of each ontology file and of the
    division table — the graphs every store holds beside the documents, embedded or remote."""
    for name in ontology.ONTOLOGY_FILES:
        path = ontology.ontology_dir() / name
        if path.exists():
            text = path.read_text(encoding="utf-8")
            iri = rdf.ONTOLOGY_GRAPH + name.removesuffix(".ttl")
            digest = _hash_literal(text).value
            yield iri, digest, functools.partial(_turtle_graph, iri, path, digest)
    digest = _hash_literal(f"{len(places.divisions())}:{places.data_version()}").value
    yield rdf.PLACES_GRAPH, digest, functools.partial(_places_graph, digest)


def _turtle_graph(iri: str, path, digest: str) -> list:
    """The triples of an ontology file, parsed by pyoxigraph (rdflib's import and parser cost a
    build ~0.6 s; a syntax error names the file), and its fingerprint."""
    triples = [(t.subject, t.predicate, t.object) for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]
    return triples + [(NamedNode(iri), rdf.kg("contentHash"), Literal(digest))]


def _places_graph(digest: str) -> list:
    """Every division with its code, level and parent, and the table's fingerprint."""
    table = places.divisions()
    triples = []
    for loc in places.all_localities():
        parent = loc.parents[-1] if loc.parents else None
        triples.extend(rdf.locality_triples(loc, table.by_code(parent[0]) if parent else None))
    triples.append((NamedNode(rdf.PLACES_GRAPH), rdf.kg("contentHash"), Literal(digest)))
    return triples


def ensure_reference_graphs(store: GraphStore) -> None:
    """Load the ontology files and the division table, each into its own graph, when changed
    (a graph that is not there has no hash either: listing the store's graphs to see took
    ~0.2 s at 10,000 documents)."""
    for iri, digest, triples in reference_graphs():
        if store.graph_hash(iri) != digest:
            store.replace_graph(iri, triples())


def _worker_graph(job):
    """In a worker process: (path, digest) → ("ok", iri, N-Quads bytes, quads) or
    ("failed", reason).

    pyoxigraph terms are sent as N-Quads text, serialized in Rust (~0.1 ms for a document of
    ~450 quads) and, for a bulk load, parsed in Rust by the loader itself: cheaper than
    pickling Python objects, and the writing process never makes any."""
    path, digest = job
    try:
        iri, quads = document_graph(path, digest)
        return "ok", iri, ox.serialize(quads, format=ox.RdfFormat.N_QUADS), len(quads)
    except read.ReadError as e:
        return "failed", e.reason
    except Exception as e:  # one bad document must not cost the others
        return "failed", f"internal error: {type(e).__name__}: {e}"


def _local_graph(job):
    """The same in this process, without the text round trip."""
    path, digest = job
    try:
        iri, quads = document_graph(path, digest)
        return "ok", iri, quads, len(quads)
    except read.ReadError as e:
        return "failed", e.reason
    except Exception as e:
        return "failed", f"internal error: {type(e).__name__}: {e}"


# Documents each worker may have computed ahead of the writer.
IN_FLIGHT_PER_WORKER = 16


def _computed(jobs, workers: int):
    """Yield (job, outcome) in the order of `jobs`: ("ok", graph IRI, quads — or N-Quads bytes
    from a worker — and their number) or ("failed", reason).

    With workers > 1, a pool of processes computes the document graphs while this process (the
    only writer of the store) consumes them in order, with at most IN_FLIGHT_PER_WORKER
    documents a worker computed ahead."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield job, _local_graph(job)
        return
    import multiprocessing as mp
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    ctx = mp.get_context(method)
    if method == "fork":
        pipeline.prepare()
    with ctx.Pool(processes=min(workers, len(jobs)), initializer=_yield_to_writer) as pool:
        # A bounded window of documents in flight rather than `imap`, whose results pile up
        # unread for as long as the writer is slower than the workers.
        window: collections.deque = collections.deque()
        todo = iter(jobs)
        for job in itertools.islice(todo, workers * IN_FLIGHT_PER_WORKER):
            window.append((job, pool.apply_async(_worker_graph, (job,))))
        while window:
            job, result = window.popleft()
            for nxt in itertools.islice(todo, 1):
                window.append((nxt, pool.apply_async(_worker_graph, (nxt,))))
            yield job, result.get()


def _yield_to_writer() -> None:
    """Workers run at a lower priority than the process writing the store.

    With as many workers as cores, the bulk loader's threads (which sort and write batches of
    ~1M quads) otherwise get a share of the cores like any worker, fall behind and keep more
    batches in memory: the peak of a 10,000-document build with 2 workers was 1.58 GB, and is
    1.14 GB so, in the same time."""
    try:
        os.nice(10)
    except OSError:
        pass


# Written atomically, documents are handed to the store in batches of about this many triples:
# one call of `Store.replace_documents` per batch (which itself makes one atomic request per
# ~20k triples). A bulk build hands them all to one call, streaming.
WRITE_BATCH_TRIPLES = 100_000


def _documents(jobs, workers: int, report: BuildReport, tick, handed: list):
    """The computed documents as (DocumentGraph, path, triple count); a file that failed is
    recorded in the report instead. Every job is ticked; the jobs of the documents given out
    are added to `handed`."""
    for (path, digest), out in _computed(jobs, workers):
        if out[0] == "ok":
            _, iri, quads, count = out
            handed.append((path, digest))
            yield DocumentGraph(iri, quads, source_key(path), digest), path, count
        else:
            report.failed.append((str(path), out[1]))
        tick(path)


def _bulk_write(store: GraphStore, jobs, workers: int, report: BuildReport, tick,
                handed: list) -> None:
    """All documents in one streaming bulk load (`Store.replace_documents(bulk=True)`)."""
    sources: list[str] = []

    def documents():
        for doc, _path, _count in _documents(jobs, workers, report, tick, handed):
            sources.append(doc.source_file)
            yield doc

    report.triples_written += store.replace_documents(documents(), bulk=True)
    report.built.extend(sources)


def _atomic_write(store: GraphStore, jobs, workers: int, report: BuildReport, tick,
                  handed: list) -> None:
    """Documents in transactions of about WRITE_BATCH_TRIPLES triples."""
    batch: list[tuple] = []       # (DocumentGraph, path)
    size = 0

    def flush():
        nonlocal batch, size
        if not batch:
            return
        docs = [d for d, _ in batch]
        try:
            report.triples_written += store.replace_documents(docs)
            report.built.extend(d.source_file for d in docs)
        except StoreError:
            raise           # the store itself failed: every later document would too
        except Exception:
            # find the culprit: write them one by one
            for d, path in batch:
                try:
                    report.triples_written += store.replace_documents([d])
                    report.built.append(d.source_file)
                except StoreError:
                    raise
                except Exception as e:
                    report.failed.append((str(path), f"internal error: {type(e).__name__}: {e}"))
        batch, size = [], 0

    for doc, path, count in _documents(jobs, workers, report, tick, handed):
        batch.append((doc, path))
        size += count
        if size >= WRITE_BATCH_TRIPLES:
            flush()
    flush()


def build(store: GraphStore, paths, *, progress=None, workers: int = 1,
          bulk: bool | None = None) -> BuildReport:
    """Build every file under `paths` into `store` (embedded or remote: kg.graphstore).
    `progress(n_done, n_total, path)` if given.

    workers: processes that compute document graphs (this process alone writes the store).
    bulk: write with the store's bulk path (the embedded store: pyoxigraph's non-transactional
    bulk loader, ~3× faster writes) instead of one transaction per batch of documents. All
    documents stream through one load, then their catalog records are written, so an
    interrupted load leaves graphs the catalog does not know, which the next read-write open of
    the store drops (`remove_orphans`), and the next build writes those documents again. If the
    loader itself fails, what it wrote is dropped and the documents are written atomically
    instead (the report's `notes` say so). By default (None) a store that holds no document yet
    is bulk-loaded and documents added to or changed in a store that has some are written
    atomically, so that what a store already held is never at risk.

    Unchanged files (same bytes as in the catalog) are skipped, a file that fails is reported
    and the others are built, a second file with the same content as one already seen is
    skipped as a duplicate. A StoreError (a server unreachable, a store read-only) stops the
    build: every later document would fail the same way.
    """
    started = time.perf_counter()
    report = BuildReport()
    ensure_reference_graphs(store)
    known = store.document_hashes()
    files = list(read.iter_files(paths))
    tick = _Ticker(len(files), progress)
    jobs = _plan(files, known, report, tick)
    change = _begin_summary(store, jobs, known)
    in_store = _write(store, jobs, workers, report, tick, bulk=not known if bulk is None else bulk)
    _finish_summary(store, change, jobs, report)
    store.compact_after_load()
    report.documents_total = len(in_store if in_store is not None else set(known) | set(report.built))
    # counting scans every quad (~1.7 s at 10,000 documents, a quarter of adding one document
    # to them): only when something changed, in a store small enough (`kg stats` counts always)
    report.triples_total = (store.triple_count() if report.built and report.documents_total <= COUNT_TRIPLES_UP_TO
                            else None)
    report.seconds = time.perf_counter() - started
    return report


def _begin_summary(store: GraphStore, jobs: list[tuple], known: dict) -> summary.Change | None:
    """Before writing documents: the matrix summary marked pending and the old localities of
    the documents replaced read (kg.summary.begin_change); a store that held no document gets
    every cell computed at the end. Nothing to write: the summary is only brought up to date if
    it is behind (a store built before it existed, a build interrupted before its refresh)."""
    if not jobs:
        summary.refresh_if_stale(store)
        return None
    replaced = {known[key][0] for key in (source_key(path) for path, _ in jobs) if key in known}
    return summary.begin_change(store, replaced, everything=not known)


def _finish_summary(store: GraphStore, change: summary.Change | None, jobs: list[tuple],
                    report: BuildReport) -> None:
    """After writing: the cells of the localities the build touched recomputed. A build stopped
    by a full disk leaves the summary marked pending, for the next build to recompute."""
    if change is None or report.stopped:
        return
    built = set(report.built)
    written = {rdf.document_iri(digest).value for path, digest in jobs if source_key(path) in built}
    try:
        summary.finish_change(store, change, written)
    except NoSpace:
        # the documents are committed; the summary stays marked pending, for the next build
        report.stopped = ("no space left on device while writing the matrix summary; the "
                          "documents were written, the next build recomputes the summary")


class _Ticker:
    """Counts the files dealt with and tells `progress(n_done, n_total, path)`."""

    def __init__(self, total: int, progress=None):
        self.total, self.progress, self.done = total, progress, 0

    def __call__(self, path) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total, path)


def _plan(files, known: dict, report: BuildReport, tick: _Ticker) -> list[tuple]:
    """Hash every file (bytes only) and decide what needs building: the (path, digest) jobs."""
    seen_hashes: dict[str, str] = {}
    jobs: list[tuple] = []
    for path in files:
        key = source_key(path)
        try:
            digest = file_hash(path)
        except OSError as e:
            report.failed.append((str(path), e.strerror or str(e)))
            tick(path)
            continue
        if digest in seen_hashes:
            report.duplicates.append((str(path), seen_hashes[digest]))
            tick(path)
            continue
        seen_hashes[digest] = str(path)
        if key in known and known[key][1] == digest:
            report.unchanged.append(key)
            tick(path)
            continue
        jobs.append((path, digest))
    return jobs


def _write(store: GraphStore, jobs, workers: int, report: BuildReport, tick: _Ticker, *,
           bulk: bool) -> dict | None:
    """Compute the graphs (in parallel if asked) and write them, in bulk or atomically.

    A full disk stops the writing (every later write would fail the same way: RocksDB refuses
    them all once one failed): returns the catalog as read then, which says what the store
    holds, else None."""
    handed: list[tuple] = []      # (path, digest) of the documents given to the store
    try:
        _write_documents(store, jobs, workers, report, tick, handed, bulk=bulk)
    except NoSpace:
        return _stop_at_full_disk(store, handed, report)
    return None


def _stop_at_full_disk(store: GraphStore, handed: list, report: BuildReport) -> dict:
    """After a full disk: the documents of this build whose records are in the catalog (a
    batch may have been partly committed, a bulk load not at all) are the ones built; the
    first one given to the store that is not is the one being written."""
    in_store = store.document_hashes()
    built = [(path, digest) for path, digest in handed
             if in_store.get(source_key(path), (None, None))[1] == digest]
    report.built = [source_key(path) for path, _ in built]
    done = set(report.built)
    writing = next((p for p, _ in handed if source_key(p) not in done),
                   handed[-1][0] if handed else "the store")
    more = f" ({len(in_store)} in all)" if len(in_store) != len(built) else ""
    report.stopped = (f"no space left on device while writing {writing}; {len(built)} documents "
                      f"were written before it and are in the store{more}")
    return in_store


def _write_documents(store: GraphStore, jobs, workers: int, report: BuildReport, tick: _Ticker,
                     handed: list, *, bulk: bool) -> None:
    if bulk and jobs:
        failed_before, done_before = len(report.failed), tick.done
        try:
            _bulk_write(store, jobs, workers, report, tick, handed)
        except StoreError:
            raise
        except Exception as e:
            # Not a bad file (those are caught per document), nor a full disk (NoSpace, a
            # StoreError): the loader itself failed. Drop what it wrote and write every
            # document the atomic way, which isolates a failure to its document.
            store.remove_orphans()
            del report.failed[failed_before:]
            report.built.clear()
            report.triples_written = 0
            tick.done = done_before
            handed.clear()
            report.notes.append(f"bulk load failed ({type(e).__name__}: {e}); "
                                "written one transaction at a time instead")
            bulk = False
    if not bulk:
        _atomic_write(store, jobs, workers, report, tick, handed)
