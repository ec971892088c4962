""".docx: paragraphs and tables in document order, after checking the archive is no zip bomb."""
from __future__ import annotations

import io
import zipfile
from typing import Iterator

from .errors import MB, Fail, short_reason

MAX_DOCX_UNZIPPED = 200 * MB       # python-docx loads every part into memory
MAX_DOCX_RATIO = 200               # compression ratio beyond which a big member is a bomb
DOCX_RATIO_MIN_SIZE = 5 * MB       # small members may compress well (repetitive XML)


def read_docx(data: bytes) -> str:
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Fail("not a valid .docx (a legacy .doc file; save it as .docx)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise Fail(f"not a valid .docx ({short_reason(e) or 'not a zip archive'})") from None
    # Check the zip's own size records before python-docx inflates every part into memory.
    # zipfile never inflates a member beyond its recorded size, so a lying record can't
    # get around this check.
    total = sum(i.file_size for i in infos)
    if total > MAX_DOCX_UNZIPPED:
        raise Fail(f"docx expands to {total // MB} MB (limit {MAX_DOCX_UNZIPPED // MB} MB)")
    for i in infos:
        ratio = i.file_size // max(i.compress_size, 1)
        if i.file_size > DOCX_RATIO_MIN_SIZE and ratio > MAX_DOCX_RATIO:
            raise Fail(f"docx expands to {total // MB} MB, {i.filename} at {ratio}:1 (zip bomb?)")
    if not any(i.filename == "word/document.xml" for i in infos):
        raise Fail("not a valid .docx (no word/document.xml; another Office format?)")

    import docx
    try:
        document = docx.Document(io.BytesIO(data))
        text = "\n".join(_docx_lines(document.element.body))
    except Exception as e:   # python-docx and lxml raise a zoo of types on broken files
        raise Fail(f"not a valid .docx ({short_reason(e)})") from None
    if not text.strip():
        raise Fail("no text in document (images only?)")
    return text


def _docx_lines(container) -> Iterator[str]:
    """Paragraphs and tables of a body or table cell, in document order."""
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    for child in container.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, None).text
        elif child.tag == qn("w:tbl"):
            for tr in child.iterchildren(qn("w:tr")):
                cells = [list(_docx_lines(tc)) for tc in tr.iterchildren(qn("w:tc"))]
                if all(len(c) <= 1 for c in cells):
                    # A row of one-line cells stays one line, so "执法案件\t35件" stays together.
                    yield "\t".join(c[0] if c else "" for c in cells)
                else:
                    for c in cells:
                        yield from c
        elif child.tag == qn("w:sdt"):          # content controls wrap ordinary paragraphs
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _docx_lines(content)
