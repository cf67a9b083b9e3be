"""Code highlighting on built output: classes on the site, inline colours in every e-mail copy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest

from syndicate.highlight import DARK_STYLE, LIGHT_STYLE, highlight_code, style_css
from syndicate.markup import render_markdown

from .conftest import article, build_site

BODY = '''Plain "prose" with `inline code` and the word def, which stays plain.

```python
def greet(name):
    # say hello
    return "Hello, " + name
```

```klingon-script
qaStaH nuq <here>
```

    an indented block
'''


@pytest.fixture
def code_site(write_site: Callable[..., Path]) -> Path:
    site = write_site({"content/code.md": article("With Code", body=BODY)})
    build_site(site)
    return site.parent / "output"


def test_page_has_token_spans_only_in_known_languages(code_site: Path) -> None:
    page = lxml.html.parse(str(code_site / "articles/code/index.html")).getroot()
    blocks = page.cssselect(".prose pre")
    assert len(blocks) == 3
    python, unknown, indented = blocks
    assert python.get("class") == "highlight"
    assert [s.text for s in python.cssselect("span.k")] == ["def", "return"]
    assert python.cssselect("span.c1")[0].text == "# say hello"
    assert python.text_content() == 'def greet(name):\n    # say hello\n    return "Hello, " + name\n'
    # An unknown language and an indented block stay exactly as Markdown wrote them.
    assert unknown.get("class") is None and not unknown.cssselect("span")
    assert unknown.text_content() == "qaStaH nuq <here>\n"
    assert indented.get("class") is None and not indented.cssselect("span")
    # Prose is never coloured, and typography never touches code.
    for p in page.cssselect(".prose p"):
        assert not p.cssselect("span")
    assert "“prose”" in page.cssselect(".prose p")[0].text_content()


def test_site_links_a_light_and_a_dark_stylesheet(code_site: Path) -> None:
    page = lxml.html.parse(str(code_site / "articles/code/index.html")).getroot()
    links = {link.get("href").split("?")[0]: link.get("media") for link in page.cssselect('link[rel="stylesheet"]')}
    assert links["../../static/code-light.css"] is None
    assert links["../../static/code-dark.css"] == "(prefers-color-scheme: dark)"
    light = (code_site / "static/code-light.css").read_text()
    dark = (code_site / "static/code-dark.css").read_text()
    assert "pre.highlight .k { color: #A90D91 }" in light
    assert LIGHT_STYLE in light and DARK_STYLE in dark
    assert light != dark and "pre.highlight .k" in dark


def test_snippet_carries_inline_colours(code_site: Path) -> None:
    snippet = lxml.html.fragment_fromstring((code_site / "syndicate/code.html").read_text(), create_parent="div")
    pre = snippet.cssselect("pre.highlight")[0]
    assert "background: #ffffff" in pre.get("style")
    keyword = pre.cssselect("span.k")[0]
    assert keyword.text == "def" and "color: #A90D91" in keyword.get("style")
    comment = pre.cssselect("span.c1")[0]
    assert "color: #177500" in comment.get("style")
    assert all(span.get("style") is not None for span in pre.cssselect("span.k, span.nf, span.s2"))
    # The unknown language has no spans to colour, and prose keeps the snippet's own styles only.
    unknown = [p for p in snippet.cssselect("pre") if "qaStaH" in p.text_content()][0]
    assert not unknown.cssselect("span")


def test_markdown_copy_fences_keep_the_language_and_the_text_copy_keeps_the_code(code_site: Path) -> None:
    """The editor's platform highlights a fenced block by its language; an unknown language
    is named as written, an indented block has none, and the text copy has the code as typed,
    indented by four so it stands apart from the prose."""
    markdown = (code_site / "syndicate/code.md").read_text()
    assert '```python\ndef greet(name):\n    # say hello\n    return "Hello, " + name\n```' in markdown
    assert "```klingon-script\nqaStaH nuq <here>\n```" in markdown
    assert "```\nan indented block\n```" in markdown
    text = (code_site / "syndicate/code.txt").read_text()
    assert '    def greet(name):\n        # say hello\n        return "Hello, " + name' in text and "```" not in text


def test_feed_items_keep_classes_without_inline_styles(code_site: Path) -> None:
    rss = (code_site / "feed.xml").read_text()
    assert "&lt;span class=\"k\"&gt;def&lt;/span&gt;" in rss
    assert "style=" not in rss


@pytest.mark.parametrize(("language", "highlighted"), [("Python", True), ("js", True), ("text", False), ("", False)],
                         ids=["case-insensitive", "alias", "text-lexer", "no-language"])
def test_language_names(language: str, highlighted: bool) -> None:
    html = render_markdown(f"```{language}\nx = 1\n```\n").html
    assert ('class="highlight"' in html) is (highlighted or language == "text")
    assert ("<span" in html) is highlighted


def test_highlighting_leaves_other_markup_alone() -> None:
    html = "<p>x</p><pre><code>y</code></pre>"
    assert highlight_code(html) == html


@pytest.mark.parametrize("style", [LIGHT_STYLE, DARK_STYLE])
def test_every_token_colour_passes_wcag_aa(style: str) -> None:
    css = style_css(style)
    background = css.split("background: ", 1)[1].split(";", 1)[0]
    colours = {rule.split("color: ", 1)[1].split()[0].rstrip(";}") for rule in css.splitlines()[1:] if "color: #" in rule}
    assert colours
    for colour in colours:
        assert _contrast(colour, background) >= 4.5, (style, colour)


def _contrast(a: str, b: str) -> float:
    def luminance(colour: str) -> float:
        value = colour.lstrip("#")
        value = "".join(c * 2 for c in value) if len(value) == 3 else value
        channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, bl = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * bl

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)
