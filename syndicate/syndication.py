"""Syndicated copies: the email-safe HTML snippet, plain text, Markdown, feed item bodies.

Every copy is rendered, sanitized, and then checked by `verify_copy`: the integrity gate.
A copy that lost any word of the author's statement, or any of its links, or the link
back to the article, fails the build instead of shipping an article without attribution.
`syndicated_copies` and `syndicated_item` are the only ways to a copy: each returns the
copy together with what the gate found, so no caller can have one without the other. A
newsletter issue, a copy of several articles at once, has the same kind of entry points in
newsletter.py (`checked_issue`, `checked_archive`), with a gate that asks the same of it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from html import escape, unescape
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from .attribution import Statement, Statements
from .errors import Problem, warning
from .highlight import email_css
from .model import Article, Body, Original, Site
from .plaintext import WIDTH, MarkdownText, html_to_plain_and_markdown, markdown_destination, wrap_words
from .rasters import email_images, raster_image
from .theme import Theme
from .urls import CATALOGUE, COPY_FOLDER, absolute_url, absolutize_root_paths, add_query, author_path, copy_paths, link_path, page_file

if TYPE_CHECKING:  # the sanitizer, the CSS inliner and lxml load in builds that make copies or feeds
    import lxml.html
    import nh3

    from .images import ImageInfo

COPY_TEMPLATES = {"html": "snippet.html", "text": "snippet.txt", "markdown": "snippet.md"}
SNIPPET_MAX_BYTES = 100_000  # Gmail clips messages larger than about 102 KB
EMAIL_WIDTH = 560  # what an image may fill in the 600-pixel column e-mail programs show
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "ol",
    "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "u", "ul",
}
_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
}
_IMG_WITHOUT_WIDTH = re.compile(r"<img(?![^>]*\swidth=)([^>]*)>")
_SRC_ATTRIBUTE = re.compile(r'\ssrc="([^"]*)"')
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\salt=)")


@dataclass(frozen=True, slots=True)
class Attribution:
    """Everything a copy must carry for one article: pure data, built before any rendering."""

    article_url: str  # the article's site URL, the canonical permalink
    backlink: str  # the site URL, with UTM tags when configured
    statements: tuple[Statement, ...]  # every author's that has one, in the order the article lists them
    holders: tuple[str, ...]  # the name of each statement's author, in the same order
    original: Original | None

    @property
    def statement(self) -> Statement | None:
        """The first author's statement: what a single-author template expects."""
        return self.statements[0] if self.statements else None

    @property
    def statement_html(self) -> Markup:
        """Every statement, one after the other: each is a paragraph or more of its own."""
        return Markup("\n".join(statement.html for statement in self.statements))

    @property
    def statement_text(self) -> str:
        return "\n\n".join(statement.text for statement in self.statements)

    @property
    def statement_markdown(self) -> str:
        return "\n\n".join(statement.markdown for statement in self.statements)

    @property
    def links(self) -> tuple[str, ...]:
        """Every statement link, once each, in order: the manifest's `links`."""
        return tuple(dict.fromkeys(link for statement in self.statements for link in statement.links))


def build_attribution(site: Site, article: Article, statements: Statements) -> Attribution:
    article_url = absolute_url(site.url, article.path)
    with_terms = [(author.name, reprint) for author in article.authors if (reprint := author.reprint)]
    return Attribution(
        article_url=article_url,
        backlink=add_query(article_url, dict(site.syndication.utm)),
        statements=tuple(statements.parse(reprint.statement) for _name, reprint in with_terms),
        holders=tuple(name for name, _reprint in with_terms),
        original=article.original,
    )


@cache
def _snippet_cleaner(article_url: str, slug: str) -> nh3.Cleaner:
    import nh3

    return nh3.Cleaner(
        tags=_TAGS,
        clean_content_tags={"script", "style", "template", "iframe", "object", "embed", "form", "svg", "math"},
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        url_relative=("rewrite_with_base", article_url),
        id_prefix=f"{slug}-",
        strip_comments=True,
    )


def sanitize(html: str, article_url: str, slug: str) -> str:
    """Strip everything unsafe for an inbox or a feed reader; make every href and src absolute."""
    return _snippet_cleaner(article_url, slug).clean(html)


