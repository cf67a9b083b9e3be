"""What every site import shares (`sitegen.py`, `meta.py`, `dialect.py`, `htmltomd.py`):
bylines read as authors, dates in the spellings generators write, Markdown made to read the
same in our renderer, HTML bodies as Markdown, and an import into a site that already has
articles, which keeps its permalink pattern and gets redirects instead.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import markdown
import pytest
import yaml
from click.testing import CliRunner

from syndicate.cli import main
from syndicate.importers.dialect import Notes, convert_kramdown, normalize_lists
from syndicate.importers.htmltomd import html_to_markdown
from syndicate.importers.meta import read_when, split_author_names

from .conftest import build_site


@pytest.mark.parametrize(("byline", "names"), [
    ("Jane Doe", ["Jane Doe"]),
    ("Jane Doe, Executive Director", ["Jane Doe"]),
    ("Sam Lee, PhD", ["Sam Lee"]),
    ("Jane Doe and Sam Lee", ["Jane Doe", "Sam Lee"]),
    ("Jane Doe & Sam Lee", ["Jane Doe", "Sam Lee"]),
    ("Jane Doe, Sam Lee and Ann Roe", ["Jane Doe", "Sam Lee", "Ann Roe"]),
    (["Jane Doe", "Sam Lee"], ["Jane Doe", "Sam Lee"]),
    ("By Jane Doe", ["Jane Doe"]),
    ("Jane Doe, Editor, and Sam Lee", ["Jane Doe", "Sam Lee"]),
], ids=["one", "role", "degree", "and", "ampersand", "commas", "list", "by", "role-then-second"])
def test_bylines_become_authors(byline: object, names: list[str]) -> None:
    assert split_author_names(byline) == names


@pytest.mark.parametrize(("written", "expected"), [
    ("2016-01-01", dt.date(2016, 1, 1)),
    ("2016-01-01 10:00:00 +0100", dt.datetime(2016, 1, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))),
    ("2016-01-01T10:00:00Z", dt.datetime(2016, 1, 1, 10, 0, tzinfo=dt.UTC)),
    ("Mon Jun  1 19:30:27 EDT 2015", dt.datetime(2015, 6, 1, 19, 30, 27)),
    ("Jan 5, 2016", dt.date(2016, 1, 5)),
    ("someday", None),
], ids=["date", "jekyll", "iso-z", "ctime-zone", "words", "not-a-date"])
def test_dates_in_the_spellings_generators_write(written: str, expected: object) -> None:
    assert read_when(written) == expected


def render(text: str) -> str:
    return markdown.markdown(text, extensions=["extra", "toc", "sane_lists"])


def test_commonmark_lists_render_as_their_authors_saw_them() -> None:
    text = "Packing list:\n- rope\n  - spare rope\n- lamp\n\n```\n- not\n  - a list\n```\n"
    html = render(normalize_lists(text))
    assert "<p>Packing list:</p>" in html
    assert "<li>rope<ul>\n<li>spare rope</li>" in html
    assert "- not\n  - a list" in html  # code is left exactly as written


def test_kramdown_extras_go_and_the_table_of_contents_stays() -> None:
    text = "* TOC\n{:toc}\n\n## One\n{: .lead}\n\nText {: .x}\n\n{::comment}\nhidden\n{:/comment}\n"
    out = convert_kramdown(text)
    assert out.startswith("[TOC]") and "{:" not in out and "hidden" not in out
    assert 'class="toc"' in render(out)


def test_html_bodies_become_markdown() -> None:
    notes = Notes("post.html")
    html = ("<h3>Intro</h3><p>Some <strong>bold</strong> and <a href='/x/'>a link</a>.</p>"
            "<ul><li>one<ul><li>inner</li></ul></li><li>two</li></ul>"
            "<pre class='language-python'><code>x = 1</code></pre>"
            "<iframe src='https://www.youtube.com/embed/abc123XYZ' title='Harbour tour'></iframe>"
            "<script>alert(1)</script><p>1. not a list</p>")
    out = html_to_markdown(html, notes, 10)
    assert out.split("\n\n") == [
        "## Intro", "Some **bold** and [a link](/x/).", "- one\n    - inner\n- two", "```python\nx = 1\n```",
        "[Harbour tour](https://www.youtube.com/watch?v=abc123XYZ)", "1\\. not a list\n",
    ]
    assert [p.message for p in notes.items] == ["a <script> was left out (syndicate pages carry no scripts, styles or forms)"]


def test_an_import_into_a_site_with_articles_keeps_its_pattern_and_redirects(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    (site / "site.yaml").write_text(
        "# my site\ntitle: \"Mine\"\nurl: \"https://mine.example/\"\nauthors:\n  ann:\n    name: \"Ann\"  # me\n")
    (site / "content/hello.md").write_text("---\ntitle: Hello\ndate: 2020-01-01\nauthor: ann\n---\nHi.\n")
    source = tmp_path / "jekyll"
    (source / "_posts").mkdir(parents=True)
    (source / "_config.yml").write_text("title: Old\nurl: https://old.example\nauthor: Ann\n")
    (source / "_posts/2019-05-06-tide-times.md").write_text("---\ntitle: Tide Times\n---\nHigh water at six.\n")
    result = CliRunner().invoke(main, ["import", "jekyll", str(source), "--into", str(site)])
    assert result.exit_code == 0, result.output
    text = (site / "site.yaml").read_text()
    assert text.startswith("# my site\ntitle: \"Mine\"") and '"Ann"  # me' in text and "permalinks" not in text
    meta = yaml.safe_load((site / "content/tide-times.md").read_text().split("---\n")[1])
    assert meta["author"] == "ann"  # the old site's author is this site's Ann
    build_site(site / "site.yaml")
    redirect = (site / "output/2019/05/06/tide-times.html").read_text()
    assert 'http-equiv="refresh"' in redirect and "articles/tide-times/" in redirect


def test_headings_start_at_level_two_and_skip_none() -> None:
    from syndicate.importers.dialect import renumber_headings

    text = "### Tides\n\nWords.\n\n##### Neap\n\n```\n# a comment, not a heading\n```\n"
    assert renumber_headings(text) == "## Tides\n\nWords.\n\n### Neap\n\n```\n# a comment, not a heading\n```\n"
    assert renumber_headings("## Already\n\n### Fine\n") == "## Already\n\n### Fine\n"
