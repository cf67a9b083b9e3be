"""A reprint as `syndicate verify` reads it: the normalised text of the whole page, and its links.

A reprint is a web page, a saved page, or a received newsletter (`.eml`: its HTML part, else
its text part). Either way it becomes a `PageText`: every visible word of the page (scripts,
styles and comments left out; block elements and line breaks as spaces) normalised so that
what a publisher's editor or CMS changes without changing the meaning compares equal (see
`normalize`), and every active link with the span of page text it covers. A link is active
only when it is an `<a href>` with an http(s) or mailto target; in a plain-text message,
where nothing can be clicked, each URL written out is the link.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit

import lxml.etree
import lxml.html

MAX_TEXT = 1_000_000  # characters of page text kept: the fuzzy matcher's input stays bounded
MAX_LINKS = 5_000

# Typographic variants an editor or a CMS swaps in freely; compared as their plain forms.
_CHARS = str.maketrans({
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4\u0060", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
    **dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff", ""),
})
_SPACE = re.compile(r"\s+")
_DASHES = re.compile(r"-{2,}")
_SKIP = frozenset({"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object"})
_BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "td", "th", "tr", "ul", "option",
    "button", "label", "img", "input", "textarea", "select",
})
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_TRACKING_PARAMS = ("utm_", "mc_cid", "mc_eid", "fbclid", "gclid", "_hsenc", "_hsmi", "mkt_tok")


def normalize(text: str) -> str:
    """Case, whitespace, typographic quotes and dashes, entities, NBSP and compatibility
    forms (ligatures, "…") folded away; zero-width characters and soft hyphens removed."""
    text = unicodedata.normalize("NFKC", html.unescape(text).translate(_CHARS))
    return _SPACE.sub(" ", _DASHES.sub("-", text.casefold()))


def normalize_url(url: str) -> str:
    """A link target as compared: http and https, `www.`, the host's case, a trailing slash,
    `index.html`, the fragment and tracking parameters (utm_*, mc_cid, ...) make no difference."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme == "mailto":
        return "mailto:" + unquote(parts.path).strip().lower()
    if scheme not in ("http", "https", ""):
        return url
    host = (parts.hostname or "").rstrip(".").removeprefix("www.")
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = re.sub(r"/index\.html?$", "/", unquote(parts.path)).rstrip("/")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.lower().startswith(_TRACKING_PARAMS)]
    return f"//{netloc}{path}" + (f"?{urlencode(sorted(query))}" if query else "")


@dataclass(frozen=True, slots=True)
class Link:
    """One active link of the page: its absolute target and the page text it covers."""

    href: str
    text: str  # normalised, as in PageText.text
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class PageText:
    text: str  # normalised; at most MAX_TEXT characters
    links: tuple[Link, ...]
    is_html: bool  # False for a plain-text message: URLs written out are its links
    canonical: str = ""  # <link rel="canonical">, absolute when the page's address is known
    truncated: bool = False
    breaks: tuple[int, ...] = ()  # where block elements (paragraphs, cells, line breaks) end


