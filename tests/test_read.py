"""kg.read: bytes of whatever file a user has -> text, or a one-line ReadError.

Every fixture is built here from text; nothing binary is committed.
"""
import io
import os
import time
import zipfile

import pytest

from kg.read import SUPPORTED_SUFFIXES, ReadError, Source, iter_files, read_file

from fixtures_hostile import zip_bomb_docx

REPORT = (
    "XX市司法局2024年法治政府建设年度报告\n"
    "2024年，我局深入学习贯彻习近平法治思想，现将有关情况报告如下：\n"
    "一、2024年推进法治政府建设的主要举措和成效\n"
    "（一）全面深入学习贯彻习近平法治思想\n"
    "坚持把学法摆在首位，全年组织党组理论学习中心组集体学法12次。\n"
    "（二）健全行政执法监督机制\n"
    "全面落实行政执法公示制度、执法全过程记录制度、重大执法决定法制审核制度。\n"
    "二、存在的不足和原因\n"
    "基层执法人员的法治素养有待进一步提升。\n"
)


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def read_error(path) -> ReadError:
    with pytest.raises(ReadError) as info:
        read_file(path)
    err = info.value
    assert str(err).startswith(f"{path}: ")
    assert "\n" not in str(err) and str(err) == f"{err.path}: {err.reason}"
    return err


# --------------------------------------------------------------------------- plain text

@pytest.mark.parametrize("encoding, detected", [
    ("utf-8", "utf-8"),
    ("utf-8-sig", "utf-8-sig"),
    ("gbk", "gb18030"),
    ("gb18030", "gb18030"),
    ("utf-16", "utf-16"),          # Python writes a BOM (little-endian here)
    ("utf-16-be", "utf-16-be"),    # no BOM: found from where the NUL bytes are
    ("utf-16-le", "utf-16-le"),
])
def test_txt_encodings_read_back_identically(tmp_path, encoding, detected):
    path = write(tmp_path, "report.txt", REPORT.encode(encoding))
    src = read_file(path)
    assert isinstance(src, Source)
    assert src.text == REPORT
    assert (src.format, src.encoding, src.path) == ("txt", detected, str(path))


def test_utf16_le_bom_is_detected_explicitly(tmp_path):
    path = write(tmp_path, "report.txt", b"\xff\xfe" + REPORT.encode("utf-16-le"))
    assert read_file(path).text == REPORT


def test_utf16_without_any_nul_byte(tmp_path):
    # All-CJK UTF-16 has no NULs to give its UTF-16-ness away.
    text = "法治政府建设年度报告深入学习贯彻习近平法治思想推进严格规范公正文明执法"
    assert b"\x00" not in text.encode("utf-16-be")
    assert read_file(write(tmp_path, "a.txt", text.encode("utf-16-be"))).text == text


def test_gb18030_four_byte_characters(tmp_path):
    text = REPORT + "注：地名“䶮”按原文照录。\n"
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")
    src = read_file(write(tmp_path, "a.txt", text.encode("gb18030")))
    assert (src.text, src.encoding) == (text, "gb18030")


def test_traditional_chinese_gbk(tmp_path):
    text = "一、深入推進依法行政，健全法治保障體系\n（一）堅持重大行政決策制度，嚴格落實集體研究制度。\n"
    assert read_file(write(tmp_path, "a.txt", text.encode("gbk"))).text == text


def test_line_endings_are_normalised_and_nothing_else(tmp_path):
    raw = "　　一、总体情况\r\n  正文，保留首尾空白。  \r（一）小标题\n\n\t末行 "
    src = read_file(write(tmp_path, "a.txt", raw.encode("gbk")))
    assert src.text == "　　一、总体情况\n  正文，保留首尾空白。  \n（一）小标题\n\n\t末行 "


def test_truncated_utf8_is_an_error_not_gb18030(tmp_path):
    path = write(tmp_path, "cut.txt", REPORT.rstrip("\n").encode("utf-8")[:-1])
    err = read_error(path)
    assert "invalid UTF-8 at byte" in err.reason and "truncated" in err.reason


