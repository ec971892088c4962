"""The division table (GB/T 2260, package data kg/data/divisions.tsv.gz) and its index: codes,
names and short names, levels, parents, townships and functional zones, and a matcher over
every name."""
from __future__ import annotations

import gzip
import importlib.resources
import itertools
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

import ahocorasick

from ..document import Locality
from ..offsets import Utf8Text, utf8_key
from ..read.cues import cue_words


@dataclass
class Township(Locality):
    """A 街道/镇/乡 as a locality. As for every township Locality, `code` and `parents` are its
    county's (the level above it); the township's own 9-digit code is `township_code`."""
    township_code: str = ""


DEPTH = {"nation": 0, "province": 1, "prefecture": 2, "county": 3, "township": 4}

_LEVELS = {"1": "province", "2": "prefecture", "3": "county", "4": "township", "5": "zone"}

# Level suffixes (ontology/places.ttl, kg:LevelSuffixScheme), longest first, for short names
# (乳山市 → 乳山, 迪庆藏族自治州 → 迪庆).
def level_suffixes() -> tuple[str, ...]:
    return cue_words("places.ttl", "LevelSuffixScheme")


# Stems that are ordinary words first and place names second (ontology/places.ttl,
# kg:CommonWordStemScheme: 和平, 合作, 会同 …). Such a stem is only believed where the genre uses a
# place name: 法治X, X市委, X人民政府, after its parent (宁波江北) … never by mere occurrence.
# County-level stems of two characters get that treatment anyway (see `Alias.strong`); the list
# is about the province/prefecture stems and the longer ones, which are otherwise counted
# wherever they stand.
@lru_cache(maxsize=1)
def common_word_stems() -> frozenset:
    return frozenset(cue_words("places.ttl", "CommonWordStemScheme"))


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str
    parent: str | None          # None for provinces
    suffix: str                 # the character 我X/全X use for it: 市, 县, 区, 州 …
    until: str | None = None    # a former division: the last year-end it existed


@dataclass(frozen=True)
class Alias:
    """One surface form and the divisions it may name."""
    text: str
    codes: tuple                # candidate codes, most plausible level only for bare stems
    kind: str                   # full | short (迪庆州, 维西县) | stem (乳山, 江北)
    strong: bool                # counted wherever it occurs (else only where the genre anchors it)


def _data_text(name: str) -> str:
    """A file of kg/data (package data), as text."""
    ref = importlib.resources.files("kg") / "data" / name
    raw = ref.read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def _suffix_char(name: str) -> str:
    for long, char in (("特别行政区", "区"), ("自治区", "区"), ("自治州", "州"), ("自治县", "县"),
                       ("自治旗", "旗"), ("地区", "区")):
        if name.endswith(long):
            return char
    return name[-1]


def _strip_ethnic(stem: str, ethnic: list[str]) -> str:
    """迪庆藏族 → 迪庆, 黔西南布依族苗族 → 黔西南, 伊犁哈萨克 → 伊犁; 内蒙古 stays."""
    changed = True
    while changed:
        changed = False
        for e in ethnic:
            bare = e[:-1]
            for form in (e, bare) if len(bare) >= 2 else (e,):
                if stem.endswith(form) and len(stem) - len(form) >= 2:
                    stem = stem[: -len(form)]
                    changed = True
                    break
            if changed:
                break
    return stem


def _short_forms(name: str, ethnic: list[str]) -> list[tuple[str, str]]:
    """(form, kind) pairs: bare stems and suffixed short names of a full name."""
    out: list[tuple[str, str]] = []
    if name.endswith(("群岛", "海域")):
        return out
    for suf in level_suffixes():
        if not name.endswith(suf):
            continue
        stem = name[: -len(suf)]
        if suf in ("林区",) and len(stem) < 3:        # 万柏林区 is 万柏林 + 区, not 万柏 + 林区
            continue
        if suf == "新区" and len(stem) < 2:           # 清新区 is 清新 + 区
            continue
        if suf.startswith("自治"):
            stem = _strip_ethnic(stem, ethnic)
            if suf in ("自治州", "自治县", "自治旗") and len(stem) >= 2:
                out.append((stem + suf[-1], "short"))  # 迪庆州, 维西县
        if len(stem) >= 2 and stem != name:
            out.append((stem, "stem"))
        break
    return out


