"""Generate one deterministic benchmark corpus as syndicate, Pelican and Hugo sites.

All sites hold the same articles (same titles, dates, authors, tags, summaries and Markdown
bodies), so a timing difference between the tools is a difference in the tools, not in the
input. Every word comes from the word lists below, combined by a seeded `random.Random`: the
same `--articles` and `--seed` always give byte-identical files, and no prose is copied from
anywhere.

The three tools are configured to do the same work (the parity setup): article pages, an index
paginated at PAGE_SIZE, one unpaginated page per tag and per author, one archive page, the site
feeds and one RSS feed per tag, every feed holding the newest FEED_ITEMS articles in full. No
author has reprint terms there, so syndicate makes no syndicated copies. A second syndicate
site, `syndicate-copies`, is the same site with reprint terms for two of the four authors: the
snippets, plain-text and Markdown copies, the manifest, the reprint offer on article pages and
the statement in feed items are work the other tools do not do.

A third pair, `syndicate-features` and `pelican-features`, adds what a 2026 blog has, the
same in both: a fenced code block in every other article (highlighted by both tools with
Pygments), a lead image of its own in every fifth (JPEG, 1600x900) resized to the same widths
with the same Pillow settings, and a Pagefind search index. Like the parity site it has no
reprint terms, so both tools do the same work. `syndicate-features-copies` is that site with
the copies site's reprint terms: the copies (with inline-coloured code) are syndicate's extra.

Usage:
    python benchmarks/make_corpus.py --articles 1000 --out /tmp/corpus-1000

writes /tmp/corpus-1000/{syndicate,syndicate-copies,pelican,hugo}/ and
/tmp/corpus-1000/manifest.json (which article the benchmark edits, and whether a template
override was created).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

SITE_TITLE = "Service Culture Digest"
SITE_URL = "https://digest.example.org"
DEFAULT_SEED = 20240611
AUTHOR_COUNT = 4  # the brief asks for 3-5; a constant keeps every corpus size comparable
REPRINT_AUTHORS = 2
PAGE_SIZE = 10  # articles per index page, in every tool
FEED_ITEMS = 20  # newest articles in every feed, in every tool (syndicate's default)
MIN_WORDS = 600
MAX_WORDS = 1200
FIRST_DAY = dt.datetime(2015, 1, 5, 7, 0)
SPAN_DAYS = 3650  # about ten years of publishing
REPO_ROOT = Path(__file__).resolve().parent.parent

# --- word lists ---------------------------------------------------------------------------------
# Nouns are chosen so that the plain English plural rule in `plural()` is right for every entry.

PEOPLE = (
    "customer client caller guest member visitor buyer subscriber patient shopper agent "
    "representative associate manager supervisor trainer coach colleague teammate receptionist "
    "consultant owner leader employee volunteer cashier technician advisor dispatcher concierge"
).split()

THINGS = (
    "complaint request question answer promise apology refund invoice order delivery ticket "
    "queue call email message chat survey score rating review comment habit routine process "
    "policy script checklist greeting handoff follow-up callback reply response experience "
    "moment expectation standard outcome result mistake problem solution shortcut detail "
    "touchpoint journey relationship conversation meeting briefing shift schedule budget "
    "deadline priority target metric benchmark goal plan strategy idea lesson story example "
    "signal pattern trend channel counter desk lobby store branch website portal app form "
    "account profile record note update reminder notice warranty guarantee contract "
    "discount voucher reward gesture welcome farewell smile tone word phrase pause "
    "attitude mindset value culture team department office workshop session program "
    "handbook guideline tool system template dashboard report log"
).split()

QUALITIES = (
    "patience empathy courtesy clarity honesty trust loyalty respect warmth kindness "
    "attention ownership accountability consistency reliability flexibility curiosity "
    "confidence humility goodwill"
).split()

ADJECTIVES = (
    "helpful friendly patient careful prompt clear honest calm polite warm attentive "
    "reliable consistent thoughtful generous practical simple quick thorough personal "
    "professional courteous respectful cheerful steady confident humble curious proactive "
    "responsive accurate sincere genuine positive memorable small busy difficult upset "
    "frustrated loyal regular new returning demanding quiet long short late early "
    "weekly daily monthly first final next routine common rare typical surprising "
    "unexpected familiar obvious hidden useful costly cheap valuable fragile"
).split()

VERBS = (
    "answer solve fix handle greet thank welcome listen notice remember explain clarify "
    "confirm follow check review improve simplify shorten measure track record share "
    "train coach support help guide serve reward recognise praise forgive resolve "
    "prevent avoid reduce repeat restore rebuild earn keep protect honour respect "
    "value reach call email visit ask offer promise deliver finish open close plan "
    "prepare practise rehearse adjust update reply apologise escalate own"
).split()

ADVERBS = (
    "quickly carefully patiently politely clearly honestly calmly warmly promptly "
    "gently quietly consistently thoughtfully simply always often usually rarely "
    "sometimes gradually immediately personally genuinely"
).split()

PREPOSITIONS = "for with after before during without beyond within about across".split()

CONNECTORS = (
    "however meanwhile instead still besides afterwards otherwise likewise naturally eventually"
).split()

SPEECH_VERBS = "said explained added noted admitted recalled insisted joked".split()

FIRST_NAMES = (
    "Avery Jordan Morgan Riley Casey Quinn Harper Rowan Emerson Sawyer Parker Reese "
    "Dakota Marlowe Sasha Tobin"
).split()
LAST_NAMES = (
    "Whitfield Okafor Lindqvist Moreau Castellano Brennan Nakamura Haddad Kowalski "
    "Delacroix Abernathy Valdivia"
).split()

TAGS = tuple(
    " ".join(tag.split())
    for tag in """customer service, service quality, teamwork, complaints, Tips & Tricks,
    leadership, onboarding, call center, empathy, retention, loyalty, feedback, coaching, listening,
    hospitality, front line, management, training, communication, service recovery, expectations,
    culture, hiring, metrics, surveys, self service, email etiquette, phone skills, live chat,
    escalation, patience, follow up, first impressions, body language, difficult customers,
    rewards, recognition, motivation, processes, small business""".split(",")
)

LINK_HOSTS = ("https://www.example.com", "https://example.org", "https://www.example.net")

# --- small grammar helpers ----------------------------------------------------------------------


def plural(noun: str) -> str:
    """Return the plural; the word lists avoid irregular nouns so one rule is enough."""
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def third_person(verb: str) -> str:
    """Return the present-tense third-person form (`fix` -> `fixes`, `reply` -> `replies`)."""
    return plural(verb)


def article_for(word: str) -> str:
    """Pick `a` or `an` by the first letter, which is right for every word in the lists."""
    return "an" if word[0] in "aeiou" else "a"


def slugify(text: str) -> str:
    """Lower-case, with runs of anything but letters and digits turned into one `-` (the spec)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def title_case(text: str) -> str:
    """Capitalise each word but keep the letters after an apostrophe lower-case."""
    return " ".join(word[:1].upper() + word[1:] for word in text.split())


