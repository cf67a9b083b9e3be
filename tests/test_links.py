"""Links in rendered bodies: raw HTML counts like Markdown, non-web schemes never reach a page."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import feedparser
import html5lib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.links import NEUTRALISED, process_links, unsafe_url

from .conftest import article, build_site

XHTML = "{http://www.w3.org/1999/xhtml}"


def browser_hrefs(markup: str) -> list[str]:
    """The href of every link as a browser's HTML parser sees it (html5lib follows the spec)."""
    document = html5lib.parse(markup)
    found = []
    for element in document.iter():
        for name, value in element.attrib.items():
            if name in ("href", "src", "action", "formaction") or name.endswith("}href"):
                found.append(value)
    return found


def test_mailto_autolink_is_one_clean_mailto_link_in_every_output(write_site: Callable[..., Path]) -> None:
    site = write_site({"content/a.md": article("Contact", body="Write to <desk@example.net> any time.")})
    build_site(site)
    out = site.parent / "output"
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml", ".json", ".txt", ".md"):
            assert "\x03" not in path.read_text(), path
    page = (out / "articles/a/index.html").read_text()
    assert [h for h in browser_hrefs(page) if "desk" in h or "ailto" in h] == ["mailto:desk@example.net"]
    assert "mailto:desk@example.net" in browser_hrefs((out / "syndicate/a.html").read_text())
    assert "desk@example.net" in (out / "syndicate/a.txt").read_text()
    assert "(mailto:desk@example.net)" in (out / "syndicate/a.md").read_text()
    for feed in ("feed.xml", "atom.xml"):
        content = feedparser.parse((out / feed).read_bytes()).entries[0].content[0].value
        assert "mailto:desk@example.net" in browser_hrefs(content)


HOSTILE_BODY = """\
First [click me](javascript:alert(1)) in Markdown.

<a href="jav&#x61;script:alert(2)">entity</a> and <a/href=vbscript:msgbox(3)>slash</a>

<p><a href="data:text/html;base64,PHNjcmlwdD4=">data</a> <img src="data:image/png;base64,iVBORw0KGgo=" alt="dot"></p>

<form action="javascript:alert(4)"><button formaction=" JAVASCRIPT:alert(5)">go</button></form>

[fine](https://example.com/ok) and [mail](mailto:a@example.com)
"""


def test_non_web_links_are_neutralised_on_the_page_with_a_warning_naming_the_line(write_site: Callable[..., Path]) -> None:
    site = write_site({"content/a.md": article("Hostile", body=HOSTILE_BODY)})
    report = build_site(site)
    page = (site.parent / "output/articles/a/index.html").read_text()
    hrefs = browser_hrefs(page)
    assert not [h for h in hrefs if re.match(r"\s*(javascript|vbscript|data:text)", h, re.I)], hrefs
    assert hrefs.count(NEUTRALISED) == 6
    assert "https://example.com/ok" in hrefs and "mailto:a@example.com" in hrefs
    assert "data:image/png;base64,iVBORw0KGgo=" in hrefs  # a raster image stays, as in Hugo
    assert [str(w).split(" is not a web link")[0] for w in report.warnings] == [  # in line order
        "content/a.md:6: warning: a href 'javascript:alert(1)'",
        "content/a.md:8: warning: a href 'javascript:alert(2)'",
        "content/a.md:8: warning: a href 'vbscript:msgbox(3)'",
        "content/a.md:10: warning: a href 'data:text/html;base64,PHNjcmlwdD4='",
        "content/a.md:12: warning: button formaction ' JAVASCRIPT:alert(5)'",
        "content/a.md:12: warning: form action 'javascript:alert(4)'",
    ]
    copy = (site.parent / "output/syndicate/a.html").read_text()
    assert "javascript" not in copy.lower() and "vbscript" not in copy.lower() and "<form" not in copy


def test_anchors_and_images_in_raw_html_are_checked_like_markdown(write_site: Callable[..., Path]) -> None:
    body = ('<a id="top"></a>\n\n<h2 id="facts">Facts</h2>\n\nText <a name="old-style">here</a>.\n\n'
            '<img src="pics/gone.png" alt="A chart">\n\n<img src="pics/here.png" alt="Another chart">\n')
    site = write_site({
        "content/a.md": article("A", body=body),
        "content/b.md": article("B", body="See [top](/articles/a/#top), [facts](/articles/a/#facts), "
                                          "[old](/articles/a/#old-style) and [none](/articles/a/#nothing)."),
        "content/pics/here.png": b"\x89PNG",
    })
    report = build_site(site)
    assert sorted(map(str, report.warnings)) == [
        "content/a.md:12: warning: image '/pics/gone.png' not found among the site's files (a broken picture on the page "
        "and in every copy)",
        "content/b.md:6: warning: link '/articles/a/#nothing' points at a missing anchor '#nothing'",
    ]
    page = (site.parent / "output/articles/a/index.html").read_text()
    assert "../../pics/here.png" in browser_hrefs(page)  # a raw <img> resolves like a Markdown one


