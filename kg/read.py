"""Read a file a user has (txt, html, docx, pdf) into text, or fail with a clear error.

This is the first step of the pipeline: it produces `Document.source`. Later steps keep
offsets into this text, so apart from normalising line endings ("\\r\\n", "\\r" -> "\\n")
the decoded text is returned exactly as it is (no stripping, no Unicode normalisation).
For html/docx/pdf the "text" is what we extract: plain text, one block per line.

Every failure is a `ReadError` whose message is one line, "<path>: <reason>", so a batch
run can print it and go on to the next file.

Encoding detection for plain text (also the fallback for html), in order:

1. a BOM (UTF-32, UTF-8, UTF-16) decides;
2. NUL bytes mean UTF-16 without a BOM (tried in the endianness the NUL positions
   suggest) or else a binary file; many other control bytes mean a binary file (or
   all-CJK UTF-16, whose low bytes are arbitrary: see 6);
3. strict UTF-8;
4. bytes that are *almost* UTF-8 (a sequence cut off at the end, a few bad bytes) are a
   truncated or corrupt UTF-8 file: an error, never a GB18030 reading of it;
5. strict GB18030 (a superset of GBK and GB2312), accepted only if the result reads as
   Chinese: GB18030 decodes nearly any byte string, so we require that the hanzi be mostly
   common ones, few characters come from its 4-byte region, and there is no junk;
6. BOM-less UTF-16 without a single NUL (all-CJK text), with the same test;
7. charset-normalizer as a last resort, for Big5 and Western code pages only.
"""
from __future__ import annotations

import codecs
import contextlib
import functools
import io
import logging
import os
import re
import stat
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from .errors import one_line

MB = 1024 * 1024
MAX_FILE_BYTES = 200 * MB          # larger inputs are not reports; refuse before reading
MAX_DOCX_UNZIPPED = 200 * MB       # python-docx loads every part into memory
MAX_DOCX_RATIO = 200               # compression ratio beyond which a big member is a bomb
DOCX_RATIO_MIN_SIZE = 5 * MB       # small members may compress well (repetitive XML)

TEXT_SUFFIXES = (".txt", ".text", ".md")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
SUPPORTED_SUFFIXES = frozenset(TEXT_SUFFIXES + HTML_SUFFIXES + (".docx", ".pdf"))


class ReadError(Exception):
    """A file could not be read as text. `str(e)` is one line: "<path>: <reason>"."""

    def __init__(self, path, reason: str):
        self.path = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
        # Reasons are sometimes built from library messages: keep them on one line.
        self.reason = " ".join(str(reason).split())
        super().__init__(f"{one_line(self.path)}: {self.reason}")

    def __reduce__(self):   # so that errors survive the trip back from a worker process
        return type(self), (self.path, self.reason)


@dataclass
class Source:
    path: str
    text: str                      # decoded/extracted text, line endings normalised to "\n"
    format: str                    # "txt" | "html" | "docx" | "pdf"
    encoding: Optional[str] = None  # txt/html only: the encoding the bytes were decoded with


class _Fail(Exception):
    """Internal: a reason without a path; read_file turns it into a ReadError."""


# --------------------------------------------------------------------------- public API

def read_file(path) -> Source:
    """Read one file into a `Source`; raise `ReadError` if it cannot be read as text."""
    spath = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    try:
        data = _read_bytes(spath)
        fmt = _sniff_format(spath, data)
        if fmt == "html":
            text, encoding = _read_html(data)
        elif fmt == "docx":
            text, encoding = _read_docx(data), None
        elif fmt == "pdf":
            text, encoding = _read_pdf(data), None
        else:
            text, encoding = decode_text(data)
    except _Fail as e:
        raise ReadError(spath, str(e)) from None
    return Source(path=spath, text=_newlines(text), format=fmt, encoding=encoding)


