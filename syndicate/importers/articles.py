"""Articles with our front matter: what an importer found, written as `content/<folder>/<slug>.md`.

Every importer ends here, so the front matter is written one way whatever the source: the
spec's keys in the spec's order, every string quoted (a title like `No` or `1.10` must stay
a string), co-authors as a list, and only the keys a stand-alone page accepts on a page.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import SiteError, display_path
from ..model import Original
from ..scaffold import yaml_string
from ..urls import is_safe_slug, slugify
from .common import SiteFolder
from .record import ImportRecord, Outcome, Written, write_owned

MAX_SLUG = 80


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    """One article as an importer found it, ready to be written as `content/<folder>/<slug>.md`."""

    title: str
    date: dt.date | dt.datetime
    author: str  # an id in site.yaml
    body: str  # Markdown
    source: str  # where it came from, as shown in messages and kept in the import record
    tags: tuple[str, ...] = ()
    summary: str = ""
    original: Original | None = None
    slug: str = ""  # default: made from the title
    folder: str = ""  # under content/; "pages" for stand-alone pages
    updated: dt.date | dt.datetime | None = None
    aliases: tuple[str, ...] = ()
    is_draft: bool = False
    coauthors: tuple[str, ...] = ()  # ids of the authors after the first, in the byline's order
    image: str = ""  # lead image: a path under content/ or an absolute URL

    @property
    def is_page(self) -> bool:
        return self.folder.strip("/").split("/")[0] == "pages"

    @property
    def file_slug(self) -> str:
        """The slug, which is also the file's name: `Don't Panic` -> `dont-panic`, not `don-t-panic`.

        Cut at a word boundary after MAX_SLUG characters: a headline-length file name is
        already awkward in a URL, and file systems stop at 255 bytes.
        """
        slug = self.slug or slugify(re.sub(r"(?<=\w)['’](?=\w)", "", self.title))
        if len(slug) > MAX_SLUG:
            slug = slug[:MAX_SLUG + 1].rsplit("-", 1)[0] if "-" in slug[:MAX_SLUG + 1] else slug[:MAX_SLUG]
        return slug

    def relative_path(self) -> str:
        folder = self.folder.strip("/")
        return f"content/{folder + '/' if folder else ''}{self.file_slug}.md"


def render_article(draft: ArticleDraft) -> str:
    """The article file: front matter in the spec's key order, every string quoted.

    A stand-alone page gets only the keys a page accepts (no tags, updated or original).
    """
    page = draft.is_page
    lines = ["---", f"title: {yaml_string(draft.title)}", f"date: {_iso(draft.date)}"]
    if draft.updated is not None and not page:
        lines.append(f"updated: {_iso(draft.updated)}")
    authors = (draft.author, *(a for a in draft.coauthors if a != draft.author))
    lines.append(f"author: {authors[0]}" if len(authors) == 1 else f"author: [{', '.join(authors)}]")
    if draft.tags and not page:
        lines.append("tags: [" + ", ".join(yaml_string(t) for t in draft.tags) + "]")
    if draft.summary:
        lines.append(f"summary: {yaml_string(draft.summary)}")
    if slugify(draft.file_slug) != draft.file_slug:
        lines.append(f"slug: {yaml_string(draft.file_slug)}")  # the file name alone would give a different one
    if draft.image and not page:
        lines.append(f"image: {yaml_string(draft.image)}")
    if draft.aliases:
        lines.append("aliases:")
        lines.extend(f"  - {yaml_string(a)}" for a in draft.aliases)
    if draft.is_draft:
        lines.append("draft: true")
    if draft.original is not None and not page:
        lines.append("original:")
        lines.append(f"  url: {yaml_string(draft.original.url)}")
        if draft.original.site:
            lines.append(f"  site: {yaml_string(draft.original.site)}")
        if draft.original.note:
            lines.append(f"  note: {yaml_string(draft.original.note)}")
    lines.append("---")
    return "\n".join(lines) + "\n" + draft.body.strip() + "\n"


def _iso(value: dt.date | dt.datetime) -> str:
    return value.isoformat()


def write_article(site: SiteFolder, draft: ArticleDraft, record: ImportRecord, *, force: bool = False) -> Written:
    """Write one article unless that would destroy someone's edits; the record is updated."""
    relative = draft.relative_path()
    path = site.root / relative
    text = render_article(draft)
    shown = display_path(path, Path.cwd().absolute())
    if not is_safe_slug(draft.file_slug):
        raise SiteError.one(draft.source, 1, f"title '{draft.title}' gives no usable file name")
    if not path.resolve().is_relative_to(site.content_dir.resolve()):
        raise SiteError.one(draft.source, 1, f"'{relative}' would be written outside content/")
    clash = _same_slug_elsewhere(site.content_dir, draft.file_slug, path)
    if clash is not None:
        where = display_path(clash, Path.cwd().absolute())
        reason = f"{where} already has the slug '{draft.file_slug}'; {shown} not written (two articles cannot share a slug)"
        return Written(path, Outcome.KEPT, reason)
    return write_owned(site.root, relative, text, draft.source, record, force=force)


def _same_slug_elsewhere(content_dir: Path, slug: str, path: Path) -> Path | None:
    """Another article with this slug (its own file, not `path`): the build would refuse both."""
    if not content_dir.is_dir():
        return None
    pages = content_dir / "pages"
    for suffix in (".md", ".markdown"):
        for other in sorted(content_dir.rglob(f"{slug}{suffix}")):
            if other != path and not other.is_relative_to(pages) and not path.is_relative_to(pages):
                return other
    return None
