"""Every output of a build, each with the key that says whether it must be rendered again.

A key is a hash of every input that shows in the output: the article's bytes, what its
neighbours and related articles look like in a list, the templates it uses (with what they
include), the settings (see `incremental.py` for how keys are used). Planning reads no body
and renders nothing, so an incremental build can decide in a fraction of a second what is
left to do. Every path comes from urls.py; a job carries its paths to the renderer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import unquote

from .cache import Cache, digest
from .content import Content
from .errors import Problem, SiteError, display_path, warning
from .highlight import PYGMENTS_VERSION
from .images import ImageInfo, body_images, lead_images
from .issues import Issue
from .model import Article, Asset, Page, Site, Tag
from .output import stage_folder, twin_folder
from .pages import Neighbours, PageContext, Related, related_articles, resolve_menu
from .paths import check_output_paths
from .rasters import svg_warnings
from .search import index_key, known_index_files
from .theme import Theme
from .urls import (
    ARCHIVE,
    AUTHORS_INDEX,
    CATALOGUE,
    CODE_STYLESHEETS,
    COPY_MANIFEST,
    FEED_FILES,
    NEWSLETTER_ARCHIVE,
    NEWSLETTER_FEED,
    NOT_FOUND,
    REDIRECTS,
    ROBOTS,
    SEARCH_INDEX,
    SEARCH_PAGE,
    SEARCH_SCRIPT,
    SITEMAP,
    STYLESHEET,
    TAGS_INDEX,
    absolute_url,
    alias_file,
    author_path,
    copy_paths,
    index_path,
    issue_files,
    link_path,
    page_file,
    redirect_line,
    tag_feed_path,
    tag_path,
)

if TYPE_CHECKING:
    from .incremental import Fingerprints


class Job(NamedTuple):
    """One unit of rendering: it produces `paths`, and its `key` changes when they would.

    A tuple: the kept plan holds ten thousand, unpickled by every build that patches it, and
    a tuple comes back without the dictionary a class instance carries."""

    kind: str
    name: str
    paths: tuple[str, ...]
    key: str
    source: str


@dataclass(frozen=True)
class Plan:
    """What the read and plan stages decided: the content, its relations, every job."""

    content: Content
    ctx: PageContext
    near: Mapping[str, tuple[Article | None, Article | None]]
    related: Mapping[str, list[Article]]
    tags: dict[Tag, list[Article]]
    fp: Fingerprints
    jobs: list[Job]
    paths: frozenset[str]
    links: dict[str, list[Problem]]  # link warnings by document
    copies: int  # articles with syndicated copies
    feeds: int
    issues: tuple[Issue, ...] = ()  # newsletter issues, newest first (issues.py)
    path_warnings: tuple[Problem, ...] = ()  # output names that differ only in case or Unicode form (paths.py)

    @property
    def warnings(self) -> list[Problem]:
        """The content's warnings, then the link check's, in document order."""
        return [*self.content.warnings, *in_document_order(self.content, self.links), *self.path_warnings]


def page_context(site: Site, theme: Theme, content: Content, now: datetime, show_drafts: bool,
                 cache: Cache, has_newsletter: bool = False) -> tuple[Content, PageContext]:
    """What every page shares (the menu, the measured lead images), and the content with the
    warnings of lead images that cannot be read."""
    images, unreadable = lead_images(site, content.articles, content.assets, cache)
    content = replace(content, warnings=(*content.warnings, *unreadable)) if unreadable else content
    style_version = digest(PYGMENTS_VERSION, *(theme.fingerprint(name) for name in _statics(site)))[:10]
    return content, PageContext(site, resolve_menu(site, content.pages, has_newsletter), now, show_drafts, style_version, images,
                                has_newsletter=has_newsletter)


def _statics(site: Site) -> tuple[str, ...]:
    """The theme's files every page links with `?v=`: their version changes with any of them."""
    return ("style.css", "code-light.css", "code-dark.css", *(("search.js",) if site.search else ()))


