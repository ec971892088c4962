"""The default view of the whole store from what the build kept of it (kg.viewgroups), when the
store has it and the view groups its localities: a few hundred literals read instead of every
document's assertion index (~250,000 lines at 10,000 documents)."""
from __future__ import annotations

import json

from ..viewgroups import GROUP_LEVELS
from .bipartite import from_groups
from .graph import base_graph
from .source import named_rows


def kept_view(store, max_nodes: int, max_edges: int | None):
    """bipartite(build_graph(store), max_nodes, max_edges) as the build kept it, or None: when
    the store keeps none that is current (queries/viz-view-heads.rq: a change under way, a
    summary of another format or none, a remote store that has none) or when the view would
    draw the localities one by one (a small store: its documents are read quickly)."""
    heads = [(str(r["level"]), json.loads(r["head"])) for r in named_rows(store, "viz-view-heads")]
    if not heads:
        return None
    G = base_graph(store)
    known = {d["notation"] for _, d in G.nodes(data=True) if d["type"] == "mechanism"}
    level = choose_level(heads, known, max_nodes, max_edges)
    if level is None:
        return None
    localities = sum(h[0] for lv, h in heads if lv == GROUP_LEVELS[0])
    bodies = [json.loads(r["cells"].split("\n", 1)[1])
              for r in named_rows(store, "viz-view-groups", {"level": level})]
    return from_groups(G, level, bodies, localities)


def choose_level(heads: list, known: set, max_nodes: int, max_edges: int | None):
    """The level bipartite() groups at (kg.viz.bipartite: the first with at most max_nodes nodes
    and max_edges edges), from the groups' heads ([localities, pairs, [notations]] by level);
    None: the localities one by one."""
    by_level = {level: [h for lv, h in heads if lv == level] for level in GROUP_LEVELS}
    mechanisms = len(set().union(*(h[2] for h in by_level[GROUP_LEVELS[-1]])) & known)
    first = by_level[GROUP_LEVELS[0]]
    locs, pairs = sum(h[0] for h in first), sum(h[1] for h in first)
    if max_edges is None:
        max_edges = pairs
    if locs + mechanisms <= max_nodes and pairs <= max_edges:
        return None
    for level in GROUP_LEVELS:
        groups = by_level[level]
        if len(groups) + mechanisms <= max_nodes and sum(len(h[2]) for h in groups) <= max_edges:
            break
    return level
