"""The locality × mechanism matrix kept at build time: one triple per cell, in a graph of its own;
beside it, the graph view's groups (kg.viewgroups) and each province's documents as its audit
reads them (queries/audit-documents.rq's rows as one literal), kept the same way.

`queries/matrix.rq` asked the engine to join every assertion of every document to its status and
mechanism and to merge them per locality: at 10,000 documents (252,040 assertions, 100,755
cells) ~1.4 s of engine time, ~2–2.6 s in all. The cells change only where documents change, so
they are kept, derived, in SUMMARY_GRAPH:

    <locality> kg:matrixCell "M01 implemented planned" .

— the mechanism's notation, then the statuses its documents state of it, in the order of their
notations (as the old query's GROUP_CONCAT sorted them). They are computed from the documents'
kg:assertionIndex (one row per document), never from a list in Python: mechanisms and statuses
are whatever the documents state.

Keeping it true: a change of documents (`kg build`, `kg remove`) is bracketed by `begin_change`,
which marks the summary pending (`kg:summaryPending` on the summary graph) before anything is
written, and `finish_change`, which recomputes the cells of the localities the change touched —
the old locality of a replaced or removed document too — and the view groups (prefecture,
province) and the provinces' audit rows they fall in, from all the documents of their
provinces, and clears the mark, in one atomic `replace_subjects`. A change interrupted between
the two leaves the mark; so does nothing, in a store built before the summary existed, or by a
writer that does not know it: there the catalog stamp of some document is later than the
summary graph's, or the summary graph has none, or is of an older format
(queries/summary-stale.rq). Either way the next change recomputes every cell (`replace_graph`),
and until then matrix.rq, which reads the cells only when there is no mark, takes the old plan.

Figures at 10,000 documents (9,784 with a locality, 2,949 localities; 100,755 cells, as many
triples; 2 cores shared with other work):
  - `api.query(store, "matrix").rows`: 2.3–2.7 s by the assertions, ~0.9–1.0 s by the cells
    (3.0–3.5 s against 1.0–1.3 s with the other core busy; same rows, same order). The engine
    takes ~0.3–0.4 s of it; the rest is pyoxigraph making the 400k terms of the 100k rows
    (~0.35–0.6 s), their sort (~0.15 s) and their Python values (~0.1 s);
  - a full refresh: reading the indexes ~0.7 s, merging ~0.4 s, comparing with the summary
    ~0.2–0.5 s; writing all cells ~0.6 s by the bulk loader under the pending mark (~5 s as one
    SPARQL update of 11.5 MB); in all 2.0 s for a summary made from nothing (3.9 s with the
    update), none written when the summary is current (a repair that finds little changed);
  - an incremental build of one document: +70–180 ms (the stamps and the mark ~65 ms, the
    document's localities and their cells a few ms).
"""
from __future__ import annotations

import collections
import functools
import json
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import pyoxigraph as ox

from . import collector
from .binding import bind_table
from .graphstore import GraphStore
from .catalog import now_term
from .query import load_query, run_query
from .rdf import BASE, DCT, KGM, XSD, assertion_index_lines, kg
from .viewgroups import GROUP_LEVELS, Places, group_literals, subject

SUMMARY_GRAPH = BASE + "summary"
MATRIX_CELL = kg("matrixCell")
SUMMARY_PENDING = kg("summaryPending")
VIEW_CELLS = kg("viewCells")
VIEW_LEVEL = kg("viewLevel")
AUDIT_REGION = kg("auditRegion")
AUDIT_DOCUMENTS = kg("auditDocuments")
SUMMARY_FORMAT = kg("summaryFormat")
# the derived data a summary of this format holds (kg:summaryFormat, queries/summary-stale.rq):
# 2 = kg:matrixCell of each locality, kg:viewCells of each group (kg.viewgroups),
# kg:auditDocuments of each province
FORMAT = 2
# from this many cells on, written by the store's bulk path under the pending mark (100,755
# cells at 10,000 documents: ~0.6 s instead of ~5 s in one UPDATE); an incremental build's few
# hundred stay one atomic write
BULK_CELLS = 20_000
_SUMMARY = ox.NamedNode(SUMMARY_GRAPH)


def refresh_summary(store: GraphStore, localities: Iterable[str] | None = None) -> int:
    """Recompute the matrix cells of `localities` (IRIs), or of every locality (None), from the
    documents' assertion indexes, and clear the pending mark (`_replace_localities`: one
    atomic write, or the bulk path under the mark); returns the cells written.

    Recomputing every cell, only the localities whose cells differ from the summary's are
    written: a summary merely behind (an interrupted build) differs in a few localities, and
    writing is what costs most (the 100k cells of 10,000 documents: ~0.6 s by the bulk path,
    ~5 s in one update; ~1.5 s to read the indexes and the summary and compare)."""
    # the rows and the groups are ~10^6 small objects without cycles (collector: a third of the time)
    with collector.paused():
        return _refresh(store, localities)


