"""`kg serve`: a SPARQL 1.1 Protocol endpoint and a few HTML pages over the store.

Standard library only (http.server.ThreadingHTTPServer) plus pyoxigraph, which serializes the
results itself.

Routes
    /sparql           SPARQL 1.1 Protocol: GET ?query=, POST form (query= / update=), POST
                      application/sparql-query and application/sparql-update. SELECT/ASK as
                      SPARQL JSON (default), XML, CSV or TSV; CONSTRUCT/DESCRIBE as Turtle
                      (default), N-Triples, JSON-LD or RDF/XML; chosen by Accept (q-values) or a
                      `format` parameter. The default graph is the union of all graphs (documents
                      live in named graphs), as for `kg query`; the project prefixes are
                      predeclared. default-graph-uri / named-graph-uri are refused (400).
                      CORS: every answer has Access-Control-Allow-Origin: *; OPTIONS answers
                      preflights.
    /                 corpus figures and links
    /region/<name>    a region's mechanisms with status and evidence, and its audit
    /matrix           the region × mechanism matrix, cells coloured by status
    /graph            the graph view of `kg viz` (when kg.viz is installed), else how to make it
    /query            a query box with the named queries; ?name=…&param=… or ?q=… renders results

Isolation and limits. pyoxigraph cannot cancel a running query, so queries (and the pages) run
in worker processes (multiprocessing, "spawn"); the HTTP threads only parse requests and wait.
A worker that does not answer within --timeout seconds is killed and replaced, and the client
gets 503 "query exceeded the N s time limit". Results are counted while they are serialized:
more than --max-results rows/triples gives 500 "result exceeds the N-row cap". Requests larger
than --max-request-bytes get 413. A SPARQL Update — sent as an update, or as a query whose text is
an update — gets 403 unless the server was started with --allow-update.

Concurrency with `kg build`. Workers open the store read-only (Store.open(path,
read_only=True)): a static snapshot, possible while another process holds the store read-write.
A worker takes a fresh snapshot when its current one is older than REFRESH_SECONDS, so answers
lag a concurrent build by at most that; every build write is one transaction, so a snapshot
never shows half a document. An update (with --allow-update) opens the store read-write for
that one request; if `kg build` holds it, the update gets 503 "store is in use".
"""
from __future__ import annotations

import html
import io
import multiprocessing
import queue
import re
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_RESULTS = 10_000
DEFAULT_MAX_REQUEST_BYTES = 1_000_000
DEFAULT_WORKERS = 2
REFRESH_SECONDS = 1.0
PAGE_TIMEOUT = 60.0

Answer = tuple  # (status: int, content_type: str, body: bytes)


@dataclass
class Config:
    store: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    allow_update: bool = False
    timeout: float = DEFAULT_TIMEOUT
    max_results: int = DEFAULT_MAX_RESULTS
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    workers: int = DEFAULT_WORKERS


# ====================================================================== formats

# format parameter value → (results format name, graph format name)
_FORMAT_PARAM = {
    "json": ("json", "jsonld"), "xml": ("xml", "rdfxml"), "csv": ("csv", "ntriples"),
    "tsv": ("tsv", "ntriples"), "turtle": ("json", "turtle"), "ttl": ("json", "turtle"),
    "n3": ("json", "turtle"), "ntriples": ("json", "ntriples"), "nt": ("json", "ntriples"),
    "jsonld": ("json", "jsonld"), "json-ld": ("json", "jsonld"), "rdf": ("xml", "rdfxml"),
    "rdfxml": ("xml", "rdfxml"), "rdf+xml": ("xml", "rdfxml"),
}
RESULT_MEDIA = {   # media type → results format name (first of a name is what we send)
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
}
GRAPH_MEDIA = {
    "text/turtle": "turtle", "application/turtle": "turtle", "application/x-turtle": "turtle",
    "text/n3": "turtle", "application/n-triples": "ntriples", "text/plain": "ntriples",
    "application/ld+json": "jsonld", "application/json": "jsonld",
    "application/rdf+xml": "rdfxml", "application/xml": "rdfxml", "text/xml": "rdfxml",
}
RESULT_DEFAULT, GRAPH_DEFAULT = "json", "turtle"


