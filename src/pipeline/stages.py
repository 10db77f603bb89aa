"""The release's stages over batches of files: what each Prefect task calls.

Tasks receive paths and hashes, read their inputs themselves and write Parquet
into content-addressed work folders, so a batch whose inputs, code and corpus
context are unchanged is never rebuilt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, overload

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import pipeline
from pipeline import assembly, overlay, workcache, workers
from pipeline.batching import content_defined_batches, default_batch_size
from pipeline.build import BATCH_TABLES, build_tables
from pipeline.claims import ClaimGroups, fact_terms
from pipeline.clean.boilerplate import short_line_key
from pipeline.clean.passages import base_text
from pipeline.dedup.features import FEATURE_WRITE_OPTIONS, dedup_features
from pipeline.dedup.near import DuplicateMarks
from pipeline.document import Document
from pipeline.faults import crash_point
from pipeline.ingest.readers import InputFile, input_files, parse_document, read_inputs
from pipeline.publish.docs import describe_release, write_release_docs, write_report
from pipeline.publish.fingerprint import InputRecord
from pipeline.publish.kept_hashes import RowHashStore
from pipeline.publish.recheck import check_inputs_unchanged
from pipeline.publish.release import (
    MANIFEST,
    RELEASES,
    STAGING,
    FolderTables,
    latest_version,
    publish,
    write_json,
    write_table,
)
from pipeline.publish.report_html import ReportDraft
from pipeline.resources import load_yaml
from pipeline.runtime import gc_paused, return_freed_memory
from pipeline.schemas import CLAIM_KINDS, CONTRACT_VERSION, TABLES, batch_schema
from pipeline.validate import ValidationReport, validate_release
from pipeline.validate.accuracy import GoldGate
from pipeline.validate.known import KnownRows

logger = logging.getLogger(__name__)

_SUCCESS = overlay.SUCCESS
HASH_CACHE = "input_hashes.parquet"  # under the work folder: see publish.hashcache
_SIGNATURES = "chrome_signatures.parquet"  # per document: see chrome_signature
_FEATURES = assembly.FEATURES_FILE
_TERMS = assembly.TERMS_FILE
VALIDATED = "validated"  # under the work folder: rows known to pass (validate.known)
ROW_HASHES = "row_hashes"  # under the work folder: the last release's (publish.kept_hashes)


class Inputs(Sequence[InputRecord]):
    """The input records of a run, held opaquely.

    Prefect walks every list, tuple and dataclass in a task's parameters looking for
    futures; a plain sequence class is not walked, so passing the plan to hundreds of
    tasks costs nothing per input record (at 100,000 inputs the walks took longer than
    the work). Also keeps a path -> sha256 lookup, built once.
    """

    def __init__(self, records: Iterable[InputRecord]) -> None:
        self._records = tuple(records)
        self._sha: dict[str, str | None] | None = None

    @overload
    def __getitem__(self, index: int) -> InputRecord: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[InputRecord]: ...
    def __getitem__(self, index: int | slice) -> InputRecord | Sequence[InputRecord]:
        return self._records[index]

    def __len__(self) -> int:
        return len(self._records)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Inputs) and self._records == other._records

    def __hash__(self) -> int:
        return hash(self._records)

    def __repr__(self) -> str:
        return f"Inputs({len(self._records)} records)"

    def __getstate__(self) -> tuple[InputRecord, ...]:
        return self._records  # the lookup is rebuilt on demand, not shipped

    def __setstate__(self, state: tuple[InputRecord, ...]) -> None:
        self._records, self._sha = state, None

    def sha256_of(self) -> dict[str, str | None]:
        """path -> sha256 of every input."""
        if self._sha is None:
            self._sha = {r.path: r.sha256 for r in self._records}
        return self._sha


@dataclass(frozen=True, slots=True)
class RunPlan:
    """Everything a run needs to know before it starts."""

    input_dir: Path
    output_dir: Path
    expectations_dir: Path
    inputs: Inputs
    input_fingerprint: str
    code_version: str
    run_fingerprint: str
    max_document_bytes: int
    batch_size: int | None  # None: by corpus size (batching.default_batch_size)
    gold: GoldGate | None = None  # the optional accuracy gate (PIPELINE_GOLD)
    document_timeout: float | None = None  # seconds per document (PIPELINE_DOCUMENT_TIMEOUT)

    @property
    def work_dir(self) -> Path:
        return self.output_dir / ".work"

    def batches(self) -> list[list[str]]:
        """The inputs' paths in batches of ``batch_size`` on average, cut where a path
        hashes to a cut point (``batching``): a file added or removed leaves the other
        batches, and so the work kept for them, as they were."""
        size = self.batch_size or default_batch_size(len(self.inputs))
        return content_defined_batches([r.path for r in self.inputs], size)

    def batch_key(self, paths: Sequence[str], *context: str) -> str:
        by_path = self.inputs.sha256_of()
        lines = [f"{p}\t{by_path[p]}" for p in paths]
        payload = "\n".join([self.code_version, str(self.max_document_bytes), *context, *lines])
        return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _items(input_dir: Path, paths: Sequence[str]) -> list[InputFile]:
    return input_files(input_dir, paths)


def count_short_lines(plan: RunPlan, paths: Sequence[str]) -> dict[str, int]:
    """For a batch: in how many documents each short line occurs (for chrome detection).

    Each document's short lines are kept in the work folder by file name and content
    hash, so a rerun reads and decodes only the files that changed.
    """
    return workers.call(
        short_line_counts,
        plan.input_dir,
        list(paths),
        plan.max_document_bytes,
        _line_keys_file(plan, paths),
        _hashes(plan, paths),
    )


# A page of the genre, for ``warm_up``: chrome, a dateline, money, a quantity, names.
_WARM_UP_PAGE = (
    "Share this page\n\nWASHINGTON, March 3, 2024\n\n"
    "The United States and Peru signed an agreement. The U.S. Agency for International "
    "Development provided $35 million and 40 vehicles to the Ministry of the Interior.\n"
)


def warm_up() -> None:
    """What a batch worker does on its first batch besides the batch: import the stage
    code (about 0.9 s) and make the lazy compiles and resource loads of cleaning and
    extraction (about 0.15 s), on a page of the genre. For ``workers.started_ahead``."""
    page = parse_document("warm-up.txt", _WARM_UP_PAGE.encode("utf-8"))
    tables = build_tables([page])
    fact_terms({kind: tables[kind] for kind in CLAIM_KINDS})
    dedup_features(tables["documents"], tables["passages"])


def _anchor_key(plan: RunPlan, paths: Sequence[str]) -> str:
    """A batch's identity by its first file name and the code alone (not content, not its
    other files): what a rerun finds the previous run's work for the batch by.

    Batches end where a path hashes to a cut point (``batching``), so a batch keeps its
    first path when files are changed, added to or removed from it: its new version then
    takes over the rows of every file the old one holds unchanged and builds only the
    others. Keyed by every path, a batch with one file added was rebuilt whole.
    """
    payload = "\n".join([plan.code_version, str(plan.max_document_bytes), "first", paths[0]])
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _line_keys_file(plan: RunPlan, paths: Sequence[str]) -> Path:
    """Where the short line keys of a batch's files are kept (see ``short_line_counts``)."""
    return plan.work_dir / workcache.LINE_KEYS / f"{_anchor_key(plan, paths)}.parquet"


