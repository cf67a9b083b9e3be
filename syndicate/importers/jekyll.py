"""`syndicate import jekyll SOURCE_DIR`: a Jekyll site's posts, pages and files.

Reads `_config.yml` (title, url and baseurl, permalink, timezone, author), `_data/authors.yml`
when posts name authors by key, posts in every `_posts/` folder (and `_drafts/`, as drafts),
pages (files with front matter outside `_` folders) and the static files beside them. Each
post's old address is worked out the way Jekyll does from the permalink setting, so the
shared importer (`sitegen.py`) can keep it. Liquid that has a Markdown equivalent becomes
it (`highlight`, `raw`, `link`, `post_url`, `site.url`, `site.baseurl`, `comment`); any
other tag is kept as written and reported with its line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem, SiteError
from ..urls import permalink_problem
from .dialect import Notes, convert_kramdown, line_of, normalize_lists, renumber_headings
from .htmltomd import html_to_markdown
from .meta import split_author_names
from .sitegen import AuthorInfo, SourceDoc, SourceSite, StaticFile
from .sourcefiles import SourceText, dated_name, read_text, split_source, walk

PERMALINK_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
DOC_SUFFIXES = (".md", ".markdown", ".mkd", ".mkdn", ".mdown", ".html", ".htm")
# Files Jekyll never publishes (its default `exclude`), and what only builds the old theme.
EXCLUDED = ("Gemfile", "Gemfile.lock", "node_modules", "vendor", "package.json", "package-lock.json",
            "yarn.lock", "Rakefile", "README.md", "README.markdown", "README", "LICENSE", "LICENSE.md",
            "CHANGELOG.md", "Dockerfile", "docker-compose.yml", "netlify.toml", "gemfiles")
TEMPLATE_NAMES = ("feed.xml", "atom.xml", "rss.xml", "sitemap.xml", "robots.txt", "404.html", "404.md", "search.json")
SKIPPED = "skipped"
_THEME_FOLDERS = frozenset({"_layouts", "_includes", "_sass", "_data", "_site", "_plugins", "_posts", "_drafts", "_config"})
_TAG = re.compile(r"\{%-?\s*(\w+)(.*?)-?%\}|\{\{-?(.*?)-?\}\}", re.DOTALL)
# A page Jekyll filled with the site's posts: a loop over `site.…` or the paginator, or over a
# list first assigned from them (`{% assign pinned = site.posts_he | where: … %}`).
_LISTING = re.compile(r"\{%-?\s*for\s+\w+\s+in\s+(?:site\.|paginator)|\{\{-?\s*paginator\."
                      r"|\{%-?\s*assign\s+\w+\s*=\s*(?:site\.(?:posts|collections|categories|tags)|paginator)")
_SITE_VARIABLES = {"site.url", "site.baseurl", "site.github.url", "site.url|append:site.baseurl", "site.baseurl|prepend:site.url"}
_PATH_FILTER = re.compile(r"""^(['"])([^'"]*)\1\s*\|\s*(?:relative_url|absolute_url|prepend:\s*site\.(?:base)?url)\s*$""")


@dataclass(frozen=True, slots=True)
class _Post:
    path: Path
    shown: str
    text: SourceText
    slug: str
    old_path: str
    file_date: Any
    is_page: bool
    is_draft: bool


def read_jekyll(source_dir: Path) -> SourceSite:
    root = source_dir
    if not root.is_dir():
        raise SiteError.one(str(source_dir), 1, "no such folder (give the Jekyll site's folder, the one with _config.yml)")
    config, notes = _config(root)
    if not (root / "_posts").is_dir() and not any(p.name == "_posts" for p in root.rglob("_posts")) and not config:
        raise SiteError.one(str(source_dir), 1, "no _config.yml and no _posts folder: is this a Jekyll site?")
    zone = _zone(config.get("timezone"))
    style = str(config.get("permalink") or "date")
    pattern = PERMALINK_STYLES.get(style, style)
    excluded = set(EXCLUDED) | {str(x).strip("/") for x in config.get("exclude") or [] if isinstance(x, str)}
    included = {str(x).strip("/") for x in config.get("include") or [] if isinstance(x, str)}
    posts: list[_Post] = []
    files: list[StaticFile] = []
    collections = _collections(config, style)
    unpublished: dict[str, int] = {}  # documents of folders Jekyll does not publish, by folder
    for path in walk(root):
        relative = path.relative_to(root).as_posix()
        parts = relative.split("/")
        folder = next((f for f in ("/".join(parts[:2]), parts[0]) if f in collections), "") if len(parts) > 1 else ""
        collection = collections.get(folder)
        if collection is not None and parts[0] not in excluded:
            if collection[1] is None:  # output: false
                unpublished[folder] = unpublished.get(folder, 0) + path.name.lower().endswith(DOC_SUFFIXES)
                continue
            post = _read_document(root, path, relative, False, False, pattern, zone, notes, (*collection, folder))
            if isinstance(post, Problem):
                notes.append(post)
            elif isinstance(post, _Post):
                posts.append(post)
            elif post is None:
                files.append(StaticFile(path, relative, relative))
            continue
        if parts[0] in excluded or relative in excluded or any(p.startswith("_") and p not in included for p in parts[:-1]
                                                                if p not in ("_posts", "_drafts")):
            if len(parts) > 1 and parts[0].startswith("_") and parts[0] not in _THEME_FOLDERS and parts[0] not in excluded:
                unpublished[parts[0]] = unpublished.get(parts[0], 0) + path.name.lower().endswith(DOC_SUFFIXES)
            continue
        in_posts = "_posts" in parts[:-1]
        in_drafts = parts[0] == "_drafts"
        if parts[-1].startswith("_") or (relative.startswith("_config") and len(parts) == 1):
            continue
        if parts[0].startswith("_") and not (in_posts or in_drafts):
            continue
        post = _read_document(root, path, relative, in_posts, in_drafts, pattern, zone, notes)
        if post is None:
            if not (in_posts or in_drafts):
                files.append(StaticFile(path, relative, relative))
        elif isinstance(post, Problem):
            notes.append(post)
        elif isinstance(post, _Post):
            posts.append(post)
    for folder, count in sorted(unpublished.items()):
        if count:
            why = ("its collection has `output: false`" if folder in collections
                   else "it is not a collection in _config.yml with `output: true`")
            notes.append(Problem(f"{folder}/", 1, f"{count} document(s) not imported: Jekyll publishes none of them ({why})"))
    by_url = _addresses(posts)
    authors = _authors(root)
    docs = tuple(doc for post in posts if (doc := _document(post, by_url)) is not None)
    notes.extend(n for post in posts if post.is_page and _LISTING.search(post.text.body)
                 for n in [Problem(post.shown, 1, "a listing Jekyll filled from the site's posts; not imported "
                                                  "(syndicate makes its own index, archive and tag pages)")])
    url = str(config.get("url") or "").rstrip("/")
    base = "/" + str(config.get("baseurl") or "").strip("/")
    author = config.get("author")
    settings = {
        # `name` is what older sites and Jekyll's feed plugin fall back to for the title.
        "title": str(config.get("title") or config.get("name") or ""), "description": str(config.get("description") or ""),
        "url": (url + base.rstrip("/") + "/") if url.startswith(("http://", "https://")) else "",
        "timezone": str(config.get("timezone") or ""), "language": str(config.get("lang") or config.get("locale") or "")[:2],
    }
    default = split_author_names(author.get("name") if isinstance(author, Mapping) else author) if author else []
    return SourceSite(
        kind="Jekyll", origin=str(source_dir), settings=settings, pattern=translate_permalink(pattern),
        docs=docs, files=tuple(files), authors=authors, default_author=default[0] if default else "",
        notes=tuple(notes),
    )


def _config(root: Path) -> tuple[dict[str, Any], list[Problem]]:
    for name in ("_config.yml", "_config.yaml"):
        path = root / name
        if path.is_file():
            text = read_text(path, name)
            if isinstance(text, Problem):
                return {}, [text]
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                return {}, [Problem(name, mark.line + 1 if mark else 1, f"not valid YAML ({exc}); settings not read")]
            return (data if isinstance(data, dict) else {}), []
    return {}, []


def _authors(root: Path) -> dict[str, AuthorInfo]:
    """`_data/authors.yml`: posts may name an author by its key there (`author: jdoe`)."""
    for name in ("authors.yml", "authors.yaml"):
        path = root / "_data" / name
        if not path.is_file():
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return {}
        found: dict[str, AuthorInfo] = {}
        for key, entry in (data or {}).items() if isinstance(data, dict) else []:
            if isinstance(entry, dict) and entry.get("name"):
                url = str(entry.get("url") or entry.get("web") or entry.get("website") or "")
                found[str(key)] = AuthorInfo(str(entry["name"]), url if url.startswith(("http://", "https://")) else "",
                                             str(entry.get("bio") or ""))
        return found
    return {}


def _collections(config: Mapping[str, Any], style: str) -> dict[str, tuple[str, str | None]]:
    """The collections of `_config.yml` by folder (`_label`, under `collections_dir`): each
    label with its permalink pattern, None for one Jekyll does not publish (`output: false`)."""
    found: dict[str, tuple[str, str | None]] = {}
    declared = config.get("collections")
    entries = declared.items() if isinstance(declared, Mapping) else ((label, {}) for label in declared or [] if isinstance(declared, list))
    default = "/:collection/:path/" if style == "pretty" else "/:collection/:path:output_ext"
    base = str(config.get("collections_dir") or "").strip("/")
    for label, settings in entries:
        if not isinstance(label, str) or label in ("posts", "drafts"):
            continue
        settings = settings if isinstance(settings, Mapping) else {}
        permalink = settings.get("permalink")
        published = settings.get("output") is True
        folder = f"{base}/_{label}" if base else f"_{label}"
        found[folder] = (label, (str(permalink) if isinstance(permalink, str) else default) if published else None)
    return found


def _read_document(root: Path, path: Path, relative: str, in_posts: bool, in_drafts: bool, pattern: str,
                   zone: dt.tzinfo, notes: list[Problem],
                   collection: tuple[str, str | None, str] | None = None) -> _Post | Problem | str | None:
    """A post or page, None for a static file (no front matter), SKIPPED for a template. A
    document of a collection (`collection`: its label and permalink) is a post when it is dated."""
    name = path.name
    if not name.lower().endswith(DOC_SUFFIXES + (".xml", ".txt", ".json", ".css", ".scss", ".sass", ".js")):
        return None
    text = read_text(path, relative)
    if isinstance(text, Problem):
        return text
    if not text.startswith(("---\n", "---\r")) and not text.startswith("--- "):
        return None
    split = split_source(text, relative)
    if isinstance(split, Problem):
        return split
    if not name.lower().endswith(DOC_SUFFIXES) or name in TEMPLATE_NAMES or (not (in_posts or in_drafts) and _home(relative)):
        what = "the home page" if _home(relative) else "a template of the old theme or its feeds"
        notes.append(Problem(relative, 1, f"{what}; not imported (syndicate writes its own)"))
        return SKIPPED
    stem = name.rsplit(".", 1)[0]
    file_date, file_slug = dated_name(stem)
    if in_posts and file_date is None:
        return Problem(relative, 1, "a post's file name must start with its date (2016-01-01-title.md); not imported")
    meta = split.meta
    if collection is not None and collection[1] is not None:
        from .meta import read_when

        inside = relative.removeprefix(collection[2] + "/").rsplit(".", 1)[0]
        pattern = collection[1].replace(":collection", collection[0]).replace(":path", inside).replace(":name", stem)
        in_posts = file_date is not None or read_when(meta.get("date")) is not None
        if not in_posts and ":" in pattern.replace(":title", "").replace(":output_ext", ""):
            pattern = ""  # an undated document under a dated address: none to keep
        pattern = pattern.replace(":title", file_slug).replace(":output_ext", ".html") if not in_posts else pattern
    is_page = not (in_posts or in_drafts)
    slug = str(meta.get("slug") or file_slug)
    if is_page and stem == "index":
        slug = relative.rsplit("/", 2)[-2] if "/" in relative else stem
    if collection is not None and is_page:
        old = pattern.lstrip("/")
    else:
        old = "" if in_drafts else _old_path(meta, relative, slug, file_date, is_page, pattern, name, zone)
    return _Post(path, relative, split, slug, old, file_date, is_page, in_drafts)


def _home(relative: str) -> bool:
    return relative in ("index.md", "index.markdown", "index.html", "index.htm")


def _zone(name: Any) -> dt.tzinfo:
    """The time zone Jekyll writes dates in: the site's `timezone`, else the building machine's,
    which on GitHub Pages (where most Jekyll sites are built) is UTC."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(str(name)) if isinstance(name, str) and name.strip() else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _old_path(meta: Mapping[str, Any], relative: str, slug: str, file_date: Any, is_page: bool, pattern: str,
              name: str, zone: dt.tzinfo = dt.UTC) -> str:
    permalink = meta.get("permalink")
    if isinstance(permalink, str) and permalink.strip():
        own = PERMALINK_STYLES.get(permalink.strip(), permalink.strip())
        if ":" not in own:
            return own.lstrip("/")
        pattern = own
    if is_page:
        if pattern.endswith("/") and not isinstance(permalink, str):
            stem = relative.rsplit(".", 1)[0]
            return (stem.removesuffix("index").rstrip("/") + "/").lstrip("/") if stem != "index" else ""
        html = relative.rsplit(".", 1)[0] + ".html"
        return html.removesuffix("index.html") if html.endswith("/index.html") else html
    from .meta import read_when

    when = read_when(meta.get("date")) or file_date
    if isinstance(when, dt.datetime) and when.tzinfo is not None:
        when = when.astimezone(zone)  # a date with its own offset lands on the site's calendar day
    categories = _categories(meta, relative)
    values = {
        "year": f"{when.year:04d}", "month": f"{when.month:02d}", "day": f"{when.day:02d}",
        "i_month": str(when.month), "i_day": str(when.day), "short_year": f"{when.year % 100:02d}",
        "title": slug, "slug": slug, "categories": "/".join(c.lower() for c in categories), "output_ext": ".html",
    }
    path = re.sub(r":(i_month|i_day|short_year|year|month|day|title|slug|categories|output_ext)\b",
                  lambda m: values[m[1]], pattern)
    return re.sub(r"/{2,}", "/", path).lstrip("/")


def _categories(meta: Mapping[str, Any], relative: str) -> list[str]:
    """Folders above `_posts/` and the post's `categories` (a list, or a string split at spaces)."""
    found = [part for part in relative.split("/_posts/")[0].split("/") if "/_posts/" in relative and part]
    for key in ("category", "categories"):
        value = meta.get(key)
        if isinstance(value, list):
            found.extend(str(v) for v in value if v is not None)
        elif isinstance(value, str):
            found.extend(value.split() if key == "categories" else [value])
    return list(dict.fromkeys(found))


def translate_permalink(pattern: str) -> str | None:
    """Jekyll's permalink as our `permalinks.article`, when it can be one; `:categories` is
    left out (posts with categories then keep their old address as a redirect)."""
    names = {":year": "{year}", ":month": "{month}", ":day": "{day}", ":title": "{slug}", ":slug": "{slug}",
             ":output_ext": ".html", ":categories": ""}
    ours = re.sub(r":[a-z_]+", lambda m: names.get(m[0], m[0]), pattern)
    ours = re.sub(r"/{2,}", "/", ours).lstrip("/")
    if ":" in ours or permalink_problem(ours) is not None:
        return None
    return ours


def _addresses(posts: list[_Post]) -> dict[str, str]:
    """Old site paths by the names Liquid links use: the file's path, and a post's name."""
    found: dict[str, str] = {}
    for post in posts:
        found[post.shown] = post.old_path
        if not post.is_page:
            stem = post.shown.rsplit(".", 1)[0]
            found["post:" + stem.rsplit("/", 1)[-1]] = post.old_path
            found["post:" + stem.replace("_posts/", "")] = post.old_path
    return found


def _listed_terms(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    """Jekyll reads `tags: alpha beta` and `categories: jekyll update` as two names each (one
    `category:` is one name): the front matter with those strings made lists."""
    if not any(isinstance(meta.get(key), str) for key in ("tags", "categories")):
        return meta
    return {**meta, **{key: meta[key].split() for key in ("tags", "categories") if isinstance(meta.get(key), str)}}


def _document(post: _Post, addresses: Mapping[str, str]) -> SourceDoc | None:
    if post.is_page and _LISTING.search(post.text.body):
        return None
    notes = Notes(post.shown)
    title = str(post.text.meta.get("title") or "")
    body = convert_liquid(post.text.body, post.text.body_line, addresses, title, notes)
    if post.path.suffix.lower() in (".html", ".htm"):
        body = html_to_markdown(body, notes, post.text.body_line)
    else:
        body = renumber_headings(normalize_lists(convert_kramdown(body)))
    return SourceDoc(
        source=post.shown, meta=_listed_terms(post.text.meta), lines=post.text.lines, body=body, slug=post.slug,
        old_path=post.old_path, is_page=post.is_page, file_date=post.file_date, is_draft=post.is_draft,
        notes=tuple(notes.items),
    )


def convert_liquid(body: str, first_line: int, addresses: Mapping[str, str], title: str, notes: Notes) -> str:
    """Liquid with a Markdown equivalent becomes it; any other tag stays as written, reported."""
    out: list[str] = []
    position = 0
    while (match := _TAG.search(body, position)) is not None:
        out.append(body[position:match.start()])
        position = match.end()
        line = line_of(body, match.start(), first_line)
        tag, argument, variable = match[1], (match[2] or "").strip(), match[3]
        if variable is not None:
            out.append(_variable(variable.strip(), match[0], title, line, notes))
            continue
        if tag in ("raw", "highlight", "comment"):
            end = re.compile(r"\{%-?\s*end" + tag + r"\s*-?%\}").search(body, position)
            if end is None:
                notes.add(line, f"'{{% {tag} %}}' is never closed; kept as written")
                out.append(match[0])
                continue
            inner = body[position:end.start()]
            position = end.end()
            if tag == "raw":
                out.append(inner)
            elif tag == "highlight":
                language = argument.split()[0] if argument else ""
                fence = "~~~" if "```" in inner else "```"
                out.append(f"{fence}{language}\n{inner.strip(chr(10))}\n{fence}")
            continue
        if tag in ("link", "post_url"):
            target = argument.strip("'\" ")
            key = target.lstrip("/") if tag == "link" else "post:" + target
            found = addresses.get(key) if tag == "link" else addresses.get(key, addresses.get("post:" + target.rsplit("/", 1)[-1]))
            if found is not None:
                out.append("/" + found)
                continue
            notes.add(line, f"'{match[0]}' names no post or page of this site; kept as written: fix the link by hand")
            out.append(match[0])
            continue
        shown = " ".join(match[0].split())
        notes.add(line, f"Liquid tag '{shown[:80]}' kept as written: syndicate runs no templates; replace it by hand")
        out.append(match[0])
    out.append(body[position:])
    return "".join(out)


def _variable(expression: str, written: str, title: str, line: int, notes: Notes) -> str:
    compact = re.sub(r"\s+", "", expression)
    if compact in _SITE_VARIABLES:
        return ""  # addresses become site-root paths, which work wherever the site is published
    path = _PATH_FILTER.match(expression)
    if path:
        return path[2]
    if compact == "page.title" and title:
        return title
    notes.add(line, f"Liquid variable '{' '.join(written.split())[:80]}' kept as written: syndicate runs no templates; replace it by hand")
    return written

