"""kg viz: the graph as one self-contained, interactive HTML page (networkx + pyvis).

Data flows one way:
    queries/viz-*.rq rows → build_graph() (a networkx MultiDiGraph, typed nodes and edges; for
    --region only the region's part, from queries/viz-region-*.rq) → select() (region /
    mechanism / status filters, --max-nodes) → cap_edges() (max_edges: the heaviest edges) →
    quote() (the evidence texts of what is drawn) → layout() (precomputed positions) → render() (pyvis page, made offline, with legend, search
    and status filter).

Safety: every text that comes from a document (sentences, titles, names) is HTML-escaped before
it enters a tooltip; vis.js shows string tooltips as text, so the page turns each escaped tooltip
into an element once (innerHTML of escaped text: the only live markup is ours). Labels are drawn
on the canvas as text. The data reaches the page as JSON with <, >, & and ' written as \\u escapes.

Offline: pyvis inlines vis.js (cdn_resources='in_line') but its template links Bootstrap from a
CDN; those links are dropped (nothing here uses Bootstrap) and check_offline() refuses a page that
would fetch anything (src/href/url() to http(s) or //).

Speed: positions are computed here and physics is off, so the page is drawn at once. Small
graphs get a force layout (networkx spring_layout, seeded with the radial one); large graphs a
radial layout: localities as a tree by hierarchy on the outer rings (organizations and requirement
documents beside their locality), mechanisms as a tree in the centre, roles on a ring between.
"""
from __future__ import annotations

import html
import json
import math
import re
import time
import zlib
from dataclasses import dataclass, field

import networkx as nx

from .rdf import KG, KGD, KGI, KGL, KGM, KGO, parse_assertion_index

STATUSES = ("implemented", "planned", "weakness", "required")
STATUS_COLOR = {"implemented": "#2e9d4a", "planned": "#f0a202", "weakness": "#d62728", "required": "#1f77b4"}
STRUCTURAL_COLOR = "#b8b8b8"

# node type → (legend label, colour, vis shape, legend symbol)
NODE_TYPES = {
    "locality": ("locality (province › prefecture › county)", "#76b7b2", "dot", "●"),
    "organization": ("organization (organ, named body)", "#9c755f", "square", "■"),
    "role": ("role / institution kind", "#b07aa1", "triangle", "▲"),
    "mechanism": ("mechanism", "#e377c2", "diamond", "◆"),
    "requirement": ("requirement document", "#6b6b6b", "star", "★"),
}
EDGE_TYPES = {
    "implements": "implements (locality → mechanism, by status)",
    "requires": "requires (requirement document → mechanism)",
    "holds_role": "holds role (organization → role, count)",
    "located_in": "located in",
    "broader": "broader (mechanism → broader mechanism)",
}
LEVEL_TEXT = {"ProvinceLevel": "province", "PrefectureLevel": "prefecture", "CountyLevel": "county",
              "TownshipLevel": "township", "NationLevel": "nation"}
LEVEL_DEPTH = {"ProvinceLevel": 0, "PrefectureLevel": 1, "CountyLevel": 2, "TownshipLevel": 3}
MAX_QUOTES = 3
QUOTE_CHARS = 90
SMALL_GRAPH = 400          # up to this many nodes: force layout; above: radial layout
DEFAULT_MAX_NODES = 2000
DEFAULT_MAX_EDGES = 6000   # edges drawn at most: the whole of a 10,000-document store is a ~13 MB page


class VizError(Exception):
    """A filter that selects nothing or cannot be resolved; the message says why."""


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


# ------------------------------------------------------------------ ids and text

def _local(iri, base: str) -> str:
    s = str(iri)
    return s[len(base):] if s.startswith(base) else s


def loc_id(iri) -> str:
    return "loc:" + _local(iri, KGL)


def mech_id(iri) -> str:
    return "m:" + _local(iri, KGM)


def kind_id(iri) -> str:
    return "role:" + _local(iri, KGI)


def org_id(iri) -> str:
    return "org:" + _local(iri, KGO)


def doc_id(iri) -> str:
    return "doc:" + _local(iri, KGD)


def _e(s) -> str:
    """HTML-escape; "href" is spelled with an entity so pyvis never switches to its
    innerHTML link-popup template (which would bypass our tooltip handling)."""
    return html.escape(str(s if s is not None else ""), quote=True).replace("href", "hre&#102;")


def _short(s, n: int = QUOTE_CHARS) -> str:
    s = " ".join(str(s or "").split())
    return s if len(s) <= n else s[:n - 1] + "…"


def _file(source) -> str:
    return str(source or "").rsplit("/", 1)[-1]


def _quotes(sentences, limit: int = MAX_QUOTES) -> str:
    """Escaped HTML quoting the first sentences (shortened), with how many more there are."""
    out, seen = [], []
    for s in sentences:
        s = _short(s)
        if s and s not in seen:
            seen.append(s)
    for s in seen[:limit]:
        out.append(f'<div class="q">“{_e(s)}”</div>')
    if len(seen) > limit:
        out.append(f'<div class="more">… {len(seen) - limit} more</div>')
    return "".join(out)


