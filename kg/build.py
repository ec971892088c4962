"""Files → the store: one atomic named graph per document, plus the ontology and places graphs.

A document is skipped when its file's bytes hash as in the catalog, so a rebuild of an
unchanged corpus reads each file once and writes nothing. A file that fails is reported
with its reason and the build goes on; a document's graph is written in one transaction,
so a build that dies midway leaves every document either as it was or as it is now.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from . import ontology, pipeline, places, rdf, read
from .store import Store

# Graphs that are not documents; their own content hash sits inside them.
ONTOLOGY_GRAPH_PREFIX = rdf.ONTOLOGY_GRAPH


@dataclass
class BuildReport:
    built: list = field(default_factory=list)        # source files written
    unchanged: list = field(default_factory=list)    # source files skipped (same bytes)
    failed: list = field(default_factory=list)       # (source file, reason)
    duplicates: list = field(default_factory=list)   # (source file, the file with the same content)
    triples_written: int = 0
    triples_total: int = 0
    documents_total: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        lines = [f"{len(self.built)} document(s) built, {len(self.unchanged)} unchanged, "
                 f"{len(self.failed)} failed; {self.documents_total} documents and "
                 f"{self.triples_total} triples in the store; {self.seconds:.1f} s"]
        for path, reason in self.failed:
            lines.append(f"  skipped {path}: {reason}")
        for path, other in self.duplicates:
            lines.append(f"  skipped {path}: same content as {other}")
        return "\n".join(lines)


def source_key(path) -> str:
    """How the catalog names a file: its path relative to the current directory when it lies
    under it (so a store built in a checkout reads the same on every machine), else absolute."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def file_hash(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def document_graph(path, content_hash: str):
    """(graph IRI, quads) of one file — a pure function of the file, fit for worker processes."""
    doc = pipeline.process_file(path)
    quads = rdf.document_quads(doc, content_hash, source_key(path))
    return rdf.document_iri(content_hash).value, quads


def _hash_literal(text: str) -> Literal:
    return Literal(hashlib.sha256(text.encode("utf-8")).hexdigest())


def ensure_reference_graphs(store: Store) -> None:
    """Load the ontology files and the division table, each into its own graph, when changed."""
    import rdflib
    present = set(store.graphs())
    for name in ontology.ONTOLOGY_FILES:
        path = ontology.ontology_dir() / name
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        iri = ONTOLOGY_GRAPH_PREFIX + name.removesuffix(".ttl")
        if iri in present and _stored_hash(store, iri) == _hash_literal(text).value:
            continue
        g = rdflib.Graph().parse(data=text, format="turtle")
        triples = list(g) + [(rdflib.URIRef(iri), rdflib.URIRef(rdf.KG + "contentHash"),
                              rdflib.Literal(_hash_literal(text).value))]
        store.replace_graph(iri, triples)
    table = places.divisions()
    fingerprint = f"{len(table)}:{places.data_version()}"
    if rdf.PLACES_GRAPH in present and _stored_hash(store, rdf.PLACES_GRAPH) == _hash_literal(fingerprint).value:
        return
    triples = []
    for loc in places.all_localities():
        parent = loc.parents[-1] if loc.parents else None
        parent_loc = table.by_code(parent[0]) if parent else None
        triples.extend(rdf.locality_triples(loc, parent_loc))
    triples.append((NamedNode(rdf.PLACES_GRAPH), rdf.kg("contentHash"), _hash_literal(fingerprint)))
    store.replace_graph(rdf.PLACES_GRAPH, triples)


def _stored_hash(store: Store, iri: str) -> str | None:
    for q in store.ox.quads_for_pattern(NamedNode(iri), rdf.kg("contentHash"), None, NamedNode(iri)):
        return q.object.value
    return None


def build(store: Store, paths, *, progress=None) -> BuildReport:
    """Build every file under `paths` into `store`. `progress(n_done, n_total, path)` if given."""
    started = time.perf_counter()
    report = BuildReport()
    ensure_reference_graphs(store)
    known = store.document_hashes()
    files = list(read.iter_files(paths))
    seen_hashes: dict[str, str] = {}
    for n, path in enumerate(files, 1):
        key = source_key(path)
        try:
            digest = file_hash(path)
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
            iri, quads = document_graph(path, digest)
            report.triples_written += store.replace_document(iri, quads, source_file=key,
                                                             content_hash=digest)
            report.built.append(key)
        except read.ReadError as e:
            report.failed.append((str(path), e.reason))
        except Exception as e:  # one bad document must not cost the others
            report.failed.append((str(path), f"internal error: {type(e).__name__}: {e}"))
    report.documents_total = len(store.document_hashes())
    report.triples_total = store.triple_count()
    report.seconds = time.perf_counter() - started
    return report