def copy_context(site: Site, article: Article, body: Body, attribution: Attribution,
                 assets: Collection[str] = (), lead_image: ImageInfo | None = None) -> dict[str, Any]:
    """The context of snippet.html, snippet.txt and snippet.md (all overridable templates).

    `image` is the lead image as an e-mail can show it (absolute URL), or "" when there is
    none, when it is SVG with no raster twin in `assets` (rasters.py), or when the body shows
    it already; SVG images in the body are swapped or left out the same way. With the lead
    image's copies (`lead_image`), it is the copy about 1200 pixels wide: turned upright, as
    mail programs that ignore a photo's EXIF orientation would not, and `image_width` is what
    it fills of a 560-pixel column, so a small image is never stretched."""
    authors = [{"name": a.name, "url": a.url or absolute_url(site.url, author_path(a.id))} for a in article.authors]
    html = email_images(body.html, assets)
    lead = raster_image(article.image, assets) if article.image else None
    image_width = 0
    if lead and f'src="{lead}"' in html:
        lead = None
    elif lead and lead_image is not None and lead.lstrip("/") == lead_image.path.lstrip("/"):
        shown_width, shown = lead_image.og_copy
        lead, image_width = "/" + shown.lstrip("/"), min(EMAIL_WIDTH, shown_width)
    image = absolute_url(site.url, lead.lstrip("/")) if lead and lead.startswith("/") else lead or ""
    return {
        "site": site,
        "article": article,
        "body": Markup(absolutize_root_paths(html, site.url)),
        "image": image,
        "image_width": image_width,  # 0: not known
        "image_alt": article.image_alt or article.title,
        "attribution": attribution,
        "statement": attribution.statement_html,
        "authors": authors,  # each author's name and link, in the order listed
        "author_url": authors[0]["url"],
        "credit": attribution.original,
    }


def syndicated_copies(theme: Theme, site: Site, article: Article, body: Body, attribution: Attribution,
                      paths: Mapping[str, str], assets: Collection[str] = (), lead_image: ImageInfo | None = None,
                      widths: Mapping[str, int] | None = None) -> tuple[dict[str, bytes], list[Problem]]:
    """The three copies of one article (by format: html, text, markdown), each checked by the
    gate, with the problems it found: the build reports them all and then writes nothing.
    `paths` names each copy in those problems; `assets` are the site's files, where a raster
    twin of an SVG image is looked for; `widths` the pixel widths of the site's images in the body."""
    copies = _render_copies(theme, site, article, body, attribution, assets, lead_image, widths or {})
    problems: list[Problem] = []
    for fmt, data in copies.items():
        missing = verify_copy(data.decode(), fmt, attribution)
        problems += gate_problems(article.source, f"syndicated copy {paths[fmt]}", theme.shown(COPY_TEMPLATES[fmt]), missing)
    return copies, problems


def syndicated_item(site: Site, article: Article, body: Body | None, attribution: Attribution,
                    feed: str) -> tuple[str, list[Problem]]:
    """A feed item, checked by the gate, with the problems it found: the full content, or for an
    article with `syndicate: false` its summary and link (no full copy leaves, so no statement is
    due, but the link back must be there). `body` is needed only for the full content."""
    if article.syndicate:
        assert body is not None
        html = _feed_item_html(site, article, body, attribution)
    else:
        html = _summary_item_html(site, article, attribution)
        attribution = replace(attribution, statements=(), holders=())
    return html, gate_problems(article.source, f"syndicated copy {feed} item", "feeds", verify_copy(html, "html", attribution))


def _render_copies(theme: Theme, site: Site, article: Article, body: Body, attribution: Attribution,
                   assets: Collection[str], lead_image: ImageInfo | None, widths: Mapping[str, int]) -> dict[str, bytes]:
    """The three copies of one article, sanitized and inlined, not yet checked."""
    context = copy_context(site, article, body, attribution, assets, lead_image)
    raw = theme.render("snippet.html", context)
    clean = sanitize(raw, attribution.article_url, article.slug)
    clean = _IMG_WITHOUT_ALT.sub('<img alt=""', email_widths(clean, site.url, widths))
    import css_inline

    html = css_inline.inline_fragment(clean, snippet_css(theme), apply_width_attributes=True)
    clean_body = sanitize(str(context["body"]), attribution.article_url, article.slug)
    plain_body, markdown_body = html_to_plain_and_markdown(clean_body)
    text = theme.render("snippet.txt", {**context, "body": plain_body, "width": WIDTH,
                                        "statement": wrap_text(attribution.statement_text)})
    markdown = theme.render("snippet.md", {**context, "body": MarkdownText(markdown_body),
                                           "statement": MarkdownText(attribution.statement_markdown)})
    return {"html": (html.strip() + "\n").encode(), "text": text.encode(), "markdown": markdown.encode()}


