"""Every input file ends in documents or quarantine, once, whatever its name: spaces,
non-ASCII (NFC and NFD side by side), the same name in two folders, a name that is not UTF-8,
an unreadable file. Through the real stages (batches rebuild each file from its path)."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.cli import EXIT_OK
from pipeline.document import Rejection
from pipeline.ingest.readers import discover, input_file, input_files, read_bytes
from pipeline.plan import make_plan
from pipeline.publish.release import LATEST, RELEASES
from pipeline.settings import Settings
from pipeline.stages import assemble, count_short_lines, process_batch, repeated_from_counts
from tests.reliability_support import run_in_process

TEXT = "On May 9, 2024, the United States announced $65 million for {name}.\n"
NAMES = [
    "plain.txt",
    "with space.txt",
    "sub dir/with space.txt",  # the same name in another folder
    "Déclaration commune (2024).md",
    unicodedata.normalize("NFD", "Déclaration commune (2024).md"),  # another file on Linux
    "共同声明/声明 一.txt",
    "emoji 🚀.txt",
    "tab\there.txt",
    "lit\\xff.txt",  # a backslash in a valid name: not to be confused with the next one
]
BAD = [b"bad\xff name.txt", b"dir\xfe/inside.txt"]  # not UTF-8: Linux allows any bytes


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    for name in NAMES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(TEXT.format(name=name), encoding="utf-8")
    for raw in BAD:
        path = os.path.join(os.fsencode(root), raw)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(b"The agency gave $1 million.\n")
    return root


def _tables(inputs: Path, output: Path, batch_size: int) -> dict[str, list[dict[str, object]]]:
    plan = make_plan(Settings(inputs, output, batch_size=batch_size))
    batches = plan.batches()
    repeated = repeated_from_counts([count_short_lines(plan, b) for b in batches])
    tables = assemble([process_batch(plan, b, repeated) for b in batches])
    return {name: tables[name].to_pylist() for name in ("documents", "quarantine")}


def test_every_name_is_accounted_for_once(inputs: Path, tmp_path: Path) -> None:
    shown = sorted(f.path for f in discover(inputs))
    assert len(shown) == len(NAMES) + len(BAD) == len(set(shown))
    assert "bad\\xff name.txt" in shown and "dir\\xfe/inside.txt" in shown
    for path in shown:
        path.encode("utf-8")  # every name is text the tables can hold
    tables = _tables(inputs, tmp_path / "out", batch_size=2)
    documents = [d["source_path"] for d in tables["documents"]]
    quarantined = {q["source_path"]: q for q in tables["quarantine"]}
    assert sorted(documents) == sorted(NAMES)
    assert sorted(quarantined) == ["bad\\xff name.txt", "dir\\xfe/inside.txt"]
    for row in quarantined.values():
        assert row["reason"] == "unreadable" and "not valid UTF-8" in str(row["message"])
    assert len({d["doc_id"] for d in tables["documents"]}) == len(NAMES)
    by_path = {d["source_path"]: d["source_text"] for d in tables["documents"]}
    for name in NAMES:
        assert by_path[name] == TEXT.format(name=name)


def test_a_name_that_is_not_utf8_is_found_again_from_its_shown_path(inputs: Path) -> None:
    item = input_file(inputs, "bad\\xff name.txt")
    assert item.absolute.exists() and isinstance(item.problem, Rejection)
    literal = input_file(inputs, "lit\\xff.txt")
    assert (
        literal.problem is None
        and read_bytes(literal, 10_000) == (inputs / "lit\\xff.txt").read_bytes()
    )


def test_input_files_is_input_file_for_each_path(inputs: Path, tmp_path: Path) -> None:
    (inputs / "link.txt").symlink_to(inputs / NAMES[0])
    (inputs / "away.txt").symlink_to(tmp_path)  # outside the input folder
    relatives = [f.path for f in discover(inputs)] + ["lit\\xff.txt"]
    assert "link.txt" in relatives and "away.txt" in relatives
    assert input_files(inputs, relatives) == [input_file(inputs, r) for r in relatives]
    assert [f.problem is None for f in input_files(inputs, ["link.txt", "away.txt"])] == [
        True,
        False,
    ]


def test_such_names_publish_and_are_up_to_date_next_time(
    inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out"
    assert run_in_process(inputs, output) == EXIT_OK
    release = output / RELEASES / (output / LATEST).read_text().strip()
    quarantine = pq.read_table(release / "quarantine.parquet").column("source_path")
    assert sorted(quarantine.to_pylist()) == ["bad\\xff name.txt", "dir\\xfe/inside.txt"]
    assert run_in_process(inputs, output) == EXIT_OK
    assert "up to date" in capsys.readouterr().out


@pytest.mark.skipif(
    os.geteuid() == 0,
    reason="running as root: root reads a chmod 000 file anyway, so it cannot be unreadable "
    "(tests/ingest/test_readers.py simulates EACCES instead)",
)
def test_chmod_000_file_is_quarantined_as_unreadable(inputs: Path, tmp_path: Path) -> None:
    locked = inputs / "locked.txt"
    locked.write_text("secret")
    locked.chmod(0)
    try:
        tables = _tables(inputs, tmp_path / "out", batch_size=3)
    finally:
        locked.chmod(0o644)
    [row] = [q for q in tables["quarantine"] if q["source_path"] == "locked.txt"]
    assert row["reason"] == "unreadable" and "Permission denied" in str(row["message"])
