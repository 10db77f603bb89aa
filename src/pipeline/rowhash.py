"""64-bit hashes of table rows, computed by DuckDB over the Arrow data in place.

Used wherever rows are compared by value without holding them: the changelog's diff
(rows that changed between releases) and validation's rows known to pass. Two rows of
different values share a hash with odds of about n / 2**64 (n: the rows compared).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

_local = threading.local()
_KEY = b"store_key"  # the key a file of kept hashes was written under (its schema metadata)
_COLUMN = "row_hash"


def _duckdb() -> Any:
    """This thread's in-memory DuckDB, the hash kernel (opening one costs ~0.1 s, and a
    connection is not safe to share between threads). It reads Arrow tables in place."""
    connection = getattr(_local, "connection", None)
    if connection is None:
        import duckdb

        connection = _local.connection = duckdb.connect()
    return connection


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def hash_term(table: pa.Table, column: str) -> str:
    """SQL hashing one column. DuckDB hashes an empty list like a null, so a list's length
    (-1 for null) is hashed with it."""
    name = _quoted(column)
    kind = table.schema.field(column).type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return f"hash({name}, coalesce(len({name}), -1))"
    return f"hash({name})"


def hashes_of(table: pa.Table, terms: Sequence[str]) -> list[npt.NDArray[np.uint64]]:
    """Each SQL term evaluated over the table's rows, in row order (vectorised, no Python
    objects per value: a million rows of a fact table hash in well under a second)."""
    count = table.num_rows
    if not terms:
        return []
    numbered = table.append_column("__row", pa.array(np.arange(count, dtype=np.int64)))
    connection = _duckdb()
    connection.register("__hashed_rows", numbered)
    try:
        select = ", ".join(f"{term} AS h{i}" for i, term in enumerate(terms))
        relation = connection.sql(f"SELECT __row, {select} FROM __hashed_rows")
        result = (getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table)()
    finally:
        connection.unregister("__hashed_rows")
    # Scattered back by row number: no reliance on the order DuckDB returns rows in.
    order = result["__row"].to_numpy()
    outputs = []
    for i in range(len(terms)):
        hashed = np.empty(count, dtype=np.uint64)
        hashed[order] = result[f"h{i}"].to_numpy()
        outputs.append(hashed)
    return outputs


def row_hashes(table: pa.Table, columns: Sequence[str] | None = None) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each row's ``columns`` (all with None), in row order."""
    columns = table.column_names if columns is None else columns
    if not columns:
        return np.zeros(table.num_rows, dtype=np.uint64)
    terms = ", ".join(hash_term(table, c) for c in columns)
    return hashes_of(table, [f"hash({terms})"])[0]


def read_kept(path: Path, key: str) -> npt.NDArray[np.uint64] | None:
    """Hashes kept in ``path`` under ``key`` (``write_kept``); None when the file is
    absent, unreadable or was written under another key."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException):
        return None
    metadata: Mapping[bytes, bytes] = table.schema.metadata or {}
    if metadata.get(_KEY) != key.encode() or table.column_names != [_COLUMN]:
        return None
    return np.asarray(table.column(_COLUMN).to_numpy(), dtype=np.uint64)


def write_kept(path: Path, key: str, hashes: npt.NDArray[np.uint64]) -> None:
    """Keep ``hashes`` in ``path`` under ``key``, replacing what was there: a temporary
    file renamed, so the file is whole or absent, never half written. Raises OSError or
    an Arrow error when it cannot."""
    schema = pa.schema([(_COLUMN, pa.uint64())], metadata={_KEY: key.encode()})
    table = pa.table({_COLUMN: pa.array(hashes, pa.uint64())}, schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)
