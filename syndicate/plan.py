"""Every output of a build, each with the key that says whether it must be rendered again.

A key is a hash of every input that shows in the output: the article's bytes, what its
neighbours and related articles look like in a list, the templates it uses (with what they
include), the settings. Planning reads no body and renders nothing, so an incremental build
can decide in a fraction of a second what is left to do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .cache import Cache, digest
from .content import Content
from .errors import Problems, display_path, warn
from .model import Article, Page, Site, Tag
from .output import MARKER
from .pages import STYLESHEET, PageContext, index_path, related_articles
from .syndication import copy_paths
from .theme import Theme
from .urls import page_file

FEED_FILES = ("feed.xml", "atom.xml", "feed.json")


@dataclass(frozen=True, slots=True)
class Job:
    """One unit of rendering: it produces `paths`, and its `key` changes when they would."""

    kind: str
    name: str
    paths: tuple[str, ...]
    key: str
    source: str


def plan_outputs(site: Site, content: Content, theme: Theme, ctx: PageContext,
                 near: dict[str, tuple[Article | None, Article | None]], related: dict[str, list[Article]],
                 tags: dict[Tag, list[Article]]) -> list[Job]:
    """Every output of the build, with the key that says whether it must be rendered again."""
    articles = content.articles
    base = digest(site.fingerprint, str(ctx.now.year), str(ctx.show_drafts), __version__,
                  *(f"{p.slug}\0{p.title}" for p in ctx.nav))
    fp = {name: digest(base, theme.fingerprint(name)) for name in (
        "index.html", "article.html", "page.html", "tag.html", "author.html", "archive.html", "404.html")}
    copies_fp = digest(theme.fingerprint("snippet.html"), theme.fingerprint("snippet.txt"),
                       theme.fingerprint("snippet.md"), theme.fingerprint("snippet.css"))
    jobs: list[Job] = []
    for article in articles:
        newer, older = near[article.slug]
        paths = [page_file(article.path)]
        if article.is_syndicable:
            paths += copy_paths(article).values()
        key = digest(fp["article.html"], copies_fp, article.source_hash, article.meta_hash,
                     *(a.meta_hash if a else "-" for a in (newer, older)), *(a.meta_hash for a in related[article.slug]))
        jobs.append(Job("article", article.slug, tuple(paths), key, article.source))
    for page in content.pages:
        jobs.append(Job("page", page.slug, (page_file(page.path),), digest(fp["page.html"], page.source_hash), page.source))
    chunks = index_pages(articles, site.per_page)
    for number, chunk in enumerate(chunks, start=1):
        key = digest(fp["index.html"], str(number), str(len(chunks)), *(a.meta_hash for a in chunk))
        jobs.append(Job("index", str(number), (page_file(index_path(number)),), key, "index.html"))
    for tag, members in tags.items():
        in_feed = feed_articles(members, site.feed_items)
        key = digest(fp["tag.html"], tag.name, *(a.meta_hash for a in members), *(a.source_hash for a in in_feed))
        jobs.append(Job("tag", tag.slug, (f"tags/{tag.slug}/index.html", f"tags/{tag.slug}/feed.xml"), key, "tag.html"))
    for author_id, members in by_author(site, articles).items():
        key = digest(fp["author.html"], *(a.meta_hash for a in members))
        jobs.append(Job("author", author_id, (f"authors/{author_id}/index.html",), key, "author.html"))
    everything = digest(*(a.meta_hash for a in articles))
    jobs.append(Job("archive", "archive", ("archive/index.html",), digest(fp["archive.html"], everything), "archive.html"))
    in_feeds = feed_articles(articles, site.feed_items)
    feed_key = digest(base, *(a.meta_hash + a.source_hash for a in in_feeds),
                      *sorted({a.author.name for a in in_feeds}))
    jobs.append(Job("feeds", "feeds", FEED_FILES, feed_key, "feeds"))
    syndicable = [a for a in articles if a.is_syndicable]
    jobs.append(Job("manifest", "manifest", ("syndicate/index.json",), digest(base, *(a.meta_hash for a in syndicable)), "syndicate"))
    pages_key = digest(base, everything, *(p.slug for p in content.pages), *(t.slug for t in tags))
    jobs.append(Job("sitemap", "sitemap", ("sitemap.xml", "robots.txt"), pages_key, "sitemap"))
    jobs.append(Job("404", "404", ("404.html",), fp["404.html"], "404.html"))
    jobs.append(Job("stylesheet", "style.css", (STYLESHEET,), digest(theme.fingerprint("style.css")), theme.shown("style.css")))
    for asset in content.assets:
        key = digest("asset", str(asset.size), str(asset.mtime_ns), str(asset.source))
        jobs.append(Job("asset", asset.path, (asset.path,), key, display_path(asset.source, site.root)))
    return jobs


def feed_articles(articles: Sequence[Article], limit: int) -> list[Article]:
    """The newest articles a feed carries; an article with `syndicate: false` never is one."""
    return [a for a in articles if a.syndicate][:limit]


def index_pages(articles: Sequence[Article], per_page: int) -> list[Sequence[Article]]:
    """The paginated index, newest first; a site with no article still has its first page."""
    total = max(1, math.ceil(len(articles) / per_page))
    return [articles[number * per_page : (number + 1) * per_page] for number in range(total)]


def by_author(site: Site, articles: Sequence[Article]) -> dict[str, list[Article]]:
    """Every author in site.yaml with their articles, newest first (possibly none)."""
    found: dict[str, list[Article]] = {author_id: [] for author_id in site.authors}
    for article in articles:
        found[article.author.id].append(article)
    return found


def related_cached(cache: Cache, articles: Sequence[Article]) -> dict[str, list[Article]]:
    """Related articles depend only on the order, slugs and tags: reuse them while those hold."""
    key = digest(*(f"{a.slug}\0{'|'.join(t.slug for t in a.tags)}" for a in articles))
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


def check_clashes(jobs: Sequence[Job], out_dir: Path, site: Site) -> None:
    """Two outputs claiming one path is one problem that names both sources."""
    owners: dict[str, str] = {}
    problems = Problems()
    for job in jobs:
        for path in job.paths:
            if path == MARKER or path.startswith(".syndicate-stage"):
                problems.add(job.source, 1, f"'{path}' is reserved for syndicate's own use")
            elif path in owners:
                problems.add(job.source, 1, f"output '{path}' is also written by {owners[path]}; rename one of them")
            else:
                owners[path] = job.source
    problems.raise_if_any()


def check_links(site: Site, content: Content, jobs: Sequence[Job]) -> list[str]:
    """Internal links and anchors that lead nowhere: warnings, errors with --strict."""
    paths = {path for job in jobs for path in job.paths}
    documents: list[Article | Page] = [*content.articles, *content.pages]
    ids_by_file = {page_file(d.path): set(content.links[d.source].ids) for d in documents}
    lines = []
    for document in documents:
        facts = content.links[document.source]
        for link in facts.links:
            target, _, anchor = link.partition("#")
            target = target.split("?", 1)[0].lstrip("/")
            file = page_file(document.path) if not target else next(
                (f for f in (target, page_file(target), f"{target}/index.html") if f in paths), None)
            if file is None:
                lines.append(str(warn(document.source, 1, f"broken internal link '{link}'")))
            elif anchor and file in ids_by_file and anchor not in ids_by_file[file]:
                lines.append(str(warn(document.source, 1, f"link '{link}' points at a missing anchor '#{anchor}'")))
        if facts.missing_alt:
            lines.append(str(warn(document.source, 1, f"{facts.missing_alt} image(s) without alt text")))
    return lines


