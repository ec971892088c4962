"""Evaluation: a region's rows — for each requirement that binds it, the status its documents
report (implemented, only planned, a weakness, or nothing) and the sentences that say so, rolled
up over the localities under it.

What a document reports is read from its assertion index (one row per document, see
kg.rdf.assertion_index_lines), each mechanism counting for its broader ones too; set differences
are computed here, never with FILTER NOT EXISTS.
"""
from __future__ import annotations

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
    status: str                      # implemented | planned | weakness | none (kg:AuditStatusScheme)
    evidence: list                   # [{document, sentence, iri, locality}]: iri names the sentence
    covered: list
    missing: list

    def to_dict(self) -> dict:
        return {"notation": self.notation, "label": self.label, "requirement": self.requirement,
                "set": self.set, "citation": self.citation, "status": statuses.get(self.status).label,
                "evidence": [{"document": e["document"], "sentence": e["sentence"]} for e in self.evidence],
                "localities": {"covered": self.covered, "missing": self.missing}}


@dataclass
class AuditReport:
    region: str
    code: str
    level: str
    iri: str
    sets: list
    notes: list
    rows: list
    rolled_up: list                  # names of localities with documents under the region

    def to_dict(self) -> dict:
        return {"region": self.region, "code": self.code, "level": self.level,
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
    locality: doc, document (source file), locality, code, place and index."""
    rows = (named_rows(store, "audit-documents", {"target": NamedNode(target)}) if target is not None
            else named_rows(store, "audit-all-documents"))
    idx = places.divisions()
    out = []
    for d in rows:
        code = d["locality"][len(KGL):].split("/", 1)[0]
        loc = idx.by_code(code)
        out.append({**d, "code": code, "place": loc.name if loc else code})
    return out


def reports_by_requirement(documents, broader) -> dict[str, dict[str, list]]:
    """required notation → status → [((document, doc IRI, locality), spans)]: what the documents'
    assertion indexes report, each mechanism counting for its broader ones too; the spans as the
    index writes them (only the status a row shows needs its offsets, see `row_evidence`). A
    notice's own "required" is not a report."""
    reported = statuses.reported()
    out: dict[str, dict[str, list]] = {}
    for d in documents:
        if not d.get("index"):
            continue
        source = (d["document"], d["doc"], d["locality"])
        for notation, status, spans in rdf.assertion_index_lines(d["index"]):
            if status not in reported:
                continue
            for required in broader.get(notation, (notation,)):
                out.setdefault(required, {}).setdefault(status, []).append((source, spans))
    return out


def row_evidence(found) -> list[dict]:
    """The evidence dicts of a row from its [((document, doc, locality), spans)]: in document
    and text order, a sentence that evidences several narrower mechanisms quoted once."""
    if not found:
        return []
    by_source: dict[tuple, list] = {}
    for source, spans in found:
        by_source.setdefault(source, []).append(spans)
    out = []
    for document, doc, locality in sorted(by_source):
        name = document.rsplit("/", 1)[-1]
        out.extend({"document": name, "sentence": None, "iri": iri, "doc": doc, "locality": locality}
                   for iri in rdf.index_sentence_iris(doc, *by_source[document, doc, locality]))
    return out


def localities(documents) -> list[dict]:
    """Each (locality, document) of `documents` once: locality, code, place, document."""
    return list({(d["locality"], d["document"]): {k: d[k] for k in ("locality", "code", "place", "document")}
                 for d in documents}.values())


# ------------------------------------------------------------------ rows and reports

def region_rows(loc, chosen, reported, located) -> list[Row]:
    """A row for every requirement of the `chosen` sets that binds `loc`'s level: its status,
    evidence and the localities under `loc` that implement it (`covered`) or not (`missing`)."""
    level = kg(LEVEL.get(loc.level, "CountyLevel")).value
    names = sorted({(l["code"], l["place"], l["locality"]) for l in located})
    order = statuses.reported()
    rows = []
    for s in chosen:
        for r in s.requirements:
            if r["levels"] is not None and level not in r["levels"]:
                continue
            by_status = reported.get(r["notation"])
            if by_status is None:       # the common row of a county: nothing reported
                status, evidence = statuses.NOT_REPORTED, []
                covered, missing = [], [n for _, n, _ in names]
            else:
                status = next((st for st in order if st in by_status), statuses.NOT_REPORTED)
                evidence = row_evidence(by_status.get(status, ()))
                covering = {source[2] for source, _ in by_status.get("implemented", ())}
                covered = [n for _, n, iri in names if iri in covering]
                missing = [n for _, n, iri in names if iri not in covering]
            rows.append(Row(r["notation"], r["label"], r["requirement"], s.iri, s.key, r["citation"],
                            status, evidence, covered, missing))
    return rows


def region_report(loc, chosen, notes, reported, located) -> AuditReport:
    """The report of `loc`: its rows, and notes on what it was rolled up over."""
    iri = KGL + loc.code
    sub = sorted({l["place"] for l in located if l["locality"] != iri})
    notes = list(notes)
    if not located:
        notes.append(f"note: no document of {loc.name} or of any locality under it is in the store")
    elif sub:
        only = " (the only locality under it with documents)" if len(sub) == 1 else \
            f" ({len(sub)} localities under it with documents)"
        notes.append(f"{loc.name}: rolled up over {', '.join(sub)}{only}")
    return AuditReport(loc.name, loc.code, loc.level, iri, chosen, notes,
                       region_rows(loc, chosen, reported, located), sub)


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
