"""The engine's parts: the blossom search, the key set, working hours and the history."""

import random
from datetime import UTC, datetime
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matching_oracle import max_matching_size

from bot.matching import History, Outcome, utc_offset_minutes, working_hours_utc
from bot.matching.blossom import maximum_matching
from bot.matching.hours import common_hours, describe_window, overlap_minutes, slot_mask
from bot.matching.keyset import KeySet


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 13), density=st.floats(0, 1), seed=st.integers(0, 10**6))
def test_blossom_finds_a_maximum_matching(n, density, seed):
    rnd = random.Random(seed)
    edges = {frozenset(p) for p in combinations(range(n), 2) if rnd.random() < density}
    mate = maximum_matching(n, lambda a, b: frozenset((a, b)) in edges)

    assert all(mate[mate[v]] == v and frozenset((v, mate[v])) in edges
               for v in range(n) if mate[v] != -1)  # fmt: skip
    assert sum(1 for v in range(n) if mate[v] > v) == max_matching_size(n, edges)


def test_blossom_handles_an_odd_cycle_that_needs_contracting():
    # A triangle 0-1-2 with a tail 2-3 and 0-4: the only perfect-ish matching goes around.
    edges = {frozenset(e) for e in [(0, 1), (1, 2), (0, 2), (2, 3), (0, 4), (4, 5)]}
    mate = maximum_matching(6, lambda a, b: frozenset((a, b)) in edges, mate=[1, 0, -1, -1, 5, 4])

    assert sum(1 for v in range(6) if mate[v] > v) == 3


def test_key_set_answers_membership_exactly():
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 2**40, 5000)
    queries = np.concatenate([keys[:100], rng.integers(0, 2**40, 5000)])
    found = KeySet(keys).contains(queries)

    assert found.tolist() == np.isin(queries, keys).tolist()
    assert not KeySet(np.array([], dtype=np.int64)).contains(queries).any()
    assert len(KeySet(np.array([3, 3, 4]))) == 2


def test_working_hours_convert_to_utc_and_wrap_midnight():
    assert working_hours_utc(9 * 60, 17 * 60, 60) == ((480, 960),)
    assert working_hours_utc(9 * 60, 17 * 60, 9 * 60) == ((0, 480),)
    assert working_hours_utc(9 * 60, 17 * 60, -8 * 60) == ((1020, 60),)
    tokyo, london = working_hours_utc(9 * 60, 18 * 60, 540), working_hours_utc(8 * 60, 17 * 60, 0)
    assert common_hours([tokyo, london]) == [(480, 540)]
    night = ((22 * 60, 2 * 60),)
    late = ((23 * 60, 24 * 60),)
    early = ((0, 60),)
    assert common_hours([night, [*late, *early]]) == [(23 * 60, 60)]
    assert overlap_minutes([(23 * 60, 60)]) == 120
    assert describe_window((23 * 60, 60)) == "23:00–01:00 UTC"
    assert bin(slot_mask(night)).count("1") == 8


def test_utc_offset_follows_daylight_saving():
    assert utc_offset_minutes("Europe/Berlin", datetime(2026, 1, 15, tzinfo=UTC)) == 60
    assert utc_offset_minutes("Europe/Berlin", datetime(2026, 7, 15, tzinfo=UTC)) == 120
    assert utc_offset_minutes("Asia/Kolkata", datetime(2026, 7, 15, tzinfo=UTC)) == 330


def test_history_counts_meetings_and_ignores_couldnt_meet():
    history = History()
    history.record("a", "b", 1)
    history.record("b", "a", 4, Outcome.NO_ANSWER)
    history.record("a", "c", 2, Outcome.COULDNT_MEET)
    history.record_group(("x", "y", "z"), 3)

    assert history.times_met("a", "b") == 2
    assert history.last_met("b", "a") == 4
    assert not history.has_met("a", "c")
    assert history.last_met("a", "c") is None
    assert history.times_met("a", "nobody") == 0
    assert history.has_met("x", "z")
    assert len(history) == 4
    assert sorted(history.meetings())[0] == ("a", "b", 1, Outcome.MET)
    with pytest.raises(ValueError, match="themselves"):
        history.record("a", "a", 1)
