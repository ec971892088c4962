"""Statuses as shown (kg.statuses): read from ontology/kg.ttl, complete, and what the audit and
the server's pages use."""
import re

from kg import statuses


def test_every_status_shown_has_its_order_words_mark_and_colours():
    shown = statuses.shown()
    assert [s.notation for s in shown] == ["implemented", "partly", "planned", "weakness", "required", "none",
                                           "nodocs", "na"]
    assert len({s.order for s in shown}) == len(shown)
    for s in shown:
        assert s.label and s.short and len(s.mark) == 1, s
        assert re.fullmatch(r"#[0-9a-f]{3}(?:[0-9a-f]{3})?", s.colour), s
        assert re.fullmatch(r"#[0-9a-f]{3}(?:[0-9a-f]{3})?", s.text_colour), s


def test_the_statuses_a_text_states_and_an_audit_row_has():
    assert statuses.stated() == ("implemented", "planned", "weakness", "required")
    # a requirement document's own "required" is no report of the audited region
    assert statuses.reported() == ("implemented", "planned", "weakness")
    assert [s.notation for s in statuses.audit_statuses()] == ["implemented", "partly", "planned", "weakness",
                                                               "none", "nodocs"]
    assert set(statuses.graph_colours()) == set(statuses.stated())


def test_the_audit_words_and_marks():
    assert statuses.display_labels()["planned"] == "planned"
    assert statuses.display_labels()["none"] == "not reported"
    assert statuses.get("weakness").short == "weakness"
    assert statuses.marks()["implemented"] == "✔" and statuses.marks()["none"] == "✘"


def test_an_audit_page_colours_every_status_it_shows():
    from kg.audit.rendering import page_css, shown_statuses
    css = page_css()
    for s in shown_statuses():
        assert s.css() in css
    assert ".st-planned{background:#ffe066;color:#000}" in css