def _hashes(plan: RunPlan, paths: Sequence[str]) -> dict[str, str | None]:
    by_path = plan.inputs.sha256_of()
    return {p: by_path[p] for p in paths}


@gc_paused()  # as write_batch
def short_line_counts(
    input_dir: Path,
    paths: Sequence[str],
    max_bytes: int,
    keys_file: Path | None = None,
    hashes: dict[str, str | None] | None = None,
) -> dict[str, int]:
    """``count_short_lines``' body, with picklable arguments for a worker process."""
    max_words = int(load_yaml("boilerplate.yaml")["repeated_line_max_words"])
    known = _known_line_keys(keys_file, hashes or {})
    todo = [p for p in paths if p not in known]
    for doc in read_inputs(_items(input_dir, todo), max_bytes):
        short = (
            [k for k in short_line_keys(doc, max_words) if k] if isinstance(doc, Document) else []
        )
        known[doc.source_path] = (doc.content_sha256, sorted(short))
    counts: Counter[str] = Counter()
    for _sha, keys in known.values():
        counts.update(keys)
    if keys_file is not None and todo:
        _write_line_keys(keys_file, known)
    return dict(counts)


def _known_line_keys(
    keys_file: Path | None, hashes: dict[str, str | None]
) -> dict[str, tuple[str | None, list[str]]]:
    """Short line keys kept for files whose content hash is unchanged."""
    if keys_file is None or not keys_file.is_file():
        return {}
    table = pq.read_table(keys_file).to_pydict()
    rows = zip(table["source_path"], table["content_sha256"], table["keys"], strict=True)
    return {p: (sha, keys) for p, sha, keys in rows if sha is not None and hashes.get(p) == sha}


