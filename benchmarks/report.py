"""The benchmark's results and report: what each build wrote, and Markdown tables of medians.

`run.py` measures; this module holds the types of what it measured, counts the files a cold
build wrote (so a reader can see that the tools did comparable work), and turns the medians of
the interleaved rounds into the tables: work done, cold build on all cores and on one, the
incremental scenarios, and the ratios within the run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

CONTENTION_WARNING = 0.10  # share of the CPUs other jobs may take before the report warns

SCENARIO_LABELS = {
    "cold": "cold build (no cache, no output)",
    "no-change": "no-change rebuild",
    "article-edit": "one article edited",
    "template-edit": "base.html template edited",
    "config-edit": "site.yaml description edited",
    "serve-edit": "preview server: one article edited, until written",
}

# What the corpus folders hold, as the report names them.
SETUP_LABELS = {
    "syndicate": "syndicate",
    "syndicate-copies": "syndicate + copies",
    "pelican": "Pelican",
    "hugo": "Hugo",
    "syndicate-features": "syndicate, code, images, search",
    "pelican-features": "Pelican, code, images resized, search",
    "syndicate-features-copies": "syndicate + copies, code, images, search",
}
# Cold-build ratios: each syndicate setup against the peers' setups that did comparable work.
COLD_RATIO_PAIRS = (
    ("syndicate", "Pelican"),
    ("syndicate", "Hugo"),
    ("syndicate + copies", "Pelican"),
    ("syndicate + copies", "Hugo"),
    ("syndicate, code, images, search", "Pelican, code, images resized, search"),
    ("syndicate + copies, code, images, search", "Pelican, code, images resized, search"),
)

# The incremental tables: a caption, and the Measurement fields each cell shows (medians).
TABLES = (
    ("Wall-clock seconds:", ("seconds",)),
    ("CPU seconds, user + system over the whole process tree:", ("cpu_seconds",)),
    (
        "Peak memory, MB: largest single process (ru_maxrss) / whole process tree (PSS, sampled):",
        ("max_rss_mb", "tree_mb"),
    ),
)

# Incremental (scenario, other tool) pairs compared against each syndicate setup.
RATIO_PAIRS = (
    ("no-change", "pelican"),
    ("article-edit", "pelican"),
    ("no-change", "hugo"),
    ("serve-edit", "hugo"),
)
RATIO_FIELDS = ("seconds", "cpu_seconds", "max_rss_mb", "tree_mb")

# --- what a build wrote -------------------------------------------------------------------------

CATEGORIES = (
    "article pages",
    "index pages",
    "tag pages",
    "author pages",
    "archive, tag and author lists",
    "feeds",
    "syndicated copies, manifest",
    "images",
    "search page and index",
    "other files",
)
FEED_ITEMS = "feed items (all feeds)"
FEED_NAMES = {"feed.xml", "atom.xml", "feed.json", "index.xml", "rss.xml"}
_PATTERNS = (
    ("article pages", re.compile(r"articles/[^/]+/index\.html")),
    ("index pages", re.compile(r"index\.html|page/(?!1/)\d+/index\.html")),
    ("tag pages", re.compile(r"tags/[^/]+/index\.html")),
    ("author pages", re.compile(r"authors/[^/]+/index\.html")),
    # syndicate and Pelican write archive/; Hugo's archive is the articles section's page.
    ("archive, tag and author lists", re.compile(r"(archive|articles|tags|authors)/index\.html")),
    ("syndicated copies, manifest", re.compile(r"syndicate/[^/]+")),
    ("images", re.compile(r"images/.+")),
    ("search page and index", re.compile(r"search/index\.html|pagefind/.+")),
)
_ITEM = re.compile(rb"<item[ >]|<entry[ >]")


def classify(relative: str) -> str:
    """The report's name for one output file, from its path (the sites share URL shapes)."""
    name = relative.rsplit("/", 1)[-1]
    if name in FEED_NAMES or name.endswith((".atom.xml", ".rss.xml")):
        return "feeds"
    for category, pattern in _PATTERNS:
        if pattern.fullmatch(relative):
            return category
    return "other files"  # sitemap, robots.txt, 404, style sheets, Hugo's page/1/ redirect


def feed_items(path: Path, data: bytes) -> int:
    """Items in one feed: RSS items, Atom entries or JSON Feed items."""
    if path.suffix == ".json":
        with contextlib.suppress(ValueError, AttributeError):
            return len(json.loads(data).get("items", []))
        return 0
    return len(_ITEM.findall(data))


