"""build(): read everything, plan every output, render what changed, then write once.

1. `load_site` and `load_content` read the site (Markdown through the cache, in parallel).
2. `plan_outputs` lists every output file with a key: a hash of every input that shows in
   it. An output whose key matches the last build's, and whose file is still there, is
   neither rendered nor written: that is the whole incremental build.
3. The rest are rendered (in parallel) and each syndicated copy goes through the
   integrity gate; changed bytes are staged.
4. Only when everything rendered and passed does `output.commit` touch the output folder.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .attribution import parse_statement, remember_statements
from .cache import Cache, digest
from .config import load_site
from .content import BodyStore, Content, SourceFile, load_content, scan_content
from .errors import Problem, Problems, SiteError, display_path, warn
from .feeds import render_atom, render_json_feed, render_rss
from .model import Article, Asset, BuildOptions, BuildReport, Page, Site, Tag
from .output import JOURNAL, MARKER, Stage, build_lock, check_ownership, commit, discard, existing_files, recover, stage_folder
from .pages import (
    STYLESHEET,
    Offer,
    PageContext,
    index_path,
    neighbours,
    related_articles,
    render_archive_page,
    render_article_page,
    render_author_page,
    render_index_page,
    render_not_found,
    render_page,
    render_tag_page,
)
from .parallel import parallel_map, progress_bar
from .syndication import (
    Attribution,
    build_attribution,
    copy_paths,
    feed_item_html,
    gate_problems,
    manifest_entry,
    render_copies,
    render_manifest,
    verify_copy,
)
from .theme import Theme
from .urls import absolute_url, page_file

FEED_FILES = ("feed.xml", "atom.xml", "feed.json")
PARALLEL_JOBS_FROM = 200  # fewer renders than this are faster in one process


@dataclass(frozen=True, slots=True)
class Job:
    """One unit of rendering: it produces `paths`, and its `key` changes when they would."""

    kind: str
    name: str
    paths: tuple[str, ...]
    key: str
    source: str


@dataclass(slots=True)
class JobResult:
    files: dict[str, tuple[str, int]] = field(default_factory=dict)  # path -> (digest, size)
    staged: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rendered: dict[str, bytes] = field(default_factory=dict)  # kept only when asked (check, tests)


def build_time(options: BuildOptions) -> datetime:
    """The build's clock: the option, else SOURCE_DATE_EPOCH, else now; always aware."""
    if options.now is not None:
        return options.now if options.now.tzinfo else options.now.replace(tzinfo=UTC)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC)


def build(site_file: Path | str = "site.yaml", options: BuildOptions | None = None) -> BuildReport:
    """Build the site; raises SiteError (every problem at once) and leaves output untouched."""
    options = options or BuildOptions()
    started = time.perf_counter()
    site = load_site(site_file)
    now = build_time(options)
    out_dir = (options.output_dir or site.root / "output").absolute()
    with build_lock(site.cache_dir, site.root):
        cache = Cache(site.cache_dir if options.use_cache else None)
        try:
            theme = Theme(site, cache.get_state("templates"))
            theme.check_templates()
            remember_statements(cache.get_state("statements"))
            report = _build(site, theme, options, now, out_dir, cache, started)
            cache.put_state("templates", theme.memo)
            cache.put_state("statements", {r.statement: parse_statement(r.statement) for a in site.authors.values() if (r := a.reprint)})
            return report
        finally:
            cache.close()


def _input_signature(site: Site, theme: Theme, options: BuildOptions, now: datetime, out_dir: Path,
                     scanned: tuple[list[SourceFile], list[Asset]]) -> str:
    """Everything a build reads, by name, size and mtime: equal signatures, equal output."""
    sources, assets = scanned
    files = [f"{s.rel}\0{s.size}\0{s.mtime_ns}" for s in sources] + [f"{a.path}\0{a.size}\0{a.mtime_ns}" for a in assets]
    templates = [f"{name}\0{text}" for name, text in sorted(theme.sources.items())]
    flags = repr((options.include_drafts, options.mark_drafts, options.strict, str(out_dir), now.year))
    return digest(site.fingerprint, flags, *templates, *files)


