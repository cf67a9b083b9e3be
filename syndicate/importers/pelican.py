"""`syndicate import pelican SOURCE_DIR`: a Pelican site's articles, pages and static files.

Settings come from `pelicanconf.py` and `publishconf.py`, read as Python syntax without
running them (only plain assignments of literals are taken: SITENAME, SITEURL, AUTHOR,
TIMEZONE, PATH, ARTICLE_URL, PAGE_URL, STATIC_PATHS...). Articles are Markdown with
Pelican's `Key: value` metadata (or YAML front matter), or reStructuredText, turned into
HTML by docutils and then into Markdown. Old addresses follow ARTICLE_URL and PAGE_URL;
Pelican's link syntax (`{filename}`, `{static}`, `{attach}`, `{tag}`, `{category}`,
`|filename|`) becomes the target's address, and anything it cannot find is reported.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Problem, SiteError
from ..urls import permalink_problem, slugify
from .dialect import Notes, line_of
from .htmltomd import html_to_markdown
from .meta import read_names, read_when, split_author_names
from .sitegen import SourceDoc, SourceSite, StaticFile
from .sourcefiles import read_text, split_source, walk

DEFAULTS: dict[str, Any] = {
    "PATH": "content", "ARTICLE_URL": "{slug}.html", "PAGE_URL": "pages/{slug}.html", "PAGE_PATHS": ["pages"],
    "ARTICLE_PATHS": [""], "STATIC_PATHS": ["images"], "USE_FOLDER_AS_CATEGORY": True, "DEFAULT_CATEGORY": "misc",
    "SLUGIFY_SOURCE": "title", "FILENAME_METADATA": r"(?P<date>\d{4}-\d{2}-\d{2}).*", "DEFAULT_LANG": "en",
}
MARKUP = (".md", ".markdown", ".mkd", ".mdown", ".rst", ".html", ".htm")
_METADATA_LINE = re.compile(r"^([A-Za-z][\w-]*):\s*(.*)$")
_LEADING_HEADING = re.compile(r"\s*#[ \t]+([^\n#][^\n]*?)[ \t#]*(?:\n|$)")  # `# The title` as the body's first line
_LINK = re.compile(r"(?:\{(filename|static|attach|tag|category|author|index)\}|\|(filename|static|attach|tag|category)\|)"
                   r"([^\s\"')\]>]*)")


@dataclass(frozen=True, slots=True)
class _Doc:
    path: Path
    shown: str
    rel: str  # under the content folder
    meta: dict[str, Any]
    lines: dict[str, int]
    body: str
    body_line: int
    is_page: bool
    slug: str
    old_path: str
    is_rst: bool
    is_html: bool


def read_pelican(source_dir: Path) -> SourceSite:
    root = source_dir
    if not root.is_dir():
        raise SiteError.one(str(source_dir), 1, "no such folder (give the Pelican site's folder, the one with pelicanconf.py)")
    settings, notes = _settings(root)
    content = root / str(settings["PATH"])
    if not (root / "pelicanconf.py").is_file() and not content.is_dir():
        raise SiteError.one(str(source_dir), 1, "no pelicanconf.py and no content folder: is this a Pelican site?")
    if not content.is_dir():
        raise SiteError.one(str(source_dir), 1, f"no content folder '{settings['PATH']}' (PATH in pelicanconf.py)")
    static = [str(p).strip("/") for p in settings.get("STATIC_PATHS") or []]
    pages_paths = [str(p).strip("/") for p in settings.get("PAGE_PATHS") or []]
    docs: list[_Doc] = []
    files: list[StaticFile] = []
    for path in walk(content):
        rel = path.relative_to(content).as_posix()
        shown = path.relative_to(root).as_posix()
        in_static = any(rel == s or rel.startswith(s + "/") for s in static if s)
        if in_static or not path.name.lower().endswith(MARKUP):
            if in_static:
                files.append(StaticFile(path, rel, shown))
            continue
        is_page = any(rel.startswith(p + "/") for p in pages_paths if p)
        doc = _read(path, shown, rel, is_page, settings, notes)
        if doc is not None:
            docs.append(doc)
    addresses = _addresses(docs)
    author = settings.get("AUTHOR")
    default = split_author_names(author) if isinstance(author, str) else []
    site_url = str(settings.get("SITEURL") or "")
    return SourceSite(
        kind="Pelican", origin=str(source_dir), settings={
            "title": str(settings.get("SITENAME") or ""), "url": site_url.rstrip("/") + "/" if site_url.startswith("http") else "",
            "timezone": str(settings.get("TIMEZONE") or ""), "language": str(settings.get("DEFAULT_LANG") or "")[:2],
            "description": str(settings.get("SITESUBTITLE") or ""),
        },
        pattern=translate_url(str(settings["ARTICLE_URL"])),
        docs=tuple(_convert(doc, addresses, {f.target for f in files}) for doc in docs), files=tuple(files),
        default_author=default[0] if default else "", notes=tuple(notes),
    )


def _settings(root: Path) -> tuple[dict[str, Any], list[Problem]]:
    """Plain assignments of literals in pelicanconf.py, then publishconf.py (the published URL)."""
    found = dict(DEFAULTS)
    notes: list[Problem] = []
    for name in ("pelicanconf.py", "publishconf.py"):
        path = root / name
        if not path.is_file():
            continue
        text = read_text(path, name)
        if isinstance(text, Problem):
            notes.append(text)
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError as exc:
            notes.append(Problem(name, exc.lineno or 1, f"not valid Python ({exc.msg}); settings not read"))
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                try:
                    value = ast.literal_eval(node.value)
                except (ValueError, SyntaxError, TypeError):
                    continue  # computed from other settings: not run
                if name == "publishconf.py" and node.targets[0].id == "SITEURL" and not value:
                    continue
                found[node.targets[0].id] = value
    return found, notes


def pelican_slug(text: str) -> str:
    """Pelican's default slugify: ASCII, lower case, punctuation gone, spaces to '-'."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    folded = re.sub(r"[^\w\s-]", "", folded).strip().lower()
    return re.sub(r"[-\s]+", "-", folded)


