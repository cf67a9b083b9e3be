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
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import lxml.etree

WIDTH = 72


class MarkdownText(str):
    """Text that is Markdown already; Markdown templates print it as it is (see theme.py)."""


# Backslash escapes work for these in Python-Markdown and CommonMark alike; '<', '>' and '&'
# take entities instead (Python-Markdown shows a backslash before them). An underscore inside
# a word never makes emphasis, and a single '~' never strikes through, so those stay as typed;
# a '!' that ends a piece of text is escaped, as a link may follow it and become an image.
# Every alternative opens with the character it escapes (lookbehinds come after it), so the
# expression engine skips to the next candidate character instead of trying each position.
_MD_SPECIAL = re.compile(r"[\\`*{}\[\]<>]|_(?<![^\W_]_)|_(?![^\W_])|&(?=#|[A-Za-z0-9]+;)|~(?=~)|~(?<=~~)|!\Z")
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


def code_block(code: str, language: str = "") -> str:
    """A fenced code block no line of the code can close early, with its language (the
    editor's platform highlights it by that)."""
    fence = "`" * max(3, max((len(run) for run in re.findall("`+", code)), default=0) + 1)
    return f"{fence}{language}\n{code}\n{fence}"


_LANGUAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+#.-]{0,30}")  # a fence's info word: never a backtick or a space
_MARKERS = {"em": "*", "i": "*", "strong": "**", "b": "**", "code": "`"}
_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr", "table",
           "ul", "ol", "hr", "figure", "figcaption", "dl", "dt", "dd", "section", "article", "header", "footer"}

