"""kg audit: requirement sets, statuses, evidence, roll-up, errors, records and the HTML report."""
import json
import os
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

import kg.api as api
from kg.cli import main

from conftest import ROOT

SEED1 = "001_db70a06a16628919.txt"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("audit") / "store"
    cwd = os.getcwd()
    os.chdir(ROOT)      # source files are recorded relative to the repository (corpus/…)
    try:
        result = CliRunner().invoke(main, ["build", "corpus", "--store", str(path), "--no-progress"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return str(path)


def run(store_dir, *args):
    return CliRunner().invoke(main, ["audit", *args, "--store", store_dir])


def audit_json(store_dir, *args):
    result = run(store_dir, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def by_notation(report):
    return {r["notation"]: r for r in report["rows"]}


def test_against_seed_notice_outside_jurisdiction(store_dir):
    report = audit_json(store_dir, "乳山市", "--against", SEED1)
    rows = by_notation(report)
    for n in ("M01a", "M01b", "M01c", "M04", "M08"):
        assert rows[n]["status"] == "implemented", n
    assert rows["M15"]["status"] == "only planned"
    assert rows["M21"]["status"] == "not reported"
    assert rows["M30"]["status"] == "not reported"
    assert any("outside its issuer's jurisdiction" in n for n in report["notes"])
    table = run(store_dir, "乳山市", "--against", SEED1)
    assert table.exit_code == 0 and "outside its issuer's jurisdiction" in table.output
    assert re.search(r"^M15\s.*only planned", table.output, re.M)


def test_baseline_liaoyuan(store_dir):
    report = audit_json(store_dir, "辽源市", "--against", "baseline")
    rows = by_notation(report)
    assert rows["M06"]["status"] == "implemented"
    assert rows["M01b"]["status"] == "not reported"
    assert all(r["set"].endswith("baseline-2021") for r in report["rows"])


def test_implemented_rows_have_evidence(store_dir):
    for region in ("乳山市", "辽源市", "福清市"):
        for row in audit_json(store_dir, region)["rows"]:
            if row["status"] == "implemented":
                assert row["evidence"] and row["evidence"][0]["sentence"].strip(), (region, row["notation"])


def test_applicable_includes_own_notice_only_in_jurisdiction(store_dir):
    own = audit_json(store_dir, "香格里拉市")
    assert any(s["document"] and s["document"].endswith(SEED1) for s in own["sets"])
    assert not any("outside" in n for n in own["notes"])
    other = audit_json(store_dir, "乳山市")
    assert not any(s["document"] for s in other["sets"])


def test_province_rolls_up(store_dir):
    result = run(store_dir, "山东省")
    assert result.exit_code == 0, result.output
    assert "山东省: rolled up over 乳山市 (the only locality under it with documents)" in result.output
    rows = by_notation(audit_json(store_dir, "370000"))
    assert rows["M01a"]["status"] == "implemented"
    assert rows["M01a"]["localities"]["covered"] == ["乳山市"]


def test_unknown_region(store_dir):
    result = run(store_dir, "乳山县城")
    assert result.exit_code != 0
    assert "unknown region" in result.output and "closest" in result.output and "乳山市" in result.output


def test_ambiguous_region(store_dir):
    result = run(store_dir, "江北区")
    assert result.exit_code != 0
    assert "330205" in result.output and "500105" in result.output


def test_hostile_region_changes_nothing(store_dir):
    with api.open_store(store_dir) as s:
        before = s.triple_count()
    result = run(store_dir, '乳山市" } ; DROP ALL ; #')
    assert result.exit_code != 0 and "unknown region" in result.output
    with api.open_store(store_dir) as s:
        assert s.triple_count() == before


def test_records_written_kept_and_valid(store_dir):
    assert run(store_dir, "乳山市", "--against", SEED1).exit_code == 0
    assert run(store_dir, "辽源市").exit_code == 0
    assert run(store_dir, "乳山市", "--against", "baseline").exit_code == 0   # replaces 乳山市's only
    with api.open_store(store_dir) as s:
        r = api.query(s, """SELECT ?loc (COUNT(DISTINCT ?a) AS ?n) WHERE {
            ?a a kg:AuditRecord ; kg:auditOf ?loc } GROUP BY ?loc""").to_dicts()
        counts = {row["loc"].rsplit("/", 1)[-1]: int(row["n"]) for row in r}
        assert counts.get("371083", 0) > 0 and counts.get("220400", 0) > 0
        # 乳山市's records are those of its last audit alone; 辽源市's are untouched
        assert counts["371083"] == len(api.audit(s, "乳山市", "baseline", write=False).rows)
        assert counts["220400"] == len(api.audit(s, "辽源市", write=False).rows)
        conforms, text = api.validate(s)
    assert conforms, text


def _records_by_region(store_dir):
    with api.open_store(store_dir, read_only=True) as s:
        r = api.query(s, """SELECT ?loc (COUNT(DISTINCT ?a) AS ?n) WHERE {
            ?a a kg:AuditRecord ; kg:auditOf ?loc } GROUP BY ?loc""").to_dicts()
    return {row["loc"].rsplit("/", 1)[-1]: int(row["n"]) for row in r}


def test_all_records_only_when_asked(tmp_path):
    """`--all` writes no records unless --record (and then every region's, replacing the
    graph); it reads the store read-only, so it answers while a build holds it."""
    store = tmp_path / "store"
    assert CliRunner().invoke(main, ["build", str(ROOT / "corpus"), "--store", str(store),
                                     "--no-progress"]).exit_code == 0
    assert run(str(store), "辽源市").exit_code == 0
    before = _records_by_region(str(store))
    assert set(before) == {"220400"}
    with api.open_store(store):       # the store held read-write, as by a running build
        result = run(str(store), "--all")
        assert result.exit_code == 0, result.output
    assert _records_by_region(str(store)) == before
    assert run(str(store), "--all", "--record").exit_code == 0
    after = _records_by_region(str(store))
    assert {"371083", "220400", "350181"} <= set(after) and len(after) > len(before)


def test_all_matrix(store_dir, tmp_path):
    result = run(store_dir, "--all")
    assert result.exit_code == 0, result.output
    for name in ("乳山市", "辽源市", "福清市"):
        assert name in result.output
    out = tmp_path / "m.html"
    assert run(store_dir, "--all", "--format", "html", "-o", str(out)).exit_code == 0
    page = out.read_text(encoding="utf-8")
    # the statuses as data for the page's script (tests/test_audit_matrix.py tests the page)
    assert 'id="kg-matrix-data"' in page and '"code":"371083"' in page
    # the CSV quotes each row's first evidence sentence (and reads no other)
    import csv
    import io
    result = run(store_dir, "--all", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    quoted = [r for r in rows if int(r["evidence_count"])]
    assert quoted and all(r["first_evidence"].strip() for r in quoted)
    assert all(not r["first_evidence"] for r in rows if not int(r["evidence_count"]))


def test_all_agrees_with_each_region_and_quotes_the_source(store_dir):
    """audit --all (read from the documents' assertion indexes) gives each locality the statuses
    and evidence its own audit gives, and every quoted sentence is the source text at its IRI's
    offsets; without quotes the sentences are named but not read."""
    from kg import rdf, read
    with api.open_store(store_dir, read_only=True) as s:
        everyone = {r.code: r for r in api.audit(s, write=False)}
        bare = {r.code: r for r in api.audit(s, write=False, quotes=False)}
        one = api.audit(s, "辽源市", write=False)
    assert {"371083", "220400", "350181"} <= set(everyone)
    mine = everyone["220400"]
    assert [(r.notation, r.status, [e["iri"] for e in r.evidence]) for r in mine.rows] == \
           [(r.notation, r.status, [e["iri"] for e in r.evidence]) for r in one.rows]
    quoted = [e for rep in everyone.values() for r in rep.rows for e in r.evidence]
    assert len(quoted) > 50
    sources = {}
    for e in quoted:
        doc = next(ROOT.glob(f"corpus/{e['document']}"))
        text = sources.setdefault(doc, read.read_file(doc).text)
        start, end = rdf.span_of(e["iri"])
        assert e["sentence"] == text[start:end]
    unquoted = [e for rep in bare.values() for r in rep.rows for e in r.evidence]
    assert [e["iri"] for e in unquoted] == [e["iri"] for e in quoted]
    assert all(e["sentence"] is None for e in unquoted)


def test_evidence_is_what_the_assertions_say_in_text_order_each_sentence_once(store_dir):
    """The audit reads the documents' assertion indexes; queries/audit-evidence.rq reads the
    assertions themselves, a row per sentence. A row's evidence is that query's sentences of the
    row's status, in document and text order, a sentence shared by narrower mechanisms once."""
    from kg import rdf
    from kg.audit import evaluation
    merged = 0
    with api.open_store(store_dir, read_only=True) as s:
        for region in ("山东省", "辽源市", "乳山市"):
            report = api.audit(s, region, write=False, quotes=False)
            code = report.code
            said: dict = {}
            for r in api.query(s, "audit-evidence", {"target": f"<{rdf.KGL}{code}>"}).to_dicts():
                said.setdefault((r["required"], r["status"]), set()).add(
                    (r["document"].rsplit("/", 1)[-1], rdf.span_of(r["sentence"]), r["sentence"]))
            for row in report.rows:
                expected = sorted(said.get((row.notation, row.status), ()))
                assert [e["iri"] for e in row.evidence] == [iri for _, _, iri in expected], row.notation
            # the path that merges several index lines of one document (narrower mechanisms
            # counting for the row's) is met
            found = [src for by_status in evaluation.reports_by_requirement(
                         evaluation.region_documents(s, report.iri), evaluation.broader_notations(s)).values()
                     for lines in by_status.values() for src, _ in lines]
            merged += len(found) != len(set(found))
    assert merged


def test_a_region_quotes_as_many_sentences_per_row_as_asked(store_dir):
    # the region's table and CSV show one quote per row, so only that one is read
    with api.open_store(store_dir, read_only=True) as s:
        every = api.audit(s, "乳山市", write=False)
        first = api.audit(s, "乳山市", write=False, quotes=1)
    rows = [(r, q) for r, q in zip(every.rows, first.rows) if len(r.evidence) > 1]
    assert rows
    for r, q in rows:
        assert [e["iri"] for e in q.evidence] == [e["iri"] for e in r.evidence]
        assert q.evidence[0]["sentence"] == r.evidence[0]["sentence"] is not None
        assert all(e["sentence"] is None for e in q.evidence[1:])
    table = run(store_dir, "乳山市", "--no-record")
    assert table.exit_code == 0, table.output
    r = rows[0][0]
    assert f"{len(r.evidence)}  {r.evidence[0]['sentence'][:20]}" in table.output


def _html(store_dir, tmp_path):
    out = tmp_path / "audit.html"
    result = run(store_dir, "乳山市", "--against", SEED1, "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_html_static(store_dir, tmp_path):
    page = _html(store_dir, tmp_path).read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page
    for cls in ("st-implemented", "st-planned", "st-none"):
        assert cls in page
    assert "严格落实行政执法公示制度" in page
    assert "<script" not in page


def _chromium():
    if os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.mark.skipif(_chromium() is None, reason="no chromium")
def test_html_in_headless_chromium(store_dir, tmp_path):
    page = _html(store_dir, tmp_path)
    png = tmp_path / "shot.png"
    subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
                    "--window-size=1200,900", page.as_uri()],
                   capture_output=True, timeout=120)
    assert png.exists()
    assert png.stat().st_size > 5000     # a blank page compresses to ~1-3 KB
