"""Newsletter issues: the example site's two issues read back as a mail client would, sent
through a real SMTP server on 127.0.0.1, checked by the gate, and built incrementally.

Messages are parsed with the standard library's `email` package, HTML with lxml, the issues'
feed with feedparser. Browser checks (no horizontal overflow at 600 and 375 px) are marked
`browser` and skip without Chromium unless SYNDICATE_BROWSER_REQUIRED=1.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import json
import logging
import shutil
import socket
import ssl
from collections.abc import Callable, Iterator
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
import lxml.html
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner

from syndicate.attribution import Statement, parse_statement
from syndicate.cache import Memory
from syndicate.cli import main
from syndicate.config import load_site
from syndicate.errors import SiteError
from syndicate.model import Site

from .browser_support import AXE_JS, EXAMPLE_SITE, NOW, build_example, launched_chromium, require_node_module, serve
from .conftest import BASIC_SITE, article, build_site, tree

REPO = EXAMPLE_SITE.parent
FULL, SUMMARY = "2026-02-front-line", "2025-06-round-up"
NEWSLETTER = """\
newsletter:
  name: "Queue Notes"
  from: "Queue Notes <notes@scratch.example.org>"
  address: "2 Mill Lane, Leeds LS1 1AA, UK"
  unsubscribe: mailchimp
"""
SCRATCH = BASIC_SITE + NEWSLETTER


@pytest.fixture(autouse=True)
def _keep_log_level() -> Iterator[None]:
    """The CLI sets the syndicate logger's level for its own run; later tests expect it back."""
    logger = logging.getLogger("syndicate")
    level, propagate = logger.level, logger.propagate
    yield
    logger.setLevel(level)
    logger.propagate = propagate


def fold(text: str) -> str:
    return " ".join(text.split())


def front_matter(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1]))


def html_facts(html: str) -> tuple[list[str], str]:
    """Every href of a document, and its visible text (head and hidden preheader left out)."""
    root = lxml.html.document_fromstring(html)
    for hidden in root.xpath("//head|//*[contains(@class, 'preheader')]"):
        hidden.drop_tree()
    for br in root.iter("br"):
        br.tail = " " + (br.tail or "")
    return [a.get("href") or "" for a in root.iter("a")], fold(root.text_content())


def statements_of(site: Site, slug: str) -> list[Statement]:
    """The statements an article's copies must carry, from site.yaml and the article's front matter."""
    source = next(p for p in (site.root / "content").rglob(f"{slug}.md"))
    ids = front_matter(source)["author"]
    ids = ids if isinstance(ids, list) else [ids]
    return [parse_statement(site.authors[i].reprint.statement) for i in ids if site.authors[i].reprint]  # type: ignore[union-attr]


# The example site's issues ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_example(tmp_path_factory.mktemp("newsletter") / "output")


@pytest.fixture(scope="module")
def example_site() -> Site:
    return load_site(EXAMPLE_SITE)


def read_message(example_output: Path, name: str) -> EmailMessage:
    data = (example_output / "newsletter" / name / "message.eml").read_bytes()
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def issue_articles(example_output: Path, name: str) -> list[str]:
    """The slugs an issue of the example site carries: its `articles`, or what `latest` picks."""
    meta = front_matter(REPO / "content" / "newsletters" / f"{name}.md")
    if "articles" in meta:
        return list(meta["articles"])
    manifest = json.loads((example_output / "syndicate" / "index.json").read_text())
    dated = [(datetime.fromisoformat(a["date"]).date(), a["slug"]) for a in manifest["articles"]]
    return [slug for when, slug in dated if when <= meta["date"]][: meta["latest"]]


@pytest.mark.parametrize("name", [FULL, SUMMARY])
def test_message_headers_and_parts(example_output: Path, example_site: Site, name: str) -> None:
    meta = front_matter(REPO / "content" / "newsletters" / f"{name}.md")
    message = read_message(example_output, name)
    settings = example_site.newsletter
    assert settings is not None
    assert message["Subject"] == meta["title"]
    assert message["From"] == settings.sender == "The Counter Letter <letters@digest.example.org>"
    assert message["Reply-To"] == "editor@digest.example.org"
    assert email.utils.parsedate_to_datetime(message["Date"]).date() == meta["date"]
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@digest.example.org>")
    assert message["List-Unsubscribe"] == "<{{ unsubscribe_url }}>"  # buttondown fills it in per reader
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"], "the text part comes first"
    folder = example_output / "newsletter" / name
    # Decoded, each part is its file, with the message's CRLF line ends.
    assert parts[0].get_content().replace("\r\n", "\n") == (folder / "email.txt").read_text(encoding="utf-8")
    assert parts[1].get_content().replace("\r\n", "\n") == (folder / "email.html").read_text(encoding="utf-8")
    assert all(len(line) <= 998 for line in (folder / "message.eml").read_bytes().split(b"\r\n")), "RFC 5322 line limit"


