"""`syndicate import jekyll`: a small Jekyll tree in Jekyll's own layout becomes a site that
builds, with every old address still answering.

The tree is written here: `_config.yml` with a permalink pattern and a base URL, dated posts
in `_posts/` (one `.markdown`, one in a category folder), a draft, a page with its own
permalink, Liquid that converts and Liquid that does not, kramdown attribute lines, an image,
and theme files that must not come along.
"""

from __future__ import annotations

from pathlib import Path

import html5lib
import pytest
import yaml
from click.testing import CliRunner, Result

from syndicate.cli import main
from syndicate.importers.dialect import Notes
from syndicate.importers.jekyll import convert_liquid, translate_permalink

from .conftest import build_site, read_article, write_tree

XHTML = "{http://www.w3.org/1999/xhtml}"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

CONFIG = """\
title: Harbour Notes
description: Notes from a small harbour office
url: https://harbour.example
baseurl: /notes
permalink: /:year/:month/:day/:title.html
timezone: Europe/Lisbon
author: Inês Moura
exclude: [scripts]
"""

POST_TIDES = """\
---
layout: post
title: Reading the Tide Tables
date: 2016-01-01 09:30:00 +0000
categories: [harbour, Tides]
excerpt: How we plan the morning boats around the water.
redirect_from:
  - /old/tides/
---
The first boat leaves when the water allows.

{% highlight python linenos %}
def high_water(hour):
    return hour + 6
{% endhighlight %}

See [the crew post]({% post_url 2016-02-03-crew-rota %}) and [about]({% link about.md %}).
![Tide chart]({{ site.baseurl }}/images/tides.png)
{: .wide}

Keep {% raw %}{{ this }}{% endraw %} literally.

{% include gallery.html %}
"""

POST_CREW = """\
---
title: "Crew Rota: Who Sails When"
author: Inês Moura and Tomás Reis
tags: crew, rota
lastmod: 2016-03-01
---
Monday
- Inês
  - mornings
- Tomás
"""

POST_ROLE = """\
---
title: Harbour Fees Explained
date: 2017-05-06
author: "Rui Costa, Executive Director"
category: Fees
description: What each boat pays, and why.
published: false
---
Fees are posted at the office.
"""

DRAFT = """\
---
title: Winter Moorings
---
Not ready yet.
"""

ABOUT = """\
---
title: About the Office
permalink: /about-us/
---
We keep the **harbour** running.
"""

LISTING = """\
---
title: Blog
---
{% for post in site.posts %}<a href="{{ post.url }}">{{ post.title }}</a>{% endfor %}
"""


@pytest.fixture
def jekyll_tree(tmp_path: Path) -> Path:
    root = tmp_path / "old-site"
    files: dict[str, str | bytes] = {
        "_config.yml": CONFIG,
        "_posts/2016-01-01-reading-the-tide-tables.markdown": POST_TIDES,
        "_posts/2016-02-03-crew-rota.md": POST_CREW,
        "fees/_posts/2017-05-06-harbour-fees.md": POST_ROLE,
        "_drafts/winter-moorings.md": DRAFT,
        "about.md": ABOUT,
        "blog.html": LISTING,
        "index.html": "---\nlayout: home\n---\n{{ content }}\n",
        "feed.xml": "---\nlayout: null\n---\n<rss>{{ site.title }}</rss>\n",
        "_layouts/post.html": "<html>{{ content }}</html>\n",
        "_includes/gallery.html": "<div></div>\n",
        "css/main.scss": "---\n---\n@import 'base';\n",
        "images/tides.png": PNG,
        "Gemfile": "source 'https://rubygems.org'\n",
        "scripts/deploy.sh": "echo deploy\n",
        "CNAME": "harbour.example\n",
    }
    return write_tree(root, files)


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["import", *map(str, args)])



def page_text(path: Path) -> str:
    document = html5lib.parse(path.read_bytes(), namespaceHTMLElements=True)
    main_element = document.find(f".//{XHTML}main") or document.find(f".//{XHTML}body")
    assert main_element is not None
    return " ".join("".join(main_element.itertext()).split())


