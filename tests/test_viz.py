"""kg viz: nodes and edges from the store, filters, escaping of hostile text, offline page,
precomputed layout, and the page in headless Chromium (drawn, no script injection, no request)."""
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
import zlib

import networkx as nx
import pytest
from click.testing import CliRunner

from kg import viz
from kg.cli import main

from conftest import CORPUS, ROOT

DOCS = ROOT / "tests" / "docs"

HOSTILE = """杭州市西湖区司法局2023年法治政府建设年度报告
2023年,区司法局坚持以习近平法治思想为指导,扎实推进法治政府建设,现将有关情况报告如下:
一、主要举措和成效
(一)严格规范公正文明执法
全面推行行政执法公示制度<script>document.documentElement.setAttribute('data-pwned','1')</script>,执法信息在网站及时公开。
全区各部门均聘请法律顾问<img src=x onerror="document.documentElement.setAttribute('data-pwned','2')">,发挥法律顾问作用。
(二)推进严格规范公正文明执法
落实行政执法全过程记录制度和重大执法决定法制审核制度,全年审核重大执法决定15件。
二、存在的不足
行政执法人员培训仍有不足。
三、下一步工作安排
2024年将进一步完善行政执法公示制度<script>alert(1)</script>。
"""
SCRIPT_RAW = "<script>document.documentElement"
IMG_RAW = "<img src=x onerror"


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("viz")
    corpus = root / "corpus"
    corpus.mkdir()
    for f in CORPUS.glob("*.txt"):
        shutil.copy(f, corpus / f.name)
    (corpus / "900_hostile.txt").write_text(HOSTILE, encoding="utf-8")
    store = root / "store"
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, ["build", "corpus", "--store", str(store), "--no-progress"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return root, str(store)


def make(work, name, *args):
    root, store = work
    out = root / name
    result = CliRunner().invoke(main, ["viz", "-o", str(out), "--store", store, *args])
    assert result.exit_code == 0, result.output
    assert "nodes" in result.output
    return out


@pytest.fixture(scope="module", params=["bipartite", "full"])
def page(work, request):
    """The page of each view (the default, bipartite, and --view full)."""
    return make(work, f"graph-{request.param}.html", "--view", request.param)


@pytest.fixture(scope="module")
def full_page(work):
    return make(work, "graph-full-view.html", "--view", "full")


@pytest.fixture(scope="module")
def default_page(work):
    return make(work, "graph.html")


def data(page_text, name):
    """The list passed to `new vis.DataSet(...)` for nodes or edges."""
    m = re.search(name + r" = new vis\.DataSet\(", page_text)
    assert m, name
    value, _ = json.JSONDecoder().raw_decode(page_text, m.end())
    return value


def options(page_text):
    m = re.search(r"var options = ", page_text)
    value, _ = json.JSONDecoder().raw_decode(page_text, m.end())
    return value


def labels(page_text):
    return {n["label"] for n in data(page_text, "nodes")}


def test_page_has_nodes_of_every_kind(full_page):
    text = full_page.read_text(encoding="utf-8")
    nodes = data(text, "nodes")
    names = {n["label"] for n in nodes}
    assert {"乳山市", "威海市", "山东省"} <= names                    # the parent chain
    assert "行政执法三项制度" in names and "法律顾问" in names
    assert {n["kind"] for n in nodes} == {"locality", "organization", "role", "mechanism", "requirement"}
    edges = data(text, "edges")
    rels = {e["rel"] for e in edges}
    assert rels == {"implements", "requires", "holds_role", "located_in", "broader"}
    ids = {n["id"]: n["label"] for n in nodes}
    chain = {(ids[e["from"]], ids[e["to"]]) for e in edges if e["rel"] == "located_in"}
    assert ("乳山市", "威海市") in chain and ("威海市", "山东省") in chain
    assert {e["status"] for e in edges if e["rel"] == "implements"} <= set(viz.STATUSES)
    assert any(e.get("label") for e in edges if e["rel"] == "holds_role")     # counts


def test_no_external_url(page):
    text = page.read_text(encoding="utf-8")
    viz.check_offline(text)
    assert "bootstrap" not in text.lower()
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*(src|href)\s*=\s*[\"']?(https?:)?//", text, re.I)
    # outside the inlined vis.js (whose license comments name URLs) there is no URL at all
    outside = re.sub(r"<script>\s*/\*\*?\s*\n?\s*\*?\s*vis-network.*?</script>", "", text, flags=re.S)
    outside = re.sub(r"<script>[^<]*?vis-network[\s\S]*?</script>", "", outside)
    assert "http://" not in outside and "https://" not in outside


def test_hostile_text_only_escaped(page):
    text = page.read_text(encoding="utf-8")
    assert SCRIPT_RAW not in text and IMG_RAW not in text and "<script>alert" not in text
    tips = [n.get("title", "") for n in data(text, "nodes")] + [e.get("title", "") for e in data(text, "edges")]
    joined = "\n".join(tips)
    assert "&lt;script&gt;document.documentElement" in joined       # the sentence is quoted, as text
    assert "&lt;img src=x onerror=" in joined
    assert "<script" not in joined and "<img" not in joined
    for t in tips:     # the only live markup in tooltips is the page's own
        assert not re.search(r"<(?!/?(b|i|div|span)\b)", t), t[:200]


def test_region_filter(work):
    text = make(work, "ruishan.html", "--region", "乳山市", "--view", "full").read_text(encoding="utf-8")
    names = labels(text)
    assert {"乳山市", "威海市", "山东省"} <= names
    assert "辽源市" not in names and "江北区" not in names


def test_viz_reads_a_store_a_build_is_writing(work):
    """kg viz only reads: it runs while another process holds the store read-write."""
    from kg import api
    with api.open_store(work[1]):
        text = make(work, "during-build.html", "--region", "乳山市").read_text(encoding="utf-8")
    assert "乳山市" in labels(text)


# Mechanisms and roles summarize the graph that was read (localities reporting, organizations
# holding, their quotes): in a region's graph, the region's. Every other node and edge is the same.
SUMMARY_ATTRS = {"mechanism": ("tip", "quotes", "localities"), "role": ("tip",)}


def _page_data(H):
    text = viz.render(H, viz.layout(H))
    nodes = [{k: v for k, v in n.items() if not (k == "title" and n["kind"] in SUMMARY_ATTRS)}
             for n in data(text, "nodes")]
    return nodes, data(text, "edges")


@pytest.fixture(scope="module")
def docs_work(tmp_path_factory):
    """The documents of tests/docs (a province's own report above a district's, a notice of a
    prefecture, a township, a report without locality) and a district report under that
    prefecture: what the bundled corpus lacks for a region's parent chain."""
    root = tmp_path_factory.mktemp("viz-docs")
    corpus = root / "docs"
    shutil.copytree(DOCS, corpus)
    (corpus / "910_wuhou.txt").write_text(re.sub(r"<[^>]*>", "", HOSTILE).replace("杭州市西湖区", "成都市武侯区"),
                                          encoding="utf-8")
    store = root / "store"
    result = CliRunner().invoke(main, ["build", str(corpus), "--store", str(store), "--no-progress"])
    assert result.exit_code == 0, result.output
    return root, str(store)


@pytest.mark.parametrize("built, region", [
    ("work", "乳山市"), ("work", "威海市"), ("work", "山东省"), ("work", "吉林省"), ("work", "香格里拉市"),
    ("work", "杭州市"),
    ("docs_work", "天河区"), ("docs_work", "武侯区"), ("docs_work", "成都市"), ("docs_work", "诸暨市"),
    ("docs_work", "浙江省")])
def test_region_graph_is_read_from_the_region(request, built, region):
    """The region's graph read through viz-region-*.rq gives the page the whole graph gives."""
    from kg import api
    with api.open_store(request.getfixturevalue(built)[1], read_only=True) as store:
        whole = viz.build_graph(store)
        rid = viz.resolve_region(region)
        scoped = viz.build_graph(store, rid)
        m01 = viz.resolve_mechanism(store, "三项制度")
    assert scoped.number_of_nodes() < whole.number_of_nodes()
    for mechanisms, status, max_nodes in ((None, None, viz.DEFAULT_MAX_NODES), (None, "implemented", None),
                                          (m01, None, None), (None, None, 12)):
        try:
            expected = viz.select(whole, rid, mechanisms, status, max_nodes)
        except viz.VizError as e:
            with pytest.raises(viz.VizError, match=re.escape(str(e))):
                viz.select(scoped, rid, mechanisms, status, max_nodes)
            continue
        got = viz.select(scoped, rid, mechanisms, status, max_nodes)
        assert list(got.nodes) == list(expected.nodes)
        assert sorted(got.edges(keys=True)) == sorted(expected.edges(keys=True))
        for u, v, k, d in expected.edges(keys=True, data=True):
            assert got.edges[u, v, k] == d
        for n, d in expected.nodes(data=True):
            skip = SUMMARY_ATTRS.get(d["type"], ())
            assert {k: v for k, v in got.nodes[n].items() if k not in skip} == \
                {k: v for k, v in d.items() if k not in skip}, n
        assert _page_data(got) == _page_data(expected)


def _drawn(G):
    return (sorted((n, repr(sorted(d.items()))) for n, d in G.nodes(data=True)),
            sorted((u, v, k, repr(sorted(d.items()))) for u, v, k, d in G.edges(keys=True, data=True)),
            sorted(G.graph["evidence"].items()))


@pytest.mark.parametrize("built", ["work", "docs_work"])
def test_documents_written_before_the_organization_index_give_the_same_graph(request, built, tmp_path):
    """A store whose documents lack kg:organizationIndex (written before it existed) gets its
    organizations and roles from their posts: the same graph, whole and of a region."""
    import pyoxigraph as ox
    from kg import api
    built_store = request.getfixturevalue(built)[1]
    old = tmp_path / "store"
    shutil.copytree(built_store, old)
    raw = ox.Store(str(old))
    raw.update("DELETE WHERE { GRAPH ?g { ?d <https://w3id.org/fazhi-kg/organizationIndex> ?i } }")
    assert not list(raw.quads_for_pattern(None, ox.NamedNode("https://w3id.org/fazhi-kg/organizationIndex"), None))
    del raw
    region = viz.resolve_region("乳山市" if built == "work" else "成都市")
    graphs = {}
    for name, path in (("indexed", built_store), ("old", old)):
        with api.open_store(path, read_only=True) as store:
            graphs[name] = [viz.build_graph(store), viz.build_graph(store, region)]
    assert any(d["type"] == "organization" for _, d in graphs["old"][0].nodes(data=True))
    assert any(d["type"] == "role" for _, d in graphs["old"][1].nodes(data=True))
    for indexed, old_graph in zip(graphs["indexed"], graphs["old"]):
        assert _drawn(old_graph) == _drawn(indexed)


def test_region_graph_quotes_the_region(work):
    text = make(work, "ruishan-tips.html", "--region", "乳山市").read_text(encoding="utf-8")
    tips = [n.get("title", "") for n in data(text, "nodes") if n["kind"] == "mechanism"]
    assert any("乳山市" in t for t in tips)
    assert not any(place in t for t in tips for place in ("辽源市", "江北区", "福清市", "西湖区"))


@pytest.mark.parametrize("view", ["bipartite", "full"])
def test_status_filter(work, view):
    text = make(work, f"weak-{view}.html", "--status", "weakness", "--view", view).read_text(encoding="utf-8")
    edges = data(text, "edges")
    statuses = {e.get("status") for e in edges if e.get("status")}
    assert statuses == {"weakness"}
    assert not any(e["rel"] in ("holds_role",) for e in edges)


def test_mechanism_filter_includes_narrower(work):
    text = make(work, "m01.html", "--mechanism", "三项制度", "--view", "full").read_text(encoding="utf-8")
    nodes = data(text, "nodes")
    mechs = {n["label"] for n in nodes if n["kind"] == "mechanism"}
    assert "行政执法三项制度" in mechs and "行政执法公示制度" in mechs
    assert "法律顾问" not in {n["label"] for n in nodes}


def test_bad_filters(work):
    root, store = work
    r = CliRunner().invoke(main, ["viz", "-o", str(root / "x.html"), "--store", store, "--region", "鼓楼区"])
    assert r.exit_code != 0 and "ambiguous" in r.output
    r = CliRunner().invoke(main, ["viz", "-o", str(root / "x.html"), "--store", store, "--mechanism", "无此制度"])
    assert r.exit_code != 0 and "unknown mechanism" in r.output


def test_max_nodes(work):
    nodes = data(make(work, "small.html", "--max-nodes", "20", "--view", "full").read_text(encoding="utf-8"), "nodes")
    assert len(nodes) == 20


def test_max_edges_keeps_the_heaviest(work):
    from kg import api
    root, store = work
    with api.open_store(store, read_only=True) as s:
        H = viz.select(viz.build_graph(s))
        capped, left_out = viz.cap_edges(H, 100)
        result = viz.visualize(s, root / "capped.html", max_edges=100, view="full")
        full = viz.visualize(s, root / "full.html", view="full")
    assert full.left_out == 0 and full.edges == H.number_of_edges() > 100
    assert "left out" not in full.summary()
    assert "kg-left-out" not in (root / "full.html").read_text(encoding="utf-8")
    assert capped.number_of_edges() == 100 == result.edges and left_out == H.number_of_edges() - 100
    assert list(capped.nodes) == list(H.nodes)
    structural = {e for e in H.edges(keys=True) if H.edges[e]["rel"] in ("located_in", "broader")}
    assert structural <= set(capped.edges(keys=True))
    weight = H.graph["weight"]
    kept = [weight[e] for e in capped.edges(keys=True) if e not in structural]
    dropped = [weight[e] for e in H.edges(keys=True) if e not in set(capped.edges(keys=True))]
    assert min(kept) >= max(dropped)
    assert f"{left_out} lighter edges left out" in result.summary()
    text = (root / "capped.html").read_text(encoding="utf-8")
    assert len(data(text, "edges")) == 100 and f"+ {left_out} lighter edges not drawn" in text
    cli = make(work, "capped-cli.html", "--max-edges", "100", "--view", "full").read_text(encoding="utf-8")
    assert len(data(cli, "edges")) == 100


def test_quotes_read_for_what_is_drawn(work):
    """Evidence texts read for the drawn part only (quote() after cap_edges) are those the whole
    graph quotes; role tooltips quote the posts' sentences."""
    from kg import api
    with api.open_store(work[1], read_only=True) as s:
        whole = viz.build_graph(s)
        capped, _ = viz.cap_edges(viz.select(viz.build_graph(s, quote_all=False)), 120)
        assert not any("tip" in d for _, _, d in capped.edges(data=True) if d["rel"] != "located_in"
                       and d["rel"] != "broader")
        viz.quote(s, capped)
    for u, v, k, d in capped.edges(keys=True, data=True):
        assert d == whole.edges[u, v, k]
    for n, d in capped.nodes(data=True):
        assert d["tip"] == whole.nodes[n]["tip"]
    holds = [d["tip"] for _, _, d in whole.edges(data=True) if d["rel"] == "holds_role"]
    assert holds and all('class="q"' in t for t in holds)


def test_max_nodes_cut_does_not_depend_on_string_hashing(work):
    """The nodes and edges kept by --max-nodes come in the same order in every process (Python
    salts string hashes per process), so the page and its layout are the same run after run."""
    import subprocess
    import sys
    code = ("import sys; from kg import api, viz\n"
            "with api.open_store(sys.argv[1], read_only=True) as s:\n"
            "    H = viz.select(viz.build_graph(s), max_nodes=20)\n"
            "    print(list(H.nodes), list(H.edges(keys=True)))\n")
    outs = {subprocess.run([sys.executable, "-c", code, work[1]], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(outs) == 1 and "[]" not in outs.pop()


def test_layout_precomputed(page):
    text = page.read_text(encoding="utf-8")
    assert options(text)["physics"]["enabled"] is False
    for n in data(text, "nodes"):
        assert isinstance(n["x"], (int, float)) and isinstance(n["y"], (int, float))


def synthetic(n_nodes=2000, n_edges=6000, seed=1):
    """A graph shaped like ours: localities in a tree, organizations, roles, mechanisms."""
    import random
    rnd = random.Random(seed)
    G = nx.MultiDiGraph()
    n_mech, n_roles = 120, 40
    n_loc = (n_nodes - n_mech - n_roles) // 2
    n_org = n_nodes - n_mech - n_roles - n_loc
    for i in range(n_mech):
        G.add_node(f"m:{i}", type="mechanism", label=f"制度{i}", notation=f"M{i}", tip="<b>m</b>")
        if i >= 30:
            G.add_edge(f"m:{i}", f"m:{i % 30}", key="broader", rel="broader")
    for i in range(n_roles):
        G.add_node(f"role:{i}", type="role", label=f"角色{i}", notation=f"I{i}", tip="r")
    for i in range(n_loc):
        level = "ProvinceLevel" if i < 30 else "PrefectureLevel" if i < 300 else "CountyLevel"
        G.add_node(f"loc:{i}", type="locality", label=f"地方{i}", code=f"{i:06d}", level=level, tip="l")
        if i >= 30:
            G.add_edge(f"loc:{i}", f"loc:{rnd.randrange(30) if i < 300 else rnd.randrange(30, 300)}",
                       key="located_in", rel="located_in")
    for i in range(n_org):
        G.add_node(f"org:{i}", type="organization", label=f"机构{i}", tip="o")
        G.add_edge(f"org:{i}", f"loc:{rnd.randrange(n_loc)}", key="located_in", rel="located_in")
    while G.number_of_edges() < n_edges:
        if rnd.random() < 0.75:
            st = rnd.choice(viz.STATUSES[:3])
            G.add_edge(f"loc:{rnd.randrange(n_loc)}", f"m:{rnd.randrange(n_mech)}", key=f"implements-{st}",
                       rel="implements", status=st, tip="<div class='q'>x</div>")
        else:
            G.add_edge(f"org:{rnd.randrange(n_org)}", f"role:{rnd.randrange(n_roles)}", key="holds_role",
                       rel="holds_role", label="2", tip="h")
    return G


def test_large_graph_is_fast(tmp_path):
    G = synthetic()
    assert G.number_of_nodes() == 2000 and G.number_of_edges() >= 6000
    result = viz.write(G, tmp_path / "big.html")
    print(f"\n2,000 nodes / {G.number_of_edges()} edges: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items()))
    assert result.timings["layout"] < 3.0
    assert result.timings["render"] < 10.0
    text = (tmp_path / "big.html").read_text(encoding="utf-8")
    assert options(text)["physics"]["enabled"] is False
    assert len(data(text, "nodes")) == 2000


# ------------------------------------------------------------------ in the browser

def _chromium():
    if os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def _run_chromium(tmp_path, page, *extra, timeout=120):
    args = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=8000", *extra, page.as_uri()]
    return subprocess.run(args, capture_output=True, timeout=timeout)


browser = pytest.mark.skipif(_chromium() is None, reason="no chromium")


@browser
def test_browser_draws_and_runs_no_injected_script(page, tmp_path):
    dom = _run_chromium(tmp_path, page, "--dump-dom").stdout.decode("utf-8", "replace")
    assert "<canvas" in dom                      # vis drew the network
    m = re.search(r"<html[^>]*>", dom)
    assert m and "data-pwned" not in m.group(0)
    assert 'data-kg-ready="1"' in m.group(0)     # our script ran to its end
    assert "data-pwned" not in dom.split("<body", 1)[0]


def _png_pixels(path):
    """Decompressed scan lines of a PNG (filter bytes included) — enough to tell blank from not."""
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(raw):
        length, kind = struct.unpack(">I4s", raw[pos:pos + 8])
        if kind == b"IDAT":
            idat += raw[pos + 8:pos + 8 + length]
        pos += 12 + length
    return zlib.decompress(idat)


@browser
def test_browser_screenshot_not_blank(page, tmp_path):
    png = tmp_path / "shot.png"
    _run_chromium(tmp_path, page, f"--screenshot={png}", "--window-size=1200,800")
    assert png.exists() and png.stat().st_size > 20_000
    pixels = _png_pixels(png)
    assert len(set(pixels[::97])) > 20            # many colours, not one


# Chromium's own service traffic (time, component update, account check) goes through the proxy
# even for about:blank; it is not the page's and is told apart by host.
BROWSER_SERVICE = re.compile(rb"^(?:CONNECT |[A-Z]+ https?://)(?:[\w.-]+\.)?"
                             rb"(?:google\.com|googleapis\.com|gvt1\.com|gstatic\.com)[:/]")


def _requests_through_proxy(tmp_path, page):
    """First lines of every request Chromium sends while loading `page` (all go to our proxy)."""
    seen = []
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    stop = threading.Event()

    def listen():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            try:
                conn.settimeout(1)
                seen.append(conn.recv(300).split(b"\r\n")[0])
            except OSError:
                seen.append(b"?")
            finally:
                conn.close()

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    try:
        _run_chromium(tmp_path, page, f"--proxy-server=http://127.0.0.1:{port}", "--proxy-bypass-list=<-loopback>",
                      "--dump-dom")
        time.sleep(0.3)
    finally:
        stop.set()
        t.join(2)
        srv.close()
    return [r for r in seen if not BROWSER_SERVICE.match(r)]


@browser
def test_browser_makes_no_request(page, tmp_path):
    # the trap works: a page that fetches something is caught
    control = tmp_path / "control.html"
    control.write_text('<html><body><img src="http://kg-viz-test.invalid/x.png"></body></html>')
    caught = _requests_through_proxy(tmp_path / "a", control)
    assert any(b"kg-viz-test.invalid" in r for r in caught), caught
    assert _requests_through_proxy(tmp_path / "b", page) == []


# ------------------------------------------------------------------ the default view

def _strongest(G) -> dict:
    """(locality, mechanism) → the strongest status of G's implements edges and of the requires
    edges of the requirement documents a locality issued."""
    out: dict = {}
    for u, v, d in G.edges(data=True):
        loc = u if d["rel"] == "implements" else G.nodes[u].get("loc") if d["rel"] == "requires" else None
        if loc in G:
            out.setdefault((loc, v), set()).add(d["status"])
    return {k: next(s for s in viz.STATUSES if s in st) for k, st in out.items()}


def test_default_view_is_bipartite(work, default_page):
    from kg import api
    with api.open_store(work[1], read_only=True) as s:
        expected = _strongest(viz.select(viz.build_graph(s, quote_all=False), max_nodes=None))
    text = default_page.read_text(encoding="utf-8")
    nodes, edges = data(text, "nodes"), data(text, "edges")
    kind = {n["id"]: n["kind"] for n in nodes}
    assert set(kind.values()) == {"locality", "mechanism"}
    assert all(kind[e["from"]] == "locality" and kind[e["to"]] == "mechanism" for e in edges)
    pairs = [(e["from"], e["to"]) for e in edges]
    assert len(pairs) == len(set(pairs)) == len(expected)            # one edge a (locality, mechanism)
    for e in edges:
        assert e["status"] == expected[e["from"], e["to"]]           # the strongest status
        assert e["color"]["color"] == viz.STATUS_COLOR[e["status"]]
        assert e["width"] >= 1 and e["docs"] >= 1
    assert any(e["docs"] > 1 and e["width"] > 1 for e in edges) or all(e["docs"] == 1 for e in edges)
    assert {"乳山市", "行政执法三项制度"} <= labels(text)
    ruishan = next(n["id"] for n in nodes if n["label"] == "乳山市")
    tips = [e["title"] for e in edges if e["from"] == ruishan]
    assert tips and all("乳山市" in t for t in tips) and any('class="q"' in t for t in tips)   # the evidence
    assert "kg-grouped" not in text              # 6 localities: none grouped


def test_region_in_default_view(work):
    text = make(work, "ruishan-bip.html", "--region", "乳山市").read_text(encoding="utf-8")
    nodes = data(text, "nodes")
    assert {n["label"] for n in nodes if n["kind"] == "locality"} == {"乳山市"}
    assert "辽源市" not in labels(text)


def test_aggregation_above_the_threshold(work, docs_work):
    from kg import api
    from kg.viz.nodes import parents
    with api.open_store(docs_work[1], read_only=True) as s:       # 武侯区 is in 成都市: grouped by prefecture
        D = viz.select(viz.build_graph(s, quote_all=False), max_nodes=None)
    one_by_one = viz.bipartite(D)
    assert one_by_one.graph["grouped"] is None
    names = {d["label"] for _, d in one_by_one.nodes(data=True)}
    assert {"武侯区", "成都市"} <= names
    H = viz.bipartite(D, max_nodes=one_by_one.number_of_nodes() - 1)        # one node too many
    assert H.graph["grouped"] == "prefecture" and H.number_of_nodes() < one_by_one.number_of_nodes()
    assert "武侯区" not in {d["label"] for _, d in H.nodes(data=True)}
    chengdu = viz.resolve_region("成都市")
    assert "武侯区" in H.nodes[chengdu]["tip"] and "--region" in H.nodes[chengdu]["tip"]
    for n, d in H.nodes(data=True):
        if d["type"] == "locality":
            assert viz.LEVEL_TEXT[d["level"]] in ("prefecture", "province"), n
    with api.open_store(work[1], read_only=True) as s:
        G = viz.select(viz.build_graph(s, quote_all=False), max_nodes=None)
        provinces = viz.bipartite(G, max_nodes=1)
        page = viz.write(provinces, work[0] / "grouped.html")
    assert provinces.graph["grouped"] == "province"
    locs = [d for _, d in provinces.nodes(data=True) if d["type"] == "locality"]
    assert locs and all(d["level"] == "ProvinceLevel" for d in locs)
    expected = {}         # a group's edge has the strongest status of its members' edges
    for (u, v), st in _strongest(G).items():
        expected.setdefault((([u] + parents(G, u))[-1], v), []).append(st)
    got = {(u, v): d["status"] for u, v, d in provinces.edges(data=True)}
    assert got == {k: next(s for s in viz.STATUSES if s in st) for k, st in expected.items()}
    text = (work[0] / "grouped.html").read_text(encoding="utf-8")
    assert 'id="kg-grouped"' in text and "grouped by province" in text
    assert page.nodes == provinces.number_of_nodes() > len(locs)
    assert viz.bipartite(G, max_edges=10).graph["grouped"] == "province"       # too many edges too
    cli = make(work, "grouped-cli.html", "--max-nodes", "1").read_text(encoding="utf-8")
    assert "grouped by province" in cli
    assert {n["id"] for n in data(cli, "nodes")} == set(provinces.nodes)


def test_pyvis_patch(work):
    """pyvis is imported when a page is drawn only (it pulls IPython and jedi); its one patch,
    the node ids' O(1) membership, keeps add_edge's check of both ends."""
    import subprocess
    import sys
    code = "import sys, kg.cli, kg.viz; print(sorted(m for m in ('pyvis', 'IPython', 'jedi') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
    G = nx.MultiDiGraph()
    G.add_node("a", type="locality", label="甲", tip="a")
    G.add_node("b", type="mechanism", label="乙", tip="b")
    G.add_edge("a", "b", key="implements-implemented", rel="implements", status="implemented")
    net = viz.network(G, {"a": (0, 0), "b": (1, 1)})
    assert "a" in net.node_ids and "x" not in net.node_ids and list(net.node_ids) == ["a", "b"]
    with pytest.raises(AssertionError, match="non existent node"):
        net.add_edge("a", "x")
    net.add_node("x", label="x")
    assert "x" in net.node_ids
    net.add_edge("a", "x")
    assert len(net.edges) == 2


def _click(tmp_path, page, label):
    """The page's <html> tag after a click on the node labelled `label` (kgHighlight)."""
    clicked = tmp_path / "clicked.html"
    script = ("<script>var hit = nodes.get({filter: function (n) { return n.label === %s; }});"
              "document.documentElement.setAttribute('data-kg-clicked', String(kgHighlight(hit[0].id)));</script>"
              % json.dumps(label, ensure_ascii=False))
    clicked.write_text(page.read_text(encoding="utf-8").replace("</body>", script + "</body>"), encoding="utf-8")
    dom = _run_chromium(tmp_path, clicked, "--dump-dom").stdout.decode("utf-8", "replace")
    return re.search(r"<html[^>]*>", dom).group(0)


@browser
def test_browser_click_highlights_the_neighbours(default_page, tmp_path):
    text = default_page.read_text(encoding="utf-8")
    nodes, edges = data(text, "nodes"), data(text, "edges")
    ruishan = next(n["id"] for n in nodes if n["label"] == "乳山市")
    near = sorted({e["to"] for e in edges if e["from"] == ruishan})
    tag = _click(tmp_path, default_page, "乳山市")
    assert f'data-kg-highlight="{ruishan}"' in tag
    assert f'data-kg-neighbours="{" ".join(near)}"' in tag
    assert f'data-kg-clicked="{len(near)}"' in tag
    assert re.search(r'data-kg-drawn="\d+"', tag)          # vis.js drew the graph


def test_served_graph_page_has_both_views(work):
    """kg serve's /graph is the default view; /graph?view=full the former graph."""
    from kg import api
    from kg.server import pages
    with api.open_store(work[1], read_only=True) as s:
        default = pages.graph(s, {})
        full = pages.graph(s, {"view": "full"})
    assert {n["kind"] for n in data(default, "nodes")} == {"locality", "mechanism"}
    assert {n["kind"] for n in data(full, "nodes")} == {"locality", "organization", "role", "mechanism",
                                                       "requirement"}


@browser
def test_browser_toggle_hides_a_node_type(default_page, tmp_path):
    """Unticking "mechanism" hides every mechanism node and no other."""
    toggled = tmp_path / "toggled.html"
    script = ("<script>var box = document.querySelector('#kg-bar input[data-kind=mechanism]');"
              "box.checked = false; box.dispatchEvent(new Event('change'));"
              "var hidden = nodes.get({filter: function (n) { return n.hidden; }});"
              "document.documentElement.setAttribute('data-hidden-kinds', hidden.map(function (n) { return n.kind; })"
              ".filter(function (k, i, a) { return a.indexOf(k) === i; }).join(' '));"
              "document.documentElement.setAttribute('data-hidden', String(hidden.length));</script>")
    toggled.write_text(default_page.read_text(encoding="utf-8").replace("</body>", script + "</body>"),
                       encoding="utf-8")
    dom = _run_chromium(tmp_path, toggled, "--dump-dom").stdout.decode("utf-8", "replace")
    tag = re.search(r"<html[^>]*>", dom).group(0)
    mechs = sum(1 for n in data(default_page.read_text(encoding="utf-8"), "nodes") if n["kind"] == "mechanism")
    assert 'data-hidden-kinds="mechanism"' in tag and f'data-hidden="{mechs}"' in tag


@pytest.mark.parametrize("grouping", [{}, {"max_nodes": 5}])
def test_default_view_of_the_whole_store_needs_no_select(work, docs_work, grouping):
    """The whole store's default view is drawn from the graph as built, with its assertions in
    its evidence only (no edge each, no select()): the same view, tooltips and evidence included,
    as through select() of the graph with its edges (what a filtered view does)."""
    from kg import api
    for root, store in (work, docs_work):
        with api.open_store(store, read_only=True) as s:
            selected = viz.bipartite(viz.select(viz.build_graph(s, quote_all=False), max_nodes=None), **grouping)
            unlinked = viz.bipartite(viz.build_graph(s, quote_all=False, tips=False, assertion_edges=False),
                                     **grouping)
            viz.quote(s, selected)
            viz.quote(s, unlinked)
        assert list(unlinked.nodes(data=True)) == list(selected.nodes(data=True))
        assert list(unlinked.edges(keys=True, data=True)) == list(selected.edges(keys=True, data=True))
        assert unlinked.graph["evidence"] == selected.graph["evidence"]


def _without(d: dict, *names) -> dict:
    return {k: v for k, v in d.items() if k not in names}


@pytest.mark.parametrize("grouping, levels", [
    ({"max_nodes": 5}, {"province"}),
    ({"max_nodes": 5, "max_edges": None}, {"province"}),
    # tests/docs' two districts of 成都市 make a prefecture of two (140 pairs, 136 by prefecture)
    ({"max_nodes": 1000, "max_edges": 138}, {"prefecture", None}),
])
def test_default_view_kept_at_build_time_is_the_view_of_the_documents(work, docs_work, grouping, levels):
    """The whole store's default view drawn from the groups kept at build time (kg.viewgroups)
    is the one drawn from the documents: the same nodes and edges in the same order, with the
    same attributes and tooltips once quoted, weights and counts; each edge's evidence holds its
    first documents (those a tooltip quotes)."""
    from kg import api
    seen = set()
    for root, store in (work, docs_work):
        with api.open_store(store, read_only=True) as s:
            made = viz.bipartite(viz.build_graph(s, quote_all=False, tips=False, assertion_edges=False),
                                 **grouping)
            kept = viz.kept_view(s, grouping["max_nodes"], grouping.get("max_edges", viz.AGGREGATE_EDGES))
            seen.add(made.graph["grouped"])
            if made.graph["grouped"] is None:       # localities one by one: read from the documents
                assert kept is None
                continue
            viz.quote(s, made)
            viz.quote(s, kept)
        assert kept.graph["grouped"] == made.graph["grouped"] and kept.graph["localities"] == made.graph["localities"]
        assert list(kept) == list(made)
        for n, d in made.nodes(data=True):
            assert _without(kept.nodes[n], "quotes", "localities", "reported_by") == \
                _without(d, "quotes", "localities"), n
        assert list(kept.edges(keys=True, data=True)) == list(made.edges(keys=True, data=True))
        for e, (status, by_doc, how) in made.graph["evidence"].items():
            k_status, k_by_doc, k_how = kept.graph["evidence"][e]
            assert (k_status, k_how) == (status, how)
            assert list(k_by_doc.items()) == list(by_doc.items())[:len(k_by_doc)] and len(k_by_doc) >= min(3, len(by_doc))
            assert kept.graph["weight"][e] == made.graph["weight"][e]
    assert seen == levels


def test_kg_viz_draws_the_kept_view_as_the_page_of_the_documents(docs_work, tmp_path, monkeypatch):
    """`kg viz` of the whole store, grouped, reads the groups the build kept and not the
    documents; its page has the same nodes and edges, tooltips included, as the page drawn from
    the documents."""
    from kg import api
    import kg.viz.graph
    with api.open_store(docs_work[1], read_only=True) as s:
        with monkeypatch.context() as m:
            rows = kg.viz.graph.named_rows
            m.setattr(kg.viz.graph, "named_rows", lambda store, name, *a: pytest.fail("read the documents")
                      if name.endswith("documents") else rows(store, name, *a))
            m.setattr(viz, "build_graph", lambda *a, **k: pytest.fail("read the documents"))
            kept = viz.visualize(s, tmp_path / "kept.html", max_nodes=5)
        with monkeypatch.context() as m:
            m.setattr(viz, "kept_view", lambda *a, **k: None)
            made = viz.visualize(s, tmp_path / "made.html", max_nodes=5)
    pages = [(tmp_path / f).read_text(encoding="utf-8") for f in ("kept.html", "made.html")]
    assert (kept.nodes, kept.edges) == (made.nodes, made.edges) and kept.edges > 0
    for name in ("nodes", "edges"):
        assert data(pages[0], name) == data(pages[1], name)


def test_default_view_is_kept_only_where_it_groups_and_the_summary_is_current(work, tmp_path):
    """A store whose localities the view draws one by one is read from its documents (None);
    so is one whose summary is pending (a change under way or interrupted)."""
    from kg import api, summary
    store = tmp_path / "store"
    shutil.copytree(work[1], store)
    with api.open_store(str(store)) as s:
        assert viz.kept_view(s, viz.AGGREGATE_ABOVE, viz.AGGREGATE_EDGES) is None      # 6 documents
        assert viz.kept_view(s, 5, viz.AGGREGATE_EDGES) is not None
        summary.mark_pending(s)
        assert viz.kept_view(s, 5, viz.AGGREGATE_EDGES) is None
