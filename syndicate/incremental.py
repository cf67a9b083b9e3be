"""Incremental builds: what a build may skip, why skipping it is safe, and what a build
leaves behind for the next one.

**What a build leaves: one record, in two halves written in one commit.** The commit
(output.py) writes the marker file `.syndicate-output` into the new output folder in the
same instant as the site: a fresh *token*, and every file it wrote with its size and mtime
(marker.py). The cache keeps, under the same token, what the marker cannot say cheaply:
the `Manifest` (for each output path, the key of the job that made it and the digest and
size of its bytes) and the `Record` (the signature and report of the build). The marker
travels with the folder (it is swapped with it, and survives a lost cache); the cache half
counts only for files the marker lists under the same token, with the same size, that the
disk still holds as the marker says (`trusted_manifest`). So the two halves cannot
disagree: where they would (another build's folder, a file edited, deleted or replaced by a
symlink in `output/`, a folder swapped for a link, a cache restored from elsewhere), the
file is simply not vouched for, and is rendered and compared again. The disk is the truth;
the record only lets a build skip looking inside files.

**How it is written.** Changed files go to a stage; the commit makes the stage and the kept
files the output folder at one instant: by swapping the folder with its hard-linked twin in
`.syndicate-cache/swap-*` (`renameat2(RENAME_EXCHANGE)`), or, where the folder cannot be
swapped (a bind mount, another file system), file by file under a journal that the next
build finishes (or undoes) before anything reads the folder (`output.recover`). Either way
the marker is the last thing a commit makes true: an interrupted commit leaves an old
token, or no trusted files, never a record of files that are not there.

The invalidation model, from the cheapest check to the most thorough:

1. **Nothing changed: no work.** A build reads the settings, the templates, its options
   (the *frame*) and every content file by name, size and mtime: together, the *signature*.
   When the signature equals the `Record`'s, the marker carries the record's token, every
   file the marker lists is still there with its size and mtime (one `lstat` each) and no
   scheduled article has come due, the last build's report is the answer: nothing is read,
   rendered or written. A page deleted or edited in `output/` fails this check and is
   written again.
2. **A few article bodies changed: patch the last plan.** A `Snapshot` is the last full
   plan (every article, its relations and every job with its key) with the frame and the
   file stats it was made from. When only a few published articles changed since, and each
   keeps its slug, its place, everything a listing shows (`meta_hash`), its flags, its
   credit and its heading anchors, then nothing but their own pages and copies, the feeds,
   the feeds of their tags and the full newsletter issues that carry them (with the issues'
   feed) can show the change: the plan is patched with those files read again
   (`patched_plan`), not made from all of them. An issue file is not an article: editing
   one plans afresh. The preview server keeps its snapshot in memory; every other build
   finds the last full one in the cache, as a pickle signed with this user's key
   (cache.py): only a plan this user's builds made is ever unpickled.
3. **Otherwise: plan everything, render what changed.** Every output has a *key*, a hash of
   every input that shows in it (`plan.py`: the article's bytes, its neighbours' and related
   articles' listing fields, the templates it uses with what they include — `Fingerprints`
   — and the settings; a newsletter issue's key holds its own file and, for each of its
   articles, what the issue shows of it: listing fields, and in a full issue the bytes).
   A job whose key equals the trusted manifest's for every one of its files, all intact
   on disk, is not rendered, and a rendered file whose bytes equal the ones on disk is not
   written. Files the marker lists that no job makes any more are deleted; nothing the
   marker does not list (`CNAME`, `.git/`, the user's files) ever is.

The cache itself is untrusted data (codec.py) and starts afresh when syndicate's code
changes (cache.py). A build with `--clean` renders everything, and still deletes only
what the marker lists.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from . import __version__
from .cache import Cache, Manifest, Memory, digest
from .content import Content, LazyMarkdown, LinkFacts, PackedLinkFacts, SourceFile, read_entries
from .highlight import PYGMENTS_VERSION
from .images import is_raster
from .issues import TEMPLATES as NEWSLETTER_TEMPLATES
from .issues import Issue
from .marker import Record as WrittenRecord
from .marker import Seen
from .model import Article, Asset, BuildOptions, BuildReport, Site, Tag
from .pages import PageContext
from .plan import Job, Plan, article_job, check_links, feeds_job, issue_jobs, search_job, tag_job
from .rasters import raster_twins
from .theme import Theme

Scanned = tuple[list[SourceFile], list[Asset]]
PATCH_AT_MOST = 20  # changed files; more than that is not "a save or two", and a full plan is as quick


# Keys -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fingerprints:
    """The parts of every key that come from the settings and templates, not from articles."""

    base: str
    pages: dict[str, str]  # template name -> its fingerprint mixed with `base`
    copies: str
    images: dict[str, str]  # lead image site path -> the key of its file and copies
    newsletter: str = ""  # the newsletter's templates (issues.TEMPLATES), mixed with `base`


def fingerprints(site: Site, theme: Theme, ctx: PageContext, assets: Sequence[Asset] = ()) -> Fingerprints:
    """`assets`: the site's files, for the raster images that stand in for SVGs in copies
    (rasters.raster_twins) and, in newsletters, the size of every image (the e-mail shows a
    narrow one at its own width): an issue is made again when one of them changes."""
    twins = raster_twins([asset.path for asset in assets])
    images = [a.stamp for a in assets if is_raster(a.path)]
    base = digest(site.fingerprint, str(ctx.now.year), str(ctx.show_drafts), str(ctx.has_newsletter), __version__,
                  ctx.style_version, *(f"{p.path}\0{p.title}\0{p.url}" for p in ctx.nav))  # every page links the styles by version
    pages = {name: digest(base, theme.fingerprint(name)) for name in (
        "index.html", "article.html", "page.html", "tag.html", "author.html", "archive.html", "404.html", "tags.html",
        "authors.html", "search.html", "catalogue.html")}
    copies = digest(PYGMENTS_VERSION, theme.fingerprint("snippet.html"), theme.fingerprint("snippet.txt"),
                    theme.fingerprint("snippet.md"), theme.fingerprint("snippet.css"), *twins)
    newsletter = digest(base, PYGMENTS_VERSION, *(theme.fingerprint(name) for name in NEWSLETTER_TEMPLATES), *twins, *images)
    return Fingerprints(base, pages, copies, {path: info.key for path, info in ctx.images.items()}, newsletter)


def frame(site: Site, theme: Theme, options: BuildOptions, now: datetime, out_dir: Path) -> str:
    """Everything a build reads except the content files: settings, templates, options."""
    templates = [f"{name}\0{text}" for name, text in sorted(theme.sources.items())]
    flags = repr((options.include_drafts, options.mark_drafts, str(out_dir), now.year))
    return digest(site.fingerprint, flags, *templates)


def signature(frame: str, scanned: Scanned) -> str:
    """Everything a build reads, by name, size and mtime: equal signatures, equal output."""
    sources, assets = scanned
    files = [f"{s.rel}\0{s.size}\0{s.mtime_ns}" for s in sources] + [a.stamp for a in assets]
    return digest(frame, *files)


# The record of the last build -------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """The last successful build into one output folder, for the no-work check."""

    signature: str
    token: str  # the marker token it left in the folder
    next_due: datetime | None  # when its first scheduled article comes due
    report: BuildReport  # with its warnings


def up_to_date(cache: Cache, signature: str, now: datetime, out_dir: Path, seen: Callable[[], Seen]) -> BuildReport | None:
    """The last build's report when nothing it read has changed since and every file it wrote
    is still in the output folder as it left it (`seen`, asked only then): no work at all."""
    record = cache.get_state(f"record:{out_dir}")
    if not isinstance(record, Record) or record.signature != signature:
        return None
    if record.next_due is not None and now >= record.next_due:
        return None  # a scheduled article is due: it must appear now
    found = seen()
    written = found.record
    if written is None or not record.token or written.token != record.token:
        return None
    if written.files is None or found.missing:
        return None  # a file was deleted, edited or replaced in the output folder: restore it
    report = record.report
    return replace(report, written=0, deleted=0, unchanged=report.written + report.unchanged, cache_hits=cache.hits)


def trusted_manifest(cache: Cache, out_dir: Path, written: WrittenRecord | None, intact: set[str]) -> Manifest:
    """The last build's manifest, for the files the marker lists with the manifest's token and
    size that the disk still holds as they were written (`intact`): nothing else is vouched for."""
    if written is None or not written.token or written.files is None:
        return {}
    token, files = cache.manifest(str(out_dir))
    if token != written.token:
        return {}
    sizes = written.files
    return {path: entry for path, entry in files.items() if path in intact and entry[2] == sizes[path][0]}


def is_unchanged(job: Job, old: Manifest, on_disk: set[str]) -> bool:
    """A job whose key made every one of its files, all still in the folder."""
    for path in job.paths:
        entry = old.get(path)
        if entry is None or entry[0] != job.key or path not in on_disk:
            return False
    return True


def remember_build(cache: Cache, out_dir: Path, files: Manifest, record: Record) -> None:
    cache.put_manifest(str(out_dir), record.token, files)
    cache.put_state(f"record:{out_dir}", replace(record, report=replace(record.report, rendered={})))


# Snapshots and patched plans ----------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """A full plan and the files it was made from: what a save of an article body patches."""

    frame: str
    sources: dict[str, tuple[int, int]]  # rel -> (size, mtime_ns)
    assets: list[tuple[str, int, int]]
    plan: Plan
    positions: dict[str, int]  # each article's index in plan.content.articles, by source


def take_snapshot(frame: str, scanned: Scanned, plan: Plan) -> Snapshot:
    files, assets = scanned
    kept = replace(plan, content=replace(plan.content, links=PackedLinkFacts.pack(plan.content.links)))
    return Snapshot(frame, {s.rel: (s.size, s.mtime_ns) for s in files}, [(a.path, a.size, a.mtime_ns) for a in assets],
                    kept, {a.source: index for index, a in enumerate(plan.content.articles)})


def save_snapshot(cache: Cache, out_dir: Path, snapshot: Snapshot) -> None:
    """Keep a full plan for the next build: its head (frame, file stats) apart from the rest,
    so that a build which cannot patch it never loads the whole plan."""
    pair = secrets.token_hex(8)  # the head and its plan are written apart: only the pair written together counts
    cache.put_signed(f"snapshot:{out_dir}", (pair, replace(snapshot, sources={}, assets=[], positions={})))
    cache.put_signed(f"snapshot-head:{out_dir}", (pair, snapshot.frame, snapshot.sources, snapshot.assets))


def last_snapshot(cache: Cache, memory: Memory | None, frame: str, scanned: Scanned, out_dir: Path) -> Snapshot | None:
    """The snapshot this build might patch: the preview server's own, else the cache's."""
    if memory is not None and memory.snapshot is not None:
        return memory.snapshot if memory.snapshot.frame == frame else None
    if not cache.enabled:
        return None
    head = cache.get_signed(f"snapshot-head:{out_dir}", counted=False)
    if not isinstance(head, tuple) or len(head) != 4 or head[1] != frame:
        return None
    pair, _frame, sources, assets = head
    if _changed(sources, assets, scanned) is None:
        return None
    stored = cache.get_signed(f"snapshot:{out_dir}")
    if not isinstance(stored, tuple) or len(stored) != 2 or stored[0] != pair:
        return None
    kept = stored[1]
    if not isinstance(kept, Snapshot) or kept.frame != frame:
        return None
    positions = {a.source: index for index, a in enumerate(kept.plan.content.articles)}  # quicker made than unpickled
    return replace(kept, sources=sources, assets=assets, positions=positions)


def _changed(known: Mapping[str, tuple[int, int]], known_assets: list[tuple[str, int, int]],
             scanned: Scanned) -> list[SourceFile] | None:
    """The content files changed since a snapshot, when that is a few edits and nothing else."""
    sources, assets = scanned
    if len(sources) != len(known) or [(a.path, a.size, a.mtime_ns) for a in assets] != known_assets:
        return None
    changed = [s for s in sources if known.get(s.rel) != (s.size, s.mtime_ns)]
    if len(changed) > PATCH_AT_MOST or any(s.rel not in known for s in changed):
        return None
    return changed


def patched_plan(site: Site, snapshot: Snapshot, scanned: Scanned, now: datetime, cache: Cache,
                 markdown: LazyMarkdown, out_dir: Path) -> tuple[Plan, Snapshot] | None:
    """The snapshot's plan with the articles changed since read again, and the snapshot to keep
    after this build; None when the change is more than article bodies (plan afresh), never a guess."""
    changed = _changed(snapshot.sources, snapshot.assets, scanned)
    previous = snapshot.plan
    if changed is None or any(a.date <= now for a in previous.content.scheduled):
        return None  # files came or went, or a scheduled article is due
    patched = patch_content(site, previous.content, snapshot.positions, changed, cache, markdown) if changed else (previous.content, {})
    if patched is None:
        return None
    content, fresh = patched
    touched = {t.slug for a in fresh.values() for t in a.tags}
    tags = {tag: [fresh.get(a.slug, a) for a in members] if tag.slug in touched else members
            for tag, members in previous.tags.items()}
    jobs = patch_jobs(site, previous.fp, previous.jobs, content, set(fresh), previous.near, previous.related, tags,
                      previous.issues)
    if site.search:
        jobs = [search_job(site, cache, content, out_dir) if job.kind == "search" else job for job in jobs]
    renewed = {a.source for a in fresh.values()}
    links = {source: found for source, found in previous.links.items() if source not in renewed}
    links.update(check_links(content, previous.paths, only=renewed))
    ctx = replace(previous.ctx, site=site, now=now)
    plan = replace(previous, content=content, ctx=ctx, tags=tags, jobs=jobs, links=links)
    sources = dict(snapshot.sources)
    sources.update((s.rel, (s.size, s.mtime_ns)) for s in changed)
    return plan, replace(snapshot, sources=sources, plan=plan)


def patch_content(site: Site, previous: Content, positions: Mapping[str, int], changed: Sequence[SourceFile],
                  cache: Cache, markdown: LazyMarkdown) -> tuple[Content, dict[str, Article]] | None:
    """`previous` with the changed articles read again, when nothing a listing shows changed.

    None (plan everything the usual way) unless every changed file is a published article that
    keeps its slug, its place, its listing fields, its flags, its credit and its anchors, and
    reads without a problem. Returns the new content and the renewed articles by slug."""
    if any(source.shown not in positions for source in changed):  # a page, a draft, a scheduled article
        return None
    read = read_entries(site, changed, cache, markdown)
    if read is None:
        return None
    entries, rendered = read
    articles = list(previous.articles)
    renewed: dict[str, Article] = {}
    links: dict[str, LinkFacts] = {}
    body_files = dict(previous.body_files)
    for source in changed:
        entry, before = entries[source.rel], articles[positions[source.shown]]
        after = entry.document
        if entry.problems or not isinstance(after, Article) or (
                after.slug, after.meta_hash, after.syndicate, after.original, after.authors, after.aliases, after.is_draft) != (
                before.slug, before.meta_hash, before.syndicate, before.original, before.authors, before.aliases,
                before.is_draft):
            return None  # (a future-dated article a preview marks as a draft is planned afresh)
        if entry.ids != previous.links[before.source].ids:
            return None  # other articles' links to its anchors must be checked again
        renewed[after.slug] = articles[positions[source.shown]] = after
        links[after.source] = entry.link_facts
        body_files[after.body_key] = (source.rel, entry.source_dir)
    shown = {source.shown for source in changed}
    warnings = [w for w in previous.warnings if w.path not in shown] + [w for s in changed for w in entries[s.rel].warnings]
    content = replace(
        previous,
        articles=tuple(articles),
        body_files=body_files,
        bodies=previous.bodies if cache.enabled else {**previous.bodies, **rendered},
        warnings=tuple(sorted(warnings, key=lambda w: w.path)),  # stable: a file's own order stays
        links=PackedLinkFacts.pack(previous.links).replaced(links),
    )
    return content, renewed


def patch_jobs(site: Site, fp: Fingerprints, jobs: Sequence[Job], content: Content, renewed: set[str],
               near: Mapping[str, tuple[Article | None, Article | None]], related: Mapping[str, list[Article]],
               tags: dict[Tag, list[Article]], issues: Sequence[Issue] = ()) -> list[Job]:
    """The last plan's jobs with the keys that show the renewed articles' bodies made again:
    their own pages and copies, the feeds, the feeds of their tags, and the newsletter issues
    (listings show nothing of a body that their keys do not already cover; an issue's key
    says whether it shows the body)."""
    replaced: dict[tuple[str, str], Job] = {}
    by_slug = {tag.slug: (tag, members) for tag, members in tags.items()}
    assets = {asset.path: asset for asset in content.assets}
    for article in content.articles:
        if article.slug in renewed:
            replaced["article", article.slug] = article_job(fp, article, near, related, content, assets)
            for tag in article.tags:
                replaced["tag", tag.slug] = tag_job(site, fp, *by_slug[tag.slug])
    if renewed:
        replaced["feeds", "feeds"] = feeds_job(site, fp, content.articles)
        replaced.update(((job.kind, job.name), job) for job in issue_jobs(fp, issues, {a.slug: a for a in content.articles}))
    return [replaced.get((job.kind, job.name), job) for job in jobs]

