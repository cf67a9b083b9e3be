"""A Pelican plugin for the benchmark's features site: the lead-image copies syndicate makes.

Pelican copies an image as it is; syndicate also writes copies 480, 800 and 1200 pixels wide
for `srcset`. So that the features comparison times the same work, this plugin makes the same
copies with the same Pillow settings: the JPEG decoded at the smallest scale still as wide as
the widest copy, each copy resized with bicubic from the next wider one, saved at quality 82,
optimized and progressive. It runs after Pelican has written the articles, in Pelican's one
process, as any Pelican plugin does.
"""

from __future__ import annotations

from pathlib import Path

from pelican import signals
from PIL import Image

WIDTHS = (480, 800, 1200, 1600)
SAVE = {"quality": 82, "optimize": True, "progressive": True}


def copy_path(output: Path, name: str, width: int) -> Path:
    """images/x.jpg -> output/images/x-800w.jpg, the path the article's srcset names."""
    path = Path(name)
    return output / path.parent / f"{path.stem}-{width}w{path.suffix}"


def resize_lead_images(generator, writer) -> None:  # noqa: ARG001 - the signal passes it
    output = Path(generator.output_path)
    for article in generator.articles:
        name = article.metadata.get("image")
        if not name:
            continue
        with Image.open(Path(generator.path) / name) as image:
            widths = sorted((w for w in WIDTHS if w < image.width), reverse=True)
            if not widths:
                continue
            image.draft(image.mode, (widths[0], -(-image.height * widths[0] // image.width)))
            wider = image.convert("RGB")
        for width in widths:
            height = max(1, round(wider.height * width / wider.width))
            wider = wider.resize((width, height), Image.Resampling.BICUBIC)
            target = copy_path(output, name, width)
            target.parent.mkdir(parents=True, exist_ok=True)
            wider.save(target, "JPEG", **SAVE)


def register() -> None:
    signals.article_writer_finalized.connect(resize_lead_images)
