"""site.yaml -> Site: every key checked, every problem collected before raising once."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .attribution import check_statement
from .errors import Problem, Problems, SiteError, display_path, warning
from .fields import Fields, is_web_url, parse_yaml
from .model import Author, MenuEntry, Newsletter, Permalinks, Reprint, Reprinted, Site, Syndication
from .reprints import shown_reprints
from .theme import date_format_problem
from .urls import DEFAULT_ARTICLE_PERMALINK, permalink_problem

SITE_KEYS = (
    "title", "url", "description", "language", "timezone", "authors", "per_page",
    "feed_items", "feed_summaries", "max_article_bytes", "syndication", "reprints", "permalinks", "logo", "favicon", "image", "menu",
    "date_format", "search", "newsletter",
)
PERMALINK_KEYS = ("article",)
MENU_ITEMS = ("home", "archive", "tags", "authors", "search", "newsletter")  # a page's slug names the page
AUTHOR_KEYS = ("name", "url", "bio", "reprint")
REPRINT_KEYS = ("preamble", "statement", "commercial")
NEWSLETTER_KEYS = ("name", "from", "reply_to", "address", "unsubscribe")
# What each sending service writes in place of a reader's own unsubscribe link.
UNSUBSCRIBE_PLACEHOLDERS = {"mailchimp": "*|UNSUB|*", "buttondown": "{{ unsubscribe_url }}", "listmonk": "{{ UnsubscribeURL }}"}
SYNDICATION_KEYS = ("utm",)
_AUTHOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def load_site(site_file: Path | str, *, lenient: bool = False) -> Site:
    """Read and validate site.yaml; raises SiteError naming every problem at once. `lenient`:
    a site.yaml that can be read at all gives its Site, defaults standing in for the values
    in error (to look for the content's own problems beside them)."""
    site_path = Path(site_file).absolute()
    shown = display_path(site_path, Path.cwd())
    try:
        data = site_path.read_bytes()
    except FileNotFoundError:
        raise SiteError.about(shown, "site configuration not found (create site.yaml or pass --site)") from None
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
    warnings: list[Problem] = []
    authors = _load_authors(fields, warnings)
    syndication = _load_syndication(fields, warnings)
    newsletter = _load_newsletter(fields, warnings)
    permalinks = _load_permalinks(fields)
    files = {key: _site_file(fields, site_path.parent, key) for key in ("logo", "favicon", "image")}
    search = fields.flag("search", True)
    menu = _load_menu(fields, search)
    date_format = fields.text("date_format", default="%-d %B %Y")
    if (message := date_format_problem(date_format)) is not None:
        doc.problem(("date_format",), message)
    reprinted = _load_reprinted(fields, site_path.parent)
    for line, message in fields.unknown_keys(SITE_KEYS, " in site.yaml"):
        warnings.append(warning(shown, line, message))
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
        feed_summaries=fields.flag("feed_summaries", False),
        max_article_bytes=fields.integer("max_article_bytes", 1_000_000, minimum=1000),
        syndication=syndication,
        newsletter=newsletter,
        permalinks=permalinks,
        fingerprint=hashlib.blake2b(data + repr(reprinted).encode(), digest_size=16).hexdigest(),
        reprinted=reprinted,
        menu=menu,
        date_format=date_format,
        search=search,
        **files,
        warnings=tuple(warnings),
    )
    problems.extend(doc.problems)
    problems.extend(warnings)
    if not lenient:
        problems.raise_if_any()
    return site


def _load_authors(fields: Fields, warnings: list[Problem]) -> dict[str, Author]:
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
        reprint = _load_reprint(entry, warnings)
        for line, message in entry.unknown_keys(AUTHOR_KEYS):
            warnings.append(warning(fields.doc.path, line, message))
        authors[author_id] = Author(
            id=author_id,
            name=entry.text("name", required=True),
            url=entry.web_url("url"),
            bio=entry.text("bio"),
            reprint=reprint,
        )
    return dict(sorted(authors.items()))


