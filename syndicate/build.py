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

import gc
import os
import secrets
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .attribution import parse_statement, remember_statements
from .cache import Cache, digest
from .config import load_site
from .content import Content, SourceFile, load_content, patch_content, scan_content
from .errors import Problem, Problems, SiteError, warn
from .images import lead_images
from .model import Article, Asset, BuildOptions, BuildReport, Site, Tag
from .output import JOURNAL, MARKER, Stage, build_lock, check_ownership, commit, discard, existing_files, open_stage, recover, stage_folder
from .pages import PageContext, neighbours, resolve_menu
from .plan import (
    Fingerprints,
    Job,
    check_clashes,
    check_links,
    fingerprints,
    image_jobs,
    in_document_order,
    output_paths,
    patch_jobs,
    plan_outputs,
    related_cached,
    search_job,
    tag_index,
)
from .render import Renderer
from .search import remember_index_files
from .syndication import oversized_copies
from .theme import Theme


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
        cache = Cache(site.cache_dir if options.use_cache else None, options.memory)
        try:
            memory = cache.memory
            theme = Theme(site, cache.get_state("templates"), memory.theme if memory else None)
            if memory is not None:
                memory.theme = theme
            theme.check_templates()
            remember_statements(cache.get_state("statements"))
            report = _build(site, theme, options, now, out_dir, cache, started)
            cache.put_state("templates", theme.memo)
            cache.put_state("statements", {r.statement: parse_statement(r.statement) for a in site.authors.values() if (r := a.reprint)})
            return report
        finally:
            if options.memory is None:
                gc.unfreeze()
            else:
                # The preview server keeps most of what this build made for the next one: a
                # full collection walking all of it would stall the next save.
                gc.freeze()
            cache.close()


def _frame(site: Site, theme: Theme, options: BuildOptions, now: datetime, out_dir: Path) -> str:
    """Everything a build reads except the content files: settings, templates, options."""
    templates = [f"{name}\0{text}" for name, text in sorted(theme.sources.items())]
    flags = repr((options.include_drafts, options.mark_drafts, options.strict, str(out_dir), now.year))
    return digest(site.fingerprint, flags, *templates)


def _input_signature(frame: str, scanned: tuple[list[SourceFile], list[Asset]]) -> str:
    """Everything a build reads, by name, size and mtime: equal signatures, equal output."""
    sources, assets = scanned
    files = [f"{s.rel}\0{s.size}\0{s.mtime_ns}" for s in sources] + [f"{a.path}\0{a.size}\0{a.mtime_ns}" for a in assets]
    return digest(frame, *files)


@dataclass(slots=True)
class Plan:
    """What the read and plan stages decided: the content, its relations, every job."""

    content: Content
    ctx: PageContext
    near: dict[str, tuple[Article | None, Article | None]]
    related: dict[str, list[Article]]
    tags: dict[Tag, list[Article]]
    fp: Fingerprints
    jobs: list[Job]
    paths: set[str]
    links: dict[str, list[Problem]]  # link warnings by document
    copies: int  # articles with syndicated copies
    feeds: int


