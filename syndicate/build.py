"""build(): read everything, plan every output, render what changed, then write once.

`build()` is the table of contents; each stage is one function below, and each module it
calls owns one concern:

1. **load**: site.yaml (config.py), the templates (theme.py), the content files (content.py,
   Markdown through the cache, in parallel), the output folder (output.py). A build whose
   inputs are as the last one left them stops here; one that changed only article bodies
   patches the last plan (incremental.py explains when that is safe).
2. **plan**: every output file with the key that says whether it must be made again (plan.py).
3. **render**: the jobs whose keys changed, in parallel (render.py); each syndicated copy
   comes out of the attribution gate with what the gate found (syndication.py).
4. **gate**: every problem and warning of the run, errors first, in one report; any error,
   or any warning under `--strict`, fails the build here, before anything is written.
5. **commit**: the staged files and the kept ones become the output folder in one switch
   (output.py: a swap with its twin, or a journaled commit in place), and the record of
   what was written is kept for the next build (incremental.py explains the whole model).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import incremental
from .attribution import Statements
from .cache import Cache, Manifest, Memory
from .config import load_site
from .content import BodyStore, LazyMarkdown, load_content, problems_beside_settings, scan_content
from .errors import Problem, Problems, SiteError
from .issues import issue_problems, load_issues
from .marker import Seen
from .model import BuildOptions, BuildReport, Site
from .model import build_time as build_time  # the build's clock, also used by `schedule`
from .output import Stage, abandon, build_lock, check_ownership, commit, folder_view, open_stage, stage_folder
from .parallel import Beside, kept_until_the_end
from .plan import Job, Plan, make_plan, page_context
from .search import remember_index_files
from .theme import Theme

if TYPE_CHECKING:  # rendering (feeds, sanitizer, CSS inliner) is imported by builds that render
    from .render import JobResult


def build(site_file: Path | str = "site.yaml", options: BuildOptions | None = None) -> BuildReport:
    """Build the site; raises SiteError (every problem and warning at once) and leaves output untouched."""
    options = options or BuildOptions()
    started = time.perf_counter()
    try:
        site = load_site(site_file)
    except SiteError as exc:  # the content's own problems too: an error in site.yaml hides nothing
        raise exc.with_warnings(problems_beside_settings(site_file, options)) from None
    out_dir = (options.output_dir or site.root / "output").absolute()
    with build_lock(site.cache_dir, site.root):
        seen = folder_view(out_dir, stage_folder(out_dir, site.cache_dir), options.dry_run, options.memory is None and options.jobs != 1)
        cache = Cache(site.cache_dir if options.use_cache else None, options.memory, site.authors)
        try:
            try:
                run = _start(site, options, cache, out_dir, seen)
                scanned = _load(run)                                            # 1. load
                report = _unchanged_report(run)
                if report is None:
                    plan = _plan(run, scanned)                                  # 2. plan
                    _gate(run, [*site.warnings, *plan.warnings])                # 4. gate: warnings
                    rendered = _render(run, plan)                               # 3. render
                    _gate(run, [*site.warnings, *plan.warnings, *rendered.warnings], rendered)  # 4. gate: all
                    report = _commit(run, plan, rendered)                       # 5. commit
            except SiteError as exc:
                raise exc.with_warnings(site.warnings) from None
            _keep_memos(run)
            run.lingering = run if options.exits_after else None  # a cycle no collection reaches before the exit (see model)
            return replace(report, seconds=time.perf_counter() - started)
        finally:
            # The preview server keeps most of this build for the next one: a full collection of it would stall the next save.
            gc.freeze() if options.memory else gc.unfreeze()
            seen.close()
            cache.close()


@dataclass(slots=True)
class _Run:
    """One build while it runs: its settings and clock, the cache, and the memos it owns."""

    site: Site
    options: BuildOptions
    now: datetime
    out_dir: Path
    cache: Cache
    memory: Memory | None
    theme: Theme
    markdown: LazyMarkdown
    statements: Statements
    seen: Beside[Seen]  # the output folder as this build found it, looked at beside the loading
    frame: str = ""
    signature: str = ""
    snapshot: incremental.Snapshot | None = None  # to keep once this build has succeeded
    patched: bool = False
    lingering: object = None


@dataclass(slots=True)
class _Rendered:
    results: dict[Job, JobResult]  # the jobs rendered, with their files and problems
    stage: Stage | None  # their changed files, and the stale ones to delete (None for `check`)
    kept: Manifest  # what the jobs left alone keep of the last build's manifest
    warnings: list[Problem]  # what the files made show: an HTML copy too long for e-mail


def _start(site: Site, options: BuildOptions, cache: Cache, out_dir: Path, seen: Beside[Seen]) -> _Run:
    """The templates, compiled and checked, and the memos: the preview server's kept ones."""
    memory = cache.memory
    theme = Theme(site, cache.get_state("templates"), memory.theme if memory else None, cache)
    markdown = memory.markdown if memory and memory.markdown else LazyMarkdown()
    statements = memory.statements if memory and memory.statements else Statements(cache.get_state("statements"))
    if memory is not None:
        memory.theme, memory.markdown, memory.statements = theme, markdown, statements
    theme.check_templates()
    return _Run(site, options, build_time(options), out_dir, cache, memory, theme, markdown, statements, seen)


