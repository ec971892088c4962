"""The graph's default view of the whole store, kept at build time, group by group.

At 10,000 documents the default view (kg.viz.bipartite) groups ~3,000 localities by province;
drawn from the documents it reads ~250,000 assertion-index lines, merges them into ~140,000
locality × mechanism × status parts and those into ~1,500 edges: ~3 s, where the page is to
take under 2. What it draws of a group changes only when the documents of one of its localities
do, so kg.summary keeps, beside the matrix cells, one literal per group of each level
(prefecture and province: GROUP_LEVELS) that holds what the view draws of it, computed as
kg.viz.graph and kg.viz.bipartite compute it from the documents:

    <summary/view/province/…> kg:viewLevel "province" ; kg:viewCells "HEAD\\nBODY" .

HEAD (a JSON array; read alone to choose the level) is [localities, locality × mechanism
pairs, [notations]] of the group. BODY (a JSON object):

    "group":   the group's locality IRI
    "members": the localities with an assertion, by node id (`loc:` + code) — the view's order
    "files":   the file names of the members' documents that report (the node's tooltip)
    "docs":    [[document IRI, source, title], …] — the documents named below, by place
    "edges":   [notation, [[status, documents], …] strongest first, documents, sentences,
                [[doc, [spans, …], [texts, …]], …]] — the edge's first FIRST_DOCUMENTS
               documents: a tooltip quotes two, and says how many more
    "reports": [notation, localities, [[member, doc, line, spans], …]] — the first
               FIRST_DOCUMENTS reports by locality, source and line (a mechanism's quotes)

The assertions are merged as the view merges them: a requirement document's "required" lines
(and its obligations' texts) count for its locality but are not reports; the parts of an edge
come requirement documents first (by node id), then localities by node id, documents by
source; an edge's documents are those of its strongest status, then the others' (STATUSES).
"""
from __future__ import annotations

import itertools
import json
from collections import defaultdict
from urllib.parse import quote as url_quote

from . import statuses
from .rdf import BASE, KG, KGD, KGL

GROUP_LEVELS = ("prefecture", "province")
FIRST_DOCUMENTS = 3
# a group is the nearest locality of one of these levels above a locality (or itself)
_GROUPING = {"prefecture": ("PrefectureLevel", "ProvinceLevel"), "province": ("ProvinceLevel",)}
_NATION = "NationLevel"


def ancestor(chain: list, level_of, level: str):
    """The group at `level` of a locality: `chain` is it and its parents, nearest first;
    `level_of(node)` a node's level (`PrefectureLevel` …). A province's group is the last of the
    chain; a prefecture's the first of prefecture level or above, else the last."""
    if level == "province":
        return chain[-1]
    for p in chain:
        if level_of(p) in _GROUPING[level]:
            return p
    return chain[-1]


def subject(level: str, group: str) -> str:
    """The IRI the literal of `group` (a locality IRI) at `level` is stated of: …/province/370000."""
    local = group[len(KGL):] if group.startswith(KGL) else group
    return f"{BASE}summary/view/{level}/{url_quote(local, safe='')}"


def node_key(iri: str, base: str, prefix: str) -> str:
    """The graph view's node id of an IRI (kg.viz.nodes): the order it sorts in."""
    return prefix + (iri[len(base):] if iri.startswith(base) else iri)


class Places:
    """The localities the view can draw (queries/viz-localities.rq rows, the nation left out)
    and the groups they fall in."""

    def __init__(self, rows):
        self.level: dict = {}
        parents: dict = {}
        for r in rows:
            level = str(r.get("level") or "")
            level = level[len(KG):] if level.startswith(KG) else level
            if level != _NATION:
                self.level[str(r["loc"])] = level
                if r.get("parent"):
                    parents.setdefault(str(r["loc"]), []).append(str(r["parent"]))
        # the first parent that is drawn, as the view follows the first located_in edge
        self.parent = {loc: next(p for p in ps if p in self.level)
                       for loc, ps in parents.items() if any(p in self.level for p in ps)}

    def chain(self, loc: str) -> list:
        out, seen = [loc], {loc}
        while out[-1] in self.parent and self.parent[out[-1]] not in seen:
            out.append(self.parent[out[-1]])
            seen.add(out[-1])
        return out

    def group(self, loc: str, level: str) -> str:
        return ancestor(self.chain(loc), self.level.get, level)

    def provinces(self) -> set:
        return {loc for loc, level in self.level.items() if level == "ProvinceLevel"}


def group_literals(index_rows, obligation_rows, places: Places, groups=None, notices=frozenset(),
                   titles=lambda docs: {}) -> dict:
    """(level, group IRI) → its kg:viewCells literal, for every group the rows' localities fall
    in (or only `groups`: (level, group) pairs). index_rows: (locality, document, source,
    assertion index); obligation_rows: (locality, document, source, title, notation, text) of
    requirement documents, in the order the view reads them (viz-obligations); notices: the
    requirement documents (doctype notice); titles(documents) → document → title, asked for the
    few documents a group names (a title read with every index made the read 1.5× as long)."""
    parts = _Parts(places)
    for loc, doc, source, index in sorted(index_rows, key=lambda r: (r[2], r[1])):
        parts.document(loc, doc, source, doc in notices, index)
    for loc, doc, source, title, notation, text in obligation_rows:
        parts.obligation(loc, doc, source, title, notation, text)
    members: dict = defaultdict(set)
    for loc in parts.localities():
        for level in GROUP_LEVELS:
            members[level, places.group(loc, level)].add(loc)
    made = {key: parts.literal(key[1], sorted(locs, key=_loc_key))
            for key, locs in members.items() if groups is None or key in groups}
    named = titles(sorted({d[0] for _, body in made.values() for d in body["docs"] if d[2] is None}))
    for _, body in made.values():
        for d in body["docs"]:
            if d[2] is None:
                d[2] = named.get(d[0])
    return {key: json.dumps(head, ensure_ascii=False, separators=(",", ":")) + "\n"
            + json.dumps(body, ensure_ascii=False, separators=(",", ":")) for key, (head, body) in made.items()}


