"""What every importer shares: the target site, its authors, the articles it writes, the report.

An import works on a site folder that a person also edits by hand, so everything here is
careful with their work: site.yaml is edited through a round-trip parser that keeps its
text, order and comments; an article file is only ever replaced when the import record
shows it is exactly what an earlier import wrote (`--force` overrides); and whatever needs
a human decision goes to `import-report.md` as `source:line: message` lines instead of
being guessed silently.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, FoldedScalarString, LiteralScalarString

from ..errors import Problem, SiteError, display_path
from ..fields import strip_controls
from ..model import Original, Reprint
from ..scaffold import yaml_string
from ..urls import is_safe_slug, slugify

RECORD_NAME = ".syndicate-import.json"
REPORT_NAME = "import-report.md"
PLACEHOLDER_URL = "https://example.org/"
MAX_SLUG = 80


def author_id_for(name: str) -> str:
    """An id site.yaml accepts, made from a display name: `Ron Kaufman` -> `ron-kaufman`.

    Accents are folded to ASCII (`Zoë Núñez` -> `zoe-nunez`) because author ids end up in
    URLs (`authors/<id>/`) and in front matter typed by hand.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def clean_text(text: str) -> str:
    """One line of text: control characters gone, runs of white space folded to one space."""
    return " ".join(strip_controls(text).split())


# ---------------------------------------------------------------------------------------
# The site folder and its site.yaml


