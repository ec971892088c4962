"""A realistic synthetic corpus for the benchmark: `python bench/generate.py N --out DIR [--seed S]`.

Every document recombines real sections and sentences of corpus/*.txt (split by the project's own
pipeline: kg.pipeline.process_file → doc.sections with roles, doc.sentences) under a locality drawn
from the division table (kg.places.all_localities()). The locality is written the way reports
write it: a title line "<locality><organ>关于<year>年法治政府建设情况的报告" and self-references
"法治<stem>"; the seeds' own place names are replaced by the new locality's.

Files come in the scripts and encodings real ones do: ~80% UTF-8, 8% GBK, 4% UTF-8 with BOM,
3% UTF-16, 5% traditional script (OpenCC s2t); of all of them ~3% are HTML pages with portal
chrome (navigation, header fields, footer, a script). Sizes: 5–20 KB of text each.
The output is a pure function of (N, seed).
"""
from __future__ import annotations

import argparse
import html
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CN_NUM = "一二三四五六七八九十"
ORGANS_LOCAL = ["人民政府", "司法局", "综合行政执法局", "市场监督管理局", "城市管理局",
                "生态环境局", "自然资源局", "交通运输局", "应急管理局", "卫生健康委员会"]
ORGANS_PROVINCE = ["人民政府", "司法厅", "市场监督管理局", "生态环境厅"]
ROLE_ORDER = [("achievements", "{y}年推进法治政府建设的主要举措和成效"),
              ("weaknesses", "{y}年推进法治政府建设存在的不足和原因"),
              ("duty_holder", "{y}年党政主要负责人履行推进法治建设第一责任人职责情况"),
              ("plans", "{y1}年推进法治政府建设的主要安排")]
SUFFIXES = ("自治县", "自治州", "自治旗", "新区", "林区", "特区", "地区", "市", "区", "县", "旗", "盟", "州", "省")


def stem(name: str) -> str:
    for s in SUFFIXES:
        if name.endswith(s) and len(name) > len(s) + 1:
            return name[: -len(s)]
    for s in ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区"):
        if name.endswith(s):
            return name[: -len(s)]
    return name


def load_seeds(seed_dir: Path):
    """role → [(heading, [sentence texts])], intro sentences, and the seeds' place names."""
    from kg import pipeline, read
    pools: dict[str, list] = {}
    intros: list[str] = []
    names: set[str] = set()
    for path in read.iter_files([seed_dir]):
        doc = pipeline.process_file(path)
        if doc.doctype == "notice":
            continue
        loc = doc.locality.locality if doc.locality else None
        if loc is not None:
            names.add(loc.name)
            for _, n, _ in loc.parents:
                names.add(n)
        for c in (doc.locality.candidates if doc.locality else []):
            names.add(c.name)
        by_section: dict[int, list[str]] = {}
        for s in doc.sentences:
            text = s.text.strip()
            if len(text) < 8:
                continue
            if s.section < 0:
                intros.append(text)
            else:
                by_section.setdefault(s.section, []).append(text)
        for i, sec in enumerate(doc.sections):
            sents = [t for t in by_section.get(i, []) if not t.startswith(sec.heading[:8])]
            if sents:
                pools.setdefault(sec.role, []).append((sec.heading.strip(" 。"), sents))
    names |= {stem(n) for n in list(names)}
    return pools, intros, sorted(names, key=len, reverse=True)


def _localize(text: str, seed_names, loc_name: str, loc_stem: str) -> str:
    for n in seed_names:
        if n in text:
            text = text.replace(n, loc_name if len(n) > 2 or n == loc_name else loc_stem)
    return text


