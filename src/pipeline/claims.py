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
threshold. Facts join claims by leader clustering (``group_facts``: each fact joins the
most similar claim leader, never a claim holding a fact of its own document), linear in
the number of facts, so a document never confirms itself; copies of a document
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
from functools import lru_cache

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


@lru_cache(maxsize=1 << 16)
def _cached_stem(word: str) -> str:
    """``stem``, cached: the genre's vocabulary is small and every sentence repeats it."""
    return stem(word)


def content_terms(sentence: str, quote: str) -> frozenset[str]:
    """Stems of the sentence's content words, minus the quote's own words (the value)."""
    own = _TOKEN.findall(quote.casefold())
    # each distinct word stemmed once; set differences in C rather than tests per word
    words = set(_TOKEN.findall(sentence.casefold())).difference(_STOPWORDS, own)
    # One-letter tokens are initials and split abbreviations (U.S.): no context.
    return frozenset(map(_cached_stem, [w for w in words if len(w) > 1]))


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


_VALUE_COLUMNS = {
    "money": ("amount", "currency", "period"),
    "quantities": ("value", "unit"),
    "dates": ("iso",),
}
_FACT_COLUMNS = ("fact_id", "doc_id", "source_path", "char_start", "quote", "sentence")


def fact_terms(tables: Mapping[str, pa.Table]) -> pa.Table:
    """fact_id and sorted context terms of every fact of the claim kinds.

    Computed in the batch workers, where the facts are made: in parallel, and kept with
    the batch so a rerun does not recompute them for unchanged documents.
    """
    ids: list[str] = []
    terms: list[list[str]] = []
    for kind in CLAIM_KINDS:
        table = tables[kind]
        cache: dict[tuple[str, str], list[str]] = {}  # copied sentences are common
        columns = [table.column(c).to_pylist() for c in ("fact_id", "sentence", "quote")]
        for fact_id, sentence, quote in zip(*columns, strict=True):
            key = (sentence, quote)
            if key not in cache:
                cache[key] = sorted(content_terms(sentence, quote))
            ids.append(fact_id)
            terms.append(cache[key])
    return pa.table(
        {"fact_id": pa.array(ids, pa.string()), "terms": pa.array(terms, pa.list_(pa.string()))}
    )


def terms_by_fact(table: pa.Table) -> dict[str, frozenset[str]]:
    """``fact_terms`` rows as a mapping; equal term sets share one object (memory)."""
    shared: dict[tuple[str, ...], frozenset[str]] = {}
    out: dict[str, frozenset[str]] = {}
    for fact_id, terms in zip(
        table.column("fact_id").to_pylist(), table.column("terms").to_pylist(), strict=True
    ):
        key = tuple(terms)
        found = shared.get(key)
        if found is None:
            found = shared[key] = frozenset(key)
        out[fact_id] = found
    return out


def load_facts(
    kind: str,
    table: pa.Table,
    canonical: Mapping[str, str],
    known_terms: Mapping[str, frozenset[str]] | None = None,
) -> list[Fact]:
    """The rows of one fact table as ``Fact`` records, sorted by a row-order-free key.

    ``known_terms`` (from ``fact_terms``) saves recomputing each fact's context terms.
    """
    wanted = [c for c in (*_FACT_COLUMNS, *_VALUE_COLUMNS[kind]) if c in table.column_names]
    columns = table.select(wanted).to_pydict()
    terms_of: dict[tuple[str, str], frozenset[str]] = {}  # copied sentences are common
    known = known_terms or {}
    facts = []
    for n in range(table.num_rows):
        row = {name: values[n] for name, values in columns.items()}
        value, bucket = value_key(kind, row)
        key = (row["sentence"], row["quote"])
        terms = known.get(row["fact_id"]) or terms_of.get(key)
        if terms is None:
            terms = terms_of[key] = content_terms(*key)
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
                terms=terms,
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


@dataclass(frozen=True, slots=True)
class Context:
    """Facts of one bucket with the same value and the same context terms.

    They are compared with other facts once, as one: a sentence copied into hundreds of
    documents costs one comparison, not one per copy.
    """

    kind: str
    bucket: str
    value: str
    terms: frozenset[str]
    members: tuple[int, ...]  # fact indices, ascending


def contexts(facts: Sequence[Fact]) -> list[Context]:
    """The facts grouped by (kind, bucket, value, terms), in order of their first fact."""
    by_key: dict[tuple[str, str, str, frozenset[str]], list[int]] = {}
    for i, fact in enumerate(facts):
        by_key.setdefault((fact.kind, fact.bucket, fact.value, fact.terms), []).append(i)
    return [Context(k, b, v, t, tuple(m)) for (k, b, v, t), m in by_key.items()]


