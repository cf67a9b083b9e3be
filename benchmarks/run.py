"""Benchmark syndicate against Pelican and Hugo on generated corpora, and print Markdown tables.

For each corpus size the same articles are generated as a syndicate, a Pelican and a Hugo site
(`make_corpus.py`). Each round then runs, per tool, the scenarios that tool supports; the order
of the tools rotates from round to round, so a slow drift of the machine (thermal, page cache,
another job) is spread over all tools instead of landing on one. Reported figures are medians
over rounds, and the ratios compare tools measured side by side within this one run.

Every build runs in a fresh `measure.py` process, under a timeout, in a temporary folder outside
the repository. A tool that is not installed is reported as such; nothing is ever estimated.
Each build's output is checked (every article page after a cold build, the edit in the rebuilt
page after an edit), so a build that skips work it owed cannot pass as fast: such a figure is
flagged with a dagger.

Usage:
    python benchmarks/run.py --sizes 1000 --repeat 3
    python benchmarks/run.py --pelican /path/to/venv/bin/pelican --json results.json
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(HERE))

# Sibling scripts, not a package.
from make_corpus import extra_sentence, make_corpus  # noqa: E402
from report import (  # noqa: E402
    SCENARIO_LABELS,
    SETUP_LABELS,
    Measurement,
    Outcome,
    Results,
    RunState,
    Skip,
    census,
    report,
)

DEFAULT_SIZES = (1000, 5000, 10000)
PROBE_TIMEOUT = 120  # seconds for a version or import check
SERVE_EDITS = 3  # edits per round under one running preview server; the round reports their median
SERVE_TIMEOUT = 60.0  # seconds an edit may take to show before the round counts as failed


@dataclass(slots=True)
class Tool:
    """One way of running a generator: the tool, the site it builds and how many cores it may use.

    One generator gives several of these (syndicate on the parity site and on the site with its
    copies, each on all cores and on one), each a column of its own in the report.
    """

    key: str  # unique within a run: the key of its results
    kind: str  # which generator: syndicate, pelican or hugo
    label: str
    scenarios: tuple[str, ...]
    site_name: str = ""  # the corpus folder it builds (make_corpus.FORMATS); default: kind
    one_core: bool = False  # --jobs 1 for syndicate, GOMAXPROCS=1 for Hugo
    command: list[str] | None = None
    version: str = ""
    missing: str = ""  # why the tool cannot run; empty when it can
    source_dir: Path | None = None  # syndicate's package folder, watched for edits during a run
    pagefind: str = ""  # Pagefind's binary, run after Pelican on its features site
    env: dict[str, str] = field(default_factory=lambda: build_env())

    def __post_init__(self) -> None:
        self.site_name = self.site_name or self.kind

    def variant(
        self, key: str, label: str, site_name: str, one_core: bool, cold_only: bool = False
    ) -> Tool:
        """The same installed tool on another site or core count (one core: cold builds only)."""
        env = dict(self.env, GOMAXPROCS="1") if one_core and self.kind == "hugo" else self.env
        scenarios = ("cold",) if one_core or cold_only else self.scenarios
        missing = self.missing
        if site_name == "pelican-features" and not self.pagefind and not missing:
            missing = "no Pagefind to index its output (syndicate's Python has no `pagefind`)"
        return dataclasses.replace(
            self,
            missing=missing,
            key=key,
            label=label,
            site_name=site_name,
            one_core=one_core,
            scenarios=scenarios,
            env=env,
        )

    def build_command(self, site: Path) -> list[str]:
        """The argv of one build; every tool writes into a folder inside its own site."""
        assert self.command is not None
        if self.kind == "syndicate":
            jobs = ["--jobs", "1"] if self.one_core else []
            return [*self.command, "build", "--site", str(site / "site.yaml"), *jobs]
        if self.kind == "pelican":
            # --fatal errors: Pelican otherwise skips a file it cannot read and finishes faster.
            build = [*self.command, *"content -s pelicanconf.py -o output --fatal errors".split()]
            if self.site_name != "pelican-features":
                return build
            # The features site also gets the search index syndicate makes: Pagefind over the
            # article pages (each page's <article>: title, byline and body), as a Pelican user
            # adds it, after the build. One command, so its time and CPU are the build's.
            index = [self.pagefind, *PELICAN_PAGEFIND_ARGS]
            script = f"{shlex.join(build)} && {shlex.join(index)}"
            return ["sh", "-c", script]
        return [
            *self.command,
            "--source",
            str(site),
            "--destination",
            "public",
            "--cacheDir",
            str(site / ".hugo-cache"),
        ]

    def output_dir(self, site: Path) -> Path:
        return site / ("public" if self.kind == "hugo" else "output")

    def state_paths(self, site: Path) -> list[Path]:
        """Everything a cold build must not find: the output folder and every cache."""
        names = {
            "syndicate": ["output", ".syndicate-cache"],
            "pelican": ["output", "cache"],
            "hugo": ["public", "resources", ".hugo-cache", ".hugo_build.lock"],
        }[self.kind]
        return [site / name for name in names]

    def serve_command(self, site: Path, port: int) -> list[str]:
        """A preview server that watches the site and writes every rebuild to disk."""
        assert self.command is not None
        if self.kind == "syndicate":
            return [*self.command, "serve", "--site", str(site / "site.yaml"), "--port", str(port)]
        return [
            *self.command,
            "server",
            "--source",
            str(site),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--renderToDisk",
            "--disableLiveReload",
            "--disableFastRender",
            "--destination",
            "public",
            "--cacheDir",
            str(site / ".hugo-cache"),
        ]

    def served_page(self, site: Path, slug: str) -> Path:
        if self.kind == "syndicate":
            return site / ".syndicate-cache" / "serve" / "articles" / slug / "index.html"
        return self.article_page(site, slug)

    def article_page(self, site: Path, slug: str) -> Path:
        """All the sites are configured to publish an article at articles/<slug>/."""
        return self.output_dir(site) / "articles" / slug / "index.html"


def build_env() -> dict[str, str]:
    """This environment, less PYTHONDONTWRITEBYTECODE: with it, every fresh Python process
    compiles the source of each module it imports again (about 0.1 s for syndicate), which no
    installed tool pays, since pip and the first import write the compiled files."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def probe(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run a quick check command; any failure to start counts as a non-zero exit."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=PROBE_TIMEOUT, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return 1, str(error)
    return done.returncode, (done.stdout + done.stderr).strip()


