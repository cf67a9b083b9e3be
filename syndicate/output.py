"""The only module that writes: stages new files, then commits them under a journal.

The previous output folder stays exactly as it was until every output has been rendered
and verified. Changed files are first written to a stage folder on the same filesystem;
the commit is then a journal (the list of renames and deletions, written atomically) and
one `os.replace` per changed file. An interrupted commit is completed by the next run
from its journal, and a stage without a journal is thrown away: either way the folder
never ends half old, half new. Unchanged files are never touched, so their mtimes stay
put and deploy tools sync only what changed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SiteError, display_path
from .urls import contained_path

MARKER = ".syndicate-output"
JOURNAL = "JOURNAL.json"
MARKER_TEXT = "This folder is written by `syndicate build`; its files are replaced on every build.\n"


@dataclass(slots=True)
class Stage:
    """Files written for one build, waiting to be committed into the output folder."""

    out_dir: Path
    folder: Path
    writes: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)

    def put(self, path: str, data: bytes) -> None:
        with open(self._target(path), "wb") as handle:
            handle.write(data)

    def put_file(self, path: str, source: Path) -> None:
        target = self._target(path)
        try:
            os.link(source, target)  # an asset's bytes are already on disk: share them
        except OSError:
            shutil.copy2(source, target)

    def _target(self, path: str) -> str:
        if not is_plain_relative(path) or path.startswith(MARKER):
            raise SiteError.one(path, 1, "refusing to write outside the output folder")
        return os.path.join(self.folder, staged_name(path))


def staged_name(path: str) -> str:
    """Where a file waits in the stage: one flat folder, so staging makes no folders at all
    and throwing a stage away is one rmdir, not one per article."""
    return hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def is_plain_relative(path: str) -> bool:
    """A relative posix path with no '..', '.', empty or absolute parts: it cannot climb out."""
    return bool(path) and not path.startswith("/") and "\\" not in path and all(
        part not in ("", ".", "..") for part in path.split("/"))


def check_ownership(out_dir: Path, root: Path) -> None:
    """Refuse a non-empty output folder that syndicate did not create: never empty it."""
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise SiteError.one(display_path(out_dir, root), 1, "output path exists and is not a folder")
    if out_dir.is_dir() and not (out_dir / MARKER).exists() and any(out_dir.iterdir()):
        raise SiteError.one(
            display_path(out_dir, root), 1,
            "output folder is not empty and was not created by syndicate; choose another --output or empty it yourself",
        )


def open_stage(out_dir: Path, stage_dir: Path) -> Stage:
    """An empty stage folder, made before workers fork so they only ever write files into it."""
    discard(stage_dir)
    stage_dir.mkdir(parents=True)
    return Stage(out_dir, stage_dir)


def stage_folder(out_dir: Path, cache_dir: Path) -> Path:
    """Stage beside the cache when it shares the output's filesystem, else inside the output."""
    parent = out_dir.parent
    try:
        same = os.stat(cache_dir).st_dev == os.stat(parent).st_dev
    except OSError:
        same = False
    # One stage per output folder: an interrupted deploy build must never be replayed into
    # the preview server's folder, or the other way round.
    key = hashlib.blake2b(str(out_dir.absolute()).encode(), digest_size=6).hexdigest()
    return cache_dir / f"stage-{key}" if same else out_dir / ".syndicate-stage"


