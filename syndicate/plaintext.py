"""HTML -> plain text or Markdown, for the copies editors paste where HTML cannot go.

Links keep their targets in both forms: `text (https://...)` in plain text and
`[text](https://...)` in Markdown, so no copy ever loses where a link pointed.

In the Markdown copy, text is escaped for Markdown the way HTML text is escaped for HTML:
a title, a name or a sentence that reads `[x](javascript:alert(1))` or `<img onerror=...>`
is shown as written by every renderer (Python-Markdown and CommonMark alike) and never
becomes a link, an image or a tag the author did not write (`escape_markdown`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import lxml.etree

WIDTH = 72


class MarkdownText(str):
    """Text that is Markdown already; Markdown templates print it as it is (see theme.py)."""


# Backslash escapes work for these in Python-Markdown and CommonMark alike; '<', '>' and '&'
# take entities instead (Python-Markdown shows a backslash before them). An underscore inside
# a word never makes emphasis, and a single '~' never strikes through, so those stay as typed;
# a '!' that ends a piece of text is escaped, as a link may follow it and become an image.
_MD_SPECIAL = re.compile(r"[\\`*{}\[\]<>]|(?<![^\W_])_|_(?![^\W_])|&(?=#|[A-Za-z0-9]+;)|~(?=~)|(?<=~)~|!\Z")
_MD_MAYBE_SPECIAL = re.compile(r"[\\`*{}\[\]<>_&~!]")  # every match of _MD_SPECIAL holds one of these
_MD_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "~": "&#126;"}
# What opens a heading, list, rule, fence, setext underline or definition at a line's start.
_MD_LINE_START = re.compile(r"^([ \t]*)(?:([#+-])|([=:~])|(\d{1,9})([.)]))", re.M)
_MD_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f<>\\`]|&(?=#|[A-Za-z0-9]+;)")


def escape_markdown(text: str) -> str:
    """Text that renders as itself in Markdown: no link, image, tag, code, emphasis or block."""
    return escape_line_starts(escape_inline(text))


def escape_inline(text: str) -> str:
    """escape_markdown for text inside a line: what only matters at a line's start stays as typed."""
    if not _MD_MAYBE_SPECIAL.search(text):  # most text has none: skip the slower expression
        return text
    return _MD_SPECIAL.sub(lambda m: _MD_ENTITIES.get(m[0], "\\" + m[0]), text)


def escape_line_starts(markdown: str) -> str:
    """Escape block syntax at the start of every line of escaped inline Markdown."""
    if "\n" not in markdown:  # one line, as most blocks are: only its start can need it
        first = markdown.lstrip(" \t")[:1]
        if first and first not in "#+-=:~" and not first.isdigit():
            return markdown
    return _MD_LINE_START.sub(_escaped_start, markdown)


def _escaped_start(match: re.Match[str]) -> str:
    if match[2]:
        return f"{match[1]}\\{match[2]}"
    if match[3]:
        return f"{match[1]}&#{ord(match[3])};"
    return f"{match[1]}{match[4]}\\{match[5]}"


def markdown_destination(url: str) -> str:
    """A URL as a Markdown link target; in <angle brackets> when it holds parentheses."""
    url = _MD_URL_UNSAFE.sub(lambda m: f"%{ord(m[0]):02X}", url)
    return f"<{url}>" if "(" in url or ")" in url else url


def code_span(code: str) -> str:
    """Inline code whose content is shown as it is, whatever backticks it holds."""
    if not code:
        return ""
    fence = "`" * (max((len(run) for run in re.findall("`+", code)), default=0) + 1)
    pad = " " if code[0] in "` " or code[-1] in "` " else ""
    return f"{fence}{pad}{code}{pad}{fence}"


def code_block(code: str) -> str:
    """A fenced code block no line of the code can close early."""
    fence = "`" * max(3, max((len(run) for run in re.findall("`+", code)), default=0) + 1)
    return f"{fence}\n{code}\n{fence}"
