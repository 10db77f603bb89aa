"""Disk full or permission denied while writing: exit 1 naming the path, nothing published,
the previous release intact and the next run fine. Faults are injected into the real writers
(Arrow, rename, replace) of an in-process ``pipeline run``."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from pipeline.cli import EXIT_FAILED, EXIT_OK
from pipeline.publish import release
from pipeline.publish.ops import verify_release
from pipeline.publish.release import LATEST, RELEASES, STAGING
from tests.conftest import SEEDS
from tests.reliability_support import run_in_process

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def published(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path, str]:
    """Inputs, an output folder with one release of them, and then a changed input."""
    inputs, output = tmp_path / "in", tmp_path / "out"
    shutil.copytree(SEEDS, inputs)
    assert run_in_process(inputs, output) == EXIT_OK
    version = (output / LATEST).read_text().strip()
    (inputs / "new.txt").write_text("In 2024 the United States gave $3 million to Peru.\n")
    capsys.readouterr()
    return inputs, output, version


def _assert_nothing_published(output: Path, version: str) -> None:
    assert (output / LATEST).read_text().strip() == version
    assert [p.name for p in (output / RELEASES).iterdir()] == [version]
    assert verify_release(output / RELEASES / version) == []
    assert not list(output.glob(f".{LATEST}.*.tmp"))


def _then_the_next_run_publishes(inputs: Path, output: Path, version: str) -> None:
    assert run_in_process(inputs, output) == EXIT_OK
    new = (output / LATEST).read_text().strip()
    assert new != version and verify_release(output / RELEASES / new) == []
    assert not any((output / STAGING).iterdir())


def test_disk_full_while_writing_a_table(
    published: tuple[Path, Path, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs, output, version = published
    real = pq.ParquetWriter.write_table

    def full(writer: pq.ParquetWriter, table: Any, *args: Any, **kwargs: Any) -> None:
        where = str(writer.where)
        if STAGING in where and where.endswith("money.parquet"):
            raise ENOSPC  # what Arrow raises: no file name in it
        real(writer, table, *args, **kwargs)

    # release tables go through a ParquetWriter (publish.release.TableWriter)
    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    assert run_in_process(inputs, output) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "No space left on device" in err and "money.parquet" in err
    assert f"nothing published; LATEST still names {version}" in err
    _assert_nothing_published(output, version)
    assert not any((output / STAGING).iterdir())
    monkeypatch.undo()
    _then_the_next_run_publishes(inputs, output, version)


def test_disk_full_while_writing_batch_results_names_the_output(
    published: tuple[Path, Path, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs, output, version = published

    def full(*args: Any, **kwargs: Any) -> None:
        raise ENOSPC

    monkeypatch.setattr(pq, "write_table", full)
    assert run_in_process(inputs, output) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "No space left on device" in err and str(output) in err
    _assert_nothing_published(output, version)


@pytest.mark.parametrize("step", ["latest_tmp", "rename", "replace"])
def test_storage_error_while_publishing(
    step: str,
    published: tuple[Path, Path, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs, output, version = published
    real_rename, real_replace, real_open = os.rename, os.replace, Path.open

    def rename(src: Any, dst: Any) -> None:
        if step == "rename" and RELEASES in str(dst):
            raise OSError(errno.EACCES, os.strerror(errno.EACCES))
        real_rename(src, dst)

    def replace(src: Any, dst: Any) -> None:
        if step == "replace" and str(dst).endswith(LATEST):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_replace(src, dst)

    def open_(self: Path, *args: Any, **kwargs: Any) -> Any:
        if step == "latest_tmp" and self.name.startswith(f".{LATEST}."):
            raise ENOSPC
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(release.os, "rename", rename)
    monkeypatch.setattr(release.os, "replace", replace)
    monkeypatch.setattr(Path, "open", open_)
    assert run_in_process(inputs, output) == EXIT_FAILED
    err = capsys.readouterr().err
    named = {"latest_tmp": f"/.{LATEST}.", "rename": f"/{RELEASES}/", "replace": f"/{LATEST}'"}
    assert named[step] in err, err
    assert f"nothing published; LATEST still names {version}" in err
    _assert_nothing_published(output, version)
    assert not any((output / STAGING).iterdir())  # removed at once: it takes space
    monkeypatch.undo()
    _then_the_next_run_publishes(inputs, output, version)


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root writes into read-only folders: permissions cannot fail"
)
def test_read_only_output_folder(
    published: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, output, version = published
    modes = {p: p.stat().st_mode for p in [output, *output.rglob("*")] if p.is_dir()}
    try:
        for path in modes:
            path.chmod(0o555)
        assert run_in_process(inputs, output) == EXIT_FAILED
        err = capsys.readouterr().err
        assert "Permission denied" in err and str(output) in err
        _assert_nothing_published(output, version)
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def test_output_that_is_a_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out").write_text("not a folder")
    assert run_in_process(SEEDS, tmp_path / "out") == EXIT_FAILED
    assert f"storage error on '{tmp_path / 'out'}'" in capsys.readouterr().err
