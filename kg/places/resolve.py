"""The rules that pick a document's locality: forced by an override, named by its organ or
title, spoken by its body (a township's, a province's, a central organ's voice), or named
there often and consistently enough — else no locality, with the candidates and a reason."""
from __future__ import annotations

import re
from functools import lru_cache

from ..document import LocalityResolution
from ..read.cues import alternation, cue_words
from .mentions import (ADDRESSEE_CHARS, HEAD_CHARS, YEAR_BEFORE, Scores, addressee_spans, ambiguous, level_hint,
                       pick_from_body, scan_body, score)
from .organs import from_organ, organ_sources
from .overrides import forced
from .table import divisions, nation
from .townships import TOWNSHIP_VOICE, body_township, locality_with_township, lone_township


@lru_cache(maxsize=1)
def _province_voice() -> re.Pattern:
    """A provincial government speaking: 省政府坚持…, 在省委坚强领导下, 全省经济社会…
    (ontology/places.ttl, kg:ProvinceVoiceScheme)."""
    return re.compile("|".join(map(re.escape, cue_words("places.ttl", "ProvinceVoiceScheme"))))


@lru_cache(maxsize=1)
def _issued() -> re.Pattern:
    """A central document issued (ontology/places.ttl, kg:IssuingVerbScheme: 印发了, 出台了 …)."""
    return re.compile(r"[、，,和及\s]*(?:联合)?" + alternation(cue_words("places.ttl", "IssuingVerbScheme")))


def _central_in_body(text: str) -> str | None:
    """A central organ issuing, or a nationwide addressee, in a document's opening (news of
    a central document; a central organ's notice). 按照中共中央、国务院印发的《纲要》 — a local
    document citing it — says 印发的, not 印发了/印发《, and does not count."""
    head = text[:ADDRESSEE_CHARS]
    for word in cue_words("places.ttl", "NationalAddresseeScheme"):
        i = head.find(word)
        if i >= 0:
            return head[max(0, i - 4):i + len(word) + 8].strip()
    organs = cue_words("places.ttl", "CentralOrganScheme")
    for m in re.finditer("|".join(map(re.escape, organs)), head):
        e = m.end()
        # 中共中央办公厅、国务院办公厅印发了: the organ's own office, then more organs
        tail = re.match(r"[\u4e00-\u9fff]{0,4}?(?:办公厅|办公室)?(?:[、，,和及]\s*(?:"
                        + "|".join(map(re.escape, organs)) + r")[\u4e00-\u9fff]{0,4}?(?:办公厅|办公室)?)*", head[e:])
        end = e + (tail.end() if tail else 0)
        if _issued().match(head, end):
            return head[m.start():end + 3]
        y = YEAR_BEFORE.search(head, max(0, m.start() - 14), m.start())
        if y and y.end() == m.start() and not _CENTRAL_BRANCH.match(head, e):
            return head[y.start():e].strip("\n。；; ")     # 2022年,司法部坚持…: the organ speaks
    return None


# 国家税务总局乳山市税务局: a central organ's local branch
_CENTRAL_BRANCH = re.compile(r"[\u4e00-\u9fff]{0,3}?(?:省|市|县|区|州)")


def _common_province(scores: Scores) -> str | None:
    """The province of every division the text names (if one, and named at least twice)."""
    idx = divisions()
    provs = set()
    for c in scores.base:
        chain = idx.ancestors(c) + [c]
        provs.add(chain[0])
    if len(provs) == 1 and sum(scores.count.values()) >= 2:
        return provs.pop()
    return None


def _addressed_superior(text: str, code: str) -> tuple[str, str] | None:
    """(addressee, self word) when an addressee line at the top names a division above `code`
    and the text speaks (我市/我县/全区) at `code`'s level."""
    idx = divisions()
    d = idx.division(code)
    selfm = re.search(r"[我本全]" + re.escape(d.suffix) + r"(?![场民长委级直属])", text)
    if not selfm:
        return None
    for a, b in addressee_spans(text):
        for s, e, alias in idx.scan(text[a:b]):
            for c in alias.codes:
                if idx.is_ancestor(c, code):
                    return text[a:b].strip(), selfm.group(0)
    return None


def resolve_locality(text: str, *, organ: str | None = None, title: str | None = None,
                     header: dict | None = None) -> LocalityResolution:
    """The administrative division a document is about (normally: its author's).

    `--locality` (set_override) and a MANIFEST's locality (header["locality"]) come first."""
    found = forced(header)
    if found is not None:
        return found
    text = text or ""
    scores = score(scan_body(text))
    found, central, township = from_organ(organ_sources(text, organ, title, header), scores)
    if found is not None:
        return found
    hint = level_hint(text)
    code, twins = pick_from_body(scores, hint)
    if township is None and central is None and (
            code is None or hint in ("镇", "乡") or scores.count.get(code, 0) < 2
            or TOWNSHIP_VOICE.search(text[:HEAD_CHARS])):
        found = _own_township(text, scores, code)
        if found is not None:
            return found
    if twins:
        return ambiguous(twins)
    own_voice = code is not None and bool(scores.self_refs.get(code))
    found = _by_voice(text, scores, code, hint, central, township, own_voice)
    if found is None:
        found = _weakly_named(text, scores, code, hint, township, own_voice)
    return found if found is not None else _named(scores, code, township, own_voice)


