"""content/**/*.md and *.markdown -> Article and Page; every other file under content/ becomes an Asset.

Reading is cheap and done here, in order; Markdown is expensive and handed to worker
processes, and only for files whose bytes the cache has not seen rendered. Every problem
in every file is collected before anything is raised.
"""

from __future__ import annotations

import marshal
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, NamedTuple

from . import __version__, codec
from .cache import Cache, content_hash, digest
from .errors import Problem, Problems, SiteError, display_path, warning
from .fields import Fields, is_web_url, parse_yaml, strip_controls, suggestion
from .frontmatter import has_front_matter, is_markdown, read_aliases, read_authors, read_tags
from .leftovers import find_template_syntax
from .model import Article, Asset, Author, Body, BuildOptions, Original, Page, Site, Tag, build_time, reading_minutes
from .parallel import parallel_map, progress_bar
from .urls import alias_file, article_path, is_safe_slug, page_file, slugify

if TYPE_CHECKING:
    from .markup import MarkdownRenderer

ARTICLE_KEYS = (
    "title", "date", "author", "tags", "summary", "image", "image_alt", "slug", "draft",
    "syndicate", "original", "updated", "aliases",
)
PAGE_KEYS = ("title", "summary", "slug", "draft", "date", "author", "aliases")
ORIGINAL_KEYS = ("url", "site", "note")
# The body `syndicate new` writes (scaffold.py): an article published with it still in it gets a warning.
PLACEHOLDER = "Write your article here. Remove `draft: true` above when it is ready to publish."
ISSUES_FOLDER = "newsletters/"  # content/newsletters/*.md are newsletter issues, read by issues.py
_FENCE = re.compile(r"^(---|\.\.\.)[ \t]*$")
def _ignored(name: str) -> bool:
    """Hidden files and editors' droppings (backups, swap files, Emacs autosaves)."""
    return name.startswith(".") or name.endswith(("~", ".swp", ".tmp")) or (len(name) > 1 and name[0] == name[-1] == "#")


class SourceFile(NamedTuple):  # a tuple: scanning makes ten thousand on every build, no-change ones included
    path: str  # a plain string: ten thousand Path objects cost a rebuild a tenth of a second
    rel: str  # relative to content/, posix
    shown: str  # as messages name it
    size: int
    mtime_ns: int


@dataclass(frozen=True)  # not slotted: kept in the stored plan, and a __dict__ unpickles in C
class LinkFacts:
    links: tuple[str, ...]
    ids: tuple[str, ...]
    lines: tuple[int, ...] = ()  # the line of the file each link is on


class PackedLinkFacts(Mapping[str, LinkFacts]):
    """Link facts by source, each kept packed (marshal's bytes) until asked for.

    The kept plan (incremental.py) is unpickled whole by every build that patches it, and
    these facts are a quarter of its objects (each heading id is a string of its own: 64,000
    at ten thousand articles), while a patched build asks for those of the few articles it
    read again. Packed, they are one object a source."""

    __slots__ = ("_opened", "_packed")

    def __init__(self, packed: dict[str, bytes], opened: Mapping[str, LinkFacts] | None = None) -> None:
        self._packed = packed
        self._opened = dict(opened or {})

    @classmethod
    def pack(cls, facts: Mapping[str, LinkFacts]) -> PackedLinkFacts:
        if isinstance(facts, PackedLinkFacts):
            return facts
        return cls({source: marshal.dumps((f.links, f.ids, f.lines)) for source, f in facts.items()})

    def replaced(self, changed: Mapping[str, LinkFacts]) -> PackedLinkFacts:
        """These facts with some sources' replaced: the packed ones are shared, not copied."""
        return PackedLinkFacts(self._packed, {**self._opened, **changed})

    def __getitem__(self, source: str) -> LinkFacts:
        found = self._opened.get(source)
        return found if found is not None else LinkFacts(*marshal.loads(self._packed[source]))

    def __iter__(self) -> Iterator[str]:
        yield from self._packed
        yield from (source for source in self._opened if source not in self._packed)

    def __len__(self) -> int:
        return len(self._packed) + sum(source not in self._packed for source in self._opened)

    def __reduce__(self) -> tuple[type[PackedLinkFacts], tuple[dict[str, bytes]]]:
        opened = {source: marshal.dumps((f.links, f.ids, f.lines)) for source, f in self._opened.items()}
        return PackedLinkFacts, ({**self._packed, **opened},)


