"""The site's search index, made by Pagefind: fully static, read by the browser in chunks.

Pagefind's binary comes with its Python package, so indexing needs no network. Each article
and stand-alone page goes to it as a small HTML document made from its Markdown body (title,
byline, body; no navigation or offer to pollute results), with the URL it has on the site.
The binary runs as a service on pipes: the documents go in on its standard input and the
index comes back as bytes on its standard output, to be written like every other output:
staged, then committed with the rest of the build. Nothing touches the disk on the way: on
the command line, Pagefind needs every document as a file in a scratch folder (a folder
each, for the URL) and writes its index there too; on a site of 5,000 articles those tens of
thousands of small files took longer than the indexing itself.

The service's protocol is the one Pagefind's own Python and Node packages speak (a request
is base64-encoded JSON and a comma); their Python client is not used: it reads each answer
after a tenth-of-a-second pause (a site of 1,000 articles spent 100 s waiting) and hangs for
good when the answer holding the index passes its 2 MiB read limit.

The index is one job of the plan. Its key covers every indexed document's source and
listing fields and the settings, so a build where none of those changed does not reindex.
Pagefind names its files by content hash, so which files the index has is only known once
it is made: the plan takes the list from the output folder's manifest (the files it holds
under the same key), else from the last index made with that key (plan.search_job).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from .cache import Cache, digest
from .errors import SiteError, one_line
from .model import Article, Body, Page, Site
from .urls import SEARCH_INDEX

INDEX_FOLDER = SEARCH_INDEX  # paths: urls.py
_SCRATCH = "search-scratch-"  # Pagefind's working folders before it ran as a service
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
    site.cache_dir.mkdir(parents=True, exist_ok=True)
    for left in site.cache_dir.glob(f"{_SCRATCH}*"):  # what a killed build of an older release left
        shutil.rmtree(left, ignore_errors=True)
    requests: list[dict[str, Any]] = [{"type": "NewIndex", "config": {"force_language": site.language.split("-")[0].lower()}}]
    requests += [{"type": "AddFile", "index_id": 0, "url": d.url, "file_contents": d.html} for d in documents]
    requests.append({"type": "GetFiles", "index_id": 0})
    # Its complaints go to a file in the cache folder: a pipe nobody reads could fill and stop it.
    with tempfile.TemporaryFile(dir=site.cache_dir) as said, \
            subprocess.Popen([str(binary), "--service"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=said,
                             cwd=site.cache_dir, env={**os.environ, "NO_COLOR": "1"}) as service:
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            service.kill()

        deadline = threading.Timer(timeout, expire)
        deadline.start()
        try:
            answer = _converse(service, requests)
        finally:
            deadline.cancel()
            service.wait()
        if answer is None and expired.is_set():
            raise subprocess.TimeoutExpired(str(binary), timeout)
        if answer is None:
            said.seek(0)
            lines = said.read().decode(errors="replace").strip().splitlines()
            raise subprocess.SubprocessError(lines[-1] if lines else f"pagefind exited with status {service.returncode}")
    return {file["path"]: base64.b64decode(file["content"]) for file in answer["files"]}


def _converse(service: subprocess.Popen[bytes], requests: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Send every request and read the answers until the last one's: its payload, or None if
    the service ended first. The requests go from a thread of their own, so the answers are
    read while documents are still going in: a service that answered into a full pipe would
    otherwise wait on this process while it waited to write."""
    assert service.stdin is not None and service.stdout is not None
    stdin, stdout = service.stdin, service.stdout
    _widen(stdin.fileno())

    def send() -> None:
        with contextlib.suppress(OSError):  # the service ended: the reader finds out and says why
            for number, payload in enumerate(requests, 1):
                stdin.write(base64.b64encode(json.dumps({"message_id": number, "payload": payload}).encode()) + b",")
            stdin.flush()

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answered = False
    try:
        buffer, start = bytearray(), 0
        while chunk := os.read(stdout.fileno(), 1 << 20):
            scanned = len(buffer)  # the bytes before these hold no separator past `start`
            buffer += chunk
            while (end := buffer.find(b",", max(start, scanned))) >= 0:
                answer = json.loads(base64.b64decode(bytes(buffer[start:end])))
                start = end + 1
                payload = answer.get("payload") or {}
                if payload.get("type") == "Error":
                    raise subprocess.SubprocessError(f"Pagefind: {payload.get('message') or 'an unknown error'}")
                if answer.get("message_id") == len(requests):
                    answered = True
                    return payload
            del buffer[:start]
            start = 0
        return None
    finally:
        if not answered:  # stopped half way: a sender still writing is freed by the service's end
            service.kill()
        with contextlib.suppress(OSError):
            stdin.close()  # the service ends when its input does
        sender.join()


def _widen(pipe: int) -> None:
    """A pipe of 1 MiB instead of 64 KiB: the sender runs that far ahead of Pagefind, which
    then reads for a while without waiting for this process to be given a core again (on a
    busy machine, it waited a sixth of the time)."""
    with contextlib.suppress(AttributeError, OSError):  # Linux only; a lower limit keeps the default
        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, 1 << 20)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, subprocess.TimeoutExpired):
        return f"Pagefind took longer than {exc.timeout:g} seconds"
    return one_line(exc) or type(exc).__name__
