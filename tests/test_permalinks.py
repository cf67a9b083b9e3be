"""Permalink patterns: every page, link, feed, copy and manifest entry follows the article's site URL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import lxml.html
import pytest

from syndicate.urls import article_file_matcher, article_path, permalink_problem

from .conftest import BASIC_SITE, article, build_site

BASE = "https://scratch.example.org/"


@pytest.mark.parametrize(("pattern", "path"), [
    ("articles/{slug}/", "articles/pit-stop/"),
    ("{year}/{month}/{day}/{slug}.html", "2019/03/04/pit-stop.html"),
    ("blog/{year}/{slug}/", "blog/2019/pit-stop/"),
    ("{slug}.html", "pit-stop.html"),
])
def test_article_path_fills_zero_padded_placeholders(pattern: str, path: str) -> None:
    assert permalink_problem(pattern) is None
    assert article_path(pattern, "pit-stop", datetime(2019, 3, 4, 9, tzinfo=UTC)) == path
    assert article_file_matcher(pattern, "pit-stop").match(path if path.endswith(".html") else path + "index.html")
    assert not article_file_matcher(pattern, "pit").match(path if path.endswith(".html") else path + "index.html")


@pytest.mark.parametrize(("pattern", "words"), [
    ("{title}/", "unknown placeholder '{title}'"),
    ("/:year/:title/", "like {year} instead of ':year'"),
    ("{year}/{month}/", "must contain {slug}"),
    ("{slug}", "must end in '/'"),
    ("{slug}.php", "must end in '/'"),
    ("blog//{slug}/", "no empty, '.' or '..' parts"),
    ("../{slug}/", "no empty, '.' or '..' parts"),
    ("my blog/{slug}/", "may hold only letters"),
    ("{slug}}/", "may hold only letters"),
])
def test_bad_patterns_are_explained(pattern: str, words: str) -> None:
    problem = permalink_problem(pattern)
    assert problem is not None and words in problem


def dated_site(write_site: Callable[..., Path], pattern: str, url: str = BASE) -> Path:
    yaml = BASIC_SITE.replace("https://scratch.example.org/", url) + f'permalinks:\n  article: "{pattern}"\n'
    return write_site({
        "content/pit-stop.markdown": article("Pit Stop", date="2019-03-04", tags="[teamwork]",
                                             body="Four seconds.\n\nSee [the older one](/2019/01/01/queue.html)."),
        "content/queue.md": article("Queue", date="2018-12-31T23:30:00-05:00", body="Lines.", tags="[teamwork]"),
        "content/pages/about.md": "---\ntitle: About\n---\nRead [the pit stop](/2019/03/04/pit-stop.html).\n",
    }, yaml)


def test_site_url_follows_the_pattern_everywhere(write_site: Callable[..., Path]) -> None:
    site = dated_site(write_site, "/{year}/{month}/{day}/{slug}.html", "https://user.example.io/digest/")
    report = build_site(site)
    assert report.warnings == ()  # the body links to the new paths resolve
    out = site.parent / "output"
    url = "https://user.example.io/digest/2019/03/04/pit-stop.html"
    assert not (out / "articles").exists()
    page = lxml.html.parse(str(out / "2019/03/04/pit-stop.html")).getroot()
    assert page.find(".//link[@rel='canonical']").get("href") == url
    assert page.find(".//meta[@property='og:url']") is None or page.find(".//meta[@property='og:url']").get("content") == url
    json_ld = json.loads(page.find(".//script[@type='application/ld+json']").text)
    assert json_ld["url"] == url and json_ld["mainEntityOfPage"] == url
    # Links between articles, from listings, and to the theme's files are relative to the new depth.
    assert page.find(".//a[@rel='prev']").get("href") == "../../../2019/01/01/queue.html"
    assert page.find(".//link[@rel='stylesheet']").get("href").startswith("../../../static/style.css")
    index = lxml.html.parse(str(out / "index.html")).getroot()
    assert "2019/03/04/pit-stop.html" in [a.get("href") for a in index.iter("a")]
    for name in ("feed.xml", "atom.xml"):
        feed = feedparser.parse((out / name).read_bytes())
        assert feed.version in ("rss20", "atom10") and len(feed.entries) == 2
        assert (feed.entries[0].link, feed.entries[0].id) == (url, url)
        assert f'href="{url}"' in feed.entries[0].content[0].value
    tag_feed = feedparser.parse((out / "tags/teamwork/feed.xml").read_bytes())
    assert tag_feed.entries[0].link == url
    json_feed = json.loads((out / "feed.json").read_text())
    assert (json_feed["items"][0]["id"], json_feed["items"][0]["url"]) == (url, url)
    manifest = json.loads((out / "syndicate/index.json").read_text())
    assert {e["slug"]: e["url"] for e in manifest["articles"]}["pit-stop"] == url
    for copy in ("syndicate/pit-stop.html", "syndicate/pit-stop.txt", "syndicate/pit-stop.md"):
        assert url in (out / copy).read_text(), copy
    assert f"<loc>{url}</loc>" in (out / "sitemap.xml").read_text()
    # Dates in the path are in the site's zone (UTC here): 23:30 in New York is already 2019 there.
    assert (out / "2019/01/01/queue.html").is_file()


def test_a_folder_pattern_writes_index_html(write_site: Callable[..., Path]) -> None:
    site = dated_site(write_site, "blog/{year}/{slug}/")
    build_site(site)
    out = site.parent / "output"
    assert (out / "blog/2019/pit-stop/index.html").is_file() and (out / "blog/2019/queue/index.html").is_file()
    assert "https://scratch.example.org/blog/2019/pit-stop/" in (out / "syndicate/pit-stop.txt").read_text()


def test_snippet_command_knows_articles_under_any_pattern(write_site: Callable[..., Path]) -> None:
    from click.testing import CliRunner

    from syndicate.cli import main

    yaml = BASIC_SITE.replace('    reprint:\n      statement: "Copyright, Ann Example. Visit www.example.com/ann for more."\n', "")
    site = write_site({"content/a.md": article("A")}, yaml + 'permalinks:\n  article: "{year}/{slug}.html"\n')
    result = CliRunner().invoke(main, ["snippet", "a", "--site", str(site)])
    assert result.exit_code == 1
    assert "'a' is not syndicable" in result.stderr


def test_aliases_become_redirect_pages_and_redirect_lines(write_site: Callable[..., Path]) -> None:
    yaml = BASIC_SITE.replace("https://scratch.example.org/", "https://user.example.io/digest/")
    aliases = '["/2019/03/04/pit-stop.html", /blog/pit-stop/, /blog/pit-stop, "old%20notes/pit stop", /feed.php]'
    site = write_site({
        "content/pit-stop.md": article("Pit <Stop>", date="2019-03-04", aliases=aliases),
        "content/pages/about.md": "---\ntitle: About\naliases: /about-us/\n---\nHello.\n",
        "content/_redirects": "/old-rss /digest/feed.xml 301\n",
    }, yaml)
    build_site(site)
    out = site.parent / "output"
    target = "https://user.example.io/digest/articles/pit-stop/"
    for alias in ("2019/03/04/pit-stop.html", "blog/pit-stop/index.html", "old notes/pit stop/index.html", "feed.php/index.html"):
        page = lxml.html.parse(str(out / alias)).getroot()
        refresh = page.find(".//meta[@http-equiv='refresh']").get("content")
        link = page.find(".//body//a")
        assert page.find(".//link[@rel='canonical']").get("href") == target
        assert refresh == f"0; url={link.get('href')}" and link.text_content() == "Pit <Stop>"
        # Absolute: served as /digest/blog/pit-stop or /digest/blog/pit-stop/, the old address
        # leads to the article all the same (a relative link would resolve against the wrong folder).
        assert link.get("href") == target, alias
    assert lxml.html.parse(str(out / "about-us/index.html")).getroot().find(".//link[@rel='canonical']").get(
        "href") == "https://user.example.io/digest/pages/about/"
    assert (out / "_redirects").read_text().splitlines() == [
        "/old-rss /digest/feed.xml 301",  # the site's own lines first, as written
        "/digest/2019/03/04/pit-stop.html /digest/articles/pit-stop/ 301",
        "/digest/about-us/ /digest/pages/about/ 301",
        "/digest/blog/pit-stop/ /digest/articles/pit-stop/ 301",
        "/digest/feed.php /digest/articles/pit-stop/ 301",
        "/digest/old%20notes/pit%20stop /digest/articles/pit-stop/ 301",
    ]


def test_no_aliases_no_redirects_file(write_site: Callable[..., Path]) -> None:
    site = write_site({"content/a.md": article(), "content/_redirects": "/x /y 301\n"})
    build_site(site)
    assert (site.parent / "output/_redirects").read_text() == "/x /y 301\n"  # copied as it is


def test_alias_of_its_own_address_is_dropped_with_a_warning(write_site: Callable[..., Path]) -> None:
    site = write_site({"content/a.md": article(aliases="[/articles/a/, /old-a/]")})
    report = build_site(site)
    assert tuple(map(str, report.warnings)) == ("content/a.md:5: warning: alias '/articles/a/' is this page's own address; remove it",)
    assert (site.parent / "output/_redirects").read_text() == "/old-a/ /articles/a/ 301\n"


def test_verify_follows_a_backlink_through_an_alias(write_site: Callable[..., Path], tmp_path: Path) -> None:
    """A reprint made before the article moved links to its old address; the redirect page the
    alias leaves there (a relative meta refresh) still leads `verify` back to the article."""
    from click.testing import CliRunner

    from syndicate.cli import main

    yaml = BASIC_SITE.replace("Visit www.example.com/ann for more.", "Visit https://ann.example/notes for more.")
    site = write_site({"content/queue.md": article("Queue", date="2019-03-04", aliases="[/2019/03/04/queue.html]",
                                                   body="Lines move when people can see them move.")}, yaml)
    build_site(site)
    snippet = (site.parent / "output/syndicate/queue.html").read_text()
    old = "https://scratch.example.org/2019/03/04/queue.html"
    reprint = tmp_path / "reprint.html"
    reprint.write_text("<!DOCTYPE html><html lang=en><head><title>Digest</title></head><body>"
                       + snippet.replace('href="https://scratch.example.org/articles/queue/"', f'href="{old}"') + "</body></html>")
    result = CliRunner().invoke(main, ["verify", str(reprint), "--article", "queue", "--timeout", "2", "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert f"through {old}" in result.output


def test_the_date_in_the_address_is_the_date_the_page_shows(write_site: Callable[..., Path]) -> None:
    """Written at another offset, an article's date is the site's calendar day everywhere: in
    its address, on its page, in the archive (half past midnight in Berlin is still 2019 in UTC)."""
    yaml = BASIC_SITE + 'timezone: Europe/Berlin\npermalinks:\n  article: "{year}/{month}/{day}/{slug}/"\n'
    site = write_site({"content/eve.md": article("New Year's Eve", date="2019-12-31T23:30:00-01:00")}, yaml)
    build_site(site)
    out = site.parent / "output"
    assert (out / "2020/01/01/eve/index.html").is_file()
    byline = " ".join(lxml.html.parse(str(out / "2020/01/01/eve/index.html")).getroot().find_class("byline")[0].text_content().split())
    assert "1 January 2020" in byline
    archive = lxml.html.parse(str(out / "archive/index.html")).getroot()
    assert [h.text_content().strip() for h in archive.iter("h2")] == ["2020"]
