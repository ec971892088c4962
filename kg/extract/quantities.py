"""Figures with a counting unit (kg:UnitScheme), what each counts, and the mechanism named
nearest before it in its sentence; Chinese numerals read as numbers."""
from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from .. import lexicon, ontology
from ..document import Document, Quantity
from .clauses import clause_bounds

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def cn_number(s: str) -> Decimal | None:
    """一百二十 → 120, 十 → 10, 八百 → 800, 两千 → 2000; None when not a numeral."""
    total, section, digit = 0, 0, None
    for ch in s:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (digit if digit is not None else 1) * _CN_UNITS[ch]
            digit = None
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            return None
    return Decimal(total + section + (digit or 0))


NUM = r"(?P<num>\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)"
_QUANTITY = re.compile(
    r"(?P<pre>近|约|逾|超过|超|达到?|共计?|累计)?" + NUM +
    r"(?P<q1>余|多)?(?P<mag>万|亿)?(?P<q2>余|多)?(?P<unit>%|％|{units})(?P<post>以上|左右|余)?")
_NOT_QUANTITY_BEFORE = re.compile(r"(?:第|[〔\[【(（]|\d[.．])$")


@lru_cache(maxsize=1)
def _units() -> str:
    units = sorted({u for c in ontology.scheme(str(ontology.KG.UnitScheme)) for u in c.labels},
                   key=len, reverse=True)
    return "|".join(map(re.escape, units)) or "次"


@lru_cache(maxsize=1)
def _quantity_pattern():
    return re.compile(_QUANTITY.pattern.replace("{units}", _units()))


@lru_cache(maxsize=1)
def _figure_tail():
    """What every match of the quantity pattern contains: a numeral's last character and a
    unit. It starts with a character class, so the regex engine skips to candidates fast;
    the full pattern (which may start anywhere) then runs on the few sentences that have one."""
    return re.compile(r"[\d零〇一二两三四五六七八九十百千](?:余|多)?(?:万|亿)?(?:余|多)?(?:%|％|"
                      + _units() + ")")


def find_quantities(text: str):
    """(start, end, value, unit, qualifier) of every figure with a counting unit in text."""
    out = []
    for m in _quantity_pattern().finditer(text):
        num = m.group("num")
        if _NOT_QUANTITY_BEFORE.search(text[max(0, m.start("num") - 2):m.start("num")]):
            continue
        if num.isdigit() and len(num) == 4 and m.group("unit") in ("年",):
            continue
        try:
            value = Decimal(num) if num[0].isdigit() else cn_number(num)
        except InvalidOperation:
            value = None
        if value is None or (not num[0].isdigit() and len(num) == 1 and num in "一" and
                             not m.group("q1") and not m.group("q2")):
            # 一 alone is mostly an article (一次会议, 一人一档), not a count worth keeping
            continue
        unit = m.group("unit").replace("％", "%")
        if m.group("mag") == "万":
            value *= 10000
        elif m.group("mag") == "亿":
            value *= 100000000
        qualifier = m.group("q1") or m.group("q2") or m.group("post") or \
            (m.group("pre") if m.group("pre") in ("近", "约", "逾", "超过", "超") else None)
        start = m.start("pre") if m.group("pre") in ("近", "约", "逾", "超过", "超") else m.start("num")
        out.append((start, m.end(), value, unit, qualifier))
    return out


@lru_cache(maxsize=1)
def _subject_lead() -> re.Pattern:
    """What opens a clause before a figure and is not what it counts: a year, a numbering, and
    the time words, the reporter and the verbs of kg:grammar-subject-lead."""
    return re.compile(r"^(?:\d{4}\s*年度?|[一二三四五六七八九十]+是|\d{1,2}[.、．]|[(（][一二三四五六七八九十\d]+[)）]|"
                      + lexicon.grammar_alternation("subject_lead") + ")+")


# the noun a classifier introduces: 22个|执法中队
_COUNTED_NOUN = re.compile(r"[\u4e00-\u9fff“”]{2,14}?(?=[，,。；;、:：（(]|$|均|已|的|参与|开展|完成|配备)")


def quantity_subject(sentence: str, qs: int, qe: int, unit: str) -> str:
    """What a figure counts: the noun after a classifier (22个执法中队), else the words before it."""
    after = sentence[qe:]
    m = _COUNTED_NOUN.match(after)
    c0, _ = clause_bounds(sentence, qs)
    before = sentence[c0:qs].strip()
    before = _subject_lead().sub("", before)
    if unit not in ("%", "万元", "元", "次", "课时", "学时", "小时") and m and len(before) < 2:
        return m.group(0).strip("“”")
    if before:
        return before[-16:].strip("“”为达到是")
    return m.group(0).strip("“”") if m else ""


def find_figures(doc: Document, mentions: list, institutions: list) -> list[Quantity]:
    """The quantities of every sentence, tied to the mechanism named nearest before them."""
    by_sentence = defaultdict(list)
    for m in mentions:
        by_sentence[m.sentence].append(m)
    quantities = []
    named = sorted([(m.start, m.end) for m in mentions] + [(x.start, x.end) for x in institutions])
    named_starts = [s for s, _ in named]

    def inside_a_name(s: int) -> bool:
        """The figure's numeral is part of a name: 三项制度, 双随机."""
        k = bisect_right(named_starts, s) - 1
        return any(ns <= s < ne for ns, ne in named[max(0, k - 3):k + 1])

    figure_tail = _figure_tail()
    for i, sent in enumerate(doc.sentences):
        if not figure_tail.search(doc.text, sent.start, sent.end):
            continue       # no figure with a unit here: spare the full pattern
        for qs, qe, value, unit, qualifier in find_quantities(sent.text):
            if inside_a_name(sent.start + qs):
                continue   # 三项制度, 双随机: a numeral that is part of a name counts nothing
            near = [m for m in by_sentence.get(i, ()) if m.start - sent.start <= qs] or by_sentence.get(i, [])
            notation = near[-1].notation if near else None
            quantities.append(Quantity(
                subject=quantity_subject(sent.text, qs, qe, unit), value=float(value), unit=unit,
                qualifier=qualifier, notation=notation, start=sent.start + qs, end=sent.start + qe,
                sentence=i, evidence=doc.quote(sent.start + qs, sent.start + qe)))
    return quantities
