"""kg.store: real pyoxigraph stores on disk; atomic document replacement, locking, export."""
import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from kg.namespaces import CATALOG_GRAPH, PREFIXES
from kg.store import CATALOG_NS, DocumentGraph, Store, StoreError, StoreLocked, default_store_path

REPO = Path(__file__).resolve().parent.parent
KGD = PREFIXES["kgd"]
KGL = PREFIXES["kgl"]
LABEL = ox.NamedNode(PREFIXES["rdfs"] + "label")
MENTIONS = ox.NamedNode(PREFIXES["kg"] + "mentions")


def doc_triples(name, n=20, version=0):
    """A small document: a locality and n mention triples (content varies with version)."""
    loc = ox.NamedNode(KGL + name)
    out = [ox.Triple(loc, LABEL, ox.Literal(name + "市"))]
    out += [ox.Triple(loc, MENTIONS, ox.Literal(f"v{version} 第{i}条 \"引号\"\n换行"))
            for i in range(n)]
    return out


def graph_quads(store, graph):
    return {str(q) for q in store.quads(graph)}


def catalog_without_time(store):
    return {g: (sorted(r["source_files"]), r["content_hash"]) for g, r in store.catalog().items()}


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "store") as s:
        yield s


def test_replace_same_content_twice_gives_identical_quads(store):
    g = KGD + "a-1"
    store.replace_document(g, doc_triples("a"), source_file="a.html", content_hash="h1")
    first = graph_quads(store, g)
    cat1 = catalog_without_time(store)
    store.replace_document(g, doc_triples("a"), source_file="a.html", content_hash="h1")
    assert graph_quads(store, g) == first
    assert len(first) == 21
    assert catalog_without_time(store) == cat1
    assert store.document_hashes() == {"a.html": (g, "h1")}
    assert store.graphs() == [g]


def test_changed_content_drops_old_graph_and_updates_catalog(store):
    store.replace_document(KGD + "a-1", doc_triples("a"), source_file="a.html", content_hash="h1")
    store.replace_document(KGD + "b-1", doc_triples("b"), source_file="b.html", content_hash="hb")
    store.replace_document(KGD + "a-2", doc_triples("a", version=2), source_file="a.html",
                           content_hash="h2")
    assert store.graphs() == [KGD + "a-2", KGD + "b-1"]
    assert store.triple_count(KGD + "a-1") == 0
    assert store.document_hashes() == {"a.html": (KGD + "a-2", "h2"),
                                       "b.html": (KGD + "b-1", "hb")}
    assert KGD + "a-1" not in store.catalog()
    modified = store.catalog()[KGD + "a-2"]["modified"]
    assert modified and modified[:4].isdigit()


def test_remove_document_by_source_or_iri(store):
    store.replace_document(KGD + "a-1", doc_triples("a"), source_file="a.html", content_hash="h1")
    store.replace_document(KGD + "b-1", doc_triples("b"), source_file="b.html", content_hash="hb")
    assert store.remove_document("a.html") is True
    assert store.graphs() == [KGD + "b-1"]
    assert store.remove_document(KGD + "b-1") is True
    assert store.graphs() == []
    assert store.document_hashes() == {}
    assert store.triple_count() == 0       # catalog empty too
    assert store.remove_document("nope.html") is False


def test_two_files_with_identical_content_share_a_graph(store):
    g = KGD + "same"
    store.replace_document(g, doc_triples("a"), source_file="a.html", content_hash="h")
    store.replace_document(g, doc_triples("a"), source_file="copy/a.html", content_hash="h")
    assert store.document_hashes() == {"a.html": (g, "h"), "copy/a.html": (g, "h")}
    assert store.remove_document("a.html")
    assert store.triple_count(g) == 21                 # still used by the copy
    assert store.document_hashes() == {"copy/a.html": (g, "h")}
    # The copy changes: the shared graph goes once nobody refers to it.
    store.replace_document(KGD + "new", doc_triples("a", version=3), source_file="copy/a.html",
                           content_hash="h3")
    assert store.graphs() == [KGD + "new"]


def failing(triples, after):
    for i, t in enumerate(triples):
        if i == after:
            raise RuntimeError("extractor crashed")
        yield t


