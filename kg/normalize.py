"""Source text → normalized text (simplified script, no pinyin, no page chrome), with a map back.

Every later step works on the normalized text; evidence is quoted from the source through
the offset map, so an auditor sees the words exactly as the government published them.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .document import Document
from .offsets import OffsetMap, delete_spans
from .read.cues import alternation, cue_concepts, cue_words

# Ruby pinyin flattened into the text: 執(zhí)法, 發(fā)布. A group is removed only when it
# follows a Chinese character and holds pinyin syllables, so (一), 县(区), (草案),
# (2021—2025年) and English abbreviations stay.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN_GROUP = re.compile(
    r"(?<=[\u3400-\u9fff])\s?[(（]\s*([a-zA-Zü" + _TONED + r"]{1,7}(?:\s+[a-zü" + _TONED + r"]{1,7})*)\s*[)）]")
_SYLLABLE = re.compile(
    r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|ian|iao|uai|uan|üan|van|ai|ei|ao|ou|an|en|in|un|ün|vn|er"
    r"|ia|ie|iu|ua|uo|ui|üe|ve|ue|a|o|e|i|u|ü|v)")
# Where a pinyin group may start: an opening bracket before a Latin letter. The group's own
# pattern starts with a look-behind, which the regex engine has to try at every character;
# this one starts with a character class, which it skips to.
_PINYIN_OPEN = re.compile(r"[(（]\s*[a-zA-Zü" + _TONED + r"]")
_DETONE = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ", "aaaaeeeeiiiioooouuuuüüüü")

# Web-page chrome that scraped reports carry; removed wherever it stands. The plain phrases
# (扫一扫在手机上查看当前页面, 打印本页, 返回顶部 …) are data (ontology/text.ttl,
# kg:TextChromeScheme); those with a layout of their own are here.
_CHROME_LAID_OUT = (r"字[体号]\s*[:：]?\s*[【\[]?大[】\]]?\s*[【\[]?中[】\]]?\s*[【\[]?小[】\]]?",
                    r"分享到\s*[:：]?", r"【?打印】?\s*【?关闭】?")


@lru_cache(maxsize=1)
def _chrome() -> re.Pattern:
    phrases = "|".join(map(re.escape, cue_words("text.ttl", "TextChromeScheme", "phrase")))
    return re.compile(r"【?\s*(?:" + phrases + "|" + "|".join(_CHROME_LAID_OUT) + r")\s*】?")


@lru_cache(maxsize=1)
def _chrome_hint() -> re.Pattern:
    """A word every chrome match contains: most texts have none, and the chrome pattern, which
    may start with 【 or spaces, has to be tried at every character."""
    phrases = "|".join(map(re.escape, cue_words("text.ttl", "TextChromeScheme", "phrase")))
    return re.compile(phrases + "|打印|字[体号]|分享到")


# Fields of the metadata table that government portals put above a document, label → key of
# Document.header (ontology/text.ttl, kg:HeaderFieldScheme).
@lru_cache(maxsize=1)
def header_fields() -> dict[str, str]:
    return {label: key for key, labels in cue_concepts("text.ttl", "HeaderFieldScheme").items() for label in labels}


# A portal's breadcrumb line: “当前位置：首页 > 政务公开 > 法治政府建设年度报告” (the labels:
# ontology/text.ttl, kg:TextChromeScheme "breadcrumb").
@lru_cache(maxsize=1)
def _breadcrumb() -> re.Pattern:
    labels = alternation(cue_words("text.ttl", "TextChromeScheme", "breadcrumb"))
    return re.compile(r"^[ \t]*" + labels + r"\s*[:：][^\n]*$"
                      r"|^[^\n]{0,10}首页\s*[>＞»›][^\n]*$", re.MULTILINE)


# A label ends in a colon (发布机构：X) or stands in brackets ([ 发布机构 ] X, as some portals lay
# out their metadata table).
@lru_cache(maxsize=1)
def _field_label() -> re.Pattern:
    return re.compile(
        r"(?:[\[【]\s*)?("
        + "|".join(r"\s*".join(name) for name in sorted(header_fields(), key=len, reverse=True))
        + r")(?:\s*[:：]|\s*[\]】])")


_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
# Full-width ASCII letters, digits and brackets fold to ASCII so that 2０24, （一） and 100％
# read like their half-width forms. Chinese punctuation (，。、“”) stays: it carries meaning.
_FULLWIDTH.update({0x3000: 0x20, 0xFEFF: 0x20})
_FOLD = str.maketrans({k: chr(v) for k, v in _FULLWIDTH.items()} | {"\u00a0": " "})


@lru_cache(maxsize=1)
def _converter():
    import opencc
    return opencc.OpenCC("t2s")


def _pinyin_groups(text: str):
    """The matches of _PINYIN_GROUP.finditer(text), found faster. A match starts at its
    opening bracket or at the one whitespace before it, so only those two positions of each
    candidate bracket are tried, in order, never inside the previous match."""
    end = 0
    for b in _PINYIN_OPEN.finditer(text):
        for pos in (b.start() - 1, b.start()):
            if pos >= end and (m := _PINYIN_GROUP.match(text, pos)):
                end = m.end()
                yield m
                break


def strip_pinyin(text: str) -> list[tuple[int, int]]:
    """Spans of inline pinyin annotations to delete."""
    spans = []
    for m in _pinyin_groups(text):
        body = m.group(1)
        toned = any(c in _TONED for c in body)
        words = body.lower().translate(_DETONE).split()
        if all(_SYLLABLE.fullmatch(w) for w in words) and (toned or body.islower()):
            spans.append((m.start(), m.end()))
    return spans


_FOLDABLE = re.compile("[" + "".join(map(re.escape, map(chr, sorted(_FOLD)))) + "]")


def _fold(text: str) -> str:
    """text.translate(_FOLD), faster: str.translate looks every character up in the table;
    a report holds a handful of distinct foldable characters, each replaced in one pass
    (no replacement is itself foldable, so the order does not matter)."""
    present = set()
    for i in range(0, len(text), 1 << 16):   # a slice at a time: findall makes an object of each
        present.update(_FOLDABLE.findall(text, i, i + (1 << 16)))
    for c in present:
        text = text.replace(c, _FOLD[ord(c)])
    return text


def to_simplified(text: str) -> str:
    """Traditional → simplified, one character for one, so offsets stay valid."""
    text = _fold(text)
    converted = _converter().convert(text)
    if len(converted) == len(text):
        return converted
    # OpenCC's phrase tables may change a phrase's length; convert those lines char by char.
    out = []
    for line in text.splitlines(keepends=True):
        conv = _converter().convert(line)
        out.append(conv if len(conv) == len(line)
                   else "".join(c if len(d := _converter().convert(c)) != 1 else d for c in line))
    return "".join(out)


def parse_header(text: str, max_lines: int = 25) -> tuple[dict, list[tuple[int, int]]]:
    """Header fields (索引号, 发布机构 …) from the first lines, and the spans of those lines."""
    header, spans, pos = {}, [], 0
    for n, line in enumerate(text.split("\n")):
        if n >= max_lines:
            break
        labels = list(_field_label().finditer(line))
        if labels and not line[:labels[0].start()].strip():
            for i, m in enumerate(labels):
                end = labels[i + 1].start() if i + 1 < len(labels) else len(line)
                value = line[m.end():end].strip()
                key = header_fields()[re.sub(r"\s+", "", m.group(1))]
                if value and key not in header:
                    header[key] = value
            spans.append((pos, min(pos + len(line) + 1, len(text))))   # the last line has no "\n"
        pos += len(line) + 1
    return header, spans


def normalize_text(source: str) -> tuple[str, OffsetMap, dict]:
    """The normalized text, its map to `source`, and the header fields found."""
    text, to_source = delete_spans(source, strip_pinyin(source))
    text = to_simplified(text)
    header, header_spans = parse_header(text)
    chrome = [(m.start(), m.end()) for m in _chrome().finditer(text)] if _chrome_hint().search(text) else []
    chrome += [(m.start(), m.end()) for m in _breadcrumb().finditer(text)]
    if header_spans or chrome:
        text, inner = delete_spans(text, header_spans + chrome)
        to_source = inner.then(to_source)
    return text, to_source, header


def normalize(doc: Document) -> Document:
    doc.text, doc.offsets, doc.header = normalize_text(doc.source)
    # a corpus MANIFEST.tsv may say where a file comes from when its text does not
    from .places import manifest_locality
    where = manifest_locality(doc.path) if doc.path else None
    if where:
        doc.header["locality"] = where
    return doc


def __getattr__(name: str):
    # HEADER_FIELDS is data now (ontology/text.ttl), read when first asked for
    if name == "HEADER_FIELDS":
        return header_fields()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
