"""Search, code highlighting and lead images in a real browser, with screenshots in both colour schemes.

Built from the repository's example site and served on 127.0.0.1 (see tests/browser_support.py).
Set SYNDICATE_SCREENSHOTS=DIR to keep the screenshots.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .browser_support import build_example, launched_chromium, serve

pytestmark = pytest.mark.browser

WITH_CODE = "counting-the-wait"
CODE_TITLE = "Counting the Wait Before You Cut It"


@pytest.fixture(scope="module")
def example_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_example(tmp_path_factory.mktemp("search") / "output")


@pytest.fixture(scope="module")
def base_url(example_output: Path) -> Iterator[str]:
    with serve(example_output) as url:
        yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


def open_page(chromium: Any, width: int = 1280, scheme: str = "light") -> Any:
    context = chromium.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    context.set_default_timeout(15_000)
    return context


def test_typing_in_the_header_search_box_finds_the_article(chromium: Any, base_url: str) -> None:
    context = open_page(chromium)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        page.goto(base_url + "/articles/night-clerk/")
        page.fill("#site-search", "spreadsheet")
        page.press("#site-search", "Enter")
        page.wait_for_url("**/search/?q=spreadsheet")
        first = page.wait_for_selector("#search-results li h2 a")
        assert first.text_content() == CODE_TITLE
        assert page.evaluate("() => document.querySelector('#search-results a').href") == f"{base_url}/articles/{WITH_CODE}/"
        assert "1 result for “spreadsheet”" in page.text_content("#search-status")
        assert page.query_selector("#search-results mark").text_content().lower().startswith("spreadsheet")
        # Typing on the search page searches again, as you type.
        page.fill("#search-query", "")
        page.type("#search-query", "drill", delay=30)
        page.wait_for_function("() => document.querySelector('#search-status').textContent.includes('drill')")
        titles = [a.text_content() for a in page.query_selector_all("#search-results li h2 a")]
        assert titles and titles[0] == "Give the Front Line the Keys"
        assert "q=drill" in page.url
        page.click("#search-results li h2 a")
        page.wait_for_url(f"{base_url}/articles/front-line-keys/")
        # A word that is nowhere says so.
        page.goto(base_url + "/search/?q=zzyzxqk")
        page.wait_for_function("() => document.querySelector('#search-status').textContent.startsWith('Nothing found')")
        assert not page.query_selector_all("#search-results li")
        assert not errors, errors
    finally:
        context.close()


def test_code_is_coloured_in_light_and_dark(chromium: Any, base_url: str) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        context = open_page(chromium, scheme=scheme)
        try:
            page = context.new_page()
            page.goto(f"{base_url}/articles/{WITH_CODE}/")
            colours[scheme] = page.evaluate("""() => {
                const pre = document.querySelector('pre.highlight'), keyword = pre.querySelector('.k, .kn');
                return [getComputedStyle(pre).backgroundColor, getComputedStyle(keyword).color,
                        getComputedStyle(document.querySelector('.prose p')).color];
            }""")
        finally:
            context.close()
    assert colours["light"][0] == "rgb(255, 255, 255)" and colours["dark"][0] == "rgb(29, 35, 49)"
    assert colours["light"][1] != colours["dark"][1]
    assert colours["light"][1] != colours["light"][2]  # a keyword is not the colour of prose


def test_lead_image_loads_a_copy_sized_for_the_screen(chromium: Any, base_url: str) -> None:
    chosen = {}
    for width in (390, 1280):
        context = open_page(chromium, width=width)
        try:
            page = context.new_page()
            page.goto(f"{base_url}/articles/{WITH_CODE}/")
            page.wait_for_load_state("networkidle")
            chosen[width] = page.evaluate("""() => {
                const img = document.querySelector('.lead-image img'), box = img.getBoundingClientRect();
                return {src: img.currentSrc.split('/').pop(), width: box.width, natural: img.naturalWidth,
                        ratio: box.width / box.height, main: document.querySelector('main').getBoundingClientRect().width};
            }""")
        finally:
            context.close()
    assert chosen[390]["src"] in ("lamp-counter-480w.jpg", "lamp-counter-800w.jpg")  # 350 css px at most 2x
    assert chosen[1280]["src"] in ("lamp-counter-1200w.jpg", "lamp-counter-1600w.jpg")
    assert abs(chosen[1280]["ratio"] - 1.8) < 0.01  # width and height set: the box has the image's shape
    assert chosen[1280]["width"] > chosen[1280]["main"]  # wider than the text column


SHOTS = {"home": "/", "article-code-image": f"/articles/{WITH_CODE}/", "search": "/search/?q=queue"}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots(chromium: Any, base_url: str, tmp_path: Path, width: int, scheme: str) -> None:
    keep = os.environ.get("SYNDICATE_SCREENSHOTS")
    for name, path in SHOTS.items():
        context = open_page(chromium, width=width, scheme=scheme)
        try:
            page = context.new_page()
            page.goto(base_url + path)
            page.wait_for_load_state("networkidle")
            if name == "search":
                page.wait_for_selector("#search-results li")
            sizes = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
            assert sizes[0] <= sizes[1], f"{path} at {width}px overflows horizontally: {sizes}"
            target = tmp_path / f"{name}-{width}-{scheme}.png"
            page.screenshot(path=str(target), full_page=True)
        finally:
            context.close()
        data = target.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5_000
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, Path(keep) / target.name)
