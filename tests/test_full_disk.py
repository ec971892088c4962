"""A build into a file system that fills up (issue 19): it stops at the first "no space left on
device" with one error line, its summary counts what the store really holds (as `kg stats` does),
and what it committed stays (the next build, with room again, finds it unchanged).

The file system is a small tmpfs, mounted for the test; where mounting is not permitted (not
root, a container without CAP_SYS_ADMIN) the tests are skipped.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures_hostile import ROOT, kg
from kg.store import Store

pytestmark = pytest.mark.slow

DOCS = ROOT / "tests" / "docs"
DISK = "100m"
# Kept on the disk while the build fills it, removed afterwards: room for the store to open again
# (RocksDB replays its log into table files when it opens, ~40 MB here).
BALLAST_MB = 45
SUMMARY = re.compile(r"^(\d+) document\(s\) built, (\d+) unchanged, (\d+) failed; (\d+) documents",
                     re.M)
STOPPED = re.compile(r"^error: no space left on device while writing (.+); (\d+) documents were "
                     r"written before it and are in the store", re.M)


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a {DISK} tmpfs here (needs root and CAP_SYS_ADMIN): "
                    f"{done.stderr.strip() or done.returncode}")
    try:
        ballast = mount_point / "ballast"
        ballast.write_bytes(b"\0" * (BALLAST_MB << 20))
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """More documents than the small disk holds (~110 fill it; a document is distinct content)."""
    out = tmp_path_factory.mktemp("generated")
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "400", "--out", str(out)],
                   check=True, capture_output=True, timeout=600)
    return out


def documents_in(store: Path, cwd: Path) -> int:
    done = kg("stats", "--store", store, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return int(re.search(r"^documents\s+(\d+)", done.stdout, re.M).group(1))


def fill(store: Path, cwd: Path, *paths) -> tuple[int, int, str]:
    """Build `paths` until the disk is full: (documents built, documents in the store, output)."""
    done = kg("build", *paths, "--store", store, "--no-progress", cwd=cwd)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out[-3000:]           # one line, not one per remaining file
    assert "skipped" not in out, out[-3000:]
    stopped = STOPPED.search(out)
    assert stopped, out[-3000:]
    built, unchanged, failed, total = map(int, SUMMARY.search(out).groups())
    assert int(stopped.group(2)) == built and failed == 0
    return built, total, out


def rebuild_unchanged(store: Path, cwd: Path, *paths) -> int:
    (store.parent / "ballast").unlink()
    done = kg("build", *paths, "--store", store, "--no-progress", cwd=cwd)
    out = done.stdout + done.stderr
    assert "Traceback" not in out, out[-3000:]
    return int(SUMMARY.search(out).group(2))


def test_a_used_store_filling_up_keeps_and_counts_what_it_committed(small_disk, generated, tmp_path):
    store = small_disk / "store"
    first = kg("build", DOCS, "--store", store, "--no-progress", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    built, total, out = fill(store, tmp_path, generated)
    assert 0 < built < 400, out                     # written atomically: some went in before
    assert total == built + len(list(DOCS.iterdir()))
    assert documents_in(store, tmp_path) == total
    assert rebuild_unchanged(store, tmp_path, DOCS, generated) == total


def test_a_bulk_load_filling_an_empty_store_leaves_no_half_document(small_disk, generated, tmp_path):
    store = small_disk / "store"
    built, total, out = fill(store, tmp_path, DOCS, generated)
    assert documents_in(store, tmp_path) == total == built     # nothing else was there
    assert not list(store.glob("bulk-*.sst"))       # the loader's unfinished file is gone
    assert rebuild_unchanged(store, tmp_path, DOCS, generated) == total
    with Store.open(store) as s:      # the load's graphs the catalog does not know are gone
        assert s.orphan_graphs() == []
