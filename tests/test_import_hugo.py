"""`syndicate import hugo`: a Hugo tree of our own (TOML settings, YAML and TOML front
matter, a page bundle, dated permalinks that give two posts one slug, shortcodes known and
unknown) becomes a site that builds, every old address answering.
"""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest
import yaml
from click.testing import CliRunner, Result

from syndicate.cli import main
from syndicate.importers.dialect import Notes
from syndicate.importers.hugo import convert_shortcodes, translate_permalink

from .conftest import build_site, read_article, write_tree

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 24

CONFIG = """\
baseURL = "https://lighthouse.example/"
title = "Lighthouse Log"
languageCode = "en-us"
timeZone = "UTC"

[params]
  author = "Aoife Byrne"
  description = "Weather and lamps"

[permalinks]
  posts = "/:year/:month/:slug/"
"""

WEEKLY_MARCH = """\
---
title: Weekly Notes
date: 2021-03-05T10:00:00Z
slug: weekly-notes
authors: ["Aoife Byrne", "Dara Quinn"]
categories: [Weather]
tags: [storms]
description: Gales all week.
aliases: [/old/weekly-march/]
---
Gales all week. See {{< ref "posts/lamp-care/index.md" >}} and {{< relref "weekly-april.md#rain" >}}.

{{< youtube id="dQw4w9WgXcQ" title="Lamp room tour" >}}

{{< highlight go "linenos=table" >}}
fmt.Println("beam")
{{< /highlight >}}

{{< tweet user="someone" id="1" >}}
"""

WEEKLY_APRIL = """\
+++
title = "Weekly Notes"
date = 2021-04-02
slug = "weekly-notes"
lastmod = 2021-04-09
author = "Dara Quinn & Aoife Byrne"
+++
## Rain

Rain, then [storms](/tags/storms/) and the [weather](/categories/weather/).
"""

BUNDLE = """\
---
title: Lamp Care
date: 2020-11-20
draft: false
---
![A polished lens](lens.png)

{{< figure src="lens.png" caption="The lens after cleaning" >}}
"""

ABOUT = """\
---
title: About the Log
---
Kept since 1998.
"""


@pytest.fixture
def hugo_tree(tmp_path: Path) -> Path:
    root = tmp_path / "hugo-site"
    files: dict[str, str | bytes] = {
        "hugo.toml": CONFIG,
        "content/posts/weekly-march.md": WEEKLY_MARCH,
        "content/posts/weekly-april.md": WEEKLY_APRIL,
        "content/posts/lamp-care/index.md": BUNDLE,
        "content/posts/lamp-care/lens.png": PNG,
        "content/posts/_index.md": "---\ntitle: Posts\n---\n",
        "content/about.md": ABOUT,
        "static/images/logo.png": PNG,
        "layouts/_default/single.html": "{{ .Content }}\n",
        "themes/plain/theme.toml": "name = 'plain'\n",
    }
    return write_tree(root, files)


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["import", "hugo", *map(str, args)])



