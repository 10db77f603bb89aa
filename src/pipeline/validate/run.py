"""Run the stored expectation suites against a release directory with an ephemeral GX context.

Bad data never raises: unreadable tables, a broken manifest, failing or erroring
expectations all end up as failures in the returned ``ValidationReport``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.publish.release import MANIFEST, RELEASES, read_columns
from pipeline.runtime import return_freed_memory
from pipeline.schemas import TABLES
from pipeline.validate.accuracy import ACCURACY_SUITE, GoldGate, accuracy_outcome
from pipeline.validate.assertions import (
    ASSERTIONS_FILE,
    CORPUS_COLUMNS,
    CORPUS_SUITE,
    AssertionConfigError,
    AssertionOutcome,
    Corpus,
    Parent,
    check_assertions,
    load_assertions,
)
from pipeline.validate.chunked import chunk_rows, merge_results, split_suite
from pipeline.validate.derived import (
    INPUTS,
    QUOTE_MATCHES_SOURCE,
    SUITE_TABLES,
    helpers_for,
    with_helpers,
)
from pipeline.validate.html import write_report_html
from pipeline.validate.known import (
    Hashes,
    KnownRows,
    KnownTally,
    all_rows_passed,
    column_pairs,
    known_mask,
    row_hashes,
)
from pipeline.validate.report import (
    FailedExpectation,
    SuiteOutcome,
    ValidationReport,
    json_safe,
)
from pipeline.validate.suites import Suite, load_suites

SAMPLE_ROWS = 5
# GX's SUMMARY format finds the failing rows' numbers by filtering the whole frame, every
# column, once per row-wise expectation, even when no row fails. A suite therefore runs
# first in BASIC (counts and values, no row numbers); only one with a failing row runs
# again in SUMMARY, for the sample rows. Same results; validating a 20,000-document
# release took 20.8 s this way, 25.3 s in SUMMARY. The index query (a string GX builds
# from the same filter) is never shown.
FIRST_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": SAMPLE_ROWS}
RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": SAMPLE_ROWS,
    "return_unexpected_index_query": False,
}
# The keys SUMMARY adds to BASIC's result of a row-wise expectation (empty when no row fails)
_SUMMARY_ONLY = ("partial_unexpected_counts", "partial_unexpected_index_list")
DOCS_SITE = "release"

logger = logging.getLogger(__name__)


def read_table(
    path: Path, columns: Sequence[str] | None = None
) -> tuple[pa.Table | None, str | None]:
    """A Parquet table (only those of ``columns`` it has), or the reason it cannot be read."""
    try:
        return read_columns(path, columns), None
    except (OSError, pa.ArrowException) as exc:
        return None, f"cannot read {path.name}: {exc}"


def read_inputs(manifest_path: Path) -> tuple[pa.Table | None, str | None]:
    """The manifest's ``inputs`` list as a table, or the reason it cannot be read."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        rows = manifest["inputs"]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise TypeError("inputs is not a list of objects")
        return pa.Table.from_pylist(rows, schema=INPUTS.schema), None
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
        return None, f"cannot read {manifest_path.name} inputs: {exc!r}"


# What the cross-table helper columns (validate.derived) read of the other tables.
# Source texts are not among them: the quote check reads the texts of the documents of
# the rows it checks (``with_document_texts``), not the whole corpus's.
REFERENCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "documents": ("doc_id", "n_chars", "source_path"),
    "passages": ("passage_id",),
    "claims": ("claim_id",),
    "quarantine": ("source_path",),
}


