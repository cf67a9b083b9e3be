"""`syndicate import hugo SOURCE_DIR`: a Hugo site's content, page bundles and static files.

Reads the site configuration (`hugo.toml|yaml|json`, `config.*` or `config/_default/`) for
the title, base URL, time zone and `permalinks`; every Markdown (or HTML) file under the
content folder, in the section named by its first folder (`post/`, `blog/`); page bundles
(`post/trip/index.md` with its images beside it); and `static/`. Each document's old
address is worked out as Hugo does (`url`, `slug`, the section's permalink, lower-cased
paths). Shortcodes with a Markdown equivalent become it (`ref`/`relref`, `figure`,
`highlight`, `youtube`, `vimeo`, `gist`); any other is kept as written and reported.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem, SiteError
from ..urls import permalink_problem, slugify
from .dialect import Notes, line_of, map_prose, normalize_lists, renumber_headings
from .htmltomd import html_to_markdown, video_link
from .markdown import escape_text
from .meta import read_names, read_when, split_author_names
from .sitegen import SourceDoc, SourceSite, StaticFile
from .sourcefiles import SourceText, read_text, split_source, walk

PAIRED = ("highlight", "rawhtml", "html", "raw", "safehtml")
CONFIG_NAMES = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml", "config.yml", "config.json")
DOC_SUFFIXES = (".md", ".markdown", ".mdown", ".html", ".htm")
OTHER_MARKUP = (".org", ".adoc", ".asciidoc", ".rst", ".pandoc", ".pdc", ".ipynb")
_ANY_LANGUAGE = "*"
DEFAULT_TAXONOMIES = frozenset({"tags", "categories"})
_TAXONOMY_LINK = re.compile(r"(\]\(|href=[\"'])/(?:categories|tags)/")
_SHORTCODE = re.compile(r"\{\{([<%])/\*(.*?)\*/[>%]\}\}|\{\{([<%])\s*(/?)\s*([\w.-][\w./-]*)(.*?)\s*[>%]\}\}", re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Doc:
    path: Path
    shown: str
    rel: str  # relative to the content folder
    text: SourceText
    slug: str
    old_path: str
    folder: str
    is_page: bool


def read_hugo(source_dir: Path) -> SourceSite:
    root = source_dir
    if not root.is_dir():
        raise SiteError.one(str(source_dir), 1, "no such folder (give the Hugo site's folder, the one with hugo.toml)")
    config, notes = _config(root)
    config = _with_default_language(config)
    content_dirs = [(folder, prefix) for folder, prefix in _mounted(config, root, "content") if folder.is_dir()]
    if not content_dirs:
        raise SiteError.one(str(source_dir), 1, "no content folder: is this a Hugo site?")
    permalinks = _permalinks(config)
    lower = not config.get("disablepathtolower", False)
    ugly = bool(config.get("uglyurls", False))
    docs: list[_Doc] = []
    files: list[StaticFile] = []
    bundles: set[str] = set()
    paths = [(path, _joined(prefix, path.relative_to(folder).as_posix())) for folder, prefix in content_dirs for path in walk(folder)]
    for path, rel in paths:
        if path.name in ("index.md", "index.markdown", "index.html") and "/" in rel:
            bundles.add(rel.rsplit("/", 1)[0])
    for path, rel in paths:
        shown = _shown(path, root)
        name = path.name
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        if name.startswith("_index."):
            notes.append(Problem(shown, 1, "a section's list page; not imported (syndicate makes its own index, archive and tag pages)"))
            continue
        if name.lower().endswith(OTHER_MARKUP):
            notes.append(Problem(shown, 1, f"written in {path.suffix} markup, which syndicate does not read; convert it to Markdown by hand"))
            continue
        in_bundle = next((b for b in bundles if rel.startswith(b + "/")), None)
        if not name.lower().endswith(DOC_SUFFIXES) or (in_bundle and not name.startswith("index.")):
            # A bundle's images stay beside its article, in the folder Hugo published them in (lower case).
            target = f"{sanitize_path(folder.lower() if lower else folder)}/{name}" if folder else rel
            files.append(StaticFile(path, target, shown))
            continue
        text = read_text(path, shown)
        split = split_source(text, shown) if isinstance(text, str) else text
        if isinstance(split, Problem):
            notes.append(split)
            continue
        if not split.has_front_matter and name.lower().endswith((".html", ".htm")):
            files.append(StaticFile(path, rel, shown))
            continue
        docs.append(_document_paths(path, shown, rel, folder, split, permalinks, lower, ugly, in_bundle is not None))
    for static, prefix in _mounted(config, root, "static"):
        if static.is_dir():
            files.extend(StaticFile(p, _joined(prefix, p.relative_to(static).as_posix()), _shown(p, root)) for p in walk(static))
    main = _main_section(docs)
    # Outside the section that holds the posts, a document without a date is a page of the
    # site (`about/index.md`, `projects.md`), not a post of today.
    docs = [replace(doc, is_page=True) if not doc.is_page and doc.rel.split("/", 1)[0] != main and not _dated(doc) else doc
            for doc in docs]
    page_bundles = tuple(doc.folder + "/" for doc in docs if doc.is_page and doc.folder)
    files = [replace(f, target=f"pages/{f.target}") if f.target.startswith(page_bundles) else f for f in files]  # beside their page
    addresses = _addresses(docs)
    found = config.get("params")
    params: dict[str, Any] = found if isinstance(found, dict) else {}
    author = config.get("author") or params.get("author")
    if isinstance(author, Mapping):
        author = author.get("name")
    default = split_author_names(author) if author else []
    section = main
    pattern = translate_permalink(permalinks.get(section, ""), section) if section else None
    settings = {
        "title": str(config.get("title") or ""), "url": _base_url(str(config.get("baseurl") or "")),
        "description": str(params.get("description") or ""), "timezone": str(config.get("timezone") or ""),
        "language": str(config.get("languagecode") or config.get("defaultcontentlanguage") or "")[:2],
    }
    return SourceSite(
        kind="Hugo", origin=str(source_dir), settings=settings, pattern=pattern,
        docs=tuple(_convert(doc, addresses, _taxonomies(config)) for doc in docs), files=tuple(files),
        default_author=default[0] if default else "", notes=tuple(notes),
    )


def _mounted(config: Mapping[str, Any], root: Path, component: str) -> list[tuple[Path, str]]:
    """The folders Hugo reads `component` (content or static) from, each with the path under
    it that its files take. Module mounts replace the default folder when any names the
    component (Hugo's own documentation mounts `content/en` as `content`); mounts for other
    languages than the default are left out, as is a language's own `contentDir`."""
    default_language = str(config.get("defaultcontentlanguage") or "en").lower()
    module = config.get("module")
    mounts = module.get("mounts") if isinstance(module, Mapping) else None
    found = []
    for mount in mounts if isinstance(mounts, list) else []:
        if not isinstance(mount, Mapping) or not isinstance(mount.get("source"), str):
            continue
        target = str(mount.get("target") or "").strip("/")
        if target != component and not target.startswith(component + "/"):
            continue
        languages = _mount_languages(mount)
        if _ANY_LANGUAGE not in languages and default_language not in languages:
            continue
        found.append((root / mount["source"], target[len(component) :].strip("/")))
    if found:
        return found
    per_language = config.get("languages")
    own = per_language.get(default_language) if isinstance(per_language, Mapping) else None
    folder = (own.get(component + "dir") or own.get(component + "Dir")) if isinstance(own, Mapping) else None
    return [(root / str(folder or config.get(component + "dir") or component), "")]


def _mount_languages(mount: Mapping[str, Any]) -> list[str]:
    """The languages a mount is for (`lang`, or `sites.matrix.languages`); any when it names none."""
    sites = mount.get("sites")
    matrix = sites.get("matrix") if isinstance(sites, Mapping) else None
    named: Any = matrix.get("languages") if isinstance(matrix, Mapping) else mount.get("lang")
    if isinstance(named, str):
        named = [named]
    if not isinstance(named, list) or not named:
        return [_ANY_LANGUAGE]
    return [str(name).lower() for name in named]


def _joined(prefix: str, rel: str) -> str:
    return f"{prefix}/{rel}" if prefix else rel


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:  # a mount from outside the site's folder
        return path.as_posix()


def _config(root: Path) -> tuple[dict[str, Any], list[Problem]]:
    """The configuration, keys lower-cased (Hugo's are case-insensitive); config/_default/ merged in."""
    merged: dict[str, Any] = {}
    notes: list[Problem] = []
    found = [root / name for name in CONFIG_NAMES if (root / name).is_file()][:1]
    defaults = root / "config" / "_default"
    if defaults.is_dir():
        found.extend(sorted(p for p in defaults.iterdir() if p.suffix in (".toml", ".yaml", ".yml", ".json")))
    for path in found:
        shown = path.relative_to(root).as_posix()
        text = read_text(path, shown)
        if isinstance(text, Problem):
            notes.append(text)
            continue
        try:
            data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (tomllib.TOMLDecodeError, ValueError, yaml.YAMLError) as exc:
            notes.append(Problem(shown, 1, f"cannot read the settings ({exc}); not used"))
            continue
        if not isinstance(data, dict):
            continue
        data = _lower_keys(data)
        stem = path.stem.lower()
        if path.parent == defaults and stem not in ("hugo", "config"):
            section = merged.setdefault(stem, {})
            if isinstance(section, dict):
                section.update(data)
        else:
            merged.update(data)
    return merged, notes


def _with_default_language(config: dict[str, Any]) -> dict[str, Any]:
    """The settings of the default language (`[languages.en]`, or config/_default/languages.en.toml)
    over the site's: Hugo shows that language's `title` and `params` (its author among them)."""
    language = str(config.get("defaultcontentlanguage") or "en").lower()
    languages = config.get("languages")
    own = (languages.get(language) if isinstance(languages, Mapping) else None) or config.get(f"languages.{language}")
    if not isinstance(own, Mapping):
        return config
    own = _lower_keys(dict(own))
    params = {**(config.get("params") or {}), **(own.get("params") or {})}
    return {**config, **{key: value for key, value in own.items() if key != "params"}, "params": params}


def _lower_keys(data: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): (_lower_keys(v) if isinstance(v, dict) and str(k).lower() in ("params", "permalinks", "page") else v)
            for k, v in data.items()}


