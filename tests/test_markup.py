"""Markdown rendering: the pruned passes change nothing; typography and wrapping rules."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import feedparser
import lxml.html
import markdown
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown.extensions.toc import slugify_unicode

from syndicate.bounds import check_markdown
from syndicate.errors import SiteError
from syndicate.markup import (
    _WORD,
    EXTENSIONS,
    MarkdownRenderer,
    MarkupError,
    _StrictAttrListExtension,
    count_words,
    html_to_text,
    render_markdown,
)
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


PRUNED = MarkdownRenderer()


def full_converter() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[*EXTENSIONS, _StrictAttrListExtension()],
        extension_configs={"toc": {"slugify": slugify_unicode, "toc_depth": "2-4"}},
        output_format="html",
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PIECES, max_size=30).map("".join))
@example("word\t\nnext")  # a tab before a line end becomes the spaces of a hard break
@example("[x]\n\n[x]: <https://example.com> 'Title'")
def test_skipping_passes_that_cannot_match_changes_no_output(text: str) -> None:
    # One renderer for every example, as a build reuses one: nothing may leak between documents.
    assert PRUNED.convert(text) == full_converter().convert(text)


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


def test_liquid_tags_stay_text_and_attribute_lists_still_work() -> None:
    text = "{% highlight python %}\nx = 1\n{% endhighlight %}\n\nA note\n{: .aside #n1 }\n\n## Heading {#custom}\n\nSee {{ site.url }}"
    html = render_markdown(text).html
    assert "{% highlight python %}" in html and "{% endhighlight %}" in html and "{{ site.url }}" in html
    assert "<p _" not in html and "endhighlight>" not in html
    assert '<p class="aside" id="n1">A note</p>' in html and '<h2 id="custom">Heading</h2>' in html


# Shapes that made Python-Markdown run for minutes (rescanning from every unclosed opener)
# or recurse past the stack, each refused at once with the line to fix.
HOSTILE_SHAPES = [
    ("open-brackets", "Intro.\n\n" + "[" * 20_000, 3),
    ("open-images", "![" * 10_000, 1),
    ("open-targets", "[a](" * 5_000, 1),
    ("open-tags", "Intro.\n\nMore.\n\n" + "<a " * 7_000, 5),
    ("footnote-refs", "[^" * 10_000, 1),
    ("cdata", "<![CDATA[" * 2_000, 1),
    ("nested-brackets", "[" * 10_000 + "]" * 10_000, 1),
    ("nested-list", "\n".join("    " * depth + "- item" for depth in range(300)), 66),
    ("one-line-lists", "1. " * 5_000 + "x", 1),
    ("nested-quotes-and-lists", "> - " * 3_000 + "x", 1),
    ("after-a-fence", "```\ncode\n```\n" + "[" * 20_000, 4),
    ("list-continuation", "- item\n\n" + "    [x\n" * 4_000, 3),
    ("backtick-runs", "".join("`" * (3 + n) + "\n" for n in range(600)), 1),
    ("unclosed-fence", "```\t&" + "[" * 4_400, 1),
    ("fence-then-spaces", "Intro.\n\n````" + "\t" * 4_800, 3),
    ("escaped-closers", "\n    ~~~\n1. " + "~~~@\\]<[" * 645, 3),
    ("fences-never-closed", "".join("`" * (3 + n) + "\n" for n in range(600)), 1),
]


@pytest.mark.parametrize(("text", "line"), [c[1:] for c in HOSTILE_SHAPES], ids=[c[0] for c in HOSTILE_SHAPES])
def test_shapes_that_would_hang_or_crash_markdown_are_refused_at_once(text: str, line: int) -> None:
    started = time.perf_counter()
    with pytest.raises(MarkupError) as caught:
        render_markdown(text)
    assert time.perf_counter() - started < 2.0
    assert caught.value.line == line
    assert any(word in caught.value.message for word in ("nested", "never closed", "spaces in a row"))


def test_a_refused_body_is_a_problem_with_its_file_and_line(write_site: Callable[..., Path]) -> None:
    site = write_site({"content/a.md": article(body="Fine start.\n\n" + "[" * 20_000), "content/b.md": article("B")})
    with pytest.raises(SiteError) as caught:
        build_site(site)
    [problem] = caught.value.problems
    assert (problem.path, problem.line) == ("content/a.md", 8)
    assert problem.message.startswith("too many '[', '(', '<' or '`' that are never closed")


ORDINARY = [
    ("citations", " ".join(f"a claim [{i}] and more (see note {i})" for i in range(2000))),
    ("prose-comparisons", "\n".join(f"- case {i}: when n < {i} the cost stays [small] (linear" for i in range(1000))),
    ("emoticons", " ".join("sad :( then happy :) again" for _ in range(2000))),
    ("code-in-fences", "```\n" + "\n".join("if (a < b[i] && c[j" for _ in range(3000)) + "\n```\n"),
    ("indented-code", "\n".join("    while (a[i] < n) { push(b[i" for _ in range(2000))),
    ("deep-but-sane-list", "\n".join("    " * depth + "- item" for depth in range(12))),
    ("code-spans", " ".join(f"call `f({i})` then ``g(`x`)`` or it`s fine" for i in range(2000))),
    ("link-list", "\n".join(f"- [Item {i}](https://example.com/{i}) and ![pic {i}](p{i}.png)" for i in range(1500))),
]


@pytest.mark.parametrize("text", [c[1] for c in ORDINARY], ids=[c[0] for c in ORDINARY])
def test_long_ordinary_articles_are_never_refused(text: str) -> None:
    assert check_markdown(text) is None
    render_markdown(text)


def fenced_code_ranges(text: str) -> list[tuple[int, int]]:
    """Where fenced_code itself finds code blocks: its pattern and its loop, as written."""
    from markdown.extensions.attr_list import get_attrs_and_remainder
    from markdown.extensions.fenced_code import FencedBlockPreprocessor

    ranges, index = [], 0
    while (match := FencedBlockPreprocessor.FENCED_BLOCK_RE.search(text, index)) is not None:
        if match["attrs"] and get_attrs_and_remainder(match["attrs"])[1]:
            index = match.end("attrs")
            continue
        ranges.append((match.start(), match.end()))
        index = match.end()
    return ranges


FENCE_LINES = st.lists(st.sampled_from([
    "```", "````", "~~~", "``` ", "```python", "``` .py", "```{.py #id}", "```{bad}}", "~~~ {: .x}", "```\t&", "text",
    "", "    ```", "[link]", '``` hl_lines="1 2"', "```hl_lines='1'", "````` ", "~~~~", "``", "```x y",
]), max_size=14).map("\n".join)


@settings(max_examples=500, deadline=None)
@given(FENCE_LINES)
def test_fences_are_found_exactly_where_fenced_code_finds_them(text: str) -> None:
    from syndicate.bounds import _find_fences

    assert _find_fences(text).ranges == fenced_code_ranges(text)


WORDY = st.sampled_from(["word", "don't", "it’s", "’", "'", " ", "\n", "<p>", "</p>", "<em>", "</em>", "<br>", "&amp;",
                         "&#39;", "&rsquo;", "a_b", "été", "3.5", "—", "-", "<li>", "x'", "'y", "<sup id=\"fnref:1\">1</sup>"])


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDY, max_size=40).map("".join))
def test_words_counted_token_by_token_as_over_the_whole_text(html: str) -> None:
    memo: dict[str, int] = {}
    assert count_words(html, memo) == len(_WORD.findall(html_to_text(html))) == count_words(html, memo)


def test_fenced_code_inside_a_blockquote_is_code_in_the_quote() -> None:
    """A quoted fence (`> ```c`) was read as a paragraph, and a `#define` in it as a heading."""
    text = ("Intro.\n\n> Read this:\n>\n> ```c\n> #define LIMIT 3\n>\n> int twice(int x) { return 2 * x; }\n> ```\n>\n"
            "> Then compile.\n\n```\n> a fence that quotes\n```\n\n> > ~~~\n> > nested\n> > ~~~\n")
    tree = lxml.html.fragment_fromstring(render_markdown(text).html, create_parent="div")
    quote = tree.find("blockquote")
    assert quote is not None and not quote.findall(".//h1")
    code = quote.find("pre/code")
    assert code is not None and code.get("class") == "language-c"
    assert code.text_content() == "#define LIMIT 3\n\nint twice(int x) { return 2 * x; }\n"
    assert [p.text_content() for p in quote.findall("p")] == ["Read this:", "Then compile."]
    assert tree.find("pre/code").text_content() == "> a fence that quotes\n"  # a fence's own '>' stays text
    assert tree.find("blockquote[2]/blockquote/pre/code").text_content() == "nested\n"


def test_lists_nested_the_commonmark_way_and_fences_in_list_items_are_warned_about_at_their_lines(
        write_site: Callable[..., Path]) -> None:
    """Python-Markdown nests a list item only 4 spaces under its parent, and reads fences at the
    left margin only: written as GitHub reads them, these went wrong on the page and in every
    copy without a word. An indented code block showing such a list is left alone."""
    body = ("1. Heat the cream.\n   - Not to a boil.\n2. Bust the cache:\n\n   ```sh\n   gh cache delete --all\n   ```\n\n"
            "3. Done.\n    - Nested the way Markdown here reads it.\n\nA list shown as code:\n\n    - a\n      - b\n")
    site = write_site({"content/a.md": article("A", body=body)})
    warnings = [str(w) for w in build_site(site).warnings]
    assert warnings == [
        "content/a.md:7: warning: this list item is indented 3 space(s) under the one above, so it is not nested in it "
        "(it runs into it or follows it); nested items need 4 spaces more",
        "content/a.md:10: warning: a fenced code block inside a list item is shown as one line of inline code; end the list "
        "before it, or indent the code by 8 spaces without the fence lines",
    ]