def test_utf8_with_a_few_bad_bytes_is_an_error(tmp_path):
    head = REPORT.encode("utf-8")
    data = head + b"\xff" + (REPORT * 3).encode("utf-8") + b"\xc0" + REPORT.encode("utf-8")
    reason = read_error(write(tmp_path, "bad.txt", data)).reason
    assert reason == f"invalid UTF-8 at byte {len(head)} (truncated or corrupt file)"


def test_truncated_gb18030_is_an_error(tmp_path):
    path = write(tmp_path, "cut.txt", REPORT.rstrip("\n").encode("gbk")[:-1])
    assert "invalid GB18030" in read_error(path).reason


@pytest.mark.parametrize("data", [
    b"", b"  \n\r\n\t ", "\ufeff \n".encode("utf-8"), "\u3000\n".encode("gbk")])
def test_empty_file(tmp_path, data):
    assert read_error(write(tmp_path, "empty.txt", data)).reason == "empty file"


def test_png_is_binary(tmp_path):
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(4096)
    assert read_error(write(tmp_path, "pic.txt", data)).reason == "binary file, not text"


def test_random_bytes_are_binary(tmp_path):
    data = os.urandom(8192)
    assert read_error(write(tmp_path, "blob.txt", data)).reason == "binary file, not text"