def _refresh(store: GraphStore, localities: Iterable[str] | None) -> int:
    places = Places(run_query(store, load_query("viz-localities"), union_default_graph=True).to_dicts())
    if localities is None:
        rows = _indexes(store)
        cells = cell_triples(rows)
        views = (_view_triples(group_literals(rows, _obligations(store), places, None, *_notices_and_titles(store)))
                 + _audit_triples(store, places.provinces()))
        # the view groups are all written again (~400 literals, a few MB: reading them back to
        # compare took longer than writing them)
        held = {str(row[0]) for row in run_query(store, load_query("summary-views").text).rows}
        changed = _changed_localities(store, cells) | held | {t[0].value for t in views}
        return _replace_localities(store, changed, cells + views)
    wanted = set(localities)
    if not wanted:
        return _replace_localities(store, wanted, [])
    # the groups of the localities touched, made again from all their localities' documents (a
    # province has a few hundred)
    groups = {(level, places.group(loc, level)) for loc in wanted if loc in places.level
              for level in GROUP_LEVELS}
    provinces = {g for level, g in groups if level == "province"}
    members = {loc for loc in places.level if places.group(loc, "province") in provinces}
    rows = _indexes(store, sorted(wanted | members))
    # a locality the view does not draw may still be under a province: every province's rows
    audited = provinces & places.provinces() if wanted <= set(places.level) else places.provinces()
    triples = (cell_triples([r for r in rows if r[0] in wanted])
               + _view_triples(group_literals(rows, _obligations(store, sorted(members)), places, groups,
                                              *_notices_and_titles(store)))
               + _audit_triples(store, audited))
    subjects = {subject(level, g) for level, g in groups} | {audit_subject(p) for p in audited}
    return _replace_localities(store, wanted | subjects, triples)


def audit_subject(province: str) -> str:
    """The IRI a province's kept audit rows are stated of: …/summary/audit/510000."""
    return f"{SUMMARY_GRAPH}/audit/{province.rsplit('/', 1)[-1]}"


def _audit_triples(store: GraphStore, provinces) -> list[tuple]:
    """(subject, kg:auditRegion, province) and (subject, kg:auditDocuments, JSON rows) for each
    of `provinces` with documents: the rows queries/audit-documents.rq gives for it now."""
    text = load_query("audit-documents")
    out = []
    for province in sorted(provinces):
        rows = run_query(store, text, {"target": ox.NamedNode(province)}, union_default_graph=True).to_dicts()
        if rows:
            node = ox.NamedNode(audit_subject(province))
            kept = [[r["doc"], r["document"], r["locality"], r.get("index")] for r in rows]
            out += [(node, AUDIT_REGION, ox.NamedNode(province)),
                    (node, AUDIT_DOCUMENTS, ox.Literal(json.dumps(kept, ensure_ascii=False, separators=(",", ":"))))]
    return out


def _view_triples(literals: dict) -> list[tuple]:
    out = []
    for (level, group), text in literals.items():
        node = ox.NamedNode(subject(level, group))
        out += [(node, VIEW_LEVEL, ox.Literal(level)), (node, VIEW_CELLS, ox.Literal(text))]
    return out


def _format_triple() -> tuple:
    return (_SUMMARY, SUMMARY_FORMAT, ox.Literal(str(FORMAT), datatype=ox.NamedNode(XSD + "integer")))


def _replace_localities(store: GraphStore, localities: set[str], cells: list[tuple]) -> int:
    """The summary's cells of `localities` (subjects: view groups and audit rows too) replaced
    by theirs among `cells`, the pending mark removed: in one atomic `replace_subjects`, or,
    for BULK_CELLS cells or more (a first build), with the mark kept while the old cells go and
    the new ones are added by the store's faster path (`add_triples`: not atomic, so the mark
    says an interrupted write, and matrix.rq and the next build act on it), then removed."""
    subjects = [ox.NamedNode(loc) for loc in sorted(localities)]
    new = [c for c in cells if c[0].value in localities]
    matrix_cells = sum(1 for c in new if c[1] == MATRIX_CELL)
    if len(new) < BULK_CELLS:
        store.replace_subjects(SUMMARY_GRAPH, None, subjects + [_SUMMARY], new + [_format_triple()])
        return matrix_cells
    mark_pending(store)
    store.replace_subjects(SUMMARY_GRAPH, None, subjects, [])
    store.add_triples(SUMMARY_GRAPH, new)
    store.replace_subjects(SUMMARY_GRAPH, None, [_SUMMARY], [_format_triple()])
    return matrix_cells


def _changed_localities(store: GraphStore, cells: list[tuple]) -> set[str]:
    """The localities whose cells in `cells` are not those the summary holds (either way)."""
    def grouped(pairs) -> dict[str, set[str]]:
        out: dict[str, set[str]] = collections.defaultdict(set)
        for loc, cell in pairs:
            out[loc].add(cell)
        return out
    held = grouped((str(loc), cell) for loc, cells in
                   run_query(store, load_query("summary-cells").text).rows for cell in str(cells).split("\n"))
    wanted = grouped((loc.value, cell.value) for loc, _, cell in cells)
    return {loc for loc in held.keys() | wanted.keys() if held.get(loc) != wanted.get(loc)}


