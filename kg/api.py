"""The Python API: what notebooks import and the CLI wraps.

    >>> import kg.api as kg
    >>> for record in kg.extract(["corpus"]): ...
"""
from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass

from . import summary
from .catalog import graph_of_document
from .errors import one_line


@dataclass
class Failure:
    """A file that could not be processed, with a one-line reason."""
    path: str
    reason: str

    def __str__(self) -> str:
        return one_line(f"{self.path}: {self.reason}")


def iter_documents(paths):
    """Yield a processed Document, or a Failure, for every file under paths (never raises)."""
    from . import pipeline, read
    for path in read.iter_files(paths):
        try:
            yield pipeline.process_file(path)
        except read.ReadError as e:
            yield Failure(str(path), e.reason)
        except SyntaxError:
            raise   # the ontology's Turtle, read with the first file: every file would fail alike
        except Exception as e:  # a bug on one file must not lose the batch; say which file
            yield Failure(str(path), f"internal error: {type(e).__name__}: {e}")


def extract(paths):
    """Yield the JSON record of every document under paths, or a Failure."""
    from . import pipeline
    for item in iter_documents(paths):
        yield item if isinstance(item, Failure) else pipeline.document_record(item)


def record_summary(record: dict) -> str:
    """A few readable lines about one extracted document."""
    loc = record.get("locality")
    where = (f"{loc['name']} ({loc['code']}, {loc['level']}; {loc.get('province') or ''}"
             f"{' / ' + loc['prefecture'] if loc.get('prefecture') and loc['prefecture'] != loc['name'] else ''})"
             if loc else f"unresolved — {record.get('locality_reason', '')}")
    lines = [f"{record['doc']}",
             f"  title    {record.get('title') or '—'}",
             f"  organ    {record.get('organ') or '—'}   year {record.get('year') or '—'}   "
             f"doctype {record.get('doctype')}",
             f"  locality {where}"]
    roles = {}
    for s in record.get("sections", []):
        if s["depth"] <= 2:
            roles.setdefault(s["role"], []).append(s["numbering"] + s["heading"][:18])
    for role, heads in roles.items():
        lines.append(f"  {role:<12} {'; '.join(heads[:4])}{' …' if len(heads) > 4 else ''}")
    statuses = {}
    for m in record.get("mechanism_statuses", []):
        statuses.setdefault(m["status"], []).append(m["notation"])
    for status, notations in sorted(statuses.items()):
        lines.append(f"  {status:<12} {' '.join(notations)}")
    lines.append(f"  {len(record.get('institutions', []))} institution mentions, "
                 f"{len(record.get('quantities', []))} figures, {len(record.get('obligations', []))} obligations, "
                 f"{len(record.get('candidates', []))} candidate terms")
    return "\n".join(lines)


# ------------------------------------------------------------------ the graph

def open_store(path=None, *, read_only: bool = False):
    """Open the embedded store (default `.kg/store`, or $KG_STORE)."""
    from .store import Store
    return Store.open(read_only=read_only) if path is None else Store.open(path, read_only=read_only)


def build(paths=("corpus",), store=None, *, progress=None, workers: int = 1, bulk: bool | None = None):
    """Build the files under `paths` into the store (a path, or an open store: the embedded one
    or a kg.remote.RemoteStore, a SPARQL server); returns a BuildReport. `workers` and `bulk` as
    in `kg.build.build` (a server is written one document at a time)."""
    from . import build as _build
    if store is None or isinstance(store, (str, bytes)) or hasattr(store, "__fspath__"):
        with open_store(store) as s:
            return _build.build(s, paths, progress=progress, workers=workers, bulk=bulk)
    return _build.build(store, paths, progress=progress, workers=workers, bulk=bulk)