def _read(path: Path, shown: str, rel: str, is_page: bool, settings: Mapping[str, Any], notes: list[Problem]) -> _Doc | None:
    text = read_text(path, shown)
    if isinstance(text, Problem):
        notes.append(text)
        return None
    is_rst = path.suffix.lower() == ".rst"
    is_html = path.suffix.lower() in (".html", ".htm")
    if is_rst:
        meta, lines, body, body_line = _rst_metadata(text)
    elif is_html:
        meta, lines, body, body_line = _html_metadata(text)
    elif text.startswith("---\n") and _reads_yaml(settings):
        split = split_source(text, shown)
        if isinstance(split, Problem):
            notes.append(split)
            return None
        meta, lines, body, body_line = dict(split.meta), dict(split.lines), split.body, split.body_line
    else:
        meta, lines, body, body_line = _markdown_metadata(text)
    if not meta.get("title") and not is_rst and not is_html and (heading := _LEADING_HEADING.match(body)):
        # Pelican skips a file without Title; sites that write the title as the first heading have
        # a plugin read it there (as the report says), and this is what it would have read.
        meta["title"], body = heading[1].strip(), body[heading.end():].lstrip("\n")
        lines["title"] = body_line
        notes.append(Problem(shown, body_line, "no Title metadata: the title is the first heading, which the site's "
                                               "plugins read (Pelican alone skips such a file); check it"))
    if not meta.get("title"):
        plugins = [str(p) for p in settings.get("PLUGINS") or [] if isinstance(p, str)]
        unless = f", unless one of the site's plugins gives it one: {', '.join(plugins)}" if plugins else ""
        notes.append(Problem(shown, 1, f"no Title metadata; not imported (Pelican skips it too{unless})"))
        return None
    status = str(meta.get("status") or "").lower()
    if status == "draft":
        meta["draft"] = True
    if status == "hidden" and not is_page:
        meta["draft"] = True
    folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
    if not meta.get("category") and not is_page:
        if settings.get("USE_FOLDER_AS_CATEGORY") and folder:
            meta["category"] = folder.split("/")[-1]
    stem = path.name.rsplit(".", 1)[0]
    if not meta.get("date"):
        match = re.match(str(settings.get("FILENAME_METADATA") or "$^"), stem)
        if match and match.groupdict().get("date"):
            meta["date"] = match["date"]
    source_text = str(meta["title"]) if settings.get("SLUGIFY_SOURCE") != "basename" else stem
    slug = str(meta.get("slug") or pelican_slug(source_text))
    when = read_when(meta.get("date"))
    old = "" if meta.get("draft") else _own_address(meta) or _fill(str(settings["PAGE_URL" if is_page else "ARTICLE_URL"]),
                                                                  slug, when, meta)
    return _Doc(path, shown, rel, meta, lines, body, body_line, is_page, slug, old, is_rst, is_html)


