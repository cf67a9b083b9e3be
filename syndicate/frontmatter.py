"""Front matter that takes more than one shape, and which files carry front matter at all.

Sites moved in from other generators write these keys their own way: co-authors as a list
(`author: [jane-doe, sam-lee]`), tags as one string of names (`tags: customer service,
phones`), old addresses as `aliases`. Each reader here accepts every form the contract
allows and reports the rest on the key's line, like every other field.
"""

from __future__ import annotations

import re

from .fields import Fields
from .model import Author, Site
from .urls import alias_file, parse_alias

MARKDOWN_SUFFIXES = (".md", ".markdown")
_FRONT_MATTER_START = re.compile(rb"---[ \t]*(?:\r?\n|$)")
# Files that are never text: not opened to look for front matter, whatever the build.
_BINARY_SUFFIXES = (
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".ico", ".bmp", ".tif", ".tiff", ".pdf", ".zip", ".gz",
    ".mp3", ".mp4", ".m4a", ".ogg", ".wav", ".webm", ".mov", ".woff", ".woff2", ".ttf", ".otf", ".eot",
)


def is_markdown(name: str) -> bool:
    """Articles and pages are `*.md` and `*.markdown` files (Jekyll's posts are the latter)."""
    return name.endswith(MARKDOWN_SUFFIXES)


def has_front_matter(path: str, name: str) -> bool:
    """A text file that opens with a `---` line: a Jekyll or Hugo page, a Liquid feed template.
    Copying it raw would publish its front matter and template code, so it is never an asset."""
    if name.lower().endswith(_BINARY_SUFFIXES):
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return False  # reported when the asset is copied
    return bool(_FRONT_MATTER_START.match(head.removeprefix(b"\xef\xbb\xbf")))


def read_aliases(fields: Fields) -> tuple[str, ...]:
    """Old addresses of this document, as site paths; two spellings of one file are one."""
    found: dict[str, str] = {}
    for text in fields.text_list("aliases"):
        path, problem = parse_alias(text)
        if problem:
            fields.doc.problem(("aliases",), problem)
        else:
            found.setdefault(alias_file(path), path)
    return tuple(found.values())


def read_authors(site: Site, fields: Fields) -> tuple[Author, ...]:
    """`author: jane-doe`, or co-authors: `author: [jane-doe, sam-lee]` (ids hold no commas or
    spaces, so `author: jane-doe, sam-lee` is read the same way). Empty when any is unknown."""
    value = fields.data.get("author")
    if isinstance(value, list):
        known_problems = len(fields.doc.problems)
        ids = fields.text_list("author")
        if not ids and len(fields.doc.problems) == known_problems:
            fields.doc.problem(("author",), "'author' must name at least one author id")
    else:
        text = fields.text("author", required=True)
        ids = [part.strip() for part in text.split(",") if part.strip()]
    found: dict[str, Author] = {}
    for author_id in ids:
        author = site.authors.get(author_id)
        if author is None:
            known = ", ".join(site.authors) or "none defined in site.yaml"
            fields.doc.problem(("author",), f"unknown author '{author_id}' (known: {known})")
        elif author_id in found:
            fields.doc.problem(("author",), f"author '{author_id}' is listed twice")
        else:
            found[author_id] = author
    return tuple(found.values()) if len(found) == len(ids) else ()


def read_tags(fields: Fields) -> list[str]:
    """`tags: [a, b]`, or one string of names separated by commas (`tags: customer service, phones`)."""
    names = fields.text_list("tags")
    if isinstance(fields.data.get("tags"), str):
        return [name.strip() for name in ",".join(names).split(",") if name.strip()]
    return names
