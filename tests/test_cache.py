"""The cache is untrusted input: a crafted one cannot run code, a damaged or foreign one is
discarded, and neither ever shows a traceback or changes the site."""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.codec import Codec, CodecError, decode, encode
from syndicate.content import LinkFacts, PackedLinkFacts
from syndicate.errors import Problem
from syndicate.model import Author, Body, Heading, Reprint, Tag

from .conftest import build_site, clean_build, outputs

TABLES = ("entries", "bodies", "facts", "state")




def rewrite_rows(site: Path, value: bytes | None = None, damage: random.Random | None = None) -> int:
    """Replace (or damage) the value of every row of every table; returns how many."""
    db = sqlite3.connect(site.parent / ".syndicate-cache/cache.sqlite")
    count = 0
    for table in TABLES:
        for key, blob in db.execute(f"SELECT key, value FROM {table}").fetchall():
            if damage is not None:
                data = bytearray(blob)
                for _ in range(3):
                    data[damage.randrange(len(data))] = damage.randrange(256)
                new = bytes(data)
            else:
                assert value is not None
                new = value
            db.execute(f"UPDATE {table} SET value = ? WHERE key = ?", (new, key))
            count += 1
    db.commit()
    db.close()
    return count


class Payload:
    """Unpickling this runs code: it would create the file named."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (str(self.path), "pwned"))  # type: ignore[return-value]


def test_a_crafted_pickle_in_the_cache_never_runs(tiny_site: Path, tmp_path: Path) -> None:
    build_site(tiny_site)
    proof = tmp_path / "proof"
    assert rewrite_rows(tiny_site, pickle.dumps(Payload(proof))) > 20  # every row, the version stamp too
    (tiny_site.parent / "content/greeting.md").write_text((tiny_site.parent / "content/greeting.md").read_text() + "\nMore.\n")
    build_site(tiny_site)
    assert not proof.exists()
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)


@pytest.mark.parametrize("payload", [
    ["@builtins:eval", "1+1"],
    ["@os:system", "touch /tmp/never"],
    ["@syndicate.cache:Cache.__init__", None],
    ["@syndicate.model:BuildOptions", False, 0, False, False, None, None, True, False, False, False, None],
    ["@syndicate.model:Tag", 1, 2],
    ["t", ["@syndicate.model:Tag", "a"]],
    ["A", "ann", "no such identity"],
    ["dt", "2024-01-01T00:00:00", "../../etc/passwd", 0],
    ["dt", "2024-01-01T00:00:00+00:00", "Europe/London", 0],
    ["b", "not base64!"],
    ["zz"],
    "[" * 100_000,
])
def test_a_value_that_is_not_ours_is_a_codec_error(payload: object) -> None:
    data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
    with pytest.raises(CodecError):
        decode(data)


def test_damaged_values_are_misses_and_the_site_is_unchanged(tiny_site: Path, tmp_path: Path) -> None:
    build_site(tiny_site)
    rewrite_rows(tiny_site, damage=random.Random(7))
    (tiny_site.parent / "site.yaml").write_text((tiny_site.parent / "site.yaml").read_text() + "\n")
    build_site(tiny_site)
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)


@pytest.mark.parametrize("what", ["garbage", "other_program", "directory", "truncated"])
def test_a_damaged_or_foreign_cache_file_is_replaced(tiny_site: Path, tmp_path: Path, what: str) -> None:
    build_site(tiny_site)
    folder = tiny_site.parent / ".syndicate-cache"
    database = folder / "cache.sqlite"
    for extra in folder.glob("cache.sqlite-*"):
        extra.unlink()
    if what == "garbage":
        database.write_bytes(b"SQLite format 3\0" + bytes(random.Random(3).randrange(256) for _ in range(8192)))
    elif what == "other_program":
        database.unlink()
        other = sqlite3.connect(database)
        other.execute("CREATE TABLE files (name TEXT, owner TEXT)")
        other.execute("CREATE TABLE bookmarks (url TEXT)")
        other.commit()
        other.close()
    elif what == "directory":
        database.unlink()
        database.mkdir()
    else:
        database.write_bytes(database.read_bytes()[:3000])
    (tiny_site.parent / "content/greeting.md").write_text((tiny_site.parent / "content/greeting.md").read_text() + "\nMore.\n")
    build_site(tiny_site)
    build_site(tiny_site)
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)
    if what != "directory":
        tables = {name for (name,) in sqlite3.connect(database).execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == {"files", "entries", "bodies", "facts", "state", "outputs"}


def test_values_round_trip_exactly() -> None:
    ann = Author("ann", "Ann Example", reprint=Reprint("Copyright, Ann."))
    codec = Codec([ann])
    london = datetime(2024, 3, 31, 1, 30, tzinfo=ZoneInfo("Europe/London"))
    values: list[object] = [
        Body("<p>x</p>", "x", 1, (Heading(2, "h", "H"),), ("/a",), ("h",), True, (3,), ((2, "a note"),)),
        {"tags": (Tag("a", "A"),), "when": london, "day": date(2024, 1, 2), "path": Path("/srv/out"),
         "bytes": b"\x00\xff", "offset": datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=-4))),
         "utc": datetime(2024, 1, 1, tzinfo=UTC), "naive": datetime(2024, 1, 1), "author": ann},
        {("a", 1): [Problem("content/a.md", 3, "x", "warning")]},
        frozenset({"a/index.html", "b/index.html"}),
        "caf\udce9",  # a file name that is not UTF-8
    ]
    for value in values:
        back = codec.decode(codec.encode(value))
        assert back == value and codec.encode(back) == codec.encode(value)
    assert decode(encode(london)).tzinfo is ZoneInfo("Europe/London")
    assert codec.decode(codec.encode(ann)) is ann  # an author comes back as the one this site knows
    changed = Author("ann", "Ann Example", reprint=Reprint("Copyright, Ann Example."))
    with pytest.raises(CodecError):  # site.yaml changed the author since: a miss, never the wrong author
        Codec([changed]).decode(codec.encode(ann))


_PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.tuples(children, children) | st.dictionaries(st.text(), children)
    | st.dictionaries(st.integers(), children),
    max_leaves=20,
)


@given(_PLAIN)
def test_any_plain_value_round_trips(value: object) -> None:
    assert decode(encode(value)) == value


_FACTS = st.dictionaries(
    st.text(max_size=12),
    st.builds(LinkFacts, st.tuples(*[st.text(max_size=8)] * 2) | st.just(()), st.lists(st.text(max_size=8), max_size=4).map(tuple),
              st.lists(st.integers(0, 10**6), max_size=3).map(tuple)),
    max_size=6,
)


@given(_FACTS, _FACTS)
def test_packed_link_facts_read_back_as_written_and_replaced(facts: dict[str, LinkFacts], changed: dict[str, LinkFacts]) -> None:
    packed = PackedLinkFacts.pack(facts)
    assert dict(packed.items()) == facts and len(packed) == len(facts) and packed == facts
    replaced = packed.replaced(changed)
    assert dict(replaced.items()) == {**facts, **changed} and len(replaced) == len({**facts, **changed})
    assert dict(pickle.loads(pickle.dumps(replaced)).items()) == {**facts, **changed}
    assert dict(packed.items()) == facts  # replacing shares the packed facts, never changes them


def test_a_kept_plan_is_used_only_under_this_users_key(tiny_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan kept between builds is a signed pickle: a cache from another machine (another
    key) or a home where no key can be kept means planning afresh, with the same output."""
    from syndicate.cache import signing_key

    greeting = tiny_site.parent / "content/greeting.md"
    build_site(tiny_site)
    try:
        for home in (tmp_path / "another-machine", tmp_path / "a-file-not-a-folder"):
            if home.name.startswith("a-file"):
                home.write_text("")
            monkeypatch.setenv("XDG_CACHE_HOME", str(home))
            signing_key.cache_clear()
            greeting.write_text(greeting.read_text() + f"\nA line for {home.name}.\n")
            assert not build_site(tiny_site).patched
            assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)
        assert signing_key() is None
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "another-machine"))
        signing_key.cache_clear()
        # The plan this key signed two builds ago, with the file stats it was made from: a patch
        # reads again every file changed since (the build without a key kept nothing).
        greeting.write_text(greeting.read_text() + "\nA line under this key.\n")
        assert build_site(tiny_site).patched
        assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)
        greeting.write_text(greeting.read_text() + "\nOne more line.\n")
        assert build_site(tiny_site).patched
        assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)
        assert (tmp_path / "another-machine/syndicate/signing-key").stat().st_mode & 0o077 == 0
    finally:
        signing_key.cache_clear()


