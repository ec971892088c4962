"""Mechanism mentions with their status: the lexicon's labels and kg:pattern paraphrases,
weak labels where their context holds, what was studied, cited or put on an agenda left out,
the status from the section's role and the clause's cues, a heading's unconfirmed tasks dropped.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from functools import lru_cache

from .. import lexicon
from ..document import Document, Mention
from .clauses import (CLAUSE_BREAK, QUOTED, Sentences, addressee_pattern, clause_bounds, cue_pattern, inside,
                      mask_titles)

ROLE_STATUS = {"achievements": "implemented", "duty_holder": "implemented",
               "weaknesses": "weakness", "plans": "planned", "requirements": "required",
               "other": "implemented"}


def mention_status(role: str, doctype: str, sentence: str, pos: int, retrospect: bool = False) -> str | None:
    """Status of a mechanism named at `pos` in `sentence`, in a section of `role`; None when the
    clause says nothing fell under it (未产生重大案件法制审核案件).

    Requirement documents: everything they impose is required, whatever the heading
    (a 工作要点's 工作安排, a 实施方案's 存在问题); only a `retrospect` passage (党的十八大以来…取得
    重大进展: the account of progress a 纲要 or 意见 opens with) reports what was done.
    Reports: a clause that binds others (各部门应当…, 各单位不得…) states a requirement."""
    base = ROLE_STATUS.get(role, "implemented")
    if doctype == "notice":
        if not retrospect:
            return "required"
        base = "implemented"
    if base == "required":
        return base
    sentence = mask_titles(sentence)
    c0, c1 = clause_bounds(sentence, pos)
    if doctype != "notice" and (_binds_others(sentence, c0, pos)
                                or (base == "planned" and _directs_others(sentence, c0, pos))):
        return "required"

    # cue words in the clause (c0..c1), before the mention (c0..pos) or in the sentence
    # before it (0..pos); searched in place rather than in slices
    def has(key, start, end):
        return cue_pattern(key).search(sentence, start, end) is not None

    lacking = has("lack", c0, pos)
    if has("negation", c0, pos) and not lacking:
        return None
    weak = has("weakness", c0, c1) and not has("remedy", c0, c1)
    if base == "weakness" or lacking or (weak and base != "planned"):
        return "weakness"
    if base == "implemented" and (has("hedge", c0, pos) or has("plan", 0, pos)):
        return "planned"
    return base


def _binds_others(sentence: str, c0: int, pos: int) -> bool:
    """A report's clause that puts an obligation on other bodies before the mention: an
    addressee in the plural (各部门, 各乡镇) and a binding modal (应当, 必须, 不得 …)."""
    m = cue_pattern("binding").search(sentence, c0, pos)
    return m is not None and addressee_pattern().search(sentence, c0, m.start()) is not None


def _directs_others(sentence: str, c0: int, pos: int) -> bool:
    """A report's plan that tells other bodies what to do (下阶段对各乡镇提出具体要求：各乡镇要…,
    要求各部门严格落实…) states their requirement, not the reporter's own plan: an addressee in the
    plural with an obligation word (要, 应, 督促 …) before the mention in its clause, or 要求/督促
    with an addressee anywhere before it in the sentence."""
    m = _directed().search(sentence, c0, pos)
    if m and cue_pattern("must").search(sentence, m.end(), pos):
        return True
    return _directive().search(sentence[:pos]) is not None


@lru_cache(maxsize=1)
def _directed() -> re.Pattern:
    """The bodies a report's plan directs: 各部门, 各乡镇, and the bare divisions 各区, 各县（市）, 各地
    (kg:grammar-directed-body after 各)."""
    return re.compile(r"各(?:级|类)?[\u4e00-\u9fff()（）]{0,14}?" + lexicon.grammar_alternation("directed_body"))


@lru_cache(maxsize=1)
def _directive() -> re.Pattern:
    """要求/督促 … (kg:grammar-directive) with directed bodies after it."""
    return re.compile(lexicon.grammar_alternation("directive") + _directed().pattern)


def studied_title(sentence: str, pos: int) -> bool:
    """The mention at pos names what was studied, not what was applied: a 《…》 title after a
    study word with no application word after it (认真学习…以及《行政复议法》 is a study of law,
    not 行政复议; 贯彻落实《重大行政决策程序暂行条例》 applies it), or a quoted topic of a
    training (围绕“行政执法与刑事司法衔接”…等开展专题培训)."""
    open_at = inside(sentence, pos, "《", "》")
    if open_at >= 0:
        study = [m.end() for m in cue_pattern("study").finditer(sentence, 0, open_at)]
        if study:
            applied = [m.end() for m in cue_pattern("apply").finditer(sentence, 0, open_at)]
            return not applied or max(applied) < max(study)
        return False
    open_at = inside(sentence, pos, "“", "”")
    if open_at >= 0:
        # the topics run over several quotes, commas inside them: 围绕“…，…”“…”等开展专题培训
        around = sentence.rfind("围绕", max(0, open_at - 120), open_at)
        if around < 0:
            return False
        after = sentence.rfind("”")
        end = CLAUSE_BREAK.search(sentence, after) if after > pos else None
        return cue_pattern("study").search(sentence, pos, end.start() if end else len(sentence)) is not None
    return False


def cited_as_basis(sentence: str, pos: int) -> bool:
    """The mention stands in a 《…》 title that the sentence cites as its basis (根据《…》,
    深入落实《法治政府建设与责任落实督察工作规定》): the preamble of a report or a requirement
    document states what it follows, which is no mechanism of its own."""
    open_at = inside(sentence, pos, "《", "》")
    return open_at >= 0 and cue_pattern("basis").search(sentence, 0, open_at) is not None


def on_the_agenda(sentence: str, pos: int) -> bool:
    """The mention is one of the topics a meeting deliberated or a document arranged (专题研究部署…
    规范性文件合法审查、行政复议等法治政府建设工作; 《政府工作报告》对…行政复议体制改革等…进行系统
    安排): an agenda, not the mechanism carried out."""
    c0, c1 = clause_bounds(sentence, pos)
    if cue_pattern("agenda").search(sentence, c0, pos) is not None:
        return True
    return (sentence.rfind("对", c0, pos) >= 0
            and cue_pattern("arranged").search(sentence, pos, c1) is not None)


def unconfirmed_heading_tasks_dropped(doc: Document, mentions: list) -> list:
    """Reports' headings often list two tasks (（三）加强行政复议和行政应诉工作); the heading does not
    make both implemented: a mechanism that a heading names beside another one counts only when
    the section's body names it too. A heading naming one mechanism stands (一、…第一责任人职责情况),
    and so does one whose body is missing (a page cut short)."""
    heads = {s.start: s for s in doc.sections if s.depth < 4}
    in_heading = defaultdict(set)
    for m in mentions:
        sent = doc.sentences[m.sentence]
        if sent.start in heads:
            in_heading[m.sentence].add(m.notation)
    drop = set()
    # mentions by offset, so that a section's are found by bisection: scanning all of them for
    # every heading was quadratic on a long report (minutes at 50 MB)
    by_start = sorted((m.start, m.sentence, m.notation) for m in mentions)
    starts = [s for s, _, _ in by_start]
    for i, notations in in_heading.items():
        if len(notations) < 2:
            continue
        section = heads[doc.sentences[i].start]
        body_start = doc.sentences[i].end
        if len(doc.text[body_start:min(section.end, body_start + 200)].strip()) < 40:
            continue
        lo, hi = bisect_left(starts, body_start), bisect_left(starts, section.end)
        confirmed = {n for _, sentence, n in by_start[lo:hi] if sentence != i}
        drop |= {(i, n) for n in notations - confirmed}
    return [m for m in mentions if (m.sentence, m.notation) not in drop] if drop else mentions


def _spans_by_notation(hits) -> dict:
    """notation → (sorted starts, their ends, the longest span), for _overlaps."""
    spans = defaultdict(list)
    for h in hits:
        spans[h.entry.notation].append((h.start, h.end))
    out = {}
    for n, ss in spans.items():
        ss.sort()
        out[n] = ([a for a, _ in ss], [b for _, b in ss], max(b - a for a, b in ss))
    return out


def _overlaps(spans, start: int, end: int) -> bool:
    """Whether a span of `spans` overlaps [start, end): by bisection, as a long report has
    thousands of labels (a scan of all of them for every paraphrase was quadratic)."""
    if not spans:
        return False
    starts, ends, longest = spans
    lo, hi = bisect_left(starts, start - longest), bisect_left(starts, end)
    return any(ends[k] > start for k in range(lo, hi))


def weak_context_holds(entry, sentence: str, pos: int, frame: str) -> bool:
    """A kg:weakLabel counts where one of its context cues stands in its clause, the clause
    after it or the frame (the document's title and author) and no blocking cue in its clause."""
    c0, c1 = clause_bounds(sentence, pos)
    if entry.blocking and any(w in sentence[c0:c1] for w in entry.blocking):
        return False
    if not entry.context:
        return True
    nxt = CLAUSE_BREAK.search(sentence, c1 + 1) if c1 < len(sentence) else None
    # titles and quoted topics are what was studied, not who studied (围绕“行政执法与…”开展专题培训)
    window = QUOTED.sub("", sentence[c0:nxt.start() if nxt else len(sentence)]) + "\n" + frame
    return any(w in window for w in entry.context)


def retrospective_sentences(doc: Document) -> set[int]:
    """Sentences of a requirement document that recount progress (党的十八大以来…取得重大进展。
    党对法治政府建设的领导不断加强，…): from a sentence with a retrospect cue to the end of its
    paragraph, or to a sentence that turns to the present (当前, 但, 同时也要看到 …)."""
    out: set[int] = set()
    on = False
    text = doc.text
    prev_end = 0
    for i, sent in enumerate(doc.sentences):
        if "\n" in text[prev_end:sent.start]:
            on = False                      # a new paragraph
        prev_end = sent.end
        t = mask_titles(sent.text)
        if cue_pattern("turn").match(t.lstrip()):
            on = False
        if cue_pattern("retrospect").search(t):
            on = True
        if on:
            out.add(i)
    return out


def mechanism_hits(text: str, view) -> list:
    """The labels the lexicon finds in text (`view` is lexicon.match_view(text)), and the
    paraphrases (kg:pattern) where no label of the same concept already stands, in order."""
    hits = lexicon.mechanism_matcher().find(text, view)
    labelled = _spans_by_notation(hits)
    for hit in lexicon.find_patterns(text):
        if not _overlaps(labelled.get(hit.entry.notation), hit.start, hit.end):
            hits.append(hit)
    hits.sort(key=lambda h: (h.start, h.end))
    return hits


def find_mentions(doc: Document, sentences: Sentences, hits) -> list[Mention]:
    """Every mention with a status, a heading's unconfirmed tasks not yet dropped (the figures
    and obligations of its sentence still go to them)."""
    mentions = []
    text = doc.text
    doctype = doc.doctype or "annual_report"
    retrospect = retrospective_sentences(doc) if doctype == "notice" else set()
    frame = (doc.title or "") + "\n" + (doc.organ or "")
    for hit in hits:
        i = sentences.index(hit.start)
        sent = doc.sentences[i] if doc.sentences else None
        if sent is None:
            continue
        pos = hit.start - sent.start
        if hit.entry.weak and not weak_context_holds(hit.entry, sent.text, pos, frame):
            continue
        if studied_title(sent.text, pos) or on_the_agenda(sent.text, pos):
            continue
        if sent.section < 0 and cited_as_basis(sent.text, pos):
            continue                        # the preamble's basis: 根据《…》, 深入落实《…》
        status = mention_status(doc.section_role(i), doctype, sent.text, pos, i in retrospect)
        if status is None:
            continue
        mentions.append(Mention(notation=hit.entry.notation, label=hit.entry.label, status=status,
                                start=hit.start, end=hit.end, sentence=i,
                                matched=text[hit.start:hit.end], evidence=sentences.evidence(i)))
    return mentions
