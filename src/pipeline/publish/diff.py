"""What changed between two releases, row by row, and why (``pipeline diff``, CHANGELOG.md).

Matching. Rows are matched on their table's primary key (``schemas.TABLES``; the manifest's
``inputs`` on ``path``, shown as the table ``inputs``). A key on one side only is ``added``
or ``removed``; a key on both sides whose other shared columns differ is ``changed``. Rows
are compared through a 64-bit hash of their columns (DuckDB's ``hash``, run over the Arrow
data in place), so a match holds only the key columns, a hash and a row number per row,
and values are converted to Python only for the rows that are shown. (Two different rows
hashing alike, and so looking unchanged, has a chance of about n / 2^64.)

Causes. Each row is traced to the input files it was read from, its *sources*:

- ``documents``, ``passages`` and the fact tables: the file of its ``doc_id`` (a hash of
  the source path; mapped through the ``documents`` table of either release);
- ``claims``: every document in ``doc_ids``, before and after (a claim is as new as the
  newest document that states it);
- ``duplicates``: both ends, ``id`` and ``duplicate_of`` (passage ids through ``passages``);
- ``quarantine`` and ``inputs``: their ``source_path`` / ``path``.

Each input path is ``added`` or ``removed`` (on one side only), ``changed`` (its sha256
differs) or ``unchanged``, by the manifests' ``inputs`` (by ``documents`` and
``quarantine`` for a manifest without them). A row with a changed, added or removed source
gets ``document_changed``, ``document_added`` or ``document_removed``, in that order of
precedence when it has several sources. A row none of whose sources changed can only have
moved because the pipeline saw something else:

- ``code_or_config`` when the inputs are the same (so code or config made the difference);
- ``other_documents`` when the code and config are the same and other inputs changed:
  corpus-wide steps (duplicates, claims, entity document counts, page chrome repeated
  across documents) see the whole corpus;
- when both changed, ``other_documents`` for a row whose change is confined to such
  corpus-wide columns (``CORPUS_COLUMNS``), ``code_or_config`` otherwise. A judgement,
  not a proof: code can move those columns too.

``code_version`` differing between the manifests means the code changed. The manifest
holds no config, only ``run_fingerprint`` (inputs, code and config together), so a config
change is known only when inputs and code are the same and the fingerprints differ; when
inputs changed too it cannot be told apart, and an unchanged document's rows moved by it
are put down to ``other_documents``.

Same fact, new id. ``fact_id`` hashes the document's content, so every fact of an edited
document gets a new id and shows as removed and added (``document_changed``), never as
changed. ``same_facts`` pairs such a removed and added fact when their quote, sentence and
values are equal (``Row.same_as``; listed after the rest), so the facts that really changed
stand out; the counts stay by primary key, since the old id is gone for whoever holds it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.publish.kept_hashes import KeptHashes, RowHashStore, kept_for
from pipeline.publish.release import read_columns, read_manifest
from pipeline.rowhash import hash_term, hashes_of, row_hashes
from pipeline.runtime import return_freed_memory
from pipeline.schemas import ASSEMBLED_COLUMNS, FACT_TABLES, MANIFEST_INPUTS, TABLES

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
CHANGES = (ADDED, REMOVED, CHANGED)
_ADDED, _REMOVED, _CHANGED = range(len(CHANGES))  # codes of the change kinds in arrays

DOCUMENT_CHANGED = "document_changed"
DOCUMENT_ADDED = "document_added"
DOCUMENT_REMOVED = "document_removed"
OTHER_DOCUMENTS = "other_documents"
CODE_OR_CONFIG = "code_or_config"
# The first three line up with the source statuses below: status code == cause code.
CAUSES = (DOCUMENT_CHANGED, DOCUMENT_ADDED, DOCUMENT_REMOVED, OTHER_DOCUMENTS, CODE_OR_CONFIG)

# Input path statuses, most telling first: a row with several sources takes the lowest.
STATUSES = (CHANGED, ADDED, REMOVED, "unchanged")
_EDITED, _UNCHANGED = STATUSES.index(CHANGED), STATUSES.index("unchanged")

INPUTS = "inputs"  # the manifest's inputs list, diffed like a table
TABLE_ORDER: tuple[str, ...] = (INPUTS, *TABLES)
KEYS: dict[str, tuple[str, ...]] = {
    INPUTS: MANIFEST_INPUTS.primary_key,
    **{name: table.primary_key for name, table in TABLES.items()},
}

# Columns computed over the whole corpus, which other documents can move.
CORPUS_COLUMNS: dict[str, frozenset[str]] = {
    "documents": frozenset({"duplicate_of", "duplicate_kind"}),
    "passages": frozenset({"duplicate_of"}),
    "duplicates": frozenset({"duplicate_of", "kind", "similarity", "method"}),
    "claims": frozenset(TABLES["claims"].column_names),  # claims are grouped across documents
    **{name: frozenset(columns) for name, columns in ASSEMBLED_COLUMNS.items()},
}

_FLAG_CELLS = 4_000_000  # hashes held at once to find a changed row's changed columns
_LONG = 200  # longer strings are shown abbreviated (source_text, passage text)
# Uncompressed bytes of the columns read at once from a Parquet file. Reading tables whole
# (documents 570 MB, entities 660 MB at 100,000 documents; both releases at once) took
# CHANGELOG.md to a 3.8 GB peak.
_BATCH_BYTES = 16 * 2**20

Loader = Callable[[str, Sequence[str] | None], "pa.Table | None"]
Rows = npt.NDArray[np.int64]  # row numbers


# ---------------------------------------------------------------------------- the sides


@dataclass(frozen=True, slots=True)
class Lazy:
    """One table of a release, read a few columns, or a slice of rows, at a time.

    ``read(columns)`` gives those columns of every row; ``batches(columns, rows)`` gives
    them a slice of rows at a time, in row order, as (first row number, slice); with
    ``rows`` (ascending row numbers) it may skip slices that hold none of them. So a wide
    column (documents.source_text, entities.sentence: about 500 MB each at 100,000
    documents) is hashed, and its few shown rows picked, without ever being held whole.
    """

    schema: pa.Schema
    num_rows: int
    read: Callable[[Sequence[str]], pa.Table]
    batches: Callable[[Sequence[str], Rows | None], Iterator[tuple[int, pa.Table]]]
    kept: KeptHashes | None = None  # where this file's row hashes are kept (table_hashes)

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)


def in_memory(table: pa.Table) -> Lazy:
    """A table already in memory: a single batch."""

    def read(columns: Sequence[str]) -> pa.Table:
        return table.select(list(columns))

    def batches(columns: Sequence[str], rows: Rows | None) -> Iterator[tuple[int, pa.Table]]:
        yield 0, table.select(list(columns))

    return Lazy(table.schema, table.num_rows, read, batches)


def _batch_rows(metadata: pq.FileMetaData, columns: Sequence[str]) -> int:
    """Rows per batch so that ``columns`` take about _BATCH_BYTES uncompressed."""
    wanted, size = set(columns), 0  # bytes of those columns over the whole file
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for i in range(row_group.num_columns):
            column = row_group.column(i)
            if column.path_in_schema.split(".")[0] in wanted:
                size += column.total_uncompressed_size
    return max(1, int(metadata.num_rows) * _BATCH_BYTES // max(1, size))


def parquet_table(path: Path, kept: KeptHashes | None = None) -> Lazy:
    """A Parquet file, never read whole: only the columns asked for, a batch at a time.
    ``kept``: the file's row hashes kept between runs (``kept_hashes``)."""
    file = pq.ParquetFile(path)
    schema, num_rows = file.schema_arrow, file.metadata.num_rows
    file.close()

    def read(columns: Sequence[str]) -> pa.Table:
        return pq.read_table(path, columns=list(columns))

    def batches(columns: Sequence[str], rows: Rows | None) -> Iterator[tuple[int, pa.Table]]:
        # Row group by row group: one iter_batches over the whole file read ahead, and
        # held 1 GB reading documents at 100,000 documents, 130 MB this way.
        with pq.ParquetFile(path) as source:
            size = _batch_rows(source.metadata, columns)
            start = 0
            for group in range(source.num_row_groups):
                end = start + source.metadata.row_group(group).num_rows
                if rows is None or _any_between(rows, start, end):
                    for batch in source.iter_batches(size, [group], list(columns)):
                        yield start, pa.Table.from_batches([batch])
                        start += batch.num_rows
                start = end

    return Lazy(schema, num_rows, read, batches, kept)