def test_a_jekyll_site_becomes_a_site_that_builds_with_its_old_addresses(jekyll_tree: Path, tmp_path: Path) -> None:
    site = tmp_path / "new-site"
    result = run("jekyll", jekyll_tree, "--into", site)
    assert result.exit_code == 0, result.output
    assert "articles:  4 (4 created)" in result.output
    assert "pages:     1 (1 created)" in result.output
    assert "authors:   3 added to site.yaml" in result.output

    settings = yaml.safe_load((site / "site.yaml").read_text())
    assert settings["title"] == "Harbour Notes"
    assert settings["url"] == "https://harbour.example/notes/"
    assert settings["timezone"] == "Europe/Lisbon"
    assert settings["permalinks"] == {"article": "{year}/{month}/{day}/{slug}.html"}
    assert {a["name"] for a in settings["authors"].values()} == {"Inês Moura", "Tomás Reis", "Rui Costa"}

    tides, body = read_article(site / "content/reading-the-tide-tables.md")
    assert tides["date"].isoformat().startswith("2016-01-01T09:30:00")
    assert tides["tags"] == ["harbour", "Tides"]
    assert tides["summary"] == "How we plan the morning boats around the water."
    assert tides["author"] == "ines-moura"  # _config.yml's author, for a post that names none
    assert "```python\ndef high_water(hour):" in body
    assert "(/2016/02/03/crew-rota.html)" in body and "(/about-us/)" in body
    assert "![Tide chart](/images/tides.png)" in body and "{: .wide}" not in body
    assert "Keep {{ this }} literally" in body and "{% include gallery.html %}" in body

    crew, crew_body = read_article(site / "content/crew-rota.md")
    assert crew["author"] == ["ines-moura", "tomas-reis"]
    assert crew["tags"] == ["crew", "rota"]
    assert str(crew["updated"]) == "2016-03-01"
    assert "Monday\n\n- Inês\n    - mornings" in crew_body

    fees, _ = read_article(site / "content/harbour-fees.md")
    assert fees["author"] == "rui-costa"  # the role after the comma is not a second author
    assert fees["draft"] is True and fees["tags"] == ["Fees"]
    assert fees["summary"] == "What each boat pays, and why."
    assert read_article(site / "content/winter-moorings.md")[0]["draft"] is True

    assert (site / "content/images/tides.png").read_bytes() == PNG
    assert (site / "content/CNAME").exists()
    for absent in ("content/Gemfile", "content/scripts/deploy.sh", "content/css/main.scss", "content/feed.xml",
                   "content/_layouts", "content/blog.md", "content/index.md"):
        assert not (site / absent).exists(), absent

    report = (site / "import-report.md").read_text()
    assert "_posts/2016-01-01-reading-the-tide-tables.markdown:23: Liquid tag '{% include gallery.html %}' kept as written" in report
    assert "blog.html:1: a listing Jekyll filled from the site's posts; not imported" in report
    assert "feed.xml:1: a template of the old theme or its feeds; not imported" in report

    build_site(site / "site.yaml", include_drafts=False)
    out = site / "output"
    # Old addresses: the same path under the matching permalink pattern, or a redirect page.
    assert "Reading the Tide Tables" in (out / "2016/01/01/reading-the-tide-tables.html").read_text()
    assert (out / "2016/02/03/crew-rota.html").is_file()
    redirect = (out / "old/tides/index.html").read_text()
    assert 'http-equiv="refresh"' in redirect and "2016/01/01/reading-the-tide-tables.html" in redirect
    assert "/notes/about-us/ /notes/pages/about/ 301" in (out / "_redirects").read_text()
    assert 'http-equiv="refresh"' in (out / "about-us/index.html").read_text()
    assert "We keep the harbour running." in page_text(out / "pages/about/index.html")
    assert (out / "images/tides.png").read_bytes() == PNG


def test_check_strict_reports_only_what_the_report_lists(jekyll_tree: Path, tmp_path: Path) -> None:
    site = tmp_path / "new-site"
    assert run("jekyll", jekyll_tree, "--into", site).exit_code == 0
    checked = CliRunner().invoke(main, ["check", "--strict", "--site", str(site / "site.yaml")])
    report = (site / "import-report.md").read_text()
    problems = checked.stderr.splitlines()
    assert checked.exit_code == 1
    assert any("{% include gallery.html %}" in line for line in problems), "the unknown Liquid tag is still there"
    assert problems[-1].endswith("(--strict counts warnings as errors)")
    for line in problems[:-1]:
        path, number, message = line.split(":", 2)
        assert line in report, line


