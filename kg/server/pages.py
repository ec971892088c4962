"""The HTML pages of `kg serve`: data read from the store, rendered by Jinja2 templates.

The store-backed pages (home, region, matrix, graph) run inside the query workers, on their
read-only snapshot, under the engine's time and memory limits. Templates autoescape every value;
pages link only to this server (/static for CSS and scripts), so they work offline.
"""
from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Optional

import jinja2
from markupsafe import Markup

# statuses' order, words and marks are data of the ontology (kg.statuses)
from .. import statuses as status_data

# Rows of the matrix page: a national store has thousands of regions (10 MB of table at 10,000
# documents), so the page shows this many and links to the next; ?region= keeps one region and
# the localities under it.
MATRIX_PAGE_ROWS = 200


class PageError(Exception):
    """A page that cannot be shown for what the request asked: a 4xx status and one line."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("kg.server", "templates"),
                             autoescape=True, trim_blocks=False)
    # every page colours statuses as the ontology says (kg.statuses), as the audit's pages do
    env.globals["status_css"] = Markup("".join(s.css() for s in status_data.shown()))
    env.globals["legend"] = [status_data.get(n) for n in status_data.stated()]
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


def error_page(status: int, message: str) -> str:
    return render("error.html", title=str(status), status=status, message=message)


def _query(store, name: str, params: Optional[dict] = None) -> list[dict]:
    from .. import api
    from ..query import QueryError
    try:
        return api.query(store, name, params).to_dicts()
    except QueryError as e:
        raise PageError(400, str(e)) from None


def home(store, params: dict) -> str:
    from .. import api
    figures = api.stats(store, triples=False)   # every page view: no full count of quads
    localities = []
    for r in _query(store, "server-localities"):
        years = str(r.get("from") or "")
        if r.get("to") and r.get("to") != r.get("from"):
            years += f"–{r['to']}"
        localities.append({**r, "years": years})
    return render("home.html", title="法治图谱", figures=figures, localities=localities)


# Evidence quoted behind a mechanism's <details> on the region page: a province reports some
# mechanisms in hundreds of documents, and the page names how many more there are.
REGION_MORE_EVIDENCE = 30


def region(store, params: dict) -> str:
    """A region's audit (summary, what is missing first, then the rest) and the mechanisms its
    documents report, one row per mechanism: read from the audited documents' assertion indexes
    (a province has ~11,000 assertions: locality-mechanisms takes seconds), or by
    locality-mechanisms for a name the audit cannot resolve."""
    from .. import audit as au
    name = params.get("region", "")
    shown = {"status_text": status_data.display_labels(), "more": REGION_MORE_EVIDENCE}
    try:
        report = au.audit(store, name, write=False, quotes=REGION_MORE_EVIDENCE)
    except au.AuditError as e:
        reported = reported_mechanisms(_query(store, "locality-mechanisms", {"locality": name}))
        if not reported:
            raise PageError(404, str(e)) from None
        return render("region.html", title=name, audit_error=str(e), reported=reported, **shown)
    rows = au.reported_rows(store, au.region_documents(store, report.iri), quote=REGION_MORE_EVIDENCE)
    for s in report.sets:
        s.display = au.title_or(s) + (f" ({s.document})" if s.document else "")
    return render("region.html", title=f"{report.region} ({report.code}, {report.level})",
                  report=report, summary=au.summary_counts(report), reported=reported_mechanisms(rows), **shown)


def reported_mechanisms(rows: list[dict]) -> list[dict]:
    """The rows of locality-mechanisms (one per assertion) grouped by mechanism, in notation
    order: its statuses (display order, with their words), how many documents and localities
    report it, and its evidence (document order)."""
    order = {s.notation: s.order for s in status_data.shown()}
    by_notation: dict[str, dict] = {}
    for r in rows:
        m = by_notation.setdefault(str(r["notation"]), {"notation": str(r["notation"]),
                                                        "mechanism": r.get("mechanism", ""),
                                                        "statuses": set(), "evidence": []})
        m["statuses"].add(str(r["status"]))
        m["evidence"].append({"status": str(r["status"]), "place": r.get("place", ""),
                              "document": str(r.get("document", "")).rsplit("/", 1)[-1],
                              "sentence": r.get("evidence", "")})
    out = []
    for notation in sorted(by_notation):
        m = by_notation[notation]
        m["statuses"] = [status_data.get(s) for s in sorted(m["statuses"], key=lambda s: order.get(s, 99))]
        m["documents"] = len({e["document"] for e in m["evidence"]})
        m["localities"] = len({e["place"] for e in m["evidence"]})
        out.append(m)
    return out


def _under(code: str, region) -> bool:
    from .. import places
    return code == region.code or any(p.code == region.code for p in places.divisions().parents(code))


def matrix(store, params: dict) -> str:
    """The locality × mechanism matrix (the `matrix` named query's cells), a page of
    MATRIX_PAGE_ROWS localities at a time: only the shown localities' cells are read
    (server-matrix-cells), and with ?region= those of the region's localities, whose columns
    they are."""
    region_param = params.get("region") or ""
    region = _matrix_region(region_param)
    try:
        page = max(1, int(params.get("page") or 1))
    except ValueError:
        raise PageError(400, f"page {params['page']!r} is not a number") from None
    localities = sorted((str(r["code"]), str(r["locality"])) for r in _query(store, "server-matrix-localities")
                        if region is None or _under(str(r["code"]), region))
    shown = localities[(page - 1) * MATRIX_PAGE_ROWS:page * MATRIX_PAGE_ROWS]
    mechanisms = _query(store, "server-matrix-mechanisms")
    labels = {str(r["notation"]): str(r["label"]) for r in mechanisms}
    if region is None:
        columns = sorted(labels)
        cells = _matrix_cells(store, shown)
    else:           # a region's columns are the mechanisms its localities report
        cells = _matrix_cells(store, localities)
        columns = sorted({n for row in cells.values() for n in row})
    rows, order, marks = [], status_data.stated(), status_data.marks()
    for code, name in shown:
        row_cells = []
        for c in columns:
            statuses = cells.get((code, name), {}).get(c, [])
            if not statuses:
                row_cells.append(None)
                continue
            top = next((s for s in order if s in statuses), statuses[0])
            row_cells.append({"top": top, "title": f"{labels.get(c, c)}: {' '.join(statuses)}",
                              "marks": "".join(marks.get(s, "?") for s in statuses)})
        rows.append({"code": code, "name": name, "cells": row_cells})
    title = "Region × mechanism matrix" + (f" — {region.name} ({region.code})" if region else "")
    return render("matrix.html", title=title, region_param=region_param, columns=columns,
                  labels=labels, rows=rows, page=page, pages=max(1, -(-len(localities) // MATRIX_PAGE_ROWS)),
                  scope={"region": region.code} if region else {}, n_regions=len(localities),
                  first=(page - 1) * MATRIX_PAGE_ROWS + 1,
                  last=(page - 1) * MATRIX_PAGE_ROWS + len(shown))


def _matrix_region(region_param: str):
    """The region of the matrix page's ?region= (None: all), or a 404 naming the closest."""
    from .. import places
    if not region_param:
        return None
    try:
        return places.one_region(region_param)
    except places.RegionError as e:
        raise PageError(404, str(e)) from None


def _matrix_cells(store, localities: list) -> dict:
    """(code, name) → {notation: [statuses, in notation order]} of the sorted `localities`,
    from their documents' assertion indexes: one query for the range of their codes, the rows
    of other localities in that range left out."""
    from ..rdf import assertion_index_lines
    if not localities:
        return {}
    wanted = set(localities)
    found: dict = {}
    for r in _query(store, "server-matrix-cells", {"from_code": localities[0][0], "to_code": localities[-1][0]}):
        key = (str(r["code"]), str(r["locality"]))
        if key in wanted:
            row = found.setdefault(key, {})
            for notation, status, _ in assertion_index_lines(str(r["index"])):
                row.setdefault(notation, set()).add(status)
    return {key: {n: sorted(s) for n, s in row.items()} for key, row in found.items()}


_GRAPH_CACHE: dict = {}


def graph(store, params: dict) -> str:
    """`kg viz`'s page for the store (filters: ?region=&mechanism=&status=), kept per worker
    until the store changes on disk."""
    from .. import viz
    from ..query import QueryError
    filters = tuple(params.get(k) or None for k in ("region", "mechanism", "status"))
    view = "full" if params.get("view") == "full" else "bipartite"
    if filters[2] and filters[2] not in status_data.stated():
        raise PageError(400, f"status must be one of {', '.join(status_data.stated())}")
    key = (str(store.path), _store_stamp(store.path), filters, view)
    if key not in _GRAPH_CACHE:
        with tempfile.TemporaryDirectory(prefix="kg-serve-") as d:
            out = Path(d) / "graph.html"
            try:
                viz.visualize(store, str(out), *filters, view=view)
            except (viz.VizError, QueryError) as e:
                raise PageError(400, str(e)) from None
            page = out.read_text(encoding="utf-8")
        if len(_GRAPH_CACHE) > 8:
            _GRAPH_CACHE.clear()
        _GRAPH_CACHE[key] = page
    return _GRAPH_CACHE[key]


def _store_stamp(path) -> float:
    try:
        return max(p.stat().st_mtime for p in Path(path).iterdir())
    except (OSError, ValueError):
        return 0.0


def query_page(named: list, selected=None, values: Optional[dict] = None, text: str = "",
               error: str = "", run: bool = False) -> str:
    """The YASGUI query page: runs in the server process (it reads no store)."""
    from ..namespaces import PREFIXES
    config = {"endpoint": "/sparql", "prefixes": PREFIXES, "query": text, "run": bool(run and text and not error)}
    return render("query.html", title="query", named=named, selected=selected,
                  values=values or {}, config=config, error=error)
