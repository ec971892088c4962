"""HTTP for `kg serve`: routes, request limits and the rules of what a request may ask.

Starlette routes the requests and uvicorn (h11, a tested HTTP/1.1 parser) speaks HTTP; this module
adds what neither does by itself:

- a **header timeout**: a connection that has not finished sending a request's headers within
  `header_timeout` seconds is closed (uvicorn times out only idle keep-alive connections, so slow
  headers could otherwise hold every file descriptor);
- **bodies within limits**: a POST without a length gets 411, one over `max_request_bytes` 413,
  one that trickles in longer than `header_timeout` 408 (h11 itself answers 400 to a negative,
  malformed or conflicting Content-Length);
- **nothing outbound, nothing written, no file read on a request's say-so**: SERVICE and LOAD are
  refused unless `--allow-service`; updates are refused unless `--allow-update`, and then only
  from a client of this origin (no foreign Origin, no cross-site fetch) and with the token when
  one is set; a named query is looked up in the catalog by name, never as a path;
- **Host check**: a server bound to 127.0.0.1 answers only requests addressed to a loopback name,
  so a web page that rebinds its own name to 127.0.0.1 cannot read the store.
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import urllib.parse
from typing import Callable, Optional

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from uvicorn.protocols.http.h11_impl import H11Protocol

from . import pages
from .config import Config
from .engine import Answer, Engine
from .protocol import ProtocolError, outbound_keywords, parse_operation

CORS_QUERY = {"Access-Control-Allow-Origin": "*"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # Pages load scripts and styles from this server only and may connect to it only: the query
    # page's editor cannot look terms up elsewhere, an injected value could not call out.
    "Content-Security-Policy": ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
                                "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                                "base-uri 'none'"),
}


def _respond(answer: Answer, *, cors: bool = False, head: bool = False) -> Response:
    headers = dict(SECURITY_HEADERS)
    if cors:
        headers.update(CORS_QUERY)
    if answer.headers:
        headers.update(answer.headers)
    return Response(b"" if head else answer.body, status_code=answer.status,
                    media_type=answer.content_type, headers=headers)


def _text(status: int, message: str, **kw) -> Response:
    return _respond(Answer.text(status, message), **kw)


def _html_error(status: int, message: str) -> Response:
    return _respond(Answer(status, "text/html; charset=utf-8", pages.error_page(status, message).encode()))


class _BodyError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


async def read_body(request: Request, cfg: Config) -> bytes:
    """The request's body within the limits: its length declared, its size and its time bounded."""
    if len(str(request.url).encode()) > cfg.max_request_bytes:
        raise _BodyError(414, f"the request's URL exceeds {cfg.max_request_bytes} bytes")
    if request.method != "POST":
        return b""
    if "content-length" not in request.headers and "transfer-encoding" not in request.headers:
        raise _BodyError(411, "a POST needs a Content-Length")
    limit = cfg.max_request_bytes - len(str(request.url).encode())
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _BodyError(413, f"the request exceeds {cfg.max_request_bytes} bytes")
    chunks, size = [], 0

    async def collect():
        nonlocal size
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _BodyError(413, f"the request exceeds {cfg.max_request_bytes} bytes")
            chunks.append(chunk)
    try:
        await asyncio.wait_for(collect(), cfg.header_timeout)
    except asyncio.TimeoutError:
        raise _BodyError(408, f"the request body took longer than {cfg.header_timeout:g} s") from None
    return b"".join(chunks)


def _same_origin(request: Request) -> bool:
    """Whether a browser (if any) sent this request from a page of this server."""
    origin = request.headers.get("origin")
    if origin is not None:
        o = urllib.parse.urlsplit(origin)
        if origin == "null" or o.netloc.lower() != request.headers.get("host", "").lower():
            return False
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


