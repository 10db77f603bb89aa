"""Score a release's money, quantities and dates tables against a gold annotation file.

The rule is the one at the end of ``../shared/gold/README.md``. A predicted row matches a
gold record when

- the file name of its ``source_path`` equals the gold ``doc``,
- its ``[char_start, char_end)`` overlaps the gold span ``[char_start, char_start + len(quote))``,
- its value agrees: money ``amount_usd`` within 0.5 % (a gold ``amount_usd`` of null: the span
  alone decides), quantities ``value`` within 0.5 %, dates ``iso`` equal (null equals null).

Each gold record matches at most one prediction and each prediction at most one gold record.
Matching is greedy over every candidate pair in this order, so the result is deterministic:

1. exact spans first (same start and end),
2. then the larger overlap,
3. then the smaller distance between the spans (|start difference| + |end difference|),
4. then gold order (document, start, id), then prediction order (document, start, end, row).

Not scored: quantity records with ``subtype: duration`` and date records with
``region: front_matter``. They are left out of the gold side, so a prediction on them stays
unmatched and counts as a false hit (the report names the record it sits on).

Precision = matches / predictions, recall = matches / scored gold records, F1 their harmonic
mean; an empty denominator gives 1.0 (nothing to find, nothing wrongly found), so an empty
prediction table against a non-empty gold still scores F1 0. Predictions on documents the gold
file does not cover are not scored (they cannot be judged) and are counted separately.

On matched money rows ``qualifier`` and ``period`` accuracy are reported (null equals null).
Nulls arrive from pandas as ``None``, ``NaN`` or ``pd.NA``; all of them are null here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
import pyarrow as pa

KINDS: tuple[str, ...] = ("money", "quantities", "dates")
# release table -> top-level list of the gold file
GOLD_KEYS: dict[str, str] = {"money": "money", "quantities": "quantity", "dates": "date"}
# release column (and gold field) holding the value that has to agree
VALUE_FIELDS: dict[str, tuple[str, str]] = {
    "money": ("amount_usd", "amount_usd"),
    "quantities": ("value", "value"),
    "dates": ("iso", "iso"),
}
RELATIVE_TOLERANCE = 0.005
MONEY_ATTRIBUTES: tuple[str, ...] = ("qualifier", "period")

Value = float | str | None


class GoldError(ValueError):
    """The gold file is missing or does not follow the gold schema."""


class ReleaseError(ValueError):
    """The release folder is missing or lacks a scored table."""


# --- result types -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    """A gold record or a predicted row, as the report shows it."""

    kind: str
    doc: str
    char_start: int
    char_end: int
    quote: str
    value: Value
    gold_id: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    gold: Item
    predicted: Item
    exact_span: bool


@dataclass(frozen=True, slots=True)
class KindScore:
    kind: str
    gold: int
    predicted: int
    matched: int
    precision: float
    recall: float
    f1: float
    not_scored_gold: int
    misses: tuple[Item, ...]
    false_hits: tuple[Item, ...]
    matches: tuple[Match, ...]


@dataclass(frozen=True, slots=True)
class AttributeMismatch:
    """A matched money row whose attribute differs from the gold one."""

    gold_id: str | None
    doc: str
    quote: str
    char_start: int
    gold: str | None
    predicted: str | None


@dataclass(frozen=True, slots=True)
class AttributeAccuracy:
    name: str
    correct: int
    total: int
    accuracy: float | None  # None when nothing was matched
    errors: tuple[AttributeMismatch, ...]


@dataclass(frozen=True, slots=True)
class EvalResult:
    kinds: dict[str, KindScore]
    money_attributes: dict[str, AttributeAccuracy]
    gold_documents: tuple[str, ...]
    unscored_predictions: int  # rows on documents the gold file does not cover
    release: str | None = None
    gold_file: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for score in data["kinds"].values():
            score.pop("matches")  # the report lists what went wrong, not every hit
        return data


# --- inputs -----------------------------------------------------------------------------------


def load_gold(path: Path) -> dict[str, Any]:
    """Read and check a gold file; raise GoldError when it cannot be used."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise GoldError(f"gold file {path} does not exist") from err
    except (OSError, UnicodeDecodeError) as err:
        raise GoldError(f"cannot read gold file {path}: {err}") from err
    except json.JSONDecodeError as err:
        raise GoldError(f"gold file {path} is not valid JSON: {err}") from err
    check_gold(data, str(path))
    result: dict[str, Any] = data
    return result


