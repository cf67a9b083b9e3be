"""Read text copied from a web page (select all, copy): the article among the page's chrome.

A copy has no markup left: menus run together ("HomeBlogContact"), headings and list items
stand on lines of their own, share buttons and comment forms become short lines. Lines are
classified the way jusText classifies paragraphs (length, stop-word density, link density,
with jusText's own thresholds and stop-word lists), helped by what such pages share: a
byline with a date under the title, and an end of the article marked by "Share this",
"Posted in", "Leave a Reply" and the like. Browsers put a blank line after a paragraph but
not after a heading or a list item, which tells the two apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import justext

from ..attribution import find_links
from .extract import GUESS, LIKELY, SURE, Block, Extract, Found, Link, Unit
from .markdown import escape_line_start, escape_text

# jusText's defaults: a "good" paragraph is long enough and dense enough in stop words.
LENGTH_LOW, STOPWORDS_LOW, MAX_LINK_DENSITY = 70, 0.30, 0.2
_LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "nl": "Dutch",
              "pt": "Portuguese", "sv": "Swedish", "da": "Danish", "no": "Norwegian_Bokmal", "fi": "Finnish", "pl": "Polish"}

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december")
_MONTH = r"(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATES = (
    re.compile(r"\b(?P<year>\d{4})-(?P<m>\d{1,2})-(?P<day>\d{1,2})\b"),
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b", re.IGNORECASE),
    re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.IGNORECASE),
    # Chinese, Japanese and Korean dates (2020年9月15日, 2020년 9월 15일), WordPress's Japanese
    # "9月 15, 2020", and 2020/09/15 or 2020.09.15 as many Asian sites write them.
    re.compile(r"(?P<year>\d{4})\s*[年년]\s*(?P<m>\d{1,2})\s*[月월]\s*(?P<day>\d{1,2})\s*[日일]?"),
    re.compile(r"(?P<m>\d{1,2})\s*[月월]\s*(?P<day>\d{1,2})\s*[,，日일]?\s*(?P<year>\d{4})"),
    re.compile(r"\b(?P<year>\d{4})[/.](?P<m>\d{1,2})[/.](?P<day>\d{1,2})\b"),
)
_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_BY = re.compile(rf"(?:^|\s|\|)(?:by|written by|author:)\s+((?:[A-Z{_CJK_CHARS}][\w'’.-]*\s?){{1,4}})", re.IGNORECASE)
_META_LINE = re.compile(r"\b(posted|published|updated|written|by|min(?:ute)?s? read|comments?)\b", re.IGNORECASE)
_FILED = re.compile(r"^(?://\s*)?(?:(?:posted|filed)\s+)?(?:under|in|categor(?:y|ies):?|tags?:)\s+\S.{0,60}$", re.IGNORECASE)  # "// under Plone"
_READING_TIME = re.compile(r"\b\d+\s+min(?:ute)?s?\s+read\b", re.IGNORECASE)
_HASHTAGS = re.compile(r"^(?:#[\w-]+\s*){1,12}$")
_DATELINE = re.compile(r"^(?:posted|published|updated|written|last updated)\b.{0,40}$", re.IGNORECASE)
_COMMENTS = re.compile(
    r"^(\d+\s+(comments?|responses?|replies|thoughts)\b|(\d+\s+)?thoughts? on\b|leave a (reply|comment)|comments?$|"
    r"join the (discussion|conversation)|what do you think\??$|add (a|your) comment)", re.IGNORECASE)
END_LINE = re.compile(
    r"^(share( this)?( article| post| page)?:?$|share on\b|like this:?$|related( posts| articles| reading)?:?$|"
    r"you (may|might) also (like|enjoy)|posted in\b|filed under\b|tagged( with)?\b|tags?:|categories:|"
    r"about the author$|subscribe to\b|more from\b|previous (post|article)|next (post|article)|read next|recent posts$|"
    r"read (other|more) (posts|articles)$|back to (the )?(blog|top|articles|posts)$|get (my|our) (content|posts|articles|newsletter)\b|"
    r"no spam\b|sign up for (my|our)\b|join (my|our) (newsletter|mailing list)\b)", re.IGNORECASE)
CHROME_LINE = re.compile(
    r"^(share|tweet|ツイート|シェア|pin( it)?|e-?mail|print|facebook|twitter|x|linkedin|pinterest|reddit|whatsapp|telegram|pocket|"
    r"(go|back) to top|go top|top|↑|"
    r"like|reply|advertisement|sponsored|(like )?loading\s*(\.{3}|…)|skip to (main )?content|search|menu|home|"
    r"subscribe|sign up|log ?in|click to (tweet|share|email|print)\b.*|read more\b.*|continue reading\b.*|"
    r"\d+ min(ute)?s? read|(photo|image)( credit)?:.*|join \d[\d,]* other subscribers|enter your e-?mail.*)$", re.IGNORECASE)
_CJK = re.compile(f"[{_CJK_CHARS}]")
_MARKER = re.compile(r"^(?P<marker>[•·▪◦‣*+–-]|\d{1,2}[.)])\s+(?P<text>\S.*)$")
_TERMINAL = re.compile(r"[.!?:;,…\"”'’。！？、」』）]$")  # Latin and CJK sentence ends


@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    number: int
    gap_before: bool
    gap_after: bool


def extract_text(text: str, language: str = "en") -> Extract:
    stoplist = justext.get_stoplist(_LANGUAGES.get(language.split("-")[0].lower(), "English"))
    lines = _lines(text)
    units = tuple(_unit(line) for line in lines)
    good = [_is_good(line.text, stoplist) for line in lines]
    head = _byline_at(lines, good)
    title, author, published, start = _heading(lines, good, head)
    end = _end_of_body(lines, good, start)
    if published is None:
        dateline = next((line for line in lines if _DATELINE.match(line.text) and date_in(line.text)), None)
        when = date_in(dateline.text) if dateline else None
        published = (when, Found(when.isoformat(), f"the line '{dateline.text}'" if dateline else "", LIKELY)) if when else None
    tags = tuple(dict.fromkeys(tag.lstrip("#") for line in lines[:start] if _HASHTAGS.match(line.text) for tag in line.text.split()))
    blocks = _blocks(lines[start:end], stoplist)
    notes = []
    if title is None:
        notes.append((1, "no title found in the text copy"))
    return Extract(kind="text copy", blocks=tuple(blocks), units=units, title=title, author=author, published=published,
                   tags=tags, notes=tuple(notes))


def _lines(text: str) -> list[_Line]:
    raw = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").split("\n")
    lines = []
    for index, line in enumerate(raw):
        if line.strip():
            gap_before = index == 0 or not raw[index - 1].strip()
            gap_after = index + 1 >= len(raw) or not raw[index + 1].strip()
            lines.append(_Line(" ".join(line.split()), index + 1, gap_before, gap_after))
    return lines


def _unit(line: _Line) -> Unit:
    links = tuple(Link(line.text[start:end], href) for start, end, href, _kind in find_links(line.text))
    return Unit(text=line.text, statement=line.text, line=line.number, links=links)


def _is_good(text: str, stoplist: frozenset[str]) -> bool:
    words = re.findall(r"[\w'’]+", text.lower())
    # Chinese, Japanese and Korean prose has no spaces between words to count stop words in,
    # and says in 35 characters what English says in 70: a line mostly of them is prose.
    cjk = len(_CJK.findall(text)) >= 0.4 * len(text)
    if len(text) < (LENGTH_LOW // 2 if cjk else LENGTH_LOW) or not words or CHROME_LINE.match(text):
        return False
    linked = sum(end - start for start, end, _h, _k in find_links(text))
    if linked / len(text) > MAX_LINK_DENSITY:
        return False
    return cjk or sum(1 for w in words if w in stoplist) / len(words) >= STOPWORDS_LOW


def _byline_at(lines: list[_Line], good: list[bool]) -> int | None:
    """The byline under the title: a short line with a date or "by Name" before the first paragraph."""
    first_good = next((i for i, g in enumerate(good) if g), len(lines))
    for index in range(min(first_good, len(lines))):
        text = lines[index].text
        if len(text.split()) <= 20 and (date_in(text) or _BY.search(text)) and _META_LINE.search(text) or (
                len(text.split()) <= 8 and (date_in(text) or _READING_TIME.search(text)) and index + 1 < len(lines)):
            return index
    return None


def _heading(lines: list[_Line], good: list[bool], byline: int | None) -> tuple[Found | None, Found | None, tuple[date, Found] | None, int]:
    """Title, author, date, and where the body starts."""
    author = published = None
    if byline is not None:
        start = byline + 1
        meta = [byline]
        while start < len(lines) and not good[start] and len(lines[start].text.split()) <= 12 and (
                date_in(lines[start].text) or _BY.search(lines[start].text) or _HASHTAGS.match(lines[start].text)):
            meta.append(start)
            start += 1
        title_at = byline - 1
        while title_at >= 0 and (CHROME_LINE.match(lines[title_at].text) or date_in(lines[title_at].text)):
            title_at -= 1
        for index in meta:
            by = _BY.search(lines[index].text)
            author = author or (Found(_name(by[1]), "byline", LIKELY) if by else None)
            when = date_in(lines[index].text)
            published = published or ((when, Found(when.isoformat(), "byline", SURE)) if when else None)
        title = Found(lines[title_at].text, "the line above the byline", LIKELY) if title_at >= 0 else None
        return title, author, published, start
    first_good = next((i for i, g in enumerate(good) if g), 0)
    title_at = first_good - 1
    while title_at >= 0 and (CHROME_LINE.match(lines[title_at].text) or len(lines[title_at].text.split()) > 16
                             or _FILED.match(lines[title_at].text)):
        title_at -= 1
    title = Found(lines[title_at].text, "the line before the first paragraph", GUESS) if title_at >= 0 else None
    start = title_at + 1
    while start < first_good and _FILED.match(lines[start].text):
        start += 1  # "// under Plone" is the old site's filing, not the article's
    return title, None, None, start


def _end_of_body(lines: list[_Line], good: list[bool], start: int) -> int:
    """The first comment header, or the first end-of-article line after some article text."""
    seen_text = False
    for index in range(start, len(lines)):
        text = lines[index].text
        if _COMMENTS.match(text) or seen_text and (END_LINE.match(text) or _DATELINE.match(text) and date_in(text)):
            return index
        seen_text = seen_text or good[index]
    return len(lines)


def _blocks(lines: list[_Line], stoplist: frozenset[str]) -> list[Block]:
    """Paragraphs, headings and list items of the body, chrome lines dropped."""
    kept = [line for line in lines if not CHROME_LINE.match(line.text) and not END_LINE.match(line.text)]
    kinds: list[str] = []
    for index in range(len(kept)):
        kinds.append(_kind(kept, index, kinds[-1] if kinds else "", stoplist))
    blocks: list[Block] = []
    items: list[tuple[_Line, str]] = []

    def close_list() -> None:
        if items:
            ordered = all(re.match(r"\d", marker) for _, marker in items if marker) and any(marker for _, marker in items)
            rendered = [f"{n}. {escape_text(line.text)}" if ordered else f"- {escape_text(line.text)}" for n, (line, _) in enumerate(items, 1)]
            blocks.append(Block("\n".join(rendered), " ".join(line.text for line, _ in items), items[0][0].number, "list"))
            items.clear()

    for line, kind in zip(kept, kinds, strict=True):
        if kind == "item":
            marker = _MARKER.match(line.text)
            bare = _Line(marker["text"], line.number, line.gap_before, line.gap_after) if marker else line
            items.append((bare, marker["marker"] if marker else ""))
            continue
        close_list()
        if kind == "h":
            blocks.append(Block("## " + escape_text(line.text), line.text, line.number, "h"))
        elif kind == "p":
            blocks.append(Block(escape_line_start(escape_text(line.text)), line.text, line.number, "p"))
    close_list()
    return blocks


def _kind(lines: list[_Line], index: int, previous_kind: str, stoplist: frozenset[str]) -> str:
    """"h", "item", "p" or "" (chrome) for one line, from its shape and its neighbours."""
    line = lines[index]
    previous = lines[index - 1] if index else None
    following = lines[index + 1] if index + 1 < len(lines) else None
    after_next = lines[index + 2] if index + 2 < len(lines) else None
    if _MARKER.match(line.text):
        return "item"
    words = len(line.text.split())
    lead_in = previous is not None and previous.text.endswith(":")
    if line.text.endswith(":") and words >= 4:
        return "p"  # the sentence that introduces a list
    if _heading_like(line) and following is not None and _paragraph_like(following, stoplist) and not (lead_in and not line.gap_after):
        return "h"
    in_run = following is not None and not line.gap_after or previous is not None and not line.gap_before
    if words <= 40 and (lead_in or previous_kind == "item" and not line.gap_before):
        return "item"
    if (_heading_like(line) and following is not None and _heading_like(following) and words <= 6
            and len(following.text.split()) <= 6 and after_next is not None and _paragraph_like(after_next, stoplist)):
        return "h"  # a heading straight above a sub-heading
    if (words <= 40 and in_run and following is not None and not line.gap_after
            and not _paragraph_like(line, stoplist) and not _paragraph_like(following, stoplist)):
        return "item"
    if words <= 3 and not _TERMINAL.search(line.text) and not any(w in stoplist for w in line.text.lower().split()):
        return ""  # a stray label ("Advertisement", "Menu") between paragraphs
    return "p"


def _heading_like(line: _Line) -> bool:
    """Short, capitalised, and not ending like a sentence (a question may be a heading)."""
    text = line.text
    if not (text[:1].isupper() or text[:1].isdigit()) or len(text.split()) > 14:
        return False
    return not _TERMINAL.search(text) or text.endswith("?") and len(text.split()) <= 10


def _paragraph_like(line: _Line, stoplist: frozenset[str]) -> bool:
    return len(line.text.split()) >= 15 or _is_good(line.text, stoplist)


def date_in(text: str) -> date | None:
    for pattern in _DATES:
        match = pattern.search(text)
        if match is None:
            continue
        groups = match.groupdict()
        month = int(groups["m"]) if groups.get("m") else next(
            (n for n, name in enumerate(_MONTHS, 1) if name.startswith(groups["month"].lower().rstrip("."))), 0)
        try:
            return date(int(groups["year"]), month, int(groups["day"]))
        except ValueError:
            continue
    return None


def _name(text: str) -> str:
    words = text.replace("|", " ").split()
    while words and (not (words[-1][:1].isupper() or _CJK.match(words[-1])) or words[-1].lower() in {"on", "in", "posted", "published"}):
        words.pop()
    return " ".join(words).rstrip(".,")


