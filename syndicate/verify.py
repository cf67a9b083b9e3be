"""`syndicate verify`: does a reprint still carry the complete statement, its live links, and
the link back to the article?

A reprint (a URL, a saved page, a received `.eml` newsletter) is read as normalised text and
links (`pagetext.py`) and checked against what every copy of the article left with, taken
from the site's own manifest (`syndicate/index.json` of a dry-run build):

- statement: every sentence of every author's statement, found word for word after
  normalising; a missing or altered sentence is named with its closest match's similarity
  (rapidfuzz, on capped inputs). The whole page is searched, not only its main text.
- links: each link of the statement is an active `<a href>` whose target is the same as the
  statement's, directly or after following redirects (click-trackers, 301s, meta refresh);
  plain text where a link should be, a dead link and a link elsewhere are named.
- backlink: a link to the article's site URL, or to one that redirects there.
- canonical: where the page's `<link rel="canonical">` points; for information only.

Which article: `--article`, else the registry entry, else the article the page links back
to, else the one whose title the page carries. Results of registry entries are recorded in
`reprints-status.json` (see reprints.py). This is a tool: the core never imports it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .attribution import Statement, parse_statement
from .build import build
from .config import load_site
from .errors import SiteError
from .model import BuildOptions, Site
from .pagetext import Link, PageText, meta_refresh, normalize, normalize_url, read_email, read_html, read_plain
from .reprints import Registry, RegistryEntry, load_registry, write_status
from .sentences import find_sentences, split_sentences
from .urls import COPY_MANIFEST, copy_paths, page_file
from .webfetch import Fetcher, FetchError, decode

FETCH_TIMEOUT = 15.0
PAGE_MAX_BYTES = 5_000_000
PROBE_MAX_BYTES = 256_000  # of a link's target: enough to find a meta refresh
MAX_HOPS = 10
MAX_PROBES = 40  # link targets followed for one reprint
ALTERED = 60  # a sentence this similar to the page's closest text is "altered", less is "missing"


class UsageProblem(Exception):
    """A mistake on the command line (exit status 2), not a problem with a reprint."""


@dataclass(frozen=True, slots=True)
class Check:
    name: str  # statement, links, backlink, canonical; fetch or article when it never got that far
    ok: bool
    reason: str  # one line: the first problem, or what was found
    details: tuple[str, ...] = ()
    informational: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "reason": self.reason, "details": list(self.details),
                "informational": self.informational}


@dataclass(frozen=True, slots=True)
class Result:
    source: str
    article: str  # a slug, or "" when the article could not be told
    checks: tuple[Check, ...]
    publication: str = ""

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def what(self) -> str:
        about = ", ".join(p for p in (self.article, self.publication) if p)
        return f"{self.source} ({about})" if about else self.source

    def lines(self) -> list[str]:
        """`OK <what>` or `BROKEN <what>: <first reason>`, then one indented line per check."""
        failed = next((c for c in self.checks if not c.ok), None)
        lines = [f"OK {self.what}" if failed is None else f"BROKEN {self.what}: {failed.name}: {failed.reason}"]
        for check in self.checks:
            verdict = "info" if check.informational else "ok" if check.ok else "BROKEN"
            lines.append(f"  {check.name}: {verdict}: {check.reason}")
            lines.extend(f"    {detail}" for detail in check.details)
        return lines

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "article": self.article, "publication": self.publication, "ok": self.ok,
                "checks": [c.as_json() for c in self.checks]}


@dataclass(frozen=True, slots=True)
class Expected:
    """What every copy of one article carries, as verify compares it."""

    slug: str
    title: str
    url: str  # the article's site URL
    statements: tuple[Statement, ...]
    opening: str = ""  # the first words of its body, normalised: a page that carries it has them

    def sentences(self, is_html: bool, as_written: bool = False) -> list[str]:
        """The statements' sentences as a reader sees them: link texts in HTML, URLs in text
        (`as_written`: each bare address as the author typed it, `www.example.com` rather than
        the copies' `https://www.example.com`, as a reprint copied from the author's site has it)."""
        found = []
        for statement in self.statements:
            text = statement.visible_text if is_html else statement.text
            if as_written and not is_html:
                for segment in statement.segments:
                    if segment.kind in ("url", "domain") and segment.href != segment.text:
                        text = text.replace(segment.href, segment.text, 1)
            found += split_sentences(text)
        return found

    @property
    def targets(self) -> set[str]:
        """Every URL a reprint's links should lead to: following a redirect stops at one."""
        return {normalize_url(s.href) for st in self.statements for s in st.segments if s.href} | {normalize_url(self.url)}

    def links(self, is_html: bool) -> list[tuple[str, str]]:
        """(href, text as the page shows it) for every link of every statement, in order."""
        found = []
        for statement in self.statements:
            for segment in statement.segments:
                if segment.href:
                    shown = segment.text if is_html else segment.href.removeprefix("mailto:")
                    found.append((segment.href, shown))
        return found


