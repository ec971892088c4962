"""Rendering: an audit as a table, JSON, CSV or an HTML page, and the audit of every region as a
matrix (text or HTML). Statuses are shown with the words, marks and colours of kg.statuses.
"""
from __future__ import annotations

import csv
import html
import io
import json

from .. import statuses
from ..formats import text_table
from .matrix_page import matrix_page
from .requirements import BASELINE, BASELINE_KEY, AuditError, title_or

# A plain-text matrix cell whose requirement does not bind the region: ASCII, as the table's
# column padding is.
NO_CELL = "-"


def snippet(text: str, n: int = 40) -> str:
    """`text` on one line, cut to `n` characters."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"


def set_name(report, iri) -> str:
    """How a table names a requirement set: baseline-2021 or the notice's file name."""
    for s in report.sets:
        if s.iri == iri:
            return BASELINE_KEY if iri == BASELINE else (s.document or iri).rsplit("/", 1)[-1]
    return iri


def set_display(s) -> str:
    """A requirement set as its title, with the notice's file in brackets."""
    return title_or(s) + (f" ({s.document})" if s.document else "")


def _column(row) -> tuple:
    """A matrix column's sort key: the baseline's requirements first, then each notice's."""
    return (row.set_key != BASELINE_KEY, row.set_key, row.notation)


# ------------------------------------------------------------------ text, JSON, CSV

def summary_text(report) -> str:
    """The report's counts of rows by status, missing first: "3 not reported, 1 planned, …"."""
    counts = report.summary()
    parts = [f"{n} {statuses.get(s).label}" for s, n in counts.items()]
    return f"{', '.join(parts) or 'no requirement'} ({sum(counts.values())} requirements)"


def localities_text(row) -> str:
    """A roll-up row's localities: "25 of 34 localities; lacking: …"."""
    of = len(row.covered) + len(row.missing)
    lacking = f"; lacking: {', '.join(row.missing)}" if row.covered and row.missing else ""
    return f"{len(row.covered)} of {of} localities{lacking}"


def format_table(report) -> str:
    lines = [f"{report.region} ({report.code}, {report.level}) — audit against "
             + "; ".join(set_display(s) for s in report.sets),
             f"summary: {summary_text(report)}"]
    lines += report.notes
    # aligned by display width: Chinese labels take two columns a character
    rows = [(r.notation, snippet(r.label, 18), set_name(report, r.set), statuses.get(r.status).label,
             len(r.evidence), snippet(r.evidence[0]["sentence"]) if r.evidence else "")
            for r in report.rows]
    lines.append(text_table(["", "mechanism", "requirement set", "status", "sentences", "first evidence"],
                            rows).rstrip("\n"))
    if report.rolled_up:
        lines.append(f"by locality (of the {report.documented} with documents):")
        lines += [f"  {r.notation:<5} {localities_text(r)}" for r in report.rows]
    return "\n".join(lines)


def format_json(report_or_reports) -> str:
    if isinstance(report_or_reports, list):
        data = [r.to_dict() for r in report_or_reports]
    else:
        data = report_or_reports.to_dict()
    return json.dumps(data, ensure_ascii=False, indent=1)


CSV_FIELDS = ["region", "code", "notation", "label", "set", "citation", "status", "evidence_count",
              "first_evidence", "implemented_in", "localities", "covered", "missing"]


def format_csv(reports) -> str:
    reports = reports if isinstance(reports, list) else [reports]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_FIELDS)
    for rep in reports:
        for r in rep.rows:
            w.writerow([rep.region, rep.code, r.notation, r.label, r.set, r.citation,
                        statuses.get(r.status).label, len(r.evidence),
                        r.evidence[0]["sentence"] if r.evidence else "",
                        len(r.covered), len(r.covered) + len(r.missing),
                        " ".join(r.covered), " ".join(r.missing)])
    return buf.getvalue()


def format_matrix_table(reports) -> str:
    marks = statuses.marks()
    keys = sorted({_column(r) for rep in reports for r in rep.rows})
    legend = ", ".join(f"{s.mark} {s.short}" for s in statuses.audit_statuses())
    lines = ["region      " + " ".join(k[2] + ("*" if k[0] else "") for k in keys),
             f"(* required by a notice; {legend}, {NO_CELL} {statuses.get(statuses.NOT_APPLICABLE).short})"]
    for rep in reports:
        cells = {_column(r): marks[r.status] for r in rep.rows}
        lines.append(f"{rep.region:<10}  " + " ".join(cells.get(k, NO_CELL).ljust(len(k[2]) + k[0]) for k in keys))
    return "\n".join(lines)