def yaml_str(text: str) -> str:
    """Quote a string for YAML; a JSON string is a valid YAML double-quoted scalar."""
    return json.dumps(text, ensure_ascii=False)


def toml_str(text: str) -> str:
    """Quote a string for TOML; JSON escaping is a subset TOML basic strings accept."""
    return json.dumps(text, ensure_ascii=False)


# --- text generator -----------------------------------------------------------------------------


class TextGenerator:
    """Combines the word lists into sentences, paragraphs and whole Markdown articles.

    All randomness flows through the one `random.Random` given at construction, so the output
    depends only on the seed and the order of calls.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.patterns: tuple[Callable[[], str], ...] = (
            self._statement,
            self._advice,
            self._condition,
            self._contrast,
            self._observation,
            self._possessive,
        )

    def pick(self, words: tuple[str, ...] | list[str]) -> str:
        return self.rng.choice(words)

    def noun_phrase(self, plural_form: bool = False) -> str:
        """`the patient caller`, `a clear answer` or, in the plural, `prompt replies`."""
        noun = self.pick(THINGS if self.rng.random() < 0.7 else PEOPLE)
        adjective = self.pick(ADJECTIVES) if self.rng.random() < 0.6 else ""
        if plural_form:
            return f"{adjective} {plural(noun)}".strip()
        head = f"{adjective} {noun}".strip()
        determiner = self.rng.choice(("the", "every", "each", article_for(head)))
        return f"{determiner} {head}"

    def person(self) -> str:
        return f"the {self.pick(PEOPLE)}"

    def _statement(self) -> str:
        return (
            f"{self.person()} {third_person(self.pick(VERBS))} {self.noun_phrase()} "
            f"{self.pick(PREPOSITIONS)} {self.noun_phrase()}"
        )

    def _advice(self) -> str:
        return (
            f"{self.pick(ADVERBS)} {self.pick(VERBS)} {self.noun_phrase()} before you "
            f"{self.pick(VERBS)} {self.noun_phrase(plural_form=True)}"
        )

    def _condition(self) -> str:
        return (
            f"when {self.person()} {third_person(self.pick(VERBS))} {self.noun_phrase()}, "
            f"{self.person()} should {self.pick(VERBS)} {self.noun_phrase(plural_form=True)}"
        )

    def _contrast(self) -> str:
        return (
            f"{self.pick(CONNECTORS)}, {self.noun_phrase(plural_form=True)} don't "
            f"{self.pick(VERBS)} {self.pick(QUALITIES)} unless {self.person()} "
            f"{third_person(self.pick(VERBS))} them"
        )

    def _observation(self) -> str:
        return (
            f"{self.pick(QUALITIES)} {third_person(self.pick(VERBS))} "
            f"{self.noun_phrase(plural_form=True)} more than any {self.pick(THINGS)} can"
        )

    def _possessive(self) -> str:
        return (
            f"the {self.pick(PEOPLE)}'s {self.pick(THINGS)} is {self.pick(ADVERBS)} "
            f"{self.pick(ADJECTIVES)}, so it's worth {self.pick(ADVERBS)} checking "
            f"{self.noun_phrase()}"
        )

    def sentence(self, decorate: bool = True) -> str:
        """One sentence; `decorate` allows emphasis and inline links, kept out of titles."""
        words = self.rng.choice(self.patterns)().split()
        if decorate and self.rng.random() < 0.12:
            index = self.rng.randrange(len(words))
            if words[index].isalpha():
                mark = "**" if self.rng.random() < 0.4 else "*"
                words[index] = f"{mark}{words[index]}{mark}"
        if decorate and self.rng.random() < 0.06:
            start = self.rng.randrange(max(1, len(words) - 2))
            target = f"{self.pick(LINK_HOSTS)}/{self.pick(THINGS)}/{self.pick(QUALITIES)}"
            linked = " ".join(words[start : start + 2])
            words[start : start + 2] = [f"[{linked}]({target})"]
        text = " ".join(words)
        return text[0].upper() + text[1:] + self.rng.choice((".", ".", ".", ".", "!", "?"))

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(3, 6)))

    def quote(self, speaker: str) -> str:
        """A block quote with contractions, so apostrophes reach every Markdown renderer."""
        said = self.pick(SPEECH_VERBS)
        line = (
            f"\"We don't {self.pick(VERBS)} {plural(self.pick(THINGS))}; we "
            f"{self.pick(VERBS)} every {self.pick(PEOPLE)}'s {plural(self.pick(THINGS))},\" "
            f'{speaker} {said}. "That\'s the {self.pick(ADJECTIVES)} part."'
        )
        return f"> {line}"

    def bullet_list(self, numbered: bool) -> str:
        items = []
        for number in range(1, self.rng.randint(3, 6) + 1):
            marker = f"{number}." if numbered else "-"
            items.append(f"{marker} {self.sentence()}")
        return "\n".join(items)

    def heading(self) -> str:
        words = f"{self.pick(ADJECTIVES)} {plural(self.pick(THINGS))} {self.pick(PREPOSITIONS)}"
        return "## " + title_case(f"{words} {plural(self.pick(PEOPLE))}")

    def title(self) -> str:
        form = self.rng.randrange(4)
        if form == 0:
            text = f"{self.pick(ADJECTIVES)} {plural(self.pick(THINGS))} for "
            text += f"{self.pick(ADJECTIVES)} {plural(self.pick(PEOPLE))}"
        elif form == 1:
            text = f"how to {self.pick(VERBS)} the {self.pick(ADJECTIVES)} {self.pick(THINGS)}"
        elif form == 2:
            text = f"why {plural(self.pick(PEOPLE))} {self.pick(VERBS)} {self.pick(QUALITIES)}"
        else:
            text = f"the {self.pick(PEOPLE)}'s guide to {self.pick(ADJECTIVES)} "
            text += plural(self.pick(THINGS))
        return title_case(text)

    def body(self, target_words: int, speaker: str, limit: int) -> str:
        """Markdown body: an intro, then ## sections with lists and quotes until `target_words`.

        A section that would pass `limit` is dropped, so no article grows past the stated range.
        """
        blocks = [self.paragraph(), self.paragraph()]
        count = sum(len(block.split()) for block in blocks)
        while count < target_words:
            section = [self.heading(), self.paragraph()]
            roll = self.rng.random()
            if roll < 0.35:
                section.append(self.bullet_list(numbered=False))
            elif roll < 0.6:
                section.append(self.bullet_list(numbered=True))
            elif roll < 0.8:
                section.append(self.quote(speaker))
            section.append(self.paragraph())
            words = sum(len(block.split()) for block in section)
            if count + words > limit:
                break
            blocks.extend(section)
            count += words
        return "\n\n".join(blocks) + "\n"


# --- the corpus as data -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reprint:
    preamble: str
    statement: str
    commercial: str


@dataclass(frozen=True, slots=True)
class Author:
    id: str
    name: str
    url: str
    bio: str
    reprint: Reprint | None


@dataclass(frozen=True, slots=True)
class Article:
    slug: str
    title: str
    date: dt.datetime
    author: Author
    tags: tuple[str, ...]
    summary: str | None
    body: str


@dataclass(frozen=True, slots=True)
class Corpus:
    description: str
    authors: tuple[Author, ...]
    articles: tuple[Article, ...]


def make_authors(gen: TextGenerator) -> tuple[Author, ...]:
    """Distinct authors; the first REPRINT_AUTHORS carry reprint terms with links to check."""
    firsts = gen.rng.sample(FIRST_NAMES, AUTHOR_COUNT)
    lasts = gen.rng.sample(LAST_NAMES, AUTHOR_COUNT)
    bare_domains = ("www.example.com", "www.example.net")
    authors = []
    for index, (first, last) in enumerate(zip(firsts, lasts, strict=True)):
        name = f"{first} {last}"
        author_id = slugify(name)
        reprint = None
        if index < REPRINT_AUTHORS:
            statement = (
                f"Copyright, {name}. Used with permission. {name} "
                f"{third_person(gen.pick(VERBS))} {gen.pick(ADJECTIVES)} "
                f"{plural(gen.pick(PEOPLE))} to {gen.pick(VERBS)} "
                f"{plural(gen.pick(THINGS))} with {gen.pick(QUALITIES)}. For "
                f"{gen.pick(ADJECTIVES)} {plural(gen.pick(THINGS))}, visit "
                f"{bare_domains[index]} or read https://example.org/{author_id}/{gen.pick(THINGS)}."
            )
            reprint = Reprint(
                preamble=(
                    "You may use this article in your free newsletter, website or "
                    "publication if you include the complete statement below with active links:"
                ),
                statement=statement,
                commercial=(
                    f"For a paid newsletter or {gen.pick(ADJECTIVES)} training "
                    f"{gen.pick(THINGS)}, please contact {first}."
                ),
            )
        authors.append(
            Author(
                id=author_id,
                name=name,
                url=f"https://example.org/{author_id}",
                bio=gen.sentence(decorate=False),
                reprint=reprint,
            )
        )
    return tuple(authors)


def make_corpus_data(count: int, seed: int = DEFAULT_SEED) -> Corpus:
    """Build every article in memory first, so the three site writers share identical data."""
    rng = random.Random(seed)
    gen = TextGenerator(rng)
    authors = make_authors(gen)
    description = gen.sentence(decorate=False)
    used_slugs: set[str] = set()
    articles = []
    for _ in range(count):
        title = gen.title()
        slug = slugify(title)
        if slug in used_slugs:
            slug = f"{slug}-{len(used_slugs)}"
        used_slugs.add(slug)
        author = rng.choice(authors)
        date = FIRST_DAY + dt.timedelta(minutes=rng.randrange(SPAN_DAYS * 24 * 60))
        tags = tuple(rng.sample(TAGS, rng.randint(1, 4)))
        summary = gen.sentence(decorate=False) if rng.random() < 0.7 else None
        body = gen.body(
            rng.randint(MIN_WORDS, MAX_WORDS), speaker=author.name.split()[0], limit=MAX_WORDS
        )
        articles.append(Article(slug, title, date, author, tags, summary, body))
    return Corpus(description=description, authors=authors, articles=tuple(articles))


# --- writers ------------------------------------------------------------------------------------


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def syndicate_article_path(article: Article) -> str:
    """Articles sit in one folder per year, which exercises the nested-content path."""
    return f"content/{article.date.year}/{article.slug}.md"


def find_theme_base(explicit: Path | None = None) -> Path | None:
    """Locate the built-in theme's base.html: this checkout first, then an installed package."""
    candidates = [explicit] if explicit else []
    candidates.append(REPO_ROOT / "syndicate" / "theme" / "base.html")
    spec = importlib.util.find_spec("syndicate")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidates.append(Path(location) / "theme" / "base.html")
    return next((path for path in candidates if path and path.is_file()), None)


