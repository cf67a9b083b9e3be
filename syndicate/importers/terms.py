"""Lift reprint terms and republish credits out of a page's text.

Reprint terms come in three parts (see the README): a *preamble* offering free reprints on
condition, the *statement* that must travel with every copy (a copyright line naming the
author, a short bio, web addresses), and a *commercial* clause reserving paid use. A
republished copy instead carries a short *credit* ("Republished with permission from the
original post", "This article first appeared on ..."). They are searched in every line of
the page, not only the extracted body, because themes put them in footers, bios and
asides. What is lifted is removed from the article body: it belongs in site.yaml and in
the front matter, from where every syndicated copy gets it back in full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..attribution import find_links
from ..model import Original, Reprint
from .extract import GUESS, LIKELY, SURE, Unit

_REUSE = re.compile(
    r"\b(you may|you can|you're welcome to|you are welcome to|you are free to|feel free to|free to|permission to|"
    r"reprints? (?:are |is )?welcome|welcome to)\b.{0,160}?\b(use|reprint|republish|re-publish|publish|share|copy|repost|"
    r"distribute|run|print|include|reproduce)\b", re.IGNORECASE)
_CONDITION = re.compile(
    r"\b(provid(?:ed|ing)|as long as|so long as|on (?:the )?condition|if you|with (?:the|this|its)|includ(?:e|ing)|below|following)\b",
    re.IGNORECASE)
_STATEMENT_WORD = re.compile(r"\b(statement|bio|byline|credit|notice|resource box|box|copyright|attribution|below|following)\b", re.IGNORECASE)
_PREAMBLE_SPLIT = re.compile(r"[:.!]\s+(?=(?:copyright\b|©|\(c\)))", re.IGNORECASE)
_COPYRIGHT_START = re.compile(r"^\W{0,3}(?:copyright\b|©|\(c\)\s)", re.IGNORECASE)
_WRITTEN_BY_START = re.compile(r"^\W{0,3}(?:this )?(?:article|post|piece)? ?(?:is )?written by\s", re.IGNORECASE)
_PERMISSION = re.compile(r"\b(used|reprinted|published|reproduced) (with|by) permission\b", re.IGNORECASE)
_SITE_NOTICE = re.compile(r"\ball rights reserved\b|\bpowered by\b|\bprivacy\b|\bterms of (use|service)\b", re.IGNORECASE)
_COMMERCIAL = re.compile(r"\b(commercial|paid|for[- ]profit|fee[- ]based|fee|resale|resell|sell|priced|for sale|charge)\b", re.IGNORECASE)
_ASK = re.compile(r"\b(contact|permission|licen[cs]e|get in touch|e-?mail|write|ask|request|arrange|must|need|please)\b", re.IGNORECASE)
_CREDIT = re.compile(
    r"\b(?:re-?published|re-?posted|reprinted|cross-?posted|shared|syndicated|published here)\s+(?:here\s+)?with\s+(?:the\s+)?"
    r"(?:(?:kind|express|full)\s+)?(?:(?:author|writer|publisher)['’]?s?['’]?\s+|(?:their|his|her)\s+)?permission\b"
    r"|^\W{0,3}(?:this (?:\w+ ){0,2}?(?:article|post|piece|story|column|essay|interview|review|report|version|feature|guide|text) )?"
    r"(?:(?:was|is|has been) )?(?:(?:originally|first)\s+(?:published|appeared|posted|ran)\b"
    r"|appeared\s+(?:first|originally)\b|cross-?posted from\b)", re.IGNORECASE)
_BIO_HINT = re.compile(
    r"\b(he|she|they|his|her|their|visit|contact|subscribe|sign up|learn more|for more|author of|website|blog|"
    r"newsletter|copyright|permission|rights|follow|read more|e-?mail|www\.)\b", re.IGNORECASE)
_NAME = r"((?:[A-Z]\.|[A-Z][\w'’-]+)(?:\s+(?:[A-Z]\.|[A-Z][\w'’-]+|de|van|von|der|den|da|del|di|la|le|bin|al|ter)){0,4})"
_COPYRIGHT_NAME = re.compile(
    r"(?i:copyright|©|\(c\))\s*(?:©\s*)?[,:]?\s*(?:\d{4}(?:\s*[-–]\s*\d{4})?\s*,?\s*)?(?i:by\s+)?" + _NAME)
_WRITTEN_BY_NAME = re.compile(r"\b(?i:written by)\s+" + _NAME)
_GENERIC_LINK_TEXT = re.compile(
    r"^(the\s+)?(original( post| article| version)?|here|this link|link|source|read more|click here|post|article)$", re.IGNORECASE)
_CREDIT_SITE = re.compile(r"\b(?:on|at|in|from|by)\s+(?:the\s+)?([A-Z][\w.'’&-]*(?:\s+[A-Z][\w.'’&-]*){0,5})")
_ENDS_WELL = re.compile(r"([.!?)\]\"'’”]|\w\.\w{2,}/?)\s*$")

MAX_STATEMENT_UNITS = 4


@dataclass(frozen=True, slots=True)
class Lifted:
    """What was lifted from a page, and the lines it came from (so they leave the body)."""

    reprint: Reprint | None = None
    original: Original | None = None  # with url "" when the credit named no link
    credit_line: int = 0
    named_author: str = ""  # the name in the statement's copyright line
    sure: str = ""
    removed: tuple[str, ...] = ()  # visible text of every lifted line
    statement_line: int = 0
    doubts: tuple[tuple[int, str], ...] = ()  # (line, message) for import-report.md


def lift_terms(units: tuple[Unit, ...]) -> Lifted:
    """Find the reprint terms and the republish credit among all the page's lines."""
    removed: list[str] = []
    doubts: list[tuple[int, str]] = []
    reprint, named, sure, statement_line = None, "", "", 0
    found = _find_statement(units)
    if found is not None:
        preamble, start, parts, commercial_at = found
        statement = "\n\n".join(parts)
        preamble_text = preamble[1] if preamble else ""
        commercial = units[commercial_at].text if commercial_at is not None else ""
        reprint = Reprint(statement=statement, preamble=preamble_text, commercial=commercial)
        removed.extend(u.text for u in units[start:start + len(parts)])
        if preamble:
            removed.append(units[preamble[0]].text)
        if commercial_at is not None:
            removed.append(commercial)
        statement_line = units[start].line
        named = _named_author(statement)
        sure = SURE if preamble and (named or _PERMISSION.search(statement)) else LIKELY if preamble or _PERMISSION.search(statement) else GUESS
        doubts.extend((statement_line, message) for message in _doubts(reprint))
    else:
        offer = next((unit for unit in units if _is_preamble(unit.text)), None)
        if offer is not None:
            doubts.append((offer.line, "a reprint offer was found but no statement after it; copy the statement into site.yaml by hand"))
            removed.append(offer.text)
    original, credit_line = None, 0
    for unit in units:
        if len(unit.text) < 300 and unit.text not in removed and _CREDIT.search(unit.text):
            original, credit_line = _credit(unit), unit.line
            removed.append(unit.text)
            break
    return Lifted(reprint, original, credit_line, named, sure, tuple(dict.fromkeys(removed)), statement_line, tuple(doubts))


