"""What the graph view reads from the store: the rows of its named queries (queries/viz-*.rq) and
the evidence sentences of posts. Sentence texts are read by kg.query.sentence_texts."""
from __future__ import annotations

from pyoxigraph import NamedNode

from ..query import bind_table, load_query, run_query
from ..rdf import KG
from ..store import Store

POST_BATCH = 2000      # posts per request to an endpoint (a VALUES table)


def named_rows(store, name: str, params=None) -> list[dict]:
    """The rows of the named query `name` as dicts; documents live in named graphs, so the
    query sees their union as its default graph."""
    return run_query(store, load_query(name), params, union_default_graph=True).to_dicts()


def post_evidence(store, graph_of: dict[str, str]) -> dict[str, list[str]]:
    """post IRI → the IRIs of its evidence sentences, each post read in its document's graph
    (`graph_of`: post → document): index look-ups in the embedded store, else
    queries/viz-post-evidence.rq bound to a table of posts."""
    out: dict = {}
    if isinstance(store, Store):
        evidence = NamedNode(KG + "evidence")

        def read(o):
            return [(p, q.object.value) for p, g in graph_of.items()
                    for q in o.quads_for_pattern(NamedNode(p), evidence, None, NamedNode(g))]
        pairs = store.read(read)
    else:
        sparql = load_query("viz-post-evidence").text
        posts = sorted(graph_of)
        pairs = []
        for i in range(0, len(posts), POST_BATCH):
            table = [(NamedNode(graph_of[p]), NamedNode(p)) for p in posts[i:i + POST_BATCH]]
            pairs += [(str(p), str(s)) for p, s in
                      run_query(store, bind_table(sparql, ("doc", "post"), table)).rows]
    for p, sentence in pairs:
        out.setdefault(p, []).append(sentence)
    return out
