"""Tooltips: escaped HTML summing up a node, or quoting the evidence of an edge."""
from __future__ import annotations

from .nodes import LEVEL_TEXT, chain_up, parent_map, parents
from .text import MAX_QUOTES, escape, file_name, quotes_html, short


def node_tips(G) -> None:
    """Set the tooltip (`tip`) of every node of G; a mechanism's quotes are added by quote()."""
    parent = parent_map(G)          # every locality's chain from one pass over the edges
    for n, d in G.nodes(data=True):
        if d["type"] == "locality":
            d["tip"] = locality_tip(G, n, d, chain_up(parent, n))
        else:
            d["tip"] = NODE_TIPS[d["type"]](G, n, d)


def locality_tip(G, n, d, up: list | None = None) -> str:
    """A locality's tooltip; `up`: its parents (nearest first) when the caller has them."""
    lv = LEVEL_TEXT.get(d.get("level"), "")
    chain = [G.nodes[p]["label"] for p in (parents(G, n) if up is None else up)]
    tip = f"<b>{escape(d['label'])}</b> <span class=\"src\">{escape(lv)} {escape(d.get('code'))}</span>"
    if chain:
        tip += f"<div>{escape(' › '.join(reversed(chain)))}</div>"
    counts = {}
    for _, _, ed in G.out_edges(n, data=True):
        if ed.get("rel") == "implements":
            counts[ed["status"]] = counts.get(ed["status"], 0) + 1
    if counts:
        tip += "<div>" + ", ".join(f"{escape(s)}: {c}" for s, c in sorted(counts.items())) + "</div>"
    if d.get("docs"):
        tip += f'<div class="src">{escape(", ".join(sorted(d["docs"])[:4]))}</div>'
    return tip


def mechanism_tip(G, n, d) -> str:
    tip = f"<b>{escape(d['label'])}</b> <span class=\"src\">{escape(d['notation'])}</span>"
    if d.get("alts"):
        tip += f'<div class="src">{escape(short(d["alts"].replace("|", "、"), 60))}</div>'
    # reported_by: the count, where the view's graph was kept at build time without the set
    n = d.get("reported_by") or len(d.get("localities") or ())
    if n:
        tip += f"<div>reported by {n} localit{'y' if n == 1 else 'ies'}</div>"
    return tip


def organization_tip(G, n, d) -> str:
    how = "document organ" if "organ" in d.get("how", ()) else "named body"
    return (f"<b>{escape(d['label'])}</b> <span class=\"src\">{escape(how)}</span>"
            f'<div class="src">{escape(", ".join(sorted(d.get("docs", ()))[:4]))}</div>')


def role_tip(G, n, d) -> str:
    orgs = sum(1 for _ in G.in_edges(n))
    return (f"<b>{escape(d['label'])}</b> <span class=\"src\">{escape(d.get('notation'))}</span>"
            f"<div>held by {orgs} organization{'s' if orgs != 1 else ''}</div>")


def requirement_tip(G, n, d) -> str:
    return (f"<b>{escape(d['title_text'])}</b><div class=\"src\">requirement document · "
            f"{escape(file_name(d['source']))}</div><div>requires {len(d.get('mechanisms', ()))} mechanisms</div>")


NODE_TIPS = {"locality": locality_tip, "mechanism": mechanism_tip, "organization": organization_tip,
             "role": role_tip, "requirement": requirement_tip}


def evidence_tip(G, a, b, status, by_doc, docs, how=(), total: int | None = None) -> str:
    """The tooltip of an assertion edge a → b: its status, and the quotes of its first two
    documents (by_doc: document → texts, at least its first three; docs: document → its row;
    total: how many documents the edge has, when by_doc holds only its first)."""
    total = len(by_doc) if total is None else total
    head = (f"<b>{escape(G.nodes[a]['label'])}</b> → <b>{escape(G.nodes[b]['label'])}</b> "
            f'<span class="st st-{status}">{escape(status)}</span>')
    if how:
        head += f" ({escape(', '.join(how))})"
    parts = [head]
    shown = 0
    for d, texts in by_doc.items():
        if shown >= 2:
            break
        r = docs.get(d, {})
        parts.append(quotes_html([t for t in texts if t], MAX_QUOTES))
        title = r.get("title")
        parts.append(f'<div class="src">— {escape(file_name(r.get("source")))}'
                     f'{" · " + escape(short(title, 40)) if title else ""}</div>')
        shown += 1
    if shown >= 2 and total > 2:
        parts.append(f'<div class="more">… {total - 2} more documents</div>')
    return "".join(parts)


def role_edge_tip(G, u, v, label) -> str:
    """The head of a "holds role" edge's tooltip (the posts' quotes follow)."""
    return (f"<b>{escape(G.nodes[u]['label'])}</b> holds <b>{escape(G.nodes[v]['label'])}</b>"
            + (f" × {escape(label)}" if label else ""))


def mechanism_quotes(seen) -> str:
    """A mechanism's quotes: (place, file, sentence) each."""
    return "".join(f'<div class="q">“{escape(s)}”</div><div class="src">— {escape(place)}, {escape(f)}</div>'
                   for place, f, s in seen)
