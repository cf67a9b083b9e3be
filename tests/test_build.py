"""Incremental builds equal clean ones; unchanged files stay untouched; commits are atomic."""

from __future__ import annotations

import fcntl
import importlib
import os
import pickle
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import syndicate.output
import syndicate.parallel
import syndicate.render
import syndicate.syndication
from syndicate.cache import Cache, Memory
from syndicate.errors import SiteError, warning
from syndicate.model import Author

from .conftest import article, build_site, clean_build, outputs

build_module = importlib.import_module("syndicate.build")




def crash_commit(monkeypatch: pytest.MonkeyPatch, at: int = 1) -> None:
    """Interrupt an in-place commit (the kind with a journal: the output folder cannot be
    swapped) at its `at`-th rename of a staged file, as a kill would."""
    monkeypatch.setattr(syndicate.output, "can_exchange", lambda *_args: False)
    real_replace = os.replace
    calls = {"n": 0}

    def crash(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if "stage" in str(src) and "JOURNAL" not in str(src):
            calls["n"] += 1
            if calls["n"] == at:
                raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(syndicate.output.os, "replace", crash)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def add_footer_override(root: Path) -> None:
    (root / "templates").mkdir()
    (root / "templates/footer.html").write_text('<footer><p>Local footer for {{ site.title }}</p></footer>\n')


def add_override(root: Path, name: str, extra: str) -> None:
    """The theme's own file (made from Pygments' style when it has none) copied into templates/ and
    changed: every page links it by a new version."""
    from syndicate import theme

    own = Path(theme.__file__).parent / "theme" / name
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / name).write_text((own.read_text() if own.exists() else "") + extra)


EDITS: dict[str, Callable[[Path], None]] = {
    "article_body": lambda root: edit(root / "content/greeting.md", "it's that simple.", "it's that simple, really."),
    # waiting.md has no summary: its first paragraph is its summary on every listing page.
    "first_paragraph": lambda root: edit(root / "content/waiting.md", "Nobody minds a wait", "Nobody at all minds a wait"),
    "reading_time": lambda root: edit(root / "content/waiting.md", "Nobody minds a wait they can see the end of.",
                                      "Nobody minds a wait they can see the end of. " + "More words here. " * 200),
    "article_title": lambda root: edit(root / "content/waiting.md", 'title: "Waiting <Well>"', 'title: "Waiting Well"'),
    "tag_change": lambda root: edit(root / "content/chairs.md", "tags: [waiting]", "tags: [comfort, Front Desk]"),
    "tag_spelling": lambda root: edit(root / "content/waiting.md", "tags: [waiting, front desk]", "tags: [Waiting, front desk]"),
    "tag_order": lambda root: edit(root / "content/waiting.md", "tags: [waiting, front desk]", "tags: [front desk, waiting]"),
    "template": lambda root: add_footer_override(root),
    "stylesheet": lambda root: add_override(root, "style.css", "body { color: #222; }\n"),
    "code_stylesheet": lambda root: add_override(root, "code-light.css", "pre { tab-size: 4; }\n"),
    "config": lambda root: edit(root / "site.yaml", 'title: "Counter Notes"', 'title: "Counter Notes Weekly"'),
    "statement": lambda root: edit(root / "site.yaml", "visit www.example.com/ada", "visit www.example.org/ada"),
    "deletion": lambda root: (root / "content/chairs.md").unlink(),
    "rename": lambda root: (root / "content/greeting.md").rename(root / "content/hello.md"),
    "asset": lambda root: (root / "content/dot.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>\n"),
    "new_article": lambda root: (root / "content/new.md").write_text("---\ntitle: New\ndate: 2025-12-01\nauthor: cy-lee\n---\nFresh.\n"),
    "permalink": lambda root: edit(root / "site.yaml", "per_page: 2", 'per_page: 2\npermalinks:\n  article: "{year}/{month}/{day}/{slug}.html"'),
    "alias": lambda root: edit(root / "content/greeting.md", "summary:", "aliases: [/2025/03/04/greeting.html, /blog/greeting/]\nsummary:"),
    "page_alias": lambda root: edit(root / "content/pages/about.md", 'title: "About"', 'title: "About"\naliases: /about-us/'),
    "coauthor": lambda root: edit(root / "content/greeting.md", "author: ada-moss", "author: [ada-moss, ben-ortiz]"),
    "coauthor_without_terms": lambda root: edit(root / "content/greeting.md", "author: ada-moss", "author: [ada-moss, cy-lee]"),
    "updated": lambda root: edit(root / "content/waiting.md", "author: ben-ortiz", "author: ben-ortiz\nupdated: 2025-06-01"),
    "tags_as_text": lambda root: edit(root / "content/chairs.md", "tags: [waiting]", "tags: waiting, Comfort"),
    "markdown_suffix": lambda root: (root / "content/chairs.md").rename(root / "content/seats.markdown"),
    "front_matter_asset": lambda root: (root / "content/dot.svg").write_text("---\nlayout: none\n---\n<svg/>\n"),
    "template_code": lambda root: edit(root / "content/greeting.md", "it's that simple.", "it's {{ site.simple }}."),
}


