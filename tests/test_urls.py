from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.urls import (
    absolute_url,
    absolutize_root_paths,
    add_query,
    contained_path,
    is_safe_slug,
    relative_url,
    relativize_root_paths,
    resolve_content_link,
    slugify,
)


@pytest.mark.parametrize(("name", "slug"), [("Tips & Tricks", "tips-tricks"), ("tips-tricks", "tips-tricks"),
                                            ("  Service   Quality ", "service-quality"), ("Café Ops", "café-ops"),
                                            ("a_b", "a-b")])
def test_slugify_follows_the_tag_rule(name: str, slug: str) -> None:
    assert slugify(name) == slug


@given(st.text())
def test_slugify_is_idempotent_and_safe(text: str) -> None:
    slug = slugify(text)
    assert slugify(slug) == slug
    assert "/" not in slug and ".." not in slug and not slug.startswith("-")
    if slug:
        assert is_safe_slug(slug)


@pytest.mark.parametrize("slug", ["../x", "a/b", ".hidden", "..", "a..b", ""])
def test_unsafe_slugs(slug: str) -> None:
    assert not is_safe_slug(slug)


@pytest.mark.parametrize(("src", "dst", "href"), [
    ("", "articles/a/", "articles/a/"),
    ("articles/a/", "", "../../"),
    ("articles/a/", "tags/b/", "../../tags/b/"),
    ("page/2/", "page/3/", "../../page/3/"),
    ("", "", "./"),
])
def test_relative_url(src: str, dst: str, href: str) -> None:
    assert relative_url(src, dst) == href


def test_absolute_url_keeps_the_base_path() -> None:
    assert absolute_url("https://u.example.io/digest/", "articles/a b/") == "https://u.example.io/digest/articles/a%20b/"


def test_root_paths_in_bodies() -> None:
    html = '<a href="/x/">x</a><img src="/i.png"><a href="//cdn.example.com/y">y</a><a href="https://e.com/">e</a>'
    assert relativize_root_paths(html, "articles/a/") == (
        '<a href="../../x/">x</a><img src="../../i.png"><a href="//cdn.example.com/y">y</a><a href="https://e.com/">e</a>')
    assert absolutize_root_paths(html, "https://s.example.org/base/").count("https://s.example.org/base/") == 2


@pytest.mark.parametrize(("href", "folder", "resolved"), [
    ("images/a.png", "2024", "/2024/images/a.png"),
    ("../images/a.png", "2024", "/images/a.png"),
    ("/images/a.png", "2024", "/images/a.png"),
    ("https://example.com/a", ".", None),
    ("#top", ".", None),
    ("mailto:a@example.com", ".", None),
    ("../../../../etc/passwd", ".", "/etc/passwd"),
])
def test_resolve_content_link(href: str, folder: str, resolved: str | None) -> None:
    assert resolve_content_link(href, PurePosixPath(folder)) == resolved


def test_add_query_keeps_existing_parameters() -> None:
    assert add_query("https://a.example.com/x?y=1", {"utm_source": "s"}) == "https://a.example.com/x?y=1&utm_source=s"
    assert add_query("https://a.example.com/x", {}) == "https://a.example.com/x"


def test_contained_path_refuses_escapes(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.mkdir()
    assert contained_path(out, "a/b.html") == (out / "a/b.html").resolve()
    assert contained_path(out, "../output-evil/x") is None
    assert contained_path(out, "/etc/passwd") is None
