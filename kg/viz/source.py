"""What the graph view reads from the store: the rows of its named queries (queries/viz-*.rq) and
the evidence sentences of posts. Sentence texts are read by kg.query.sentence_texts."""
from __future__ import annotations

from ..query import load_query, run_query
from ..rdf import KG


def named_rows(store, name: str, params=None) -> list[dict]:
    """The rows of the named query `name` as dicts; documents live in named graphs, so the
    query sees their union as its default graph."""
    return run_query(store, load_query(name), params, union_default_graph=True).to_dicts()


def post_evidence(store, graph_of: dict[str, str]) -> dict[str, list[str]]:
    """post IRI → the IRIs of its evidence sentences, each post read in its document's graph
    (`graph_of`: post → document): index look-ups in the embedded store, else
    queries/viz-post-evidence.rq bound to tables of posts (GraphStore.subject_values)."""
    out: dict = {}
    pairs = store.subject_values(graph_of, KG + "evidence", load_query("viz-post-evidence").text,
                                 ("doc", "post"))
    for p, sentence in pairs:
        out.setdefault(str(p), []).append(str(sentence))
    return out