def test_running_again_skips_unchanged_files_and_keeps_edits(jekyll_tree: Path, tmp_path: Path) -> None:
    site = tmp_path / "new-site"
    assert run("jekyll", jekyll_tree, "--into", site).exit_code == 0
    again = run("jekyll", jekyll_tree, "--into", site)
    assert again.exit_code == 0
    assert "articles:  4 (4 unchanged)" in again.output
    assert "files:     2 (2 unchanged)" in again.output  # nothing was copied again
    edited = site / "content/crew-rota.md"
    edited.write_text(edited.read_text().replace("Monday", "Tuesday"))
    (jekyll_tree / "_posts/2016-02-03-crew-rota.md").write_text(POST_CREW.replace("Monday", "Sunday"))
    third = run("jekyll", jekyll_tree, "--into", site)
    assert third.exit_code == 0
    assert "Tuesday" in edited.read_text()
    assert "content/crew-rota.md was edited since the last import; not overwritten (use --force to replace it)" in \
        (site / "import-report.md").read_text()
    forced = run("jekyll", jekyll_tree, "--into", site, "--force")
    assert forced.exit_code == 0 and "1 overwritten" in forced.output
    assert "Sunday" in edited.read_text()


def test_a_folder_that_is_not_a_jekyll_site_imports_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run("jekyll", tmp_path / "empty", "--into", tmp_path / "site")
    assert result.exit_code == 1
    assert "no _config.yml and no _posts folder" in result.stderr
    assert not (tmp_path / "site").exists()
    only_theme = tmp_path / "theme"
    (only_theme / "_posts").mkdir(parents=True)
    (only_theme / "_config.yml").write_text("title: x\n")
    result = run("jekyll", only_theme, "--into", tmp_path / "site")
    assert result.exit_code == 1 and "nothing imported" in result.stderr


@pytest.mark.parametrize(("pattern", "ours"), [
    ("/:year/:month/:day/:title.html", "{year}/{month}/{day}/{slug}.html"),
    ("/:categories/:year/:month/:day/:title:output_ext", "{year}/{month}/{day}/{slug}.html"),
    ("/blog/:title/", "blog/{slug}/"),
    ("/:year/:i_month/:title/", None),
    ("/:title", None),
], ids=["dated-html", "date-style", "pretty-folder", "unpadded-month", "no-ending"])
def test_permalink_patterns_translate_when_ours_can_say_the_same(pattern: str, ours: str | None) -> None:
    assert translate_permalink(pattern) == ours


def test_liquid_conversions_and_their_report_lines() -> None:
    notes = Notes("post.md")
    body = ("A {{ site.url }}{{ site.baseurl }}/x.png and {{ '/a.css' | relative_url }}\n"
            "{% comment %}gone{% endcomment %}{{ page.title }}\n{% post_url missing %}\n{{ page.author }}")
    out = convert_liquid(body, 5, {}, "Title", notes)
    assert out.startswith("A /x.png and /a.css\nTitle\n{% post_url missing %}")
    assert [(p.line, p.message.split("'")[1]) for p in notes.items] == [
        (7, "{% post_url missing %}"), (8, "{{ page.author }}")]


@pytest.mark.parametrize(("timezone", "old_day"), [("", "02"), ("America/Chicago", "01"), ("Asia/Tokyo", "02")])
def test_old_addresses_fall_on_the_day_jekyll_wrote_them(tmp_path: Path, timezone: str, old_day: str) -> None:
    """Jekyll writes a post's date in the site's time zone (else the building machine's, UTC on
    GitHub Pages); space-separated `tags` and `categories` are several names; `name` stands in
    for a missing `title`."""
    config = "name: Tide Notes\nurl: https://tides.example\npermalink: /:categories/:year/:month/:day/:title.html\n"
    config += f"timezone: {timezone}\n" if timezone else ""
    post = "---\ntitle: Late Shift\ndate: 2020-01-01 20:00:00 -0500\ncategories: harbour night\ntags: pilots locks\n---\nWords.\n"
    root = write_tree(tmp_path / "old", {"_config.yml": config, "_posts/2020-01-01-late-shift.md": post})
    site = tmp_path / "new"
    assert run("jekyll", root, "--into", site).exit_code == 0
    meta, _ = read_article(site / "content" / "late-shift.md")
    assert meta["tags"] == ["pilots", "locks", "harbour", "night"]
    assert meta["aliases"] == [f"/harbour/night/2020/01/{old_day}/late-shift.html"]
    assert yaml.safe_load((site / "site.yaml").read_text())["title"] == "Tide Notes"
    build_site(site / "site.yaml")
    assert (site / "output" / "harbour" / "night" / "2020" / "01" / old_day / "late-shift.html").is_file()


