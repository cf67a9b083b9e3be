"""The HTML pages of the site, one function per kind, each returning the page as text.

Every template receives the common context below plus its own; names are documented here
because templates see undefined names as errors.

Common: `site` (Site), `page_path` (this page's site path), `url(path)` (relative href to a
site path), `abs_url(path)` (absolute URL), `canonical` (absolute URL), `title` (for
<title>), `description` (meta description, plain text), `og_type`, `og_image` (absolute
URL or ""), `json_ld` (safe JSON for a script tag), `feeds` (list of (mime type, title,
href)), `nav` (the menu: NavItem with `title`, `path` (a site path) or `url` (absolute), and
`kind`), `stylesheet` (href of the theme's style.css), `code_stylesheets` (`light`, `dark`:
hrefs of the code colours), `logo` (href or ""), `favicon` (`href`, `type`; or None),
`search_page` (href, or "" with `search: false`), `show_drafts` (a preview build),
`has_newsletter` (issues are built), `year`
(the build year, for the footer), `version`.

index.html: `articles`, `pagination` (`number`, `total`, `prev`, `next`: hrefs or "").
article.html: `article`, `lead` (the lead image: `src`, `srcset`, `sizes`, `width`, `height`;
or None), `body` (safe HTML), `headings`, `newer`, `older` (Article or
None), `related` (list of Article), `offer` (Offer or None), `credit` (Original or None),
`reprinted` (Reprinted items, `name` and `url` or "": where the article was reprinted, as
the last `syndicate verify` confirmed; empty unless site.yaml says `reprints: show`).
page.html: `page`, `body`. tag.html: `tag`, `articles`, `tag_feed` (href).
author.html: `author`, `articles`. archive.html: `years` (list of (year, articles)).
tags.html: `tags` (list of (Tag, count), by slug). authors.html: `authors` (list of (Author, count)).
search.html: `search_script` (href of the theme's search.js, which reads pagefind/).
404.html: nothing more. catalogue.html: `listings` (each: `article`, `offer`).
"""

from __future__ import annotations

import functools
import json
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from markupsafe import Markup

from . import __version__
from .attribution import Statement
from .errors import Problems
from .highlight import STYLESHEETS
from .images import ImageInfo
from .model import Article, Author, Body, Page, Site, Tag
from .theme import Theme
from .urls import (
    ARCHIVE,
    AUTHORS_INDEX,
    CATALOGUE,
    FEED_FILES,
    NEWSLETTER_ARCHIVE,
    NOT_FOUND,
    SEARCH_PAGE,
    STYLESHEET,
    TAGS_INDEX,
    absolute_url,
    author_path,
    index_path,
    relative_url,
    relativize_root_paths,
    tag_feed_path,
    tag_path,
)


@dataclass(frozen=True, slots=True)
class Terms:
    """One author's reprint terms as the offer shows them."""

    author: Author
    preamble: str
    statement: Statement
    commercial: str

    @property
    def statement_html(self) -> Markup:
        return Markup(self.statement.html)


@dataclass(frozen=True, slots=True)
class Offer:
    """The reprint offer shown on an article page (each author's terms, in the order listed),
    and the ready copy for the republish box."""

    terms: tuple[Terms, ...]
    snippet: str  # the email-safe HTML copy, shown as text in a read-only box
    copies: Mapping[str, str]  # format -> site path of the copy
    text: str = ""  # the plain-text copy: what the copy button puts beside the HTML on the clipboard

    # The first author's terms, for templates written before articles had co-authors.
    @property
    def preamble(self) -> str:
        return self.terms[0].preamble

    @property
    def statement(self) -> Statement:
        return self.terms[0].statement

    @property
    def commercial(self) -> str:
        return self.terms[0].commercial

    @property
    def statement_html(self) -> Markup:
        return self.terms[0].statement_html


@dataclass(frozen=True, slots=True)
class NavItem:
    """One entry of the header's menu: a site path (`path`, made relative per page) or an
    absolute `url`. Stand-alone pages keep their `.path` and `.title`, as in earlier releases."""

    title: str
    path: str = ""
    url: str = ""
    kind: str = "page"


_MENU_TITLES = {"home": "Home", "archive": "Archive", "tags": "Tags", "authors": "Authors", "search": "Search",
                "newsletter": "Newsletter"}
