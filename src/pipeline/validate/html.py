"""A self-contained HTML summary of a validation run.

GX Data Docs load their styles and index from CDNs, so offline the index page
lists nothing; this page needs no network and links each suite's GX page.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from pipeline.validate.report import ValidationReport

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
    "text-align:left;vertical-align:top}.ok{color:#176b2c}.fail{color:#b00020;font-weight:bold}"
    "code{font-size:90%}pre{white-space:pre-wrap;max-width:70em}"
)


def suite_pages(report_dir: Path) -> dict[str, str]:
    """Suite name → relative path of its rendered GX validation page, when there is one."""
    root = report_dir / "data_docs" / "validations"
    pages: dict[str, str] = {}
    for page in sorted(root.glob("*/**/*.html")) if root.exists() else []:
        suite = page.relative_to(root).parts[0]
        pages.setdefault(suite, page.relative_to(report_dir).as_posix())
    return pages


def render_report(report: ValidationReport, pages: dict[str, str]) -> str:
    status = "passed" if report.success else "FAILED"
    rows = []
    for name, outcome in report.suites.items():
        css = "ok" if outcome.success else "fail"
        link = f'<a href="{html.escape(pages[name])}">details</a>' if name in pages else ""
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td class={css}>"
            f"{'passed' if outcome.success else 'failed'}</td><td>{outcome.evaluated}</td>"
            f"<td>{outcome.failed}</td><td>{link}</td></tr>"
        )
    failures = [
        f"<li><code>{html.escape(f.expectation)}</code> on <code>{html.escape(f.table)}"
        f"{'.' + html.escape(f.column) if f.column else ''}</code>"
        f"{f' ({f.unexpected_count} rows)' if f.unexpected_count is not None else ''}"
        f"<pre>{html.escape(json.dumps(f.sample, ensure_ascii=False, default=str)[:2000])}"
        f"</pre></li>"
        for f in report.failures
    ]
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>Validation {status}</title>"
        f"<style>{_STYLE}</style></head><body><h1>Validation {status}</h1>"
        "<table><tr><th>suite</th><th>result</th><th>expectations</th><th>failed</th>"
        f"<th>Great Expectations page</th></tr>{''.join(rows)}</table>"
        + (f"<h2>Failures</h2><ul>{''.join(failures)}</ul>" if failures else "")
        + "</body></html>\n"
    )


def write_report_html(report: ValidationReport, report_dir: Path) -> Path:
    path = report_dir / "index.html"
    path.write_text(render_report(report, suite_pages(report_dir)), encoding="utf-8")
    return path
