"""Typed fields out of YAML, each remembered with the line the user typed it on.

site.yaml and front matter share this reader so both report `path:line: message` the same
way. YAML 1.1 turns `title: no` into False and `v: 1.10` into 1.1; a field that expects
text therefore takes the scalar exactly as written instead of what PyYAML made of it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml

from .errors import Problem

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

# C0 controls (but tab, newline, carriage return) and the two non-characters break XML feeds.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
KeyPath = tuple[str, ...]
# Front matter and site.yaml are a few levels deep; anything past this is an attack or a mistake.
MAX_DEPTH = 32
# Values an alias may stand for, on top of one per character of the text: a "billion laughs"
# of a few hundred bytes expands to millions of values, and must fail before it does.
ALIAS_ALLOWANCE = 10_000


def strip_controls(text: str) -> str:
    return CONTROL_CHARS.sub("", text)


@dataclass(slots=True)
class YamlDoc:
    """A parsed YAML mapping with the line of every key and the raw text of every scalar."""

    data: dict[str, Any]
    path: str
    lines: dict[KeyPath, int] = field(default_factory=dict)
    raw: dict[KeyPath, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    base_line: int = 1

    def line(self, *key: str) -> int:
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.base_line

    def problem(self, key: KeyPath, message: str) -> None:
        self.problems.append(Problem(self.path, self.line(*key), message))


def parse_yaml(text: str, path: str, line_offset: int = 0) -> YamlDoc:
    """Parse one YAML mapping; problems are collected on the result, never raised."""
    doc = YamlDoc({}, path, base_line=line_offset + 1)
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        if exc.context == "while scanning a quoted scalar" and exc.context_mark:  # found only where the text ends
            line = exc.context_mark.line + 1 + line_offset
            doc.problems.append(Problem(path, line, "invalid YAML: a quoted value is never closed; add the closing quote"))
            return doc
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 if mark else 1) + line_offset
        doc.problems.append(Problem(path, line, f"invalid YAML: {exc.problem or exc.context}"))
        return doc
    except yaml.YAMLError as exc:
        doc.problems.append(Problem(path, line_offset + 1, f"invalid YAML: {exc}"))
        return doc
    if node is None:
        return doc
    if not isinstance(node, yaml.MappingNode):
        doc.problems.append(
            Problem(path, node.start_mark.line + 1 + line_offset, "expected a mapping of keys to values")
        )
        return doc
    budget = _Budget(len(text) + ALIAS_ALLOWANCE)
    try:
        doc.data = _construct(node, (), doc, line_offset, budget)
    except _TooLarge as exc:
        doc.problems.append(Problem(path, exc.line, exc.message))
        doc.data = {}
    return doc


class _TooLarge(Exception):
    """Stops construction at once: a value that would take unbounded time or memory.

    It points at the key being read: an alias is the very node of its anchor, so the node
    itself would name where the anchor was written, not where it was used."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(slots=True)
class _Budget:
    """What one document may still construct, and the collections being constructed now.

    PyYAML composes an alias as a second reference to its anchor's node, so composing is
    cheap; expanding the references into values is what a "billion laughs" abuses, and an
    alias inside its own anchor never ends. Both are caught here, as is deep nesting.
    """

    values: int
    open: set[int] = field(default_factory=set)


def _construct(node: yaml.Node, key: KeyPath, doc: YamlDoc, offset: int, budget: _Budget, depth: int = 0) -> Any:
    budget.values -= 1
    line = doc.line(*key) if key in doc.lines else node.start_mark.line + 1 + offset
    if budget.values < 0:
        raise _TooLarge(line, "YAML aliases expand to too many values; write the values out instead of using '*' aliases")
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        if depth >= MAX_DEPTH:
            raise _TooLarge(line, f"YAML nested more than {MAX_DEPTH} levels deep")
        if id(node) in budget.open:
            raise _TooLarge(line, "YAML alias refers to a value that contains it (a recursive alias)")
        budget.open.add(id(node))
        try:
            return _construct_collection(node, key, doc, offset, budget, depth + 1)
        finally:
            budget.open.discard(id(node))
    return _construct_scalar(node, key, doc, offset)


def _construct_collection(node: yaml.MappingNode | yaml.SequenceNode, key: KeyPath, doc: YamlDoc, offset: int,
                          budget: _Budget, depth: int) -> Any:
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):  # each item's line, for messages about one entry of a list
            doc.lines.setdefault((*key, f"[{index}]"), item.start_mark.line + 1 + offset)
        return [_construct(item, key, doc, offset, budget, depth) for item in node.value]
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
        line = key_node.start_mark.line + 1 + offset
        sub = (*key, name)
        if name in result:
            doc.problems.append(
                Problem(doc.path, line, f"duplicate key '{name}' (first at line {doc.lines[sub]})")
            )
            continue
        doc.lines[sub] = line
        result[name] = _construct(value_node, sub, doc, offset, budget, depth)
    return result


