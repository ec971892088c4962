"""The store's rows as a graph: a networkx MultiDiGraph of typed nodes and edges, with the
evidence of each edge held until quote() reads the texts of what is drawn."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import networkx as nx

from ..rdf import KGI, KGL
from .evidence import Spans, Weights
from .nodes import doc_id, kind_id, level_of, loc_id, local_name, mech_id, org_id
from .organizations import organization_rows
from .quotes import quote
from .source import named_rows
from .text import file_name, number, short
from .tips import node_tips


def build_graph(store, region: str | None = None, quote_all: bool = True,
                organizations: bool = True, tips: bool = True, assertion_edges: bool = True) -> nx.MultiDiGraph:
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
    organizations: False leaves out organizations and roles (the default view draws neither;
    they come from the documents' kg:organizationIndex, kg.viz.organizations). tips: False
    leaves the nodes without tooltips, for a view that writes its own (bipartite(); with
    quote_all they are made anyway).
    assertion_edges: False keeps the assertions in G.graph["evidence"] only (G.graph["unlinked"]),
    without their ~140,000 networkx edges at 10,000 documents: for bipartite() of the whole
    graph, which reads them there (select() needs the edges).
    """
    rows = _scoped_rows(store, region)
    # the documents' rows read in a thread while this one reads the localities and mechanisms:
    # the documents' query is most of the reading (~0.5 s of ~0.7 s at 10,000 documents) and
    # spends it in Oxigraph, which lets go of the GIL (the two together: ~0.5 s)
    with ThreadPoolExecutor(1) as pool:
        documents = pool.submit(rows, "documents")
        G = nx.MultiDiGraph()
        _add_localities(G, rows("localities") if region else documented_and_above(rows("localities")))
        # the few hundred mechanisms of the scheme and the few institution kinds: never scoped
        _add_mechanisms(G, named_rows(store, "viz-mechanisms"))
        document_rows = documents.result()
    implements: dict = {}
    requires: dict = {}
    docs = _read_assertions(G, document_rows, implements, requires)
    _read_obligations(G, rows("obligations"), docs, requires)
    G.graph["evidence"] = {}
    G.graph["weight"] = Weights(G.graph["evidence"])
    G.graph["documents"] = docs
    G.graph["unlinked"] = not assertion_edges
    _add_assertion_edges(G, implements, requires, assertion_edges)
    if organizations:
        kinds = {str(r["kind"]): r for r in named_rows(store, "viz-institutions")}
        _add_organizations(G, organization_rows(store, _target(region)), kinds)
    if tips or quote_all:
        node_tips(G)
    if quote_all:
        quote(store, G)
    return G


def base_graph(store) -> nx.MultiDiGraph:
    """The localities some document is about and those above them, and the mechanisms: what
    the default view kept at build time (kg.viz.kept) names its groups and mechanisms by."""
    G = nx.MultiDiGraph()
    _add_localities(G, documented_and_above(named_rows(store, "viz-localities")))
    _add_mechanisms(G, named_rows(store, "viz-mechanisms"))
    return G


def _target(region: str | None) -> str | None:
    """The locality IRI of a region's node id."""
    return None if region is None else KGL + region.split(":", 1)[1]


def _scoped_rows(store, region):
    """name → the rows of viz-<name>, or of viz-region-<name> bound to the region."""
    if region is None:
        return lambda name: named_rows(store, "viz-" + name)
    target = {"target": f"<{_target(region)}>"}
    return lambda name: named_rows(store, "viz-region-" + name, target)


def documented_and_above(rows) -> list[dict]:
    """The rows of viz-localities (every division) of the divisions some document is about
    (?documented) and of every division above them, in their order."""
    up: dict = {}
    for r in rows:
        if r.get("parent"):
            up.setdefault(str(r["loc"]), []).append(str(r["parent"]))
    keep: set = set()
    todo = [str(r["loc"]) for r in rows if r.get("documented")]
    while todo:
        loc = todo.pop()
        if loc not in keep:
            keep.add(loc)
            todo.extend(up.get(loc, ()))
    return [r for r in rows if str(r["loc"]) in keep]


def _add_localities(G, rows) -> None:
    """Localities and their parent chain, up to the province: the nation is left out."""
    for r in rows:
        level = level_of(r.get("level") or "")
        if level == "NationLevel":
            continue
        n = loc_id(r["loc"])
        G.add_node(n, type="locality", label=str(r["name"]), code=str(r.get("code") or ""),
                   level=level, docs=set())
        if r.get("parent"):
            G.add_edge(n, loc_id(r["parent"]), key="located_in", rel="located_in")
    for n in [n for n in G if n not in G.nodes or "type" not in G.nodes[n]]:
        G.remove_node(n)          # a parent that is the nation (or unknown)


def _add_mechanisms(G, rows) -> None:
    """Mechanisms and their hierarchy."""
    for r in rows:
        n = mech_id(r["m"])
        G.add_node(n, type="mechanism", label=str(r.get("label") or r["notation"]),
                   notation=str(r["notation"]), alts=str(r.get("alts") or ""), quotes=[], localities=set())
    for r in rows:
        if r.get("broader") and mech_id(r["broader"]) in G:
            G.add_edge(mech_id(r["m"]), mech_id(r["broader"]), key="broader", rel="broader")


