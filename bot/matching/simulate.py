"""Run the real matching engine over many rounds of synthetic members."""

from __future__ import annotations

import json
import resource
import sys
import time
from dataclasses import asdict, dataclass
from typing import TextIO

import numpy as np

from bot.matching.engine import match_round, seed_int
from bot.matching.hours import working_hours_utc
from bot.matching.model import History, Ledger, Member, MemberId, Outcome

TOPICS = (
    "python javascript go rust java devops kubernetes data ml security frontend backend "
    "mobile design product management career interviews leadership writing open-source "
    "testing databases cloud"
).split()
# (UTC offset in hours, weight): a community spread over the Americas, Europe and Asia.
ZONES = (
    (-8, 8), (-7, 3), (-6, 4), (-5, 10), (-4, 2), (-3, 3), (0, 8), (1, 14), (2, 6), (3, 3),
    (5.5, 8), (8, 5), (9, 4), (10, 2),
)  # fmt: skip


def synthetic_members(count: int, seed: int | str = 0) -> list[Member]:
    """Return `count` members with varied time zones, hours, stages and topics."""
    rng = np.random.Generator(np.random.PCG64(seed_int(f"members:{seed}")))
    width = len(str(count))
    offsets = np.array([z for z, _ in ZONES])
    weights = np.array([w for _, w in ZONES], dtype=float)
    zone = rng.choice(len(ZONES), size=count, p=weights / weights.sum())
    kind = rng.random(count)  # < 0.6 default hours, < 0.9 own hours, else no time zone
    start = rng.integers(7, 12, size=count) * 60
    length = rng.integers(6, 10, size=count) * 60
    stage = rng.integers(0, 6, size=count)
    has_stage = rng.random(count) < 0.8
    topic_weight = 1.0 / np.arange(1, len(TOPICS) + 1)  # a few popular topics, a long tail
    topic_weight /= topic_weight.sum()
    topic_count = rng.integers(0, 5, size=count)
    # Weighted sampling without replacement for everyone at once (the Gumbel top-k trick).
    keys = np.log(topic_weight) + rng.gumbel(size=(count, len(TOPICS)))
    ranked = np.argsort(-keys, axis=1)
    members = []
    for i in range(count):
        offset = int(offsets[zone[i]] * 60)
        hours: tuple[tuple[int, int], ...] = ()
        if 0.6 <= kind[i] < 0.9:
            hours = working_hours_utc(int(start[i]), int(start[i] + length[i]), offset)
        picked = ranked[i, : topic_count[i]]
        members.append(
            Member(
                id=f"m{i + 1:0{width}d}",
                utc_offset_minutes=None if kind[i] >= 0.9 else offset,
                working_hours=hours,
                stage=int(stage[i]) if has_stage[i] else None,
                topics=frozenset(TOPICS[t] for t in picked),
            )
        )
    return members


def synthetic_do_not_pair(
    members: list[Member], seed: int | str = 0
) -> list[tuple[MemberId, MemberId]]:
    """Return a few do-not-pair pairs: one for every 50 members, at least one."""
    if len(members) < 2:
        return []
    rng = np.random.Generator(np.random.PCG64(seed_int(f"avoid:{seed}")))
    pairs = set()
    for _ in range(max(1, len(members) // 50)):
        a, b = rng.choice(len(members), size=2, replace=False)
        pairs.add((members[int(a)].id, members[int(b)].id))
    return sorted(pairs)


@dataclass
class Summary:
    """What a simulation did, as `pair simulate --json` prints it."""

    members: int
    rounds: int
    absent: float
    seed: str
    groups: int = 0
    pairs: int = 0
    trios: int = 0
    repeats: int = 0
    min_repeats: int = 0
    avoidable_repeats: int = 0
    left_out: int = 0
    trios_per_round_max: int = 0
    first_meetings: int = 0
    do_not_pair: int = 0
    do_not_pair_violations: int = 0
    soft_score_mean: float = 0.0
    seconds_total: float = 0.0
    seconds_per_round_max: float = 0.0
    seconds_per_round_mean: float = 0.0
    cpu_seconds_per_round_max: float = 0.0  # process time: what contention on the machine hides
    peak_rss_mb: float = 0.0


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def simulate(
    members: int,
    rounds: int,
    absent: float = 0.0,
    seed: int | str = 0,
    groups_out: TextIO | None = None,
) -> Summary:
    """Run `rounds` rounds on synthetic members, feeding each round into the history."""
    if members < 0 or rounds < 0:
        raise ValueError("members and rounds must not be negative")
    if not 0.0 <= absent < 1.0:
        raise ValueError("absent must be a fraction in [0, 1)")
    people = synthetic_members(members, seed)
    avoid = synthetic_do_not_pair(people, seed)
    forbidden = {frozenset(pair) for pair in avoid}
    rng = np.random.Generator(np.random.PCG64(seed_int(f"absent:{seed}")))
    history, ledger = History(), Ledger()
    summary = Summary(members=members, rounds=rounds, absent=absent, seed=str(seed))
    summary.do_not_pair = len(avoid)
    soft_total = 0.0
    for number in range(1, rounds + 1):
        away = set(rng.choice(members, size=round(absent * members), replace=False).tolist())
        present = [m for i, m in enumerate(people) if i not in away]
        started, cpu = time.perf_counter(), time.process_time()
        result = match_round(present, history, ledger, avoid, seed=f"{seed}:{number}")
        seconds = time.perf_counter() - started
        summary.cpu_seconds_per_round_max = max(
            summary.cpu_seconds_per_round_max, time.process_time() - cpu
        )
        report = result.report
        summary.seconds_total += seconds
        summary.seconds_per_round_max = max(summary.seconds_per_round_max, seconds)
        summary.groups += report.groups
        summary.trios += report.trios
        summary.pairs += report.groups - report.trios
        summary.repeats += report.repeats
        summary.min_repeats += report.min_repeats
        summary.avoidable_repeats += report.excess_repeats
        summary.left_out += len(report.left_out)
        summary.trios_per_round_max = max(summary.trios_per_round_max, report.trios)
        summary.first_meetings += sum(g.first_meeting for g in result.groups)
        soft_total += report.soft_score
        for group in result.groups:
            summary.do_not_pair_violations += sum(
                frozenset((a, b)) in forbidden
                for k, a in enumerate(group.members)
                for b in group.members[k + 1 :]
            )
            history.record_group(group.members, number, Outcome.MET)
        ledger.apply(result)
        if groups_out is not None:
            line = {
                "round": number,
                "present": [m.id for m in present],
                "groups": [list(g.members) for g in result.groups],
            }
            groups_out.write(json.dumps(line, separators=(",", ":")) + "\n")
    if rounds:
        summary.seconds_per_round_mean = summary.seconds_total / rounds
        summary.soft_score_mean = round(soft_total / rounds, 3)
    summary.seconds_total = round(summary.seconds_total, 6)
    summary.seconds_per_round_max = round(summary.seconds_per_round_max, 6)
    summary.seconds_per_round_mean = round(summary.seconds_per_round_mean, 6)
    summary.cpu_seconds_per_round_max = round(summary.cpu_seconds_per_round_max, 6)
    summary.peak_rss_mb = round(peak_rss_mb(), 1)
    return summary


def summary_dict(summary: Summary) -> dict[str, object]:
    """Return the summary as the JSON object `pair simulate --json` prints."""
    return asdict(summary)
