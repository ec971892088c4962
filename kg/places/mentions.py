"""The body of a document: every mention of a division, weighted by where and how it stands
(in the head, in a self-reference such as 法治乳山 or 乳山市政府门户网站, after its parent), the
level the text speaks as (我市, 全县), and the division the mentions point to."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from ..document import LocalityResolution
from ..read.cues import alternation, cue_words
from .names import organ_words, runs_on
from .table import DEPTH, by_level, divisions


@lru_cache(maxsize=1)
def _organ_after() -> re.Pattern:
    """What follows a place name when it names an organ of that place: 乳山市人民政府, 江北区委."""
    return re.compile(r"(?:[省市州县区旗盟])?" + organ_words("after-place"))


@lru_cache(maxsize=1)
def _slogans() -> tuple[str, ...]:
    """Slogans that name the own place: 法治乳山, 平安江北, 美丽乡村 (no division: no match)."""
    return cue_words("places.ttl", "SloganScheme")


@lru_cache(maxsize=1)
def _portal_after() -> re.Pattern:
    """A portal of the own place: 乳山市政府门户网站 (ontology/places.ttl, kg:PortalWordScheme)."""
    return re.compile(r"(?:[省市州县区旗盟])?(?:人民政府|政府)?" + alternation(cue_words("places.ttl", "PortalWordScheme")))


YEAR_BEFORE = re.compile(r"(?:^|[\n。；;])\s*(?:\d{4}年(?:度)?|今年|近年来|一年来)\s*[，,、]?\s*(?:以来)?[，,]?\s*$")
_LEADERSHIP = re.compile(r"[省市州县区旗盟]?委[^。\n]{0,24}领导下")
# 《福清市法治政府建设实施方案》: the own plan (a superior's plan is cited too; the descent to the
# lowest consistent division sorts that out)
@lru_cache(maxsize=1)
def _own_plan() -> re.Pattern:
    """The title of a plan for the rule of law (ontology/places.ttl, kg:OwnPlanScheme)."""
    return re.compile(r"[^》\n]{0,8}?" + alternation(cue_words("places.ttl", "OwnPlanScheme", "subject"))
                      + r"[^》\n]{0,12}?" + alternation(cue_words("places.ttl", "OwnPlanScheme", "kind")))

# 我市 / 全县 / 本区 tell the level of the own place. 我/本 speak for the author; 全 less so
# (“全省首个”, “全市唯一” compare the author with its superior's whole area), so it counts once
# and not at all before such a comparison.
_LEVEL_SELF = re.compile(r"(?:我|本)([省市州县区旗盟镇乡])(?![场民长委级直属])")


@lru_cache(maxsize=1)
def _level_all() -> re.Pattern:
    """全X, but not before a comparison (全省首个, 全市唯一: ontology/places.ttl,
    kg:ComparisonWordScheme)."""
    words = alternation(cue_words("places.ttl", "ComparisonWordScheme"))
    return re.compile(r"全([省市州县区旗盟镇乡])(?![场民长委级直属])(?!.{0,3}" + words + ")")


# How much a mention weighs, by where and how it stands.
# A self-reference outweighs a handful of plain mentions but not a text full of another name:
# “学习借鉴法治浙江经验” in a Jiangsu county's report must not make it Zhejiang's.
_W_MENTION, _W_HEAD, _W_SELF = 1.0, 2.0, 4.0
HEAD_CHARS = 300

# Addressee lines (see `addressee_spans`): organ names separated by 、，, ending in a colon,
# no sentence in them. The organ words are data (ontology/places.ttl, kg:AddresseeOrganScheme).
ADDRESSEE_CHARS = 600


def _is_addressee_line(line: str) -> bool:
    """河北省人民政府： / 中共X州委、X州人民政府： / 各县（区）人民政府，市直各部门：: names that
    each end in an organ word, separated by 、，, and closed by a colon, nothing else."""
    if len(line) > 100 or line[-1] not in ":：" or any(c in line for c in "。；;"):
        return False
    organs = cue_words("places.ttl", "AddresseeOrganScheme")
    parts = [p for p in re.split(r"[、，,\s]+", line[:-1]) if p]
    return bool(parts) and all(p.endswith(organs) or p.startswith("各") for p in parts)


_ATTACHMENT_LIST = re.compile(r"^(?:附件\s*\d*\s*[:：]?\s*)?各[^。\n]{0,60}、[^。\n]*$")
_ATTACHMENT_LIST_ANY = re.compile(r"附件\s*\d*\s*[:：][^\n]{0,120}")


# ---------------------------------------------------------------------------------------------
# The body: every mention, weighted


@dataclass
class Mention:
    start: int
    end: int
    codes: tuple
    weight: float
    self_ref: str | None        # the quoted self-reference, if this mention is one


def self_reference(text: str, s: int, e: int) -> str | None:
    """A quotation if the genre uses the name at [s, e) for the document's own place."""
    for word in _slogans():
        if s >= len(word) and text.startswith(word, s - len(word)):
            return text[s - len(word):e]                            # 法治乳山
    m = _portal_after().match(text, e)
    if m:
        return text[s:m.end()]                                      # 乳山市政府门户网站
    if "现将" in text[max(0, s - 4):s]:
        return text[text.rfind("现将", 0, s):e]                       # 现将辽源市…报告如下
    m = YEAR_BEFORE.search(text, max(0, s - 14), s)
    if m and m.end() == s:
        return text[m.start():e].strip("\n。；; ")                    # 2024年,辽源市深入…
    if text[s - 1:s] == "在" and _LEADERSHIP.match(text, e):
        return text[s - 1:e + 3]                                     # 在乳山市委…领导下
    if text[s - 1:s] == "《" and (m := _own_plan().match(text, e)):
        return text[s - 1:m.end()]                                   # 《福清市法治政府建设实施方案
    return None


