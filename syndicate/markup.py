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
from html import unescape
from pathlib import PurePosixPath
from typing import Any

import markdown
from markdown.extensions import Extension
from markdown.extensions.attr_list import AttrListExtension, AttrListTreeprocessor
from markdown.extensions.toc import slugify_unicode
from markdown.treeprocessors import InlineProcessor
from markdown.util import Registry

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


_TOP = PurePosixPath(".")

# What each of Python-Markdown's inline patterns needs in a document to match anywhere in it.
# Most articles have no `<`, `&`, `\\` or backtick, and trying a pattern that cannot match
# on every piece of text is a fifth of Markdown's time: such patterns are left out per
# document. Patterns not listed here are always kept.
_NEEDS = {
    "backtick": "`", "escape": "\\", "footnote": "[", "reference": "[", "link": "[", "image_link": "[",
    "image_reference": "[", "short_reference": "[", "short_image_ref": "[", "autolink": "<",
    "automail": "<", "html": "<", "entity": "&", "em_strong": "*_", "linebreak": ("  \n", "\t"),
}


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
    parent made, compiled patterns included, instead of building its own. The subsets of
    inline patterns (see `_NEEDS`) are remembered per set of patterns present."""

    def __init__(self) -> None:
        self._md: markdown.Markdown | None = None
        self._subsets: dict[tuple[str, ...], Registry[Any]] = {}

    def converter(self) -> markdown.Markdown:
        if self._md is None:
            self._md = markdown.Markdown(extensions=[*_extension_objects(), _StrictAttrListExtension()], output_format="html")
        return self._md

    def _inline_patterns(self, md: markdown.Markdown, text: str) -> Registry[Any]:
        """The inline patterns that could match somewhere in `text`, in their usual order."""
        probe = text + "\n"  # Markdown ends every document with a line break
        present = tuple(name for name, needs in _NEEDS.items() if any(n in probe for n in needs))
        subset = self._subsets.get(present)
        if subset is None:
            subset = self._subsets[present] = md.inlinePatterns[:]  # a copy: same names, same priorities
            for name in _NEEDS:
                if name not in present:
                    subset.deregister(name, strict=False)
        return subset

    def convert(self, text: str) -> str:
        """Python-Markdown's HTML for one document, as it is (the converter, reset)."""
        md = self.converter()
        md.reset()
        inline: InlineProcessor = md.treeprocessors["inline"]  # type: ignore[assignment]
        inline.inlinePatterns = self._inline_patterns(md, text)
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
            word_count=len(_WORD.findall(html_to_text(html))),
            headings=tuple(_flatten(tokens)),
            links=tuple(facts.links),
            ids=tuple(dict.fromkeys(facts.ids)),
            link_lines=tuple(facts.links.values()),
            notes=tuple(facts.notes),
        )


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
    from markdown.extensions.toc import TocExtension

    return [FencedCodeExtension(), FootnoteExtension(), DefListExtension(), TableExtension(), AbbrExtension(),
            MarkdownInHtmlExtension(), TocExtension(slugify=slugify_unicode, toc_depth="2-4"), SaneListExtension()]


def render_markdown(text: str, source_dir: PurePosixPath = _TOP, renderer: MarkdownRenderer | None = None) -> Body:
    """Render one document; without a renderer, with a new one (slower: for one-off uses)."""
    return (renderer or MarkdownRenderer()).render(text, source_dir)


def convert(text: str) -> str:
    """Python-Markdown's HTML for one document, with a new converter (for one-off uses and tests)."""
    return MarkdownRenderer().convert(text)


def html_to_text(html: str) -> str:
    """Visible text of a small HTML fragment, whitespace folded: for summaries and counts."""
    html = _BLOCK_BOUNDARY.sub(" ", _FOOTNOTE_REF.sub("", html))
    return " ".join(unescape(_TAG.sub("", html)).split())


def _flatten(tokens: list[dict[str, Any]]) -> list[Heading]:
    headings = []
    for token in tokens:
        headings.append(Heading(int(token["level"]), str(token["id"]), smarten(html_to_text(str(token["name"])))))
        headings.extend(_flatten(token.get("children", [])))
    return headings
