"""A statement found sentence by sentence in a page's normalised text (see pagetext.py).

Each sentence must be there word for word (after normalising), as a whole-word run of text;
each claims its own place, longest first, so a sentence that happens to end another one
cannot stand in for it. A sentence not found is reported with the page's closest passage
and its similarity (rapidfuzz): the closest whole sentence of the page (an edited one), or
the closest stretch of text (a sentence run into its neighbours), whichever is closer.
Every input of the fuzzy matcher is capped, so no page can make it hang.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .pagetext import PageText, normalize

SENTENCE_CAP = 200  # characters of a sentence given to the fuzzy matcher
MAX_PAGE_SENTENCES = 50_000
_SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff0e\uff01\uff1f][\"'\u201d\u2019)\]]*(?=\s)|\n\s*\n")


@dataclass(frozen=True, slots=True)
class Missing:
    index: int  # 0-based, in the order given
    sentence: str  # as the statement writes it
    similarity: float  # 0-100, of the closest passage
    closest: str  # that passage, normalised


def split_sentences(text: str) -> list[str]:
    """Sentences as written: cut after . ! ? (and closing quotes) before a space, and at blank lines."""
    found, start = [], 0
    for end in [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]:
        sentence = text[start:end].strip()
        if normalize(sentence).strip():
            found.append(sentence)
        start = end
    return found


def find_sentences(page: PageText, sentences: list[str]) -> tuple[tuple[int, int] | None, list[Missing]]:
    """The span of page text the found sentences cover (None if none is found), and the
    sentences not found, in order."""
    wanted = [normalize(s).strip() for s in sentences]
    claimed: list[tuple[int, int]] = []
    spans: dict[int, tuple[int, int]] = {}
    for i in sorted(range(len(wanted)), key=lambda i: -len(wanted[i])):
        span = _find_free(page.text, wanted[i], claimed)
        if span is not None:
            claimed.append(span)
            spans[i] = span
    region = (min(s[0] for s in spans.values()), max(s[1] for s in spans.values())) if spans else None
    if len(spans) == len(wanted):
        return region, []
    page_sentences = _page_sentences(page)
    missing = []
    for i, sentence in enumerate(sentences):
        if i not in spans:
            similarity, closest = _closest(page.text, wanted[i], page_sentences)
            missing.append(Missing(i, sentence, similarity, closest))
    return region, missing


def _find_free(text: str, sentence: str, claimed: Iterable[tuple[int, int]]) -> tuple[int, int] | None:
    """The first whole-word occurrence of `sentence` in `text` that overlaps no claimed span."""
    if not sentence:
        return None
    start = text.find(sentence)
    while start >= 0:
        end = start + len(sentence)
        bounded = not (sentence[0].isalnum() and start > 0 and text[start - 1].isalnum()) and \
            not (sentence[-1].isalnum() and end < len(text) and text[end].isalnum())
        if bounded and all(end <= a or start >= b for a, b in claimed):
            return start, end
        start = text.find(sentence, start + 1)
    return None


def _closest(text: str, sentence: str, page_sentences: list[str]) -> tuple[float, str]:
    needle = sentence[:SENTENCE_CAP]
    if not text or not needle:
        return 0.0, ""
    best = process.extractOne(needle, page_sentences, scorer=fuzz.ratio)
    score, quote = (best[1], best[0]) if best else (0.0, "")
    found = fuzz.partial_ratio_alignment(needle, text, score_cutoff=score + 0.01)
    if found is not None and found.score > score:
        start, end = found.dest_start, found.dest_end
        if start > 0 and text[start - 1] != " ":  # widen to whole words
            space = text.rfind(" ", max(0, start - 30), start)
            start = space + 1 if space >= 0 else start
        if end < len(text) and text[end] != " ":
            space = text.find(" ", end, end + 30)
            end = space if space >= 0 else end
        score, quote = found.score, text[start:end].strip()
    return score, quote


def _page_sentences(page: PageText) -> list[str]:
    """The page's text cut into sentences and at block boundaries, each capped."""
    text = page.text
    cuts = sorted({0, len(text), *page.breaks, *(m.end() for m in _SENTENCE_END.finditer(text))})
    sentences = [text[a:b].strip()[: 2 * SENTENCE_CAP] for a, b in zip(cuts, cuts[1:], strict=False)]
    return [s for s in sentences if s][:MAX_PAGE_SENTENCES]