def _permalinks(config: Mapping[str, Any]) -> dict[str, str]:
    section = config.get("permalinks")
    if not isinstance(section, dict):
        return {}
    if isinstance(section.get("page"), dict):  # [permalinks.page] (Hugo 0.120 on)
        section = section["page"]
    return {str(k).strip("/"): str(v) for k, v in section.items() if isinstance(v, str)}


def _base_url(value: str) -> str:
    value = value.strip()
    if not value.startswith(("http://", "https://")):
        return ""
    return value.rstrip("/") + "/"


def urlize(text: str) -> str:
    """Hugo's `urlize` for `:title`: spaces to '-', characters a path cannot hold dropped."""
    text = re.sub(r"\s+", "-", text.strip())
    return re.sub(r"[^\w.\-~]", "", text)


def sanitize_path(path: str) -> str:
    """A path as Hugo publishes it (its `paths.Sanitize`): a run of spaces is one '-' (none at
    the start), and characters a path may not hold ('&', '?', quotes...) are left out."""
    out: list[str] = []
    hyphen = False
    for index, char in enumerate(path):
        if char.isalnum() or char in "./\\_#+~-@" or unicodedata.category(char).startswith("M") or (
                char == "%" and re.fullmatch(r"[0-9A-Fa-f]{2}", path[index + 1 : index + 3])):
            if hyphen:
                out.append("-")
                hyphen = False
            out.append(char)
        elif char.isspace() and out:
            hyphen = True
    return "".join(out)


