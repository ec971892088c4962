"""What a region's documents report, mechanism by mechanism: one row per assertion (mechanism
and status of a document) with its place and the first of its evidence sentences, as the
named query locality-mechanisms answers, read from the documents' assertion indexes (one row
per document: region_documents) so that a province's ~11,000 assertions cost no row each in
the store. Texts are read for the rows a page quotes only (`quote`: the first n of each
mechanism); the others have evidence None.
"""
from __future__ import annotations

from .. import rdf
from ..query import sentence_texts
from .requirements import named_rows


def mechanism_labels(store) -> dict[str, str]:
    """notation → zh label of every mechanism of the scheme (queries/audit-mechanisms.rq)."""
    return store.per_snapshot("audit.mechanism-labels", lambda: {
        str(r["notation"]): str(r["label"]) for r in named_rows(store, "audit-mechanisms")})


def reported_rows(store, documents, quote: int | None = None) -> list[dict]:
    """The assertions of `documents` (as region_documents gives them) as rows of notation,
    mechanism, status, place, document and evidence (the text of the assertion's first sentence
    in the document, as locality-mechanisms quotes it), ordered by place, notation, status and
    document; evidence is read for the first `quote` rows of each mechanism (all when None)."""
    labels = mechanism_labels(store)
    rows = []
    for d in documents:
        if not d.get("index"):
            continue
        for notation, status, spans in rdf.assertion_index_lines(d["index"]):
            if notation in labels:
                rows.append({"notation": notation, "mechanism": labels[notation], "status": status,
                             "place": d["place"], "document": d["document"], "evidence": None,
                             "sentences": rdf.index_sentence_iris(d["doc"], spans), "doc": d["doc"]})
    rows.sort(key=lambda r: (r["place"], r["notation"], r["status"], r["document"]))
    shown, seen = [], {}
    for r in rows:
        seen[r["notation"]] = seen.get(r["notation"], 0) + 1
        if quote is None or seen[r["notation"]] <= quote:
            shown.append(r)
    # the index lists a line's sentences in text order: only the first one's text is read
    texts = dict(sentence_texts(store, {r["sentences"][0]: r["doc"] for r in shown}))
    for r in shown:
        r["evidence"] = texts.get(r["sentences"][0])
    return rows
