"""Group the members present this round: pairs, one trio when the count is odd.

Priorities, strictly in this order:

1. Hard rules: nobody is grouped with someone on their do-not-pair list, and nobody present is
   left out unless those rules make it impossible (then the report says who and why).
2. Repeats: the pairs form a maximum matching of the "not yet met" graph (do-not-pair edges
   removed), computed exactly, so an even round repeats floor(n/2) − ν pairs, where ν is that
   matching's size: the least any grouping can. Forced repeats are re-paired along
   alternating paths when do-not-pair rules block them, at no extra repeat where possible.
   An odd round needs a trio: one that keeps the round at that bound is found whenever it
   exists among the fairest candidates; in communities of up to 400 members the triangles
   of the "not yet met" graph are searched for the trio that forces the fewest repeats.
3. Soft weights: shared topics, working-hours overlap, near-peer stages, and the fairness
   ledger (members who sat out, were in a trio, got a repeat or had a no-show partner get
   priority: better partners first, and the trio seat or a forced repeat go to others).

How it stays fast at 100,000 members: candidate partners come from a few orderings of the
members (by working hours, by topics, at random), every candidate edge is scored with numpy,
and a locally-dominant greedy matching (mutual best choices, repeated) takes the good edges.
The few members left over are matched among themselves, then Edmonds' blossom search over the
implicit "not yet met" graph makes the matching provably maximum. A vectorised 2-opt pass then
swaps partners between pairs where that raises the soft score without creating a repeat.
"""

from __future__ import annotations

import gc
import hashlib
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, combinations, repeat
from operator import attrgetter

import numpy as np

from bot.matching.blossom import Augmenter
from bot.matching.hours import (
    SLOT,
    SLOTS,
    Interval,
    common_hours,
    describe_window,
    effective_hours,
    overlap_minutes,
    slot_mask,
)
from bot.matching.keyset import KeySet, mix
from bot.matching.model import (
    Fairness,
    FairnessChange,
    History,
    Ledger,
    Member,
    MemberId,
    Weights,
)