def _document_paths(path: Path, shown: str, rel: str, folder: str, text: SourceText, permalinks: Mapping[str, str],
                    lower: bool, ugly: bool, in_bundle: bool) -> _Doc:
    meta = text.meta
    section = rel.split("/", 1)[0] if "/" in rel else ""
    stem = path.name.rsplit(".", 1)[0]
    filename = folder.rsplit("/", 1)[-1] if stem == "index" and folder else stem
    title = str(meta.get("title") or "")
    slug = str(meta.get("slug") or "").strip() or filename
    url = meta.get("url")
    if isinstance(url, str) and url.strip():
        old = url.strip().lstrip("/")
    elif section and section in permalinks:
        when = read_when(meta.get("date")) or read_when(meta.get("publishdate"))
        old = sanitize_path(_fill(permalinks[section], meta, when, section, slug, filename, title))
    else:
        parent = (folder.rsplit("/", 1)[0] if "/" in folder else "") if stem == "index" else folder
        last = str(meta.get("slug") or "").strip() or filename
        old = sanitize_path(f"{parent}/{last}" if parent else last)
        old = old + (".html" if ugly else "/")
    if lower:
        old, slug = old.lower(), slug.lower()
    is_page = not section or section in ("page", "pages", "about")
    doc_folder = sanitize_path(folder.lower() if lower else folder) if in_bundle else ""  # where Hugo published it and its images
    return _Doc(path, shown, rel, text, slug, re.sub(r"/{2,}", "/", old).lstrip("/"), doc_folder, is_page)