def _load(run: _Run) -> incremental.Scanned:
    """List the content files (read with the plan, if needed)."""
    problems = Problems()
    scanned = scan_content(run.site, problems)
    problems.raise_if_any()
    run.frame = incremental.frame(run.site, run.theme, run.options, run.now, run.out_dir)
    run.signature = incremental.signature(run.frame, scanned)
    return scanned


def _unchanged_report(run: _Run) -> BuildReport | None:
    if run.options.dry_run or run.options.clean or not run.cache.enabled:
        return None
    if (report := incremental.up_to_date(run.cache, run.signature, run.now, run.out_dir, run.seen.result)) is not None:
        _gate(run, report.warnings)
    return report


def _plan(run: _Run, scanned: incremental.Scanned) -> Plan:
    """The last plan patched when only article bodies changed, else a plan of everything."""
    site, options, cache = run.site, run.options, run.cache
    with kept_until_the_end():
        last = None if options.clean else incremental.last_snapshot(cache, run.memory, run.frame, scanned, run.out_dir)
        patched = incremental.patched_plan(site, last, scanned, run.now, cache, run.markdown, run.out_dir) if last else None
        if patched is not None:
            plan, run.snapshot = patched
            run.patched = True
            return plan
        try:
            content = load_content(site, include_drafts=options.include_drafts, now=run.now, cache=cache,
                                   markdown=run.markdown, jobs=options.jobs, scanned=scanned, progress=options.progress)
        except SiteError as exc:  # the newsletter issues' own problems too: one bad article hides nothing
            raise exc.with_warnings(issue_problems(site, scanned[0], options.include_drafts)) from None
    try:
        issues = load_issues(site, scanned[0], content.articles, include_drafts=options.include_drafts)
    except SiteError as exc:
        raise exc.with_warnings(content.warnings) from None
    content, ctx = page_context(site, run.theme, content, run.now, options.mark_drafts or options.include_drafts, cache,
                                has_newsletter=bool(issues))
    fp = incremental.fingerprints(site, run.theme, ctx, content.assets)
    plan = make_plan(site, run.theme, content, ctx, fp, cache, run.out_dir, issues)
    run.snapshot = incremental.take_snapshot(run.frame, scanned, plan)
    if cache.enabled and not options.dry_run:
        incremental.save_snapshot(cache, run.out_dir, run.snapshot)
    return plan


