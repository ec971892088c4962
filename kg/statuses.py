"""Statuses as shown: their order, words, marks and colours, read from ontology/kg.ttl.

The statuses a text states (kg:StatusScheme), the statuses of an audit row (kg:AuditStatusScheme:
those a report states, then kg:NotReported) and everything a report, table or page shows
(kg:StatusDisplayScheme, with kg:NotApplicable for a cell whose requirement does not bind its
region) are SKOS concepts there; each carries kg:displayOrder, kg:displayLabel, kg:shortLabel,
kg:mark and its colours. The audit, the server's pages and the graph view read them here, so a
status's words or colour are changed in the ontology, once.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

from .namespaces import PREFIXES
from .resources import ontology_properties

_IN_SCHEME = PREFIXES["skos"] + "inScheme"
_NOTATION = PREFIXES["skos"] + "notation"

NOT_REPORTED = "none"
NOT_APPLICABLE = "na"
PARTLY = "partly"            # a roll-up: some, not all, localities with documents implement it
NO_DOCUMENTS = "nodocs"      # nothing to judge: never a verdict of non-compliance


@dataclass(frozen=True)
class Status:
    notation: str            # skos:notation: implemented, planned, weakness, required, none, na
    order: int               # kg:displayOrder: of several statuses the lowest is shown
    label: str               # kg:displayLabel: "only planned"
    short: str               # kg:shortLabel: the word beside the mark in a compact legend
    mark: str                # kg:mark: one character in a matrix cell
    colour: str              # kg:colour: a cell's background (CSS)
    text_colour: str         # kg:textColour: the text on it
    graph_colour: str = ""   # kg:graphColour: an edge of the graph view ("" where none is drawn)

    def css(self) -> str:
        """The rule of the `st-<notation>` class that colours a cell of this status."""
        return f".st-{self.notation}{{background:{self.colour};color:{self.text_colour}}}"


def _value(props: dict, name: str, default: str = "") -> str:
    found = props.get(name)
    return found[0].value if found else default


@lru_cache(maxsize=None)
def scheme(scheme_local: str) -> tuple[Status, ...]:
    """The statuses of a scheme of kg.ttl (StatusScheme, AuditStatusScheme, StatusDisplayScheme),
    in display order."""
    kg = PREFIXES["kg"]
    member = ox.NamedNode(kg + scheme_local)
    out = []
    # kg.ttl alone holds the statuses
    for props in ontology_properties("kg.ttl").values():
        if member not in props.get(_IN_SCHEME, ()):
            continue
        notation = _value(props, _NOTATION)
        order = _value(props, kg + "displayOrder")
        out.append(Status(notation, int(order) if order else 99,
                          _value(props, kg + "displayLabel", notation), _value(props, kg + "shortLabel", notation),
                          _value(props, kg + "mark"), _value(props, kg + "colour"),
                          _value(props, kg + "textColour"), _value(props, kg + "graphColour")))
    return tuple(sorted(out, key=lambda s: (s.order, s.notation)))


def shown() -> tuple[Status, ...]:
    """Every status a report, table or page shows."""
    return scheme("StatusDisplayScheme")


def stated() -> tuple[str, ...]:
    """The statuses a text states (implemented, planned, weakness, required), in display order."""
    return tuple(s.notation for s in scheme("StatusScheme"))


def audit_statuses() -> tuple[Status, ...]:
    """The statuses of an audit row: those a region's documents report, in the order that picks
    a row's status, then NOT_REPORTED."""
    return scheme("AuditStatusScheme")


@lru_cache(maxsize=1)
def reported() -> tuple[str, ...]:
    """The statuses that count as a region's report, the first found being a row's status: an
    audit row's that a text states (not NOT_REPORTED, PARTLY or NO_DOCUMENTS, which the audit
    concludes)."""
    said = set(stated())
    return tuple(s.notation for s in audit_statuses() if s.notation in said)


@lru_cache(maxsize=1)
def missing_first() -> tuple[str, ...]:
    """An audit row's statuses in the order reports list them: what is missing first, then what
    is partly there, then what is done (the reverse of kg:displayOrder)."""
    return tuple(s.notation for s in reversed(audit_statuses()))


@lru_cache(maxsize=None)
def by_notation() -> dict[str, Status]:
    return {s.notation: s for s in shown()}


def get(notation: str) -> Status:
    return by_notation()[notation]


def display_labels() -> dict[str, str]:
    """notation → the words a report uses ("only planned")."""
    return {s.notation: s.label for s in shown()}


def marks() -> dict[str, str]:
    """notation → the one-character mark of a matrix cell."""
    return {s.notation: s.mark for s in shown()}


def graph_colours() -> dict[str, str]:
    """notation → the colour of an edge of that status in the graph view."""
    return {s.notation: s.graph_colour for s in shown() if s.graph_colour}
