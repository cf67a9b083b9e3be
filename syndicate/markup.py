"""Markdown -> HTML with Python-Markdown, plus what later stages need to know of the result.

This is the expensive stage of a build (several milliseconds an article), so it runs in
worker processes and its result (`Body`) is cached by the hash of the source bytes.
Relative links are resolved here, against the article's folder under content/, into
site-root paths; each output later makes them page-relative or absolute (links.py, which
also neutralises `javascript:` and other non-web links). A body whose shape would make
Python-Markdown run for minutes or exhaust its stack is refused first (bounds.py).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from html import unescape
from pathlib import PurePosixPath
from typing import Any

import markdown
from markdown.extensions import Extension
from markdown.extensions.attr_list import AttrListExtension, AttrListTreeprocessor
from markdown.extensions.toc import TocExtension, TocTreeprocessor, slugify_unicode
from markdown.preprocessors import NormalizeWhitespace, Preprocessor
from markdown.treeprocessors import InlineProcessor
from markdown.util import ETX, STX, AtomicString

from .bounds import check_markdown
from .highlight import PYGMENTS_VERSION, highlight_code
from .links import process_links
from .model import Body, Heading
from .typography import smarten

MARKDOWN_VERSION = f"{markdown.__version__}+pygments-{PYGMENTS_VERSION}"  # both shape a cached body
# `extra` without its attr_list, which _StrictAttrListExtension replaces; typography: see typography.smarten
EXTENSIONS = ("fenced_code", "footnotes", "def_list", "tables", "abbr", "md_in_html", "toc", "sane_lists")
_TAG = re.compile(r"<[^>]+>")
_BLOCK_BOUNDARY = re.compile(r"<(?:br|hr|/?(?:p|div|li|ul|ol|h[1-6]|blockquote|pre|table|tr|td|th|dt|dd))\b[^>]*>")
_FOOTNOTE_REF = re.compile(r'<sup id="fnref[^"]*">.*?</sup>', re.DOTALL)
_FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_MORE = re.compile(r"^<!--\s*more\s*-->\n?", re.MULTILINE | re.IGNORECASE)  # the summary's end, on a line of its own
_WORD = re.compile(r"\w+(?:['’]\w+)*")
_WORD_MEMO_SIZE = 1 << 16


class _StrictAttrLists(AttrListTreeprocessor):
    """attr_list, but only for text that is an attribute list (`{: #id .class key="value" }`).

    The stock pattern takes any `{...}` ending a block, so a Jekyll or Liquid line such as
    `{% endhighlight %}` vanished and left junk attributes (`<p _ endhighlight>`); such text
    now stays text. (The stubs mark the patterns Final; overriding them is the extension point.)"""

    _TOKENS = r"""(?:[#.][^\s{}=#.]+|[A-Za-z_:][\w:.-]*(?:=(?:"[^"\n]*"|'[^'\n]*'|[^\s"'{}=]+))?)"""
    BASE_RE = r"\{\:?[ ]*(" + _TOKENS + r"(?:[ ]+" + _TOKENS + r")*)[ ]*\}"  # type: ignore[misc]
    HEADER_RE = re.compile(r"[ ]+" + BASE_RE + r"[ ]*$")  # type: ignore[misc]
    BLOCK_RE = re.compile(r"\n[ ]*" + BASE_RE + r"[ ]*$")  # type: ignore[misc]
    INLINE_RE = re.compile(r"^" + BASE_RE)  # type: ignore[misc]


class _StrictAttrListExtension(AttrListExtension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown's API
        md.treeprocessors.register(_StrictAttrLists(md), "attr_list", 8)
        md.registerExtension(self)


_QUOTED_FENCE = re.compile(r"^((?:[ ]{0,3}>[ ]?)+)(`{3,}|~{3,})")


class _QuotedFences(Preprocessor):
    """Fenced code inside a blockquote (`> ```c`). Python-Markdown finds fences before it finds
    blockquotes, and only at the start of a line, so a quoted fence became a paragraph and a
    `#define` in it a heading. Each quoted fence is handed to the fenced-code pass without its
    quote markers, and what that pass leaves (a placeholder) goes back inside the quote."""

    def run(self, lines: list[str]) -> list[str]:
        if not any(">" in line and ("```" in line or "~~~" in line) for line in lines):
            return lines
        out: list[str] = []
        index = 0
        while index < len(lines):
            opened = _QUOTED_FENCE.match(lines[index])
            block = self._fence(lines, index, opened[1], opened[2]) if opened else None
            if opened is None or block is None:
                out.append(lines[index])
                index += 1
                continue
            prefix = opened[1]
            done = self.md.preprocessors["fenced_code_block"].run(block)
            out.extend(prefix + line if line else prefix.rstrip() for line in done)
            index += len(block)
        return out

    @staticmethod
    def _fence(lines: list[str], start: int, prefix: str, fence: str) -> list[str] | None:
        """The fence's lines without the quote markers, when it closes inside the same quote."""
        bare = prefix.rstrip()
        block = [lines[start][len(prefix):]]
        for line in lines[start + 1:]:
            if not line.startswith(bare):
                return None
            inner = line[len(prefix):] if line.startswith(prefix) else line[len(bare):]
            block.append(inner)
            if inner.strip() == fence:
                return block
        return None


# What each of Python-Markdown's inline patterns needs in a piece of text to match anywhere in
# it: its expression cannot match text that holds none of these strings. Patterns not listed
# here are always tried.
_NEEDS: dict[str, tuple[str, ...]] = {
    "backtick": ("`",), "escape": ("\\",), "footnote": ("[",), "reference": ("[",), "link": ("[",),
    "image_link": ("[",), "image_reference": ("[",), "short_reference": ("[",), "short_image_ref": ("[",),
    "autolink": ("<",), "automail": ("<",), "html": ("<",), "entity": ("&",), "em_strong": ("*", "_"),
    "linebreak": ("  \n", "\t"),
}
_TRIGGERS = tuple(dict.fromkeys(needed for needs in _NEEDS.values() for needed in needs))
_INLINE_PRIORITY = 20  # where Python-Markdown registers its own inline pass


class _InlineProcessor(InlineProcessor):
    """Python-Markdown's inline pass, trying on each piece of text only the patterns that could
    match in it.

    Most text holds no `<`, `&`, `\\` or backtick, and a list item without `[` or `*` needs
    no link or emphasis pattern: trying every pattern on every piece of text was a third of
    Markdown's time. A pattern is skipped only where its expression could not match, so the
    output is the same (tests/test_markup.py compares it with the unpruned converter).
    """

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        registry = md.inlinePatterns
        needs = {id(registry[name]): frozenset(strings) for name, strings in _NEEDS.items() if name in registry}
        # In the order Markdown tries them, as its own loop indexes them.
        self.patterns: tuple[tuple[Any, frozenset[str] | None], ...] = tuple(
            (pattern, needs.get(id(pattern))) for pattern in registry)
        self.all_need = all(needed is not None for _pattern, needed in self.patterns)

    # Replaces the loop of InlineProcessor.__handleInline (name-mangled, hence this name); its
    # recursive calls from __applyPattern land here too.
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        if isinstance(data, AtomicString):
            return data
        present = frozenset([t for t in _TRIGGERS if t in data])  # only ever shrinks as patterns match
        if not present and self.all_need:
            return data
        apply = self._InlineProcessor__applyPattern  # type: ignore[attr-defined]
        patterns = self.patterns
        start = 0
        while patternIndex < len(patterns):
            pattern, needs = patterns[patternIndex]
            if needs is None or needs & present:
                data, matched, start = apply(pattern, data, patternIndex, start)
                if matched:
                    continue
            patternIndex += 1
            start = 0
        return data


class _TocProcessor(TocTreeprocessor):
    """The toc extension's pass without building a table of contents nobody reads.

    The extension builds, serializes and post-processes the whole table for every document,
    and walks the tree looking for a `[TOC]` marker; only the heading ids and `toc_tokens` are
    used here. The table is still built where the marker appears, which it then replaces.
    """

    def run(self, doc: etree.Element) -> None:
        marker = self.marker
        self.has_marker = bool(marker) and any(marker in (element.text or "") for element in doc.iter())
        super().run(doc)

    def build_toc_div(self, toc_list: list[Any]) -> etree.Element:
        return super().build_toc_div(toc_list) if self.has_marker else etree.Element("div")

    def replace_marker(self, root: etree.Element, elem: etree.Element) -> None:
        if self.has_marker:
            super().replace_marker(root, elem)


class _TocExtension(TocExtension):
    TreeProcessorClass = _TocProcessor


# Python-Markdown's block processors and preprocessors whose expression can claim a block (or
# change a document) only when it holds one of these strings. Most paragraphs hold none, and
# each skipped pass is a regular-expression search over the block or the whole document.
# Processors whose `test` always says yes decide in `run`, which is guarded instead.
_BLOCK_NEEDS: dict[str, tuple[str, ...]] = {
    "hashheader": ("#",), "hr": ("-", "_", "*"), "deflist": (":",), "quote": (">",), "table": ("|",),
    "setextheader": ("\n=", "\n-"),  # its expression is anchored: the first line, then the underline
}
# Processors whose expression needs a line that opens (after at most three spaces) with one of
# these characters; the block's first line is checked here, any other line by the needs above.
_LINE_START_NEEDS: dict[str, str] = {"hr": "-_*", "deflist": ":"}
_RUN_NEEDS: dict[str, tuple[str, ...]] = {"footnote": ("[^",), "abbr": ("*[",), "reference": ("]:",)}
# Preprocessors that return the lines unchanged when none of these is in the document:
# fences, and for the raw-HTML pass a tag or an entity (its parser rewrites `&name` as `&name;`).
_DOCUMENT_NEEDS: dict[str, tuple[str, ...]] = {"fenced_code_block": ("```", "~~~"), "html_block": ("<", "&")}
# Tree passes that can only change a document whose text holds one of these: attribute lists
# open with `{`, and the unescape pass restores backslash escapes. Each walks every element.
_TREE_NEEDS: dict[str, tuple[str, ...]] = {"attr_list": ("{",), "unescape": ("\\",)}


def _guard_processors(md: markdown.Markdown) -> None:
    """Put the checks above in front of the processors they describe (in this converter only)."""
    blocks = md.parser.blockprocessors
    for name, needs in _BLOCK_NEEDS.items():
        if name in blocks:
            _wrap(blocks[name], "test", _guard_test, needs)
    for name, opening in _LINE_START_NEEDS.items():
        if name in blocks:
            _wrap(blocks[name], "test", _guard_line_start, (opening,))
    for name, needs in _RUN_NEEDS.items():
        if name in blocks:
            _wrap(blocks[name], "run", _guard_run, needs)
    for name, needs in _DOCUMENT_NEEDS.items():
        if name in md.preprocessors:
            _wrap(md.preprocessors[name], "run", _guard_lines, needs)


def _wrap(processor: object, method: str, guard: Callable[[Any, tuple[str, ...]], Any], needs: tuple[str, ...]) -> None:
    setattr(processor, method, guard(getattr(processor, method), needs))


def _guard_test(test: Callable[[Any, str], bool], needs: tuple[str, ...]) -> Callable[[Any, str], bool]:
    def guarded(parent: Any, block: str) -> bool:
        for needed in needs:  # a loop, not any(): this runs for every block
            if needed in block:
                return test(parent, block)
        return False
    return guarded


def _guard_line_start(test: Callable[[Any, str], bool], needs: tuple[str, ...]) -> Callable[[Any, str], bool]:
    """A test that runs only when a line of the block can open with one of `needs[0]`'s
    characters: the first line after its spaces, or a later line (after a newline, then
    that character or a space; a conservative guess)."""
    opening = needs[0]

    def guarded(parent: Any, block: str) -> bool:
        first = block.lstrip(" ")[:1]
        if first and first in opening:
            return test(parent, block)
        if "\n" in block:
            for char in opening + " ":
                if "\n" + char in block:
                    return test(parent, block)
        return False
    return guarded


def _guard_run(run: Callable[[Any, list[str]], Any], needs: tuple[str, ...]) -> Callable[[Any, list[str]], Any]:
    def guarded(parent: Any, blocks: list[str]) -> Any:
        for needed in needs:
            if needed in blocks[0]:
                return run(parent, blocks)
        return False  # the processor left the block alone, as `run` itself would have said
    return guarded


def _guard_lines(run: Callable[[list[str]], list[str]], needs: tuple[str, ...]) -> Callable[[list[str]], list[str]]:
    def guarded(lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        return run(lines) if any(needed in text for needed in needs) else lines
    return guarded


class _Switch:
    """Runs a tree pass only for documents whose text holds what it needs (set by `convert`)."""

    def __init__(self, processor: object, needs: tuple[str, ...]) -> None:
        self.run: Callable[[etree.Element], Any] = getattr(processor, "run")  # noqa: B009
        self.needs = needs
        self.on = True
        setattr(processor, "run", self.guarded)  # noqa: B010 - mypy forbids assigning to a method

    def check(self, text: str) -> None:
        self.on = any(needed in text for needed in self.needs)

    def guarded(self, root: etree.Element) -> Any:
        return self.run(root) if self.on else None


# Block processors whose test is false for a block that opens with a letter: each needs its
# first line to open with a space, a digit or a marker (or the block to be empty); and those
# that need a second line as well (a heading's underline, a table's separator row, or a rule,
# a definition, a quote or a `#` heading on a later line). Prose blocks open with a letter.
_FIRST_LINE_ONLY = frozenset({"empty", "indent", "defindent", "code", "olist", "ulist"})
_LATER_LINES = frozenset({"table", "hashheader", "setextheader", "hr", "deflist", "quote"})


def _fix_lookups(md: markdown.Markdown) -> None:
    """Lookups Python-Markdown makes thousands of times a document, made once.

    Its block parser asks its registry for the processors again for every block (the registry
    sorts them and builds a new list each time), and `is_block_level` searches a list of forty
    tag names. The converter is complete here, so neither can change any more. A block that
    opens with a letter is offered only to the processors that could take it (see
    _FIRST_LINE_ONLY): about half of the tests for most paragraphs.
    """
    registry = md.parser.blockprocessors
    processors = tuple(registry)
    first_line_only = {id(registry[name]) for name in _FIRST_LINE_ONLY if name in registry}
    later_lines = {id(registry[name]) for name in _LATER_LINES if name in registry}
    lines = tuple(p for p in processors if id(p) not in first_line_only)  # in the parser's order
    line = tuple(p for p in lines if id(p) not in later_lines)

    def parse_blocks(parent: etree.Element, blocks: list[str]) -> None:  # BlockParser.parseBlocks, same loop
        while blocks:
            block = blocks[0]
            candidates = (line if "\n" not in block else lines) if block[:1].isalpha() else processors
            for processor in candidates:
                if processor.test(parent, blocks[0]) and processor.run(parent, blocks) is not False:
                    break  # run returned True or None: the block was used

    block_level = frozenset(md.block_level_elements)

    def is_block_level(tag: Any) -> bool:  # Markdown.is_block_level, same answer
        return isinstance(tag, str) and tag.lower().rstrip("/") in block_level

    setattr(md.parser, "parseBlocks", parse_blocks)  # noqa: B010 - mypy forbids assigning to a method
    setattr(md, "is_block_level", is_block_level)  # noqa: B010


# Spaces on an otherwise blank line, matched from the newline before them (kept for the next
# line): Python-Markdown's `(?<=\n) +\n` opens with a look-behind, tried at every character.
_BLANK_LINE_SPACES = re.compile(r"\n +(?=\n)")


def _fix_whitespace_pass(md: markdown.Markdown) -> None:
    """NormalizeWhitespace.run, step for step, with _BLANK_LINE_SPACES for its expression."""
    if type(md.preprocessors["normalize_whitespace"]) is not NormalizeWhitespace:
        return

    def run(lines: list[str]) -> list[str]:
        source = "\n".join(lines)
        source = source.replace(STX, "").replace(ETX, "")
        source = source.replace("\r\n", "\n").replace("\r", "\n") + "\n\n"
        source = source.expandtabs(md.tab_length)
        source = _BLANK_LINE_SPACES.sub("\n", source)
        return source.split("\n")

    setattr(md.preprocessors["normalize_whitespace"], "run", run)  # noqa: B010


_TOP = PurePosixPath(".")


class MarkupError(Exception):
    """A body Python-Markdown cannot render in bounded time or stack; `line` is in its text."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class MarkdownRenderer:
    """Markdown -> Body with one converter, made on first use and reset before every document.

    Owned by a build (the preview server keeps one between builds) and handed to the worker
    processes with the rest of what they need: each forked worker inherits the converter the
    parent made, compiled patterns included, instead of building its own. The converter skips
    the passes that cannot match (see `_NEEDS`, `_BLOCK_NEEDS`), and the word counts of the
    tokens seen so far are remembered (see `count_words`)."""

    def __init__(self) -> None:
        self._md: markdown.Markdown | None = None
        self._switches: tuple[_Switch, ...] = ()
        self._words: dict[str, int] = {}

    def converter(self) -> markdown.Markdown:
        if self._md is None:
            md = markdown.Markdown(extensions=[*_extension_objects(), _StrictAttrListExtension()], output_format="html")
            md.treeprocessors.register(_InlineProcessor(md), "inline", _INLINE_PRIORITY)
            md.preprocessors.register(_QuotedFences(md), "quoted_fences", 26)  # just before fenced_code_block
            _guard_processors(md)
            _fix_lookups(md)
            _fix_whitespace_pass(md)
            self._switches = tuple(_Switch(md.treeprocessors[name], needs) for name, needs in _TREE_NEEDS.items()
                                   if name in md.treeprocessors)
            self._md = md
        return self._md

    def convert(self, text: str) -> str:
        """Python-Markdown's HTML for one document, as it is (the converter, reset)."""
        md = self.converter()
        md.reset()
        for switch in self._switches:
            switch.check(text)
        return md.convert(text)

    def render(self, text: str, source_dir: PurePosixPath = _TOP) -> Body:
        """Render one document; `source_dir` is its folder relative to content/.

        Raises MarkupError for a shape that would exhaust Python-Markdown (see check_markdown)."""
        problem = check_markdown(text)
        if problem is not None:
            raise MarkupError(*problem)
        try:
            html = self.convert(text)
        except RecursionError:
            raise MarkupError(1, "the Markdown is nested too deeply to render (lists or quotes inside each other)") from None
        facts = process_links(html, text, source_dir)
        html = smarten(highlight_code(facts.html))
        tokens: list[dict[str, Any]] = getattr(self.converter(), "toc_tokens", [])
        more = _MORE.search(html) if "<!--" in html else None
        if more is not None:  # everything above the line is the summary; the marker itself goes
            lead = html_to_text(html[: more.start()])
            html = html[: more.start()] + html[more.end() :]
        else:
            first = _FIRST_PARAGRAPH.search(html)
            lead = html_to_text(first[1]) if first else ""
        return Body(
            html=html,
            first_paragraph=lead,
            summary_cut=more is not None,
            word_count=count_words(html, self._words),
            headings=tuple(_flatten(tokens)),
            links=tuple(facts.links),
            ids=tuple(dict.fromkeys(facts.ids)),
            link_lines=tuple(facts.links.values()),
            notes=tuple(sorted([*facts.notes, *list_shape_notes(text)])),
        )


_LIST_LINE = re.compile(r"( *)(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")
_FENCE_START = re.compile(r"( *)(`{3,}|~{3,})")


def list_shape_notes(text: str) -> list[tuple[int, str]]:
    """Warnings, by line, for two shapes written the CommonMark way (GitHub, most editors) that
    Python-Markdown reads otherwise, silently: a list item nested by fewer than four spaces
    (run into the item above, or made its sibling) and a fenced code block inside a list item
    (shown as one line of inline code: fences are read at the left margin only)."""
    notes: list[tuple[int, str]] = []
    parent = -1  # the marker indent of the list item above, while a list goes on; -1 outside lists
    fence = ""  # the fence that opened the code block at the left margin we are in
    for number, line in enumerate(text.expandtabs(4).split("\n"), start=1):
        if fence:  # inside a code block: to its closing fence (indented like it when it is in a list)
            closing = line.lstrip(" ")
            fence = "" if closing.startswith(fence) and not closing[len(fence):].strip(fence[0] + " ") else fence
            continue
        if parent < 0 and line.startswith("    "):
            continue  # an indented code block, its lines shown as typed
        if opening := _FENCE_START.match(line):
            if opening[1] and parent >= 0:
                notes.append((number, "a fenced code block inside a list item is shown as one line of inline code; "
                                      "end the list before it, or indent the code by 8 spaces without the fence lines"))
            fence, parent = opening[2], parent if opening[1] else -1
            continue
        item = _LIST_LINE.match(line)
        if item:
            indent = len(item[1])
            if parent >= 0 and parent < indent < parent + 4:
                notes.append((number, f"this list item is indented {indent - parent} space(s) under the one above, so it "
                                      "is not nested in it (it runs into it or follows it); nested items need 4 spaces more"))
            parent = indent if parent < 0 or indent < parent or indent >= parent + 4 else parent
        elif line.strip() and not line.startswith(" "):
            parent = -1
    return notes


def _extension_objects() -> list[Extension]:
    """EXTENSIONS as objects, in their order: Python-Markdown looks a name up among every
    installed package's entry points, which costs a fresh process more than rendering a page."""
    from markdown.extensions.abbr import AbbrExtension
    from markdown.extensions.def_list import DefListExtension
    from markdown.extensions.fenced_code import FencedCodeExtension
    from markdown.extensions.footnotes import FootnoteExtension
    from markdown.extensions.md_in_html import MarkdownInHtmlExtension
    from markdown.extensions.sane_lists import SaneListExtension
    from markdown.extensions.tables import TableExtension

    return [FencedCodeExtension(), FootnoteExtension(), DefListExtension(), TableExtension(), AbbrExtension(),
            MarkdownInHtmlExtension(), _TocExtension(slugify=slugify_unicode, toc_depth="2-4"), SaneListExtension()]


def render_markdown(text: str, source_dir: PurePosixPath = _TOP, renderer: MarkdownRenderer | None = None) -> Body:
    """Render one document; without a renderer, with a new one (slower: for one-off uses)."""
    return (renderer or MarkdownRenderer()).render(text, source_dir)


def convert(text: str) -> str:
    """Python-Markdown's HTML for one document, with a new converter (for one-off uses and tests)."""
    return MarkdownRenderer().convert(text)


def html_to_text(html: str) -> str:
    """Visible text of a small HTML fragment, whitespace folded: for summaries and counts."""
    return " ".join(_visible_text(html).split())


def count_words(html: str, memo: dict[str, int] | None = None) -> int:
    """The words of a body's visible text as `_WORD` finds them, counted token by token.

    A word never spans whitespace, so the count is the sum over whitespace-separated tokens;
    prose repeats its tokens, so each one's count is kept in `memo` instead of searched again.
    """
    counts = {} if memo is None else memo
    total = 0
    for token in _visible_text(html).split():
        count = counts.get(token)
        if count is None:
            if len(counts) > _WORD_MEMO_SIZE:  # a bound, for a renderer kept by a long-running server
                counts.clear()
            count = counts[token] = len(_WORD.findall(token))
        total += count
    return total


def _visible_text(html: str) -> str:
    return unescape(_TAG.sub("", _BLOCK_BOUNDARY.sub(" ", _FOOTNOTE_REF.sub("", html))))


def _flatten(tokens: list[dict[str, Any]]) -> list[Heading]:
    headings = []
    for token in tokens:
        headings.append(Heading(int(token["level"]), str(token["id"]), smarten(html_to_text(str(token["name"])))))
        headings.extend(_flatten(token.get("children", [])))
    return headings
