"""Where the project's data is: the ontology and the named queries, installed with the package.

In the repository they are the top-level folders ontology/ and queries/; setup.py installs them
inside the package as kg.ontology_files and kg.query_files, so that a wheel carries them and
importlib.resources finds them wherever kg is installed (an editable install maps the same names
back to the folders). Missing data is an error, never an empty graph or an empty list.
"""
from __future__ import annotations

import importlib.resources
import os
from functools import lru_cache
from pathlib import Path

from .errors import KgError


class MissingData(KgError):
    """The ontology or the named queries are not where the installation should have put them."""


def data_dir(package: str, env: str, what: str, pattern: str) -> Path:
    """The folder of `package` (or $`env` when set), holding at least one `pattern` file."""
    if os.environ.get(env):
        path = Path(os.environ[env])
    else:
        try:
            path = Path(str(importlib.resources.files(package)))
        except ModuleNotFoundError:
            raise MissingData(f"{what} are not installed ({package} is missing): reinstall kg") from None
    if not path.is_dir() or not any(path.glob(pattern)):
        raise MissingData(f"no {what} in {path} (no {pattern} file there)")
    return path


def ontology_dir() -> Path:
    """The Turtle files of the ontology: $KG_ONTOLOGY, else the installed kg.ontology_files."""
    return data_dir("kg.ontology_files", "KG_ONTOLOGY", "ontology files", "*.ttl")


def queries_dir() -> Path:
    """The named queries: $KG_QUERIES, else the installed kg.query_files."""
    return data_dir("kg.query_files", "KG_QUERIES", "named queries", "*.rq")


@lru_cache(maxsize=None)
def ontology_properties(file: str) -> dict[str, dict[str, list]]:
    """subject IRI → predicate IRI → objects (pyoxigraph terms) of one file of the ontology, for
    what reads a few word lists or statuses from it, and for kg.ontology: parsed with pyoxigraph
    in milliseconds, where rdflib's import and Turtle parser take a quarter of a second that
    every `kg` command would pay. Subjects that are blank nodes are left out."""
    import pyoxigraph as ox
    out: dict[str, dict[str, list]] = {}
    for t in ox.parse(path=str(ontology_dir() / file), format=ox.RdfFormat.TURTLE):
        if isinstance(t.subject, ox.NamedNode):
            out.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(t.object)
    return out