def _any_between(rows: Rows, start: int, end: int) -> bool:
    """Whether ascending ``rows`` hold a row number in [start, end)."""
    low, high = np.searchsorted(rows, [start, end])
    return bool(high > low)


@dataclass(frozen=True, slots=True)
class Side:
    """One release as the engine sees it: its manifest and a reader of its tables.

    ``load(name, columns)`` gives the table (only ``columns`` when given) or None when the
    release has no such table; ``open(name)`` gives it as a ``Lazy`` table (None: read
    whole through ``load``). Tables are read one at a time, so two releases are never
    held in memory whole.
    """

    manifest: Mapping[str, Any]
    load: Loader
    open: Callable[[str], Lazy | None] | None = None


def side_from_dir(
    release_dir: Path,
    manifest: Mapping[str, Any] | None = None,
    *,
    hashes: RowHashStore | None = None,
    remember: bool = False,
) -> Side:
    """A published (or staged) release folder; ``manifest`` instead of the folder's own
    (a staged release whose manifest is still being completed).

    ``hashes``: a store of row hashes (``kept_hashes``) its tables' hashes are read from
    when it has them, and, with ``remember`` (the release being published), kept in.
    """

    def load(name: str, columns: Sequence[str] | None) -> pa.Table | None:
        path = release_dir / f"{name}.parquet"
        if not path.is_file():
            return None
        return read_columns(path, columns)

    if manifest is None:
        manifest = read_manifest(release_dir)
    described = manifest

    def open_table(name: str) -> Lazy | None:
        path = release_dir / f"{name}.parquet"
        if not path.is_file():
            return None
        return parquet_table(path, kept_for(hashes, described, name, remember=remember))

    return Side(manifest, load, open_table)


def side_from_tables(manifest: Mapping[str, Any], tables: Mapping[str, pa.Table]) -> Side:
    """A release whose tables are already in memory (the one a run is about to publish)."""

    def load(name: str, columns: Sequence[str] | None) -> pa.Table | None:
        table = tables.get(name)
        if table is None or columns is None:
            return table
        return table.select([c for c in columns if c in table.column_names])

    return Side(manifest, load)


def no_release() -> Side:
    """The parent of a first release: nothing, so every row is added."""
    return Side({}, lambda name, columns: None)


def _inputs_table(manifest: Mapping[str, Any]) -> pa.Table | None:
    """The manifest's inputs as a table; None for a manifest that does not list them."""
    inputs = manifest.get("inputs")
    if not isinstance(inputs, list):
        return None if manifest else MANIFEST_INPUTS.schema.empty_table()
    columns = MANIFEST_INPUTS.column_names
    return pa.Table.from_pylist(
        [{c: item.get(c) for c in columns} for item in inputs], schema=MANIFEST_INPUTS.schema
    )


def _open(side: Side, name: str) -> Lazy | None:
    if name == INPUTS:
        table = _inputs_table(side.manifest)
    elif side.open is not None:
        return side.open(name)
    else:
        table = side.load(name, None)
    return None if table is None else in_memory(table)


def _picked(table: Lazy, rows: Rows, columns: Sequence[str]) -> Iterator[tuple[Rows, pa.Table]]:
    """The rows ``rows`` (row numbers) a batch at a time, in file order: (their positions
    in ``rows``, ``columns`` of those rows). The rest of a file is not read once every row
    asked for is."""
    order = np.argsort(rows, kind="stable")
    ascending = rows[order]
    for start, batch in table.batches(columns, ascending):
        low, high = np.searchsorted(ascending, [start, start + batch.num_rows])
        if high > low:
            yield order[low:high], batch.take(pa.array(ascending[low:high] - start))
        if high == len(ascending):
            break


def take(table: Lazy, rows: npt.NDArray[np.int64], columns: Sequence[str]) -> pa.Table:
    """``columns`` of the rows ``rows`` (row numbers, in that order), read a batch at a
    time and keeping only those rows."""
    columns = list(columns)
    if not len(rows):
        return pa.schema([table.schema.field(c) for c in columns]).empty_table()
    positions, parts = zip(*_picked(table, rows, columns), strict=True)
    back = np.empty(len(rows), dtype=np.int64)
    back[np.concatenate(positions)] = np.arange(len(rows))
    return pa.concat_tables(parts).take(pa.array(back))