def _level_of(iri) -> str:
    return _local(iri, KG)


# ------------------------------------------------------------------ rows → graph

def _rows(store, name, params=None):
    from . import api
    return api.query(store, name, params).to_dicts()


def build_graph(store, region: str | None = None, quote_all: bool = True) -> nx.MultiDiGraph:
    """The graph of the store: typed nodes, edges with relation (and status).

    region: a locality node id (as resolve_region gives it). Then only the part that
    select(G, region, …) keeps is read, through the queries viz-region-*.rq: the documents of
    the region, of every locality under it and of the localities above it, and every document
    that names one of their organizations: at 10,000 documents 0.2 s for a county and 2–3 s for
    a province, where the whole store takes ~40 s. select() gives the same nodes and edges, with
    the same attributes, from either graph; only the tooltips of mechanisms and roles differ, as
    they summarize the graph that was read (the localities that report a mechanism, with quotes;
    the organizations that hold a role).

    The assertions come from the documents' kg:assertionIndex (queries viz-documents /
    viz-region-documents: a row per document); their evidence texts are read by quote(), for
    the whole graph (quote_all) or, as visualize() does, for the part of it that is drawn.
    """
    if region is None:
        def rows(name):
            return _rows(store, "viz-" + name)
    else:
        target = {"target": f"<{KGL}{region.split(':', 1)[1]}>"}

        def rows(name):
            return _rows(store, "viz-region-" + name, target)
    G = nx.MultiDiGraph()

    # localities and their parent chain (stop at the province: the nation is left out)
    for r in rows("localities"):
        level = _level_of(r.get("level") or "")
        if level == "NationLevel":
            continue
        n = loc_id(r["loc"])
        G.add_node(n, type="locality", label=str(r["name"]), code=str(r.get("code") or ""),
                   level=level, docs=set())
        if r.get("parent"):
            G.add_edge(n, loc_id(r["parent"]), key="located_in", rel="located_in")
    for n in [n for n in G if n not in G.nodes or "type" not in G.nodes[n]]:
        G.remove_node(n)          # a parent that is the nation (or unknown)

    # mechanisms and their hierarchy (the few hundred of the scheme: never scoped)
    mechanisms = _rows(store, "viz-mechanisms")
    for r in mechanisms:
        n = mech_id(r["m"])
        G.add_node(n, type="mechanism", label=str(r.get("label") or r["notation"]),
                   notation=str(r["notation"]), alts=str(r.get("alts") or ""), quotes=[], localities=set())
    for r in mechanisms:
        if r.get("broader") and mech_id(r["broader"]) in G:
            G.add_edge(mech_id(r["m"]), mech_id(r["broader"]), key="broader", rel="broader")

    # assertions: locality → mechanism by status; requirement documents → mechanism. Read from
    # the documents' assertion indexes (a row per document); the evidence is kept as groups of
    # sentences (_Spans), whose texts quote() reads for the edges and mechanisms drawn.
    docs = {}
    implements: dict = {}
    requires: dict = {}
    for r in rows("documents"):
        d = doc_id(r["doc"])
        notice = str(r.get("doctype") or "") == "notice"
        loc = loc_id(r["loc"]) if r.get("loc") else None
        for notation, status, spans in parse_assertion_index(str(r["index"])):
            m = "m:" + notation
            if m not in G:
                continue
            docs.setdefault(d, r)
            group = _Spans(str(r["doc"]), tuple(spans))
            if notice:
                _add_requirement(G, d, r)
                if status == "required":
                    requires.setdefault((d, m), {"docs": {}, "how": set()})
                    requires[(d, m)]["docs"].setdefault(d, []).append(group)
                    requires[(d, m)]["how"].add("required")
                    continue
            if loc is None or loc not in G:
                continue
            G.nodes[loc]["docs"].add(_file(r["source"]))
            e = implements.setdefault((loc, m, status), {})
            e.setdefault(d, []).append(group)
            G.nodes[m]["quotes"].append((G.nodes[loc]["label"], _file(r["source"]), group))
            G.nodes[m]["localities"].add(loc)
    for r in rows("obligations"):
        m = mech_id(r["m"])
        if m not in G:
            continue
        d = doc_id(r["doc"])
        docs.setdefault(d, r)
        _add_requirement(G, d, r)
        e = requires.setdefault((d, m), {"docs": {}, "how": set()})
        e["docs"].setdefault(d, []).append(r.get("text"))
        e["how"].add(str(r.get("modality") or "obligation"))

    weight = G.graph.setdefault("weight", {})
    evidence = G.graph.setdefault("evidence", {})
    G.graph["documents"] = docs
    for (loc, m, status), by_doc in implements.items():
        k = f"implements-{status}"
        G.add_edge(loc, m, key=k, rel="implements", status=status)
        evidence[(loc, m, k)] = (status, by_doc, ())
        weight[(loc, m, k)] = (len(by_doc), sum(_n(x) for texts in by_doc.values() for x in texts))
    for (d, m), e in requires.items():
        G.add_edge(d, m, key="requires", rel="requires", status="required")
        evidence[(d, m, "requires")] = ("required", e["docs"], tuple(sorted(e["how"])))
        weight[(d, m, "requires")] = (len(e["docs"]), sum(_n(x) for texts in e["docs"].values() for x in texts))
        G.nodes[d]["mechanisms"].add(m)

    # organizations, the roles they hold, the locality they are in. A role's tooltip quotes
    # the posts of its kind in the organization's first documents: quote() reads them.
    kinds = {str(r["kind"]): r for r in _rows(store, "viz-institutions")}    # a few: never scoped
    holds: dict = {}
    for r in rows("organizations"):
        o = org_id(r["org"])
        if o not in G:
            G.add_node(o, type="organization", label=str(r["name"]), how=set(), docs=set())
        G.nodes[o]["how"].add(str(r["how"]))
        G.nodes[o]["docs"].add(_file(r["source"]))
        if r.get("loc") and loc_id(r["loc"]) in G:
            G.add_edge(o, loc_id(r["loc"]), key="located_in", rel="located_in")
        if r.get("kind"):
            k = str(r["kind"])
            kn = kind_id(k)
            if kn not in G:
                info = kinds.get(k, {})
                G.add_node(kn, type="role", label=str(info.get("label") or _local(k, KGI)),
                           notation=str(info.get("notation") or _local(k, KGI)))
            h = holds.setdefault((o, kn), {"count": None, "docs": {}})
            if r.get("count") is not None:
                h["count"] = max(h["count"] or 0, float(r["count"]))
            h["docs"].setdefault(_file(r["source"]), f'{r["doc"]}#post-{_local(k, KGI)}')
    for (o, kn), h in holds.items():
        count = h["count"]
        label = _num(count) if count is not None else ""
        G.add_edge(o, kn, key="holds_role", rel="holds_role", label=label)
        evidence[(o, kn, "holds_role")] = (None, h["docs"], ())
        weight[(o, kn, "holds_role")] = (len(h["docs"]), 0)

    _node_tips(G)
    if quote_all:
        quote(store, G)
    return G


