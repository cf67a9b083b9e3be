"""syndicate verify against reprints served from 127.0.0.1, saved pages and .eml newsletters.

Every page here is built around the site's own email-safe snippet, the way a publisher pastes
it into a page full of navigation, share buttons and comments. The network is only ever
127.0.0.1: statement links that must be followed lead to this test's own server, and links
that match directly are never fetched.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.policy import SMTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.attribution import parse_statement
from syndicate.cli import main
from syndicate.model import Site
from syndicate.pagetext import normalize, normalize_url, read_html
from syndicate.verify import Expected, ReprintChecker
from syndicate.webfetch import Fetcher, FetchError, fetch

from .conftest import article, build_site

SITE_URL = "https://counter.example.org/"
ARTICLE_URL = SITE_URL + "articles/queue/"
HOME = "https://www.MaraQuill.example"  # as the statement spells it
NOTES = "https://notes.maraquill.example/field/"
SITE_YAML = f"""\
title: "Counter Craft"
url: "{SITE_URL}"
authors:
  mara:
    name: "Mara Quill"
    url: "https://maraquill.example"
    reprint:
      statement: |
        Copyright, Mara Quill. Used with permission. Mara's "front desk first" workshops train hotel and clinic teams - visit www.MaraQuill.example or read [her field notes]({NOTES}).
"""
BODY = "A queue is a promise about time.\n\nThe best teams keep it visible: a clock, a number, a smile.\n"
SENTENCES = ["Copyright, Mara Quill.", "Used with permission.",
             "Mara's \"front desk first\" workshops train hotel and clinic teams - visit www.MaraQuill.example or read her field notes."]


# A small web: the reprints, the redirects and click-trackers in front of links, and a slow page.

Route = tuple[int, dict[str, str], bytes] | Callable[[], tuple[int, dict[str, str], bytes]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        route = self.server.routes.get(self.path)
        status, headers, body = (route() if callable(route) else route) if route else (404, {}, b"<h1>Not here</h1>")
        try:
            self.send_response(status)
            for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (the timeout case)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    routes: dict[str, Route]


@pytest.fixture
def web() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.routes = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def base(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def html_page(content: str, title: str = "The Weekly Counter", canonical: str = "") -> str:
    """A publisher's page: chrome all around the pasted copy, relative links, a script."""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>{link}
