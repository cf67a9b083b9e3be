"""The Pagefind index: part of the build, of its incremental model and of its commit."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest

from syndicate.errors import SiteError
from syndicate.plan import Job
from syndicate.search import make_index

from .conftest import BASIC_SITE, article, build_site, tree

PAGES = {
    "content/lanterns.md": article("Lanterns At The Door", body="A lantern by the door tells a late guest someone is awake."),
    "content/queues.md": article("Short Queues", date="2024-06-01", body="Open a second till before the queue reaches the door."),
    "content/pages/about.md": "---\ntitle: About\n---\nWe write about reception desks and kettles.\n",
}


@pytest.fixture
def site(write_site: Callable[..., Path]) -> Path:
    return write_site(PAGES)


def index_files(out: Path) -> dict[str, bytes]:
    return {name: data for name, data in tree(out).items() if name.startswith("pagefind/")}


def test_index_is_written_with_the_site(site: Path) -> None:
    build_site(site)
    out = site.parent / "output"
    files = index_files(out)
    assert {"pagefind/pagefind.js", "pagefind/pagefind-entry.json", "pagefind/wasm.en.pagefind"} <= set(files)
    entry = json.loads(files["pagefind/pagefind-entry.json"])
    assert entry["languages"]["en"]["page_count"] == 3  # two articles and the page
    assert sum(1 for name in files if name.startswith("pagefind/fragment/")) == 3
    assert not any("-ui." in name for name in files)  # the theme has its own interface
    # The search page, its script, and a search box on every page.
    search = lxml.html.parse(str(out / "search/index.html")).getroot()
    assert search.get_element_by_id("search-form").get("data-root") == "../"
    assert search.cssselect('script[src^="../static/search.js"]')
    assert (out / "static/search.js").read_text().count("pagefind/pagefind.js") == 1
    home = lxml.html.parse(str(out / "index.html")).getroot()
    box = home.cssselect('header form[role="search"]')[0]
    assert box.get("action") == "search/" and box.cssselect('input[name="q"]')


def test_unchanged_site_is_not_reindexed(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_site(site)
    out = site.parent / "output"
    before = {p: p.stat().st_mtime_ns for p in (out / "pagefind").rglob("*") if p.is_file()}
    calls: list[int] = []
    import syndicate.render

    real = syndicate.render.make_index
    monkeypatch.setattr(syndicate.render, "make_index", lambda s, docs: calls.append(len(docs)) or real(s, docs))
    (site.parent / "content/lanterns.md").touch()  # a new mtime, the same bytes
    report = build_site(site)
    assert calls == [] and report.written == 0
    assert before == {p: p.stat().st_mtime_ns for p in (out / "pagefind").rglob("*") if p.is_file()}
    # A changed article is reindexed, and the index's old files go.
    (site.parent / "content/queues.md").write_text(article("Short Queues", date="2024-06-01", body="Open a second till early."))
    build_site(site)
    assert calls == [3]
    after = index_files(out)
    assert set(after) != {str(p.relative_to(out)) for p in before}
    assert len([n for n in after if n.startswith("pagefind/fragment/")]) == 3


def test_a_preview_between_two_builds_leaves_the_sites_index_whole(site: Path) -> None:
    """A preview (drafts in, its own folder) makes an index of its own; the next build of the
    site must still know which files its own index has, not delete all but one of them."""
    (site.parent / "content/sketch.md").write_text(article("Rough Sketch", draft="true", body="Not ready for readers."))
    build_site(site)
    out = site.parent / "output"
    before = index_files(out)
    build_site(site, include_drafts=True, mark_drafts=True, output_dir=site.parent / ".preview")
    assert index_files(site.parent / ".preview") != before  # the draft is in the preview's index
    os.utime(site.parent / "content/lanterns.md", ns=(1, 1))  # touched, not changed: the build must plan
    report = build_site(site)
    assert report.deleted == 0 and report.written == 0
    assert index_files(out) == before


def test_index_is_deterministic(write_site: Callable[..., Path], tmp_path: Path) -> None:
    site = write_site(PAGES)
    build_site(site)
    first = index_files(site.parent / "output")
    build_site(site, output_dir=tmp_path / "again", use_cache=False)
    assert index_files(tmp_path / "again") == first


def test_search_false_turns_it_all_off(write_site: Callable[..., Path]) -> None:
    site = write_site(PAGES, BASIC_SITE + "search: false\n")
    build_site(site)
    out = site.parent / "output"
    assert not (out / "pagefind").exists() and not (out / "search").exists() and not (out / "static/search.js").exists()
    assert 'role="search"' not in (out / "index.html").read_text()


def test_a_failing_indexer_leaves_the_output_as_it_was(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_site(site)
    out = site.parent / "output"
    before = tree(out)

    def broken(*_args: object) -> None:
        raise OSError("no such file: pagefind")

    monkeypatch.setattr("syndicate.search._index", lambda *_a: broken())
    (site.parent / "content/queues.md").write_text(article("Short Queues", date="2024-06-01", body="Changed."))
    with pytest.raises(SiteError) as caught:
        build_site(site)
    assert "search index failed: no such file: pagefind" in str(caught.value)
    assert tree(out) == before


def test_an_interrupt_while_indexing_stays_an_interrupt(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM during Pagefind, then a scratch folder that will not go away: still an interrupt,
    not a "search index failed" error that would hide it."""

    def interrupted(*_args: object) -> None:
        try:
            raise KeyboardInterrupt
        finally:
            raise OSError(39, "Directory not empty")  # noqa: B012 - what TemporaryDirectory's cleanup does

    from syndicate.config import load_site
    from syndicate.search import SearchDocument

    monkeypatch.setattr("syndicate.search._index", interrupted)
    with pytest.raises(KeyboardInterrupt):
        make_index(load_site(site), [SearchDocument("/a/", "<html><body><main>Kettle</main></body></html>")])


