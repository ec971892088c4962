"""The lexicon, compiled from the ontology at run time.

Two products: an Aho-Corasick matcher per concept scheme (leftmost-longest, so 行政执法监督
wins over 执法监督 and 执法全过程记录制度 over 全过程记录), and a jieba tokenizer whose user
dictionary holds every label so domain terms segment as one word. Adding an altLabel to
the Turtle is all it takes to teach both a new phrasing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import ahocorasick

from . import ontology
from .offsets import OffsetMap, delete_spans

# Quotes vary between reports (“双公示” / "双公示" / 双公示); matching ignores them.
_QUOTES = re.compile(r"[“”\"‘’'「」『』]")


def match_form(text: str) -> str:
    return _QUOTES.sub("", text)


def match_view(text: str) -> tuple[str, OffsetMap]:
    """The text without quote marks, and the map back to the text."""
    return delete_spans(text, [(m.start(), m.end()) for m in _QUOTES.finditer(text)])


@dataclass(frozen=True)
class Entry:
    notation: str
    label: str          # the concept's prefLabel
    surface: str        # the label that matched
    evidence_only: bool # an kg:evidenceLabel (执法记录仪 shows 执法全过程记录 without naming it)


class Hit(NamedTuple):      # a tuple: a document has a hundred, made in a tight loop
    start: int
    end: int
    entry: Entry


class Matcher:
    def __init__(self, concepts):
        self._auto = ahocorasick.Automaton()
        entries: dict[str, Entry] = {}
        for c in concepts:
            for surface in c.labels:
                key = match_form(surface)
                if key and key not in entries:
                    entries[key] = Entry(c.notation, c.label, surface, False)
            for surface in c.evidence_labels:
                key = match_form(surface)
                if key and key not in entries:
                    entries[key] = Entry(c.notation, c.label, surface, True)
        for key, entry in entries.items():
            self._auto.add_word(key, (len(key), entry))
        self.size = len(entries)
        if entries:
            self._auto.make_automaton()

    def find(self, text: str, view: tuple[str, OffsetMap] | None = None) -> list[Hit]:
        """Leftmost-longest, non-overlapping hits in `text` (quote marks ignored). `view` is
        match_view(text) when the caller has it already (it scans a text with two matchers)."""
        if not self.size:
            return []
        view, back = view or match_view(text)
        span = back.span
        return [Hit(*span(end - length + 1, end + 1), entry)
                for end, (length, entry) in self._auto.iter_long(view)]


@lru_cache(maxsize=1)
def mechanism_matcher() -> Matcher:
    return Matcher(ontology.mechanisms())


@lru_cache(maxsize=1)
def institution_matcher() -> Matcher:
    return Matcher(ontology.institution_kinds())


@lru_cache(maxsize=1)
def known_terms() -> frozenset[str]:
    return frozenset(match_form(label) for c in ontology.mechanisms() + ontology.institution_kinds()
                     for label in c.labels + c.evidence_labels)


@lru_cache(maxsize=1)
def tokenizer():
    """A jieba tokenizer that knows every label of the ontology as one word."""
    import logging

    import jieba
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    for term in known_terms():
        if len(term) > 1:
            tok.add_word(term, freq=max(2000, 200 * len(term)))
    return tok
