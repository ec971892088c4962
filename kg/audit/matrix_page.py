"""The audit matrix as a page a person can read at thousands of regions: locality × requirement.

The page carries its data as one JSON blob — the statuses (words, marks, colours from
kg.statuses), the columns (notation, mechanism name, requirement set), the regions (name, code,
level, province, prefecture) and one status character per region × column — and static/matrix.js
draws it: rows in pages of PAGE_ROWS as the reader scrolls, grouped by province (collapsible),
a sticky header of mechanism names, a text and a status filter, sort by a column. Evidence is
not inlined (at 1,000 documents that made a 21 MB page): a region's evidence is `kg audit CODE`,
or in the server its /region/CODE page, which `link` names.

The view's state (filter, status, sort) is also read from the page's #fragment, so a view can be
linked to and a browser test can ask for one without running script.
"""
from __future__ import annotations

import html
import json
from functools import lru_cache
from importlib.resources import files

from .. import places, statuses
from .requirements import BASELINE_KEY

# Rows drawn at a time: enough to fill a few screens, few enough that drawing them stays well
# under the time a reader notices.
PAGE_ROWS = 200

# A cell is one character, a status's code: the statuses in display order take these, the cell of
# a requirement that does not bind the region (its level or a notice's jurisdiction) "-".
STATUS_CODES = "0123456789abcdefghijklmnopqrstuvwxyz"
NOT_APPLICABLE_CODE = "-"


@lru_cache(maxsize=None)
def static_text(name: str) -> str:
    """A file of the package's static/ folder."""
    return files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def page_statuses() -> list:
    """The statuses a cell shows: an audit row's, then "not applicable"."""
    return list(statuses.audit_statuses()) + [statuses.get(statuses.NOT_APPLICABLE)]


def status_codes() -> dict[str, str]:
    """status notation → the character of its cells."""
    return {s.notation: NOT_APPLICABLE_CODE if s.notation == statuses.NOT_APPLICABLE else STATUS_CODES[i]
            for i, s in enumerate(page_statuses())}


def column_key(row) -> tuple:
    """A column's sort key: the baseline's requirements first, then each notice's."""
    return (row.set_key != BASELINE_KEY, row.set_key, row.notation)


def _set_names(reports) -> dict:
    """requirement set IRI → how the page names it: its title, else the notice's file."""
    out = {}
    for rep in reports:
        for s in rep.sets:
            out.setdefault(s.iri, s.title or (s.document or s.iri).rsplit("/", 1)[-1])
    return out


def columns(reports) -> tuple[list, list, list]:
    """The column keys in order, each column's description for the page, and the names of the
    requirement sets its "set" indexes."""
    first: dict[tuple, object] = {}
    for rep in reports:
        for r in rep.rows:
            first.setdefault(column_key(r), r)
    keys = sorted(first)
    names = _set_names(reports)
    sets = list(dict.fromkeys(names.get(first[k].set, first[k].set.rsplit("/", 1)[-1]) for k in keys))
    return keys, [{"notation": k[2], "label": first[k].label, "baseline": not k[0],
                   "set": sets.index(names.get(first[k].set, first[k].set.rsplit("/", 1)[-1])),
                   "citation": first[k].citation} for k in keys], sets


def region_place(report) -> dict:
    """A region's name, code, level and where it lies (province, prefecture)."""
    loc = places.divisions().by_code(report.code)
    province = (loc.province if loc else None) or report.region
    prefecture = loc.prefecture if loc and loc.prefecture != report.region else None
    return {"name": report.region, "code": report.code, "level": report.level,
            "province": province, "prefecture": prefecture or ""}


def cell_codes(report, keys, codes: dict) -> str:
    """One character per column: the code of the row's status, or NOT_APPLICABLE_CODE where no
    row of the report has that column."""
    by_key = {column_key(r): codes[r.status] for r in report.rows}
    return "".join(by_key.get(k, NOT_APPLICABLE_CODE) for k in keys)


def matrix_data(reports, link: str | None = None) -> dict:
    """Everything the page draws, as JSON-able data. `link`: a region's page with {code} in it
    (the server's "/region/{code}"), or None for a page read on its own."""
    keys, cols, sets = columns(reports)
    codes = status_codes()
    return {
        "statuses": [{"notation": s.notation, "code": codes[s.notation], "label": s.label, "short": s.short,
                      "mark": s.mark, "order": s.order} for s in page_statuses()],
        "none": statuses.NOT_REPORTED,
        "na": statuses.NOT_APPLICABLE,
        "sets": sets,
        "columns": cols,
        "regions": [region_place(rep) for rep in reports],
        "cells": [cell_codes(rep, keys, codes) for rep in reports],
        "link": link,
        "pageRows": PAGE_ROWS,
    }


def data_json(data: dict) -> str:
    """The blob as the text of a <script type="application/json">: compact, and nothing in it can
    close the element or open a comment (a "<" only occurs inside JSON strings, where \\u003c is
    the same character)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def page_css() -> str:
    """static/matrix.css and the statuses' colours (kg.statuses, the one palette)."""
    return static_text("matrix.css") + "\n".join(s.css() for s in page_statuses()) + "\n"


def matrix_page(reports, link: str | None = None, title: str = "审计矩阵") -> str:
    """The page of the audit of every region in `reports` (kg.audit.AuditReport)."""
    data = matrix_data(reports, link)
    legend = " ".join(f'<span class="lg st-{s.notation}">{html.escape(s.mark)} {html.escape(s.short)}</span>'
                      for s in page_statuses())
    n_cols = len(data["columns"])
    return (f'<!DOCTYPE html>\n<html lang="zh"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>\n{page_css()}</style></head>\n"
            f'<body><header id="bar"><h1>{html.escape(title)} '
            f'<small>{len(reports)} regions × {n_cols} requirements</small></h1>'
            f'<p class="legend">{legend}</p>'
            f'<p class="hint">A region\'s evidence: <code>kg audit CODE --format html</code>. '
            f"Click a mechanism to sort by it (missing first, again for implemented first); a province's "
            f"row counts its regions that do not report each requirement.</p>"
            f'<div id="controls"></div></header>\n<main id="matrix"><p>Loading…</p></main>\n'
            f'<script type="application/json" id="kg-matrix-data">{data_json(data)}</script>\n'
            f"<script>\n{static_text('matrix.js')}</script>\n</body></html>\n")