def parse_accept(header: Optional[str]) -> list[tuple[str, float]]:
    """Media ranges of an Accept header, best first (ties keep the header's order)."""
    out = []
    for i, part in enumerate((header or "").split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for f in fields[1:]:
            k, _, v = f.partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        out.append((media, q, i))
    out.sort(key=lambda t: (-t[1], t[2]))
    return [(m, q) for m, q, _ in out]


def negotiate(kind: str, accept: Optional[str], fmt: Optional[list[str]] = None) -> Optional[str]:
    """The format name for a result of `kind` ("results" or "graph"): the first known `format`
    parameter value wins, then the Accept header by q-value, else the default. None when the
    Accept header rules out everything we can write (→ 406)."""
    table = RESULT_MEDIA if kind == "results" else GRAPH_MEDIA
    names = set(table.values())
    for value in fmt or []:
        v = value.strip().lower()
        if v in _FORMAT_PARAM:
            return _FORMAT_PARAM[v][0 if kind == "results" else 1]
        if v in table:
            return table[v]
    ranges = parse_accept(accept)
    if not ranges:
        return RESULT_DEFAULT if kind == "results" else GRAPH_DEFAULT
    default = RESULT_DEFAULT if kind == "results" else GRAPH_DEFAULT
    refused = {m for m, q in ranges if q <= 0}
    for media, q in ranges:
        if q <= 0:
            continue
        if media in table and table[media] in names:
            return table[media]
        if media in ("*/*", "*"):
            return default
        if media.endswith("/*"):
            major = media[:-1]
            for m, name in table.items():
                if m.startswith(major) and m not in refused:
                    return name
    return None


# ====================================================================== worker side

class _CapExceeded(Exception):
    pass


class _CountingWriter:
    """A binary sink for pyoxigraph's serializer that counts lines and stops past a cap."""

    def __init__(self, cap_lines: int):
        self.buf = io.BytesIO()
        self.lines = 0
        self.cap = cap_lines

    def write(self, b) -> int:
        b = bytes(b)
        self.lines += b.count(b"\n")
        if self.lines > self.cap:
            raise _CapExceeded()
        return self.buf.write(b)

    def flush(self) -> None:
        pass


class _Worker:
    """State of one worker process: the store snapshot and the limits."""

    def __init__(self, store_path: str, max_results: int):
        self.path = store_path
        self.max_results = max_results
        self.store = None
        self.opened = 0.0

    def snapshot(self):
        from .store import Store
        if self.store is None or time.monotonic() - self.opened > REFRESH_SECONDS:
            if self.store is not None:
                self.store.close()
                self.store = None
            self.store = Store.open(self.path, read_only=True)
            self.opened = time.monotonic()
        return self.store

    # ------------------------------------------------------------ SPARQL

    def sparql(self, text: str, accept: Optional[str], fmt: Optional[list[str]]) -> Answer:
        import pyoxigraph as ox

        from .namespaces import PREFIXES, with_prolog
        from .query import _unshift
        prepared = with_prolog(text)
        cap = self.max_results

        def run(oxstore) -> Answer:
            res = oxstore.query(prepared, use_default_graph_as_union=True)
            if isinstance(res, ox.QueryBoolean):
                name = negotiate("results", accept, fmt)
                if name is None:
                    return _not_acceptable()
                qf = _results_format(name)
                return 200, _ctype(qf.media_type), res.serialize(format=qf)
            if isinstance(res, ox.QuerySolutions):
                name = negotiate("results", accept, fmt)
                if name is None:
                    return _not_acceptable()
                # TSV has one line per solution (newlines in literals are escaped): count them
                # while pyoxigraph writes, stop past the cap, then convert losslessly.
                w = _CountingWriter(cap + 1)      # + the header line
                try:
                    res.serialize(w, format=ox.QueryResultsFormat.TSV)
                except _CapExceeded:
                    return _cap_error(cap)
                data = w.buf.getvalue()
                qf = _results_format(name)
                if name != "tsv":
                    data = ox.parse_query_results(data, ox.QueryResultsFormat.TSV).serialize(format=qf)
                return 200, _ctype(qf.media_type), data
            name = negotiate("graph", accept, fmt)
            if name is None:
                return _not_acceptable()
            triples = []
            for t in res:
                triples.append(t)
                if len(triples) > cap:
                    return _cap_error(cap)
            rf = _rdf_format(name)
            data = ox.serialize(triples, format=rf,
                                prefixes=PREFIXES if rf == ox.RdfFormat.TURTLE else None)
            return 200, _ctype(rf.media_type), data

        try:
            return self.snapshot().read(run)
        except SyntaxError as e:
            return _text(400, f"SPARQL syntax error: {_unshift(str(e), prepared, text)}")

    def update(self, text: str) -> Answer:
        from .namespaces import with_prolog
        from .store import Store, StoreLocked
        try:
            store = Store.open(self.path)
        except StoreLocked as e:
            return _text(503, f"cannot update: {e}")
        try:
            store.ox.update(with_prolog(text))
        except SyntaxError as e:
            return _text(400, f"SPARQL syntax error: {e}")
        finally:
            store.close()
        self.opened = 0.0          # see the change on the next read
        return 204, "text/plain; charset=utf-8", b""

    # ------------------------------------------------------------ pages

    def page(self, name: str, *args) -> Answer:
        return 200, "text/html; charset=utf-8", getattr(pages, name)(self.snapshot(), *args).encode("utf-8")


def _results_format(name: str):
    import pyoxigraph as ox
    return {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
            "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}[name]


def _rdf_format(name: str):
    import pyoxigraph as ox
    return {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
            "jsonld": ox.RdfFormat.JSON_LD, "rdfxml": ox.RdfFormat.RDF_XML}[name]


def _ctype(media: str) -> str:
    return f"{media}; charset=utf-8"


def _text(status: int, message: str) -> Answer:
    return status, "text/plain; charset=utf-8", (message.rstrip("\n") + "\n").encode("utf-8")


def _cap_error(cap: int) -> Answer:
    return _text(500, f"result exceeds the {cap}-row cap (add a LIMIT, or start the server with "
                      f"a larger --max-results)")


def _not_acceptable() -> Answer:
    return _text(406, "none of the Accept header's media types can be written for this result")


def _worker_main(conn, store_path: str, max_results: int) -> None:
    """Loop of a worker process: receive (method, args), send back an Answer."""
    w = _Worker(store_path, max_results)
    while True:
        try:
            task = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if task is None:
            return
        method, args = task
        try:
            answer = getattr(w, method)(*args)
        except pages.NotFound as e:
            answer = _page_error(404, str(e))
        except Exception as e:   # report, keep serving
            from .store import StoreError
            status = 503 if isinstance(e, StoreError) else 500
            msg = f"{type(e).__name__}: {e}" if not isinstance(e, StoreError) else str(e)
            answer = _page_error(status, msg) if method == "page" else _text(status, msg)
        try:
            conn.send(answer)
        except (BrokenPipeError, EOFError):
            return


def _page_error(status: int, message: str) -> Answer:
    return status, "text/html; charset=utf-8", pages.layout(
        f"{status}", f"<h1>{status}</h1><p>{html.escape(message)}</p>").encode("utf-8")


# ====================================================================== main side

class _Proc:
    def __init__(self, ctx, cfg: Config):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, cfg.store, cfg.max_results),
                                   daemon=True, name="kg-serve-worker")
        self.process.start()
        child.close()

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.join(2)
        except Exception:
            pass
        self.conn.close()