def test_warnings_point_at_the_line_of_the_link_or_image(write_site: Callable[..., Path]) -> None:
    body = "Intro.\n\nMore text.\n\n[gone](/nowhere/)\n\n![](pics/x.png)\n\nEnd [anchor](#missing).\n"
    site = write_site({"content/a.md": article("A", body=body), "content/pics/x.png": b"\x89PNG"})
    report = build_site(site)
    assert sorted(map(str, report.warnings)) == [
        "content/a.md:10: warning: broken internal link '/nowhere/'",
        "content/a.md:12: warning: image 'pics/x.png' has no alt text",
        "content/a.md:14: warning: link '#missing' points at a missing anchor '#missing'",
    ]


# Property: however a non-web scheme is disguised, a browser never sees it in a URL attribute.

SCHEMES = st.sampled_from(["javascript", "vbscript", "data", "livescript", "JavaScript", "jAvAsCrIpT"])


@st.composite
def disguised(draw: st.DrawFn) -> str:
    scheme = draw(SCHEMES) + ":"
    out = []
    for char in scheme:
        way = draw(st.sampled_from(["plain", "plain", "decimal", "hex", "tab", "newline"]))
        if way == "decimal":
            out.append(f"&#{ord(char)};")
        elif way == "hex":
            out.append(f"&#x{ord(char):x};")
        elif way == "tab":
            out.append(char + draw(st.sampled_from(["&Tab;", "\t", "&#9;", "&NewLine;"])))
        elif way == "newline":
            out.append(char + "\n")
        else:
            out.append(char)
    lead = draw(st.sampled_from(["", " ", "&#1;", "\x01", "&#32;"]))
    return lead + "".join(out).replace(":", draw(st.sampled_from([":", "&colon;", "&#58;"])), 1) + "alert(1)"


@st.composite
def tags(draw: st.DrawFn) -> str:
    url = draw(disguised())
    tag = draw(st.sampled_from(["a", "A", "img", "iframe", "form", "area", "embed", "object", "svg:a"]))
    attribute = draw(st.sampled_from(["href", "HREF", "src", "action", "data", "xlink:href", "formaction"]))
    separator = draw(st.sampled_from([" ", "/", "\n", " x=1 ", '/y="2"']))
    quote = draw(st.sampled_from(['"', "'", ""]))
    if not quote:
        url = url.replace(" ", "").replace("\t", "").replace("\n", "")
    return f"<{tag}{separator}{attribute}={quote}{url}{quote}>x</{tag}>"


@settings(max_examples=300, deadline=None)
@given(st.lists(tags(), min_size=1, max_size=4), st.sampled_from(["", "<svg>", "<p>", "<!-- c -->", "<style>p{}</style>"]))
def test_disguised_schemes_never_reach_a_browser(pieces: list[str], before: str) -> None:
    markup = before + "\n".join(pieces)
    result = process_links(markup, markup, PurePosixPath("."))
    for value in browser_hrefs(result.html):
        assert value == NEUTRALISED or not unsafe_url(value), (markup, result.html, value)
    assert len(result.notes) >= 1


@pytest.mark.parametrize("url", ["https://example.com", "mailto:a@b.example", "tel:+441234", "/x", "#y", "x.png", "?q=1",
                                 "data:image/png;base64,AA"])
def test_web_links_are_left_alone(url: str) -> None:
    markup = f'<img src="{html.escape(url)}" alt="a">'
    result = process_links(markup, markup, PurePosixPath("."))
    assert not result.notes and NEUTRALISED not in result.html


def test_a_link_urllib_cannot_split_is_left_as_written() -> None:
    markup = '<a href="http://[broken">x</a> <img src="https://[::1" alt="y">'
    assert process_links(markup, markup, PurePosixPath(".")).html == markup


def test_percent_encoded_links_find_their_files_and_anchors(write_site: Callable[..., Path]) -> None:
    """`%20` in a link is a space in the file's name: such a link works, so it is not broken."""
    body = ("![A chart](/pics/fun%20chart.png)\n\n[notes](/pics/sea%20notes.txt)\n\n"
            "[here](/articles/b/#caf%C3%A9)\n\n[gone](/pics/no%20such.png)\n")
    site = write_site({
        "content/a.md": article("A", body=body),
        "content/b.md": article("B", body='<h2 id="café">Café</h2>\n\nText.\n'),
        "content/pics/fun chart.png": b"\x89PNG",
        "content/pics/sea notes.txt": "tides\n",
    })
    report = build_site(site)
    assert [str(w) for w in report.warnings] == [
        "content/a.md:12: warning: image '/pics/no%20such.png' not found among the site's files (a broken picture on the "
        "page and in every copy)"]
    assert (site.parent / "output/pics/fun chart.png").is_file()
