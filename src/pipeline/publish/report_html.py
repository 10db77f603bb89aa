"""report.html: a one-page overview of a release that opens offline in any browser.

Counts per table, money amounts by year and by topic (inline SVG plots with the numbers
beside them), duplicates, quarantined inputs and the validation summary. The page loads
nothing (no CDN, no script, no image file) so that it can be mailed or archived alone,
and it is byte-identical for the same release content: matplotlib's SVG writer is given a
fixed id salt and no date or creator metadata.

``render`` is pure (manifest dict and tables in, HTML out); matplotlib is imported
inside it only, so importing the pipeline stays fast.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.publish.release import table_columns
from pipeline.schemas import FLOW_STAGES, TABLES, empty_table

# Lists of files (duplicate documents, quarantined inputs) stop here: the page is a
# summary, the tables hold every row.
MAX_LISTED = 100

UNDATED = "undated"
NO_TOPIC = "(no topic)"

# One colour per flow stage, fixed so that a stage keeps its colour across releases.
_STAGE_COLOURS = dict(
    zip(
        FLOW_STAGES,
        ("#4e79a7", "#f28e2b", "#59a14f", "#76b7b2", "#e15759", "#9c9c9c"),
        strict=True,
    )
)
_BAR_COLOUR = "#4e79a7"

_P_YEAR = re.compile(r"(?:FY)?(\d{4})")

# Inline CSS only (the page loads nothing). "monospace,monospace" stops browsers from
# shrinking code to their 13px monospace default.
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:62em;padding:0 1em;"
    "color:#222;line-height:1.4}h1{margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px "
    "solid #ddd;padding-bottom:.2em}table{border-collapse:collapse;margin:.8em 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#176b2c}"
    ".fail{color:#b00020;font-weight:bold}.meta{color:#555}.note{color:#555;font-size:90%;"
    "max-width:55em}figure{margin:1em 0}svg{max-width:100%;height:auto}"
    "code{font-family:ui-monospace,monospace,monospace;font-size:90%}"
)


def render(manifest: Mapping[str, Any], tables: Mapping[str, pa.Table]) -> str:
    """The whole page for one release: ``manifest.json``'s content and its tables."""
    return page(draft(manifest, tables), manifest.get("validation"))


@dataclass(frozen=True, slots=True)
class ReportDraft:
    """The page without its validation section: all that reads the tables.

    A run makes it while the release is being validated (``pipeline.stages``) and adds
    the validation summary once it is known; ``page`` of it is ``render``'s page.
    """

    version: str
    sections: tuple[str, ...]


def draft(manifest: Mapping[str, Any], tables: Mapping[str, pa.Table]) -> ReportDraft:
    """Every section of the page but the validation summary (``manifest["validation"]``
    is not read)."""
    frames = _frames(tables)
    money = claimed_money(frames["money"], frames["documents"])
    by_year = amounts_by_year(money)
    by_topic = amounts_by_topic(money, frames["passages"])
    version = str(manifest.get("version", "?"))
    sections = (
        f"<h1>Release {_e(version)}</h1>",
        _meta(manifest),
        _counts_section(manifest),
        _year_section(money, by_year),
        _topic_section(by_topic),
        _duplicates_section(frames["duplicates"], frames["documents"]),
        _quarantine_section(frames["quarantine"]),
    )
    return ReportDraft(version, sections)


def page(report: ReportDraft, validation: object) -> str:
    """The page of a draft with the validation summary (the manifest's ``validation``)."""
    body = [*report.sections, _validation_section(validation)]
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>Release report {_e(report.version)}</title><style>{_STYLE}</style></head>"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


