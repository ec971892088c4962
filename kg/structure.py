"""Document structure: title, organ, year, doctype, numbered sections with roles, sentences.

Reports share one outline (一、成效 / 二、不足 / 三、第一责任人履职 / 四、安排) and the role of
the section a sentence stands in decides what a mechanism named there means. The words
that mark each role and doctype are in ontology/kg.ttl (SectionRoleScheme, DoctypeScheme).
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from . import lexicon, ontology
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


@lru_cache(maxsize=1)
def _organ() -> re.Pattern:
    """An organ's name: a place (ending in a kg:outline-organ-division word) and a body (ending in
    a kg:outline-organ-body word)."""
    return re.compile(r"((?:[\u4e00-\u9fff]{1,12}?" + lexicon.outline_alternation("organ_division") + ")?"
                      r"(?:[\u4e00-\u9fff]{1,16}?" + lexicon.outline_alternation("organ_body") + "))")


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


# Lines that are never the title: page chrome and the header table ([ 索引号 ] …, 来源:…, a
# breadcrumb 首页>…), a document number (X政发〔2015〕N号) or a date line, a salutation (…：).
_NOT_TITLE = re.compile(r"[\[\]【】|｜>＞:：]|^\s*[\u4e00-\u9fff]{0,10}[〔\[［(（](?:19|20)\d\d[〕\]］)）]\s*\d+\s*号\s*$"
                        r"|^\s*(?:19|20)\d\d\s*[年.\-/]\s*\d{1,2}\s*(?:[月.\-/]\s*\d{1,2}\s*日?)?")
# The header table of a portal that lays it out with bars: “标 题 | X关于…的通知 |”.
_TABLE_TITLE = re.compile(r"^\s*标\s*题\s*[|｜:：]?\s*(?P<t>[^|｜]{4,120}?)\s*[|｜]?\s*$")
# A line of body text: a long line or a sentence ending in 。
_BODY_LINE = re.compile(r"^[^\n]{120,}$|。\s*$")
_TITLE_HEAD_LINES = 40
# What a portal glues to a title: its document number in front (苏政办发〔2023〕47号《…的通知》), the
# next field's label (…的通知发文机关) or the posting date (…情况报告 (2024-02-26)) behind.
_TITLE_NUMBER = re.compile(r"^[\u4e00-\u9fff]{1,10}[〔\[［](?:19|20)\d\d[〕\]］]\s*\d+\s*号\s*")


@lru_cache(maxsize=1)
def _title_trailer() -> re.Pattern:
    """A header field's label (kg:outline-title-trailer) or a posting date at a title's end."""
    return re.compile(lexicon.outline_alternation("title_trailer") + "$"
                      r"|\s*[(（]\s*(?:19|20)\d\d[-./年]\d{1,2}[-./月]\d{1,2}日?\s*[)）]$")


@lru_cache(maxsize=1)
def _organ_line() -> re.Pattern:
    """An organ line that stands above a title which begins with 关于 (河南省人民政府 / 关于2023年度…的报告)."""
    return re.compile(r"^[\u4e00-\u9fff（）()、]{1,28}" + lexicon.outline_alternation("organ_line_end") + "$")


def _clean_title(title: str) -> str:
    title = _TITLE_NUMBER.sub("", title).strip()
    title = _title_trailer().sub("", title).strip()
    if title.startswith("《") and title.endswith("》") and title.count("《") == 1:
        title = title[1:-1]
    return title


# an edition or status note after a title: (2021年版), （试行）, (修订稿)
_EDITION = re.compile(r"\s*[(（][^()（）]{1,12}[)）]\s*$")


def _title_cue_at_end(line: str, cues) -> bool:
    line = _EDITION.sub("", line)
    return any(line.endswith(w) for w in cues)


def find_title(text: str) -> tuple[str | None, int]:
    """The document's title and the offset where the body begins.

    The title is the first title-shaped line of the head (before the first line of body text)
    that begins with 关于… or ends with a genre word (…情况报告, …实施方案, …的通知); page
    chrome, header-table rows, document numbers and dates above it are skipped. A title broken
    over two lines (关于印发…建设 / 工作安排的通知, or 贵州省…工作 / 情况报告) is joined, and an
    organ line above a 关于… line is its first part (河南省人民政府 / 关于…的报告)."""
    cues = [w for ws in ontology.doctype_cues().values() for w in ws]
    lines = []                      # (start, end, stripped) of the non-empty head lines
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lines.append((pos, pos + len(line), stripped))
            if _BODY_LINE.search(stripped) or len(lines) >= _TITLE_HEAD_LINES:
                break
        pos += len(line) + 1
    for i, (s, e, line) in enumerate(lines):
        m = _TABLE_TITLE.match(line)
        if m and ("关于" in m.group("t") or _title_cue_at_end(m.group("t"), cues)):
            return _clean_title(m.group("t")), min(e + 1, len(text))
        if _BODY_LINE.search(line):
            break
        if not _TITLE_SHAPE.match(line) or _NOT_TITLE.search(line) or any(p.match(line) for _, p in _HEADINGS):
            continue
        if len(re.sub("|".join(map(re.escape, sorted(cues, key=len, reverse=True))), "", line)) < 2:
            continue                    # a portal's column name (通知公告), not a title
        line = _clean_title(line)
        title, end = line, e
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if (nxt and not _title_cue_at_end(line, cues) and len(nxt[2]) <= 80 and not re.search("[。，,！？]", nxt[2])
                and not _NOT_TITLE.search(nxt[2]) and _title_cue_at_end(_clean_title(nxt[2]), cues)
                and len(line) >= 8 and ("关于" in line or len(nxt[2]) <= 12) and "关于" not in nxt[2]):
            title, end = line + _clean_title(nxt[2]), nxt[1]   # a title broken over two lines
        about = title.find("关于")
        # a 关于… line needs a subject after 关于 (a portal's menu reads 关于我们)
        if _title_cue_at_end(title, cues) or (about >= 0 and len(title) - about >= 8):
            prev = lines[i - 1][2] if i else ""
            if (title.startswith("关于") and prev and _organ_line().match(prev)
                    and not _NOT_TITLE.search(prev)):
                title = prev + title
            return title, min(end + 1, len(text))
    return None, 0


def doctype_scores(title: str | None, text: str) -> dict[str, int]:
    """{doctype: the weight of its signals}: the title's last genre word (关于印发…报告的通知 is a
    notice) and the kg:DoctypeSignal patterns found in their zones (articles, a salutation to
    subordinates, 现印发给你们, 报告如下 …)."""
    scores = {doctype: 0 for doctype in ontology.doctype_cues()}
    if title:
        ends = [(title.rfind(w) + len(w), doctype) for doctype, words in ontology.doctype_cues().items()
                for w in words if w in title]
        if ends:
            doctype = max(ends)[1]
            scores[doctype] += lexicon.doctype_title_weights().get(doctype, 4)
    zones = {"title": title or "", "head": text[:800], "tail": text[-300:], "body": text}
    for signal in lexicon.doctype_signals():
        if signal.pattern.search(zones.get(signal.zone, text)):
            scores[signal.doctype] = scores.get(signal.doctype, 0) + signal.weight
    return scores


def find_doctype(title: str | None, text: str) -> str:
    scores = doctype_scores(title, text)
    best = max(scores.values(), default=0)
    if best <= 0:
        return "annual_report"          # an untitled page with no signal: a report's body
    # ties go to the account of work done (the outline's default)
    return "annual_report" if scores.get("annual_report", 0) == best else max(scores, key=scores.get)


# ---------------------------------------------------------------- the year a document covers
# Years that never date a document: targets (到2025年, 2025年前), ranges (2021—2025年, 2021-2025),
# cited titles 《…（2021—2025年）》 and cited document numbers 〔2019〕.
_YEAR_RANGE = re.compile(r"(?:19|20)\d\d\s*年?\s*[—–\-~至到－]{1,2}\s*(?:19|20)\d\d\s*年?")
_YEAR_TARGET = re.compile(r"(?:到|至|(?<!关)于|在)\s*(?:19|20)\d\d\s*年(?:底|末)?"
                          r"|(?:19|20)\d\d\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?(?:底|末)?(?:前|之前|以前|起)")
_DOC_NUMBER_YEAR = re.compile(r"[〔\[［](?:19|20)\d\d[〕\]］]")


def _blank(m: re.Match) -> str:
    return re.sub(r"\d", "#", m.group(0))


def mask_years(text: str, titles: bool = True) -> str:
    """text with the years that date nothing blanked out (same length)."""
    text = _YEAR_RANGE.sub(_blank, text)
    text = _YEAR_TARGET.sub(_blank, text)
    text = _DOC_NUMBER_YEAR.sub(_blank, text)
    if titles:
        text = re.sub(r"《[^《》]{0,80}》", _blank, text)
    return text


# A report's opening names its year: “2024年，我局…”, “2024年以来，…”, “2023年度，…”, or the
# formula 现将2024年度…情况报告如下 (a line that is a date, 2025年2月, is the signature, not the year).
_OPENING_YEAR = re.compile(r"(?m)^[ \t•·]*(?P<y>(?:19|20)\d\d)\s*(?:年度?(?:以来)?|以来)\s*[,，、]"
                           r"|现将[^\n。]{0,30}?(?P<z>(?:19|20)\d\d)\s*年度?[^\n。]{0,40}(?:报告|汇报|总结)如下")
_FULL_DATE = re.compile(r"(?P<y>(?:19|20)\d\d)\s*(?:年\s*(?P<m>\d{1,2})\s*月(?:\s*\d{1,2}\s*日)?"
                        r"|[-./](?P<m2>\d{1,2})[-./]\d{1,2})")
# A requirement document's own number: on a line of its own, or in the header (发文字号).
# (a page may garble it: 献政字〔201722)
# A line that cites another's number (根据省政府办〔2019〕5号…) is not it.
_OWN_NUMBER = re.compile(r"(?m)^[ \t|｜]*(?:发文字号[ \t|｜:：]*)?(?!根据|按照|依据|依照|对照|参照)"
                         r"[\u4e00-\u9fff]{0,9}[发办函字令文呈报规通告]\s*[〔\[［(（](?P<y>(?:19|20)\d\d)"
                         r"(?:[〕\]］)）]\s*\d+\s*号|\d{1,4}(?!\d))")
# A date on a line of its own: the signature of a notice or report.
_DATE_LINE = re.compile(r"(?m)^[ \t]*(?P<y>(?:19|20)\d\d)\s*(?:年\s*(?P<m>\d{1,2})\s*月(?:\s*\d{1,2}\s*日)?"
                        r"|[-./](?P<m2>\d{1,2})[-./]\d{1,2})[ \t]*$")


def _date_year(m: re.Match, report: bool) -> int:
    """The year a signature or issue date gives: a report signed in the first half of a year
    (2025年2月) is about the year before; a notice is dated by its own year."""
    year = int(m.group("y"))
    month = m.group("m") or m.group("m2")
    if report and (month is None or int(month) <= 6):
        return year - 1
    return year


def _header_date(header: dict):
    for key in ("written", "published"):
        value = header.get(key)
        if value and (m := _FULL_DATE.search(value) or re.match(r"(?P<y>(?:19|20)\d\d)", value)):
            return m
    return None


def find_year(title: str | None, body: str, header: dict, doctype: str, text: str = "") -> int | None:
    """The year the document covers: of a report the year reported on (its title, its opening,
    its signature date less one), of a requirement document the year it was issued (its own
    number, its signature or written date, else its title's year: 关于2019年度…考核结果的通报 was
    issued in 2020). Targets and citations never count (mask_years)."""
    head_all = text[:len(text) - len(body)] if text and len(text) >= len(body) else ""
    titled = _YEAR.search(mask_years(title, titles=False)) if title else None
    masked = mask_years(body)
    report = doctype == "annual_report"
    if report and titled:
        return int(titled.group(1))
    if report:
        # the opening: 2024年，…; a line that is only a date is the signature
        m = _OPENING_YEAR.search(masked[:1500])
        if m:
            return int(m.group("y") or m.group("z"))
        # signed (2025年2月, a line of its own) or published: the year before, when in the
        # first half of a year
        tail_dates = list(_DATE_LINE.finditer(body[-200:]))
        for m in (tail_dates[-1] if tail_dates else None, _DATE_LINE.search(body[:300]),
                  _header_date(header)):
            if m:
                return _date_year(m, True)
        years = Counter(int(y) for y in _YEAR.findall(masked))
        if years:
            return years.most_common(1)[0][0]
        return None
    # a requirement document: its own number (X政发〔2015〕N号), its signature or issue date
    own = header.get("doc_no") or ""
    if (m := re.search(r"[〔\[［(（]((?:19|20)\d\d)[〕\]］)）]", own)) or \
            (m := _OWN_NUMBER.search(head_all + body[:600])):
        return int(m.group(1) if m.re is not _OWN_NUMBER else m.group("y"))
    if (m := _DATE_LINE.search(mask_years(head_all) + masked)):
        return _date_year(m, False)
    if (m := _header_date({"written": header.get("written")})):
        return _date_year(m, False)
    if titled:          # 2024年法治政府建设工作要点, undated on the page
        return int(titled.group(1))
    if (m := _header_date(header)):
        return _date_year(m, False)
    for zone in (masked[:800], masked[-300:]):
        dates = [d for d in _FULL_DATE.finditer(zone)]
        if dates:
            return _date_year(dates[0] if zone is not masked[-300:] else dates[-1], False)
    years = Counter(int(y) for y in _YEAR.findall(masked))
    if years:
        return years.most_common(1)[0][0]
    # nothing but the date it takes effect (自2019年4月15日起施行): the year it was made
    if (m := _FULL_DATE.search(_YEAR_RANGE.sub(_blank, body))):
        return _date_year(m, False)
    return None


@lru_cache(maxsize=1)
def _opening() -> re.Pattern:
    """What a report's body may open with before its organ's name: a year, 在…下, 我局 (kg:outline-reporter)."""
    return re.compile(r"(?:\d{4}\s*年度?\s*[,，]?)?\s*(?:在.{0,30}下[,，])?\s*"
                      + lexicon.outline_alternation("reporter") + "?")


def find_organ(title: str | None, body: str, header: dict) -> str | None:
    if title and "关于" in title:
        return title.split("关于", 1)[0].strip() or None
    if header.get("publisher"):
        return header["publisher"]
    if title and (m := _organ().match(title)):
        return m.group(1)
    first = body.lstrip()[:200]
    m = _opening().match(first)
    rest = first[m.end():] if m else first
    m = _organ().match(rest)
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
            # searched in place, not in a copy of the rest of the line: on a report that comes
            # as one line of megabytes, copying the rest for every 一是… was quadratic
            cut = _ENUM_END.search(line, m.end(1))
            heading = line[m.end(1):cut.start() if cut else m.end(1) + 60].strip()
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
    doc.year = find_year(doc.title, body, doc.header, doc.doctype, text)
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
