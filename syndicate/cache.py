"""The incremental cache in `.syndicate-cache/`: never trusted, always checked.

One SQLite file holds what earlier builds learned: each content file's hash by its size
and mtime (so unchanged files are not even read), the parsed front matter of each file
by its hash and the site configuration, each Markdown body by its hash (and, apart, its
small facts: summary, length, links), and the output manifest (what every output path
holds and which inputs made it). Every key includes
the package version, so an upgrade starts afresh; a cache that cannot be read is removed
and rebuilt, never half-used.

Values are stored in codec.py's format, plain data that cannot run code when read: the
cache may be restored from storage shared with others (a CI cache), so it is untrusted
input. A value that does not decode into the types it should hold is a miss, and a file
that is not our database, or that SQLite finds damaged, is deleted and started afresh.
An author is stored as a reference to the author of site.yaml it equals (codec.py), so a
reference to an author site.yaml no longer has, or has changed, is a miss, never a wrong author.

Two values are the exception: the plan kept for the next build (incremental.py's snapshot),
which at 10,000 articles took 0.4 s to read back as checked data, most of a one-article
edit, and the compiled templates (theme.py), which Jinja would otherwise compile again in
every process. Each is a pickle in a file of its own (`signed-*.pickle`), signed with
HMAC-SHA256 under a key of this user on this machine (`~/.cache/syndicate/signing-key`,
never in the site or its cache) and bound to this version of syndicate's code, and it is
unpickled only when the signature holds. A cache restored from elsewhere carries values no key here
signed: they are misses, and cost little there (a fresh checkout's file times never match
the plan's anyway; the templates are compiled as if there were no cache).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import secrets
import sqlite3
import stat
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .codec import Codec, CodecError
from .model import Author

Manifest = dict[str, tuple[str, str, int]]  # output path -> (job key, digest of its bytes, size)

if TYPE_CHECKING:
    from .attribution import Statements
    from .content import LazyMarkdown
    from .incremental import Snapshot
    from .theme import Theme

SCHEMA = 7


@cache
def code_stamp() -> str:
    """The version plus a hash of the package's own code: any change to it starts a new cache,
    so an edited or upgraded syndicate never reads values written by another one."""
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
    "CREATE TABLE IF NOT EXISTS outputs (folder TEXT, path TEXT, job TEXT, digest TEXT, size INTEGER, "
    "PRIMARY KEY (folder, path)) WITHOUT ROWID",
)
_SHAPE = {statement.split()[5]: statement.split(" ", 5)[5] for statement in _TABLES}  # table -> columns


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
        self.manifests: dict[str, tuple[str, Manifest]] = {}  # output folder -> the manifest's token and entries


class Cache:
    """A cache that may be disabled: then every lookup misses and nothing is stored."""

    def __init__(self, folder: Path | None, memory: Memory | None = None, authors: Mapping[str, Author] | None = None) -> None:
        self.folder = folder
        self.hits = 0
        self._codec = Codec((authors or {}).values())
        self._db: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._worker_db: sqlite3.Connection | None = None
        self._pending_files: list[tuple[str, int, int, str]] = []
        self._wrote = False
        if folder is not None:
            self._db = self._open(folder)
        self.memory = memory if self._db is not None else None
        # Each folder's manifest as read (token, rows): read once per build (the plan and the
        # render both ask), and the rows a build rewrites are only those that changed.
        self._manifests: dict[str, tuple[str, Manifest]] = {}
        if self.memory is not None and self.memory.generation != self._generation():
            self.memory.tables["state"].clear()  # another process built since: read afresh
            self.memory.files = None
            self.memory.manifests.clear()

    def _open(self, folder: Path) -> sqlite3.Connection | None:
        path = folder / "cache.sqlite"
        for _attempt in range(2):
            db: sqlite3.Connection | None = None
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
                _check_shape(db)
                db.execute(f"PRAGMA user_version={SCHEMA}")
                stamp = db.execute("SELECT value FROM state WHERE key='version'").fetchone()
                current = code_stamp()
                if stamp is not None and self._codec.decode(stamp[0]) != current:
                    raise sqlite3.DatabaseError("other version")
                db.execute("INSERT OR REPLACE INTO state VALUES ('version', ?)", (self._codec.encode(current),))
                return db
            except (sqlite3.Error, CodecError, OSError):
                if db is not None:
                    with contextlib.suppress(sqlite3.Error):
                        db.close()
                _remove_database(folder)
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
            rows = self._db.execute("SELECT path, size, mtime, hash FROM files").fetchall()
        except sqlite3.DatabaseError:
            self._damaged()
            return {}
        found = {_read_path(p): (s, m, h) for p, s, m, h in rows
                 if type(p) in (str, bytes) and type(s) is int and type(m) is int and type(h) is str}
        if self.memory is not None:
            self.memory.files = found
        return found

    def remember_file(self, path: str, size: int, mtime_ns: int, hash_: str) -> None:
        self._pending_files.append((path, size, mtime_ns, hash_))

    def _file_rows(self) -> list[tuple[str | bytes, int, int, str]]:
        return [(_stored_path(p), s, m, h) for p, s, m, h in self._pending_files]

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
                self._damaged()
                return found
            for key, blob in rows:
                try:
                    found[key] = self.loads(blob)
                except (CodecError, TypeError, AttributeError):  # damaged, foreign, or an author site.yaml no longer has
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
        return self._codec.encode(value)

    def loads(self, blob: bytes) -> Any:
        return self._codec.decode(blob)

    def put_raw(self, table: str, items: dict[str, bytes]) -> None:
        """Store values a worker process already encoded."""
        if self._db is not None and items:
            self._write(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", list(items.items()))

    def get_state(self, key: str) -> Any:
        return self.get("state", key)

    def put_signed(self, key: str, value: Any) -> None:
        """Keep a value of syndicate's own as a signed pickle (see the module docstring), in a
        file of its own: SQLite reads a value of twelve megabytes page by page, five times slower."""
        secret = signing_key()
        if secret is None or self._db is None or self.folder is None or os.getpid() != self._pid:
            return
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        for stale in self.folder.glob(".signed-*"):  # a killed build's half-written file (builds hold the site's lock)
            with contextlib.suppress(OSError):
                stale.unlink()
        draft = self.folder / f".signed-{secrets.token_hex(8)}"
        try:
            with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                out.write(_signature(secret, key, blob))
                out.write(blob)
            os.replace(draft, self._signed_path(key))  # whole or not at all: a reader never sees half
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(draft)

    def get_signed(self, key: str, *, counted: bool = True) -> Any:
        """The value put_signed kept, or None: missing, or signed by no key of this user for
        this version of syndicate. `counted`: a hit the build report counts (compiled templates are not)."""
        secret = signing_key()
        if secret is None or self._db is None:
            return None
        stored = _read_regular_file(self._signed_path(key))
        if stored is None or len(stored) <= _SIGNATURE_BYTES:
            return None
        view = memoryview(stored)  # twelve megabytes at ten thousand articles: read in place, never copied
        signature, blob = view[:_SIGNATURE_BYTES], view[_SIGNATURE_BYTES:]
        if not hmac.compare_digest(signature, _signature(secret, key, blob)):
            return None
        try:
            value = pickle.loads(blob)  # noqa: S301 - signed by this user's key just above
        except (pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError, ValueError):
            return None
        self.hits += counted
        return value

    def _signed_path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / f"signed-{hashlib.sha256(key.encode()).hexdigest()[:24]}.pickle"

    def put_state(self, key: str, value: Any) -> None:
        self.put_many("state", {key: value})

    def manifest(self, folder: str) -> tuple[str, Manifest]:
        """The manifest kept for an output folder (incremental.py): its token and its entries,
        ("", {}) when there is none. Kept as rows of plain columns, so that an edit rewrites
        the few rows it changed, not a value the size of the site."""
        if folder in self._manifests:
            return self._manifests[folder]
        if self.memory is not None and folder in self.memory.manifests and os.getpid() == self._pid:
            self._manifests[folder] = self.memory.manifests[folder]
            return self._manifests[folder]
        token = self.get_state(f"manifest-token:{folder}")
        db = self._reader()
        if db is None or not isinstance(token, str):
            return "", {}
        try:
            rows = db.execute("SELECT path, job, digest, size FROM outputs WHERE folder=?", (folder,)).fetchall()
        except sqlite3.DatabaseError:
            self._damaged()
            return "", {}
        entries = {_read_path(p): (j, d, s) for p, j, d, s in rows
                   if type(p) in (str, bytes) and type(j) is str and type(d) is str and type(s) is int}
        self._manifests[folder] = (token, entries)
        return token, entries

    def put_manifest(self, folder: str, token: str, entries: Manifest) -> None:
        """Keep this build's manifest: the rows that differ from the ones read, and the token
        last, in one transaction (a build that read none rewrites them all)."""
        if self._db is None:
            return
        stored = self._manifests[folder][1] if folder in self._manifests else None
        changed = [(folder, _stored_path(path), *entry) for path, entry in entries.items()
                   if stored is None or stored.get(path) != entry]
        gone = [(folder, _stored_path(path)) for path in stored.keys() - entries.keys()] if stored is not None else []
        self._write_all([
            ("DELETE FROM state WHERE key=?", [(f"manifest-token:{folder}",)]),
            *([("DELETE FROM outputs WHERE folder=?", [(folder,)])] if stored is None else []),
            ("DELETE FROM outputs WHERE folder=? AND path=?", gone),
            ("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?, ?)", changed),
            ("INSERT OR REPLACE INTO state VALUES (?, ?)", [(f"manifest-token:{folder}", self.dumps(token))]),
        ])
        self._manifests[folder] = (token, entries)
        if self.memory is not None:
            self.memory.manifests[folder] = (token, entries)

    def flush(self) -> None:
        """Store what this build learned; called only after a successful build."""
        if self._pending_files:
            self._write("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", self._file_rows())
            if self.memory is not None and self.memory.files is not None:
                self.memory.files.update((p, (s, m, h)) for p, s, m, h in self._pending_files)
            self._pending_files = []

    def close(self) -> None:
        if self._db is not None and self._wrote:
            # A new generation: any other process's memory of the state is stale from now.
            generation = secrets.token_hex(8)
            self._write("INSERT OR REPLACE INTO state VALUES ('generation', ?)", [(self._codec.encode(generation),)])
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
            return self._codec.decode(row[0]) if row else None
        except (CodecError, TypeError):
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
            self._damaged()
            return None

    def _write(self, sql: str, rows: list[Any]) -> None:
        self._write_all([(sql, rows)])

    def _write_all(self, statements: list[tuple[str, list[Any]]]) -> None:
        """Several statements in one transaction: all of them happen, or none."""
        if self._db is None or os.getpid() != self._pid:
            return  # workers only read; the parent writes
        self._wrote = True
        try:
            self._db.execute("BEGIN")
            for sql, rows in statements:
                if rows:
                    self._db.executemany(sql, rows)
            self._db.execute("COMMIT")
        except sqlite3.DatabaseError:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            self._damaged()

    def _damaged(self) -> None:
        """SQLite found the file damaged: stop using it, and (in the process that owns it)
        delete it, so the next build starts a fresh cache instead of missing forever."""
        if os.getpid() != self._pid or self._db is None or self.folder is None:
            return
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._db = None
        self.memory = None
        _remove_database(self.folder)


def _check_shape(db: sqlite3.Connection) -> None:
    """Our tables with our columns, or DatabaseError: a file of another program is not ours."""
    found = {name: " ".join(sql.split()) for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type='table'")}
    for name, columns in _SHAPE.items():
        if not found.get(name, "").endswith(columns):
            raise sqlite3.DatabaseError(f"table {name} is not ours")
    if set(found) - set(_SHAPE):
        raise sqlite3.DatabaseError("tables that are not ours")


def _remove_database(folder: Path) -> None:
    for path in [*(folder / f"cache.sqlite{suffix}" for suffix in ("", "-wal", "-shm")), *folder.glob("signed-*.pickle")]:
        with contextlib.suppress(OSError):
            path.unlink()


def _read_regular_file(path: Path) -> bytes | None:
    """A file's bytes, or None unless it is a regular file: the cache folder is untrusted, and
    a link or a pipe put in place of a file must not be followed or waited on."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(handle, "rb") as file:
        try:
            return file.read() if stat.S_ISREG(os.fstat(handle).st_mode) else None
        except OSError:
            return None


