"""Code highlighting with Pygments: token classes in rendered bodies, and their colours.

Markdown renders a fenced block as `<pre><code class="language-x">`. When Pygments knows
`x`, the block's text is split into `<span class="k">`-style tokens; a block with no
language or one Pygments does not know is left exactly as Markdown wrote it, and prose is
never touched. The site links a light and a dark stylesheet made from two Pygments styles;
syndicated copies get the light colours inlined (e-mail keeps no stylesheet).

Both styles were chosen because every token colour in them reaches a contrast of 4.5:1 on
the style's own background (WCAG AA), which the accessibility tests check.
"""

from __future__ import annotations

import re
from functools import cache
from html import unescape
from typing import TYPE_CHECKING

import pygments  # the package alone, for its version (part of every key); the rest loads when a block is highlighted

from .urls import CODE_STYLESHEETS

if TYPE_CHECKING:
    from pygments.formatters import HtmlFormatter
    from pygments.lexer import Lexer

PYGMENTS_VERSION = pygments.__version__
LIGHT_STYLE = "xcode"
DARK_STYLE = "lightbulb"
CODE_CLASS = "highlight"  # on the <pre> of every highlighted block: the stylesheets' scope
STYLESHEETS = CODE_STYLESHEETS  # where the light and dark stylesheets are written (urls.py)
_BLOCK = re.compile(r'<pre><code class="language-([^"\s]+)([^"]*)"([^>]*)>(.*?)</code></pre>', re.DOTALL)


@cache
def _lexer(language: str) -> Lexer | None:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@cache
def _formatter() -> HtmlFormatter:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True)


def highlight_code(html: str) -> str:
    """Token spans in every fenced block whose language Pygments knows; all else unchanged."""
    if "<pre><code class=\"language-" not in html:
        return html
    return _BLOCK.sub(_highlight_block, html)


def _highlight_block(match: re.Match[str]) -> str:
    language, more_classes, attributes, code = match.groups()
    lexer = _lexer(language.lower())
    if lexer is None:
        return match[0]
    from pygments import highlight

    spans = highlight(unescape(code), lexer, _formatter())
    if code.endswith("\n") and not spans.endswith("\n"):
        spans += "\n"
    elif not code.endswith("\n"):
        spans = spans.removesuffix("\n")
    return f'<pre class="{CODE_CLASS}"><code class="language-{language}{more_classes}"{attributes}>{spans}</code></pre>'


@cache
def style_css(style: str, scope: str = f"pre.{CODE_CLASS}") -> str:
    """The rules of one Pygments style, every selector under `scope`, background included."""
    import pygments.token
    from pygments.formatters import HtmlFormatter

    formatter = HtmlFormatter(style=style)
    rules = formatter.get_style_defs(scope)
    # Pygments adds rules for line numbers and a bare `pre`; only token colours are wanted.
    kept = [line for line in rules.splitlines()
            if line.startswith(f"{scope} .") and "linenos" not in line and not line.startswith(f"{scope} .hll")]
    background = formatter.style.background_color
    colour = formatter.style.style_for_token(pygments.token.Text)["color"] or "000000"
    kept.insert(0, f"{scope} {{ background: {background}; color: #{colour.lstrip('#')}; }}")
    return "\n".join(kept) + "\n"


def site_stylesheets() -> dict[str, bytes]:
    """The two stylesheets the site links: site path -> bytes."""
    header = "/* Code highlighting ({}): generated from the Pygments style '{}'. */\n"
    return {
        STYLESHEETS["light"]: (header.format("light", LIGHT_STYLE) + style_css(LIGHT_STYLE)).encode(),
        STYLESHEETS["dark"]: (header.format("dark", DARK_STYLE) + style_css(DARK_STYLE)).encode(),
    }


def email_css() -> str:
    """The light colours, for inlining into syndicated copies: `pre.highlight .k { ... }`."""
    return style_css(LIGHT_STYLE)
