"""`syndicate import jekyll|hugo|pelican|wordpress`: a whole site moved in, its old addresses kept.

Each source module reads its generator's tree (or export) into a `SourceSite`: documents
with their front matter as written, bodies already converted to our Markdown, the address
each one had, and the static files. Everything after that is shared and lives here: front
matter mapped to ours (`meta.py`), authors settled in site.yaml, slugs made unique, the
permalink pattern chosen (or aliases added) so that every old address still answers, files
written through the import record, then a check of the result, the report and the summary.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import Problem, SiteError, display_path
from ..frontmatter import is_markdown
from ..model import BuildOptions
from ..urls import DEFAULT_ARTICLE_PERMALINK, alias_file, article_path, is_safe_slug, page_file, parse_alias, slugify
from .articles import ArticleDraft, write_article
from .common import SiteFolder, append_report, clean_text
from .meta import as_list, plain_summary, read_flag, read_names, read_when, split_author_names
from .record import ImportRecord, Outcome, write_owned

UPDATED_KEYS = ("lastmod", "last_modified_at", "modified", "updated", "last_modified")
SUMMARY_KEYS = ("summary", "excerpt", "description")
IMAGE_KEYS = ("image", "cover", "featured_image", "featuredimage", "thumbnail")
MAX_FILE_BYTES = 50_000_000
UNKNOWN_AUTHOR = "Unknown Author"
UNKNOWN_AUTHOR_ID = "unknown-author"
_SETEXT = re.compile(r"^\s*([^\n]+)\n(?:=+|-+)[ \t]*(?:\n|$)")
_ATX = re.compile(r"^\s*#{1,2}[ \t]+([^\n]+?)[ \t#]*(?:\n|$)")


@dataclass(frozen=True, slots=True)
class SourceDoc:
    """One post or page of the old site, its body already in our Markdown."""

    source: str  # as the report shows it: relative to the source folder, or the export's name
    meta: Mapping[str, Any]  # front matter as written, keys lower-cased
    lines: Mapping[str, int]  # the line of each front-matter key in the source file
    body: str
    slug: str  # the slug the old site used
    old_path: str  # the site path it was served at ("2016/01/01/title.html"), "" when unknown
    is_page: bool = False
    file_date: dt.date | dt.datetime | None = None  # from the file name
    folder: str = ""  # under content/ (a Hugo page bundle keeps its folder, with its images)
    is_draft: bool = False
    notes: tuple[Problem, ...] = ()
    line: int = 1  # where the document starts in the source (an export holds many)

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


@dataclass(frozen=True, slots=True)
class AuthorInfo:
    name: str
    url: str = ""
    bio: str = ""


@dataclass(frozen=True, slots=True)
class StaticFile:
    path: Path
    target: str  # relative to content/, posix
    source: str


@dataclass(frozen=True, slots=True)
class SourceSite:
    kind: str  # "Jekyll", "Hugo", "Pelican", "WordPress"
    origin: str  # the folder or export imported, as typed
    settings: Mapping[str, str]  # title, url, description, language, timezone for a new site.yaml
    pattern: str | None  # a `permalinks.article` under which the old addresses stay the same
    docs: tuple[SourceDoc, ...]
    files: tuple[StaticFile, ...] = ()
    authors: Mapping[str, AuthorInfo] = field(default_factory=dict)  # by the key documents use
    default_author: str = ""  # the site's author, for documents that name none
    notes: tuple[Problem, ...] = ()
    extra: tuple[str, ...] = ()  # further summary lines ("12 comments not imported")


@dataclass(frozen=True, slots=True)
class SiteOptions:
    into: Path = Path(".")
    force: bool = False
    today: dt.date | None = None  # the date used when a document has none (tests fix it)
    check: bool = True  # check the imported site and report what the build would warn about


@dataclass(frozen=True, slots=True)
class ImportSummary:
    articles: int
    pages: int
    authors: int
    files: int
    redirects: int
    kept: int
    report_lines: int
    report: Path | None

    @property
    def imported(self) -> bool:
        return self.articles + self.pages > 0


@dataclass(frozen=True, slots=True)
class _Planned:
    doc: SourceDoc
    draft: ArticleDraft


def import_site(source: SourceSite, options: SiteOptions, echo: Callable[[str], None]) -> ImportSummary:
    """Write the old site's documents and files into the site at `options.into`."""
    site = SiteFolder.open(options.into)
    record = ImportRecord.load(site.root)
    site.adopt_settings(source.settings)
    notes: list[Problem] = list(source.notes)
    authors_before = set(site.author_ids())
    targets = {f.target for f in source.files}
    planned = [_plan(doc, source, site, targets, options, notes) for doc in source.docs]
    planned = _unique_slugs(planned, notes)
    tz = _zone(site.timezone)
    pattern = _choose_pattern(site, source, planned, tz)
    planned = _add_old_addresses(planned, pattern, tz, notes)

    counts: dict[str, int] = {}
    for item in planned:
        notes.extend(item.doc.notes)
        try:
            written = write_article(site, item.draft, record, force=options.force)
        except SiteError as exc:
            notes.extend(exc.problems)
            continue
        kind = "page" if item.draft.is_page else "article"
        counts[f"{kind} {written.outcome.value}"] = counts.get(f"{kind} {written.outcome.value}", 0) + 1
        if written.reason:
            notes.append(Problem(item.doc.source, item.doc.line, written.reason))
        if written.outcome.imported:
            counts[kind] = counts.get(kind, 0) + 1
            counts["redirects"] = counts.get("redirects", 0) + len(item.draft.aliases)
    if counts.get("article", 0) + counts.get("page", 0):
        counts["files"] = _copy_files(site, source.files, record, options.force, notes, counts)
        if site.save():
            echo(f"updated {site.shown}")
        record.save()
    imported = counts.get("article", 0) + counts.get("page", 0) > 0
    if counts.get("page", 0) > 1 and not site.has_menu:
        notes.append(Problem(site.shown, 1, f"the header menu lists every page ({counts['page']} imported), whatever the old "
                                            "site's menu showed; add `menu:` to site.yaml to choose which"))
    if imported and options.check:
        notes.extend(_check_site(site))
    placeholder = site.placeholder_problem()
    if placeholder is not None and site.site_file.exists():
        notes.append(placeholder)
    report = None
    if site.site_file.exists() and notes:
        stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        report = append_report(site.root, f"{stamp} import {source.kind.lower()} {source.origin}", notes)
    added = len(set(site.author_ids()) - authors_before) if imported else 0
    summary = ImportSummary(counts.get("article", 0), counts.get("page", 0), added, counts.get("files", 0),
                            counts.get("redirects", 0), counts.get("article kept", 0) + counts.get("page kept", 0),
                            len(notes), report)
    for line in _summary_lines(source, summary, counts, site, pattern):
        echo(line)
    return summary


