"""Leader clustering of claim contexts, compiled (numba): ``claims.group_facts``' loop.

Grouping is sequential (a context joins the leaders made before it), so it cannot be
vectorised; in Python it was most of a claims run (at 100,000 documents about 100 s for
1.07 million contexts). This is the same algorithm over integer arrays:

- terms are numbered by rarity (``claims._rarity_ranks``), so a context's sorted term
  numbers are its terms rarest first, as prefix filtering takes them;
- weights and overlaps are exactly rounded sums (``fsum``, CPython's ``math.fsum``
  algorithm), so every score, and therefore every claim, is bit for bit the Python one;
- leader indexes are keyed by (index key, term) in one hash map of linked lists.

A context's candidates are the leaders filed under the keys it looks in: while a key
holds fewer than ``index_from`` leaders all of them, then those sharing a term of either
one's prefix. Every candidate is scored, so the index changes time, never a claim.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

__all__ = ["fsum", "group_contexts", "prefix_length"]


@njit(cache=True)
def fsum(values: Floats, n: int, partials: Floats) -> float:  # pragma: no cover - compiled
    """The exactly rounded sum of ``values[:n]`` (``partials``: scratch of n + 1 floats).

    CPython's ``math.fsum`` (Shewchuk's partials, then half-even rounding across them)
    for finite values: the sum does not depend on the values' order.
    """
    count = 0
    for k in range(n):
        x = values[k]
        i = 0
        for j in range(count):
            y = partials[j]
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)
            if lo != 0.0:
                partials[i] = lo
                i += 1
            x = hi
        count = i
        if x != 0.0:
            partials[count] = x
            count += 1
    hi = 0.0
    if count > 0:
        count -= 1
        hi = partials[count]
        lo = 0.0
        while count > 0:
            x = hi
            count -= 1
            y = partials[count]
            hi = x + y
            lo = y - (hi - x)
            if lo != 0.0:
                break
        if count > 0 and ((lo < 0.0 and partials[count - 1] < 0.0) or
                          (lo > 0.0 and partials[count - 1] > 0.0)):  # fmt: skip
            y = lo * 2.0
            x = hi + y
            if y == x - hi:
                hi = x
    return float(hi)


@njit(cache=True)
def prefix_length(weights: Floats, total: float, threshold: float) -> int:  # pragma: no cover
    """How many of a set's terms (``weights``, rarest first; their sum ``total``) its
    prefix takes: ``claims.prefix_terms``' loop, the same subtractions in the same order."""
    limit = threshold * total - 1e-9
    rest = total
    for k in range(len(weights)):
        if rest < limit:
            return k
        rest -= weights[k]
    return len(weights)


@njit(cache=True)
def _grown(array: Ints, needed: int) -> Ints:  # pragma: no cover - compiled
    """``array``, or a copy twice as long when it holds fewer than ``needed`` items."""
    if needed <= len(array):
        return array
    out = np.empty(max(needed, 2 * len(array)), np.int64)
    out[: len(array)] = array
    return out


@njit(cache=True)
def _overlap_sum(
    terms: Ints, a0: int, a1: int, b0: int, b1: int, idf: Floats, buffer: Floats, partials: Floats
) -> float:  # pragma: no cover - compiled
    """The exact weight of the terms two sorted runs of ``terms`` share."""
    n = 0
    while a0 < a1 and b0 < b1:
        a, b = terms[a0], terms[b0]
        if a == b:
            buffer[n] = idf[a]
            n += 1
            a0 += 1
            b0 += 1
        elif a < b:
            a0 += 1
        else:
            b0 += 1
    return fsum(buffer, n, partials)


@njit(cache=True)
def _same_terms(terms: Ints, a0: int, a1: int, b0: int, b1: int) -> bool:  # pragma: no cover
    if a1 - a0 != b1 - b0:
        return False
    for k in range(a1 - a0):  # noqa: SIM110 - a loop compiles; all() of a generator may not
        if terms[a0 + k] != terms[b0 + k]:
            return False
    return True


@njit(cache=True)
def _push(
    node_leader: Ints, node_next: Ints, n_nodes: int, lead: int, after: int
) -> tuple[Ints, Ints]:  # pragma: no cover - compiled
    """Node ``n_nodes`` of the linked lists: ``lead``, then node ``after`` (-1: none)."""
    if n_nodes >= len(node_leader):
        node_leader, node_next = _grown(node_leader, n_nodes + 1), _grown(node_next, n_nodes + 1)
    node_leader[n_nodes] = lead
    node_next[n_nodes] = after
    return node_leader, node_next


# Hash maps from non-negative int64 keys to int64 values, in two arrays (a numba typed
# Dict compiled for seconds more per process and was slower): open addressing, linear
# probing, keys spread by Fibonacci hashing; -1 marks a free slot.
_GOLDEN = np.uint64(11400714819323198485)  # 2**64 / golden ratio, odd


@njit(cache=True)
def _new_map(bits: int) -> tuple[Ints, Ints]:  # pragma: no cover - compiled
    return np.full(1 << bits, -1, np.int64), np.empty(1 << bits, np.int64)


