"""The domain values every stage passes along.

Each value is complete when it is built and never mutated afterwards: a later stage that
derives something makes a new value. Collections are tuples so a value can be shared
between worker processes and cached without defensive copies.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .errors import Problem
from .urls import DEFAULT_ARTICLE_PERMALINK, page_path

if TYPE_CHECKING:
    from .cache import Memory


# Types cached between builds are not slotted: a plain __dict__ unpickles in C, a slotted
# frozen dataclass through Python code per object, which dominated incremental builds.
# The cache stores an Author as a reference to site.yaml's (see cache.py), not a copy.
@dataclass(frozen=True)
class Reprint:
    """An author's terms for free reprints; `statement` must travel with every copy, complete."""

    statement: str
    preamble: str = ""
    commercial: str = ""


@dataclass(frozen=True)
class Author:
    id: str
    name: str
    url: str = ""
    bio: str = ""
    reprint: Reprint | None = None


@dataclass(frozen=True, slots=True)
class Syndication:
    """Options for syndicated copies; UTM tags go on backlinks only, never on statement links."""

    utm: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Permalinks:
    """Where articles live: a pattern of `{slug}`, `{year}`, `{month}` and `{day}`, ending in
    `/` (a folder with an index.html) or `.html`; checked by `urls.permalink_problem`."""

    article: str = DEFAULT_ARTICLE_PERMALINK


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """One item of site.yaml's `menu`, in the order written.

    `kind` is home, archive, tags, authors or search (built-in pages), page (a stand-alone
    page, by slug in `target`) or link (`target` is an absolute URL or a path on this site).
    `title` is empty when the default title of the kind applies."""

    kind: str
    target: str = ""
    title: str = ""
    line: int = 1  # where site.yaml names it, for the problem of a page that does not exist


@dataclass(frozen=True, slots=True)
class Reprinted:
    """A reprint an article page may list (`reprints: show`): it passed the last verify."""

    name: str  # the publication, or the reprint's host name
    url: str = ""  # "" for a reprint checked from a saved file


@dataclass(frozen=True, slots=True)
class Newsletter:
    """site.yaml `newsletter`: who sends the issues, where the sender can be found by post,
    and what the sending service puts in place of each reader's unsubscribe link."""

    name: str
    sender: str  # `from`: "Name <address>", as the From header shows it
    address: str  # the postal address every issue's footer carries
    unsubscribe: str  # a URL or the service's placeholder (mailchimp -> *|UNSUB|*)
    reply_to: str = ""


@dataclass(frozen=True, slots=True)
class Site:
    title: str
    url: str  # absolute, always ends with "/"
    authors: Mapping[str, Author]
    root: Path  # the folder holding site.yaml
    source: str  # site.yaml as the user names it in messages
    description: str = ""
    language: str = "en"
    timezone: str = "UTC"
    per_page: int = 10
    feed_items: int = 20
    feed_summaries: bool = False  # `syndicate: false` articles in feeds as summary and link (else left out)
    max_article_bytes: int = 1_000_000
    syndication: Syndication = field(default_factory=Syndication)
    permalinks: Permalinks = field(default_factory=Permalinks)
    newsletter: Newsletter | None = None
    fingerprint: str = ""  # hash of every setting that shows up in rendered output
    logo: str = ""  # site-root path ("/images/logo.svg") or absolute URL; "" for none
    favicon: str = ""  # likewise
    image: str = ""  # likewise: the OpenGraph image of pages that have none of their own
    menu: tuple[MenuEntry, ...] | None = None  # None: the default menu
    date_format: str = "%-d %B %Y"  # strftime-like, with English month and day names whatever the locale
    search: bool = True  # a Pagefind index, a search page and a search box in the header
    reprinted: Mapping[str, tuple[Reprinted, ...]] = field(default_factory=dict)  # by slug; filled by `reprints: show`
    warnings: tuple[Problem, ...] = ()  # what site.yaml has that is not wrong, but suspicious

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def cache_dir(self) -> Path:
        return self.root / ".syndicate-cache"


@dataclass(frozen=True)
class Original:
    """Where a republished article first appeared; its URL becomes the canonical link."""

    url: str
    site: str = ""
    note: str = ""


@dataclass(frozen=True, order=True)
class Tag:
    slug: str
    name: str


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@dataclass(frozen=True)
class Body:
    """What Markdown produced for one document, cached by the hash of the source bytes.

    `html` holds internal links as site-root paths ("/images/a.svg"); each output turns them
    into page-relative or absolute URLs, so one rendering serves the site, feeds and copies.
    """

    html: str
    first_paragraph: str  # plain text, for a summary the author did not write (all above <!--more--> if present)
    word_count: int
    headings: tuple[Heading, ...] = ()
    links: tuple[str, ...] = ()  # site-root paths (and "#anchors") this body links to, for the link check
    ids: tuple[str, ...] = ()  # every element id, so links to "page#anchor" can be checked
    summary_cut: bool = False  # the author marked the summary's end with a <!--more--> line
    link_lines: tuple[int, ...] = ()  # the line of the Markdown text each link was written on (0: unknown)
    notes: tuple[tuple[int, str], ...] = ()  # warnings about the body: (line in the Markdown text, message)


