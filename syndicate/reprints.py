"""The reprints registry (`reprints.yaml`) and the status file `syndicate verify` writes.

`reprints.yaml` beside site.yaml lists where articles were reprinted, one entry each:

    - url: https://weekly.example.net/2024/05/queues/    # or  file: reprints/june.eml
      article: waiting-room                              # a slug
      publication: "The Weekly Counter"                  # optional

Its shape is checked by `syndicate check` (every problem as `path:line: message`). After
each run, `syndicate verify` writes what it found for every registry entry to
`reprints-status.json` beside it; with `reprints: show` in site.yaml, an article page lists
the reprints that passed the last verify. Both files are then inputs of the build: config
reads them here, and what is shown goes into the site's fingerprint, so a changed verdict
re-renders the pages. Only what is shown counts: a verify that finds the same results at a
later time changes nothing in the build.

This module is part of the core: it reads files and knows no network. `verify.py` (a tool)
uses it; it never uses `verify.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .errors import Problem, display_path, warning
from .fields import is_web_url, strip_controls
from .model import Reprinted

REGISTRY_NAME = "reprints.yaml"
STATUS_NAME = "reprints-status.json"
ENTRY_KEYS = ("url", "file", "article", "publication")
FILE_SUFFIXES = (".html", ".htm", ".eml")

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One reprint to check: a URL or a saved file, and the article it reprints."""

    source: str  # the url, or the file as written in reprints.yaml: the entry's identity
    article: str
    publication: str = ""
    url: str = ""
    file: Path | None = None  # absolute
    line: int = 1

    @property
    def label(self) -> str:
        """What an article page shows for this reprint."""
        if self.publication or not self.url:
            return self.publication
        return urlsplit(self.url).hostname or self.url


@dataclass(frozen=True, slots=True)
class Registry:
    path: Path
    shown: str  # the path as messages name it
    entries: tuple[RegistryEntry, ...]
    problems: tuple[Problem, ...]


def registry_path(site_root: Path) -> Path:
    return site_root / REGISTRY_NAME


def status_path(site_root: Path) -> Path:
    return site_root / STATUS_NAME


