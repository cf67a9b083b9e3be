"""The site's search index, made by Pagefind: fully static, read by the browser in chunks.

Pagefind's binary comes with its Python package, so indexing needs no network. Each
article and stand-alone page is handed to it as a small HTML document made from its
Markdown body (title, byline, body; no navigation or offer to pollute results), with the
URL it has on the site. The index files come back as bytes and are written like every
other output: staged, then committed with the rest of the build.

The index is one job of the plan. Its key covers every indexed document's source and
listing fields and the settings, so a build where none of those changed does not reindex.
Pagefind names its files by content hash, so which files the index has is only known once
it is made: the plan takes the list from the last index made with the same key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from .cache import Cache, digest
from .errors import SiteError
from .model import Article, Body, Page, Site
from .urls import SEARCH_INDEX, page_file

INDEX_FOLDER = SEARCH_INDEX  # paths: urls.py
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


def make_index(site: Site, documents: Sequence[SearchDocument]) -> dict[str, bytes]:
    """Index the documents with Pagefind; returns output path -> bytes, under pagefind/."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        # In a thread of its own, with its own event loop: build() may be called from code that
        # already runs one (a notebook, an async server, a browser test), where asyncio.run fails.
        with ThreadPoolExecutor(1, thread_name_prefix="pagefind") as pool:
            files = pool.submit(lambda: asyncio.run(_index(site, documents))).result()
    except (OSError, RuntimeError, AssertionError) as exc:
        raise SiteError.one(site.source, 1, f"search index failed: {exc} (set 'search: false' in site.yaml to build without it)") from None
    return {f"{INDEX_FOLDER}/{path}": data for path, data in sorted(files.items()) if not path.startswith(_LEFT_OUT)}


async def _index(site: Site, documents: Sequence[SearchDocument]) -> Mapping[str, bytes]:
    """Pagefind indexes the documents as a folder of files, in one request.

    Its Python service reads one answer every tenth of a second, so a request per document
    cost 0.1 s each (ten minutes for 5,000 articles); a folder is one request, indexed by
    the binary on every core. Each file sits where its page is served, so Pagefind gives
    it the URL the page has on the site."""
    import tempfile

    from pagefind.service import PagefindService

    with tempfile.TemporaryDirectory(prefix="syndicate-search-") as folder:
        root = Path(folder)
        for document in documents:
            path = root / page_file(document.url.lstrip("/"))
            if not path.resolve().is_relative_to(root.resolve()):  # urls.py checks paths; this makes sure
                raise RuntimeError(f"a search document outside the index folder: {document.url}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(document.html, encoding="utf-8")
        service = await PagefindService().launch()
        try:
            index = await service.create_index({"force_language": site.language.split("-")[0].lower()})
            await index.add_directory(str(root))
            return {str(f["path"]): bytes(f["content"]) for f in await index.get_files()}
        finally:
            await service.close()