def hashes_at(table: Lazy, rows: Rows, columns: Sequence[str]) -> list[npt.NDArray[np.uint64]]:
    """Each column's 64-bit value hash at the rows ``rows`` (row numbers, in that order),
    ``rowhash.hash_term`` of the column. Computed a batch at a time: only the hashes are
    kept, never the values (taking the changed rows' values whole, two columns at a time,
    took CHANGELOG.md to 2.7 GB at 100,000 documents after 1 % were added)."""
    hashed = [np.zeros(len(rows), dtype=np.uint64) for _ in columns]
    if not len(rows) or not columns:
        return hashed
    for positions, part in _picked(table, rows, list(columns)):
        terms = [hash_term(part, c) for c in columns]
        for out, values in zip(hashed, hashes_of(part, terms), strict=True):
            out[positions] = values
    return hashed


def _column_at(table: Lazy, rows: npt.NDArray[np.int64], column: str) -> pa.Array:
    """One column's value at each row number; null where the row is absent (-1)."""
    present = rows >= 0
    values = take(table, rows[present], [column])[column].combine_chunks()
    at = np.full(len(rows), -1, dtype=np.int64)
    at[present] = np.arange(int(present.sum()))
    return values.take(_indices(at))


def table_hashes(table: Lazy, columns: Sequence[str]) -> npt.NDArray[np.uint64]:
    """``row_hashes`` of a table read a batch at a time, or as kept by an earlier run."""
    if not columns:
        return np.zeros(table.num_rows, dtype=np.uint64)
    if table.kept is not None:
        found = table.kept.load(columns, table.num_rows)
        if found is not None:
            return found
    parts = [row_hashes(batch, columns) for _, batch in table.batches(columns, None)]
    hashes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
    if table.kept is not None:
        table.kept.save(columns, hashes)
    return hashes


# ------------------------------------------------------------------ sources and context


def input_hashes(side: Side) -> dict[str, str | None]:
    """Input path -> sha256 (None when it could not be read) of one release."""
    inputs = side.manifest.get("inputs")
    if isinstance(inputs, list):
        return {str(item["path"]): item.get("sha256") for item in inputs}
    hashes: dict[str, str | None] = {}  # older manifests: what the tables say was read
    for name in ("quarantine", "documents"):
        table = side.load(name, ("source_path", "content_sha256"))
        if table is not None and "content_sha256" in table.column_names:
            paths, shas = table["source_path"].to_pylist(), table["content_sha256"].to_pylist()
            hashes.update(zip(paths, shas, strict=True))
    return hashes


def source_statuses(old: Mapping[str, str | None], new: Mapping[str, str | None]) -> dict[str, str]:
    """Each input path's status: added, removed, changed (other sha256) or unchanged."""
    statuses = {}
    for path in old.keys() | new.keys():
        if path not in new:
            statuses[path] = REMOVED
        elif path not in old:
            statuses[path] = ADDED
        else:
            statuses[path] = CHANGED if old[path] != new[path] else "unchanged"
    return statuses


_IDENTITY = ("version", "code_version", "pipeline_version", "input_fingerprint", "run_fingerprint")


@dataclass(frozen=True, slots=True)
class Context:
    """What differs between the two releases as a whole: inputs, code, config."""

    old: Mapping[str, Any]  # identity of each release (_IDENTITY keys from its manifest)
    new: Mapping[str, Any]
    inputs: Mapping[str, int]  # status -> number of input paths
    code_changed: bool
    config_changed: bool | None  # None: the manifests cannot tell (inputs or code moved too)

    @property
    def inputs_changed(self) -> bool:
        return any(self.inputs.get(status, 0) for status in STATUSES[:_UNCHANGED])

    @property
    def code_or_config_changed(self) -> bool:
        return self.code_changed or self.config_changed is True

    def unchanged_cause(self, change: str, corpus_only: bool) -> str:
        """The cause of a row none of whose source documents changed (see the module doc)."""
        if not self.inputs_changed:
            return CODE_OR_CONFIG  # same inputs in: only code or config changes what comes out
        if not self.code_or_config_changed:
            return OTHER_DOCUMENTS  # same code: corpus-wide steps saw other documents
        return OTHER_DOCUMENTS if change == CHANGED and corpus_only else CODE_OR_CONFIG


def context(old: Mapping[str, Any], new: Mapping[str, Any], statuses: Mapping[str, str]) -> Context:
    """The release-level comparison of two manifests, given the input paths' statuses."""
    counts = dict.fromkeys(STATUSES, 0)
    for status in statuses.values():
        counts[status] += 1
    inputs_changed = any(counts[status] for status in STATUSES[:_UNCHANGED])
    code_changed = old.get("code_version") != new.get("code_version")
    old_fp, new_fp = old.get("run_fingerprint"), new.get("run_fingerprint")
    config: bool | None = None
    if old_fp is not None and new_fp is not None:
        if old_fp == new_fp:
            config = False  # the fingerprint covers config: equal means equal
        elif not inputs_changed and not code_changed:
            config = True  # nothing else the fingerprint covers moved
    return Context(
        old={k: old.get(k) for k in _IDENTITY},
        new={k: new.get(k) for k in _IDENTITY},
        inputs=counts,
        code_changed=code_changed,
        config_changed=config,
    )


