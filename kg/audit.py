"""The audit: which required mechanisms a region reports, and on what evidence.

Requirement sets are the national baseline (kgr:baseline-2021, binding by level) and every
requirement document (doctype "notice") in the store, which binds its issuer's locality and every
locality under it. The SPARQL lives in queries/audit-*.rq; each returns a small result set and
Python combines them (set differences are computed here, never with FILTER NOT EXISTS).
Results are written back as kg:AuditRecord nodes in the graph AUDIT_GRAPH.
"""
from __future__ import annotations

import contextlib
import csv
import difflib
import gc
import html
import io
import json
from dataclasses import dataclass, field

from pyoxigraph import NamedNode

from . import places, rdf
from .rdf import BASE, KGL, LEVEL, RDF_TYPE, kg

AUDIT_GRAPH = BASE + "audit"
KGA = BASE + "audit/"
BASELINE = BASE + "requirement/baseline-2021"
DPV = "https://w3id.org/dpv#"
STATUS_ORDER = ("implemented", "planned", "weakness")
STATUS_TEXT = {"implemented": "implemented", "planned": "only planned",
               "weakness": "reported as weakness", "none": "not reported"}
COMPLIANCE = {"implemented": "Compliant", "planned": "PartiallyCompliant",
              "weakness": "PartiallyCompliant", "none": "NonCompliant"}


class AuditError(Exception):
    """A region or requirement set that cannot be audited; the message says why."""


@dataclass
class ReqSet:
    key: str                 # short id used in record IRIs: baseline-2021 or the document hash
    iri: str
    title: str
    document: str | None = None      # source file of a notice
    issuer: str | None = None        # locality IRI of a notice's issuer
    issuer_name: str | None = None
    requirements: list = field(default_factory=list)   # dicts: requirement, notation, label, citation, levels


@dataclass
class Row:
    notation: str
    label: str
    requirement: str
    set: str
    set_key: str
    citation: str
    status: str                      # implemented | planned | weakness | none
    evidence: list                   # [{document, sentence, iri, locality}]: iri names the sentence
    covered: list
    missing: list

    def to_dict(self) -> dict:
        return {"notation": self.notation, "label": self.label, "requirement": self.requirement,
                "set": self.set, "citation": self.citation, "status": STATUS_TEXT[self.status],
                "evidence": [{"document": e["document"], "sentence": e["sentence"]} for e in self.evidence],
                "localities": {"covered": self.covered, "missing": self.missing}}


@dataclass
class AuditReport:
    region: str
    code: str
    level: str
    iri: str
    sets: list
    notes: list
    rows: list
    rolled_up: list                  # names of localities with documents under the region

    def to_dict(self) -> dict:
        return {"region": self.region, "code": self.code, "level": self.level,
                "sets": [{"set": s.iri, "title": s.title, "document": s.document} for s in self.sets],
                "notes": self.notes, "rows": [r.to_dict() for r in self.rows]}


# ------------------------------------------------------------------ regions and sets

def resolve_region(store, region: str):
    """The one division a user means by `region` (name or code); AuditError otherwise."""
    found = places.lookup_region(region)
    if len(found) > 1:
        cands = "; ".join(f"{l.name} ({l.code}{', ' + l.province if l.province and l.province != l.name else ''})"
                          for l in found)
        raise AuditError(f"region {region!r} is ambiguous: {cands}; give the division code")
    if not found:
        names = {l.name for l in places.all_localities() if l}
        names |= {r["place"] for r in _q(store, "audit-localities")}
        q = "".join(region.split())
        inside = sorted((n for n in names if len(n) >= 3 and (n in q or n[:2] == q[:2])),
                        key=lambda n: (n not in q, -len(n), n))
        close = list(dict.fromkeys(inside[:5] + difflib.get_close_matches(q, sorted(names), n=5, cutoff=0.3)))[:6]
        raise AuditError(f"unknown region {region!r}; closest: {', '.join(close) if close else '—'}")
    return found[0]


