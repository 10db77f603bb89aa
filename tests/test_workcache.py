"""The work folder's batch results: recorded by a run, the unused ones removed by gc."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline import overlay
from pipeline.cli import EXIT_OK, main
from pipeline.publish.recovery import recover
from pipeline.workcache import (
    BATCHES,
    LINE_KEYS,
    SLOTS,
    kept_folders,
    plan_work_gc,
    record_live,
    remove_work,
)
from tests.conftest import SEEDS
from tests.reliability_support import run_in_process


def batch(work: Path, name: str, over: str | None = None, size: int = 10) -> Path:
    """A complete batch folder (a file of ``size`` bytes), written over ``over`` if given."""
    folder = work / BATCHES / name
    folder.mkdir(parents=True)
    (folder / "documents.parquet").write_bytes(b"x" * size)
    if over is not None:
        overlay.write_base(folder, work / BATCHES / over, {"documents.parquet": [(0, 1)]})
    (folder / overlay.SUCCESS).write_text(f"token-{name}", encoding="utf-8")
    return folder


def anchor_files(work: Path, anchor: str) -> list[Path]:
    """A slot and a line-key file for ``anchor``."""
    (work / SLOTS).mkdir(parents=True, exist_ok=True)
    (work / LINE_KEYS).mkdir(parents=True, exist_ok=True)
    slot, keys = work / SLOTS / anchor, work / LINE_KEYS / f"{anchor}.parquet"
    slot.write_text("some-batch\n", encoding="utf-8")
    keys.write_bytes(b"k")
    return [slot, keys]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """Batches: old (unused), base <- middle <- live (a chain), other (unused, over old)."""
    work = tmp_path / ".work"
    batch(work, "old", size=100)
    batch(work, "base")
    batch(work, "middle", over="base")
    batch(work, "live", over="middle")
    batch(work, "other", over="old", size=1000)
    anchor_files(work, "a-live")
    anchor_files(work, "a-old")
    record_live(work, [work / BATCHES / "live"], ["a-live"])
    return work


def test_the_recorded_batches_and_their_bases_are_kept(work: Path) -> None:
    assert kept_folders(work / BATCHES, ["live"]) == {"live", "middle", "base"}
    plan = plan_work_gc(work)
    assert plan.recorded
    assert [p.name for p in plan.batches] == ["old", "other"]
    assert sorted(p.name for p in plan.files) == ["a-old", "a-old.parquet"]
    assert plan.bytes > 1100  # the two folders' files (and tokens) and the two files


def test_removal_leaves_the_kept_work_whole(work: Path) -> None:
    remove_work(plan_work_gc(work))
    assert sorted(p.name for p in (work / BATCHES).iterdir()) == ["base", "live", "middle"]
    assert overlay.complete(work / BATCHES / "live")
    assert [p.name for p in (work / SLOTS).iterdir()] == ["a-live"]
    assert [p.name for p in (work / LINE_KEYS).iterdir()] == ["a-live.parquet"]
    assert plan_work_gc(work).batches == ()


def test_an_unreadable_base_record_keeps_the_batch_itself(work: Path) -> None:
    (work / BATCHES / "middle" / overlay.BASE_FILE).write_text("{not json", encoding="utf-8")
    assert kept_folders(work / BATCHES, ["live"]) == {"live", "middle"}


def test_nothing_is_removed_without_a_record(work: Path) -> None:
    (work / "live.json").unlink()
    plan = plan_work_gc(work)
    assert not plan.recorded and plan.batches == () and plan.files == ()


def test_a_killed_removal_leaves_only_what_the_next_run_cleans_up(work: Path) -> None:
    # gc renames a folder before deleting it: killed in between, it leaves <name>.tmp
    (work / BATCHES / "old").rename(work / BATCHES / "old.tmp")
    assert [p.name for p in plan_work_gc(work).batches] == ["other"]
    recover(work.parent)
    assert not (work / BATCHES / "old.tmp").exists()


def test_gc_removes_the_work_of_replaced_files_and_reruns_still_reuse_theirs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, output = tmp_path / "in", tmp_path / "out"
    shutil.copytree(SEEDS, inputs)
    assert run_in_process(inputs, output) == EXIT_OK
    first = {p.name for p in (output / ".work" / BATCHES).iterdir()}
    # most files replaced: the new batch copies the rows it keeps, the old one is unused
    for path in sorted(inputs.iterdir())[:4]:
        path.write_text(f"On 9 May 2024 the agency gave ${len(path.name)} million.\n")
    assert run_in_process(inputs, output) == EXIT_OK
    capsys.readouterr()

    assert main(["gc", "--keep", "5", "--dry-run", "--output", str(output)]) == EXIT_OK
    assert f"would remove {len(first)} batch folder(s)" in capsys.readouterr().out
    assert main(["gc", "--keep", "5", "--output", str(output)]) == EXIT_OK
    left = {p.name for p in (output / ".work" / BATCHES).iterdir()}
    assert left and not left & first

    assert run_in_process(inputs, output) == EXIT_OK
    assert "up to date" in capsys.readouterr().out
    (inputs / "added.txt").write_text("In 2025 the ministry pledged $3 million.\n")
    assert run_in_process(inputs, output) == EXIT_OK
    assert "published" in capsys.readouterr().out
