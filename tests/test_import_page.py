"""`syndicate import page`: saved pages, text copies and URLs become articles that build at once.

The pages under tests/import_pages/ are written for these tests in the shapes reprinted
articles take on the web: an author's blog post with a reprint block, a curated repost with
a credit line, a page whose terms sit in a sidebar, a text copy full of share and comment
lines, and a page with no terms at all.
"""

from __future__ import annotations

import difflib
import http.server
import re
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import html5lib
import pytest
import yaml
from click.testing import CliRunner, Result

from syndicate.attribution import parse_statement
from syndicate.cli import main
from syndicate.errors import SiteError
from syndicate.importers.common import author_id_for
from syndicate.importers.extract import Unit
from syndicate.importers.fetch import fetch_page
from syndicate.importers.markdown import blocks_from_xml
from syndicate.importers.page import PageOptions, import_pages
from syndicate.importers.terms import lift_terms

from .conftest import build_site, read_article

PAGES = Path(__file__).parent / "import_pages"
XHTML = "{http://www.w3.org/1999/xhtml}"


def run_import(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["import", "page", *map(str, args)])



def paragraphs(body: str) -> list[str]:
    return [p for p in body.strip().split("\n\n") if not p.startswith(("#", "- ", "1. "))]


def headings(body: str) -> list[str]:
    return re.findall(r"^## (.+)$", body, re.MULTILINE)


def list_items(body: str) -> list[str]:
    return re.findall(r"^(?:-|\d+\.) (.+)$", body, re.MULTILINE)


def authors(site: Path) -> dict[str, dict[str, object]]:
    return yaml.safe_load((site / "site.yaml").read_text(encoding="utf-8"))["authors"]


# ---------------------------------------------------------------------------------------
# The five shapes