class WorkerPool:
    """Worker processes that run queries; one that overruns the time limit is killed and replaced."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.ctx = multiprocessing.get_context("spawn")
        self.idle: queue.Queue = queue.Queue()
        self.all: set = set()
        self.lock = threading.Lock()
        for _ in range(max(1, cfg.workers)):
            self._add()

    def _add(self) -> None:
        p = _Proc(self.ctx, self.cfg)
        with self.lock:
            self.all.add(p)
        self.idle.put(p)

    def _retire(self, p: _Proc) -> None:
        with self.lock:
            self.all.discard(p)
        p.kill()
        threading.Thread(target=self._add, daemon=True).start()

    def run(self, method: str, *args, timeout: Optional[float] = None) -> Answer:
        timeout = self.cfg.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        try:
            p = self.idle.get(timeout=timeout)
        except queue.Empty:
            return _text(503, f"all {self.cfg.workers} query workers are busy; "
                              f"query exceeded the {_secs(timeout)} s time limit waiting for one")
        if not p.process.is_alive():
            self._retire(p)
            return self.run(method, *args, timeout=deadline - time.monotonic()) \
                if time.monotonic() < deadline else \
                _text(503, "no query worker available")
        try:
            p.conn.send((method, args))
            if p.conn.poll(max(0.05, deadline - time.monotonic())):
                answer = p.conn.recv()
                self.idle.put(p)
                return answer
        except (EOFError, OSError, BrokenPipeError):
            self._retire(p)
            return _text(500, "the query worker died (out of memory?)")
        self._retire(p)
        return _text(503, f"query exceeded the {_secs(timeout)} s time limit")

    def close(self) -> None:
        with self.lock:
            procs = list(self.all)
            self.all.clear()
        for p in procs:
            p.kill()


def _secs(t: float) -> str:
    return f"{t:g}"


_UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD",
                    "WITH"}
_PROLOG_TOKEN = re.compile(r"(?:\s+|#[^\n]*|PREFIX\s*[\w.-]*:\s*<[^>]*>|BASE\s*<[^>]*>)", re.IGNORECASE)


def is_update(text: str) -> bool:
    """Whether SPARQL text is an update (its first keyword after the prolog and comments is an
    update verb)."""
    pos = 0
    while True:
        m = _PROLOG_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    word = re.match(r"[A-Za-z]+", text[pos:])
    return bool(word) and word.group(0).upper() in _UPDATE_KEYWORDS


class Handler(BaseHTTPRequestHandler):
    server_version = "kg-serve"
    protocol_version = "HTTP/1.1"
    cfg: Config
    pool: WorkerPool

    # ------------------------------------------------------------ plumbing

    def log_message(self, fmt, *args):  # quieter than the default: one line on stderr
        sys.stderr.write(f"{self.address_string()} {fmt % args}\n")

    def _send(self, answer: Answer, head_only: bool = False) -> None:
        status, ctype, body = answer
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if status in (413, 414):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body and not head_only:
            self.wfile.write(body)

    @property
    def _page_timeout(self) -> float:
        """The project's own pages (fixed queries, the graph layout) get at least PAGE_TIMEOUT."""
        return max(self.cfg.timeout, PAGE_TIMEOUT)

    def do_OPTIONS(self):
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers",
                         self.headers.get("Access-Control-Request-Headers") or "Content-Type, Accept")
        self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if len(self.path.encode("utf-8")) > self.cfg.max_request_bytes:
            return self._send(_text(413, f"request exceeds {self.cfg.max_request_bytes} bytes"))
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        path = urllib.parse.unquote(url.path)
        if path == "/sparql":
            return self._sparql(params, via_get=True)
        if path in ("/", "/index.html"):
            return self._send(self.pool.run("page", "home", timeout=self._page_timeout))
        if path.startswith("/region/") and len(path) > len("/region/"):
            return self._send(self.pool.run("page", "region", path[len("/region/"):],
                                            timeout=self._page_timeout))
        if path == "/matrix":
            return self._send(self.pool.run("page", "matrix", {k: v[0] for k, v in params.items()},
                                            timeout=self._page_timeout))
        if path == "/graph":
            return self._send(self.pool.run("page", "graph", {k: v[0] for k, v in params.items()},
                                            timeout=self._page_timeout))
        if path == "/query":
            # ?q= runs the user's SPARQL: the query time limit; a named query: the page limit.
            return self._send(self.pool.run("page", "query_page",
                                            {k: v[0] for k, v in params.items()},
                                            timeout=None if "q" in params else self._page_timeout))
        self._send(_page_error(404, f"no page {path}"))

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        if urllib.parse.unquote(url.path) != "/sparql":
            return self._send(_text(405 if url.path in ("/", "/query") else 404,
                                    "POST SPARQL requests to /sparql"))
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return self._send(_text(400, "bad Content-Length"))
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._send(_text(411, "send a Content-Length (chunked bodies are not accepted)"))
        if length + len(self.path) > self.cfg.max_request_bytes:
            return self._send(_text(413, f"request exceeds {self.cfg.max_request_bytes} bytes"))
        body = self.rfile.read(length) if length else b""
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self._send(_text(400, "the request body is not UTF-8"))
        if ctype == "application/x-www-form-urlencoded":
            for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items():
                params.setdefault(k, []).extend(v)
        elif ctype == "application/sparql-query":
            params.setdefault("query", []).insert(0, text)
        elif ctype == "application/sparql-update":
            params.setdefault("update", []).insert(0, text)
        else:
            return self._send(_text(415, "POST a form (application/x-www-form-urlencoded), "
                                         "application/sparql-query or application/sparql-update"))
        return self._sparql(params, via_get=False)

    # ------------------------------------------------------------ SPARQL

    def _sparql(self, params: dict, via_get: bool):
        for p in ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri"):
            if params.get(p):
                return self._send(_text(400, f"{p} is not supported: the default graph is the union "
                                             f"of all graphs; use GRAPH <…> in the query instead"))
        queries, updates = params.get("query", []), params.get("update", [])
        if len(queries) + len(updates) != 1:
            return self._send(_text(400, "give exactly one query= or update= parameter "
                                         "(the query box is at /query)"))
        if queries and not is_update(queries[0]):
            return self._send(self.pool.run("sparql", queries[0], self.headers.get("Accept"),
                                            params.get("format")))
        text = (queries or updates)[0]
        if not self.cfg.allow_update:
            return self._send(_text(403, "SPARQL Update is not allowed: this server is read-only "
                                         "(start it with --allow-update to accept updates)"))
        if via_get or queries:
            return self._send(_text(400, "an update must be POSTed as update= or "
                                         "application/sparql-update"))
        return self._send(self.pool.run("update", text))


