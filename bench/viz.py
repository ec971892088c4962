"""The graph page's benchmark: `python bench/viz.py --store DIR [--view bipartite] [--screenshot PNG]`.
On a built store (e.g. 10,000 generated documents: bench/generate.py, then kg build) it measures:
1. `kg viz` (the default view, or --view full; --region): wall seconds, and the nodes and edges it drew;
2. the page's bytes (it loads nothing else);
3. in headless Chromium: the page's clock (ms since navigation start) when vis.js had drawn the
   graph once after the page's script ran (`data-kg-drawn`, set on the first `afterDrawing`),
   read from --dump-dom, median of --runs;
4. with --screenshot PNG: a screenshot of the first view (--window-size); with --click NAME, of
   the view after a click on the node labelled NAME (its neighbours highlighted).
Prints the figures and writes bench/out/viz-<time>.json.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
WAIT_MS = 8000            # the browser's wait before dumping the page: longer than any draw measured


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        sys.exit("no chromium on PATH")
    return exe


def browser(profile: Path, *args: str) -> str:
    """Run headless Chromium with `args`; its stdout."""
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, timeout=300).stdout.decode("utf-8", "replace")


def kg_viz(store: str, page: Path, view: str, region: str | None) -> tuple[float, dict]:
    t = time.perf_counter()
    done = subprocess.run(["kg", "viz", "--store", store, "-o", str(page), "--view", view, "--format", "json",
                           *(["--region", region] if region else [])], check=True, capture_output=True, text=True)
    return time.perf_counter() - t, json.loads(done.stdout)


def drawn_ms(page: Path, profile: Path) -> int:
    """ms since navigation start when the graph had been drawn, the page's clock."""
    dom = browser(profile, f"--timeout={WAIT_MS}", "--dump-dom", page.as_uri())
    tag = re.search(r"<html[^>]*>", dom)
    m = re.search(r'data-kg-drawn="(\d+)"', tag.group(0) if tag else "")
    if not m:
        sys.exit("the page never set data-kg-drawn: its script failed or it drew nothing in time")
    return int(m.group(1))


CLICK = """<script>(function () {
  var hit = nodes.get({filter: function (n) { return n.label === %s; }});
  if (hit.length) kgHighlight(hit[0].id);
})();</script>"""


def screenshot(page: Path, png: str, size: str, click: str | None, work: Path) -> None:
    if click:
        clicked = work / "clicked.html"
        clicked.write_text(page.read_text(encoding="utf-8").replace(
            "</body>", CLICK % json.dumps(click, ensure_ascii=False) + "</body>"), encoding="utf-8")
        page = clicked
    browser(work / "shot", f"--window-size={size}", "--hide-scrollbars", f"--timeout={WAIT_MS}",
            f"--screenshot={Path(png).resolve()}", page.as_uri())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", required=True, help="a built store")
    ap.add_argument("--view", default="bipartite", choices=("bipartite", "full"))
    ap.add_argument("--region", help="kg viz --region (name or code)")
    ap.add_argument("--page", help="where to write the page (default: a temporary file)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--screenshot", help="write a PNG of the first view here")
    ap.add_argument("--window-size", default="1600,1000")
    ap.add_argument("--click", help="the screenshot after a click on the node of this label")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kg-viz-bench-") as tmp:
        work = Path(tmp)
        page = Path(args.page) if args.page else work / "graph.html"
        seconds, wrote = kg_viz(args.store, page, args.view, args.region)
        draws = [drawn_ms(page, work / f"p{i}") for i in range(args.runs)]
        if args.screenshot:
            screenshot(page, args.screenshot, args.window_size, args.click, work)
        figures = {"store": args.store, "view": args.view, "region": args.region, "nodes": wrote["nodes"], "edges": wrote["edges"],
                   "left_out": wrote["left_out"], "page_bytes": page.stat().st_size, "kg_viz_s": round(seconds, 2),
                   "drawn_s": round(statistics.median(draws) / 1000, 2), "runs": args.runs}
    print(f"{figures['view']} view{' of ' + args.region if args.region else ''}: {figures['nodes']} nodes, {figures['edges']} edges"
          + (f" ({figures['left_out']} left out)" if figures["left_out"] else ""))
    print(f"page: {figures['page_bytes']:,} bytes")
    print(f"kg viz: {figures['kg_viz_s']} s")
    print(f"Chromium: drawn at {figures['drawn_s']} s after navigation start (median of {figures['runs']})")
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"viz-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