@pytest.mark.parametrize("name", [FULL, SUMMARY])
def test_both_parts_carry_every_article_link_and_statement(example_output: Path, example_site: Site, name: str) -> None:
    message = read_message(example_output, name)
    text_part, html_part = (p.get_content() for p in message.iter_parts())
    hrefs, visible = html_facts(html_part)
    text = fold(text_part)
    slugs = issue_articles(example_output, name)
    assert len(slugs) == (3 if name == FULL else 4)
    for slug in slugs:
        url = f"https://digest.example.org/articles/{slug}/"
        assert url in hrefs and url in text, slug
        if name == SUMMARY:
            continue
        for statement in statements_of(example_site, slug):
            assert fold(statement.visible_text) in visible, (slug, "HTML part lacks the statement")
            assert fold(statement.text) in text, (slug, "text part lacks the statement")
            for link in statement.links:
                assert link in hrefs, (slug, link)
                assert link.removeprefix("mailto:") in text, (slug, link)
    # The footer and the way to the web version, in both parts.
    issue_url = f"https://digest.example.org/newsletter/{name}/"
    assert issue_url in hrefs and issue_url in text
    assert "{{ unsubscribe_url }}" in hrefs and "Unsubscribe: {{ unsubscribe_url }}" in text_part
    for words in ("The Counter Letter", "14 Ropewalk Yard, Bristol BS1 6QA, United Kingdom"):
        assert words in visible and words in text
    # Nothing dangerous, every link absolute.
    root = lxml.html.document_fromstring(html_part)
    assert not root.xpath("//script|//iframe|//form|//object|//embed|//svg")
    assert not [a for el in root.iter() for a in el.attrib if a.startswith("on")]
    assert all(h.startswith(("https://", "mailto:")) for h in hrefs if h != "{{ unsubscribe_url }}")
    assert all(src.startswith("https://") and not src.endswith(".svg") for src in root.xpath("//img/@src"))


def test_full_issue_gives_each_statement_once_per_article(example_output: Path, example_site: Site) -> None:
    hrefs, visible = html_facts((example_output / "newsletter" / FULL / "email.html").read_text(encoding="utf-8"))
    carried = [fold(statement.visible_text) for slug in issue_articles(example_output, FULL)
               for statement in statements_of(example_site, slug)]
    assert len(carried) == 4, "three articles, one of them by two authors"
    for statement in carried:
        assert visible.count(statement) == carried.count(statement), "each statement once per article that carries it"
    summary = (example_output / "newsletter" / SUMMARY / "email.txt").read_text(encoding="utf-8")
    assert "Copyright" not in summary, "a summary issue links to the articles instead of reprinting them"


def test_email_html_is_an_email_document(example_output: Path) -> None:
    html = (example_output / "newsletter" / FULL / "email.html").read_text(encoding="utf-8")
    assert len(html.encode()) < 100_000
    assert html.index('<meta charset="utf-8">') < 1024
    assert "<!--[if mso]>" in html and 'width="600"' in html, "Outlook's fixed-width table"
    root = lxml.html.document_fromstring(html)
    container = root.xpath("//table[contains(@class, 'container')]")[0]
    assert "max-width: 600px" in container.get("style", "") and container.get("role") == "presentation"
    styles = " ".join(root.xpath("//style/text()"))
    assert "@media (prefers-color-scheme: dark)" in styles and "max-width: 620px" in styles
    assert "p.byline {" not in styles, "plain rules are inlined, only @media rules stay"
    byline = root.xpath("//p[contains(@class, 'byline')]")[0]
    assert "font-size" in byline.get("style", "")
    preheader = root.xpath("//div[contains(@class, 'preheader')]")[0]
    assert "display: none" in preheader.get("style", "")
    meta = front_matter(REPO / "content" / "newsletters" / f"{FULL}.md")
    assert preheader.text_content().startswith(meta["preheader"])
    assert preheader.text_content().count("\u034f") >= 50, "spacing after the preheader"
    assert "View this issue in your browser" in root.text_content()


def test_builds_are_byte_identical(example_output: Path, tmp_path: Path) -> None:
    again = build_example(tmp_path / "again")
    for name in (FULL, SUMMARY):
        for file in ("message.eml", "email.html", "email.txt", "index.html"):
            assert (again / "newsletter" / name / file).read_bytes() == (example_output / "newsletter" / name / file).read_bytes()


def test_archive_feed_nav_and_web_version(example_output: Path) -> None:
    archive = lxml.html.parse(str(example_output / "newsletter" / "index.html")).getroot()
    links = [urljoin("https://digest.example.org/newsletter/", a.get("href"))
             for a in archive.xpath("//main//ul[contains(@class, 'newsletter-issues')]//a")]
    assert links == [f"https://digest.example.org/newsletter/{n}/" for n in (FULL, SUMMARY)], "newest first"
    home = lxml.html.parse(str(example_output / "index.html")).getroot()
    assert "newsletter/" in home.xpath("//nav[@aria-label='Main']//a/@href")
    feed = feedparser.parse((example_output / "newsletter" / "feed.xml").read_bytes())
    assert feed.version == "rss20" and not feed.bozo
    assert [e.link for e in feed.entries] == [f"https://digest.example.org/newsletter/{n}/" for n in (FULL, SUMMARY)]
    assert "https://notes.example.org" in feed.entries[0].content[0].value, "a full issue's item carries the statements"
    web = lxml.html.parse(str(example_output / "newsletter" / FULL / "index.html")).getroot()
    assert web.xpath("//link[@rel='canonical']/@href") == [f"https://digest.example.org/newsletter/{FULL}/"]
    assert "{{ unsubscribe_url }}" not in lxml.html.tostring(web, encoding="unicode"), "no placeholder on the web"
    base = f"https://digest.example.org/newsletter/{FULL}/"
    assert base + "email.html" not in [urljoin(base, h) for h in web.xpath("//a/@href")], "its unsubscribe link is a placeholder"