_MENU_PATHS = {"home": index_path(1), "archive": ARCHIVE, "tags": TAGS_INDEX, "authors": AUTHORS_INDEX, "search": SEARCH_PAGE,
               "newsletter": NEWSLETTER_ARCHIVE}


def resolve_menu(site: Site, pages: Sequence[Page], has_newsletter: bool = False) -> tuple[NavItem, ...]:
    """site.yaml's `menu` with its pages found, or the default: home, archive, tags, authors,
    the newsletter's archive when there are issues, then the stand-alone pages by slug (search
    has its box in the header). A menu entry that names no page, or the newsletter of a site
    without issues, is a problem on its line of site.yaml."""
    published = {p.slug: p for p in pages if not p.is_draft}
    if site.menu is None:
        kinds = ("home", "archive", "tags", "authors", *(("newsletter",) if has_newsletter else ()))
        default = [NavItem(_MENU_TITLES[k], _MENU_PATHS[k], kind=k) for k in kinds]
        return (*default, *(NavItem(p.title, p.path) for p in published.values()))
    items = []
    problems = Problems()
    for entry in site.menu:
        if entry.kind == "page":
            page = published.get(entry.target)
            if page is None:
                known = ", ".join(published) or "none in content/pages/"
                problems.add(site.source, entry.line, f"menu names page '{entry.target}', which is not a published page (pages: {known})")
                continue
            items.append(NavItem(entry.title or page.title, page.path))
        elif entry.kind == "newsletter" and not has_newsletter:
            problems.add(site.source, entry.line, "menu names 'newsletter' but content/newsletters/ has no published issue")
        elif entry.kind == "link":
            external = entry.target if "://" in entry.target else ""
            items.append(NavItem(entry.title, "" if external else entry.target.lstrip("/"), external, "link"))
        else:
            items.append(NavItem(entry.title or _MENU_TITLES[entry.kind], _MENU_PATHS[entry.kind], kind=entry.kind))
    problems.raise_if_any()
    return tuple(items)


@dataclass(frozen=True, slots=True)
class PageContext:
    """What every page shares; built once per build and extended per page."""

    site: Site
    nav: tuple[NavItem, ...]
    now: datetime
    show_drafts: bool
    style_version: str = ""  # a hash of style.css, so browsers fetch it again when it changes
    images: Mapping[str, ImageInfo] = field(default_factory=dict)  # local raster lead images, by site path
    has_newsletter: bool = False  # issues are built: the header links to their archive

    def link(self, page_path: str, target: str) -> str:
        """A site-root path ("/images/logo.svg") relative to this page; a URL or "" as it is."""
        return relative_url(page_path, target.lstrip("/")) if target.startswith("/") else target

    def common(self, page_path: str, title: str, description: str, **extra: Any) -> dict[str, Any]:
        site = self.site
        context: dict[str, Any] = {
            "site": site,
            "page_path": page_path,
            "url": lambda path: relative_url(page_path, path),
            "abs_url": lambda path: absolute_url(site.url, path),
            "canonical": absolute_url(site.url, page_path),
            "title": title,
            "description": description or site.description or site.title,
            "og_type": "website",
            "og_image": image_url(site, site.image) if site.image else "",
            "logo": self.link(page_path, site.logo),
            "favicon": {"href": self.link(page_path, site.favicon), "type": _icon_type(site.favicon)} if site.favicon else None,
            "search_page": relative_url(page_path, SEARCH_PAGE) if site.search else "",
            "json_ld": _json_ld({"@context": "https://schema.org", "@type": "WebSite", "name": site.title, "url": site.url}),
            "feeds": [
                (kind, f"{site.title} ({name})", relative_url(page_path, path)) for kind, name, path in zip(
                    ("application/rss+xml", "application/atom+xml", "application/feed+json"),
                    ("RSS", "Atom", "JSON Feed"), FEED_FILES, strict=True)
            ],
            "nav": self.nav,
            "stylesheet": relative_url(page_path, STYLESHEET) + (f"?v={self.style_version}" if self.style_version else ""),
            "code_stylesheets": {kind: relative_url(page_path, path) + (f"?v={self.style_version}" if self.style_version else "")
                                 for kind, path in STYLESHEETS.items()},
            "show_drafts": self.show_drafts,
            "has_newsletter": self.has_newsletter,
            "year": self.now.year,
            "version": __version__,
        }
        context.update(extra)
        return context