@dataclass(frozen=True, slots=True)
class _Sources:
    """Where rows come from: each input path's status, and which path each document is.

    Paths are numbered in sorted order (``paths``), so rows carry a path as a number and
    the path's order is the number's: a string per changed row (1.6 million entity rows
    at 100,000 documents after 1 % were added) is never made.
    """

    paths: pa.Array  # every input path of both releases, sorted
    rank: npt.NDArray[np.int8]  # per path: its status (index into STATUSES)
    doc_paths: pa.Table  # doc_id, path (from the documents of both releases)
    doc_path: npt.NDArray[np.int64]  # per doc_paths row: its path's number, -1 if unknown
    passage_docs: Callable[[pa.ChunkedArray], pa.Table]  # passage_id, doc_id of those ids

    def path_numbers(self, values: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
        """The number of each path in ``values``; -1 for a path no manifest lists."""
        return _positions(values, self.paths)

    def doc_path_numbers(self, doc_ids: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
        """The path number of each document id; -1 for an id no release's documents have."""
        found = _positions(doc_ids, self.doc_paths["doc_id"])
        return np.where(found >= 0, self.doc_path[found], -1)

    def path_of(self, number: int) -> str | None:
        return None if number < 0 else str(self.paths[number].as_py())


def _positions(values: pa.Array | pa.ChunkedArray, among: pa.Array | pa.ChunkedArray) -> Rows:
    """Each value's position in ``among`` (distinct values), -1 where it is absent."""
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    among = among.cast(pa.string())
    found = pc.index_in(values.cast(pa.string()), value_set=among)
    return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)


def _distinct(tables: Sequence[pa.Table | None], columns: Sequence[str]) -> pa.Table:
    # Cast: two releases may differ in nullability (or string width) of the same column.
    schema = pa.schema([(c, pa.string()) for c in columns])
    present = [t.select(list(columns)).cast(schema) for t in tables if t is not None]
    if not present:
        return schema.empty_table()
    return pa.concat_tables(present).group_by(list(columns)).aggregate([])


def _with_ids(passages: pa.Table | None, wanted: pa.ChunkedArray) -> pa.Table | None:
    if passages is None:
        return None
    ids = passages["passage_id"]
    return passages.filter(pc.is_in(ids, value_set=wanted.cast(ids.type)))


def _sources(old: Side, new: Side, statuses: Mapping[str, str]) -> _Sources:
    paths = sorted(statuses)
    rank = np.array([STATUSES.index(statuses[p]) for p in paths], dtype=np.int8)
    path_array = pa.array(paths, pa.string())
    columns = ("doc_id", "source_path")
    docs = _distinct([old.load("documents", columns), new.load("documents", columns)], columns)
    docs = docs.rename_columns(["doc_id", "path"])

    def passage_docs(wanted: pa.ChunkedArray) -> pa.Table:
        # Only the passages asked for are kept, a release at a time: distinct pairs of every
        # passage of both releases took 300 MB at 100,000 documents.
        columns = ("passage_id", "doc_id")
        sides = [_with_ids(side.load("passages", columns), wanted) for side in (old, new)]
        return _distinct(sides, columns)

    doc_path = _positions(docs["path"], path_array)
    return _Sources(path_array, rank, docs, doc_path, passage_docs)


# ------------------------------------------------------------------------------ matching


@dataclass(frozen=True, slots=True)
class Matched:
    """The rows that differ: their keys, row numbers on each side (-1: absent), change."""

    keys: pa.Table
    old: npt.NDArray[np.int64]
    new: npt.NDArray[np.int64]
    change: npt.NDArray[np.int8]  # index into CHANGES


def match_rows(old: pa.Table, new: pa.Table, key: Sequence[str], columns: Sequence[str]) -> Matched:
    """Match two tables on ``key`` and keep the rows added, removed or changed."""
    return _match(in_memory(old), in_memory(new), key, columns)


def _match(old: Lazy, new: Lazy, key: Sequence[str], columns: Sequence[str]) -> Matched:
    found = _match_one_key(old, new, key[0], columns) if len(key) == 1 else None
    return found if found is not None else _match_join(old, new, key, columns)


def _match_one_key(old: Lazy, new: Lazy, key: str, columns: Sequence[str]) -> Matched | None:
    """Match on a single key column by looking each new key up among the old ones (exact:
    the values are compared, not hashed). The Arrow join held 850 MB for entities at
    100,000 documents (2.3 million fact_ids a side), this about 300 MB. None (use the
    join) for keys typed differently, null or repeated on the old side, which the join
    handles its own way."""
    before, after = old.read([key])[key], new.read([key])[key]
    if before.type != after.type or before.null_count or after.null_count:
        return None
    if pc.count_distinct(before).as_py() != len(before):
        return None
    found = pc.index_in(after, value_set=before)  # per new row: its old row, null if none
    old_row = np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)
    del found
    present = old_row >= 0
    differs = ~present
    hash_old = table_hashes(old, columns)
    differs[present] = table_hashes(new, columns)[present] != hash_old[old_row[present]]
    gone = np.ones(len(before), dtype=bool)
    gone[old_row[present]] = False
    new_rows, old_rows = np.flatnonzero(differs), np.flatnonzero(gone)
    keys = pa.chunked_array([after.take(new_rows), before.take(old_rows)], after.type)
    change = np.where(present[new_rows], _CHANGED, _ADDED).astype(np.int8)
    return Matched(
        pa.table({key: keys}),
        np.concatenate([old_row[new_rows], old_rows]),
        np.concatenate([new_rows, np.full(len(old_rows), -1, dtype=np.int64)]),
        np.concatenate([change, np.full(len(old_rows), _REMOVED, dtype=np.int8)]),
    )


def _match_join(old: Lazy, new: Lazy, key: Sequence[str], columns: Sequence[str]) -> Matched:
    def keyed(table: Lazy, side: str) -> pa.Table:
        parts = dict(zip(key, table.read(key).columns, strict=True))
        parts[f"__hash_{side}"] = pa.array(table_hashes(table, columns))
        parts[f"__row_{side}"] = pa.array(np.arange(table.num_rows, dtype=np.int64))
        return pa.table(parts)

    joined = keyed(old, "old").join(keyed(new, "new"), keys=list(key), join_type="full outer")
    hash_old, hash_new = joined["__hash_old"], joined["__hash_new"]
    change = np.where(
        pc.is_null(hash_old).to_numpy(),
        _ADDED,
        np.where(pc.is_null(hash_new).to_numpy(), _REMOVED, _CHANGED),
    ).astype(np.int8)
    differs = (change != _CHANGED) | pc.fill_null(
        pc.not_equal(hash_old, hash_new), False
    ).to_numpy()
    joined = joined.filter(pa.array(differs))

    def rows(side: str) -> npt.NDArray[np.int64]:
        return np.asarray(pc.fill_null(joined[f"__row_{side}"], -1).to_numpy(), dtype=np.int64)

    return Matched(joined.select(list(key)), rows("old"), rows("new"), change[differs])


def _indices(rows: npt.NDArray[np.int64]) -> pa.Array:
    """Row numbers as Arrow take() indices, null where the row is absent (-1)."""
    return pa.array(rows, mask=rows < 0)


def _pick(column: str, old: Lazy, new: Lazy, matched: Matched) -> pa.Array:
    """Each row's value of ``column``: the new side's, the old side's for removed rows."""
    count = len(matched.change)
    having = [t for t in (new, old) if column in t.column_names]
    if not having:
        return pa.nulls(count)
    kind = having[0].schema.field(column).type

    def side(table: Lazy, rows: npt.NDArray[np.int64]) -> pa.Array:
        if column not in table.column_names:
            return pa.nulls(count, kind)
        return _column_at(table, rows, column)

    return pc.if_else(pa.array(matched.new >= 0), side(new, matched.new), side(old, matched.old))