def test_catalogue_lists_every_syndicable_article(example_output: Path, example_site: Site) -> None:
    manifest = json.loads((example_output / "syndicate" / "index.json").read_text())
    assert manifest["catalogue"] == "syndicate/index.html"
    page = lxml.html.parse(str(example_output / "syndicate" / "index.html")).getroot()
    entries = page.xpath("//article[contains(@class, 'catalogue-entry')]")
    assert [e.xpath(".//h2/a/@href")[0] for e in entries] == [f"../articles/{a['slug']}/" for a in manifest["articles"]]
    for entry, item in zip(entries, manifest["articles"], strict=True):
        hrefs = entry.xpath(".//a/@href")
        for copy in ("html", "text", "markdown"):
            assert "../" + item[copy] in hrefs
        assert fold(item["summary"]) in fold(entry.text_content())
        assert all(link in hrefs for link in item["links"]), "the statement's links are live"
    home = lxml.html.parse(str(example_output / "index.html")).getroot()
    assert "syndicate/" in home.xpath("//footer//a/@href")


# Sending through a real SMTP server --------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps every message it is given, exactly as it arrived."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"open sesame", handled=False)  # not handled: the server answers 535


class LoopbackController(Controller):
    """aiosmtpd on 127.0.0.1 and a free port (the stock controller needs a fixed one)."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """The example site in a folder of its own (its build lock and cache are its own too)."""
    root = tmp_path / "example"
    root.mkdir()
    shutil.copy2(REPO / "site.yaml", root / "site.yaml")
    for folder in ("content", "templates"):
        shutil.copytree(REPO / folder, root / folder)
    return root / "site.yaml"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, Callable[..., LoopbackController]]]:
    """Start aiosmtpd servers on 127.0.0.1 with the options given; stopped after the test."""
    inbox = Inbox()
    started: list[LoopbackController] = []

    def start(**options: Any) -> LoopbackController:
        controller = LoopbackController(inbox, hostname="127.0.0.1", port=0, **options)
        controller.start()
        started.append(controller)
        return controller

    try:
        yield inbox, start
    finally:
        for controller in started:
            controller.stop()


def send(site_file: Path, name: str, server: str, env: dict[str, str] | None = None) -> Any:
    args = ["newsletter", "send", name, "--to", "reader@example.com", "--smtp", server, "--site", str(site_file)]
    return CliRunner().invoke(main, args, env=env or {})


def built_message(site_file: Path, name: str) -> bytes:
    build_site(site_file, now=NOW)
    return (site_file.parent / "output" / "newsletter" / name / "message.eml").read_bytes()


def test_send_delivers_the_built_message(example_copy: Path, smtp_server: tuple[Inbox, Callable[..., LoopbackController]]) -> None:
    inbox, start = smtp_server
    server = start()
    result = send(example_copy, FULL, f"127.0.0.1:{server.port}")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"sent to reader@example.com through 127.0.0.1:{server.port}"
    [(sender, recipients, data)] = inbox.received
    assert sender == "letters@digest.example.org" and recipients == ["reader@example.com"]
    assert data == b"To: reader@example.com\r\n" + built_message(example_copy, FULL), "what arrived is message.eml as built"
    arrived = email.message_from_bytes(data, policy=email.policy.default)
    assert arrived["To"] == "reader@example.com"
    assert [p.get_content_type() for p in arrived.iter_parts()] == ["text/plain", "text/html"]


def test_send_uses_starttls_and_logs_in_from_the_environment(
        example_copy: Path, smtp_server: tuple[Inbox, Callable[..., LoopbackController]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(tls)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # the client trusts this test's authority only
    inbox, start = smtp_server
    server = start(tls_context=tls, require_starttls=True, authenticator=inbox.authenticate, auth_require_tls=True)
    where = f"127.0.0.1:{server.port}"

    refused = send(example_copy, FULL, where, {"SYNDICATE_SMTP_USER": "editor", "SYNDICATE_SMTP_PASSWORD": "wrong"})
    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"error: {where} refused the login for editor: 535") and len(refused.stderr.splitlines()) == 1
    assert not inbox.received

    result = send(example_copy, SUMMARY, where, {"SYNDICATE_SMTP_USER": "editor", "SYNDICATE_SMTP_PASSWORD": "open sesame"})
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"sent to reader@example.com through {where} (TLS)"
    assert inbox.logins[0] == (b"editor", b"wrong") and inbox.logins[-1] == (b"editor", b"open sesame")
    [(_sender, _recipients, data)] = inbox.received
    assert data.endswith(built_message(example_copy, SUMMARY))


def test_send_failures_are_one_line(example_copy: Path) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = send(example_copy, FULL, f"127.0.0.1:{port}")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error: cannot send through 127.0.0.1:{port}: Connection refused"]
    unknown = send(example_copy, "2026-02-frontline", f"127.0.0.1:{port}")
    assert unknown.exit_code == 1
    assert unknown.stderr.splitlines() == [
        f"newsletter send: no issue named '2026-02-frontline' in content/newsletters/; did you mean {FULL}?", "1 error, 0 warnings"]
    for args in (["--smtp", "127.0.0.1:99999"], ["--smtp", "a b"]):
        usage = CliRunner().invoke(main, ["newsletter", "send", FULL, "--to", "reader@example.com", *args, "--site", str(example_copy)])
        assert usage.exit_code == 2, usage.output
    bad_to = CliRunner().invoke(main, ["newsletter", "send", FULL, "--to", "nobody", "--site", str(example_copy)])
    assert bad_to.exit_code == 2 and "'nobody' is not an e-mail address" in bad_to.stderr


# The gate, the size warning and the settings ------------------------------------------------------


def issue(articles: str = "articles: [a]", mode: str = "full", date_: str = "2024-06-01", body: str = "Hello, readers.") -> str:
    return f"---\ntitle: \"Issue\"\ndate: {date_}\n{articles}\nmode: {mode}\n---\n{body}\n"


def test_a_full_issue_never_stretches_a_small_image_and_follows_its_file(write_site: Callable[..., Path], tmp_path: Path) -> None:
    """The issue's e-mail gives a badge of the site its own width (Outlook shows an <img> at its
    width attribute) and a wide image the 552-pixel column; a new file of another width
    remakes the issue at the next build."""
    from .conftest import clean_build, outputs
    from .test_syndication import _png

    site = write_site({
        "content/a.md": article("A", body="A badge: ![badge](/badge.png)\n\nA photo: ![photo](/photo.png)"),
        "content/badge.png": _png(90, 30), "content/photo.png": _png(1200, 400),
        "content/newsletters/n.md": issue(),
    }, SCRATCH)
    build_site(site)

    def widths() -> dict[str, str | None]:
        email = lxml.html.fromstring((site.parent / "output/newsletter/n/email.html").read_bytes())
        return {img.get("alt"): img.get("width") for img in email.iter("img") if img.get("alt") in ("badge", "photo")}

    assert widths() == {"badge": "90", "photo": "552"}
    (site.parent / "content/badge.png").write_bytes(_png(200, 60))
    build_site(site)
    assert widths() == {"badge": "200", "photo": "552"}
    assert outputs(site) == clean_build(site, tmp_path)


def test_an_issues_introduction_has_its_images_sized_and_its_links_checked(write_site: Callable[..., Path]) -> None:
    """The editor's own introduction is read like an article: its images get a width in the
    e-mail, and a link or an image that leads nowhere is a warning at its line (an error under
    --strict), where it went out without a word."""
    from .test_syndication import _png

    intro = "A badge: ![badge](/badge.png)\n\nA [lost page](/articles/nowhere/) and ![gone](/gone.png).\n"
    site = write_site({"content/a.md": article("A"), "content/badge.png": _png(90, 30),
                       "content/newsletters/n.md": issue(body=intro)}, SCRATCH)
    report = build_site(site)
    assert [str(w) for w in report.warnings] == [
        "content/newsletters/n.md:9: warning: broken internal link '/articles/nowhere/'",
        "content/newsletters/n.md:9: warning: image '/gone.png' not found among the site's files (a broken picture on "
        "the page and in every copy)",
    ]
    email = lxml.html.fromstring((site.parent / "output/newsletter/n/email.html").read_bytes())
    widths = {img.get("alt"): img.get("width") for img in email.iter("img")}
    assert widths["badge"] == "90" and widths["gone"] == "552"
    with pytest.raises(SiteError):
        build_site(site, strict=True)


def test_an_email_past_100_kb_warns_and_fails_under_strict(write_site: Callable[..., Path]) -> None:
    paragraph = "A long paragraph about queues and the people who stand in them. " * 30
    body = "\n\n".join([paragraph] * 30)  # each article's own copy stays under 100 KB; the two together do not
    site = write_site({
        "content/a.md": article("A", body=body),
        "content/b.md": article("B", date="2024-04-01", body=body),
        "content/newsletters/big.md": issue("articles: [a, b]"),
    }, SCRATCH)
    report = build_site(site)
    size = (site.parent / "output/newsletter/big/email.html").stat().st_size
    assert size > 100_000
    expected = (f"content/newsletters/big.md:1: warning: newsletter/big/email.html is {size:,} bytes, over 100,000: "
                "Gmail clips longer messages and hides what comes last (statements, the unsubscribe link); "
                "use mode: summary or fewer articles")
    assert tuple(map(str, report.warnings)) == (expected,)
    again = build_site(site)  # nothing changed: the warning is still given
    assert again.written == 0 and again.warnings == report.warnings
    before = tree(site.parent / "output")
    with pytest.raises(SiteError) as failed:
        build_site(site, strict=True, clean=True)
    assert [str(p) for p in failed.value.problems] == [expected.replace("warning: ", "")]
    assert tree(site.parent / "output") == before, "a failed build leaves the output as it was"
    (site.parent / "content/newsletters/big.md").write_text(issue(mode="summary"))
    assert build_site(site, strict=True).warnings == ()
    assert not [w for w in build_site(site).warnings if "newsletter/" in str(w)]


@pytest.mark.parametrize(("files", "site_yaml", "expected"), [
    ({"content/newsletters/n.md": issue()}, BASIC_SITE,
     ["site.yaml:1: content/newsletters/ has issues, so site.yaml needs a 'newsletter' section (name, from, address, unsubscribe)"]),
    ({}, BASIC_SITE + NEWSLETTER.replace("notes@scratch.example.org", "not an address"),
     ["site.yaml:10: 'newsletter.from' must be one e-mail address, like \"Service Digest <news@example.org>\", "
      "not 'Queue Notes <not an address>'"]),
    ({}, BASIC_SITE + NEWSLETTER.replace("mailchimp", "mailchimpp"),
     ["site.yaml:12: unknown sending service 'mailchimpp' in newsletter.unsubscribe (use mailchimp, buttondown or listmonk, "
      "or write the unsubscribe URL or placeholder your service fills in)"]),
    ({}, BASIC_SITE + NEWSLETTER.replace('  address: "2 Mill Lane, Leeds LS1 1AA, UK"\n', ""),
     ["site.yaml:8: missing required key 'newsletter.address'"]),
    ({"content/newsletters/n.md": issue("articles: [a, bb]")}, SCRATCH,
     ["content/newsletters/n.md:4: 'bb' in 'articles' is not a published article (drafts and future-dated ones cannot go out); "
      "did you mean b?"]),
    ({"content/newsletters/n.md": issue("articles: [a]\nlatest: 2")}, SCRATCH,
     ["content/newsletters/n.md:5: give either 'articles' (a list of slugs) or 'latest' (a number), not both"]),
    ({"content/newsletters/n.md": issue("articles: [c]")}, SCRATCH,
     ["content/newsletters/n.md:4: 'c' cannot go in a newsletter: it is not syndicable (it has syndicate: false)"]),
    ({"content/newsletters/n.md": issue(mode="digest")}, SCRATCH,
     ["content/newsletters/n.md:5: 'mode' must be full or summary, not 'digest'"]),
    ({"content/newsletters/n.md": issue("latest: 3", date_="2020-01-01")}, SCRATCH,
     ["content/newsletters/n.md:4: no syndicable article is published on or before 2020-01-01 for 'latest'"]),
    ({"content/newsletters/n.md": "---\ntitle: x\ndate: 2024-06-01\nartcles: [a]\n---\n"}, SCRATCH,
     ["content/newsletters/n.md:2: missing 'articles' (a list of article slugs) or 'latest' (a number of newest articles)",
      "content/newsletters/n.md:4: unknown front matter key 'artcles' in a newsletter issue; did you mean 'articles'?"]),
    ({"content/newsletters/n.md": "---\ntitle: [unclosed\ndate: 2024-06-01\n---\n"}, SCRATCH,
     ["content/newsletters/n.md:3: invalid YAML: did not find expected ',' or ']'"]),
    ({}, SCRATCH + "menu: [home, newsletter]\n",
     ["site.yaml:13: menu names 'newsletter' but content/newsletters/ has no published issue"]),
], ids=["issues-without-settings", "bad-from", "unknown-service", "no-address", "unknown-slug", "articles-and-latest",
        "not-syndicable", "bad-mode", "nothing-for-latest", "misspelt-key", "yaml-syntax", "menu-without-issues"])
def test_problems_name_the_file_and_line(write_site: Callable[..., Path], files: dict[str, str], site_yaml: str,
                                         expected: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    articles = {
        "content/a.md": article("A"),
        "content/b.md": article("B", date="2024-04-01"),
        "content/c.md": article("C", date="2024-03-01", syndicate="false"),
    }
    site = write_site({**articles, **files}, site_yaml)
    monkeypatch.chdir(site.parent)
    with pytest.raises(SiteError) as failed:
        build_site(site)
    assert [str(p) for p in failed.value.problems] == expected


def test_an_article_error_and_an_issue_error_are_reported_together(write_site: Callable[..., Path]) -> None:
    """One bad file hides nothing: an article that fails to load does not hide an issue's own
    problems, and an issue that fails does not hide the articles' warnings."""
    site = write_site({
        "content/a.md": article("A", body="![](pics/x.png)"),
        "content/pics/x.png": b"\x89PNG",
        "content/b.md": article("B", date="2024-04-01", original="{site: Elsewhere}"),
        "content/newsletters/n.md": issue(mode="digest"),
    }, SCRATCH)
    with pytest.raises(SiteError) as failed:
        build_site(site)
    assert sorted(map(str, failed.value.problems)) == [
        "content/a.md:6: warning: image 'pics/x.png' has no alt text",
        "content/b.md:5: missing required key 'original.url'",
        "content/newsletters/n.md:5: 'mode' must be full or summary, not 'digest'",
    ]
    (site.parent / "content/b.md").write_text(article("B", date="2024-04-01"))
    with pytest.raises(SiteError) as failed:
        build_site(site)
    assert sorted(map(str, failed.value.problems)) == [
        "content/a.md:6: warning: image 'pics/x.png' has no alt text",
        "content/newsletters/n.md:5: 'mode' must be full or summary, not 'digest'",
    ]


