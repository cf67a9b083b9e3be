"""Markdown shapes that would make Python-Markdown run for minutes or exhaust its stack.

Python-Markdown's patterns scan onwards from every opener that is never closed: 20 KB of
`[` took 91 s, a few hundred lines of backtick runs of different lengths over two minutes,
and a fence line followed by spaces is quadratic in its own regular expression. Lists
nested a few hundred levels deep (or `1. 1. 1. ...` on one line) exceed the stack.

`check_markdown` measures all of these in linear passes over the text, the way Python-Markdown
reads it (tabs expanded, fenced and indented code left alone), and refuses a body over a
bound with the line to fix, before Markdown sees it. The bounds are far above anything
written by hand: see tests/test_markup.py for long, ordinary articles that pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown.extensions.attr_list import get_attrs_and_remainder

MAX_RESCAN = 400_000  # characters rescanned; the slowest shape measured takes about 0.5 s at this
MAX_NESTING = 64  # levels of lists and quotes on one line (Python-Markdown fails near 250)
MAX_FENCE_SPACES = 200  # a run of spaces on a fence line: fenced_code's pattern is quadratic in it
# The openers Python-Markdown scans onwards from: '[' (links, images, footnotes), '(' after
# ']' (a link's target), '<' before a letter, '/', '!' or '?' (raw HTML, autolinks), and a
# run of backticks (code, closed only by a run of the same length).
# A backslash escapes the characters in Python-Markdown's ESCAPED_CHARS (tables add '|'), and only those.
_OPENERS = re.compile(r"\\[\\`*_{}\[\]()>#+\-.!|]|\]\(|[\[\])>]|<[A-Za-z/!?]|`+")
_LIST_ITEM = re.compile(r"[ \t]*\n?[ ]{0,3}(?:[-+*]|\d{1,9}[.)])[ \t]")
# A line start is found by its newline (the text is searched with one put in front of it): a
# literal the expression engine skips to, where `^` under re.M was tried at every character.
_DEEP = re.compile(r"\n([ \t]*+(?:(?:>[ \t]*+|(?:[-+*]|\d{1,9}[.)])[ \t]++)){8,}|[ \t]{32,})")
_MARKS = re.compile(r">|[-+*](?=[ \t])|\d{1,9}[.)](?=[ \t])")
_FENCE_LINE = re.compile(r"^(?:`{3,}|~{3,})", re.M)
# fenced_code's opening line (its own pattern, with possessive spaces): the fence, then
# {attrs}, or an optional (.)lang and hl_lines="...".
_FENCE_OPEN = re.compile(r"""(`{3,}|~{3,})[ ]*+(?:\{([^\n]*)\}|(?:\.?(?!hl_lines=)[\w#.+-]*+[ ]*+)?(?:hl_lines=(["'])[^\n]*?\3[ ]*+)?)""")
_FENCE_CLOSE = re.compile(r"(`{3,}|~{3,})[ ]*+")
_NEVER_CLOSED = ("too many '[', '(', '<' or '`' that are never closed in this paragraph: Markdown would take minutes "
                 "to render it; escape them as \\[, \\(, &lt; and \\` or close them")


@dataclass(slots=True)
class _Fences:
    """Fenced code blocks as fenced_code finds them, and what finding them costs."""

    ranges: list[tuple[int, int]] = field(default_factory=list)  # character offsets
    cost: int = 0  # characters its pattern scans for closing fences that never come
    first_unclosed: int = -1
    too_wide: int = -1  # offset of a fence line with a run of spaces over the bound


def check_markdown(text: str) -> tuple[int, str] | None:
    """(line, message) for the first shape that would make rendering unbounded, or None."""
    text = text.expandtabs(4) if "\t" in text else text  # as Python-Markdown reads it; lines stay put
    has_fence = ("```" in text or "~~~" in text) and _FENCE_LINE.search(text)  # most texts have neither
    fences = _find_fences(text) if has_fence else _Fences()
    if fences.too_wide >= 0:
        return _line(text, fences.too_wide), (
            f"a code fence line with more than {MAX_FENCE_SPACES} spaces in a row; remove the spaces")
    if fences.cost > MAX_RESCAN:
        return _line(text, fences.first_unclosed), (
            "too many code fences that are never closed: Markdown would take minutes to render them; close them")
    for match in _DEEP.finditer("\n" + text):
        start = match.start()  # of the newline put in front: the line's start in `text`
        if _fence_end(fences.ranges, start) != start:
            continue
        marks = match[1]
        indent = len(marks) - len(marks.lstrip(" \t"))
        depth = len(marks[:indent]) // 4 + len(_MARKS.findall(marks[indent:]))
        if depth > MAX_NESTING:
            return _line(text, start), f"lists or quotes nested {depth} levels deep; the limit is {MAX_NESTING}"
    openers = text.count("[") + text.count("<") + text.count("`")
    if openers * len(text) <= MAX_RESCAN:
        return None  # cannot reach the bound: most articles stop here
    return _rescan(text, fences)


