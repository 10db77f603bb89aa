"""Every output table, declared once.

The Parquet schemas, the Great Expectations suites, the dataset card and
``datapackage.json`` are all derived from these declarations; nothing infers a
schema from data.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

CONTRACT_VERSION = "1.0"

QUALIFIERS = ("approx", "min", "max")
DATE_PRECISIONS = ("day", "month", "year", "fiscal_year")
DATE_BASES = ("explicit", "document_context", "unresolved")
PUBLISHED_DATE_BASES = ("front_matter", "text", "inferred", "unknown")
ENTITY_TYPES = ("person", "organization", "agreement", "programme", "place", "event")
DOCUMENT_FORMATS = ("text", "markdown", "html")
DUPLICATE_KINDS = ("exact", "near")
DUPLICATE_LEVELS = ("document", "passage")
FLOW_STAGES = ("pledge", "commitment", "disbursement", "investment", "trade", "other")
QUARANTINE_REASONS = (
    "empty",
    "binary",
    "undecodable",
    "unsupported_type",
    "symlink_outside_input",
    "unreadable",
    "too_large",
    "no_text",
    "processing_error",
    "timeout",
)


@dataclass(frozen=True, slots=True)
class Field:
    """One column: name, Arrow type, nullability and what it means."""

    name: str
    type: pa.DataType
    description: str
    nullable: bool = True
    values: tuple[str, ...] | None = None  # closed vocabulary, when there is one
    unique: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    """One output table with its primary key."""

    name: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...] = ()
    is_fact: bool = False

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(f.name, f.type, nullable=f.nullable) for f in self.fields])

    @property
    def column_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} has no column {name!r}")


def _f(name: str, type_: pa.DataType, description: str, **kwargs: object) -> Field:
    return Field(name, type_, description, **kwargs)  # type: ignore[arg-type]


STR = pa.string()
I64 = pa.int64()
F64 = pa.float64()
DATE = pa.date32()

PROVENANCE: tuple[Field, ...] = (
    _f(
        "fact_id",
        STR,
        "Stable id: hash of document content hash, kind, span and value.",
        nullable=False,
        unique=True,
    ),
    _f("doc_id", STR, "Id of the document, stable for the same source path.", nullable=False),
    _f(
        "source_path",
        STR,
        "Source file path relative to the input folder, '/'-separated.",
        nullable=False,
    ),
    _f(
        "char_start",
        I64,
        "Start offset into the decoded source text (code points).",
        nullable=False,
    ),
    _f("char_end", I64, "End offset (exclusive) into the decoded source text.", nullable=False),
    _f("quote", STR, "Exactly source_text[char_start:char_end].", nullable=False),
    _f("passage_id", STR, "The passage that holds the fact.", nullable=False),
    _f("sentence", STR, "The cleaned sentence that holds the fact.", nullable=False),
    _f("extractor", STR, "name@version of the rule that produced the fact.", nullable=False),
)

DOCUMENTS = Table(
    "documents",
    "One row per usable input document, with its decoded source text and metadata.",
    (
        _f("doc_id", STR, "Stable id: hash of the source path.", nullable=False, unique=True),
        _f(
            "source_path",
            STR,
            "Path relative to the input folder, '/'-separated.",
            nullable=False,
            unique=True,
        ),
        _f("content_sha256", STR, "sha256 of the raw file bytes.", nullable=False),
        _f("bytes", I64, "Size of the raw file in bytes.", nullable=False),
        _f("encoding", STR, "Encoding the bytes were decoded with.", nullable=False),
        _f("format", STR, "Source format.", nullable=False, values=DOCUMENT_FORMATS),
        _f("title", STR, "Document title (front matter, HTML title or first heading)."),
        _f("publisher", STR, "Issuing organisation, when stated or derivable."),
        _f("published_date", STR, "Publication date, ISO 8601, partial allowed."),
        _f(
            "published_date_precision",
            STR,
            "Precision of published_date.",
            values=("day", "month", "year"),
        ),
        _f(
            "published_date_basis",
            STR,
            "Where published_date comes from.",
            nullable=False,
            values=PUBLISHED_DATE_BASES,
        ),
        _f("source_url", STR, "Canonical URL of the source, when known."),
        _f("tags", pa.list_(STR), "Tags from the front matter."),
        _f("front_matter", STR, "The parsed YAML front matter as JSON, when present."),
        _f("front_matter_error", STR, "Why the front matter could not be parsed, if so."),
        _f("n_chars", I64, "Length of source_text in code points.", nullable=False),
        _f("n_passages", I64, "Number of passages cleaned from the document.", nullable=False),
        _f("duplicate_of", STR, "doc_id of the canonical copy when this is a duplicate."),
        _f("duplicate_kind", STR, "Kind of duplicate.", values=DUPLICATE_KINDS),
        _f(
            "source_text",
            STR,
            "The decoded source text (BOM removed, before cleaning).",
            nullable=False,
        ),
    ),
    primary_key=("doc_id",),
)

PASSAGES = Table(
    "passages",
    "Cleaned passages (paragraphs, bullets, headings' bodies) with their source extent.",
    (
        _f(
            "passage_id",
            STR,
            "Stable id: hash of doc_id and source extent.",
            nullable=False,
            unique=True,
        ),
        _f("doc_id", STR, "The document the passage belongs to.", nullable=False),
        _f("ordinal", I64, "Position of the passage in its document, from 0.", nullable=False),
        _f("heading", STR, "The nearest heading above the passage."),
        _f(
            "kind",
            STR,
            "Structural kind of the passage.",
            nullable=False,
            values=("paragraph", "bullet", "heading"),
        ),
        _f(
            "text",
            STR,
            "Cleaned text: markup removed, lines unwrapped, Unicode normalised.",
            nullable=False,
        ),
        _f("char_start", I64, "Start of the passage in the source text.", nullable=False),
        _f("char_end", I64, "End (exclusive) of the passage in the source text.", nullable=False),
        _f("links", pa.list_(STR), "URLs of links whose anchor text is in the passage."),
        _f("topics", pa.list_(STR), "Topics of the passage from the documented taxonomy."),
        _f("text_sha256", STR, "sha256 of the normalised passage text.", nullable=False),
        _f("duplicate_of", STR, "passage_id of an earlier identical passage, if any."),
    ),
    primary_key=("passage_id",),
)

DUPLICATES = Table(
    "duplicates",
    "Duplicate relations between documents and between passages.",
    (
        _f("level", STR, "document or passage.", nullable=False, values=DUPLICATE_LEVELS),
        _f("id", STR, "doc_id or passage_id of the duplicate.", nullable=False),
        _f("duplicate_of", STR, "Id of the canonical copy.", nullable=False),
        _f("kind", STR, "exact or near.", nullable=False, values=DUPLICATE_KINDS),
        _f("similarity", F64, "Similarity in [0, 1] (1 for exact).", nullable=False),
        _f("method", STR, "How the pair was found.", nullable=False),
    ),
    primary_key=("level", "id"),
)

MONEY = Table(
    "money",
    "Money amounts stated in the documents.",
    (
        *PROVENANCE,
        _f("amount", F64, "Amount in `currency`; null for vague amounts."),
        _f("currency", STR, "ISO 4217 code."),
        _f("amount_usd", F64, "Amount in US dollars; null when not convertible."),
        _f("amount_low_usd", F64, "Lower bound in USD implied by the qualifier."),
        _f("amount_high_usd", F64, "Upper bound in USD implied by the qualifier."),
        _f(
            "qualifier",
            STR,
            "approx, min or max; null when the amount is exact.",
            values=QUALIFIERS,
        ),
        _f("period", STR, "Time the amount refers to: 2012, FY2015, FY2015-, 2001-, ..."),
        _f("what", STR, "Short phrase: what the amount is for."),
        _f(
            "funder",
            STR,
            "Organisation or country providing the money, when the sentence names it.",
        ),
        _f("recipient", STR, "Organisation or country receiving it, when the sentence names it."),
        _f(
            "flow_stage",
            STR,
            "pledge, commitment, disbursement, investment, trade or other.",
            values=FLOW_STAGES,
        ),
        _f(
            "claim_id",
            STR,
            "The claim (claims.claim_id) this fact states; every fact has exactly one.",
            nullable=False,
        ),
    ),
    primary_key=("fact_id",),
    is_fact=True,
)

QUANTITIES = Table(
    "quantities",
    "Counts of things and people, and percentages.",
    (
        *PROVENANCE,
        _f("value", F64, "The number.", nullable=False),
        _f("qualifier", STR, "approx, min or max; null when exact.", values=QUALIFIERS),
        _f("unit", STR, "The counted noun (jobs, helicopters, percent)."),
        _f(
            "claim_id",
            STR,
            "The claim (claims.claim_id) this fact states; every fact has exactly one.",
            nullable=False,
        ),
    ),
    primary_key=("fact_id",),
    is_fact=True,
)

DATES = Table(
    "dates",
    "Calendar references in the body text.",
    (
        *PROVENANCE,
        _f("iso", STR, "2024-05-09, 2024-05, 2024 or FY2015; null when the year is unknown."),
        _f(
            "precision",
            STR,
            "day, month, year or fiscal_year.",
            nullable=False,
            values=DATE_PRECISIONS,
        ),
        _f("date_start", DATE, "First day of the interval the reference covers."),
        _f("date_end", DATE, "Last day of the interval the reference covers."),
        _f("basis", STR, "How the date was resolved.", nullable=False, values=DATE_BASES),
        _f(
            "claim_id",
            STR,
            "The claim (claims.claim_id) this fact states; every fact has exactly one.",
            nullable=False,
        ),
    ),
    primary_key=("fact_id",),
    is_fact=True,
)

ENTITIES = Table(
    "entities",
    "Mentions of people, organisations, agreements, programmes, places and events.",
    (
        *PROVENANCE,
        _f(
            "entity_id",
            STR,
            "Stable id of the canonical entity (hash of type and name).",
            nullable=False,
        ),
        _f("name", STR, "Canonical name.", nullable=False),
        _f("type", STR, "Entity type.", nullable=False, values=ENTITY_TYPES),
        _f(
            "n_documents",
            I64,
            "Number of documents (copies included) that mention this entity_id.",
            nullable=False,
        ),
    ),
    primary_key=("fact_id",),
    is_fact=True,
)

CLAIM_KINDS = ("money", "quantities", "dates")

CLAIMS = Table(
    "claims",
    "Facts that state the same thing (kind, compatible value, similar sentence) across "
    "documents; one row per claim, singletons included.",
    (
        _f(
            "claim_id",
            STR,
            "Stable id: hash of kind, value and the representative fact_id.",
            nullable=False,
            unique=True,
        ),
        _f("kind", STR, "Fact table the claim's facts are in.", nullable=False, values=CLAIM_KINDS),
        _f(
            "value",
            STR,
            "Normalised value of the representative fact: 'USD 20000000', '15 year', '2026'.",
            nullable=False,
        ),
        _f("period", STR, "Period of the money claim (money.period), else null."),
        _f("quote", STR, "Quote of the representative fact.", nullable=False),
        _f("sentence", STR, "Sentence of the representative fact.", nullable=False),
        _f("n_facts", I64, "Number of fact rows in the claim.", nullable=False),
        _f("n_documents", I64, "Number of documents stating it, copies included.", nullable=False),
        _f(
            "n_independent_sources",
            I64,
            "Number of distinct original documents (a copy counts as its original).",
            nullable=False,
        ),
        _f("first_published", STR, "Earliest published_date of its documents (ISO, partial)."),
        _f("latest_published", STR, "Latest published_date of its documents (ISO, partial)."),
        _f("doc_ids", pa.list_(STR), "The documents stating it, sorted.", nullable=False),
        _f("fact_ids", pa.list_(STR), "Its fact rows, sorted.", nullable=False),
    ),
    primary_key=("claim_id",),
)

QUARANTINE = Table(
    "quarantine",
    "Input files that could not be used, with the reason.",
    (
        _f("source_path", STR, "Path relative to the input folder.", nullable=False, unique=True),
        _f("stage", STR, "Stage that rejected the file.", nullable=False),
        _f("reason", STR, "Short reason code.", nullable=False, values=QUARANTINE_REASONS),
        _f("message", STR, "Human-readable explanation naming the problem.", nullable=False),
        _f("bytes", I64, "Size of the file in bytes, when readable."),
        _f("content_sha256", STR, "sha256 of the file bytes, when readable."),
    ),
    primary_key=("source_path",),
)

MANIFEST_INPUTS = Table(
    "inputs",
    "The input files listed in a release's manifest.json (validated, not a published table).",
    (
        _f("path", STR, "Input path relative to the input folder.", nullable=False, unique=True),
        _f(
            "sha256",
            STR,
            "sha256 of the file; null when it was not read (unreadable, or a "
            "symlink leading outside the input folder).",
        ),
        _f("bytes", I64, "Size of the file in bytes; null when it was not read."),
    ),
    primary_key=("path",),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        DOCUMENTS,
        PASSAGES,
        DUPLICATES,
        MONEY,
        QUANTITIES,
        DATES,
        ENTITIES,
        CLAIMS,
        QUARANTINE,
    )
}
FACT_TABLES: tuple[str, ...] = tuple(name for name, t in TABLES.items() if t.is_fact)


# Columns computed over the whole corpus when batches are assembled (pipeline.claims):
# batch work files are written without them, since they cannot be known per batch.
ASSEMBLED_COLUMNS: dict[str, tuple[str, ...]] = {
    **{name: ("claim_id",) for name in CLAIM_KINDS},
    "entities": ("n_documents",),
}


def batch_schema(name: str) -> pa.Schema:
    """The declared schema minus the columns only assembly can compute."""
    schema = TABLES[name].schema
    for column in ASSEMBLED_COLUMNS.get(name, ()):
        schema = schema.remove(schema.get_field_index(column))
    return schema


def with_columns(name: str, table: pa.Table, values: Mapping[str, Sequence[Any]]) -> pa.Table:
    """``table`` with ``values`` as these columns (added or replaced), typed as declared,
    in the declared column order of table ``name``."""
    schema = TABLES[name].schema
    for column, data in values.items():
        field = schema.field(column)
        array = pa.array(data, type=field.type)
        index = table.schema.get_field_index(column)
        if index < 0:
            table = table.append_column(field, array)
        else:
            table = table.set_column(index, field, array)
    return table.select(schema.names)


def empty_table(name: str) -> pa.Table:
    """An empty Arrow table with the declared schema."""
    return TABLES[name].schema.empty_table()


def to_arrow(name: str, rows: list[dict[str, object]], *, batch: bool = False) -> pa.Table:
    """Rows (dicts) to an Arrow table with exactly the declared (or batch) schema and order."""
    schema = batch_schema(name) if batch else TABLES[name].schema
    columns = dict(zip(schema.names, _columns(schema.names, rows), strict=True))
    return pa.Table.from_pydict(columns, schema=schema)


def _columns(names: list[str], rows: list[dict[str, object]]) -> list[list[object]]:
    """The values of each named key over the rows (None where a row lacks the key).

    One itemgetter per row and a transpose, both in C, when every row has every key
    (the usual case): twice as fast as a ``row.get`` per row and column.
    """
    if len(names) < 2 or not rows:
        return [[row.get(n) for row in rows] for n in names]
    try:
        values = list(map(operator.itemgetter(*names), rows))
    except KeyError:
        return [[row.get(n) for row in rows] for n in names]
    return [list(column) for column in zip(*values, strict=True)]


__all__ = [
    "ASSEMBLED_COLUMNS",
    "CLAIM_KINDS",
    "CONTRACT_VERSION",
    "FACT_TABLES",
    "TABLES",
    "Field",
    "Table",
    "batch_schema",
    "empty_table",
    "to_arrow",
]