def make_document(rng: random.Random, pools, intros, seed_names, loc) -> tuple[str, str, int]:
    """(title, text, year) of one report of `loc`."""
    year = rng.choice([2021, 2022, 2023, 2024])
    organ = rng.choice(ORGANS_PROVINCE if loc.level == "province" else ORGANS_LOCAL)
    name, st = loc.name, stem(loc.name)
    title = f"{name}{organ}关于{year}年法治政府建设情况的报告"
    target = rng.randint(5_000, 20_000)          # bytes of UTF-8 text
    self_ref = "我府" if organ == "人民政府" else ("我局" if organ.endswith("局") else "我单位")

    lines = [title]
    intro = rng.choice(intros)
    lines.append(f"{year}年,{self_ref}坚持以习近平法治思想为指导,全力推进法治{st}建设。"
                 + _localize(intro, seed_names, name, st))
    size = sum(len(x.encode()) for x in lines)
    roles = [r for r in ROLE_ORDER if r[0] in pools]
    # the achievements part takes most of the room, the others a share each
    shares = {"achievements": 0.55, "weaknesses": 0.12, "duty_holder": 0.15, "plans": 0.18}
    for i, (role, heading) in enumerate(roles):
        lines.append(f"{CN_NUM[i]}、" + heading.format(y=year, y1=year + 1))
        budget = size + shares.get(role, 0.15) * target
        j = 0
        while size < budget and j < 9:
            sub_head, sents = rng.choice(pools[role])
            k = rng.randint(2, min(8, len(sents))) if len(sents) >= 2 else 1
            start = rng.randrange(0, len(sents) - k + 1)
            body = "".join(sents[start:start + k])
            if rng.random() < 0.5:        # mix in sentences of another subsection of the role
                _, other = rng.choice(pools[role])
                body += rng.choice(other)
            if rng.random() < 0.3:
                body += f"在法治{st}建设中取得积极成效。"
            sub = f"({CN_NUM[j]}){_localize(sub_head, seed_names, name, st)}"
            para = _localize(body, seed_names, name, st)
            lines += [sub, para]
            size += len(sub.encode()) + len(para.encode()) + 2
            j += 1
    lines.append(f"{name}{organ}")
    lines.append(f"{year + 1}年{rng.randint(1, 3)}月{rng.randint(1, 28)}日")
    return title, "\n".join(lines) + "\n", year


def html_page(title: str, text: str, loc, year: int, rng: random.Random) -> str:
    paras = "\n".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines()[1:])
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}_{html.escape(loc.name)}人民政府门户网站</title>
<script>var _hmt = _hmt || []; (function() {{ var hm = document.createElement("script"); }})();</script>
</head><body>
<div class="nav"><a href="/">首页</a> | <a href="/zwgk/">政务公开</a> | <a href="/hdjl/">互动交流</a> | <a href="/bsfw/">办事服务</a></div>
<div class="crumb">当前位置:首页 &gt; 政务公开 &gt; 法治政府建设</div>
<table class="header"><tr><td>索引号:</td><td>{loc.code}/{year + 1}-{rng.randint(1000, 99999)}</td>
<td>发布机构:</td><td>{html.escape(loc.name)}司法局</td></tr>
<tr><td>成文日期:</td><td>{year + 1}-0{rng.randint(1, 3)}-{rng.randint(10, 28)}</td><td>主题分类:</td><td>法治政府</td></tr></table>
<h1>{html.escape(title)}</h1>
<div class="content">
{paras}
</div>
<div class="share">分享到:微信 微博 【打印本页】【关闭窗口】</div>
<div class="footer">主办:{html.escape(loc.name)}人民政府办公室 版权所有 网站标识码{loc.code}0001 ICP备案号</div>
</body></html>
"""


def generate(n: int, out: Path, seed: int = 1, seed_dir: Path = ROOT / "corpus") -> dict:
    from kg import places
    pools, intros, seed_names = load_seeds(seed_dir)
    locs = [l for l in places.all_localities() if l.level in ("county", "prefecture", "province")]
    weights = [{"county": 8, "prefecture": 3, "province": 1}[l.level] for l in locs]
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    s2t = None
    kinds: dict[str, int] = {}
    total_bytes = 0
    for i in range(n):
        loc = rng.choices(locs, weights)[0]
        title, text, year = make_document(rng, pools, intros, seed_names, loc)
        r = rng.random()
        kind = ("utf-8" if r < 0.80 else "gbk" if r < 0.88 else "utf-8-sig" if r < 0.92
                else "utf-16" if r < 0.95 else "traditional")
        is_html = rng.random() < 0.03
        if kind == "traditional":
            if s2t is None:
                import opencc
                s2t = opencc.OpenCC("s2t")
            text, title = s2t.convert(text), s2t.convert(title)
        body = html_page(title, text, loc, year, rng) if is_html else text
        encoding = "utf-8" if kind == "traditional" else kind
        data = body.encode(encoding, errors="replace")
        name = f"{i:06d}_{loc.code}.{'html' if is_html else 'txt'}"
        (out / name).write_bytes(data)
        kinds[kind + ("+html" if is_html else "")] = kinds.get(kind + ("+html" if is_html else ""), 0) + 1
        total_bytes += len(data)
    return {"documents": n, "bytes": total_bytes, "kinds": kinds}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", type=Path, default=ROOT / "corpus", help="seed corpus directory")
    a = ap.parse_args(argv)
    info = generate(a.n, a.out, a.seed, a.seeds)
    print(f"{info['documents']} documents, {info['bytes'] / 1e6:.1f} MB in {a.out}: "
          + ", ".join(f"{k} {v}" for k, v in sorted(info["kinds"].items())))


if __name__ == "__main__":
    main()
