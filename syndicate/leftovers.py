"""Template code another generator left in a Markdown source: `{% … %}`, `{{ … }}`, `{{< … >}}`, `{{% … %}}`.

Syndicate runs no template language over content, so a Liquid tag or a Hugo shortcode
would reach readers as literal text. `find_template_syntax` finds each line that still
holds one, outside code (fenced and indented blocks, code spans, <pre> and <code>), where
showing template code is the point.
"""

from __future__ import annotations

import re

# Closed on one line: {% tag %}, {{ variable }}, {{< shortcode >}}, {{% shortcode %}}.
_CLOSED = re.compile(r"\{%.*?%\}|\{\{.*?\}\}")
# Opened here and closed on a later line: a tag, variable or shortcode written over several lines.
_OPENED = re.compile(r"\{\{[<%].*|\{%.*|\{\{\s*[\w.]+\s*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)")
_INLINE_CODE = re.compile(r"<(code|pre)\b.*?</\1>", re.IGNORECASE)
_PRE_OPEN = re.compile(r"<pre\b", re.IGNORECASE)
_PRE_CLOSE = re.compile(r"</pre>", re.IGNORECASE)
SHOWN = 60  # characters of the template code a message quotes


def find_template_syntax(body: str, first_line: int) -> list[tuple[int, str]]:
    """(line number, the first template code on it) for every line of `body` outside code."""
    if "{%" not in body and "{{" not in body:
        return []  # nearly every file: one scan, no line loop
    found: list[tuple[int, str]] = []
    fence = ""
    in_pre = False
    code_ok = True  # an indented line here starts a code block (after a blank line or more code)
    for number, line in enumerate(body.split("\n"), start=first_line):
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fence = ""
            continue
        opened = _FENCE.match(line)
        if opened:
            fence = opened[1]
            continue
        if in_pre:
            in_pre = not _PRE_CLOSE.search(line)
            continue
        if line.startswith(("    ", "\t")) and code_ok and stripped:
            continue
        code_ok = not stripped
        text = _INLINE_CODE.sub("", _CODE_SPAN.sub("", line))
        if _PRE_OPEN.search(text):
            in_pre = not _PRE_CLOSE.search(line)
            text = _PRE_OPEN.split(text, 1)[0]  # what comes before the <pre> is prose
        match = _CLOSED.search(text) or _OPENED.search(text)
        if match:
            shown = match[0] if len(match[0]) <= SHOWN else match[0][: SHOWN - 1] + "…"
            found.append((number, shown))
    return found
