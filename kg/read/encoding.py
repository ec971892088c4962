"""The bytes of a text file → str, with the encoding they were in, or a reason to refuse them.

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
from collections import Counter
from typing import Optional

from .errors import Fail
from .hanzi import SLICE, is_junk, junk_pattern, reads_as_chinese, sample_of


def newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


BOMS = (  # UTF-32 first: its LE BOM starts with the UTF-16 LE BOM
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
    """Decode the bytes of a text file: (text, encoding), or raise Fail."""
    for bom, encoding, label in BOMS:
        if data.startswith(bom):
            text = strict(data, encoding, label)
            return _check_text(text), encoding

    for magic in _MAGIC:
        if data.startswith(magic) and len(data) >= _MAGIC_MIN_LEN.get(magic, 0):
            raise Fail("binary file, not text")

    if b"\x00" in data:
        # Text never contains NUL, but UTF-16 of ASCII characters (digits, newlines) does.
        text, encoding = _decode_utf16_bomless(data)
        return _check_text(text), encoding

    if len(data.translate(None, _NOT_CONTROL)) > max(2, len(data) // 100):
        # Binary, or UTF-16 of CJK text without a single NUL (its low bytes are random).
        found = _utf16_cjk(data)
        if found:
            return found
        raise Fail("binary file, not text")

    try:
        return _check_text(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError as e:
        utf8_error = e
    if _mostly_utf8(data, utf8_error):
        raise Fail(f"invalid UTF-8 at byte {utf8_error.start} (truncated or corrupt file)")

    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as e:
        # Not GB18030 either, unless it is a Chinese GB file with a few bad bytes.
        repaired = data.decode("gb18030", errors="replace")
        if (repaired.count("\ufffd") * 200 <= len(repaired)
                and reads_as_chinese(repaired.replace("\ufffd", ""), gb=True)):
            raise Fail(f"invalid GB18030 at byte {e.start} (truncated or corrupt file)") from None
    else:
        if reads_as_chinese(text, gb=True):
            return _check_text(text), "gb18030"

    found = _utf16_cjk(data)
    if found:
        return found

    found = _charset_normalizer(data)
    if found:
        return _check_text(found[0]), found[1]
    raise Fail("unknown text encoding (not UTF-8, GB18030 or UTF-16)")


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
        if "\x00" not in text and reads_as_chinese(text):
            if len(body) != len(data):
                raise Fail(f"invalid UTF-16 at byte {len(body)} (truncated or corrupt file)")
            return text, encoding
    raise Fail("binary file, not text")


def _utf16_cjk(data: bytes) -> Optional[tuple[str, str]]:
    """BOM-less UTF-16 of (nearly) all-CJK text, which has no NUL bytes to give it away."""
    if len(data) % 2:
        return None
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if reads_as_chinese(text, require_hanzi=True):
            return _check_text(text), encoding
    return None


def strict(data: bytes, encoding: str, label: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        raise Fail(f"invalid {label} at byte {e.start} (truncated or corrupt file)") from None


def _check_text(text: str) -> str:
    """Refuse decoded text that is blank or full of control characters."""
    if not text.strip():
        raise Fail("empty file")
    sample = sample_of(text)
    # characters outside the common blocks, counted a slice at a time (a text of kana or
    # hangul has millions, and findall makes an object of each)
    maybe_junk, suspects = junk_pattern(), Counter()
    for i in range(0, len(sample), SLICE):
        suspects.update(maybe_junk.findall(sample, i, i + SLICE))
    junk = sum(n for c, n in suspects.items() if is_junk(c))
    if junk > max(2, len(sample) // 100):
        raise Fail("binary file, not text")
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
        sample = sample_of(text)
        if sum(1 for c in sample if is_junk(c)) <= len(sample) // 200:
            return text, encoding
    return None


_FALLBACK_ENCODINGS = frozenset(("big5", "big5hkscs", "cp950", "cp1252", "iso8859-1", "iso8859-15"))

