"""The embedded store's files: opening them (read-only snapshots too) and writing them out.

Concurrency: one read-write opener per store directory (RocksDB's LOCK file); a second one gets
`StoreLocked`. `Store.open(path, read_only=True)` (pyoxigraph `Store.read_only`) opens a static
snapshot as of the moment of opening; `reopen()` takes a newer one. pyoxigraph calls reading
while another process writes "undefined behaviour", and indeed the writer's compactions can
delete table files under the reader: in a stress test (writer adding, dropping, compacting)
~10% of opens and a few % of reads failed with "No such file or directory". Both are retried
with a fresh snapshot (`open_read_only`, `Store.read`), after which the stress test ran with no
errors; and since every write is one transaction, a snapshot never shows half a document.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from kg.catalog import named
from kg.graphstore import StoreError, StoreLocked
from kg.namespaces import PREFIXES

EXPORT_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,   # pyoxigraph ≥ 0.5 writes JSON-LD itself, named graphs too
}
_DATASET_FORMATS = {"trig", "nquads", "jsonld"}


def open_read_only(path: Path, attempts: int = 20) -> ox.Store:
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
            if not vanished_file(e) or attempt == attempts - 1:
                if isinstance(e, OSError):
                    raise
                raise StoreError(f"cannot open store {path} read-only: {e}") from e
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


def vanished_file(e: BaseException) -> bool:
    """A RocksDB error meaning a table file went away under a read-only opener."""
    return "No such file" in str(e)


class NoSpace(StoreError):
    """The store's file system is full. RocksDB then refuses every later write of this opener
    (its error is sticky), so a build stops at the first one."""


def no_space(e: BaseException) -> bool:
    """An error of pyoxigraph/RocksDB (an OSError "IO error: No space left on device: While
    appending to file …", whatever the file) or of the OS meaning the file system is full."""
    return getattr(e, "errno", None) == errno.ENOSPC or "No space left on device" in str(e)


def remove_loader_leftovers(path: Path | None) -> None:
    """Remove the table files a failed bulk load left in the store directory.

    The loader writes `bulk-*.sst` files and hands them to RocksDB, which moves them in under
    its own numbered names; one it failed to finish (the disk full) stays, unknown to RocksDB
    for ever, taking the space a next build needs. Only while holding the store's lock."""
    if path is None:
        return
    for leftover in Path(path).glob("bulk-*.sst"):
        try:
            leftover.unlink()
        except OSError:
            pass


def compact_if_room(oxstore: ox.Store, path: Path) -> bool:
    """Compact the store after a bulk load; True if it did.

    The loader writes each batch as sorted files that lie side by side, every look-up then
    searching each of them: at 10,000 documents, compacting took 8.5 s, after which named
    queries bound by look-ups took half as long or less (localities-implementing 1.70 → 0.70 s,
    figures of 三项制度 0.93 → 0.30 s, summary-indexes 0.66 → 0.35 s), and the store took
    1.6 GB instead of 1.1. Writes of transactions are compacted by RocksDB as they come.
    Compaction writes the merged files before it drops the old ones: skipped where the file
    system has less room than twice the store; one that fails leaves the store as it was (it
    only rewrites it)."""
    size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    if shutil.disk_usage(path).free < 2 * size:
        return False
    try:
        oxstore.optimize()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def writing(path: Path | None, *, loading: bool = False):
    """Around a write: a full file system raised as NoSpace (and, `loading`, a failed bulk
    load's table files removed)."""
    try:
        yield
    except NoSpace:
        if loading:
            remove_loader_leftovers(path)
        raise
    except OSError as e:
        if not no_space(e):
            raise
        if loading:
            remove_loader_leftovers(path)
        raise NoSpace(f"no space left on device for store {path}") from e


def map_open_error(e: OSError, path: Path) -> StoreError:
    msg = str(e)
    if no_space(e):
        # RocksDB writes when it opens a store for writing (a new log, the manifest)
        return NoSpace(f"no space left on device to open store {path} for writing; free some "
                       f"space (reading it still works)")
    # RocksDB: "IO error: While lock file: <dir>/LOCK: Resource temporarily unavailable" when
    # another process holds it, "lock hold by current process" for a second opener in this one.
    if "LOCK" in msg or "lock hold" in msg:
        return StoreLocked(f"store {path} is in use by another process (open read-only, or wait "
                           f"for the other process to finish)")
    return StoreError(f"cannot open store {path}: {msg}")


def export(oxstore: ox.Store, out: str | os.PathLike[str] | IO[bytes], format: str = "trig",
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
        g = named(graph)
        if format in _DATASET_FORMATS:
            ox.serialize(oxstore.quads_for_pattern(None, None, None, g), target, fmt,
                         prefixes=prefixes)
        else:
            oxstore.dump(target, fmt, from_graph=g, prefixes=prefixes)
    elif format in _DATASET_FORMATS:
        oxstore.dump(target, fmt, prefixes=prefixes)
    else:
        union = oxstore.query(
            "CONSTRUCT { ?s ?p ?o } WHERE { SELECT DISTINCT ?s ?p ?o WHERE "
            "{ { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } } }")
        ox.serialize(union, target, fmt, prefixes=prefixes)