class SiteFolder:
    """The folder being imported into, and its site.yaml held as an editable round-trip tree.

    Nothing is written until `save()`; a site.yaml that did not exist is created then (the
    folder was new or empty), so a run that imports nothing leaves no trace.
    """

    def __init__(self, root: Path, text: str | None) -> None:
        self.root = root
        self.site_file = root / "site.yaml"
        self.created = text is None
        self._yaml = _round_trip_yaml(text or "")
        self._original = text
        try:
            data = self._yaml.load(text) if text else None
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            reason = getattr(exc, "problem", None) or exc
            raise SiteError.one(self.shown, line, f"site.yaml is not valid YAML ({reason}); fix it before importing") from None
        if data is None:
            data = CommentedMap()
            data["title"] = DoubleQuotedScalarString(_title_from(root))
            data["url"] = DoubleQuotedScalarString(PLACEHOLDER_URL)
            data.yaml_add_eol_comment("placeholder: the address where this site will be published", "url")
        if not isinstance(data, CommentedMap):
            raise SiteError.one(self.shown, 1, "site.yaml must be a mapping of settings (title, url, authors)")
        authors = data.get("authors")
        if authors is None:
            data["authors"] = authors = CommentedMap()
        if not isinstance(authors, CommentedMap):
            raise SiteError.one(self.shown, _line_of(data, "authors"), "'authors' must be a mapping of author ids")
        self._data = data
        self.changed = self.created

    @classmethod
    def open(cls, into: Path) -> SiteFolder:
        """The site in `into`, or a new one when `into` is new or empty (hidden files aside)."""
        root = into.absolute()
        site_file = root / "site.yaml"
        if site_file.is_file():
            try:
                return cls(root, site_file.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError) as exc:
                raise SiteError.one(str(site_file), 1, f"cannot read site.yaml: {exc}") from None
        if root.exists() and not root.is_dir():
            raise SiteError.one(str(into), 1, "exists and is not a folder; import into a site folder or a new one")
        if root.is_dir() and any(not p.name.startswith(".") for p in root.iterdir()):
            raise SiteError.one(str(into), 1, "holds no site.yaml and is not empty; import into a site folder (with site.yaml) or a new or empty one")
        return cls(root, None)

    @property
    def shown(self) -> str:
        return display_path(self.site_file, Path.cwd().absolute())

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def language(self) -> str:
        return str(self._data.get("language") or "en")

    def problem(self, author_id: str, message: str) -> Problem:
        """A report line pointing at an author's entry; the report lives beside site.yaml."""
        return Problem(self.site_file.name, self.author_line(author_id), message)

    def author_line(self, author_id: str) -> int:
        authors = self._data["authors"]
        if author_id in authors:
            return _line_of(authors, author_id)
        return _line_of(self._data, "authors")

    def find_author(self, name_or_id: str) -> str | None:
        """The id of an author already in site.yaml with this id, this name, or this name's id."""
        authors: CommentedMap = self._data["authors"]
        if name_or_id in authors:
            return name_or_id
        wanted = clean_text(name_or_id).casefold()
        for author_id, entry in authors.items():
            if isinstance(entry, Mapping) and clean_text(str(entry.get("name", ""))).casefold() == wanted:
                return str(author_id)
        made = author_id_for(name_or_id)
        return made if made in authors else None

    def author_ids(self) -> list[str]:
        return [str(key) for key in self._data["authors"]]

    def author_name(self, author_id: str) -> str:
        entry = self._data["authors"].get(author_id)
        return str(entry.get("name", author_id)) if isinstance(entry, Mapping) else author_id

    def add_author(self, name: str, url: str = "", bio: str = "") -> str:
        """Add an author under an id made from the name (`-2`, `-3` when taken); returns the id."""
        authors: CommentedMap = self._data["authors"]
        base = author_id_for(name) or "author"
        author_id, number = base, 1
        while author_id in authors:
            number += 1
            author_id = f"{base}-{number}"
        entry = CommentedMap()
        entry["name"] = DoubleQuotedScalarString(clean_text(name))
        if url:
            entry["url"] = DoubleQuotedScalarString(url)
        if bio:
            entry["bio"] = DoubleQuotedScalarString(clean_text(bio))
        _move_trailing_comment(authors, entry)
        authors[author_id] = entry
        self.changed = True
        return author_id

    def reprint_of(self, author_id: str) -> Reprint | None:
        entry = self._data["authors"].get(author_id)
        terms = entry.get("reprint") if isinstance(entry, Mapping) else None
        if not isinstance(terms, Mapping) or not terms.get("statement"):
            return None
        return Reprint(str(terms.get("statement", "")), str(terms.get("preamble", "") or ""), str(terms.get("commercial", "") or ""))

    def offer_reprint(self, author_id: str, reprint: Reprint) -> str:
        """Give the author these terms if they have none: returns "set", "same" or "different".

        Terms an author already has are never replaced: they were written or checked by a
        person, and a page may show an older or shortened version of them.
        """
        current = self.reprint_of(author_id)
        if current is not None:
            return "same" if _same_words(current.statement, reprint.statement) else "different"
        entry = self._data["authors"][author_id]
        terms = CommentedMap()
        if reprint.preamble:
            terms["preamble"] = DoubleQuotedScalarString(reprint.preamble)
        terms["statement"] = LiteralScalarString(reprint.statement.strip() + "\n")
        if reprint.commercial:
            terms["commercial"] = DoubleQuotedScalarString(reprint.commercial)
        _move_trailing_comment(entry, terms)
        entry["reprint"] = terms
        self.changed = True
        return "set"

    def placeholder_problem(self) -> Problem | None:
        """A report line while site.yaml still has the placeholder address an import gave it."""
        if str(self._data.get("url", "")) != PLACEHOLDER_URL or "url" not in self._data:
            return None
        text = self._original or self.render()
        line = next((n for n, row in enumerate(text.splitlines(), 1) if row.startswith("url:")), 1)
        return Problem(self.site_file.name, line, "the site's url is a placeholder; set the address where the site will be published")

    def checkpoint(self) -> tuple[CommentedMap, bool]:
        """The settings as they are now, to go back to if a source ends up not imported."""
        return copy.deepcopy(self._data), self.changed

    def rollback(self, state: tuple[CommentedMap, bool]) -> None:
        self._data, self.changed = copy.deepcopy(state[0]), state[1]

    def render(self) -> str:
        stream = io.StringIO()
        self._yaml.dump(self._data, stream)
        return stream.getvalue()

    def save(self) -> bool:
        """Write site.yaml if anything changed; returns whether it wrote."""
        if not self.changed:
            return False
        self.root.mkdir(parents=True, exist_ok=True)
        text = self.render()
        if text != self._original:
            _write_atomic(self.site_file, text)
        self._original, self.created, self.changed = text, False, False
        return True


