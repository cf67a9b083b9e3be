"""The statement in every form: active links, spelled-out text, and nothing else emitted."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import html5lib
import markdown
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from syndicate.attribution import check_statement, find_links, parse_statement


class Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def anchors(html: str) -> Anchors:
    parser = Anchors()
    parser.feed(html)
    return parser


@pytest.mark.parametrize(
    ("statement", "hrefs", "text"),
    [
        ("Visit www.Example.com.", ["https://www.Example.com"], "Visit https://www.Example.com."),
        ("See example.com/blog today", ["https://example.com/blog"], "See https://example.com/blog today"),
        ("Read https://a.example.org/x?y=1.", ["https://a.example.org/x?y=1"], "Read https://a.example.org/x?y=1."),
        ("[My site](https://me.example.net/) rocks", ["https://me.example.net/"], "My site (https://me.example.net/) rocks"),
        ("Write to desk@example.net", ["mailto:desk@example.net"], "Write to desk@example.net"),
        ("Built with Node.js and plain words.", [], "Built with Node.js and plain words."),
        ("Visit www.JaneDoe.example now", ["https://www.JaneDoe.example"], "Visit https://www.JaneDoe.example now"),
        ("[site](www.example.com)", ["https://www.example.com"], "site (https://www.example.com)"),
    ],
    ids=["www-domain", "domain-path", "url-trailing-dot", "markdown-link", "email", "not-a-domain", "reserved-tld", "markdown-bare-target"],
)
def test_statement_forms(statement: str, hrefs: list[str], text: str) -> None:
    parsed = parse_statement(statement)
    assert anchors(parsed.html).hrefs == hrefs
    assert list(parsed.links) == list(dict.fromkeys(hrefs))
    assert parsed.text == text


def test_statement_html_escapes_markup() -> None:
    parsed = parse_statement("Tom & Jerry <b>bold</b> www.example.com")
    assert "<b>" not in parsed.html
    assert "&amp;" in parsed.html and "&lt;b&gt;" in parsed.html


@pytest.mark.parametrize(
    "statement",
    ["[x](javascript:alert(1))", "go javascript:alert(1)", "[x](data:text/html;base64,AAAA)", "[x](ftp://example.com/a)",
     "[x](/relative/path)", "[x](vbscript:msgbox)"],
    ids=["js-markdown", "js-text", "data", "ftp", "relative", "vbscript"],
)
def test_non_web_schemes_are_rejected(statement: str) -> None:
    assert check_statement(statement)


@pytest.mark.parametrize(("statement", "says"), [
    ("More at [my notebook](https://notes.example.org/x?a=1&b=2 and at example.org.", "not a whole Markdown link"),
    ("More at [my notebook]() today.", "not a whole Markdown link"),
    ("More at [my notebook](https://notes example.org/x).", "not a whole Markdown link"),
    ("Write to [the desk](mailto:).", "has no e-mail address"),
    ("See [the site](https://).", "has no host"),
    ("Write to desk@example or visit example.org.", "'desk@example' in the statement looks like an e-mail address"),
], ids=["no-closing-parenthesis", "empty-target", "space-in-address", "empty-mailto", "no-host", "address-without-domain"])
def test_a_link_that_would_break_in_every_copy_is_an_error(statement: str, says: str) -> None:
    """Each of these went out in every copy as brackets and half a link, or as dead text."""
    problems = check_statement(statement)
    assert len(problems) == 1 and says in problems[0]


def test_plain_statement_passes() -> None:
    assert check_statement("Copyright, Ann. Visit www.example.com and [blog](https://b.example.org).") == []


# Property: any statement built from words, punctuation, URLs, bare domains and Markdown links.

words = st.text(alphabet=st.characters(whitelist_categories=("L", "N"), max_codepoint=0x24F), min_size=1, max_size=10)
punct = st.sampled_from([",", ";", "!", "?", " -", " (", ")", ":", "'", '"'])
hosts = st.from_regex(r"[a-z][a-z0-9]{1,8}", fullmatch=True)
tld = st.sampled_from(["com", "org", "net", "io", "co.uk", "example"])
paths = st.from_regex(r"(/[a-z0-9_-]{1,8}){0,2}", fullmatch=True)
url = st.builds(lambda h, t, p: f"https://{h}.{t}{p}", hosts, tld, paths)
domain = st.builds(lambda w, h, t, p: f"{w}{h}.{t}{p}", st.sampled_from(["", "www."]), hosts, tld, paths)
md_link = st.builds(lambda label, target: (f"[{label}]({target})", label, target), words, url)


# Text that Markdown would read as syntax: in a statement it is words, to be shown as typed.
markup = st.sampled_from([
    "*", "**", "_", "`", "``", "\\", "[", "]", "<", ">", "<b>", "</p>", "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>", "&amp;", "&lt;", "&#106;", "#", "##", "{", "}", "{: .x onclick=y}", "~~", "~~~",
    "|", "!", "![", "---", "===", "1.", "2)", "+", ":", "<!--", "-->", "[^1]", "*[HTML]:",
])


@st.composite
def statements(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    """(statement, expected visible text, expected hrefs in order)."""
    source, visible, hrefs = [], [], []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["word", "word", "punct", "url", "domain", "md", "markup"]))
        if kind == "markup":
            m = draw(markup)
            source.append(m)
            visible.append(m)
        elif kind == "word":
            w = draw(words)
            source.append(w)
            visible.append(w)
        elif kind == "punct":
            p = draw(punct)
            source.append(p)
            visible.append(p)
        elif kind == "url":
            u = draw(url)
            source.append(u)
            visible.append(u)
            hrefs.append(u)
        elif kind == "domain":
            d = draw(domain)
            source.append(d)
            visible.append(d)
            hrefs.append("https://" + d)
        else:
            markdown, label, target = draw(md_link)
            source.append(markdown)
            visible.append(label)
            hrefs.append(target)
        source.append(" ")
        visible.append(" ")
    return "".join(source).strip(), "".join(visible).strip(), hrefs


@settings(max_examples=300, deadline=None)
@given(statements())
def test_every_link_becomes_exactly_one_active_href(case: tuple[str, str, list[str]]) -> None:
    source, visible, hrefs = case
    parsed = parse_statement(source)
    found = anchors(parsed.html)
    assert found.hrefs == hrefs
    assert " ".join("".join(found.text).split()) == " ".join(visible.split())
    assert all(re.match(r"^(https?|mailto):", h) for h in found.hrefs)
    for href in hrefs:
        assert href in parsed.text
    assert check_statement(source) == []
    # The Markdown form, rendered back by Python-Markdown and by a CommonMark renderer, has the
    # same links and words, and no element the statement did not ask for.
    for name, render in RENDERERS.items():
        elements, rendered_hrefs, text = rendered(render(parsed.markdown))
        assert rendered_hrefs == hrefs, (name, parsed.markdown)
        assert text == " ".join(visible.split()), (name, parsed.markdown)
        assert elements <= {"p", "a", "br"}, (name, parsed.markdown, elements)


RENDERERS = {
    "python-markdown": lambda text: markdown.markdown(text),
    "python-markdown extra": lambda text: markdown.markdown(text, extensions=["extra", "sane_lists"]),
    "commonmark": MarkdownIt("commonmark").render,
}


def rendered(html: str) -> tuple[set[str], list[str], str]:
    """Element names, hrefs and folded visible text of rendered Markdown, as a browser parses it."""
    root = html5lib.parse(html, namespaceHTMLElements=False).find("body")
    assert root is not None
    names = {element.tag for element in root.iter() if isinstance(element.tag, str)} - {"body"}
    hrefs = [a.get("href") or "" for a in root.iter("a")]
    return names, hrefs, " ".join("".join(root.itertext()).split())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_linkifier_never_raises_and_emits_only_web_links(text: str) -> None:
    for _start, _end, href, _kind in find_links(text):
        assert re.match(r"^(https?|mailto):", href)
    parsed = parse_statement(text)
    assert all(re.match(r"^(https?|mailto):", h) for h in parsed.links)
