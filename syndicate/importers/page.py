"""`syndicate import page`: one article per saved page, web address or text copy.

For each source: read it (a URL is fetched; a file is HTML when it looks like HTML, else a
text copy), extract the article (`htmlpage.py` or `textpage.py`), lift the reprint terms
and the republish credit (`terms.py`) and take them out of the body, settle the author
(the byline, the statement's copyright line, or `--author`), and write
`content/<slug>.md` through `common.py`. What was found is printed with how sure it is;
what needs a human goes to import-report.md. A source that fails is reported and the
others still import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from ..attribution import find_links
from ..errors import Problem, SiteError
from ..model import Original
from .articles import ArticleDraft, write_article
from .common import SiteFolder, append_report, clean_text
from .extract import GUESS, LIKELY, SURE, Block, Extract, Found
from .fetch import fetch_page
from .record import ImportRecord, Outcome, Written
from .terms import Lifted, lift_terms

_HTML_SIGNS = re.compile(rb"<!doctype\s+html|<html[\s>]|<body[\s>]|<head[\s>]|<(p|div|article|h1|h2)[\s>]", re.IGNORECASE)
_MAX_FILE_BYTES = 20_000_000
MAX_SUMMARY = 300


@dataclass(frozen=True, slots=True)
class PageOptions:
    into: Path = Path(".")
    author: str = ""
    original_url: str = ""
    force: bool = False
    today: date | None = None  # the date used when a page has none (tests fix it)


@dataclass(frozen=True, slots=True)
class PageResult:
    source: str
    written: Written | None
    lines: tuple[str, ...]  # what was found, for the terminal
    problems: tuple[Problem, ...] = ()  # for import-report.md


@dataclass
class _Notes:
    source: str
    items: list[Problem] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        self.items.append(Problem(self.source, max(1, line), message))


def import_pages(sources: Sequence[str], options: PageOptions, echo: Callable[[str], None]) -> list[PageResult]:
    """Import every source into the site; returns one result per source (written None: failed)."""
    if options.original_url and not options.original_url.lower().startswith(("http://", "https://")):
        raise SiteError.about("--original-url", f"'{options.original_url}' is not an absolute http(s) address")
    site = SiteFolder.open(options.into)
    record = ImportRecord.load(site.root)
    results = []
    for source in sources:
        state = site.checkpoint()
        try:
            result = _import_one(source, site, record, options)
        except SiteError as exc:
            result = PageResult(source, None, tuple(f"{p}" for p in exc.problems), exc.problems)
        if result.written is None or not result.written.outcome.imported:
            site.rollback(state)  # no author or terms added for an article that was not written
        results.append(result)
        for line in result.lines:
            echo(line)
    if any(r.written is not None and r.written.outcome.imported for r in results):
        if site.save():
            echo(f"updated {site.shown}")
        record.save()
    problems = [p for r in results for p in r.problems]
    placeholder = site.placeholder_problem()
    if placeholder is not None and site.site_file.exists():
        problems.append(placeholder)
    if site.site_file.exists() and problems:
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
        report = append_report(site.root, f"{stamp} import page", problems)
        if report is not None:
            echo(f"{len(problems)} item(s) for you in {report.name}")
    return results


def _import_one(source: str, site: SiteFolder, record: ImportRecord, options: PageOptions) -> PageResult:
    extract, identity = _read(source, site.language, options.original_url)
    notes = _Notes(source)
    for line, message in extract.notes:
        notes.add(line, message)
    lifted = lift_terms(extract.units)
    for line, message in lifted.doubts:
        notes.add(line, message)
    body, counts = _body(extract.blocks, lifted, notes)
    if not body.strip():
        reason = next((message for _line, message in extract.notes if "redirects to" in message), "")
        raise SiteError.one(source, 1, reason or f"no article text found in this {extract.kind}")
    if extract.title is None:
        raise SiteError.one(source, 1, f"no title found in this {extract.kind}; nothing imported")
    author_id, author_line = _settle_author(extract, lifted, site, options, notes)
    terms_line = _settle_terms(lifted, author_id, site, notes)
    original, original_line = _settle_original(extract, lifted, options, notes)
    published = extract.published
    if published is not None and published[1].sure == GUESS:
        notes.add(1, f"the date {published[0].isoformat()} is {published[1].how}; check `date` in the front matter")
    if published is None:
        today = options.today or date.today()
        notes.add(1, f"no publication date found; used {today.isoformat()}: correct `date` in the front matter")
        published = (today, Found(today.isoformat(), "today's date, none found", GUESS))
    draft = ArticleDraft(
        title=clean_text(extract.title.value), date=published[0], author=author_id, body=body, source=identity,
        tags=tuple(t for t in (clean_text(t) for t in extract.tags) if t), summary=_summary(extract.summary),
        original=original,
    )
    written = write_article(site, draft, record, force=options.force)
    if written.reason:
        notes.add(1, written.reason)
    shown = written.path.relative_to(site.root).as_posix()
    lines = [
        f"{source}: {extract.kind} -> {shown} ({written.outcome.value})",
        f"  title:    {draft.title}  [{_how(extract.title)}]",
        author_line,
        f"  date:     {published[0].isoformat()}  [{_how(published[1])}]",
        f"  body:     {counts}",
        terms_line,
        original_line,
    ]
    if written.outcome is Outcome.KEPT:
        lines.append(f"  kept:     {written.reason}")
    return PageResult(source, written, tuple(lines), tuple(notes.items))


def _summary(description: str) -> str:
    """The page's description as the summary, unless it is an excerpt too long to be one
    (the build then derives the summary from the first paragraph, as for any article)."""
    text = clean_text(description)
    return text if len(text) <= MAX_SUMMARY else ""


def _read(source: str, language: str, original_url: str = "") -> tuple[Extract, str]:
    """The extract of one source, and the identity the import record keeps for it."""
    from .htmlpage import extract_html
    from .textpage import extract_text

    if re.match(r"^https?://", source, re.IGNORECASE):
        fetched = fetch_page(source)
        if fetched.content_type == "text/plain":
            return extract_text(fetched.data.decode(fetched.charset or "utf-8", "replace"), language), source
        if fetched.content_type not in ("text/html", "application/xhtml+xml", ""):
            raise SiteError.one(source, 1, f"the server sent {fetched.content_type}, not a web page")
        data: bytes | str = fetched.data.decode(fetched.charset, "replace") if fetched.charset else fetched.data
        return extract_html(data, fetched.url, "web page"), source
    path = Path(source)
    try:
        if path.stat().st_size > _MAX_FILE_BYTES:
            raise SiteError.one(source, 1, f"the file is larger than {_MAX_FILE_BYTES:,} bytes; is it really one page?")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SiteError.one(source, 1, "no such file (give a saved page, a text copy or an http(s) address)") from None
    except OSError as exc:
        raise SiteError.one(source, 1, f"cannot read the file: {exc.strerror or exc}") from None
    identity = str(path.absolute())
    # A saved page opens with its markup (a doctype, a tag, a "saved from" comment); a text
    # copy opens with words, even when it quotes HTML further down (a code sample).
    if raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and _HTML_SIGNS.search(raw[:20000]):
        return extract_html(raw, said_url=original_url), identity
    return extract_text(_decode(raw), language), identity


def _decode(raw: bytes) -> str:
    """A text copy saved by an editor: UTF-8 nearly always, else the Windows code page."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def _body(blocks: tuple[Block, ...], lifted: Lifted, notes: _Notes) -> tuple[str, str]:
    """The body's Markdown without the lifted lines, and a count of what is in it."""
    gone = [_folded(text) for text in lifted.removed]
    kept: list[str] = []
    for block in blocks:
        text = _folded(block.text)
        if not text or text in gone or any(text in g for g in gone):
            continue
        inside = [g for g in gone if g in text]
        if inside:
            rest = block.text
            for part in lifted.removed:
                rest = re.sub(r"\s*".join(re.escape(w) for w in part.split()), " ", rest, flags=re.IGNORECASE)
            rest = clean_text(rest)
            if len(rest.split()) >= 3:
                kept.append(rest)
                notes.add(block.line, "this paragraph held reprint terms as well as article text; "
                                      "the terms were taken out and its formatting dropped: check it")
            continue
        kept.append(block.markdown)
    headings = sum(1 for b in kept if b.startswith("#"))
    lists = sum(1 for b in kept if b.startswith(("- ", "1. ")))
    words = sum(len(b.split()) for b in kept)
    counts = f"{_count(len(kept) - headings - lists, 'paragraph')}, {_count(headings, 'heading')}, {_count(lists, 'list')}, {words} words"
    return "\n\n".join(kept) + "\n", counts


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def _settle_author(extract: Extract, lifted: Lifted, site: SiteFolder, options: PageOptions, notes: _Notes) -> tuple[str, str]:
    """The author's id in site.yaml (added when new), and the line that says how it was chosen."""
    named = lifted.named_author
    page_names = [n.strip() for n in extract.author.value.split(";")] if extract.author else []
    if options.author:
        found = Found(options.author, "--author", SURE)
    elif page_names and named and _folded(named) not in (_folded(n) for n in page_names):
        found = Found(named, "the reprint statement's copyright line", LIKELY)
        notes.add(lifted.statement_line, f"the page names {extract.author.value if extract.author else ''} as the author, "
                                         f"but the reprint statement is {named}'s; imported as {named}'s (use --author to choose)")
    elif page_names:
        assert extract.author is not None
        agreed = bool(named)
        found = Found(page_names[0], extract.author.how + (" and the copyright line" if agreed else ""), SURE if agreed else extract.author.sure)
        if len(page_names) > 1:
            notes.add(1, f"the page names several authors ({', '.join(page_names)}); imported under {page_names[0]} only")
    elif named:
        found = Found(named, "the reprint statement's copyright line", LIKELY)
    else:
        # Never the site's own author: an article found on someone's page and credited to the
        # site's owner would go out under the owner's reprint statement.
        found = Found("Unknown Author", "no byline found", GUESS)
        notes.add(1, f"no author found on the page; imported under {found.value}: set `author` in the front matter (or re-run with --author NAME)")
    author_id = site.find_author(found.value)
    status = f"in {site.site_file.name}"
    if author_id is None:
        author_id = site.add_author(found.value, url=_author_url(lifted))
        status = f"added to {site.site_file.name}"
    return author_id, f"  author:   {found.value} -> {author_id}, {status}  [{_how(found)}]"


