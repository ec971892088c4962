"""Evaluation: a region's rows — for each requirement that binds it, the status its documents
report (implemented, planned, a weakness, or nothing) and the sentences that say so, rolled up
over the localities under it (implemented where all of those with documents are, partly where
some are), or "no documents" where the store has none.

What a document reports is read from its assertion index (one row per document, see
kg.rdf.assertion_index_lines), each mechanism counting for its broader ones too; set differences
are computed here, never with FILTER NOT EXISTS.
"""
from __future__ import annotations

import heapq
import json
from collections.abc import Sequence
from dataclasses import dataclass

from pyoxigraph import NamedNode

from .. import places, rdf, statuses
from ..query import sentence_texts
from ..rdf import KGL, LEVEL, kg
from .requirements import named_rows


@dataclass
class Row:
    notation: str
    label: str
    requirement: str
    set: str
    set_key: str
    citation: str
    status: str                      # a notation of kg:AuditStatusScheme (kg.statuses.audit_statuses)
    evidence: Sequence               # [{document, sentence, iri, locality}] (Evidence): iri names the sentence
    covered: list                    # localities with documents that report it implemented
    missing: list                    # localities with documents that do not

    def to_dict(self) -> dict:
        return {"notation": self.notation, "label": self.label, "requirement": self.requirement,
                "set": self.set, "citation": self.citation, "status": statuses.get(self.status).label,
                "evidence": [{"document": e["document"], "sentence": e["sentence"]} for e in self.evidence],
                "localities": {"implemented": len(self.covered), "of": len(self.covered) + len(self.missing),
                               "covered": self.covered, "missing": self.missing}}


@dataclass
class AuditReport:
    region: str
    code: str
    level: str
    iri: str
    sets: list
    notes: list
    rows: list                       # missing first (kg.statuses.missing_first)
    rolled_up: list                  # names of localities with documents under the region
    documented: int = 0              # localities (the region and those under it) with documents
    undocumented: int = 0            # localities under the region (and it) with none

    def summary(self) -> dict[str, int]:
        """status → number of rows, missing first; statuses no row has are left out."""
        counts: dict[str, int] = {}
        for r in self.rows:
            counts[r.status] = counts.get(r.status, 0) + 1
        return {s: counts[s] for s in statuses.missing_first() if s in counts}

    def to_dict(self) -> dict:
        return {"region": self.region, "code": self.code, "level": self.level,
                "summary": {statuses.get(s).label: n for s, n in self.summary().items()},
                "localities": {"with_documents": self.documented, "without_documents": self.undocumented},
                "sets": [{"set": s.iri, "title": s.title, "document": s.document} for s in self.sets],
                "notes": self.notes, "rows": [r.to_dict() for r in self.rows]}


# ------------------------------------------------------------------ what the documents report

def broader_notations(store) -> dict[str, list[str]]:
    """notation → the notations it counts for (itself and every broader concept)."""
    def read():
        out: dict[str, list[str]] = {}
        for r in named_rows(store, "audit-broader"):
            out.setdefault(r["notation"], []).append(r["required"])
        return out
    return store.per_snapshot("audit.broader", read)


def region_documents(store, target: str | None = None) -> list[dict]:
    """The documents of `target` and of every locality under it, or every document with a
    locality: doc, document (source file), locality, code, place and index. A province's are
    read as the build kept them, when it did and the store has not changed since (one literal
    instead of two look-ups a document: the largest province's audit 55 → ~15 ms)."""
    if target is None:
        rows = named_rows(store, "audit-all-documents")
    else:
        kept = named_rows(store, "audit-kept-documents", {"target": NamedNode(target)})
        rows = ([{k: v for k, v in zip(("doc", "document", "locality", "index"), row) if v is not None}
                 for row in json.loads(kept[0]["rows"])] if kept
                else named_rows(store, "audit-documents", {"target": NamedNode(target)}))
    idx = places.divisions()
    names: dict[str, str] = {}          # code → name, looked up once per locality
    out = []
    for d in rows:
        code = d["locality"][len(KGL):].split("/", 1)[0]
        if code not in names:
            loc = idx.by_code(code)
            names[code] = loc.name if loc else code
        out.append({**d, "code": code, "place": names[code]})
    return out