def render_index_page(theme: Theme, ctx: PageContext, articles: Sequence[Article], number: int, total: int) -> str:
    path = index_path(number)
    pagination = {
        "number": number,
        "total": total,
        "prev": relative_url(path, index_path(number - 1)) if number > 1 else "",
        "next": relative_url(path, index_path(number + 1)) if number < total else "",
    }
    title = ctx.site.title if number == 1 else f"{ctx.site.title} (page {number} of {total})"
    return theme.render("index.html", ctx.common(path, title, ctx.site.description, articles=articles, pagination=pagination))


def render_article_page(
    theme: Theme, ctx: PageContext, article: Article, body: Body, *, newer: Article | None,
    older: Article | None, related: Sequence[Article], offer: Offer | None,
) -> str:
    site = ctx.site
    canonical = article.original.url if article.original else absolute_url(site.url, article.path)
    info = ctx.images.get(article.image)
    image = og_image(site, article, info)
    context = ctx.common(
        article.path, f"{article.title} | {site.title}", article.summary,
        article=article, body=Markup(relativize_root_paths(body.html, article.path)), lead=lead_image(ctx, article, info),
        headings=body.headings, newer=newer, older=older, related=list(related), offer=offer,
        credit=article.original, canonical=canonical, og_type="article", og_image=image,
        reprinted=site.reprinted.get(article.slug, ()),
        json_ld=_json_ld(article_json_ld(site, article, image)),
    )
    return theme.render("article.html", context)


def render_page(theme: Theme, ctx: PageContext, page: Page, body: Body) -> str:
    context = ctx.common(
        page.path, f"{page.title} | {ctx.site.title}", page.summary,
        page=page, body=Markup(relativize_root_paths(body.html, page.path)),
    )
    return theme.render("page.html", context)


def render_tag_page(theme: Theme, ctx: PageContext, tag: Tag, articles: Sequence[Article]) -> str:
    path = tag_path(tag.slug)
    description = f"Articles tagged “{tag.name}” on {ctx.site.title}."
    feed = relative_url(path, tag_feed_path(tag.slug))
    context = ctx.common(path, f"{tag.name} | {ctx.site.title}", description, tag=tag, articles=articles, tag_feed=feed)
    context["feeds"] = [("application/rss+xml", f"{tag.name} (RSS)", feed), *context["feeds"]]
    return theme.render("tag.html", context)


def render_author_page(theme: Theme, ctx: PageContext, author: Author, articles: Sequence[Article]) -> str:
    path = author_path(author.id)
    description = author.bio or f"Articles by {author.name} on {ctx.site.title}."
    return theme.render("author.html", ctx.common(path, f"{author.name} | {ctx.site.title}", description, author=author, articles=articles))


def render_tags_index(theme: Theme, ctx: PageContext, tags: Sequence[tuple[Tag, int]]) -> str:
    description = f"Every tag on {ctx.site.title}, with its number of articles."
    return theme.render("tags.html", ctx.common(TAGS_INDEX, f"Tags | {ctx.site.title}", description, tags=list(tags)))


def render_authors_index(theme: Theme, ctx: PageContext, authors: Sequence[tuple[Author, int]]) -> str:
    description = f"Everyone who writes for {ctx.site.title}."
    return theme.render("authors.html", ctx.common(AUTHORS_INDEX, f"Authors | {ctx.site.title}", description, authors=list(authors)))


def render_search_page(theme: Theme, ctx: PageContext, script: str) -> str:
    description = f"Search the articles and pages of {ctx.site.title}."
    version = f"?v={ctx.style_version}" if ctx.style_version else ""
    context = ctx.common(SEARCH_PAGE, f"Search | {ctx.site.title}", description,
                         search_script=relative_url(SEARCH_PAGE, script) + version)
    return theme.render("search.html", context)


def render_archive_page(theme: Theme, ctx: PageContext, articles: Sequence[Article]) -> str:
    years: dict[int, list[Article]] = {}
    for article in articles:
        years.setdefault(article.date.year, []).append(article)
    description = f"Every article on {ctx.site.title}, by year."
    return theme.render("archive.html", ctx.common(ARCHIVE, f"Archive | {ctx.site.title}", description, years=list(years.items())))


