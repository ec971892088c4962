"""`kg extract` through the CLI, on real files in every format a user has."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main

from conftest import seed


def run_extract(*paths):
    result = CliRunner().invoke(main, ["extract", *map(str, paths), "--format", "json"])
    return result, json.loads(result.stdout or "[]")


def shape(record):
    loc = record["locality"] or {}
    return (loc.get("name"), loc.get("code"), record["year"], record["doctype"],
            [s["role"] for s in record["sections"] if s["depth"] <= 2])


def write_docx(path: Path, text: str):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    for line in text.split("\n"):
        d.add_paragraph(line)
    d.save(path)


def write_pdf(path: Path, text: str):
    pytest.importorskip("reportlab")
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=A4)
    y = 800
    for line in text.split("\n"):
        # PDF lines are short: wrap long paragraphs the way a layout engine would
        for k in range(0, max(len(line), 1), 40):
            if y < 40:
                c.showPage()
                y = 800
            c.setFont("STSong-Light", 10)
            c.drawString(30, y, line[k:k + 40])
            y -= 14
    c.save()


@pytest.mark.parametrize("fmt", ["gbk", "utf-16", "html", "docx", "pdf"])
def test_every_format_extracts_like_the_plain_text(tmp_path, fmt):
    plain = seed("000")
    text = plain.read_text(encoding="utf-8")
    _, [expected] = run_extract(plain)
    if fmt == "gbk":
        path = tmp_path / "report.txt"
        path.write_bytes(text.encode("gbk"))
    elif fmt == "utf-16":
        path = tmp_path / "report.txt"
        path.write_bytes(text.encode("utf-16"))
    elif fmt == "html":
        body = "".join(f"<p>{line}</p>\n" for line in text.split("\n"))
        path = tmp_path / "report.html"
        path.write_text(
            "<html><head><meta charset='utf-8'><script>var x='<p>一、广告</p>';</script></head><body>"
            "<nav><ul><li>首页</li><li>政务公开</li></ul></nav>"
            f"<div class='article'>{body}</div>"
            "<div class='footer'>扫一扫在手机上查看当前页面 【打印本页】【关闭窗口】</div></body></html>",
            encoding="utf-8")
    elif fmt == "docx":
        path = tmp_path / "report.docx"
        write_docx(path, text)
    else:
        path = tmp_path / "report.pdf"
        write_pdf(path, text)
    result, [record] = run_extract(path)
    assert result.exit_code == 0, result.stderr
    assert record["locality"]["name"] == "乳山市"
    if fmt == "pdf":
        # a PDF's text layer breaks paragraphs into lines; the outline and the place survive
        assert (record["year"], record["doctype"]) == (2024, "annual_report")
        assert [s["role"] for s in record["sections"] if s["depth"] == 1] == \
            [s["role"] for s in expected["sections"] if s["depth"] == 1]
    else:
        assert shape(record) == shape(expected)


def test_bad_files_are_reported_and_the_batch_goes_on(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(seed("002").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    truncated = "法治政府建设年度报告，依法行政。".encode("utf-8") * 40
    (tmp_path / "truncated.txt").write_bytes(truncated[:-1])
    result, records = run_extract(tmp_path)
    assert result.exit_code == 1
    assert [r["doc"] for r in records] == ["good.txt"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3
    for name, reason in (("empty.txt", "empty"), ("binary.txt", "binary"), ("truncated.txt", "UTF-8")):
        [line] = [e for e in errors if name in e]
        assert reason in line and str(tmp_path) in line


def test_table_format_is_readable():
    result = CliRunner().invoke(main, ["extract", str(seed("004")), "--format", "table"])
    assert result.exit_code == 0
    assert "江北区 (330205, county; 浙江省 / 宁波市)" in result.stdout
    assert "year 2022" in result.stdout


def test_python_m_kg_runs():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "kg", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "extract" in out.stdout


def test_corpus_manifest_lists_every_document():
    from conftest import CORPUS
    lines = (CORPUS / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == ["file", "kind", "description"]
    listed = {line.split("\t")[0]: line.split("\t")[1] for line in lines[1:]}
    files = {p.name for p in CORPUS.iterdir() if not p.name.startswith(("MANIFEST", "."))}
    assert set(listed) == files
    result, records = run_extract(CORPUS)
    assert result.exit_code == 0 and {r["doc"] for r in records} == files   # the manifest is not read as a report
    assert {r["doc"]: r["doctype"] for r in records} == listed


def test_a_township_record_carries_its_own_code():
    """A 街道/乡/镇's record has its county's code (the graph's locality) and its own 9-digit code."""
    result, records = run_extract(Path(__file__).parent / "docs" / "zhejiang_township_2024.txt")
    loc = records[0]["locality"]
    assert loc["name"] == "店口镇" and loc["level"] == "township" and loc["code"] == "330681"
    assert loc["township_code"].startswith("330681") and len(loc["township_code"]) == 9
