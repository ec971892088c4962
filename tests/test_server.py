"""`kg serve` as a real subprocess, driven by SPARQLWrapper, urllib and headless Chromium.

The attacks on the server are in test_server_security.py, the W3C protocol cases in
test_protocol_w3c.py."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg import api
from kg.cli import main
from conftest import built_corpus, free_port, kg_server
from kg.server.formats import negotiate, parse_accept
from kg.sparqltext import operation_kind

ROOT = Path(__file__).resolve().parent.parent
COUNT_DOCS = "SELECT (COUNT(*) AS ?n) WHERE { ?d a kg:Document }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
RUSHAN = "乳山市"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return built_corpus(tmp_path_factory, "serve")


@pytest.fixture(scope="module")
def server(store):
    with kg_server(store, "--timeout", "2", "--max-results", "5000", "--max-request-bytes", "20000") as base:
        yield base


def _get(url, headers=None, method="GET", data=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _sparql_get(base, query, **params):
    return _get(base + "/sparql?" + urllib.parse.urlencode({"query": query, **params}))


def _wrapper(base, query, fmt):
    from SPARQLWrapper import SPARQLWrapper
    w = SPARQLWrapper(base + "/sparql")
    w.setQuery(query)
    w.setReturnFormat(fmt)
    return w.query()


def _expected_count(store):
    with api.open_store(store, read_only=True) as s:
        return api.query(s, COUNT_DOCS).rows[0][0]


# ------------------------------------------------------------------ unit: negotiation

def test_accept_and_format_negotiation():
    assert [m for m, _ in parse_accept("text/csv;q=0.5, application/sparql-results+xml")] == \
        ["application/sparql-results+xml", "text/csv"]
    assert negotiate("results", None) == "json"
    assert negotiate("results", "text/csv;q=0.9, application/sparql-results+xml;q=0.5") == "csv"
    assert negotiate("results", "text/csv", ["tsv"]) == "tsv"
    assert negotiate("results", "*/*") == "json"
    assert negotiate("graph", "*/*") == "turtle"
    assert negotiate("graph", "application/n-triples, text/turtle;q=0.2") == "ntriples"
    assert negotiate("graph", None, ["json"]) == "jsonld"
    assert negotiate("results", "image/png") is None
    assert operation_kind("PREFIX a: <urn:x#> INSERT DATA { <urn:a> <urn:b> <urn:c> }") == "update"
    assert operation_kind("# comment\nDROP ALL") == "update"
    assert operation_kind("PREFIX a: <urn:x#> SELECT * WHERE { ?s ?p ?o }") == "query"
    assert operation_kind("ASK { ?s <urn:insert> ?o }") == "query"


# ------------------------------------------------------------------ SPARQL protocol

def test_cli_help_defaults_to_localhost():
    r = CliRunner().invoke(main, ["serve", "--help"])
    assert r.exit_code == 0
    assert re.search(r"--host TEXT\s+Address to bind.*\[default:\s*127\.0\.0\.1\]", r.output, re.S)


def test_startup_line_names_localhost(store):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kg", "serve", "--store", str(store), "--port", str(port),
                             "--workers", "1"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert f"http://127.0.0.1:{port}/" in line
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)


def test_sparqlwrapper_select_json_xml_csv(server, store):
    from SPARQLWrapper import CSV, JSON, XML
    expected = _expected_count(store)
    assert expected == 5
    data = _wrapper(server, COUNT_DOCS, JSON).convert()
    assert int(data["results"]["bindings"][0]["n"]["value"]) == expected
    doc = _wrapper(server, COUNT_DOCS, XML).convert()
    assert doc.getElementsByTagName("literal")[0].firstChild.data == str(expected)
    csv = _wrapper(server, COUNT_DOCS, CSV).convert().decode("utf-8")
    assert csv.split() == ["n", str(expected)]


def test_sparqlwrapper_ask_and_construct(server):
    from SPARQLWrapper import JSON, TURTLE
    assert _wrapper(server, "ASK { ?d a kg:Document }", JSON).convert()["boolean"] is True
    assert _wrapper(server, "ASK { ?d a kg:NoSuchClass }", JSON).convert()["boolean"] is False
    res = _wrapper(server, "CONSTRUCT { ?d a kg:Document } WHERE { ?d a kg:Document }", TURTLE)
    assert "turtle" in res.response.headers.get("Content-Type")
    import rdflib
    g = rdflib.Graph().parse(data=res.convert().decode("utf-8"), format="turtle")
    assert len(g) == 5


def test_formats_by_accept_and_param(server):
    status, headers, body = _sparql_get(server, COUNT_DOCS)
    assert status == 200 and headers["Content-Type"].startswith("application/sparql-results+json")
    status, headers, body = _get(server + "/sparql?" + urllib.parse.urlencode({"query": COUNT_DOCS}),
                                 {"Accept": "text/tab-separated-values;q=0.8, text/csv;q=0.4"})
    assert headers["Content-Type"].startswith("text/tab-separated-values") and body.split() == [b"?n", b"5"]
    status, headers, body = _sparql_get(server, COUNT_DOCS, format="csv")
    assert headers["Content-Type"].startswith("text/csv")
    q = "CONSTRUCT { ?d a kg:Document } WHERE { ?d a kg:Document }"
    status, headers, body = _get(server + "/sparql?" + urllib.parse.urlencode({"query": q}),
                                 {"Accept": "application/n-triples"})
    assert headers["Content-Type"].startswith("application/n-triples") and body.count(b"\n") == 5
    status, headers, body = _sparql_get(server, q, format="json")
    assert headers["Content-Type"].startswith("application/ld+json")
    status, _, _ = _get(server + "/sparql?" + urllib.parse.urlencode({"query": COUNT_DOCS}),
                        {"Accept": "image/png"})
    assert status == 406


def test_post_form_and_sparql_query(server):
    status, _, body = _get(server + "/sparql", {"Content-Type": "application/x-www-form-urlencoded"},
                           "POST", urllib.parse.urlencode({"query": COUNT_DOCS}).encode())
    assert status == 200 and b'"5"' in body
    status, _, body = _get(server + "/sparql", {"Content-Type": "application/sparql-query",
                                                "Accept": "text/csv"}, "POST", COUNT_DOCS.encode())
    assert status == 200 and body.split() == [b"n", b"5"]


def test_cors(server):
    status, headers, _ = _sparql_get(server, COUNT_DOCS)
    assert headers["Access-Control-Allow-Origin"] == "*"
    status, headers, _ = _get(server + "/sparql", {"Origin": "http://example.org",
                                                   "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"},
                              "OPTIONS")
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "content-type" in headers["Access-Control-Allow-Headers"].lower()


def test_updates_refused_store_unchanged(server, store):
    def triples():
        with api.open_store(store, read_only=True) as s:
            return s.triple_count()
    before = triples()
    for body, ctype in [(urllib.parse.urlencode({"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}),
                         "application/x-www-form-urlencoded"),
                        ("DROP ALL", "application/sparql-update")]:
        status, _, msg = _get(server + "/sparql", {"Content-Type": ctype}, "POST", body.encode())
        assert status == 403 and b"read-only" in msg
    # an update sent as a query is not run as one, whatever the server allows
    status, _, msg = _get(server + "/sparql", {"Content-Type": "application/x-www-form-urlencoded"}, "POST",
                          urllib.parse.urlencode({"query": "DROP ALL"}).encode())
    assert status == 400 and b"this is an update" in msg
    status, _, _ = _sparql_get(server, "INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    assert status == 400
    assert triples() == before
    status, _, body = _sparql_get(server, "ASK { <urn:a> <urn:b> <urn:c> }")
    assert b"false" in body


def test_bad_query_and_protocol_dataset(server, store):
    status, _, body = _sparql_get(server, "SELECT * WHERE { ?s ?p ")
    assert status == 400 and b"syntax error" in body and body.count(b"\n") == 1
    status, _, _ = _get(server + "/sparql")
    assert status == 400
    # default-graph-uri: the default graph is that graph (a document's), not the union
    with api.open_store(store, read_only=True) as s:
        doc = str(api.query(s, "SELECT ?d WHERE { ?d a kg:Document } ORDER BY ?d LIMIT 1").rows[0][0])
    status, _, body = _sparql_get(server, COUNT_DOCS, format="csv", **{"default-graph-uri": doc})
    assert status == 200 and body.split() == [b"n", b"1"]
    status, _, body = _sparql_get(server, "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
                                  format="csv", **{"named-graph-uri": doc})
    assert status == 200 and body.split() == [b"n", b"1"]


def test_slow_query_is_stopped_and_server_still_answers(server):
    t = time.time()
    status, _, body = _sparql_get(server, SLOW)
    elapsed = time.time() - t
    assert status == 503 and b"exceeded the 2 s time limit" in body
    assert 1.5 < elapsed < 6
    status, _, body = _sparql_get(server, COUNT_DOCS)
    assert status == 200 and b'"5"' in body
    time.sleep(1.5)   # the killed worker's replacement starts in the background
    for _ in range(3):
        assert _sparql_get(server, COUNT_DOCS)[0] == 200


def test_result_cap(server):
    status, _, body = _sparql_get(server, "SELECT * WHERE { ?s ?p ?o }")
    assert status == 400 and b"exceeds the 5000-row cap" in body
    status, _, body = _sparql_get(server, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    assert status == 400 and b"5000-row cap" in body
    status, _, body = _sparql_get(server, "SELECT * WHERE { ?s ?p ?o } LIMIT 5000", format="tsv")
    assert status == 200 and body.count(b"\n") == 5001


def test_oversized_request(server):
    big = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 30000
    status, _, body = _get(server + "/sparql", {"Content-Type": "application/sparql-query"}, "POST",
                           big.encode())
    assert status == 413
    status, _, _ = _sparql_get(server, "SELECT * WHERE { ?s ?p ?o } LIMIT 1 #" + "x" * 25000)
    assert status in (413, 414)


# ------------------------------------------------------------------ HTML pages

EXTERNAL = re.compile(r"""(?:href|src|action)\s*=\s*["']?(https?://(?!127\.0\.0\.1)[^"' >]*)""", re.I)


LOADED = re.compile(r"""<(?:script|link)[^>]*(?:src|href)\s*=\s*["']([^"']*)""", re.I)


@pytest.mark.parametrize("path", ["/", f"/region/{RUSHAN}", "/matrix", "/query", "/graph",
                                  "/query?name=matrix",
                                  "/query?" + urllib.parse.urlencode({"name": "locality-mechanisms",
                                                                      "p.locality": "辽源市"})])
def test_pages_are_self_contained(server, path):
    status, headers, body = _get(server + urllib.parse.quote(path, safe="/?=&%"))
    assert status == 200, body[:500]
    assert headers["Content-Type"].startswith("text/html")
    assert "connect-src 'self'" in headers["Content-Security-Policy"]
    text = body.decode("utf-8")
    assert not EXTERNAL.findall(text)
    if path != "/graph":      # kg viz's page is its own; the rest load only this server's files
        for src in LOADED.findall(text):
            assert src.startswith("/static/"), src
            assert _get(server + src)[0] == 200


def test_query_page_preloads_a_bound_named_query(server):
    status, _, body = _get(server + "/query?" + urllib.parse.urlencode(
        {"name": "locality-mechanisms", "p.locality": "辽源市"}))
    text = body.decode("utf-8")
    assert status == 200 and 'name="p.locality"' in text and 'value="辽源市"' in text
    config = json.loads(re.search(r'<script id="kg-query-config" type="application/json">(.*?)</script>',
                                  text, re.S).group(1))
    assert config["endpoint"] == "/sparql" and config["prefixes"]["kg"].endswith("ontology#")
    assert 'VALUES ?locality { "辽源市"' in config["query"]
    assert "audit-documents" not in text         # internal queries are not offered
    status, _, body = _get(server + "/query?" + urllib.parse.urlencode(
        {"name": "locality-mechanisms", "p.nope": "x"}))
    assert status == 400 and b"unknown parameter" in body


def test_region_page_shows_mechanisms_with_evidence(server, store):
    with api.open_store(store, read_only=True) as s:
        rows = api.query(s, "locality-mechanisms", {"locality": RUSHAN}).to_dicts()
    status, _, body = _get(server + "/region/" + urllib.parse.quote(RUSHAN))
    text = body.decode("utf-8")
    assert RUSHAN in text and "371083" in text
    import html
    for r in rows[:5]:
        assert f"<b>{r['notation']}</b>" in text
        assert html.escape(r["evidence"]) in text
    assert "Audit" in text and "st-implemented" in text
    status, _, _ = _get(server + "/region/" + urllib.parse.quote("不存在的地方"))
    assert status == 404


def test_home_and_matrix_content(server):
    text = _get(server + "/")[2].decode("utf-8")
    assert "documents" in text and f'href="/region/{urllib.parse.quote(RUSHAN)}"' in text
    text = _get(server + "/matrix")[2].decode("utf-8")
    assert "st-implemented" in text and RUSHAN in text and "M01" in text


def test_matrix_page_by_region_and_in_pages(server, store, monkeypatch):
    """/matrix?region= keeps the localities under a region; a long matrix comes in pages."""
    text = _get(server + "/matrix?" + urllib.parse.urlencode({"region": "山东省"}))[2].decode("utf-8")
    assert RUSHAN in text and "辽源市" not in text and "1 regions" in text
    status, _, _ = _get(server + "/matrix?" + urllib.parse.urlencode({"region": "不存在的地方"}))
    assert status == 404
    from kg.server import pages
    from kg.store import Store
    monkeypatch.setattr(pages, "MATRIX_PAGE_ROWS", 2)
    with Store.open(store, read_only=True) as s:
        first, second, third = (pages.matrix(s, {"page": str(k)}) for k in (1, 2, 3))
        monkeypatch.setattr(pages, "MATRIX_PAGE_ROWS", 200)
        whole = pages.matrix(s, {})

    def rows(page):
        return re.findall(r'<tr><th><a href="/region/[^"]*">([^<]*)</a>', page)
    assert len(rows(whole)) >= 4
    assert rows(first) + rows(second) + rows(third) == rows(whole) and len(rows(first)) == 2
    assert 'href="/matrix?page=2"' in first and "<b>2</b>" in second


def test_graph_page(server):
    status, _, body = _get(server + "/graph")
    assert status == 200
    assert len(body) > 10_000 and RUSHAN.encode() in body


def test_html_is_escaped(server):
    status, _, body = _get(server + "/query?" + urllib.parse.urlencode(
        {"name": "locality-mechanisms", "p.locality": '"><script>alert(1)</script>'}))
    assert status == 200
    assert b"<script>alert" not in body and b"&lt;script&gt;alert(1)" in body


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium")
@pytest.mark.parametrize("path", [f"/region/{RUSHAN}", "/matrix"])
def test_chromium_renders(server, tmp_path, path):
    png = tmp_path / "shot.png"
    url = server + urllib.parse.quote(path)
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}", "--window-size=1200,900",
                    url], capture_output=True, timeout=90)
    assert png.exists() and png.stat().st_size > 5000


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium")
def test_query_page_runs_a_named_query_in_chromium(server, store, tmp_path):
    """YASGUI, served by the server itself, runs the bound named query against /sparql and shows
    its rows (the page's ?run=1 link), with no other host to reach."""
    with api.open_store(store, read_only=True) as s:
        rows = api.query(s, "locality-mechanisms", {"locality": RUSHAN}).rows
    url = server + "/query?" + urllib.parse.urlencode({"name": "locality-mechanisms", "p.locality": RUSHAN,
                                                        "run": "1"})
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                          "--virtual-time-budget=10000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120).stdout
    assert f"{len(rows)} results in" in dom
    assert "全面落实三项制度" in dom


