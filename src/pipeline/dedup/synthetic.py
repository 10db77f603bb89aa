"""A synthetic corpus with planted exact and near copies, for the dedup benchmark.

Originals are made from the seed documents so they are in the genre: the cleaned passages of
the inputs are split into sentences, and each original draws 10-28 of them at random (19 on
average: pages of about 3.8 KB, the size the scale targets assume, 100,000 documents of about
380 MB), with every number re-drawn (``bench.redraw_numbers``) and every capitalised word after
the first of a sentence replaced by a random capitalised word of the seeds (names, places,
programmes). Sentences come in paragraphs of 2-5. Drawing sentences rather than whole
passages keeps unrelated originals apart (two of them share a few sentences at most).

Copies are planted at known rates: ``exact_rate`` of the documents are exact copies of a random
original with only case, quote style and spacing changed (equal by ``normalised_hash``), and
``near_rate`` are near copies with a word edit rate drawn uniformly from 0-30 %: each word is,
with that probability, substituted, deleted or followed by an inserted word (one third each),
the new words drawn from the seeds' vocabulary. Copies are shuffled in among the originals. The
same seed and inputs give the same corpus.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.bench import redraw_numbers, seed_passages

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")
_CAPITAL_RE = re.compile(r"(?<=\s)[A-Z][a-z]+")
_WORD_RE = re.compile(r"[A-Za-z]+")
MAX_EDIT_RATE = 0.30
MIN_SENTENCE_WORDS = 6
# About 3.8 KB a page with its chrome lines: the document size the scale targets assume.
SENTENCES_PER_DOCUMENT = (10, 28)


@dataclass(frozen=True)
class Corpus:
    """Texts with, for each, its family (index of its original) and how it was made."""

    texts: list[str]
    family: list[int]
    kind: list[str]  # "original", "exact" or "near"
    edit_rate: list[float]  # 0.0 for originals and exact copies


@dataclass(frozen=True)
class Pool:
    sentences: list[str]
    capitals: list[str]
    vocabulary: list[str]


def make_pool(passages: Sequence[str]) -> Pool:
    """Sentences, capitalised words and lower-case words of the passages."""
    sentences = [
        s.strip()
        for p in passages
        for s in _SENTENCE_RE.split(p)
        if len(s.split()) >= MIN_SENTENCE_WORDS
    ]
    if not sentences:
        raise ValueError("no sentences to build a corpus from")
    text = " ".join(sentences)
    capitals = sorted(set(_CAPITAL_RE.findall(text))) or ["Peru"]
    vocabulary = sorted({w for w in _WORD_RE.findall(text) if w.islower()}) or ["the"]
    return Pool(sentences, capitals, vocabulary)


def original(pool: Pool, rng: random.Random) -> str:
    """One document: drawn sentences with re-drawn numbers and names, in paragraphs."""
    count = rng.randint(*SENTENCES_PER_DOCUMENT)
    chosen = [_redraw(rng.choice(pool.sentences), pool, rng) for _ in range(count)]
    paragraphs: list[str] = []
    while chosen:
        size = rng.randint(2, 5)
        paragraphs.append(" ".join(chosen[:size]))
        chosen = chosen[size:]
    return "\n\n".join(paragraphs)


def _redraw(sentence: str, pool: Pool, rng: random.Random) -> str:
    named = _CAPITAL_RE.sub(lambda _: rng.choice(pool.capitals), sentence)
    return redraw_numbers(named, rng)


def exact_copy(text: str, rng: random.Random) -> str:
    """The same text by ``normalised_hash``: case, quotes and spacing changed."""
    styled = text.replace('"', "“") if rng.random() < 0.5 else text.replace("'", "’")
    spaced = re.sub(r" ", lambda _: "  " if rng.random() < 0.05 else " ", styled)
    return spaced.upper() if rng.random() < 0.2 else spaced


def near_copy(text: str, rate: float, pool: Pool, rng: random.Random) -> str:
    """``text`` with each word, at probability ``rate``, substituted, deleted or preceded by
    an inserted word; paragraph breaks are kept."""
    out: list[str] = []
    for paragraph in text.split("\n\n"):
        edited: list[str] = []
        for word in paragraph.split(" "):
            if rng.random() >= rate:
                edited.append(word)
                continue
            action = rng.randrange(3)
            if action == 0:
                edited.append(rng.choice(pool.vocabulary))
            elif action == 2:
                edited.extend([rng.choice(pool.vocabulary), word])
        out.append(" ".join(edited))
    return "\n\n".join(out)


def build(
    pool: Pool, n: int, seed: int, *, exact_rate: float = 0.05, near_rate: float = 0.15
) -> Corpus:
    """``n`` documents, of which about ``exact_rate`` and ``near_rate`` are planted copies."""
    rng = random.Random(seed)
    n_exact = round(n * exact_rate)
    n_near = round(n * near_rate)
    n_orig = max(1, n - n_exact - n_near)
    texts = [original(pool, rng) for _ in range(n_orig)]
    family = list(range(n_orig))
    kind = ["original"] * n_orig
    rates = [0.0] * n_orig
    for i in range(n - n_orig):
        source = rng.randrange(n_orig)
        if i < n_exact:
            texts.append(exact_copy(texts[source], rng))
            rates.append(0.0)
        else:
            rate = rng.uniform(0.0, MAX_EDIT_RATE)
            texts.append(near_copy(texts[source], rate, pool, rng))
            rates.append(rate)
        family.append(source)
        kind.append("exact" if i < n_exact else "near")
    order = list(range(n))
    rng.shuffle(order)  # copies anywhere, so the canonical copy is not always the original
    return Corpus(
        [texts[i] for i in order],
        [family[i] for i in order],
        [kind[i] for i in order],
        [rates[i] for i in order],
    )


def corpus_from(input_dir: Path, n: int, seed: int) -> Corpus:
    """The corpus of ``n`` documents made from the inputs under ``input_dir``."""
    return build(make_pool(seed_passages(input_dir)), n, seed)
