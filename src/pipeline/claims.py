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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from itertools import chain, repeat
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.codes import value_numbers
from pipeline.ids import short_hash
from pipeline.resources import load_yaml
from pipeline.runtime import return_freed_memory
from pipeline.schemas import CLAIM_KINDS, TABLES, with_columns

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

_T = TypeVar("_T")
# A fact's context terms as grouping keeps them for every fact: sorted, so equal sets are
# equal tuples. A tuple takes a fifth of a frozenset's memory (at 100,000 documents the
# facts' term sets took 1.7 GB as frozensets); grouping makes a frozenset of a context's
# terms only while it compares them.
Terms = tuple[str, ...]


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
    """fact_id, sorted context terms, kind and value keys (``value_key``: value and bucket)
    of every fact of the claim kinds.

    Computed in the batch workers, where the facts are made: in parallel, and kept with
    the batch so a rerun does not recompute them for unchanged documents.
    """
    ids: list[str] = []
    terms: list[list[str]] = []
    values: list[str] = []
    buckets: list[str] = []
    kinds: list[str] = []
    for kind in CLAIM_KINDS:
        table = tables[kind]
        kinds += [kind] * table.num_rows
        cache: dict[tuple[str, str], list[str]] = {}  # copied sentences are common
        columns = [table.column(c).to_pylist() for c in ("fact_id", "sentence", "quote")]
        for fact_id, sentence, quote in zip(*columns, strict=True):
            key = (sentence, quote)
            if key not in cache:
                cache[key] = sorted(content_terms(sentence, quote))
            ids.append(fact_id)
            terms.append(cache[key])
        kind_values, kind_buckets = _value_keys(kind, table, columns[2])
        values += kind_values
        buckets += kind_buckets
    return pa.table(
        {
            "fact_id": pa.array(ids, pa.string()),
            "terms": pa.array(terms, pa.list_(pa.string())),
            "kind": pa.array(kinds, pa.string()),
            "value": pa.array(values, pa.string()),
            "bucket": pa.array(buckets, pa.string()),
        }
    )


# The value keys ``fact_terms`` keeps (older batches' files lack them: computed again).
_KEY_COLUMNS = ("kind", "value", "bucket")


def sorted_terms(terms: Iterable[str]) -> Terms:
    """Terms as grouping keeps them (``Terms``)."""
    return tuple(sorted(terms))


def _term_tuples(column: pa.ChunkedArray) -> list[Terms]:
    """The term lists of a ``fact_terms`` column as ``Terms``, one per row.

    Equal lists share one tuple and each distinct term is one string object (memory: a
    corpus has ~20 terms per fact but a vocabulary of thousands). A null list has no
    terms (``fact_terms`` makes none).
    """
    shared: dict[Terms, Terms] = {}
    names: dict[str, str] = {}
    out: list[Terms] = []
    for chunk in column.chunks:
        for start in range(0, len(chunk), _SLICE):
            part = chunk.slice(start, _SLICE)
            offsets = part.offsets.to_pylist()
            # the terms of these rows (offsets index into values)
            values = part.values.slice(offsets[0], offsets[-1] - offsets[0])
            encoded = values.dictionary_encode()
            words = [names.setdefault(w, w) for w in encoded.dictionary.to_pylist()]
            flat = list(map(words.__getitem__, encoded.indices.to_pylist()))
            for n, valid in enumerate(part.is_valid().to_pylist()):
                key = tuple(flat[offsets[n] - offsets[0] : offsets[n + 1] - offsets[0]])
                found = shared.get(key) if valid else ()
                if found is None:  # fact_terms sorts its lists: one tuple for both, mostly
                    ordered = sorted_terms(key)
                    found = shared[key] = key if ordered == key else ordered
                out.append(found)
    return out


_SLICE = 8192  # rows converted at once (bounds the temporary Python lists)


def _found_rows(terms: pa.Table, fact_ids: pa.ChunkedArray) -> list[int | None]:
    """For each fact_id: the row of its (last) ``fact_terms`` row, else None."""
    n = terms.num_rows
    # index_in finds the first match: looking in the reversed rows, the last row wins.
    backwards = terms.column("fact_id").take(pa.array(range(n - 1, -1, -1), pa.int64()))
    found = pc.index_in(fact_ids, value_set=backwards.combine_chunks())
    return [None if k is None else n - 1 - k for k in found.to_pylist()]