@dataclass(frozen=True, slots=True)
class Reprint:
    """One thing to check: a URL or a file, maybe with the article it reprints."""

    source: str
    url: str = ""
    file: Path | None = None
    article: str = ""
    publication: str = ""
    entry: RegistryEntry | None = None


@dataclass(frozen=True, slots=True)
class Chain:
    """Where a link leads: every URL on the way, and the last answer (or failure)."""

    urls: tuple[str, ...]
    status: str
    dead: bool


@dataclass(slots=True)
class _Probes:
    """The link targets followed for one reprint, capped so a page of links cannot stall it."""

    left: int = MAX_PROBES
    skipped: list[str] = field(default_factory=list)


def verify_reprints(site_file: Path | str, sources: Sequence[str], *, article: str | None = None,
                    timeout: float = FETCH_TIMEOUT, on_result: Callable[[Result], None] | None = None,
                    record: bool = True) -> list[Result]:
    """Check each source (or every entry of reprints.yaml when there are none).

    Raises SiteError for a problem with the site or the registry (exit 1), UsageProblem for
    a bad argument (exit 2). Results of registry entries go to reprints-status.json.
    """
    site = load_site(site_file)
    expected, rendered = _expected(site_file, site)
    if article is not None and article not in expected:
        raise UsageProblem(f"--article '{article}' is not a syndicated article{_hint(article, expected)}")
    registry = load_registry(site.root, expected)
    if any(p.is_error for p in registry.problems):
        raise SiteError(registry.problems)
    reprints = _reprints(registry, sources, article)
    results: list[Result] = []
    recorded: dict[str, dict[str, Any]] = {}
    with Fetcher(timeout=timeout, max_bytes=PAGE_MAX_BYTES) as fetcher:
        checker = ReprintChecker(site, expected, rendered, fetcher)
        for reprint in reprints:
            for result in checker.verify(reprint):
                results.append(result)
                if on_result is not None:
                    on_result(result)
                entry = reprint.entry
                if entry is not None and result.article == entry.article:
                    recorded[entry.source] = _status(entry, result)
    if record and recorded:
        write_status(site.root, recorded, registry)
    return results


def _expected(site_file: Path | str, site: Site) -> tuple[dict[str, Expected], dict[str, bytes]]:
    """Every syndicated article, from the manifest a dry-run build makes: the same data every
    copy was made from, whatever the permalinks or authors."""
    report = build(site_file, BuildOptions(dry_run=True))
    manifest = json.loads(report.rendered[COPY_MANIFEST])
    expected = {}
    for entry in manifest["articles"]:
        ids = entry.get("authors") or [entry["author_id"]]
        statements = tuple(parse_statement(r.statement) for i in ids if (r := site.authors[i].reprint))
        opening = _opening(report.rendered.get(copy_paths(entry["slug"])["text"], b""))
        expected[entry["slug"]] = Expected(entry["slug"], entry["title"], entry["url"], statements, opening)
    return expected, dict(report.rendered)


def _opening(text_copy: bytes, words: int = 8) -> str:
    """The first words of an article's body, from its plain-text copy (title and underline,
    byline, then the body's first paragraph)."""
    blocks = [block for block in re.split(r"\n[ \t]*\n", text_copy.decode("utf-8", "replace")) if block.strip()]
    return normalize(" ".join(blocks[2].split()[:words])).strip() if len(blocks) > 2 else ""


def _reprints(registry: Registry, sources: Sequence[str], article: str | None) -> list[Reprint]:
    if not sources:
        if not registry.entries:
            raise UsageProblem("nothing to verify: give URLs or files, or list reprints in reprints.yaml beside site.yaml")
        return [_from_entry(entry, article) for entry in registry.entries]
    by_url = {normalize_url(e.url): e for e in registry.entries if e.url}
    by_file = {e.file.resolve(): e for e in registry.entries if e.file}
    found = []
    for source in sources:
        if re.match(r"^https?://", source, re.IGNORECASE):
            if not urlsplit(source).hostname:
                raise UsageProblem(f"'{source}' is not a valid URL")
            entry = by_url.get(normalize_url(source))
            found.append(_from_entry(entry, article, source) if entry else Reprint(source, url=source, article=article or ""))
            continue
        path = Path(source)
        if not path.is_file():
            raise UsageProblem(f"no such file: '{source}' (give a URL starting with http:// or https://, a saved page or an .eml file)")
        entry = by_file.get(path.resolve())
        found.append(_from_entry(entry, article, source) if entry else Reprint(source, file=path, article=article or ""))
    return found


