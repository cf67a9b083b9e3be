"""The command line: thin shims over build(), each problem one line on stderr.

Exit status: 0 success, 1 a problem with the site (one `path:line: message` line each,
errors first, then the warnings, then one line `N errors, M warnings`), 2 a usage error
(Click's own). Any other exception is our bug and keeps its traceback.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import DISTRIBUTION, __version__
from .errors import Problem, SiteError, summary_line

if TYPE_CHECKING:
    from .model import BuildReport

# Each command imports what it needs when it runs: `syndicate --version` loads no pipeline.

if TYPE_CHECKING:
    from .importers.sitegen import SourceSite

F = TypeVar("F", bound=Callable[..., Any])

site_option = click.option(
    "--site", "site_file", default="site.yaml", show_default=True,
    type=click.Path(dir_okay=False, path_type=Path), help="The site's configuration file.",
)


def reports_problems(command: F) -> F:
    """Turn a SiteError into one stderr line per problem, a summary line, and exit status 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SiteError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            click.echo(summary_line(exc.problems, strict=bool(kwargs.get("strict"))), err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted; the output folder was left as it was", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def cap_jobs(jobs: int) -> int:
    """--jobs above the number of cores only adds processes that wait for a core: `--jobs 100000`
    must not fork a hundred thousand of them."""
    from .parallel import default_jobs

    return min(jobs, default_jobs())


def _interrupt(_signum: int, _frame: object) -> None:
    """SIGTERM (a CI job cancelled, a container stopped) unwinds like Ctrl-C, so the build
    discards its stage and leaves the output folder as it was."""
    raise KeyboardInterrupt


def show_warnings(warnings: Sequence[Problem]) -> None:
    """Each warning of a successful run, once, as `path:line: warning: message`."""
    for problem in warnings:
        click.echo(str(problem), err=True)


def run() -> None:
    """The program (`syndicate`, `python -m syndicate`): the commands, then an exit that skips
    tearing the interpreter down.

    By the time a command returns, its files are written and closed and its workers joined;
    what is left is freeing every module and object one by one, which costs a fresh-process
    rebuild of a large site a tenth of its time. Output streams are flushed first. (Tests
    call `main` itself, which exits the usual way.)"""
    try:
        main()
        code: int = 0
    except SystemExit as exc:  # click ends every run with one
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said on it
            code = code or 1
    os._exit(code)


@click.group()
@click.version_option(__version__, prog_name="syndicate", message=f"%(prog)s %(version)s (the {DISTRIBUTION} package)")
def main() -> None:
    """Build a static site whose every syndicated copy carries its author's reprint statement."""


@main.command("build")
@site_option
@click.option("--output", "output_dir", type=click.Path(file_okay=False, path_type=Path), help="Output folder [default: output/ beside site.yaml].")
@click.option("--drafts", is_flag=True, help="Include drafts and future-dated articles.")
@click.option("--jobs", type=click.IntRange(min=0), default=0, callback=lambda _c, _p, value: cap_jobs(value),
              help="Worker processes (0: one per core); never more than the cores.")
@click.option("--clean", is_flag=True, help="Render every file again, ignoring what the last build wrote.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write .syndicate-cache/.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
@reports_problems
def build_command(site_file: Path, output_dir: Path | None, drafts: bool, jobs: int, clean: bool,
                  strict: bool, no_cache: bool, quiet: bool) -> None:
    """Build the site into the output folder."""
    from .build import build
    from .model import BuildOptions

    options = BuildOptions(include_drafts=drafts, jobs=jobs, clean=clean, strict=strict, output_dir=output_dir,
                           use_cache=not no_cache, progress=sys.stderr.isatty(), exits_after=True)
    signal.signal(signal.SIGTERM, _interrupt)
    report = build(site_file, options)
    if not quiet:
        show_warnings(report.warnings)
        click.echo(report.summary(), err=True)


@main.command("check")
@site_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@reports_problems
def check_command(site_file: Path, strict: bool) -> None:
    """Validate content, configuration, templates and attribution without writing output."""
    from .build import build
    from .model import BuildOptions
    from .reprints import load_registry

    problems: list[Problem] = []
    known: list[str] | None = None
    try:
        report = build(site_file, BuildOptions(strict=strict, dry_run=True))
        known = sorted(_copies_manifest(report))
    except SiteError as exc:
        problems.extend(exc.problems)
    registry = load_registry(site_file.absolute().parent, known)  # reprints.yaml, when there is one
    entries = [p.as_error() if strict else p for p in registry.problems]  # a missing saved file is a warning
    if problems or any(p.is_error for p in entries):
        raise SiteError([*problems, *entries])
    show_warnings([*report.warnings, *entries])
    listed = f", {len(registry.entries)} reprints listed" if registry.path.exists() else ""
    click.echo(f"ok: {report.articles} articles, {report.pages} pages, {report.copies} syndicated copies checked{listed}", err=True)


@main.command("snippet")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["html", "text", "markdown"]), default="html", show_default=True)
@site_option
@reports_problems
def snippet_command(slug: str, fmt: str, site_file: Path) -> None:
    """Print one syndicated copy of an article to stdout."""
    from .build import build
    from .model import BuildOptions

    report = build(site_file, BuildOptions(dry_run=True))
    sys.stdout.write(_copy_of(report, slug, fmt, site_file).decode())


