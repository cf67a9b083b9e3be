"""Rendering the planned jobs into bytes, in parallel, with the attribution gate on every copy.

A `Renderer` holds everything the jobs of one build read; it is the context handed to the
parallel map, so forked workers inherit it rather than receive it pickled. Each job writes
the paths it carries (from plan.py, which has them from urls.py), and a file whose bytes
are already in the output folder is not staged again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from .attribution import Statements
from .cache import content_hash, digest
from .content import BodyStore
from .errors import Problem, SiteError
from .highlight import site_stylesheets
from .images import body_images, resized_copies, shown_widths
from .model import Article, Asset, Page, Site, Tag
from .output import Stage
from .pages import (
    Listing,
    Offer,
    Terms,
    render_archive_page,
    render_article_page,
    render_author_page,
    render_authors_index,
    render_catalogue,
    render_index_page,
    render_not_found,
    render_page,
    render_redirect,
    render_search_page,
    render_tag_page,
    render_tags_index,
)
from .parallel import Beside, parallel_map, progress_bar
from .plan import Job, Plan, by_author, canonical_url, feed_articles, index_pages
from .search import document_for_article, document_for_page, make_index
from .theme import Theme, format_date
from .urls import (
    ARCHIVE,
    AUTHORS_INDEX,
    COPY_EXTENSIONS,
    REDIRECTS,
    SEARCH_SCRIPT,
    SITEMAP,
    TAGS_INDEX,
    absolute_url,
    author_path,
    copy_paths,
    index_path,
    redirect_line,
    tag_path,
)

if TYPE_CHECKING:  # feeds and copies (feedgen, the sanitizer, the CSS inliner) load with their first job
    from .newsletter import Sources
    from .syndication import Attribution

PARALLEL_JOBS_FROM = 200  # fewer renders than this are faster in one process


@dataclass(slots=True)
class JobResult:
    files: dict[str, tuple[str, int]] = field(default_factory=dict)  # path -> (digest, size)
    staged: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rendered: dict[str, bytes] = field(default_factory=dict)  # kept only when asked (check, tests)


def _render_one(renderer: Renderer, job: Job) -> JobResult:
    return renderer.run(job)


class Renderer:
    """Renders jobs; every method is a pure function of the state given to the constructor."""

    def __init__(self, site: Site, theme: Theme, plan: Plan, bodies: BodyStore, statements: Statements,
                 old: dict[str, tuple[str, str, int]], stage: Stage | None, keep: bool) -> None:
        self.site = site
        self.theme = theme
        self.plan = plan
        self.ctx = plan.ctx
        self.content = plan.content
        self.bodies = bodies
        self.statements = statements
        self.old = old
        self.stage = stage
        self.keep = keep
        self.by_tag = {tag.slug: members for tag, members in plan.tags.items()}
        self.tags = {tag.slug: tag for tag in plan.tags}
        self.pages = {p.slug: p for p in plan.content.pages}
        self.assets = {a.path: a for a in plan.content.assets}
        documents: list[Article | Page] = [*plan.content.articles, *plan.content.pages]
        self.documents = {d.source: d for d in documents}
        self._attributions: dict[str, Attribution] = {}
        self._items: dict[str, tuple[str, list[Problem]]] = {}
        self.issues = {issue.name: issue for issue in plan.issues}

    # Made on first use: a build that renders one article need not index ten thousand.
    @cached_property
    def by_slug(self) -> dict[str, Article]:
        return {a.slug: a for a in self.content.articles}

    @cached_property
    def index_pages(self) -> list[Sequence[Article]]:
        return index_pages(self.content.articles, self.site.per_page)

    @cached_property
    def by_author(self) -> dict[str, list[Article]]:
        return by_author(self.site, self.content.articles)

    def run_all(self, todo: list[Job], jobs: int, progress: bool = False) -> dict[Job, JobResult]:
        self._prefetch(todo)
        workers = jobs if len(todo) > PARALLEL_JOBS_FROM else 1
        if workers != 1:
            for article in self.content.articles[:1]:  # parse the statements (a large pattern, compiled once) before forking
                self.attribution(article)
        # The search index is made beside the workers, by a process of its own: it mostly waits
        # for Pagefind, which is a process of its own too, so the workers keep every core busy.
        # Where no process can be forked for it, it is the workers' first job.
        aside = [job for job in todo if job.kind == "search"]
        index = Beside(lambda: [self.run(job) for job in aside], fork=workers != 1 and bool(aside))
        if not index.forked:
            aside = []
        # The listings and feeds first, the many small article jobs after: workers then finish
        # together instead of one of them starting the tag pages at the end.
        ordered = sorted((job for job in todo if job not in aside), key=lambda job: (job.kind != "search", job.kind == "article"))
        try:
            with progress_bar(len(todo) if progress else 0, "rendering") as step:
                results = parallel_map(_render_one, self, ordered, workers, on_result=step)
                made = index.result() if aside else []
                for result in made:
                    step(result)
        finally:
            index.close()
        done = dict(zip([*ordered, *aside], [*results, *made], strict=True))
        return {job: done[job] for job in todo}

    def _prefetch(self, todo: list[Job]) -> None:
        """Load the bodies these jobs need now, before workers fork off without the cache."""
        keys = []
        for job in todo:
            if job.kind == "article":
                keys.append(self.by_slug[job.name].body_key)
            elif job.kind == "page":
                keys.append(self.pages[job.name].body_key)
            elif job.kind == "feeds":
                keys += [a.body_key for a in feed_articles(self.content.articles, self.site) if a.syndicate]
            elif job.kind == "tag":
                keys += [a.body_key for a in feed_articles(self.by_tag[job.name], self.site) if a.syndicate]
            elif job.kind in ("issue", "newsletter"):
                chosen = [self.issues[job.name]] if job.kind == "issue" else list(self.issues.values())[: self.site.feed_items]
                keys += [self.by_slug[slug].body_key for issue in chosen if issue.mode == "full" for slug in issue.slugs]
        self.bodies.prefetch(keys)

    def run(self, job: Job) -> JobResult:
        result = JobResult()
        try:
            handler: Callable[[Job, JobResult], None] = getattr(self, f"_job_{job.kind}")
            handler(job, result)
        except SiteError as exc:
            result.problems.extend(exc.problems)
        return result

    def _emit(self, result: JobResult, path: str, data: bytes) -> None:
        file_digest = content_hash(data)
        result.files[path] = (file_digest, len(data))
        if self.keep:
            result.rendered[path] = data
        if self.stage is not None and not self._on_disk(path, file_digest, data):
            self.stage.put(path, data)
            result.staged.append(path)

    def _on_disk(self, path: str, file_digest: str, data: bytes) -> bool:
        """These bytes are in the output folder already: by the manifest, or else by looking."""
        assert self.stage is not None
        target = os.path.join(self.stage.out_dir, path)
        previous = self.old.get(path)
        if previous is not None:
            return previous[1] == file_digest and os.path.exists(target)
        try:  # no trusted manifest (--no-cache, a folder another build wrote): the disk is the truth
            if os.path.getsize(target) != len(data) or os.path.islink(target):
                return False
            with open(target, "rb") as handle:
                return handle.read() == data
        except OSError:
            return False

    def attribution(self, article: Article) -> Attribution:
        from .syndication import build_attribution

        if article.slug not in self._attributions:
            self._attributions[article.slug] = build_attribution(self.site, article, self.statements)
        return self._attributions[article.slug]

    def oversized_copies(self, *files: Mapping[str, tuple[str, int] | tuple[str, str, int]]) -> list[Problem]:
        """Warnings for HTML copies and newsletters too long for e-mail, among these files (kept and just made)."""
        from .syndication import oversized_copies

        found = oversized_copies(self.content.articles, *files)
        if self.issues:
            from .newsletter import oversized

            found += oversized(list(self.issues.values()), *files)
        return found

    def feed_item(self, article: Article, feed: str) -> tuple[str, list[Problem]]:
        """An article's feed item with what the gate found in it; the same item in every feed."""
        from .syndication import syndicated_item

        if article.slug not in self._items:
            # Kept out of syndication (`syndicate: false`): the site's own readers get the summary and the link.
            body = self.bodies[article.body_key] if article.syndicate else None
            self._items[article.slug] = syndicated_item(self.site, article, body, self.attribution(article), feed)
        return self._items[article.slug]

    def _item_html(self, result: JobResult, feed: str) -> Callable[[Article], str]:
        def item_html(article: Article) -> str:
            html, problems = self.feed_item(article, feed)
            result.problems += problems
            return html

        return item_html

    def _job_article(self, job: Job, result: JobResult) -> None:
        article = self.by_slug[job.name]
        body = self.bodies[article.body_key]
        offer = None
        if article.is_syndicable:
            from .syndication import syndicated_copies

            attribution = self.attribution(article)
            paths = dict(zip(COPY_EXTENSIONS, job.paths[1:], strict=True))
            images = body_images(self.content.links[article.source].links, self.assets)
            copies, problems = syndicated_copies(self.theme, self.site, article, body, attribution, paths, self.assets,
                                                 self.ctx.images.get(article.image), shown_widths(images) if images else {})
            result.problems += problems
            for fmt, data in copies.items():
                self._emit(result, paths[fmt], data)
            offer = Offer(self.terms(article), copies["html"].decode(), paths, text=copies["text"].decode())
        newer, older = self.plan.near[article.slug]
        html = render_article_page(self.theme, self.ctx, article, body, newer=newer, older=older,
                                   related=self.plan.related[article.slug], offer=offer)
        self._emit(result, job.paths[0], html.encode())

    def terms(self, article: Article) -> tuple[Terms, ...]:
        """Each author's terms, in the order the article lists them (it must be syndicable)."""
        terms = []
        for author, statement in zip(article.authors, self.attribution(article).statements, strict=True):
            assert author.reprint is not None  # syndicable: every author has terms
            terms.append(Terms(author, author.reprint.preamble, statement, author.reprint.commercial))
        return tuple(terms)

    def _job_catalogue(self, job: Job, result: JobResult) -> None:
        listings = [Listing(a, Offer(self.terms(a), "", copy_paths(a.slug))) for a in self.content.articles if a.is_syndicable]
        self._emit(result, job.paths[0], render_catalogue(self.theme, self.ctx, listings).encode())

    def _issue_sources(self) -> Sources:
        from .newsletter import Sources

        return Sources(self.by_slug, self.bodies, self.attribution, self.assets)

    def _job_issue(self, job: Job, result: JobResult) -> None:
        """An issue's four files, through the newsletter's gate (as copies go through theirs)."""
        from .newsletter import checked_issue

        files, problems = checked_issue(self.theme, self.ctx, self.issues[job.name], self._issue_sources())
        result.problems += problems
        for path in job.paths:
            self._emit(result, path, files[path])

    def _job_newsletter(self, job: Job, result: JobResult) -> None:
        """The archive of issues and their feed, each item through the newsletter's gate."""
        from .newsletter import checked_archive

        files, problems = checked_archive(self.theme, self.ctx, list(self.issues.values()), self._issue_sources())
        result.problems += problems
        for path in job.paths:
            self._emit(result, path, files[path])

    def _job_page(self, job: Job, result: JobResult) -> None:
        page = self.pages[job.name]
        html = render_page(self.theme, self.ctx, page, self.bodies[page.body_key])
        self._emit(result, job.paths[0], html.encode())

    def _job_index(self, job: Job, result: JobResult) -> None:
        number = int(job.name)
        chunk = self.index_pages[number - 1]
        self._emit(result, job.paths[0], render_index_page(self.theme, self.ctx, chunk, number, len(self.index_pages)).encode())

    def _job_tag(self, job: Job, result: JobResult) -> None:
        from .feeds import render_rss

        page, feed = job.paths
        tag = self.tags[job.name]
        members = self.by_tag[job.name]
        self._emit(result, page, render_tag_page(self.theme, self.ctx, tag, members).encode())
        in_feed = feed_articles(members, self.site)
        title = f"{self.site.title}: {tag.name}"
        self._emit(result, feed, render_rss(self.site, feed, title, self.site.description, in_feed, self._item_html(result, feed)))

    def _job_author(self, job: Job, result: JobResult) -> None:
        author = self.site.authors[job.name]
        self._emit(result, job.paths[0], render_author_page(self.theme, self.ctx, author, self.by_author[job.name]).encode())

    def _job_tags_index(self, job: Job, result: JobResult) -> None:
        tags = [(self.tags[slug], len(members)) for slug, members in self.by_tag.items()]
        self._emit(result, job.paths[0], render_tags_index(self.theme, self.ctx, tags).encode())

    def _job_authors_index(self, job: Job, result: JobResult) -> None:
        authors = [(self.site.authors[author_id], len(members)) for author_id, members in self.by_author.items()]
        self._emit(result, job.paths[0], render_authors_index(self.theme, self.ctx, authors).encode())

    def _job_image(self, job: Job, result: JobResult) -> None:
        info = self.ctx.images["/" + job.name]
        source = self.assets[job.name].source
        for path, data in resized_copies(info, source, self.site.cache_dir / "images").items():
            self._emit(result, path, data)

    def _job_search_page(self, job: Job, result: JobResult) -> None:
        self._emit(result, job.paths[0], render_search_page(self.theme, self.ctx, SEARCH_SCRIPT).encode())

    def _job_search(self, job: Job, result: JobResult) -> None:
        site, bodies = self.site, self.bodies
        documents = [document_for_article(site, a, bodies[a.body_key], format_date(a.date, long_format=site.date_format))
                     for a in self.content.articles]
        documents += [document_for_page(site, p, bodies[p.body_key]) for p in self.content.pages]
        for path, data in make_index(site, documents).items():
            self._emit(result, path, data)

    def _job_archive(self, job: Job, result: JobResult) -> None:
        self._emit(result, job.paths[0], render_archive_page(self.theme, self.ctx, self.content.articles).encode())

    def _job_feeds(self, job: Job, result: JobResult) -> None:
        from .feeds import render_atom, render_json_feed, render_rss

        site = self.site
        in_feed = feed_articles(self.content.articles, site)
        item_html = self._item_html(result, job.paths[0])
        for path, render in zip(job.paths, (render_rss, render_atom, render_json_feed), strict=True):
            self._emit(result, path, render(site, path, site.title, site.description, in_feed, item_html))

    def _job_manifest(self, job: Job, result: JobResult) -> None:
        from .syndication import manifest_entry, render_manifest

        entries = [manifest_entry(self.site, a, self.attribution(a)) for a in self.content.articles if a.is_syndicable]
        self._emit(result, job.paths[0], render_manifest(self.site, entries))

    def _job_sitemap(self, job: Job, result: JobResult) -> None:
        sitemap, robots = job.paths
        self._emit(result, sitemap, render_sitemap(self.site, self.content.articles, self.content.pages, list(self.tags.values())))
        self._emit(result, robots, f"User-agent: *\nAllow: /\n\nSitemap: {absolute_url(self.site.url, SITEMAP)}\n".encode())

    def _job_alias(self, job: Job, result: JobResult) -> None:
        document = self.documents[job.source]
        html = render_redirect(self.site, document.path, document.title, canonical_url(self.site, document))
        self._emit(result, job.paths[0], html.encode())

    def _job_redirects(self, job: Job, result: JobResult) -> None:
        own = self.assets.get(REDIRECTS)
        lines = sorted(redirect_line(self.site.url, alias, d.path) for d in self.documents.values() for alias in d.aliases)
        head = own.source.read_bytes().rstrip(b"\n") + b"\n" if own is not None else b""
        self._emit(result, job.paths[0], head + ("\n".join(lines) + "\n").encode())

    def _job_404(self, job: Job, result: JobResult) -> None:
        self._emit(result, job.paths[0], render_not_found(self.theme, self.ctx).encode())

    def _job_stylesheet(self, job: Job, result: JobResult) -> None:
        self._emit(result, job.paths[0], self.theme.sources.get("style.css", "").encode())
        if SEARCH_SCRIPT in job.paths:
            self._emit(result, SEARCH_SCRIPT, self.theme.sources.get("search.js", "").encode())
        # The code colours are generated, unless the site's templates/ has its own file.
        for path, generated in site_stylesheets().items():
            own = self.theme.sources.get(path.removeprefix("static/"))
            self._emit(result, path, own.encode() if own is not None else generated)

    def _job_asset(self, job: Job, result: JobResult) -> None:
        asset: Asset = self.assets[job.name]
        stat = asset.source.stat()
        file_digest = digest("asset", str(stat.st_size), str(stat.st_mtime_ns))
        result.files[asset.path] = (file_digest, stat.st_size)
        if self.keep:
            result.rendered[asset.path] = asset.source.read_bytes()
        if self.stage is not None and not self._asset_on_disk(asset, file_digest):
            self.stage.put_file(asset.path, asset.source)
            result.staged.append(asset.path)

    def _asset_on_disk(self, asset: Asset, file_digest: str) -> bool:
        assert self.stage is not None
        target = os.path.join(self.stage.out_dir, asset.path)
        previous = self.old.get(asset.path)
        if previous is not None:  # the manifest knows it: the same source file (size, mtime) is there already
            return previous[1] == file_digest and os.path.exists(target)
        try:  # no trusted manifest: the disk is the truth (the hard link an earlier build made, or equal bytes)
            if os.path.islink(target):
                return False
            if os.path.samefile(target, asset.source):
                return True
            return os.path.getsize(target) == asset.size and asset.source.read_bytes() == Path(target).read_bytes()
        except OSError:
            return False


def render_sitemap(site: Site, articles: Sequence[Article], pages: Sequence[Page], tags: Sequence[Tag]) -> bytes:
    """Canonical pages only: an article republished from elsewhere has its canonical there."""
    newest = articles[0].date if articles else None
    entries: list[tuple[str, datetime | None]] = [(index_path(1), newest), (ARCHIVE, newest)]
    entries += [(a.path, a.updated or a.date) for a in articles if a.original is None]
    entries += [(p.path, None) for p in pages]
    entries += [(TAGS_INDEX, None), (AUTHORS_INDEX, None)]
    entries += [(tag_path(t.slug), None) for t in tags]
    entries += [(author_path(author_id), None) for author_id in site.authors]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for path, when in entries:
        lastmod = f"<lastmod>{when.date().isoformat()}</lastmod>" if when else ""
        lines.append(f"  <url><loc>{escape(absolute_url(site.url, path), quote=False)}</loc>{lastmod}</url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode()
