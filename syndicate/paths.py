"""Every output path, checked before anything is rendered or staged.

A path that a file system would refuse, or that would quietly replace another output,
must fail the build (and `check`) as a `path:line:` problem naming the file that asked
for it, never half-way through writing the output folder. The limits are Linux's:
255 bytes per name and 4,095 bytes per whole path, counted in UTF-8 from the deepest
folder the build writes under. Names that only a case-insensitive or Unicode-normalising
file system (macOS, Windows, most object stores) would merge are warnings: they work
here but collide where the site may be deployed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .errors import Problem, warning

NAME_MAX = 255  # bytes in one file or folder name
PATH_MAX = 4095  # bytes in a whole path, without the terminating NUL
RESERVED = ".syndicate-"  # top-level names syndicate keeps for itself in the output folder
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NAME = r"(?!\.\.?(?:/|$))[A-Za-z0-9._~+-]{1,255}"  # ASCII, neither "." nor "..", within NAME_MAX
_PLAIN = re.compile(f"{_NAME}(?:/{_NAME})*")


def shown(text: str) -> str:
    """A name as it can be printed on one line: bytes that are not UTF-8 and control
    characters appear as `\\xe9` and `\\x07`."""
    printable = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda match: f"\\x{ord(match[0]):02x}", printable)


def check_output_paths(owners: Iterable[tuple[str, str]], bases: Sequence[Path] = (),
                       explain: Mapping[str, str] | None = None) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) for the output paths, given as (path, source) pairs in plan order.

    `bases` are the folders the paths are written under (the output folder, its swap twin);
    the longest decides the whole-path limit. `explain` maps a path to a better source for
    its problems than the job's (the article whose tag made a tag page, say).
    """
    explain = explain or {}
    base_bytes = max((len(str(base).encode("utf-8", "surrogateescape")) + 1 for base in bases), default=0)
    errors: list[Problem] = []
    files: dict[str, str] = {}
    failed: set[str] = set()  # one problem per source: a long slug is long in all its copies too
    for path, source in owners:
        source = shown(explain.get(path, source))
        message = _path_problem(path, base_bytes)
        if message is not None:
            if source not in failed:
                failed.add(source)
                errors.append(Problem(source, 1, message))
        elif path in files:
            errors.append(Problem(source, 1, f"output '{shown(path)}' is also written by {files[path]}; rename one of them"))
        else:
            files[path] = source
    errors += _file_folder_clashes(files)
    return errors, _twins(files)


def _path_problem(path: str, base_bytes: int) -> str | None:
    if _PLAIN.fullmatch(path) and not path.startswith(RESERVED) and base_bytes + len(path) <= PATH_MAX:
        return None  # the common case, settled by one regular expression: ten thousand articles make 26,000 paths
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or any(part in ("", ".", "..") for part in parts):
        return f"output path '{shown(path)}' must be relative, with no empty, '.' or '..' parts"
    if parts[0].startswith(RESERVED):
        return f"'{shown(path)}' is reserved for syndicate's own use in the output folder; rename it"
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        return f"name '{shown(path.rpartition('/')[2])}' is not valid UTF-8; rename the file so web servers and feeds can name it"
    if _CONTROL.search(path):
        return f"name '{shown(path.rpartition('/')[2])}' contains a control character; rename it"
    for part in parts:
        size = len(part.encode("utf-8"))
        if size > NAME_MAX:
            return (f"name '{_clip(part)}' in output '{_clip(path, 60)}' is {size:,} bytes long; the limit is "
                    f"{NAME_MAX} bytes per name: shorten it")
    if base_bytes + len(encoded) > PATH_MAX:
        return (f"output '{_clip(path, 60)}' makes a path of {base_bytes + len(encoded):,} bytes; the limit is "
                f"{PATH_MAX:,} bytes: shorten its folders or names")
    return None


def _clip(text: str, keep: int = 40) -> str:
    return text if len(text) <= keep else f"{text[: keep - 3]}..."


def _file_folder_clashes(files: dict[str, str]) -> list[Problem]:
    """A path that is a file for one output and a folder for another (`tags` and `tags/x/...`)."""
    folders: set[str] = set()
    for parent in {path.rpartition("/")[0] for path in files}:
        while parent and parent not in folders:
            folders.add(parent)
            parent = parent.rpartition("/")[0]
    if folders.isdisjoint(files):
        return []  # the common case, in C
    problems: list[Problem] = []
    reported: set[str] = set()
    for path, source in files.items():
        folder = path
        while "/" in folder:
            folder = folder.rsplit("/", 1)[0]
            owner = files.get(folder)
            if owner is not None and folder not in reported:
                reported.add(folder)
                # Blame a copied file from content/ (the user can rename or move it) over a page.
                culprit = owner if owner.endswith("/" + shown(folder)) else source
                problems.append(Problem(culprit, 1, f"'{shown(folder)}' would be both a file (from {owner}) and a folder "
                                                    f"holding '{shown(path)}' (from {source}); rename one of them"))
                break
    return problems


def _twins(files: dict[str, str]) -> list[Problem]:
    """Names in one folder that differ only in letter case or Unicode form. Twins deeper
    down, in folders spelled differently, show up as those folders' names."""
    if all(path.isascii() and path == path.lower() for path in files):
        return []  # every name is already in the one form it could be confused with
    keys: dict[str, str] = {}
    first: dict[tuple[str, str], str] = {}  # (folder as spelled, key of a name in it) -> the first spelling
    warnings = []
    warned: set[str] = set()
    for path, source in files.items():
        folder = ""
        for name in path.split("/"):
            key = keys.get(name)
            if key is None:
                key = keys[name] = name.casefold() if name.isascii() else unicodedata.normalize("NFC", name).casefold()
            spelled = f"{folder}/{name}" if folder else name
            seen = first.setdefault((folder, key), spelled)
            if seen != spelled and source not in warned:
                warned.add(source)
                warnings.append(warning(source, 1, f"output '{spelled}' and '{seen}' differ only in letter "
                                                   "case or Unicode form; they are one file on macOS, Windows and many web hosts"))
            folder = spelled
    return warnings