def _find_statement(units: tuple[Unit, ...]) -> tuple[tuple[int, str] | None, int, list[str], int | None] | None:
    """(preamble index and text, statement start, statement parts, commercial index) or None."""
    candidates: list[tuple[int, tuple[int, str] | None, int, list[str], int | None]] = []
    for index, unit in enumerate(units):
        if _is_preamble(unit.text):
            split = _PREAMBLE_SPLIT.search(unit.text)
            if split is not None:  # "... include this statement: Copyright, ..." in one line
                head, tail = unit.text[:split.start() + 1], unit.statement[_statement_offset(unit, split.end()):]
                parts = [tail.strip(), *_continuation(units, index + 1)]
                commercial = _commercial_after(units, index + len(parts))
                candidates.append((3, (index, head.strip()), index, parts, commercial))
                continue
            start = _next_text(units, index + 1)
            if start is not None and not _is_commercial(units[start].text) and not _is_preamble(units[start].text):
                parts = [units[start].statement, *_continuation(units, start + 1)]
                commercial = _commercial_after(units, start + len(parts)) or _commercial_before(units, index)
                candidates.append((3, (index, unit.text), start, parts, commercial))
        elif _starts_statement(unit.text):
            parts = [unit.statement, *_continuation(units, index + 1)]
            score = 2 if _PERMISSION.search(unit.text) else 1
            candidates.append((score, None, index, parts, _commercial_after(units, index + len(parts))))
    if not candidates:
        return None
    _, preamble, start, parts, commercial = max(candidates, key=lambda c: c[0])  # max keeps the first of the best
    return preamble, start, parts, commercial


