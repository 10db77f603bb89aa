"""Corpus assertions: min/max checks over a whole release, kept in ``assertions.yaml``.

Expectation suites check rows; these check the corpus as a whole, in the spirit of
OpenSanctions' dataset assertions: enough facts in every substantial document, not too
many quarantined inputs, no table shrinking or growing suspiciously against the parent
release. Each assertion has a ``severity``: a ``failure`` blocks the release like a failed
expectation, a ``warning`` is reported and does not. The file lives beside the suites
(``expectations/assertions.yaml``), so ``PIPELINE_EXPECTATIONS`` moves both; its comments
document every check and the defaults. Loading and checking are pure over Arrow tables.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

import pyarrow as pa
import yaml

from pipeline.schemas import FACT_TABLES, TABLES
from pipeline.validate.report import FailedExpectation, SuiteOutcome, json_safe

ASSERTIONS_FILE = "assertions.yaml"
CORPUS_SUITE = "corpus_assertions"
MAX_LISTED = 20  # offending documents / reasons listed in a result (all are counted)

Severity = Literal["warning", "failure"]
Status = Literal["passed", "failed", "skipped"]
SEVERITIES: tuple[Severity, ...] = ("warning", "failure")
DEFAULT_ROW_TABLES: tuple[str, ...] = ("documents", *FACT_TABLES)


class AssertionConfigError(ValueError):
    """``assertions.yaml`` is unreadable or does not follow its documented shape."""


@dataclass(frozen=True, slots=True)
class Parent:
    """The parent release: its version and the row count of each table it has."""

    version: str
    rows: Mapping[str, int]


# What the checks read of each table; of any other table only its row count.
CORPUS_COLUMNS: dict[str, tuple[str, ...]] = {
    **{name: ("doc_id",) for name in FACT_TABLES},
    "documents": ("doc_id", "source_path", "n_chars"),
    "quarantine": ("reason",),
}


@dataclass(frozen=True, slots=True)
class Corpus:
    """What the assertions look at: the release's tables and its parent (or why none)."""

    tables: Mapping[str, pa.Table]
    parent: Parent | None = None
    no_parent: str = "no parent release"


@dataclass(frozen=True, slots=True)
class AssertionResult:
    """One assertion on one table: passed, failed or skipped, with what was measured."""

    name: str
    check: str
    severity: Severity
    status: Status
    table: str
    message: str
    measured: float | None = None
    threshold: float | None = None
    count: int | None = None
    sample: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "check": self.check,
            "severity": self.severity,
            "status": self.status,
            "table": self.table,
            "message": self.message,
            "measured": json_safe(self.measured),
            "threshold": json_safe(self.threshold),
            "count": self.count,
            "sample": json_safe(list(self.sample)),
        }

    def as_failure(self) -> FailedExpectation:
        return FailedExpectation(
            expectation=self.name,
            table=self.table,
            column=None,
            sample=json_safe(list(self.sample)),
            unexpected_count=self.count,
            measured=self.measured,
            threshold=self.threshold,
            message=self.message,
        )


class Assertion(Protocol):
    """A configured check: ``evaluate`` gives one result per table it looks at."""

    check: ClassVar[str]

    @property
    def name(self) -> str: ...

    @property
    def severity(self) -> Severity: ...

    def evaluate(self, corpus: Corpus) -> list[AssertionResult]: ...


def _skipped(assertion: Assertion, table: str, message: str) -> list[AssertionResult]:
    return [
        AssertionResult(
            assertion.name, assertion.check, assertion.severity, "skipped", table, message
        )
    ]


def _measured(
    assertion: Assertion,
    table: str,
    message: str,
    *,
    failed: bool,
    measured: float,
    threshold: float | None,
    count: int | None = None,
    sample: tuple[dict[str, Any], ...] = (),
) -> AssertionResult:
    """A result that compared ``measured`` with ``threshold``."""
    status: Status = "failed" if failed else "passed"
    return AssertionResult(
        assertion.name,
        assertion.check,
        assertion.severity,
        status,
        table,
        message,
        measured,
        threshold,
        count,
        sample,
    )


# --- the checks -------------------------------------------------------------------------------


def facts_per_document(tables: Mapping[str, pa.Table]) -> Counter[str]:
    """doc_id → number of money, quantity, date and entity rows."""
    counts: Counter[str] = Counter()
    for name in FACT_TABLES:
        counts.update(d for d in tables[name].column("doc_id").to_pylist() if d is not None)
    return counts