<style>.share {{ float: right }}</style><script>var note = "Copyright, Mara Quill. Used with permission.";</script></head>
<body><header><a href="/">The Weekly Counter</a><nav><a href="/about/">About</a> <a href="/subscribe/">Subscribe</a></nav></header>
<main><p class="share">Share: <a href="/share?to=post">Post</a> <a href="/share?to=mail">Mail</a></p>
<article>{content}</article>
<section class="comments"><h2>2 replies</h2><p>Dana Fell, 4 May: we tried the visible clock. Queues felt shorter!</p>
<p>Leave a reply <textarea></textarea></p></section></main>
<aside><h2>You may also like</h2><ul><li><a href="/2024/05/lobbies/">Lobbies that listen</a></li></ul></aside>
<footer>&copy; 2024 The Weekly Counter &middot; <a href="/privacy/">Privacy</a></footer></body></html>
"""


@pytest.fixture
def site(write_site: Callable[..., Path]) -> Path:
    files = {"content/queue.md": article("The Queue That Smiled", author="mara", body=BODY),
             "content/lobby.md": article("Lobby Hours", date="2024-04-01", author="mara", body="Doors open early.")}
    site_file = write_site(files, SITE_YAML)
    build_site(site_file)
    return site_file


def snippet(site_file: Path, slug: str = "queue", ext: str = "html") -> str:
    return (site_file.parent / "output" / "syndicate" / f"{slug}.{ext}").read_text("utf-8")


def verify(site_file: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["verify", "--site", str(site_file), *args])


def lines(result: Result) -> list[str]:
    return result.stdout.splitlines()


# The cases of the issue ---------------------------------------------------------------------


def test_intact_copy_inside_a_page_full_of_chrome(site: Path, web: _Server) -> None:
    web.routes["/intact.html"] = (200, {}, html_page(snippet(site), canonical=ARTICLE_URL).encode())
    result = verify(site, f"{base(web)}/intact.html")
    assert result.exit_code == 0, result.output
    out = lines(result)
    assert out[0] == f"OK {base(web)}/intact.html (queue)"
    assert "  statement: ok: complete: all 3 sentences found" in out
    assert "  links: ok: all 2 statement links are active links to the same targets" in out
    assert f"  backlink: ok: links back to {ARTICLE_URL} (3 links)" in out
    assert f"  canonical: info: points to the article: {ARTICLE_URL}" in out


def test_dropped_sentence_is_named_with_its_similarity(site: Path, web: _Server) -> None:
    copy = snippet(site).replace("Used with permission. ", "")
    web.routes["/dropped.html"] = (200, {}, html_page(copy).encode())
    result = verify(site, f"{base(web)}/dropped.html")
    assert result.exit_code == 1
    first = lines(result)[0]
    assert first.startswith(f"BROKEN {base(web)}/dropped.html (queue): statement: sentence 2 of 3 missing (similarity ")
    assert first.endswith("%): “Used with permission.”")
    assert "  links: ok: all 2 statement links are active links to the same targets" in lines(result)


def test_statement_links_made_plain_text(site: Path, web: _Server) -> None:
    copy = re.sub(r'<a href="(https://www\.MaraQuill\.example|https://notes[^"]*)"[^>]*>(.*?)</a>', r"\2", snippet(site))
    assert copy.count("<a ") == snippet(site).count("<a ") - 2
    web.routes["/plain.html"] = (200, {}, html_page(copy).encode())
    result = verify(site, f"{base(web)}/plain.html")
    assert result.exit_code == 1
    out = lines(result)
    assert out[0] == (f"BROKEN {base(web)}/plain.html (queue): links: link “www.MaraQuill.example” is plain text, "
                      f"not an active link to {HOME}")
    assert f"    link “her field notes” is plain text, not an active link to {NOTES}" in out
    assert "  statement: ok: complete: all 3 sentences found" in out  # the words are all there


def test_one_link_pointing_elsewhere(site: Path, web: _Server) -> None:
    other = f"{base(web)}/someone-else/"
    web.routes["/someone-else/"] = (200, {}, b"<h1>Another consultant</h1>")
    copy = snippet(site).replace(f'href="{NOTES}"', f'href="{other}"')
    web.routes["/elsewhere.html"] = (200, {}, html_page(copy).encode())
    result = verify(site, f"{base(web)}/elsewhere.html")
    assert result.exit_code == 1
    assert lines(result)[0] == f"BROKEN {base(web)}/elsewhere.html (queue): links: link “her field notes” points to {other}, not {NOTES}"


def test_links_behind_a_301_and_a_click_tracker_are_intact(site: Path, web: _Server) -> None:
    b = base(web)
    web.routes["/go/mara"] = (301, {"Location": "http://maraquill.example/"}, b"")  # another form of the same site
    web.routes["/click?c=7&u=91"] = (302, {"Location": "/click/hop?c=7"}, b"")  # a tracker with two hops
    web.routes["/click/hop?c=7"] = (302, {"Location": NOTES + "?utm_source=weekly"}, b"")
    web.routes["/click?c=7&u=92"] = (302, {"Location": ARTICLE_URL}, b"")
    copy = (snippet(site).replace(f'href="{HOME}"', f'href="{b}/go/mara"')
            .replace(f'href="{NOTES}"', f'href="{b}/click?c=7&amp;u=91"')
            .replace(f'href="{ARTICLE_URL}"', f'href="{b}/click?c=7&amp;u=92"'))
    web.routes["/tracked.html"] = (200, {}, html_page(copy).encode())
    result = verify(site, f"{b}/tracked.html")
    assert result.exit_code == 0, result.output
    out = lines(result)
    assert out[0] == f"OK {b}/tracked.html (queue)"
    assert f"    “www.MaraQuill.example” links to {HOME} through {b}/go/mara" in out
    assert f"    “her field notes” links to {NOTES} through {b}/click?c=7&u=91 → {b}/click/hop?c=7" in out
    assert f"  backlink: ok: links back to {ARTICLE_URL} through {b}/click?c=7&u=92" in out


def test_missing_backlink(site: Path, web: _Server) -> None:
    copy = re.sub(rf'<a href="{re.escape(ARTICLE_URL)}"[^>]*>(.*?)</a>', r"\1", snippet(site))
    web.routes["/nobacklink.html"] = (200, {}, html_page(copy).encode())
    result = verify(site, f"{base(web)}/nobacklink.html")  # found by its title instead
    assert result.exit_code == 1
    assert lines(result)[0] == f"BROKEN {base(web)}/nobacklink.html (queue): backlink: no link back to {ARTICLE_URL}"


def _typographic(copy: str) -> str:
    """What a CMS's "smart typography" makes of a copy: curly quotes, dashes, no-break spaces, entities."""
    root = lxml.html.fragment_fromstring(copy, create_parent="div")
    for element in root.iter():
        for attr in ("text", "tail"):
            value = getattr(element, attr)
            if value:
                value = re.sub(r'"([^"]*)"', "\u201c\\1\u201d", value).replace("'", "\u2019").replace(" - ", " \u2014 ")
                setattr(element, attr, value.replace("Mara Quill", "Mara\u00a0Quill").replace("with permission", "with\u00a0 permission"))
    text = lxml.html.tostring(root, encoding="unicode")
    return text.replace("\u2019", "&rsquo;").replace("\u00a0", "&nbsp;")


