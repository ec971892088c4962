"""The default view: which localities implement which mechanisms.

Only locality and mechanism nodes, one edge per (locality, mechanism): its status the strongest
the documents state (implemented > planned > weakness > required: the order of STATUSES), its
weight the number of documents, its tooltip the first evidence sentences. A requirement
document's "required" counts for the locality that issued it.

Above `max_nodes` nodes or `max_edges` edges the localities are grouped by prefecture (then by
province), as a 10,000-document store has ~3,000 localities (and its ~340 prefectures ~16,000
edges: it is drawn by province); --region shows a region's localities one by one.
"""
from __future__ import annotations

import math
from operator import itemgetter

import networkx as nx

from ..viewgroups import ancestor
from .evidence import Spans, Weights
from .nodes import LEVEL_TEXT, chain_up, doc_id, loc_id, parent_map
from .palette import STATUSES, province_color
from .positions import COLUMNS_UP_TO
from .text import escape, file_name, short
from .tips import mechanism_tip

AGGREGATE_ABOVE = 1000     # nodes: above this the localities are grouped by prefecture, then by province
AGGREGATE_EDGES = 6000     # edges: above this too (prefectures × mechanisms is ~16,000 at 10,000 documents)


def bipartite(G: nx.MultiDiGraph, max_nodes: int = AGGREGATE_ABOVE,
              max_edges: int | None = AGGREGATE_EDGES) -> nx.MultiDiGraph:
    """G (as build_graph/select give it) as the locality–mechanism view: localities one by one,
    or grouped by prefecture, or by province, the first with at most max_nodes nodes and
    max_edges edges."""
    pairs = _pairs(G)
    locs = sorted({loc for loc, _ in pairs})
    mechs = sorted({m for _, m in pairs})
    chain = _Chains(G)
    level, group = _grouping(G, chain, pairs, len(mechs), max_nodes, max_edges or len(pairs))
    evidence: dict = {}
    H = nx.MultiDiGraph(view="bipartite", grouped=level, localities=len(locs), weight=Weights(evidence),
                        evidence=evidence, documents=G.graph.get("documents", {}))
    members: dict = {}
    for loc in locs:
        members.setdefault(group[loc], []).append(loc)
    for g, ms in sorted(members.items(), key=lambda x: _order(G, chain, x[0])):
        docs = set().union(*(G.nodes[m].get("docs", set()) for m in ms))
        H.add_node(g, **locality_node(G, chain, g, ms, level, docs))
    for m in sorted(mechs, key=lambda m: G.nodes[m].get("notation", m)):
        d = dict(G.nodes[m])
        d["tip"] = mechanism_tip(G, m, d)
        d.update(shape="box", color={"background": "#f7d9ee", "border": "#e377c2"})    # the name inside
        H.add_node(m, **d)
    merged: dict = {}
    for (loc, m), parts in pairs.items():
        e = merged.get((group[loc], m))
        if e is None:
            e = merged[(group[loc], m)] = {}
        for status, part in parts:
            by_doc = e.get(status)
            if by_doc is None:
                e[status] = dict(part)      # a copy: the edge's own, G's evidence is left as it is
            else:
                by_doc.update(part)
    for (g, m), by_status in sorted(merged.items()):
        _add_edge(H, g, m, by_status)
    _edge_looks(H)
    for n, d in H.nodes(data=True):
        if d["type"] == "locality":
            d["tip"] = _locality_tip(H, n, d)
    return H