def find_syndicate(override: str | None) -> Tool:
    """Benchmark this checkout's package: PYTHONPATH puts the repository first."""
    tool = Tool("syndicate", "syndicate", "syndicate", tuple(SCENARIO_LABELS))
    path = os.pathsep.join(filter(None, [str(REPO_ROOT), tool.env.get("PYTHONPATH", "")]))
    tool.env["PYTHONPATH"] = path
    check = (
        "import importlib.util, syndicate; "
        "print(getattr(syndicate, '__version__', '?'), syndicate.__file__, "
        "importlib.util.find_spec('syndicate.__main__') is not None)"
    )
    code, text = probe([sys.executable, "-c", check], tool.env)
    if override:
        tool.command = shlex.split(override)
        tool.version = text.split("\n")[-1] if code == 0 else "unknown version"
        return tool
    if code != 0:
        tool.missing = "not installed (`import syndicate` failed)"
        return tool
    version, location, has_main = text.split("\n")[-1].rsplit(" ", 2)
    tool.version = f"{version} ({location})"
    tool.source_dir = Path(location).parent
    # Compiled once before the builds, as an installed package is (see build_env).
    probe([sys.executable, "-m", "compileall", "-q", str(tool.source_dir)], tool.env)
    if has_main == "True":
        tool.command = [sys.executable, "-m", "syndicate"]
    elif script := shutil.which("syndicate"):
        tool.command = [script]
    else:
        tool.missing = "not runnable (no syndicate/__main__.py and no `syndicate` script)"
    return tool


