"""A self-contained HTML summary of a validation run.

GX Data Docs load their styles and index from CDNs, so offline the index page
lists nothing; this page needs no network, links each suite's GX page (or its JSON
results) and lists failures, warnings and notes.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from pipeline.validate.report import FailedExpectation, ValidationReport

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
    "text-align:left;vertical-align:top}.ok{color:#176b2c}.fail{color:#b00020;font-weight:bold}"
    "code{font-size:90%}pre{white-space:pre-wrap;max-width:70em}"
)


def suite_pages(report_dir: Path) -> dict[str, str]:
    """Suite name → relative path of its rendered GX page, else of its ``suites/`` JSON."""
    root = report_dir / "data_docs" / "validations"
    pages: dict[str, str] = {}
    for page in sorted(root.glob("*/**/*.html")) if root.exists() else []:
        suite = page.relative_to(root).parts[0]
        pages.setdefault(suite, page.relative_to(report_dir).as_posix())
    for result in sorted((report_dir / "suites").glob("*.json")):
        pages.setdefault(result.stem, result.relative_to(report_dir).as_posix())
    return pages


def _item(failure: FailedExpectation) -> str:
    """One failure or warning: name, where, what was measured, sample rows."""
    where = html.escape(failure.table) + (
        "." + html.escape(failure.column) if failure.column else ""
    )
    text = f"<code>{html.escape(failure.expectation)}</code> on <code>{where}</code>"
    if failure.message:
        text += f": {html.escape(failure.message)}"
    elif failure.unexpected_count is not None:
        text += f" ({failure.unexpected_count} rows)"
    if failure.measured is not None or failure.threshold is not None:
        text += (
            f" <b>measured {_number(failure.measured)}, threshold {_number(failure.threshold)}</b>"
        )
    if failure.error:
        text += f": error: {html.escape(failure.error)}"
    sample = json.dumps(failure.sample, ensure_ascii=False, default=str)[:2000]
    return f"<li>{text}<pre>{html.escape(sample)}</pre></li>"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _section(title: str, items: list[str]) -> str:
    return f"<h2>{title}</h2><ul>{''.join(items)}</ul>" if items else ""


def render_report(report: ValidationReport, pages: dict[str, str]) -> str:
    status = "passed" if report.success else "FAILED"
    rows = []
    for name, outcome in report.suites.items():
        css = "ok" if outcome.success else "fail"
        link = f'<a href="{html.escape(pages[name])}">details</a>' if name in pages else ""
        result = "passed" if outcome.success else "failed"
        if outcome.warnings:
            result += f", {len(outcome.warnings)} warning(s)"
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td class={css}>{result}</td>"
            f"<td>{outcome.evaluated}</td><td>{outcome.failed}</td><td>{link}</td></tr>"
        )
    notes = [
        f"<li>{html.escape(name)}: {html.escape(note)}</li>"
        for name, outcome in report.suites.items()
        for note in outcome.notes
    ]
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>Validation {status}</title>"
        f"<style>{_STYLE}</style></head><body><h1>Validation {status}</h1>"
        "<table><tr><th>suite</th><th>result</th><th>expectations</th><th>failed</th>"
        f"<th>details</th></tr>{''.join(rows)}</table>"
        + _section("Failures", [_item(f) for f in report.failures])
        + _section("Warnings (reported, not blocking)", [_item(w) for w in report.warnings])
        + _section("Notes", notes)
        + "</body></html>\n"
    )


def write_report_html(report: ValidationReport, report_dir: Path) -> Path:
    path = report_dir / "index.html"
    path.write_text(render_report(report, suite_pages(report_dir)), encoding="utf-8")
    return path
