import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"


def seed(prefix: str) -> Path:
    return next(CORPUS.glob(prefix + "_*.txt"))


@pytest.fixture
def seed_path():
    return seed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def kg_server(store, *args):
    """`kg serve --store STORE ARGS…` on a free loopback port for the block; yields its base URL
    once it answers, and stops it (SIGINT, as a user's Ctrl-C) after."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kg", "serve", "--store", str(store), "--port", str(port),
                             *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/sparql?query=ASK%7B%7D", timeout=2) as r:
                if r.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail("kg serve did not start: " + (proc.stderr.read() if proc.stderr else ""))
        time.sleep(0.2)
    try:
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def oxigraph_server(tmp_path_factory):
    """A real `oxigraph serve` on 127.0.0.1 for the test module; yields its base URL."""
    exe = shutil.which("oxigraph")
    if exe is None:
        pytest.skip("the `oxigraph` server command is not installed (pip install oxigraph)")
    port = free_port()
    location = tmp_path_factory.mktemp("oxigraph-server")
    proc = subprocess.Popen([exe, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/query?query=ASK%7B%7D", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail(f"oxigraph server did not start: {proc.stderr.read()[:500]!r}")
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def built_corpus(tmp_path_factory, name: str) -> Path:
    """The bundled corpus built through the CLI into a new store of its own (a test module's:
    some of them add documents or records to it)."""
    from click.testing import CliRunner

    from kg.cli import main
    path = tmp_path_factory.mktemp(name) / "store"
    r = CliRunner().invoke(main, ["build", str(CORPUS), "--store", str(path), "--no-progress"])
    assert r.exit_code == 0, r.output
    return path
