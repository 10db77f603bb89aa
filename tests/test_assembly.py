"""Assembly a batch at a time (pipeline.assembly) against the whole-table formulation.

The corpus-wide steps read only some columns and the batches are completed, ordered and
written one at a time; the tables must be those of concatenating every batch, marking
duplicates and grouping claims over the whole tables, then sorting.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import assembly, workers
from pipeline.bench_run import write_corpus
from pipeline.build import BATCH_TABLES
from pipeline.claims import build_claims
from pipeline.dedup.features import SHINGLES
from pipeline.dedup.minhash import MinHashParams, shingle_set
from pipeline.dedup.near import DocumentTexts, mark_duplicates
from pipeline.dedup.synthetic import corpus_from
from pipeline.plan import make_plan
from pipeline.publish.release import TableWriter
from pipeline.schemas import TABLES, batch_schema
from pipeline.settings import Settings
from pipeline.stages import count_short_lines, process_batch, repeated_from_counts

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


@pytest.fixture(scope="module")
def batch_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Seeds and 120 synthetic documents (planted copies among them) in batches of 25."""
    root = tmp_path_factory.mktemp("assembly")
    inputs = root / "input"
    write_corpus(corpus_from(SEEDS, 120, 5), inputs, 5)
    for seed in SEEDS.iterdir():
        shutil.copy(seed, inputs / seed.name)
    plan = make_plan(Settings(inputs, root / "output", batch_size=25))
    batches = plan.batches()
    repeated = repeated_from_counts([count_short_lines(plan, b) for b in batches])
    return [process_batch(plan, b, repeated) for b in batches]


def _whole_tables(batch_dirs: list[Path]) -> dict[str, pa.Table]:
    """The plain formulation: every batch concatenated, then dedup and claims, then sorted."""
    tables = {
        name: pa.concat_tables(
            [pq.read_table(d / f"{name}.parquet", schema=batch_schema(name)) for d in batch_dirs]
        )
        for name in BATCH_TABLES
    }
    documents, passages, duplicates = mark_duplicates(tables["documents"], tables["passages"])
    tables.update(documents=documents, passages=passages, duplicates=duplicates)
    tables.update(build_claims(tables))
    ordered = {
        name: assembly.order_rows(name, t) for name, t in tables.items() if name != "passages"
    }
    ordered["passages"] = assembly.order_rows("passages", passages, ordered["documents"])
    return ordered


def test_assembly_equals_the_whole_table_formulation(batch_dirs: list[Path]) -> None:
    assembled = assembly.assemble(batch_dirs)
    whole = _whole_tables(batch_dirs)
    assert list(assembled) == list(TABLES)
    for name in TABLES:
        assert assembled[name].equals(whole[name].select(TABLES[name].column_names)), name
    assert assembled["duplicates"].num_rows > 0  # the corpus has copies to find
    assert assembled["claims"].num_rows > 0


def test_written_tables_equal_the_assembled_ones(batch_dirs: list[Path], tmp_path: Path) -> None:
    described = assembly.write_tables(batch_dirs, tmp_path)
    assembled = assembly.assemble(batch_dirs)
    for name in TABLES:
        assert pq.read_table(tmp_path / f"{name}.parquet").equals(assembled[name]), name
        assert described[name]["rows"] == assembled[name].num_rows


def test_passages_follow_their_documents_then_ordinal(batch_dirs: list[Path]) -> None:
    tables = assembly.assemble(batch_dirs)
    position = {d: i for i, d in enumerate(tables["documents"].column("doc_id").to_pylist())}
    keys = [
        (position[d], n)
        for d, n in zip(
            tables["passages"].column("doc_id").to_pylist(),
            tables["passages"].column("ordinal").to_pylist(),
            strict=True,
        )
    ]
    assert keys == sorted(keys)


