"""Assembly: the batches' rows made into the release's tables, one batch at a time.

Three steps need the whole corpus: duplicates, claims, and how many documents mention each
entity. They read only the columns they use (no source texts, passage texts or entity
sentences; near-duplicate texts are read from the batches for the candidate documents only)
and return their decisions aligned with the rows they read, in batch order (``Marks``).
Each batch's tables are then completed with their share of the decisions, ordered and
appended to the release's files, so no whole table is ever in memory.

Order: the batches hold consecutive runs of the sorted input paths, so a table whose rows
are ordered by source path within each batch is ordered as a whole. ``write_tables``
checks that rather than assume it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.build import BATCH_TABLES
from pipeline.claims import (
    CLAIM_COLUMNS,
    ClaimGroups,
    ClaimMarks,
    claim_groups,
    claim_marks,
    entity_document_counts,
    fact_terms,
)
from pipeline.dedup.features import FEATURE_COLUMNS, SHINGLES, dedup_features
from pipeline.dedup.minhash import U64
from pipeline.dedup.near import (
    DOCUMENT_COLUMNS,
    PASSAGE_COLUMNS,
    DuplicateMarks,
    duplicate_marks,
    passage_keys,
)
from pipeline.overlay import read_file
from pipeline.publish.release import TableWriter
from pipeline.schemas import CLAIM_KINDS, FACT_TABLES, TABLES, batch_schema, with_columns

FEATURES_FILE = "dedup_features.parquet"  # per document: see dedup.features
TERMS_FILE = "fact_terms.parquet"  # per fact: context terms for claims (see claims.fact_terms)

SORT_KEYS: dict[str, list[str]] = {
    "documents": ["source_path"],
    "quarantine": ["source_path"],
    "duplicates": ["level", "id"],
    "claims": ["kind", "value", "claim_id"],
    **{name: ["source_path", "char_start", "char_end", "fact_id"] for name in FACT_TABLES},
}
# passages follow their documents' order, then their own ordinal (see order_rows)


@dataclass(frozen=True)
class Marks:
    """The corpus-wide decisions, aligned with the batches' rows in batch order."""

    duplicates: DuplicateMarks
    claims: ClaimMarks


def read_batch(batch: Path, name: str, columns: Sequence[str] | None = None) -> pa.Table:
    """One batch table (or some of its columns) with its declared batch schema."""
    return read_file(batch, f"{name}.parquet", columns, batch_schema(name))


def corpus_marks(
    batch_dirs: Sequence[Path],
    duplicates: DuplicateMarks | None = None,
    groups: ClaimGroups | None = None,
    *,
    entities: bool = True,
) -> Marks:
    """Duplicates (unless given: ``find_duplicates``), claims (from ``group_claims`` when
    given) and, unless ``entities`` is False, entity document counts over every batch."""
    if duplicates is None:
        duplicates = find_duplicates(batch_dirs)
    copies = duplicates.duplicate_of

    def load(name: str, columns: Sequence[str]) -> pa.Table:
        if name != "documents":
            return _load(batch_dirs, name, columns)
        read = [c for c in columns if c != "duplicate_of"]  # with dedup's decisions
        documents = _load(batch_dirs, name, read)
        duplicate_of = pa.array(copies, pa.string())
        return documents.append_column("duplicate_of", duplicate_of).select(list(columns))

    claims = claim_marks(load, partial(_all_terms, batch_dirs), groups, entities=entities)
    return Marks(duplicates, claims)


def group_claims(batch_dirs: Sequence[Path]) -> ClaimGroups:
    """The claims of the batches' facts (``claims.claim_groups``): no need of duplicates,
    so it can run beside ``find_duplicates``."""
    return claim_groups(partial(_load, batch_dirs), partial(_all_terms, batch_dirs))


def _load(batch_dirs: Sequence[Path], name: str, columns: Sequence[str]) -> pa.Table:
    """Some columns of every batch's table ``name``, one after another."""
    return _concat(list(_columns(batch_dirs, name, columns)), _light_empty(name, columns))


def _all_terms(batch_dirs: Sequence[Path]) -> pa.Table | None:
    return pa.concat_tables([_terms(d) for d in batch_dirs]) if batch_dirs else None