# ---------------------------------------------------------------------------------------
# Front matter: theirs to ours


def _plan(doc: SourceDoc, source: SourceSite, site: SiteFolder, targets: set[str], options: SiteOptions,
          notes: list[Problem]) -> _Planned:
    meta = doc.meta
    title = clean_text(str(meta.get("title") or ""))
    if not title:
        title = doc.slug.replace("-", " ").replace("_", " ").strip().capitalize() or "Untitled"
        notes.append(Problem(doc.source, doc.line, f"no title; imported as \"{title}\": set `title` in the front matter"))
    when = read_when(meta.get("date")) or doc.file_date
    if when is None:
        when = read_when(meta.get("publishdate")) or read_when(meta.get("pubdate"))
    if when is None:
        today = options.today or dt.date.today()
        why = f"the date '{meta.get('date')}' is not one syndicate reads" if meta.get("date") else "no date"
        if not doc.is_page or meta.get("date"):  # a stand-alone page needs no date
            notes.append(Problem(doc.source, doc.line_of("date"), f"{why}; used {today.isoformat()}: correct `date` in the front matter"))
        when = today
    updated = next((u for key in UPDATED_KEYS if (u := read_when(meta.get(key))) is not None), None)
    if updated is not None and _as_date(updated) <= _as_date(when):
        updated = None  # not a later change
    author_ids = _authors(doc, source, site, notes)
    summary = next((s for key in SUMMARY_KEYS if (s := plain_summary(meta.get(key)))), "")
    is_draft = doc.is_draft or read_flag(meta.get("draft")) is True or read_flag(meta.get("published")) is False
    if not doc.body.strip():
        links = [f"{key}: {value}" for key, value in meta.items() if isinstance(value, str) and value.startswith(("http://", "https://"))]
        held = f" (its front matter holds {', '.join(links[:2])}, which the old theme may have shown)" if links else ""
        notes.append(Problem(doc.source, doc.line, f"no body text: imported as an empty article{held}; write its text "
                                                   "or leave it out"))
    draft = ArticleDraft(
        title=title, date=when, author=author_ids[0], coauthors=tuple(author_ids[1:]), body=_without_title(doc.body, title),
        source=doc.source, tags=tuple(read_names([meta.get("tags"), meta.get("categories"), meta.get("category")])),
        summary=summary, slug=_safe_slug(doc.slug, title), folder=_folder(doc),
        updated=updated, aliases=_declared_aliases(doc, source, notes), is_draft=is_draft,
        image=_lead_image(doc, targets, notes),
    )
    return _Planned(doc, draft)


