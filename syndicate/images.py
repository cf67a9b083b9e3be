"""Lead images: resized copies for `srcset`, their sizes for width/height, the OpenGraph pick.

A lead image under content/ in a raster format gets copies at a few widths smaller than
its own, written beside it (`images/pit-stop-800w.jpg`), so a phone downloads a fraction
of a desktop's bytes; the article page names them in `srcset` with the original's width
and height, so the layout does not jump while it loads. SVG and remote images are used as
they are. Resizing is the slow part: each copy is kept in the cache folder under a hash of
the original's bytes and the width, and an image job runs only when its file changed.
"""

from __future__ import annotations

import io
import os
import secrets
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import PIL  # the package alone, for its version; Image loads with the first image read (a build without any never pays for it)

from .cache import Cache, content_hash, digest
from .errors import Problem, warning
from .model import Article, Asset, Site
from .urls import link_path, variant_path

if TYPE_CHECKING:
    from PIL import Image

WIDTHS = (480, 800, 1200, 1600)
OG_WIDTH = 1200  # what link previews show best
RESIZING = "bicubic, each copy from the next wider"  # part of every copy's key: a new way makes them all again
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters, from glibc's malloc.h
_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}
_SAVE: dict[str, dict[str, object]] = {"JPEG": {"quality": 82, "optimize": True, "progressive": True},
                                       "PNG": {"optimize": True}, "WEBP": {"quality": 80, "method": 4}}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """A local raster lead image: its size and its copies, as (width, site path) smallest first."""

    path: str  # site path of the original, like /images/pit-stop.jpg
    width: int
    height: int
    variants: tuple[tuple[int, str], ...]
    key: str  # changes when the original's file does

    @property
    def og_copy(self) -> tuple[int, str]:
        """(width, site path) of the copy closest to 1200 px wide (or of the original when it is smaller)."""
        fitting = [(width, path) for width, path in self.variants if width <= OG_WIDTH]
        return fitting[-1] if fitting else (self.width, self.path)

    @property
    def og_path(self) -> str:
        return self.og_copy[1]

    def srcset(self, href: Mapping[str, str]) -> str:
        """`href` maps each site path to the link this page uses for it."""
        entries = [f"{href[path]} {width}w" for width, path in self.variants]
        return ", ".join([*entries, f"{href[self.path]} {self.width}w"])

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(path for _width, path in self.variants)


def lead_images(site: Site, articles: Iterable[Article], assets: Iterable[Asset],
                cache: Cache) -> tuple[dict[str, ImageInfo], list[Problem]]:
    """Every local raster lead image, by site path, and a warning for each that cannot be read;
    sizes are remembered by size and mtime."""
    warnings: list[Problem] = []
    by_path = {"/" + a.path: a for a in assets}
    known = cache.get_state("image-sizes")
    known = known if isinstance(known, dict) else {}
    sizes: dict[str, tuple[int, int, int, int]] = {}
    found: dict[str, ImageInfo] = {}
    for article in articles:
        asset = by_path.get(article.image)
        if asset is None or article.image in found or PurePosixPath(asset.path).suffix.lower() not in _FORMATS:
            continue
        remembered = known.get(asset.path)
        if isinstance(remembered, tuple) and remembered[:2] == (asset.size, asset.mtime_ns):
            width, height = remembered[2], remembered[3]
        else:
            from PIL import Image

            try:
                with Image.open(asset.source) as image:
                    width, height = _upright(image)
            except (OSError, Image.DecompressionBombError) as exc:
                warnings.append(warning(article.source, 1, f"lead image '{asset.path}' cannot be read ({exc}); used as it is"))
                continue
        sizes[asset.path] = (asset.size, asset.mtime_ns, width, height)
        variants = tuple((w, variant_path(article.image, w).lstrip("/")) for w in WIDTHS if w < width)
        key = digest("image", PIL.__version__, RESIZING, str(asset.size), str(asset.mtime_ns), asset.path, repr(variants))
        found[article.image] = ImageInfo(asset.path, width, height, variants, key)
    if sizes != known:
        cache.put_state("image-sizes", sizes)
    return found, warnings


def is_raster(path: str) -> bool:
    """An image file every mail program shows (not SVG), by its name."""
    return PurePosixPath(path).suffix.lower() in (*_FORMATS, ".gif")


def body_images(links: Iterable[str], assets: Mapping[str, Asset]) -> list[Asset]:
    """The site's raster images among a body's site-root links, each once, in order."""
    found: dict[str, Asset] = {}
    for link in links:
        path = link_path(link)
        asset = assets.get(path)
        if asset is not None and is_raster(path):
            found.setdefault(path, asset)
    return list(found.values())