def test_typographic_quotes_and_no_break_spaces_are_intact(site: Path, web: _Server) -> None:
    copy = _typographic(snippet(site))
    assert "&rsquo;s \u201cfront desk first\u201d" in copy and "Mara&nbsp;Quill" in copy and "\u2014 visit" in copy
    web.routes["/smart.html"] = (200, {}, html_page(copy).encode())
    result = verify(site, f"{base(web)}/smart.html")
    assert result.exit_code == 0, result.output
    assert lines(result)[0] == f"OK {base(web)}/smart.html (queue)"


def test_404_and_timeout_are_unreachable(site: Path, web: _Server) -> None:
    def slow() -> tuple[int, dict[str, str], bytes]:
        time.sleep(3)
        return 200, {}, b"too late"

    web.routes["/slow.html"] = slow
    started = time.monotonic()
    result = verify(site, "--article", "queue", "--timeout", "0.5", f"{base(web)}/gone.html", f"{base(web)}/slow.html")
    assert time.monotonic() - started < 2.5
    assert result.exit_code == 1
    out = lines(result)
    assert out[0] == f"BROKEN {base(web)}/gone.html (queue): fetch: unreachable: HTTP 404 Not Found"
    assert out[2] == f"BROKEN {base(web)}/slow.html (queue): fetch: unreachable: timed out: no complete answer within 0.5s"


def newsletter(site_file: Path, html_part: str, text_part: str | None = None) -> bytes:
    message = EmailMessage()
    message["Subject"] = "The Weekly Counter, issue 12"
    message["From"] = "The Weekly Counter <editor@weekly.example>"
    message["To"] = "reader@example.net"
    message.set_content(text_part or "View this issue in a mail program that shows HTML.")
    message.add_alternative(f"<html><body><h1>Issue 12</h1><p>Hello readers,</p>{html_part}"
                            "<p>Unsubscribe: <a href='https://weekly.example/u'>here</a></p></body></html>", subtype="html")
    return message.as_bytes(policy=SMTP)


def test_eml_newsletter_built_around_the_snippet_is_intact(site: Path) -> None:
    eml = site.parent / "issue-12.eml"
    eml.write_bytes(newsletter(site, snippet(site)))
    result = verify(site, str(eml))
    assert result.exit_code == 0, result.output
    assert lines(result)[0] == f"OK {eml} (queue)"


def test_eml_newsletter_edited_by_hand_is_broken(site: Path) -> None:
    eml = site.parent / "issue-12.eml"
    eml.write_bytes(newsletter(site, snippet(site)))
    # An editor opens the saved message, shortens the statement and saves it again.
    edited = eml.read_bytes().replace(b"Used with permission.", b"Used with kind permission.")
    assert edited != eml.read_bytes()  # the HTML part is in plain 7bit/8bit text, not encoded
    eml.write_bytes(edited)
    result = verify(site, str(eml))
    assert result.exit_code == 1
    first = lines(result)[0]
    assert re.fullmatch(rf"BROKEN {re.escape(str(eml))} \(queue\): statement: sentence 2 of 3 altered \(similarity (\d+)%\): “Used with permission.”", first), first
    assert "    closest on the page: “used with kind permission.”" in lines(result)


