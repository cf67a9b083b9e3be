"""HTML bodies (WordPress posts, `.html` pages, reStructuredText run through docutils) -> Markdown.

Imported articles are edited by hand afterwards, so they should read as Markdown, not as
a wall of tags. Paragraphs, headings, emphasis, links, images, lists, quotes, code and
simple tables become Markdown; a figure becomes its image with the caption below it;
an embedded video becomes a link to it (never an iframe); scripts, styles and forms go.
What was dropped or changed is noted with its line, for the report.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import lxml.etree
import lxml.html

from .dialect import Notes
from .markdown import escape_line_start, escape_text

Rewrite = Callable[[str], str]
_BLOCKS = frozenset("p div section article header footer main aside nav h1 h2 h3 h4 h5 h6 ul ol li blockquote pre "
                    "table figure hr dl dt dd iframe script style form video audio center address details summary".split())
_DROPPED = frozenset("script style form input button select textarea noscript object embed svg canvas".split())
_EMPHASIS = {"em": "*", "i": "*", "strong": "**", "b": "**", "code": "`", "tt": "`", "kbd": "`"}
_KEPT_INLINE = frozenset("sup sub del s ins u mark abbr small".split())
_YOUTUBE = re.compile(r"(?:youtube(?:-nocookie)?\.com/(?:embed/|watch\?v=|v/)|youtu\.be/)([\w-]{6,})")
_VIMEO = re.compile(r"vimeo\.com/(?:video/)?(\d+)")


def html_to_markdown(html: str, notes: Notes, first_line: int = 1, rewrite: Rewrite | None = None) -> str:
    """The Markdown for an HTML fragment; `rewrite` maps each href and src (old site -> new)."""
    if not html.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        notes.add(first_line, "the HTML could not be read; kept as written")
        return html
    levels = sorted({int(e.tag[1]) for e in root.iter() if isinstance(e.tag, str) and re.fullmatch(r"h[1-6]", e.tag)})
    converter = _Converter(notes, first_line, rewrite or (lambda url: url), {n: min(6, 2 + i) for i, n in enumerate(levels)})
    blocks = converter.blocks(root)
    return "\n\n".join(b for b in blocks if b.strip()) + "\n"


def video_page(url: str) -> str | None:
    """The page of a YouTube or Vimeo video from any of its addresses (embed, short, watch)."""
    youtube = _YOUTUBE.search(url)
    if youtube:
        return f"https://www.youtube.com/watch?v={youtube[1]}"
    vimeo = _VIMEO.search(url)
    return f"https://vimeo.com/{vimeo[1]}" if vimeo else None


def video_link(url: str, title: str = "") -> str | None:
    """A YouTube or Vimeo address as a Markdown link to the video's page (never a player), or None."""
    page = video_page(url)
    if page is None:
        return None
    return f"[{escape_text(title)}]({page})" if title.strip() else f"<{page}>"


