"""The graph's node ids (a prefix and the IRI's local name) and its trees: localities located in
their parents, mechanisms under their broader ones."""
from __future__ import annotations

import networkx as nx

from ..rdf import KG, KGD, KGI, KGL, KGM, KGO

LEVEL_TEXT = {"ProvinceLevel": "province", "PrefectureLevel": "prefecture", "CountyLevel": "county",
              "TownshipLevel": "township", "NationLevel": "nation"}


def local_name(iri, base: str) -> str:
    """`iri` without the namespace `base` (the whole IRI when it is not in it)."""
    s = str(iri)
    return s[len(base):] if s.startswith(base) else s


def loc_id(iri) -> str:
    return "loc:" + local_name(iri, KGL)


def mech_id(iri) -> str:
    return "m:" + local_name(iri, KGM)


def kind_id(iri) -> str:
    return "role:" + local_name(iri, KGI)


def org_id(iri) -> str:
    return "org:" + local_name(iri, KGO)


def doc_id(iri) -> str:
    return "doc:" + local_name(iri, KGD)


def level_of(iri) -> str:
    return local_name(iri, KG)


def parents(G, n) -> list:
    """The localities `n` is located in, nearest first. (Read from the adjacency itself: it is
    asked for every locality of a 10,000-document store, where an edge view per step costs.)"""
    out, seen = [], {n}
    succ, nodes = G.succ, G.nodes
    cur = n
    while True:
        nxt = [v for v, keyed in succ[cur].items()
               if any(ed.get("rel") == "located_in" for ed in keyed.values()) and nodes[v]["type"] == "locality"]
        if not nxt or nxt[0] in seen:
            return out
        cur = nxt[0]
        seen.add(cur)
        out.append(cur)


def parent_map(G) -> dict:
    """node → the locality it is located in (the one parents() follows), for every node of G
    located in one: read from one pass over the edges, where parents() looks at every
    neighbour of each node it visits (a locality of a 10,000-document store has ~50)."""
    out: dict = {}
    types = {n: d.get("type") for n, d in G.nodes(data=True)}
    for u, v, d in G.edges(data=True):
        if u not in out and d.get("rel") == "located_in" and types[v] == "locality":
            out[u] = v
    return out


def chain_up(parent: dict, n) -> list:
    """parents() of `n` from a parent_map()."""
    out, seen = [], {n}
    cur = n
    while cur in parent and parent[cur] not in seen:
        cur = parent[cur]
        seen.add(cur)
        out.append(cur)
    return out


def broader_view(G):
    """G with its broader edges only (mechanism → broader mechanism)."""
    return nx.subgraph_view(G, filter_edge=lambda u, v, k: G.edges[u, v, k]["rel"] == "broader")
