"""`init`, `new` and `schedule` through the command line, as an author would use them."""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from markupsafe import escape

from syndicate import DISTRIBUTION, __version__
from syndicate.cli import main
from syndicate.config import load_site
from syndicate.scaffold import SAMPLE_ARTICLE, SITE_PYTHON, init_site, new_article, scheduled_articles

from .conftest import BASIC_SITE, article, build_site

TWO_AUTHORS = BASIC_SITE + '  bo:\n    name: "Bo Example"\n'


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_init_writes_a_site_that_builds_and_passes_strict_check(tmp_path: Path) -> None:
    folder = tmp_path / "my-notes"
    result = run("init", str(folder))
    assert result.exit_code == 0, result.output
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert names == [".github/workflows/deploy.yml", ".gitignore", "content/pages/about.md",
                     "content/the-question-behind-the-question.md", "netlify.toml", "requirements.txt", "site.yaml"]
    assert not (folder / "templates").exists()
    site_file = str(folder / "site.yaml")
    built = run("build", "--site", site_file)
    assert built.exit_code == 0, built.output
    assert (folder / "output/articles/the-question-behind-the-question/index.html").is_file()
    assert (folder / "output/pages/about/index.html").is_file()
    assert (folder / "output/syndicate/the-question-behind-the-question.html").is_file()
    checked = run("check", "--strict", "--site", site_file)
    assert checked.exit_code == 0, checked.output
    assert "warning" not in checked.output
    assert load_site(site_file).title == "My Notes"


def test_init_site_yaml_has_reprint_terms_with_a_domain_and_a_url(tmp_path: Path) -> None:
    init_site(tmp_path / "s")
    site = load_site(tmp_path / "s" / "site.yaml")
    assert site.url == "https://example.org/"
    (author,) = site.authors.values()
    assert author.reprint is not None and author.reprint.preamble and author.reprint.commercial
    assert "www.example.org" in author.reprint.statement and "https://" in author.reprint.statement


def test_init_sample_article_is_published_and_the_right_length(tmp_path: Path) -> None:
    init_site(tmp_path / "s", today=date(2030, 6, 2))
    text = (tmp_path / "s/content/the-question-behind-the-question.md").read_text("utf-8")
    front = yaml.safe_load(text.split("---")[1])
    assert set(front) >= {"title", "date", "author", "tags", "summary", "draft"}
    assert front["draft"] is False and front["date"] == date(2030, 6, 1)
    assert 150 <= len(SAMPLE_ARTICLE.split("---", 2)[2].split()) <= 300


def test_init_gitignore(tmp_path: Path) -> None:
    init_site(tmp_path / "s")
    assert (tmp_path / "s/.gitignore").read_text().split("\n")[1:3] == ["output/", ".syndicate-cache/"]


def test_init_pins_this_release_in_requirements_txt(tmp_path: Path) -> None:
    init_site(tmp_path / "s")
    lines = (tmp_path / "s/requirements.txt").read_text("utf-8").splitlines()
    requirements = [line for line in lines if line.strip() and not line.startswith("#")]
    assert requirements == [f"syndicate-ssg=={__version__}"]
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text("utf-8"))["project"]
    assert DISTRIBUTION == project["name"] == "syndicate-ssg"  # the pin names the distribution this repository publishes


def deploy_workflow(folder: Path) -> dict[str, object]:
    workflow = yaml.safe_load((folder / ".github/workflows/deploy.yml").read_text("utf-8"))
    assert isinstance(workflow, dict)
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as true
    return workflow


def test_init_deploy_workflow_triggers_and_permissions(tmp_path: Path) -> None:
    init_site(tmp_path / "s")
    workflow = deploy_workflow(tmp_path / "s")
    on = workflow["on"]
    assert on == {"push": {"branches": ["main"]}, "workflow_dispatch": None, "schedule": [{"cron": "17 5 * * *"}]}
    minute, hour, *rest = on["schedule"][0]["cron"].split()
    assert 0 <= int(minute) < 60 and 0 <= int(hour) < 24 and rest == ["*", "*", "*"]  # once a day, every day
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}


