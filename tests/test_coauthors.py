"""Co-authored articles: every byline, copy, feed item and manifest entry carries every author."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import feedparser
import lxml.html
import pytest

from syndicate.errors import SiteError

from .conftest import article, build_site

SITE = """\
title: "Shared Desk"
url: "https://desk.example.org/"
authors:
  ann:
    name: "Ann Example"
    url: "https://ann.example.com"
    reprint:
      preamble: "Ann's preamble."
      statement: "Copyright, Ann Example. Visit www.example.com/ann for more."
      commercial: "Ann's commercial terms."
  sam:
    name: "Sam Lee"
    reprint:
      statement: "Sam Lee writes at [Queue Notes](https://queue.example.net/sam); mail sam@example.net."
      commercial: "Sam's commercial terms."
  kim:
    name: "Kim Roe"
    reprint:
      statement: "Kim Roe, used by permission; see https://kim.example.org."
  cy:
    name: "Cy Lee"
"""
ANN = "Copyright, Ann Example. Visit www.example.com/ann for more."
SAM = "Sam Lee writes at Queue Notes; mail sam@example.net."
SAM_TEXT = "Sam Lee writes at Queue Notes (https://queue.example.net/sam); mail sam@example.net."
KIM = "Kim Roe, used by permission; see https://kim.example.org."
PAIR_URL = "https://desk.example.org/articles/pair/"


@pytest.fixture
def coauthored(write_site: Callable[..., Path]) -> Path:
    site = write_site({
        "content/pair.md": article("Pair Work", date="2024-05-03", author="[ann, sam]", body="Two voices, one desk."),
        "content/trio.md": article("Trio", date="2024-05-02", author="[sam, kim, ann]", body="Three at once."),
        "content/mixed.md": article("Mixed", date="2024-05-01", author="ann, cy", body="One without terms."),
    }, SITE)
    build_site(site)
    return site.parent / "output"


def in_order(text: str, *parts: str) -> bool:
    folded = " ".join(text.split())
    positions = [folded.find(" ".join(p.split())) for p in parts]
    return all(p >= 0 for p in positions) and positions == sorted(positions)


def test_byline_names_and_links_every_author(coauthored: Path) -> None:
    page = lxml.html.parse(str(coauthored / "articles/trio/index.html")).getroot()
    byline = page.find_class("byline")[0]
    assert byline.text_content().split("·")[0].split() == "By Sam Lee, Kim Roe and Ann Example".split()
    assert [a.get("href") for a in byline.iter("a")] == ["../../authors/sam/", "../../authors/kim/", "../../authors/ann/"]
    assert [h.text_content() for h in page.find_class("author-box")[0].getparent().iter("h2") if "About" in h.text_content()] == [
        "About Sam Lee", "About Kim Roe", "About Ann Example"]
    json_ld = json.loads(page.find(".//script[@type='application/ld+json']").text)
    assert [p["name"] for p in json_ld["author"]] == ["Sam Lee", "Kim Roe", "Ann Example"]
    index = lxml.html.parse(str(coauthored / "index.html")).getroot()
    card = next(c for c in index.find_class("card") if "Pair Work" in c.text_content())
    assert [a.text_content() for a in card.find_class("meta")[0].iter("a")] == ["Ann Example", "Sam Lee"]


def test_each_author_page_lists_the_article(coauthored: Path) -> None:
    listed = {}
    for author in ("ann", "sam", "kim", "cy"):
        page = lxml.html.parse(str(coauthored / f"authors/{author}/index.html")).getroot()
        listed[author] = [c.find(".//h3").text_content().strip() for c in page.find_class("card")]
    assert listed == {"ann": ["Pair Work", "Trio", "Mixed"], "sam": ["Pair Work", "Trio"], "kim": ["Trio"], "cy": ["Mixed"]}


def test_every_copy_ends_with_every_statement_in_order(coauthored: Path) -> None:
    snippet = lxml.html.fragment_fromstring((coauthored / "syndicate/pair.html").read_text(), create_parent="div")
    assert in_order(snippet.text_content(), "Two voices", ANN, SAM)
    hrefs = [a.get("href") for a in snippet.iter("a")]
    for href in ("https://www.example.com/ann", "https://queue.example.net/sam", "mailto:sam@example.net", PAIR_URL):
        assert href in hrefs
    assert in_order((coauthored / "syndicate/pair.txt").read_text(), "Two voices", PAIR_URL, ANN.replace(
        "www.example.com/ann", "https://www.example.com/ann"), SAM_TEXT)
    markdown = (coauthored / "syndicate/pair.md").read_text()
    assert in_order(markdown, "Two voices", "[www.example.com/ann](https://www.example.com/ann)",
                    "[Queue Notes](https://queue.example.net/sam)")
    assert "*By [Ann Example](https://ann.example.com) and [Sam Lee](https://desk.example.org/authors/sam/)," in markdown
    assert in_order((coauthored / "syndicate/trio.txt").read_text(), "By Sam Lee, Kim Roe and Ann Example", SAM_TEXT, KIM)


def test_feed_items_carry_every_author_and_statement(coauthored: Path) -> None:
    for name, version in (("feed.xml", "rss20"), ("atom.xml", "atom10")):
        feed = feedparser.parse((coauthored / name).read_bytes())
        assert (feed.bozo, feed.version, len(feed.entries)) == (0, version, 3)
        pair = feed.entries[0]
        # Atom items name each author twice for feedparser (<author> and dc:creator): once each, in order.
        assert list(dict.fromkeys(a["name"] for a in pair.authors)) == ["Ann Example", "Sam Lee"], name
        content = lxml.html.fragment_fromstring(pair.content[0].value, create_parent="div").text_content()
        assert in_order(content, "Two voices", ANN, SAM), name
        # Cy has no reprint terms: the item still carries Ann's statement and the backlink.
        mixed = lxml.html.fragment_fromstring(feed.entries[2].content[0].value, create_parent="div")
        assert ANN in " ".join(mixed.text_content().split())
        assert "https://desk.example.org/articles/mixed/" in [a.get("href") for a in mixed.iter("a")]
    items = json.loads((coauthored / "feed.json").read_text())["items"]
    assert [a["name"] for a in items[1]["authors"]] == ["Sam Lee", "Kim Roe", "Ann Example"]
    assert in_order(lxml.html.fragment_fromstring(items[1]["content_html"], create_parent="div").text_content(), SAM, KIM, ANN)


def test_manifest_joins_names_and_lists_ids(coauthored: Path) -> None:
    entries = {e["slug"]: e for e in json.loads((coauthored / "syndicate/index.json").read_text())["articles"]}
    assert set(entries) == {"pair", "trio"}  # Cy has no reprint terms, so "mixed" has no copies
    pair, trio = entries["pair"], entries["trio"]
    assert (pair["author"], pair["author_id"], pair["authors"]) == ("Ann Example and Sam Lee", "ann", ["ann", "sam"])
    assert (trio["author"], trio["author_id"], trio["authors"]) == ("Sam Lee, Kim Roe and Ann Example", "sam", ["sam", "kim", "ann"])
    assert in_order(pair["statement"], "Copyright, Ann Example. Visit https://www.example.com/ann for more.", SAM_TEXT)
    assert pair["links"] == ["https://www.example.com/ann", "https://queue.example.net/sam", "mailto:sam@example.net"]
    assert not (coauthored / "syndicate/mixed.html").exists()


def test_the_offer_shows_each_authors_terms(coauthored: Path) -> None:
    page = lxml.html.parse(str(coauthored / "articles/pair/index.html")).getroot()
    offer = page.find_class("offer")[0]
    assert [h.text_content() for h in offer.iter("h3")] == ["Ann Example", "Sam Lee"]
    statements = [" ".join(s.text_content().split()) for s in offer.find_class("statement")]
    assert statements == [ANN, SAM]
    assert in_order(offer.text_content(), "Ann's preamble.", ANN, "Ann's commercial terms.", SAM, "Sam's commercial terms.")
    mixed = lxml.html.parse(str(coauthored / "articles/mixed/index.html")).getroot()
    assert not mixed.find_class("offer")


def test_the_gate_checks_every_statement_and_their_order(write_site: Callable[..., Path]) -> None:
    files = {"content/pair.md": article("Pair Work", author="[ann, sam]")}
    only_first = "{{ article.title }}\n{{ attribution.backlink }}\n{{ attribution.statement.text }}\n"
    site = write_site({**files, "templates/snippet.txt": only_first}, SITE)
    with pytest.raises(SiteError) as failed:
        build_site(site)
    assert [str(p) for p in failed.value.problems] == [
        "content/pair.md:1: syndicated copy syndicate/pair.txt lacks the complete statement of Sam Lee (rendered by templates/snippet.txt)",
        "content/pair.md:1: syndicated copy syndicate/pair.txt lacks the statement's link to https://queue.example.net/sam (rendered by templates/snippet.txt)",
        "content/pair.md:1: syndicated copy syndicate/pair.txt lacks the statement's link to mailto:sam@example.net (rendered by templates/snippet.txt)",
    ]
    swapped = "{{ attribution.backlink }}\n{% for s in attribution.statements|reverse %}{{ s.text }}\n{% endfor %}"
    site = write_site({**files, "templates/snippet.txt": swapped}, SITE)
    with pytest.raises(SiteError) as failed:
        build_site(site)
    assert [str(p) for p in failed.value.problems] == [
        "content/pair.md:1: syndicated copy syndicate/pair.txt lacks the complete statement "
        "of Sam Lee (in the order of the article's authors) (rendered by templates/snippet.txt)"]


@pytest.mark.parametrize(("written", "message"), [
    ("[ann, nobody]", "content/a.md:4: unknown author 'nobody' (known: ann, cy, kim, sam)"),
    ("[ann, ann]", "content/a.md:4: author 'ann' is listed twice"),
    ("[]", "content/a.md:4: 'author' must name at least one author id"),
])
def test_bad_author_lists(write_site: Callable[..., Path], written: str, message: str) -> None:
    site = write_site({"content/a.md": article(author=written)}, SITE)
    with pytest.raises(SiteError) as failed:
        build_site(site)
    assert [str(p) for p in failed.value.problems] == [message]
