"""Newsletter issues: content/newsletters/*.md -> web version, e-mail HTML, plain text, .eml.

An issue is a syndicated copy of every article in it, so it goes through the same steps as
a snippet: the issue's content (the editor's introduction and one entry per article) is
rendered from `newsletter-content.html`, sanitized with nh3 exactly like a snippet, and then
placed in its frames: the site's page (`newsletter.html`, the web version and archive), and
the e-mail document (`newsletter-email.html`, a 600 px table layout for Outlook and phones,
its styles inlined by css-inline with the `@media` rules for dark mode and small screens
kept). The plain-text part spells every link out. `message.eml` joins the two parts as
multipart/alternative with the headers a sending service expects; it is byte-for-byte the
same on every build (its date, Message-ID and boundary come from the issue, never the clock).

`verify_issue` is the integrity gate: every article's link back, every author's complete
statement with each of its links once per article, and the footer's name, postal address
and unsubscribe link, in both parts. Sending a built message is mail.py's job.
"""

from __future__ import annotations

import difflib
import email.policy
import email.utils
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import css_inline
import lxml.html
import nh3
from feedgen.feed import FeedGenerator
from markupsafe import Markup

from . import __version__
from .cache import content_hash, digest
from .content import ISSUES_FOLDER, SourceFile, normalize_text, split_front_matter
from .errors import Problem, Problems
from .fields import Fields, parse_yaml, strip_controls
from .highlight import email_css
from .markup import html_to_text, render_markdown
from .model import Article, Body, Newsletter, Original, Site
from .pages import PageContext
from .plaintext import WIDTH, html_to_plain_and_markdown
from .syndication import _ATTRIBUTES, _TAGS, Attribution, copy_context, sanitize, wrap_text
from .theme import Theme
from .urls import (
    NEWSLETTER_ARCHIVE,
    NEWSLETTER_FEED,
    absolute_url,
    absolutize_root_paths,
    is_safe_slug,
    issue_files,
    issue_path,
    relative_url,
)

ISSUE_KEYS = ("title", "date", "articles", "latest", "mode", "preheader", "draft")
MODES = ("full", "summary")
EMAIL_MAX_BYTES = 100_000  # Gmail clips a message's HTML past about 102 KB, statements and footer with it
EMAIL_WIDTH = 600
CONTENT_WIDTH = 552  # the container less its 24 px padding on each side: what an image may fill
TEMPLATES = ("newsletter-content.html", "newsletter-email.html", "newsletter-email.css", "newsletter-email.txt",
             "newsletter.html", "newsletter-archive.html")
# After the preheader, invisible characters fill the inbox's preview line, so no client pulls
# the "view in browser" line or the first heading in after the text the editor chose.
_SPACER = Markup("&#847;&zwnj;&nbsp;" * 90)
_IMG_WITHOUT_WIDTH = re.compile(r"<img(?![^>]*\swidth=)")
_HEADING = re.compile(r"<(/?)h([1-5])\b")


@dataclass(frozen=True)
class Issue:
    """One issue, its articles chosen and checked; complete when it is built."""

    source: str  # as messages name it: content/newsletters/2026-03-weekly.md
    name: str  # the file name without .md: output/newsletter/<name>/
    title: str  # the subject line
    date: datetime
    mode: str  # "full" or "summary"
    preheader: str
    intro_html: str  # the body's Markdown rendered, links as site-root paths
    slugs: tuple[str, ...]  # its articles, in order: each published and syndicable when it was read
    is_draft: bool = False
    source_hash: str = ""

    @property
    def path(self) -> str:
        return issue_path(self.name)


# Reading ---------------------------------------------------------------------------------


def is_issue(source: SourceFile) -> bool:
    return source.rel.startswith(ISSUES_FOLDER)


def load_issues(site: Site, sources: Sequence[SourceFile], articles: Sequence[Article], *,
                include_drafts: bool) -> tuple[Issue, ...]:
    """Every issue under content/newsletters/, newest first; raises SiteError with every problem.

    `articles` are the build's published articles: an issue can only carry those.
    """
    problems = Problems()
    issues: list[Issue] = []
    names: dict[str, str] = {}
    for source in (s for s in sources if is_issue(s)):
        issue = _read_issue(site, source, articles, problems)
        if issue is None:
            continue
        if issue.name in names:
            problems.add(issue.source, 1, f"issue name '{issue.name}' is also used by {names[issue.name]}; rename one file")
            continue
        names[issue.name] = issue.source
        if include_drafts or not issue.is_draft:
            issues.append(issue)
    if names and site.newsletter is None:
        problems.add(site.source, 1, (
            f"content/{ISSUES_FOLDER} has issues, so site.yaml needs a 'newsletter' section "
            "(name, from, address, unsubscribe)"))
    problems.raise_if_any()
    return tuple(sorted(sorted(issues, key=lambda i: i.name), key=lambda i: i.date, reverse=True))