def _fill(pattern: str, meta: Mapping[str, Any], when: Any, section: str, slug: str, filename: str, title: str) -> str:
    when = when or dt.date(1970, 1, 1)
    values = {
        "year": f"{when.year:04d}", "month": f"{when.month:02d}", "day": f"{when.day:02d}",
        "monthname": when.strftime("%B"), "yearday": str(when.timetuple().tm_yday), "weekday": str(when.isoweekday() % 7),
        "section": section, "sections": section, "title": urlize(title) or filename,
        "slug": str(meta.get("slug") or "").strip() or urlize(title) or filename, "filename": filename,
        "contentbasename": filename, "slugorfilename": str(meta.get("slug") or "").strip() or filename,
        "slugorcontentbasename": str(meta.get("slug") or "").strip() or filename,
    }
    return re.sub(r":(\w+)", lambda m: values.get(m[1], m[0]), pattern)


def translate_permalink(pattern: str, section: str) -> str | None:
    """A section's Hugo permalink as our `permalinks.article`, when it can be one."""
    names = {":year": "{year}", ":month": "{month}", ":day": "{day}", ":slug": "{slug}", ":filename": "{slug}",
             ":slugorfilename": "{slug}", ":contentbasename": "{slug}", ":slugorcontentbasename": "{slug}",
             ":title": "{slug}", ":section": section}
    if not pattern:
        ours = f"{section}/{{slug}}/"
    else:
        ours = re.sub(r":\w+", lambda m: names.get(m[0], m[0]), pattern)
    ours = re.sub(r"/{2,}", "/", ours).lstrip("/")
    if ":" in ours or permalink_problem(ours) is not None:
        return None
    return ours


def _dated(doc: _Doc) -> bool:
    meta = doc.text.meta
    return any(read_when(meta.get(key)) is not None for key in ("date", "publishdate", "pubdate"))


def _main_section(docs: list[_Doc]) -> str:
    counts: dict[str, int] = {}
    for doc in docs:
        if not doc.is_page and "/" in doc.rel:
            section = doc.rel.split("/", 1)[0]
            counts[section] = counts.get(section, 0) + 1
    return max(sorted(counts), key=lambda s: counts[s]) if counts else ""


