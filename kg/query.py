"""Named SPARQL queries: the catalog of `queries/*.rq` and running them on any store.

Named queries are the files `queries/*.rq` of the repository (or `$KG_QUERIES`). Each starts with
a header of `#` lines:

    # Which mechanisms does a locality report?          ← title: the question it answers
    # Lists the mechanisms found in the locality's      ← description (any number of lines)
    # reports, with the years.
    # param: place — the locality's name (default: 乳山市)
    # param: year (integer) — report year
    # internal: used by kg audit                        ← run by a command, not listed for people

A param line is `# param: NAME [(TYPE)] [— description] [(default: VALUE)]`; TYPE is `string`,
`iri` or an XSD datatype name (integer, decimal, double, boolean, date, dateTime, gYear, …).

`run_query` binds the parameters (never pasted into the text: kg.binding says how) and runs the
query on a store (kg.graphstore: the embedded store or a SPARQL server). Every query gets the
project prefixes (kg.namespaces) predeclared, except those it declares. Results are
kg.results.Result; kg.formats writes them as a table, CSV, TSV or JSON.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Union

import pyoxigraph as ox

from kg import resources
from kg.binding import (INTERNAL, Param, QueryParamError, bind_table, bind_values, parse_header,
                        query_variables, resolve_params, sort_terms, split_order_by, to_term)
from kg.formats import FORMATS, MAX_CELL, cell_text, display_width, format_result, format_table
from kg.graphstore import GraphStore
from kg.namespaces import PREFIXES
from kg.remote import Endpoint, EndpointError, RemoteStore
from kg.results import BNode, IRI, QueryError, Result, python_rows, python_value, results_json
from kg.store import Store

QUERIES_ENV = "KG_QUERIES"

# Importable from here, where callers found them before binding, results, output formats and
# the HTTP client had modules of their own.
__all__ = [
    "BNode", "Endpoint", "EndpointError", "FORMATS", "IRI", "MAX_CELL", "NamedQuery", "Param",
    "QUERIES_ENV", "QueryError", "QueryParamError", "RemoteStore", "Result", "bind_table",
    "bind_values", "cell_text", "display_width", "format_result", "format_table", "list_queries",
    "load_query", "parse_header", "python_rows", "python_value", "queries_dir",
    "query_variables", "resolve_params", "results_json", "run_query", "sentence_texts",
    "sort_terms", "split_order_by", "to_term",
]


# ---------------------------------------------------------------------- named queries

@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    path: Optional[Path]
    text: str
    internal: str = ""          # why it is internal (`# internal: …` in its header): not listed for people


def queries_dir(directory: Union[str, os.PathLike, None] = None) -> Path:
    """`directory`, else `$KG_QUERIES`, else the named queries installed with the package."""
    if directory is not None:
        return Path(directory)
    return resources.queries_dir()


def list_queries(directory: Union[str, os.PathLike, None] = None, *,
                 internal: bool = True) -> list[NamedQuery]:
    """All named queries, sorted by name; `internal=False`: only those written for people."""
    d = queries_dir(directory)
    if not d.is_dir():
        return []
    return [q for q in map(_read_query, sorted(d.glob("*.rq"))) if internal or not q.internal]


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
    internal = ""
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        m = INTERNAL.match(line.lstrip("#").strip())
        internal = m.group("why") if m else internal
    return NamedQuery(path.stem, title, description, params, path, text, internal)


# ---------------------------------------------------------------------- running

def run_query(target: Union[GraphStore, ox.Store], sparql: Union[str, NamedQuery],
              params: Optional[Mapping[str, str]] = None, *,
              union_default_graph: bool = False) -> Result:
    """Run a query (text or NamedQuery) with bound parameters on a store (embedded or remote),
    or on a bare pyoxigraph store (read as an embedded store in memory).

    `union_default_graph=True` makes the default graph the union of all graphs (documents live
    in named graphs); for a SPARQL server it is sent as Oxigraph's `union-default-graph` option.
    """
    text = sparql.text if isinstance(sparql, NamedQuery) else sparql
    store = Store(target, None, False) if isinstance(target, ox.Store) else target
    return store.query(text, resolve_params(text, params), union_default_graph=union_default_graph)


def sentence_texts(target: GraphStore, graph_of: Mapping[str, str]):
    """Yield (sentence IRI, kg:text) of each sentence IRI in `graph_of`, read in its document's
    graph (`graph_of[iri]`): by index look-ups in the embedded store, else through
    queries/sentence-texts.rq bound to a table of sentences (GraphStore.subject_values).
    For what quotes evidence (the audit, the graph view's tooltips): texts are read last, only
    for the sentences shown."""
    yield from target.subject_values(graph_of, PREFIXES["kg"] + "text",
                                     load_query("sentence-texts").text, ("doc", "sentence"))