@dataclass(frozen=True)
class _Spans:
    """The evidence sentences of one assertion of one document: its graph's IRI and the
    sentences' source offsets (their IRIs are `<doc>#char=start,end`)."""
    doc: str
    spans: tuple

    def iris(self):
        return [f"{self.doc}#char={s},{e}" for s, e in self.spans]


@dataclass(frozen=True)
class _Sentences:
    """Evidence sentences of one document named by their IRIs."""
    doc: str
    sentences: tuple

    def iris(self):
        return list(self.sentences)


def _post_evidence(store, graph_of: dict[str, str]) -> dict[str, list[str]]:
    """post IRI → the IRIs of its evidence sentences, each post read in its document's graph
    (`graph_of`: post → document): index look-ups in the embedded store, else
    queries/viz-post-evidence.rq bound to a table of posts."""
    from pyoxigraph import NamedNode
    from . import query
    from .store import Store
    out: dict = {}
    if isinstance(store, Store):
        evidence = NamedNode(KG + "evidence")

        def read(o):
            return [(p, q.object.value) for p, g in graph_of.items()
                    for q in o.quads_for_pattern(NamedNode(p), evidence, None, NamedNode(g))]
        pairs = store.read(read)
    else:
        sparql = query.load_query("viz-post-evidence").text
        posts = sorted(graph_of)
        pairs = []
        for i in range(0, len(posts), 2000):
            table = [(NamedNode(graph_of[p]), NamedNode(p)) for p in posts[i:i + 2000]]
            pairs += [(str(p), str(s)) for p, s in
                      query.run_query(store, query.bind_table(sparql, ("doc", "post"), table)).rows]
    for p, sentence in pairs:
        out.setdefault(p, []).append(sentence)
    return out


def _n(x) -> int:
    return len(x.spans) if isinstance(x, _Spans) else 1