def from_groups(G: nx.MultiDiGraph, level: str, groups: list[dict], localities: int) -> nx.MultiDiGraph:
    """The view bipartite() draws of the whole store grouped at `level`, from the groups kept
    at build time (kg.viewgroups: `groups` their bodies) and G the store's localities and
    mechanisms (kg.viz.graph.base_graph): the same nodes and edges, tooltips once quoted, but
    each edge's evidence holds its first documents only (its weight and count are set), and a
    mechanism's quotes are drawn from the first reports of each group."""
    chain = _Chains(G)
    evidence: dict = {}
    H = nx.MultiDiGraph(view="bipartite", grouped=level, localities=localities, weight=Weights(evidence),
                        evidence=evidence, documents={})
    groups = sorted((b for b in groups if loc_id(b["group"]) in G),
                    key=lambda b: _order(G, chain, loc_id(b["group"])))
    for b in groups:
        g = loc_id(b["group"])
        members = [loc_id(x) for x in b["members"] if loc_id(x) in G]
        H.add_node(g, **locality_node(G, chain, g, members, level, set(b["files"])))
    reported: dict = {}
    for b in groups:
        for notation, n, first in b["reports"]:
            m = "m:" + notation
            if m in G:
                count, quotes = reported.setdefault(m, [0, []])
                reported[m][0] = count + n
                quotes.extend(_report(G, b["members"][k], *b["docs"][d][:2], line, spans)
                              for k, d, line, spans in first)
    for m in sorted({"m:" + e[0] for b in groups for e in b["edges"]} & set(G), key=lambda m: G.nodes[m]["notation"]):
        d = dict(G.nodes[m])
        count, quotes = reported.get(m, (0, []))
        d.update(reported_by=count, quotes=[q[1:] for q in sorted(quotes, key=itemgetter(0))])
        d["tip"] = mechanism_tip(G, m, d)
        d.update(shape="box", color={"background": "#f7d9ee", "border": "#e377c2"})
        H.add_node(m, **d)
    edges = sorted(((loc_id(b["group"]), "m:" + e[0]), e) for b in groups for e in b["edges"] if "m:" + e[0] in H)
    docs = {loc_id(b["group"]): b["docs"] for b in groups}
    for (g, m), (_, counts, total, sentences, first) in edges:
        by_doc = {}
        for d, spans, texts in first:
            doc, source, title = docs[g][d]
            H.graph["documents"].setdefault(doc_id(doc), {"doc": doc, "source": source, "title": title})
            by_doc[doc_id(doc)] = [Spans(doc, x) for x in spans] + texts
        _put_edge(H, g, m, [tuple(c) for c in counts], by_doc, total)
        H.graph["weight"][(g, m, "implements")] = (total, sentences)
    _edge_looks(H)
    for n, d in H.nodes(data=True):
        if d["type"] == "locality":
            d["tip"] = _locality_tip(H, n, d)
    return H


def _report(G, member: str, doc: str, source: str, line: int, spans: str) -> tuple:
    """A mechanism's report as build_graph keeps it, with its order first: (locality, source,
    line) and (locality, its name, file name, evidence)."""
    loc = loc_id(member)
    return ((loc, source, line), loc, G.nodes[loc]["label"] if loc in G else "", file_name(source),
            Spans(doc, spans))


def _pairs(G) -> dict:
    """(locality, mechanism) → [(status, document → evidence), …]: the evidence of G's implements
    edges and of the requires edges of requirement documents issued by a locality of G (the
    dicts themselves: bipartite() merges them). Read node by node in the order of their ids
    (select() gives its nodes in that order), so that the documents of an edge come in the same
    order whether G was selected or not (a node has one edge per mechanism and status). Read
    from G's evidence (build_graph's, which select() shares: only the edges G has count, or all
    of it when G has its assertions there only: "unlinked"), not from its ~140,000 edges at
    10,000 documents, in one pass (~0.2 s there)."""
    evidence = G.graph.get("evidence", {})
    nodes, has_edge, linked = G._node, G.has_edge, not G.graph.get("unlinked")    # _node: G.nodes' dict
    out: dict = {}
    for e in sorted(evidence, key=itemgetter(0)):       # stable
        u, v, k = e
        if k == "requires":
            loc = nodes[u].get("loc") if u in nodes else None
        elif k.startswith("implements"):
            loc = u
        else:
            continue
        if loc is None or loc not in nodes or (linked and not has_edge(u, v, k)):
            continue
        status, by_doc, _ = evidence[e]
        parts = out.get((loc, v))
        if parts is None:
            out[(loc, v)] = [(status, by_doc)]
        else:
            parts.append((status, by_doc))
    return out


class _Chains(dict):
    """locality → [it, its parent, …, its province]: asked for several times per locality."""

    def __init__(self, G):
        super().__init__()
        self.parent = parent_map(G)

    def __call__(self, n) -> list:
        return self[n]

    def __missing__(self, n):
        chain = self[n] = [n] + chain_up(self.parent, n)
        return chain


def _grouping(G, chain, pairs, n_mechs: int, max_nodes: int, max_edges: int):
    """The level localities are grouped at (None, "prefecture", "province") and each one's group."""
    locs = {loc for loc, _ in pairs}
    group = {n: n for n in locs}
    if len(locs) + n_mechs <= max_nodes and len(pairs) <= max_edges:
        return None, group
    for level in ("prefecture", "province"):
        group = {n: ancestor(chain(n), lambda p: G.nodes[p].get("level"), level) for n in locs}
        if (len(set(group.values())) + n_mechs <= max_nodes
                and len({(group[loc], m) for loc, m in pairs}) <= max_edges):
            break
    return level, group


