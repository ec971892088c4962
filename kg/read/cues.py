"""Cue words kept as data: the word lists of ontology/places.ttl and ontology/text.ttl.

Those files are not part of the graph (kg.ontology loads the graph's files); they hold what the
reading and the locality rules recognise — page chrome, header labels, organ words, function
words. Each list is a SKOS concept scheme, or one concept of it named by its skos:notation,
whose words are the concepts' skos:altLabel. A file is parsed once per process.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..namespaces import PREFIXES
from ..resources import MissingData, ontology_properties

_SKOS = PREFIXES["skos"]


@lru_cache(maxsize=None)
def _schemes(file: str) -> dict[str, list[tuple[str | None, frozenset]]]:
    """scheme IRI → [(notation, altLabels)] of its concepts, from `file` (read without rdflib:
    `kg audit` resolves a region's name with these lists)."""
    schemes: dict[str, list] = {}
    for props in ontology_properties(file).values():
        notation = props.get(_SKOS + "notation")
        concept = (notation[0].value if notation else None,
                   frozenset(label.value for label in props.get(_SKOS + "altLabel", ())))
        for scheme in props.get(_SKOS + "inScheme", ()):
            schemes.setdefault(scheme.value, []).append(concept)
    return schemes


@lru_cache(maxsize=None)
def cue_words(file: str, scheme: str, notation: str | None = None) -> tuple[str, ...]:
    """The words of scheme `kg:<scheme>` in `file` (of its concept `notation` only, if given),
    longest first, so that an alternation of them prefers the longer of two that start alike."""
    words = {w for n, labels in _schemes(file).get(PREFIXES["kg"] + scheme, ())
             if notation is None or n == notation for w in labels}
    if not words:
        raise MissingData(f"no words of kg:{scheme}{' ' + notation if notation else ''} in {file}")
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


@lru_cache(maxsize=None)
def cue_concepts(file: str, scheme: str) -> dict[str, tuple[str, ...]]:
    """{notation: words} for every concept of scheme `kg:<scheme>` in `file`."""
    notations = sorted({str(n) for n, _ in _schemes(file).get(PREFIXES["kg"] + scheme, ())})
    return {n: cue_words(file, scheme, n) for n in notations}


def alternation(words) -> str:
    """A regular expression group matching any of `words` (literally)."""
    return "(?:" + "|".join(map(re.escape, words)) + ")"
