"""`kg serve` attacked from outside: each rule of what a request may not do, tried with the attack.

Every server here is a real `kg serve` subprocess on 127.0.0.1; the attacks are sent with raw
sockets where an HTTP library would refuse to send them (a negative Content-Length, headers that
never end). Each test also shows that the thing refused works when it should (an allowed update,
SERVICE with --allow-service), so that a test cannot pass by the server refusing everything.
"""
from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from kg import api
from conftest import built_corpus

ROOT = Path(__file__).resolve().parent.parent
COUNT_DOCS = "SELECT (COUNT(*) AS ?n) WHERE { ?d a kg:Document }"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return built_corpus(tmp_path_factory, "serve-sec")


class Server:
    """A `kg serve` subprocess; stopped when the test's module is done with it."""

    def __init__(self, store, *args):
        self.proc = subprocess.Popen([sys.executable, "-m", "kg", "serve", "--store", str(store),
                                      "--port", "0", "--workers", "2", *args],
                                     cwd=ROOT, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        if "http://" not in line:
            self.proc.kill()
            raise RuntimeError("kg serve did not start: " + line + self.proc.stderr.read())
        self.url = line.split()[2].rstrip("/")
        netloc = urllib.parse.urlsplit(self.url).netloc
        self.host, self.port = netloc.rsplit(":", 1)[0], int(netloc.rsplit(":", 1)[1])

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def servers(store):
    started = []

    def start(*args):
        s = Server(store, *args)
        started.append(s)
        return s
    yield start
    for s in started:
        s.stop()


@pytest.fixture(scope="module")
def plain(servers):
    return servers("--timeout", "5", "--max-request-bytes", "20000", "--header-timeout", "1",
                   "--max-query-memory", "300")


def request(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def form(url, **fields):
    return request(url + "/sparql", urllib.parse.urlencode(fields).encode(),
                   {"Content-Type": "application/x-www-form-urlencoded"})


def raw(server, data: bytes, wait: float = 5.0) -> bytes:
    """Send raw bytes, return what comes back until the server closes or `wait` passes."""
    with socket.create_connection((server.host, server.port), timeout=wait) as s:
        s.sendall(data)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
    return out


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0


def one_line_body(body: bytes) -> bool:
    return body.strip() and b"\n" not in body.strip()


# ------------------------------------------------------------------ files are never read

@pytest.mark.parametrize("name", ["/etc/passwd", "/proc/self/environ", "../../../../etc/passwd",
                                  "queries/matrix.rq", str(ROOT / "queries" / "matrix.rq"), "matrix.rq"])
def test_a_query_name_is_never_a_path(plain, name):
    status, headers, body = request(plain.url + "/query?" + urllib.parse.urlencode({"name": name}))
    assert status == 404
    assert b"root:" not in body and b"PATH=" not in body and b"SELECT" not in body
    assert "Access-Control-Allow-Origin" not in headers    # pages are not for other origins
    # the catalog's own name is shown, as it should be
    status, _, body = request(plain.url + "/query?name=matrix")
    assert status == 200 and b"matrix" in body


# ------------------------------------------------------------------ no outbound calls

class Listener:
    """A loopback HTTP server that records every request it gets (the SSRF target)."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                hits.append(self.path)
                self.send_response(500)
                self.end_headers()
            do_GET = do_POST

            def log_message(self, *a):
                pass
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sparql"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def listener():
    li = Listener()
    yield li
    li.close()


def service_queries(target):
    return [f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
            f"select * where {{ service silent <{target}> {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ \\u0053ERVICE <{target}> {{ ?s ?p ?o }} }}",      # §19.2 escape
            f"SELECT * WHERE {{ BIND(<{target}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}"]


def test_service_is_refused_and_nothing_is_called(plain, listener):
    for q in service_queries(listener.url):
        for status, _, body in (request(plain.url + "/sparql?" + urllib.parse.urlencode({"query": q})),
                                form(plain.url, query=q)):
            assert status == 400 and b"--allow-service" in body and one_line_body(body)
    time.sleep(0.3)
    assert listener.hits == []
    # words that only look like the keyword are not refused
    q = 'SELECT ?service WHERE { BIND("SERVICE" AS ?service) } # SERVICE'
    assert request(plain.url + "/sparql?" + urllib.parse.urlencode({"query": q}))[0] == 200


def test_service_calls_out_only_when_the_operator_allows_it(servers, listener):
    open_server = servers("--allow-service")
    status, _, _ = form(open_server.url, query=service_queries(listener.url)[1])
    assert listener.hits, "with --allow-service the engine calls the service"


def test_load_is_refused_even_with_updates_allowed(servers, listener):
    s = servers("--allow-update")
    for text in (f"LOAD <{listener.url}>", f"LOAD SILENT <{listener.url}> INTO GRAPH <urn:g>",
                 "LOAD <file:///etc/passwd>"):
        status, _, body = form(s.url, update=text)
        assert status == 400 and b"LOAD" in body
    time.sleep(0.3)
    assert listener.hits == []


# ------------------------------------------------------------------ hostile lengths and bodies

def test_negative_duplicate_and_missing_lengths(plain):
    body = b"query=ASK%7B%7D"
    head = f"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1:{plain.port}\r\n" \
           f"Content-Type: application/x-www-form-urlencoded\r\n".encode()
    assert status_of(raw(plain, head + b"Content-Length: -1\r\n\r\n" + body)) == 400
    assert status_of(raw(plain, head + b"Content-Length: 15\r\nContent-Length: 16\r\n\r\n" + body)) == 400
    assert status_of(raw(plain, head + b"Content-Length: abc\r\n\r\n" + body)) == 400
    assert status_of(raw(plain, head + b"Connection: close\r\n\r\n" + body)) == 411
    assert status_of(raw(plain, head + b"Content-Length: 999999999\r\n\r\n" + body)) == 413
    ok = raw(plain, head + b"Content-Length: 15\r\nConnection: close\r\n\r\n" + body)
    assert status_of(ok) == 200 and b"true" in ok


def test_a_chunked_body_is_counted_as_it_comes(plain):
    chunk = b"x" * 8000
    head = f"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1:{plain.port}\r\n" \
           f"Content-Type: application/sparql-query\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5)) + b"0\r\n\r\n"
    assert status_of(raw(plain, head + body)) == 413
    q = b"ASK {}"
    ok = raw(plain, head.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
             + b"%x\r\n%s\r\n0\r\n\r\n" % (len(q), q))
    assert status_of(ok) == 200


def test_a_body_that_trickles_in_is_cut_off(plain):
    with socket.create_connection((plain.host, plain.port), timeout=10) as s:
        s.sendall(f"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1:{plain.port}\r\n"
                  f"Content-Type: application/sparql-query\r\nContent-Length: 100\r\n\r\nASK".encode())
        t = time.time()
        reply = s.recv(4096)
        assert status_of(reply) == 408 and time.time() - t < 5


# ------------------------------------------------------------------ slow headers

def test_headers_that_never_end_are_closed(plain):
    with socket.create_connection((plain.host, plain.port), timeout=10) as s:
        s.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        t = time.time()
        assert s.recv(4096) == b""                       # closed by the server
        assert time.time() - t < 5


def test_many_slow_connections_do_not_lock_out_a_client(plain):
    socks = []
    try:
        for _ in range(300):
            s = socket.create_connection((plain.host, plain.port), timeout=10)
            s.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
            socks.append(s)
        status, _, body = request(plain.url + "/sparql?" + urllib.parse.urlencode({"query": COUNT_DOCS}))
        assert status == 200
        time.sleep(2)                                    # past the 1 s header timeout
        closed = 0
        for s in socks:
            s.settimeout(0.5)
            try:
                closed += s.recv(10) == b""
            except (socket.timeout, ConnectionResetError):
                closed += 1
        assert closed == len(socks)
    finally:
        for s in socks:
            s.close()


# ------------------------------------------------------------------ memory

def test_a_query_over_the_memory_cap_is_stopped(plain):
    # Each BIND doubles a string: 2^28 characters ~ 0.5 GB, past the 300 MB cap.
    q = 'SELECT (STRLEN(?s28) AS ?n) WHERE { BIND("xxxxxxxxxxxxxxxx" AS ?s0) ' + " ".join(
        f"BIND(CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(28)) + " }"
    t = time.time()
    status, _, body = form(plain.url, query=q)
    assert status == 503 and b"memory cap of 300 MB" in body
    assert time.time() - t < 5
    time.sleep(2)    # the worker's replacement starts
    assert request(plain.url + "/sparql?" + urllib.parse.urlencode({"query": "ASK {}"}))[0] == 200


# ------------------------------------------------------------------ updates: origin and token

@pytest.fixture
def writable(store, tmp_path):
    """A server with --allow-update on a copy of the store (stopped by the test to read it)."""
    import shutil
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    server = Server(copy, "--allow-update")
    yield server, copy
    server.stop()


def triple_count(path):
    with api.open_store(path, read_only=True) as s:
        return s.triple_count()


def test_cross_origin_updates_are_refused(writable):
    server, path = writable
    try:
        before = triple_count(path)
        for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                        {"Sec-Fetch-Site": "cross-site"},
                        {"Origin": f"http://127.0.0.1:{server.port + 1}"}):
            status, _, body = request(server.url + "/sparql", b"update=DROP%20ALL",
                                      {"Content-Type": "application/x-www-form-urlencoded", **headers})
            assert status == 403 and b"another origin" in body
        assert triple_count(path) == before
        # the same update from this origin (or from a client that is no browser) is carried out
        status, _, _ = request(server.url + "/sparql", b"update=INSERT%20DATA%20%7B%3Curn%3Aa%3E%20%3Curn%3Ab%3E%20%3Curn%3Ac%3E%7D",
                               {"Content-Type": "application/x-www-form-urlencoded",
                                "Origin": f"http://127.0.0.1:{server.port}"})
        assert status == 204
    finally:
        server.stop()
    # the triple, and the matrix summary's mark that documents may have changed (kg.summary)
    assert triple_count(path) == before + 2


def test_updates_need_the_token_when_one_is_set(store, tmp_path):
    import shutil
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    server = Server(copy, "--allow-update", "--update-token", "s3cret")
    try:
        update = b"INSERT DATA { <urn:a> <urn:b> <urn:c> }"
        ctype = {"Content-Type": "application/sparql-update"}
        assert request(server.url + "/sparql", update, ctype)[0] == 401
        assert request(server.url + "/sparql", update, {**ctype, "Authorization": "Bearer wrong"})[0] == 401
        assert request(server.url + "/sparql", update, {**ctype, "Authorization": "Bearer s3cret"})[0] == 204
    finally:
        server.stop()


# ------------------------------------------------------------------ user errors: 4xx, one line

@pytest.mark.parametrize("path,status", [
    ("/region/" + urllib.parse.quote("不存在的地方"), 404),
    ("/region/" + urllib.parse.quote("x\ny"), 404),
    ("/graph?" + urllib.parse.urlencode({"mechanism": "no-such-mechanism"}), 400),
    ("/graph?" + urllib.parse.urlencode({"status": "bogus"}), 400),
    ("/matrix?page=x", 400),
    ("/matrix?" + urllib.parse.urlencode({"region": "不存在的地方"}), 404),
    ("/no/such/page", 404),
])
def test_user_errors_are_4xx_pages_with_one_line(plain, path, status):
    got, headers, body = request(plain.url + path)
    assert got == status
    assert headers["Content-Type"].startswith("text/html")
    import re
    message = re.search(rb'<p class="err">(.*?)</p>', body, re.S).group(1)
    assert b"\n" not in message and b"Traceback" not in body


def test_sparql_errors_are_4xx_with_one_line(plain):
    cases = [(plain.url + "/sparql?" + urllib.parse.urlencode({"query": "SELECT * WHERE {\n?s ?p\n"}), 400),
             (plain.url + "/sparql?" + urllib.parse.urlencode({"query": "SELECT * WHERE { ?s ?p ?o }"}), 400),   # over the row cap
             (plain.url + "/sparql?" + urllib.parse.urlencode({"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 9"}), 200),
             (plain.url + "/sparql?query=ASK%7B%7D&query=ASK%7B%7D", 400)]
    for url, status in cases:
        got, _, body = request(url)
        assert got == status
        if status != 200:
            assert one_line_body(body)
    got, _, _ = request(plain.url + "/sparql", method="PUT", data=b"x")
    assert got == 405


def test_a_host_of_another_name_is_refused(plain):
    """DNS rebinding: a page on evil.example whose name now points at 127.0.0.1."""
    reply = raw(plain, f"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: evil.example:{plain.port}\r\n"
                       f"Connection: close\r\n\r\n".encode())
    assert status_of(reply) == 400
    reply = raw(plain, f"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: localhost:{plain.port}\r\n"
                       f"Connection: close\r\n\r\n".encode())
    assert status_of(reply) == 200


# ------------------------------------------------------------------ fair shares

def test_a_long_query_does_not_hold_up_short_ones(plain):
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    done = []
    t = threading.Thread(target=lambda: done.append(form(plain.url, query=slow)[0]))
    t.start()
    time.sleep(0.8)                                     # the long one is running (and lowered)
    for _ in range(10):
        status, _, body = request(plain.url + "/sparql?" + urllib.parse.urlencode({"query": COUNT_DOCS}))
        assert status == 200 and b'"5"' in body
    assert not done, "the long query was still running while the short ones were answered"
    t.join(30)
    assert done == [503]
