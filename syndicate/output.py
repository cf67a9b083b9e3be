"""The only module that writes the output folder: readers see the old site or the new one.

Rendering writes changed files into a flat stage folder; nothing in the output folder
changes until every output has been rendered and checked. Then `commit`:

- **Swap (the usual case).** The output folder has a twin in the cache, kept as a copy
  made of hard links (so it costs folders and names, not bytes). The twin is made to
  match the output folder (files the user put there included), the changed files are
  linked into it and deleted ones removed, and `renameat2(RENAME_EXCHANGE)` swaps the
  two folders in one system call. A reader that opens `output/...` by its path gets a
  file of the old site before that instant and of the new one after it: a kill at any
  moment leaves one or the other, never a mix. The old folder, now the twin, is then
  brought up to date the same way, so a server that holds it open (a container's bind
  mount, a server started inside `output/`) sees the new files too, one by one.
- **In place (when the output folder cannot be swapped).** An output folder that is a
  mount point (`docker run -v`), or on another file system than the cache, or on one
  without the exchange, is updated file by file: the renames are written to a journal
  first and the files they replace are kept aside, so a fault half-way (a full disk)
  puts the old files back, and a kill half-way is finished by the next build before it
  does anything else. Readers may see a mix while the renames run (milliseconds), or
  after a kill until the next build.

The marker file `.syndicate-output` holds the record of what the last commit wrote: each
file with its size and modification time. A build trusts it only as far as the disk
agrees (`intact_files`), and deletes only files it lists: files the user added to the
output folder (`CNAME`, `.well-known/`, `.git/`) are kept through every build.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import signal
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Problem, SiteError, display_path
from .paths import shown
from .tree import PROBE, can_exchange, exchange, is_unsupported, link_or_copy, mirror, remove, remove_probes

MARKER = ".syndicate-output"
JOURNAL = "JOURNAL.json"
STAGE_IN_OUTPUT = ".syndicate-stage"
MARKER_TEXT = "This folder is written by `syndicate build`; its files are replaced on every build.\n"
_FILES = "files:"
_NEW = ".syndicate-new-"  # a changed file linked into the twin under this name, then renamed over


@dataclass(frozen=True, slots=True)
class Record:
    """What the last commit left in the output folder, as its marker tells."""

    token: str
    files: dict[str, tuple[int, int]] | None  # path -> (size, mtime_ns); None: an older marker without a list
    folders: dict[str, int] | None = None  # every folder below the top (the user's too) -> mtime_ns
    written_ns: int = 0  # the marker's own mtime: a folder no older than it may change unseen


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


def staged_name(path: str) -> str:
    """Where a file waits in the stage: one flat folder, so staging makes no folders at all
    and a name of any length or depth stages under 24 characters."""
    return hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def is_plain_relative(path: str) -> bool:
    """A relative posix path with no '..', '.', empty or absolute parts: it cannot climb out."""
    return bool(path) and not path.startswith("/") and "\\" not in path and all(
        part not in ("", ".", "..") for part in path.split("/"))


# The record of what was written.


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
    files: dict[str, tuple[int, int]] = {}
    folders: dict[str, int] = {}
    try:
        for line in lines[2:-1]:
            if line.endswith("/"):
                mtime, path = line.split(" ", 1)
                folders[path[:-1]] = int(mtime)
            else:
                size, mtime, path = line.split(" ", 2)
                files[path] = (int(size), int(mtime))
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


def intact_files(out_dir: Path, record: Record | None) -> set[str]:
    """The recorded files that are still regular files of the recorded size and mtime, in
    real folders (a folder replaced by a symlink vouches for nothing beneath it).

    One lstat per file and per folder: a site of 26,000 files takes about 0.1 s."""
    if record is None or not record.files:
        return set()
    out = str(out_dir)
    folders: dict[str, bool] = {"": os.path.isdir(out) and not os.path.islink(out)}
    found = set()
    for path, (size, mtime) in record.files.items():
        if _real_folder(out, path.rpartition("/")[0], folders):
            try:
                info = os.lstat(f"{out}/{path}")
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and info.st_size == size and info.st_mtime_ns == mtime:
                found.add(path)
    return found


def _real_folder(root: str, folder: str, known: dict[str, bool]) -> bool:
    """Whether every folder from `root` down to `folder` is a real folder, not a link."""
    if folder in known:
        return known[folder]
    parent = folder.rpartition("/")[0]
    real = _real_folder(root, parent, known)
    if real:
        try:
            real = stat.S_ISDIR(os.lstat(f"{root}/{folder}").st_mode)
        except OSError:
            real = False
    known[folder] = real
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


def outputs_intact(out_dir: Path) -> bool:
    """Whether every file the last commit wrote is still there as it left it."""
    record = read_record(out_dir)
    if record is None or record.files is None:
        return False
    return len(intact_files(out_dir, record)) == len(record.files)


def existing_files(out_dir: Path) -> dict[str, Path]:
    """syndicate's own files in the output folder that are still as the last commit left
    them. Files the user put there are never listed: nothing here is ever deleted."""
    return {path: out_dir / path for path in sorted(intact_files(out_dir, read_record(out_dir)))}


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
            _replay(out_dir, folder)
        discard(folder)
    if real:
        remove_probes(out_dir)
        with contextlib.suppress(OSError):
            (out_dir / f"{MARKER}.tmp").unlink()
    remove_probes(stage_dir.parent)


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def open_stage(out_dir: Path, stage_dir: Path) -> Stage:
    """An empty stage, made before workers fork so they only ever write files into it.

    Decides how this build will commit: by swapping with the twin when the file systems
    allow it, else in place, with the stage inside the output folder (the only place sure
    to be on its file system)."""
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
    record = read_record(out_dir)
    return Stage(out_dir, folder, twin_folder(stage_dir) if swap else None, record, intact_files(out_dir, record), created)


def abandon(stage: Stage) -> None:
    """A build failed before its commit: drop the stage, and the output folder if this
    build made it (it is still empty). A journaled commit stays for the next run."""
    if not (stage.folder / JOURNAL).exists():
        discard(stage.folder)
    if stage.created:
        with contextlib.suppress(OSError):
            stage.out_dir.rmdir()


# The commit.


def commit(stage: Stage, token: str) -> None:
    """Make the staged files, with the kept ones, the output folder's contents."""
    if stage.outputs is None:
        raise ValueError("commit needs stage.outputs, the path of every output of the build")
    record = stage.record
    ours: set[str] | None = set() if record is None else None if record.files is None else set(record.files)
    deletes = sorted(ours - stage.outputs) if ours is not None else []
    writes = sorted(stage.writes)
    if not writes and not deletes and record is not None and record.files is not None:
        discard(stage.folder)
        return
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
            _commit_in_place(out_dir, stage.folder, token, writes, deletes, ours, files)
    finally:
        _restore_signals(blocked)
    discard(stage.folder)


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
    synced = _synced(twin)
    trusted = record is not None and record.folders is not None and bool(record.token) and synced == record.token
    try:
        _synced(twin, forget=True)  # from here on the twin changes: a crash leaves it unvouched for
        only = changed_folders(out_dir, record) if trusted else None
        known = set(record.folders or ()) if trusted and record is not None else set()
        walked = mirror(str(out_dir), str(twin), skip=_kept_out, only=only, known=known, replaced=set(writes))
        apply_changes(twin, stage.folder, writes, deletes, ours, keep_staged=True)
        folders = _folder_times(twin, known | walked | {p.rpartition("/")[0] for p in stage.outputs})
        text = marker_text(token, files, folders)
        _tick_past(twin, max(folders.values(), default=0))
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
        _commit_in_place(out_dir, stage.folder, token, writes, deletes, ours, files)
        return
    try:
        if stage.created:
            remove(str(twin))  # the empty folder this build made: nothing can hold it open
        else:
            apply_changes(twin, stage.folder, writes, deletes, ours, keep_staged=False)
            _synced(twin, token)  # its marker stays the old one: the next commit links the new one in
    except OSError:
        pass  # the twin is only a head start: unvouched for, the next commit compares it all