def test_plain_text_newsletter_spells_the_urls_out(site: Path) -> None:
    message = EmailMessage()
    message["Subject"] = "Text issue"
    message.set_content("Hello readers,\n\n" + snippet(site, ext="txt"))
    eml = site.parent / "text.eml"
    eml.write_bytes(message.as_bytes())
    result = verify(site, str(eml))
    assert result.exit_code == 0, result.output
    assert "  links: ok: all 2 statement links are URLs written out (a plain-text message) to the same targets" in lines(result)


TWO_AUTHORS = f"""\
title: "Counter Craft"
url: "{SITE_URL}"
authors:
  mara:
    name: "Mara Quill"
    reprint:
      statement: "Copyright, Mara Quill. Used with permission. Visit www.MaraQuill.example or write to desk@maraquill.example."
  ode:
    name: "Ode Brann"
    reprint:
      statement: "Copyright, Ode Brann. Reprinted with permission from [Brann Notes](https://brann.example/notes)."
"""


@pytest.fixture
def two_authors(write_site: Callable[..., Path]) -> Path:
    """Mara's article links to Ode's, by its title; Mara's statement has a bare domain and an
    e-mail address."""
    files = {"content/queue.md": article("The Queue That Smiled", author="mara",
                                         body=BODY + "\nSee also [Lobby Hours](/articles/lobby/).\n"),
             "content/lobby.md": article("Lobby Hours", date="2024-04-01", author="ode", body="Doors open early.")}
    site_file = write_site(files, TWO_AUTHORS)
    build_site(site_file)
    return site_file


def text_message(site_file: Path, text: str) -> Path:
    message = EmailMessage()
    message["Subject"] = "Text issue"
    message.set_content("Hello readers,\n\n" + text)
    eml = site_file.parent / "text.eml"
    eml.write_bytes(message.as_bytes())
    return eml


def test_plain_text_reprint_with_an_email_address_and_a_domain_as_the_author_wrote_them(two_authors: Path) -> None:
    own_copy = text_message(two_authors, snippet(two_authors, ext="txt"))  # the tool's own plain-text copy
    result = verify(two_authors, str(own_copy))
    assert result.exit_code == 0, result.output
    assert lines(result)[0] == f"OK {own_copy} (queue)"
    # Copied by hand from the author's site: the domain without https://, the address as typed.
    by_hand = text_message(two_authors, "The Queue That Smiled\n\nA queue is a promise about time.\n\n"
                           f"Read it first at {SITE_URL}articles/queue/\n\nCopyright, Mara Quill. Used with "
                           "permission. Visit www.MaraQuill.example or write to desk@maraquill.example.\n")
    result = verify(two_authors, str(by_hand))
    assert result.exit_code == 0, result.output
    no_address = text_message(two_authors, by_hand.read_text().replace("desk@maraquill.example", "the desk"))
    result = verify(two_authors, str(no_address))
    assert result.exit_code == 1
    assert "desk@maraquill.example" in lines(result)[0]


def test_an_article_that_links_to_another_is_checked_as_itself_only(two_authors: Path, tmp_path: Path) -> None:
    page = tmp_path / "saved.html"
    page.write_text(html_page(snippet(two_authors)), "utf-8")  # names Lobby Hours and links to it
    result = verify(two_authors, str(page))
    assert result.exit_code == 0, result.output
    assert [line for line in lines(result) if not line.startswith(" ")] == [f"OK {page} (queue)"]
    both = tmp_path / "both.html"  # a page that carries both articles still has both checked
    both.write_text(html_page(snippet(two_authors) + "<hr>" + snippet(two_authors, "lobby")), "utf-8")
    result = verify(two_authors, str(both))
    assert [line for line in lines(result) if not line.startswith(" ")] == [f"OK {both} (queue)", f"OK {both} (lobby)"]
    # A reprint that lost its link back still links to the other article and names it: it is
    # checked as the article it carries, and told it has no link back, not another's statement.
    lost = tmp_path / "lost.html"
    lost.write_text(html_page(snippet(two_authors).replace(f'href="{ARTICLE_URL}"', 'href="https://elsewhere.example/"')), "utf-8")
    result = verify(two_authors, str(lost))
    [verdict] = [line for line in lines(result) if not line.startswith(" ")]
    assert verdict.startswith(f"BROKEN {lost} (queue): backlink: no link back to {ARTICLE_URL}; the link that names it "
                              "leads to https://elsewhere.example/: ")  # then why, as the resolver says it


