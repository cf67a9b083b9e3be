"""Smart quotes, dashes and ellipses, applied to rendered HTML in one pass.

Python-Markdown's `smarty` extension does the same job through inline patterns and costs
about half of a document's rendering time; this pass walks the finished HTML once, leaves
tags and code alone, and writes the typographic characters themselves.
"""

from __future__ import annotations

import re

_TOKENS = re.compile(r"(<!--.*?-->|<[^>]*>)", re.DOTALL)
_RAW_TAG = re.compile(r"<(/?)(code|pre|kbd|samp|script|style|textarea|math)\b", re.IGNORECASE)
_OPENS_AFTER = " \t\n([{\u2014\u2013-/"
_QUOTE = re.compile("['\"]")
# An apostrophe after a letter or digit (don't, the agent's) is always the closing one, whatever
# follows: these, most of the quotes in prose, are replaced in one pass before the others are
# read one by one (a quote after one of them reads it as the same closing quote either way).
_APOSTROPHE = re.compile(r"'(?<=[^\W_]')")  # the quote first: the engine skips to each one
_DASHES = (("---", "\u2014"), ("--", "\u2013"), ("...", "\u2026"), (". . .", "\u2026"))


def smarten(html: str) -> str:
    """Typographic punctuation in text; code, pre and attribute values stay as written."""
    if not any(ch in html for ch in "'\"-.") and "&quot;" not in html:
        return html
    parts = _TOKENS.split(html)  # text, tag, text, tag, ..., text
    raw = _RAW_TAG.search(html) is not None  # most bodies have no code: then no tag needs reading
    raw_depth = 0
    previous = " "
    for index in range(0, len(parts), 2):
        if raw and index:
            match = _RAW_TAG.match(parts[index - 1])
            if match:
                raw_depth = max(0, raw_depth + (-1 if match[1] else 1))
        part = parts[index]
        if not part:
            continue
        if not raw_depth and ("'" in part or '"' in part or "&" in part or "--" in part or "..." in part
                              or ". . ." in part):
            parts[index] = _smarten_text(part, previous)  # else it has nothing to change
        previous = part[-1]
    return "".join(parts)


def _smarten_text(text: str, before: str) -> str:
    text = text.replace("&quot;", '"').replace("&#39;", "'")
    for plain, fancy in _DASHES:
        if plain in text:
            text = text.replace(plain, fancy)
    if "'" in text:
        text = _APOSTROPHE.sub("\u2019", text)
    if "'" not in text and '"' not in text:
        return text
    out = []
    start = 0
    previous_quote = -2
    curly = ""
    for match in _QUOTE.finditer(text):
        position = match.start()
        last = curly if position == previous_quote + 1 else text[position - 1] if position else before
        if text[position] == '"':
            curly = "\u201c" if last in _OPENS_AFTER or last.isspace() else "\u201d"
        else:
            following = text[position + 1] if position + 1 < len(text) else " "
            if last.isalnum() or (last in ".,!?" and not following.isalnum()):
                curly = "\u2019"  # apostrophe or closing quote
            elif following.isdigit() and not last.isalnum():
                curly = "\u2019"  # elided year: '90s
            else:
                curly = "\u2018" if last in _OPENS_AFTER or last.isspace() else "\u2019"
        out.append(text[start:position])
        out.append(curly)
        start = position + 1
        previous_quote = position
    out.append(text[start:])
    return "".join(out)