def _q(store, name, params=None):
    from . import api
    return api.query(store, name, params).to_dicts()


def requirement_sets(store) -> list[ReqSet]:
    """The baseline and every notice of the store, with their requirements (read once per
    snapshot of a read-only store: a server audits region after region against the same sets)."""
    return _per_snapshot(store, "audit.requirement_sets", lambda: _requirement_sets(store))


def _per_snapshot(store, key, compute):
    from .store import Store
    return store.per_snapshot(key, compute) if isinstance(store, Store) else compute()


def _requirement_sets(store) -> list[ReqSet]:
    base = ReqSet("baseline-2021", BASELINE, "法治政府建设实施纲要(2021—2025年)")
    by_req: dict[str, dict] = {}
    for r in _q(store, "audit-baseline"):
        d = by_req.setdefault(r["requirement"], {"requirement": r["requirement"], "notation": r["notation"],
                                                 "label": r["mechanism"], "citation": r.get("citation") or "",
                                                 "levels": set()})
        d["levels"].add(r["level"])
    base.requirements = sorted(by_req.values(), key=lambda d: d["notation"])
    sets = [base]
    notices: dict[str, ReqSet] = {}
    for r in _q(store, "audit-notices"):
        s = notices.get(r["doc"])
        if s is None:
            title = r.get("title") or r["document"].rsplit("/", 1)[-1]
            s = notices[r["doc"]] = ReqSet(r["doc"].rsplit("/", 1)[-1], r["doc"], title, r["document"],
                                           r.get("issuer"), r.get("place"))
        s.requirements.append({"requirement": r["requirement"], "notation": r["notation"],
                               "label": r["mechanism"], "citation": f"{title_or(s)} ({s.document})",
                               "levels": None})
    return sets + sorted(notices.values(), key=lambda s: s.document or "")


def title_or(s: ReqSet) -> str:
    return s.title or (s.document or s.iri)


def _find_set(store, sets, against):
    from . import api
    try:
        graph = api._document_graph(store, against)
    except LookupError as e:
        raise AuditError(f"no requirement set {against!r}: {e}; use applicable, baseline, all, "
                         f"or a notice's file name") from None
    for s in sets:
        if s.iri == graph:
            return s
    raise AuditError(f"{against!r} is not a requirement document (doctype notice) with required mechanisms")


def _ancestors(loc) -> set[str]:
    return {KGL + loc.code} | {KGL + p.code for p in places.divisions().parents(loc.code)}


def _applies(s: ReqSet, loc) -> bool:
    if s.iri == BASELINE:
        return True
    return s.issuer is not None and s.issuer in _ancestors(loc)


def choose_sets(store, loc, against: str, sets=None):
    """(sets, notes) to audit `loc` against."""
    sets = sets if sets is not None else requirement_sets(store)
    notes = []
    a = (against or "applicable").strip()
    if a == "applicable":
        chosen = [s for s in sets if _applies(s, loc)]
    elif a == "baseline":
        chosen = [sets[0]]
    elif a == "all":
        chosen = list(sets)
    else:
        chosen = [_find_set(store, sets, a)]
    for s in chosen:
        if not _applies(s, loc):
            notes.append(f"note: {title_or(s)} ({s.document}) was issued for {s.issuer_name or 'an unknown locality'}; "
                         f"it is applied to {loc.name} outside its issuer's jurisdiction")
    return chosen, notes


# ------------------------------------------------------------------ the audit

def _broader(store) -> dict[str, list[str]]:
    """notation → the notations it counts for (itself and every broader concept)."""
    def read():
        out: dict[str, list[str]] = {}
        for r in _q(store, "audit-broader"):
            out.setdefault(r["notation"], []).append(r["required"])
        return out
    return _per_snapshot(store, "audit.broader", read)