def _reads_yaml(settings: Mapping[str, Any]) -> bool:
    """Whether the site's Markdown metadata is YAML: only through a plugin (`yaml_metadata`,
    `pelican-yaml-metadata`); Pelican itself reads `Key: value` lines, between `---` lines too."""
    plugins = settings.get("PLUGINS") or []
    return isinstance(plugins, list | tuple) and any("yaml" in str(plugin).lower() for plugin in plugins)


def _own_address(meta: Mapping[str, Any]) -> str:
    """The address a document gives itself (`url`, else the file `save_as` writes), which
    Pelican uses instead of ARTICLE_URL or PAGE_URL: "umap/index.html" is "umap/"."""
    own = str(meta.get("url") or meta.get("save_as") or "").strip().lstrip("/")
    return own.removesuffix("index.html") if own.endswith("/index.html") or own == "index.html" else own


def _markdown_metadata(text: str) -> tuple[dict[str, Any], dict[str, int], str, int]:
    """Pelican's Markdown metadata, as Python-Markdown's `meta` extension reads it: `Key: value`
    lines at the top (a value goes on over indented lines), up to the first blank line, or
    between a `---` line and a `---` or `...` line. Values are text: `Title: Notes #1` keeps its `#1`."""
    meta: dict[str, Any] = {}
    lines: dict[str, int] = {}
    rows = text.split("\n")
    fenced = bool(rows) and rows[0].rstrip() == "---"
    number = 0
    last = ""
    for number, row in enumerate(rows):
        if fenced and number == 0:
            continue
        if fenced and row.rstrip() in ("---", "..."):
            number += 1  # the closing line is not the body's
            break
        match = _METADATA_LINE.match(row)
        if match:
            last = match[1].lower()
            meta[last] = match[2].strip()
            lines[last] = number + 1
        elif row.startswith(("    ", "\t")) and last:
            meta[last] = f"{meta[last]} {row.strip()}"
        else:
            break
    return meta, lines, "\n".join(rows[number:]).lstrip("\n"), number + 1