# What a tag does to a converter, looked up once per element: the walk runs for every element
# of every copy, and a chain of comparisons per tag and per converter was most of its time.
# Kinds below _INLINE end the block being gathered when they open and when they close.
_BLOCK, _ITEM, _HEADING, _LIST, _QUOTE, _PRE, _RULE, _ROW = range(8)
_INLINE, _MARK, _LINK, _CODE, _BREAK, _IMAGE, _CELL, _TABLE, _SKIP = range(8, 17)
_KINDS: dict[str, int] = {
    **dict.fromkeys(_BLOCKS, _BLOCK), "li": _ITEM, "ul": _LIST, "ol": _LIST, "blockquote": _QUOTE, "pre": _PRE,
    "hr": _RULE, "tr": _ROW, "table": _TABLE, **dict.fromkeys(("h1", "h2", "h3", "h4", "h5", "h6"), _HEADING),
    **dict.fromkeys(("em", "i", "strong", "b"), _MARK), "a": _LINK, "code": _CODE, "br": _BREAK, "img": _IMAGE,
    "td": _CELL, "th": _CELL, **dict.fromkeys(("script", "style", "template"), _SKIP),
}


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
        self.language = ""  # of the code block being read (`<code class="language-x">`), for its fence
        self.heading = 0
        self.cells: list[str] = []
        self.rows: list[str] = []
        self.table: list[list[str]] = []  # plain text: the rows' cells, aligned at the table's end
        self.skip = 0
        self.code: list[int] = []  # where each open inline <code>'s text starts (Markdown only)
        self.list_item_open = False
        self.cell_start = 0
        # False while self.inline holds nothing but whitespace (a block's closing one is
        # cleared without a flush, which would only fold it away); True may be a guess.
        self.ink = False

    # Block handling -------------------------------------------------------------------
    def _flush(self) -> None:
        """Write out the block gathered in self.inline (callers check that there is one)."""
        text = "".join(self.inline)
        self.inline = []
        self.ink = False
        if self.pre:
            block = text.strip("\n")
            if block:  # plain text: indented by four, so code stands apart from the prose
                self._emit(code_block(block, self.language) if self.markdown else _indented(block), wrap=False)
            return
        text = _fold(text)
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
        if not self.lists and not self.quote:  # most blocks: no marker, indent or quote to add
            if wrap and not self.markdown:
                self.blocks.append("\n".join(_wrap_folded(text, WIDTH)))
            else:
                self.blocks.append(text)
            return
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
            lines = _wrap_folded(text, WIDTH - len(quote) - len(indent))
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

    def start(self, kind: int, tag: str, element: Any) -> None:
        """An element opens; `kind` is its tag's entry in _KINDS."""
        if kind < _INLINE:
            if self.inline:
                if self.ink or self.pre:
                    self._flush()
                else:
                    self.inline = []
            if kind == _BLOCK or kind == _ROW:
                return
            if kind == _ITEM:
                if self.lists:
                    self.lists[-1][1] += 1
                    self.list_item_open = True
            elif kind == _HEADING:
                self.heading = int(tag[1])
            elif kind == _LIST:
                start = int(element.get("start") or 1) if tag == "ol" else 0
                self.lists.append([tag == "ol", start - 1])
            elif kind == _QUOTE:
                self.quote += 1
            elif kind == _PRE:
                self.pre += 1
            else:  # _RULE
                self.blocks.append("---" if self.markdown else "* * *")
        elif kind == _MARK:
            if self.markdown:
                self.inline.append(_MARKERS[tag])
                self.ink = True
        elif kind == _LINK:
            self.links.append((element.get("href") or "", len(self.inline)))
        elif kind == _CODE:
            if self.markdown and not self.pre:
                self.code.append(len(self.inline))
            elif self.pre:
                self.language = next((name.removeprefix("language-") for name in (element.get("class") or "").split()
                                      if name.startswith("language-") and _LANGUAGE.fullmatch(name[9:])), "")
        elif kind == _BREAK:
            self.inline.append("\n" if self.pre else "  \n" if self.markdown else " ")
        elif kind == _IMAGE:
            alt = element.get("alt") or ""
            src = element.get("src") or ""
            self.ink = True
            if self.markdown:
                self.inline.append(f"![{escape_inline(alt)}]({markdown_destination(src)})")
            else:
                self.inline.append(f"[image: {alt}] ({src})" if alt else f"[image] ({src})")
        elif kind == _CELL:
            self.cells.append("")
            self.cell_start = len(self.inline)
        elif kind == _SKIP:
            self.skip += 1

    def end(self, kind: int, tag: str) -> None:
        """An element closes."""
        if kind < _INLINE:
            if kind == _ROW:
                if self.cells and not self.markdown:
                    self.table.append(self.cells)  # laid out when the table ends, its columns aligned
                row = " | ".join(self.cells)
                if row and self.markdown:
                    row = "| " + row + " |"
                    if not self.rows:
                        row += "\n|" + "---|" * len(self.cells)
                    self.rows.append(row)
                self.cells = []
                self.inline = []
                self.ink = False
                return
            if self.inline:
                if self.ink or self.pre:
                    self._flush()
                else:
                    self.inline = []
            if kind == _LIST:
                if self.lists:
                    self.lists.pop()
            elif kind == _QUOTE:
                self.quote = max(0, self.quote - 1)
            elif kind == _PRE:
                self.pre = max(0, self.pre - 1)
                self.language = ""
            elif kind == _HEADING:
                self.heading = 0
        elif kind == _MARK:
            if self.markdown:
                self.inline.append(_MARKERS[tag])
                self.ink = True
        elif kind == _LINK:
            if self.links:
                self._end_link()
        elif kind == _CODE:
            self.ink = True
            if self.code:
                start = self.code.pop()
                self.inline[start:] = [code_span("".join(self.inline[start:]))]
            elif self.markdown and not self.pre:
                self.inline.append("`")
        elif kind == _CELL:
            cell = " ".join("".join(self.inline[self.cell_start :]).split())
            if self.markdown:
                cell = cell.replace("|", "\\|")
            del self.inline[self.cell_start :]
            if self.cells:
                self.cells[-1] = cell
        elif kind == _TABLE:
            self.blocks.append("\n".join(self.rows) if self.markdown else _aligned(self.table) if self.table else "")
            self.rows, self.table = [], []
        elif kind == _SKIP:
            self.skip = max(0, self.skip - 1)

    def _end_link(self) -> None:
        href, start = self.links.pop()
        self.ink = True
        text = " ".join("".join(self.inline[start:]).split())
        fragment = href.partition("#")[2]
        if fragment.startswith("fnref:"):  # a footnote's way back to its reference: nothing to follow on paper
            del self.inline[start:]
        elif fragment.startswith("fn:"):  # a footnote reference: its number, the note being in the copy
            self.inline[start:] = [f"\\[{text}\\]" if self.markdown else f"[{text}]"]
        elif href and not href.startswith("#"):
            if self.markdown:
                self.inline[start:] = [f"[{text}]({markdown_destination(href)})"]
            elif text.rstrip("/") != href.rstrip("/") and text.rstrip("/") not in (_bare(href), href[7:]):
                self.inline.append(f" ({href.removeprefix('mailto:')})")
            elif text != href and href.startswith("http"):
                self.inline[start:] = [href]

    def data(self, data: str) -> None:
        if not self.skip:
            self.inline.append(escape_inline(data) if self.markdown and not (self.pre or self.code) else data)
            if not self.ink and not data.isspace():
                self.ink = True

    def result(self) -> str:
        if self.inline:
            self._flush()
        return "\n\n".join(b for b in self.blocks if b.strip()) + "\n"