# Code for the features corpus: original snippets in the languages blogs show most, each
# filled with generated words so no two articles carry the same block.
CODE_SNIPPETS = (
    (
        "python",
        'def route(ticket):\n    """Send a {w0} ticket to the {w1} queue."""\n'
        '    if ticket.priority > 2:\n        return "{w2}"\n    return ticket.queue or "{w3}"\n',
    ),
    (
        "javascript",
        'const queue = tickets.filter((t) => t.tag === "{w0}");\n'
        "for (const t of queue) {{\n  console.log(`${{t.id}}: {w1} {w2}`);\n}}\n",
    ),
    (
        "bash",
        "#!/bin/sh\n# {w0} report for the {w1} team\nfor f in logs/*.log; do\n"
        '  grep -c "{w2}" "$f"\ndone | sort -n | tail -n 3  # {w3}\n',
    ),
    (
        "yaml",
        "team: {w0}\nshifts:\n  - name: {w1}\n    hours: [9, 17]\n  - name: {w2}\n"
        "    hours: [17, 23]\nescalate_to: {w3}\n",
    ),
    (
        "sql",
        "SELECT agent, count(*) AS solved\nFROM tickets\nWHERE status = '{w0}' AND tag = '{w1}'\n"
        "GROUP BY agent\nORDER BY solved DESC; -- {w2} {w3}\n",
    ),
    (
        "json",
        '{{\n  "queue": "{w0}",\n  "owners": ["{w1}", "{w2}"],\n  "sla_hours": 24,\n'
        '  "note": "{w3}"\n}}\n',
    ),
)
IMAGE_SIZE = (1600, 900)


