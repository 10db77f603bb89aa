"""Batches reuse the rows of unchanged files, and the pool runs batch bodies elsewhere."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from pipeline import assembly, overlay, stages, workers
from pipeline.build import BATCH_TABLES
from pipeline.document import Document, Rejection
from pipeline.ingest.readers import InputFile
from pipeline.plan import make_plan
from pipeline.settings import Settings


def _plan(input_dir: Path, output_dir: Path) -> stages.RunPlan:
    return make_plan(Settings(input_dir=input_dir, output_dir=output_dir, batch_size=100))


def _rows(folder: Path) -> dict[str, list[dict[str, object]]]:
    out = {}
    for name in BATCH_TABLES:
        table: pa.Table = assembly.read_batch(folder, name)
        out[name] = sorted(table.to_pylist(), key=repr)
    return out


def _build(
    input_dir: Path, output_dir: Path, repeated: tuple[str, ...] = ()
) -> tuple[Path, Path | None]:
    plan = _plan(input_dir, output_dir)
    (paths,) = plan.batches()
    previous = stages._previous_batch(stages.slot_file(plan, paths, list(repeated)))
    return stages.process_batch(plan, paths, list(repeated)), previous


def test_a_changed_file_is_rebuilt_and_the_others_reused(seeds_dir: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    shutil.copytree(seeds_dir, inputs)
    (inputs / "empty.txt").write_text("")  # quarantined rows are reused too
    first, previous = _build(inputs, tmp_path / "out")
    assert previous is None
    changed = sorted(
        p for p in inputs.iterdir() if p.suffix in {".md", ".txt"} and p.stat().st_size
    )[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nIt added $7 million in 2024.\n")
    second, previous = _build(inputs, tmp_path / "out")
    assert previous == first and second != first
    # the same rows as a build from scratch in an empty output folder
    scratch, _ = _build(inputs, tmp_path / "scratch")
    assert _rows(second) == _rows(scratch)
    assert _rows(second) != _rows(first)
    money = assembly.read_batch(second, "money").to_pylist()
    assert any(r["quote"] == "$7 million" for r in money)


def test_batches_built_in_worker_processes_equal_in_process_ones(
    seeds_dir: Path, tmp_path: Path
) -> None:
    here, _ = _build(seeds_dir, tmp_path / "here")
    with workers.pool(2):
        there, _ = _build(seeds_dir, tmp_path / "there")
    assert _rows(here) == _rows(there)


def test_call_runs_in_a_worker_process_only_inside_the_pool() -> None:
    import os

    assert workers.call(os.getpid) == os.getpid()
    with workers.pool(2):
        assert workers.call(os.getpid) != os.getpid()
    assert workers.call(os.getpid) == os.getpid()


def _with_new_chrome_line(seeds_dir: Path, tmp_path: Path) -> tuple[Path, Path, tuple[str]]:
    """Seeds with a line added to one document, and that line as the corpus's chrome."""
    from pipeline.clean.boilerplate import line_key

    inputs = tmp_path / "in"
    shutil.copytree(seeds_dir, inputs)
    target = sorted(inputs.iterdir())[0]
    target.write_text(target.read_text(encoding="utf-8") + "\nHarbour office bulletin\n")
    return inputs, target, (line_key("Harbour office bulletin"),)


def test_a_new_chrome_line_rebuilds_only_the_documents_that_hold_it(
    seeds_dir: Path, tmp_path: Path
) -> None:
    inputs, _target, chrome = _with_new_chrome_line(seeds_dir, tmp_path)
    first, _ = _build(inputs, tmp_path / "out")
    before = assembly.read_batch(first, "passages").to_pylist()
    assert any("Harbour office bulletin" in p["text"] for p in before)
    second, previous = _build(inputs, tmp_path / "out", chrome)
    assert previous == first
    scratch, _ = _build(inputs, tmp_path / "scratch", chrome)
    assert _rows(second) == _rows(scratch)
    # the line is chrome now: it is no longer in the document's passages
    passages = assembly.read_batch(second, "passages").to_pylist()
    assert not any("Harbour office bulletin" in p["text"] for p in passages)


