"""An input modified or deleted while a run is going: the run fails naming the file (exit 1)
and publishes nothing; the next run builds a release that matches its inputs."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline import stages
from pipeline.cli import EXIT_FAILED, EXIT_OK
from pipeline.ingest.readers import InputFile
from pipeline.publish import fingerprint
from pipeline.publish.fingerprint import InputRecord
from pipeline.publish.ops import verify_release
from pipeline.publish.recheck import InputsChangedError, changed_inputs, check_inputs_unchanged
from pipeline.publish.release import LATEST, MANIFEST, RELEASES, STAGING, sha256_file
from tests.conftest import SEEDS
from tests.reliability_support import run_in_process

NAME = "002_f6ce622dd58cd100.txt"


def _edit(path: Path) -> None:
    path.write_text(path.read_text() + "\nLater the agency added $9 million.\n")


@pytest.fixture
def published(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path, str]:
    inputs, output = tmp_path / "in", tmp_path / "out"
    shutil.copytree(SEEDS, inputs)
    assert (inputs / NAME).is_file()
    assert run_in_process(inputs, output) == EXIT_OK
    (inputs / "new.txt").write_text("In 2024 the United States gave $3 million to Peru.\n")
    capsys.readouterr()
    return inputs, output, (output / LATEST).read_text().strip()


def _after(monkeypatch: pytest.MonkeyPatch, name: str, change: Callable[[], None]) -> None:
    """Run ``change`` right after the real ``stages.<name>`` (the run is mid-way)."""
    real = getattr(stages, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        change()
        return result

    monkeypatch.setattr(stages, name, wrapped)


@pytest.mark.parametrize(
    ("when", "how", "says"),
    [
        ("stage_release", "modify", f"{NAME} was modified"),
        ("stage_release", "delete", f"{NAME} was deleted"),
        ("count_short_lines", "modify", f"{NAME} was read with sha256"),
    ],
)
def test_input_changed_during_the_run_fails_and_publishes_nothing(
    when: str,
    how: str,
    says: str,
    published: tuple[Path, Path, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs, output, version = published
    target = inputs / NAME
    done: list[bool] = []

    def change() -> None:
        if not done:  # once: count_short_lines runs once per batch
            done.append(True)
            _edit(target) if how == "modify" else target.unlink()

    _after(monkeypatch, when, change)
    if when == "count_short_lines":
        # the file must be read after the change: without an earlier batch to take its
        # unchanged rows from (they match the scan), the batch reads every file
        shutil.rmtree(output / ".work" / "slots")
    assert run_in_process(inputs, output) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "input files changed while the run was going" in err and says in err, err
    assert "nothing published" in err
    assert (output / LATEST).read_text().strip() == version
    assert [p.name for p in (output / RELEASES).iterdir()] == [version]
    assert not any((output / STAGING).iterdir())
    if when == "count_short_lines":  # read after the change: its cached batch was dropped
        assert not (output / ".work").exists()

    monkeypatch.undo()
    assert run_in_process(inputs, output) == EXIT_OK
    new = output / RELEASES / (output / LATEST).read_text().strip()
    assert verify_release(new) == []
    inputs_listed = {
        i["path"]: i["sha256"] for i in json.loads((new / MANIFEST).read_text())["inputs"]
    }
    assert inputs_listed == {p.name: sha256_file(p) for p in inputs.iterdir()}


def test_changed_inputs_names_each_kind_of_change(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    scanned = (
        InputRecord("a.txt", sha256_file(tmp_path / "a.txt"), 1),
        InputRecord("b.txt", sha256_file(tmp_path / "b.txt"), 1),
        InputRecord("gone.txt", "0" * 64, 1),
    )
    (tmp_path / "b.txt").write_text("B")
    (tmp_path / "added.txt").write_text("not an input of this run: ignored")
    changes, misread = changed_inputs(tmp_path, scanned, {})
    assert (
        changes
        == [
            f"b.txt was modified (sha256 {scanned[1].sha256[:12]} -> "  # type: ignore[index]
            f"{sha256_file(tmp_path / 'b.txt')[:12]})",
            "gone.txt was deleted",
        ]
    )
    assert not misread
    with pytest.raises(InputsChangedError, match=r"b\.txt was modified"):
        check_inputs_unchanged(tmp_path, scanned, {})
    check_inputs_unchanged(tmp_path, scanned[:1], {})  # a.txt alone: unchanged


def test_the_recheck_reads_again_only_files_whose_stat_changed_since_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, cache = tmp_path / "in", tmp_path / "work" / "hashes.parquet"
    inputs.mkdir()
    old = time.time_ns() - 60 * 10**9  # written long enough ago to be remembered
    for name in ("a.txt", "b.txt", "c.txt"):
        (inputs / name).write_text(f"{name} holds $1 million")
        os.utime(inputs / name, ns=(old, old))
    scanned = fingerprint.scan_inputs(inputs, cache)
    (inputs / "b.txt").write_text("b.txt holds $2 million")  # same size, new mtime
    read: list[str] = []
    real = fingerprint.hash_input

    def recording(item: InputFile) -> InputRecord:
        read.append(item.path)
        return real(item)

    monkeypatch.setattr(fingerprint, "hash_input", recording)
    changes, misread = changed_inputs(inputs, scanned, {}, cache)
    assert read == ["b.txt"]
    assert [c.split(" (")[0] for c in changes] == ["b.txt was modified"] and not misread
    read.clear()
    assert changed_inputs(inputs, scanned, {})[0] == changes  # without the cache: all read
    assert read == ["a.txt", "b.txt", "c.txt"]
