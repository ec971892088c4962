"""kg.query: named queries, safe parameters, output formats, and a real Oxigraph server."""
import csv
import io
import json
import shutil
import socket
import subprocess
import time
import urllib.request

import pyoxigraph as ox
import pytest
import rdflib

from conftest import free_port, oxigraph_server

from kg.namespaces import PREFIXES
from kg.query import (Endpoint, EndpointError, IRI, QueryError, QueryParamError, bind_values,
                      display_width, format_result, list_queries, load_query, parse_header,
                      query_variables, run_query)
from kg.store import Store

KG, KGL, KGM, KGD = (PREFIXES[p] for p in ("kg", "kgl", "kgm", "kgd"))
RDFS_LABEL = ox.NamedNode(PREFIXES["rdfs"] + "label")


def nn(iri):
    return ox.NamedNode(iri)


def locality(code, name, year, mechanisms):
    loc = nn(KGL + code)
    out = [ox.Triple(loc, RDFS_LABEL, ox.Literal(name)),
           ox.Triple(loc, nn(KG + "year"), ox.Literal(year))]
    out += [ox.Triple(loc, nn(KG + "reports"), nn(KGM + m)) for m in mechanisms]
    return out


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "store") as s:
        s.replace_document(KGD + "rs", locality("371083", "乳山市", 2023, ["M01", "M02"]),
                           source_file="rs.html", content_hash="1")
        s.replace_document(KGD + "wh", locality("371000", "威海市", 2024, ["M01"]),
                           source_file="wh.html", content_hash="2")
        s.replace_document(KGD + "long", locality("000001", "某" * 80, 2022, []),
                           source_file="long.html", content_hash="3")
        yield s


MECHANISMS = """# Which mechanisms does a locality report?
# Lists the mechanisms of the locality named ?place,
# one row per mechanism.
# param: place — the locality's name (default: 乳山市)
SELECT ?loc ?place ?m WHERE {
  GRAPH ?g { ?loc rdfs:label ?place ; kg:reports ?m }
} ORDER BY ?m
"""


def test_hostile_value_binds_as_a_plain_literal(store):
    before = {str(q) for q in store.quads()}
    hostile = '乳山市" } ; DROP ALL ; #'
    res = run_query(store, MECHANISMS, {"place": hostile})
    assert res.kind == "select" and res.rows == []
    assert {str(q) for q in store.quads()} == before
    # The same through the VALUES path (a variable the SELECT does not project).
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?loc rdfs:label ?place ; kg:reports ?m } }"
    assert run_query(store, count, {"place": hostile}).rows == [(0,)]
    assert {str(q) for q in store.quads()} == before


def test_parameters_defaults_and_types(store):
    res = run_query(store, MECHANISMS)                      # the default: 乳山市
    assert [r[2] for r in res.rows] == [KGM + "M01", KGM + "M02"]
    assert isinstance(res.rows[0][0], IRI)
    assert run_query(store, MECHANISMS, {"place": "威海市"}).to_dicts() == [
        {"loc": KGL + "371000", "place": "威海市", "m": KGM + "M01"}]
    # Not projected, under an aggregate: bound through VALUES.
    count = "SELECT (COUNT(DISTINCT ?loc) AS ?n) WHERE { GRAPH ?g { ?loc kg:reports ?m } }"
    assert run_query(store, count, {"m": "kgm:M01"}).rows == [(2,)]
    assert run_query(store, count, {"m": f"<{KGM}M02>"}).rows == [(1,)]
    assert run_query(store, count, {"m": "M01"}).rows == [(0,)]       # a string, not the IRI
    typed = "# Localities of a year\n# param: year (integer) — report year\n" \
            "SELECT ?loc WHERE { GRAPH ?g { ?loc kg:year ?year } }"
    assert run_query(store, typed, {"year": "2024"}).rows == [(KGL + "371000",)]
    with pytest.raises(QueryParamError, match="integer"):
        run_query(store, typed, {"year": "二〇二四"})


def test_unknown_parameter_and_bad_iri_are_errors(store):
    with pytest.raises(QueryParamError, match="unknown parameter 'city'"):
        run_query(store, MECHANISMS, {"city": "乳山市"})
    with pytest.raises(QueryParamError, match="not a valid IRI"):
        run_query(store, MECHANISMS, {"m": "<http://x/> } ; DROP ALL ; <http://y>"})
    # A variable named only in a comment or string is not a parameter.
    q = '# ?ghost\nSELECT ?s WHERE { ?s rdfs:label "?ghost" }'
    with pytest.raises(QueryParamError):
        run_query(store, q, {"ghost": "x"})