def _loc_key(iri: str) -> str:
    return node_key(iri, KGL, "loc:")


def _items() -> tuple:
    """A document's evidence of one edge: ([spans of each line], [texts], [sentences])."""
    return ([], [], [0])


class _Parts:
    """The documents' assertions by locality, mechanism and status, as kg.viz.graph reads them."""

    def __init__(self, places: Places):
        self.places = places
        self.implements: dict = {}      # loc → (notation, status) → doc → items
        self.requires: dict = {}        # (doc, notation) → items (a requirement document's own)
        self.req_loc: dict = {}         # requirement document → its locality
        self.reports: dict = {}         # (loc, notation) → its first [(doc, line, spans)]
        self.files: dict = {}           # loc → file names of its reporting documents
        self.docs: dict = {}            # doc → (source, title)

    def document(self, loc, doc, source, notice: bool, index) -> None:
        if loc not in self.places.level:
            return
        mine = None
        for i, line in enumerate(index.split("\n")):
            notation, status, spans = line.split(" ", 2)
            if notice and status == "required":
                items = self.requires.get((doc, notation))
                if items is None:
                    items = self.requires[doc, notation] = _items()
                self.req_loc[doc] = loc
                self.docs[doc] = (source, None)
            else:
                if mine is None:
                    mine = self.implements.setdefault(loc, {})
                    self.docs[doc] = (source, None)
                    self.files.setdefault(loc, set()).add(str(source).rsplit("/", 1)[-1])
                by_doc = mine.get((notation, status))
                if by_doc is None:
                    by_doc = mine[notation, status] = {}
                items = by_doc.get(doc)
                if items is None:
                    items = by_doc[doc] = _items()
                first = self.reports.get((loc, notation))
                if first is None:
                    self.reports[loc, notation] = [(doc, i, spans)]
                elif len(first) < FIRST_DOCUMENTS:
                    first.append((doc, i, spans))
            items[0].append(spans)
            items[2][0] += spans.count(" ") + 1

    def obligation(self, loc, doc, source, title, notation, text) -> None:
        if loc not in self.places.level:
            return
        items = self.requires.get((doc, notation))
        if items is None:
            items = self.requires[doc, notation] = _items()
        items[1].append(text)
        items[2][0] += 1
        self.req_loc.setdefault(doc, loc)
        self.docs.setdefault(doc, (source, title))

    def localities(self) -> set:
        return set(self.implements) | {self.req_loc[doc] for doc, _ in self.requires}

    def literal(self, group: str, members: list) -> tuple:
        """The group's head and body (a title None: to be looked up)."""
        member_set = set(members)
        by_pair: dict = defaultdict(lambda: defaultdict(dict))     # notation → status → doc → items
        required = sorted(((node_key(doc, KGD, "doc:"), doc, n) for doc, n in self.requires
                           if self.req_loc[doc] in member_set))
        for _, doc, n in required:
            by_pair[n]["required"][doc] = self.requires[doc, n]
        pairs = {(self.req_loc[doc], n) for _, doc, n in required}
        for loc in members:
            for (n, status), by_doc in self.implements.get(loc, {}).items():
                pairs.add((loc, n))
                by_pair[n][status].update(by_doc)
        docs: dict = {}                 # doc → its place in the body's "docs"
        edges = [self._edge(n, by_status, docs) for n, by_status in sorted(by_pair.items())]
        reports = []
        for n in sorted(by_pair):
            first, locs = [], 0
            for k, loc in enumerate(members):
                found = self.reports.get((loc, n))
                if found:
                    locs += 1
                    first.extend([k, docs.setdefault(doc, len(docs)), line, spans]
                                 for doc, line, spans in found[:FIRST_DOCUMENTS - len(first)])
            if locs:
                reports.append([n, locs, first])
        files = sorted(set().union(*(self.files.get(loc, set()) for loc in members)))
        head = [len(members), len(pairs), [e[0] for e in edges]]
        body = {"group": group, "members": members, "files": files,
                "docs": [[doc, *self.docs.get(doc, ("", None))] for doc in docs],
                "edges": edges, "reports": reports}
        return head, body

    @staticmethod
    def _edge(notation: str, by_status: dict, docs: dict) -> list:
        order = [s for s in statuses.stated() if s in by_status]
        merged = by_status[order[0]]
        if len(order) > 1:
            merged = dict(merged)
            for s in order[1:]:
                for doc, items in by_status[s].items():
                    merged.setdefault(doc, items)
        sentences = sum(items[2][0] for items in merged.values())
        first = [[docs.setdefault(doc, len(docs)), spans, texts]
                 for doc, (spans, texts, _) in itertools.islice(merged.items(), FIRST_DOCUMENTS)]
        return [notation, [[s, len(by_status[s])] for s in order], len(merged), sentences, first]