_SIGNATURE_BYTES = 32


def _signature(secret: bytes, key: str, blob: bytes | memoryview) -> bytes:
    """Bound to the key and to this version of syndicate's code: a value pickled by other
    classes is never unpickled into these."""
    mac = hmac.new(secret, f"{code_stamp()}\0{key}\0".encode(), hashlib.sha256)
    mac.update(blob)
    return mac.digest()


@cache
def signing_key() -> bytes | None:
    """This user's key for signing cached plans, made once; None where it cannot be kept
    (no writable home), and then no plan is kept between builds."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "syndicate"
    path = folder / "signing-key"
    try:
        found = path.read_bytes()
        if len(found) == 32:
            return found
    except OSError:
        pass
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        draft = folder / f".signing-key.{secrets.token_hex(4)}"
        handle = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(handle, secrets.token_bytes(32))
        finally:
            os.close(handle)
        try:
            os.link(draft, path)  # never replaces a key another build made meanwhile
        except FileExistsError:
            pass
        finally:
            draft.unlink()
        found = path.read_bytes()
        return found if len(found) == 32 else None
    except (OSError, RuntimeError):  # RuntimeError: no home folder to be found
        return None


def _stored_path(path: str) -> str | bytes:
    """A file name that is not valid UTF-8 is stored as its bytes, which SQLite keeps as they are."""
    return path if path.isascii() or _is_utf8(path) else os.fsencode(path)


def _read_path(stored: str | bytes) -> str:
    return stored if type(stored) is str else os.fsdecode(stored)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