def _author_url(lifted: Lifted) -> str:
    if lifted.reprint is None:
        return ""
    for _start, _end, href, kind in find_links(re.sub(r"\]\(([^)]+)\)", r"] \1 ", lifted.reprint.statement)):
        if kind in ("url", "domain"):
            parts = urlsplit(href)
            return f"{parts.scheme}://{(parts.hostname or '').lower()}/"
    return ""


def _settle_terms(lifted: Lifted, author_id: str, site: SiteFolder, notes: _Notes) -> str:
    reprint = lifted.reprint
    name = site.author_name(author_id)
    if reprint is None:
        if site.reprint_of(author_id) is None:
            notes.add(1, f"no reprint terms found on the page, and {name} has none in site.yaml: "
                         "this article gets no syndicated copies until you add them")
            return "  reprint:  none found on the page"
        return f"  reprint:  none found on the page; {author_id} keeps the terms in site.yaml"
    links = len(find_links(re.sub(r"\]\(([^)]+)\)", r"] \1 ", reprint.statement)))
    statement = f"statement ({_count(links, 'link')})"
    parts = ", ".join(p for p, v in (("preamble", reprint.preamble), (statement, "x"), ("commercial", reprint.commercial)) if v)
    named = lifted.named_author
    if named and site.find_author(named) != author_id and _folded(named) != _folded(name):
        notes.add(lifted.statement_line, f"the reprint statement is {named}'s, so it was not given to {name}; "
                                         f"statement: {' '.join(reprint.statement.split())}")
        return f"  reprint:  {parts}: names {named}, not {name}: not used, see the report  [{lifted.sure}]"
    outcome = site.offer_reprint(author_id, reprint)
    if outcome == "different":
        notes.items.append(site.problem(author_id, f"{notes.source} shows different reprint terms for {name}; site.yaml was not changed. "
                                                   f"The page's statement: {' '.join(reprint.statement.split())}"))
    where = {"set": f"added to {author_id} in site.yaml", "same": f"same as {author_id}'s in site.yaml",
             "different": f"differ from {author_id}'s in site.yaml: kept those, see the report"}[outcome]
    return f"  reprint:  {parts}: {where}  [{lifted.sure}]"