def _rst_metadata(text: str) -> tuple[dict[str, Any], dict[str, int], str, int]:
    """The document title (over its underline) and `:key: value` fields after it; the body is the rest."""
    rows = text.split("\n")
    meta: dict[str, Any] = {}
    lines: dict[str, int] = {}
    index = 0
    while index < len(rows) and not rows[index].strip():
        index += 1
    if index < len(rows) and re.fullmatch(r"([=\-~#*^+`])\1{2,}", rows[index].strip()):
        index += 1  # an overline
    if index + 1 < len(rows) and re.fullmatch(r"([=\-~#*^+`])\1{2,}", rows[index + 1].strip()):
        meta["title"] = rows[index].strip()
        lines["title"] = index + 1
        index += 2
        if index < len(rows) and rows[index].strip() and set(rows[index].strip()) <= set("=-~#*^+`"):
            index += 1
    last = ""
    while index < len(rows):
        row = rows[index]
        match = re.match(r"^:([\w-]+):\s*(.*)$", row)
        if match:
            last = match[1].lower()
            meta[last] = match[2].strip()
            lines[last] = index + 1
        elif last and row[:1] in (" ", "\t") and row.strip():  # a field's value goes on over indented lines
            meta[last] = f"{meta[last]} {row.strip()}".strip()
        elif row.strip():
            break
        else:
            last = ""  # a blank line ends a field's value
        index += 1
    return meta, lines, "\n".join(rows[index:]), index + 1


def _html_metadata(text: str) -> tuple[dict[str, Any], dict[str, int], str, int]:
    """An HTML article: the title from <title>, the rest from <meta name=... content=...>."""
    meta: dict[str, Any] = {}
    title = re.search(r"<title>(.*?)</title>", text, re.DOTALL | re.IGNORECASE)
    if title:
        meta["title"] = " ".join(title[1].split())
    for match in re.finditer(r"<meta\s+name=\"([^\"]+)\"\s+content=\"([^\"]*)\"", text, re.IGNORECASE):
        meta[match[1].lower()] = match[2]
    body = re.search(r"<body[^>]*>(.*)</body>", text, re.DOTALL | re.IGNORECASE)
    start = text[: body.start(1)].count("\n") + 1 if body else 1
    return meta, {}, body[1] if body else text, start


def _fill(pattern: str, slug: str, when: Any, meta: Mapping[str, Any]) -> str:
    moment = when if isinstance(when, dt.datetime) else dt.datetime.combine(when, dt.time()) if when else None
    category = str(meta.get("category") or "")
    try:
        path = pattern.format(slug=slug, date=moment or dt.datetime(1970, 1, 1), category=pelican_slug(category),
                              author=pelican_slug(str(meta.get("author") or "")), lang=str(meta.get("lang") or "en"))
    except (KeyError, IndexError, ValueError, AttributeError):
        return ""
    return path.lstrip("/")


def translate_url(pattern: str) -> str | None:
    """ARTICLE_URL as our `permalinks.article`, when it can be one."""
    names = {"{slug}": "{slug}", "{date:%Y}": "{year}", "{date:%m}": "{month}", "{date:%d}": "{day}"}
    ours = re.sub(r"\{[^}]*\}", lambda m: names.get(m[0], "\0"), pattern).lstrip("/")
    if "\0" in ours or permalink_problem(ours) is not None:
        return None
    return ours


def _addresses(docs: list[_Doc]) -> dict[str, str]:
    found: dict[str, str] = {}
    for doc in docs:
        found[doc.rel] = doc.old_path
    return found


def _convert(doc: _Doc, addresses: Mapping[str, str], static: set[str]) -> SourceDoc:
    notes = Notes(doc.shown)
    body = _links(doc, addresses, static, notes)
    if doc.is_rst:
        body = rst_to_markdown(body, doc.body_line, notes)
    elif doc.is_html:
        body = html_to_markdown(body, notes, doc.body_line)
    meta = dict(doc.meta)
    meta.pop("slug", None)
    if isinstance(meta.get("tags"), str):
        meta["tags"] = read_names([meta["tags"].replace(";", ",")])
    if isinstance(meta.get("authors"), str):
        meta["authors"] = [a.strip() for a in re.split(r"[,;]", meta["authors"]) if a.strip()]
    return SourceDoc(
        source=doc.shown, meta=meta, lines=doc.lines, body=body, slug=doc.slug, old_path=doc.old_path,
        is_page=doc.is_page, notes=tuple(notes.items),
    )


