"""kg validate (kg.validate): SHACL graph by graph, and again only for the graphs that changed."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg import api
from kg.cli import main
from kg.namespaces import KG
from kg.store import Store
from kg.validate import RESULTS_FILE

DOCS = Path(__file__).parent / "docs"
N_DOCS = len(list(DOCS.iterdir()))
# besides the documents: the ontology files and the places graph (the matrix summary, derived
# from the documents, is no unit of its own)
OTHER_GRAPHS = 2


@pytest.fixture
def store_dir(tmp_path):
    path = tmp_path / "store"
    with Store.open(path) as s:
        report = api.build([DOCS], s)
    assert report.ok and len(report.built) == N_DOCS
    return path


def spoil(s: Store, source_end: str, triple) -> str:
    """Rewrite one document with an extra (subject, predicate, object) in its graph."""
    source, (graph, digest) = next((k, v) for k, v in s.document_hashes().items()
                                   if k.endswith(source_end))
    g = ox.NamedNode(graph)
    quads = list(s.quads(graph)) + [ox.Quad(*triple(g), g)]
    s.replace_document(graph, quads, source_file=source, content_hash=digest + "-spoilt")
    return source


def year_not_a_number(g):
    return g, ox.NamedNode(KG + "year"), ox.Literal("two thousand")


def test_only_changed_graphs_are_validated_again(store_dir):
    with Store.open(store_dir) as s:
        first = api.validate(s)
        assert first.conforms, first.text[:2000]
        assert (first.checked, first.reused) == (N_DOCS + OTHER_GRAPHS, 0)
        again = api.validate(s)
        assert again.conforms and (again.checked, again.reused) == (0, N_DOCS + OTHER_GRAPHS)

        source = spoil(s, "sichuan_plan_2024.txt", year_not_a_number)
        changed = api.validate(s)
        assert (changed.checked, changed.reused) == (1, N_DOCS + OTHER_GRAPHS - 1)
        assert not changed.conforms and changed.failed == [source]
        assert "kg:year" in changed.text and source in changed.text

        # the failure is remembered with its graph's fingerprint, not forgotten
        remembered = api.validate(s)
        assert remembered.checked == 0 and not remembered.conforms
        assert remembered.text == changed.text
        everything = api.validate(s, revalidate=True)
        assert everything.checked == N_DOCS + OTHER_GRAPHS and everything.failed == [source]
        in_two = api.validate(s, revalidate=True, workers=2)
        assert (in_two.checked, in_two.failed, in_two.text) == (everything.checked, [source],
                                                               everything.text)


def test_a_locality_that_is_no_locality_is_found_in_its_document(store_dir):
    with Store.open(store_dir) as s:
        source = spoil(s, "guangdong_dept_2023.txt",
                       lambda g: (g, ox.NamedNode(KG + "locality"),
                                  ox.NamedNode("https://w3id.org/fazhi-kg/mechanism/M01")))
        conforms, text = api.validate(s, source)
    assert not conforms and "kg:Locality" in text


def test_other_shapes_or_ontology_validate_everything_again(store_dir):
    with Store.open(store_dir) as s:
        api.validate(s)
    results = store_dir / RESULTS_FILE
    data = json.loads(results.read_text(encoding="utf-8"))
    data["schema"] = "shapes of another day"
    results.write_text(json.dumps(data), encoding="utf-8")
    with Store.open(store_dir, read_only=True) as s:
        assert api.validate(s).checked == N_DOCS + OTHER_GRAPHS


def test_cli_says_what_it_validated(store_dir):
    run = CliRunner().invoke(main, ["validate", "--store", str(store_dir)])
    assert run.exit_code == 0, run.output
    assert f"{N_DOCS + OTHER_GRAPHS} graph(s) validated, 0 unchanged" in run.output
    run = CliRunner().invoke(main, ["validate", "--store", str(store_dir)])
    assert f"0 graph(s) validated, {N_DOCS + OTHER_GRAPHS} unchanged" in run.output
    run = CliRunner().invoke(main, ["validate", "--all", "--store", str(store_dir)])
    assert f"{N_DOCS + OTHER_GRAPHS} graph(s) validated, 0 unchanged" in run.output


def test_cli_validates_in_a_thread_a_core_four_at_most_and_says_the_same(store_dir, monkeypatch):
    with Store.open(store_dir) as s:
        source = spoil(s, "sichuan_plan_2024.txt", year_not_a_number)
    asked, validate = [], api.validate
    monkeypatch.setattr(api, "validate", lambda *a, **k: asked.append(k["workers"]) or validate(*a, **k))
    outputs = []
    for cores, option in ((8, []), (2, []), (1, []), (8, ["--workers", "3"])):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid, n=cores: set(range(n)), raising=False)
        run = CliRunner().invoke(main, ["validate", "--all", *option, "--store", str(store_dir)])
        assert run.exit_code == 1 and source in run.output, run.output
        outputs.append(run.output)
    assert asked == [4, 2, 1, 3]
    assert len(set(outputs)) == 1


# ---------------------------------------------------------------------- the shapes as SPARQL

SHAPES_PROLOG = """
@prefix kgs: <https://w3id.org/fazhi-kg/shapes#> .
@prefix kg:  <https://w3id.org/fazhi-kg/ontology#> .
@prefix sh:  <http://www.w3.org/ns/shacl#> .
"""


@pytest.fixture
def shapes_with(tmp_path, monkeypatch):
    """Use the ontology with `extra` Turtle added to its shapes."""
    import shutil
    from kg import ontology

    def use(extra: str) -> None:
        target = tmp_path / "ontology"
        shutil.copytree(ontology.ontology_dir(), target)
        with open(target / "shapes.ttl", "a", encoding="utf-8") as f:
            f.write(SHAPES_PROLOG + extra)
        monkeypatch.setenv("KG_ONTOLOGY", str(target))
    return use


def test_a_construct_the_compiler_does_not_know_fails_in_one_line(store_dir, shapes_with):
    shapes_with("kgs:ClosedDocument a sh:NodeShape ; sh:targetClass kg:Document ; sh:closed false .")
    run = CliRunner().invoke(main, ["validate", "--all", "--store", str(store_dir)])
    assert run.exit_code == 1
    lines = run.output.strip().splitlines()
    assert len(lines) == 1 and "kgs:ClosedDocument" in lines[0] and "sh:closed" in lines[0], lines
    # the reference engine knows it (and an open shape breaks nothing)
    run = CliRunner().invoke(main, ["validate", "--all", "--engine", "pyshacl",
                                    "--store", str(store_dir)])
    assert run.exit_code == 0, run.output


def test_warnings_do_not_fail_and_deactivated_or_untargeted_shapes_check_nothing(store_dir, shapes_with):
    from kg.validate.sparql_engine import Validator
    shapes_with("""
