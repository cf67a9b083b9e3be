"""Output paths are checked before anything is staged: limits, clashes, names, twins."""

from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.cli import main
from syndicate.errors import SiteError
from syndicate.paths import NAME_MAX, PATH_MAX, check_output_paths

from .conftest import article, build_site


def run(args: list[str]) -> tuple[int, str]:
    logger = logging.getLogger("syndicate")
    saved = (logger.level, logger.propagate, list(logger.handlers))
    try:
        result = CliRunner().invoke(main, args)
    finally:  # the CLI sets up logging for its process: later tests must find it as it was
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        logger.handlers[:] = saved[2]
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(os.fsencode(path.relative_to(folder)))
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


LONG = "a" * 300
HOSTILE: list[tuple[str, dict[str, str | bytes], list[str]]] = [
    ("slug_over_255_bytes", {"content/a.md": article(slug=LONG)},
     [f"content/a.md:1: name '{'a' * 37}...' in output 'articles/{'a' * 48}...' is 300 bytes long; "
      "the limit is 255 bytes per name: shorten it"]),
    ("tag_over_255_bytes", {"content/a.md": article(tags=f"[{'é' * 130}]")},
     [f"content/a.md:1: name '{'é' * 37}...' in output 'tags/{'é' * 52}...' is 260 bytes long; "
      "the limit is 255 bytes per name: shorten it"]),
    ("folder_where_the_feed_goes", {"content/feed.xml/x.txt": "text"},
     ["content/feed.xml/x.txt:1: 'feed.xml' would be both a file (from feeds) and a folder holding 'feed.xml/x.txt' "
      "(from content/feed.xml/x.txt); rename one of them"]),
    ("file_where_the_tag_pages_go", {"content/tags": "text", "content/a.md": article(tags="[one]")},
     ["content/tags:1: 'tags' would be both a file (from content/tags) and a folder holding 'tags/one/index.html' "
      "(from content/a.md); rename one of them"]),
    ("name_not_utf8", {"content/caf\udce9.png": b"\x89PNG"},
     ["content/caf\\xe9.png:1: name 'caf\\xe9.png' is not valid UTF-8; rename the file so web servers and feeds can name it"]),
    ("control_character", {"content/bell\x07.txt": "ring"},
     ["content/bell\\x07.txt:1: name 'bell\\x07.txt' contains a control character; rename it"]),
]


@pytest.mark.parametrize(("files", "expected"), [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE])
def test_hostile_output_paths_fail_check_and_build_before_the_commit(
        write_site: Callable[..., Path], files: dict[str, str | bytes], expected: list[str]) -> None:
    site = write_site({"content/good.md": article("Good")})
    assert run(["build", "--site", str(site), "-q"])[0] == 0
    output = site.parent / "output"
    before = tree_hash(output)
    for name, text in files.items():
        path = site.parent / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    for command in (["check"], ["build", "-q"], ["build", "-q", "--clean", "--no-cache"]):
        code, err = run([*command, "--site", str(site)])
        errors = len(expected)
        summary = f"{errors} error{'' if errors == 1 else 's'}, 0 warnings"
        assert (code, err.splitlines()) == (1, [*expected, summary]), command
    assert tree_hash(output) == before
    assert not [p for p in (site.parent / ".syndicate-cache").iterdir() if p.name.startswith(("stage-", ".syndicate-probe"))]
    for name in files:  # fixed: the next build is not held back by the failed ones
        os.remove(site.parent / name)
    assert run(["build", "--site", str(site), "-q"])[0] == 0


def test_names_that_differ_only_in_case_or_unicode_form_are_warnings(write_site: Callable[..., Path]) -> None:
    nfc, nfd = "café.txt", unicodedata.normalize("NFD", "café.txt")
    site = write_site({"content/good.md": article("Good"), "content/Notes.txt": "a", "content/notes.txt": "b",
                       f"content/{nfc}": "c", f"content/{nfd}": "d"})
    first, second = sorted([nfc, nfd])
    expected = [
        f"content/{second}:1: warning: output '{second}' and '{first}' differ only in letter case or Unicode form; "
        "they are one file on macOS, Windows and many web hosts",
        "content/notes.txt:1: warning: output 'notes.txt' and 'Notes.txt' differ only in letter case or Unicode form; "
        "they are one file on macOS, Windows and many web hosts",
    ]
    assert sorted(map(str, build_site(site).warnings)) == expected
    assert sorted(map(str, build_site(site).warnings)) == expected  # repeated by a rebuild with nothing to do
    with pytest.raises(SiteError) as caught:
        build_site(site, strict=True)
    assert sorted(str(p) for p in caught.value.problems) == [line.replace(": warning: ", ": ", 1) for line in expected]


def test_a_whole_path_over_the_limit_is_an_error_naming_its_source() -> None:
    base = Path("/srv/" + "b" * 200)
    deep = "/".join(["d" * 250] * 16) + "/x.txt"
    errors, _ = check_output_paths([(deep, "content/deep/x.txt"), ("index.html", "index.html")], [base])
    assert [(e.path, e.message.split(";")[0]) for e in errors] == [
        ("content/deep/x.txt", f"output '{deep[:57]}...' makes a path of {len(deep) + len(str(base)) + 1:,} bytes")]


# Property: every accepted set of paths can be written as it is on a real file system, and
# every rejection has a reason that holds.

_LETTERS = st.sampled_from(["a", "B", "é", "é", "ß", "ﬁ", "Σ", "-", ".", "x", "\x07", "\udce9", "😀", "/"])
_NAMES = st.one_of(st.text(_LETTERS, min_size=1, max_size=6),
                   st.builds(lambda n, c: c * n, st.integers(200, 300), st.sampled_from(["n", "é"])))
_PATHS = st.lists(_NAMES, min_size=1, max_size=4).map("/".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths=st.lists(_PATHS, min_size=1, max_size=8))
def test_accepted_paths_can_all_be_written_and_rejected_ones_have_a_reason(paths: list[str], tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("out")
    owners = [(path, f"source{i}") for i, path in enumerate(paths)]
    errors, warnings = check_output_paths(owners, [base])
    rejected = {e.path for e in errors}
    accepted = [(path, source) for path, source in owners if source not in rejected]
    for path, _source in accepted:  # writing every accepted path succeeds, and none replaces another
        target = base / path
        target.parent.mkdir(parents=True, exist_ok=True)
        assert not target.exists()
        target.write_text(path, "utf-8")
    for path, _source in accepted:
        assert (base / path).read_text("utf-8") == path
    seen: set[str] = set()
    for path, source in owners:
        if source in rejected:
            parts = path.split("/")
            assert (path in seen or "" in parts or "." in parts or ".." in parts or any(0x00 <= ord(c) < 0x20 or c == "\x7f" for c in path)
                    or any(0xDC80 <= ord(c) <= 0xDCFF for c in path)
                    or any(len(part.encode("utf-8", "surrogatepass")) > NAME_MAX for part in parts)
                    or len(str(base).encode()) + 1 + len(path.encode("utf-8", "surrogatepass")) > PATH_MAX
                    or any(p == path or p.startswith(path + "/") or path.startswith(p + "/") for p in seen | {q for q, _ in owners if q != path}))
        seen.add(path)
    keys: dict[str, set[str]] = {}
    for path, _source in accepted:
        keys.setdefault(unicodedata.normalize("NFC", path).casefold(), set()).add(path)
    if any(len(spellings) > 1 for spellings in keys.values()):
        assert warnings
