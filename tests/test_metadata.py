from __future__ import annotations

from pipeline.clean.passages import clean_document
from pipeline.document import Document
from pipeline.extract.dates import find_full_dates
from pipeline.ingest.readers import parse_document
from pipeline.metadata import describe


def _describe(text: str, name: str = "d.txt"):  # type: ignore[no-untyped-def]
    doc = parse_document(name, text.encode("utf-8"))
    assert isinstance(doc, Document)
    return describe(doc, clean_document(doc), find_full_dates)


def test_front_matter_wins_and_timestamps_are_metadata() -> None:
    meta = _describe(
        "---\ntitle: 'Fact Sheet: X'\ndate: '2024-11-15'\n"
        "source_url: https://www.state.gov/a\n---\nBody on May 1, 2020.\n",
        "a.md",
    )
    assert (
        meta.title,
        meta.published_date,
        meta.published_date_precision,
        meta.published_date_basis,
    ) == ("Fact Sheet: X", "2024-11-15", "day", "front_matter")
    assert meta.publisher == "U.S. Department of State"


def test_title_suffix_names_publisher_and_issued_on_gives_text_date() -> None:
    meta = _describe(
        "Joint Statement on Trade – United States Department of State\n\n"
        "The following statement was issued by both governments on March 3 in Lima.\n\n"
        "The ministers met in Lima on March 3, 2023, and agreed to meet again.\n"
    )
    assert meta.title == "Joint Statement on Trade"
    assert meta.publisher == "U.S. Department of State"
    assert (meta.published_date, meta.published_date_basis) == ("2023-03-03", "text")


def test_caption_date_only_gives_inferred_month_and_nothing_gives_unknown() -> None:
    inferred = _describe(
        "Visit to Lima\n\nThe minister met officials (Jan. 9, 2019.)\n\n"
        "Officials discussed trade and security cooperation at length.\n"
    )
    assert (
        inferred.published_date,
        inferred.published_date_precision,
        inferred.published_date_basis,
    ) == ("2019-01", "month", "inferred")
    unknown = _describe("Statement\n\nLeaders agreed to cooperate on trade.\n")
    assert (unknown.published_date, unknown.published_date_basis) == (None, "unknown")
