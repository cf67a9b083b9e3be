"""Every output of a build, each with the key that says whether it must be rendered again.

A key is a hash of every input that shows in the output: the article's bytes, what its
neighbours and related articles look like in a list, the templates it uses (with what they
include), the settings. Planning reads no body and renders nothing, so an incremental build
can decide in a fraction of a second what is left to do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .cache import Cache, digest
from .content import Content
from .errors import Problem, Problems, display_path
from .highlight import PYGMENTS_VERSION, STYLESHEETS
from .images import ImageInfo
from .model import Article, Page, Site, Tag
from .output import MARKER
from .pages import SEARCH_PAGE, STYLESHEET, PageContext, index_path, related_articles
from .search import INDEX_FOLDER, SEARCH_SCRIPT, index_key, known_index_files
from .syndication import copy_paths
from .theme import Theme
from .urls import absolute_url, alias_file, page_file, redirect_line

FEED_FILES = ("feed.xml", "atom.xml", "feed.json")
REDIRECTS = "_redirects"


@dataclass(frozen=True, slots=True)
class Job:
    """One unit of rendering: it produces `paths`, and its `key` changes when they would."""

    kind: str
    name: str
    paths: tuple[str, ...]
    key: str
    source: str


@dataclass(frozen=True, slots=True)
class Fingerprints:
    """The parts of every key that come from the settings and templates, not from articles."""

    base: str
    pages: dict[str, str]  # template name -> its fingerprint mixed with `base`
    copies: str
    images: dict[str, str]  # lead image site path -> the key of its file and copies


def fingerprints(site: Site, theme: Theme, ctx: PageContext) -> Fingerprints:
    base = digest(site.fingerprint, str(ctx.now.year), str(ctx.show_drafts), __version__,
                  *(f"{p.path}\0{p.title}\0{p.url}" for p in ctx.nav))
    pages = {name: digest(base, theme.fingerprint(name)) for name in (
        "index.html", "article.html", "page.html", "tag.html", "author.html", "archive.html", "404.html", "tags.html",
        "authors.html", "search.html")}
    copies = digest(PYGMENTS_VERSION, theme.fingerprint("snippet.html"), theme.fingerprint("snippet.txt"),
                    theme.fingerprint("snippet.md"), theme.fingerprint("snippet.css"))
    return Fingerprints(base, pages, copies, {path: info.key for path, info in ctx.images.items()})


def article_job(fp: Fingerprints, article: Article, near: dict[str, tuple[Article | None, Article | None]],
                related: dict[str, list[Article]]) -> Job:
    newer, older = near[article.slug]
    paths = [page_file(article.path)]
    if article.is_syndicable:
        paths += copy_paths(article).values()
    key = digest(fp.pages["article.html"], fp.copies, fp.images.get(article.image, ""), article.source_hash, article.meta_hash,
                 *(a.meta_hash if a else "-" for a in (newer, older)), *(a.meta_hash for a in related[article.slug]))
    return Job("article", article.slug, tuple(paths), key, article.source)


def tag_job(site: Site, fp: Fingerprints, tag: Tag, members: Sequence[Article]) -> Job:
    in_feed = feed_articles(members, site.feed_items)
    key = digest(fp.pages["tag.html"], tag.name, *(a.meta_hash for a in members), *(a.source_hash for a in in_feed))
    return Job("tag", tag.slug, (f"tags/{tag.slug}/index.html", f"tags/{tag.slug}/feed.xml"), key, "tag.html")


def feeds_job(site: Site, fp: Fingerprints, articles: Sequence[Article]) -> Job:
    in_feeds = feed_articles(articles, site.feed_items)
    key = digest(fp.base, *(a.meta_hash + a.source_hash for a in in_feeds), *sorted({w.name for a in in_feeds for w in a.authors}))
    return Job("feeds", "feeds", FEED_FILES, key, "feeds")


def plan_outputs(site: Site, content: Content, theme: Theme, fp: Fingerprints,
                 near: dict[str, tuple[Article | None, Article | None]], related: dict[str, list[Article]],
                 tags: dict[Tag, list[Article]]) -> list[Job]:
    """Every output of the build, with the key that says whether it must be rendered again."""
    articles = content.articles
    base = fp.base
    jobs = [article_job(fp, article, near, related) for article in articles]
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
        jobs.append(Job("author", author_id, (f"authors/{author_id}/index.html",), key, "author.html"))
    counts = digest(*(f"{tag.slug}\0{tag.name}\0{len(members)}" for tag, members in tags.items()))
    jobs.append(Job("tags_index", "tags", ("tags/index.html",), digest(fp.pages["tags.html"], counts), "tags.html"))
    per_author = digest(*(f"{author_id}\0{len(members)}" for author_id, members in by_author(site, articles).items()))
    jobs.append(Job("authors_index", "authors", ("authors/index.html",), digest(fp.pages["authors.html"], per_author), "authors.html"))
    everything = digest(*(a.meta_hash for a in articles))
    jobs.append(Job("archive", "archive", ("archive/index.html",), digest(fp.pages["archive.html"], everything), "archive.html"))
    jobs.append(feeds_job(site, fp, articles))
    syndicable = [a for a in articles if a.is_syndicable]
    jobs.append(Job("manifest", "manifest", ("syndicate/index.json",), digest(base, *(a.meta_hash for a in syndicable)), "syndicate"))
    pages_key = digest(base, everything, *(p.slug for p in content.pages), *(t.slug for t in tags))
    jobs.append(Job("sitemap", "sitemap", ("sitemap.xml", "robots.txt"), pages_key, "sitemap"))
    jobs.append(Job("404", "404", ("404.html",), fp.pages["404.html"], "404.html"))
    statics = ("style.css", "code-light.css", "code-dark.css", *(("search.js",) if site.search else ()))
    styles_key = digest(PYGMENTS_VERSION, *(theme.fingerprint(name) for name in statics))
    scripts = (SEARCH_SCRIPT,) if site.search else ()
    jobs.append(Job("stylesheet", "style.css", (STYLESHEET, *STYLESHEETS.values(), *scripts), styles_key, theme.shown("style.css")))
    if site.search:
        jobs.append(Job("search_page", "search", (page_file(SEARCH_PAGE),), fp.pages["search.html"], "search.html"))
    for asset in content.assets:
        if asset.path == REDIRECTS and any(job.kind == "redirects" for job in jobs):
            continue  # the site's own _redirects opens the one the build writes
        key = digest("asset", str(asset.size), str(asset.mtime_ns), str(asset.source))
        jobs.append(Job("asset", asset.path, (asset.path,), key, display_path(asset.source, site.root)))
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


def search_job(site: Site, cache: Cache, content: Content) -> Job:
    """The search index: reindexed only when an indexed document or a setting changed."""
    key = index_key(site, content.articles, content.pages)
    paths = known_index_files(cache, key) or (f"{INDEX_FOLDER}/pagefind-entry.json",)
    return Job("search", "index", paths, key, "search")


def feed_articles(articles: Sequence[Article], limit: int) -> list[Article]:
    """The newest articles a feed carries: every one (with `syndicate: false`, its summary and link only)."""
    return list(articles[:limit])


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


def related_cached(cache: Cache, articles: Sequence[Article]) -> dict[str, list[Article]]:
    """Related articles depend only on the order, slugs and tags: reuse them while those hold."""
    key = digest("\n".join(a.topic_key for a in articles))
    state = cache.get_state("related")
    if isinstance(state, dict) and state.get("key") == key:
        by_slug = {a.slug: a for a in articles}
        return {slug: [by_slug[s] for s in others] for slug, others in state["slugs"].items()}
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


def check_clashes(jobs: Sequence[Job], out_dir: Path, site: Site, content: Content | None = None) -> None:
    """Two outputs claiming one path is one problem that names both sources; an old address
    (`aliases`) that would replace a page of the site, or another's old address, is named as such."""
    owners: dict[str, Job] = {}
    problems = Problems()
    documents: list[Article | Page] = [*content.articles, *content.pages] if content else []
    lines = {d.source: d.aliases_line for d in documents}
    for job in sorted(jobs, key=lambda j: j.kind == "alias"):  # stable: an alias is the one to blame
        for path in job.paths:
            owner = owners.get(path)
            folder = next((f for f in _folders(path) if f in owners), None) if job.kind == "alias" else None
            if path == MARKER or path.startswith(".syndicate-stage"):
                problems.add(job.source, 1, f"'{path}' is reserved for syndicate's own use")
            elif folder is not None:
                problems.add(job.source, lines.get(job.source, 1), (
                    f"alias '/{job.name}' needs a folder where '{folder}' is written by {owners[folder].source}; remove it"))
            elif owner is not None and job.kind == "alias":
                what = (f"is also an alias of {owner.source}" if owner.kind == "alias"
                        else f"would replace '{path}', written by {owner.source}")
                problems.add(job.source, lines.get(job.source, 1), f"alias '/{job.name}' {what}; remove it")
            elif owner is not None:
                problems.add(job.source, 1, f"output '{path}' is also written by {owner.source}; rename one of them")
            else:
                owners[path] = job
    problems.raise_if_any()


