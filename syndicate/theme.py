"""The Jinja environment: the site's templates/ over the built-in theme, file by file.

Autoescaping is on for HTML and XML templates; Markdown templates escape every value for
Markdown instead (`md_url` writes a link target; values that are Markdown already pass as
they are), and plain-text templates print values as they are. Undefined names are errors,
so a typo in a template fails the build naming the template and line instead of printing
an empty string.

Templates are read once, here, and Jinja loads them from what was read: a template that is
a symlink must stay inside templates/ (like a file in content/), so a link to, say,
/proc/self/environ is an error, never a page of the site.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.meta
from jinja2.exceptions import TemplateError, TemplateNotFound, TemplateSyntaxError, UndefinedError

from .cache import digest
from .errors import Problem, SiteError, display_path
from .model import Site
from .plaintext import MarkdownText, escape_markdown, markdown_destination

if TYPE_CHECKING:
    from .cache import Cache

THEME_DIR = Path(__file__).parent / "theme"


def _autoescape(name: str | None) -> bool:
    return not (name or "").endswith((".txt", ".md"))


def _markdown_value(value: Any) -> Any:
    """How a Markdown template prints `{{ value }}`: escaped on one line, unless already Markdown."""
    if isinstance(value, MarkdownText):
        return value
    return escape_markdown(re.sub(r"\s*\n\s*", " ", str(value)))


class Theme:
    """Loads templates and knows which template files each one depends on."""

    def __init__(self, site: Site, memo: dict[str, Any] | None = None, previous: Theme | None = None,
                 cache: Cache | None = None) -> None:
        self.site = site
        self.compiled = CompiledTemplates(cache)
        # What earlier builds learned about these exact template texts (kept in the cache):
        # which templates each one references, and whether the whole set compiled.
        self.memo: dict[str, Any] = memo if isinstance(memo, dict) else {}
        self.memo.setdefault("refs", {})
        self.memo.setdefault("ok", "")
        self.folders = [p for p in (site.templates_dir, THEME_DIR) if p.is_dir()]
        self._shown: dict[str, str] = {}
        self.env: jinja2.Environment
        self.markdown_env: jinja2.Environment
        if previous is not None and previous.folders == self.folders and previous.sources == self.sources:
            # The same template texts: keep them compiled (the preview server).
            self.env, self.markdown_env, self.compiled = previous.env, previous.markdown_env, previous.compiled
            self.env.filters["date"] = functools.partial(format_date, long_format=site.date_format)  # site.yaml may differ
            return
        self.env = jinja2.Environment(
            loader=jinja2.FunctionLoader(self._load),
            autoescape=_autoescape,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
            bytecode_cache=self.compiled,
        )
        self.env.filters["date"] = functools.partial(format_date, long_format=site.date_format)
        self.env.filters["isodate"] = lambda d: d.isoformat()
        self.markdown_env = self.env.overlay(finalize=_markdown_value)
        self.markdown_env.filters["md_url"] = lambda url: MarkdownText(markdown_destination(str(url)))

    def locate(self, name: str) -> Path:
        self.sources  # noqa: B018 - reads every template, and so knows where each came from
        return self._paths.get(name, THEME_DIR / name)

    def _load(self, name: str) -> tuple[str, str, Callable[[], bool]] | None:
        """Jinja's loader: only the texts read (and checked) by `sources`."""
        if name not in self.sources:
            return None
        return self.sources[name], str(self._paths[name]), lambda: True

    def shown(self, name: str) -> str:
        """The template's path as the user sees it; asked once per syndicated copy, so remembered."""
        if name not in self._shown:
            self._shown[name] = display_path(self.locate(name), self.site.root)
        return self._shown[name]

    @cached_property
    def sources(self) -> Mapping[str, str]:
        """Every template's text by name, the site's own winning over the theme's."""
        found: dict[str, str] = {}
        self._paths: dict[str, Path] = {}
        problems: list[Problem] = []
        for folder in reversed(self.folders):
            for path in _template_files(folder, self.site.root, problems):
                try:
                    text = path.read_text("utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    problems.append(Problem(display_path(path, self.site.root), 1, f"cannot read template: {exc}"))
                    continue
                name = path.relative_to(folder).as_posix()
                found[name] = text
                self._paths[name] = path
        if problems:
            raise SiteError(problems)
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
                (self.markdown_env if name.endswith(".md") else self.env).get_template(name)
            except TemplateSyntaxError as exc:
                problems.append(Problem(self.shown(name), exc.lineno or 1, f"template syntax error: {exc.message}"))
        if problems:
            raise SiteError(problems)
        self.memo["ok"] = everything

    def render(self, name: str, context: dict[str, Any]) -> str:
        """Render one template; a template mistake becomes a SiteError naming file and line."""
        env = self.markdown_env if name.endswith(".md") else self.env
        try:
            return env.get_template(name).render(context)
        except TemplateNotFound as exc:
            found = _template_frame(exc, self)
            message = f"template '{exc.name}' not found in templates/ or the theme"
            raise (SiteError.one(found[0], found[1], message) if found else SiteError.about(str(exc.name), message)) from None
        except TemplateSyntaxError as exc:
            path = display_path(Path(exc.filename), self.site.root) if exc.filename else self.shown(name)
            raise SiteError.one(path, exc.lineno or 1, f"template syntax error: {exc.message}") from None
        except UndefinedError as exc:
            path, line = _template_frame(exc, self) or (self.shown(name), 1)
            raise SiteError.one(path, line, f"template error: {_undefined_message(exc)}") from None
        except TemplateError as exc:
            path, line = _template_frame(exc, self) or (self.shown(name), 1)
            raise SiteError.one(path, line, f"template error: {exc.message or exc}") from None
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
            # An expression of the template that fails as it runs (`{{ 1/0 }}`, `{{ year + "x" }}`):
            # the user's to fix, at its line. Raised outside any template, it is our bug, and keeps its traceback.
            found = _template_frame(exc, self, innermost=True)
            if found is None:
                raise
            raise SiteError.one(found[0], found[1], f"template error: {exc}") from None


class CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled by earlier builds, so that a fresh process (a one-article edit) does
    not compile again the few it renders. Jinja keys each template by its name and file and
    checks the source's checksum on the way in, so an edited template is compiled again and
    replaces its entry. The code runs when a template renders, so it is kept signed
    (cache.py), all templates in one value."""

    KEY = "compiled-templates"

    def __init__(self, cache: Cache | None) -> None:
        self._cache = cache
        self._known: dict[str, bytes] | None = None  # read on the first template asked for
        self._compiled: dict[str, bytes] = {}  # what this process compiled

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if self._known is None:
            found = self._cache.get_signed(self.KEY, counted=False) if self._cache is not None else None
            self._known = found if isinstance(found, dict) else {}
        code = self._known.get(bucket.key)
        if isinstance(code, bytes):
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()

    def save(self) -> None:
        """Keep what this process compiled with what was kept. A worker's compiles are its
        own: the next build that compiles in the parent keeps them."""
        if self._compiled and self._cache is not None:
            self._known = {**(self._known or {}), **self._compiled}
            self._cache.put_signed(self.KEY, self._known)
            self._compiled = {}


def _template_files(folder: Path, root: Path, problems: list[Problem]) -> list[Path]:
    """The files of one template folder, in order; a symlink that leads out of it, a folder
    symlink and anything that is not a regular file are problems, never read."""
    inside = folder.resolve()
    found: list[Path] = []
    for parent, folders, files in os.walk(folder):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in folders:
            if (Path(parent) / name).is_symlink():
                problems.append(Problem(display_path(Path(parent) / name, root), 1, "symlinked folders are not followed; use a real folder"))
        for name in sorted(files):
            path = Path(parent) / name
            if name.startswith("."):
                continue
            shown = display_path(path, root)
            try:
                target = path.resolve(strict=True)
                mode = target.stat().st_mode
            except (OSError, RuntimeError):
                problems.append(Problem(shown, 1, "symlink leads nowhere (a loop, or its target is missing)"))
                continue
            if not target.is_relative_to(inside):
                problems.append(Problem(shown, 1, "symlink points outside the templates folder; copy the file in instead"))
            elif not stat.S_ISREG(mode):
                problems.append(Problem(shown, 1, "not a regular file (a pipe, socket or device); remove it"))
            else:
                found.append(path)
    return found


def _template_frame(exc: BaseException, theme: Theme, *, innermost: bool = False) -> tuple[str, int] | None:
    """The innermost template file and line in the traceback: where the user must look. With
    `innermost`, only when the error was raised in that template's own code, not below it."""
    found = None
    last_is_template = False
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        last_is_template = filename.endswith((".html", ".xml", ".txt", ".md")) and Path(filename).is_file()
        if last_is_template:
            found = (display_path(Path(filename), theme.site.root), tb.tb_lineno)
        tb = tb.tb_next
    return found if last_is_template or not innermost else None


def _undefined_message(exc: UndefinedError) -> str:
    """What the template wrote that names nothing (`'page.nope' is undefined`), never the
    Python type of the value it asked (Jinja says `'syndicate.model.Page object'`)."""
    undefined = None
    source: tuple[str, int] | None = None
    tb = exc.__traceback__
    while tb is not None:  # the Undefined that failed, and the template line that asked it
        frame = tb.tb_frame
        undefined = next((v for v in frame.f_locals.values() if isinstance(v, jinja2.Undefined)), undefined)
        if frame.f_code.co_filename.endswith((".html", ".xml", ".txt", ".md")) and Path(frame.f_code.co_filename).is_file():
            source = (frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    if undefined is None:
        return exc.message or str(exc)
    name, owner = undefined._undefined_name, undefined._undefined_obj
    if owner is jinja2.utils.missing:
        return f"'{name}' is undefined"
    what = f"{_kind_of(owner)} has no {'attribute' if isinstance(name, str) else 'item'} {name!r}"
    written = _written(source, name) if source else None
    return f"'{written}' is undefined ({what})" if written else what


def _written(source: tuple[str, int], name: object) -> str | None:
    """The expression on the template's line that ends in `.name` or `[name]`."""
    try:
        text = Path(source[0]).read_text("utf-8").splitlines()[source[1] - 1]
    except (OSError, UnicodeDecodeError, IndexError):
        return None
    key = re.escape(str(name))
    tail = rf"(?:\.{key}\b|\[\s*['\"]{key}['\"]\s*\])" if isinstance(name, str) else rf"\[\s*{key}\s*\]"
    match = re.search(rf"[A-Za-z_][\w.]*{tail}", text)
    return match[0] if match else None


def _kind_of(value: object) -> str:
    """A value as a template author knows it: a Page, an Article, a mapping, a text."""
    kinds = {dict: "a mapping", str: "a text", list: "a list", tuple: "a list", int: "a number", float: "a number"}
    for kind, word in kinds.items():
        if isinstance(value, kind):
            return word
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


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
    if not isinstance(value, datetime):  # the template's own mistake: said at its line (Theme.render)
        raise jinja2.TemplateRuntimeError(f"the date filter needs a date, not {type(value).__name__}")
    if style == "short":
        return f"{value.day} {_MONTHS[value.month - 1][:3]} {value.year}"
    unknown = next((m[0] for m in _DIRECTIVE.finditer(style) if m[2] not in _FIELDS), None) if style != "long" else None
    if unknown is not None:
        raise jinja2.TemplateRuntimeError(f"the date filter's format has an unknown directive '{unknown}' (known: {DATE_DIRECTIVES})")
    return strftime(value, long_format if style == "long" else style)
