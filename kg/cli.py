"""The `kg` command: a thin layer over kg.api."""
from __future__ import annotations

import contextlib
import json
import os
import sys

import click

from . import api
from .errors import KgError, one_line
from .formats import (FORMATS as TABULAR, GRAPH_RESULT_FORMATS, RDF_FORMATS, format_query_list,
                      format_record)
from .machine import cores
from .server.config import Config as ServeConfig

# `kg validate` runs its checks in this many threads at most when not told (Oxigraph evaluates a
# query without the GIL); each holds one check's query in memory (up to ~0.25 GB at 10,000
# documents): two took a full validation 38 -> 23 s, 475 -> 700 MB.
VALIDATE_WORKERS = 4


def _fail(message: str) -> None:
    raise click.ClickException(one_line(message))


class KgGroup(click.Group):
    """The one place where the project's errors become `error: <one line>` and an exit status."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KgError as e:
            failure = click.ClickException(one_line(str(e)))
            failure.exit_code = e.exit_code
            raise failure from None
        except SyntaxError as e:
            # a parser's (pyoxigraph's SPARQL or Turtle, rdflib's Turtle), from a file the user
            # gave or edited: one line with its position, not a traceback
            raise click.ClickException(one_line(syntax_error_line(e))) from None


def syntax_error_line(e: SyntaxError) -> str:
    """Where a parser stopped and why, on one line: `FILE: … line N column M …: reason`."""
    if hasattr(e, "_why") and hasattr(e, "lines"):          # rdflib's Turtle parser (BadSyntax)
        return _ontology_syntax_error() or f"Turtle syntax error: {e._why}"
    message = str(e.args[0]) if e.args else str(e)
    return f"{e.filename}: {message}" if e.filename else message


def _ontology_syntax_error() -> str | None:
    """rdflib's Turtle errors name no file and a line that drifts (multi-line literals count
    twice): the ontology is what kg parses with rdflib, so find the file and the position with
    pyoxigraph's parser, which gives both."""
    import pyoxigraph as ox

    from .ontology import ontology_dir
    try:
        files = sorted(ontology_dir().glob("*.ttl"))
    except KgError:
        return None
    for path in files:
        try:
            for _ in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
                pass
        except SyntaxError as found:
            return syntax_error_line(found)
    return None


@click.group(cls=KgGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kg")
def main():
    """法治图谱: a knowledge graph of 法治政府建设 reports."""


def output_options(formats=TABULAR, default="table", output_help="File to write (default: stdout)."):
    """The --format and -o/--output every command that prints data takes, with the same names
    (table, json, csv, tsv; for RDF Jena's ttl, nt, nq, trig, jsonld and the long names)."""
    def decorate(f):
        f = click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
                         default=None, help=output_help)(f)
        return click.option("--format", "fmt", type=click.Choice(formats, case_sensitive=False),
                            default=default, show_default=True, help="Output format.")(f)
    return decorate


@contextlib.contextmanager
def _output(path, binary: bool = False):
    """stdout, or the file `path` (then one line on stderr says what was written)."""
    if not path or path == "-":
        yield sys.stdout.buffer if binary else sys.stdout
        return
    try:
        with open(path, "wb") if binary else open(path, "w", encoding="utf-8") as f:
            yield f
    except BaseException:
        os.unlink(path)         # no half-written file that looks like an answer
        raise
    _wrote(path)


def _wrote(path) -> None:
    click.echo(f"wrote {path} ({os.path.getsize(path):,} bytes)", err=True)


def _emit(text: str, path=None, err: bool = False) -> None:
    """`text` to stdout (stderr if `err`), or to the file `path`."""
    if path and path != "-":
        with _output(path) as f:
            f.write(text)
    else:
        click.echo(text, nl=not text.endswith("\n"), err=err)


def locality_option(f):
    return click.option("--locality", metavar="NAME_OR_CODE", default=None,
                        help="The locality of every file given, for files whose text does not say: a "
                             "name, a chain (丰都县栗子乡), a 6/9/12-digit code, or 全国. A corpus "
                             "MANIFEST.tsv with a `locality` column does the same per file.")(f)


