"""`crowdmentor pair simulate`: the matching engine on synthetic members, for benchmarks."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.matching.simulate import Summary, simulate, summary_dict


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError("must be a fraction from 0 up to (not including) 1")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `pair simulate` options to a parser."""
    parser.add_argument(
        "--members", type=_count, required=True, metavar="N", help="synthetic members"
    )
    parser.add_argument("--rounds", type=_count, required=True, metavar="R", help="rounds to run")
    parser.add_argument(
        "--absent",
        type=_fraction,
        default=0.0,
        metavar="P",
        help="fraction of members absent each round, chosen from the seed (default 0)",
    )
    parser.add_argument("--seed", default="0", metavar="S", help="seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--groups-out",
        type=Path,
        metavar="FILE",
        help="write one JSON line per round: round, present members, groups",
    )


def _seed(text: str) -> int | str:
    return int(text) if text.lstrip("-").isdigit() else text


def describe(summary: Summary) -> str:
    """Return a readable summary of a simulation."""
    percent = f"{summary.absent:.0%}"
    lines = [
        f"Simulated {summary.rounds} rounds of {summary.members:,} members "
        f"({percent} absent each round, seed {summary.seed}).",
        f"  groups:    {summary.groups:,} ({summary.pairs:,} pairs, {summary.trios:,} trios; "
        f"at most {summary.trios_per_round_max} a round)",
        f"  repeats:   {summary.repeats:,} (the history forced at least {summary.min_repeats:,}; "
        f"above that: {summary.avoidable_repeats:,})",
        f"  first meetings: {summary.first_meetings:,} of {summary.groups:,} groups",
        f"  left out:  {summary.left_out:,}",
        f"  do-not-pair: {summary.do_not_pair:,} rule{'' if summary.do_not_pair == 1 else 's'}, "
        f"{summary.do_not_pair_violations:,} broken",
        f"  time:      {summary.seconds_total:.3f} s in all, "
        f"{summary.seconds_per_round_max:.3f} s for the slowest round",
        f"  peak memory: {summary.peak_rss_mb:.0f} MB",
    ]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    """Run the simulation the parsed arguments describe; return the exit status."""
    seed = _seed(str(args.seed))
    if args.groups_out is not None:
        with args.groups_out.open("w", encoding="utf-8") as out:
            summary = simulate(args.members, args.rounds, args.absent, seed, out)
    else:
        summary = simulate(args.members, args.rounds, args.absent, seed)
    if args.json:
        print(json.dumps(summary_dict(summary)))
    else:
        print(describe(summary))
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` as `pair simulate` options and run."""
    parser = argparse.ArgumentParser(
        prog="crowdmentor pair simulate",
        description="Run the matching engine on synthetic members.",
    )
    add_arguments(parser)
    return main(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(run())
