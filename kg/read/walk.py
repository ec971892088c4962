"""The files to read under the paths a user gives: supported suffixes, no hidden entries, no
manifests, no FIFOs or devices, each directory once."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

TEXT_SUFFIXES = (".txt", ".text", ".md")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
SUPPORTED_SUFFIXES = frozenset(TEXT_SUFFIXES + HTML_SUFFIXES + (".docx", ".pdf"))


def iter_files(paths) -> Iterator[Path]:
    """The files to read under `paths` (files and/or directories).

    Directories are walked recursively in sorted order, keeping only supported suffixes
    and skipping hidden entries, manifest files (MANIFEST*, manifest.*) and FIFOs, sockets
    and devices (opening a FIFO blocks until a writer comes). Symlinks are
    followed, but each directory is entered once, so symlink loops end. A path given
    explicitly is yielded as is, even if it does not exist or has another suffix: the user
    asked for it, and read_file will say what is wrong with it.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    visited: set[tuple[int, int]] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            yield from _walk(p, visited)
        else:
            yield p


def _is_manifest(name: str) -> bool:
    return name.startswith("MANIFEST") or name.lower().startswith("manifest.")


def _walk(directory: Path, visited: set) -> Iterator[Path]:
    try:
        st = directory.stat()
    except OSError:
        yield directory
        return
    key = (st.st_dev, st.st_ino)
    if key in visited:                      # a symlink loop, or the same tree given twice
        return
    visited.add(key)
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        yield directory                     # read_file will say why it can't be read
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = directory / entry.name
        try:
            is_dir = entry.is_dir()         # follows symlinks; loops are caught above
        except OSError:
            is_dir = False
        if is_dir:
            yield from _walk(path, visited)
        elif (os.path.splitext(entry.name)[1].lower() in SUPPORTED_SUFFIXES
              and not _is_manifest(entry.name) and not _is_special(entry)):
            yield path


def _is_special(entry: os.DirEntry) -> bool:
    """A FIFO, socket or device (a FIFO named x.txt: opening it blocks until a writer comes,
    so it is no report). Broken symlinks are not special: read_file reports them."""
    try:
        if entry.is_file():                 # follows symlinks
            return False
        os.stat(entry.path)                 # raises for a broken symlink
        return True                         # there, and neither a file nor a directory
    except OSError:
        return False
