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
from ..resources import MissingData, ontology_dir


@lru_cache(maxsize=None)
def _graph(file: str):
    from rdflib import Graph
    return Graph().parse(ontology_dir() / file, format="turtle")


@lru_cache(maxsize=None)
def cue_words(file: str, scheme: str, notation: str | None = None) -> tuple[str, ...]:
    """The words of scheme `kg:<scheme>` in `file` (of its concept `notation` only, if given),
    longest first, so that an alternation of them prefers the longer of two that start alike."""
    from rdflib import Namespace
    from rdflib.namespace import SKOS
    kg = Namespace(PREFIXES["kg"])
    g = _graph(file)
    words = [str(w) for c in g.subjects(SKOS.inScheme, kg[scheme])
             if notation is None or str(g.value(c, SKOS.notation)) == notation
             for w in g.objects(c, SKOS.altLabel)]
    if not words:
        raise MissingData(f"no words of kg:{scheme}{' ' + notation if notation else ''} in {file}")
    return tuple(sorted(set(words), key=lambda w: (-len(w), w)))


@lru_cache(maxsize=None)
def cue_concepts(file: str, scheme: str) -> dict[str, tuple[str, ...]]:
    """{notation: words} for every concept of scheme `kg:<scheme>` in `file`."""
    from rdflib import Namespace
    from rdflib.namespace import SKOS
    g = _graph(file)
    notations = sorted({str(g.value(c, SKOS.notation))
                        for c in g.subjects(SKOS.inScheme, Namespace(PREFIXES["kg"])[scheme])})
    return {n: cue_words(file, scheme, n) for n in notations}


def alternation(words) -> str:
    """A regular expression group matching any of `words` (literally)."""
    return "(?:" + "|".join(map(re.escape, words)) + ")"
