"""`syndicate import wordpress`: a WXR export of our own, in WordPress's format, with the
awkward cases: classic posts that need automatic paragraphs, a block-editor post, a
captioned image, an unknown shortcode, a video on its own line, a draft, a private post,
a page under a parent page, attachments with and without a local copy, and comments.
"""

from __future__ import annotations

from pathlib import Path

import html5lib
import pytest
import yaml
from click.testing import CliRunner, Result

from syndicate.cli import main
from syndicate.importers.wpautop import wpautop

from .conftest import build_site, read_article

XHTML = "{http://www.w3.org/1999/xhtml}"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40

ITEM = """
  <item>
    <title>{title}</title>
    <link>{link}</link>
    <dc:creator><![CDATA[{creator}]]></dc:creator>
    <guid isPermaLink="false">https://quay.example/?p={id}</guid>
    <content:encoded><![CDATA[{content}]]></content:encoded>
    <excerpt:encoded><![CDATA[{excerpt}]]></excerpt:encoded>
    <wp:post_id>{id}</wp:post_id>
    <wp:post_date><![CDATA[{date}]]></wp:post_date>
    <wp:post_date_gmt><![CDATA[{gmt}]]></wp:post_date_gmt>
    <wp:post_name><![CDATA[{slug}]]></wp:post_name>
    <wp:status><![CDATA[{status}]]></wp:status>
    <wp:post_parent>0</wp:post_parent>
    <wp:post_type><![CDATA[{kind}]]></wp:post_type>
    {extra}
  </item>"""

CLASSIC = """Morning trains leave from platform two.
The timetable changed in spring.

[caption id="attachment_7" align="aligncenter" width="300"]<img src="https://quay.example/wp-content/uploads/2019/03/platform.jpg" alt="" width="300" height="200" /> Platform two at dawn[/caption]

[gallery ids="7,8"]

https://www.youtube.com/watch?v=abc123XYZ

<strong>Missing</strong> picture: <img src="https://quay.example/wp-content/uploads/2019/03/gone.jpg" alt="A lost photo" />

See <a href="https://quay.example/2019/04/02/evening-service/">the evening post</a>."""

BLOCKS = """<!-- wp:paragraph -->
<p>Evening service runs <em>late</em> on Fridays.</p>
<!-- /wp:paragraph -->

<!-- wp:list -->
<ul><li>Friday</li><li>Saturday</li></ul>
<!-- /wp:list -->"""


def item(**values: str) -> str:
    defaults = {"excerpt": "", "extra": "", "status": "publish", "kind": "post", "creator": "mira", "content": "",
                "gmt": values.get("date", "2019-01-01 00:00:00")}
    return ITEM.format(**{**defaults, **values})


