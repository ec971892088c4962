"""A plain install works: the wheel carries the ontology, the named queries and the pages' files.

The wheel is built from this checkout and installed into a fresh virtual environment (which
sees the dependencies already installed, so that nothing is downloaded); then, from a folder
that is not the checkout, the installed `kg` builds the bundled corpus, audits it, draws the
graph and lists the named queries.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("install")
    wheels = work / "wheels"
    # setuptools' scratch folder keeps modules that have since become packages: start clean
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(ROOT)], check=True, capture_output=True, cwd=work)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    wheel = next(wheels.glob("kg-*.whl"))
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True)
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("KG_QUERIES", "KG_ONTOLOGY", "KG_STORE")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    def kg(*args):
        return subprocess.run([str(venv / "bin" / "kg"), *args], cwd=elsewhere, env=env,
                              capture_output=True, text=True, timeout=600)
    return kg, venv, elsewhere, wheel


@pytest.mark.slow
def test_the_wheel_carries_the_data(installed):
    import zipfile
    _, _, _, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("kg/ontology_files/mechanisms.ttl", "kg/ontology_files/shapes.ttl",
                   "kg/query_files/matrix.rq", "kg/data/divisions.tsv.gz",
                   "kg/server/templates/base.html", "kg/server/static/yasgui/yasgui.min.js",
                   "kg/audit/static/matrix.js", "kg/viz/static/graph.js"):
        assert needed in names, needed


@pytest.mark.slow
def test_the_installed_kg_runs_from_another_folder(installed):
    kg, venv, elsewhere, _ = installed
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import kg; print(kg.__file__)"],
                           cwd=elsewhere, capture_output=True, text=True, check=True).stdout
    assert str(venv) in where, where          # the installed package, not the checkout
    r = kg("build", str(ROOT / "corpus"), "--store", "store", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "5 document(s) built" in r.stdout
    r = kg("stats", "--store", "store")
    mechanisms = int(next(line.split()[-1] for line in r.stdout.splitlines() if line.startswith("mechanisms")))
    assert mechanisms > 20
    r = kg("query", "--list")
    assert "locality-mechanisms" in r.stdout and "matrix" in r.stdout
    r = kg("audit", "--all", "--store", "store", "--format", "html", "-o", "audit.html")
    assert r.returncode == 0, r.stderr
    assert (elsewhere / "audit.html").stat().st_size > 10_000
    r = kg("viz", "--store", "store", "-o", "graph.html")
    assert r.returncode == 0, r.stderr
    assert "乳山市" in (elsewhere / "graph.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_missing_data_is_an_error_not_an_empty_answer(installed, tmp_path):
    kg, _, _, _ = installed
    empty = tmp_path / "empty"
    empty.mkdir()
    import os as _os
    env_queries = dict(_os.environ, KG_QUERIES=str(empty))
    r = subprocess.run([sys.executable, "-m", "kg", "query", "--list"], env=env_queries, cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode != 0 and "no named queries" in r.stderr
    env_onto = dict(_os.environ, KG_ONTOLOGY=str(empty))
    r = subprocess.run([sys.executable, "-m", "kg", "extract", str(ROOT / "corpus" / "000_2901c26b523a80cb.txt")],
                       env=env_onto, cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode != 0 and "no ontology files" in r.stderr
