"""Runs the W3C SPARQL 1.1 Protocol manifest (tests/protocol/manifest.ttl) against a server.

The manifest describes each case as HTTP requests (ht:Request: method, path, headers, body) and
what each answer must be (status class, result format, boolean). This module reads the cases
from it and replays them on a real server; `tests/test_protocol_w3c.py` runs them against
`kg serve`, and `bench/protocol.py` against `kg serve` and `oxigraph serve` side by side.

Before a case whose entry names ut:graphData, the server's store is emptied and that data is put
into named graphs (by SPARQL Update, so the server must accept updates): set-up, not part of the
case. Cases run in manifest order, as their update cases assume.
"""
from __future__ import annotations

import http.client
import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import rdflib
from rdflib import RDF, RDFS, Namespace
from rdflib.collection import Collection

HERE = Path(__file__).resolve().parent / "protocol"
MANIFEST = HERE / "manifest.ttl"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")

BOOLEAN_MEDIA = ("application/sparql-results+json", "application/sparql-results+xml", "application/json",
                 "application/xml", "text/xml")
TABULAR_MEDIA = BOOLEAN_MEDIA + ("text/csv", "text/tab-separated-values")
RDF_MEDIA = ("text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json",
             "application/n-quads", "application/trig", "text/n3")


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: Optional[bytes]
    statuses: set            # acceptable first digits: {"2", "3"} or {"4"}
    result_format: Optional[str]
    boolean: Optional[bool]


@dataclass
class Case:
    name: str
    title: str
    requests: list
    graph_data: list         # (graph IRI, N-Triples text)
    expectation: Optional[str]


def load_cases(path: Path = MANIFEST) -> list[Case]:
    g = rdflib.Graph().parse(path, format="turtle")
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    cases = []
    for entry in Collection(g, g.value(manifest, MF.entries)):
        action = g.value(entry, MF.action)
        requests = []
        for req in Collection(g, g.value(action, HT.requests)):
            headers = {}
            hlist = g.value(req, HT.headers)
            for h in (Collection(g, hlist) if hlist is not None else []):
                headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
            body_node = g.value(req, HT.body)
            body = None
            if body_node is not None:
                encoding = str(g.value(body_node, CNT.characterEncoding) or "UTF-8")
                body = str(g.value(body_node, CNT.chars)).encode(encoding.lower())
            resp = g.value(req, HT.resp)
            statuses = {str(s).rsplit("StatusCode", 1)[-1][0] for s in g.objects(resp, MF.expectedStatus)}
            fmt = g.value(resp, MF.expectedFormat)
            expected_bool = g.value(resp, MF.expectedBoolean)
            requests.append(Request(str(g.value(req, HT.methodName)), str(g.value(req, HT.absolutePath)),
                                    headers, body, statuses, str(fmt) if fmt is not None else None,
                                    expected_bool.toPython() if expected_bool is not None else None))
        data = []
        for gd in g.objects(entry, UT.graphData):
            source = HERE / str(g.value(gd, UT.graph)).rsplit("/", 1)[-1]
            data.append((str(g.value(gd, RDFS.label)), source.read_text(encoding="utf-8")))
        expectation = g.value(entry, MF.expectation)
        cases.append(Case(str(entry).rsplit("#", 1)[-1], str(g.value(entry, MF.name)), requests, data,
                          str(expectation) if expectation is not None else None))
    return cases


def send(base: str, method: str, path: str, headers: dict, body: Optional[bytes]):
    """(status, Content-Type, body). http.client sends exactly the headers given (urllib would
    add a form Content-Type to a POST without one, which the missing-type cases must not have)."""
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type", ""), r.read()
    finally:
        conn.close()


def _boolean(ctype: str, body: bytes) -> Optional[bool]:
    media = ctype.split(";")[0].strip().lower()
    text = body.decode("utf-8", "replace")
    if "json" in media:
        return json.loads(text).get("boolean")
    if "xml" in media:
        return "<boolean>true</boolean>" in text.replace(" ", "")
    return None


def check(req: Request, status: int, ctype: str, body: bytes) -> Optional[str]:
    """None when the answer is what the case expects, else what is wrong."""
    if str(status)[0] not in req.statuses:
        return f"status {status}, expected {'/'.join(sorted(req.statuses))}xx: {body[:200]!r}"
    media = ctype.split(";")[0].strip().lower()
    if req.result_format == "boolean":
        if media not in BOOLEAN_MEDIA:
            return f"{media} is no boolean result format"
        if req.boolean is not None and _boolean(ctype, body) is not req.boolean:
            return f"boolean is not {req.boolean}: {body[:200]!r}"
    elif req.result_format == "tabular" and media not in TABULAR_MEDIA:
        return f"{media} is no results format"
    elif req.result_format == "RDF" and media not in RDF_MEDIA:
        return f"{media} is no RDF format"
    return None


def _check_base_uri(ctype: str, body: bytes) -> Optional[str]:
    """update_base_uri's prose expectation: one result, ?o bound to an IRI (resolved against
    the endpoint's base), not the relative <test>."""
    try:
        rows = json.loads(body)["results"]["bindings"]
    except (ValueError, KeyError):
        return f"not SPARQL JSON results: {body[:200]!r}"
    if len(rows) != 1 or rows[0].get("o", {}).get("type") != "uri" or rows[0]["o"]["value"] == "test":
        return f"expected one absolute IRI for ?o: {rows}"
    return None


def run_case(case: Case, base: str, route: Callable[[Request], str] = lambda r: r.path,
             setup: Optional[Callable[[str], None]] = None) -> Optional[str]:
    """Replay one case on the server at `base`; None when it passes, else why it fails.
    `route` maps a request to the server's path (the manifest's are /sparql/…); `setup(update)`
    runs a set-up update on the server."""
    if case.graph_data and setup:
        setup("DROP ALL")
        for graph, ntriples in case.graph_data:
            setup(f"INSERT DATA {{ GRAPH <{graph}> {{ {ntriples} }} }}")
    for i, req in enumerate(case.requests):
        headers = {k: v for k, v in req.headers.items() if k.lower() not in ("host", "content-length")}
        if case.expectation and i == len(case.requests) - 1:
            headers["Accept"] = "application/sparql-results+json"
        status, ctype, body = send(base, req.method, route(req), headers, req.body)
        problem = check(req, status, ctype, body)
        if problem is None and case.expectation and i == len(case.requests) - 1:
            problem = _check_base_uri(ctype, body)
        if problem:
            return f"request {i + 1}: {problem}"
    return None


def is_update_request(req: Request) -> bool:
    ctype = req.headers.get("content-type", "")
    return "sparql-update" in ctype or (req.body is not None and req.body.lstrip().startswith(b"update="))