@dataclass(frozen=True, slots=True)
class Content:
    """Everything the read phase learned. Bodies are not in it: `BodyStore` fetches them."""

    articles: tuple[Article, ...]  # published, newest first
    pages: tuple[Page, ...]
    assets: tuple[Asset, ...]
    body_files: Mapping[str, tuple[str, str]]  # body key -> (path under content/, its folder)
    bodies: Mapping[str, Body]  # rendered this run and kept in memory: only without a cache
    warnings: tuple[Problem, ...]
    scheduled: tuple[Article, ...]  # dated in the future, left out until their time
    links: Mapping[str, LinkFacts]  # by source: what the link check needs, without loading bodies


@dataclass(frozen=True)
class _Parsed:
    """One file after its front matter was read: what is cached by the file's hash."""

    document: Article | Page | None
    body_text: str | None
    source_dir: str
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    links: tuple[str, ...] = ()  # site-root paths the body links to, for the link check
    ids: tuple[str, ...] = ()
    link_lines: tuple[int, ...] = ()  # the line of the file each link is on
    body_line: int = 1  # the line of the file the body starts on
    image_line: int = 1  # the line of the `image:` key

    @property
    def link_facts(self) -> LinkFacts:
        return LinkFacts(self.links, self.ids, self.link_lines)


Entry = _Parsed  # one file read: its document, problems, warnings and link facts


def load_content(
    site: Site, *, include_drafts: bool, now: datetime, cache: Cache, markdown: LazyMarkdown | None = None,
    jobs: int = 0, scanned: tuple[list[SourceFile], list[Asset]] | None = None, progress: bool = False,
) -> Content:
    """Read every file under content/; raises SiteError listing every problem found.

    A file whose size and mtime the cache knows is not even read: its parsed, complete
    entry comes from the cache, and its rendered body only when a page needs it.
    """
    problems = Problems()
    sources, assets = scanned if scanned is not None else scan_content(site, problems)
    has_newsletter = any(s.rel.startswith(ISSUES_FOLDER) for s in sources)
    sources = [s for s in sources if not s.rel.startswith(ISSUES_FOLDER)]
    known = cache.file_hashes()
    entry_keys: dict[str, str] = {}
    unread: list[SourceFile] = []  # known by size and mtime: their entries may be cached
    fresh: list[tuple[SourceFile, bytes, str]] = []
    for source in sources:
        remembered = known.get(source.rel)
        if remembered and remembered[:2] == (source.size, source.mtime_ns):
            entry_keys[source.rel] = _entry_key(site, source, remembered[2])
            unread.append(source)
            continue
        data = _read(source, problems)
        if data is None:
            continue
        file_hash = content_hash(data)
        cache.remember_file(source.rel, source.size, source.mtime_ns, file_hash)
        entry_keys[source.rel] = _entry_key(site, source, file_hash)
        fresh.append((source, data, file_hash))
    cached = cache.get_many("entries", [entry_keys[s.rel] for s in unread])
    parsed: dict[str, _Parsed] = {s.rel: cached[entry_keys[s.rel]] for s in unread if entry_keys[s.rel] in cached}
    for source in unread:
        if source.rel not in parsed:
            data = _read(source, problems)
            if data is not None:
                file_hash = content_hash(data)
                entry_keys[source.rel] = _entry_key(site, source, file_hash)
                fresh.append((source, data, file_hash))

    new, rendered = _parse_and_render(site, fresh, cache, markdown or LazyMarkdown(), jobs, progress)
    parsed.update(new)
    cache.put_many("entries", {entry_keys[rel]: entry for rel, entry in new.items()})
    body_files = {e.document.body_key: (rel, e.source_dir) for rel, e in parsed.items() if e.document}

    warnings: list[Problem] = []
    articles: list[Article] = []
    pages: list[Page] = []
    links: dict[str, LinkFacts] = {}
    image_lines: dict[str, int] = {}
    for rel in sorted(parsed):
        entry = parsed[rel]
        problems.extend(entry.problems)
        warnings.extend(entry.warnings)
        document = entry.document
        if isinstance(document, Article):
            articles.append(document)
            image_lines[document.source] = entry.image_line
        elif isinstance(document, Page):
            pages.append(document)
        if document is not None:
            links[document.source] = entry.link_facts
    _check_duplicates(articles, pages, problems)
    _check_images(articles, assets, image_lines, problems)
    problems.extend(warnings)  # a problem in one file never hides a warning in another
    if problems and not any(entry.document is None and rel.startswith("pages/") for rel, entry in parsed.items()):
        # The menu is checked once the pages are known; with every page read, an article's error hides no menu problem.
        problems.extend(_menu_problems(site, [p for p in pages if include_drafts or not p.is_draft], has_newsletter))
    problems.raise_if_any()

    visible = [a for a in _share_tags(articles) if include_drafts or not a.is_draft]
    # A preview shows future-dated articles too, marked as drafts: the site will not, yet.
    published = [replace(a, is_draft=True) if a.date > now and not a.is_draft else a
                 for a in visible if include_drafts or a.date <= now]
    scheduled = [a for a in visible if a.date > now and not a.is_draft]
    return Content(
        articles=tuple(sort_articles(published)),
        pages=tuple(sorted((p for p in pages if include_drafts or not p.is_draft), key=lambda p: p.slug)),
        assets=tuple(assets),
        body_files=body_files,
        bodies={} if cache.enabled else rendered,
        warnings=tuple(warnings),
        scheduled=tuple(sort_articles(a for a in scheduled if not include_drafts)),
        links=links,
    )


