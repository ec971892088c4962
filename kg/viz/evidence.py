"""Evidence held by the graph until quote() reads its texts: groups of sentences of a document."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Spans:
    """The evidence sentences of one assertion of one document: its graph's IRI and the
    sentences' source offsets (their IRIs are `<doc>#char=start,end`)."""
    doc: str
    spans: tuple

    def iris(self):
        return [f"{self.doc}#char={s},{e}" for s, e in self.spans]


@dataclass(frozen=True)
class Sentences:
    """Evidence sentences of one document named by their IRIs."""
    doc: str
    sentences: tuple

    def iris(self):
        return list(self.sentences)


def evidence_count(x) -> int:
    """How many sentences an item of evidence stands for (an obligation's text is one)."""
    return len(x.spans) if isinstance(x, Spans) else 1