def _copies_manifest(report: BuildReport) -> dict[str, dict[str, Any]]:
    """The syndicable articles of a checked build by slug, from the copies' manifest."""
    import json

    from .urls import COPY_MANIFEST

    return {entry["slug"]: entry for entry in json.loads(report.rendered[COPY_MANIFEST])["articles"]}


def _copy_of(report: BuildReport, slug: str, fmt: str, site_file: Path) -> bytes:
    """One copy from a checked build, found through the copies' manifest (syndicate/index.json)."""
    import difflib

    from .config import load_site
    from .urls import article_file_matcher

    entries = _copies_manifest(report)
    if slug in entries:
        return report.rendered[entries[slug][fmt]]
    known = sorted(entries)
    close = difflib.get_close_matches(slug, known, n=3)
    matcher = article_file_matcher(load_site(site_file).permalinks.article, slug)  # its page, wherever its date put it
    published = any(matcher.match(path) for path in report.rendered)
    reason = "is not syndicable (its author has no reprint terms, or it has syndicate: false)" if published else "is not a published article"
    hint = f"; did you mean {', '.join(close)}?" if close else (f"; syndicable: {', '.join(known[:8])}" if known else "")
    raise SiteError.about("snippet", f"'{slug}' {reason}{hint}")


@main.command("verify")
@click.argument("sources", nargs=-1, metavar="[URL_OR_FILE]...")
@click.option("--article", "slug", help="The reprinted article's slug [default: the registry entry's, else found by backlink or title].")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=15.0, show_default=True, help="Seconds to wait for each request.")
@site_option
@reports_problems
def verify_command(sources: tuple[str, ...], slug: str | None, as_json: bool, timeout: float, site_file: Path) -> None:
    """Check that reprints (URLs, saved pages, .eml newsletters; default: reprints.yaml) carry the
    complete statement, its active links and the link back to the article."""
    import json

    from .verify import Result, UsageProblem, verify_reprints

    def show(result: Result) -> None:
        click.echo("\n".join(result.lines()))

    try:
        results = verify_reprints(site_file, sources, article=slug, timeout=timeout, on_result=None if as_json else show)
    except UsageProblem as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"reprints": [r.as_json() for r in results]}, ensure_ascii=False, indent=2))
    if not all(r.ok for r in results):
        sys.exit(1)


# Authoring workflow: init, new, schedule, serve (thin shims over scaffold.py and serve.py).


@main.command("init")
@click.argument("folder", type=click.Path(path_type=Path))
@reports_problems
def init_command(folder: Path) -> None:
    """Create a new site in FOLDER (new or empty) that builds as it is."""
    from .scaffold import init_site

    for path in init_site(folder):
        click.echo(f"created {path}", err=True)
    click.echo(f"next: cd {folder} && syndicate serve", err=True)