def quote(store, G) -> None:
    """Fill in the evidence tooltips of G's implements and requires edges and the quotes of its
    mechanisms, in place, reading the texts of only the sentences they show: of an edge, those of
    its first two documents; of a mechanism, those of its first reports up to MAX_QUOTES
    distinct quotes. Each group of sentences reads as its distinct texts in text order (as one
    row per sentence, ordered by text, did)."""
    from .query import sentence_texts
    texts: dict = {}

    def read(groups):
        graph_of = {i: g.doc for g in groups for i in g.iris() if i not in texts}
        texts.update(sentence_texts(store, graph_of))
        for i in graph_of:
            texts.setdefault(i, None)

    def expand(items):
        out = []
        for x in items:
            if isinstance(x, _Spans):
                found = sorted({texts[i] for i in x.iris() if texts[i] is not None})
                out.extend(found or [None])
            else:
                out.append(x)
        return out

    if G.graph.get("quoted"):
        return
    G.graph["quoted"] = True
    evidence = G.graph.get("evidence", {})
    docs = G.graph.get("documents", {})
    drawn = [(e, evidence[e]) for e in G.edges(keys=True) if e in evidence]
    holds = [(e, x) for e, x in drawn if e[2] == "holds_role"]
    drawn = [(e, x) for e, x in drawn if e[2] != "holds_role"]
    read([x for _, (_, by_doc, _) in drawn for items in list(by_doc.values())[:2] for x in items
          if isinstance(x, _Spans)])
    posts = _post_evidence(store, {p: p.split("#", 1)[0] for _, (_, by_file, _) in holds
                                   for p in list(by_file.values())[:2]})
    read([_Sentences(p.split("#", 1)[0], tuple(s)) for p, s in posts.items()])
    for (u, v, k), (_, by_file, _) in holds:
        label = G.edges[u, v, k].get("label")
        tip = (f"<b>{_e(G.nodes[u]['label'])}</b> holds <b>{_e(G.nodes[v]['label'])}</b>"
               + (f" × {_e(label)}" if label else ""))
        for f, p in list(by_file.items())[:2]:
            quotes = sorted({texts[i] for i in posts.get(p, ()) if texts[i]})
            tip += _quotes(quotes, 2) + f'<div class="src">— {_e(f)}</div>'
        G.edges[u, v, k]["tip"] = tip
    for (u, v, k), (status, by_doc, how) in drawn:
        shown = {d: (expand(items) if i < 2 else []) for i, (d, items) in enumerate(by_doc.items())}
        G.edges[u, v, k]["tip"] = _evidence_tip(G, u, v, status, shown, docs, how=how)
    for n, d in G.nodes(data=True):
        if d["type"] != "mechanism" or not d.get("quotes"):
            continue
        seen, i, refs = [], 0, d["quotes"]
        while i < len(refs) and len(seen) < MAX_QUOTES:
            chunk = refs[i:i + MAX_QUOTES]
            read([g for _, _, g in chunk if isinstance(g, _Spans)])
            for place, f, g in chunk:
                for text in expand([g]):
                    if text is None or len(seen) >= MAX_QUOTES:
                        continue
                    s = _short(text)
                    if s not in [x[2] for x in seen]:
                        seen.append((place, f, s))
            i += MAX_QUOTES
        d["tip"] = d["tip"] + "".join(f'<div class="q">“{_e(s)}”</div><div class="src">— {_e(place)}, {_e(f)}</div>'
                                      for place, f, s in seen)


def _num(v) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _add_requirement(G, d, r):
    if d not in G:
        title = str(r.get("title") or _file(r["source"]))
        G.add_node(d, type="requirement", label=_short(title, 18), title_text=title,
                   source=str(r["source"]), loc=loc_id(r["loc"]) if r.get("loc") else None,
                   mechanisms=set(), quotes=[])


def _evidence_tip(G, a, b, status, by_doc, docs, how=()) -> str:
    head = (f"<b>{_e(G.nodes[a]['label'])}</b> → <b>{_e(G.nodes[b]['label'])}</b> "
            f'<span class="st st-{status}">{_e(status)}</span>')
    if how:
        head += f" ({_e(', '.join(how))})"
    parts = [head]
    shown = 0
    for d, texts in by_doc.items():
        if shown >= 2:
            parts.append(f'<div class="more">… {len(by_doc) - 2} more documents</div>')
            break
        r = docs.get(d, {})
        parts.append(_quotes([t for t in texts if t], MAX_QUOTES))
        title = r.get("title")
        parts.append(f'<div class="src">— {_e(_file(r.get("source")))}'
                     f'{" · " + _e(_short(title, 40)) if title else ""}</div>')
        shown += 1
    return "".join(parts)


def _node_tips(G):
    for n, d in G.nodes(data=True):
        t = d["type"]
        if t == "locality":
            lv = LEVEL_TEXT.get(d.get("level"), "")
            chain = [G.nodes[p]["label"] for p in _parents(G, n)]
            tip = f"<b>{_e(d['label'])}</b> <span class=\"src\">{_e(lv)} {_e(d.get('code'))}</span>"
            if chain:
                tip += f"<div>{_e(' › '.join(reversed(chain)))}</div>"
            counts = {}
            for _, _, ed in G.out_edges(n, data=True):
                if ed.get("rel") == "implements":
                    counts[ed["status"]] = counts.get(ed["status"], 0) + 1
            if counts:
                tip += "<div>" + ", ".join(f"{_e(s)}: {c}" for s, c in sorted(counts.items())) + "</div>"
            if d.get("docs"):
                tip += f'<div class="src">{_e(", ".join(sorted(d["docs"])[:4]))}</div>'
        elif t == "mechanism":
            tip = f"<b>{_e(d['label'])}</b> <span class=\"src\">{_e(d['notation'])}</span>"
            if d.get("alts"):
                tip += f'<div class="src">{_e(_short(d["alts"].replace("|", "、"), 60))}</div>'
            if d.get("localities"):
                tip += f"<div>reported by {len(d['localities'])} localit{'y' if len(d['localities']) == 1 else 'ies'}</div>"
            # the quotes: quote()
        elif t == "organization":
            how = "document organ" if "organ" in d.get("how", ()) else "named body"
            tip = (f"<b>{_e(d['label'])}</b> <span class=\"src\">{_e(how)}</span>"
                   f'<div class="src">{_e(", ".join(sorted(d.get("docs", ()))[:4]))}</div>')
        elif t == "role":
            orgs = sum(1 for _ in G.in_edges(n))
            tip = (f"<b>{_e(d['label'])}</b> <span class=\"src\">{_e(d.get('notation'))}</span>"
                   f"<div>held by {orgs} organization{'s' if orgs != 1 else ''}</div>")
        else:   # requirement
            tip = (f"<b>{_e(d['title_text'])}</b><div class=\"src\">requirement document · "
                   f"{_e(_file(d['source']))}</div><div>requires {len(d.get('mechanisms', ()))} mechanisms</div>")
        d["tip"] = tip