def _up_to_date(cache: Cache, signature: str, now: datetime, out_dir: Path) -> BuildReport | None:
    """The last build's report when nothing it read has changed since: no work at all."""
    state = cache.get_state("last-build")
    if not isinstance(state, dict) or state.get("signature") != signature:
        return None
    if state.get("token") != _marker_token(out_dir) or not state.get("token"):
        return None
    next_due = state.get("next_due")
    if next_due is not None and now >= next_due:
        return None  # a scheduled article is due: it must appear now
    for line in state["warnings"]:
        path, number, message = _split(line)
        warn(path, number, message.removeprefix("warning: "))
    report: BuildReport = state["report"]
    return replace(report, written=0, deleted=0, unchanged=report.written + report.unchanged, cache_hits=cache.hits)


def _build(site: Site, theme: Theme, options: BuildOptions, now: datetime, out_dir: Path,
           cache: Cache, started: float) -> BuildReport:
    problems = Problems()
    scanned = scan_content(site, problems)
    problems.raise_if_any()
    if not options.dry_run:
        # An interrupted commit is finished first: it also renews the folder's token, so the
        # up-to-date check below can never vouch for a half-committed folder.
        recover(out_dir, stage_folder(out_dir, site.cache_dir))
    signature = _input_signature(site, theme, options, now, out_dir, scanned)
    if not (options.dry_run or options.clean) and cache.enabled:
        unchanged = _up_to_date(cache, signature, now, out_dir)
        if unchanged is not None:
            return replace(unchanged, seconds=time.perf_counter() - started)
    content = load_content(site, include_drafts=options.include_drafts, now=now, cache=cache, jobs=options.jobs,
                           scanned=scanned, progress=options.progress)
    warnings = [str(w) for w in content.warnings]
    for problem in content.warnings:
        warn(problem.path, problem.line, problem.message.removeprefix("warning: "))
    ctx = PageContext(site, _nav(content.pages), now, options.mark_drafts or options.include_drafts,
                      digest(theme.sources.get("style.css", ""))[:10])
    near = neighbours(content.articles)
    related = _related(cache, content.articles)
    jobs = plan_outputs(site, content, theme, ctx, near, related)
    _check_clashes(jobs, out_dir, site)
    warnings += _check_links(site, content, jobs)
    if options.strict and warnings:
        raise SiteError(sorted(Problem(*_split(w)) for w in warnings))

    stage: Stage | None = None
    manifest_key = f"manifest:{out_dir}"
    old: dict[str, tuple[str, str, int]] = {}
    if not options.dry_run:
        check_ownership(out_dir, site.root)
        stage_dir = stage_folder(out_dir, site.cache_dir)
        recover(out_dir, stage_dir)
        old = _trusted_manifest(cache.get_state(manifest_key), out_dir)
        discard(stage_dir)
        stage = Stage(out_dir, stage_dir)
    # A trusted manifest says what is on disk; without one, look.
    on_disk = set(old) if old and not options.clean else set(existing_files(out_dir)) if not options.dry_run else set()
    todo = [job for job in jobs if options.dry_run or options.clean or not _unchanged(job, old, on_disk)]
    runner = _Runner(site, theme, ctx, content, old, stage, keep=options.dry_run, near=near, related=related)
    try:
        return _render_and_commit(
            site, options, cache, runner, jobs, todo, old, on_disk, stage, content, warnings, signature, started, out_dir)
    except BaseException:
        # Failed, Ctrl-C or SIGTERM before the journal: the output folder was never touched,
        # and the half-filled stage goes. After the journal, the next run completes it.
        if stage is not None and not (stage.folder / JOURNAL).exists():
            discard(stage.folder)
        raise


