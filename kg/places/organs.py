"""The organ that issued a document, read from its header, signature, byline, decree note or
title: a chain of division names at the start of each, strongest first, or a central organ."""
from __future__ import annotations

import re
from functools import lru_cache

from ..document import LocalityResolution
from ..read.cues import alternation, cue_words
from .mentions import Scores, ambiguous, disambiguate
from .names import organ_part, organ_tail, organ_words, parse_chain, skip_noise
from .table import divisions
from .townships import locality_with_township


# Organs of the centre (ontology/places.ttl, kg:CentralOrganScheme: 中共中央, 国务院, the
# ministries one by one …), and any 国家…总局/局/委员会: their documents apply nationwide.
@lru_cache(maxsize=1)
def central_organ() -> re.Pattern:
    words = "|".join(map(re.escape, cue_words("places.ttl", "CentralOrganScheme")))
    return re.compile(r"^(?:" + words + r"|国家[^\s省市州县区旗盟]{1,14}?" + organ_words("central") + ")")


@lru_cache(maxsize=1)
def _signature_line() -> re.Pattern:
    """A signature: an organ (ending in a word of kg:OrganWordScheme "signature"), then a date."""
    return re.compile(r"(?:^|[。\n])\s*((?:中共|中国共产党)?[\u4e00-\u9fff]{2,60}?"
                      + organ_words("signature") + r")\s*\n?\s*(?:19|20)\d\d年\d{1,2}月\d{1,2}日", re.MULTILINE)


def _signature(text: str) -> str | None:
    """The organ of the first signature line (organ, then date) whose organ starts with a
    division name."""
    idx = divisions()
    for m in _signature_line().finditer(text):
        organ = m.group(1)
        start = skip_noise(organ, 0)
        if idx.match_at(organ, start) is not None:
            return organ
    return None


_DECREE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日\s*([^\s\d()（）]{2,24}?人民政府)令\s*第")
_HEADER_ORGAN_KEYS = ("publisher", "发布机构", "发文机关", "发文单位", "发布单位", "source", "信息来源")


def _labels(notation: str) -> str:
    """The labels of ontology/text.ttl, kg:HeaderLabelScheme `notation`, as a regex group."""
    words = cue_words("text.ttl", "HeaderLabelScheme", notation)
    return "(?:" + "|".join(r"\s*".join(map(re.escape, w.split(" "))) for w in words) + ")"


@lru_cache(maxsize=1)
def _header_in_text() -> re.Pattern:
    """发布机构：乳山市司法局 in the text."""
    return re.compile(_labels("publisher") + r"\s*[:：]\s*([^\s:：]{2,40})")


@lru_cache(maxsize=1)
def _header_line() -> re.Pattern:
    """A line of the portal's metadata: a label and a colon near its start, or a known label."""
    return re.compile(r"^.{0,8}[:：]|" + _labels("header-line"))


@lru_cache(maxsize=1)
def _byline() -> re.Pattern:
    """A portal's byline under the title: 中阳县政府 www.sxzhongyang.gov.cn 2016-03-21."""
    return re.compile(r"^\s*([\u4e00-\u9fff]{2,24}?" + organ_words("byline") + r")\s+"
                      r"(?:www\.|https?://|\d{4}[-年])", re.MULTILINE)


@lru_cache(maxsize=1)
def _title_line() -> re.Pattern:
    """A word that makes a line a title (ontology/places.ttl, kg:TitleWordScheme)."""
    return re.compile(alternation(cue_words("places.ttl", "TitleWordScheme")))


@lru_cache(maxsize=1)
def _named_organ() -> re.Pattern:
    """An organ's name, not a bare place label (上海崇明): it ends in an organ word."""
    return re.compile(organ_words("named") + "$")