def test_pages_are_kept_until_the_store_changes(server):
    url = server + "/matrix?" + urllib.parse.urlencode({"region": "福建省"})
    first = _get(url)
    second = _get(url)
    assert first[1]["X-Kg-Cache"] == "miss" and second[1]["X-Kg-Cache"] == "hit"
    assert first[2] == second[2]
    # the default views are made as the server starts
    deadline = time.time() + 60
    while _get(server + "/graph")[1]["X-Kg-Cache"] != "hit" and time.time() < deadline:
        time.sleep(0.5)
    assert _get(server + "/graph")[1]["X-Kg-Cache"] == "hit"


# ------------------------------------------------------------------ concurrency (last: it adds documents)

def test_answers_while_kg_build_writes(server, store):
    """`kg build` holds the store read-write in another process; the server keeps answering from
    read-only snapshots and sees the new documents once the build is done."""
    build = subprocess.Popen([sys.executable, "-m", "kg", "build", str(ROOT / "tests" / "docs"),
                              "--store", str(store), "--no-progress"], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    statuses = []
    while build.poll() is None:
        statuses.append(_sparql_get(server, COUNT_DOCS)[0])
        time.sleep(0.05)
    out, err = build.communicate()
    assert build.returncode == 0, err
    assert statuses and set(statuses) == {200}
    deadline = time.time() + 10
    while True:
        body = _sparql_get(server, COUNT_DOCS, format="csv")[2]
        if int(body.split()[-1]) > 5 or time.time() > deadline:
            break
        time.sleep(0.3)
    assert int(body.split()[-1]) > 5
    # the pages kept for the old store are not served any more
    status, headers, _ = _get(server + "/matrix?" + urllib.parse.urlencode({"region": "山东省"}))
    assert status == 200 and headers["X-Kg-Cache"] == "miss"

