"""The marker file, `.syndicate-output`: the output folder's own record of what syndicate wrote.

It marks the folder as syndicate's (a non-empty folder without it is refused), and lists
every file the last commit wrote with its size and mtime, and every folder with its mtime.
It travels with the folder, so it is swapped with it in the same instant and survives a
lost cache. A build believes it only as far as the disk agrees (`intact_files`), deletes
only files it lists, and compares only the folders whose mtimes moved (`changed_folders`).
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .tree import real_folder

MARKER = ".syndicate-output"
MARKER_TEXT = "This folder is written by `syndicate build`; its files are replaced on every build.\n"
_FILES = "files:"


@dataclass(frozen=True, slots=True)
class Record:
    """What the last commit left in the output folder, as its marker tells."""

    token: str
    files: dict[str, tuple[int, int]] | None  # path -> (size, mtime_ns); None: an older marker without a list
    folders: dict[str, int] | None = None  # every folder below the top (the user's too) -> mtime_ns
    written_ns: int = 0  # the marker's own mtime: a folder no older than it may change unseen


def read_record(out_dir: Path) -> Record | None:
    """The marker's record; None when there is no marker. A damaged marker trusts nothing."""
    try:
        with open(out_dir / MARKER, encoding="utf-8") as handle:
            written = os.fstat(handle.fileno()).st_mtime_ns
            lines = handle.read().split("\n")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return Record("", None)
    if lines and not lines[-1]:
        lines.pop()
    if len(lines) < 2:
        return Record("", None)
    token = lines[-1].strip()
    if len(lines) < 3 or not lines[1].startswith(_FILES):
        return Record(token, None)
    body = lines[2:-1]
    try:
        # Files first, then folders (`marker_text`): each part read by comprehensions, which run in C.
        split = next((n for n in range(len(body) - 1, -1, -1) if not body[n].endswith("/")), -1) + 1
        files = {path: (int(size), int(mtime)) for size, mtime, path in (line.split(" ", 2) for line in body[:split])}
        folders = {path[:-1]: int(mtime) for mtime, path in (line.split(" ", 1) for line in body[split:])}
    except ValueError:
        return Record("", None)
    return Record(token, files, folders, written)


def marker_text(token: str, files: dict[str, tuple[int, int]], folders: dict[str, int]) -> str:
    lines = [MARKER_TEXT.rstrip("\n"), _FILES,
             *(f"{s} {m} {p}" for p, (s, m) in files.items()), *(f"{m} {p}/" for p, m in folders.items()), token]
    return "\n".join(lines) + "\n"


def write_marker(folder: Path, text: str) -> None:
    """Write the marker under a new name, then rename it over: never in place, because the
    output folder and its twin share files, and a write in place would change both."""
    temporary = folder / f"{MARKER}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, folder / MARKER)


@dataclass(frozen=True, slots=True)
class Seen:
    """The output folder as a build finds it: its marker's record, and which of the files it
    lists the disk still holds as listed. `look` makes it, possibly in another process
    (parallel.Beside), so it travels as the record and the few files that are not intact."""

    record: Record | None
    missing: frozenset[str]  # listed, but deleted, edited or replaced since

    @property
    def intact(self) -> set[str]:
        files = self.record.files if self.record is not None else None
        return set(files).difference(self.missing) if files else set()


def look(out_dir: Path) -> Seen:
    record = read_record(out_dir)
    intact = intact_files(out_dir, record)
    return Seen(record, frozenset(set(record.files or ()) - intact) if record is not None else frozenset())


def intact_files(out_dir: Path, record: Record | None) -> set[str]:
    """The recorded files that are still regular files of the recorded size and mtime, in
    real folders (a folder replaced by a symlink vouches for nothing beneath it).

    One lstat per file, and one per folder that holds folders: a folder whose parent is a
    real folder with the mtime the record gives it (and not racy) is the folder that was
    recorded, since replacing it would have moved its parent's mtime. A site of 26,000
    files takes about 0.1 s."""
    if record is None or not record.files:
        return set()
    out = str(out_dir)
    real = _real_folders(out, record)
    prefix = out + "/"
    lstat = os.lstat
    found = []
    for path, (size, mtime) in record.files.items():
        folder = path.rpartition("/")[0]
        if folder in real or real_folder(out, folder, real):
            try:
                info = lstat(prefix + path)
            except OSError:
                continue
            if info.st_mtime_ns == mtime and info.st_size == size and info.st_mode & 0o170000 == stat.S_IFREG:
                found.append(path)
    return set(found)


