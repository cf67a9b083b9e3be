"""Slugs, site URLs and output paths: the only place a path or a URL is invented.

Inside the pipeline a location is a *site path*: relative to the site root, posix, with
a trailing "/" for a page ("articles/pit-stop/") and none for a file ("feed.xml"). Pages
link to each other with relative hrefs, so the site works under any deploy path and from
the preview server alike; feeds and syndicated copies use absolute URLs built from
site.yaml's `url`.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_SAFE_SLUG = re.compile(r"^[\w][\w.-]*$", re.UNICODE)
# Markdown writes href="..." and src="..."; raw HTML in an article may use single quotes.
_ROOT_PATH_ATTR = re.compile(r"""(\s(?:href|src)=)(["'])/(?!/)""")


def slugify(text: str) -> str:
    """Tag rule from the spec: lower-case, runs of anything but letters and digits become '-'."""
    return _NON_WORD.sub("-", text.lower()).strip("-")


def is_safe_slug(slug: str) -> bool:
    """A slug names one folder: no separators, no dot-dot, nothing that could leave the output."""
    return bool(_SAFE_SLUG.match(slug)) and ".." not in slug


def page_file(site_path: str) -> str:
    """The file that serves a site path: a folder path is served by its index.html."""
    return f"{site_path}index.html" if site_path == "" or site_path.endswith("/") else site_path


def absolute_url(base_url: str, site_path: str) -> str:
    """An absolute URL for a site path; `base_url` ends with '/' and may carry a path."""
    return base_url + quote(site_path, safe="/#?=&%~:@!$'()*+,;")


def relative_url(from_path: str, to_path: str) -> str:
    """The href that leads from the page at `from_path` to `to_path`, both site paths."""
    from_dir = from_path if from_path.endswith("/") or from_path == "" else posixpath.dirname(from_path) + "/"
    depth = from_dir.count("/")
    href = "../" * depth + to_path
    return quote(href, safe="/#?=&%~:@!$'()*+,;") if href else "./"


def relativize_root_paths(html: str, page_path: str) -> str:
    """Turn the site-root paths Markdown left in a body into hrefs relative to its page."""
    from_dir = page_path if page_path.endswith("/") or page_path == "" else posixpath.dirname(page_path) + "/"
    prefix = "../" * from_dir.count("/")
    return _ROOT_PATH_ATTR.sub(lambda m: f"{m[1]}{m[2]}{prefix or './'}", html)


def absolutize_root_paths(html: str, base_url: str) -> str:
    """Turn site-root paths into absolute URLs, for feeds and copies read far from the site."""
    return _ROOT_PATH_ATTR.sub(lambda m: f"{m[1]}{m[2]}{base_url}", html)


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
