"""Benchmark the peer-pairing matching engine against its targets and against exact matching.

    python bench/bench_matching.py               # everything (a few minutes on 2 cores)
    python bench/bench_matching.py --quick       # a smoke check, well under a minute
    python bench/bench_matching.py --json        # also print the results as one JSON object

Parts, all in one run:

1. rounds: `pair simulate` for 60 rounds of 200 members with 20% absent; every round is
   checked against an exact maximum matching of the "not yet met" graph among the members
   present (networkx when installed, else the engine's own blossom code from an empty
   matching): repeats must equal floor(n/2) − ν, nobody left out, at most one trio.
2. speed: `pair simulate` at 100,000 (and 99,999, for the trio path) members in a fresh process,
   so its peak memory is the engine's alone; the history grows every round.
3. exact, 400 members: networkx's exact maximum-weight matching (Blossom, max cardinality) on
   the same candidate pairs and weights as the engine; time and soft-score ratio.
4. sharded, 100,000 members: rustworkx's exact matching on random shards of 1,000 with 16
   candidates each (the best open-source path found in research), beside the engine.
5. quality, 50–200 members with history: engine vs exact lexicographic matching (most new
   pairs first, then soft weight) — repeats and soft totals.

networkx and rustworkx are optional: parts that need them say so and are skipped. Results go
to bench/results/matching-<time>.json; bench/README.md has the recorded run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import platform
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.matching import History, Ledger, Member, Outcome, match_round  # noqa: E402
from bot.matching.blossom import maximum_matching  # noqa: E402
from bot.matching.engine import _Round  # noqa: E402
from bot.matching.simulate import (  # noqa: E402
    simulate,
    synthetic_do_not_pair,
    synthetic_members,
)

RESULTS = ROOT / "bench" / "results"
SEED = 20261122


def optional(name: str) -> Any:
    """Import an optional reference library, or return None."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def machine() -> dict[str, Any]:
    """Describe the machine, including how busy it is (other work skews wall times)."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    nx, rx = optional("networkx"), optional("rustworkx")
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "networkx": getattr(nx, "__version__", None),
        "rustworkx": getattr(rx, "__version__", None),
        "load_average_at_start": os.getloadavg(),
    }


def say(text: str) -> None:
    print(text, flush=True)


# -- 1. sixty rounds, each against the exact bound ----------------------------------------------


def exact_new_matching(present: list[str], met: set[frozenset[str]], avoid) -> int:
    """Return ν: a maximum matching's size in the "not yet met" graph (rules respected)."""
    nx = optional("networkx")
    if nx is not None:
        graph = nx.Graph()
        graph.add_nodes_from(present)
        graph.add_edges_from(
            (a, b)
            for a, b in combinations(present, 2)
            if frozenset((a, b)) not in met and frozenset((a, b)) not in avoid
        )
        return len(nx.max_weight_matching(graph, maxcardinality=True))
    index = {m: i for i, m in enumerate(present)}
    blocked = {frozenset((index[a], index[b])) for a, b in map(tuple, met | avoid)
               if a in index and b in index}  # fmt: skip
    mate = maximum_matching(len(present), lambda i, j: frozenset((i, j)) not in blocked)
    return sum(1 for i, j in enumerate(mate) if j > i)


def exact_least_repeats(present: list[str], met: set[frozenset[str]], avoid) -> int | None:
    """Return the least repeats of any grouping of an odd round (pairs + one trio), or None.

    Tries every allowed trio T: its own repeats plus the least repeats among the others, from
    an exact matching that seats everyone else (most new pairs first). Slow: only used on
    rounds whose repeats exceed the matching bound, to show the excess was forced.
    """
    nx = optional("networkx")
    if nx is None:
        return None
    best = None
    for trio in combinations(present, 3):
        pairs = [frozenset(p) for p in combinations(trio, 2)]
        if any(p in avoid for p in pairs):
            continue
        own = sum(p in met for p in pairs)
        if best is not None and own >= best:
            continue
        rest = [m for m in present if m not in trio]
        graph = nx.Graph()
        for a, b in combinations(rest, 2):
            pair = frozenset((a, b))
            if pair not in avoid:
                graph.add_edge(a, b, weight=1 if pair in met else 2)
        matching = nx.max_weight_matching(graph, maxcardinality=True)
        if 2 * len(matching) < len(rest):
            continue
        total = own + sum(frozenset(p) in met for p in matching)
        best = total if best is None else min(best, total)
    return best


