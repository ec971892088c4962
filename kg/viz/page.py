"""The page: pyvis's template with the graph, made offline, with a legend, search and a status
filter (static/graph.css, static/graph.js).

Safety: vis.js shows string tooltips as text, so the page's script turns each escaped tooltip into
an element once (innerHTML of escaped text: the only live markup is ours). Labels are drawn on the
canvas as text. The data reaches the page as JSON with <, >, & and ' written as \\u escapes (by pyvis's
template).

Offline: pyvis inlines vis.js (cdn_resources='in_line') but its template links Bootstrap from a
CDN; those links are dropped (nothing here uses Bootstrap) and check_offline() refuses a page that
would fetch anything (src/href/url() to http(s) or //).
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from importlib.resources import files

from .palette import NODE_TYPES, STATUS_COLOR, STATUSES, STRUCTURAL_COLOR, status_css
from .text import escape, short

BIG_GRAPH = 800            # above this many nodes, edges are hidden while dragging and zooming

_BOOTSTRAP = re.compile(r"<link\b[^>]*bootstrap[^>]*>|<script\b[^>]*bootstrap[^>]*>\s*</script>", re.I | re.S)
_EMPTY_HEADING = re.compile(r"<center>\s*<h1>\s*</h1>\s*</center>", re.S)
_EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe|source|video|audio|embed|object|frame|image|use)\b[^>]*?"
    r"\b(?:src|href|data|srcset|poster)\s*=\s*[\"']?\s*(?:https?:)?//"
    r"|url\(\s*[\"']?\s*(?:https?:)?//|@import\b", re.I | re.S)


@lru_cache(maxsize=None)
def static_text(name: str) -> str:
    """A file of the package's static/ folder."""
    return files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def stylesheet() -> str:
    """The page's stylesheet: static/graph.css and the statuses' colours."""
    return "\n" + static_text("graph.css") + status_css() + "\n"


def _size(deg: int) -> float:
    return round(min(40.0, 7 + 3 * math.sqrt(deg)), 1)


def network(G, pos):
    """The pyvis Network of G with positions, physics off."""
    from pyvis.network import Network
    net = Network(height="calc(100vh - 52px)", width="100%", directed=True, cdn_resources="in_line", heading="")
    major = _major(G) if G.graph.get("view") == "bipartite" else None
    for n, d in G.nodes(data=True):
        label, color, shape, _ = NODE_TYPES[d["type"]]
        x, y = pos[n]
        search = " ".join(filter(None, [d["label"], d.get("title_text"), d.get("notation"), d.get("code"),
                                        d.get("alts", "").replace("|", " ")]))
        net.add_node(n, label=short(d["label"], 24), shape=d.get("shape", shape), color=d.get("color", color), title=d["tip"],
                     x=x, y=y, size=d.get("size") or _size(G.degree(n)), kind=d["type"], search=search, physics=False,
                     **({"major": int(n in major)} if major is not None else {}))
    ids = set(net.node_ids)
    net.node_ids = _Ids(net.node_ids, ids)      # O(1) membership for add_edge's existence check
    for i, (u, v, k, d) in enumerate(G.edges(keys=True, data=True)):
        net.add_edge(u, v, **_edge_options(i, d))
    net.options = _options(G.number_of_nodes() > BIG_GRAPH)
    if major is not None:       # labels of minor nodes: drawn from this zoom on (graph.js keeps the major ones)
        net.options["nodes"]["scaling"] = {"label": {"drawThreshold": 9}}
    return net


def _edge_options(i: int, d: dict) -> dict:
    rel = d["rel"]
    opts = {"id": f"e{i}", "rel": rel}
    if "docs" in d:         # the default view's edge: width by documents, no arrow
        c = STATUS_COLOR[d["status"]]
        opts.update(color={"color": c, "highlight": c, "hover": c, "opacity": d["opacity"]}, status=d["status"],
                    width=d["width"], arrows={"to": {"enabled": False}}, docs=d["docs"])
    elif rel in ("implements", "requires"):
        opts.update(color=STATUS_COLOR[d["status"]], status=d["status"], width=1.6)
    else:
        opts.update(color=STRUCTURAL_COLOR, width=0.8, arrows={"to": {"enabled": rel != "located_in", "scaleFactor": 0.3}})
        if rel == "broader":
            opts["dashes"] = True
    if d.get("tip"):
        opts["title"] = d["tip"]
    if d.get("label"):
        opts["label"] = d["label"]
    return opts


