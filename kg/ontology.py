"""The ontology files, loaded once: concept schemes, labels, cue words.

Everything the pipeline knows about the domain (mechanism names and aliases, institution
kinds, the words that mark a section's role or a sentence's status) is read from
`ontology/*.ttl` here; no other module holds term lists.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import resources
from .namespaces import PREFIXES


class Vocabulary:
    """IRIs of one namespace as attributes or items (KG.priority, KG["DoctypeScheme"]): str."""

    def __init__(self, base: str):
        self._base = base

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._base + name

    def __getitem__(self, name: str) -> str:
        return self._base + name

    def __str__(self) -> str:
        return self._base


KG = Vocabulary(PREFIXES["kg"])
KGM = Vocabulary(PREFIXES["kgm"])
KGI = Vocabulary(PREFIXES["kgi"])
SKOS = Vocabulary(PREFIXES["skos"])

ONTOLOGY_FILES = ("kg.ttl", "mechanisms.ttl", "institutions.ttl", "requirements.ttl", "units.ttl")


def ontology_dir() -> Path:
    return resources.ontology_dir()


@dataclass(frozen=True)
class Concept:
    iri: str
    notation: str
    label: str                       # skos:prefLabel@zh
    label_en: str = ""
    alt_labels: tuple = ()           # skos:altLabel + skos:hiddenLabel
    evidence_labels: tuple = ()      # kg:evidenceLabel: words that show the concept without naming it
    broader: tuple = ()              # notations
    related: tuple = ()              # kg:relatedMechanism notations (institution kinds)
    kind: str = ""                   # kg:institutionType local name (RoleKind / OrganizationKind)

    @property
    def labels(self) -> tuple:
        return (self.label,) + self.alt_labels


class Text(str):
    """A literal's lexical form, with its language tag (None without one)."""
    language: str | None = None


class Triples:
    """The triples of the ontology files, asked by subject and predicate or by predicate and
    object, their terms as str (IRIs; literals as Text). Read with pyoxigraph
    (resources.ontology_properties): the five files (~4,700 triples) in ~15 ms, where rdflib's
    import and parser took 0.6–1.1 s of every build."""

    def __init__(self, triples):
        self._objects: dict[tuple[str, str], list] = {}
        self._subjects: dict[tuple[str, str], list] = {}
        for s, p, o in triples:
            o = _plain(o)
            self._objects.setdefault((s, p), []).append(o)
            self._subjects.setdefault((p, o), []).append(s)

    def __iter__(self):
        """Every (subject, predicate, object)."""
        return ((s, p, o) for (s, p), objects in self._objects.items() for o in objects)

    def objects(self, subject, predicate) -> list:
        return list(self._objects.get((str(subject), str(predicate)), ()))

    def subjects(self, predicate, obj) -> list:
        return list(self._subjects.get((str(predicate), str(obj)), ()))

    def value(self, subject, predicate):
        """An object of (subject, predicate), or None."""
        found = self._objects.get((str(subject), str(predicate)))
        return found[0] if found else None


def _plain(term):
    """A pyoxigraph term as Triples holds it."""
    if hasattr(term, "language"):           # a literal
        text = Text(term.value)
        text.language = term.language
        return text
    return term.value


@lru_cache(maxsize=1)
def graph() -> Triples:
    """Every triple of ONTOLOGY_FILES whose subject is an IRI (they have no blank nodes)."""
    return Triples((s, p, o) for name in ONTOLOGY_FILES if (ontology_dir() / name).exists()
                   for s, by_predicate in resources.ontology_properties(name).items()
                   for p, objects in by_predicate.items() for o in objects)


def _zh(values) -> list[str]:
    out = []
    for v in values:
        lang = getattr(v, "language", None)
        if lang in (None, "zh", "zh-cn", "zh-Hans"):
            out.append(str(v))
    return out


def _en(values) -> str:
    for v in values:
        if getattr(v, "language", None) == "en":
            return str(v)
    return ""


def _notation(g: Triples, node) -> str:
    n = g.value(node, SKOS.notation)
    return str(n) if n is not None else str(node).rsplit("/", 1)[-1].rsplit("#", 1)[-1]


@lru_cache(maxsize=None)
def scheme(scheme_iri: str) -> tuple[Concept, ...]:
    """The concepts of a SKOS scheme, in notation order."""
    g = graph()
    out = []
    for c in set(g.subjects(SKOS.inScheme, scheme_iri)):
        prefs = _zh(g.objects(c, SKOS.prefLabel))
        alts = _zh(g.objects(c, SKOS.altLabel)) + _zh(g.objects(c, SKOS.hiddenLabel))
        kind = g.value(c, KG.institutionType)
        out.append(Concept(
            iri=str(c), notation=_notation(g, c), label=prefs[0] if prefs else _notation(g, c),
            label_en=_en(g.objects(c, SKOS.prefLabel)),
            alt_labels=tuple(sorted(set(alts) - set(prefs[:1]))),
            evidence_labels=tuple(sorted(_zh(g.objects(c, KG.evidenceLabel)))),
            broader=tuple(sorted(_notation(g, b) for b in g.objects(c, SKOS.broader))),
            related=tuple(sorted(_notation(g, r) for r in g.objects(c, KG.relatedMechanism))),
            kind=str(kind).rsplit("#", 1)[-1] if kind is not None else ""))
    return tuple(sorted(out, key=lambda c: c.notation))


def mechanisms() -> tuple[Concept, ...]:
    return scheme(str(KGM.scheme))


def institution_kinds() -> tuple[Concept, ...]:
    return scheme(str(KGI.scheme))


@lru_cache(maxsize=None)
def cue_words(scheme_local: str) -> dict[str, tuple[str, ...]]:
    """{notation: words} for a cue scheme of kg.ttl (section roles, status cues, doctypes)."""
    return {c.notation: c.alt_labels for c in scheme(str(KG[scheme_local]))}


@lru_cache(maxsize=None)
def cue_priorities(scheme_local: str) -> dict[str, int]:
    """{notation: kg:priority} — lower wins when a text carries cues of several concepts."""
    g = graph()
    out = {}
    for c in scheme(str(KG[scheme_local])):
        p = g.value(c.iri, KG.priority)
        out[c.notation] = int(p) if p is not None else 99
    return out


def section_role_cues() -> dict[str, tuple[str, ...]]:
    return cue_words("SectionRoleScheme")


def status_cues() -> dict[str, tuple[str, ...]]:
    return cue_words("StatusCueScheme")


def doctype_cues() -> dict[str, tuple[str, ...]]:
    return cue_words("DoctypeScheme")