def _set_locality(value):
    """--locality: the override kg.places applies to every document of this process (and of
    the worker processes forked from it)."""
    if value is None:
        return
    from . import places
    places.set_override(value)      # UnknownDivision is a KgError: KgGroup says it in one line


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@output_options(("json", "table"), default="json")
@locality_option
def extract(paths, fmt, output, locality):
    """Extract structure, locality and facts from report files or directories."""
    _set_locality(locality)
    with _output(output) as out:
        extracted, errors = _write_records(api.extract(paths), fmt, out)
    if errors:
        click.echo(f"{errors} file(s) could not be read; {extracted} extracted", err=True)
        sys.exit(1)


def _write_records(items, fmt: str, out) -> tuple[int, int]:
    """Write each extracted record to `out` as it comes (one JSON list, a record a line): a
    50 MB report or a thousand files never sit in memory as one big list. (extracted, errors)"""
    extracted, errors = 0, 0
    if fmt == "json":
        out.write("[")
    for item in items:
        if isinstance(item, api.Failure):
            errors += 1
            click.echo(f"error: {item}", err=True)
            continue
        if fmt == "table":
            out.write(api.record_summary(item) + "\n")
        else:
            out.write("," if extracted else "")
            out.write("\n")
            json.dump(item, out, ensure_ascii=False)   # chunked by the C encoder
        extracted += 1
    if fmt == "json":
        out.write("\n]\n")
    return extracted, errors


def store_option(f):
    return click.option("--store", "store_path", type=click.Path(file_okay=False), default=None,
                        help="Store directory (default .kg/store, or $KG_STORE).")(f)


def endpoint_options(f):
    f = click.option("--store-url", metavar="URL",
                     help="Graph Store Protocol URL of the endpoint (Fuseki: …/ds/data).")(f)
    f = click.option("--update-url", metavar="URL",
                     help="SPARQL Update URL of the endpoint (Fuseki: …/ds/update).")(f)
    return click.option("--endpoint", metavar="URL",
                        help="Use a SPARQL 1.1 server instead of the embedded store: an Oxigraph "
                             "server's URL (http://host:7878), or a query URL with --update-url "
                             "and --store-url.")(f)


def _endpoint(url, update_url=None, store_url=None):
    """A kg.query.Endpoint, or None without --endpoint."""
    if not url:
        if update_url or store_url:
            _fail("--update-url and --store-url need --endpoint")
        return None
    from .remote import endpoint
    return endpoint(url, update_url, store_url)


def _open_target(store_path, ep, read_only=False):
    """The opened store, or the endpoint (as a context manager, like a store)."""
    if ep is not None:
        if store_path:
            _fail("give --store or --endpoint, not both")
        return contextlib.nullcontext(ep)
    return _open(store_path, read_only)


def _open(store_path, read_only=False):
    return api.open_store(store_path, read_only=read_only)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@store_option
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@endpoint_options
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes computing document graphs (one process writes the store).")
@locality_option
@click.option("--bulk/--atomic", default=None,
              help="Bulk load (~3x faster writes; an interrupted load is dropped and redone) or one "
                   "transaction per batch of documents. Default: bulk into a store with no documents "
                   "yet, atomic otherwise.")
@output_options(("table", "json"), output_help="File to write the summary to (default: stdout).")
def build(paths, store_path, progress, endpoint, update_url, store_url, workers, bulk, locality,
          fmt, output):
    """Build report files (default: corpus/) into the embedded store (or --endpoint)."""
    _set_locality(locality)
    paths = paths or ("corpus",)
    ep = _endpoint(endpoint, update_url, store_url)
    show = sys.stderr.isatty() if progress is None else progress
    with _open_target(store_path, ep) as store, BuildBar(show) as tick:
        report = api.build(paths, store, progress=tick, workers=workers, bulk=bulk)
    if fmt == "json":
        _emit(format_record(_build_record(report), "json"), output)
    else:
        _emit(report.summary(), output, err=not report.built and not report.unchanged)
    if not report.ok:
        sys.exit(1)