def _known_keys(
    kind: str, terms: pa.Table, found: Sequence[int | None], fact_ids: pa.ChunkedArray
) -> tuple[list[str], list[str]] | None:
    """The value keys ``fact_terms`` kept for the ``found`` rows of ``fact_ids`` (a kind's
    facts); None when it kept none, lacks some or has another kind's, or when a fact_id
    names two rows (they may differ, and a key is a row's): then all are computed again
    (the rare case)."""
    if not set(_KEY_COLUMNS) <= set(terms.column_names) or None in found:
        return None
    if pc.count_distinct(fact_ids, mode="all").as_py() != len(fact_ids):
        return None
    rows = pa.array(found, pa.int64())
    if pc.all(pc.equal(terms["kind"].take(rows), kind)).as_py() is False:
        return None  # a row of another kind's fact of that fact_id
    shared: dict[str, str] = {}  # equal values one object (memory, and ClaimGroups' pickle)
    values = [shared.setdefault(v, v) for v in _shared_strings(terms["value"].take(rows))]
    buckets = [shared.setdefault(b, b) for b in _shared_strings(terms["bucket"].take(rows))]
    if None in values or None in buckets:
        return None
    return values, buckets


def _shared_strings(column: pa.ChunkedArray) -> list[str]:
    """``column.to_pylist()`` with one object per distinct value of a chunk (memory).

    Nulls are None, as to_pylist has them (the columns read this way are not nullable).
    """
    out: list[str] = []
    for chunk in column.chunks:
        encoded = chunk.dictionary_encode()
        values = [*encoded.dictionary.to_pylist(), None]
        codes = encoded.indices.fill_null(len(values) - 1).to_pylist()
        out += map(values.__getitem__, codes)
    return out


@dataclass(slots=True)
class _Facts:
    """One kind's facts as columns, sorted by fact_id (what ``Fact`` holds; claims
    completion keeps them in row order, see ``_marked_facts``).

    Without quote and sentence: only a claim's representative shows them, and it fetches
    them by ``row`` (the fact's row in its table), so they are not held for every fact.
    """

    kind: str
    row: Sequence[int]
    fact_id: list[str]
    doc_id: list[str]
    canonical: list[str]
    source_path: list[str]
    char_start: list[int]
    value: list[str]
    bucket: list[str]
    period: list[str | None]
    terms: list[Terms]


def _value_keys(kind: str, table: pa.Table, quotes: Sequence[str]) -> tuple[list[str], list[str]]:
    """``value_key`` of every row (equal strings shared: memory)."""
    names = [c for c in _VALUE_COLUMNS[kind] if c in table.column_names]
    columns = [table.column(c).to_pylist() for c in names]
    keys = ["quote", *names]
    shared: dict[str, str] = {}
    values: list[str] = []
    buckets: list[str] = []
    for row in zip(quotes, *columns, strict=True):
        value, bucket = value_key(kind, dict(zip(keys, row, strict=True)))
        values.append(shared.setdefault(value, value))
        buckets.append(shared.setdefault(bucket, bucket))
    return values, buckets


def _row_terms(
    sentences_of: Callable[[], pa.ChunkedArray],
    quotes_of: Callable[[], Sequence[str]],
    known: Sequence[Terms | None],
) -> list[Terms]:
    """Each row's context terms: known (``fact_terms``) or computed from its sentence and
    quote (``sentences_of()``, ``quotes_of()``: asked for only when some terms are unknown)."""
    terms_of: dict[tuple[str, str], Terms] = {}  # copied sentences are common
    sentences: list[str] | None = None  # fetched only if some row's terms are unknown
    quotes: Sequence[str] = ()
    out: list[Terms] = []
    for n, terms in enumerate(known):
        if not terms:  # as the unknown ones: an empty known set is recomputed
            if sentences is None:
                sentences, quotes = sentences_of().to_pylist(), quotes_of()
            key = (sentences[n], quotes[n])
            terms = terms_of.get(key)
            if terms is None:
                terms = terms_of[key] = sorted_terms(content_terms(*key))
        out.append(terms)
    return out


