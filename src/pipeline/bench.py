"""Extraction benchmark: the project's extractors against quantulum3 on a synthetic corpus.

The corpus is made from the seed documents, so it is in the genre (joint statements, fact
sheets, articles): every input is cleaned into passages with ``clean_document``, and passages
are drawn at random (seeded) and their numbers re-drawn (years stay years, day-of-month-sized
numbers stay small, other numbers keep their number of digits, thousands separators and
decimals) until the corpus holds the requested number of characters. The same seed and
inputs give the same corpus.

The project's extractors (every one in ``pipeline.extract.run.EXTRACTORS``) run over every
passage of the corpus, timed per kind with ``time.perf_counter``. quantulum3 is 100+ times
slower, so it parses only a sample: the first passages of the same corpus up to
``quantulum_sample_kb`` thousand characters; the project's extractors are timed on that
sample too, so the ratio can be read both ways. No network, no files written.
"""

from __future__ import annotations

import datetime as dt
import importlib
import multiprocessing
import platform
import random
import re
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.clean.passages import clean_document
from pipeline.document import Document
from pipeline.extract.base import DocContext
from pipeline.extract.run import EXTRACTORS
from pipeline.ingest.readers import discover, read_inputs

if TYPE_CHECKING:  # imported at run time inside bench_dedup: synthetic imports this module
    from pipeline.dedup.minhash import MinHashParams
    from pipeline.dedup.synthetic import Corpus

_NUMBER_RE = re.compile(r"\d[\d,]*\d(?:\.\d+)?|\d(?:\.\d+)?")
# the date extractors resolve bare months and days against this
BENCH_CONTEXT = DocContext(dt.date(2024, 5, 9), "day")
MAX_INPUT_BYTES = 50 * 1024 * 1024


def seed_passages(input_dir: Path) -> list[str]:
    """Cleaned passage texts of every readable document under ``input_dir``, in path order."""
    texts: list[str] = []
    for item in read_inputs(discover(input_dir), MAX_INPUT_BYTES):
        if isinstance(item, Document):
            texts.extend(p.text for p in clean_document(item) if p.text.strip())
    return texts


def redraw_numbers(text: str, rng: random.Random) -> str:
    """``text`` with every digit run replaced by a random one of the same kind."""
    return _NUMBER_RE.sub(lambda m: _redraw(m.group(0), rng), text)


def _redraw(token: str, rng: random.Random) -> str:
    whole, _, decimals = token.partition(".")
    digits = whole.replace(",", "")
    if not decimals and "," not in whole and len(digits) == 4 and 1900 <= int(digits) <= 2099:
        return str(rng.randint(1995, 2030))
    if not decimals and len(digits) <= 2 and int(digits) <= 31:
        return str(rng.randint(1, 28))
    first = rng.randint(1, 9) if len(digits) > 1 or not decimals else rng.randint(0, 9)
    number = str(first) + "".join(str(rng.randint(0, 9)) for _ in range(len(digits) - 1))
    if "," in whole:
        number = f"{int(number):,}"
    if decimals:
        # never all zeros ("0.0"): the re-drawn number stays a positive amount
        fraction = [str(rng.randint(0, 9)) for _ in range(len(decimals) - 1)]
        number += "." + "".join(fraction) + str(rng.randint(1, 9))
    return number


def build_corpus(passages: Sequence[str], chars: int, seed: int) -> list[str]:
    """Passages drawn from ``passages`` with re-drawn numbers, at least ``chars`` in all."""
    pool = [p for p in passages if any(c.isdigit() or c.isalpha() for c in p)]
    if not pool:
        raise ValueError("no text to build a corpus from")
    rng = random.Random(seed)
    corpus: list[str] = []
    total = 0
    while total < chars:
        text = redraw_numbers(rng.choice(pool), rng)
        corpus.append(text)
        total += len(text)
    return corpus


def sample(corpus: Sequence[str], chars: int) -> list[str]:
    """The first passages of ``corpus`` up to ``chars`` characters (the last one whole)."""
    taken: list[str] = []
    total = 0
    for text in corpus:
        if total >= chars:
            break
        taken.append(text)
        total += len(text)
    return taken


