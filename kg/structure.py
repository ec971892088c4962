"""Document structure: title, organ, year, doctype, numbered sections with roles, sentences.

Reports share one outline (一、成效 / 二、不足 / 三、第一责任人履职 / 四、安排) and the role of
the section a sentence stands in decides what a mechanism named there means. The words
that mark each role and doctype are in ontology/kg.ttl (SectionRoleScheme, DoctypeScheme).
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from . import ontology
from .document import Document, Section, Sentence

_CN_NUM = "一二三四五六七八九十"
# (depth, pattern) — a heading starts a line; the heading text runs to the first 。 or line end.
_HEADINGS = [
    (1, re.compile(rf"第[{_CN_NUM}]+(?:部分|章)\s*")),
    (1, re.compile(rf"[{_CN_NUM}]{{1,3}}\s*[、.．]\s*")),
    (2, re.compile(rf"[(（]\s*[{_CN_NUM}]{{1,3}}\s*[)）]\s*[、.．]?\s*")),
    (3, re.compile(r"\d{1,2}\s*[、.．](?!\d)\s*")),
    (3, re.compile(r"[(（]\d{1,2}[)）]\s*")),
]
# The patterns above as one, tried in the same order (the first alternative that matches
# wins, as the first pattern that matches did); the group that matched gives the depth.
_HEADING = re.compile("|".join(f"(?P<h{i}>{p.pattern})" for i, (_, p) in enumerate(_HEADINGS)))
_HEADING_DEPTH = {f"h{i}": depth for i, (depth, _) in enumerate(_HEADINGS)}
# 一是…二是… enumerations run inside paragraphs; each item is a sub-section of its paragraph.
_ENUM = re.compile(rf"(?:(?<=^)|(?<=[。；;:：\n]))\s*([{_CN_NUM}]{{1,3}}是)")
# what every _ENUM match holds; _ENUM itself has no literal start and costs a try at every
# character, so lines without this skip it
_ENUM_CORE = re.compile(rf"[{_CN_NUM}]是")
_NEVER = re.compile(r"(?!)")
_HEADING_END = re.compile(r"[。！？]")
_ENUM_END = re.compile(r"[。！？；;]")
# A sentence ends with [。！？!?]+ and closing quotes, or with \n+. Written to start with one
# character class (the branch after it goes by what that character was), the regex engine
# skips to the candidates instead of trying both branches at every character.
_SENTENCE_END = re.compile(r"[。！？!?\n](?:(?<=\n)\n*|(?<!\n)[。！？!?]*[”’」』)）]*)")
_MAX_SENTENCE = 400
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)\s*年")
_TITLE_SHAPE = re.compile(r"^[^。，,！？]{4,80}$")
_ORGAN = re.compile(
    r"((?:[\u4e00-\u9fff]{1,12}?(?:省|自治区|市|自治州|州|盟|地区|县|自治县|旗|区|镇|乡|街道))?"
    r"(?:[\u4e00-\u9fff]{1,16}?(?:人民政府|政府办公室|局|厅|委员会|委|办公室|办|院|署|中心|所)))")


@lru_cache(maxsize=1)
def _role_patterns() -> tuple:
    """(role, regex of its cue words) in the ontology's order; a regex finds any of the words
    in one pass (a document has dozens of headings, a role dozens of words)."""
    return tuple((role, re.compile("|".join(map(re.escape, words))) if words else _NEVER)
                 for role, words in ontology.section_role_cues().items())


@lru_cache(maxsize=1 << 14)          # headings repeat within and across reports
def _role_of(heading: str) -> str | None:
    """The role a heading's words announce; of several, the one of highest priority
    (创新执法举措有待增加 is a weakness although 举措 is an achievements word)."""
    priority = ontology.cue_priorities("SectionRoleScheme")
    roles = [role for role, pattern in _role_patterns() if pattern.search(heading)]
    return min(roles, key=priority.get) if roles else None


def find_title(text: str) -> tuple[str | None, int]:
    """The document's title if its first line is one; with the offset where the body begins."""
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            cues = [w for ws in ontology.doctype_cues().values() for w in ws]
            is_heading = any(p.match(stripped) for _, p in _HEADINGS)
            if (_TITLE_SHAPE.match(stripped) and not is_heading
                    and ("关于" in stripped or any(stripped.endswith(w) for w in cues))):
                return stripped, pos + len(line) + 1
            return None, pos
        pos += len(line) + 1
    return None, 0


def find_doctype(title: str | None, text: str) -> str:
    cues = ontology.doctype_cues()
    if title:
        # the last genre word of the title decides: 关于印发…报告的通知 is a notice
        ends = [(title.rfind(w) + len(w), doctype) for doctype, words in cues.items()
                for w in words if w in title]
        if ends:
            return max(ends)[1]
    head = text[:1500]
    if re.search(r"(?:报告|汇报)如下", head):
        return "annual_report"
    if re.search(r"(?:通知|意见)如下|现就.{0,30}(?:通知|意见)", head):
        return "notice"
    return "annual_report"