def _folder(doc: SourceDoc) -> str:
    """Where the document goes under content/: a page under pages/ (a page bundle's own
    folder kept inside it, so its images stay beside it), an article in its bundle's folder."""
    if doc.is_page:
        return f"pages/{doc.folder.strip('/')}" if doc.folder.strip("/") else "pages"
    return doc.folder


def _authors(doc: SourceDoc, source: SourceSite, site: SiteFolder, notes: list[Problem]) -> list[str]:
    value = doc.meta.get("author") or doc.meta.get("authors")
    names = split_author_names(value) if value else []
    if not names and source.default_author:
        names = [source.default_author]
    if not names:
        ids = site.author_ids()
        if len(ids) == 1 and ids[0] != UNKNOWN_AUTHOR_ID:
            return ids  # the site's one author
        names = [UNKNOWN_AUTHOR]
        if UNKNOWN_AUTHOR_ID not in ids:
            notes.append(Problem(doc.source, doc.line, (
                f"no author named here or in the old site's settings; this and every other such document imported "
                f"under {UNKNOWN_AUTHOR}: rename the author '{UNKNOWN_AUTHOR_ID}' in site.yaml (name, url, reprint)")))
    found: list[str] = []
    for name in names:
        info = source.authors.get(name) or source.authors.get(name.casefold()) or AuthorInfo(_cased(name))
        author_id = site.find_author(info.name) or site.add_author(info.name, url=info.url, bio=info.bio)
        if author_id not in found:
            found.append(author_id)
    return found


def _without_title(body: str, title: str) -> str:
    """The body without a first heading that repeats the title (the theme shows the title)."""
    match = _SETEXT.match(body) or _ATX.match(body)
    if match and clean_text(match[1]).casefold() == title.casefold():
        return body[match.end():].lstrip("\n")
    return body


def _cased(name: str) -> str:
    """A name written in capitals for a theme's sake ("STEVE SHOGREN") as a name is written."""
    return name.title() if name.isupper() and len(name) > 3 else name


def _declared_aliases(doc: SourceDoc, source: SourceSite, notes: list[Problem]) -> tuple[str, ...]:
    """`redirect_from` (Jekyll) and `aliases` (Hugo): old addresses the author listed."""
    host = (urlsplit(source.settings.get("url", "")).hostname or "").removeprefix("www.")
    found: list[str] = []
    for key in ("redirect_from", "aliases"):
        for value in as_list(doc.meta.get(key)):
            parts = urlsplit(value)
            if parts.scheme in ("http", "https"):
                if (parts.hostname or "").removeprefix("www.") != host:
                    notes.append(Problem(doc.source, doc.line_of(key), f"'{value}' in {key} is on another site; not kept"))
                    continue
                value = parts.path or "/"
            path, problem = parse_alias("/" + value.lstrip("/"))
            if problem:
                notes.append(Problem(doc.source, doc.line_of(key), f"{problem}; not kept"))
            elif path not in found:
                found.append(path)
    return tuple("/" + path for path in found)


def _lead_image(doc: SourceDoc, targets: set[str], notes: list[Problem]) -> str:
    for key in IMAGE_KEYS:
        value = doc.meta.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        value = value.strip()
        if value.startswith(("http://", "https://")):
            return value
        relative = value.lstrip("/")
        if doc.folder and not value.startswith("/"):
            relative = f"{doc.folder}/{relative}"
        if relative in targets:
            return relative
        notes.append(Problem(doc.source, doc.line_of(key), f"lead image '{value}' not found among the site's files; not kept"))
        return ""
    return ""


