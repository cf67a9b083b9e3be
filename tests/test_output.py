"""The commit: a reader sees the old site or the new one, at every instant and after kill -9;
disk faults are one clear line with the old site kept; the disk, not the record, is the truth."""

from __future__ import annotations

import errno
import importlib
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import syndicate.output
import syndicate.tree
from syndicate import incremental
from syndicate.cache import Cache
from syndicate.config import load_site
from syndicate.errors import SiteError
from syndicate.marker import intact_files, read_record
from syndicate.output import MARKER, STAGE_IN_OUTPUT

from .conftest import article, build_site

build_module = importlib.import_module("syndicate.build")
CRASH_BUILD = Path(__file__).parent / "crash_build.py"
CHANGES = ("link", "rename", "replace", "unlink", "mkdir", "rmdir", "symlink", "chmod")
USER_FILES = {
    "CNAME": b"notes.example.org\n",
    ".nojekyll": b"",
    ".well-known/acme-challenge/token": b"proof\n",
    ".git/HEAD": b"ref: refs/heads/gh-pages\n",
    ".git/objects/ab/cdef0123": b"blob\n",
    "articles/greeting/notes.txt": b"the user's own file inside one of syndicate's folders\n",
}


def view(folder: Path, scratch: bool = False) -> dict[str, bytes]:
    """What a reader finds under `folder` by path: each file's bytes, each symlink's target.
    The in-place commit's stage is left out unless `scratch`."""
    found: dict[str, bytes] = {}
    for here, dirs, files in os.walk(folder):
        if not scratch and here == str(folder) and STAGE_IN_OUTPUT in dirs:
            dirs.remove(STAGE_IN_OUTPUT)
        for name in files + [d for d in dirs if os.path.islink(os.path.join(here, d))]:
            path = os.path.join(here, name)
            rel = os.path.relpath(path, folder)
            if os.path.islink(path):
                found[rel] = b"-> " + os.fsencode(os.readlink(path))
            else:
                with open(path, "rb") as handle:
                    found[rel] = handle.read()
    return found


def without_marker(files: dict[str, bytes]) -> dict[str, bytes]:
    return {path: data for path, data in files.items() if path != MARKER}


def recorded(files: dict[str, bytes]) -> list[tuple[str, int]]:
    """The marker's files with their sizes (mtimes differ from one run to the next)."""
    lines = files[MARKER].decode().splitlines()[2:-1]
    return sorted((path, int(size)) for size, _mtime, path in (line.split(" ", 2) for line in lines if not line.endswith("/")))


def add_user_files(out: Path) -> None:
    for name, data in USER_FILES.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)


def change(root: Path) -> None:
    """Edits that make a commit replace, add and delete files and folders."""
    greeting = root / "content/greeting.md"
    greeting.write_text(greeting.read_text().replace("it's that simple.", "it's that simple, really."))
    (root / "content/chairs.md").unlink()
    (root / "content/extra").mkdir()
    (root / "content/extra/new.txt").write_text("a new file in a new folder\n")
    (root / "content/dot.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'><circle r='2'/></svg>\n")


def prepare(site: Path, mode: str) -> None:
    """A built site with the user's own files in its output folder; "swap" builds a second
    time, so the twin exists and the commit under test is the steady one."""
    build_site(site)
    add_user_files(site.parent / "output")
    if mode == "swap":
        waiting = site.parent / "content/waiting.md"
        waiting.write_text(waiting.read_text().replace('title: "Waiting <Well>"', 'title: "Waiting Well"'))
        build_site(site)


def debris(root: Path) -> list[str]:
    """Scratch that a finished build must not leave: stages, probes, half-written markers."""
    out, cache = root / "output", root / ".syndicate-cache"
    found = [p.name for p in out.iterdir() if p.name.startswith(".syndicate-") and p.name != MARKER]
    found += [p.name for p in cache.iterdir() if p.name.startswith(("stage-", ".syndicate-probe"))]
    return found + [p.name for p in cache.glob("swap-*/.syndicate-new-*")]