class ReleaseTables(Mapping[str, pa.Table]):
    """The tables of a release folder (and the manifest's inputs), read on access.

    A table is read each time it is asked for and not kept, so validation holds one table
    at a time rather than the whole release; ``cached`` keeps reads (for the narrow
    reference columns). An unreadable table reads as empty and its reason is kept in
    ``errors``. ``columns``: per table, the only columns to read.
    """

    def __init__(
        self,
        release_dir: Path,
        columns: Mapping[str, Sequence[str]] | None = None,
        *,
        cached: bool = False,
    ) -> None:
        self._dir = release_dir
        self._columns = dict(columns or {})
        self._cache: dict[str, pa.Table] | None = {} if cached else None
        self.errors: dict[str, str] = {}

    @property
    def folder(self) -> Path:
        return self._dir

    def __getitem__(self, name: str) -> pa.Table:
        if name not in SUITE_TABLES:
            raise KeyError(name)
        if self._cache is not None and name in self._cache:
            return self._cache[name]
        if name == INPUTS.name:
            table, error = read_inputs(self._dir / MANIFEST)
        else:
            table, error = read_table(self._dir / f"{name}.parquet", self._columns.get(name))
        if table is None:
            self.errors[name] = error or "unreadable"
            table = SUITE_TABLES[name].schema.empty_table()
        if self._cache is not None:
            self._cache[name] = table
        return table

    def __contains__(self, name: object) -> bool:
        return name in SUITE_TABLES

    def size(self, name: str) -> tuple[int, int] | None:
        """Rows and uncompressed bytes of a table's file (None: the inputs, or unreadable)."""
        if name == INPUTS.name:
            return None
        try:
            metadata = pq.read_metadata(self._dir / f"{name}.parquet")
        except (OSError, pa.ArrowException):
            return None
        groups = (metadata.row_group(i) for i in range(metadata.num_row_groups))
        return metadata.num_rows, sum(g.total_byte_size for g in groups)

    def chunks(self, name: str, rows: int) -> Iterator[pa.Table]:
        """A table's rows, ``rows`` at a time (the last chunk shorter)."""
        parquet = pq.ParquetFile(self._dir / f"{name}.parquet")
        for batch in parquet.iter_batches(batch_size=rows):
            yield pa.Table.from_batches([batch])

    def read(self, name: str, columns: Sequence[str] | None) -> pa.Table:
        """A table's ``columns`` (all with None), read now and not kept."""
        table, error = read_table(self._dir / f"{name}.parquet", columns)
        if table is None:
            raise OSError(error)
        return table

    def __iter__(self) -> Iterator[str]:
        return iter(SUITE_TABLES)

    def __len__(self) -> int:
        return len(SUITE_TABLES)


class _Overlay(Mapping[str, pa.Table]):
    """``base`` with some tables replaced."""

    def __init__(self, base: Mapping[str, pa.Table], **tables: pa.Table) -> None:
        self._base = base
        self._tables = tables

    def __getitem__(self, name: str) -> pa.Table:
        return self._tables[name] if name in self._tables else self._base[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._base)

    def __len__(self) -> int:
        return len(self._base)


DOCUMENT_TEXT_COLUMNS = ["doc_id", "n_chars", "source_text", "source_path"]


def with_document_texts(
    name: str, table: pa.Table, release_dir: Path, references: Mapping[str, pa.Table]
) -> Mapping[str, pa.Table]:
    """``references`` whose documents are those of ``table``'s rows, with their source
    texts, when ``name``'s helpers check quotes against source texts.

    Release tables are ordered by source path and documents are written in small row
    groups, so the documents of a chunk of rows are read from a few row groups; a row
    whose document has another source path is looked up by doc_id.
    """
    if not reads_source_texts(name):
        return references
    path = release_dir / "documents.parquet"
    wanted = {"doc_id", "source_path"} <= set(table.column_names)
    if not wanted or table.num_rows == 0:
        return _Overlay(references, documents=_no_documents())
    try:
        paths = pc.unique(table.column("source_path")).drop_null()
        documents = _documents_of(path, paths)
        ids = pc.unique(table.column("doc_id")).drop_null()
        missing = pc.filter(ids, pc.invert(pc.is_in(ids, documents.column("doc_id"))))
        if len(missing):
            by_id = pq.read_table(
                path, columns=DOCUMENT_TEXT_COLUMNS, filters=pc.field("doc_id").isin(missing)
            )
            documents = pa.concat_tables([documents, by_id])
    except (OSError, pa.ArrowException):  # the documents suite reports an unreadable file
        documents = _no_documents()
    return _Overlay(references, documents=documents)


def reads_source_texts(name: str) -> bool:
    """Whether the suite of ``name`` checks quotes against the documents' source texts."""
    return any(h.name == QUOTE_MATCHES_SOURCE for h in helpers_for(name))


