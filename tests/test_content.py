"""Front matter splitting and parsing never raise anything but our own error, whatever the bytes."""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path, PurePosixPath

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.config import load_site
from syndicate.content import SourceFile, _parse, split_front_matter
from syndicate.errors import Problem
from syndicate.fields import parse_yaml
from syndicate.model import Article
from syndicate.urls import absolute_url, relative_url, resolve_content_link, slugify

from .conftest import TINY, article, build_site

SITE = load_site(TINY / "site.yaml")
SOURCE = SourceFile(str(TINY / "content/fuzz.md"), "fuzz.md", "content/fuzz.md", 0, 0)
FENCE_HEAVY = st.lists(st.sampled_from(["---", "...", "title: x", "date: 2024-01-01", "author: ada-moss", "", "body",
                                        "  - a", "tags: [", "\ufeff", "\r", ": :", "{", "'"]), max_size=12).map("\n".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), FENCE_HEAVY))
def test_split_front_matter_returns_a_split_or_a_problem(text: str) -> None:
    result = split_front_matter(text, "content/fuzz.md")
    if isinstance(result, Problem):
        assert result.line >= 1 and result.path == "content/fuzz.md"
    else:
        front, body, line = result
        assert isinstance(front, str) and isinstance(body, str) and line >= 3


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), FENCE_HEAVY))
def test_yaml_problems_are_collected_never_raised(text: str) -> None:
    doc = parse_yaml(text, "content/fuzz.md", line_offset=1)
    assert all(p.line >= 2 for p in doc.problems)
    assert isinstance(doc.data, dict)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), FENCE_HEAVY.map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_parsing_any_file_yields_a_document_or_problems(data: bytes) -> None:
    parsed = _parse(SITE, SOURCE, b"---\n" + data, "hash")
    if parsed.document is None:
        assert parsed.problems and all(isinstance(p, Problem) and p.line >= 1 for p in parsed.problems)


titles = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(lambda t: t.strip() == t and t)


@settings(max_examples=200, deadline=None)
@given(titles, st.lists(titles, max_size=4), st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)))
def test_front_matter_round_trip(title: str, tags: list[str], when: date) -> None:
    front = yaml.safe_dump({"title": title, "date": when, "author": "ada-moss", "tags": tags}, allow_unicode=True)
    parsed = _parse(SITE, SOURCE, f"---\n{front}---\nBody.\n".encode(), "hash")
    # Content is read in NFC (normalize_text): what comes back is each value's NFC form
    # (U+F900, a compatibility ideograph, is U+8C48 in NFC).
    title, tags = unicodedata.normalize("NFC", title), [unicodedata.normalize("NFC", t) for t in tags]
    tag_slugs = [slugify(t) for t in tags]
    if any(not s for s in tag_slugs):
        assert parsed.document is None
        return
    article = parsed.document
    assert article is not None, parsed.problems
    assert article.title == title
    assert article.date.date() == when
    first_spelling: dict[str, str] = {}
    for tag in tags:
        first_spelling.setdefault(slugify(tag), tag)
    assert [(t.slug, t.name) for t in article.tags] == list(first_spelling.items())


@given(st.text(max_size=60), st.text(max_size=60))
def test_url_building_never_raises(a: str, b: str) -> None:
    relative_url(a, b)
    absolute_url("https://example.org/base/", b)
    resolve_content_link(a, PurePosixPath("x"))


def test_markdown_suffixes_and_front_matter_files(write_site: Callable[..., Path]) -> None:
    site = write_site({
        "content/2016-01-01-kept.markdown": article("Kept", slug="kept", body="From a *Jekyll* post."),
        "content/pages/contact.markdown": "---\ntitle: Contact\n---\nWrite to us.\n",
        "content/feed.xml": "---\nlayout: null\n---\n<rss>{% for post in site.posts %}{% endfor %}</rss>\n",
        "content/old/index.html": "\ufeff---\r\ntitle: Old home\r\n---\r\n<p>{{ content }}</p>\r\n",
        "content/notes.txt": "--- a dash line, not front matter\n",
        "content/rule.txt": "----\n",
        "content/pic.png": b"---\n\x89PNG",
    })
    report = build_site(site)
    out = site.parent / "output"
    assert (out / "articles/kept/index.html").is_file() and (out / "pages/contact/index.html").is_file()
    assert not (out / "2016-01-01-kept.markdown").exists() and not (out / "pages/contact.markdown").exists()
    assert not (out / "feed.xml").read_text().startswith("---")  # the site's own feed, not the template
    assert not (out / "old").exists()
    for name in ("notes.txt", "rule.txt", "pic.png"):
        assert (out / name).read_bytes() == (site.parent / "content" / name).read_bytes()
    message = ("warning: not copied: this file has front matter but is not an article "
               "(articles are .md or .markdown files); rename it or remove its front matter")
    assert [str(w) for w in report.warnings if "not copied" in w.message] == [f"content/feed.xml:1: {message}", f"content/old/index.html:1: {message}"]