def check_gold(data: object, name: str = "gold") -> None:
    """The parts of the gold schema the scoring reads."""
    if not isinstance(data, dict):
        raise GoldError(f"{name}: expected a JSON object at the top level")
    for kind, key in GOLD_KEYS.items():
        records = data.get(key)
        if not isinstance(records, list):
            raise GoldError(f"{name}: '{key}' must be a list of records")
        value_field = VALUE_FIELDS[kind][1]
        for i, record in enumerate(records):
            where = f"{name}: {key}[{i}]"
            if not isinstance(record, dict):
                raise GoldError(f"{where} is not an object")
            if not isinstance(record.get("doc"), str) or not isinstance(record.get("quote"), str):
                raise GoldError(f"{where}: 'doc' and 'quote' must be strings")
            start = record.get("char_start")
            if not isinstance(start, int) or isinstance(start, bool) or start < 0:
                raise GoldError(f"{where}: 'char_start' must be a non-negative integer")
            if value_field not in record:
                raise GoldError(f"{where}: no '{value_field}'")
    documents = data.get("documents", [])
    if not isinstance(documents, list) or not all(
        isinstance(d, dict) and isinstance(d.get("doc"), str) for d in documents
    ):
        raise GoldError(f"{name}: 'documents' must be a list of objects with a 'doc'")


def load_release_tables(release_dir: Path) -> dict[str, pd.DataFrame]:
    """The scored tables of a release folder; raise ReleaseError when one is missing."""
    if not release_dir.is_dir():
        raise ReleaseError(f"release folder {release_dir} does not exist")
    tables: dict[str, pd.DataFrame] = {}
    for kind in KINDS:
        path = release_dir / f"{kind}.parquet"
        if not path.is_file():
            raise ReleaseError(f"{release_dir} is not a release: no {path.name}")
        try:
            tables[kind] = pd.read_parquet(path)
        except (OSError, pa.ArrowException) as err:
            raise ReleaseError(f"cannot read {path}: {err}") from err
    return tables


# --- scoring ----------------------------------------------------------------------------------


def evaluate(
    tables: Mapping[str, pd.DataFrame | pa.Table],
    gold: Mapping[str, Any],
    *,
    release: str | None = None,
    gold_file: str | None = None,
) -> EvalResult:
    """Score ``tables`` (money, quantities, dates; a missing one counts as empty)."""
    check_gold(dict(gold))
    documents = _gold_documents(gold)
    kinds: dict[str, KindScore] = {}
    unscored = 0
    attributes: dict[str, AttributeAccuracy] = {}
    for kind in KINDS:
        frame = _frame(tables.get(kind))
        predicted = _predictions(kind, frame)
        unscored += sum(1 for p in predicted if p.doc not in documents)
        predicted = [p for p in predicted if p.doc in documents]
        scored, excluded = _gold_items(kind, gold.get(GOLD_KEYS[kind], []))
        kinds[kind] = score_kind(kind, scored, predicted, excluded)
        if kind == "money":
            attributes = _money_attributes(kinds[kind].matches, gold.get("money", []), frame)
    return EvalResult(
        kinds, attributes, tuple(sorted(documents)), unscored, release=release, gold_file=gold_file
    )


