"""One pass over a rendered body's tags: links resolved, unsafe URLs neutralised, ids found.

Python-Markdown leaves raw HTML (`<a href>`, `<img src>`, `<h2 id>`) out of its element
tree, so a pass over the tree misses it: its anchors looked missing, its images were never
checked, and its `javascript:` links reached the page. This pass reads the finished HTML
the way a browser's tokenizer splits tags (attributes separated by `/` as well as spaces,
values quoted or not, comments and script bodies skipped), so Markdown's links and the
author's own HTML are treated alike:

- a relative `href`/`src` is resolved against the article's folder under content/ into a
  site-root path (each output later makes it page-relative or absolute), and remembered
  for the link check with the source line it was written on;
- a URL attribute whose scheme is not a web scheme (`javascript:`, `vbscript:`, `data:`
  but for raster images, ...) is replaced by `#ZgotmplZ`, as Hugo's templates do, with a
  warning naming the line;
- every `id` (and `<a name>`) is collected, so links to `page#anchor` can be checked.

Raw HTML is otherwise left as the author wrote it: on the site's own pages it is theirs.
Syndicated copies are sanitized separately, to a strict allow-list (syndication.py).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from html import unescape
from pathlib import PurePosixPath

from .urls import resolve_content_link

NEUTRALISED = "#ZgotmplZ"
# The schemes ammonia (and so nh3) allows by default: web, mail and messaging links.
SAFE_SCHEMES = frozenset({
    "bitcoin", "ftp", "ftps", "geo", "http", "https", "im", "irc", "ircs", "magnet", "mailto", "mms", "mx",
    "news", "nntp", "openpgp4fpr", "sip", "sms", "smsto", "ssh", "tel", "url", "webcal", "wtai", "xmpp",
})
URL_ATTRIBUTES = frozenset({
    "href", "src", "action", "formaction", "poster", "cite", "background", "data", "codebase", "longdesc",
    "lowsrc", "dynsrc", "manifest", "icon", "ping", "srcset", "archive", "classid", "profile", "usemap", "xlink:href",
})
# (tag, attribute) pairs whose relative URLs point into content/ and are checked by the link check.
_RESOLVED = frozenset({("a", "href"), ("area", "href"), ("img", "src"), ("source", "src"), ("video", "src"),
                       ("audio", "src"), ("track", "src"), ("embed", "src"), ("video", "poster")})
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript"})
_SPACE = "\t\n\f\r "
# Comments (including the short `<!-->`), bogus comments and end tags, or the name of a start tag.
_MARKUP = re.compile(r"<!--(?:-?>|.*?--!?>|.*\Z)|<[!?][^>]*>?|</(?:([A-Za-z][^\t\n\f\r />]*)[^>]*>?|[^>]*>?)"
                     r"|<([A-Za-z][^\t\n\f\r />]*)(>)?", re.S)
_FOREIGN = ("svg", "math")  # inside them <style> and <script> hold markup, not text
_ATTRIBUTE = re.compile(r"[\t\n\f\r /]*([^\t\n\f\r />][^\t\n\f\r /=>]*)(?:[\t\n\f\r ]*=[\t\n\f\r ]*(\"[^\"]*\"?|'[^']*'?|[^\t\n\f\r >]*))?")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_RASTER_DATA = re.compile(r"data:image/(?:png|gif|jpeg|webp)[;,]", re.I)
_URL_NOISE = re.compile(r"[\t\n\r]")  # removed from anywhere in a URL by browsers


@dataclass(slots=True)
class LinkFacts:
    """What one pass found; lines are 1-based within the Markdown text the body came from."""

    html: str
    links: dict[str, int] = field(default_factory=dict)  # site-root path or "#anchor" -> first line
    ids: list[str] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)  # (line, warning)


def unsafe_url(value: str, *, image: bool = False) -> bool:
    """Whether a browser would follow this (entity-decoded) URL to a scheme that is not a web one."""
    url = _URL_NOISE.sub("", value.strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
                                       "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
    match = _SCHEME.match(url)
    if match is None or match[1].lower() in SAFE_SCHEMES:
        return False
    return not (image and _RASTER_DATA.match(url))


def process_links(html: str, source: str, source_dir: PurePosixPath) -> LinkFacts:
    """Resolve, neutralise and collect, as described above; `source` is the Markdown text."""
    facts = LinkFacts(html)
    if "<" not in html:
        return facts
    where = _Locator(source)
    edits: list[tuple[int, int, str]] = []
    position = 0
    foreign = 0
    while True:
        match = _MARKUP.search(html, position)
        if match is None:
            break
        position = match.end()
        if match[1] is not None and match[1].lower() in _FOREIGN:
            foreign = max(0, foreign - 1)
        if match[2] is None:
            continue
        tag = match[2].lower()
        if match[3] is None:  # most tags have no attributes: nothing to read
            position = _start_tag(html, position, tag, where, source_dir, facts, edits)
        if tag in _FOREIGN:
            foreign += 1  # a self-closed <svg/> counts too: then text is scanned as markup, which errs safe
        elif tag in _RAW_TEXT and not foreign:  # its text is not markup: skip to its end tag
            closing = re.compile(rf"</{re.escape(tag)}[\t\n\f\r />]", re.I).search(html, position)
            position = closing.start() if closing else len(html)
    if edits:
        parts = []
        last = 0
        for start, end, text in edits:
            parts += [html[last:start], text]
            last = end
        parts.append(html[last:])
        facts.html = "".join(parts)
    return facts


def _start_tag(html: str, position: int, tag: str, where: _Locator, source_dir: PurePosixPath,
               facts: LinkFacts, edits: list[tuple[int, int, str]]) -> int:
    """Read one start tag's attributes from `position`; returns where the tag ends."""
    alt: str | None = None
    image_src = ""
    while position < len(html) and html[position] != ">":
        match = _ATTRIBUTE.match(html, position)
        if match is None or match.end() == position:
            return position + 1  # a lone "/" before ">" or the end
        position = match.end()
        name = match[1].lower()
        raw = match[2]
        if raw is None:
            continue
        quoted = raw[:1] in ("'", '"')
        written = raw[1:-1] if quoted and len(raw) > 1 and raw[-1] == raw[0] else raw[1:] if quoted else raw
        value = unescape(written)
        if name == "id" or (name == "name" and tag == "a"):
            if value:
                facts.ids.append(value)
        elif name == "alt" and tag == "img":
            alt = value
        if name not in URL_ATTRIBUTES:
            continue
        is_image = name in ("src", "srcset") and tag in ("img", "source")
        urls = [c.strip().split(" ")[0] for c in value.split(",")] if name == "srcset" else [value]
        if any(unsafe_url(url, image=is_image) for url in urls):
            line = where.line(value, written)
            shown = value if len(value) <= 60 else value[:57] + "..."
            facts.notes.append((line, f"{tag} {name} '{shown}' is not a web link; it was replaced by '{NEUTRALISED}'"))
            edits.append((match.start(2), match.end(2), f'"{NEUTRALISED}"'))
            continue
        if (tag, name) not in _RESOLVED:
            continue
        if tag == "img":
            image_src = value
        if tag == "a" and value.startswith("#") and len(value) > 1:
            facts.links.setdefault(value, where.line(value, written))  # an anchor on the same page, checked too
            continue
        try:
            resolved = resolve_content_link(value, source_dir)
        except ValueError:  # urllib cannot split it ("http://[x"): the browser's problem, left as written
            continue
        if resolved is None:
            continue
        facts.links.setdefault(resolved, where.line(value, written))
        if resolved != value:
            edits.append((match.start(2), match.end(2), f'"{_escape_attribute(resolved)}"'))
    if tag == "img" and not (alt or "").strip():
        facts.notes.append((where.line(image_src, image_src), f"image '{image_src}' has no alt text"))
    return position + 1


def _escape_attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


class _Locator:
    """The source line of a value found in the HTML: searched in the Markdown text from the
    previous find onwards, since tags come in the order they were written."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.starts: list[int] | None = None
        self.cursor = 0

    def line(self, *needles: str) -> int:
        for needle in needles:
            if not needle:
                continue
            found = self.source.find(needle, self.cursor)
            if found < 0:
                found = self.source.find(needle)
            if found >= 0:
                self.cursor = found
                if self.starts is None:
                    self.starts = [0] + [m.end() for m in re.finditer("\n", self.source)]
                return bisect_right(self.starts, found)
        return 0  # not found: the caller points at the body's first line