def test_failing_input_leaves_store_unchanged(store):
    store.replace_document(KGD + "a-1", doc_triples("a"), source_file="a.html", content_hash="h1")
    before = {str(q) for q in store.quads()}
    with pytest.raises(RuntimeError, match="extractor crashed"):
        store.replace_document(KGD + "a-2", failing(doc_triples("a", version=2), 10),
                               source_file="a.html", content_hash="h2")
    assert {str(q) for q in store.quads()} == before
    # Same for a batch: the failing document, and all of its batch, are not written.
    with pytest.raises(RuntimeError):
        store.replace_documents([
            (KGD + "b-1", doc_triples("b"), "b.html", "hb"),
            (KGD + "a-3", failing(doc_triples("a", version=3), 5), "a.html", "h3"),
        ])
    assert store.document_hashes() == {"a.html": (KGD + "a-1", "h1")}
    assert {str(q) for q in store.quads()} == before


def test_invalid_iri_and_foreign_quads_are_rejected(store):
    with pytest.raises(ValueError):
        store.replace_document("not an iri", doc_triples("a"), source_file="a", content_hash="h")
    quad = ox.Quad(ox.NamedNode(KGL + "a"), LABEL, ox.Literal("x"), ox.NamedNode(KGD + "other"))
    with pytest.raises(ValueError, match="other"):
        store.replace_document(KGD + "a", [quad], source_file="a", content_hash="h")
    assert store.triple_count() == 0


def test_replace_documents_batches_and_accepts_rdflib_terms(store):
    batch = [DocumentGraph(KGD + f"d{i}", doc_triples(f"d{i}"), f"d{i}.html", f"h{i}")
             for i in range(30)]
    rdflib_doc = [(rdflib.URIRef(KGL + "r"), rdflib.RDFS.label, rdflib.Literal("荣成市", lang="zh")),
                  (rdflib.URIRef(KGL + "r"), rdflib.URIRef(PREFIXES["kg"] + "year"),
                   rdflib.Literal(2024))]
    batch.append(DocumentGraph(KGD + "r", rdflib_doc, "r.html", "hr"))
    assert store.replace_documents(batch) == 30 * 21 + 2
    assert len(store.document_hashes()) == 31
    assert store.triple_count(KGD + "r") == 2
    # A source file twice in one call: the later one wins, nothing of the first remains.
    store.replace_documents([(KGD + "x1", doc_triples("x"), "x.html", "1"),
                             (KGD + "x2", doc_triples("x", version=2), "x.html", "2")])
    assert store.document_hashes()["x.html"] == (KGD + "x2", "2")
    assert KGD + "x1" not in store.graphs()


def test_bulk_replace_matches_atomic_path(tmp_path):
    docs = [(KGD + f"d{i}", doc_triples(f"d{i}"), f"d{i}.html", f"h{i}") for i in range(5)]
    with Store.open(tmp_path / "atomic") as a, Store.open(tmp_path / "bulk") as b:
        a.replace_documents(docs)
        b.replace_documents([(KGD + "d0-old", doc_triples("d0", version=9), "d0.html", "old")])
        b.replace_documents(docs, bulk=True)
        assert catalog_without_time(a) == catalog_without_time(b)
        for g in a.graphs():
            assert graph_quads(a, g) == graph_quads(b, g)
        assert b.graphs() == a.graphs()
        assert b.orphan_graphs() == []


def test_bulk_stream_writes_a_graph_that_exists_already_whole_and_alone(tmp_path):
    # The loader can only add: a graph present before the load (the same content written
    # again) must end up with exactly its new triples, not the union of old and new.
    with Store.open(tmp_path / "s") as s:
        s.replace_documents([(KGD + "same", doc_triples("same", version=1), "a.html", "h1")])
        stream = (d for d in [(KGD + "same", doc_triples("same", version=2), "a.html", "h1"),
                              (KGD + "new", doc_triples("new"), "b.html", "h2")])
        assert s.replace_documents(stream, bulk=True) == 2 * 21
        assert graph_quads(s, KGD + "same") == {
            str(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(KGD + "same")))
            for t in doc_triples("same", version=2)}
        assert s.document_hashes() == {"a.html": (KGD + "same", "h1"), "b.html": (KGD + "new", "h2")}
        assert s.orphan_graphs() == []
        # A source file twice in one load: the later one wins, nothing of the first remains.
        s.replace_documents([(KGD + "x1", doc_triples("x"), "x.html", "1"),
                             (KGD + "x2", doc_triples("x", version=2), "x.html", "2")], bulk=True)
        assert s.document_hashes()["x.html"] == (KGD + "x2", "2")
        assert KGD + "x1" not in s.graphs() and s.orphan_graphs() == []