def make_server(cfg: Config) -> tuple[ThreadingHTTPServer, WorkerPool]:
    """The HTTP server (bound, not yet serving) and its worker pool."""
    from .store import StoreError
    if not (Path(cfg.store) / "CURRENT").exists():
        raise StoreError(f"no store at {cfg.store} (build one first: kg build corpus)")
    pool = WorkerPool(cfg)
    handler = type("KgHandler", (Handler,), {"cfg": cfg, "pool": pool})
    try:
        httpd = ThreadingHTTPServer((cfg.host, cfg.port), handler)
    except OSError:
        pool.close()
        raise
    httpd.daemon_threads = True
    return httpd, pool


def serve(cfg: Config, ready=None) -> None:
    """Serve until interrupted. `ready(url)` is called once the socket listens."""
    httpd, pool = make_server(cfg)
    host, port = httpd.server_address[:2]
    url = f"http://{host}:{port}/"
    if ready:
        ready(url)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        pool.close()


# ====================================================================== HTML pages
# Run inside the workers, on the read-only snapshot. Self-contained: inline CSS and script, only
# relative links, every value from the store through html.escape.

class NotFound(Exception):
    pass


_STATUS_CLASS = {"implemented": "st-implemented", "planned": "st-planned",
                 "weakness": "st-weakness", "required": "st-required"}