def _render_and_commit(
    site: Site, options: BuildOptions, cache: Cache, runner: _Runner, jobs: list[Job], todo: list[Job],
    old: dict[str, tuple[str, str, int]], on_disk: set[str], stage: Stage | None, content: Content,
    warnings: list[str], signature: str, started: float, out_dir: Path,
) -> BuildReport:
    manifest_key = f"manifest:{out_dir}"
    results = runner.run_all(todo, options.jobs, progress=options.progress)

    problems = Problems()
    files: dict[str, tuple[str, str, int]] = {}
    for job in jobs:
        if job not in results:
            for path in job.paths:
                files[path] = old[path]
    for job, result in results.items():
        problems.extend(result.problems)
        for path, (file_digest, size) in result.files.items():
            files[path] = (job.key, file_digest, size)
    if problems:
        if stage is not None:
            discard(stage.folder)
        problems.raise_if_any()
    written = sum(len(r.staged) for r in results.values())
    deleted = 0
    if stage is not None:
        stage.writes = [p for r in results.values() for p in r.staged]
        stale = sorted(set(on_disk) - set(files))
        stage.deletes = stale
        deleted = len(stale)
        token = secrets.token_hex(8) if stage.writes or stale or not (out_dir / MARKER).exists() else _marker_token(out_dir)
        commit(stage, token)
        cache.flush()
        cache.put_state(manifest_key, {"token": token, "files": files})
    else:
        cache.flush()
    copies = sum(1 for a in content.articles if a.is_syndicable)
    feeds = 3 + len({t.slug for a in content.articles if a.syndicate for t in a.tags})
    report = BuildReport(
        articles=len(content.articles), pages=len(content.pages), copies=copies, feeds=feeds,
        written=written, unchanged=len(files) - written, deleted=deleted, cache_hits=cache.hits,
        seconds=time.perf_counter() - started, warnings=tuple(warnings), output_dir=out_dir,
        rendered={path: data for r in results.values() for path, data in r.rendered.items()},
    )
    if stage is not None:
        next_due = min((a.date for a in content.scheduled), default=None)
        cache.put_state("last-build", {"signature": signature, "token": token, "next_due": next_due,
                                       "warnings": warnings, "report": replace(report, rendered={})})
    return report


def _split(line: str) -> tuple[str, int, str]:
    path, number, message = line.split(":", 2)
    return path, int(number), message.strip()


def _nav(pages: Sequence[Page]) -> tuple[Page, ...]:
    return tuple(p for p in pages if not p.is_draft)


def _marker_token(out_dir: Path) -> str:
    try:
        return (out_dir / MARKER).read_text("utf-8").strip().splitlines()[-1]
    except (OSError, IndexError):
        return ""


def _trusted_manifest(state: Any, out_dir: Path) -> dict[str, tuple[str, str, int]]:
    """Last build's manifest, only if the output folder is still the one it describes."""
    if not isinstance(state, dict) or not state.get("token") or state.get("token") != _marker_token(out_dir):
        return {}
    files = state.get("files")
    return files if isinstance(files, dict) else {}


def _unchanged(job: Job, old: dict[str, tuple[str, str, int]], on_disk: set[str]) -> bool:
    for path in job.paths:
        entry = old.get(path)
        if entry is None or entry[0] != job.key or path not in on_disk:
            return False
    return True


# Planning --------------------------------------------------------------------------------


