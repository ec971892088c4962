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
    assert rows["M15"]["status"] == "planned"
    assert rows["M21"]["status"] == "not reported"
    assert rows["M30"]["status"] == "not reported"
    assert any("outside its issuer's jurisdiction" in n for n in report["notes"])
    table = run(store_dir, "乳山市", "--against", SEED1)
    assert table.exit_code == 0 and "outside its issuer's jurisdiction" in table.output
    assert re.search(r"^\s*M15\s.*\bplanned", table.output, re.M)


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
    assert "山东省: rolled up over 1 localities with documents (乳山市)" in result.output
    assert "M01a  1 of 1 localities" in result.output
    report = audit_json(store_dir, "370000")
    rows = by_notation(report)
    assert rows["M01a"]["status"] == "implemented"
    assert rows["M01a"]["localities"] == {"implemented": 1, "of": 1, "covered": ["乳山市"], "missing": []}
    assert report["localities"]["with_documents"] == 1
    assert report["localities"]["without_documents"] > 100      # Shandong's other divisions


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
    assert run(store_dir, "乳山市", "--against", SEED1, "--record").exit_code == 0
    assert run(store_dir, "辽源市", "--record").exit_code == 0
    assert run(store_dir, "乳山市", "--against", "baseline", "--record").exit_code == 0   # replaces 乳山市's only
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
    assert run(str(store), "辽源市", "--record").exit_code == 0
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
    assert re.search(rf"\|\s*{len(r.evidence)}\s*\|\s*{re.escape(r.evidence[0]['sentence'][:20])}", table.output)


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


# ------------------------------------------------------------------ an honest audit (issue 18)

# Three tiny reports under 威海市 (371000): 环翠区 and 文登区 report the 法律顾问制度 (M04), 荣成市
# the 行政执法公示制度 (M01a); 乳山市 and the city itself have no document.
WEIHAI = {"环翠区": "全面推行法律顾问制度，聘请法律顾问5名，法律顾问参与重大决策审查30件。",
          "文登区": "全面推行法律顾问制度，聘请法律顾问5名，法律顾问参与重大决策审查30件。",
          "荣成市": "严格落实行政执法公示制度，执法信息全部公开。"}


def weihai_report(county: str, sentence: str) -> str:
    return (f"威海市{county}人民政府关于2023年法治政府建设情况的报告\n\n"
            f"2023年，{county}深入学习贯彻习近平法治思想，扎实推进法治{county[:-1]}建设，现将有关情况报告如下：\n"
            "一、2023年推进法治政府建设的主要举措和成效\n"
            f"（一）健全依法决策机制。{sentence}\n"
            "二、2023年推进法治政府建设存在的不足和原因\n基层执法力量仍然薄弱。\n"
            "三、2024年推进法治政府建设的主要安排\n继续深化法治政府建设。\n")


@pytest.fixture(scope="module")
def weihai(tmp_path_factory):
    root = tmp_path_factory.mktemp("weihai")
    (root / "docs").mkdir()
    for county, sentence in WEIHAI.items():
        (root / "docs" / f"{county}.txt").write_text(weihai_report(county, sentence), encoding="utf-8")
    store = root / "store"
    result = CliRunner().invoke(main, ["build", str(root / "docs"), "--store", str(store), "--no-progress"])
    assert result.exit_code == 0, result.output
    return str(store)


def test_a_roll_up_counts_the_localities_and_names_those_lacking(weihai):
    """M04 is reported by 2 of the 3 localities with documents: partly implemented, not
    implemented; the localities without documents (乳山市 and the city itself) are counted apart."""
    report = audit_json(weihai, "威海市", "--against", "baseline")
    rows = by_notation(report)
    assert report["localities"] == {"with_documents": 3, "without_documents": 2}
    assert rows["M04"]["status"] == "implemented in some localities"
    assert rows["M04"]["localities"] == {"implemented": 2, "of": 3, "covered": ["环翠区", "文登区"],
                                         "missing": ["荣成市"]}
    assert rows["M01a"]["localities"]["missing"] == ["环翠区", "文登区"]
    assert rows["M04"]["evidence"] and all("法律顾问" in e["sentence"] for e in rows["M04"]["evidence"])
    assert rows["M05"]["status"] == "not reported"
    table = run(weihai, "威海市", "--against", "baseline")
    assert table.exit_code == 0, table.output
    assert "M04   2 of 3 localities; lacking: 荣成市" in table.output
    assert "rolled up over 3 localities with documents (环翠区, 文登区, 荣成市); 2 localities" in table.output
    csv_out = run(weihai, "威海市", "--against", "baseline", "--format", "csv").output
    assert ",2,3,环翠区 文登区,荣成市" in csv_out
    # all of them: implemented (one locality rolls up as itself)
    assert by_notation(audit_json(weihai, "荣成市", "--against", "baseline"))["M01a"]["status"] == "implemented"