def make_plan(site: Site, theme: Theme, content: Content, ctx: PageContext, fp: Fingerprints, cache: Cache,
              out_dir: Path, issues: tuple[Issue, ...] = ()) -> Plan:
    near = Neighbours(content.articles)
    related = related_cached(cache, content.articles)
    tags = tag_index(content.articles)
    jobs = plan_outputs(site, content, theme, fp, near, related, tags)
    jobs += issue_jobs(fp, issues, {a.slug: a for a in content.articles})
    jobs += image_jobs(ctx.images, site)
    if site.search:
        jobs.append(search_job(site, cache, content, out_dir))
    path_warnings = check_clashes(jobs, site, out_dir, content, tags)
    paths = frozenset(path for job in jobs for path in job.paths)
    path_warnings += tuple(warning(issue.source, line, _broken(link)) for issue in issues
                           for link, line in issue.links if not _link_target(link, "", paths))
    copies = sum(1 for a in content.articles if a.is_syndicable)
    feeds = len(FEED_FILES) + len(tags)  # every tag has a feed: articles with `syndicate: false` as summaries
    return Plan(content, ctx, near, related, tags, fp, jobs, paths, check_links(content, paths), copies, feeds, issues,
                path_warnings)


def article_job(fp: Fingerprints, article: Article, near: Mapping[str, tuple[Article | None, Article | None]],
                related: Mapping[str, list[Article]], content: Content, assets: Mapping[str, Asset]) -> Job:
    """The article's page, then its copies in the order of urls.COPY_EXTENSIONS. The copies
    give each image in the body its own width when it is narrower than an e-mail's column:
    their key holds those images' sizes and times."""
    newer, older = near[article.slug]
    paths = [page_file(article.path)]
    images: list[str] = []
    if article.is_syndicable:
        paths += copy_paths(article.slug).values()
        found = body_images(content.links[article.source].links, assets)
        images = [a.stamp for a in found]
    key = digest(fp.pages["article.html"], fp.copies, fp.images.get(article.image, ""), article.source_hash, article.meta_hash,
                 *(a.meta_hash if a else "-" for a in (newer, older)), *(a.meta_hash for a in related[article.slug]), *images)
    return Job("article", article.slug, tuple(paths), key, article.source)


def tag_job(site: Site, fp: Fingerprints, tag: Tag, members: Sequence[Article]) -> Job:
    """The tag's page, then its feed."""
    in_feed = feed_articles(members, site)
    key = digest(fp.pages["tag.html"], tag.name, *(a.meta_hash for a in members), *(a.source_hash for a in in_feed))
    return Job("tag", tag.slug, (page_file(tag_path(tag.slug)), tag_feed_path(tag.slug)), key, "tag.html")


def feeds_job(site: Site, fp: Fingerprints, articles: Sequence[Article]) -> Job:
    in_feeds = feed_articles(articles, site)
    key = digest(fp.base, *(a.meta_hash + a.source_hash for a in in_feeds), *sorted({w.name for a in in_feeds for w in a.authors}))
    return Job("feeds", "feeds", FEED_FILES, key, "feeds")