def find_duplicates(batch_dirs: Sequence[Path]) -> DuplicateMarks:
    """Duplicate documents and passages over every batch (``dedup.near.duplicate_marks``),
    from the columns dedup reads and the candidates' texts."""
    parts = list(_columns(batch_dirs, "documents", DOCUMENT_COLUMNS))
    documents = _concat(parts, _light_empty("documents", DOCUMENT_COLUMNS))
    passages = _concat(
        [passage_keys(_passage_read(d)) for d in batch_dirs],
        passage_keys(_light_empty("passages", [*PASSAGE_COLUMNS[:-1], "text"])),
    )
    features = _concat([_features(d) for d in batch_dirs], pa.table({}))
    ids = documents.column("doc_id").to_pylist()
    counts = [part.num_rows for part in parts]
    texts = BatchTexts(batch_dirs, counts, ids)
    kept = BatchShingles(batch_dirs, counts, ids)
    return duplicate_marks(documents, passages, texts, features, kept=kept.read)


def _columns(batch_dirs: Iterable[Path], name: str, columns: Sequence[str]) -> Iterator[pa.Table]:
    for batch in batch_dirs:
        yield read_batch(batch, name, columns)


def _concat(parts: Sequence[pa.Table], empty: pa.Table) -> pa.Table:
    return pa.concat_tables(parts) if parts else empty


def _light_empty(name: str, columns: Sequence[str]) -> pa.Table:
    return batch_schema(name).empty_table().select(list(columns))


def _passage_read(batch: Path) -> pa.Table:
    return read_batch(batch, "passages", ["passage_id", "doc_id", "ordinal", "text_sha256", "text"])


def _features(batch: Path) -> pa.Table:
    """A batch's dedup features but the shingle sets (``BatchShingles`` reads those of the
    candidates only): kept by the batch, or computed again (older layouts)."""
    if (batch / FEATURES_FILE).is_file():
        return read_file(batch, FEATURES_FILE, FEATURE_COLUMNS[:-1])
    features = dedup_features(read_batch(batch, "documents"), read_batch(batch, "passages"))
    return features.select(list(FEATURE_COLUMNS[:-1]))


def _terms(batch: Path) -> pa.Table:
    """A batch's fact terms: kept by the batch, or computed again (older layouts)."""
    if (batch / TERMS_FILE).is_file():
        return read_file(batch, TERMS_FILE)
    return fact_terms({kind: read_batch(batch, kind) for kind in CLAIM_KINDS})


class _ByBatch:
    """Documents by index (in batch order) found in their batch folders."""

    def __init__(
        self, batch_dirs: Sequence[Path], doc_counts: Sequence[int], doc_ids: Sequence[str]
    ) -> None:
        self._dirs = list(batch_dirs)
        self._batch_of = np.repeat(np.arange(len(self._dirs)), np.asarray(doc_counts, np.int64))
        self._ids = doc_ids

    def _by_batch(self, indexes: Sequence[int]) -> Iterator[tuple[Path, list[int], set[str]]]:
        """Each batch folder holding some of ``indexes``, with those and their doc_ids."""
        wanted: dict[int, list[int]] = defaultdict(list)
        for index in indexes:
            wanted[int(self._batch_of[index])].append(index)
        for batch, members in sorted(wanted.items()):
            yield self._dirs[batch], members, {self._ids[i] for i in members}


class BatchTexts(_ByBatch):
    """Each document's passage texts joined in order (as ``dedup.near.DocumentTexts``),
    read from the batch files: ``read`` reads the wanted texts of each batch in one go.
    Nothing is kept: dedup keeps the shingle sets it makes of them instead."""

    def __getitem__(self, index: int) -> str:
        return next(iter(self.read([index])))[1]

    def read(self, indexes: Sequence[int]) -> Iterator[tuple[int, str]]:
        for batch, members, doc_ids in self._by_batch(indexes):
            texts = _joined_texts(batch, doc_ids)
            yield from ((i, texts.get(self._ids[i], "")) for i in members)


class BatchShingles(_ByBatch):
    """The shingle sets the batches kept (``dedup.features``), read a batch at a time:
    ``read`` gives those the batches have (none from an older layout without them: dedup
    shingles those documents' texts)."""

    def read(self, indexes: Sequence[int]) -> Iterator[tuple[int, U64]]:
        for batch, members, doc_ids in self._by_batch(indexes):
            sets = _kept_sets(batch, doc_ids)
            yield from ((i, sets[self._ids[i]]) for i in members if self._ids[i] in sets)


