"""Read a file a user has (txt, html, docx, pdf) into text, or fail with a clear error.

This is the first step of the pipeline: it produces `Document.source`. Later steps keep
offsets into this text, so apart from normalising line endings ("\\r\\n", "\\r" -> "\\n")
the decoded text is returned exactly as it is (no stripping, no Unicode normalisation).
For html/docx/pdf the "text" is what we extract: plain text, one block per line.

Every failure is a `ReadError` whose message is one line, "<path>: <reason>", so a batch
run can print it and go on to the next file.

The modules, by format: `encoding` (bytes of a text file → str; how the encoding is detected
is told there) with `hanzi` (does a decoding read as Chinese), `html`, `word` (.docx), `pdf`,
and `walk` (the files under the paths a user gives).
"""
from __future__ import annotations

import io
import os
import stat
import zipfile
from dataclasses import dataclass
from typing import Optional

from .encoding import decode_text, newlines
from .errors import MB, Fail, ReadError
from .html import read_html
from .pdf import read_pdf
from .walk import HTML_SUFFIXES, SUPPORTED_SUFFIXES, TEXT_SUFFIXES, iter_files
from .word import DOCX_RATIO_MIN_SIZE, MAX_DOCX_RATIO, MAX_DOCX_UNZIPPED, read_docx

__all__ = ["DOCX_RATIO_MIN_SIZE", "HTML_SUFFIXES", "MAX_DOCX_RATIO", "MAX_DOCX_UNZIPPED", "MAX_FILE_BYTES", "MB",
           "SUPPORTED_SUFFIXES", "TEXT_SUFFIXES", "ReadError", "Source", "decode_text", "iter_files", "read_file"]

MAX_FILE_BYTES = 200 * MB          # larger inputs are not reports; refuse before reading


@dataclass
class Source:
    path: str
    text: str                      # decoded/extracted text, line endings normalised to "\n"
    format: str                    # "txt" | "html" | "docx" | "pdf"
    encoding: Optional[str] = None  # txt/html only: the encoding the bytes were decoded with


# --------------------------------------------------------------------------- public API

def read_file(path) -> Source:
    """Read one file into a `Source`; raise `ReadError` if it cannot be read as text."""
    spath = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    try:
        data = _read_bytes(spath)
        fmt = _sniff_format(spath, data)
        if fmt == "html":
            text, encoding = read_html(data)
        elif fmt == "docx":
            text, encoding = read_docx(data), None
        elif fmt == "pdf":
            text, encoding = read_pdf(data), None
        else:
            text, encoding = decode_text(data)
    except Fail as e:
        raise ReadError(spath, str(e)) from None
    return Source(path=spath, text=newlines(text), format=fmt, encoding=encoding)


# --------------------------------------------------------------------------- bytes

def _read_bytes(path: str) -> bytes:
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise Fail("is a directory" if os.access(path, os.R_OK | os.X_OK)
                       else "permission denied")
        if not stat.S_ISREG(st.st_mode):
            # FIFOs and devices could block forever or never end.
            raise Fail("not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            raise Fail(f"file too large ({st.st_size // MB} MB, limit {MAX_FILE_BYTES // MB} MB)")
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)   # the file may have grown since stat
    except OSError as e:
        raise Fail(_os_reason(e, path)) from None
    if len(data) > MAX_FILE_BYTES:
        raise Fail(f"file too large (limit {MAX_FILE_BYTES // MB} MB)")
    if not data:
        raise Fail("empty file")
    return data


def _os_reason(e: OSError, path: str) -> str:
    if isinstance(e, FileNotFoundError):
        return "no such file (broken symlink)" if os.path.islink(path) else "no such file"
    if isinstance(e, NotADirectoryError):
        return "no such file"               # a parent component is a file
    if isinstance(e, PermissionError):
        return "permission denied"
    if isinstance(e, IsADirectoryError):
        return "is a directory"
    return (e.strerror or type(e).__name__).lower()


def _sniff_format(path: str, data: bytes) -> str:
    """The format by suffix, overridden where the content says otherwise for sure
    (a PDF or a Word file saved under a .txt/.html name)."""
    suffix = os.path.splitext(path)[1].lower()
    if b"%PDF-" in data[:1024]:             # readers tolerate junk before the header
        return "pdf"
    if suffix == ".docx" or (data.startswith(b"PK\x03\x04") and _is_docx_zip(data)):
        return "docx"
    if suffix == ".pdf":
        return "pdf"
    if suffix in HTML_SUFFIXES:
        return "html"
    return "txt"


def _is_docx_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "word/document.xml" in z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False