@pytest.mark.parametrize("mode", ["full", "summary"])
def test_every_issue_credits_the_original_post(write_site: Callable[..., Path], mode: str) -> None:
    """An article first published elsewhere names that place in every copy, a summary too."""
    site = write_site({
        "content/a.md": article("A", original='{url: "https://first.example/a", site: "First Press"}'),
        "content/newsletters/n.md": issue(mode=mode),
    }, SCRATCH)
    build_site(site)
    folder = site.parent / "output/newsletter/n"
    email = lxml.html.fromstring((folder / "email.html").read_bytes())
    assert "https://first.example/a" in [a.get("href") for a in email.iter("a")]
    assert "First Press: https://first.example/a" in (folder / "email.txt").read_text()


def test_the_gate_fails_a_template_that_drops_a_statement(write_site: Callable[..., Path]) -> None:
    theme = Path(__file__).parent.parent / "syndicate" / "theme"
    content = (theme / "newsletter-content.html").read_text().replace("{{ statement }}", "")
    frame = (theme / "newsletter-email.html").read_text().replace('<a href="{{ unsubscribe }}">Unsubscribe</a>', "")
    site = write_site({
        "content/a.md": article("A"),
        "content/newsletters/n.md": issue(),
        "templates/newsletter-content.html": content,
        "templates/newsletter-email.html": frame,
    }, SCRATCH)
    with pytest.raises(SiteError) as failed:
        build_site(site)
    messages = [str(p) for p in failed.value.problems]
    assert ("content/newsletters/n.md:1: newsletter newsletter/n/email.html lacks "
            "the complete statement of Ann Example for 'a' (rendered by templates/newsletter-email.html)") in messages
    assert ("content/newsletters/n.md:1: newsletter newsletter/n/email.txt lacks "
            "the complete statement of Ann Example for 'a' (rendered by templates/newsletter-email.txt)") not in messages, (
        "the text part has its own template, which still carries the statement")
    assert ("content/newsletters/n.md:1: newsletter newsletter/feed.xml item lacks "
            "the complete statement of Ann Example for 'a' (rendered by templates/newsletter-content.html)") in messages, (
        "the issues' feed carries the content too, and is checked like the e-mail")
    assert ("content/newsletters/n.md:1: newsletter newsletter/n/email.html lacks "
            "the unsubscribe link *|UNSUB|* (rendered by templates/newsletter-email.html)") in messages
    web = [m for m in messages if m.startswith("content/newsletters/n.md:1: newsletter newsletter/n/index.html lacks the complete statement")]
    assert web and web[0].endswith("syndicate/theme/newsletter.html)"), "the web version is rendered by the theme's own template"
    assert not any("newsletter/n/index.html lacks the unsubscribe" in m for m in messages), "the web version has no unsubscribe link"
    assert not (site.parent / "output").exists()