class Divisions:
    """The division index: code ↔ name, levels, parents, and a matcher over all names."""

    def __init__(self, rows: Iterable[tuple[str, str, str, str, str]], ethnic: list[str],
                 townships: Callable[[], Iterable[tuple[str, str, str, str, str]]] | None = None):
        """rows: (code, name, parent code or "", level name, until or ""). Townships are kept
        apart: they are looked up by name where a text names one, never scanned for in every
        body. `townships` gives more township rows when they are first wanted: a command that
        only resolves a region's name never reads the ~39,000 of the table."""
        self._div: dict[str, Division] = {}
        self._town_rows: list[tuple[str, str]] = []           # (code, name, parent) given in rows
        self._more_towns = townships
        self._town_index: tuple[dict, dict] | None = None
        self._town_automaton = None
        self._zone: dict[str, tuple[str, str]] = {}           # functional zone code → (name, parent)
        for code, name, parent, level, until in rows:
            if level == "zone":
                self._zone[code] = (name, parent)
                continue
            if level == "township":
                self._town_rows.append((code, name, parent))
                continue
            self._div[code] = Division(code, name, level, parent or None, _suffix_char(name), until or None)

        self._children: dict[str, list[str]] = defaultdict(list)
        for d in self._div.values():
            if d.parent:
                self._children[d.parent].append(d.code)

        # surface form → [(code, kind)]
        forms: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for d in self._div.values():
            forms[d.name].append((d.code, "full"))
            for form, kind in _short_forms(d.name, ethnic):
                forms[form].append((d.code, kind))
        # every division a form may name, at any level (江北 → both 江北区; 朝阳 → 市, 县, 区 …)
        self._every: dict[str, tuple] = {f: tuple(sorted({c for c, _ in e})) for f, e in forms.items()}

        self.aliases: dict[str, Alias] = {}
        for form, entries in forms.items():
            named = [c for c, k in entries if k != "stem"]
            if named:
                codes = tuple(sorted(set(named)))
                kind = "full" if any(k == "full" for _, k in entries) else "short"
            else:
                # a bare stem names the highest division that bears it: 吉林 is the province,
                # 山东 the province; 朝阳 (市, 区, 县) the prefecture 朝阳市
                stems = sorted(set(c for c, _ in entries))
                top = min(DEPTH[self._div[c].level] for c in stems)
                codes = tuple(c for c in stems if DEPTH[self._div[c].level] == top)
                kind = "stem"
            self.aliases[form] = Alias(form, codes, kind, self._is_strong(form, kind, codes))

        # every alias, by full and bare forms at once; leftmost-longest scanning, keyed on
        # UTF-8 bytes for speed (see kg.offsets.Utf8Text)
        self._automaton = ahocorasick.Automaton()
        for form, alias in self.aliases.items():
            self._automaton.add_word(utf8_key(form), alias)
        self._automaton.make_automaton()
        self.max_len = max(len(f) for f in self.aliases)

    def _is_strong(self, form: str, kind: str, codes: tuple) -> bool:
        if form in common_word_stems():
            return False
        if kind == "full":
            # two-character names are words or word pieces first: 城区, 郊区, 和县 (市和县级), 代县
            return len(form) >= 3
        if kind == "short":
            return True
        # bare stems: provinces and prefectures are named bare all the time (浙江, 宁波); a bare
        # county stem of two characters is too often a common word (江北, 朝阳, 会同)
        return len(form) >= 3 or any(self._div[c].level != "county" for c in codes)

    # -- public look-ups ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._div)

    def __contains__(self, code: str) -> bool:
        return code6(code) in self._div

    def codes(self) -> list[str]:
        return sorted(self._div)

    def by_code(self, code: str) -> Locality | None:
        """The division with this 6-, 9- or 12-digit code (a 9/12-digit township code gives
        the township)."""
        t = code9(code)
        if t is not None:
            return self.township(t) if t in self._town else None
        c = code6(code)
        if c in self._zone:
            return self.zone(c)
        return self.locality(c) if c in self._div else None

    # -- townships (街道/镇/乡/苏木) -------------------------------------------------------------

    @property
    def _town(self) -> dict[str, tuple[str, str]]:
        """9-digit code → (name, parent code)."""
        return (self._town_index or self._index_townships())[0]

    @property
    def _towns_named(self) -> dict[str, list[str]]:
        """name → 9-digit codes."""
        return (self._town_index or self._index_townships())[1]

    def _index_townships(self) -> tuple[dict, dict]:
        town: dict[str, tuple[str, str]] = {}
        named: dict[str, list[str]] = defaultdict(list)
        more = ((code, name, parent) for code, name, parent, level, _ in self._more_towns()
                if level == "township") if self._more_towns else ()
        for code, name, parent in itertools.chain(self._town_rows, more):
            town[code] = (name, parent)
            named[name].append(code)
        self._town_index = (town, named)     # two threads may both build it: the same index
        return self._town_index

    def township(self, code: str) -> "Township":
        """A township as a Locality: its county (or, under 东莞/中山/儋州/嘉峪关, prefecture)
        gives `code` and the chain; the township's own 9-digit code is `township_code`."""
        name, parent = self._town[code]
        up = self.locality(parent)
        return Township(name=name, code=up.code, level="township", province=up.province,
                        prefecture=up.prefecture if up.level == "county" else up.name,
                        county=up.name if up.level == "county" else None,
                        parents=up.parents + [(up.code, up.name, up.level)], township_code=code)

    def townships_named(self, name: str) -> list[str]:
        """9-digit codes of every township with this full name (城关镇: hundreds)."""
        return list(self._towns_named.get(name, ()))

    def townships_under(self, code: str, name: str | None = None) -> list[str]:
        """Townships lying under a division (by name, if given)."""
        codes = self._towns_named.get(name, ()) if name is not None else self._town
        return [t for t in codes if self.is_ancestor(code, self._town[t][1]) or self._town[t][1] == code]

    def scan_townships(self, text: str):
        """(start, end, name) for every leftmost-longest township name of 3+ characters in
        text. The automaton is built at the first call: most documents never need it."""
        if self._town_automaton is None:
            a = ahocorasick.Automaton()
            for name in self._towns_named:
                if len(name) >= 3:
                    a.add_word(utf8_key(name), name)
            a.make_automaton()
            self._town_automaton = a
        encoded = Utf8Text(text)
        for end, name in self._town_automaton.iter_long(encoded.view):
            e = encoded.char_offset(end + 1)
            yield e - len(name), e, name

    def zone_at(self, s: str, pos: int, under: tuple = ()) -> str | None:
        """The code of the county-level functional zone (西洞庭管理区) whose name starts at pos,
        lying under one of `under` if given; None if none or several."""
        found = [c for c, (name, parent) in self._zone.items() if s.startswith(name, pos)
                 and (not under or any(parent == u or self.is_ancestor(u, parent) for u in under))]
        if not found:
            return None
        longest = max(len(self._zone[c][0]) for c in found)
        found = [c for c in found if len(self._zone[c][0]) == longest]
        return found[0] if len(found) == 1 else None

    def zone(self, code: str) -> Locality:
        """A functional zone as a county-level Locality under its prefecture (statistical code)."""
        name, parent = self._zone[code]
        up = self.locality(parent)
        return Locality(name=name, code=code, level="county", province=up.province,
                        prefecture=up.name if up.level in ("prefecture",) or up.name.endswith("市") else None,
                        county=None, parents=up.parents + [(up.code, up.name, up.level)])

    def zone_name(self, code: str) -> str:
        return self._zone[code][0]

    def township_parent(self, code: str) -> str:
        return self._town[code][1]

    def township_count(self) -> int:
        return len(self._town)

    def by_name(self, name: str) -> list[Locality]:
        """Divisions with this full name, or else every one with this short name (乳山, 迪庆州,
        江北 → both 江北区), highest level first."""
        codes = self.every(name.strip())
        full = [c for c in codes if self._div[c].name == name.strip()]
        return [self.locality(c) for c in by_level(self, full or codes)]

    def parents(self, code: str) -> list[Locality]:
        """The ancestors of a division, province first."""
        return [self.locality(c) for c, _, _ in self._chain(code6(code))]

    def children(self, code: str) -> list[Locality]:
        return [self.locality(c) for c in sorted(self._children.get(code6(code), ()))]

    def every(self, form: str) -> tuple:
        """Every division a form may name, bare stems included at all levels."""
        return self._every.get(form, ())

    def all_names(self, code: str) -> list[str]:
        """Full and short names of one division (for matchers elsewhere)."""
        return sorted(f for f, a in self.aliases.items() if code in a.codes)

    # -- internals used by the resolver ------------------------------------------------------

    def division(self, code: str) -> Division:
        return self._div[code]

    def _chain(self, code: str) -> list[tuple[str, str, str]]:
        out = []
        p = self._div[code].parent if code in self._div else None
        while p:
            d = self._div[p]
            out.append((d.code, d.name, d.level))
            p = d.parent
        return out[::-1]

    def ancestors(self, code: str) -> list[str]:
        return [c for c, _, _ in self._chain(code)]

    def is_ancestor(self, a: str, b: str) -> bool:
        """Is division a an ancestor of division b?"""
        p = self._div[b].parent if b in self._div else None
        while p:
            if p == a:
                return True
            p = self._div[p].parent
        return False

    def related(self, a: str, b: str) -> bool:
        """Ancestor, descendant or sibling: names that make each other's region plausible."""
        if a == b:
            return False
        da, db = self._div[a], self._div[b]
        return (self.is_ancestor(a, b) or self.is_ancestor(b, a)
                or (da.parent is not None and da.parent == db.parent))

    def locality(self, code: str) -> Locality:
        d = self._div[code]
        chain = self._chain(code)
        province = d.name if d.level == "province" else (chain[0][1] if chain else None)
        if d.level == "prefecture":
            prefecture = d.name
        elif d.level == "county":
            # a county's prefecture is its parent; for 北京/天津/上海/重庆 that is the municipality
            # (a province-level 市); 省直辖 counties (仙桃市, 琼海市) have none
            parent = self._div[d.parent] if d.parent else None
            if parent is not None and (parent.level == "prefecture" or parent.name.endswith("市")):
                prefecture = parent.name
            else:
                prefecture = None
        else:
            prefecture = None
        return Locality(name=d.name, code=d.code, level=d.level, province=province,
                        prefecture=prefecture, county=None, parents=chain)

    def scan(self, text: str):
        """(start, end, alias) for every leftmost-longest division name in text."""
        encoded = Utf8Text(text)
        for end, alias in self._automaton.iter_long(encoded.view):
            e = encoded.char_offset(end + 1)
            yield e - len(alias.text), e, alias

    def match_at(self, text: str, pos: int) -> Alias | None:
        """The longest alias that starts exactly at pos."""
        for n in range(min(self.max_len, len(text) - pos), 1, -1):
            a = self.aliases.get(text[pos:pos + n])
            if a is not None:
                return a
        return None

    def describe(self, code: str) -> str:
        """浙江省宁波市, 重庆市: where a division lies, for messages."""
        chain = [n for _, n, _ in self._chain(code)]
        return "".join(chain) if chain else self._div[code].name


