"""The request handlers of `kg serve`: what each route answers, and the rules a request must meet.

- **bodies within limits**: a POST without a length gets 411, one over `max_request_bytes` 413,
  one that trickles in longer than `header_timeout` 408 (h11 itself answers 400 to a negative,
  malformed or conflicting Content-Length);
- **nothing outbound, nothing written, no file read on a request's say-so**: SERVICE and LOAD are
  refused unless `--allow-service`; updates are refused unless `--allow-update`, and then only
  from a client of this origin (no foreign Origin, no cross-site fetch) and with the token when
  one is set; a named query is looked up in the catalog by name, never as a path.
"""
from __future__ import annotations

import asyncio
import hmac
import urllib.parse

from starlette.requests import Request
from starlette.responses import Response

from . import pages
from .cache import PageCache, Warmer, store_version
from .config import Config
from .engine import Answer, Engine
from .protocol import Operation, ProtocolError, outbound_keywords, parse_operation

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


def respond(answer: Answer, *, cors: bool = False, head: bool = False, headers: dict = None) -> Response:
    headers = {**SECURITY_HEADERS, **(headers or {})}
    if cors:
        headers.update(CORS_QUERY)
    if answer.headers:
        headers.update(answer.headers)
    return Response(b"" if head else answer.body, status_code=answer.status,
                    media_type=answer.content_type, headers=headers)


def text_response(status: int, message: str, **kw) -> Response:
    return respond(Answer.text(status, message), **kw)


def html_error(status: int, message: str) -> Response:
    return respond(Answer(status, "text/html; charset=utf-8", pages.error_page(status, message).encode()))


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


def client_of(request: Request) -> str:
    """The address whose share a job counts against; "" (no share) for loopback, where every
    client is this machine or a reverse proxy speaking for many (with --forwarded-allow-ips,
    uvicorn puts the proxy's X-Forwarded-For here instead)."""
    host = request.client.host if request.client else ""
    return "" if host.startswith("127.") or host in ("::1", "localhost") else host


class Views:
    """The routes' handlers, over one configuration and one engine."""

    def __init__(self, cfg: Config, engine: Engine):
        self.cfg, self.engine = cfg, engine
        self.cache = PageCache()
        self.warmer = Warmer(self.store_version, self.rendered)

    def store_version(self) -> tuple:
        return store_version(self.cfg.store, self.engine.generation)

    async def rendered(self, name: str, params: dict, client: str = "") -> tuple[Answer, bool]:
        """(the page, whether it came from the cache)."""
        key, version = (name, tuple(sorted(params.items()))), self.store_version()
        cached = self.cache.get(key, version)
        if cached is not None:
            return cached, True
        answer = await self.engine.run("page", name, params, client=client,
                                       timeout=max(self.cfg.timeout, self.cfg.page_timeout))
        if answer.status == 200:
            self.cache.put(key, version, answer)
        return answer, False

    async def sparql(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={
                **CORS_QUERY, "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type, Accept",
                "Access-Control-Max-Age": "86400"})
        try:
            body = await read_body(request, self.cfg)
            op = parse_operation("GET" if request.method == "HEAD" else request.method,
                                 request.query_params.multi_items(),
                                 request.headers.get("content-type"), body,
                                 request.headers.get("accept"))
        except (_BodyError, ProtocolError) as e:
            return text_response(e.status, str(e))
        outbound = outbound_keywords(op)
        if outbound and not self.cfg.allow_service:
            return text_response(400, f"{' and '.join(sorted(outbound))} would make this server call "
                                      f"another one; it is refused (the operator may allow it with "
                                      f"--allow-service)")
        base_iri = str(request.url.replace(query=""))
        if op.kind == "update":
            return await self.update(request, op, base_iri)
        answer = await self.engine.run("sparql", op, base_iri, client=client_of(request))
        return respond(answer, cors=True, head=request.method == "HEAD")

    async def update(self, request: Request, op: Operation, base_iri: str) -> Response:
        cfg = self.cfg
        if not cfg.allow_update:
            return text_response(403, "SPARQL Update is not allowed: this server is read-only "
                                      "(the operator may allow it with --allow-update)")
        if not _same_origin(request):
            return text_response(403, "an update from a page of another origin is refused")
        if cfg.update_token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {cfg.update_token}".encode()):
                return text_response(401, "an update needs the server's token: Authorization: Bearer <token>")
        return respond(await self.engine.run("update", op, base_iri, client=client_of(request)))

    async def page(self, request: Request, name: str, params: dict) -> Response:
        answer, cached = await self.rendered(name, params, client_of(request))
        if not answer.content_type.startswith("text/html"):
            return html_error(answer.status, answer.body.decode("utf-8", "replace").strip())
        return respond(answer, head=request.method == "HEAD",
                       headers={"X-Kg-Cache": "hit" if cached else "miss"})

    async def home(self, request: Request) -> Response:
        return await self.page(request, "home", {})

    async def region(self, request: Request) -> Response:
        return await self.page(request, "region", {"region": request.path_params["region"]})

    async def matrix(self, request: Request) -> Response:
        return await self.page(request, "matrix", dict(request.query_params))

    async def graph(self, request: Request) -> Response:
        return await self.page(request, "graph", dict(request.query_params))

    async def query(self, request: Request) -> Response:
        """The query page; it reads no store, so it is made here and not in a worker."""
        from ..query import QueryError, bind_values, list_queries, resolve_params
        named = list_queries(internal=False)     # those written for people (no `# internal:` line)
        name = request.query_params.get("name", "")
        selected = next((q for q in named if q.name == name), None)
        if name and selected is None:
            return html_error(404, f"no named query {name!r}; the list is at /query")
        values = {k[2:]: v for k, v in request.query_params.items() if k.startswith("p.") and v}
        text, error, status = "", "", 200
        if selected:
            try:
                text = bind_values(selected.text, resolve_params(selected.text, values))
            except QueryError as e:
                text, error, status = selected.text, str(e), 400
        html = pages.query_page(named, selected, values, text, error,
                                run=request.query_params.get("run") == "1")
        return respond(Answer(status, "text/html; charset=utf-8", html.encode("utf-8")),
                       head=request.method == "HEAD")

    async def not_found(self, request: Request, exc) -> Response:
        return html_error(404, f"no page {request.url.path}")

    async def not_allowed(self, request: Request, exc) -> Response:
        return text_response(405, f"{request.method} is not allowed on {request.url.path}")