def _parents(G, n):
    out, seen = [], {n}
    cur = n
    while True:
        nxt = [v for _, v, ed in G.out_edges(cur, data=True)
               if ed.get("rel") == "located_in" and G.nodes[v]["type"] == "locality"]
        if not nxt or nxt[0] in seen:
            return out
        cur = nxt[0]
        seen.add(cur)
        out.append(cur)


# ------------------------------------------------------------------ filters

def resolve_region(region: str) -> str:
    """The locality node id a user means by `region` (name or code); VizError otherwise."""
    from . import places
    found = places.lookup_region(region)
    if not found:
        raise VizError(f"unknown region {region!r}")
    if len(found) > 1:
        cands = "; ".join(f"{l.name} ({l.code})" for l in found)
        raise VizError(f"region {region!r} is ambiguous: {cands}; give the division code")
    return "loc:" + found[0].code


def resolve_mechanism(store, mechanism: str) -> set:
    """The mechanism node ids `mechanism` (notation or label) stands for, narrower included."""
    rows = _rows(store, "viz-mechanism-scope", {"mechanism": mechanism})
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
    under = None
    if region is not None:
        if region not in G:
            raise VizError(f"no document of {region.split(':', 1)[1]} or of any locality under it in the store")
        under = {region} | {n for n in G if G.nodes[n]["type"] == "locality" and region in _parents(G, n)}
        above = set(_parents(G, region))
    keep_edges = []
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
        keep_edges.append((u, v, k))
    nodes = {n for e in keep_edges for n in e[:2]}
    if mechanisms is None and status is None:
        locs = under if under is not None else {n for n in G if G.nodes[n]["type"] == "locality"}
        nodes |= locs
        for n in G:
            t = G.nodes[n]["type"]
            if t == "organization" and any(v in locs for v in G.successors(n)):
                nodes.add(n)
                nodes |= {v for v in G.successors(n) if G.nodes[v]["type"] == "role"}
            elif t == "requirement" and (under is None or G.nodes[n].get("loc") in under | above):
                nodes.add(n)
    # context: the parent chain of every locality, the broader chain of every mechanism
    for n in list(nodes):
        t = G.nodes[n]["type"]
        if t == "locality":
            nodes |= set(_parents(G, n))
        elif t == "mechanism":
            nodes |= nx.descendants(_broader_view(G), n)
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
        keep = set(sorted(H.nodes, key=lambda n: (-H.degree(n), n))[:max_nodes])
        # not H.subgraph(keep): its nodes come in the set's order, which string hashing makes
        # differ from run to run, and with them the page's layout and edge ids
        K = nx.MultiDiGraph(**H.graph)
        K.add_nodes_from((n, dict(d)) for n, d in H.nodes(data=True) if n in keep)
        K.add_edges_from((u, v, k, dict(d)) for u, v, k, d in H.edges(keys=True, data=True)
                         if u in keep and v in keep)
        H = K
    return H


STRUCTURAL = ("located_in", "broader")


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


def _broader_view(G):
    return nx.subgraph_view(G, filter_edge=lambda u, v, k: G.edges[u, v, k]["rel"] == "broader")


# ------------------------------------------------------------------ layout

def layout(G) -> dict:
    """Positions in pixels for every node: radial (large graphs) or force, seeded radially."""
    pos = radial_layout(G)
    n = G.number_of_nodes()
    if 2 < n <= SMALL_GRAPH:
        U = nx.Graph(G.to_undirected(as_view=True))
        extent = max(max(abs(x), abs(y)) for x, y in pos.values()) or 1.0
        seed = {v: (x / extent, y / extent) for v, (x, y) in pos.items()}
        p = nx.spring_layout(U, pos=seed, iterations=80, seed=1, k=3.0 / math.sqrt(n))
        scale = 70 * math.sqrt(n)
        pos = {v: (float(x) * scale, float(y) * scale) for v, (x, y) in p.items()}
    return {v: (round(x, 1), round(y, 1)) for v, (x, y) in pos.items()}