@pytest.mark.parametrize(("written", "names"), [
    ("customer service, phones", ["customer service", "phones"]),
    ("'Tips & Tricks, phones,'", ["Tips & Tricks", "phones"]),
    ("teamwork", ["teamwork"]),
    ("[customer service, phones]", ["customer service", "phones"]),
    ("['a, b']", ["a, b"]),
])
def test_tags_may_be_a_comma_separated_string(written: str, names: list[str]) -> None:
    parsed = _parse(SITE, SOURCE, f"---\ntitle: T\ndate: 2024-01-01\nauthor: ada-moss\ntags: {written}\n---\nx\n".encode(), "h")
    assert isinstance(parsed.document, Article), parsed.problems
    assert [t.name for t in parsed.document.tags] == names


def test_check_reports_leftover_template_code_outside_code(write_site: Callable[..., Path]) -> None:
    body = "\n".join([
        "Intro {% highlight ruby %}",                  # line 6 of the file
        "def x; end",
        "{% endhighlight %}",
        "",
        "Inline `{{ page.title }}` is code; {{< figure src=\"a.png\" >}} is not.",
        "",
        "```liquid",
        "{% for post in site.posts %}",
        "```",
        "",
        "    {{ indented code }}",
        "",
        "<pre>{% raw %}</pre> and {{ site.baseurl }}/x",
        "A {{% notice tip %}} over",
        "two lines %}}. Braces {like} these are fine.",
        "[#1338]({{ site.repository",
        "}}/issues/1338); a lone {{ in prose is fine.",
    ])
    site = write_site({"content/a.markdown": article(body=body), "content/pages/p.md": "---\ntitle: P\n---\n{{ content }}\n"})
    # A process of its own, as a user runs it: its stderr is exactly what check prints.
    result = subprocess.run([sys.executable, "-m", "syndicate", "check", "--site", str(site)], capture_output=True, text=True, check=False)
    tail = "is not run by syndicate and would show as text; rewrite it in Markdown, or put it in a code block to show it as code"
    expected = [
        f"content/a.markdown:6: warning: template code '{{% highlight ruby %}}' {tail}",
        f"content/a.markdown:8: warning: template code '{{% endhighlight %}}' {tail}",
        f"content/a.markdown:10: warning: template code '{{{{< figure src=\"a.png\" >}}}}' {tail}",
        f"content/a.markdown:18: warning: template code '{{{{ site.baseurl }}}}' {tail}",
        f"content/a.markdown:19: warning: template code '{{{{% notice tip %}}}}' {tail}",
        f"content/a.markdown:21: warning: template code '{{{{ site.repository' {tail}",
        f"content/pages/p.md:4: warning: template code '{{{{ content }}}}' {tail}",
    ]
    assert result.returncode == 0
    assert [line for line in result.stderr.splitlines() if "template code" in line] == expected
    strict = subprocess.run([sys.executable, "-m", "syndicate", "check", "--strict", "--site", str(site)],
                            capture_output=True, text=True, check=False)
    as_errors = [line.replace(": warning: ", ": ", 1) for line in expected]  # --strict: each warning once, as an error
    assert strict.returncode == 1 and [line for line in strict.stderr.splitlines() if "template code" in line] == as_errors


def test_an_accent_typed_as_a_combining_mark_is_the_same_tag(write_site: Callable[..., Path]) -> None:
    """"Étude" typed as E plus a combining accent (as some keyboards and file systems store it)
    and the usual "Étude" are one tag with one page, not two."""
    composed, decomposed = "\u00c9tude de cas", "E\u0301tude de cas"
    site = write_site({"content/a.md": article("A", tags=f'["{composed}"]'),
                       "content/b.md": article("B", date="2024-04-01", tags=f'["{decomposed}"]')})
    build_site(site)
    tags = sorted(p.name for p in (site.parent / "output/tags").iterdir() if p.is_dir())
    assert tags == ["\u00e9tude-de-cas"]
    page = (site.parent / "output/tags/\u00e9tude-de-cas/index.html").read_text()
    assert page.count("/articles/a/") == 1 and page.count("/articles/b/") == 1