def _synced(twin: Path, token: str | None = None, forget: bool = False) -> str:
    """The stamp that vouches the twin matched the output folder when that folder's record
    had `token`: read it, write it, or forget it."""
    stamp = twin.with_name(f"{twin.name}.synced")
    if forget:
        with contextlib.suppress(FileNotFoundError):
            stamp.unlink()
        return ""
    if token is not None:
        stamp.write_text(token, "utf-8")
        return token
    try:
        return stamp.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _tick_past(folder: Path, newest: int) -> None:
    """Wait (a few milliseconds at most) until the file system's clock, read from `folder`'s
    own mtime, has moved past `newest`: the marker written next is then newer than every
    folder it records, and none of them is racy at the next commit."""
    for _attempt in range(20):
        os.utime(folder)
        if os.lstat(folder).st_mtime_ns > newest:
            return
        time.sleep(0.001)


def _folder_times(root: Path, candidates: Iterable[str]) -> dict[str, int]:
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


def _commit_in_place(out_dir: Path, folder: Path, token: str, writes: list[str], deletes: list[str],
                     ours: set[str] | None, files: dict[str, tuple[int, int]]) -> None:
    """Journal, then rename file by file; a fault half-way puts the old files back.

    While the renames run, the marker lists the old files and the new ones, trusting none:
    should even the journal be lost, the next build knows every file there as its own and
    renders them all again, rather than take new ones for the user's."""
    try:
        new_folders = _keep_aside(out_dir, folder, [*writes, *deletes, MARKER])
        journal = {"writes": writes, "deletes": deletes, "ours": None if ours is None else sorted(ours),
                   "token": token, "files": files, "new_folders": new_folders}
        temporary = folder / f"{JOURNAL}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(journal, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, folder / JOURNAL)  # the commit point
    except OSError as exc:
        raise _fault(out_dir, "cannot prepare the output folder", exc) from None
    try:
        write_marker(out_dir, marker_text("", dict.fromkeys([*(ours or ()), *files], (-1, -1)), {}))
        apply_changes(out_dir, folder, writes, deletes, ours, keep_staged=False)
        write_marker(out_dir, marker_text(token, files, {}))  # no folder times: nothing is swapped with this folder
    except OSError as exc:
        _roll_back(out_dir, folder, writes, deletes, new_folders)
        raise _fault(out_dir, "cannot update the output folder", exc) from None
    with contextlib.suppress(OSError):
        (folder / JOURNAL).unlink()  # done: never replayed, even if the stage outlives this build


