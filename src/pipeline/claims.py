"""Claims: facts that state the same thing, grouped across documents.

A claim is a set of money, quantity or date facts with the same kind, a compatible
normalised value and a similar sentence context, at most one fact per document.
Context matters because the same number (``2026``, ``$500 million``) turns up in
unrelated sentences: a shared value alone is "the same number", not "the same claim".

Rule (see ``SIMILARITY_THRESHOLD``): two facts from different documents are linked
when their values are compatible (money: currency, amount and period equal;
quantities: value and unit lemma equal; dates: one ISO value is the other or contains
it, e.g. ``2026`` and ``2026-05-02``) and the IDF-weighted overlap of their sentences'
content-word stems (shared weight over the lighter set's weight) is at least the
threshold. Links are taken strongest first (Kruskal-style) and two groups merge only if
they share no document, so a document never confirms itself; copies of a document
(``documents.duplicate_of``) are different documents here but one independent source in
``n_independent_sources``.

Every function is pure over Arrow tables; the result does not depend on row order.
A claim_id hashes the kind, value and representative fact_id, so it is stable across
releases as long as the claim's representative (see ``_representative``) stays the same.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa

from pipeline.ids import short_hash
from pipeline.resources import load_yaml
from pipeline.schemas import CLAIM_KINDS, TABLES, to_arrow

# Chosen on the seeds: the bicentennial "in 2026" (002) vs "on May 2, 2026" (004) scores
# 0.42, while the nearest unrelated same-value pair (002's Fulbright "May 2026" vs
# 004's bicentennial) scores 0.25 and the other cross-document "2024" pairs 0.11 or less;
# copies of one sentence score 1.0.
SIMILARITY_THRESHOLD = 0.35

# Function words carry no context (the list and why: resources/claims.yaml).
_STOPWORDS = frozenset(str(w) for w in load_yaml("claims.yaml")["stopwords"])
# A number with its thousands separators and decimals is one token ("3,200" is not "200").
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*(?:st|nd|rd|th)?|[a-z]+")
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_STEM_LENGTH = 6  # crude prefix stemming: celebrate/celebrations, diplomatic/diplomacy


@dataclass(frozen=True, slots=True)
class Fact:
    """What grouping needs of one fact row."""

    kind: str
    fact_id: str
    doc_id: str
    canonical: str  # duplicate_of when the document is a copy, else doc_id
    source_path: str
    char_start: int
    value: str  # normalised value key shown in claims.value
    bucket: str  # facts in different buckets can never be linked
    period: str | None
    quote: str
    sentence: str
    terms: frozenset[str]


def stem(word: str) -> str:
    """A crude, deterministic stem: ordinals to numbers, plural s dropped, prefix kept."""
    ordinal = _ORDINAL.match(word)
    if ordinal:
        return ordinal.group(1)
    if word[0].isdigit():
        return word.replace(",", "")
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:_STEM_LENGTH]


def content_terms(sentence: str, quote: str) -> frozenset[str]:
    """Stems of the sentence's content words, minus the quote's own words (the value)."""
    own = set(_TOKEN.findall(quote.casefold()))
    words = _TOKEN.findall(sentence.casefold())
    # One-letter tokens are initials and split abbreviations (U.S.): no context.
    keep = (w for w in words if len(w) > 1 and w not in _STOPWORDS and w not in own)
    return frozenset(stem(w) for w in keep)


def _number(value: object) -> str:
    """A float as a stable short string (15 significant digits: no binary noise)."""
    return f"{float(value):.15g}" if isinstance(value, int | float) else "?"


def unit_lemma(unit: object) -> str:
    """The counted noun without case or plural s (jobs/job, Helicopters/helicopter)."""
    if not isinstance(unit, str):
        return ""
    return " ".join(w[:-1] if w.endswith("s") else w for w in unit.casefold().split())


def value_key(kind: str, row: Mapping[str, object]) -> tuple[str, str]:
    """(value shown in claims.value, grouping bucket) of one fact row."""
    if kind == "money":
        if row.get("amount") is None:  # vague amount ("millions of dollars"): its words
            value = f"{row.get('currency') or ''} ~{str(row['quote']).casefold()}".strip()
        else:
            value = f"{row.get('currency') or ''} {_number(row['amount'])}".strip()
        return value, f"{value}|{row.get('period') or ''}"
    if kind == "quantities":
        number = _number(row["value"])
        unit = " ".join(str(row.get("unit") or "").casefold().split())
        return f"{number} {unit}".strip(), f"{number} {unit_lemma(unit)}".strip()
    iso = row.get("iso")
    if not isinstance(iso, str):  # unresolved year: the wording is all there is
        value = "?" + " ".join(str(row["quote"]).casefold().split())
        return value, value
    return iso, iso[:6] if iso.startswith("FY") else iso[:4]


def values_compatible(kind: str, a: str, b: str) -> bool:
    """Equal values, or for dates one ISO value containing the other (2026 ⊃ 2026-05-02)."""
    if a == b:
        return True
    if kind != "dates" or a.startswith(("?", "FY")) or b.startswith(("?", "FY")):
        return False
    short, long_ = sorted((a, b), key=len)
    return long_.startswith(short + "-")


def _canonical_of(documents: pa.Table) -> dict[str, str]:
    ids = documents.column("doc_id").to_pylist()
    dups = documents.column("duplicate_of").to_pylist()
    return {d: (dup or d) for d, dup in zip(ids, dups, strict=True)}


def load_facts(kind: str, table: pa.Table, canonical: Mapping[str, str]) -> list[Fact]:
    """The rows of one fact table as ``Fact`` records, sorted by a row-order-free key."""
    facts = []
    for row in table.to_pylist():
        value, bucket = value_key(kind, row)
        facts.append(
            Fact(
                kind=kind,
                fact_id=row["fact_id"],
                doc_id=row["doc_id"],
                canonical=canonical.get(row["doc_id"], row["doc_id"]),
                source_path=row["source_path"],
                char_start=row["char_start"],
                value=value,
                bucket=bucket,
                period=row.get("period"),
                quote=row["quote"],
                sentence=row["sentence"],
                terms=content_terms(row["sentence"], row["quote"]),
            )
        )
    return sorted(facts, key=lambda f: f.fact_id)


def idf_weights(facts: Iterable[Fact]) -> dict[str, float]:
    """Smoothed IDF over distinct sentences: words every sentence shares weigh little."""
    # A set, not a dict by sentence: the terms also depend on the quote, and which quote
    # of a sentence won must not depend on row order.
    sentences = {(f.sentence, f.terms) for f in facts}
    df: Counter[str] = Counter()
    for _sentence, terms in sentences:
        df.update(terms)
    n = len(sentences)
    return {t: math.log((1 + n) / (1 + k)) + 1.0 for t, k in df.items()}


def _weight(terms: Iterable[str], idf: Mapping[str, float]) -> float:
    return sum(idf.get(t, 1.0) for t in terms)


def similarity(a: frozenset[str], b: frozenset[str], idf: Mapping[str, float]) -> float:
    """IDF-weighted overlap of two term sets, relative to the lighter set.

    Overlap rather than Jaccard: a fact sheet restates a joint statement's sentence
    inside a longer one, and the extra clauses must not hide the shared core.
    """
    return _overlap(a, b, min(_weight(a, idf), _weight(b, idf)), idf)


def _overlap(
    a: frozenset[str], b: frozenset[str], smaller: float, idf: Mapping[str, float]
) -> float:
    """``similarity`` given the lighter set's weight (computed once per fact by callers
    that compare each fact with many others)."""
    if smaller == 0:
        return 1.0 if a == b else 0.0
    return _weight(a & b, idf) / smaller


def prefix_terms(terms: frozenset[str], idf: Mapping[str, float]) -> list[str]:
    """The rarest terms of a set, enough that any set sharing none of them scores below
    the threshold against it (prefix filtering, so a bucket is not compared pair by pair).

    If the lighter set of a pair shares weight >= threshold * its own weight with the
    other, the shared terms cannot all lie outside the lighter set's prefix.
    """
    total = _weight(terms, idf)
    rest = total
    prefix = []
    for term in sorted(terms, key=lambda t: (-idf.get(t, 1.0), t)):
        if rest < SIMILARITY_THRESHOLD * total - 1e-9:
            break
        prefix.append(term)
        rest -= idf.get(term, 1.0)
    return prefix


def _candidate_pairs(
    facts: Sequence[Fact], members: Sequence[int], idf: Mapping[str, float]
) -> set[tuple[int, int]]:
    """Pairs (i < j) of one bucket that may reach the threshold; every such pair is here."""
    weight = {i: (_weight(facts[i].terms, idf), i) for i in members}
    empty = [i for i in members if not facts[i].terms]  # only an empty set can match them
    pairs = {(i, j) for x, i in enumerate(empty) for j in empty[x + 1 :]}
    index: dict[str, list[int]] = {}
    for i in members:
        for term in prefix_terms(facts[i].terms, idf):
            index.setdefault(term, []).append(i)
    for j in members:
        for term in facts[j].terms:
            # i is the lighter of the pair (ties by index), so its prefix is the one to hit
            pairs.update(
                (min(i, j), max(i, j)) for i in index.get(term, ()) if weight[i] < weight[j]
            )
    return pairs


def candidate_links(
    facts: Sequence[Fact], idf: Mapping[str, float]
) -> list[tuple[float, int, int]]:
    """(similarity, i, j) for linkable pairs, strongest first, ties by fact order."""
    by_bucket: dict[str, list[int]] = {}
    for i, fact in enumerate(facts):
        by_bucket.setdefault(fact.bucket, []).append(i)
    links = []
    weights = [_weight(f.terms, idf) for f in facts]
    for members in by_bucket.values():
        for i, j in _candidate_pairs(facts, members, idf):
            a, b = facts[i], facts[j]
            if a.doc_id == b.doc_id:
                continue
            # Money and quantities: one bucket is one value. Dates: a bucket is a year,
            # within which only nested values (2026 ⊃ 2026-05 ⊃ 2026-05-02) link.
            if a.kind == "dates" and not values_compatible(a.kind, a.value, b.value):
                continue
            score = _overlap(a.terms, b.terms, min(weights[i], weights[j]), idf)
            if score >= SIMILARITY_THRESHOLD:
                links.append((score, i, j))
    return sorted(links, key=lambda link: (-link[0], link[1], link[2]))


def group_facts(facts: Sequence[Fact], idf: Mapping[str, float]) -> list[list[int]]:
    """Indices of facts per claim: strongest links first, never two facts of one document."""
    parent = list(range(len(facts)))
    docs = [{f.doc_id} for f in facts]

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for _score, i, j in candidate_links(facts, idf):
        ri, rj = root(i), root(j)
        if ri == rj or docs[ri] & docs[rj]:
            continue
        keep, drop = min(ri, rj), max(ri, rj)
        parent[drop] = keep
        docs[keep] |= docs[drop]
    groups: dict[int, list[int]] = {}
    for i in range(len(facts)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _representative(members: Sequence[Fact]) -> Fact:
    """The fact a claim is shown by: from an original (not a copy), most precise, first."""
    return min(
        members,
        key=lambda f: (f.doc_id != f.canonical, -len(f.value), f.source_path, f.char_start),
    )


def claim_rows(
    facts: Sequence[Fact], groups: Sequence[Sequence[int]], published: Mapping[str, str | None]
) -> tuple[list[dict[str, object]], dict[str, str]]:
    """Claims table rows and the claim_id of every fact."""
    rows: list[dict[str, object]] = []
    claim_of: dict[str, str] = {}
    for group in groups:
        members = [facts[i] for i in group]
        rep = _representative(members)
        claim_id = "clm_" + short_hash("claim", rep.kind, rep.value, rep.fact_id, length=20)
        dates = sorted(d for d in (published.get(f.doc_id) for f in members) if d)
        rows.append(
            {
                "claim_id": claim_id,
                "kind": rep.kind,
                "value": rep.value,
                "period": rep.period,
                "quote": rep.quote,
                "sentence": rep.sentence,
                "n_facts": len(members),
                "n_documents": len({f.doc_id for f in members}),
                "n_independent_sources": len({f.canonical for f in members}),
                "first_published": dates[0] if dates else None,
                "latest_published": dates[-1] if dates else None,
                "doc_ids": sorted({f.doc_id for f in members}),
                "fact_ids": sorted(f.fact_id for f in members),
            }
        )
        claim_of.update((f.fact_id, claim_id) for f in members)
    return rows, claim_of


def _set_column(name: str, table: pa.Table, column: str, values: list[object]) -> pa.Table:
    """``table`` with ``column`` (re)placed, in the declared column order."""
    if column in table.column_names:
        table = table.drop_columns([column])
    field = TABLES[name].schema.field(column)
    table = table.append_column(field, pa.array(values, type=field.type))
    return table.select(TABLES[name].column_names)


def entity_document_counts(entities: pa.Table) -> list[int]:
    """For each entity row: how many documents mention its entity_id."""
    ids = entities.column("entity_id").to_pylist()
    docs: dict[str, set[str]] = {}
    for entity, doc in zip(ids, entities.column("doc_id").to_pylist(), strict=True):
        docs.setdefault(entity, set()).add(doc)
    return [len(docs[e]) for e in ids]


def build_claims(tables: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    """Fact tables with claim_id, entities with n_documents, and the claims table."""
    documents = tables["documents"]
    canonical = _canonical_of(documents)
    published = dict(
        zip(
            documents.column("doc_id").to_pylist(),
            documents.column("published_date").to_pylist(),
            strict=True,
        )
    )
    facts_by_kind = {kind: load_facts(kind, tables[kind], canonical) for kind in CLAIM_KINDS}
    idf = idf_weights(f for facts in facts_by_kind.values() for f in facts)
    rows: list[dict[str, object]] = []
    claim_of: dict[str, str] = {}
    for facts in facts_by_kind.values():
        kind_rows, kind_claims = claim_rows(facts, group_facts(facts, idf), published)
        rows += kind_rows
        claim_of.update(kind_claims)
    out = {
        kind: _set_column(
            kind,
            tables[kind],
            "claim_id",
            [claim_of[f] for f in tables[kind].column("fact_id").to_pylist()],
        )
        for kind in CLAIM_KINDS
    }
    entities = tables["entities"]
    out["entities"] = _set_column(
        "entities", entities, "n_documents", list(entity_document_counts(entities))
    )
    out["claims"] = to_arrow("claims", sorted(rows, key=lambda r: str(r["claim_id"])))
    return out
