"""Hostile text in a report renders as text on every page the project writes: the graph, the
audit report and matrix, and the server's region and matrix pages — checked in the HTML and in
headless Chromium (no injected script runs)."""
import re
import shutil
import urllib.request

import pytest
from click.testing import CliRunner

from kg.cli import main

from conftest import CORPUS, kg_server
from test_viz import _chromium, _run_chromium

PWN = "document.documentElement.setAttribute('data-pwned','{}')"
LONG_TOKEN = "执" * 6000 + "ABCDEFGHIJ" * 500          # no punctuation for 11,000 characters
RTL = "\u202e法律顾问\u202c"

HOSTILE = f"""杭州市西湖区司法局2023年法治政府建设年度报告
2023年,西湖区司法局坚持以习近平法治思想为指导,法治西湖建设扎实推进,现将有关情况报告如下:
一、主要举措和成效
(一)严格规范公正文明执法
全面推行行政执法公示制度<script>{PWN.format(1)}</script>,执法信息及时公开。
全区各部门均聘请法律顾问<img src=x onerror="{PWN.format(2)}">,发挥法律顾问作用。
落实行政执法全过程记录制度,详见<a href="javascript:{PWN.format(3)}">javascript:{PWN.format(3)}</a>。
重大执法决定法制审核制度全面落实{RTL},公职律师<svg onload="{PWN.format(4)}">参与审核。
行政执法案卷评查{LONG_TOKEN}。
二、存在的不足
行政执法人员培训仍有不足"><iframe src="javascript:{PWN.format(5)}"></iframe>。
"""
RAW = ["<script>document", "<img src=x onerror", '<a href="javascript:', "<svg onload", "<iframe src="]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("safety")
    corpus = root / "corpus"
    corpus.mkdir()
    for f in CORPUS.glob("*.txt"):
        shutil.copy(f, corpus / f.name)
    (corpus / "950_hostile.txt").write_text(HOSTILE, encoding="utf-8")
    store = root / "store"
    run = CliRunner().invoke
    assert run(main, ["build", str(corpus), "--store", str(store), "--no-progress"]).exit_code == 0
    out = {}
    for name, args in {"graph": ["viz", "-o", str(root / "graph.html")],
                       "audit": ["audit", "330106", "--format", "html", "-o", str(root / "audit.html")],
                       "matrix": ["audit", "--all", "--format", "html", "-o", str(root / "matrix.html")]}.items():
        result = run(main, [*args, "--store", str(store)])
        assert result.exit_code == 0, result.output
        out[name] = root / f"{name}.html"
    # the server's pages, saved as files for the browser
    with kg_server(store) as base:
        for name, path in (("region", "/region/330106"), ("served-matrix", "/matrix")):
            html = urllib.request.urlopen(base + path, timeout=60).read().decode("utf-8")
            out[name] = root / f"{name}.html"
            out[name].write_text(html, encoding="utf-8")
    return out


@pytest.mark.parametrize("name", ["graph", "audit", "matrix", "region", "served-matrix"])
def test_hostile_text_is_escaped(pages, name):
    html = pages[name].read_text(encoding="utf-8")
    for raw in RAW:
        assert raw not in html, (name, raw)
    assert not re.search(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", html, re.I), name
    assert "西湖区" in html or "\\u897f\\u6e56\\u533a" in html   # the graph page holds names as JSON


@pytest.mark.parametrize("name", ["audit", "region"])
def test_evidence_shows_the_hostile_sentence_as_text(pages, name):
    html = pages[name].read_text(encoding="utf-8")
    assert "&lt;script&gt;" in html or "&lt;img" in html


@pytest.mark.skipif(_chromium() is None, reason="no chromium")
@pytest.mark.parametrize("name", ["graph", "audit", "matrix", "region", "served-matrix"])
def test_no_injected_script_runs_in_the_browser(pages, name, tmp_path):
    dom = _run_chromium(tmp_path, pages[name], "--dump-dom").stdout.decode("utf-8", "replace")
    assert "<body" in dom
    html_tag = re.search(r"<html[^>]*>", dom)
    assert html_tag and "data-pwned" not in html_tag.group(0), name
