"""The incremental cache in `.syndicate-cache/`: never trusted, always checked.

One SQLite file holds what earlier builds learned: each content file's hash by its size
and mtime (so unchanged files are not even read), the parsed front matter of each file
by its hash and the site configuration, each Markdown body by its hash (and, apart, its
small facts: summary, length, links), and the output manifest (what every output path
holds and which inputs made it). Every key includes
the package version, so an upgrade starts afresh; a cache that cannot be read is removed
and rebuilt, never half-used.

An author is stored as a reference to the author of site.yaml it equals (its id and a hash
of all its fields), not as a copy: ten thousand cached articles of four authors unpickle
four Author objects, not ten thousand. A reference to an author site.yaml no longer has,
or has changed, fails to unpickle, which is a cache miss, never a wrong author.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import secrets
import sqlite3
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .model import Author

if TYPE_CHECKING:
    from .attribution import Statements
    from .content import LazyMarkdown
    from .incremental import Snapshot
    from .theme import Theme

SCHEMA = 5


@cache
def code_stamp() -> str:
    """The version plus a hash of the package's own code: any change to it starts a new cache,
    so an edited or upgraded syndicate never reads values pickled by another one."""
    package = Path(__file__).parent
    parts: list[str | bytes] = [__version__]
    for path in sorted(package.glob("*.py")):
        parts += [path.name, path.read_bytes()]
    return digest(*parts)
_TABLES = (
    "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime INTEGER, hash TEXT)",
    "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value BLOB)",
    "CREATE TABLE IF NOT EXISTS bodies (key TEXT PRIMARY KEY, value BLOB)",
    "CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, value BLOB)",
    "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BLOB)",
)


def digest(*parts: str | bytes) -> str:
    """A short stable hash of several parts; ("ab", "c") and ("a", "bc") hash differently."""
    # repr() of the tuple is unambiguous (quotes and escapes delimit every part) and C-fast.
    return hashlib.blake2b(repr(parts).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def content_hash(data: bytes) -> str:
    """The hash of one file's bytes: hashed as they are, with no copy or escaping on the way."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# Tables whose keys are hashes of everything their values depend on: a key found once
# means the same value for good, so a process may keep what it read or wrote.
_LASTING = ("entries", "facts")