def plan_outputs(site: Site, content: Content, theme: Theme, fp: Fingerprints,
                 near: Mapping[str, tuple[Article | None, Article | None]], related: Mapping[str, list[Article]],
                 tags: dict[Tag, list[Article]]) -> list[Job]:
    """Every output of the build, with the key that says whether it must be rendered again."""
    articles = content.articles
    base = fp.base
    assets = {asset.path: asset for asset in content.assets}
    jobs = [article_job(fp, article, near, related, content, assets) for article in articles]
    for page in content.pages:
        jobs.append(Job("page", page.slug, (page_file(page.path),), digest(fp.pages["page.html"], page.source_hash), page.source))
    jobs += alias_jobs(site, content, base)
    chunks = index_pages(articles, site.per_page)
    for number, chunk in enumerate(chunks, start=1):
        key = digest(fp.pages["index.html"], str(number), str(len(chunks)), *(a.meta_hash for a in chunk))
        jobs.append(Job("index", str(number), (page_file(index_path(number)),), key, "index.html"))
    jobs += [tag_job(site, fp, tag, members) for tag, members in tags.items()]
    for author_id, members in by_author(site, articles).items():
        key = digest(fp.pages["author.html"], *(a.meta_hash for a in members))
        jobs.append(Job("author", author_id, (page_file(author_path(author_id)),), key, "author.html"))
    counts = digest(*(f"{tag.slug}\0{tag.name}\0{len(members)}" for tag, members in tags.items()))
    jobs.append(Job("tags_index", "tags", (page_file(TAGS_INDEX),), digest(fp.pages["tags.html"], counts), "tags.html"))
    per_author = digest(*(f"{author_id}\0{len(members)}" for author_id, members in by_author(site, articles).items()))
    jobs.append(Job("authors_index", "authors", (page_file(AUTHORS_INDEX),), digest(fp.pages["authors.html"], per_author),
                    "authors.html"))
    everything = digest(*(a.meta_hash for a in articles))
    jobs.append(Job("archive", "archive", (page_file(ARCHIVE),), digest(fp.pages["archive.html"], everything), "archive.html"))
    jobs.append(feeds_job(site, fp, articles))
    syndicable = [a for a in articles if a.is_syndicable]
    jobs.append(Job("manifest", "manifest", (COPY_MANIFEST,), digest(base, *(a.meta_hash for a in syndicable)), "syndicate"))
    catalogue_key = digest(fp.pages["catalogue.html"], *(a.meta_hash for a in syndicable))
    jobs.append(Job("catalogue", "catalogue", (page_file(CATALOGUE),), catalogue_key, "catalogue.html"))
    pages_key = digest(base, everything, *(p.slug for p in content.pages), *(t.slug for t in tags))
    jobs.append(Job("sitemap", "sitemap", (SITEMAP, ROBOTS), pages_key, "sitemap"))
    jobs.append(Job("404", "404", (NOT_FOUND,), fp.pages["404.html"], "404.html"))
    styles_key = digest(PYGMENTS_VERSION, *(theme.fingerprint(name) for name in _statics(site)))
    scripts = (SEARCH_SCRIPT,) if site.search else ()
    jobs.append(Job("stylesheet", "style.css", (STYLESHEET, *CODE_STYLESHEETS.values(), *scripts), styles_key, theme.shown("style.css")))
    if site.search:
        jobs.append(Job("search_page", "search", (page_file(SEARCH_PAGE),), fp.pages["search.html"], "search.html"))
    for asset in content.assets:
        if asset.path == REDIRECTS and any(job.kind == "redirects" for job in jobs):
            continue  # the site's own _redirects opens the one the build writes
        key = digest("asset", str(asset.size), str(asset.mtime_ns), str(asset.source))
        jobs.append(Job("asset", asset.path, (asset.path,), key, display_path(asset.source, site.root)))
    return jobs


def issue_jobs(fp: Fingerprints, issues: Sequence[Issue], by_slug: Mapping[str, Article]) -> list[Job]:
    """A job per newsletter issue (its four files), and one for their archive and feed.

    An issue's key holds its own bytes and, for each article, what the issue shows of it:
    its listing fields, and in a full issue its bytes too (the whole body is in it). The
    archive's feed carries every issue's content, so its key holds every issue's key."""
    jobs = []
    for issue in issues:
        shown = [by_slug[slug].meta_hash + (by_slug[slug].source_hash if issue.mode == "full" else "") for slug in issue.slugs]
        key = digest(fp.newsletter, issue.source_hash, issue.name, repr(issue.is_draft), *shown)
        jobs.append(Job("issue", issue.name, tuple(issue_files(issue.name).values()), key, issue.source))
    if issues:
        key = digest(fp.newsletter, *(job.key for job in jobs))
        jobs.append(Job("newsletter", "newsletter", (page_file(NEWSLETTER_ARCHIVE), NEWSLETTER_FEED), key, "newsletter-archive.html"))
    return jobs


def alias_jobs(site: Site, content: Content, base: str) -> list[Job]:
    """A redirect page for every old address of a document, and `_redirects` listing them all
    (after the lines of the site's own content/_redirects, when it has one)."""
    jobs = []
    lines = []
    documents: list[Article | Page] = [*content.articles, *content.pages]
    for document in documents:
        for alias in document.aliases:
            key = digest(base, "alias", alias, document.path, document.title, canonical_url(site, document))
            jobs.append(Job("alias", alias, (alias_file(alias),), key, document.source))
            lines.append(redirect_line(site.url, alias, document.path))
    if lines:
        own = next((a for a in content.assets if a.path == REDIRECTS), None)
        stamp = f"{own.size}\0{own.mtime_ns}" if own else ""
        jobs.append(Job("redirects", REDIRECTS, (REDIRECTS,), digest(base, stamp, *sorted(lines)), "aliases"))
    return jobs


