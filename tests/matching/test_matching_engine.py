"""The matching engine: groups, hard rules, repeats against exact answers, fairness, reasons."""

import random
from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_oracle import all_pairs, best_grouping, max_matching_size

from bot.matching import (
    Fairness,
    History,
    Ledger,
    Member,
    Outcome,
    match_round,
    working_hours_utc,
)


def members(n, **hints):
    return [Member(i, **hints) for i in range(n)]


def pairs_in(result):
    return {frozenset(p) for g in result.groups for p in combinations(g.members, 2)}


def seated(result):
    return sorted(m for g in result.groups for m in g.members)


def random_round(rnd, n, met_share, avoid_count):
    history = History()
    met = set()
    for a, b in combinations(range(n), 2):
        if rnd.random() < met_share:
            history.record(a, b, rnd.randint(1, 30))
            met.add(frozenset((a, b)))
    avoid = set()
    for _ in range(avoid_count):
        avoid.add(frozenset(rnd.sample(range(n), 2)))
    return history, met, avoid


# -- shape ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(2, 16))
def test_everyone_is_seated_in_pairs_plus_one_trio_when_odd(n):
    result = match_round(members(n), seed=n)

    sizes = sorted(len(g.members) for g in result.groups)
    assert seated(result) == list(range(n))
    assert sizes == [2] * (n // 2 - 1) + [3] if n % 2 else [2] * (n // 2)
    assert result.report.trios == n % 2
    assert result.left_out == ()


def test_no_members_and_one_member():
    assert match_round([]).groups == ()
    alone = match_round([Member("solo")])
    assert alone.groups == ()
    assert [(x.member, x.reason) for x in alone.left_out] == [
        ("solo", "nobody else is in this round")
    ]
    assert alone.report.fairness_changes[0].kind == "sat_out"


def test_a_member_listed_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        match_round([Member("a"), Member("a")])


def test_mixed_id_types_are_refused():
    with pytest.raises(ValueError, match="one type"):
        match_round([Member("a"), Member(1)])


# -- determinism ---------------------------------------------------------------------------


def test_the_same_inputs_and_seed_give_the_same_groups_in_any_input_order():
    rnd = random.Random(5)
    people = [
        Member(f"u{i}", utc_offset_minutes=rnd.choice([-300, 0, 60, 330]), stage=i % 4)
        for i in range(41)
    ]
    history, _, _ = random_round(random.Random(1), 0, 0, 0)
    for a, b in combinations([p.id for p in people[:12]], 2):
        history.record(a, b, 1)
    first = match_round(people, history, seed="community-7:round-3")
    shuffled = people[:]
    rnd.shuffle(shuffled)
    again = match_round(shuffled, history, seed="community-7:round-3")

    assert [g.members for g in first.groups] == [g.members for g in again.groups]
    assert first.report.repeats == again.report.repeats


def test_another_seed_gives_other_groups():
    people = members(40)
    one = {g.members for g in match_round(people, seed=1).groups}
    other = {g.members for g in match_round(people, seed=2).groups}

    assert one != other


# -- hard rules ----------------------------------------------------------------------------


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 11),
    met_share=st.floats(0, 1),
    avoid_count=st.integers(0, 12),
    seed=st.integers(0, 10**6),
)
def test_do_not_pair_is_never_broken_and_nobody_is_left_out_who_could_be_seated(
    n, met_share, avoid_count, seed
):
    history, met, avoid = random_round(random.Random(seed), n, met_share, avoid_count)
    result = match_round(members(n), history, None, [tuple(p) for p in avoid], seed=seed)

    assert not pairs_in(result) & avoid
    assert len(result.left_out) == best_grouping(n, met, avoid)[0]
    assert sorted(seated(result) + [x.member for x in result.left_out]) == list(range(n))
    assert result.report.trios <= 1


def test_who_is_left_out_is_told_why():
    # 0 may meet nobody; 1 and 2 may meet each other.
    result = match_round(members(3), None, None, [(0, 1), (0, 2)])

    assert [g.members for g in result.groups] == [(1, 2)]
    assert [x.member for x in result.left_out] == [0]
    assert "do-not-pair" in result.left_out[0].reason
    assert result.report.fairness_changes[0].kind == "sat_out"