def find_year(title: str | None, body: str, header: dict, doctype: str) -> int | None:
    """The year the document covers."""
    if title and (m := _YEAR.search(title)):
        return int(m.group(1))
    if doctype == "annual_report":
        # a report opens with the year it covers: “2024年,…” / “2024年度,…” / a heading 一、2024年…
        m = _YEAR.search(body[:400])
        if m:
            return int(m.group(1))
        years = Counter(int(y) for y in _YEAR.findall(body))
        if years:
            return years.most_common(1)[0][0]
    else:
        # a requirement document is dated where it is signed, at the end
        dates = re.findall(r"(20\d\d)\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日", body[-300:])
        if dates:
            return int(dates[-1])
    written = header.get("written") or header.get("published")
    if written and (m := re.match(r"(20\d\d)", written)):
        return int(m.group(1)) - (1 if doctype == "annual_report" else 0)
    return None


def find_organ(title: str | None, body: str, header: dict) -> str | None:
    if title and "关于" in title:
        return title.split("关于", 1)[0].strip() or None
    if header.get("publisher"):
        return header["publisher"]
    if title and (m := _ORGAN.match(title)):
        return m.group(1)
    first = body.lstrip()[:200]
    m = re.match(r"(?:\d{4}\s*年度?\s*[,，]?)?\s*(?:在.{0,30}下[,，])?\s*(?:我局|我单位)?", first)
    rest = first[m.end():] if m else first
    m = _ORGAN.match(rest)
    return m.group(1) if m else None


def find_sections(text: str, start: int, doctype: str) -> list[Section]:
    priority = ontology.cue_priorities("SectionRoleScheme")
    default_role = "requirements" if doctype == "notice" else "achievements"
    heads = []  # (start, depth, numbering, heading)
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        if line_start < start or not line.strip():
            continue
        lead = len(line) - len(line.lstrip())
        body = line[lead:]
        m = _HEADING.match(body)
        if m:
            rest = body[m.end():]
            cut = _HEADING_END.search(rest)
            heading = (rest[:cut.start()] if cut else rest).strip()
            if heading and len(heading) <= 60:
                heads.append((line_start + lead, _HEADING_DEPTH[m.lastgroup], m.group(0).strip(), heading))
        for m in (_ENUM.finditer(line) if _ENUM_CORE.search(line) else ()):
            rest = line[m.end(1):]
            cut = _ENUM_END.search(rest)
            heading = (rest[:cut.start()] if cut else rest[:60]).strip()
            heads.append((line_start + m.start(1), 4, m.group(1), heading))
    heads.sort()
    # a section ends where the next heading of the same or a higher level (depth <=) starts;
    # found for all at once, right to left, keeping only headings that can still end one
    ends = [len(text)] * len(heads)
    later: list[tuple[int, int]] = []          # (start, depth); the top is the nearest
    for i in range(len(heads) - 1, -1, -1):
        s, depth = heads[i][0], heads[i][1]
        while later and later[-1][1] > depth:
            later.pop()
        if later:
            ends[i] = later[-1][0]
        later.append((s, depth))
    sections: list[Section] = []
    stack: list[int] = []
    for i, (s, depth, numbering, heading) in enumerate(heads):
        end = ends[i]
        while stack and sections[stack[-1]].depth >= depth:
            stack.pop()
        parent_role = sections[stack[-1]].role if stack else default_role
        # A sub-heading may narrow its section's role to a stronger one (a 存在问题 point under
        # 成效), never weaken it (成效 words in a plan's heading stay plans). An 一是 item is a
        # point of its paragraph, not a heading: it keeps the paragraph's role.
        own = _role_of(heading) if depth < 4 else None
        if own == "requirements" and doctype != "notice":
            own = None   # a report's 主要任务完成情况 tells what was done, not what is required
        role = own if own and (not stack or priority[own] < priority[parent_role]) else parent_role
        sections.append(Section(heading=heading, numbering=numbering, depth=depth, role=role,
                                start=s, end=end))
        stack.append(len(sections) - 1)
    return sections


def split_sentences(text: str, start: int = 0) -> list[tuple[int, int]]:
    spans = []
    pos = start
    for m in _SENTENCE_END.finditer(text, start):
        _clip(text, pos, m.end(), spans)
        pos = m.end()
    _clip(text, pos, len(text), spans)
    return spans


def _clip(text: str, s: int, e: int, spans: list) -> None:
    """Add [s, e) to spans: whitespace trimmed; very long runs (tables flattened into one
    line) cut at ；or ，."""
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    while e - s > _MAX_SENTENCE:
        window = text[s + _MAX_SENTENCE // 2: s + _MAX_SENTENCE]
        cut = max(window.rfind("；"), window.rfind(";"))
        if cut < 0:
            cut = max(window.rfind("，"), window.rfind(","))
        cut = s + _MAX_SENTENCE // 2 + cut + 1 if cut >= 0 else s + _MAX_SENTENCE
        spans.append((s, cut))
        s = cut
    if e > s:
        spans.append((s, e))


def structure(doc: Document) -> Document:
    text = doc.text
    doc.title, body_start = find_title(text)
    doc.doctype = find_doctype(doc.title, text)
    body = text[body_start:]
    doc.year = find_year(doc.title, body, doc.header, doc.doctype)
    doc.organ = find_organ(doc.title, body, doc.header)
    doc.sections = find_sections(text, body_start, doc.doctype)
    starts = [s.start for s in doc.sections]
    sentences = []
    k = -1
    for s, e in split_sentences(text):
        while k + 1 < len(starts) and starts[k + 1] <= s:
            k += 1
        # the innermost section that still contains the sentence
        j = k
        while j >= 0 and doc.sections[j].end <= s:
            j -= 1
        sentences.append(Sentence(start=s, end=e, section=j, text=text[s:e]))
    doc.sentences = sentences
    return doc
