"""Slugs, site URLs and output paths: the only place a path or a URL is invented.

Inside the pipeline a location is a *site path*: relative to the site root, posix, with
a trailing "/" for a page ("articles/pit-stop/") and none for a file ("feed.xml"). Pages
link to each other with relative hrefs, so the site works under any deploy path and from
the preview server alike; feeds and syndicated copies use absolute URLs built from
site.yaml's `url`.

Every output of a build has its path made here, by the functions and constants below;
other modules ask for a path by what it is (`tag_path(slug)`), never spell one, and
nothing ever takes a path apart to find the slug in it.
"""

from __future__ import annotations

import posixpath
import re
from datetime import datetime
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit

_URL_SAFE = "/#?=&%~:@!$'()*+,;"
# What quote(..., safe=_URL_SAFE) returns as it is: its always-safe characters and _URL_SAFE.
_URL_AS_IS = re.compile(r"[A-Za-z0-9_.\-~/#?=&%:@!$'()*+,;]*")
_PATH_SAFE = "/=&~:@!$'()*+,;"  # a decoded path: '%', '?' and '#' in it are escaped
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_SAFE_SLUG = re.compile(r"^[\w][\w.-]*$", re.UNICODE)
# Markdown writes href="..." and src="..."; raw HTML in an article may use single quotes.
# The match opens at the `=` (the attribute's name is looked behind): a literal the engine
# skips to, where an opening `\s` was tried at every space of a body, ten times slower.
_ROOT_PATH_ATTR = re.compile(r"""=(?:(?<=\shref=)|(?<=\ssrc=))(["'])/(?!/)""")


FEED_FILES = ("feed.xml", "atom.xml", "feed.json")  # the site's RSS 2.0, Atom 1.0 and JSON Feed 1.1
COPY_EXTENSIONS = {"html": "html", "text": "txt", "markdown": "md"}  # format -> extension of its copy
COPY_FOLDER = "syndicate/"  # the syndicated copies and their manifest
COPY_MANIFEST = f"{COPY_FOLDER}index.json"
ARCHIVE = "archive/"
SITEMAP = "sitemap.xml"
ROBOTS = "robots.txt"
NOT_FOUND = "404.html"
STYLESHEET = "static/style.css"  # the theme's style.css, written once and linked from every page
CODE_STYLESHEETS = {"light": "static/code-light.css", "dark": "static/code-dark.css"}  # highlight.py's colours
SEARCH_SCRIPT = "static/search.js"  # the search page's own script
SEARCH_INDEX = "pagefind"  # the folder of Pagefind's index
SEARCH_PAGE = "search/"
TAGS_INDEX = "tags/"  # every tag with its count
AUTHORS_INDEX = "authors/"  # every author with bio and count
REDIRECTS = "_redirects"  # old addresses (aliases), after the lines of the site's own content/_redirects


def page_path(slug: str) -> str:
    """A stand-alone page (content/pages/)."""
    return f"pages/{slug}/"


def index_path(number: int) -> str:
    """Page `number` of the paginated index, counted from 1."""
    return "" if number == 1 else f"page/{number}/"


def tag_path(slug: str) -> str:
    return f"tags/{slug}/"


def tag_feed_path(slug: str) -> str:
    return f"{tag_path(slug)}feed.xml"


def author_path(author_id: str) -> str:
    return f"authors/{author_id}/"


def variant_path(path: str, width: int) -> str:
    """A lead image's copy `width` pixels wide, beside the original: "/img/a.jpg" -> "/img/a-800w.jpg"."""
    stem = PurePosixPath(path)
    return str(stem.with_name(f"{stem.stem}-{width}w{stem.suffix}"))


def copy_paths(slug: str) -> dict[str, str]:
    """Where the syndicated copies of one article live, by format (html, text, markdown)."""
    return {fmt: f"{COPY_FOLDER}{slug}.{ext}" for fmt, ext in COPY_EXTENSIONS.items()}


def slugify(text: str) -> str:
    """Tag rule from the spec: lower-case, runs of anything but letters and digits become '-'."""
    return _NON_WORD.sub("-", text.lower()).strip("-")


def is_safe_slug(slug: str) -> bool:
    """A slug names one folder: no separators, no dot-dot, nothing that could leave the output."""
    return bool(_SAFE_SLUG.match(slug)) and ".." not in slug


