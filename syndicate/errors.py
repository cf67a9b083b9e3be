"""The one exception type syndicate raises for a user's mistake.

Every problem carries the file and the 1-based line the user typed, so the CLI can print
`path:line: message` and an editor can jump to it. Loaders collect problems and raise once,
so a single run reports everything that is wrong, not the first of many.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("syndicate")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the user's site, pointing at where they can fix it."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class SiteError(Exception):
    """Raised with every problem found in one pass; never for our own bugs."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(dict.fromkeys(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, path: str, line: int, message: str) -> SiteError:
        return cls([Problem(path, max(1, line), message)])


def display_path(path: Path, root: Path) -> str:
    """The path as the user would type it: relative to the site folder when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


class Problems:
    """A collector that loaders fill and then raise once, so no problem hides another."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, path: str, line: int, message: str) -> None:
        self.items.append(Problem(path, max(1, line), message))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise SiteError(sorted(self.items))


def warn(path: str, line: int, message: str) -> Problem:
    """Log a warning in the same `path:line:` shape as errors; `--strict` turns them into errors."""
    problem = Problem(path, max(1, line), f"warning: {message}")
    log.warning("%s", problem)
    return problem