PELICAN_PAGEFIND_ARGS = (
    "--site", "output", "--glob", "articles/**/*.html", "--root-selector", "article",
    "--output-path", "output/pagefind", "--silent", "--force-language", "en",
)  # fmt: skip


def find_pagefind() -> str:
    """The Pagefind binary syndicate runs (the one its Python package ships), or ""."""
    code = "from pagefind.service import get_executable; print(get_executable() or '')"
    status, text = probe([sys.executable, "-c", code])
    return text.splitlines()[-1] if status == 0 and text else ""


def find_pelican(override: str | None) -> Tool:
    tool = Tool("pelican", "pelican", "Pelican", ("cold", "no-change", "article-edit"))
    if override:
        tool.command = shlex.split(override)
    elif script := shutil.which("pelican"):
        tool.command = [script]
    elif probe([sys.executable, "-c", "import pelican"])[0] == 0:
        tool.command = [sys.executable, "-m", "pelican"]
    else:
        tool.missing = "not installed"
        return tool
    code, text = probe([*tool.command, "--version"])
    if code != 0:
        tool.command, tool.missing = None, f"not runnable ({text.splitlines()[-1:]})"
    else:
        tool.version = text.splitlines()[-1]
        tool.pagefind = find_pagefind()
    return tool


def find_hugo(override: str | None) -> Tool:
    tool = Tool("hugo", "hugo", "Hugo", ("cold", "no-change", "serve-edit"))
    binary = override or shutil.which("hugo")
    if binary is None:
        tool.missing = "not installed"
        return tool
    code, text = probe([binary, "version"])
    if code != 0:
        tool.missing = "not runnable"
    else:
        tool.command, tool.version = [binary], text.splitlines()[0]
    return tool


def source_fingerprint(folder: Path) -> str:
    """A hash of every file in the package: the team edits syndicate while benchmarks run, and
    a run whose rounds measured different code must say so."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def measure(tool: Tool, site: Path, log: Path, timeout: float, interval: float) -> Measurement:
    """Run one build inside a fresh measure.py process; see measure.py for the memory figures."""
    wrapper = [
        sys.executable,
        str(HERE / "measure.py"),
        "--timeout",
        str(timeout),
        "--log",
        str(log),
        "--cwd",
        str(site),
        "--interval",
        str(interval),
        "--",
        *tool.build_command(site),
    ]
    with subprocess.Popen(wrapper, env=tool.env, stdout=subprocess.PIPE, text=True) as process:
        try:
            stdout, _ = process.communicate(timeout=timeout + 120)
        except BaseException:  # Ctrl-C or a hung wrapper: never leave a build running behind us
            process.terminate()  # measure.py then kills its build's whole session
            process.wait()
            raise
    try:
        return Measurement(**json.loads(stdout), log=str(log))
    except json.JSONDecodeError:
        # measure.py itself was killed (by a person or a pattern-matching pkill): a failed build.
        return Measurement(0.0, 0.0, None, 0.0, process.returncode or -1, False, None, str(log))


@contextlib.contextmanager
def restored(paths: Sequence[Path]) -> Iterator[None]:
    """Put the edited files back as they were, so every round starts from the same corpus."""
    saved = {path: path.read_bytes() for path in paths if path.exists()}
    try:
        yield
    finally:
        for path, data in saved.items():
            path.write_bytes(data)


def page_contains(path: Path, marker: str) -> bool:
    try:
        return marker in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


@dataclass(frozen=True, slots=True)
class RoundContext:
    """Everything one tool's round needs to know besides the tool itself."""

    site: Path
    manifest: dict[str, object]
    size: int
    round_no: int
    logs: Path
    timeout: float
    interval: float


Check = Callable[[], bool | None]


