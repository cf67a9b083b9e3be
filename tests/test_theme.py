"""Templates: read once, only from inside the site's templates/ (or the theme), never through a symlink out."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicate.errors import SiteError

from .conftest import article, build_site, tree

GOOD = {"content/a.md": article("A", body="Words.")}


def test_a_template_symlinked_out_of_the_site_is_an_error_never_published(write_site: Callable[..., Path], tmp_path: Path) -> None:
    secret = tmp_path / "ci-secrets.env"
    secret.write_text("TOKEN=do-not-publish-4e1f\n")
    site = write_site(GOOD)
    templates = site.parent / "templates"
    templates.mkdir()
    os.symlink(secret, templates / "style.css")
    os.symlink(secret, templates / "page.html")
    with pytest.raises(SiteError) as caught:
        build_site(site)
    assert sorted(str(p) for p in caught.value.problems) == [
        "templates/page.html:1: symlink points outside the templates folder; copy the file in instead",
        "templates/style.css:1: symlink points outside the templates folder; copy the file in instead",
    ]
    assert not (site.parent / "output").exists()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="no /proc on this system")
def test_proc_self_environ_is_never_read_as_a_stylesheet(write_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_TEST_SECRET", "s3cr3t-value-91")
    site = write_site(GOOD)
    (site.parent / "templates").mkdir()
    os.symlink("/proc/self/environ", site.parent / "templates/style.css")
    with pytest.raises(SiteError):
        build_site(site)
    os.remove(site.parent / "templates/style.css")
    build_site(site)
    assert not any(b"s3cr3t-value-91" in data for data in tree(site.parent / "output").values())


def test_symlinks_inside_templates_and_subfolders_still_work(write_site: Callable[..., Path]) -> None:
    site = write_site({**GOOD, "templates/parts/note.html": "<p>shared note</p>\n",
                       "templates/404.html": "{% include 'parts/alias.html' %}\n"})
    os.symlink("note.html", site.parent / "templates/parts/alias.html")
    build_site(site)
    assert "shared note" in (site.parent / "output/404.html").read_text()


def test_a_template_that_is_a_pipe_or_a_linked_folder_is_an_error(write_site: Callable[..., Path], tmp_path: Path) -> None:
    site = write_site(GOOD)
    templates = site.parent / "templates"
    templates.mkdir()
    os.mkfifo(templates / "snippet.css")
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", templates / "partials")
    with pytest.raises(SiteError) as caught:
        build_site(site)
    assert sorted(str(p) for p in caught.value.problems) == [
        "templates/partials:1: symlinked folders are not followed; use a real folder",
        "templates/snippet.css:1: not a regular file (a pipe, socket or device); remove it",
    ]


@pytest.mark.parametrize(("template", "source", "message"), [
    ("tags.html", '{% extends "base.html" %}{% block content %}\n{{ 1/0 }}{% endblock %}\n',
     "templates/tags.html:2: template error: division by zero"),
    ("footer.html", '<footer>{{ year + "x" }}</footer>\n',
     "templates/footer.html:1: template error: unsupported operand type(s) for +: 'int' and 'str'"),
    ("footer.html", '<footer>{{ year|date("%Y") }}</footer>\n',
     "templates/footer.html:1: template error: the date filter needs a date, not int"),
    ("article.html", '{% extends "base.html" %}{% block content %}\n\n{{ article.date|date("%Q %d") }}{% endblock %}\n',
     "templates/article.html:3: template error: the date filter's format has an unknown directive '%Q' "
     "(known: %d %-d %m %-m %y %Y %B %b %A %a %H %M %%)"),
])
def test_an_expression_that_fails_as_the_template_runs_is_one_line_at_its_place(
        write_site: Callable[..., Path], template: str, source: str, message: str) -> None:
    """A template's own expression failing (`{{ 1/0 }}`) printed forty lines of Python traceback;
    it is one `path:line: message` line, and the output is left as it was."""
    site = write_site(GOOD)
    build_site(site)
    before = tree(site.parent / "output")
    (site.parent / "templates").mkdir()
    (site.parent / "templates" / template).write_text(source)
    with pytest.raises(SiteError) as failed:
        build_site(site)
    assert [str(p) for p in failed.value.problems] == [message]
    assert tree(site.parent / "output") == before