def email_widths(html: str, site_url: str, widths: Mapping[str, int], column: int = EMAIL_WIDTH) -> str:
    """A width on every <img> that has none, as e-mail needs (Outlook ignores CSS widths and
    shows an image at its own size): an image of the site's narrower than the column keeps its
    own width (`widths`, by site path), so it is never stretched; any other fills the column."""
    return _IMG_WITHOUT_WIDTH.sub(lambda m: f'<img width="{min(column, widths.get(_site_path(m[1], site_url), column))}"{m[1]}>', html)


def site_images(html: str, site_url: str) -> list[str]:
    """The site paths of the site's own images without a width in sanitized HTML (every src absolute)."""
    return [path for match in _IMG_WITHOUT_WIDTH.finditer(html) if (path := _site_path(match[1], site_url))]


def _site_path(attributes: str, site_url: str) -> str:
    src = _SRC_ATTRIBUTE.search(attributes)
    url = unescape(src[1]) if src else ""
    return link_path(url[len(site_url):]) if url.startswith(site_url) else ""


def wrap_text(text: str) -> str:
    """Wrap each paragraph of plain text; URLs are never broken across lines."""
    return "\n".join("\n".join(wrap_words(line)) if line.strip() else "" for line in text.split("\n"))


def snippet_css(theme: Theme) -> str:
    """The theme's snippet.css, then the light code colours: both inlined into every copy."""
    return theme.sources.get("snippet.css", "") + "\n" + email_css()


def _feed_item_html(site: Site, article: Article, body: Body, attribution: Attribution) -> str:
    """A feed item's full content: the credit, the body, the backlink and the statement.

    Built here rather than by a template so that no theme override can drop the statement
    from feeds; sanitized with absolute links and without inline styles (feed readers
    restyle everything, and validators warn on style attributes).
    """
    parts = []
    if attribution.original:
        parts.append(credit_html(attribution.original))
    parts.append(absolutize_root_paths(body.html, site.url))
    parts.append(backlink_html(site, article, attribution))
    for statement in attribution.statements:
        parts.append(f'<div class="reprint-statement">{statement.html}</div>')
    return sanitize("\n".join(parts), attribution.article_url, article.slug)


def _summary_item_html(site: Site, article: Article, attribution: Attribution) -> str:
    """The feed item of an article kept out of syndication (`syndicate: false`): its summary
    and the link to read it here, so the site's own readers see it and no full copy leaves."""
    parts = []
    if attribution.original:
        parts.append(credit_html(attribution.original))
    if article.summary:
        parts.append(f'<p class="summary">{escape(article.summary)}</p>')
    parts.append(f'<p class="backlink">Read the whole article on <a href="{escape(attribution.backlink)}">'
                 f'{escape(site.title)}</a>: <a href="{escape(attribution.backlink)}">{escape(attribution.article_url)}</a></p>')
    return sanitize("\n".join(parts), attribution.article_url, article.slug)


def credit_html(original: Original) -> str:
    note = escape(original.note or "Originally published")
    name = escape(original.site or original.url)
    return f'<p class="credit"><em>{note}</em> <a href="{escape(original.url)}">{name}</a></p>'


def backlink_html(site: Site, article: Article, attribution: Attribution) -> str:
    return (f'<p class="backlink">This article first appeared on <a href="{escape(attribution.backlink)}">'
            f'{escape(site.title)}</a>: <a href="{escape(attribution.backlink)}">{escape(attribution.article_url)}</a></p>')


# The integrity gate ---------------------------------------------------------------------


def _links_and_text(html: str) -> tuple[list[str], str]:
    """Every href of an HTML copy, in order, and its visible text with whitespace folded."""
    if not html.strip():
        return [], ""
    import lxml.html

    return links_and_text(lxml.html.fragment_fromstring(html, create_parent="div"))


def links_and_text(root: lxml.html.HtmlElement) -> tuple[list[str], str]:
    """Every href under a parsed element, in order, and its visible text as the gate reads it:
    whitespace folded, a line break counted as a space."""
    for br in root.iter("br"):
        br.tail = " " + (br.tail or "")
    return [a.get("href") or "" for a in root.iter("a")], fold(root.text_content())


def fold(text: str) -> str:
    """Text as the gate compares it: every run of whitespace one space."""
    return " ".join(text.split())