def _load_facts(
    kind: str,
    table: pa.Table,
    canonical: Mapping[str, str],
    known: Sequence[Terms | None] | None,
    sentences_of: Callable[[], pa.ChunkedArray] | None = None,
    keys: tuple[list[str], list[str]] | None = None,
    quotes_of: Callable[[], pa.ChunkedArray] | None = None,
) -> _Facts:
    """The rows of one fact table as columns, sorted by fact_id (stable: row order breaks
    ties), so grouping does not depend on row order. ``sentences_of``: the rows'
    sentences, when ``table`` has none. ``keys``: the rows' value keys, when known (then
    ``table`` needs neither value columns but the period nor, given ``quotes_of``, quotes)."""
    fact_ids = table.column("fact_id").to_pylist()
    doc_ids = _shared_strings(table.column("doc_id"))
    quote_column = quotes_of or partial(table.column, "quote")
    quotes = cache(lambda: quote_column().to_pylist())  # read once, if at all
    values, buckets = keys if keys is not None else _value_keys(kind, table, quotes())
    if sentences_of is None:
        sentences_of = partial(table.column, "sentence")
    terms = _row_terms(sentences_of, quotes, known or [None] * len(fact_ids))
    del quotes
    periods = _periods(table)
    source_paths = _shared_strings(table.column("source_path"))
    char_starts = table.column("char_start").to_pylist()
    order = sorted(range(len(fact_ids)), key=fact_ids.__getitem__)

    def ordered(column: Sequence[_T]) -> list[_T]:
        return [column[i] for i in order]

    return _Facts(
        kind=kind,
        row=order,
        fact_id=ordered(fact_ids),
        doc_id=ordered(doc_ids),
        canonical=[canonical.get(d, d) for d in ordered(doc_ids)],
        source_path=ordered(source_paths),
        char_start=ordered(char_starts),
        value=ordered(values),
        bucket=ordered(buckets),
        period=ordered(periods),
        terms=ordered(terms),
    )


def _marked_facts(
    kind: str, table: pa.Table, canonical: Mapping[str, str], values: list[str]
) -> _Facts:
    """The facts of groups already made, in row order, with the values grouping found
    (``ClaimGroups.values``, aligned with the rows): neither value keys nor the sort by
    fact_id are made again, and ``table`` needs only the ``_marked_columns``.

    Row order: the groups name rows and keep their facts' order, so a claim is made of
    the same facts in the same order wherever they sit. Every fact's bucket and terms are
    empty: grouping alone uses them."""
    fact_ids = table.column("fact_id").to_pylist()
    if len(values) != len(fact_ids):
        raise ValueError(f"{kind}: {len(values)} values for {len(fact_ids)} facts")
    doc_ids = _shared_strings(table.column("doc_id"))
    return _Facts(
        kind=kind,
        row=range(len(fact_ids)),
        fact_id=fact_ids,
        doc_id=doc_ids,
        canonical=[canonical.get(d, d) for d in doc_ids],
        source_path=_shared_strings(table.column("source_path")),
        char_start=table.column("char_start").to_pylist(),
        value=values,
        bucket=[""] * len(fact_ids),
        period=_periods(table),
        terms=[()] * len(fact_ids),
    )


def _periods(table: pa.Table) -> list[str | None]:
    """Each row's period (money's), else None."""
    if "period" not in table.column_names:
        return [None] * table.num_rows
    periods: list[str | None] = table.column("period").to_pylist()
    return periods


def _idf(df: Mapping[str, int], n: int) -> dict[str, float]:
    return {t: math.log((1 + n) / (1 + k)) + 1.0 for t, k in df.items()}


def idf_weights(facts: Iterable[Fact]) -> dict[str, float]:
    """Smoothed IDF over distinct sentences: words every sentence shares weigh little."""
    # A set, not a dict by sentence: the terms also depend on the quote, and which quote
    # of a sentence won must not depend on row order.
    sentences = {(f.sentence, f.terms) for f in facts}
    df: Counter[str] = Counter()
    for _sentence, terms in sentences:
        df.update(terms)
    return _idf(df, len(sentences))


def sentence_numbers(sentences: Iterable[pa.ChunkedArray]) -> npt.NDArray[np.int64]:
    """A number per row of the given sentence columns, one after another: equal
    sentences, equal numbers (by Arrow: no Python string made)."""
    return value_numbers(sentences)


