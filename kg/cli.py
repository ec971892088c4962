"""The `kg` command: a thin layer over kg.api."""
from __future__ import annotations

import contextlib
import json
import sys

import click

from . import api
from .errors import KgError, one_line
from .server.config import Config as ServeConfig


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


@click.group(cls=KgGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kg")
def main():
    """法治图谱: a knowledge graph of 法治政府建设 reports."""


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
    try:
        places.set_override(value)
    except ValueError as e:
        _fail(str(e))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json", show_default=True)
@locality_option
def extract(paths, fmt, locality):
    """Extract structure, locality and facts from report files or directories."""
    _set_locality(locality)
    # records are written as they come (one JSON list, a record a line): a 50 MB report or
    # a thousand files never sit in memory as one big list
    extracted, errors = 0, 0
    if fmt == "json":
        sys.stdout.write("[")
    for item in api.extract(paths):
        if isinstance(item, api.Failure):
            errors += 1
            click.echo(f"error: {item}", err=True)
            continue
        if fmt == "table":
            click.echo(api.record_summary(item))
        else:
            sys.stdout.write("," if extracted else "")
            sys.stdout.write("\n")
            json.dump(item, sys.stdout, ensure_ascii=False)   # chunked by the C encoder
        extracted += 1
    if fmt == "json":
        sys.stdout.write("\n]\n")
    if errors:
        click.echo(f"{errors} file(s) could not be read; {extracted} extracted", err=True)
        sys.exit(1)


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
def build(paths, store_path, progress, endpoint, update_url, store_url, workers, bulk, locality):
    """Build report files (default: corpus/) into the embedded store (or --endpoint)."""
    _set_locality(locality)
    paths = paths or ("corpus",)
    ep = _endpoint(endpoint, update_url, store_url)
    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm
        bar = tqdm(total=0, unit="doc", file=sys.stderr, leave=False)

    def tick(n, total, path):
        if bar is not None:
            bar.total = total
            bar.update(1)

    with _open_target(store_path, ep) as store:
        report = api.build(paths, store, progress=tick, workers=workers, bulk=bulk)
    if bar is not None:
        bar.close()
    click.echo(report.summary(), err=not report.built and not report.unchanged)
    if not report.ok:
        sys.exit(1)


@main.command()
@click.argument("document")
@store_option
def remove(document, store_path):
    """Drop one document (path, file name or graph IRI) from the store."""
    with _open(store_path) as store:
        if not api.remove(store, document):
            _fail(f"no document {document!r} in the store")
    click.echo(f"removed {document}")


@main.command()
@click.argument("query", required=False)
@click.option("-e", "--expression", help="SPARQL text to run.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Bind a query variable (?NAME) to VALUE; repeatable.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "tsv", "json"]), default="table",
              show_default=True)
@click.option("--list", "list_", is_flag=True, help="List the named queries.")
@store_option
@endpoint_options
def query(query, expression, params, fmt, list_, store_path, endpoint, update_url, store_url):
    """Run a named query (NAME or FILE.rq) or -e SPARQL over the store.

    The project's prefixes (kg:, kgm:, skos:, dcterms: …) are predeclared, and documents'
    named graphs form the default graph.
    """
    from . import query as q
    if list_:
        for nq in q.list_queries():
            click.echo(f"{nq.name:<28} {nq.title}")
            for p in nq.params:
                default = f" (default: {p.default})" if p.default else ""
                click.echo(f"{'':<28}   --param {p.name}=…  {p.description}{default}")
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
        q.format_result(result, fmt, sys.stdout)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["turtle", "trig", "nquads", "ntriples", "jsonld"]),
              default="trig", show_default=True)
@click.option("--document", help="Export only this document (path, file name or graph IRI).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File to write (default: stdout).")
@store_option
def export(fmt, document, output, store_path):
    """Serialize the store (or one document's graph)."""
    with _open(store_path, read_only=True) as store:
        try:
            api.export(store, output or sys.stdout.buffer, fmt, document)
        except LookupError as e:
            _fail(str(e))


@main.command()
@store_option
def stats(store_path):
    """Documents, localities, mechanisms and triples in the store."""
    with _open(store_path, read_only=True) as store:
        for key, value in api.stats(store).items():
            click.echo(f"{key:<11} {value}")


@main.command()
@click.option("--document", help="Validate only this document.")
@click.option("--all", "revalidate", is_flag=True,
              help="Validate every graph again, not only those changed since the last validation.")
@store_option
def validate(document, revalidate, store_path):
    """Check the store against ontology/shapes.ttl (SHACL), graph by graph."""
    with _open(store_path, read_only=True) as store:
        result = api.validate(store, document, revalidate=revalidate)
    counts = f"{result.checked} graph(s) validated, {result.reused} unchanged since the last validation"
    if result.conforms:
        click.echo(f"conforms to ontology/shapes.ttl ({counts})")
    else:
        click.echo(result.text.rstrip())
        click.echo(f"{len(result.failed)} graph(s) do not conform ({counts})")
        sys.exit(1)


@main.command()
@click.argument("region", required=False)
@click.option("--all", "all_", is_flag=True, help="Audit every locality with documents (matrix).")
@click.option("--against", default="applicable", show_default=True,
              help="applicable, baseline, all, or a requirement document (file name, path, graph IRI).")
@click.option("--format", "fmt", type=click.Choice(api.AUDIT_FORMATS), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File to write (default: stdout).")
@click.option("--record/--no-record", default=None,
              help="Write the results to the audit graph as kg:AuditRecords (default: for a REGION "
                   "yes; for --all no, as at 10,000 documents that is ~835,000 triples and ~2 minutes).")
@store_option
@endpoint_options
def audit(region, all_, against, fmt, output, record, store_path, endpoint, update_url, store_url):
    """Audit REGION (name or code), or --all regions, against the requirement sets."""
    if bool(region) == bool(all_):
        _fail("give a REGION or --all (one of them)")
    ep = _endpoint(endpoint, update_url, store_url)
    write = record if record is not None else not all_
    # without records to write the store is only read, so an audit can run during a build
    with _open_target(store_path, ep, read_only=not write) as store:
        text = api.audit_report(store, None if all_ else region, against, fmt, write=write)
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
    else:
        click.echo(text)


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
              help="Keep the highest-degree nodes.")
@click.option("--max-edges", type=click.IntRange(1), default=6000, show_default=True,
              help="Draw at most this many edges: the heaviest (most documents, then sentences).")
@store_option
def viz(output, region, mechanism, status, max_nodes, max_edges, store_path):
    """Write the graph as an interactive HTML page (offline; hover for evidence)."""
    from . import viz as _viz
    with _open(store_path, read_only=True) as store:
        try:
            result = api.viz(store, output, region, mechanism, status, max_nodes, max_edges)
        except _viz.VizError as e:
            _fail(str(e))
    click.echo(result.summary())


if __name__ == "__main__":
    main()