def score_kind(
    kind: str,
    gold: Sequence[Item],
    predicted: Sequence[Item],
    excluded: Sequence[Item] = (),
) -> KindScore:
    """Match one kind's predictions to its scored gold records (see the module doc)."""
    pairs: list[tuple[tuple[Any, ...], int, int]] = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(predicted):
            overlap = _overlap(g, p)
            if p.doc == g.doc and overlap > 0 and values_agree(kind, g.value, p.value):
                exact = p.char_start == g.char_start and p.char_end == g.char_end
                distance = abs(p.char_start - g.char_start) + abs(p.char_end - g.char_end)
                key = (not exact, -overlap, distance, _order(g), _order(p), pi)
                pairs.append((key, gi, pi))
    pairs.sort(key=lambda pair: pair[0])
    gold_used: dict[int, int] = {}
    pred_used: set[int] = set()
    for _, gi, pi in pairs:
        if gi not in gold_used and pi not in pred_used:
            gold_used[gi] = pi
            pred_used.add(pi)
    matches = tuple(
        Match(gold[gi], predicted[pi], _same_span(gold[gi], predicted[pi]))
        for gi, pi in sorted(gold_used.items(), key=lambda kv: _order(gold[kv[0]]))
    )
    misses = tuple(
        _explain_miss(kind, g, predicted)
        for gi, g in sorted(enumerate(gold), key=lambda x: _order(x[1]))
        if gi not in gold_used
    )
    false_hits = tuple(
        _explain_false_hit(kind, p, gold, excluded)
        for pi, p in sorted(enumerate(predicted), key=lambda x: (_order(x[1]), x[0]))
        if pi not in pred_used
    )
    precision, recall, f1 = prf(len(matches), len(predicted), len(gold))
    return KindScore(
        kind,
        len(gold),
        len(predicted),
        len(matches),
        precision,
        recall,
        f1,
        len(excluded),
        misses,
        false_hits,
        matches,
    )


def prf(matched: int, predicted: int, gold: int) -> tuple[float, float, float]:
    """Precision, recall, F1; an empty denominator gives 1.0 for that ratio."""
    precision = matched / predicted if predicted else 1.0
    recall = matched / gold if gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def values_agree(kind: str, gold: Value, predicted: Value) -> bool:
    """The value part of the rule for one kind."""
    if kind == "dates":
        return gold == predicted  # iso strings; null equals null
    if gold is None:
        return True  # e.g. 'millions of dollars': the span alone decides
    if predicted is None or isinstance(gold, str) or isinstance(predicted, str):
        return False
    return abs(predicted - gold) <= RELATIVE_TOLERANCE * abs(gold)


