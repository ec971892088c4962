"""Output formats of the `kg` commands: a terminal table, SPARQL 1.1 CSV/TSV/JSON results, the
RDF syntaxes of a graph, and the same table/json/csv/tsv names for plain rows (`format_rows`).

Every table is drawn by tabulate, whose column widths are display widths (wcwidth): a CJK
character takes two columns, so Chinese columns line up. Terms show as a reader wants them
(`cell_text`: prefixed names, literals without their tags). Format names are short, as in
sqlite-utils and Jena's riot: `ttl`, `nt`, `nq`, `trig`, `jsonld` beside the long ones.
"""
from __future__ import annotations

import csv
import io
import json
import re
from typing import IO, Any, Optional, Sequence

import pyoxigraph as ox
import tabulate as _tabulate
import wcwidth

from kg.namespaces import PREFIXES, shorten
from kg.results import QueryError, Result

FORMATS = ("table", "csv", "tsv", "json")
MAX_CELL = 60            # display columns of a table cell before it is cut with …

# tabulate measures cells with wcwidth only when this is on (it is when wcwidth imports, which
# setup.cfg's tabulate[widechars] makes sure of); a table drifting by its Chinese cells is the
# bug this module exists to avoid, so say so loudly instead
if not _tabulate.WIDE_CHARS_MODE:     # pragma: no cover
    raise ImportError("kg needs wcwidth for its tables: pip install 'tabulate[widechars]'")

# RDF syntaxes by every name a user may give (Jena riot's short names and pyoxigraph's long
# ones) → the name kg.store.export and pyoxigraph know.
RDF_FORMATS = {"ttl": "turtle", "turtle": "turtle", "nt": "ntriples", "ntriples": "ntriples",
               "nq": "nquads", "nquads": "nquads", "trig": "trig", "jsonld": "jsonld",
               "json-ld": "jsonld"}
_OX_RDF = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
           "jsonld": ox.RdfFormat.JSON_LD}
# what a CONSTRUCT or DESCRIBE result may also be written as (a graph has no graph names)
GRAPH_RESULT_FORMATS = tuple(n for n, rdf in RDF_FORMATS.items() if rdf in _OX_RDF)


def format_result(result: Result, fmt: str = "table",
                  out: Optional[IO[Any]] = None) -> Optional[str]:
    """Write `result` as table | csv | tsv | json to `out` (text or binary stream), or return it
    as a string when `out` is None.

    csv/tsv/json are the SPARQL 1.1 Query Results formats (pyoxigraph's serializer). ASK gives
    `true`/`false` (json: the SPARQL JSON boolean). CONSTRUCT/DESCRIBE give Turtle for table,
    JSON-LD for json, N-Triples for csv/tsv, or the RDF syntax named (ttl, nt, jsonld).
    """
    known = FORMATS + (GRAPH_RESULT_FORMATS if result.kind == "graph" else ())
    if fmt not in known:
        raise QueryError(f"unknown output format {fmt!r} for a {result.kind} result; "
                         f"one of {', '.join(known)}")
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
        # a graph has no rows: table shows Turtle, json JSON-LD, csv/tsv N-Triples
        rdf_name = RDF_FORMATS.get(fmt) or {"table": "turtle", "json": "jsonld"}.get(fmt, "ntriples")
        rdf_fmt = _OX_RDF.get(rdf_name, ox.RdfFormat.N_TRIPLES)
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
    """Terminal columns of `s` as tabulate counts them (wcwidth): CJK wide/fullwidth characters
    take two, combining marks none (a control character, which wcwidth cannot place, one)."""
    width = wcwidth.wcswidth(s)
    return width if width >= 0 else sum(max(wcwidth.wcwidth(c), 1) for c in s)


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


def text_table(header: Sequence[str], rows: Sequence[Sequence[Any]], max_cell: int = MAX_CELL) -> str:
    """Rows as a terminal table whose columns line up by display width (CJK counts two); cells
    longer than `max_cell` columns are cut with …. Numbers stay as written (no reformatting)."""
    body = [[_fit("" if c is None else str(c), max_cell) for c in row] for row in rows]
    return _tabulate.tabulate(body, headers=list(header), tablefmt="presto",
                              disable_numparse=True) + "\n"


def format_table(result: Result, max_cell: int = MAX_CELL) -> str:
    """A query result as a `text_table`, with its number of rows under it."""
    n = len(result.terms)
    return (text_table(result.vars, [[cell_text(t) for t in row] for row in result.terms], max_cell)
            + f"({n} row{'s' if n != 1 else ''})\n")


def format_rows(header: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    """Plain rows (a command's summary: stats, a build, a removal) as table | json | csv | tsv;
    json is a list of objects keyed by the header, numbers kept as numbers."""
    if fmt == "table":
        return text_table(header, rows)
    if fmt == "json":
        return json.dumps([dict(zip(header, row)) for row in rows], ensure_ascii=False, indent=1) + "\n"
    if fmt in ("csv", "tsv"):
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return buf.getvalue()
    raise QueryError(f"unknown output format {fmt!r}; one of {', '.join(FORMATS)}")


def format_record(record: dict, fmt: str) -> str:
    """One record (a command's summary: stats, a build, a removal) as table | json | csv | tsv:
    the table a key and its value a line, json one object, csv/tsv a header and one row."""
    if fmt == "table":
        return _tabulate.tabulate([(k, _cell(v)) for k, v in record.items()], tablefmt="plain",
                                  disable_numparse=True) + "\n"
    if fmt == "json":
        return json.dumps(record, ensure_ascii=False, indent=1) + "\n"
    return format_rows(list(record), [[_cell(v) for v in record.values()]], fmt)


def _cell(value: Any) -> str:
    """A record's value in one cell: a list as its items joined by `; `."""
    if isinstance(value, (list, tuple)):
        return "; ".join(map(_cell, value))
    return "" if value is None else str(value)


def format_query_list(queries, fmt: str) -> str:
    """Named queries (kg.query.NamedQuery) with their parameters: lines for a terminal, or
    rows in `fmt` (a parameter that may be left out is marked `?`)."""
    if fmt != "table":
        return format_rows(
            ["name", "title", "params"],
            [[nq.name, nq.title, " ".join(f"{p.name}{'' if p.required else '?'}" for p in nq.params)]
             for nq in queries], fmt if fmt in FORMATS else "json")
    lines = []
    for nq in queries:
        lines.append(f"{nq.name:<28} {nq.title}")
        for p in nq.params:
            need = f" (default: {p.default})" if p.default else "" if not p.required else " (required)"
            lines.append(f"{'':<28}   --param {p.name}=…  {p.description}{need}")
    return "\n".join(lines) + "\n"


def rdf_format(name: str) -> str:
    """The RDF syntax a format name stands for (`ttl` → turtle …); QueryError for an unknown one."""
    try:
        return RDF_FORMATS[name.lower()]
    except KeyError:
        raise QueryError(f"unknown RDF format {name!r}; one of {', '.join(RDF_FORMATS)}") from None


def jsonld_context() -> dict:
    """The JSON-LD @context of the project's prefixes, so that an export reads as kg:…, skos:…"""
    return {"@context": dict(PREFIXES)}
