"""The audit matrix page's benchmark: `python bench/matrix.py --store DIR [--runs 3] [--screenshot PNG]`.

On a built store (e.g. 10,000 generated documents: bench/generate.py, then kg build) it measures:

1. `kg audit --all --format html -o PAGE` (records not written): wall seconds;
2. the page's bytes — the whole first view, as the page loads nothing else;
3. in headless Chromium, `--runs` times: the page's own clock (ms since navigation start) when
   its script had drawn the first rows and attached its handlers (`data-ready`, the page is
   interactive) and the frame after (`data-painted`), read from --dump-dom; and the wall seconds
   of the browser process, against the same for an empty page (the browser's own start-up);
4. a text filter, a sort and a status filter over every region, timed by the page's clock;
5. with --screenshot PNG: a screenshot of the first view (--window-size).

Prints the figures and writes bench/out/matrix-<time>.json.
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
# the browser's wait before dumping the page: long enough for the frame after the first rows
DUMP_AFTER_MS = 4000


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        sys.exit("no chromium on PATH")
    return exe


def browser(profile: Path, *args: str) -> tuple[float, str]:
    """Run headless Chromium with `args`: its wall seconds and stdout."""
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", *args]
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, timeout=300)
    return time.perf_counter() - t, done.stdout.decode("utf-8", "replace")


def audit_page(store: str, page: Path) -> float:
    t = time.perf_counter()
    subprocess.run(["kg", "audit", "--all", "--format", "html", "-o", str(page), "--store", store, "--no-record"],
                   check=True)
    return time.perf_counter() - t


def page_clock(dom: str) -> dict:
    """The page's data-* figures on its <html> element."""
    tag = re.search(r"<html[^>]*>", dom)
    return {k: int(v) for k, v in re.findall(r'data-(ready|painted|rows)="(\d+)"', tag.group(0) if tag else "")}


# a reader's first actions, each timed by the page's clock: a filter, a sort, a status filter
ACTIONS = """<script>(function () {
  function timed(name, f) { var t = performance.now(); f();
    document.documentElement.setAttribute("data-" + name, String(Math.round(performance.now() - t))); }
  timed("filter", function () { kgMatrix.set({q: "县"}); });
  timed("sort", function () { kgMatrix.set({q: "", sort: 0, dir: 1}); });
  timed("status", function () { kgMatrix.set({st: "none", within: 0}); });
})();</script>"""


def actions(page: Path, work: Path) -> dict:
    """ms of a text filter, a sort and a status filter over every region, the page's clock."""
    acting = work / "actions.html"
    acting.write_text(page.read_text(encoding="utf-8").replace("</body>", ACTIONS + "</body>"), encoding="utf-8")
    tag = re.search(r"<html[^>]*>", browser(work / "acts", "--dump-dom", acting.as_uri())[1])
    return {f"{k}_ms": int(v) for k, v in re.findall(r'data-(filter|sort|status)="(\d+)"', tag.group(0) if tag else "")}


def in_browser(page: Path, runs: int, work: Path) -> dict:
    blank = work / "blank.html"
    blank.write_text("<!DOCTYPE html><title>blank</title>", encoding="utf-8")
    timeout = f"--timeout={DUMP_AFTER_MS}"
    blank_s = [browser(work / f"p-blank{i}", "--dump-dom", blank.as_uri())[0] for i in range(runs)]
    ready, painted, wall, rows = [], [], [], 0
    for i in range(runs):
        seconds, dom = browser(work / f"p{i}", "--dump-dom", page.as_uri())
        wall.append(seconds)
        clock = page_clock(browser(work / f"q{i}", timeout, "--dump-dom", page.as_uri())[1])
        if "ready" not in clock:
            sys.exit("the page never set data-ready: its script failed")
        ready.append(clock["ready"])
        painted.append(clock.get("painted", 0))
        rows = len(re.findall(r'<tr data-i="\d+"', dom))
    return {"ready_ms": statistics.median(ready), "painted_ms": statistics.median(painted),
            "browser_s": round(statistics.median(wall), 2), "blank_browser_s": round(statistics.median(blank_s), 2),
            "rows_drawn": rows, "runs": runs}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", required=True, help="a built store")
    ap.add_argument("--page", help="where to write the page (default: a temporary file)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--screenshot", help="write a PNG of the first view here")
    ap.add_argument("--window-size", default="1600,1000")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kg-matrix-bench-") as tmp:
        work = Path(tmp)
        page = Path(args.page) if args.page else work / "audit.html"
        audit_s = audit_page(args.store, page)
        figures = {"store": args.store, "page_bytes": page.stat().st_size, "audit_s": round(audit_s, 2),
                   **in_browser(page, args.runs, work), **actions(page, work)}
        if args.screenshot:
            browser(work / "shot", f"--window-size={args.window_size}", "--hide-scrollbars", timeout_arg(),
                    f"--screenshot={Path(args.screenshot).resolve()}", page.as_uri())
    print(f"page: {figures['page_bytes']:,} bytes (the whole first view)")
    print(f"kg audit --all --format html: {figures['audit_s']} s")
    print(f"Chromium: interactive (first {figures['rows_drawn']} region rows drawn, handlers on) at {figures['ready_ms']} ms "
          f"after navigation start, painted at {figures['painted_ms']} ms; browser process {figures['browser_s']} s "
          f"(an empty page: {figures['blank_browser_s']} s); median of {figures['runs']}")
    print("a filter, a sort, a status filter over every region: "
          + ", ".join(f"{figures.get(k + '_ms', '?')} ms" for k in ("filter", "sort", "status")))
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"matrix-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


def timeout_arg() -> str:
    return f"--timeout={DUMP_AFTER_MS // 4}"


if __name__ == "__main__":
    sys.exit(main())