def canonical_url(site: Site, document: Article | Page) -> str:
    """The page's canonical link: its site URL, or the original post of a republished article."""
    if isinstance(document, Article) and document.original:
        return document.original.url
    return absolute_url(site.url, document.path)


def image_jobs(images: Mapping[str, ImageInfo], site: Site) -> list[Job]:
    """One job per lead image with copies to make: it runs again only when the file changed."""
    return [Job("image", info.path, info.paths, info.key, f"{display_path(site.content_dir, site.root)}/{info.path}")
            for info in images.values() if info.variants]


def search_job(site: Site, cache: Cache, content: Content, out_dir: Path) -> Job:
    """The search index: reindexed only when an indexed document or a setting changed. Which
    files an index has is known once it is made: those the output folder's own manifest holds
    under the same key (a preview's index, in its own folder, is not the site's), else the
    files of the last index made with that key; if neither, the job is never found unchanged."""
    key = index_key(site, content.articles, content.pages)
    _token, manifest = cache.manifest(str(out_dir))
    made = tuple(sorted(path for path, entry in manifest.items() if entry[0] == key))
    paths = made or known_index_files(cache, key) or (f"{SEARCH_INDEX}/pagefind-entry.json",)
    return Job("search", "index", paths, key, "search")


def feed_articles(articles: Sequence[Article], site: Site) -> list[Article]:
    """The newest articles a feed carries. An article with `syndicate: false` is left out, as the
    site format promises authors; with `feed_summaries: true` it is carried as its summary and
    link only, so the site's own readers see it and still no full copy leaves."""
    if not site.feed_summaries:
        articles = [a for a in articles if a.syndicate]
    return list(articles[: site.feed_items])


def index_pages(articles: Sequence[Article], per_page: int) -> list[Sequence[Article]]:
    """The paginated index, newest first; a site with no article still has its first page."""
    total = max(1, math.ceil(len(articles) / per_page))
    return [articles[number * per_page : (number + 1) * per_page] for number in range(total)]


def by_author(site: Site, articles: Sequence[Article]) -> dict[str, list[Article]]:
    """Every author in site.yaml with their articles, newest first (possibly none)."""
    found: dict[str, list[Article]] = {author_id: [] for author_id in site.authors}
    for article in articles:
        for author in article.authors:
            found[author.id].append(article)
    return found


def related_cached(cache: Cache, articles: Sequence[Article]) -> Related:
    """Related articles depend only on the order, slugs and tags: reuse them while those hold."""
    key = digest("\n".join(a.topic_key for a in articles))
    state = cache.get_state("related")
    if isinstance(state, dict) and state.get("key") == key:
        place = {a.slug: index for index, a in enumerate(articles)}
        return Related(tuple(articles), [[place[s] for s in state["slugs"].get(a.slug, ())] for a in articles])
    related = related_articles(articles)
    cache.put_state("related", {"key": key, "slugs": {slug: [a.slug for a in others] for slug, others in related.items()}})
    return related


def tag_index(articles: Sequence[Article]) -> dict[Tag, list[Article]]:
    """Tags in slug order, each with its articles newest first; the first spelling wins."""
    found: dict[str, tuple[Tag, list[Article]]] = {}
    for article in articles:
        for tag in article.tags:
            found.setdefault(tag.slug, (tag, []))[1].append(article)
    return {tag: members for _slug, (tag, members) in sorted(found.items())}