def plan_outputs(site: Site, content: Content, theme: Theme, ctx: PageContext,
                 near: dict[str, tuple[Article | None, Article | None]], related: dict[str, list[Article]]) -> list[Job]:
    """Every output of the build, with the key that says whether it must be rendered again."""
    articles = content.articles
    base = digest(site.fingerprint, str(ctx.now.year), str(ctx.show_drafts), __version__,
                  *(f"{p.slug}\0{p.title}" for p in ctx.nav))
    fp = {name: digest(base, theme.fingerprint(name)) for name in (
        "index.html", "article.html", "page.html", "tag.html", "author.html", "archive.html", "404.html")}
    copies_fp = digest(theme.fingerprint("snippet.html"), theme.fingerprint("snippet.txt"),
                       theme.fingerprint("snippet.md"), theme.fingerprint("snippet.css"))
    jobs: list[Job] = []
    for article in articles:
        newer, older = near[article.slug]
        paths = [page_file(article.path)]
        if article.is_syndicable:
            paths += copy_paths(article).values()
        key = digest(fp["article.html"], copies_fp, article.source_hash, article.meta_hash,
                     *(a.meta_hash if a else "-" for a in (newer, older)), *(a.meta_hash for a in related[article.slug]))
        jobs.append(Job("article", article.slug, tuple(paths), key, article.source))
    for page in content.pages:
        jobs.append(Job("page", page.slug, (page_file(page.path),), digest(fp["page.html"], page.source_hash), page.source))
    per_page = site.per_page
    total = max(1, math.ceil(len(articles) / per_page))
    for number in range(1, total + 1):
        chunk = articles[(number - 1) * per_page : number * per_page]
        key = digest(fp["index.html"], str(number), str(total), *(a.meta_hash for a in chunk))
        jobs.append(Job("index", str(number), (page_file(index_path(number)),), key, "index.html"))
    tags = tag_index(articles)
    for tag, members in tags.items():
        in_feed = [a for a in members if a.syndicate][: site.feed_items]
        key = digest(fp["tag.html"], tag.name, *(a.meta_hash for a in members), *(a.source_hash for a in in_feed))
        jobs.append(Job("tag", tag.slug, (f"tags/{tag.slug}/index.html", f"tags/{tag.slug}/feed.xml"), key, "tag.html"))
    for author_id in site.authors:
        members = [a for a in articles if a.author.id == author_id]
        key = digest(fp["author.html"], *(a.meta_hash for a in members))
        jobs.append(Job("author", author_id, (f"authors/{author_id}/index.html",), key, "author.html"))
    everything = digest(*(a.meta_hash for a in articles))
    jobs.append(Job("archive", "archive", ("archive/index.html",), digest(fp["archive.html"], everything), "archive.html"))
    in_feeds = [a for a in articles if a.syndicate][: site.feed_items]
    feed_key = digest(base, *(a.meta_hash + a.source_hash for a in in_feeds),
                      *sorted({a.author.name for a in in_feeds}))
    jobs.append(Job("feeds", "feeds", FEED_FILES, feed_key, "feeds"))
    syndicable = [a for a in articles if a.is_syndicable]
    jobs.append(Job("manifest", "manifest", ("syndicate/index.json",), digest(base, *(a.meta_hash for a in syndicable)), "syndicate"))
    pages_key = digest(base, everything, *(p.slug for p in content.pages), *(t.slug for t in tags))
    jobs.append(Job("sitemap", "sitemap", ("sitemap.xml", "robots.txt"), pages_key, "sitemap"))
    jobs.append(Job("404", "404", ("404.html",), fp["404.html"], "404.html"))
    jobs.append(Job("stylesheet", "style.css", (STYLESHEET,), digest(theme.fingerprint("style.css")), theme.shown("style.css")))
    for asset in content.assets:
        key = digest("asset", str(asset.size), str(asset.mtime_ns), str(asset.source))
        jobs.append(Job("asset", asset.path, (asset.path,), key, display_path(asset.source, site.root)))
    return jobs


def _related(cache: Cache, articles: Sequence[Article]) -> dict[str, list[Article]]:
    """Related articles depend only on the order, slugs and tags: reuse them while those hold."""
    key = digest(*(f"{a.slug}\0{'|'.join(t.slug for t in a.tags)}" for a in articles))
    state = cache.get_state("related")
    if isinstance(state, dict) and state.get("key") == key:
        by_slug = {a.slug: a for a in articles}
        return {slug: [by_slug[s] for s in others] for slug, others in state["slugs"].items()}
    related = related_articles(articles)
    cache.put_state("related", {"key": key, "slugs": {slug: [a.slug for a in others] for slug, others in related.items()}})
    return related