def reports_by_requirement(documents, broader) -> dict[str, dict[str, list]]:
    """required notation → status → [((document, doc IRI, locality), spans)]: what the documents'
    assertion indexes report, each mechanism counting for its broader ones too; the spans as the
    index writes them (only the status a row shows needs its offsets, see `row_evidence`). A
    notice's own "required" is not a report."""
    reported = statuses.reported()
    out: dict[str, dict[str, list]] = {}
    # (notation, status) → the lists an index line of it goes to, one per notation it counts for
    # (none for a notice's "required"): looked up once, not per line of a province's ~18,000
    sinks: dict[tuple[str, str], list] = {}
    for d in documents:
        if not d.get("index"):
            continue
        source = (d["document"], d["doc"], d["locality"])
        # the index's lines split here (rdf.assertion_index_lines' format)
        for line in d["index"].split("\n"):
            notation, status, spans = line.split(" ", 2)
            lists = sinks.get((notation, status))
            if lists is None:
                lists = sinks[(notation, status)] = [] if status not in reported else [
                    out.setdefault(required, {}).setdefault(status, [])
                    for required in broader.get(notation, (notation,))]
            item = (source, spans)
            for found in lists:
                found.append(item)
    return out


class Evidence(Sequence):
    """A row's evidence sentences as dicts {document, sentence, iri, doc, locality}, in document
    and text order, a sentence that evidences several narrower mechanisms once; made when read.
    A province's rows hold ~20,000 sentences, of which a table quotes one a row and counts the
    rest: those are never made (largest province at 10,000 documents: −18% of its audit).
    The dicts, once made, are kept: quoting fills in their "sentence" in place."""

    def __init__(self, found):
        by_source: dict[tuple, list] = {}
        for source, spans in found:
            by_source.setdefault(source, []).append(spans)
        self._by_source = by_source
        # counted without parsing: one line's spans are distinct, several lines' spans are
        # merged as the strings the index writes (one writer, one way to write a span)
        self._len = sum(lines[0].count(" ") + 1 if len(lines) == 1 else len(set(" ".join(lines).split(" ")))
                        for lines in by_source.values())
        self._made: list[dict] = []
        self._next = self._dicts()

    def _dicts(self):
        # the sources in order as they are read: a heap, where sorting them all (a province's
        # row has hundreds) for the one a table quotes was a fifth of the audit
        heap = list(self._by_source)
        heapq.heapify(heap)
        while heap:
            source = heapq.heappop(heap)
            (document, doc, locality), lines = source, self._by_source[source]
            name = document.rsplit("/", 1)[-1]
            spans = lines[0].split(" ") if len(lines) == 1 else \
                [f"{s},{e}" for s, e in sorted({x for line in lines for x in rdf.index_spans(line)})]
            for span in spans:
                yield {"document": name, "sentence": None, "iri": f"{doc}#char={span}", "doc": doc,
                       "locality": locality}

    def _make(self, upto: int) -> None:
        while len(self._made) < upto:
            self._made.append(next(self._next))

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i):
        if isinstance(i, slice):
            wanted = range(*i.indices(self._len))
            self._make(max(wanted[0], wanted[-1]) + 1 if wanted else 0)
            return self._made[i]
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("evidence index out of range")
        self._make(i + 1)
        return self._made[i]

    def __iter__(self):
        self._make(self._len)
        return iter(self._made)

    def __reduce__(self):
        return list, (list(self),)       # pickled (to or from a worker) as the plain list


def row_evidence(found) -> Sequence:
    """The evidence of a row from its [((document, doc, locality), spans)] (`Evidence`)."""
    return Evidence(found) if found else []


def localities(documents) -> list[dict]:
    """Each (locality, document) of `documents` once: locality, code, place, document."""
    return list({(d["locality"], d["document"]): {k: d[k] for k in ("locality", "code", "place", "document")}
                 for d in documents}.values())


# ------------------------------------------------------------------ rows and reports