def apply_edit(tool: Tool, scenario: str, ctx: RoundContext) -> Check | Skip | None:
    """Make one scenario's change to the site and return how to check the build's output.

    The check returns True when the output shows the work the build owed (every article page
    after a cold build, the edit after an edit), False when it does not, and None when the
    output gives no reliable place to look.
    """
    site, slug = ctx.site, str(ctx.manifest["edit_slug"])
    marker = f"zq{ctx.size}r{ctx.round_no}{scenario[0]}"  # no generated word contains "zq"
    page = tool.article_page(site, slug)
    if scenario == "cold":
        expected = int(str(ctx.manifest["articles"]))
        return lambda: len(list(page.parent.parent.glob("*/index.html"))) == expected
    if scenario == "no-change":
        return None
    if scenario == "article-edit":
        edit_paths = ctx.manifest["edit_paths"]
        assert isinstance(edit_paths, dict)
        with (site / edit_paths[tool.site_name]).open("a", encoding="utf-8") as handle:
            handle.write(f"\n{extra_sentence(ctx.round_no)} ({marker})\n")
        return lambda: page_contains(page, marker)
    if scenario == "template-edit":
        if not ctx.manifest.get("template_override"):
            return Skip("no syndicate/theme/base.html to override")
        with (site / "templates" / "base.html").open("a", encoding="utf-8") as handle:
            handle.write(f"\n<!-- {marker} -->\n")
        return lambda: page_contains(page, marker)
    # config-edit: a new description, which the built-in theme is free to show or not.
    config = site / "site.yaml"
    line = f"description: {json.dumps(f'{extra_sentence(ctx.round_no + 1000)} ({marker})')}"
    text = re.sub(
        r"^description: .*$",
        lambda _: line,
        config.read_text(encoding="utf-8"),
        count=1,
        flags=re.MULTILINE,
    )
    config.write_text(text, encoding="utf-8")
    out = site / "output"
    # The feed channel is the likeliest place, but absence proves nothing: None, not False.
    return lambda: (
        any(page_contains(out / name, marker) for name in ("feed.xml", "atom.xml", "index.html"))
        or None
    )


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process so far, from /proc (0.0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _process_peak_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _answers(port: int) -> bool:
    """Whether an HTTP server answers on the port (any status): a listening socket is not enough,
    since a server may bind before its first build and answer only after it."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def _free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return int(probe_socket.getsockname()[1])


def measure_serve(tool: Tool, ctx: RoundContext, log: Path) -> Measurement:
    """Start the tool's preview server, wait for its first build, then edit one article
    SERVE_EDITS times and time each save until the rebuilt page on disk shows the edit.

    This is what an author waits for between saving and seeing the change. The figure is
    the median edit; CPU is the server's own per edit, memory its peak over the session."""
    site, slug = ctx.site, str(ctx.manifest["edit_slug"])
    edit_paths = ctx.manifest["edit_paths"]
    assert isinstance(edit_paths, dict)
    source, page = site / edit_paths[tool.site_name], tool.served_page(site, slug)
    times: list[float] = []
    port = _free_port()
    with (
        log.open("w") as out,
        subprocess.Popen(
            tool.serve_command(site, port),
            cwd=site,
            env=tool.env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        ) as server,
    ):
        try:
            # Both servers answer HTTP only once their first build is written and they watch.
            deadline = time.monotonic() + ctx.timeout
            while not _answers(port) and server.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)  # let the watcher settle
            cpu_before = _process_cpu(server.pid)
            for number in range(SERVE_EDITS):
                if server.poll() is not None or not page.exists():
                    break
                marker = f"zq{ctx.size}r{ctx.round_no}s{number}"
                started = time.perf_counter()
                with source.open("a", encoding="utf-8") as handle:
                    handle.write(f"\n{extra_sentence(ctx.round_no * 10 + number)} ({marker})\n")
                limit = started + SERVE_TIMEOUT
                while not page_contains(page, marker) and time.perf_counter() < limit:
                    time.sleep(0.002)
                if not page_contains(page, marker):
                    break
                times.append(time.perf_counter() - started)
                time.sleep(0.5)  # a pause between saves, as an author makes
            cpu = (_process_cpu(server.pid) - cpu_before) / max(1, len(times))
            peak = _process_peak_mb(server.pid)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    ok = len(times) == SERVE_EDITS
    median = statistics.median(times) if times else 0.0
    code = 0 if ok else 1
    return Measurement(median, peak, None, cpu, code, not ok, None, str(log), verified=ok or None)