def cell_triples(rows: Iterable[tuple]) -> list[tuple]:
    """(locality, kg:matrixCell, "notation statuses") for each locality and mechanism the rows
    (locality IRI, document IRI, source, kg:assertionIndex) state, statuses
    sorted by their notations."""
    statuses: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for loc, *_, index in rows:
        for notation, status, _spans in assertion_index_lines(index):
            statuses[loc, notation].add(status)
    # terms made once per locality and per distinct cell (~3k and ~2k of 100k cells)
    node = functools.lru_cache(maxsize=None)(ox.NamedNode)
    literal = functools.lru_cache(maxsize=None)(ox.Literal)
    return [(node(loc), MATRIX_CELL, literal(f"{notation} {' '.join(sorted(found))}"))
            for (loc, notation), found in statuses.items()]


def _notices_and_titles(store: GraphStore) -> tuple:
    """The requirement documents (a set), and a function reading the titles of documents."""
    notices = {str(row[0]) for row in run_query(store, load_query("summary-notices").text,
                                                union_default_graph=True).rows}

    def titles(docs: list[str]) -> dict[str, str]:
        return {str(doc): str(title) for doc, title in
                store.subject_values({d: d for d in docs}, DCT + "title", load_query("document-titles").text,
                                     ("graph", "doc"))}
    return notices, titles


def _indexes(store: GraphStore, localities: list[str] | None = None) -> list[tuple]:
    """(locality IRI, document IRI, source, assertion index) of every document, or of the
    documents of `localities`."""
    text = load_query("summary-indexes").text
    if localities is not None:
        text = bind_table(text, ["loc"], [(ox.NamedNode(loc),) for loc in localities])
    rows = run_query(store, text, union_default_graph=True).terms
    return [tuple(t.value if t is not None else None for t in row) for row in rows]


def _obligations(store: GraphStore, localities: list[str] | None = None) -> list[tuple]:
    """(locality, document, source, title, notation, text) of the obligations of requirement
    documents, of every locality or of `localities`, in the graph view's order."""
    text = load_query("summary-obligations").text
    if localities is not None:
        if not localities:
            return []
        text = bind_table(text, ["loc"], [(ox.NamedNode(loc),) for loc in localities])
    rows = run_query(store, text, union_default_graph=True).terms
    return [(loc.value, doc.value, source.value, title.value if title is not None else None,
             m.value[len(KGM):] if m.value.startswith(KGM) else m.value, text.value if text is not None else None)
            for loc, doc, source, title, m, _modality, text in rows]


def localities_of(store: GraphStore, graphs: Iterable[str]) -> set[str]:
    """The localities the documents of `graphs` (graph IRIs, each its document's IRI) name."""
    graph_of: Mapping[str, str] = {g: g for g in graphs}
    if not graph_of:
        return set()
    pairs = store.subject_values(graph_of, kg("locality").value,
                                 load_query("document-localities").text, ("graph", "doc"))
    return {str(value) for _, value in pairs}


def is_stale(store: GraphStore) -> bool:
    """Whether the cells may be behind the documents (queries/summary-stale.rq)."""
    return run_query(store, load_query("summary-stale").text).rows[0][0] > 0


@dataclass
class Change:
    """A change of documents under way: the localities it takes cells from (the old localities
    of the documents it replaces or removes), and whether every cell is to be recomputed."""
    localities: set[str] = field(default_factory=set)
    everything: bool = False


def begin_change(store: GraphStore, graphs: Iterable[str] = (), *,
                 everything: bool = False) -> Change:
    """Before documents are written or removed: read the localities of `graphs` (the documents
    about to be replaced or removed: after the write, their old locality is gone), and mark the
    summary pending, so that a change interrupted before `finish_change` is seen. A summary
    stale already (`is_stale`) is recomputed whole at the end, as with `everything`."""
    change = Change(set() if everything else localities_of(store, graphs),
                    everything or is_stale(store))
    mark_pending(store)
    return change


def mark_pending(store: GraphStore) -> None:
    """Say in the summary that its cells may be behind the documents (kg:summaryPending, with
    the time): matrix.rq then reads the assertions, and the next build recomputes every cell.
    For what changes documents without knowing which localities (an update sent to kg serve)."""
    store.replace_subjects(SUMMARY_GRAPH, None, [], [(_SUMMARY, SUMMARY_PENDING, now_term())])


def finish_change(store: GraphStore, change: Change, written: Iterable[str] = ()) -> int:
    """After the documents were written or removed: recompute the cells of the localities the
    change took them from and of those of `written` (the graphs of the documents written), or
    all cells, clearing the mark `begin_change` set. Returns the cells written."""
    if change.everything:
        return refresh_summary(store)
    return refresh_summary(store, change.localities | localities_of(store, written))


def refresh_if_stale(store: GraphStore) -> bool:
    """Recompute every cell if the summary may be behind the documents (a store built before
    the summary existed, an interrupted change); whether it did."""
    if not is_stale(store):
        return False
    refresh_summary(store)
    return True