def _read_assertions(G, rows, implements: dict, requires: dict) -> dict:
    """Assertions, from the documents' assertion indexes (a row per document): locality →
    mechanism by status into `implements`, requirement document → mechanism into `requires`.
    The evidence is kept as groups of sentences (Spans, their offsets as written), whose texts
    quote() reads for the edges and mechanisms drawn. Returns document node id → its row.
    (~250,000 lines at 10,000 documents, ~0.45 s: what is the same for a document is looked up
    once, and a line costs a split, a Spans, a look-up of its edge and two appends.)"""
    docs: dict = {}
    # an index line names its mechanism by notation, its node is "m:" + that (mech_id)
    mechanisms = {n[2:]: (n, d) for n, d in G.nodes(data=True) if d["type"] == "mechanism"}
    for r in rows:
        d, doc = doc_id(r["doc"]), str(r["doc"])
        lines = [x for x in (line.split(" ", 2) for line in str(r["index"]).split("\n")) if x[0] in mechanisms]
        if not lines:
            continue
        docs.setdefault(d, r)
        loc = loc_id(r["loc"]) if r.get("loc") else None
        place = G.nodes[loc] if loc is not None and loc in G else None
        if str(r.get("doctype") or "") == "notice":
            lines = _read_requirements(G, d, r, lines, mechanisms, requires)
        if place is None or not lines:
            continue
        source = file_name(r["source"])
        place["docs"].add(source)
        label = place["label"]
        for notation, status, written in lines:
            m, mechanism = mechanisms[notation]
            group = Spans(doc, written)
            # get, not setdefault: a setdefault makes its default dict (list) on every line
            by_doc = implements.get((loc, m, status))
            if by_doc is None:
                implements[(loc, m, status)] = {d: [group]}
                mechanism["localities"].add(loc)        # a new edge: perhaps a new locality
            elif d in by_doc:
                by_doc[d].append(group)
            else:
                by_doc[d] = [group]
            mechanism["quotes"].append((loc, label, source, group))
    return docs


def _read_requirements(G, d, r, lines, mechanisms: dict, requires: dict) -> list:
    """A requirement document's lines (notation, status, offsets): the node of the document, its
    "required" lines into `requires`; the other lines, which count for its locality as any
    document's."""
    _add_requirement(G, d, r)
    rest = []
    for line in lines:
        notation, status, written = line
        if status != "required":
            rest.append(line)
            continue
        e = requires.setdefault((d, mechanisms[notation][0]), {"docs": {}, "how": set()})
        e["docs"].setdefault(d, []).append(Spans(str(r["doc"]), written))
        e["how"].add("required")
    return rest


def _read_obligations(G, rows, docs: dict, requires: dict) -> None:
    """Obligations a requirement document states, with their texts, into `requires`."""
    for r in rows:
        m = mech_id(r["m"])
        if m not in G:
            continue
        d = doc_id(r["doc"])
        docs.setdefault(d, r)
        _add_requirement(G, d, r)
        e = requires.setdefault((d, m), {"docs": {}, "how": set()})
        e["docs"].setdefault(d, []).append(r.get("text"))
        e["how"].add(str(r.get("modality") or "obligation"))


def _add_requirement(G, d, r) -> None:
    if d not in G:
        title = str(r.get("title") or file_name(r["source"]))
        G.add_node(d, type="requirement", label=short(title, 18), title_text=title,
                   source=str(r["source"]), loc=loc_id(r["loc"]) if r.get("loc") else None,
                   mechanisms=set(), quotes=[])


def _add_assertion_edges(G, implements: dict, requires: dict, edges: bool = True) -> None:
    """The implements and requires edges (unless not `edges`), with their evidence (their
    weight follows from it)."""
    evidence = G.graph["evidence"]
    keys: dict = {}         # status → its edge key: one string for the ~140,000 edges at 10,000 documents
    for (loc, m, status), by_doc in implements.items():
        k = keys.get(status) or keys.setdefault(status, f"implements-{status}")
        if edges:
            G.add_edge(loc, m, key=k, rel="implements", status=status)
        evidence[(loc, m, k)] = (status, by_doc, ())
    for (d, m), e in requires.items():
        if edges:
            G.add_edge(d, m, key="requires", rel="requires", status="required")
        evidence[(d, m, "requires")] = ("required", e["docs"], tuple(sorted(e["how"])))
        G.nodes[d]["mechanisms"].add(m)


def _add_organizations(G, rows, kinds: dict) -> None:
    """Organizations, the roles they hold, the locality they are in. A role's tooltip quotes
    the posts of its kind in the organization's first documents: quote() reads them."""
    holds: dict = {}
    for r in rows:
        o = org_id(r["org"])
        if o not in G:
            G.add_node(o, type="organization", label=str(r["name"]), how=set(), docs=set())
        G.nodes[o]["how"].add(str(r["how"]))
        G.nodes[o]["docs"].add(file_name(r["source"]))
        if r.get("loc") and loc_id(r["loc"]) in G:
            G.add_edge(o, loc_id(r["loc"]), key="located_in", rel="located_in")
        if r.get("kind"):
            _add_role(G, o, r, kinds, holds)
    for (o, kn), h in holds.items():
        count = h["count"]
        label = number(count) if count is not None else ""
        G.add_edge(o, kn, key="holds_role", rel="holds_role", label=label)
        G.graph["evidence"][(o, kn, "holds_role")] = (None, h["docs"], ())
        G.graph["weight"][(o, kn, "holds_role")] = (len(h["docs"]), 0)


def _add_role(G, o, r, kinds: dict, holds: dict) -> None:
    """The role of the row's institution kind, held by organization `o` (count, posts)."""
    k = str(r["kind"])
    kn = kind_id(k)
    if kn not in G:
        info = kinds.get(k, {})
        G.add_node(kn, type="role", label=str(info.get("label") or local_name(k, KGI)),
                   notation=str(info.get("notation") or local_name(k, KGI)))
    h = holds.setdefault((o, kn), {"count": None, "docs": {}})
    if r.get("count") is not None:
        h["count"] = max(h["count"] or 0, float(r["count"]))
    h["docs"].setdefault(file_name(r["source"]), f'{r["doc"]}#post-{local_name(k, KGI)}')
