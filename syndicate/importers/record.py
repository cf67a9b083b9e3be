"""The import record: what each import wrote, so that running it again is safe.

Every file an import writes (an article, an image, a static file) is remembered by its
path with the source it came from and a hash of what was written. Running the import again
replaces a file only while it still has that hash: a file edited since, or one no import
wrote, is someone's work and is kept (reported), unless `--force` says otherwise.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from ..errors import SiteError, display_path

RECORD_NAME = ".syndicate-import.json"


class Outcome(Enum):
    CREATED = "created"
    UPDATED = "updated"  # the source changed and the file was still as the last import wrote it
    UNCHANGED = "unchanged"
    OVERWRITTEN = "overwritten"  # edited by hand, replaced because of --force
    KEPT = "kept"  # edited by hand (or not ours): left alone

    @property
    def imported(self) -> bool:
        return self is not Outcome.KEPT


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    outcome: Outcome
    reason: str = ""  # why a file was kept, as one report line


@dataclass
class ImportRecord:
    """What each import last wrote, by path: the source and a hash of the file's bytes.

    A file whose bytes still have the recorded hash is the import's own and may be replaced
    by a newer import of the same source; any other existing file is someone's work.
    Saved as `.syndicate-import.json` beside site.yaml: commit it with the site.
    """

    path: Path
    files: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path) -> ImportRecord:
        path = root / RECORD_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:
            raise SiteError.one(str(path), 1, f"cannot read the import record ({exc}); delete it to start afresh") from None
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, dict):
            raise SiteError.one(str(path), 1, "the import record has no 'files' mapping; delete it to start afresh")
        return cls(path, {str(k): dict(v) for k, v in files.items() if isinstance(v, dict)})

    def remember(self, relative: str, source: str, data: str | bytes) -> None:
        self.files[relative] = {"source": source, "sha256": sha256(data)}

    def save(self) -> None:
        if not self.files and not self.path.exists():
            return
        text = json.dumps({"files": self.files, "version": 1}, indent=2, sort_keys=True) + "\n"
        write_atomic(self.path, text)


def write_owned(root: Path, relative: str, data: str | bytes, source: str, record: ImportRecord, *,
                force: bool = False) -> Written:
    """Write `root/relative` unless that would destroy someone's work; the record is updated.

    The caller has checked that `relative` stays inside the site.
    """
    path = root / relative
    shown = display_path(path, Path.cwd().absolute())
    if not path.exists():
        write_atomic(path, data)
        record.remember(relative, source, data)
        return Written(path, Outcome.CREATED)
    current = path.read_bytes()
    wanted = data.encode("utf-8") if isinstance(data, str) else data
    known = record.files.get(relative)
    if current == wanted:
        record.remember(relative, source, data)
        return Written(path, Outcome.UNCHANGED)
    ours = known is not None and known.get("sha256") == sha256(current) and known.get("source") == source
    if not ours and not force:
        if known is None:
            why = "exists and was not written by an import"
        elif known.get("source") != source:
            why = f"was imported from {known.get('source')}"
        else:
            why = "was edited since the last import"
        return Written(path, Outcome.KEPT, f"{shown} {why}; not overwritten (use --force to replace it)")
    write_atomic(path, data)
    record.remember(relative, source, data)
    return Written(path, Outcome.UPDATED if ours else Outcome.OVERWRITTEN)


def sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write through a temporary file and a rename, so an interrupted import never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.importing")
    if isinstance(data, str):
        temporary.write_text(data, encoding="utf-8")
    else:
        temporary.write_bytes(data)
    temporary.replace(path)