def organ_sources(text: str, organ: str | None, title: str | None, header: dict | None):
    """(string, is_organ) to read a leading chain of division names from, strongest first:
    the header's 发布机构, the organ, the part of the title before 关于, the title itself."""
    out = []
    for key in _HEADER_ORGAN_KEYS:
        v = (header or {}).get(key)
        if v:
            out.append((str(v).strip(), True))
    # a notice's or report's signature (落款: organ and date after the last sentence of its
    # preamble) is the author's own name; it goes before an organ that is a bare place label
    # (上海崇明关于印发…: an aggregator's prefix) but after one with an organ's name
    sig = _signature(text)
    bare = organ is not None and not _named_organ().search(organ.strip())
    if sig and (organ is None or bare):
        out.append((sig, True))
        sig = None
    if organ:
        out.append((organ.strip(), True))
    if sig:
        out.append((sig, True))
    m = _header_in_text().search(text[:600])
    if m:
        out.append((m.group(1), True))
    # a government decree's promulgation note: (2015年1月12日西宁市人民政府令第137号公布…)
    m = _DECREE.search(text[:300])
    if m:
        out.append((m.group(1), True))
    # a portal's byline under the title: 中阳县政府 www.sxzhongyang.gov.cn 2016-03-21
    m = _byline().search(text[:600])
    if m:
        out.append((m.group(1), True))
    titles = [title.strip()] if title else []
    # the first line that is not header chrome, if it is short and reads like a title; a
    # title set on two lines (重庆市江北区石马河街道 / 关于2022年法治政府建设情况的报告) is joined
    lines = [ln.strip() for ln in text[:1000].split("\n")]
    lines = [ln for ln in lines if ln and not _header_line().search(ln)][:2]
    if lines:
        line = lines[0]
        if (len(lines) == 2 and not _title_line().search(line) and len(line) <= 30
                and lines[1].startswith("关于") and len(lines[1]) <= 60):
            line = line + lines[1]
        if len(line) <= 80 and _title_line().search(line) and line not in titles:
            titles.append(line)
    for line in titles:
        part = organ_part(line)
        if part:
            out.append((part.strip(), True))
        out.append((line, False))
    return out


def from_organ(sources, scores: Scores):
    """A resolution from organ and title; else the central organ or lone township they name."""
    central = township = None
    for s, is_organ in sources:
        s = s.strip()
        start = skip_noise(s, 0)
        cm = central_organ().match(s) or central_organ().match(s, start)     # 中共中央 keeps its 中共
        if cm:
            # 国家税务总局乳山市税务局 is a branch in 乳山市; 国务院办公厅 is the centre
            start = skip_noise(s, cm.end())
            if not parse_chain(s, start).codes:
                central = central or s
                continue
        chain = parse_chain(s, start)
        if chain.zone is not None:
            loc = divisions().zone(chain.zone)
            label = "organ" if is_organ else "title"
            return (LocalityResolution(
                locality=loc, reason=f"{label} names the functional zone {loc.name} ({loc.code}, statistical "
                                     f"code) under {loc.parents[-1][1]}",
                evidence=f'{label} "{s[:chain.end + 8]}"'), None, None)
        if not chain.codes:
            if chain.township and township is None:
                township = (chain.township, s)       # 慈城镇人民政府: the county from the body
            continue
        tail = organ_tail().match(s, chain.end)
        label = "organ" if is_organ or tail else "title"
        quoted = s if is_organ else s[:tail.end() if tail else chain.end]
        evidence = f'{label} "{quoted}"'
        if len(chain.codes) > 1:
            code, near = disambiguate(chain.codes, scores)
            if code is None:
                return ambiguous(chain.codes, chain.names[-1]), None, None
            evidence += f"; {chain.names[-1]} placed by 「{near}」 in the text"
        else:
            code = chain.codes[0]
        if township and not chain.township:
            # a township organ (慈城镇人民政府) and a county title: the township under that county
            evidence += f'; township from organ "{township[1]}"'
        loc = locality_with_township(code, chain.township or (township[0] if township else None))
        reason = f"{label} names {loc.name} ({getattr(loc, 'township_code', '') or loc.code})"
        written = chain.names[-1]
        said = written + s[chain.names_end:chain.names_end + 1]
        official = divisions().division(code).name
        if written != official and said[-1] in "市县区旗" and not official.startswith(said):
            # 章丘区 for the data's 章丘市: a county turned district since the data was compiled
            reason += f"; the text says {said}, the division data has {official} (renamed since?)"
        return (LocalityResolution(locality=loc, reason=reason, evidence=evidence), None, None)
    return None, central, township


