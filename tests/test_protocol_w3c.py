"""The W3C SPARQL 1.1 Protocol test suite (tests/protocol/manifest.ttl) against `kg serve`.

Each of the 34 cases is read from the manifest and replayed on a real server started with
--allow-update (the update cases need it) on an empty store. Cases that `kg serve` does not pass
are listed in KNOWN_FAILURES with the reason; the suite must pass at least 31 of 34.
`bench/protocol.py` runs the same cases against `oxigraph serve` for comparison.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol_manifest import load_cases, run_case, send  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CASES = load_cases()

# Case → why kg serve fails it (the manifest's own mistakes included).
KNOWN_FAILURES = {
    # The manifest percent-encodes the `&` between its two named-graph-uri parameters, so the
    # request names one graph whose IRI contains "&named-graph-uri=…" and the ASK is false.
    "query_multiple_dataset": "the manifest's request names one malformed graph IRI",
    # This version of the manifest starts with CLEAR GRAPH (later ones: CLEAR SILENT GRAPH) of a
    # graph that does not exist yet; Oxigraph records graphs and, as SPARQL 1.1 Update §3.1.3
    # says of such a store, fails the operation (400 "the update failed").
    "update_base_uri": "CLEAR GRAPH of a graph that does not exist fails",
}


def test_the_manifest_has_its_34_cases():
    assert len(CASES) == 34
    assert all(c.requests for c in CASES)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    from kg.store import Store
    path = tmp_path_factory.mktemp("w3c") / "store"
    Store.open(path).close()
    proc = subprocess.Popen([sys.executable, "-m", "kg", "serve", "--store", str(path), "--port", "0",
                             "--workers", "2", "--allow-update"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    assert "http://" in line, line + proc.stderr.read()
    base = line.split()[2].rstrip("/")

    def setup(update: str):
        status, _, body = send(base, "POST", "/sparql", {"Content-Type": "application/sparql-update"},
                               update.encode())
        assert status == 204, body
    yield base, setup
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def outcomes(endpoint):
    base, setup = endpoint
    return {c.name: run_case(c, base, setup=setup) for c in CASES}     # in manifest order


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_w3c_protocol_case(outcomes, case):
    problem = outcomes[case.name]
    if case.name in KNOWN_FAILURES:
        assert problem, f"{case.name} passes now: take it out of KNOWN_FAILURES"
        pytest.xfail(KNOWN_FAILURES[case.name])
    assert problem is None, problem


def test_at_least_31_of_34_pass(outcomes):
    passed = sum(p is None for p in outcomes.values())
    assert passed >= 31, {k: v for k, v in outcomes.items() if v}


def test_relative_iris_resolve_against_the_endpoint(endpoint):
    """update_base_uri as later versions of the manifest write it (CLEAR SILENT GRAPH)."""
    import copy
    base, setup = endpoint
    case = copy.deepcopy(next(c for c in CASES if c.name == "update_base_uri"))
    first = case.requests[0]
    first.body = first.body.replace(b"CLEAR GRAPH", b"CLEAR SILENT GRAPH")
    assert run_case(case, base, setup=setup) is None