def _safe_slug(slug: str, title: str) -> str:
    """The old slug when it can name a file and a folder (letter case kept, so the address
    stays the same), else one made from it."""
    if is_safe_slug(slug) and not slug.startswith(".") and not slug.lower().endswith((".md", ".markdown", ".html")):
        return slug
    return slugify(slug) or slugify(title) or "untitled"


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


# ---------------------------------------------------------------------------------------
# Slugs and addresses


def _unique_slugs(planned: list[_Planned], notes: list[Problem]) -> list[_Planned]:
    """Two posts may share a slug where the old addresses carried dates; ours may not.

    The oldest keeps the slug (ties by source path, so a re-run decides the same), each
    later one gets its date appended; its old address is kept as a redirect.
    """
    order = sorted(range(len(planned)), key=lambda i: (planned[i].draft.is_page, _sort_key(planned[i].draft.date),
                                                         planned[i].doc.source))
    taken: dict[tuple[bool, str], str] = {}
    result = list(planned)
    for index in order:
        item = planned[index]
        draft = item.draft
        key = (draft.is_page, draft.file_slug.casefold())
        if key not in taken:
            taken[key] = item.doc.source
            continue
        base = f"{draft.file_slug}-{_as_date(draft.date).isoformat()}"
        slug, number = base, 1
        while (draft.is_page, slug.casefold()) in taken:
            number += 1
            slug = f"{base}-{number}"
        taken[(draft.is_page, slug.casefold())] = item.doc.source
        notes.append(Problem(item.doc.source, item.doc.line, (
            f"slug '{draft.file_slug}' is also {taken[key]}'s; imported as '{slug}' (its old address is kept as a redirect)")))
        result[index] = replace(item, draft=replace(draft, slug=slug))
    return result


def _sort_key(value: dt.date | dt.datetime) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else f"{value.isoformat()}T00:00:00"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def site_path(pattern: str, draft: ArticleDraft, tz: dt.tzinfo) -> str:
    """Where a draft will live under `pattern`, its date taken in the site's zone."""
    if draft.is_page:
        return f"pages/{draft.file_slug}/"
    value = draft.date
    if isinstance(value, dt.datetime):
        when = value.astimezone(tz) if value.tzinfo else value.replace(tzinfo=tz)
    else:
        when = dt.datetime.combine(value, dt.time(), tz)
    return article_path(pattern, draft.file_slug, when)


def _choose_pattern(site: SiteFolder, source: SourceSite, planned: list[_Planned], tz: ZoneInfo) -> str:
    """The old site's pattern when it gives most posts their old address and the site has
    no articles yet (changing the pattern would move them); else the site's own."""
    current = site.article_permalink
    if current is not None:
        return current
    candidate = source.pattern
    if not candidate or candidate == DEFAULT_ARTICLE_PERMALINK or _has_articles(site.content_dir):
        return DEFAULT_ARTICLE_PERMALINK
    posts = [p for p in planned if not p.draft.is_page and p.doc.old_path]
    same = sum(1 for p in posts if alias_file(site_path(candidate, p.draft, tz)) == alias_file(p.doc.old_path))
    if posts and same * 2 >= len(posts):
        site.set_article_permalink(candidate)
        return candidate
    return DEFAULT_ARTICLE_PERMALINK


def _has_articles(content_dir: Path) -> bool:
    if not content_dir.is_dir():
        return False
    pages = content_dir / "pages"
    return any(is_markdown(p.name) and not p.is_relative_to(pages) for p in content_dir.rglob("*"))


