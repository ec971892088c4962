"""The matrix summary kept at build time (kg.summary): queries/matrix.rq reads the cells, and
they stay the cells the assertions give — after a build, an incremental build that moves a
document to another locality or changes its mechanisms, a removal, in a store built before
the summary existed, and after a change interrupted before its refresh.

The oracle is the matrix query's other plan (the assertions themselves), run on a copy of the
same store without the summary graph."""
from __future__ import annotations

import json
import shutil

import pyoxigraph as ox
import pytest

from conftest import CORPUS
from kg import api, summary, viewgroups
from kg.build import build
from kg.catalog import file_hash, source_key
from kg.namespaces import CATALOG_GRAPH, PREFIXES
from kg.query import load_query, run_query
from kg.store import Store

KGL = PREFIXES["kgl"]
RUSHAN, FUQING, LIAOYUAN = KGL + "371083", KGL + "350181", KGL + "220400"


@pytest.fixture
def corpus(tmp_path):
    """A copy of the bundled corpus, to edit."""
    out = tmp_path / "corpus"
    shutil.copytree(CORPUS, out)
    return out


@pytest.fixture
def store(tmp_path, corpus):
    with Store.open(tmp_path / "store") as s:
        report = build(s, [corpus])
        assert report.ok and len(report.built) == 5
        yield s


def matrix(target) -> list[tuple]:
    return run_query(target, load_query("matrix"), union_default_graph=True).rows


def assertions_plan(store: Store) -> list[tuple]:
    """The matrix by the assertions: matrix.rq on a copy of the store without the summary."""
    memory = ox.Store()
    memory.extend(q for q in store.quads() if q.graph_name != ox.NamedNode(summary.SUMMARY_GRAPH))
    return matrix(memory)


def cells(store: Store) -> dict[str, set[str]]:
    """locality → its cells, as the summary graph holds them."""
    out: dict[str, set[str]] = {}
    for q in store.quads(summary.SUMMARY_GRAPH):
        if q.predicate == summary.MATRIX_CELL:
            out.setdefault(q.subject.value, set()).add(q.object.value)
    return out


def held_view_cells(store: Store) -> dict[str, str]:
    """view group → its kg:viewCells literal, as the summary graph holds it."""
    return {q.subject.value: q.object.value for q in store.quads(summary.SUMMARY_GRAPH)
            if q.predicate == summary.VIEW_CELLS}


def made_view_cells(store: Store) -> dict[str, str]:
    """view group → its kg:viewCells literal, made from every document of the store now."""
    places = viewgroups.Places(run_query(store, load_query("viz-localities"), union_default_graph=True).to_dicts())
    made = viewgroups.group_literals(summary._indexes(store), summary._obligations(store), places, None,
                                     *summary._notices_and_titles(store))
    return {viewgroups.subject(level, group): text for (level, group), text in made.items()}


def pending(store: Store) -> bool:
    return any(q.predicate == summary.SUMMARY_PENDING for q in store.quads(summary.SUMMARY_GRAPH))


def assert_summary_true(store: Store) -> list[tuple]:
    """The summary is current, complete, and what matrix.rq reads gives the assertions' rows."""
    assert not pending(store) and not summary.is_stale(store)
    rows = matrix(store)
    assert rows and rows == assertions_plan(store)
    assert sum(map(len, cells(store).values())) == len(rows)
    # the graph view's groups, as the documents give them now
    assert held_view_cells(store) == made_view_cells(store)
    # each province's audit rows, as audit-documents gives them now
    kept = {q.subject.value: q.object.value for q in store.quads(summary.SUMMARY_GRAPH)
            if q.predicate == summary.AUDIT_REGION}
    assert kept
    for province in set(kept.values()) | {KGL + "330000", KGL + "110000"}:
        documents = run_query(store, load_query("audit-documents"), {"target": ox.NamedNode(province)},
                              union_default_graph=True).to_dicts()
        held = run_query(store, load_query("audit-kept-documents"), {"target": ox.NamedNode(province)},
                         union_default_graph=True).rows
        assert bool(held) == bool(documents), province
        if documents:
            keys = ("doc", "document", "locality", "index")
            assert sorted(json.loads(held[0][0])) == sorted([r.get(k) for k in keys] for r in documents)
    return rows


