"""Obligations of a requirement document: who must (not) do what, by when. A sentence that
names no addressee continues the previous one's (subjects carry over within a section), and
the salutation line addresses the rest."""
from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from .. import lexicon
from ..document import Document, Obligation
from .clauses import Sentences, addressee_pattern, clause_bounds, cue_pattern, mask_titles


@lru_cache(maxsize=1)
def _deadline() -> re.Pattern:
    """A deadline by its shape (每年第一季度, 2024年6月底前, 3月底前) or its words (kg:grammar-deadline:
    年底前, 年内; kg:grammar-recurrence: 每季度 …)."""
    return re.compile(
        r"每年(?:第[一二三四]季度|\d{1,2}月(?:底|\d{1,2}日)?)(?:前|内)?|"
        r"\d{4}年(?:\d{1,2}月)?(?:底|\d{1,2}日)?(?:前|之前)|" + lexicon.grammar_alternation("deadline") + "|"
        r"\d{1,2}月(?:底|\d{1,2}日)(?:前|之前)|" + lexicon.grammar_alternation("recurrence"))


def _modalities(sentence: str) -> list[tuple[str, int]]:
    """(modality, position of its first cue) for each modality the sentence carries:
    “必须…移送公安机关，不得以罚代刑” is both an obligation and a prohibition."""
    out = []
    for modality, key in (("must", "must"), ("must_not", "must_not")):
        m = cue_pattern(key).search(sentence)      # the leftmost cue of the modality
        if m:
            out.append((modality, m.start()))
    return out


@lru_cache(maxsize=1)
def _body_suffix() -> re.Pattern:
    """What ends a subject that names a body (kg:grammar-body-suffix)."""
    return re.compile(lexicon.grammar_alternation("body_suffix") + "$")


@lru_cache(maxsize=1)
def _qualifier() -> re.Pattern:
    """A level in front of 各 (kg:grammar-addressee-qualifier): 市级各行政执法部门."""
    return re.compile(lexicon.grammar_alternation("addressee_qualifier") + "$")


def _subject(sentence: str, cue_at: int) -> str | None:
    """The addressee a sentence names before its modal verb: “市级各行政执法部门要…”."""
    c0, _ = clause_bounds(sentence, cue_at)
    before = sentence[c0:cue_at].strip()
    m = addressee_pattern().search(before)
    if m:
        # keep a qualifier in front of 各: 市级各行政执法部门 binds city-level departments only
        lead = _qualifier().search(before[:m.start()])
        return (lead.group(0) if lead else "") + m.group(0)
    if 2 <= len(before) <= 20 and _body_suffix().search(before):
        return before
    return None


def _addressee_line(doc: Document) -> str | None:
    """A notice's salutation line: “各乡(镇)人民政府、市级各行政执法单位:”."""
    for sent in doc.sentences[:6]:
        t = sent.text.strip()
        if t.endswith((":", "：")) and len(t) < 80 and "各" in t:
            return t.rstrip(":：")
    return None


def find_obligations(doc: Document, sentences: Sentences, mentions: list) -> list[Obligation]:
    """An Obligation per modality of every sentence in a notice or a requirements section, for
    each mechanism the sentence names (or none)."""
    by_sentence = defaultdict(list)
    for m in mentions:
        by_sentence[m.sentence].append(m)
    obligations = []
    salutation = _addressee_line(doc)
    carried: dict[int, str] = {}
    # a report without a requirements section has none (skip its sentences at once)
    obliging = doc.doctype == "notice" or any(s.role == "requirements" for s in doc.sections)
    for i, sent in enumerate(doc.sentences if obliging else ()):
        role = doc.section_role(i)
        if not (doc.doctype == "notice" or role == "requirements"):
            continue
        section = doc.sentences[i].section
        d = _deadline().search(sent.text)
        notations = sorted({x.notation for x in by_sentence.get(i, ())}) or [None]
        for modality, at in _modalities(mask_titles(sent.text)):
            addressee = _subject(sent.text, at) or carried.get(section) or salutation
            carried[section] = addressee
            for n in notations:
                obligations.append(Obligation(addressee=addressee, modality=modality, notation=n,
                                              deadline=d.group(0) if d else None, start=sent.start,
                                              end=sent.end, sentence=i, evidence=sentences.evidence(i)))
    return obligations
