"""The per-document time limit: a slow document is quarantined, the batch goes on."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

import pipeline.build
from pipeline.build import build_tables
from pipeline.document import Document
from pipeline.ingest.readers import discover, read_inputs
from pipeline.timelimit import TimeLimitExceeded, time_limit


def test_a_catastrophic_regex_is_interrupted() -> None:
    started = time.perf_counter()
    with pytest.raises(TimeLimitExceeded), time_limit(0.2):
        re.match(r"(a+)+$", "a" * 40 + "b")  # exponential backtracking: minutes unbounded
    assert time.perf_counter() - started < 5


def test_the_limit_is_off_outside_the_main_thread_and_when_zero() -> None:
    seen: list[bool] = []

    def probe() -> None:
        with time_limit(0.1) as enforced:
            seen.append(enforced)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    with time_limit(0) as enforced:
        seen.append(enforced)
    with time_limit(5) as enforced:
        seen.append(enforced)
    assert seen == [False, False, True]


def test_a_slow_document_is_quarantined_and_the_others_kept(
    seeds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = list(read_inputs(discover(seeds_dir), 50 * 2**20))
    slow = next(i for i in items if isinstance(i, Document))
    real = pipeline.build._rows_for

    def rows_for(item, repeated):  # type: ignore[no-untyped-def]
        if item.source_path == slow.source_path:
            while True:  # stands for a pattern that never finishes on this text
                time.sleep(0.01)
        return real(item, repeated)

    monkeypatch.setattr(pipeline.build, "_rows_for", rows_for)
    tables = build_tables(
        items, document_timeout=3.0
    )  # ample for a normal document on a busy machine
    quarantine = tables["quarantine"].to_pylist()
    assert [(q["source_path"], q["reason"]) for q in quarantine] == [(slow.source_path, "timeout")]
    assert "PIPELINE_DOCUMENT_TIMEOUT" in quarantine[0]["message"]
    documents = tables["documents"]["source_path"].to_pylist()
    assert slow.source_path not in documents and len(documents) == len(items) - 1