def radial_layout(G) -> dict:
    """Localities as a radial tree on the outer rings (organizations and requirement documents
    one ring beyond their locality), mechanisms as a radial tree in the centre, roles and
    unplaced nodes on rings between. Linear in the graph's size."""
    types = {n: d["type"] for n, d in G.nodes(data=True)}
    children: dict = {}
    parent = {}
    for u, v, d in G.edges(data=True):
        if d["rel"] == "located_in" and u not in parent:
            parent[u] = v
        elif d["rel"] == "broader" and u not in parent:
            parent[u] = v
    for n, d in G.nodes(data=True):
        if types[n] == "requirement" and d.get("loc") in G and n not in parent:
            parent[n] = d["loc"]
    for c, p in parent.items():
        children.setdefault(p, []).append(c)
    outer_roots = sorted((n for n in G if types[n] == "locality" and n not in parent), key=lambda n: G.nodes[n].get("code", n))
    inner_roots = sorted((n for n in G if types[n] == "mechanism" and n not in parent), key=lambda n: G.nodes[n].get("notation", n))
    placed = set()

    weights: dict = {}

    def w(n):
        if n not in weights:
            ch = children.get(n, [])
            weights[n] = max(1, sum(w(c) for c in ch)) if ch else 1
        return weights[n]

    pos = {}

    def place(roots, r0, dr, a0=0.0, a1=2 * math.pi):
        total = sum(w(r) for r in roots) or 1
        stack = []
        a = a0
        for r in roots:
            span = (a1 - a0) * w(r) / total
            stack.append((r, 0, a, a + span))
            a += span
        while stack:
            n, depth, lo, hi = stack.pop()
            if n in placed:
                continue
            placed.add(n)
            ang = (lo + hi) / 2
            rr = r0 + depth * dr
            if not children.get(n) and depth > 0:
                rr += (zlib.crc32(n.encode()) % 3) * dr * 0.25     # stagger dense leaves (deterministic)
            pos[n] = (rr * math.cos(ang), rr * math.sin(ang))
            ch = sorted(children.get(n, []), key=lambda c: (types[c], G.nodes[c].get("code", ""), c))
            tot = sum(w(c) for c in ch) or 1
            a = lo
            for c in ch:
                span = (hi - lo) * w(c) / tot
                stack.append((c, depth + 1, a, a + span))
                a += span

    inner_leaves = sum(w(r) for r in inner_roots)
    outer_leaves = sum(w(r) for r in outer_roots)
    r_inner = max(120.0, inner_leaves * 34 / (2 * math.pi))
    roles = sorted(n for n in G if types[n] == "role")
    r_roles = r_inner * 1.35 + 80 + len(roles) * 3
    r_outer0 = max(r_roles * 1.5 + 150, outer_leaves * 30 / (2 * math.pi) * 0.7)
    place(inner_roots, r_inner * 0.45, r_inner * 0.3)
    place(outer_roots, r_outer0, max(120.0, r_outer0 * 0.12))
    rest = roles + sorted(n for n in G if n not in placed and n not in roles)
    for i, n in enumerate(rest):
        ang = 2 * math.pi * i / max(1, len(rest))
        pos[n] = (r_roles * math.cos(ang), r_roles * math.sin(ang))
    return pos


# ------------------------------------------------------------------ page

def _size(deg: int) -> float:
    return round(min(40.0, 7 + 3 * math.sqrt(deg)), 1)