# Which article, JSON, the registry, the status file and `reprints: show` ----------------------


def test_article_is_found_by_backlink_or_title_or_given(site: Path, tmp_path: Path) -> None:
    page = tmp_path / "saved.html"
    page.write_text(html_page(snippet(site, "lobby")), "utf-8")
    assert lines(verify(site, str(page)))[0] == f"OK {page} (lobby)"
    result = verify(site, "--article", "queue", str(page))  # the same statement, but not the same article
    assert lines(result)[0] == f"BROKEN {page} (queue): backlink: no link back to {ARTICLE_URL}"
    bare = tmp_path / "bare.html"
    bare.write_text(html_page("<p>Nothing of ours here.</p>"), "utf-8")
    result = verify(site, str(bare))
    assert result.exit_code == 1
    assert lines(result)[0].startswith(f"BROKEN {bare}: article: cannot tell which article this reprints")


def test_newsletter_with_two_articles_checks_each(site: Path) -> None:
    eml = site.parent / "digest.eml"
    eml.write_bytes(newsletter(site, snippet(site) + "<hr>" + snippet(site, "lobby")))
    result = verify(site, str(eml))
    assert result.exit_code == 0, result.output
    assert [line for line in lines(result) if not line.startswith(" ")] == [f"OK {eml} (queue)", f"OK {eml} (lobby)"]