def has_code(index: int) -> bool:
    return index % 2 == 0


def has_image(index: int) -> bool:
    return index % 5 == 0


def image_name(article: Article) -> str:
    return f"images/{article.slug}.jpg"


def code_section(article: Article, index: int) -> str:
    """A fenced block for the features corpus, the same text in every tool's copy."""
    rng = random.Random(f"code-{article.slug}")
    language, template = CODE_SNIPPETS[index // 2 % len(CODE_SNIPPETS)]
    words = [
        rng.choice(article.body.split()).strip(".,;:!?*'\"()[]").lower() or "queue"
        for _ in range(4)
    ]
    code = template.format(
        **{f"w{n}": re.sub(r"[^a-z]", "", word) or "queue" for n, word in enumerate(words)}
    )
    return f"\n\n## A worked example\n\n```{language}\n{code}```\n"


def write_images(corpus: Corpus, content: Path) -> None:
    """One JPEG per illustrated article, each different, made with Pillow (syndicate needs it)."""
    from PIL import Image, ImageDraw

    for index, article in enumerate(corpus.articles):
        if not has_image(index):
            continue
        rng = random.Random(f"image-{article.slug}")
        image = Image.new("RGB", IMAGE_SIZE, tuple(rng.randrange(256) for _ in range(3)))
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x, y = rng.randrange(IMAGE_SIZE[0]), rng.randrange(IMAGE_SIZE[1])
            box = (x, y, x + rng.randrange(80, 600), y + rng.randrange(60, 400))
            draw.rectangle(box, fill=tuple(rng.randrange(256) for _ in range(3)))
        path = content / image_name(article)
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, "JPEG", quality=85)