def _render(run: _Run, plan: Plan) -> _Rendered:
    """Render the jobs whose outputs may have changed; changed bytes go to a stage folder."""
    from .render import Renderer

    options, out_dir = run.options, run.out_dir
    stage: Stage | None = None
    old: Manifest = {}
    if not options.dry_run:
        check_ownership(out_dir, run.site.root)
        stage = open_stage(out_dir, stage_folder(out_dir, run.site.cache_dir), run.seen.result())
        with kept_until_the_end():
            old = incremental.trusted_manifest(run.cache, out_dir, stage.record, stage.intact)
    try:
        on_disk = stage.intact if stage is not None else set()  # the disk is the truth: what the marker lists and is still there
        todo = [job for job in plan.jobs if stage is None or options.clean or not incremental.is_unchanged(job, old, on_disk)]
        bodies = BodyStore(plan.content, run.cache, run.markdown, run.site.content_dir)
        renderer = Renderer(run.site, run.theme, plan, bodies, run.statements, old, stage, keep=options.dry_run)
        results = renderer.run_all(todo, options.jobs, progress=options.progress)
        # What a job makes is known once it ran (a search index names its files itself): stale is what none made.
        kept = {path: old[path] for job in plan.jobs if job not in results for path in job.paths}
        return _Rendered(results, stage, kept, renderer.oversized_copies(kept, *(r.files for r in results.values())))
    except BaseException:
        if stage is not None:
            abandon(stage)
        raise


def _gate(run: _Run, warnings: Sequence[Problem], rendered: _Rendered | None = None) -> None:
    """The one place that decides: an error, or a warning with --strict, fails the build and throws its stage away."""
    shown = [w.as_error() for w in warnings] if run.options.strict else warnings
    found = [p for result in (rendered.results if rendered else {}).values() for p in result.problems]
    if any(p.is_error for p in (*shown, *found)):
        if rendered and rendered.stage:
            abandon(rendered.stage)
        raise SiteError(sorted([*found, *shown]))


def _commit(run: _Run, plan: Plan, rendered: _Rendered) -> BuildReport:
    """Write the staged files into the output folder, then remember what is there."""
    cache, out_dir, results, stage = run.cache, run.out_dir, rendered.results, rendered.stage
    files = dict(rendered.kept)
    files.update((path, (job.key, *facts)) for job, result in results.items() for path, facts in result.files.items())
    written = sum(len(result.staged) for result in results.values())
    token = ""
    if stage is not None:
        stage.writes = [path for result in results.values() for path in result.staged]
        stage.outputs = set(files)
        try:
            token = commit(stage)
        except BaseException:
            # Failed, Ctrl-C or SIGTERM before the switch: the output folder was never touched,
            # and the half-filled stage goes. A journaled commit in place is finished by the next run.
            abandon(stage)
            raise
    remember_index_files(cache, {job.key: result.files for job, result in results.items() if job.kind == "search"})
    cache.flush()
    content = plan.content
    report = BuildReport(
        articles=len(content.articles), pages=len(content.pages), copies=plan.copies, feeds=plan.feeds,
        written=written, unchanged=len(files) - written, deleted=len(stage.deletes) if stage else 0, cache_hits=cache.hits,
        seconds=0.0, warnings=tuple(sorted((*run.site.warnings, *plan.warnings, *rendered.warnings))), output_dir=out_dir,
        rendered={path: data for result in results.values() for path, data in result.rendered.items()}, patched=run.patched,
    )
    if stage is not None:
        next_due = min((a.date for a in content.scheduled), default=None)
        incremental.remember_build(cache, out_dir, files, incremental.Record(run.signature, token, next_due, report))
        if run.memory is not None:
            run.memory.snapshot = run.snapshot
            run.memory.patched += run.patched
    return report


def _keep_memos(run: _Run) -> None:
    run.cache.put_state("templates", run.theme.memo)
    run.theme.compiled.save()
    run.cache.put_state("statements", run.statements.saved(a.reprint.statement for a in run.site.authors.values() if a.reprint))