def _addresses(docs: list[_Doc]) -> dict[str, str]:
    """Old site paths by the names `ref` and `relref` use: the path under content/, and the file name."""
    found: dict[str, str] = {}
    for doc in docs:
        rel = doc.rel.lower()  # Hugo lowers every page's path, and finds `ref` targets by it
        found.setdefault(rel, doc.old_path)
        found.setdefault(rel.rsplit("/", 1)[-1], doc.old_path)
        if rel.endswith(("/index.md", "/index.markdown")):
            found.setdefault(rel.rsplit("/", 1)[0], doc.old_path)
            found.setdefault(rel.rsplit("/", 2)[-2], doc.old_path)
    return found


def _taxonomies(config: Mapping[str, Any]) -> frozenset[str]:
    """The site's taxonomies by their plural (`[taxonomies] series = "series"`), tags and
    categories when it declares none: each is a set of our tags."""
    declared = config.get("taxonomies")
    if not isinstance(declared, Mapping):
        return DEFAULT_TAXONOMIES
    return frozenset(str(plural).lower() for plural in declared.values() if isinstance(plural, str))


def _convert(doc: _Doc, addresses: Mapping[str, str], taxonomies: frozenset[str]) -> SourceDoc:
    notes = Notes(doc.shown)
    body = convert_shortcodes(doc.text.body, doc.text.body_line, addresses, notes, taxonomies)
    if doc.path.suffix.lower() in (".html", ".htm"):
        body = html_to_markdown(body, notes, doc.text.body_line)
    else:
        body = renumber_headings(normalize_lists(map_prose(body, markdown_inside_html)))
    body = _TAXONOMY_LINK.sub(r"\1/tags/", body)  # Hugo's category and tag pages are our tag pages
    meta = dict(doc.text.meta)
    if meta.get("draft") is None and meta.get("status") == "draft":
        meta["draft"] = True
    terms = [meta.get(name) for name in sorted(taxonomies - DEFAULT_TAXONOMIES) if meta.get(name)]
    if terms:  # another taxonomy's terms (a theme's `series`) are tags of ours too
        meta["tags"] = [*read_names([meta.get("tags")]), *read_names(terms)]
    return SourceDoc(
        source=doc.shown, meta=meta, lines=doc.text.lines, body=body, slug=doc.slug, old_path=doc.old_path,
        is_page=doc.is_page, folder=doc.folder, notes=tuple(notes.items),
    )


_BLOCK_OPENING = re.compile(r"^<(div|section|article|aside|details|figure|main|header|footer|nav|center)\b([^<>]*)>\s*$", re.I)