def _documents_of(path: Path, source_paths: pa.Array) -> pa.Table:
    """The documents with these source paths. Read by their range (which row-group
    statistics prune; a set of values does not), then kept by value."""
    if len(source_paths) == 0:
        return _no_documents()
    bounds = pc.min_max(source_paths)
    field = pc.field("source_path")
    in_range = (field >= bounds["min"]) & (field <= bounds["max"])
    documents = pq.read_table(path, columns=DOCUMENT_TEXT_COLUMNS, filters=in_range)
    wanted = pc.is_in(documents.column("source_path"), source_paths)
    # most often every document in the range is wanted: no second copy of the texts then
    return documents if pc.all(wanted).as_py() else documents.filter(wanted)


def _no_documents() -> pa.Table:
    return TABLES["documents"].schema.empty_table().select(DOCUMENT_TEXT_COLUMNS)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas keeping Arrow types (ints with nulls stay ints, dates stay dates)."""
    frame: pd.DataFrame = table.to_pandas(types_mapper=pd.ArrowDtype)
    return frame


def import_gx_in_background() -> threading.Thread:
    """Start loading Great Expectations in a daemon thread and return the thread.

    Its import takes about 3.5 s of a run's fixed cost; a run starts it before its
    workers process the batches, while its own main thread only waits, so validation
    finds the modules loaded. An import error is left for ``gx_context`` to raise.
    """
    os.environ["GX_ANALYTICS_ENABLED"] = "false"  # as gx_context: before the import
    thread = threading.Thread(target=_import_gx, name="import-great-expectations", daemon=True)
    thread.start()
    return thread


def _import_gx() -> None:
    with contextlib.suppress(Exception):
        import great_expectations  # noqa: F401


def gx_context(docs_dir: Path) -> Any:
    """An ephemeral GX context: no gx/ folder, no progress bars, Data Docs into ``docs_dir``."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX sets this module's logger to INFO at import; its temp-dir notice is noise here.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    _no_data_fingerprint()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(
        DOCS_SITE,
        {
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return context


def _no_data_fingerprint() -> None:
    """Stop GX hashing every frame it validates (below 1 GB in memory) for a fingerprint
    in the result's batch markers, a hash of our frames (helper columns included) that
    nothing reads; the manifest has each table's sha256. Validating a 20,000-document
    release took 19.4 s without it, 20.8 s with it."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


def gx_suite(suite: Suite) -> Any:
    """A stored suite (plain dict) as a GX ExpectationSuite."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    expectations = [ExpectationConfiguration(**e).to_domain_obj() for e in suite["expectations"]]
    return gx.ExpectationSuite(
        name=suite["name"], expectations=expectations, meta=suite.get("meta", {})
    )


def run_suite(context: Any, suite: Suite, frame: pd.DataFrame, part: str = "") -> dict[str, Any]:
    """Validate one frame against one suite; the GX result as a JSON dict.

    ``part`` names one of several runs of a suite (a chunk of a table's rows).
    """
    import great_expectations as gx

    name = f"{suite['name']}-{part}" if part else suite["name"]
    suite = {**suite, "name": name}
    source = context.data_sources.add_pandas(f"release-{name}")
    batch = source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe("all")
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch, suite=context.suites.add(gx_suite(suite)))
    )
    try:
        first = definition.run(batch_parameters={"dataframe": frame}, result_format=FIRST_FORMAT)
        result = dict(first.to_json_dict())
        if any_unexpected_rows(result):
            summary = definition.run(
                batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT
            )
            result = dict(summary.to_json_dict())
    finally:
        # The data source's engine keeps the batches it loaded (the frame) for the life of
        # the context: removing it lets the table go before the next suite's is read.
        context.data_sources.delete(source.name)
    return as_summary(result)


def any_unexpected_rows(result: Mapping[str, Any]) -> bool:
    """Whether a row-wise expectation of a suite's GX result found a failing row."""
    return any(
        int((r.get("result") or {}).get("unexpected_count") or 0) > 0
        for r in result.get("results", [])
    )