def _real_folders(out: str, record: Record) -> dict[str, bool]:
    """Which folders are real, as far as can be said cheaply: those below a steady parent
    (see `intact_files`), and the folders that hold folders, looked at one by one. Others
    are looked at by `real_folder` when a file asks."""
    recorded = record.folders or {}
    real: dict[str, bool] = {"": os.path.isdir(out) and not os.path.islink(out)}
    steady: set[str] = set()
    parents = {folder.rpartition("/")[0] for folder in recorded}
    for folder in sorted(parents, key=lambda f: (f.count("/"), f)):
        if not folder or not real_folder(out, folder, real):
            continue
        try:
            info = os.lstat(f"{out}/{folder}")
        except OSError:
            continue
        mtime = recorded.get(folder)
        if info.st_mtime_ns == mtime and mtime < record.written_ns:
            steady.add(folder)
    for folder in recorded:
        parent = folder.rpartition("/")[0]
        if parent in steady and folder not in real:
            real[folder] = True
    return real


def changed_folders(out_dir: Path, record: Record | None) -> set[str] | None:
    """The folders whose entries may differ from what the record describes: the top one,
    those whose mtime moved, and those changed in the same tick of the file system's clock
    as the record was written, where a later change could keep the mtime (as git treats
    "racily clean" files). None: the record cannot say."""
    if record is None or record.folders is None:
        return None
    out = str(out_dir)
    racy_since = record.written_ns
    changed = {""}
    for folder, mtime in record.folders.items():
        try:
            info = os.lstat(f"{out}/{folder}")
        except OSError:
            changed.add(folder.rpartition("/")[0])  # gone: compare its parent
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_mtime_ns != mtime or mtime >= racy_since:
            changed.add(folder)
    return changed


def tick_past(folder: Path, newest: int) -> None:
    """Wait (a few milliseconds at most) until the file system's clock, read from `folder`'s
    own mtime, has moved past `newest`: the marker written next is then newer than every
    folder it records, and none of them is racy at the next commit."""
    for _attempt in range(20):
        os.utime(folder)
        if os.lstat(folder).st_mtime_ns > newest:
            return
        time.sleep(0.001)


def folder_times(root: Path, candidates: Iterable[str]) -> dict[str, int]:
    """The mtime of each real folder among `candidates`, and of every folder on the way to
    them, under `root` (never through a link), the top left out: one lstat each."""
    out = str(root)
    found: dict[str, int] = {}
    real: dict[str, bool] = {"": True}

    def look(folder: str) -> bool:
        known = real.get(folder)
        if known is not None:
            return known
        real[folder] = False
        if look(folder.rpartition("/")[0]):
            with contextlib.suppress(OSError):
                info = os.lstat(f"{out}/{folder}")
                if stat.S_ISDIR(info.st_mode):
                    real[folder] = True
                    found[folder] = info.st_mtime_ns
        return real[folder]

    for folder in candidates:
        look(folder)
    return found


def touched_folders(paths: Iterable[str]) -> set[str]:
    """Every folder a commit may have changed by writing or deleting `paths`: the folder of
    each, the folders above it, and the path itself (a folder a file replaced)."""
    found: set[str] = set()
    for path in paths:
        while path and path not in found:
            found.add(path)
            path = path.rpartition("/")[0]
    return found


def refreshed_times(root: Path, times: Mapping[str, int], folders: Iterable[str]) -> dict[str, int]:
    """`times` (each folder's mtime as last seen under `root`) with `folders` looked at again,
    one lstat each: a real folder gets its mtime, and one that is no longer a real folder
    leaves with every folder below it."""
    out = str(root)
    found = dict(times)
    gone = []
    for folder in folders:
        if not folder:
            continue  # the top is left out, as in `folder_times`
        try:
            info = os.lstat(f"{out}/{folder}")
        except OSError:
            info = None
        if info is not None and stat.S_ISDIR(info.st_mode):
            found[folder] = info.st_mtime_ns
        elif folder in found:
            gone.append(folder)
    if gone:
        below = tuple(f"{folder}/" for folder in gone)
        found = {folder: mtime for folder, mtime in found.items() if folder not in gone and not folder.startswith(below)}
    return found