def _write_line_keys(keys_file: Path, known: dict[str, tuple[str | None, list[str]]]) -> None:
    paths = sorted(known)
    table = pa.table(
        {
            "source_path": pa.array(paths, pa.string()),
            "content_sha256": pa.array([known[p][0] for p in paths], pa.string()),
            "keys": pa.array([known[p][1] for p in paths], pa.list_(pa.string())),
        }
    )
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = keys_file.with_suffix(".tmp")
    pq.write_table(table, tmp)
    tmp.replace(keys_file)  # whole or absent: a crash never leaves half a file


def short_line_keys(doc: Document, max_words: int | None = None) -> set[str]:
    """The normalised keys (``line_key``) of the lines of a document's body, as chrome
    detection sees them, that have at most ``max_words`` words (the configured
    ``repeated_line_max_words`` by default): the lines that can be repeated chrome."""
    if max_words is None:
        max_words = int(load_yaml("boilerplate.yaml")["repeated_line_max_words"])
    lines = base_text(doc)[doc.body_start :].splitlines()
    return {k for line in lines if (k := short_line_key(line, max_words)) is not None}


def chrome_signature(doc: Document, repeated: frozenset[str]) -> str:
    """Hash of the corpus-wide repeated lines this document contains: all that its rows
    depend on of the corpus, so a document whose content and signature are unchanged has
    unchanged rows even when the repeated lines of other documents changed. Every
    repeated line is a short line (``short_line_counts``), so only those are keyed."""
    return signature_of_keys(short_line_keys(doc), repeated)


def signature_of_keys(keys: Iterable[str], repeated: frozenset[str]) -> str:
    """``chrome_signature`` from line keys. A document's kept short line keys give the
    same signature as all its lines: every repeated line is a short line."""
    mine = sorted(set(keys) & repeated)
    return hashlib.sha256("\n".join(mine).encode()).hexdigest()[:16]


def largest_first(batches: Sequence[Sequence[str]]) -> list[int]:
    """Batch numbers, largest batch first (ties in plan order): handed to the workers in
    this order, the small ones fill in at the end instead of one large batch running on
    alone while the other workers wait."""
    return sorted(range(len(batches)), key=lambda i: (-len(batches[i]), i))


def repeated_from_counts(batch_counts: Sequence[dict[str, int]]) -> list[str]:
    threshold = int(load_yaml("boilerplate.yaml")["repeated_line_min_documents"])
    total: Counter[str] = Counter()
    for counts in batch_counts:
        total.update(counts)
    return sorted(k for k, n in total.items() if n >= threshold)


