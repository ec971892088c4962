"""The Python API: what notebooks import and the CLI wraps.

    >>> import kg.api as kg
    >>> for record in kg.extract(["corpus"]): ...
"""
from __future__ import annotations

from dataclasses import dataclass

from . import pipeline, read


@dataclass
class Failure:
    """A file that could not be processed, with a one-line reason."""
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def iter_documents(paths):
    """Yield a processed Document, or a Failure, for every file under paths (never raises)."""
    for path in read.iter_files(paths):
        try:
            yield pipeline.process_file(path)
        except read.ReadError as e:
            yield Failure(str(path), e.reason)
        except Exception as e:  # a bug on one file must not lose the batch; say which file
            yield Failure(str(path), f"internal error: {type(e).__name__}: {e}")


def extract(paths):
    """Yield the JSON record of every document under paths, or a Failure."""
    for item in iter_documents(paths):
        yield item if isinstance(item, Failure) else pipeline.document_record(item)


def record_summary(record: dict) -> str:
    """A few readable lines about one extracted document."""
    loc = record.get("locality")
    where = (f"{loc['name']} ({loc['code']}, {loc['level']}; {loc.get('province') or ''}"
             f"{' / ' + loc['prefecture'] if loc.get('prefecture') and loc['prefecture'] != loc['name'] else ''})"
             if loc else f"unresolved — {record.get('locality_reason', '')}")
    lines = [f"{record['doc']}",
             f"  title    {record.get('title') or '—'}",
             f"  organ    {record.get('organ') or '—'}   year {record.get('year') or '—'}   "
             f"doctype {record.get('doctype')}",
             f"  locality {where}"]
    roles = {}
    for s in record.get("sections", []):
        if s["depth"] <= 2:
            roles.setdefault(s["role"], []).append(s["numbering"] + s["heading"][:18])
    for role, heads in roles.items():
        lines.append(f"  {role:<12} {'; '.join(heads[:4])}{' …' if len(heads) > 4 else ''}")
    statuses = {}
    for m in record.get("mechanism_statuses", []):
        statuses.setdefault(m["status"], []).append(m["notation"])
    for status, notations in sorted(statuses.items()):
        lines.append(f"  {status:<12} {' '.join(notations)}")
    lines.append(f"  {len(record.get('institutions', []))} institution mentions, "
                 f"{len(record.get('quantities', []))} figures, {len(record.get('obligations', []))} obligations, "
                 f"{len(record.get('candidates', []))} candidate terms")
    return "\n".join(lines)
