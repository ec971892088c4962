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
from .read.cues import alternation
from .resources import MissingData

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
    context: tuple = () # a kg:weakLabel: counts only where one of these kg:contextCue words stands
    blocking: tuple = ()# … and where none of these kg:blockingCue words stands
    weak: bool = False  # a kg:weakLabel


class Hit(NamedTuple):      # a tuple: a document has a hundred, made in a tight loop
    start: int
    end: int
    entry: Entry


class Matcher:
    def __init__(self, concepts, weak: dict | None = None):
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
            for surface, context, blocking in (weak or {}).get(c.notation, ()):
                # a weak label may also be a label of its concept (the catalogue's 业务培训): as a
                # weak label it counts only in context
                key = match_form(surface)
                if key and (key not in entries or entries[key].notation == c.notation):
                    entries[key] = Entry(c.notation, c.label, surface, True, context, blocking, True)
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
    return Matcher(ontology.mechanisms(), weak_labels())


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


# ---------------------------------------------------------------- patterns (regular expressions as data)

@dataclass(frozen=True)
class Signal:
    """A kg:DoctypeSignal of ontology/kg.ttl: a pattern searched in a zone of a document."""
    notation: str
    doctype: str        # the notation of the kg:DoctypeScheme concept it kg:signals
    zone: str           # title | head | tail | body
    weight: int
    pattern: re.Pattern


@lru_cache(maxsize=1)
def doctype_signals() -> tuple[Signal, ...]:
    g = ontology.graph()
    kg = ontology.KG
    out = []
    for c in ontology.scheme(str(kg.DoctypeSignalScheme)):
        node = c.iri
        target = g.value(node, kg.signals)
        pattern = g.value(node, kg.pattern)
        if target is None or not pattern:
            continue
        out.append(Signal(c.notation, str(g.value(target, ontology.SKOS.notation)),
                          str(g.value(node, kg.zone) or "body"),
                          int(g.value(node, kg.weight) or 1), re.compile(pattern)))
    return tuple(out)


@lru_cache(maxsize=1)
def doctype_title_weights() -> dict[str, int]:
    """{doctype: kg:weight} — what the title's genre word counts for its type."""
    g = ontology.graph()
    return {c.notation: int(g.value(c.iri, ontology.KG.weight) or 4)
            for c in ontology.scheme(str(ontology.KG.DoctypeScheme))}


@dataclass(frozen=True)
class PatternEntry:
    """A kg:pattern of a mechanism concept: a paraphrase that names the concept without a label."""
    notation: str
    label: str
    pattern: re.Pattern


@lru_cache(maxsize=1)
def mechanism_patterns() -> tuple[PatternEntry, ...]:
    g = ontology.graph()
    out = []
    for c in ontology.mechanisms():
        for p in sorted(str(o) for o in g.objects(c.iri, ontology.KG.pattern)):
            out.append(PatternEntry(c.notation, c.label, re.compile(p)))
    return tuple(out)


def find_patterns(text: str) -> list[Hit]:
    """Mentions found by the mechanisms' kg:pattern regexes (the span of group m, else the match)."""
    hits = []
    for entry in mechanism_patterns():
        lexical = Entry(entry.notation, entry.label, entry.pattern.pattern, True)
        for m in entry.pattern.finditer(text):
            span = m.span("m") if "m" in entry.pattern.groupindex and m.group("m") else m.span()
            hits.append(Hit(span[0], span[1], lexical))
    return hits


@lru_cache(maxsize=1)
def weak_labels() -> dict[str, tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]]:
    """{notation: ((weak label, context cue words, blocking cue words), …)} — kg:weakLabel with
    the kg:contextCue and kg:blockingCue words of its concept."""
    g = ontology.graph()
    out = {}
    for c in ontology.mechanisms():
        node = c.iri
        cues = tuple(sorted(str(o) for o in g.objects(node, ontology.KG.contextCue)))
        blocking = tuple(sorted(str(o) for o in g.objects(node, ontology.KG.blockingCue)))
        labels = sorted(str(o) for o in g.objects(node, ontology.KG.weakLabel))
        if labels:
            out[c.notation] = tuple((w, cues, blocking) for w in labels)
    return out


# ---------------------------------------------------------------- grammar and outline cues (word lists as data)

@lru_cache(maxsize=None)
def grammar_words(notation: str, scheme: str = "GrammarCueScheme") -> tuple[str, ...]:
    """The words of the concept `notation` of a cue scheme of ontology/kg.ttl (kg:GrammarCueScheme,
    kg:OutlineCueScheme), longest first, so that an alternation of them tries the longer of two
    that start alike first."""
    words = ontology.cue_words(scheme).get(notation)
    if not words:
        raise MissingData(f"no words of {notation} in kg:{scheme} of kg.ttl")
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


def grammar_alternation(notation: str, scheme: str = "GrammarCueScheme") -> str:
    """A regular expression group matching any word of a cue (literally)."""
    return alternation(grammar_words(notation, scheme))


def outline_alternation(notation: str) -> str:
    """A regular expression group matching any word of a kg:OutlineCueScheme concept."""
    return grammar_alternation(notation, "OutlineCueScheme")
