"""HTML: the page's text, block elements one per line and table cells tab-separated, without
scripts and, where that leaves most of the page, without its chrome (menus, headers, footers:
the tags and class words of ontology/text.ttl, kg:PageChromeScheme)."""
from __future__ import annotations

import codecs
import re
from functools import lru_cache
from typing import Optional

from .cues import alternation, cue_words
from .encoding import BOMS, decode_text, newlines, strict
from .errors import Fail


_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)

# Labels Chinese sites declare for what is in practice GBK/GB18030 bytes.
_GB_LABELS = {"gb2312", "gbk", "x-gbk", "gb_2312-80", "cp936", "ms936", "euc-cn", "gb18030",
              "csgb2312", "chinese"}


def _declared_charset(data: bytes) -> Optional[str]:
    head = data[:16384]
    m = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    if not m:
        return None
    label = m.group(1).decode("ascii").lower()
    if label in _GB_LABELS:
        return "gb18030"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # A UTF-16/32 declaration in bytes we could read as ASCII is wrong by construction.
    return None if name.startswith(("utf-16", "utf-32")) else name


def _decode_html(data: bytes) -> tuple[str, str]:
    for bom, encoding, label in BOMS:
        if data.startswith(bom):
            text = strict(data, encoding, label)
            return text, encoding
    declared = _declared_charset(data)
    if declared and b"\x00" not in data:
        try:
            text = data.decode(declared)
        except UnicodeDecodeError:
            text = None   # mislabelled: let the bytes speak
        if text is not None:
            # Pages declaring gb2312/latin-1 yet being valid UTF-8 with non-ASCII are
            # common (templates copied between sites); valid UTF-8 is hardly ever chance.
            if declared != "utf-8" and not text.isascii():
                try:
                    return data.decode("utf-8"), "utf-8"
                except UnicodeDecodeError:
                    pass
            return text, declared
    return decode_text(data)


_DROP_ALWAYS = ("script", "style", "noscript", "template", "head", "select", "option",
                "button", "input", "textarea", "iframe", "object", "embed", "svg", "canvas")


def _chrome_tags() -> tuple[str, ...]:
    return cue_words("text.ttl", "PageChromeScheme", "tag")


@lru_cache(maxsize=1)
def _chrome_attr() -> re.Pattern:
    """Words of an id or class that make an element chrome (nav, menu, breadcrumb …)."""
    return re.compile(alternation(cue_words("text.ttl", "PageChromeScheme", "attribute")), re.I)


_BLOCK_TAGS = frozenset((
    "p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
    "tr", "table", "thead", "tbody", "tfoot", "caption", "section", "article", "main",
    "header", "footer", "nav", "aside", "blockquote", "pre", "hr", "form", "fieldset",
    "address", "figure", "figcaption", "center", "title", "body", "html", "details",
    "summary", "legend",
))
_CELL_TAGS = frozenset(("td", "th"))
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")    # HTML collapses these, not nbsp or U+3000


def read_html(data: bytes) -> tuple[str, str]:
    text, encoding = _decode_html(data)
    if not text.strip():
        raise Fail("empty file")
    markup = newlines(text)
    from bs4 import BeautifulSoup

    # The levels' removals add up, so one parse serves level 0 and, stripped further, level 2;
    # only when level 2 is refused does level 1 need a fresh parse.
    soup = BeautifulSoup(markup, "lxml")
    _strip(soup, 0, 0)
    plain = _render(soup)
    baseline = _visible_size(plain)
    if not baseline:
        raise Fail("no text found in HTML")
    # Chrome removal is a heuristic; if it eats most of the page (a wrapper div called
    # "main-with-sidebar", a whole page inside <header>), step back to a gentler level.
    _strip(soup, 1, 2)
    extracted = _render(soup)
    if _visible_size(extracted) >= 0.3 * baseline:
        return extracted, encoding
    extracted = _html_to_text(markup, 1)
    if _visible_size(extracted) >= 0.3 * baseline:
        return extracted, encoding
    return plain, encoding


def _visible_size(text: str) -> int:
    return len("".join(text.split()))


def _html_to_text(markup: str, level: int) -> str:
    """level 0: drop scripts and the like; 1: also <nav>/<header>/<footer>/<aside>;
    2: also elements whose id or class says nav/menu/footer/…"""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "lxml")
    _strip(soup, 0, level)
    return _render(soup)


def _strip(soup, first: int, last: int) -> None:
    """Make the removals of levels first..last (each level's assume those below it made)."""
    if first <= 0 <= last:
        for tag in soup.find_all(_DROP_ALWAYS):
            tag.decompose()
    if first <= 1 <= last:
        for tag in soup.find_all(_chrome_tags()):
            # <header>/<footer> inside <article> hold the article's own title and notes.
            if tag.name in ("header", "footer") and tag.find_parent(("article", "main")):
                continue
            tag.decompose()
    if first <= 2 <= last:
        total = _text_size(soup)
        for tag in soup.find_all(_has_chrome_attr):
            if tag.decomposed:
                continue
            # A "chrome" element holding half the page is a layout wrapper, not chrome.
            if _text_size(tag) * 2 <= total:
                tag.decompose()


def _has_chrome_attr(tag) -> bool:
    attrs = getattr(tag, "attrs", None) or {}
    classes = attrs.get("class") or []
    if isinstance(classes, str):
        classes = [classes]
    names = " ".join([str(attrs.get("id") or ""), *map(str, classes)])
    return bool(names.strip()) and bool(_chrome_attr().search(names))


def _text_size(tag) -> int:
    return _visible_size(tag.get_text())


_BREAK, _CELL = object(), object()


def _render(soup) -> str:
    """Plain text: block elements on lines of their own, table cells tab-separated."""
    from bs4 import NavigableString, Tag
    from bs4.element import PreformattedString   # comments, doctype, CDATA, PIs

    pieces: list = []
    stack: list = [(soup, False)]                # iterative: pages nest deeper than Python recurses
    while stack:
        node, in_pre = stack.pop()
        if node is _BREAK or node is _CELL:
            pieces.append(node)
        elif isinstance(node, Tag):
            name = node.name
            pre = in_pre or name in ("pre", "listing", "plaintext")
            if name in _BLOCK_TAGS:
                pieces.append(_BREAK)
                stack.append((_BREAK, pre))
            elif name in _CELL_TAGS:
                pieces.append(_CELL)
            stack.extend((child, pre) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            s = str(node)
            if in_pre:
                for i, part in enumerate(s.split("\n")):
                    if i:
                        pieces.append(_BREAK)
                    pieces.append(part)
            else:
                pieces.append(_HTML_SPACE.sub(" ", s))

    lines, line = [], []
    for piece in pieces + [_BREAK]:
        if piece is _BREAK:
            text = "".join(line).strip(" \t")
            if text.strip():
                lines.append(text)
            line = []
        elif piece is _CELL:
            if "".join(line).strip():
                line.append("\t")
        else:
            line.append(piece)
    return "\n".join(lines)