def _menu_problems(site: Site, pages: list[Page], has_newsletter: bool) -> list[Problem]:
    from .pages import resolve_menu

    try:
        resolve_menu(site, pages, has_newsletter=has_newsletter)
    except SiteError as exc:
        return list(exc.problems)
    return []


def _share_tags(articles: list[Article]) -> list[Article]:
    """The articles with one object for each tag, list of tags and list of authors. Each
    file's entry comes out of the cache with its own, equal but not the same: the kept plan
    (incremental.py) would pickle, and every patching build unpickle, 45,000 of them at ten
    thousand articles, more than a third of the articles' load."""
    tags: dict[Tag, Tag] = {}
    tag_lists: dict[tuple[Tag, ...], tuple[Tag, ...]] = {}
    author_lists: dict[tuple[Author, ...], tuple[Author, ...]] = {}
    out = []
    for article in articles:
        shared = tag_lists.setdefault(article.tags, tuple(tags.setdefault(tag, tag) for tag in article.tags))
        credit = author_lists.setdefault(article.authors, article.authors)
        if shared is article.tags and credit is article.authors:
            out.append(article)
        else:
            out.append(replace(article, tags=shared, authors=credit))
    return out


def problems_beside_settings(site_file: Path | str, options: BuildOptions) -> list[Problem]:
    """The content's own problems and warnings, for a run stopped by errors in site.yaml: one
    report holds them all. Only when site.yaml names its authors (else every article would be
    reported for its author), and never anything from the cache."""
    from .config import load_site
    from .issues import is_issue, issue_problems

    try:
        site = load_site(site_file, lenient=True)
    except SiteError:
        return []
    if not site.authors:
        return []
    problems = Problems()
    sources, assets = scan_content(site, problems)
    # The issues' own problems too, when site.yaml's newsletter section could be read.
    issues = issue_problems(site, sources, options.include_drafts) if site.newsletter else []
    try:
        content = load_content(site, include_drafts=options.include_drafts, now=build_time(options),
                               cache=Cache(None, None, site.authors), jobs=1, scanned=(sources, assets))
    except SiteError as exc:
        return [*problems.items, *exc.problems, *issues]
    menu = _menu_problems(site, list(content.pages), any(is_issue(s) for s in sources))
    return [*problems.items, *menu, *issues, *content.warnings]