def _documents(store, target: str | None = None) -> list[dict]:
    """The documents of `target` and of every locality under it, or every document with a
    locality: doc, document (source file), locality, code, place and index."""
    rows = (_q(store, "audit-documents", {"target": NamedNode(target)}) if target is not None
            else _q(store, "audit-all-documents"))
    idx = places.divisions()
    out = []
    for d in rows:
        code = d["locality"][len(KGL):].split("/", 1)[0]
        loc = idx.by_code(code)
        out.append({**d, "code": code, "place": loc.name if loc else code})
    return out


def _reports_by_requirement(documents, broader) -> dict[str, dict[str, list]]:
    """required notation → status → [((document, doc IRI, locality), spans)]: what the documents'
    assertion indexes report, each mechanism counting for its broader ones too; the spans as the
    index writes them (only the status a row shows needs its offsets, see `_evidence`). A
    notice's own "required" is not a report."""
    out: dict[str, dict[str, list]] = {}
    for d in documents:
        if not d.get("index"):
            continue
        source = (d["document"], d["doc"], d["locality"])
        for notation, status, spans in rdf.assertion_index_lines(d["index"]):
            if status not in STATUS_ORDER:
                continue
            for required in broader.get(notation, (notation,)):
                out.setdefault(required, {}).setdefault(status, []).append((source, spans))
    return out


def _evidence(found) -> list[dict]:
    """The evidence dicts of a row from its [((document, doc, locality), spans)]: in document
    and text order, a sentence that evidences several narrower mechanisms quoted once."""
    if not found:
        return []
    by_source: dict[tuple, list] = {}
    for source, spans in found:
        by_source.setdefault(source, []).append(spans)
    out = []
    for document, doc, locality in sorted(by_source):
        name = document.rsplit("/", 1)[-1]
        out.extend({"document": name, "sentence": None, "iri": iri, "doc": doc, "locality": locality}
                   for iri in rdf.index_sentence_iris(doc, *by_source[document, doc, locality]))
    return out


def _localities(documents) -> list[dict]:
    return list({(d["locality"], d["document"]): {k: d[k] for k in ("locality", "code", "place", "document")}
                 for d in documents}.values())


def _rows_for(loc, chosen, reported, localities) -> list[Row]:
    level = kg(LEVEL.get(loc.level, "CountyLevel")).value
    names = sorted({(l["code"], l["place"], l["locality"]) for l in localities})
    rows = []
    for s in chosen:
        for r in s.requirements:
            if r["levels"] is not None and level not in r["levels"]:
                continue
            by_status = reported.get(r["notation"])
            if by_status is None:       # the common row of a county: nothing reported
                status, evidence, covered, missing = "none", [], [], [n for _, n, _ in names]
            else:
                status = next((st for st in STATUS_ORDER if st in by_status), "none")
                evidence = _evidence(by_status.get(status, ()))
                covering = {source[2] for source, _ in by_status.get("implemented", ())}
                covered = [n for _, n, iri in names if iri in covering]
                missing = [n for _, n, iri in names if iri not in covering]
            rows.append(Row(r["notation"], r["label"], r["requirement"], s.iri, s.key, r["citation"],
                            status, evidence, covered, missing))
    return rows


def _report(loc, chosen, notes, reported, localities) -> AuditReport:
    iri = KGL + loc.code
    sub = sorted({l["place"] for l in localities if l["locality"] != iri})
    notes = list(notes)
    if not localities:
        notes.append(f"note: no document of {loc.name} or of any locality under it is in the store")
    elif sub:
        only = " (the only locality under it with documents)" if len(sub) == 1 else \
            f" ({len(sub)} localities under it with documents)"
        notes.append(f"{loc.name}: rolled up over {', '.join(sub)}{only}")
    return AuditReport(loc.name, loc.code, loc.level, iri, chosen, notes,
                       _rows_for(loc, chosen, reported, localities), sub)


