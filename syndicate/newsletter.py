"""Newsletter issues rendered: web version, e-mail HTML, plain text, .eml, archive and feed.

An issue (issues.py) is a syndicated copy of every article in it, so it goes through the
same steps as a snippet: its content (the editor's introduction and one entry per article,
each body through `syndication.copy_context`, SVG images swapped as in every copy) is
rendered from `newsletter-content.html`, sanitized with nh3 like a snippet, and placed in its
frames: the site's page (`newsletter.html`), and the e-mail document (`newsletter-email.html`,
a 600 px table layout for Outlook and phones, its styles inlined by css-inline with the
`@media` rules for dark mode and small screens kept). The plain-text part spells every link
out. `message.eml` joins the two parts as multipart/alternative with the headers a sending
service expects; it is byte-for-byte the same on every build (its date, Message-ID and
boundary come from the issue, never the clock).

`checked_issue` and `checked_archive` are the only ways to an issue's files, as
`syndicated_copies` is for an article's: each returns the files with what the gate found.
The gate asks of every part what `verify_copy` asks of a copy, article by article in the
issue's order: the link back, the credit link, every author's complete statement in the
order of the article's authors and after the article before it, every statement link; then
the footer's name, postal address, unsubscribe link and web-version link; and that the
message's two parts are exactly the checked text and HTML. Sending is mail.py's job.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import css_inline
import lxml.html
import nh3
from feedgen.feed import FeedGenerator
from markupsafe import Markup

from . import DISTRIBUTION, __version__
from .cache import digest
from .errors import Problem, warning
from .fields import strip_controls
from .highlight import email_css
from .images import is_raster, shown_widths
from .issues import Issue
from .markup import html_to_text
from .model import Article, Asset, Body, Newsletter, Original, Site
from .pages import PageContext
from .plaintext import WIDTH, html_to_plain_and_markdown
from .syndication import (
    _ATTRIBUTES,
    _TAGS,
    Attribution,
    copy_context,
    email_widths,
    file_sizes,
    fold,
    gate_problems,
    links_and_text,
    sanitize,
    site_images,
    wrap_text,
)
from .theme import Theme
from .urls import NEWSLETTER_ARCHIVE, NEWSLETTER_FEED, absolute_url, absolutize_root_paths, author_path, issue_files, page_file, relative_url

EMAIL_MAX_BYTES = 100_000  # Gmail clips a message's HTML past about 102 KB, statements and footer with it
CONTENT_WIDTH = 552  # the 600 px container less its 24 px padding on each side: what an image may fill
# Which template makes each of an issue's files, for the gate's messages.
FILE_TEMPLATES = {"web": "newsletter.html", "html": "newsletter-email.html", "text": "newsletter-email.txt",
                  "eml": "newsletter-email.html"}
# After the preheader, invisible characters fill the inbox's preview line, so no client pulls
# the "view in browser" line or the first heading in after the text the editor chose.
_SPACER = Markup("&#847;&zwnj;&nbsp;" * 90)
_HEADING = re.compile(r"<(/?)h([1-5])\b")

Attributions = Callable[[Article], Attribution]


@dataclass(frozen=True, slots=True)
class Sources:
    """What every issue is rendered from: the articles by slug, their bodies, each article's
    attribution, and the site's files (where a raster twin of an SVG image is looked for)."""

    articles: Mapping[str, Article]
    bodies: Mapping[str, Body]
    attribution: Attributions
    assets: Mapping[str, Asset]  # by site path

    def of(self, issue: Issue) -> tuple[Article, ...]:
        return tuple(self.articles[slug] for slug in issue.slugs)


