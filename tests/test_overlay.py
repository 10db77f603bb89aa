"""A rerun's batch is written over the previous one (only its new rows), and reads give the
rows a copying batch held; past the overlay's limits the kept rows are copied."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import assembly, overlay
from tests.test_incremental import _counted_build, _rows, _side_rows


def _inputs(seeds_dir: Path, tmp_path: Path) -> tuple[Path, list[Path]]:
    inputs = tmp_path / "in"
    shutil.copytree(seeds_dir, inputs)
    (inputs / "empty.txt").write_text("")  # a quarantined file, kept too
    texts = sorted(p for p in inputs.iterdir() if p.suffix in {".md", ".txt"} and p.stat().st_size)
    return inputs, texts


def _change(path: Path, n: int) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\nIt added ${n} million in 2024.\n")


def _own_paths(batch: Path) -> list[str]:
    return pq.read_table(batch / "documents.parquet", columns=["source_path"])[
        "source_path"
    ].to_pylist()


def test_a_rerun_writes_only_the_changed_rows_over_the_previous_batch(
    seeds_dir: Path, tmp_path: Path
) -> None:
    inputs, texts = _inputs(seeds_dir, tmp_path)
    first, _ = _counted_build(inputs, tmp_path / "out")
    _change(texts[0], 7)
    second, _ = _counted_build(inputs, tmp_path / "out")
    base = overlay.base_of(second)
    assert base is not None and base.folder == first and base.depth == 1
    assert _own_paths(second) == [texts[0].name]  # the others stay in the first folder
    passages = assembly.read_batch(second, "passages")
    assert {column.num_chunks for column in passages.columns} == {1}  # as a copy reads
    scratch, _ = _counted_build(inputs, tmp_path / "scratch")
    assert overlay.base_of(scratch) is None
    assert _rows(second) == _rows(scratch)
    assert _side_rows(second) == _side_rows(scratch)


def test_reruns_past_the_depth_limit_copy_their_kept_rows(
    seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(overlay, "MAX_DEPTH", 2)
    inputs, texts = _inputs(seeds_dir, tmp_path)
    _counted_build(inputs, tmp_path / "out")
    depths = []
    for n in range(4):
        _change(texts[n % len(texts)], n + 10)
        batch, read = _counted_build(inputs, tmp_path / "out")
        assert read == [texts[n % len(texts)].name]
        depths.append(overlay.depth_of(batch))
        scratch, _ = _counted_build(inputs, tmp_path / f"scratch{n}")
        assert _rows(batch) == _rows(scratch)
        assert _side_rows(batch) == _side_rows(scratch)
    assert depths == [1, 2, 0, 1]


def test_a_rerun_keeping_few_rows_copies_them(seeds_dir: Path, tmp_path: Path) -> None:
    inputs, texts = _inputs(seeds_dir, tmp_path)
    _counted_build(inputs, tmp_path / "out")
    for n, path in enumerate(texts[: len(texts) // 2 + 1]):
        _change(path, n + 20)
    batch, _ = _counted_build(inputs, tmp_path / "out")
    assert overlay.base_of(batch) is None
    assert _rows(batch) == _rows(_counted_build(inputs, tmp_path / "scratch")[0])


def test_a_batch_whose_base_was_deleted_is_built_again(seeds_dir: Path, tmp_path: Path) -> None:
    inputs, texts = _inputs(seeds_dir, tmp_path)
    first, _ = _counted_build(inputs, tmp_path / "out")
    _change(texts[0], 7)
    second, _ = _counted_build(inputs, tmp_path / "out")
    assert overlay.base_of(second) is not None
    shutil.rmtree(first)  # by hand: the rows second keeps are gone
    again, read = _counted_build(inputs, tmp_path / "out")
    assert again == second and sorted(read) == sorted(p.name for p in inputs.iterdir())
    assert overlay.base_of(again) is None
    assert _rows(again) == _rows(_counted_build(inputs, tmp_path / "scratch")[0])


def test_a_batch_with_a_damaged_base_record_is_built_again(seeds_dir: Path, tmp_path: Path) -> None:
    inputs, texts = _inputs(seeds_dir, tmp_path)
    _counted_build(inputs, tmp_path / "out")
    _change(texts[0], 7)
    second, _ = _counted_build(inputs, tmp_path / "out")
    (second / overlay.BASE_FILE).write_text('{"folder": ', encoding="utf-8")
    assert not overlay.complete(second)
    again, read = _counted_build(inputs, tmp_path / "out")
    assert again == second and read
    assert _rows(again) == _rows(_counted_build(inputs, tmp_path / "scratch")[0])


def test_a_batch_over_a_base_built_again_is_built_again(
    seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A base deleted by hand and built again may hold its rows in another order (here: a
    copy held its changed file's rows last, a fresh build holds them in path order), so
    the batches over the old build must not read the new one by their row runs."""
    inputs, texts = _inputs(seeds_dir, tmp_path)
    original = texts[1].read_text(encoding="utf-8")
    _counted_build(inputs, tmp_path / "out")
    _change(texts[0], 7)
    with monkeypatch.context() as patch:
        patch.setattr(overlay, "MIN_KEPT_SHARE", 2.0)  # copy: texts[0]'s rows last
        base, _ = _counted_build(inputs, tmp_path / "out")
    assert overlay.base_of(base) is None
    _change(texts[1], 8)
    over, _ = _counted_build(inputs, tmp_path / "out")
    assert overlay.base_of(over) is not None and overlay.base_of(over).folder == base
    shutil.rmtree(base)
    texts[1].write_text(original, encoding="utf-8")
    again, _ = _counted_build(inputs, tmp_path / "out")  # base's content: a fresh build
    assert again == base and overlay.base_of(again) is None
    _change(texts[1], 8)
    batch, read = _counted_build(inputs, tmp_path / "out")
    assert batch == over and read  # built again, not taken as complete
    assert _rows(batch) == _rows(_counted_build(inputs, tmp_path / "scratch")[0])


@given(st.lists(st.booleans(), max_size=60))
def test_runs_take_the_rows_of_the_mask(mask: list[bool]) -> None:
    runs = overlay.runs_of(np.array(mask, dtype=bool))
    assert all(a < b for a, b in runs)
    assert all(b < c for (_a, b), (c, _d) in itertools.pairwise(runs))
    table = pa.table({"n": list(range(len(mask)))})
    assert overlay.take_runs(table, runs)["n"].to_pylist() == [
        n for n, keep in enumerate(mask) if keep
    ]
