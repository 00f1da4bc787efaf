"""What the matching engine reads: members, the history of who met whom, the fairness ledger."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from bot.matching.keyset import KeySet

if TYPE_CHECKING:
    from bot.matching.engine import RoundResult

MemberId = int | str
"""A member's id: the store's integer id, a platform user id, or a synthetic name."""


@dataclass(frozen=True, slots=True)
class Member:
    """One member present this round, with the optional hints that improve their match."""

    id: MemberId
    # UTC offset in minutes; used for default working hours when `working_hours` is empty.
    utc_offset_minutes: int | None = None
    # Working hours as UTC intervals (start, end) in minutes of the day; end <= start wraps.
    working_hours: tuple[tuple[int, int], ...] = ()
    # Career stage as a level (0 = student, 1 = junior, …); near-peers are at most one apart.
    stage: int | None = None
    topics: frozenset[str] = frozenset()


class Outcome(StrEnum):
    """What a group said at the check-in."""

    MET = "met"
    COULDNT_MEET = "couldnt_meet"
    NO_ANSWER = "no_answer"

    @property
    def counts_as_met(self) -> bool:
        """Return whether a pair with this outcome has met, for repeat avoidance."""
        # An unanswered check-in still means they were introduced: pairing them again soon is
        # the repeat members complain about. Only an explicit "we couldn't meet" frees the pair.
        return self is not Outcome.COULDNT_MEET


def _pair_key(a: int, b: int) -> int:
    return (a << 32) | b if a < b else (b << 32) | a


class History:
    """Which pairs were grouped, when, and whether they met; the engine reads it, never writes it.

    `when` is any increasing integer the caller chooses (a round number, a group id, a Unix
    time); recording the same pair and `when` again replaces that outcome, so a check-in answer
    can update the intro recorded when the round ran.
    """

    def __init__(self) -> None:
        """Start an empty history."""
        self._codes: dict[MemberId, int] = {}
        self._log: dict[int, dict[int, Outcome]] = {}
        # Number of counted meetings per pair key; the engine's membership test reads only this.
        self._counted: dict[int, int] = {}
        self._index: KeySet | None = None

    def _code(self, member: MemberId) -> int:
        code = self._codes.get(member)
        if code is None:
            code = self._codes[member] = len(self._codes)
        return code

    def record(self, a: MemberId, b: MemberId, when: int, outcome: Outcome = Outcome.MET) -> None:
        """Record that `a` and `b` were grouped at `when` with this outcome."""
        if a == b:
            raise ValueError("a member cannot be paired with themselves")
        key = _pair_key(self._code(a), self._code(b))
        entries = self._log.setdefault(key, {})
        before = entries.get(when)
        entries[when] = outcome
        delta = int(outcome.counts_as_met) - int(before is not None and before.counts_as_met)
        if delta:
            count = self._counted.get(key, 0) + delta
            if count:
                self._counted[key] = count
            else:
                del self._counted[key]
            self._index = None

    def record_group(
        self, members: Iterable[MemberId], when: int, outcome: Outcome = Outcome.MET
    ) -> None:
        """Record every pair inside one group."""
        people = list(members)
        for i, a in enumerate(people):
            for b in people[i + 1 :]:
                self.record(a, b, when, outcome)

    def _key(self, a: MemberId, b: MemberId) -> int | None:
        ca, cb = self._codes.get(a), self._codes.get(b)
        return None if ca is None or cb is None else _pair_key(ca, cb)

    def has_met(self, a: MemberId, b: MemberId) -> bool:
        """Return whether `a` and `b` have met ("we couldn't meet" does not count)."""
        key = self._key(a, b)
        return key is not None and key in self._counted

    def times_met(self, a: MemberId, b: MemberId) -> int:
        """Return how many of their groups count as meetings."""
        key = self._key(a, b)
        return 0 if key is None else self._counted.get(key, 0)

    def last_met(self, a: MemberId, b: MemberId) -> int | None:
        """Return the latest `when` at which they met, or None."""
        key = self._key(a, b)
        entries = self._log.get(key, {}) if key is not None else {}
        counted = [when for when, outcome in entries.items() if outcome.counts_as_met]
        return max(counted) if counted else None

    def meetings(self) -> Iterator[tuple[MemberId, MemberId, int, Outcome]]:
        """Yield every recorded (a, b, when, outcome)."""
        names = {code: member for member, code in self._codes.items()}
        for key, entries in self._log.items():
            a, b = names[key >> 32], names[key & 0xFFFFFFFF]
            for when, outcome in entries.items():
                yield a, b, when, outcome

    def __len__(self) -> int:
        """Return the number of distinct pairs that have met."""
        return len(self._counted)

    # The engine's fast paths: integer codes and a sorted array of met pair keys.

    def codes_of(self, members: Iterable[MemberId]) -> list[int]:
        """Return the history's integer code for each member (-1 if never grouped)."""
        get = self._codes.get
        return [get(member, -1) for member in members]

    def met_key_set(self) -> dict[int, int]:
        """Return the counted meetings keyed by pair key (read-only view for the engine)."""
        return self._counted

    def met_index(self) -> KeySet:
        """Return the pair keys of every pair that has met, indexed for vectorised tests."""
        if self._index is None:
            keys = np.fromiter(self._counted.keys(), dtype=np.int64, count=len(self._counted))
            self._index = KeySet(keys)
        return self._index


class Fairness(NamedTuple):
    """One member's fairness ledger entry."""

    sat_out: int = 0
    trios: int = 0
    repeats: int = 0
    no_shows: int = 0

    @property
    def burden(self) -> int:
        """Return how much the rounds have cost this member so far (higher = more priority)."""
        return 2 * self.sat_out + self.trios + self.repeats + self.no_shows


@dataclass(frozen=True, slots=True)
class FairnessChange:
    """One increment the round adds to the ledger."""

    member: MemberId
    kind: str  # "sat_out", "trio" or "repeat"


_FIELDS = {"sat_out": "sat_out", "trio": "trios", "repeat": "repeats", "no_show": "no_shows"}


@dataclass
class Ledger:
    """The fairness ledger: who sat out, was in a trio, got a repeat, or had a no-show partner."""

    entries: dict[MemberId, Fairness] = field(default_factory=dict)

    def get(self, member: MemberId) -> Fairness:
        """Return a member's entry (zeros when unknown)."""
        return self.entries.get(member, _ZERO)

    def add(self, member: MemberId, kind: str) -> None:
        """Count one event: "sat_out", "trio", "repeat" or "no_show"."""
        name = _FIELDS[kind]
        entry = self.get(member)
        self.entries[member] = entry._replace(**{name: getattr(entry, name) + 1})

    def record_no_show(self, member: MemberId) -> None:
        """Count that this member's partner never showed (gives them priority next round)."""
        self.add(member, "no_show")

    def apply(self, result: RoundResult) -> None:
        """Add a round's fairness changes (sat out, trio, repeat)."""
        for change in result.report.fairness_changes:
            self.add(change.member, change.kind)


_ZERO = Fairness()


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each soft preference is worth; repeats and hard rules are not weights."""

    topic: float = 1.0  # per shared topic …
    topic_cap: int = 3  # … counting at most this many
    overlap_per_hour: float = 0.5  # per hour of shared working hours …
    overlap_cap_hours: float = 4.0  # … up to a comfortable meeting window
    near_peer: float = 1.0  # stages at most one apart (half for two apart)
    fairness: float = 1.0  # scales a pair's weight by 1 + this × their mean priority (0..1)
    jitter: float = 0.05  # seeded noise, so equal choices vary between rounds
