"""The graph of the bundled corpus: named queries answer what the texts say, builds are
idempotent, the store conforms to the shapes. Runs the CLI against a real Oxigraph store."""
import json
import shutil

import pytest
from click.testing import CliRunner

from kg import api, summary
from kg.cli import main

from conftest import CORPUS
from kg.namespaces import PREFIXES
from kg.store import Store

PREFIXES_KGD = PREFIXES["kgd"]


def kg(*args, store):
    result = CliRunner().invoke(main, [*args, "--store", str(store)])
    return result


def rows(*args, store):
    result = kg("query", *args, "--format", "json", store=store)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    return [{k: v["value"] for k, v in b.items()} for b in data["results"]["bindings"]]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("graph")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    store = root / "store"
    result = CliRunner().invoke(main, ["build", str(corpus), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "5 document(s) built" in result.output
    return corpus, store


def test_jiangbei_implements_all_three_components(built):
    _, store = built
    found = rows("localities-implementing", "--param", "mechanism=三项制度", store=store)
    jiangbei = {r["via"] for r in found if r["locality"] == "江北区"}
    assert {"M01a", "M01b", "M01c"} <= jiangbei
    assert all(r["evidence"] for r in found)


def test_liaoyuan_reports_shufa_and_fuyuan_liandong(built):
    _, store = built
    found = rows("locality-mechanisms", "--param", "locality=220400", store=store)
    implemented = {r["notation"] for r in found if r["status"] == "implemented"}
    assert {"M07", "M34"} <= implemented


def test_rushan_has_one_public_lawyer_and_one_external_counsel(built):
    _, store = built
    found = {r["kind_label"]: r for r in rows("institutions", "--param", "locality=乳山市", store=store)}
    assert float(found["公职律师"]["count"]) == 1
    assert float(found["法律顾问"]["count"]) == 1
    assert "外聘法律顾问1人" in " ".join(
        r["evidence"] for r in rows("figures", "--param", "mechanism=M04", store=store))


def test_fuqing_court_appearance_rate_is_100_percent(built):
    _, store = built
    found = rows("figures", "--param", "mechanism=出庭应诉", "--param", "unit=%", store=store)
    fuqing = [r for r in found if r["locality"] == "福清市"]
    assert fuqing and all(float(r["value"]) == 100 for r in fuqing)


def test_shangri_la_notice_obliges_complaint_handling(built):
    _, store = built
    found = rows("obligations", "--param", "document=001_db70a06a16628919.txt", store=store)
    m30 = [r for r in found if r.get("notation") == "M30"]
    assert m30 and all(r["modality"] == "must" for r in m30)
    assert all(r["source"].endswith("001_db70a06a16628919.txt") for r in found)


def test_store_conforms_to_shapes(built):
    _, store = built
    with api.open_store(store) as s:
        conforms, report = api.validate(s)
    assert conforms, report[:2000]


def graph_quads(store):
    """{graph IRI: set of quads} of the document graphs."""
    out = {}
    with api.open_store(store) as s:
        for q in s.quads():
            g = str(q.graph_name)
            if "/doc/" in g:
                out.setdefault(g, set()).add(str(q))
    return out


def test_rebuild_is_idempotent_and_an_edit_replaces_one_graph(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    store = tmp_path / "store"
    assert kg("build", str(corpus), store=store).exit_code == 0
    before = graph_quads(store)
    result = kg("build", str(corpus), store=store)
    assert "0 document(s) built, 5 unchanged" in result.output
    assert graph_quads(store) == before

    target = next(corpus.glob("002_*.txt"))
    target.write_text(target.read_text(encoding="utf-8") + "\n另外，全面推行证明事项告知承诺制。\n",
                      encoding="utf-8")
    result = kg("build", str(corpus), store=store)
    assert "1 document(s) built, 4 unchanged" in result.output, result.output
    after = graph_quads(store)
    changed_away = set(before) - set(after)
    new = set(after) - set(before)
    assert len(changed_away) == 1 and len(new) == 1        # one graph replaced, whole
    assert {g: after[g] for g in after if g not in new} == {g: before[g] for g in before
                                                            if g not in changed_away}
    assert any("告知承诺" in q for q in after[new.pop()])


def test_remove_and_stats(built, tmp_path):
    _, store = built
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    stats = kg("stats", store=copy).output
    assert "documents   5" in stats
    assert kg("remove", "004_e024606ab6009260.txt", store=copy).exit_code == 0
    assert "documents   4" in kg("stats", store=copy).output
    assert kg("remove", "004_e024606ab6009260.txt", store=copy).exit_code != 0


@pytest.mark.parametrize("fmt,check", [
    ("turtle", lambda t: "@prefix" in t or "<https://w3id.org/fazhi-kg/" in t),
    ("trig", lambda t: "GRAPH" in t or "{" in t),
    ("nquads", lambda t: t.count("\n") > 100),
    ("jsonld", lambda t: json.loads(t) is not None),
])
def test_export_formats(built, tmp_path, fmt, check):
    _, store = built
    out = tmp_path / f"out.{fmt}"
    result = kg("export", "--format", fmt, "--document", "000_2901c26b523a80cb.txt", "-o", str(out),
                store=store)
    assert result.exit_code == 0, result.output
    assert check(out.read_text(encoding="utf-8"))


def test_query_formats_and_hostile_parameters(built):
    _, store = built
    csv = kg("query", "matrix", "--format", "csv", store=store).stdout
    assert csv.splitlines()[0] == "code,locality,notation,statuses"
    tsv = kg("query", "matrix", "--format", "tsv", store=store).stdout
    assert tsv.splitlines()[0].startswith("?code\t")
    with api.open_store(store) as s:
        before = s.triple_count()
    hostile = '乳山市" } ; DROP ALL ; #'
    assert rows("locality-mechanisms", "--param", f"locality={hostile}", store=store) == []
    with api.open_store(store) as s:
        assert s.triple_count() == before
    bad = kg("query", "matrix", "--param", "nope=1", store=store)
    assert bad.exit_code != 0 and "unknown parameter" in bad.output


def test_query_list_names_every_file(built):
    _, store = built
    listing = kg("query", "--list", store=store).output
    for name in ("localities-implementing", "locality-mechanisms", "matrix", "figures",
                 "institutions", "obligations", "candidates", "mechanisms-overview"):
        assert name in listing


def test_python_api_runs_named_and_literal_queries(built):
    _, store = built
    with api.open_store(store) as s:
        r = api.query(s, "mechanisms-overview")
        assert "notation" in r.vars and len(r.rows) > 20
        r = api.query(s, "SELECT (COUNT(*) AS ?n) WHERE { ?d a kg:Report }")
        assert int(r.rows[0][0]) == 4
        assert api.stats(s)["documents"] == 5


def test_evidence_sentences_are_named_by_their_offsets_in_the_source(built):
    """Provenance: `<doc>#char=s,e` is characters s..e of the file as read, and its kg:text is
    exactly those characters, in every document (004 is in traditional script with pinyin)."""
    from kg import read, rdf
    corpus, store = built
    found = rows("-e", """SELECT ?file ?sentence ?text WHERE {
        ?x kg:evidence ?sentence . ?sentence kg:text ?text . ?x kg:inDocument ?doc .
        ?doc kg:sourceFile ?file }""", store=store)
    assert {r["file"].rsplit("/", 1)[-1] for r in found} == {p.name for p in corpus.iterdir()
                                                          if p.suffix == ".txt"}
    sources = {}
    for r in found:
        name = r["file"].rsplit("/", 1)[-1]
        source = sources.setdefault(name, read.read_file(corpus / name).text)
        start, end = rdf.span_of(r["sentence"])
        assert r["sentence"].startswith(PREFIXES_KGD) and 0 <= start < end <= len(source)
        assert source[start:end] == r["text"]


def test_assertion_index_restates_every_assertion_of_its_document(built):
    """kg:assertionIndex (what the audit reads) says exactly what the assertion nodes say:
    the same (mechanism, status) pairs with the same evidence sentences, in every document."""
    from kg import rdf
    _, store = built
    nodes = {}
    for r in rows("-e", """SELECT ?doc ?notation ?status ?sentence WHERE {
            GRAPH ?doc { ?a kg:mechanism ?m ; kg:status ?s ; kg:evidence ?sentence }
            ?m skos:notation ?notation . ?s skos:notation ?status }""", store=store):
        nodes.setdefault(r["doc"], set()).add((r["notation"], r["status"], r["sentence"]))
    indexed = {}
    for r in rows("-e", "SELECT ?doc ?index WHERE { GRAPH ?doc { ?doc kg:assertionIndex ?index } }",
                  store=store):
        for notation, status, spans in rdf.parse_assertion_index(r["index"]):
            for start, end in spans:
                indexed.setdefault(r["doc"], set()).add((notation, status, f"{r['doc']}#char={start},{end}"))
    assert len(nodes) == 5 and sum(map(len, nodes.values())) > 100
    assert indexed == nodes


def test_organization_index_restates_the_organs_posts_and_bodies_of_its_document(built):
    """kg:organizationIndex (what the graph view reads) says what the document's organ, posts
    and named bodies say, in every document; one that names none has `{}`."""
    from kg import rdf
    _, store = built
    stated: dict = {}
    for r in rows("-e", """SELECT ?doc ?organ ?kind ?count ?body WHERE { GRAPH ?doc {
            { ?doc kg:organ ?o . ?o rdfs:label ?organ }
            UNION { ?p org:role ?k ; kg:inDocument ?doc BIND(STRAFTER(STR(?k), STR(kgi:)) AS ?kind)
                    OPTIONAL { ?p kg:count ?count } OPTIONAL { ?p kg:namedOrganization/rdfs:label ?body } } } }""",
                  store=store):
        doc = stated.setdefault(r["doc"], {"organ": None, "posts": set(), "named": set()})
        if "organ" in r:
            doc["organ"] = r["organ"]
        else:
            doc["posts"].add((r["kind"], float(r["count"]) if "count" in r else None))
            if "body" in r:
                doc["named"].add((r["kind"], r["body"]))
    indexed = {}
    for r in rows("-e", "SELECT ?doc ?index WHERE { GRAPH ?doc { ?doc kg:organizationIndex ?index } }",
                  store=store):
        organ, posts, named = rdf.parse_organization_index(r["index"])
        indexed[r["doc"]] = {"organ": organ, "posts": set(posts), "named": set(named)}
    documents = {r["doc"] for r in rows("-e", "SELECT ?doc WHERE { ?doc kg:sourceFile ?f }", store=store)}
    assert set(indexed) == documents and len(documents) == 5
    assert sum(len(d["named"]) for d in stated.values()) > 0 and any(d["organ"] for d in stated.values())
    assert {doc: d for doc, d in indexed.items() if d != {"organ": None, "posts": set(), "named": set()}} \
        == stated


def test_a_new_store_is_bulk_loaded_and_a_used_one_written_atomically(tmp_path, monkeypatch):
    from kg.store import Store
    calls = []
    real = Store.replace_documents

    def spy(self, batch, *, bulk=False):
        calls.append(bulk)
        return real(self, batch, bulk=bulk)

    monkeypatch.setattr(Store, "replace_documents", spy)
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    store = tmp_path / "store"
    assert kg("build", str(corpus), store=store).exit_code == 0
    assert calls and all(calls)
    calls.clear()
    edited = sorted(corpus.glob("*.txt"))[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n新增一句。", encoding="utf-8")
    result = kg("build", str(corpus), store=store)
    assert result.exit_code == 0 and "1 document(s) built, 4 unchanged" in result.output
    assert calls == [False]
    calls.clear()
    assert kg("build", str(corpus), "--bulk", store=store).exit_code == 0
    assert calls == []                                   # nothing changed: nothing written
    edited.write_text(edited.read_text(encoding="utf-8") + "又一句。", encoding="utf-8")
    assert kg("build", str(corpus), "--bulk", store=store).exit_code == 0
    assert calls == [True]


def test_a_bulk_load_is_compacted_where_there_is_room(tmp_path, monkeypatch):
    """After a bulk load the build compacts the store (the loader's files side by side make
    every look-up search each); not after transactions, nor on a file system with less room
    than the store takes, where the store is left as the load wrote it."""
    import pyoxigraph as ox
    from kg.store import Store
    compacted = []
    real_optimize = ox.Store.optimize
    monkeypatch.setattr(ox.Store, "optimize", lambda self: compacted.append(True) or real_optimize(self))
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    store = tmp_path / "store"
    assert kg("build", str(corpus), store=store).exit_code == 0
    assert compacted == [True]
    edited = sorted(corpus.glob("*.txt"))[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n新增一句。", encoding="utf-8")
    assert kg("build", str(corpus), store=store).exit_code == 0
    assert compacted == [True]                           # a transaction: RocksDB's own compaction

    from kg import storefiles
    full = tmp_path / "full"
    monkeypatch.setattr(storefiles.shutil, "disk_usage",
                        lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    result = kg("build", str(corpus), store=full)
    assert result.exit_code == 0 and "5 document(s) built" in result.output
    assert compacted == [True]
    assert rows("locality-mechanisms", "--param", "locality=220400", store=full)


# matrix, mechanisms-overview and localities-implementing are written for Oxigraph's planner
# (subqueries, LATERAL, GRAPH ?doc); these plain statements of the same questions pin their rows.
PLAIN_ASSERTIONS = """SELECT ?doc ?loc ?code ?locality ?notation ?mechanism ?status WHERE {
    ?a kg:mechanism ?m ; kg:status ?s ; kg:inDocument ?doc .
    ?m skos:notation ?notation ; skos:prefLabel ?mechanism . FILTER(lang(?mechanism) = "zh")
    ?s skos:notation ?status .
    OPTIONAL { ?doc kg:locality ?loc . ?loc kg:divisionCode ?code ; rdfs:label ?locality } }"""
PLAIN_IMPLEMENTING = """SELECT ?locality ?code ?via ?via_label ?document ?sentence WHERE {
    ?target skos:notation|skos:prefLabel|skos:altLabel ?name ; skos:inScheme kgm:scheme .
    FILTER(str(?name) = "三项制度")
    ?m skos:broader* ?target ; skos:notation ?via ; skos:prefLabel ?via_label .
    FILTER(lang(?via_label) = "zh")
    ?a kg:mechanism ?m ; kg:status kg:Implemented ; kg:inDocument ?doc ; kg:evidence ?e .
    ?e kg:text ?sentence .
    ?doc kg:locality ?loc ; kg:sourceFile ?document . ?loc rdfs:label ?locality ; kg:divisionCode ?code }"""


def check_corpus_wide_queries(target):
    """The three named queries against their plain statements, on a Store or a pyoxigraph store."""
    from kg.query import load_query, run_query

    def run(query, params=None):
        return run_query(target, query, params, union_default_graph=True).to_dicts()

    plain = run(PLAIN_ASSERTIONS)
    cells, counts = {}, {}
    for r in plain:
        if "loc" in r:
            cells.setdefault((r["code"], r["locality"], r["notation"]), set()).add(r["status"])
        who = r["doc"] if r["status"] == "required" else r.get("loc", r["doc"])
        counts.setdefault((r["notation"], r["mechanism"]), {}).setdefault(r["status"], set()).add(who)

    matrix = run(load_query("matrix"))
    assert [(r["code"], r["notation"]) for r in matrix] == sorted((r["code"], r["notation"]) for r in matrix)
    assert {(r["code"], r["locality"], r["notation"]): r["statuses"] for r in matrix} == \
        {key: " ".join(sorted(statuses)) for key, statuses in cells.items()}
    assert len(matrix) == len(cells)

    overview = run(load_query("mechanisms-overview"))
    columns = {"implemented": "implemented_by", "planned": "planned_by", "weakness": "weakness_in",
               "required": "required_by"}
    assert {(r["notation"], r["mechanism"]): {c: r[c] for c in columns.values()} for r in overview} == \
        {key: {c: len(by.get(s, ())) for s, c in columns.items()} for key, by in counts.items()}
    assert len(overview) == len(counts)
    assert [(-r["implemented_by"], r["notation"]) for r in overview] == \
        sorted((-r["implemented_by"], r["notation"]) for r in overview)

    implementing = run(load_query("localities-implementing"), {"mechanism": "三项制度"})
    evidence = {}
    for r in run(PLAIN_IMPLEMENTING):
        evidence.setdefault(tuple(r[k] for k in ("locality", "code", "via", "via_label", "document")),
                            set()).add(r["sentence"])
    found = {tuple(r[k] for k in ("locality", "code", "via", "via_label", "document")): r["evidence"]
             for r in implementing}
    assert len(found) == len(implementing) and found.keys() == evidence.keys()
    assert all(sentence in evidence[key] for key, sentence in found.items())
    assert [(r["code"], r["via"], r["document"]) for r in implementing] == \
        sorted((r["code"], r["via"], r["document"]) for r in implementing)
    return matrix


def test_corpus_wide_queries_give_the_rows_of_their_plain_statement(built):
    import pyoxigraph as ox
    _, store = built
    with api.open_store(store, read_only=True) as s:
        check_corpus_wide_queries(s)
        quads = s.read(lambda o: list(o.quads_for_pattern(None, None, None, None)))
    # The notice (kg:Required) moved to 乳山市, which reports mechanisms of its own: a cell then
    # has a requirement beside what is reported, listed in the order of the notations.
    memory = ox.Store()
    memory.extend(quads)
    locality = ox.NamedNode(PREFIXES["kg"] + "locality")
    required = ox.NamedNode(PREFIXES["kg"] + "Required")
    notice = next(iter(memory.quads_for_pattern(None, ox.NamedNode(PREFIXES["kg"] + "status"), required))).graph_name
    memory.remove(next(iter(memory.quads_for_pattern(notice, locality, None, notice))))
    memory.add(ox.Quad(notice, locality, ox.NamedNode(PREFIXES["kgl"] + "371083"), notice))
    # Moved behind kg's back, the matrix summary (kg.summary) no longer holds: the plan by the
    # assertions (a store without the summary), then the summary recomputed.
    memory.remove_graph(ox.NamedNode(summary.SUMMARY_GRAPH))
    for _ in range(2):
        matrix = check_corpus_wide_queries(memory)
        assert {"implemented required", "implemented planned required"} <= \
            {r["statuses"] for r in matrix if r["code"] == "371083"}
        summary.refresh_summary(Store(memory, None, False))
    assert len(list(memory.quads_for_pattern(None, summary.MATRIX_CELL, None))) == len(matrix)


def test_institutions_of_a_region_are_those_of_its_localities_in_the_whole_list(built):
    """institutions.rq plans differently with a locality (from the division down) and without
    one (all localities at once): for every division above or at a locality with documents, by
    name and by code, the rows are the whole list's rows of the localities under it."""
    _, store = built
    under = {}
    for r in rows("-e", """SELECT DISTINCT ?place ?code ?name WHERE {
            ?doc kg:locality ?loc . ?loc rdfs:label ?place ; kg:parentLocality* ?t .
            ?t kg:divisionCode ?code ; rdfs:label ?name }""", store=store):
        under.setdefault(r["code"], set()).add(r["place"])
        under.setdefault(r["name"], set()).add(r["place"])
    everything = rows("institutions", store=store)
    assert len(under) > 10 and everything
    for region, places in under.items():
        found = rows("institutions", "--param", f"locality={region}", store=store)
        assert found == [r for r in everything if r["place"] in places], region
