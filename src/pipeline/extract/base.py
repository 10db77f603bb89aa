"""Shared types of the extractors.

Every extractor is a pure function ``(text, ctx) -> list[Fact]`` over the cleaned
text of one passage. Offsets in the returned facts are into that cleaned text;
the caller maps them back to the source text and adds provenance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DocContext:
    """What an extractor may know about the document a passage comes from."""

    published_date: dt.date | None = None
    # 'day', 'month' or 'year': how much of published_date is known
    published_precision: str | None = None
    # month-first numeric dates (05/02/2013 = 2 May) for US sources
    month_first: bool = True


@dataclass(frozen=True, slots=True)
class MoneyFact:
    start: int
    end: int
    amount: float | None
    currency: str | None
    amount_usd: float | None
    qualifier: str | None
    period: str | None
    what: str | None
    extractor: str
    amount_low_usd: float | None = None
    amount_high_usd: float | None = None
    funder: str | None = None
    recipient: str | None = None
    flow_stage: str | None = None


@dataclass(frozen=True, slots=True)
class QuantityFact:
    start: int
    end: int
    value: float
    qualifier: str | None
    unit: str | None
    extractor: str


@dataclass(frozen=True, slots=True)
class DateFact:
    start: int
    end: int
    iso: str | None
    precision: str
    date_start: dt.date | None
    date_end: dt.date | None
    basis: str
    extractor: str


@dataclass(frozen=True, slots=True)
class EntityFact:
    start: int
    end: int
    name: str
    type: str
    extractor: str