def write_syndicate(
    corpus: Corpus, root: Path, theme_base: Path | None, reprint: bool, features: bool = False
) -> bool:
    """Write site.yaml, content/ and, when the theme exists, a templates/base.html override.

    Without `reprint` no author has reprint terms, so the build makes no syndicated copies (the
    parity setup); with it, the authors that have terms get them (the copies setup). The
    override is an exact copy, so the cold build renders the same pages; it exists so the
    benchmark can edit a template without touching the package. Returns whether it was written.
    """
    lines = [
        f"title: {yaml_str(SITE_TITLE)}",
        f"url: {yaml_str(SITE_URL)}",
        f"description: {yaml_str(corpus.description)}",
        "language: en",
        "timezone: UTC",
        f"per_page: {PAGE_SIZE}",
        f"feed_items: {FEED_ITEMS}",
        # No search index in the parity setups: the other tools build none.
        f"search: {'true' if features else 'false'}",
        "authors:",
    ]
    for author in corpus.authors:
        lines += [
            f"  {author.id}:",
            f"    name: {yaml_str(author.name)}",
            f"    url: {yaml_str(author.url)}",
            f"    bio: {yaml_str(author.bio)}",
        ]
        if reprint and author.reprint:
            lines += [
                "    reprint:",
                f"      preamble: {yaml_str(author.reprint.preamble)}",
                f"      statement: {yaml_str(author.reprint.statement)}",
                f"      commercial: {yaml_str(author.reprint.commercial)}",
            ]
    write_text(root / "site.yaml", "\n".join(lines) + "\n")
    if features:
        write_images(corpus, root / "content")
    for index, article in enumerate(corpus.articles):
        front = [
            "---",
            f"title: {yaml_str(article.title)}",
            f"date: {article.date.isoformat()}",
            f"author: {article.author.id}",
            f"tags: [{', '.join(yaml_str(tag) for tag in article.tags)}]",
        ]
        if article.summary:
            front.append(f"summary: {yaml_str(article.summary)}")
        body = article.body
        if features and has_image(index):
            front.append(f"image: {image_name(article)}")
        if features and has_code(index):
            body += code_section(article, index)
        front.append("---")
        write_text(root / syndicate_article_path(article), "\n".join(front) + "\n" + body)
    if theme_base is None:
        return False
    (root / "templates").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(theme_base, root / "templates" / "base.html")
    return True