def test_bulk_stream_keeps_the_old_version_until_the_new_one_is_loaded(tmp_path):
    with Store.open(tmp_path / "s") as s:
        s.replace_documents([(KGD + "v1", doc_triples("d", version=1), "d.html", "h1")])

        def stream():
            # while the new version streams in, the old one is still there to read
            assert s.document_hashes() == {"d.html": (KGD + "v1", "h1")}
            yield DocumentGraph(KGD + "v2", doc_triples("d", version=2), "d.html", "h2")

        s.replace_documents(stream(), bulk=True)
        assert s.graphs() == [KGD + "v2"]
        assert s.document_hashes() == {"d.html": (KGD + "v2", "h2")}


def test_per_snapshot_keeps_a_value_for_one_read_only_snapshot(tmp_path):
    """What is derived from a read-only snapshot is computed once, again after reopen (which may
    show a writer's changes); a writable store can change under its caller and computes anew."""
    path = tmp_path / "store"
    with Store.open(path) as s:
        s.replace_document(KGD + "a-1", doc_triples("a"), source_file="a.html", content_hash="h1")
        counts = iter(range(100))
        assert s.per_snapshot("k", lambda: next(counts)) == 0
        assert s.per_snapshot("k", lambda: next(counts)) == 1
    with Store.open(path, read_only=True) as r:
        graphs = lambda: len(r.graphs())
        assert r.per_snapshot("graphs", graphs) == 1
        with Store.open(path) as w:        # a read-only snapshot may be open beside a writer
            w.replace_document(KGD + "b-1", doc_triples("b"), source_file="b.html", content_hash="h2")
        assert r.per_snapshot("graphs", graphs) == 1
        r.reopen()
        assert r.per_snapshot("graphs", graphs) == 2


def test_replace_graph_and_orphans(store):
    onto = PREFIXES["kg"][:-1]
    store.replace_graph(onto, [ox.Triple(ox.NamedNode(onto), LABEL, ox.Literal("本体"))])
    store.replace_graph(onto, [ox.Triple(ox.NamedNode(onto), LABEL, ox.Literal("本体 v2"))])
    assert [q.object.value for q in store.quads(onto)] == ["本体 v2"]
    assert onto in store.catalog() and store.document_hashes() == {}
    # A graph written behind the catalog's back (as an interrupted bulk build leaves it).
    store.ox.add(ox.Quad(ox.NamedNode(KGL + "x"), LABEL, ox.Literal("x"),
                         ox.NamedNode(KGD + "stray")))
    assert store.orphan_graphs() == [KGD + "stray"]
    assert store.remove_orphans() == [KGD + "stray"]
    assert store.graphs() == [onto]


def test_interrupted_bulk_load_is_dropped_at_the_next_open(tmp_path):
    path = tmp_path / "store"
    with Store.open(path) as s:
        s.replace_documents([(KGD + "kept", doc_triples("kept"), "kept.html", "h0")], bulk=True)
        # what a kill between the loader and the catalog leaves: the load's mark, a graph the
        # catalog does not know
        s.ox.update(f"INSERT DATA {{ GRAPH <{CATALOG_GRAPH}> {{ <{CATALOG_GRAPH}> "
                    f"<{CATALOG_NS}bulkLoading> \"now\" }} }}")
        s.ox.add(ox.Quad(ox.NamedNode(KGL + "x"), LABEL, ox.Literal("x"), ox.NamedNode(KGD + "half")))
        assert s.orphan_graphs() == [KGD + "half"]
    with Store.open(path, read_only=True) as r:          # a reader repairs nothing
        assert r.orphan_graphs() == [KGD + "half"]
    with Store.open(path) as s:
        assert s.orphan_graphs() == []
        assert s.graphs() == [KGD + "kept"]
        assert s.document_hashes() == {"kept.html": (KGD + "kept", "h0")}
        assert not any(s.ox.quads_for_pattern(None, ox.NamedNode(CATALOG_NS + "bulkLoading"), None, None))


