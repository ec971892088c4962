"""Division names in a string: where a name runs on into a longer word, the chain of names an
organ or a title starts with (浙江省宁波市江北区, 乳山市夏村镇), and a region a user types."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..document import Locality
from ..errors import KgError
from ..read.cues import alternation, cue_words
from .table import Alias, by_level, common_word_stems, divisions

# A match that runs on into a longer word is not a mention of the division: 城区域 is not 城区,
# 合作市场 is not 合作市, 重庆路 is a street, 城关镇 a township, and 荆州市公安局 has no 公安县
# in it. The suffix read with the next character makes a word (区域, 市场); for names whose stem
# is a word too (和平区, 合作市) a few more such words count (和平区间, 合作市级).
_SUFFIX_WORDS = {"区": "域", "市": "场"}
_SUFFIX_WORDS_COMMON = {"区": "域间内", "市": "场级民", "县": "级域"}


def organ_words(notation: str) -> str:
    """A regex group of the organ words of one list of ontology/places.ttl, kg:OrganWordScheme."""
    return alternation(cue_words("places.ttl", "OrganWordScheme", notation))


@lru_cache(maxsize=1)
def _stem_continues() -> re.Pattern:
    """The words a bare stem may run on into (ontology/places.ttl, kg:NameContinuationScheme)."""
    return re.compile(alternation(cue_words("places.ttl", "NameContinuationScheme")))


# A township after its county in an organ or title: 夏村镇人民政府, 慈城镇2023年…
_TOWNSHIP = re.compile(r"((?:(?!关于)[^\s\d局厅委院办所处科，,、。()（）《》“”]){1,8}?(?:镇|乡|街道|苏木))"
                       r"(?=人民政府|政府|办事处|党委|党工委|工作委员会|人大|司法所|综合|便民|关于|法治|20\d\d|\d{4}|$|[\s(（])")


@lru_cache(maxsize=1)
def organ_tail() -> re.Pattern:
    """The rest of an organ's name after its place: 司法局, 综合行政执法局, 人民政府, 城市管理委员会
    (the last words: ontology/places.ttl, kg:OrganWordScheme "tail")."""
    return re.compile(r"[\u4e00-\u9fff]{0,16}?" + organ_words("tail")
                      + r"(?=关于|20\d\d|\d{4}|法治|年度|[\s(（《]|$)")


@lru_cache(maxsize=1)
def _leading_noise() -> re.Pattern:
    """What may stand before an organ's or a title's place name: 中共, 关于 (ontology/places.ttl,
    kg:LeadingWordScheme), a year, spaces and punctuation."""
    words = "|".join(map(re.escape, cue_words("places.ttl", "LeadingWordScheme")))
    return re.compile(r"(?:\s|" + words + r"|\d{4}年(?:度)?|[，,、：:])+")


def runs_on(alias: "Alias", text: str, end: int) -> bool:
    """Does the name matched before `end` continue into a longer word?"""
    if alias.kind == "stem":
        return bool(_stem_continues().match(text, end))
    nxt = text[end:end + 1]
    words = _SUFFIX_WORDS_COMMON if alias.text[:-1] in common_word_stems() else _SUFFIX_WORDS
    return bool(nxt) and nxt in words.get(alias.text[-1], "")


# ---------------------------------------------------------------------------------------------
# Looking up a region the user types


def lookup_region(query: str) -> list[Locality]:
    """Divisions a user means by `query`: a full or short name, a 6/12-digit code, or a chain
    (宁波市江北区, 浙江宁波). Ambiguous names give every division that bears them."""
    q = re.sub(r"\s+", "", query or "")
    if not q:
        return []
    idx = divisions()
    if q.isdigit():
        loc = idx.by_code(q) if len(q) in (6, 12) else None
        return [loc] if loc else []
    found = idx.by_name(q)
    if found:
        return found
    chain = parse_chain(q, 0)
    if chain.end == len(q) and chain.codes:
        return [idx.locality(c) for c in by_level(idx, chain.codes)]
    return []


class RegionError(KgError):
    """A region the user typed that names no division, or several; `candidates` are the latter."""

    def __init__(self, message: str, candidates: list = ()):
        super().__init__(message)
        self.candidates = list(candidates)


def one_region(query: str) -> Locality:
    """The one division a user means by `query` (see lookup_region); RegionError otherwise, the
    same words for the audit, the graph view and the server's pages."""
    found = lookup_region(query)
    if not found:
        raise RegionError(f"unknown region {query!r}")
    if len(found) > 1:
        cands = "; ".join(f"{l.name} ({l.code}{', ' + l.province if l.province and l.province != l.name else ''})"
                          for l in found)
        raise RegionError(f"region {query!r} is ambiguous: {cands}; give the division code", found)
    return found[0]


# ---------------------------------------------------------------------------------------------
# Organ and title: a chain of division names at the start of a string


@dataclass
class Chain:
    codes: tuple = ()           # candidates for the lowest division named
    names: tuple = ()           # the names as written, highest first
    end: int = 0                # where the chain (township included) stops in the string
    township: str | None = None
    names_end: int = 0          # where the division names stop
    zone: str | None = None     # a functional zone's code, when the chain ends in one


def parse_chain(s: str, pos: int) -> Chain:
    """Division names one after another from pos: 浙江省宁波市江北区, 河南省, 乳山市夏村镇.

    Each name's candidates are narrowed to those lying under the previous name, so 宁波市江北区
    is 330205 however many 江北区 there are. Position makes even weak stems believable here.
    """
    idx = divisions()
    codes: tuple = ()
    names: list[str] = []
    while pos < len(s):
        alias = idx.match_at(s, pos)
        if alias is None:
            break
        if runs_on(alias, s, pos + len(alias.text)):
            break                                   # 城关镇: a township, not 城关区
        if not codes and not alias.strong and not (
                organ_tail().match(s, pos + len(alias.text)) or idx.match_at(s, pos + len(alias.text))):
            break                                   # 城区环境整治…: a word, not 城区 the district
        # under a named parent a bare stem may be a county too: 宁波江北
        cands = idx.every(alias.text) if codes else alias.codes
        if codes:
            under = tuple(c for c in cands if any(idx.is_ancestor(p, c) for p in codes))
            if not under:
                break
            cands = under
        codes = cands
        names.append(alias.text)
        pos += len(alias.text)
    chain = Chain(codes, tuple(names), pos, None, pos)
    zone = idx.zone_at(s, pos, codes)
    if zone is not None:
        # a county-level functional zone (常德市西洞庭管理区): no division, a statistical code
        chain.zone = zone
        chain.end = chain.names_end = pos + len(idx.zone_name(zone))
        return chain
    m = _TOWNSHIP.match(s, pos)
    if m:
        chain.township, chain.end = m.group(1), m.end()
    return chain


def organ_part(line: str) -> str:
    """The issuing body in a title: what stands before 关于."""
    return line.split("关于", 1)[0] if "关于" in line[1:] else ""


def skip_noise(s: str, pos: int) -> int:
    """Past 中共, 关于, a year and punctuation before an organ's or a title's place name."""
    m = _leading_noise().match(s, pos)
    return m.end() if m else pos

