"""The commit in place, for an output folder that cannot be swapped: a journal, then renames.

An output folder that is a mount point, on another file system than the cache, or on one
without the exchange, is updated file by file. The list of renames is written (and synced)
to a journal first: that is the commit point. Each file about to be replaced or deleted is
linked aside beforehand, so a fault half-way (a full disk) puts every old file back, and a
kill half-way is finished by the next build before it reads anything (`replay`), or undone
when it cannot be finished. While the renames run, the marker names every old and new file
as syndicate's and trusts none of them, so even a lost journal costs a full render, never
the user's files.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .marker import MARKER, marker_text, write_marker
from .tree import apply_changes, is_plain_relative, link_or_copy, real_folder, staged_name

JOURNAL = "JOURNAL.json"


def commit_in_place(out_dir: Path, folder: Path, token: str, writes: list[str], deletes: list[str],
                    ours: set[str] | None, files: dict[str, tuple[int, int]]) -> None:
    """Journal, then rename file by file from the stage `folder` into `out_dir`.

    Raises OSError with the output folder as it was: before the journal nothing has moved,
    and after it a fault puts every old file back before the error goes up."""
    new_folders = keep_aside(out_dir, folder, [*writes, *deletes, MARKER])
    journal = {"writes": writes, "deletes": deletes, "ours": None if ours is None else sorted(ours),
               "token": token, "files": files, "new_folders": new_folders}
    temporary = folder / f"{JOURNAL}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(journal, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, folder / JOURNAL)  # the commit point
    try:
        write_marker(out_dir, marker_text("", dict.fromkeys([*(ours or ()), *files], (-1, -1)), {}))
        apply_changes(out_dir, folder, writes, deletes, ours, keep_staged=False)
        write_marker(out_dir, marker_text(token, files, {}))  # no folder times: nothing is swapped with this folder
    except OSError:
        roll_back(out_dir, folder, writes, deletes, new_folders)
        raise
    with contextlib.suppress(OSError):
        (folder / JOURNAL).unlink()  # done: never replayed, even if the stage outlives this build


def keep_aside(out_dir: Path, folder: Path, paths: Iterable[str]) -> list[str]:
    """Link each file about to be replaced or deleted into the stage, and list the folders
    the commit will make, so that a rollback can restore the folder exactly."""
    aside = folder / "old"
    aside.mkdir(exist_ok=True)
    out = str(out_dir)
    known: dict[str, bool] = {"": True}
    new_folders: set[str] = set()
    for path in paths:
        parent = path.rpartition("/")[0]
        if not real_folder(out, parent, known):
            while parent and not real_folder(out, parent, known):
                new_folders.add(parent)
                parent = parent.rpartition("/")[0]
            continue
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISREG(os.lstat(f"{out}/{path}").st_mode):
                link_or_copy(f"{out}/{path}", aside / staged_name(path))
    return sorted(new_folders)


def roll_back(out_dir: Path, folder: Path, writes: list[str], deletes: list[str], new_folders: list[str]) -> None:
    """Undo a journaled commit: put back what it replaced or deleted, remove what it added."""
    aside = folder / "old"
    with contextlib.suppress(OSError):
        for path in [*writes, *deletes, MARKER]:
            if path in writes and (folder / staged_name(path)).exists():
                continue  # never moved in
            target, kept = out_dir / path, aside / staged_name(path)
            if kept.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(kept, target)
            elif path in writes:
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
        for name in sorted(new_folders, key=len, reverse=True):
            with contextlib.suppress(OSError):
                (out_dir / name).rmdir()
    for leftover in (out_dir / f"{MARKER}.tmp", folder / JOURNAL):
        with contextlib.suppress(OSError):
            leftover.unlink()


def replay(out_dir: Path, folder: Path) -> None:
    """Finish an in-place commit that a kill interrupted; undo it if it cannot be finished,
    so a commit that failed can never stop the next build."""
    try:
        plan = json.loads((folder / JOURNAL).read_text("utf-8"))
        writes, deletes, token = list(plan["writes"]), list(plan["deletes"]), str(plan["token"])
        ours = None if plan["ours"] is None else set(plan["ours"])
        files = {str(p): (int(s), int(m)) for p, (s, m) in plan["files"].items()}
        new_folders = list(plan["new_folders"])
    except (OSError, ValueError, KeyError, TypeError):
        return  # a journal that cannot be read was never the commit point: nothing moved
    if not all(isinstance(p, str) and is_plain_relative(p) for p in [*writes, *deletes, *files, *new_folders]):
        return
    try:
        apply_changes(out_dir, folder, writes, deletes, ours, keep_staged=False)
        write_marker(out_dir, marker_text(token, files, {}))
    except OSError:
        roll_back(out_dir, folder, writes, deletes, new_folders)