@main.command("new")
@click.argument("title")
@click.option("--author", "author_id", help="Author id from site.yaml [default: the only author].")
@site_option
@reports_problems
def new_command(title: str, author_id: str | None, site_file: Path) -> None:
    """Start a draft article titled TITLE in content/ and print its path."""
    from .config import load_site
    from .errors import display_path
    from .scaffold import new_article

    path = new_article(load_site(site_file), title, author_id)
    click.echo(display_path(path, Path.cwd().absolute()))


@main.command("schedule")
@site_option
@reports_problems
def schedule_command(site_file: Path) -> None:
    """List future-dated articles and when the site next needs a build to publish one."""
    from .config import load_site
    from .scaffold import scheduled_articles

    articles = scheduled_articles(load_site(site_file))
    for article in articles:
        click.echo(f"{article.date.isoformat()}  {article.source}  {article.title}")
    click.echo(f"next rebuild: {articles[0].date.isoformat()}" if articles else "nothing scheduled")


@main.command("serve")
@site_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback keeps drafts private).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0: any free port).")
@click.option("--no-reload", is_flag=True, help="Build once and serve; do not watch or reload.")
@reports_problems
def serve_command(site_file: Path, host: str, port: int, no_reload: bool) -> None:
    """Preview the site with drafts, rebuilding and reloading the browser on every save."""
    from .serve import PreviewServer

    server = PreviewServer(site_file, host, port, reload=not no_reload, echo=lambda line: click.echo(line, err=True))
    try:
        try:
            server.start()
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}; try another --port") from None
        click.echo(f"Serving {server.url} (Ctrl-C to stop)")
        server.wait()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        server.stop()


# Newsletters: `syndicate newsletter new|send` (thin shims over scaffold.py and mail.py).


@main.group("newsletter")
def newsletter_group() -> None:
    """Compose newsletter issues from articles, and send yourself a test copy."""


@newsletter_group.command("new")
@click.argument("slugs", nargs=-1, metavar="[SLUG...]")
@click.option("--latest", type=click.IntRange(min=1), help="The N newest syndicable articles on the issue's day, instead of slugs.")
@click.option("--title", default="", help="The subject line [default: the newsletter's name and the date].")
@site_option
@reports_problems
def newsletter_new_command(slugs: tuple[str, ...], latest: int | None, title: str, site_file: Path) -> None:
    """Start a draft issue in content/newsletters/ and print its path.

    Without SLUGs or --latest, the issue lists every syndicable article published since the
    newest issue (or the five newest, for the first one)."""
    from .config import load_site
    from .errors import display_path
    from .scaffold import new_issue

    path = new_issue(load_site(site_file), slugs, latest, title)
    click.echo(display_path(path, Path.cwd().absolute()))


@newsletter_group.command("send")
@click.argument("name")
@click.option("--to", "recipient", required=True, help="The address to send the test copy to.")
@click.option("--smtp", "server", default="localhost:25", show_default=True, help="The SMTP server, HOST:PORT (465: TLS from the start).")
@site_option
@reports_problems
def newsletter_send_command(name: str, recipient: str, server: str, site_file: Path) -> None:
    """Send issue NAME (its file name without .md) as built, for a test read.

    The issue is rendered as the preview renders it (drafts included). STARTTLS is used
    whenever the server offers it; a login is read from SYNDICATE_SMTP_USER and
    SYNDICATE_SMTP_PASSWORD, never from site.yaml."""
    import difflib
    import email.utils
    import os

    from .build import build
    from .config import load_site
    from .content import scan_content
    from .errors import Problems
    from .issues import issue_names
    from .mail import SendError, parse_server, send_message
    from .model import BuildOptions
    from .urls import issue_files

    try:
        host, port = parse_server(server)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--smtp") from None
    if "@" not in email.utils.parseaddr(recipient)[1]:
        raise click.BadParameter(f"'{recipient}' is not an e-mail address", param_hint="--to")
    site = load_site(site_file)
    report = build(site_file, BuildOptions(dry_run=True, include_drafts=True))
    message = report.rendered.get(issue_files(name)["eml"])
    if message is None or site.newsletter is None:
        problems = Problems()
        known = issue_names(scan_content(site, problems)[0])
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f" (issues: {', '.join(known) or 'none yet'})"
        raise SiteError.about("newsletter send", f"no issue named '{name}' in content/newsletters/{hint}")
    user, password = os.environ.get("SYNDICATE_SMTP_USER", ""), os.environ.get("SYNDICATE_SMTP_PASSWORD", "")
    try:
        outcome = send_message(message, site.newsletter.sender, recipient, host, port, user, password)
    except SendError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(outcome, err=True)