def read_entries(site: Site, sources: Sequence[SourceFile], cache: Cache,
                 markdown: LazyMarkdown) -> tuple[dict[str, Entry], dict[str, Body]] | None:
    """These files read again, by path under content/, with the bodies rendered for them;
    None when one cannot be read. For the patched plans of incremental.py."""
    problems = Problems()
    fresh: list[tuple[SourceFile, bytes, str]] = []
    for source in sources:
        data = _read(source, problems)
        if data is None:
            return None
        fresh.append((source, data, content_hash(data)))
    entries, rendered = _parse_and_render(site, fresh, cache, markdown, 1, False)
    for source, _data, file_hash in fresh:
        cache.remember_file(source.rel, source.size, source.mtime_ns, file_hash)
    cache.put_many("entries", {_entry_key(site, s, h): entries[s.rel] for s, _d, h in fresh if not entries[s.rel].problems})
    return entries, rendered


class LazyMarkdown:
    """The build's Markdown renderer, made on first use: a build that renders no body never
    imports Python-Markdown. Made before workers fork, it is the one they all inherit."""

    def __init__(self) -> None:
        self._renderer: MarkdownRenderer | None = None

    def renderer(self) -> MarkdownRenderer:
        if self._renderer is None:
            from .markup import MarkdownRenderer

            self._renderer = MarkdownRenderer()
        return self._renderer

    def prepare(self) -> None:
        """Make the renderer and its converter now, so that workers forked next share them."""
        self.renderer().converter()

    def render(self, text: str, source_dir: PurePosixPath) -> Body:
        return self.renderer().render(text, source_dir)


class BodyStore(Mapping[str, Body]):
    """Rendered bodies by key: this run's in memory, earlier runs' fetched from the cache.

    Only the pages being rendered ask for bodies, so an incremental build of ten thousand
    articles loads a handful. `prefetch` fills memory before worker processes fork, so the
    workers never touch the cache's database. A body the cache lost is rendered again.
    """

    def __init__(self, content: Content, cache: Cache, markdown: LazyMarkdown, content_dir: Path) -> None:
        # With a cache, bodies live there and each render fetches its own: ten thousand of
        # them in memory would be most of a cold build's peak.
        self._bodies = dict(content.bodies)
        self._cache = cache
        self._markdown = markdown
        self.files = content.body_files
        self._content_dir = content_dir

    def prefetch(self, keys: Iterable[str]) -> None:
        """Fetch a few bodies in one query; many are left to the workers that render them."""
        wanted = [k for k in dict.fromkeys(keys) if k not in self._bodies]
        if len(wanted) <= 200:
            self._bodies.update(self._cache.get_many("bodies", wanted))

    def __getitem__(self, key: str) -> Body:
        body = self._bodies.get(key)
        if body is not None:
            return body
        body = self._cache.get("bodies", key) if self._cache.enabled else None
        if body is None:
            if key not in self.files:
                raise KeyError(key)
            rel, source_dir = self.files[key]
            path = self._content_dir / rel
            split = split_front_matter(normalize_text(path.read_bytes().decode("utf-8-sig")), str(path))
            body = self._markdown.render(split[1] if not isinstance(split, Problem) else "", PurePosixPath(source_dir))
            self._cache.put_many("bodies", {key: body})
        return body

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


def sort_articles(articles: Iterator[Article] | list[Article]) -> list[Article]:
    """Newest first, then by slug: the one order every listing and feed uses."""
    return sorted(sorted(articles, key=lambda a: a.slug), key=lambda a: a.date, reverse=True)