def _from_entry(entry: RegistryEntry, article: str | None, source: str = "") -> Reprint:
    return Reprint(source or entry.source, url=entry.url, file=entry.file, article=article or entry.article,
                   publication=entry.publication, entry=entry)


def _status(entry: RegistryEntry, result: Result) -> dict[str, Any]:
    failed = next((c for c in result.checks if not c.ok), None)
    return {"source": entry.source, "article": result.article, "publication": entry.publication, "ok": result.ok,
            "reason": f"{failed.name}: {failed.reason}" if failed else "",
            "checked": datetime.now(UTC).replace(microsecond=0).isoformat()}


class ReprintChecker:
    """Checks reprints of one site's articles, following links with `fetcher`."""

    def __init__(self, site: Site, expected: dict[str, Expected], rendered: dict[str, bytes], fetcher: Fetcher) -> None:
        self.site = site
        self.expected = expected
        self.rendered = rendered
        self.fetcher = fetcher
        self.by_url = {normalize_url(e.url): slug for slug, e in expected.items()}
        self.chains: dict[tuple[str, str], Chain] = {}

    def verify(self, reprint: Reprint) -> list[Result]:
        page = self._read(reprint)
        if isinstance(page, Check):
            return [Result(reprint.source, reprint.article, (page,), reprint.publication)]
        slugs = [reprint.article] if reprint.article else self._which(page)
        if not slugs:
            check = Check("article", False, "cannot tell which article this reprints: it neither links back to one "
                          "nor carries a syndicated article's title; pass --article SLUG")
            return [Result(reprint.source, "", (check,), reprint.publication)]
        return [self.check(page, self.expected[slug], source=reprint.source, publication=reprint.publication,
                           address=reprint.url) for slug in slugs]

    def check(self, page: PageText, expected: Expected, *, source: str, publication: str = "", address: str = "") -> Result:
        """One page against one article; `address` is the page's own URL, when it has one."""
        probes = _Probes()
        statement, region = _check_statement(page, expected.sentences(page.is_html))
        if not statement.ok and not page.is_html:
            written = _check_statement(page, expected.sentences(False, as_written=True))
            statement, region = written if written[0].ok else (statement, region)
        links = self._check_links(page, expected, region, probes)
        backlink = self._check_backlink(page, expected, probes)
        checks = [statement, links, backlink, _check_canonical(page, expected, address)]
        if probes.skipped:
            checks[1] = Check(links.name, links.ok, links.reason, (*links.details, f"not followed (over {MAX_PROBES} links): "
                                                                              f"{', '.join(probes.skipped[:5])}"))
        return Result(source, expected.slug, tuple(checks), publication)

    # Reading ----------------------------------------------------------------------------

    def _read(self, reprint: Reprint) -> PageText | Check:
        if reprint.url:
            try:
                response = self.fetcher.fetch(reprint.url)
            except FetchError as exc:
                return Check("fetch", False, f"unreachable: {exc.reason}")
            kind = response.content_type
            if kind in ("text/plain",):
                return read_plain(response.text)
            if kind in ("message/rfc822",):
                return read_email(response.content)
            if kind and "html" not in kind and "xml" not in kind:
                return Check("fetch", False, f"not a web page: {response.url} is {kind}")
            return read_html(response.text, response.url)
        assert reprint.file is not None
        try:
            data = reprint.file.read_bytes()
        except OSError as exc:
            return Check("fetch", False, f"cannot read {reprint.source}: {exc.strerror}")
        suffix = reprint.file.suffix.lower()
        if suffix == ".eml":
            return read_email(data)
        if suffix == ".txt":
            return read_plain(decode(data))
        return read_html(decode(data))

    def _which(self, page: PageText) -> list[str]:
        """The articles the page both links back to and names by title (a newsletter may carry
        several), else the one whose title it carries, else those it links back to. Of several,
        those whose body's first words the page carries: an article that links to another one
        names it and links to it, and is still a reprint of one article."""
        linked = list(dict.fromkeys(s for link in page.links if (s := self.by_url.get(normalize_url(link.href)))))
        titled = sorted((s for s, e in self.expected.items() if _title(e) and _title(e) in page.text),
                        key=lambda s: -len(_title(self.expected[s])))
        both = [s for s in linked if s in titled]
        carried = [s for s in titled if self.expected[s].opening and self.expected[s].opening in page.text]
        if carried and not set(carried) & set(both):
            return carried  # a reprint that lost its link back, linking to another article it names
        if both:
            return self._carried(page, both)
        if titled:
            if len(titled) > 1 and len(_title(self.expected[titled[0]])) == len(_title(self.expected[titled[1]])):
                return []
            return titled[:1]
        return self._carried(page, linked)

    def _carried(self, page: PageText, slugs: list[str]) -> list[str]:
        if len(slugs) < 2:
            return slugs
        carried = [s for s in slugs if self.expected[s].opening and self.expected[s].opening in page.text]
        return carried or slugs

    # Links --------------------------------------------------------------------------------

    def _check_links(self, page: PageText, expected: Expected, region: tuple[int, int] | None, probes: _Probes) -> Check:
        wanted = expected.links(page.is_html)
        if not wanted:
            return Check("links", True, "the statement has no links")
        targets = expected.targets
        used: set[int] = set()
        found: dict[int, str] = {}
        tried: dict[int, tuple[Link, Chain]] = {}
        shown = [normalize(text).strip() for _, text in wanted]
        # Direct links first: with the statement's words anywhere on the page, then with other
        # words within the statement (a byline linking the author's site is not the statement's
        # link); then links that may redirect there.
        for same_text in (True, False):
            for i, (href, _text) in enumerate(wanted):
                for j, link in enumerate(page.links):
                    if i in found or j in used or normalize_url(link.href) != normalize_url(href):
                        continue
                    if link.text != shown[i] if same_text else not _within(link, region):
                        continue
                    used.add(j)
                    found[i] = f"“{_clip(wanted[i][1])}” links to {link.href}"
        for near in (False, True):
            for i, (href, _text) in enumerate(wanted):
                if i in found:
                    continue
                for j, link in enumerate(page.links):
                    if j in used or not link.href.lower().startswith("http"):
                        continue
                    if not near and link.text != shown[i]:
                        continue
                    if near and not _within(link, region):
                        continue
                    chain = self._follow(link.href, expected.slug, targets, probes)
                    if chain is None:
                        continue
                    if normalize_url(chain.urls[-1]) == normalize_url(href):
                        used.add(j)
                        found[i] = f"“{_clip(wanted[i][1])}” links to {href} through {' → '.join(chain.urls[:-1])}"
                        break
                    if not near:
                        tried.setdefault(i, (link, chain))
        problems = [self._link_problem(page, href, text, tried.get(i)) for i, (href, text) in enumerate(wanted) if i not in found]
        details = [found[i] for i in sorted(found)]
        if problems:
            return Check("links", False, problems[0], tuple(problems[1:] + details))
        kind = "active links" if page.is_html else "URLs written out (a plain-text message)"
        return Check("links", True, f"all {len(wanted)} statement links are {kind} to the same targets", tuple(details))

    def _link_problem(self, page: PageText, href: str, text: str, tried: tuple[Link, Chain] | None) -> str:
        if tried is not None:
            link, chain = tried
            if chain.dead:
                return f"link “{_clip(text)}” is dead: {' → '.join(chain.urls)}: {chain.status}"
            return f"link “{_clip(text)}” points to {chain.urls[-1]}, not {href}"
        if not page.is_html:
            return f"the statement's URL {href.removeprefix('mailto:')} is not written out"
        if normalize(text).strip() in page.text:
            return f"link “{_clip(text)}” is plain text, not an active link to {href}"
        return f"the link to {href} (“{_clip(text)}”) is missing"

    def _follow(self, href: str, slug: str, targets: set[str], probes: _Probes) -> Chain | None:
        """Follow redirects (HTTP and meta refresh) until a target, an answer, or a failure."""
        key = (href, slug)
        if key in self.chains:
            return self.chains[key]
        if probes.left <= 0:
            probes.skipped.append(href)
            return None
        probes.left -= 1
        urls = [href]
        chain: Chain | None = None
        for _ in range(MAX_HOPS):
            if normalize_url(urls[-1]) in targets:
                chain = Chain(tuple(urls), "", False)
                break
            try:
                response = self.fetcher.fetch(urls[-1], follow_redirects=False, errors_ok=True,
                                              max_bytes=PROBE_MAX_BYTES, truncate=True)
            except FetchError as exc:
                chain = Chain(tuple(urls), exc.reason, True)
                break
            if not response.ok:
                chain = Chain(tuple(urls), response.status_line, True)
                break
            following = response.location or (meta_refresh(response.text, response.url) if "html" in response.content_type else "")
            if not following or following in urls:
                chain = Chain(tuple(urls), response.status_line, False)
                break
            urls.append(following)
        if chain is None:
            chain = Chain(tuple(urls), f"more than {MAX_HOPS} redirects", True)
        self.chains[key] = chain
        return chain

    # Backlink ----------------------------------------------------------------------------

    def _check_backlink(self, page: PageText, expected: Expected, probes: _Probes) -> Check:
        target = normalize_url(expected.url)
        direct = [link for link in page.links if normalize_url(link.href) == target]
        if direct:
            more = f" ({len(direct)} links)" if len(direct) > 1 else ""
            return Check("backlink", True, f"links back to {expected.url}{more}")
        site_host = normalize_url(self.site.url).split("/")[2]
        names = {_title(expected), normalize(self.site.title).strip(), normalize(expected.url).strip()}
        dead: list[str] = []
        for link in page.links:
            parts = normalize_url(link.href).split("/")
            on_site = len(parts) > 2 and parts[2] == site_host
            if not (on_site or link.text in names) or not link.href.lower().startswith("http"):
                continue
            if on_site:
                alias = self._alias(link.href)
                if alias is not None:
                    if normalize_url(alias) == target:
                        return Check("backlink", True, f"links back to {expected.url} through {link.href}")
                    continue
            chain = self._follow(link.href, expected.slug, expected.targets, probes)
            if chain is None:
                continue
            if normalize_url(chain.urls[-1]) == target:
                return Check("backlink", True, f"links back to {expected.url} through {' → '.join(chain.urls[:-1])}")
            if chain.dead:
                dead.append(f"{' → '.join(chain.urls)}: {chain.status}")
        if dead:
            # A link named like the article that leads nowhere: another address, or a shortener gone dead.
            return Check("backlink", False, f"no link back to {expected.url}; the link that names it leads to {dead[0]}",
                         tuple(dead[1:]))
        return Check("backlink", False, f"no link back to {expected.url}")

    def _alias(self, href: str) -> str | None:
        """Where a page of this site sends a reader, from the site's own build: its target
        when it is a redirect page (an alias), "" for any other page, None if unknown."""
        base = normalize_url(self.site.url).rstrip("/") + "/"
        link = normalize_url(href)
        if not (link + "/").startswith(base):
            return None
        relative = link[len(base):].split("?")[0]
        for candidate in (page_file(relative + "/") if relative else "index.html", relative):
            data = self.rendered.get(candidate)
            if data is not None:
                return meta_refresh(data.decode("utf-8", "replace"), self.site.url + candidate) or ""
        return None