def _own_township(text: str, scores: Scores, code: str | None) -> LocalityResolution | None:
    """A township's report or notice that names itself only in the body."""
    idx = divisions()
    body_town = body_township(text, scores)
    if body_town is None:
        return None
    name, quote, parent = body_town
    if parent is not None:
        loc = locality_with_township(parent, name)
        return LocalityResolution(
            locality=loc, reason=f"the text names the township {name} ({loc.township_code}) as its own",
            evidence=f'"{quote}"')
    under = [t for t in (idx.townships_under(code, name) if code else [])]
    if len(under) == 1:
        loc = idx.township(under[0])
        return LocalityResolution(
            locality=loc, reason=f"the text names the township {name} ({under[0]}) as its own; "
                                 f"it lies in {idx.division(code).name}, also named",
            evidence=f'"{quote}"')
    return lone_township(name, quote, scores, text[:ADDRESSEE_CHARS])


def _by_voice(text, scores: Scores, code, hint, central, township, own_voice) -> LocalityResolution | None:
    """The nation for a central organ's document, a township named without its county, or the
    province a provincial government's report speaks for."""
    idx = divisions()
    passing = code is None or (not own_voice and scores.count[code] < 2)
    if central is None and passing:
        # news of a central document (近日，中共中央办公厅、国务院办公厅印发了《…》) or a
        # document sent to every province (各省、自治区、直辖市人民政府…): nationwide
        central = _central_in_body(text)
    if central is not None and not own_voice:
        return LocalityResolution(locality=nation(), reason="issued by a central organ",
                                  evidence=f'organ "{central}"')
    if township and (code is None or idx.division(code).level != "county"
                     or not idx.townships_under(code, township[0])):
        lone = lone_township(township[0], township[1], scores, text[:ADDRESSEE_CHARS])
        if lone is not None:
            return lone
    if (hint == "省" or len(_province_voice().findall(text[:ADDRESSEE_CHARS * 2])) >= 2) and (
            code is None or scores.count[code] < 2):
        # a provincial government's report that speaks only of 全省/省委/省政府: the one
        # province every division it names lies in
        prov = _common_province(scores)
        if prov is not None:
            loc = idx.locality(prov)
            named = sorted({idx.division(c).name for c in scores.base})
            return LocalityResolution(
                locality=loc, reason=f"the text speaks as a province (我省/全省/省委) and every division it "
                                     f"names lies in {loc.name}",
                evidence=f"speaks as 省; names {'、'.join(named[:4])}")
    return None


def _weakly_named(text, scores: Scores, code, hint, township, own_voice) -> LocalityResolution | None:
    """No locality, with the reason, when the body names no division, or one only in passing
    (unless the report is addressed to that division's superior)."""
    idx = divisions()
    if code is None:
        if township:
            return LocalityResolution(
                locality=None, reason=f"the organ names the township {township[0]}, "
                                      f"but the text names no county it could lie in")
        return LocalityResolution(locality=None, reason="no administrative division named in the text")
    if (not own_voice and hint in ("市", "县", "区", "旗") and idx.division(code).level == "province"
            and idx.division(code).suffix != hint):
        # a county or city document (我区/全区, 结合我县实际) that names only its province, in
        # the titles of provincial rules it cites: the province is not its place
        name = idx.division(code).name
        return LocalityResolution(
            locality=None, candidates=[idx.locality(code)],
            reason=f"the text speaks as a {hint} but names only {name}; not enough to say which {hint}")
    if not own_voice and scores.count[code] < 2:
        name = idx.division(code).name
        superior = _addressed_superior(text, code)
        if superior is not None:
            # a report sent up (河北省人民政府：… 我市 …) that names, once, a division under the
            # addressee at the level it speaks as: its own
            loc = idx.locality(code)
            return LocalityResolution(
                locality=loc, reason=f"the report is addressed to {superior[0]} and speaks as {superior[1]}; "
                                     f"{name} ({code}) is the one such division it names",
                evidence=f'addressee "{superior[0]}"; {name} named once')
        return LocalityResolution(
            locality=None, candidates=[idx.locality(code)],
            reason=f"only a passing mention of {name}; not enough to call it the document's place")
    return None


def _named(scores: Scores, code: str, township, own_voice: bool) -> LocalityResolution:
    """The division the body names as its own (or often, under its named superiors); a
    township organ's township under it."""
    idx = divisions()
    loc = idx.locality(code)
    if own_voice:
        evidence = f'self-reference "{scores.self_refs[code][0]}"'
    else:
        evidence = f"named {scores.count[code]}× in the text"
        if loc.level != "province":
            above = [idx.division(a).name for a in idx.ancestors(code) if a in scores.base]
            if above:
                evidence += f" (under {'、'.join(above)}, also named)"
    if township and loc.level == "county":
        # the organ is a township; the body tells the county it belongs to
        loc = locality_with_township(code, township[0])
        code9 = f" ({loc.township_code})" if getattr(loc, "township_code", "") else ""
        return LocalityResolution(
            locality=loc, reason=f"organ names the township {loc.name}{code9}; the text places it in {loc.county}",
            evidence=f'organ "{township[1]}"; county by {evidence}')
    return LocalityResolution(locality=loc, reason=f"the text names {loc.name} ({loc.code}) as its own",
                              evidence=evidence)