def interrupted(*args, **kwargs):
    """What a kill between the document writes and the refresh leaves."""
    raise KeyboardInterrupt


def test_built_store_has_a_summary_whose_rows_are_the_assertions(store):
    rows = assert_summary_true(store)
    assert {RUSHAN, FUQING, LIAOYUAN} <= set(cells(store))
    # matrix.rq reads the cells: a cell changed in the summary shows
    loc, cell = next((loc, c) for loc, cs in cells(store).items() for c in cs)
    store.replace_subjects(summary.SUMMARY_GRAPH, None, [],
                           [(ox.NamedNode(loc), summary.MATRIX_CELL, ox.Literal("M99 planned"))])
    assert len(matrix(store)) == len(rows) + 1
    # a full refresh rewrites the localities whose cells differ: that one, and one that has no
    # document (any more)
    store.replace_subjects(summary.SUMMARY_GRAPH, None, [],
                           [(ox.NamedNode(KGL + "110000"), summary.MATRIX_CELL, ox.Literal("M01 planned"))])
    assert summary.refresh_summary(store) == len(cells(store)[loc]) and KGL + "110000" not in cells(store)
    assert assert_summary_true(store) == rows


def test_a_document_moved_to_another_locality_leaves_the_old_one_and_joins_the_new(store, corpus):
    rushan = next(corpus.glob("000_*.txt"))
    liaoyuan = next(corpus.glob("003_*.txt"))
    before = cells(store)
    # the 乳山 report becomes a second 辽源 report (of fewer mechanisms: its first half)
    text = liaoyuan.read_text(encoding="utf-8")
    rushan.write_text(text[:len(text) // 2] + "\n又一句。", encoding="utf-8")
    report = build(store, [corpus])
    assert report.ok and len(report.built) == 1
    after = cells(store)
    assert RUSHAN in before and RUSHAN not in after
    assert after[LIAOYUAN] == before[LIAOYUAN]      # the half adds no mechanism or status
    assert_summary_true(store)


def test_a_document_whose_mechanisms_change_changes_its_cells(store, corpus):
    fuqing = next(corpus.glob("002_*.txt"))
    before = cells(store)[FUQING]
    text = fuqing.read_text(encoding="utf-8")
    fuqing.write_text(text[:len(text) // 4], encoding="utf-8")
    assert build(store, [corpus]).ok
    after = cells(store)[FUQING]
    assert after and after != before
    assert_summary_true(store)


def test_a_removed_document_takes_its_cells_along(store, corpus):
    assert FUQING in cells(store)
    assert api.remove(store, str(next(corpus.glob("002_*.txt"))))
    assert FUQING not in cells(store)
    assert_summary_true(store)


def test_a_store_built_before_the_summary_gets_one_at_the_next_build(store, corpus):
    rows = matrix(store)
    # what a store built before kg.summary has: no summary graph, no stamp of it
    store.ox.update(f"DROP GRAPH <{summary.SUMMARY_GRAPH}> ; DELETE WHERE {{ GRAPH <{CATALOG_GRAPH}> "
                    f"{{ <{summary.SUMMARY_GRAPH}> ?p ?o }} }}")
    assert not cells(store) and summary.is_stale(store)
    assert matrix(store) == rows                     # by the assertions
    report = build(store, [corpus])                  # nothing to build, the summary made
    assert report.ok and not report.built
    assert cells(store) and assert_summary_true(store) == rows


def test_a_summary_without_view_cells_is_made_whole_by_the_next_change(store, corpus):
    """A store whose summary has matrix cells only (built before kg:viewCells) is stale, and the
    next change, of one document, gives every locality its view cells, not just that one's."""
    rows = matrix(store)
    store.ox.update(f"DELETE WHERE {{ GRAPH <{summary.SUMMARY_GRAPH}> {{ ?s <{summary.VIEW_CELLS.value}> ?o }} }} ; "
                    f"DELETE WHERE {{ GRAPH <{summary.SUMMARY_GRAPH}> {{ ?s <{summary.SUMMARY_FORMAT.value}> ?o }} }}")
    assert cells(store) and not held_view_cells(store) and summary.is_stale(store)
    one = next(corpus.glob("000_*.txt"))
    one.write_text(one.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    report = build(store, [corpus])
    assert report.ok and len(report.built) == 1
    assert len(held_view_cells(store)) > 1 and assert_summary_true(store) == rows


def test_a_build_interrupted_before_its_refresh_is_repaired_by_the_next(store, corpus, monkeypatch):
    fuqing = next(corpus.glob("002_*.txt"))
    before = cells(store)[FUQING]
    text = fuqing.read_text(encoding="utf-8")
    fuqing.write_text(text[:len(text) // 4], encoding="utf-8")

    with monkeypatch.context() as m:
        m.setattr(summary, "finish_change", interrupted)
        with pytest.raises(KeyboardInterrupt):
            build(store, [corpus])
    assert store.document_hashes()[source_key(fuqing)][1] == file_hash(fuqing)   # written
    assert pending(store) and summary.is_stale(store) and cells(store)[FUQING] == before
    assert matrix(store) == assertions_plan(store)   # the summary is not read meanwhile
    report = build(store, [corpus])                  # nothing left to build: the summary repaired
    assert report.ok and not report.built
    assert cells(store)[FUQING] != before
    assert_summary_true(store)


def test_a_removal_interrupted_before_its_refresh_is_repaired_by_the_next_build(store, corpus,
                                                                              monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(summary, "finish_change", interrupted)
        with pytest.raises(KeyboardInterrupt):
            api.remove(store, str(next(corpus.glob("002_*.txt"))))
    assert FUQING in cells(store) and pending(store)
    assert matrix(store) == assertions_plan(store)
    next(corpus.glob("002_*.txt")).unlink()
    assert build(store, [corpus]).ok
    assert FUQING not in cells(store)
    assert_summary_true(store)


def test_a_full_disk_at_the_refresh_stops_the_build_with_its_documents_written(store, corpus,
                                                                               monkeypatch):
    from kg.storefiles import NoSpace

    def full(*args, **kwargs):
        raise NoSpace("no space left on device")

    fuqing = next(corpus.glob("002_*.txt"))
    fuqing.write_text(fuqing.read_text(encoding="utf-8")[:2000], encoding="utf-8")
    with monkeypatch.context() as m:
        m.setattr(summary, "finish_change", full)
        report = build(store, [corpus])
    assert not report.ok and "matrix summary" in report.stopped and len(report.built) == 1
    assert pending(store) and matrix(store) == assertions_plan(store)
    assert build(store, [corpus]).ok
    assert_summary_true(store)


def test_many_cells_go_through_the_bulk_path_and_a_write_stopped_half_way_is_seen(tmp_path, corpus,
                                                                                 monkeypatch):
    """A first build's cells (BULK_CELLS or more: here every build) are added by the store's
    bulk loader, which is not atomic: the pending mark stays until they are all in, so a write
    that stops half-way is read by the assertions and repaired by the next build."""
    monkeypatch.setattr(summary, "BULK_CELLS", 1)
    added = []
    original = Store.add_triples

    def counted(self, graph_iri, triples):
        triples = list(triples)
        added.append(len(triples))
        return original(self, graph_iri, triples)

    def half_then_killed(self, graph_iri, triples):
        triples = list(triples)
        original(self, graph_iri, triples[:len(triples) // 2])
        raise KeyboardInterrupt

    with Store.open(tmp_path / "store") as s:
        with monkeypatch.context() as m:
            m.setattr(Store, "add_triples", counted)
            assert build(s, [corpus]).ok
        derived = [q for q in s.quads(summary.SUMMARY_GRAPH) if q.subject.value != summary.SUMMARY_GRAPH]
        assert added and sum(added) == len(derived) > sum(map(len, cells(s).values()))
        rows = assert_summary_true(s)

        summary_before = cells(s)
        s.ox.update(f"DROP GRAPH <{summary.SUMMARY_GRAPH}>")
        with monkeypatch.context() as m:
            m.setattr(Store, "add_triples", half_then_killed)
            with pytest.raises(KeyboardInterrupt):
                summary.refresh_summary(s)
        assert pending(s) and 0 < sum(map(len, cells(s).values())) < len(rows)
        assert matrix(s) == rows                     # by the assertions, not the half summary
        assert build(s, [corpus]).ok                 # nothing to build: the summary repaired
        assert cells(s) == summary_before and assert_summary_true(s) == rows


def test_mechanisms_overview_from_the_cells_counts_as_from_the_assertions(tmp_path, corpus):
    """mechanisms-overview counts localities from the cells, and adds the documents without a
    locality and those requiring a mechanism: the same rows as its plan over the assertions
    (here with a document no locality is found for and the notices' kg:Required)."""
    overview = load_query("mechanisms-overview")
    with Store.open(tmp_path / "store") as s:
        assert build(s, [corpus, CORPUS.parent / "tests" / "docs"]).ok
        rows = run_query(s, overview, union_default_graph=True).rows
        memory = ox.Store()
        memory.extend(q for q in s.quads() if q.graph_name != ox.NamedNode(summary.SUMMARY_GRAPH))
        assert rows == run_query(memory, overview, union_default_graph=True).rows
        unplaced = run_query(s, "SELECT ?d { GRAPH ?d { ?d a kg:Document FILTER NOT EXISTS "
                                "{ ?d kg:locality ?l } } }", union_default_graph=True).rows
        assert unplaced and sum(r[5] for r in rows) > 0
        # the cells are what is read: one more locality's cell counts
        notation, weakness_in = rows[0][0], rows[0][4]
        s.replace_subjects(summary.SUMMARY_GRAPH, None, [], [
            (ox.NamedNode(KGL + "110000"), summary.MATRIX_CELL, ox.Literal(f"{notation} weakness"))])
        again = {r[0]: r for r in run_query(s, overview, union_default_graph=True).rows}
        assert again[notation][4] == weakness_in + 1


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import oxigraph_server
    yield from oxigraph_server(tmp_path_factory)


def test_a_store_behind_an_endpoint_keeps_its_summary_alike(server, corpus):
    """The remote store's replace_subjects (the graph read and written back whole) replaces the
    cells of the localities given, as the embedded store's DELETE does."""
    from kg.remote import endpoint
    ep = endpoint(server)
    assert build(ep, [corpus]).ok
    rows = matrix(ep)
    rushan, liaoyuan = next(corpus.glob("000_*.txt")), next(corpus.glob("003_*.txt"))
    text = liaoyuan.read_text(encoding="utf-8")
    rushan.write_text(text[:len(text) // 2] + "\n又一句。", encoding="utf-8")
    assert build(ep, [corpus]).ok
    moved = matrix(ep)
    assert not summary.is_stale(ep) and moved != rows
    assert {r[0] for r in rows} - {r[0] for r in moved} == {"371083"}     # 乳山市 has no cell left
    memory = ox.Store()
    memory.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g))
                  for g in ep.graphs() if g != summary.SUMMARY_GRAPH for t in ep.graph_triples(g))
    assert moved == matrix(memory)
