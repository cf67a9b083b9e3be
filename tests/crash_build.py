"""Build a site and stop at a chosen file-system operation of the commit (used by the tests).

    python tests/crash_build.py SITE_YAML AT [in-place]

Counts every call that changes the file system (link, rename, replace, unlink, mkdir,
rmdir, symlink, chmod, the folder exchange) while `commit` runs, and sends itself SIGKILL
just before call number AT: nothing of Python's runs after that, as with `kill -9`.
AT 0 never kills: the build finishes and prints how many operations its commit made, and
the number of the one that commits (the folder exchange, or the journal's rename).
`in-place` makes the output folder look impossible to swap, for the journaled commit.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import syndicate.output
import syndicate.tree
from syndicate.build import build
from syndicate.model import BuildOptions

build_module = importlib.import_module("syndicate.build")  # `syndicate.build` is the function

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)  # the tests' clock (conftest.NOW)
CHANGES = ("link", "rename", "replace", "unlink", "mkdir", "rmdir", "symlink", "chmod")


def main(site_file: Path, at: int, in_place: bool) -> int:
    count = {"calls": 0, "on": False, "point": 0}

    def counted(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if count["on"]:
                count["calls"] += 1
                if count["calls"] == at:
                    os.kill(os.getpid(), signal.SIGKILL)
                if name == "exchange" or (name == "replace" and str(args[0]).endswith("JOURNAL.json.tmp")):
                    count["point"] = count["calls"]
            return real(*args, **kwargs)

        return call

    for name in CHANGES:
        setattr(os, name, counted(name, getattr(os, name)))
    syndicate.output.exchange = counted("exchange", syndicate.tree.exchange)
    if in_place:
        syndicate.output.can_exchange = lambda *_args: False
    real_commit = build_module.commit

    def commit(*args: Any) -> None:
        count["on"] = True
        try:
            real_commit(*args)
        finally:
            count["on"] = False

    build_module.commit = commit
    build(site_file, BuildOptions(now=NOW, jobs=1))
    print(count["calls"], count["point"])
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), int(sys.argv[2]), len(sys.argv) > 3 and sys.argv[3] == "in-place"))