@pytest.mark.parametrize("kind", list(EDITS))
def test_incremental_build_equals_clean_build(tiny_site: Path, tmp_path: Path, kind: str) -> None:
    build_site(tiny_site)
    EDITS[kind](tiny_site.parent)
    report = build_site(tiny_site)
    assert report.written + report.deleted > 0
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)


UNDO: dict[str, Callable[[Path], None]] = {
    "alias": lambda root: edit(root / "content/greeting.md", "aliases: [/2025/03/04/greeting.html, /blog/greeting/]\n", ""),
    "coauthor": lambda root: edit(root / "content/greeting.md", "author: [ada-moss, ben-ortiz]", "author: ada-moss"),
    "permalink": lambda root: edit(root / "site.yaml", '\npermalinks:\n  article: "{year}/{month}/{day}/{slug}.html"', ""),
    "updated": lambda root: edit(root / "content/waiting.md", "\nupdated: 2025-06-01", ""),
    "front_matter_asset": lambda root: (root / "content/dot.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>\n"),
}


@pytest.mark.parametrize("kind", list(UNDO))
def test_undoing_an_edit_incrementally_equals_clean_build(tiny_site: Path, tmp_path: Path, kind: str) -> None:
    """What an edit added (redirect pages, copies, dated paths) goes again when it is undone."""
    build_site(tiny_site)
    EDITS[kind](tiny_site.parent)
    build_site(tiny_site)
    UNDO[kind](tiny_site.parent)
    build_site(tiny_site)
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)


# Newsletter issues: an issue is a copy of its articles, so their edits reach it too.

TINY_NEWSLETTER = """newsletter:
  name: "Counter Letter"
  from: "Counter Letter <letter@notes.example.org>"
  address: "9 Quay Street, Hull HU1 1AA, UK"
  unsubscribe: buttondown
"""


def add_newsletter(root: Path) -> None:
    """The tiny site with a full issue of two articles and a summary issue of the newest one."""
    (root / "site.yaml").write_text((root / "site.yaml").read_text() + TINY_NEWSLETTER)
    (root / "content/newsletters").mkdir()
    (root / "content/newsletters/weekly.md").write_text(
        "---\ntitle: Weekly\ndate: 2025-03-10\narticles: [greeting, waiting]\n---\nTwo notes this week.\n")
    (root / "content/newsletters/brief.md").write_text(
        "---\ntitle: Brief\ndate: 2025-02-02\nlatest: 1\nmode: summary\n---\nOne note.\n")