def _column_flags(
    old: Lazy, new: Lazy, matched: Matched, columns: Sequence[str]
) -> dict[str, npt.NDArray[np.bool_]]:
    """For the changed rows (in order): which columns differ, by their values' hashes,
    a few columns at a time so that at most about _FLAG_CELLS hashes are held at once."""
    changed = matched.change == _CHANGED
    count = int(changed.sum())
    flags = {c: np.zeros(count, dtype=bool) for c in columns}
    if not count or not columns:
        return flags
    old_rows, new_rows = matched.old[changed], matched.new[changed]
    step = max(1, _FLAG_CELLS // count)
    for start in range(0, len(columns), step):
        group = list(columns[start : start + step])
        before, after = hashes_at(old, old_rows, group), hashes_at(new, new_rows, group)
        for column, a, b in zip(group, before, after, strict=True):
            flags[column] = a != b
    return flags


# --------------------------------------------------------------------------- attribution


def _doc_pairs(name: str, table: Lazy, rows: npt.NDArray[np.int64], sources: _Sources) -> pa.Table:
    """(row, doc_id) for each document a side's rows come from."""
    present = np.flatnonzero(rows >= 0)
    if name == "claims":
        lists = take(table, rows[present], ["doc_ids"])["doc_ids"].combine_chunks()
        parents = pc.list_parent_indices(lists).to_numpy()
        return pa.table({"row": present[parents], "doc_id": pc.list_flatten(lists)})
    if name == "duplicates":
        taken = take(table, rows[present], ["level", "id", "duplicate_of"])
        ends = pa.table(
            {
                "row": np.concatenate([present, present]),
                "level": pa.concat_arrays([taken["level"].combine_chunks()] * 2),
                "id": pa.concat_arrays(
                    [taken["id"].combine_chunks(), taken["duplicate_of"].combine_chunks()]
                ),
            }
        )
        passage = pc.equal(ends["level"], "passage")
        docs = (
            ends.filter(pc.invert(passage)).select(["row", "id"]).rename_columns(["row", "doc_id"])
        )
        passages = ends.filter(passage).select(["row", "id"])
        if passages.num_rows:
            mapped = passages.join(
                sources.passage_docs(passages["id"]),
                keys="id",
                right_keys="passage_id",
                join_type="inner",
            )
            docs = pa.concat_tables(
                [docs, mapped.select(["row", "doc_id"])], promote_options="permissive"
            )
        return docs
    if "doc_id" in table.column_names:
        return pa.table({"row": present, "doc_id": take(table, rows[present], ["doc_id"])[0]})
    return pa.table({"row": pa.array([], pa.int64()), "doc_id": pa.array([], pa.string())})


def _path_pairs(
    name: str, table: Lazy, rows: npt.NDArray[np.int64], sources: _Sources
) -> tuple[Rows, Rows]:
    """(row, path number) for each input file a side's rows come from; -1 for a document
    id or path the releases do not list (such a row counts as unchanged)."""
    column = {INPUTS: "path", "quarantine": "source_path"}.get(name)
    if column is not None:
        present = np.flatnonzero(rows >= 0)
        return present, sources.path_numbers(take(table, rows[present], [column])[0])
    docs = _doc_pairs(name, table, rows, sources)
    row = np.asarray(docs["row"].to_numpy(), dtype=np.int64)
    return row, sources.doc_path_numbers(docs["doc_id"])


def _decide(
    pairs: Sequence[tuple[Rows, Rows]], sources: _Sources, count: int
) -> tuple[npt.NDArray[np.int8], Rows]:
    """Per row: the most telling source status and its path number (lowest status, then
    path; -1: none), from (row, path number) pairs."""
    rows = np.concatenate([row for row, _ in pairs])
    numbers = np.concatenate([number for _, number in pairs])
    rank = np.full(count, _UNCHANGED, dtype=np.int8)
    path = np.full(count, -1, dtype=np.int64)
    if not len(rows):
        return rank, path
    # One number per pair, status first, then path; an unknown path (-1) before any other
    # path of its status, as the empty string it used to be.
    width = len(sources.paths) + 1
    ranks = np.where(numbers >= 0, sources.rank[np.maximum(numbers, 0)], _UNCHANGED)
    code = ranks.astype(np.int64) * width + numbers + 1
    best = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, rows, code)
    found = best < np.iinfo(np.int64).max
    rank[found] = best[found] // width
    path[found] = best[found] % width - 1
    return rank, path


def _causes(
    rank: npt.NDArray[np.int8],
    change: npt.NDArray[np.int8],
    corpus_only: npt.NDArray[np.bool_],
    ctx: Context,
) -> npt.NDArray[np.int8]:
    """Cause code (index into CAUSES) per row; see Context.unchanged_cause."""
    cause = rank.copy()  # a source's status code is its cause's code
    unchanged = rank == _UNCHANGED
    by_case = np.array(
        [
            [CAUSES.index(ctx.unchanged_cause(kind, only)) for only in (False, True)]
            for kind in CHANGES
        ],
        dtype=np.int8,
    )
    cause[unchanged] = by_case[change[unchanged], corpus_only[unchanged].astype(np.int8)]
    return cause


# ----------------------------------------------------------------- same fact, new id

# A fact's id hashes its document's content, so every fact of an edited document gets a new
# id. Columns that move with that (or with other documents) are left out when asking
# whether a removed and an added fact of one edited document are the same fact.
_REIDENTIFIED = frozenset(
    {"fact_id", "char_start", "char_end", "passage_id", "claim_id", "n_documents"}
)


def _occurrences(
    table: Lazy, rows: npt.NDArray[np.int64], at: npt.NDArray[np.int64], content: list[str]
) -> pa.Table:
    """(at, content hash, occurrence): the n-th fact with that content in document order."""
    taken = take(table, rows, list(dict.fromkeys([*content, "char_start"])))
    ordered = pa.table(
        {"at": at, "hash": pa.array(row_hashes(taken, content)), "pos": taken["char_start"]}
    ).sort_by([("hash", "ascending"), ("pos", "ascending")])
    hashes = ordered["hash"].to_numpy()
    index = np.arange(len(hashes))
    first = np.r_[True, hashes[1:] != hashes[:-1]] if len(hashes) else np.zeros(0, dtype=bool)
    group_start = np.maximum.accumulate(np.where(first, index, 0)) if len(hashes) else index
    return pa.table({"at": ordered["at"], "hash": ordered["hash"], "occ": index - group_start})


