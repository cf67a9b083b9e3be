"""The Jinja environment: the site's templates/ over the built-in theme, file by file.

Autoescaping is on for everything but plain-text and Markdown templates, and undefined
names are errors, so a typo in a template fails the build naming the template and line
instead of printing an empty string.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from jinja2.exceptions import TemplateError, TemplateNotFound, TemplateSyntaxError, UndefinedError

from .cache import digest
from .errors import Problem, SiteError, display_path
from .model import Site

THEME_DIR = Path(__file__).parent / "theme"
PAGE_TEMPLATES = ("base.html", "index.html", "article.html", "page.html", "tag.html", "author.html", "archive.html", "404.html",
                  "tags.html", "authors.html", "search.html")


def _autoescape(name: str | None) -> bool:
    return not (name or "").endswith((".txt", ".md"))


class Theme:
    """Loads templates and knows which template files each one depends on."""

    def __init__(self, site: Site, memo: dict[str, Any] | None = None, previous: Theme | None = None) -> None:
        self.site = site
        # What earlier builds learned about these exact template texts (kept in the cache):
        # which templates each one references, and whether the whole set compiled.
        self.memo: dict[str, Any] = memo if isinstance(memo, dict) else {}
        self.memo.setdefault("refs", {})
        self.memo.setdefault("ok", "")
        self.folders = [p for p in (site.templates_dir, THEME_DIR) if p.is_dir()]
        self._shown: dict[str, str] = {}
        self.env: jinja2.Environment
        if previous is not None and previous.folders == self.folders and previous.sources == self.sources:
            self.env = previous.env  # the same template texts: keep them compiled (the preview server)
            return
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(p) for p in self.folders]),
            autoescape=_autoescape,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self.env.filters["date"] = functools.partial(format_date, long_format=site.date_format)
        self.env.filters["isodate"] = lambda d: d.isoformat()

    def locate(self, name: str) -> Path:
        for folder in self.folders:
            if (folder / name).is_file():
                return folder / name
        return THEME_DIR / name

    def shown(self, name: str) -> str:
        """The template's path as the user sees it; asked once per syndicated copy, so remembered."""
        if name not in self._shown:
            self._shown[name] = display_path(self.locate(name), self.site.root)
        return self._shown[name]

    @cached_property
    def sources(self) -> Mapping[str, str]:
        """Every template's text by name, the site's own winning over the theme's."""
        found: dict[str, str] = {}
        for folder in reversed(self.folders):
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    try:
                        found[path.relative_to(folder).as_posix()] = path.read_text("utf-8")
                    except (OSError, UnicodeDecodeError) as exc:
                        shown = display_path(path, self.site.root)
                        raise SiteError.one(shown, 1, f"cannot read template: {exc}") from None
        return found

    def fingerprint(self, name: str) -> str:
        """A hash of a template and everything it extends, includes or imports."""
        seen: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            if current in seen or current not in self.sources:
                continue
            seen.add(current)
            todo.extend(self._references(current))
        return digest(*(f"{n}\0{self.sources[n]}" for n in sorted(seen)))

    def _references(self, name: str) -> list[str]:
        key = digest(name, self.sources[name])
        if key not in self.memo["refs"]:
            try:
                tree = self.env.parse(self.sources[name])
            except TemplateSyntaxError:
                return []  # reported by check_templates
            self.memo["refs"][key] = [ref for ref in jinja2.meta.find_referenced_templates(tree) if ref]
        return list(self.memo["refs"][key])

    def check_templates(self) -> None:
        """Compile every template up front so all syntax errors are reported in one run."""
        everything = digest(*(f"{n}\0{t}" for n, t in sorted(self.sources.items())))
        if self.memo["ok"] == everything:
            return
        problems = []
        for name in self.sources:
            if not name.endswith((".html", ".xml", ".txt", ".md")):
                continue
            try:
                self.env.get_template(name)
            except TemplateSyntaxError as exc:
                problems.append(Problem(self.shown(name), exc.lineno or 1, f"template syntax error: {exc.message}"))
        if problems:
            raise SiteError(problems)
        self.memo["ok"] = everything

    def render(self, name: str, context: dict[str, Any]) -> str:
        """Render one template; a template mistake becomes a SiteError naming file and line."""
        try:
            return self.env.get_template(name).render(context)
        except TemplateNotFound as exc:
            raise SiteError.one(self.site.source, 1, f"template '{exc.name}' not found in templates/ or the theme") from None
        except TemplateSyntaxError as exc:
            path = display_path(Path(exc.filename), self.site.root) if exc.filename else self.shown(name)
            raise SiteError.one(path, exc.lineno or 1, f"template syntax error: {exc.message}") from None
        except UndefinedError as exc:
            path, line = _template_frame(exc, self, name)
            raise SiteError.one(path, line, f"template error: {exc.message}") from None
        except TemplateError as exc:
            path, line = _template_frame(exc, self, name)
            raise SiteError.one(path, line, f"template error: {exc.message or exc}") from None


