"""One settings object: environment variables (prefix PIPELINE_) over defaults."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return int(value) if value else default
    except ValueError:  # int()'s own message does not say which variable
        raise ValueError(f"{name}={value!r} is not a whole number; fix or unset it") from None


def _env_int_or_none(name: str) -> int | None:
    return _env_int(name, 0) if os.environ.get(name) else None


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        return float(value) if value else default
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number; fix or unset it") from None


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _sha256(path: Path) -> str | None:
    """The file's sha256, None when it cannot be read (the gate then fails and says why)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@dataclass(frozen=True, slots=True)
class Settings:
    input_dir: Path = field(default_factory=lambda: Path(os.environ.get("PIPELINE_INPUT", "seeds")))
    output_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("PIPELINE_OUTPUT", "outputs"))
    )
    expectations_dir: Path = field(
        default_factory=lambda: Path(
            os.environ.get("PIPELINE_EXPECTATIONS", PROJECT_ROOT / "expectations")
        )
    )
    # Larger files are quarantined ('too_large') rather than read.
    max_document_bytes: int = field(
        default_factory=lambda: _env_int("PIPELINE_MAX_DOCUMENT_BYTES", 50 * 1024 * 1024)
    )
    # Documents per Prefect task on average; None: by corpus size, 500 to 2,000
    # (batching.default_batch_size).
    batch_size: int | None = field(default_factory=lambda: _env_int_or_none("PIPELINE_BATCH_SIZE"))
    # Seconds one document may take to clean and extract before it is quarantined
    # ('timeout'); 0 turns the limit off. Generous: a 50 MB text takes about two minutes.
    document_timeout: float = field(
        default_factory=lambda: _env_float("PIPELINE_DOCUMENT_TIMEOUT", 300.0)
    )
    # Processes that read, clean and extract batches (1: all in the flow's process).
    # Not part of the fingerprint: the worker count never changes a release's content.
    workers: int = field(default_factory=lambda: _env_int("PIPELINE_WORKERS", os.cpu_count() or 1))
    # Where batch tasks run: "local" (the process pool above) or "dask" (pipeline.runners),
    # on the scheduler at dask_address or on a LocalCluster of `workers` processes. Not part
    # of the fingerprint either: both runners build the same release.
    runner: str = field(default_factory=lambda: os.environ.get("PIPELINE_RUNNER", "local"))
    dask_address: str | None = field(
        default_factory=lambda: os.environ.get("PIPELINE_DASK_ADDRESS") or None
    )
    # Optional accuracy gate: score the staged release against this gold file and publish
    # only when every scored kind (money, quantities, dates) reaches gold_min_f1.
    gold_file: Path | None = field(default_factory=lambda: _env_path("PIPELINE_GOLD"))
    gold_min_f1: float = field(default_factory=lambda: _env_float("PIPELINE_GOLD_MIN_F1", 0.9))

    def __post_init__(self) -> None:
        if not 0.0 <= self.gold_min_f1 <= 1.0:
            raise ValueError(f"PIPELINE_GOLD_MIN_F1 must be in [0, 1], not {self.gold_min_f1}")

    def config_fingerprint(self) -> dict[str, object]:
        """Settings that change the release or the gate it passed (the up-to-date check).

        The gold file's content and threshold count only when a gold file is configured, so
        turning the gate on (or changing the gold) re-runs an otherwise unchanged release.
        """
        config: dict[str, object] = {
            "max_document_bytes": self.max_document_bytes,
            "document_timeout": self.document_timeout,
        }
        if self.gold_file is not None:
            config["gold"] = {"sha256": _sha256(self.gold_file), "min_f1": self.gold_min_f1}
        return config