class _Converter:
    def __init__(self, notes: Notes, first_line: int, rewrite: Rewrite, levels: dict[int, int]) -> None:
        self.levels = levels  # headings renumbered from ##, none skipped: the page's title is the <h1>
        self.notes = notes
        self.first_line = first_line
        self.rewrite = rewrite

    def line(self, element: lxml.html.HtmlElement) -> int:
        return self.first_line + (element.sourceline or 1) - 1

    def blocks(self, element: lxml.html.HtmlElement) -> list[str]:
        """The block-level Markdown of an element's children, inline runs made paragraphs."""
        blocks: list[str] = []
        run: list[str] = [self.text(element.text)]
        for child in element:
            if not isinstance(child.tag, str):  # comments, processing instructions
                run.append(self.text(child.tail))
                continue
            if child.tag in _BLOCKS:
                self._flush(run, blocks)
                blocks.extend(self.block(child))
                run = [self.text(child.tail)]
            else:
                run.append(self.inline(child))
                run.append(self.text(child.tail))
        self._flush(run, blocks)
        return blocks

    def _flush(self, run: list[str], blocks: list[str]) -> None:
        text = _tidy("".join(run))
        if text:
            blocks.append(escape_line_start(text))
        run.clear()

    def block(self, element: lxml.html.HtmlElement) -> list[str]:
        tag = element.tag
        if tag in _DROPPED:
            self.notes.add(self.line(element), f"a <{tag}> was left out (syndicate pages carry no scripts, styles or forms)")
            return []
        if tag == "p" or tag in ("dt", "dd", "summary", "address"):
            text = _tidy(self.inlines(element))
            return [escape_line_start(text)] if text else []
        if re.fullmatch(r"h[1-6]", tag):
            text = _tidy(self.inlines(element)).replace("\n", " ")
            return ["#" * self.levels.get(int(tag[1]), 2) + " " + text] if text else []
        if tag == "hr":
            return ["---"]
        if tag in ("ul", "ol"):
            lines = self.list_lines(element, 0)
            return ["\n".join(lines)] if lines else []
        if tag == "blockquote":
            inner = "\n\n".join(self.blocks(element))
            return ["\n".join(f"> {row}" if row else ">" for row in inner.split("\n"))] if inner.strip() else []
        if tag == "pre":
            return [self.code(element)]
        if tag == "figure":
            return self.figure(element)
        if tag == "table":
            return [self.table(element)]
        if tag in ("iframe", "video", "audio"):
            return self.embed(element)
        note = _footnote_name(element.get("id") or "")
        if tag == "aside" and note and (element.get("role") == "doc-footnote" or "footnote" in (element.get("class") or "")):
            for label in element.find_class("label"):
                label.drop_tree()
            text = "\n\n".join(self.blocks(element)).replace("\n", "\n    ")
            return [f"[^{note}]: {text}"]
        return self.blocks(element)

    def inlines(self, element: lxml.html.HtmlElement) -> str:
        parts = [self.text(element.text)]
        for child in element:
            if isinstance(child.tag, str):
                parts.append(self.inline(child) if child.tag not in _BLOCKS else " " + " ".join(self.block(child)) + " ")
            parts.append(self.text(child.tail))
        return "".join(parts)

    def inline(self, element: lxml.html.HtmlElement) -> str:
        tag = element.tag
        if tag == "br":
            return "  \n"
        if tag == "img":
            return self.image(element)
        if tag == "a":
            href = (element.get("href") or "").strip()
            is_note = element.get("role") == "doc-noteref" or "footnote-ref" in (element.get("class") or "")
            note = _footnote_name(href.removeprefix("#")) if is_note else ""
            if note:
                return f"[^{note}]"  # a footnote, as Markdown writes one
            words = _tidy(self.inlines(element))
            if not href or href.startswith("javascript:"):
                return words
            if not words:
                return ""
            return f"[{words}]({_link_target(self.rewrite(href))})"
        if tag in _EMPHASIS:
            marker = _EMPHASIS[tag]
            if marker == "`":
                code = element.text_content()
                ticks = "``" if "`" in code else "`"
                return f"{ticks}{code}{ticks}" if code.strip() else code
            words = self.inlines(element)
            stripped = words.strip()
            if not stripped:
                return words
            lead = " " if words[:1].isspace() else ""
            trail = " " if words[-1:].isspace() else ""
            return f"{lead}{marker}{stripped}{marker}{trail}"
        if tag in _KEPT_INLINE:
            return f"<{tag}>{self.inlines(element)}</{tag}>"
        if tag in _DROPPED:
            self.notes.add(self.line(element), f"a <{tag}> was left out (syndicate pages carry no scripts, styles or forms)")
            return ""
        return self.inlines(element)

    def image(self, element: lxml.html.HtmlElement) -> str:
        src = (element.get("src") or "").strip()
        if not src:
            return ""
        alt = " ".join((element.get("alt") or "").split())
        title = " ".join((element.get("title") or "").split())
        suffix = f' "{title}"' if title and '"' not in title else ""
        return f"![{escape_text(alt)}]({_link_target(self.rewrite(src))}{suffix})"

    def text(self, value: str | None) -> str:
        return escape_text(re.sub(r"\s+", " ", value)) if value else ""

    def list_lines(self, element: lxml.html.HtmlElement, depth: int) -> list[str]:
        lines: list[str] = []
        number = 0
        for item in element:
            if not isinstance(item.tag, str) or item.tag != "li":
                continue
            number += 1
            marker = f"{number}. " if element.tag == "ol" else "- "
            nested = [child for child in item if isinstance(child.tag, str) and child.tag in ("ul", "ol")]
            for child in nested:
                tail = child.tail
                child.tail = None
                item.remove(child)
                if tail:
                    item.tail = (item.tail or "") + tail
            parts = self.blocks(item)
            first, rest = (parts[0] if parts else ""), parts[1:]
            lines.append("    " * depth + marker + first.replace("\n", "\n" + "    " * (depth + 1)))
            for block in rest:
                lines.append("")
                lines.extend("    " * (depth + 1) + row for row in block.split("\n"))
            for child in nested:
                lines.extend(self.list_lines(child, depth + 1))
        return lines

    def code(self, element: lxml.html.HtmlElement) -> str:
        code_element = element.find("code")
        classes = " ".join(x for x in (element.get("class"), code_element.get("class") if code_element is not None else None) if x)
        language = re.search(r"(?:language|lang|brush)[-:]\s*([\w+#-]+)", classes) or re.fullmatch(
            r"code ([\w+#-]+) literal-block", classes)  # docutils: <pre class="code python literal-block">
        text = element.text_content().strip("\n")
        fence = "~~~" if "```" in text else "```"
        return f"{fence}{language[1] if language else ''}\n{text}\n{fence}"

    def figure(self, element: lxml.html.HtmlElement) -> list[str]:
        caption_element = element.find(".//figcaption")
        caption = ""
        if caption_element is not None:
            caption = _tidy(self.inlines(caption_element))
            caption_element.drop_tree()
        images = element.findall(".//img")
        if len(images) == 1 and not element.text_content().strip():
            image = images[0]
            if not (image.get("alt") or "").strip() and caption:
                image.set("alt", re.sub(r"[*`\[\]()\\]", "", caption))
            link = image.getparent()
            shown = self.image(image)
            if link is not None and link.tag == "a" and link.get("href") and link.get("href") != image.get("src"):
                shown = f"[{shown}]({_link_target(self.rewrite(link.get('href', '')))})"
            return [shown] + ([f"*{caption}*"] if caption else [])
        return self.blocks(element) + ([f"*{caption}*"] if caption else [])

    def table(self, element: lxml.html.HtmlElement) -> str:
        rows = []
        for row in element.iter("tr"):
            cells = [_tidy(self.inlines(cell)).replace("|", "\\|").replace("\n", " ") for cell in row if cell.tag in ("td", "th")]
            if cells:
                rows.append(cells)
        if not rows:
            return ""
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
        lines.extend("| " + " | ".join(r) + " |" for r in rows[1:])
        return "\n".join(lines)

    def embed(self, element: lxml.html.HtmlElement) -> list[str]:
        src = element.get("src") or ""
        if not src:
            source = element.find(".//source")
            src = source.get("src", "") if source is not None else ""
        title = element.get("title") or ""
        link = video_link(src, title)
        if link is not None:
            return [link]
        if src.startswith(("http://", "https://", "/")):
            self.notes.add(self.line(element), f"an embedded <{element.tag}> became a link to {src}")
            return [f"[{escape_text(title or src)}]({_link_target(self.rewrite(src))})"]
        self.notes.add(self.line(element), f"an embedded <{element.tag}> without an address was left out")
        return []


def _footnote_name(identifier: str) -> str:
    """`footnote-1` (docutils) or `fn1` -> "1": the name of a footnote in Markdown."""
    match = re.fullmatch(r"(?:footnote-|fn-?|note-)([\w-]+)", identifier)
    return match[1] if match else ""


def _tidy(text: str) -> str:
    lines = [" ".join(part.split()) for part in text.split("  \n")]
    return "  \n".join(line for line in lines if line).strip()


def _link_target(url: str) -> str:
    url = url.strip()
    if re.search(r"[\s()<>]", url):
        return "<" + url.replace(">", "%3E").replace("<", "%3C") + ">" if " " in url else re.sub(
            r"[()<>]", lambda m: f"%{ord(m[0]):02X}", url)
    return url