_EXTRA_CSS = """
nav{margin:-.5em 0 1em;padding:.4em 0;border-bottom:1px solid #ddd} nav a{margin-right:1.2em}
.st-required{background:#4263eb;color:#fff} td.num{text-align:right}
.fig{display:inline-block;margin:0 1.5em .5em 0} .fig b{font-size:1.6em;display:block}
textarea{width:100%;font-family:monospace;font-size:.95em} pre{background:#f6f6f6;padding:.6em;overflow:auto}
.err{color:#c92a2a;white-space:pre-wrap} .small{font-size:.85em;color:#666}
table.matrix td{text-align:center;min-width:2.2em;padding:2px 4px} table.matrix td a{color:inherit;display:block}
"""


def _e(s: Any) -> str:
    return html.escape("" if s is None else str(s), quote=True)


def _q(path: str, **params) -> str:
    return path + ("?" + urllib.parse.urlencode(params) if params else "")


def layout(title: str, body: str) -> str:
    from .audit import _CSS
    nav = ('<nav><a href="/">法治图谱</a><a href="/matrix">matrix</a><a href="/graph">graph</a>'
           '<a href="/query">query</a><span class="small">SPARQL endpoint: /sparql</span></nav>')
    return (f'<!DOCTYPE html>\n<html lang="zh"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}{_EXTRA_CSS}</style></head><body>\n"
            f"{nav}\n{body}\n</body></html>\n")


def _status_cell(statuses: str) -> str:
    sts = statuses.split()
    order = ("implemented", "planned", "weakness", "required")
    top = next((s for s in order if s in sts), sts[0] if sts else "")
    return _STATUS_CLASS.get(top, "")


# Documents and years are counted per locality first (one scan per property, hash-joined), and
# only then are the ~3,000 localities' names and codes looked up: 0.5 s at 10,000 documents,
# where joining names to every document first took 2–4 s.
_LOCALITIES_SPARQL = """
SELECT ?code ?place ?documents ?from ?to WHERE {
  { SELECT ?loc (COUNT(DISTINCT ?doc) AS ?documents) (MIN(?year) AS ?from) (MAX(?year) AS ?to) WHERE {
      { SELECT ?doc { ?doc kg:sourceFile ?source } }
      { SELECT ?doc ?loc { ?doc kg:locality ?loc } }
      OPTIONAL { { SELECT ?doc ?year { ?doc kg:year ?year } } }
    } GROUP BY ?loc }
  LATERAL { ?loc rdfs:label ?place ; kg:divisionCode ?code }
} ORDER BY ?code"""


