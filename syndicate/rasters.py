"""SVG images in e-mail: most inboxes show an SVG as a broken image, so every copy that
leaves the site (snippets, newsletter issues) shows a raster twin instead, a PNG, JPEG or
GIF of the same name beside the SVG under content/, or leaves the image out, with a warning
at the line that shows it. Pure functions of the site's file paths; no image is read.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from .errors import Problem, warning
from .model import Article
from .urls import raster_twin_paths

_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r"""\ssrc=(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)


def is_svg(src: str) -> bool:
    return src.split("?", 1)[0].split("#", 1)[0].lower().endswith((".svg", ".svgz"))


def raster_image(src: str, assets: Collection[str]) -> str | None:
    """What an e-mail can show for an image: itself unless it is SVG, else a PNG, JPEG or GIF
    of the same name beside it under content/ (`assets`: their site paths, no leading '/'),
    else None."""
    if not is_svg(src):
        return src
    if src.startswith("/"):
        return next((twin for twin in raster_twin_paths(src) if twin.lstrip("/") in assets), None)
    return None


def raster_twins(assets: Collection[str]) -> list[str]:
    """The PNG, JPEG and GIF files that stand in for an SVG beside them, sorted: when this
    list changes, every copy that shows one of those images must be made again."""
    twins = {twin for path in assets if is_svg(path) for twin in raster_twin_paths(path)}
    return sorted(path for path in assets if path in twins)


def email_images(html: str, assets: Collection[str]) -> str:
    """Every SVG <img> replaced by its raster twin, or left out when it has none (see
    `svg_warnings`)."""

    def swap(match: re.Match[str]) -> str:
        src = _SRC.search(match[0])
        if src is None or not is_svg(src[2]):
            return match[0]
        raster = raster_image(src[2], assets)
        return match[0].replace(src[0], f" src={src[1]}{raster}{src[1]}", 1) if raster else ""

    return _IMG.sub(swap, html)


def svg_warnings(article: Article, links: Sequence[str], lines: Sequence[int], assets: Collection[str]) -> list[Problem]:
    """The SVG images an article's copies leave out, each once: the lead image and any in the
    body (at its line, `lines` running beside `links`) without a raster twin beside them."""
    found = []
    if article.image and raster_image(article.image, assets) is None:
        found.append(warning(article.source, 1, (
            f"lead image '{article.image.lstrip('/')}' is SVG, which e-mail clients do not show: its syndicated "
            "copies carry no lead image (put a PNG or JPEG of the same name beside it to use that)")))
    seen = {article.image}
    for index, link in enumerate(links):
        if link not in seen and is_svg(link) and raster_image(link, assets) is None:
            seen.add(link)
            found.append(warning(article.source, lines[index] if index < len(lines) else 1, (
                f"image '{link.lstrip('/')}' is SVG, which e-mail clients do not show: the syndicated copies "
                "leave it out (put a PNG or JPEG of the same name beside it to use that)")))
    return found