FULL_CANDIDATES = 600  # up to this many members, every pair is a candidate
TWO_OPT_ROUNDS = 60  # rounds of best-swaps-first on small communities (usually ends far sooner)
LARGE_TWO_OPT_PASSES = 2  # vectorised swap passes over all pairs in large rounds
ORDER_WIDTH = 3  # neighbours on each side in a sorted ordering
RANDOM_WIDTH = 2  # neighbours on each side in a random ordering
MAX_TOPIC_WORDS = 4  # 256 distinct topics scored exactly per round; rarer ones only in reasons
EXTRA_TRIES = 64  # members tried as the trio's third before settling for a repeat in the trio
EXCHANGE_TRIES = 256  # members scanned when handing a forced repeat to someone with fewer
EXACT_TRIO_LIMIT = 400  # up to this many members, search triangles when no free trio exists
EXACT_TRIO_TESTS = 300  # triangles tried at most (each costs a few augmenting searches)
ANY_TRIO_FROM = 12  # trios of people who all met are tried among this many, fewest trios first
_NEG = -1e18
_ZERO = Fairness()


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason a group was matched, for the intro text."""

    kind: str  # "first_meeting", "met_before", "shared_topics", "overlap", "near_peer"
    text: str


@dataclass(frozen=True, slots=True)
class RepeatPair:
    """Two members of a group who had met before."""

    a: MemberId
    b: MemberId
    times_met: int
    last_met: int | None


@dataclass(frozen=True, slots=True)
class Group:
    """One group of two or three; why they were matched is worked out when asked for."""

    members: tuple[MemberId, ...]
    repeat_pairs: tuple[RepeatPair, ...] = ()
    # The members' hints, for the reasons; not part of the group's identity.
    people: tuple[Member, ...] = field(default=(), repr=False, compare=False)

    @property
    def first_meeting(self) -> bool:
        """Return whether no two members of the group have met before."""
        return not self.repeat_pairs

    @property
    def shared_topics(self) -> tuple[str, ...]:
        """Return the topics every member shares, sorted."""
        if not self.people:
            return ()
        first, *others = self.people
        return tuple(sorted(first.topics.intersection(*(m.topics for m in others))))

    @property
    def overlap_windows(self) -> tuple[Interval, ...] | None:
        """Return the UTC windows inside everyone's working hours, or None if any are unknown."""
        hours = [effective_hours(m.working_hours, m.utc_offset_minutes) for m in self.people]
        known = [h for h in hours if h is not None]
        if not self.people or len(known) < len(hours):
            return None
        return tuple(common_hours(known))

    @property
    def overlap_minutes(self) -> int | None:
        """Return the minutes of shared working hours, or None if someone's are unknown."""
        windows = self.overlap_windows
        return None if windows is None else overlap_minutes(windows)

    @property
    def stage_gap(self) -> int | None:
        """Return the spread of career stages, or None if someone's is unknown."""
        stages = [m.stage for m in self.people if m.stage is not None]
        if not self.people or len(stages) < len(self.people):
            return None
        return max(stages) - min(stages)

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """Return why the group was matched, most persuasive first."""
        windows = self.overlap_windows
        return _reasons(
            len(self.members),
            self.first_meeting,
            list(self.shared_topics),
            None if windows is None else overlap_minutes(windows),
            list(windows or ()),
            self.stage_gap,
        )

    def reason_text(self) -> str:
        """Return the reasons as one line: `first time you meet; you both talk about python`."""
        return "; ".join(reason.text for reason in self.reasons)


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A present member who got no group, and why."""

    member: MemberId
    reason: str


@dataclass(frozen=True, slots=True)
class RoundReport:
    """What the round did, for `/pair preview`, the stats and the simulator."""

    present: int
    groups: int
    trios: int
    repeats: int  # pairs inside groups who had met before (a trio has three pairs)
    min_repeats: int  # the minimum any grouping must repeat: floor(covered/2) − ν
    new_matching: int  # ν: size of a maximum matching of the "not yet met" graph
    repeat_pairs: tuple[RepeatPair, ...]
    left_out: tuple[LeftOut, ...]
    fairness_changes: tuple[FairnessChange, ...]
    soft_score: float  # the soft weights of every pair inside the groups (no jitter)
    seconds: float

    @property
    def excess_repeats(self) -> int:
        """Return repeats above `min_repeats` (only a trio or do-not-pair rules can force any)."""
        return self.repeats - self.min_repeats


@dataclass(frozen=True, slots=True)
class RoundResult:
    """The groups of one round, who was left out, and the report."""

    groups: tuple[Group, ...]
    left_out: tuple[LeftOut, ...]
    report: RoundReport


def seed_int(seed: int | str) -> int:
    """Return a 64-bit integer seed derived from any int or string, stable across processes."""
    digest = hashlib.sha256(str(seed).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def match_round(
    members: Sequence[Member],
    history: History | None = None,
    ledger: Ledger | None = None,
    do_not_pair: Iterable[tuple[MemberId, MemberId]] = (),
    *,
    seed: int | str = 0,
    weights: Weights | None = None,
) -> RoundResult:
    """Group the members present this round; the same inputs and seed give the same groups."""
    started = time.perf_counter()
    # A round allocates a few objects per member; at 10^5 members the cyclic collector would
    # otherwise re-walk the caller's whole history and member list several times for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        state = _Round(
            members, history or History(), ledger or Ledger(), do_not_pair, seed, weights
        )
        return state.solve(started)
    finally:
        if collecting:
            gc.enable()


class _Round:
    """One round's members as arrays, the rules as fast tests, and the matching being built."""

    def __init__(
        self,
        members: Sequence[Member],
        history: History,
        ledger: Ledger,
        do_not_pair: Iterable[tuple[MemberId, MemberId]],
        seed: int | str,
        weights: Weights | None,
    ) -> None:
        try:
            ordered = sorted(members, key=attrgetter("id"))
        except TypeError as error:
            raise ValueError("member ids must all be of one type (all int or all str)") from error
        self.members = ordered
        self.ids: list[MemberId] = [m.id for m in ordered]
        self.n = n = len(ordered)
        self.index = dict(zip(self.ids, range(n), strict=True))
        if len(self.index) != n:
            raise ValueError("a member is listed twice")
        self.history = history
        self.ledger = ledger
        self.w = weights or Weights()
        self.seed = seed_int(seed)
        self.rng = np.random.Generator(np.random.PCG64(self.seed))

        self.codes_list = history.codes_of(self.ids)
        self.codes = np.array(self.codes_list, dtype=np.int64)
        self.met = history.met_key_set()
        self.met_set = history.met_index()

        dnp: set[int] = set()
        for a, b in do_not_pair:
            i, j = self.index.get(a), self.index.get(b)
            if i is not None and j is not None and i != j:
                dnp.add(min(i, j) * n + max(i, j))
        self.dnp = dnp
        self.dnp_set = KeySet(np.array(sorted(dnp), dtype=np.int64))

        self._load_hints()
        self._load_fairness()
        w = self.w
        # Lookup tables turn the soft weights into one gather each.
        self.topic_points = w.topic * np.minimum(np.arange(w.topic_cap + 2), w.topic_cap)
        hours = np.arange(SLOTS + 1) * (SLOT / 60)
        self.overlap_points = w.overlap_per_hour * np.minimum(hours, w.overlap_cap_hours)
        self.stage_points = np.array([w.near_peer, w.near_peer, w.near_peer / 2, 0.0])

    # -- inputs as arrays -------------------------------------------------------------------

    def _load_hints(self) -> None:
        n = self.n
        if not n:
            self.topic_words = np.zeros((0, 1), dtype=np.uint64)
            self.hours = np.zeros(0, dtype=np.uint64)
            self.has_hours = np.zeros(0, dtype=bool)
            self.stage = np.zeros(0, dtype=np.int64)
            self.topic0 = np.zeros(0, dtype=np.uint64)
            return
        topics, hours, offsets, stages = zip(
            *map(
                attrgetter("topics", "working_hours", "utc_offset_minutes", "stage"), self.members
            ),
            strict=True,
        )
        # Members share few distinct topic sets and hours: encode each distinct one once.
        set_ids: dict[frozenset[str], int] = {}
        which = np.array([set_ids.setdefault(t, len(set_ids)) for t in topics], dtype=np.int64)
        per_set = np.bincount(which, minlength=len(set_ids))
        frequency: Counter[str] = Counter()
        for topic_set, count in zip(set_ids, per_set.tolist(), strict=True):
            for topic in topic_set:
                frequency[topic] += count
        ranked = sorted(frequency, key=lambda t: (-frequency[t], t))
        words = max(1, min(MAX_TOPIC_WORDS, (len(ranked) + 63) // 64))
        bit = {topic: i for i, topic in enumerate(ranked[: 64 * words])}
        table = np.zeros((len(set_ids), words), dtype=np.uint64)
        for row, topic_set in enumerate(set_ids):
            value = sum(1 << bit[t] for t in topic_set if t in bit)
            table[row] = [(value >> (64 * k)) & 0xFFFFFFFFFFFFFFFF for k in range(words)]
        self.topic_words = table[which]

        hour_ids: dict[tuple[tuple[Interval, ...], int | None], int] = {}
        keys = zip(hours, offsets, strict=True)
        slot = np.array([hour_ids.setdefault(k, len(hour_ids)) for k in keys], dtype=np.int64)
        masks = np.zeros(len(hour_ids), dtype=np.uint64)
        known = np.zeros(len(hour_ids), dtype=bool)
        for row, (own, offset) in enumerate(hour_ids):
            effective = effective_hours(own, offset)
            if effective is not None:
                masks[row], known[row] = slot_mask(effective), True
        self.hours, self.has_hours = masks[slot], known[slot]
        self.topic0 = np.ascontiguousarray(self.topic_words[:, 0])
        self.stage = np.array([-1 if s is None else s for s in stages], dtype=np.int64)

    def _load_fairness(self) -> None:
        get = self.ledger.entries.get
        entries = map(get, self.ids, repeat(_ZERO))
        flat = np.fromiter(chain.from_iterable(entries), dtype=np.int64, count=4 * self.n)
        table = flat.reshape(self.n, 4)
        self.sat_out, self.trios, self.repeats, no_shows = table.T
        burden = (2 * self.sat_out + self.trios + self.repeats + no_shows).astype(np.float64)
        top = burden.max() if self.n else 0.0
        self.priority = burden / top if top > 0 else np.zeros(self.n)
        self.any_priority = bool(top > 0)
        self.burden = burden
        self.jitter_rank = self.rng.random(self.n)

    # -- rules and weights ------------------------------------------------------------------

    def new_ok(self, i: int, j: int) -> bool:
        """Return whether i and j may be paired without a repeat."""
        lo, hi = (i, j) if i < j else (j, i)
        if lo * self.n + hi in self.dnp:
            return False
        ci, cj = self.codes_list[i], self.codes_list[j]
        if ci < 0 or cj < 0:
            return True
        key = (ci << 32) | cj if ci < cj else (cj << 32) | ci
        return key not in self.met

    def allowed(self, i: int, j: int) -> bool:
        """Return whether i and j may be grouped at all."""
        return i != j and min(i, j) * self.n + max(i, j) not in self.dnp

    def has_met(self, i: int, j: int) -> bool:
        """Return whether i and j have met."""
        ci, cj = self.codes_list[i], self.codes_list[j]
        if ci < 0 or cj < 0:
            return False
        key = (ci << 32) | cj if ci < cj else (cj << 32) | ci
        return key in self.met

    def met_many(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Return which pairs (i[k], j[k]) have met."""
        if not len(self.met_set):
            return np.zeros(len(i), dtype=bool)
        ci, cj = self.codes[i], self.codes[j]
        known = (ci >= 0) & (cj >= 0)
        keys = (np.minimum(ci, cj) << 32) | np.maximum(ci, cj)
        return known & self.met_set.contains(keys)

    def new_ok_many(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Vectorised `new_ok`."""
        ok = i != j
        if len(self.dnp_set):
            lo, hi = np.minimum(i, j), np.maximum(i, j)
            ok &= ~self.dnp_set.contains(lo * self.n + hi)
        return ok & ~self.met_many(i, j)

    def score_many(self, i: np.ndarray, j: np.ndarray, *, jitter: bool = True) -> np.ndarray:
        """Return the soft weight of each pair (i[k], j[k])."""
        w = self.w
        words = self.topic_words
        if words.shape[1] == 1:
            shared = np.bitwise_count(self.topic0[i] & self.topic0[j])
        else:
            shared = np.bitwise_count(words[i] & words[j]).sum(axis=1)
        score = self.topic_points[np.minimum(shared, len(self.topic_points) - 1)]
        # Unknown working hours are an empty mask, so they overlap nobody.
        slots = np.bitwise_count(self.hours[i] & self.hours[j])
        score += self.overlap_points[slots]
        si, sj = self.stage[i], self.stage[j]
        gap = np.minimum(np.abs(si - sj), 3)
        gap[(si < 0) | (sj < 0)] = 3
        score += self.stage_points[gap]
        if self.any_priority:
            # Multiplying (not adding) is what makes priority matter: an added constant per
            # member is the same for every grouping, so it could never change who gets whom.
            score *= 1.0 + w.fairness * (self.priority[i] + self.priority[j]) / 2
        if jitter and w.jitter:
            lo = np.minimum(i, j).astype(np.uint64)
            hi = np.maximum(i, j).astype(np.uint64)
            mixed = mix((lo << np.uint64(32)) ^ hi ^ np.uint64(self.seed))
            score += w.jitter * (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)
        return score

    # -- the pipeline -----------------------------------------------------------------------

    def solve(self, started: float) -> RoundResult:
        n = self.n
        mate = np.full(n, -1, dtype=np.int64)
        if n >= 2:
            self._greedy_stage(mate)
        mate_list = mate.tolist()
        order = self.rng.permutation(n).tolist()
        if n >= 2:
            # Makes the "not yet met" matching maximum: ν is exact from here on.
            exposed = [v for v in order if mate_list[v] == -1]
            if len(exposed) >= 2:
                Augmenter(mate_list, order, self.new_ok).run(exposed)
        nu = sum(1 for v in range(n) if mate_list[v] > v)
        if nu >= 2:
            mate = np.array(mate_list, dtype=np.int64)
            self._two_opt(mate)
            mate_list = mate.tolist()
        return self._finish(mate_list, nu, order, started)

    def _candidates(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return each node's candidate partners (-1 = none) and their scores, one row per node.

        Few nodes: everyone. Many: the neighbours within a few places in three orderings (by
        working hours and stage, by topics, at random). Either way the lists are symmetric —
        j is i's candidate exactly when i is j's, with the same score — which is what lets
        mutual best choices find the locally dominant edges.
        """
        m = len(nodes)
        if m <= FULL_CANDIDATES:
            a, b = np.triu_indices(m, 1)
            scores = np.full((m, m), _NEG)
            edge = self.score_many(nodes[a], nodes[b])
            edge[~self.new_ok_many(nodes[a], nodes[b])] = _NEG
            scores[a, b] = edge
            scores[b, a] = edge
            return np.broadcast_to(nodes, (m, m)), scores
        rand = self.rng.random(m)
        orders = [
            (np.lexsort((rand, self.stage[nodes], self.hours[nodes])), ORDER_WIDTH),
            (np.lexsort((rand, self.hours[nodes], self.topic_words[nodes, 0])), ORDER_WIDTH),
            (self.rng.permutation(m), RANDOM_WIDTH),
        ]
        width = 2 * sum(w for _, w in orders)
        partners = np.full((m, width), -1, dtype=np.int64)
        scores = np.full((m, width), _NEG)
        slot = 0
        for order, reach in orders:
            for d in range(1, reach + 1):
                left, right = order[:-d], order[d:]
                a, b = nodes[left], nodes[right]
                edge = self.score_many(a, b)
                edge[~self.new_ok_many(a, b)] = _NEG
                partners[left, slot], scores[left, slot] = b, edge
                partners[right, slot + 1], scores[right, slot + 1] = a, edge
                slot += 2
        return partners, scores

    def _greedy_stage(self, mate: np.ndarray) -> None:
        """Match greedily on scored candidates, then again among whoever is left."""
        nodes = np.arange(self.n)
        for _ in range(6):
            if len(nodes) < 2:
                return
            partners, scores = self._candidates(nodes)
            _locally_dominant(mate, nodes, partners, scores)
            left = np.flatnonzero(mate < 0)
            if len(left) == len(nodes) or len(left) <= 1:
                return
            nodes = left

    def _two_opt(self, mate: np.ndarray) -> None:
        """Swap partners between two new pairs wherever that raises the soft score."""
        if self.n <= FULL_CANDIDATES:
            self._two_opt_exhaustive(mate)
            return
        a = np.flatnonzero(mate > np.arange(self.n))
        b = mate[a]
        m = len(a)
        score = self.score_many(a, b)
        passes = 24 if m <= 5000 else LARGE_TWO_OPT_PASSES
        keys = [self.hours, self.topic_words[:, 0], self.stage]
        for step in range(passes):
            if step % 4 == 3:
                perm = self.rng.permutation(m)
            else:
                side = a if step % 2 else b
                perm = np.lexsort((self.rng.random(m), keys[step % 3][side]))
            if step % 2:
                perm = perm[1:]
            half = len(perm) // 2
            p, q = perm[0 : 2 * half : 2], perm[1 : 2 * half : 2]
            pa, pb, qa, qb = a[p], b[p], a[q], b[q]
            current = score[p] + score[q]
            s1a, s1b = self.score_many(pa, qa), self.score_many(pb, qb)
            s2a, s2b = self.score_many(pa, qb), self.score_many(pb, qa)
            ok1 = self.new_ok_many(pa, qa) & self.new_ok_many(pb, qb)
            ok2 = self.new_ok_many(pa, qb) & self.new_ok_many(pb, qa)
            gain1 = np.where(ok1, s1a + s1b - current, _NEG)
            gain2 = np.where(ok2, s2a + s2b - current, _NEG)
            take1 = (gain1 > 1e-9) & (gain1 >= gain2)
            take2 = (gain2 > 1e-9) & ~take1
            # Swap 1: (pa, qa) and (pb, qb); swap 2: (pa, qb) and (pb, qa).
            b[p[take1]], a[q[take1]], b[q[take1]] = qa[take1], pb[take1], qb[take1]
            score[p[take1]], score[q[take1]] = s1a[take1], s1b[take1]
            b[p[take2]], a[q[take2]], b[q[take2]] = qb[take2], pb[take2], qa[take2]
            score[p[take2]], score[q[take2]] = s2a[take2], s2b[take2]
        mate[a] = b
        mate[b] = a

    def _two_opt_exhaustive(self, mate: np.ndarray) -> None:
        """Try every two new pairs, applying the best swaps, until none raises the score."""
        n = self.n
        i, j = np.triu_indices(n, 1)
        weight = np.full((n, n), _NEG)
        edge = self.score_many(i, j)
        edge[~self.new_ok_many(i, j)] = _NEG
        weight[i, j] = edge
        weight[j, i] = edge
        a = np.flatnonzero(mate > np.arange(n))
        b = mate[a]
        p, q = np.triu_indices(len(a), 1)
        for _ in range(TWO_OPT_ROUNDS):
            pa, pb, qa, qb = a[p], b[p], a[q], b[q]
            current = weight[pa, pb] + weight[qa, qb]
            first = weight[pa, qa] + weight[pb, qb] - current
            second = weight[pa, qb] + weight[pb, qa] - current
            gain = np.maximum(first, second)
            better = np.flatnonzero(gain > 1e-9)
            if not len(better):
                return
            used: set[int] = set()
            for k in better[np.argsort(-gain[better], kind="stable")].tolist():
                x, y = int(p[k]), int(q[k])
                if x in used or y in used:
                    continue
                used.update((x, y))
                if first[k] >= second[k]:
                    b[x], a[y], b[y] = qa[k], pb[k], qb[k]
                else:
                    b[x], a[y], b[y] = qb[k], pb[k], qa[k]
            mate[a] = b
            mate[b] = a

    # -- leftovers: the trio, forced repeats, and anyone the rules leave out ------------------

    def _fair_order(self, keys: Sequence[np.ndarray]) -> np.ndarray:
        """Return all members sorted by the keys (first key most significant), ties at random."""
        return np.lexsort((self.jitter_rank, *reversed(keys)))

    def _pairs_of(self, mate: list[int]) -> tuple[np.ndarray, np.ndarray]:
        both = np.array(mate, dtype=np.int64)
        a = np.flatnonzero(both > np.arange(self.n))
        return a, both[a]

    def _host(self, x: int, mate: list[int]) -> tuple[int, int, int] | None:
        """Return the best pair (a, b) for x to join and how many repeats that adds, or None."""
        a, b = self._pairs_of(mate)
        if not len(a):
            return None
        xs = np.full(len(a), x, dtype=np.int64)
        allowed = np.ones(len(a), dtype=bool)
        if len(self.dnp_set):
            for side in (a, b):
                allowed &= ~self.dnp_set.contains(
                    np.minimum(xs, side) * self.n + np.maximum(xs, side)
                )
        if not allowed.any():
            return None
        added = (~self.new_ok_many(xs, a)).astype(np.int64) + (~self.new_ok_many(xs, b))
        # Among the allowed hosts: fewest repeats, then the pair with the fewest trios so far,
        # then the best soft fit for the newcomer.
        fit = self.score_many(xs, a) + self.score_many(xs, b)
        host_trios = self.trios[a] + self.trios[b]
        rank = np.lexsort((-fit, host_trios, added, ~allowed))
        best = int(rank[0])
        return int(a[best]), int(b[best]), int(added[best])

    @staticmethod
    def _exchanged(mate: list[int], t: int, route: tuple[int, int] | None) -> list[int]:
        """Return a copy of mate where t's partner s takes exposed u instead, leaving t free."""
        if route is None:
            return mate
        u, s = route
        trial = list(mate)
        trial[t] = -1
        trial[u], trial[s] = s, u
        return trial

    def _quick_trio(self, mate: list[int]) -> tuple[int, tuple[int, int, int], list[int]] | None:
        """Pick the trio's third by fairness and a new pair to join; return (added, trio, mate).

        The third must be exposed by the maximum matching; any member whose partner can take
        an exposed member instead can be exposed without losing a new pair. Joining a pair
        with two new edges leaves the round at the lower bound, so the first such fit wins.
        """
        exposed = [v for v in range(self.n) if mate[v] == -1]
        order = self._fair_order([self.trios, self.burden])
        best: tuple[int, tuple[int, int, int], list[int]] | None = None
        tries = 0
        for t in order.tolist():
            if tries >= EXTRA_TRIES and best is not None:
                break
            route: tuple[int, int] | None = None
            if mate[t] != -1:
                s = mate[t]
                u = next((u for u in exposed if self.new_ok(u, s)), None)
                if u is None:
                    continue
                route = (u, s)
            tries += 1
            trial = self._exchanged(mate, t, route)
            host = self._host(t, trial)
            if host is None:
                continue
            if best is None or host[2] < best[0]:
                best = (host[2], (host[0], host[1], t), trial)
            if host[2] == 0:
                fairer = self._fairer_hosts(
                    t, trial, order, self.trios[host[0]] + self.trios[host[1]]
                )
                if fairer is not None:
                    best = (0, fairer[0], fairer[1])
                break
        return best

    def _fairer_hosts(
        self, x: int, mate: list[int], order: np.ndarray, host_trios: int
    ) -> tuple[tuple[int, int, int], list[int]] | None:
        """Find two members with fewer trios than the host pair who can join x, all new.

        They come out of their pairs, and their former partners pair up instead — as long as
        those two have not met either, the round keeps its new pairs.
        """
        low = [v for v in order[: EXTRA_TRIES + 1].tolist() if v != x and mate[v] >= 0]
        for k, a in enumerate(low):
            if not self.new_ok(x, a):
                continue
            for b in low[k + 1 :]:
                if self.trios[a] + self.trios[b] >= host_trios:
                    break
                if not (self.new_ok(x, b) and self.new_ok(a, b)):
                    continue
                pa, pb = mate[a], mate[b]
                if pa == b or self.new_ok(pa, pb):
                    trial = list(mate)
                    if pa != b:
                        trial[pa], trial[pb] = pb, pa
                    trial[a], trial[b] = b, a
                    return (a, b, x), trial
        return None

    def _new_neighbours(self) -> list[list[int]]:
        return [[u for u in range(self.n) if u != v and self.new_ok(v, u)] for v in range(self.n)]

    def _without(self, mate: list[int], trio: tuple[int, int, int]) -> list[int]:
        """Return a copy of mate with the trio's members taken out (marked -2)."""
        trial = list(mate)
        for v in trio:
            if trial[v] >= 0:
                trial[trial[v]] = -1
        for v in trio:
            trial[v] = -2
        return trial

    def _trio_candidates(
        self, mate: list[int], nu: int
    ) -> Iterable[tuple[tuple[int, int, int], list[int], int]]:
        """Yield trios to try, each with a maximum "not yet met" matching of everyone else.

        Each comes with the number of new pairs left among the others. First the quick pick;
        in a small community whose quick pick adds a repeat, then its triangles, members
        with fewer trios first: all-new ones, then those with one repeated edge, then any
        among the members who have had the fewest trios. The caller stops as soon as a trio
        reaches the lower bound.
        """
        n = self.n
        quick = self._quick_trio(mate)
        if quick is not None:
            # The quick trio takes one new pair out of a maximum matching: ν − 1 remain.
            yield quick[1], self._without(quick[2], quick[1]), nu - 1
        if n > EXACT_TRIO_LIMIT:
            return
        fair = self._fair_order([self.trios, self.burden]).tolist()
        rank = [0] * n
        for position, v in enumerate(fair):
            rank[v] = position
        adjacency = [sorted(row, key=rank.__getitem__) for row in self._new_neighbours()]
        sets = [set(row) for row in adjacency]

        def triangles() -> Iterable[tuple[int, int, int]]:
            for a in fair:
                for b in adjacency[a]:
                    if rank[b] > rank[a]:
                        for c in adjacency[b]:
                            if rank[c] > rank[b] and c in sets[a]:
                                yield (a, b, c)
            for c in fair:
                row = adjacency[c]
                for k, a in enumerate(row):
                    for b in row[k + 1 :]:
                        if b not in sets[a] and self.allowed(a, b):
                            yield (a, b, c)
            few = fair[:ANY_TRIO_FROM]
            for a, b, c in combinations(few, 3):
                if self.allowed(a, b) and self.allowed(a, c) and self.allowed(b, c):
                    yield (a, b, c)

        exposed = [v for v in range(n) if mate[v] == -1]
        for tested, trio in enumerate(triangles()):
            if tested >= EXACT_TRIO_TESTS:
                return
            trial = self._without(mate, trio)
            count = nu - sum(
                1 for v in trio if mate[v] > v or (mate[v] >= 0 and mate[v] not in trio)
            )
            # A trio with a new edge leaves at most ν − 1 new pairs (else the full graph would
            # have a bigger matching): stop augmenting there. Freed partners are the roots
            # that can augment; the previously exposed are searched only if still short.
            own_new = any(b in sets[a] for a, b in combinations(trio, 2))
            limit = nu - (1 if own_new else 0) - count
            if limit > 0:
                freed = [mate[v] for v in trio if mate[v] >= 0 and mate[v] not in trio]
                others = [v for v in range(n) if trial[v] != -2]
                roots = freed + [v for v in exposed if v not in trio]
                Augmenter(trial, others, self.new_ok, adjacency).run(roots, limit=limit)
                count = sum(1 for v in others if trial[v] > v)
            yield trio, trial, count

    def _trio_tiebreak(self, trio: tuple[int, int, int]) -> tuple[float, float]:
        """Return (trios so far, −soft fit) for ranking equally good trios."""
        people = np.array(trio, dtype=np.int64)
        fit = self.score_many(people[[0, 0, 1]], people[[1, 2, 2]]).sum()
        return float(self.trios[people].sum()), -float(fit)

    def _share_repeats(self, mate: list[int], exposed: list[int]) -> list[int]:
        """Hand forced repeats to members who have had fewer, where an exchange allows it."""
        order = self._fair_order([self.repeats, self.burden]).tolist()
        result: list[int] = []
        taken = set(exposed)
        for u in sorted(exposed, key=lambda v: (-self.repeats[v], -self.burden[v], v)):
            mine = (self.repeats[u], self.burden[u])
            for t in order[:EXCHANGE_TRIES]:
                if (self.repeats[t], self.burden[t]) >= mine:
                    break
                s = mate[t]
                if t in taken or s < 0 or s == u or not self.new_ok(u, s):
                    continue
                mate[t], mate[u], mate[s] = -1, s, u
                taken.add(t)
                u = t
                break
            result.append(u)
        return result

    def _pair_repeats(self, mate: list[int], exposed: list[int]) -> None:
        """Pair the exposed members: fewest meetings, then longest ago, then best fit."""
        history, ids = self.history, self.ids
        options = []
        for k, u in enumerate(exposed):
            for v in exposed[k + 1 :]:
                if self.allowed(u, v):
                    times = history.times_met(ids[u], ids[v])
                    last = history.last_met(ids[u], ids[v])
                    options.append((times, -1 if last is None else last, u, v))
        if options:
            # Members notice "again, and so soon", so recency decides before the soft fit.
            fit = self.score_many(
                np.array([o[2] for o in options]), np.array([o[3] for o in options])
            ).tolist()
            options = [(t, last, -f, u, v) for (t, last, u, v), f in zip(options, fit, strict=True)]
        options.sort()
        for *_, u, v in options:
            if mate[u] == -1 and mate[v] == -1:
                mate[u], mate[v] = v, u
        rest = [u for u in exposed if mate[u] == -1]
        if len(rest) >= 2:
            Augmenter(mate, exposed, self.allowed).run(rest)

    def _repair_blocked(self, mate: list[int], stuck: list[int], rest: list[int]) -> None:
        """Seat members the rules kept apart by shifting new pairs, at no extra repeat.

        u may not meet v, but an alternating path u–a=b–…–v whose edges are all new except
        the last one (into v) re-pairs everyone on it: the round then repeats exactly what it
        would have if u and v could meet.
        """
        targets = set(stuck)
        for u in stuck:
            if mate[u] != -1 or sum(1 for v in targets if mate[v] == -1) < 2:
                continue

            def edge(x: int, y: int, root: int = u) -> bool:
                if self.new_ok(x, y):
                    return True
                return (
                    root != x
                    and root != y
                    and (x in targets or y in targets)
                    and self.allowed(x, y)
                )

            Augmenter(mate, rest, edge).run([u], stuck)

    def _complete(self, mate: list[int], order: list[int]) -> tuple[list[int], list[int]]:
        """Seat everyone outside the trio: forced repeats, then rule conflicts; return leftovers."""
        mate = list(mate)
        if mate.count(-1) == 0:
            return mate, []
        rest = [v for v in order if mate[v] != -2]
        exposed = [v for v in rest if mate[v] == -1]
        if len(exposed) >= 2:
            exposed = self._share_repeats(mate, exposed)
            self._pair_repeats(mate, exposed)
            still = [v for v in rest if mate[v] == -1]
            if len(still) >= 2:
                self._repair_blocked(mate, still, rest)
            still = [v for v in rest if mate[v] == -1]
            if len(still) >= 2:
                # Coverage beats repeats: let the do-not-pair graph rearrange anyone.
                still.sort(key=lambda v: (-self.sat_out[v], -self.burden[v], v))
                Augmenter(mate, rest, self.allowed).run(still)
        stuck = [v for v in rest if mate[v] == -1]
        return mate, self._share_sitting_out(mate, stuck) if stuck else stuck

    def _share_sitting_out(self, mate: list[int], stuck: list[int]) -> list[int]:
        """Seat members who sat out before in place of someone who has not, where rules allow.

        u takes t's partner s, and t sits out instead; only when that adds no repeat.
        """
        order = self._fair_order([self.sat_out, self.burden]).tolist()
        result: list[int] = []
        out = set(stuck)
        for u in sorted(stuck, key=lambda v: (-self.sat_out[v], -self.burden[v], v)):
            mine = (self.sat_out[u], self.burden[u])
            for t in order[:EXCHANGE_TRIES]:
                if (self.sat_out[t], self.burden[t]) >= mine:
                    break
                s = mate[t]
                if t in out or s < 0 or not self.allowed(u, s):
                    continue
                if self.new_ok(t, s) and not self.new_ok(u, s):
                    continue
                mate[t], mate[u], mate[s] = -1, s, u
                out.add(t)
                u = t
                break
            result.append(u)
        return result

    def _count_repeats(self, mate: list[int], trio: tuple[int, ...]) -> int:
        a, b = self._pairs_of(mate)
        count = int((~self.new_ok_many(a, b)).sum()) if len(a) else 0
        for k, u in enumerate(trio):
            for v in trio[k + 1 :]:
                count += self.has_met(u, v)
        return count

    def _finish(self, mate: list[int], nu: int, order: list[int], started: float) -> RoundResult:
        n = self.n
        if n == 1:
            return self._result(mate, None, {0: "nobody else is in this round"}, nu, started)
        trio: tuple[int, int, int] | None = None
        if n % 2 == 0:
            mate, stuck = self._complete(mate, order)
        else:
            floor = n // 2 - nu
            # Without do-not-pair rules everyone outside the trio can be paired, so a trio's
            # cost follows from the new pairs left; the full seating runs once, for the winner.
            quick_count = not self.dnp
            best: tuple[tuple[float, ...], tuple[int, int, int] | None, list[int], list[int]] | None
            best = None
            for candidate, trial, new_pairs in self._trio_candidates(mate, nu):
                own = sum(self.has_met(u, v) for u, v in combinations(candidate, 2))
                # The others keep at most ν new pairs (ν − 1 if the trio has a new edge), so
                # this trio costs at least own + floor − 1 (or own + floor); trios come
                # fewest-trios first, so one that cannot beat the best is skipped.
                least = own + floor - (1 if own == 3 else 0)
                if best is not None and best[0][0] == 0 and least >= best[0][1]:
                    continue
                repeats = own + (n - 3) // 2 - new_pairs
                if quick_count:
                    done, left = trial, []
                elif best is not None and best[0][0] == 0 and repeats > best[0][1]:
                    continue  # even seating everyone would repeat more than the best found
                else:
                    done, left = self._complete(trial, order)
                    repeats = self._count_repeats(done, candidate)
                key = (
                    len(left),
                    repeats,
                    float(self.sat_out[left].sum()),
                    *self._trio_tiebreak(candidate),
                )
                if best is None or key < best[0]:
                    best = (key, candidate, done, left)
                if key[0] == 0 and key[1] <= floor:
                    break
            if best is not None and quick_count:
                done, left = self._complete(best[2], order)
                best = (best[0], best[1], done, left)
            if best is None or best[0][0] > 0:
                # No trio seats everyone (the rules, or a tiny community): seat as many as
                # possible in pairs, then one of the odd ones out with the pair that suits them.
                done, left = self._complete(mate, order)
                left.sort(key=lambda v: (self.trios[v], -self.sat_out[v], self.jitter_rank[v]))
                seated: tuple[int, int, int] | None = None
                for x in left:
                    host = self._host(x, done)
                    if host is not None:
                        seated = (host[0], host[1], x)
                        done[host[0]] = done[host[1]] = done[x] = -2
                        left.remove(x)
                        break
                repeats = self._count_repeats(done, seated or ())
                key = (len(left), repeats, float(self.sat_out[left].sum()), 0.0, 0.0)
                if best is None or key[:3] < best[0][:3]:
                    best = (key, seated, done, left)
            _, trio, mate, stuck = best
        left = dict.fromkeys(stuck, "do-not-pair rules leave nobody they can be grouped with")
        return self._result(mate, trio, left, nu, started)

    # -- output -----------------------------------------------------------------------------

    def _result(
        self,
        mate: list[int],
        trio: tuple[int, int, int] | None,
        left: dict[int, str],
        nu: int,
        started: float,
    ) -> RoundResult:
        n, ids, members = self.n, self.ids, self.members
        a, b = self._pairs_of(mate)
        repeated = np.flatnonzero(self.met_many(a, b)).tolist() if len(a) else []
        left_ends, right_ends = a.tolist(), b.tolist()
        members_of = zip(
            map(ids.__getitem__, left_ends), map(ids.__getitem__, right_ends), strict=True
        )
        people_of = zip(
            map(members.__getitem__, left_ends), map(members.__getitem__, right_ends), strict=True
        )
        groups = list(map(Group, members_of, repeat(()), people_of))
        shapes: list[tuple[int, ...]] = [(left_ends[k], right_ends[k]) for k in repeated]
        if trio is not None:
            repeated.append(len(groups))
            shapes.append(tuple(sorted(trio)))
        repeat_pairs: list[RepeatPair] = []
        for k, shape in zip(repeated, shapes, strict=True):
            pairs = self._repeat_pairs(shape)
            repeat_pairs.extend(pairs)
            group = Group(tuple(ids[v] for v in shape), pairs, tuple(members[v] for v in shape))
            if k < len(groups):
                groups[k] = group
            else:
                groups.append(group)
        if trio is not None:
            groups.sort(key=lambda g: self.index[g.members[0]])
        changes: list[FairnessChange] = [FairnessChange(ids[v], "sat_out") for v in sorted(left)]
        if trio is not None:
            changes.extend(FairnessChange(ids[v], "trio") for v in sorted(trio))
        repeaters = sorted({self.index[m] for rp in repeat_pairs for m in (rp.a, rp.b)})
        changes.extend(FairnessChange(ids[v], "repeat") for v in repeaters)
        left_out = tuple(LeftOut(ids[v], reason) for v, reason in sorted(left.items()))
        first, second = a, b
        if trio is not None:
            people = np.array(sorted(trio), dtype=np.int64)
            first = np.concatenate((a, people[[0, 0, 1]]))
            second = np.concatenate((b, people[[1, 2, 2]]))
        soft = float(self.score_many(first, second, jitter=False).sum()) if len(first) else 0.0
        report = RoundReport(
            present=n,
            groups=len(groups),
            trios=int(trio is not None),
            repeats=len(repeat_pairs),
            min_repeats=max(0, (n - len(left)) // 2 - nu),
            new_matching=nu,
            repeat_pairs=tuple(repeat_pairs),
            left_out=left_out,
            fairness_changes=tuple(changes),
            soft_score=round(soft, 6),
            seconds=time.perf_counter() - started,
        )
        return RoundResult(groups=tuple(groups), left_out=left_out, report=report)

    def _repeat_pairs(self, shape: tuple[int, ...]) -> tuple[RepeatPair, ...]:
        found = []
        for u, v in combinations(shape, 2):
            if self.has_met(u, v):
                x, y = self.ids[u], self.ids[v]
                found.append(
                    RepeatPair(x, y, self.history.times_met(x, y), self.history.last_met(x, y))
                )
        return tuple(found)


def _reasons(
    size: int,
    first: bool,
    shared: list[str],
    minutes: int | None,
    windows: list[Interval],
    gap: int | None,
) -> tuple[Reason, ...]:
    """Return the intro's reasons, most persuasive first."""
    reasons: list[Reason] = []
    if first:
        text = "first time you meet" if size == 2 else "first time any of you meet"
        reasons.append(Reason("first_meeting", text))
    else:
        text = "you've met before, and no new partner was free this round"
        reasons.append(Reason("met_before", text))
    if shared:
        listed = ", ".join(shared[:-1]) + f" and {shared[-1]}" if len(shared) > 1 else shared[0]
        who = "you both" if size == 2 else "you all"
        reasons.append(Reason("shared_topics", f"{who} talk about {listed}"))
    if minutes:
        hours = minutes / 60
        amount = f"{hours:g} h" if hours == int(hours) else f"{hours:.1f} h"
        where = f" ({describe_window(windows[0])})" if len(windows) == 1 else ""
        reasons.append(Reason("overlap", f"{amount} of overlapping working hours{where}"))
    if gap is not None and gap <= 1:
        text = "the same career stage" if gap == 0 else "near-peer career stages"
        reasons.append(Reason("near_peer", text))
    return tuple(reasons)


def _locally_dominant(
    mate: np.ndarray, nodes: np.ndarray, partners: np.ndarray, scores: np.ndarray
) -> None:
    """Add to `mate` the edges that are both ends' best free choice, until none are left.

    The result is what sorting all candidate edges by score and taking each one whose ends
    are still free would give (a 1/2-approximation of the best total), but computed in a few
    vectorised sweeps. A candidate who was taken is crossed out only when it comes up as
    someone's best, which is much cheaper than rechecking every row after every sweep.
    """
    choice = np.full(len(mate), -1, dtype=np.int64)
    owner = nodes
    while len(owner):
        rows = np.arange(len(owner))
        best = scores.argmax(axis=1)
        value = scores[rows, best]
        alive = (value > _NEG / 2) & (mate[owner] < 0)
        them = partners[rows, best]
        taken = alive & (mate[np.where(alive, them, 0)] >= 0)
        scores[rows[taken], best[taken]] = _NEG
        ready = alive & ~taken
        me, you = owner[ready], them[ready]
        choice[me] = you
        mutual = choice[you] == me
        if len(me) and not mutual.any() and not taken.any():
            # Exact score ties around a cycle: take the single best edge to break it.
            mutual[int(np.argmax(value[ready]))] = True
        mate[me[mutual]] = you[mutual]
        mate[you[mutual]] = me[mutual]
        choice[me] = -1
        keep = alive & (mate[owner] < 0)
        if not keep.any():
            return
        if keep.sum() < 0.7 * len(owner):
            owner, partners, scores = owner[keep], partners[keep], scores[keep]
