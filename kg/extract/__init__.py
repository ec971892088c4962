"""Facts of one document: mechanism mentions with status, institutions and roles, quantities,
obligations and candidate terms. Plain data (kg.document), no RDF. One module per kind of fact
(mechanisms, institutions, quantities, obligations, candidates) over the clause and cue helpers
of `clauses`; `extract` runs them in turn.

Status of a mention
    The section's role sets the default — achievements and the duty-holder report are
    `implemented`, weaknesses `weakness`, plans `planned`, a requirement document's body
    `required`. The clause the mention stands in can override it: a weakness cue (不足, 有待
    …) makes it a weakness, a hedge (拟, 将进一步 …) or a plan cue makes it planned, a
    negation (未, 尚未 …) before the mention makes an achievement a weakness. Cue words are the
    kg:StatusCueScheme of ontology/kg.ttl.

三项制度 and its children
    A mention counts for the concept it names: 三项制度 → M01, 执法全过程记录 → M01b. The
    umbrella is not expanded into its children here (a report that says it "落实三项制度"
    has not said which parts), nor are children rolled up: the graph keeps skos:broader,
    and queries that ask for the umbrella follow it (queries/localities-implementing.rq).
"""
from __future__ import annotations

from .. import lexicon
from ..document import Document
from .candidates import find_candidates
from .clauses import Sentences
from .institutions import find_institutions
from .mechanisms import (ROLE_STATUS, cited_as_basis, find_mentions, mechanism_hits, mention_status,
                         on_the_agenda, retrospective_sentences, studied_title,
                         unconfirmed_heading_tasks_dropped, weak_context_holds)
from .obligations import find_obligations
from .quantities import cn_number, find_figures, find_quantities, quantity_subject

__all__ = ["ROLE_STATUS", "cited_as_basis", "cn_number", "extract", "facts_record", "find_candidates",
           "find_quantities", "mention_status", "on_the_agenda", "quantity_subject",
           "retrospective_sentences", "studied_title", "unconfirmed_heading_tasks_dropped",
           "weak_context_holds"]


def extract(doc: Document) -> Document:
    """Every fact of a structured document, one extractor per kind of fact."""
    sentences = Sentences(doc)
    # both matchers scan the text without quote marks: made once, dropped when done
    view = lexicon.match_view(doc.text)
    institution_hits = lexicon.institution_matcher().find(doc.text, view)
    hits = mechanism_hits(doc.text, view)
    del view
    mentions = find_mentions(doc, sentences, hits)
    doc.mechanisms = unconfirmed_heading_tasks_dropped(doc, mentions)
    # a figure or an obligation still goes to a heading's task the body does not confirm
    doc.institutions = find_institutions(doc, sentences, institution_hits)
    doc.quantities = find_figures(doc, mentions, doc.institutions)
    doc.obligations = find_obligations(doc, sentences, mentions)
    doc.candidates = find_candidates(doc)
    return doc


def facts_record(doc: Document) -> dict:
    """The facts as JSON-ready dicts, offsets into the source text."""
    def spanned(record: dict, fact) -> dict:
        """The record with the fact's source offsets as its last keys (start, then end)."""
        record["start"], record["end"] = doc.source_span(fact.start, fact.end)
        return record

    statuses = sorted({(m.notation, m.status) for m in doc.mechanisms})
    return {
        "mechanisms": [spanned({"notation": m.notation, "label": m.label, "status": m.status,
                                "matched": m.matched, "evidence": m.evidence}, m)
                       for m in doc.mechanisms],
        "mechanism_statuses": [{"notation": n, "status": s} for n, s in statuses],
        "institutions": [spanned({"kind": x.kind, "label": x.label, "name": x.name, "count": x.count,
                                  "unit": x.unit, "evidence": x.evidence}, x)
                         for x in doc.institutions],
        "quantities": [spanned({"subject": q.subject, "value": q.value, "unit": q.unit,
                                "qualifier": q.qualifier, "notation": q.notation,
                                "evidence": q.evidence}, q)
                       for q in doc.quantities],
        "obligations": [spanned({"addressee": o.addressee, "modality": o.modality, "notation": o.notation,
                                 "deadline": o.deadline, "evidence": o.evidence}, o)
                        for o in doc.obligations],
        "candidates": [{"term": c.term, "count": c.count} for c in doc.candidates],
    }
