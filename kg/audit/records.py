"""Audit records: a report's rows written back to the store as kg:AuditRecord nodes, with a W3C
DPV compliance status, in the graph AUDIT_GRAPH.
"""
from __future__ import annotations

from pyoxigraph import NamedNode

from ..rdf import BASE, RDF_TYPE, kg

AUDIT_GRAPH = BASE + "audit"
KGA = BASE + "audit/"
DPV = "https://w3id.org/dpv#"
# A region with no documents is not non-compliant: nothing is known (dpv:ComplianceUnknown).
COMPLIANCE = {"implemented": "Compliant", "partly": "PartiallyCompliant", "planned": "PartiallyCompliant",
              "weakness": "PartiallyCompliant", "none": "NonCompliant", "nodocs": "ComplianceUnknown"}


def record_triples(report):
    """The triples of the records of `report`: one record per row, with its evidence."""
    region = NamedNode(report.iri)
    for r in report.rows:
        node = NamedNode(f"{KGA}{report.code}-{r.set_key}-{r.notation}")
        yield node, RDF_TYPE, kg("AuditRecord")
        yield node, kg("auditOf"), region
        yield node, kg("auditRequirement"), NamedNode(r.requirement)
        yield node, kg("complianceStatus"), NamedNode(DPV + COMPLIANCE[r.status])
        for e in r.evidence:
            yield node, kg("evidence"), NamedNode(e["iri"])


def write_records(store, reports, *, replace_regions=frozenset(), replace_all=False) -> int:
    """Replace the regions' audit records in AUDIT_GRAPH, keeping every other region's (all of
    them with `replace_all`). On a remote store the graph is read and written back whole."""
    new = sorted({t for rep in reports for t in record_triples(rep)}, key=str)
    if replace_all:
        return store.replace_graph(AUDIT_GRAPH, new)
    return store.replace_subjects(AUDIT_GRAPH, kg("auditOf").value,
                                  [NamedNode(r) for r in sorted(replace_regions)], new)
