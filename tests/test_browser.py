"""The built example site in a real browser: Debian's Chromium driven by playwright-python.

The site is built into a temporary folder and served over HTTP on 127.0.0.1. Page links are
relative, so navigation stays on loopback even though site.yaml's url is https://digest.example.org.
Skipped with a reason when Chromium, playwright or an npm piece is missing, unless
SYNDICATE_BROWSER_REQUIRED=1. Never run `playwright install`: the tests use the system Chromium.

Set SYNDICATE_SCREENSHOTS=DIR to keep a copy of the screenshots the tests take.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from syndicate.attribution import parse_statement
from syndicate.config import load_site

from .browser_support import (
    AXE_JS,
    EXAMPLE_SITE,
    build_example,
    content_type,
    launched_chromium,
    local_file_for,
    normalise_space,
    require_node_module,
    serve,
    wrap_snippet,
)

pytestmark = pytest.mark.browser

# site.yaml's url (https://digest.example.org): the absolute links in snippets point there.
SITE_URL = str(yaml.safe_load(EXAMPLE_SITE.read_text(encoding="utf-8"))["url"]).rstrip("/")
SYNDICABLE = "night-clerk"
WITH_IMAGE = "front-line-keys"  # an article with an image in its body
WITH_CODE = "counting-the-wait"  # an article with a highlighted code block and a raster lead image


# Fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_example(tmp_path_factory.mktemp("browser") / "output")


@pytest.fixture(scope="module")
def base_url(example_output: Path) -> Iterator[str]:
    with serve(example_output) as url:
        yield url


@pytest.fixture(scope="module")
def axe_js() -> Path:
    return require_node_module(AXE_JS)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the module (named so as not to shadow pytest-playwright's `browser`)."""
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def site_page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


