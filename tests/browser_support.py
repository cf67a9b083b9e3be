"""Helpers for the tests that need tools from outside Python: Chromium, java + vnu, axe-core.

Those tests skip with a reason when a tool is missing, except when SYNDICATE_BROWSER_REQUIRED=1
(as `.ci/run` sets): then a missing tool is a failure, so CI can never pass by skipping.
"""

from __future__ import annotations

import functools
import mimetypes
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

import pytest

from syndicate import SiteError, build
from syndicate.model import BuildOptions

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = REPO / "site.yaml"
NODE_MODULES = REPO / "node_modules"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
# Fixed, so builds repeat: after front-line-keys (2026-02-10, with images) is published and before
# managers-hour (2026-10-20) is, so the example keeps one scheduled article.
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# Flags measured to work for Debian's Chromium, as root, with no network (docs/libraries.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_required() -> bool:
    return os.environ.get("SYNDICATE_BROWSER_REQUIRED") == "1"


def missing(reason: str) -> NoReturn:
    """Skip for a missing tool; fail instead when SYNDICATE_BROWSER_REQUIRED=1."""
    if browser_required():
        pytest.fail(f"{reason} (SYNDICATE_BROWSER_REQUIRED=1, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str:
    """The Chromium to drive: $SYNDICATE_CHROMIUM, else /usr/bin/chromium, else one on PATH."""
    candidates = [os.environ.get("SYNDICATE_CHROMIUM", ""), "/usr/bin/chromium", shutil.which("chromium") or ""]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    missing("Chromium is not installed (apt-get install -y chromium fonts-dejavu-core)")


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """A headless Chromium through Playwright, closed afterwards; a missing piece skips (or fails in CI)."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as exc:  # any launch failure means "no usable browser"
            missing(f"could not launch {executable}: {exc}")
        try:
            yield browser
        finally:
            browser.close()


def require_node_module(path: Path) -> Path:
    if not path.is_file():
        missing(f"{path.relative_to(REPO)} is missing: run `npm install` in the repository root")
    return path


def build_example(out_dir: Path) -> Path:
    """Build the repository's example site into `out_dir` (which must not exist yet); returns it.

    The build lock lives in the example site's .syndicate-cache, so a build someone else runs at the
    same moment refuses ours: wait for it instead of failing the test.
    """
    options = BuildOptions(output_dir=out_dir, now=NOW, jobs=1)
    deadline = time.monotonic() + 60
    while True:
        try:
            build(EXAMPLE_SITE, options)
            return out_dir
        except SiteError as exc:
            if "another build" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def wrap_snippet(fragment: str, title: str = "Syndicated copy") -> str:
    """A minimal, valid HTML5 page around a syndicated fragment, as a newsletter page would have."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n</head>\n<body>\n{fragment}\n</body>\n</html>\n"
    )


def normalise_space(text: str) -> str:
    return " ".join(text.split())


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` over HTTP on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="test-http-server", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def local_file_for(url: str, site_url: str, folder: Path) -> Path | None:
    """The file under `folder` that the absolute `url` on the deployed site (`site_url`) names."""
    base = urlsplit(site_url)
    target = urlsplit(url)
    if (target.scheme, target.netloc) != (base.scheme, base.netloc):
        return None
    prefix = base.path.rstrip("/") + "/"
    path = unquote(target.path)
    if not (path + "/").startswith(prefix):
        return None
    relative = path[len(prefix):]
    candidate = (folder / relative).resolve()
    if candidate.is_dir():
        candidate = candidate / "index.html"
    if not candidate.is_relative_to(folder.resolve()) or not candidate.is_file():
        return None
    return candidate


def content_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"
