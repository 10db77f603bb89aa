"""Rows known to pass are counted, not judged again, and never hide a failing row."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pipeline.validate import ValidationReport, run, validate_release
from pipeline.validate.chunked import _key
from pipeline.validate.known import KnownRows, known_mask, row_hashes
from pipeline.validate.suites import DEFAULT_EXPECTATIONS_DIR
from tests.validate.conftest import Rows, valid_inputs, valid_rows, write_release
from tests.validate.test_suites import broken_rows, with_id

FACT_KINDS = ("money", "quantities", "dates", "entities")


def _valid_rows_twice() -> Rows:
    """The valid release with a second fact of each kind (so each is validated in chunks)."""
    rows = valid_rows()
    for kind in FACT_KINDS:
        rows[kind].append(with_id(rows[kind][0], f"{kind}_2"))
    return rows


def _half(name: str, release: run.ReleaseTables) -> int:
    """Tables of 2+ rows validated in chunks of half their rows (few GX runs: fast)."""
    size = release.size(name)
    return 0 if size is None else max(1, size[0] // 2)


@pytest.fixture
def chunk_per_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "rows_per_chunk", _half)


SALT = "code-1"


@dataclass(frozen=True)
class Validated:
    """A valid release of two facts a kind, validated once in chunks with a store."""

    release: Path
    report_dir: Path
    report: ValidationReport
    store_dir: Path  # copy it before use: a run replaces what it keeps

    def store(self, tmp_path: Path, salt: str = SALT) -> KnownRows:
        shutil.copytree(self.store_dir, tmp_path / "known")
        return KnownRows(tmp_path / "known", salt)


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> Validated:
    tmp = tmp_path_factory.mktemp("known")
    release = write_release(tmp / "release", _valid_rows_twice(), valid_inputs())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(run, "rows_per_chunk", _half)
        store = KnownRows(tmp / "known", SALT)
        report = validate_release(release, DEFAULT_EXPECTATIONS_DIR, tmp / "a", known_rows=store)
    return Validated(release, tmp / "a", report, tmp / "known")


@pytest.fixture
def gx_rows(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Rows handed to GX's row-wise runs, per suite."""
    seen: dict[str, int] = {}
    real = run.run_suite

    def counting(context: Any, suite: Any, frame: pd.DataFrame, part: str = "") -> Any:
        if part.startswith("rows-"):
            seen[suite["name"]] = seen.get(suite["name"], 0) + len(frame)
        return real(context, suite, frame, part)

    monkeypatch.setattr(run, "run_suite", counting)
    return seen


def _results(report_dir: Path, name: str) -> dict[str, Any]:
    """A suite's GX results by expectation, without what names the runs."""
    raw = json.loads((report_dir / "suites" / f"{name}.json").read_text())
    return {_key(item): (item["success"], item["result"]) for item in raw["results"]}


def _failures(report: ValidationReport) -> list[str]:
    return sorted(json.dumps(f.to_dict(), sort_keys=True, default=str) for f in report.failures)


def _meta(report_dir: Path, name: str) -> dict[str, Any]:
    raw = json.loads((report_dir / "suites" / f"{name}.json").read_text())
    meta: dict[str, Any] = raw["meta"]["pipeline_chunks"]
    return meta


@pytest.mark.usefixtures("chunk_per_row")
def test_a_rerun_hands_gx_no_known_row_and_reports_the_same(
    validated: Validated, tmp_path: Path, gx_rows: dict[str, int]
) -> None:
    assert validated.report.success
    store = validated.store(tmp_path)
    again = validate_release(
        validated.release, DEFAULT_EXPECTATIONS_DIR, tmp_path / "b", known_rows=store
    )
    assert again.to_json() == validated.report.to_json()
    for kind in FACT_KINDS:
        assert gx_rows.get(kind, 0) == 0  # every row known: GX saw the columns only
        assert _meta(tmp_path / "b", kind)["rows_known_to_pass"] == 2
        assert _results(tmp_path / "b", kind) == _results(validated.report_dir, kind)
        assert _meta(validated.report_dir, kind)["rows_known_to_pass"] == 0  # the first run