def _kept_sets(batch: Path, doc_ids: set[str]) -> dict[str, U64]:
    """doc_id -> its kept shingle set, for those of ``doc_ids`` the batch has."""
    path = batch / FEATURES_FILE
    if not path.is_file() or SHINGLES not in pq.read_schema(path).names:
        return {}
    table = read_file(batch, FEATURES_FILE, ["doc_id", SHINGLES])
    table = table.filter(pc.is_in(table.column("doc_id"), pa.array(sorted(doc_ids), pa.string())))
    sets = table.column(SHINGLES).combine_chunks()
    flat = sets.flatten().to_numpy()  # one copy: every set of the batch a view of it
    ends = np.cumsum(pc.list_value_length(sets).to_numpy(zero_copy_only=False))
    starts = ends - pc.list_value_length(sets).to_numpy(zero_copy_only=False)
    ids = table.column("doc_id").to_pylist()
    return {d: flat[a:b] for d, a, b in zip(ids, starts.tolist(), ends.tolist(), strict=True)}


def _joined_texts(batch: Path, doc_ids: set[str]) -> dict[str, str]:
    """doc_id -> its passages' texts joined by spaces in ordinal order, for ``doc_ids``."""
    table = read_batch(batch, "passages", ["doc_id", "ordinal", "text"])
    table = table.filter(pc.is_in(table.column("doc_id"), pa.array(sorted(doc_ids), pa.string())))
    table = table.sort_by([("doc_id", "ascending"), ("ordinal", "ascending")])
    parts: dict[str, list[str]] = defaultdict(list)
    for doc_id, text in zip(
        table.column("doc_id").to_pylist(), table.column("text").to_pylist(), strict=True
    ):
        parts[doc_id].append(text)
    return {doc_id: " ".join(texts) for doc_id, texts in parts.items()}


# What each pass of ``write_tables`` writes: the documents' tables need only dedup's
# decisions, the facts' tables the claims too (so they can be written as each is ready).
DOCUMENT_TABLES = ("documents", "passages", "quarantine")
ENTITIES = "entities"  # completed by its document counts alone: written beside dedup's tables


def complete_batch(
    tables: dict[str, pa.Table], marks: Marks, offsets: dict[str, int]
) -> dict[str, pa.Table]:
    """A batch's tables with the corpus-wide columns filled from ``marks``; ``offsets`` say
    where the batch's rows start in each table's marks."""
    return complete_facts(
        complete_documents(tables, marks.duplicates, offsets), marks.claims, offsets
    )


def complete_documents(
    tables: dict[str, pa.Table], dups: DuplicateMarks, offsets: dict[str, int]
) -> dict[str, pa.Table]:
    """``complete_batch`` for the documents and passages among ``tables`` (the others
    unchanged): their duplicate columns."""
    share = partial(_share, tables, offsets)
    out = dict(tables)
    if "documents" in tables:
        out["documents"] = with_columns(
            "documents",
            tables["documents"],
            {
                "duplicate_of": share("documents", dups.duplicate_of),
                "duplicate_kind": share("documents", dups.duplicate_kind),
            },
        )
    if "passages" in tables:
        out["passages"] = with_columns(
            "passages",
            tables["passages"],
            {"duplicate_of": share("passages", dups.passage_duplicate_of)},
        )
    return out


def complete_facts(
    tables: dict[str, pa.Table], claims: ClaimMarks, offsets: dict[str, int]
) -> dict[str, pa.Table]:
    """``complete_batch`` for the fact tables among ``tables`` (the others unchanged): their
    claim ids, and the entities' document counts."""
    share = partial(_share, tables, offsets)
    out = dict(tables)
    for kind in CLAIM_KINDS:
        if kind in tables:
            claim_ids = share(kind, claims.claim_ids[kind])
            out[kind] = with_columns(kind, tables[kind], {"claim_id": claim_ids})
    return complete_entities(out, claims.n_documents, offsets) if ENTITIES in tables else out


