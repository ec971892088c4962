"""Townships (街道/镇/乡/苏木): one named with its county, alone (the table's only one of that
name, or the one whose county the text names), or as the voice of a township's own report."""
from __future__ import annotations

import re
from functools import lru_cache

from ..document import Locality, LocalityResolution
from ..read.cues import alternation, cue_words
from .mentions import Scores, self_reference
from .table import Township, divisions


def locality_with_township(code: str, township: str | None) -> Locality:
    """The division `code`, or the township of that name under it: from the table, with its
    9-digit code, when the table has it there; else (a town renamed or merged since the
    table's date) a township Locality of the name alone under `code`."""
    idx = divisions()
    loc = idx.locality(code)
    if not township:
        return loc
    found = idx.townships_under(code, township)
    if len(found) == 1:
        return idx.township(found[0])
    return Township(name=township, code=loc.code, level="township", province=loc.province,
                    prefecture=loc.prefecture if loc.level == "county" else loc.name,
                    county=loc.name if loc.level == "county" else None,
                    parents=loc.parents + [(loc.code, loc.name, loc.level)])


# 在市委、市政府的领导下 / 在县委、县政府的坚强领导下: the level of the body above a township
_COUNTY_BY_LEVEL = re.compile(r"([县区市旗])委[、，,和及]\s*\1(?:人民)?政府")


def lone_township(name: str, quoted: str, scores: Scores, text_head: str = "") -> LocalityResolution | None:
    """A township named without its county (title 留下街道2022年度…, organ 东坝头镇人民政府,
    byline 来源:留下街道) — the genre of township reports, which speak of 县委/区委 without
    naming them. Same-named towns are many (82 城关镇): the one whose county, prefecture or
    province the text names wins; with none named, a name the table holds once is that one,
    and several stay unresolved with the candidates."""
    idx = divisions()
    cands = idx.townships_named(name)
    if not cands:
        return None

    def support(t: str) -> float:
        chain = [idx.township_parent(t)] + idx.ancestors(idx.township_parent(t))
        return sum(scores.base.get(c, 0.0) for c in chain)

    ranked = sorted(cands, key=support, reverse=True)
    best = ranked[0]
    if support(best) > 0 and (len(ranked) == 1 or support(best) > support(ranked[1])):
        loc = idx.township(best)
        named = [n for c, n, _ in loc.parents if c in scores.base]
        return LocalityResolution(
            locality=loc, reason=f"names the township {name} ({best}); the text places it in {'、'.join(named)}",
            evidence=f'"{quoted}"; {"、".join(named)} named in the text')
    if len(cands) == 1:
        loc = idx.township(best)
        return LocalityResolution(
            locality=loc, reason=f"names the township {name} ({best}), the only one of that name",
            evidence=f'"{quoted}"')
    # a township report names its county by level alone (在市委、市政府的领导下: its county is a
    # 市; 区委、区政府: a 区): the one candidate whose county bears that suffix
    m = _COUNTY_BY_LEVEL.search(text_head) if text_head else None
    if m:
        fitting = [t for t in cands if idx.division(idx.township_parent(t)).level == "county"
                   and idx.division(idx.township_parent(t)).suffix == m.group(1)]
        if len(fitting) == 1:
            loc = idx.township(fitting[0])
            return LocalityResolution(
                locality=loc, reason=f"names the township {name} ({fitting[0]}); of the {len(cands)} of that "
                                     f"name only this one lies in a {m.group(1)}, as 「{m.group(0)}」 says",
                evidence=f'"{quoted}"; 「{m.group(0)}」')
    towns = [idx.township(t) for t in sorted(cands)]
    listed = ", ".join(f"{t.township_code} ({idx.describe(t.code)}{idx.division(t.code).name if t.county else ''})"
                       for t in towns[:6])
    return LocalityResolution(
        locality=None, candidates=towns,
        reason=f"ambiguous: {len(towns)} townships are called {name} ({listed}{' …' if len(towns) > 6 else ''}); "
               f"the text does not say which")


# What makes a township name in the body the author's (the genre of township reports and
# notices): its organ follows (下洋镇人民政府, 鼓楼街道办事处, 河市镇委员会) or it stands as the
# subject after the year (2025年,中村乡…), after 现将, in a slogan (法治中村 is handled by the
# county-level slogans only when the stem is a division).
# The voice of a township body in a report's opening: 街道党工委, 镇党委, 乡政府, 我镇 …
TOWNSHIP_VOICE = re.compile(r"(?:街道|[镇乡])(?:党工委|党委|人民政府|政府|办事处)|[我本全](?:镇|乡|街道)")


@lru_cache(maxsize=1)
def _town_organ_after() -> re.Pattern:
    """A township's organ after its name (ontology/places.ttl, kg:OrganWordScheme "township")."""
    return re.compile(alternation(cue_words("places.ttl", "OrganWordScheme", "township")))


def body_township(text: str, scores: Scores):
    """(name, quotation, county code or None) of the township the body speaks for, or None.

    Only names that the genre anchors count (see `_town_organ_after`, `self_reference`); a
    name right after a county or prefecture (达川区河市镇人民政府) comes with that parent."""
    idx = divisions()
    tally: dict[str, list] = {}
    for s, e, name in idx.scan_townships(text):
        organ = _town_organ_after().match(text, e)
        quote = self_reference(text, s, e)
        if not (organ or quote):
            continue
        q = text[s:organ.end()] if organ else quote
        # a county or prefecture name right before it: 达川区河市镇
        parent = None
        for c in _parents_before(text, s):
            under = idx.townships_under(c, name)
            if under:
                parent = c
                q = text[max(0, s - 8):organ.end() if organ else e]
                break
        entry = tally.setdefault(name, [0.0, q, None])
        entry[0] += 1.0
        if parent:
            entry[2] = parent
    for s, e, name in idx.scan_townships(text):
        if name not in tally:
            tally.setdefault(name, [0.0, text[s:e], None, 0])
        if len(tally[name]) == 4:
            tally[name][3] += 1
    tally = {n: v[:3] for n, v in tally.items() if len(v) == 3 or v[3] >= 2}
    if not tally:
        return None
    name, (weight, quote, parent) = max(tally.items(), key=lambda kv: (kv[1][2] is not None, kv[1][0]))
    return name, quote, parent


def _parents_before(text: str, s: int) -> list[str]:
    """Division codes whose name ends exactly at s (the county before a township)."""
    idx = divisions()
    out = []
    for n in range(2, min(idx.max_len, s) + 1):
        a = idx.aliases.get(text[s - n:s])
        if a is not None:
            out.extend(idx.every(a.text))
    return out