def batch_dir(plan: RunPlan, paths: Sequence[str], repeated: Sequence[str]) -> Path:
    context = hashlib.sha256("\n".join(repeated).encode()).hexdigest()
    return plan.work_dir / workcache.BATCHES / plan.batch_key(paths, context)


def batch_cache_key(out_dir: Path) -> str | None:
    """Prefect cache key for a batch: only while its output is still on disk."""
    return f"batch-{out_dir.name}" if overlay.complete(out_dir) else None


def slot_file(plan: RunPlan, paths: Sequence[str], repeated: Sequence[str]) -> Path:
    """Where the last batch built with the same first path (any content) is named.

    A batch's folder is keyed by its files' content and the corpus context; its slot by
    its first file name and the code alone (``_anchor_key``). When files of a batch
    change, or are added or removed, the new batch finds the old one through its slot and
    reuses the rows of every file it holds whose content and chrome signature are
    unchanged.
    """
    del repeated  # checked per document (chrome_signature), so one new chrome line
    # somewhere in the corpus does not force a rebuild of every batch
    return plan.work_dir / workcache.SLOTS / _anchor_key(plan, paths)


def process_batch(plan: RunPlan, paths: Sequence[str], repeated: Sequence[str]) -> Path:
    """Read, clean and extract one batch into its work folder (reused when complete)."""
    out_dir = batch_dir(plan, paths, repeated)
    if overlay.complete(out_dir):
        return out_dir
    slot = slot_file(plan, paths, repeated)
    args = (plan.input_dir, list(paths), plan.max_document_bytes, list(repeated), out_dir)
    written = workers.call(
        write_batch,
        *args,
        previous=_previous_batch(slot),
        hashes=_hashes(plan, paths),
        document_timeout=plan.document_timeout,
        keys_file=_line_keys_file(plan, paths),
    )
    slot.parent.mkdir(parents=True, exist_ok=True)
    slot.write_text(out_dir.name + "\n", encoding="utf-8")
    return written


def record_work(
    plan: RunPlan, batches: Sequence[Sequence[str]], batch_dirs: Sequence[Path]
) -> None:
    """Record the batch folders, slots and line-key files this run uses: what ``pipeline
    gc`` keeps of the work folder (``workcache``)."""
    anchors = [_anchor_key(plan, paths) for paths in batches if paths]
    workcache.record_live(plan.work_dir, batch_dirs, anchors)


def _previous_batch(slot: Path) -> Path | None:
    if not slot.is_file():
        return None
    folder = slot.parent.parent / workcache.BATCHES / slot.read_text(encoding="utf-8").strip()
    return folder if overlay.complete(folder) else None


@dataclass(frozen=True, slots=True)
class _Kept:
    """What a new batch takes over from the previous batch of the same first path."""

    previous: Path
    runs: dict[str, overlay.Runs]  # per file of ``previous``: the runs of the kept rows
    signatures: dict[str, str]  # chrome signature by path, for the documents among them
    paths: frozenset[str]
    documents: int  # of ``previous``'s documents, how many are kept
    of: int

    def written_over(self) -> bool:
        """Whether the new batch keeps these rows in ``previous`` (``pipeline.overlay``)
        rather than copying them."""
        shallow = overlay.depth_of(self.previous) < overlay.MAX_DEPTH
        return shallow and self.documents >= overlay.MIN_KEPT_SHARE * self.of