@contextlib.contextmanager
def build_lock(cache_dir: Path, root: Path) -> Iterator[None]:
    """One build at a time per site: a second one is refused with a clear message."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / "lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise SiteError.one(display_path(cache_dir, root), 1, "another build of this site is running; wait for it to finish") from None
            raise
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def recover(out_dir: Path, stage_dir: Path) -> None:
    """Finish what an interrupted run left: roll a journaled commit forward, or drop the stage."""
    journal = stage_dir / JOURNAL
    if journal.exists():
        try:
            plan = json.loads(journal.read_text("utf-8"))
        except (OSError, ValueError):
            plan = None
        if plan is not None:
            _apply(out_dir, stage_dir, plan["writes"], plan["deletes"])
            # A new token: the manifest of the build that was cut short no longer describes the folder.
            write_marker(out_dir, secrets.token_hex(8))
    discard(stage_dir)


def write_marker(out_dir: Path, token: str) -> None:
    """Mark the folder as syndicate's, with the token that ties it to the cache's manifest."""
    (out_dir / MARKER).write_text(MARKER_TEXT + token + "\n")


def discard(stage_dir: Path) -> None:
    shutil.rmtree(stage_dir, ignore_errors=True)


def commit(stage: Stage, token: str) -> None:
    """Make the staged files the output folder's contents: journal first, then renames."""
    out_dir = stage.out_dir
    if not stage.writes and not stage.deletes and (out_dir / MARKER).exists():
        discard(stage.folder)
        return
    plan = {"writes": sorted(stage.writes), "deletes": sorted(stage.deletes)}
    stage.folder.mkdir(parents=True, exist_ok=True)
    temporary = stage.folder / (JOURNAL + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(plan, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, stage.folder / JOURNAL)  # the commit point
    blocked = _block_signals()
    try:
        _apply(out_dir, stage.folder, plan["writes"], plan["deletes"])
        write_marker(out_dir, token)
    finally:
        _restore_signals(blocked)
    discard(stage.folder)


def _apply(out_dir: Path, stage_dir: Path, writes: Iterable[str], deletes: Iterable[str]) -> None:
    """Idempotent: running it twice, or after a crash halfway, gives the same folder.

    Plain string paths and one check per folder: a first build moves tens of thousands of
    files, and pathlib's per-call cost would be most of the commit."""
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / MARKER
    if not marker.exists():
        marker.write_text(MARKER_TEXT)
    out = str(out_dir)
    new_folders: set[str] = set()
    checked: set[str] = set()
    for path in writes:
        if not is_plain_relative(path):
            continue
        target = os.path.join(out, path)
        parent = os.path.dirname(target)
        _prepare_folder(parent, out, checked, new_folders)
        if parent not in new_folders and os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        try:
            os.replace(os.path.join(stage_dir, staged_name(path)), target)
        except FileNotFoundError:
            continue  # moved before an interruption
    folders: set[Path] = set()
    for path in deletes:
        target_path = out_dir / path
        with contextlib.suppress(FileNotFoundError):
            if contained_path(out_dir, path) is not None:
                target_path.unlink()
        folders.update(p for p in target_path.parents if p != out_dir and p.is_relative_to(out_dir))
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only succeeds once empty


def _prepare_folder(folder: str, out: str, checked: set[str], new_folders: set[str]) -> None:
    """Make sure a file's folder is a real folder inside the output, its parents first.

    A symlink or a file planted where a folder belongs is removed (never followed), so
    no write can be carried outside the output folder."""
    if folder == out or folder in checked:
        return
    _prepare_folder(os.path.dirname(folder), out, checked, new_folders)
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISDIR(mode):
        os.unlink(folder)
        mode = None
    if mode is None:
        os.mkdir(folder)
        new_folders.add(folder)
    checked.add(folder)


def existing_files(out_dir: Path) -> dict[str, Path]:
    """Every file now in the output folder, by its posix path, the marker excepted."""
    found: dict[str, Path] = {}
    if not out_dir.is_dir():
        return found
    for folder, dirs, files in os.walk(out_dir):
        dirs[:] = [d for d in dirs if d != ".syndicate-stage"]
        for name in files:
            path = Path(folder) / name
            rel = path.relative_to(out_dir).as_posix()
            if rel != MARKER:
                found[rel] = path
    return found


_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _block_signals() -> set[int | signal.Signals] | None:
    """Hold Ctrl-C and SIGTERM during the renames: they take milliseconds, and a stop
    between two of them is what the journal would otherwise have to repair."""
    try:
        return signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    except (AttributeError, ValueError, OSError):
        return None


def _restore_signals(previous: set[int | signal.Signals] | None) -> None:
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