# Rendering -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One article in an issue, as `newsletter-content.html` and `newsletter-email.txt` see it."""

    article: Article
    url: str  # the link back to the article's site URL (with UTM tags when configured)
    article_url: str  # the article's site URL as shown
    authors: tuple[tuple[str, str], ...]  # (name, href) of each author, in the article's order
    byline: str  # every author's name: "Marta Lindqvist and Priya Raman"
    body: Markup  # full mode: the article, sanitized, with absolute links; "" in summary mode
    body_text: str  # the same as wrapped plain text with every link spelled out
    statements: tuple[Markup, ...]  # every author's statement with active links
    statements_text: tuple[str, ...]  # the same in plain text, every URL written out
    summary_text: str  # the article's summary, wrapped for the plain-text part
    image: str  # full mode: the lead image as an e-mail can show it (absolute, never SVG), or ""
    image_alt: str
    credit: Original | None


def _entries(site: Site, issue: Issue, sources: Sources) -> list[Entry]:
    entries = []
    for article in sources.of(issue):
        found = sources.attribution(article)
        body, body_text, image = Markup(""), "", ""
        if issue.mode == "full":
            copy = copy_context(site, article, sources.bodies[article.body_key], found, sources.assets)
            clean = sanitize(str(copy["body"]), found.article_url, article.slug)
            body = Markup(_sized_images(_demote_headings(clean), site, sources))
            body_text = html_to_plain_and_markdown(clean)[0]
            image = copy["image"]
        entries.append(Entry(
            article=article, url=found.backlink, article_url=found.article_url,
            authors=tuple((a.name, a.url or absolute_url(site.url, author_path(a.id))) for a in article.authors),
            byline=article.author_names, body=body, body_text=body_text,
            statements=tuple(Markup(s.html) for s in found.statements),
            statements_text=tuple(wrap_text(s.text) for s in found.statements),
            summary_text=wrap_text(article.summary), image=image, image_alt=article.image_alt or article.title,
            credit=found.original,
        ))
    return entries


def _sized_images(html: str, site: Site, sources: Sources) -> str:
    """Every image with a width, as e-mail needs: a small one of the site's its own (never
    stretched), any other the column's (syndication.email_widths)."""
    images = [sources.assets[path] for path in site_images(html, site.url) if path in sources.assets]
    widths = shown_widths(image for image in images if is_raster(image.path)) if images else {}
    return email_widths(html, site.url, widths, CONTENT_WIDTH)


def _demote_headings(html: str) -> str:
    """An article's own headings sit under the entry's h2: each goes one level down."""
    return _HEADING.sub(lambda m: f"<{m[1]}h{int(m[2]) + 1}", html)


def _cleaner(base_url: str) -> nh3.Cleaner:
    """The snippet's allowlist, plus the presentational table attributes an e-mail needs."""
    attributes = {tag: set(names) for tag, names in _ATTRIBUTES.items()}
    attributes["table"] = {"role", "width", "cellpadding", "cellspacing", "border", "align"}
    attributes["td"] = attributes.get("td", set()) | {"width", "valign"}
    return nh3.Cleaner(
        tags=set(_TAGS),
        clean_content_tags={"script", "style", "template", "iframe", "object", "embed", "form", "svg", "math"},
        attributes=attributes, url_schemes={"http", "https", "mailto"}, link_rel=None,
        url_relative=("rewrite_with_base", base_url), strip_comments=True,
    )


def _content(theme: Theme, site: Site, issue: Issue, sources: Sources) -> tuple[dict[str, Any], Markup]:
    """The templates' shared context, and the issue's content rendered and sanitized."""
    newsletter = site.newsletter
    assert newsletter is not None  # load_issues refuses issues without the settings
    issue_url = absolute_url(site.url, issue.path)
    entries = _entries(site, issue, sources)
    intro = _sized_images(sanitize(absolutize_root_paths(issue.intro_html, site.url), issue_url, "intro"), site, sources)
    context: dict[str, Any] = {
        "site": site, "newsletter": newsletter, "issue": issue, "entries": entries, "mode": issue.mode,
        "intro": Markup(intro), "issue_url": issue_url, "archive_url": absolute_url(site.url, NEWSLETTER_ARCHIVE),
        "unsubscribe": newsletter.unsubscribe, "preheader": preheader(issue, entries),
    }
    return context, Markup(_cleaner(issue_url).clean(theme.render("newsletter-content.html", context)))


