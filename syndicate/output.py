"""The only module that writes the output folder: readers see the old site or the new one.

Rendering writes changed files into a flat stage folder; nothing in the output folder
changes until every output has been rendered and checked. Then `commit`:

- **Swap (the usual case).** The output folder has a twin in the cache, kept as a copy
  made of hard links (so it costs folders and names, not bytes). The twin is made to
  match the output folder (files the user put there included), the changed files are
  linked into it and deleted ones removed, and `renameat2(RENAME_EXCHANGE)` swaps the
  two folders in one system call (tree.py). A reader that opens `output/...` by its path
  gets a file of the old site before that instant and of the new one after it: a kill at
  any moment leaves one or the other, never a mix. The old folder, now the twin, is then
  brought up to date the same way, so a server that holds it open (a container's bind
  mount, a server started inside `output/`) sees the new files too, one by one.
- **In place (when the output folder cannot be swapped).** An output folder that is a
  mount point (`docker run -v`), or on another file system than the cache, or on one
  without the exchange, is updated file by file under a journal (journal.py).

The marker file `.syndicate-output` (marker.py) records what the last commit wrote. A
build trusts it only as far as the disk agrees, and deletes only files it lists: files the
user added to the output folder (`CNAME`, `.well-known/`, `.git/`) are kept through every
build.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import os
import secrets
import shutil
import signal
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Problem, SiteError, display_path
from .journal import JOURNAL, commit_in_place, replay
from .marker import (
    MARKER,
    MARKER_TEXT,
    Record,
    Seen,
    changed_folders,
    folder_times,
    look,
    marker_text,
    refreshed_times,
    tick_past,
    touched_folders,
    write_marker,
)
from .parallel import Beside
from .paths import shown
from .tree import (
    PROBE,
    apply_changes,
    can_exchange,
    exchange,
    find_obstacles,
    is_plain_relative,
    is_unsupported,
    mirror,
    remove,
    remove_probes,
    staged_name,
)

__all__ = ["JOURNAL", "MARKER", "MARKER_TEXT", "STAGE_IN_OUTPUT", "Stage", "abandon", "build_lock", "check_ownership",
           "commit", "discard", "folder_view", "open_stage", "recover", "stage_folder", "twin_folder"]

STAGE_IN_OUTPUT = ".syndicate-stage"


@dataclass(slots=True)
class Stage:
    """Files written for one build, waiting to be committed into the output folder."""

    out_dir: Path
    folder: Path
    twin: Path | None = None  # the folder to swap with; None: commit in place
    record: Record | None = None
    intact: set[str] = field(default_factory=set)  # recorded files the disk still agrees with
    created: bool = False  # this build made the output folder: nobody can be reading it
    writes: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    outputs: set[str] | None = None  # every output path of the build, written or kept

    def put(self, path: str, data: bytes) -> None:
        try:
            with open(self._target(path), "wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise _fault(self.out_dir, "cannot stage the new files", exc) from None

    def put_file(self, path: str, source: Path) -> None:
        """A copy, never a hard link: an image saved in place under content/ must not change
        the published site (and its twin) before a build has checked and committed it."""
        target = self._target(path)
        try:
            shutil.copy2(source, target)
        except OSError as exc:
            raise _fault(self.out_dir, "cannot stage the new files", exc) from None

    def _target(self, path: str) -> str:
        if not is_plain_relative(path) or path.startswith(".syndicate-"):
            raise SiteError.one(path, 1, "refusing to write outside the output folder")
        return os.path.join(self.folder, staged_name(path))


# Where things live.


def check_ownership(out_dir: Path, root: Path) -> None:
    """Refuse an output folder that would hold the site, or sit inside what the build reads,
    and a non-empty folder that syndicate did not create: never empty it."""
    shown_dir = display_path(out_dir, root)
    resolved, site = out_dir.resolve(), root.resolve()
    if site.is_relative_to(resolved):
        raise SiteError.one(shown_dir, 1, "the output folder would contain the site itself; choose a folder of its own, like output/")
    for name in ("content", "templates"):
        if resolved.is_relative_to(site / name):
            raise SiteError.one(shown_dir, 1, f"the output folder must not be inside {name}/ (the build reads it); "
                                              "choose a folder beside it, like output/")
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise SiteError.one(shown_dir, 1, "output path exists and is not a folder")
    try:
        foreign = out_dir.is_dir() and not (out_dir / MARKER).exists() and any(out_dir.iterdir())
    except OSError as exc:
        raise SiteError.one(shown_dir, 1, f"cannot read the output folder: {exc.strerror}") from None
    if foreign:
        raise SiteError.one(
            shown_dir, 1,
            "output folder is not empty and was not created by syndicate; choose another --output or empty it yourself",
        )


def stage_folder(out_dir: Path, cache_dir: Path) -> Path:
    """The stage in the cache, one per output folder: an interrupted deploy build must never
    be replayed into the preview server's folder, or the other way round."""
    key = hashlib.blake2b(str(out_dir.absolute()).encode("utf-8", "surrogateescape"), digest_size=6).hexdigest()
    return cache_dir / f"stage-{key}"