# A batch's rows are hundreds of thousands of small containers, none in a cycle worth
# finding: without the cyclic collector 2,000 documents took 5.3 s against 5.6 s.
@gc_paused()
def write_batch(
    input_dir: Path,
    paths: Sequence[str],
    max_bytes: int,
    repeated: Sequence[str],
    out_dir: Path,
    *,
    previous: Path | None = None,
    hashes: dict[str, str | None] | None = None,
    document_timeout: float | None = None,
    keys_file: Path | None = None,
) -> Path:
    """``process_batch``' body, with picklable arguments for a worker process.

    With ``previous`` (an older batch of the same first path) and the current ``hashes``, the
    rows of files whose content and chrome signature are unchanged are kept from it and
    only the others are read, cleaned and extracted: the same rows as a full rebuild, as
    every row of a file depends only on its content, its path, the code and the corpus
    context (all equal). They are kept in ``previous`` (the new folder is written over it,
    see ``pipeline.overlay``) or, past its limits, copied. With ``keys_file`` (the batch's
    short line keys, see ``count_short_lines``) the signatures of unchanged files come from
    it, so those files are not even read.
    """
    chrome = frozenset(repeated)
    kept = _kept_rows(previous, hashes, chrome, keys_file) if previous and hashes else None
    todo = [p for p in paths if kept is None or p not in kept.paths]
    items = list(read_inputs(_items(input_dir, todo), max_bytes))
    signatures = {
        item.source_path: chrome_signature(item, chrome)
        for item in items
        if isinstance(item, Document)
    }
    tables = build_tables(items, chrome, document_timeout)
    files = {f"{name}.parquet": table for name, table in tables.items()}
    files[_TERMS] = fact_terms({kind: files[f"{kind}.parquet"] for kind in CLAIM_KINDS})
    files[_FEATURES] = dedup_features(files["documents.parquet"], files["passages.parquet"])
    over = kept is not None and kept.written_over()
    if kept is not None:
        signatures.update(kept.signatures)
        if not over:
            files = _with_kept_rows(files, kept)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, table in files.items():
        pq.write_table(table, tmp / name, **(FEATURE_WRITE_OPTIONS if name == _FEATURES else {}))
    pq.write_table(_signatures_table(signatures), tmp / _SIGNATURES)
    if kept is not None and over:
        overlay.write_base(tmp, kept.previous, kept.runs)
    (tmp / _SUCCESS).write_text(uuid.uuid4().hex, encoding="utf-8")  # see overlay.SUCCESS
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir


def _with_kept_rows(files: dict[str, pa.Table], kept: _Kept) -> dict[str, pa.Table]:
    """``files`` (the new rows) after a copy of the kept rows of ``kept.previous``."""
    out = {}
    for name, table in files.items():
        old = overlay.read_file(kept.previous, name, schema=_schema_of(name))
        out[name] = pa.concat_tables(
            [overlay.take_runs(old, kept.runs.get(name, [])), table.cast(old.schema)]
        )
    return out


def _schema_of(name: str) -> pa.Schema | None:
    """A batch table's declared schema (side files have none)."""
    table = name.removesuffix(".parquet")
    return batch_schema(table) if table in BATCH_TABLES else None


def _signatures_table(signatures: dict[str, str]) -> pa.Table:
    paths = sorted(signatures)
    return pa.table(
        {
            "source_path": pa.array(paths, pa.string()),
            "signature": pa.array([signatures[p] for p in paths], pa.string()),
        }
    )


def _kept_rows(
    previous: Path,
    hashes: dict[str, str | None],
    repeated: frozenset[str],
    keys_file: Path | None,
) -> _Kept | None:
    """The rows of ``previous`` for the files whose sha256 and (for documents) chrome
    signature are unchanged; None when ``previous`` lacks a side file (an older layout).

    A document's new signature comes from its kept short line keys; one without kept
    keys is not reused (it is read again, which computes its signature)."""
    side_files = (_SIGNATURES, _TERMS, _FEATURES)
    if not all((previous / name).is_file() for name in side_files):
        return None
    keyed = {
        "documents": assembly.read_batch(
            previous, "documents", ["doc_id", "source_path", "content_sha256"]
        ),
        "quarantine": assembly.read_batch(
            previous, "quarantine", ["source_path", "content_sha256"]
        ),
    }
    old = pq.read_table(previous / _SIGNATURES).to_pydict()
    old_signatures = dict(zip(old["source_path"], old["signature"], strict=True))
    short_keys = {p: keys for p, (_sha, keys) in _known_line_keys(keys_file, hashes).items()}
    new_signatures = {
        path: signature_of_keys(short_keys[path], repeated)
        for path in old_signatures
        if path in short_keys
    }
    same: set[str] = set()
    for name, table in keyed.items():
        for path, sha in zip(
            table["source_path"].to_pylist(), table["content_sha256"].to_pylist(), strict=True
        ):
            if sha is None or hashes.get(path) != sha:
                continue
            signature = new_signatures.get(path)
            if name == "quarantine" or (
                signature is not None and signature == old_signatures.get(path)
            ):
                same.add(path)
    signatures = {p: new_signatures[p] for p in same if p in new_signatures}
    return _keep(previous, keyed["documents"], same, signatures)


