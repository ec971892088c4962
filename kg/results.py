"""What a query gives back, the same from the embedded store and from a SPARQL server.

`Result` holds a select's rows (as pyoxigraph terms, and as Python values when asked for), an
ask's boolean or a construct's triples; `results_json` writes select rows as SPARQL 1.1 JSON
results, the source of the csv/tsv/json output (kg.formats).
"""
from __future__ import annotations

import datetime as _dt
import decimal
import json
from dataclasses import dataclass
from typing import Any, Optional

import pyoxigraph as ox

from kg import collector
from kg.errors import KgError
from kg.namespaces import XSD

INTEGER_TYPES = {"integer", "int", "long", "short", "byte", "nonNegativeInteger",
                 "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt",
                 "unsignedLong"}
XSD_STRING = XSD + "string"


class QueryError(KgError):
    """A query could not be found, parsed or run; the message is meant for the user."""


class IRI(str):
    """An IRI in `Result.rows` (a str, so it compares and prints as the IRI)."""


class BNode(str):
    """A blank node identifier in `Result.rows`."""


@dataclass(init=False)
class Result:
    """The outcome of a query, the same for the local store and a remote endpoint.

    kind: "select" | "ask" | "graph". For select: `vars` and `rows` (tuples of Python values,
    None where unbound), `terms` (the same rows as pyoxigraph terms). For ask: `boolean`. For
    graph (CONSTRUCT/DESCRIBE): `triples` (pyoxigraph Triples). `sparql_json` is the SPARQL
    JSON results (as received from an endpoint, else written from `terms` when first asked
    for), the source for csv/tsv/json output. `rows` too is made when first asked for.
    """
    kind: str
    vars: list[str]
    terms: list[tuple]
    boolean: Optional[bool]
    triples: list[ox.Triple]

    def __init__(self, kind: str, vars: Optional[list[str]] = None,
                 terms: Optional[list[tuple]] = None, boolean: Optional[bool] = None,
                 triples: Optional[list[ox.Triple]] = None,
                 sparql_json: Optional[bytes] = None) -> None:
        self.kind = kind
        self.vars = vars if vars is not None else []
        self.terms = terms if terms is not None else []
        self.boolean = boolean
        self.triples = triples if triples is not None else []
        self._json = sparql_json
        self._rows: Optional[list[tuple]] = None

    @property
    def sparql_json(self) -> Optional[bytes]:
        if self._json is None and self.kind == "select":
            self._json = results_json(self.vars, self.terms)
        return self._json

    @sparql_json.setter
    def sparql_json(self, value: Optional[bytes]) -> None:
        self._json = value

    @property
    def rows(self) -> list[tuple]:
        if self._rows is None:
            self._rows = python_rows(self.terms)
        return self._rows

    def to_dicts(self) -> list[dict[str, Any]]:
        """Rows as dicts var → Python value (unbound variables left out)."""
        return [{v: x for v, x in zip(self.vars, row) if x is not None} for row in self.rows]

    def __len__(self) -> int:
        return len(self.terms) if self.kind == "select" else len(self.triples)

    @classmethod
    def from_oxigraph(cls, res: Any, *, sparql_json: Optional[bytes] = None) -> "Result":
        if isinstance(res, ox.QueryBoolean):
            return cls("ask", boolean=bool(res),
                       sparql_json=sparql_json or res.serialize(format=ox.QueryResultsFormat.JSON))
        if isinstance(res, ox.QuerySolutions):
            # Solutions are a one-pass iterator: their terms are kept, and the SPARQL JSON is
            # written from them only if asked for (most callers want rows, not JSON).
            names = [v.value for v in res.variables]
            # rows hold no cycles: the collector's passes over ~10^5 new tuples (and whatever
            # else the process holds) are wasted (matrix at 10,000 documents: 1.1–1.5 → 0.94 s)
            with collector.paused():
                terms = [tuple(sol) for sol in res]
            return cls("select", vars=names, terms=terms, sparql_json=sparql_json)
        triples = [t if isinstance(t, ox.Triple) else ox.Triple(t.subject, t.predicate, t.object)
                   for t in res]
        return cls("graph", triples=triples)



def _json_term(t: Any) -> dict[str, str]:
    """A term as a SPARQL 1.1 JSON results binding."""
    cls = type(t)
    if cls is ox.NamedNode:
        return {"type": "uri", "value": t.value}
    if cls is ox.Literal:
        if t.language is not None:
            return {"type": "literal", "value": t.value, "xml:lang": t.language}
        dt = t.datatype.value
        if dt == XSD_STRING:
            return {"type": "literal", "value": t.value}
        return {"type": "literal", "value": t.value, "datatype": dt}
    if cls is ox.BlankNode:
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Triple):
        return {"type": "triple", "value": {"subject": _json_term(t.subject),
                                            "predicate": _json_term(t.predicate),
                                            "object": _json_term(t.object)}}
    raise QueryError(f"cannot write {t!r} as SPARQL JSON")


def results_json(names: list[str], terms: list[tuple]) -> bytes:
    """SPARQL 1.1 Query Results JSON of select rows (the layout pyoxigraph writes)."""
    bindings = [{n: _json_term(t) for n, t in zip(names, row) if t is not None} for row in terms]
    return json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_NUMERIC = {XSD + t: int for t in INTEGER_TYPES}
_NUMERIC.update({XSD + "decimal": decimal.Decimal, XSD + "double": float, XSD + "float": float})


def python_value(term: Any) -> Any:
    """A Python value for a term: IRI/BNode (str subclasses), int, Decimal, float, bool,
    date/datetime, else the lexical form as str. Unparseable literals stay strings."""
    cls = type(term)
    if cls is ox.Literal:
        if term.language is not None:
            return term.value
        dt = term.datatype.value
        v = term.value
        if dt == XSD_STRING:
            return v
        try:
            conv = _NUMERIC.get(dt)
            if conv is not None:
                return conv(v)
            if dt == XSD + "boolean":
                return v in ("true", "1")
            if dt == XSD + "date":
                return _dt.date.fromisoformat(v)
            if dt == XSD + "dateTime":
                return _dt.datetime.fromisoformat(v)
        except (ValueError, decimal.InvalidOperation):
            pass
        return v
    if cls is ox.NamedNode:
        return IRI(term.value)
    if term is None:
        return None
    if cls is ox.BlankNode:
        return BNode(term.value)
    return str(term)


def python_rows(terms: list[tuple]) -> list[tuple]:
    """`python_value` of every term of the rows; a term met again (the same IRI, status,
    source file …) is converted once."""
    seen: dict[Any, Any] = {None: None}
    get = seen.get
    out = []
    append = out.append
    with collector.paused():        # as for the terms (Result.from_oxigraph)
        for row in terms:
            vals = []
            for t in row:
                v = get(t, seen)
                if v is seen:
                    v = seen[t] = python_value(t)
                vals.append(v)
            append(tuple(vals))
    return out