def _render_issue(theme: Theme, ctx: PageContext, issue: Issue, sources: Sources) -> dict[str, bytes]:
    """The issue's four files by kind (web, html, text, eml), not yet checked."""
    site = ctx.site
    context, content = _content(theme, site, issue, sources)
    newsletter: Newsletter = context["newsletter"]
    files = issue_files(issue.name)
    page = ctx.common(issue.path, f"{issue.title} | {newsletter.name}", context["preheader"],
                      issue=issue, newsletter=newsletter, entries=context["entries"], content=content,
                      email_href=relative_url(issue.path, files["html"]), archive_href=relative_url(issue.path, NEWSLETTER_ARCHIVE),
                      feed_href=relative_url(issue.path, NEWSLETTER_FEED))
    page["feeds"] = [("application/rss+xml", f"{newsletter.name} (RSS)", page["feed_href"]), *page["feeds"]]
    web = theme.render("newsletter.html", page)
    css = Markup(theme.sources.get("newsletter-email.css", "") + "\n" + email_css())  # and the light code colours
    document = theme.render("newsletter-email.html", {**context, "content": content, "css": css, "spacer": _SPACER})
    html = _charset_first(css_inline.CSSInliner(keep_at_rules=True, apply_width_attributes=True).inline(document)).rstrip() + "\n"
    intro_text = html_to_plain_and_markdown(str(context["intro"]))[0] if context["intro"].strip() else ""
    text = theme.render("newsletter-email.txt", {**context, "intro": intro_text, "width": WIDTH})
    text = "\n".join(line.rstrip() for line in text.strip().split("\n")) + "\n"
    return {"web": web.encode(), "html": html.encode(), "text": text.encode(),
            "eml": build_message(site, newsletter, issue, text, html)}


def _charset_first(html: str) -> str:
    """css-inline puts the kept @media rules at the top of <head>; the charset must stay
    within the first 1024 bytes, so it goes back in front of them."""
    meta = '<meta charset="utf-8">'
    if meta not in html or "<head>" not in html:
        return html
    return html.replace(meta, "", 1).replace("<head>", "<head>" + meta, 1)


def preheader(issue: Issue, entries: Sequence[Entry]) -> str:
    """The editor's preheader, else the introduction's opening, else the articles' titles."""
    if issue.preheader:
        return issue.preheader
    opening = html_to_text(issue.intro_html)
    if opening:
        return opening if len(opening) <= 140 else opening[:140].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return " · ".join(entry.article.title for entry in entries)


def build_message(site: Site, newsletter: Newsletter, issue: Issue, text: str, html: str) -> bytes:
    """RFC 5322 multipart/alternative, text first; the same bytes on every build."""
    message = EmailMessage(policy=email.policy.SMTP)
    host = urlsplit(site.url).hostname or "localhost"
    message["Subject"] = issue.title
    message["From"] = newsletter.sender
    if newsletter.reply_to:
        message["Reply-To"] = newsletter.reply_to
    message["Date"] = email.utils.format_datetime(issue.date)
    message["Message-ID"] = f"<{digest(site.url, issue.name)[:24]}.{issue.name}@{host}>"
    message["List-Id"] = f"{newsletter.name} <newsletter.{host}>"
    message["List-Unsubscribe"] = f"<{newsletter.unsubscribe}>"
    if not newsletter.unsubscribe.lower().startswith("mailto:"):
        # One-click unsubscribe (RFC 8058) is for web links; a mailto: link is only the header above.
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    message.set_boundary(f"=_syndicate_{digest(text, html)[:20]}")
    return message.as_bytes()


# The entry points: files with what the gate found ------------------------------------------


