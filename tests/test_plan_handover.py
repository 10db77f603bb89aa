"""The plan the command line hands to its flow: taken over only when it fits the run."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest

from pipeline import plan as planning
from pipeline.plan import hand_over, make_plan, taken_over
from pipeline.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text("In 2024 the United States gave $3 million to Peru.\n")
    (inputs / "b.txt").write_text("Peru and the United States met on May 2, 2026.\n")
    return Settings(inputs, tmp_path / "out", batch_size=7, document_timeout=30.0)


def test_a_handed_over_plan_is_taken_over_as_it_was(settings: Settings) -> None:
    plan = make_plan(settings)
    path = hand_over(plan)
    assert path.parent == plan.work_dir
    assert taken_over(str(path), settings) == plan


@pytest.mark.parametrize(
    "change",
    [
        {"batch_size": 8},
        {"max_document_bytes": 1000},
        {"document_timeout": 5.0},
        {"output_dir": Path("elsewhere")},
    ],
)
def test_a_plan_made_with_other_settings_is_not_taken_over(
    settings: Settings, change: dict[str, object], tmp_path: Path
) -> None:
    path = hand_over(make_plan(settings))
    if "output_dir" in change:
        change = {"output_dir": tmp_path / "elsewhere"}
    assert taken_over(str(path), dataclasses.replace(settings, **change)) is None  # type: ignore[arg-type]


def test_a_plan_of_other_code_is_not_taken_over(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = hand_over(make_plan(settings))
    monkeypatch.setattr(planning, "code_version", lambda *args: "other-code")
    assert taken_over(str(path), settings) is None


def test_no_file_a_damaged_one_or_another_object_is_no_plan(
    settings: Settings, tmp_path: Path
) -> None:
    assert taken_over(None, settings) is None
    assert taken_over(str(tmp_path / "missing.pickle"), settings) is None
    damaged = tmp_path / "damaged.pickle"
    damaged.write_bytes(pickle.dumps(make_plan(settings))[:40])
    assert taken_over(str(damaged), settings) is None
    other = tmp_path / "other.pickle"
    other.write_bytes(pickle.dumps({"not": "a plan"}))
    assert taken_over(str(other), settings) is None


def test_the_flow_takes_the_plan_over_without_scanning_the_inputs(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows import release_flow

    plan = make_plan(settings)
    path = hand_over(plan)

    def no_scan(_settings: Settings) -> None:
        raise AssertionError("scanned the inputs again")

    monkeypatch.setattr(release_flow, "make_plan", no_scan)
    assert release_flow.plan_run.fn(settings, str(path)) == plan
    path.unlink()
    with pytest.raises(AssertionError, match="scanned"):  # no plan handed over: it scans
        release_flow.plan_run.fn(settings, str(path))
