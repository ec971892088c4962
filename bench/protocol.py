"""`kg serve` and `oxigraph serve` side by side: `python bench/protocol.py`.

Both servers run on 127.0.0.1 over an empty store with updates allowed, and get:
1. the 34 cases of the W3C SPARQL 1.1 Protocol manifest (tests/protocol/manifest.ttl), replayed
   by tests/protocol_manifest.py (Oxigraph's endpoints are /query and /update, so the
   manifest's /sparql/ is routed there);
2. the abuse list: SERVICE and LOAD aimed at a listener on 127.0.0.1 (does it get called?),
   a negative Content-Length, request headers that never end (is the connection closed within
   15 s?), a query that doubles a string 29 times (the server's peak memory), and an update posted
   as a form from another origin (is it carried out?).
Prints a table (and JSON with --json). `oxigraph` is the CLI of the PyPI package `oxigraph`.
"""
from __future__ import annotations

import argparse
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from protocol_manifest import is_update_request, load_cases, run_case, send  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("server exited")
            time.sleep(0.2)
    raise SystemExit("server did not start")


class Listener:
    def __init__(self):
        hits = self.hits = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(500)
                self.end_headers()
            do_POST = do_GET

            def log_message(self, *a):
                pass
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sparql"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def peak_rss_during(pid: int, action) -> int:
    peak, stop = [0], threading.Event()

    def sample():
        while not stop.is_set():
            try:
                with open(f"/proc/{pid}/statm") as f:
                    rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
                # kg's queries run in child processes (of any of its threads): add them
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as f:
                        for c in f.read().split():
                            with open(f"/proc/{c}/statm") as g:
                                rss += int(g.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
                peak[0] = max(peak[0], rss)
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    result = action()
    stop.set()
    t.join()
    return peak[0], result


def abuse(name: str, base: str, pid: int, query_path: str, update_path: str) -> dict:
    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
    out = {}
    li = Listener()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    q = f"SELECT * WHERE {{ SERVICE <{li.url}> {{ ?s ?p ?o }} }}"
    send(base, "POST", query_path, form, urllib.parse.urlencode({"query": q}).encode())
    send(base, "POST", update_path, form, urllib.parse.urlencode({"update": f"LOAD <{li.url}>"}).encode())
    time.sleep(0.5)
    out["SERVICE/LOAD called the listener"] = len(li.hits)
    li.httpd.shutdown()
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(f"POST {query_path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: "
                  f"application/sparql-query\r\nContent-Length: -1\r\nConnection: close\r\n\r\nASK {{}}".encode())
        try:
            reply = s.recv(100)
        except socket.timeout:
            reply = b"(no answer in 5 s)"
    out["Content-Length: -1"] = reply.split(b"\r\n")[0].decode("latin-1") or "(closed)"
    with socket.create_connection((host, port), timeout=20) as s:
        s.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
        t = time.time()
        try:
            closed = s.recv(10) == b""
        except (socket.timeout, ConnectionResetError):
            closed = False
        out["slow headers closed after s"] = round(time.time() - t, 1) if closed else "not within 20 s"
    doubling = 'SELECT (STRLEN(?s29) AS ?n) WHERE { BIND("xxxxxxxxxxxxxxxx" AS ?s0) ' + " ".join(
        f"BIND(CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(29)) + " }"
    def doubled():
        try:
            return send(base, "POST", query_path, form, urllib.parse.urlencode({"query": doubling}).encode())[0]
        except OSError:
            return "no answer in 30 s"
    peak, status = peak_rss_during(pid, doubled)
    out["CONCAT doubling: status, peak MB"] = f"{status}, {peak // 2**20}"
    before = send(base, "POST", query_path, form,
                  urllib.parse.urlencode({"query": "ASK { <urn:x> <urn:y> <urn:z> }"}).encode())[2]
    send(base, "POST", update_path, {**form, "Origin": "http://evil.example"},
         urllib.parse.urlencode({"update": "INSERT DATA { <urn:x> <urn:y> <urn:z> }"}).encode())
    after = send(base, "POST", query_path, {**form, "Accept": "application/sparql-results+json"},
                 urllib.parse.urlencode({"query": "ASK { <urn:x> <urn:y> <urn:z> }"}).encode())[2]
    out["cross-origin form update carried out"] = b"true" in after and b"true" not in before
    return out


def run_kg(work: Path) -> tuple[dict, dict]:
    from kg.store import Store
    store = work / "kg"
    Store.open(store).close()
    proc = subprocess.Popen([sys.executable, "-m", "kg", "serve", "--store", str(store), "--port", "0",
                             "--allow-update", "--max-query-memory", "1024"],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    base = proc.stderr.readline().split()[2].rstrip("/")
    try:
        setup = lambda u: send(base, "POST", "/sparql", {"Content-Type": "application/sparql-update"}, u.encode())  # noqa: E731
        results = {c.name: run_case(c, base, setup=setup) for c in load_cases()}
        return results, abuse("kg", base, proc.pid, "/sparql", "/sparql")
    finally:
        proc.terminate()
        proc.wait(20)


def run_oxigraph(work: Path) -> tuple[dict, dict]:
    exe = shutil.which("oxigraph")
    if not exe:
        raise SystemExit("no oxigraph CLI: pip install oxigraph")
    port = free_port()
    proc = subprocess.Popen([exe, "serve", "--location", str(work / "ox"), "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port, proc)
    base = f"http://127.0.0.1:{port}"

    def route(req) -> str:
        query = req.path.split("?", 1)[1] if "?" in req.path else ""
        path = "/update" if is_update_request(req) else "/query"
        return path + ("?" + query if query else "")
    try:
        setup = lambda u: send(base, "POST", "/update", {"Content-Type": "application/sparql-update"}, u.encode())  # noqa: E731
        results = {c.name: run_case(c, base, route, setup=setup) for c in load_cases()}
        return results, abuse("oxigraph", base, proc.pid, "/query", "/update")
    finally:
        proc.terminate()
        proc.wait(20)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kg-bench-protocol-") as work:
        kg_results, kg_abuse = run_kg(Path(work))
        ox_results, ox_abuse = run_oxigraph(Path(work))
    if args.json:
        print(json.dumps({"kg": [kg_results, kg_abuse], "oxigraph": [ox_results, ox_abuse]}, indent=1))
        return
    print(f"{'W3C protocol case':40} {'kg serve':10} {'oxigraph serve':10}")
    for name in kg_results:
        print(f"{name:40} {'pass' if kg_results[name] is None else 'FAIL':10} "
              f"{'pass' if ox_results[name] is None else 'FAIL':10}")
    print(f"{'passed':40} {sum(v is None for v in kg_results.values())}/34{'':5} "
          f"{sum(v is None for v in ox_results.values())}/34")
    print()
    print(f"{'abuse':40} {'kg serve':24} {'oxigraph serve':24}")
    for key in kg_abuse:
        print(f"{key:40} {str(kg_abuse[key]):24} {str(ox_abuse[key]):24}")
    for name in kg_results:
        for who, res in (("kg", kg_results), ("oxigraph", ox_results)):
            if res[name]:
                print(f"  {who} {name}: {res[name][:160]}")


if __name__ == "__main__":
    main()