def test_zip_that_is_not_docx_is_binary(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("data.csv", "a,b\n1,2\n")
    assert read_error(write(tmp_path, "x.txt", buf.getvalue())).reason == "binary file, not text"


def test_read_error_pickles(tmp_path):
    import pickle
    err = pickle.loads(pickle.dumps(ReadError(tmp_path / "a.txt", "empty file")))
    assert (err.path, err.reason, str(err)) == (str(tmp_path / "a.txt"), "empty file",
                                                 f"{tmp_path / 'a.txt'}: empty file")


def test_missing_file(tmp_path):
    assert read_error(tmp_path / "nope.txt").reason == "no such file"


def test_directory(tmp_path):
    assert read_error(tmp_path).reason == "is a directory"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read anything")
def test_permission_denied(tmp_path):
    path = write(tmp_path, "secret.txt", REPORT)
    path.chmod(0)
    try:
        assert read_error(path).reason == "permission denied"
    finally:
        path.chmod(0o644)


def test_file_too_large(tmp_path, monkeypatch):
    import kg.read
    monkeypatch.setattr(kg.read, "MAX_FILE_BYTES", 100)
    assert read_error(write(tmp_path, "big.txt", REPORT)).reason.startswith("file too large")


# --------------------------------------------------------------------------- HTML

PAGE = """<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>XX市司法局_政府信息公开</title>
<style>.content {{ font-size: 16px }}</style></head>
<body>
<nav><a href="/">首页</a> <a href="/zwgk">政务公开</a></nav>
<div class="breadcrumb">当前位置：首页 &gt; 法治政府建设</div>
<script>alert(1)</script>
<div class="content">
  <h1>XX市司法局2024年法治政府建设年度报告</h1>
  <p>一、2024年推进法治政府建设的主要举措和成效</p>
  <p>（一）全面深入学习贯彻习近平法治思想<br>全年组织集体学法12次。</p>
  <table><tr><td>行政复议案件</td><td>35件</td></tr></table>
</div>
<div class="footer">打印本页 关闭窗口</div>
</body></html>
"""


def test_html_keeps_body_drops_chrome(tmp_path):
    path = write(tmp_path, "page.html", PAGE.format(charset="utf-8"))
    src = read_file(path)
    assert (src.format, src.encoding) == ("html", "utf-8")
    assert src.text == (
        "XX市司法局2024年法治政府建设年度报告\n"
        "一、2024年推进法治政府建设的主要举措和成效\n"
        "（一）全面深入学习贯彻习近平法治思想\n"
        "全年组织集体学法12次。\n"
        "行政复议案件\t35件"
    )
    for chrome in ("alert", "首页", "当前位置", "打印本页", "关闭窗口", "font-size", "政府信息公开"):
        assert chrome not in src.text


def test_html_gbk_meta_charset(tmp_path):
    path = write(tmp_path, "page.htm", PAGE.format(charset="gbk").encode("gbk"))
    src = read_file(path)
    assert src.encoding == "gb18030"
    assert "（一）全面深入学习贯彻习近平法治思想" in src.text


def test_html_http_equiv_gb2312(tmp_path):
    page = PAGE.format(charset="x").replace(
        '<meta charset="x">',
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">')
    src = read_file(write(tmp_path, "page.html", page.encode("gb18030")))
    assert src.encoding == "gb18030" and "行政复议案件" in src.text


def test_html_mislabelled_charset_falls_back_to_the_bytes(tmp_path):
    # Declares gb2312 but is UTF-8: a template copied from another site.
    src = read_file(write(tmp_path, "page.html", PAGE.format(charset="gb2312").encode("utf-8")))
    assert src.encoding == "utf-8" and "行政复议案件" in src.text


def test_html_without_declaration_uses_byte_detection(tmp_path):
    page = PAGE.format(charset="x").replace('<meta charset="x">', "")
    src = read_file(write(tmp_path, "page.html", page.encode("gbk")))
    assert src.encoding == "gb18030" and "全年组织集体学法12次。" in src.text


def test_html_wrapper_with_chrome_class_is_not_dropped(tmp_path):
    # The whole page sits in a div whose class mentions "sidebar": dropping it would
    # drop the report.
    page = ('<html><body><div class="layout-with-sidebar"><div class="text">'
            + "".join(f"<p>{line}</p>" for line in REPORT.splitlines())
            + '</div><div class="sidebar">相关链接</div></div></body></html>')
    text = read_file(write(tmp_path, "p.html", page)).text
    assert text == REPORT.rstrip("\n")


def test_html_falls_back_when_chrome_removal_eats_the_page(tmp_path):
    page = "<html><body><header>" + "".join(f"<p>{line}</p>" for line in REPORT.splitlines()) + \
        "</header></body></html>"
    assert read_file(write(tmp_path, "p.html", page)).text == REPORT.rstrip("\n")


def test_html_without_text(tmp_path):
    path = write(tmp_path, "p.html", "<html><body><script>var a = 1;</script></body></html>")
    assert "no text" in read_error(path).reason


# --------------------------------------------------------------------------- DOCX

def test_docx_paragraphs_and_tables_in_order(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    lines = REPORT.splitlines()
    for line in lines[:4]:
        document.add_paragraph(line)
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("指标", "数量"), ("行政复议案件", "35件")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    for line in lines[4:]:
        document.add_paragraph(line)
    path = tmp_path / "report.docx"
    document.save(path)
    src = read_file(path)
    assert (src.format, src.encoding) == ("docx", None)
    assert src.text == "\n".join(lines[:4] + ["指标\t数量", "行政复议案件\t35件"] + lines[4:])


def test_docx_zip_bomb_is_refused_quickly(tmp_path):
    path = zip_bomb_docx(tmp_path / "bomb.docx", 300 * 1024 * 1024)
    assert path.stat().st_size < 2 * 1024 * 1024
    start = time.perf_counter()
    err = read_error(path)
    assert time.perf_counter() - start < 2
    assert err.reason.startswith("docx expands to 300 MB")


def test_docx_high_ratio_under_size_limit_is_refused(tmp_path):
    path = zip_bomb_docx(tmp_path / "bomb.docx", 40 * 1024 * 1024)
    assert "zip bomb" in read_error(path).reason


def test_docx_not_a_zip(tmp_path):
    path = write(tmp_path, "report.docx", REPORT)
    assert read_error(path).reason.startswith("not a valid .docx")


def test_docx_that_is_another_office_file(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    path = write(tmp_path, "sheet.docx", buf.getvalue())
    assert read_error(path).reason.startswith("not a valid .docx")


def test_docx_with_broken_xml(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types")
        z.writestr("word/document.xml", "<w:document")
    path = write(tmp_path, "broken.docx", buf.getvalue())
    assert read_error(path).reason.startswith("not a valid .docx")


# --------------------------------------------------------------------------- PDF

def _pdf(path, pages, encrypt=None):
    """A PDF with the given pages of lines, in reportlab's built-in CID font: the font
    lives in the viewer, so the test needs no system font."""
    pytest.importorskip("reportlab")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), encrypt=encrypt)
    for lines in pages:
        c.setFont("STSong-Light", 12)      # showPage resets the font
        for i, line in enumerate(lines):
            c.drawString(72, 760 - 20 * i, line)
        if not lines:
            c.rect(72, 72, 300, 300, fill=1)  # ink but no text, like a scan
        c.showPage()
    c.save()
    return path


def test_pdf_chinese_text_layer(tmp_path):
    lines = REPORT.splitlines()
    path = _pdf(tmp_path / "report.pdf", [lines[:4], lines[4:]])
    src = read_file(path)
    assert (src.format, src.encoding) == ("pdf", None)
    assert src.text.split("\n") == lines


def test_pdf_encrypted_with_password(tmp_path):
    path = _pdf(tmp_path / "secret.pdf", [REPORT.splitlines()], encrypt="secret")
    err = read_error(path)
    assert "encrypted" in err.reason


def test_pdf_encrypted_with_empty_user_password_reads(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    plain = _pdf(tmp_path / "plain.pdf", [REPORT.splitlines()[:3]])
    writer = pypdf.PdfWriter(clone_from=str(plain))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    path = tmp_path / "locked.pdf"
    with open(path, "wb") as f:
        writer.write(f)
    assert pypdf.PdfReader(str(path)).is_encrypted
    assert read_file(path).text.split("\n") == REPORT.splitlines()[:3]


def test_pdf_without_text_layer(tmp_path):
    path = _pdf(tmp_path / "scan.pdf", [[], []])
    assert "no text layer" in read_error(path).reason


def test_pdf_text_in_a_font_without_unicode_map(tmp_path):
    pytest.importorskip("reportlab")
    from reportlab.pdfgen import canvas

    path = tmp_path / "boxes.pdf"
    c = canvas.Canvas(str(path))
    c.setFont("Helvetica", 12)          # no CJK glyphs: the text layer comes out as boxes
    c.drawString(72, 760, "一、主要举措和成效，全面深入学习贯彻习近平法治思想")
    c.save()
    assert "unreadable" in read_error(path).reason


def test_pdf_corrupt(tmp_path):
    path = write(tmp_path, "broken.pdf", b"%PDF-1.4\n" + b"\x00garbage" * 50)
    assert read_error(path).reason.startswith("not a valid PDF")


def test_pdf_without_header(tmp_path):
    path = write(tmp_path, "fake.pdf", "<html>404 Not Found</html>")
    assert read_error(path).reason.startswith("not a valid PDF")


def test_pdf_saved_as_txt_is_read_as_pdf(tmp_path):
    path = _pdf(tmp_path / "report.txt", [REPORT.splitlines()[:2]])
    assert read_file(path).format == "pdf"


# --------------------------------------------------------------------------- iter_files

def test_iter_files_filters_sorts_and_recurses(tmp_path):
    for name in ("b.txt", "a.HTML", "c.pdf", "d.docx", "e.md", "f.text", "g.xhtml", "h.htm",
                 "notes.csv", "image.png", ".hidden.txt", "MANIFEST", "MANIFEST.txt",
                 "manifest.json", "Manifest.txt", "sub/z.txt", "sub/.git/x.txt", ".cache/y.txt"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_files([tmp_path])]
    assert found == ["a.HTML", "b.txt", "c.pdf", "d.docx", "e.md", "f.text", "g.xhtml", "h.htm",
                     "sub/z.txt"]
    assert {".txt", ".html", ".docx", ".pdf"} <= set(SUPPORTED_SUFFIXES)


def test_iter_files_symlink_loop_terminates(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "r.txt").write_text(REPORT, encoding="utf-8")
    try:
        os.symlink(tmp_path / "a", tmp_path / "a" / "b" / "loop")
        os.symlink(tmp_path, tmp_path / "a" / "up")
    except (OSError, NotImplementedError):
        pytest.skip("symlinks not supported here")
    found = list(iter_files([tmp_path, tmp_path / "a"]))
    assert [p.name for p in found] == ["r.txt"]


def test_iter_files_yields_missing_and_explicit_paths(tmp_path):
    missing = tmp_path / "gone.txt"
    other = write(tmp_path, "notes.csv", "a,b")
    assert list(iter_files([missing, other])) == [missing, other]
    assert list(iter_files(str(missing))) == [missing]
    assert read_error(next(iter_files([missing]))).reason == "no such file"
