"""What every importer shares: the target site, its authors, and the report.

An import works on a site folder that a person also edits by hand, so everything here is
careful with their work: site.yaml is edited through a round-trip parser that keeps its
text, order and comments (files are written through `record.py`, which never replaces
someone's edits, and articles through `articles.py`); and whatever needs a human decision
goes to `import-report.md` as `source:line: message` lines instead of being guessed silently.
"""

from __future__ import annotations

import copy
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, FoldedScalarString, LiteralScalarString

from ..errors import Problem, SiteError, display_path
from ..fields import strip_controls
from ..model import Reprint
from .record import write_atomic

REPORT_NAME = "import-report.md"
PLACEHOLDER_URL = "https://example.org/"


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
            raise SiteError.about(str(into), "exists and is not a folder; import into a site folder or a new one")
        if root.is_dir() and any(not p.name.startswith(".") for p in root.iterdir()):
            raise SiteError.about(str(into), "holds no site.yaml and is not empty; import into a site folder (with site.yaml) or a new or empty one")
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

    def adopt_settings(self, settings: Mapping[str, str]) -> None:
        """Settings read from the old site (title, url, description, language, timezone), for
        a site.yaml this import creates; an existing site.yaml keeps its own."""
        if not self.created:
            return
        data = self._data
        for key in ("title", "url", "description", "language", "timezone"):
            value = clean_text(settings.get(key, ""))
            if not value:
                continue
            if key in data:
                data[key] = DoubleQuotedScalarString(value)
            else:
                data.insert(list(data).index("authors"), key, DoubleQuotedScalarString(value))
            if key == "url":
                data.ca.items.pop("url", None)  # no longer a placeholder

    @property
    def has_menu(self) -> bool:
        return "menu" in self._data

    @property
    def timezone(self) -> str:
        return str(self._data.get("timezone") or "UTC")

    @property
    def article_permalink(self) -> str | None:
        """site.yaml's `permalinks.article`, or None when it sets none."""
        section = self._data.get("permalinks")
        value = section.get("article") if isinstance(section, Mapping) else None
        return str(value) if value else None

    def set_article_permalink(self, pattern: str) -> None:
        section = CommentedMap()
        section["article"] = DoubleQuotedScalarString(pattern)
        self._data.insert(list(self._data).index("authors"), "permalinks", section)
        self.changed = True

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
            write_atomic(self.site_file, text)
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
    write_atomic(path, existing + head + block)
    return path