def load_registry(site_root: Path, known_articles: Iterable[str] | None = None) -> Registry:
    """Read and check reprints.yaml; problems are returned, not raised, so `check` can report
    them with the rest. A missing file is an empty registry. `known_articles`, when given,
    is the set of slugs an entry may name."""
    path = registry_path(site_root)
    shown = display_path(path.absolute(), Path.cwd().absolute())
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        return Registry(path, shown, (), ())
    except OSError as exc:
        return Registry(path, shown, (), (Problem(shown, 1, f"cannot read the reprints registry: {exc.strerror}"),))
    except UnicodeDecodeError as exc:
        return Registry(path, shown, (), (Problem(shown, 1, f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8"),))
    problems: list[Problem] = []
    try:
        node = yaml.compose(text.replace("\r\n", "\n"), Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return Registry(path, shown, (), (Problem(shown, mark.line + 1 if mark else 1, f"invalid YAML: {exc.problem or exc.context}"),))
    except yaml.YAMLError as exc:
        return Registry(path, shown, (), (Problem(shown, 1, f"invalid YAML: {exc}"),))
    if node is None:
        return Registry(path, shown, (), ())
    if not isinstance(node, yaml.SequenceNode):
        message = "reprints.yaml must be a list of entries, each starting with '- url:' or '- file:'"
        return Registry(path, shown, (), (Problem(shown, node.start_mark.line + 1, message),))
    known = set(known_articles) if known_articles is not None else None
    entries: list[RegistryEntry] = []
    first_line: dict[str, int] = {}
    for index, item in enumerate(node.value, 1):
        entry = _entry(site_root, shown, index, item, known, problems)
        if entry is None:
            continue
        if entry.source in first_line:
            problems.append(Problem(shown, entry.line, f"'{entry.source}' is listed twice (first at line {first_line[entry.source]})"))
            continue
        first_line[entry.source] = entry.line
        entries.append(entry)
    return Registry(path, shown, tuple(entries), tuple(sorted(problems)))


def _entry(site_root: Path, shown: str, index: int, item: yaml.Node, known: set[str] | None,
           problems: list[Problem]) -> RegistryEntry | None:
    line = item.start_mark.line + 1
    if not isinstance(item, yaml.MappingNode):
        problems.append(Problem(shown, line, f"entry {index} must be a mapping with 'url' or 'file', and 'article'"))
        return None
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in item.value:
        key = str(key_node.value)
        key_line = key_node.start_mark.line + 1
        if key not in ENTRY_KEYS:
            problems.append(Problem(shown, key_line, f"unknown key '{key}' in entry {index} (known: {', '.join(ENTRY_KEYS)})"))
            continue
        if key in values:
            problems.append(Problem(shown, key_line, f"duplicate key '{key}' (first at line {lines[key]})"))
            continue
        if not isinstance(value_node, yaml.ScalarNode):
            problems.append(Problem(shown, key_line, f"'{key}' must be text"))
            continue
        # Taken as typed: YAML 1.1 would make `article: no` False and `article: 1.10` 1.1.
        values[key] = strip_controls(str(value_node.value)).strip()
        lines[key] = key_line
    before = sum(p.is_error for p in problems)
    url, file_text = values.get("url", ""), values.get("file", "")
    file_path: Path | None = None
    if url and file_text:
        problems.append(Problem(shown, lines["file"], f"entry {index} has both 'url' and 'file'; keep one"))
    elif not url and not file_text:
        problems.append(Problem(shown, line, f"entry {index} needs 'url' (a reprint on the web) or 'file' (a saved .html or .eml)"))
    elif url and not is_web_url(url):
        problems.append(Problem(shown, lines["url"], f"'url' must be an absolute http(s) URL, not '{url}'"))
    elif file_text:
        file_path = (site_root / file_text).absolute()
        if not file_text.lower().endswith(FILE_SUFFIXES):
            problems.append(Problem(shown, lines["file"], f"'file' must be a saved page (.html) or a newsletter (.eml), not '{file_text}'"))
        elif not file_path.is_file():  # the entry stays: verify reports it as broken and goes on with the others
            problems.append(warning(shown, lines["file"], f"file '{file_text}' not found (paths are relative to the folder of site.yaml)"))
    article = values.get("article", "")
    if not article:
        problems.append(Problem(shown, lines.get("article", line), f"entry {index} needs 'article': the slug of the reprinted article"))
    elif known is not None and article not in known:
        hint = _close(article, known)
        problems.append(Problem(shown, lines["article"], f"unknown article '{article}' (not a syndicated article's slug){hint}"))
    if sum(p.is_error for p in problems) > before:
        return None
    return RegistryEntry(source=url or file_text, article=article, publication=values.get("publication", ""),
                         url=url, file=file_path, line=line)


def _close(slug: str, known: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(slug, sorted(known), n=3)
    return f"; did you mean {', '.join(close)}?" if close else ""


# The status file ------------------------------------------------------------------------


def read_status(site_root: Path) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """The last verify's results by source; an absent file is no results."""
    path = status_path(site_root)
    shown = display_path(path.absolute(), Path.cwd().absolute())
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {}, [Problem(shown, 1, f"cannot read the verify results ({_reason(exc)}); run `syndicate verify` again")]
    items = data.get("reprints") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("source"), str) for i in items):
        return {}, [Problem(shown, 1, "not a file written by `syndicate verify`; delete it and run `syndicate verify` again")]
    return {item["source"]: item for item in items}, []


def write_status(site_root: Path, results: Mapping[str, dict[str, Any]], registry: Registry) -> Path:
    """Record `results` (by source) for the registry's entries, keeping earlier results of
    entries not checked this time and dropping those of entries no longer listed."""
    previous, _problems = read_status(site_root)
    items = []
    for entry in registry.entries:
        item = results.get(entry.source) or previous.get(entry.source)
        if item is not None:
            items.append(item)
    data = {
        "about": "Written by `syndicate verify`: the last result for each entry of reprints.yaml. "
                 "With `reprints: show` in site.yaml, article pages list the reprints marked ok.",
        "reprints": items,
    }
    path = status_path(site_root)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


def shown_reprints(site_root: Path) -> tuple[dict[str, tuple[Reprinted, ...]], list[Problem]]:
    """For `reprints: show`: by article slug, the registry's reprints that passed the last
    verify for that same article. A file entry without a publication has nothing to show."""
    registry = load_registry(site_root)
    status, problems = read_status(site_root)
    found: dict[str, list[Reprinted]] = {}
    for entry in registry.entries:
        result = status.get(entry.source)
        if not result or result.get("ok") is not True or result.get("article") != entry.article or not entry.label:
            continue
        found.setdefault(entry.article, []).append(Reprinted(name=entry.label, url=entry.url))
    return {slug: tuple(items) for slug, items in sorted(found.items())}, [*registry.problems, *problems]


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at line {exc.lineno}"
    return "not valid UTF-8"
