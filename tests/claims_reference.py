"""Plain formulations of claim grouping, written out as references for the tests: leader
clustering that compares each context with every leader, no index and nothing inlined."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.claims import SIMILARITY_THRESHOLD, Fact, contexts, values_compatible


def plain_weight(terms: Sequence[str] | frozenset[str], idf: Mapping[str, float]) -> float:
    return math.fsum(idf.get(t, 1.0) for t in terms)


def plain_groups(facts: Sequence[Fact], idf: Mapping[str, float]) -> list[list[int]]:
    """Leader clustering comparing each context with every leader (no index, no inlining)."""

    def score(a: frozenset[str], b: frozenset[str]) -> float:
        smaller = min(plain_weight(a, idf), plain_weight(b, idf))
        if smaller == 0:
            return 1.0 if a == b else 0.0
        return plain_weight(a & b, idf) / smaller

    def linkable(context: Any, leader: Any) -> bool:
        if "dates" in (context.kind, leader.kind):
            return context.kind == leader.kind and values_compatible(
                "dates", context.value, leader.value
            )
        return bool(context.bucket == leader.bucket)

    leaders: list[Any] = []
    members: list[list[int]] = []
    docs: list[set[str]] = []
    for context in contexts(facts):
        scored = sorted(
            (-score(context.terms, leader.terms), n)
            for n, leader in enumerate(leaders)
            if linkable(context, leader)
            and score(context.terms, leader.terms) >= SIMILARITY_THRESHOLD
        )
        own: list[int] = []
        for i in context.members:
            matches = [n for _score, n in scored] + own
            claim = next((c for c in matches if facts[i].doc_id not in docs[c]), None)
            if claim is None:
                claim = len(leaders)
                leaders.append(context)
                members.append([])
                docs.append(set())
                own.append(claim)
            members[claim].append(i)
            docs[claim].add(facts[i].doc_id)
    return members