def markdown_inside_html(text: str) -> str:
    """Hugo's Markdown (CommonMark) ends an HTML block at a blank line, so Markdown written after
    one inside a `<div>` is read as Markdown; ours keeps the block open to its `</div>` and
    shows that Markdown as typed. Such a block is marked `markdown="1"`, which makes ours read
    its inside as Markdown too."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        opening = _BLOCK_OPENING.match(line)
        if opening is None or "markdown=" in opening[2].lower():
            continue
        tag, depth, blank = opening[1].lower(), 1, False
        for later in lines[index + 1:]:
            depth += len(re.findall(rf"<{tag}\b", later, re.I)) - len(re.findall(rf"</{tag}\s*>", later, re.I))
            if depth <= 0:
                break
            blank = blank or not later.strip()
        if depth <= 0 and blank:
            lines[index] = line.rstrip()[:-1].rstrip() + ' markdown="1">'
    return "\n".join(lines)


def convert_shortcodes(body: str, first_line: int, addresses: Mapping[str, str], notes: Notes,
                       taxonomies: frozenset[str] = DEFAULT_TAXONOMIES) -> str:
    """Shortcodes with a Markdown equivalent become it; others stay as written, reported."""
    out: list[str] = []
    position = 0
    kept: list[str] = []  # unknown shortcodes left open, so their ends are not reported again
    while (match := _SHORTCODE.search(body, position)) is not None:
        out.append(body[position:match.start()])
        position = match.end()
        line = line_of(body, match.start(), first_line)
        if match[2] is not None:  # {{</* x */>}}: Hugo's way to show a shortcode as written
            out.append("{{" + match[1] + " " + match[2].strip() + " " + (">" if match[1] == "<" else "%") + "}}")
            continue
        closing, name, raw_args = match[4], match[5], match[6].strip()
        end = re.compile(r"\{\{[<%]\s*/\s*" + re.escape(name) + r"\s*[>%]\}\}")
        if closing:
            out.append(match[0])
            if name in kept:
                kept.remove(name)
            else:
                notes.add(line, f"shortcode end '{match[0]}' without its start; kept as written")
            continue
        args = _arguments(raw_args)
        inner = ""
        if name in PAIRED and (closed := end.search(body, position)) is not None:
            inner = body[position:closed.start()]
            position = closed.end()
        converted = _shortcode(name, args, inner, addresses, taxonomies)
        if converted is None and end.search(body, position):
            kept.append(name)
        if converted is None:
            shown = " ".join(match[0].split())
            notes.add(line, f"Hugo shortcode '{shown[:80]}' kept as written: syndicate runs no shortcodes; replace it by hand")
            out.append(match[0])
        else:
            out.append(converted)
    out.append(body[position:])
    return "".join(out)


def _arguments(text: str) -> dict[str, str]:
    """Shortcode arguments: named (`src="a.png"`) and positional (by index, "0", "1")."""
    try:
        words = shlex.split(text.replace("\n", " "), posix=True)
    except ValueError:
        words = text.split()
    found: dict[str, str] = {}
    position = 0
    for word in words:
        key, equals, value = word.partition("=")
        if equals and re.fullmatch(r"[\w-]+", key):
            found[key.lower()] = value
        else:
            found[str(position)] = word
            position += 1
    return found


def _shortcode(name: str, args: Mapping[str, str], inner: str, addresses: Mapping[str, str],
               taxonomies: frozenset[str]) -> str | None:
    if name in ("ref", "relref"):
        target = args.get("0") or args.get("path") or ""
        path, _, anchor = target.partition("#")
        path = path.strip("/")  # `ref "page/#section"` names the page as `ref "page"` does
        if not path:
            return f"#{anchor}" if anchor else None
        taxonomy, _, term = path.partition("/")
        if taxonomy in taxonomies and "/" not in term:
            return f"/tags/{slugify(term)}/" if term else "/tags/"  # Hugo's term pages are our tag pages
        found = addresses.get(path.lower())
        if found is None:
            found = addresses.get(path.rsplit("/", 1)[-1].lower())
        if found is None:
            return None
        return "/" + found + (f"#{anchor}" if anchor else "")
    if name == "figure":
        src = args.get("src", "")
        if not src:
            return None
        caption = args.get("caption") or args.get("title") or ""
        alt = args.get("alt") or re.sub(r"<[^>]+>", "", caption)
        image = f"![{escape_text(alt)}]({src})"
        if args.get("link"):
            image = f"[{image}]({args['link']})"
        return image + (f"\n\n*{escape_text(re.sub(r'<[^>]+>', '', caption))}*" if caption else "")
    if name in ("rawhtml", "html", "raw", "safehtml"):
        return inner.strip("\n")  # HTML passed through as written, which Markdown does too
    if name == "highlight":
        language = args.get("0", "")
        fence = "~~~" if "```" in inner else "```"
        return f"{fence}{language}\n{inner.strip(chr(10))}\n{fence}"
    if name in ("youtube", "vimeo"):
        video = args.get("id") or args.get("0") or ""
        if not video:
            return None
        url = f"https://www.youtube.com/watch?v={video}" if name == "youtube" else f"https://vimeo.com/{video}"
        return video_link(url, args.get("title", ""))
    if name == "gist":
        user, gist = args.get("0", ""), args.get("1", "")
        return f"<https://gist.github.com/{user}/{gist}>" if user and gist else None
    return None