def row_status(by_status, places_, covering) -> tuple[str, list, list, list]:
    """A requirement's status, evidence and the `places_` (code, name) that implement it or not,
    from what their documents report (`by_status`, None: nothing) and the codes that implement
    it (`covering`). Over several localities a requirement is implemented only where every one
    of them is; where some are, it is partly implemented, on their evidence."""
    covered = [n for c, n in places_ if c in covering]
    missing = [n for c, n in places_ if c not in covering]
    if not places_:
        return statuses.NO_DOCUMENTS, [], [], []
    if by_status is None:       # the common row of a county: nothing reported
        return statuses.NOT_REPORTED, [], covered, missing
    if covered and missing:
        return statuses.PARTLY, row_evidence(by_status["implemented"]), covered, missing
    status = next((st for st in statuses.reported() if st in by_status), statuses.NOT_REPORTED)
    return status, row_evidence(by_status.get(status, ())), covered, missing


def region_rows(loc, chosen, reported, located) -> list[Row]:
    """A row for every requirement of the `chosen` sets that binds `loc`'s level: its status,
    evidence and the localities with documents under `loc` (and it) that implement it
    (`covered`) or not (`missing`); what is missing first."""
    level = kg(LEVEL.get(loc.level, "CountyLevel")).value
    places_ = sorted({(l["code"], l["place"]) for l in located})
    rows = []
    for s in chosen:
        for r in s.requirements:
            if r["levels"] is not None and level not in r["levels"]:
                continue
            by_status = reported.get(r["notation"])
            # the codes of the distinct localities (a province's row has thousands of items)
            covering = {code_of(loc) for loc in {source[2] for source, _ in (by_status or {}).get("implemented", ())}}
            status, evidence, covered, missing = row_status(by_status, places_, covering)
            rows.append(Row(r["notation"], r["label"], r["requirement"], s.iri, s.key, r["citation"],
                            status, evidence, covered, missing))
    order = {s: i for i, s in enumerate(statuses.missing_first())}
    return sorted(rows, key=lambda row: order[row.status])


def code_of(locality: str) -> str:
    """The division code of a locality IRI (kgl:371083, or an organ's kgl:371083/…)."""
    return locality[len(KGL):].split("/", 1)[0]


def localities_under(code: str) -> set[str]:
    """The codes of a division and of every division under it."""
    idx = places.divisions()
    out, todo = set(), [code]
    while todo:
        c = todo.pop()
        if c not in out:
            out.add(c)
            todo.extend(child.code for child in idx.children(c))
    return out


# Localities a roll-up's note names (a province has a hundred; each row names those lacking).
NOTE_NAMES = 12


def region_report(loc, chosen, notes, reported, located) -> AuditReport:
    """The report of `loc`: its rows, and notes on what it was rolled up over. The roll-up's
    denominator is the localities with documents (a locality with none can be judged neither
    way); those with none are counted apart."""
    documented = sorted({(l["code"], l["place"]) for l in located})
    sub = [n for c, n in documented if c != loc.code]
    undocumented = len(localities_under(loc.code) - {c for c, _ in documented})
    notes = list(notes)
    if not located:
        notes.append(f"no documents: no document of {loc.name} or of any locality under it is in "
                     "the store; nothing is said about its compliance")
    elif sub:
        named = ", ".join(n for _, n in documented[:NOTE_NAMES]) + \
            (f" and {len(documented) - NOTE_NAMES} more" if len(documented) > NOTE_NAMES else "")
        notes.append(f"{loc.name}: rolled up over {len(documented)} localities with documents "
                     f"({named}); {undocumented} localities (it or under "
                     "it) have none and are not counted; a requirement is implemented only where "
                     "all of those with documents report it")
    return AuditReport(loc.name, loc.code, loc.level, KGL + loc.code, chosen, notes,
                       region_rows(loc, chosen, reported, located), sub,
                       len(documented), undocumented)


def quote_evidence(store, reports, quotes: bool | int = True) -> None:
    """Fill in the text ("sentence") of the evidence sentences of `reports`, in place: all of
    them (True), none (False) or the first `quotes` of each row."""
    if quotes is False:
        return
    per_row = None if quotes is True else quotes
    pending: dict[str, list] = {}
    for rep in reports:
        for r in rep.rows:
            for e in r.evidence[:per_row]:
                if e["sentence"] is None:
                    pending.setdefault(e["iri"], []).append(e)
    for sentence, text in sentence_texts(store, {s: found[0]["doc"] for s, found in pending.items()}):
        for e in pending[sentence]:
            e["sentence"] = text
