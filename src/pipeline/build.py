"""Documents to table rows: clean, describe, extract. Pure; the flow does the I/O."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from pipeline.clean.passages import Passage, clean_document
from pipeline.document import Document, Rejection
from pipeline.extract.dates import find_full_dates
from pipeline.extract.run import document_context, extract_document
from pipeline.extract.topics import passage_topics
from pipeline.metadata import DocumentMetadata, describe
from pipeline.schemas import to_arrow
from pipeline.timelimit import TimeLimitExceeded, time_limit

Row = dict[str, Any]
BATCH_TABLES = ("documents", "passages", "money", "quantities", "dates", "entities", "quarantine")


def build_tables(
    items: Iterable[Document | Rejection],
    repeated: frozenset[str] = frozenset(),
    document_timeout: float | None = None,
) -> dict[str, pa.Table]:
    """Every table's rows for a batch of read inputs.

    A document that takes longer than ``document_timeout`` seconds is quarantined
    ('timeout') and the batch goes on (see ``pipeline.timelimit``).
    """
    rows: dict[str, list[Row]] = {name: [] for name in BATCH_TABLES}
    for item in items:
        try:
            with time_limit(document_timeout):
                found = _rows_for(item, repeated)
        except TimeLimitExceeded as err:
            found = {"quarantine": [_timeout_row(item, err)]}
        for name, new_rows in found.items():
            rows[name].extend(new_rows)
    return {name: to_arrow(name, rows[name], batch=True) for name in BATCH_TABLES}


def _timeout_row(item: Document | Rejection, err: TimeLimitExceeded) -> Row:
    message = (
        f"{item.source_path}: processing {err}: quarantined so the run goes on "
        "(raise PIPELINE_DOCUMENT_TIMEOUT to let it finish)"
    )
    return rejection_row(
        Rejection(item.source_path, "extract", "timeout", message, item.bytes, item.content_sha256)
    )


def _rows_for(item: Document | Rejection, repeated: frozenset[str]) -> dict[str, list[Row]]:
    if isinstance(item, Rejection):
        return {"quarantine": [rejection_row(item)]}
    try:
        passages = clean_document(item, repeated)
        if not passages:
            return {
                "quarantine": [
                    rejection_row(
                        Rejection(
                            item.source_path,
                            "clean",
                            "no_text",
                            f"{item.source_path}: no text left after removing markup "
                            "and page chrome",
                            item.bytes,
                            item.content_sha256,
                        )
                    )
                ]
            }
        meta = describe(item, passages, find_full_dates)
        ctx = document_context(meta.published_date, meta.published_date_precision)
        facts = extract_document(item, passages, ctx)
    except Exception as err:  # one bad document must not stop the run: quarantine it
        return {
            "quarantine": [
                rejection_row(
                    Rejection(
                        item.source_path,
                        "extract",
                        "processing_error",
                        f"{item.source_path}: {type(err).__name__}: {err}",
                        item.bytes,
                        item.content_sha256,
                    )
                )
            ]
        }
    return {
        "documents": [document_row(item, meta, len(passages))],
        "passages": [passage_row(p) for p in passages],
        **facts,
    }


def rejection_row(rejection: Rejection) -> Row:
    """Rejection fields are exactly the quarantine table's columns."""
    return dataclasses.asdict(rejection)


def document_row(doc: Document, meta: DocumentMetadata, n_passages: int) -> Row:
    tags = (doc.front_matter or {}).get("tags", doc.metadata.get("tags"))
    return {
        "doc_id": doc.doc_id,
        "source_path": doc.source_path,
        "content_sha256": doc.content_sha256,
        "bytes": doc.bytes,
        "encoding": doc.encoding,
        "format": doc.format,
        "title": meta.title,
        "publisher": meta.publisher,
        "published_date": meta.published_date,
        "published_date_precision": meta.published_date_precision,
        "published_date_basis": meta.published_date_basis,
        "source_url": meta.source_url,
        "tags": _string_list(tags),
        "front_matter": None
        if doc.front_matter is None
        else json.dumps(doc.front_matter, sort_keys=True, ensure_ascii=False, default=str),
        "front_matter_error": doc.front_matter_error,
        "n_chars": len(doc.text),
        "n_passages": n_passages,
        "duplicate_of": None,
        "duplicate_kind": None,
        "source_text": doc.text,
    }


def _string_list(value: object) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, Sequence):
        return [str(v) for v in value]
    return [str(value)]


def passage_row(passage: Passage) -> Row:
    return {
        "passage_id": passage.passage_id,
        "doc_id": passage.doc_id,
        "ordinal": passage.ordinal,
        "heading": passage.heading,
        "kind": passage.kind,
        "text": passage.text,
        "char_start": passage.char_start,
        "char_end": passage.char_end,
        "links": list(passage.links),
        "topics": list(passage_topics(passage.text, passage.heading)),
        "text_sha256": passage.text_sha256,
        "duplicate_of": None,
    }
