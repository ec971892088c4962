"""Facts of one document: mechanism mentions with status, institutions and roles, quantities,
obligations and candidate terms. Plain data (kg.document), no RDF.

Status of a mention
    The section's role sets the default — achievements and the duty-holder report are
    `implemented`, weaknesses `weakness`, plans `planned`, a requirement document's body
    `required`. The clause the mention stands in can override it: a weakness cue (不足, 有待
    …) makes it a weakness, a hedge (拟, 将进一步 …) or a plan cue makes it planned, a
    negation (未, 尚未 …) before the mention makes an achievement a weakness. Cue words are the
    kg:StatusCueScheme of ontology/kg.ttl.

三项制度 and its children
    A mention counts for the concept it names: 三项制度 → M01, 执法全过程记录 → M01b. The
    umbrella is not expanded into its children here (a report that says it "落实三项制度"
    has not said which parts), nor are children rolled up: the graph keeps skos:broader,
    and queries that ask for the umbrella follow it (queries/localities-implementing.rq).
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from . import lexicon, ontology, places
from .document import Candidate, Document, Institution, Mention, Obligation, Quantity

ROLE_STATUS = {"achievements": "implemented", "duty_holder": "implemented",
               "weaknesses": "weakness", "plans": "planned", "requirements": "required",
               "other": "implemented"}

_CLAUSE_BREAK = re.compile(r"[，,；;：:。！？!?]")
# up to and including the last clause break (greedy, it backtracks from the end)
_UP_TO_LAST_BREAK = re.compile(r".*" + _CLAUSE_BREAK.pattern, re.DOTALL)


@lru_cache(maxsize=1)
def _cues():
    cues = ontology.status_cues()
    def words(key):
        return tuple(sorted(cues.get(key, ()), key=len, reverse=True))
    return {k: words(k) for k in cues}


_NEVER = re.compile(r"(?!)")


@lru_cache(maxsize=None)
def _cue_pattern(key: str) -> re.Pattern:
    """One regex for a kind of cue: `.search(text)` finds one of its words iff any word is
    in text, and at the leftmost position where one occurs (one pass instead of a
    substring search per word; most clauses are checked against a dozen kinds)."""
    words = _cues().get(key, ())
    return re.compile("|".join(map(re.escape, words))) if words else _NEVER


def _clause_bounds(sentence: str, pos: int) -> tuple[int, int]:
    """The clause of the sentence around position pos."""
    m = _UP_TO_LAST_BREAK.match(sentence, 0, pos)
    start = m.end() if m else 0
    m = _CLAUSE_BREAK.search(sentence, pos)
    return start, m.start() if m else len(sentence)


_BOOK_TITLE = re.compile(r"《[^《》]*》")


def _mask_titles(sentence: str) -> str:
    """Blank out 《…》 titles: their words (《…工作计划》, 《未取得许可证经营案》) are not cues."""
    if "《" not in sentence:
        return sentence                 # most have none: spare the substitution
    return _BOOK_TITLE.sub(lambda m: "《" + "＿" * (len(m.group(0)) - 2) + "》", sentence)


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
    sentence = _mask_titles(sentence)
    c0, c1 = _clause_bounds(sentence, pos)
    if doctype != "notice" and (_binds_others(sentence, c0, pos)
                                or (base == "planned" and _directs_others(sentence, c0, pos))):
        return "required"

    # cue words in the clause (c0..c1), before the mention (c0..pos) or in the sentence
    # before it (0..pos); searched in place rather than in slices
    def has(key, start, end):
        return _cue_pattern(key).search(sentence, start, end) is not None

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
    m = _cue_pattern("binding").search(sentence, c0, pos)
    return m is not None and _ADDRESSEE.search(sentence, c0, m.start()) is not None


def _inside(sentence: str, pos: int, opening: str, closing: str) -> int:
    """Where the bracket (《 or “) that pos stands inside opens, or -1."""
    open_at = sentence.rfind(opening, 0, pos)
    if open_at < 0 or sentence.find(closing, open_at, pos) >= 0:
        return -1
    return open_at


def _directs_others(sentence: str, c0: int, pos: int) -> bool:
    """A report's plan that tells other bodies what to do (下阶段对各乡镇提出具体要求：各乡镇要…,
    要求各部门严格落实…) states their requirement, not the reporter's own plan: an addressee in the
    plural with an obligation word (要, 应, 督促 …) before the mention in its clause, or 要求/督促
    with an addressee anywhere before it in the sentence."""
    m = _DIRECTED.search(sentence, c0, pos)
    if m and _cue_pattern("must").search(sentence, m.end(), pos):
        return True
    return re.search(r"(?:要求|督促|责成|指导)" + _DIRECTED.pattern, sentence[:pos]) is not None


# the bodies a report's plan directs: 各部门, 各乡镇, and the bare divisions 各区, 各县（市）, 各地
_DIRECTED = re.compile(r"各(?:级|类)?[\u4e00-\u9fff()（）]{0,14}?(?:人民政府|政府|单位|部门|机关|乡镇|街道|局|委|办|"
                       r"中队|大队|所|区|县|市|镇|乡|州|地)")


def studied_title(sentence: str, pos: int) -> bool:
    """The mention at pos names what was studied, not what was applied: a 《…》 title after a
    study word with no application word after it (认真学习…以及《行政复议法》 is a study of law,
    not 行政复议; 贯彻落实《重大行政决策程序暂行条例》 applies it), or a quoted topic of a
    training (围绕“行政执法与刑事司法衔接”…等开展专题培训)."""
    open_at = _inside(sentence, pos, "《", "》")
    if open_at >= 0:
        study = [m.end() for m in _cue_pattern("study").finditer(sentence, 0, open_at)]
        if study:
            applied = [m.end() for m in _cue_pattern("apply").finditer(sentence, 0, open_at)]
            return not applied or max(applied) < max(study)
        return False
    open_at = _inside(sentence, pos, "“", "”")
    if open_at >= 0:
        # the topics run over several quotes, commas inside them: 围绕“…，…”“…”等开展专题培训
        around = sentence.rfind("围绕", max(0, open_at - 120), open_at)
        if around < 0:
            return False
        after = sentence.rfind("”")
        end = _CLAUSE_BREAK.search(sentence, after) if after > pos else None
        return _cue_pattern("study").search(sentence, pos, end.start() if end else len(sentence)) is not None
    return False


def cited_as_basis(sentence: str, pos: int) -> bool:
    """The mention stands in a 《…》 title that the sentence cites as its basis (根据《…》,
    深入落实《法治政府建设与责任落实督察工作规定》): the preamble of a report or a requirement
    document states what it follows, which is no mechanism of its own."""
    open_at = _inside(sentence, pos, "《", "》")
    return open_at >= 0 and _cue_pattern("basis").search(sentence, 0, open_at) is not None


def on_the_agenda(sentence: str, pos: int) -> bool:
    """The mention is one of the topics a meeting deliberated or a document arranged (专题研究部署…
    规范性文件合法审查、行政复议等法治政府建设工作; 《政府工作报告》对…行政复议体制改革等…进行系统
    安排): an agenda, not the mechanism carried out."""
    c0, c1 = _clause_bounds(sentence, pos)
    if _cue_pattern("agenda").search(sentence, c0, pos) is not None:
        return True
    return (sentence.rfind("对", c0, pos) >= 0
            and _cue_pattern("arranged").search(sentence, pos, c1) is not None)


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

_QUOTED = re.compile(r"《[^《》]*》|“[^“”]*”")


def weak_context_holds(entry, sentence: str, pos: int, frame: str) -> bool:
    """A kg:weakLabel counts where one of its context cues stands in its clause, the clause
    after it or the frame (the document's title and author) and no blocking cue in its clause."""
    c0, c1 = _clause_bounds(sentence, pos)
    if entry.blocking and any(w in sentence[c0:c1] for w in entry.blocking):
        return False
    if not entry.context:
        return True
    nxt = _CLAUSE_BREAK.search(sentence, c1 + 1) if c1 < len(sentence) else None
    # titles and quoted topics are what was studied, not who studied (围绕“行政执法与…”开展专题培训)
    window = _QUOTED.sub("", sentence[c0:nxt.start() if nxt else len(sentence)]) + "\n" + frame
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
        t = _mask_titles(sent.text)
        if _cue_pattern("turn").match(t.lstrip()):
            on = False
        if _cue_pattern("retrospect").search(t):
            on = True
        if on:
            out.add(i)
    return out


# ---------------------------------------------------------------- numbers and quantities
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


_NUM = r"(?P<num>\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)"
_QUANTITY = re.compile(
    r"(?P<pre>近|约|逾|超过|超|达到?|共计?|累计)?" + _NUM +
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


_SUBJECT_LEAD = re.compile(r"^(?:\d{4}\s*年度?|[一二三四五六七八九十]+是|\d{1,2}[.、．]|[(（][一二三四五六七八九十\d]+[)）]|全年|本年度|今年|截至目前|目前|其中|我局|我市|全市|全区|共计?|累计|先后|已|均|"
                           r"组织|开展|召开|办理|完成|发布|出具|审核|参与|提供|受理|化解|录入|审查|"
                           r"查处|制定|报送|办结|公示|抽取|发现|责令|配备|新增|培训|收缴|解决|调整|适用)+")


# the noun a classifier introduces: 22个|执法中队
_COUNTED_NOUN = re.compile(r"[\u4e00-\u9fff“”]{2,14}?(?=[，,。；;、:：（(]|$|均|已|的|参与|开展|完成|配备)")


def quantity_subject(sentence: str, qs: int, qe: int, unit: str) -> str:
    """What a figure counts: the noun after a classifier (22个执法中队), else the words before it."""
    after = sentence[qe:]
    m = _COUNTED_NOUN.match(after)
    c0, _ = _clause_bounds(sentence, qs)
    before = sentence[c0:qs].strip()
    before = _SUBJECT_LEAD.sub("", before)
    if unit not in ("%", "万元", "元", "次", "课时", "学时", "小时") and m and len(before) < 2:
        return m.group(0).strip("“”")
    if before:
        return before[-16:].strip("“”为达到是")
    return m.group(0).strip("“”") if m else ""


# ---------------------------------------------------------------- obligations
_ADDRESSEE = re.compile(r"各(?:级|类)?[\u4e00-\u9fff()（）]{1,14}?(?:人民政府|政府|单位|部门|机关|乡镇|乡\(镇\)|街道|局|委|办|中队|大队|所)")
_DEADLINE = re.compile(
    r"每年(?:第[一二三四]季度|\d{1,2}月(?:底|\d{1,2}日)?)(?:前|内)?|"
    r"\d{4}年(?:\d{1,2}月)?(?:底|\d{1,2}日)?(?:前|之前)|年底前|年内|"
    r"\d{1,2}月(?:底|\d{1,2}日)(?:前|之前)|每(?:季度|半年|月)")


def _modalities(sentence: str) -> list[tuple[str, int]]:
    """(modality, position of its first cue) for each modality the sentence carries:
    “必须…移送公安机关，不得以罚代刑” is both an obligation and a prohibition."""
    out = []
    for modality, key in (("must", "must"), ("must_not", "must_not")):
        m = _cue_pattern(key).search(sentence)      # the leftmost cue of the modality
        if m:
            out.append((modality, m.start()))
    return out


_BODY_SUFFIX = re.compile(r"(?:部门|单位|机关|机构|政府|人员|局|委|办|所|队|中心|科室)$")


def _subject(sentence: str, cue_at: int) -> str | None:
    """The addressee a sentence names before its modal verb: “市级各行政执法部门要…”."""
    c0, _ = _clause_bounds(sentence, cue_at)
    before = sentence[c0:cue_at].strip()
    m = _ADDRESSEE.search(before)
    if m:
        # keep a qualifier in front of 各: 市级各行政执法部门 binds city-level departments only
        lead = re.search(r"(?:市级|县级|区级|州级|省级|全市|全县|全区|全州)$", before[:m.start()])
        return (lead.group(0) if lead else "") + m.group(0)
    if 2 <= len(before) <= 20 and _BODY_SUFFIX.search(before):
        return before
    return None


# ---------------------------------------------------------------- the step
# the count an institution is given: 法律顾问3名 / 12名法律顾问
_COUNT_AFTER = re.compile(r"(?:共|有)?" + _NUM + r"(?P<unit>人|名|个|家|支|所)")
_COUNT_BEFORE = re.compile(_NUM + r"(?:余|多)?(?P<unit>个|名|人|家|支|所)(?:[\u4e00-\u9fff]{0,4})?$")


def extract(doc: Document) -> Document:
    text = doc.text
    starts = [s.start for s in doc.sentences]

    def sentence_of(pos: int) -> int:
        return max(0, bisect_right(starts, pos) - 1)

    quoted: dict[int, str] = {}

    def evidence(i: int) -> str:
        """Sentence i as the source has it (asked again for every fact in the sentence)."""
        if i not in quoted:
            s = doc.sentences[i]
            quoted[i] = doc.quote(s.start, s.end)
        return quoted[i]

    # both matchers scan the text without quote marks: made once, dropped when done
    view = lexicon.match_view(text)
    mechanism_hits = lexicon.mechanism_matcher().find(text, view)
    institution_hits = lexicon.institution_matcher().find(text, view)
    del view
    # paraphrases (kg:pattern) where no label of the same concept already stands
    labelled = _spans_by_notation(mechanism_hits)
    for hit in lexicon.find_patterns(text):
        if not _overlaps(labelled.get(hit.entry.notation), hit.start, hit.end):
            mechanism_hits.append(hit)
    mechanism_hits.sort(key=lambda h: (h.start, h.end))

    # mechanisms
    mentions = []
    doctype = doc.doctype or "annual_report"
    retrospect = retrospective_sentences(doc) if doctype == "notice" else set()
    frame = (doc.title or "") + "\n" + (doc.organ or "")
    for hit in mechanism_hits:
        i = sentence_of(hit.start)
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
                                matched=text[hit.start:hit.end], evidence=evidence(i)))
    doc.mechanisms = unconfirmed_heading_tasks_dropped(doc, mentions)
    by_sentence = defaultdict(list)
    for m in mentions:
        by_sentence[m.sentence].append(m)

    # institutions and roles, with the count the text gives them
    institutions = []
    kinds = {c.notation: c for c in ontology.institution_kinds()}
    for hit in institution_hits:
        i = sentence_of(hit.start)
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
                                        start=hit.start, end=hit.end, sentence=i, evidence=evidence(i)))
    doc.institutions = institutions

    # quantities, tied to the mechanism named nearest before them in the sentence
    quantities = []
    named = sorted([(m.start, m.end) for m in mentions] + [(x.start, x.end) for x in institutions])
    named_starts = [s for s, _ in named]

    def inside_a_name(s: int) -> bool:
        """The figure's numeral is part of a name: 三项制度, 双随机."""
        k = bisect_right(named_starts, s) - 1
        return any(ns <= s < ne for ns, ne in named[max(0, k - 3):k + 1])

    figure_tail = _figure_tail()
    for i, sent in enumerate(doc.sentences):
        if not figure_tail.search(text, sent.start, sent.end):
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
    doc.quantities = quantities

    # obligations of a requirement document: who must (not) do what, by when. A sentence that
    # names no addressee continues the previous one's (subjects carry over within a section).
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
        d = _DEADLINE.search(sent.text)
        notations = sorted({x.notation for x in by_sentence.get(i, ())}) or [None]
        for modality, at in _modalities(_mask_titles(sent.text)):
            addressee = _subject(sent.text, at) or carried.get(section) or salutation
            carried[section] = addressee
            for n in notations:
                obligations.append(Obligation(addressee=addressee, modality=modality, notation=n,
                                              deadline=d.group(0) if d else None, start=sent.start,
                                              end=sent.end, sentence=i, evidence=evidence(i)))
    doc.obligations = obligations
    doc.candidates = find_candidates(doc)
    return doc


