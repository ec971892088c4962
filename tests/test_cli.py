"""One CLI: the same --format names and -o on every command that prints data, tables aligned by
display width, the named queries for people, parameters checked before a query runs, one-line
parser errors, RDF exports by Jena's short names. Through click's CliRunner on the bundled
corpus built into a store."""
import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
import wcwidth
from click.testing import CliRunner

from kg.cli import main
from kg.formats import format_record, text_table
from kg.query import list_queries

from conftest import CORPUS

USER_QUERIES = {"candidates", "figures", "institutions", "localities-implementing",
                "locality-mechanisms", "matrix", "mechanisms-overview", "obligations"}


def kg(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    path = root / "store"
    r = kg("build", CORPUS, "--store", path, "--no-progress")
    assert r.exit_code == 0, r.output
    return path


@pytest.fixture
def store_copy(store, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    return copy


def columns_of_bars(table: str) -> set:
    """The display columns at which each line of a table has its `|` separators."""
    out = set()
    for line in table.splitlines():
        if "|" not in line:
            continue
        cols, at = [], 0
        for ch in line:
            if ch == "|":
                cols.append(at)
            at += wcwidth.wcwidth(ch)
        out.add(tuple(cols))
    return out


# ------------------------------------------------------------------ tables

def test_a_table_of_mixed_widths_lines_up_by_display_width():
    rows = [["乳山市", "M01", "行政执法三项制度"], ["Rushan", "M01a", "x"],
            ["香格里拉市", "M4", "ｆｕｌｌ width"], ["a", "法律顾问", "é combining e\u0301"]]
    table = text_table(["地方", "notation", "label"], rows)
    assert len(columns_of_bars(table)) == 1, table
    assert "香格里拉市" in table and "ｆｕｌｌ width" in table


def test_query_tables_line_up_chinese_and_ascii(store):
    r = kg("query", "--store", store, "-e",
           'SELECT ?a ?b WHERE { VALUES (?a ?b) { ("乳山市" "x") ("ab" "法治政府") ("某某某某某" "y") } }')
    assert r.exit_code == 0, r.output
    assert len(columns_of_bars(r.stdout)) == 1, r.stdout
    assert r.stdout.splitlines()[-1] == "(3 rows)"


def test_a_record_table_lines_up_its_values():
    text = format_record({"名称": "乳山市", "documents": 5, "地方级别": "county"}, "table")
    starts = {wcwidth.wcswidth(line[:line.rindex(" ") + 1]) for line in text.splitlines()}
    assert len(starts) == 1, text


# ------------------------------------------------------------------ --format and -o everywhere

DATA_COMMANDS = ["extract", "build", "query", "export", "stats", "audit", "validate", "viz", "remove"]


@pytest.mark.parametrize("command", DATA_COMMANDS)
def test_every_data_command_takes_format_and_output(command):
    r = kg(command, "--help")
    assert r.exit_code == 0
    assert "--format" in r.output and re.search(r"-o, --output", r.output), r.output


def test_stats_in_every_tabular_format(store, tmp_path):
    table = kg("stats", "--store", store)
    assert re.search(r"^documents\s+5$", table.stdout, re.M), table.output
    as_json = json.loads(kg("stats", "--store", store, "--format", "json").stdout)
    assert as_json["documents"] == 5 and as_json["triples"] > 10_000
    out = tmp_path / "stats.csv"
    r = kg("stats", "--store", store, "--format", "csv", "-o", out)
    assert r.exit_code == 0 and r.stdout == ""
    assert r.stderr.startswith(f"wrote {out}") and len(r.stderr.splitlines()) == 1
    [row] = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert row["documents"] == "5"
    tsv = kg("stats", "--store", store, "--format", "tsv").stdout.splitlines()
    assert tsv[0].split("\t")[0] == "documents" and tsv[1].split("\t")[0] == "5"


def test_query_writes_to_a_file_and_says_so(store, tmp_path):
    out = tmp_path / "figures.csv"
    r = kg("query", "figures", "--param", "mechanism=M08", "--store", store, "--format", "csv", "-o", out)
    assert r.exit_code == 0, r.output
    assert r.stdout == "" and f"wrote {out}" in r.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows and {"locality", "notation", "value"} <= set(rows[0])


def test_audit_and_viz_say_what_they_wrote(store, tmp_path):
    out = tmp_path / "audit.csv"
    r = kg("audit", "乳山市", "--no-record", "--store", store, "--format", "csv", "-o", out)
    assert r.exit_code == 0, r.output
    assert r.stdout == "" and r.stderr.startswith(f"wrote {out}") and out.stat().st_size > 100
    page = tmp_path / "graph.html"
    r = kg("viz", "--store", store, "-o", page)
    assert r.exit_code == 0 and r.stdout == "" and r.stderr.startswith(f"wrote {page}")
    summary = json.loads(kg("viz", "--store", store, "-o", page, "--format", "json").stdout)
    assert summary["wrote"] == str(page) and summary["nodes"] > 10


def test_extract_build_remove_validate_write_json(store_copy, tmp_path):
    records = tmp_path / "records.json"
    r = kg("extract", next(CORPUS.glob("000_*.txt")), "-o", records)
    assert r.exit_code == 0 and f"wrote {records}" in r.stderr
    assert json.loads(records.read_text(encoding="utf-8"))[0]["locality"]["name"]
    r = kg("build", CORPUS, "--store", store_copy, "--no-progress", "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["unchanged"] == 5
    r = kg("remove", "004_e024606ab6009260.txt", "--store", store_copy, "--format", "json")
    assert json.loads(r.stdout) == {"removed": "004_e024606ab6009260.txt"}
    r = kg("validate", "--store", store_copy, "--format", "json", "--document", "000_2901c26b523a80cb.txt")
    assert json.loads(r.stdout)["conforms"] is True, r.output


def test_a_failed_write_leaves_no_file(store, tmp_path):
    out = tmp_path / "x.ttl"
    r = kg("export", "--store", store, "--format", "ttl", "--document", "no-such.txt", "-o", out)
    assert r.exit_code == 1 and "no document" in r.output
    assert not out.exists()


# ------------------------------------------------------------------ RDF formats

def test_export_takes_jenas_short_names(store, tmp_path):
    doc = "000_2901c26b523a80cb.txt"
    for short, long in (("ttl", "turtle"), ("nt", "ntriples"), ("nq", "nquads")):
        a, b = tmp_path / f"a.{short}", tmp_path / f"b.{short}"
        assert kg("export", "--store", store, "--format", short, "--document", doc, "-o", a).exit_code == 0
        assert kg("export", "--store", store, "--format", long, "--document", doc, "-o", b).exit_code == 0
        assert a.read_bytes() == b.read_bytes() and a.stat().st_size > 1000


def test_jsonld_export_has_the_projects_context(store, tmp_path):
    import rdflib
    out, nt = tmp_path / "doc.jsonld", tmp_path / "doc.nt"
    doc = "000_2901c26b523a80cb.txt"
    assert kg("export", "--store", store, "--format", "jsonld", "--document", doc, "-o", out).exit_code == 0
    assert kg("export", "--store", store, "--format", "nt", "--document", doc, "-o", nt).exit_code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["@context"]["kg"] == "https://w3id.org/fazhi-kg/ontology#"
    assert "skos" in data["@context"]
    as_jsonld = rdflib.Dataset().parse(data=out.read_text(encoding="utf-8"), format="json-ld")
    as_nt = rdflib.Graph().parse(nt, format="nt")
    assert len(as_jsonld) == len(as_nt) > 100


def test_a_construct_is_written_in_the_rdf_syntax_named(store):
    r = kg("query", "--store", store, "--format", "nt", "-e",
           "CONSTRUCT { ?c skos:notation ?n } WHERE { ?c skos:notation ?n } LIMIT 3")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert len(lines) == 3 and all(line.endswith(" .") and line.startswith("<") for line in lines)


# ------------------------------------------------------------------ named queries

def test_list_shows_the_queries_for_people_and_all_shows_every_one():
    names = {line.split()[0] for line in kg("query", "--list").stdout.splitlines()
             if line and not line[0].isspace()}
    assert names == USER_QUERIES
    every = {line.split()[0] for line in kg("query", "--list", "--all").stdout.splitlines()
             if line and not line[0].isspace()}
    assert every == {q.name for q in list_queries()} and len(every) > len(USER_QUERIES)
    # decided by the queries' headers (`# internal: …`), not by their names
    assert {q.name for q in list_queries() if not q.internal} == USER_QUERIES
    listed = json.loads(kg("query", "--list", "--format", "json").stdout)
    assert {q["name"] for q in listed} == USER_QUERIES


def test_a_missing_required_parameter_is_an_error_naming_it(store):
    r = kg("query", "audit-evidence", "--store", store)
    assert r.exit_code == 1
    assert "'target'" in r.output and "--param target=" in r.output
    assert kg("query", "audit-evidence", "--param", "target=kgl:371083", "--store", store).exit_code == 0
    # an optional one without a default is left unbound: the query answers for all
    assert kg("query", "figures", "--store", store).exit_code == 0


def test_an_unknown_mechanism_names_the_closest(store):
    r = kg("query", "figures", "--param", "mechanism=法律顾问制", "--store", store)
    assert r.exit_code == 1
    assert r.output.strip().splitlines()[-1].startswith("Error: unknown mechanism '法律顾问制'; closest: M04 法律顾问制度")
    r = kg("query", "localities-implementing", "--param", "mechanism=M99", "--store", store)
    assert r.exit_code == 1 and "unknown mechanism 'M99'; closest: " in r.output
    r = kg("query", "localities-implementing", "--param", "mechanism=法律顾问", "--store", store,
           "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["results"]["bindings"]


def test_a_sparql_syntax_error_is_one_line_with_its_position(store, tmp_path):
    r = kg("query", "--store", store, "-e", "SELECT ?x WHERE { ?x ?y }")
    assert r.exit_code == 1
    [line] = r.output.strip().splitlines()
    assert re.search(r"error at 1:\d+", line), line
    bad = tmp_path / "bad.rq"
    bad.write_text("# A broken query\nSELECT ?x\nWHERE { ?x ?y }\n", encoding="utf-8")
    r = kg("query", bad, "--store", store)
    assert r.exit_code == 1
    [line] = r.output.strip().splitlines()
    # lines of the file (pyoxigraph gives where it gave up), not shifted by the predeclared prefixes
    at = re.search(r"error at (\d+):\d+", line)
    assert at and 1 <= int(at.group(1)) <= 4, line


# ------------------------------------------------------------------ progress

def test_the_build_bar_says_when_it_writes_the_store(tmp_path):
    r = kg("build", CORPUS, "--store", tmp_path / "store", "--progress")
    assert r.exit_code == 0, r.output
    assert "writing the store…" in r.stderr
    assert "5 document(s) built" in r.stdout


def test_a_turtle_syntax_error_is_one_line_with_its_line(tmp_path):
    """A broken ontology file (KG_ONTOLOGY): an error line, not a traceback. In a process of its
    own, as the ontology is read once per process."""
    import os
    import subprocess
    import sys
    onto = tmp_path / "ontology"
    shutil.copytree(CORPUS.parent / "ontology", onto)
    with open(onto / "mechanisms.ttl", "a", encoding="utf-8") as f:
        f.write('\nkgm:broken skos:prefLabel "没有结束的字符串 .\n')
    lines = (onto / "mechanisms.ttl").read_text(encoding="utf-8").count("\n")
    for command in (["build", str(CORPUS), "--store", str(tmp_path / "s"), "--no-progress"],
                    ["extract", str(next(CORPUS.glob("000_*.txt")))]):
        r = subprocess.run([sys.executable, "-m", "kg", *command], env=dict(os.environ, KG_ONTOLOGY=str(onto)),
                           capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode == 1
        [line] = r.stderr.strip().splitlines()
        assert re.fullmatch(rf"Error: .*mechanisms\.ttl: Parser error between line {lines} column \d+ .*",
                            line), line


# Modules a reading command has no use for: the extraction (jieba, the lexicon), the server's
# application, the graph view and rdflib cost ~1 s of start-up together, paid by every command.
HEAVY = ("kg.pipeline", "kg.extract", "jieba", "kg.server.app", "starlette", "uvicorn", "pyvis",
         "networkx", "rdflib")


@pytest.mark.parametrize("command", [["query", "locality-mechanisms", "--param", "locality=乳山市"],
                                     ["audit", "乳山市"]])
def test_a_reading_command_loads_no_extraction_server_or_rdflib(store, command):
    import subprocess
    import sys
    script = ("import sys\nfrom kg.cli import main\n"
              "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
              f"print('loaded:', sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", script, *command, "--store", str(store), "--format", "csv"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "乳山市" in r.stdout                       # it did answer
    assert r.stdout.rstrip().splitlines()[-1] == "loaded: []"


def test_a_build_loads_no_rdflib(tmp_path):
    """The ontology is read with pyoxigraph, for the extraction and for the store's copy of it:
    rdflib's import and Turtle parser cost every build 0.6–1.1 s."""
    import subprocess
    import sys
    script = ("import sys\nfrom kg.cli import main\n"
              "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
              "print('loaded:', 'rdflib' in sys.modules)\n")
    store = tmp_path / "store"
    # into a new store (the ontology's graphs written too), then one document more
    for corpus in (CORPUS, Path(__file__).parent / "docs" / "sichuan_plan_2024.txt"):
        r = subprocess.run([sys.executable, "-c", script, "build", str(corpus), "--store", str(store),
                            "--no-progress"], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert "1 document(s) built" in r.stdout or "5 document(s) built" in r.stdout, r.stdout
        assert r.stdout.rstrip().splitlines()[-1] == "loaded: False"


def test_a_build_counts_the_triples_of_a_small_store_only(tmp_path, monkeypatch):
    from kg import build
    r = kg("build", CORPUS, "--store", tmp_path / "small", "--no-progress")
    assert re.search(r"; 5 documents and \d+ triples in the store;", r.output), r.output
    monkeypatch.setattr(build, "COUNT_TRIPLES_UP_TO", 4)
    r = kg("build", CORPUS, "--store", tmp_path / "large", "--no-progress", "--format", "json")
    assert r.exit_code == 0, r.output
    record = json.loads(r.output)
    assert record["documents"] == 5 and record["triples"] is None