def render_not_found(theme: Theme, ctx: PageContext) -> str:
    # The 404 page is served at any depth, so its links are absolute.
    context = ctx.common(NOT_FOUND, f"Page not found | {ctx.site.title}", "This page does not exist.")
    context["url"] = lambda path: absolute_url(ctx.site.url, path)
    context["feeds"] = [(kind, title, absolute_url(ctx.site.url, href)) for kind, title, href in context["feeds"]]
    version = f"?v={ctx.style_version}" if ctx.style_version else ""
    context["stylesheet"] = absolute_url(ctx.site.url, STYLESHEET) + version
    context["code_stylesheets"] = {kind: absolute_url(ctx.site.url, path) + version for kind, path in STYLESHEETS.items()}
    site = ctx.site
    context["logo"] = image_url(site, site.logo) if site.logo else ""
    if site.favicon:
        context["favicon"] = {"href": image_url(site, site.favicon), "type": _icon_type(site.favicon)}
    context["search_page"] = absolute_url(site.url, SEARCH_PAGE) if site.search else ""
    return theme.render("404.html", context)


@dataclass(frozen=True, slots=True)
class Listing:
    """One syndicable article in the editors' catalogue: what it is, its terms, its copies."""

    article: Article
    offer: Offer


def render_catalogue(theme: Theme, ctx: PageContext, listings: Sequence[Listing]) -> str:
    """output/syndicate/index.html: every article an editor may reprint, newest first."""
    description = f"Every article on {ctx.site.title} that you may reprint, with each author's terms and ready-made copies."
    return theme.render("catalogue.html", ctx.common(CATALOGUE, f"Reprint catalogue | {ctx.site.title}", description,
                                                     listings=list(listings)))
def render_redirect(site: Site, target: str, title: str, canonical: str) -> str:
    """The page left at an old address: browsers follow the refresh at once, search engines
    the canonical link, and anyone else the visible link. Links are absolute: a host may serve
    an old address with or without its final `/`, and a relative link would resolve against
    the wrong folder in one of the two (the preview maps them to itself); no template, so no
    theme can drop the way on."""
    href = escape(absolute_url(site.url, target))
    name = escape(title)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(site.language)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Moved: {name}</title>\n"
        f'<link rel="canonical" href="{escape(canonical)}">\n'
        '<meta name="robots" content="noindex">\n'
        f'<meta http-equiv="refresh" content="0; url={href}">\n'
        "</head>\n<body>\n"
        f'<p>This page has moved to <a href="{href}">{name}</a>.</p>\n'
        "</body>\n</html>\n"
    )


LEAD_SIZES = "(min-width: 66.5rem) 64rem, calc(100vw - 2.5rem)"  # as wide as style.css's .lead-image


def lead_image(ctx: PageContext, article: Article, info: ImageInfo | None) -> dict[str, Any] | None:
    """The lead image as article.html shows it: `src`, `srcset`, `sizes`, `width`, `height`
    (the last four empty or 0 for an SVG or a remote image)."""
    if not article.image:
        return None
    href = functools.partial(ctx.link, article.path)
    if info is None:
        return {"src": href(article.image), "srcset": "", "sizes": "", "width": 0, "height": 0}
    links = {path: href("/" + path.lstrip("/")) for path in (info.path, *info.paths)}
    return {"src": href(article.image), "srcset": info.srcset(links), "sizes": LEAD_SIZES, "width": info.width, "height": info.height}


def og_image(site: Site, article: Article, info: ImageInfo | None) -> str:
    """The article's lead image (a copy about 1200 px wide), else the site's `image`.
    An SVG is no OpenGraph image (link previews do not show it)."""
    if info is not None:
        return image_url(site, "/" + info.og_path.lstrip("/"))
    if article.image and not article.image.lower().endswith(".svg"):
        return image_url(site, article.image)
    return image_url(site, site.image) if site.image else ""


def _icon_type(path: str) -> str:
    suffix = path.rsplit(".", 1)[-1].lower()
    return {"svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon", "gif": "image/gif", "webp": "image/webp"}.get(suffix, "")


def image_url(site: Site, image: str) -> str:
    return absolute_url(site.url, image.lstrip("/")) if image.startswith("/") else image