def same_facts(
    name: str,
    old: Lazy,
    new: Lazy,
    matched: Matched,
    rank: npt.NDArray[np.int8],
    columns: Sequence[str],
) -> npt.NDArray[np.int64]:
    """For each row, the matched row that is the same fact under another id, else -1.

    Only facts of changed documents pair up: a removed and an added fact whose document,
    quote, sentence and values are equal (everything but ``_REIDENTIFIED``), the n-th such
    fact of the old document with the n-th of the new one in offset order. They stay a
    removed and an added row (the id a user may hold is gone); the pairing only says so.
    """
    partner = np.full(len(matched.change), -1, dtype=np.int64)
    if name not in FACT_TABLES:
        return partner
    content = [c for c in columns if c not in _REIDENTIFIED]
    edited = rank == _EDITED
    removed = np.flatnonzero(edited & (matched.change == _REMOVED))
    added = np.flatnonzero(edited & (matched.change == _ADDED))
    if not len(removed) or not len(added):
        return partner
    pairs = _occurrences(old, matched.old[removed], removed, content).join(
        _occurrences(new, matched.new[added], added, content),
        keys=["hash", "occ"],
        join_type="inner",
        left_suffix="_old",
        right_suffix="_new",
    )
    before, after = pairs["at_old"].to_numpy(), pairs["at_new"].to_numpy()
    partner[before], partner[after] = after, before
    return partner


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class Row:
    """One added, removed or changed row, with its cause."""

    table: str
    change: str
    cause: str
    key: Mapping[str, Any]  # primary key column -> value
    doc_id: str | None
    source_path: str | None  # the source that decided the cause
    quote: str | None  # facts and claims
    changes: Mapping[str, tuple[Any, Any]] | None  # changed rows: column -> (old, new)
    same_as: Mapping[str, Any] | None = None  # key of the same fact under its other id

    def to_json(self) -> dict[str, Any]:
        changes = None
        if self.changes is not None:
            changes = {
                c: [plain(v) for v in clip_pair(a, b, 120)] for c, (a, b) in self.changes.items()
            }
        return {
            "table": self.table,
            "change": self.change,
            "cause": self.cause,
            "key": {k: plain(v) for k, v in self.key.items()},
            "doc_id": self.doc_id,
            "source_path": self.source_path,
            "quote": self.quote,
            "changes": changes,
            "same_as": None if self.same_as is None else dict(self.same_as),
        }


@dataclass(frozen=True, slots=True)
class TableDiff:
    """One table's changes: counts per change and cause, and the first rows in order."""

    table: str
    rows_old: int | None  # None: the table is not in that release
    rows_new: int | None
    counts: Mapping[str, Mapping[str, int]]  # change -> cause -> rows (every pair present)
    rows: tuple[Row, ...]  # in listing order (see _order); maybe cut short
    columns_added: tuple[str, ...] = ()
    columns_removed: tuple[str, ...] = ()
    same_facts: int = 0  # removed/added pairs that are one fact under a new id

    def total(self, change: str | None = None) -> int:
        kinds = CHANGES if change is None else (change,)
        return sum(sum(self.counts[kind].values()) for kind in kinds)


@dataclass(frozen=True, slots=True)
class ReleaseDiff:
    context: Context
    tables: tuple[TableDiff, ...]


@dataclass(frozen=True, slots=True)
class _Judged:
    """One table's differing rows with everything decided about them, row by row."""

    name: str
    old: Lazy
    new: Lazy
    columns: list[str]  # the shared non-key columns compared
    matched: Matched
    cause: npt.NDArray[np.int8]
    path: Rows  # number of the source that decided the cause (_Sources.paths), -1: none
    flags: Mapping[str, npt.NDArray[np.bool_]]  # per column, over the changed rows
    partner: npt.NDArray[np.int64]  # same fact under another id, -1 when none


def _judge(name: str, old: Lazy, new: Lazy, sources: _Sources, ctx: Context) -> _Judged:
    key = KEYS[name]
    columns = [c for c in new.column_names if c in old.column_names and c not in key]
    matched = _match(old, new, key, columns)
    flags = _column_flags(old, new, matched, columns)
    corpus = CORPUS_COLUMNS.get(name, frozenset())
    outside = [flags[c] for c in columns if c not in corpus]
    corpus_only = np.zeros(len(matched.change), dtype=bool)
    corpus_only[matched.change == _CHANGED] = ~np.logical_or.reduce(outside) if outside else True
    sides = ((old, matched.old), (new, matched.new))
    pairs = [_path_pairs(name, table, rows, sources) for table, rows in sides]
    rank, path = _decide(pairs, sources, len(matched.change))
    cause = _causes(rank, matched.change, corpus_only, ctx)
    partner = same_facts(name, old, new, matched, rank, columns)
    return _Judged(name, old, new, columns, matched, cause, path, flags, partner)


def diff_table(
    name: str,
    before: pa.Table | Lazy | None,
    after: pa.Table | Lazy | None,
    sources: _Sources,
    ctx: Context,
    limit: int | None = None,
) -> TableDiff:
    """Every differing row of one table, counted by change and cause; the first ``limit``
    rows (all when None) in listing order with their values."""
    judged, summary = _judged_table(name, before, after, sources, ctx)
    order = _order(judged)
    shown = _rows(judged, order if limit is None else order[:limit], sources)
    return dataclasses.replace(summary, rows=shown)


def _judged_table(
    name: str,
    before: pa.Table | Lazy | None,
    after: pa.Table | Lazy | None,
    sources: _Sources,
    ctx: Context,
) -> tuple[_Judged, TableDiff]:
    """A table's rows judged, and its diff without rows (counts and columns)."""
    rows_old, rows_new = (None if t is None else t.num_rows for t in (before, after))
    old, new = _both(*(in_memory(t) if isinstance(t, pa.Table) else t for t in (before, after)))
    judged = _judge(name, old, new, sources, ctx)
    change, cause = judged.matched.change, judged.cause
    tally = np.bincount(change * len(CAUSES) + cause, minlength=len(CHANGES) * len(CAUSES))
    counts = {
        kind: {c: int(tally[i * len(CAUSES) + j]) for j, c in enumerate(CAUSES)}
        for i, kind in enumerate(CHANGES)
    }
    summary = TableDiff(
        table=name,
        rows_old=rows_old,
        rows_new=rows_new,
        counts=counts,
        rows=(),
        columns_added=tuple(c for c in new.column_names if c not in old.column_names),
        columns_removed=tuple(c for c in old.column_names if c not in new.column_names),
        same_facts=int((judged.partner >= 0).sum()) // 2,
    )
    return judged, summary


def _both(old: Lazy | None, new: Lazy | None) -> tuple[Lazy, Lazy]:
    """Both tables; one a release does not have is empty, so every row of the other differs."""
    if old is not None and new is not None:
        return old, new
    if old is not None:
        return old, in_memory(old.schema.empty_table())
    if new is not None:
        return in_memory(new.schema.empty_table()), new
    raise ValueError("neither release has this table")


_CHANGE_ORDER = np.array([1, 0, 2], dtype=np.int8)  # removed, then added, then changed