def page_home(store) -> str:
    from . import api
    st = api.stats(store, triples=False)   # every page view: no full count of quads
    figs = "".join(f'<span class="fig"><b>{_e(v)}</b>{_e(k)}</span>' for k, v in st.items())
    rows = api.query(store, _LOCALITIES_SPARQL).to_dicts()
    items = "".join(
        f'<tr><td><a href="/region/{urllib.parse.quote(str(r["place"]))}">{_e(r["place"])}</a></td>'
        f'<td>{_e(r["code"])}</td><td class="num">{_e(r["documents"])}</td>'
        f'<td>{_e(r.get("from") or "")}{"–" + _e(r["to"]) if r.get("to") and r.get("to") != r.get("from") else ""}</td></tr>'
        for r in rows)
    body = (f"<h1>法治图谱</h1><p>{figs}</p>"
            f"<h2>Regions with documents</h2><table><tr><th>region</th><th>code</th><th>documents</th>"
            f"<th>year</th></tr>{items}</table>"
            '<p><a href="/matrix">Region × mechanism matrix</a> · <a href="/graph">Graph view</a> · '
            '<a href="/query">Query box</a> · SPARQL endpoint: <code>/sparql</code></p>')
    return layout("法治图谱", body)


def page_region(store, region: str) -> str:
    from . import api
    from . import audit as au
    rows = api.query(store, "locality-mechanisms", {"locality": region}).to_dicts()
    try:
        report = au.audit(store, region, write=False)
        audit_html = (f'<p>Requirement sets: {"; ".join(_e(au.title_or(s)) for s in report.sets)}</p>'
                      + "".join(f'<p class="note">{_e(n)}</p>' for n in report.notes)
                      + au._rows_html(report))
        title = f"{report.region} ({report.code}, {report.level})"
    except au.AuditError as e:
        if not rows:
            raise NotFound(str(e)) from None
        audit_html, title = f'<p class="err">{_e(e)}</p>', region
    trs = "".join(
        f'<tr><td><b>{_e(r["notation"])}</b></td><td>{_e(r["mechanism"])}</td>'
        f'<td class="{_STATUS_CLASS.get(str(r["status"]), "")}">{_e(r["status"])}</td>'
        f'<td>{_e(r.get("place"))}</td><td><blockquote>{_e(r.get("evidence"))}</blockquote>'
        f'<span class="src">{_e(str(r.get("document", "")).rsplit("/", 1)[-1])}</span></td></tr>'
        for r in rows)
    body = (f"<h1>{_e(title)}</h1>"
            f"<h2>Mechanisms reported ({len(rows)})</h2>"
            + (f"<table><tr><th>notation</th><th>mechanism</th><th>status</th><th>locality</th>"
               f"<th>evidence</th></tr>{trs}</table>" if rows else "<p>No mechanism reported.</p>")
            + f"<h2>Audit</h2>{audit_html}")
    return layout(title, body)


_LABELS_SPARQL = """
SELECT ?notation ?label WHERE { ?m skos:notation ?notation ; skos:prefLabel ?label .
  ?a kg:mechanism ?m . FILTER(lang(?label) = "zh") } GROUP BY ?notation ?label"""


# Rows of the matrix page: a national store has thousands of regions (10 MB of table at 10,000
# documents), so the page shows this many and links to the next; ?region= keeps one region and
# the localities under it.
MATRIX_PAGE_ROWS = 200


def _under(code: str, region) -> bool:
    from . import places
    return code == region.code or any(p.code == region.code for p in places.divisions().parents(code))