def _load_reprint(entry: Fields, warnings: list[Problem]) -> Reprint | None:
    terms = entry.mapping("reprint")
    if terms is None:
        return None
    for line, message in terms.unknown_keys(REPRINT_KEYS):
        warnings.append(warning(terms.doc.path, line, message))
    statement = terms.text("statement", required=True)
    key = (*terms.prefix, "statement")
    for message in check_statement(statement):
        terms.doc.problem(key, message)
    for part in ("preamble", "commercial"):
        for message in check_statement(terms.text(part)):
            terms.doc.problem((*terms.prefix, part), message)
    return Reprint(statement=statement, preamble=terms.text("preamble"), commercial=terms.text("commercial"))


def _load_reprinted(fields: Fields, root: Path) -> dict[str, tuple[Reprinted, ...]]:
    """`reprints: show`: the verified reprints each article page lists (see reprints.py)."""
    choice = fields.text("reprints", default="hide")
    if choice not in ("show", "hide"):
        fields.doc.problem(("reprints",), f"'reprints' must be show or hide, not '{choice}'")
        return {}
    if choice == "hide":
        return {}
    reprinted, problems = shown_reprints(root)
    fields.doc.problems.extend(problems)
    return reprinted


def _load_syndication(fields: Fields, warnings: list[Problem]) -> Syndication:
    section = fields.mapping("syndication")
    if section is None:
        return Syndication()
    for line, message in section.unknown_keys(SYNDICATION_KEYS):
        warnings.append(warning(section.doc.path, line, message))
    utm = section.data.get("utm")
    if utm is None or utm is False:
        return Syndication()
    if utm is True:
        return Syndication(utm={"utm_source": "syndication", "utm_medium": "referral", "utm_campaign": "reprint"})
    if not isinstance(utm, dict) or not all(isinstance(v, (str, int)) for v in utm.values()):
        section.doc.problem(("syndication", "utm"), "'syndication.utm' must be true, false, or a mapping like {utm_source: newsletter}")
        return Syndication()
    return Syndication(utm={str(k): str(v) for k, v in sorted(utm.items())})


def _load_permalinks(fields: Fields) -> Permalinks:
    section = fields.mapping("permalinks")
    if section is None:
        return Permalinks()
    for key in section.unknown(PERMALINK_KEYS):
        section.doc.problem(("permalinks", key), f"unknown key 'permalinks.{key}' (known: {', '.join(PERMALINK_KEYS)})")
    # A leading '/' is how Jekyll and Hugo write theirs: the same path, relative to the site's url.
    pattern = section.text("article", default=DEFAULT_ARTICLE_PERMALINK).removeprefix("/")
    problem = permalink_problem(pattern)
    if problem is not None:
        section.doc.problem(("permalinks", "article"), problem)
        return Permalinks()
    return Permalinks(article=pattern)


def _load_newsletter(fields: Fields, warnings: list[Problem]) -> Newsletter | None:
    """The `newsletter` section; whether it is needed at all is decided by the issues."""
    section = fields.mapping("newsletter")
    if section is None:
        return None
    doc = section.doc
    for line, message in section.unknown_keys(NEWSLETTER_KEYS):
        warnings.append(warning(doc.path, line, message))
    name = section.text("name", required=True)
    sender = _mail_address(section, "from", required=True)
    reply_to = _mail_address(section, "reply_to", required=False)
    address = section.text("address", required=True)
    unsubscribe = section.text("unsubscribe", required=True)
    if re.fullmatch(r"[A-Za-z][\w-]*", unsubscribe) and unsubscribe.lower() not in UNSUBSCRIBE_PLACEHOLDERS:
        doc.problem(("newsletter", "unsubscribe"), (
            f"unknown sending service '{unsubscribe}' in newsletter.unsubscribe (use mailchimp, buttondown or listmonk, "
            "or write the unsubscribe URL or placeholder your service fills in)"))
    unsubscribe = UNSUBSCRIBE_PLACEHOLDERS.get(unsubscribe.lower(), unsubscribe)
    return Newsletter(name=name, sender=sender, address=address, unsubscribe=unsubscribe, reply_to=reply_to)


