"""kg viz: the graph as one self-contained, interactive HTML page (networkx + pyvis).

Data flows one way, one module a step:
    graph: queries/viz-*.rq rows → build_graph() (a networkx MultiDiGraph, typed nodes and edges;
    for --region only the region's part, from queries/viz-region-*.rq) → selection: select()
    (region / mechanism / status filters, --max-nodes) → cap_edges() (max_edges: the heaviest
    edges) → quotes: quote() (the evidence texts of what is drawn) → positions: layout()
    (precomputed positions) → page: render() (pyvis page, made offline, with legend, search and
    status filter; its stylesheet and script are static/graph.css and static/graph.js).
The default view (bipartite: bipartite()) keeps of the selection the localities and the
mechanisms they implement, one edge a pair, laid out by bipartite_layout(); --view full draws
the selection itself. The default view of the whole store, when it groups localities (by
prefecture or province: a large store), is drawn from the groups the build kept (kept:
kept_view(), kg.viewgroups) instead of from every document: the same view, read in ~0.1 s where
the documents took ~2.5 s at 10,000 documents.

Colours and shapes are in palette; tooltips in tips; every text from a document is escaped by
text.escape() before it enters one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from .. import collector
from .bipartite import AGGREGATE_ABOVE, AGGREGATE_EDGES, bipartite
from .errors import VizError
from .graph import build_graph
from .kept import kept_view
from .nodes import LEVEL_TEXT, doc_id, kind_id, loc_id, mech_id, org_id
from .page import check_offline, network, render
from .palette import EDGE_TYPES, NODE_TYPES, STATUS_COLOR, STATUSES, STRUCTURAL_COLOR
from .positions import SMALL_GRAPH, bipartite_layout, layout, radial_layout
from .quotes import quote
from .selection import (DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES, STRUCTURAL, cap_edges, resolve_mechanism,
                        resolve_region, select)
from .text import MAX_QUOTES, QUOTE_CHARS

VIEWS = ("bipartite", "full")

__all__ = [
    "VIEWS", "AGGREGATE_ABOVE", "AGGREGATE_EDGES", "bipartite", "bipartite_layout", "kept_view",
    "VizError", "VizResult", "visualize", "write", "build_graph", "select", "cap_edges", "quote", "layout",
    "radial_layout", "network", "render", "check_offline", "resolve_region", "resolve_mechanism",
    "DEFAULT_MAX_NODES", "DEFAULT_MAX_EDGES", "MAX_QUOTES", "QUOTE_CHARS", "SMALL_GRAPH", "STRUCTURAL",
    "STATUSES", "STATUS_COLOR", "STRUCTURAL_COLOR", "NODE_TYPES", "EDGE_TYPES", "LEVEL_TEXT",
    "loc_id", "mech_id", "kind_id", "org_id", "doc_id",
]


@dataclass
class VizResult:
    path: str
    nodes: int
    edges: int
    timings: dict = field(default_factory=dict)
    left_out: int = 0           # edges among the drawn nodes that were not drawn (max_edges)

    def summary(self) -> str:
        t = ", ".join(f"{k} {v:.2f} s" for k, v in self.timings.items())
        more = f", {self.left_out} lighter edges left out" if self.left_out else ""
        return f"wrote {self.path}: {self.nodes} nodes, {self.edges} edges{more} ({t})"


def write(G, out, title: str = "法治图谱", left_out: int = 0) -> VizResult:
    """Lay out G, render it and write the page to `out`; returns what was written, with timings.
    left_out: how many edges were not drawn (said on the page)."""
    t0 = time.perf_counter()
    pos = bipartite_layout(G) if G.graph.get("view") == "bipartite" else layout(G)
    t1 = time.perf_counter()
    page = render(G, pos, title, left_out)
    with open(out, "w", encoding="utf-8") as f:
        f.write(page)
    t2 = time.perf_counter()
    return VizResult(str(out), G.number_of_nodes(), G.number_of_edges(), {"layout": t1 - t0, "render": t2 - t1},
                     left_out)


def visualize(store, out, region=None, mechanism=None, status=None, max_nodes=DEFAULT_MAX_NODES,
              max_edges=DEFAULT_MAX_EDGES, view: str = "bipartite") -> VizResult:
    """Query the store, filter, lay out and write the page (at most max_edges edges drawn).

    view: "bipartite" (the default: localities and the mechanisms they implement, localities
    grouped above min(max_nodes, AGGREGATE_ABOVE) nodes or max_edges edges) or "full" (documents,
    organizations, roles too; max_nodes keeps the highest-degree nodes)."""
    if view not in VIEWS:
        raise VizError(f"unknown view {view!r}; one of {', '.join(VIEWS)}")
    rid = resolve_region(region) if region else None
    with collector.paused():
        return _visualize(store, out, region, rid, mechanism, status, max_nodes, max_edges, view)


def _visualize(store, out, region, rid, mechanism, status, max_nodes, max_edges, view) -> VizResult:
    t0 = time.perf_counter()
    # the whole store's default view: no select(), so the assertions need no edges (bipartite()
    # reads them from the evidence); select() would keep all that bipartite() reads, in its order
    whole = view == "bipartite" and not (rid or mechanism or status)
    grouping = (min(max_nodes or AGGREGATE_ABOVE, AGGREGATE_ABOVE), max_edges)
    # the whole store's default view as the build kept it, when it groups localities
    kept = kept_view(store, *grouping) if whole else None
    G = kept if kept is not None else build_graph(store, rid, quote_all=False, organizations=view == "full",
                                                  tips=view == "full", assertion_edges=not whole)
    graphs = [G]
    try:
        t1 = time.perf_counter()
        mechs = resolve_mechanism(store, mechanism) if mechanism else None
        try:
            if kept is not None or (whole and G.number_of_nodes()):
                H = G
            else:
                H = select(G, rid, mechs, status, max_nodes if view == "full" else None)
        except VizError:
            if region and rid not in G:
                raise VizError(f"no document of {region} ({rid.split(':', 1)[1]}) or of any locality under "
                               f"it in the store") from None
            raise
        graphs.append(H)
        what = [f for f in (region, mechanism, status) if f]
        title = "法治图谱" + (" — " + " · ".join(what) if what else "")
        if view == "bipartite" and kept is None:
            H = bipartite(H, *grouping)
            graphs.append(H)
        H, left_out = cap_edges(H, max_edges)
        graphs.append(H)
        t2 = time.perf_counter()
        quote(store, H)
        t3 = time.perf_counter()
        result = write(H, out, title, left_out)
        result.timings = {"query": t1 - t0, "select": t2 - t1, "quotes": t3 - t2, **result.timings}
        return result
    finally:
        # a networkx graph is in a reference cycle with the views it caches (G.nodes …), so it
        # is freed by the cyclic collector, not when it goes out of scope: at 10,000 documents
        # that collection walked ~10^6 objects for 0.8 s after each view. Emptied here, its
        # contents go at once.
        for g in graphs:
            g.clear()