def is_null(value: object) -> bool:
    """None, NaN, pd.NA and NaT are all null."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


# --- helpers ----------------------------------------------------------------------------------


def _frame(table: pd.DataFrame | pa.Table | None) -> pd.DataFrame:
    if table is None:
        return pd.DataFrame()
    if isinstance(table, pa.Table):
        converted: pd.DataFrame = table.to_pandas()
        return converted
    return table


def _clean_value(kind: str, value: object) -> Value:
    if is_null(value):
        return None
    if kind == "dates":
        return str(value)
    return float(value)  # type: ignore[arg-type]


def _clean_str(value: object) -> str | None:
    return None if is_null(value) else str(value)


def _doc_name(source_path: object) -> str:
    return PurePosixPath(str(source_path).replace("\\", "/")).name


def _predictions(kind: str, frame: pd.DataFrame) -> list[Item]:
    if frame.empty:
        return []
    column = VALUE_FIELDS[kind][0]
    missing = {"source_path", "char_start", "char_end", column} - set(frame.columns)
    if missing:
        raise ReleaseError(f"{kind} table lacks column(s) {', '.join(sorted(missing))}")
    quotes = frame["quote"] if "quote" in frame.columns else pd.Series([""] * len(frame))
    return [
        Item(
            kind,
            _doc_name(path),
            int(start),
            int(end),
            "" if is_null(quote) else str(quote),
            _clean_value(kind, value),
        )
        for path, start, end, quote, value in zip(
            frame["source_path"],
            frame["char_start"],
            frame["char_end"],
            quotes,
            frame[column],
            strict=True,
        )
    ]


def _excluded_reason(kind: str, record: Mapping[str, Any]) -> str | None:
    if kind == "quantities" and record.get("subtype") == "duration":
        return "duration (not scored)"
    if kind == "dates" and record.get("region") == "front_matter":
        return "front matter (not scored)"
    return None


def _gold_items(kind: str, records: Iterable[Mapping[str, Any]]) -> tuple[list[Item], list[Item]]:
    scored: list[Item] = []
    excluded: list[Item] = []
    field = VALUE_FIELDS[kind][1]
    for record in records:
        start = int(record["char_start"])
        quote = str(record["quote"])
        reason = _excluded_reason(kind, record)
        item = Item(
            kind,
            str(record["doc"]),
            start,
            start + len(quote),
            quote,
            _clean_value(kind, record.get(field)),
            _clean_str(record.get("id")),
            reason,
        )
        (excluded if reason else scored).append(item)
    return scored, excluded


def _gold_documents(gold: Mapping[str, Any]) -> set[str]:
    documents = {str(d["doc"]) for d in gold.get("documents", [])}
    for key in GOLD_KEYS.values():
        documents.update(str(r["doc"]) for r in gold.get(key, []))
    return documents


def _overlap(a: Item, b: Item) -> int:
    return min(a.char_end, b.char_end) - max(a.char_start, b.char_start)


def _same_span(a: Item, b: Item) -> bool:
    return a.char_start == b.char_start and a.char_end == b.char_end


def _order(item: Item) -> tuple[str, int, int, str]:
    return (item.doc, item.char_start, item.char_end, item.gold_id or "")


def _overlapping(item: Item, others: Iterable[Item]) -> list[Item]:
    return [o for o in others if o.doc == item.doc and _overlap(item, o) > 0]


def _explain_miss(kind: str, gold: Item, predicted: Sequence[Item]) -> Item:
    near = _overlapping(gold, predicted)
    if not near:
        note = "no prediction on this span"
    else:
        found = "; ".join(
            f"[{p.char_start}:{p.char_end}] {p.quote!r} = {_show(p.value)}"
            + ("" if values_agree(kind, gold.value, p.value) else " (value differs)")
            for p in near
        )
        note = f"overlapping prediction(s): {found}"
    return Item(
        gold.kind,
        gold.doc,
        gold.char_start,
        gold.char_end,
        gold.quote,
        gold.value,
        gold.gold_id,
        note,
    )


def _explain_false_hit(
    kind: str, predicted: Item, gold: Sequence[Item], excluded: Sequence[Item]
) -> Item:
    on_excluded = _overlapping(predicted, excluded)
    on_gold = _overlapping(predicted, gold)
    if on_excluded:
        first = on_excluded[0]
        note = f"on gold {first.gold_id} {first.quote!r}: {first.note}"
    elif on_gold:
        first = on_gold[0]
        agree = values_agree(kind, first.value, predicted.value)
        note = f"overlaps gold {first.gold_id} {first.quote!r} = {_show(first.value)}" + (
            " (matched to another prediction)" if agree else " (value differs)"
        )
    else:
        note = "no gold record on this span"
    return Item(
        predicted.kind,
        predicted.doc,
        predicted.char_start,
        predicted.char_end,
        predicted.quote,
        predicted.value,
        None,
        note,
    )


def _money_attributes(
    matches: Sequence[Match], gold_records: Iterable[Mapping[str, Any]], frame: pd.DataFrame
) -> dict[str, AttributeAccuracy]:
    by_id = {str(r.get("id")): r for r in gold_records}
    rows: dict[tuple[str, int, int], dict[str, str | None]] = {}
    if not frame.empty:
        for attribute in MONEY_ATTRIBUTES:
            if attribute not in frame.columns:
                raise ReleaseError(f"money table lacks column {attribute}")
        for path, start, end, qualifier, period in zip(
            frame["source_path"],
            frame["char_start"],
            frame["char_end"],
            frame["qualifier"],
            frame["period"],
            strict=True,
        ):
            key = (_doc_name(path), int(start), int(end))
            rows.setdefault(key, {"qualifier": _clean_str(qualifier), "period": _clean_str(period)})
    result: dict[str, AttributeAccuracy] = {}
    for attribute in MONEY_ATTRIBUTES:
        correct = 0
        errors: list[AttributeMismatch] = []
        for match in matches:
            g, p = match.gold, match.predicted
            expected = _clean_str(by_id.get(g.gold_id or "", {}).get(attribute))
            got = rows.get((p.doc, p.char_start, p.char_end), {}).get(attribute)
            if expected == got:
                correct += 1
            else:
                errors.append(
                    AttributeMismatch(g.gold_id, g.doc, g.quote, g.char_start, expected, got)
                )
        total = len(matches)
        result[attribute] = AttributeAccuracy(
            attribute, correct, total, correct / total if total else None, tuple(errors)
        )
    return result


# --- rendering --------------------------------------------------------------------------------


def _show(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return f"{int(value):,}"
        return f"{value:,.6g}"
    return value


def _show_attr(value: str | None) -> str:
    return "null" if value is None else repr(value)


def _item_line(item: Item) -> str:
    ident = f" {item.gold_id}" if item.gold_id else ""
    note = f"  -- {item.note}" if item.note else ""
    quote = item.quote.replace("\n", "\\n")
    return (
        f"  {item.kind:<10} {item.doc} [{item.char_start}:{item.char_end}]{ident} "
        f"{quote!r} = {_show(item.value)}{note}"
    )


def render_text(result: EvalResult) -> str:
    """The human report: scores, money attribute accuracy, then misses and false hits."""
    lines: list[str] = []
    if result.release:
        lines.append(f"release: {result.release}")
    if result.gold_file:
        lines.append(f"gold:    {result.gold_file} ({len(result.gold_documents)} documents)")
    lines.append("")
    lines.append(
        f"{'kind':<11}{'gold':>6}{'pred':>6}{'match':>7}{'precision':>11}{'recall':>8}{'F1':>7}"
    )
    for score in result.kinds.values():
        lines.append(
            f"{score.kind:<11}{score.gold:>6}{score.predicted:>6}{score.matched:>7}"
            f"{score.precision:>11.3f}{score.recall:>8.3f}{score.f1:>7.3f}"
        )
    durations = result.kinds["quantities"].not_scored_gold if "quantities" in result.kinds else 0
    front = result.kinds["dates"].not_scored_gold if "dates" in result.kinds else 0
    lines.append(
        f"not scored: {durations} gold quantity durations, {front} gold front-matter dates "
        "(a prediction on one counts as a false hit)"
    )
    if result.unscored_predictions:
        lines.append(
            f"not scored: {result.unscored_predictions} predictions on documents "
            "outside the gold file"
        )
    lines.append("")
    if result.money_attributes:
        parts = []
        for attr in result.money_attributes.values():
            shown = "n/a" if attr.accuracy is None else f"{attr.accuracy:.3f}"
            parts.append(f"{attr.name} {shown} ({attr.correct}/{attr.total})")
        lines.append("money, on matched rows: " + ", ".join(parts))
        for attr in result.money_attributes.values():
            for err in attr.errors:
                lines.append(
                    f"  {attr.name:<10} {err.doc} [{err.char_start}] {err.gold_id} "
                    f"{err.quote!r}: gold {_show_attr(err.gold)}, "
                    f"predicted {_show_attr(err.predicted)}"
                )
        lines.append("")
    misses = [m for s in result.kinds.values() for m in s.misses]
    false_hits = [f for s in result.kinds.values() for f in s.false_hits]
    lines.append(f"misses (gold records with no matching prediction): {len(misses)}")
    lines.extend(_item_line(m) for m in misses)
    lines.append(f"false hits (predictions matching no gold record): {len(false_hits)}")
    lines.extend(_item_line(f) for f in false_hits)
    return "\n".join(lines)


def render_json(result: EvalResult) -> str:
    return json.dumps(result.to_json(), indent=2, ensure_ascii=False)