@dataclass(slots=True)
class Snapshot:
    """The last good build's plan, kept by the preview server for the next save."""

    frame: str
    sources: dict[str, tuple[int, int]]  # rel -> (size, mtime_ns)
    assets: list[tuple[str, int, int]]
    plan: Plan
    positions: dict[str, int]  # each article's index in plan.content.articles, by source


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
    stage_dir = stage_folder(out_dir, site.cache_dir)
    if not options.dry_run:
        # An interrupted commit is finished first: it also renews the folder's token, so the
        # up-to-date check below can never vouch for a half-committed folder.
        recover(out_dir, stage_dir)
    frame = _frame(site, theme, options, now, out_dir)
    signature = _input_signature(frame, scanned)
    if not (options.dry_run or options.clean) and cache.enabled:
        unchanged = _up_to_date(cache, signature, now, out_dir)
        if unchanged is not None:
            return replace(unchanged, seconds=time.perf_counter() - started)
    memory = cache.memory
    patched = _patched_plan(site, memory.snapshot, frame, scanned, now, cache) if memory and not options.clean else None
    plan = patched[0] if patched else _full_plan(site, theme, options, now, out_dir, cache, scanned)
    if patched and memory is not None:
        memory.patched += 1
    content, jobs = plan.content, plan.jobs
    for problem in content.warnings:
        warn(problem.path, problem.line, problem.message.removeprefix("warning: "))
    link_problems = in_document_order(content, plan.links)
    for problem in link_problems:
        warn(problem.path, problem.line, problem.message.removeprefix("warning: "))
    warnings = [str(w) for w in (*content.warnings, *link_problems)]
    if options.strict and warnings:
        raise SiteError(sorted(Problem(*_split(w)) for w in warnings))
    if memory is not None:
        memory.snapshot = None  # set again only when this build succeeds
        snapshot = _snapshot(frame, scanned, plan, patched)
    ctx, near, related, tags = plan.ctx, plan.near, plan.related, plan.tags

    stage: Stage | None = None
    manifest_key = f"manifest:{out_dir}"
    old: dict[str, tuple[str, str, int]] = {}
    if not options.dry_run:
        check_ownership(out_dir, site.root)
        old = _trusted_manifest(cache.get_state(manifest_key), out_dir)
        stage = open_stage(out_dir, stage_dir)
    # A trusted manifest says what is on disk; without one, look.
    on_disk = set(old) if old and not options.clean else set(existing_files(out_dir)) if not options.dry_run else set()
    todo = [job for job in jobs if options.dry_run or options.clean or not _unchanged(job, old, on_disk)]
    runner = Renderer(site, theme, ctx, content, old, stage, keep=options.dry_run, near=near, related=related, tags=tags)
    try:
        report = _render_and_commit(
            site, options, cache, runner, plan, todo, old, on_disk, stage, warnings, signature, started, out_dir)
        if memory is not None and not options.dry_run:
            memory.snapshot = snapshot
        return report
    except BaseException:
        # Failed, Ctrl-C or SIGTERM before the journal: the output folder was never touched,
        # and the half-filled stage goes. After the journal, the next run completes it.
        if stage is not None and not (stage.folder / JOURNAL).exists():
            discard(stage.folder)
        raise


def _full_plan(site: Site, theme: Theme, options: BuildOptions, now: datetime, out_dir: Path, cache: Cache,
               scanned: tuple[list[SourceFile], list[Asset]]) -> Plan:
    # What the read phase loads (tens of thousands of objects, no reference cycles) lives until
    # the build ends: the garbage collector need not walk it again and again while it grows,
    # nor afterwards, and forked workers share it untouched.
    gc.disable()
    try:
        content = load_content(site, include_drafts=options.include_drafts, now=now, cache=cache, jobs=options.jobs,
                               scanned=scanned, progress=options.progress)
    finally:
        gc.freeze()
        gc.enable()
    image_warnings: list[Problem] = []
    images = lead_images(site, content.articles, content.assets, cache, image_warnings)
    if image_warnings:
        content = replace(content, warnings=(*content.warnings, *image_warnings))
    ctx = PageContext(site, resolve_menu(site, content.pages), now, options.mark_drafts or options.include_drafts,
                      digest(theme.sources.get("style.css", ""))[:10], images)
    near = neighbours(content.articles)
    related = related_cached(cache, content.articles)
    tags = tag_index(content.articles)
    fp = fingerprints(site, theme, ctx)
    jobs = plan_outputs(site, content, theme, fp, near, related, tags)
    jobs += image_jobs(images, site)
    if site.search:
        jobs.append(search_job(site, cache, content))
    check_clashes(jobs, out_dir, site, content)
    paths = output_paths(jobs)
    copies = sum(1 for a in content.articles if a.is_syndicable)
    feeds = 3 + len(tags)
    return Plan(content, ctx, near, related, tags, fp, jobs, paths, check_links(content, paths), copies, feeds)