@pytest.mark.parametrize("region", ["山东省", "威海市"])
def test_a_province_audited_from_the_rows_the_build_kept_is_audited_as_from_the_documents(weihai, region,
                                                                                        monkeypatch):
    """A province's documents are read as the build kept them (queries/audit-kept-documents.rq),
    not by audit-documents, and its audit is the same, evidence and quotes included; a region
    the build kept nothing for (a prefecture) is read by audit-documents."""
    from kg.audit import evaluation, format_json
    asked = []
    rows = evaluation.named_rows

    def recorded(store, name, params=None):
        asked.append(name)
        return rows(store, name, params)
    with api.open_store(weihai, read_only=True) as s:
        with monkeypatch.context() as m:
            m.setattr(evaluation, "named_rows", recorded)
            kept = format_json(api.audit(s, region, write=False))
        with monkeypatch.context() as m:
            m.setattr(evaluation, "named_rows", lambda store, name, params=None:
                      [] if name == "audit-kept-documents" else rows(store, name, params))
            made = format_json(api.audit(s, region, write=False))
    assert ("audit-documents" in asked) == (region != "山东省")
    assert kept == made and json.loads(kept)["rows"]


def test_a_partly_implemented_requirement_is_partially_compliant(weihai, tmp_path):
    from kg.audit import COMPLIANCE
    with api.open_store(weihai, read_only=True) as s:
        report = api.audit(s, "威海市", "baseline")
    statuses_ = {r.notation: r.status for r in report.rows}
    assert statuses_["M04"] == "partly" and COMPLIANCE["partly"] == "PartiallyCompliant"


def test_a_region_with_no_documents_is_no_documents_never_non_compliant(weihai, tmp_path):
    report = audit_json(weihai, "北京市")
    assert {r["status"] for r in report["rows"]} == {"no documents"}
    assert report["summary"] == {"no documents": len(report["rows"])}
    assert any(n.startswith("no documents:") for n in report["notes"])
    table = run(weihai, "北京市").output
    assert "not reported" not in table and f"summary: {len(report['rows'])} no documents" in table
    # even when asked to record, nothing says it is non-compliant
    store = tmp_path / "store"
    shutil.copytree(weihai, store)
    assert run(str(store), "北京市", "--record").exit_code == 0
    with api.open_store(store, read_only=True) as s:
        found = {r["c"].rsplit("#", 1)[-1]: int(r["n"]) for r in api.query(s, """
            SELECT ?c (COUNT(?a) AS ?n) WHERE { ?a kg:auditOf kgl:110000 ; kg:complianceStatus ?c } GROUP BY ?c
            """).to_dicts()}
    assert found == {"ComplianceUnknown": len(report["rows"])}


def _audit_triples(store) -> int:
    from kg.audit import AUDIT_GRAPH
    with api.open_store(store, read_only=True) as s:
        return len(list(s.quads(AUDIT_GRAPH)))


def test_kg_audit_writes_nothing_without_record(weihai, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(weihai, store)
    assert _audit_triples(store) == 0
    for args in (["威海市"], ["北京市"], ["荣成市", "--format", "json"], ["--all"], ["--all", "--format", "csv"]):
        result = run(str(store), *args)
        assert result.exit_code == 0, result.output
        assert _audit_triples(store) == 0, args
    with api.open_store(store, read_only=True) as s:
        api.audit(s, "威海市")                 # the API's default too
        api.audit(s)
    assert _audit_triples(store) == 0
    assert run(str(store), "荣成市", "--record").exit_code == 0
    assert _audit_triples(store) > 0
    help_text = CliRunner().invoke(main, ["audit", "--help"]).output
    assert "--record" in help_text and "only with --record" in " ".join(help_text.split())


def test_what_is_missing_comes_first_with_the_counts_on_top(weihai, tmp_path):
    from kg import statuses
    order = statuses.missing_first()
    with api.open_store(weihai, read_only=True) as s:
        report = api.audit(s, "威海市", "baseline")
    ranks = [order.index(r.status) for r in report.rows]
    assert ranks == sorted(ranks) and len(set(ranks)) > 1
    assert list(report.summary()) == ["none", "partly"]
    data = audit_json(weihai, "威海市", "--against", "baseline")
    assert list(data["summary"]) == ["not reported", "implemented in some localities"]
    assert data["rows"][0]["status"] == "not reported" and data["rows"][-1]["status"] != "not reported"
    lines = run(weihai, "威海市", "--against", "baseline").output.splitlines()
    assert lines[1].startswith("summary: 41 not reported, 3 implemented in some localities")
    out = tmp_path / "a.html"
    assert run(weihai, "威海市", "--against", "baseline", "--format", "html", "-o", str(out)).exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert page.index('class="summary"') < page.index("<table")
    cells = re.findall(r'<td class="st-(\w+)">', page)
    assert [order.index(c) for c in cells] == sorted(order.index(c) for c in cells)


def test_the_region_page_summary_missing_then_reported_by_mechanism(weihai):
    """The server's region page: the counts, the audit's rows missing first, then one row per
    reported mechanism (not one per sentence) with its statuses in kg.statuses' words."""
    from kg import statuses
    from kg.server import pages
    with api.open_store(weihai, read_only=True) as s:
        page = pages.region(s, {"region": "威海市"})
        sentences = api.query(s, "locality-mechanisms", {"locality": "威海市"}).to_dicts()
    assert page.index('class="summary"') < page.index("<table") < page.index("Mechanisms reported")
    audit_part, reported_part = page.split("Mechanisms reported", 1)
    cells = re.findall(r'<td class="st-(\w+)">', audit_part)
    order = statuses.missing_first()
    assert [order.index(c) for c in cells] == sorted(order.index(c) for c in cells)
    assert "2 of 3 localities; lacking: 荣成市" in audit_part
    notations = re.findall(r"<tr><td><b>(\w+)</b>", reported_part)
    assert len(notations) == len(set(notations)) == len({r["notation"] for r in sentences}) < len(sentences)
    assert "<details>" in reported_part
    assert f'<span class="st-implemented">{statuses.get("implemented").label}</span>' in reported_part


def test_weakness_and_not_reported_are_told_apart():
    """The audit's statuses have colours far apart (CIELAB ΔE76 ≥ 30): weakness orange is not
    not-reported red."""
    import math
    from kg import statuses

    def lab(hex_colour):
        rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92 for c in rgb]
        xyz = ((r * 0.4124 + g * 0.3576 + b * 0.1805) / 0.95047, r * 0.2126 + g * 0.7152 + b * 0.0722,
               (r * 0.0193 + g * 0.1192 + b * 0.9505) / 1.08883)
        fx, fy, fz = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz]
        return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)

    shown = [s for s in statuses.shown() if len(s.colour) == 7]
    assert len(shown) == len(statuses.shown())
    for i, a in enumerate(shown):
        for b in shown[i + 1:]:
            assert math.dist(lab(a.colour), lab(b.colour)) >= 30, (a.notation, b.notation)