def complete_entities(
    tables: dict[str, pa.Table], n_documents: Sequence[int], offsets: dict[str, int]
) -> dict[str, pa.Table]:
    """``tables`` with the entities' document counts (their share of ``n_documents``,
    ``claims.entity_document_counts`` over every batch)."""
    counts = _share(tables, offsets, ENTITIES, n_documents)
    return {**tables, ENTITIES: with_columns(ENTITIES, tables[ENTITIES], {"n_documents": counts})}


def _share(
    tables: dict[str, pa.Table], offsets: dict[str, int], name: str, values: Sequence[Any]
) -> Sequence[Any]:
    """The batch's share of a table's marks."""
    start = offsets[name]
    return values[start : start + tables[name].num_rows]


def order_rows(name: str, table: pa.Table, documents: pa.Table | None = None) -> pa.Table:
    """A table's rows in release order. Passages follow ``documents`` (already ordered),
    then their ordinal; a passage of an unknown document goes last (nulls sort last)."""
    if name != "passages":
        return table.sort_by([(key, "ascending") for key in SORT_KEYS[name]])
    if documents is None:
        raise ValueError("ordering passages needs their documents")
    rank = pc.index_in(table.column("doc_id"), value_set=documents.column("doc_id"))
    keyed = table.append_column("__document_rank", rank)
    order = pc.sort_indices(
        keyed,
        sort_keys=[("__document_rank", "ascending"), ("ordinal", "ascending")],
    )
    return table.take(order)


def assemble(batch_dirs: Sequence[Path]) -> dict[str, pa.Table]:
    """Every table of the release, whole and ordered (``write_tables`` without files)."""
    marks = corpus_marks(batch_dirs)
    parts: dict[str, list[pa.Table]] = {name: [] for name in BATCH_TABLES}
    for batch in _completed(batch_dirs, marks):
        for name, table in batch.items():
            parts[name].append(table)
    tables = {
        name: pa.concat_tables([_declared_empty(name), *parts[name]]) for name in BATCH_TABLES
    }
    documents = order_rows("documents", tables["documents"])
    out = {name: order_rows(name, table, documents) for name, table in tables.items()}
    out["duplicates"] = order_rows("duplicates", marks.duplicates.duplicates)
    out["claims"] = order_rows("claims", marks.claims.claims)
    return {name: out[name] for name in TABLES}


def write_tables(
    batch_dirs: Sequence[Path],
    out_dir: Path,
    duplicates: DuplicateMarks | None = None,
    groups: ClaimGroups | None = None,
) -> dict[str, dict[str, Any]]:
    """Write every table of the release into ``out_dir``, a batch at a time; returns each
    file's manifest description. ``duplicates``, ``groups``: ``find_duplicates`` and
    ``group_claims`` when already run."""
    if duplicates is None:
        duplicates = find_duplicates(batch_dirs)
    described = write_document_tables(batch_dirs, out_dir, duplicates)
    described.update(write_fact_tables(batch_dirs, out_dir, duplicates, groups))
    return {name: described[name] for name in TABLES}


def entity_counts(batch_dirs: Sequence[Path]) -> list[int]:
    """``claims.entity_document_counts`` over every batch's entities, in batch order.
    Best counted while little else is held: its Arrow grouping peaks at 370 MB at
    100,000 documents."""
    return entity_document_counts(_load(batch_dirs, ENTITIES, CLAIM_COLUMNS[ENTITIES]))


def write_document_tables(
    batch_dirs: Sequence[Path],
    out_dir: Path,
    duplicates: DuplicateMarks,
    n_documents: Sequence[int] | None = None,
) -> dict[str, dict[str, Any]]:
    """``write_tables`` for the tables that need no claims: those dedup completes
    (documents, passages, quarantine and duplicates) and the entities (their document
    counts: ``entity_counts``, counted here unless given). Beside claims grouping
    (``stages.stage_assembled``), which takes longer than dedup: at 100,000 documents the
    entities took 7 s off the step after both."""
    if n_documents is None:
        n_documents = entity_counts(batch_dirs)
    described = {
        "duplicates": _write_whole(
            out_dir, "duplicates", order_rows("duplicates", duplicates.duplicates)
        )
    }

    def complete(tables: dict[str, pa.Table], offsets: dict[str, int]) -> dict[str, pa.Table]:
        completed = complete_documents(tables, duplicates, offsets)
        return complete_entities(completed, n_documents, offsets)

    names = (*DOCUMENT_TABLES, ENTITIES)
    described.update(_write_batches(batch_dirs, out_dir, names, complete))
    return described


