"""`syndicate import pelican`: a Pelican tree of our own (settings read without running
them, Markdown metadata, a reStructuredText article with a footnote, Pelican's link syntax,
a hidden draft) becomes a site that builds, the old addresses kept.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from syndicate.cli import main
from syndicate.importers.pelican import pelican_slug, translate_url

from .conftest import build_site, read_article, write_tree

PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 24

CONF = """\
AUTHOR = 'Noor Haddad'
SITENAME = 'Orchard Diary'
SITEURL = ''
PATH = 'content'
TIMEZONE = 'Europe/Paris'
DEFAULT_LANG = 'en'
ARTICLE_URL = 'posts/{date:%Y}/{slug}/'
ARTICLE_SAVE_AS = ARTICLE_URL + 'index.html'
STATIC_PATHS = ['images', 'extra']
import os  # a settings file is Python: this line must never run
"""

PUBLISH = "from pelicanconf import *\nSITEURL = 'https://orchard.example'\n"

PRUNING = """\
Title: Pruning Old Apple Trees
Date: 2018-02-10 09:00
Category: Trees
Tags: pruning, winter
Authors: Noor Haddad, Sami Haddad
Summary: Cut in late winter, before the buds.

Cut in late winter. See [the grafting notes]({filename}/grafting.rst) and
the [diagram]({static}/images/cuts.png), filed under [trees]({tag}pruning).

![Where to cut]({static}/images/cuts.png)
"""

GRAFTING = """\
Grafting Season
###############

:date: 2018-04-01
:tags: grafting
:slug: grafting-season