def iter_files(paths) -> Iterator[Path]:
    """The files to read under `paths` (files and/or directories).

    Directories are walked recursively in sorted order, keeping only supported suffixes
    and skipping hidden entries, manifest files (MANIFEST*, manifest.*) and FIFOs, sockets
    and devices (opening a FIFO blocks until a writer comes). Symlinks are
    followed, but each directory is entered once, so symlink loops end. A path given
    explicitly is yielded as is, even if it does not exist or has another suffix: the user
    asked for it, and read_file will say what is wrong with it.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    visited: set[tuple[int, int]] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            yield from _walk(p, visited)
        else:
            yield p


# --------------------------------------------------------------------------- bytes

def _read_bytes(path: str) -> bytes:
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise _Fail("is a directory" if os.access(path, os.R_OK | os.X_OK)
                        else "permission denied")
        if not stat.S_ISREG(st.st_mode):
            # FIFOs and devices could block forever or never end.
            raise _Fail("not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            raise _Fail(f"file too large ({st.st_size // MB} MB, limit {MAX_FILE_BYTES // MB} MB)")
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)   # the file may have grown since stat
    except OSError as e:
        raise _Fail(_os_reason(e, path)) from None
    if len(data) > MAX_FILE_BYTES:
        raise _Fail(f"file too large (limit {MAX_FILE_BYTES // MB} MB)")
    if not data:
        raise _Fail("empty file")
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


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------- text decoding

_BOMS = (  # UTF-32 first: its LE BOM starts with the UTF-16 LE BOM
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)

_MAGIC = (  # file types users plausibly drop into a folder of reports
    b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*", b"RIFF",
    b"PK\x03\x04", b"PK\x05\x06", b"\x7fELF", b"MZ", b"\x1f\x8b", b"BZh", b"7z\xbc\xaf",
    b"Rar!", b"\xd0\xcf\x11\xe0", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"SQLite format",
)
_MAGIC_MIN_LEN = {b"BM": 14, b"MZ": 64}   # short magics: only on files big enough to be one

# Control bytes that never occur in text in any encoding we accept (multibyte UTF-8,
# GB18030 and Big5 sequences use bytes >= 0x30 only). Tab, LF, VT, FF, CR and ESC are fine.
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\x0b\x0c\r\x1b") + b"\x7f"
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode the bytes of a text file: (text, encoding), or raise _Fail."""
    for bom, encoding, label in _BOMS:
        if data.startswith(bom):
            text = _strict(data, encoding, label)
            return _check_text(text), encoding

    for magic in _MAGIC:
        if data.startswith(magic) and len(data) >= _MAGIC_MIN_LEN.get(magic, 0):
            raise _Fail("binary file, not text")

    if b"\x00" in data:
        # Text never contains NUL, but UTF-16 of ASCII characters (digits, newlines) does.
        text, encoding = _decode_utf16_bomless(data)
        return _check_text(text), encoding

    if len(data.translate(None, _NOT_CONTROL)) > max(2, len(data) // 100):
        # Binary, or UTF-16 of CJK text without a single NUL (its low bytes are random).
        found = _utf16_cjk(data)
        if found:
            return found
        raise _Fail("binary file, not text")

    try:
        return _check_text(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError as e:
        utf8_error = e
    if _mostly_utf8(data, utf8_error):
        raise _Fail(f"invalid UTF-8 at byte {utf8_error.start} (truncated or corrupt file)")

    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as e:
        # Not GB18030 either, unless it is a Chinese GB file with a few bad bytes.
        repaired = data.decode("gb18030", errors="replace")
        if (repaired.count("\ufffd") * 200 <= len(repaired)
                and _reads_as_chinese(repaired.replace("\ufffd", ""), gb=True)):
            raise _Fail(f"invalid GB18030 at byte {e.start} (truncated or corrupt file)") from None
    else:
        if _reads_as_chinese(text, gb=True):
            return _check_text(text), "gb18030"

    found = _utf16_cjk(data)
    if found:
        return found

    found = _charset_normalizer(data)
    if found:
        return _check_text(found[0]), found[1]
    raise _Fail("unknown text encoding (not UTF-8, GB18030 or UTF-16)")


def _decode_utf16_bomless(data: bytes) -> tuple[str, str]:
    """UTF-16 without BOM, or raise: NULs in any other file mean a binary file."""
    # ASCII characters put their NUL in the high byte: odd positions in LE, even in BE.
    even, odd = data[0::2].count(0), data[1::2].count(0)
    order = ("utf-16-le", "utf-16-be") if odd >= even else ("utf-16-be", "utf-16-le")
    body = data if len(data) % 2 == 0 else data[:-1]
    for encoding in order:
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text and _reads_as_chinese(text):
            if len(body) != len(data):
                raise _Fail(f"invalid UTF-16 at byte {len(body)} (truncated or corrupt file)")
            return text, encoding
    raise _Fail("binary file, not text")


def _utf16_cjk(data: bytes) -> Optional[tuple[str, str]]:
    """BOM-less UTF-16 of (nearly) all-CJK text, which has no NUL bytes to give it away."""
    if len(data) % 2:
        return None
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _reads_as_chinese(text, require_hanzi=True):
            return _check_text(text), encoding
    return None


def _strict(data: bytes, encoding: str, label: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        raise _Fail(f"invalid {label} at byte {e.start} (truncated or corrupt file)") from None


def _check_text(text: str) -> str:
    """Refuse decoded text that is blank or full of control characters."""
    if not text.strip():
        raise _Fail("empty file")
    sample = _sample(text)
    # characters outside the common blocks, counted a slice at a time (a text of kana or
    # hangul has millions, and findall makes an object of each)
    maybe_junk, suspects = _maybe_junk(), Counter()
    for i in range(0, len(sample), _SLICE):
        suspects.update(maybe_junk.findall(sample, i, i + _SLICE))
    junk = sum(n for c, n in suspects.items() if _is_junk(c))
    if junk > max(2, len(sample) // 100):
        raise _Fail("binary file, not text")
    return text


def _mostly_utf8(data: bytes, first_error: UnicodeDecodeError) -> bool:
    """Is this UTF-8 text that is cut off or has a few bad bytes (rather than another
    encoding)? GBK text read as UTF-8 has several invalid sequences per valid one; damaged
    UTF-8 has a handful among thousands, or just one at the very end."""
    # Only the file's last bytes can be "unexpected end of data": everything before them
    # is valid UTF-8, and the end is the start of a UTF-8 sequence.
    if first_error.reason == "unexpected end of data":
        return True
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    good = non_ascii - bad
    return good >= 1 and bad * 20 <= good


# Hanzi a real Chinese text mostly consists of: GB2312 level 1 (3755 common simplified
# characters) and Big5's frequently used set (5401 traditional ones). Government reports
# score ~99.9%; GB18030 readings of UTF-8, Big5 or random bytes score 30-60%.
@functools.lru_cache(maxsize=None)
def _common_hanzi() -> frozenset:
    chars = set()
    for encoding, leads, trails in (
        ("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF)),
        ("big5", range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)]),
    ):
        for hi in leads:
            for lo in trails:
                try:
                    chars.add(bytes((hi, lo)).decode(encoding))
                except UnicodeDecodeError:
                    pass                  # unassigned slots at the end of a row
    return frozenset(chars)


def _is_hanzi(c: str) -> bool:
    o = ord(c)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x3134F


_EXPECTED_RANGES = (  # what shows up in Chinese (and English) documents besides hanzi
    (0x00A0, 0x024F),   # Latin-1, Latin Extended A/B (pinyin tone marks ā ǎ ü)
    (0x02B0, 0x02FF),   # modifier letters (ˉ ˇ)
    (0x0370, 0x04FF),   # Greek, Cyrillic (both in GB2312)
    (0x2000, 0x2BFF),   # punctuation, symbols, number forms Ⅰ, ①, arrows, boxes ■ □ ●
    (0x2E80, 0x303F),   # CJK radicals, CJK symbols and punctuation 、。〔〕
    (0x3040, 0x33FF),   # kana, bopomofo, enclosed CJK ㈠, CJK compatibility ㎡
    (0xF900, 0xFAFF),   # CJK compatibility ideographs
    (0xFE10, 0xFE6F),   # vertical and small forms
    (0xFF00, 0xFFEF),   # fullwidth forms ，（）：
)


def _is_expected(c: str) -> bool:
    o = ord(c)
    if o < 0x80:
        return c.isprintable() or c in "\t\n\x0b\x0c\r"
    if _is_hanzi(c):
        return True
    return any(lo <= o <= hi for lo, hi in _EXPECTED_RANGES)


def _is_junk(c: str) -> bool:
    if c in "\t\n\x0b\x0c\r\x1b":
        return False
    return c == "\ufffd" or unicodedata.category(c) in ("Cc", "Cn", "Cs")


# The blocks nearly all of a report's characters come from: ASCII, Latin-1, general
# punctuation, CJK symbols and punctuation, CJK unified ideographs, full-width forms.
_COMMON_BLOCKS = ((0x0000, 0x00FF), (0x2000, 0x206F), (0x3000, 0x303F), (0x4E00, 0x9FFF),
                  (0xFF00, 0xFFEF))


_SLICE = 1 << 16


@functools.lru_cache(maxsize=1)
def _maybe_junk() -> re.Pattern:
    """A regex for every character that is not known to be clean: the characters of the
    common blocks that `_is_junk` passes (asked once here, so the answer follows the Python's
    Unicode tables) are left out. A text is then checked by one regex pass instead of a
    category look-up per character."""
    ranges, start = [], None
    for lo, hi in _COMMON_BLOCKS:
        for o in range(lo, hi + 2):
            clean = o <= hi and not _is_junk(chr(o))
            if clean and start is None:
                start = o
            elif not clean and start is not None:
                ranges.append((start, o - 1))
                start = None
    cls = "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)
    return re.compile(f"[^{cls}]")


def _reads_as_chinese(text: str, gb: bool = False, require_hanzi: bool = False) -> bool:
    """Does a candidate decoding look like real (Chinese) text rather than mojibake?"""
    counts = Counter(_sample(text))
    total = junk = hanzi = common = unexpected = four_byte = non_ascii = 0
    for c, n in counts.items():
        kind, space, beyond_ascii, beyond_gbk = _char_class(c)
        if not space:
            total += n
        if beyond_ascii:
            non_ascii += n
        if kind == _JUNK:
            junk += n
        elif kind == _COMMON_HANZI or kind == _RARE_HANZI:
            hanzi += n
            if kind == _COMMON_HANZI:
                common += n
        elif kind == _UNEXPECTED:
            unexpected += n
        if gb and beyond_gbk:
            four_byte += n                    # GB18030's 4-byte region: rare in real text
    if not total:
        return True
    if junk > total // 200 or unexpected > max(2, total // 20):
        return False
    if gb and four_byte > max(2, non_ascii // 100):
        return False
    if require_hanzi and hanzi < max(1, total // 4):
        return False
    if hanzi:
        need = 0.85 if hanzi >= 30 else 0.7
        return common >= need * hanzi
    return True


_JUNK, _COMMON_HANZI, _RARE_HANZI, _UNEXPECTED, _OTHER = range(5)


@functools.lru_cache(maxsize=1 << 14)
def _char_class(c: str) -> tuple[int, bool, bool, bool]:
    """(kind, is space, beyond ASCII, beyond GBK) of a character, for _reads_as_chinese;
    remembered, as a text has hundreds of distinct characters and each test is a few calls."""
    if _is_junk(c):
        kind = _JUNK
    elif _is_hanzi(c):
        kind = _COMMON_HANZI if c in _common_hanzi() else _RARE_HANZI
    elif not c.isspace() and not _is_expected(c):
        kind = _UNEXPECTED
    else:
        kind = _OTHER
    beyond_ascii = ord(c) >= 0x80
    return kind, c.isspace(), beyond_ascii, beyond_ascii and not _in_gbk(c)


def _in_gbk(c: str) -> bool:
    try:
        c.encode("gbk")
        return True
    except UnicodeEncodeError:
        return False


def _sample(text: str, size: int = 1_000_000) -> str:
    """Statistics on a few MB are as good as on 200 MB, and much faster."""
    if len(text) <= 3 * size:
        return text
    mid = len(text) // 2
    return text[:size] + text[mid:mid + size] + text[-size:]


def _charset_normalizer(data: bytes) -> Optional[tuple[str, str]]:
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        return None
    # Only encodings a report plausibly comes in: traditional-script Big5, and the Western
    # code pages of English material. On short or odd input charset-normalizer happily
    # proposes EBCDIC or Central European code pages; UTF-8 and the GB family were judged
    # above with stricter tests, so its guessing either would be garbage we refused.
    for match in from_bytes(data):
        try:
            encoding = codecs.lookup(match.encoding).name
        except LookupError:
            continue
        if encoding not in _FALLBACK_ENCODINGS:
            continue
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = _sample(text)
        if sum(1 for c in sample if _is_junk(c)) <= len(sample) // 200:
            return text, encoding
    return None


_FALLBACK_ENCODINGS = frozenset(("big5", "big5hkscs", "cp950", "cp1252", "iso8859-1", "iso8859-15"))


# --------------------------------------------------------------------------- HTML

_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)

# Labels Chinese sites declare for what is in practice GBK/GB18030 bytes.
_GB_LABELS = {"gb2312", "gbk", "x-gbk", "gb_2312-80", "cp936", "ms936", "euc-cn", "gb18030",
              "csgb2312", "chinese"}


def _declared_charset(data: bytes) -> Optional[str]:
    head = data[:16384]
    m = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    if not m:
        return None
    label = m.group(1).decode("ascii").lower()
    if label in _GB_LABELS:
        return "gb18030"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # A UTF-16/32 declaration in bytes we could read as ASCII is wrong by construction.
    return None if name.startswith(("utf-16", "utf-32")) else name


def _decode_html(data: bytes) -> tuple[str, str]:
    for bom, encoding, label in _BOMS:
        if data.startswith(bom):
            text = _strict(data, encoding, label)
            return text, encoding
    declared = _declared_charset(data)
    if declared and b"\x00" not in data:
        try:
            text = data.decode(declared)
        except UnicodeDecodeError:
            text = None   # mislabelled: let the bytes speak
        if text is not None:
            # Pages declaring gb2312/latin-1 yet being valid UTF-8 with non-ASCII are
            # common (templates copied between sites); valid UTF-8 is hardly ever chance.
            if declared != "utf-8" and not text.isascii():
                try:
                    return data.decode("utf-8"), "utf-8"
                except UnicodeDecodeError:
                    pass
            return text, declared
    return decode_text(data)


_DROP_ALWAYS = ("script", "style", "noscript", "template", "head", "select", "option",
                "button", "input", "textarea", "iframe", "object", "embed", "svg", "canvas")
_CHROME_TAGS = ("nav", "header", "footer", "aside")
_CHROME_ATTR = re.compile(r"nav|menu|footer|header|breadcrumb|crumb|share|sidebar", re.I)

_BLOCK_TAGS = frozenset((
    "p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
    "tr", "table", "thead", "tbody", "tfoot", "caption", "section", "article", "main",
    "header", "footer", "nav", "aside", "blockquote", "pre", "hr", "form", "fieldset",
    "address", "figure", "figcaption", "center", "title", "body", "html", "details",
    "summary", "legend",
))
_CELL_TAGS = frozenset(("td", "th"))
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")    # HTML collapses these, not nbsp or U+3000


def _read_html(data: bytes) -> tuple[str, str]:
    text, encoding = _decode_html(data)
    if not text.strip():
        raise _Fail("empty file")
    markup = _newlines(text)
    from bs4 import BeautifulSoup

    # The levels' removals add up, so one parse serves level 0 and, stripped further, level 2;
    # only when level 2 is refused does level 1 need a fresh parse.
    soup = BeautifulSoup(markup, "lxml")
    _strip(soup, 0, 0)
    plain = _render(soup)
    baseline = _visible_size(plain)
    if not baseline:
        raise _Fail("no text found in HTML")
    # Chrome removal is a heuristic; if it eats most of the page (a wrapper div called
    # "main-with-sidebar", a whole page inside <header>), step back to a gentler level.
    _strip(soup, 1, 2)
    extracted = _render(soup)
    if _visible_size(extracted) >= 0.3 * baseline:
        return extracted, encoding
    extracted = _html_to_text(markup, 1)
    if _visible_size(extracted) >= 0.3 * baseline:
        return extracted, encoding
    return plain, encoding


def _visible_size(text: str) -> int:
    return len("".join(text.split()))


def _html_to_text(markup: str, level: int) -> str:
    """level 0: drop scripts and the like; 1: also <nav>/<header>/<footer>/<aside>;
    2: also elements whose id or class says nav/menu/footer/…"""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "lxml")
    _strip(soup, 0, level)
    return _render(soup)


def _strip(soup, first: int, last: int) -> None:
    """Make the removals of levels first..last (each level's assume those below it made)."""
    if first <= 0 <= last:
        for tag in soup.find_all(_DROP_ALWAYS):
            tag.decompose()
    if first <= 1 <= last:
        for tag in soup.find_all(_CHROME_TAGS):
            # <header>/<footer> inside <article> hold the article's own title and notes.
            if tag.name in ("header", "footer") and tag.find_parent(("article", "main")):
                continue
            tag.decompose()
    if first <= 2 <= last:
        total = _text_size(soup)
        for tag in soup.find_all(_has_chrome_attr):
            if tag.decomposed:
                continue
            # A "chrome" element holding half the page is a layout wrapper, not chrome.
            if _text_size(tag) * 2 <= total:
                tag.decompose()


def _has_chrome_attr(tag) -> bool:
    attrs = getattr(tag, "attrs", None) or {}
    classes = attrs.get("class") or []
    if isinstance(classes, str):
        classes = [classes]
    names = " ".join([str(attrs.get("id") or ""), *map(str, classes)])
    return bool(names.strip()) and bool(_CHROME_ATTR.search(names))


def _text_size(tag) -> int:
    return _visible_size(tag.get_text())


_BREAK, _CELL = object(), object()


def _render(soup) -> str:
    """Plain text: block elements on lines of their own, table cells tab-separated."""
    from bs4 import NavigableString, Tag
    from bs4.element import PreformattedString   # comments, doctype, CDATA, PIs

    pieces: list = []
    stack: list = [(soup, False)]                # iterative: pages nest deeper than Python recurses
    while stack:
        node, in_pre = stack.pop()
        if node is _BREAK or node is _CELL:
            pieces.append(node)
        elif isinstance(node, Tag):
            name = node.name
            pre = in_pre or name in ("pre", "listing", "plaintext")
            if name in _BLOCK_TAGS:
                pieces.append(_BREAK)
                stack.append((_BREAK, pre))
            elif name in _CELL_TAGS:
                pieces.append(_CELL)
            stack.extend((child, pre) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            s = str(node)
            if in_pre:
                for i, part in enumerate(s.split("\n")):
                    if i:
                        pieces.append(_BREAK)
                    pieces.append(part)
            else:
                pieces.append(_HTML_SPACE.sub(" ", s))

    lines, line = [], []
    for piece in pieces + [_BREAK]:
        if piece is _BREAK:
            text = "".join(line).strip(" \t")
            if text.strip():
                lines.append(text)
            line = []
        elif piece is _CELL:
            if "".join(line).strip():
                line.append("\t")
        else:
            line.append(piece)
    return "\n".join(lines)


# --------------------------------------------------------------------------- DOCX

def _read_docx(data: bytes) -> str:
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _Fail("not a valid .docx (a legacy .doc file; save it as .docx)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise _Fail(f"not a valid .docx ({_short(e) or 'not a zip archive'})") from None
    # Check the zip's own size records before python-docx inflates every part into memory.
    # zipfile never inflates a member beyond its recorded size, so a lying record can't
    # get around this check.
    total = sum(i.file_size for i in infos)
    if total > MAX_DOCX_UNZIPPED:
        raise _Fail(f"docx expands to {total // MB} MB (limit {MAX_DOCX_UNZIPPED // MB} MB)")
    for i in infos:
        ratio = i.file_size // max(i.compress_size, 1)
        if i.file_size > DOCX_RATIO_MIN_SIZE and ratio > MAX_DOCX_RATIO:
            raise _Fail(f"docx expands to {total // MB} MB, {i.filename} at {ratio}:1 (zip bomb?)")
    if not any(i.filename == "word/document.xml" for i in infos):
        raise _Fail("not a valid .docx (no word/document.xml; another Office format?)")

    import docx
    try:
        document = docx.Document(io.BytesIO(data))
        text = "\n".join(_docx_lines(document.element.body))
    except Exception as e:   # python-docx and lxml raise a zoo of types on broken files
        raise _Fail(f"not a valid .docx ({_short(e)})") from None
    if not text.strip():
        raise _Fail("no text in document (images only?)")
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


# --------------------------------------------------------------------------- PDF

@contextlib.contextmanager
def _quiet_pypdf():
    """pypdf logs a warning for every small defect of real-world PDFs; we report our own."""
    logger = logging.getLogger("pypdf")
    old = logger.level
    logger.setLevel(logging.ERROR + 1)
    try:
        yield
    finally:
        logger.setLevel(old)


def _read_pdf(data: bytes) -> str:
    if b"%PDF-" not in data[:1024]:
        raise _Fail("not a valid PDF (no %PDF header)")
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    with _quiet_pypdf():
        try:
            reader = PdfReader(io.BytesIO(data))
        except Exception as e:
            raise _Fail(f"not a valid PDF ({_short(e)})") from None
        if reader.is_encrypted:
            # Many PDFs are "encrypted" with an empty user password just to set permissions.
            try:
                ok = reader.decrypt("")
            except DependencyError:
                raise _Fail("encrypted PDF (decrypting needs the 'cryptography' package)") from None
            except Exception:
                ok = 0
            if not ok:
                raise _Fail("encrypted PDF (password required)")
        pages = []
        try:
            for page in reader.pages:
                pages.append((page.extract_text() or "").rstrip("\n"))
        except FileNotDecryptedError:
            raise _Fail("encrypted PDF (password required)") from None
        except Exception as e:
            raise _Fail(f"not a valid PDF (page {len(pages) + 1}: {_short(e)})") from None
    text = "\n".join(pages)
    visible = "".join(text.split())
    if not visible:
        raise _Fail("PDF has no text layer (scanned?); OCR it first")
    # Fonts without a Unicode map extract as boxes and private-use codes, not text.
    unreadable = sum(1 for c in visible
                     if c in "\ufffd\u25a0" or unicodedata.category(c) in ("Co", "Cc"))
    if unreadable * 2 > len(visible):
        raise _Fail("PDF text layer is unreadable (fonts without Unicode map); OCR it first")
    return text


def _short(e: BaseException, limit: int = 100) -> str:
    msg = " ".join(str(e).split()) or type(e).__name__
    if len(msg) > 1 and msg[0].isupper() and msg[1].islower():   # keep acronyms: "EOF …"
        msg = msg[0].lower() + msg[1:]
    return msg if len(msg) <= limit else msg[: limit - 1] + "…"


# --------------------------------------------------------------------------- walking

def _is_manifest(name: str) -> bool:
    return name.startswith("MANIFEST") or name.lower().startswith("manifest.")


def _walk(directory: Path, visited: set) -> Iterator[Path]:
    try:
        st = directory.stat()
    except OSError:
        yield directory
        return
    key = (st.st_dev, st.st_ino)
    if key in visited:                      # a symlink loop, or the same tree given twice
        return
    visited.add(key)
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        yield directory                     # read_file will say why it can't be read
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = directory / entry.name
        try:
            is_dir = entry.is_dir()         # follows symlinks; loops are caught above
        except OSError:
            is_dir = False
        if is_dir:
            yield from _walk(path, visited)
        elif (os.path.splitext(entry.name)[1].lower() in SUPPORTED_SUFFIXES
              and not _is_manifest(entry.name) and not _is_special(entry)):
            yield path


def _is_special(entry: os.DirEntry) -> bool:
    """A FIFO, socket or device (a FIFO named x.txt: opening it blocks until a writer comes,
    so it is no report). Broken symlinks are not special: read_file reports them."""
    try:
        if entry.is_file():                 # follows symlinks
            return False
        os.stat(entry.path)                 # raises for a broken symlink
        return True                         # there, and neither a file nor a directory
    except OSError:
        return False