def test_make_index_keeps_only_what_the_browser_needs(site: Path) -> None:
    from syndicate.config import load_site
    from syndicate.search import SearchDocument

    loaded = load_site(site)
    files = make_index(loaded, [SearchDocument("/a/", '<html lang="en"><body><main><h1>Kettle</h1><p>Boil it.</p></main></body></html>')])
    assert all(name.startswith("pagefind/") for name in files)
    assert "pagefind/pagefind.js" in files and os.sep not in "".join(files).replace("/", "")


@pytest.mark.parametrize(("script", "said"), [
    ("echo 'Error: the index folder is not writable' >&2; exit 3", "search index failed: Error: the index folder is not writable"),
    ("exec sleep 30", "search index failed: Pagefind took longer than 1 seconds"),
    # An answer of the service's own: base64 JSON and a comma.
    ("printf '%s,' \"$(printf '{\"message_id\": 1, \"payload\": {\"type\": \"Error\", \"message\": \"unknown language\"}}' | base64 -w0)\"; sleep 5",
     "search index failed: Pagefind: unknown language"),
])
def test_a_broken_or_stuck_pagefind_is_one_line(site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                script: str, said: str) -> None:
    """The service runs with a deadline: its own last word, or the deadline, is the message."""
    from syndicate.config import load_site
    from syndicate.search import SearchDocument

    fake = tmp_path / "pagefind"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake))
    with pytest.raises(SiteError) as caught:
        make_index(load_site(site), [SearchDocument("/a/", "<html><body><main>Kettle</main></body></html>")], timeout=1)
    (line,) = str(caught.value).splitlines()
    assert line.endswith(f"/site.yaml:1: {said} (set 'search: false' in site.yaml to build without it)")


def test_documents_land_where_pagefind_gives_back_their_urls(site: Path) -> None:
    """Pretty URLs, .html permalinks and nested folders come back as the same URLs in the index."""
    from syndicate.config import load_site
    from syndicate.search import SearchDocument

    documents = [SearchDocument(url, f'<html lang="en"><body><main data-pagefind-body><h1>Doc {n}</h1></main></body></html>')
                 for n, url in enumerate(["/articles/kettle/", "/2019/03/04/pit-stop.html"])]
    files = make_index(load_site(site), documents)
    fragments = [json.loads(gzip.decompress(data)[len(b"pagefind_dcd"):]) for name, data in files.items() if "/fragment/" in name]
    assert sorted(f["url"] for f in fragments) == ["/2019/03/04/pit-stop.html", "/articles/kettle/"]


def test_a_site_with_nothing_to_index_builds_and_indexes_its_first_article(write_site: Callable[..., Path]) -> None:
    """Pagefind refuses to make an empty index: no index then, and one as soon as there is an article."""
    empty = write_site({"content/draft.md": article("Not Yet", draft="true")})
    build_site(empty)
    out = empty.parent / "output"
    assert (out / "search/index.html").is_file() and not index_files(out)
    (empty.parent / "content/first.md").write_text(article("First Light", body="Lamps lit at dusk."))
    build_site(empty)
    assert "pagefind/pagefind-entry.json" in index_files(out)