def as_summary(result: dict[str, Any]) -> dict[str, Any]:
    """A BASIC result with no failing row as SUMMARY gives it: the row-wise expectations'
    results with their empty sample lists (a SUMMARY result is returned unchanged)."""
    for item in result.get("results", []):
        found = item.get("result")
        if isinstance(found, dict) and found.get("unexpected_count") == 0:
            for key in _SUMMARY_ONLY:
                found.setdefault(key, [])
    return result


def error_message(info: Any) -> str | None:
    """The message of a raised exception in GX's (flat or per-metric) exception_info."""
    if not isinstance(info, dict):
        return None
    entries = [info] if "raised_exception" in info else list(info.values())
    messages = [
        str(e.get("exception_message"))
        for e in entries
        if isinstance(e, dict) and e.get("raised_exception")
    ]
    return "; ".join(dict.fromkeys(messages)) or None


def columns_of(kind: str, kwargs: Mapping[str, Any]) -> list[str]:
    """The columns an expectation is about (none for table-level ones)."""
    if "column" in kwargs:
        return [str(kwargs["column"])]
    if "column_A" in kwargs:
        return [str(kwargs["column_A"]), str(kwargs["column_B"])]
    if kind.startswith(("expect_compound_", "expect_multicolumn_")):
        return [str(c) for c in kwargs.get("column_list", [])]
    return []


def sample_rows(table: pa.Table, indices: list[Any], columns: list[str]) -> list[Any]:
    """The failing rows (only ``columns``), JSON-safe."""
    keep = [c for c in dict.fromkeys(columns) if c in table.column_names]
    rows = [int(i) for i in indices if isinstance(i, int) and 0 <= int(i) < table.num_rows]
    if not keep or not rows:
        return []
    return [json_safe(r) for r in table.select(keep).take(pa.array(rows)).to_pylist()]


def failure_from(name: str, outcome: Mapping[str, Any], table: pa.Table) -> FailedExpectation:
    """A failed GX expectation result as a FailedExpectation with sample rows."""
    config = outcome.get("expectation_config", {})
    kind = str(config.get("type"))
    columns = columns_of(kind, config.get("kwargs", {}))
    result = outcome.get("result") or {}
    helpers = [h for h in helpers_for(name) if h.name in columns]
    if "partial_unexpected_index_list" in result:
        # a helper column is all True/False: show the columns it was computed from instead
        shown = [s for h in helpers for s in h.shows] if helpers else columns
        key = list(SUITE_TABLES[name].primary_key)
        sample = sample_rows(table, result["partial_unexpected_index_list"], key + shown)
    elif "observed_value" in result:
        sample = [json_safe(result["observed_value"])]
    else:
        sample = json_safe(result.get("partial_unexpected_list", []))
    count = result.get("unexpected_count")
    return FailedExpectation(
        expectation=kind,
        table=name,
        column=",".join(columns) or None,
        sample=sample,
        unexpected_count=count if isinstance(count, int) else None,
        error=error_message(outcome.get("exception_info")),
    )


def outcome_from(name: str, result: Mapping[str, Any], table: pa.Table) -> SuiteOutcome:
    """A suite's GX result as a SuiteOutcome; an erroring expectation counts as failed."""
    results = result.get("results", [])
    failures = [
        failure_from(name, r, table)
        for r in results
        if not r.get("success") or error_message(r.get("exception_info"))
    ]
    return SuiteOutcome(not failures, len(results), len(failures), failures)


def validate_tables(
    suites: Mapping[str, Suite],
    release: ReleaseTables,
    report_dir: Path,
    store: KnownRows | None = None,
) -> tuple[dict[str, SuiteOutcome], dict[str, Any]]:
    """Run every suite on its augmented table; outcomes and raw GX results by suite.

    One table is in memory at a time, with the reference columns its helpers read.
    ``store``: rows known to pass, for tables validated in chunks (``_chunked_outcome``).
    """
    context = gx_context(report_dir / "data_docs")
    references = ReleaseTables(release.folder, REFERENCE_COLUMNS, cached=True)
    with _older_objects_frozen():
        outcomes, raw = _validate_each(context, suites, release, references, store)
    build_data_docs(context, report_dir / "data_docs")
    return outcomes, raw


