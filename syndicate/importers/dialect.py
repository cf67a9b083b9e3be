"""Markdown written for other renderers, made to read the same in ours.

Jekyll (kramdown) and Hugo (CommonMark) accept things Python-Markdown reads differently:
a list may start right after a paragraph line, nested list items may be indented by two
spaces, and kramdown adds `{: .class}` attribute lines and `{:toc}`. Each fix here works
outside fenced code only, so code keeps every character.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..errors import Problem

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( +|$)")
_KRAMDOWN_TOC = re.compile(r"^[ \t]*[*-] (?:TOC|toc|Table of Contents)[ \t]*\n[ \t]*\{:\s*\.?toc\s*\}[ \t]*$", re.MULTILINE)
_KRAMDOWN_LINE = re.compile(r"^ {0,3}\{:(?!:)[^}\n]*\}[ \t]*\n?", re.MULTILINE)
_KRAMDOWN_TRAILING = re.compile(r"(?<=[\S])[ \t]*\{:(?!:)[^}\n]*\}[ \t]*$", re.MULTILINE)
_KRAMDOWN_EXTENSION = re.compile(r"\{::(comment|nomarkdown)\}.*?\{:/(?:\1)?\}|\{::options[^}]*/\}", re.DOTALL)


@dataclass
class Notes:
    """What a conversion could not do, as report lines pointing into the source file."""

    source: str
    items: list[Problem] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        self.items.append(Problem(self.source, max(1, line), message))


def line_of(text: str, offset: int, first_line: int) -> int:
    """The 1-based line in the source file of `offset` in a body that starts at `first_line`."""
    return first_line + text.count("\n", 0, offset)


def prose_parts(text: str) -> Iterator[tuple[bool, str]]:
    """(is_code, part) for the text, split at fenced code blocks (a fence's lines count as code)."""
    lines = text.split("\n")
    current: list[str] = []
    fence = ""
    for line in lines:
        opened = _FENCE.match(line)
        if not fence and opened:
            if current:
                yield False, "\n".join(current)
            current, fence = [line], opened[1]
            continue
        current.append(line)
        if fence and line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
            yield True, "\n".join(current)
            current, fence = [], ""
    if current:
        yield bool(fence), "\n".join(current)


def map_prose(text: str, change: Callable[[str], str]) -> str:
    return "\n".join(part if is_code else change(part) for is_code, part in prose_parts(text))


def convert_kramdown(text: str) -> str:
    """kramdown's extras: `* TOC` + `{:toc}` becomes `[TOC]`, attribute lines and trailing
    attribute lists go (they set classes and sizes for the old theme), comments go."""
    def change(part: str) -> str:
        part = _KRAMDOWN_TOC.sub("[TOC]", part)
        part = _KRAMDOWN_EXTENSION.sub("", part)
        part = _KRAMDOWN_LINE.sub("", part)
        part = _KRAMDOWN_TRAILING.sub("", part)
        return _KRAMDOWN_MATH.sub(lambda m: "$$" + _MATH_SPECIAL.sub(r"\\\1", m[1]) + "$$", part)
    return map_prose(text, change)


# kramdown reads `$$…$$` as math and leaves its TeX alone; in our Markdown `_` and `*` in it
# would become emphasis and `\_` an underscore. Escaped, the TeX shows as written, for a
# math script (MathJax, KaTeX) the theme may load.
_KRAMDOWN_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_MATH_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#+!|-])")


def normalize_lists(text: str) -> str:
    """Lists as Python-Markdown reads them: a blank line before a list that follows a
    paragraph, and nested items indented by four spaces per level."""
    return map_prose(text, _normalize_lists)


def _normalize_lists(part: str) -> str:
    out: list[str] = []
    stack: list[int] = []  # the content indent of each open item, outermost first
    previous = ""
    for line in part.split("\n"):
        item = _LIST_ITEM.match(line)
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip():
            out.append(line)
        elif item:
            while stack and indent < stack[-1]:
                stack.pop()
            if not stack and previous.strip() and not _LIST_ITEM.match(previous) and not previous.startswith(" "):
                out.append("")  # a list right after a paragraph line
            out.append("    " * len(stack) + line[indent:])
            stack.append(indent + len(item[2]) + max(1, len(item[3])))
        elif stack and indent:
            while len(stack) > 1 and indent < stack[-1]:
                stack.pop()
            extra = max(0, indent - stack[-1])
            out.append("    " * len(stack) + " " * extra + line[indent:])
        else:
            if not previous.strip():
                stack.clear()
            out.append(line)
        previous = line
    return "\n".join(out)


_ATX_HEADING = re.compile(r"^(#{1,6})(?=[ \t])", re.MULTILINE)


def renumber_headings(text: str) -> str:
    """Headings renumbered from `##` with no level skipped (the page's title is its only
    `<h1>`): a post whose sections start at `###` reads the same, and validates."""
    levels = sorted({len(m[1]) for is_code, part in prose_parts(text) if not is_code for m in _ATX_HEADING.finditer(part)})
    mapping = {level: min(6, 2 + index) for index, level in enumerate(levels)}
    if all(level == new for level, new in mapping.items()):
        return text
    return map_prose(text, lambda part: _ATX_HEADING.sub(lambda m: "#" * mapping[len(m[1])], part))