def quote_evidence(store, reports, quotes: bool | int = True) -> None:
    """Fill in the text ("sentence") of the evidence sentences of `reports`, in place: all of
    them (True), none (False) or the first `quotes` of each row."""
    if quotes is False:
        return
    per_row = None if quotes is True else quotes
    pending: dict[str, list] = {}
    for rep in reports:
        for r in rep.rows:
            for e in r.evidence[:per_row]:
                if e["sentence"] is None:
                    pending.setdefault(e["iri"], []).append(e)
    from .query import sentence_texts
    for sentence, text in sentence_texts(store, {s: found[0]["doc"] for s, found in pending.items()}):
        for e in pending[sentence]:
            e["sentence"] = text


def audit(store, region: str, against: str = "applicable", *, write: bool = True,
          quotes: bool | int = True) -> AuditReport:
    """Audit one region (name or code) against its applicable sets, the baseline, one notice or all.

    quotes: which evidence sentences get their text read, as for `audit_all`: all (True), none
    (False) or the first n of each row — the table and the CSV show one, and a province's rows
    have thousands (reading them is most of its audit: ~0.45 s of 0.5 at 10,000 documents)."""
    loc = resolve_region(store, region)
    chosen, notes = choose_sets(store, loc, against)
    documents = _documents(store, KGL + loc.code)
    with _gc_paused():
        report = _report(loc, chosen, notes, _reports_by_requirement(documents, _broader(store)),
                         _localities(documents))
        quote_evidence(store, [report], quotes)
    if write:
        write_records(store, [report], replace_regions={report.iri})
    return report


def audit_all(store, against: str = "applicable", *, write: bool = True,
              quotes: bool | int = True) -> list[AuditReport]:
    """Every locality with documents × its requirements, from its documents' assertion indexes.

    quotes: which evidence sentences get their text read — all (True), none (False: "sentence"
    is None, the IRIs are there; for the matrix of statuses) or the first n of each row (the
    CSV shows one)."""
    with _gc_paused():
        return _audit_all(store, against, write=write, quotes=quotes)


