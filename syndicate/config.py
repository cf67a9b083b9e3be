"""site.yaml -> Site: every key checked, every problem collected before raising once."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .attribution import check_statement
from .errors import Problems, SiteError, display_path, warn
from .fields import Fields, parse_yaml
from .model import Author, Reprint, Site, Syndication, remember_authors

SITE_KEYS = (
    "title", "url", "description", "language", "timezone", "authors", "per_page",
    "feed_items", "max_article_bytes", "syndication",
)
AUTHOR_KEYS = ("name", "url", "bio", "reprint")
REPRINT_KEYS = ("preamble", "statement", "commercial")
SYNDICATION_KEYS = ("utm",)
_AUTHOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def load_site(site_file: Path | str) -> Site:
    """Read and validate site.yaml; raises SiteError naming every problem at once."""
    site_path = Path(site_file).absolute()
    shown = display_path(site_path, Path.cwd())
    try:
        data = site_path.read_bytes()
    except FileNotFoundError:
        raise SiteError.one(shown, 1, "site configuration not found (create site.yaml or pass --site)") from None
    except OSError as exc:
        raise SiteError.one(shown, 1, f"cannot read site configuration: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SiteError.one(shown, 1, f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8") from None
    problems = Problems()
    doc = parse_yaml(text.replace("\r\n", "\n"), shown)
    if doc.problems and not doc.data:
        raise SiteError(doc.problems)
    fields = Fields(doc)
    if not doc.problems and not doc.data:
        doc.problem((), "site.yaml is empty: it needs at least title, url and authors")
    title = fields.text("title", required=True)
    url = fields.web_url("url", required=True)
    language = fields.text("language", default="en")
    if not _LANGUAGE.match(language):
        doc.problem(("language",), f"'language' must be a language tag like en or en-GB, not '{language}'")
    timezone = fields.text("timezone", default="UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        doc.problem(("timezone",), f"unknown time zone '{timezone}' (use a name like Europe/London or UTC)")
        timezone = "UTC"
    authors = _load_authors(fields)
    syndication = _load_syndication(fields)
    for line, message in fields.unknown_keys(SITE_KEYS, " in site.yaml"):
        warn(shown, line, message)
    site = Site(
        title=title,
        url=url.rstrip("/") + "/",
        authors=authors,
        root=site_path.parent,
        source=shown,
        description=fields.text("description"),
        language=language,
        timezone=timezone,
        per_page=fields.integer("per_page", 10),
        feed_items=fields.integer("feed_items", 20),
        max_article_bytes=fields.integer("max_article_bytes", 1_000_000, minimum=1000),
        syndication=syndication,
        fingerprint=hashlib.blake2b(data, digest_size=16).hexdigest(),
    )
    problems.extend(doc.problems)
    problems.raise_if_any()
    return site


def _load_authors(fields: Fields) -> dict[str, Author]:
    section = fields.mapping("authors")
    if section is None:
        if not fields.has("authors"):
            fields.doc.problem(("authors",), "missing required key 'authors' (every article names one)")
        return {}
    authors = {}
    for author_id in section.data:
        if not _AUTHOR_ID.match(author_id):
            section.doc.problem(("authors", author_id), f"author id '{author_id}' must be letters, digits, '-', '_' or '.'")
        entry = section.mapping(author_id)
        if entry is None:
            if not section.has(author_id):
                section.doc.problem(("authors", author_id), f"author '{author_id}' needs at least a name")
            continue
        reprint = _load_reprint(entry)
        for line, message in entry.unknown_keys(AUTHOR_KEYS):
            warn(fields.doc.path, line, message)
        authors[author_id] = Author(
            id=author_id,
            name=entry.text("name", required=True),
            url=entry.web_url("url"),
            bio=entry.text("bio"),
            reprint=reprint,
        )
    found = dict(sorted(authors.items()))
    remember_authors(found)
    return found


def _load_reprint(entry: Fields) -> Reprint | None:
    terms = entry.mapping("reprint")
    if terms is None:
        return None
    for line, message in terms.unknown_keys(REPRINT_KEYS):
        warn(terms.doc.path, line, message)
    statement = terms.text("statement", required=True)
    key = (*terms.prefix, "statement")
    for message in check_statement(statement):
        terms.doc.problem(key, message)
    for part in ("preamble", "commercial"):
        for message in check_statement(terms.text(part)):
            terms.doc.problem((*terms.prefix, part), message)
    return Reprint(statement=statement, preamble=terms.text("preamble"), commercial=terms.text("commercial"))


def _load_syndication(fields: Fields) -> Syndication:
    section = fields.mapping("syndication")
    if section is None:
        return Syndication()
    for line, message in section.unknown_keys(SYNDICATION_KEYS):
        warn(section.doc.path, line, message)
    utm = section.data.get("utm")
    if utm is None or utm is False:
        return Syndication()
    if utm is True:
        return Syndication(utm={"utm_source": "syndication", "utm_medium": "referral", "utm_campaign": "reprint"})
    if not isinstance(utm, dict) or not all(isinstance(v, (str, int)) for v in utm.values()):
        section.doc.problem(("syndication", "utm"), "'syndication.utm' must be true, false, or a mapping like {utm_source: newsletter}")
        return Syndication()
    return Syndication(utm={str(k): str(v) for k, v in sorted(utm.items())})