# The columns the page reads from each table; converting only these keeps render fast
# on large releases (documents.source_text alone can be most of a release).
_COLUMNS: dict[str, tuple[str, ...]] = {
    "money": ("fact_id", "claim_id", "doc_id", "passage_id", "amount_usd", "period", "flow_stage"),
    "documents": ("doc_id", "source_path", "title", "published_date"),
    "passages": ("passage_id", "topics"),
    "duplicates": ("level", "id", "duplicate_of", "kind", "similarity"),
    "quarantine": ("source_path", "reason", "message"),
}


def _frames(tables: Mapping[str, pa.Table]) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}  # money first: it says which passages are needed
    for name, columns in _COLUMNS.items():
        table = table_columns(tables, name, columns)
        if table is None:  # a partial set of tables (tests, a damaged release): empty
            table = empty_table(name)
        frames[name] = _needed(name, table.select(list(columns)), frames)
    return frames


def _needed(name: str, table: pa.Table, frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The rows the page can use: a money row per claim with an amount in USD, the
    passages of those. Converting every passage's topics to pandas took 300 MB at 100,000
    documents; the page only looks up the passages of the amounts it counts."""
    if name == "money":  # as claimed_money picks: each claim's first fact_id with an amount
        table = table.filter(pc.invert(pc.is_null(table["amount_usd"], nan_is_null=True)))
        first = table.group_by("claim_id").aggregate([("fact_id", "min")])["fact_id_min"]
        table = table.filter(pc.is_in(table["fact_id"], value_set=first))
    elif name == "passages":
        ids = frames["money"]["passage_id"].dropna().unique()
        used = pa.array(ids, table["passage_id"].type)
        table = table.filter(pc.is_in(table["passage_id"], value_set=used))
    frame: pd.DataFrame = table.to_pandas()
    return frame


# --- the numbers -------------------------------------------------------------------------


def year_of(period: object, published: object) -> tuple[str, str]:
    """The year an amount belongs to and why: its stated period, else its document's date.

    ``2012``, ``FY2015``, ``2024-02`` give their year; an open range (``2001-``,
    ``FY2015-``) its first year, the only one the sentence states.
    """
    for value, basis in ((period, "period"), (published, "published")):
        if isinstance(value, str) and (found := _P_YEAR.match(value)):
            return found.group(1), basis
    return UNDATED, "none"


def claimed_money(money: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """Money rows with a USD amount, each claim once, with the year each belongs to.

    A claim groups the facts that state the same amount across documents (copies
    included), so counting claims rather than rows does not add up one announcement
    once per document that repeats it.
    """
    rows = money[money["amount_usd"].notna()]
    rows = rows.sort_values(["claim_id", "fact_id"]).drop_duplicates("claim_id")
    published = documents.set_index("doc_id")["published_date"]
    rows = rows.assign(published=rows["doc_id"].map(published))
    years = [year_of(p, d) for p, d in zip(rows["period"], rows["published"], strict=True)]
    return rows.assign(
        year=[year for year, _ in years],
        year_basis=[basis for _, basis in years],
        flow_stage=rows["flow_stage"].fillna("other"),
    ).reset_index(drop=True)


def amounts_by_year(money: pd.DataFrame) -> pd.DataFrame:
    """Per year (then ``undated``): facts, USD total, facts dated by publication only."""
    if money.empty:
        return pd.DataFrame(columns=["year", "facts", "usd", "from_published"])
    grouped = money.groupby("year", sort=True).agg(
        facts=("amount_usd", "size"),
        usd=("amount_usd", "sum"),
        from_published=("year_basis", lambda basis: int((basis == "published").sum())),
    )
    order = sorted(grouped.index, key=lambda year: (year == UNDATED, year))
    return grouped.loc[order].reset_index()


def amounts_by_topic(money: pd.DataFrame, passages: pd.DataFrame) -> pd.DataFrame:
    """Per topic of the passage stating the amount: facts and USD total, largest first.

    A passage may have several topics; its amounts count under each of them, so the
    topics add up to more than the total.
    """
    if money.empty:
        return pd.DataFrame(columns=["topic", "facts", "usd"])
    topics = passages.set_index("passage_id")["topics"]
    labelled = money.assign(
        topic=pd.Series(
            [_topic_list(topics.get(pid)) for pid in money["passage_id"]],
            index=money.index,
            dtype=object,
        )
    ).explode("topic")
    grouped = (
        labelled.groupby("topic")
        .agg(facts=("amount_usd", "size"), usd=("amount_usd", "sum"))
        .reset_index()
    )
    return grouped.sort_values(["usd", "topic"], ascending=[False, True]).reset_index(drop=True)


def _topic_list(value: object) -> list[str]:
    # Arrow lists arrive as numpy arrays (or None for a null list).
    if isinstance(value, str) or not isinstance(value, Iterable):
        return [NO_TOPIC]
    topics = [str(t) for t in value]
    return topics or [NO_TOPIC]


def usd(amount: float) -> str:
    """A short USD amount: ``USD 16 bn``, ``USD 2.1 m``, ``USD 750 k``."""
    for scale, unit in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(amount) >= scale:
            return f"USD {amount / scale:.3g} {unit}"
    return f"USD {amount:.0f}"


# --- the plots ---------------------------------------------------------------------------


def _svg(figure: Any, salt: str) -> str:
    """A figure as inline SVG, identical for identical input.

    ``svg.hashsalt`` fixes the ids matplotlib gives clip paths (random otherwise), and
    the metadata keys set to ``None`` drop the time stamp, the matplotlib version and the
    RDF block (whose vocabulary URLs a reader might mistake for outside resources). Text
    stays text (``svg.fonttype`` none) so the page is smaller and searchable.
    """
    import matplotlib

    buffer = io.StringIO()
    no_metadata = dict.fromkeys(("Date", "Creator", "Format", "Type"))
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata=no_metadata, bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: inline in HTML


def _figure(width: float, height: float) -> Any:
    # Figure() without pyplot: no global figure registry, and the caller's backend (a
    # notebook's inline one, say) is left alone; savefig(format="svg") draws with
    # matplotlib's own SVG canvas, which needs no display (as Agg does not).
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=96)


def _usd_axis(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _: usd(value) if value else "0"))


def year_chart(money: pd.DataFrame) -> str:
    """Stacked bars: USD per year, one colour per flow stage (undated amounts left out)."""
    import matplotlib

    dated = money[money["year"] != UNDATED]
    table = dated.pivot_table(
        index="year", columns="flow_stage", values="amount_usd", aggfunc="sum", fill_value=0.0
    ).sort_index()
    with matplotlib.rc_context({"text.parse_math": False, "font.size": 9}):
        figure = _figure(8.5, 3.6)
        ax = figure.add_subplot()
        years = [int(y) for y in table.index]
        bottom = [0.0] * len(years)
        for stage in (s for s in FLOW_STAGES if s in table.columns):
            heights = [float(v) for v in table[stage]]
            ax.bar(years, heights, bottom=bottom, color=_STAGE_COLOURS[stage], label=stage)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        _usd_axis(ax.yaxis)
        ax.set_xlabel("year (stated period, else the document's publication year)")
        ax.set_ylabel("amount")
        ax.legend(title="flow stage", frameon=False, loc="upper left")
        ax.spines[["top", "right"]].set_visible(False)
        if len(years) <= 30:  # label every bar's year; beyond that the default ticks
            ax.set_xticks(years, [str(y) for y in years], rotation=45 if len(years) > 6 else 0)
        else:
            ax.xaxis.get_major_locator().set_params(integer=True)
        return _svg(figure, "report-year")


def topic_chart(by_topic: pd.DataFrame) -> str:
    """Horizontal bars: USD per topic, largest at the top, labelled with their fact count."""
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False, "font.size": 9}):
        figure = _figure(8.5, 0.35 * len(by_topic) + 0.9)
        ax = figure.add_subplot()
        labels = [str(t) for t in by_topic["topic"]][::-1]
        values = [float(v) for v in by_topic["usd"]][::-1]
        facts = [int(n) for n in by_topic["facts"]][::-1]
        bars = ax.barh(labels, values, color=_BAR_COLOUR)
        ax.bar_label(
            bars, padding=3, labels=[f" {usd(v)} ({n})" for v, n in zip(values, facts, strict=True)]
        )
        ax.set_xlim(0, max(values) * 1.3)  # room for the bar labels
        _usd_axis(ax.xaxis)
        ax.spines[["top", "right"]].set_visible(False)
        return _svg(figure, "report-topic")


# --- the sections ------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape("" if value is None or value is pd.NA else str(value), quote=True)


def _table(head: Sequence[str], rows: Iterable[Sequence[object]], numeric: set[int]) -> str:
    """An HTML table; ``numeric`` holds the indexes of right-aligned columns."""

    def cells(tag: str, values: Sequence[object]) -> str:
        return "".join(
            f"<{tag}{' class=n' if i in numeric else ''}>{_e(v)}</{tag}>"
            for i, v in enumerate(values)
        )

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table><tr>{cells('th', head)}</tr>{body}</table>"


def _meta(manifest: Mapping[str, Any]) -> str:
    parent = manifest.get("parent_version") or "none (first release)"
    return (
        f"<p class=meta>Created {_e(manifest.get('created_at'))} by pipeline "
        f"{_e(manifest.get('pipeline_version'))} (contract {_e(manifest.get('contract_version'))})"
        f"; parent release {_e(parent)}; {len(manifest.get('inputs', []))} input file(s).<br>"
        'Also in this release: <a href="README.md">README.md</a> (dataset card), '
        '<a href="CHANGELOG.md">CHANGELOG.md</a>, <a href="datapackage.json">datapackage.json</a>, '
        '<a href="validation/index.html">validation/index.html</a>.</p>'
    )


def _counts_section(manifest: Mapping[str, Any]) -> str:
    described = manifest.get("tables", {})
    rows = [
        (name, f"{info.get('rows', 0):,}", f"{info.get('bytes', 0):,}", TABLES[name].description)
        for name, info in ((n, described[n]) for n in TABLES if n in described)
    ]
    return "<h2>Tables</h2>" + _table(("table", "rows", "bytes", "holds"), rows, {1, 2})


def _year_section(money: pd.DataFrame, by_year: pd.DataFrame) -> str:
    title = "<h2>Amounts by year</h2>"
    if money.empty:
        return title + "<p>No amount in this release could be converted to USD.</p>"
    note = (
        f"<p class=note>{len(money)} amount(s) in USD, each claim counted once (a claim is "
        "one amount stated by one or more documents, copies included). The year is the "
        "period the sentence states (an open range such as <code>2001-</code> counts in its "
        "first year), else the year the document was published; amounts with neither are "
        "undated and not plotted. Trade and investment volumes are not aid: read the flow "
        "stages apart.</p>"
    )
    chart = year_chart(money) if (money["year"] != UNDATED).any() else ""
    rows = [
        (r["year"], r["facts"], usd(float(r["usd"])), r["from_published"])
        for r in by_year.to_dict("records")
    ]
    table = _table(("year", "amounts", "total", "of which dated by publication"), rows, {1, 2, 3})
    return title + note + f"<figure>{chart}</figure>" + table


def _topic_section(by_topic: pd.DataFrame) -> str:
    title = "<h2>Amounts by topic</h2>"
    if by_topic.empty:
        return title + "<p>No amount in this release could be converted to USD.</p>"
    note = (
        "<p class=note>Topic of the passage stating the amount (<code>passages.topics</code>); "
        "an amount in a passage with several topics counts under each, so the topics add "
        "up to more than the total. Bar labels: total (number of amounts).</p>"
    )
    rows = [(r["topic"], r["facts"], usd(float(r["usd"]))) for r in by_topic.to_dict("records")]
    return (
        title
        + note
        + f"<figure>{topic_chart(by_topic)}</figure>"
        + _table(("topic", "amounts", "total"), rows, {1, 2})
    )


def _duplicates_section(duplicates: pd.DataFrame, documents: pd.DataFrame) -> str:
    title = "<h2>Duplicates</h2>"
    if duplicates.empty:
        return title + "<p>No duplicate documents or passages.</p>"
    counts = duplicates.groupby(["level", "kind"]).size().reset_index(name="n")
    summary = _table(
        ("level", "kind", "duplicates"),
        [(r["level"], r["kind"], r["n"]) for r in counts.to_dict("records")],
        {2},
    )
    names = {
        d["doc_id"]: _document_name(d["source_path"], d["title"])
        for d in documents.to_dict("records")
    }
    pairs = duplicates[duplicates["level"] == "document"].sort_values("id")
    rows = [
        (
            names.get(r["id"], r["id"]),
            names.get(r["duplicate_of"], r["duplicate_of"]),
            r["kind"],
            f"{r['similarity']:.2f}",
        )
        for r in pairs.head(MAX_LISTED).to_dict("records")
    ]
    listed = ""
    if rows:
        listed = "<h3>Documents that copy another</h3>" + _table(
            ("document", "copy of", "kind", "similarity"), rows, {3}
        )
        listed += _more(len(pairs))
    note = (
        "<p class=note>Duplicates are marked, never removed (<code>documents.duplicate_of"
        "</code>, <code>passages.duplicate_of</code>, the <code>duplicates</code> table).</p>"
    )
    return title + note + summary + listed


def _document_name(source_path: object, title: object) -> str:
    return f"{source_path} ({title})" if isinstance(title, str) and title else str(source_path)


def _quarantine_section(quarantine: pd.DataFrame) -> str:
    title = "<h2>Quarantine</h2>"
    if quarantine.empty:
        return title + "<p>No input was quarantined: every input file is a document.</p>"
    reasons = quarantine.groupby("reason").size().sort_values(ascending=False, kind="stable")
    summary = _table(("reason", "files"), list(reasons.items()), {1})
    files = quarantine.sort_values("source_path")
    rows = [
        (r["source_path"], r["reason"], r["message"])
        for r in files.head(MAX_LISTED).to_dict("records")
    ]
    return title + summary + _table(("file", "reason", "message"), rows, set()) + _more(len(files))


def _validation_section(validation: object) -> str:
    title = "<h2>Validation</h2>"
    if not isinstance(validation, Mapping) or not validation:
        return title + "<p>The manifest holds no validation summary.</p>"
    passed = all(bool(s.get("success")) for s in validation.values())
    status = "<span class=ok>passed</span>" if passed else "<span class=fail>FAILED</span>"
    failed_suites = sum(1 for s in validation.values() if not s.get("success"))
    head = (
        f"<p>Validation {status}: {len(validation) - failed_suites} of {len(validation)} "
        "suite(s) passed. Failures, warnings and notes: "
        '<a href="validation/index.html">validation/index.html</a>.</p>'
    )
    rows = []
    for name, suite in sorted(validation.items()):
        ok = bool(suite.get("success"))
        rows.append(
            f"<tr><td>{_e(name)}</td><td class={'ok' if ok else 'fail'}>"
            f"{'passed' if ok else 'failed'}</td><td class=n>{_e(suite.get('evaluated'))}</td>"
            f"<td class=n>{_e(suite.get('failed'))}</td></tr>"
        )
    return (
        title
        + head
        + "<table><tr><th>suite</th><th>result</th><th class=n>expectations</th>"
        + "<th class=n>failed</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _more(total: int) -> str:
    if total <= MAX_LISTED:
        return ""
    return f"<p class=note>… and {total - MAX_LISTED:,} more (see the table).</p>"