def _corpus_idf(facts: Sequence[_Facts], by_row: npt.NDArray[np.int64]) -> dict[str, float]:
    """``idf_weights`` of ``facts`` (every claim kind's, in CLAIM_KINDS order) given their
    tables' ``sentence_numbers`` (the kinds' rows one after another).

    The distinct (sentence, terms) pairs as pairs of numbers: sentences by ``by_row``,
    term sets by equality.
    """
    sentence_ids: list[npt.NDArray[np.int64]] = []
    start = 0
    for kind_facts in facts:  # each kind's rows, in the order of its facts
        sentence_ids.append(by_row[start + np.array(kind_facts.row, np.int64)])
        start += len(kind_facts.row)
    set_ids: dict[Terms, int] = {}
    for kind_facts in facts:
        for terms in kind_facts.terms:
            set_ids.setdefault(terms, len(set_ids))
    sets = list(set_ids)
    term_ids = np.array([set_ids[t] for f in facts for t in f.terms], np.int64)
    pairs = np.unique(np.concatenate([np.zeros(0, np.int64), *sentence_ids]) * len(sets) + term_ids)
    times = np.bincount(pairs % max(len(sets), 1), minlength=len(sets)).tolist()
    df: Counter[str] = Counter()
    # sets in one pair (most): counted in C
    df.update(chain.from_iterable(s for s, n in zip(sets, times, strict=True) if n == 1))
    for terms, n in zip(sets, times, strict=True):
        if n > 1:
            for term in terms:
                df[term] += n
    return _idf(df, len(pairs))


_ONES = repeat(1.0)  # idf.get's default, for map (an endless iterator: safe to share)


def _weight(terms: Iterable[str], idf: Mapping[str, float]) -> float:
    # fsum, the exactly rounded sum: a set's iteration order follows the process's string
    # hash seed, and a plain sum in that order could differ in its last bit from one run
    # to the next and flip a threshold or a tie (claims changed between runs of one input)
    return math.fsum(map(idf.get, terms, _ONES))


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
    rest = total = _weight(terms, idf)
    prefix = []
    for term in sorted(terms, key=lambda t: (-idf.get(t, 1.0), t)):
        if rest < SIMILARITY_THRESHOLD * total - 1e-9:
            break
        prefix.append(term)
        rest -= idf.get(term, 1.0)
    return prefix


def _rarity_ranks(idf: Mapping[str, float]) -> dict[str, int]:
    """Each term's place in ``prefix_terms``' order, so a set sorts by a dict lookup in C."""
    return {t: n for n, t in enumerate(sorted(idf, key=lambda t: (-idf.get(t, 1.0), t)))}


@dataclass(frozen=True, slots=True)
class Context:
    """Facts of one bucket with the same value and the same context terms.

    They are compared with other facts once, as one: a sentence copied into hundreds of
    documents costs one comparison, not one per copy.
    """

    kind: str
    bucket: str
    value: str
    terms: frozenset[str] | Terms
    members: tuple[int, ...]  # fact indices, ascending


def contexts(facts: Sequence[Fact]) -> list[Context]:
    """The facts grouped by (kind, bucket, value, terms), in order of their first fact."""
    return _contexts((f.kind, f.bucket, f.value, f.terms) for f in facts)


def _contexts(keys: Iterable[tuple[str, str, str, frozenset[str] | Terms]]) -> list[Context]:
    """``contexts`` of the facts' (kind, bucket, value, terms)."""
    by_key: dict[tuple[str, str, str, frozenset[str] | Terms], list[int]] = {}
    for i, key in enumerate(keys):
        found = by_key.get(key)
        if found is None:
            by_key[key] = [i]
        else:
            found.append(i)
    return [Context(k, b, v, t, tuple(m)) for (k, b, v, t), m in by_key.items()]


# Leaders an index key holds before its leaders are indexed by term: below it every leader
# is a candidate. Most buckets (an amount, a count of a unit) have a few leaders, and
# term lists of one leader each cost more than scoring them all.
_INDEX_FROM = 32


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


def group_facts(facts: Sequence[Fact], idf: Mapping[str, float]) -> list[list[int]]:
    """Indices of facts per claim, never two facts of one document in a claim.

    Leader clustering, linear in the number of facts: contexts are taken in fact order;
    each fact joins the claim whose leader context is most similar (at least the
    threshold) and holds no fact of its document, else it leads a new claim. A fact is
    compared with leaders only, so a claim cannot drift by chaining away from its
    leader's sentence.
    """
    return _group(contexts(facts), [f.doc_id for f in facts], idf)


