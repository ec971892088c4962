"""`kg serve`: a SPARQL 1.1 Protocol endpoint and HTML pages over the store.

    protocol  the SPARQL 1.1 Protocol as data: a request's parts → one Operation, or a 4xx
    formats   result formats and content negotiation
    engine    query execution in worker processes: time limit, memory cap, fair shares
    pages     HTML pages (Jinja2 templates, YASGUI for queries)
    views     the routes' handlers: request limits, what a request may ask
    app       the Starlette application on uvicorn: header timeout, Host check
    config    the operator's settings and their defaults
"""
from .config import Config

__all__ = ["Config", "create_app", "make_server", "serve"]


def __getattr__(name: str):
    # the application (Starlette, uvicorn, Jinja2: ~0.3 s) is imported when it is asked for,
    # not by every `kg` command that only reads the serve options' defaults from Config
    if name in ("create_app", "make_server", "serve"):
        from . import app
        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