PELICAN_CONF = '''\
"""Pelican settings for the benchmark corpus: the default theme, doing what syndicate does."""

AUTHOR = {author!r}
SITENAME = {title!r}
SITEURL = {url!r}
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
RELATIVE_URLS = False

# The same URL shapes as syndicate, so the edited page can be found at one path in all tools.
ARTICLE_URL = "articles/{{slug}}/"
ARTICLE_SAVE_AS = "articles/{{slug}}/index.html"
TAG_URL = "tags/{{slug}}/"
TAG_SAVE_AS = "tags/{{slug}}/index.html"
AUTHOR_URL = "authors/{{slug}}/"
AUTHOR_SAVE_AS = "authors/{{slug}}/index.html"
ARCHIVES_URL = "archive/"
ARCHIVES_SAVE_AS = "archive/index.html"

# The pages syndicate writes: the index, one page per tag and per author, one archive, a list
# of all tags and one of all authors. No category page (every article names one category,
# "Articles", in its header: the theme shows it, and an empty CATEGORY_SAVE_AS writes no page).
DIRECT_TEMPLATES = ["index", "archives", "tags", "authors"]
TAGS_URL = "tags/"
TAGS_SAVE_AS = "tags/index.html"
AUTHORS_URL = "authors/"
AUTHORS_SAVE_AS = "authors/index.html"
CATEGORY_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""

# Only the index is paginated, at syndicate's page size, at syndicate's paths (page/2/). The
# theme's tag and author templates need a paginator: one page larger than any site is none.
DEFAULT_PAGINATION = {page_size}
PAGINATED_TEMPLATES = {{"index": None, "tag": 10**9, "author": 10**9}}
PAGINATION_PATTERNS = (
    (1, "{{url}}", "{{save_as}}"),
    (2, "{{base_name}}/page/{{number}}/", "{{base_name}}/page/{{number}}/index.html"),
)

# The feeds syndicate writes: the site's RSS and Atom feeds and one RSS feed per tag, each with
# the newest {feed_items} articles in full. Pelican has no JSON Feed (syndicate writes one more
# feed file). No category, author or translation feeds.
FEED_ALL_ATOM = "atom.xml"
FEED_ALL_RSS = "feed.xml"
TAG_FEED_RSS = "tags/{{slug}}/feed.xml"
TAG_FEED_ATOM = None
CATEGORY_FEED_ATOM = None
CATEGORY_FEED_RSS = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
TRANSLATION_FEED_RSS = None
RSS_FEED_SUMMARY_ONLY = False
FEED_MAX_ITEMS = {feed_items}

# The benchmark deletes cache/ for a cold build and keeps it for the warm ones.
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"
'''


# The plugin that makes Pelican's features site resize its lead images as syndicate does.
PELICAN_PLUGIN = Path(__file__).resolve().parent / "pelican_plugins" / "lead_images.py"
SRCSET_WIDTHS = (480, 800, 1200)  # those of syndicate narrower than IMAGE_SIZE


def lead_image_html(article: Article) -> str:
    """The lead image at the top of a Pelican article: full width, with the copies' srcset."""
    stem = image_name(article).removesuffix(".jpg")
    srcset = ", ".join(f"/{stem}-{width}w.jpg {width}w" for width in SRCSET_WIDTHS)
    width, height = IMAGE_SIZE
    return (
        f'<img src="{{static}}/{image_name(article)}" srcset="{srcset}, /{stem}.jpg {width}w" '
        f'sizes="(min-width: 48rem) 46rem, 100vw" width="{width}" height="{height}" '
        'alt="Lead image">'
    )