def test_a_graph_outside_the_catalog_without_the_mark_is_not_dropped_at_open(tmp_path):
    path = tmp_path / "store"
    with Store.open(path) as s:       # written by hand (kg serve --allow-update), not by a load
        s.ox.add(ox.Quad(ox.NamedNode(KGL + "x"), LABEL, ox.Literal("x"), ox.NamedNode(KGD + "mine")))
    with Store.open(path) as s:
        assert s.orphan_graphs() == [KGD + "mine"]


def test_bulk_load_of_worker_nquads_bytes_matches_quad_objects(tmp_path):
    docs = [(KGD + f"d{i}", [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(KGD + f"d{i}"))
                             for t in doc_triples(f"d{i}")], f"d{i}.html", f"h{i}") for i in range(3)]
    as_bytes = [(g, ox.serialize(q, format=ox.RdfFormat.N_QUADS), f, h) for g, q, f, h in docs]
    with Store.open(tmp_path / "objects") as a, Store.open(tmp_path / "bytes") as b:
        assert a.replace_documents(docs, bulk=True) == b.replace_documents(as_bytes, bulk=True) == 63
        for g in a.graphs():
            assert graph_quads(a, g) == graph_quads(b, g)
        assert catalog_without_time(a) == catalog_without_time(b)
        b.replace_documents(as_bytes[:1])                 # and atomically
        assert graph_quads(a, KGD + "d0") == graph_quads(b, KGD + "d0")


# ---------------------------------------------------------------------- processes

HOLDER = textwrap.dedent("""
    import sys
    from kg.store import Store
    s = Store.open(sys.argv[1])
    s.replace_document("https://w3id.org/fazhi-kg/doc/held", [], source_file="held.html",
                       content_hash="h")
    s.flush()
    print("ready", flush=True)
    sys.stdin.readline()        # hold the store open until the test is done
""")


@pytest.fixture
def holder(tmp_path):
    """Another process holding tmp_path/'store' open read-write."""
    path = tmp_path / "store"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout.readline().strip() == "ready"
    yield path
    proc.stdin.close()
    proc.wait(timeout=30)


def test_second_writer_gets_store_locked(holder):
    with pytest.raises(StoreLocked, match="in use"):
        Store.open(holder)


def test_second_opener_in_same_process_gets_store_locked(tmp_path):
    with Store.open(tmp_path / "s"):
        with pytest.raises(StoreLocked):
            Store.open(tmp_path / "s")
    with Store.open(tmp_path / "s"):      # released by close()
        pass


def test_read_only_while_another_process_writes(holder):
    with Store.open(holder, read_only=True) as ro:
        assert ro.document_hashes() == {"held.html": ("https://w3id.org/fazhi-kg/doc/held", "h")}
        with pytest.raises(StoreError, match="read-only"):
            ro.remove_document("held.html")


def test_read_only_of_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="no store"):
        Store.open(tmp_path / "missing", read_only=True)


def test_default_location_and_env(tmp_path, monkeypatch):
    monkeypatch.delenv("KG_STORE", raising=False)
    assert default_store_path() == Path(".kg/store")
    monkeypatch.setenv("KG_STORE", str(tmp_path / "elsewhere"))
    with Store.open() as s:
        assert s.path == tmp_path / "elsewhere"
    assert (tmp_path / "elsewhere" / "CURRENT").exists()


WRITER = textwrap.dedent("""
    import sys
    import pyoxigraph as ox
    from kg.store import Store
    KGD = "https://w3id.org/fazhi-kg/doc/"
    s = Store.open(sys.argv[1])
    def doc(i, v):
        n = 300 + 50 * v    # versions differ in size, so a half-written one would show
        return [ox.Triple(ox.NamedNode(f"{KGD}s{i}"), ox.NamedNode(f"{KGD}p{j}"),
                          ox.Literal(f"{v}-{j}")) for j in range(n)]
    print("ready", flush=True)
    v = 0
    while True:
        v += 1
        for i in range(3):
            s.replace_document(f"{KGD}d{i}-v{v % 4}", doc(i, v % 4), source_file=f"f{i}",
                               content_hash=str(v % 4))
""")