def test_kramdown_math_keeps_its_tex_as_written(tmp_path: Path) -> None:
    """kramdown leaves `$$…$$` alone; ours would read `_{t}` as emphasis and `\\_` as `_`."""
    tex = r"{\mathcal{X}_{t-1}, \mathcal{X}_{t}, a*b} and x\_y"
    post = f"---\ntitle: Sums\n---\nInline $${tex}$$ here.\n\n$$\n\\sum_{{i=1}}^{{n}} x_i\n$$\n"
    root = write_tree(tmp_path / "old", {"_config.yml": "title: T\n", "_posts/2020-01-01-sums.md": post})
    site = tmp_path / "new"
    assert run("jekyll", root, "--into", site).exit_code == 0
    build_site(site / "site.yaml")
    page = next((site / "output").rglob("sums*/index.html"), None) or next((site / "output").rglob("sums.html"))
    text = page_text(page)
    assert f"$${tex}$$" in text
    assert r"$$ \sum_{i=1}^{n} x_i $$" in text


def test_collections_with_output_are_imported_and_other_underscore_folders_are_reported(tmp_path: Path) -> None:
    """A blog that keeps its posts in collections (one per language) lost them all without a
    word. Dated documents of a published collection are articles at their collection's
    addresses, undated ones pages; a collection Jekyll does not publish, or a folder that is
    no collection, is named in the report with how many documents it holds."""
    config = ("title: Two Tongues\nurl: https://tongues.example\ncollections_dir: writing\ncollections:\n"
              "  posts_en:\n    output: true\n    permalink: /:year/:month/:title/\n"
              "  guides:\n    output: true\n  notes:\n    output: false\n")
    root = write_tree(tmp_path / "old", {
        "_config.yml": config,
        "writing/_posts_en/2021-03-04-first-light.md": "---\ntitle: First Light\n---\nDawn words.\n",
        "writing/_posts_en/undated-but-dated.md": "---\ntitle: Dated Inside\ndate: 2022-05-06\n---\nWords.\n",
        "writing/_guides/setup/intro.md": "---\ntitle: Setting Up\n---\nA guide.\n",
        "writing/_notes/2020-01-01-private.md": "---\ntitle: Private\n---\nKept back.\n",
        "en/index.html": ("---\ntitle: English\n---\n{% assign pinned = site.posts_en | where: 'pinned', true %}\n"
                          "{% for post in pinned %}<a href=\"{{ post.url }}\">{{ post.title }}</a>{% endfor %}\n"),
        "_scraps/2020-02-02-scrap.md": "---\ntitle: Scrap\n---\nNever published.\n",
    })
    site = tmp_path / "new"
    result = run("jekyll", root, "--into", site)
    assert result.exit_code == 0, result.output
    meta, body = read_article(site / "content" / "first-light.md")
    assert meta["title"] == "First Light" and meta["aliases"] == ["/2021/03/first-light/"] and "Dawn words." in body
    dated, _ = read_article(site / "content" / "undated-but-dated.md")
    assert str(dated["date"]).startswith("2022-05-06") and dated["aliases"] == ["/2022/05/undated-but-dated/"]
    page, _ = read_article(site / "content" / "pages" / "intro.md")
    assert page["title"] == "Setting Up" and page["aliases"] == ["/guides/setup/intro.html"]
    assert not list((site / "content").rglob("private.md")) and not list((site / "content").rglob("scrap.md"))
    report = (site / "import-report.md").read_text()
    assert "writing/_notes/:1: 1 document(s) not imported: Jekyll publishes none of them (its collection has `output: false`)" in report
    assert "_scraps/:1: 1 document(s) not imported" in report
    assert "en/index.html:1: a listing Jekyll filled from the site's posts; not imported" in report
    assert "articles:  2" in result.output and "pages:     1" in result.output
    build_site(site / "site.yaml")
    assert (site / "output" / "2021" / "03" / "first-light" / "index.html").is_file()


def test_a_post_with_no_body_is_reported_with_the_link_its_theme_showed(tmp_path: Path) -> None:
    """A "link post" whose only content is a front matter key its theme showed came in as an
    empty article, and two of them as identical empty feed items, without a word."""
    root = write_tree(tmp_path / "old", {
        "_config.yml": "title: Links\n",
        "_posts/2025-11-08-shared.md": "---\ntitle: Shared from the wire\nxlink: https://wire.example/story\n---\n",
    })
    site = tmp_path / "new"
    assert run("jekyll", root, "--into", site).exit_code == 0
    assert ("_posts/2025-11-08-shared.md:1: no body text: imported as an empty article (its front matter holds "
            "xlink: https://wire.example/story, which the old theme may have shown); write its text or leave it out"
            ) in (site / "import-report.md").read_text()