@njit(cache=True)
def _slot(keys: Ints, bits: int, key: int) -> int:  # pragma: no cover - compiled
    """Where ``key`` is, or the free slot it would take."""
    at = int(np.int64((np.uint64(key) * _GOLDEN) >> np.uint64(64 - bits)))
    while keys[at] != key and keys[at] != -1:
        at = (at + 1) & (len(keys) - 1)
    return at


@njit(cache=True)
def _get(keys: Ints, values: Ints, bits: int, key: int) -> int:  # pragma: no cover
    """The value of ``key``; -1 when it has none."""
    at = _slot(keys, bits, key)
    return values[at] if keys[at] == key else -1


@njit(cache=True)
def _put(
    keys: Ints, values: Ints, bits: int, size: int, key: int, value: int
) -> tuple[Ints, Ints, int, int]:  # pragma: no cover - compiled
    """Set ``key`` to ``value``; the map (twice as large past half full) and its size."""
    at = _slot(keys, bits, key)
    if keys[at] != key:
        if 2 * (size + 1) > len(keys):
            old_keys, old_values = keys, values
            bits += 1
            keys, values = _new_map(bits)
            for k in range(len(old_keys)):
                if old_keys[k] != -1:
                    moved = _slot(keys, bits, old_keys[k])
                    keys[moved], values[moved] = old_keys[k], old_values[k]
            at = _slot(keys, bits, key)
        size += 1
    keys[at] = key
    values[at] = value
    return keys, values, bits, size


@njit(cache=True)
def _collect(
    node: int, c: int, node_leader: Ints, node_next: Ints, seen: Ints, found: Ints, n_found: int
) -> tuple[Ints, int]:  # pragma: no cover - compiled
    """Add the leaders of the list from ``node`` that context ``c`` has not found yet."""
    while node >= 0:
        claim = node_leader[node]
        if seen[claim] != c:
            seen[claim] = c
            found = _grown(found, n_found + 1)
            found[n_found] = claim
            n_found += 1
        node = node_next[node]
    return found, n_found