def _round_trip_yaml(text: str) -> YAML:
    """A round-trip dumper whose indentation reproduces `text` exactly when it can.

    ruamel.yaml keeps comments, quotes and order, but re-indents everything to one style;
    trying the common styles and keeping the one that gives the file back byte for byte
    keeps a hand-written site.yaml as it was, apart from the lines an import adds.
    """
    fallback = None
    for mapping, sequence, offset in ((2, 2, 0), (2, 4, 2), (4, 4, 0), (4, 6, 4), (2, 4, 0), (4, 4, 2), (3, 3, 0)):
        yaml = YAML()
        yaml.preserve_quotes = True
        yaml.width = 1_000_000
        yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        fallback = fallback or yaml
        if not text:
            return yaml
        try:
            stream = io.StringIO()
            yaml.dump(yaml.load(text), stream)
        except YAMLError:
            return yaml
        if stream.getvalue() == text:
            return yaml
    assert fallback is not None
    return fallback


def _line_of(mapping: CommentedMap, key: str) -> int:
    try:
        return int(mapping.lc.key(key)[0]) + 1
    except (KeyError, AttributeError, TypeError):
        return 1


def _move_trailing_comment(previous: Any, entry: CommentedMap) -> None:
    """Keep the blank lines and comments that followed a mapping after what is appended to it.

    ruamel.yaml hangs them on the deepest last key of `previous`; left there, an appended
    author (or reprint) would come after the blank line, glued to the next section.
    """
    while isinstance(previous, CommentedMap) and previous:
        last = next(reversed(previous))
        value = previous[last]
        if isinstance(value, CommentedMap) and value:
            previous = value
            continue
        slots = previous.ca.items.get(last)
        token = slots[2] if slots and len(slots) > 2 else None
        if token is None or not isinstance(getattr(token, "value", None), str):
            return
        # An end-of-line comment ("name: x  # note") stays; the lines after it move.
        # A block scalar (`|`) ends its own line, so its comment token does not start with one.
        lead = 0 if isinstance(value, (LiteralScalarString, FoldedScalarString)) else 1
        same_line, newline, after = token.value.partition("\n") if token.value.startswith("#") else ("", "", token.value[lead:])
        if not after.strip("\n") and not after.count("\n"):
            return
        if same_line:
            token.value = same_line + newline
        else:
            previous.ca.items.pop(last)
        target: CommentedMap = entry
        while True:
            tail = next(reversed(target))
            if isinstance(target[tail], CommentedMap) and target[tail]:
                target = target[tail]
            else:
                break
        moved = copy.copy(token)
        moved.value = ("" if isinstance(target[tail], (LiteralScalarString, FoldedScalarString)) else "\n") + after
        target.ca.items[tail] = [None, None, moved, None]
        return


def _same_words(left: str, right: str) -> bool:
    return " ".join(left.split()).casefold() == " ".join(right.split()).casefold()


def _title_from(folder: Path) -> str:
    words = folder.name.replace("-", " ").replace("_", " ").split()
    return " ".join(w[:1].upper() + w[1:] for w in words) or "Imported Articles"