def run_round(tool: Tool, ctx: RoundContext, record: Callable[[str, Outcome], None]) -> None:
    """Run every scenario of one tool once: cold first, then each edit on top of the last.

    Each outcome goes to `record` as soon as it exists, so an interrupted round still counts.
    """
    edit_paths = ctx.manifest["edit_paths"]
    assert isinstance(edit_paths, dict)
    touched = [
        ctx.site / edit_paths[tool.site_name],
        ctx.site / "templates" / "base.html",
        ctx.site / "site.yaml",
    ]
    with restored(touched):
        for path in tool.state_paths(ctx.site):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        for scenario in tool.scenarios:
            if scenario == "serve-edit":
                log = ctx.logs / f"{tool.key}-{ctx.size}-r{ctx.round_no}-{scenario}.log"
                record(scenario, measure_serve(tool, ctx, log))
                continue
            if scenario == "article-edit":
                # One untimed edit first: the timed one is an author's next save, not the
                # first build after a cold one (syndicate makes its output folder's twin then,
                # once per folder). Every tool gets the same warm-up.
                with (ctx.site / edit_paths[tool.site_name]).open("a", encoding="utf-8") as handle:
                    handle.write(f"\n{extra_sentence(ctx.round_no + 2000)}\n")
                warm = ctx.logs / f"{tool.key}-{ctx.size}-r{ctx.round_no}-warm-up-edit.log"
                measure(tool, ctx.site, warm, ctx.timeout, ctx.interval)
            check = apply_edit(tool, scenario, ctx)
            if isinstance(check, Skip):
                record(scenario, check)
                continue
            log = ctx.logs / f"{tool.key}-{ctx.size}-r{ctx.round_no}-{scenario}.log"
            result = measure(tool, ctx.site, log, ctx.timeout, ctx.interval)
            if result.ok and check is not None:
                result = dataclasses.replace(result, verified=check())
            if result.ok and scenario == "cold" and ctx.round_no == 0:
                # The output is the same in every round: count it once, outside the timing.
                written = census(tool.output_dir(ctx.site))
                result = dataclasses.replace(result, written=written)
            record(scenario, result)
            if not result.ok:
                break  # later scenarios build on this one; their figures would mean nothing


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="comma-separated article counts (default: %(default)s)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds per size (default: 3)")
    parser.add_argument(
        "--tools", default="syndicate,pelican,hugo", help="comma-separated subset to run"
    )
    parser.add_argument(
        "--setups",
        default="parity,copies",
        help="syndicate's sites: parity (the same work as the others), copies (with its "
        "syndicated copies), features (code highlighting, lead images and search, against "
        "Pelican doing the same; cold builds only), features-copies (features with the "
        "copies); default: %(default)s",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIO_LABELS),
        help="scenarios to run where a tool has them (the cold build always runs); "
        "default: %(default)s",
    )
    parser.add_argument(
        "--cores",
        default="all,one",
        help="cold builds on all cores and/or on one (syndicate --jobs 1, Hugo GOMAXPROCS=1); "
        "default: %(default)s",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per build")
    parser.add_argument(
        "--interval", type=float, default=0.5, help="process-tree memory sampling period (s)"
    )
    parser.add_argument("--syndicate-cmd", help="command that runs syndicate's CLI")
    parser.add_argument("--pelican", help="pelican command (default: from PATH)")
    parser.add_argument("--hugo", help="hugo binary (default: from PATH)")
    parser.add_argument(
        "--workdir", type=Path, help="folder for corpora and builds (default: temp)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder afterwards")
    parser.add_argument("--json", type=Path, help="also write every raw measurement here")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    except ValueError:
        parser.error("--sizes takes comma-separated integers")
    if not args.sizes or min(args.sizes) < 1 or args.repeat < 1:
        parser.error("--sizes and --repeat must be positive")
    args.tools = [name.strip() for name in args.tools.split(",") if name.strip()]
    unknown = set(args.tools) - {"syndicate", "pelican", "hugo"}
    if unknown:
        parser.error(f"unknown tool(s): {', '.join(sorted(unknown))}")
    args.setups = [name.strip() for name in args.setups.split(",") if name.strip()]
    if not args.setups or set(args.setups) - {"parity", "copies", "features", "features-copies"}:
        parser.error("--setups takes parity, copies, features, features-copies or several of them")
    args.scenarios = ["cold", *(s.strip() for s in args.scenarios.split(",") if s.strip())]
    if set(args.scenarios) - set(SCENARIO_LABELS):
        parser.error(f"--scenarios takes {', '.join(SCENARIO_LABELS)}")
    args.cores = [name.strip() for name in args.cores.split(",") if name.strip()]
    if not args.cores or set(args.cores) - {"all", "one"}:
        parser.error("--cores takes all, one or both")
    if args.workdir and args.workdir.resolve().is_relative_to(REPO_ROOT):
        parser.error("--workdir must be outside the repository")
    return args


def variants(tools: Sequence[Tool], setups: Sequence[str], cores: Sequence[str]) -> list[Tool]:
    """Every column of the run: each tool on each of its sites, on all cores and on one.

    The peers build the parity site, and Pelican its features site when that setup runs;
    Pelican always builds in one process, so it has no one-core variant. A one-core variant,
    and every build of the features setup, runs the cold build only.
    """
    sites = {
        "parity": ("syndicate", "syndicate"),
        "copies": ("syndicate-copies", "copies"),
        "features": ("syndicate-features", "features"),
        "features-copies": ("syndicate-features-copies", "features-copies"),
    }
    out = []
    for tool in tools:
        if tool.kind == "syndicate":
            names = [sites[setup] for setup in setups]
        else:
            names = [(tool.kind, tool.kind)]
            if tool.kind == "pelican" and {"features", "features-copies"} & set(setups):
                names.append(("pelican-features", "pelican-features"))
        for site_name, key in names:
            label = SETUP_LABELS[site_name]
            cold_only = "-features" in site_name
            for core in cores:
                if core == "one" and tool.kind == "pelican":
                    if "all" not in cores:
                        out.append(tool.variant(key, label, site_name, False, cold_only))
                    continue
                one = core == "one"
                suffix = ", one core" if one else ""
                out.append(
                    tool.variant(key + "-1" * one, label + suffix, site_name, one, cold_only)
                )
    return out


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def record(
    scenarios: dict[str, list[Outcome]],
    ctx: RoundContext,
    label: str,
    scenario: str,
    outcome: Outcome,
) -> None:
    """Keep one outcome and show it at once, so a long run can be followed as it goes."""
    scenarios.setdefault(scenario, []).append(outcome)
    progress(f"  n={ctx.size} round {ctx.round_no + 1} {label} {scenario}: {describe(outcome)}")


def run_size(
    size: int,
    tools: Sequence[Tool],
    workdir: Path,
    args: argparse.Namespace,
    state: RunState,
) -> None:
    """Generate the corpus of one size, then run every round for every tool on it.

    Figures go into `state` as they come, so an interrupted run can still report them.
    """
    corpus_dir = workdir / f"corpus-{size}"
    if corpus_dir.exists():
        shutil.rmtree(corpus_dir)
    started = time.perf_counter()
    sites = list(dict.fromkeys(tool.site_name for tool in tools))
    manifest = make_corpus(size, corpus_dir, formats=sites)
    progress(f"corpus {size}: generated in {time.perf_counter() - started:.1f} s")
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)
    state.manifests[size] = manifest
    per_tool = state.results.setdefault(size, {tool.key: {} for tool in tools})
    try:
        for round_no in range(args.repeat):
            for tool in tools:
                if tool.source_dir is not None:
                    fingerprint = source_fingerprint(tool.source_dir)
                    state.versions.setdefault(fingerprint, f"n={size} round {round_no + 1}")
            shift = round_no % max(1, len(tools))
            for tool in [*tools[shift:], *tools[:shift]]:
                site = corpus_dir / tool.site_name
                ctx = RoundContext(
                    site, manifest, size, round_no, logs, args.timeout, args.interval
                )
                keep = functools.partial(record, per_tool[tool.key], ctx, tool.label)
                run_round(tool, ctx, keep)
    finally:
        for tool in tools:  # free the disk before the next, larger corpus
            for path in tool.state_paths(corpus_dir / tool.site_name):
                shutil.rmtree(path, ignore_errors=True)