def checked_issue(theme: Theme, ctx: PageContext, issue: Issue, sources: Sources) -> tuple[dict[str, bytes], list[Problem]]:
    """An issue's four files by output path, each checked by the gate, with the problems it
    found: the build reports them all and then writes nothing."""
    site = ctx.site
    newsletter = site.newsletter
    assert newsletter is not None
    made = _render_issue(theme, ctx, issue, sources)
    paths = issue_files(issue.name)
    articles = sources.of(issue)
    issue_url = absolute_url(site.url, issue.path)
    problems: list[Problem] = []
    for kind in ("web", "html", "text"):
        data = made[kind].decode()
        hrefs, text = (_links_and_text(data) if kind != "text" else ([], fold(data)))
        missing = _articles_missing(issue, articles, sources.attribution, hrefs, text, plain=kind == "text")
        missing += [f"the newsletter's {what} '{value}'" for what, value in
                    (("name", newsletter.name), ("postal address", newsletter.address)) if fold(value) not in text]
        if kind != "web":
            for what, link in (("unsubscribe link", newsletter.unsubscribe), ("link to the web version", issue_url)):
                if (link not in hrefs) if kind == "html" else (link not in data):
                    missing.append(f"the {what} {link}")
        problems += _gate_problems(issue, paths[kind], theme.shown(FILE_TEMPLATES[kind]), missing)
    if _message_parts(made["eml"]) != (made["text"].decode(), made["html"].decode()):
        problems += _gate_problems(issue, paths["eml"], "email", ["the checked text and HTML as its two parts"])
    return {paths[kind]: data for kind, data in made.items()}, problems


def checked_archive(theme: Theme, ctx: PageContext, issues: Sequence[Issue], sources: Sources) -> tuple[dict[str, bytes], list[Problem]]:
    """The archive page (every issue) and the issues' RSS feed (the newest `feed_items`, as the
    site's own feeds), each item's content checked by the gate."""
    site = ctx.site
    problems: list[Problem] = []
    contents: dict[str, str] = {}
    in_feed = issues[: site.feed_items]
    for issue in in_feed:
        content = str(_content(theme, site, issue, sources)[1])
        hrefs, text = _links_and_text(f"<html><body>{content}</body></html>")
        missing = _articles_missing(issue, sources.of(issue), sources.attribution, hrefs, text, plain=False)
        problems += _gate_problems(issue, f"{NEWSLETTER_FEED} item", theme.shown("newsletter-content.html"), missing)
        contents[issue.name] = content
    descriptions = {issue.name: issue.preheader or ", ".join(a.title for a in sources.of(issue)) for issue in in_feed}
    return {
        page_file(NEWSLETTER_ARCHIVE): _render_archive(theme, ctx, issues).encode(),
        NEWSLETTER_FEED: _render_feed(site, in_feed, descriptions, contents),
    }, problems


def _message_parts(message: bytes) -> tuple[str, str]:
    """The text and HTML parts of a built message, decoded as a mail client reads them (the
    message's CRLF line ends read as the files' LF)."""
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    parts = [part.get_content().replace("\r\n", "\n") for part in parsed.iter_parts()] if parsed.is_multipart() else []
    return (parts[0], parts[1]) if len(parts) == 2 else ("", "")


# The integrity gate ----------------------------------------------------------------------


def _articles_missing(issue: Issue, articles: Sequence[Article], attribution: Attributions,
                      hrefs: list[str], text: str, *, plain: bool) -> list[str]:
    """What one part of an issue lacks of its articles' attribution, article by article.

    Each statement must be found complete after the one before it, so an issue that carries
    one author's statement once for two of their articles, or moves one article's statement
    above another article, fails as a copy missing its statement would."""
    missing = []
    links: dict[str, int] = {}  # each statement link -> how many times the entries must hold it
    position = 0
    for article in articles:
        found = attribution(article)
        if (found.backlink not in text) if plain else (found.backlink not in hrefs):
            missing.append(f"the link back to {found.article_url}")
        if issue.mode == "summary":
            missing += [f"the name of {article.slug}'s author {a.name}" for a in article.authors if fold(a.name) not in text]
            continue
        if found.original and ((found.original.url not in text) if plain else (found.original.url not in hrefs)):
            missing.append(f"the credit link to the original post {found.original.url}")
        for statement, holder in zip(found.statements, found.holders, strict=True):
            words = fold(statement.text if plain else statement.visible_text)
            at = text.find(words, position)
            if at < 0:
                where = " (it is there, but not after the article before it)" if words in text else ""
                missing.append(f"the complete statement of {holder} for '{article.slug}'{where}")
            else:
                position = at + len(words)
            for segment in statement.segments:
                if segment.href:
                    links[segment.href] = links.get(segment.href, 0) + 1
    for link, count in links.items():
        if plain:
            if link.removeprefix("mailto:") not in text:
                missing.append(f"the statement's link to {link}")
        elif hrefs.count(link) < count:
            missing.append(f"the statement's link to {link} (needed {count}×, found {hrefs.count(link)}×)")
    return missing


