"""Rendering the planned jobs into bytes, in parallel, with the attribution gate on every copy.

Every method is a pure function of the state handed to the constructor; the state is set
before worker processes fork, so they inherit it instead of receiving it pickled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from xml.sax.saxutils import escape

from .cache import content_hash, digest
from .content import BodyStore, Content
from .errors import Problem, SiteError
from .feeds import render_atom, render_json_feed, render_rss
from .highlight import site_stylesheets
from .images import resized_copies
from .model import Article, Asset, Page, Site, Tag
from .output import Stage
from .pages import (
    STYLESHEET,
    Offer,
    PageContext,
    Terms,
    render_archive_page,
    render_article_page,
    render_author_page,
    render_authors_index,
    render_index_page,
    render_not_found,
    render_page,
    render_redirect,
    render_search_page,
    render_tag_page,
    render_tags_index,
)
from .parallel import parallel_map, progress_bar
from .plan import FEED_FILES, REDIRECTS, Job, by_author, canonical_url, feed_articles, index_pages
from .search import SEARCH_SCRIPT, document_for_article, document_for_page, make_index
from .syndication import (
    Attribution,
    build_attribution,
    copy_paths,
    feed_item_html,
    gate_problems,
    manifest_entry,
    render_copies,
    render_manifest,
    summary_item_html,
    verify_copy,
)
from .theme import Theme, format_date
from .urls import absolute_url, page_file, redirect_line

PARALLEL_JOBS_FROM = 200  # fewer renders than this are faster in one process


@dataclass(slots=True)
class JobResult:
    files: dict[str, tuple[str, int]] = field(default_factory=dict)  # path -> (digest, size)
    staged: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rendered: dict[str, bytes] = field(default_factory=dict)  # kept only when asked (check, tests)


_RUNNER: Renderer | None = None  # set before forking, so workers inherit it instead of unpickling it


def _run_one(index: int) -> tuple[int, JobResult]:
    assert _RUNNER is not None
    return index, _RUNNER.run(_RUNNER.todo[index])


class Renderer:
    """Renders jobs; every method is a pure function of the state given to the constructor."""

    def __init__(self, site: Site, theme: Theme, ctx: PageContext, content: Content,
                 old: dict[str, tuple[str, str, int]], stage: Stage | None, keep: bool,
                 near: dict[str, tuple[Article | None, Article | None]], related: dict[str, list[Article]],
                 tags: dict[Tag, list[Article]]) -> None:
        self.site = site
        self.theme = theme
        self.ctx = ctx
        self.content = content
        self.old = old
        self.stage = stage
        self.keep = keep
        self.todo: list[Job] = []
        articles = content.articles
        self.near = near
        self.related = related
        self.by_tag = {tag.slug: members for tag, members in tags.items()}
        self.tags = {tag.slug: tag for tag in tags}
        self.by_slug = {a.slug: a for a in articles}
        self.pages = {p.slug: p for p in content.pages}
        self.assets = {a.path: a for a in content.assets}
        documents: list[Article | Page] = [*articles, *content.pages]
        self.documents = {d.source: d for d in documents}
        self.index_pages = index_pages(articles, site.per_page)
        self.by_author = by_author(site, articles)
        self._attributions: dict[str, Attribution] = {}
        self._items: dict[str, str] = {}
        self._missing: dict[str, list[str]] = {}  # what each feed item lacks (see _verify_items)

    def run_all(self, todo: list[Job], jobs: int, progress: bool = False) -> dict[Job, JobResult]:
        global _RUNNER
        self.todo = todo
        self._prefetch(todo)
        for article in self.content.articles[:1]:  # parse the statements (a large pattern, compiled once) before forking
            self.attribution(article)
        _RUNNER = self
        try:
            workers = jobs if len(todo) > PARALLEL_JOBS_FROM else 1
            with progress_bar(len(todo) if progress else 0, "rendering") as step:
                # The listings and feeds first, the many small article jobs after: workers then
                # finish together instead of one of them starting the tag pages at the end.
                order = sorted(range(len(todo)), key=lambda index: todo[index].kind == "article")
                pairs = parallel_map(_run_one, order, workers, on_result=step)
        finally:
            _RUNNER = None
        return {todo[index]: result for index, result in pairs}

    def _prefetch(self, todo: list[Job]) -> None:
        """Load the bodies these jobs need now, before workers fork off without the cache."""
        if not isinstance(self.content.bodies, BodyStore):
            return
        keys = []
        feed_items = self.site.feed_items
        for job in todo:
            if job.kind == "article":
                keys.append(self.by_slug[job.name].body_key)
            elif job.kind == "page":
                keys.append(self.pages[job.name].body_key)
            elif job.kind == "feeds":
                keys += [a.body_key for a in feed_articles(self.content.articles, feed_items) if a.syndicate]
            elif job.kind == "tag":
                keys += [a.body_key for a in feed_articles(self.by_tag[job.name], feed_items) if a.syndicate]
        self.content.bodies.prefetch(keys)

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
        previous = self.old.get(path)
        if self.stage is not None and (previous is None or previous[1] != file_digest or not (self.stage.out_dir / path).exists()):
            self.stage.put(path, data)
            result.staged.append(path)

    def attribution(self, article: Article) -> Attribution:
        if article.slug not in self._attributions:
            self._attributions[article.slug] = build_attribution(self.site, article)
        return self._attributions[article.slug]

    def item_html(self, article: Article) -> str:
        if article.slug not in self._items:
            if article.syndicate:
                body = self.content.bodies[article.body_key]
                self._items[article.slug] = feed_item_html(self.site, article, body, self.attribution(article))
            else:  # kept out of syndication: the site's own readers get the summary and the link
                self._items[article.slug] = summary_item_html(self.site, article, self.attribution(article))
        return self._items[article.slug]

    def _job_article(self, job: Job, result: JobResult) -> None:
        article = self.by_slug[job.name]
        body = self.content.bodies[article.body_key]
        offer = None
        if article.is_syndicable:
            attribution = self.attribution(article)
            copies = render_copies(self.theme, self.site, article, body, attribution)
            paths = copy_paths(article)
            templates = {"html": "snippet.html", "text": "snippet.txt", "markdown": "snippet.md"}
            for fmt, data in copies.items():
                missing = verify_copy(data.decode(), fmt, attribution)
                result.problems += gate_problems(article.source, paths[fmt], self.theme.shown(templates[fmt]), missing)
                self._emit(result, paths[fmt], data)
            terms = []
            for author, statement in zip(article.authors, attribution.statements, strict=True):
                assert author.reprint is not None  # syndicable: every author has terms
                terms.append(Terms(author, author.reprint.preamble, statement, author.reprint.commercial))
            offer = Offer(tuple(terms), copies["html"].decode(), paths)
        newer, older = self.near[article.slug]
        html = render_article_page(self.theme, self.ctx, article, body, newer=newer, older=older,
                                   related=self.related[article.slug], offer=offer)
        self._emit(result, page_file(article.path), html.encode())

    def _job_page(self, job: Job, result: JobResult) -> None:
        page = self.pages[job.name]
        html = render_page(self.theme, self.ctx, page, self.content.bodies[page.body_key])
        self._emit(result, page_file(page.path), html.encode())

    def _job_index(self, job: Job, result: JobResult) -> None:
        number = int(job.name)
        chunk = self.index_pages[number - 1]
        self._emit(result, job.paths[0], render_index_page(self.theme, self.ctx, chunk, number, len(self.index_pages)).encode())

    def _job_tag(self, job: Job, result: JobResult) -> None:
        tag = self.tags[job.name]
        members = self.by_tag[job.name]
        self._emit(result, job.paths[0], render_tag_page(self.theme, self.ctx, tag, members).encode())
        in_feed = feed_articles(members, self.site.feed_items)
        title = f"{self.site.title}: {tag.name}"
        self._emit(result, job.paths[1], render_rss(self.site, job.paths[1], title, self.site.description, in_feed, self.item_html))
        self._verify_items(in_feed, job.paths[1], result)

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
        site, bodies = self.site, self.content.bodies
        documents = [document_for_article(site, a, bodies[a.body_key], format_date(a.date, long_format=site.date_format))
                     for a in self.content.articles]
        documents += [document_for_page(site, p, bodies[p.body_key]) for p in self.content.pages]
        for path, data in make_index(site, documents).items():
            self._emit(result, path, data)

    def _job_archive(self, job: Job, result: JobResult) -> None:
        self._emit(result, job.paths[0], render_archive_page(self.theme, self.ctx, self.content.articles).encode())

    def _job_feeds(self, job: Job, result: JobResult) -> None:
        site = self.site
        in_feed = feed_articles(self.content.articles, site.feed_items)
        for path, render in zip(FEED_FILES, (render_rss, render_atom, render_json_feed), strict=True):
            self._emit(result, path, render(site, path, site.title, site.description, in_feed, self.item_html))
        self._verify_items(in_feed, "feed.xml", result)

    def _verify_items(self, articles: Sequence[Article], feed: str, result: JobResult) -> None:
        for article in articles:
            # An article's item is the same in every feed that carries it: checked once.
            missing = self._missing.get(article.slug)
            if missing is None:
                attribution = self.attribution(article)
                if not article.syndicate:  # no full copy leaves, so no statement: the link back must be there
                    attribution = replace(attribution, statements=(), holders=())
                missing = self._missing[article.slug] = verify_copy(self.item_html(article), "html", attribution)
            result.problems += gate_problems(article.source, f"{feed} item", "feeds", missing)

    def _job_manifest(self, job: Job, result: JobResult) -> None:
        entries = [manifest_entry(self.site, a, self.attribution(a)) for a in self.content.articles if a.is_syndicable]
        self._emit(result, job.paths[0], render_manifest(self.site, entries))

    def _job_sitemap(self, job: Job, result: JobResult) -> None:
        self._emit(result, "sitemap.xml", render_sitemap(self.site, self.content, list(self.tags.values())))
        robots = f"User-agent: *\nAllow: /\n\nSitemap: {absolute_url(self.site.url, 'sitemap.xml')}\n"
        self._emit(result, "robots.txt", robots.encode())

    def _job_alias(self, job: Job, result: JobResult) -> None:
        document = self.documents[job.source]
        html = render_redirect(self.site, job.name, document.path, document.title, canonical_url(self.site, document))
        self._emit(result, job.paths[0], html.encode())

    def _job_redirects(self, job: Job, result: JobResult) -> None:
        own = self.assets.get(REDIRECTS)
        lines = sorted(redirect_line(self.site.url, alias, d.path) for d in self.documents.values() for alias in d.aliases)
        head = own.source.read_bytes().rstrip(b"\n") + b"\n" if own is not None else b""
        self._emit(result, job.paths[0], head + ("\n".join(lines) + "\n").encode())

    def _job_404(self, job: Job, result: JobResult) -> None:
        self._emit(result, "404.html", render_not_found(self.theme, self.ctx).encode())

    def _job_stylesheet(self, job: Job, result: JobResult) -> None:
        self._emit(result, STYLESHEET, self.theme.sources.get("style.css", "").encode())
        if SEARCH_SCRIPT in job.paths:
            self._emit(result, SEARCH_SCRIPT, self.theme.sources.get("search.js", "").encode())
        # The code colours are generated, unless the site's templates/ has its own file.
        for path, generated in site_stylesheets().items():
            own = self.theme.sources.get(path.removeprefix("static/"))
            self._emit(result, path, own.encode() if own is not None else generated)

    def _job_asset(self, job: Job, result: JobResult) -> None:
        asset: Asset = self.assets[job.name]
        stat = asset.source.stat()
        result.files[asset.path] = (digest("asset", str(stat.st_size), str(stat.st_mtime_ns)), stat.st_size)
        if self.keep:
            result.rendered[asset.path] = asset.source.read_bytes()
        if self.stage is not None:
            self.stage.put_file(asset.path, asset.source)
            result.staged.append(asset.path)


def render_sitemap(site: Site, content: Content, tags: Sequence[Tag]) -> bytes:
    """Canonical pages only: an article republished from elsewhere has its canonical there."""
    newest = content.articles[0].date if content.articles else None
    entries: list[tuple[str, datetime | None]] = [("", newest), ("archive/", newest)]
    entries += [(a.path, a.updated or a.date) for a in content.articles if a.original is None]
    entries += [(p.path, None) for p in content.pages]
    entries += [("tags/", None), ("authors/", None)]
    entries += [(f"tags/{t.slug}/", None) for t in tags]
    entries += [(f"authors/{author_id}/", None) for author_id in site.authors]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for path, when in entries:
        lastmod = f"<lastmod>{when.date().isoformat()}</lastmod>" if when else ""
        lines.append(f"  <url><loc>{escape(absolute_url(site.url, path))}</loc>{lastmod}</url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode()