def test_the_gate_wants_each_statement_with_its_own_article(write_site: Callable[..., Path]) -> None:
    """Two articles by one author: a template that gives the statement once, after the first,
    fails for the second in every part, as a copy without its statement would."""
    theme = Path(__file__).parent.parent / "syndicate" / "theme"
    content = (theme / "newsletter-content.html").read_text()
    assert "{% for statement in entry.statements %}" in content
    once = content.replace("{% for statement in entry.statements %}", "{% for statement in (entry.statements if loop.first else []) %}")
    site = write_site({
        "content/a.md": article("A"),
        "content/b.md": article("B", date="2024-04-01"),
        "content/newsletters/n.md": issue("articles: [a, b]"),
        "templates/newsletter-content.html": once,
    }, SCRATCH)
    with pytest.raises(SiteError) as failed:
        build_site(site)
    lacking = sorted({str(p).split(" lacks ")[0] for p in failed.value.problems if "the complete statement of Ann Example for 'b'" in str(p)})
    assert lacking == [f"content/newsletters/n.md:1: newsletter newsletter/{name}" for name in ("feed.xml item", "n/email.html", "n/index.html")]
    assert not [p for p in failed.value.problems if "for 'a'" in str(p)]
    assert not (site.parent / "output").exists()


def test_the_issues_feed_carries_the_newest_feed_items_and_the_archive_all(write_site: Callable[..., Path]) -> None:
    site = write_site({
        "content/a.md": article("A"),
        "content/newsletters/first.md": issue(date_="2024-06-01"),
        "content/newsletters/second.md": issue(date_="2024-07-01", body="The second."),
    }, SCRATCH + "feed_items: 1\n")
    build_site(site)
    out = site.parent / "output/newsletter"
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert [entry.link for entry in feed.entries] == ["https://scratch.example.org/newsletter/second/"]
    assert "Copyright, Ann Example." in fold(lxml.html.fromstring(feed.entries[0].content[0].value).text_content())
    archive = lxml.html.fromstring((out / "index.html").read_text())
    assert [href for href in archive.xpath("//main//a/@href") if href.endswith(("first/", "second/"))] == [
        "../newsletter/second/", "../newsletter/first/"]