def query(store, sparql_or_name: str, params: dict | None = None):
    """Run a named query (a name from `queries/`, or a .rq path) or literal SPARQL.

    Documents live in named graphs; the query sees their union as its default graph.
    `store` is a Store or a kg.query.Endpoint (parameters then travel as VALUES blocks).
    Returns a kg.query.Result (`.vars`, `.rows`, `.to_dicts()`).
    """
    from . import query as q
    text = sparql_or_name
    if _looks_like_name(sparql_or_name):
        text = q.load_query(sparql_or_name)
        _check_params(store, text, params or {})
    return q.run_query(store, text, params, union_default_graph=True)


def _check_params(store, named, params: dict) -> None:
    """Refuse, before running, a named query without a required parameter, or with a mechanism
    the scheme does not know (which would give no rows and look like an answer)."""
    from .query import QueryParamError
    for p in named.params:
        if p.required and p.name not in params:
            about = f" ({p.description})" if p.description else ""
            raise QueryParamError(f"query {named.name!r} needs the parameter {p.name!r}{about}: "
                                  f"--param {p.name}=VALUE")
        if p.type == "mechanism" and params.get(p.name) is not None:
            _check_mechanism(store, str(params[p.name]))


_MECHANISM_NAMED = ("ASK { ?c skos:notation|skos:prefLabel|skos:altLabel ?name "
                    "FILTER(str(?name) = str(?value)) }")


def _check_mechanism(store, value: str) -> None:
    """Nothing when the store knows `value` as a notation or label (as the queries match it);
    else QueryParamError naming the closest notations and labels of the mechanism scheme."""
    import difflib

    import pyoxigraph as ox

    from . import ontology
    from .query import QueryParamError, run_query
    from .results import Result
    # a plain literal: a value that looks like an IRI (kgm:M01) is still a name here
    known: Result = run_query(store, _MECHANISM_NAMED, {"value": ox.Literal(value)},
                              union_default_graph=True)
    if known.boolean:
        return
    names = {}
    for c in ontology.mechanisms():
        for name in (c.notation,) + c.labels:
            names.setdefault(name, f"{c.notation} {c.label}")
    closest = difflib.get_close_matches(value, list(names), n=3, cutoff=0.3)
    shown = list(dict.fromkeys(names[n] for n in closest))
    raise QueryParamError(f"unknown mechanism {value!r}; closest: {', '.join(shown) or 'none'}")


def _looks_like_name(s: str) -> bool:
    return "\n" not in s and "{" not in s and (s.endswith(".rq") or " " not in s.strip())


def stats(store, triples: bool = True) -> dict:
    """Documents, localities, mechanisms (and triples, unless `triples=False`: counting them
    reads every quad, ~0.7 s at 10,000 documents) of a store (queries/stats.rq)."""
    r = query(store, "stats")
    row = r.to_dicts()[0] if r.rows else {}
    out = {"documents": int(row.get("documents") or 0), "localities": int(row.get("localities") or 0),
           "mechanisms": int(row.get("mechanisms") or 0)}
    if triples:
        out["triples"] = store.triple_count()
    return out


def validate(store, document: str | None = None, *, revalidate: bool = False, workers: int = 1,
             engine: str = "sparql"):
    """SHACL-validate the store's graphs (or one document's) with ontology/shapes.ttl, only those
    changed since the last validation unless `revalidate`, by the shapes compiled to SPARQL
    (engine "sparql") or by pySHACL ("pyshacl"), in `workers` processes (kg.validate).
    Returns a kg.validate.Validation, which unpacks as (conforms, report_text)."""
    from . import validate as _validate
    return _validate.validate(store, document, revalidate=revalidate, workers=workers,
                              engine=engine)


def remove(store, document: str) -> bool:
    """Drop one document (by path, file name or graph IRI) from the store."""
    catalog = store.document_hashes()
    try:
        graph = graph_of_document(store, document)
    except LookupError:
        return False
    sources = [src for src, (g, _) in catalog.items() if g == graph]
    # the locality's matrix cells go with the document (kg.summary)
    change = summary.begin_change(store, [graph])
    removed = False
    for src in sources or [graph]:
        removed |= store.remove_document(src)
    summary.finish_change(store, change)
    return removed