@contextlib.contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """Leave the objects alive before validation (Prefect's, GX's, the flow's) out of the
    collections that free each validated frame (``_let_go``), then hand them back.

    A full collection walks every tracked object of the process: in the flow's process,
    with Prefect and GX loaded, 0.28 s each, about ten a run. What ``_let_go`` frees is
    made during validation, so none of it is frozen. At 30,000 documents, 1 % edited,
    validation took 12.9-13.7 s so, 14.8-16.8 s without."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _validate_each(
    context: Any,
    suites: Mapping[str, Suite],
    release: ReleaseTables,
    references: ReleaseTables,
    store: KnownRows | None,
) -> tuple[dict[str, SuiteOutcome], dict[str, Any]]:
    """``validate_tables``' loop: each suite on its table, in turn."""
    outcomes: dict[str, SuiteOutcome] = {}
    raw: dict[str, Any] = {}
    for name in [*SUITE_TABLES, *(s for s in suites if s not in SUITE_TABLES)]:
        if name not in suites:
            outcomes[name] = SuiteOutcome.not_run(name, "suite_present", f"no {name}.json suite")
        elif name not in release:
            outcomes[name] = SuiteOutcome.not_run(name, "table_known", f"no table for suite {name}")
        else:
            outcomes[name], result = _suite_outcome(
                context, name, suites[name], release, references, store
            )
            if result is not None:
                raw[name] = result
            size = release.size(name)
            if size is not None and size[1] >= LET_GO_FROM:
                _let_go()
    return outcomes, raw


def _suite_outcome(
    context: Any,
    name: str,
    suite: Suite,
    release: ReleaseTables,
    references: ReleaseTables,
    store: KnownRows | None = None,
) -> tuple[SuiteOutcome, dict[str, Any] | None]:
    """One suite run on its table (read now, dropped after) with its helper columns; a
    table larger than a chunk a chunk at a time (``validate.chunked``)."""
    size = release.size(name)
    rows = rows_per_chunk(name, release)
    if size is not None and (rows < size[0] or (store is not None and size[0] >= KNOWN_FROM)):
        return _chunked_outcome(context, name, suite, release, references, rows, store)
    table = release[name]
    if name in release.errors:
        return SuiteOutcome.not_run(name, "table_readable", release.errors[name]), None
    texts = with_document_texts(name, table, release.folder, references)
    table = with_helpers(name, table, texts)
    try:
        result = run_suite(context, suite, to_frame(table))
    except Exception as exc:  # a gate reports, it does not crash
        return SuiteOutcome.not_run(name, "suite_runs", repr(exc)), None
    return outcome_from(name, result, table), result


# From this many rows a table is validated through the rows known to pass (when there is a
# store), even if it fits one chunk: at 10,000 documents the fact tables have 30,000 to
# 230,000 rows, and a rerun's few new rows cost GX far less. Below it GX's fixed cost per
# run dominates, and small releases keep the plain whole-table result.
KNOWN_FROM = 20_000


def rows_per_chunk(name: str, release: ReleaseTables) -> int:
    """Rows of ``name`` validated at once (``chunked.chunk_rows``; 0 for the inputs).

    A suite that checks quotes holds, with its rows, the source texts of their documents:
    the rows are ordered by source path, so a chunk's share of the texts is about its
    share of the rows, and the texts count in the chunk's bytes. Without them a chunk of
    money at 100,000 documents read 520 MB of texts and the validation peaked at 2.6 GB.
    """
    size = release.size(name)
    if size is None:
        return 0
    rows, nbytes = size
    texts = release.size("documents") if reads_source_texts(name) else None
    return chunk_rows(rows, nbytes + (texts[1] if texts is not None else 0))