class Memory:
    """What a long-running process (the preview server) keeps between its builds.

    Rebuilding after one edit should read nothing it already knows: entries and body facts
    stay (their keys are content hashes), and so do the build state and the file hashes,
    for as long as no other process has written the cache since (checked by a generation
    token that every writing build renews)."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Any]] = {name: {} for name in (*_LASTING, "state")}
        self.files: dict[str, tuple[int, int, str]] | None = None
        self.generation: str | None = None
        self.theme: Theme | None = None  # the last build's: its compiled templates serve while none changed
        self.snapshot: Snapshot | None = None  # the last good build's plan, which a save of an article body patches
        self.markdown: LazyMarkdown | None = None  # its converter, made once
        self.statements: Statements | None = None  # parsed reprint statements
        self.patched = 0  # builds that patched the last plan instead of making a new one


class Cache:
    """A cache that may be disabled: then every lookup misses and nothing is stored."""

    def __init__(self, folder: Path | None, memory: Memory | None = None, authors: Mapping[str, Author] | None = None) -> None:
        self.folder = folder
        self.hits = 0
        known = list((authors or {}).values())
        self._author_refs = {author: (author.id, _identity(author)) for author in known}
        self._authors = {ref: author for author, ref in self._author_refs.items()}
        self._db: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._worker_db: sqlite3.Connection | None = None
        self._pending_files: list[tuple[str, int, int, str]] = []
        self._wrote = False
        if folder is not None:
            self._db = self._open(folder)
        self.memory = memory if self._db is not None else None
        if self.memory is not None and self.memory.generation != self._generation():
            self.memory.tables["state"].clear()  # another process built since: read afresh
            self.memory.files = None

    def _open(self, folder: Path) -> sqlite3.Connection | None:
        path = folder / "cache.sqlite"
        for _attempt in range(2):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(path, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version not in (0, SCHEMA):
                    raise sqlite3.DatabaseError("old schema")
                for statement in _TABLES:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={SCHEMA}")
                stamp = db.execute("SELECT value FROM state WHERE key='version'").fetchone()
                current = code_stamp()
                if stamp is not None and pickle.loads(stamp[0]) != current:
                    raise sqlite3.DatabaseError("other version")
                db.execute("INSERT OR REPLACE INTO state VALUES ('version', ?)", (pickle.dumps(current),))
                return db
            except (sqlite3.DatabaseError, pickle.UnpicklingError, OSError):
                with contextlib.suppress(NameError, sqlite3.Error):
                    db.close()
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(OSError):
                        (folder / f"cache.sqlite{suffix}").unlink()
        return None

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def file_hashes(self) -> dict[str, tuple[int, int, str]]:
        """Every remembered file at once: one query beats ten thousand."""
        if self._db is None:
            return {}
        if self.memory is not None and self.memory.files is not None:
            return self.memory.files
        try:
            found = {p: (s, m, h) for p, s, m, h in self._db.execute("SELECT path, size, mtime, hash FROM files")}
        except sqlite3.DatabaseError:
            return {}
        if self.memory is not None:
            self.memory.files = found
        return found

    def remember_file(self, path: str, size: int, mtime_ns: int, hash_: str) -> None:
        self._pending_files.append((path, size, mtime_ns, hash_))

    def get(self, table: str, key: str) -> Any:
        """One value, or None when missing or damaged (a damaged entry is a miss, never a crash)."""
        return self.get_many(table, [key]).get(key)

    def get_many(self, table: str, keys: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        db = self._reader()
        if db is None or not keys:
            return found
        kept = self._kept(table)
        if kept is not None:
            found = {key: kept[key] for key in keys if key in kept}
            self.hits += len(found)
            keys = [key for key in keys if key not in found]
            from_db = self._get_many(db, table, keys)
            kept.update(from_db)
            return found | from_db
        return self._get_many(db, table, keys)

    def _get_many(self, db: sqlite3.Connection, table: str, keys: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            marks = ",".join("?" * len(batch))
            try:
                rows = db.execute(f"SELECT key, value FROM {table} WHERE key IN ({marks})", batch).fetchall()
            except sqlite3.DatabaseError:
                return found
            for key, blob in rows:
                try:
                    found[key] = self.loads(blob)
                except Exception:  # damaged, or an author site.yaml no longer has: recomputed by the caller
                    continue
        self.hits += len(found)
        return found

    def put_many(self, table: str, items: dict[str, Any]) -> None:
        if self._db is None or not items:
            return
        kept = self._kept(table)
        if kept is not None:
            kept.update(items)
        pairs = list(items.items())
        for start in range(0, len(pairs), 500):  # batches keep a cold build's peak memory down
            rows = [(k, self.dumps(v)) for k, v in pairs[start : start + 500]]
            self._write(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", rows)

    def dumps(self, value: Any) -> bytes:
        buffer = io.BytesIO()
        _Pickler(buffer, self._author_refs).dump(value)
        return buffer.getvalue()

    def loads(self, blob: bytes) -> Any:
        return _Unpickler(io.BytesIO(blob), self._authors).load()

    def put_raw(self, table: str, items: dict[str, bytes]) -> None:
        """Store values a worker process already pickled."""
        if self._db is not None and items:
            self._write(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", list(items.items()))

    def get_state(self, key: str) -> Any:
        return self.get("state", key)

    def put_state(self, key: str, value: Any) -> None:
        self.put_many("state", {key: value})

    def flush(self) -> None:
        """Store what this build learned; called only after a successful build."""
        if self._pending_files:
            self._write("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", self._pending_files)
            if self.memory is not None and self.memory.files is not None:
                self.memory.files.update((p, (s, m, h)) for p, s, m, h in self._pending_files)
            self._pending_files = []

    def close(self) -> None:
        if self._db is not None and self._wrote:
            # A new generation: any other process's memory of the state is stale from now.
            generation = secrets.token_hex(8)
            self._write("INSERT OR REPLACE INTO state VALUES ('generation', ?)", [(pickle.dumps(generation),)])
            if self.memory is not None:
                self.memory.generation = generation
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def _kept(self, table: str) -> dict[str, Any] | None:
        """This process's memory of a table, in the parent process only."""
        if self.memory is None or os.getpid() != self._pid:
            return None
        return self.memory.tables.get(table)

    def _generation(self) -> str | None:
        row = self._query("SELECT value FROM state WHERE key='generation'", ())
        try:
            return pickle.loads(row[0]) if row else None
        except Exception:
            return None

    def _reader(self) -> sqlite3.Connection | None:
        """The connection for reading in this process. A forked worker must not use its
        parent's connection, so it opens its own, read-only, the first time it asks."""
        if self._db is None or os.getpid() == self._pid:
            return self._db
        if self._worker_db is None and self.folder is not None:
            try:
                self._worker_db = sqlite3.connect(f"file:{self.folder / 'cache.sqlite'}?mode=ro", uri=True)
            except sqlite3.Error:
                return None
        return self._worker_db

    def _query(self, sql: str, args: tuple[Any, ...]) -> Any:
        db = self._reader()
        if db is None:
            return None
        try:
            return db.execute(sql, args).fetchone()
        except sqlite3.DatabaseError:
            return None

    def _write(self, sql: str, rows: list[Any]) -> None:
        if self._db is None or os.getpid() != self._pid:
            return  # workers only read; the parent writes
        self._wrote = True
        try:
            self._db.execute("BEGIN")
            self._db.executemany(sql, rows)
            self._db.execute("COMMIT")
        except sqlite3.DatabaseError:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")


def _identity(author: Author) -> str:
    return hashlib.blake2b(repr(author).encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def _author_reference(author_id: str, identity: str) -> Author:
    """What a stored author reference names; only a Cache's unpickler can resolve one."""
    raise pickle.UnpicklingError(f"author '{author_id}' can only be read through the cache")


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, refs: Mapping[Author, tuple[str, str]]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._refs = refs

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is Author and (ref := self._refs.get(obj)) is not None:
            return _author_reference, ref
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, authors: Mapping[tuple[str, str], Author]) -> None:
        super().__init__(file)
        self._authors = authors

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_author_reference":
            return self._author
        return super().find_class(module, name)

    def _author(self, author_id: str, identity: str) -> Author:
        try:
            return self._authors[author_id, identity]
        except KeyError:
            raise pickle.UnpicklingError(f"author '{author_id}' is not in site.yaml as it was") from None