@njit(cache=True)
def group_contexts(
    term_lo: Ints,
    term_hi: Ints,
    terms: Ints,
    idf: Floats,
    member_ptr: Ints,
    members: Ints,
    docs: Ints,
    filed_lo: Ints,
    filed_hi: Ints,
    filed: Ints,
    looked_lo: Ints,
    looked_hi: Ints,
    looked: Ints,
    n_keys: int,
    threshold: float,
    index_from: int,
) -> Ints:  # pragma: no cover - compiled
    """The claim number of each of ``members`` (contexts' facts, in context order).

    Context ``c``: terms ``terms[term_lo[c]:term_hi[c]]`` (term numbers: by rarity,
    ``claims._rarity_ranks``; contexts with equal terms may share a run), facts
    ``members[member_ptr[c]:member_ptr[c + 1]]`` of documents ``docs[fact]``, the index keys
    it files a claim it leads under (``filed[filed_lo[c]:filed_hi[c]]``) and looks for
    leaders in (``looked``, likewise). Contexts are taken in order; see
    ``claims.group_facts``.
    """
    n_contexts = len(term_lo)
    terms = terms.copy()
    for c in range(n_contexts):  # rarest first (a shared run is sorted again: no change)
        terms[term_lo[c] : term_hi[c]] = np.sort(terms[term_lo[c] : term_hi[c]])
    slots = len(idf) + 1  # per key: a list per term, and one for leaders without terms
    widest = 1
    for c in range(n_contexts):
        widest = max(widest, term_hi[c] - term_lo[c])
    buffer = np.empty(widest, np.float64)
    partials = np.empty(widest + 1, np.float64)
    weight = np.empty(n_contexts, np.float64)
    prefix_end = np.empty(n_contexts, np.int64)
    for c in range(n_contexts):
        t0, t1 = term_lo[c], term_hi[c]
        for k in range(t1 - t0):
            buffer[k] = idf[terms[t0 + k]]
        weight[c] = fsum(buffer, t1 - t0, partials)
        prefix_end[c] = t0 + prefix_length(buffer[: t1 - t0], weight[c], threshold)

    n_facts = len(members)
    n_docs = 1
    for k in range(n_facts):
        n_docs = max(n_docs, docs[members[k]] + 1)
    claim_of = np.empty(n_facts, np.int64)
    leader = np.empty(n_facts, np.int64)  # each claim's leading context
    n_claims = 0
    # claim * n_docs + doc for each document a claim holds (the values unused)
    doc_keys, doc_values = _new_map(10)
    doc_bits, doc_size = 10, 0

    # per index key: how many leaders, and while fewer than index_from a list of them all
    held_head = np.full(n_keys, -1, np.int64)
    held_count = np.zeros(n_keys, np.int64)
    # then lists by (key, term, 0: the leaders' terms | 1: their prefixes), first nodes in
    # ``head_keys``; term ``slots - 1``: leaders without terms
    head_keys, head_values = _new_map(10)
    head_bits, head_size = 10, 0
    node_leader = np.empty(1024, np.int64)
    node_next = np.empty(1024, np.int64)
    n_nodes = 0

    seen = np.full(n_facts, -1, np.int64)  # per claim: the last context that found it
    found = np.empty(64, np.int64)
    scores = np.empty(64, np.float64)
    own = np.empty(16, np.int64)

    for c in range(n_contexts):
        t0, t1, p1 = term_lo[c], term_hi[c], prefix_end[c]
        w = weight[c]
        n_found = 0
        for q in range(looked_lo[c], looked_hi[c]):
            key = looked[q]
            if held_count[key] == 0:
                continue
            if held_count[key] < index_from:
                found, n_found = _collect(
                    held_head[key], c, node_leader, node_next, seen, found, n_found
                )
            elif t0 == t1:
                node = _get(head_keys, head_values, head_bits, (key * slots + slots - 1) * 2)
                found, n_found = _collect(node, c, node_leader, node_next, seen, found, n_found)
            else:
                for a in range(t0, p1):  # the probe's prefix among the leaders' terms
                    node = _get(head_keys, head_values, head_bits, (key * slots + terms[a]) * 2)
                    found, n_found = _collect(node, c, node_leader, node_next, seen, found, n_found)
                for a in range(t0, t1):  # the probe's terms among the leaders' prefixes
                    node = _get(head_keys, head_values, head_bits, (key * slots + terms[a]) * 2 + 1)
                    found, n_found = _collect(node, c, node_leader, node_next, seen, found, n_found)

        # scored; those reaching the threshold kept, most similar first (ties: older claim)
        if len(scores) < n_found:
            scores = np.empty(len(found), np.float64)
        n_matches = 0
        for k in range(n_found):
            claim = found[k]
            lc = leader[claim]
            smaller = weight[lc]
            if not smaller < w:
                smaller = w
            if smaller == 0:
                score = 1.0 if _same_terms(terms, t0, t1, term_lo[lc], term_hi[lc]) else 0.0
            else:
                l0, l1 = term_lo[lc], term_hi[lc]
                score = _overlap_sum(terms, t0, t1, l0, l1, idf, buffer, partials) / smaller
            if score >= threshold:
                found[n_matches] = claim
                scores[n_matches] = score
                n_matches += 1
        for k in range(1, n_matches):  # insertion sort: matches are few
            claim, score = found[k], scores[k]
            j = k - 1
            while j >= 0 and (scores[j] < score or (scores[j] == score and found[j] > claim)):
                found[j + 1], scores[j + 1] = found[j], scores[j]
                j -= 1
            found[j + 1], scores[j + 1] = claim, score

        n_own = 0  # claims this context leads (for a document repeating it)
        for m in range(member_ptr[c], member_ptr[c + 1]):
            doc = docs[members[m]]
            chosen = -1
            for k in range(n_matches):
                if _get(doc_keys, doc_values, doc_bits, found[k] * n_docs + doc) < 0:
                    chosen = found[k]
                    break
            if chosen < 0:
                for k in range(n_own):
                    if _get(doc_keys, doc_values, doc_bits, own[k] * n_docs + doc) < 0:
                        chosen = own[k]
                        break
            if chosen < 0:
                chosen = n_claims
                n_claims += 1
                leader[chosen] = c
                own = _grown(own, n_own + 1)
                own[n_own] = chosen
                n_own += 1
                for q in range(filed_lo[c], filed_hi[c]):
                    key = filed[q]
                    if held_count[key] < index_from:
                        node_leader, node_next = _push(
                            node_leader, node_next, n_nodes, chosen, held_head[key]
                        )
                        held_head[key] = n_nodes
                        n_nodes += 1
                    held_count[key] += 1
                    if held_count[key] < index_from:
                        continue
                    # indexed from now on: this leader, or on reaching index_from all held
                    node = held_head[key] if held_count[key] == index_from else -1
                    lead = chosen if node < 0 else node_leader[node]
                    while True:
                        lc = leader[lead]
                        l0, l1, lp = term_lo[lc], term_hi[lc], prefix_end[lc]
                        codes = [(key * slots + terms[a]) * 2 for a in range(l0, l1)]
                        codes += [(key * slots + terms[a]) * 2 + 1 for a in range(l0, lp)]
                        if l0 == l1:
                            codes.append((key * slots + slots - 1) * 2)
                        for code in codes:
                            node_leader, node_next = _push(
                                node_leader,
                                node_next,
                                n_nodes,
                                lead,
                                _get(head_keys, head_values, head_bits, code),
                            )
                            head_keys, head_values, head_bits, head_size = _put(
                                head_keys, head_values, head_bits, head_size, code, n_nodes
                            )
                            n_nodes += 1
                        if node < 0:
                            break
                        node = node_next[node]
                        if node < 0:
                            break
                        lead = node_leader[node]
            claim_of[m] = chosen
            doc_keys, doc_values, doc_bits, doc_size = _put(
                doc_keys, doc_values, doc_bits, doc_size, chosen * n_docs + doc, 1
            )
    return claim_of
