"""Named SPARQL queries, run with safely bound parameters against the store or a remote endpoint.

Named queries are the files `queries/*.rq` of the repository (or `$KG_QUERIES`). Each starts with
a header of `#` lines:

    # Which mechanisms does a locality report?          ← title: the question it answers
    # Lists the mechanisms found in the locality's      ← description (any number of lines)
    # reports, with the years.
    # param: place — the locality's name (default: 乳山市)
    # param: year (integer) — report year

A param line is `# param: NAME [(TYPE)] [— description] [(default: VALUE)]`; TYPE is `string`,
`iri` or an XSD datatype name (integer, decimal, double, boolean, date, dateTime, gYear, …).

Parameters are never pasted into the query text as text. A value becomes an RDF term first:
a declared TYPE decides; otherwise `<…>` is an IRI, `prefix:local` with one of our prefixes is an
IRI, anything else a plain string literal. Then:
- locally, pyoxigraph binds it (`Store.query(substitutions=…)`, SPARQL SEP-0007). pyoxigraph 0.5
  only substitutes variables the outermost SELECT projects (or any variable for SELECT *, ASK,
  CONSTRUCT); for other variables (e.g. one only used under an aggregate) we fall back to:
- a `VALUES ?var { term }` block inserted at the start of the outermost WHERE group, with the term
  written by pyoxigraph's N-Triples serializer (so quotes, braces, newlines are escaped and an
  IRI is validated). This is also how parameters reach a remote endpoint, which has no
  substitution on the wire. Limitation: a variable used only inside a subquery that does not
  project it is not reached by the VALUES block (the query then runs unconstrained on it).
A parameter the query does not mention is an error.

Every query gets the project prefixes (kg.namespaces) predeclared, except those it declares.
"""
from __future__ import annotations

import datetime as _dt
import decimal
import io
import json
import os
import re
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Mapping, Optional, Sequence, Union

import pyoxigraph as ox

from kg.namespaces import PREFIXES, XSD, expand, shorten, with_prolog
from kg import resources
from kg.sparqltext import SKIP, code_segments
from kg.store import Store

QUERIES_ENV = "KG_QUERIES"
FORMATS = ("table", "csv", "tsv", "json")
MAX_CELL = 60            # display columns of a table cell before it is cut with …


class QueryError(Exception):
    """A query could not be found, parsed or run; the message is meant for the user."""


class QueryParamError(QueryError):
    """A parameter is unknown to the query or its value does not fit the declared type."""


class EndpointError(QueryError):
    """The remote endpoint failed or could not be reached."""


# ---------------------------------------------------------------------- named queries

@dataclass(frozen=True)
class Param:
    name: str
    description: str = ""
    default: Optional[str] = None
    type: Optional[str] = None       # None | "string" | "iri" | an XSD datatype local name


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    path: Optional[Path]
    text: str


def queries_dir(directory: Union[str, os.PathLike, None] = None) -> Path:
    """`directory`, else `$KG_QUERIES`, else the named queries installed with the package."""
    if directory is not None:
        return Path(directory)
    return resources.queries_dir()


def list_queries(directory: Union[str, os.PathLike, None] = None) -> list[NamedQuery]:
    """All named queries, sorted by name."""
    d = queries_dir(directory)
    if not d.is_dir():
        return []
    return [_read_query(p) for p in sorted(d.glob("*.rq"))]


def load_query(name_or_path: Union[str, os.PathLike],
               directory: Union[str, os.PathLike, None] = None) -> NamedQuery:
    """A named query by name (file name without .rq) or by path to any .rq file."""
    p = Path(name_or_path)
    if p.suffix == ".rq" or p.is_file():
        if not p.is_file():
            raise QueryError(f"no query file {p}")
        return _read_query(p)
    candidate = queries_dir(directory) / f"{name_or_path}.rq"
    if not candidate.is_file():
        known = ", ".join(q.name for q in list_queries(directory)) or "none"
        raise QueryError(f"no query named {name_or_path!r} (known: {known})")
    return _read_query(candidate)