def write_pelican(corpus: Corpus, root: Path, features: bool = False) -> None:
    """Write pelicanconf.py and content/*.md with Pelican's `Key: value` metadata header.

    With `features`, the same code blocks (Pelican's default Markdown settings highlight them
    with Pygments through codehilite) and the same lead images, shown at the top of the body
    with a `srcset`, copied to the output and resized to the same widths by the plugin in
    pelican_plugins/ (the run then indexes the articles with Pagefind: see run.py)."""
    conf = PELICAN_CONF.format(
        author=corpus.authors[0].name,
        title=SITE_TITLE,
        url=SITE_URL,
        page_size=PAGE_SIZE,
        feed_items=FEED_ITEMS,
    )
    if features:
        conf += 'STATIC_PATHS = ["images"]\nPLUGIN_PATHS = ["plugins"]\nPLUGINS = ["lead_images"]\n'
        write_images(corpus, root / "content")
        (root / "plugins").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PELICAN_PLUGIN, root / "plugins" / PELICAN_PLUGIN.name)
    else:
        conf += "PLUGINS = []  # none, not even the namespace plugins installed beside Pelican\n"
    write_text(root / "pelicanconf.py", conf)
    for index, article in enumerate(corpus.articles):
        header = [
            f"Title: {article.title}",
            f"Date: {article.date:%Y-%m-%d %H:%M}",
            f"Author: {article.author.name}",
            f"Tags: {', '.join(article.tags)}",
            # The theme needs a category; given here, it exists without a category page.
            "Category: Articles",
        ]
        if article.summary:
            header.append(f"Summary: {article.summary}")
        header.append(f"Slug: {article.slug}")
        body = article.body
        if features and has_image(index):
            header.append(f"Image: {image_name(article)}")
            body = f"{lead_image_html(article)}\n\n{body}"
        if features and has_code(index):
            body += code_section(article, index)
        text = "\n".join(header) + "\n\n" + body
        write_text(root / "content" / f"{article.slug}.md", text)