def _settle_original(extract: Extract, lifted: Lifted, options: PageOptions, notes: _Notes) -> tuple[Original | None, str]:
    credit = lifted.original
    if options.original_url:
        host = (urlsplit(options.original_url).hostname or "").removeprefix("www.")
        original = Original(options.original_url, credit.site if credit and credit.site else host, credit.note if credit else "")
        return original, f"  original: {original.url}  [sure: --original-url]"
    if credit is not None and credit.url:
        return credit, f"  original: {credit.url} ({credit.site}): \"{credit.note}\"  [{SURE}: the credit line's link]"
    if credit is not None and extract.canonical:
        original = replace(credit, url=extract.canonical, site=credit.site or (urlsplit(extract.canonical).hostname or "").removeprefix("www."))
        return original, f"  original: {original.url}: \"{credit.note}\"  [{LIKELY}: the page's canonical link]"
    if credit is not None:
        notes.add(lifted.credit_line, f"the credit \"{credit.note}\" links to no original post; add `original: {{url: ...}}` "
                                      "to the front matter (or re-run with --original-url URL)")
        return None, f"  original: credit \"{credit.note}\" without a link: see the report"
    if extract.canonical:
        host = (urlsplit(extract.canonical).hostname or "").removeprefix("www.")
        notes.add(1, f"no credit line, but the page's canonical link points to {extract.canonical}; recorded as the original")
        return Original(extract.canonical, host, ""), f"  original: {extract.canonical}  [{LIKELY}: the page's canonical link]"
    return None, "  original: none (not a republished copy)"


def _how(found: Found) -> str:
    return f"{found.sure}: {found.how}"