_MARKERS = {"em": "*", "i": "*", "strong": "**", "b": "**", "code": "`"}
_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr", "table",
           "ul", "ol", "hr", "figure", "figcaption", "dl", "dt", "dd", "section", "article", "header", "footer"}


class _Converter:
    """Turns the events of one walk over an HTML tree into plain text or Markdown."""

    def __init__(self, markdown: bool) -> None:
        self.markdown = markdown
        self.blocks: list[str] = []
        self.inline: list[str] = []
        self.links: list[tuple[str, int]] = []  # href, where its text starts in self.inline
        self.lists: list[list[int]] = []  # [ordered, counter]
        self.quote = 0
        self.pre = 0
        self.heading = 0
        self.cells: list[str] = []
        self.rows: list[str] = []
        self.skip = 0
        self.code: list[int] = []  # where each open inline <code>'s text starts (Markdown only)

    # Block handling -------------------------------------------------------------------
    def _flush(self) -> None:
        if not self.inline:  # called at every block tag, mostly with nothing gathered
            return
        text = "".join(self.inline)
        self.inline = []
        if self.pre:
            block = text.strip("\n")
            if block:
                self._emit(block if not self.markdown else code_block(block), wrap=False)
            return
        text = " ".join(text.split())
        if not text:
            return
        if self.markdown:
            text = escape_line_starts(text)
        if self.heading:
            if self.markdown:
                text = "#" * self.heading + " " + (text[:-1] + "\\#" if text.endswith("#") else text)
            elif self.heading <= 2:
                text = f"{text}\n{('=' if self.heading == 1 else '-') * min(len(text), WIDTH)}"
                self._emit(text, wrap=False)
                return
        self._emit(text, wrap=True)

    def _emit(self, text: str, *, wrap: bool) -> None:
        indent = ""
        first = ""
        if self.lists:
            depth = len(self.lists) - 1
            ordered, counter = self.lists[-1]
            marker = f"{counter}. " if ordered else "- "
            first = "   " * depth + marker
            indent = "   " * depth + " " * len(marker)
        quote = "> " * self.quote
        if wrap and not self.markdown:  # Markdown joins a paragraph's lines anyway: one line each
            lines = wrap_words(text, WIDTH - len(quote) - len(indent))
        elif wrap:
            lines = [text]
        else:
            lines = text.split("\n")
        if first and self.list_item_open:
            lines = [first + lines[0], *[indent + line for line in lines[1:]]]
            self.list_item_open = False
        elif indent:
            lines = [indent + line for line in lines]
        self.blocks.append("\n".join(quote + line for line in lines))

    list_item_open = False

    def handle_starttag(self, tag: str, attributes: Mapping[str, str]) -> None:
        if tag in ("script", "style", "template"):
            self.skip += 1
            return
        if tag in _BLOCKS and tag != "table":
            self._flush()
        if tag in ("ul", "ol"):
            start = int(attributes.get("start") or 1) if tag == "ol" else 0
            self.lists.append([tag == "ol", start - 1])
        elif tag == "li" and self.lists:
            self.lists[-1][1] += 1
            self.list_item_open = True
        elif tag == "blockquote":
            self.quote += 1
        elif tag == "pre":
            self.pre += 1
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.heading = int(tag[1])
        elif tag == "hr":
            self.blocks.append("---" if self.markdown else "* * *")
        elif tag == "br":
            self.inline.append("\n" if self.pre else "  \n" if self.markdown else " ")
        elif tag == "a":
            self.links.append((attributes.get("href") or "", len(self.inline)))
        elif tag == "img":
            alt = attributes.get("alt") or ""
            src = attributes.get("src") or ""
            if self.markdown:
                self.inline.append(f"![{escape_inline(alt)}]({markdown_destination(src)})")
            else:
                self.inline.append(f"[image: {alt}] ({src})" if alt else f"[image] ({src})")
        elif tag == "code" and self.markdown and not self.pre:
            self.code.append(len(self.inline))
        elif self._marker(tag):
            self.inline.append(self._marker(tag))
        elif tag in ("td", "th"):
            self.cells.append("")
            self.cell_start = len(self.inline)

    cell_start = 0

    def _marker(self, tag: str) -> str:
        """The Markdown that opens and closes an inline element ("" in plain text)."""
        if not self.markdown or (tag == "code" and self.pre):
            return ""
        return _MARKERS.get(tag, "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self.skip = max(0, self.skip - 1)
            return
        if tag == "a" and self.links:
            href, start = self.links.pop()
            text = " ".join("".join(self.inline[start:]).split())
            if href and not href.startswith("#"):
                if self.markdown:
                    self.inline[start:] = [f"[{text}]({markdown_destination(href)})"]
                elif text.rstrip("/") != href.rstrip("/") and text.rstrip("/") not in (_bare(href), href[7:]):
                    self.inline.append(f" ({href.removeprefix('mailto:')})")
                elif text != href and href.startswith("http"):
                    self.inline[start:] = [href]
            return
        if tag == "code" and self.code:
            start = self.code.pop()
            self.inline[start:] = [code_span("".join(self.inline[start:]))]
        elif self._marker(tag):
            self.inline.append(self._marker(tag))
        elif tag in ("td", "th"):
            cell = " ".join("".join(self.inline[self.cell_start :]).split())
            if self.markdown:
                cell = cell.replace("|", "\\|")
            del self.inline[self.cell_start :]
            if self.cells:
                self.cells[-1] = cell
            return
        elif tag == "tr":
            row = " | ".join(self.cells)
            if row and self.markdown:
                row = "| " + row + " |"
                if not self.rows:
                    row += "\n|" + "---|" * len(self.cells)
            if row:
                self.rows.append(row)
            self.cells = []
            self.inline = []
            return
        elif tag == "table":
            self.blocks.append("\n".join(self.rows))
            self.rows = []
            return
        if tag in _BLOCKS:
            self._flush()
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.heading = 0

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.inline.append(escape_inline(data) if self.markdown and not (self.pre or self.code) else data)

    def result(self) -> str:
        self._flush()
        return "\n\n".join(b for b in self.blocks if b.strip()) + "\n"


def wrap_words(text: str, width: int = WIDTH) -> list[str]:
    """Greedy wrapping at spaces; a word longer than the width (a URL) keeps its own line whole.

    textwrap does the same with break_long_words and break_on_hyphens off, several times
    slower; one regular expression over the folded text does it in C.
    """
    lines = _line_pattern(max(width, 1)).findall(" ".join(text.split()))
    return lines or [""]


@cache
def _line_pattern(width: int) -> re.Pattern[str]:
    # The longest run of at most `width` characters that ends before a space or the end,
    # else one word longer than the width, whole.
    return re.compile(rf"(\S{{{width + 1},}}|.{{1,{width}}})(?: |$)")


def _bare(href: str) -> str:
    return re.sub(r"^https?://", "", href)


def _walk(converters: tuple[_Converter, ...], element: Any) -> None:
    """Drive the converters from lxml's tree: the C parser is many times faster than HTMLParser,
    and one walk feeds the plain-text and the Markdown copy alike."""
    tag = element.tag
    if isinstance(tag, str):
        attributes = element.attrib
        text = element.text
        for converter in converters:
            converter.handle_starttag(tag, attributes)
            if text:
                converter.handle_data(text)
        for child in element:
            _walk(converters, child)
        for converter in converters:
            converter.handle_endtag(tag)
    tail = element.tail
    if tail:
        for converter in converters:
            converter.handle_data(tail)


_PARSER = lxml.etree.HTMLParser()


def html_to_plain_and_markdown(html: str) -> tuple[str, str]:
    """Wrapped plain text and Markdown from one parse and one walk; in the plain text each
    link's target is written out after its text."""
    converters = (_Converter(markdown=False), _Converter(markdown=True))
    if html.strip():
        root = lxml.etree.fromstring(f"<html><body><div>{html}</div></body></html>", _PARSER)[0][0]
        if root.text:
            for converter in converters:
                converter.handle_data(root.text)
        for child in root:
            _walk(converters, child)
    return converters[0].result(), converters[1].result()