def _chunked_outcome(
    context: Any,
    name: str,
    suite: Suite,
    release: ReleaseTables,
    references: ReleaseTables,
    rows: int,
    store: KnownRows | None = None,
) -> tuple[SuiteOutcome, dict[str, Any] | None]:
    """``_suite_outcome`` for a large table: row-wise expectations ``rows`` rows at a time,
    the others once on the columns they name; the results merged as one.

    With ``store``, rows known to pass the row-wise expectations (``validate.known``) are
    counted, not handed to GX; when every row passes, the table's rows are kept as known.
    """
    row_wise, table_wide = split_suite(suite)
    rowwise = _RowWise(context, name, row_wise, rows, store)
    whole = None
    try:
        for chunk in release.chunks(name, rows):
            texts = with_document_texts(name, chunk, release.folder, references)
            rowwise.add(with_helpers(name, chunk, texts))
            del chunk, texts
        runs = rowwise.finish()
        if table_wide["expectations"]:
            table = _table_wide_columns(name, table_wide, release, references)
            whole = run_suite(context, table_wide, to_frame(table), part="table")
            del table
    except Exception as exc:  # a gate reports, it does not crash
        return SuiteOutcome.not_run(name, "suite_runs", repr(exc)), None
    result = merge_results(name, runs, whole, SAMPLE_ROWS)
    result["meta"]["pipeline_chunks"] = rowwise.description()
    sample = SUITE_TABLES[name].schema.empty_table()
    if not result["success"]:
        # the failing rows' columns; a file that became unreadable gives no sample rows
        with contextlib.suppress(OSError):
            sample = release.read(name, _sample_columns(name, result))
    return outcome_from(name, result, sample), result


class _RowWise:
    """The row-wise part of a chunked suite run: frames of rows in, GX runs of at most
    ``rows`` rows out (``finish``: the runs' results, with their first row numbers).

    With a ``KnownRows`` store, the rows it knows are counted (``KnownTally``) rather than
    run, and the rows of a table that all passed are kept for the next run.
    """

    def __init__(
        self, context: Any, name: str, suite: Suite, rows: int, store: KnownRows | None
    ) -> None:
        self._context, self._name, self._suite, self._rows = context, name, suite, rows
        self._store = store
        self._key: str | None = None
        self._known = np.empty(0, dtype=np.uint64)
        self._hashes: list[Hashes] = []
        self._tally = KnownTally()
        self._pairs = column_pairs(suite)
        self._pending: list[pd.DataFrame] = []
        self._pending_rows = 0
        self._runs: list[tuple[int, dict[str, Any]]] = []
        self._first_rows: list[int] = []
        self._offset = 0

    def add(self, table: pa.Table) -> None:
        """The next chunk's rows (with helper columns), in table order."""
        rows = np.arange(self._offset, self._offset + table.num_rows)
        self._first_rows.append(self._offset)
        self._offset += table.num_rows
        unknown = self._unknown_rows(table)
        if unknown is not None and not unknown.all():  # a filter copies every column
            table, rows = table.filter(pa.array(unknown)), rows[unknown]
        frame = to_frame(table)
        frame.index = pd.Index(rows)  # the whole table's row numbers
        self._pending.append(frame)
        self._pending_rows += len(frame)
        if self._pending_rows >= self._rows:
            self._run()

    def _unknown_rows(self, table: pa.Table) -> npt.NDArray[np.bool_] | None:
        """``_unknown`` with the store, if any; None (judge every row) without one. The
        store is a shortcut: when it fails, every row from then on is judged."""
        if self._store is None:
            return None
        try:
            return self._unknown(self._store, table)
        except Exception as exc:
            logger.warning("%s: rows known to pass left unused: %r", self._name, exc)
            self._store, self._hashes = None, []
            return None

    def _unknown(self, store: KnownRows, table: pa.Table) -> npt.NDArray[np.bool_]:
        """Which rows of ``table`` the store does not know; the others are tallied."""
        if self._key is None:
            self._key = store.key(self._name, self._suite, table.column_names)
            self._known = store.load(self._name, self._key)
        hashes = row_hashes(table)
        self._hashes.append(hashes)
        known = known_mask(hashes, self._known)
        if known.any():
            self._tally.add(table, known, self._pairs)
        unknown: npt.NDArray[np.bool_] = ~known
        return unknown

    def _run(self) -> None:
        frames = [f for f in self._pending if len(f)] or self._pending[:1]
        frame = frames[0] if len(frames) == 1 else pd.concat(frames)
        self._pending, self._pending_rows = [], 0
        first = int(frame.index[0]) if len(frame) else self._offset
        result = run_suite(self._context, self._suite, frame, part=f"rows-{first}")
        # row numbers are the frames' index: the whole table's
        self._runs.append((0, result))
        del frame
        _let_go()

    def finish(self) -> list[tuple[int, dict[str, Any]]]:
        """The GX runs' results, then the known rows' (offsets 0: the frames' row numbers
        are the table's); keeps the table's rows when every one of them passed."""
        if self._pending:  # rows left, or only known ones: GX still judges the columns
            self._run()
        runs = list(self._runs)
        if self._tally.rows:
            runs.append((0, self._tally.result_like(runs[0][1])))
        if (
            self._store is not None
            and self._key is not None
            and all(all_rows_passed(result) for _, result in self._runs)
        ):
            try:
                self._store.save(self._name, self._key, np.concatenate(self._hashes))
            except (OSError, pa.ArrowException) as exc:  # the next run judges every row
                logger.warning("%s: rows known to pass not kept: %r", self._name, exc)
        return runs

    def description(self) -> dict[str, Any]:
        """How the rows were judged, for the result's meta."""
        return {
            "row_wise_chunks": len(self._first_rows),
            "first_rows": self._first_rows,
            "gx_runs": len(self._runs),
            "rows_known_to_pass": self._tally.rows,
        }