class PageProblems:
    """Console errors, uncaught exceptions and failed or off-site requests seen by one page."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.items: list[str] = []
        self.base_url = base_url
        page.on("console", lambda msg: msg.type == "error" and self.items.append(f"console error: {msg.text} ({msg.location})"))
        page.on("pageerror", lambda exc: self.items.append(f"uncaught exception: {exc}"))
        page.on("requestfailed", lambda req: self.items.append(f"request failed: {req.url} ({req.failure})"))
        page.on("response", lambda res: res.status >= 400 and self.items.append(f"HTTP {res.status}: {res.url}"))
        # The built site must be self-contained: anything off loopback is a failure (and there is no
        # network here anyway), so abort it at once instead of waiting for DNS.
        page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(self.base_url + "/") or url.startswith("data:"):
            route.continue_()
        else:
            self.items.append(f"off-site request: {url}")
            route.abort()


def serve_site_url_from(page: Any, folder: Path, extra: dict[str, str] | None = None) -> None:
    """Answer requests for the deployed site's URLs from the built folder (snippets use absolute links).

    `extra` maps further paths under the site URL to HTML bodies (the wrapped snippets).
    """
    extra = extra or {}

    def handle(route: Any) -> None:
        url = route.request.url
        if url in extra:
            route.fulfill(status=200, body=extra[url], content_type="text/html; charset=utf-8")
            return
        path = local_file_for(url, SITE_URL, folder)
        if path is None:
            route.fulfill(status=404, body="not in the build")
        else:
            route.fulfill(status=200, body=path.read_bytes(), content_type=content_type(path))

    page.route(SITE_URL + "/**", handle)


# What sticks out past the right edge: elements, and text that overflows the box it is in.
OVERFLOW_JS = """() => {
    const limit = window.innerWidth + 0.5, found = [];
    for (const el of document.body.querySelectorAll("*")) {
        if (el.getBoundingClientRect().right > limit) found.push(`<${el.tagName.toLowerCase()}> ${el.outerHTML.slice(0, 80)}`);
    }
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode()); ) {
        const range = document.createRange();
        range.selectNodeContents(node);
        if ([...range.getClientRects()].some((r) => r.right > limit))
            found.push(`text in <${node.parentElement.tagName.toLowerCase()}>: ${node.textContent.trim().slice(0, 100)}`);
    }
    return {scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth, culprits: found.slice(0, 5)};
}"""


def keep_screenshot(path: Path) -> None:
    keep = os.environ.get("SYNDICATE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, Path(keep) / path.name)


# Tests ------------------------------------------------------------------------------------------


def test_index_links_to_an_article(site_page: Any, base_url: str) -> None:
    page = site_page
    page.goto(base_url + "/")
    site_title = page.title()
    assert site_title, "the index has no <title>"
    link = page.locator("main a[href*='articles/']").first
    link_text = normalise_space(link.inner_text())
    assert link_text, "the first article link on the index has no text"

    link.click()
    page.wait_for_url("**/articles/*/")
    assert page.url.startswith(base_url + "/articles/"), page.url
    heading = normalise_space(page.locator("h1").first.inner_text())
    assert heading == link_text, f"followed {link_text!r} but the page's heading is {heading!r}"
    assert link_text in page.title(), f"the article's <title> {page.title()!r} does not name it"
    assert page.title() != site_title


def test_copy_button_puts_the_exact_snippet_on_the_clipboard(chromium: Any, base_url: str, example_output: Path) -> None:
    expected = (example_output / "syndicate" / f"{SYNDICABLE}.html").read_text(encoding="utf-8")
    context = chromium.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.goto(f"{base_url}/articles/{SYNDICABLE}/")
        section = page.get_by_role("region", name="Republish this article")
        button = section.get_by_role("button", name="Copy HTML source")
        assert button.is_visible(), "the copy button stays hidden (its script did not run?)"
        try:  # a sentinel, so a stale clipboard cannot pass for a copy
            page.evaluate("navigator.clipboard.writeText('nothing copied yet')")
        except Exception:  # no clipboard headless: the fallback below is checked instead
            pass
        button.click()

        copied = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                copied = page.evaluate("navigator.clipboard.readText()")
            except Exception:  # clipboard unavailable headless: use the fallback below
                copied = None
                break
            if copied and copied != "nothing copied yet":
                break
            page.wait_for_timeout(100)

        if copied is None:
            # No clipboard: the page's fallback selects the text for the reader to copy by hand.
            copied = page.evaluate(
                """() => {
                    const el = document.activeElement;
                    if (el && typeof el.selectionStart === "number")
                        return el.value.slice(el.selectionStart, el.selectionEnd);
                    return String(document.getSelection());
                }"""
            )
        assert normalise_space(copied or "") == normalise_space(expected), (
            f"the copied text differs from output/syndicate/{SYNDICABLE}.html:\n"
            f"copied   {normalise_space(copied or '')[:300]!r}...\nexpected {normalise_space(expected)[:300]!r}..."
        )
    finally:
        context.close()


def test_copy_formatted_puts_html_and_text_on_the_clipboard_and_pastes_live_links(chromium: Any, base_url: str,
                                                                                 example_output: Path) -> None:
    """The editor's path: copy, then paste into a rich editor (here a contenteditable, as Gmail's
    compose box and newsletter editors are) and get the statement with its links live."""
    snippet = (example_output / "syndicate" / f"{SYNDICABLE}.html").read_text(encoding="utf-8")
    text = (example_output / "syndicate" / f"{SYNDICABLE}.txt").read_text(encoding="utf-8")
    manifest = json.loads((example_output / "syndicate" / "index.json").read_text(encoding="utf-8"))
    [entry] = [a for a in manifest["articles"] if a["slug"] == SYNDICABLE]
    context = chromium.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.goto(f"{base_url}/articles/{SYNDICABLE}/")
        page.evaluate("navigator.clipboard.writeText('nothing copied yet')")
        page.get_by_role("region", name="Republish this article").get_by_role("button", name="Copy formatted").click()
        flavours: dict[str, str] = {}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and flavours.get("text/plain", "nothing copied yet") == "nothing copied yet":
            page.wait_for_timeout(100)
            flavours = page.evaluate("""async () => {
                const found = {};
                for (const item of await navigator.clipboard.read())
                    for (const type of item.types) found[type] = await (await item.getType(type)).text();
                return found;
            }""")
        assert set(flavours) == {"text/html", "text/plain"}, flavours.keys()
        assert normalise_space(flavours["text/plain"]) == normalise_space(text), "the plain flavour is the text copy"
        copied_links = page.evaluate("html => [...new DOMParser().parseFromString(html, 'text/html').querySelectorAll('a')].map(a => a.href)",
                                     flavours["text/html"])
        snippet_links = page.evaluate("html => [...new DOMParser().parseFromString(html, 'text/html').querySelectorAll('a')].map(a => a.href)",
                                      snippet)
        assert copied_links == snippet_links, "the HTML flavour is the snippet"

        page.evaluate("""() => {
            const box = document.createElement("div");
            box.id = "compose"; box.contentEditable = "true"; box.style.minHeight = "4em";
            document.body.prepend(box); box.focus();
        }""")
        page.keyboard.press("Control+V")
        page.wait_for_function("document.querySelectorAll('#compose a').length > 0", timeout=5000)
        pasted_links = page.evaluate("[...document.querySelectorAll('#compose a')].map(a => a.href)")
        pasted_text = normalise_space(page.evaluate("document.getElementById('compose').innerText"))
        for link in [*entry["links"], entry["url"]]:
            assert page.evaluate("url => new URL(url).href", link) in pasted_links, f"the pasted copy lost its live link to {link}"
        site = load_site(EXAMPLE_SITE)
        reprint = site.authors[entry["author_id"]].reprint
        assert reprint is not None
        assert normalise_space(parse_statement(reprint.statement).visible_text) in pasted_text, "the statement's words were not pasted"
    finally:
        context.close()


@pytest.mark.parametrize("width", [600, 375])
def test_snippets_do_not_overflow_narrow_screens(chromium: Any, example_output: Path, width: int) -> None:
    snippets = sorted(p for p in (example_output / "syndicate").glob("*.html") if p.name != "index.html")  # index.html: the catalogue
    assert snippets
    context = chromium.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        pages = {
            f"{SITE_URL}/__snippet__/{snippet.name}": wrap_snippet(snippet.read_text(encoding="utf-8"), snippet.stem)
            for snippet in snippets
        }
        # Served from the site's own origin, so absolute image URLs load their real files.
        serve_site_url_from(page, example_output, pages)
        overflowing = {}
        for url in pages:
            page.goto(url)
            page.wait_for_load_state("load")
            sizes = page.evaluate(OVERFLOW_JS)
            if sizes["scroll"] > sizes["inner"]:
                overflowing[url.rsplit('/', 1)[-1]] = sizes
        assert not overflowing, f"snippets wider than a {width}px screen (scrollWidth > innerWidth):\n" + json.dumps(
            overflowing, indent=2, ensure_ascii=False)
    finally:
        context.close()


def _tag_path(example_output: Path) -> str:
    tags = sorted(p.parent.name for p in (example_output / "tags").glob("*/index.html"))
    assert tags, "the example site has no tag pages"
    return f"/tags/{tags[0]}/"


@pytest.mark.parametrize("path", ["/", f"/articles/{SYNDICABLE}/", f"/articles/{WITH_IMAGE}/", "TAG", "/archive/", "/pages/about/",
                                  f"/articles/{WITH_CODE}/", "/tags/", "/authors/", "/search/?q=queue"])
def test_no_console_errors_or_failed_requests(site_page: Any, base_url: str, example_output: Path, path: str) -> None:
    page = site_page
    if path == "TAG":
        path = _tag_path(example_output)
    problems = PageProblems(page, base_url)
    response = page.goto(base_url + path)
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    page.wait_for_load_state("networkidle")
    assert not problems.items, f"{path}:\n" + "\n".join(problems.items)


def test_problem_watcher_sees_failures(site_page: Any, base_url: str) -> None:
    """Guard for the test above: a missing file and an off-site request must both be reported."""
    problems = PageProblems(site_page, base_url)
    site_page.goto(base_url + "/")
    site_page.evaluate("""() => {
        for (const src of ["no-such-image.png", "https://cdn.example.com/x.js"]) {
            const img = document.createElement("img"); img.src = src; img.alt = ""; document.body.append(img);
        }
    }""")
    site_page.wait_for_load_state("networkidle")
    site_page.wait_for_timeout(200)
    seen = "\n".join(problems.items)
    assert "HTTP 404" in seen and "no-such-image.png" in seen, seen
    assert "off-site request: https://cdn.example.com/x.js" in seen, seen


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", ["/", f"/articles/{SYNDICABLE}/", f"/articles/{WITH_IMAGE}/", f"/articles/{WITH_CODE}/",
                                  "/tags/", "/authors/", "/search/?q=queue"])
def test_no_serious_accessibility_violations(axe_js: Path, chromium: Any, base_url: str, path: str, scheme: str) -> None:
    context = chromium.new_context(viewport={"width": 1200, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(base_url + path)
        if path.startswith("/search/"):  # the results are what must be accessible
            page.wait_for_selector("#search-results li")
        page.add_script_tag(path=str(axe_js))
        results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    finally:
        context.close()
    serious = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    report = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [{"target": n["target"], "summary": n.get("failureSummary", "")} for n in v["nodes"][:5]],
        }
        for v in serious
    ]
    assert not serious, f"axe-core: serious/critical violations on {path} ({scheme}):\n{json.dumps(report, indent=2)}"


def test_screenshots(chromium: Any, base_url: str, tmp_path: Path) -> None:
    shots = {
        "index-1200.png": ("/", 1200),
        "index-375.png": ("/", 375),
        f"article-{SYNDICABLE}-1200.png": (f"/articles/{SYNDICABLE}/", 1200),
    }
    for name, (path, width) in shots.items():
        context = chromium.new_context(viewport={"width": width, "height": 900})
        try:
            page = context.new_page()
            page.goto(base_url + path)
            page.wait_for_load_state("networkidle")
            # No horizontal scrolling on the site's own pages either.
            sizes = page.evaluate(OVERFLOW_JS)
            assert sizes["scroll"] <= sizes["inner"], f"{path} at {width}px overflows horizontally: {sizes}"
            target = tmp_path / name
            page.screenshot(path=str(target), full_page=True)
        finally:
            context.close()
        data = target.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5_000, f"{name}: not a real screenshot"
        keep_screenshot(target)
