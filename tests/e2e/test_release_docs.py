"""The descriptive files of the seeds release: datapackage.json, report.html, the card."""

from __future__ import annotations

import re
from pathlib import Path

import frictionless
import pytest

from pipeline.schemas import TABLES
from tests.e2e.conftest import latest_release

pytestmark = pytest.mark.e2e


def test_frictionless_validates_the_datapackage_and_every_row(seeds_release: Path) -> None:
    release = latest_release(seeds_release)
    report = frictionless.validate(release / "datapackage.json")
    errors = [f"{t.name}: {e.type}: {e.note}" for t in report.tasks for e in t.errors]
    assert report.valid, errors[:20]
    assert {task.name for task in report.tasks} == set(TABLES)


def test_report_html_is_in_the_release_and_loads_nothing(seeds_release: Path) -> None:
    page = (latest_release(seeds_release) / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert page.count("<svg") == 2  # amounts by year and by topic
    assert "Validation <span class=ok>passed</span>" in page
    for name in TABLES:
        assert f"<td>{name}</td>" in page


def test_the_card_lists_the_files_and_the_sources(seeds_release: Path) -> None:
    card = (latest_release(seeds_release) / "README.md").read_text(encoding="utf-8")
    for heading in ("## Files", "## Tables", "## Sources", "## Licence", "## How to cite"):
        assert heading in card
    assert "`report.html`" in card
    assert "https://www.whitehouse.gov/" in card  # a source URL