def _order(judged: _Judged) -> npt.NDArray[np.int64]:
    """Listing order: facts that only got a new id last; then by source path, offset,
    change (removed before added: old reads before new) and key."""
    matched = judged.matched
    position = _pick("char_start", judged.old, judged.new, matched)
    table = pa.table(
        {
            "__same": pa.array(judged.partner >= 0),
            "__path": pa.array(judged.path, mask=judged.path < 0),  # path order
            "__position": pc.cast(position, pa.int64()),
            "__change": pa.array(_CHANGE_ORDER[matched.change]),
            **{k: matched.keys[k] for k in matched.keys.column_names},
        }
    )
    sort_keys = [(c, "ascending") for c in table.column_names]
    indices = pc.sort_indices(table, sort_keys=sort_keys)  # nulls sort last
    return np.asarray(indices.to_numpy(), dtype=np.int64)


def _rows(judged: _Judged, shown: npt.NDArray[np.int64], sources: _Sources) -> tuple[Row, ...]:
    """The shown rows with their values (only these are read in full)."""
    if not len(shown):
        return ()
    old, new, matched, columns = judged.old, judged.new, judged.matched, judged.columns
    picked = Matched(
        matched.keys.take(pa.array(shown)),
        matched.old[shown],
        matched.new[shown],
        matched.change[shown],
    )
    keys = picked.keys.to_pylist()
    quotes = _pick("quote", old, new, picked).to_pylist()
    doc_ids = _pick("doc_id", old, new, picked).to_pylist()
    paths = [sources.path_of(int(judged.path[i])) for i in shown]
    if "doc_id" not in columns:
        doc_ids = _doc_ids_of(paths, sources)
    partners = judged.partner[shown]
    partner_keys = matched.keys.take(pa.array(np.maximum(partners, 0))).to_pylist()
    # Position of each changed row among the changed rows, where its flags are.
    flag_index = np.cumsum(matched.change == _CHANGED) - 1
    changed = np.array([i for i in shown if matched.change[i] == _CHANGED], dtype=np.int64)
    before = dict(zip(changed.tolist(), _values(old, matched.old[changed], columns), strict=True))
    after = dict(zip(changed.tolist(), _values(new, matched.new[changed], columns), strict=True))
    result = []
    for n, i in enumerate(shown):
        kind = int(matched.change[i])
        diffs = None
        if kind == _CHANGED:
            at = flag_index[i]
            diffs = {c: (before[i][c], after[i][c]) for c in columns if judged.flags[c][at]}
        result.append(
            Row(
                table=judged.name,
                change=CHANGES[kind],
                cause=CAUSES[int(judged.cause[i])],
                key=keys[n],
                doc_id=doc_ids[n],
                source_path=paths[n],
                quote=quotes[n],
                changes=diffs,
                same_as=partner_keys[n] if partners[n] >= 0 else None,
            )
        )
    return tuple(result)


def _values(
    table: Lazy, rows: npt.NDArray[np.int64], columns: Sequence[str]
) -> list[dict[str, Any]]:
    if not len(rows):
        return []
    values: list[dict[str, Any]] = take(table, rows, columns).to_pylist()
    return values


def _doc_ids_of(paths: Sequence[str | None], sources: _Sources) -> list[str | None]:
    """doc_id of each path that is a document (quarantined files have none)."""
    wanted = pa.array(sorted({p for p in paths if p is not None}), pa.string())
    found = sources.doc_paths.filter(pc.is_in(sources.doc_paths["path"], value_set=wanted))
    by_path = dict(zip(found["path"].to_pylist(), found["doc_id"].to_pylist(), strict=True))
    return [by_path.get(p) if p is not None else None for p in paths]


def diff_releases(old: Side, new: Side, limit: int | None = None) -> ReleaseDiff:
    """Every table's changes from ``old`` to ``new``; ``limit`` rows per table kept (all
    when None). Tables are read and compared one at a time."""
    statuses = source_statuses(input_hashes(old), input_hashes(new))
    ctx = context(old.manifest, new.manifest, statuses)
    tables = []
    sources = _sources(old, new, statuses)
    for name in TABLE_ORDER:
        before, after = _open(old, name), _open(new, name)
        if before is None and after is None:
            continue
        tables.append(diff_table(name, before, after, sources, ctx, limit))
        # a table's buffers go before the next one is read (with the system allocator,
        # the pipeline's default: see runtime.use_arrow_pool_default)
        return_freed_memory()
    return ReleaseDiff(ctx, tuple(tables))


# ---------------------------------------------------------------------------- rendering