def _construct_scalar(node: yaml.Node, key: KeyPath, doc: YamlDoc, offset: int) -> Any:
    doc.raw[key] = str(node.value)
    constructor = yaml.constructor.SafeConstructor()
    try:
        return constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        doc.problems.append(
            Problem(doc.path, node.start_mark.line + 1 + offset, f"invalid value '{node.value}': {exc}")
        )
        return None


class Fields:
    """Reads one mapping's keys with type checks; every mistake becomes a Problem, never a raise."""

    def __init__(self, doc: YamlDoc, data: dict[str, Any] | None = None, prefix: KeyPath = ()) -> None:
        self.doc = doc
        self.data = doc.data if data is None else data
        self.prefix = prefix

    def _name(self, key: str) -> str:
        return ".".join((*self.prefix, key))

    def _fail(self, key: str, message: str) -> None:
        self.doc.problem((*self.prefix, key), message)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        """A text field, as typed: `title: no` stays "no", `version: 1.10` stays "1.10"."""
        value = self.data.get(key)
        if value is None:
            if required:
                self._fail(key, f"missing required key '{self._name(key)}'")
            return default
        if isinstance(value, (dict, list)):
            self._fail(key, f"'{self._name(key)}' must be text, not a {_kind(value)}")
            return default
        raw = self.doc.raw.get((*self.prefix, key))
        text = raw if raw is not None and not isinstance(value, str) else str(value)
        text = strip_controls(text).strip()
        if required and not text:
            self._fail(key, f"'{self._name(key)}' must not be empty")
        return text

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self._fail(key, f"'{self._name(key)}' must be true or false, not '{value}'")
            return default
        return value

    def integer(self, key: str, default: int, minimum: int = 1) -> int:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self._fail(key, f"'{self._name(key)}' must be a whole number of at least {minimum}, not '{value}'")
            return default
        return value

    def text_list(self, key: str) -> list[str]:
        """A list of text; a single string is accepted as a list of one (`tags: teamwork`)."""
        value = self.data.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return [strip_controls(value).strip()]
        if not isinstance(value, list) or any(isinstance(v, (dict, list)) or v is None for v in value):
            self._fail(key, f"'{self._name(key)}' must be a list of text, like [one, two]")
            return []
        return [strip_controls(str(v)).strip() for v in value if str(v).strip()]

    def web_url(self, key: str, *, required: bool = False) -> str:
        url = self.text(key, required=required)
        if url and not is_web_url(url):
            self._fail(key, f"'{self._name(key)}' must be an absolute http(s) URL, not '{url}'")
            return ""
        return url

    def mapping(self, key: str) -> Fields | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self._fail(key, f"'{self._name(key)}' must be a mapping of keys to values")
            return None
        return Fields(self.doc, value, (*self.prefix, key))

    def when(self, key: str, tz: ZoneInfo) -> datetime | None:
        """A date or datetime in the site's time zone: one written without a zone is in it, one
        written with another offset is moved to it (the same instant), so the date a page
        shows, the archive's year and the date in the article's address all agree."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                self._fail(key, f"'{self._name(key)}' is not a valid date: '{value}' (use YYYY-MM-DD or ISO 8601)")
                return None
        if isinstance(value, datetime):
            return value.astimezone(tz) if value.tzinfo else value.replace(tzinfo=tz)
        if isinstance(value, date):
            return datetime.combine(value, time(), tz)
        self._fail(key, f"'{self._name(key)}' is not a valid date: '{value}' (use YYYY-MM-DD or ISO 8601)")
        return None

    def unknown(self, known: Iterable[str]) -> list[str]:
        return sorted(set(self.data) - set(known))

    def unknown_keys(self, known: Sequence[str], where: str = "") -> list[tuple[int, str]]:
        """(line, message) for every key not in `known`, with the likely intended key.

        A misspelt optional key (`comercial:`) would otherwise be silently ignored, and the
        value the author meant to publish never appear."""
        found = []
        for key in self.unknown(known):
            shown = self._name(key)
            found.append((self.doc.line(*self.prefix, key), f"unknown key '{shown}'{where}{suggestion(key, known)}"))
        return found


def suggestion(word: str, known: Sequence[str]) -> str:
    """"; did you mean 'title'?" for a near miss, else the list of what is known."""
    close = difflib.get_close_matches(word.lower(), list(known), n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f" (known: {', '.join(known)})"


def is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url


def _kind(value: object) -> str:
    return "list" if isinstance(value, list) else "mapping"