def part_rounds(members: int, rounds: int, absent: float) -> dict[str, Any]:
    say(f"1. {rounds} rounds of {members} members, {absent:.0%} absent, each checked exactly")
    out = io.StringIO()
    summary = simulate(members, rounds, absent, SEED, out)
    avoid = {frozenset(p) for p in synthetic_do_not_pair(synthetic_members(members, SEED), SEED)}
    met: set[frozenset[str]] = set()
    checked = []
    for line in out.getvalue().splitlines():
        entry = json.loads(line)
        present, groups = entry["present"], entry["groups"]
        pairs = [frozenset((a, b)) for g in groups for a, b in combinations(g, 2)]
        seated = sorted(m for g in groups for m in g)
        nu = exact_new_matching(present, met, avoid)
        forced = (len(seated) // 2) - nu
        repeats = sum(p in met for p in pairs)
        least = forced
        if repeats > forced and len(present) % 2 == 1:
            # An odd round's trio can force more than the matching bound: find the true least.
            least = exact_least_repeats(present, met, avoid)
            least = forced if least is None else least
        checked.append(
            {
                "round": entry["round"],
                "present": len(present),
                "repeats": repeats,
                "forced": forced,
                "least": least,
                "left_out": len(present) - len(seated),
                "trios": sum(len(g) == 3 for g in groups),
                "broken_rules": sum(p in avoid for p in pairs),
            }
        )
        met.update(pairs)
    worst = max((c["repeats"] - c["least"] for c in checked), default=0)
    result = {
        "members": members,
        "rounds": rounds,
        "absent": absent,
        "verifier": "networkx" if optional("networkx") else "engine blossom from scratch",
        "repeats": sum(c["repeats"] for c in checked),
        "forced_repeats": sum(c["forced"] for c in checked),
        "above_matching_bound": sum(c["repeats"] - c["forced"] for c in checked),
        "least_possible_repeats": sum(c["least"] for c in checked),
        "avoidable_repeats": sum(max(0, c["repeats"] - c["least"]) for c in checked),
        "worst_round_excess": worst,
        "left_out": sum(c["left_out"] for c in checked),
        "trios_per_round_max": max((c["trios"] for c in checked), default=0),
        "broken_rules": sum(c["broken_rules"] for c in checked),
        "distinct_pairs_met": len(met),
        "seconds_per_round_max": summary.seconds_per_round_max,
        "seconds_total": summary.seconds_total,
    }
    say(
        f"   repeats {result['repeats']} (matching bound {result['forced_repeats']}, least "
        f"possible {result['least_possible_repeats']}, avoidable "
        f"{result['avoidable_repeats']}), left out {result['left_out']}, trios/round ≤ "
        f"{result['trios_per_round_max']}, rules broken {result['broken_rules']}, "
        f"slowest round {result['seconds_per_round_max'] * 1000:.1f} ms "
        f"(verified with {result['verifier']})"
    )
    return result


# -- 2. speed and memory at 100,000 ------------------------------------------------------------


def part_speed(members: int, rounds: int) -> dict[str, Any]:
    say(f"2. {members:,} members, {rounds} rounds, fresh process (`pair simulate --json`)")
    done = subprocess.run(
        [sys.executable, "-m", "bot.matching.simulate_cli", "--members", str(members),
         "--rounds", str(rounds), "--seed", str(SEED), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = json.loads(done.stdout)
    say(
        f"   slowest round {result['seconds_per_round_max']:.3f} s wall "
        f"({result['cpu_seconds_per_round_max']:.3f} s CPU), mean "
        f"{result['seconds_per_round_mean']:.3f} s, peak RSS {result['peak_rss_mb']:.0f} MB, "
        f"repeats {result['repeats']}, left out {result['left_out']}, "
        f"trios/round ≤ {result['trios_per_round_max']}"
    )
    return result


# -- shared: a community with some history, and the engine's own weights ----------------------


def community(members: int, rounds: int, seed: int) -> tuple[list[Member], History, Ledger, list]:
    """Return synthetic members with `rounds` rounds of history (20% absent each)."""
    people = synthetic_members(members, seed)
    avoid = synthetic_do_not_pair(people, seed)
    history, ledger = History(), Ledger()
    rnd = random.Random(seed)
    for number in range(rounds):
        present = [m for m in people if rnd.random() >= 0.2]
        result = match_round(present, history, ledger, avoid, seed=f"warm:{number}")
        for group in result.groups:
            history.record_group(group.members, number, Outcome.MET)
        ledger.apply(result)
    return people, history, ledger, avoid


def weighted_edges(state: _Round, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the engine's soft weight (no jitter) and "not yet met" flag for index pairs."""
    i, j = pairs[:, 0], pairs[:, 1]
    return state.score_many(i, j, jitter=False), state.new_ok_many(i, j)


def engine_pairs(result, state: _Round) -> np.ndarray:
    """Return the engine's pairs (a trio counts as its three pairs) as index pairs."""
    rows = [(state.index[a], state.index[b]) for g in result.groups
            for a, b in combinations(g.members, 2)]  # fmt: skip
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def new_only(state: _Round, pairs: np.ndarray) -> np.ndarray:
    """Return the pairs that had not met before."""
    if not len(pairs):
        return pairs
    return pairs[state.new_ok_many(pairs[:, 0], pairs[:, 1])]


def soft_total(state: _Round, pairs: np.ndarray) -> float:
    if not len(pairs):
        return 0.0
    return float(state.score_many(pairs[:, 0], pairs[:, 1], jitter=False).sum())


# -- 3. exact max-weight matching with networkx at 400 members ---------------------------------


def part_networkx(members: int) -> dict[str, Any] | None:
    nx = optional("networkx")
    if nx is None:
        say("3. skipped: networkx is not installed (pip install networkx)")
        return None
    say(f"3. {members} members: engine vs networkx exact max-weight matching")
    people, history, ledger, avoid = community(members, 10, SEED + 3)
    started = time.perf_counter()
    result = match_round(people, history, ledger, avoid, seed="reference")
    engine_seconds = time.perf_counter() - started
    state = _Round(people, history, ledger, avoid, "reference", None)
    all_pairs = np.array(list(combinations(range(state.n), 2)), dtype=np.int64)
    weight, new = weighted_edges(state, all_pairs)
    graph = nx.Graph()
    graph.add_nodes_from(range(state.n))
    for (a, b), w in zip(all_pairs[new].tolist(), weight[new].tolist(), strict=True):
        graph.add_edge(a, b, weight=w)
    started = time.perf_counter()
    exact = nx.max_weight_matching(graph, maxcardinality=True)
    nx_seconds = time.perf_counter() - started
    exact_pairs = np.array(sorted(exact), dtype=np.int64).reshape(-1, 2)
    mine = engine_pairs(result, state)
    out = {
        "members": members,
        "candidate_edges": int(new.sum()),
        "engine_seconds": engine_seconds,
        "networkx_seconds": nx_seconds,
        "speedup": nx_seconds / engine_seconds,
        "engine_repeats": result.report.repeats,
        "exact_pairs": len(exact_pairs),
        "engine_soft": soft_total(state, mine),
        "exact_soft": soft_total(state, exact_pairs),
    }
    out["soft_ratio"] = out["engine_soft"] / out["exact_soft"] if out["exact_soft"] else 1.0
    say(
        f"   engine {engine_seconds * 1000:.0f} ms, networkx {nx_seconds:.1f} s "
        f"(×{out['speedup']:.0f}); soft score {out['engine_soft']:.1f} vs exact "
        f"{out['exact_soft']:.1f} ({out['soft_ratio']:.1%}); repeats {out['engine_repeats']} "
        f"vs 0"
    )
    return out


# -- 4. rustworkx on shards of 1,000 with 16 candidates, at 100,000 -----------------------------


def part_rustworkx(members: int, shard: int = 1000, candidates: int = 16) -> dict[str, Any] | None:
    rx = optional("rustworkx")
    if rx is None:
        say("4. skipped: rustworkx is not installed (pip install rustworkx)")
        return None
    say(f"4. {members:,} members: engine vs rustworkx exact matching on shards of {shard:,}")
    people, history, ledger, avoid = community(members, 2, SEED + 4)
    started = time.perf_counter()
    result = match_round(people, history, ledger, avoid, seed="reference")
    engine_seconds = time.perf_counter() - started
    state = _Round(people, history, ledger, avoid, "reference", None)
    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    order = rng.permutation(state.n)
    matched_pairs = []
    match_seconds = 0.0
    for start in range(0, state.n, shard):
        block = order[start : start + shard]
        size = len(block)
        # Each member proposes `candidates` random others in the shard (about 2×16 per member).
        left = np.repeat(np.arange(size), candidates)
        right = rng.integers(0, size - 1, size=len(left))
        right[right >= left] += 1
        lo, hi = np.minimum(left, right), np.maximum(left, right)
        keys = np.unique(lo * size + hi)
        lo, hi = keys // size, keys % size
        pairs = np.stack([block[lo], block[hi]], axis=1)
        weight, new = weighted_edges(state, pairs)
        graph = rx.PyGraph()
        graph.add_nodes_from(range(size))
        scaled = (weight[new] * 1000).astype(np.int64) + 1
        graph.add_edges_from(list(zip(lo[new].tolist(), hi[new].tolist(), scaled.tolist(),
                                      strict=True)))  # fmt: skip
        t = time.perf_counter()
        found = rx.max_weight_matching(graph, max_cardinality=True, weight_fn=lambda w: w)
        match_seconds += time.perf_counter() - t
        matched_pairs.extend((int(block[a]), int(block[b])) for a, b in found)
    rx_seconds = time.perf_counter() - started
    exact_pairs = np.array(matched_pairs, dtype=np.int64).reshape(-1, 2)
    mine = engine_pairs(result, state)
    out = {
        "members": members,
        "shard": shard,
        "candidates": candidates,
        "engine_seconds": engine_seconds,
        "rustworkx_seconds_total": rx_seconds,
        "rustworkx_seconds_matching": match_seconds,
        "speedup": rx_seconds / engine_seconds,
        "engine_left_out": len(result.left_out),
        "rustworkx_unmatched": state.n - 2 * len(exact_pairs),
        "engine_soft": soft_total(state, mine),
        "rustworkx_soft": soft_total(state, exact_pairs),
    }
    out["soft_ratio"] = out["engine_soft"] / out["rustworkx_soft"]
    say(
        f"   engine {engine_seconds:.2f} s, rustworkx {rx_seconds:.1f} s total "
        f"({match_seconds:.1f} s matching; ×{out['speedup']:.1f}); soft score ratio "
        f"{out['soft_ratio']:.1%}; unmatched: engine {out['engine_left_out']}, "
        f"rustworkx {out['rustworkx_unmatched']}"
    )
    return out


# -- 5. quality on small communities -------------------------------------------------------------


def part_quality(
    sizes: list[int], instances: int, *, light: bool = False
) -> list[dict[str, Any]] | None:
    nx = optional("networkx")
    if nx is None:
        say("5. skipped: networkx is not installed")
        return None
    history_kind = "light history (n/4 rounds)" if light else "long history (5n/4 rounds)"
    say(f"5. quality, {history_kind}: engine vs exact (most new pairs, then soft weight)")
    rows = []
    for size in sizes:
        for k in range(instances):
            # Enough history that new partners run short and repeats are forced.
            rounds = size // 4 if light else size + size // 4
            people, history, ledger, avoid = community(size, rounds, SEED + size + k)
            result = match_round(people, history, ledger, avoid, seed=f"quality:{k}")
            state = _Round(people, history, ledger, avoid, f"quality:{k}", None)
            all_pairs = np.array(list(combinations(range(state.n), 2)), dtype=np.int64)
            weight, new = weighted_edges(state, all_pairs)
            allowed = ~np.array([min(a, b) * state.n + max(a, b) in state.dnp
                                 for a, b in all_pairs.tolist()])  # fmt: skip
            graph = nx.Graph()
            for (a, b), w, fresh in zip(all_pairs[allowed].tolist(), weight[allowed].tolist(),
                                        new[allowed].tolist(), strict=True):  # fmt: skip
                # Any new pair outweighs every soft preference together: repeats come first.
                graph.add_edge(a, b, weight=(10_000.0 + w) if fresh else w)
            exact = nx.max_weight_matching(graph, maxcardinality=True)
            exact_pairs = np.array(sorted(exact), dtype=np.int64).reshape(-1, 2)
            exact_repeats = int((~state.new_ok_many(exact_pairs[:, 0], exact_pairs[:, 1])).sum())
            mine = engine_pairs(result, state)
            row = {
                "members": size,
                "instance": k,
                "engine_repeats": result.report.repeats,
                "exact_repeats": exact_repeats,
                "engine_soft": soft_total(state, mine),
                "exact_soft": soft_total(state, exact_pairs),
                # The engine seats forced repeats by recency (who met longest ago), the exact
                # reference by soft weight alone, so new pairs are compared on their own too.
                "engine_soft_new_pairs": soft_total(state, new_only(state, mine)),
                "exact_soft_new_pairs": soft_total(state, new_only(state, exact_pairs)),
            }
            row["soft_ratio"] = row["engine_soft"] / row["exact_soft"] if row["exact_soft"] else 1
            row["soft_ratio_new_pairs"] = (
                row["engine_soft_new_pairs"] / row["exact_soft_new_pairs"]
                if row["exact_soft_new_pairs"]
                else 1
            )
            rows.append(row)
    for size in sizes:
        mine = [r for r in rows if r["members"] == size]
        say(
            f"   {size} members: repeats engine {sum(r['engine_repeats'] for r in mine)} vs "
            f"exact {sum(r['exact_repeats'] for r in mine)}; soft score "
            f"{np.mean([r['soft_ratio'] for r in mine]):.1%} of exact "
            f"(min {min(r['soft_ratio'] for r in mine):.1%})"
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke check")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    quick = args.quick
    started = time.perf_counter()
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(), "machine": machine()}
    say(f"machine: {results['machine']}")
    results["rounds"] = part_rounds(200, 12 if quick else 60, 0.2)
    # Small communities run out of new partners, so the bound is tested where it bites.
    results["rounds_small"] = [
        part_rounds(size, 20 if quick else 60, 0.2) for size in ((30,) if quick else (30, 31))
    ]
    speed_rounds = 2 if quick else 5
    results["speed"] = [
        part_speed(size, speed_rounds) for size in ((20_000,) if quick else (100_000, 99_999))
    ]
    results["networkx_exact"] = part_networkx(100 if quick else 400)
    results["rustworkx_sharded"] = part_rustworkx(10_000 if quick else 100_000)
    sizes = [50, 100] if quick else [50, 100, 200]
    results["quality_light_history"] = part_quality(sizes, 2 if quick else 4, light=True)
    results["quality"] = part_quality(sizes, 2 if quick else 4)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["seconds"] = time.perf_counter() - started
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"matching-{'quick-' if quick else ''}{stamp}.json"
    path.write_text(json.dumps(results, indent=2, default=float), encoding="utf-8")
    say(f"results: {path.relative_to(ROOT)} ({results['seconds']:.0f} s)")
    if args.json:
        print(json.dumps(results, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
