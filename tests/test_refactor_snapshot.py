"""The read side gives the same answers whatever its code's layout: every named query's rows, the
audits and the graph page, on a fixed graph.

The graph is tests/snapshot/corpus.nq.gz (the bundled corpus as built, exported as N-Quads) loaded
straight into a store, so that a change of extraction does not move it; the expected answers are
tests/snapshot/expected.json. Everything runs through the CLI (`kg query`, `kg audit`, `kg viz`),
so that the test does not depend on the modules it guards.

After a change that is meant to change answers (a new query, a new column), write the file again:
`KG_UPDATE_SNAPSHOT=1 python -m pytest tests/test_refactor_snapshot.py` and read its diff.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main

HERE = Path(__file__).resolve().parent / "snapshot"
GRAPH = HERE / "corpus.nq.gz"
EXPECTED = HERE / "expected.json"
UPDATE = os.environ.get("KG_UPDATE_SNAPSHOT") == "1"

# Parameters for the queries that need one, with values the bundled corpus has.
PARAMS = {
    "audit-documents": ["target=kgl:371083"],
    "audit-evidence": ["target=kgl:371083"],
    "audit-localities": ["target=kgl:370000"],
    "obligations": ["document=001_db70a06a16628919.txt"],
    "figures": ["mechanism=M08"],
    "institutions": ["locality=山东省"],
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    import pyoxigraph as ox
    path = tmp_path_factory.mktemp("snapshot") / "store"
    s = ox.Store(str(path))
    s.bulk_load(gzip.open(GRAPH), format=ox.RdfFormat.N_QUADS)
    s.flush()
    del s
    return path


def run(*args) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.output


def query_names() -> list[str]:
    code, out = run("query", "--list", "--all")     # the internal queries too
    assert code == 0
    return sorted({line.split()[0] for line in out.splitlines() if line and not line[0].isspace()})


def answers(store) -> dict:
    out = {}
    for name in query_names():
        args = ["query", name, "--store", str(store), "--format", "json"]
        for p in PARAMS.get(name, []):
            args += ["--param", p]
        code, text = run(*args)
        if code == 0:
            result = json.loads(text)       # SPARQL JSON results
            rows = result["results"]["bindings"] if "results" in result else [result]
            out[f"query {name}"] = sorted(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in rows)
        else:
            out[f"query {name}"] = f"exit {code}: {text.strip().splitlines()[-1] if text.strip() else ''}"
    for args in (["audit", "--all"], ["audit", "乳山市"], ["audit", "山东省"], ["audit", "福清市"]):
        code, text = run(*args, "--store", str(store), "--format", "json")
        out[" ".join(args)] = json.loads(text) if code == 0 else f"exit {code}"
    return out


def graph_page(store, tmp_path) -> str:
    page = tmp_path / "graph.html"
    code, text = run("viz", "--store", str(store), "-o", str(page))
    assert code == 0, text
    html = page.read_text(encoding="utf-8")
    # the page's nodes and edges, as pyvis writes them
    data = "".join(re.findall(r"new vis\.DataSet\((\[.*?\])\)", html, re.S))
    return hashlib.sha256(data.encode()).hexdigest()


def test_answers_are_as_recorded(store, tmp_path):
    got = answers(store)
    got["graph page"] = graph_page(store, tmp_path)
    if UPDATE or not EXPECTED.exists():
        EXPECTED.write_text(json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        pytest.skip("snapshot written")
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    assert sorted(got) == sorted(expected)
    for key in expected:
        assert got[key] == expected[key], key
