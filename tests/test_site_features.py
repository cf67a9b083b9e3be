"""Indexes of tags and authors, lead images, and the site identity keys of site.yaml, on built output."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest
from PIL import Image

from syndicate.errors import SiteError

from .conftest import BASIC_SITE, article, build_site

TWO_AUTHORS = BASIC_SITE + """\
  bo:
    name: "Bo Writer"
    bio: "Bo writes about kettles."
    url: "https://bo.example.net"
"""


def photo(width: int, height: int, kind: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, kind)
    return out.getvalue()


def page(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.parse(str(path)).getroot()


# Indexes ------------------------------------------------------------------------------------


def test_tag_and_author_indexes(write_site: Callable[..., Path]) -> None:
    site = write_site({
        "content/a.md": article("A", tags="[Tea, Front Desk]"),
        "content/b.md": article("B", date="2024-05-02", tags="[tea]", author="bo"),
        "content/c.md": article("C", date="2024-05-03", tags="[Queues]"),
    }, TWO_AUTHORS)
    build_site(site)
    out = site.parent / "output"
    tags = page(out / "tags/index.html")
    rows = [(a.text_content(), a.getparent().cssselect(".count")[0].text_content()) for a in tags.cssselect(".tag-index a")]
    assert rows == [("Front Desk", "1 article"), ("Queues", "1 article"), ("tea", "2 articles")]  # the newest spelling
    assert [a.get("href") for a in tags.cssselect(".tag-index a")] == ["../tags/front-desk/", "../tags/queues/", "../tags/tea/"]
    authors = page(out / "authors/index.html")
    cards = authors.cssselect(".author-index li")
    assert [c.cssselect("h2 a")[0].text_content() for c in cards] == ["Ann Example", "Bo Writer"]
    assert "2 articles" in cards[0].text_content() and "1 article" in cards[1].text_content()
    assert cards[1].cssselect(".summary")[0].text == "Bo writes about kettles."
    assert cards[1].cssselect('a[href="https://bo.example.net"]')
    # Both are in the default menu, after the archive, and in the sitemap.
    nav = [(a.text_content(), a.get("href")) for a in page(out / "index.html").cssselect(".site-nav a")]
    assert nav[:4] == [("Home", "./"), ("Archive", "archive/"), ("Tags", "tags/"), ("Authors", "authors/")]
    sitemap = (out / "sitemap.xml").read_text()
    assert "https://scratch.example.org/tags/</loc>" in sitemap and "https://scratch.example.org/authors/</loc>" in sitemap


# Lead images --------------------------------------------------------------------------------


def test_lead_image_copies_and_srcset(write_site: Callable[..., Path]) -> None:
    site = write_site({
        "content/lit.md": article("Lit", image="images/lamp.jpg", image_alt="A lamp"),
        "content/images/lamp.jpg": photo(1300, 650),
    })
    build_site(site)
    out = site.parent / "output"
    img = page(out / "articles/lit/index.html").cssselect(".lead-image img")[0]
    assert (img.get("width"), img.get("height"), img.get("alt")) == ("1300", "650", "A lamp")
    srcset = [entry.split() for entry in img.get("srcset").split(", ")]
    assert srcset == [["../../images/lamp-480w.jpg", "480w"], ["../../images/lamp-800w.jpg", "800w"],
                      ["../../images/lamp-1200w.jpg", "1200w"], ["../../images/lamp.jpg", "1300w"]]
    assert img.get("sizes")
    for href, width in srcset:
        with Image.open(out / "articles/lit" / href) as copy:
            assert copy.size[0] == int(width.rstrip("w"))
            assert abs(copy.size[1] - copy.size[0] / 2) <= 1  # the shape is kept
            assert copy.format == "JPEG"
    og = page(out / "articles/lit/index.html").cssselect('meta[property="og:image"]')[0].get("content")
    assert og == "https://scratch.example.org/images/lamp-1200w.jpg"


def test_a_large_turned_photo_gives_upright_copies_of_the_right_size(write_site: Callable[..., Path]) -> None:
    """A camera JPEG stored on its side (EXIF orientation 6) and decoded at a reduced scale:
    each copy is upright, as wide as its name says, and still shows the photo's content."""
    stored = Image.new("RGB", (5000, 3200), (30, 60, 200))  # decoded at half size: 2500 x 1600 covers every copy
    stored.paste((240, 240, 240), (0, 0, 2500, 3200))  # the stored left half is white: the top once turned
    exif = Image.Exif()
    exif[0x0112] = 6
    data = io.BytesIO()
    stored.save(data, "JPEG", quality=95, exif=exif)
    site = write_site({
        "content/turned.md": article("Turned", image="images/tall.jpg", image_alt="A tall photo"),
        "content/images/tall.jpg": data.getvalue(),
    })
    build_site(site)
    out = site.parent / "output"
    img = page(out / "articles/turned/index.html").cssselect(".lead-image img")[0]
    assert (img.get("width"), img.get("height")) == ("3200", "5000")
    for width in (480, 800, 1200, 1600):
        with Image.open(out / f"images/tall-{width}w.jpg") as copy:
            assert copy.size == (width, round(5000 * width / 3200))
            rgb = copy.convert("RGB")
            top, bottom = rgb.getpixel((width // 2, copy.size[1] // 8)), rgb.getpixel((width // 2, copy.size[1] * 7 // 8))
            assert min(top) > 200 and bottom[2] > 150 and bottom[0] < 80, (top, bottom)


def test_copies_are_cached_and_remade_only_when_the_image_changes(write_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    site = write_site({"content/lit.md": article("Lit", image="images/lamp.png"), "content/images/lamp.png": photo(900, 300, "PNG")})
    build_site(site)
    out = site.parent / "output"
    assert sorted(p.name for p in (out / "images").iterdir()) == ["lamp-480w.png", "lamp-800w.png", "lamp.png"]
    import syndicate.images

    resized: list[int] = []
    real = syndicate.images._resize
    monkeypatch.setattr(syndicate.images, "_resize", lambda image, width, kind: resized.append(width) or real(image, width, kind))
    (site.parent / "content/lit.md").write_text(article("Lit", image="images/lamp.png", body="New words."))
    build_site(site)
    assert resized == []  # the image job did not run
    build_site(site, clean=True)
    assert resized == []  # it ran, and took its copies from the cache folder
    (site.parent / "content/images/lamp.png").write_bytes(photo(1000, 500, "PNG"))
    build_site(site)
    assert resized == [800, 480]  # each from the next wider copy
    img = page(out / "articles/lit/index.html").cssselect(".lead-image img")[0]
    assert (img.get("width"), img.get("height")) == ("1000", "500")
    made = {p.name: p.read_bytes() for p in (out / "images").iterdir()}
    # The copies of an image are kept in one file: a damaged one is not served but made again,
    # and no copy depends on what was kept.
    [*_old, pack] = sorted((site.parent / ".syndicate-cache/images").glob("*.copies"), key=lambda p: p.stat().st_mtime_ns)
    pack.write_bytes(pack.read_bytes()[:-1])
    build_site(site, clean=True)
    assert resized == [800, 480, 800, 480]
    assert {p.name: p.read_bytes() for p in (out / "images").iterdir()} == made
    pack.unlink()
    build_site(site, clean=True)
    assert resized == [800, 480, 800, 480, 800, 480]
    assert {p.name: p.read_bytes() for p in (out / "images").iterdir()} == made


def test_og_image_falls_back_to_the_site_image(write_site: Callable[..., Path]) -> None:
    site = write_site({
        "content/plain.md": article("Plain"),
        "content/drawn.md": article("Drawn", date="2024-05-02", image="pic.svg"),
        "content/small.md": article("Small", date="2024-05-03", image="small.jpg"),
        "content/pic.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>',
        "content/small.jpg": photo(300, 200),
        "content/share.png": photo(1200, 630, "PNG"),
    }, BASIC_SITE + "image: share.png\n")
    build_site(site)
    out = site.parent / "output"

    def og(path: str) -> str:
        return str(page(out / path).cssselect('meta[property="og:image"]')[0].get("content"))

    assert og("articles/plain/index.html") == "https://scratch.example.org/share.png"
    assert og("articles/drawn/index.html") == "https://scratch.example.org/share.png"  # never an SVG
    assert og("articles/small/index.html") == "https://scratch.example.org/small.jpg"  # smaller than any copy
    assert og("index.html") == "https://scratch.example.org/share.png"
    small = page(out / "articles/small/index.html").cssselect(".lead-image img")[0]
    assert small.get("srcset") == "../../small.jpg 300w" and small.get("width") == "300"
    assert not (out / "small-480w.jpg").exists()


# Site identity --------------------------------------------------------------------------------


def test_logo_favicon_menu_and_date_format(write_site: Callable[..., Path]) -> None:
    settings = BASIC_SITE + """\
logo: brand/logo.svg
favicon: brand/icon.png
date_format: "%A %-d %b %Y"
menu:
  - home
  - about
  - {title: "Our book", url: "https://book.example.com/"}
  - {title: "Letters", url: "/letters/"}
  - search
  - tags
"""
    site = write_site({
        "content/a.md": article("A", date="2024-05-04"),
        "content/pages/about.md": "---\ntitle: About Us\n---\nHello.\n",
        "content/brand/logo.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>',
        "content/brand/icon.png": photo(32, 32, "PNG"),
    }, settings)
    build_site(site)
    out = site.parent / "output"
    home = page(out / "articles/a/index.html")
    assert home.cssselect(".site-title img.logo")[0].get("src") == "../../brand/logo.svg"
    icon = home.cssselect('link[rel="icon"]')[0]
    assert (icon.get("href"), icon.get("type")) == ("../../brand/icon.png", "image/png")
    nav = [(a.text_content(), a.get("href")) for a in home.cssselect(".site-nav a")]
    assert nav == [("Home", "../../"), ("About Us", "../../pages/about/"), ("Our book", "https://book.example.com/"),
                   ("Letters", "../../letters/"), ("Search", "../../search/"), ("Tags", "../../tags/")]
    assert home.cssselect(".byline time")[0].text == "Saturday 4 May 2024"


@pytest.mark.parametrize(("settings", "message"), [
    ("logo: brand/missing.svg\n", "site.yaml:8: logo 'brand/missing.svg' not found under content/"),
    ("favicon: javascript:alert(1)\n", "site.yaml:8: 'favicon' must be a path under content/ or an http(s) URL"),
    ('date_format: "%Q %Y"\n', "site.yaml:8: 'date_format' has an unknown directive '%Q'"),
    ("menu:\n  - home\n  - {title: X}\n", "site.yaml:10: a menu item needs either 'url' (a link) or 'page'"),
    ("menu:\n  - home\n  - nowhere\n", "site.yaml:10: menu names page 'nowhere', which is not a published page"),
    ("search: false\nmenu: [search]\n", "site.yaml:9: menu names 'search' but 'search' is false"),
    ("menu:\n  - {title: Bad, url: 'ftp://x.example'}\n", "site.yaml:9: menu link 'ftp://x.example' must be an http(s) URL"),
], ids=["missing-logo", "unsafe-favicon", "bad-date-format", "menu-item-without-target", "unknown-page",
        "search-off-in-menu", "non-web-link"])
def test_bad_identity_settings_are_reported_with_their_line(write_site: Callable[..., Path], settings: str, message: str) -> None:
    site = write_site({"content/a.md": article("A")}, BASIC_SITE + settings)
    with pytest.raises(SiteError) as caught:
        build_site(site)
    shown = [f"{Path(p.path).name}:{p.line}: {p.message}" for p in caught.value.problems]
    assert any(line.startswith(message) for line in shown), shown


def test_copies_show_the_upright_lead_image_copy_at_a_width_that_never_stretches(write_site: Callable[..., Path]) -> None:
    """Mail programs that ignore EXIF orientation would show a phone photo on its side, and
    `width="560"` stretched a small image: a copy uses the upright resized copy, at its width."""
    from PIL import Image

    photo = Image.new("RGB", (2000, 1000), (200, 120, 40))
    exif = photo.getexif()
    exif[0x0112] = 6  # shown turned a quarter: 1000 wide, 2000 high
    big, small = io.BytesIO(), io.BytesIO()
    photo.save(big, "JPEG", exif=exif)
    Image.new("RGB", (300, 200), (10, 90, 160)).save(small, "PNG")
    site = write_site({
        "content/a.md": article("A", image="images/turned.jpg", image_alt='"A desk"'),
        "content/b.md": article("B", date="2024-04-01", image="images/small.png", image_alt='"A bell"'),
        "content/images/turned.jpg": big.getvalue(), "content/images/small.png": small.getvalue(),
    })
    build_site(site)
    out = site.parent / "output"
    lead = lxml.html.fromstring((out / "syndicate/a.html").read_bytes()).find(".//p[@class='lead-image']/img")
    assert lead is not None and lead.get("src") == "https://scratch.example.org/images/turned-800w.jpg"
    assert lead.get("width") == "560"
    with Image.open(out / "images/turned-800w.jpg") as shown:
        assert shown.size == (800, 1600) and shown.getexif().get(0x0112) is None  # upright, whatever reads it
    lead = lxml.html.fromstring((out / "syndicate/b.html").read_bytes()).find(".//p[@class='lead-image']/img")
    assert lead is not None and lead.get("src") == "https://scratch.example.org/images/small.png"
    assert lead.get("width") == "300"
