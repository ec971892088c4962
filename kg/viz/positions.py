"""Where each node is drawn: positions are computed here and physics is off, so the page is drawn
at once. Small graphs get a force layout (networkx spring_layout, seeded with the radial one);
large graphs a radial layout: localities as a tree by hierarchy on the outer rings (organizations
and requirement documents beside their locality), mechanisms as a tree in the centre, roles on a
ring between."""
from __future__ import annotations

import math
import zlib

import networkx as nx

SMALL_GRAPH = 400          # up to this many nodes: force layout; above: radial layout


def layout(G) -> dict:
    """Positions in pixels for every node: radial (large graphs) or force, seeded radially."""
    pos = radial_layout(G)
    n = G.number_of_nodes()
    if 2 < n <= SMALL_GRAPH:
        U = nx.Graph(G.to_undirected(as_view=True))
        extent = max(max(abs(x), abs(y)) for x, y in pos.values()) or 1.0
        seed = {v: (x / extent, y / extent) for v, (x, y) in pos.items()}
        p = nx.spring_layout(U, pos=seed, iterations=80, seed=1, k=3.0 / math.sqrt(n))
        scale = 70 * math.sqrt(n)
        pos = {v: (float(x) * scale, float(y) * scale) for v, (x, y) in p.items()}
    return {v: (round(x, 1), round(y, 1)) for v, (x, y) in pos.items()}


def radial_layout(G) -> dict:
    """Localities as a radial tree on the outer rings (organizations and requirement documents
    one ring beyond their locality), mechanisms as a radial tree in the centre, roles and
    unplaced nodes on rings between. Linear in the graph's size."""
    tree = RadialTree(G)
    types = tree.types
    outer_roots = sorted((n for n in G if types[n] == "locality" and n not in tree.parent),
                         key=lambda n: G.nodes[n].get("code", n))
    inner_roots = sorted((n for n in G if types[n] == "mechanism" and n not in tree.parent),
                         key=lambda n: G.nodes[n].get("notation", n))
    inner_leaves = sum(tree.weight(r) for r in inner_roots)
    outer_leaves = sum(tree.weight(r) for r in outer_roots)
    r_inner = max(120.0, inner_leaves * 34 / (2 * math.pi))
    roles = sorted(n for n in G if types[n] == "role")
    r_roles = r_inner * 1.35 + 80 + len(roles) * 3
    r_outer0 = max(r_roles * 1.5 + 150, outer_leaves * 30 / (2 * math.pi) * 0.7)
    tree.place(inner_roots, r_inner * 0.45, r_inner * 0.3)
    tree.place(outer_roots, r_outer0, max(120.0, r_outer0 * 0.12))
    pos = tree.pos
    rest = roles + sorted(n for n in G if n not in tree.placed and n not in roles)
    for i, n in enumerate(rest):
        ang = 2 * math.pi * i / max(1, len(rest))
        pos[n] = (r_roles * math.cos(ang), r_roles * math.sin(ang))
    return pos


class RadialTree:
    """G's trees (located in, broader; a requirement document under its locality), placed on
    rings: each node gets an angle in proportion to its leaves."""

    def __init__(self, G):
        self.G = G
        self.types = {n: d["type"] for n, d in G.nodes(data=True)}
        self.parent: dict = {}
        for u, v, d in G.edges(data=True):
            if d["rel"] in ("located_in", "broader") and u not in self.parent:
                self.parent[u] = v
        for n, d in G.nodes(data=True):
            if self.types[n] == "requirement" and d.get("loc") in G and n not in self.parent:
                self.parent[n] = d["loc"]
        self.children: dict = {}
        for c, p in self.parent.items():
            self.children.setdefault(p, []).append(c)
        self.weights: dict = {}
        self.pos: dict = {}
        self.placed: set = set()

    def weight(self, n) -> int:
        """How many leaves `n`'s subtree has (1 for a leaf)."""
        if n not in self.weights:
            ch = self.children.get(n, [])
            self.weights[n] = max(1, sum(self.weight(c) for c in ch)) if ch else 1
        return self.weights[n]

    def place(self, roots, r0, dr, a0=0.0, a1=2 * math.pi) -> None:
        """Place the trees of `roots` between angles a0 and a1, the roots at radius r0 and each
        level dr further out."""
        total = sum(self.weight(r) for r in roots) or 1
        stack = []
        a = a0
        for r in roots:
            span = (a1 - a0) * self.weight(r) / total
            stack.append((r, 0, a, a + span))
            a += span
        while stack:
            n, depth, lo, hi = stack.pop()
            if n in self.placed:
                continue
            self.placed.add(n)
            ang = (lo + hi) / 2
            rr = r0 + depth * dr
            if not self.children.get(n) and depth > 0:
                rr += (zlib.crc32(n.encode()) % 3) * dr * 0.25     # stagger dense leaves (deterministic)
            self.pos[n] = (rr * math.cos(ang), rr * math.sin(ang))
            stack.extend(self._spans(n, depth, lo, hi))

    def _spans(self, n, depth, lo, hi) -> list:
        """The children of `n` with their share of its angle."""
        ch = sorted(self.children.get(n, []), key=lambda c: (self.types[c], self.G.nodes[c].get("code", ""), c))
        tot = sum(self.weight(c) for c in ch) or 1
        out, a = [], lo
        for c in ch:
            span = (hi - lo) * self.weight(c) / tot
            out.append((c, depth + 1, a, a + span))
            a += span
        return out


COLUMNS_UP_TO = 60         # localities: up to this many, two columns; above, two rings


def bipartite_layout(G) -> dict:
    """The locality–mechanism view: localities (in G's order: by province) in a left column and
    mechanisms (by notation) in a right one; above COLUMNS_UP_TO localities, localities on an
    outer ring with a gap between provinces and mechanisms in two columns inside it."""
    locs = [n for n, d in G.nodes(data=True) if d["type"] == "locality"]
    mechs = [n for n, d in G.nodes(data=True) if d["type"] != "locality"]
    if len(locs) <= COLUMNS_UP_TO:
        height = 44.0 * max(len(locs), len(mechs), 2)
        pos = _column(locs, -0.45 * height - 200, height)
        pos.update(_column(mechs, 0.45 * height + 200, height))
        return pos
    provinces = [G.nodes[n].get("province") for n in locs]
    gaps = sum(1 for a, b in zip(provinces, provinces[1:]) if a != b) + 1
    slots = len(locs) + 3 * gaps
    r_out = slots * 26 / (2 * math.pi)
    pos, slot = {}, 0
    for i, n in enumerate(locs):
        if i == 0 or provinces[i] != provinces[i - 1]:
            slot += 3
        ang = 2 * math.pi * slot / slots - math.pi / 2
        pos[n] = (round(r_out * math.cos(ang), 1), round(r_out * math.sin(ang), 1))
        slot += 1
    half = (len(mechs) + 1) // 2          # mechanisms in two columns inside the ring, names readable
    height = 1.1 * r_out
    pos.update(_column(mechs[:half], -0.3 * r_out, height))
    pos.update(_column(mechs[half:], 0.3 * r_out, height * max(1, len(mechs) - half) / max(1, half)))
    return pos


def _column(nodes, x: float, height: float) -> dict:
    step = height / max(1, len(nodes))
    top = -height / 2 + step / 2
    return {n: (round(x, 1), round(top + i * step, 1)) for i, n in enumerate(nodes)}