def write_json(
    path: Path,
    tools: Sequence[Tool],
    manifests: dict[int, dict[str, object]],
    results: Results,
) -> None:
    """Every raw measurement, for anyone who wants more than the medians."""
    raw = {
        str(size): {
            key: {
                scenario: [asdict(item) | {"kind": type(item).__name__} for item in outcomes]
                for scenario, outcomes in scenarios.items()
            }
            for key, scenarios in per_tool.items()
        }
        for size, per_tool in results.items()
    }
    tools_info = {
        tool.key: {
            "label": tool.label,
            "site": tool.site_name,
            "one_core": tool.one_core,
            "version": tool.version,
            "missing": tool.missing,
        }
        for tool in tools
    }
    document = {"tools": tools_info, "manifests": manifests, "results": raw}
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A shell starts background jobs with SIGINT ignored: restore it, so `kill -INT` still
    # ends a long run with the report of the builds that finished.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    finders = {"syndicate": find_syndicate, "pelican": find_pelican, "hugo": find_hugo}
    overrides = {"syndicate": args.syndicate_cmd, "pelican": args.pelican, "hugo": args.hugo}
    found = [finders[key](overrides[key]) for key in args.tools]
    for tool in found:
        progress(f"{tool.label}: {tool.missing or tool.version}")
    tools = variants(found, args.setups, args.cores)
    for tool in tools:
        tool.scenarios = tuple(s for s in tool.scenarios if s in args.scenarios)
    runnable = [tool for tool in tools if not tool.missing]

    is_temporary = args.workdir is None
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="syndicate-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    progress(f"work folder: {workdir}")
    state = RunState()
    try:
        for size in args.sizes:
            run_size(size, runnable, workdir, args, state)
    except KeyboardInterrupt:
        progress("interrupted: the report covers the builds that finished")
    finally:
        if is_temporary and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            progress(f"kept {workdir}")
    versions = [f"{key} (from {first})" for key, first in state.versions.items()]
    notes = [f"syndicate source fingerprint: {', '.join(versions)}"] if versions else []
    if len(versions) > 1:
        notes.append("syndicate's source changed during the run: its figures mix versions")
    print(report(tools, state.results, state.manifests, args.repeat, notes))
    if args.json:
        write_json(args.json, tools, state.manifests, state.results)
    return 0


def describe(outcome: Outcome) -> str:
    if isinstance(outcome, Skip):
        return f"skipped ({outcome.reason})"
    if not outcome.ok:
        state = "timeout" if outcome.timed_out else f"exit {outcome.returncode}"
        tail: list[str] = []
        with contextlib.suppress(OSError):
            tail = Path(outcome.log).read_text(errors="replace").strip().splitlines()[-3:]
        return f"FAILED ({state}); log {outcome.log}: " + " | ".join(tail)
    seen = ", OUTPUT CHECK FAILED" if outcome.verified is False else ""
    tree = f"{outcome.tree_mb:.0f}" if outcome.tree_mb is not None else "?"
    return f"{outcome.seconds:.2f} s, {outcome.max_rss_mb:.0f} MB (tree {tree}){seen}"


if __name__ == "__main__":
    sys.exit(main())
