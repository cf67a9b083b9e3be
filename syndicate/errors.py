"""Problems: what is wrong with a user's site, as values from the loaders to the CLI.

Every problem carries the file and the 1-based line the user typed, so the CLI can print
`path:line: message` and an editor can jump to it; a problem that is about no line of a
file (a missing file, a command's argument) has line 0 and prints as `subject: message`.
A problem is an error or a warning. Loaders collect both and raise once, so a single run
reports everything that is wrong, errors first, not the first of many; `str(problem)` is
the only way a problem is ever shown, and nothing parses that text back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the user's site, pointing at where they can fix it."""

    path: str
    line: int  # 1-based; 0 when the problem is about no particular line
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}: " if self.line > 0 else f"{self.path}: " if self.path else ""
        label = "warning: " if self.severity == "warning" else ""
        return f"{where}{label}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def as_error(self) -> Problem:
        return replace(self, severity="error")


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (an error from a library may span several)."""
    return " ".join(str(exc).split())


def warning(path: str, line: int, message: str) -> Problem:
    """A warning: shown, and the build goes on (`--strict` makes it an error, in build())."""
    return Problem(path, max(1, line), message, "warning")


def errors_first(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    """Each problem once, errors before warnings, otherwise in the order given."""
    unique = tuple(dict.fromkeys(problems))
    return tuple(p for p in unique if p.is_error) + tuple(p for p in unique if not p.is_error)


def summary_line(problems: Iterable[Problem], strict: bool = False) -> str:
    """`2 errors, 1 warning`: the last line of a failed run, saying why it failed."""
    found = list(problems)
    errors = sum(1 for p in found if p.is_error)
    warnings = len(found) - errors
    line = f"{errors} error{'' if errors == 1 else 's'}, {warnings} warning{'' if warnings == 1 else 's'}"
    return line + (" (--strict counts warnings as errors)" if strict else "")


class SiteError(Exception):
    """Raised with every problem found in one pass, warnings too; never for our own bugs."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = errors_first(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, path: str, line: int, message: str) -> SiteError:
        return cls([Problem(path, max(1, line), message)])

    @classmethod
    def about(cls, subject: str, message: str) -> SiteError:
        """A problem about no line of a file: a missing file, a command's argument."""
        return cls([Problem(subject, 0, message)])

    def with_warnings(self, warnings: Iterable[Problem]) -> SiteError:
        """The same failure, also reporting the warnings found before it: none is hidden."""
        return SiteError([*self.problems, *warnings])


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

    def warn(self, path: str, line: int, message: str) -> None:
        self.items.append(warning(path, line, message))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if not p.is_error]

    def __bool__(self) -> bool:
        """True when there is an error (warnings alone let the run go on)."""
        return any(p.is_error for p in self.items)

    def raise_if_any(self) -> None:
        """Raise when there is an error, with every error and every warning collected."""
        if self:
            raise SiteError(sorted(self.items))
