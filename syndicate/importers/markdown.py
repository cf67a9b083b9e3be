"""trafilatura's XML -> Markdown blocks, in the dialect our renderer reads.

Written by hand rather than with trafilatura's own Markdown output so that each block
keeps its plain words beside its Markdown (lifted terms are removed block by block),
headings are renumbered to start at `##` under the article's title, the title itself is not
repeated as the first heading, and text that only looks like Markdown (a `*` in a sentence,
a line starting `1.` or `#`) is escaped instead of turning into markup nobody wrote.
"""

from __future__ import annotations

import re

import lxml.etree

from .extract import Block

_ESCAPE = re.compile(r"([\\`*\[\]])")
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")  # not inside a word: snake_case stays, __init__ is escaped whole
_MARKUP_START = re.compile(r"^(#|[>+-](?=\s|$))")  # Python-Markdown reads "#word" as a heading too
_NUMBER_START = re.compile(r"^(\d+)([.)])(?=\s|$)")
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_EMPHASIS = {"#b": "**", "#strong": "**", "#i": "*", "#em": "*", "#t": "`", "#code": "`"}


def blocks_from_xml(xml: str, title: str = "") -> tuple[list[Block], int]:
    """The body's blocks, and how many images were left out."""
    if not xml.strip():
        return [], 0
    root = lxml.etree.fromstring(xml.encode("utf-8"), lxml.etree.XMLParser(resolve_entities=False, no_network=True))
    main = root.find("main")
    if main is None:
        return [], 0
    images = sum(1 for _ in main.iter("graphic"))
    elements = [e for e in main if isinstance(e.tag, str)]
    first = next((e for e in elements if _plain(e)), None)
    if first is not None and first.tag == "head" and _words(_plain(first)) == _words(title):
        elements.remove(first)  # the title again, as the page's <h1>
    levels = sorted({_level(h) for e in elements for h in e.iter("head")})
    shift = {level: min(6, 2 + index) for index, level in enumerate(levels)}
    blocks = [block for element in elements if (block := _block(element, shift)) is not None]
    return blocks, images


def _block(element: lxml.etree._Element, shift: dict[int, int]) -> Block | None:
    tag = element.tag
    if tag == "head":
        text = _inline(element)
        return Block("#" * shift.get(_level(element), 2) + " " + text, _plain(element), 0, "h") if text else None
    if tag == "list":
        lines = _list(element, 0)
        return Block("\n".join(lines), _plain(element), 0, "list") if lines else None
    if tag == "quote":
        inner = [_block(child, shift) for child in element] if len(element) and element[0].tag in ("p", "list", "head") else []
        body = "\n\n".join(b.markdown for b in inner if b) if inner else _inline(element)
        quoted = "\n".join(f"> {line}" if line else ">" for line in body.splitlines())
        return Block(quoted, _plain(element), 0, "quote") if body.strip() else None
    if tag == "code":
        code = "".join(element.itertext()).strip("\n")
        fence = "~~~" if "```" in code else "```"
        return Block(f"{fence}\n{code}\n{fence}", code, 0, "pre") if code.strip() else None
    if tag == "table":
        return _table(element)
    if tag == "graphic":
        return None
    text = _inline(element)
    return Block(escape_line_start(text), _plain(element), 0, "p") if text else None


def _level(element: lxml.etree._Element) -> int:
    match = re.fullmatch(r"h([1-6])", element.get("rend") or "")
    return int(match[1]) if match else 2


def _list(element: lxml.etree._Element, depth: int) -> list[str]:
    ordered = element.get("rend") == "ol"
    lines: list[str] = []
    number = 0
    for item in element:
        if item.tag != "item":
            continue
        number += 1
        marker = f"{number}. " if ordered else "- "
        nested = [child for child in item if child.tag == "list"]
        for child in nested:
            item.remove(child)  # rendered below, indented, after the item's own words
        text = _inline(item)
        lines.append("    " * depth + marker + escape_line_start(text))
        for child in nested:
            lines.extend(_list(child, depth + 1))
    return lines


def _table(element: lxml.etree._Element) -> Block | None:
    rows = [[_inline(cell).replace("|", "\\|") for cell in row if cell.tag == "cell"] for row in element.iter("row")]
    rows = [row for row in rows if any(row)]
    if not rows:
        return None
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
    lines.extend("| " + " | ".join(row) + " |" for row in rows[1:])
    return Block("\n".join(lines), _plain(element), 0, "table")


def _inline(element: lxml.etree._Element) -> str:
    """The element's words as one line of Markdown: emphasis, links and line breaks kept."""
    parts = [_escape(element.text or "")]
    for child in element:
        tag = child.tag
        if tag == "hi":
            marker = _EMPHASIS.get(child.get("rend") or "", "")
            parts.append(_wrap(_inline(child), marker, "".join(child.itertext())))
        elif tag == "ref":
            target = (child.get("target") or "").strip()
            words = _inline(child)
            if target.startswith(_LINK_SCHEMES) and words.strip():
                target = re.sub(r"[()\s<>]", lambda m: f"%{ord(m[0]):02X}", target)
                parts.append(f"[{words.strip()}]({target})")
            else:
                parts.append(words)
        elif tag == "lb":
            parts.append("  \n")
        elif tag in ("graphic", "list"):
            pass
        else:
            parts.append(_inline(child))
        parts.append(_escape(child.tail or ""))
    lines = "".join(parts).split("  \n")
    return "  \n".join(" ".join(line.split()) for line in lines if line.strip()).strip()


def _wrap(text: str, marker: str, raw: str) -> str:
    """Emphasis around the words only (`** bold **` would not render as bold), spaces outside."""
    lead = " " if raw[:1].isspace() else ""
    trail = " " if raw[-1:].isspace() else ""
    if not marker or not text.strip():
        return lead + text + trail
    return f"{lead}{marker}{text.strip()}{marker}{trail}"


def escape_line_start(text: str) -> str:
    """`1. ` or `# ` at the start of a paragraph is text here, not a list or a heading."""
    return _NUMBER_START.sub(r"\1\\\2", _MARKUP_START.sub(r"\\\1", text))


def escape_text(text: str) -> str:
    """Plain text that Markdown shows as written: no emphasis, links or HTML of its own."""
    return _escape(text)


def _escape(text: str) -> str:
    text = _ESCAPE.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    return text.replace("<", "&lt;")


def _plain(element: lxml.etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _words(text: str) -> str:
    return " ".join(text.split()).casefold()
