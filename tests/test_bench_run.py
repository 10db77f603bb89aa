"""pipeline bench run: the synthetic corpus, its changes and the dedup scores."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.bench_run import (
    add_documents,
    change_documents,
    dedup_scores,
    file_name,
    write_corpus,
)
from pipeline.cli import main
from pipeline.dedup.synthetic import Corpus
from tests.conftest import PrefectEnv


def _corpus() -> Corpus:
    texts = ["Peru got $5 million in 2012.", "Peru got $5 million in 2012.", "Other text 2020."]
    return Corpus(texts, [0, 0, 2], ["original", "exact", "original"], [0.0, 0.0, 0.0])


def test_written_corpus_is_deterministic_and_changes_hit_the_chosen_share(tmp_path: Path) -> None:
    corpus = _corpus()
    write_corpus(corpus, tmp_path / "a", seed=1)
    write_corpus(corpus, tmp_path / "b", seed=1)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == [file_name(i) for i in range(3)]
    assert all((tmp_path / "a" / n).read_text() == (tmp_path / "b" / n).read_text() for n in names)
    before = {n: (tmp_path / "a" / n).read_text() for n in names}
    changed = change_documents(tmp_path / "a", 3, 0.34, seed=1)
    assert len(changed) == 1
    assert [n for n in names if (tmp_path / "a" / n).read_text() != before[n]] == changed


def test_added_documents_are_new_files_among_the_old_ones_and_change_none(
    seeds_dir: Path, tmp_path: Path
) -> None:
    write_corpus(_corpus(), tmp_path / "a", seed=1)
    before = {p.name: p.read_text() for p in (tmp_path / "a").iterdir()}
    added = add_documents(tmp_path / "a", seeds_dir, 3, 0.67, seed=1)
    assert len(added) == 2 and not set(added) & set(before)
    after = sorted(p.name for p in (tmp_path / "a").iterdir())
    # each sorts right after an existing document, not all at the end
    assert [after.index(name) - 1 for name in added] == [
        after.index(name.replace("_new", "")) for name in added
    ]
    assert all((tmp_path / "a" / n).read_text() == text for n, text in before.items())
    assert all("Statement" in (tmp_path / "a" / n).read_text() for n in added)
    write_corpus(_corpus(), tmp_path / "b", seed=1)
    assert add_documents(tmp_path / "b", seeds_dir, 3, 0.67, seed=1) == added  # same seed


def _release(tmp_path: Path, duplicate_of: list[str | None]) -> Path:
    table = pa.table(
        {
            "doc_id": ["d0", "d1", "d2"],
            "source_path": [file_name(i) for i in range(3)],
            "duplicate_of": pa.array(duplicate_of, pa.string()),
        }
    )
    pq.write_table(table, tmp_path / "documents.parquet")
    return tmp_path


def test_dedup_scores_count_right_links_and_found_copies(tmp_path: Path) -> None:
    found = dedup_scores(_corpus(), _release(tmp_path, [None, "d0", None]))
    assert (found["precision"], found["recall"], found["links"]) == (1.0, 1.0, 1)
    wrong = dedup_scores(_corpus(), _release(tmp_path, [None, "d2", None]))
    assert (wrong["precision"], wrong["recall"]) == (0.0, 0.0)


def test_target_recall_counts_only_copies_at_least_as_similar_as_the_target(
    tmp_path: Path,
) -> None:
    words = "the embassy and the ministry signed a joint statement on trade in Lima"
    texts = [words, words, "a different page about fisheries and mining permits entirely"]
    corpus = Corpus(texts, [0, 0, 0], ["original", "exact", "near"], [0.0, 0.0, 0.3])
    found = dedup_scores(corpus, _release(tmp_path, [None, "d0", None]))
    assert (found["planted"], found["recall"]) == (2, 0.5)
    assert (found["planted_jaccard_ge_0_8"], found["recall_jaccard_ge_0_8"]) == (1, 1.0)
    missed = dedup_scores(corpus, _release(tmp_path, [None, None, "d0"]))
    assert (missed["recall"], missed["recall_jaccard_ge_0_8"]) == (0.5, 0.0)


@pytest.fixture
def bench(
    seeds_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    prefect: PrefectEnv,
) -> Callable[..., dict[str, Any]]:
    """``pipeline bench run`` with these arguments on the seeds: its JSON report."""
    for name, value in prefect.environ().items():
        if name.startswith("PREFECT_"):
            monkeypatch.setenv(name, value)  # the bench's `pipeline run` children inherit it

    def run(*args: str) -> dict[str, Any]:
        argv = ["bench", "run", *args, "--input", str(seeds_dir), "--work-dir", str(tmp_path)]
        assert main(argv) == 0
        report: dict[str, Any] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        return report

    return run


@pytest.mark.slow
def test_bench_run_prints_the_full_run_and_the_noop_rerun(
    bench: Callable[..., dict[str, Any]],
) -> None:
    report = bench("--docs", "40", "--mode", "noop", "--workers", "2")
    assert report["full"]["status"] == "published"
    assert report["rerun"]["status"] == "up_to_date"
    assert {"read_clean_extract", "validate"} <= set(report["full"]["stages"])
    assert report["dedup"]["planted"] == 8 and report["dedup"]["precision"] in (None, 1.0)


@pytest.mark.slow
def test_bench_run_adds_documents_and_publishes_them(
    bench: Callable[..., dict[str, Any]],
) -> None:
    report = bench("--docs", "40", "--mode", "add", "--change-fraction", "0.1")
    assert report["rerun"]["status"] == "published"
    assert (report["rerun"]["added_documents"], report["rerun"]["changed_documents"]) == (4, 0)