def tag_index(articles: Sequence[Article]) -> dict[Tag, list[Article]]:
    """Tags in slug order, each with its articles newest first; the first spelling wins."""
    found: dict[str, tuple[Tag, list[Article]]] = {}
    for article in articles:
        for tag in article.tags:
            found.setdefault(tag.slug, (tag, []))[1].append(article)
    return {tag: members for _slug, (tag, members) in sorted(found.items())}


def _check_clashes(jobs: Sequence[Job], out_dir: Path, site: Site) -> None:
    """Two outputs claiming one path is one problem that names both sources."""
    owners: dict[str, str] = {}
    problems = Problems()
    for job in jobs:
        for path in job.paths:
            if path == MARKER or path.startswith(".syndicate-stage"):
                problems.add(job.source, 1, f"'{path}' is reserved for syndicate's own use")
            elif path in owners:
                problems.add(job.source, 1, f"output '{path}' is also written by {owners[path]}; rename one of them")
            else:
                owners[path] = job.source
    problems.raise_if_any()


def _check_links(site: Site, content: Content, jobs: Sequence[Job]) -> list[str]:
    """Internal links and anchors that lead nowhere: warnings, errors with --strict."""
    paths = {path for job in jobs for path in job.paths}
    documents: list[Article | Page] = [*content.articles, *content.pages]
    ids_by_file = {page_file(d.path): set(content.links[d.source].ids) for d in documents}
    lines = []
    for document in documents:
        facts = content.links[document.source]
        for link in facts.links:
            target, _, anchor = link.partition("#")
            target = target.split("?", 1)[0].lstrip("/")
            file = page_file(document.path) if not target else next(
                (f for f in (target, page_file(target), f"{target}/index.html") if f in paths), None)
            if file is None:
                lines.append(str(warn(document.source, 1, f"broken internal link '{link}'")))
            elif anchor and file in ids_by_file and anchor not in ids_by_file[file]:
                lines.append(str(warn(document.source, 1, f"link '{link}' points at a missing anchor '#{anchor}'")))
        if facts.missing_alt:
            lines.append(str(warn(document.source, 1, f"{facts.missing_alt} image(s) without alt text")))
    return lines


# Rendering -------------------------------------------------------------------------------

_RUNNER: _Runner | None = None  # set before forking, so workers inherit it instead of unpickling it


def _run_one(index: int) -> tuple[int, JobResult]:
    assert _RUNNER is not None
    return index, _RUNNER.run(_RUNNER.todo[index])


