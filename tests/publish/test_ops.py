"""pipeline verify | rollback | gc on an output folder with several releases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.cli import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_USAGE, main
from pipeline.publish.lock import output_lock
from pipeline.publish.ops import plan_gc, verify_release
from pipeline.publish.release import FAILED, LATEST, MANIFEST, RELEASES, read_manifest
from tests.conftest import SEEDS
from tests.reliability_support import run_in_process


def _latest(output: Path) -> str:
    return (output / LATEST).read_text().strip()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """An output folder with four releases (each run adds a document) and two failed runs,
    and the versions in the order they were made (several may share one second)."""
    root = tmp_path_factory.mktemp("history")
    shutil.copytree(SEEDS, root / "in")
    made = []
    for n in range(4):
        (root / "in" / f"new{n}.txt").write_text(f"In 2024 the agency gave ${n + 1} million.\n")
        assert run_in_process(root / "in", root / "out") == EXIT_OK
        made.append(_latest(root / "out"))
    for name in ("20200101T000000Z-aaaaaaaa", "20200102T000000Z-bbbbbbbb"):
        (root / "out" / FAILED / name).mkdir(parents=True)
    return root / "out", made


@pytest.fixture
def output(history: tuple[Path, list[str]], tmp_path: Path) -> Path:
    shutil.copytree(history[0], tmp_path / "out")  # copy2: modification times kept
    return tmp_path / "out"


@pytest.fixture
def versions(history: tuple[Path, list[str]]) -> list[str]:
    return list(history[1])


def _versions(output: Path) -> list[str]:
    return sorted(p.name for p in (output / RELEASES).iterdir())


def test_verify_by_name_and_by_path(output: Path, capsys: pytest.CaptureFixture[str]) -> None:
    version = _latest(output)
    assert main(["verify", version, "--output", str(output)]) == EXIT_OK
    assert main(["verify", str(output / RELEASES / version)]) == EXIT_OK
    assert "every table matches" in capsys.readouterr().out
    assert main(["verify", "nope", "--output", str(output)]) == EXIT_USAGE
    assert "no such release" in capsys.readouterr().err


def test_verify_names_every_mismatch(output: Path, capsys: pytest.CaptureFixture[str]) -> None:
    release = output / RELEASES / _latest(output)
    with (release / "money.parquet").open("ab") as handle:
        handle.write(b"\0")
    manifest = read_manifest(release)
    manifest["tables"]["dates"]["rows"] += 1
    (release / MANIFEST).write_text(json.dumps(manifest))
    (release / "quarantine.parquet").unlink()
    assert main(["verify", str(release)]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "money: money.parquet sha256" in err and "does not match the manifest's" in err
    assert "money: money.parquet has" in err  # bytes
    assert "dates: dates.parquet has" in err and "rows, the manifest says" in err
    assert "quarantine: quarantine.parquet is missing" in err
    assert "datapackage.json: dates" not in err  # only the row count was changed
    assert "money: money.parquet is not readable Parquet" in err
    assert len(verify_release(release)) == 5


def test_rollback_moves_latest_and_refuses_unknown_or_damaged(
    output: Path, versions: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _latest(output) == versions[-1]
    assert main(["rollback", versions[1], "--output", str(output)]) == EXIT_OK
    assert _latest(output) == versions[1]
    assert f"LATEST: {versions[-1]} -> {versions[1]}" in capsys.readouterr().out
    assert not list(output.glob(f".{LATEST}.*.tmp"))

    assert main(["rollback", "20990101T000000Z-nope", "--output", str(output)]) == EXIT_USAGE
    assert "no published release of that name" in capsys.readouterr().err
    assert main(["rollback", "../" + versions[0], "--output", str(output)]) == EXIT_USAGE
    with (output / RELEASES / versions[0] / "documents.parquet").open("ab") as handle:
        handle.write(b"\0")
    assert main(["rollback", versions[0], "--output", str(output)]) == EXIT_FAILED
    assert "incomplete or damaged" in capsys.readouterr().err
    assert _latest(output) == versions[1]

    assert main(["rollback", versions[-1], "--output", str(output)]) == EXIT_OK  # undo
    assert _latest(output) == versions[-1]
    assert main(["rollback", versions[-1], "--output", str(output)]) == EXIT_OK
    assert "already names" in capsys.readouterr().out


def test_run_after_rollback_builds_on_the_rolled_back_release(
    output: Path, versions: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rollback", versions[0], "--output", str(output)]) == EXIT_OK
    inputs = tmp_path / "in"
    shutil.copytree(SEEDS, inputs)
    for n in range(4):
        (inputs / f"new{n}.txt").write_text(f"In 2024 the agency gave ${n + 1} million.\n")
    assert run_in_process(inputs, output) == EXIT_OK  # LATEST is older than the inputs
    new = _latest(output)
    assert new not in versions
    assert read_manifest(output / RELEASES / new)["parent_version"] == versions[0]


def test_gc_keeps_newest_latest_and_its_parent(
    output: Path, versions: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rollback", versions[1], "--output", str(output)]) == EXIT_OK
    capsys.readouterr()
    assert main(["gc", "--keep", "1", "--dry-run", "--output", str(output)]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"would remove releases/{versions[2]}" in out
    assert "would remove failed/20200101T000000Z-aaaaaaaa" in out
    assert f"kept releases/{versions[0]} (parent of LATEST)" in out
    assert _versions(output) == sorted(versions)  # a dry run removes nothing

    assert main(["gc", "--keep", "1", "--output", str(output)]) == EXIT_OK
    assert _versions(output) == sorted([versions[0], versions[1], versions[3]])
    assert [p.name for p in (output / FAILED).iterdir()] == ["20200102T000000Z-bbbbbbbb"]
    assert _latest(output) == versions[1]
    assert not (output / ".trash").exists()
    for version in _versions(output):
        assert verify_release(output / RELEASES / version) == []

    assert main(["gc", "--keep", "0", "--output", str(output)]) == EXIT_OK
    assert _versions(output) == sorted(versions[:2])  # LATEST and its parent
    assert not any((output / FAILED).iterdir())
    assert main(["gc", "--keep", "-1", "--output", str(output)]) == EXIT_USAGE


def test_gc_plan_without_latest(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / RELEASES / name).mkdir(parents=True)
    plan = plan_gc(tmp_path, 2)
    assert plan.keep == ["c", "b"] and plan.remove == ["a"] and plan.protected == {}


def test_gc_and_rollback_wait_for_a_running_run(
    output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with output_lock(output, 0, "pipeline run"):
        assert main(["gc", "--keep", "0", "--output", str(output), "--lock-timeout", "0"]) == (
            EXIT_LOCKED
        )
        version = _versions(output)[0]
        assert (
            main(["rollback", version, "--output", str(output), "--lock-timeout", "0"])
            == EXIT_LOCKED
        )
    assert "locked by another run" in capsys.readouterr().err
    assert len(_versions(output)) == 4