def test_init_deploy_workflow_installs_the_pin_caches_checks_builds_and_deploys(tmp_path: Path) -> None:
    init_site(tmp_path / "s")
    jobs = deploy_workflow(tmp_path / "s")["jobs"]
    assert isinstance(jobs, dict)
    steps = jobs["build"]["steps"]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert uses == ["actions/checkout@v6", "actions/setup-python@v6", "actions/cache@v6",
                    "actions/configure-pages@v6", "actions/upload-pages-artifact@v5"]
    order = [s.get("uses", s.get("run")) for s in steps]
    assert order == ["actions/checkout@v6", "actions/setup-python@v6", "pip install -r requirements.txt", "actions/cache@v6",
                     "syndicate check --strict", "syndicate build", "actions/configure-pages@v6", "actions/upload-pages-artifact@v5"]
    by_action = {s["uses"].split("@")[0]: s.get("with", {}) for s in steps if "uses" in s}
    assert by_action["actions/checkout"] == {"persist-credentials": False}
    assert by_action["actions/setup-python"] == {"python-version": SITE_PYTHON, "cache": "pip"}
    cache = by_action["actions/cache"]
    assert cache["path"] == ".syndicate-cache"
    assert cache["key"].startswith(cache["restore-keys"]) and "${{ github.run_id }}" in cache["key"]  # a new entry each run, the newest restored
    assert by_action["actions/upload-pages-artifact"] == {"path": "output"}
    assert jobs["deploy"]["needs"] == "build" and jobs["deploy"]["environment"]["name"] == "github-pages"
    assert jobs["deploy"]["steps"] == [{"id": "deployment", "uses": "actions/deploy-pages@v5"}]
    assert all(isinstance(job["timeout-minutes"], int) for job in jobs.values())


def test_init_netlify_toml_builds_with_the_pinned_tool(tmp_path: Path) -> None:
    init_site(tmp_path / "s")
    netlify = tomllib.loads((tmp_path / "s/netlify.toml").read_text("utf-8"))
    assert netlify == {"build": {"command": "syndicate check --strict && syndicate build", "publish": "output",
                                 "environment": {"PYTHON_VERSION": SITE_PYTHON}}}
    assert re.fullmatch(r"3\.1[1-9]", SITE_PYTHON)


