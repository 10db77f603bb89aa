"""The cheap part of a run: scan inputs and decide whether anything needs doing."""

from __future__ import annotations

from pathlib import Path

from pipeline.publish.fingerprint import (
    code_version,
    input_fingerprint,
    run_fingerprint,
    scan_inputs,
)
from pipeline.settings import PROJECT_ROOT, Settings
from pipeline.stages import HASH_CACHE, Inputs, RunPlan
from pipeline.validate.accuracy import GoldGate


def make_plan(settings: Settings) -> RunPlan:
    """Hash inputs, code and config; no Prefect, no GX, no Parquet."""
    if not settings.input_dir.is_dir():
        raise FileNotFoundError(f"input folder {settings.input_dir} does not exist")
    # kept with the output's work files: a rerun reads only the files whose stat changed
    inputs = scan_inputs(settings.input_dir, settings.output_dir / ".work" / HASH_CACHE)
    code = code_version(settings.expectations_dir, [PROJECT_ROOT / "flows"])
    inputs_fp = input_fingerprint(inputs)
    gold = settings.gold_file
    return RunPlan(
        input_dir=settings.input_dir.resolve(),
        output_dir=settings.output_dir.resolve(),
        expectations_dir=Path(settings.expectations_dir).resolve(),
        inputs=Inputs(inputs),
        input_fingerprint=inputs_fp,
        code_version=code,
        run_fingerprint=run_fingerprint(inputs_fp, code, settings.config_fingerprint()),
        max_document_bytes=settings.max_document_bytes,
        batch_size=settings.batch_size,
        gold=None if gold is None else GoldGate(gold.resolve(), settings.gold_min_f1),
        document_timeout=settings.document_timeout or None,
    )