def export(store, out, fmt: str = "trig", document: str | None = None) -> None:
    """Serialize the whole store, or one document's graph, to `out` (a path or binary file).
    fmt: trig, ttl/turtle, nt/ntriples, nq/nquads or jsonld. JSON-LD carries an @context of the
    project's prefixes around the dataset as written (streamed: the store is not read into
    memory), so that a JSON-LD processor can compact it to kg:…, skos:… names."""
    from .formats import jsonld_context, rdf_format
    fmt = rdf_format(fmt)
    graph = graph_of_document(store, document) if document else None
    if fmt != "jsonld":
        store.export(out, format=fmt, graph=graph)
        return
    with contextlib.ExitStack() as stack:
        f = out if hasattr(out, "write") else stack.enter_context(open(out, "wb"))
        context = json.dumps(jsonld_context(), ensure_ascii=False)
        f.write((context[:-1] + ', "@graph": ').encode("utf-8"))
        store.export(f, format=fmt, graph=graph)
        f.write(b"}\n")


def audit(store, region: str | None = None, against: str = "applicable", *, write: bool = False,
          quotes: bool | int = True):
    """Audit a region (name or code) against its requirement sets, or every region (region=None).

    Returns a kg.audit.AuditReport, or a list of them for every region; records the results as
    kg:AuditRecord nodes in the audit graph only with write=True. Raises kg.audit.AuditError.
    quotes: the texts of all evidence sentences (True), of none (False: their IRIs only, for a
    matrix of statuses, where reading ~10^5 texts would be most of the work), or of the first n
    of each row (a table or CSV shows one).
    `store` may be a kg.query.Endpoint: the records then go to the server (Graph Store PUT).
    """
    from . import audit as _audit
    note = None
    reason = store.unwritable_reason() if write else None
    if reason:
        write = False      # a query-only service (QLever, a public endpoint): audit, don't record
        note = f"note: audit records not written: {reason}"
    if region is None:
        reports = _audit.audit_all(store, against, write=write, quotes=quotes)
        for r in reports if note else ():
            r.notes.append(note)
        return reports
    report = _audit.audit(store, region, against, write=write, quotes=quotes)
    if note:
        report.notes.append(note)
    return report


AUDIT_FORMATS = ("table", "json", "csv", "html")


def audit_report(store, region: str | None = None, against: str = "applicable", fmt: str = "table",
                 *, write: bool = False) -> str:
    """The audit of a region, or of every region (region=None: a matrix as table or HTML), as
    text in `fmt` (one of AUDIT_FORMATS); records as `audit` does. Only the evidence texts the
    format shows are read: none for the matrix table, one per row for a region's table and any
    CSV."""
    from . import audit as _audit
    # the matrix page links to each region's evidence instead of quoting it
    quotes = {"table": False if region is None else 1, "csv": 1,
              "html": False if region is None else True}.get(fmt, True)
    return _audit.render(audit(store, region, against, write=write, quotes=quotes), fmt)


def viz(store, out="graph.html", region=None, mechanism=None, status=None, max_nodes=2000,
        max_edges=6000, view="bipartite"):
    """Write the graph as an interactive, self-contained HTML page to `out`.

    region: name or code (localities under it); mechanism: notation or label (narrower
    included); status: implemented, planned, weakness or required; max_nodes: keep the
    highest-degree nodes (full view); max_edges: draw at most that many edges, the heaviest (None:
    all); view: "bipartite" (localities and mechanisms) or "full". Returns a kg.viz.VizResult. Raises kg.viz.VizError.
    """
    from . import viz as _viz
    if store is None or isinstance(store, (str, bytes)) or hasattr(store, "__fspath__"):
        with open_store(store, read_only=True) as s:
            return _viz.visualize(s, out, region, mechanism, status, max_nodes, max_edges, view)
    return _viz.visualize(store, out, region, mechanism, status, max_nodes, max_edges, view)