@dataclass(frozen=True, slots=True)
class MinFactsPerDocument:
    """Every document of at least ``min_chars`` characters has at least ``min_facts`` facts,
    but for at most ``max_share`` of them (0: none may fall short)."""

    name: str
    severity: Severity
    min_chars: int
    min_facts: int
    max_share: float = 0.0
    check: ClassVar[str] = "min_facts_per_document"

    def evaluate(self, corpus: Corpus) -> list[AssertionResult]:
        facts = facts_per_document(corpus.tables)
        rows = corpus.tables["documents"].select(["doc_id", "source_path", "n_chars"])
        long_docs = [
            {**r, "n_facts": facts[r["doc_id"]]}
            for r in rows.to_pylist()
            if (r["n_chars"] or 0) >= self.min_chars
        ]
        if not long_docs:
            return _skipped(self, "documents", f"no document of >= {self.min_chars} chars")
        short = sorted(
            (d for d in long_docs if d["n_facts"] < self.min_facts),
            key=lambda d: (d["n_facts"], d["source_path"]),
        )
        message = (
            f"{len(short)} of {len(long_docs)} document(s) of >= {self.min_chars} chars have "
            f"fewer than {self.min_facts} facts (money + quantities + dates + entities)"
            + (f"; at most {self.max_share:.2%} may" if self.max_share else "")
        )
        fewest = float(min(d["n_facts"] for d in long_docs))
        return [
            _measured(
                self,
                "documents",
                message,
                failed=len(short) > self.max_share * len(long_docs),
                measured=fewest,
                threshold=float(self.min_facts),
                count=len(short),
                sample=tuple(short[:MAX_LISTED]),
            )
        ]


@dataclass(frozen=True, slots=True)
class MaxQuarantineShare:
    """quarantine rows / (documents + quarantine rows) is at most ``max_share``."""

    name: str
    severity: Severity
    max_share: float
    min_inputs: int = 1
    check: ClassVar[str] = "max_quarantine_share"

    def evaluate(self, corpus: Corpus) -> list[AssertionResult]:
        quarantine = corpus.tables["quarantine"]
        total = corpus.tables["documents"].num_rows + quarantine.num_rows
        if total < max(self.min_inputs, 1):
            return _skipped(
                self,
                "quarantine",
                f"{total} input(s), fewer than min_inputs {self.min_inputs}: share not judged",
            )
        share = quarantine.num_rows / total
        reasons = Counter(quarantine.column("reason").to_pylist()).most_common(MAX_LISTED)
        message = f"{quarantine.num_rows} of {total} input(s) quarantined (share {share:.3f})"
        return [
            _measured(
                self,
                "quarantine",
                message,
                failed=share > self.max_share,
                measured=share,
                threshold=self.max_share,
                count=quarantine.num_rows,
                sample=tuple({"reason": r, "rows": n} for r, n in reasons),
            )
        ]


def row_change(parent_rows: int, rows: int) -> float:
    """Relative change (rows - parent) / parent; from an empty parent: 0 or infinity."""
    if parent_rows == 0:
        return 0.0 if rows == 0 else math.inf
    return (rows - parent_rows) / parent_rows


@dataclass(frozen=True, slots=True)
class MaxRowCountChange:
    """Each table's row count moves at most ``max_decrease`` / ``max_increase`` (fractions).

    ``measured`` is the signed change (-0.6: 60 % fewer rows) and ``threshold`` the bound on
    that side, signed the same way; a missing bound leaves that direction unchecked.
    """

    name: str
    severity: Severity
    tables: tuple[str, ...] = DEFAULT_ROW_TABLES
    max_decrease: float | None = None
    max_increase: float | None = None
    check: ClassVar[str] = "max_row_count_change"

    def evaluate(self, corpus: Corpus) -> list[AssertionResult]:
        if corpus.parent is None:
            return _skipped(self, ",".join(self.tables), f"not compared: {corpus.no_parent}")
        parent = corpus.parent
        return [self._table(t, corpus.tables[t].num_rows, parent) for t in self.tables]

    def _table(self, name: str, rows: int, parent: Parent) -> AssertionResult:
        if name not in parent.rows:
            return _skipped(self, name, f"parent {parent.version} has no {name} table")[0]
        old = parent.rows[name]
        change = row_change(old, rows)
        bound = self.max_increase if change >= 0 else self.max_decrease
        threshold = None if bound is None else math.copysign(bound, change)
        message = f"{rows} rows against {old} in parent {parent.version} ({change:+.1%})"
        return _measured(
            self,
            name,
            message,
            failed=bound is not None and abs(change) > bound,
            measured=change,
            threshold=threshold,
            sample=({"rows": rows, "parent_rows": old},),
        )


# --- loading ----------------------------------------------------------------------------------


def _number(params: Mapping[str, Any], key: str, where: str, *, integer: bool = False) -> Any:
    value = params.get(key)
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < 0:
        kind = "a non-negative integer" if integer else "a non-negative number"
        raise AssertionConfigError(f"{where}: '{key}' must be {kind}, not {value!r}")
    return value


def _fraction(params: Mapping[str, Any], key: str, where: str) -> float | None:
    return None if params.get(key) is None else float(_number(params, key, where))


def _tables(params: Mapping[str, Any], where: str) -> tuple[str, ...]:
    names = params.get("tables", list(DEFAULT_ROW_TABLES))
    if not isinstance(names, list) or not names or not all(n in TABLES for n in names):
        raise AssertionConfigError(f"{where}: 'tables' must list tables of {', '.join(TABLES)}")
    return tuple(names)