def _keep(previous: Path, docs: pa.Table, same: set[str], signatures: dict[str, str]) -> _Kept:
    """The runs of rows (and side rows) of the files ``same`` among a previous batch's
    (``docs``: its documents' doc_id and source_path)."""
    paths = pa.array(sorted(same), pa.string())
    doc_ids = docs.filter(pc.is_in(docs["source_path"], value_set=paths))["doc_id"]
    doc_ids = doc_ids.combine_chunks() if doc_ids.num_chunks else pa.array([], pa.string())

    def runs(name: str, key: str, values: pa.Array) -> overlay.Runs:
        column = overlay.read_file(previous, name, [key], _schema_of(name))[key]
        return overlay.runs_of(pc.is_in(column, value_set=values).to_numpy(zero_copy_only=False))

    kept = {
        f"{n}.parquet": runs(f"{n}.parquet", "doc_id", doc_ids)
        for n in BATCH_TABLES
        if n != "quarantine"
    }
    kept["quarantine.parquet"] = runs("quarantine.parquet", "source_path", paths)
    fact_ids = pa.concat_arrays(
        [pa.array([], pa.string())]
        + [
            chunk
            for kind in CLAIM_KINDS
            for chunk in overlay.take_runs(
                assembly.read_batch(previous, kind, ["fact_id"]), kept[f"{kind}.parquet"]
            )["fact_id"].chunks
        ]
    )
    kept[_TERMS] = runs(_TERMS, "fact_id", fact_ids)
    kept[_FEATURES] = runs(_FEATURES, "doc_id", doc_ids)
    return _Kept(
        previous=previous,
        runs=kept,
        signatures=signatures,
        paths=frozenset(same),
        documents=len(doc_ids),
        of=docs.num_rows,
    )


def assemble(batch_dirs: Sequence[Path]) -> dict[str, pa.Table]:
    """Concatenate batches, mark duplicates, group facts into claims, order rows."""
    with gc_paused():
        return assembly.assemble(batch_dirs)


# From this many inputs assembly runs in processes of its own (``stage_assembled``):
# below it, the heap it would fragment is small (under 300 MB at 5,000 documents) and the
# two processes' start (about 1.5 s) is a large share of the run.
ISOLATED_ASSEMBLY_FROM = 5_000


def assembly_isolated(plan: RunPlan) -> bool:
    """Whether a run of ``plan`` assembles in processes of its own (when it may)."""
    return len(plan.inputs) >= ISOLATED_ASSEMBLY_FROM