def _snapshot(frame: str, scanned: tuple[list[SourceFile], list[Asset]], plan: Plan,
              patched: tuple[Plan, Snapshot, list[SourceFile]] | None) -> Snapshot:
    if patched is not None:  # the same files as last time but a few: update, do not rebuild
        _plan, previous, changed = patched
        sources = dict(previous.sources)
        sources.update((s.rel, (s.size, s.mtime_ns)) for s in changed)
        return Snapshot(frame, sources, previous.assets, plan, previous.positions)
    files, assets = scanned
    return Snapshot(frame, {s.rel: (s.size, s.mtime_ns) for s in files}, [(a.path, a.size, a.mtime_ns) for a in assets],
                    plan, {a.source: index for index, a in enumerate(plan.content.articles)})


def _patched_plan(site: Site, snapshot: Snapshot | None, frame: str, scanned: tuple[list[SourceFile], list[Asset]],
                  now: datetime, cache: Cache) -> tuple[Plan, Snapshot, list[SourceFile]] | None:
    """The preview server's shortcut: when the only change since its last build is the body
    of an article or two, patch that build's plan instead of reading and planning it all.
    None when anything else changed (the full plan is made), never a guess."""
    sources, assets = scanned
    if snapshot is None or snapshot.frame != frame or len(sources) != len(snapshot.sources):
        return None
    if [(a.path, a.size, a.mtime_ns) for a in assets] != snapshot.assets:
        return None
    previous = snapshot.plan
    if any(a.date <= now for a in previous.content.scheduled):
        return None  # a scheduled article is due
    known = snapshot.sources
    changed = [s for s in sources if known.get(s.rel) != (s.size, s.mtime_ns)]
    if not changed or len(changed) > 20 or any(s.rel not in known for s in changed):
        return None
    patched = patch_content(site, previous.content, snapshot.positions, changed, cache)
    if patched is None:
        return None
    content, fresh = patched
    touched = {t.slug for a in fresh.values() for t in a.tags}
    tags = {tag: [fresh.get(a.slug, a) for a in members] if tag.slug in touched else members
            for tag, members in previous.tags.items()}
    jobs = patch_jobs(site, previous.fp, previous.jobs, content, set(fresh), previous.near, previous.related, tags)
    if site.search:
        jobs = [search_job(site, cache, content) if job.kind == "search" else job for job in jobs]
    links = dict(previous.links)
    for article in fresh.values():
        links.pop(article.source, None)
    links.update(check_links(content, previous.paths, only={a.source for a in fresh.values()}))
    return replace(previous, content=content, tags=tags, jobs=jobs, links=links), snapshot, changed


def _render_and_commit(
    site: Site, options: BuildOptions, cache: Cache, runner: Renderer, plan: Plan, todo: list[Job],
    old: dict[str, tuple[str, str, int]], on_disk: set[str], stage: Stage | None,
    warnings: list[str], signature: str, started: float, out_dir: Path,
) -> BuildReport:
    jobs, content = plan.jobs, plan.content
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
        if job.kind == "search" and not result.problems:  # its files are known only now: the next plan needs them
            remember_index_files(cache, job.key, result.files)
        for path, (file_digest, size) in result.files.items():
            files[path] = (job.key, file_digest, size)
    for problem in oversized_copies(content.articles, {path: entry[2] for path, entry in files.items()}):
        warnings.append(str(warn(problem.path, problem.line, problem.message.removeprefix("warning: "))))
        if options.strict:
            problems.add(problem.path, problem.line, problem.message)
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
    report = BuildReport(
        articles=len(content.articles), pages=len(content.pages), copies=plan.copies, feeds=plan.feeds,
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


