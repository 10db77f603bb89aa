"""Rows already known to pass a table's row-wise expectations, kept between runs.

A row-wise expectation (``chunked.ROW_WISE``) judges each row on that row's values alone.
A row equal, in every column the suite sees (helper columns included: they carry what
the row's checks against other tables found), to a row that passed every row-wise
expectation of the same suite, under the same code, passes them again. A rerun after a
few documents changed therefore hands GX only its new rows; the rows it already knows add
their counts (every one expected, so only how many and how many missing) to the result.

The store keeps, per table, the 64-bit hashes (``rowhash.row_hashes``) of the rows of the last
release whose rows all passed, under a key naming the suite, the code and the libraries
that computed the hashes and judged the rows; any change of key forgets them. Two rows
of different values share a hash with odds of about n / 2**64 (n: the rows kept).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from pipeline.rowhash import read_kept, row_hashes, write_kept
from pipeline.validate.suites import Suite

__all__ = ["KnownRows", "KnownTally", "all_rows_passed", "column_pairs", "known_mask", "row_hashes"]

Hashes = npt.NDArray[np.uint64]


def known_mask(hashes: Hashes, known: Hashes) -> npt.NDArray[np.bool_]:
    """Which of ``hashes`` are among ``known`` (sorted, distinct)."""
    if len(known) == 0:
        return np.zeros(len(hashes), dtype=bool)
    at = np.searchsorted(known, hashes).clip(max=len(known) - 1)
    found: npt.NDArray[np.bool_] = known[at] == hashes
    return found


class KnownRows:
    """The store of rows known to pass, in ``folder`` (one file per table).

    ``salt``: what else the rows' outcome depends on (the pipeline's code version: its
    helper columns and schemas).
    """

    def __init__(self, folder: Path, salt: str) -> None:
        self._folder = folder
        self._salt = salt

    def key(self, name: str, suite: Suite, columns: list[str]) -> str:
        """The store's key for ``name``'s rows: the row-wise suite, the frame's columns,
        the salt and the versions of the libraries that hash and judge."""
        import duckdb
        import great_expectations as gx

        payload = {
            "table": name,
            "suite": suite["expectations"],
            "columns": columns,
            "salt": self._salt,
            "versions": [duckdb.__version__, pd.__version__, pa.__version__, gx.__version__],
        }
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def _path(self, name: str) -> Path:
        return self._folder / f"{name}.parquet"

    def load(self, name: str, key: str) -> Hashes:
        """The hashes kept for ``name`` under ``key`` (sorted, distinct); none when the
        file is absent, unreadable or kept under another key."""
        found = read_kept(self._path(name), key)
        return found if found is not None else np.empty(0, dtype=np.uint64)

    def save(self, name: str, key: str, hashes: Hashes) -> None:
        """Keep ``hashes`` (all rows of a table that passed) for ``name`` under ``key``,
        replacing what was kept: whole or absent, never half a file."""
        write_kept(self._path(name), key, _sorted_distinct(hashes))


def _sorted_distinct(hashes: Hashes) -> Hashes:
    """``np.unique`` by a sort: ten times faster on millions of uint64 (numpy 2.4)."""
    ordered = np.sort(hashes)
    if len(ordered) < 2:
        return ordered
    keep = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    distinct: Hashes = ordered[keep]
    return distinct


def all_rows_passed(result: Mapping[str, Any]) -> bool:
    """Whether a row-wise suite result says every row passed every expectation (not just
    the suite: ``mostly`` lets some rows fail), with nothing raised."""
    if not result.get("success"):
        return False
    for item in result.get("results", []):
        if not item.get("success") or (item.get("exception_info") or {}).get("raised_exception"):
            return False
        if int((item.get("result") or {}).get("unexpected_count") or 0):
            return False
    return True


# GX's default for a column pair: a row is missing (not judged) when both values are
_PAIR_DEFAULT = "both_values_are_missing"


@dataclass
class KnownTally:
    """What the known rows of a table add to a row-wise result: how many they are and,
    per column (or column pair), how many of them GX counts as missing."""

    rows: int = 0
    nulls: Counter[str] = field(default_factory=Counter)
    either: Counter[tuple[str, str]] = field(default_factory=Counter)
    both: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(
        self, table: pa.Table, known: npt.NDArray[np.bool_], pairs: Sequence[tuple[str, str]]
    ) -> None:
        """Count the rows of ``table`` that ``known`` marks."""
        self.rows += int(known.sum())
        missing = {
            name: table.column(name).is_null().to_numpy(zero_copy_only=False) & known
            for name in table.column_names
        }
        for name, mask in missing.items():
            self.nulls[name] += int(mask.sum())
        for a, b in pairs:
            if a in missing and b in missing:
                self.either[(a, b)] += int((missing[a] | missing[b]).sum())
                self.both[(a, b)] += int((missing[a] & missing[b]).sum())

    def missing(self, kwargs: Mapping[str, Any]) -> int:
        """How many known rows GX counts as missing for an expectation's arguments."""
        if "column" in kwargs:
            return self.nulls[str(kwargs["column"])]
        if "column_A" in kwargs:
            pair = (str(kwargs["column_A"]), str(kwargs["column_B"]))
            ignore = kwargs.get("ignore_row_if") or _PAIR_DEFAULT
            if ignore == "either_value_is_missing":
                return self.either[pair]
            return self.both[pair] if ignore == _PAIR_DEFAULT else 0
        return 0

    def result_like(self, result: Mapping[str, Any]) -> dict[str, Any]:
        """A row-wise suite result for the known rows, shaped as ``result`` (a GX run on
        other rows of the table): every row expected; counts where ``result`` has them."""
        return {**result, "results": [self._item_like(item) for item in result.get("results", [])]}

    def _item_like(self, item: Mapping[str, Any]) -> dict[str, Any]:
        config = item.get("expectation_config", {})
        found = item.get("result") or {}
        counts: dict[str, Any] = {}
        if "element_count" in found and "unexpected_count" in found:
            counts = {
                "element_count": self.rows,
                "unexpected_count": 0,
                "partial_unexpected_list": [],
                "partial_unexpected_index_list": [],
            }
            if "missing_count" in found:
                counts["missing_count"] = self.missing(config.get("kwargs") or {})
        return {
            "expectation_config": config,
            "success": True,
            "result": counts,
            "exception_info": {"raised_exception": False},
        }


def column_pairs(suite: Suite) -> list[tuple[str, str]]:
    """The column pairs the suite's expectations judge."""
    pairs = [
        (str(e["kwargs"]["column_A"]), str(e["kwargs"]["column_B"]))
        for e in suite["expectations"]
        if "column_A" in e.get("kwargs", {})
    ]
    return list(dict.fromkeys(pairs))