Whip grafts take best in spring [#]_.

.. code-block:: python

    graft = "whip"

.. [#] When the sap is rising.
"""

HIDDEN = """\
Title: Frost Plans
Date: 2018-11-01
Status: draft

Not yet.
"""

ABOUT = """\
Title: About the Orchard

Twelve trees and a shed.
"""


@pytest.fixture
def pelican_tree(tmp_path: Path) -> Path:
    root = tmp_path / "pelican"
    files: dict[str, str | bytes] = {
        "pelicanconf.py": CONF, "publishconf.py": PUBLISH,
        "content/trees/pruning.md": PRUNING, "content/grafting.rst": GRAFTING, "content/frost.md": HIDDEN,
        "content/pages/about.md": ABOUT, "content/images/cuts.png": PNG,
    }
    return write_tree(root, files)


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["import", "pelican", *map(str, args)])



def test_a_pelican_site_becomes_a_site_with_its_old_addresses(pelican_tree: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = run(pelican_tree, "--into", site)
    assert result.exit_code == 0, result.output
    assert "articles:  3 (3 created)" in result.output and "pages:     1 (1 created)" in result.output
    settings = yaml.safe_load((site / "site.yaml").read_text())
    assert settings["url"] == "https://orchard.example/" and settings["timezone"] == "Europe/Paris"
    assert settings["permalinks"] == {"article": "posts/{year}/{slug}/"}

    pruning, body = read_article(site / "content/pruning-old-apple-trees.md")
    assert pruning["author"] == ["noor-haddad", "sami-haddad"]
    assert pruning["tags"] == ["pruning", "winter", "Trees"]
    assert pruning["summary"] == "Cut in late winter, before the buds."
    assert "[the grafting notes](/posts/2018/grafting-season/)" in body
    assert "[diagram](/images/cuts.png)" in body and "[trees](/tags/pruning/)" in body

    grafting, grafting_body = read_article(site / "content/grafting-season.md")
    assert grafting["author"] == "noor-haddad"
    assert "Whip grafts take best in spring [^1]." in grafting_body
    assert "[^1]: When the sap is rising." in grafting_body
    assert 'graft = "whip"' in grafting_body and "```" in grafting_body
    assert read_article(site / "content/frost-plans.md")[0]["draft"] is True

    build_site(site / "site.yaml")
    out = site / "output"
    assert "Cut in late winter." in (out / "posts/2018/pruning-old-apple-trees/index.html").read_text()
    assert (out / "posts/2018/grafting-season/index.html").is_file()
    assert 'http-equiv="refresh"' in (out / "pages/about-the-orchard.html").read_text()
    assert (out / "images/cuts.png").read_bytes() == PNG


def test_the_settings_file_is_read_not_run(pelican_tree: Path, tmp_path: Path) -> None:
    (pelican_tree / "pelicanconf.py").write_text(CONF + "open('/tmp/should-not-exist-pelican', 'w')\n")
    assert run(pelican_tree, "--into", tmp_path / "site").exit_code == 0
    assert not Path("/tmp/should-not-exist-pelican").exists()


@pytest.mark.parametrize(("title", "slug"), [
    ("Pruning Old Apple Trees", "pruning-old-apple-trees"),
    ("Café: Ça Va?", "cafe-ca-va"),
    ("  Spaces -- and dashes ", "spaces-and-dashes"),
], ids=["plain", "accents", "dashes"])
def test_slugs_follow_pelican(title: str, slug: str) -> None:
    assert pelican_slug(title) == slug


def test_article_url_translates_when_ours_can_say_it() -> None:
    assert translate_url("{date:%Y}/{date:%m}/{date:%d}/{slug}/") == "{year}/{month}/{day}/{slug}/"
    assert translate_url("{slug}.html") == "{slug}.html"
    assert translate_url("{category}/{slug}.html") is None


def test_restructuredtext_messages_are_reported_not_published() -> None:
    """docutils writes each warning into the page too (an <aside> in its HTML5 writer): the
    import reports it and the article carries none; a raw HTML embed becomes a link."""
    from syndicate.importers.dialect import Notes
    from syndicate.importers.pelican import rst_to_markdown

    source = ("Watch:\n\n.. raw:: html\n\n    <iframe src=\"https://video.example/embed/1\"></iframe>\n\n"
              ".. unknowndirective:: x\n\nAfter.\n")
    notes = Notes("talk.rst")
    body = rst_to_markdown(source, 10, notes)
    assert "System Message" not in body and "unknowndirective" not in body
    assert "[https://video.example/embed/1](https://video.example/embed/1)" in body
    assert body.startswith("Watch:") and body.rstrip().endswith("After.")
    messages = [str(item) for item in notes.items]
    assert any("unknowndirective" in m and m.startswith("talk.rst:16:") for m in messages), messages
    assert any("<iframe> became a link" in m for m in messages), messages


def test_code_blocks_with_pelicans_highlighting_options_keep_their_code_and_language() -> None:
    """Pelican's `code-block` takes Pygments options (`:hl_lines:`, `:linenos:`) that docutils'
    own refuses, dropping the block: a real post lost five of its six code blocks."""
    from syndicate.importers.dialect import Notes
    from syndicate.importers.pelican import rst_to_markdown

    source = ("Enable it:\n\n.. code-block:: python\n    :hl_lines: 1 2\n    :linenos: table\n\n"
              "    settings = load()\n    settings.update(cache=True)\n\n.. sourcecode:: ini\n\n    [app]\n    debug = no\n\nDone.\n")
    notes = Notes("cliquet.rst")
    body = rst_to_markdown(source, 1, notes)
    assert body.rstrip("\n") == ("Enable it:\n\n```python\nsettings = load()\nsettings.update(cache=True)\n```\n\n"
                                "```ini\n[app]\ndebug = no\n```\n\nDone.")
    assert notes.items == []


@pytest.mark.parametrize("plugins", ["[]", "['pelican.plugins.yaml_metadata']"])
def test_metadata_between_dashes_is_read_as_pelican_reads_it(tmp_path: Path, plugins: str) -> None:
    """Pelican reads Markdown metadata as `Key: value` lines, between `---` lines too: a `#`
    in a title is part of it, and HTML in a value is text. Only a YAML metadata plugin makes
    it YAML (where `#` starts a comment)."""
    html = "constraints: <ul> <li>Theme: fir.</li> </ul>\n" if plugins == "[]" else ""  # not YAML
    post = f"---\ntitle: Realtime sync #1\ndate: 2023-11-11\n{html}tags: sync, maps\n---\nThe first part.\n"
    root = write_tree(tmp_path / "old", {"pelicanconf.py": f"SITENAME = 'Notes'\nPLUGINS = {plugins}\n",
                                         "content/sync-1.md": post})
    site = tmp_path / "new"
    result = run(root, "--into", site)
    assert result.exit_code == 0, result.output
    [path] = (site / "content").glob("*.md")
    meta, body = read_article(path)
    if plugins == "[]":
        assert meta["title"] == "Realtime sync #1" and meta["tags"] == ["sync", "maps"]
    else:
        assert meta["title"] == "Realtime sync"  # as the YAML plugin showed it
    assert body.strip() == "The first part."


def test_own_addresses_continued_fields_and_titles_written_as_the_first_heading(tmp_path: Path) -> None:
    """`save_as` and `url` are where Pelican wrote a document (its old address); a
    reStructuredText field goes on over indented lines; a Markdown file whose title is its
    first heading (read by a plugin of the site) comes in with that title, and says so."""
    rst = ("Release day\n###########\n\n:date: 2015-06-01\n:summary: We tagged the server\n    and the client today.\n"
           ":lang: fr\n\nThe body.\n")
    root = write_tree(tmp_path / "old", {
        "pelicanconf.py": "SITENAME = 'Notes'\nPLUGINS = ['simplereader']\n",
        "content/release.rst": rst,
        "content/pages/keys.md": "Title: Keys\nsave_as: keys/index.html\n\nMy keys.\n",
        "content/pages/cv.md": "Title: CV\nurl: resume/\nsave_as: resume/index.html\n\nWork.\n",
        "content/2020-01-14-weather.md": "Date: 2020-01-14\n\n# Cold weather\n\nIt snowed.\n",
    })
    site = tmp_path / "new"
    result = run(root, "--into", site)
    assert result.exit_code == 0, result.output
    release, body = read_article(site / "content" / "release-day.md")
    assert release["summary"] == "We tagged the server and the client today." and body.strip() == "The body."
    assert read_article(site / "content" / "pages" / "keys.md")[0]["aliases"] == ["/keys/"]
    assert read_article(site / "content" / "pages" / "cv.md")[0]["aliases"] == ["/resume/"]
    weather, text = read_article(site / "content" / "cold-weather.md")
    assert weather["title"] == "Cold weather" and text.strip() == "It snowed."
    assert "the title is the first heading, which the site's plugins read" in (site / "import-report.md").read_text()