@dataclass(frozen=True)
class Article:
    source: str  # path as shown in messages, relative to the site folder
    slug: str
    title: str
    date: datetime  # always time-zone aware
    authors: tuple[Author, ...]  # one or more, in the order the front matter lists them
    body_key: str  # the Body's key in the BodyStore: bodies are loaded only where rendered
    summary: str  # plain text
    word_count: int
    path: str  # its site path under site.yaml's permalink pattern (urls.article_path)
    tags: tuple[Tag, ...] = ()
    image: str = ""  # site-root path ("/images/x.jpg") or absolute URL
    image_alt: str = ""
    is_draft: bool = False
    syndicate: bool = True
    original: Original | None = None
    updated: datetime | None = None
    source_hash: str = ""
    meta_hash: str = ""  # what listing pages show: changes when the front matter does
    aliases: tuple[str, ...] = ()  # old site paths ("blog/pit-stop/") that redirect here
    aliases_line: int = 1  # where `aliases` was typed, for messages about them

    @property
    def author(self) -> Author:
        """The first author: the one a single-author template or the manifest's `author_id` names."""
        return self.authors[0]

    @property
    def author_names(self) -> str:
        """Every author's name, as a byline says them: "Jane Doe and Sam Lee"."""
        return join_names([author.name for author in self.authors])

    @property
    def topic_key(self) -> str:
        """Its slug and its tags' slugs: what related articles are chosen by. Made when asked,
        not kept: the stored plan (incremental.py) unpickles every field of every article."""
        return f"{self.slug}\0{'|'.join(tag.slug for tag in self.tags)}"

    @property
    def is_syndicable(self) -> bool:
        """Spec: copies exist only for articles whose every author has reprint terms."""
        return self.syndicate and all(author.reprint is not None for author in self.authors)

    @property
    def why_not_syndicable(self) -> str:
        """What keeps it from syndication, as a message says it ("" when nothing does)."""
        if not self.syndicate:
            return "it has syndicate: false"
        without = [author.id for author in self.authors if author.reprint is None]
        if not without:
            return ""
        who = "its author" if len(self.authors) == 1 else "its co-author" if len(without) == 1 else "its co-authors"
        return f"{who} {', '.join(repr(a) for a in without)} {'has' if len(without) == 1 else 'have'} no reprint terms"

    @property
    def reading_minutes(self) -> int:
        return reading_minutes(self.word_count)


def join_names(names: list[str]) -> str:
    """"A", "A and B", "A, B and C": how a byline and the manifest list co-authors."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def reading_minutes(word_count: int) -> int:
    return max(1, round(word_count / 230))


@dataclass(frozen=True)
class Page:
    """A stand-alone page (content/pages/): rendered, but never in feeds or syndication."""

    source: str
    slug: str
    title: str
    body_key: str
    summary: str
    is_draft: bool = False
    source_hash: str = ""
    aliases: tuple[str, ...] = ()
    aliases_line: int = 1

    @property
    def path(self) -> str:
        return page_path(self.slug)


@dataclass(frozen=True, slots=True)
class Asset:
    """A non-Markdown file under content/, copied byte for byte to the same relative path."""

    source: Path
    path: str  # relative to the output folder, posix
    size: int
    mtime_ns: int

    @property
    def stamp(self) -> str:
        """Its path, size and mtime: what a key or a signature holds of a file it does not read."""
        return f"{self.path}\0{self.size}\0{self.mtime_ns}"


@dataclass(frozen=True, slots=True)
class BuildOptions:
    include_drafts: bool = False
    jobs: int = 0  # 0 means one per core
    clean: bool = False
    strict: bool = False
    now: datetime | None = None
    output_dir: Path | None = None
    use_cache: bool = True
    dry_run: bool = False  # `check`: everything but the write
    mark_drafts: bool = False
    progress: bool = False
    memory: Memory | None = None  # kept between builds by a long-running process (serve)
    # The process ends when the build returns (the command line): the build leaves its plan to the exit,
    # as freeing a quarter of a million objects one by one would cost a one-article rebuild 20 ms.
    exits_after: bool = False


def build_time(options: BuildOptions) -> datetime:
    """The build's clock: the option, else SOURCE_DATE_EPOCH, else now; always aware."""
    if options.now is not None:
        return options.now if options.now.tzinfo else options.now.replace(tzinfo=UTC)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class BuildReport:
    articles: int
    pages: int
    copies: int
    feeds: int
    written: int
    unchanged: int
    deleted: int
    cache_hits: int
    seconds: float
    warnings: tuple[Problem, ...] = ()  # every warning of the run, in the order found
    output_dir: Path | None = None
    rendered: Mapping[str, bytes] = field(default_factory=dict)  # filled by `check` only
    patched: bool = False  # the last plan was patched (incremental.py), not made afresh

    def summary(self) -> str:
        return (
            f"built {self.articles} articles, {self.pages} pages, {self.copies} syndicated copies, "
            f"{self.feeds} feeds in {self.seconds:.2f}s "
            f"({self.written} written, {self.unchanged} unchanged, {self.deleted} removed, "
            f"{self.cache_hits} cache hits)"
        )
