"""The ontology files, loaded once: concept schemes, labels, cue words.

Everything the pipeline knows about the domain (mechanism names and aliases, institution
kinds, the words that mark a section's role or a sentence's status) is read from
`ontology/*.ttl` here; no other module holds term lists.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import SKOS

from . import resources
from .namespaces import PREFIXES

KG = Namespace(PREFIXES["kg"])
KGM = Namespace(PREFIXES["kgm"])
KGI = Namespace(PREFIXES["kgi"])

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


@lru_cache(maxsize=1)
def graph() -> Graph:
    g = Graph()
    base = ontology_dir()
    for name in ONTOLOGY_FILES:
        path = base / name
        if path.exists():
            g.parse(path, format="turtle")
    return g


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


def _notation(g: Graph, node) -> str:
    n = g.value(node, SKOS.notation)
    return str(n) if n is not None else str(node).rsplit("/", 1)[-1].rsplit("#", 1)[-1]


@lru_cache(maxsize=None)
def scheme(scheme_iri: str) -> tuple[Concept, ...]:
    """The concepts of a SKOS scheme, in notation order."""
    g = graph()
    out = []
    for c in set(g.subjects(SKOS.inScheme, URIRef(scheme_iri))):
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
        p = g.value(URIRef(c.iri), KG.priority)
        out[c.notation] = int(p) if p is not None else 99
    return out


def section_role_cues() -> dict[str, tuple[str, ...]]:
    return cue_words("SectionRoleScheme")


def status_cues() -> dict[str, tuple[str, ...]]:
    return cue_words("StatusCueScheme")


def doctype_cues() -> dict[str, tuple[str, ...]]:
    return cue_words("DoctypeScheme")