def _links_and_text(html: str) -> tuple[list[str], str]:
    """Every href of a document and its visible text, the head and the hidden preheader left out."""
    root = lxml.html.document_fromstring(html)
    for hidden in root.xpath("//head|//*[contains(concat(' ', @class, ' '), ' preheader ')]"):
        hidden.drop_tree()
    return links_and_text(root)


def _gate_problems(issue: Issue, path: str, template: str, missing: Sequence[str]) -> list[Problem]:
    return gate_problems(issue.source, f"newsletter {path}", template, missing)


def oversized(issues: Sequence[Issue], *files: Mapping[str, tuple[str, int] | tuple[str, str, int]]) -> list[Problem]:
    """Warnings for e-mails over EMAIL_MAX_BYTES; `files` are the build's (manifests and job
    results: output path -> facts that end with the file's size), unchanged files too."""
    sizes = file_sizes(*files, over=EMAIL_MAX_BYTES)
    found = []
    for issue in issues:
        path = issue_files(issue.name)["html"]
        size = sizes.get(path, 0)
        if size > EMAIL_MAX_BYTES:
            found.append(warning(issue.source, 1, (
                f"{path} is {size:,} bytes, over {EMAIL_MAX_BYTES:,}: Gmail clips longer messages and hides "
                "what comes last (statements, the unsubscribe link); use mode: summary or fewer articles")))
    return found


# The archive ------------------------------------------------------------------------------


def _render_archive(theme: Theme, ctx: PageContext, issues: Sequence[Issue]) -> str:
    newsletter = ctx.site.newsletter
    assert newsletter is not None
    description = f"Every issue of {newsletter.name}, newest first."
    context = ctx.common(NEWSLETTER_ARCHIVE, f"{newsletter.name} | {ctx.site.title}", description,
                         newsletter=newsletter, issues=list(issues), feed_href=relative_url(NEWSLETTER_ARCHIVE, NEWSLETTER_FEED))
    context["feeds"] = [("application/rss+xml", f"{newsletter.name} (RSS)", context["feed_href"]), *context["feeds"]]
    return theme.render("newsletter-archive.html", context)


def _render_feed(site: Site, issues: Sequence[Issue], descriptions: Mapping[str, str], contents: Mapping[str, str]) -> bytes:
    """RSS 2.0 of the issues, each item the issue's checked content (no inline styles)."""
    newsletter = site.newsletter
    assert newsletter is not None
    fg = FeedGenerator()
    fg.id(absolute_url(site.url, NEWSLETTER_ARCHIVE))
    fg.title(strip_controls(newsletter.name))
    fg.description(strip_controls(f"Every issue of {newsletter.name} from {site.title}."))
    fg.link(href=absolute_url(site.url, NEWSLETTER_FEED), rel="self")
    fg.link(href=absolute_url(site.url, NEWSLETTER_ARCHIVE), rel="alternate")
    fg.language(site.language)
    fg.generator("syndicate", __version__, f"https://pypi.org/project/{DISTRIBUTION}/")
    if issues:
        fg.lastBuildDate(issues[0].date)
    for issue in issues:
        url = absolute_url(site.url, issue.path)
        entry = fg.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(strip_controls(issue.title))
        entry.link(href=url)
        entry.published(issue.date)
        entry.description(strip_controls(descriptions[issue.name]))
        entry.content(strip_controls(contents[issue.name]), type="html")
    data: bytes = fg.rss_str(pretty=True)
    return data