def _keep_aside(out_dir: Path, folder: Path, paths: Iterable[str]) -> list[str]:
    """Link each file about to be replaced or deleted into the stage, and list the folders
    the commit will make, so that a rollback can restore the folder exactly."""
    aside = folder / "old"
    aside.mkdir(exist_ok=True)
    out = str(out_dir)
    known: dict[str, bool] = {"": True}
    new_folders: set[str] = set()
    for path in paths:
        parent = path.rpartition("/")[0]
        if not _real_folder(out, parent, known):
            while parent and not _real_folder(out, parent, known):
                new_folders.add(parent)
                parent = parent.rpartition("/")[0]
            continue
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISREG(os.lstat(f"{out}/{path}").st_mode):
                link_or_copy(f"{out}/{path}", aside / staged_name(path))
    return sorted(new_folders)


def _roll_back(out_dir: Path, folder: Path, writes: list[str], deletes: list[str], new_folders: list[str]) -> None:
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


def _replay(out_dir: Path, folder: Path) -> None:
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
        _roll_back(out_dir, folder, writes, deletes, new_folders)


def find_obstacles(root: Path, writes: Iterable[str], ours: set[str] | None, intact: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Paths where the user's own file or folder stands where this build must write (or
    make a folder). Symlinks are not obstacles: they are replaced, never followed. Files in
    `intact` were just seen to be ours as the last commit left them."""
    out = str(root)
    found: list[str] = []
    checked: dict[str, bool] = {"": True}  # folder -> whatever is below it may be looked at
    for path in writes:
        if path in intact:
            continue
        parent = path.rpartition("/")[0]
        if not _clear_folder(out, parent, ours, checked, found):
            continue
        try:
            mode = os.lstat(f"{out}/{path}").st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(mode) or (stat.S_ISREG(mode) and (ours is None or path in ours)):
            continue
        if stat.S_ISDIR(mode) and ours is not None and _only_ours(out, path, ours):
            continue
        found.append(path)
    return found


def _clear_folder(root: str, folder: str, ours: set[str] | None, checked: dict[str, bool], found: list[str]) -> bool:
    """Whether `folder` is (or can become) a real folder holding what the user has in it;
    records an obstacle when the user's file stands there. False: look no deeper."""
    if folder in checked:
        return checked[folder]
    parent = folder.rpartition("/")[0]
    deeper = _clear_folder(root, parent, ours, checked, found)
    if deeper:
        try:
            mode = os.lstat(f"{root}/{folder}").st_mode
        except FileNotFoundError:
            mode = None
        if mode is None or stat.S_ISLNK(mode):
            deeper = False  # made afresh: nothing below it to collide with
        elif not stat.S_ISDIR(mode):
            deeper = False
            if not (stat.S_ISREG(mode) and (ours is None or folder in ours)):
                found.append(folder)
    checked[folder] = deeper
    return deeper


