"""Overrides: `kg extract|build --locality X` and a corpus MANIFEST.tsv's `locality` column, for
files whose text does not say where they come from (a page cut from its portal)."""
from __future__ import annotations

import re
from functools import lru_cache

from ..document import Locality, LocalityResolution
from ..errors import KgError
from .names import lookup_region, parse_chain
from .table import NATION_CODE, divisions, nation, nation_names
from .townships import locality_with_township


class UnknownDivision(KgError, ValueError):
    """An override that names no one division (unknown, or several bear the name)."""


_override: str | None = None


def set_override(value: str | None) -> None:
    """Give every document resolved in this process the locality `value` (a name, a chain
    such as 丰都县栗子乡, a 6/9/12-digit code, or 全国); None to stop. Set before
    worker processes are forked, it holds in them too."""
    global _override
    if value is not None and parse_override(value) is None:
        raise UnknownDivision(f"no division {value!r} (give a name, a chain such as 宁波市江北区, or a code)")
    _override = value


def parse_override(value: str) -> Locality | None:
    """The one locality an override names, or None (unknown or ambiguous)."""
    idx = divisions()
    q = re.sub(r"\s+", "", value or "")
    if not q:
        return None
    if q in nation_names() or q in (NATION_CODE, "100000"):
        return nation()
    if q.isdigit():
        return idx.by_code(q)
    chain = parse_chain(q, 0)
    if chain.codes and chain.township and chain.end == len(q):   # 丰都县栗子乡, 西湖区留下街道
        towns = [t for c in chain.codes for t in idx.townships_under(c, chain.township)]
        if len(towns) == 1:
            return idx.township(towns[0])
        return locality_with_township(chain.codes[0], chain.township) if len(chain.codes) == 1 else None
    found = lookup_region(q)
    if len(found) == 1:
        return found[0]
    towns = idx.townships_named(q)
    return idx.township(towns[0]) if len(towns) == 1 else None


@lru_cache(maxsize=64)
def _manifest(directory: str, mtime: float) -> dict:
    """file name → locality from a MANIFEST.tsv with a `locality` column."""
    import csv
    import os
    out = {}
    with open(os.path.join(directory, "MANIFEST.tsv"), encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t")
        if "locality" not in (rows.fieldnames or ()):
            return {}
        for row in rows:
            if row.get("file") and (row.get("locality") or "").strip():
                out[row["file"].strip()] = row["locality"].strip()
    return out


def manifest_locality(path) -> str | None:
    """The locality a corpus MANIFEST.tsv beside `path` gives the file, if any."""
    import os
    directory = os.path.dirname(os.path.abspath(str(path)))
    manifest = os.path.join(directory, "MANIFEST.tsv")
    try:
        mtime = os.path.getmtime(manifest)
    except OSError:
        return None
    return _manifest(directory, mtime).get(os.path.basename(str(path)))


def _overridden(value: str, where: str) -> LocalityResolution:
    loc = parse_override(value)
    if loc is None:
        return LocalityResolution(locality=None, reason=f"{where} gives {value!r}, which names no one division")
    return LocalityResolution(locality=loc, reason=f"{where} gives {loc.name} ({getattr(loc, 'township_code', '') or loc.code})",
                              evidence=f'{where} "{value}"')


def forced(header: dict | None) -> LocalityResolution | None:
    """The resolution `--locality` (set_override) or a MANIFEST's locality (header["locality"])
    imposes, if either does: they come before anything the text says."""
    if _override is not None:
        return _overridden(_override, "--locality")
    if header and header.get("locality"):
        return _overridden(str(header["locality"]), "MANIFEST.tsv")
    return None