def time_extractors(
    corpus: Sequence[str], ctx: DocContext = BENCH_CONTEXT
) -> dict[str, dict[str, float | int]]:
    """Seconds and facts found per extractor kind over every passage of ``corpus``.

    Like ``extract_document``, every extractor runs on a passage before the next passage,
    so the number scan that money and quantities share is made once per passage; each
    call is timed on its own and added to its kind.
    """
    chars = sum(len(t) for t in corpus)
    kinds = list(EXTRACTORS.items())
    seconds = dict.fromkeys(EXTRACTORS, 0.0)
    facts = dict.fromkeys(EXTRACTORS, 0)
    clock = time.perf_counter
    for text in corpus:
        for kind, extractor in kinds:
            started = clock()
            found = extractor(text, ctx)
            seconds[kind] += clock() - started
            facts[kind] += len(found)
    return {
        kind: {
            "seconds": seconds[kind],
            "chars_per_second": _rate(chars, seconds[kind]),
            "facts": facts[kind],
        }
        for kind in EXTRACTORS
    }


def quantulum_parser() -> tuple[Callable[[str], Sequence[Any]] | None, str | None, str]:
    """quantulum3's ``parser.parse``, its version, or None and why it cannot be had."""
    try:
        with warnings.catch_warnings():
            # 'Classifier dependencies not installed': the rule-based parser still works
            warnings.simplefilter("ignore")
            module = importlib.import_module("quantulum3.parser")
    except Exception as err:  # ImportError, or a broken install
        return None, None, f"quantulum3 is not available ({err}); install the dev extra"
    from importlib.metadata import version

    parse: Callable[[str], Sequence[Any]] = module.parse
    return parse, version("quantulum3"), ""


