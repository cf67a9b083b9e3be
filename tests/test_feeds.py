"""Feeds read back by a real consumer (feedparser): versions, items, dates, GUIDs, links."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import feedparser
import lxml.html
import pytest

from syndicate.attribution import parse_statement
from syndicate.config import load_site

from .conftest import TINY, article, build_site

BASE = "https://notes.example.org/counter/"
# Published, newest first: greeting (2025-03-04), waiting (2025-02-01), private (2024-12-24, syndicate: false,
# so summary and link only), borrowed (2024-11-11), chairs.
FEED_SLUGS = ["greeting", "waiting", "private", "borrowed", "chairs"]
PRIVATE_SUMMARY = "This one stays on the site only. Its summary ends here, where the author drew the line."


def parse(path: Path) -> feedparser.FeedParserDict:
    data = path.read_bytes()
    assert data.strip(), f"{path} is empty"
    return feedparser.parse(data)


@pytest.mark.parametrize(("name", "version"), [("feed.xml", "rss20"), ("atom.xml", "atom10")])
def test_feed_items(built_tiny: Path, name: str, version: str) -> None:
    feed = parse(built_tiny / name)
    assert feed.bozo == 0 and feed.version == version
    assert [e.link for e in feed.entries] == [f"{BASE}articles/{s}/" for s in FEED_SLUGS]
    assert [e.id for e in feed.entries] == [e.link for e in feed.entries]
    assert feed.feed.link == BASE
    assert "Copyright" in feed.feed.get("rights", "")
    first = feed.entries[0]
    assert first.title == "The Greeting Counts"
    assert first.published_parsed[:3] == (2025, 3, 4)
    assert first.summary == "Why the first words at a counter set the tone."
    content = first.content[0].value
    for href in re.findall(r'(?:href|src)="([^"]+)"', content):
        assert href.startswith(("https://", "mailto:")), href


def test_rss_dates_carry_the_site_time_zone(built_tiny: Path) -> None:
    text = (built_tiny / "feed.xml").read_text()
    # 2025-03-04 midnight in America/New_York; 2025-02-01T08:15 local.
    assert "<pubDate>Tue, 04 Mar 2025 00:00:00 -0500</pubDate>" in text
    assert "<pubDate>Sat, 01 Feb 2025 08:15:00 -0500</pubDate>" in text
    assert "<lastBuildDate>Tue, 04 Mar 2025 00:00:00 -0500</lastBuildDate>" in text


def test_feed_items_end_with_statement_and_backlink(built_tiny: Path) -> None:
    site = load_site(TINY / "site.yaml")
    for name in ("feed.xml", "atom.xml"):
        for entry in parse(built_tiny / name).entries:
            if entry.link.endswith("/private/"):
                continue  # summary only: see test_unsyndicated_article_is_a_summary_and_a_link
            content = entry.content[0].value
            assert f'href="{entry.link}"' in content, "backlink missing"
            author = next(a for a in site.authors.values() if a.name == entry.author)
            if author.reprint:
                statement = parse_statement(author.reprint.statement)
                for link in statement.links:
                    assert f'href="{link}"' in content
                assert content.rstrip().endswith("</div>")
                assert content.rindex(statement.links[-1]) > content.rindex(entry.link)


def test_original_is_credited_in_feeds(built_tiny: Path) -> None:
    entry = next(e for e in parse(built_tiny / "atom.xml").entries if e.link.endswith("/borrowed/"))
    content = entry.content[0].value
    assert 'href="https://queue.example.net/blog/borrowed"' in content
    assert "Republished with the author" in content and "Queue Craft" in content


def test_json_feed(built_tiny: Path) -> None:
    feed = json.loads((built_tiny / "feed.json").read_text())
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == BASE + "feed.json"
    assert [i["id"] for i in feed["items"]] == [f"{BASE}articles/{s}/" for s in FEED_SLUGS]
    borrowed = next(i for i in feed["items"] if i["id"].endswith("/borrowed/"))
    assert borrowed["external_url"] == "https://queue.example.net/blog/borrowed"
    assert feed["items"][0]["date_published"] == "2025-03-04T00:00:00-05:00"
    assert "www.example.com/ada" in feed["items"][0]["content_html"]


def test_tag_feed(built_tiny: Path) -> None:
    feed = parse(built_tiny / "tags/waiting/feed.xml")
    assert feed.bozo == 0 and feed.version == "rss20"
    # "A Note Not For Reprint" is tagged waiting and has syndicate: false: it is there, as a summary.
    assert [e.link for e in feed.entries] == [f"{BASE}articles/{s}/" for s in ("waiting", "private", "chairs")]
    assert "never leaves it" not in (built_tiny / "tags/waiting/feed.xml").read_text()


def test_drafts_and_future_stay_out(built_tiny: Path) -> None:
    everything = "".join(p.read_text(errors="replace") for p in built_tiny.rglob("*") if p.is_file())
    assert "Unfinished" not in everything and "From The Future" not in everything
    assert not (built_tiny / "articles/draft").exists()


def test_updated_date_shows_everywhere(write_site: Callable[..., Path]) -> None:
    site = write_site({
        "content/a.md": article("Revised", date="2024-05-01", updated="2024-06-30T10:00:00+02:00"),
        "content/b.md": article("Unrevised", date="2024-05-02"),
    })
    build_site(site)
    out = site.parent / "output"
    atom = feedparser.parse((out / "atom.xml").read_bytes())
    revised = next(e for e in atom.entries if e.title == "Revised")
    # The same instant, written in the site's time zone (UTC here), as every date is read.
    assert revised.updated == "2024-06-30T08:00:00+00:00" and revised.published.startswith("2024-05-01")
    assert atom.feed.updated == "2024-06-30T08:00:00+00:00"  # the newest change, not the newest article
    items = {i["title"]: i for i in json.loads((out / "feed.json").read_text())["items"]}
    assert items["Revised"]["date_modified"] == "2024-06-30T08:00:00+00:00"
    assert items["Unrevised"]["date_modified"] == items["Unrevised"]["date_published"]
    page = lxml.html.parse(str(out / "articles/a/index.html")).getroot()
    json_ld = json.loads(page.find(".//script[@type='application/ld+json']").text)
    assert json_ld["dateModified"] == "2024-06-30T08:00:00+00:00"
    byline = " ".join(page.find_class("byline")[0].text_content().split())
    assert byline.endswith("Updated 30 June 2024")
    assert page.find(".//meta[@property='article:modified_time']").get("content") == "2024-06-30T08:00:00+00:00"
    assert "Updated" not in lxml.html.parse(str(out / "articles/b/index.html")).getroot().find_class("byline")[0].text_content()
    assert "<loc>https://scratch.example.org/articles/a/</loc><lastmod>2024-06-30</lastmod>" in (out / "sitemap.xml").read_text()
@pytest.mark.parametrize(("name", "version"), [("feed.xml", "rss20"), ("atom.xml", "atom10")])
def test_unsyndicated_article_is_a_summary_and_a_link(built_tiny: Path, name: str, version: str) -> None:
    feed = parse(built_tiny / name)
    assert feed.bozo == 0 and feed.version == version
    entry = next(e for e in feed.entries if e.link == f"{BASE}articles/private/")
    assert entry.title == "A Note Not For Reprint"
    assert entry.summary == PRIVATE_SUMMARY
    content = entry.content[0].value
    assert PRIVATE_SUMMARY.split(". ")[0] in content
    assert f'href="{BASE}articles/private/"' in content
    # No full text and no statement: nothing a reprint could be made from.
    assert "never leaves it" not in content and "The rest is for visitors" not in content
    assert "www.example.com/ada" not in content and "reprint-statement" not in content
    # The full text stays on the site's own page.
    assert "never leaves it in full" in (built_tiny / "articles/private/index.html").read_text()


def test_unsyndicated_article_in_json_feed(built_tiny: Path) -> None:
    item = next(i for i in json.loads((built_tiny / "feed.json").read_text())["items"] if i["id"].endswith("/private/"))
    assert item["summary"] == PRIVATE_SUMMARY
    assert "never leaves it" not in item["content_html"] and f'href="{BASE}articles/private/"' in item["content_html"]


def test_unsyndicated_article_stays_out_of_feeds_by_default(write_site: Callable[..., Path]) -> None:
    """The site format's rule: feeds carry every published article except `syndicate: false`,
    unless the site opts in with `feed_summaries: true` (the tiny site does, tested above)."""
    site = write_site({
        "content/open.md": article("Open Door", date="2024-05-02"),
        "content/closed.md": article("Closed Door", date="2024-05-01", syndicate="false", body="Only here."),
    })
    build_site(site)
    out = site.parent / "output"
    for name in ("feed.xml", "atom.xml"):
        assert [e.title for e in parse(out / name).entries] == ["Open Door"]
    assert [i["title"] for i in json.loads((out / "feed.json").read_text())["items"]] == ["Open Door"]
    assert (out / "articles/closed/index.html").is_file()  # still on the site itself
