"""kg build/query/audit --endpoint: the graph on a real Oxigraph server gives what the embedded
store gives."""
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest
from click.testing import CliRunner

from kg import rdf
from kg.build import file_hash
from kg.cli import main
from kg.namespaces import CATALOG_GRAPH
from kg.query import Endpoint, list_queries, run_query
from kg.remote import catalog, graph_triples

from conftest import CORPUS, oxigraph_server

SEED1 = "001_db70a06a16628919.txt"

# Values for the parameters that have no default (and a few that do, to exercise binding).
PARAMS = {
    "mechanism": "M01", "locality": "乳山市", "document": SEED1, "target": "kgl:371083",
    "unit": "%", "min_documents": "1", "place": "乳山市",
    "doc": rdf.document_iri(file_hash(CORPUS / SEED1)).value.replace(rdf.KGD, "kgd:"),
}
N = len([p for p in CORPUS.iterdir() if p.suffix == ".txt"])     # documents in the corpus
PARAMS_OF = {"figures": {"mechanism": "M08", "unit": "%"}, "audit-kept-documents": {"target": "kgl:370000"}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from oxigraph_server(tmp_path_factory)


def invoke(*args):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


@pytest.fixture(scope="module")
def built(server, tmp_path_factory):
    """The same copy of the corpus built into the server and into an embedded store, from the
    same working directory (catalog keys are relative to it)."""
    work = tmp_path_factory.mktemp("work")
    shutil.copytree(CORPUS, work / "corpus")
    store = str(work / "store")
    cwd = os.getcwd()
    os.chdir(work)
    try:
        remote_out = invoke("build", "corpus", "--endpoint", server, "--no-progress")
        local_out = invoke("build", "corpus", "--store", store, "--no-progress")
        yield {"server": server, "store": store, "work": work,
               "remote_out": remote_out, "local_out": local_out}
    finally:
        os.chdir(cwd)


def rows(output):
    """SELECT results as a set of tuples of values (order-insensitive), from --format json."""
    data = json.loads(output)
    if "boolean" in data:
        return data["boolean"]
    names = data["head"]["vars"]
    out = set()
    for b in data["results"]["bindings"]:
        row = []
        for v in names:
            t = b.get(v)
            row.append(None if t is None else
                       (t["type"], t["value"], t.get("datatype"), t.get("xml:lang")))
        out.add(tuple(row))
    return out


def test_build_reports_every_document(built):
    n = N
    assert built["remote_out"].startswith(f"{n} document(s) built, 0 unchanged, 0 failed; {n} documents")
    assert built["local_out"].startswith(f"{n} document(s) built, 0 unchanged, 0 failed; {n} documents")


def test_same_graphs_and_catalog_layout(built):
    ep = Endpoint(built["server"])
    q = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    remote_graphs = {r[0] for r in run_query(ep, q).rows}
    from kg.store import Store
    with Store.open(built["store"], read_only=True) as s:
        assert remote_graphs == set(s.graphs(include_catalog=True))
        local_catalog = s.catalog()
        local_count = s.triple_count()
    remote_catalog = catalog(ep)
    assert CATALOG_GRAPH in remote_graphs
    assert {g: (sorted(r["source_files"]), r["content_hash"]) for g, r in remote_catalog.items()} == \
        {g: (sorted(r["source_files"]), r["content_hash"]) for g, r in local_catalog.items()}
    assert run_query(ep, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").rows == \
        [(local_count,)]


@pytest.mark.parametrize("nq", list_queries(), ids=lambda q: q.name)
def test_every_named_query_gives_the_same_rows(built, nq):
    args = []
    given = PARAMS_OF.get(nq.name) or {p.name: PARAMS[p.name] for p in nq.params
                                        if p.default is None and p.name in PARAMS}
    for name, value in given.items():
        args += ["--param", f"{name}={value}"]
    remote = rows(invoke("query", nq.name, *args, "--format", "json",
                         "--endpoint", built["server"]))
    local = rows(invoke("query", nq.name, *args, "--format", "json", "--store", built["store"]))
    assert remote == local
    assert remote, f"{nq.name} returned no rows: a weak comparison"


def test_rebuild_reports_all_unchanged(built):
    n = N
    out = invoke("build", "corpus", "--endpoint", built["server"], "--no-progress")
    assert out.startswith(f"0 document(s) built, {n} unchanged, 0 failed; {n} documents")


def test_changed_document_replaces_its_graph(built, tmp_path):
    ep = Endpoint(built["server"])
    source = "corpus/" + SEED1
    old_graph = next(g for g, r in catalog(ep).items() if source in r["source_files"])
    path = built["work"] / source
    original = path.read_bytes()
    try:
        path.write_bytes(original + "\n本文件仅供测试。\n".encode("utf-8"))
        out = invoke("build", "corpus", "--endpoint", built["server"], "--no-progress")
        assert out.startswith(f"1 document(s) built, {N - 1} unchanged")
        records = catalog(ep)
        new_graph = next(g for g, r in records.items() if source in r["source_files"])
        assert new_graph != old_graph and old_graph not in records
        assert graph_triples(ep, old_graph) == [] and graph_triples(ep, new_graph)
    finally:
        path.write_bytes(original)
        out = invoke("build", "corpus", "--endpoint", built["server"], "--no-progress")
        assert out.startswith(f"1 document(s) built, {N - 1} unchanged")
    assert graph_triples(ep, old_graph)
    assert sum(source in r["source_files"] for r in catalog(ep).values()) == 1


def test_audit_gives_the_same_statuses(built):
    def statuses(*target):
        report = json.loads(invoke("audit", "乳山市", "--against", SEED1, "--format", "json",
                                   "--record", *target))
        return {(r["notation"], r["set"]): (r["status"], [e["sentence"] for e in r["evidence"]])
                for r in report["rows"]}
    remote = statuses("--endpoint", built["server"])
    local = statuses("--store", built["store"])
    # the same evidence, quoted through SPARQL there and by index look-ups here
    assert remote == local and remote
    assert sum(len(quotes) for _, quotes in remote.values()) > 10
    assert all(q and q.strip() for _, quotes in remote.values() for q in quotes)
    assert remote[("M15", next(s for n, s in remote if n == "M15"))][0] == "planned"
    # The records went to the server's audit graph, as they go to the embedded store's.
    from kg.audit import AUDIT_GRAPH
    from kg.store import Store
    ep = Endpoint(built["server"])
    remote_records = {str(t) for t in graph_triples(ep, AUDIT_GRAPH)}
    with Store.open(built["store"], read_only=True) as s:
        local_records = {str(q.triple) for q in s.quads(AUDIT_GRAPH)}
    assert remote_records == local_records and remote_records


def test_audit_on_a_read_only_endpoint_skips_the_records(built):
    import kg.api as api
    ep = Endpoint(built["server"])
    ep.update_url = ep.store_url = None          # as for a query-only service (QLever)
    report = api.audit(ep, "乳山市", SEED1, write=True)
    assert report.rows
    assert any("not written" in n for n in report.notes)


def test_endpoint_option_errors(built):
    result = CliRunner().invoke(main, ["query", "matrix", "--endpoint", "ftp://x"])
    assert result.exit_code != 0 and "not an http(s) URL" in result.output
    result = CliRunner().invoke(main, ["query", "matrix", "--endpoint", built["server"],
                                       "--store", built["store"]])
    assert result.exit_code != 0 and "not both" in result.output
