"""Edmonds' blossom search for augmenting paths, over a graph given by an adjacency test.

The pairing graphs are complements of sparse graphs (everyone except the people you've met or
won't be paired with), so they are never built: `adjacent(v, w)` answers for one edge. Two
habits keep dense searches short: each newly labelled outer vertex is first tested against
the few exposed vertices (an augmenting path is usually three edges long), and the tree of a
failed search is removed for good, which Edmonds' theorem allows — no later augmentation can
pass through it — so the total work stays bounded even when many roots fail.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

Adjacent = Callable[[int, int], bool]


class Augmenter:
    """Grow a matching (`mate[v]`, -1 when exposed) to maximum within the vertices given."""

    def __init__(
        self,
        mate: list[int],
        vertices: Sequence[int],
        adjacent: Adjacent,
        neighbours: Sequence[Sequence[int]] | None = None,
    ) -> None:
        """Work on `mate` in place, over `vertices` (also the scan order), using `adjacent`.

        With `neighbours` (adjacency lists, for small sparse graphs) a scan visits only the
        listed neighbours that are among `vertices`, instead of every vertex.
        """
        self.mate = mate
        self.vertices = list(vertices)
        self.adjacent = adjacent
        self.neighbours = neighbours
        self.active = set(self.vertices) if neighbours is not None else None
        self.dead: set[int] = set()

    def run(
        self, roots: Sequence[int], ends: Sequence[int] | None = None, limit: int | None = None
    ) -> list[int]:
        """Augment from each exposed root in order; return the roots no augmenting path reaches.

        `ends` are the exposed vertices a path may end at (default: the roots themselves);
        `limit` stops after that many augmentations (the caller knows no more are possible).
        """
        mate = self.mate
        failed: list[int] = []
        exposed = [r for r in (roots if ends is None else [*roots, *ends]) if mate[r] == -1]
        for root in roots:
            if limit is not None and limit <= 0:
                break
            if mate[root] != -1 or root in self.dead:
                continue
            exposed = [v for v in exposed if mate[v] == -1 and v not in self.dead]
            # A lone exposed vertex has nowhere to go; searching would only walk the graph.
            if len(exposed) < 2 or self._search(root, exposed) is None:
                failed.append(root)
            elif limit is not None:
                limit -= 1
        return failed

    def _search(self, root: int, exposed: list[int]) -> int | None:
        """Find an augmenting path from `root`, flip it and return its end, or None."""
        mate, adjacent, dead = self.mate, self.adjacent, self.dead
        neighbours, active = self.neighbours, self.active
        parent: dict[int, int] = {}
        base: dict[int, int] = {}
        outer: set[int] = {root}
        tree: list[int] = [root]
        queue: deque[int] = deque([root])

        def base_of(v: int) -> int:
            return base.get(v, v)

        def lca(a: int, b: int) -> int:
            seen: set[int] = set()
            while True:
                a = base_of(a)
                seen.add(a)
                if mate[a] == -1:
                    break
                a = parent[mate[a]]
            while True:
                b = base_of(b)
                if b in seen:
                    return b
                b = parent[mate[b]]

        def mark_path(v: int, stop: int, child: int, blossom: set[int]) -> None:
            while base_of(v) != stop:
                blossom.add(base_of(v))
                blossom.add(base_of(mate[v]))
                parent[v] = child
                child = mate[v]
                v = parent[mate[v]]

        def flip(end: int) -> int:
            v = end
            while v != -1:
                pv = parent[v]
                ppv = mate[pv]
                mate[v] = pv
                mate[pv] = v
                v = ppv
            return end

        def probe(v: int) -> int | None:
            # The cheap test first: is this outer vertex next to an exposed vertex?
            for w in exposed:
                if w != root and w not in parent and mate[w] == -1 and adjacent(v, w):
                    parent[w] = v
                    return w
            return None

        end = probe(root)
        if end is not None:
            return flip(end)
        while queue:
            v = queue.popleft()
            scan = self.vertices if neighbours is None else neighbours[v]
            for w in scan:
                if active is not None and w not in active:
                    continue
                if w == v or w in dead or base_of(v) == base_of(w) or mate[v] == w:
                    continue
                if not adjacent(v, w):
                    continue
                if w == root or (mate[w] != -1 and mate[w] in parent):
                    stop = lca(v, w)
                    blossom: set[int] = set()
                    mark_path(v, stop, w, blossom)
                    mark_path(w, stop, v, blossom)
                    for u in tree:
                        if base_of(u) in blossom:
                            base[u] = stop
                            if u not in outer:
                                outer.add(u)
                                queue.append(u)
                                end = probe(u)
                                if end is not None:
                                    return flip(end)
                elif w not in parent:
                    parent[w] = v
                    if mate[w] == -1:
                        return flip(w)
                    m = mate[w]
                    outer.add(m)
                    tree.extend((w, m))
                    queue.append(m)
                    end = probe(m)
                    if end is not None:
                        return flip(end)
        dead.update(tree)
        dead.update(parent)
        return None


def maximum_matching(
    n: int, adjacent: Adjacent, mate: list[int] | None = None, order: Sequence[int] | None = None
) -> list[int]:
    """Return a maximum matching on vertices 0..n-1 (grown from `mate` when given)."""
    mate = [-1] * n if mate is None else list(mate)
    vertices = list(range(n)) if order is None else list(order)
    Augmenter(mate, vertices, adjacent).run([v for v in vertices if mate[v] == -1])
    return mate