# -- repeats: exactly the minimum the history forces ----------------------------------------


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 12), met_share=st.floats(0, 1), seed=st.integers(0, 10**6))
def test_repeats_equal_the_exact_minimum_on_small_histories(n, met_share, seed):
    history, met, _ = random_round(random.Random(seed), n, met_share, 0)
    result = match_round(members(n), history, seed=seed)

    left, repeats = best_grouping(n, met, set())
    assert (len(result.left_out), result.report.repeats) == (left, repeats)
    nu = max_matching_size(n, set(all_pairs(n)) - met)
    assert result.report.new_matching == nu
    assert result.report.min_repeats == n // 2 - nu
    if n % 2 == 0:
        assert result.report.repeats == result.report.min_repeats


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 12),
    met_share=st.floats(0, 1),
    avoid_count=st.integers(0, 4),
    seed=st.integers(0, 10**6),
)
def test_repeats_stay_minimal_with_a_few_do_not_pair_rules(n, met_share, avoid_count, seed):
    history, met, avoid = random_round(random.Random(seed), n, met_share, avoid_count)
    result = match_round(members(n), history, None, [tuple(p) for p in avoid], seed=seed)

    assert (len(result.left_out), result.report.repeats) == best_grouping(n, met, avoid)


@pytest.mark.parametrize("seed", range(6))
def test_repeats_match_an_exact_maximum_matching_on_larger_even_rounds(seed):
    nx = pytest.importorskip("networkx")
    rnd = random.Random(seed)
    n = rnd.choice([40, 60, 80])
    history, met, avoid = random_round(rnd, n, rnd.choice([0.5, 0.8, 0.93]), 2)
    result = match_round(members(n), history, None, [tuple(p) for p in avoid], seed=seed)

    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for pair in set(all_pairs(n)) - avoid:
        graph.add_edge(*pair, weight=1 if pair in met else 2)
    best = nx.max_weight_matching(graph, maxcardinality=True)
    new_edges = sum(1 for pair in best if frozenset(pair) not in met)
    assert len(best) == n // 2
    assert result.report.repeats == n // 2 - new_edges
    assert result.left_out == ()


def test_a_pair_who_could_not_meet_is_not_a_repeat_but_an_unanswered_one_is():
    history = History()
    history.record("a", "b", 1, Outcome.COULDNT_MEET)
    history.record("c", "d", 1, Outcome.NO_ANSWER)
    people = [Member(x) for x in "abcd"]
    result = match_round(people, history, None, [("a", "c"), ("a", "d")])

    assert {g.members for g in result.groups} == {("a", "b"), ("c", "d")}
    assert [(r.a, r.b) for r in result.report.repeat_pairs] == [("c", "d")]
    assert next(g for g in result.groups if g.members == ("a", "b")).first_meeting


def test_a_check_in_answer_replaces_the_outcome_recorded_with_the_intro():
    history = History()
    history.record("a", "b", 7, Outcome.NO_ANSWER)
    assert history.has_met("a", "b")
    history.record("a", "b", 7, Outcome.COULDNT_MEET)
    assert not history.has_met("a", "b")
    result = match_round([Member("a"), Member("b")], history)
    assert result.report.repeats == 0


def test_a_forced_repeat_goes_to_the_pair_that_met_longest_ago():
    history = History()
    history.record_group((0, 1), 1)
    history.record_group((2, 3), 1)
    history.record_group((0, 2), 9)
    history.record_group((1, 3), 9)
    history.record_group((0, 3), 5)
    history.record_group((1, 2), 5)
    result = match_round(members(4), history)

    assert {g.members for g in result.groups} == {(0, 1), (2, 3)}
    assert result.report.repeats == 2
    assert result.report.min_repeats == 2
    assert "met before" in result.groups[0].reason_text()


# -- fairness ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_the_trio_goes_to_members_who_have_had_fewer_trios(seed):
    ledger = Ledger({i: Fairness(trios=2) for i in range(3, 9)})
    result = match_round(members(9), None, ledger, seed=seed)

    trio = next(g for g in result.groups if len(g.members) == 3)
    assert set(trio.members) == {0, 1, 2}
    assert {c.member for c in result.report.fairness_changes if c.kind == "trio"} == {0, 1, 2}


@pytest.mark.parametrize("seed", range(5))
def test_a_forced_repeat_goes_to_members_who_have_had_fewer_repeats(seed):
    # 0 has met everyone, so 0's partner repeats; 1, 2 and 3 have had repeats, 4 and 5 not.
    history = History()
    for other in range(1, 6):
        history.record(0, other, 1)
    ledger = Ledger({i: Fairness(repeats=3) for i in (1, 2, 3)})
    result = match_round(members(6), history, ledger, seed=seed)

    assert result.report.repeats == result.report.min_repeats == 1
    [repeat] = result.report.repeat_pairs
    assert repeat.a == 0
    assert repeat.b in {4, 5}
    repeaters = {c.member for c in result.report.fairness_changes if c.kind == "repeat"}
    assert repeaters == {0, repeat.b}