@contextmanager
def during_commit(monkeypatch: pytest.MonkeyPatch, before_each: Callable[[str, str], None]) -> Iterator[None]:
    """Call `before_each(name, first argument)` before every change the commit makes to the file system."""
    watching = {"on": False}

    def watched(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if watching["on"]:
                before_each(name, str(args[0]) if args else "")
            return real(*args, **kwargs)

        return call

    for name in CHANGES:
        monkeypatch.setattr(os, name, watched(name, getattr(os, name)))
    monkeypatch.setattr(syndicate.output, "exchange", watched("exchange", syndicate.tree.exchange))
    real_commit = build_module.commit

    def commit(*args: Any) -> None:
        watching["on"] = True
        try:
            real_commit(*args)
        finally:
            watching["on"] = False

    monkeypatch.setattr(build_module, "commit", commit)
    try:
        yield
    finally:
        monkeypatch.undo()


def clean_build(site: Path, tmp_path: Path) -> dict[str, bytes]:
    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(site.parent, fresh, ignore=shutil.ignore_patterns("output", ".syndicate-cache"))
    build_site(fresh / "site.yaml", use_cache=False)
    return without_marker(view(fresh / "output"))


# Old or new, at every instant of a commit and after a kill at any of them.


@pytest.mark.parametrize("mode", ["first-swap", "swap", "in-place"])
def test_every_view_of_the_output_during_a_commit_is_the_old_site_or_the_new(
        tiny_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    prepare(tiny_site, mode)
    out = tiny_site.parent / "output"
    old = view(out)
    change(tiny_site.parent)
    views: list[tuple[dict[str, bytes], bool]] = []
    if mode == "in-place":
        monkeypatch.setattr(syndicate.output, "can_exchange", lambda *_args: False)
    with during_commit(monkeypatch, lambda _name, _path: views.append((view(out), (out / STAGE_IN_OUTPUT / "JOURNAL.json").exists()))):
        build_site(tiny_site)
    new = view(out)
    assert without_marker(new) == {**clean_build(tiny_site, tmp_path), **USER_FILES}
    states = ["old" if seen == old else "new" if seen == new else "mixed" for seen, _journal in views]
    order = {"old": 0, "mixed": 1, "new": 2}
    assert len(views) > 10 and states == sorted(states, key=order.__getitem__) and states[0] == "old", states
    if mode == "in-place":  # a mix is visible, and only while the journal that finishes it exists
        assert all(journal for (_seen, journal), state in zip(views, states, strict=True) if state == "mixed")
    else:
        assert set(states) == {"old", "new"}, states


def test_kill_9_at_random_points_of_the_commit_leaves_old_or_new_and_the_next_build_finishes(
        tiny_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(20240611)
    work = tiny_site.parent  # every run happens at this path: the cache keys name the output folder
    figures = []
    for mode, runs in (("first-swap", 10), ("swap", 10), ("in-place", 10)):
        shutil.rmtree(work)
        shutil.copytree(Path(__file__).parent / "sites/tiny", work)
        prepare(work / "site.yaml", mode)
        base = tmp_path / f"base-{mode}"
        subprocess.run(["cp", "-a", str(work), str(base)], check=True)  # -a keeps the twin's hard links
        old = view(work / "output")
        extra = ["in-place"] if mode == "in-place" else []
        change(work)
        calibration = subprocess.run([sys.executable, str(CRASH_BUILD), str(work / "site.yaml"), "0", *extra],
                                     capture_output=True, text=True, check=True)
        total, point = map(int, calibration.stdout.split())
        assert 1 < point <= total
        new = view(work / "output")
        states = {"old": 0, "new": 0, "mixed, journal finished by the next build": 0}
        # Half the kills before the operation that commits, half at or after it.
        chosen = rng.sample(range(1, point), runs // 2) + rng.sample(range(point, total + 1), min(runs - runs // 2, total - point + 1))
        for at in sorted(chosen):
            shutil.rmtree(work)
            subprocess.run(["cp", "-a", str(base), str(work)], check=True)
            change(work)
            killed = subprocess.run([sys.executable, str(CRASH_BUILD), str(work / "site.yaml"), str(at), *extra], capture_output=True)
            assert killed.returncode == -9, killed.stderr
            seen = view(work / "output")
            if seen == old:
                states["old"] += 1
            elif without_marker(seen) == without_marker(new) and recorded(seen) == recorded(new):
                states["new"] += 1
            else:
                assert mode == "in-place" and (work / "output" / STAGE_IN_OUTPUT / "JOURNAL.json").exists(), (mode, at)
                states["mixed, journal finished by the next build"] += 1
            build_site(work / "site.yaml")
            after = view(work / "output")
            assert without_marker(after) == without_marker(new) and recorded(after) == recorded(new), (mode, at)
            assert not debris(work), (mode, at)
        figures.append(f"{mode}: {sum(states.values())} kills among {total} operations (commit point: {point}): {states}")
    with capsys.disabled():
        print("\nkill -9 during the commit:\n  " + "\n  ".join(figures))


# Faults of the disk: one clear line, the old site kept, no debris, and the next build works.


FAULTS = {errno.ENOSPC: "no space left on the device", errno.EACCES: "permission denied", errno.EROFS: "the file system is read-only"}


@pytest.mark.parametrize("mode", ["swap", "in-place"])
def test_a_disk_fault_during_the_commit_keeps_the_old_site_and_says_so(
        tiny_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    prepare(tiny_site, mode)
    out = tiny_site.parent / "output"
    change(tiny_site.parent)
    if mode == "in-place":
        monkeypatch.setattr(syndicate.output, "can_exchange", lambda *_args: False)
    calls: list[tuple[str, str]] = []
    base = tmp_path / "base"
    subprocess.run(["cp", "-a", str(tiny_site.parent), str(base)], check=True)
    with during_commit(monkeypatch, lambda name, path: calls.append((name, path))):  # the commit's operations, once
        build_site(tiny_site)
    names = [name for name, _path in calls]
    # The operation that commits (numbered from 1): the exchange, or writing the marker in place.
    commit_point = 1 + (names.index("exchange") if mode == "swap" else
                        max(i for i, (name, path) in enumerate(calls) if name == "replace" and path.endswith(f"{MARKER}.tmp")))
    points = sorted({1, 2, commit_point // 2, commit_point - 1, commit_point, min(commit_point + 1, len(names)), len(names)})
    outcomes = {"kept the old site": 0, "committed": 0}
    for code, reason in FAULTS.items():
        for at in points:
            shutil.rmtree(tiny_site.parent)
            subprocess.run(["cp", "-a", str(base), str(tiny_site.parent)], check=True)
            old = view(out, scratch=True)
            count = {"n": 0}

            def fault(_name: str, _path: str, at: int = at, code: int = code, count: dict[str, int] = count) -> None:
                count["n"] += 1
                if count["n"] == at:
                    raise OSError(code, os.strerror(code), str(out / "articles"))

            # Before the commit point every fault keeps the old site, but for a hard link refused
            # for permission, which becomes a copy (protected_hardlinks refuses others' files).
            kept = at <= commit_point and not (code == errno.EACCES and names[at - 1] == "link")
            if mode == "in-place":
                monkeypatch.setattr(syndicate.output, "can_exchange", lambda *_args: False)
            try:
                with during_commit(monkeypatch, fault):
                    build_site(tiny_site)
            except SiteError as exc:
                assert kept, (code, at)
                assert len(exc.problems) == 1 and exc.problems[0].path in ("output", str(out))
                assert reason in str(exc) and str(exc).endswith("; the output folder was left as it was"), str(exc)
                assert view(out, scratch=True) == old, (code, at)
                outcomes["kept the old site"] += 1
            else:  # after the swap only the twin missed an update; before it, a copy stood in for a link
                assert not kept, (code, at)
                assert without_marker(view(out)) == {**clean_build(tiny_site, tmp_path), **USER_FILES}, (code, at)
                outcomes["committed"] += 1
            if kept or at < commit_point:  # a fault while cleaning up after the commit may leave scratch for the next build
                assert not [name for name in debris(tiny_site.parent) if name.startswith(".syndicate-")], (code, at)
            build_site(tiny_site)
            assert without_marker(view(out)) == {**clean_build(tiny_site, tmp_path), **USER_FILES}, (code, at)
            assert not debris(tiny_site.parent), (code, at)
    assert outcomes["kept the old site"] >= 2 * len(FAULTS)


def assert_the_marker_lists_every_folder(out: Path) -> None:
    """The marker's folders, with their mtimes, are the output folder's real folders (the top
    left out): a folder missing from it would hide the user's changes in it from the next commit."""
    record = read_record(out)
    assert record is not None and record.folders is not None
    found = {}
    for parent, folders, _files in os.walk(out):
        for name in folders:
            path = Path(parent) / name
            if not path.is_symlink():
                found[path.relative_to(out).as_posix()] = path.lstat().st_mtime_ns
    assert record.folders == found


def test_the_twin_follows_every_change_the_user_makes_in_the_output_folder(tiny_site: Path, tmp_path: Path) -> None:
    prepare(tiny_site, "swap")
    out = tiny_site.parent / "output"
    [twin] = [p for p in (tiny_site.parent / ".syndicate-cache").glob("swap-*") if p.is_dir()]
    user = dict(USER_FILES)
    (out / "CNAME").unlink()
    del user["CNAME"]
    for name, data in {"articles/waiting/user.txt": b"in a folder the last commit did not touch\n",
                       ".well-known/acme-challenge/token": b"renewed\n", "extra/deep/file.txt": b"a new folder\n"}.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
        user[name] = data
    (out / ".git/objects/ab").rename(out / ".git/objects/cd")
    user[".git/objects/cd/cdef0123"] = user.pop(".git/objects/ab/cdef0123")
    change(tiny_site.parent)
    build_site(tiny_site)
    assert without_marker(view(out)) == {**clean_build(tiny_site, tmp_path), **user}
    assert_the_marker_lists_every_folder(out)
    late = b"written right after a commit, in a folder that commit changed\n"
    (out / "articles/greeting/late.txt").write_bytes(late)  # racy: the folder's mtime may not have moved
    user["articles/greeting/late.txt"] = late
    greeting = tiny_site.parent / "content/greeting.md"
    greeting.write_text(greeting.read_text() + "\nOne more line.\n")
    (tiny_site.parent / "content/media/2024").mkdir(parents=True)
    (tiny_site.parent / "content/media/2024/picture.txt").write_text("a copied file two new folders down\n")
    build_site(tiny_site)
    assert without_marker(view(out)) == {**clean_build(tiny_site, tmp_path), **user}
    assert_the_marker_lists_every_folder(out)
    time.sleep(3.1)  # past the racy window: the next commit leaves media/ alone, and vouches for its mtime
    greeting.write_text(greeting.read_text() + "\nAnd another.\n")
    build_site(tiny_site)
    assert_the_marker_lists_every_folder(out)
    for line in ("\nAgain.\n", "\nAnd again.\n"):  # edits with nothing changed by hand: the twin's kept folder times serve
        greeting.write_text(greeting.read_text() + line)
        build_site(tiny_site)
        assert_the_marker_lists_every_folder(out)
        assert without_marker(view(out)) == {**clean_build(tiny_site, tmp_path), **user}
    (out / "media/user.txt").write_bytes(b"in a folder syndicate made, after a commit that did not touch it\n")
    user["media/user.txt"] = b"in a folder syndicate made, after a commit that did not touch it\n"
    greeting.write_text(greeting.read_text() + "\nAnd a last one.\n")
    build_site(tiny_site)
    assert without_marker(view(out)) == {**clean_build(tiny_site, tmp_path), **user}
    assert_the_marker_lists_every_folder(out)
    # Caught up: a server holding the old folder open sees the new site too (the marker aside).
    assert without_marker(view(twin)) == without_marker(view(out))


def test_the_save_after_the_twin_is_made_measures_only_the_folders_it_writes_in(
        tiny_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commit that makes the twin measures the twin's folders (it walked them all anyway),
    so the next one, an author's next save, does not look at every folder again."""
    build_site(tiny_site)
    greeting = tiny_site.parent / "content/greeting.md"
    greeting.write_text(greeting.read_text() + "\nA first save: the twin is made.\n")
    build_site(tiny_site)
    measured: list[int] = []
    real = syndicate.output.folder_times
    monkeypatch.setattr(syndicate.output, "folder_times", lambda root, folders: measured.append(len(set(folders))) or real(root, folders))
    greeting.write_text(greeting.read_text() + "\nThe next save.\n")
    assert build_site(tiny_site).patched
    assert measured == []
    assert without_marker(view(tiny_site.parent / "output")) == clean_build(tiny_site, tmp_path)
    assert_the_marker_lists_every_folder(tiny_site.parent / "output")


# The disk is the truth: what the record says is checked against it on every build.


def test_a_rebuild_with_nothing_changed_restores_what_was_deleted_or_replaced_in_the_output(tiny_site: Path, tmp_path: Path) -> None:
    build_site(tiny_site)
    out = tiny_site.parent / "output"
    secret = tmp_path / "secret.txt"
    secret.write_text("not for publishing\n")
    (out / "articles/greeting/index.html").unlink()
    (out / "feed.xml").write_text("<rss>tampered, and a different size</rss>\n")
    same_size = out / "archive/index.html"
    data = same_size.read_bytes()
    same_size.write_bytes(data.replace(b"<", b"{", 1))  # same size, new mtime
    (out / "robots.txt").unlink()
    (out / "robots.txt").symlink_to(secret)
    report = build_site(tiny_site)
    assert report.written == 4
    assert without_marker(view(out)) == clean_build(tiny_site, tmp_path)
    assert secret.read_text() == "not for publishing\n"
    assert build_site(tiny_site).written == 0


def test_a_symlink_planted_at_a_folder_is_replaced_and_nothing_is_written_through_it(tiny_site: Path, tmp_path: Path) -> None:
    build_site(tiny_site)
    out = tiny_site.parent / "output"
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "greeting").mkdir(parents=True)
    (elsewhere / "greeting/index.html").write_text("someone else's page\n")
    shutil.rmtree(out / "articles")
    (out / "articles").symlink_to(elsewhere, target_is_directory=True)
    build_site(tiny_site)  # no --clean: an ordinary rebuild with nothing changed
    assert not (out / "articles").is_symlink()
    assert without_marker(view(out)) == clean_build(tiny_site, tmp_path)
    assert view(elsewhere) == {"greeting/index.html": b"someone else's page\n"}


@pytest.mark.parametrize("how", ["clean", "no_cache", "cache_lost", "article_deleted"])
def test_files_the_user_put_in_the_output_folder_are_never_deleted(tiny_site: Path, tmp_path: Path, how: str) -> None:
    build_site(tiny_site)
    out = tiny_site.parent / "output"
    add_user_files(out)
    options: dict[str, object] = {}
    if how == "clean":
        options["clean"] = True
    elif how == "no_cache":
        options["use_cache"] = False
    elif how == "cache_lost":
        shutil.rmtree(tiny_site.parent / ".syndicate-cache")
    else:
        (tiny_site.parent / "content/chairs.md").unlink()
    build_site(tiny_site, **options)
    assert without_marker(view(out)) == {**clean_build(tiny_site, tmp_path), **USER_FILES}
    assert ("articles/chairs/index.html" in view(out)) == (how != "article_deleted")


def test_a_file_of_the_user_standing_where_an_output_goes_is_an_error(tiny_site: Path) -> None:
    build_site(tiny_site)
    out = tiny_site.parent / "output"
    (out / "articles/new").mkdir()
    (out / "articles/new/index.html").write_text("the user's own page\n")
    before = view(out)
    (tiny_site.parent / "content/new.md").write_text(article("New", author="cy-lee", date="2025-12-01"))
    with pytest.raises(SiteError) as caught:
        build_site(tiny_site)
    assert [(p.path.endswith("output/articles/new/index.html"), p.message) for p in caught.value.problems] == [
        (True, "syndicate did not write this, and it is in the way of an output; move it into content/ to publish "
               "it as it is, or delete it")]
    assert view(out) == before and not debris(tiny_site.parent)


def test_a_server_holding_the_output_folder_open_sees_the_new_site(tiny_site: Path) -> None:
    prepare(tiny_site, "swap")
    out = tiny_site.parent / "output"
    held = os.open(out, os.O_RDONLY | os.O_DIRECTORY)  # as a container's bind mount or a server's cwd would
    try:
        change(tiny_site.parent)
        build_site(tiny_site)
        for name in ("articles/greeting/index.html", "index.html", "extra/new.txt"):
            with open(f"/proc/self/fd/{held}/{name}", "rb") as through_held, open(out / name, "rb") as by_path:
                assert through_held.read() == by_path.read()
        assert not os.path.exists(f"/proc/self/fd/{held}/articles/chairs/index.html")
    finally:
        os.close(held)


# Where things are: refused before anything is written.


@pytest.mark.parametrize(("output", "message"), [
    ("content/public", "the output folder must not be inside content/ (the build reads it); choose a folder beside it, like output/"),
    ("templates/out", "the output folder must not be inside templates/ (the build reads it); choose a folder beside it, like output/"),
    (".", "the output folder would contain the site itself; choose a folder of its own, like output/"),
    ("..", "the output folder would contain the site itself; choose a folder of its own, like output/"),
])
def test_an_output_folder_that_holds_the_site_or_sits_in_its_inputs_is_refused(tiny_site: Path, output: str, message: str) -> None:
    with pytest.raises(SiteError) as caught:
        build_site(tiny_site, output_dir=(tiny_site.parent / output))
    assert [p.message for p in caught.value.problems] == [message]
    assert not (tiny_site.parent / "content/public").exists() and not (tiny_site.parent / "templates").exists()


def test_a_file_where_the_cache_folder_goes_is_one_clear_line(tiny_site: Path) -> None:
    (tiny_site.parent / ".syndicate-cache").write_text("not a folder\n")
    with pytest.raises(SiteError) as caught:
        build_site(tiny_site)
    assert str(caught.value) == ".syndicate-cache:1: exists and is not a folder; syndicate keeps its cache there: move it away"
    assert not (tiny_site.parent / "output").exists()


def test_a_file_name_that_is_not_utf8_builds_and_rebuilds(write_site: Callable[..., Path]) -> None:
    site = write_site({"content/good.md": article("Good"), "content/caf\udce9.md": article("Cafe", slug="cafe")})
    assert build_site(site).articles == 2
    (site.parent / "content/good.md").write_text(article("Good", body="Changed."))
    assert build_site(site).written > 0  # the cache stored the name: no failure after the commit
    assert build_site(site).written == 0


# Real file systems where this machine lets the tests mount them (root with CAP_SYS_ADMIN).


@contextmanager
def mounted(*args: str, target: Path) -> Iterator[None]:
    try:
        subprocess.run(["mount", *args, str(target)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount file systems here: {exc}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


def test_an_output_folder_that_is_a_bind_mount_is_committed_in_place(tiny_site: Path, tmp_path: Path) -> None:
    volume, out = tmp_path / "volume", tiny_site.parent / "output"
    volume.mkdir()
    out.mkdir()
    with mounted("--bind", str(volume), target=out):  # as `docker run -v volume:/site/output` does
        build_site(tiny_site)
        add_user_files(out)
        change(tiny_site.parent)
        build_site(tiny_site)
        assert without_marker(view(out)) == {**clean_build(tiny_site, tmp_path), **USER_FILES}
        assert not list((tiny_site.parent / ".syndicate-cache").glob("swap-*")) and not debris(tiny_site.parent)
    assert without_marker(view(volume)) == {**clean_build(tiny_site, tmp_path), **USER_FILES}


def test_a_read_only_output_folder_is_one_clear_line_and_nothing_changes(tiny_site: Path, tmp_path: Path) -> None:
    out = tiny_site.parent / "output"
    out.mkdir()
    with mounted("--bind", str(out), target=out):
        build_site(tiny_site)
        before = view(out, scratch=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(out)], check=True)
        change(tiny_site.parent)
        with pytest.raises(SiteError) as caught:
            build_site(tiny_site)
        assert len(caught.value.problems) == 1
        assert caught.value.problems[0].message.startswith("cannot write the output folder: the file system is read-only (")
        assert view(out, scratch=True) == before
        subprocess.run(["mount", "-o", "remount,bind,rw", str(out)], check=True)
        build_site(tiny_site)
        assert without_marker(view(out)) == clean_build(tiny_site, tmp_path)


def test_a_full_disk_is_one_clear_line_and_nothing_changes(tiny_site: Path, tmp_path: Path) -> None:
    out = tiny_site.parent / "output"
    out.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=1m", "tmpfs", target=out):
        build_site(tiny_site)
        before = view(out, scratch=True)
        (tiny_site.parent / "content/big.bin").write_bytes(os.urandom(2_000_000))
        with pytest.raises(SiteError) as caught:
            build_site(tiny_site)
        assert len(caught.value.problems) == 1
        assert caught.value.problems[0].message.startswith("cannot stage the new files: no space left on the device (")
        assert view(out, scratch=True) == before
        (tiny_site.parent / "content/big.bin").unlink()
        change(tiny_site.parent)
        build_site(tiny_site)
        assert without_marker(view(out)) == clean_build(tiny_site, tmp_path)


@pytest.mark.parametrize("damage", ["staged_files_lost", "journal_garbled"])
def test_a_commit_that_cannot_be_finished_never_holds_back_the_next_build(
        tiny_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    build_site(tiny_site)
    add_user_files(tiny_site.parent / "output")
    change(tiny_site.parent)
    monkeypatch.setattr(syndicate.output, "can_exchange", lambda *_args: False)
    count = {"n": 0}

    def interrupt(name: str, _path: str) -> None:
        count["n"] += 1
        if name == "replace" and count["n"] > 40:
            raise KeyboardInterrupt  # as a kill would stop it, half-way through the renames

    with pytest.raises(KeyboardInterrupt), during_commit(monkeypatch, interrupt):
        build_site(tiny_site)
    stage = tiny_site.parent / "output" / STAGE_IN_OUTPUT
    assert (stage / "JOURNAL.json").exists()
    if damage == "staged_files_lost":
        for staged in stage.iterdir():
            if staged.is_file() and staged.name != "JOURNAL.json":
                staged.unlink()
    else:
        (stage / "JOURNAL.json").write_text('{"writes": ["../../etc/passwd"], "deletes": [')
    build_site(tiny_site, clean=True, use_cache=False)
    assert without_marker(view(tiny_site.parent / "output")) == {**clean_build(tiny_site, tmp_path), **USER_FILES}
    assert not debris(tiny_site.parent)


def test_a_first_build_keeps_a_twin_only_for_a_folder_inside_the_cache(tiny_site: Path) -> None:
    cache = tiny_site.parent / ".syndicate-cache"
    build_site(tiny_site)  # the deploy folder, built from nothing: no second copy in the cache
    assert not [p for p in cache.glob("swap-*") if p.is_dir()]
    preview = cache / "serve"
    build_site(tiny_site, output_dir=preview)  # the preview server's folder: its next save needs no full copy
    [twin] = [p for p in cache.glob("swap-*") if p.is_dir()]
    assert without_marker(view(twin)) == without_marker(view(preview))
    assert twin.with_name(twin.name + ".synced").read_text().splitlines()[0] == view(preview)[MARKER].decode().splitlines()[-1]


def test_the_cache_manifest_counts_only_where_the_marker_and_the_disk_agree(tiny_site: Path) -> None:
    """One record in two halves: the cache's manifest vouches for a file only while the marker
    lists it under the same token and size and the disk still holds it as the marker says."""
    build_site(tiny_site)
    out = (tiny_site.parent / "output").absolute()
    site = load_site(tiny_site)

    def trusted() -> dict[str, tuple[str, str, int]]:
        cache = Cache(site.cache_dir, authors=site.authors)
        try:
            record = read_record(out)
            return incremental.trusted_manifest(cache, out, record, intact_files(out, record))
        finally:
            cache.close()

    record = read_record(out)
    assert record is not None and record.files is not None
    assert set(trusted()) == set(record.files)  # every file both halves know, and no other
    (out / "feed.xml").write_text("edited by hand\n")
    assert set(trusted()) == set(record.files) - {"feed.xml"}
    cache = Cache(site.cache_dir, authors=site.authors)
    token, entries = cache.manifest(str(out))
    key, digest, size = entries["robots.txt"]
    cache.put_manifest(str(out), token, {**entries, "robots.txt": (key, digest, size + 1)})  # the halves disagree about one file
    cache.close()
    assert set(trusted()) == set(record.files) - {"feed.xml", "robots.txt"}
    marker = (out / MARKER).read_text("utf-8").splitlines()
    (out / MARKER).write_text("\n".join([*marker[:-1], "another-token"]) + "\n", "utf-8")
    assert trusted() == {}  # another build's folder: nothing is vouched for
    build_site(tiny_site)
    assert without_marker(view(out))["feed.xml"] != b"edited by hand\n"
