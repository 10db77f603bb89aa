"""report.html: self-contained, complete, deterministic and escaped, on inline tables."""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import pytest

from pipeline.publish import report_html
from pipeline.publish.report_html import (
    NO_TOPIC,
    UNDATED,
    amounts_by_topic,
    amounts_by_year,
    claimed_money,
    render,
    usd,
    year_of,
)
from pipeline.schemas import TABLES, to_arrow

SECTIONS = (
    "Tables",
    "Amounts by year",
    "Amounts by topic",
    "Duplicates",
    "Quarantine",
    "Validation",
)

HOSTILE = '<script>alert("x")</script>'


def _money(
    fact: str, claim: str, doc: str, usd_amount: float | None, **extra: Any
) -> dict[str, Any]:
    return {
        "fact_id": fact,
        "claim_id": claim,
        "doc_id": doc,
        "passage_id": extra.pop("passage_id", "p1"),
        "amount_usd": usd_amount,
        "flow_stage": extra.pop("flow_stage", "pledge"),
        **extra,
    }


def _tables(title: str = "Joint Statement") -> dict[str, pa.Table]:
    rows: dict[str, list[dict[str, Any]]] = {
        "documents": [
            {
                "doc_id": "d1",
                "source_path": "a.txt",
                "title": title,
                "published_date": "2024-05-09",
            },
            {"doc_id": "d2", "source_path": "b.txt", "title": "Copy", "duplicate_of": "d1"},
        ],
        "passages": [
            {"passage_id": "p1", "doc_id": "d1", "topics": ["security", "trade_investment"]},
            {"passage_id": "p2", "doc_id": "d1", "topics": []},
        ],
        "money": [
            _money("f1", "c1", "d1", 65e6, period="FY2015-"),
            _money("f2", "c1", "d2", 65e6, period="FY2015-"),  # the same claim in the copy
            _money("f3", "c2", "d1", 2e9, flow_stage="trade", passage_id="p2"),
            _money("f4", "c3", "d2", None),  # not convertible: left out
        ],
        "duplicates": [
            {
                "level": "document",
                "id": "d2",
                "duplicate_of": "d1",
                "kind": "near",
                "similarity": 0.9,
            },
            {
                "level": "passage",
                "id": "p9",
                "duplicate_of": "p1",
                "kind": "exact",
                "similarity": 1.0,
            },
        ],
        "quarantine": [
            {"source_path": "empty.txt", "stage": "ingest", "reason": "empty", "message": "empty"},
            {"source_path": "x.bin", "stage": "ingest", "reason": "binary", "message": HOSTILE},
        ],
    }
    return {name: to_arrow(name, rows.get(name, [])) for name in TABLES}


def _manifest(tables: dict[str, pa.Table], version: str = "20260101T000000Z-abc") -> dict[str, Any]:
    return {
        "version": version,
        "parent_version": None,
        "created_at": "2026-01-01T00:00:00Z",
        "pipeline_version": "0.1.0",
        "contract_version": "1.0",
        "inputs": [{"path": "a.txt"}, {"path": "b.txt"}, {"path": "empty.txt"}],
        "tables": {
            name: {"path": f"{name}.parquet", "rows": t.num_rows, "bytes": 100, "sha256": "0" * 64}
            for name, t in tables.items()
        },
        "validation": {
            "money": {"success": True, "evaluated": 45, "failed": 0},
            "corpus_assertions": {"success": False, "evaluated": 3, "failed": 1},
        },
    }


@pytest.fixture(scope="module")
def page() -> str:
    tables = _tables()
    return render(_manifest(tables), tables)


def test_the_page_loads_nothing_from_outside(page: str) -> None:
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"<(?:script|link|img|iframe)\b", page, re.I)
    assert "@import" not in page
    assert not re.search(r"""url\(\s*["']?(?!#)""", page)  # only the SVG's own clip paths
    assert "<style>" in page  # the CSS is inline


