"""Named queries with two plans (one for a parameter given, one for all) answer alike: the rows of
the plan for all, kept to what the parameter names, are the rows of the plan for it."""
from __future__ import annotations

import pytest

from conftest import built_corpus
from kg import api
from kg.store import Store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return built_corpus(tmp_path_factory, "query-plans")


def test_figures_of_a_mechanism_are_those_of_all_figures_under_it(store):
    with Store.open(store, read_only=True) as s:
        every = api.query(s, "figures").to_dicts()
        assert every
        for mechanism in ("M01", "三项制度", "出庭应诉"):
            under = {str(r["notation"]) for r in api.query(
                s, "SELECT ?notation WHERE { ?target skos:notation|skos:prefLabel|skos:altLabel ?name . "
                   "FILTER(str(?name) = str(?mechanism)) ?m skos:broader* ?target ; skos:notation ?notation }",
                {"mechanism": mechanism}).to_dicts()}
            rows = api.query(s, "figures", {"mechanism": mechanism}).to_dicts()
            assert rows and sorted(map(repr, rows)) == sorted(
                repr(r) for r in every if str(r["notation"]) in under)
            by_unit = api.query(s, "figures", {"mechanism": mechanism, "unit": "%"}).to_dicts()
            assert sorted(map(repr, by_unit)) == sorted(repr(r) for r in rows if r["unit"] == "%")
        percent = api.query(s, "figures", {"unit": "%"}).to_dicts()
        assert percent and sorted(map(repr, percent)) == sorted(repr(r) for r in every if r["unit"] == "%")