def shown_widths(images: Iterable[Asset]) -> dict[str, int]:
    """Each image's width as shown (a photo EXIF turns is measured turned), by its site path;
    one that cannot be read is left out. Only the header is read."""
    from PIL import Image

    found: dict[str, int] = {}
    for asset in images:
        try:
            with Image.open(asset.source) as image:
                found[asset.path] = _upright(image)[0]
        except (OSError, ValueError, Image.DecompressionBombError):
            continue
    return found


def _upright(image: Image.Image) -> tuple[int, int]:
    """The size as shown: a photo whose EXIF says it is turned is measured turned."""
    width, height = image.size
    orientation = image.getexif().get(0x0112, 1)
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def resized_copies(info: ImageInfo, source: Path, cache_dir: Path | None) -> dict[str, bytes]:
    """Each copy of one image (site path -> bytes), from the cache folder when they were made
    before. Each copy is resized from the next wider one (the widest from the original), which
    takes a fifth off the time; so that a copy's bytes never depend on what the cache held,
    the copies of an image are kept together, in one file, or made again together."""
    data = source.read_bytes()
    kind = _FORMATS[PurePosixPath(info.path).suffix.lower()]
    widths = [width for width, _path in info.variants]
    pack = cache_dir / f"{digest(content_hash(data), *map(str, widths), PIL.__version__, RESIZING)}.copies" if cache_dir else None
    kept = _unpacked(pack, len(widths)) if pack is not None else None
    if kept is not None:
        return {path: copy for (_width, path), copy in zip(info.variants, kept, strict=True)}
    made: dict[int, bytes] = {}
    _keep_freed_memory()
    wider = _decoded(data, max(widths))
    for width in sorted(widths, reverse=True):
        wider, made[width] = _resize(wider, width, kind)
    if pack is not None:
        _store(pack, _packed([made[width] for width in widths]))
    return {path: made[width] for width, path in info.variants}


def _packed(copies: list[bytes]) -> bytes:
    """The copies of one image in one file (one file to write and read, not one per width): a
    first line with their lengths, then their bytes."""
    return " ".join(str(len(copy)) for copy in copies).encode() + b"\n" + b"".join(copies)


def _unpacked(pack: Path, count: int) -> list[bytes] | None:
    """The copies kept in `pack`, or None when it is missing or not whole."""
    try:
        data = pack.read_bytes()
    except OSError:
        return None
    head, _, rest = data.partition(b"\n")
    try:
        lengths = [int(length) for length in head.split()]
    except ValueError:
        return None
    if len(lengths) != count or sum(lengths) != len(rest):
        return None
    ends = list(accumulate(lengths))
    return [rest[end - length : end] for end, length in zip(ends, lengths, strict=True)]


@cache
def _keep_freed_memory() -> None:
    """Let this process keep the memory of one image for the next. glibc gives each freed
    buffer of megabytes (a decoded photo, a resized copy) back to the system at once, and the
    next image faults the same pages in again, zeroed: a seventh of the time of each image's
    copies went to the kernel. Once per process that resizes; only with glibc's allocator."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # buffers below 32 MiB come from the heap, not fresh mappings
    mallopt(_M_TRIM_THRESHOLD, 64 << 20)  # and up to 64 MiB of freed heap stays for reuse


def _decoded(data: bytes, widest: int) -> Image.Image:
    """The image turned as shown. A JPEG is decoded at the smallest scale (1/2, 1/4, 1/8) still
    at least as wide as the widest copy: the decoder skips what resizing would throw away,
    which takes about two thirds off the time of a phone photo's copies."""
    from PIL import Image, ImageOps

    image = Image.open(io.BytesIO(data))
    if image.format == "JPEG":
        width, height = image.size
        shown_width = _upright(image)[0]
        image.draft(image.mode, (-(-width * widest // shown_width), -(-height * widest // shown_width)))  # rounded up
    turned = ImageOps.exif_transpose(image)
    turned.load()
    return turned


def _resize(image: Image.Image, width: int, kind: str) -> tuple[Image.Image, bytes]:
    """The image at `width` wide, and its bytes in `kind`."""
    from PIL import Image

    height = max(1, round(image.height * width / image.width))
    # Bicubic: for shrinking, Pillow widens the filter with the factor, so it is as free of
    # moire as Lanczos and as sharp to the eye, in three quarters of the time.
    smaller = image.resize((width, height), Image.Resampling.BICUBIC)
    saved = smaller.convert("RGB") if kind == "JPEG" and smaller.mode not in ("RGB", "L") else smaller
    out = io.BytesIO()
    saved.save(out, kind, **_SAVE[kind])  # no EXIF or other metadata is carried over
    return smaller, out.getvalue()


def _store(target: Path, data: bytes) -> None:
    """Write a cached copy whole or not at all (another build may read it at the same time)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
    temporary.write_bytes(data)
    os.replace(temporary, target)