def census(out_dir: Path) -> dict[str, list[int]]:
    """Files and bytes per category under a build's output folder, and the items of its feeds."""
    counts = {category: [0, 0] for category in CATEGORIES}
    counts[FEED_ITEMS] = [0, 0]
    for path in out_dir.rglob("*"):
        if not path.is_file():
            continue
        category = classify(path.relative_to(out_dir).as_posix())
        size = path.stat().st_size
        counts[category][0] += 1
        counts[category][1] += size
        if category == "feeds":
            counts[FEED_ITEMS][0] += feed_items(path, path.read_bytes())
    return counts


# --- what was measured --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measurement:
    """One build as `measure.py` saw it, plus the result of checking its output."""

    seconds: float
    max_rss_mb: float
    tree_mb: float | None
    cpu_seconds: float
    returncode: int
    timed_out: bool
    other_cpu_share: float | None  # share of all CPUs that other jobs used during the build
    log: str
    # True: the output shows what the scenario should produce (every article page after a cold
    # build, the edit after an edit); False: it does not; None: nothing reliable to check.
    verified: bool | None = None
    written: dict[str, list[int]] | None = None  # census() of a cold build's output

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


@dataclass(frozen=True, slots=True)
class Skip:
    """A scenario that could not run in this round, with the reason shown in the report."""

    reason: str


Outcome = Measurement | Skip
Results = dict[int, dict[str, dict[str, list[Outcome]]]]  # size -> tool key -> scenario -> runs


class Column(Protocol):
    """What the report needs to know of a tool (run.Tool)."""

    key: str
    kind: str
    label: str
    site_name: str
    one_core: bool
    scenarios: tuple[str, ...]
    missing: str
    version: str


@dataclass(slots=True)
class RunState:
    """What a run has measured so far: filled round by round, reported at the end."""

    results: Results = field(default_factory=dict)
    manifests: dict[int, dict[str, object]] = field(default_factory=dict)
    # Fingerprints of syndicate's source, each with the first round that measured it.
    versions: dict[str, str] = field(default_factory=dict)


def ok_runs(outcomes: Sequence[Outcome]) -> list[Measurement]:
    return [item for item in outcomes if isinstance(item, Measurement) and item.ok]


def median_of(outcomes: Sequence[Outcome], attribute: str) -> float | None:
    values = [getattr(item, attribute) for item in ok_runs(outcomes)]
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


# --- tables -------------------------------------------------------------------------------------


def failure_text(outcomes: Sequence[Outcome]) -> str:
    skips = [item for item in outcomes if isinstance(item, Skip)]
    if skips and len(skips) == len(outcomes):
        return "skipped¹"
    failed = [item for item in outcomes if isinstance(item, Measurement) and not item.ok]
    if not failed:
        return "not run"
    first = failed[0]
    return "timeout" if first.timed_out else f"failed (exit {first.returncode})"


def figure_cell(
    tool: Column, scenario: str, outcomes: Sequence[Outcome] | None, attributes: Sequence[str]
) -> str:
    """Medians of the given attributes joined by " / ", or why there is no figure."""
    if tool.missing:
        return tool.missing.split(" (")[0]
    if scenario not in tool.scenarios:
        return "—"
    if not outcomes:
        return "not run"
    if not ok_runs(outcomes):
        return failure_text(outcomes)
    values = [median_of(outcomes, attribute) for attribute in attributes]
    digits = 0 if attributes[0].endswith("_mb") else 2
    text = " / ".join("?" if value is None else f"{value:.{digits}f}" for value in values)
    if any(item.verified is False for item in ok_runs(outcomes)):
        text += " †"
    failed = len(outcomes) - len(ok_runs(outcomes))
    return text + (f" ({failed} failed)" if failed else "")


def ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None or denominator == 0:
        return "n/a"
    return f"{numerator / denominator:.2f}×"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table whose first column is text and the others right-aligned figures."""
    rule = "|---|" + "---:|" * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", rule]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Setup:
    """One row of the cold-build table: a site, built on all cores and (maybe) on one."""

    label: str
    kind: str
    all_cores: Column | None
    one_core: Column | None


def setups(tools: Sequence[Column]) -> list[Setup]:
    """Group the tools by the site they build, in the order of SETUP_LABELS."""
    rows = []
    for site_name, label in SETUP_LABELS.items():
        group = [tool for tool in tools if tool.site_name == site_name]
        if group:
            every = next((tool for tool in group if not tool.one_core), None)
            one = next((tool for tool in group if tool.one_core), None)
            rows.append(Setup(label, group[0].kind, every, one))
    return rows


def work_table(size: int, tools: Sequence[Column], results: Results) -> str:
    """Files and MB each setup's cold build wrote, per kind of output."""
    by_tool = results.get(size, {})
    columns: list[tuple[str, dict[str, list[int]] | None]] = []
    for row in setups(tools):
        written = None
        for tool in (row.all_cores, row.one_core):
            if tool is not None:
                runs = ok_runs(by_tool.get(tool.key, {}).get("cold", []))
                written = written or next((m.written for m in runs if m.written), None)
        columns.append((row.label, written))

    def cell(written: dict[str, list[int]] | None, category: str) -> str:
        if written is None:
            return "not run"
        files, size_bytes = written.get(category, [0, 0])
        if category == FEED_ITEMS:
            return f"{files:,}"
        return f"{files:,} · {size_bytes / 2**20:.1f}" if files else "—"

    rows = [[category, *(cell(w, category) for _, w in columns)] for category in CATEGORIES]
    rows.append([FEED_ITEMS, *(cell(w, FEED_ITEMS) for _, w in columns)])
    totals = []
    for _, written in columns:
        if written is None:
            totals.append("not run")
            continue
        files = sum(written[c][0] for c in CATEGORIES)
        size_bytes = sum(written[c][1] for c in CATEGORIES)
        totals.append(f"{files:,} · {size_bytes / 2**20:.1f}")
    rows.append(["total", *totals])
    caption = "What each cold build wrote (files · MB; MB means 2^20 bytes):"
    return caption + "\n\n" + table(["output", *(label for label, _ in columns)], rows)


def cold_table(size: int, tools: Sequence[Column], results: Results) -> str:
    """Cold build wall and CPU on all cores and on one core, and memory, per setup."""
    by_tool = results.get(size, {})
    rows, ratios = [], []
    medians: dict[str, list[float | None]] = {}
    for row in setups(tools):
        cells, figures = [], []
        # Pelican builds in one process: its one build serves both columns.
        one = row.one_core or (row.all_cores if row.kind == "pelican" else None)
        marks = ("", "²" if one is not None and one is row.all_cores else "")
        for tool, mark in zip((row.all_cores, one), marks, strict=True):
            outcomes = by_tool.get(tool.key, {}).get("cold") if tool else None
            for attribute in ("seconds", "cpu_seconds"):
                if tool is None:
                    cells.append("not run")
                    figures.append(None)
                    continue
                cells.append(figure_cell(tool, "cold", outcomes, (attribute,)) + mark)
                figures.append(median_of(outcomes or [], attribute))
        memory = (
            figure_cell(
                row.all_cores,
                "cold",
                by_tool.get(row.all_cores.key, {}).get("cold"),
                ("max_rss_mb", "tree_mb"),
            )
            if row.all_cores
            else "not run"
        )
        rows.append([row.label, *cells, memory])
        medians[row.label] = figures
    header = [
        "setup",
        "wall, all cores",
        "CPU, all cores",
        "wall, one core",
        "CPU, one core",
        "memory MB, all cores",
    ]
    parts = [
        "Cold build (no output, no cache): seconds, CPU = user + system over the whole process "
        "tree; memory = largest single process / whole tree:",
        "",
        table(header, rows),
    ]
    for mine, other in COLD_RATIO_PAIRS:
        if mine in medians and other in medians:
            pairs = zip(medians[mine], medians[other], strict=True)
            ratios.append([f"{mine} ÷ {other}", *(ratio(a, b) for a, b in pairs)])
    if ratios:
        parts += [
            "",
            "Cold build ratios within this run (below 1 means syndicate is faster or uses less "
            "CPU):",
            "",
            table(["comparison", *header[1:5]], ratios),
        ]
    return "\n".join(parts)