NEWSLETTER_EDITS: dict[str, Callable[[Path], None]] = {
    "article_body_in_full_issue": EDITS["article_body"],
    "article_table_in_both_issues": lambda root: edit(root / "content/waiting.md", "| 5 min | fine |", "| 5 min | fine enough |"),
    "article_title_in_both_issues": EDITS["article_title"],
    "statement": EDITS["statement"],
    "issue_intro": lambda root: edit(root / "content/newsletters/weekly.md", "Two notes this week.", "Two notes, and a thought."),
    "issue_articles": lambda root: edit(root / "content/newsletters/weekly.md", "[greeting, waiting]", "[waiting, greeting]"),
    "issue_mode": lambda root: edit(root / "content/newsletters/weekly.md", "articles:", "mode: summary\narticles:"),
    "issue_latest": lambda root: edit(root / "content/newsletters/brief.md", "date: 2025-02-02", "date: 2025-03-05"),
    "issue_draft": lambda root: edit(root / "content/newsletters/brief.md", "mode: summary", "mode: summary\ndraft: true"),
    "issue_removed": lambda root: [(root / "content/newsletters" / n).unlink() for n in ("weekly.md", "brief.md")],
    "new_issue": lambda root: (root / "content/newsletters/extra.md").write_text(
        "---\ntitle: Extra\ndate: 2025-03-20\narticles: [waiting]\n---\n"),
    "newsletter_settings": lambda root: edit(root / "site.yaml", "9 Quay Street", "10 Quay Street"),
    "newsletter_template": lambda root: ((root / "templates").mkdir(), (root / "templates/newsletter-email.txt").write_text(
        (Path(syndicate.render.__file__).parent / "theme/newsletter-email.txt").read_text().replace("Unsubscribe", "Leave the list"))),
    "new_article_for_latest": lambda root: (root / "content/new.md").write_text(
        "---\ntitle: New\ndate: 2025-02-02T01:00:00\nauthor: ben-ortiz\n---\nFresh.\n"),
}


@pytest.mark.parametrize("kind", list(NEWSLETTER_EDITS))
def test_incremental_build_with_newsletter_equals_clean_build(tiny_site: Path, tmp_path: Path, kind: str) -> None:
    add_newsletter(tiny_site.parent)
    build_site(tiny_site)
    assert (tiny_site.parent / "output/newsletter/weekly/message.eml").is_file()
    NEWSLETTER_EDITS[kind](tiny_site.parent)
    report = build_site(tiny_site)
    assert report.written + report.deleted > 0
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)