def _js(obj) -> str:
    """JSON that is safe inside a <script> element."""
    return (json.dumps(obj, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def network(G, pos):
    """The pyvis Network of G with positions, physics off."""
    from pyvis.network import Network
    net = Network(height="calc(100vh - 52px)", width="100%", directed=True, cdn_resources="in_line", heading="")
    for n, d in G.nodes(data=True):
        label, color, shape, _ = NODE_TYPES[d["type"]]
        x, y = pos[n]
        search = " ".join(filter(None, [d["label"], d.get("title_text"), d.get("notation"), d.get("code"),
                                        d.get("alts", "").replace("|", " ")]))
        net.add_node(n, label=_short(d["label"], 24), shape=shape, color=color, title=d["tip"],
                     x=x, y=y, size=_size(G.degree(n)), kind=d["type"], search=search, physics=False)
    ids = set(net.node_ids)
    net.node_ids = _Ids(net.node_ids, ids)      # O(1) membership for add_edge's existence check
    for i, (u, v, k, d) in enumerate(G.edges(keys=True, data=True)):
        rel = d["rel"]
        opts = {"id": f"e{i}", "rel": rel}
        if rel in ("implements", "requires"):
            opts.update(color=STATUS_COLOR[d["status"]], status=d["status"], width=1.6)
        else:
            opts.update(color=STRUCTURAL_COLOR, width=0.8, arrows={"to": {"enabled": rel != "located_in", "scaleFactor": 0.3}})
            if rel == "broader":
                opts["dashes"] = True
        if d.get("tip"):
            opts["title"] = d["tip"]
        if d.get("label"):
            opts["label"] = d["label"]
        net.add_edge(u, v, **opts)
    big = G.number_of_nodes() > 800
    net.options = {
        "physics": {"enabled": False},
        "layout": {"improvedLayout": False},
        "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": big, "hideEdgesOnZoom": big,
                        "multiselect": True},
        "nodes": {"font": {"size": 13, "face": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"}, "borderWidth": 1},
        "edges": {"smooth": False, "arrows": {"to": {"enabled": True, "scaleFactor": 0.4}},
                  "font": {"size": 10, "align": "middle"}, "selectionWidth": 2},
    }
    return net


class _Ids(list):
    def __init__(self, items, index):
        super().__init__(items)
        self._index = index

    def __contains__(self, x):
        return x in self._index

    def append(self, x):
        super().append(x)
        self._index.add(x)


_CSS = """
body{margin:0;overflow:hidden;font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:#222;background:#fff}
#kg-bar{display:flex;gap:10px;align-items:center;padding:8px 12px;height:36px;border-bottom:1px solid #ddd;background:#fafafa}
#kg-bar h1{font-size:16px;margin:0 10px 0 0;white-space:nowrap}
#kg-bar input,#kg-bar select{font-size:14px;padding:3px 6px}
#kg-bar input{width:16em} #kg-info{color:#666;font-size:13px}
#mynetwork{border:0 !important}
#kg-legend{position:absolute;right:12px;top:60px;background:rgba(255,255,255,.93);border:1px solid #ccc;
 border-radius:4px;padding:8px 10px;font-size:12px;line-height:1.55;z-index:10;max-width:300px}
#kg-legend b{display:block;margin-top:4px} .lg-edge{display:inline-block;width:24px;height:0;border-top:3px solid;vertical-align:middle;margin-right:6px}
.lg-dash{border-top-style:dashed} .lg-sym{display:inline-block;width:24px;text-align:center;font-size:15px}
div.vis-tooltip{max-width:460px;white-space:normal;font-size:12px;line-height:1.45}
.kg-tip .q{margin:3px 0;color:#333} .kg-tip .src,.kg-tip .more{color:#777;font-size:11px}
.kg-tip .st{padding:0 4px;border-radius:3px;color:#fff}
.st-implemented{background:#2e9d4a}.st-planned{background:#f0a202}.st-weakness{background:#d62728}.st-required{background:#1f77b4}
"""

_SCRIPT = r"""
(function () {
  function tipElement(markup) {
    var d = document.createElement('div');
    d.className = 'kg-tip';
    d.innerHTML = markup;      // escaped on the server: only the page's own markup is live
    return d;
  }
  function tips(set) {
    var upd = [];
    set.forEach(function (item) {
      if (typeof item.title === 'string') upd.push({id: item.id, title: tipElement(item.title)});
    });
    set.update(upd);
  }
  tips(nodes);
  tips(edges);
  var base = {};
  nodes.forEach(function (n) { base[n.id] = n.color; });
  var input = document.getElementById('kg-search');
  var sel = document.getElementById('kg-status');
  var info = document.getElementById('kg-info');
  var total = nodes.length;
  function search() {
    var q = input.value.trim().toLowerCase();
    var hits = {}, ids = [], upd = [];
    if (q) nodes.forEach(function (n) {
      if (((n.search || '') + ' ' + (n.label || '')).toLowerCase().indexOf(q) >= 0) { hits[n.id] = 1; ids.push(n.id); }
    });
    nodes.forEach(function (n) {
      upd.push({id: n.id, color: (!q || hits[n.id]) ? base[n.id] : '#e4e4e4'});
    });
    nodes.update(upd);
    network.selectNodes(ids, true);
    if (ids.length === 1) network.focus(ids[0], {scale: 1.3, animation: false});
    else if (ids.length > 1) network.fit({nodes: ids, animation: false});
    else network.fit({animation: false});
    info.textContent = q ? ids.length + ' of ' + total + ' nodes match' : total + ' nodes, ' + edges.length + ' edges';
  }
  function filterStatus() {
    var s = sel.value, upd = [];
    edges.forEach(function (e) { if (e.status) upd.push({id: e.id, hidden: !!s && e.status !== s}); });
    edges.update(upd);
  }
  var timer = null;
  input.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(search, 200); });
  input.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { clearTimeout(timer); search(); } });
  sel.addEventListener('change', filterStatus);
  info.textContent = total + ' nodes, ' + edges.length + ' edges';
  document.documentElement.setAttribute('data-kg-ready', '1');
})();
"""

_BOOTSTRAP = re.compile(r"<link\b[^>]*bootstrap[^>]*>|<script\b[^>]*bootstrap[^>]*>\s*</script>", re.I | re.S)
_EMPTY_HEADING = re.compile(r"<center>\s*<h1>\s*</h1>\s*</center>", re.S)
_EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe|source|video|audio|embed|object|frame|image|use)\b[^>]*?"
    r"\b(?:src|href|data|srcset|poster)\s*=\s*[\"']?\s*(?:https?:)?//"
    r"|url\(\s*[\"']?\s*(?:https?:)?//|@import\b", re.I | re.S)


def check_offline(page: str) -> None:
    """Refuse a page that would fetch anything from outside (AssertionError)."""
    m = _EXTERNAL.search(page)
    assert m is None, f"the page would load an external resource: {page[m.start():m.start() + 120]!r}"


def _legend() -> str:
    out = ['<div id="kg-legend"><b>nodes</b>']
    for label, color, _, sym in NODE_TYPES.values():
        out.append(f'<div><span class="lg-sym" style="color:{color}">{sym}</span>{_e(label)}</div>')
    out.append("<b>edges (implements / requires) by status</b>")
    for s in STATUSES:
        out.append(f'<div><span class="lg-edge" style="border-color:{STATUS_COLOR[s]}"></span>{_e(s)}</div>')
    out.append(f'<div><span class="lg-edge" style="border-color:{STRUCTURAL_COLOR}"></span>located in, holds role (count)</div>')
    out.append(f'<div><span class="lg-edge lg-dash" style="border-color:{STRUCTURAL_COLOR}"></span>broader mechanism</div>')
    out.append('<div class="src" style="color:#777">node size: degree · hover: evidence</div></div>')
    return "".join(out)


def _bar(title: str, left_out: int = 0) -> str:
    opts = '<option value="">all statuses</option>' + "".join(
        f'<option value="{s}">{_e(s)}</option>' for s in STATUSES)
    note = (f'<span id="kg-left-out" style="color:#a33;font-size:13px" title="the lightest edges (fewest documents and '
            f'sentences) among the nodes drawn: max_edges">+ {left_out} lighter edges not drawn</span>'
            if left_out else "")
    return (f'<div id="kg-bar"><h1>{_e(title)}</h1>'
            f'<input id="kg-search" type="search" placeholder="search: 乳山市, 法律顾问, M01 …" autocomplete="off">'
            f'<select id="kg-status" title="show edges of one status">{opts}</select>'
            f'<span id="kg-info"></span>{note}</div>')


def render(G, pos, title: str = "法治图谱", left_out: int = 0) -> str:
    """The page's HTML: pyvis's template, offline, with legend, search and status filter."""
    net = network(G, pos)
    page = net.generate_html(notebook=False)
    page = _BOOTSTRAP.sub("", page)
    page = _EMPTY_HEADING.sub("", page)
    page = page.replace("<html>", '<!DOCTYPE html>\n<html lang="zh">', 1)
    page = page.replace("<head>", f"<head>\n<title>{_e(title)}</title>", 1)
    page = page.replace("</head>", f"<style>{_CSS}</style>\n</head>", 1)
    page = re.sub(r"<body>", lambda m: "<body>\n" + _bar(title, left_out) + _legend(), page, count=1)
    idx = page.rfind("</body>")
    page = page[:idx] + f"<script>{_SCRIPT}</script>\n" + page[idx:]
    check_offline(page)
    return page


def write(G, out, title: str = "法治图谱", left_out: int = 0) -> VizResult:
    """Lay out G, render it and write the page to `out`; returns what was written, with timings.
    left_out: how many edges were not drawn (said on the page)."""
    t0 = time.perf_counter()
    pos = layout(G)
    t1 = time.perf_counter()
    page = render(G, pos, title, left_out)
    with open(out, "w", encoding="utf-8") as f:
        f.write(page)
    t2 = time.perf_counter()
    return VizResult(str(out), G.number_of_nodes(), G.number_of_edges(), {"layout": t1 - t0, "render": t2 - t1},
                     left_out)


def visualize(store, out, region=None, mechanism=None, status=None, max_nodes=DEFAULT_MAX_NODES,
              max_edges=DEFAULT_MAX_EDGES) -> VizResult:
    """Query the store, filter, lay out and write the page (at most max_edges edges drawn)."""
    rid = resolve_region(region) if region else None
    t0 = time.perf_counter()
    G = build_graph(store, rid, quote_all=False)
    t1 = time.perf_counter()
    mechs = resolve_mechanism(store, mechanism) if mechanism else None
    try:
        H = select(G, rid, mechs, status, max_nodes)
    except VizError:
        if region and rid not in G:
            raise VizError(f"no document of {region} ({rid.split(':', 1)[1]}) or of any locality under it "
                           f"in the store") from None
        raise
    what = [f for f in (region, mechanism, status) if f]
    title = "法治图谱" + (" — " + " · ".join(what) if what else "")
    H, left_out = cap_edges(H, max_edges)
    t2 = time.perf_counter()
    quote(store, H)
    t3 = time.perf_counter()
    result = write(H, out, title, left_out)
    result.timings = {"query": t1 - t0, "select": t2 - t1, "quotes": t3 - t2, **result.timings}
    return result