def _links(doc: _Doc, addresses: Mapping[str, str], static: set[str], notes: Notes) -> str:
    """Pelican's `{filename}other.md`, `{static}/images/a.png`, `{tag}name` as addresses."""
    folder = doc.rel.rsplit("/", 1)[0] if "/" in doc.rel else ""

    def replace(match: re.Match[str]) -> str:
        kind, target = match[1] or match[2], match[3]
        if kind in ("tag", "category"):
            return f"/tags/{slugify(target)}/"
        if kind == "author":
            return match[0]
        if kind == "index":
            return "/"
        path, _, anchor = target.partition("#")
        rel = path.lstrip("/") if path.startswith("/") else "/".join(p for p in (folder, path) if p)
        rel = re.sub(r"(^|/)\./", r"\1", rel)
        while "/../" in f"/{rel}":
            rel = re.sub(r"[^/]+/\.\./", "", rel, count=1)
        suffix = f"#{anchor}" if anchor else ""
        if kind == "filename" and rel in addresses:
            return "/" + addresses[rel] + suffix
        if rel in static or kind in ("static", "attach"):
            if rel not in static:
                notes.add(line_of(doc.body, match.start(), doc.body_line), f"'{match[0]}' names no file among the static files; fix the link by hand")
            return "/" + rel + suffix
        notes.add(line_of(doc.body, match.start(), doc.body_line), f"'{match[0]}' names no article or page; fix the link by hand")
        return match[0]

    return _LINK.sub(replace, doc.body)


# The options Pelican's `code-block` and `sourcecode` accept (its Pygments directive), which
# docutils' own `code` refuses, dropping the whole block: they only style the highlighting.
_PELICAN_CODE_OPTIONS = ("anchorlinenos", "classprefix", "hl_lines", "lineanchors", "linenos", "linenospecial",
                         "linenostart", "linenostep", "lineseparator", "linespans", "nobackground", "noclasses",
                         "nowrap", "tagsfile", "tagurlformat")


def _register_pelican_code_block() -> None:
    from docutils.parsers.rst import directives
    from docutils.parsers.rst.directives.body import CodeBlock

    class PelicanCodeBlock(CodeBlock):  # type: ignore[misc]  # docutils has no type hints
        option_spec = {**CodeBlock.option_spec, **dict.fromkeys(_PELICAN_CODE_OPTIONS, directives.unchanged)}

    for name in ("code-block", "sourcecode"):
        directives.register_directive(name, PelicanCodeBlock)


def rst_to_markdown(text: str, first_line: int, notes: Notes) -> str:
    """reStructuredText through docutils (no file inclusion) into Markdown; `.. raw:: html`
    goes through the same HTML conversion as the rest (an embed becomes a link, a script goes)."""
    import io

    from docutils.core import publish_parts

    _register_pelican_code_block()
    errors = io.StringIO()
    overrides = {"file_insertion_enabled": False, "raw_enabled": True, "report_level": 2, "halt_level": 5,
                 "warning_stream": errors, "input_encoding": "unicode", "doctitle_xform": False,
                 "syntax_highlight": "none"}
    try:
        parts = publish_parts(text, writer="html5", settings_overrides=overrides)
    except Exception as exc:  # docutils raises many kinds; the article is reported, not lost
        notes.add(first_line, f"reStructuredText could not be read ({exc}); kept as written")
        return text
    for match in re.finditer(r"<string>:(\d+): \((\w+)/\d\) (.*)", errors.getvalue()):
        notes.add(first_line + int(match[1]) - 1, f"reStructuredText {match[2].lower()}: {match[3]}")
    # Each message is reported above; docutils also writes it into the page (an <aside> from 0.18 on).
    body = re.sub(r'<(div|aside) class="system-message">.*?</\1>', "", parts["body"], flags=re.DOTALL)
    return html_to_markdown(body, notes, first_line)
