"""What a page extractor hands on: the article's parts, each with how it was found.

An HTML page and a text copy are read by different extractors (`htmlpage.py`,
`textpage.py`) but give the same `Extract`, so lifting the reprint terms and writing the
article happen once, whatever the input was. Two views of the page travel together: the
body blocks the extractor kept, and every line of text on the whole page (`Unit`s),
because reprint terms often sit in footers, bios and asides that an extractor rightly drops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

SURE, LIKELY, GUESS = "sure", "likely", "a guess"


@dataclass(frozen=True, slots=True)
class Found:
    """A value the extractor found, where it found it, and how sure it is."""

    value: str
    how: str  # "page metadata", "byline", "the copyright line", ...
    sure: str = LIKELY


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    href: str  # absolute http(s) or mailto


@dataclass(frozen=True, slots=True)
class Unit:
    """One line of text anywhere on the page, as the reader sees it.

    `statement` is the same words with each link that a linkifier would not find by itself
    written as a Markdown link, which is the form site.yaml's `statement` takes.
    """

    text: str
    statement: str
    line: int
    links: tuple[Link, ...] = ()
    is_heading: bool = False


@dataclass(frozen=True, slots=True)
class Block:
    """One block of the article body: a paragraph, heading, list or quote, as Markdown."""

    markdown: str
    text: str  # the visible words, for matching against lifted terms
    line: int
    kind: str = "p"  # "p", "h", "list", "quote", "pre", "table"


@dataclass(frozen=True, slots=True)
class Extract:
    kind: str  # "saved page", "web page", "text copy"
    blocks: tuple[Block, ...]
    units: tuple[Unit, ...]
    title: Found | None = None
    author: Found | None = None
    published: tuple[date, Found] | None = None
    tags: tuple[str, ...] = ()
    summary: str = ""
    page_url: str = ""  # the page's own address, when known
    canonical: str = ""  # its rel=canonical, when it names another address
    site_name: str = ""
    notes: tuple[tuple[int, str], ...] = ()  # (line, message) for import-report.md
