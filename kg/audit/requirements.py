"""Requirement sets: the national baseline and the requirement documents, and which of them bind
a region.

The baseline (kgr:baseline-2021) binds every locality by its level; a requirement document
(doctype "notice") binds its issuer's locality and every locality under it. Both are read with
the named queries audit-baseline and audit-notices.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from .. import places
from ..catalog import graph_of_document
from ..errors import KgError
from ..query import load_query, run_query
from ..rdf import BASE, KGL

BASELINE = BASE + "requirement/baseline-2021"
BASELINE_KEY = "baseline-2021"
BASELINE_TITLE = "法治政府建设实施纲要(2021—2025年)"


class AuditError(KgError):
    """A region or requirement set that cannot be audited; the message says why."""


@dataclass
class ReqSet:
    key: str                 # short id used in record IRIs: baseline-2021 or the document hash
    iri: str
    title: str
    document: str | None = None      # source file of a notice
    issuer: str | None = None        # locality IRI of a notice's issuer
    issuer_name: str | None = None
    requirements: list = field(default_factory=list)   # dicts: requirement, notation, label, citation, levels


def title_or(s: ReqSet) -> str:
    return s.title or (s.document or s.iri)


def named_rows(store, name: str, params: dict | None = None) -> list[dict]:
    """The rows of a named query (queries/<name>.rq) over the union of the store's graphs."""
    return run_query(store, load_query(name), params, union_default_graph=True).to_dicts()


# ------------------------------------------------------------------ regions

def resolve_region(store, region: str):
    """The one division a user means by `region` (name or code); AuditError otherwise, with the
    closest names when it names none."""
    try:
        return places.one_region(region)
    except places.RegionError as e:
        if e.candidates:
            raise AuditError(str(e)) from None
        close = _closest_names(store, region)
        raise AuditError(f"{e}; closest: {', '.join(close) if close else '—'}") from None


def _closest_names(store, region: str) -> list[str]:
    """Up to six names of divisions or of the store's localities that `region` may mean: those it
    contains or that share its first two characters, then the most alike."""
    names = {l.name for l in places.all_localities() if l}
    names |= {r["place"] for r in named_rows(store, "audit-localities")}
    q = "".join(region.split())
    inside = sorted((n for n in names if len(n) >= 3 and (n in q or n[:2] == q[:2])),
                    key=lambda n: (n not in q, -len(n), n))
    return list(dict.fromkeys(inside[:5] + difflib.get_close_matches(q, sorted(names), n=5, cutoff=0.3)))[:6]


def ancestors(loc) -> set[str]:
    """The locality IRIs of `loc` and of every division above it."""
    return {KGL + loc.code} | {KGL + p.code for p in places.divisions().parents(loc.code)}


# ------------------------------------------------------------------ requirement sets

def requirement_sets(store) -> list[ReqSet]:
    """The baseline and every notice of the store, with their requirements (read once per
    snapshot of a read-only store: a server audits region after region against the same sets)."""
    return store.per_snapshot("audit.requirement_sets", lambda: [baseline(store)] + notices(store))


def baseline(store) -> ReqSet:
    """The national baseline: each requirement with the levels it binds."""
    base = ReqSet(BASELINE_KEY, BASELINE, BASELINE_TITLE)
    by_req: dict[str, dict] = {}
    for r in named_rows(store, "audit-baseline"):
        d = by_req.setdefault(r["requirement"], {"requirement": r["requirement"], "notation": r["notation"],
                                                 "label": r["mechanism"], "citation": r.get("citation") or "",
                                                 "levels": set()})
        d["levels"].add(r["level"])
    base.requirements = sorted(by_req.values(), key=lambda d: d["notation"])
    return base


def notices(store) -> list[ReqSet]:
    """Every requirement document of the store with its required mechanisms, by source file."""
    found: dict[str, ReqSet] = {}
    for r in named_rows(store, "audit-notices"):
        s = found.get(r["doc"])
        if s is None:
            title = r.get("title") or r["document"].rsplit("/", 1)[-1]
            s = found[r["doc"]] = ReqSet(r["doc"].rsplit("/", 1)[-1], r["doc"], title, r["document"],
                                         r.get("issuer"), r.get("place"))
        s.requirements.append({"requirement": r["requirement"], "notation": r["notation"],
                               "label": r["mechanism"], "citation": f"{title_or(s)} ({s.document})",
                               "levels": None})
    return sorted(found.values(), key=lambda s: s.document or "")


def applies(s: ReqSet, loc) -> bool:
    """Whether `s` binds `loc`: the baseline binds every locality, a notice its issuer's and
    every one under it."""
    if s.iri == BASELINE:
        return True
    return s.issuer is not None and s.issuer in ancestors(loc)


def choose_sets(store, loc, against: str, sets=None):
    """(sets, notes) to audit `loc` against: "applicable", "baseline", "all" or one notice (its
    file name, path or graph IRI)."""
    sets = sets if sets is not None else requirement_sets(store)
    notes = []
    a = (against or "applicable").strip()
    if a == "applicable":
        chosen = [s for s in sets if applies(s, loc)]
    elif a == "baseline":
        chosen = [sets[0]]
    elif a == "all":
        chosen = list(sets)
    else:
        chosen = [find_set(store, sets, a)]
    for s in chosen:
        if not applies(s, loc):
            notes.append(f"note: {title_or(s)} ({s.document}) was issued for {s.issuer_name or 'an unknown locality'}; "
                         f"it is applied to {loc.name} outside its issuer's jurisdiction")
    return chosen, notes


def find_set(store, sets, against: str) -> ReqSet:
    """The notice among `sets` that `against` names (file name, path or graph IRI)."""
    try:
        graph = graph_of_document(store, against)
    except LookupError as e:
        raise AuditError(f"no requirement set {against!r}: {e}; use applicable, baseline, all, "
                         f"or a notice's file name") from None
    for s in sets:
        if s.iri == graph:
            return s
    raise AuditError(f"{against!r} is not a requirement document (doctype notice) with required mechanisms")