def _group(
    found: Iterable[Context],
    doc_ids: Sequence[str],
    idf: Mapping[str, float],
    index_from: int = _INDEX_FROM,
) -> list[list[int]]:
    """``group_facts`` given the facts' contexts and documents (``leaders.group_contexts``
    over the contexts as arrays). ``index_from``: see ``leaders``; claims do not depend on it."""
    from pipeline.leaders import group_contexts  # numba's import: only grouping needs it

    found = list(found)
    try:  # the corpus's idf weighs every term of its facts
        ranks, weights = _term_numbers(idf)
        terms, term_lo, term_hi = _term_runs([c.terms for c in found], ranks.__getitem__)
    except KeyError:  # a caller's own idf may lack some: they weigh 1.0, as in ``_weight``
        missing = set(chain.from_iterable(c.terms for c in found)).difference(idf)
        ranks, weights = _term_numbers({**idf, **dict.fromkeys(missing, 1.0)})
        terms, term_lo, term_hi = _term_runs([c.terms for c in found], ranks.__getitem__)
    member_counts = np.fromiter((len(c.members) for c in found), np.int64, len(found))
    members = np.fromiter(
        chain.from_iterable(c.members for c in found), np.int64, int(member_counts.sum())
    )
    documents: dict[str, int] = {}
    docs = np.fromiter((documents.setdefault(d, len(documents)) for d in doc_ids), np.int64)
    (filed, filed_lo, filed_hi), (looked, looked_lo, looked_hi), n_keys = _key_runs(found)
    claim_of = group_contexts(
        term_lo,
        term_hi,
        terms,
        weights,
        _offsets(member_counts),
        members,
        docs,
        filed_lo,
        filed_hi,
        filed,
        looked_lo,
        looked_hi,
        looked,
        n_keys,
        SIMILARITY_THRESHOLD,
        index_from,
    )
    return _members_by_claim(members, claim_of)


def _term_numbers(idf: Mapping[str, float]) -> tuple[dict[str, int], npt.NDArray[np.float64]]:
    """Each term's number, rarest first (``_rarity_ranks``), and the weights by number."""
    ranks = _rarity_ranks(idf)
    by_rank = np.empty(len(ranks), np.float64)
    for term, rank in ranks.items():
        by_rank[rank] = idf[term]
    return ranks, by_rank


Ints = npt.NDArray[np.int64]
_Runs = tuple[Ints, Ints, Ints]  # values, and each row's run of them: from, to


def _term_runs(term_sets: Sequence[Collection[str]], number: Callable[[str], int]) -> _Runs:
    """The contexts' term numbers as runs of one array: a run per distinct term set
    object (grouping shares one tuple among equal term lists), numbered once."""
    block_of: dict[int, int] = {}  # by id(): the sets stay alive in term_sets meanwhile
    blocks: list[Collection[str]] = []
    row_blocks = []
    for terms in term_sets:
        at = block_of.get(id(terms))
        if at is None:
            at = block_of[id(terms)] = len(blocks)
            blocks.append(terms)
        row_blocks.append(at)
    counts = np.fromiter(map(len, blocks), np.int64, len(blocks))
    values = np.fromiter(map(number, chain.from_iterable(blocks)), np.int64, int(counts.sum()))
    return _runs_of(values, counts, row_blocks)


def _key_runs(found: Sequence[Context]) -> tuple[_Runs, _Runs, int]:
    """The index keys each context files under and looks in (``_index_keys``), numbered,
    as runs (one per distinct kind, bucket and value), and how many keys."""
    numbers: dict[tuple[str, str], int] = {}
    value_of: dict[tuple[str, str, str], int] = {}
    filed: list[list[int]] = []
    looked: list[list[int]] = []
    row_blocks = []
    for context in found:
        value = (context.kind, context.bucket, context.value)
        at = value_of.get(value)
        if at is None:
            at = value_of[value] = len(filed)
            filed_under, looked_up = _index_keys(context)
            filed.append([numbers.setdefault(k, len(numbers)) for k in filed_under])
            looked.append([numbers.setdefault(k, len(numbers)) for k in looked_up])
        row_blocks.append(at)
    return _flat_runs(filed, row_blocks), _flat_runs(looked, row_blocks), len(numbers)


def _flat_runs(blocks: Sequence[Sequence[int]], row_blocks: Sequence[int]) -> _Runs:
    counts = np.fromiter(map(len, blocks), np.int64, len(blocks))
    values = np.fromiter(chain.from_iterable(blocks), np.int64, int(counts.sum()))
    return _runs_of(values, counts, row_blocks)


def _runs_of(values: Ints, counts: Ints, row_blocks: Sequence[int]) -> _Runs:
    """``values`` cut in blocks of ``counts``; each row's run is its block's."""
    starts = _offsets(counts)
    rows = np.asarray(row_blocks, np.int64)
    return values, starts[rows], starts[rows + 1]