def scan_content(site: Site, problems: Problems) -> tuple[list[SourceFile], list[Asset]]:
    """Walk content/ in a stable order; symlinks that lead outside it are refused.

    Runs on every build, rebuilds with nothing to do included, so it sticks to scandir and
    string paths: ten thousand files take a few tens of milliseconds.
    """
    root = site.content_dir
    if not root.is_dir():
        problems.add(site.source, 1, "no content/ folder beside site.yaml (create it and add articles)")
        return [], []
    resolved_root = root.resolve()
    shown_root = display_path(root, site.root)
    sources: list[SourceFile] = []
    assets: list[Asset] = []
    pending = [""]
    while pending:
        prefix = pending.pop()
        try:
            entries = sorted(os.scandir(root / prefix if prefix else root), key=lambda e: e.name)
        except OSError as exc:
            problems.add(f"{shown_root}/{prefix}".rstrip("/"), 1, f"cannot read folder: {exc.strerror}")
            continue
        for entry in entries:
            name = entry.name
            if _ignored(name):
                continue
            rel = prefix + name
            shown = f"{shown_root}/{rel}"
            if entry.is_symlink():
                try:
                    target = Path(entry.path).resolve(strict=True)
                except (OSError, RuntimeError):  # a loop, or a link to nothing
                    problems.add(shown, 1, "symlink leads nowhere (a loop, or its target is missing)")
                    continue
                if not target.is_relative_to(resolved_root):
                    what = "files" if target.is_dir() else "file"
                    problems.add(shown, 1, f"symlink points outside content/; copy the {what} in instead")
                    continue
                if target.is_dir():
                    problems.add(shown, 1, "symlinked folders are not followed; use a real folder")
                    continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(rel + "/")
                continue
            try:
                info = entry.stat()
            except OSError as exc:
                problems.add(shown, 1, f"cannot read file: {exc.strerror}")
                continue
            if not stat.S_ISREG(info.st_mode):  # a FIFO would block the build forever on open()
                problems.add(shown, 1, "not a regular file (a pipe, socket or device); remove it from content/")
                continue
            if is_markdown(name) or has_front_matter(entry.path, name):
                sources.append(SourceFile(entry.path, rel, shown, info.st_size, info.st_mtime_ns))
            else:
                assets.append(Asset(Path(entry.path), rel, info.st_size, info.st_mtime_ns))
    sources.sort(key=lambda s: s.rel)
    assets.sort(key=lambda a: a.path)
    return sources, assets


