"""The bad-input matrix: one exact line per problem, exit 1, and the previous output untouched."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate.cli import main

from .conftest import BASIC_SITE, article

GOOD = {"content/good.md": article("Good", body="Fine words.")}


def billion_laughs(key: str = "laughs") -> str:
    """About 550 bytes of YAML whose aliases expand to 9**10 (3.5 billion) values."""
    lines = [f"{key}:", "  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    return "nest: " + "[" * depth + "]" * depth + "\n"

CASES: list[tuple[str, dict[str, str | bytes], str, list[str]]] = [
    ("unknown_author", {"content/a.md": article(author="jane-do")}, BASIC_SITE,
     ["content/a.md:4: unknown author 'jane-do' (known: ann)"]),
    ("missing_title", {"content/a.md": "---\ndate: 2024-01-01\nauthor: ann\n---\nx\n"}, BASIC_SITE,
     ["content/a.md:2: missing required key 'title'"]),
    ("missing_date_and_author", {"content/a.md": "---\ntitle: T\n---\nx\n"}, BASIC_SITE,
     ["content/a.md:2: missing required key 'author'", "content/a.md:2: missing required key 'date' (like 2024-05-01)"]),
    ("bad_date", {"content/a.md": article(date="2024-13-45")}, BASIC_SITE,
     ["content/a.md:3: invalid value '2024-13-45': month must be in 1..12"]),
    ("bad_date_text", {"content/a.md": article(date="next tuesday")}, BASIC_SITE,
     ["content/a.md:3: 'date' is not a valid date: 'next tuesday' (use YYYY-MM-DD or ISO 8601)"]),
    ("wrong_types", {"content/a.md": article(tags="{a: b}", draft="maybe", original="just-a-string")}, BASIC_SITE,
     ["content/a.md:5: 'tags' must be a list of text, like [one, two]",
      "content/a.md:6: 'draft' must be true or false, not 'maybe'",
      "content/a.md:7: 'original' must be a mapping of keys to values"]),
    ("yaml_syntax_error", {"content/a.md": "---\ntitle: \"unclosed\ndate: 2024-01-01\n---\nx\n"}, BASIC_SITE,
     ["content/a.md:2: invalid YAML: a quoted value is never closed; add the closing quote"]),  # where it opens
    ("yaml_not_mapping", {"content/a.md": "---\n- just\n- a list\n---\nx\n"}, BASIC_SITE,
     ["content/a.md:2: expected a mapping of keys to values"]),
    ("duplicate_key", {"content/a.md": article(title="One") .replace("date:", "title: Two\ndate:")}, BASIC_SITE,
     ["content/a.md:3: duplicate key 'title' (first at line 2)"]),
    ("front_matter_not_closed", {"content/a.md": "---\ntitle: T\ndate: 2024-01-01\nauthor: ann\nbody text\n"}, BASIC_SITE,
     ["content/a.md:1: front matter is not closed: add a line '---' after it"]),
    ("no_front_matter", {"content/a.md": "# Just a heading\n\nText.\n"}, BASIC_SITE,
     ["content/a.md:1: no front matter: the file must start with a line '---', then title, date and author"]),
    ("empty_file", {"content/a.md": ""}, BASIC_SITE,
     ["content/a.md:1: empty file: an article starts with front matter between '---' lines"]),
    ("non_utf8", {"content/a.md": b"---\ntitle: caf\xe9\ndate: 2024-01-01\nauthor: ann\n---\n"}, BASIC_SITE,
     ["content/a.md:2: not valid UTF-8 (byte 14); save the file as UTF-8"]),
    ("duplicate_slug", {"content/a.md": article(slug="same"), "content/sub/b.md": article(slug="same")}, BASIC_SITE,
     ["content/sub/b.md:1: duplicate slug 'same': also used by content/a.md"]),
    ("slug_leaves_output", {"content/a.md": article(slug='"../../etc"')}, BASIC_SITE,
     ["content/a.md:5: slug '../../etc' must be letters, digits, '-', '_' or '.', with no '/' or '..'"]),
    ("huge_file", {"content/a.md": article(body="word " * 600)}, BASIC_SITE + "max_article_bytes: 1000\n",
     ["content/a.md:1: file is 3,055 bytes, over the limit of 1,000 (raise max_article_bytes in site.yaml if this is intended)"]),
    ("output_clash", {"content/good.md": article(slug="x"), "content/articles/x/index.html": "<p>clash</p>"}, BASIC_SITE,
     ["content/articles/x/index.html:1: output 'articles/x/index.html' is also written by content/good.md; rename one of them"]),
    ("missing_image", {"content/a.md": article(image="pics/none.png")}, BASIC_SITE,
     ["content/a.md:5: image 'pics/none.png' not found under content/"]),
    ("original_without_url", {"content/a.md": article(original="{site: Elsewhere}")}, BASIC_SITE,
     ["content/a.md:5: missing required key 'original.url'"]),
    ("statement_javascript", GOOD, BASIC_SITE.replace("Visit www.example.com/ann for more.", "[Click](javascript:alert(1))"),
     ["site.yaml:7: 'javascript:' links are not allowed in a statement; use http, https or mailto"]),
    ("statement_data_link", GOOD, BASIC_SITE.replace("Visit www.example.com/ann for more.", "[x](data:text/html,hi)"),
     ["site.yaml:7: link 'data:text/html,hi' in the statement must be an absolute http, https or mailto URL"]),
    ("statement_bare_ftp_url", GOOD, BASIC_SITE.replace("Visit www.example.com/ann for more.", "Files at ftp://files.example.org/pub."),
     ["site.yaml:7: 'ftp://files.example.org/pub' in the statement is not a link copies can carry; use an http or https URL"]),
    ("statement_html_link", GOOD, BASIC_SITE.replace("Visit www.example.com/ann for more.", "See <a href='https://ann.example'>my site</a>."),
     ["site.yaml:7: an HTML link ('<a href='https://ann.example'>') in the statement would be shown as text; write it as "
      "[text](https://...) or as a bare URL"]),
    ("reprint_without_statement", GOOD, BASIC_SITE.replace('      statement: "Copyright, Ann Example. Visit www.example.com/ann for more."', '      preamble: "Free to reprint."'),
     ["site.yaml:6: missing required key 'authors.ann.reprint.statement'"]),
    ("site_missing_keys", GOOD, "description: nothing else\n",
     ["site.yaml:1: missing required key 'authors' (every article names one)", "site.yaml:1: missing required key 'title'",
      "site.yaml:1: missing required key 'url'"]),
    ("site_bad_url_and_zone", GOOD, BASIC_SITE.replace("https://scratch.example.org/", "scratch.example.org") + "timezone: Mars/Olympus\n",
     ["site.yaml:2: 'url' must be an absolute http(s) URL, not 'scratch.example.org'",
      "site.yaml:8: unknown time zone 'Mars/Olympus' (use a name like Europe/London or UTC)"]),
    ("site_yaml_syntax_error", GOOD, "title: [unclosed\nurl: https://x.example.org/\n",
     ["site.yaml:2: invalid YAML: did not find expected ',' or ']'"]),
    ("template_syntax_error", {**GOOD, "templates/page.html": "{% if %}\n"}, BASIC_SITE,
     ["templates/page.html:1: template syntax error: Expected an expression, got 'end of statement block'"]),
    ("template_undefined_name", {**GOOD, "templates/page.html": "{% extends 'base.html' %}\n{% block content %}\n{{ page.nope }}\n{% endblock %}\n",
                                 "content/pages/about.md": "---\ntitle: About\n---\nHi.\n"}, BASIC_SITE,
     ["templates/page.html:3: template error: 'page.nope' is undefined (a Page has no attribute 'nope')"]),
    ("permalink_unknown_placeholder", GOOD, BASIC_SITE + "permalinks:\n  article: \"{category}/{slug}/\"\n",
     ["site.yaml:9: permalink pattern '{category}/{slug}/' has an unknown placeholder '{category}' (known: {slug}, {year}, {month}, {day})"]),
    ("permalink_without_slug", GOOD, BASIC_SITE + "permalinks:\n  article: \"{year}/{month}/\"\n  page: x\n",
     ["site.yaml:9: permalink pattern '{year}/{month}/' must contain {slug}, so that every article has a path of its own",
      "site.yaml:10: unknown key 'permalinks.page' (known: article)"]),
    ("permalink_lands_on_a_page", {"content/about.markdown": article("About me"), "content/pages/about.md": "---\ntitle: About\n---\nx\n"},
     BASIC_SITE + "permalinks:\n  article: \"pages/{slug}/\"\n",
     ["content/pages/about.md:1: its page 'pages/about/' is also the page of content/about.markdown; change one slug or the permalink pattern"]),
    ("alias_replaces_a_page", {"content/a.md": article(tags="[x]", aliases="[/tags/x/, /archive, /ok/]"), "content/b.md": article("B")},
     BASIC_SITE,
     ["content/a.md:6: alias '/archive' would replace 'archive/index.html', written by archive.html; remove it",
      "content/a.md:6: alias '/tags/x/' would replace 'tags/x/index.html', written by tag.html; remove it"]),
    ("alias_over_a_file", {"content/a.md": article(aliases="[/atom.xml, /dot.svg/old.html]"), "content/dot.svg": "<svg/>"}, BASIC_SITE,
     ["content/a.md:5: alias '/atom.xml' needs a folder where 'atom.xml' is written by feeds; remove it",
      "content/a.md:5: alias '/dot.svg/old.html' needs a folder where 'dot.svg' is written by content/dot.svg; remove it"]),
    ("alias_of_two_pages", {"content/a.md": article(aliases="/old/"), "content/b.md": article("B", aliases="[/old]")}, BASIC_SITE,
     ["content/b.md:5: alias '/old' is also an alias of content/a.md; remove it"]),
    ("alias_not_a_path", {"content/a.md": article(aliases='["https://old.example.com/a/", "/a/?p=12", /a/../../b/, /]')}, BASIC_SITE,
     ["content/a.md:5: alias '/' would replace the home page",
      "content/a.md:5: alias '/a/../../b/' must be a plain path with no empty, '.' or '..' parts",
      "content/a.md:5: alias '/a/?p=12' cannot hold a query ('?') or a fragment ('#'): a redirect page is a file",
      "content/a.md:5: alias 'https://old.example.com/a/' must be a path on this site, like /blog/old-post/, not a full URL"]),
    ("yaml_billion_laughs_front_matter", {"content/a.md": "---\ntitle: T\n" + billion_laughs() + "---\nx\n"}, BASIC_SITE,
     ["content/a.md:8: YAML aliases expand to too many values; write the values out instead of using '*' aliases"]),
    ("yaml_billion_laughs_site", GOOD, BASIC_SITE + billion_laughs(),
     ["site.yaml:13: YAML aliases expand to too many values; write the values out instead of using '*' aliases"]),
    ("yaml_recursive_alias", {"content/a.md": "---\ntitle: T\ntags: &t [a, *t]\n---\nx\n"}, BASIC_SITE,
     ["content/a.md:3: YAML alias refers to a value that contains it (a recursive alias)"]),
    ("yaml_deep_nesting", {"content/a.md": "---\ntitle: T\n" + nested(600) + "---\nx\n"}, BASIC_SITE,
     ["content/a.md:3: YAML nested more than 32 levels deep"]),
    ("yaml_deep_nesting_site", GOOD, BASIC_SITE + nested(600), ["site.yaml:8: YAML nested more than 32 levels deep"]),
    ("markdown_that_would_hang", {"content/a.md": article(body="Fine.\n\n" + "[" * 20_000)}, BASIC_SITE,
     ["content/a.md:8: too many '[', '(', '<' or '`' that are never closed in this paragraph: Markdown would take minutes "
      "to render it; escape them as \\[, \\(, &lt; and \\` or close them"]),
    ("markdown_nested_too_deep", {"content/a.md": article(body="\n".join("    " * d + "- item" for d in range(300)))}, BASIC_SITE,
     ["content/a.md:71: lists or quotes nested 65 levels deep; the limit is 64"]),
    ("many_files_at_once", {"content/a.md": article(author="nobody"), "content/b.md": "", "content/c.md": article(date="soon")}, BASIC_SITE,
     ["content/a.md:4: unknown author 'nobody' (known: ann)",
      "content/b.md:1: empty file: an article starts with front matter between '---' lines",
      "content/c.md:3: 'date' is not a valid date: 'soon' (use YYYY-MM-DD or ISO 8601)"]),
]


def tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        h.update(path.relative_to(folder).as_posix().encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def reported(lines: list[str], strict: bool = False) -> list[str]:
    """What a failed run prints: the lines, then the count of errors and warnings."""
    warnings = sum(1 for line in lines if ": warning: " in line)
    errors = len(lines) - warnings
    summary = f"{errors} error{'' if errors == 1 else 's'}, {warnings} warning{'' if warnings == 1 else 's'}"
    return [*lines, summary + (" (--strict counts warnings as errors)" if strict else "")]


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("files", "site_yaml", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_reports_every_problem_and_keeps_output(
    write_site: Callable[..., Path], files: dict[str, str | bytes], site_yaml: str, expected: list[str]
) -> None:
    site = write_site(GOOD)
    code, _out, err = run(["build", "--site", str(site), "--jobs", "1", "-q"])
    assert code == 0, err
    output = site.parent / "output"
    before = tree_hash(output)
    site = write_site(files, site_yaml)
    os.chdir(site.parent)
    code, out, err = run(["build", "--jobs", "1", "-q"])
    assert (code, err.splitlines()) == (1, reported(expected))
    assert "Traceback" not in err and out == ""
    assert tree_hash(output) == before
    code, _out, check_err = run(["check"])
    assert code == 1 and check_err.splitlines() == reported(expected)


def test_missing_site_yaml(tmp_path: Path) -> None:
    code, _out, err = run(["build", "--site", str(tmp_path / "nope" / "site.yaml")])
    # The file is missing: there is no line 1 to point at.
    assert code == 1 and err.splitlines()[0].endswith("nope/site.yaml: site configuration not found (create site.yaml or pass --site)")
    assert ":1:" not in err


def test_usage_error_exits_2() -> None:
    code, _out, _err = run(["build", "--jobs", "many"])
    assert code == 2


def test_bom_and_crlf_are_fine(write_site: Callable[..., Path]) -> None:
    text = "\ufeff" + article("Windows Saved", body="Line one.\n\nLine two.").replace("\n", "\r\n")
    site = write_site({"content/win.md": text.encode("utf-8")})
    code, _out, err = run(["build", "--site", str(site), "-q"])
    assert code == 0, err
    html = (site.parent / "output/articles/win/index.html").read_text()
    assert "Windows Saved" in html and "\r" not in html


def test_symlink_outside_content_is_refused(write_site: Callable[..., Path], tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    site = write_site(GOOD)
    (site.parent / "content" / "leak.txt").symlink_to(secret)
    code, _out, err = run(["build", "--site", str(site), "-q"])
    assert code == 1
    assert err.splitlines() == reported(["content/leak.txt:1: symlink points outside content/; copy the file in instead"])
    assert not (site.parent / "output").exists()


def test_foreign_output_folder_is_refused(write_site: Callable[..., Path]) -> None:
    site = write_site(GOOD)
    foreign = site.parent / "output"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("mine")
    code, _out, err = run(["build", "--site", str(site), "-q"])
    assert code == 1
    assert err.splitlines() == reported(["output:1: output folder is not empty and was not created by syndicate; choose another --output or empty it yourself"])
    assert (foreign / "precious.txt").read_text() == "mine" and len(list(foreign.iterdir())) == 1


def test_control_characters_are_stripped(write_site: Callable[..., Path]) -> None:
    site = write_site({"content/a.md": article("Bell\x07 Title", body="Text with \x0b vertical tab and \x1f unit.")})
    code, _out, err = run(["build", "--site", str(site), "-q"])
    assert code == 0, err
    for name in ("feed.xml", "atom.xml", "articles/a/index.html", "syndicate/a.txt"):
        data = (site.parent / "output" / name).read_text()
        assert "\x07" not in data and "\x0b" not in data and "\x1f" not in data


def test_html_in_titles_and_summaries_is_escaped(write_site: Callable[..., Path]) -> None:
    site = write_site({"content/a.md": article("<script>alert(1)</script> Title", summary='"<b>bold</b> & more"')})
    code, _out, err = run(["build", "--site", str(site), "-q"])
    assert code == 0, err
    out = site.parent / "output"
    for name in ("index.html", "articles/a/index.html", "syndicate/a.html", "tags/index.html" if False else "archive/index.html"):
        html = (out / name).read_text()
        assert "<script>alert(1)</script>" not in html and "<b>bold</b>" not in html, name
    assert "&lt;script&gt;" in (out / "articles/a/index.html").read_text()


def test_strict_turns_warnings_into_errors(write_site: Callable[..., Path]) -> None:
    body = "![](pic.png) [gone](/nowhere/) [ok](/articles/b/#part) [bad](/articles/b/#nope) [here](#missing)\n\n## Part\n"
    site = write_site({"content/a.md": article(body=body, tittle="typo"), "content/pic.png": b"\x89PNG",
                       "content/b.md": article("B", body="## Part\n\nText.")})
    code, _out, err = run(["build", "--site", str(site)])
    assert code == 0
    warnings = [
        "content/a.md:5: unknown front matter key 'tittle'; did you mean 'title'?",
        "content/a.md:7: broken internal link '/nowhere/'",
        "content/a.md:7: image 'pic.png' has no alt text",
        "content/a.md:7: link '#missing' points at a missing anchor '#missing'",
        "content/a.md:7: link '/articles/b/#nope' points at a missing anchor '#nope'",
    ]
    lines = err.splitlines()
    assert lines[:-1] == [line.replace(": ", ": warning: ", 1) for line in warnings] and lines[-1].startswith("built 2 articles")
    for command in ("check", "build"):  # each warning once, as an error, then why the run failed
        code, _out, err = run([command, "--site", str(site), "--strict"])
        assert code == 1
        assert err.splitlines() == [*warnings, "5 errors, 0 warnings (--strict counts warnings as errors)"], command


def test_sigterm_mid_build_leaves_output_and_no_debris(write_site: Callable[..., Path]) -> None:
    import signal
    import subprocess
    import sys
    import time

    site = write_site(GOOD)
    code, _out, err = run(["build", "--site", str(site), "-q"])
    assert code == 0, err
    output = site.parent / "output"
    before = tree_hash(output)
    words = " ".join(f"word{i}" for i in range(300))
    for number in range(600):
        (site.parent / "content" / f"bulk{number}.md").write_text(article(f"Bulk {number}", body=f"## Part\n\n{words}\n\n- a\n- b\n"))
    process = subprocess.Popen([sys.executable, "-m", "syndicate", "build", "--site", str(site), "--jobs", "1", "-q"],
                               stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    if process.poll() is not None:
        pytest.skip("the build finished before it could be interrupted")
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "interrupted; the output folder was left as it was" in err and "Traceback" not in err
    assert tree_hash(output) == before
    assert not list((site.parent / ".syndicate-cache").glob("stage-*"))


# Defects found in real use: each test failed before its fix.


def test_a_file_name_with_a_colon_is_reported_not_a_crash(write_site: Callable[..., Path]) -> None:
    """`note:2.md` with an unknown key: the warning was stored as text and split on ':' again."""
    site = write_site({"content/note:2.md": article("Note", tittle="typo")})
    for _build in range(2):  # the second build repeats the first one's warnings from the cache
        code, _out, err = run(["build", "--site", str(site)])
        assert code == 0 and "Traceback" not in err
        assert err.splitlines()[0] == "content/note:2.md:5: warning: unknown front matter key 'tittle'; did you mean 'title'?"
    code, _out, err = run(["build", "--site", str(site), "--strict"])
    assert code == 1
    assert err.splitlines() == ["content/note:2.md:5: unknown front matter key 'tittle'; did you mean 'title'?",
                                "1 error, 0 warnings (--strict counts warnings as errors)"]


def test_a_problem_in_one_file_hides_no_warning_in_another(write_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    site = write_site({
        "content/a.md": article(author="nobody"),
        "content/b.md": article("B", tittle="typo"),
    }, BASIC_SITE + "colour: blue\n")
    monkeypatch.chdir(site.parent)
    code, _out, err = run(["build", "-q"])
    assert code == 1
    assert err.splitlines() == [
        "content/a.md:4: unknown author 'nobody' (known: ann)",
        "content/b.md:5: warning: unknown front matter key 'tittle'; did you mean 'title'?",
        "site.yaml:8: warning: unknown key 'colour' in site.yaml (known: title, url, description, language, timezone, authors, "
        "per_page, feed_items, feed_summaries, max_article_bytes, syndication, reprints, permalinks, logo, favicon, image, menu, date_format, search, newsletter)",
        "1 error, 2 warnings",
    ]


def test_an_error_in_site_yaml_hides_no_problem_in_the_content(write_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every problem of the run in one report: a bad setting does not stop the content from
    being checked (with the setting's default standing in), nor the menu once pages load."""
    site = write_site({"content/a.md": article(date="soon"), "content/b.md": article("B", body="![](pics/x.png)"),
                       "content/pics/x.png": b"\x89PNG"}, BASIC_SITE + 'date_format: "%A %Q"\n')
    monkeypatch.chdir(site.parent)
    code, _out, err = run(["check"])
    assert code == 1
    assert err.splitlines() == [
        "site.yaml:8: 'date_format' has an unknown directive '%Q' (known: %d %-d %m %-m %y %Y %B %b %A %a %H %M %%)",
        "content/a.md:3: 'date' is not a valid date: 'soon' (use YYYY-MM-DD or ISO 8601)",
        "content/b.md:6: warning: image 'pics/x.png' has no alt text",
        "2 errors, 1 warning",
    ]
    (site.parent / "content/a.md").write_text(article())
    (site.parent / "site.yaml").write_text(BASIC_SITE + 'date_format: "%A %Q"\nmenu: [home, contact]\n')
    code, _out, err = run(["check"])
    assert code == 1
    assert err.splitlines() == [
        "site.yaml:8: 'date_format' has an unknown directive '%Q' (known: %d %-d %m %-m %y %Y %B %b %A %a %H %M %%)",
        "site.yaml:9: menu names page 'contact', which is not a published page (pages: none in content/pages/)",
        "content/b.md:6: warning: image 'pics/x.png' has no alt text",  # a menu problem hides no warning either
        "2 errors, 1 warning",
    ]


