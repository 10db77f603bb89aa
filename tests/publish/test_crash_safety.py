"""kill -9 at any moment of a run: LATEST names a complete release, nothing half-published
under releases/, and the next run succeeds and cleans up. Subprocesses run the real CLI with
a Prefect-free flow (tests/reliability_support.py); tests/e2e kills the real flow."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.faults import CRASH_ENV, POINTS
from pipeline.publish.ops import verify_release
from pipeline.publish.release import LATEST, MANIFEST, RELEASES, STAGING
from tests.conftest import PROJECT_ROOT, SEEDS
from tests.reliability_support import run_in_process

pytestmark = pytest.mark.slow


def _command(inputs: Path, output: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tests.reliability_support",
        "run",
        "--input",
        str(inputs),
        "--output",
        str(output),
        "--lock-timeout",
        "30",
    ]


def run_fast(inputs: Path, output: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(inputs, output),
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def latest(output: Path) -> str | None:
    path = output / LATEST
    return path.read_text().strip() if path.exists() else None


def assert_consistent(output: Path) -> None:
    """The invariants that must hold at every instant, whatever was killed when."""
    releases = output / RELEASES
    for release in releases.iterdir() if releases.exists() else []:
        assert release.is_dir() and (release / MANIFEST).is_file(), f"incomplete {release}"
        assert verify_release(release) == [], release
    name = latest(output)
    if name is not None:
        assert (releases / name / MANIFEST).is_file(), f"LATEST names missing {name}"


def assert_clean(output: Path) -> None:
    """What the start-of-run cleanup leaves: no staging, no temporary files."""
    for folder in (output / STAGING, output / ".trash"):
        assert not folder.exists() or not any(folder.iterdir()), folder
    assert not list(output.glob(f".{LATEST}.*.tmp"))
    assert not list((output / ".work").glob("*/*.tmp"))


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """Inputs and an output folder holding one published release of them."""
    root = tmp_path_factory.mktemp("baseline")
    shutil.copytree(SEEDS, root / "in")
    assert run_in_process(root / "in", root / "out") == 0
    version = latest(root / "out")
    assert version is not None
    return root / "in", root / "out", version


def _copy(baseline: tuple[Path, Path, str], tmp_path: Path) -> tuple[Path, Path, str]:
    inputs, output, version = baseline
    shutil.copytree(inputs, tmp_path / "in")
    shutil.copytree(output, tmp_path / "out")
    with (tmp_path / "in" / "new.txt").open("w") as handle:
        handle.write("On May 9, 2024, the United States announced $7 million for schools.\n")
    return tmp_path / "in", tmp_path / "out", version


@pytest.mark.parametrize("point", POINTS)
def test_kill_at_each_point_keeps_the_output_consistent(
    point: str,
    baseline: tuple[Path, Path, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs, output, old = _copy(baseline, tmp_path)
    killed = run_fast(inputs, output, **{CRASH_ENV: point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert_consistent(output)
    releases = sorted(p.name for p in (output / RELEASES).iterdir())
    pending = list(output.glob(f".{LATEST}.*.tmp"))
    if point == "published":
        assert latest(output) != old and len(releases) == 2
    else:
        assert latest(output) == old
    if point == "renamed":  # the new release is complete but LATEST not yet swapped
        assert len(releases) == 2 and len(pending) == 1
    elif point != "published":
        assert releases == [old]
    if point in ("staged", "publish_started", "latest_tmp_written"):
        assert any((output / STAGING).iterdir())

    capsys.readouterr()
    assert run_in_process(inputs, output) == 0  # the next run, in this process
    after = capsys.readouterr()
    assert_consistent(output)
    assert_clean(output)
    assert "taking over a stale lock" in after.err
    new = latest(output)
    assert new is not None and new != old
    if point in ("renamed", "published"):  # finished by the kill or by the cleanup
        assert "up to date" in after.out
    else:
        assert "published" in after.out
    if point == "renamed":
        assert f"finished the interrupted publish of {new}" in after.err
    if point in ("staged", "publish_started", "latest_tmp_written"):
        assert "removed unpublished staging folders of unfinished runs" in after.err
    manifest = (output / RELEASES / new / MANIFEST).read_text()
    assert f'"parent_version": "{old}"' in manifest


def test_leftovers_of_dead_runs_are_removed_at_the_next_start(
    baseline: tuple[Path, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, output, old = _copy(baseline, tmp_path)
    (inputs / "new.txt").unlink()  # unchanged inputs: the run is up to date
    (output / STAGING / "20200101T000000Z-deadbeef").mkdir(parents=True)
    (output / STAGING / "20200101T000000Z-deadbeef" / "money.parquet").write_bytes(b"PAR1")
    (output / f".{LATEST}.20200101T000000Z-deadbeef.tmp").write_text("20200101T000000Z-deadbeef")
    (output / ".work" / "batches" / "0123abcd.tmp").mkdir(parents=True)
    (output / ".trash" / "release-x").mkdir(parents=True)
    capsys.readouterr()
    assert run_in_process(inputs, output) == 0
    result = capsys.readouterr()
    assert "up to date" in result.out and latest(output) == old
    assert_clean(output)
    assert "(its release was never published)" in result.err


def test_kill_after_varying_delays(baseline: tuple[Path, Path, str], tmp_path: Path) -> None:
    inputs, output, _ = _copy(baseline, tmp_path)
    for n, delay in enumerate((0.6, 1.1)):
        with (inputs / "new.txt").open("a") as handle:
            handle.write(f"In 2025 the agency gave ${n + 2} million more.\n")
        process = subprocess.Popen(
            _command(inputs, output),
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        assert_consistent(output)
    assert run_in_process(inputs, output) == 0
    assert_consistent(output)
    assert_clean(output)