def _options(big: bool) -> dict:
    return {
        "physics": {"enabled": False},
        "layout": {"improvedLayout": False},
        "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": big, "hideEdgesOnZoom": big,
                        "multiselect": True},
        "nodes": {"font": {"size": 13, "face": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"}, "borderWidth": 1},
        "edges": {"smooth": False, "arrows": {"to": {"enabled": True, "scaleFactor": 0.4}},
                  "font": {"size": 10, "align": "middle"}, "selectionWidth": 2},
    }


MAJOR_LOCALITIES = 40      # default view: the localities with the most mechanisms are labelled at any zoom


def _major(G) -> set:
    """The nodes whose labels stay when zoomed out: mechanisms and the busiest localities."""
    locs = sorted((n for n, d in G.nodes(data=True) if d["type"] == "locality"), key=lambda n: (-G.degree(n), n))
    mechs = {n for n, d in G.nodes(data=True) if d["type"] == "mechanism"}
    return mechs | set(locs[:MAJOR_LOCALITIES]) if G.graph.get("label_all") else mechs


class _Ids(list):
    """pyvis's node id list with O(1) membership: add_edge checks both ends with `in` on a list,
    quadratic over thousands of edges. The one run-time patch of pyvis (network())."""
    def __init__(self, items, index):
        super().__init__(items)
        self._index = index

    def __contains__(self, x):
        return x in self._index

    def append(self, x):
        super().append(x)
        self._index.add(x)


def check_offline(page: str) -> None:
    """Refuse a page that would fetch anything from outside (AssertionError)."""
    m = _EXTERNAL.search(page)
    assert m is None, f"the page would load an external resource: {page[m.start():m.start() + 120]!r}"


def legend() -> str:
    out = ['<div id="kg-legend"><b>nodes</b>']
    for label, color, _, sym in NODE_TYPES.values():
        out.append(f'<div><span class="lg-sym" style="color:{color}">{sym}</span>{escape(label)}</div>')
    out.append("<b>edges (implements / requires) by status</b>")
    for s in STATUSES:
        out.append(f'<div><span class="lg-edge" style="border-color:{STATUS_COLOR[s]}"></span>{escape(s)}</div>')
    out.append(f'<div><span class="lg-edge" style="border-color:{STRUCTURAL_COLOR}"></span>located in, holds role (count)</div>')
    out.append(f'<div><span class="lg-edge lg-dash" style="border-color:{STRUCTURAL_COLOR}"></span>broader mechanism</div>')
    out.append('<div class="src" style="color:#777">node size: degree · hover: evidence</div></div>')
    return "".join(out)


def bipartite_legend(G) -> str:
    """The default view's legend: what the nodes and edges are, and how localities are grouped."""
    mech = NODE_TYPES["mechanism"]
    where = "kg-low" if G.graph.get("label_all") else "kg-side"      # beside the columns, or the ring
    out = [f'<div id="kg-legend" class="{where}"><b>which localities implement which mechanisms</b>',
           '<div><span class="lg-sym" style="color:#a0cbe8">■</span>locality (colour: province)</div>',
           f'<div><span class="lg-sym" style="color:{mech[1]}">■</span>mechanism (its name)</div>',
           "<b>edge: the strongest status stated</b>"]
    for s in STATUSES:
        out.append(f'<div><span class="lg-edge" style="border-color:{STATUS_COLOR[s]}"></span>{escape(s)}</div>')
    out.append('<div class="src" style="color:#777">width: documents · click: neighbours · hover: evidence</div>')
    level = G.graph.get("grouped")
    if level:
        out.append(f'<div id="kg-grouped" class="src" style="color:#a33">{G.graph.get("localities", 0)} localities '
                   f'grouped by {escape(level)}: hover one for its localities, or use kg viz --region &lt;name&gt; '
                   f'(/graph?region=…) to see them one by one</div>')
    out.append('<div class="src" style="color:#777">kg viz --view full: documents, organizations, roles</div></div>')
    return "".join(out)


def toggles(G) -> str:
    """A checkbox per node type drawn (graph.js hides or shows that type's nodes)."""
    kinds = [k for k in NODE_TYPES if any(d["type"] == k for _, d in G.nodes(data=True))]
    return "".join(f'<label class="kg-toggle"><input type="checkbox" data-kind="{k}" checked>'
                   f'{escape(NODE_TYPES[k][0].split(" (")[0])}</label>' for k in kinds)


def bar(title: str, left_out: int = 0, extra: str = "") -> str:
    opts = '<option value="">all statuses</option>' + "".join(
        f'<option value="{s}">{escape(s)}</option>' for s in STATUSES)
    note = (f'<span id="kg-left-out" style="color:#a33;font-size:13px" title="the lightest edges (fewest documents and '
            f'sentences) among the nodes drawn: max_edges">+ {left_out} lighter edges not drawn</span>'
            if left_out else "")
    return (f'<div id="kg-bar"><h1>{escape(title)}</h1>'
            f'<input id="kg-search" type="search" placeholder="search: 乳山市, 法律顾问, M01 …" autocomplete="off">'
            f'<select id="kg-status" title="show edges of one status">{opts}</select>'
            f'{extra}<span id="kg-info"></span>{note}</div>')


def render(G, pos, title: str = "法治图谱", left_out: int = 0) -> str:
    """The page's HTML: pyvis's template, offline, with legend, search and status filter."""
    net = network(G, pos)
    page = net.generate_html(notebook=False)
    page = _BOOTSTRAP.sub("", page)
    page = _EMPTY_HEADING.sub("", page)
    page = page.replace("<html>", '<!DOCTYPE html>\n<html lang="zh">', 1)
    page = page.replace("<head>", f"<head>\n<title>{escape(title)}</title>", 1)
    page = page.replace("</head>", f"<style>{stylesheet()}</style>\n</head>", 1)
    chrome = (bar(title, left_out, toggles(G)) +
              (bipartite_legend(G) if G.graph.get("view") == "bipartite" else legend()))
    page = re.sub(r"<body>", lambda m: "<body>\n" + chrome, page, count=1)
    idx = page.rfind("</body>")
    page = page[:idx] + f"<script>\n{static_text('graph.js')}</script>\n" + page[idx:]
    check_offline(page)
    return page
