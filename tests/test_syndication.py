"""Syndicated copies: sanitized, absolute, complete; the gate fails a build that drops a statement."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import html5lib
import markdown
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from syndicate.attribution import Statements, parse_statement
from syndicate.cli import main
from syndicate.errors import SiteError
from syndicate.model import Article, Author, Body, Original, Reprint, Site
from syndicate.syndication import build_attribution, syndicated_copies, verify_copy
from syndicate.theme import Theme
from syndicate.urls import copy_paths

from .conftest import article, build_site

FORBIDDEN_TAGS = {"script", "style", "link", "iframe", "form", "object", "embed", "input", "button", "meta"}


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    return parser.tags


def test_snippets_are_email_safe(built_tiny: Path) -> None:
    snippets = sorted(p for p in (built_tiny / "syndicate").glob("*.html") if p.name != "index.html")  # index.html: the catalogue
    assert [p.stem for p in snippets] == ["borrowed", "greeting", "waiting"]
    for path in snippets:
        html = path.read_text()
        assert len(html.encode()) < 100_000
        for tag, attrs in elements(html):
            assert tag not in FORBIDDEN_TAGS, (path, tag)
            assert not any(name.startswith("on") for name in attrs), (path, tag, attrs)
            if tag in ("p", "h1", "h2", "a", "td", "th", "blockquote"):
                assert attrs.get("style"), (path, tag, "not inlined")
            for name in ("href", "src"):
                if name in attrs:
                    assert (attrs[name] or "").startswith(("https://", "mailto:")), (path, attrs)
            if tag == "img":
                assert "alt" in attrs and "width" in attrs


def test_hostile_body_is_sanitized(write_site: Callable[..., Path]) -> None:
    body = ('<script>alert(1)</script><iframe src="https://evil.example.com"></iframe>\n\n'
            '[click](javascript:alert(2)) <a href="#" onclick="x()">a</a> <img src="x.png" onerror="y()" alt="pic">\n\n'
            '<form action="/x"><input name="q"></form><style>p{}</style> [rel](other/page/) '
            '![dot](/dot.png){: onmouseover="z()" }')
    site = write_site({"content/bad.md": article("Bad", body=body), "content/x.png": b"x", "content/dot.png": b"d"})
    build_site(site)
    html = (site.parent / "output/syndicate/bad.html").read_text()
    for tag, attrs in elements(html):
        assert tag not in FORBIDDEN_TAGS
        assert not any(k.startswith("on") for k in attrs)
        for name in ("href", "src"):
            if attrs.get(name):
                assert attrs[name].startswith(("https://scratch.example.org/", "https://www.example.com/", "mailto:")), attrs
    assert "javascript" not in html and "alert" not in html
    assert 'href="https://scratch.example.org/articles/bad/other/page/"' not in html
    assert 'src="https://scratch.example.org/dot.png"' in html


def test_text_and_markdown_copies(built_tiny: Path) -> None:
    text = (built_tiny / "syndicate/greeting.txt").read_text()
    assert text.startswith("The Greeting Counts\n===")
    assert "https://www.example.com/ada" in text and "https://ada.example.com/notes" in text
    assert "waiting note (https://notes.example.org/counter/articles/waiting/)" in " ".join(text.split())
    assert "https://notes.example.org/counter/articles/greeting/" in text
    assert "<" not in text.replace("<Well>", "")
    lines = text.splitlines()
    assert max(len(line) for line in lines if "https://" not in line) <= 72
    markdown = (built_tiny / "syndicate/waiting.md").read_text()
    assert "[Queue Craft](https://queue.example.net/about)" in markdown
    assert "[ben@example.net](mailto:ben@example.net)" in markdown
    assert "| Wait | Feels like |" in markdown


def test_manifest(built_tiny: Path) -> None:
    manifest = json.loads((built_tiny / "syndicate/index.json").read_text())
    entries = {e["slug"]: e for e in manifest["articles"]}
    assert sorted(entries) == ["borrowed", "greeting", "waiting"]
    greeting = entries["greeting"]
    assert greeting["author"] == "Ada Moss" and greeting["author_id"] == "ada-moss"
    assert greeting["url"] == "https://notes.example.org/counter/articles/greeting/"
    assert greeting["date"] == "2025-03-04T00:00:00-05:00"
    assert greeting["links"] == ["https://www.example.com/ada", "https://ada.example.com/notes"]
    assert greeting["statement"].startswith("Copyright, Ada Moss. Used with permission.")
    for entry in entries.values():
        assert (built_tiny / entry["html"]).is_file() and (built_tiny / entry["text"]).is_file()


def test_article_page_shows_offer_and_credit(built_tiny: Path) -> None:
    html = (built_tiny / "articles/greeting/index.html").read_text()
    assert "Reprint this note free of charge" in html and "Paid publications" in html
    assert 'href="https://www.example.com/ada"' in html
    assert "<textarea" in html and "syndicate/greeting.txt" in html
    borrowed = (built_tiny / "articles/borrowed/index.html").read_text()
    assert '<link rel="canonical" href="https://queue.example.net/blog/borrowed">' in borrowed
    assert "Republished with the author" in borrowed
    plain = (built_tiny / "articles/chairs/index.html").read_text()
    assert "<textarea" not in plain and '<link rel="canonical" href="https://notes.example.org/counter/articles/chairs/">' in plain


def test_gate_fails_a_template_that_drops_the_statement(tiny_site: Path) -> None:
    override = tiny_site.parent / "templates" / "snippet.html"
    override.parent.mkdir()
    override.write_text('<div><h1><a href="{{ attribution.backlink }}">{{ article.title }}</a></h1>{{ body }}</div>\n')
    with pytest.raises(SiteError) as caught:
        build_site(tiny_site)
    lines = [str(p) for p in caught.value.problems]
    assert ("content/greeting.md:1: syndicated copy syndicate/greeting.html lacks the complete statement "
            "(rendered by templates/snippet.html)") in lines
    assert any("lacks the statement's link to https://www.example.com/ada" in line for line in lines)
    assert not (tiny_site.parent / "output").exists()


def test_utm_tags_only_on_backlinks(tiny_site: Path) -> None:
    text = tiny_site.read_text().replace("per_page: 2", "per_page: 2\nsyndication:\n  utm: {utm_source: newsletter}")
    tiny_site.write_text(text)
    build_site(tiny_site)
    html = (tiny_site.parent / "output/syndicate/greeting.html").read_text()
    assert 'href="https://notes.example.org/counter/articles/greeting/?utm_source=newsletter"' in html
    assert 'href="https://www.example.com/ada"' in html and "ada?utm" not in html


def test_snippet_command(tiny_site: Path) -> None:
    runner = CliRunner()
    build_site(tiny_site)  # the copies `build` wrote are what `snippet` prints, byte for byte
    for fmt, name in (("html", "greeting.html"), ("text", "greeting.txt"), ("markdown", "greeting.md")):
        result = runner.invoke(main, ["snippet", "greeting", "--format", fmt, "--site", str(tiny_site)])
        assert result.exit_code == 0, result.stderr
        assert result.stdout == (tiny_site.parent / "output/syndicate" / name).read_text(), fmt
    assert result.stdout.startswith("# [The Greeting Counts]")
    missing = runner.invoke(main, ["snippet", "greetin", "--site", str(tiny_site)])
    assert missing.exit_code == 1 and missing.stdout == ""
    assert "'greetin' is not a published article; did you mean greeting?" in missing.stderr
    private = runner.invoke(main, ["snippet", "private", "--site", str(tiny_site)])
    assert private.exit_code == 1 and "is not syndicable" in private.stderr


# Property: the Markdown copy, rendered back by Python-Markdown and by a CommonMark renderer,
# holds no link, image or tag that the author did not write, whatever the text says.

HOSTILE = st.lists(st.sampled_from([
    "word", "two words", " ", "[x](javascript:alert(1))", "![i](https://evil.example/p.png)", "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>", "<https://evil.example>", "[y]: https://evil.example", "*", "_", "`", "``", "\\", "&lt;b&gt;",
    "&amp;", "#", "{: onclick=alert(1)}", "~~~", "```", "|", "---", "1. ", "- ", "> ", ":", "[^1]", "\n", "=", "+", "(", ")",
]), min_size=1, max_size=8).map("".join).map(str.strip).filter(bool)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(title="word", name="word", site_title="word", words="[y]: https://evil.example```word`", note="word",
         link_text="word", code="word")  # backticks in a statement's URL once made a code span of the link
@given(title=HOSTILE, name=HOSTILE, site_title=HOSTILE, words=HOSTILE, note=HOSTILE, link_text=HOSTILE, code=HOSTILE)
def test_the_markdown_copy_renders_no_markup_the_author_did_not_write(
    title: str, name: str, site_title: str, words: str, note: str, link_text: str, code: str
) -> None:
    statement = "Copyright " + words.replace("javascript:", "js:") + ", www.example.com/ann"
    author = Author("ann", name, url="https://ann.example.com", reprint=Reprint(statement))
    site = Site(title=site_title, url="https://scratch.example.org/", authors={"ann": author}, root=Path("/nonexistent/site"),
                source="site.yaml")
    article = Article(source="content/a.md", slug="a", title=title, date=datetime(2024, 5, 1, tzinfo=UTC), authors=(author,), path="articles/a/",
                      body_key="k", summary="", word_count=0, original=Original("https://first.example.net/a", "Elsewhere", note))
    body_html = (f"<p>{escape(words)}</p>\n<ul>\n<li>{escape(title)}</li>\n</ul>\n<p><a href=\"https://ok.example.com/p\">"
                 f"{escape(link_text)}</a> <code>{escape(code)}</code></p>\n<pre><code>{escape(code)}\n</code></pre>\n"
                 f"<table><tr><td>{escape(name)}</td></tr></table>")
    body = Body(html=body_html, first_paragraph="", word_count=0)
    attribution = build_attribution(site, article, Statements())
    copies, _gate = syndicated_copies(built_in_theme(), site, article, body, attribution, copy_paths(article.slug))
    copy = copies["markdown"].decode()
    assert verify_copy(copy, "markdown", attribution) == []
    expected = {attribution.backlink, "https://ann.example.com", "https://first.example.net/a", "https://ok.example.com/p",
                *parse_statement(statement).links}
    for renderer, render in RENDERERS.items():
        root = html5lib.parse(render(copy), namespaceHTMLElements=False)
        names = {element.tag for element in root.iter() if isinstance(element.tag, str)}
        assert names <= STRUCTURE, (renderer, names - STRUCTURE, copy)
        assert not [(e.tag, k) for e in root.iter() for k in e.attrib if k.lower().startswith("on")], (renderer, copy)
        hrefs = {unquote(a.get("href") or "") for a in root.iter("a")}  # CommonMark percent-encodes some characters
        assert hrefs == {unquote(href) for href in expected}, (renderer, hrefs ^ expected, copy)
        text = " ".join("".join(root.itertext()).split())
        for written in (title, name, site_title, note, link_text):
            assert " ".join(written.split()) in text, (renderer, written, copy)


STRUCTURE = {"html", "head", "body", "h1", "h2", "p", "em", "strong", "a", "ul", "ol", "li", "code", "pre", "hr", "table",
             "thead", "tbody", "tr", "th", "td", "br"}
RENDERERS = {
    "python-markdown extra": lambda text: markdown.markdown(text, extensions=["extra", "sane_lists"]),
    "commonmark": MarkdownIt("commonmark").enable("table").render,
}


@cache
def built_in_theme() -> Theme:
    return Theme(Site(title="Any", url="https://scratch.example.org/", authors={}, root=Path("/nonexistent/site"), source="site.yaml"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab _~!&#;<>[]\\`*{}x1é\n", max_size=30))
def test_inline_escaping_takes_its_shortcut_only_where_nothing_would_change(text: str) -> None:
    from syndicate.plaintext import _MD_ENTITIES, _MD_SPECIAL, escape_inline

    assert escape_inline(text) == _MD_SPECIAL.sub(lambda m: _MD_ENTITIES.get(m[0], "\\" + m[0]), text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab #+-=:~1٣²).\t \n", max_size=20))
def test_line_start_escaping_takes_its_shortcut_only_where_nothing_would_change(text: str) -> None:
    from syndicate.plaintext import _MD_LINE_START, _escaped_start, escape_line_starts

    assert escape_line_starts(text) == _MD_LINE_START.sub(_escaped_start, text)


def _png(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (180, 40, 40)).save(out, "PNG")
    return out.getvalue()


def test_email_copies_never_stretch_a_small_image_and_follow_its_file(write_site: Callable[..., Path], tmp_path: Path) -> None:
    """Outlook shows an <img> at its width attribute: a badge of the site's 120 pixels wide
    keeps 120, a wide photo and an image from elsewhere fill the 560-pixel column, and a new
    file of another width gives the copies its width at the next build."""
    from .conftest import clean_build, outputs

    body = ("A badge: ![badge](/images/badge.png)\n\nA photo: ![photo](/images/wide%20photo.png)\n\n"
            "From elsewhere: ![remote](https://img.example.net/pic.png)\n")
    site = write_site({"content/a.md": article("A", body=body), "content/images/badge.png": _png(120, 40),
                       "content/images/wide photo.png": _png(1400, 300)})
    build_site(site)

    def widths() -> dict[str, str | None]:
        snippet = (site.parent / "output/syndicate/a.html").read_text()
        return {attributes["alt"] or "": attributes.get("width") for tag, attributes in elements(snippet) if tag == "img"}

    assert widths() == {"badge": "120", "photo": "560", "remote": "560"}
    (site.parent / "content/images/badge.png").write_bytes(_png(300, 100))
    build_site(site)
    assert widths() == {"badge": "300", "photo": "560", "remote": "560"}
    assert outputs(site) == clean_build(site, tmp_path)


def test_text_copies_align_tables_number_footnotes_and_indent_code() -> None:
    """Read on paper: a cell holding '|' must not read as two cells, a footnote reference is
    its number (the note is in the copy, so no address to the site's), and code stands apart."""
    from syndicate.plaintext import html_to_plain_and_markdown

    html = ('<p>Whisk.<sup id="fnref:y"><a class="footnote-ref" href="https://s.example/a/#fn:y">1</a></sup></p>'
            "<table><thead><tr><th>part</th><th>note</th></tr></thead>"
            "<tbody><tr><td>toolchain</td><td>ABI | codegen</td></tr></tbody></table>"
            "<pre><code>make all\n  make test</code></pre>"
            '<div class="footnote"><ol><li id="fn:y"><p>Fresh only.&#160;'
            '<a class="footnote-backref" href="https://s.example/a/#fnref:y">&#8617;</a></p></li></ol></div>')
    plain, markdown_copy = html_to_plain_and_markdown(html)
    assert plain == ("Whisk.[1]\n\npart       note\n---------  -------------\ntoolchain  ABI | codegen\n\n"
                     "    make all\n      make test\n\n1. Fresh only.\n")
    assert "Whisk.\\[1\\]" in markdown_copy and "| toolchain | ABI \\| codegen |" in markdown_copy
    assert "fnref" not in markdown_copy and "#fn:" not in markdown_copy
