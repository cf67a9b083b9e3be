"""Shared fixtures: the golden tiny site, scratch sites built from strings, a built copy."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from syndicate import build
from syndicate.model import BuildOptions, BuildReport

HERE = Path(__file__).parent
TINY = HERE / "sites" / "tiny"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

BASIC_SITE = """\
title: "Scratch"
url: "https://scratch.example.org/"
authors:
  ann:
    name: "Ann Example"
    reprint:
      statement: "Copyright, Ann Example. Visit www.example.com/ann for more."
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def tiny_site(tmp_path: Path) -> Path:
    """A private copy of the golden site; returns its site.yaml."""
    target = tmp_path / "tiny"
    shutil.copytree(TINY, target)
    return target / "site.yaml"


def build_site(site_file: Path, **options: object) -> BuildReport:
    options.setdefault("now", NOW)
    options.setdefault("jobs", 1)
    return build(site_file, BuildOptions(**options))  # type: ignore[arg-type]


@pytest.fixture
def write_site(tmp_path: Path) -> Callable[..., Path]:
    """Build a scratch site from a dict of {relative path: text}; returns its site.yaml."""

    def write(files: dict[str, str | bytes], site_yaml: str = BASIC_SITE) -> Path:
        root = tmp_path / "site"
        root.mkdir(exist_ok=True)
        for name, text in {"site.yaml": site_yaml, **files}.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(textwrap.dedent(text), encoding="utf-8")
        (root / "content").mkdir(exist_ok=True)
        return root / "site.yaml"

    return write


def article(title: str = "A Title", date: str = "2024-05-01", author: str = "ann", body: str = "Some words.", **extra: str) -> str:
    lines = [f'title: "{title}"', f"date: {date}", f"author: {author}", *(f"{k}: {v}" for k, v in extra.items())]
    return "---\n" + "\n".join(lines) + "\n---\n" + body + "\n"


@pytest.fixture(scope="session")
def built_tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tiny site built once for read-only assertions; returns the output folder."""
    root = tmp_path_factory.mktemp("built") / "tiny"
    shutil.copytree(TINY, root)
    build_site(root / "site.yaml")
    yield root / "output"


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write {relative path: text or bytes} under root as they are (no dedent); returns root."""
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return root


def read_article(path: Path) -> tuple[dict[str, object], str]:
    """An article file's front matter, parsed, and its body."""
    _, matter, body = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(matter), body


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def outputs(site: Path) -> dict[str, bytes]:
    """What a build wrote for readers: the output folder without its marker."""
    found = tree(site.parent / "output")
    found.pop(".syndicate-output", None)
    return found


def clean_build(site: Path, tmp_path: Path) -> dict[str, bytes]:
    """The same site state built from nothing, in a separate folder with no cache."""
    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(site.parent, fresh, ignore=shutil.ignore_patterns("output", ".syndicate-cache"))
    build_site(fresh / "site.yaml", use_cache=False)
    return outputs(fresh / "site.yaml")