def page_matrix(store, params: Optional[dict] = None) -> str:
    from . import api
    from . import places
    params = params or {}
    region = None
    if params.get("region"):
        found = places.lookup_region(params["region"])
        if len(found) != 1:
            raise NotFound(f"region {params['region']!r} is "
                           + ("ambiguous: give the division code" if found else "unknown"))
        region = found[0]
    try:
        page = max(1, int(params.get("page") or 1))
    except ValueError:
        raise NotFound(f"page {params['page']!r} is not a number") from None
    rows = api.query(store, "matrix").to_dicts()
    regions: dict = {}
    for r in rows:
        if region is None or _under(str(r["code"]), region):
            regions.setdefault((str(r["code"]), str(r["locality"])), {})[str(r["notation"])] = str(r["statuses"])
    cols = sorted({n for cells in regions.values() for n in cells})
    n_pages = max(1, -(-len(regions) // MATRIX_PAGE_ROWS))
    shown = sorted(regions.items())[(page - 1) * MATRIX_PAGE_ROWS:page * MATRIX_PAGE_ROWS]
    labels = {str(r["notation"]): str(r["label"]) for r in api.query(store, _LABELS_SPARQL).to_dicts()}
    head = "".join(f'<th title="{_e(labels.get(c, c))}">{_e(c)}</th>' for c in cols)
    trs = []
    for (code, name), cells in shown:
        tds = []
        for c in cols:
            st = cells.get(c)
            if st is None:
                tds.append('<td class="st-na">·</td>')
            else:
                mark = {"implemented": "✔", "planned": "P", "weakness": "W", "required": "R"}
                tds.append(f'<td class="{_status_cell(st)}" title="{_e(labels.get(c, c))}: {_e(st)}">'
                           f'<a href="/region/{urllib.parse.quote(code)}">'
                           f'{_e("".join(mark.get(s, "?") for s in st.split()))}</a></td>')
        trs.append(f'<tr><th><a href="/region/{urllib.parse.quote(name)}">{_e(name)}</a>'
                   f' <span class="small">{_e(code)}</span></th>{"".join(tds)}</tr>')
    legend = ('<p><span class="st-implemented">✔ implemented</span> <span class="st-planned">P planned</span> '
              '<span class="st-weakness">W weakness</span> <span class="st-required">R required</span> '
              '<span class="st-na">· not named</span> (a cell shows every status found)</p>')
    scope = {"region": region.code} if region else {}
    nav = " ".join(f'<a href="{_e(_q("/matrix", **scope, page=k))}">{k}</a>' if k != page else f"<b>{k}</b>"
                   for k in range(1, n_pages + 1)) if n_pages > 1 else ""
    title = f"Region × mechanism matrix{' — ' + region.name + ' (' + region.code + ')' if region else ''}"
    body = (f"<h1>{_e(title)}</h1>{legend}"
            '<form action="/matrix"><input name="region" placeholder="region (name or code)" '
            f'value="{_e(params.get("region", ""))}"> <button>show</button></form>'
            + (f'<p class="small">page {nav}</p>' if nav else "")
            + f'<table class="matrix"><tr><th>region</th>{head}</tr>{"".join(trs)}</table>'
            f'<p class="small">{len(regions)} regions × {len(cols)} mechanisms'
            f'{f", regions {(page - 1) * MATRIX_PAGE_ROWS + 1}–{(page - 1) * MATRIX_PAGE_ROWS + len(shown)}" if n_pages > 1 else ""}; '
            f'the same from <a href="/query?name=matrix">the matrix query</a>.</p>')
    return layout("matrix", body)


_GRAPH_CACHE: dict = {}


def page_graph(store, params: Optional[dict] = None) -> str:
    """`kg viz`'s page for the store (filters: ?region=&mechanism=&status=), cached per worker
    until the store changes on disk."""
    import importlib.util
    import tempfile
    if importlib.util.find_spec("kg.viz") is None:
        return layout("graph", "<h1>Graph view</h1><p>The graph view is written by <code>kg viz</code> "
                               "(not installed in this checkout). Run it and open its HTML file.</p>")
    from . import viz
    params = params or {}
    filters = tuple(params.get(k) or None for k in ("region", "mechanism", "status"))
    key = (str(store.path), _store_stamp(store.path), filters)
    if key not in _GRAPH_CACHE:
        with tempfile.TemporaryDirectory(prefix="kg-serve-") as d:
            out = Path(d) / "graph.html"
            try:
                viz.visualize(store, str(out), *filters)
            except viz.VizError as e:
                raise NotFound(str(e)) from None
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


def _results_table(vars_: list, term_rows, max_rows: int) -> str:
    from .query import cell_text
    head = "".join(f"<th>{_e(v)}</th>" for v in vars_)
    trs, n = [], 0
    for row in term_rows:
        n += 1
        if n > max_rows:
            break
        trs.append("<tr>" + "".join(f"<td>{_e(cell_text(t))}</td>" for t in row) + "</tr>")
    more = f'<p class="small">first {max_rows} rows shown</p>' if n > max_rows else \
        f'<p class="small">{n} row{"s" if n != 1 else ""}</p>'
    return f"<table><tr>{head}</tr>{''.join(trs)}</table>{more}"


_QUERY_SCRIPT = """
<script>
var nq = document.getElementById('named'), ta = document.getElementById('q');
nq.addEventListener('change', function () {
  var o = nq.options[nq.selectedIndex]; if (o.dataset.text) { ta.value = o.dataset.text; }
});
document.getElementById('fmt').addEventListener('change', function (ev) {
  var f = document.getElementById('form');
  f.action = ev.target.value === 'html' ? '/query' : '/sparql';
  f.method = ev.target.value === 'html' ? 'get' : 'post';
  ta.name = ev.target.value === 'html' ? 'q' : 'query';
});
</script>"""


def page_query_page(store, params: dict) -> str:
    import pyoxigraph as ox

    from . import api
    from .query import QueryError, list_queries, load_query
    named = list_queries()
    q = params.get("q", "")
    name = params.get("name", "")
    result_html = ""
    if name:
        try:
            nq = load_query(name)
            q = q or nq.text
            bound = {k[2:]: v for k, v in params.items() if k.startswith("p.") and v}
            res = api.query(store, nq.text, bound)
            result_html = _render_result(res, _MAX_PAGE_ROWS)
        except QueryError as e:
            result_html = f'<p class="err">{_e(e)}</p>'
    elif q.strip():
        if is_update(q):
            result_html = '<p class="err">SPARQL Update is not run from the query box.</p>'
        else:
            w = _Worker(str(store.path), _MAX_PAGE_ROWS)
            w.store, w.opened = store, time.monotonic()
            status, ctype, body = w.sparql(q, "application/sparql-results+json, text/turtle", None)
            if status != 200:
                result_html = f'<p class="err">{_e(body.decode("utf-8", "replace"))}</p>'
            elif ctype.startswith("text/turtle"):
                result_html = f"<pre>{_e(body.decode('utf-8'))}</pre>"
            else:
                res = ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
                if isinstance(res, ox.QueryBoolean):
                    result_html = f"<p><b>{'true' if bool(res) else 'false'}</b></p>"
                else:
                    vars_ = [v.value for v in res.variables]
                    result_html = _results_table(vars_, ([s[i] for i in range(len(vars_))] for s in res),
                                                 _MAX_PAGE_ROWS)
    opts = ['<option value="">— a named query —</option>'] + [
        f'<option value="{_e(n.name)}" data-text="{_e(n.text)}"{" selected" if n.name == name else ""}>'
        f"{_e(n.name)} — {_e(n.title)}</option>" for n in named]
    listing = "".join(
        f'<li><a href="{_e(_q("/query", name=n.name))}">{_e(n.name)}</a> — {_e(n.title)}'
        + (f' <span class="small">(params: {_e(", ".join(p.name for p in n.params))}; '
           f'add &amp;p.NAME=value)</span>' if n.params else "") + "</li>" for n in named)
    body = (
        "<h1>Query</h1>"
        '<form id="form" action="/query" method="get">'
        f'<p><select id="named">{"".join(opts)}</select></p>'
        f'<textarea id="q" name="q" rows="12" spellcheck="false">{_e(q)}</textarea>'
        '<p>Results as <select id="fmt" name="format"><option value="html">HTML table</option>'
        '<option value="json">SPARQL JSON</option><option value="xml">SPARQL XML</option>'
        '<option value="csv">CSV</option><option value="tsv">TSV</option></select> '
        '<button type="submit">Run</button> <span class="small">The project prefixes (kg:, kgm:, '
        "skos: …) are predeclared; the default graph is the union of all graphs.</span></p></form>"
        f"{result_html}<h2>Named queries</h2><ul>{listing}</ul>{_QUERY_SCRIPT}")
    return layout("query", body)


_MAX_PAGE_ROWS = 2000


def _render_result(res, max_rows: int) -> str:
    import pyoxigraph as ox
    if res.kind == "ask":
        return f"<p><b>{'true' if res.boolean else 'false'}</b></p>"
    if res.kind == "graph":
        from .namespaces import PREFIXES
        return "<pre>" + _e(ox.serialize(res.triples[:max_rows], format=ox.RdfFormat.TURTLE,
                                         prefixes=PREFIXES).decode("utf-8")) + "</pre>"
    return _results_table(res.vars, res.terms, max_rows)


class pages:   # noqa: N801  (the namespace _Worker.page and the error pages use)
    NotFound = NotFound
    layout = staticmethod(layout)
    home = staticmethod(page_home)
    region = staticmethod(page_region)
    matrix = staticmethod(page_matrix)
    graph = staticmethod(page_graph)
    query_page = staticmethod(page_query_page)