def twin_folder(stage_dir: Path) -> Path:
    """The output folder's twin, beside its stage in the cache."""
    return stage_dir.with_name(stage_dir.name.replace("stage-", "swap-", 1))


@contextlib.contextmanager
def build_lock(cache_dir: Path, root: Path) -> Iterator[None]:
    """One build at a time per site: a second one is refused with a clear message."""
    shown_dir = display_path(cache_dir, root)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle = open(cache_dir / "lock", "w")  # noqa: SIM115 -- closed below, after the lock is released
    except (FileExistsError, NotADirectoryError):
        raise SiteError.one(shown_dir, 1, "exists and is not a folder; syndicate keeps its cache there: move it away") from None
    except OSError as exc:
        raise SiteError.one(shown_dir, 1, f"cannot write the cache folder: {exc.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise SiteError.one(shown_dir, 1, "another build of this site is running; wait for it to finish") from None
            raise SiteError.one(shown_dir, 1, f"cannot lock the cache folder: {exc.strerror}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# Before and after a build.


def recover(out_dir: Path, stage_dir: Path) -> None:
    """Clear what an interrupted run left, before anything else reads the output folder:
    finish a journaled in-place commit (or undo it, when it cannot be finished), and drop
    stages and probes. An interrupted swap needs nothing: the folder is whole either way."""
    real = out_dir.is_dir() and not out_dir.is_symlink()
    for folder in (stage_dir, out_dir / STAGE_IN_OUTPUT) if real else (stage_dir,):
        if (folder / JOURNAL).exists():
            replay(out_dir, folder)
        discard(folder)
    if real:
        remove_probes(out_dir)
        with contextlib.suppress(OSError):
            (out_dir / f"{MARKER}.tmp").unlink()
    remove_probes(stage_dir.parent)


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def folder_view(out_dir: Path, stage_dir: Path, dry_run: bool, beside: bool) -> Beside[Seen]:
    """The output folder as this build finds it (marker.look), once an interrupted commit is
    finished (`recover`: it renews the folder's token). With `beside`, a folder a build wrote
    (tens of thousands of lstat calls) is looked at by a forked process while this one loads
    the plan: not for one job, nor in the preview server (its threads)."""
    if not dry_run:
        recover(out_dir, stage_dir)
    return Beside(functools.partial(look, out_dir), fork=beside and not dry_run and (out_dir / MARKER).is_file())


def open_stage(out_dir: Path, stage_dir: Path, seen: Seen) -> Stage:
    """An empty stage, made before workers fork so they only ever write files into it.

    Decides how this build will commit: by swapping with the twin when the file systems
    allow it, else in place, with the stage inside the output folder (the only place sure
    to be on its file system). `seen`: the folder as this build found it (marker.look),
    after `recover`."""
    created = False
    try:
        if not out_dir.is_dir():
            out_dir.mkdir(parents=True)
            created = True
        swap = can_exchange(out_dir, stage_dir.parent)
        folder = stage_dir if swap else out_dir / STAGE_IN_OUTPUT
        discard(folder)
        folder.mkdir(mode=0o700, parents=True)
    except OSError as exc:
        if created:
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise _fault(out_dir, "cannot write the output folder", exc) from None
    return Stage(out_dir, folder, twin_folder(stage_dir) if swap else None, seen.record, seen.intact, created)


def abandon(stage: Stage) -> None:
    """A build failed before its commit: drop the stage, and the output folder if this
    build made it (it is still empty). A journaled commit stays for the next run."""
    if not (stage.folder / JOURNAL).exists():
        discard(stage.folder)
    if stage.created:
        with contextlib.suppress(OSError):
            stage.out_dir.rmdir()


# The commit.


def commit(stage: Stage) -> str:
    """Make the staged files, with the kept ones, the output folder's contents. Returns the
    token of the marker the folder now carries: a new one, or the last when nothing changed."""
    if stage.outputs is None:
        raise ValueError("commit needs stage.outputs, the path of every output of the build")
    record = stage.record
    ours: set[str] | None = set() if record is None else None if record.files is None else set(record.files)
    deletes = sorted(ours - stage.outputs) if ours is not None else []
    writes = sorted(stage.writes)
    stage.deletes = deletes
    if not writes and not deletes and record is not None and record.files is not None and record.token:
        discard(stage.folder)
        return record.token
    token = secrets.token_hex(8)
    out_dir = stage.out_dir
    obstacles = find_obstacles(out_dir, writes, ours, stage.intact)
    if obstacles:
        raise SiteError(Problem(display_path(out_dir / path, Path.cwd()), 1,
                                "syndicate did not write this, and it is in the way of an output; move it into "
                                "content/ to publish it as it is, or delete it") for path in obstacles)
    files = _new_record(stage, writes)
    blocked = _block_signals()
    try:
        if stage.twin is not None:
            _swap(stage, token, writes, deletes, ours, files)
        else:
            _in_place(out_dir, stage.folder, token, writes, deletes, ours, files)
    finally:
        _restore_signals(blocked)
    discard(stage.folder)
    return token


def _new_record(stage: Stage, writes: list[str]) -> dict[str, tuple[int, int]]:
    """Size and mtime of every output after the commit: a moved or linked file keeps both."""
    assert stage.outputs is not None
    old = stage.record.files if stage.record is not None and stage.record.files is not None else {}
    written = set(writes)
    files = dict(old)  # set operations and a copy run in C: ten thousand articles make 26,000 files
    for path in (files.keys() - stage.outputs) | (files.keys() - stage.intact) | written:
        files.pop(path, None)
    for path in stage.outputs - files.keys():
        try:
            info = os.lstat(os.path.join(stage.folder, staged_name(path)) if path in written else stage.out_dir / path)
        except OSError:
            continue
        files[path] = (info.st_size, info.st_mtime_ns)
    return files


def _swap(stage: Stage, token: str, writes: list[str], deletes: list[str], ours: set[str] | None,
          files: dict[str, tuple[int, int]]) -> None:
    out_dir, twin = stage.out_dir, stage.twin
    assert twin is not None and stage.outputs is not None
    record = stage.record
    synced, twin_times = _read_stamp(twin)
    trusted = record is not None and record.folders is not None and bool(record.token) and synced == record.token
    try:
        _forget_stamp(twin)  # from here on the twin changes: a crash leaves it unvouched for
        only = changed_folders(out_dir, record) if trusted else None
        known = set(record.folders or ()) if trusted and record is not None else set()
        walked, mirrored = mirror(str(out_dir), str(twin), skip=_kept_out, only=only, known=known, replaced=set(writes))
        apply_changes(twin, stage.folder, writes, deletes, ours, keep_staged=True)
        # The twin held what the output folder holds: the folder times kept with it stand, but where this commit wrote.
        steady = trusted and not mirrored
        touched = touched_folders([*writes, *deletes])
        if steady and twin_times is not None:
            folders = refreshed_times(twin, twin_times, touched)
        else:
            folders = folder_times(twin, known | walked | {p.rpartition("/")[0] for p in stage.outputs})
        text = marker_text(token, files, folders)
        tick_past(twin, max(folders.values(), default=0))
        write_marker(twin, text)
        _copy_owner_and_mode(out_dir, twin)
    except OSError as exc:
        raise _fault(out_dir, "cannot prepare the new output folder", exc) from None
    try:
        exchange(twin, out_dir)  # the commit point
    except OSError as exc:
        if not is_unsupported(exc):
            raise _fault(out_dir, "cannot replace the output folder", exc) from None
        # The probe said yes but this folder cannot be swapped after all: move the files in.
        _in_place(out_dir, stage.folder, token, writes, deletes, ours, files)
        return
    try:
        if stage.created and not out_dir.is_relative_to(twin.parent):
            # The empty folder this build made: nothing can hold it open, and a folder built
            # from nothing (a CI job) would only carry a second copy of the site in its cache.
            # The preview server's folder, in the cache already, keeps it for its next save.
            remove(str(twin))
        else:
            apply_changes(twin, stage.folder, writes, deletes, ours, keep_staged=False)
            # The old folder, now the twin, is as its record described it but where the user or this commit changed it.
            # Else its folders are measured now, in the commit that had to compare them all anyway: so the next
            # commit (an author's next save) looks only at the folders it writes in.
            times = (refreshed_times(twin, record.folders, touched | (only or set())) if steady and record and record.folders
                     else folder_times(twin, folders))
            _write_stamp(twin, token, times)  # its marker stays the old one: the next commit links the new one in
    except OSError:
        pass  # the twin is only a head start: unvouched for, the next commit compares it all


def _in_place(out_dir: Path, folder: Path, token: str, writes: list[str], deletes: list[str], ours: set[str] | None,
              files: dict[str, tuple[int, int]]) -> None:
    try:
        commit_in_place(out_dir, folder, token, writes, deletes, ours, files)
    except OSError as exc:
        raise _fault(out_dir, "cannot update the output folder", exc) from None


def _stamp_path(twin: Path) -> Path:
    return twin.with_name(f"{twin.name}.synced")


def _read_stamp(twin: Path) -> tuple[str, dict[str, int] | None]:
    """The token of the output folder's record when the twin last matched that folder, and
    the mtime of each of the twin's folders then (None: not kept, or not whole); ("", None)
    when nothing vouches for the twin."""
    try:
        lines = _stamp_path(twin).read_text("utf-8").split("\n")
    except (OSError, UnicodeDecodeError):
        return "", None
    token = lines[0].strip()
    if len(lines) < 2 or lines[-1] != _STAMP_END:
        return token, None
    try:
        return token, {path: int(mtime) for mtime, path in (line.split(" ", 1) for line in lines[1:-1])}
    except ValueError:
        return token, None


def _write_stamp(twin: Path, token: str, times: dict[str, int] | None) -> None:
    """Vouch that the twin matches the output folder whose record has `token`; written under
    another name and renamed, so a stamp is whole or absent, and it ends with a line that says so."""
    lines = [token, *(f"{m} {p}" for p, m in times.items()), _STAMP_END] if times is not None else [token]
    draft = _stamp_path(twin).with_suffix(".draft")
    draft.write_text("\n".join(lines), "utf-8")
    os.replace(draft, _stamp_path(twin))


def _forget_stamp(twin: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        _stamp_path(twin).unlink()


_STAMP_END = "end of the twin's folders"


def _kept_out(name: str) -> bool:
    """Top-level names in the output folder that are syndicate's scratch, never the site's."""
    return name == STAGE_IN_OUTPUT or name.startswith(PROBE) or name == f"{MARKER}.tmp"


def _copy_owner_and_mode(out_dir: Path, twin: Path) -> None:
    """The swapped-in folder takes the permissions and owner the user gave the old one."""
    info = os.stat(out_dir)
    os.chmod(twin, stat.S_IMODE(info.st_mode))
    twin_info = os.stat(twin)
    if (twin_info.st_uid, twin_info.st_gid) != (info.st_uid, info.st_gid):
        with contextlib.suppress(OSError):
            os.chown(twin, info.st_uid, info.st_gid)


def _fault(out_dir: Path, what: str, exc: OSError) -> SiteError:
    """One clear line for a fault of the disk or the system, naming the file involved."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        reason = "no space left on the device"
    elif exc.errno == errno.EROFS:
        reason = "the file system is read-only"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        reason = "permission denied"
    where = f" ({shown(display_path(Path(os.fsdecode(exc.filename)), Path.cwd()))})" if exc.filename else ""
    return SiteError.one(display_path(out_dir, Path.cwd()), 1, f"{what}: {reason}{where}; the output folder was left as it was")


_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _block_signals() -> set[int | signal.Signals] | None:
    """Hold Ctrl-C and SIGTERM during the commit: it takes milliseconds, and finishing it is
    better than leaving the twin or a journal for the next build."""
    try:
        return signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    except (AttributeError, ValueError, OSError):
        return None


def _restore_signals(previous: set[int | signal.Signals] | None) -> None:
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
