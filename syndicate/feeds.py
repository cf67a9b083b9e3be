"""RSS 2.0 and Atom through feedgen, JSON Feed 1.1 through json.

Each item is a syndicated copy: its full content ends with the link back to the article
and, when the author offers reprints, the complete statement with active links. Dates
come from the articles, never from the clock, so two builds of one site match byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from . import DISTRIBUTION, __version__
from .fields import strip_controls
from .model import Article, Site
from .pages import image_url
from .urls import absolute_url

ItemHtml = Callable[[Article], str]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rights_line(site: Site, articles: Sequence[Article]) -> str:
    """The channel copyright: each article's rights stay with its author."""
    names = sorted({author.name for a in articles for author in a.authors})
    who = ", ".join(names) if names else site.title
    return f"Copyright the authors ({who}). Reprints only with each author's complete statement."


def _generator(site: Site, path: str, title: str, description: str, articles: Sequence[Article]) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc")
    fg.load_extension("media")
    fg.id(site.url)
    fg.title(strip_controls(title))
    fg.description(strip_controls(description or title))
    fg.subtitle(strip_controls(description or title))
    # feedgen takes the RSS channel <link> from the last call: self first, alternate last.
    fg.link(href=absolute_url(site.url, path), rel="self")
    fg.link(href=site.url, rel="alternate")
    fg.language(site.language)
    fg.rights(rights_line(site, articles))
    fg.generator("syndicate", __version__, f"https://pypi.org/project/{DISTRIBUTION}/")
    newest = max((a.updated or a.date for a in articles), default=_EPOCH)
    fg.lastBuildDate(newest)
    fg.updated(newest)
    for article in articles:
        _add_entry(fg, site, article)
    return fg


def _add_entry(fg: FeedGenerator, site: Site, article: Article) -> None:
    url = absolute_url(site.url, article.path)
    entry = fg.add_entry(order="append")
    entry.id(url)
    entry.guid(url, permalink=True)
    entry.title(strip_controls(article.title))
    entry.link(href=url, rel="alternate")
    entry.published(article.date)
    entry.updated(article.updated or article.date)
    entry.author([{"name": a.name, **({"uri": a.url} if a.url else {})} for a in article.authors])
    entry.dc.dc_creator([a.name for a in article.authors])
    rights = f"Copyright {article.author_names}"
    entry.dc.dc_rights(rights)
    entry.rights(rights)
    for tag in article.tags:
        entry.category(term=tag.name, label=tag.name)
    entry.summary(strip_controls(article.summary) or strip_controls(article.title))
    entry.description(strip_controls(article.summary) or strip_controls(article.title))
    if article.image:
        entry.media.content({"url": image_url(site, article.image), "medium": "image"})


def _with_content(fg: FeedGenerator, articles: Sequence[Article], item_html: ItemHtml) -> None:
    for entry, article in zip(fg.entry(), articles, strict=True):
        entry.content(strip_controls(item_html(article)), type="html")


def render_rss(site: Site, path: str, title: str, description: str, articles: Sequence[Article], item_html: ItemHtml) -> bytes:
    fg = _generator(site, path, title, description, articles)
    _with_content(fg, articles, item_html)
    return bytes(fg.rss_str(pretty=True))


def render_atom(site: Site, path: str, title: str, description: str, articles: Sequence[Article], item_html: ItemHtml) -> bytes:
    fg = _generator(site, path, title, description, articles)
    _with_content(fg, articles, item_html)
    return bytes(fg.atom_str(pretty=True))


def render_json_feed(site: Site, path: str, title: str, description: str, articles: Sequence[Article], item_html: ItemHtml) -> bytes:
    items = []
    for article in articles:
        url = absolute_url(site.url, article.path)
        item = {
            "id": url,
            "url": url,
            "title": article.title,
            "content_html": item_html(article),
            "summary": article.summary,
            "date_published": article.date.isoformat(),
            "date_modified": (article.updated or article.date).isoformat(),
            "authors": [{"name": a.name, **({"url": a.url} if a.url else {})} for a in article.authors],
            "tags": [t.name for t in article.tags],
            "language": site.language,
        }
        if article.image:
            item["image"] = image_url(site, article.image)
        if article.original:
            item["external_url"] = article.original.url
        items.append(item)
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": site.url,
        "feed_url": absolute_url(site.url, path),
        "description": description or title,
        "language": site.language,
        "items": items,
    }
    return (json.dumps(feed, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