def create_app(cfg: Config, engine: Optional[Engine] = None) -> Starlette:
    """The ASGI application; `engine` runs the jobs (started and closed with the app)."""
    engine = engine or Engine(cfg)

    def client_of(request: Request) -> str:
        """The address whose share a job counts against; "" (no share) for loopback, where every
        client is this machine or a reverse proxy speaking for many (with --forwarded-allow-ips,
        uvicorn puts the proxy's X-Forwarded-For here instead)."""
        host = request.client.host if request.client else ""
        return "" if host.startswith("127.") or host in ("::1", "localhost") else host

    async def sparql(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={
                **CORS_QUERY, "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type, Accept",
                "Access-Control-Max-Age": "86400"})
        try:
            body = await read_body(request, cfg)
            op = parse_operation("GET" if request.method == "HEAD" else request.method,
                                 request.query_params.multi_items(),
                                 request.headers.get("content-type"), body,
                                 request.headers.get("accept"))
        except (_BodyError, ProtocolError) as e:
            return _text(e.status, str(e))
        outbound = outbound_keywords(op)
        if outbound and not cfg.allow_service:
            return _text(400, f"{' and '.join(sorted(outbound))} would make this server call another "
                              f"one; it is refused (the operator may allow it with --allow-service)")
        base_iri = str(request.url.replace(query=""))
        if op.kind == "query":
            answer = await engine.run("sparql", op, base_iri, client=client_of(request))
            return _respond(answer, cors=True, head=request.method == "HEAD")
        if not cfg.allow_update:
            return _text(403, "SPARQL Update is not allowed: this server is read-only "
                              "(the operator may allow it with --allow-update)")
        if not _same_origin(request):
            return _text(403, "an update from a page of another origin is refused")
        if cfg.update_token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {cfg.update_token}".encode()):
                return _text(401, "an update needs the server's token: Authorization: Bearer <token>")
        return _respond(await engine.run("update", op, base_iri, client=client_of(request)))

    async def page(request: Request, name: str, params: dict) -> Response:
        answer = await engine.run("page", name, params, client=client_of(request),
                                  timeout=max(cfg.timeout, cfg.page_timeout))
        if not answer.content_type.startswith("text/html"):
            return _html_error(answer.status, answer.body.decode("utf-8", "replace").strip())
        return _respond(answer, head=request.method == "HEAD")

    async def home(request: Request) -> Response:
        return await page(request, "home", {})

    async def region(request: Request) -> Response:
        return await page(request, "region", {"region": request.path_params["region"]})

    async def matrix(request: Request) -> Response:
        return await page(request, "matrix", dict(request.query_params))

    async def graph(request: Request) -> Response:
        return await page(request, "graph", dict(request.query_params))

    async def query(request: Request) -> Response:
        from ..query import QueryError, bind_values, list_queries, resolve_params
        named = [q for q in list_queries() if not q.name.startswith(INTERNAL_QUERY_PREFIXES)]
        name = request.query_params.get("name", "")
        selected = next((q for q in named if q.name == name), None)
        if name and selected is None:
            return _html_error(404, f"no named query {name!r}; the list is at /query")
        values = {k[2:]: v for k, v in request.query_params.items() if k.startswith("p.") and v}
        text, error, status = "", "", 200
        if selected:
            try:
                text = bind_values(selected.text, resolve_params(selected.text, values))
            except QueryError as e:
                text, error, status = selected.text, str(e), 400
        html = pages.query_page(named, selected, values, text, error,
                                run=request.query_params.get("run") == "1")
        return _respond(Answer(status, "text/html; charset=utf-8", html.encode("utf-8")),
                        head=request.method == "HEAD")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await engine.start()
        try:
            yield
        finally:
            engine.close()

    routes = [
        Route("/sparql", sparql, methods=["GET", "HEAD", "POST", "OPTIONS"]),
        Route("/sparql/", sparql, methods=["GET", "HEAD", "POST", "OPTIONS"]),
        Route("/", home, methods=["GET", "HEAD"]),
        Route("/index.html", home, methods=["GET", "HEAD"]),
        Route("/region/{region:path}", region, methods=["GET", "HEAD"]),
        Route("/matrix", matrix, methods=["GET", "HEAD"]),
        Route("/graph", graph, methods=["GET", "HEAD"]),
        Route("/query", query, methods=["GET", "HEAD"]),
        Mount("/static", StaticFiles(packages=[("kg.server", "static")]), name="static"),
    ]

    async def not_found(request: Request, exc) -> Response:
        return _html_error(404, f"no page {request.url.path}")

    async def not_allowed(request: Request, exc) -> Response:
        return _text(405, f"{request.method} is not allowed on {request.url.path}")

    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=cfg.allowed_hosts)],
                    exception_handlers={404: not_found, 405: not_allowed})
    app.state.engine = engine
    return app


# Named queries the pages and the audit use; the query page lists the ones written for people.
INTERNAL_QUERY_PREFIXES = ("audit-", "viz-", "server-", "sentence-texts", "candidates")


class _HeaderTimeoutH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request headers do not arrive
    within `header_timeout` seconds (of connecting, or of the previous response)."""

    header_timeout = 10.0

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        cycle = self.cycle
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late, cycle)

    def _headers_late(self, cycle) -> None:
        # A new request replaces self.cycle once its headers are complete.
        if self.cycle is cycle and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
        super().connection_lost(exc)


def make_server(cfg: Config) -> uvicorn.Server:
    """The uvicorn server for `cfg` (not yet serving)."""
    from pathlib import Path

    from ..store import StoreError
    if not (Path(cfg.store) / "CURRENT").exists():
        raise StoreError(f"no store at {cfg.store} (build one first: kg build corpus)")
    protocol = type("KgH11Protocol", (_HeaderTimeoutH11,), {"header_timeout": cfg.header_timeout})
    config = uvicorn.Config(
        create_app(cfg), host=cfg.host, port=cfg.port, http=protocol, lifespan="on",
        timeout_keep_alive=int(max(1, cfg.keep_alive)), limit_concurrency=cfg.max_connections,
        h11_max_incomplete_event_size=64 * 1024, server_header=False, date_header=True,
        proxy_headers=bool(cfg.forwarded_allow_ips), forwarded_allow_ips=cfg.forwarded_allow_ips or None,
        log_level="warning", access_log=False, ws="none")
    return uvicorn.Server(config)


def serve(cfg: Config, ready: Optional[Callable[[str], None]] = None) -> None:
    """Serve until interrupted. `ready(url)` is called once the socket listens."""
    server = make_server(cfg)

    async def main():
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                return await task
            await asyncio.sleep(0.05)
        if ready:
            host, port = server.servers[0].sockets[0].getsockname()[:2]
            ready(f"http://{'[' + host + ']' if ':' in host else host}:{port}/")
        await task
    asyncio.run(main())
