"""The audit matrix page (`kg audit --all --format html`): its data blob, its size, no network,
and in headless Chromium the first rows, the filter, the status filter and the sort."""
import json
import os
import re
import shutil
import subprocess
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import kg.api as api
from kg import places, statuses
from kg.audit import matrix_page as mp
from kg.cli import main

from conftest import ROOT

_BLOB = re.compile(r'<script type="application/json" id="kg-matrix-data">(.*?)</script>', re.S)
# what a page would load from elsewhere: an element's source or link, a style's url() or @import
_EXTERNAL = re.compile(r"\b(?:src|href|data|srcset|poster|action)\s*=\s*[\"']?\s*(?:https?:)?//"
                       r"|url\(\s*[\"']?\s*(?:https?:)?//|@import\b", re.I)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("matrix") / "store"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(main, ["build", "corpus", "--store", str(path), "--no-progress"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return str(path)


@pytest.fixture(scope="module")
def reports(store_dir):
    with api.open_store(store_dir, read_only=True) as store:
        return api.audit(store, None, write=False, quotes=False)


@pytest.fixture(scope="module")
def page_file(store_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("page") / "audit.html"
    result = CliRunner().invoke(main, ["audit", "--all", "--format", "html", "-o", str(out), "--store", store_dir])
    assert result.exit_code == 0, result.output
    return out


def blob(page: str) -> dict:
    found = _BLOB.search(page)
    assert found, "the page carries no #kg-matrix-data blob"
    return json.loads(found.group(1))


def test_blob_round_trips_every_status(page_file, reports):
    data = blob(page_file.read_text(encoding="utf-8"))
    by_code = {s["code"]: s["notation"] for s in data["statuses"]}
    assert [r["code"] for r in data["regions"]] == [rep.code for rep in reports]
    columns = [(c["notation"], c["label"]) for c in data["columns"]]
    seen = set()
    for rep, cells in zip(reports, data["cells"]):
        assert len(cells) == len(columns)
        shown = {}
        for (notation, label), ch in zip(columns, cells):
            shown.setdefault((notation, label), []).append(by_code[ch])
        for r in rep.rows:
            assert r.status in shown[r.notation, r.label], (rep.region, r.notation)
            seen.add(r.status)
        # a requirement that does not bind the region is "not applicable", never a verdict
        assert cells.count(mp.NOT_APPLICABLE_CODE) == len(columns) - len(rep.rows)
    assert {"implemented", statuses.NOT_REPORTED} <= seen


def test_columns_name_mechanisms_and_regions_their_province(page_file, reports):
    data = blob(page_file.read_text(encoding="utf-8"))
    labels = {r.notation: r.label for rep in reports for r in rep.rows}
    assert all(c["label"] == labels[c["notation"]] for c in data["columns"])
    rushan = next(r for r in data["regions"] if r["code"] == "371083")
    assert (rushan["name"], rushan["province"], rushan["prefecture"]) == ("乳山市", "山东省", "威海市")


def test_no_external_url_and_no_evidence_inlined(page_file, store_dir):
    page = page_file.read_text(encoding="utf-8")
    assert not _EXTERNAL.findall(page)
    assert "http://" not in page and "https://" not in page
    with api.open_store(store_dir, read_only=True) as store:
        rushan = api.audit(store, "乳山市", write=False, quotes=1)
    quotes = [r.evidence[0]["sentence"] for r in rushan.rows if r.evidence]
    assert quotes and not any(q in page for q in quotes)     # a region's audit quotes them


def fake_reports(n: int, n_columns: int = 44) -> list:
    """`n` regions (real county codes) × `n_columns` baseline requirements, statuses in turn."""
    codes = [c for c in places.divisions().codes() if len(c) == 6 and not c.endswith("00")][:n]
    cycle = [s.notation for s in statuses.audit_statuses()]
    out = []
    for i, code in enumerate(codes):
        loc = places.divisions().by_code(code)
        rows = [SimpleNamespace(notation=f"M{k:02d}", label=f"机制{k:02d}制度", set="urn:baseline",
                                set_key="baseline-2021", citation="", requirement="",
                                status=cycle[(i + k) % len(cycle)], evidence=[], covered=[], missing=[])
                for k in range(n_columns) if (i + k) % 11]
        out.append(SimpleNamespace(region=loc.name, code=code, level=loc.level, iri="", sets=[], notes=[],
                                   rows=rows, rolled_up=[]))
    return out


def test_a_title_that_closes_the_script_stays_in_the_blob():
    reps = fake_reports(3, 4)
    title = '</script><script>document.title="pwned"</script><!-- 通知'
    for rep in reps:
        rep.sets = [SimpleNamespace(iri="urn:baseline", title=title, document=None)]
    page = mp.matrix_page(reps)
    assert blob(page)["sets"] == [title]
    assert page.count("<script") == 2       # the blob and the page's own


def test_size_bounded(page_file, reports):
    """The page grows by its cells, not by evidence: ~1 byte a cell and ~100 a region."""
    size = len(page_file.read_bytes())
    n_columns = len({(r.set_key, r.notation) for rep in reports for r in rep.rows})
    assert size < len(mp.page_css() + mp.static_text("matrix.js")) + 4_000 + 200 * n_columns + 300 * len(reports)
    big = mp.matrix_page(fake_reports(3000)).encode()
    assert len(big) < 3000 * (44 + 120) + 60_000 < 3_000_000


def _chromium():
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")


def dump_dom(url: str, tmp_path) -> str:
    result = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync",
                             "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", url],
                            capture_output=True, timeout=120)
    return result.stdout.decode("utf-8")


def drawn(dom: str) -> list[str]:
    """The region codes of the drawn rows, in order."""
    return re.findall(r'<tr data-i="\d+"><th class="rn"><(?:span|a)[^>]*>[^<]*</(?:span|a)> <small>(?:[^<·]*· )?(\d+)<',
                      dom)


def ready(dom: str) -> dict:
    tag = re.search(r"<html[^>]*>", dom).group(0)
    return dict(re.findall(r'data-(ready|rows)="(\d+)"', tag))


needs_chromium = pytest.mark.skipif(_chromium() is None, reason="no chromium")


@needs_chromium
def test_chromium_draws_the_first_rows_grouped_by_province(page_file, reports, tmp_path):
    dom = dump_dom(page_file.as_uri(), tmp_path)
    assert "ready" in ready(dom) and ready(dom)["rows"] == str(len(reports))
    assert sorted(drawn(dom)) == sorted(rep.code for rep in reports)
    assert 'class="grp" data-group="山东省"' in dom
    assert "行政执法公示制度" in dom.split("<tbody>")[0]       # the head names the mechanisms


@needs_chromium
def test_filter_by_a_script_call_and_by_the_fragment(page_file, tmp_path):
    page = page_file.read_text(encoding="utf-8")
    called = tmp_path / "called.html"
    called.write_text(with_script(page, 'kgMatrix.filter("乳山")'), encoding="utf-8")
    dom = dump_dom(called.as_uri(), tmp_path)
    assert drawn(dom) == ["371083"] and ready(dom)["rows"] == "1"
    assert drawn(dump_dom(page_file.as_uri() + "#q=%E7%A6%8F%E6%B8%85", tmp_path)) == ["350181"]   # 福清


@needs_chromium
def test_status_filter_and_sort_missing_first(tmp_path):
    reps = fake_reports(30, 6)
    page = tmp_path / "fake.html"
    page.write_text(mp.matrix_page(reps), encoding="utf-8")
    column = 2
    status = {rep.code: next((r.status for r in rep.rows if r.notation == f"M{column:02d}"), "na") for rep in reps}
    dom = dump_dom(page.as_uri() + f"#st={statuses.NOT_REPORTED}&within={column}", tmp_path)
    assert sorted(drawn(dom)) == sorted(c for c, s in status.items() if s == statuses.NOT_REPORTED)
    order = {s.notation: s.order for s in statuses.shown()}
    codes = drawn(dump_dom(page.as_uri() + f"#sort={column}&flat=1", tmp_path))
    ranks = [(status[c] == statuses.NOT_APPLICABLE, -order[status[c]]) for c in codes]
    assert len(codes) == 30 and ranks == sorted(ranks)


def with_script(page: str, script: str) -> str:
    """The page with `script` run after its own (as a reader's clicks would be)."""
    return page.replace("</body>", f"<script>{script}</script></body>")


@needs_chromium
def test_rows_are_drawn_a_page_at_a_time(tmp_path):
    page = tmp_path / "big.html"
    text = mp.matrix_page(fake_reports(1000))
    page.write_text(text, encoding="utf-8")
    dom = dump_dom(page.as_uri() + "#flat=1", tmp_path)
    assert len(drawn(dom)) == mp.PAGE_ROWS and ready(dom)["rows"] == "1000"
    page.write_text(with_script(text, 'document.getElementById("more").click()'), encoding="utf-8")
    assert len(drawn(dump_dom(page.as_uri() + "#flat=1", tmp_path))) == 2 * mp.PAGE_ROWS


@needs_chromium
def test_a_province_folds(page_file, reports, tmp_path):
    folded = tmp_path / "folded.html"
    click = """document.querySelector('tr.grp[data-group="山东省"]').click()"""
    folded.write_text(with_script(page_file.read_text(encoding="utf-8"), click), encoding="utf-8")
    dom = dump_dom(folded.as_uri(), tmp_path)
    assert sorted(drawn(dom)) == sorted(rep.code for rep in reports if not rep.code.startswith("37"))
    assert 'data-group="山东省"><th class="rn"><button class="tog" aria-expanded="false">' in dom