def _template_frame(exc: BaseException, theme: Theme, name: str) -> tuple[str, int]:
    """The innermost template file and line in the traceback: where the user must look."""
    found = (theme.shown(name), 1)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".xml", ".txt", ".md")) and Path(filename).is_file():
            found = (display_path(Path(filename), theme.site.root), tb.tb_lineno)
        tb = tb.tb_next
    return found


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DIRECTIVE = re.compile(r"%(-?)(.)")
_FIELDS: dict[str, Callable[[datetime], tuple[int, str]]] = {
    # directive -> (number for zero-padding or -1, text)
    "d": lambda d: (d.day, ""), "m": lambda d: (d.month, ""), "H": lambda d: (d.hour, ""), "M": lambda d: (d.minute, ""),
    "Y": lambda d: (-1, str(d.year)), "y": lambda d: (d.year % 100, ""),
    "B": lambda d: (-1, _MONTHS[d.month - 1]), "b": lambda d: (-1, _MONTHS[d.month - 1][:3]),
    "A": lambda d: (-1, _DAYS[d.weekday()]), "a": lambda d: (-1, _DAYS[d.weekday()][:3]), "%": lambda d: (-1, "%"),
}
DATE_DIRECTIVES = "%d %-d %m %-m %y %Y %B %b %A %a %H %M %%"


def date_format_problem(fmt: str) -> str | None:
    """What is wrong with a `date_format`, or None: it must use known directives and show the day."""
    for match in _DIRECTIVE.finditer(fmt):
        if match[2] not in _FIELDS:
            return f"'date_format' has an unknown directive '{match[0]}' (known: {DATE_DIRECTIVES})"
    if fmt.count("%") % 2 and fmt.endswith("%"):
        return "'date_format' ends with a lone '%' (write %% for a percent sign)"
    if not any(m[2] in "dYy" for m in _DIRECTIVE.finditer(fmt)):
        return f"'date_format' '{fmt}' shows neither the day nor the year (like %-d %B %Y or %Y-%m-%d)"
    return None


def strftime(value: datetime, fmt: str) -> str:
    """strftime with English names whatever the machine's locale; `%-d` drops the zero."""

    def one(match: re.Match[str]) -> str:
        if match[2] not in _FIELDS:  # only a template's own format can have one: shown as written
            return match[0]
        number, text = _FIELDS[match[2]](value)
        if number < 0:
            return text
        return str(number) if match[1] else f"{number:02d}"

    return _DIRECTIVE.sub(one, fmt)


def format_date(value: datetime, style: str = "long", long_format: str = "%-d %B %Y") -> str:
    """Dates in words ("4 March 2019"), independent of the machine's locale: "long" is the
    site's `date_format`, "short" the archive's compact form; any other style is a format."""
    if style == "short":
        return f"{value.day} {_MONTHS[value.month - 1][:3]} {value.year}"
    return strftime(value, long_format if style == "long" else style)