def test_the_hosts_commands_run_in_a_new_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `syndicate` command the workflow and netlify.toml run, run here as they are written."""
    init_site(tmp_path / "s")
    monkeypatch.chdir(tmp_path / "s")
    steps = deploy_workflow(Path("."))["jobs"]["build"]["steps"]
    workflow_runs = [s["run"] for s in steps if s.get("run", "").startswith("syndicate ")]
    netlify_runs = tomllib.loads(Path("netlify.toml").read_text("utf-8"))["build"]["command"].split(" && ")
    assert workflow_runs == netlify_runs == ["syndicate check --strict", "syndicate build"]
    for command in workflow_runs:
        result = run(*shlex.split(command)[1:])
        assert result.exit_code == 0, (command, result.output)
    assert Path("output/index.html").is_file()  # the folder that both hosts publish


def test_init_accepts_an_empty_folder_and_refuses_a_non_empty_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert run("init", "empty").exit_code == 0
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    result = run("init", "used")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["used:1: folder is not empty; choose a new folder name (init never overwrites files)",
                                          "1 error, 0 warnings"]
    assert sorted(p.name for p in (tmp_path / "used").iterdir()) == ["notes.txt"]


@pytest.fixture
def site_dir(write_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    site_file = write_site({})
    monkeypatch.chdir(site_file.parent)
    return site_file.parent


def test_new_writes_a_draft_and_prints_its_path(site_dir: Path) -> None:
    before = datetime.now(UTC).date()
    result = run("new", "Queues That Move")
    assert result.exit_code == 0, result.output
    assert result.stdout == "content/queues-that-move.md\n"
    text = (site_dir / "content/queues-that-move.md").read_text("utf-8")
    front = yaml.safe_load(text.split("---")[1])
    assert front["date"] in {before, datetime.now(UTC).date()}
    assert front == {"title": "Queues That Move", "date": front["date"], "author": "ann",
                     "tags": [], "summary": "", "draft": True}
    assert run("check", "--strict").exit_code == 0  # a draft is left out, not a warning
    report = build_site(site_dir / "site.yaml", include_drafts=True)
    assert report.articles == 1
    # Published with the placeholder still in it: a warning (an error under --strict), not a page of it.
    path = site_dir / "content/queues-that-move.md"
    path.write_text(path.read_text("utf-8").replace("draft: true\n---", "draft: false\n---"), "utf-8")
    strict = run("check", "--strict")
    assert strict.exit_code == 1
    assert strict.stderr.splitlines()[0] == (
        "content/queues-that-move.md:9: still has the placeholder text `syndicate new` wrote; write the article")


def test_new_refuses_to_overwrite(site_dir: Path) -> None:
    assert run("new", "Once").exit_code == 0
    (site_dir / "content/once.md").write_text("my edits", "utf-8")
    result = run("new", "Once")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["content/once.md:1: already exists; choose another title or edit that file", "1 error, 0 warnings"]
    assert (site_dir / "content/once.md").read_text("utf-8") == "my edits"


def test_new_refuses_a_slug_taken_in_a_subfolder(site_dir: Path) -> None:
    (site_dir / "content/notes").mkdir()
    (site_dir / "content/notes/once.md").write_text(article("Once"), "utf-8")
    result = run("new", "Once")
    assert result.exit_code == 1
    assert "content/notes/once.md:1: an article with slug 'once' already exists" in result.stderr


def test_new_with_an_unknown_author_lists_the_known_ones(write_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(write_site({}, site_yaml=TWO_AUTHORS).parent)
    result = run("new", "Hello", "--author", "x")
    assert result.exit_code == 1
    # The problem is the option's value, not a line of site.yaml.
    assert result.stderr.splitlines() == ["--author: unknown author 'x' (known: ann, bo)", "1 error, 0 warnings"]
    missing = run("new", "Hello")
    assert missing.exit_code == 1
    assert missing.stderr.splitlines()[0] == "--author: this site has several authors; choose one with --author (known: ann, bo)"
    assert run("new", "Hello", "--author", "bo").exit_code == 0


@pytest.mark.parametrize("title", [
    'Say "hi": yes # no', "no", "Ünïcode – a dash", "[not] {a} list", "it's 50% off: really?", "  spaced   out  ",
], ids=["quotes-colon-hash", "yaml-boolean", "unicode", "brackets", "apostrophe-percent", "whitespace"])
def test_new_titles_survive_the_front_matter(write_site: Callable[..., Path], title: str) -> None:
    site_file = write_site({})
    path = new_article(load_site(site_file), title, today=date(2024, 5, 1))
    report = build_site(site_file, dry_run=True, include_drafts=True)
    page = report.rendered[f"articles/{path.stem}/index.html"].decode()
    assert f"<h1>{escape(' '.join(title.split()))} <span" in page


def test_new_refuses_a_title_without_letters(site_dir: Path) -> None:
    result = run("new", "?!")
    assert result.exit_code == 1 and "no letters or digits" in result.stderr


def test_schedule_lists_future_articles_and_the_next_rebuild(write_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    site_file = write_site({
        "content/now.md": article("Now", date="2020-01-01"),
        "content/later.md": article("Later", date="2999-03-01"),
        "content/soon.md": article("Soon", date="2999-01-01T09:30:00"),
        "content/hidden.md": article("Hidden", date="2999-02-01", draft="true"),
    })
    monkeypatch.chdir(site_file.parent)
    result = run("schedule")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "2999-01-01T09:30:00+00:00  content/soon.md  Soon",
        "2999-03-01T00:00:00+00:00  content/later.md  Later",
        "next rebuild: 2999-01-01T09:30:00+00:00",
    ]
    site = load_site(site_file)
    assert [a.slug for a in scheduled_articles(site, now=datetime(2999, 2, 1, tzinfo=UTC))] == ["later"]


def test_schedule_with_nothing_in_the_future(site_dir: Path) -> None:
    (site_dir / "content/now.md").write_text(article("Now"), "utf-8")
    result = run("schedule")
    assert result.exit_code == 0 and result.stdout == "nothing scheduled\n"
