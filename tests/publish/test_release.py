"""Stage → validate → publish without Prefect: the gate and the folder layout."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pipeline import stages
from pipeline.plan import make_plan
from pipeline.publish.docs import write_release_docs
from pipeline.publish.release import (
    LATEST,
    RELEASES,
    FolderTables,
    keep_failed,
    latest_version,
    list_releases,
    new_version,
    sha256_file,
    table_columns,
    up_to_date,
)
from pipeline.schemas import TABLES
from pipeline.settings import Settings
from pipeline.stages import (
    RunPlan,
    assemble,
    count_short_lines,
    finish_release,
    process_batch,
    repeated_from_counts,
    stage_assembled,
    stage_release,
    validate_and_describe,
    validate_staged,
)

DOC = (
    "Joint Statement\n\nOn May 9, 2024, the United States announced $65 million in "
    "assistance and the transfer of nine helicopters to Peru.\n"
)


def _plan(tmp_path: Path) -> RunPlan:
    inputs = tmp_path / "in"
    inputs.mkdir(exist_ok=True)
    (inputs / "a.txt").write_text(DOC)
    (inputs / "empty.txt").write_text("")
    return make_plan(Settings(inputs, tmp_path / "out"))


def _batch_dirs(plan: RunPlan) -> list[Path]:
    batches = plan.batches()
    repeated = repeated_from_counts([count_short_lines(plan, b) for b in batches])
    return [process_batch(plan, b, repeated) for b in batches]


def _stage(plan: RunPlan) -> tuple[str, Path]:
    dirs = _batch_dirs(plan)
    version = new_version(plan.output_dir, dt.datetime.now(dt.UTC), plan.run_fingerprint)
    return version, stage_release(plan, version, assemble(dirs))


def test_staging_from_batches_writes_the_assembled_tables(tmp_path: Path) -> None:
    # What the flow runs (tables sorted and written one at a time) stages the very
    # files that assembling everything first and then writing does.
    plan = make_plan(Settings(Path("seeds").resolve(), tmp_path / "out", batch_size=2))
    dirs = _batch_dirs(plan)
    streamed = stage_assembled(plan, "v-streamed", dirs)
    whole = stage_release(plan, "v-whole", assemble(dirs))
    streamed_manifest = json.loads((streamed / "manifest.json").read_text())
    whole_manifest = json.loads((whole / "manifest.json").read_text())
    assert streamed_manifest["tables"] == whole_manifest["tables"]  # rows, bytes, sha256
    assert pq.read_table(streamed / "money.parquet").num_rows > 0


def test_validated_release_is_published_with_checksums_and_latest(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    version, staged = _stage(plan)
    report = validate_staged(plan, staged)
    assert report.success, report.describe_failures()
    release = finish_release(plan, staged, report)
    assert release == plan.output_dir / RELEASES / version
    assert latest_version(plan.output_dir) == version
    manifest = json.loads((release / "manifest.json").read_text())
    assert set(manifest["tables"]) == set(TABLES)
    for info in manifest["tables"].values():
        assert sha256_file(release / info["path"]) == info["sha256"]
    for name in ("CHANGELOG.md", "README.md", "datapackage.json", "validation/results.json"):
        assert (release / name).is_file()
    summary = (release / "validation" / "index.html").read_text()
    assert "Validation passed" in summary and "data_docs/validations/money/" in summary
    assert manifest["validation"]["money"]["success"] is True
    quarantine = pq.read_table(release / "quarantine.parquet").to_pylist()
    assert [(q["source_path"], q["reason"]) for q in quarantine] == [("empty.txt", "empty")]
    assert up_to_date(plan.output_dir, plan.run_fingerprint) == version
    assert [r["version"] for r in list_releases(plan.output_dir)] == [version]


def test_failed_validation_publishes_nothing_and_keeps_report(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    version, staged = _stage(plan)
    money = pq.read_table(staged / "money.parquet")
    shifted = money.set_column(
        money.schema.get_field_index("char_start"), "char_start", pc.add(money["char_start"], 3)
    )
    pq.write_table(shifted, staged / "money.parquet")
    report = validate_staged(plan, staged)
    assert not report.success
    assert "money" in report.describe_failures()
    failed = keep_failed(plan.output_dir, staged, version)
    assert (failed / "validation" / "results.json").is_file()
    summary = (failed / "validation" / "index.html").read_text()
    assert "Validation FAILED" in summary and "_quote_matches_source" in summary
    assert not (plan.output_dir / LATEST).exists()
    assert not (plan.output_dir / RELEASES).exists()


def test_batch_work_is_reused_when_inputs_and_code_are_unchanged(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    [paths] = plan.batches()
    first = process_batch(plan, paths, [])
    stamp = (first / "documents.parquet").stat().st_mtime_ns
    assert process_batch(plan, paths, []) == first
    assert (first / "documents.parquet").stat().st_mtime_ns == stamp
    (tmp_path / "in" / "a.txt").write_text(DOC + "\nMore text about $1 million.\n")
    changed = make_plan(Settings(tmp_path / "in", tmp_path / "out"))
    assert process_batch(changed, paths, []) != first


@pytest.mark.parametrize("count", [1, 3])
def test_versions_are_unique_and_sortable(tmp_path: Path, count: int) -> None:
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    names = []
    for _ in range(count):
        name = new_version(tmp_path, now, "abcdef0123")
        (tmp_path / RELEASES / name).mkdir(parents=True)
        names.append(name)
    assert names[0] == "20260102T030405Z-abcdef01"
    assert len(set(names)) == count and sorted(names) == names


def test_folder_tables_read_each_table_when_asked_and_keep_none(tmp_path: Path) -> None:
    pq.write_table(pa.table({"x": [1]}), tmp_path / "a.parquet")
    tables = FolderTables(tmp_path, ["a", "b"])
    assert list(tables) == ["a", "b"] and len(tables) == 2 and "b" in tables
    assert tables["a"].column("x").to_pylist() == [1]
    pq.write_table(pa.table({"x": [2]}), tmp_path / "a.parquet")
    assert tables["a"].column("x").to_pylist() == [2]  # read again, not kept
    assert tables.get("c") is None and "c" not in tables
    with pytest.raises(FileNotFoundError):
        tables["b"]  # a named table that is missing is an error, not an empty table


def test_table_columns_read_only_the_wanted_columns_of_a_folder(tmp_path: Path) -> None:
    table = pa.table({"x": [1, 2], "big": ["a" * 100, "b" * 100]})
    pq.write_table(table, tmp_path / "a.parquet")
    in_folder = table_columns(FolderTables(tmp_path, ["a"]), "a", ["x", "missing"])
    in_memory = table_columns({"a": table}, "a", ["x", "missing"])
    assert in_folder is not None and in_folder.column_names == ["x"]
    assert in_memory is not None and in_memory.equals(in_folder)
    assert table_columns(FolderTables(tmp_path, ["a"]), "b", ["x"]) is None
    assert table_columns({"a": table}, "b", ["x"]) is None


DESCRIPTIONS = ("CHANGELOG.md", "README.md", "datapackage.json", "report.html")


def test_describing_beside_validation_writes_what_describing_after_it_writes(
    tmp_path: Path,
) -> None:
    # A second release (so the changelog diffs a parent), described in a process of its
    # own while it is validated, then the same release described the plain way.
    plan = _plan(tmp_path)
    _version, staged = _stage(plan)
    parent = finish_release(plan, staged, validate_staged(plan, staged))
    (plan.input_dir / "a.txt").write_text(DOC.replace("$65 million", "$70 million"))
    plan = make_plan(Settings(plan.input_dir, plan.output_dir))
    _version, staged = _stage(plan)
    report, draft = validate_and_describe(plan, staged, beside=True)
    assert report.success and draft is not None
    release = finish_release(plan, staged, report, draft)
    again = tmp_path / "again"
    shutil.copytree(release, again)
    for name in DESCRIPTIONS:
        (again / name).unlink()
    manifest = json.loads((release / "manifest.json").read_text())
    write_release_docs(again, manifest, parent, FolderTables(again, list(TABLES)))
    for name in DESCRIPTIONS:
        assert (again / name).read_bytes() == (release / name).read_bytes(), name
    assert "Validation <span class=ok>passed</span>" in (release / "report.html").read_text()
    changelog = (release / "CHANGELOG.md").read_text()
    assert "Inputs: 1 changed" in changelog and "`$70 million`" in changelog


def test_a_description_failing_beside_validation_is_made_again_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    plan = _plan(tmp_path)
    _version, staged = _stage(plan)

    def lost(*args: object, **kwargs: object) -> None:
        raise OSError("the describing process was killed")

    monkeypatch.setattr(stages.workers, "call_alone", lost)
    with caplog.at_level(logging.WARNING, logger="pipeline.stages"):
        report, draft = validate_and_describe(plan, staged, beside=True)
    assert report.success and draft is None
    assert "the describing process was killed" in caplog.text
    release = finish_release(plan, staged, report, draft)
    for name in DESCRIPTIONS:
        assert (release / name).is_file(), name