def test_the_page_has_every_section_and_both_plots(page: str) -> None:
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in page
    assert page.count("<svg") == 2
    assert "<?xml" not in page  # the SVG prolog is stripped to inline the plots
    assert "Validation <span class=fail>FAILED</span>: 1 of 2 suite(s) passed" in page
    assert "corpus_assertions" in page
    assert "a.txt (Joint Statement)" in page  # the document the copy duplicates
    assert "<td>binary</td>" in page  # quarantine reasons


def test_the_same_release_renders_the_same_bytes() -> None:
    tables = _tables()
    assert render(_manifest(tables), tables) == render(_manifest(tables), tables)


def test_a_draft_made_before_validation_gives_the_page_of_the_validated_release() -> None:
    # A run drafts the page while the release is validated: the draft must not depend on
    # the validation summary, and the summary added later must give render's very page.
    tables = _tables()
    validated = _manifest(tables)
    unvalidated = {**validated, "validation": None}
    early = report_html.draft(unvalidated, tables)
    assert early == report_html.draft(validated, tables)
    assert report_html.page(early, validated["validation"]) == render(validated, tables)
    assert "no validation summary" in report_html.page(early, None)


def test_text_from_the_data_is_escaped() -> None:
    tables = _tables(title=HOSTILE)
    page = render(_manifest(tables, version='v<1>&"'), tables)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<h1>Release v&lt;1&gt;&amp;&quot;</h1>" in page
    assert "<title>Release report v&lt;1&gt;&amp;&quot;</title>" in page


def test_a_release_without_money_or_problems_still_renders() -> None:
    tables = {name: to_arrow(name, []) for name in TABLES}
    manifest = _manifest(tables)
    del manifest["validation"]
    page = render(manifest, tables)
    assert "<svg" not in page
    assert "No amount in this release could be converted to USD." in page
    assert "No input was quarantined" in page and "No duplicate" in page
    assert "The manifest holds no validation summary." in page


@pytest.mark.parametrize(
    ("period", "published", "expected"),
    [
        ("2012", "2024-05-09", ("2012", "period")),
        ("FY2015-", None, ("2015", "period")),
        ("2024-02", None, ("2024", "period")),
        (None, "2018-02", ("2018", "published")),
        (None, None, (UNDATED, "none")),
        ("recent", "unknown", (UNDATED, "none")),
    ],
)
def test_an_amount_belongs_to_its_period_else_its_publication_year(
    period: str | None, published: str | None, expected: tuple[str, str]
) -> None:
    assert year_of(period, published) == expected


def test_each_claim_counts_once_and_topics_count_each_amount_under_each_topic() -> None:
    tables = _tables()
    money = claimed_money(tables["money"].to_pandas(), tables["documents"].to_pandas())
    assert sorted(money["claim_id"]) == ["c1", "c2"]  # c1 once, c3 has no USD amount
    by_year = amounts_by_year(money)
    assert by_year.to_dict("records") == [
        {"year": "2015", "facts": 1, "usd": 65e6, "from_published": 0},
        {"year": "2024", "facts": 1, "usd": 2e9, "from_published": 1},
    ]
    by_topic = amounts_by_topic(money, tables["passages"].to_pandas())
    assert by_topic.to_dict("records") == [
        {"topic": NO_TOPIC, "facts": 1, "usd": 2e9},
        {"topic": "security", "facts": 1, "usd": 65e6},
        {"topic": "trade_investment", "facts": 1, "usd": 65e6},
    ]


def test_amounts_are_shown_short() -> None:
    assert [usd(1.6e10), usd(2.1e6), usd(750_000), usd(12)] == [
        "USD 16 bn",
        "USD 2.1 m",
        "USD 750 k",
        "USD 12",
    ]


def test_importing_the_module_does_not_import_matplotlib() -> None:
    # render imports it; the module itself must not, so `import pipeline...` stays fast
    source = report_html.__loader__.get_source(report_html.__name__)  # type: ignore[union-attr]
    assert source is not None
    top_level = [line for line in source.splitlines() if line.startswith(("import", "from"))]
    assert not any("matplotlib" in line for line in top_level)