class BuildBar:
    """The build's progress bar (tqdm, on stderr), a progress callback of kg.build. Once the last
    document is read it says "writing the store…": the bulk loader's final sort and write, then
    the triple count, take 18 s at 2,000 documents (bench/build_tail.py), holding the GIL, so
    no clock could tick meanwhile; the words are what tells the bar is not stuck at 100 %."""

    def __init__(self, show: bool):
        self.bar = None
        if show:
            from tqdm import tqdm
            self.bar = tqdm(total=0, unit="doc", file=sys.stderr, leave=False)

    def __call__(self, n, total, path):
        if self.bar is None:
            return
        self.bar.total = total
        self.bar.update(1)
        if n == total:
            self.bar.set_description_str("writing the store…")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()


def _build_record(report) -> dict:
    return {"built": len(report.built), "unchanged": len(report.unchanged),
            "failed": [{"file": path, "reason": reason} for path, reason in report.failed],
            "duplicates": [{"file": path, "same_as": other} for path, other in report.duplicates],
            "documents": report.documents_total, "triples": report.triples_total,
            "seconds": round(report.seconds, 2), "notes": list(report.notes)}


@main.command()
@click.argument("document")
@store_option
@output_options()
def remove(document, store_path, fmt, output):
    """Drop one document (path, file name or graph IRI) from the store."""
    with _open(store_path) as store:
        if not api.remove(store, document):
            _fail(f"no document {document!r} in the store")
    _emit(f"removed {document}\n" if fmt == "table" else format_record({"removed": document}, fmt),
          output)


@main.command()
@click.argument("query", required=False)
@click.option("-e", "--expression", help="SPARQL text to run.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Bind a query variable (?NAME) to VALUE; repeatable.")
@output_options(TABULAR + GRAPH_RESULT_FORMATS)
@click.option("--list", "list_", is_flag=True, help="List the named queries written for people.")
@click.option("--all", "all_", is_flag=True,
              help="With --list: the queries the commands run too (audit, viz, serve).")
@store_option
@endpoint_options
def query(query, expression, params, fmt, output, list_, all_, store_path, endpoint, update_url,
          store_url):
    """Run a named query (NAME or FILE.rq) or -e SPARQL over the store.

    The project's prefixes (kg:, kgm:, skos:, dcterms: …) are predeclared, and documents'
    named graphs form the default graph. A CONSTRUCT writes ttl, nt or jsonld too.
    """
    from . import query as q
    if list_:
        _emit(format_query_list(q.list_queries(internal=all_), fmt), output)
        return
    if bool(query) == bool(expression):
        _fail("give a query NAME or FILE.rq, or -e 'SPARQL' (one of them)")
    bound = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name:
            _fail(f"--param {item!r}: expected NAME=VALUE")
        bound[name.lstrip("?$")] = value
    ep = _endpoint(endpoint, update_url, store_url)
    # read-only: a query answers from a snapshot even while `kg build` holds the store
    with _open_target(store_path, ep, read_only=True) as store:
        try:
            result = api.query(store, expression or query, bound)
        except (FileNotFoundError, LookupError) as e:
            _fail(str(e))
        _emit(q.format_result(result, fmt), output)


@main.command()
@output_options(tuple(RDF_FORMATS), default="trig")
@click.option("--document", help="Export only this document (path, file name or graph IRI).")
@store_option
def export(fmt, document, output, store_path):
    """Serialize the store (or one document's graph): trig, nq, ttl, nt or jsonld (with an
    @context of the project's prefixes). ttl and nt have no graphs: without --document they
    write the union of all graphs."""
    with _open(store_path, read_only=True) as store:
        try:
            with _output(output, binary=True) as out:
                api.export(store, out, fmt, document)
        except LookupError as e:
            _fail(str(e))