kgs:NoSourceFile a sh:NodeShape ; sh:targetClass kg:Document ;
    sh:property [ sh:path kg:sourceFile ; sh:maxCount 0 ; sh:severity sh:Warning ;
                  sh:message "a warning" ] .
kgs:Off a sh:NodeShape ; sh:targetClass kg:Document ; sh:deactivated true ;
    sh:property [ sh:path kg:sourceFile ; sh:maxCount 0 ] .
kgs:Untargeted a sh:NodeShape ; sh:nodeKind sh:Literal ;
    sh:property [ sh:path kg:sourceFile ; sh:maxCount 0 ] .
""")
    with Store.open(store_dir, read_only=True) as s:
        found = Validator(s).violations()
        assert {v.constraint.severity.split("#")[-1] for v in found} == {"Warning"}
        assert len(found) == N_DOCS and all(v.conforming for v in found)
        assert api.validate(s, revalidate=True).conforms
        assert api.validate(s, revalidate=True, engine="pyshacl").conforms


def test_sh_in_compares_terms_not_values(store_dir, shapes_with):
    # 1.0 (xsd:decimal) equals 1 as a number, but is not the term 1: SHACL's sh:in fails it
    shapes_with("kgs:Numbered a sh:NodeShape ; sh:targetClass kg:Document ; "
                "sh:property [ sh:path kg:testNumber ; sh:in ( 1 ) ] .")
    with Store.open(store_dir) as s:
        source = spoil(s, "sichuan_plan_2024.txt", lambda g: (
            g, ox.NamedNode(KG + "testNumber"),
            ox.Literal("1.0", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal"))))
        for engine in ("sparql", "pyshacl"):
            found = api.validate(s, revalidate=True, engine=engine)
            assert found.failed == [source] and "InConstraintComponent" in found.text, engine


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import oxigraph_server
    yield from oxigraph_server(tmp_path_factory)


def test_a_store_behind_an_endpoint_is_validated_by_both_engines(server):
    from kg.remote import endpoint
    run = CliRunner().invoke(main, ["build", str(DOCS), "--endpoint", server, "--no-progress"])
    assert run.exit_code == 0, run.output
    ep = endpoint(server)
    for engine in ("sparql", "pyshacl"):
        found = api.validate(ep, engine=engine)
        assert found.conforms, (engine, found.text[:2000])
        assert found.checked == N_DOCS + OTHER_GRAPHS, engine
    # one document's graph replaced by a bare kg:Document (no source file, no doctype)
    graph = next(iter(ep.document_hashes().values()))[0]
    ep.put_graph(graph, b"<https://w3id.org/fazhi-kg/doc/x> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                 b"<https://w3id.org/fazhi-kg/ontology#Document> .")
    spoilt = [api.validate(ep, engine=engine) for engine in ("sparql", "pyshacl")]
    assert not spoilt[0].conforms and spoilt[0].failed == spoilt[1].failed
