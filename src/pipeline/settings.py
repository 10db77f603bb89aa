"""One settings object: environment variables (prefix PIPELINE_) over defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


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
    # Documents per Prefect task: task overhead is milliseconds, so batches stay large.
    batch_size: int = field(default_factory=lambda: _env_int("PIPELINE_BATCH_SIZE", 500))

    def config_fingerprint(self) -> dict[str, object]:
        """Settings that change the release content (part of the up-to-date check)."""
        return {"max_document_bytes": self.max_document_bytes}