def test_a_kept_plan_is_used_only_with_the_record_written_with_it(tiny_site: Path, tmp_path: Path) -> None:
    """The plan and the file stats it was made from are two files: an older plan beside a newer
    record (a build stopped between the two writes, a file restored) is never patched."""
    import shutil

    cache = tiny_site.parent / ".syndicate-cache"
    greeting, waiting = tiny_site.parent / "content/greeting.md", tiny_site.parent / "content/waiting.md"
    build_site(tiny_site)
    older = {path.name: path.read_bytes() for path in cache.glob("signed-*.pickle")}
    waiting.write_text(waiting.read_text().replace("title:", "title: Now", 1))
    assert not build_site(tiny_site).patched  # a new title: a new plan and record
    newer = {path.name: path.read_bytes() for path in cache.glob("signed-*.pickle")}
    out = (tiny_site.parent / "output").absolute()
    plan = f"signed-{hashlib.sha256(f'snapshot:{out}'.encode()).hexdigest()[:24]}.pickle"
    assert older[plan] != newer[plan]
    shutil.copyfile(cache / plan, tmp_path / "newer-plan")
    (cache / plan).write_bytes(older[plan])
    greeting.write_text(greeting.read_text() + "\nA body line.\n")
    assert not build_site(tiny_site).patched
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)