def _statement_offset(unit: Unit, text_offset: int) -> int:
    """Where in `unit.statement` the words at `text_offset` of `unit.text` begin."""
    words = unit.text[text_offset:].split()
    if not words:
        return len(unit.statement)
    found = unit.statement.find(words[0])
    return found if found >= 0 else 0


def _continuation(units: tuple[Unit, ...], index: int) -> list[str]:
    """The statement's further lines: bio and web addresses, up to anything else."""
    parts: list[str] = []
    while index < len(units) and len(parts) < MAX_STATEMENT_UNITS - 1:
        unit = units[index]
        text = unit.text
        if (unit.is_heading or _is_commercial(text) or _is_preamble(text) or _CREDIT.search(text)
                or _SITE_NOTICE.search(text) or len(text) > 700 or not _BIO_HINT.search(text) and not find_links(text)):
            break
        parts.append(unit.statement)
        index += 1
    return parts


def _next_text(units: tuple[Unit, ...], index: int) -> int | None:
    while index < len(units) and not units[index].text.strip():
        index += 1
    return index if index < len(units) and not units[index].is_heading else None


def _commercial_after(units: tuple[Unit, ...], index: int) -> int | None:
    for offset in range(index, min(index + 2, len(units))):
        if _is_commercial(units[offset].text):
            return offset
    return None


def _commercial_before(units: tuple[Unit, ...], index: int) -> int | None:
    return index - 1 if index > 0 and _is_commercial(units[index - 1].text) else None


def _is_preamble(text: str) -> bool:
    return len(text) < 600 and bool(_REUSE.search(text) and _CONDITION.search(text) and _STATEMENT_WORD.search(text))


def _is_commercial(text: str) -> bool:
    return len(text) < 400 and bool(_COMMERCIAL.search(text) and _ASK.search(text))


def _starts_statement(text: str) -> bool:
    """A copyright line that reads as reprint terms, not as the site's own footer notice."""
    if not (_COPYRIGHT_START.search(text) or _WRITTEN_BY_START.search(text)):
        return False
    if _PERMISSION.search(text):
        return True
    return len(text) >= 80 and not _SITE_NOTICE.search(text) and bool(find_links(text))


def _named_author(statement: str) -> str:
    match = _COPYRIGHT_NAME.search(statement) or _WRITTEN_BY_NAME.search(statement)
    if match is None:
        return ""
    words = match[1].rstrip(".").split()
    while words and words[-1].lower() in {"used", "all", "reprinted", "published"}:
        words.pop()
    return " ".join(words) if len(words) >= 2 else ""


def _doubts(reprint: Reprint) -> list[str]:
    statement = " ".join(reprint.statement.split())
    doubts = []
    links = find_links(statement) or re.findall(r"\]\((?:https?|mailto):", statement)
    if not links and re.search(r"\blinks?\b|\bwebsites?\b", reprint.preamble, re.IGNORECASE):
        doubts.append("the reprint statement has no web address although its preamble asks for active links; it may be cut")
    tail = statement[-40:]
    if re.search(r"(\.\.\.|…|\[…\]|read more)\s*$", statement, re.IGNORECASE) or not _ENDS_WELL.search(statement):
        doubts.append(f"the reprint statement seems cut: it ends with '{tail.strip()}'")
    return doubts


def _credit(unit: Unit) -> Original:
    """The credit line as `original`: its words as the note, its link as the URL."""
    link = next((link for link in unit.links if link.href.startswith("http")), None)
    url = link.href if link else ""
    site = ""
    if link is not None and not _GENERIC_LINK_TEXT.match(link.text.strip()) and not find_links(link.text):
        site = link.text.strip()
    if not site:
        match = _CREDIT_SITE.search(unit.text)
        if match is not None and not _GENERIC_LINK_TEXT.match(match[1]):
            site = match[1].rstrip(".")
    if not site and url:
        host = urlsplit(url).hostname or ""
        site = host.removeprefix("www.")
    return Original(url=url, site=site, note=unit.text.strip())