def test_an_articles_error_hides_no_menu_problem(write_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The menu is checked against the pages once they are read: an error in an article stopped
    the run before, and a menu naming a missing page went unreported until it was fixed."""
    site = write_site({"content/a.md": article(date="soon"), "content/pages/about.md": "---\ntitle: About\n---\nUs.\n"},
                      BASIC_SITE + "menu: [home, about, contact]\n")
    monkeypatch.chdir(site.parent)
    code, _out, err = run(["check"])
    assert code == 1
    assert err.splitlines() == [
        "content/a.md:3: 'date' is not a valid date: 'soon' (use YYYY-MM-DD or ISO 8601)",
        "site.yaml:8: menu names page 'contact', which is not a published page (pages: about)",
        "2 errors, 0 warnings",
    ]


def test_an_unknown_snippet_slug_names_the_command_not_site_yaml(write_site: Callable[..., Path]) -> None:
    site = write_site(GOOD)
    code, out, err = run(["snippet", "goood", "--site", str(site)])
    assert (code, out) == (1, "")
    assert err.splitlines() == ["snippet: 'goood' is not a published article; did you mean good?", "1 error, 0 warnings"]


def test_a_typo_inside_reprint_is_a_warning(write_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(write_site(GOOD, BASIC_SITE + '      comercial: "Ask first."\n').parent)
    code, _out, err = run(["build"])
    assert code == 0
    assert err.splitlines()[0] == "site.yaml:8: warning: unknown key 'authors.ann.reprint.comercial'; did you mean 'commercial'?"


def test_hostile_yaml_fails_fast(write_site: Callable[..., Path]) -> None:
    import time

    site = write_site({"content/a.md": "---\ntitle: T\n" + billion_laughs() + "---\nx\n"}, BASIC_SITE + billion_laughs())
    started = time.perf_counter()
    code, _out, err = run(["check", "--site", str(site)])
    assert code == 1 and "YAML aliases expand to too many values" in err
    assert time.perf_counter() - started < 5


def test_unknown_keys_warn_everywhere_with_the_likely_key(write_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    site_yaml = BASIC_SITE.replace('    name: "Ann Example"\n', '    name: "Ann Example"\n    bioo: "Writes."\n').replace(
        '      statement:', '      comercial: "Ask first."\n      statement:') + "descripton: A site\nsyndication:\n  utn: true\n"
    body = "---\ntitle: T\ntittle: typo\ndate: 2024-01-01\nauthor: ann\noriginal:\n  url: https://elsewhere.example.com/\n  sitee: Elsewhere\n---\nx\n"
    site = write_site({"content/a.md": body}, site_yaml)
    # A process of its own, run from the site's folder as a user runs it: its stderr is exactly what check prints.
    checked = subprocess.run([sys.executable, "-m", "syndicate", "check", "--site", str(site)], capture_output=True, text=True,
                             check=False, cwd=site.parent)
    code, err = checked.returncode, checked.stderr
    assert code == 0, err
    assert err.splitlines()[:-1] == [  # in file and line order
        "content/a.md:3: warning: unknown front matter key 'tittle'; did you mean 'title'?",
        "content/a.md:8: warning: unknown key 'original.sitee'; did you mean 'site'?",
        "site.yaml:6: warning: unknown key 'authors.ann.bioo'; did you mean 'bio'?",
        "site.yaml:8: warning: unknown key 'authors.ann.reprint.comercial'; did you mean 'commercial'?",
        "site.yaml:10: warning: unknown key 'descripton' in site.yaml; did you mean 'description'?",
        "site.yaml:12: warning: unknown key 'syndication.utn'; did you mean 'utm'?",
    ]
    monkeypatch.chdir(site.parent)
    code, _out, err = run(["check", "--strict"])
    assert code == 1 and "did you mean 'title'?" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_or_a_symlink_loop_in_content_is_an_error_not_a_hang(write_site: Callable[..., Path]) -> None:
    import subprocess
    import sys

    site = write_site(GOOD)
    content = site.parent / "content"
    os.mkfifo(content / "pipe.md")
    os.mkfifo(content / "pipe.bin")
    os.symlink("loop-b", content / "loop-a")
    os.symlink("loop-a", content / "loop-b")
    os.symlink("missing-target.md", content / "dangling.md")
    result = subprocess.run([sys.executable, "-m", "syndicate", "check", "--site", str(site)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == "5 errors, 0 warnings"
    assert sorted(result.stderr.splitlines()[:-1]) == [
        "content/dangling.md:1: symlink leads nowhere (a loop, or its target is missing)",
        "content/loop-a:1: symlink leads nowhere (a loop, or its target is missing)",
        "content/loop-b:1: symlink leads nowhere (a loop, or its target is missing)",
        "content/pipe.bin:1: not a regular file (a pipe, socket or device); remove it from content/",
        "content/pipe.md:1: not a regular file (a pipe, socket or device); remove it from content/",
    ]