def _mail_address(section: Fields, key: str, *, required: bool) -> str:
    """One e-mail address, bare or with a display name ("Digest <news@example.org>")."""
    value = section.text(key, required=required)
    if not value:
        return ""
    import email.policy  # only sites with a newsletter pay for importing the e-mail package

    header = email.policy.default.header_factory({"from": "From", "reply_to": "Reply-To"}[key], value)
    addresses: tuple[Any, ...] = getattr(header, "addresses", ())
    if header.defects or len(addresses) != 1 or not addresses[0].domain or not addresses[0].username:
        section.doc.problem(("newsletter", key), (
            f"'newsletter.{key}' must be one e-mail address, like \"Service Digest <news@example.org>\", not '{value}'"))
        return ""
    return str(header)


def _site_file(fields: Fields, root: Path, key: str) -> str:
    """`logo`, `favicon`, `image`: a file under content/ (as a site-root path) or an http(s) URL."""
    value = fields.text(key)
    if not value or is_web_url(value):
        return value
    if "://" in value or value.startswith(("//", "data:", "javascript:")) or ".." in value.split("/"):
        fields.doc.problem((key,), f"'{key}' must be a path under content/ or an http(s) URL, not '{value}'")
        return ""
    path = value.lstrip("/")
    if not (root / "content" / path).is_file():
        fields.doc.problem((key,), f"{key} '{path}' not found under content/ (put the file there or give an http(s) URL)")
        return ""
    return "/" + path


def _load_menu(fields: Fields, search: bool) -> tuple[MenuEntry, ...] | None:
    """The nav in the order written. Items: home, archive, tags, authors, search, a page's
    slug, or {title, url} / {title, page} for a link or a page with a title of your own."""
    value = fields.data.get("menu")
    if value is None:
        return None
    doc = fields.doc
    if not isinstance(value, list):
        doc.problem(("menu",), "'menu' must be a list, like [home, archive, about, tags, search]")
        return None
    entries = []
    for index, item in enumerate(value):
        line = doc.line("menu", f"[{index}]")
        entry = _menu_entry(item, line)
        if isinstance(entry, str):
            doc.problems.append(Problem(doc.path, line, entry))
        elif entry.kind == "search" and not search:
            doc.problems.append(Problem(doc.path, line, "menu names 'search' but 'search' is false; remove one of them"))
        else:
            entries.append(entry)
    return tuple(entries)


def _menu_entry(item: object, line: int) -> MenuEntry | str:
    """The entry, or the message saying what is wrong with it."""
    expected = f"expected one of {', '.join(MENU_ITEMS)}, a page's slug, or {{title: ..., url: ...}}"
    if isinstance(item, str) and item.strip():
        name = item.strip()
        if name in MENU_ITEMS:
            return MenuEntry(name, line=line)
        if not _SLUG.match(name):
            return f"menu item '{name}' is not a page slug; {expected}"
        return MenuEntry("page", name, line=line)
    if not isinstance(item, dict):
        return f"menu item '{item}' not understood; {expected}"
    unknown = sorted(set(item) - {"title", "url", "page"})
    title = str(item.get("title") or "").strip()
    if unknown:
        return f"unknown key '{unknown[0]}' in a menu item (known: title, url, page)"
    if ("url" in item) == ("page" in item):
        return "a menu item needs either 'url' (a link) or 'page' (a page's slug), with a 'title'"
    if "page" in item:
        return MenuEntry("page", str(item["page"]).strip(), title, line)
    url = str(item.get("url") or "").strip()
    if not title:
        return f"menu link '{url}' needs a 'title'"
    if not is_web_url(url) and (":" in url.split("/", 1)[0] or url.startswith("//") or ".." in url.split("/")):
        return f"menu link '{url}' must be an http(s) URL or a path on this site like /newsletter/"
    return MenuEntry("link", url, title, line)