def hugo_version(hugo: str = "hugo") -> tuple[int, int] | None:
    """Return (major, minor) of the installed Hugo, or None when there is none."""
    if shutil.which(hugo) is None:
        return None
    try:
        result = subprocess.run(
            [hugo, "version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"v(\d+)\.(\d+)", result.stdout)
    return (int(match.group(1)), int(match.group(2))) if match else None


# The layout set (pages, full-content feeds, a card partial) lives beside this script as real
# template files, copied into every generated Hugo site.
HUGO_LAYOUTS = Path(__file__).resolve().parent / "hugo_layouts"


def write_hugo(corpus: Corpus, root: Path, version: tuple[int, int] | None) -> None:
    """Write hugo.toml, content/articles/*.md (YAML front matter) and the layouts.

    The configuration mirrors syndicate's output: a paginated home page with RSS, Atom and JSON
    Feed; the articles section, which is the archive; one page and one RSS feed per tag; one
    page per author, without a feed (each author's `_index.md` says so); a list of all tags and
    one of all authors, without feeds. The layouts cap every feed at FEED_ITEMS.
    """
    # Hugo 0.128 replaced the top-level `paginate` key with a [pagination] table.
    if version is None or version >= (0, 128):
        paging = f"[pagination]\n  pagerSize = {PAGE_SIZE}\n"
    else:
        paging = f"paginate = {PAGE_SIZE}\n"
    lines = [
        f"baseURL = {toml_str(SITE_URL + '/')}",
        'languageCode = "en"',
        f"title = {toml_str(SITE_TITLE)}",
        "enableRobotsTXT = true",
        "",
        "[permalinks]",
        '  articles = "/articles/:slug/"',
        "",
        "[taxonomies]",
        '  tag = "tags"',
        '  author = "authors"',
        "",
        '[mediaTypes."application/atom+xml"]',
        '  suffixes = ["xml"]',
        '[mediaTypes."application/feed+json"]',
        '  suffixes = ["json"]',
        "",
        "[outputFormats.RSS]",
        '  baseName = "feed"',
        "[outputFormats.Atom]",
        '  mediaType = "application/atom+xml"',
        '  baseName = "atom"',
        "[outputFormats.JSONFeed]",
        '  mediaType = "application/feed+json"',
        '  baseName = "feed"',
        "  isPlainText = true",
        "",
        "[outputs]",
        '  home = ["HTML", "RSS", "Atom", "JSONFeed"]',
        '  section = ["HTML"]',
        '  taxonomy = ["HTML"]',
        '  term = ["HTML", "RSS"]',
        "",
        "[params]",
        f"  description = {toml_str(corpus.description)}",
        f"  feedItems = {FEED_ITEMS}",
    ]
    for author in corpus.authors:
        lines += ["", f"[params.authors.{author.id}]", f"  name = {toml_str(author.name)}"]
        index = ["---", f"title: {yaml_str(author.name)}", "outputs: [HTML]", "---", ""]
        write_text(root / "content" / "authors" / author.id / "_index.md", "\n".join(index))
    write_text(root / "hugo.toml", paging + "\n".join(lines) + "\n")
    shutil.copytree(HUGO_LAYOUTS, root / "layouts")
    for article in corpus.articles:
        front = [
            "---",
            f"title: {yaml_str(article.title)}",
            f"date: {article.date.isoformat()}Z",
            f"slug: {yaml_str(article.slug)}",
            f"author: {article.author.id}",
            f"authors: [{article.author.id}]",
            f"tags: [{', '.join(yaml_str(tag) for tag in article.tags)}]",
        ]
        if article.summary:
            front.append(f"summary: {yaml_str(article.summary)}")
        front.append("---")
        path = root / "content" / "articles" / f"{article.slug}.md"
        write_text(path, "\n".join(front) + "\n" + article.body)


# Site folders: the parity setup of each tool, syndicate with its syndicated copies, the
# features pair (code, images and search in both), and syndicate's features site with copies.
FORMATS = (
    "syndicate",
    "syndicate-copies",
    "pelican",
    "hugo",
    "syndicate-features",
    "pelican-features",
    "syndicate-features-copies",
)


def make_corpus(
    count: int,
    out_dir: Path,
    seed: int = DEFAULT_SEED,
    formats: Iterable[str] = FORMATS,
    theme_base: Path | None = None,
) -> dict[str, object]:
    """Write the requested sites under `out_dir` and return (and save) the manifest.

    The manifest names the article the benchmark edits, by its path in each site, so `run.py`
    never has to re-derive the generator's layout.
    """
    corpus = make_corpus_data(count, seed)
    formats = tuple(formats)
    target = corpus.articles[len(corpus.articles) // 2]
    manifest: dict[str, object] = {
        "articles": count,
        "seed": seed,
        "words": sum(len(article.body.split()) for article in corpus.articles),
        "page_size": PAGE_SIZE,
        "feed_items": FEED_ITEMS,
        "copies_articles": sum(1 for article in corpus.articles if article.author.reprint),
        "edit_slug": target.slug,
        "edit_paths": {
            "syndicate": syndicate_article_path(target),
            "syndicate-copies": syndicate_article_path(target),
            "syndicate-features": syndicate_article_path(target),
            "syndicate-features-copies": syndicate_article_path(target),
            "pelican": f"content/{target.slug}.md",
            "pelican-features": f"content/{target.slug}.md",
            "hugo": f"content/articles/{target.slug}.md",
        },
        "template_override": False,
    }
    base = find_theme_base(theme_base)
    manifest["theme_base"] = str(base) if base else None
    for name in FORMATS:
        if name.startswith("syndicate") and name in formats:
            reprint = name.endswith("-copies")
            features = name.startswith("syndicate-features")
            written = write_syndicate(
                corpus, out_dir / name, base, reprint=reprint, features=features
            )
            manifest["template_override"] = written
    for name in ("pelican", "pelican-features"):
        if name in formats:
            write_pelican(corpus, out_dir / name, features=name == "pelican-features")
    if "hugo" in formats:
        write_hugo(corpus, out_dir / "hugo", hugo_version())
    write_text(out_dir / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def extra_sentence(seed: int) -> str:
    """A generated sentence for the edit scenarios; `run.py` appends a unique marker to it."""
    return TextGenerator(random.Random(seed)).sentence(decorate=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000, help="number of articles")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (must be new)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--formats", default=",".join(FORMATS), help=f"comma-separated subset of {FORMATS}"
    )
    parser.add_argument("--theme-base", type=Path, help="base.html to copy as the override")
    args = parser.parse_args(argv)
    formats = [name.strip() for name in args.formats.split(",") if name.strip()]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        parser.error(f"unknown format(s): {', '.join(unknown)}")
    if args.articles < 1:
        parser.error("--articles must be at least 1")
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} exists and is not empty")
    manifest = make_corpus(args.articles, args.out, args.seed, formats, args.theme_base)
    print(json.dumps(manifest, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