@main.command()
@store_option
@output_options()
def stats(store_path, fmt, output):
    """Documents, localities, mechanisms and triples in the store."""
    with _open(store_path, read_only=True) as store:
        _emit(format_record(api.stats(store), fmt), output)


@main.command()
@click.option("--document", help="Validate only this document.")
@click.option("--all", "revalidate", is_flag=True,
              help="Validate every graph again, not only those changed since the last validation.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Threads running the SHACL checks (processes for --engine pyshacl) "
                   f"[default: the cores, at most {VALIDATE_WORKERS}].")
@click.option("--engine", type=click.Choice(["sparql", "pyshacl"]), default="sparql",
              show_default=True, help="The shapes as SPARQL in the store, or pySHACL (the reference).")
@store_option
@output_options(("table", "json"))
def validate(document, revalidate, workers, engine, store_path, fmt, output):
    """Check the store against ontology/shapes.ttl (SHACL), graph by graph."""
    with _open(store_path, read_only=True) as store:
        result = api.validate(store, document, revalidate=revalidate,
                              workers=workers or cores(at_most=VALIDATE_WORKERS), engine=engine)
    counts = f"{result.checked} graph(s) validated, {result.reused} unchanged since the last validation"
    if fmt == "json":
        _emit(format_record({"conforms": result.conforms, "checked": result.checked,
                             "reused": result.reused, "failed": list(result.failed),
                             "report": "" if result.conforms else result.text}, "json"), output)
    elif result.conforms:
        _emit(f"conforms to ontology/shapes.ttl ({counts})\n", output)
    else:
        _emit(f"{result.text.rstrip()}\n{len(result.failed)} graph(s) do not conform ({counts})\n",
              output)
    if not result.conforms:
        sys.exit(1)


@main.command()
@click.argument("region", required=False)
@click.option("--all", "all_", is_flag=True, help="Audit every locality with documents (matrix).")
@click.option("--against", default="applicable", show_default=True,
              help="applicable, baseline, all, or a requirement document (file name, path, graph IRI).")
@click.option("--format", "fmt", type=click.Choice(api.AUDIT_FORMATS), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File to write (default: stdout).")
@click.option("--record/--no-record", default=False,
              help="Write the results to the audit graph as kg:AuditRecords (default: no; the audit "
                   "only reads the store. With --all at 10,000 documents that is ~835,000 triples "
                   "and ~2 minutes).")
@store_option
@endpoint_options
def audit(region, all_, against, fmt, output, record, store_path, endpoint, update_url, store_url):
    """Audit REGION (name or code), or --all regions, against the requirement sets.

    Reads the store only: records are written only with --record."""
    if bool(region) == bool(all_):
        _fail("give a REGION or --all (one of them)")
    ep = _endpoint(endpoint, update_url, store_url)
    # without records to write the store is only read, so an audit can run during a build
    with _open_target(store_path, ep, read_only=not record) as store:
        text = api.audit_report(store, None if all_ else region, against, fmt, write=record)
    _emit(text if text.endswith("\n") else text + "\n", output)


# The server's defaults, written once in kg.server.config.
_SERVE = ServeConfig("")


@main.command()
@store_option
@click.option("--host", default=_SERVE.host, show_default=True,
              help="Address to bind (default: this machine only).")
@click.option("--port", default=_SERVE.port, show_default=True, type=int, help="Port (0: any free port).")
@click.option("--allow-update", is_flag=True,
              help="Accept SPARQL Update (default: refused, 403). Updates from a page of another "
                   "origin are refused even then.")
@click.option("--update-token", default="", envvar="KG_UPDATE_TOKEN", metavar="TOKEN",
              help="With --allow-update: an update must carry 'Authorization: Bearer TOKEN' "
                   "(or set $KG_UPDATE_TOKEN).")
@click.option("--allow-service", is_flag=True,
              help="Let SERVICE (and LOAD, with --allow-update) call other servers "
                   "(default: refused, 400).")
@click.option("--timeout", default=_SERVE.timeout, show_default=True, type=float, metavar="SECONDS",
              help="Time limit of a query; a query over it is stopped (503).")
@click.option("--max-results", default=_SERVE.max_results, show_default=True, type=int, metavar="N",
              help="Most rows (or triples) a query may return (400 above).")
@click.option("--max-request-bytes", default=_SERVE.max_request_bytes, show_default=True, type=int,
              metavar="N", help="Largest request accepted (413 above).")
@click.option("--max-query-memory", "max_query_memory_mb", default=_SERVE.max_query_memory_mb,
              show_default=True, type=click.IntRange(64), metavar="MB",
              help="Memory a query may take; a worker over it is stopped (503).")
@click.option("--workers", default=_SERVE.workers, show_default=True, type=click.IntRange(1),
              help="Query worker processes.")
@click.option("--per-client", default=0, type=click.IntRange(0), metavar="N",
              help="Queries one client address may run at once; more wait their turn "
                   "[default: workers - 1].")
@click.option("--header-timeout", default=_SERVE.header_timeout, show_default=True, type=float,
              metavar="SECONDS", help="Time to send a request's headers, and again its body (closed / 408).")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="A Host header to answer (repeatable); default: loopback names when bound to "
                   "127.0.0.1, the bound address otherwise, any on 0.0.0.0.")
