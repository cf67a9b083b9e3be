"""Markdown rendering: the pruned passes change nothing; typography and wrapping rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import feedparser
import lxml.html
import markdown
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown.extensions.toc import slugify_unicode

from syndicate.markup import _WORD, EXTENSIONS, _SyndicateExtension, count_words, html_to_text, render_markdown
from syndicate.plaintext import wrap_words
from syndicate.typography import smarten

from .conftest import article, build_site

# Pieces that exercise every inline pattern: links, references, images, footnotes, code,
# escapes, autolinks, raw HTML, entities, emphasis and hard line breaks.
PIECES = st.sampled_from([
    "word", "two words", "word\t\n", " ", "\n", "\n\n", "  \n", "\t", "*", "**", "_", "`", "``", "\\", "[", "]", "(", ")", "!",
    "[link](https://example.com/a)", "![alt](pic.png)", "[ref]", "[ref]: https://example.org/r\n", "[^1]",
    "\n[^1]: a note\n", "<https://example.com>", "<mail@example.com>", "<b>bold</b>", "&amp;", "&copy;", "&",
    "<", ">", "'", '"', "--", "...", "- item\n", "1. item\n", "> quote\n", "    code\n", "```\nfenced\n```\n",
    "# Heading\n", "| a | b |\n|---|---|\n| 1 | 2 |\n", "*[HTML]: Hyper Text\n", "HTML", "{: #anchor }",
    "[TOC]", "\n[TOC]\n", "&copy", "&#39", "~~~\ntilde\n~~~\n", "term\n: definition\n", "***\n", "- - -\n",
    "Title\n===\n", "<div>\nraw block\n</div>\n", "<div markdown=\"1\">\n*md*\n</div>\n", "#", ":", "|", ">",
])


def full_converter() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[*EXTENSIONS, _SyndicateExtension()],
        extension_configs={"toc": {"slugify": slugify_unicode, "toc_depth": "2-4"}},
        output_format="html",
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PIECES, max_size=30).map("".join))
@example("word\t\nnext")  # a tab before a line end becomes the spaces of a hard break
@example("[x]\n\n[x]: <https://example.com> 'Title'")
def test_skipping_passes_that_cannot_match_changes_no_output(text: str) -> None:
    expected = smarten(full_converter().convert(text))
    assert render_markdown(text).html == expected


def test_smart_typography() -> None:
    html = smarten("<p>\"Don't\" -- it's the '90s... 'quoted'</p><code>'raw' -- \"x\"</code>")
    assert html == "<p>\u201cDon\u2019t\u201d \u2013 it\u2019s the \u201990s\u2026 \u2018quoted\u2019</p><code>'raw' -- \"x\"</code>"
    assert smarten('<a href="it\'s">""</a>') == '<a href="it\'s">\u201c\u201d</a>'


def test_wrapping_keeps_long_words_whole_and_lines_within_width() -> None:
    url = "https://example.com/" + "long/" * 20
    text = "one two three four five six seven eight nine ten " * 4 + url + " end"
    lines = wrap_words(text, 30)
    assert url in lines
    assert all(len(line) <= 30 for line in lines if line != url)
    assert " ".join(lines) == " ".join(text.split())
    assert wrap_words("") == [""]
    assert wrap_words("a b", 0) == ["a", "b"]


def test_more_line_ends_the_summary(write_site: Callable[..., Path]) -> None:
    body = "First part.\n\nSecond part, still the lead.\n\n<!--more-->\n\nThe rest, past the cut. " + "word " * 120
    site = write_site({"content/cut.md": article("Cut", body=body),
                       "content/long.md": article("Long", date="2024-04-01", body="Uncut " + "words " * 80 + "\n\n<!-- more-ish -->\n\nTail.")})
    build_site(site)
    out = site.parent / "output"
    listing = lxml.html.parse(str(out / "index.html")).getroot()
    summaries = {card.findtext(".//h2/a"): card.find(".//p[@class='summary']").text_content() for card in listing.iter("article")}
    # Everything above the line, whatever its length, and nothing below it.
    assert summaries["Cut"] == "First part. Second part, still the lead."
    # Any other comment is not a cut: the first paragraph is clipped as usual.
    assert summaries["Long"].startswith("Uncut words") and summaries["Long"].endswith("…")
    page = (out / "articles/cut/index.html").read_text()
    assert "<!--more-->" not in page and "The rest, past the cut." in page
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert feed.entries[0].summary == "First part. Second part, still the lead."


def test_more_marker_only_counts_on_its_own_line() -> None:
    body = render_markdown("A paragraph with <!--more--> inside it.\n\nNext.\n")
    assert not body.summary_cut and body.first_paragraph == "A paragraph with inside it."


WORDY = st.sampled_from(["word", "don't", "it’s", "’", "'", " ", "\n", "<p>", "</p>", "<em>", "</em>", "<br>", "&amp;",
                         "&#39;", "&rsquo;", "a_b", "été", "3.5", "—", "-", "<li>", "x'", "'y", "<sup id=\"fnref:1\">1</sup>"])


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDY, max_size=40).map("".join))
def test_words_counted_token_by_token_as_over_the_whole_text(html: str) -> None:
    assert count_words(html) == len(_WORD.findall(html_to_text(html)))
