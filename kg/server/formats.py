"""Result formats of the SPARQL endpoint: names, media types, and content negotiation."""
from __future__ import annotations

from typing import Optional

import pyoxigraph as ox

# format parameter value → (results format name, graph format name)
_FORMAT_PARAM = {
    "json": ("json", "jsonld"), "xml": ("xml", "rdfxml"), "csv": ("csv", "ntriples"),
    "tsv": ("tsv", "ntriples"), "turtle": ("json", "turtle"), "ttl": ("json", "turtle"),
    "n3": ("json", "turtle"), "ntriples": ("json", "ntriples"), "nt": ("json", "ntriples"),
    "jsonld": ("json", "jsonld"), "json-ld": ("json", "jsonld"), "rdf": ("xml", "rdfxml"),
    "rdfxml": ("xml", "rdfxml"), "rdf+xml": ("xml", "rdfxml"),
}
RESULT_MEDIA = {   # media type → results format name (first of a name is what we send)
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
}
GRAPH_MEDIA = {
    "text/turtle": "turtle", "application/turtle": "turtle", "application/x-turtle": "turtle",
    "text/n3": "turtle", "application/n-triples": "ntriples", "text/plain": "ntriples",
    "application/ld+json": "jsonld", "application/json": "jsonld",
    "application/rdf+xml": "rdfxml", "application/xml": "rdfxml", "text/xml": "rdfxml",
}
RESULT_DEFAULT, GRAPH_DEFAULT = "json", "turtle"


def parse_accept(header: Optional[str]) -> list[tuple[str, float]]:
    """Media ranges of an Accept header, best first (ties keep the header's order)."""
    out = []
    for i, part in enumerate((header or "").split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for f in fields[1:]:
            k, _, v = f.partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        out.append((media, q, i))
    out.sort(key=lambda t: (-t[1], t[2]))
    return [(m, q) for m, q, _ in out]


def negotiate(kind: str, accept: Optional[str], fmt: Optional[list[str]] = None) -> Optional[str]:
    """The format name for a result of `kind` ("results" or "graph"): the first known `format`
    parameter value wins, then the Accept header by q-value, else the default. None when the
    Accept header rules out everything we can write (→ 406)."""
    table = RESULT_MEDIA if kind == "results" else GRAPH_MEDIA
    names = set(table.values())
    for value in fmt or []:
        v = value.strip().lower()
        if v in _FORMAT_PARAM:
            return _FORMAT_PARAM[v][0 if kind == "results" else 1]
        if v in table:
            return table[v]
    ranges = parse_accept(accept)
    if not ranges:
        return RESULT_DEFAULT if kind == "results" else GRAPH_DEFAULT
    default = RESULT_DEFAULT if kind == "results" else GRAPH_DEFAULT
    refused = {m for m, q in ranges if q <= 0}
    for media, q in ranges:
        if q <= 0:
            continue
        if media in table and table[media] in names:
            return table[media]
        if media in ("*/*", "*"):
            return default
        if media.endswith("/*"):
            major = media[:-1]
            for m, name in table.items():
                if m.startswith(major) and m not in refused:
                    return name
    return None


def results_format(name: str) -> ox.QueryResultsFormat:
    return {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
            "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}[name]


def rdf_format(name: str) -> ox.RdfFormat:
    return {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
            "jsonld": ox.RdfFormat.JSON_LD, "rdfxml": ox.RdfFormat.RDF_XML}[name]