def article_json_ld(site: Site, article: Article, image: str) -> dict[str, Any]:
    people = [{"@type": "Person", "name": a.name, **({"url": a.url} if a.url else {})} for a in article.authors]
    holders = [{"@type": "Person", "name": a.name} for a in article.authors]
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article.title,
        "description": article.summary,
        "datePublished": article.date.isoformat(),
        "dateModified": (article.updated or article.date).isoformat(),
        "author": people if len(people) > 1 else people[0],
        "copyrightHolder": holders if len(holders) > 1 else holders[0],
        "publisher": {"@type": "Organization", "name": site.title, "url": site.url},
        "mainEntityOfPage": absolute_url(site.url, article.path),
        "url": absolute_url(site.url, article.path),
        "wordCount": article.word_count,
        "keywords": [t.name for t in article.tags],
        "inLanguage": site.language,
    }
    if image:
        data["image"] = image
    if article.original:
        data["isBasedOn"] = article.original.url
    return data


def _json_ld(data: dict[str, Any]) -> Markup:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def related_articles(articles: Sequence[Article], limit: int = 3, window: int = 12) -> Related:
    """For each article, up to `limit` others sharing the most tags, nearest in date first.

    Candidates are the `window` nearest neighbours in each shared tag's date order, so the
    cost grows with the number of articles, not with its square.
    """
    by_tag: dict[str, list[int]] = {}
    for index, article in enumerate(articles):
        for tag in article.tags:
            by_tag.setdefault(tag.slug, []).append(index)
    position: dict[tuple[str, int], int] = {}
    for slug, members in by_tag.items():
        for offset, index in enumerate(members):
            position[(slug, index)] = offset
    picks: list[list[int]] = []
    for index, article in enumerate(articles):
        scores: dict[int, int] = {}
        for tag in article.tags:
            members = by_tag[tag.slug]
            at = position[(tag.slug, index)]
            for other in members[max(0, at - window) : at + window + 1]:
                if other != index:
                    scores[other] = scores.get(other, 0) + 1
        picks.append(sorted(scores, key=lambda o: (-scores[o], abs(o - index), o))[:limit])
    return Related(tuple(articles), picks, width=limit)


class _ByPosition:
    """Articles found by their place in the site's newest-first order, which a plan kept
    between builds (incremental.py) pickles as one reference to that order: a dictionary of
    ten thousand small tuples or lists, one an article, was a tenth of its load."""

    __slots__ = ("_articles", "_places")

    def __init__(self, articles: tuple[Article, ...]) -> None:
        self._articles = articles
        self._places: dict[str, int] | None = None

    def _place(self, slug: str) -> int:
        if self._places is None:
            self._places = {article.slug: index for index, article in enumerate(self._articles)}
        return self._places[slug]

    def __iter__(self) -> Iterator[str]:
        return (article.slug for article in self._articles)

    def __len__(self) -> int:
        return len(self._articles)


class Neighbours(_ByPosition, Mapping[str, tuple[Article | None, Article | None]]):
    """(newer, older) for each article in the site's newest-first order."""

    __slots__ = ()

    def __getitem__(self, slug: str) -> tuple[Article | None, Article | None]:
        index, articles = self._place(slug), self._articles
        return articles[index - 1] if index > 0 else None, articles[index + 1] if index + 1 < len(articles) else None

    def __reduce__(self) -> tuple[type[Neighbours], tuple[tuple[Article, ...]]]:
        return Neighbours, (self._articles,)


class Related(_ByPosition, Mapping[str, list[Article]]):
    """Each article's related articles (related_articles), kept as places in the site's order."""

    __slots__ = ("_picks", "_width")
    _NONE = 0xFFFF_FFFF

    def __init__(self, articles: tuple[Article, ...], picks: Sequence[Sequence[int]] | array[int], width: int = 3) -> None:
        super().__init__(articles)
        self._width = width
        if isinstance(picks, array):
            self._picks = picks
        else:  # `width` places an article, the unused ones _NONE: one array for the whole site
            self._picks = array("L", [place for chosen in picks for place in [*chosen, *[self._NONE] * (width - len(chosen))]])

    def __getitem__(self, slug: str) -> list[Article]:
        start = self._place(slug) * self._width
        return [self._articles[place] for place in self._picks[start : start + self._width] if place != self._NONE]

    def __reduce__(self) -> tuple[type[Related], tuple[tuple[Article, ...], array[int], int]]:
        return Related, (self._articles, self._picks, self._width)

