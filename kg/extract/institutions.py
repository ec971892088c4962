"""Institutions and roles (kgi: concepts): the count the text gives them (法律顾问3名, 12名法律顾问)
and a body's own name where it stands before the label (福建宇亮律师事务所)."""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from .. import lexicon, ontology, places
from ..document import Document, Institution
from .clauses import Sentences
from .quantities import NUM, cn_number

# the count an institution is given: 法律顾问3名 / 12名法律顾问
_COUNT_AFTER = re.compile(r"(?:共|有)?" + NUM + r"(?P<unit>人|名|个|家|支|所)")
_COUNT_BEFORE = re.compile(NUM + r"(?:余|多)?(?P<unit>个|名|人|家|支|所)(?:[\u4e00-\u9fff]{0,4})?$")


def find_institutions(doc: Document, sentences: Sentences, hits) -> list[Institution]:
    """An Institution for every label the lexicon found, with its count and proper name."""
    institutions = []
    kinds = {c.notation: c for c in ontology.institution_kinds()}
    for hit in hits:
        i = sentences.index(hit.start)
        sent = doc.sentences[i]
        rel0, rel1 = hit.start - sent.start, hit.end - sent.start
        count = unit = None
        after = _COUNT_AFTER.match(sent.text[rel1:])
        before = _COUNT_BEFORE.search(sent.text[max(0, rel0 - 10):rel0])
        for m in (after, before):
            if m and count is None:
                num = m.group("num")
                count = Decimal(num) if num[0].isdigit() else cn_number(num)
                unit = m.group("unit")
        name = _proper_name(sent.text, rel0, rel1, kinds.get(hit.entry.notation))
        institutions.append(Institution(kind=hit.entry.notation, label=hit.entry.label, name=name,
                                        count=float(count) if count is not None else None, unit=unit,
                                        start=hit.start, end=hit.end, sentence=i,
                                        evidence=sentences.evidence(i)))
    return institutions

@lru_cache(maxsize=1)
def _name_intro() -> re.Pattern:
    """Verbs and conjunctions that introduce a named body: 聘请|外聘 X律师事务所, 邀请 X大学 …"""
    return re.compile(lexicon.grammar_alternation("name_intro"))


@lru_cache(maxsize=1)
def _not_a_name() -> re.Pattern:
    """Determiners and adverbs: 各科室, 其他执法部门, 相关部门 name no particular body."""
    return re.compile(lexicon.grammar_alternation("not_a_name"))


@lru_cache(maxsize=1)
def _place_heads() -> frozenset:
    """The first two characters of every division name."""
    return frozenset(a[:2] for a in places.divisions().aliases if len(a) >= 2)


def _starts_with_place(name: str) -> bool:
    if name[:2] not in _place_heads():
        return False                    # no name of 2-8 characters can start here
    aliases = places.divisions().aliases
    return any(name[:k] in aliases for k in range(2, min(len(name), 8) + 1))


_HANZI_TAIL = re.compile(r"[\u4e00-\u9fff]{2,16}$")


def _proper_name(sentence: str, s: int, e: int, kind) -> str | None:
    """福建宇亮律师事务所, 乳山市人民法院: a body's own name ending in its kind's label.

    The words before the label are a name when an introducing verb stands before them
    (聘请|河南仁和律师事务所) or when they begin with a place (乳山市人民法院); otherwise they are
    just the sentence (定期邀请司法局 names no particular 司法局)."""
    if kind is None or kind.kind != "OrganizationKind":
        return None
    head = sentence[max(0, s - 16):s]
    m = _HANZI_TAIL.search(head)
    if not m:
        return None
    name = m.group(0)
    # cut after the last introducing word; one standing right before the label may be part of
    # the name itself (河南仁和|律师事务所), one leaving a single character is not (和市|公安局)
    intro = [i for i in _name_intro().finditer(name) if i.end() < len(name)]
    if intro:
        conjunction = len(intro[-1].group(0)) == 1
        name = name[intro[-1].end():]
        # after 和/及/、 only a short proper name stands (…专家学者和|福瑞律师事务所)
        if len(name) < 2 or (conjunction and len(name) > 4 and not _starts_with_place(name)):
            return None
    if not _starts_with_place(name):
        # keep only the tail that begins with a place: 县政府聘请|河南仁和
        start = next((k for k in range(len(name) - 1) if _starts_with_place(name[k:])), None)
        if start is not None:
            name = name[start:]
        elif not intro:
            return None
    if len(name) < 2 or _not_a_name().match(name) or lexicon.match_form(name) in lexicon.known_terms():
        return None
    return name + sentence[s:e]
