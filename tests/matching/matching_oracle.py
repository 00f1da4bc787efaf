"""Exact answers for small rounds, computed the slow and obvious way, to check the engine."""

from __future__ import annotations

from functools import cache
from itertools import combinations


def best_grouping(n: int, met: set[frozenset[int]], avoid: set[frozenset[int]]) -> tuple[int, int]:
    """Return the least (left out, repeated pairs) over every grouping into pairs + ≤1 trio.

    Members are 0..n-1; a trio is allowed only when n is odd, as the engine promises.
    """

    def cost(a: int, b: int) -> int:
        return int(frozenset((a, b)) in met)

    def ok(a: int, b: int) -> bool:
        return frozenset((a, b)) not in avoid

    @cache
    def go(mask: int, trio_used: bool) -> tuple[int, int]:
        if not mask:
            return (0, 0)
        v = (mask & -mask).bit_length() - 1
        rest = mask & ~(1 << v)
        left, repeats = go(rest, trio_used)
        best = (left + 1, repeats)
        others = [u for u in range(n) if rest >> u & 1]
        for u in others:
            if not ok(v, u):
                continue
            left, repeats = go(rest & ~(1 << u), trio_used)
            best = min(best, (left, repeats + cost(v, u)))
            if not trio_used and n % 2 == 1:
                for z in others:
                    if z > u and ok(v, z) and ok(u, z):
                        left, repeats = go(rest & ~(1 << u) & ~(1 << z), True)
                        best = min(best, (left, repeats + cost(v, u) + cost(v, z) + cost(u, z)))
        return best

    return go((1 << n) - 1, False)


def max_matching_size(n: int, edges: set[frozenset[int]]) -> int:
    """Return the size of a maximum matching, by brute force (n ≤ 14)."""

    @cache
    def go(mask: int) -> int:
        if not mask:
            return 0
        v = (mask & -mask).bit_length() - 1
        rest = mask & ~(1 << v)
        best = go(rest)
        for u in range(n):
            if rest >> u & 1 and frozenset((u, v)) in edges:
                best = max(best, 1 + go(rest & ~(1 << u)))
        return best

    return go((1 << n) - 1)


def all_pairs(n: int) -> list[frozenset[int]]:
    """Return every pair of 0..n-1."""
    return [frozenset(p) for p in combinations(range(n), 2)]