def _read_query(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    title, description, params = parse_header(text)
    return NamedQuery(path.stem, title, description, params, path, text)


_PARAM_LINE = re.compile(
    r"param:\s*(?P<name>[A-Za-z_][\w]*)\s*(?:\(\s*(?P<type>[A-Za-z:]+)\s*\))?\s*"
    r"(?:[—–:-]+\s*)?(?P<rest>.*)$")
_DEFAULT = re.compile(r"\(\s*default:\s*(?P<value>.*?)\s*\)\s*$")


def parse_header(text: str) -> tuple[str, str, tuple[Param, ...]]:
    """(title, description, params) from the leading `#` lines of a query.

    The header ends at the first line that is not a comment (a blank line ends it too).
    """
    lines: list[str] = []
    for line in text.splitlines():
        s = line.strip()
        if not s.startswith("#"):
            break
        lines.append(s.lstrip("#").strip())
    title = lines[0] if lines else ""
    description: list[str] = []
    params: list[Param] = []
    for s in lines[1:]:
        m = _PARAM_LINE.match(s)
        if m:
            rest = m.group("rest").strip()
            default = None
            d = _DEFAULT.search(rest)
            if d:
                default = d.group("value")
                rest = rest[:d.start()].strip()
            ptype = m.group("type")
            if ptype is not None:
                ptype = ptype.split(":")[-1]   # allow "xsd:integer"
            params.append(Param(m.group("name"), rest, default, ptype))
        else:
            description.append(s)
    return title, "\n".join(description).strip(), tuple(params)


# ---------------------------------------------------------------------- parameter terms

_XSD_TYPES = {
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong", "decimal", "double",
    "float", "boolean", "date", "dateTime", "gYear", "gYearMonth", "anyURI", "string",
}
_INTEGER_TYPES = {"integer", "int", "long", "short", "byte", "nonNegativeInteger",
                  "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt",
                  "unsignedLong"}
_IRI_CHARS = re.compile(r'[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|^`\\]*')
_CURIE = re.compile(r"([A-Za-z][\w.-]*)?:([\w.\-%]*)")


def to_term(value: str, ptype: Optional[str] = None) -> Union[ox.NamedNode, ox.Literal]:
    """The RDF term a parameter value stands for (see the module doc for the rules)."""
    if ptype in (None, "iri"):
        iri = None
        if value.startswith("<") and value.endswith(">"):
            iri = value[1:-1]
        else:
            m = _CURIE.fullmatch(value)
            if m and (m.group(1) or "") in PREFIXES:
                iri = expand(value)
        if iri is not None:
            if not _IRI_CHARS.fullmatch(iri):
                raise QueryParamError(f"not a valid IRI: {value}")
            try:
                return ox.NamedNode(iri)
            except ValueError as e:
                raise QueryParamError(f"not a valid IRI: {value} ({e})") from None
        if ptype == "iri":
            raise QueryParamError(f"expected an IRI (<…> or prefix:name), got {value!r}")
        return ox.Literal(value)
    if ptype == "string":
        return ox.Literal(value)
    if ptype not in _XSD_TYPES:
        raise QueryParamError(f"unknown parameter type {ptype!r}")
    _check_lexical(value, ptype)
    return ox.Literal(value, datatype=ox.NamedNode(XSD + ptype))


def _check_lexical(value: str, ptype: str) -> None:
    """Reject a value that is not a valid literal of the declared type (it would match nothing)."""
    try:
        if ptype in _INTEGER_TYPES:
            int(value)
        elif ptype in ("decimal",):
            decimal.Decimal(value)
            if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", value.strip()):
                raise ValueError
        elif ptype in ("double", "float"):
            float(value)
        elif ptype == "boolean":
            if value not in ("true", "false", "1", "0"):
                raise ValueError
        elif ptype == "date":
            _dt.date.fromisoformat(value)
        elif ptype == "dateTime":
            _dt.datetime.fromisoformat(value)
        elif ptype == "gYear":
            if not re.fullmatch(r"-?\d{4,}", value):
                raise ValueError
    except (ValueError, decimal.InvalidOperation):
        raise QueryParamError(f"{value!r} is not a valid xsd:{ptype}") from None


# ---------------------------------------------------------------------- SPARQL text scanning

_VAR = re.compile(r"[?$]([A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)")


def query_variables(sparql: str) -> set[str]:
    """Names of the variables the query mentions (outside comments, strings and IRIs)."""
    return {m.group(1) for _, seg in code_segments(sparql) for m in _VAR.finditer(seg)}


def _where_brace(sparql: str) -> int:
    """Offset just after the `{` that opens the outermost query's WHERE group, or -1.

    That is the first `{` after a WHERE keyword at nesting depth 0; for queries written without
    WHERE (`SELECT * {…}`, `ASK {…}`) the first `{` at depth 0.
    """
    depth = 0
    first_brace = -1
    seen_where = False
    for off, seg in code_segments(sparql):
        for m in re.finditer(r"[{}()]|(?<![\w:?$])WHERE\b", seg, re.IGNORECASE):
            tok = m.group(0)
            if tok in "({":
                if tok == "{" and depth == 0:
                    if seen_where:
                        return off + m.end()
                    if first_brace < 0:
                        first_brace = off + m.end()
                depth += 1
            elif tok in ")}":
                depth -= 1
            elif depth == 0:
                seen_where = True
    return first_brace


def bind_values(sparql: str, bindings: Mapping[str, Any]) -> str:
    """The query with `VALUES ?name { term }` blocks at the start of its outer WHERE group.

    Terms are pyoxigraph terms; their `str()` is escaped N-Triples, valid in SPARQL.
    """
    if not bindings:
        return sparql
    at = _where_brace(sparql)
    if at < 0:
        raise QueryError("cannot bind parameters: the query has no WHERE group")
    block = " ".join(f"VALUES ?{name} {{ {term} }}" for name, term in bindings.items())
    return f"{sparql[:at]} {block} {sparql[at:]}"


def bind_table(sparql: str, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The query with one `VALUES (?a ?b) { (t1 t2) … }` block of many rows (pyoxigraph terms),
    for a caller that asks the same question of a list of nodes in one request."""
    at = _where_brace(sparql)
    if at < 0:
        raise QueryError("cannot bind parameters: the query has no WHERE group")
    body = " ".join("(" + " ".join(str(t) for t in row) + ")" for row in rows)
    block = f"VALUES ({' '.join('?' + n for n in names)}) {{ {body} }}"
    return f"{sparql[:at]} {block} {sparql[at:]}"


def resolve_params(sparql: str, params: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """Parameter values → RDF terms, with header types and defaults; errors for unknown names."""
    _, _, declared = parse_header(sparql)
    decl = {p.name: p for p in declared}
    used = query_variables(sparql)
    values: dict[str, Any] = {p.name: p.default for p in declared
                              if p.default is not None and p.name in used}
    for name, value in (params or {}).items():
        if name not in used:
            hint = f" (declared: {', '.join(sorted(decl))})" if decl else ""
            raise QueryParamError(f"unknown parameter {name!r}: the query has no ?{name}{hint}")
        values[name] = value
    terms: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, (ox.NamedNode, ox.Literal)):
            terms[name] = value          # already a term: the caller typed it
        else:
            terms[name] = to_term(str(value), decl[name].type if name in decl else None)
    return terms


# ---------------------------------------------------------------------- results

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
            terms = [tuple(sol) for sol in res]
            return cls("select", vars=names, terms=terms, sparql_json=sparql_json)
        triples = [t if isinstance(t, ox.Triple) else ox.Triple(t.subject, t.predicate, t.object)
                   for t in res]
        return cls("graph", triples=triples)


_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_XSD_STRING = XSD + "string"


def _json_term(t: Any) -> dict[str, str]:
    """A term as a SPARQL 1.1 JSON results binding."""
    cls = type(t)
    if cls is ox.NamedNode:
        return {"type": "uri", "value": t.value}
    if cls is ox.Literal:
        if t.language is not None:
            return {"type": "literal", "value": t.value, "xml:lang": t.language}
        dt = t.datatype.value
        if dt == _XSD_STRING:
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


_NUMERIC = {XSD + t: int for t in _INTEGER_TYPES}
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
        if dt == _XSD_STRING:
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
    for row in terms:
        vals = []
        for t in row:
            v = get(t, seen)
            if v is seen:
                v = seen[t] = python_value(t)
            vals.append(v)
        append(tuple(vals))
    return out


# ---------------------------------------------------------------------- running

def run_query(target: Union[Store, "Endpoint", ox.Store], sparql: Union[str, NamedQuery],
              params: Optional[Mapping[str, str]] = None, *,
              union_default_graph: bool = False) -> Result:
    """Run a query (text or NamedQuery) with bound parameters on a store or endpoint.

    `union_default_graph=True` makes the default graph the union of all graphs (documents live
    in named graphs); for an Endpoint it is sent as Oxigraph's `union-default-graph` option.
    """
    text = sparql.text if isinstance(sparql, NamedQuery) else sparql
    bindings = resolve_params(text, params)
    if isinstance(target, Endpoint):
        bound = bind_values(text, bindings)
        prepared = with_prolog(bound)
        try:
            return target.query(prepared, union_default_graph=union_default_graph)
        except EndpointError as e:
            raise EndpointError(_unshift(str(e), prepared, bound)) from None
    prepared = with_prolog(text)
    # Oxigraph sorts by looking up the text of every compared term in the store, per
    # comparison (seconds for some ten thousand rows); rows ordered by plain variables are
    # sorted here instead, by the same SPARQL order, from the query without its ORDER BY.
    split = split_order_by(text)

    def run_text(oxstore: ox.Store, query_text: str) -> Result:
        try:
            res = oxstore.query(with_prolog(query_text),
                                substitutions={ox.Variable(k): v
                                               for k, v in bindings.items()} or None,
                                use_default_graph_as_union=union_default_graph)
        except RuntimeError as e:
            # pyoxigraph 0.5: "The SPARQL query does not contains variable ?x in its SELECT
            # projection" — bind those through VALUES instead.
            if "projection" not in str(e):
                raise
            res = oxstore.query(with_prolog(bind_values(query_text, bindings)),
                                use_default_graph_as_union=union_default_graph)
        return Result.from_oxigraph(res)   # materialized here, inside the (retried) read

    def run(oxstore: ox.Store) -> Result:
        if split is not None:
            unordered, keys = split
            result = run_text(oxstore, unordered)
            if result.kind == "select" and sort_terms(result.terms, result.vars, keys):
                return result
        return run_text(oxstore, text)

    try:
        if isinstance(target, Store):
            return target.read(run)
        return run(target)
    except SyntaxError as e:
        raise QueryError(f"SPARQL syntax error: {_unshift(str(e), prepared, text)}") from e


# Sentence texts are read this many sentences per request from an endpoint (a VALUES table).
TEXT_BATCH = 2_000


def sentence_texts(target: Union[Store, "Endpoint"], graph_of: Mapping[str, str]):
    """Yield (sentence IRI, kg:text) of each sentence IRI in `graph_of`, read in its document's
    graph (`graph_of[iri]`): by index look-ups in the embedded store (~40% faster than the same
    through SPARQL), else through queries/sentence-texts.rq bound to a table of sentences.
    For what quotes evidence (the audit, the graph view's tooltips): texts are read last, only
    for the sentences shown."""
    if isinstance(target, Store):
        text = ox.NamedNode(PREFIXES["kg"] + "text")

        def read(o: ox.Store) -> list:
            return [(s, q.object.value) for s, g in graph_of.items()
                    for q in o.quads_for_pattern(ox.NamedNode(s), text, None, ox.NamedNode(g))]
        yield from target.read(read)
        return
    sparql = load_query("sentence-texts").text
    iris = sorted(graph_of)
    for i in range(0, len(iris), TEXT_BATCH):
        table = [(ox.NamedNode(graph_of[s]), ox.NamedNode(s)) for s in iris[i:i + TEXT_BATCH]]
        yield from run_query(target, bind_table(sparql, ("doc", "sentence"), table)).rows


_ORDER_BY = re.compile(r"ORDER\s+BY\b", re.IGNORECASE)
_ORDER_KEYS = re.compile(r"\s*(?:(?P<dir>ASC|DESC)\s*\(\s*[?$](?P<v1>\w+)\s*\)|[?$](?P<v2>\w+))\s*",
                         re.IGNORECASE)
_QUERY_FORM = re.compile(r"\b(SELECT|CONSTRUCT|ASK|DESCRIBE)\b", re.IGNORECASE)


def split_order_by(sparql: str) -> Optional[tuple[str, list[tuple[str, bool]]]]:
    """(the query without its ORDER BY, [(variable, descending)]) for a SELECT query that
    ends in an ORDER BY of plain variables (`?a`, `ASC(?a)`, `DESC(?a)`) with nothing after
    it but comments; else None."""
    depth = 0
    form = None
    last = None                       # offset of the last ORDER BY at depth 0
    skipped_after: list[str] = []     # comments, strings, IRIs after it
    pos = 0
    for m in list(SKIP.finditer(sparql)) + [None]:
        end = m.start() if m is not None else len(sparql)
        seg = sparql[pos:end]
        for t in re.finditer(r"[{}()]|ORDER\s+BY\b|\b(?:SELECT|CONSTRUCT|ASK|DESCRIBE)\b",
                             seg, re.IGNORECASE):
            tok = t.group(0)
            if tok in "({":
                depth += 1
            elif tok in ")}":
                depth -= 1
            elif depth == 0 and _ORDER_BY.fullmatch(tok):
                last = pos + t.start()
                skipped_after = []
            elif form is None:
                form = tok.upper()
        if m is not None:
            if last is not None:
                skipped_after.append(m.group(0))
            pos = m.end()
    if form != "SELECT" or last is None or any(not s.startswith("#") for s in skipped_after):
        return None
    tail = SKIP.sub(" ", sparql[last:])
    tail = _ORDER_BY.sub(" ", tail, count=1)
    keys: list[tuple[str, bool]] = []
    at = 0
    while at < len(tail):
        k = _ORDER_KEYS.match(tail, at)
        if k is None or k.end() == at:
            return None
        keys.append((k.group("v1") or k.group("v2"),
                     (k.group("dir") or "").upper() == "DESC"))
        at = k.end()
    if not keys:
        return None
    return sparql[:last], keys


_SORTABLE_NUMBERS = {XSD + t for t in _INTEGER_TYPES} | {XSD + "decimal", XSD + "double",
                                                         XSD + "float"}


def sort_terms(terms: list[tuple], names: list[str], keys: list[tuple[str, bool]]) -> bool:
    """Sort select rows in place as SPARQL ORDER BY the `keys` would, and say True; or leave
    them and say False where this order is not certain to be the engine's: a key not
    projected, or a column mixing kinds of literal or holding other than strings (of one
    language tag or none) and numbers (unbound < blank nodes < IRIs < literals; strings by
    code point, numbers by value). Rows equal on every key keep their order (SPARQL leaves theirs open)."""
    index = {n: i for i, n in enumerate(names)}
    plan = []
    for var, desc in keys:
        i = index.get(var)
        if i is None:
            return False
        sort_key: dict[Any, tuple] = {}
        literal_kind = None
        for t in {row[i] for row in terms}:
            cls = type(t)
            if t is None:
                k: tuple = (0,)
            elif cls is ox.BlankNode:
                k = (1, t.value)
            elif cls is ox.NamedNode:
                k = (2, t.value)
            elif cls is ox.Literal:
                dt = t.datatype.value
                if t.language is not None:
                    kind, value = "@" + t.language, t.value
                elif dt == _XSD_STRING:
                    kind, value = "string", t.value
                elif dt in _SORTABLE_NUMBERS:
                    kind, value = "number", python_value(t)
                    if isinstance(value, str) or value != value:   # unparseable, NaN
                        return False
                else:
                    return False
                if literal_kind is None:
                    literal_kind = kind
                elif kind != literal_kind:
                    return False
                k = (3, value)
            else:
                return False
            sort_key[t] = k
        plan.append((i, sort_key, desc))
    if len({desc for _, _, desc in plan}) == 1:      # one direction: one sort on all keys
        cols = [(i, sort_key) for i, sort_key, _ in plan]
        terms.sort(key=lambda row: tuple([sk[row[i]] for i, sk in cols]), reverse=plan[0][2])
        return True
    for i, sort_key, desc in reversed(plan):
        terms.sort(key=lambda row, i=i, sk=sort_key: sk[row[i]], reverse=desc)
    return True


def _unshift(message: str, prepared: str, original: str) -> str:
    """Error positions as in the caller's text: the prolog sits in front of line 1."""
    shift = len(prepared) - len(original)

    def fix(m: re.Match) -> str:
        line, col = int(m.group(1)), int(m.group(2))
        if line == 1 and col > shift:
            col -= shift
        return f"error at {line}:{col}"
    return re.sub(r"error at (\d+):(\d+)", fix, message, count=1)


# ---------------------------------------------------------------------- remote endpoint

class Endpoint:
    """A SPARQL 1.1 endpoint over HTTP (standard library only).

    `query_url` is the query service; `update_url` and `store_url` (Graph Store Protocol) are
    derived for an Oxigraph server (`http://host:port/query`, `/update`, `/store`) when the
    query URL ends in /query or has no path; give them explicitly for other servers.
    """

    def __init__(self, query_url: str, update_url: Optional[str] = None,
                 store_url: Optional[str] = None, *, timeout: float = 120):
        parts = urllib.parse.urlsplit(query_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise EndpointError(f"not an http(s) URL: {query_url}")
        base = None
        if parts.path in ("", "/"):
            base = f"{parts.scheme}://{parts.netloc}"
            query_url = base + "/query"
        elif parts.path.endswith("/query"):
            base = f"{parts.scheme}://{parts.netloc}{parts.path[:-len('/query')]}"
        self.query_url = query_url
        self.update_url = update_url or (base + "/update" if base is not None else None)
        self.store_url = store_url or (base + "/store" if base is not None else None)
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Endpoint({self.query_url!r})"

    def query(self, sparql: str, *, union_default_graph: bool = False) -> Result:
        """Send a complete query (prefixes and parameters already in the text)."""
        url = self.query_url
        if union_default_graph:
            url += ("&" if "?" in url else "?") + "union-default-graph"
        ctype, body = self._request(
            "POST", url, sparql.encode("utf-8"),
            {"Content-Type": "application/sparql-query; charset=utf-8",
             "Accept": "application/sparql-results+json, application/n-triples;q=0.9, "
                       "text/turtle;q=0.8"})
        mt = ctype.split(";")[0].strip().lower()
        results_format = ox.QueryResultsFormat.from_media_type(mt) if mt else None
        try:
            if results_format is not None:
                res = ox.parse_query_results(body, results_format)
                raw = body if results_format == ox.QueryResultsFormat.JSON else None
                return Result.from_oxigraph(res, sparql_json=raw) if raw else \
                    Result.from_oxigraph(res)
            rdf_format = ox.RdfFormat.from_media_type(mt) if mt else None
            if rdf_format is None:
                raise EndpointError(f"{self.query_url}: unexpected content type {ctype!r}")
            return Result.from_oxigraph(ox.parse(body, rdf_format))
        except SyntaxError as e:
            raise EndpointError(f"{self.query_url}: unreadable response ({e})") from e

    def update(self, sparql: str) -> None:
        if not self.update_url:
            raise EndpointError("no update URL configured for this endpoint")
        self._request("POST", self.update_url, sparql.encode("utf-8"),
                      {"Content-Type": "application/sparql-update; charset=utf-8"})

    def put_graph(self, graph_iri: str, ntriples: Union[bytes, str]) -> None:
        """Replace a graph's content (Graph Store Protocol PUT) with N-Triples data."""
        data = ntriples.encode("utf-8") if isinstance(ntriples, str) else ntriples
        self._request("PUT", self._graph_url(graph_iri), data,
                      {"Content-Type": "application/n-triples"})

    def delete_graph(self, graph_iri: str) -> bool:
        """Delete a graph (Graph Store Protocol DELETE); False if it did not exist."""
        try:
            self._request("DELETE", self._graph_url(graph_iri), None, {})
        except EndpointError as e:
            if getattr(e, "status", None) == 404:
                return False
            raise
        return True

    def _graph_url(self, graph_iri: str) -> str:
        if not self.store_url:
            raise EndpointError("no graph store URL configured for this endpoint")
        ox.NamedNode(graph_iri)   # validate
        sep = "&" if "?" in self.store_url else "?"
        return f"{self.store_url}{sep}graph={urllib.parse.quote(graph_iri, safe='')}"

    def _request(self, method: str, url: str, data: Optional[bytes],
                 headers: dict[str, str]) -> tuple[str, bytes]:
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"User-Agent": "kg (fazhi-kg)", **headers})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.headers.get("Content-Type", ""), resp.read()
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace").strip()[:500]
            err = EndpointError(f"{method} {url}: HTTP {e.code} {e.reason}"
                                + (f": {detail}" if detail else ""))
            err.status = e.code   # type: ignore[attr-defined]
            raise err from None
        except urllib.error.URLError as e:
            raise EndpointError(f"cannot reach {url}: {e.reason}") from None


# ---------------------------------------------------------------------- output

def format_result(result: Result, fmt: str = "table",
                  out: Optional[IO[Any]] = None) -> Optional[str]:
    """Write `result` as table | csv | tsv | json to `out` (text or binary stream), or return it
    as a string when `out` is None.

    csv/tsv/json are the SPARQL 1.1 Query Results formats (pyoxigraph's serializer). ASK gives
    `true`/`false` (json: the SPARQL JSON boolean). CONSTRUCT/DESCRIBE give Turtle for table,
    JSON-LD for json, N-Triples for csv/tsv.
    """
    if fmt not in FORMATS:
        raise QueryError(f"unknown output format {fmt!r}; one of {', '.join(FORMATS)}")
    data = _render(result, fmt)
    if out is None:
        return data
    if isinstance(out, io.TextIOBase) or "b" not in getattr(out, "mode", "b"):
        out.write(data)
    else:
        out.write(data.encode("utf-8"))
    return None


def _render(result: Result, fmt: str) -> str:
    if result.kind == "graph":
        rdf_fmt = {"table": ox.RdfFormat.TURTLE, "json": ox.RdfFormat.JSON_LD}.get(
            fmt, ox.RdfFormat.N_TRIPLES)
        prefixes = PREFIXES if rdf_fmt == ox.RdfFormat.TURTLE else None
        return ox.serialize(result.triples, format=rdf_fmt, prefixes=prefixes).decode("utf-8")
    if result.kind == "ask":
        if fmt == "json":
            return json.dumps({"head": {}, "boolean": bool(result.boolean)}) + "\n"
        return ("true" if result.boolean else "false") + "\n"
    if fmt == "table":
        return format_table(result)
    raw = result.sparql_json
    if raw is None:
        raise QueryError("this result has no SPARQL JSON form")
    if fmt == "json":
        return raw.decode("utf-8") + "\n"
    qfmt = ox.QueryResultsFormat.CSV if fmt == "csv" else ox.QueryResultsFormat.TSV
    return ox.parse_query_results(raw, ox.QueryResultsFormat.JSON).serialize(
        format=qfmt).decode("utf-8")


def display_width(s: str) -> int:
    """Terminal columns of `s`: CJK wide/fullwidth characters take two, combining marks none."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in s)


def _fit(s: str, width: int) -> str:
    """`s` cut to at most `width` display columns, ending in … when cut."""
    if display_width(s) <= width:
        return s
    out, used = [], 0
    for c in s:
        w = display_width(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def _pad(s: str, width: int) -> str:
    return s + " " * (width - display_width(s))


def cell_text(term: Any) -> str:
    """How a term shows in a table: IRIs as prefixed names, literals by their value."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return shorten(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        text = term.value   # a reader wants 乳山市, not 乳山市@zh; csv/json keep the tag
    else:
        text = str(term)
    # Control characters would break the grid.
    return re.sub(r"[\r\n\t\x00-\x1f\x7f]", " ", text)


def format_table(result: Result, max_cell: int = MAX_CELL) -> str:
    """A fixed-width table aligned for terminals that show CJK characters double-width."""
    header = list(result.vars)
    body = [[_fit(cell_text(t), max_cell) for t in row] for row in result.terms]
    widths = [display_width(h) for h in header]
    for row in body:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], display_width(c))
    lines = [" | ".join(_pad(h, w) for h, w in zip(header, widths)).rstrip(),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(_pad(c, w) for c, w in zip(row, widths)).rstrip() for row in body]
    n = len(body)
    lines.append(f"({n} row{'s' if n != 1 else ''})")
    return "\n".join(lines) + "\n"