# ---------------------------------------------------------------------------------------
# Articles with our front matter


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
    """The article file: front matter in the spec's key order, every string quoted."""
    lines = ["---", f"title: {yaml_string(draft.title)}", f"date: {_iso(draft.date)}"]
    if draft.updated is not None:
        lines.append(f"updated: {_iso(draft.updated)}")
    lines.append(f"author: {draft.author}")
    if draft.tags:
        lines.append("tags: [" + ", ".join(yaml_string(t) for t in draft.tags) + "]")
    if draft.summary:
        lines.append(f"summary: {yaml_string(draft.summary)}")
    if draft.aliases:
        lines.append("aliases:")
        lines.extend(f"  - {yaml_string(a)}" for a in draft.aliases)
    if draft.is_draft:
        lines.append("draft: true")
    if draft.original is not None:
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


class Outcome(Enum):
    CREATED = "created"
    UPDATED = "updated"  # the source changed and the file was still as the last import wrote it
    UNCHANGED = "unchanged"
    OVERWRITTEN = "overwritten"  # edited by hand, replaced because of --force
    KEPT = "kept"  # edited by hand (or not ours): left alone

    @property
    def imported(self) -> bool:
        return self is not Outcome.KEPT


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    outcome: Outcome
    reason: str = ""  # why a file was kept, as one report line


@dataclass
class ImportRecord:
    """What each import last wrote, by path: the source and a hash of the file's text.

    A file whose text still has the recorded hash is the import's own and may be replaced
    by a newer import of the same source; any other existing file is someone's work.
    Saved as `.syndicate-import.json` beside site.yaml: commit it with the site.
    """

    path: Path
    files: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path) -> ImportRecord:
        path = root / RECORD_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:
            raise SiteError.one(str(path), 1, f"cannot read the import record ({exc}); delete it to start afresh") from None
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, dict):
            raise SiteError.one(str(path), 1, "the import record has no 'files' mapping; delete it to start afresh")
        return cls(path, {str(k): dict(v) for k, v in files.items() if isinstance(v, dict)})

    def remember(self, relative: str, source: str, text: str) -> None:
        self.files[relative] = {"source": source, "sha256": _sha256(text)}

    def save(self) -> None:
        if not self.files and not self.path.exists():
            return
        text = json.dumps({"files": self.files, "version": 1}, indent=2, sort_keys=True) + "\n"
        _write_atomic(self.path, text)


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
    if not path.exists():
        _write_atomic(path, text)
        record.remember(relative, draft.source, text)
        return Written(path, Outcome.CREATED)
    current = path.read_text(encoding="utf-8", errors="replace")
    known = record.files.get(relative)
    if current == text:
        record.remember(relative, draft.source, text)
        return Written(path, Outcome.UNCHANGED)
    ours = known is not None and known.get("sha256") == _sha256(current) and known.get("source") == draft.source
    if not ours and not force:
        if known is None:
            why = "exists and was not written by an import"
        elif known.get("source") != draft.source:
            why = f"was imported from {known.get('source')}"
        else:
            why = "was edited since the last import"
        return Written(path, Outcome.KEPT, f"{shown} {why}; not overwritten (use --force to replace it)")
    _write_atomic(path, text)
    record.remember(relative, draft.source, text)
    return Written(path, Outcome.UPDATED if ours else Outcome.OVERWRITTEN)


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


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file and a rename, so an interrupted import never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.importing")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


# ---------------------------------------------------------------------------------------
# import-report.md


def append_report(root: Path, heading: str, items: Iterable[Problem]) -> Path | None:
    """Append what needs a human to `import-report.md`, one `source:line: message` a line.

    Lines already in the report are not repeated, so importing the same pages again adds
    only what is new. Returns the report's path when it wrote anything.
    """
    path = root / REPORT_NAME
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    seen = set(existing.splitlines())
    lines = list(dict.fromkeys(str(item) for item in items if str(item) not in seen))
    if not lines:
        return None
    head = "" if existing else (
        "# Import report\n\nWhat the imports could not decide alone. Each line is `source:line: message`;\n"
        "delete a line once you have dealt with it.\n"
    )
    block = f"\n## {heading}\n\n" + "\n".join(lines) + "\n"
    _write_atomic(path, existing + head + block)
    return path
