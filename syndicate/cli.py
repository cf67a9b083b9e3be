"""The command line: thin shims over build(), each problem one line on stderr.

Exit status: 0 success, 1 a problem with the site (one `path:line: message` line each),
2 a usage error (Click's own). Any other exception is our bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
import logging
import signal
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .build import build
from .errors import SiteError
from .model import BuildOptions

F = TypeVar("F", bound=Callable[..., Any])

site_option = click.option(
    "--site", "site_file", default="site.yaml", show_default=True,
    type=click.Path(dir_okay=False, path_type=Path), help="The site's configuration file.",
)


def reports_problems(command: F) -> F:
    """Turn a SiteError into one stderr line per problem and exit status 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SiteError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
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


class _WarningFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return record.getMessage()


def _setup_logging(quiet: bool) -> None:
    logger = logging.getLogger("syndicate")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_WarningFormatter())
        logger.addHandler(handler)
    logger.setLevel(logging.ERROR if quiet else logging.WARNING)
    logger.propagate = False


@click.group()
@click.version_option(__version__, prog_name="syndicate")
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
    _setup_logging(quiet)
    options = BuildOptions(include_drafts=drafts, jobs=jobs, clean=clean, strict=strict,
                           output_dir=output_dir, use_cache=not no_cache, progress=sys.stderr.isatty())
    signal.signal(signal.SIGTERM, _interrupt)
    report = build(site_file, options)
    if not quiet:
        click.echo(report.summary(), err=True)


@main.command("check")
@site_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@reports_problems
def check_command(site_file: Path, strict: bool) -> None:
    """Validate content, configuration, templates and attribution without writing output."""
    _setup_logging(False)
    report = build(site_file, BuildOptions(strict=strict, dry_run=True))
    click.echo(f"ok: {report.articles} articles, {report.pages} pages, {report.copies} syndicated copies checked", err=True)


@main.command("snippet")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["html", "text", "markdown"]), default="html", show_default=True)
@site_option
@reports_problems
def snippet_command(slug: str, fmt: str, site_file: Path) -> None:
    """Print one syndicated copy of an article to stdout."""
    from .config import load_site
    from .errors import Problem

    _setup_logging(True)
    report = build(site_file, BuildOptions(dry_run=True))
    extension = {"html": "html", "text": "txt", "markdown": "md"}[fmt]
    data = report.rendered.get(f"syndicate/{slug}.{extension}")
    if data is None:
        site = load_site(site_file)
        known = sorted(p.split("/")[1].rsplit(".", 1)[0] for p in report.rendered if p.startswith("syndicate/") and p.endswith(".html"))
        close = difflib.get_close_matches(slug, known, n=3)
        page = report.rendered.get(f"articles/{slug}/index.html")
        reason = "is not syndicable (its author has no reprint terms, or it has syndicate: false)" if page else "is not a published article"
        hint = f"; did you mean {', '.join(close)}?" if close else (f"; syndicable: {', '.join(known[:8])}" if known else "")
        raise SiteError([Problem(site.source, 1, f"'{slug}' {reason}{hint}")])
    sys.stdout.write(data.decode())


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

    _setup_logging(False)
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
