"""HTTP for `kg serve`: the application, and uvicorn set up to be safe to expose.

Starlette routes the requests (handlers in kg.server.views) and uvicorn (h11, a tested HTTP/1.1
parser) speaks HTTP; this module adds what neither does by itself:

- a **header timeout**: a connection that has not finished sending a request's headers within
  `header_timeout` seconds is closed (uvicorn times out only idle keep-alive connections, so slow
  headers could otherwise hold every file descriptor);
- a **Host check**: a server bound to 127.0.0.1 answers only requests addressed to a loopback name,
  so a web page that rebinds its own name to 127.0.0.1 cannot read the store.
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import Callable, Optional

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from uvicorn.protocols.http.h11_impl import H11Protocol

from .config import Config
from .engine import Engine
from .views import Views

PAGE_METHODS = ["GET", "HEAD"]
SPARQL_METHODS = ["GET", "HEAD", "POST", "OPTIONS"]


def create_app(cfg: Config, engine: Optional[Engine] = None) -> Starlette:
    """The ASGI application; `engine` runs the jobs (started and closed with the app)."""
    engine = engine or Engine(cfg)
    views = Views(cfg, engine)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await engine.start()
        views.warmer.start()
        try:
            yield
        finally:
            views.warmer.stop()
            engine.close()

    routes = [
        Route("/sparql", views.sparql, methods=SPARQL_METHODS),
        Route("/sparql/", views.sparql, methods=SPARQL_METHODS),
        Route("/", views.home, methods=PAGE_METHODS),
        Route("/index.html", views.home, methods=PAGE_METHODS),
        Route("/region/{region:path}", views.region, methods=PAGE_METHODS),
        Route("/matrix", views.matrix, methods=PAGE_METHODS),
        Route("/graph", views.graph, methods=PAGE_METHODS),
        Route("/query", views.query, methods=PAGE_METHODS),
        Mount("/static", StaticFiles(packages=[("kg.server", "static")]), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=cfg.allowed_hosts)],
                    exception_handlers={404: views.not_found, 405: views.not_allowed})
    app.state.engine = engine
    return app


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
