"""Front matter from other generators, read the way their authors wrote it.

Jekyll, Hugo, Pelican and WordPress each spell the same facts differently: dates as
`2016-01-01 10:00:00 +0100` or `Jan 5, 2016`, categories beside tags, `excerpt` or
`description` for the summary, one author as "Jane Doe and Sam Lee". Each reader here takes
every common spelling and returns our value, or None with nothing guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..urls import slugify
from .common import clean_text

# Words that make a comma-separated part of a byline a role or an affiliation, not a name:
# "Jane Doe, Executive Director", "Sam Lee, PhD", "Ann Roe, Acme Inc.".
_ROLE_WORDS = frozenset("""
    director executive editor editors chief ceo cto cfo coo founder cofounder co-founder manager president
    vice vp officer head lead author writer professor prof dr phd md mba jr sr ii iii iv inc ltd llc
    gmbh co corp company staff contributor contributing consultant coach chair chairman chairwoman partner
    engineer developer designer team group department dept university college institute school
    senior junior principal associate assistant analyst specialist advisor adviser owner member fellow
    researcher scientist student intern guest columnist correspondent reporter producer host
""".split())
_NAME_JOINERS = re.compile(r"\s+(?:and|&|with)\s+|\s*&\s*|\s*;\s*|\s*\|\s*", re.IGNORECASE)
_BY_PREFIX = re.compile(r"^\s*(?:written\s+)?by\s+", re.IGNORECASE)
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y",
    "%B %d %Y", "%b %d %Y", "%a, %d %b %Y %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S.%f%z", "%a %b %d %H:%M:%S %Y",
    "%a, %d %b %Y %H:%M:%S", "%d.%m.%Y", "%d.%m.%Y %H:%M",
)
_ZONE_NAME = re.compile(r"\s+\(?[A-Z]{2,5}\)?(?=\s+\d{4}$|$)")
_TAG_HTML = re.compile(r"<[^>]+>")
_MD_MARKUP = re.compile(r"[*_`]|!?\[([^\]]*)\]\([^)]*\)")


def split_author_names(value: Any) -> list[str]:
    """Display names in a byline value: a list, or one string joining names with "and", "&" or
    commas. A part after a comma that reads as a role or an affiliation belongs to the name
    before it and is dropped: "Jane Doe, Executive Director" is one author, Jane Doe."""
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            item = item.get("name") or item.get("display_name") or ""
        text = _BY_PREFIX.sub("", clean_text(str(item or "")))
        for group in _NAME_JOINERS.split(text):
            parts = [p.strip() for p in group.split(",") if p.strip()]
            for part in parts:
                if names and part is not parts[0] and _is_role(part):
                    continue
                if _is_role(part) and len(parts) > 1:
                    continue
                names.append(part)
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.casefold(), name)
    return list(seen.values())


def _is_role(part: str) -> bool:
    words = re.findall(r"[\w-]+", part.casefold())
    if not words:
        return True
    if any(word in _ROLE_WORDS for word in words):
        return True
    # "PhD", "MBA", "CPA": an all-capitals abbreviation after a name
    return len(words) == 1 and part.isupper() and len(part) <= 5


def read_when(value: Any) -> dt.date | dt.datetime | None:
    """A date or datetime from any front-matter spelling; None when it is not one."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = " ".join(value.strip().split())
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed.date() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else parsed
    except ValueError:
        pass
    for candidate in dict.fromkeys((text, _ZONE_NAME.sub("", text))):  # "Mon Jun 1 19:30:27 EDT 2015": the zone's
        for form in _DATE_FORMATS:                                        # name says too little; its wall time stays
            try:
                parsed = dt.datetime.strptime(candidate, form)
            except ValueError:
                continue
            return parsed.date() if "%H" not in form else parsed
    return None


def read_names(values: Iterable[Any]) -> list[str]:
    """Tags from tags, categories and keywords: lists, or strings of names separated by commas."""
    names: dict[str, str] = {}
    for value in values:
        items = value if isinstance(value, list) else [value] if value is not None else []
        for item in items:
            if isinstance(item, Mapping) or item is None:
                continue
            for part in str(item).split(","):
                name = clean_text(part)
                if name and slugify(name):
                    names.setdefault(slugify(name), name)
    return list(names.values())


def plain_summary(value: Any) -> str:
    """A summary is plain text: markup and HTML that other generators allowed are taken out."""
    if not isinstance(value, str):
        return ""
    text = _TAG_HTML.sub(" ", value)
    text = _MD_MARKUP.sub(lambda m: m[1] or "", text)
    return clean_text(text)


def read_flag(value: Any) -> bool | None:
    """`true`/`false`, and the strings other tools write for them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "off", "0"):
        return False
    return None


def as_list(value: Any) -> list[str]:
    """A value that may be one string or a list of them."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value).strip()] if str(value).strip() else []