def test_prefixes_predeclared_unless_the_query_declares_them(store):
    assert run_query(store, "ASK { GRAPH ?g { ?s kg:reports kgm:M01 } }").boolean is True
    own = "PREFIX kgm: <http://example.org/other/>\nASK { GRAPH ?g { ?s kg:reports kgm:M01 } }"
    assert run_query(store, own).boolean is False


def test_syntax_error_reports_the_callers_line(store):
    with pytest.raises(QueryError, match=r"error at 3:"):
        run_query(store, "# t\nSELECT ?s\nWHERE { ?s ?p }")
    with pytest.raises(QueryError, match=r"error at 1:[12][0-9]\b"):
        run_query(store, "SELECT ?s { ?s ?p }")


def test_bind_values_placement():
    t = ox.Literal("x")
    q = 'SELECT ?a WHERE { ?a ?b "WHERE { }" # WHERE {\n }'
    assert bind_values(q, {"b": t}) == 'SELECT ?a WHERE { VALUES ?b { "x" }  ?a ?b "WHERE { }" # WHERE {\n }'
    sub = "SELECT * { { SELECT ?a WHERE { ?a ?b ?c } } }"
    assert bind_values(sub, {"a": t}).startswith('SELECT * { VALUES ?a { "x" }  {')
    construct = "CONSTRUCT { ?a ?b ?c } WHERE { ?a ?b ?c }"
    assert bind_values(construct, {"c": t}) == \
        'CONSTRUCT { ?a ?b ?c } WHERE { VALUES ?c { "x" }  ?a ?b ?c }'
    assert query_variables('SELECT ?a $b WHERE { ?a <http://x/?c> "?d" } # ?e') == {"a", "b"}


def test_table_aligns_cjk_and_truncates(store):
    res = run_query(store, "SELECT ?loc ?name WHERE { GRAPH ?g { ?loc rdfs:label ?name } } "
                           "ORDER BY ?loc")
    text = format_result(res, "table")
    lines = text.splitlines()
    assert lines[-1] == "(3 rows)"
    grid = lines[:-1]
    # Every row's column separator sits at the same display column.
    seps = {display_width(line[:line.index("|")]) for line in grid if "|" in line}
    assert len(seps) == 1
    assert "kgl:371083" in text and "乳山市" in text
    long_row = next(line for line in grid if "某" in line)
    assert long_row.endswith("…")
    assert display_width(long_row.split(" | ")[1]) <= 60


def test_csv_tsv_json_follow_the_sparql_results_formats(store):
    res = run_query(store, MECHANISMS)
    doc = json.loads(format_result(res, "json"))
    assert doc["head"]["vars"] == ["loc", "place", "m"]
    assert doc["results"]["bindings"][0]["m"] == {"type": "uri", "value": KGM + "M01"}
    text = format_result(res, "csv")
    assert text.startswith("loc,place,m\r\n")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == [KGL + "371083", "乳山市", KGM + "M01"]
    tsv = format_result(res, "tsv").splitlines()
    assert tsv[0] == "?loc\t?place\t?m"
    assert tsv[1].split("\t") == [f"<{KGL}371083>", '"乳山市"', f"<{KGM}M01>"]
    out = io.BytesIO()
    format_result(res, "json", out)
    assert json.loads(out.getvalue())["results"]["bindings"]
    with pytest.raises(QueryError):
        format_result(res, "xml")


def test_ask_and_construct_output(store):
    ask = run_query(store, "ASK { GRAPH ?g { ?s kg:reports ?m } }", {"m": "kgm:M02"})
    assert format_result(ask, "table") == "true\n"
    assert json.loads(format_result(ask, "json")) == {"head": {}, "boolean": True}
    con = run_query(store, "CONSTRUCT { ?s kg:reports ?m } WHERE { GRAPH ?g { ?s kg:reports ?m } }")
    assert con.kind == "graph" and len(con.triples) == 3
    ttl = format_result(con, "table")
    assert "kgm:M01" in ttl
    assert len(rdflib.Graph().parse(data=ttl, format="turtle")) == 3
    assert len(rdflib.Graph().parse(data=format_result(con, "json"), format="json-ld")) == 3


# ---------------------------------------------------------------------- named queries