def _check_statement(page: PageText, sentences: list[str]) -> tuple[Check, tuple[int, int] | None]:
    """Every sentence present; returns the check and the span of page text the statement covers."""
    region, missing = find_sentences(page, sentences)
    total = len(sentences)
    problems = []
    for gap in missing:
        state = "altered" if gap.similarity >= ALTERED else "missing"
        line = f"sentence {gap.index + 1} of {total} {state} (similarity {gap.similarity:.0f}%): “{_clip(gap.sentence, 90)}”"
        problems.append((line, f"closest on the page: “{_clip(gap.closest, 90)}”" if gap.similarity >= ALTERED else ""))
    if problems:
        details = [d for pair in problems for d in pair if d][1:]
        return Check("statement", False, problems[0][0], tuple(details)), region
    note = " (page text cut at its first million characters)" if page.truncated else ""
    return Check("statement", True, f"complete: all {total} sentences found{note}"), region


def _within(link: Link, region: tuple[int, int] | None) -> bool:
    return region is not None and region[0] <= link.start < region[1]


def _check_canonical(page: PageText, expected: Expected, address: str) -> Check:
    if not page.is_html:
        return Check("canonical", True, "none (a plain-text message)", informational=True)
    if not page.canonical:
        return Check("canonical", True, "the page has no canonical link", informational=True)
    if normalize_url(page.canonical) == normalize_url(expected.url):
        return Check("canonical", True, f"points to the article: {page.canonical}", informational=True)
    if address and normalize_url(page.canonical) == normalize_url(address):
        return Check("canonical", True, f"points to the reprint itself: {page.canonical}", informational=True)
    return Check("canonical", True, f"points to {page.canonical}", informational=True)


def _title(expected: Expected) -> str:
    return normalize(expected.title).strip()


def _clip(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _hint(slug: str, known: Iterable[str]) -> str:
    import difflib

    names = sorted(known)
    close = difflib.get_close_matches(slug, names, n=3)
    if close:
        return f"; did you mean {', '.join(close)}?"
    return f" (syndicated: {', '.join(names[:8])})" if names else " (the site has no syndicated articles)"