def export() -> str:
    comments = "".join(f"""
    <wp:comment><wp:comment_id>{n}</wp:comment_id><wp:comment_content><![CDATA[Nice {n}]]></wp:comment_content>
    <wp:comment_approved><![CDATA[1]]></wp:comment_approved></wp:comment>""" for n in (1, 2, 3))
    items = [
        item(title="Morning Trains &amp; Platforms", link="https://quay.example/2019/03/01/morning-trains/", id="5",
             date="2019-03-01 08:15:00", gmt="2019-03-01 07:15:00", slug="morning-trains", content=CLASSIC,
             excerpt="When the <b>first</b> trains run.", extra="""
    <category domain="category" nicename="uncategorized"><![CDATA[Uncategorized]]></category>
    <category domain="category" nicename="timetables"><![CDATA[Timetables]]></category>
    <category domain="post_tag" nicename="platforms"><![CDATA[platforms]]></category>
    <wp:postmeta><wp:meta_key><![CDATA[_thumbnail_id]]></wp:meta_key><wp:meta_value><![CDATA[7]]></wp:meta_value></wp:postmeta>"""
             + comments),
        item(title="Evening Service", link="https://quay.example/2019/04/02/evening-service/", id="6",
             date="2019-04-02 19:00:00", slug="evening-service", content=BLOCKS, creator="ben"),
        item(title="Platform Works", link="https://quay.example/?p=9", id="9", date="2019-05-01 10:00:00",
             slug="", content="Works start soon.", status="draft"),
        item(title="Staff Only", link="https://quay.example/2019/05/03/staff-only/", id="10",
             date="2019-05-03 10:00:00", slug="staff-only", content="Secret.", status="private"),
        item(title="Contact", link="https://quay.example/about/contact/", id="11", date="2019-01-02 10:00:00",
             slug="contact", content="Write to the <a href=\"mailto:desk@quay.example\">desk</a>.", kind="page"),
        item(title="platform.jpg", link="https://quay.example/platform/", id="7", date="2019-03-01 08:00:00",
             slug="platform", kind="attachment", status="inherit",
             extra="<wp:attachment_url><![CDATA[https://quay.example/wp-content/uploads/2019/03/platform.jpg]]></wp:attachment_url>"),
        item(title="Menu", link="https://quay.example/menu/", id="12", date="2019-01-01 00:00:00", slug="menu",
             kind="nav_menu_item"),
    ]
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0"
  xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>Quay Side Notes</title>
  <link>https://quay.example</link>
  <description>Trains and timetables</description>
  <language>en-GB</language>
  <wp:wxr_version>1.2</wp:wxr_version>
  <wp:base_site_url>https://quay.example</wp:base_site_url>
  <wp:base_blog_url>https://quay.example</wp:base_blog_url>
  <wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[mira]]></wp:author_login>
    <wp:author_display_name><![CDATA[Mira Okafor]]></wp:author_display_name></wp:author>
  <wp:author><wp:author_id>2</wp:author_id><wp:author_login><![CDATA[ben]]></wp:author_login>
    <wp:author_display_name><![CDATA[]]></wp:author_display_name>
    <wp:author_first_name><![CDATA[Ben]]></wp:author_first_name><wp:author_last_name><![CDATA[Adeyemi]]></wp:author_last_name></wp:author>
{''.join(items)}
</channel>
</rss>
"""


@pytest.fixture
def wxr(tmp_path: Path) -> tuple[Path, Path]:
    path = tmp_path / "quay.wordpress.2024-01-01.xml"
    path.write_text(export(), encoding="utf-8")
    uploads = tmp_path / "uploads"
    (uploads / "2019/03").mkdir(parents=True)
    (uploads / "2019/03/platform.jpg").write_bytes(JPEG)
    return path, uploads


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["import", "wordpress", *map(str, args)])



def test_a_wordpress_export_becomes_a_site_with_its_permalinks_and_images(wxr: tuple[Path, Path], tmp_path: Path) -> None:
    export_path, uploads = wxr
    site = tmp_path / "site"
    result = run(export_path, "--into", site, "--uploads", uploads)
    assert result.exit_code == 0, result.output
    assert "articles:  3 (3 created)" in result.output
    assert "pages:     1 (1 created)" in result.output
    assert "comments:  3 not imported" in result.output
    assert "skipped:   1 item(s) of type nav_menu_item" in result.output

    settings = yaml.safe_load((site / "site.yaml").read_text())
    assert settings["url"] == "https://quay.example/" and settings["title"] == "Quay Side Notes"
    assert settings["permalinks"] == {"article": "{year}/{month}/{day}/{slug}/"}
    assert settings["authors"] == {"mira-okafor": {"name": "Mira Okafor"}, "ben-adeyemi": {"name": "Ben Adeyemi"}}

    meta, body = read_article(site / "content/morning-trains.md")
    assert meta["title"] == "Morning Trains & Platforms"
    assert meta["date"].isoformat() == "2019-03-01T08:15:00+01:00"
    assert meta["tags"] == ["platforms", "Timetables"] or meta["tags"] == ["Timetables", "platforms"]
    assert meta["summary"] == "When the first trains run."
    assert meta["image"] == "wp-content/uploads/2019/03/platform.jpg"
    paragraphs = body.split("\n\n")
    assert paragraphs[0] == "Morning trains leave from platform two.  \nThe timetable changed in spring."
    assert "![Platform two at dawn](/wp-content/uploads/2019/03/platform.jpg)" in paragraphs
    assert "*Platform two at dawn*" in paragraphs
    assert '\\[gallery ids="7,8"\\]' in body  # kept, shown as written
    assert "[https://www.youtube.com/watch?v=abc123XYZ](https://www.youtube.com/watch?v=abc123XYZ)" in paragraphs
    assert "iframe" not in body
    assert "https://quay.example/wp-content/uploads/2019/03/gone.jpg" in body
    assert "[the evening post](/2019/04/02/evening-service/)" in body

    evening, evening_body = read_article(site / "content/evening-service.md")
    assert evening["author"] == "ben-adeyemi"
    assert "wp:" not in evening_body and "Evening service runs *late* on Fridays." in evening_body
    assert "- Friday\n- Saturday" in evening_body
    draft, _ = read_article(site / "content/platform-works.md")
    assert draft["draft"] is True
    assert not (site / "content/staff-only.md").exists()
    assert (site / "content/wp-content/uploads/2019/03/platform.jpg").read_bytes() == JPEG

    report = (site / "import-report.md").read_text()
    name = str(export_path)
    assert f"{name}:" in report
    assert "'Staff Only' is private; not imported" in report
    assert "shortcode '[gallery ids=\"7,8\"]' kept as written" in report
    assert "image https://quay.example/wp-content/uploads/2019/03/gone.jpg stays on the old site (not in --uploads)" in report
    gallery = export().splitlines().index('[gallery ids="7,8"]') + 1
    assert f"{name}:{gallery}: shortcode" in report

    build_site(site / "site.yaml")
    out = site / "output"
    document = html5lib.parse((out / "2019/03/01/morning-trains/index.html").read_bytes())
    figure_image = next(img for img in document.iter(f"{XHTML}img") if "platform.jpg" in img.get("src", ""))
    assert figure_image.get("alt") == "Platform two at dawn"
    assert (out / "wp-content/uploads/2019/03/platform.jpg").read_bytes() == JPEG
    contact = (out / "about/contact/index.html").read_text()  # the page's old permalink redirects
    assert 'http-equiv="refresh"' in contact and "pages/contact/" in contact
    assert (out / "2019/04/02/evening-service/index.html").is_file()


def test_a_file_that_is_not_an_export_is_one_clear_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<?xml version='1.0'?>\n<rss><channel>\n<item></channel>")
    result = run(broken, "--into", tmp_path / "site")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{broken}:3: the export is not well-formed XML")
    other = tmp_path / "feed.xml"
    other.write_text("<feed xmlns='http://www.w3.org/2005/Atom'></feed>")
    assert "not a WordPress export (WXR)" in run(other, "--into", tmp_path / "site").stderr
    assert not (tmp_path / "site").exists()


def test_entities_in_the_export_are_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    crafted = export().replace('<?xml version="1.0" encoding="UTF-8" ?>',
                               f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY leak SYSTEM "file://{secret}">]>')
    crafted = crafted.replace("<title>Platform Works</title>", "<title>Platform Works &leak;</title>")
    assert "&leak;" in crafted
    path = tmp_path / "crafted.xml"
    path.write_text(crafted)
    assert run(path, "--into", tmp_path / "site").exit_code == 0
    written = "".join(p.read_text() for p in (tmp_path / "site").rglob("*.md"))
    assert "Platform Works" in written and "TOP-SECRET-VALUE" not in written


def test_wpautop_makes_paragraphs_and_line_breaks_as_wordpress_does() -> None:
    text = "One\ntwo\n\n<ul>\n<li>a</li>\n</ul>\n\n<pre>keep\n\nthis</pre>\nlast"
    assert wpautop(text) == ("<p>One<br />\ntwo</p>\n<ul>\n<li>a</li>\n</ul>\n<pre>keep\n\nthis</pre>\n<p>last</p>\n")