def _table_wide_columns(
    name: str, suite: Suite, release: ReleaseTables, references: ReleaseTables
) -> pa.Table:
    """The columns the table-wide expectations of ``suite`` name (the whole table, with
    helper columns, when one names none or names a helper column)."""
    wanted = [columns_of(e["type"], e.get("kwargs", {})) for e in suite["expectations"]]
    declared = set(SUITE_TABLES[name].column_names)
    if all(columns and set(columns) <= declared for columns in wanted):
        return release.read(name, sorted({c for columns in wanted for c in columns}))
    table = release.read(name, None)
    return with_helpers(name, table, with_document_texts(name, table, release.folder, references))


def _sample_columns(name: str, result: Mapping[str, Any]) -> list[str]:
    """The columns ``failure_from`` shows for the failed expectations of ``result``."""
    wanted = list(SUITE_TABLES[name].primary_key)
    for item in result.get("results", []):
        if item.get("success"):
            continue
        config = item.get("expectation_config", {})
        columns = columns_of(str(config.get("type")), config.get("kwargs", {}))
        helpers = [h for h in helpers_for(name) if h.name in columns]
        wanted += [c for h in helpers for c in h.shows] if helpers else columns
    declared = SUITE_TABLES[name].column_names
    return [c for c in dict.fromkeys(wanted) if c in declared]


# A collection walks every object of the process (Prefect's and GX's too): about 0.2 s,
# worth it after a large table only (1,000 documents: validation 4.0 s -> 6.5 s when
# collecting after every suite).
LET_GO_FROM = 32 * 1024 * 1024  # uncompressed bytes of the table just validated


def _let_go() -> None:
    """Free the frame a GX run was given: GX's objects hold it in reference cycles, which
    only a collection frees (at 20,000 documents, memory held between suites fell from
    about 1,000 MB to 400 MB and the validation peak by 170 MB), then return the memory."""
    gc.collect()
    return_freed_memory()


def build_data_docs(context: Any, docs_dir: Path) -> None:
    """Render Data Docs; a rendering failure is logged and noted, never a validation crash."""
    try:
        context.build_data_docs(site_names=[DOCS_SITE])
    except Exception as exc:  # the HTML is a report, the gate is results.json
        logger.warning("Data Docs could not be rendered: %r", exc)
        docs_dir.mkdir(parents=True, exist_ok=True)
        (docs_dir / "ERROR.txt").write_text(f"Data Docs could not be rendered: {exc!r}\n")