DEFAULT_ARTICLE_PERMALINK = "articles/{slug}/"
PERMALINK_PLACEHOLDERS = ("slug", "year", "month", "day")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_JEKYLL_PLACEHOLDER = re.compile(r":(slug|title|year|month|day|i_month|i_day|categories)\b")
_PATH_CHARACTERS = re.compile(r"^[\w.~!$&'()*+,;=:@%/-]*$", re.UNICODE)


def permalink_problem(pattern: str) -> str | None:
    """What is wrong with a permalink pattern, in words, or None when it is usable."""
    shown = f"permalink pattern '{pattern}'"
    unknown = [name for name in _PLACEHOLDER.findall(pattern) if name not in PERMALINK_PLACEHOLDERS]
    if unknown:
        return f"{shown} has an unknown placeholder '{{{unknown[0]}}}' (known: {{slug}}, {{year}}, {{month}}, {{day}})"
    jekyll = _JEKYLL_PLACEHOLDER.search(pattern)
    if jekyll:
        name = "slug" if jekyll[1] in ("title", "slug") else jekyll[1].removeprefix("i_")
        return f"{shown}: write placeholders in braces, like {{{name}}} instead of '{jekyll[0]}'"
    if "{slug}" not in pattern:
        return f"{shown} must contain {{slug}}, so that every article has a path of its own"
    bare = _PLACEHOLDER.sub("x", pattern)
    if not pattern.endswith(("/", ".html")):
        return f"{shown} must end in '/' (a folder with an index.html) or '.html'"
    if "{" in bare or "}" in bare or not _PATH_CHARACTERS.match(bare):
        return f"{shown} may hold only letters, digits, '-', '_', '.', '/' and placeholders"
    if bare.startswith("/") or any(part in ("", ".", "..") for part in bare.rstrip("/").split("/")):
        return f"{shown} must be a relative path with no empty, '.' or '..' parts, like articles/{{slug}}/"
    return None


def article_path(pattern: str, slug: str, date: datetime) -> str:
    """The site path of an article under a checked permalink pattern; `date` in the site's zone."""
    return (pattern.replace("{year}", f"{date.year:04d}").replace("{month}", f"{date.month:02d}")
            .replace("{day}", f"{date.day:02d}").replace("{slug}", slug))


def article_file_matcher(pattern: str, slug: str) -> re.Pattern[str]:
    """Matches the output file of the article `slug` under `pattern`, whatever its date."""
    parts = re.split(r"(\{(?:slug|year|month|day)\})", page_file(pattern))
    fill = {"{slug}": re.escape(slug), "{year}": r"\d{4}", "{month}": r"\d{2}", "{day}": r"\d{2}"}
    return re.compile("".join(fill.get(part, re.escape(part)) for part in parts) + r"\Z")


def parse_alias(alias: str) -> tuple[str, str]:
    """(site path, "") for an old address of a page (`/2019/03/04/pit-stop.html`,
    `/blog/pit-stop/`), or ("", what is wrong with it). Percent-escapes are decoded: the
    redirect page is a file, and servers decode a request's path before they look for one."""
    text = alias.strip()
    shown = f"alias '{text}'"
    if urlsplit(text).scheme or text.startswith("//"):
        return "", f"{shown} must be a path on this site, like /blog/old-post/, not a full URL"
    if "?" in text or "#" in text:
        return "", f"{shown} cannot hold a query ('?') or a fragment ('#'): a redirect page is a file"
    path = unquote(text).lstrip("/")
    if not path:
        return "", f"{shown} would replace the home page"
    parts = path.rstrip("/").split("/")
    if "\\" in path or any(part in ("", ".", "..") for part in parts) or any(c.isspace() and c != " " for c in path):
        return "", f"{shown} must be a plain path with no empty, '.' or '..' parts"
    return path, ""


def alias_file(site_path: str) -> str:
    """The file that answers at an old address: `pit-stop.html` is that file, and any other
    path (`/blog/pit-stop/`, `/blog/pit-stop`, `/functions/path.base`, `/index.php`) is a
    folder with an index.html, which static hosts serve as HTML with or without the '/'."""
    if site_path.endswith((".html", ".htm")):
        return site_path
    return site_path.rstrip("/") + "/index.html"


def base_path(base_url: str) -> str:
    """The path part of the site's url, without its last '/': "" or "/digest"."""
    return urlsplit(base_url).path.rstrip("/")


def redirect_line(base_url: str, alias: str, target: str) -> str:
    """One line of `_redirects` (Netlify, Cloudflare Pages and others read it): old, new, 301."""
    base = base_path(base_url)
    return f"{base}/{quote(alias, safe=_PATH_SAFE)} {base}/{quote(target, safe=_URL_SAFE)} 301"