def time_quantulum(
    parse: Callable[[str], Sequence[Any]], corpus: Sequence[str]
) -> tuple[float, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parse("The United States provided $350 million and 40 helicopters.")  # warm up
        found = 0
        started = time.perf_counter()
        for text in corpus:
            found += len(parse(text))
        return time.perf_counter() - started, found


def _count_facts(corpus: Sequence[str]) -> int:
    """Facts of every kind in ``corpus``: the work one process of the parallel run does."""
    return sum(len(e(text, BENCH_CONTEXT)) for text in corpus for e in EXTRACTORS.values())


def time_parallel(corpus: Sequence[str], workers: int) -> tuple[float, int]:
    """Wall-clock seconds and facts for every extractor over ``corpus`` split into
    ``workers`` contiguous parts, one process each (as the pipeline's batches are).

    Forked workers inherit the warmed-up parent (compiled patterns, loaded vocabularies);
    sending the passages and the facts' counts between processes is part of the time.
    """
    size = -(-len(corpus) // workers)
    parts = [corpus[i : i + size] for i in range(0, len(corpus), size)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        started = time.perf_counter()
        facts = sum(pool.map(_count_facts, parts))
        return time.perf_counter() - started, facts


def bench_extract(
    input_dir: Path,
    *,
    mb: float = 20.0,
    seed: int = 0,
    quantulum_sample_kb: float = 200.0,
    workers: int = 1,
) -> dict[str, Any]:
    """Build the corpus, time the extractors and quantulum3; a JSON-ready report."""
    started = time.perf_counter()
    passages = seed_passages(input_dir)
    corpus = build_corpus(passages, int(mb * 1_000_000), seed)
    build_seconds = time.perf_counter() - started
    chars = sum(len(t) for t in corpus)
    utf8 = sum(len(t.encode("utf-8")) for t in corpus)

    for extractor in EXTRACTORS.values():  # warm up: lazy compiles and resource loads
        extractor(corpus[0], BENCH_CONTEXT)
    per_kind = time_extractors(corpus)
    seconds = sum(float(v["seconds"]) for v in per_kind.values())
    pipeline_rate = _rate(chars, seconds)
    money_quantities = float(per_kind["money"]["seconds"]) + float(
        per_kind["quantities"]["seconds"]
    )

    report: dict[str, Any] = {
        "bench": "extract",
        "seed": seed,
        "corpus": {
            "source": f"{input_dir.as_posix()}: {len(passages)} cleaned passages recombined "
            "with re-drawn numbers",
            "passages": len(corpus),
            "chars": chars,
            "mb_utf8": round(utf8 / 1_000_000, 3),
            "build_seconds": round(build_seconds, 3),
        },
        "pipeline": {
            "extractors": list(EXTRACTORS),
            "seconds": round(seconds, 3),
            "chars_per_second": round(pipeline_rate),
            "money_quantities_chars_per_second": round(_rate(chars, money_quantities)),
            "per_kind": {
                kind: {
                    "seconds": round(float(v["seconds"]), 3),
                    "chars_per_second": round(float(v["chars_per_second"])),
                    "facts": v["facts"],
                }
                for kind, v in per_kind.items()
            },
        },
    }
    report["quantulum3"], report["ratio"] = _quantulum_part(
        corpus, quantulum_sample_kb, pipeline_rate
    )
    report["ratio_means"] = (
        "pipeline chars_per_second (all extractors, whole corpus, one process) / quantulum3 "
        "chars_per_second (its sample, one process)"
    )
    q_rate = report["quantulum3"].get("chars_per_second")
    if q_rate:
        report["ratio_money_quantities"] = round(
            report["pipeline"]["money_quantities_chars_per_second"] / q_rate, 1
        )
    if workers > 1:
        wall, facts = time_parallel(corpus, workers)
        report["parallel"] = {
            "workers": workers,
            "seconds": round(wall, 3),
            "chars_per_second": round(_rate(chars, wall)),
            "facts": facts,
            "ratio": round(_rate(chars, wall) / q_rate, 1) if q_rate else None,
            "means": "every extractor over the whole corpus split across worker processes, "
            "wall clock; ratio against quantulum3's one-process rate",
        }
    report["python"] = platform.python_version()
    return report


def _quantulum_part(
    corpus: Sequence[str], sample_kb: float, pipeline_rate: float
) -> tuple[dict[str, Any], float | None]:
    if sample_kb <= 0:
        return {"available": None, "skipped": "--quantulum-sample-kb 0"}, None
    parse, version, why = quantulum_parser()
    if parse is None:
        return {"available": False, "skipped": why}, None
    taken = sample(corpus, int(sample_kb * 1000))
    chars = sum(len(t) for t in taken)
    seconds, found = time_quantulum(parse, taken)
    rate = _rate(chars, seconds)
    same_sample = time_extractors(taken)
    ours = _rate(chars, sum(float(v["seconds"]) for v in same_sample.values()))
    part = {
        "available": True,
        "version": version,
        "function": "quantulum3.parser.parse",
        "sample": f"the first {chars} characters ({len(taken)} passages) of the same corpus: "
        "quantulum3 is too slow for the whole of it",
        "sample_chars": chars,
        "seconds": round(seconds, 3),
        "chars_per_second": round(rate),
        "quantities": found,
        "pipeline_chars_per_second_on_sample": round(ours),
        "ratio_on_sample": round(ours / rate, 1) if rate else None,
    }
    return part, (round(pipeline_rate / rate, 1) if rate else None)


def _rate(chars: int, seconds: float) -> float:
    return chars / seconds if seconds > 0 else 0.0


# edit-rate buckets of the planted near copies: (name, low, high), high exclusive
EDIT_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("near 0-5%", 0.0, 0.05),
    ("near 5-10%", 0.05, 0.10),
    ("near 10-20%", 0.10, 0.20),
    ("near 20-30%", 0.20, 0.301),
)
JACCARD_SAMPLE = 300  # copies per bucket whose true Jaccard to their original is measured


def bench_dedup(
    input_dir: Path, *, docs: int = 10_000, seed: int = 0, params: MinHashParams | None = None
) -> dict[str, Any]:
    """Plant copies in a synthetic corpus, find them; a JSON-ready report.

    Precision is over the pairs found directly (exact keys and confirmed near pairs): a pair is
    right when both documents come from one original. Recall is per planted copy: found when it
    ends in the same duplicate group as its original.
    """
    from pipeline.clean.passages import normalised_hash
    from pipeline.dedup.minhash import MinHashParams, near_pairs
    from pipeline.dedup.near import exact_links, find_duplicates
    from pipeline.dedup.synthetic import corpus_from

    params = params or MinHashParams()
    started = time.perf_counter()
    corpus = corpus_from(input_dir, docs, seed)
    build_seconds = time.perf_counter() - started

    started = time.perf_counter()
    keys = [normalised_hash(t) for t in corpus.texts]
    near = near_pairs(corpus.texts, params)
    marked = find_duplicates(corpus.texts, keys, range(len(corpus.texts)), params, near=near)
    seconds = time.perf_counter() - started

    ex_left, ex_right = exact_links(keys)
    pairs = list(
        zip(
            ex_left.tolist() + near.left.tolist(),
            ex_right.tolist() + near.right.tolist(),
            strict=True,
        )
    )
    canonical = {d.index: d.canonical for d in marked}
    return {
        "bench": "dedup",
        "seed": seed,
        "documents": len(corpus.texts),
        "chars": sum(len(t) for t in corpus.texts),
        "build_seconds": round(build_seconds, 3),
        "seconds": round(seconds, 3),
        "docs_per_second": round(_rate(len(corpus.texts), seconds)),
        "method": params.describe(),
        "pairs_found": {"exact": len(ex_left), "near": len(near), "all": len(pairs)},
        "documents_marked": len(marked),
        "overall": _scores(corpus, pairs, canonical, lambda k, r: k != "original", every=True),
        "buckets": _bucket_scores(corpus, pairs, canonical, params),
        "means": "precision: share of found pairs (exact keys + confirmed near pairs) whose two "
        "documents come from one original; recall: share of planted copies that end in their "
        "original's duplicate group; a bucket counts the pairs touching its copies",
        "python": platform.python_version(),
    }


def _bucket_scores(
    corpus: Corpus, pairs: list[tuple[int, int]], canonical: dict[int, int], params: MinHashParams
) -> dict[str, dict[str, Any]]:
    from pipeline.dedup.minhash import jaccard, shingle_set

    originals = {
        f: i
        for i, (f, k) in enumerate(zip(corpus.family, corpus.kind, strict=True))
        if k == "original"
    }
    result = {"exact": _scores(corpus, pairs, canonical, lambda k, r: k == "exact")}
    for name, low, high in EDIT_BUCKETS:

        def chosen(kind: str, rate: float, low: float = low, high: float = high) -> bool:
            return kind == "near" and low <= rate < high

        scores = _scores(corpus, pairs, canonical, chosen)
        members = [
            i
            for i, (k, r) in enumerate(zip(corpus.kind, corpus.edit_rate, strict=True))
            if chosen(k, r)
        ]
        sims = [
            jaccard(
                shingle_set(corpus.texts[i], params.shingle),
                shingle_set(corpus.texts[originals[corpus.family[i]]], params.shingle),
            )
            for i in members[:JACCARD_SAMPLE]
        ]
        scores["mean_true_jaccard"] = round(sum(sims) / len(sims), 3) if sims else None
        result[name] = scores
    return result


def _scores(
    corpus: Corpus,
    pairs: list[tuple[int, int]],
    canonical: dict[int, int],
    chosen: Callable[[str, float], bool],
    *,
    every: bool = False,
) -> dict[str, Any]:
    """Planted copies, recall, pairs and precision for the copies ``chosen`` picks; the
    pairs are those touching a picked copy, or ``every`` pair."""
    family, kind, rate = corpus.family, corpus.kind, corpus.edit_rate
    picked = {i for i in range(len(family)) if chosen(kind[i], rate[i])}
    originals = {f: i for i, (f, k) in enumerate(zip(family, kind, strict=True)) if k == "original"}

    def group(i: int) -> int:
        return canonical.get(i, i)

    found = sum(group(i) == group(originals[family[i]]) for i in picked)
    touching = [(a, b) for a, b in pairs if every or a in picked or b in picked]
    right = sum(family[a] == family[b] for a, b in touching)
    return {
        "planted": len(picked),
        "found": found,
        "recall": round(found / len(picked), 4) if picked else None,
        "pairs": len(touching),
        "precision": round(right / len(touching), 4) if touching else None,
    }