def check_clashes(jobs: Sequence[Job], site: Site, out_dir: Path, content: Content | None = None,
                  tags: Mapping[Tag, Sequence[Article]] | None = None) -> tuple[Problem, ...]:
    """Every output path checked before anything is staged: raises the errors, each naming the
    file to fix, and returns the warnings. An old address (`aliases`) that would replace a page
    of the site, or another's old address, is named as such; every other path goes through
    paths.py (two outputs on one path, a file that is also a folder, names too long or not UTF-8)."""
    owners: dict[str, Job] = {}
    problems: list[Problem] = []
    documents: list[Article | Page] = [*content.articles, *content.pages] if content else []
    lines = {d.source: d.aliases_line for d in documents}
    members = {tag.slug: articles for tag, articles in (tags or {}).items()}
    explain: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for job in sorted(jobs, key=lambda j: j.kind == "alias"):  # stable: an alias is the one to blame
        if job.kind == "tag" and members.get(job.name):
            explain.update((path, members[job.name][-1].source) for path in job.paths)  # the tag's oldest article
        elif job.kind == "author":
            explain.update((path, site.source) for path in job.paths)
        for path in job.paths:
            if job.kind == "alias":
                owner = owners.get(path)
                folder = next((f for f in _folders(path) if f in owners), None)
                if folder is not None:
                    problems.append(Problem(job.source, lines.get(job.source, 1), (
                        f"alias '/{job.name}' needs a folder where '{folder}' is written by {owners[folder].source}; remove it")))
                    continue
                if owner is not None:
                    what = (f"is also an alias of {owner.source}" if owner.kind == "alias"
                            else f"would replace '{path}', written by {owner.source}")
                    problems.append(Problem(job.source, lines.get(job.source, 1), f"alias '/{job.name}' {what}; remove it"))
                    continue
            owners.setdefault(path, job)
            pairs.append((path, job.source))
    bases = (out_dir, twin_folder(stage_folder(out_dir, site.cache_dir)))
    errors, warnings = check_output_paths(pairs, bases, explain)
    if problems or errors:
        raise SiteError(sorted([*problems, *errors]))
    return tuple(warnings)


def _folders(path: str) -> list[str]:
    """Every folder a file needs: "a/b/index.html" needs "a" and "a/b"."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: n + 1]) for n in range(len(parts))]


def check_links(content: Content, paths: frozenset[str], only: set[str] | None = None) -> dict[str, list[Problem]]:
    """Internal links and anchors that lead nowhere, and SVG images an article's syndicated
    copies must leave out (rasters.py), by document (all, or those in `only`): warnings,
    errors with --strict."""
    documents: list[Article | Page] = [*content.articles, *content.pages]
    ids_by_file: dict[str, set[str]] = {}  # filled on the first link with an anchor: most sites have none
    found: dict[str, list[Problem]] = {}
    for document in documents:
        if only is not None and document.source not in only:
            continue
        facts = content.links[document.source]
        lines = []
        for index, link in enumerate(facts.links):
            line = facts.lines[index] if index < len(facts.lines) else 1
            file = _link_target(link, document.path, paths)
            anchor = unquote(link.partition("#")[2])
            if file is None:
                lines.append(warning(document.source, line, _broken(link)))
            elif anchor and not ids_by_file:
                ids_by_file.update((page_file(d.path), set(content.links[d.source].ids)) for d in documents)
            if file is not None and anchor and file in ids_by_file and anchor not in ids_by_file[file]:
                lines.append(warning(document.source, line, f"link '{link}' points at a missing anchor '#{anchor}'"))
        if isinstance(document, Article) and document.is_syndicable:
            lines += svg_warnings(document, facts.links, facts.lines, paths)
        if lines:
            found[document.source] = lines
    return found


def _broken(link: str) -> str:
    """An image is named as one: its copies would carry a broken picture, not just a dead link."""
    if link_path(link).lower().endswith((".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".avif")):
        return f"image '{link}' not found among the site's files (a broken picture on the page and in every copy)"
    return f"broken internal link '{link}'"


def _link_target(link: str, page: str, paths: frozenset[str]) -> str | None:
    """The output file a site-root link leads to (`page`'s own for an anchor alone), or None."""
    target = link_path(link)
    if not target:
        return page_file(page)
    return next((f for f in (target, page_file(target), f"{target}/index.html") if f in paths), None)


def in_document_order(content: Content, by_source: dict[str, list[Problem]]) -> list[Problem]:
    if not by_source:
        return []
    documents: list[Article | Page] = [*content.articles, *content.pages]
    return [problem for d in documents for problem in by_source.get(d.source, ())]
