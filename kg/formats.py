"""Output formats of query results: a terminal table, SPARQL 1.1 CSV/TSV/JSON results, and the
RDF syntaxes of a graph result.

The table is aligned for terminals that show CJK characters double-width (`display_width`) and
shows terms as a reader wants them (`cell_text`: prefixed names, literals without their tags).
"""
from __future__ import annotations

import io
import json
import re
import unicodedata
from typing import IO, Any, Optional

import pyoxigraph as ox

from kg.namespaces import PREFIXES, shorten
from kg.results import QueryError, Result

FORMATS = ("table", "csv", "tsv", "json")
MAX_CELL = 60            # display columns of a table cell before it is cut with …


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