# ------------------------------------------------------------------ HTML

_PAGE_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em} table{border-collapse:collapse;margin:1em 0} td,th{border:1px solid #bbb;padding:4px 8px;vertical-align:top}
th{background:#eee} .note{color:#555;margin:.2em 0} .summary span{padding:2px 6px;margin-right:.3em}
"""
_QUOTE_CSS = """
blockquote{margin:.3em 0 .3em 1em;padding-left:.6em;border-left:3px solid #ccc;color:#333;font-size:.9em}
.src{color:#777;font-size:.85em} td.cell a{color:inherit;text-decoration:none;display:block}
"""


def shown_statuses() -> list:
    """The statuses an audit page shows: a row's, and a matrix cell that does not apply."""
    return list(statuses.audit_statuses()) + [statuses.get(statuses.NOT_APPLICABLE)]


def page_css() -> str:
    """The page's style sheet: the layout, then a class per status (two to a line)."""
    rules = [s.css() for s in shown_statuses()]
    colours = "\n".join(" ".join(rules[i:i + 2]) for i in range(0, len(rules), 2))
    return _PAGE_CSS + colours + _QUOTE_CSS


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{page_css()}</style></head><body>\n{body}\n</body></html>\n")


def _e(s) -> str:
    return html.escape(str(s or ""))


def rows_html(report, anchor_prefix: str = "") -> str:
    """The table of a report's rows: mechanism, requirement, status and the quoted evidence."""
    out = ["<table><tr><th>mechanism</th><th>requirement</th><th>status</th><th>evidence</th></tr>"]
    for r in report.rows:
        aid = f"{anchor_prefix}{report.code}-{r.set_key}-{r.notation}"
        quotes = "".join(f'<blockquote>{_e(e["sentence"])} <span class="src">— {_e(e["document"])}</span></blockquote>'
                         for e in r.evidence)
        roll = f'<div class="src">{_e(localities_text(r))}</div>' if report.rolled_up else ""
        out.append(f'<tr id="{_e(aid)}"><td><b>{_e(r.notation)}</b> {_e(r.label)}</td>'
                   f'<td>{_e(r.citation)}</td><td class="st-{r.status}">{_e(statuses.get(r.status).label)}</td>'
                   f"<td>{len(r.evidence)}{quotes}{roll}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def format_html(report) -> str:
    body = [f"<h1>审计 {_e(report.region)} ({_e(report.code)}, {_e(report.level)})</h1>",
            "<p>Requirement sets: " + "; ".join(_e(set_display(s)) for s in report.sets) + "</p>"]
    body.append(summary_html(report))
    body += [f'<p class="note">{_e(n)}</p>' for n in report.notes]
    body.append(rows_html(report))
    return _page(f"审计 {report.region}", "\n".join(body))


def summary_html(report) -> str:
    """The counts of a report's rows by status, missing first, each in its status's colour."""
    counts = report.summary()
    spans = " ".join(f'<span class="st-{s}">{n} {_e(statuses.get(s).label)}</span>' for s, n in counts.items())
    return f'<p class="summary">{spans} ({sum(counts.values())} requirements)</p>'


def summary_counts(report) -> list[dict]:
    """What a page's summary shows: the counts by status (missing first) with their labels."""
    return [{"status": s, "label": statuses.get(s).label, "count": n} for s, n in report.summary().items()]


def format_html_matrix(reports, link: str | None = None) -> str:
    """Every region's audit as one page: the statuses as data, drawn by script a page of rows at
    a time (kg.audit.matrix_page); a region's evidence is its own audit, or `link`'s page."""
    return matrix_page(reports, link)


# ------------------------------------------------------------------ by name

REGION_FORMATS = {"table": format_table, "json": format_json, "csv": format_csv, "html": format_html}
MATRIX_FORMATS = {"table": format_matrix_table, "json": format_json, "csv": format_csv,
                  "html": format_html_matrix}


def render(report_or_reports, fmt: str = "table") -> str:
    """A region's report, or the list of every region's (as a matrix), in `fmt`: table, json,
    csv or html."""
    formats = MATRIX_FORMATS if isinstance(report_or_reports, list) else REGION_FORMATS
    if fmt not in formats:
        raise AuditError(f"audit format {fmt!r}: use one of {', '.join(formats)}")
    return formats[fmt](report_or_reports)