def _min_facts(name: str, severity: Severity, p: Mapping[str, Any], where: str) -> Assertion:
    return MinFactsPerDocument(
        name,
        severity,
        _number(p, "min_chars", where, integer=True),
        _number(p, "min_facts", where, integer=True),
        float(_number(p, "max_share", where)) if "max_share" in p else 0.0,
    )


def _max_quarantine(name: str, severity: Severity, p: Mapping[str, Any], where: str) -> Assertion:
    min_inputs = _number(p, "min_inputs", where, integer=True) if "min_inputs" in p else 1
    return MaxQuarantineShare(name, severity, float(_number(p, "max_share", where)), min_inputs)


def _max_rows(name: str, severity: Severity, p: Mapping[str, Any], where: str) -> Assertion:
    decrease, increase = _fraction(p, "max_decrease", where), _fraction(p, "max_increase", where)
    if decrease is None and increase is None:
        raise AssertionConfigError(f"{where}: give 'max_decrease' and/or 'max_increase'")
    return MaxRowCountChange(name, severity, _tables(p, where), decrease, increase)


Parser = Callable[[str, Severity, Mapping[str, Any], str], Assertion]
CHECKS: dict[str, tuple[Parser, frozenset[str]]] = {
    MinFactsPerDocument.check: (_min_facts, frozenset({"min_chars", "min_facts", "max_share"})),
    MaxQuarantineShare.check: (_max_quarantine, frozenset({"max_share", "min_inputs"})),
    MaxRowCountChange.check: (_max_rows, frozenset({"tables", "max_decrease", "max_increase"})),
}
_COMMON = frozenset({"name", "check", "severity", "description"})


def parse_assertion(entry: object, where: str) -> Assertion:
    """One entry of the ``assertions`` list; raise AssertionConfigError when malformed."""
    if not isinstance(entry, dict):
        raise AssertionConfigError(f"{where} is not a mapping")
    name, check, severity = entry.get("name"), entry.get("check"), entry.get("severity")
    if not isinstance(name, str) or not name:
        raise AssertionConfigError(f"{where}: 'name' must be a non-empty string")
    where = f"{where} ({name})"
    if check not in CHECKS:
        raise AssertionConfigError(f"{where}: 'check' must be one of {', '.join(CHECKS)}")
    if severity not in SEVERITIES:
        raise AssertionConfigError(f"{where}: 'severity' must be one of {', '.join(SEVERITIES)}")
    parser, allowed = CHECKS[check]
    unknown = set(entry) - allowed - _COMMON
    if unknown:
        raise AssertionConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return parser(name, severity, entry, where)


def parse_assertions(data: object, source: str = ASSERTIONS_FILE) -> tuple[Assertion, ...]:
    """Every assertion of a parsed file: ``{assertions: [...]}``; names must be unique."""
    if not isinstance(data, dict) or not isinstance(data.get("assertions"), list):
        raise AssertionConfigError(f"{source}: expected a mapping with an 'assertions' list")
    entries = data["assertions"]
    found = tuple(parse_assertion(e, f"{source}: assertions[{i}]") for i, e in enumerate(entries))
    names = [a.name for a in found]
    if len(set(names)) != len(names):
        raise AssertionConfigError(f"{source}: assertion names must be unique")
    return found


def load_assertions(path: Path) -> tuple[Assertion, ...]:
    """Read and check ``assertions.yaml``; raise AssertionConfigError when it cannot be used."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise AssertionConfigError(f"cannot read {path}: {err}") from err
    return parse_assertions(data, str(path))


# --- running ----------------------------------------------------------------------------------


def check_assertions(assertions: Sequence[Assertion], corpus: Corpus) -> list[AssertionResult]:
    """Every assertion's results; one that cannot evaluate (malformed tables) fails."""
    results: list[AssertionResult] = []
    for assertion in assertions:
        try:
            results += assertion.evaluate(corpus)
        except (KeyError, TypeError, ValueError, pa.ArrowException) as exc:
            message = f"cannot evaluate: {exc!r}"
            results.append(
                AssertionResult(
                    assertion.name, assertion.check, assertion.severity, "failed", "-", message
                )
            )
    return results


@dataclass(frozen=True, slots=True)
class AssertionOutcome:
    """Results as a suite: blocking failures, warnings and the notes of skipped checks."""

    results: Sequence[AssertionResult]
    notes: Sequence[str] = field(default_factory=tuple)

    def suite(self) -> SuiteOutcome:
        evaluated = [r for r in self.results if r.status != "skipped"]
        failed = [r for r in evaluated if r.status == "failed"]
        failures = [r.as_failure() for r in failed if r.severity == "failure"]
        warnings = [r.as_failure() for r in failed if r.severity == "warning"]
        skipped = [
            f"{r.name} on {r.table}: {r.message}" for r in self.results if r.status == "skipped"
        ]
        return SuiteOutcome(
            not failures, len(evaluated), len(failures), failures, warnings, [*self.notes, *skipped]
        )

    def to_json(self) -> dict[str, Any]:
        return {"notes": list(self.notes), "results": [r.to_dict() for r in self.results]}