def _read_issue(site: Site, source: SourceFile, articles: Sequence[Article], problems: Problems) -> Issue | None:
    try:
        with open(source.path, "rb") as handle:
            data = handle.read()
        text = data.decode("utf-8-sig")
    except OSError as exc:
        problems.add(source.shown, 1, f"cannot read file: {exc.strerror}")
        return None
    except UnicodeDecodeError as exc:
        problems.add(source.shown, 1, f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8")
        return None
    split = split_front_matter(normalize_text(text), source.shown)
    if isinstance(split, Problem):
        problems.extend([split])
        return None
    front, body_text, _line = split
    doc = parse_yaml(front, source.shown, line_offset=1)
    if doc.problems and not doc.data:  # a YAML syntax error: nothing more to say about the keys
        problems.extend(doc.problems)
        return None
    fields = Fields(doc)
    for key in fields.unknown(ISSUE_KEYS):
        close = difflib.get_close_matches(key, ISSUE_KEYS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(ISSUE_KEYS)})"
        doc.problem((key,), f"unknown front matter key '{key}' in a newsletter issue{hint}")
    name = PurePosixPath(source.rel).stem
    if not is_safe_slug(name):
        doc.problem((), f"issue file name '{name}' must be letters, digits, '-', '_' or '.' (it names output/newsletter/{name}/)")
    title = fields.text("title", required=True)
    date = fields.when("date", site.tz)
    if date is None and "date" not in fields.data:
        doc.problem(("date",), "missing required key 'date' (the day the issue goes out, like 2026-03-02)")
    mode = fields.text("mode", default="full").lower()
    if mode not in MODES:
        doc.problem(("mode",), f"'mode' must be full or summary, not '{mode}'")
    is_draft = fields.flag("draft", False)
    chosen = _choose_articles(fields, date, articles)
    if doc.problems or date is None:
        problems.extend(doc.problems)
        return None
    body = render_markdown(body_text, PurePosixPath(source.rel).parent)
    return Issue(
        source=source.shown, name=name, title=title, date=date, mode=mode,
        preheader=fields.text("preheader"), intro_html=body.html, slugs=tuple(a.slug for a in chosen),
        is_draft=is_draft, source_hash=content_hash(data),
    )


