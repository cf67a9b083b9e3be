"""`syndicate import wordpress EXPORT.xml`: posts and pages from a WordPress export (WXR).

The export is read with lxml with entities left unresolved and the network off, so a
crafted file cannot read local files or call out. Published posts and pages come in
(drafts, pending and scheduled ones as `draft: true`; private ones are skipped and
reported), with their authors (`wp:author`), categories and tags, excerpt, and old
permalink kept as an alias. Bodies get what WordPress does when it shows a post: block
editor comments stripped, automatic paragraphs (`wpautop.py`) for classic posts,
`[caption]` as an image with its caption, `[embed]` and video links as links; other
shortcodes are kept and reported. Images under wp-content/uploads are copied from
`--uploads` (a local copy of that folder) to the same path, so their old addresses
keep working too; those not found are reported. Comments are counted, not imported.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.etree

from ..errors import Problem, SiteError
from ..urls import slugify
from .articles import ArticleDraft
from .dialect import Notes, line_of
from .htmltomd import html_to_markdown, video_page
from .meta import read_when
from .sitegen import AuthorInfo, SourceDoc, SourceSite, StaticFile, site_path
from .wpautop import wpautop

MAX_EXPORT_BYTES = 500_000_000
CANDIDATE_PATTERNS = ("{year}/{month}/{day}/{slug}/", "{year}/{month}/{slug}/", "{year}/{slug}/", "{slug}/",
                      "blog/{slug}/", "archives/{slug}/", "{year}/{month}/{day}/{slug}.html", "{slug}.html")
_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:[\s\S]*?-->\n?")
_SHORTCODE = re.compile(r"\[(\w[\w-]*)((?:\s+[\w-]+=(?:\"[^\"]*\"|'[^']*'|[^\s\]]+)|\s+[^\]\s=]+)*)\s*/?\]")
_ATTRIBUTE = re.compile(r"([\w-]+)=(?:\"([^\"]*)\"|'([^']*)'|([^\s\]]+))")
_ENCLOSING = ("caption", "wp_caption", "embed", "code", "sourcecode")
_KNOWN_NAMES = frozenset("""caption wp_caption gallery embed audio video playlist youtube vimeo soundcloud code sourcecode
    contact-form contact-form-7 gravityform tweet instagram googlemaps latex wpforms ninja_form""".split())
_BARE_VIDEO = re.compile(r"^\s*(https?://(?:www\.)?(?:youtube\.com/watch\?v=|youtu\.be/|vimeo\.com/)\S+)\s*$", re.MULTILINE)


@dataclass
class _Export:
    base_url: str
    host: str
    uploads: Path | None
    files: dict[str, StaticFile] = field(default_factory=dict)  # target -> file
    attachment_pages: dict[str, str] = field(default_factory=dict)  # an attachment's page path -> its file's URL
    missing: set[str] = field(default_factory=set)
    notes: list[Problem] = field(default_factory=list)


def read_wordpress(export: Path, uploads: Path | None) -> SourceSite:
    shown = str(export)
    root = _parse(export, shown)
    channel = root.find("channel")
    if channel is None or root.tag != "rss":
        raise SiteError.one(shown, 1, "not a WordPress export (WXR): no <rss><channel>; export it from Tools > Export")
    if uploads is not None and not uploads.is_dir():
        raise SiteError.one(str(uploads), 1, "--uploads must be a folder: a copy of the old site's wp-content/uploads")
    base = (_text(channel, "{*}base_blog_url") or _text(channel, "link")).rstrip("/")
    state = _Export(base, (urlsplit(base).hostname or "").removeprefix("www."), uploads)
    authors = {}
    for element in channel.findall("{*}author"):
        login = _text(element, "{*}author_login")
        first, last = _text(element, "{*}author_first_name"), _text(element, "{*}author_last_name")
        name = _text(element, "{*}author_display_name") or f"{first} {last}".strip() or login
        if login:
            authors[login] = AuthorInfo(html.unescape(name))
    items = channel.findall("item")
    attachments = {_text(item, "{*}post_id"): _text(item, "{*}attachment_url") for item in items
                   if _text(item, "{*}post_type") == "attachment"}
    for url in attachments.values():
        _local(url, state, shown, 1, report=False)
    for item in items:  # links to an attachment's page lead to its file
        if _text(item, "{*}post_type") == "attachment" and _text(item, "{*}attachment_url"):
            page = urlsplit(_text(item, "link")).path
            if page:
                state.attachment_pages[unquote(page).rstrip("/")] = _text(item, "{*}attachment_url")
    docs: list[SourceDoc] = []
    skipped: dict[str, int] = {}
    comments = 0
    for item in items:
        kind, status = _text(item, "{*}post_type"), _text(item, "{*}status")
        if kind not in ("post", "page"):
            if kind != "attachment":
                skipped[kind or "unknown"] = skipped.get(kind or "unknown", 0) + 1
            continue
        line = item.sourceline or 1
        title = html.unescape(_text(item, "title"))
        if status == "private":
            state.notes.append(Problem(shown, line, f"'{title}' is private; not imported"))
            continue
        if status in ("trash", "auto-draft", "inherit"):
            continue
        comments += sum(1 for c in item.findall("{*}comment") if _text(c, "{*}comment_approved") == "1")
        docs.append(_document(item, kind, status, title, attachments, state, shown))
    extra = [f"comments:  {comments} not imported (syndicate sites have none)"] if comments else []
    extra += [f"skipped:   {n} item(s) of type {kind}" for kind, n in sorted(skipped.items())]
    language = _text(channel, "language")[:2]
    return SourceSite(
        kind="WordPress", origin=shown, settings={
            "title": html.unescape(_text(channel, "title")), "description": html.unescape(_text(channel, "description")),
            "url": base + "/" if base.startswith(("http://", "https://")) else "", "language": language,
        },
        pattern=_pattern(docs), docs=tuple(docs), files=tuple(state.files[k] for k in sorted(state.files)),
        authors=authors, notes=tuple(state.notes), extra=tuple(extra),
    )


def _parse(export: Path, shown: str) -> lxml.etree._Element:
    try:
        if export.stat().st_size > MAX_EXPORT_BYTES:
            raise SiteError.one(shown, 1, f"larger than {MAX_EXPORT_BYTES:,} bytes; split the export by date in WordPress")
    except FileNotFoundError:
        raise SiteError.one(shown, 1, "no such file (give the .xml file from WordPress's Tools > Export)") from None
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                                  remove_comments=True)
    try:
        return lxml.etree.parse(str(export), parser).getroot()
    except lxml.etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else 1
        raise SiteError.one(shown, line, f"the export is not well-formed XML ({exc.msg}); export it again") from None
    except OSError as exc:
        raise SiteError.one(shown, 1, f"cannot read the export: {exc}") from None


def _text(element: lxml.etree._Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _document(item: lxml.etree._Element, kind: str, status: str, title: str, attachments: Mapping[str, str],
              state: _Export, shown: str) -> SourceDoc:
    line = item.sourceline or 1
    notes = Notes(shown)
    content_element = next((e for e in item.findall("{*}encoded") if "excerpt" not in (e.tag or "")), None)
    content = content_element.text or "" if content_element is not None else ""
    content_line = content_element.sourceline or line if content_element is not None else line
    excerpt = next((e.text or "" for e in item.findall("{*}encoded") if "excerpt" in (e.tag or "")), "")
    local = _local_date(item)
    slug = unquote(_text(item, "{*}post_name")) or slugify(title)
    body = _body(content, content_line, notes, state)
    categories = [html.unescape(c.text or "") for c in item.findall("category")
                  if c.get("domain") == "category" and c.get("nicename") != "uncategorized"]
    tags = [html.unescape(c.text or "") for c in item.findall("category") if c.get("domain") == "post_tag"]
    meta: dict[str, object] = {
        "title": title, "date": local, "author": _text(item, "{http://purl.org/dc/elements/1.1/}creator"),
        "categories": categories, "tags": tags, "excerpt": html.unescape(excerpt),
        "modified": _modified(item),
    }
    thumbnail = next((_text(m, "{*}meta_value") for m in item.findall("{*}postmeta") if _text(m, "{*}meta_key") == "_thumbnail_id"), "")
    if thumbnail and attachments.get(thumbnail):
        meta["image"] = _local(attachments[thumbnail], state, shown, line, report=False)
    old = _old_path(_text(item, "link"), state, notes, line, status)
    return SourceDoc(
        source=shown, meta=meta, lines={}, body=body, slug=slug, old_path=old, is_page=kind == "page",
        is_draft=status in ("draft", "pending", "future"), notes=tuple(notes.items), line=line,
    )


def _local_date(item: lxml.etree._Element) -> dt.date | dt.datetime | None:
    """`wp:post_date` (the site's local time) with its offset from `wp:post_date_gmt`."""
    local = read_when(_text(item, "{*}post_date"))
    gmt = read_when(_text(item, "{*}post_date_gmt"))
    if not isinstance(local, dt.datetime) or local.year < 1971:
        return None
    if isinstance(gmt, dt.datetime) and gmt.year > 1970:
        offset = local - gmt
        minutes = round(offset.total_seconds() / 900) * 15
        return local.replace(tzinfo=dt.timezone(dt.timedelta(minutes=minutes)))
    return local


def _modified(item: lxml.etree._Element) -> dt.date | dt.datetime | None:
    value = read_when(_text(item, "{*}post_modified"))
    return value if isinstance(value, dt.datetime) and value.year > 1970 else None


def _old_path(link: str, state: _Export, notes: Notes, line: int, status: str) -> str:
    if not link or status != "publish":
        return ""
    parts = urlsplit(link)
    base = urlsplit(state.base_url).path.rstrip("/")
    if parts.query:
        notes.add(line, f"the old address {link} has a query (plain permalinks); a static site cannot answer it: "
                        "add a redirect on the server")
        return ""
    path = unquote(parts.path)
    if base and path.startswith(base + "/"):
        path = path[len(base):]
    return path.lstrip("/")


def _pattern(docs: list[SourceDoc]) -> str | None:
    """The permalink structure most posts' old addresses follow, if one of the usual ones."""

    posts = [d for d in docs if not d.is_page and d.old_path and d.meta.get("date")]
    best, best_count = None, 0
    for pattern in CANDIDATE_PATTERNS:
        count = 0
        for doc in posts:
            when = doc.meta["date"]
            assert isinstance(when, (dt.date, dt.datetime))
            local = when.replace(tzinfo=None) if isinstance(when, dt.datetime) else when
            draft = ArticleDraft(title="", date=local, author="", body="", source="", slug=slugify(doc.slug) or doc.slug)
            count += site_path(pattern, draft, dt.UTC) == doc.old_path
        if count > best_count:
            best, best_count = pattern, count
    return best


def _body(content: str, first_line: int, notes: Notes, state: _Export) -> str:
    """What WordPress would show: blocks' comments gone, shortcodes done, paragraphs made."""
    had_blocks = "<!-- wp:" in content
    text = _BLOCK_COMMENT.sub("", content)
    text = _shortcodes(text, content, first_line, notes)
    text = _BARE_VIDEO.sub(lambda m: f"\n\n{_video_html(m[1])}\n\n", text)  # WordPress embeds these
    if not had_blocks:
        text = wpautop(text)

    def rewrite(url: str) -> str:
        return _local(url, state, notes.source, first_line, report=True)

    return html_to_markdown(text, notes, first_line, rewrite)


def _shortcodes(text: str, original: str, first_line: int, notes: Notes) -> str:
    out: list[str] = []
    position = 0
    while (match := _SHORTCODE.search(text, position)) is not None:
        name, raw = match[1], match[2] or ""
        closing = re.compile(r"\[/" + re.escape(name) + r"\]")
        end = closing.search(text, match.end())
        is_shortcode = name in _KNOWN_NAMES or end is not None or "=" in raw
        if not is_shortcode or (match.start() > 0 and text[match.start() - 1] == "["):
            out.append(text[position:match.end()])
            position = match.end()
            continue
        out.append(text[position:match.start()])
        inner = ""
        position = match.end()
        if end is not None and (name in _ENCLOSING or name not in _KNOWN_NAMES):
            inner = text[match.end():end.start()]
            position = end.end()
        attributes = {m[1].lower(): m[2] or m[3] or m[4] or "" for m in _ATTRIBUTE.finditer(raw)}
        converted = _shortcode(name, attributes, inner, raw)
        if converted is None:
            written = text[match.start():position]
            offset = original.find(written[:40])
            line = line_of(original, offset, first_line) if offset >= 0 else first_line
            notes.add(line, f"shortcode '{' '.join(match[0].split())[:80]}' kept as written: syndicate runs no shortcodes; replace it by hand")
            out.append(written)
        else:
            out.append(converted)
    out.append(text[position:])
    return "".join(out)


def _shortcode(name: str, attributes: Mapping[str, str], inner: str, raw: str) -> str | None:
    if name in ("caption", "wp_caption"):
        image = re.search(r"(<a\b[^>]*>\s*)?<img\b[^>]*>(\s*</a>)?", inner)
        if image is None:
            return None
        caption = (inner[:image.start()] + inner[image.end():]).strip() or attributes.get("caption", "")
        return f"\n\n<figure>{image[0]}<figcaption>{caption}</figcaption></figure>\n\n"
    if name == "embed":
        url = inner.strip()
        if not url:
            return ""
        return f"<p>{_video_html(url)}</p>"
    if name in ("youtube", "vimeo"):
        url = attributes.get("id") or attributes.get("url") or raw.strip()
        if name == "youtube" and not url.startswith("http"):
            url = f"https://www.youtube.com/watch?v={url}"
        if name == "vimeo" and not url.startswith("http"):
            url = f"https://vimeo.com/{url}"
        return f"<p>{_video_html(url)}</p>" if video_page(url) else None
    if name in ("audio", "video"):
        url = next((v for v in attributes.values() if v.startswith(("http://", "https://"))), "")
        return f'<p><a href="{html.escape(url)}">{html.escape(url)}</a></p>' if url else None
    if name in ("code", "sourcecode"):
        language = attributes.get("language") or attributes.get("lang") or ""
        return f'\n\n<pre><code class="language-{html.escape(language)}">{html.escape(html.unescape(inner.strip(chr(10))))}</code></pre>\n\n'
    return None


def _video_html(url: str) -> str:
    """A link to a video's page (or any embedded address), where WordPress showed a player."""
    page = video_page(url) or url
    return f'<a href="{html.escape(page)}">{html.escape(page)}</a>'


def _local(url: str, state: _Export, shown: str, line: int, *, report: bool) -> str:
    """An address on the old site as a site path; an upload copied from --uploads when there."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    if host.endswith(".files.wordpress.com") and parts.path.strip("/"):  # WordPress.com keeps uploads there
        parts = urlsplit(f"https://{state.host}/wp-content/uploads/{parts.path.lstrip('/')}")
        host = state.host
    if parts.scheme not in ("http", "https", "") or (parts.scheme and host != state.host):
        return url
    path = unquote(parts.path)
    if path.rstrip("/") in state.attachment_pages and "/wp-content/uploads/" not in path:
        return _local(state.attachment_pages[path.rstrip("/")], state, shown, line, report=report)
    base = urlsplit(state.base_url).path.rstrip("/")
    if base and path.startswith(base + "/"):
        path = path[len(base):]
    marker = "/wp-content/uploads/"
    if marker not in path:
        return url if not parts.scheme else path + (f"#{parts.fragment}" if parts.fragment else "")
    relative = path[path.index(marker) + len(marker):]
    target = f"wp-content/uploads/{relative}"
    source = state.uploads / relative if state.uploads is not None else None
    if source is not None and source.is_file() and ".." not in relative.split("/"):
        state.files.setdefault(target, StaticFile(source, target, f"uploads/{relative}"))
        return "/" + target
    if report and target not in state.missing:
        state.missing.add(target)
        where = "not in --uploads" if state.uploads is not None else "give --uploads (a copy of wp-content/uploads) to copy it"
        state.notes.append(Problem(shown, line, f"image {url} stays on the old site ({where})"))
    return url
