"""A set of int64 keys with fast vectorised membership tests (a bitmap filter, then exact)."""

from __future__ import annotations

import numpy as np

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def mix(keys: np.ndarray) -> np.ndarray:
    """Return a well-mixed uint64 hash of each key (SplitMix64's finaliser)."""
    x = (keys.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)) & _MASK
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class KeySet:
    """Sorted keys plus a bitmap of their hashes.

    Most pairs the engine asks about have never met, and a binary search per query costs a
    cache miss per step; the bitmap answers "no" for almost all of them with one lookup, and
    only the few hits are searched exactly.
    """

    def __init__(self, keys: np.ndarray) -> None:
        """Index `keys` (int64, any order, duplicates allowed)."""
        ordered = np.sort(keys.astype(np.int64))
        # Sort and drop repeats by hand: np.unique's hash path is far slower at 10^6 keys.
        if len(ordered) > 1:
            ordered = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
        self.keys = ordered
        # About 32 bits per key keeps false hits near 3%; at most 2^30 bits (128 MB).
        bits = 16
        while bits < 30 and (1 << bits) < 32 * len(self.keys):
            bits += 1
        self.shift = np.uint64(64 - bits)
        self.bitmap = np.zeros((1 << bits) // 8, dtype=np.uint8)
        if len(self.keys):
            slots = mix(self.keys) >> self.shift
            np.bitwise_or.at(
                self.bitmap,
                (slots >> np.uint64(3)).astype(np.int64),
                (np.uint8(1) << (slots & np.uint64(7)).astype(np.uint8)),
            )

    def __len__(self) -> int:
        """Return the number of distinct keys."""
        return len(self.keys)

    def contains(self, queries: np.ndarray) -> np.ndarray:
        """Return which queries are in the set."""
        found = np.zeros(len(queries), dtype=bool)
        if not len(self.keys) or not len(queries):
            return found
        slots = mix(queries) >> self.shift
        byte = self.bitmap[(slots >> np.uint64(3)).astype(np.int64)]
        maybe = np.flatnonzero((byte >> (slots & np.uint64(7)).astype(np.uint8)) & 1)
        if len(maybe):
            candidates = queries[maybe]
            pos = np.searchsorted(self.keys, candidates)
            pos[pos == len(self.keys)] = 0
            found[maybe] = self.keys[pos] == candidates
        return found
