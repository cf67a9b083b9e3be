"""Markdown -> HTML with Python-Markdown, plus what later stages need to know of the result.

This is the expensive stage of a build (several milliseconds an article), so it runs in
worker processes and its result (`Body`) is cached by the hash of the source bytes.
Relative links are resolved here, against the article's folder under content/, into
site-root paths; each output later makes them page-relative or absolute.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from functools import cache
from html import unescape
from pathlib import PurePosixPath
from typing import Any

import markdown
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.treeprocessors import InlineProcessor, Treeprocessor
from markdown.util import Registry

from .highlight import PYGMENTS_VERSION, highlight_code
from .model import Body, Heading
from .typography import smarten
from .urls import resolve_content_link

MARKDOWN_VERSION = f"{markdown.__version__}+pygments-{PYGMENTS_VERSION}"  # both shape a cached body
EXTENSIONS = ("extra", "toc", "sane_lists")  # typography: see typography.smarten
_TAG = re.compile(r"<[^>]+>")
_BLOCK_BOUNDARY = re.compile(r"<(?:br|hr|/?(?:p|div|li|ul|ol|h[1-6]|blockquote|pre|table|tr|td|th|dt|dd))\b[^>]*>")
_FOOTNOTE_REF = re.compile(r'<sup id="fnref[^"]*">.*?</sup>', re.DOTALL)
_FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_MORE = re.compile(r"^<!--\s*more\s*-->\n?", re.MULTILINE | re.IGNORECASE)  # the summary's end, on a line of its own
_WORD = re.compile(r"\w+(?:['’]\w+)*")


class _LinkResolver(Treeprocessor):
    """Rewrites relative hrefs and srcs to site-root paths and counts images without alt."""

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self.source_dir = PurePosixPath(".")
        self.links: list[str] = []
        self.ids: list[str] = []
        self.missing_alt = 0

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            if element.get("id"):
                self.ids.append(element.get("id", ""))
            if element.tag == "a" and element.get("href", "").startswith("#") and len(element.get("href", "")) > 1:
                self.links.append(element.get("href", ""))  # an anchor on the same page, checked too
            attribute = {"a": "href", "img": "src"}.get(element.tag)
            if attribute is None:
                continue
            if element.tag == "img" and not element.get("alt", "").strip():
                self.missing_alt += 1
            resolved = resolve_content_link(element.get(attribute, ""), self.source_dir)
            if resolved is not None:
                element.set(attribute, resolved)
                self.links.append(resolved)


class _SyndicateExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown's API
        md.treeprocessors.register(_LinkResolver(md), "syndicate_links", 1)


# What each of Python-Markdown's inline patterns needs in a document to match anywhere in it.
# Most articles have no `<`, `&`, `\\` or backtick, and trying a pattern that cannot match
# on every piece of text is a fifth of Markdown's time: such patterns are left out per
# document. Patterns not listed here are always kept.
_NEEDS = {
    "backtick": "`", "escape": "\\", "footnote": "[", "reference": "[", "link": "[", "image_link": "[",
    "image_reference": "[", "short_reference": "[", "short_image_ref": "[", "autolink": "<",
    "automail": "<", "html": "<", "entity": "&", "em_strong": "*_", "linebreak": ("  \n", "\t"),
}


def _inline_patterns(md: markdown.Markdown, text: str) -> Registry[Any]:
    """The inline patterns that could match somewhere in `text`, in their usual order."""
    probe = text + "\n"  # Markdown ends every document with a line break
    present = tuple(name for name, needs in _NEEDS.items() if any(n in probe for n in needs))
    return _pattern_subset(md, present)


@cache
def _pattern_subset(md: markdown.Markdown, present: tuple[str, ...]) -> Registry[Any]:
    subset: Registry[Any] = md.inlinePatterns[:]  # a copy: same names, same priorities
    for name in _NEEDS:
        if name not in present:
            subset.deregister(name, strict=False)
    return subset


@cache
def _converter() -> markdown.Markdown:
    """One converter per process; reset before every document so footnotes never leak."""
    return markdown.Markdown(
        extensions=[*EXTENSIONS, _SyndicateExtension()],
        extension_configs={"toc": {"slugify": slugify_unicode, "toc_depth": "2-4"}},
        output_format="html",
    )


_TOP = PurePosixPath(".")


def render_markdown(text: str, source_dir: PurePosixPath = _TOP) -> Body:
    """Render one document; `source_dir` is its folder relative to content/."""
    md = _converter()
    md.reset()
    resolver: _LinkResolver = md.treeprocessors["syndicate_links"]  # type: ignore[assignment]
    resolver.source_dir = source_dir
    resolver.links = []
    resolver.ids = []
    resolver.missing_alt = 0
    inline: InlineProcessor = md.treeprocessors["inline"]  # type: ignore[assignment]
    inline.inlinePatterns = _inline_patterns(md, text)
    html = smarten(highlight_code(md.convert(text)))
    tokens: list[dict[str, Any]] = getattr(md, "toc_tokens", [])
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
        links=tuple(dict.fromkeys(resolver.links)),
        ids=tuple(dict.fromkeys(resolver.ids)),
        images_without_alt=resolver.missing_alt,
    )


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