class LeaderIndex:
    """The leaders of the claims of one bucket, found by shared terms (prefix filtering).

    A leader is indexed by all its terms and by its prefix (``prefix_terms``); a context
    is looked up by its prefix in the first and by all its terms in the second. Whichever
    of a pair is the lighter, a pair reaching the threshold shares a term of the lighter
    one's prefix, so every such leader is found, while lists stay short: prefixes hold the
    rarest terms, and where many contexts are alike they join a few leaders.
    """

    def __init__(self, idf: Mapping[str, float]) -> None:
        self._idf = idf
        self._by_term: dict[str, list[int]] = {}
        self._by_prefix: dict[str, list[int]] = {}
        self._empty: list[int] = []  # leaders without terms: only an empty set matches
        self._prefixes: dict[frozenset[str], list[str]] = {}  # a probe's, reused on add

    def _prefix(self, terms: frozenset[str]) -> list[str]:
        found = self._prefixes.get(terms)
        if found is None:
            found = self._prefixes[terms] = prefix_terms(terms, self._idf)
        return found

    def add(self, leader: int, terms: frozenset[str]) -> None:
        if not terms:
            self._empty.append(leader)
        for term in terms:
            self._by_term.setdefault(term, []).append(leader)
        for term in self._prefix(terms):
            self._by_prefix.setdefault(term, []).append(leader)

    def candidates(self, terms: frozenset[str]) -> set[int]:
        if not terms:
            return set(self._empty)
        found: set[int] = set()
        for term in self._prefix(terms):
            found.update(self._by_term.get(term, ()))
        for term in terms:
            found.update(self._by_prefix.get(term, ()))
        return found


def _index_keys(context: Context) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The leader indexes a context's claim is filed under, and those it looks in.

    Most kinds: its bucket. A date: its value, so that it meets only leaders of compatible
    values (``values_compatible``: its own, the month and year it lies in, the days of a
    month or year) rather than every leader of its year. An ISO value is filed under
    itself ("=") and as finer than each value containing it ("<").
    """
    if context.kind != "dates":
        return [("bucket", context.bucket)], [("bucket", context.bucket)]
    value = context.value
    if value.startswith(("?", "FY")):  # compatible with equal values only
        return [("=", value)], [("=", value)]
    containing = [value[:i] for i, char in enumerate(value) if char == "-"]
    filed = [("=", value), *(("<", c) for c in containing)]
    return filed, [("=", value), *(("=", c) for c in containing), ("<", value)]


def _best_leaders(
    context: Context,
    leaders: Sequence[tuple[Context, float]],
    indexes: Sequence[LeaderIndex | None],
    idf: Mapping[str, float],
) -> list[int]:
    """Claims (by number) whose leader the context may join, most similar first."""
    weight = _weight(context.terms, idf)
    scored = []
    found: set[int] = set()
    for index in indexes:
        if index is not None:
            found |= index.candidates(context.terms)
    for claim in found:
        leader, leader_weight = leaders[claim]
        if context.kind == "dates" and not values_compatible("dates", context.value, leader.value):
            continue
        score = _overlap(context.terms, leader.terms, min(weight, leader_weight), idf)
        if score >= SIMILARITY_THRESHOLD:
            scored.append((-score, claim))
    return [claim for _score, claim in sorted(scored)]


def group_facts(facts: Sequence[Fact], idf: Mapping[str, float]) -> list[list[int]]:
    """Indices of facts per claim, never two facts of one document in a claim.

    Leader clustering, linear in the number of facts: contexts are taken in fact order;
    each fact joins the claim whose leader context is most similar (at least the
    threshold) and holds no fact of its document, else it leads a new claim. A fact is
    compared with leaders only, so a claim cannot drift by chaining away from its
    leader's sentence.
    """
    leaders: list[tuple[Context, float]] = []  # per claim number, with its terms' weight
    members: list[list[int]] = []
    docs: list[set[str]] = []
    indexes: dict[tuple[str, str], LeaderIndex] = {}
    for context in contexts(facts):
        filed_under, looked_up = _index_keys(context)
        matches = _best_leaders(context, leaders, [indexes.get(k) for k in looked_up], idf)
        own: list[int] = []  # claims this context leads (for a document repeating it)
        for i in context.members:
            doc = facts[i].doc_id
            claim = next((c for c in (*matches, *own) if doc not in docs[c]), None)
            if claim is None:
                claim = len(leaders)
                leaders.append((context, _weight(context.terms, idf)))
                members.append([])
                docs.append(set())
                own.append(claim)
                for key in filed_under:
                    indexes.setdefault(key, LeaderIndex(idf)).add(claim, context.terms)
            members[claim].append(i)
            docs[claim].add(doc)
    return members


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


def build_claims(
    tables: Mapping[str, pa.Table], terms: pa.Table | None = None
) -> dict[str, pa.Table]:
    """Fact tables with claim_id, entities with n_documents, and the claims table.

    ``terms``: the facts' ``fact_terms`` when the batches computed them.
    """
    documents = tables["documents"]
    canonical = _canonical_of(documents)
    published = dict(
        zip(
            documents.column("doc_id").to_pylist(),
            documents.column("published_date").to_pylist(),
            strict=True,
        )
    )
    known = terms_by_fact(terms) if terms is not None else None
    facts_by_kind = {kind: load_facts(kind, tables[kind], canonical, known) for kind in CLAIM_KINDS}
    del known
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