def test_pagefind_works_inside_the_cache_folder_and_a_killed_builds_scratch_goes(site: Path, monkeypatch: pytest.MonkeyPatch,
                                                                                 tmp_path: Path) -> None:
    """Nothing is written outside the output folder and the cache: Pagefind works from the
    cache folder and writes nothing, and a scratch folder a killed build of an older release
    left there is removed."""
    elsewhere = tmp_path / "machine-temp"
    elsewhere.mkdir()
    monkeypatch.setenv("TMPDIR", str(elsewhere))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    cache = site.parent / ".syndicate-cache"
    left = cache / "search-scratch-killed" / "site"
    left.mkdir(parents=True)
    (left / "index.html").write_text("<html></html>")
    build_site(site)
    assert index_files(site.parent / "output")
    assert not list(elsewhere.iterdir())
    assert not list(cache.glob("search-scratch-*"))


def test_thousands_of_answers_and_an_index_of_megabytes_come_through_the_pipes(site: Path) -> None:
    """Pagefind answers each document, many answers to a read, and then sends the whole index
    as one answer over many reads: every one must be taken apart where it ends."""
    from syndicate.config import load_site
    from syndicate.search import SearchDocument

    documents = [SearchDocument(f"/articles/note-{n}/", f'<html lang="en"><body><main data-pagefind-body><h1>Note {n}</h1>'
                                                        f"<p>Kettle number {n} boils at dawn. {' '.join(f'Spout {n * 40 + k} steams.' for k in range(40))}</p></main></body></html>")
                 for n in range(3000)]
    files = make_index(load_site(site), documents, timeout=120)
    entry = json.loads(files["pagefind/pagefind-entry.json"])
    assert entry["languages"]["en"]["page_count"] == 3000
    assert sum(1 for name in files if "/fragment/" in name) == 3000
    assert sum(map(len, files.values())) > 1 << 20  # in base64, more than a read of 1 MiB


def test_with_workers_the_index_is_made_beside_them_and_comes_out_the_same(site: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The index job runs in a process of its own beside the workers (it mostly waits for
    Pagefind); what it stages and reports is what one process would have made."""
    import syndicate.parallel
    import syndicate.render

    build_site(site, jobs=1)
    alone = tree(site.parent / "output")
    monkeypatch.setattr(syndicate.parallel, "MIN_PARALLEL_ITEMS", 1)
    monkeypatch.setattr(syndicate.render, "PARALLEL_JOBS_FROM", 0)
    makers = tmp_path / "makers"
    real = syndicate.render.make_index

    def noted(*args: object) -> dict[str, bytes]:
        with makers.open("a") as note:
            note.write(f"{os.getpid()}\n")
        return real(*args)  # type: ignore[arg-type]

    workers = tmp_path / "workers"
    render_one = syndicate.render._render_one

    def counted(renderer: syndicate.render.Renderer, job: Job) -> syndicate.render.JobResult:
        with workers.open("a") as note:
            note.write(f"{os.getpid()}\n")
        return render_one(renderer, job)

    monkeypatch.setattr(syndicate.render, "make_index", noted)
    monkeypatch.setattr(syndicate.render, "_render_one", counted)
    report = build_site(site, jobs=2, clean=True, output_dir=tmp_path / "beside")
    (maker,) = makers.read_text().split()
    assert maker != str(os.getpid()) and maker not in workers.read_text().split()
    beside = tree(tmp_path / "beside")
    assert beside.keys() == alone.keys()
    assert {k: v for k, v in beside.items() if k != ".syndicate-output"} == {k: v for k, v in alone.items() if k != ".syndicate-output"}
    assert report.written == len(alone) - 1  # every file but the marker (its times and token differ), which is not counted


def test_the_index_is_in_the_sites_language(write_site: Callable[..., Path]) -> None:
    """Pagefind stems words by language: a site in Brazilian Portuguese gets a Portuguese index."""
    site = write_site({"content/cafe.md": article("Café Na Recepção", body="Os hóspedes chegam cedo e pedem café.")},
                      BASIC_SITE + "language: pt-BR\n")
    build_site(site)
    files = index_files(site.parent / "output")
    assert "pagefind/wasm.pt.pagefind" in files and "pagefind/wasm.en.pagefind" not in files
    assert set(json.loads(files["pagefind/pagefind-entry.json"])["languages"]) == {"pt"}
