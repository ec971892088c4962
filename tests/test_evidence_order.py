"""Evidence is quoted in document order: locality-mechanisms, localities-implementing and the
region page's reported rows quote an assertion's first sentence in the text, not the one that
sorts first (MIN) nor an arbitrary one (SAMPLE)."""
import pytest
from click.testing import CliRunner

from kg import api
from kg.cli import main

# 行政执法公示制度 (M01a) is said twice; the later sentence sorts first (严 U+4E25 < 全 U+5168).
# 三项制度 (M01) is the index's first line (no "\n" before it) and a prefix of M01a's notation.
EARLIER = "全面推行行政执法公示制度，执法信息全部公开。"
LATER = "严格落实行政执法公示制度，公示信息及时更新。"
REPORT = ("威海市荣成市人民政府关于2023年法治政府建设情况的报告\n\n"
          "2023年，荣成市深入学习贯彻习近平法治思想，扎实推进法治荣成建设，现将有关情况报告如下：\n"
          "一、2023年推进法治政府建设的主要举措和成效\n"
          f"（一）严格规范执法。{EARLIER}\n"
          f"（二）全面推行行政执法三项制度。健全依法决策机制。聘请法律顾问5名。{LATER}\n"
          "二、2023年推进法治政府建设存在的不足和原因\n基层执法力量仍然薄弱。\n"
          "三、2024年推进法治政府建设的主要安排\n继续深化法治政府建设。\n")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("evidence-order")
    (root / "docs").mkdir()
    (root / "docs" / "rc.txt").write_text(REPORT, encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(root / "docs"), "--store", str(root / "store"),
                                       "--no-progress"])
    assert result.exit_code == 0, result.output
    return str(root / "store")


def test_the_document_says_it_twice_and_the_later_sorts_first(store):
    with api.open_store(store, read_only=True) as s:
        said = {str(r["text"]) for r in api.query(
            s, "SELECT ?text { ?a kg:mechanism kgm:M01a ; kg:status kg:Implemented ; kg:evidence ?e . "
               "?e kg:text ?text }").to_dicts()}
        index = str(api.query(s, "SELECT ?i { ?d kg:assertionIndex ?i }").rows[0][0])
    assert said == {EARLIER, LATER} and min(said) == LATER
    assert index.startswith("M01 implemented ") and "\nM01a implemented " in index


def test_locality_mechanisms_quotes_the_first_sentence(store):
    with api.open_store(store, read_only=True) as s:
        rows = api.query(s, "locality-mechanisms", {"locality": "荣成市"}).to_dicts()
    evidence = {(str(r["notation"]), str(r["status"])): str(r["evidence"]) for r in rows}
    assert len(evidence) == len(rows)
    assert evidence[("M01a", "implemented")] == EARLIER
    assert evidence[("M01", "implemented")] == "（二）全面推行行政执法三项制度。"


def test_localities_implementing_quotes_the_first_sentence(store):
    with api.open_store(store, read_only=True) as s:
        rows = api.query(s, "localities-implementing", {"mechanism": "三项制度"}).to_dicts()
    evidence = {str(r["via"]): str(r["evidence"]) for r in rows}
    assert len(evidence) == len(rows) and set(evidence) == {"M01", "M01a"}
    assert evidence["M01a"] == EARLIER


def test_the_region_page_quotes_the_same_sentence(store):
    from kg import audit as au
    with api.open_store(store, read_only=True) as s:
        report = au.audit(s, "荣成市", write=False, quotes=False)
        rows = au.reported_rows(s, au.region_documents(s, report.iri))
    assert {r["notation"]: r["evidence"] for r in rows}["M01a"] == EARLIER
