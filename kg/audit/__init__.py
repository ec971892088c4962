"""The audit: which required mechanisms a region reports, and on what evidence.

Requirement sets are the national baseline (kgr:baseline-2021, binding by level) and every
requirement document (doctype "notice") in the store, which binds its issuer's locality and every
locality under it. The SPARQL lives in queries/audit-*.rq; each returns a small result set and
Python combines them. Results are written back as kg:AuditRecord nodes in the graph AUDIT_GRAPH
only when asked (write=True).

The layers, each using only those before it:
- kg.audit.requirements: requirement sets, regions, which sets bind a region;
- kg.audit.evaluation: a region's rows (kg:AuditStatusScheme: implemented, partly, planned,
  weakness, not reported, no documents), missing first, and roll-ups;
- kg.audit.records: the DPV audit records written to the store;
- kg.audit.reported: what a region's documents report, mechanism by mechanism (a region's page);
- kg.audit.rendering: table, JSON, CSV, HTML and the matrix.
"""
from __future__ import annotations

from .. import collector, places
from ..rdf import KGL
from .evaluation import (AuditReport, Row, broader_notations, localities, quote_evidence,
                         region_documents, region_report, reports_by_requirement)
from .reported import mechanism_labels, reported_rows
from .records import AUDIT_GRAPH, COMPLIANCE, DPV, KGA, record_triples, write_records
from .rendering import (CSV_FIELDS, format_csv, format_html, format_html_matrix, format_json,
                        format_matrix_table, format_table, render, summary_counts)
from .requirements import (BASELINE, AuditError, ReqSet, choose_sets, requirement_sets,
                           resolve_region, title_or)

__all__ = ["AUDIT_GRAPH", "BASELINE", "COMPLIANCE", "CSV_FIELDS", "DPV", "KGA", "AuditError",
           "AuditReport", "ReqSet", "Row", "audit", "audit_all", "choose_sets", "format_csv",
           "format_html", "format_html_matrix", "format_json", "format_matrix_table", "format_table",
           "mechanism_labels", "quote_evidence", "record_triples", "region_documents", "render",
           "reported_rows", "requirement_sets", "resolve_region", "summary_counts", "title_or",
           "write_records"]


def audit(store, region: str, against: str = "applicable", *, write: bool = False,
          quotes: bool | int = True) -> AuditReport:
    """Audit one region (name or code) against its applicable sets, the baseline, one notice or all.

    quotes: which evidence sentences get their text read, as for `audit_all`: all (True), none
    (False) or the first n of each row — the table and the CSV show one, and a province's rows
    have thousands (reading them is most of its audit: ~0.45 s of 0.5 at 10,000 documents)."""
    loc = resolve_region(store, region)
    chosen, notes = choose_sets(store, loc, against)
    documents = region_documents(store, KGL + loc.code)
    with collector.paused():
        report = region_report(loc, chosen, notes,
                               reports_by_requirement(documents, broader_notations(store)),
                               localities(documents))
        quote_evidence(store, [report], quotes)
    if write:
        write_records(store, [report], replace_regions={report.iri})
    return report


def audit_all(store, against: str = "applicable", *, write: bool = False,
              quotes: bool | int = True) -> list[AuditReport]:
    """Every locality with documents × its requirements, from its documents' assertion indexes.

    quotes: which evidence sentences get their text read — all (True), none (False: "sentence"
    is None, the IRIs are there; for the matrix of statuses) or the first n of each row (the
    CSV shows one)."""
    with collector.paused():
        return _audit_all(store, against, write=write, quotes=quotes)


def _audit_all(store, against, *, write, quotes):
    sets = requirement_sets(store)
    by_loc: dict[str, list] = {}
    for d in region_documents(store):
        by_loc.setdefault(d["code"], []).append(d)
    broader = broader_notations(store)
    idx = places.divisions()
    reports = []
    for code in sorted(by_loc):
        loc = idx.by_code(code)
        if loc is None:
            continue
        mine = [d for d in by_loc[code] if d["locality"] == KGL + code]
        chosen, notes = choose_sets(store, loc, against, sets)
        reports.append(region_report(loc, chosen, notes, reports_by_requirement(mine, broader),
                                     localities(mine)))
    quote_evidence(store, reports, quotes)
    if write:
        write_records(store, reports, replace_all=True)
    return reports
