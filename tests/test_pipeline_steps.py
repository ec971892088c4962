"""Each step of the analysis (kg.pipeline.STEPS) assigns what it declares and reads nothing it
does not: run step by step on the seeds, a step's changed fields are among its `assigns`, each
declared field is changed on some seed, and the fields it touches are among `reads` and `assigns`."""
import copy
from dataclasses import fields

import pytest

from kg import pipeline
from kg.document import Document

from conftest import CORPUS

FIELDS = {f.name for f in fields(Document)}
SEEDS = sorted(CORPUS.glob("*.txt"))


class Recording(Document):
    """A Document that notes which of its fields are looked up."""

    def __getattribute__(self, name):
        if name in FIELDS:
            object.__getattribute__(self, "touched").add(name)
        return object.__getattribute__(self, name)


def recording(doc: Document) -> Recording:
    out = Recording(**{name: getattr(doc, name) for name in FIELDS})
    object.__setattr__(out, "touched", set())
    return out


def state(doc: Document) -> dict:
    """The document's fields as comparable values (an offset map by its runs)."""
    out = {}
    for name in FIELDS:
        value = object.__getattribute__(doc, name)
        if name == "offsets" and value is not None:
            value = (value.starts, value.sources, value.length)
        out[name] = copy.deepcopy(value)
    return out


def test_steps_have_distinct_names_and_known_fields():
    names = [s.name for s in pipeline.STEPS]
    assert names == ["normalize", "structure", "places", "organ", "extract"]
    for step in pipeline.STEPS:
        assert set(step.reads) <= FIELDS and set(step.assigns) <= FIELDS, step.name


def test_each_step_assigns_what_it_declares():
    changed_somewhere = {s.name: set() for s in pipeline.STEPS}
    for path in SEEDS:
        doc = pipeline.load(path)
        for step in pipeline.STEPS:
            before = state(doc)
            rec = recording(doc)
            doc = step.run(rec)
            assert doc is rec, f"{step.name} returns the document it was given"
            touched = object.__getattribute__(rec, "touched")
            after = state(doc)
            changed = {name for name in FIELDS if before[name] != after[name]}
            assert changed <= set(step.assigns), f"{step.name} on {path.name} changed {changed - set(step.assigns)}"
            assert touched <= set(step.reads) | set(step.assigns), \
                f"{step.name} on {path.name} read {touched - set(step.reads) - set(step.assigns)}"
            changed_somewhere[step.name] |= changed
    for step in pipeline.STEPS:
        assert changed_somewhere[step.name] == set(step.assigns), step.name


@pytest.mark.parametrize("path", SEEDS[:2], ids=lambda p: p.name[:3])
def test_analyse_runs_the_steps_in_order(path):
    by_steps = pipeline.load(path)
    for step in pipeline.STEPS:
        by_steps = step.run(by_steps)
    assert pipeline.document_record(by_steps) == pipeline.document_record(pipeline.process_file(path))
