"""Read a saved or fetched HTML page: the article through trafilatura, every line through lxml.

trafilatura finds the article (title, author, date, body) and drops the page chrome; we ask
it for its XML and write the Markdown ourselves, so headings, lists, links and emphasis
come out in the shape our Markdown renderer reads, and each block keeps the words it is
made of (what lifted reprint terms are matched against). The whole page is also split
into lines of text, links resolved, for `terms.py` to search: the terms often sit in
parts that trafilatura rightly leaves out.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from urllib.parse import urljoin, urlsplit

import lxml.html
import trafilatura

from ..attribution import find_links
from .extract import GUESS, LIKELY, SURE, Block, Extract, Found, Link, Unit
from .markdown import blocks_from_xml, escape_text
from .textpage import CHROME_LINE, END_LINE, date_in

_BLOCK_TAGS = frozenset({
    "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dd", "dt", "blockquote", "section", "article",
    "aside", "footer", "header", "main", "nav", "ul", "ol", "dl", "table", "tr", "tbody", "thead", "figure", "figcaption",
    "form", "pre", "address", "center", "body", "details", "summary", "hr", "label", "fieldset",
})
_SKIP_TAGS = frozenset({
    "script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "select", "option", "button", "input",
    "textarea", "head", "title", "meta", "link", "canvas", "video", "audio", "map",
})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BYLINE = re.compile(r"\bby\s+(.{2,60})", re.IGNORECASE)
_SEPARATOR = r"\s+(?:[-|–—·:»~•]|//?)\s+"  # between a page title's parts: " - ", " // ", " / ", " · "
_TITLE_TAIL = re.compile(rf"^{_SEPARATOR}\S")


def extract_html(data: bytes | str, page_url: str = "", kind: str = "saved page", said_url: str = "") -> Extract:
    """The article and every line of the page; `page_url` is where it was fetched from, if it was,
    `said_url` where the user says it was published (relative links resolve against it when the
    page itself names no address)."""
    tree = _parse(data)
    canonical = _head_link(tree, "canonical")
    own_url = page_url or _meta(tree, "og:url") or canonical or said_url
    units = tuple(_units(tree, own_url))
    meta = trafilatura.extract_metadata(tree, default_url=own_url or None)
    title = _title(meta.title if meta else None, tree)
    refresh = _refresh_target(tree)
    xml = trafilatura.extract(  # on a copy: trafilatura prunes the tree it is given
        _code_in_pre(copy.deepcopy(tree)), url=own_url or None, output_format="xml", include_formatting=True, include_links=True,
        include_images=True, include_comments=False, include_tables=True, deduplicate=False,
    )
    blocks, images = blocks_from_xml(xml or "", title.value if title else "")
    blocks = _with_link_lists(blocks, tree, own_url)
    located = tuple(_locate(block, units) for block in blocks if not _is_chrome(block))
    notes: list[tuple[int, str]] = []
    if not located and refresh:
        notes.append((1, f"the page only redirects to {refresh}; import that address instead"))
    if images:
        message = f"{images} image(s) in the article were left out; copy them into content/ and add them by hand"
        notes.append((located[0].line if located else 1, message))
    if relative := len(re.findall(r'<ref target="(?!https?:|mailto:|#)[^"]', xml or "")):
        notes.append((located[0].line if located else 1, f"{relative} link(s) relative to the page became plain text: the page "
                                                          "names no address of its own (re-run with --original-url)"))
    return Extract(
        kind=kind,
        blocks=located,
        units=units,
        title=title,
        author=_author(meta.author if meta else None, units),
        published=_published(meta.date if meta else None, data, units, own_url),
        tags=tuple((meta.tags or meta.categories or []) if meta else []) or _page_tags(tree),
        summary=_own_description(meta.description, meta.sitename or _title_tail(tree.findtext(".//title"), title), title) if meta else "",
        page_url=own_url,
        canonical=canonical if canonical and _host(canonical) != _host(own_url) else "",
        site_name=(meta.sitename or "") if meta else "",
        notes=tuple(notes),
    )


def _with_link_lists(blocks: list[Block], tree: lxml.html.HtmlElement, base: str) -> list[Block]:
    """The blocks with the article's lists of links put back. trafilatura drops a list made only
    of links as if it were a menu, though one that follows a paragraph of the article ("the
    repositories:" and then their links) is part of what the author wrote."""
    by_text = {block.text: index for index, block in enumerate(blocks) if block.kind == "p"}
    kept = {block.text for block in blocks if block.kind == "list"}
    after: dict[int, list[Block]] = {}
    for listed in tree.iter("ul", "ol"):
        before = listed.getprevious()
        text = " ".join(listed.text_content().split())
        if before is None or before.tag != "p" or not text or text in kept or listed.find(".//a") is None:
            continue
        index = by_text.get(" ".join(before.text_content().split()))
        lines = [_list_item(item, base, listed.tag == "ol", number) for number, item in enumerate(listed.findall("li"), 1)]
        if index is not None and all(lines):
            after.setdefault(index, []).append(Block("\n".join(lines), text, 0, "list"))
    return [b for index, block in enumerate(blocks) for b in (block, *after.get(index, ()))]


def _list_item(item: lxml.html.HtmlElement, base: str, numbered: bool, number: int) -> str:
    """One item of a recovered list as Markdown: its words, each link kept; "" for nested lists."""
    if item.find(".//ul") is not None or item.find(".//ol") is not None:
        return ""
    parts = [escape_text(item.text or "")]
    for child in item:
        words = escape_text(" ".join(child.text_content().split()))
        href = _resolve(child.get("href") or "", base) if child.tag == "a" else ""
        parts.append(f"[{words}]({href})" if href and words else words)
        parts.append(escape_text(child.tail or ""))
    text = " ".join("".join(parts).split())
    return f"{f'{number}.' if numbered else '-'} {text}" if text else ""


def _code_in_pre(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """Every <pre> holds a <code>: trafilatura keeps a <pre> without one only as a quotation,
    its lines run together (a shell session became one line, a `#!/bin/sh` a heading)."""
    for pre in list(tree.iter("pre")):
        if pre.find(".//code") is None:
            code = lxml.html.Element("code")
            code.text, pre.text = pre.text, None
            for child in list(pre):
                code.append(child)
            pre.append(code)
    return tree


def _parse(data: bytes | str) -> lxml.html.HtmlElement:
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
    if isinstance(data, bytes):
        root = lxml.html.document_fromstring(data, parser=parser)
    else:
        root = lxml.html.document_fromstring(data.encode("utf-8"), parser=lxml.html.HTMLParser(
            remove_comments=True, remove_pis=True, encoding="utf-8"))
    return root


def _meta(tree: lxml.html.HtmlElement, name: str) -> str:
    for element in tree.iter("meta"):
        if name in (element.get("property"), element.get("name")):
            return (element.get("content") or "").strip()
    return ""


def _head_link(tree: lxml.html.HtmlElement, rel: str) -> str:
    for element in tree.iter("link"):
        if rel in (element.get("rel") or "").lower().split():
            href = (element.get("href") or "").strip()
            if href.startswith(("http://", "https://")):
                return href
    return ""


def _refresh_target(tree: lxml.html.HtmlElement) -> str:
    for element in tree.iter("meta"):
        if (element.get("http-equiv") or "").lower() == "refresh":
            match = re.search(r"url\s*=\s*['\"]?([^'\"\s]+)", element.get("content") or "", re.IGNORECASE)
            return match[1] if match else ""
    return ""


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def _title(found: str | None, tree: lxml.html.HtmlElement) -> Found | None:
    """The article's title: the metadata's, without a " - Site Name" tail the main heading lacks."""
    headings = [" ".join(h.text_content().split()) for h in tree.iter("h1")]
    if found:
        found = " ".join(found.split())
        if found in headings:
            return Found(found, "page title and main heading", SURE)
        for heading in headings:
            if heading and found.startswith(heading) and _TITLE_TAIL.match(found[len(heading):]):
                return Found(heading, "main heading (the page title adds the site's name)", SURE)
        return Found(found, "page metadata", LIKELY)
    if headings:
        return Found(headings[0], "main heading", LIKELY)
    return None


def _author(found: str | None, units: tuple[Unit, ...]) -> Found | None:
    if not found:
        return None
    names = [n.strip() for n in found.split(";") if n.strip()]
    name = names[0]
    bylined = any(name.casefold() in m[1].casefold() for u in units if len(u.text) < 160 for m in [_BYLINE.search(u.text)] if m)
    return Found("; ".join(names), "byline" if bylined else "page metadata", SURE if bylined else LIKELY)


_TAG_LINK = re.compile(r"/(?:tags?|categor(?:y|ies))/[^/?#]+(?:/|\.html)?$", re.IGNORECASE)
_NO_TAG = frozenset({"uncategorized", "uncategorised", "未分類", "general"})


def _title_tail(page_title: str | None, title: Found | None) -> str:
    """What the page's <title> adds after the article's title: usually the site's name."""
    page_title = " ".join((page_title or "").split())
    if not title or not page_title.startswith(title.value) or page_title == title.value:
        return ""
    return re.split(_SEPARATOR, page_title[len(title.value):].strip(" -|–—·:»~•/"))[0]


def _own_description(description: str | None, site_name: str | None, title: Found | None) -> str:
    """The page's description, unless it is the site's (many themes put the site's own on every
    page): one that names the site is taken for the site's."""
    description = " ".join((description or "").split())
    name = " ".join((site_name or "").split()).casefold()
    if len(name) >= 8 and name in description.casefold() and not (title and name in title.value.casefold()):
        return ""
    return description


def _page_tags(tree: lxml.html.HtmlElement) -> tuple[str, ...]:
    """Tags the page marks as such when the metadata reader found none: `article:tag`
    properties, else links with rel="tag" (as WordPress writes them), else links to the old
    site's tag or category pages, when they are a few (many are a tag cloud, not this page's)."""
    found = [m.get("content") or "" for m in tree.iter("meta") if (m.get("property") or "").lower() == "article:tag"]
    if not found:
        found = [" ".join(a.text_content().split()) for a in tree.iter("a") if "tag" in (a.get("rel") or "").lower().split()]
    if not found:
        linked = [" ".join(a.text_content().split()) for a in tree.iter("a") if _TAG_LINK.search(a.get("href") or "")]
        found = linked if len(set(linked)) <= 8 else []
    return tuple(dict.fromkeys(t.strip() for t in found if t.strip() and t.strip().casefold() not in _NO_TAG))


_URL_DATE = re.compile(r"/((?:19|20)\d\d)/(0[1-9]|1[0-2])(?:/(0[1-9]|[12]\d|3[01]))?/")


def _published(found: str | None, data: bytes | str, units: tuple[Unit, ...], own_url: str = "") -> tuple[date, Found] | None:
    """The date trafilatura found, and how sure: written in the markup, shown on the page, or
    inferred. An inferred one (from a footer's year, a date in a link) yields to the date in
    the page's own address (`/2020/09/`), which the page was filed under."""
    from_url = _date_in_address(own_url)
    if not found:
        return from_url
    try:
        value = date.fromisoformat(found[:10])
    except ValueError:
        return from_url
    raw = data if isinstance(data, str) else data.decode("utf-8", "replace")
    if value.isoformat() in raw:
        return value, Found(value.isoformat(), "page metadata", SURE)
    if any(date_in(unit.text) == value for unit in units if len(unit.text) < 200):
        return value, Found(value.isoformat(), "a date shown on the page", LIKELY)
    return from_url or (value, Found(value.isoformat(), "inferred from the page, not written on it", GUESS))


def _date_in_address(url: str) -> tuple[date, Found] | None:
    """`/2020/09/` or `/2020/09/15/` in the page's own address: the day, or the month's first."""
    dated = _URL_DATE.search(urlsplit(url).path + "/") if url else None
    if dated is None:
        return None
    try:
        value = date(int(dated[1]), int(dated[2]), int(dated[3] or 1))
    except ValueError:  # /2021/02/30/
        return None
    return value, Found(value.isoformat(), "the page's address", LIKELY)


def _is_chrome(block: Block) -> bool:
    """A short navigation or sharing line that the extractor kept ("Read other posts", "Share this:")."""
    # (a table too: sharing buttons are often laid out as one, "Tweet" in its only cell)
    return block.kind in ("p", "table") and len(block.text.split()) <= 6 and bool(
        CHROME_LINE.match(block.text) or END_LINE.match(block.text))


def _locate(block: Block, units: tuple[Unit, ...]) -> Block:
    """The block with the source line of the first page line that starts like it."""
    head = block.text[:40]
    for unit in units:
        if head and (unit.text.startswith(head) or head.startswith(unit.text[:40]) and unit.text):
            return Block(block.markdown, block.text, unit.line, block.kind)
    return block


# ---------------------------------------------------------------------------------------
# Every line of text on the page


def _units(tree: lxml.html.HtmlElement, base: str) -> list[Unit]:
    """Walk the page: a block element or a <br> ends a line; links keep their targets."""
    units: list[Unit] = []
    body = tree.find("body")
    if body is None:
        body = tree
    line: list[tuple[str, str]] = []  # (text, href) pieces of the current line
    state = {"line": body.sourceline or 1, "heading": False}

    def flush() -> None:
        unit = _make_unit(line, state["line"], bool(state["heading"]))
        if unit is not None:
            units.append(unit)
        line.clear()

    def walk(element: lxml.html.HtmlElement, href: str, heading: bool) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _SKIP_TAGS or not tag:
            return
        is_block = tag in _BLOCK_TAGS
        if is_block or tag == "br":
            flush()
            state["line"], state["heading"] = element.sourceline or state["line"], heading or tag in _HEADINGS
        if tag == "a":
            href = _resolve(element.get("href") or "", base)
        if element.text and tag != "br":
            if not line:
                state["line"] = element.sourceline or state["line"]
            line.append((element.text, href))
        for child in element:
            walk(child, href, heading or tag in _HEADINGS)
            if child.tail:
                line.append((child.tail, href))
        if is_block:
            flush()
            state["heading"] = heading

    walk(body, "", False)
    flush()
    return units


def _resolve(href: str, base: str) -> str:
    href = href.strip()
    if href.lower().startswith("mailto:"):
        return href
    absolute = urljoin(base, href) if base else href
    return absolute if absolute.startswith(("http://", "https://")) else ""


def _make_unit(pieces: list[tuple[str, str]], line: int, heading: bool) -> Unit | None:
    merged: list[tuple[str, str]] = []
    for text, href in pieces:
        if merged and merged[-1][1] == href:
            merged[-1] = (merged[-1][0] + text, href)
        else:
            merged.append((text, href))
    text = " ".join("".join(t for t, _ in merged).split())
    if not text:
        return None
    statement_parts, links = [], []
    for piece, href in merged:
        words = " ".join(piece.split())
        if href and words:
            links.append(Link(words, href))
            statement_parts.append(_piece_as_statement(piece, href))
        else:
            statement_parts.append(piece)
    statement = " ".join("".join(statement_parts).split())
    return Unit(text=text, statement=statement, line=line, links=tuple(links), is_heading=heading)


def _piece_as_statement(piece: str, href: str) -> str:
    """Linked words as they go into a statement: bare when a linkifier finds the same target."""
    words = " ".join(piece.split())
    lead = piece[: len(piece) - len(piece.lstrip())]
    trail = piece[len(piece.rstrip()):]
    found = find_links(words)
    if len(found) == 1 and found[0][0] == 0 and found[0][1] == len(words) and _same_target(found[0][2], href):
        return lead + words + trail
    text = words.replace("[", "(").replace("]", ")")
    target = re.sub(r"[()\s<>]", lambda m: f"%{ord(m[0]):02X}", href)
    return f"{lead}[{text}]({target}){trail}"


def _same_target(found: str, href: str) -> bool:
    if found.startswith("mailto:") or href.startswith("mailto:"):
        return found.lower() == href.lower()
    a, b = urlsplit(found), urlsplit(href)
    return ((a.hostname or "") == (b.hostname or "") and a.path.rstrip("/") == b.path.rstrip("/")
            and a.query == b.query and a.fragment == b.fragment)