@pytest.mark.usefixtures("chunk_per_row")
def test_known_rows_never_hide_a_failing_row(
    validated: Validated, tmp_path: Path, gx_rows: dict[str, int]
) -> None:
    store = validated.store(tmp_path)
    kept = (tmp_path / "known" / "money.parquet").read_bytes()
    inputs = [*valid_inputs(), {"path": "b.txt", "sha256": "0" * 64, "bytes": 3}]
    broken = write_release(tmp_path / "broken", broken_rows(), inputs, relaxed=True)
    plain = validate_release(broken, DEFAULT_EXPECTATIONS_DIR, tmp_path / "plain")
    gx_rows.clear()
    known = validate_release(broken, DEFAULT_EXPECTATIONS_DIR, tmp_path / "k", known_rows=store)
    assert not known.success
    assert known.to_json() == plain.to_json()
    assert _failures(known) == _failures(plain)  # counts and sample rows included
    money_rows = len(broken_rows()["money"])
    known_money = _meta(tmp_path / "k", "money")["rows_known_to_pass"]
    assert known_money >= 1  # the valid money_1 rows
    assert gx_rows["money"] == money_rows - known_money
    for kind in FACT_KINDS:  # missing counts, percentages: as if GX had seen every row
        assert _results(tmp_path / "k", kind) == _results(tmp_path / "plain", kind)
    assert (tmp_path / "known" / "money.parquet").read_bytes() == kept  # failed: not kept


def test_row_hashes_tell_rows_apart_by_any_value() -> None:
    table = pa.table(
        {
            "a": [1, 1, 1, None, 1],
            "s": ["x", "x", "y", "x", "x"],
            "tags": [[], [], [], [], None],
        }
    )
    hashes = row_hashes(table)
    assert len(set(hashes[[0, 2, 3, 4]].tolist())) == 4  # a value of any column tells
    # (an empty list is not a null one: not_be_null fails the one and passes the other)
    assert hashes[0] == hashes[1]
    assert row_hashes(table.slice(1)).tolist() == hashes[1:].tolist()  # in order
    known = np.unique(hashes[:1])
    assert known_mask(hashes, known).tolist() == [True, True, False, False, False]
    assert not known_mask(hashes, np.empty(0, dtype=np.uint64)).any()


def test_rows_kept_under_another_key_are_not_known(validated: Validated, tmp_path: Path) -> None:
    store = validated.store(tmp_path)
    suite = {"expectations": [{"type": "expect_column_values_to_not_be_null"}]}
    key = store.key("money", suite, ["fact_id"])
    store.save("money", key, np.array([1, 2], dtype=np.uint64))
    assert store.load("money", key).tolist() == [1, 2]
    assert key != KnownRows(tmp_path / "known", "code-2").key("money", suite, ["fact_id"])
    assert key != store.key("money", suite, ["fact_id", "doc_id"])  # another frame
    assert key != store.key("money", {"expectations": []}, ["fact_id"])  # another suite
    assert len(store.load("money", store.key("money", {"expectations": []}, ["fact_id"]))) == 0


def test_an_unreadable_store_knows_nothing(tmp_path: Path) -> None:
    (tmp_path / "money.parquet").write_text("not parquet")
    store = KnownRows(tmp_path, "c1")
    assert len(store.load("money", "any key")) == 0
    store.save("money", "k", np.array([3, 1, 3], dtype=np.uint64))
    assert store.load("money", "k").tolist() == [1, 3]
    assert len(store.load("money", "other key")) == 0


def test_a_table_of_one_chunk_has_its_known_rows_counted_from_known_from(
    validated: Validated, tmp_path: Path, gx_rows: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "KNOWN_FROM", 2)  # the fact tables' 2 rows: one chunk each
    store = validated.store(tmp_path)  # kept from chunks: the key does not depend on them
    again = validate_release(
        validated.release, DEFAULT_EXPECTATIONS_DIR, tmp_path / "b", known_rows=store
    )
    assert again.success
    assert gx_rows.get("money", 0) == 0
    assert _meta(tmp_path / "b", "money") == {
        "row_wise_chunks": 1,
        "first_rows": [0],
        "gx_runs": 1,
        "rows_known_to_pass": 2,
    }


def test_a_failing_store_leaves_every_row_judged(
    validated: Validated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "rows_per_chunk", _half)

    def broken_hash(table: pa.Table) -> np.ndarray:
        raise RuntimeError("no hash today")

    monkeypatch.setattr(run, "row_hashes", broken_hash)
    store = validated.store(tmp_path)
    again = validate_release(
        validated.release, DEFAULT_EXPECTATIONS_DIR, tmp_path / "b", known_rows=store
    )
    assert again.to_json() == validated.report.to_json()  # judged, not "not run"
    assert _meta(tmp_path / "b", "money")["rows_known_to_pass"] == 0
    monkeypatch.undo()
    monkeypatch.setattr(run, "rows_per_chunk", _half)
    (tmp_path / "unwritable").write_text("a file where the store's folder would be")
    unwritable = KnownRows(tmp_path / "unwritable", SALT)
    kept = validate_release(
        validated.release, DEFAULT_EXPECTATIONS_DIR, tmp_path / "c", known_rows=unwritable
    )
    assert kept.to_json() == validated.report.to_json()