def test_a_hugo_site_becomes_a_site_with_its_old_addresses(hugo_tree: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = run(hugo_tree, "--into", site)
    assert result.exit_code == 0, result.output
    assert "articles:  3 (3 created)" in result.output and "pages:     1 (1 created)" in result.output

    settings = yaml.safe_load((site / "site.yaml").read_text())
    assert settings["permalinks"] == {"article": "{year}/{month}/{slug}/"}
    assert settings["url"] == "https://lighthouse.example/" and settings["description"] == "Weather and lamps"
    assert set(settings["authors"]) == {"aoife-byrne", "dara-quinn"}  # the settings name the same Aoife Byrne

    march, march_body = read_article(site / "content/weekly-notes.md")
    assert march["author"] == ["aoife-byrne", "dara-quinn"]
    assert march["tags"] == ["storms", "Weather"] and march["summary"] == "Gales all week."
    assert "(/2020/11/lamp-care/)" not in march_body  # ref gives the bundle's old address...
    assert "/posts/lamp-care/" not in march_body
    assert "/2020/11/lamp-care/" in march_body and "/2021/04/weekly-notes/#rain" in march_body
    assert "[Lamp room tour](https://www.youtube.com/watch?v=dQw4w9WgXcQ)" in march_body
    assert "```go\nfmt.Println(\"beam\")\n```" in march_body
    assert '{{< tweet user="someone" id="1" >}}' in march_body

    april, april_body = read_article(site / "content/weekly-notes-2021-04-02.md")
    assert april["author"] == ["dara-quinn", "aoife-byrne"] and str(april["updated"]) == "2021-04-09"
    assert "[weather](/tags/weather/)" in april_body

    bundle, bundle_body = read_article(site / "content/posts/lamp-care/lamp-care.md")
    assert "![A polished lens](lens.png)" in bundle_body
    assert "![The lens after cleaning](lens.png)\n\n*The lens after cleaning*" in bundle_body
    assert (site / "content/posts/lamp-care/lens.png").read_bytes() == PNG
    assert (site / "content/images/logo.png").read_bytes() == PNG

    report = (site / "import-report.md").read_text()
    assert "content/posts/weekly-april.md:1: slug 'weekly-notes' is also content/posts/weekly-march.md's; imported as " \
           "'weekly-notes-2021-04-02' (its old address is kept as a redirect)" in report
    assert "content/posts/weekly-march.md:19: Hugo shortcode '{{< tweet user=\"someone\" id=\"1\" >}}' kept as written" in report
    assert "content/posts/_index.md:1: a section's list page; not imported" in report

    build_site(site / "site.yaml")
    out = site / "output"
    assert "Gales all week." in (out / "2021/03/weekly-notes/index.html").read_text()
    april_old = (out / "2021/04/weekly-notes/index.html").read_text()
    assert 'http-equiv="refresh"' in april_old and "weekly-notes-2021-04-02" in april_old
    assert (out / "2021/04/weekly-notes-2021-04-02/index.html").is_file()
    assert 'http-equiv="refresh"' in (out / "old/weekly-march/index.html").read_text()
    assert (out / "2020/11/lamp-care/index.html").is_file()
    assert (out / "posts/lamp-care/lens.png").read_bytes() == PNG
    assert 'http-equiv="refresh"' in (out / "about/index.html").read_text()  # the page's old address


def test_page_bundle_images_resolve_in_the_built_article(hugo_tree: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run(hugo_tree, "--into", site).exit_code == 0
    build_site(site / "site.yaml")
    page = (site / "output/2020/11/lamp-care/index.html").read_text()
    assert 'src="../../../posts/lamp-care/lens.png"' in page


@pytest.mark.parametrize(("pattern", "ours"), [
    ("/:year/:month/:slug/", "{year}/{month}/{slug}/"),
    ("/:section/:filename/", "posts/{slug}/"),
    ("", "posts/{slug}/"),
    ("/:year/:monthname/:title/", None),
], ids=["dated", "section", "default", "month-name"])
def test_hugo_permalinks_translate(pattern: str, ours: str | None) -> None:
    assert translate_permalink(pattern, "posts") == ours


def test_commented_shortcodes_stay_literal_and_paired_unknowns_are_reported_once() -> None:
    notes = Notes("post.md")
    body = "Write {{</* figure src=\"x\" */>}} like this.\n{{% notice %}}\nCareful.\n{{% /notice %}}\n{{< rawhtml >}}<b>ok</b>{{< /rawhtml >}}"
    out = convert_shortcodes(body, 3, {}, notes)
    assert out.startswith('Write {{< figure src="x" >}} like this.\n{{% notice %}}')
    assert out.endswith("<b>ok</b>")
    assert [(p.line, p.message.split("'")[1]) for p in notes.items] == [(4, "{{% notice %}}")]


def test_module_mounts_and_a_language_content_dir_name_the_content(tmp_path: Path) -> None:
    """Hugo reads content from where `[[module.mounts]]` (or the default language's
    `contentDir`) says, and the files keep the addresses they have under the mount's target."""
    mounted = write_tree(tmp_path / "mounted", {
        "hugo.toml": CONFIG + '\ndefaultContentLanguage = "en"\n[module]\n'
                     '  [[module.mounts]]\n    source = "content/en"\n    target = "content"\n'
                     '    [module.mounts.sites.matrix]\n      languages = ["en"]\n'
                     '  [[module.mounts]]\n    source = "content/fr"\n    target = "content"\n    lang = "fr"\n'
                     '  [[module.mounts]]\n    source = "assets/pictures"\n    target = "static/pictures"\n',
        "content/en/posts/storm-lamp.md": "---\ntitle: Storm Lamp\ndate: 2022-01-09\n---\nTrim the wick. See [care]({{< ref \"posts/lamp-care.md\" >}}).\n",
        "content/en/posts/lamp-care.md": "---\ntitle: Lamp Care\ndate: 2022-01-08\n---\nPolish the lens.\n",
        "content/fr/posts/lampe.md": "---\ntitle: Lampe\ndate: 2022-01-10\n---\nEn français.\n",
        "assets/pictures/beam.png": PNG,
    })
    site = tmp_path / "site"
    result = run(mounted, "--into", site)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (site / "content").glob("*.md")) == ["lamp-care.md", "storm-lamp.md"]
    matter, body = read_article(site / "content/storm-lamp.md")
    assert "aliases" not in matter  # the old address is the new one: {year}/{month}/{slug}/
    assert "[care](/2022/01/lamp-care/)" in body  # the ref found its article by its path under the mount
    assert (site / "content/pictures/beam.png").read_bytes() == PNG  # static/pictures by its mount
    build_site(site / "site.yaml")
    assert (site / "output/2022/01/storm-lamp/index.html").is_file()

    by_language = tmp_path / "by-language"
    (by_language / "content/english/posts").mkdir(parents=True)
    (by_language / "hugo.toml").write_text(CONFIG + '\ndefaultContentLanguage = "en"\n'
                                           '[languages.en]\n  contentDir = "content/english"\n')
    (by_language / "content/english/posts/fog.md").write_text("---\ntitle: Fog\ndate: 2022-02-01\n---\nSound the horn.\n")
    result = run(by_language, "--into", tmp_path / "site2")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site2/content/fog.md").is_file()


def test_an_undated_page_outside_the_posts_section_is_a_page_with_its_old_address(tmp_path: Path) -> None:
    """`content/about/index.md` (a page bundle) and `content/talks.md` are pages of the site, not
    posts of today; the bundle's image stays beside its page and the old /about/ still answers."""
    root = write_tree(tmp_path / "old", {
        "hugo.toml": 'baseURL = "https://harbour.example/"\ntitle = "Harbour"\n',
        "content/post/2019-05-01-tides.md": "---\ntitle: Tides\ndate: 2019-05-01\n---\nLow water at noon.\n",
        "content/post/2019-06-01-locks.md": "---\ntitle: Locks\ndate: 2019-06-01\n---\nThe gate opens.\n",
        "content/about/index.md": "---\ntitle: About\n---\nA harbour log.\n\n![The quay](quay.png)\n",
        "content/about/quay.png": b"\x89PNG\r\n\x1a\n",
        "content/talks.md": "---\ntitle: Talks\n---\nSpoken at the yacht club.\n",
    })
    site = tmp_path / "new"
    result = run(root, "--into", site)
    assert result.exit_code == 0, result.output
    assert "  articles:  2 (2 created)" in result.output and "  pages:     2 (2 created)" in result.output
    report_text = (site / "import-report.md").read_text()
    assert "used 20" not in report_text  # no page was given today's date as a post
    assert "site.yaml:1: the header menu lists every page (2 imported)" in report_text
    meta, _ = read_article(site / "content/pages/about/about.md")
    assert meta["aliases"] == ["/about/"]
    assert (site / "content/pages/about/quay.png").is_file()
    report = build_site(site / "site.yaml")
    assert not [w for w in report.warnings if "broken" in str(w)], report.warnings
    assert report.articles == 2 and report.pages == 2
    assert (site / "output/about/index.html").is_file()  # the old address redirects to the page


def test_markdown_after_a_blank_line_inside_an_html_block_is_read_as_hugo_reads_it(tmp_path: Path) -> None:
    """CommonMark ends an HTML block at a blank line: Hugo renders the Markdown that follows
    inside a <div>; the imported article must show it rendered too, not as typed."""
    post = ("---\ntitle: Notes\ndate: 2020-02-02\n---\nIntro.\n\n<div class=\"note\">\n<div class=\"inner\">\n\n"
            "## Tide Table\n\nKeep [left](https://harbour.example/rules) of the **buoy**.\n\n</div>\n</div>\n\n"
            "<div>\n<p>Plain HTML stays.</p>\n</div>\n\n```html\n<div>\n\n# not a heading\n\n</div>\n```\n")
    root = write_tree(tmp_path / "old", {"hugo.toml": 'baseURL = "https://harbour.example/"\ntitle = "H"\n',
                                         "content/post/2020-02-02-notes.md": post})
    site = tmp_path / "new"
    assert run(root, "--into", site).exit_code == 0
    build_site(site / "site.yaml")
    page = lxml.html.fromstring((site / "output/post/2020-02-02-notes/index.html").read_bytes())
    body = page.find(".//article") if page.find(".//article") is not None else page
    note = body.find(".//div[@class='inner']")
    assert note is not None and note.findtext("h2") == "Tide Table"
    assert [a.get("href") for a in note.iter("a")] == ["https://harbour.example/rules"]
    assert note.find(".//strong").text == "buoy"
    text = body.text_content()
    assert "##" not in text.split("not a heading")[0] and "**" not in text
    assert "Plain HTML stays." in text
    code = body.find(".//pre/code")
    assert code is not None and "# not a heading" in code.text_content()  # fenced code is left alone


def test_ref_finds_pages_as_hugo_does_with_anchors_any_case_and_term_pages(tmp_path: Path) -> None:
    """`ref "page/#section"`, a page named in other letter case than its folder, and the tag
    or category pages: a real blog kept 532 of its 558 `ref` shortcodes as written."""
    post = "---\ntitle: {title}\ndate: 2024-0{n}-01\n---\n{body}\n"
    root = write_tree(tmp_path / "old", {
        "hugo.toml": 'title = "Notes"\nbaseURL = "https://notes.example/"\n',
        "content/posts/11-S3/index.md": post.format(title="Storage", n=1, body="## Glacier\n\nCold."),
        "content/posts/links.md": post.format(title="Links", n=2, body=(
            '[cold]({{< ref "11-s3/#glacier" >}}), [also]({{< ref "posts/11-S3#glacier" >}}), '
            '[tag]({{< ref "tags/S3" >}}), [all]({{< ref "categories" >}})')),
    })
    site = tmp_path / "new"
    result = CliRunner().invoke(main, ["import", "hugo", str(root), "--into", str(site)])
    assert result.exit_code == 0, result.output
    _, body = read_article(next((site / "content").rglob("links.md")))
    assert body.strip() == "[cold](/posts/11-s3/#glacier), [also](/posts/11-s3/#glacier), [tag](/tags/s3/), [all](/tags/)"
    assert "shortcode" not in (site / "import-report.md").read_text()


def test_bundle_folders_come_in_lower_case_as_hugo_published_them(tmp_path: Path) -> None:
    """Hugo lowers every path it publishes: a bundle in `AWS/` was at `/posts/aws/...`, its
    images too. Kept in capitals, the bundle's files and its old addresses made two folders
    that differ only in case (63 warnings on a real blog) and the old image addresses died."""
    post = "---\ntitle: Storage\ndate: 2024-01-01\n---\n![diagram](assets/Diagram.png)\n"
    root = write_tree(tmp_path / "old", {
        "hugo.toml": 'title = "Notes"\nbaseURL = "https://notes.example/"\n',
        "content/posts/AWS/_index.md": "---\ntitle: AWS\n---\n", "content/posts/AWS/thumb.png": PNG,
        "content/posts/AWS/11-S3/index.md": post, "content/posts/AWS/11-S3/assets/Diagram.png": PNG,
    })
    site = tmp_path / "new"
    assert CliRunner().invoke(main, ["import", "hugo", str(root), "--into", str(site)]).exit_code == 0
    assert (site / "content/posts/aws/11-s3/assets/Diagram.png").is_file() and (site / "content/posts/aws/thumb.png").is_file()
    assert not (site / "content/posts/AWS").exists()
    report = build_site(site / "site.yaml")
    assert not [w for w in report.warnings if "letter case" in str(w)]
    assert (site / "output/posts/aws/11-s3/assets/Diagram.png").is_file()
    page = lxml.html.fromstring((site / "output/articles/11-s3/index.html").read_bytes())
    assert [img.get("src") for img in page.iter("img")] == ["../../posts/aws/11-s3/assets/Diagram.png"]


@pytest.mark.parametrize("layout", ["folder", "table"])
def test_the_default_languages_title_and_author_are_the_sites(tmp_path: Path, layout: str) -> None:
    """Hugo shows the default language's `title` and `params` (config/_default/languages.en.toml
    or `[languages.en]`): the site came in as "Site Old" by Unknown Author."""
    language = 'title = "robk.uk"\n[params.author]\nname = "RobK"\n'
    files: dict[str, str | bytes] = {"content/posts/one.md": "---\ntitle: One\ndate: 2024-01-01\n---\nWords.\n"}
    if layout == "folder":
        files |= {"config/_default/hugo.toml": 'baseURL = "https://robk.example/"\ntitle = "Generic"\n',
                  "config/_default/languages.en.toml": 'languageCode = "en"\n' + language}
    else:
        files |= {"hugo.toml": 'baseURL = "https://robk.example/"\ntitle = "Generic"\n[languages.en]\n'
                               + language.replace("[params.author]", "[languages.en.params.author]")}
    root = write_tree(tmp_path / "old", files)
    site = tmp_path / "new"
    assert CliRunner().invoke(main, ["import", "hugo", str(root), "--into", str(site)]).exit_code == 0
    settings = yaml.safe_load((site / "site.yaml").read_text())
    assert settings["title"] == "robk.uk" and [a["name"] for a in settings["authors"].values()] == ["RobK"]
    meta, _ = read_article(next((site / "content").rglob("one.md")))
    assert meta["author"] == next(iter(settings["authors"]))


def test_a_declared_taxonomy_is_tags_and_refs_to_its_terms_lead_to_them(tmp_path: Path) -> None:
    """A theme's own taxonomy (`series`) groups posts as tags do: its terms come in as tags,
    and `ref "series/…"` leads to the tag's page (a real blog had 277 such refs)."""
    post = "---\ntitle: {title}\ndate: 2024-0{n}-01\nseries: [Cloud Basics]\ntags: [aws]\n---\n{body}\n"
    root = write_tree(tmp_path / "old", {
        "hugo.toml": ('title = "Notes"\nbaseURL = "https://notes.example/"\n'
                      '[taxonomies]\ntag = "tags"\ncategory = "categories"\nseries = "series"\n'),
        "content/posts/one.md": post.format(title="One", n=1, body='Part of [the series]({{< ref "series/cloud-basics" >}}).'),
    })
    site = tmp_path / "new"
    assert CliRunner().invoke(main, ["import", "hugo", str(root), "--into", str(site)]).exit_code == 0
    meta, body = read_article(next((site / "content").rglob("one.md")))
    assert meta["tags"] == ["aws", "Cloud Basics"] and body.strip() == "Part of [the series](/tags/cloud-basics/)."
    report = build_site(site / "site.yaml")
    assert not [w for w in report.warnings if "broken" in str(w)]


def test_folders_with_spaces_and_symbols_have_the_addresses_hugo_gave_them(tmp_path: Path) -> None:
    """Hugo publishes `Terraform on AWS with SRE & IaC/` as `terraform-on-aws-with-sre-iac/`:
    the old addresses (and the bundle's folder) follow, where they kept spaces and '&' and
    were left out of `_redirects`."""
    from syndicate.importers.hugo import sanitize_path

    assert sanitize_path("posts/Terraform on AWS with SRE & IaC/02-basics") == "posts/Terraform-on-AWS-with-SRE-IaC/02-basics"
    root = write_tree(tmp_path / "old", {
        "hugo.toml": 'title = "Notes"\nbaseURL = "https://notes.example/"\n',
        "content/posts/Terraform on AWS with SRE & IaC/02-basics/index.md": "---\ntitle: Basics\ndate: 2024-01-01\n---\n![m](m.png)\n",
        "content/posts/Terraform on AWS with SRE & IaC/02-basics/m.png": PNG,
    })
    site = tmp_path / "new"
    assert CliRunner().invoke(main, ["import", "hugo", str(root), "--into", str(site)]).exit_code == 0
    [path] = (site / "content").rglob("*.md")
    meta, _ = read_article(path)
    assert meta["aliases"] == ["/posts/terraform-on-aws-with-sre-iac/02-basics/"]
    assert (site / "content/posts/terraform-on-aws-with-sre-iac/02-basics/m.png").is_file()
    build_site(site / "site.yaml")
    assert "/posts/terraform-on-aws-with-sre-iac/02-basics/ /articles/02-basics/ 301" in (site / "output/_redirects").read_text()