@pytest.mark.slow
def test_killed_writer_leaves_whole_documents(tmp_path):
    """SIGKILL a process replacing documents in a loop; every document is then whole."""
    path = tmp_path / "store"
    for delay in (0.2, 0.35, 0.5, 0.65, 0.8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                                text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with Store.open(path) as s:
            hashes = s.document_hashes()
            assert s.orphan_graphs() == []
            for source, (graph, h) in hashes.items():
                assert s.triple_count(graph) == 300 + 50 * int(h), (source, graph)
            assert sorted(s.graphs()) == sorted(g for g, _ in hashes.values())


SNAPSHOT_CHECK = f"""
    SELECT ?g ?h (COUNT(?s) AS ?n) WHERE {{
      GRAPH <{CATALOG_GRAPH}> {{ ?g <{CATALOG_NS}contentHash> ?h }}
      OPTIONAL {{ GRAPH ?g {{ ?s ?p ?o }} }}
    }} GROUP BY ?g ?h"""


@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason="a read-only RocksDB open during writes may miss the writer's "
                   "latest commit (seen 1 run in ~7); consistent concurrent reads are the Reliability issue")
def test_read_only_snapshots_while_a_writer_replaces_documents(tmp_path):
    """Readers opening snapshots during a write loop see whole documents and no errors."""
    path = tmp_path / "store"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                            text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.time() + 3
        opened = 0
        while time.time() < deadline:
            with Store.open(path, read_only=True) as ro:
                # One read = one snapshot (a retried read may take a newer one).
                rows = ro.read(lambda o: [tuple(r) for r in o.query(SNAPSHOT_CHECK)])
                assert len(rows) == 3
                for graph, h, n in rows:
                    assert int(n.value) == 300 + 50 * int(h.value), graph
                assert ro.graphs()      # the plain API works too
                opened += 1
        assert opened > 3
    finally:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------------- export

@pytest.fixture
def filled(store):
    store.replace_document(KGD + "a", doc_triples("a", 5), source_file="a.html", content_hash="1")
    store.replace_document(KGD + "b", doc_triples("b", 5) + doc_triples("a", 5)[:1],
                           source_file="b.html", content_hash="2")
    return store


def test_export_trig_and_nquads_round_trip(filled, tmp_path):
    n = filled.triple_count()
    filled.export(tmp_path / "all.trig", "trig")
    ds = rdflib.Dataset()
    ds.parse(tmp_path / "all.trig", format="trig")
    assert len(list(ds.quads((None, None, None, None)))) == n
    buf = io.BytesIO()
    filled.export(buf, "nquads")
    assert len(buf.getvalue().decode().strip().splitlines()) == n
    # Loading the dump into a fresh store gives the same store, catalog included.
    with Store.open(tmp_path / "copy") as copy:
        copy.ox.load(buf.getvalue(), ox.RdfFormat.N_QUADS)
        assert copy.document_hashes() == filled.document_hashes()


def test_export_jsonld_parses(filled, tmp_path):
    filled.export(tmp_path / "all.jsonld", "jsonld")
    ds = rdflib.Dataset()
    ds.parse(tmp_path / "all.jsonld", format="json-ld")
    assert len(list(ds.quads((None, None, None, None)))) == filled.triple_count()
    filled.export(tmp_path / "a.jsonld", "jsonld", graph=KGD + "a")
    g = rdflib.Dataset()
    g.parse(tmp_path / "a.jsonld", format="json-ld")
    assert len(list(g.quads((None, None, None, None)))) == 6


def test_export_turtle_is_the_union_or_one_graph(filled, tmp_path):
    filled.export(tmp_path / "all.ttl", "turtle")
    union = rdflib.Graph().parse(tmp_path / "all.ttl", format="turtle")
    distinct = {(q.subject, q.predicate, q.object) for q in filled.quads()}
    assert len(union) == len(distinct) == filled.triple_count() - 1   # one triple in a and b
    assert "@prefix kgl:" in (tmp_path / "all.ttl").read_text()
    filled.export(tmp_path / "b.nt", "ntriples", graph=KGD + "b")
    assert len(rdflib.Graph().parse(tmp_path / "b.nt", format="nt")) == 7
    with pytest.raises(ValueError, match="unknown export format"):
        filled.export(tmp_path / "x", "rdfxml")


def test_catalog_graph_is_listed_only_on_request(filled):
    assert CATALOG_GRAPH not in filled.graphs()
    assert CATALOG_GRAPH in filled.graphs(include_catalog=True)