@click.option("--forwarded-allow-ips", default="", metavar="IPS",
              help="Reverse proxies (comma-separated addresses) whose X-Forwarded-For names the client.")
def serve(store_path, host, port, **settings):
    """Serve the store: SPARQL 1.1 endpoint at /sparql, HTML pages at /."""
    from . import server
    from .store import default_store_path
    settings["allowed_hosts"] = list(settings["allowed_hosts"])

    def ready(url):
        refused = [w for w, on in (("updates", settings["allow_update"]),
                                   ("SERVICE", settings["allow_service"])) if not on]
        click.echo(f"kg serve: {url} (SPARQL endpoint {url}sparql; "
                   f"{'refusing ' + ' and '.join(refused) if refused else 'updates and SERVICE allowed'}; "
                   f"Ctrl-C to stop)", err=True)
    try:
        server.serve(server.Config(str(store_path or default_store_path()), host, port, **settings),
                     ready=ready)
    except (OSError, SystemExit) as e:
        _fail(str(e) if not isinstance(e, SystemExit) else f"could not serve on {host}:{port}")


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="graph.html", show_default=True,
              help="HTML file to write.")
@click.option("--region", help="Only localities under this region (name or code).")
@click.option("--mechanism", help="Only this mechanism (notation or label) and narrower ones.")
@click.option("--status", type=click.Choice(["implemented", "planned", "weakness", "required"]),
              help="Only assertion edges of this status.")
@click.option("--max-nodes", type=click.IntRange(1), default=2000, show_default=True,
              help="--view full: keep the highest-degree nodes; default view: group localities above this (≤1000).")
@click.option("--max-edges", type=click.IntRange(1), default=6000, show_default=True,
              help="Draw at most this many edges: the heaviest (most documents, then sentences).")
@click.option("--view", type=click.Choice(("bipartite", "full")), default="bipartite", show_default=True,
              help="bipartite: localities and the mechanisms they implement; full: documents, organizations, roles too.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True,
              help="The summary of what was written: a line on stderr, or JSON on stdout.")
@store_option
def viz(output, region, mechanism, status, max_nodes, max_edges, view, fmt, store_path):
    """Write the graph as an interactive HTML page (offline; hover for evidence)."""
    from . import viz as _viz
    with _open(store_path, read_only=True) as store:
        try:
            result = api.viz(store, output, region, mechanism, status, max_nodes, max_edges, view)
        except _viz.VizError as e:
            _fail(str(e))
    if fmt == "json":
        _emit(format_record({"wrote": result.path, "nodes": result.nodes, "edges": result.edges,
                             "left_out": result.left_out}, "json"))
    else:
        click.echo(result.summary(), err=True)


if __name__ == "__main__":
    main()