def test_batches_out_of_path_order_are_refused(batch_dirs: list[Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="consecutive runs of the sorted input paths"):
        assembly.write_tables([batch_dirs[1], batch_dirs[0], *batch_dirs[2:]], tmp_path)


def test_batch_texts_are_the_in_memory_texts(batch_dirs: list[Path]) -> None:
    documents = [pq.read_table(d / "documents.parquet", columns=["doc_id"]) for d in batch_dirs]
    ids = pa.concat_tables(documents).column("doc_id").to_pylist()
    passages = pa.concat_tables(
        [pq.read_table(d / "passages.parquet", schema=batch_schema("passages")) for d in batch_dirs]
    )
    in_memory = DocumentTexts(passages, ids)
    from_files = assembly.BatchTexts(batch_dirs, [t.num_rows for t in documents], ids)
    assert [from_files[i] for i in range(len(ids))] == [in_memory[i] for i in range(len(ids))]
    some = list(range(len(ids) - 1, 0, -3))
    assert dict(from_files.read(some)) == {i: in_memory[i] for i in some}


def test_kept_shingle_sets_are_those_of_the_texts(batch_dirs: list[Path]) -> None:
    documents = [pq.read_table(d / "documents.parquet", columns=["doc_id"]) for d in batch_dirs]
    ids = pa.concat_tables(documents).column("doc_id").to_pylist()
    counts = [t.num_rows for t in documents]
    texts = assembly.BatchTexts(batch_dirs, counts, ids)
    some = list(range(len(ids) - 1, 0, -2))
    kept = dict(assembly.BatchShingles(batch_dirs, counts, ids).read(some))
    assert sorted(kept) == sorted(some)
    for i, text in texts.read(some):
        assert kept[i].tolist() == shingle_set(text, MinHashParams().shingle).tolist()


def test_dedup_shingles_texts_where_a_batch_kept_no_sets(
    batch_dirs: list[Path], tmp_path: Path
) -> None:
    """A batch of an older layout (features without shingle sets) is read by its texts:
    the same duplicates."""
    older = []
    for n, batch in enumerate(batch_dirs):
        copy = shutil.copytree(batch, tmp_path / f"b{n}")
        if n % 2 == 0:
            path = copy / assembly.FEATURES_FILE
            pq.write_table(pq.read_table(path).drop_columns([SHINGLES]), path)
        older.append(copy)
    marks = assembly.find_duplicates(older)
    assert marks.duplicates.num_rows > 0
    assert marks.duplicates.equals(assembly.find_duplicates(batch_dirs).duplicates)


def test_an_isolated_assembly_stages_the_same_files(batch_dirs: list[Path], tmp_path: Path) -> None:
    from pipeline.stages import stage_assembled

    plan = make_plan(Settings(SEEDS, tmp_path / "out"))
    here = stage_assembled(plan, "v-here", batch_dirs)
    alone = stage_assembled(plan, "v-alone", batch_dirs, isolated=True)
    for name in TABLES:
        assert (here / f"{name}.parquet").read_bytes() == (alone / f"{name}.parquet").read_bytes()


def test_call_alone_runs_in_another_process() -> None:
    assert workers.call_alone(os.getpid) != os.getpid()


def test_call_alone_both_runs_each_in_a_process_of_its_own() -> None:
    first, second = workers.call_alone_both(os.getpid, os.getpid)
    assert len({first, second, os.getpid()}) == 3


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 40), max_size=8),
    group=st.integers(1, 16),
)
def test_a_table_written_in_pieces_is_the_same_file(
    tmp_path_factory: pytest.TempPathFactory, sizes: list[int], group: int
) -> None:
    # row groups of exactly ``group`` rows whatever the pieces: the bytes follow the rows
    folder = tmp_path_factory.mktemp("writer")
    rows = sum(sizes)
    table = pa.table({"n": pa.array(range(rows), pa.int64()), "s": [str(i) for i in range(rows)]})
    whole = TableWriter(folder / "whole.parquet", table.schema, group_rows=group)
    whole.write(table)
    described = whole.close()
    pieces = TableWriter(folder / "pieces.parquet", table.schema, group_rows=group)
    start = 0
    for size in sizes:
        pieces.write(table.slice(start, size))
        start += size
    assert pieces.close()["sha256"] == described["sha256"]
    metadata = pq.read_metadata(folder / "pieces.parquet")
    groups = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    assert all(n == group for n in groups[:-1]) and sum(groups) == rows
    assert pq.read_table(folder / "pieces.parquet").equals(table)


def test_only_large_runs_assemble_in_processes_of_their_own(tmp_path: Path) -> None:
    import dataclasses

    from pipeline.stages import ISOLATED_ASSEMBLY_FROM, Inputs, assembly_isolated

    plan = make_plan(Settings(SEEDS, tmp_path / "out"))
    assert not assembly_isolated(plan)  # five documents: spawning would cost more
    many = Inputs([plan.inputs[0]] * ISOLATED_ASSEMBLY_FROM)
    assert assembly_isolated(dataclasses.replace(plan, inputs=many))