def test_a_kept_plan_that_is_not_a_plain_file_is_not_read(tiny_site: Path, tmp_path: Path) -> None:
    """The cache folder is untrusted: a pipe or a link where a kept plan was is a miss (a pipe
    must not be waited on forever), and the build plans afresh with the same output."""
    import os

    greeting = tiny_site.parent / "content/greeting.md"
    build_site(tiny_site)
    kept = sorted((tiny_site.parent / ".syndicate-cache").glob("signed-*.pickle"))
    assert len(kept) == 3  # the plan, its head (the file stats it was made from) and the compiled templates
    greeting.write_text(greeting.read_text() + "\nA line to patch.\n")
    assert build_site(tiny_site).patched
    for number, replacement in enumerate(("pipe", "link")):
        for path in kept:
            path.unlink()
            if replacement == "pipe":
                os.mkfifo(path)
            else:
                path.symlink_to(tmp_path / "elsewhere.pickle")
        (tmp_path / "elsewhere.pickle").write_bytes(b"\0" * 64)
        greeting.write_text(greeting.read_text() + f"\nLine {number} after the {replacement}.\n")
        assert not build_site(tiny_site).patched
        assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)


def test_the_manifest_is_rows_an_edit_rewrites_only_where_it_changed(tiny_site: Path, tmp_path: Path) -> None:
    from syndicate.config import load_site
    from syndicate.marker import read_record

    build_site(tiny_site)
    database = tiny_site.parent / ".syndicate-cache/cache.sqlite"
    out = str((tiny_site.parent / "output").absolute())

    def rows() -> dict[str, tuple[str, str, int]]:
        with sqlite3.connect(database) as db:
            return {p: (j, d, s) for p, j, d, s in db.execute("SELECT path, job, digest, size FROM outputs WHERE folder=?", (out,))}

    before = rows()
    record = read_record(Path(out))
    assert record is not None and record.files is not None and set(before) == set(record.files)
    page = "articles/greeting/index.html"
    (tiny_site.parent / "content/greeting.md").write_text((tiny_site.parent / "content/greeting.md").read_text() + "\nOne more line.\n")
    build_site(tiny_site)
    after = rows()
    record = read_record(Path(out))
    assert record is not None and record.files is not None and set(after) == set(record.files)
    assert after[page] != before[page]  # the edited article's page has new bytes and a new key
    assert {p for p in after if after[p] == before.get(p)} >= {"robots.txt", "404.html"}
    # Rows that do not hold the types they should are misses: those files are rendered and compared again.
    with sqlite3.connect(database) as db:
        db.execute("UPDATE outputs SET size='big' WHERE path=?", (page,))
        db.execute("UPDATE outputs SET job=NULL WHERE path='robots.txt'")
    site = load_site(tiny_site)
    from syndicate.cache import Cache

    cache = Cache(site.cache_dir, authors=site.authors)
    token, entries = cache.manifest(out)
    cache.close()
    assert token == read_record(Path(out)).token and page not in entries and "robots.txt" not in entries  # type: ignore[union-attr]
    (tiny_site.parent / "output" / page).write_text("edited by hand\n")
    build_site(tiny_site)
    assert outputs(tiny_site) == clean_build(tiny_site, tmp_path)