@pytest.mark.parametrize("region", ["乳山市", "山东省"])
def test_reported_rows_are_locality_mechanisms(store_dir, region):
    """What a region's page lists as reported (kg.audit.reported_rows, from the documents'
    assertion indexes) is what the named query locality-mechanisms answers: the same assertions,
    places, documents and first evidence sentence, in its order of place, notation and status."""
    from kg import audit as au
    with api.open_store(store_dir, read_only=True) as s:
        expected = api.query(s, "locality-mechanisms", {"locality": region}).to_dicts()
        report = au.audit(s, region, write=False, quotes=False)
        got = au.reported_rows(s, au.region_documents(s, report.iri))
        quoted = au.reported_rows(s, au.region_documents(s, report.iri), quote=1)
    fields = ("notation", "mechanism", "status", "place", "document", "evidence")
    assert expected and len(got) == len(expected)
    assert sorted(tuple(str(r[k]) for k in fields) for r in got) == \
        sorted(tuple(str(r[k]) for k in fields) for r in expected)
    key = [(r["place"], r["notation"], r["status"]) for r in expected]
    assert [(r["place"], r["notation"], r["status"]) for r in got] == key
    first = {}
    for r in quoted:                    # quote=1: the first row of each mechanism has its text
        assert (r["evidence"] is not None) == (r["notation"] not in first)
        first.setdefault(r["notation"], r)


def test_evidence_reads_as_the_list_of_its_sentences_in_document_and_text_order():
    import pickle
    from kg.audit.evaluation import Evidence
    # two documents; the first's sentence 3,4 evidences two narrower mechanisms (two lines)
    found = [(("b/2.txt", "kgd:2", "kgl:1"), "5,6 7,8"), (("a/1.txt", "kgd:1", "kgl:1"), "1,2 3,4"),
             (("a/1.txt", "kgd:1", "kgl:1"), "3,4 9,10")]
    iris = ["kgd:1#char=1,2", "kgd:1#char=3,4", "kgd:1#char=9,10", "kgd:2#char=5,6", "kgd:2#char=7,8"]
    assert [e["iri"] for e in Evidence(found)] == iris
    assert len(Evidence(found)) == 5 and Evidence(found)[3]["document"] == "2.txt"
    for part in (slice(None, 1), slice(None, None, -1), slice(-2, None), slice(1, 3), slice(5, 9)):
        assert [e["iri"] for e in Evidence(found)[part]] == iris[part], part
    assert Evidence(found)[-1]["iri"] == iris[-1]
    with pytest.raises(IndexError):
        Evidence(found)[5]
    quoted = Evidence(found)
    quoted[0]["sentence"] = "…"                  # quoting fills the dicts in place
    assert quoted[:1][0]["sentence"] == "…" and [e["sentence"] for e in quoted][0] == "…"
    assert pickle.loads(pickle.dumps(quoted)) == list(quoted)