def plain(value: Any) -> Any:
    """A JSON-safe, deterministic form of a cell value; long strings abbreviated."""
    if isinstance(value, float):
        return None if math.isnan(value) else value if math.isfinite(value) else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str) and len(value) > _LONG:
        digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]
        return f"{value[:80]}… ({len(value)} chars, sha256 {digest}…)"
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix; bisected with slice compares (C speed on long texts)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def clip_pair(old: Any, new: Any, width: int) -> tuple[Any, Any]:
    """Two long strings cut to ``width`` around where they first differ, so an edit in a
    long text (source_text, a passage) shows; other values as they are."""
    if not (isinstance(old, str) and isinstance(new, str)) or max(len(old), len(new)) <= width:
        return old, new
    start = max(0, _common_prefix(old, new) - width // 4)

    def clip(text: str) -> str:
        more = "…" if start + width < len(text) else ""
        return f"{'…' if start else ''}{text[start : start + width]}{more} ({len(text)} chars)"

    return clip(old), clip(new)


def to_json(diff: ReleaseDiff) -> dict[str, Any]:
    """One JSON object: both releases, input and code changes, counts, every kept row."""
    return {
        **_head_json(diff.context),
        "tables": {t.table: _table_json(t) for t in diff.tables},
        "rows": [row.to_json() for t in diff.tables for row in t.rows],
    }


def _head_json(ctx: Context) -> dict[str, Any]:
    """``to_json``'s keys but tables and rows."""
    return {
        "old": dict(ctx.old),
        "new": dict(ctx.new),
        "inputs": dict(ctx.inputs),
        "code_changed": ctx.code_changed,
        "config_changed": ctx.config_changed,
        "causes": list(CAUSES),
    }


def _table_json(t: TableDiff) -> dict[str, Any]:
    return {
        "rows_old": t.rows_old,
        "rows_new": t.rows_new,
        "columns_added": list(t.columns_added),
        "columns_removed": list(t.columns_removed),
        "counts": {kind: dict(t.counts[kind]) for kind in CHANGES},
        "total": {kind: t.total(kind) for kind in CHANGES},
        "same_facts": t.same_facts,
    }


def dumps(diff: ReleaseDiff) -> str:
    """``to_json`` as text: sorted keys, so equal diffs give equal bytes."""
    return _json_text(to_json(diff)) + "\n"


def _json_text(value: Any, level: int = 0) -> str:
    """``value`` as ``dumps`` writes it at nesting ``level`` (strings escape their line
    breaks, so every line break in the text is the layout's)."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return text.replace("\n", "\n" + "  " * level) if level else text


# Rows given their values at once when every row is listed (``write_json``).
_LISTED_AT_ONCE = 10_000


def write_json(old: Side, new: Side, out: TextIO) -> None:
    """``dumps(diff_releases(old, new))``, written while it is made: a table at a time and
    its rows a slice at a time, so listing every row holds one table's matching, not every
    row's values (at 100,000 documents plus 1 % added, 1.6 million entity rows changed:
    10.3 GB and 172 s that way)."""
    statuses = source_statuses(input_hashes(old), input_hashes(new))
    ctx = context(old.manifest, new.manifest, statuses)
    sources = _sources(old, new, statuses)
    head = _head_json(ctx)
    # Keys in sorted order, as dumps writes them: every head key (each sorts before
    # "rows"), then rows, then tables (whose counts are known once the rows are written).
    out.write("{\n")
    for key in sorted(head):
        out.write(f"  {json.dumps(key)}: {_json_text(head[key], 1)},\n")
    out.write('  "rows": [')
    tables: dict[str, Any] = {}
    written = 0
    for name in TABLE_ORDER:
        before, after = _open(old, name), _open(new, name)
        if before is None and after is None:
            continue
        judged, summary = _judged_table(name, before, after, sources, ctx)
        order = _order(judged)
        for start in range(0, len(order), _LISTED_AT_ONCE):
            for row in _rows(judged, order[start : start + _LISTED_AT_ONCE], sources):
                out.write(",\n" if written else "\n")
                out.write("    " + _json_text(row.to_json(), 2))
                written += 1
        tables[name] = _table_json(summary)
        del judged, order
        return_freed_memory()
    out.write("\n  ]" if written else "]")
    out.write(f',\n  "tables": {_json_text(tables, 1)}\n}}\n')


CAUSE_LEGEND = (
    "Causes: `document_changed`, `document_added`, `document_removed`: the row's source file "
    "has new content, is new, is gone; `other_documents`: its own source is unchanged, and "
    "corpus-wide results (duplicates, claims, entity document counts, page chrome) moved with "
    "other files; `code_or_config`: its source is unchanged and the pipeline's code or "
    "configuration changed."
)


def describe_context(ctx: Context) -> str:
    """One line: how many inputs moved, whether code and config changed."""
    inputs = ", ".join(f"{ctx.inputs.get(s, 0)} {s}" for s in STATUSES)
    old_code, new_code = ctx.old.get("code_version"), ctx.new.get("code_version")
    code = (
        f"changed (`{old_code}` → `{new_code}`)"
        if ctx.code_changed
        else f"unchanged (`{new_code}`)"
    )
    config = {True: "changed", False: "unchanged", None: "not known (inputs or code changed too)"}
    return f"Inputs: {inputs}. Code: {code}. Config: {config[ctx.config_changed]}."


def _cell(value: Any, width: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(plain(value), ensure_ascii=False)
    text = text.replace("\r", " ").replace("\n", " ")
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text.replace("|", "\\|")


def _key_text(key: Mapping[str, Any]) -> str:
    return "/".join(str(v) for v in key.values())


def _row_line(row: Row) -> str:
    key = _key_text(row.key)
    pairs = [(c, *clip_pair(a, b, 64)) for c, (a, b) in (row.changes or {}).items()]
    changes = "; ".join(f"{c}: {_cell(a, 80)} → {_cell(b, 80)}" for c, a, b in pairs)
    if row.same_as is not None:
        changes = f"same fact as `{_key_text(row.same_as)}`"
    quote = f"`{_cell(row.quote)}`" if row.quote is not None else ""
    return (
        f"| {row.change} | {row.cause} | `{_cell(key)}` | {_cell(row.source_path or '')} "
        f"| {quote} | {changes} |"
    )


def _count(rows: int | None) -> str:
    return "–" if rows is None else str(rows)  # a dash: the release has no such table


def render_counts(diff: ReleaseDiff) -> list[str]:
    """Markdown: rows per table, then rows per table × change × cause."""
    lines = ["| table | rows | added | removed | changed |", "|---|---:|---:|---:|---:|"]
    for t in diff.tables:
        rows = f"{_count(t.rows_old)} → {_count(t.rows_new)}"
        lines.append(
            f"| {t.table} | {rows} | {t.total(ADDED)} | {t.total(REMOVED)} | {t.total(CHANGED)} |"
        )
    if not any(t.total() for t in diff.tables):
        return [*lines, "", "Nothing changed: every table has the same rows."]
    lines += ["", "| table | change | rows | " + " | ".join(CAUSES) + " |"]
    lines.append("|---|---|---:|" + "---:|" * len(CAUSES))
    for t in diff.tables:
        for kind in CHANGES:
            if t.total(kind):
                counts = " | ".join(str(t.counts[kind][c]) for c in CAUSES)
                lines.append(f"| {t.table} | {kind} | {t.total(kind)} | {counts} |")
    return lines


def _same_facts_note(pairs: int) -> str:
    return (
        f"{pairs} removed and {pairs} added rows are the same facts under new ids: their "
        "document's content changed, and with it every fact_id, but not their quote, "
        "sentence or values. They are listed last."
    )


def render_markdown(diff: ReleaseDiff, max_rows: int | None, full_list: str) -> str:
    """Counts first, then up to ``max_rows`` rows per table; ``full_list`` is the command
    that lists every row (named wherever rows were left out)."""
    lines = [describe_context(diff.context), "", *render_counts(diff), "", CAUSE_LEGEND]
    for t in diff.tables:
        total = t.total()
        if not total:
            continue
        shown = t.rows if max_rows is None else t.rows[:max_rows]
        lines += ["", f"### {t.table}", ""]
        if t.same_facts:
            lines += [_same_facts_note(t.same_facts), ""]
        if shown:
            key = "/".join(KEYS[t.table])
            lines += [
                f"| change | cause | {key} | source_path | quote | changed columns (old → new) |",
                "|---|---|---|---|---|---|",
                *(_row_line(row) for row in shown),
            ]
        if total > len(shown):
            lines += [
                "",
                f"{total - len(shown)} of {total} rows of {t.table} not shown: "
                f"`{full_list}` lists them all.",
            ]
    return "\n".join(lines) + "\n"
