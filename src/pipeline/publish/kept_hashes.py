"""Row hashes of a published release's tables, kept for the next run's changelog.

The changelog diffs a new release with its parent by hashing every row of both
(``rowhash``): at 100,000 documents, 1 % edited, about 13 s, half of it the parent's. The
run that published the parent hashed those same files already, as its new side. The store
keeps, per table, the hashes of the last new side, under a key naming the file's sha256
(the manifest's), the columns hashed and the code and libraries that hashed them; the next
run reads them for its parent instead of hashing it again. Any other file, columns or
hashing code misses and is hashed as before: a cache, never a source of truth (a parent
file altered after publishing no longer matches its manifest: ``pipeline verify`` says so).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from pipeline import rowhash

Hashes = npt.NDArray[np.uint64]

logger = logging.getLogger(__name__)


def hashing_code() -> str:
    """What a row's hash depends on besides its values: the hashing module's source and
    the versions of the libraries that run it."""
    import duckdb

    source = Path(rowhash.__file__).read_bytes()
    parts = [hashlib.sha256(source).hexdigest(), duckdb.__version__, pa.__version__]
    return ",".join(parts)


class RowHashStore:
    """Per table, the row hashes of one table file (``folder/<table>.parquet``)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def key(self, table: str, file_sha256: str, columns: Sequence[str]) -> str:
        payload = {
            "table": table,
            "file_sha256": file_sha256,
            "columns": list(columns),
            "code": hashing_code(),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def _path(self, table: str) -> Path:
        return self._folder / f"{table}.parquet"

    def load(self, table: str, key: str, rows: int) -> Hashes | None:
        """The hashes kept under ``key``, one per row; None when absent, unreadable, kept
        under another key or not ``rows`` long."""
        found = rowhash.read_kept(self._path(table), key)
        return found if found is not None and len(found) == rows else None

    def save(self, table: str, key: str, hashes: Hashes) -> None:
        """Keep ``hashes`` for ``table`` under ``key``, replacing what was kept (a temporary
        file renamed: whole or absent). A failure is logged: the next run hashes again."""
        try:
            rowhash.write_kept(self._path(table), key, hashes)
        except (OSError, pa.ArrowException) as exc:
            logger.warning("%s: row hashes not kept for the next changelog: %r", table, exc)


@dataclass(frozen=True, slots=True)
class KeptHashes:
    """The store as one table file of one side of a diff sees it: it loads that file's
    hashes and, on the side that is ``remember``-ed (the release being published), keeps
    the hashes it computes."""

    store: RowHashStore
    table: str
    file_sha256: str
    remember: bool

    def load(self, columns: Sequence[str], rows: int) -> Hashes | None:
        return self.store.load(self.table, self._key(columns), rows)

    def save(self, columns: Sequence[str], hashes: Hashes) -> None:
        if self.remember:
            self.store.save(self.table, self._key(columns), hashes)

    def _key(self, columns: Sequence[str]) -> str:
        return self.store.key(self.table, self.file_sha256, columns)


def kept_for(
    store: RowHashStore | None, manifest: Mapping[str, object], table: str, *, remember: bool
) -> KeptHashes | None:
    """``table``'s view of the store, when there is one and the manifest gives the file's
    sha256."""
    tables = manifest.get("tables")
    entry = tables.get(table) if isinstance(tables, Mapping) else None
    sha = entry.get("sha256") if isinstance(entry, Mapping) else None
    if store is None or not isinstance(sha, str) or not sha:
        return None
    return KeptHashes(store, table, sha, remember)