def _indented(code: str) -> str:
    return "\n".join("    " + line if line else line for line in code.split("\n"))


def _aligned(rows: list[list[str]]) -> str:
    """A plain-text table: columns padded to their widest cell, two spaces apart, the first
    row (the head, in a Markdown table) underlined. A cell may hold '|' without splitting."""
    columns = max(len(row) for row in rows)
    rows = [row + [""] * (columns - len(row)) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(columns)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _fold(text: str) -> str:
    """" ".join(text.split()), without splitting text that is folded already, as most blocks
    are: printable (so no whitespace but spaces; every other whitespace character is not),
    with no two spaces in a row and none at either end."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def wrap_words(text: str, width: int = WIDTH) -> list[str]:
    """Greedy wrapping at spaces; a word longer than the width (a URL) keeps its own line whole.

    textwrap does the same with break_long_words and break_on_hyphens off, several times
    slower; one regular expression over the folded text does it in C.
    """
    return _wrap_folded(" ".join(text.split()), width)


def _wrap_folded(text: str, width: int) -> list[str]:
    """wrap_words for text whose whitespace is folded already (the blocks of a copy are)."""
    return _line_pattern(max(width, 1)).findall(text) or [""]


@cache
def _line_pattern(width: int) -> re.Pattern[str]:
    # The longest run of at most `width` characters that ends before a space or the end,
    # else one word longer than the width, whole.
    return re.compile(rf"(\S{{{width + 1},}}|.{{1,{width}}})(?: |$)")


def _bare(href: str) -> str:
    return re.sub(r"^https?://", "", href)


def _walk(plain: _Converter, markdown: _Converter, element: Any) -> None:
    """Drive both converters from lxml's tree: the C parser is many times faster than
    HTMLParser, and one walk feeds the plain-text and the Markdown copy alike."""
    for child in element:
        tag = child.tag
        if tag.__class__ is str:  # not a comment or a processing instruction
            kind = _KINDS.get(tag)
            if kind is not None:  # any other tag (span, sup, ...) gives neither copy anything
                plain.start(kind, tag, child)
                markdown.start(kind, tag, child)
            text = child.text
            if text:
                plain.data(text)
                markdown.data(text)
            if len(child):
                _walk(plain, markdown, child)
            if kind is not None:
                plain.end(kind, tag)
                markdown.end(kind, tag)
        tail = child.tail
        if tail:
            plain.data(tail)
            markdown.data(tail)


@cache
def _parser() -> lxml.etree.HTMLParser:
    import lxml.etree  # loaded by builds that make copies, not by every process that escapes Markdown

    return lxml.etree.HTMLParser()


def html_to_plain_and_markdown(html: str) -> tuple[str, str]:
    """Wrapped plain text and Markdown from one parse and one walk; in the plain text each
    link's target is written out after its text."""
    plain, markdown = _Converter(markdown=False), _Converter(markdown=True)
    if html.strip():
        import lxml.etree

        root = lxml.etree.fromstring(f"<html><body><div>{html}</div></body></html>", _parser())[0][0]
        if root.text:
            plain.data(root.text)
            markdown.data(root.text)
        _walk(plain, markdown, root)
    return plain.result(), markdown.result()