def test_list_and_load_named_queries(tmp_path, monkeypatch):
    (tmp_path / "mechanisms.rq").write_text(MECHANISMS, encoding="utf-8")
    (tmp_path / "by_year.rq").write_text(
        "# Localities by year\n#\n# param: year (xsd:integer) — the year (default: 2023)\n"
        "# param: kind\n\nSELECT ?loc WHERE { ?loc kg:year ?year ; a ?kind }\n",
        encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a query")
    queries = list_queries(tmp_path)
    assert [q.name for q in queries] == ["by_year", "mechanisms"]
    by_year, mech = queries
    assert mech.title == "Which mechanisms does a locality report?"
    assert mech.description == "Lists the mechanisms of the locality named ?place,\none row per mechanism."
    assert [(p.name, p.description, p.default, p.type) for p in mech.params] == [
        ("place", "the locality's name", "乳山市", None)]
    assert [(p.name, p.description, p.default, p.type) for p in by_year.params] == [
        ("year", "the year", "2023", "integer"), ("kind", "", None, None)]
    monkeypatch.setenv("KG_QUERIES", str(tmp_path))
    assert load_query("mechanisms").text == MECHANISMS
    assert load_query(tmp_path / "by_year.rq").name == "by_year"
    with pytest.raises(QueryError, match="no query named 'nope'.*by_year, mechanisms"):
        load_query("nope")


def test_named_query_runs_with_its_declared_types(store, tmp_path):
    (tmp_path / "by_year.rq").write_text(
        "# Localities by year\n# param: year (integer) (default: 2023)\n"
        "SELECT ?loc WHERE { GRAPH ?g { ?loc kg:year ?year } }\n", encoding="utf-8")
    q = load_query("by_year", tmp_path)
    assert run_query(store, q).rows == [(KGL + "371083",)]
    assert run_query(store, q, {"year": "2022"}).rows == [(KGL + "000001",)]


def test_header_parsing_edge_cases():
    assert parse_header("SELECT * {}") == ("", "", ())
    title, desc, params = parse_header("#   标题  \n# param: x — 说明 — 带破折号\nSELECT ?x {}")
    assert title == "标题" and desc == ""
    assert params[0].name == "x" and params[0].description == "说明 — 带破折号"


def test_repository_queries_parse():
    """Whatever is in queries/ has a title (the CLI lists them)."""
    for q in list_queries():
        assert q.title, q.path


# ---------------------------------------------------------------------- remote endpoint

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from oxigraph_server(tmp_path_factory)


def test_endpoint_urls_are_derived_for_oxigraph():
    e = Endpoint("http://localhost:7878")
    assert (e.query_url, e.update_url, e.store_url) == (
        "http://localhost:7878/query", "http://localhost:7878/update", "http://localhost:7878/store")
    e = Endpoint("https://example.org/sparql")
    assert e.update_url is None and e.store_url is None
    with pytest.raises(EndpointError, match="graph store"):
        e.put_graph(KGD + "x", b"")


def test_endpoint_gives_the_same_results_as_the_local_store(server, store):
    endpoint = Endpoint(server + "/query")
    for graph in store.graphs():
        buf = io.BytesIO()
        store.export(buf, "ntriples", graph=graph)
        endpoint.put_graph(graph, buf.getvalue())
    for params in (None, {"place": "威海市"}, {"place": '乳山市" } ; DROP ALL ; #'}):
        remote = run_query(endpoint, MECHANISMS, params)
        local = run_query(store, MECHANISMS, params)
        assert remote.vars == local.vars and remote.rows == local.rows
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?loc kg:reports ?m } }"
    assert run_query(endpoint, count, {"m": "kgm:M01"}).rows == [(2,)]
    union = "SELECT ?loc WHERE { ?loc kg:reports ?m }"
    assert run_query(endpoint, union, {"m": "kgm:M02"}).rows == []
    assert run_query(endpoint, union, {"m": "kgm:M02"}, union_default_graph=True).rows == \
        run_query(store, union, {"m": "kgm:M02"}, union_default_graph=True).rows == \
        [(KGL + "371083",)]
    assert run_query(endpoint, "ASK { GRAPH ?g { ?s ?p ?o } }").boolean is True
    con = run_query(endpoint, "CONSTRUCT { ?s kg:reports ?m } WHERE { GRAPH ?g { ?s kg:reports ?m } }")
    assert con.kind == "graph" and len(con.triples) == 3
    assert format_result(run_query(endpoint, MECHANISMS), "csv") == \
        format_result(run_query(store, MECHANISMS), "csv")
    # Errors come back as one readable line, with positions as in the caller's text.
    with pytest.raises(EndpointError, match=r"HTTP 400.*error at 1:[12][0-9]\b"):
        run_query(endpoint, "SELECT ?s { ?s ?p }")
    assert endpoint.delete_graph(KGD + "wh") is True
    assert endpoint.delete_graph(KGD + "wh") is False
    assert run_query(endpoint, MECHANISMS, {"place": "威海市"}).rows == []
    endpoint.update("DROP ALL")
    assert run_query(endpoint, "ASK { GRAPH ?g { ?s ?p ?o } }").boolean is False


