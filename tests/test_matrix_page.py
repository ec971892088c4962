"""The server's matrix page reads only the localities it shows, and tells what the `matrix` named
query tells: the same localities in the same order, the same statuses in every cell, in pages and
for a region; after an update through the server, the page follows the store."""
from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import built_corpus, kg_server
from kg import api, places
from kg.server import pages
from kg.store import Store

ROOT = Path(__file__).resolve().parent.parent
RUSHAN = "乳山市"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return built_corpus(tmp_path_factory, "matrix-page")


def page_cells(page: str) -> dict:
    """(code, name) → {notation: statuses} of the rows of a matrix page, in page order."""
    columns = re.findall(r'<th title="[^"]*">([^<]*)</th>', page)
    out = {}
    for name, code, cells in re.findall(r'<tr><th><a href="/region/[^"]*">([^<]*)</a> '
                                        r'<span class="small">([^<]*)</span></th>(.*?)</tr>', page, re.S):
        tds = re.findall(r'<td class="st-[^"]*"(?: title="([^"]*)")?>', cells)
        assert len(tds) == len(columns)
        out[(code, html.unescape(name))] = {c: html.unescape(t).rsplit(": ", 1)[1]
                                            for c, t in zip(columns, tds) if t}
    return out


def query_cells(s, region=None) -> dict:
    """The same from the `matrix` named query, for the localities at or under `region`."""
    out: dict = {}
    for r in api.query(s, "matrix").to_dicts():
        code = str(r["code"])
        if region is None or code == region.code or any(p.code == region.code
                                                         for p in places.divisions().parents(code)):
            out.setdefault((code, str(r["locality"])), {})[str(r["notation"])] = str(r["statuses"])
    return out


def test_every_page_tells_what_the_matrix_query_tells(store, monkeypatch):
    monkeypatch.setattr(pages, "MATRIX_PAGE_ROWS", 2)
    with Store.open(store, read_only=True) as s:
        expected = query_cells(s)
        n_pages = -(-len(expected) // 2)
        shown: dict = {}
        for k in range(1, n_pages + 2):         # and one page past the last: no rows
            shown.update(page_cells(pages.matrix(s, {"page": str(k)})))
        assert list(shown) == list(expected) and shown == expected
        assert len(expected) >= 4 and f"{len(expected)} regions" in pages.matrix(s, {})


def test_a_regions_page_tells_what_the_matrix_query_tells(store):
    with Store.open(store, read_only=True) as s:
        for name in ("山东省", "371083"):
            region = places.one_region(name)
            expected = query_cells(s, region)
            page = pages.matrix(s, {"region": name})
            assert expected and page_cells(page) == expected
            # its columns: the mechanisms its localities report, no others
            columns = re.findall(r'<th title="[^"]*">([^<]*)</th>', page)
            assert columns == sorted({n for cells in expected.values() for n in cells})


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read().decode("utf-8")


@pytest.fixture()
def writable_server(store, tmp_path):
    """`kg serve --allow-update` on a copy of the store (the module's store stays as built)."""
    import shutil
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    with kg_server(copy, "--allow-update", "--workers", "2") as base:
        yield base, copy


def test_after_an_update_through_the_server_the_page_follows_the_store(writable_server):
    base, copy = writable_server
    url = base + "/matrix?" + urllib.parse.urlencode({"region": "山东省"})
    assert RUSHAN in _get(url)
    # every document of 乳山市 dropped by a SPARQL update sent to the server
    update = ("DELETE { GRAPH ?doc { ?s ?p ?o } } WHERE { GRAPH ?doc { "
              "?doc kg:locality <https://w3id.org/fazhi-kg/locality/371083> . ?s ?p ?o } }")
    request = urllib.request.Request(base + "/sparql", data=urllib.parse.urlencode({"update": update}).encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=60) as r:
        assert r.status in (200, 204)
    text = _get(url)
    assert RUSHAN not in text
    with Store.open(copy, read_only=True) as s:
        assert page_cells(text) == query_cells(s, places.one_region("山东省"))
