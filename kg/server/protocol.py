"""The SPARQL 1.1 Protocol, as data: an HTTP request's parts → one Operation, or a ProtocolError.

No I/O here: kg.server.app hands in the method, the URL's parameters, the Content-Type and the
body it has read within its limits, and gets back what to run, with which dataset and which
result format. Every refusal is a ProtocolError carrying a 4xx status and one readable line.
"""
from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Optional, Sequence

from ..errors import one_line
from ..sparqltext import code_segments, keywords, operation_kind, unescape_codepoints

FORM = "application/x-www-form-urlencoded"
QUERY_MEDIA = "application/sparql-query"
UPDATE_MEDIA = "application/sparql-update"

QUERY_DATASET = ("default-graph-uri", "named-graph-uri")
UPDATE_DATASET = ("using-graph-uri", "using-named-graph-uri")


class ProtocolError(Exception):
    """A request the protocol (or this server's policy) refuses: a 4xx status and one line."""

    def __init__(self, status: int, message: str):
        super().__init__(one_line(message))
        self.status = status


@dataclass
class Operation:
    kind: str                               # "query" or "update"
    text: str
    default_graphs: list = field(default_factory=list)   # default-graph-uri / using-graph-uri
    named_graphs: list = field(default_factory=list)     # named-graph-uri / using-named-graph-uri
    formats: list = field(default_factory=list)          # `format` parameter values
    accept: Optional[str] = None


def media_type(content_type: Optional[str]) -> tuple[str, dict]:
    """("type/subtype", {param: value}) of a Content-Type header, lower-cased."""
    if not content_type:
        return "", {}
    main, *params = content_type.split(";")
    out = {}
    for p in params:
        k, _, v = p.partition("=")
        out[k.strip().lower()] = v.strip().strip('"').lower()
    return main.strip().lower(), out


def _decode(body: bytes, charset: Optional[str]) -> str:
    if charset and charset.replace("-", "").replace("_", "") not in ("utf8",):
        raise ProtocolError(415, f"the request body must be UTF-8 (charset={charset} was given)")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(400, "the request body is not UTF-8") from None


def parse_operation(method: str, url_params: Sequence[tuple[str, str]], content_type: Optional[str],
                    body: bytes, accept: Optional[str] = None) -> Operation:
    """The one operation a /sparql request asks for (SPARQL 1.1 Protocol §2.1, §2.2)."""
    params: dict[str, list[str]] = {}
    for k, v in url_params:
        params.setdefault(k, []).append(v)
    if method == "GET":
        if "update" in params:
            raise ProtocolError(400, "an update must be POSTed (as update= in a form, or as "
                                     "application/sparql-update)")
        kind, texts = "query", params.get("query", [])
    elif method == "POST":
        media, mparams = media_type(content_type)
        if media == FORM:
            text = _decode(body, mparams.get("charset"))
            for k, v in urllib.parse.parse_qsl(text, keep_blank_values=True):
                params.setdefault(k, []).append(v)
            queries, updates = params.get("query", []), params.get("update", [])
            if queries and updates:
                raise ProtocolError(400, "give either query= or update=, not both")
            kind, texts = ("update", updates) if updates else ("query", queries)
        elif media == QUERY_MEDIA:
            kind, texts = "query", [_decode(body, mparams.get("charset"))]
        elif media == UPDATE_MEDIA:
            kind, texts = "update", [_decode(body, mparams.get("charset"))]
        elif not media:
            raise ProtocolError(400, "a POST needs a Content-Type: application/x-www-form-urlencoded, "
                                     "application/sparql-query or application/sparql-update")
        else:
            raise ProtocolError(415, f"unsupported Content-Type {media}: POST a form "
                                     f"({FORM}), {QUERY_MEDIA} or {UPDATE_MEDIA}")
    else:
        raise ProtocolError(405, f"{method} is not a SPARQL protocol method: use GET or POST")
    if len(texts) != 1:
        raise ProtocolError(400, f"give exactly one {kind} (got {len(texts)}); the query page is at /query")
    text = texts[0]
    if kind == "query" and operation_kind(text) == "update":
        raise ProtocolError(400, "this is an update: POST it as update= or application/sparql-update")
    names = QUERY_DATASET if kind == "query" else UPDATE_DATASET
    other = UPDATE_DATASET if kind == "query" else QUERY_DATASET
    for p in other:
        if params.get(p):
            raise ProtocolError(400, f"{p} belongs to {'an update' if kind == 'query' else 'a query'}")
    op = Operation(kind, text, params.get(names[0], []), params.get(names[1], []),
                   params.get("format", []), accept)
    if kind == "update" and (op.default_graphs or op.named_graphs):
        words = {w for _, w in keywords(text)}
        if words & {"USING", "WITH"}:
            # SPARQL 1.1 Protocol §2.2.3: a dataset in both places is an error.
            raise ProtocolError(400, "using-graph-uri/using-named-graph-uri cannot be combined with "
                                     "USING or WITH in the update")
    return op


def outbound_keywords(op: Operation) -> set[str]:
    """The keywords of `op` that make the engine call another server: SERVICE, and LOAD."""
    return {w for _, w in keywords(op.text)} & {"SERVICE", "LOAD"}


def with_using(update: str, default_graphs: Sequence[str], named_graphs: Sequence[str]) -> str:
    """The update with USING / USING NAMED clauses before the WHERE of each of its DELETE/INSERT
    operations: what using-graph-uri and using-named-graph-uri mean (§2.2.3). pyoxigraph takes
    no dataset for an update, so the protocol's dataset is written into the text."""
    clause = "".join(f" USING <{g}>" for g in default_graphs) + \
        "".join(f" USING NAMED <{g}>" for g in named_graphs) + " "
    text = unescape_codepoints(update)
    braces = [(off + j, c) for off, seg in code_segments(text) for j, c in enumerate(seg) if c in "{}"]
    events = sorted([(o, c) for o, c in braces] + keywords(text))
    depth, prev, inserts = 0, None, []
    for offset, token in events:
        if token in "{}":
            depth += 1 if token == "{" else -1
            continue
        # `DELETE WHERE {…}` takes no USING; a WHERE inside braces is a subquery's.
        if token == "WHERE" and depth == 0 and prev != "DELETE":
            inserts.append(offset)
        prev = token
    for offset in reversed(inserts):
        text = text[:offset] + clause + text[offset:]
    return text