def stage_assembled(
    plan: RunPlan, version: str, batch_dirs: Sequence[Path], *, isolated: bool = False
) -> Path:
    """``assemble`` the batches into a fresh staging folder (as ``stage_release``), a
    batch at a time: no whole table is held in memory (see ``pipeline.assembly``).

    ``isolated``: side by side, dedup then the writing of the tables that need no claims
    (documents, passages, quarantine, duplicates, entities), and the grouping of claims;
    then, side by side again, the claim kinds' fact tables, the kind with the most facts
    in one process and the other two in another (``ClaimGroups.halves``), and last the
    claims table of both. Each in a process of its own (``workers.call_alone``), so no
    stage starts from the heap an earlier one fragmented (dedup's shingle sets, claims'
    term sets: millions of small objects), and both cores work. At 100,000 documents, 1 %
    edited, the three kinds in one process took 9-10 s on one core, the rest idle.
    """
    staged = _fresh_staging(plan, version)
    if isolated:
        dirs = list(batch_dirs)
        (described, duplicates), groups = workers.call_alone_both(
            partial(write_deduplicated, dirs, staged), partial(group_claims, dirs)
        )
        first, second = (groups.only(kinds) for kinds in groups.halves())
        (facts, claims), (more_facts, more_claims) = workers.call_alone_both(
            partial(write_claimed, dirs, staged, duplicates, first),
            partial(write_claimed, dirs, staged, duplicates, second),
        )
        facts = {**facts, **more_facts, **assembly.write_claims(staged, [claims, more_claims])}
        described = {name: {**described, **facts}[name] for name in TABLES}
    else:
        described = write_assembled(batch_dirs, staged)
    return_freed_memory()
    return _staged(plan, version, staged, described)


def find_duplicates(batch_dirs: Sequence[Path]) -> DuplicateMarks:
    """``assembly.find_duplicates`` with the garbage collector paused."""
    with gc_paused():
        return assembly.find_duplicates(batch_dirs)


def group_claims(batch_dirs: Sequence[Path]) -> ClaimGroups:
    """``assembly.group_claims`` with the garbage collector paused."""
    with gc_paused():
        return assembly.group_claims(batch_dirs)


def write_deduplicated(
    batch_dirs: Sequence[Path], staged: Path
) -> tuple[dict[str, dict[str, Any]], DuplicateMarks]:
    """The entities' document counts, ``find_duplicates``, then
    ``assembly.write_document_tables`` with both; returns the files' descriptions and the
    decisions (picklable, for ``call_alone``). The counts come first, on a heap dedup has
    not yet grown: at 100,000 documents, measured alone, this process peaked at 1.53 GB
    so and at 1.60 GB with the counts after dedup (1.36 GB without the entities)."""
    n_documents = assembly.entity_counts(batch_dirs)
    return_freed_memory()
    duplicates = find_duplicates(batch_dirs)
    with gc_paused():
        described = assembly.write_document_tables(batch_dirs, staged, duplicates, n_documents)
    return described, duplicates


def write_claimed(
    batch_dirs: Sequence[Path], staged: Path, duplicates: DuplicateMarks, groups: ClaimGroups
) -> tuple[dict[str, dict[str, Any]], pa.Table]:
    """``assembly.write_kind_tables`` (the kinds ``groups`` holds) with the garbage
    collector paused."""
    with gc_paused():
        return assembly.write_kind_tables(batch_dirs, staged, duplicates, groups)


def write_assembled(
    batch_dirs: Sequence[Path],
    staged: Path,
    duplicates: DuplicateMarks | None = None,
    groups: ClaimGroups | None = None,
) -> dict[str, dict[str, Any]]:
    """``assembly.write_tables`` with the garbage collector paused (picklable, for
    ``workers.call_alone``)."""
    with gc_paused():
        return assembly.write_tables(batch_dirs, staged, duplicates, groups)


def stage_release(plan: RunPlan, version: str, tables: dict[str, pa.Table]) -> Path:
    """Write tables and a provisional manifest into a fresh staging folder."""
    staged = _fresh_staging(plan, version)
    described = {name: write_table(tables[name], staged / f"{name}.parquet") for name in TABLES}
    return _staged(plan, version, staged, described)


def _fresh_staging(plan: RunPlan, version: str) -> Path:
    staged = plan.output_dir / STAGING / version
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    return staged


def _staged(plan: RunPlan, version: str, staged: Path, described: dict[str, Any]) -> Path:
    """Write the provisional manifest of a staging folder whose tables are written."""
    write_json(staged / MANIFEST, manifest(plan, version, described, validation=None))
    crash_point("staged")
    return staged