def _only_ours(root: str, folder: str, ours: set[str]) -> bool:
    """A folder standing where a file goes may go only if it holds nothing but our files."""
    for here, _dirs, names in os.walk(f"{root}/{folder}"):
        rel = here[len(root) + 1 :]
        if any(f"{rel}/{name}" not in ours for name in names):
            return False
    return True


def apply_changes(root: Path, source: Path, writes: list[str], deletes: list[str], ours: set[str] | None,
                  keep_staged: bool) -> None:
    """Delete our stale files and put the staged ones in place under `root`.

    Idempotent, so a journal can be replayed after a kill: a staged file already moved is
    skipped. Never follows a symlink: one planted where a folder belongs is replaced by a
    real folder, and nothing is deleted through one. `keep_staged` links instead of moving,
    so the same stage can then be applied to a second folder."""
    out, staged_dir = str(root), str(source)
    real: dict[str, bool] = {"": True}
    for path in deletes:
        if _real_folder(out, path.rpartition("/")[0], real):
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISREG(os.lstat(f"{out}/{path}").st_mode):
                    os.unlink(f"{out}/{path}")
    for path in sorted(deletes, key=lambda p: p.count("/"), reverse=True):
        folder = path.rpartition("/")[0]
        while folder and real.get(folder):
            try:
                os.rmdir(f"{out}/{folder}")  # only once empty: the user's files keep their folder
            except OSError:
                break
            real[folder] = False
            folder = folder.rpartition("/")[0]
    made: set[str] = set()
    for path in writes:
        parent = path.rpartition("/")[0]
        _make_folder(out, parent, made)
        target = f"{out}/{path}"
        staged = os.path.join(staged_dir, staged_name(path))
        try:
            mode: int | None = os.lstat(target).st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and stat.S_ISDIR(mode):
            _remove_emptied(target)
            mode = None
        if keep_staged and mode is None:
            link_or_copy(staged, target)
        elif keep_staged:  # a new name, then renamed over the old file: never a moment without one
            linked = f"{out}/{parent}/{_NEW}{staged_name(path)}" if parent else f"{out}/{_NEW}{staged_name(path)}"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(linked)
            link_or_copy(staged, linked)
            try:
                os.replace(linked, target)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(linked)
                raise
        else:
            try:
                os.replace(staged, target)
            except FileNotFoundError:
                if os.path.lexists(target):
                    continue  # moved in before an interruption
                raise


def _make_folder(root: str, folder: str, made: set[str]) -> None:
    """A real folder at `folder`, its parents first; a link or our old file there goes."""
    if not folder or folder in made:
        return
    _make_folder(root, folder.rpartition("/")[0], made)
    path = f"{root}/{folder}"
    try:
        mode: int | None = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISDIR(mode):
        os.unlink(path)
        mode = None
    if mode is None:
        os.mkdir(path)
    made.add(folder)


def _remove_emptied(folder: str) -> None:
    """Remove a folder that holds only empty folders (our files in it were deleted)."""
    for here, _dirs, _names in os.walk(folder, topdown=False):
        os.rmdir(here)


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
