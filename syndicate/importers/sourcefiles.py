"""Reading another generator's source files: text, front matter with its lines, file names.

Jekyll and Pelican write YAML front matter between `---` lines; Hugo also writes TOML
between `+++` lines and JSON in braces. Each key's line is kept, so a report line points at
what the author typed. A file that cannot be read is one problem, never a traceback, and
never the end of the import: the rest of the site still comes in.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem

MAX_SOURCE_BYTES = 5_000_000
_DATED_NAME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})-(.+)$")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
_JSON_KEY = re.compile(r'^\s*"([^"]+)"\s*:')


@dataclass(frozen=True, slots=True)
class SourceText:
    meta: Mapping[str, Any]  # keys lower-cased
    lines: Mapping[str, int]
    body: str
    body_line: int  # the line of the body's first line in the file
    has_front_matter: bool


def read_text(path: Path, shown: str) -> str | Problem:
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return Problem(shown, 1, f"larger than {MAX_SOURCE_BYTES:,} bytes; not imported")
        data = path.read_bytes()
    except OSError as exc:
        return Problem(shown, 1, f"cannot read the file: {exc.strerror or exc}; not imported")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", "replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_source(text: str, shown: str) -> SourceText | Problem:
    """Front matter (YAML, TOML or JSON) and body; a file without any is all body."""
    first = text.split("\n", 1)[0].rstrip()
    if first in ("---", "+++"):
        end = re.search(rf"^{re.escape(first)}[ \t]*$" if first == "+++" else r"^(?:---|\.\.\.)[ \t]*$",
                        text[len(first) + 1:], re.MULTILINE)
        if end is None:
            return Problem(shown, 1, f"the front matter opened by '{first}' is never closed; not imported")
        front = text[len(first) + 1: len(first) + 1 + end.start()]
        body = text[len(first) + 1 + end.end():].removeprefix("\n")
        body_line = front.count("\n") + 3
        parsed = _toml(front, shown) if first == "+++" else _yaml(front, shown)
    elif first.startswith("{") and text.lstrip().startswith("{"):
        try:
            decoder = json.JSONDecoder()
            value, end_index = decoder.raw_decode(text)
        except ValueError as exc:
            return Problem(shown, 1, f"the JSON front matter is not valid ({exc}); not imported")
        front = text[:end_index]
        body = text[end_index:].lstrip("\n")
        body_line = front.count("\n") + 2
        lines = {m[1].lower(): n for n, row in enumerate(front.split("\n"), 1) if (m := _JSON_KEY.match(row))}
        parsed = (value, lines) if isinstance(value, dict) else Problem(shown, 1, "the JSON front matter is not an object")
    else:
        return SourceText({}, {}, text, 1, False)
    if isinstance(parsed, Problem):
        return parsed
    data, lines = parsed
    meta = {str(k).lower(): v for k, v in data.items()}
    return SourceText(meta, lines, body, body_line, True)


def _yaml(front: str, shown: str) -> tuple[dict[str, Any], dict[str, int]] | Problem:
    try:
        node = yaml.compose(front, Loader=yaml.SafeLoader)
        data = yaml.load(front, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        return Problem(shown, line, f"the front matter is not valid YAML ({getattr(exc, 'problem', None) or exc}); not imported")
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        return Problem(shown, 2, "the front matter is not a mapping of keys; not imported")
    lines = {str(key.value).lower(): key.start_mark.line + 2 for key, _ in node.value if isinstance(key, yaml.ScalarNode)}
    return data, lines


def _toml(front: str, shown: str) -> tuple[dict[str, Any], dict[str, int]] | Problem:
    try:
        data = tomllib.loads(front)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match[1]) + 1 if match else 1
        return Problem(shown, line, f"the front matter is not valid TOML ({exc}); not imported")
    lines: dict[str, int] = {}
    for number, row in enumerate(front.split("\n"), 2):
        if row.lstrip().startswith("["):
            break  # a table: keys below belong to it
        match = _TOML_KEY.match(row)
        if match:
            lines.setdefault(match[1].lower(), number)
    return data, lines


def dated_name(stem: str) -> tuple[dt.date | None, str]:
    """`2016-01-01-title` -> (2016-01-01, "title"); a name without a date -> (None, name)."""
    match = _DATED_NAME.match(stem)
    if not match:
        return None, stem
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3])), match[4]
    except ValueError:
        return None, stem


def walk(root: Path) -> Iterator[Path]:
    """Every file under `root`, sorted, skipping hidden files and folders and symlinks out of it."""
    resolved = root.resolve()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and path.resolve().is_relative_to(resolved):
            yield path