def _addressee_line(doc: Document) -> str | None:
    """A notice's salutation line: “各乡(镇)人民政府、市级各行政执法单位:”."""
    for sent in doc.sentences[:6]:
        t = sent.text.strip()
        if t.endswith((":", "：")) and len(t) < 80 and "各" in t:
            return t.rstrip(":：")
    return None


# Verbs that introduce a named body: 聘请|外聘 X律师事务所, 邀请 X大学 …
_NAME_INTRO = re.compile(r"(?:聘请|外聘|聘用|选聘|续聘|邀请|委托|依托|联合|通过|携手|会同|联系|协调|配合|对接|"
                         r"[和及与、])")


# determiners and adverbs: 各科室, 其他执法部门, 相关部门 name no particular body
_NOT_A_NAME = re.compile(r"(?:各|其他|其|本|该|相关|有关|时|指导|所属|下属|同级|上级)")


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
    intro = [i for i in _NAME_INTRO.finditer(name) if i.end() < len(name)]
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
    if len(name) < 2 or _NOT_A_NAME.match(name) or lexicon.match_form(name) in lexicon.known_terms():
        return None
    return name + sentence[s:e]


# ---------------------------------------------------------------- candidates
_CANDIDATE_SUFFIX = re.compile(r"(制度|机制|清单|模式)")


