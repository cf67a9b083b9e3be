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
import os
import secrets
import shutil
import stat
from collections.abc import Callable
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


def mirror(source: str, target: str, skip: Callable[[str], bool]) -> None:
    """Make `target` hold exactly what `source` holds, file for file, as hard links.

    Entries of the top folder for which `skip(name)` is true are neither copied nor kept.
    Files that cannot be linked (another owner under protected_hardlinks, too many links)
    are copied with their times. Raises OSError for what it cannot reproduce.
    """
    if not os.path.isdir(target) or os.path.islink(target):
        remove(target)
        os.mkdir(target)
    pending = [""]
    while pending:
        rel = pending.pop()
        here, there = os.path.join(source, rel), os.path.join(target, rel)
        with os.scandir(here) as listing:
            wanted = {e.name: e for e in listing if rel or not skip(e.name)}
        with os.scandir(there) as listing:
            present = {e.name: e for e in listing}
        for name, entry in list(present.items()):
            if name not in wanted or not _same(wanted[name], entry):
                remove(entry.path)
                del present[name]
        for name, entry in wanted.items():
            destination = os.path.join(there, name)
            if entry.is_dir(follow_symlinks=False):
                if name not in present:
                    os.mkdir(destination)
                    os.chmod(destination, stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode))
                pending.append(os.path.join(rel, name))
            elif name not in present:
                copy_entry(entry.path, destination)


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
        try:
            os.link(source, destination, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EMLINK, errno.EXDEV, errno.EACCES):
                raise
            shutil.copy2(source, destination, follow_symlinks=False)
    elif stat.S_ISFIFO(mode):
        os.mkfifo(destination, stat.S_IMODE(mode))
    else:
        raise OSError(errno.EOPNOTSUPP, "a socket or device file cannot be kept", source)


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
