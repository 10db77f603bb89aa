"""Scoring against gold: each rule of the gold README on tiny inline tables."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from pipeline.bench import build_corpus, redraw_numbers
from pipeline.cli import main
from pipeline.evaluate import (
    GoldError,
    ReleaseError,
    evaluate,
    load_gold,
    load_release_tables,
    prf,
    render_json,
    render_text,
    values_agree,
)

DOC = "000_x.txt"


def money_gold(
    start: int,
    quote: str,
    usd: float | None,
    id_: str,
    qualifier: str | None = None,
    period: str | None = None,
    doc: str = DOC,
) -> dict[str, Any]:
    return {
        "id": id_,
        "doc": doc,
        "quote": quote,
        "char_start": start,
        "amount_usd": usd,
        "qualifier": qualifier,
        "period": period,
    }


def gold(
    money: list[dict[str, Any]] | None = None,
    quantity: list[dict[str, Any]] | None = None,
    date: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "documents": [{"doc": DOC}],
        "money": money or [],
        "quantity": quantity or [],
        "date": date or [],
    }


def money_rows(*rows: tuple[int, int, float | None, str | None, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_path": [f"sub/{DOC}"] * len(rows),
            "char_start": [r[0] for r in rows],
            "char_end": [r[1] for r in rows],
            "quote": ["q"] * len(rows),
            "amount_usd": pd.Series([r[2] for r in rows], dtype="float64"),
            "qualifier": pd.Series([r[3] for r in rows], dtype="str"),
            "period": pd.Series([r[4] for r in rows], dtype="str"),
        }
    )


def quantity_rows(*rows: tuple[int, int, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_path": [DOC] * len(rows),
            "char_start": [r[0] for r in rows],
            "char_end": [r[1] for r in rows],
            "quote": ["q"] * len(rows),
            "value": [r[2] for r in rows],
        }
    )


def date_rows(*rows: tuple[int, int, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_path": [DOC] * len(rows),
            "char_start": [r[0] for r in rows],
            "char_end": [r[1] for r in rows],
            "quote": ["q"] * len(rows),
            "iso": pd.Series([r[2] for r in rows], dtype="str"),  # null is NaN here
        }
    )


def test_match_needs_same_file_name_and_overlapping_span() -> None:
    g = gold(money=[money_gold(10, "$5 million", 5e6, "m1")])  # span [10, 20)
    overlapping = evaluate({"money": money_rows((15, 25, 5e6, None, None))}, g)
    assert overlapping.kinds["money"].matched == 1
    touching = evaluate({"money": money_rows((20, 30, 5e6, None, None))}, g)  # end exclusive
    assert touching.kinds["money"].matched == 0
    other_doc = money_rows((10, 20, 5e6, None, None)).assign(source_path="001_y.txt")
    result = evaluate({"money": other_doc}, g)
    assert result.kinds["money"].matched == 0
    assert result.unscored_predictions == 1  # a document the gold does not cover
    assert result.kinds["money"].predicted == 0


def test_value_tolerance_is_half_a_percent() -> None:
    g = gold(money=[money_gold(0, "$1 billion", 1e9, "m1")])
    inside = evaluate({"money": money_rows((0, 10, 1.004e9, None, None))}, g)
    outside = evaluate({"money": money_rows((0, 10, 1.006e9, None, None))}, g)
    assert inside.kinds["money"].f1 == 1.0
    assert outside.kinds["money"].matched == 0
    assert outside.kinds["money"].misses[0].gold_id == "m1"
    assert "value differs" in (outside.kinds["money"].misses[0].note or "")
    assert values_agree("quantities", 200.0, 200.9)
    assert not values_agree("quantities", 200.0, 201.1)
    assert not values_agree("money", 5.0, None)


def test_null_gold_amount_lets_the_span_decide() -> None:
    g = gold(money=[money_gold(0, "millions of dollars", None, "m1")])
    result = evaluate({"money": money_rows((0, 8, 3e6, None, None))}, g)
    assert result.kinds["money"].matched == 1
    nan_usd = evaluate({"money": money_rows((0, 8, None, None, None))}, g)
    assert nan_usd.kinds["money"].matched == 1


def test_quantity_durations_are_not_scored_and_count_as_false_hits() -> None:
    g = gold(
        quantity=[
            {
                "id": "q1",
                "doc": DOC,
                "quote": "four",
                "char_start": 0,
                "value": 4,
                "subtype": "duration",
            },
            {
                "id": "q2",
                "doc": DOC,
                "quote": "40",
                "char_start": 20,
                "value": 40,
                "subtype": "count",
            },
        ]
    )
    result = evaluate({"quantities": quantity_rows((0, 4, 4.0), (20, 22, 40.0))}, g)
    score = result.kinds["quantities"]
    assert (score.gold, score.predicted, score.matched, score.not_scored_gold) == (1, 2, 1, 1)
    assert score.precision == 0.5 and score.recall == 1.0
    assert [f.char_start for f in score.false_hits] == [0]
    assert "duration" in (score.false_hits[0].note or "")
    nothing_on_it = evaluate({"quantities": quantity_rows((20, 22, 40.0))}, g)
    assert nothing_on_it.kinds["quantities"].f1 == 1.0


def test_front_matter_dates_are_not_scored_and_count_as_false_hits() -> None:
    g = gold(
        date=[
            {
                "id": "d1",
                "doc": DOC,
                "quote": "2024-11-15",
                "char_start": 5,
                "iso": "2024-11-15",
                "region": "front_matter",
            },
            {
                "id": "d2",
                "doc": DOC,
                "quote": "May 9",
                "char_start": 50,
                "iso": "2024-05-09",
                "region": "body",
            },
        ]
    )
    result = evaluate({"dates": date_rows((5, 15, "2024-11-15"), (50, 55, "2024-05-09"))}, g)
    score = result.kinds["dates"]
    assert (score.gold, score.predicted, score.matched) == (1, 2, 1)
    assert "front matter" in (score.false_hits[0].note or "")


def test_date_iso_must_be_equal_and_nan_equals_null() -> None:
    g = gold(
        date=[
            {
                "id": "d1",
                "doc": DOC,
                "quote": "in May",
                "char_start": 0,
                "iso": None,
                "region": "body",
            },
            {
                "id": "d2",
                "doc": DOC,
                "quote": "2012",
                "char_start": 10,
                "iso": "2012",
                "region": "body",
            },
        ]
    )
    frame = date_rows((3, 6, None), (10, 14, "2013"))
    missing = frame["iso"].iloc[0]
    assert isinstance(missing, float) and math.isnan(missing)  # what pandas gives for null
    result = evaluate({"dates": frame}, g)
    score = result.kinds["dates"]
    assert [m.gold.gold_id for m in score.matches] == ["d1"]
    assert [m.gold_id for m in score.misses] == ["d2"]
    assert [f.value for f in score.false_hits] == ["2013"]
    assert not values_agree("dates", None, "2012")


def test_one_to_one_matching_prefers_the_exact_span_then_the_larger_overlap() -> None:
    g = gold(
        money=[
            money_gold(10, "$5 million", 5e6, "m1"),  # [10, 20)
            money_gold(30, "$5 million", 5e6, "m2"),  # [30, 40)
        ]
    )
    # one wide prediction overlapping both, one exact on m1: exact takes m1, wide gets m2
    result = evaluate(
        {"money": money_rows((12, 35, 5e6, None, None), (10, 20, 5e6, None, None))}, g
    )
    score = result.kinds["money"]
    assert score.matched == 2
    by_gold = {m.gold.gold_id: (m.predicted.char_start, m.exact_span) for m in score.matches}
    assert by_gold == {"m1": (10, True), "m2": (12, False)}
    # two predictions on one gold record: only one matches, the other is a false hit
    twice = evaluate(
        {"money": money_rows((10, 20, 5e6, None, None), (11, 19, 5e6, None, None))},
        gold(money=[money_gold(10, "$5 million", 5e6, "m1")]),
    )
    assert (twice.kinds["money"].matched, len(twice.kinds["money"].false_hits)) == (1, 1)
    assert twice.kinds["money"].false_hits[0].char_start == 11
    assert "matched to another prediction" in (twice.kinds["money"].false_hits[0].note or "")


def test_qualifier_and_period_accuracy_on_matched_money_null_equals_null() -> None:
    g = gold(
        money=[
            money_gold(0, "$1 million", 1e6, "m1", "approx", "2012"),
            money_gold(20, "$2 million", 2e6, "m2", None, None),
            money_gold(40, "$3 million", 3e6, "m3", "min", None),
            money_gold(60, "$4 million", 4e6, "m4", "max", "FY2015-"),  # missed: not counted
        ]
    )
    rows = money_rows(
        (0, 10, 1e6, "approx", "2012"),
        (20, 30, 2e6, None, None),  # NaN from pandas == null
        (40, 50, 3e6, None, "2020"),
    )
    result = evaluate({"money": rows}, g)
    qualifier, period = result.money_attributes["qualifier"], result.money_attributes["period"]
    assert (qualifier.correct, qualifier.total) == (2, 3)
    assert (period.correct, period.total) == (2, 3)
    assert [(e.gold_id, e.gold, e.predicted) for e in qualifier.errors] == [("m3", "min", None)]
    assert [(e.gold_id, e.gold, e.predicted) for e in period.errors] == [("m3", None, "2020")]


def test_scores_and_empty_denominators() -> None:
    assert prf(0, 0, 0) == (1.0, 1.0, 1.0)
    assert prf(0, 0, 3) == (1.0, 0.0, 0.0)
    assert prf(0, 2, 0) == (0.0, 1.0, 0.0)
    p, r, f = prf(3, 4, 6)
    assert (p, r) == (0.75, 0.5) and f == pytest.approx(0.6)
    result = evaluate({}, gold(money=[money_gold(0, "$1", 1.0, "m1")]))
    assert result.kinds["money"].f1 == 0.0
    assert result.money_attributes["qualifier"].accuracy is None


def test_arrow_tables_are_accepted_and_matching_is_deterministic() -> None:
    g = gold(money=[money_gold(0, "$1 million", 1e6, "m1")])
    rows = money_rows((0, 10, 1e6, None, None), (0, 10, 1e6, None, None))
    first = render_json(evaluate({"money": pa.Table.from_pandas(rows)}, g))
    assert first == render_json(evaluate({"money": rows}, g))
    data = json.loads(first)
    assert data["kinds"]["money"]["matched"] == 1
    assert set(data["kinds"]["money"]) >= {"precision", "recall", "f1", "misses", "false_hits"}


def test_text_report_lists_misses_and_false_hits() -> None:
    g = gold(money=[money_gold(0, "$1 million", 1e6, "m1"), money_gold(20, "$2", 2.0, "m2")])
    text = render_text(
        evaluate({"money": money_rows((0, 10, 1e6, None, None), (50, 52, 7.0, None, None))}, g)
    )
    assert "precision" in text and "F1" in text
    assert "misses (gold records with no matching prediction): 1" in text
    assert "m2" in text and "[50:52]" in text


def test_invalid_gold_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match="does not exist"):
        load_gold(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(GoldError, match="not valid JSON"):
        load_gold(bad)
    bad.write_text(json.dumps({"money": [{"doc": "a", "quote": "x"}], "quantity": [], "date": []}))
    with pytest.raises(GoldError, match="char_start"):
        load_gold(bad)
    bad.write_text(json.dumps({"money": []}))
    with pytest.raises(GoldError, match="quantity"):
        load_gold(bad)
    with pytest.raises(ReleaseError):
        load_release_tables(tmp_path)


def _write_release(root: Path) -> Path:
    release = root / "releases" / "v1"
    release.mkdir(parents=True)
    (release / "manifest.json").write_text("{}")
    money_rows((0, 10, 1e6, "approx", None)).to_parquet(release / "money.parquet")
    quantity_rows((20, 22, 40.0)).to_parquet(release / "quantities.parquet")
    date_rows().to_parquet(release / "dates.parquet")
    (root / "LATEST").write_text("v1\n")
    return release


def test_eval_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_release(tmp_path)
    gold_file = tmp_path / "gold.json"
    g = gold(
        money=[money_gold(0, "$1 million", 1e6, "m1", "approx")],
        quantity=[
            {
                "id": "q1",
                "doc": DOC,
                "quote": "40",
                "char_start": 20,
                "value": 40,
                "subtype": "count",
            }
        ],
    )
    gold_file.write_text(json.dumps(g))
    assert (
        main(["eval", "--gold", str(gold_file), "--output", str(tmp_path), "--format", "json"]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["kinds"]["money"]["f1"] == 1.0
    assert data["kinds"]["quantities"]["f1"] == 1.0
    assert data["money_attributes"]["qualifier"]["accuracy"] == 1.0
    release = tmp_path / "releases" / "v1"
    assert main(["eval", "--gold", str(gold_file), "--release", str(release)]) == 0
    assert "money" in capsys.readouterr().out
    assert main(["eval", "--gold", str(tmp_path / "missing.json"), "--release", str(release)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["eval", "--gold", str(gold_file), "--release", str(tmp_path / "nope")]) == 2
    assert main(["eval", "--gold", str(gold_file), "--output", str(tmp_path / "empty")]) == 2
    assert "no release" in capsys.readouterr().err


def test_bench_corpus_is_deterministic_and_redraws_numbers() -> None:
    import random

    passages = ["In 2012 the U.S. gave $350 million and 1,200 tents on May 9.", "No digits."]
    a = build_corpus(passages, 2000, seed=3)
    assert a == build_corpus(passages, 2000, seed=3)
    assert sum(map(len, a)) >= 2000
    redrawn = redraw_numbers(passages[0], random.Random(1))
    assert redrawn != passages[0]
    assert redrawn.count(",") == passages[0].count(",")
    assert redraw_numbers("2,000", random.Random(1)).count(",") == 1  # not a year


def test_bench_extract_prints_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "extract", "--mb", "0.05", "--quantulum-sample-kb", "2", "--workers", "2"]
    assert main(argv) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    data = json.loads(out[0])
    assert set(data) >= {"corpus", "pipeline", "quantulum3", "ratio"}
    assert data["corpus"]["chars"] >= 50_000
    assert set(data["pipeline"]["per_kind"]) >= {"money", "quantities", "dates"}
    assert {"seconds", "chars_per_second"} <= set(data["pipeline"])
    # the parallel run does the same work: the same facts as the per-kind runs together
    per_kind_facts = sum(k["facts"] for k in data["pipeline"]["per_kind"].values())
    assert data["parallel"]["workers"] == 2
    assert data["parallel"]["facts"] == per_kind_facts > 0
    if data["quantulum3"]["available"]:
        assert {"sample_chars", "chars_per_second", "seconds"} <= set(data["quantulum3"])
    else:
        assert data["ratio"] is None and data["quantulum3"]["skipped"]


def test_bench_without_quantulum3_skips_the_comparison(
    monkeypatch: pytest.MonkeyPatch, seeds_dir: Path
) -> None:
    import pipeline.bench

    monkeypatch.setattr(
        pipeline.bench, "quantulum_parser", lambda: (None, None, "quantulum3 is not available")
    )
    report = pipeline.bench.bench_extract(seeds_dir, mb=0.01, seed=1)
    assert report["ratio"] is None
    assert report["quantulum3"] == {"available": False, "skipped": "quantulum3 is not available"}


def test_bench_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "extract", "--mb", "0"]) == 2
    assert main(["bench", "extract", "--workers", "0"]) == 2
    assert main(["bench", "extract", "--input", str(tmp_path / "nope")]) == 2
    assert main(["bench", "extract", "--input", str(tmp_path), "--mb", "0.01"]) == 2
    assert "no text" in capsys.readouterr().err