def _folders(path: str) -> list[str]:
    """Every folder a file needs: "a/b/index.html" needs "a" and "a/b"."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: n + 1]) for n in range(len(parts))]


def output_paths(jobs: Sequence[Job]) -> set[str]:
    return {path for job in jobs for path in job.paths}


def check_links(content: Content, paths: set[str], only: set[str] | None = None) -> dict[str, list[Problem]]:
    """Internal links and anchors that lead nowhere, by document (all, or those in `only`):
    warnings, errors with --strict."""
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
            target, _, anchor = link.partition("#")
            target = target.split("?", 1)[0].lstrip("/")
            file = page_file(document.path) if not target else next(
                (f for f in (target, page_file(target), f"{target}/index.html") if f in paths), None)
            if file is None:
                lines.append(Problem(document.source, line, f"warning: broken internal link '{link}'"))
            elif anchor and not ids_by_file:
                ids_by_file.update((page_file(d.path), set(content.links[d.source].ids)) for d in documents)
            if file is not None and anchor and file in ids_by_file and anchor not in ids_by_file[file]:
                lines.append(Problem(document.source, line, f"warning: link '{link}' points at a missing anchor '#{anchor}'"))
        if lines:
            found[document.source] = lines
    return found


def in_document_order(content: Content, by_source: dict[str, list[Problem]]) -> list[Problem]:
    if not by_source:
        return []
    documents: list[Article | Page] = [*content.articles, *content.pages]
    return [problem for d in documents for problem in by_source.get(d.source, ())]


def patch_jobs(site: Site, fp: Fingerprints, jobs: Sequence[Job], content: Content, renewed: set[str],
               near: dict[str, tuple[Article | None, Article | None]], related: dict[str, list[Article]],
               tags: dict[Tag, list[Article]]) -> list[Job]:
    """The last build's jobs with the keys that show the renewed articles' bodies made again:
    their own pages and copies, the feeds and the feeds of their tags (listings show nothing
    of a body that their keys do not already cover)."""
    replaced: dict[tuple[str, str], Job] = {}
    by_slug = {tag.slug: (tag, members) for tag, members in tags.items()}
    for article in content.articles:
        if article.slug in renewed:
            replaced["article", article.slug] = article_job(fp, article, near, related)
            for tag in article.tags:
                replaced["tag", tag.slug] = tag_job(site, fp, *by_slug[tag.slug])
    replaced["feeds", "feeds"] = feeds_job(site, fp, content.articles)
    return [replaced.get((job.kind, job.name), job) for job in jobs]