def code6(code: str) -> str:
    """A 6-digit division code from a 6-, 9- or 12-digit one (371083000000 → 371083; a
    township's 410225106 → its county 410225)."""
    code = str(code).strip()
    return code[:6] if len(code) in (9, 12) and code.isdigit() else code


def code9(code: str) -> str | None:
    """The 9-digit township code in a 9- or 12-digit code (410225106000 → 410225106), or None
    when the code names a county or above (371083000 / 371083000000)."""
    code = str(code).strip()
    if not code.isdigit() or len(code) not in (9, 12) or code[6:9] == "000":
        return None
    return code[:9]


def _table_rows(lines: Iterable[str]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        code, name, parent, level, until = line.split("\t")
        rows.append((code, name, parent, _LEVELS[level], until))
    return rows


def _table_lines() -> tuple[list[str], list[str]]:
    """The table's lines: of divisions and zones (6-digit codes), and of townships (9-digit)."""
    divisions, townships = [], []
    for line in _data_text("divisions.tsv.gz").splitlines():
        (townships if line[9:10] == "\t" and line[:9].isdigit() else divisions).append(line)
    return divisions, townships


def data_source() -> dict:
    """Where the division table comes from: the `# key<TAB>value` lines at its head."""
    out = {}
    for line in _data_text("divisions.tsv.gz").splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line[1:].strip().partition("\t")
        out[key] = value
    return out


def by_level(idx: Divisions, codes) -> list[str]:
    return sorted(set(codes), key=lambda c: (DEPTH[idx.division(c).level], c))


@lru_cache(maxsize=1)
def divisions() -> Divisions:
    """The division index, built once per process."""
    ethnic = [w.strip() for w in _data_text("ethnic_groups.txt").splitlines()
              if w.strip() and not w.startswith("#")]
    ethnic.sort(key=len, reverse=True)
    divisions_, townships = _table_lines()
    return Divisions(_table_rows(divisions_), ethnic, lambda: _table_rows(townships))


def all_localities() -> list[Locality]:
    """Every division of the table down to county level, provinces first (townships: see
    `Divisions.townships`)."""
    idx = divisions()
    return [idx.by_code(c) for c in idx.codes()]


def data_version() -> str:
    """A fingerprint of the division table, so a store knows when to reload it."""
    import hashlib
    return hashlib.sha256((importlib.resources.files("kg") / "data" / "divisions.tsv.gz").read_bytes()).hexdigest()[:16]


# The nation as a locality. GB/T 2260 gives the country no code; 000000 is the one the graph
# (kg.rdf) and the audit already treat as “no division node”.
NATION_CODE = "000000"


def nation_names() -> tuple[str, ...]:
    """What a user may call the nation (ontology/places.ttl, kg:NationNameScheme)."""
    return cue_words("places.ttl", "NationNameScheme")


def nation() -> Locality:
    return Locality(name="全国", code=NATION_CODE, level="nation")

