"""Does a decoding read as Chinese: which characters are common hanzi, expected symbols or junk."""
from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter


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


def is_junk(c: str) -> bool:
    if c in "\t\n\x0b\x0c\r\x1b":
        return False
    return c == "\ufffd" or unicodedata.category(c) in ("Cc", "Cn", "Cs")


# The blocks nearly all of a report's characters come from: ASCII, Latin-1, general
# punctuation, CJK symbols and punctuation, CJK unified ideographs, full-width forms.
_COMMON_BLOCKS = ((0x0000, 0x00FF), (0x2000, 0x206F), (0x3000, 0x303F), (0x4E00, 0x9FFF),
                  (0xFF00, 0xFFEF))


SLICE = 1 << 16


@functools.lru_cache(maxsize=1)
def junk_pattern() -> re.Pattern:
    """A regex for every character that is not known to be clean: the characters of the
    common blocks that `is_junk` passes (asked once here, so the answer follows the Python's
    Unicode tables) are left out. A text is then checked by one regex pass instead of a
    category look-up per character."""
    ranges, start = [], None
    for lo, hi in _COMMON_BLOCKS:
        for o in range(lo, hi + 2):
            clean = o <= hi and not is_junk(chr(o))
            if clean and start is None:
                start = o
            elif not clean and start is not None:
                ranges.append((start, o - 1))
                start = None
    cls = "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)
    return re.compile(f"[^{cls}]")


def reads_as_chinese(text: str, gb: bool = False, require_hanzi: bool = False) -> bool:
    """Does a candidate decoding look like real (Chinese) text rather than mojibake?"""
    counts = Counter(sample_of(text))
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
    """(kind, is space, beyond ASCII, beyond GBK) of a character, for reads_as_chinese;
    remembered, as a text has hundreds of distinct characters and each test is a few calls."""
    if is_junk(c):
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


def sample_of(text: str, size: int = 1_000_000) -> str:
    """Statistics on a few MB are as good as on 200 MB, and much faster."""
    if len(text) <= 3 * size:
        return text
    mid = len(text) // 2
    return text[:size] + text[mid:mid + size] + text[-size:]