def _add_old_addresses(planned: list[_Planned], pattern: str, tz: ZoneInfo, notes: list[Problem]) -> list[_Planned]:
    """Every document whose old address differs from its new one gets it as an alias; an
    address two documents claim goes to the first (in source order) and is reported."""
    own = {page_file(site_path(pattern, p.draft, tz)) for p in planned}
    claimed: dict[str, str] = {}
    result = []
    for item in sorted(planned, key=lambda p: p.doc.source):
        draft = item.draft
        new = page_file(site_path(pattern, draft, tz))
        aliases = list(draft.aliases)
        if item.doc.old_path:
            aliases.append("/" + item.doc.old_path.lstrip("/"))
        kept: list[str] = []
        for alias in aliases:
            path, problem = parse_alias(alias)
            if problem:
                notes.append(Problem(item.doc.source, item.doc.line, f"old address {problem}; add a redirect on the server"))
                continue
            file = alias_file(path)
            if file == new or alias in kept:
                continue
            if file in own:
                notes.append(Problem(item.doc.source, item.doc.line, f"old address '{alias}' is now another page's address; not redirected"))
                continue
            if file in claimed and claimed[file] != item.doc.source:
                notes.append(Problem(item.doc.source, item.doc.line, f"old address '{alias}' is also {claimed[file]}'s; redirected there"))
                continue
            claimed[file] = item.doc.source
            kept.append(alias)
        result.append(replace(item, draft=replace(draft, aliases=tuple(kept))))
    order = {id(p.doc): n for n, p in enumerate(planned)}
    return sorted(result, key=lambda p: order[id(p.doc)])


# ---------------------------------------------------------------------------------------
# Files, the check, the summary


def _copy_files(site: SiteFolder, files: tuple[StaticFile, ...], record: ImportRecord, force: bool,
                notes: list[Problem], counts: dict[str, int]) -> int:
    copied = 0
    content = site.content_dir.resolve()
    for item in files:
        target = PurePosixPath(item.target)
        if is_markdown(target.name):
            notes.append(Problem(item.source, 1, "a Markdown file without front matter; not imported (add a title and date to import it)"))
            continue
        relative = f"content/{target.as_posix()}"
        if ".." in target.parts or not (site.root / relative).resolve().is_relative_to(content):
            notes.append(Problem(item.source, 1, f"'{item.target}' would land outside content/; not copied"))
            continue
        try:
            size = item.path.stat().st_size
            if size > MAX_FILE_BYTES:
                notes.append(Problem(item.source, 1, f"{size:,} bytes; larger than an import copies: copy it by hand"))
                continue
            data = item.path.read_bytes()
        except OSError as exc:
            notes.append(Problem(item.source, 1, f"cannot read the file: {exc.strerror or exc}"))
            continue
        written = write_owned(site.root, relative, data, item.source, record, force=force)
        if written.reason:
            notes.append(Problem(item.source, 1, written.reason))
        if written.outcome in (Outcome.CREATED, Outcome.UPDATED, Outcome.OVERWRITTEN, Outcome.UNCHANGED):
            copied += 1
            counts[f"file {written.outcome.value}"] = counts.get(f"file {written.outcome.value}", 0) + 1
    return copied


def _check_site(site: SiteFolder) -> list[Problem]:
    """What `syndicate check --strict` would say about the imported site (drafts included),
    for the report: with these lines beside the converters' own, the report lists every
    warning the check will give."""
    from ..build import build

    try:
        report = build(site.site_file, BuildOptions(dry_run=True, use_cache=False, jobs=1, include_drafts=True))
    except SiteError as exc:
        return [replace(p, message=f"the imported site does not build: {p.message}") for p in exc.problems]
    return [w.as_error() for w in report.warnings]  # as `check --strict` shows them


def _summary_lines(source: SourceSite, summary: ImportSummary, counts: Mapping[str, int], site: SiteFolder,
                   pattern: str) -> list[str]:
    def outcomes(kind: str) -> str:
        parts = [f"{counts[f'{kind} {o.value}']} {o.value}" for o in Outcome if counts.get(f"{kind} {o.value}")]
        return f" ({', '.join(parts)})" if parts else ""

    lines = [
        f"imported from {source.kind} ({source.origin}) into {display_path(site.root, Path.cwd().absolute()) or '.'}:",
        f"  articles:  {summary.articles}{outcomes('article')}",
        f"  pages:     {summary.pages}{outcomes('page')}",
        f"  authors:   {summary.authors} added to site.yaml",
        f"  files:     {summary.files}{outcomes('file')}",
        f"  redirects: {summary.redirects} old addresses kept as redirect pages (permalinks.article: {pattern})",
        *(f"  {line}" for line in source.extra),
    ]
    if summary.report is not None:
        lines.append(f"{summary.report_lines} item(s) for you in {summary.report.name}")
    return lines
