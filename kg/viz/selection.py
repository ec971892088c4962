"""What to draw: the filters (region, mechanism, status), the node and edge caps."""
from __future__ import annotations

import networkx as nx

from .errors import VizError
from .nodes import broader_view, chain_up, mech_id, parent_map, parents
from .palette import STATUSES
from .source import named_rows

DEFAULT_MAX_NODES = 2000
DEFAULT_MAX_EDGES = 6000   # edges drawn at most: the whole of a 10,000-document store is a ~13 MB page
STRUCTURAL = ("located_in", "broader")


def resolve_region(region: str) -> str:
    """The locality node id a user means by `region` (name or code); VizError otherwise."""
    from .. import places
    try:
        return "loc:" + places.one_region(region).code
    except places.RegionError as e:
        raise VizError(str(e)) from None


def resolve_mechanism(store, mechanism: str) -> set:
    """The mechanism node ids `mechanism` (notation or label) stands for, narrower included."""
    rows = named_rows(store, "viz-mechanism-scope", {"mechanism": mechanism})
    if not rows:
        raise VizError(f"unknown mechanism {mechanism!r} (give a notation such as M01 or a label)")
    return {mech_id(r["m"]) for r in rows}


def select(G: nx.MultiDiGraph, region: str | None = None, mechanisms: set | None = None,
           status: str | None = None, max_nodes: int | None = DEFAULT_MAX_NODES) -> nx.MultiDiGraph:
    """The part of G the filters ask for, with its context (parent chains, broader chains).

    region: a locality node id; the localities under it (itself included) keep their edges, and
    the requirement documents issued there or above it. mechanisms: node ids to keep (narrower
    ones included by the caller). status: only assertion edges of that status. With a mechanism
    or status filter the view is about mechanisms: organizations and roles are left out.
    max_nodes: keep the highest-degree nodes.
    """
    if status is not None and status not in STATUSES:
        raise VizError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    under, above = _region_scope(G, region)
    keep_edges = _assertion_edges(G, mechanisms, status, under, above)
    nodes = {n for e in keep_edges for n in e[:2]}
    if mechanisms is None and status is None:
        nodes |= _places(G, under, above)
    # context: the parent chain of every locality, the broader chain of every mechanism
    parent = parent_map(G)
    for n in list(nodes):
        t = G.nodes[n]["type"]
        if t == "locality":
            nodes |= set(chain_up(parent, n))
        elif t == "mechanism":
            nodes |= nx.descendants(broader_view(G), n)
    if not nodes:
        raise VizError("the filters select nothing")
    H = nx.MultiDiGraph(**G.graph)       # weights and evidence, for cap_edges() and quote()
    H.add_nodes_from((n, G.nodes[n]) for n in sorted(nodes))     # an order that does not depend on G
    for u, v, k in keep_edges:
        H.add_edge(u, v, key=k, **G.edges[u, v, k])
    for u, v, k, d in G.edges(keys=True, data=True):
        if d["rel"] in ("located_in", "broader", "holds_role") and u in nodes and v in nodes:
            H.add_edge(u, v, key=k, **d)
    if max_nodes and H.number_of_nodes() > max_nodes:
        H = _highest_degree(H, max_nodes)
    return H


def _region_scope(G, region):
    """The localities under `region` (itself included) and above it; (None, set()) without one."""
    if region is None:
        return None, set()
    if region not in G:
        raise VizError(f"no document of {region.split(':', 1)[1]} or of any locality under it in the store")
    parent = parent_map(G)
    under = {region} | {n for n in G if G.nodes[n]["type"] == "locality" and region in chain_up(parent, n)}
    return under, set(parents(G, region))


def _assertion_edges(G, mechanisms, status, under, above) -> list:
    """The implements and requires edges the filters keep."""
    keep = []
    for u, v, k, d in G.edges(keys=True, data=True):
        if d["rel"] not in ("implements", "requires"):
            continue
        if status and d.get("status") != status:
            continue
        if mechanisms is not None and v not in mechanisms:
            continue
        if under is not None:
            if d["rel"] == "implements" and u not in under:
                continue
            if d["rel"] == "requires" and G.nodes[u].get("loc") not in under | above:
                continue
        keep.append((u, v, k))
    return keep


def _places(G, under, above) -> set:
    """Without a mechanism or status filter: the localities (under the region), their
    organizations with the roles they hold, and the requirement documents issued there or above."""
    locs = under if under is not None else {n for n in G if G.nodes[n]["type"] == "locality"}
    nodes = set(locs)
    for n in G:
        t = G.nodes[n]["type"]
        if t == "organization" and any(v in locs for v in G.successors(n)):
            nodes.add(n)
            nodes |= {v for v in G.successors(n) if G.nodes[v]["type"] == "role"}
        elif t == "requirement" and (under is None or G.nodes[n].get("loc") in under | above):
            nodes.add(n)
    return nodes


def _highest_degree(H, max_nodes: int) -> nx.MultiDiGraph:
    """H's `max_nodes` nodes of highest degree (ties by id), with the edges among them."""
    keep = set(sorted(H.nodes, key=lambda n: (-H.degree(n), n))[:max_nodes])
    # not H.subgraph(keep): its nodes come in the set's order, which string hashing makes
    # differ from run to run, and with them the page's layout and edge ids
    K = nx.MultiDiGraph(**H.graph)
    K.add_nodes_from((n, dict(d)) for n, d in H.nodes(data=True) if n in keep)
    K.add_edges_from((u, v, k, dict(d)) for u, v, k, d in H.edges(keys=True, data=True)
                     if u in keep and v in keep)
    return K


def cap_edges(G: nx.MultiDiGraph, max_edges: int | None = DEFAULT_MAX_EDGES) -> tuple[nx.MultiDiGraph, int]:
    """G with at most `max_edges` edges, and how many were left out. The structural edges
    (located in, broader: the trees the layout draws) are always kept; of the others
    (implements, requires, holds role) the heaviest: most documents, then most evidence
    sentences (ties by node ids). G itself when it has no more edges than that."""
    if not max_edges or G.number_of_edges() <= max_edges:
        return G, 0
    weight = G.graph.get("weight", {})
    edges = list(G.edges(keys=True))
    structural = [e for e in edges if G.edges[e]["rel"] in STRUCTURAL]
    others = sorted((e for e in edges if G.edges[e]["rel"] not in STRUCTURAL),
                    key=lambda e: (tuple(-x for x in weight.get(e, (0, 0))), e))
    keep = set(structural) | set(others[:max(0, max_edges - len(structural))])
    H = nx.MultiDiGraph(**G.graph)
    H.add_nodes_from(G.nodes(data=True))
    H.add_edges_from((u, v, k, d) for u, v, k, d in G.edges(keys=True, data=True) if (u, v, k) in keep)
    return H, G.number_of_edges() - H.number_of_edges()