def test_unreachable_endpoint_is_a_clear_error():
    with pytest.raises(EndpointError, match="cannot reach"):
        run_query(Endpoint(f"http://127.0.0.1:{free_port()}/query", timeout=5), "ASK {}")


def test_rows_are_made_with_the_cyclic_collector_paused():
    """A result's ~10^5 tuples hold no cycles: the collector's passes over them (and over all
    the process holds) were a third of a large query's time. It is on again afterwards."""
    import gc
    gc.collect()            # what the session made so far: no full pass due in the middle of this
    store = Store.memory()
    g = ox.NamedNode("https://example.org/g")
    p = ox.NamedNode("https://example.org/p")
    store.ox.extend(ox.Quad(ox.NamedNode(f"https://example.org/s{i}"), p, ox.Literal(i), g)
                    for i in range(30_000))
    passes = []

    def seen(phase, info):
        if phase == "start":
            passes.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        result = store.query("SELECT ?s ?o WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?o",
                             union_default_graph=True)
        rows = result.rows
    finally:
        gc.callbacks.remove(seen)
    assert len(rows) == 30_000 and rows[-1][1] == 29_999
    # a pass or two from the code around it; ~300 while the rows were made with it running
    assert len(passes) < 5 and gc.isenabled(), passes[:20]
    # and they went to the oldest generation untraversed, not into the young one that the
    # next passes would traverse whole (as they would be after these allocations); nothing
    # stays frozen
    later = [object() for _ in range(5_000)]
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(result.terms[0]) in oldest and id(rows[0]) in oldest and later
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("order", ["?name", "DESC(?name)", "?n ?name", "DESC(?n) ?name", "?name DESC(?n)",
                                   "?tag DESC(?n)", "DESC(?tag) DESC(?n) ?name"])
def test_rows_sorted_here_come_in_the_engines_order(order):
    """An ORDER BY of plain variables is sorted in Python (kg.binding.sort_terms), not by the
    engine: the same order on every key, unbound first, numbers by value, either direction."""
    import random
    from kg.results import Result, python_value
    store = Store.memory()
    rnd = random.Random(7)
    g = ox.NamedNode("https://example.org/g")
    name, n, tag = (ox.NamedNode(f"https://example.org/{p}") for p in ("name", "n", "tag"))
    quads = []
    for i in range(400):
        s = ox.NamedNode(f"https://example.org/s{i}")
        quads.append(ox.Quad(s, name, ox.Literal(rnd.choice(["甲", "乙", "丙", "a", "B", "b", "江北区"])), g))
        if i % 5:
            value = rnd.randrange(20)
            quads.append(ox.Quad(s, n, ox.Literal(str(value), datatype=ox.NamedNode(
                PREFIXES["xsd"] + rnd.choice(["integer", "decimal", "double"]))) if i % 3 else ox.Literal(value), g))
        if i % 7:
            quads.append(ox.Quad(s, tag, ox.NamedNode(f"https://example.org/tag/{rnd.randrange(4)}"), g))
    store.ox.extend(quads)
    sparql = ("SELECT ?s ?name ?n ?tag WHERE { GRAPH ?g { ?s <https://example.org/name> ?name "
              "OPTIONAL { ?s <https://example.org/n> ?n } OPTIONAL { ?s <https://example.org/tag> ?tag } } } "
              f"ORDER BY {order}")
    keys = [k.strip("DESC()?") for k in order.split()]
    here = store.query(sparql, union_default_graph=True)
    engine = Result.from_oxigraph(store.ox.query(sparql, use_default_graph_as_union=True))

    def key_columns(result):
        return [tuple(python_value(row[result.vars.index(k)]) if row[result.vars.index(k)] is not None else None
                      for k in keys) for row in result.terms]
    assert len(here.terms) == 400
    assert key_columns(here) == key_columns(engine)
