"""The evidence texts of what is drawn: quote() reads only the sentences the tooltips show."""
from __future__ import annotations

import itertools
from operator import itemgetter

from ..query import sentence_texts
from .evidence import Sentences, Spans
from .source import post_evidence
from .text import MAX_QUOTES, escape, quotes_html, short
from .tips import evidence_tip, mechanism_quotes, role_edge_tip


class SentenceTexts:
    """The texts of the sentences read so far (None: a sentence without a text)."""

    def __init__(self, store):
        self.store = store
        self.known: dict = {}

    def read(self, groups) -> None:
        """Read the texts of the groups' sentences not read yet."""
        graph_of = {i: g.doc for g in groups for i in g.iris() if i not in self.known}
        self.known.update(sentence_texts(self.store, graph_of))
        for i in graph_of:
            self.known.setdefault(i, None)

    def expand(self, items) -> list:
        """Items of evidence as texts: a group of sentences as its distinct texts in text order
        (None when it has none), anything else as itself."""
        out = []
        for x in items:
            if isinstance(x, Spans):
                found = sorted({self.known[i] for i in x.iris() if self.known[i] is not None})
                out.extend(found or [None])
            else:
                out.append(x)
        return out


def quote(store, G) -> None:
    """Fill in the evidence tooltips of G's implements and requires edges and the quotes of its
    mechanisms, in place, reading the texts of only the sentences they show: of an edge, those of
    its first two documents; of a mechanism, those of its first reports up to MAX_QUOTES
    distinct quotes. Each group of sentences reads as its distinct texts in text order (as one
    row per sentence, ordered by text, did)."""
    if G.graph.get("quoted"):
        return
    G.graph["quoted"] = True
    texts = SentenceTexts(store)
    evidence = G.graph.get("evidence", {})
    drawn = [(e, evidence[e]) for e in G.edges(keys=True) if e in evidence]
    holds = [(e, x) for e, x in drawn if e[2] == "holds_role"]
    drawn = [(e, x) for e, x in drawn if e[2] != "holds_role"]
    texts.read([x for _, (_, by_doc, _) in drawn for items in list(by_doc.values())[:2] for x in items
                if isinstance(x, Spans)])
    _quote_roles(store, G, texts, holds)
    docs = G.graph.get("documents", {})
    for (u, v, k), (status, by_doc, how) in drawn:
        # the first two documents quoted, a third to say there are more (a province's edge has
        # hundreds of documents)
        shown = {d: (texts.expand(items) if i < 2 else []) for i, (d, items) in
                 enumerate(itertools.islice(by_doc.items(), 3))}
        # an edge of a view kept at build time holds its first documents only, and says how many
        total = G.edges[u, v, k].get("docs", len(by_doc))
        G.edges[u, v, k]["tip"] = evidence_tip(G, u, v, status, shown, docs, how=how, total=total)
    for n, d in G.nodes(data=True):
        if d["type"] == "mechanism" and d.get("quotes"):
            # by locality (node id), then as read: documents by source, their lines in order
            refs = [q[1:] for q in sorted(d["quotes"], key=itemgetter(0))]
            d["tip"] = d["tip"] + mechanism_quotes(_first_quotes(texts, refs))


def _quote_roles(store, G, texts, holds) -> None:
    """The tooltips of "holds role" edges: the posts of the role's kind in the organization's
    first two documents, quoted."""
    posts = post_evidence(store, {p: p.split("#", 1)[0] for _, (_, by_file, _) in holds
                                  for p in list(by_file.values())[:2]})
    texts.read([Sentences(p.split("#", 1)[0], tuple(s)) for p, s in posts.items()])
    for (u, v, k), (_, by_file, _) in holds:
        tip = role_edge_tip(G, u, v, G.edges[u, v, k].get("label"))
        for f, p in list(by_file.items())[:2]:
            quotes = sorted({texts.known[i] for i in posts.get(p, ()) if texts.known[i]})
            tip += quotes_html(quotes, 2) + f'<div class="src">— {escape(f)}</div>'
        G.edges[u, v, k]["tip"] = tip


def _first_quotes(texts, refs) -> list:
    """Up to MAX_QUOTES distinct (place, file, sentence) of a mechanism's reports (`refs`: place,
    file, evidence), reading the texts of MAX_QUOTES reports at a time."""
    seen, i = [], 0
    while i < len(refs) and len(seen) < MAX_QUOTES:
        chunk = refs[i:i + MAX_QUOTES]
        texts.read([g for _, _, g in chunk if isinstance(g, Spans)])
        for place, f, g in chunk:
            for text in texts.expand([g]):
                if text is None or len(seen) >= MAX_QUOTES:
                    continue
                s = short(text)
                if s not in [x[2] for x in seen]:
                    seen.append((place, f, s))
        i += MAX_QUOTES
    return seen