# Importers: `syndicate import <source>` (thin shims over syndicate/importers/).


@main.group("import")
def import_group() -> None:
    """Bring articles in from elsewhere into a site (see each source's --help)."""


@import_group.command("page")
@click.argument("sources", nargs=-1, required=True, metavar="FILE_OR_URL...")
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True,
              help="The site folder (with site.yaml), or a new or empty folder to start a site in.")
@click.option("--author", default="", help="The author's name or id, instead of the one found on the page.")
@click.option("--original-url", default="", help="Where the article was first published (for a republished copy).")
@click.option("--force", is_flag=True, help="Replace articles edited since the last import.")
@reports_problems
def import_page_command(sources: tuple[str, ...], into: Path, author: str, original_url: str, force: bool) -> None:
    """Import articles from saved web pages, web addresses or text copied from a page."""
    from .importers.page import PageOptions, import_pages

    options = PageOptions(into=into, author=author.strip(), original_url=original_url.strip(), force=force)
    results = import_pages(sources, options, echo=click.echo)
    if not any(r.written is not None and r.written.outcome.imported for r in results):
        click.echo("nothing imported", err=True)
        sys.exit(1)


def _site_import(kind: str, source: Path, into: Path, force: bool, uploads: Path | None = None) -> None:
    """The shared tail of `import jekyll|hugo|pelican|wordpress`: read the source, write the site."""
    from .importers.sitegen import SiteOptions, import_site

    summary = import_site(_read_source(kind, source, uploads), SiteOptions(into=into, force=force), echo=click.echo)
    if not summary.imported:
        click.echo("nothing imported", err=True)
        sys.exit(1)


def _read_source(kind: str, source: Path, uploads: Path | None) -> SourceSite:
    if kind == "jekyll":
        from .importers.jekyll import read_jekyll

        return read_jekyll(source)
    if kind == "hugo":
        from .importers.hugo import read_hugo

        return read_hugo(source)
    if kind == "pelican":
        from .importers.pelican import read_pelican

        return read_pelican(source)
    from .importers.wordpress import read_wordpress

    return read_wordpress(source, uploads)


_INTO_HELP = "The site folder (with site.yaml), or a new or empty folder to start a site in."
_FORCE_HELP = "Replace files edited since the last import."


def _site_import_command(kind: str, summary: str) -> None:
    """`syndicate import KIND SOURCE_DIR`: the three site generators share every option."""

    @import_group.command(kind, help=summary)
    @click.argument("source", type=click.Path(path_type=Path), metavar="SOURCE_DIR")
    @click.option("--into", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True, help=_INTO_HELP)
    @click.option("--force", is_flag=True, help=_FORCE_HELP)
    @reports_problems
    def command(source: Path, into: Path, force: bool) -> None:
        _site_import(kind, source, into, force)


_site_import_command("jekyll", "Import a Jekyll site: posts, pages, images and files; old addresses kept.")
_site_import_command("hugo", "Import a Hugo site: posts, pages, page bundles and static files; old addresses kept.")
_site_import_command("pelican", "Import a Pelican site: articles, pages and static files; old addresses kept.")


@import_group.command("wordpress")
@click.argument("source", type=click.Path(path_type=Path), metavar="EXPORT.xml")
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True, help=_INTO_HELP)
@click.option("--uploads", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A local copy of the old site's wp-content/uploads, to copy images from.")
@click.option("--force", is_flag=True, help=_FORCE_HELP)
@reports_problems
def import_wordpress_command(source: Path, into: Path, uploads: Path | None, force: bool) -> None:
    """Import a WordPress export (WXR): posts, pages, authors, images; old permalinks kept."""
    _site_import("wordpress", source, into, force, uploads)