def test_line_counts_reread_only_changed_files(
    seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = tmp_path / "in"
    shutil.copytree(seeds_dir, inputs)
    plan = _plan(inputs, tmp_path / "out")
    (paths,) = plan.batches()
    first = stages.count_short_lines(plan, paths)
    changed = sorted(p for p in inputs.iterdir() if p.suffix in {".md", ".txt"})[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nShare this page\n")
    read: list[str] = []
    real = stages.read_inputs

    def recording(items: list[InputFile], max_bytes: int) -> Iterator[Document | Rejection]:
        read.extend(item.path for item in items)
        return real(items, max_bytes)

    monkeypatch.setattr(stages, "read_inputs", recording)
    plan = _plan(inputs, tmp_path / "out")
    second = stages.count_short_lines(plan, paths)
    assert read == [changed.name]
    fresh = stages.count_short_lines(_plan(inputs, tmp_path / "fresh"), paths)
    assert second == fresh != first


def _side_rows(folder: Path) -> dict[str, list[dict[str, object]]]:
    names = ("fact_terms.parquet", "dedup_features.parquet", "chrome_signatures.parquet")
    return {name: sorted(overlay.read_file(folder, name).to_pylist(), key=repr) for name in names}


def _counted_build(
    input_dir: Path, output_dir: Path, repeated: tuple[str, ...] = ()
) -> tuple[Path, list[str]]:
    """A batch built as the flow builds it (line counts first); the files it read."""
    plan = _plan(input_dir, output_dir)
    (paths,) = plan.batches()
    stages.count_short_lines(plan, paths)
    read: list[str] = []
    real = stages.read_inputs

    def recording(items: list[InputFile], max_bytes: int) -> Iterator[Document | Rejection]:
        read.extend(item.path for item in items)
        return real(items, max_bytes)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stages, "read_inputs", recording)
        return stages.process_batch(plan, paths, list(repeated)), read


def test_a_rerun_reads_only_changed_files_and_keeps_their_side_rows(
    seeds_dir: Path, tmp_path: Path
) -> None:
    inputs = tmp_path / "in"
    shutil.copytree(seeds_dir, inputs)
    (inputs / "empty.txt").write_text("")
    _first, read = _counted_build(inputs, tmp_path / "out")
    assert len(read) == len(list(inputs.iterdir()))
    changed = sorted(p for p in inputs.iterdir() if p.suffix == ".txt" and p.stat().st_size)[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nIt added $7 million in 2024.\n")
    second, read = _counted_build(inputs, tmp_path / "out")
    assert read == [changed.name]
    scratch, _ = _counted_build(inputs, tmp_path / "scratch")
    assert _rows(second) == _rows(scratch)
    assert _side_rows(second) == _side_rows(scratch)


def test_a_new_chrome_line_rereads_only_the_documents_that_hold_it(
    seeds_dir: Path, tmp_path: Path
) -> None:
    inputs, target, chrome = _with_new_chrome_line(seeds_dir, tmp_path)
    _counted_build(inputs, tmp_path / "out")
    second, read = _counted_build(inputs, tmp_path / "out", chrome)
    assert read == [target.name]
    scratch, _ = _counted_build(inputs, tmp_path / "scratch", chrome)
    assert _rows(second) == _rows(scratch)
    assert _side_rows(second) == _side_rows(scratch)


def test_files_added_to_or_removed_from_a_batch_leave_the_others_reused(
    seeds_dir: Path, tmp_path: Path
) -> None:
    # The batch keeps its first path, which is what its previous version is found by.
    inputs = tmp_path / "in"
    shutil.copytree(seeds_dir, inputs)
    _counted_build(inputs, tmp_path / "out")
    (inputs / "zz-added.txt").write_text("Joint Statement\n\nThe fund adds $3 million in 2025.\n")
    added, read = _counted_build(inputs, tmp_path / "out")
    assert read == ["zz-added.txt"]
    assert _rows(added) == _rows(_counted_build(inputs, tmp_path / "scratch-added")[0])
    removed = sorted(p for p in inputs.iterdir() if p.suffix in {".md", ".txt"})[1]
    removed.unlink()
    second, read = _counted_build(inputs, tmp_path / "out")
    assert read == []
    scratch, _ = _counted_build(inputs, tmp_path / "scratch-removed")
    assert _rows(second) == _rows(scratch)
    assert _side_rows(second) == _side_rows(scratch)
    assert not any(r["source_path"] == removed.name for r in _rows(second)["documents"])