def write_results(report: ValidationReport, raw: Mapping[str, Any], report_dir: Path) -> None:
    """``results.json`` (summary and failures) and ``suites/<name>.json`` (GX results)."""
    suites_dir = report_dir / "suites"
    suites_dir.mkdir(parents=True, exist_ok=True)
    for name, result in raw.items():
        text = json.dumps(result, indent=2, ensure_ascii=False, default=str)
        (suites_dir / f"{name}.json").write_text(text + "\n", encoding="utf-8")
    text = json.dumps(report.to_full_json(), indent=2, ensure_ascii=False, default=str)
    (report_dir / "results.json").write_text(text + "\n", encoding="utf-8")


def row_counts(release_dir: Path) -> dict[str, int]:
    """Rows of each table a release folder has (from the Parquet footers)."""
    counts: dict[str, int] = {}
    for name in TABLES:
        try:
            counts[name] = pq.read_metadata(release_dir / f"{name}.parquet").num_rows
        except (OSError, pa.ArrowException):
            continue
    return counts


def find_parent(release_dir: Path) -> tuple[Parent | None, str]:
    """The manifest's parent_version, found beside the release or in ``../releases/``.

    A staged (``.staging/<v>``) or failed (``failed/<v>``) release finds its parent in the
    output folder's ``releases/``; otherwise it says why there is none.
    """
    try:
        manifest = json.loads((release_dir / MANIFEST).read_text(encoding="utf-8"))
        version = manifest.get("parent_version")
    except (OSError, ValueError, AttributeError) as exc:
        return None, f"cannot read the manifest's parent_version: {exc!r}"
    if not isinstance(version, str) or not version:
        return None, "the manifest names no parent_version (first release)"
    folder = release_dir.resolve().parent
    for candidate in (folder / version, folder.parent / RELEASES / version):
        if (candidate / MANIFEST).is_file():
            return Parent(version, row_counts(candidate)), ""
    return None, f"parent release {version} not found beside {release_dir} or in ../{RELEASES}/"


def corpus_outcome(
    release_dir: Path, expectations_dir: Path, tables: Mapping[str, pa.Table]
) -> tuple[SuiteOutcome, dict[str, Any]]:
    """The corpus assertions of ``expectations_dir/assertions.yaml`` as a suite, and as JSON.

    A missing or malformed file fails (a gate that vanished must not pass silently);
    ``assertions: []`` is the explicit way to configure none.
    """
    path = expectations_dir / ASSERTIONS_FILE
    if not path.is_file():
        error = f"no {path} (write 'assertions: []' to configure none)"
        return SuiteOutcome.not_run(CORPUS_SUITE, "assertions_present", error), {}
    try:
        assertions = load_assertions(path)
    except AssertionConfigError as exc:
        return SuiteOutcome.not_run(CORPUS_SUITE, "assertions_valid", str(exc)), {}
    parent, no_parent = find_parent(release_dir)
    results = check_assertions(assertions, Corpus(tables, parent, no_parent))
    outcome = AssertionOutcome(results, [] if assertions else [f"no assertions in {path}"])
    return outcome.suite(), outcome.to_json()


def validate_release(
    release_dir: Path,
    expectations_dir: Path,
    report_dir: Path,
    *,
    gold: GoldGate | None = None,
    known_rows: KnownRows | None = None,
) -> ValidationReport:
    """Run every stored suite, the corpus assertions and (with ``gold``) the accuracy gate.

    JSON results and Data Docs go to report_dir. ``known_rows``: where rows known to pass
    are kept between runs (``validate.known``), so a rerun judges only its new rows.
    """
    report_dir = report_dir.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    suites = load_suites(expectations_dir)
    tables = ReleaseTables(release_dir)
    outcomes, raw = validate_tables(suites, tables, report_dir, known_rows)
    # The assertions read a few columns, the row counts and the inputs only.
    corpus = ReleaseTables(
        release_dir, {name: CORPUS_COLUMNS.get(name, ()) for name in TABLES}, cached=True
    )
    outcomes[CORPUS_SUITE], raw[CORPUS_SUITE] = corpus_outcome(
        release_dir, expectations_dir, corpus
    )
    if gold is not None:
        outcomes[ACCURACY_SUITE], raw[ACCURACY_SUITE] = accuracy_outcome(tables, gold)
    report = ValidationReport.from_outcomes(outcomes)
    write_results(report, raw, report_dir)
    write_report_html(report, report_dir)
    return report