def _choose_articles(fields: Fields, date: datetime | None, articles: Sequence[Article]) -> tuple[Article, ...]:
    """`articles` (slugs, in the editor's order) or `latest: N` (the newest syndicable
    articles published on or before the issue's day); problems go on the fields' document."""
    doc = fields.doc
    listed, latest = fields.data.get("articles"), fields.data.get("latest")
    if listed is not None and latest is not None:
        doc.problem(("latest",), "give either 'articles' (a list of slugs) or 'latest' (a number), not both")
        return ()
    if latest is not None:
        count = fields.integer("latest", 0)
        if not count or date is None:
            return ()
        day = date.date()  # in the zone the issue's date was written in (the site's, by default)
        found = [a for a in articles if a.is_syndicable and not a.is_draft and a.date.astimezone(date.tzinfo).date() <= day]
        if not found:
            doc.problem(("latest",), f"no syndicable article is published on or before {day.isoformat()} for 'latest'")
        return tuple(found[:count])
    if listed is None:
        doc.problem(("articles",), "missing 'articles' (a list of article slugs) or 'latest' (a number of newest articles)")
        return ()
    slugs = fields.text_list("articles")
    if not slugs and not doc.problems:
        doc.problem(("articles",), "'articles' is empty: list at least one article slug")
    by_slug = {a.slug: a for a in articles}
    chosen: list[Article] = []
    for slug in slugs:
        article = by_slug.get(slug)
        if article is None:
            close = difflib.get_close_matches(slug, list(by_slug), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            doc.problem(("articles",), f"'{slug}' in 'articles' is not a published article (drafts and future-dated ones cannot go out){hint}")
        elif not article.is_syndicable:
            doc.problem(("articles",), (
                f"'{slug}' cannot go in a newsletter: it is not syndicable (its author has no reprint terms, or it has syndicate: false)"))
        elif article in chosen:
            doc.problem(("articles",), f"'{slug}' is listed twice in 'articles'")
        else:
            chosen.append(article)
    return tuple(chosen)


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


def issue_entries(site: Site, issue: Issue, articles: Sequence[Article], bodies: Mapping[str, Body],
                  attribution: Callable[[Article], Attribution], assets: Collection[str]) -> list[Entry]:
    """One entry per article of the issue (`articles`: the Article of each of its slugs);
    `assets` (the site's other files) is where a raster twin of an SVG image is looked for."""
    entries = []
    for article in articles:
        found = attribution(article)
        body, body_text, image = Markup(""), "", ""
        if issue.mode == "full":
            copy = copy_context(site, article, bodies[article.body_key], found, assets)
            clean = sanitize(str(copy["body"]), found.article_url, article.slug)
            body = Markup(_IMG_WITHOUT_WIDTH.sub(f'<img width="{CONTENT_WIDTH}"', _demote_headings(clean)))
            body_text = html_to_plain_and_markdown(clean)[0]
            image = copy["image"]
        entries.append(Entry(
            article=article, url=found.backlink, article_url=found.article_url,
            authors=tuple((a.name, a.url or absolute_url(site.url, f"authors/{a.id}/")) for a in article.authors),
            byline=article.author_names, body=body, body_text=body_text,
            statements=tuple(Markup(s.html) for s in found.statements),
            statements_text=tuple(wrap_text(s.text) for s in found.statements),
            summary_text=wrap_text(article.summary), image=image, image_alt=article.image_alt or article.title,
            credit=found.original,
        ))
    return entries


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


def _content(theme: Theme, site: Site, issue: Issue, articles: Sequence[Article], bodies: Mapping[str, Body],
             attribution: Callable[[Article], Attribution], assets: Collection[str]) -> tuple[dict[str, Any], Markup]:
    """The templates' shared context, and the issue's content rendered and sanitized."""
    newsletter = site.newsletter
    assert newsletter is not None  # load_issues refuses issues without the settings
    issue_url = absolute_url(site.url, issue.path)
    entries = issue_entries(site, issue, articles, bodies, attribution, assets)
    intro = sanitize(absolutize_root_paths(issue.intro_html, site.url), issue_url, "intro")
    context: dict[str, Any] = {
        "site": site, "newsletter": newsletter, "issue": issue, "entries": entries, "mode": issue.mode,
        "intro": Markup(intro), "issue_url": issue_url, "archive_url": absolute_url(site.url, NEWSLETTER_ARCHIVE),
        "unsubscribe": newsletter.unsubscribe, "preheader": preheader(issue, entries),
    }
    return context, Markup(_cleaner(issue_url).clean(theme.render("newsletter-content.html", context)))


def issue_content(theme: Theme, site: Site, issue: Issue, articles: Sequence[Article], bodies: Mapping[str, Body],
                  attribution: Callable[[Article], Attribution], assets: Collection[str]) -> str:
    """The issue's content alone (introduction and entries), sanitized: a feed item's body."""
    return str(_content(theme, site, issue, articles, bodies, attribution, assets)[1])


def render_issue(theme: Theme, ctx: PageContext, issue: Issue, articles: Sequence[Article], bodies: Mapping[str, Body],
                 attribution: Callable[[Article], Attribution], assets: Collection[str]) -> dict[str, bytes]:
    """The issue's four files by output path: web version, e-mail HTML, plain text, message."""
    site = ctx.site
    context, content = _content(theme, site, issue, articles, bodies, attribution, assets)
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
    return {
        files["web"]: web.encode(),
        files["html"]: html.encode(),
        files["text"]: text.encode(),
        files["eml"]: build_message(site, newsletter, issue, text, html),
    }


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


# The integrity gate ----------------------------------------------------------------------


def verify_issue(issue: Issue, articles: Sequence[Article], newsletter: Newsletter, files: Mapping[str, bytes],
                 attribution: Callable[[Article], Attribution], issue_url: str) -> dict[str, list[str]]:
    """What each of the issue's files is missing, by path; empty lists when it is whole."""
    paths = issue_files(issue.name)
    found: dict[str, list[str]] = {}
    for kind in ("web", "html", "text"):
        data = files[paths[kind]].decode()
        hrefs: list[str] = []
        if kind == "text":
            text = _fold(data)
        else:
            hrefs, text = _links_and_text(data)
        missing = _articles_missing(issue, articles, attribution, hrefs, text, plain=kind == "text")
        footer = [newsletter.name, newsletter.address]
        missing += [f"the newsletter's {what} '{value}'" for what, value in zip(("name", "postal address"), footer, strict=True)
                    if _fold(value) not in text]
        if kind != "web":
            for what, link in (("unsubscribe link", newsletter.unsubscribe), ("link to the web version", issue_url)):
                if (link not in hrefs) if kind == "html" else (link not in data):
                    missing.append(f"the {what} {link}")
        found[paths[kind]] = missing
    return found


def _articles_missing(issue: Issue, articles: Sequence[Article], attribution: Callable[[Article], Attribution],
                      hrefs: list[str], text: str, *, plain: bool) -> list[str]:
    missing = []
    needed: dict[str, int] = {}  # each statement (folded) -> how many entries carry it
    links: dict[str, int] = {}  # each statement link -> how many times the entries hold it
    for article in articles:
        found = attribution(article)
        if (found.backlink not in text) if plain else (found.backlink not in hrefs):
            missing.append(f"the link back to {found.article_url}")
        if issue.mode == "summary":
            missing += [f"the name of {article.slug}'s author {a.name}" for a in article.authors if _fold(a.name) not in text]
            continue
        if found.original and ((found.original.url not in text) if plain else (found.original.url not in hrefs)):
            missing.append(f"the credit link to the original post {found.original.url}")
        for statement in found.statements:
            key = _fold(statement.text if plain else statement.visible_text)
            needed[key] = needed.get(key, 0) + 1
            for segment in statement.segments:
                if segment.href:
                    links[segment.href] = links.get(segment.href, 0) + 1
    for words, count in needed.items():
        if text.count(words) < count:
            missing.append(f"the complete statement '{words[:60]}…' (needed {count}×, found {text.count(words)}×)")
    for link, count in links.items():
        if plain:
            if link.removeprefix("mailto:") not in text:
                missing.append(f"the statement's link to {link}")
        elif hrefs.count(link) < count:
            missing.append(f"the statement's link to {link} (needed {count}×, found {hrefs.count(link)}×)")
    return missing


def _links_and_text(html: str) -> tuple[list[str], str]:
    root = lxml.html.document_fromstring(html)
    for hidden in root.xpath("//head|//*[contains(concat(' ', @class, ' '), ' preheader ')]"):
        hidden.drop_tree()
    for br in root.iter("br"):
        br.tail = " " + (br.tail or "")
    return [a.get("href") or "" for a in root.iter("a")], _fold(root.text_content())


def _fold(text: str) -> str:
    return " ".join(text.split())


def gate_problems(issue: Issue, template: str, missing: Mapping[str, Sequence[str]]) -> list[Problem]:
    """The gate's findings, about the issue, naming the template that rendered the file (as
    syndication.gate_problems does for copies)."""
    return [Problem(issue.source, 1, f"newsletter {path} lacks {what} (rendered by {template})")
            for path, items in missing.items() for what in items]


def oversized(issues: Sequence[Issue], sizes: Mapping[str, int]) -> list[Problem]:
    """Warnings for e-mails over EMAIL_MAX_BYTES; `sizes` by output path (unchanged files too)."""
    found = []
    for issue in issues:
        path = issue_files(issue.name)["html"]
        size = sizes.get(path, 0)
        if size > EMAIL_MAX_BYTES:
            found.append(Problem(issue.source, 1, (
                f"warning: {path} is {size:,} bytes, over {EMAIL_MAX_BYTES:,}: Gmail clips longer messages and hides "
                "what comes last (statements, the unsubscribe link); use mode: summary or fewer articles")))
    return found


# The archive and its feed ----------------------------------------------------------------


def render_archive(theme: Theme, ctx: PageContext, issues: Sequence[Issue]) -> str:
    newsletter = ctx.site.newsletter
    assert newsletter is not None
    description = f"Every issue of {newsletter.name}, newest first."
    context = ctx.common(NEWSLETTER_ARCHIVE, f"{newsletter.name} | {ctx.site.title}", description,
                         newsletter=newsletter, issues=list(issues), feed_href=relative_url(NEWSLETTER_ARCHIVE, NEWSLETTER_FEED))
    context["feeds"] = [("application/rss+xml", f"{newsletter.name} (RSS)", context["feed_href"]), *context["feeds"]]
    return theme.render("newsletter-archive.html", context)


def render_issue_feed(site: Site, issues: Sequence[Issue], contents: Callable[[Issue], str],
                      titles: Callable[[Issue], str]) -> bytes:
    """RSS 2.0 of the issues, each item the issue's sanitized content (no inline styles)."""
    newsletter = site.newsletter
    assert newsletter is not None
    fg = FeedGenerator()
    fg.id(absolute_url(site.url, NEWSLETTER_ARCHIVE))
    fg.title(strip_controls(newsletter.name))
    fg.description(strip_controls(f"Every issue of {newsletter.name} from {site.title}."))
    fg.link(href=absolute_url(site.url, NEWSLETTER_FEED), rel="self")
    fg.link(href=absolute_url(site.url, NEWSLETTER_ARCHIVE), rel="alternate")
    fg.language(site.language)
    fg.generator("syndicate", __version__, "https://pypi.org/project/syndicate-ssg/")
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
        entry.description(strip_controls(issue.preheader or titles(issue)))
        entry.content(strip_controls(contents(issue)), type="html")
    data: bytes = fg.rss_str(pretty=True)
    return data