@contextlib.contextmanager
def _gc_paused():
    """Python's cyclic collector off while an audit builds its ~10^5–10^6 rows and dicts, which
    hold no cycles: at 10,000 documents its repeated full passes cost more than the audit."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _audit_all(store, against, *, write, quotes):
    sets = requirement_sets(store)
    documents = _documents(store)
    by_loc: dict[str, list] = {}
    for d in documents:
        by_loc.setdefault(d["code"], []).append(d)
    broader = _broader(store)
    idx = places.divisions()
    reports = []
    for code in sorted(by_loc):
        loc = idx.by_code(code)
        if loc is None:
            continue
        mine = [d for d in by_loc[code] if d["locality"] == KGL + code]
        chosen, notes = choose_sets(store, loc, against, sets)
        reports.append(_report(loc, chosen, notes, _reports_by_requirement(mine, broader),
                               _localities(mine)))
    quote_evidence(store, reports, quotes)
    if write:
        write_records(store, reports, replace_all=True)
    return reports


# ------------------------------------------------------------------ audit records

def record_triples(report: AuditReport):
    region = NamedNode(report.iri)
    for r in report.rows:
        node = NamedNode(f"{KGA}{report.code}-{r.set_key}-{r.notation}")
        yield node, RDF_TYPE, kg("AuditRecord")
        yield node, kg("auditOf"), region
        yield node, kg("auditRequirement"), NamedNode(r.requirement)
        yield node, kg("complianceStatus"), NamedNode(DPV + COMPLIANCE[r.status])
        for e in r.evidence:
            yield node, kg("evidence"), NamedNode(e["iri"])


def write_records(store, reports, *, replace_regions=frozenset(), replace_all=False) -> int:
    """Replace the regions' audit records in AUDIT_GRAPH, keeping every other region's.

    `store` is a Store or a kg.query.Endpoint; on an endpoint the audit graph is read with a
    CONSTRUCT and written back whole with a Graph Store PUT (kg.remote.replace_graph)."""
    from .query import Endpoint
    new = sorted({t for rep in reports for t in record_triples(rep)}, key=str)
    if not isinstance(store, Endpoint):
        if replace_all:
            return store.replace_graph(AUDIT_GRAPH, new)
        return store.replace_subjects(AUDIT_GRAPH, kg("auditOf").value,
                                      [NamedNode(r) for r in sorted(replace_regions)], new)
    from . import remote
    kept = []
    if not replace_all:
        triples = remote.graph_triples(store, AUDIT_GRAPH)
        drop = {q.subject for q in triples if q.predicate == kg("auditOf") and q.object.value in replace_regions}
        kept = [(q.subject, q.predicate, q.object) for q in triples if q.subject not in drop]
    return remote.replace_graph(store, AUDIT_GRAPH, kept + new)


# ------------------------------------------------------------------ output

def _snippet(text: str, n: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"


def _set_name(report, iri):
    for s in report.sets:
        if s.iri == iri:
            return "baseline-2021" if iri == BASELINE else (s.document or iri).rsplit("/", 1)[-1]
    return iri


def format_table(report: AuditReport) -> str:
    lines = [f"{report.region} ({report.code}, {report.level}) — audit against "
             + "; ".join(f"{title_or(s)}{' (' + s.document + ')' if s.document else ''}" for s in report.sets)]
    lines += report.notes
    for r in report.rows:
        ev = f"{len(r.evidence)}  {_snippet(r.evidence[0]['sentence'])}" if r.evidence else "0"
        lines.append(f"{r.notation:<5} {_snippet(r.label, 18):<20} {_set_name(report, r.set):<26} "
                     f"{STATUS_TEXT[r.status]:<21} {ev}")
    if report.rolled_up:
        lines.append(f"roll-up over {', '.join(report.rolled_up)}:")
        for r in report.rows:
            lines.append(f"  {r.notation:<5} covered: {', '.join(r.covered) or '—'}; "
                         f"missing: {', '.join(r.missing) or '—'}")
    return "\n".join(lines)


def format_json(report_or_reports) -> str:
    if isinstance(report_or_reports, list):
        data = [r.to_dict() for r in report_or_reports]
    else:
        data = report_or_reports.to_dict()
    return json.dumps(data, ensure_ascii=False, indent=1)


CSV_FIELDS = ["region", "code", "notation", "label", "set", "citation", "status", "evidence_count",
              "first_evidence", "covered", "missing"]


def format_csv(reports) -> str:
    reports = reports if isinstance(reports, list) else [reports]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_FIELDS)
    for rep in reports:
        for r in rep.rows:
            w.writerow([rep.region, rep.code, r.notation, r.label, r.set, r.citation, STATUS_TEXT[r.status],
                        len(r.evidence), r.evidence[0]["sentence"] if r.evidence else "",
                        " ".join(r.covered), " ".join(r.missing)])
    return buf.getvalue()


_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em} table{border-collapse:collapse;margin:1em 0} td,th{border:1px solid #bbb;padding:4px 8px;vertical-align:top}
th{background:#eee} .note{color:#555;margin:.2em 0}
.st-implemented{background:#2e9d4a;color:#fff} .st-planned{background:#f2b705;color:#000}
.st-weakness{background:#e8590c;color:#fff} .st-none{background:#c92a2a;color:#fff}
.st-na{background:#f4f4f4;color:#999}
blockquote{margin:.3em 0 .3em 1em;padding-left:.6em;border-left:3px solid #ccc;color:#333;font-size:.9em}
.src{color:#777;font-size:.85em} td.cell a{color:inherit;text-decoration:none;display:block}
"""


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n")


def _e(s) -> str:
    return html.escape(str(s or ""))