def test_json_report(site: Path, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.html", tmp_path / "bad.html"
    good.write_text(html_page(snippet(site)), "utf-8")
    bad.write_text(html_page(snippet(site).replace("Copyright, Mara Quill. ", "")), "utf-8")
    result = verify(site, "--json", str(good), str(bad))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [(r["source"], r["article"], r["ok"]) for r in report["reprints"]] == [(str(good), "queue", True), (str(bad), "queue", False)]
    checks = {c["name"]: c for c in report["reprints"][1]["checks"]}
    assert list(checks) == ["statement", "links", "backlink", "canonical"]
    assert checks["statement"]["ok"] is False and "sentence 1 of 3 missing" in checks["statement"]["reason"]
    assert checks["canonical"]["informational"] is True


def test_usage_errors_exit_2(site: Path) -> None:
    assert verify(site).exit_code == 2  # no arguments and no reprints.yaml
    result = verify(site, "--article", "queu", "x.html")
    assert result.exit_code == 2 and "--article 'queu' is not a syndicated article; did you mean queue?" in result.stderr
    result = verify(site, "no-such-file.html")
    assert result.exit_code == 2 and "no such file: 'no-such-file.html'" in result.stderr


def test_registry_status_and_reprints_show(site: Path, web: _Server) -> None:
    root = site.parent
    b = base(web)
    web.routes["/intact.html"] = (200, {}, html_page(snippet(site)).encode())
    web.routes["/trimmed.html"] = (200, {}, html_page(snippet(site).replace("Used with permission. ", "")).encode())
    (root / "june.eml").write_bytes(newsletter(site, snippet(site, "lobby")))
    (root / "reprints.yaml").write_text(
        f"- url: {b}/intact.html\n  article: queue\n  publication: The Weekly Counter\n"
        f"- url: {b}/trimmed.html\n  article: queue\n  publication: Lobby Letters\n"
        "- file: june.eml\n  article: lobby\n  publication: Front Desk Monthly\n", "utf-8")
    result = verify(site)
    assert result.exit_code == 1
    assert [line for line in lines(result) if not line.startswith(" ")] == [
        f"OK {b}/intact.html (queue, The Weekly Counter)",
        f"BROKEN {b}/trimmed.html (queue, Lobby Letters): statement: sentence 2 of 3 missing (similarity 52%): “Used with permission.”",
        "OK june.eml (lobby, Front Desk Monthly)",
    ]
    status = json.loads((root / "reprints-status.json").read_text("utf-8"))
    assert [(r["source"], r["article"], r["ok"]) for r in status["reprints"]] == [
        (f"{b}/intact.html", "queue", True), (f"{b}/trimmed.html", "queue", False), ("june.eml", "lobby", True)]

    def listed(slug: str) -> list[tuple[str, str | None]]:
        page = lxml.html.fromstring((root / "output" / "articles" / slug / "index.html").read_bytes())
        items = page.xpath("//section[contains(@class, 'reprinted')]//li")
        return [(li.text_content(), li.find("a").get("href") if li.find("a") is not None else None) for li in items]

    build_site(site)
    assert listed("queue") == []  # off by default
    site.write_text(SITE_YAML + "reprints: show\n", "utf-8")
    build_site(site)
    assert listed("queue") == [("The Weekly Counter", f"{b}/intact.html")]
    assert listed("lobby") == [("Front Desk Monthly", None)]
    # The publisher fixes the page; the next verify records it and the next build shows it.
    web.routes["/trimmed.html"] = web.routes["/intact.html"]
    assert verify(site, f"{b}/trimmed.html").exit_code == 0
    report = build_site(site)  # incremental: the status file is one of its inputs
    assert listed("queue") == [("The Weekly Counter", f"{b}/intact.html"), ("Lobby Letters", f"{b}/trimmed.html")]
    assert report.written >= 1
    again = build_site(site)
    assert again.written == 0


def test_check_reports_registry_problems(site: Path) -> None:
    (site.parent / "reprints.yaml").write_text(
        "- url: ftp://weekly.example/a\n  article: queue\n"
        "- file: missing.eml\n  article: queu\n"
        "- url: https://weekly.example/b\n  file: june.eml\n  article: lobby\n"
        "- url: https://weekly.example/c\n  article: lobby\n  colour: red\n"
        "- just a string\n", "utf-8")
    result = CliRunner().invoke(main, ["check", "--site", str(site)])
    assert result.exit_code == 1
    shown = str(site.parent / "reprints.yaml")
    assert result.stderr.splitlines() == [
        f"{shown}:1: 'url' must be an absolute http(s) URL, not 'ftp://weekly.example/a'",
        f"{shown}:4: unknown article 'queu' (not a syndicated article's slug); did you mean queue?",
        f"{shown}:6: entry 3 has both 'url' and 'file'; keep one",
        f"{shown}:10: unknown key 'colour' in entry 4 (known: url, file, article, publication)",
        f"{shown}:11: entry 5 must be a mapping with 'url' or 'file', and 'article'",
        f"{shown}:3: warning: file 'missing.eml' not found (paths are relative to the folder of site.yaml)",
        "5 errors, 1 warning",
    ]
    (site.parent / "reprints.yaml").write_text("- url: https://weekly.example/c\n  article: lobby\n", "utf-8")
    result = CliRunner().invoke(main, ["check", "--site", str(site)])
    assert result.exit_code == 0 and result.stderr.endswith("syndicated copies checked, 1 reprints listed\n")


def test_a_saved_reprint_that_is_gone_is_reported_and_the_others_are_still_verified(site: Path, tmp_path: Path) -> None:
    """One stale entry (its saved file deleted) stopped check, build and verify for every
    other reprint. It is a warning for check (an error under --strict), and verify reports
    that entry as broken and goes on with the rest."""
    page = site.parent / "kept.html"
    page.write_text(html_page(snippet(site)), "utf-8")
    (site.parent / "reprints.yaml").write_text(
        "- file: kept.html\n  article: queue\n- file: gone.html\n  article: queue\n", "utf-8")
    shown = str(site.parent / "reprints.yaml")
    checked = CliRunner().invoke(main, ["check", "--site", str(site)])
    assert checked.exit_code == 0, checked.output
    assert f"{shown}:3: warning: file 'gone.html' not found (paths are relative to the folder of site.yaml)" in checked.stderr
    assert CliRunner().invoke(main, ["check", "--strict", "--site", str(site)]).exit_code == 1
    result = verify(site)
    assert result.exit_code == 1
    assert lines(result)[0] == "OK kept.html (queue)"
    assert "BROKEN gone.html (queue): fetch: cannot read gone.html: No such file or directory" in lines(result)


def test_backlink_through_one_of_the_sites_own_redirect_pages(site: Path, tmp_path: Path) -> None:
    """A reprint made before the article moved links to its old address, which the site keeps
    as a redirect page: found in the site's own build, with no request to the site."""
    old = site.parent / "content" / "2019" / "queue.html"
    old.parent.mkdir()
    old.write_text(f'<!doctype html><meta http-equiv="refresh" content="0; url={ARTICLE_URL}"><title>Moved</title>', "utf-8")
    page = tmp_path / "old-link.html"
    page.write_text(html_page(snippet(site).replace(f'href="{ARTICLE_URL}"', f'href="{SITE_URL}2019/queue.html"')), "utf-8")
    result = verify(site, str(page))
    assert result.exit_code == 0, result.output
    assert f"  backlink: ok: links back to {ARTICLE_URL} through {SITE_URL}2019/queue.html" in lines(result)
    page.write_text(html_page(snippet(site).replace(f'href="{ARTICLE_URL}"', f'href="{SITE_URL}articles/lobby/"')), "utf-8")
    result = verify(site, str(page))  # another article's page is not a way back to this one
    assert lines(result)[0] == f"BROKEN {page} (queue): backlink: no link back to {ARTICLE_URL}"


def test_dead_statement_link_behind_a_tracker(site: Path, web: _Server) -> None:
    b = base(web)
    web.routes["/t/1"] = (302, {"Location": f"{b}/expired"}, b"")
    web.routes["/dead.html"] = (200, {}, html_page(snippet(site).replace(f'href="{NOTES}"', f'href="{b}/t/1"')).encode())
    result = verify(site, f"{b}/dead.html")
    assert lines(result)[0] == f"BROKEN {b}/dead.html (queue): links: link “her field notes” is dead: {b}/t/1 → {b}/expired: HTTP 404 Not Found"


def test_core_never_imports_the_tools() -> None:
    code = ("import sys, syndicate.build, syndicate.cli, syndicate.serve; "
            "print(sorted(m for m in sys.modules if m in ('syndicate.verify', 'syndicate.webfetch', 'syndicate.pagetext', 'httpx')))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


# webfetch ------------------------------------------------------------------------------------


def test_webfetch_limits_and_failures(web: _Server) -> None:
    b = base(web)
    web.routes["/big"] = (200, {}, b"x" * 5000)
    web.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    web.routes["/hop"] = (301, {"Location": "/page"}, b"")
    web.routes["/page"] = (200, {"Content-Type": "text/html; charset=latin-1"}, "caf\u00e9".encode("latin-1"))
    answer = fetch(f"{b}/hop", timeout=5, max_bytes=1000)
    assert (answer.url, answer.history, answer.text) == (f"{b}/page", (f"{b}/hop",), "caf\u00e9")
    with pytest.raises(FetchError, match=r"larger than the 1,000 bytes limit"):
        fetch(f"{b}/big", timeout=5, max_bytes=1000)
    assert fetch(f"{b}/big", timeout=5, max_bytes=1000, truncate=True).content == b"x" * 1000
    with pytest.raises(FetchError, match="more than 10 redirects"):
        fetch(f"{b}/loop", timeout=5)
    with pytest.raises(FetchError, match=r"^http://127.0.0.1:\d+/nothing: HTTP 404 Not Found$"):
        fetch(f"{b}/nothing", timeout=5)
    assert fetch(f"{b}/nothing", timeout=5, errors_ok=True).status == 404
    with Fetcher(timeout=5) as fetcher:
        assert fetcher.fetch(f"{b}/hop", follow_redirects=False).location == f"{b}/page"
    closed = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    port = closed.server_address[1]
    closed.server_close()
    with pytest.raises(FetchError, match="connection refused"):
        fetch(f"http://127.0.0.1:{port}/", timeout=5)
    with pytest.raises(FetchError, match="not an http"):
        fetch("file:///etc/passwd")


def test_normalisation() -> None:
    assert normalize("Mara\u2019s \u201cfront\u00a0desk\u201d \u2014 first\u2026 ") == "mara's \"front desk\" - first... "
    assert normalize("caf&eacute; &amp; co\u00ad-op") == "café & co-op"
    same = ["https://www.MaraQuill.example/", "http://maraquill.example", "https://maraquill.example/index.html",
            "https://MARAQUILL.example/?utm_source=x&utm_medium=y#top"]
    assert {normalize_url(u) for u in same} == {"//maraquill.example"}
    assert normalize_url("https://maraquill.example/a?id=1") != normalize_url("https://maraquill.example/a?id=2")


# The property: any statement, any page around its copy ------------------------------------


class _NoNetwork(Fetcher):
    def __init__(self) -> None:  # no client: nothing here may reach a network
        pass

    def fetch(self, url: str, **kwargs: object) -> object:  # type: ignore[override]
        raise FetchError(url, "no network in this test")


_word = st.text("abcdefghijklmnop", min_size=1, max_size=8)
_token = st.one_of(
    _word, _word,
    st.builds(lambda a, b: f"{a}\u2019{b} \u201c{a}\u201d \u2014 {b}&amp;{a}", _word, _word),  # typography, an entity
    st.builds(lambda a, b: f"https://{a}.example/{b}", _word, _word),
    st.builds(lambda a: f"www.{a}.com", _word),
    st.builds(lambda a, b: f"{a}.org/{b}", _word, _word),
    st.builds(lambda a, b: f"{a}@{b}.example", _word, _word),
    st.builds(lambda t, a: f"[{t}](https://{a}.example/)", st.lists(_word, min_size=1, max_size=3).map(" ".join), _word),
)
_sentence = st.builds(lambda tokens, last: " ".join([*tokens, last]) + ".", st.lists(_token, min_size=0, max_size=5), _word)
_chrome = st.lists(st.text("qrstuvwxyz0123456789", min_size=2, max_size=9).map(lambda w: w + "9"), min_size=0, max_size=12)


def _page(statement_html: str, before: list[str], after: list[str]) -> str:
    links = " ".join(f'<a href="/{w}/">{w}</a>' for w in before[:4])
    return (f"<html><head><title>{' '.join(before)}</title></head><body><nav>{links}</nav><p>{' '.join(before)}</p>"
            f'<div class="copy"><p><a href="{ARTICLE_URL}">back</a></p>{statement_html}</div>'
            f"<footer><p>{' '.join(after)}</p></footer></body></html>")


def _check(statement_source: str, page: str, tmp: Path) -> list[str]:
    site = Site(title="Counter Craft", url=SITE_URL, authors={}, root=tmp, source="site.yaml")
    expected = Expected("queue", "The Queue That Smiled", ARTICLE_URL, (parse_statement(statement_source),))
    checker = ReprintChecker(site, {"queue": expected}, {}, _NoNetwork())
    result = checker.check(read_html(page, "https://weekly.example/reprint/"), expected, source="page.html")
    return [line for check in result.checks if not check.ok for line in (check.reason, *check.details)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sentences=st.lists(_sentence, min_size=1, max_size=4), joiner=st.sampled_from([" ", "\n", "\n\n"]),
       before=_chrome, after=_chrome, data=st.data())
def test_any_page_around_the_copy_is_intact_and_any_removal_is_named(
        sentences: list[str], joiner: str, before: list[str], after: list[str], data: st.DataObject, tmp_path: Path) -> None:
    source = joiner.join(sentences)
    statement = parse_statement(source)
    assert _check(source, _page(statement.html, before, after), tmp_path) == []

    # Remove one sentence: the copy is broken, and the missing sentence is named.
    k = data.draw(st.integers(0, len(sentences) - 1), label="sentence")
    rest = joiner.join(s for i, s in enumerate(sentences) if i != k)
    problems = _check(source, _page(parse_statement(rest).html if rest else "", before, after), tmp_path)
    gone = parse_statement(sentences[k]).visible_text
    assert problems and any(gone[:40] in p for p in problems), (gone, problems)

    # Remove one link (its words stay, as plain text): broken, and the link is named.
    if statement.links:
        fragment = lxml.html.fragment_fromstring(statement.html, create_parent="div")
        anchors = list(fragment.iter("a"))
        anchor = anchors[data.draw(st.integers(0, len(anchors) - 1), label="link")]
        href, text = anchor.get("href"), anchor.text_content()
        anchor.drop_tag()
        problems = _check(source, _page(lxml.html.tostring(fragment, encoding="unicode"), before, after), tmp_path)
        assert problems and any(href in p or f"“{text}”" in p for p in problems), (href, problems)
