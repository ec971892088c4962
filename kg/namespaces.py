"""The namespaces of the project, in one place.

Every SPARQL query run through `kg.query` gets these prefixes predeclared, serializers use them
for readable output, and the table formatter shortens IRIs with them. Other modules import the
IRIs from here instead of spelling them out again.
"""
from __future__ import annotations

import re

BASE = "https://w3id.org/fazhi-kg/"

PREFIXES: dict[str, str] = {
    # the project's own namespaces
    "kg": BASE + "ontology#",
    "kgm": BASE + "mechanism/",
    "kgi": BASE + "institution/",
    "kgr": BASE + "requirement/",
    "kgd": BASE + "doc/",
    "kgl": BASE + "locality/",
    "kgs": BASE + "shapes#",
    "kga": BASE + "audit/",
    "cat": BASE + "catalog#",       # the catalog's records of source files (kg.catalog)
    # standard vocabularies
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "dpv": "https://w3id.org/dpv#",
    "sh": "http://www.w3.org/ns/shacl#",
    "foaf": "http://xmlns.com/foaf/0.1/",
}

# The named graph that records which document graph came from which source file.
CATALOG_GRAPH = "https://w3id.org/fazhi-kg/catalog"

KG = PREFIXES["kg"]
XSD = PREFIXES["xsd"]
DCTERMS = PREFIXES["dcterms"]

# The PREFIX declarations a query already makes (comments and strings are not stripped: a
# false hit only means we leave out one of our declarations, which the query then declares).
_DECLARED = re.compile(r"(?i)\bPREFIX\s+([A-Za-z][\w.-]*)?:")


def sparql_prolog(skip: set[str] | frozenset[str] = frozenset(), *, one_line: bool = False) -> str:
    """PREFIX declarations for all PREFIXES except those in `skip`.

    `one_line=True` puts them all on a single line without a trailing newline, so that a caller
    can put them in front of a query's first line without shifting the line numbers that syntax
    errors report.
    """
    decls = [f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items() if p not in skip]
    if one_line:
        return " ".join(decls)
    return "".join(d + "\n" for d in decls)


def declared_prefixes(sparql: str) -> set[str]:
    """Prefix names the query text declares itself (`PREFIX x: <...>`); '' for the empty prefix."""
    return {m.group(1) or "" for m in _DECLARED.finditer(sparql)}


def with_prolog(sparql: str) -> str:
    """The query with our prefixes declared in front, except those it declares itself.

    The declarations go on the same line as the query's first line, so line numbers in error
    messages still match the file.
    """
    prolog = sparql_prolog(declared_prefixes(sparql), one_line=True)
    return f"{prolog} {sparql}" if prolog else sparql


def expand(curie: str) -> str | None:
    """`kgm:M01` → the full IRI, or None when the prefix is unknown."""
    prefix, sep, local = curie.partition(":")
    if not sep or prefix not in PREFIXES:
        return None
    return PREFIXES[prefix] + local


def shorten(iri: str) -> str:
    """The IRI as a prefixed name when one of PREFIXES covers it, else `<iri>`.

    Picks the longest matching namespace; keeps `<...>` when the rest would not be a plain local
    name (so the output stays unambiguous).
    """
    best = None
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and (best is None or len(ns) > len(PREFIXES[best])):
            best = prefix
    if best is not None:
        local = iri[len(PREFIXES[best]):]
        if _LOCAL_NAME.fullmatch(local):
            return f"{best}:{local}"
    return f"<{iri}>"


# Conservative subset of SPARQL's PN_LOCAL: word characters (incl. CJK), '-' and inner '.'.
_LOCAL_NAME = re.compile(r"(?:[\w-]+(?:\.[\w-]+)*)?")