def link_path(link: str) -> str:
    """The site path a site-root link names: no fragment, no query, percent-decoded, no
    leading '/' (`/pics/a%20b.png#x` is the file `pics/a b.png`)."""
    return unquote(link.partition("#")[0].split("?", 1)[0]).lstrip("/")


def page_file(site_path: str) -> str:
    """The file that serves a site path: a folder path is served by its index.html."""
    return f"{site_path}index.html" if site_path == "" or site_path.endswith("/") else site_path


def absolute_url(base_url: str, site_path: str) -> str:
    """An absolute URL for a site path; `base_url` ends with '/' and may carry a path."""
    return base_url + _quote_url(site_path)


def _depth(site_path: str) -> int:
    """How many folders down a page is: "" and "a.html" are at the top, "a/" and "a/b.html" one down."""
    return site_path.count("/")


def relative_url(from_path: str, to_path: str) -> str:
    """The href that leads from the page at `from_path` to `to_path`, both site paths."""
    depth = _depth(from_path)
    href = "../" * depth + to_path
    return _quote_url(href) if href else "./"


def _quote_url(url: str) -> str:
    """quote(url, safe=_URL_SAFE), without its encoding and decoding for the common URL that
    has nothing to escape (pages ask for a few dozen links each)."""
    return url if _URL_AS_IS.fullmatch(url) else quote(url, safe=_URL_SAFE)


def relativize_root_paths(html: str, page_path: str) -> str:
    """Turn the site-root paths Markdown left in a body into hrefs relative to its page."""
    prefix = "../" * _depth(page_path)
    return _ROOT_PATH_ATTR.sub(lambda m: f"={m[1]}{prefix or './'}", html)


def absolutize_root_paths(html: str, base_url: str) -> str:
    """Turn site-root paths into absolute URLs, for feeds and copies read far from the site."""
    return _ROOT_PATH_ATTR.sub(lambda m: f"={m[1]}{base_url}", html)


def resolve_content_link(href: str, source_dir: PurePosixPath) -> str | None:
    """The site-root path a relative link in content/<source_dir>/x.md points at, or None.

    Links with a scheme, protocol-relative links and in-page anchors are left alone; a
    relative link resolves against the article's folder under content/, where its files
    are copied to, so `![](images/a.png)` beside the article keeps working.
    """
    if not href or href.startswith(("#", "//", "mailto:", "tel:")) or urlsplit(href).scheme:
        return None
    parts = urlsplit(href)
    if parts.path.startswith("/"):
        path = parts.path
    else:
        joined = posixpath.normpath(posixpath.join("/", source_dir.as_posix(), parts.path))
        path = joined + ("/" if parts.path.endswith("/") and joined != "/" else "")
    return urlunsplit(("", "", path, parts.query, parts.fragment))


def add_query(url: str, params: dict[str, str]) -> str:
    """Append query parameters (UTM tags on backlinks), keeping any the URL already has."""
    if not params:
        return url
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(sorted(params.items()))) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def contained_path(root: Path, relative: str) -> Path | None:
    """`root/relative`, or None when it would resolve outside `root` (dot-dot, symlinks)."""
    resolved_root = root.resolve()
    target = (resolved_root / relative).resolve()
    return target if target.is_relative_to(resolved_root) else None


# Newsletters and the editors' catalogue ---------------------------------------------------

NEWSLETTER_ARCHIVE = "newsletter/"  # every issue, newest first
NEWSLETTER_FEED = "newsletter/feed.xml"  # RSS 2.0 of the issues
CATALOGUE = "syndicate/"  # every syndicable article with its terms and copies, for editors


def issue_path(name: str) -> str:
    """The site path of an issue's web version."""
    return f"newsletter/{name}/"


def issue_files(name: str) -> dict[str, str]:
    """An issue's files by kind: its web version, e-mail HTML, plain-text part and message."""
    folder = issue_path(name)
    return {"web": f"{folder}index.html", "html": f"{folder}email.html", "text": f"{folder}email.txt", "eml": f"{folder}message.eml"}


RASTER_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif")  # what every e-mail client shows; SVG it does not


def raster_twin_paths(path: str) -> list[str]:
    """The files that may stand in for an SVG image in e-mail, beside it and of the same name:
    "/img/chart.svg" -> "/img/chart.png", "/img/chart.jpg", ... (a query is dropped)."""
    stem = path.split("?", 1)[0].rsplit(".", 1)[0]
    return [stem + extension for extension in RASTER_EXTENSIONS]