def changed_files(site: Path, change: Callable[[Path], None], **options: object) -> list[str]:
    out = site.parent / "output"
    before = {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    change(site.parent)
    build_site(site, **options)
    return sorted(p for p, mtime in before.items() if not (out / p).exists() or (out / p).stat().st_mtime_ns != mtime)


def test_newsletter_edits_rewrite_only_the_issues_that_show_them(tiny_site: Path) -> None:
    add_newsletter(tiny_site.parent)
    memory = Memory()
    build_site(tiny_site, memory=memory)
    weekly = ["newsletter/weekly/email.html", "newsletter/weekly/email.txt", "newsletter/weekly/index.html",
              "newsletter/weekly/message.eml"]
    # A body edit patches the last plan: the full issue that carries the body is made again, with the
    # issues' feed; the summary issue, which shows no body, is not.
    changed = changed_files(tiny_site, EDITS["article_body"], memory=memory)
    assert memory.patched == 1
    assert set(weekly) <= set(changed) and "newsletter/feed.xml" in changed
    assert not [p for p in changed if p.startswith("newsletter/brief/")]
    # An issue's own file: that issue and the feed of issues (the archive lists no introduction);
    # no article, no other issue.
    changed = changed_files(tiny_site, NEWSLETTER_EDITS["issue_intro"], memory=memory)
    assert memory.patched == 1, "an issue is not an article body: the plan is made afresh"
    assert [p for p in changed if not p.startswith(("pagefind/", ".syndicate-output"))] == ["newsletter/feed.xml", *weekly]
    # The newsletter's settings show on every issue, not on the articles' pages.
    changed = changed_files(tiny_site, NEWSLETTER_EDITS["newsletter_settings"])
    assert set(weekly) <= set(changed) and "newsletter/brief/email.html" in changed
    assert "articles/greeting/index.html" not in changed and "syndicate/greeting.html" not in changed


def test_no_change_rebuild_writes_nothing(tiny_site: Path) -> None:
    build_site(tiny_site)
    before = {p: p.stat().st_mtime_ns for p in (tiny_site.parent / "output").rglob("*") if p.is_file()}
    report = build_site(tiny_site)
    assert (report.written, report.deleted) == (0, 0)
    assert report.cache_hits > 0
    after = {p: p.stat().st_mtime_ns for p in (tiny_site.parent / "output").rglob("*") if p.is_file()}
    assert before == after


def test_one_edit_rewrites_only_what_shows_it(tiny_site: Path) -> None:
    build_site(tiny_site)
    out = tiny_site.parent / "output"
    before = {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    EDITS["article_body"](tiny_site.parent)
    build_site(tiny_site)
    # (The search index's files are named by their contents: a reindex replaces some of them.)
    changed = sorted(p for p, mtime in before.items() if not (out / p).exists() or (out / p).stat().st_mtime_ns != mtime)
    assert "articles/greeting/index.html" in changed and "syndicate/greeting.txt" in changed
    assert "articles/chairs/index.html" not in changed and "authors/cy-lee/index.html" not in changed
    assert "sitemap.xml" not in changed and "dot.svg" not in changed


def test_builds_are_deterministic_and_independent_of_jobs(tiny_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_site(tiny_site, use_cache=False)
    first = outputs(tiny_site)
    monkeypatch.setattr(syndicate.parallel, "MIN_PARALLEL_ITEMS", 1)
    monkeypatch.setattr(syndicate.render, "PARALLEL_JOBS_FROM", 0)
    shutil.rmtree(tiny_site.parent / "output")
    build_site(tiny_site, use_cache=False, jobs=2)
    assert outputs(tiny_site) == first
    for _ in range(2):  # with the cache: first filling it, then workers reading bodies from it
        shutil.rmtree(tiny_site.parent / "output")
        build_site(tiny_site, jobs=2)
        assert outputs(tiny_site) == first


def test_clean_removes_stale_files_and_rerenders(tiny_site: Path) -> None:
    build_site(tiny_site)
    (tiny_site.parent / "content/chairs.md").unlink()
    report = build_site(tiny_site, clean=True)
    assert not (tiny_site.parent / "output/articles/chairs").exists()
    assert report.deleted >= 1


def test_clean_with_nothing_changed_writes_nothing(tiny_site: Path) -> None:
    """--clean renders everything again, but a file whose bytes (or, for a copied file, whose
    source) did not change is not written, and is not counted as written."""
    build_site(tiny_site)
    output = tiny_site.parent / "output"
    assets = [p for p in output.rglob("*") if p.is_file() and p.suffix in (".svg", ".png", ".jpg")]
    assert assets, "the tiny site copies files as they are"
    before = {p: p.stat().st_mtime_ns for p in output.rglob("*") if p.is_file() and p.name != ".syndicate-output"}
    report = build_site(tiny_site, clean=True)
    assert report.written == 0 and report.deleted == 0
    assert before == {p: p.stat().st_mtime_ns for p in before}


def test_corrupt_cache_is_rebuilt_not_trusted(tiny_site: Path, tmp_path: Path) -> None:
    build_site(tiny_site)
    for path in (tiny_site.parent / ".syndicate-cache").glob("cache.sqlite*"):
        path.write_bytes(b"this is not a database" * 10)
    EDITS["article_body"](tiny_site.parent)
    build_site(tiny_site)
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)


def test_second_concurrent_build_is_refused(tiny_site: Path) -> None:
    cache = tiny_site.parent / ".syndicate-cache"
    cache.mkdir()
    with open(cache / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(SiteError) as caught:
            build_site(tiny_site)
    assert str(caught.value) == ".syndicate-cache:1: another build of this site is running; wait for it to finish"


def test_interrupted_commit_is_completed_by_the_next_run(tiny_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_site(tiny_site)
    EDITS["tag_change"](tiny_site.parent)
    EDITS["article_body"](tiny_site.parent)
    crash_commit(monkeypatch, at=3)  # between two renames
    with pytest.raises(KeyboardInterrupt):
        build_site(tiny_site)
    monkeypatch.undo()
    stage = tiny_site.parent / "output/.syndicate-stage"
    assert (stage / "JOURNAL.json").exists()
    build_site(tiny_site)
    assert not stage.exists()
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)


def test_interruption_before_the_journal_changes_nothing(tiny_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_site(tiny_site)
    before = outputs(tiny_site)
    EDITS["config"](tiny_site.parent)

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(build_module, "commit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_site(tiny_site)
    assert outputs(tiny_site) == before
    monkeypatch.undo()
    build_site(tiny_site)
    assert not list((tiny_site.parent / ".syndicate-cache").glob("stage-*"))
    assert outputs(tiny_site) != before


def test_site_with_a_path_keeps_it_everywhere(built_tiny: Path) -> None:
    base = "https://notes.example.org/counter/"
    sitemap = (built_tiny / "sitemap.xml").read_text()
    assert f"<loc>{base}articles/greeting/</loc>" in sitemap
    assert "/articles/borrowed/" not in sitemap  # its canonical page is the original post
    assert f"Sitemap: {base}sitemap.xml" in (built_tiny / "robots.txt").read_text()
    page = (built_tiny / "articles/greeting/index.html").read_text()
    assert 'href="../../articles/waiting/"' in page


def test_an_interrupted_commit_is_never_replayed_into_another_output(tiny_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_site(tiny_site)
    EDITS["article_body"](tiny_site.parent)
    crash_commit(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        build_site(tiny_site)
    monkeypatch.undo()
    other = tmp_path / "preview"
    build_site(tiny_site, output_dir=other)
    assert (tiny_site.parent / "output/.syndicate-stage/JOURNAL.json").exists()  # the deploy one waits for its own folder
    build_site(tiny_site)
    assert not (tiny_site.parent / "output/.syndicate-stage").exists()
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)


def test_up_to_date_check_never_vouches_for_a_half_committed_folder(tiny_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_site(tiny_site)
    greeting = tiny_site.parent / "content/greeting.md"
    original = greeting.read_bytes()
    stat = greeting.stat()
    EDITS["article_body"](tiny_site.parent)
    crash_commit(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        build_site(tiny_site)
    monkeypatch.undo()
    greeting.write_bytes(original)  # back to exactly what the last good build read
    os.utime(greeting, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    build_site(tiny_site)
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)


def test_up_to_date_rebuild_reports_the_same_warnings(write_site: Callable[..., Path]) -> None:
    site = write_site({"content/a.md": "---\ntitle: A\ndate: 2024-01-01\nauthor: ann\ntittle: typo\n---\nText.\n"})
    first = build_site(site)
    report = build_site(site)
    assert report.written == 0
    assert report.warnings == first.warnings == (warning("content/a.md", 5, "unknown front matter key 'tittle'; did you mean 'title'?"),)


def test_a_symlink_planted_in_the_output_is_replaced_never_followed(tiny_site: Path, tmp_path: Path) -> None:
    build_site(tiny_site)
    out = tiny_site.parent / "output"
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "greeting").mkdir(parents=True)
    shutil.rmtree(out / "articles")
    (out / "articles").symlink_to(elsewhere, target_is_directory=True)
    EDITS["article_body"](tiny_site.parent)
    build_site(tiny_site, clean=True)
    assert list(elsewhere.rglob("*")) == [elsewhere / "greeting"]  # nothing written through the link
    assert not (out / "articles").is_symlink()
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)


def test_rebuilds_that_keep_memory_equal_clean_builds(tiny_site: Path, tmp_path: Path) -> None:
    """The preview server's path: one process, one Memory, every kind of edit in turn. Saves
    that change only bodies patch the last plan; anything else plans afresh; all give the bytes
    of a clean build."""
    memory = Memory()
    build_site(tiny_site, memory=memory)
    root = tiny_site.parent
    steps: list[tuple[str, Callable[[Path], None], bool]] = [
        ("article_body", EDITS["article_body"], True),
        ("second_body_edit", lambda r: edit(r / "content/greeting.md", "really.", "really, truly."), True),
        ("two_at_once", lambda r: (edit(r / "content/greeting.md", "truly.", "truly!"),
                                   edit(r / "content/waiting.md", "| 5 min | fine |", "| 5 min | fine enough |")), True),
        ("table_cell", lambda r: edit(r / "content/waiting.md", "fine enough", "still fine"), True),
        ("first_paragraph", EDITS["first_paragraph"], False),
        ("article_title", EDITS["article_title"], False),
        ("body_again", lambda r: edit(r / "content/greeting.md", "truly!", "truly."), True),
        ("tag_change", EDITS["tag_change"], False),
        ("template", EDITS["template"], False),
        ("config", EDITS["config"], False),
        ("statement", EDITS["statement"], False),
        ("new_article", EDITS["new_article"], False),
        ("deletion", EDITS["deletion"], False),
        ("template_code", lambda r: edit(r / "content/greeting.md", "truly.", "truly {{ site.simple }}."), True),
        ("alias", EDITS["alias"], False),
        ("body_of_aliased", lambda r: edit(r / "content/greeting.md", "{{ site.simple }}", "simple"), True),
        ("coauthor", EDITS["coauthor"], False),
        ("updated", EDITS["updated"], False),
        ("permalink", EDITS["permalink"], False),
        ("body_under_permalink", lambda r: edit(r / "content/greeting.md", "truly simple", "truly plain"), True),
    ]
    for name, change, patched in steps:
        before = memory.patched
        change(root)
        build_site(tiny_site, memory=memory)
        assert outputs(tiny_site) == clean_build(tiny_site, tmp_path), name
        assert memory.patched == before + patched, name
    assert memory.tables["entries"] and memory.files


def test_memory_stays_correct_after_another_process_built(tiny_site: Path, tmp_path: Path) -> None:
    memory = Memory()
    build_site(tiny_site, memory=memory)
    greeting = tiny_site.parent / "content/greeting.md"
    original = greeting.read_text()
    EDITS["article_body"](tiny_site.parent)
    build_site(tiny_site)  # another process: no memory of its own
    greeting.write_text(original)
    report = build_site(tiny_site, memory=memory)
    assert report.written > 0
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)


def test_the_cache_stores_authors_as_references_and_a_changed_one_is_a_miss(tmp_path: Path) -> None:
    ann = Author("ann", "Ann", bio="Writes about queues.")
    cache = Cache(tmp_path / "cache", authors={"ann": ann})
    cache.put_many("entries", {"k": [ann, Author("ann", "Ann", bio="Writes about queues.")]})
    assert b"Writes about queues" not in cache.dumps(ann)  # a reference, not the author's fields
    cache.close()
    again = Cache(tmp_path / "cache", authors={"ann": Author("ann", "Ann", bio="Writes about queues.")})
    [found] = again.get_many("entries", ["k"]).values()
    assert found[0] is found[1] is again.loads(again.dumps(ann))  # site.yaml's author, once
    again.close()
    edited = Cache(tmp_path / "cache", authors={"ann": Author("ann", "Ann", bio="Writes about waiting.")})
    assert edited.get_many("entries", ["k"]) == {}  # ann's bio was edited since: recomputed, never stale
    edited.close()
    with pytest.raises(pickle.UnpicklingError):
        pickle.loads(cache.dumps(ann))  # only a cache can read it


def test_a_patched_rebuild_still_warns_about_anchors_another_article_lost(write_site: Callable[..., Path]) -> None:
    site = write_site({
        "content/a.md": article("A", body="See [the intro](/articles/b/#intro)."),
        "content/b.md": article("B", date="2024-04-01", body="## Intro\n\nHello.\n\n## Later\n\nMore."),
    })
    memory = Memory()
    assert not build_site(site, memory=memory).warnings
    b = site.parent / "content/b.md"
    b.write_text(b.read_text().replace("## Intro", "## Opening"))
    report = build_site(site, memory=memory)
    assert report.warnings == (warning("content/a.md", 6, "link '/articles/b/#intro' points at a missing anchor '#intro'"),)


def test_a_plan_patched_from_the_cache_checks_anchors_against_the_kept_link_facts(write_site: Callable[..., Path]) -> None:
    """The kept plan packs each document's links and heading ids: a patch reads them back for
    the articles it checks, as a full plan would have them."""
    site = write_site({
        "content/a.md": article("A", body="A summary that stays.\n\nSee [the intro](/articles/b/#intro)."),
        "content/b.md": article("B", date="2024-04-01", body="## Intro\n\nHello.\n\n## Later\n\nMore [back](/articles/a/)."),
    })
    assert not build_site(site).warnings
    a = site.parent / "content/a.md"
    a.write_text(a.read_text().replace("[the intro](/articles/b/#intro)", "[later](/articles/b/#later), [gone](/articles/b/#gone)"))
    report = build_site(site)
    assert report.patched
    assert report.warnings == (warning("content/a.md", 8, "link '/articles/b/#gone' points at a missing anchor '#gone'"),)
    a.write_text(a.read_text().replace(", [gone](/articles/b/#gone)", ""))
    report = build_site(site)
    assert report.patched and not report.warnings


def test_no_cache_rewrites_no_file_whose_bytes_are_already_there(tiny_site: Path) -> None:
    build_site(tiny_site)
    out = tiny_site.parent / "output"

    def stamps() -> dict[str, int]:
        return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}

    before = stamps()
    assert build_site(tiny_site, use_cache=False).written == 0
    assert build_site(tiny_site).written == 0  # and the next build, with its cache, trusts the folder still
    assert stamps() == before
    EDITS["article_body"](tiny_site.parent)
    report = build_site(tiny_site, use_cache=False)
    # The search index names its files by their contents: new ones appear, and count as written.
    changed = sorted(path for path, stamp in stamps().items() if before.get(path) != stamp and path != ".syndicate-output")
    assert report.written == len(changed) and "articles/greeting/index.html" in changed and "archive/index.html" not in changed


def test_a_fresh_process_patches_the_last_plan_after_a_body_edit(tiny_site: Path, tmp_path: Path) -> None:
    """No preview server: the last full plan comes from the cache, and a body edit patches it."""
    assert not build_site(tiny_site).patched
    EDITS["article_body"](tiny_site.parent)
    report = build_site(tiny_site)
    assert report.patched and report.written > 0
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)
    edit(tiny_site.parent / "content/waiting.md", "| 5 min | fine |", "| 5 min | fine enough |")
    assert build_site(tiny_site).patched  # two files now differ from the stored plan: still a patch
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)
    EDITS["article_title"](tiny_site.parent)
    assert not build_site(tiny_site).patched  # a listing shows the title: everything is planned again
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)


def test_jobs_are_capped_at_the_number_of_cores(write_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import syndicate.cli

    pools: list[int] = []
    real_workers = syndicate.parallel._Workers

    def counting_workers(function: Callable[..., object], context: object, count: int) -> object:
        pools.append(count)
        return real_workers(function, context, count)

    monkeypatch.setattr(syndicate.parallel, "_Workers", counting_workers)
    site = write_site({f"content/a{n}.md": article(f"A {n}") for n in range(40)})
    result = CliRunner().invoke(syndicate.cli.main, ["build", "--site", str(site), "--jobs", "100000", "-q"])
    assert result.exit_code == 0, result.output
    assert pools and max(pools) <= syndicate.parallel.default_jobs()


def test_an_html_copy_over_the_size_limit_warns_naming_the_article(write_site: Callable[..., Path]) -> None:
    words = " ".join(f"word{n}" for n in range(2000))
    site = write_site({"content/long.md": article("Long", body="\n\n".join([words] * 9)), "content/short.md": article("Short")})
    report = build_site(site)
    size = (site.parent / "output/syndicate/long.html").stat().st_size
    assert size > syndicate.syndication.SNIPPET_MAX_BYTES
    assert tuple(map(str, report.warnings)) == (
        f"content/long.md:1: warning: its HTML copy syndicate/long.html is {size:,} bytes, over 100,000: Gmail clips longer "
        "messages and hides the statement at the end; shorten the article or set 'syndicate: false'",)
    again = build_site(site)  # nothing rendered: the warning still stands
    assert again.written == 0 and again.warnings == report.warnings
    with pytest.raises(SiteError):
        build_site(site, strict=True, clean=True)


def test_a_value_computed_beside_comes_back_and_a_failed_child_costs_only_time(tmp_path: Path) -> None:
    from syndicate.parallel import Beside

    parent = os.getpid()
    beside = Beside(lambda: (os.getpid(), sorted(p.name for p in tmp_path.iterdir())), fork=True)
    (tmp_path / "late.txt").write_text("made after the fork\n")
    pid, names = beside.result()
    assert pid != parent and names in ([], ["late.txt"])  # computed in the child
    assert beside.result() == (pid, names)  # asked again: the same value, no second child

    def fails_in_the_child() -> int:
        if os.getpid() != parent:
            raise RuntimeError("only in the child")
        return 7

    assert Beside(fails_in_the_child, fork=True).result() == 7  # the child failed: computed here
    inline = Beside(lambda: os.getpid(), fork=False)
    assert inline.result() == parent


def test_no_value_is_computed_beside_while_other_threads_run() -> None:
    import threading

    from syndicate.parallel import Beside

    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        beside = Beside(os.getpid, fork=True)
        assert beside._pid == 0 and beside.result() == os.getpid()  # computed here: a fork would copy the thread mid-step
    finally:
        release.set()
        other.join()


def test_a_value_nobody_asked_for_stops_its_child(tmp_path: Path) -> None:
    from syndicate.parallel import Beside

    beside = Beside(lambda: time.sleep(30) or 1, fork=True)
    child = beside._pid
    started = time.monotonic()
    beside.close()
    assert time.monotonic() - started < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)  # reaped: no zombie left behind


def test_every_page_links_the_stylesheets_by_a_version_that_follows_each_of_them(tiny_site: Path, tmp_path: Path) -> None:
    """Pages link style.css and the code stylesheets with `?v=`, so a browser or a host's cache
    fetches them again when they change: the version follows each of them, on every page, in
    an incremental build as in a clean one (it once followed style.css only, and only on the
    pages that happened to be rendered again)."""
    import re

    def versions() -> set[str]:
        out = tiny_site.parent / "output"
        return {v for page in out.rglob("*.html") for v in re.findall(r'(?:style|code-light|code-dark)\.css\?v=(\w+)', page.read_text())}

    build_site(tiny_site)
    first = versions()
    assert len(first) == 1
    for name in ("style.css", "code-light.css"):
        add_override(tiny_site.parent, name, f"/* {name} changed */\n")
        build_site(tiny_site)
        now = versions()
        assert len(now) == 1 and now != first, name
        assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)
        first = now
