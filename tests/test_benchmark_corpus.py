"""The benchmark compares equal work: Pelican's features site must make exactly syndicate's
lead-image copies, or the features figures compare different work without saying so."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest

from syndicate import images
from syndicate.urls import variant_path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name: str, path: Path, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A benchmark script as a module (registered while the test runs: its dataclasses look it up)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """The Pelican plugin, importable without Pelican (only `pelican.signals` is named)."""
    fake = types.ModuleType("pelican")
    fake.signals = types.SimpleNamespace()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pelican", fake)
    return load("lead_images", BENCHMARKS / "pelican_plugins" / "lead_images.py", monkeypatch)


@pytest.fixture
def corpus(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    return load("make_corpus", BENCHMARKS / "make_corpus.py", monkeypatch)


def test_pelican_plugin_writes_the_same_copies_as_syndicate(
        plugin: types.ModuleType, corpus: types.ModuleType, tmp_path: Path) -> None:
    corpus.make_corpus(10, tmp_path, formats=("syndicate-features", "pelican-features"))
    pelican_site = tmp_path / "pelican-features"
    conf = (pelican_site / "pelicanconf.py").read_text()
    assert 'PLUGINS = ["lead_images"]' in conf
    assert (pelican_site / "plugins" / "lead_images.py").read_bytes() == (
        BENCHMARKS / "pelican_plugins" / "lead_images.py").read_bytes()

    illustrated = sorted((pelican_site / "content" / "images").glob("*.jpg"))
    assert len(illustrated) == 2  # every fifth of ten articles
    name = f"images/{illustrated[0].name}"
    article = types.SimpleNamespace(metadata={"image": name})
    generator = types.SimpleNamespace(output_path=str(tmp_path / "out"), path=str(pelican_site / "content"),
                                      articles=[article, types.SimpleNamespace(metadata={})])
    plugin.resize_lead_images(generator, None)
    made = {path.name: path.read_bytes() for path in (tmp_path / "out" / "images").iterdir()}

    source = tmp_path / "syndicate-features" / "content" / name
    assert source.read_bytes() == illustrated[0].read_bytes()  # the same input in both sites
    variants = tuple((w, variant_path("/" + name, w).lstrip("/")) for w in images.WIDTHS
                     if w < corpus.IMAGE_SIZE[0])
    width, height = corpus.IMAGE_SIZE
    info = images.ImageInfo("/" + name, width, height, variants, "key")
    theirs = images.resized_copies(info, source, None)
    assert {Path(path).name: data for path, data in theirs.items()} == made
    assert sorted(width for width, _ in variants) == list(corpus.SRCSET_WIDTHS)

    page = (pelican_site / "content" / f"{illustrated[0].stem}.md").read_text()
    for width in corpus.SRCSET_WIDTHS:
        assert f"/images/{illustrated[0].stem}-{width}w.jpg {width}w" in page


def test_parity_site_loads_no_installed_pelican_plugin(corpus: types.ModuleType, tmp_path: Path) -> None:
    corpus.make_corpus(5, tmp_path, formats=("pelican",))
    assert "\nPLUGINS = []" in (tmp_path / "pelican" / "pelicanconf.py").read_text()


def test_measure_reports_a_builds_exit_and_stops_one_that_runs_past_its_timeout(tmp_path: Path) -> None:
    """measure.py waits for the build itself (no polling, which added up to 50 ms to every
    figure) and still stops a build that runs past its timeout, with everything it started."""
    import json
    import subprocess

    def measure(timeout: float, *command: str) -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, str(BENCHMARKS / "measure.py"), "--timeout", str(timeout), "--log", str(tmp_path / "log"),
             "--cwd", str(tmp_path), "--", *command],
            capture_output=True, text=True, check=True, timeout=60,
        )
        return json.loads(done.stdout)

    finished = measure(30, sys.executable, "-c", "import sys; print('built'); sys.exit(3)")
    assert finished["returncode"] == 3 and finished["timed_out"] is False
    assert (tmp_path / "log").read_text() == "built\n"
    marker = tmp_path / "still-running"
    stopped = measure(0.5, "sh", "-c", f"(sleep 3; touch {marker}) & sleep 20")
    assert stopped["timed_out"] is True and stopped["returncode"] != 0
    assert float(stopped["seconds"]) < 10  # type: ignore[arg-type]
    subprocess.run(["sleep", "3.5"], check=True)
    assert not marker.exists()  # the whole session was stopped, the build's own children too