def incremental_tables(size: int, tools: Sequence[Column], results: Results) -> str:
    """The scenarios after the cold build, all cores, one column per setup."""
    by_tool = results.get(size, {})
    columns = [
        row.all_cores
        for row in setups(tools)
        if row.all_cores is not None and set(row.all_cores.scenarios) - {"cold"}
    ]
    scenarios = [
        key
        for key in SCENARIO_LABELS
        if key != "cold" and any(key in tool.scenarios for tool in columns)
    ]
    if not columns:
        return "No builds after the cold build in this run."
    parts = ["Builds after the cold build, all cores:"]
    for caption, attributes in TABLES:
        rows = []
        for scenario in scenarios:
            cells = [
                figure_cell(tool, scenario, by_tool.get(tool.key, {}).get(scenario), attributes)
                for tool in columns
            ]
            rows.append([SCENARIO_LABELS[scenario], *cells])
        header = ["scenario", *(SETUP_LABELS[tool.site_name] for tool in columns)]
        parts += ["", caption, "", table(header, rows)]
    ratio_rows = []
    for mine in (tool for tool in columns if tool.kind == "syndicate"):
        for scenario, other_kind in RATIO_PAIRS:
            other = next((tool for tool in columns if tool.kind == other_kind), None)
            if other is None or other.missing or mine.missing or scenario not in mine.scenarios:
                continue
            a = by_tool.get(mine.key, {}).get(scenario, [])
            b = by_tool.get(other.key, {}).get(scenario, [])
            label = f"{SCENARIO_LABELS[scenario]}: {SETUP_LABELS[mine.site_name]} ÷ {other.label}"
            ratio_rows.append(
                [label, *(ratio(median_of(a, k), median_of(b, k)) for k in RATIO_FIELDS)]
            )
    if ratio_rows:
        parts += [
            "",
            "Ratios within this run (below 1 means syndicate is faster or smaller):",
            "",
            table(["comparison", "wall time", "CPU time", "max RSS", "tree memory"], ratio_rows),
        ]
    return "\n".join(parts)


def report_size(size: int, tools: Sequence[Column], results: Results, repeat: int) -> str:
    rounds = f"median of {repeat} interleaved round{'s' * (repeat > 1)}"
    return "\n\n".join(
        [
            f"### {size:,} articles ({rounds})",
            work_table(size, tools, results),
            cold_table(size, tools, results),
            incremental_tables(size, tools, results),
        ]
    )


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def contention_note(results: Results) -> str:
    """Say how much CPU other jobs took during the builds; a shared machine makes figures noisy."""
    shares = [
        item.other_cpu_share
        for per_tool in results.values()
        for scenarios in per_tool.values()
        for outcomes in scenarios.values()
        for item in ok_runs(outcomes)
        if item.other_cpu_share is not None
    ]
    if not shares:
        return "CPU use by other jobs during the builds: not measured"
    text = (
        f"CPU use by other jobs during the builds: median {statistics.median(shares):.0%}, "
        f"max {max(shares):.0%} of all CPUs"
    )
    if max(shares) > CONTENTION_WARNING:
        text += " (the machine was shared: treat wall times as noisy, CPU times less so)"
    return text


def report(
    tools: Sequence[Column],
    results: Results,
    manifests: dict[int, dict[str, object]],
    repeat: int,
    notes: Sequence[str],
) -> str:
    lines = [
        f"## Benchmark run {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        "",
        f"- machine: {cpu_model()}, {os.cpu_count()} logical CPUs, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
    ]
    for kind in dict.fromkeys(tool.kind for tool in tools):
        tool = next(tool for tool in tools if tool.kind == kind)
        lines.append(f"- {tool.label}: {tool.missing or tool.version}")
    for size, manifest in manifests.items():
        lines.append(
            f"- corpus {size:,}: {manifest['words']:,} words, seed {manifest['seed']}; "
            f"index pages of {manifest.get('page_size', '?')}, feeds of "
            f"{manifest.get('feed_items', '?')} items; copies for "
            f"{manifest.get('copies_articles', '?')} articles in the copies setup"
        )
    lines += [f"- {note}" for note in [contention_note(results), *notes]]
    for size in manifests:
        lines += ["", report_size(size, tools, results, repeat)]
    lines += [
        "",
        "syndicate: the parity setup, the same work as Pelican's and Hugo's sites (no author has "
        "reprint terms, so no syndicated copies). syndicate + copies: the same site with reprint "
        "terms for two of the four authors: their articles also get an HTML snippet, a "
        "plain-text and a Markdown copy, a manifest entry, the reprint offer on the page and "
        "the statement in every feed item, work the other tools do not do. syndicate + copies, "
        "code, images, search: the copies site with a highlighted code block in every other "
        "article, a 1600x900 JPEG lead image in every fifth (resized to three widths for "
        "srcset) and the Pagefind index; Pelican, code, images resized, search: the same code "
        "blocks (highlighted by Pygments through codehilite), the same images resized to the "
        "same widths with the same Pillow settings (the plugin in benchmarks/pelican_plugins/) "
        "and Pagefind run on its article pages after the build. One core: "
        "`--jobs 1` for syndicate, `GOMAXPROCS=1` for Hugo. "
        "— not applicable to this tool. † the output failed its check (a cold build wrote fewer "
        "article pages than there are articles, or an edit was missing from the rebuilt page). "
        "¹ the corpus has no templates/base.html override because syndicate/theme/base.html "
        "was not found. ² Pelican builds in one process: the same builds as the all-cores "
        "columns.",
    ]
    return "\n".join(lines)