def test_incremental_builds_equal_clean_ones(write_site: Callable[..., Path], tmp_path: Path) -> None:
    site = write_site({
        "content/a.md": article("A", body="First version.", summary='"What a counter teaches."'),
        "content/b.md": article("B", date="2024-04-01", body="Bee."),
        "content/newsletters/full.md": issue("articles: [a, b]"),
        "content/newsletters/short.md": issue("latest: 1", mode="summary", date_="2024-05-15"),
    }, SCRATCH)
    memory = Memory()
    build_site(site, memory=memory)
    root = site.parent

    def clean() -> dict[str, bytes]:
        fresh = tmp_path / "fresh"
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("output", ".syndicate-cache"))
        build_site(fresh / "site.yaml", use_cache=False)
        return {k: v for k, v in tree(fresh / "output").items() if k != ".syndicate-output"}

    def current() -> dict[str, bytes]:
        return {k: v for k, v in tree(root / "output").items() if k != ".syndicate-output"}

    edits: list[tuple[str, Callable[[], None]]] = [
        ("body of an article in a full issue",
         lambda: (root / "content/a.md").write_text(article("A", body="Second version.", summary='"What a counter teaches."'))),
        ("issue intro", lambda: (root / "content/newsletters/full.md").write_text(issue("articles: [a, b]", body="New intro."))),
        ("statement", lambda: (root / "site.yaml").write_text(SCRATCH.replace("for more.", "for more notes."))),
        ("new issue", lambda: (root / "content/newsletters/third.md").write_text(issue("articles: [b]", date_="2024-07-01"))),
        ("issue removed", lambda: [(root / "content/newsletters" / n).unlink() for n in ("full.md", "short.md", "third.md")]),
    ]
    for name, change in edits:
        mtime = (root / "output/newsletter/short/email.html").stat().st_mtime_ns if name == "body of an article in a full issue" else None
        change()
        build_site(site, memory=memory)
        assert current() == clean(), name
        if mtime is not None:
            assert (root / "output/newsletter/short/email.html").stat().st_mtime_ns == mtime, "a summary shows no body"
    assert not (root / "output/newsletter").exists(), "no issue left, no archive"
    home = (root / "output/index.html").read_text()
    assert 'href="newsletter/"' not in home