def verify_copy(copy: str, kind: str, attribution: Attribution) -> list[str]:
    """What a copy is missing of its attribution, as messages; empty when it is complete.

    Every author's statement must be there complete, in the order the article lists its
    authors, and every statement link as often as the statements hold it."""
    missing: list[str] = []
    statements = attribution.statements
    if kind == "html":
        hrefs, text = _links_and_text(copy)
        if attribution.backlink not in hrefs:
            missing.append(f"the link back to {attribution.article_url}")
        missing += _statements_in_order(text, [s.visible_text for s in statements], attribution.holders)
        needed: dict[str, int] = {}
        for segment in (segment for statement in statements for segment in statement.segments if segment.href):
            needed[segment.href] = needed.get(segment.href, 0) + 1
        missing += [f"the statement's link to {link}" for link, count in needed.items() if hrefs.count(link) < count]
        if attribution.original and attribution.original.url not in hrefs:
            missing.append(f"the credit link to the original post {attribution.original.url}")
    else:
        folded = fold(copy)
        target = (lambda url: url) if kind == "text" else markdown_destination  # as the copy spells a URL
        if target(attribution.backlink) not in folded:
            missing.append(f"the link back to {attribution.article_url}")
        expected = [s.text if kind == "text" else s.markdown for s in statements]
        missing += _statements_in_order(folded, expected, attribution.holders)
        for link in attribution.links:
            if (link.removeprefix("mailto:") if kind == "text" else target(link)) not in folded:
                missing.append(f"the statement's link to {link}")
        if attribution.original and target(attribution.original.url) not in folded:
            missing.append(f"the credit link to the original post {attribution.original.url}")
    return missing


def _statements_in_order(text: str, statements: Sequence[str], holders: Sequence[str]) -> list[str]:
    """Each statement (folded) found after the one before it, or a message naming whose is missing."""
    missing = []
    position = 0
    for statement, holder in zip(statements, holders, strict=True):
        found = text.find(fold(statement), position)
        if found < 0:
            whose = f" of {holder}" if len(statements) > 1 else ""
            missing.append(f"the complete statement{whose}" + (" (in the order of the article's authors)"
                                                                if fold(statement) in text else ""))
        else:
            position = found + len(fold(statement))
    return missing


def gate_problems(source: str, copy_name: str, template: str, missing: Sequence[str]) -> list[Problem]:
    """The gate's findings, about the article or issue at `source` (the template that dropped
    the words is named too); `copy_name` says which copy, like "syndicated copy x.html"."""
    made_by = f" (rendered by {template})" if template.endswith((".html", ".txt", ".md")) else ""
    return [Problem(source, 1, f"{copy_name} lacks {what}{made_by}") for what in missing]


def file_sizes(*files: Mapping[str, tuple[str, int] | tuple[str, str, int]], over: int = -1) -> dict[str, int]:
    """Output path -> size, from the build's manifests and job results (facts end with the size);
    with `over`, only the files larger than that."""
    return {path: facts[-1] for found_files in files for path, facts in found_files.items() if facts[-1] > over}


def oversized_copies(articles: Sequence[Article], *files: Mapping[str, tuple[str, int] | tuple[str, str, int]]) -> list[Problem]:
    """Warnings for HTML copies over SNIPPET_MAX_BYTES, by article; `files` are the build's
    (manifests and job results: output path -> facts that end with the file's size)."""
    sizes = file_sizes(*files, over=SNIPPET_MAX_BYTES)
    if not any(path.startswith(COPY_FOLDER) and path.endswith(".html") for path in sizes):
        return []  # the usual case, found without a look at each of ten thousand articles
    found = []
    for article in articles:
        path = copy_paths(article.slug)["html"]
        size = sizes.get(path, 0) if article.is_syndicable else 0
        if size > SNIPPET_MAX_BYTES:
            found.append(warning(article.source, 1, (
                f"its HTML copy {path} is {size:,} bytes, over {SNIPPET_MAX_BYTES:,}: Gmail clips longer "
                "messages and hides the statement at the end; shorten the article or set 'syndicate: false'")))
    return found


def manifest_entry(site: Site, article: Article, attribution: Attribution) -> dict[str, Any]:
    paths = copy_paths(article.slug)
    entry: dict[str, Any] = {
        "slug": article.slug,
        "title": article.title,
        "author": article.author_names,
        "author_id": article.author.id,
        "authors": [author.id for author in article.authors],
        "date": article.date.isoformat(),
        "url": attribution.article_url,
        "html": paths["html"],
        "text": paths["text"],
        "markdown": paths["markdown"],
        "summary": article.summary,
        "tags": [t.name for t in article.tags],
        "statement": attribution.statement_text,
        "links": list(attribution.links),
    }
    if article.original:
        entry["original"] = {"url": article.original.url, "site": article.original.site, "note": article.original.note}
    return entry


def render_manifest(site: Site, entries: Sequence[dict[str, Any]]) -> bytes:
    # `catalogue`: the same list as a page for people, relative to the output folder like `html`.
    data = {"site": {"title": site.title, "url": site.url}, "catalogue": page_file(CATALOGUE), "articles": list(entries)}
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
