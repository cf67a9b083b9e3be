"""The tiny site, built with a fixed clock, must match tests/golden/tiny byte for byte.

Run `pytest tests/test_golden.py --update-golden` after an intended change and review the
golden diff in the commit like code.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

from .conftest import HERE, build_site, tree

GOLDEN = HERE / "golden" / "tiny"


def test_tiny_site_matches_golden(tiny_site: Path, update_golden: bool) -> None:
    build_site(tiny_site)
    actual = tree(tiny_site.parent / "output")
    actual.pop(".syndicate-output")
    # Pagefind's index is binary and changes with Pagefind's version: tests/test_search.py checks it.
    actual = {name: data for name, data in actual.items() if not name.startswith("pagefind/")}
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in actual.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    expected = tree(GOLDEN)
    assert sorted(actual) == sorted(expected), "file lists differ"
    diffs = []
    for name in sorted(expected):
        if actual[name] != expected[name]:
            diff = difflib.unified_diff(expected[name].decode(errors="replace").splitlines(),
                                        actual[name].decode(errors="replace").splitlines(),
                                        f"golden/{name}", f"built/{name}", lineterm="", n=2)
            diffs.append("\n".join(list(diff)[:40]))
    assert not diffs, "\n\n".join(diffs[:3])


def test_golden_tree_is_reviewable() -> None:
    assert 25 <= len(tree(GOLDEN)) <= 60