def _rows_html(report: AuditReport, anchor_prefix: str = "") -> str:
    out = ["<table><tr><th>mechanism</th><th>requirement</th><th>status</th><th>evidence</th></tr>"]
    for r in report.rows:
        aid = f"{anchor_prefix}{report.code}-{r.set_key}-{r.notation}"
        quotes = "".join(f'<blockquote>{_e(e["sentence"])} <span class="src">— {_e(e["document"])}</span></blockquote>'
                         for e in r.evidence)
        roll = (f'<div class="src">covered: {_e(", ".join(r.covered) or "—")}; missing: '
                f'{_e(", ".join(r.missing) or "—")}</div>' if report.rolled_up else "")
        out.append(f'<tr id="{_e(aid)}"><td><b>{_e(r.notation)}</b> {_e(r.label)}</td>'
                   f'<td>{_e(r.citation)}</td><td class="st-{r.status}">{_e(STATUS_TEXT[r.status])}</td>'
                   f"<td>{len(r.evidence)}{quotes}{roll}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def format_html(report: AuditReport) -> str:
    body = [f"<h1>审计 {_e(report.region)} ({_e(report.code)}, {_e(report.level)})</h1>",
            "<p>Requirement sets: " + "; ".join(_e(title_or(s)) + (f" ({_e(s.document)})" if s.document else "")
                                                for s in report.sets) + "</p>"]
    body += [f'<p class="note">{_e(n)}</p>' for n in report.notes]
    body.append(_rows_html(report))
    return _page(f"审计 {report.region}", "\n".join(body))


def format_html_matrix(reports: list[AuditReport]) -> str:
    cols: dict[tuple, tuple] = {}
    for rep in reports:
        for r in rep.rows:
            cols.setdefault((r.set_key != "baseline-2021", r.set_key, r.notation), (r.label, _set_name(rep, r.set)))
    keys = sorted(cols)
    head = "".join(f'<th title="{_e(cols[k][0])} — {_e(cols[k][1])}">{_e(k[2])}</th>' for k in keys)
    body = ["<h1>审计矩阵 (regions × requirements)</h1>",
            '<p><span class="st-implemented">implemented</span> <span class="st-planned">only planned</span> '
            '<span class="st-weakness">reported as weakness</span> <span class="st-none">not reported</span> '
            '<span class="st-na">not applicable</span></p>',
            f"<table><tr><th>region</th>{head}</tr>"]
    for rep in reports:
        cells = {(r.set_key != "baseline-2021", r.set_key, r.notation): r for r in rep.rows}
        tds = []
        for k in keys:
            r = cells.get(k)
            if r is None:
                tds.append('<td class="cell st-na">–</td>')
                continue
            tip = r.evidence[0]["sentence"] if r.evidence else STATUS_TEXT[r.status]
            tds.append(f'<td class="cell st-{r.status}"><a href="#{_e(rep.code)}-{_e(r.set_key)}-{_e(r.notation)}" '
                       f'title="{_e(_snippet(tip, 80))}">{len(r.evidence) or "·"}</a></td>')
        body.append(f"<tr><th>{_e(rep.region)}</th>{''.join(tds)}</tr>")
    body.append("</table>")
    for rep in reports:
        body.append(f"<h2>{_e(rep.region)} ({_e(rep.code)})</h2>")
        body += [f'<p class="note">{_e(n)}</p>' for n in rep.notes]
        body.append(_rows_html(rep))
    return _page("审计矩阵", "\n".join(body))


def format_matrix_table(reports: list[AuditReport]) -> str:
    mark = {"implemented": "✔", "planned": "P", "weakness": "W", "none": "✘"}
    keys = sorted({(r.set_key != "baseline-2021", r.set_key, r.notation) for rep in reports for r in rep.rows})
    lines = ["region      " + " ".join(k[2] + ("*" if k[0] else "") for k in keys),
             "(* required by a notice; ✔ implemented, P only planned, W weakness, ✘ not reported, - n/a)"]
    for rep in reports:
        cells = {(r.set_key != "baseline-2021", r.set_key, r.notation): mark[r.status] for r in rep.rows}
        lines.append(f"{rep.region:<10}  " + " ".join(cells.get(k, "-").ljust(len(k[2]) + k[0]) for k in keys))
    return "\n".join(lines)