def _offsets(counts: Ints) -> Ints:
    return np.concatenate([np.zeros(1, np.int64), np.cumsum(counts, dtype=np.int64)])


def _members_by_claim(
    members: npt.NDArray[np.int64], claim_of: npt.NDArray[np.int64]
) -> list[list[int]]:
    """The facts of each claim, by claim number, in the order they joined it."""
    if len(members) == 0:
        return []
    order = np.argsort(claim_of, kind="stable")
    facts: list[int] = members[order].tolist()
    ends = np.cumsum(np.bincount(claim_of)).tolist()
    return [facts[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]


def _representative(facts: _Facts, group: Sequence[int]) -> int:
    """The fact a claim is shown by: from an original (not a copy), most precise, first."""
    if len(group) == 1:
        return group[0]
    doc_id, canonical, value = facts.doc_id, facts.canonical, facts.value
    source_path, char_start = facts.source_path, facts.char_start
    return min(
        group,
        key=lambda i: (doc_id[i] != canonical[i], -len(value[i]), source_path[i], char_start[i]),
    )


def _claims(
    facts: _Facts,
    groups: Sequence[Sequence[int]],
    table: pa.Table,
    published: Mapping[str, str | None],
    columns: dict[str, list[object]],
) -> list[str]:
    """Append the claims of one kind to ``columns`` (claims table columns); the claim_id of
    each fact, aligned with the table's rows."""
    reps = [_representative(facts, group) for group in groups]
    # quote and sentence of the representatives only, fetched from the table by row
    rows = pa.array([facts.row[r] for r in reps], pa.int64())
    quotes = table.column("quote").take(rows).to_pylist()
    sentences = table.column("sentence").take(rows).to_pylist()
    fact_id, doc_id, canonical = facts.fact_id, facts.doc_id, facts.canonical
    claim_ids = [""] * len(fact_id)  # every fact is in one group: all are set
    append = {name: columns[name].append for name in TABLES["claims"].column_names}
    for group, rep, quote, sentence in zip(groups, reps, quotes, sentences, strict=True):
        value = facts.value[rep]
        claim_id = "clm_" + short_hash("claim", facts.kind, value, fact_id[rep], length=20)
        dates = sorted(d for d in (published.get(doc_id[i]) for i in group) if d)
        docs = {doc_id[i] for i in group}
        append["claim_id"](claim_id)
        append["kind"](facts.kind)
        append["value"](value)
        append["period"](facts.period[rep])
        append["quote"](quote)
        append["sentence"](sentence)
        append["n_facts"](len(group))
        append["n_documents"](len(docs))
        append["n_independent_sources"](len({canonical[i] for i in group}))
        append["first_published"](dates[0] if dates else None)
        append["latest_published"](dates[-1] if dates else None)
        append["doc_ids"](sorted(docs))
        append["fact_ids"](sorted([fact_id[i] for i in group]))
        for i in group:
            claim_ids[facts.row[i]] = claim_id
    return claim_ids


def _claims_table(columns: Mapping[str, list[object]]) -> pa.Table:
    """The claims table of ``_claims``' columns (one per schema column), sorted by
    claim_id, as ``to_arrow("claims", sorted(rows, key=claim_id))`` makes it."""
    ids: list[str] = columns["claim_id"]  # type: ignore[assignment]
    order = sorted(range(len(ids)), key=ids.__getitem__)
    schema = TABLES["claims"].schema
    return pa.Table.from_pydict(
        {name: [columns[name][i] for i in order] for name in schema.names}, schema=schema
    )


def entity_document_counts(entities: pa.Table) -> list[int]:
    """For each entity row: how many documents mention its entity_id."""
    # distinct (entity, document) pairs, then pairs per entity, in Arrow (no Python strings)
    pairs = pa.table([entities.column("entity_id"), entities.column("doc_id")], ["e", "d"])
    distinct = pairs.group_by(["e", "d"]).aggregate([])
    per_entity = distinct.group_by("e").aggregate([("d", "count", pc.CountOptions("all"))])
    where = pc.index_in(entities.column("entity_id"), value_set=per_entity.column("e"))
    counts: list[int] = per_entity.column("d_count").take(where).to_pylist()
    return counts


@dataclass(frozen=True)
class ClaimMarks:
    """What grouping decided, aligned with the rows it was given: each fact's claim_id
    (per kind), each entity row's n_documents (empty when not counted), and the claims
    table."""

    claim_ids: dict[str, list[str]]
    n_documents: list[int]
    claims: pa.Table


def build_claims(
    tables: Mapping[str, pa.Table], terms: pa.Table | None = None
) -> dict[str, pa.Table]:
    """Fact tables with claim_id, entities with n_documents, and the claims table.

    ``terms``: the facts' ``fact_terms`` when the batches computed them.
    """
    marks = claim_marks(lambda name, columns: tables[name].select(list(columns)), lambda: terms)
    out = {
        kind: with_columns(kind, tables[kind], {"claim_id": marks.claim_ids[kind]})
        for kind in CLAIM_KINDS
    }
    out["entities"] = with_columns(
        "entities", tables["entities"], {"n_documents": marks.n_documents}
    )
    out["claims"] = marks.claims
    return out


Load = Callable[[str, Sequence[str]], pa.Table]  # a table's named columns


@dataclass(frozen=True)
class ClaimGroups:
    """Grouping's result: per claim kind, each claim's facts as rows of the kind's table,
    and each row's value.

    Grouping does not depend on which documents are copies (only a claim's
    representative and independent sources do), so it can run beside dedup.
    """

    rows: dict[str, list[list[int]]]
    # per claim kind, each row's value (``value_key``), as ``claim_marks`` needs them: they
    # are costly to compute again, and pickle small (equal values are one object)
    values: dict[str, list[str]]

    def only(self, kinds: Iterable[str]) -> ClaimGroups:
        """The groups of ``kinds`` alone (what a process marking those kinds needs)."""
        return ClaimGroups({k: self.rows[k] for k in kinds}, {k: self.values[k] for k in kinds})

    def halves(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The claim kinds in two shares of about equal work (facts to mark and write):
        the kind with the most facts, and the others (at 100,000 documents 319,000
        quantities against 262,000 money and 237,000 date facts)."""
        largest = max(CLAIM_KINDS, key=lambda kind: (len(self.values[kind]), kind))
        return (largest,), tuple(k for k in CLAIM_KINDS if k != largest)


def claim_groups(
    load: Load, load_terms: Callable[[], pa.Table | None] = lambda: None
) -> ClaimGroups:
    """The claims of every kind's facts (``group_facts`` over the IDF of all kinds), and
    the facts' values.

    ``load(name, columns)``: some of the ``CLAIM_COLUMNS`` of a claim kind's table;
    ``load_terms()``: the facts' ``fact_terms`` (None: computed from the sentences). What
    is loaded is let go as soon as it is used, and sentences are held as numbers, so
    loaders that read files hold little: at 100,000 documents sentences and fact terms are
    650 MB in Arrow.
    """
    by_row = sentence_numbers(load(kind, ["sentence"]).column("sentence") for kind in CLAIM_KINDS)
    facts = _all_facts(load, {}, load_terms())
    idf = _corpus_idf(facts, by_row)
    del by_row
    # the temporaries are freed but kept by the allocators; grouping would start 800 MB
    # higher at 100,000 documents
    return_freed_memory()
    rows: dict[str, list[list[int]]] = {}
    values: dict[str, list[str]] = {}
    for kind_facts in facts:
        keys = zip(repeat(kind_facts.kind), kind_facts.bucket, kind_facts.value, kind_facts.terms)
        row = kind_facts.row
        groups = _group(_contexts(keys), kind_facts.doc_id, idf)
        rows[kind_facts.kind] = [[row[i] for i in group] for group in groups]
        values[kind_facts.kind] = _in_row_order(kind_facts, kind_facts.value)
    return ClaimGroups(rows, values)


def _in_row_order(facts: _Facts, column: Sequence[_T]) -> list[_T]:
    """A column of the facts (in fact_id order) in the order of their table's rows: how
    ``ClaimGroups`` keeps them, as ``claim_marks`` loads the facts again."""
    out: list[_T] = list(column)
    for at, row in enumerate(facts.row):
        out[row] = column[at]
    return out


def claim_marks(
    load: Load,
    load_terms: Callable[[], pa.Table | None] = lambda: None,
    groups: ClaimGroups | None = None,
    *,
    entities: bool = True,
) -> ClaimMarks:
    """``build_claims``' decisions from the columns it reads (see ``claim_groups``, and
    the documents' and entities' ``CLAIM_COLUMNS``). ``groups``: ``claim_groups`` when
    already made, for every claim kind or some (``ClaimGroups.only``): then only those
    kinds are marked, and the claims table holds only their claims. ``entities=False``:
    no entity document counts (``n_documents`` is empty): the caller counts them (they
    need no claims)."""
    if groups is None:
        groups = claim_groups(load, load_terms)
    # first, while little else is held: its Arrow grouping peaks at 370 MB at 100,000 docs
    n_documents = (
        entity_document_counts(load("entities", CLAIM_COLUMNS["entities"])) if entities else []
    )
    canonical, published = _documents_of(load("documents", CLAIM_COLUMNS["documents"]))
    columns: dict[str, list[object]] = {name: [] for name in TABLES["claims"].column_names}
    claim_ids: dict[str, list[str]] = {}
    for kind in [k for k in CLAIM_KINDS if k in groups.rows]:
        marked = load(kind, _marked_columns(kind))
        facts = _marked_facts(kind, marked, canonical, groups.values[kind])
        del marked  # let go once made facts
        shown = load(kind, ["quote", "sentence"])
        # the facts are in row order: their positions are the groups' rows
        claim_ids[kind] = _claims(facts, groups.rows[kind], shown, published, columns)
        del facts, shown
        return_freed_memory()  # the next kind starts from what this one holds
    return ClaimMarks(claim_ids=claim_ids, n_documents=n_documents, claims=_claims_table(columns))


def _documents_of(documents: pa.Table) -> tuple[dict[str, str], dict[str, str | None]]:
    """Each document's canonical (itself or the document it copies) and published date."""
    ids = documents.column("doc_id").to_pylist()
    published = documents.column("published_date").to_pylist()
    return _canonical_of(documents), dict(zip(ids, published, strict=True))


def _all_facts(load: Load, canonical: Mapping[str, str], terms: pa.Table | None) -> list[_Facts]:
    """The facts of every claim kind, in CLAIM_KINDS order, with their terms (and their
    value keys, when ``terms`` kept them: then neither quotes nor value columns are read)."""
    sets = None
    if terms is not None:
        sets = _term_tuples(terms.column("terms"))
        # the lists are tuples now: let their Arrow column go (200 MB at 100,000 docs)
        terms = terms.select([c for c in terms.column_names if c != "terms"])
    keyed = terms is not None and set(_KEY_COLUMNS) <= set(terms.column_names)
    facts = []
    for kind in CLAIM_KINDS:
        table = load(kind, _fact_columns(kind, keyed=keyed))
        known, keys = None, None
        if terms is not None and sets is not None:
            found = _found_rows(terms, table.column("fact_id"))
            known = [None if k is None else sets[k] for k in found]
            keys = _known_keys(kind, terms, found, table.column("fact_id"))
            if keys is None and keyed:  # some facts lack kept keys: read what makes them
                table = load(kind, _fact_columns(kind))
        sentences_of = partial(_column_of, load, kind, "sentence")
        quotes_of = partial(_column_of, load, kind, "quote")
        facts.append(_load_facts(kind, table, canonical, known, sentences_of, keys, quotes_of))
    return facts


def _fact_columns(kind: str, *, keyed: bool = False) -> list[str]:
    """The columns a kind's facts are loaded from: all it reads but the sentence (held as a
    number, see ``sentence_numbers``); ``keyed`` (value keys known): nor the quote and
    value columns they are made of (a quote is read only if its terms are unknown)."""
    columns = [c for c in CLAIM_COLUMNS[kind] if c != "sentence"]
    if keyed:
        made_of = {"quote", *_VALUE_COLUMNS[kind]} - {"period"}
        columns = [c for c in columns if c not in made_of]
    return columns


def _marked_columns(kind: str) -> list[str]:
    """The columns ``claim_marks`` loads of a kind's facts given their values: not the
    quote and value columns those are made of, but the period, which a claim shows."""
    return _fact_columns(kind, keyed=True)


def _column_of(load: Load, name: str, column: str) -> pa.ChunkedArray:
    return load(name, [column]).column(column)


# The columns claim_marks reads, per table.
CLAIM_COLUMNS: dict[str, tuple[str, ...]] = {
    "documents": ("doc_id", "duplicate_of", "published_date"),
    **{kind: (*_FACT_COLUMNS, *_VALUE_COLUMNS[kind]) for kind in CLAIM_KINDS},
    "entities": ("entity_id", "doc_id"),
}
