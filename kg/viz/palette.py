"""How the graph view draws things: the statuses' colours, the node types' colours and shapes.

The statuses and their edge colours are the ontology's (kg:graphColour in ontology/kg.ttl, read by
kg.statuses), as the audit's and the server's are; the stylesheet in static/ gets their rules
from status_css().
"""
from __future__ import annotations

from .. import statuses as _statuses

STATUSES = _statuses.stated()
STATUS_COLOR = {s: _statuses.graph_colours()[s] for s in STATUSES}
STRUCTURAL_COLOR = "#b8b8b8"

# node type → (legend label, colour, vis shape, legend symbol)
NODE_TYPES = {
    "locality": ("locality (province › prefecture › county)", "#76b7b2", "dot", "●"),
    "organization": ("organization (organ, named body)", "#9c755f", "square", "■"),
    "role": ("role / institution kind", "#b07aa1", "triangle", "▲"),
    "mechanism": ("mechanism", "#e377c2", "diamond", "◆"),
    "requirement": ("requirement document", "#6b6b6b", "star", "★"),
}
EDGE_TYPES = {
    "implements": "implements (locality → mechanism, by status)",
    "requires": "requires (requirement document → mechanism)",
    "holds_role": "holds role (organization → role, count)",
    "located_in": "located in",
    "broader": "broader (mechanism → broader mechanism)",
}


def status_css() -> str:
    """The stylesheet's rules that colour a tooltip's status badge (`st-<status>`), one line."""
    return "".join(f".st-{s}{{background:{STATUS_COLOR[s]}}}" for s in STATUSES)

# the localities of the default view are coloured by province: neighbouring provinces (by code)
# get different colours
PROVINCE_COLORS = ("#a0cbe8", "#8cd17d", "#ffbe7d", "#f1ce63", "#86bcb6", "#ff9d9a", "#d4a6c8", "#fabfd2",
                   "#d7b5a6", "#bab0ac", "#b6d7a8", "#c9b3e6")      # light: a name is read on them


def province_color(code: str) -> str:
    """The colour of a province's localities (by the first two digits of its division code)."""
    return PROVINCE_COLORS[int(code[:2]) % len(PROVINCE_COLORS)] if code[:2].isdigit() else PROVINCE_COLORS[0]