def manifest(
    plan: RunPlan, version: str, tables: dict[str, Any], validation: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "version": version,
        "parent_version": latest_version(plan.output_dir),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "contract_version": CONTRACT_VERSION,
        "pipeline_version": pipeline.__version__,
        "code_version": plan.code_version,
        "input_fingerprint": plan.input_fingerprint,
        "run_fingerprint": plan.run_fingerprint,
        "inputs": [r.as_dict() for r in plan.inputs],
        "tables": tables,
        "validation": validation,
    }


def validate_staged(plan: RunPlan, staged: Path) -> ValidationReport:
    """Suites, corpus assertions (against the parent in the manifest) and the accuracy gate."""
    report = validate_release(
        staged,
        plan.expectations_dir,
        staged / "validation",
        gold=plan.gold,
        known_rows=KnownRows(plan.work_dir / VALIDATED, plan.code_version),
    )
    return_freed_memory()
    return report


def validate_and_describe(
    plan: RunPlan, staged: Path, *, beside: bool = False
) -> tuple[ValidationReport, ReportDraft | None]:
    """``validate_staged``; with ``beside``, ``describe_staged`` meanwhile in a process of
    its own, so both cores work: the changelog's diff and the report read every table
    too (at 100,000 documents, 1 % edited, about 50 s after a validation of 56 s).

    The draft is None without ``beside``, or when describing failed (logged):
    ``finish_release`` then describes the release itself, where a failure stops the run
    as before. A release that fails validation keeps what was described (failed/ is for
    inspection)."""
    if not beside:
        return validate_staged(plan, staged), None
    describe = partial(
        workers.call_alone,
        describe_staged,
        staged,
        _parent_dir(plan, json.loads((staged / MANIFEST).read_text(encoding="utf-8"))),
        plan.work_dir / ROW_HASHES,
    )
    with ThreadPoolExecutor(1, thread_name_prefix="describe") as pool:
        described = pool.submit(describe)
        report = validate_staged(plan, staged)
        return report, _draft_of(described)


def _draft_of(described: Future[ReportDraft]) -> ReportDraft | None:
    try:
        return described.result()
    except Exception as exc:  # described again, in place, by finish_release
        logger.warning("describing the release beside its validation failed: %r", exc)
        return None


def describe_staged(staged: Path, parent_dir: Path | None, row_hashes: Path) -> ReportDraft:
    """``describe_release`` of a staged release from its provisional manifest: its
    changelog, card and datapackage, and its report's draft (what needs no validation).
    Paths only, for ``workers.call_alone``."""
    data = json.loads((staged / MANIFEST).read_text(encoding="utf-8"))
    tables = FolderTables(staged, list(TABLES))
    return describe_release(staged, data, parent_dir, tables, RowHashStore(row_hashes))


def _parent_dir(plan: RunPlan, manifest: dict[str, Any]) -> Path | None:
    """The published folder of the parent a staged manifest names, if any."""
    parent = manifest["parent_version"]
    return plan.output_dir / RELEASES / parent if parent else None


def finish_release(
    plan: RunPlan, staged: Path, report: ValidationReport, draft: ReportDraft | None = None
) -> Path:
    """Complete a validated staging folder (manifest, changelog, card) and publish it.

    ``draft``: the report's draft when ``describe_staged`` already wrote the rest."""
    data = json.loads((staged / MANIFEST).read_text(encoding="utf-8"))
    data["validation"] = report.to_json()
    version = data["version"]
    tables = FolderTables(staged, list(TABLES))
    write_json(staged / MANIFEST, data)
    if draft is None:
        row_hashes = RowHashStore(plan.work_dir / ROW_HASHES)
        write_release_docs(staged, data, _parent_dir(plan, data), tables, row_hashes)
    else:
        write_report(staged, draft, data["validation"])
    check_inputs_unchanged(
        plan.input_dir, plan.inputs, tables, plan.work_dir, plan.work_dir / HASH_CACHE
    )
    return publish(plan.output_dir, staged, version)