def test_blog_post_with_reprint_block(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = run_import(PAGES / "blog_post.html", "--into", site)
    assert result.exit_code == 0, result.output
    front, body = read_article(site / "content" / "the-second-apology.md")
    assert front == {
        "title": "The Second Apology", "date": date(2021, 6, 14), "author": "dana-whitfield",
        "tags": ["apology", "complaints", "hotels"],
        "summary": "Why the apology that fixes a complaint is usually the second one, and how to give it on purpose.",
    }
    assert paragraphs(body)[0].startswith("Most service teams are good at the first apology. ")
    assert paragraphs(body)[-1].endswith("Then decide, before the end of the shift, who will give the second one.")
    assert headings(body) == ["Why the first one is not enough", "How to give the second apology", "Make it a habit, not a rescue"]
    assert list_items(body) == [
        "Say what actually went wrong, in plain words.",
        "Say what you changed, even if the change is small.",
        "Thank the customer for telling you, because they did you a favour.",
    ]
    assert "I call it *the second apology*" in body and "**a full point lower**" in body
    assert "[closing-the-loop checklist](https://danawhitfield.example/blog/closing-the-loop/)" in body
    for chrome in ("Skip to content", "Share this", "Facebook", "LinkedIn", "Like Loading", "Tagged", "You may also like",
                   "thoughts on", "Marcus Bell", "follow-up calls after reading", "Leave a Reply", "Post Comment",
                   "Get the monthly tips", "Recent Posts", "Powered by WordPress", "Privacy policy", "Posted on"):
        assert chrome not in body, chrome
    for lifted in ("You may use this article", "Copyright, Dana Whitfield", "paid newsletter", "contact us"):
        assert lifted not in body, lifted
    assert authors(site)["dana-whitfield"] == {
        "name": "Dana Whitfield",
        "url": "https://www.danawhitfield.example/",
        "reprint": {
            "preamble": "You may use this article in your free newsletter, website or publication, providing you include "
                        "the complete statement below, with active links to the websites:",
            "statement": "Copyright, Dana Whitfield. Used with permission. Dana Whitfield trains front-desk and contact-centre "
                         "teams to turn complaints into loyalty. For free articles and her monthly service tips, visit "
                         "www.DanaWhitfield.example or subscribe at https://danawhitfield.example/tips/.\n",
            "commercial": "For use in a paid newsletter, publication or training program, please contact us.",
        },
    }
    assert "title:    The Second Apology  [sure: page title and main heading]" in result.output
    assert "author:   Dana Whitfield -> dana-whitfield, added to site.yaml  [sure: byline and the copyright line]" in result.output
    assert "reprint:  preamble, statement (2 links), commercial: added to dana-whitfield in site.yaml  [sure]" in result.output


def test_curated_repost_with_credit_line(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = run_import(PAGES / "curated_repost.html", "--into", site)
    assert result.exit_code == 0, result.output
    front, body = read_article(site / "content" / "queues-people-dont-mind.md")
    assert front["title"] == "Queues People Don't Mind"
    assert front["date"] == date(2020, 11, 3)
    assert front["author"] == "tomas-okafor"
    assert front["original"] == {
        "url": "https://tomasokafor.example/articles/queues/",
        "site": "tomasokafor.example",
        "note": "Republished with author's permission from original post.",
    }
    assert paragraphs(body)[0] == ("Nobody enjoys waiting, but people put up with a surprising amount of it when they can see what is "
                                   "happening. The queues that make customers angry are rarely the longest ones. They are the ones "
                                   "that feel unfair, unexplained or endless.")
    assert paragraphs(body)[-1].endswith("They ask staff to treat a queue as part of the service rather than as the space before it starts.")
    assert headings(body) == ["Show the end of the line", "Explain every pause", "Keep the order honest"]
    assert re.findall(r"^\d\. (.+)$", body, re.MULTILINE) == [
        "Tell people why they are waiting.", "Tell them roughly how long it will take.", "Come back before the time you promised runs out.",
    ]
    for chrome in ("Republished", "original post", "Free shipping", "Share:", "Tweet", "Photo: Lena Kraus", "4 min read", "Topics:",
                   "Never miss an issue", "More from Retail", "About the author", "Most read", "Advertisement", "All rights reserved",
                   "Copyright, Tomas Okafor", "Calm Counters"):
        assert chrome not in body, chrome
    assert authors(site)["tomas-okafor"]["reprint"] == {
        "statement": "Copyright, Tomas Okafor. Used with permission. Tomas Okafor studies how small businesses handle busy hours "
                     "and writes the free weekly letter Calm Counters. Read more of his work at tomasokafor.example or write to "
                     "him at hello@tomasokafor.example.\n",
    }
    report = (site / "import-report.md").read_text(encoding="utf-8")
    assert f"{PAGES / 'curated_repost.html'}:30: 1 image(s) in the article were left out" in report


def test_terms_in_a_sidebar_aside(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = run_import(PAGES / "footer_terms.html", "--into", site)
    assert result.exit_code == 0, result.output
    front, body = read_article(site / "content" / "five-words-that-calm-a-caller.md")
    assert (front["title"], front["date"], front["author"]) == ("Five Words That Calm a Caller", date(2018, 9, 27), "ruth-abernethy")
    assert "original" not in front
    assert paragraphs(body)[0].startswith("An upset caller is usually not upset with you.")
    assert paragraphs(body)[-1] == "Try one phrase a week, and listen for the moment a caller's voice drops. That moment is the whole job."
    assert headings(body) == ["The five", "Practise them out loud"]
    assert list_items(body)[0] == '**"Let me help with that."** It moves the conversation from blame to action.'
    assert list_items(body)[-1] == '**"Anything else today?"** It ends the call on their terms, not yours.'
    assert len(list_items(body)) == 5
    for chrome in ("Service training for contact centres", "Speaking", "Hold music is a message", "Callbacks that customers trust",
                   "Subscribe", "twice a month", "Reprint this article", "Reprints welcome", "Copyright", "Edinburgh", "Sitemap"):
        assert chrome not in body, chrome
    assert authors(site)["ruth-abernethy"]["reprint"] == {
        "preamble": "Reprints welcome! You may republish any article on this site in your free newsletter, blog or company intranet, "
                    "as long as it is unedited and you include the statement below with the links active:",
        "statement": "Copyright, Ruth Abernethy. Ruth Abernethy trains contact-centre teams to handle difficult calls with calm and "
                     "warmth. Get her free call-handling guide at www.RuthAbernethy.example/guide or follow her writing at "
                     "https://ruthabernethy.example/writing.\n",
        "commercial": "Commercial publications and paid training programs must request permission first.",
    }


def test_text_copy_with_share_subscribe_and_comment_lines(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = run_import(PAGES / "text_copy.txt", "--into", site)
    assert result.exit_code == 0, result.output
    assert "text copy -> content/name-the-next-step.md (created)" in result.output
    front, body = read_article(site / "content" / "name-the-next-step.md")
    assert front == {"title": "Name the Next Step", "date": date(2019, 3, 4), "author": "helen-marsh"}
    assert paragraphs(body)[0].startswith("Every conversation with a customer ends with something still to happen.")
    assert paragraphs(body)[-1] == ('Try it for one week. Count the calls that begin with "I was told someone would get back to me", '
                                    "and watch the number fall.")
    assert headings(body) == ["Be specific about who and when", "Write it down where the customer can see it"]
    assert list_items(body) == ["the name of the person who will act", "the action itself, in the customer's words",
                                "a day, and if possible an hour"]
    text_lines = [line.strip() for line in (PAGES / "text_copy.txt").read_text(encoding="utf-8").splitlines()]
    chrome = text_lines[: text_lines.index("Every conversation with a customer ends with something still to happen. "
                                           "A refund will be processed, a part will be ordered, a manager will call back. "
                                           "The customer leaves with that promise and nothing else, and the quality of the "
                                           "whole conversation is judged by whether the promise is kept.")]
    chrome += text_lines[text_lines.index("Share this:"):]
    for line in filter(None, chrome):
        assert line not in body.splitlines(), line
    for lifted in ("You are welcome to reprint", "Copyright, Helen Marsh", "please contact Helen's office"):
        assert lifted not in body
    assert authors(site)["helen-marsh"]["reprint"] == {
        "preamble": "You are welcome to reprint this article in your free newsletter, blog or staff bulletin, provided you include "
                    "the complete statement below, with its links active.",
        "statement": "Copyright, Helen Marsh. Used with permission. Helen Marsh has trained frontline teams in more than twenty "
                     "countries and is the author of Promises at the Counter. Sign up for her free tips at www.HelenMarsh.example "
                     "or follow her on https://helenmarsh.example/blog.\n",
        "commercial": "For use in a paid newsletter, a book or a training program, please contact Helen's office first.",
    }


def test_text_copy_with_blank_lines_everywhere_and_bullets(tmp_path: Path) -> None:
    """Another browser's copy: every line apart, list items marked with bullets."""
    items = {"the name of the person who will act", "the action itself, in the customer's words", "a day, and if possible an hour"}
    lines = [line for line in (PAGES / "text_copy.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    source = tmp_path / "copy.txt"
    source.write_text("\n\n".join(f"• {line}" if line in items else line for line in lines), encoding="utf-8")
    site = tmp_path / "site"
    assert run_import(source, "--into", site).exit_code == 0
    front, body = read_article(site / "content" / "name-the-next-step.md")
    assert front == {"title": "Name the Next Step", "date": date(2019, 3, 4), "author": "helen-marsh"}
    assert headings(body) == ["Be specific about who and when", "Write it down where the customer can see it"]
    assert list_items(body) == ["the name of the person who will act", "the action itself, in the customer's words",
                                "a day, and if possible an hour"]
    assert "Share this" not in body and "Copyright" not in body and "Peter Vance" not in body


def test_page_without_reprint_terms(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = run_import(PAGES / "no_terms.html", "--into", site)
    assert result.exit_code == 0, result.output
    front, body = read_article(site / "content" / "closing-time-is-still-service-time.md")
    assert front == {"title": "Closing Time Is Still Service Time", "date": date(2022, 2, 8), "author": "gwen-park"}
    assert paragraphs(body)[0].startswith("The last half hour before closing is when a shop shows what it really thinks of its customers.")
    assert paragraphs(body)[-1] == "It is fine to close on time. It is not fine to close *before* the customer has left."
    assert headings(body) == ["A closing routine that still serves"]
    assert list_items(body) == ["Start the back-of-house cleaning first, where customers cannot see it.",
                                "Keep one till fully staffed until the doors are locked.",
                                "Greet the last customer exactly as you greeted the first."]
    for chrome in ("Shopfloor Notes", "Archive", "RSS", "Webmentions", "3 likes", "written on a train", "by Gwen Park"):
        assert chrome not in body, chrome
    assert authors(site)["gwen-park"] == {"name": "Gwen Park"}
    assert "reprint:  none found on the page" in result.output
    report = (site / "import-report.md").read_text(encoding="utf-8")
    assert (f"{PAGES / 'no_terms.html'}:1: no reprint terms found on the page, and Gwen Park has none in site.yaml: "
            "this article gets no syndicated copies until you add them") in report.splitlines()
    assert "site.yaml:2: the site's url is a placeholder; set the address where the site will be published" in report


# ---------------------------------------------------------------------------------------
# The imported articles build, and their copies carry the lifted statements


def test_imported_articles_build_and_copies_end_with_the_lifted_statement(tmp_path: Path) -> None:
    site = tmp_path / "site"
    pages = [PAGES / name for name in ("blog_post.html", "curated_repost.html", "footer_terms.html", "text_copy.txt", "no_terms.html")]
    assert run_import(*pages, "--into", site).exit_code == 0
    assert CliRunner().invoke(main, ["check", "--strict", "--site", str(site / "site.yaml")]).exit_code == 0
    build_site(site / "site.yaml")
    expected = {
        "the-second-apology": ["https://www.DanaWhitfield.example", "https://danawhitfield.example/tips/"],
        "queues-people-dont-mind": ["https://tomasokafor.example", "mailto:hello@tomasokafor.example"],
        "five-words-that-calm-a-caller": ["https://www.RuthAbernethy.example/guide", "https://ruthabernethy.example/writing"],
        "name-the-next-step": ["https://www.HelenMarsh.example", "https://helenmarsh.example/blog"],
    }
    for slug, links in expected.items():
        snippet = (site / "output" / "syndicate" / f"{slug}.html").read_text(encoding="utf-8")
        tree = html5lib.parse(snippet)
        hrefs = [a.get("href") for a in tree.iter(f"{XHTML}a")]
        for href in links:
            assert href in hrefs, (slug, href, hrefs)
        author = read_article(site / "content" / f"{slug}.md")[0]["author"]
        statement = parse_statement(authors(site)[str(author)]["reprint"]["statement"])  # type: ignore[index]
        text = (site / "output" / "syndicate" / f"{slug}.txt").read_text(encoding="utf-8")
        assert " ".join(text.split()).endswith(" ".join(statement.text.split())), slug
        visible = " ".join("".join(tree.itertext()).split())
        assert " ".join(statement.visible_text.split()) in visible, slug
    assert not (site / "output" / "syndicate" / "closing-time-is-still-service-time.html").exists()
    page = (site / "output" / "articles" / "queues-people-dont-mind" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="https://tomasokafor.example/articles/queues/">' in page


# ---------------------------------------------------------------------------------------
# site.yaml: comments kept, existing authors respected


SITE_WITH_COMMENTS = """\
# Our digest of service writing.
title: "Counter Culture"   # shown in every page title
url: "https://counter.example.org/"

authors:
  # Staff writers first.
  dana-whitfield:
    name: "Dana Whitfield"   # no terms yet: she sends them by post
  gwen-park:
    name: "Gwen Park"
    reprint:
      statement: |
        Copyright, Gwen Park. Reprinted by arrangement; see shopfloornotes.example.

# Built nightly.
per_page: 5
"""


def test_existing_site_yaml_keeps_its_text_and_comments(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "site.yaml").write_text(SITE_WITH_COMMENTS, encoding="utf-8")
    result = run_import(PAGES / "blog_post.html", PAGES / "text_copy.txt", PAGES / "no_terms.html", "--into", site)
    assert result.exit_code == 0, result.output
    after = (site / "site.yaml").read_text(encoding="utf-8")
    before_lines, after_lines = SITE_WITH_COMMENTS.splitlines(), after.splitlines()
    opcodes = difflib.SequenceMatcher(a=before_lines, b=after_lines, autojunk=False).get_opcodes()
    assert {tag for tag, *_ in opcodes} <= {"equal", "insert"}, after
    assert after.endswith("\n# Built nightly.\nper_page: 5\n")
    data = yaml.safe_load(after)
    assert list(data["authors"]) == ["dana-whitfield", "gwen-park", "helen-marsh"]
    assert data["authors"]["dana-whitfield"]["reprint"]["statement"].startswith("Copyright, Dana Whitfield. Used with permission.")
    assert data["authors"]["gwen-park"]["reprint"]["statement"] == "Copyright, Gwen Park. Reprinted by arrangement; see shopfloornotes.example.\n"
    assert "author:   Dana Whitfield -> dana-whitfield, in site.yaml" in result.output
    assert CliRunner().invoke(main, ["check", "--strict", "--site", str(site / "site.yaml")]).exit_code == 0


EXAMPLE_SITE = """\
title: "Service Culture Digest"
url: "https://digest.example.org"

authors:
  marta-lindqvist:
    name: "Marta Lindqvist"
    reprint:
      statement: |
        Copyright, Marta Lindqvist. Visit www.example.com/marta.

  owen-hale:
    name: "Owen Hale"
    bio: "Owen Hale ran a chain of garden centres."

syndication:
  utm: false
"""


def test_terms_go_to_an_author_without_any_and_blank_lines_stay(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "site.yaml").write_text(EXAMPLE_SITE.replace("Owen Hale", "Helen Marsh").replace("owen-hale", "helen-marsh"), encoding="utf-8")
    result = run_import(PAGES / "text_copy.txt", PAGES / "no_terms.html", "--into", site)
    assert result.exit_code == 0, result.output
    after = (site / "site.yaml").read_text(encoding="utf-8")
    assert after == EXAMPLE_SITE.replace("Owen Hale", "Helen Marsh").replace("owen-hale", "helen-marsh").replace(
        '    bio: "Helen Marsh ran a chain of garden centres."\n',
        '    bio: "Helen Marsh ran a chain of garden centres."\n'
        "    reprint:\n"
        '      preamble: "You are welcome to reprint this article in your free newsletter, blog or staff bulletin, provided you include '
        'the complete statement below, with its links active."\n'
        "      statement: |\n"
        "        Copyright, Helen Marsh. Used with permission. Helen Marsh has trained frontline teams in more than twenty countries "
        "and is the author of Promises at the Counter. Sign up for her free tips at www.HelenMarsh.example or follow her on "
        "https://helenmarsh.example/blog.\n"
        "      commercial: \"For use in a paid newsletter, a book or a training program, please contact Helen's office first.\"\n"
        '  gwen-park:\n    name: "Gwen Park"\n')


def test_a_statement_naming_someone_else_is_not_given_to_the_author(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "site.yaml").write_text(EXAMPLE_SITE, encoding="utf-8")
    result = run_import(PAGES / "blog_post.html", "--into", site, "--author", "owen-hale")
    assert result.exit_code == 0, result.output
    assert (site / "site.yaml").read_text(encoding="utf-8") == EXAMPLE_SITE
    assert read_article(site / "content" / "the-second-apology.md")[0]["author"] == "owen-hale"
    assert "reprint:  preamble, statement (2 links), commercial: names Dana Whitfield, not Owen Hale: not used" in result.output
    report = (site / "import-report.md").read_text(encoding="utf-8")
    assert f"{PAGES / 'blog_post.html'}:59: the reprint statement is Dana Whitfield's, so it was not given to Owen Hale" in report


def test_different_terms_are_reported_not_changed(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "site.yaml").write_text(SITE_WITH_COMMENTS.replace("Gwen Park", "Dana Whitfield").replace("gwen-park", "dana-whitfield")
                                    .replace('    name: "Dana Whitfield"   # no terms yet: she sends them by post\n  dana-whitfield:\n', ""),
                                    encoding="utf-8")
    before = (site / "site.yaml").read_text(encoding="utf-8")
    result = run_import(PAGES / "blog_post.html", "--into", site)
    assert result.exit_code == 0, result.output
    assert (site / "site.yaml").read_text(encoding="utf-8") == before
    assert "differ from dana-whitfield's in site.yaml: kept those, see the report" in result.output
    report = (site / "import-report.md").read_text(encoding="utf-8")
    assert re.search(r"^\S*site\.yaml:7: \S*blog_post\.html shows different reprint terms for Dana Whitfield; site\.yaml was not changed\. "
                     r"The page's statement: Copyright, Dana Whitfield\. Used with permission\.", report, re.MULTILINE), report


# ---------------------------------------------------------------------------------------
# Re-running is safe


def test_rerun_skips_unchanged_and_never_overwrites_edits_without_force(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run_import(PAGES / "blog_post.html", "--into", site).exit_code == 0
    article = site / "content" / "the-second-apology.md"
    site_yaml = (site / "site.yaml").read_text(encoding="utf-8")
    again = run_import(PAGES / "blog_post.html", "--into", site)
    assert again.exit_code == 0 and "(unchanged)" in again.output
    assert (site / "site.yaml").read_text(encoding="utf-8") == site_yaml
    edited = article.read_text(encoding="utf-8") + "\nA line I added by hand.\n"
    article.write_text(edited, encoding="utf-8")
    kept = run_import(PAGES / "blog_post.html", "--into", site)
    assert kept.exit_code == 1
    assert "was edited since the last import; not overwritten (use --force to replace it)" in kept.output
    assert article.read_text(encoding="utf-8") == edited
    assert "was edited since the last import" in (site / "import-report.md").read_text(encoding="utf-8")
    forced = run_import(PAGES / "blog_post.html", "--into", site, "--force")
    assert forced.exit_code == 0 and "(overwritten)" in forced.output
    assert "A line I added by hand." not in article.read_text(encoding="utf-8")


def test_a_file_not_written_by_an_import_is_kept(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    (site / "site.yaml").write_text(SITE_WITH_COMMENTS, encoding="utf-8")
    mine = "---\ntitle: \"The Second Apology\"\ndate: 2020-01-01\nauthor: dana-whitfield\n---\nMy own draft.\n"
    (site / "content" / "the-second-apology.md").write_text(mine, encoding="utf-8")
    result = run_import(PAGES / "blog_post.html", "--into", site)
    assert result.exit_code == 1
    assert "exists and was not written by an import; not overwritten" in result.output
    assert (site / "content" / "the-second-apology.md").read_text(encoding="utf-8") == mine
    assert (site / "site.yaml").read_text(encoding="utf-8") == SITE_WITH_COMMENTS
    both = run_import(PAGES / "blog_post.html", PAGES / "no_terms.html", "--into", site)
    assert both.exit_code == 0
    after = yaml.safe_load((site / "site.yaml").read_text(encoding="utf-8"))["authors"]
    assert "reprint" not in after["dana-whitfield"], "terms are only lifted with an article that was written"


# ---------------------------------------------------------------------------------------
# --into, --author, --original-url, exit codes


def test_into_a_folder_that_is_not_a_site_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = run_import(PAGES / "blog_post.html", "--into", tmp_path)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"{tmp_path}: holds no site.yaml and is not empty; import into a site folder (with site.yaml) or a new or empty one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_into_defaults_to_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_import(PAGES / "no_terms.html")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site.yaml").exists() and (tmp_path / "content" / "closing-time-is-still-service-time.md").exists()


def test_nothing_imported_exits_1_and_creates_nothing(tmp_path: Path) -> None:
    site = tmp_path / "new"
    result = run_import(tmp_path / "missing.html", "--into", site)
    assert result.exit_code == 1
    assert f"{tmp_path / 'missing.html'}:1: no such file" in result.output
    assert "nothing imported" in result.output
    assert not site.exists()
    assert run_import().exit_code == 2


def test_one_bad_source_does_not_stop_the_others(tmp_path: Path) -> None:
    site = tmp_path / "site"
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body><nav>Home</nav></body></html>", encoding="utf-8")
    result = run_import(empty, PAGES / "no_terms.html", "--into", site)
    assert result.exit_code == 0
    assert f"{empty}:1: no article text found in this saved page" in result.output
    assert f"{empty}:1: no article text found" in (site / "import-report.md").read_text(encoding="utf-8")


def test_author_option_and_original_url_option(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = run_import(PAGES / "no_terms.html", "--into", site, "--author", "Ron Kaufman",
                        "--original-url", "https://shopfloornotes.example/posts/closing-time/")
    assert result.exit_code == 0, result.output
    front, _ = read_article(site / "content" / "closing-time-is-still-service-time.md")
    assert front["author"] == "ron-kaufman"
    assert front["original"] == {"url": "https://shopfloornotes.example/posts/closing-time/", "site": "shopfloornotes.example"}
    assert authors(site)["ron-kaufman"] == {"name": "Ron Kaufman"}
    assert run_import(PAGES / "no_terms.html", "--into", site, "--original-url", "ftp://x").exit_code == 1


def test_credit_without_a_link_is_reported_missing(tmp_path: Path) -> None:
    page = (PAGES / "curated_repost.html").read_text(encoding="utf-8")
    page = page.replace('<a href="https://tomasokafor.example/articles/queues/">original post</a>', "the original post")
    page = page.replace('<link rel="canonical" href="https://tomasokafor.example/articles/queues/">', "")
    source = tmp_path / "repost.html"
    source.write_text(page, encoding="utf-8")
    site = tmp_path / "site"
    result = run_import(source, "--into", site)
    assert result.exit_code == 0, result.output
    front, body = read_article(site / "content" / "queues-people-dont-mind.md")
    assert "original" not in front and "Republished" not in body
    report = (site / "import-report.md").read_text(encoding="utf-8")
    assert (f"{source}:30: the credit \"Republished with author's permission from the original post.\" links to no original post; "
            "add `original: {url: ...}` to the front matter (or re-run with --original-url URL)") in report.splitlines()


def test_page_without_author_or_date(tmp_path: Path) -> None:
    source = tmp_path / "bare.html"
    source.write_text("<html><head><title>Small Kindnesses at the Till</title></head><body><h1>Small Kindnesses at the Till</h1>"
                      "<p>A cashier who looks up and smiles changes how the whole visit is remembered, and it costs nothing at all to do it.</p>"
                      "<p>Try it with the next ten customers and notice how many of them smile back before they leave the shop.</p></body></html>",
                      encoding="utf-8")
    site = tmp_path / "site"
    results = import_pages([str(source)], PageOptions(into=site, today=date(2025, 5, 6)), echo=lambda _line: None)
    assert results[0].written is not None
    front, _ = read_article(site / "content" / "small-kindnesses-at-the-till.md")
    assert front["date"] == date(2025, 5, 6) and front["author"] == "unknown-author"
    report = (site / "import-report.md").read_text(encoding="utf-8")
    assert f"{source}:1: no publication date found; used 2025-05-06: correct `date` in the front matter" in report
    assert f"{source}:1: no author found on the page; imported under Unknown Author" in report


def test_a_page_without_a_byline_is_never_credited_to_the_sites_own_author(tmp_path: Path) -> None:
    """A site made by `init` has one author with reprint terms: an article found on someone
    else's page must not go out under that author's statement."""
    site = tmp_path / "site"
    assert CliRunner().invoke(main, ["init", str(site)]).exit_code == 0
    owner = next(iter(authors(site)))
    source = tmp_path / "found.html"
    source.write_text("<html><head><title>Queues That Move</title></head><body><h1>Queues That Move</h1><p>Published 3 March 2024.</p>"
                      "<p>The line at the pharmacy moved faster once someone greeted each person as they joined it, the owner said.</p>"
                      "<p>Nobody waited less, but everybody felt they did, and the complaints about waiting stopped within a week.</p>"
                      "</body></html>", encoding="utf-8")
    result = run_import(source, "--into", site)
    assert result.exit_code == 0, result.output
    front, _ = read_article(site / "content" / "queues-that-move.md")
    assert front["author"] == "unknown-author" != owner
    build_site(site / "site.yaml")
    assert not (site / "output" / "syndicate" / "queues-that-move.html").exists()  # no terms, so no copy under anyone's


# ---------------------------------------------------------------------------------------
# URLs, fetched from a server on 127.0.0.1


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        routes = {
            "/post/": ("text/html; charset=utf-8", (PAGES / "blog_post.html").read_bytes()),
            "/copy.txt": ("text/plain; charset=utf-8", (PAGES / "text_copy.txt").read_bytes()),
            "/big/": ("text/html", b"<p>" + b"x" * 200_000 + b"</p>"),
            "/image.png": ("image/png", b"\x89PNG\r\n"),
        }
        if self.path == "/old-address":
            self.send_response(301)
            self.send_header("Location", "/post/")
            self.end_headers()
            return
        if self.path not in routes:
            self.send_error(404)
            return
        kind, data = routes[self.path]
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_import_from_urls_follows_redirects_and_reads_text(tmp_path: Path, server: str) -> None:
    site = tmp_path / "site"
    result = run_import(f"{server}/old-address", f"{server}/copy.txt", "--into", site)
    assert result.exit_code == 0, result.output
    assert f"{server}/old-address: web page -> content/the-second-apology.md (created)" in result.output
    assert f"{server}/copy.txt: text copy -> content/name-the-next-step.md (created)" in result.output
    front, body = read_article(site / "content" / "the-second-apology.md")
    assert front["author"] == "dana-whitfield" and "## How to give the second apology" in body
    assert "Copyright" not in body
    again = run_import(f"{server}/old-address", "--into", site)
    assert again.exit_code == 0 and "(unchanged)" in again.output


def test_url_failures_are_one_line_each(tmp_path: Path, server: str) -> None:
    result = run_import(f"{server}/missing", f"{server}/image.png", "--into", tmp_path / "site")
    assert result.exit_code == 1
    assert f"{server}/missing:1: HTTP 404 Not Found" in result.output
    assert f"{server}/image.png:1: the server sent image/png, not a web page" in result.output
    with pytest.raises(SiteError, match="the page is larger than the 1,000 bytes limit"):
        fetch_page(f"{server}/big/", max_bytes=1000)


# ---------------------------------------------------------------------------------------
# The pieces


@pytest.mark.parametrize(("name", "expected"), [
    ("Ron Kaufman", "ron-kaufman"), ("Zoë Núñez-Ortega", "zoe-nunez-ortega"), ("  J. R. Hartley ", "j-r-hartley"), ("李雷", ""),
], ids=["plain", "accents", "initials", "no-latin"])
def test_author_ids_from_names(name: str, expected: str) -> None:
    assert author_id_for(name) == expected


def units(*lines: str) -> tuple[Unit, ...]:
    return tuple(Unit(text=line, statement=line, line=number) for number, line in enumerate(lines, 1))


def test_preamble_and_statement_in_one_line() -> None:
    lifted = lift_terms(units(
        "Some article text that is long enough to be a paragraph of the body of the article.",
        "Reprint policy: you may reprint this column provided you include this statement: Copyright 2020 by Mina Holt. "
        "Mina writes about hotel service at minaholt.example.",
        "For commercial use, please contact us.",
    ))
    assert lifted.reprint is not None
    assert lifted.reprint.preamble == "Reprint policy: you may reprint this column provided you include this statement:"
    assert lifted.reprint.statement == "Copyright 2020 by Mina Holt. Mina writes about hotel service at minaholt.example."
    assert lifted.reprint.commercial == "For commercial use, please contact us."
    assert lifted.named_author == "Mina Holt"


def test_body_sentences_about_first_appearances_are_not_credits() -> None:
    lifted = lift_terms(units("The problem first appeared on a Monday, when the queue reached the door and nobody knew why.",
                              "This problem first appeared on a Monday.", "Symptoms like these first appeared in the spring."))
    assert lifted.original is None


def test_a_site_footer_notice_is_not_a_statement() -> None:
    lifted = lift_terms(units("© 2021 Front Desk Weekly Media Ltd. All rights reserved. Powered by a content system."))
    assert lifted.reprint is None


def test_a_statement_that_seems_cut_is_doubted() -> None:
    lifted = lift_terms(units(
        "You may use this article in your newsletter provided you include the statement below with active links:",
        "Copyright, Mina Holt. Used with permission. Mina Holt writes about hotel service and",
    ))
    messages = [message for _line, message in lifted.doubts]
    assert any("no web address although its preamble asks for active links" in m for m in messages)
    assert any("seems cut: it ends with" in m for m in messages)


@pytest.mark.parametrize("credit", [
    "Reposted with permission on Example.com.",
    "This article first appeared on Service Matters.",
    "Originally published at the author's blog.",
    "Reprinted with the author's permission.",
    "This interview was originally published on the Harbor Desk blog and is republished with permission.",
    "This essay grew out of a talk at a retail conference and is republished here with permission.",
], ids=["reposted", "first-appeared", "originally", "reprinted", "interview", "mid-sentence"])
def test_credit_lines(credit: str) -> None:
    lifted = lift_terms(units("Body text of the article, long enough to read as a real paragraph of prose.", credit))
    assert lifted.original is not None and lifted.original.note == credit
    assert credit in lifted.removed


def test_markdown_escapes_text_that_only_looks_like_markup() -> None:
    xml = ('<doc><main><head rend="h1">T</head><p>2020. A year * of stars and [brackets] and &lt;b&gt;tags&lt;/b&gt;.</p>'
           '<p>Some <hi rend="#b">bold </hi>words.</p><head rend="h3">Deeper</head></main></doc>')
    blocks, images = blocks_from_xml(xml, "T")
    assert [b.markdown for b in blocks] == [
        r"2020\. A year \* of stars and \[brackets\] and &lt;b>tags&lt;/b>.",
        "Some **bold** words.",
        "## Deeper",
    ]
    assert images == 0


def test_articles_stay_inside_content_and_slugs_stay_short(tmp_path: Path) -> None:
    from syndicate.importers.articles import ArticleDraft, write_article
    from syndicate.importers.common import SiteFolder
    from syndicate.importers.record import ImportRecord

    site = SiteFolder.open(tmp_path / "site")
    record = ImportRecord.load(site.root)
    long_title = "Seven Small Habits That Make Every Customer Feel Like the Only One in the Shop on a Busy Saturday"
    draft = ArticleDraft(title=long_title, date=date(2024, 1, 2), author="ann", body="Words.", source="x.html")
    assert draft.file_slug == "seven-small-habits-that-make-every-customer-feel-like-the-only-one-in-the-shop"
    escape = ArticleDraft(title="Out", date=date(2024, 1, 2), author="ann", body="Words.", source="x.html", folder="../../elsewhere")
    with pytest.raises(SiteError, match="would be written outside content/"):
        write_article(site, escape, record)
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("separator", [" - ", " | ", " // ", " / ", " · "])
def test_the_page_titles_site_name_is_left_off(separator: str) -> None:
    from syndicate.importers.htmlpage import extract_html

    page = (f"<html><head><title>Counting the Wait{separator}Harbour Notes{separator}Essays</title></head><body>"
            "<header><h1>Harbour Notes</h1></header><article><h1>Counting the Wait</h1>"
            "<p>A desk that measured its own waiting times found the morning queue was the one that mattered most.</p>"
            "</article></body></html>")
    found = extract_html(page)
    assert found.title is not None and found.title.value == "Counting the Wait"


def test_a_pre_without_code_stays_a_code_block_and_dunder_names_stay_text(tmp_path: Path) -> None:
    """reStructuredText's literal blocks are bare <pre>: they were run together into a quote,
    a `#!/bin/sh` line became a heading, and `__init__.py` in prose came out emphasised."""
    source = tmp_path / "literal.html"
    source.write_text(
        "<html><head><title>Packaging the Desk Tools</title></head><body><article><h1>Packaging the Desk Tools</h1>"
        "<p>By Ana Lima, 4 May 2023.</p><p>Start with an empty package and the middle __init__.py file, then the script:</p>"
        '<pre class="literal-block">\n#!/bin/sh\nmkdir -p desk/tools\ntouch desk/__init__.py\n</pre>'
        "<p>Every file the shell made is empty until you write it, which keeps the first commit small and clear.</p>"
        "<p>The next step adds the settings module that the help desk reads when it starts each morning.</p></article></body></html>",
        encoding="utf-8")
    site = tmp_path / "site"
    assert run_import(source, "--into", site).exit_code == 0
    build_site(site / "site.yaml")
    page = html5lib.parse((site / "output/articles/packaging-the-desk-tools/index.html").read_bytes(), namespaceHTMLElements=False)
    main_element = page.find(".//main")
    assert main_element is not None
    code = main_element.find(".//pre/code")
    assert code is not None and "".join(code.itertext()) == "#!/bin/sh\nmkdir -p desk/tools\ntouch desk/__init__.py\n"
    assert not main_element.findall(".//h1")[1:] and not main_element.findall(".//blockquote")
    assert any("the middle __init__.py file" in "".join(p.itertext()) for p in main_element.iter("p"))
    assert not main_element.findall(".//em")


def test_a_list_of_links_in_the_article_is_kept_and_the_menu_is_not(tmp_path: Path) -> None:
    """trafilatura drops a list made only of links as if it were a menu; one that follows a
    paragraph of the article is the author's and comes back, in its place."""
    source = tmp_path / "links.html"
    source.write_text(
        "<html><head><title>Where the Scripts Live</title></head><body>"
        '<nav><p>Menu</p><ul><li><a href="/">Home</a></li><li><a href="/about/">About</a></li></ul></nav>'
        "<article><h1>Where the Scripts Live</h1><p>By Ana Lima, 4 May 2023.</p>"
        "<p>The desk keeps its scripts in two repositories, both public, and both take changes from anyone:</p>"
        '<ul><li><a href="https://code.example.org/desk/tools">desk tools</a></li>'
        '<li><a href="/desk/rota">the rota</a></li></ul>'
        '<p>Each one has a short guide in its <a href="/desk/guide">first page</a> that tells a new person where to start.</p>'
        "<p>Changes go through one review by someone from another shift, so both shifts know the scripts.</p>"
        "</article></body></html>", encoding="utf-8")
    site = tmp_path / "site"
    assert run_import(source, "--into", site, "--original-url", "https://desk.example.org/posts/scripts/").exit_code == 0
    _, body = read_article(site / "content" / "where-the-scripts-live.md")
    assert list_items(body) == ["[desk tools](https://code.example.org/desk/tools)", "[the rota](https://desk.example.org/desk/rota)"]
    assert body.index("anyone:") < body.index("- [desk tools]") < body.index("Each one has")
    assert "[first page](https://desk.example.org/desk/guide)" in body  # relative links resolve against --original-url
    assert "About" not in body
    # Without an address, a relative link cannot be kept as a link: the report says so.
    other = tmp_path / "other"
    assert run_import(source, "--into", other).exit_code == 0
    assert "1 link(s) relative to the page became plain text" in (other / "import-report.md").read_text()


def test_back_to_top_links_and_share_button_tables_are_left_out(tmp_path: Path) -> None:
    source = tmp_path / "furniture.html"
    source.write_text(
        "<html><head><title>The Night Desk</title></head><body><header><a href='/'>Harbour Notes</a></header>"
        "<article><h1>The Night Desk</h1><p>By Ana Lima, 4 May 2023.</p>"
        + "".join(f"<p>Night {n}: the desk answers fewer calls after ten, and every one of them matters more to the person "
                  "who makes it, because nobody rings a hotel at that hour for a small reason or to ask about breakfast.</p>"
                  for n in range(1, 5)) +
        "<p>We keep a list of what the day shift left open, so the night shift can close some of it before morning.</p>"
        '<table><tr><td><a href="https://social.example/share">Tweet</a></td><td></td></tr></table>'
        '<p><a href="#top">Go Top</a></p></article><footer>Harbour Notes, 2023</footer></body></html>', encoding="utf-8")
    site = tmp_path / "site"
    assert run_import(source, "--into", site).exit_code == 0
    _, body = read_article(site / "content" / "the-night-desk.md")
    assert "Tweet" not in body and "Go Top" not in body and "|" not in body
    assert body.rstrip().endswith("before morning.")


def test_the_date_in_the_pages_address_beats_a_guess_and_tag_links_are_tags() -> None:
    from syndicate.importers.htmlpage import extract_html

    body = "".join(f"<p>Paragraph {n}: the desk keeps a notebook of every promise it makes to a caller, and reads it "
                   "aloud at the start of each shift so nobody forgets one.</p>" for n in range(1, 6))
    page = ('<html><head><title>Promises Kept</title><link rel="canonical" href="https://desk.example/2020/09/promises/">'
            "</head><body><h1>Promises Kept</h1>" + body +
            '<p>Filed under <a href="/tags/promises/">promises</a> and <a href="/tags/night-shift/">night shift</a>.</p>'
            "<footer>© 2025 Desk Notes</footer></body></html>")
    found = extract_html(page)
    assert found.published is not None and found.published[0] == date(2020, 9, 1)
    assert found.published[1].how == "the page's address"
    assert found.tags == ("promises", "night shift")
    cloud = page.replace("<footer>", "".join(f'<a href="/tags/t{n}/">t{n}</a>' for n in range(12)) + "<footer>")
    assert extract_html(cloud).tags == ()  # a tag cloud is the site's tags, not this page's
    impossible = page.replace("/2020/09/promises/", "/2021/02/30/promises/")
    assert extract_html(impossible).published is not None  # no such day in the address: the guess stands, no crash


def test_a_text_copy_quoting_html_is_a_text_copy_and_a_site_wide_description_is_no_summary(tmp_path: Path) -> None:
    from syndicate.importers.htmlpage import extract_html

    text = tmp_path / "copied.txt"
    text.write_text("Hello Markup\n\nBy Ana Lima, 4 May 2023\n\n"
                    + "\n\n".join(f"Step {n}: the desk wrote its first page by hand, and kept it short so that anyone "
                                  "on the next shift could change it without asking." for n in range(1, 5))
                    + "\n\nThe whole page:\n\n<html><body><h1>Hello, world!</h1><p>Hi.</p></body></html>\n\n"
                    "That is all it took to start.\n", encoding="utf-8")
    site = tmp_path / "site"
    result = run_import(text, "--into", site)
    assert result.exit_code == 0, result.output
    front, _ = read_article(site / "content" / "hello-markup.md")
    assert front["title"] == "Hello Markup"
    page = ("<html><head><title>Counting Calls // Ana Lima</title><meta name='description' content='Ana Lima writes about "
            "front desks, kettles and queues.'></head><body><h1>Counting Calls</h1>"
            + "".join(f"<p>Part {n}: every call is counted by the hour it came in, so the rota can follow the calls instead "
                      "of the clock, which is what the callers wanted all along.</p>" for n in range(1, 5)) + "</body></html>")
    assert extract_html(page).summary == ""  # the site's description on every page, not this article's
    own = page.replace("Ana Lima writes about front desks, kettles and queues.", "How a desk learned to count its calls.")
    assert extract_html(own).summary == "How a desk learned to count its calls."


def test_a_japanese_text_copy_finds_its_title_byline_and_date(tmp_path: Path) -> None:
    """Prose without spaces between words has no stop words to count, and its dates are
    written 2023年5月4日 or 5月 4, 2023: such a copy imported nothing ("no title found")."""
    source = tmp_path / "asa.txt"
    source.write_text(
        "受付の朝\n\nby 山田花子\n\n投稿日: 5月 4, 2023\n\n"
        "朝の受付では、最初のお客様に笑顔で挨拶することがいちばん大切です。小さな一言が、その日一日の雰囲気を大きく変えてくれます。\n\n"
        "私たちのチームでは、開店の十分前に集まり、前の日に残った問い合わせを全員で確認します。誰が何を引き継ぐのか、声に出して決めます。\n\n"
        "こうした習慣は地味ですが、続けるほどにお客様からの信頼が増えていくのを感じています。明日も同じように始めます。\n",
        encoding="utf-8")
    site = tmp_path / "site"
    result = run_import(source, "--into", site)
    assert result.exit_code == 0, result.output
    article_file = next((site / "content").glob("*.md"))
    front, body = read_article(article_file)
    assert front["title"] == "受付の朝" and front["date"] == date(2023, 5, 4)
    assert authors(site)[front["author"]]["name"] == "山田花子"
    assert body.startswith("朝の受付では") and "明日も同じように始めます。" in body


def test_a_filing_line_under_the_title_is_neither_title_nor_body(tmp_path: Path) -> None:
    source = tmp_path / "filed.txt"
    source.write_text("Harbour Notes\n\nThe Second Till\n\n// under Queues\n\n"
                      + "\n\n".join(f"Part {n}: when the line reaches the door, open the second till, and say so out loud "
                                    "so that the people at the back know it is coming." for n in range(1, 4)) + "\n",
                      encoding="utf-8")
    site = tmp_path / "site"
    assert run_import(source, "--into", site).exit_code == 0
    front, body = read_article(site / "content" / "the-second-till.md")
    assert front["title"] == "The Second Till"
    assert body.startswith("Part 1:") and "under Queues" not in body
