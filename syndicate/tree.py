"""Whole-folder operations for the commit: an atomic exchange of two folders, a probe of
whether it can be used, and a mirror that makes one folder hold what another holds.

The exchange is Linux's `renameat2(RENAME_EXCHANGE)`, called through ctypes: one system
call swaps two names, so a path that named the old folder names the new one at once, with
no moment where it names nothing and no state in between for a crash to leave. The mirror
copies with hard links (same files, no bytes copied) and compares by inode number, which
`scandir` reads with the names, so a folder that already matches costs a listing and no
`stat` at all.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

AT_FDCWD = -100
RENAME_EXCHANGE = 2
PROBE = ".syndicate-probe-"
_UNSUPPORTED = (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EBUSY, errno.EXDEV)


@cache
def _renameat2() -> Callable[..., int] | None:
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # not Linux, or a C library older than glibc 2.28
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


def exchange(first: Path | str, second: Path | str) -> None:
    """Swap two existing folders (or files) in one atomic step; OSError when it cannot."""
    function = _renameat2()
    if function is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available", str(first))
    if function(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(first), None, str(second))


def is_unsupported(exc: OSError) -> bool:
    """The exchange is not possible here (file system, kernel, mount point), as opposed to a
    fault such as a full disk or a permission that the user has to fix."""
    return exc.errno in _UNSUPPORTED


def can_exchange(out_dir: Path, twin_parent: Path) -> bool:
    """Whether `out_dir` can be swapped with a folder made in `twin_parent`.

    Asks the file systems rather than guessing from device numbers: a folder is moved from
    inside the output folder to the twin's parent (EXDEV when they are different mounts:
    another file system, or a bind mount such as `docker run -v`), then two folders there
    are exchanged (EINVAL when the file system cannot). Other errors (no permission, a
    read-only or full disk) are raised: the build cannot write its output either way.
    """
    if _renameat2() is None:
        return False
    token = secrets.token_hex(6)
    inside = out_dir / f"{PROBE}{token}"
    first, second = twin_parent / f"{PROBE}{token}-a", twin_parent / f"{PROBE}{token}-b"
    twin_parent.mkdir(parents=True, exist_ok=True)
    os.mkdir(inside)
    try:
        os.rename(inside, first)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.rmdir(inside)
        if exc.errno == errno.EXDEV:
            return False
        raise
    try:
        os.mkdir(second)
        exchange(first, second)
        return True
    except OSError as exc:
        if is_unsupported(exc):
            return False
        raise
    finally:
        for folder in (first, second):
            with contextlib.suppress(OSError):
                os.rmdir(folder)


def remove_probes(folder: Path) -> None:
    """Probe folders a killed build left behind (empty, and named for syndicate alone)."""
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(PROBE):
                with contextlib.suppress(OSError):
                    os.rmdir(entry.path)


def mirror(source: str, target: str, skip: Callable[[str], bool], only: set[str] | None = None,
           known: set[str] | frozenset[str] = frozenset(), replaced: set[str] | frozenset[str] = frozenset()) -> tuple[set[str], bool]:
    """Make `target` hold exactly what `source` holds, file for file, as hard links.

    With `only`, the two are known to match except in those folders (relative paths, ""
    for the top): each is compared, and so is every folder below them that is not in
    `known` (it is new). Entries of the top folder for which `skip(name)` is true are
    neither copied nor kept; files in `replaced` (paths) are about to be replaced, so they
    are removed if stale but not copied. Files that cannot be linked are copied with their times.
    Returns the folders compared, and whether any folder below the top changed or a folder
    came or went (a file changed in the top folder moves no recorded folder time); raises
    OSError for what it cannot reproduce.
    """
    changed = False
    if not os.path.isdir(target) or os.path.islink(target):
        remove(target)
        os.mkdir(target)
        changed = True
    # (folder, whether it is known to be a real folder in both, not reached through a link)
    pending = [(rel, not rel) for rel in sorted(only, key=len, reverse=True)] if only is not None else [("", True)]
    walked: set[str] = set()
    real = {"": True}
    while pending:
        rel, checked = pending.pop()  # parents first
        if rel in walked or not (checked or (real_folder(source, rel, real) and _no_link(target, rel))):
            continue
        walked.add(rel)
        here, there = os.path.join(source, rel), os.path.join(target, rel)
        try:
            with os.scandir(here) as listing:
                wanted = {e.name: e for e in listing if rel or not skip(e.name)}
        except FileNotFoundError:
            if only is None or not rel:
                raise
            continue  # gone since it was listed: its parent, changed too, is compared as well
        try:
            with os.scandir(there) as listing:
                present = {e.name: e for e in listing}
        except FileNotFoundError:
            os.makedirs(there)
            present = {}
            changed = True
        for name, entry in list(present.items()):
            if name not in wanted or not _same(wanted[name], entry):
                changed = changed or bool(rel) or entry.is_dir(follow_symlinks=False)
                remove(entry.path)
                del present[name]
        for name, entry in wanted.items():
            destination = os.path.join(there, name)
            child = f"{rel}/{name}" if rel else name
            if entry.is_dir(follow_symlinks=False):
                if name not in present:
                    os.mkdir(destination)
                    os.chmod(destination, stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode))
                    changed = True
                if only is None or name not in present or child not in known:
                    pending.append((child, True))
            elif name not in present and child not in replaced:
                copy_entry(entry.path, destination)
                changed = changed or bool(rel)
    return walked, changed


def real_folder(root: str, rel: str, known: dict[str, bool]) -> bool:
    """Whether every folder from `root` down to `rel` is a real folder, not a link."""
    if not rel or rel in known:
        return not rel or known[rel]
    try:
        real = real_folder(root, rel.rpartition("/")[0], known) and stat.S_ISDIR(os.lstat(os.path.join(root, rel)).st_mode)
    except OSError:
        real = False
    known[rel] = real
    return real


def _no_link(root: str, rel: str) -> bool:
    """Whether the way from `root` to `rel` goes through real folders only (as far as it exists)."""
    path = root
    for part in rel.split("/"):
        path = os.path.join(path, part)
        try:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                return False
        except FileNotFoundError:
            return True
    return True


def _same(wanted: os.DirEntry[str], present: os.DirEntry[str]) -> bool:
    if wanted.is_symlink() or present.is_symlink():
        return wanted.is_symlink() and present.is_symlink() and os.readlink(wanted.path) == os.readlink(present.path)
    if wanted.is_dir(follow_symlinks=False):
        return present.is_dir(follow_symlinks=False)
    if wanted.is_file(follow_symlinks=False):
        return present.is_file(follow_symlinks=False) and wanted.inode() == present.inode()
    return False  # a FIFO or another special file: made again, it is cheap and rare


def copy_entry(source: str, destination: str) -> None:
    """One file, link or FIFO at a new name, never following a symlink."""
    mode = os.lstat(source).st_mode
    if stat.S_ISLNK(mode):
        os.symlink(os.readlink(source), destination)
    elif stat.S_ISREG(mode):
        link_or_copy(source, destination)
    elif stat.S_ISFIFO(mode):
        os.mkfifo(destination, stat.S_IMODE(mode))
    else:
        raise OSError(errno.EOPNOTSUPP, "a socket or device file cannot be kept", source)


def link_or_copy(source: str | Path, destination: str | Path) -> None:
    """A hard link, or a copy with the same times where the link is refused (a file of
    another owner under protected_hardlinks, too many links to one file)."""
    try:
        os.link(source, destination, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EMLINK, errno.EXDEV, errno.EACCES):
            raise
        shutil.copy2(source, destination, follow_symlinks=False)


def remove(path: str) -> None:
    """Remove a file, link or whole folder, never following a symlink; absent is fine."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)


# Placing a stage's files into a folder.

_NEW = ".syndicate-new-"  # a changed file linked in under this name, then renamed over the old one


def staged_name(path: str) -> str:
    """Where a file waits in the stage: one flat folder, so staging makes no folders at all
    and a name of any length or depth stages under 24 characters."""
    return hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def is_plain_relative(path: str) -> bool:
    """A relative posix path with no '..', '.', empty or absolute parts: it cannot climb out."""
    return bool(path) and not path.startswith("/") and "\\" not in path and all(
        part not in ("", ".", "..") for part in path.split("/"))


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
        if real_folder(out, path.rpartition("/")[0], real):
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
