"""kg build with worker processes: the same document graphs as one process; bad files reported."""
from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import build
from kg.store import CATALOG_GRAPH, Store

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def document_quads(store: Store) -> set[str]:
    """Every quad of the document graphs (catalog timestamps left out), as N-Quads lines."""
    docs = {rec_graph for rec_graph in store.catalog()}
    return {str(q) for q in store.ox.quads_for_pattern(None, None, None, None)
            if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in docs}


def catalog_records(store: Store) -> set[tuple]:
    return {(g, tuple(sorted(r["source_files"])), r["content_hash"]) for g, r in store.catalog().items()}


@pytest.fixture(scope="module")
def corpus_copy(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    for p in CORPUS.glob("*.txt"):
        shutil.copy(p, d / p.name)
    return d


@pytest.fixture(scope="module")
def one_worker(corpus_copy, tmp_path_factory):
    with Store.open(tmp_path_factory.mktemp("s1") / "store") as store:
        report = build.build(store, [corpus_copy], workers=1)
        yield report, document_quads(store), catalog_records(store)


@pytest.mark.parametrize("bulk", [False, True], ids=["atomic", "bulk"])
def test_two_workers_same_graphs_as_one(corpus_copy, one_worker, tmp_path, bulk):
    report1, quads1, catalog1 = one_worker
    assert report1.ok and len(report1.built) == 5
    with Store.open(tmp_path / "store") as store:
        report2 = build.build(store, [corpus_copy], workers=2, bulk=bulk)
        assert report2.ok
        assert sorted(report2.built) == sorted(report1.built)
        assert report2.triples_written == report1.triples_written
        assert document_quads(store) == quads1
        assert catalog_records(store) == catalog1
        # and a rebuild with workers skips every unchanged file
        again = build.build(store, [corpus_copy], workers=2, bulk=bulk)
        assert again.built == [] and len(again.unchanged) == 5 and again.ok


def test_bad_file_reported_others_built_with_workers(corpus_copy, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(corpus_copy, src)
    (src / "0_empty.txt").write_bytes(b"")
    (src / "zz_binary.txt").write_bytes(bytes(range(256)) * 8)
    with Store.open(tmp_path / "store") as store:
        report = build.build(store, [src], workers=2)
        failed = {Path(p).name for p, _ in report.failed}
        assert failed == {"0_empty.txt", "zz_binary.txt"}
        assert all(reason for _, reason in report.failed)
        assert len(report.built) == 5
        assert report.documents_total == 5
        assert not report.ok


def test_cli_workers_option(corpus_copy, tmp_path):
    from click.testing import CliRunner
    from kg.cli import main
    r = CliRunner().invoke(main, ["build", str(corpus_copy), "--store", str(tmp_path / "s"),
                                  "--workers", "2", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "5 document(s) built" in r.output
    with Store.open(tmp_path / "s") as store:
        assert len(store.document_hashes()) == 5
        assert CATALOG_GRAPH in store.graphs(include_catalog=True)


def test_a_failed_bulk_load_is_dropped_and_the_documents_written_atomically(
        corpus_copy, one_worker, tmp_path, monkeypatch):
    # A document whose quads the loader rejects midway through the stream (a quad in another
    # graph than its own): the loader fails after loading part of the stream.
    _, quads1, _ = one_worker
    first = sorted(corpus_copy.glob("*.txt"))[2].name
    real = build.document_graph

    def document_graph(path, digest):
        iri, quads = real(path, digest)
        if Path(path).name == first:
            quads = quads + [ox.Quad(quads[0].subject, quads[0].predicate, quads[0].object,
                                     ox.NamedNode("https://w3id.org/fazhi-kg/doc/elsewhere"))]
        return iri, quads

    monkeypatch.setattr(build, "document_graph", document_graph)
    with Store.open(tmp_path / "store") as store:
        report = build.build(store, [corpus_copy], bulk=True)
        assert len(report.notes) == 1 and report.notes[0].startswith("bulk load failed (ValueError")
        assert [Path(p).name for p, _ in report.failed] == [first]
        assert len(report.built) == 4 and report.documents_total == 4
        assert store.orphan_graphs() == []
        assert {q for q in document_quads(store)} < quads1
        assert "note: bulk load failed" in report.summary()
