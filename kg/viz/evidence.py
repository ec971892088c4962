"""Evidence held by the graph until quote() reads its texts: groups of sentences of a document."""
from __future__ import annotations

from dataclasses import dataclass


class Spans:
    """The evidence sentences of one assertion of one document: its graph's IRI and the
    sentences' source offsets as its assertion-index line writes them (`start,end start,end …`,
    in text order, each once: kg.rdf.format_assertion_index), so that their IRIs are
    `<doc>#char=start,end` without parsing. A store of 10,000 documents has ~250,000 of these
    and the view quotes a few thousand: a plain class with slots, its offsets left as written."""
    __slots__ = ("doc", "written")

    def __init__(self, doc: str, written: str):
        self.doc, self.written = doc, written

    def __eq__(self, other):
        return isinstance(other, Spans) and (self.doc, self.written) == (other.doc, other.written)

    def __hash__(self):
        return hash((self.doc, self.written))

    def __repr__(self):
        return f"Spans({self.doc!r}, {self.written!r})"

    def iris(self):
        return [f"{self.doc}#char={span}" for span in self.written.split(" ")]

    def __len__(self):
        return self.written.count(" ") + 1


@dataclass(frozen=True)
class Sentences:
    """Evidence sentences of one document named by their IRIs."""
    doc: str
    sentences: tuple

    def iris(self):
        return list(self.sentences)


def evidence_count(x) -> int:
    """How many sentences an item of evidence stands for (an obligation's text is one)."""
    return len(x) if isinstance(x, Spans) else 1


class Weights(dict):
    """Edge → (documents, evidence sentences): how heavy an edge is, for cap_edges(). Computed
    from the edge's evidence (`evidence`: edge → (status, document → items, how)) when first
    asked for, as only a view with more edges than it draws asks (a 10,000-document store has
    ~140,000 edges and ~250,000 groups of sentences); an edge whose evidence counts otherwise
    (a "holds role" edge's posts) is set."""

    def __init__(self, evidence: dict):
        super().__init__()
        self.evidence = evidence

    def __missing__(self, edge):
        if edge not in self.evidence:
            raise KeyError(edge)
        by_doc = self.evidence[edge][1]
        weight = (len(by_doc), sum(evidence_count(x) for items in by_doc.values() for x in items))
        self[edge] = weight
        return weight

    def __contains__(self, edge):
        return dict.__contains__(self, edge) or edge in self.evidence

    def get(self, edge, default=None):
        return self[edge] if edge in self else default