def _read(source: SourceFile, problems: Problems) -> bytes | None:
    try:
        with open(source.path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        problems.add(source.shown, 1, f"cannot read file: {exc.strerror}")
        return None


def normalize_text(text: str) -> str:
    """Unix line ends, no control characters, and composed accents (NFC: an "É" typed as E
    and a combining accent is the same tag, slug and word as the usual "É"): how every
    Markdown file is read, always."""
    text = strip_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def split_front_matter(text: str, shown: str) -> tuple[str, str, int] | Problem:
    """(front matter, body, line of the body's first line) or the problem that prevents it.

    A file must open with a line `---`, and the block must be closed by `---` (or `...`):
    anything else is an error, never silently treated as body text.
    """
    lines = text.split("\n")
    if not text.strip():
        return Problem(shown, 1, "empty file: an article starts with front matter between '---' lines")
    if not _FENCE.match(lines[0]) or lines[0].startswith("..."):
        return Problem(shown, 1, "no front matter: the file must start with a line '---', then title, date and author")
    for number, line in enumerate(lines[1:], start=1):
        if _FENCE.match(line):
            return "\n".join(lines[1:number]), "\n".join(lines[number + 1 :]), number + 2
    return Problem(shown, 1, "front matter is not closed: add a line '---' after it")


def _entry_key(site: Site, source: SourceFile, file_hash: str) -> str:
    return digest("entry", file_hash, site.fingerprint, source.rel, __version__)


def body_key(file_hash: str, source_dir: str) -> str:
    """A body depends on the file's bytes and its folder (relative links resolve against it)."""
    from .markup import MARKDOWN_VERSION  # only for files read afresh, which Markdown renders

    return digest("body", file_hash, source_dir, MARKDOWN_VERSION, __version__)


def _folder(source: SourceFile) -> str:
    return PurePosixPath(source.rel).parent.as_posix()


def _parse(site: Site, source: SourceFile, data: bytes, file_hash: str) -> _Parsed:
    source_dir = _folder(source)
    if not is_markdown(source.rel):
        return _Parsed(None, None, source_dir, (), (warning(source.shown, 1, (
            "not copied: this file has front matter but is not an article "
            "(articles are .md or .markdown files); rename it or remove its front matter")),))
    if len(data) > site.max_article_bytes:
        return _failed(source, source_dir, 1, (
            f"file is {len(data):,} bytes, over the limit of {site.max_article_bytes:,} "
            "(raise max_article_bytes in site.yaml if this is intended)"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return _failed(source, source_dir, line, f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8")
    text = normalize_text(text)
    split = split_front_matter(text, source.shown)
    if isinstance(split, Problem):
        return _Parsed(None, None, source_dir, (split,), ())
    front, body_text, body_line = split
    doc = parse_yaml(front, source.shown, line_offset=1)
    if doc.problems and not doc.data:
        return _Parsed(None, None, source_dir, tuple(doc.problems), ())
    fields = Fields(doc)
    is_page = source.rel.startswith("pages/")
    warnings: list[Problem] = []
    known = PAGE_KEYS if is_page else ARTICLE_KEYS
    for key in fields.unknown(known):
        warnings.append(warning(source.shown, doc.line(key), f"unknown front matter key '{key}'{suggestion(key, known)}"))
    default_slug = slugify(PurePosixPath(source.rel).stem)
    slug = fields.text("slug", default=default_slug)
    if not is_safe_slug(slug):
        doc.problem(("slug",), f"slug '{slug}' must be letters, digits, '-', '_' or '.', with no '/' or '..'")
    title = fields.text("title", required=True)
    summary = fields.text("summary")
    is_draft = fields.flag("draft", False)
    key = body_key(file_hash, source_dir)
    document: Article | Page | None
    if is_page:
        document = Page(source.shown, slug, title, key, summary, is_draft, file_hash)
    else:
        document = _article(site, fields, source, slug, title, summary, is_draft, key, file_hash, warnings)
    aliases = read_aliases(fields)
    if not is_draft and PLACEHOLDER in body_text:
        line = body_line + body_text[: body_text.index(PLACEHOLDER)].count("\n")
        warnings.append(warning(source.shown, line, "still has the placeholder text `syndicate new` wrote; write the article"))
    for line, code in find_template_syntax(body_text, body_line):
        warnings.append(warning(source.shown, line, (
            f"template code '{code}' is not run by syndicate and would show as text; "
            "rewrite it in Markdown, or put it in a code block to show it as code")))
    if doc.problems:
        return _Parsed(None, None, source_dir, tuple(doc.problems), tuple(warnings))
    if document is not None and aliases:
        own = page_file(document.path)
        for alias in aliases:
            if alias_file(alias) == own:
                warnings.append(warning(source.shown, doc.line("aliases"), (
                    f"alias '/{alias}' is this page's own address; remove it")))
        kept = tuple(alias for alias in aliases if alias_file(alias) != own)
        document = replace(document, aliases=kept, aliases_line=doc.line("aliases"))
    return _Parsed(document, body_text, source_dir, (), tuple(warnings), body_line=body_line, image_line=doc.line("image"))


def _article(
    site: Site, fields: Fields, source: SourceFile, slug: str, title: str, summary: str,
    is_draft: bool, body_key: str, file_hash: str, warnings: list[Problem],
) -> Article | None:
    doc = fields.doc
    date = fields.when("date", site.tz)
    if date is None and "date" not in fields.data:
        doc.problem(("date",), "missing required key 'date' (like 2024-05-01)")
    authors = read_authors(site, fields)
    tags: dict[str, Tag] = {}
    for name in read_tags(fields):
        tag_slug = slugify(name)
        if not tag_slug:
            doc.problem(("tags",), f"tag '{name}' has no letters or digits")
            continue
        tags.setdefault(tag_slug, Tag(tag_slug, name))
    image = fields.text("image")
    if image and not is_web_url(image):
        if "://" in image or image.startswith(("//", "data:", "javascript:")):
            doc.problem(("image",), f"image '{image}' must be a path under content/ or an http(s) URL")
        else:
            image = "/" + image.lstrip("/")
    original = None
    section = fields.mapping("original")
    if section is not None:
        for line, message in section.unknown_keys(ORIGINAL_KEYS):
            warnings.append(warning(source.shown, line, message))
        original = Original(section.web_url("url", required=True), section.text("site"), section.text("note"))
    updated = fields.when("updated", site.tz)
    syndicate = fields.flag("syndicate", True)
    if doc.problems or date is None or not authors:
        return None
    without = [author.id for author in authors if author.reprint is None]
    if fields.data.get("syndicate") is True and without:
        warnings.append(warning(source.shown, doc.line("syndicate"), (
            f"syndicate is true but author '{without[0]}' has no reprint statement, so no copies are made")))
    shown_tags = [(tag.slug, tag.name) for tag in tags.values()]  # spelled and ordered as the article gives them
    author_ids = [author.id for author in authors]
    meta_hash = digest("meta", repr((title, date.isoformat(), author_ids, shown_tags, summary, image, slug, is_draft,
                                     updated.isoformat() if updated else "")))
    return Article(
        source=source.shown, slug=slug, title=title, date=date, authors=authors, body_key=body_key,
        summary=summary, word_count=0, path=article_path(site.permalinks.article, slug, date.astimezone(site.tz)),
        tags=tuple(tags.values()), image=image,
        image_alt=fields.text("image_alt"), is_draft=is_draft, syndicate=syndicate,
        original=original, updated=updated, source_hash=file_hash, meta_hash=meta_hash,
    )


def _failed(source: SourceFile, source_dir: str, line: int, message: str) -> _Parsed:
    return _Parsed(None, None, source_dir, (Problem(source.shown, line, message),), ())


@dataclass(frozen=True, slots=True)
class _Reader:
    """What a worker needs to read a file: handed to every worker as the map's context."""

    site: Site
    markdown: LazyMarkdown


def _parse_job(reader: _Reader, item: tuple[SourceFile, bytes, str, bool]) -> tuple[_Parsed, Body | None, bytes | None]:
    """One file in a worker: its front matter, then its Markdown unless the cache has the body.

    The rendered body comes back encoded once, ready for the cache as it is, with its small
    facts beside it: the parent never decodes a page of HTML only to encode it again."""
    source, data, file_hash, render = item
    entry = _parse(reader.site, source, data, file_hash)
    if not render or entry.document is None:
        return replace(entry, body_text=None), None, None
    from .markup import MarkupError  # loaded with the renderer: a build that renders nothing never imports Markdown

    try:
        body = reader.markdown.render(entry.body_text or "", PurePosixPath(entry.source_dir))
    except MarkupError as exc:
        return _failed(source, entry.source_dir, entry.body_line + exc.line - 1, exc.message), None, None
    return replace(entry, body_text=None), replace(body, html=""), codec.encode(body)


def _parse_and_render(site: Site, fresh: list[tuple[SourceFile, bytes, str]], cache: Cache, markdown: LazyMarkdown,
                      jobs: int, progress: bool) -> tuple[dict[str, _Parsed], dict[str, Body]]:
    """Parse files the cache has no entry for, and render the bodies it has not seen, in parallel.

    With a cache, each rendered body goes straight into it and only its facts (summary,
    length, links) stay in memory: a cold build of ten thousand articles would otherwise
    hold every page of HTML at once. Without one, the bodies are kept for the renderers.
    """
    keys = {source.rel: body_key(file_hash, _folder(source)) for source, _data, file_hash in fresh}
    facts: dict[str, Body] = cache.get_many("facts", list(dict.fromkeys(keys.values())))
    bodies: dict[str, Body] = dict(facts)
    new_facts: dict[str, Body] = {}  # only these need storing: the others came from the cache
    parsed: dict[str, _Parsed] = {}
    batch: dict[str, bytes] = {}
    items = [(source, data, file_hash, keys[source.rel] not in facts) for source, data, file_hash in fresh]
    order = iter(items)
    with progress_bar(len(items) if progress else 0, "reading") as step:

        def keep(result: tuple[_Parsed, Body | None, bytes | None]) -> None:
            entry, body_facts, encoded = result
            rel = next(order)[0].rel
            if body_facts is not None and encoded is not None:
                key = keys[rel]
                if cache.enabled:
                    bodies[key] = new_facts[key] = body_facts
                    batch[key] = encoded
                    if len(batch) >= 200:
                        cache.put_raw("bodies", batch)
                        batch.clear()
                else:
                    bodies[key] = codec.decode(encoded)
            parsed[rel] = entry
            step(result)

        if any(item[3] for item in items):
            markdown.prepare()
        parallel_map(_parse_job, _Reader(site, markdown), items, jobs, keep, collect=False)
    cache.put_raw("bodies", batch)
    cache.put_many("facts", new_facts)
    tag_objects: dict[Tag, Tag] = {}
    return {rel: _complete(site, entry, bodies, tag_objects) for rel, entry in parsed.items()}, bodies


def _complete(site: Site, entry: _Parsed, bodies: Mapping[str, Body], tag_objects: dict[Tag, Tag]) -> _Parsed:
    """Fold what the body tells into the entry: a summary the author did not write, the length."""
    document = entry.document
    if document is None:
        return entry
    body = bodies[document.body_key]
    if isinstance(document, Article):
        # A summary cut with <!--more--> is the author's choice of length: never clipped.
        summary = document.summary or (body.first_paragraph if body.summary_cut else _clip(body.first_paragraph, 300))
        # Listing pages show the summary and the reading time, which may come from the body.
        meta_hash = digest(document.meta_hash, summary, str(reading_minutes(body.word_count)))
        # A worker's copy of each author becomes site.yaml's own, and each tag one object for the
        # whole site: ten thousand articles hold (and the stored plan keeps) a few objects, not 30,000.
        authors = tuple(own if (own := site.authors.get(a.id)) == a else a for a in document.authors)
        tags = tuple(tag_objects.setdefault(tag, tag) for tag in document.tags)
        document = replace(document, summary=summary, word_count=body.word_count, meta_hash=meta_hash,
                           authors=authors, tags=tags)
    elif not document.summary:
        document = replace(document, summary=_clip(body.first_paragraph, 200))
    shift = entry.body_line - 1  # body lines count from the body's first line; messages, from the file's
    notes = tuple(warning(document.source, shift + max(1, line), message) for line, message in body.notes)
    return replace(entry, document=document, links=body.links, ids=body.ids, warnings=entry.warnings + notes,
                   link_lines=tuple(shift + max(1, line) for line in body.link_lines))


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _check_duplicates(articles: list[Article], pages: list[Page], problems: Problems) -> None:
    """Slugs name an article's copies and pages' folders, so each is used once per kind; and
    no two documents may land on one site path (an article's permalink and a page's)."""
    slugs: dict[tuple[str, str], str] = {}
    paths: dict[str, Article | Page] = {}
    documents: list[Article | Page] = [*articles, *pages]
    for doc in documents:
        kind = "article" if isinstance(doc, Article) else "page"
        if (kind, doc.slug) in slugs:
            problems.add(doc.source, 1, f"duplicate slug '{doc.slug}': also used by {slugs[kind, doc.slug]}")
            continue
        slugs[kind, doc.slug] = doc.source
        other = paths.setdefault(doc.path, doc)
        if other is not doc:
            problems.add(doc.source, 1, f"its page '{doc.path}' is also the page of {other.source}; change one slug or the permalink pattern")


def _check_images(articles: list[Article], assets: list[Asset], lines: Mapping[str, int], problems: Problems) -> None:
    paths = {"/" + a.path for a in assets}
    for article in articles:
        if article.image.startswith("/") and article.image not in paths:
            problems.add(article.source, lines.get(article.source, 1), f"image '{article.image.lstrip('/')}' not found under content/")