def _order(G, chain, n):
    return (G.nodes[chain(n)[-1]].get("code", ""), G.nodes[n].get("code", ""), n)


def locality_node(G, chain, g, members: list, level, docs: set) -> dict:
    """The attributes of group `g`'s node: its members (localities, by node id) named when
    grouped, `docs` the file names of their documents."""
    d = G.nodes[g]
    province = chain(g)[-1]
    names = [G.nodes[m]["label"] for m in members if m != g]
    return {"type": "locality", "label": d["label"], "code": d.get("code", ""), "level": d.get("level", ""),
            "province": G.nodes[province]["label"], "color": province_color(G.nodes[province].get("code", "")),
            "chain": [G.nodes[p]["label"] for p in reversed(chain(g)[1:])],
            "members": names if level else [], "docs": docs}


def _add_edge(H, g, m, by_status: dict) -> None:
    """One edge g — m: the strongest status, every document (the strongest status's first)."""
    order = [s for s in STATUSES if s in by_status]
    status = order[0]
    by_doc = by_status[status]          # merged for this edge: its own
    if len(order) > 1:
        by_doc = dict(by_doc)
        for s in order[1:]:
            for doc, items in by_status[s].items():
                by_doc.setdefault(doc, items)
    _put_edge(H, g, m, [(s, len(by_status[s])) for s in order], by_doc, len(by_doc))


def _put_edge(H, g, m, counts: list, by_doc: dict, total: int) -> None:
    """The edge g — m of status counts[0][0]: counts (status, documents) strongest first,
    by_doc its documents' evidence (all, or the first: `total` says how many)."""
    status = counts[0][0]
    k = "implements"
    H.add_edge(g, m, key=k, rel="implements", status=status, docs=total, statuses=tuple(s for s, _ in counts))
    written = ", ".join(f"{s} {n}" for s, n in counts)
    H.graph["evidence"][(g, m, k)] = (status, by_doc, (f"documents: {written}",))


def _edge_looks(H) -> None:
    """Widths by documents, relative to the busiest edge (a province's edges have hundreds); the
    more edges, the fainter each (a click brings a node's own edges to full strength)."""
    top = math.log2(max([d["docs"] for _, _, d in H.edges(data=True)] + [8]))
    opacity = 0.75 if H.number_of_edges() <= 300 else 0.35 if H.number_of_edges() <= 2000 else 0.15
    for _, _, d in H.edges(data=True):
        d.update(width=round(1 + 4 * math.log2(d["docs"]) / top, 1), opacity=opacity)
    boxes = sum(1 for _, d in H.nodes(data=True) if d["type"] == "locality") <= COLUMNS_UP_TO
    for _, d in H.nodes(data=True):
        if d["type"] == "locality" and boxes:       # in a column: the name inside, edges from its side
            d.update(shape="box", color={"background": d["color"], "border": "#888"})
        elif d["type"] == "locality":               # on a ring: small dots, names drawn from a zoom on
            d.update(size=7)
    H.graph["label_all"] = boxes


def _locality_tip(H, n, d) -> str:
    lv = LEVEL_TEXT.get(d.get("level"), "")
    tip = f"<b>{escape(d['label'])}</b> <span class=\"src\">{escape(lv)} {escape(d.get('code'))}</span>"
    if d["chain"]:
        tip += f"<div>{escape(' › '.join(d['chain']))}</div>"
    if d["members"]:
        tip += (f"<div>{len(d['members'])} localities grouped here: {escape(short('、'.join(d['members']), 80))}"
                f"</div><div class=\"src\">kg viz --region {escape(d.get('code'))} draws them one by one</div>")
    counts: dict = {}
    for _, _, ed in H.out_edges(n, data=True):
        counts[ed["status"]] = counts.get(ed["status"], 0) + 1
    tip += "<div>mechanisms: " + ", ".join(f"{escape(s)} {counts[s]}" for s in STATUSES if s in counts) + "</div>"
    if d.get("docs"):
        tip += f'<div class="src">{len(d["docs"])} documents: {escape(", ".join(sorted(d["docs"])[:4]))}</div>'
    return tip