# Composing an issue ------------------------------------------------------------------------------


def test_newsletter_new(write_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    site = write_site({
        "content/a.md": article("A", date="2024-05-01"),
        "content/b.md": article("B", date="2024-04-01"),
        "content/c.md": article("C", date="2024-03-01", syndicate="false"),
    }, SCRATCH)
    monkeypatch.chdir(site.parent)
    runner = CliRunner()
    today = date.today().isoformat()
    first = runner.invoke(main, ["newsletter", "new"])
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == f"content/newsletters/{today}.md"
    meta = front_matter(site.parent / first.stdout.strip())
    assert meta["articles"] == ["a", "b"] and meta["draft"] is True and meta["mode"] == "full"
    assert meta["title"].startswith("Queue Notes, ")
    assert not build_site(site).warnings and not (site.parent / "output/newsletter").exists(), "a draft is not published"
    build_site(site, include_drafts=True, output_dir=site.parent / "preview")
    assert (site.parent / "preview/newsletter" / today / "message.eml").is_file()
    (site.parent / first.stdout.strip()).write_text((site.parent / first.stdout.strip()).read_text().replace("draft: true", "draft: false"))
    nothing_new = runner.invoke(main, ["newsletter", "new"])
    assert nothing_new.exit_code == 1
    assert nothing_new.stderr.splitlines() == [f"content/newsletters/{today}.md:1: no syndicable article was published since the "
                                               "newest issue; name the articles or use --latest N", "1 error, 0 warnings"]
    named = runner.invoke(main, ["newsletter", "new", "b", "--title", "Just B: a re-run"])
    assert named.stdout.strip() == f"content/newsletters/{today}-just-b-a-re-run.md"
    assert front_matter(site.parent / named.stdout.strip())["articles"] == ["b"]
    assert front_matter(site.parent / named.stdout.strip())["title"] == "Just B: a re-run"
    latest = runner.invoke(main, ["newsletter", "new", "--latest", "2", "--title", "Two"])
    assert front_matter(site.parent / latest.stdout.strip())["latest"] == 2
    again = runner.invoke(main, ["newsletter", "new", "--latest", "2", "--title", "Two"])
    assert again.exit_code == 1 and "already exists" in again.stderr
    wrong = runner.invoke(main, ["newsletter", "new", "c", "aa"])
    assert wrong.exit_code == 1
    assert wrong.stderr.splitlines() == ["site.yaml:1: 'c' is not a published, syndicable article (syndicable: a, b)",
                                         "1 error, 0 warnings"]
    both = runner.invoke(main, ["newsletter", "new", "a", "--latest", "1"])
    assert both.exit_code == 1
    assert both.stderr.splitlines() == ["site.yaml:1: name the articles or give --latest, not both", "1 error, 0 warnings"]
    (site.parent / "site.yaml").write_text(BASIC_SITE)
    unset = runner.invoke(main, ["newsletter", "new", "a"])
    assert unset.exit_code == 1 and "site.yaml has no 'newsletter' section" in unset.stderr


# SVG images are not e-mail safe -----------------------------------------------------------------


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


def test_svg_images_give_way_to_a_raster_twin_or_are_left_out_with_a_warning(write_site: Callable[..., Path]) -> None:
    site = write_site({
        "content/a.md": article("A", image="images/lead.svg", body="Words.\n\n![A chart](/images/chart.svg)\n\nMore."),
        "content/images/lead.svg": SVG,
        "content/images/chart.svg": SVG,
        "content/newsletters/n.md": issue(),
    }, SCRATCH)
    report = build_site(site)
    assert tuple(map(str, report.warnings)) == (
        "content/a.md:1: warning: lead image 'images/lead.svg' is SVG, which e-mail clients do not show: its syndicated copies "
        "carry no lead image (put a PNG or JPEG of the same name beside it to use that)",
        "content/a.md:9: warning: image 'images/chart.svg' is SVG, which e-mail clients do not show: the syndicated copies "
        "leave it out (put a PNG or JPEG of the same name beside it to use that)",
    )
    out = site.parent / "output"
    for copy in (out / "syndicate/a.html", out / "newsletter/n/email.html"):
        assert ".svg" not in copy.read_text(), copy
    assert "images/chart.svg" in (out / "articles/a/index.html").read_text(), "the site's own page keeps its SVG"
    (site.parent / "content/images/lead.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (site.parent / "content/images/chart.jpg").write_bytes(b"\xff\xd8\xff")
    assert build_site(site).warnings == ()
    for copy in (out / "syndicate/a.html", out / "newsletter/n/email.html"):
        sources = lxml.html.fromstring(copy.read_text()).xpath("//img/@src")
        assert sources == ["https://scratch.example.org/images/lead.png", "https://scratch.example.org/images/chart.jpg"], copy


# Browser: no horizontal overflow ----------------------------------------------------------------


OVERFLOW = """() => {
    const limit = window.innerWidth + 0.5, found = [];
    for (const el of document.body.querySelectorAll("*")) {
        const box = el.getBoundingClientRect();
        if (box.width && box.right > limit) found.push(`<${el.tagName.toLowerCase()} class="${el.className}">`);
    }
    return {scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth, culprits: found.slice(0, 5)};
}"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [600, 375])
@pytest.mark.parametrize("file", [f"{FULL}/email.html", f"{FULL}/index.html", f"{SUMMARY}/email.html", f"{SUMMARY}/index.html"])
def test_issues_fit_narrow_screens(chromium: Any, example_output: Path, file: str, width: int, scheme: str) -> None:
    context = chromium.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()

        def local(route: Any) -> None:  # the site's absolute URLs answered from the build
            url = route.request.url
            target = example_output / url.removeprefix("https://digest.example.org/").split("?")[0]
            target = target / "index.html" if target.is_dir() else target
            if url.startswith("https://digest.example.org/") and target.is_file():
                route.fulfill(status=200, body=target.read_bytes())
            else:
                route.abort()

        page.route("https://**/*", local)
        page.goto((example_output / "newsletter" / file).as_uri())
        page.wait_for_load_state("load")
        sizes = page.evaluate(OVERFLOW)
        assert sizes["scroll"] <= sizes["inner"], f"{file} at {width}px ({scheme}) overflows: {sizes}"
        if file.endswith("email.html"):
            container = page.evaluate("document.querySelector('table.container').getBoundingClientRect().width")
            assert container <= min(width, 600), container
            background = page.evaluate("getComputedStyle(document.querySelector('td.content')).backgroundColor")
            assert (background == "rgb(26, 29, 34)") == (scheme == "dark"), background
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", [f"/newsletter/{FULL}/", f"/newsletter/{SUMMARY}/", "/newsletter/", "/syndicate/"])
def test_issue_pages_and_catalogue_have_no_serious_accessibility_violations(chromium: Any, example_output: Path, path: str,
                                                                            scheme: str) -> None:
    axe = require_node_module(AXE_JS)
    context = chromium.new_context(viewport={"width": 1200, "height": 900}, color_scheme=scheme)
    try:
        with serve(example_output) as base_url:
            page = context.new_page()
            page.goto(base_url + path)
            page.add_script_tag(path=str(axe))
            results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    finally:
        context.close()
    serious = [(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in results["violations"]
               if v.get("impact") in ("serious", "critical")]
    assert not serious, f"{path} ({scheme}): {serious}"


def test_an_article_kept_out_of_an_issue_is_told_why(write_site: Callable[..., Path]) -> None:
    """The tool knows which author has no terms: it says so, instead of listing both reasons."""
    site_yaml = BASIC_SITE + "  bo:\n    name: \"Bo Example\"\n" + NEWSLETTER
    site = write_site({"content/a.md": article("A"), "content/duo.md": article("Duo", author="[ann, bo]"),
                       "content/newsletters/n.md": issue("articles: [a, duo]")}, site_yaml)
    with pytest.raises(SiteError) as failed:
        build_site(site)
    assert [str(p) for p in failed.value.problems] == [
        "content/newsletters/n.md:4: 'duo' cannot go in a newsletter: it is not syndicable "
        "(its co-author 'bo' has no reprint terms)"]


def test_an_error_in_site_yaml_hides_no_problem_of_an_issue(write_site: Callable[..., Path]) -> None:
    """One report holds every problem: a bad setting in site.yaml no longer hides an issue's."""
    site = write_site({"content/a.md": article("A"), "content/newsletters/n.md": issue(mode="digest")},
                      SCRATCH + 'date_format: "%Q"\n')
    with pytest.raises(SiteError) as failed:
        build_site(site)
    messages = [str(p) for p in failed.value.problems]
    assert any("site.yaml:13: 'date_format'" in m for m in messages), messages
    assert "content/newsletters/n.md:5: 'mode' must be full or summary, not 'digest'" in messages