def write_fact_tables(
    batch_dirs: Sequence[Path],
    out_dir: Path,
    duplicates: DuplicateMarks,
    groups: ClaimGroups | None = None,
) -> dict[str, dict[str, Any]]:
    """``write_tables`` for the tables the claims complete: the claim kinds' fact tables
    and claims (``groups``: ``group_claims`` when already run)."""
    described, claims = write_kind_tables(batch_dirs, out_dir, duplicates, groups)
    return {**write_claims(out_dir, [claims]), **described}


def write_kind_tables(
    batch_dirs: Sequence[Path],
    out_dir: Path,
    duplicates: DuplicateMarks,
    groups: ClaimGroups | None = None,
) -> tuple[dict[str, dict[str, Any]], pa.Table]:
    """The fact tables of the claim kinds ``groups`` holds (all without ``groups``), and
    their rows of the claims table, for ``write_claims``: two processes can each write
    some kinds (``ClaimGroups.halves``)."""
    claims = corpus_marks(batch_dirs, duplicates, groups, entities=False).claims
    kinds = [kind for kind in CLAIM_KINDS if kind in claims.claim_ids]

    def complete(tables: dict[str, pa.Table], offsets: dict[str, int]) -> dict[str, pa.Table]:
        return complete_facts(tables, claims, offsets)

    return _write_batches(batch_dirs, out_dir, kinds, complete), claims.claims


def write_claims(out_dir: Path, parts: Sequence[pa.Table]) -> dict[str, dict[str, Any]]:
    """The claims table of ``write_kind_tables``' parts, in release order."""
    claims = pa.concat_tables(parts) if parts else _declared_empty("claims")
    return {"claims": _write_whole(out_dir, "claims", order_rows("claims", claims))}


Complete = Callable[[dict[str, pa.Table], dict[str, int]], dict[str, pa.Table]]


def _write_batches(
    batch_dirs: Sequence[Path], out_dir: Path, names: Sequence[str], complete: Complete
) -> dict[str, dict[str, Any]]:
    """Append each batch's tables ``names``, completed and ordered, to their files."""
    writers = {name: TableWriter(out_dir / f"{name}.parquet", _schema(name)) for name in names}
    last: dict[str, str] = {}
    offsets = dict.fromkeys(names, 0)
    for batch in batch_dirs:
        tables = {name: read_batch(batch, name) for name in names}
        completed = complete(tables, offsets)
        documents = (
            order_rows("documents", completed["documents"]) if "documents" in names else None
        )
        for name in names:
            ordered = (
                documents if name == "documents" else order_rows(name, completed[name], documents)
            )
            _check_follows(last, name, ordered, batch)
            writers[name].write(ordered)
            offsets[name] += tables[name].num_rows
    return {name: writer.close() for name, writer in writers.items()}


def _completed(batch_dirs: Sequence[Path], marks: Marks) -> Iterator[dict[str, pa.Table]]:
    """Every batch's tables, completed (``complete_batch``), in batch order."""
    offsets = dict.fromkeys(BATCH_TABLES, 0)
    for batch in batch_dirs:
        tables = {name: read_batch(batch, name) for name in BATCH_TABLES}
        yield complete_batch(tables, marks, offsets)
        for name, table in tables.items():
            offsets[name] += table.num_rows


def _declared_empty(name: str) -> pa.Table:
    return TABLES[name].schema.empty_table()


def _schema(name: str) -> pa.Schema:
    return TABLES[name].schema


def _write_whole(out_dir: Path, name: str, table: pa.Table) -> dict[str, Any]:
    writer = TableWriter(out_dir / f"{name}.parquet", _schema(name))
    writer.write(table)
    return writer.close()


def _check_follows(last: dict[str, str], name: str, table: pa.Table, batch: Path) -> None:
    """Fail unless ``table``'s rows come after the previous batches' (by source path)."""
    if name == "passages" or table.num_rows == 0:
        return
    paths = table.column("source_path")
    first, final = paths[0].as_py(), paths[-1].as_py()
    if name in last and first < last[name]:
        raise ValueError(
            f"{batch}: {name} rows start at {first!r}, before the previous batch's last "
            f"({last[name]!r}): batches must hold consecutive runs of the sorted input paths"
        )
    last[name] = final