def _rescan(text: str, fences: _Fences) -> tuple[int, str] | None:
    """The paragraph by paragraph measure, when the quick bound could be passed."""
    total = fences.cost
    position = 0
    in_list = False  # whether an indented block continues a list item (text) or stands alone (code)
    for block in re.split(r"(\n[ \t]*\n)", text):
        start, position = position, position + len(block)
        if not block.strip():
            continue
        indented = block.lstrip("\n")[:1] == " " and all(line.startswith("    ") or not line.strip() for line in block.split("\n"))
        if not indented:
            in_list = _LIST_ITEM.match(block) is not None
        elif not in_list:
            continue  # an indented code block: Markdown leaves its text alone
        skip = _fence_end(fences.ranges, start) - start  # a block may start inside a fence and run on after it
        if skip < len(block) and ("[" in block or "<" in block or "`" in block):
            cost, worst = _rescan_cost(block[skip:])
            total += cost
            if total > MAX_RESCAN:
                return _line(text, start + skip + worst), _NEVER_CLOSED
    return None


def _rescan_cost(block: str) -> tuple[int, int]:
    """Characters Python-Markdown rescans in one paragraph, and where the first unclosed opener is."""
    cost = 0
    stacks: dict[str, list[int]] = {"[": [], "(": [], "<": []}
    ticks: dict[int, int] = {}  # open backtick runs: length -> where
    for match in _OPENERS.finditer(block):
        token, index = match[0], match.start()
        if token[0] == "\\":
            continue
        if token[0] == "`":
            opened = ticks.pop(len(token), None)
            if opened is None:
                ticks[len(token)] = index
            else:
                cost += index - opened
        elif token == "](":
            if stacks["["]:
                cost += index - stacks["["].pop()
            stacks["("].append(index + 1)
        elif token[0] in "[<":
            stacks[token[0]].append(index)
        elif token == ">":
            cost += sum(index - start for start in stacks["<"])
            stacks["<"].clear()
        else:
            opener = stacks["[" if token == "]" else "("]
            if opener:
                cost += index - opener.pop()
    unclosed = [start for starts in stacks.values() for start in starts] + list(ticks.values())
    cost += sum(len(block) - start for start in unclosed)
    return cost, min(unclosed, default=0)


def _find_fences(text: str) -> _Fences:
    """fenced_code's search, emulated in one pass over the lines.

    Its pattern looks, from every valid opening line, for the next line that is the same
    fence followed only by spaces, scanning to the end of the text when there is none; an
    opening whose {attrs} do not parse is skipped after the scan. An unclosed or malformed
    fence is text to Python-Markdown, so it is text here too."""
    found = _Fences()
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    fence_lines = [i for i, line in enumerate(lines) if line[:3] in ("```", "~~~")]
    closers: dict[str, int] = {}  # fence -> nearest closing line after the one being looked at
    next_close: dict[int, int | None] = {}
    for i in reversed(fence_lines):
        line = lines[i]
        if " " * (MAX_FENCE_SPACES + 1) in line:
            found.too_wide = offsets[i]
        fence = _FENCE_CLOSE.match(line)
        assert fence is not None
        next_close[i] = closers.get(fence[1])
        if fence.end() == len(line):
            closers[fence[1]] = i
    resume = 0
    for i in fence_lines:
        if i < resume:
            continue
        if "hl_lines=" in lines[i]:  # its quoted value may run over many lines: counted as scanned to the end
            found.cost += len(text) - offsets[i]
        opening = _FENCE_OPEN.fullmatch(lines[i])
        if opening is None:
            continue
        close = next_close[i]
        found.cost += (offsets[close] if close is not None else len(text)) - offsets[i]
        if close is None:
            found.first_unclosed = offsets[i] if found.first_unclosed < 0 else found.first_unclosed
        elif not (opening[2] and get_attrs_and_remainder(opening[2])[1]):
            found.ranges.append((offsets[i], offsets[close + 1] - 1))
            resume = close + 1
    return found


def _fence_end(ranges: list[tuple[int, int]], position: int) -> int:
    """Where the fenced block holding `position` ends; `position` itself when none does."""
    return next((end for start, end in ranges if start <= position < end), position)


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, max(0, position)) + 1