class _Runner:
    """Renders jobs; every method is a pure function of the state given to the constructor."""

    def __init__(self, site: Site, theme: Theme, ctx: PageContext, content: Content,
                 old: dict[str, tuple[str, str, int]], stage: Stage | None, keep: bool,
                 near: dict[str, tuple[Article | None, Article | None]], related: dict[str, list[Article]]) -> None:
        self.site = site
        self.theme = theme
        self.ctx = ctx
        self.content = content
        self.old = old
        self.stage = stage
        self.keep = keep
        self.todo: list[Job] = []
        articles = content.articles
        self.near = near
        self.related = related
        tags = tag_index(articles)
        self.by_tag = {tag.slug: members for tag, members in tags.items()}
        self.tags = {tag.slug: tag for tag in tags}
        self.by_slug = {a.slug: a for a in articles}
        self.pages = {p.slug: p for p in content.pages}
        self.assets = {a.path: a for a in content.assets}
        self._attributions: dict[str, Attribution] = {}
        self._items: dict[str, str] = {}

    def run_all(self, todo: list[Job], jobs: int, progress: bool = False) -> dict[Job, JobResult]:
        global _RUNNER
        self.todo = todo
        self._prefetch(todo)
        _RUNNER = self
        try:
            workers = jobs if len(todo) > PARALLEL_JOBS_FROM else 1
            with progress_bar(len(todo) if progress else 0, "rendering") as step:
                pairs = parallel_map(_run_one, range(len(todo)), workers, on_result=step)
        finally:
            _RUNNER = None
        return {todo[index]: result for index, result in pairs}

    def _prefetch(self, todo: list[Job]) -> None:
        """Load the bodies these jobs need now, before workers fork off without the cache."""
        if not isinstance(self.content.bodies, BodyStore):
            return
        keys = []
        feed_items = self.site.feed_items
        for job in todo:
            if job.kind == "article":
                keys.append(self.by_slug[job.name].body_key)
            elif job.kind == "page":
                keys.append(self.pages[job.name].body_key)
            elif job.kind == "feeds":
                keys += [a.body_key for a in self.content.articles if a.syndicate][:feed_items]
            elif job.kind == "tag":
                keys += [a.body_key for a in self.by_tag[job.name] if a.syndicate][:feed_items]
        self.content.bodies.prefetch(keys)

    def run(self, job: Job) -> JobResult:
        result = JobResult()
        try:
            handler: Callable[[Job, JobResult], None] = getattr(self, f"_job_{job.kind}")
            handler(job, result)
        except SiteError as exc:
            result.problems.extend(exc.problems)
        return result

    def _emit(self, result: JobResult, path: str, data: bytes) -> None:
        file_digest = digest(data)
        result.files[path] = (file_digest, len(data))
        if self.keep:
            result.rendered[path] = data
        previous = self.old.get(path)
        if self.stage is not None and (previous is None or previous[1] != file_digest or not (self.stage.out_dir / path).exists()):
            self.stage.put(path, data)
            result.staged.append(path)

    def attribution(self, article: Article) -> Attribution:
        if article.slug not in self._attributions:
            self._attributions[article.slug] = build_attribution(self.site, article)
        return self._attributions[article.slug]

    def item_html(self, article: Article) -> str:
        if article.slug not in self._items:
            body = self.content.bodies[article.body_key]
            self._items[article.slug] = feed_item_html(self.site, article, body, self.attribution(article))
        return self._items[article.slug]

    def _job_article(self, job: Job, result: JobResult) -> None:
        article = self.by_slug[job.name]
        body = self.content.bodies[article.body_key]
        offer = None
        if article.is_syndicable:
            attribution = self.attribution(article)
            copies = render_copies(self.theme, self.site, article, body, attribution)
            paths = copy_paths(article)
            templates = {"html": "snippet.html", "text": "snippet.txt", "markdown": "snippet.md"}
            for fmt, data in copies.items():
                missing = verify_copy(data.decode(), "html" if fmt == "html" else fmt, attribution)
                result.problems += gate_problems(article.source, paths[fmt], self.theme.shown(templates[fmt]), missing)
                self._emit(result, paths[fmt], data)
            reprint = article.author.reprint
            assert reprint is not None and attribution.statement is not None
            offer = Offer(reprint.preamble, attribution.statement, reprint.commercial, copies["html"].decode(), paths)
        newer, older = self.near[article.slug]
        html = render_article_page(self.theme, self.ctx, article, body, newer=newer, older=older,
                                   related=self.related[article.slug], offer=offer)
        self._emit(result, page_file(article.path), html.encode())

    def _job_page(self, job: Job, result: JobResult) -> None:
        page = self.pages[job.name]
        html = render_page(self.theme, self.ctx, page, self.content.bodies[page.body_key])
        self._emit(result, page_file(page.path), html.encode())

    def _job_index(self, job: Job, result: JobResult) -> None:
        number = int(job.name)
        per_page = self.site.per_page
        articles = self.content.articles
        total = max(1, math.ceil(len(articles) / per_page))
        chunk = articles[(number - 1) * per_page : number * per_page]
        self._emit(result, job.paths[0], render_index_page(self.theme, self.ctx, chunk, number, total).encode())

    def _job_tag(self, job: Job, result: JobResult) -> None:
        tag = self.tags[job.name]
        members = self.by_tag[job.name]
        self._emit(result, job.paths[0], render_tag_page(self.theme, self.ctx, tag, members).encode())
        in_feed = [a for a in members if a.syndicate][: self.site.feed_items]
        title = f"{self.site.title}: {tag.name}"
        self._emit(result, job.paths[1], render_rss(self.site, job.paths[1], title, self.site.description, in_feed, self.item_html))
        self._verify_items(in_feed, job.paths[1], result)

    def _job_author(self, job: Job, result: JobResult) -> None:
        author = self.site.authors[job.name]
        members = [a for a in self.content.articles if a.author.id == author.id]
        self._emit(result, job.paths[0], render_author_page(self.theme, self.ctx, author, members).encode())

    def _job_archive(self, job: Job, result: JobResult) -> None:
        self._emit(result, job.paths[0], render_archive_page(self.theme, self.ctx, self.content.articles).encode())

    def _job_feeds(self, job: Job, result: JobResult) -> None:
        site = self.site
        in_feed = [a for a in self.content.articles if a.syndicate][: site.feed_items]
        for path, render in zip(FEED_FILES, (render_rss, render_atom, render_json_feed), strict=True):
            self._emit(result, path, render(site, path, site.title, site.description, in_feed, self.item_html))
        self._verify_items(in_feed, "feed.xml", result)

    def _verify_items(self, articles: Sequence[Article], feed: str, result: JobResult) -> None:
        for article in articles:
            missing = verify_copy(self.item_html(article), "html", self.attribution(article))
            result.problems += gate_problems(article.source, f"{feed} item", "feeds", missing)

    def _job_manifest(self, job: Job, result: JobResult) -> None:
        entries = [manifest_entry(self.site, a, self.attribution(a)) for a in self.content.articles if a.is_syndicable]
        self._emit(result, job.paths[0], render_manifest(self.site, entries))

    def _job_sitemap(self, job: Job, result: JobResult) -> None:
        self._emit(result, "sitemap.xml", render_sitemap(self.site, self.content, list(self.tags.values())))
        robots = f"User-agent: *\nAllow: /\n\nSitemap: {absolute_url(self.site.url, 'sitemap.xml')}\n"
        self._emit(result, "robots.txt", robots.encode())

    def _job_404(self, job: Job, result: JobResult) -> None:
        self._emit(result, "404.html", render_not_found(self.theme, self.ctx).encode())

    def _job_stylesheet(self, job: Job, result: JobResult) -> None:
        self._emit(result, STYLESHEET, self.theme.sources.get("style.css", "").encode())

    def _job_asset(self, job: Job, result: JobResult) -> None:
        asset: Asset = self.assets[job.name]
        stat = asset.source.stat()
        result.files[asset.path] = (digest("asset", str(stat.st_size), str(stat.st_mtime_ns)), stat.st_size)
        if self.keep:
            result.rendered[asset.path] = asset.source.read_bytes()
        if self.stage is not None:
            self.stage.put_file(asset.path, asset.source)
            result.staged.append(asset.path)


def render_sitemap(site: Site, content: Content, tags: Sequence[Tag]) -> bytes:
    """Canonical pages only: an article republished from elsewhere has its canonical there."""
    from xml.sax.saxutils import escape

    newest = content.articles[0].date if content.articles else None
    entries: list[tuple[str, datetime | None]] = [("", newest), ("archive/", newest)]
    entries += [(a.path, a.updated or a.date) for a in content.articles if a.original is None]
    entries += [(p.path, None) for p in content.pages]
    entries += [(f"tags/{t.slug}/", None) for t in tags]
    entries += [(f"authors/{author_id}/", None) for author_id in site.authors]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for path, when in entries:
        lastmod = f"<lastmod>{when.date().isoformat()}</lastmod>" if when else ""
        lines.append(f"  <url><loc>{escape(absolute_url(site.url, path))}</loc>{lastmod}</url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode()


_ = load_site