class _Builder:
    """Appends normalised text, folding whitespace across pieces, so link spans stay exact."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.space = True  # the text so far ends with a space (or is empty)
        self.full = False
        self.breaks: list[int] = []

    def add(self, piece: str | None) -> None:
        if not piece or self.full:
            return
        text = normalize(piece)
        if self.space:
            text = text.lstrip(" ")
        if not text:
            return
        if self.length + len(text) > MAX_TEXT:
            text = text[: MAX_TEXT - self.length]
            self.full = True
        self.parts.append(text)
        self.length += len(text)
        self.space = text.endswith(" ")

    def break_(self) -> None:
        if not self.breaks or self.breaks[-1] != self.length:
            self.breaks.append(self.length)
        if not self.space and not self.full:
            self.parts.append(" ")
            self.length += 1
            self.space = True

    def text(self) -> str:
        return "".join(self.parts)


def read_html(markup: str, base_url: str = "") -> PageText:
    """The whole page's text and links; relative links resolve against `<base>` or `base_url`."""
    markup = _XML_DECLARATION.sub("", markup, count=1)
    if not markup.strip():
        return PageText("", (), True)
    root = lxml.html.document_fromstring(markup)
    base_href = root.xpath("string(//base/@href)")
    base = urljoin(base_url, base_href.strip()) if base_href else base_url
    builder = _Builder()
    links: list[Link] = []
    starts: list[int] = []
    skipping = 0
    for event, element in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = element.tag.lower() if isinstance(element.tag, str) else None
        if event == "start":
            if skipping or tag is None or tag in _SKIP:
                skipping += 1
                continue
            if tag in _BLOCK:
                builder.break_()
            if tag == "a":
                starts.append(builder.length)
            builder.add(element.text)
            continue
        if skipping:
            skipping -= 1
            if not skipping:
                builder.add(element.tail)
            continue
        if tag == "a":
            start = starts.pop()
            href = _active_href(element.get("href"), base)
            if href and len(links) < MAX_LINKS:
                links.append(Link(href, "", start, builder.length))
        if tag in _BLOCK:
            builder.break_()
        builder.add(element.tail)
    text = builder.text()
    found = tuple(Link(link.href, text[link.start : link.end].strip(), link.start, link.end) for link in links)
    return PageText(text, found, True, _canonical(root, base), builder.full, tuple(builder.breaks))


def read_plain(text: str) -> PageText:
    """A plain-text message: each URL, bare domain (`www.example.com/guides`) and e-mail
    address written out is one of its links, found as a statement's own are (a mail reader
    makes the same ones active)."""
    from .attribution import find_links

    builder = _Builder()
    links: list[Link] = []
    position = 0
    for begin, end, href, _kind in find_links(text):
        _add_lines(builder, text[position:begin])
        start = builder.length
        builder.add(text[begin:end])
        if len(links) < MAX_LINKS:
            links.append(Link(href, normalize(text[begin:end]).strip(), start, builder.length))
        position = end
    _add_lines(builder, text[position:])
    return PageText(builder.text(), tuple(links), False, "", builder.full, tuple(builder.breaks))


def _add_lines(builder: _Builder, text: str) -> None:
    """Plain text, with each blank line (a paragraph's end) marked as a break."""
    for number, paragraph in enumerate(re.split(r"\n[ \t]*\n", text)):
        if number:
            builder.break_()
        builder.add(paragraph)


def read_email(data: bytes) -> PageText:
    """A received newsletter: its HTML part, else its text part."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(message, EmailMessage):  # pragma: no cover - the default policy makes EmailMessage
        return PageText("", (), False)
    part = message.get_body(preferencelist=("html", "plain"))
    if part is None:
        return PageText("", (), False)
    content = part.get_content()
    if not isinstance(content, str):  # pragma: no cover - text parts always decode to str
        return PageText("", (), False)
    return read_html(content) if part.get_content_subtype() == "html" else read_plain(content)


def meta_refresh(markup: str, base_url: str) -> str:
    """The target of a `<meta http-equiv="refresh">` redirect page, or ""."""
    for match in re.finditer(r"<meta\b[^>]*>", markup[:200_000], re.IGNORECASE):
        tag = match[0]
        if not re.search(r"http-equiv\s*=\s*[\"']?refresh", tag, re.IGNORECASE):
            continue
        content = re.search(r"content\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", tag, re.IGNORECASE)
        value = html.unescape(content[1].strip("\"'")) if content else ""
        target = re.search(r"url\s*=\s*['\"]?([^'\"]+)", value, re.IGNORECASE)
        if target:
            return urljoin(base_url, str(target[1]).strip())
    return ""


def _active_href(href: str | None, base: str) -> str:
    if not href or not href.strip() or href.strip().startswith("#"):
        return ""
    target = urljoin(base, href.strip()) if base else href.strip()
    scheme = urlsplit(target).scheme.lower()
    if scheme in ("http", "https", "mailto") or (not scheme and not base):
        return target
    return ""


def _canonical(root: lxml.html.HtmlElement, base: str) -> str:
    for link in root.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            href = str(link.get("href")).strip()
            return urljoin(base, href) if base else href
    return ""