def find_candidates(doc: Document) -> list[Candidate]:
    """Recurring …制度/…机制/…清单/…模式 terms not in the scheme, for a person to review."""
    # jieba only where it is needed: the dozen characters before each …制度/…机制 ending
    sentences = [s.text[max(0, m.start() - 12):m.end()] for s in doc.sentences
                 for m in _CANDIDATE_SUFFIX.finditer(s.text)]
    counts = Counter()
    for text in sentences:
        counts.update(_snippet_terms(text))
    return [Candidate(term=t, count=n, docs=[doc.path]) for t, n in counts.most_common()]


_CONTENT_WORD = re.compile(r"[\u4e00-\u9fff]{2,6}")


@lru_cache(maxsize=1 << 14)
def _snippet_terms(text: str) -> tuple[str, ...]:
    """The candidate terms of one snippet, in order. Remembered: jieba segments in Python, and
    reports repeat their phrasing (…重大行政决策程序制度) within and across documents."""
    known = lexicon.known_terms()
    words = lexicon.tokenizer().lcut(lexicon.match_form(text), HMM=False)
    terms = []
    for j, w in enumerate(words):
        if not _CANDIDATE_SUFFIX.fullmatch(w) and not (len(w) > 2 and _CANDIDATE_SUFFIX.search(w[-2:])):
            continue
        if w in known:
            continue
        term = w
        k = j - 1
        # grow leftwards over content words: 联合/执法/机制 → 联合执法机制
        while k >= 0 and len(term) < 12 and _CONTENT_WORD.fullmatch(words[k]) \
                and words[k] not in _FUNCTION_WORDS:
            term = words[k] + term
            k -= 1
        if len(term) < 4 or any(term[k:] in known for k in range(len(term) - 3)):
            continue
        terms.append(term)
    return tuple(terms)