def addressee_spans(text: str) -> list[tuple[int, int]]:
    """Lines at the top of a report or notice that address its recipients — 河北省人民政府：,
    中共X州委、X州人民政府：, 各县（区）人民政府，市直各部门： — and lines that list recipients
    in an attachment's title (附件：各市(州)、直管市、林区…). The genre: a report goes up to
    its superior, a notice down to its subordinates; neither names the author."""
    out = []
    pos = 0
    for n, line in enumerate(text[:ADDRESSEE_CHARS].split("\n")):
        body = line.strip()
        if body and (_is_addressee_line(body) or _ATTACHMENT_LIST.match(body)):
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    for m in _ATTACHMENT_LIST_ANY.finditer(text):
        out.append((m.start(), m.end()))
    return out


def scan_body(text: str) -> list[Mention]:
    idx = divisions()
    out: list[Mention] = []
    prev: Mention | None = None
    head = min(len(text), HEAD_CHARS)
    skip = addressee_spans(text)
    for s, e, alias in idx.scan(text):
        if any(a <= s < b for a, b in skip):
            continue
        # a match running into a longer word: try the shorter alias inside it (福清市场 → 福清)
        while alias is not None and runs_on(alias, text, e):
            e -= 1
            alias = idx.aliases.get(text[s:e]) if e - s >= 2 else None
        if alias is None:
            continue
        after_name = prev is not None and prev.end == s
        if (alias.kind == "full" and len(alias.text) == 2 and not after_name
                and text[s - 1:s] in "省市州县区旗乡镇"):
            continue                                # 市和县人民政府 is “city and county”, not 和县
        codes = alias.codes
        under = ()
        if after_name:
            # 宁波市江北区, 威海乳山: the name before settles which one, and vouches for a bare stem
            under = tuple(c for c in idx.every(alias.text)
                          if any(idx.is_ancestor(p, c) for p in prev.codes))
            if under:
                codes = under
        self_ref = self_reference(text, s, e)
        anchored = bool(under) or bool(_organ_after().match(text, e))
        if not alias.strong and not (self_ref or anchored):
            continue
        weight = _W_MENTION + (_W_HEAD if s < head else 0.0) + (_W_SELF if self_ref else 0.0)
        prev = Mention(s, e, codes, weight, self_ref)
        out.append(prev)
    return out


def level_hint(text: str) -> str | None:
    """The level word the document uses for itself (我市, 全县, 本区), when one dominates."""
    counts: dict[str, int] = defaultdict(int)
    for m in _LEVEL_SELF.finditer(text):
        counts[m.group(1)] += 2
    for m in _level_all().finditer(text):
        counts[m.group(1)] += 1
    if not counts:
        return None
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    best, n = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0
    return best if n >= 2 and n >= 1.5 * second else None


@dataclass
class Scores:
    base: dict                  # code → weight of all mentions that may name it
    plain: dict                 # code → the same without the self-reference bonus
    count: dict                 # code → number of mentions
    unique: dict                # code → weight of mentions that name only it
    self_refs: dict             # code → [quotation]
    groups: dict                # code → codes it shares some mention with