@pytest.mark.parametrize("seed", range(5))
def test_someone_who_sat_out_last_time_is_seated_first(seed):
    # 0 and 1 may only meet 2, so one of them must sit out; 0 sat out before.
    avoid = [(0, 1), (0, 3), (1, 3), (0, 4), (1, 4)]
    ledger = Ledger({0: Fairness(sat_out=1)})
    result = match_round(members(5), None, ledger, avoid, seed=seed)

    assert [x.member for x in result.left_out] == [1]


@pytest.mark.parametrize("seed", range(5))
def test_a_member_whose_partner_never_showed_gets_the_better_match(seed):
    # 0 and 2 both fit 1 equally (one shared topic each) and nobody else; 0 had no-shows.
    people = [
        Member(0, topics=frozenset({"python"})),
        Member(1, topics=frozenset({"python", "go"})),
        Member(2, topics=frozenset({"go"})),
        Member(3, topics=frozenset({"cooking"})),
    ]
    ledger = Ledger()
    ledger.record_no_show(0)
    ledger.record_no_show(0)
    result = match_round(people, None, ledger, seed=seed)

    assert {g.members for g in result.groups} == {(0, 1), (2, 3)}


def test_the_ledger_counts_what_the_round_reports():
    ledger = Ledger()
    history = History()
    history.record(0, 1, 1)
    history.record(0, 2, 1)
    history.record(1, 2, 1)
    result = match_round(members(3), history, ledger)
    ledger.apply(result)

    assert result.report.repeats == 3
    assert all(ledger.get(i) == Fairness(trios=1, repeats=1) for i in range(3))
    assert ledger.get(99) == Fairness()
    assert ledger.get(0).burden == 2


# -- reasons -------------------------------------------------------------------------------


def test_reasons_say_first_meeting_shared_topics_overlap_and_stage():
    people = [
        Member("ana", utc_offset_minutes=60, stage=2, topics=frozenset({"python", "career"})),
        Member("bo", utc_offset_minutes=180, stage=3, topics=frozenset({"python", "career"})),
    ]
    [group] = match_round(people).groups

    assert group.reason_text() == (
        "first time you meet; you both talk about career and python; "
        "6 h of overlapping working hours (08:00–14:00 UTC); near-peer career stages"
    )
    assert [r.kind for r in group.reasons] == [
        "first_meeting",
        "shared_topics",
        "overlap",
        "near_peer",
    ]
    assert group.overlap_minutes == 360
    assert group.shared_topics == ("career", "python")
    assert group.stage_gap == 1


def test_reasons_for_a_trio_and_for_unknown_hints():
    hours = working_hours_utc(9 * 60, 12 * 60, 0)
    people = [
        Member("a", working_hours=hours, stage=1, topics=frozenset({"go"})),
        Member("b", working_hours=hours, stage=1, topics=frozenset({"go", "rust"})),
        Member("c", working_hours=hours, stage=1, topics=frozenset({"go"})),
    ]
    [trio] = match_round(people).groups
    assert trio.reason_text() == (
        "first time any of you meet; you all talk about go; "
        "3 h of overlapping working hours (09:00–12:00 UTC); the same career stage"
    )

    [bare] = match_round([Member("x"), Member("y")]).groups
    assert bare.reason_text() == "first time you meet"
    assert bare.overlap_minutes is None
    assert bare.stage_gap is None


# -- larger rounds go through the candidate-list path ---------------------------------------


def test_a_larger_round_with_history_has_no_repeats_and_no_broken_rules():
    rnd = random.Random(3)
    n = 1501
    people = [
        Member(
            i,
            utc_offset_minutes=rnd.choice([-480, -300, 0, 60, 330, 540]),
            stage=rnd.randrange(5),
            topics=frozenset(rnd.sample(["a", "b", "c", "d", "e", "f"], rnd.randrange(3))),
        )
        for i in range(n)
    ]
    history = History()
    for number in range(4):
        for g in match_round(people, history, seed=number).groups:
            history.record_group(g.members, number)
    avoid = [(i, i + 1) for i in range(0, 40, 2)]
    result = match_round(people, history, None, avoid, seed=99)

    assert seated(result) == list(range(n))
    assert result.report.repeats == 0
    assert result.report.trios == 1
    assert not pairs_in(result) & {frozenset(p) for p in avoid}
