"""The site's search index, made by Pagefind: fully static, read by the browser in chunks.

Pagefind's binary comes with its Python package, so indexing needs no network. Each
article and stand-alone page is written, into a scratch folder in the site's cache folder
(nothing goes elsewhere on the machine) at the path it has on the site, as a small HTML
document made from its Markdown body (title, byline, body; no navigation or offer to
pollute results); the binary indexes that folder in one run, and the
index files are read back as bytes and written like every other output: staged, then
committed with the rest of the build.

The binary is run as a command, not through the package's message service: the service
reads each answer after a tenth-of-a-second pause (a site of 1,000 articles spent 100 s
waiting) and hangs for good when the answer holding the index passes its 2 MiB read limit.

The index is one job of the plan. Its key covers every indexed document's source and
listing fields and the settings, so a build where none of those changed does not reindex.
Pagefind names its files by content hash, so which files the index has is only known once
it is made: the plan takes the list from the output folder's manifest (the files it holds
under the same key), else from the last index made with that key (plan.search_job).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path, PurePosixPath

from .cache import Cache, digest
from .errors import SiteError, one_line
from .model import Article, Body, Page, Site
from .urls import SEARCH_INDEX

INDEX_FOLDER = SEARCH_INDEX  # paths: urls.py
_SCRATCH = "search-scratch-"  # Pagefind's working folders, in the site's cache folder
# What the browser needs of Pagefind's output: the loader, the WebAssembly, the index. Its
# ready-made interfaces are left out: the theme's search page has its own.
_LEFT_OUT = ("pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.", "pagefind-highlight.")


def pagefind_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # only for sites with search: startup stays light

    try:
        return version("pagefind")
    except PackageNotFoundError:  # pragma: no cover - a broken install
        return ""


@dataclass(frozen=True, slots=True)
class SearchDocument:
    """One page as the index sees it."""

    url: str  # site-root path with a leading slash, like /articles/pit-stop/
    html: str


def document_for_article(site: Site, article: Article, body: Body, date: str) -> SearchDocument:
    byline = f"{escape(article.author.name)} · {escape(date)}"  # shown with each result, and searchable
    html = (f'<!DOCTYPE html><html lang="{escape(site.language)}"><head><title>{escape(article.title)}</title></head>'
            f'<body><main data-pagefind-body><h1>{escape(article.title)}</h1>'
            f'<p data-pagefind-meta="byline">{byline}</p>{body.html}</main></body></html>')
    return SearchDocument("/" + article.path, html)


def document_for_page(site: Site, page: Page, body: Body) -> SearchDocument:
    html = (f'<!DOCTYPE html><html lang="{escape(site.language)}"><head><title>{escape(page.title)}</title></head>'
            f'<body><main data-pagefind-body><h1>{escape(page.title)}</h1>{body.html}</main></body></html>')
    return SearchDocument("/" + page.path, html)


def index_key(site: Site, articles: Sequence[Article], pages: Sequence[Page]) -> str:
    """Changes exactly when the index would: any indexed source, listing field or setting."""
    return digest("search", pagefind_version(), site.fingerprint, *(a.source_hash + a.meta_hash for a in articles),
                  *(p.source_hash + p.slug for p in pages))


def known_index_files(cache: Cache, key: str) -> tuple[str, ...]:
    """The files of the last index made with this key (none known: the index is made again)."""
    state = cache.get_state("search-files")
    if isinstance(state, dict) and state.get("key") == key and isinstance(state.get("files"), list):
        return tuple(state["files"])
    return ()


def remember_index_files(cache: Cache, made: Mapping[str, Iterable[str]]) -> None:
    """The files of an index just made (by its key; none when this build made none): they are
    known only once it is made, and the next build's plan needs them."""
    for key, files in made.items():
        cache.put_state("search-files", {"key": key, "files": sorted(files)})


def make_index(site: Site, documents: Sequence[SearchDocument], *, timeout: float = 900) -> dict[str, bytes]:
    """Index the documents with Pagefind; returns output path -> bytes, under pagefind/.
    With nothing to index there is no index (Pagefind refuses to make an empty one): the
    search page then says search is not available, on a site that has nothing to find."""
    if not documents:
        return {}
    try:
        files = _index(site, documents, timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            # Ctrl-C or SIGTERM while Pagefind ran, and removing its half-written folder failed
            # after it: the interrupt is what happened, and what the build must report.
            raise exc.__context__ from None
        raise SiteError.one(site.source, 1, f"search index failed: {_reason(exc)} "
                                            "(set 'search: false' in site.yaml to build without it)") from None
    return {f"{INDEX_FOLDER}/{path}": data for path, data in sorted(files.items()) if not path.startswith(_LEFT_OUT)}


def _index(site: Site, documents: Sequence[SearchDocument], timeout: float) -> Mapping[str, bytes]:
    from pagefind.service import get_executable

    binary = get_executable()
    if binary is None:
        raise FileNotFoundError("the Pagefind binary is missing; reinstall syndicate-ssg")
    # The scratch folder lives in the site's cache folder, never elsewhere on the machine; one
    # that a killed build left behind goes now (builds of a site take turns under its lock).
    site.cache_dir.mkdir(parents=True, exist_ok=True)
    for left in site.cache_dir.glob(f"{_SCRATCH}*"):
        shutil.rmtree(left, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=_SCRATCH, dir=site.cache_dir) as scratch:
        pages, bundle = Path(scratch, "site"), Path(scratch, "index")
        for document in documents:
            path = pages.joinpath(*_file_for(document.url).parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(document.html, encoding="utf-8")
        pages.mkdir(exist_ok=True)  # a site with nothing to index still gets an (empty) index
        command = [str(binary), "--site", str(pages), "--output-path", str(bundle), "--silent",
                   "--force-language", site.language.split("-")[0].lower()]
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False, cwd=scratch,
                              env={**os.environ, "NO_COLOR": "1"})
        if done.returncode != 0:
            said = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
            raise subprocess.SubprocessError(said[-1] if said else f"pagefind exited with status {done.returncode}")
        return {path.relative_to(bundle).as_posix(): path.read_bytes() for path in bundle.rglob("*") if path.is_file()}


def _file_for(url: str) -> PurePosixPath:
    """The file, relative to the folder indexed, that Pagefind turns back into `url`
    (it drops a trailing index.html). URLs come from urls.py, which never makes `..`."""
    relative = url.lstrip("/")
    if not relative or relative.endswith("/") or not relative.endswith((".html", ".htm")):
        relative = relative.rstrip("/") + "/index.html" if relative.strip("/") else "index.html"
    path = PurePosixPath(relative)
    if ".." in path.parts:
        raise OSError(f"refusing to index a document outside the site: {url}")
    return path


def _reason(exc: BaseException) -> str:
    if isinstance(exc, subprocess.TimeoutExpired):
        return f"Pagefind took longer than {exc.timeout:g} seconds"
    return one_line(exc) or type(exc).__name__