def score(mentions: list[Mention]) -> Scores:
    base: dict[str, float] = defaultdict(float)
    plain: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    unique: dict[str, float] = defaultdict(float)
    self_refs: dict[str, list] = defaultdict(list)
    groups: dict[str, set] = defaultdict(set)
    for m in mentions:
        for c in m.codes:
            base[c] += m.weight
            plain[c] += m.weight - (_W_SELF if m.self_ref else 0.0)
            count[c] += 1
            if m.self_ref:
                self_refs[c].append(m.self_ref)
            if len(m.codes) > 1:
                groups[c].update(x for x in m.codes if x != c)
        if len(m.codes) == 1:
            unique[m.codes[0]] += m.weight
    return Scores(dict(base), dict(plain), dict(count), dict(unique), dict(self_refs), dict(groups))


def disambiguate(codes, scores: Scores) -> tuple[str | None, str]:
    """Pick one of several same-named divisions by the other names in the text: its province,
    prefecture, siblings or subdivisions (宁波/浙江/镇海区 → 宁波's 江北区)."""
    idx = divisions()
    codes = list(dict.fromkeys(codes))
    if len(codes) == 1:
        return codes[0], ""
    ctx = {}
    for c in codes:
        support = [(x, w) for x, w in scores.unique.items() if x not in codes and idx.related(c, x)]
        ctx[c] = sum(w for _, w in support) + scores.unique.get(c, 0.0)
    ranked = sorted(codes, key=lambda c: -ctx[c])
    best, second = ranked[0], ranked[1]
    if ctx[best] > 0 and ctx[best] >= 2 * ctx[second]:
        near = [idx.division(x).name for x, _ in sorted(scores.unique.items(), key=lambda kv: -kv[1])
                if x not in codes and idx.related(best, x)][:3]
        return best, "、".join(near)
    return None, ""


def ambiguous(codes, name: str | None = None) -> LocalityResolution:
    idx = divisions()
    codes = by_level(idx, codes)
    name = name or idx.division(codes[0]).name
    parts = [f"{c} ({idx.describe(c)})" for c in codes]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
    return LocalityResolution(
        locality=None, candidates=[idx.locality(c) for c in codes],
        reason=f"ambiguous: {name} is {listed}; the text does not say which")


# A subdivision takes over from the division above it when the text names it at least this
# share as often (a county's report names its prefecture a lot: 威海市委, 威海市考核 …; a
# prefecture's report names each of its counties once or twice, in lists).
_DESCEND_SHARE = 0.3
_DESCEND_SHARE_HINTED = 0.15        # … when 我县/全县 says the document speaks as the lower level


def pick_from_body(scores: Scores, hint: str | None) -> tuple[str | None, list]:
    """The document's own division from the body's mentions, or (None, twins) if ambiguous.

    A superior or a neighbour named often must not win over the own place: the own place is
    the lowest division that the text names substantially and whose ancestors it also names.
    """
    idx = divisions()
    if not scores.base:
        return None, []

    def fits(c):
        return bool(hint) and idx.division(c).suffix == hint

    def rank(c):
        # self-references first; a division whose ancestors are named too is consistent
        return (scores.base[c] * (1.5 if fits(c) else 1.0)
                + 0.25 * sum(scores.base.get(a, 0.0) for a in idx.ancestors(c)))

    candidates = list(scores.base)
    top = max(candidates, key=lambda c: (rank(c), DEPTH[idx.division(c).level]))

    # descend to a subdivision the text names substantially and clearly more than its siblings
    while True:
        below = [c for c in candidates if idx.is_ancestor(top, c)
                 and (scores.count[c] >= 2 or scores.self_refs.get(c))]
        if not below:
            break
        below.sort(key=rank, reverse=True)
        d = below[0]
        # rivals are the other branches, not d's own prefecture or subdivisions
        rivals = [rank(c) for c in below[1:] if not idx.is_ancestor(c, d) and not idx.is_ancestor(d, c)]
        if rivals and rank(d) < 2 * rivals[0]:
            break                                   # several subdivisions alike: a list of them
        if scores.self_refs.get(d):
            top = d                                 # 法治乳山 under 威海市: the county speaks
            continue
        if fits(top) and not fits(d):
            break                                   # 全省 … in a province's report: stay up
        share = _DESCEND_SHARE_HINTED if fits(d) and not fits(top) else _DESCEND_SHARE
        if scores.plain[d] >= share * scores.plain[top]:
            top = d
        else:
            break

    twins = [c for c in scores.groups.get(top, ()) if scores.base.get(c, 0) >= 0.5 * scores.base[top]]
    if twins:
        winner, _ = disambiguate([top] + twins, scores)
        if winner is None:
            return None, [top] + twins
        top = winner
    return top, []