_FUNCTION_WORDS = frozenset("建立 健全 完善 落实 推行 实行 执行 推进 加强 创新 探索 构建 形成 制定 "
                            "严格 全面 深入 进一步 持续 不断 积极 认真 切实 坚持 强化 规范 优化 "
                            "出台 印发 实施 启动 以及 和 与 及 等 的 各项 相关 有关".split())


def facts_record(doc: Document) -> dict:
    """The facts as JSON-ready dicts, offsets into the source text."""
    def spanned(record: dict, fact) -> dict:
        """The record with the fact's source offsets as its last keys (start, then end)."""
        record["start"], record["end"] = doc.source_span(fact.start, fact.end)
        return record

    statuses = sorted({(m.notation, m.status) for m in doc.mechanisms})
    return {
        "mechanisms": [spanned({"notation": m.notation, "label": m.label, "status": m.status,
                                "matched": m.matched, "evidence": m.evidence}, m)
                       for m in doc.mechanisms],
        "mechanism_statuses": [{"notation": n, "status": s} for n, s in statuses],
        "institutions": [spanned({"kind": x.kind, "label": x.label, "name": x.name, "count": x.count,
                                  "unit": x.unit, "evidence": x.evidence}, x)
                         for x in doc.institutions],
        "quantities": [spanned({"subject": q.subject, "value": q.value, "unit": q.unit,
                                "qualifier": q.qualifier, "notation": q.notation,
                                "evidence": q.evidence}, q)
                       for q in doc.quantities],
        "obligations": [spanned({"addressee": o.addressee, "modality": o.modality, "notation": o.notation,
                                 "deadline": o.deadline, "evidence": o.evidence}, o)
                        for o in doc.obligations],
        "candidates": [{"term": c.term, "count": c.count} for c in doc.candidates],
    }
